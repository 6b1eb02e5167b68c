"""Execute a chapter: ``.py`` → notebook → papermill → stamped notebook and results.

Writes are atomic: the notebook and the results are executed into a scratch folder and moved
into place only when the whole chapter succeeded, so a failing or killed run leaves the
committed files byte-identical.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnnbook.claims import atomic_write_text
from rnnbook.machine.layout import PROFILES, Chapter, RunnerError
from rnnbook.machine.stamps import inputs_stamp, outputs_hash, results_hash, sha256_bytes

# glibc returns freed memory to the OS eagerly and page-faults it back on the next training
# step; with these thresholds (1 GiB) small-model training runs 1.3-1.6x faster (measured in A01).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}
# One instruction-set path on every x86-64 CPU: MKL (BLAS/LAPACK), ATen's vector kernels and
# oneDNN otherwise pick AVX-512 on Intel and AVX2 on AMD, and trained numbers drift apart.
CPU_ENV = {"MKL_CBWR": "AVX2,STRICT", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def to_notebook(ch: Chapter) -> Any:
    """Convert the ``.py`` source into a notebook (one way) with stable cell ids.

    A cell's id is derived from its source (plus a counter for identical cells), so ids
    survive re-execution and insertions elsewhere; only edited cells get new ids.
    """
    import jupytext

    nb = jupytext.read(ch.py)
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = sha256_bytes(f"{cell.cell_type}\0{cell.source}".encode())[:10]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    nb.metadata.pop("jupytext", None)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    return nb


def clean_executed(nb: Any) -> None:
    """Drop run-specific metadata (papermill timings, absolute paths) from an executed notebook."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = [t for t in cell.metadata.get("tags", []) if t != "papermill-error-cell-tag"]
        if "tags" in cell.metadata:
            cell.metadata["tags"] = tags


def _gpu_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return bool(torch.cuda.is_available())


def resolve_profile(profile: str | None) -> str:
    """``profile`` or ``$BOOK_PROFILE`` or the default; refuses ``full`` without a GPU."""
    value = (profile or os.environ.get("BOOK_PROFILE", "")).strip()
    if not value:
        value = "full" if _gpu_available() else "ci"
    if value not in PROFILES:
        raise RunnerError(f"unknown profile {value!r}; valid profiles: {', '.join(PROFILES)}")
    if value == "full" and not _gpu_available() and os.environ.get("BOOK_ALLOW_CPU_FULL") != "1":
        raise RunnerError(
            "profile 'full' needs a GPU and none is visible; use PROFILE=ci, "
            "or set BOOK_ALLOW_CPU_FULL=1 to run the full profile on the CPU anyway (slow)"
        )
    return value


def scratch_dir(root: Path) -> Path:
    path = root / "_build" / "runner"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _terminate_as_exit(signum: int, frame: Any) -> None:  # pragma: no cover - signal path
    raise SystemExit(128 + signum)


@contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    backup = dict(os.environ)
    try:
        os.environ.update(PYTHONHASHSEED="0", BOOK_PROGRESS="0", **MALLOC_ENV, **CPU_ENV, **extra)
        yield
    finally:
        os.environ.clear()
        os.environ.update(backup)


