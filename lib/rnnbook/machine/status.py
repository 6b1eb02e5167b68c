"""The status page (``book/status.md``) and the README's chapter table, from ``results/``.

Counts are by kind, so that a construction is never counted as a reproduction: empirical
claims reproduced / partly / not reproduced / inconclusive, constructions verified, claims
not testable at this scale, and checks marked fragile.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rnnbook.claims import (
    COLOURS,
    CONSTRUCTION,
    ILLUSTRATED,
    ILLUSTRATION,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_TESTABLE,
    PARTLY,
    REPRODUCED,
    VERIFIED,
    atomic_write_text,
    check_cell,
    format_value,
)
from rnnbook.machine.checks import stale_inputs
from rnnbook.machine.layout import PROFILES, RunnerError, chapters

README_START, README_END = "<!-- chapters:start -->", "<!-- chapters:end -->"
COLUMNS = (
    ("reproduced", REPRODUCED),
    ("partly", PARTLY),
    ("not reproduced", NOT_REPRODUCED),
    ("inconclusive", INCONCLUSIVE),
)


def counts(res: dict[str, Any], varies: Any = ()) -> dict[str, int]:
    """Claims by kind and verdict: empirical verdicts, constructions, illustrations, untestable.

    An empirical verdict that another seed set or thread count changes (its claim id in
    ``varies``) is counted as ``varies``, not under its verdict: the book's counts hold only
    verdicts that do not depend on the seeds.
    """
    out = dict.fromkeys(
        (
            "reproduced",
            "partly",
            "not reproduced",
            "inconclusive",
            "varies",
            "verified",
            "illustrated",
            "illustration not shown",
            "not testable",
            "fragile",
        ),
        0,
    )
    for c in res["claims"]:
        if c["verdict"] == NOT_TESTABLE:
            out["not testable"] += 1
        elif c["kind"] == CONSTRUCTION:
            out["verified"] += c["verdict"] == VERIFIED
        elif c["kind"] == ILLUSTRATION:
            key = "illustrated" if c["verdict"] == ILLUSTRATED else "illustration not shown"
            out[key] += 1
        elif c["id"] in varies:
            out["varies"] += 1
        else:
            out[c["verdict"]] += 1
        out["fragile"] += sum(bool(k.get("fragile")) for k in c["checks"])
    return out


def _load(root: Path) -> list[dict[str, Any]]:
    rows = []
    for ch in chapters(root):
        for prof in PROFILES:
            path = ch.results(prof)
            if path.exists():
                res = json.loads(path.read_text())
                res["_doc"] = ch.doc
                res["_stale"] = stale_inputs(res, ch)
                res["_varies"] = varying_verdicts(root, res)
                rows.append(res)
    return rows


def varying_verdicts(root: Path, res: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The ci claims whose verdict another execution changes: claim id -> verdict per run.

    The runs are those of the chapter's variation table (``data/<id>_variation.json``: the
    same chapter in ci under other thread counts and other seed sets), beside this run. A
    verdict that a re-execution with other seeds changes is a property of the seeds as much as
    of the claim, and the book says so wherever it shows the verdict. Full runs have no
    variation table: an empty answer.
    """
    path = root / "data" / f"{res['chapter']}_variation.json"
    if res.get("profile") != "ci" or not path.exists():
        return {}
    by_claim: dict[str, dict[str, str]] = {}
    for row in json.loads(path.read_text()).get("checks", []):
        by_claim.setdefault(row["claim"], {}).update(row.get("verdicts", {}))
    out = {}
    for c in res["claims"]:
        runs = by_claim.get(c["id"], {})
        if any(v != c["verdict"] for v in runs.values()):
            out[c["id"]] = {"this run": c["verdict"], **runs}
    return out


def _varies_text(runs: dict[str, str]) -> str:
    """``seeds=4,5: inconclusive; threads=2: reproduced``: the runs that disagree with this one."""
    this = runs["this run"]
    return "; ".join(f"{label}: {v}" for label, v in runs.items() if label != "this run" and v != this)


