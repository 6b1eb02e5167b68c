"""Claims: what an abstract says, the checks that decide it, and what we measured.

Introduced in A01; rebuilt for the verdicts issue so that a verdict cannot overstate.

A chapter declares every claim *before* running an experiment (:meth:`Report.claim`), as a
list of checks, shows the declarations as a table (:meth:`Report.preregistration`), records
the measured values afterwards (:meth:`Report.measure`), shows the judged table
(:meth:`Report.table`) and writes ``results/<chapter>.<profile>.json`` (:meth:`Report.write`).

The model:

- **Kinds.** An ``empirical`` claim can fail. A ``construction`` (an identity, an exact
  equivalence, an implementation guard) is verified and counted apart: its verdict is
  ``verified`` and a failing construction stops the chapter (it is a bug, not a finding).
  An ``illustration`` (a perspective paper's argument, shown on a toy) is judged like an
  empirical claim and counted apart; its verdicts are ``illustrated`` / ``not illustrated``
  (or ``partly`` / ``inconclusive``), never ``reproduced``.
- **Check roles.** ``evidence`` checks decide the verdict. A ``control`` is the same statistic
  as one evidence check (``of=``) measured on an untrained, random, shuffled or ablated model;
  it is judged by that evidence check's own rule and must *fail* it. A control that passes
  makes the verdict ``inconclusive``; a control never earns credit. ``context`` values are
  reported, not judged.
- **Partial rules.** ``partly`` is given only by a partial rule declared with the claim: the
  evidence checks it names all pass (and not all evidence passes). Controls never count.
- **Fragility.** A check measured over seeds (a list of per-seed values) has a spread
  (max - min); when its margin to the threshold is smaller than that spread it is *fragile*.
- **One source.** The rule text shown to readers is rendered from the same :class:`Check`
  objects that compute the verdict.

Every check carries a ``tol``: the absolute tolerance within which a re-execution (another
CPU, another thread count) must reproduce its value. The book machine compares fresh and
committed results using the tolerances of the *fresh* run, declared in the chapter source.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnbook.runtime import Context, results_dir

# Verdicts.
REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable at this scale"
VERIFIED = "verified"
# An illustration is judged by the same rule as an empirical claim but never reads "reproduced":
# the toy shows the argument (or does not); the paper had no experiment to reproduce.
ILLUSTRATED = "illustrated"
NOT_ILLUSTRATED = "not illustrated"
VERDICTS: tuple[str, ...] = (
    REPRODUCED,
    PARTLY,
    NOT_REPRODUCED,
    INCONCLUSIVE,
    NOT_TESTABLE,
    VERIFIED,
    ILLUSTRATED,
    NOT_ILLUSTRATED,
)

# Kinds and roles.
EMPIRICAL, CONSTRUCTION, ILLUSTRATION = "empirical", "construction", "illustration"
KINDS: tuple[str, ...] = (EMPIRICAL, CONSTRUCTION, ILLUSTRATION)
EVIDENCE, CONTROL, CONTEXT = "evidence", "control", "context"
ROLES: tuple[str, ...] = (EVIDENCE, CONTROL, CONTEXT)
OPS: dict[str, str] = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
AGGREGATES = ("mean", "min", "max", "median", "all", "any")

Number = float | int | bool
Value = Number | str | None


class ConstructionFailed(AssertionError):
    """A construction (identity, exact equivalence, guard) did not hold: a bug in the book."""


@dataclass(frozen=True)
class Check:
    """One judged (or reported) quantity of a claim.

    ``op`` and ``threshold`` form the rule (``value op threshold``); a control copies both
    from the evidence check named by ``of``. ``over`` says how a per-seed list of values is
    reduced (``mean``, ``min``, ``max``, ``median``, ``all``, ``any``). ``tol`` is the absolute
    tolerance of a re-execution; ``0`` means the value must be reproduced exactly.
    """

    name: str
    role: str
    what: str = ""
    op: str | None = None
    threshold: Number | None = None
    of: str | None = None
    over: str = "mean"
    tol: float = 0.0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"check {self.name!r}: role {self.role!r} is not one of {ROLES}")
        if self.over not in AGGREGATES:
            raise ValueError(f"check {self.name!r}: over={self.over!r} is not one of {AGGREGATES}")
        if self.role == EVIDENCE and (self.op not in OPS or self.threshold is None):
            raise ValueError(f"evidence check {self.name!r} needs an op in {tuple(OPS)} and a threshold")
        if self.role == CONTROL and not self.of:
            raise ValueError(f"control check {self.name!r} must name the evidence check it controls (of=)")
        if not (self.tol >= 0 and math.isfinite(self.tol)):
            raise ValueError(f"check {self.name!r}: tol must be a finite number >= 0")

    def rule(self) -> str:
        """``name ≥ 0.9`` (controls and context have no rule of their own)."""
        if self.op is None:
            return self.name
        return f"{self.name} {OPS[self.op]} {format_value(self.threshold)}"


def evidence(
    name: str, op: str, threshold: Number, what: str = "", *, over: str = "mean", tol: float = 0.0
) -> Check:
    """An evidence check: ``value op threshold`` decides the verdict."""
    return Check(name, EVIDENCE, what, op, threshold, over=over, tol=tol)


def control(name: str, of: str, what: str, *, over: str = "mean", tol: float = 0.0) -> Check:
    """A negative control: the statistic of evidence check ``of`` on a model where it must fail."""
    return Check(name, CONTROL, what, of=of, over=over, tol=tol)


def context(name: str, what: str = "", *, over: str = "mean", tol: float = 0.0) -> Check:
    """A value reported beside the verdict and never judged."""
    return Check(name, CONTEXT, what, over=over, tol=tol)


def passes(value: Any, op: str, threshold: Number) -> bool:
    if value is None or isinstance(value, str):
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if op == ">=":
        return value >= threshold
    if op == ">":
        return value > threshold
    if op == "<=":
        return value <= threshold
    if op == "<":
        return value < threshold
    return value == threshold


def margin(value: Any, op: str, threshold: Number) -> float | None:
    """Signed distance to the threshold, positive on the passing side (None for ``==``)."""
    if op == "==" or not _is_number(value) or not _is_number(threshold) or isinstance(value, bool):
        return None
    v, t = float(value), float(threshold)
    return v - t if op in (">=", ">") else t - v


def _reduce(values: Sequence[Any], over: str) -> Any:
    import statistics

    vals = list(values)
    if over == "all":
        return all(bool(v) for v in vals)
    if over == "any":
        return any(bool(v) for v in vals)
    nums = [float(v) for v in vals]
    return {"mean": statistics.fmean, "min": min, "max": max, "median": statistics.median}[over](nums)


@dataclass
class Measured:
    """A check with its measurement: value, per-seed values, pass/fail, margin, fragility."""

    check: Check
    op: str | None
    threshold: Number | None
    value: Any = None
    per_seed: list[Any] | None = None
    passed: bool | None = None
    margin: float | None = None
    spread: float | None = None
    fragile: bool = False

    def judge(self, raw: Any) -> None:
        if isinstance(raw, Mapping):
            raise TypeError(f"check {self.check.name!r}: a value must be a number, a bool or a per-seed list")
        if _is_sequence(raw):
            self.per_seed = [_plain(v) for v in raw]
            if not self.per_seed:
                raise ValueError(f"check {self.check.name!r}: empty per-seed list")
            self.value = _plain(_reduce(self.per_seed, self.check.over))
            nums = [float(v) for v in self.per_seed if _is_number(v) and not isinstance(v, bool)]
            self.spread = _plain(max(nums) - min(nums)) if len(nums) > 1 else None
        else:
            self.value = _plain(raw)
        if self.op is not None and self.threshold is not None:
            self.passed = bool(passes(self.value, self.op, self.threshold))
            self.margin = _plain(margin(self.value, self.op, self.threshold))
            self.fragile = bool(
                self.margin is not None and self.spread is not None and abs(self.margin) < self.spread
            )

    def as_json(self) -> dict[str, Any]:
        c = self.check
        out: dict[str, Any] = {
            "name": c.name,
            "role": c.role,
            "what": c.what,
            "op": self.op,
            "threshold": _plain(self.threshold),
            "value": self.value,
            "passed": self.passed,
            "margin": self.margin,
            "fragile": self.fragile,
            "tol": c.tol,
        }
        if c.of:
            out["of"] = c.of
        if self.per_seed is not None:
            out["per_seed"] = self.per_seed
            out["over"] = c.over
            out["spread"] = self.spread
        return out


def measured_value(value: Any) -> bool:
    """Whether a check has a value at all: ``None`` and NaN mean "could not be measured".

    (Stored values keep non-finite floats as strings, so NaN may arrive as ``"nan"``.)
    """
    if value is None or value == "nan":
        return False
    return not (isinstance(value, float) and math.isnan(value))


def verdict_of(
    kind: str,
    evidence_passed: Mapping[str, bool],
    controls_passed: Sequence[bool | None],
    partial: Sequence[str],
) -> str:
    """The verdict rule itself, on pass/fail flags (used by :class:`Claim` and the book checks).

    A control flag of ``None`` is a control that could not be measured in this run (e.g. a
    cross-seed control with one seed): it did not fail, so the claim is inconclusive.
    """
    if kind == CONSTRUCTION:
        return VERIFIED if all(evidence_passed.values()) else NOT_REPRODUCED
    if any(p is None or p for p in controls_passed):
        return INCONCLUSIVE
    if all(evidence_passed.values()):
        return ILLUSTRATED if kind == ILLUSTRATION else REPRODUCED
    if partial and all(evidence_passed[p] for p in partial):
        return PARTLY
    return NOT_ILLUSTRATED if kind == ILLUSTRATION else NOT_REPRODUCED


@dataclass
class Claim:
    """One claim of an abstract: kind, checks, partial rule, and (after measuring) the verdict."""

    id: str
    text: str
    kind: str
    paper: Value
    checks: list[Check]
    partial: tuple[str, ...] = ()
    no_control_reason: str = ""
    measured: list[Measured] = field(default_factory=list)
    verdict: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} is not one of {KINDS}")
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id}: check names repeat: {names}")
        ev = {c.name: c for c in self.checks if c.role == EVIDENCE}
        if not ev:
            raise ValueError(f"claim {self.id}: needs at least one evidence check")
        for c in self.checks:
            if c.role == CONTROL and c.of not in ev:
                raise ValueError(
                    f"claim {self.id}: control {c.name!r} controls {c.of!r}, not an evidence check"
                )
        controls = [c for c in self.checks if c.role == CONTROL]
        if self.kind == CONSTRUCTION:
            if controls or self.partial:
                raise ValueError(f"claim {self.id}: a construction has no controls and no partial rule")
        elif not controls and not self.no_control_reason:
            raise ValueError(
                f"claim {self.id}: an {self.kind} claim needs a control check or a no_control reason"
            )
        if controls and self.no_control_reason:
            raise ValueError(f"claim {self.id}: has controls and a no_control reason; keep one")
        bad = [p for p in self.partial if p not in ev]
        if bad:
            raise ValueError(f"claim {self.id}: partial rule names {bad}, which are not evidence checks")
        if self.partial and set(self.partial) == set(ev):
            raise ValueError(f"claim {self.id}: a partial rule must name a proper subset of the evidence")

    def _resolved(self, check: Check) -> tuple[str | None, Number | None]:
        if check.role == CONTROL:
            target = next(c for c in self.checks if c.name == check.of)
            return target.op, target.threshold
        return check.op, check.threshold

    def rule(self) -> str:
        """The rule in words, rendered from the checks (what readers see, what judges)."""
        ev = [c.rule() for c in self.checks if c.role == EVIDENCE]
        if self.kind == CONSTRUCTION:
            return "holds exactly: " + "; ".join(ev)
        parts = ["reproduced if " + " and ".join(ev)]
        if self.partial:
            parts.append("partly if only " + " and ".join(self.partial))
        ctl = [f"{c.name} ({c.what}) must fail {c.of}'s rule" for c in self.checks if c.role == CONTROL]
        parts += ["control: " + "; ".join(ctl)] if ctl else [f"no control: {self.no_control_reason}"]
        return "; ".join(parts)

    def judge(self, values: Mapping[str, Any]) -> str:
        names = {c.name for c in self.checks}
        missing, extra = names - set(values), set(values) - names
        if missing or extra:
            raise ValueError(
                f"claim {self.id}: measured values do not match the declared checks "
                f"(missing {sorted(missing)}, undeclared {sorted(extra)})"
            )
        self.measured = []
        for c in self.checks:
            op, threshold = self._resolved(c)
            m = Measured(c, op, threshold)
            m.judge(values[c.name])
            self.measured.append(m)
        ev = [m for m in self.measured if m.check.role == EVIDENCE]
        if self.kind == CONSTRUCTION:
            failed = [m.check.rule() + f" (measured {format_value(m.value)})" for m in ev if not m.passed]
            if failed:
                raise ConstructionFailed(f"claim {self.id}: construction does not hold: {'; '.join(failed)}")
        return verdict_of(
            self.kind,
            {m.check.name: bool(m.passed) for m in ev},
            [
                bool(m.passed) if measured_value(m.value) else None
                for m in self.measured
                if m.check.role == CONTROL
            ],
            self.partial,
        )

    def as_json(self) -> dict[str, Any]:
        checks = (
            [m.as_json() for m in self.measured]
            if self.measured
            else [Measured(c, *self._resolved(c)).as_json() for c in self.checks]
        )
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "paper": _plain(self.paper),
            "rule": self.rule(),
            "partial": list(self.partial),
            "checks": checks,
            "verdict": self.verdict,
            "note": self.note,
        }
        if self.no_control_reason:
            out["no_control_reason"] = self.no_control_reason
        return out


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
        kind: str,
        paper: Value,
        checks: Sequence[Check],
        partial: Sequence[str] = (),
        no_control: str = "",
    ) -> None:
        """Declare a claim, its kind and its checks (before the experiment runs).

        Returns nothing, so that a cell of declarations shows no output.
        """
        if id in self.claims:
            raise ValueError(f"claim {id!r} declared twice")
        self.claims[id] = Claim(id, text, kind, paper, list(checks), tuple(partial), no_control)

    def measure(self, id: str, values: Mapping[str, Any] | None = None, note: str = "", **kw: Any) -> None:
        """Record the measured values of claim ``id`` (one per declared check; a list = per seed)."""
        claim = self.claims[id]
        if claim.verdict is not None:
            raise ValueError(f"claim {id} measured twice")
        claim.verdict = claim.judge({**(values or {}), **kw})
        claim.note = note

    def untestable(self, id: str, reason: str) -> None:
        """Mark claim ``id`` as not testable at this scale, with the reason."""
        claim = self.claims[id]
        claim.verdict, claim.note = NOT_TESTABLE, reason

    def verdict(self, id: str) -> str | None:
        return self.claims[id].verdict

    def verdicts(self) -> str:
        """One line per claim, ``id: verdict``."""
        return "\n".join(f"{c.id}: {c.verdict}" for c in self.claims.values())

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.claims.values()]

    def tolerances(self, path: Path | str) -> Any:
        """How each check's ``tol`` was obtained: the measured variation beside the declared value.

        ``path`` is ``data/<chapter>_variation.json``, written by
        ``python -m rnnbook.runner variation <chapter> --seeds ...``: the chapter re-executed in
        ci with 1 and 2 threads and with other seed sets. A declared ``tol`` smaller than the
        change between thread paths is an error (a re-run on another machine would fail).
        """
        from IPython.display import HTML

        remaking = os.environ.get("BOOK_VARIATION") == "1"  # this run is remaking the table
        if remaking and not Path(path).exists():
            return HTML("<p>(the variation table is being remade)</p>")
        rows = {(r["claim"], r["check"]): r for r in json.loads(Path(path).read_text())["checks"]}
        problems, body = [], ""
        for claim in self.claims.values():
            for c in claim.checks:
                r = rows.get((claim.id, c.name))
                if r is None:
                    problems.append(f"{claim.id}.{c.name} is not in {Path(path).name} (re-run the variation)")
                    continue
                td, sd = r.get("thread_delta"), r.get("seed_delta")
                if td is not None and td > c.tol:
                    problems.append(f"{claim.id}.{c.name}: tol {c.tol} < thread-path change {td}")
                verdicts = sorted(set(r.get("verdicts", {}).values()))
                body += (
                    f"<tr><td>{claim.id}</td><td>{_escape(c.name)}</td><td>{c.role}</td>"
                    f"<td>{format_value(c.tol)}</td><td>{format_value(td)}</td><td>{format_value(sd)}</td>"
                    f"<td>{_escape(', '.join(verdicts))}</td></tr>"
                )
        if problems and not remaking:
            raise ValueError("tolerances: " + "; ".join(problems))
        head = "".join(
            f"<th>{h}</th>"
            for h in ("Claim", "Check", "Role", "tol", "Δ threads 1↔2", "Δ seed sets", "Verdicts seen")
        )
        return HTML(
            f'<table class="claims-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def preregistration(self) -> Any:
        """The declared claims as a table (claim, kind, checks with thresholds, partial rule)."""
        from IPython.display import HTML

        return HTML(preregistration_html(self.as_json()))

    def table(self) -> Any:
        """The judged claims table; its display metadata carries the verdicts for the book checks."""
        from IPython.display import HTML, display

        rows = self.as_json()
        meta = {"rnnbook": {"claims": {c["id"]: c["verdict"] for c in rows}}}
        display(HTML(results_html(rows)), metadata=meta)

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
            "claims": self.as_json(),
        }
        out = Path(folder) if folder else results_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{ctx.chapter}.{ctx.profile}.json"
        atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")
        return path


# ----------------------------------------------------------------------------- rendering


def check_cell(c: Mapping[str, Any], with_value: bool = True) -> str:
    """One check in words: ``[control] name = 0.42 (rule ≥ 0.9, margin −0.48, fragile)``."""
    bits = []
    if c.get("op") is not None:
        bits.append(f"rule {OPS[c['op']]} {format_value(c.get('threshold'))}")
    if with_value and c.get("margin") is not None:
        bits.append(f"margin {format_value(c['margin'])}")
    if with_value and c.get("per_seed") is not None:
        bits.append(f"{c.get('over')} of {len(c['per_seed'])} seeds")
    if with_value and c.get("fragile"):
        bits.append("FRAGILE")
    head = f"[{c['role']}] {c['name']}"
    if with_value:
        head += f" = {format_value(c.get('value'))}"
        if c["role"] == CONTROL and c.get("passed") is not None:
            head += " (fails, as it must)" if not c["passed"] else " (PASSES: the test cannot tell)"
    elif c.get("what"):
        head += f": {c['what']}"
    return head + (f" ({', '.join(bits)})" if bits else "")


def preregistration_html(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("Claim", "Kind", "Checks (declared before the run)", "Partly if")
    )
    body = ""
    for c in rows:
        checks = "<br>".join(_escape(check_cell(k, with_value=False)) for k in c["checks"])
        if c.get("no_control_reason"):
            checks += "<br><i>no control: " + _escape(c["no_control_reason"]) + "</i>"
        partial = ", ".join(c["partial"]) or "–"
        body += (
            f"<tr><td><b>{_escape(c['id'])}</b>. {_escape(c['text'])}</td><td>{c['kind']}</td>"
            f"<td>{checks}</td><td>{_escape(partial)}</td></tr>"
        )
    return f'<table class="claims-table prereg"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def results_html(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("Claim", "Paper", "Checks: ours", "Verdict"))
    body = ""
    for c in rows:
        checks = "<br>".join(_escape(check_cell(k)) for k in c["checks"] if k.get("value") is not None)
        if c.get("note"):
            checks += ("<br>" if checks else "") + "<i>" + _escape(c["note"]) + "</i>"
        body += (
            f"<tr><td><b>{_escape(c['id'])}</b> ({c['kind']}). {_escape(c['text'])}</td>"
            f"<td>{_escape(format_value(c['paper']))}</td><td>{checks}</td>"
            f'<td class="verdict">{_badge(c["verdict"])}</td></tr>'
        )
    return f'<table class="claims-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ----------------------------------------------------------------------------- helpers


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


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_sequence(x: Any) -> bool:
    if isinstance(x, str | bytes | Mapping):
        return False
    if hasattr(x, "ndim"):  # numpy arrays and torch tensors: 0-d is a scalar
        return int(x.ndim) > 0
    return isinstance(x, Sequence)


def _plain(x: Any) -> Any:
    """Convert numpy/torch scalars and mappings into JSON-ready python values."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and callable(x.item):
        x = x.item()
    if isinstance(x, float):
        return float(f"{x:.6g}") if math.isfinite(x) else str(x)
    return x


def format_value(x: Any) -> str:
    """Short human-readable rendering of a value."""
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
    return html.escape(str(s), quote=False)


COLOURS = {
    REPRODUCED: "#1b7837",
    VERIFIED: "#2166ac",
    PARTLY: "#b35806",
    NOT_REPRODUCED: "#b2182b",
    INCONCLUSIVE: "#762a83",
    NOT_TESTABLE: "#4d4d4d",
    ILLUSTRATED: "#35978f",
    NOT_ILLUSTRATED: "#8c510a",
}


def _badge(verdict: str | None) -> str:
    colour = COLOURS.get(verdict or "", "#4d4d4d")
    return f'<span style="color:{colour};font-weight:bold">{_escape(verdict or "(not measured)")}</span>'
