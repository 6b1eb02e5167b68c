"""The book checks: what ``make test`` requires of the committed files.

Each problem is one line. Beyond freshness (source, library and data hashes), the checks
close the ways a book can be edited behind its tests: printed outputs are covered by a hash
stamped at execution; cell tags must match the source; a results file carries a hash of its
own content and of the run's inputs, and its verdicts are re-derived from its checks; the
notebook's claims table must agree with the results file.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnbook.claims import (
    CONSTRUCTION,
    CONTROL,
    EVIDENCE,
    KINDS,
    NOT_TESTABLE,
    ROLES,
    VERDICTS,
    measured_value,
    passes,
    verdict_of,
)
from rnnbook.machine.execute import to_notebook
from rnnbook.machine.layout import PROFILES, Chapter, chapters, toc_files
from rnnbook.machine.stamps import inputs_stamp, outputs_hash, results_hash

MAX_NOTEBOOK_BYTES = 3 * 1024 * 1024
RESULT_KEYS = ("chapter", "title", "profile", "device", "torch", "seeds", "wall_s", "claims", "stamp")
CLAIM_KEYS = ("id", "text", "kind", "paper", "rule", "partial", "checks", "verdict")
CHECK_KEYS = ("name", "role", "value", "threshold", "passed", "fragile", "tol")
STAMP_KEYS = ("source_sha256", "library_sha256", "data_sha256", "outputs_sha256", "results_sha256")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/root/|/tmp/|/content/|/Users/|[A-Z]:\\\\)")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TABLE_KEY = "rnnbook"


def _cells(nb: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", []))) for c in nb.cells]


def claims_table_verdicts(nb: Any) -> dict[str, str] | None:
    """The verdicts shown by the notebook's claims table (from its output metadata)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get(TABLE_KEY)
            if isinstance(meta, Mapping) and "claims" in meta:
                return dict(meta["claims"])
    return None