# Six columns, the profile beside the chapter, so that the table fits the text width.
HEAD = (
    "| Chapter | Empirical: reproduced / partly / not / inconclusive / varies | Constructions verified "
    "| Illustrations: shown / not | Not testable | Fragile checks |"
)


def _count_cells(n: dict[str, int]) -> str:
    empirical = " / ".join(
        str(n[k]) for k in ("reproduced", "partly", "not reproduced", "inconclusive", "varies")
    )
    shown = f"{n['illustrated']} / {n['illustration not shown']}"
    return f"{empirical} | {n['verified']} | {shown} | {n['not testable']} | {n['fragile']}"


KIND_MARK = {"empirical": "", "construction": "◆", "illustration": "○"}


def scoreboard_html(rows: list[dict[str, Any]]) -> str:
    """The book at a glance: one row per chapter, one cell per claim, coloured by verdict.

    Constructions are marked ◆ (and drawn with a dashed border), illustrations ○; a cell with
    a fragile check is marked with "~", a verdict that another seed set or thread count
    changes with "±". Each cell links to the chapter's claims table below.
    """
    from rnnbook.claims import COLOURS

    out = ['<div class="scoreboard"><table style="border-collapse:separate;border-spacing:3px">']
    for res in rows:
        anchor = f"{res['chapter']}-{res['profile']}-profile"
        cells = [
            f'<td style="padding:2px 8px;white-space:nowrap"><a href="#{anchor}">'
            f"{res['chapter'].upper()}</a> <small>{res['profile']}</small></td>"
        ]
        for c in res["claims"]:
            colour = COLOURS.get(c["verdict"], "#4d4d4d")
            border = {CONSTRUCTION: "2px dashed #000", ILLUSTRATION: "2px dotted #000"}.get(
                c["kind"], "2px solid " + colour
            )
            fragile = "~" if any(k.get("fragile") for k in c["checks"]) else ""
            title = f"{c['id']} ({c['kind']}): {c['verdict']}"
            varies = res.get("_varies", {}).get(c["id"])
            if varies:
                fragile += "±"
                title += f"; other runs: {_varies_text(varies)}"
            cells.append(
                f'<td title="{title}" style="background:{colour};color:#fff;border:{border};'
                f'padding:2px 6px;text-align:center;font-size:80%">'
                f"{c['id']}{KIND_MARK.get(c['kind'], '')}{fragile}</td>"
            )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    legend = " ".join(
        f'<span style="background:{colour};color:#fff;padding:1px 6px;font-size:80%">{verdict}</span>'
        for verdict, colour in COLOURS.items()
    )
    out.append(
        f"<p>{legend}<br><small>◆ construction (dashed border) · ○ illustration · "
        "~ a fragile check · ± the verdict changes with the seeds or threads · "
        "unmarked: empirical</small></p></div>"
    )
    return "\n".join(out)