def execute(ch: Chapter, prof: str, scratch: Path, env: Mapping[str, str], timeout_s: int) -> tuple[Any, Any]:
    """Run the chapter into ``scratch``; return the executed notebook and its results dict."""
    import nbformat
    import papermill

    nb = to_notebook(ch)
    out_path = scratch / ch.ipynb.name
    with _environment({"BOOK_PROFILE": prof, "BOOK_RESULTS_DIR": str(scratch), **env}):
        try:
            papermill.execute_notebook(
                nb,
                str(out_path),
                cwd=str(ch.py.parent),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout_s,
            )
        except papermill.PapermillExecutionError as err:
            failed = scratch_dir(ch.root) / f"{ch.id}.failed.ipynb"
            if out_path.exists():
                shutil.copyfile(out_path, failed)
            source = nb.cells[err.cell_index].source.strip().splitlines()
            shown = "\n".join(f"    | {line}" for line in source[:6]) + (
                "\n    | ..." if len(source) > 6 else ""
            )
            message = err.evalue.strip().splitlines()[-1] if err.evalue and err.evalue.strip() else ""
            raise RunnerError(
                f"chapter {ch.id} failed in cell {err.cell_index} (execution count {err.exec_count}): "
                f"{err.ename}: {message}\n{shown}\n"
                f"  the failed notebook is kept at {failed.relative_to(ch.root)}; "
                f"the committed notebook and results are unchanged"
            ) from None
    result_file = scratch / f"{ch.id}.{prof}.json"
    if not result_file.exists():
        raise RunnerError(f"chapter {ch.id} ran but wrote no {result_file.name} (call report.write())")
    return nbformat.read(out_path, as_version=4), json.loads(result_file.read_text())