def notebook_problems(
    nb: Any, ch: Chapter, results: Mapping[str, Any] | None = None, check_stamp: bool = True
) -> list[str]:
    """Everything wrong with an executed chapter notebook (empty list: publishable)."""
    problems: list[str] = []
    got, want = _cells(nb), _cells(to_notebook(ch))
    if got != want:
        n = next(
            (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want))
        )
        what = "tags" if n < min(len(got), len(want)) and got[n][:2] == want[n][:2] else "cells"
        problems.append(
            f"{ch.id}: notebook {what} differ from {ch.doc}.py (first at cell {n}); re-run the chapter"
        )
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(
            f"{ch.id}: code cells not executed once each, in order (execution counts {counts[:8]}...)"
        )
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{ch.id}: cell {i} has an error output ({out.get('ename')})")
            if out.get("name") == "stderr" and "Traceback" in out.get("text", ""):
                problems.append(f"{ch.id}: cell {i} printed a traceback to stderr")
    tags = {t for c in nb.cells for t in c.metadata.get("tags", [])}
    for needed in ("parameters", "nbval-check-output", "hide-cell"):
        if needed not in tags:
            problems.append(f"{ch.id}: no cell tagged {needed!r}")
    for i, cell in enumerate(nb.cells):
        if "nbval-check-output" in cell.metadata.get("tags", []) and cell.cell_type != "code":
            problems.append(f"{ch.id}: cell {i} is tagged nbval-check-output but is not a code cell")
    colab = [
        c.source for c in nb.cells if "hide-cell" in c.metadata.get("tags", []) and "google.colab" in c.source
    ]
    if not colab:
        problems.append(f"{ch.id}: the hidden Colab setup cell is missing")
    elif (url := repository_url(ch.root)) and f"git+{url}@" not in colab[0]:
        problems.append(
            f"{ch.id}: the Colab setup cell does not install from {url} (_config.yml repository.url)"
        )
    if any("{bibliography}" in c.source for c in nb.cells if c.cell_type == "markdown"):
        problems.append(
            f"{ch.id}: use {{footcite}} and {{footbibliography}}, not {{bibliography}} (duplicate citations)"
        )
    meta = nb.metadata.get("book", {})
    prof = meta.get("profile")
    if prof not in PROFILES:
        problems.append(f"{ch.id}: notebook metadata has no valid book.profile")
    if check_stamp:
        fresh = inputs_stamp(ch.root, ch)
        for key, what in (
            ("source_sha256", f"{ch.doc}.py"),
            ("library_sha256", "the library"),
            ("data_sha256", "its data/ files"),
        ):
            if meta.get(key) != fresh[key]:
                problems.append(f"{ch.id}: stale: {what} changed since execution (make run CHAPTER={ch.id})")
        if meta.get("outputs_sha256") != outputs_hash(nb):
            problems.append(
                f"{ch.id}: the notebook's outputs were edited after execution (outputs hash differs)"
            )
    if results is None and prof in PROFILES and ch.results(prof).exists():
        results = json.loads(ch.results(prof).read_text())
    if results is None:
        problems.append(f"{ch.id}: no results/{ch.id}.{prof}.json for the notebook's profile")
    else:
        stamp = results.get("stamp", {})
        for key in ("profile", "device", "seeds", "wall_s"):
            if meta.get(key) != results.get(key):
                problems.append(
                    f"{ch.id}: notebook metadata {key} {meta.get(key)!r} != results {results.get(key)!r}"
                )
        for key in STAMP_KEYS:
            if meta.get(key) != stamp.get(key):
                problems.append(
                    f"{ch.id}: the notebook and results/{ch.id}.{prof}.json carry different stamps ({key})"
                )
                break
        table = claims_table_verdicts(nb)
        if table is None:
            problems.append(f"{ch.id}: no claims table (report.table()) in the notebook")
        elif table != {c["id"]: c["verdict"] for c in results.get("claims", [])}:
            problems.append(
                f"{ch.id}: the notebook's claims table disagrees with results/{ch.id}.{prof}.json"
            )
    text = _text_without_images(nb)
    match = ABSOLUTE_PATH.search(text)
    if match:
        start = max(0, match.start() - 40)
        problems.append(f"{ch.id}: absolute path in the notebook: ...{text[start : match.end() + 40]!r}...")
    return problems


def repository_url(root: Path) -> str | None:
    """``repository.url`` of ``_config.yml`` (where Colab installs the library from)."""
    import yaml

    config = root / "_config.yml"
    if not config.exists():
        return None
    return (yaml.safe_load(config.read_text()).get("repository") or {}).get("url")


def _text_without_images(nb: Any) -> str:
    """The notebook's JSON text with binary payloads (base64 images) removed."""
    clone = json.loads(json.dumps(nb))
    for cell in clone.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for key in list(data):
                if key.startswith("image/") and key != "image/svg+xml":
                    data[key] = ""
    return json.dumps(clone)