def status_markdown(root: Path) -> str:
    """The status page: counts by kind, then every chapter's claims, checks and verdicts."""
    rows = _load(root)
    lines = [
        "# Status of the reproductions",
        "",
        "Generated by `python -m rnnbook.runner status` from `results/*.json`; do not edit by hand.",
        "Each chapter is executed in the `ci` profile (2 CPU cores, miniature sizes) on every CI run,",
        "and in the `full` profile (paper scale) when its authors could run it.",
        "",
        "Empirical claims can fail, and each carries a negative control that must fail the same rule;",
        "a control that passes makes the verdict *inconclusive*. Constructions (identities, exact",
        "equivalences, implementation guards) are verified and counted apart, never as reproductions.",
        "*Partly* comes only from a partial rule declared before the run. A check is *fragile* when",
        "its margin to the threshold is smaller than its spread across seeds. A verdict *varies*",
        "when the chapter re-executed with other seeds or thread counts (its variation table) gets",
        "another one; it is counted under *varies*, not under its verdict, and listed below the counts.",
        "",
        "## The book at a glance",
        "",
        scoreboard_html([r for r in rows if not r["_stale"]]),
        "",
        "## Counts by kind",
        "",
        HEAD,
        "|---|---|---|---|---|---|",
    ]
    total: dict[str, dict[str, int]] = {}
    for res in rows:
        if res["_stale"]:
            lines.append(
                f"| {res['chapter'].upper()} {res['profile']} | stale: {', '.join(res['_stale'])} changed since "
                "this run; not counted | | | | |"
            )
            continue
        n = counts(res, res["_varies"])
        t = total.setdefault(res["profile"], dict.fromkeys(n, 0))
        for k, v in n.items():
            t[k] += v
        link = f"[{res['chapter'].upper()}]({_rel_from_book(res['_doc'])}.ipynb)"
        lines.append(f"| {link} {res['profile']} | {_count_cells(n)} |")
    for prof, t in total.items():
        lines.append(f"| **all chapters** {prof} | {_count_cells(t)} |")
    varying = [(res, cid, runs) for res in rows if not res["_stale"] for cid, runs in res["_varies"].items()]
    lines += ["", "## Verdicts that change with the seeds", ""]
    if varying:
        lines += [
            f"{len(varying)} ci verdict{'s' if len(varying) > 1 else ''} change when the chapter is "
            "re-executed with other seed sets or thread counts (its `data/aNN_variation.json`). The "
            "counts above put them under *varies*: this run's verdict holds for its seeds, not in "
            "general.",
            "",
            "| Claim | This run | Other runs that differ |",
            "|---|---|---|",
        ]
        for res, cid, runs in varying:
            lines.append(
                f"| {res['chapter'].upper()} {cid} | {runs['this run']} | {_md_cell(_varies_text(runs))} |"
            )
    else:
        lines.append("No ci verdict changes under the chapters' other seed sets and thread counts.")
    lines += [
        "",
        "## Runs",
        "",
        "Every chapter in both profiles: where a profile has not run, the row says why and how long",
        "it is expected to take (`make full CHAPTER=aNN` runs it; see the README).",
        "",
        "| Chapter | Profile | Run | Seeds |",
        "|---|---|---|---|",
    ]
    by_key = {(r["chapter"], r["profile"]): r for r in rows}
    for ch in chapters(root):
        for prof in PROFILES:
            res = by_key.get((ch.id, prof))
            title = f"{ch.id.upper()} · {res['title']}" if res else ch.id.upper()
            if res is None:
                lines.append(f"| {title} | {prof} | {_not_run(root, ch, prof)} | |")
                continue
            when = f", {res['date']}" if res.get("date") else ""
            stale = f"; stale: {', '.join(res['_stale'])} changed since" if res["_stale"] else ""
            lines.append(
                f"| {title} | {prof} | {res['wall_s']:.0f} s{_cpu_note(res)} on {res['device']}{when}{stale} | "
                f"{', '.join(map(str, res['seeds']))} |"
            )
    for res in rows:
        lines += [
            "",
            f"## {res['chapter'].upper()} ({res['profile']} profile{', stale' if res['_stale'] else ''})",
            "",
            "| Claim (kind; the paper's number) | Checks (value, rule, margin) | Verdict |",
            "|---|---|---|",
        ]
        for c in res["claims"]:
            checks = "<br>".join(check_cell(k) for k in c["checks"] if k.get("value") is not None)
            if c.get("no_control_reason"):
                checks += "<br>no control: " + c["no_control_reason"]
            if c.get("note"):
                checks += "<br>" + c["note"]
            # Three columns, so that the table fits the theme's text width (the site check measures it).
            claim = f"**{c['id']}** *{c['kind']}*. {c['text']}<br><small>Paper: {format_value(c['paper'])}</small>"
            cells = [claim, checks, c["verdict"]]
            lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


def _not_run(root: Path, ch: Any, prof: str) -> str:
    """Why a profile has no results, and its expected time where one is known."""
    if prof == "ci":
        return "not run (`make run CHAPTER=" + ch.id + " PROFILE=ci`)"
    from rnnbook.machine.full import estimate  # full imports the checks this module uses

    seconds, source = estimate(root, ch)
    word = "at least" if source.startswith("lower bound") else "expected"
    expected = f"; {word} {_duration(seconds)} ({source})" if seconds is not None else ""
    return "**not run**: no GPU has been lent to this book, and no full run on a CPU is committed" + expected


