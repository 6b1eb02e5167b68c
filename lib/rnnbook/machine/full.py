"""The full profile of one, several or all chapters: resumable, with an estimate before it starts.

A chapter whose ``results/<id>.full.json`` exists and is current (no input changed since the
run) is not run again, so an interrupted run resumes where it stopped. Each chapter runs through
:func:`rnnbook.machine.execute.run_chapter`, which replaces its notebook and results atomically,
whether the chapter ran here (``inline``), in a local worker process (``local``) or as a SLURM
job (``slurm``). The last two go through `submitit <https://github.com/facebookincubator/submitit>`_
(the ``cluster`` extra): one job per chapter, all submitted at once, on a shared file system.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnbook.machine.checks import stale_inputs
from rnnbook.machine.execute import resolve_profile, run_chapter
from rnnbook.machine.layout import Chapter, RunnerError, chapters, find_chapter

EXECUTORS = ("inline", "local", "slurm")
# Measured or estimated full-profile times for chapters that have no full results yet.
ESTIMATES = Path("data") / "full_profile_times.json"


def plan(root: Path, ids: Sequence[str]) -> tuple[list[Chapter], list[Chapter]]:
    """The chapters to run (no full results, or stale ones) and those already done."""
    chosen = [find_chapter(i, root) for i in ids] if ids else chapters(root)
    todo, done = [], []
    for ch in chosen:
        path = ch.results("full")
        current = path.exists() and not stale_inputs(json.loads(path.read_text()), ch)
        (done if current else todo).append(ch)
    return todo, done


def estimate(root: Path, ch: Chapter) -> tuple[float | None, str]:
    """Seconds a full run of ``ch`` is expected to take, and where that number comes from."""
    path = ch.results("full")
    if path.exists():
        res = json.loads(path.read_text())
        return float(res["wall_s"]), f"its last full run, {res.get('device', 'unknown device')}"
    table = root / ESTIMATES
    entry = json.loads(table.read_text()).get(ch.id) if table.exists() else None
    if isinstance(entry, dict):
        return float(entry["seconds"]), f"{entry['how']}, {entry['machine']}"
    return None, "no estimate: never run"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _job(root: str, chapter: str, timeout_s: int) -> dict[str, Any]:
    """One chapter's full run (a picklable top-level function for submitit workers)."""
    os.chdir(root)
    return run_chapter(find_chapter(chapter, Path(root)), "full", timeout_s)


def _summary(res: dict[str, Any]) -> str:
    verdicts = [c["verdict"] for c in res["claims"]]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
    return f"{res['wall_s']:.0f} s on {res['device']}: {counts}"


def run_full(
    root: Path,
    ids: Sequence[str] = (),
    executor: str = "inline",
    timeout_s: int = 4 * 3600,
    slurm: dict[str, Any] | None = None,
) -> int:
    """Run the full profile of ``ids`` (all chapters if empty); returns how many failed."""
    if executor not in EXECUTORS:
        raise RunnerError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if executor == "inline":
        resolve_profile("full")  # refuses a CPU-only machine unless BOOK_ALLOW_CPU_FULL=1
    todo, done = plan(root, ids)
    for ch in done:
        print(f"{ch.id}: results/{ch.id}.full.json is current; skipped", flush=True)
    if not todo:
        print("nothing to run: every chosen chapter has current full results")
        return 0
    estimates = {ch.id: estimate(root, ch) for ch in todo}
    for ch in todo:
        seconds, source = estimates[ch.id]
        shown = _minutes(seconds) if seconds is not None else "?"
        word = "at least" if source.startswith("lower bound") else "about"
        print(f"{ch.id}: {word} {shown} ({source})", flush=True)
    total = sum(seconds or 0.0 for seconds, _ in estimates.values())
    unknown = sum(seconds is None for seconds, _ in estimates.values())
    known = len(todo) - unknown
    line = f"{len(todo)} chapter(s) to run"
    if known:
        line += f", estimated {_minutes(total)} in sequence"
    if unknown:
        line += f"{' plus' if known else ','} {unknown} without an estimate"
    print(line, flush=True)
    failed = 0
    if executor == "inline":
        for ch in todo:
            t0 = time.perf_counter()
            try:
                res = run_chapter(ch, "full", timeout_s)
                print(f"[{ch.id}] done in {time.perf_counter() - t0:.0f} s: {_summary(res)}", flush=True)
            except RunnerError as err:
                failed += 1
                print(f"[{ch.id}] failed: {err}", flush=True)
        return failed
    try:
        import submitit
    except ImportError as err:
        raise RunnerError(f"executor {executor!r} needs submitit: pip install 'rnnbook[cluster]'") from err
    folder = root / "_build" / "submitit"
    ex = submitit.AutoExecutor(folder=folder, cluster=executor)
    ex.update_parameters(timeout_min=max(1, timeout_s // 60), name="rnnbook-full")
    if executor == "slurm":
        ex.update_parameters(**{"gpus_per_node": 1, "cpus_per_task": 8, **(slurm or {})})
    jobs = [(ch, ex.submit(_job, str(root), ch.id, timeout_s)) for ch in todo]
    for ch, job in jobs:
        print(f"{ch.id}: submitted as job {job.job_id} (logs in {folder.relative_to(root)})", flush=True)
    for ch, job in jobs:
        try:
            print(f"[{ch.id}] done: {_summary(job.result())}", flush=True)
        except Exception as err:  # a failed job re-raises its error here
            failed += 1
            last = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
            print(f"[{ch.id}] failed: {last}", flush=True)
    return failed