def claim_problems(c: Mapping[str, Any], name: str) -> list[str]:
    """Schema of one claim, and its verdict re-derived from its checks."""
    cid = c.get("id")
    problems = [f"{name}: claim {cid} lacks {k!r}" for k in CLAIM_KEYS if k not in c]
    if problems:
        return problems
    if c["verdict"] not in VERDICTS:
        return [f"{name}: claim {cid} has verdict {c['verdict']!r}"]
    if c["kind"] not in KINDS:
        return [f"{name}: claim {cid} has kind {c['kind']!r}"]
    checks = c["checks"]
    for k in checks:
        missing = [key for key in CHECK_KEYS if key not in k]
        if missing or k.get("role") not in ROLES:
            return [f"{name}: claim {cid} check {k.get('name')!r} lacks {missing or 'a valid role'}"]
    evidence = {k["name"]: k for k in checks if k["role"] == EVIDENCE}
    controls = [k for k in checks if k["role"] == CONTROL]
    if not evidence:
        problems.append(f"{name}: claim {cid} has no evidence check")
    if c["kind"] != CONSTRUCTION and not controls and not c.get("no_control_reason"):
        problems.append(f"{name}: {c['kind']} claim {cid} has neither a control nor a no_control_reason")
    if c["kind"] == CONSTRUCTION and (controls or c["partial"]):
        problems.append(f"{name}: construction {cid} has controls or a partial rule")
    if any(p not in evidence for p in c["partial"]):
        problems.append(f"{name}: claim {cid}'s partial rule names checks that are not evidence")
    if c["verdict"] == NOT_TESTABLE:
        return problems
    for k in checks:
        if k.get("op") is None:
            continue
        if bool(k["passed"]) != passes(k["value"], k["op"], k["threshold"]):
            problems.append(
                f"{name}: claim {cid} check {k['name']}: passed={k['passed']} but {k['value']} {k['op']} {k['threshold']} says otherwise"
            )
        spread, margin = k.get("spread"), k.get("margin")
        fragile = margin is not None and spread is not None and abs(margin) < spread
        if bool(k["fragile"]) != fragile:
            problems.append(
                f"{name}: claim {cid} check {k['name']}: fragile={k['fragile']} disagrees with its margin and spread"
            )
    if not problems and evidence:
        want = verdict_of(
            c["kind"],
            {n: bool(k["passed"]) for n, k in evidence.items()},
            [bool(k["passed"]) if measured_value(k["value"]) else None for k in controls],
            c["partial"],
        )
        if want != c["verdict"]:
            problems.append(f"{name}: claim {cid} says {c['verdict']!r}, its checks give {want!r}")
    return problems


def results_problems(path: Path, ch: Chapter | None = None) -> list[str]:
    """Schema, self-hash, freshness and verdict consistency of a results JSON file."""
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return [f"{path.name}: unreadable ({err})"]
    problems = [f"{path.name}: missing key {k!r}" for k in RESULT_KEYS if k not in res]
    if problems:
        return problems
    if not res["claims"]:
        problems.append(f"{path.name}: no claims")
    for c in res["claims"]:
        problems += claim_problems(c, path.name)
    stamp = res["stamp"]
    if stamp.get("results_sha256") != results_hash(res):
        problems.append(f"{path.name}: edited after execution (its content no longer matches its stamp)")
    if ch is not None:
        stale = stale_inputs(res, ch)
        # A full result needs a GPU to refresh: once stale it is shown as stale on the status
        # page, not counted, and does not fail the checks; a stale ci result is an error.
        if stale and res.get("profile") != "full":
            problems.append(
                f"{path.name}: stale or not produced by this chapter ({', '.join(stale)} changed); make run CHAPTER={ch.id} PROFILE={res.get('profile')}"
            )
        if res.get("chapter") != ch.id or path.name != f"{ch.id}.{res.get('profile')}.json":
            problems.append(f"{path.name}: chapter/profile fields do not match the file name")
    return problems


def stale_inputs(res: Mapping[str, Any], ch: Chapter) -> list[str]:
    """Which inputs (source, library, data) changed since the run that produced ``res``."""
    fresh, stamp = inputs_stamp(ch.root, ch), res.get("stamp", {})
    return [k.split("_")[0] for k in fresh if stamp.get(k) != fresh[k]]


# A code cell shown on the page fits the theme's default text column without a scroll bar:
# 672 px less 2 x 16 px padding holds 75.9 characters of its monospace font (measured in headless
# Chromium at a 1280 px window). Cells collapsed by default (hide-input, hide-cell) are exempt.
MAX_CODE_COLUMNS = 75
COLLAPSED = {"hide-input", "hide-cell", "remove-input", "remove-cell"}


def code_width_problems(ch: Chapter) -> list[str]:
    """Lines of shown code cells longer than :data:`MAX_CODE_COLUMNS` (the page would scroll)."""
    problems = []
    for i, cell in enumerate(to_notebook(ch).cells):
        if cell.cell_type != "code" or COLLAPSED & set(cell.metadata.get("tags", [])):
            continue
        long = [n for n, line in enumerate(cell.source.splitlines(), 1) if len(line) > MAX_CODE_COLUMNS]
        if long:
            problems.append(
                f"{ch.id}: code cell {i} has {len(long)} line(s) over {MAX_CODE_COLUMNS} characters "
                f"(first: line {long[0]}); the page would scroll sideways"
            )
    return problems


