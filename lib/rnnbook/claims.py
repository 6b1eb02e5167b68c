"""Claims: what an abstract says, the rule that decides it, and what we measured.

Introduced in A01. A chapter declares every claim with its pass rule *before* running an
experiment (:meth:`Report.claim`), records the measurement afterwards (:meth:`Report.measure`),
shows the table (:meth:`Report.table`) and writes ``results/<chapter>.<profile>.json``
(:meth:`Report.write`). CI re-executes the chapter and compares the fresh JSON with the
committed one (:func:`compare`): verdicts must be identical, numbers inside each claim's tolerance.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnbook.runtime import Context, results_dir

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
NOT_TESTABLE = "not testable at this scale"
VERDICTS: tuple[str, ...] = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE)

Value = float | int | str | bool | None | Mapping[str, Any]
Judge = Callable[[Any], str]


def all_or_some(passed: list[bool]) -> str:
    """``reproduced`` if every check passed, ``partly`` if some did, else ``not reproduced``."""
    if passed and all(passed):
        return REPRODUCED
    return PARTLY if any(passed) else NOT_REPRODUCED


@dataclass
class Claim:
    """One claim of an abstract.

    ``judge`` maps the measured value to a verdict; it is fixed when the claim is declared.
    ``tolerance`` is the absolute tolerance used when CI compares a re-executed run with the
    committed one: a number applies to every numeric entry of ``ours``, a mapping per key.
    """

    id: str
    text: str
    paper: Value
    rule: str
    judge: Judge
    tolerance: float | Mapping[str, float] | None = None
    ours: Value = None
    verdict: str | None = None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "paper": self.paper,
            "ours": _plain(self.ours),
            "rule": self.rule,
            "verdict": self.verdict,
            "tolerance": _plain(self.tolerance),
            "note": self.note,
        }


@dataclass
class Report:
    """The claims of one chapter run."""

    context: Context
    title: str
    claims: dict[str, Claim] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def claim(
        self,
        id: str,
        text: str,
        *,
        paper: Value,
        rule: str,
        judge: Judge,
        tolerance: float | Mapping[str, float] | None = None,
    ) -> None:
        """Declare a claim and its pass rule (before the experiment runs).

        Returns nothing, so that a cell of declarations shows no output; the claim is
        ``report.claims[id]``.
        """
        if id in self.claims:
            raise ValueError(f"claim {id!r} declared twice")
        self.claims[id] = Claim(id, text, paper, rule, judge, tolerance)

    def measure(self, id: str, ours: Value, note: str = "") -> str:
        """Record the measured value of claim ``id``; its declared rule gives the verdict."""
        claim = self.claims[id]
        verdict = claim.judge(ours)
        if verdict not in VERDICTS:
            raise ValueError(f"claim {id}: judge returned {verdict!r}, not one of {VERDICTS}")
        claim.ours, claim.verdict, claim.note = ours, verdict, note
        return verdict

    def untestable(self, id: str, reason: str) -> str:
        """Mark claim ``id`` as not testable at this scale, with the reason."""
        claim = self.claims[id]
        claim.ours, claim.verdict, claim.note = None, NOT_TESTABLE, reason
        return NOT_TESTABLE

    def verdicts(self) -> str:
        """One line per claim, ``id: verdict``; stable across profiles when the science is."""
        return "\n".join(f"{c.id}: {c.verdict}" for c in self.claims.values())

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "claim": f"{c.id}. {c.text}",
                "paper": format_value(c.paper),
                "ours": format_value(c.ours) + (f" ({c.note})" if c.note else ""),
                "rule": c.rule,
                "verdict": c.verdict or "(not measured)",
            }
            for c in self.claims.values()
        ]

    def table(self) -> Any:
        """The claims table as an HTML object (rendered by Jupyter and by the book)."""
        from IPython.display import HTML

        head = "".join(f"<th>{h}</th>" for h in ("Claim", "Paper", "Ours", "Pass rule", "Verdict"))
        body = "".join(
            "<tr>"
            + "".join(f"<td>{_escape(r[k])}</td>" for k in ("claim", "paper", "ours", "rule"))
            + f'<td class="verdict">{_badge(r["verdict"])}</td></tr>'
            for r in self.rows()
        )
        return HTML(
            f'<table class="claims-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def write(self, folder: Path | None = None) -> Path:
        """Write ``<chapter>.<profile>.json`` atomically and return its path."""
        missing = [c.id for c in self.claims.values() if c.verdict is None]
        if missing:
            raise RuntimeError(f"claims without a verdict: {', '.join(missing)}")
        ctx = self.context
        payload = {
            "chapter": ctx.chapter,
            "title": self.title,
            "profile": ctx.profile,
            "device": ctx.device_name,
            "torch": ctx.torch_version,
            "seeds": ctx.seeds,
            "wall_s": round(time.perf_counter() - self.started, 1),
            "claims": [c.as_json() for c in self.claims.values()],
        }
        out = Path(folder) if folder else results_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{ctx.chapter}.{ctx.profile}.json"
        atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")
        return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see either the old or the new file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def compare(fresh: Mapping[str, Any], committed: Mapping[str, Any]) -> list[str]:
    """Differences between a fresh results JSON and the committed one (empty list: agree).

    Verdicts must be identical. Numeric entries of ``ours`` must agree within the committed
    claim's tolerance (claims without a tolerance: verdict only).
    """
    problems: list[str] = []
    name = committed.get("chapter", "?")
    old = {c["id"]: c for c in committed.get("claims", [])}
    new = {c["id"]: c for c in fresh.get("claims", [])}
    if set(old) != set(new):
        problems.append(f"{name}: claim ids differ: committed {sorted(old)}, fresh {sorted(new)}")
    for cid in sorted(set(old) & set(new)):
        a, b = old[cid], new[cid]
        if a["verdict"] != b["verdict"]:
            problems.append(f"{name} {cid}: verdict {b['verdict']!r}, committed {a['verdict']!r}")
        tol = a.get("tolerance")
        if tol is None:
            continue
        for key, x, y in _numeric_pairs(a.get("ours"), b.get("ours")):
            t = tol.get(key) if isinstance(tol, Mapping) else tol
            if t is None:
                continue
            if x is None or y is None or not math.isfinite(y) or abs(x - y) > t:
                problems.append(f"{name} {cid}: {key or 'value'} = {y}, committed {x}, tolerance {t}")
    return problems


def _numeric_pairs(a: Any, b: Any, prefix: str = "") -> list[tuple[str, float | None, float | None]]:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        a = a if isinstance(a, Mapping) else {}
        b = b if isinstance(b, Mapping) else {}
        out = []
        for key in sorted(set(a) | set(b)):
            out += _numeric_pairs(
                a.get(key), b.get(key), f"{prefix}{key}" if not prefix else f"{prefix}.{key}"
            )
        return out
    if _is_number(a) or _is_number(b):
        return [(prefix, float(a) if _is_number(a) else None, float(b) if _is_number(b) else None)]
    return []


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _plain(x: Any) -> Any:
    """Convert numpy/torch scalars and mappings into JSON-ready python values."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and callable(x.item):
        return x.item()
    if isinstance(x, float):
        return float(f"{x:.6g}") if math.isfinite(x) else str(x)
    return x


def format_value(x: Any) -> str:
    """Short human-readable rendering of a claim value."""
    if x is None:
        return "–"
    if isinstance(x, Mapping):
        return ", ".join(f"{k} = {format_value(v)}" for k, v in x.items())
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_COLOURS = {REPRODUCED: "#1b7837", PARTLY: "#b35806", NOT_REPRODUCED: "#b2182b", NOT_TESTABLE: "#4d4d4d"}


def _badge(verdict: str) -> str:
    colour = _COLOURS.get(verdict, "#4d4d4d")
    return f'<span style="color:{colour};font-weight:bold">{_escape(verdict)}</span>'