def _cpu_note(res: dict[str, Any]) -> str:
    """`` (41 s CPU, load 5.0)``: the kernel's CPU time and the load when the run began, where
    the run recorded them (a wall time on a busy machine reads long beside its CPU time)."""
    if res.get("cpu_s") is None:
        return ""
    load = (res.get("load") or {}).get("before")
    return f" ({res['cpu_s']:.0f} s CPU" + (f", load {load:.1f})" if load is not None else ")")


def _run_line(res: dict[str, Any], stale: list[str], varying: Any = ()) -> str:
    when = f", {res['date']}" if res.get("date") else ""
    device = str(res["device"]).replace("(1 threads", "(1 thread")
    line = f"{res['wall_s']:.0f} s{_cpu_note(res)} on {device}{when}"
    if stale:
        return line + f"; <b>stale</b>: {', '.join(stale)} changed since this run (not counted)"
    return line + "; " + _summary(res, varying)


# cells of the profile box keep apart (the theme's tables have no padding of their own here)
PAD_TD, PAD_TH = '<td style="padding:0.1em 0.8em 0.1em 0">', '<th style="padding:0.1em 0.8em 0.1em 0">'


def profiles_html(root: Path, ch: Any) -> str:
    """A chapter's two profiles side by side, for the top of its page (issue 22).

    One line per profile (device, date, wall time and counts, or why it has not run and how
    long it is expected to take), and each claim's verdict in both profiles, with the verdicts
    that re-executions with other seeds or thread counts changed. Built from the
    same results files as the status page, so that the two never disagree.
    """
    runs: dict[str, dict[str, Any]] = {}
    stale: dict[str, list[str]] = {}
    varies: dict[str, dict[str, dict[str, str]]] = {}
    rows = []
    for prof in PROFILES:
        path = ch.results(prof)
        if path.exists():
            runs[prof] = json.loads(path.read_text())
            stale[prof] = stale_inputs(runs[prof], ch)
            varies[prof] = varying_verdicts(root, runs[prof])
            line = _run_line(runs[prof], stale[prof], varies[prof])
            rows.append(f"<tr><td><b>{prof}</b></td><td>{line}</td></tr>")
        else:
            why = _not_run(root, ch, prof).replace("**", "")
            rows.append(f"<tr><td><b>{prof}</b></td><td>{_html_code(why)}</td></tr>")
    head = "<tr><th>Profile</th><th>Run</th></tr>"
    aside = ch.root / "results" / f"{ch.id}.full.ipynb"
    if "full" in runs and aside.exists():
        # the page keeps the ci notebook where the prose was written for ci's sizes
        rows.append(
            "<tr><td></td><td>the full run's executed notebook is "
            f"<code>results/{aside.name}</code> in the repository; this page shows the ci run</td></tr>"
        )
    parts = [
        '<div class="admonition note profiles"><p class="admonition-title">This chapter in both profiles</p>',
        "<p>ci runs the miniature on 2 CPU cores on every CI run; full runs at paper scale. "
        "Verdicts of both, from <code>results/</code> (the status page shows the same).</p>",
        f'<table class="claims-table profiles-runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>',
    ]
    ids = list(dict.fromkeys(c["id"] for res in runs.values() for c in res["claims"]))
    if ids:
        by = {p: {c["id"]: c for c in res["claims"]} for p, res in runs.items()}
        cells = ""
        for cid in ids:
            kind = next(by[p][cid]["kind"] for p in by if cid in by[p])
            tds = ""
            for prof in PROFILES:
                c = by.get(prof, {}).get(cid)
                if c is None:
                    tds += "<td>not run</td>" if prof not in runs else "<td>(no such claim)</td>"
                elif stale.get(prof):
                    tds += f"<td>stale ({badge_html(c['verdict'])})</td>"
                elif cid in varies.get(prof, {}):
                    other = html.escape(_varies_text(varies[prof][cid]))
                    tds += f"<td>{badge_html(c['verdict'])} <small>(other seeds: {other})</small></td>"
                else:
                    tds += f"<td>{badge_html(c['verdict'])}</td>"
            cells += f"<tr><td><b>{cid}</b> ({kind})</td>{tds}</tr>"
        head = "<tr><th>Claim</th>" + "".join(f"<th>{p}</th>" for p in PROFILES) + "</tr>"
        parts.append(
            f'<table class="claims-table profiles-claims"><thead>{head}</thead><tbody>{cells}</tbody></table>'
        )
    parts.append("</div>")
    return "\n".join(parts).replace("<td>", PAD_TD).replace("<th>", PAD_TH)