def source_problems(ch: Chapter) -> list[str]:
    """Control characters in a chapter source (e.g. a ``\\a`` escape where ``\\approx`` was meant)."""
    problems = []
    for n, line in enumerate(ch.py.read_text().splitlines(), 1):
        if CONTROL_CHARS.search(line):
            problems.append(
                f"{ch.id}: {ch.doc}.py line {n} has a control character {CONTROL_CHARS.search(line).group()!r}"
            )
    return problems


# Every code path runs in ci: the profile chooses sizes, never code. Two patterns make code that
# only the full profile executes, and the check rejects both: a branch on the profile itself, and
# a ``pick`` whose ci value is empty or zero (a loop over ``[]``, ``if P["iters"]:`` with 0).


def _falsy_literal(node: ast.AST) -> bool:
    """``False``, ``0``, ``None``, ``""``, ``[]``, ``()``, ``{}`` written as literals."""
    if isinstance(node, ast.Constant):
        return not node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return False


def _mentions_profile(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "profile":
            return True
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "profile":
            return True
        if isinstance(sub, ast.Constant) and sub.value in ("full", "ci"):
            return True
    return False


def _settings(node: ast.AST) -> dict[str, ast.AST] | None:
    """The keyword values of a ``dict(...)`` call or the items of a ``{...}`` literal."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return {k.arg: k.value for k in node.keywords if k.arg}
    if isinstance(node, ast.Dict):
        return {
            k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
        }
    return None


def _gating_keys(tree: ast.AST) -> set[str]:
    """Setting keys (``P["key"]``) read where they decide whether code runs: an ``if``/``while``
    test, a conditional expression, or what a ``for`` loop or comprehension iterates over."""
    places: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.IfExp | ast.While):
            places.append(node.test)
        elif isinstance(node, ast.For):
            places.append(node.iter)
        elif isinstance(node, ast.comprehension):
            places += [node.iter, *node.ifs]
    return {
        sub.slice.value
        for place in places
        for sub in ast.walk(place)
        if isinstance(sub, ast.Subscript)
        and isinstance(sub.slice, ast.Constant)
        and isinstance(sub.slice.value, str)
    }


def profile_only_problems(ch: Chapter) -> list[str]:
    """Code that only the full profile would execute (issue: every code path runs in CI).

    Two patterns: a branch on the profile itself, and a setting that is zero or empty in ci
    (but not in full) and decides whether code runs (``if P["iters"]:``, ``for c in P["cells"]``,
    ``range(P["n"])``). A zero used as a plain number (``1 + P["extra"]`` layers) is a size.
    """
    problems = []
    tree = ast.parse(ch.py.read_text())
    gating = _gating_keys(tree)
    for node in ast.walk(tree):
        tests = []
        if isinstance(node, ast.If | ast.IfExp | ast.While):
            tests.append(node.test)
        if isinstance(node, ast.comprehension):
            tests += node.ifs
        if any(_mentions_profile(t) for t in tests):
            problems.append(
                f"{ch.id}: line {tests[0].lineno} branches on the profile; the profile may choose sizes, "
                "not code (run the branch at tiny size in ci)"
            )
        is_pick = isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "pick")
            or (isinstance(node.func, ast.Name) and node.func.id == "pick")
        )
        if not is_pick:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if "ci" not in kw or "full" not in kw:
            continue
        ci, full = _settings(kw["ci"]), _settings(kw["full"])
        if ci is None or full is None:  # a single value: flagged when falsy in ci only
            pairs = [(None, kw["ci"], kw["full"])]
        else:
            pairs = [(key, ci[key], full.get(key, ci[key])) for key in ci if key in gating]
        for key, c, f in pairs:
            if _falsy_literal(c) and not _falsy_literal(f):
                name = f" {key}" if key else ""
                problems.append(
                    f"{ch.id}: line {c.lineno} sets{name} to {ast.unparse(c)} in ci only: the code it "
                    "gates never runs in ci (use a tiny non-zero size)"
                )
    return problems


def check_book(root: Path) -> list[str]:
    """All book checks on the committed files (what ``make test`` requires)."""
    import nbformat

    from rnnbook.machine.status import status_problems  # status imports this module

    problems: list[str] = []
    chs = chapters(root)
    if not chs:
        problems.append("_toc.yml lists no chapter")
    tracked = _git_tracked(root)
    for ch in chs:
        if not ch.py.exists():
            problems.append(f"{ch.id}: {ch.doc}.py missing")
            continue
        problems += source_problems(ch)
        problems += code_width_problems(ch)
        problems += profile_only_problems(ch)
        if not (root / "data" / f"{ch.id}_variation.json").exists():
            problems.append(
                f"{ch.id}: no data/{ch.id}_variation.json (python -m rnnbook.runner variation {ch.id} --seeds ...)"
            )
        if not ch.ipynb.exists():
            problems.append(f"{ch.id}: no executed notebook {ch.doc}.ipynb (make run CHAPTER={ch.id})")
            continue
        if tracked is not None:
            for path in (ch.py, ch.ipynb, ch.results("ci")):
                rel = path.relative_to(root).as_posix()
                if rel not in tracked:
                    problems.append(f"{ch.id}: {rel} is not committed (Colab and CI need it)")
        size = ch.ipynb.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            problems.append(f"{ch.id}: notebook is {size / 1e6:.1f} MB (limit 3 MB)")
        problems += notebook_problems(nbformat.read(ch.ipynb, as_version=4), ch)
        for prof in PROFILES:
            if ch.results(prof).exists():
                problems += results_problems(ch.results(prof), ch)
        if not ch.results("ci").exists():
            problems.append(f"{ch.id}: no results/{ch.id}.ci.json (make run CHAPTER={ch.id} PROFILE=ci)")
    for doc in toc_files(root):
        if not any((root / f"{doc}{ext}").exists() for ext in (".md", ".ipynb")):
            problems.append(f"_toc.yml entry {doc} has no .md or .ipynb")
    problems += status_problems(root)
    problems += bibliography_problems(root)
    return problems


def bibliography_problems(root: Path) -> list[str]:
    """Every ``book/bib/*.bib`` listed in ``_config.yml``, and no BibTeX key defined twice."""
    import yaml

    config = root / "_config.yml"
    listed = yaml.safe_load(config.read_text()).get("bibtex_bibfiles", []) if config.exists() else []
    present = sorted(p.relative_to(root).as_posix() for p in (root / "book" / "bib").glob("*.bib"))
    problems = [f"{f} is not listed in _config.yml bibtex_bibfiles" for f in present if f not in listed]
    problems += [f"_config.yml lists {f}, which does not exist" for f in listed if not (root / f).exists()]
    seen: dict[str, str] = {}
    for f in present:
        for key in re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", (root / f).read_text(), re.M):
            if key in seen:
                problems.append(f"BibTeX key {key!r} is defined in {seen[key]} and in {f}")
            seen.setdefault(key, f)
    return problems


def _git_tracked(root: Path) -> set[str] | None:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(out.stdout.splitlines())


def stale_chapters(root: Path) -> list[Chapter]:
    """Chapters whose notebook is missing or whose source, library or data hash changed."""
    import nbformat

    out = []
    for ch in chapters(root):
        if not ch.ipynb.exists():
            out.append(ch)
            continue
        meta = nbformat.read(ch.ipynb, as_version=4).metadata.get("book", {})
        fresh = inputs_stamp(root, ch)
        if any(meta.get(k) != v for k, v in fresh.items()):
            out.append(ch)
    return out