def _children_cpu_s() -> float:
    """User plus system CPU seconds of this process's finished children (the kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> float | None:
    """The one-minute load average, where the system reports one."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run_chapter(ch: Chapter, profile: str | None = None, timeout_s: int = 1800) -> dict[str, Any]:
    """Execute one chapter and, only if it succeeds, replace its notebook and results file.

    The notebook's metadata and the results file carry the same stamp: the hashes of the
    source, library and data the run read, of the outputs it produced, and of the results.

    A ci run replaces the chapter's notebook (the page). A full run writes its notebook beside
    its results, ``results/<id>.full.ipynb``, and leaves the page's ci notebook: the prose of a
    page is written around the sizes of the run it shows, and the chapter's box and the status
    page show the full verdicts from the results file.
    """
    import nbformat

    from rnnbook.machine.checks import notebook_problems

    prof = resolve_profile(profile)
    if not ch.py.exists():
        raise RunnerError(f"{ch.doc}.py is listed in _toc.yml but does not exist")
    scratch = Path(tempfile.mkdtemp(prefix=f"run-{ch.id}-", dir=scratch_dir(ch.root)))
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    try:
        print(f"running {ch.id} ({ch.doc}.py) in profile {prof} ...", flush=True)
        t0, cpu0, load0 = time.perf_counter(), _children_cpu_s(), _load()
        env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        executed, results = execute(ch, prof, scratch, env, timeout_s)
        wall = round(time.perf_counter() - t0, 1)
        clean_executed(executed)
        results["wall_s"] = wall
        # CPU time of the kernel (a reaped child process) and the load around the run: a wall
        # time measured on a busy machine is read beside them.
        results["cpu_s"] = round(_children_cpu_s() - cpu0, 1)
        results["load"] = {"before": load0, "after": _load()}
        results["date"] = time.strftime("%Y-%m-%d", time.gmtime())  # UTC day of the run
        stamp = {**inputs_stamp(ch.root, ch), "outputs_sha256": outputs_hash(executed)}
        results["stamp"] = stamp
        results["stamp"]["results_sha256"] = results_hash(results)
        executed.metadata["book"] = {
            "chapter": ch.id,
            "profile": prof,
            "device": results.get("device"),
            "torch": results.get("torch"),
            "seeds": results.get("seeds"),
            "wall_s": wall,
            **results["stamp"],
        }
        problems = notebook_problems(executed, ch, results=results, check_stamp=False)
        if problems:
            failed = scratch_dir(ch.root) / f"{ch.id}.failed.ipynb"
            atomic_write_text(failed, nbformat.writes(executed) + "\n")
            raise RunnerError(
                f"chapter {ch.id} executed but is not publishable: {problems[0]}\n"
                f"  the executed notebook is kept at {failed.relative_to(ch.root)}; "
                "the committed notebook and results are unchanged"
            )
        ch.results(prof).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(ch.results(prof), json.dumps(results, indent=2) + "\n")
        notebook = ch.ipynb if prof == "ci" else ch.results(prof).with_suffix(".ipynb")
        atomic_write_text(notebook, nbformat.writes(executed) + "\n")
        print(f"{ch.id}: {wall} s, profile {prof}, device {results.get('device')}", flush=True)
        for c in results["claims"]:
            print(f"  {c['id']} ({c['kind']}): {c['verdict']}")
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def variation(ch: Chapter, seed_sets: Sequence[str], threads: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Execute ``ch`` in ci under several thread counts and seed sets; tabulate every check.

    Nothing committed changes except ``data/<id>_variation.json``, which the chapter shows with
    :meth:`rnnbook.claims.Report.tolerances`: per check, the value of every run, the largest
    change between thread paths (same seeds) and between seed sets, from which a chapter
    derives its ``tol``. Runs already in the table and not repeated are kept.
    """
    # BOOK_VARIATION tells Report.tolerances not to judge the table being remade; a passive
    # OpenMP wait keeps a 2-thread run from spinning for many minutes on a busy machine (it does
    # not change the numbers).
    base = {"MPLBACKEND": "agg", "BOOK_VARIATION": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    variants = [(f"threads={t}", {**base, "BOOK_THREADS": str(t)}) for t in threads]
    variants += [(f"seeds={s}", {**base, "BOOK_SEEDS": s, "BOOK_THREADS": "1"}) for s in seed_sets]
    runs: dict[str, dict[str, Any]] = {}
    for label, extra in variants:
        scratch = Path(tempfile.mkdtemp(prefix=f"var-{ch.id}-", dir=scratch_dir(ch.root)))
        try:
            t0 = time.perf_counter()
            _, runs[label] = execute(ch, "ci", scratch, extra, 1800)
            print(f"{ch.id} {label}: {time.perf_counter() - t0:.0f} s", flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    path = ch.root / "data" / f"{ch.id}_variation.json"
    old = json.loads(path.read_text()) if path.exists() else {"checks": [], "seed_sets": [], "threads": []}
    # Runs not repeated this time are kept from the previous table (e.g. re-measure only the
    # thread paths on a quiet machine and keep the seed sets).
    kept = {(r["claim"], r["check"]): r for r in old["checks"]}
    seed_sets = list(dict.fromkeys([*old.get("seed_sets", []), *seed_sets]))
    threads = sorted({*old.get("threads", []), *threads})
    thread_labels = [f"threads={t}" for t in threads]
    seed_labels = [thread_labels[0]] + [f"seeds={s}" for s in seed_sets]
    table: list[dict[str, Any]] = []
    for claim in next(iter(runs.values()))["claims"]:
        for check in claim.get("checks", []):
            prev = kept.get((claim["id"], check["name"]), {})
            values, verdicts = dict(prev.get("values", {})), dict(prev.get("verdicts", {}))
            for label, res in runs.items():
                c = next(c for c in res["claims"] if c["id"] == claim["id"])
                verdicts[label] = c["verdict"]
                values[label] = next((k["value"] for k in c["checks"] if k["name"] == check["name"]), None)
            table.append(
                {
                    "claim": claim["id"],
                    "check": check["name"],
                    "role": check["role"],
                    "values": values,
                    "verdicts": verdicts,
                    "thread_delta": _spread(values, thread_labels),
                    "seed_delta": _spread(values, seed_labels),
                }
            )
    payload = {"chapter": ch.id, "seed_sets": list(seed_sets), "threads": list(threads), "checks": table}
    atomic_write_text(ch.root / "data" / f"{ch.id}_variation.json", json.dumps(payload, indent=1) + "\n")
    for row in table:
        vals = ", ".join(f"{k}: {v}" for k, v in row["values"].items())
        print(
            f"{row['claim']} {row['check']} [{row['role']}] thread Δ {row['thread_delta']}, "
            f"seed Δ {row['seed_delta']} | {vals}"
        )
    return {"runs": runs, "table": table}


def _spread(values: Mapping[str, Any], labels: Sequence[str]) -> float | None:
    xs = [
        values[k]
        for k in labels
        if isinstance(values.get(k), int | float) and not isinstance(values[k], bool)
    ]
    return float(f"{max(xs) - min(xs):.6g}") if len(xs) > 1 else None