def badge_html(verdict: str) -> str:
    """A verdict in its colour, as the chapter's own claims table shows it."""
    return f'<span style="color:{COLOURS.get(verdict, "#4d4d4d")};font-weight:bold">{html.escape(verdict)}</span>'


def _html_code(text: str) -> str:
    """Markdown backticks as HTML code, for the few words in ``_not_run``."""
    bits = text.split("`")
    return "".join(f"<code>{b}</code>" if i % 2 else b for i, b in enumerate(bits))


def _duration(seconds: float) -> str:
    """``25 min``, or ``about 25 h`` beyond an hour and a half."""
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"about {seconds / 3600:.0f} h"


def _rel_from_book(doc: str) -> str:
    return doc[len("book/") :] if doc.startswith("book/") else f"../{doc}"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _summary(res: dict[str, Any], varying: Any = ()) -> str:
    n = counts(res, varying)
    emp = ", ".join(f"{n[k]} {k}" for k, _ in COLUMNS if n[k])
    parts = [f"empirical: {emp or 'none'}"]
    if n["verified"]:
        parts.append(f"{n['verified']} construction{'s' if n['verified'] > 1 else ''} verified")
    if n["illustrated"] or n["illustration not shown"]:
        parts.append(f"illustrations: {n['illustrated']} shown, {n['illustration not shown']} not")
    if n["not testable"]:
        parts.append(f"{n['not testable']} not testable")
    if n["fragile"]:
        parts.append(f"{n['fragile']} fragile check{'s' if n['fragile'] > 1 else ''}")
    if n["varies"]:
        parts.append(
            f"{n['varies']} verdict{'s' if n['varies'] > 1 else ''} varying with seeds (not counted)"
        )
    return "; ".join(parts)


def readme_table(root: Path) -> str:
    lines = ["| Chapter | Source | ci verdicts | full verdicts |", "|---|---|---|---|"]
    for ch in chapters(root):
        title = ch.id.upper()
        verdicts = {}
        for prof in PROFILES:
            if ch.results(prof).exists():
                res = json.loads(ch.results(prof).read_text())
                title = f"{ch.id.upper()} · {res['title']}"
                stale = stale_inputs(res, ch)
                verdicts[prof] = (
                    f"stale ({', '.join(stale)} changed since the run)"
                    if stale
                    else _summary(res, varying_verdicts(root, res))
                )
        lines.append(
            f"| {title} | [`{ch.doc}.py`]({ch.doc}.py) | {verdicts.get('ci', 'not run')} | "
            f"{verdicts.get('full', 'not run yet')} |"
        )
    return "\n".join(lines)


def _readme_with_table(root: Path) -> str:
    text = (root / "README.md").read_text()
    if README_START not in text or README_END not in text:
        raise RunnerError(f"README.md lacks the markers {README_START} / {README_END}")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_START}\n{readme_table(root)}\n{README_END}{tail}"


def status_problems(root: Path) -> list[str]:
    problems = []
    status = root / "book" / "status.md"
    if not status.exists() or status.read_text() != status_markdown(root):
        problems.append("book/status.md is out of date (python -m rnnbook.runner status)")
    if (root / "README.md").exists() and (root / "README.md").read_text() != _readme_with_table(root):
        problems.append("the chapter table in README.md is out of date (python -m rnnbook.runner status)")
    return problems


def write_status(root: Path) -> None:
    atomic_write_text(root / "book" / "status.md", status_markdown(root))
    if (root / "README.md").exists():
        atomic_write_text(root / "README.md", _readme_with_table(root))
