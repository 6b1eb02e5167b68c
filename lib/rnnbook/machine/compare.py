"""A fresh ci re-execution against the committed results.

Everything declared must be identical (claim ids, text, kind, paper, rule, partial rule,
checks with their roles, thresholds and tolerances, seeds); verdicts and pass/fail flags must
be identical; every value (and every per-seed value) must agree within the tolerance that the
*fresh* run declares, so that a committed file cannot widen its own tolerance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnbook.machine.layout import chapters

SAME_RESULT = ("chapter", "title", "profile", "seeds")
SAME_CLAIM = ("text", "kind", "paper", "rule", "partial", "no_control_reason", "verdict")
SAME_CHECK = ("role", "what", "op", "threshold", "of", "over", "tol", "passed")


def compare(fresh: Mapping[str, Any], committed: Mapping[str, Any]) -> list[str]:
    """Differences between a fresh results JSON and the committed one (empty list: agree)."""
    name = committed.get("chapter", "?")
    problems = [
        f"{name}: {key} {fresh.get(key)!r}, committed {committed.get(key)!r}"
        for key in SAME_RESULT
        if fresh.get(key) != committed.get(key)
    ]
    old = {c["id"]: c for c in committed.get("claims", [])}
    new = {c["id"]: c for c in fresh.get("claims", [])}
    if list(old) != list(new):
        problems.append(f"{name}: claim ids differ: committed {list(old)}, fresh {list(new)}")
    for cid in [c for c in new if c in old]:
        a, b = old[cid], new[cid]
        for key in SAME_CLAIM:
            if a.get(key) != b.get(key):
                problems.append(f"{name} {cid}: {key} {b.get(key)!r}, committed {a.get(key)!r}")
        checks_a = {k["name"]: k for k in a.get("checks", [])}
        checks_b = {k["name"]: k for k in b.get("checks", [])}
        if list(checks_a) != list(checks_b):
            problems.append(
                f"{name} {cid}: checks differ: committed {list(checks_a)}, fresh {list(checks_b)}"
            )
        for ck in [k for k in checks_b if k in checks_a]:
            ka, kb = checks_a[ck], checks_b[ck]
            for key in SAME_CHECK:
                if ka.get(key) != kb.get(key):
                    problems.append(f"{name} {cid}.{ck}: {key} {kb.get(key)!r}, committed {ka.get(key)!r}")
            tol = float(kb.get("tol") or 0.0)
            problems += _values_problems(f"{name} {cid}.{ck}", ka.get("value"), kb.get("value"), tol)
            pa, pb = ka.get("per_seed"), kb.get("per_seed")
            if (pa is None) != (pb is None) or (pa is not None and len(pa) != len(pb)):
                problems.append(f"{name} {cid}.{ck}: per-seed values differ in number")
            elif pa is not None:
                for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
                    problems += _values_problems(f"{name} {cid}.{ck}[seed {i}]", x, y, tol)
    return problems


def _values_problems(where: str, committed: Any, fresh: Any, tol: float) -> list[str]:
    if _is_number(committed) and _is_number(fresh):
        x, y = float(committed), float(fresh)
        if not (math.isfinite(x) and math.isfinite(y)) or abs(x - y) > tol * (1 + 1e-9) + 1e-12:
            return [f"{where} = {fresh}, committed {committed}, tolerance {tol}"]
        return []
    if committed != fresh:
        return [f"{where} = {fresh!r}, committed {committed!r} (must be identical)"]
    return []


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def compare_dir(fresh_dir: Path, root: Path) -> list[str]:
    """Compare every chapter's fresh ci results with the committed ``results/<id>.ci.json``."""
    problems = []
    for ch in chapters(root):
        fresh, committed = fresh_dir / f"{ch.id}.ci.json", ch.results("ci")
        if not fresh.exists():
            problems.append(f"{ch.id}: the ci re-execution wrote no {fresh.name}")
            continue
        if not committed.exists():
            problems.append(f"{ch.id}: no committed results/{committed.name} to compare with")
            continue
        problems += compare(json.loads(fresh.read_text()), json.loads(committed.read_text()))
    return problems
