"""``make bench``: how fast the library's fast paths are, against the plain loops they replace.

Introduced for issue 7 (fast experiments). One run measures, side by side:

1. batched vs looped training: ``S`` models trained as one stack by :func:`rnnbook.train.fit`
   vs the same ``S`` models trained one after the other (``S`` separate fits of one model, the
   same number of steps), at the ci sizes of A01 and on a bigger model, on the CPU and on a GPU
   when one is visible;
2. the parallel scan (:mod:`rnnbook.scan`) vs the sequential loop, ``L`` from 256 to 16384,
   diagonal and matrix form, forward and forward+backward;
3. every chapter's ci wall time (``results/*.ci.json``, key ``wall_s``).

Timing: one warm-up call, then ``repeats`` timed calls of each variant, interleaved (loop, fast,
fast, loop, ...) so that a change in machine load hits both; ``torch.cuda.synchronize`` around
every GPU call; Python's garbage collector paused while a call runs. Reported: median, min, max
and quartiles; speedup = median loop time / median fast time. CPU threads are set explicitly
(``--threads``, default 1 = the ci profile's ``BOOK_THREADS``), plus a 2-thread check of the
issue's "8 models on 2 CPU cores" target.

Writes ``results/bench.json`` and the book page ``book/performance.md`` with its figures
``book/figures/bench_training.png`` and ``book/figures/bench_scan.png``. ``--quick`` runs tiny
sizes (a smoke test, numbers meaningless) into ``_build/bench-quick/`` unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnbook import models, scan, tasks, train

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = 1
CI_BUDGET_S = 60  # the ci profile's budget per chapter (README: "at most a minute")

# A01's ci tasks T1..T4 (d = s = 4), cycled over the models of a stack: A01 trains seeds x tasks.
TASK_IDS: tuple[tuple[int, int, int], ...] = ((15, 0, 0), (33825, 6, 9), (33825, 0, 0), (33825, 5, 5))


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------


@dataclass
class ModelSize:
    """One training configuration: task sizes, network width, batch and output horizon."""

    name: str
    d: int
    s: int
    hidden: int
    batch: int
    horizon: int
    steps: dict[str, int]  # training steps per timed call, by device type


@dataclass
class Plan:
    """What one run measures."""

    quick: bool
    repeats: dict[str, int]
    sizes: list[ModelSize]
    stacks: list[int]
    thread_check: list[int]  # stack sizes re-measured with 2 CPU threads (A01 sizes)
    thread_check_steps: int
    lengths: list[int]
    diag: tuple[int, int]  # (batch, n) of the diagonal scan
    matrix: tuple[int, int]  # (batch, n) of the matrix scan
    passes: tuple[str, ...] = ("forward", "forward+backward")
    task_ids: tuple[tuple[int, int, int], ...] = field(default=TASK_IDS)
    profile: bool = True  # profile one CPU training step (S = first and last stack size)


def make_plan(quick: bool) -> Plan:
    if quick:
        tiny = ModelSize("tiny", d=2, s=2, hidden=8, batch=4, horizon=3, steps={"cpu": 1, "cuda": 1})
        return Plan(
            quick=True,
            repeats={"cpu": 1, "cuda": 1},
            sizes=[tiny],
            stacks=[1, 2],
            thread_check=[2],
            thread_check_steps=1,
            lengths=[16, 33],
            diag=(2, 3),
            matrix=(2, 2),
            task_ids=((3, 0, 0), (12, 0, 1)),
        )
    return Plan(
        quick=False,
        repeats={"cpu": 3, "cuda": 5},
        sizes=[
            ModelSize("A01 ci", d=4, s=4, hidden=64, batch=64, horizon=20, steps={"cpu": 3, "cuda": 5}),
            ModelSize("bigger", d=4, s=4, hidden=256, batch=64, horizon=20, steps={"cpu": 1, "cuda": 5}),
        ],
        stacks=[1, 4, 8, 16, 64],
        thread_check=[8],
        thread_check_steps=2,
        lengths=[256, 1024, 4096, 16384],
        diag=(4, 64),
        matrix=(4, 4),
    )


def configure_torch(threads: int) -> None:
    """The chapters' numerics policy (runtime.setup) and a deliberate CPU thread count."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn: Callable[[], object], dev: torch.device) -> float:
    """Wall time of one call, GPU work included, garbage collector paused (as in ``timeit``)."""
    gc.disable()
    try:
        sync(dev)
        t0 = time.perf_counter()
        fn()
        sync(dev)
        return time.perf_counter() - t0
    finally:
        gc.enable()


def summary(times: Sequence[float]) -> dict[str, Any]:
    q1, q3 = np.percentile(times, [25, 75]) if len(times) > 1 else (times[0], times[0])
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "q1_s": float(q1),
        "q3_s": float(q3),
        "repeats": len(times),
        "times_s": [round(t, 6) for t in times],
    }


def compare(
    loop: Callable[[], object],
    fast: Callable[[], object],
    dev: torch.device,
    repeats: int,
    warm: Sequence[Callable[[], object]] | None = None,
) -> dict[str, Any]:
    """Time ``loop`` and ``fast`` interleaved (order alternating per repeat); speedup = loop / fast."""
    for fn in (loop, fast) if warm is None else warm:
        fn()
    sync(dev)
    times: dict[str, list[float]] = {"loop": [], "fast": []}
    for r in range(repeats):
        order = (("loop", loop), ("fast", fast)) if r % 2 == 0 else (("fast", fast), ("loop", loop))
        for name, fn in order:
            times[name].append(timed(fn, dev))
    out = {name: summary(ts) for name, ts in times.items()}
    out["speedup"] = out["loop"]["median_s"] / out["fast"]["median_s"]
    return out


# --------------------------------------------------------------------------------------------
# (1) batched vs looped training
# --------------------------------------------------------------------------------------------


def training_case(
    size: ModelSize,
    S: int,
    dev: torch.device,
    plan: Plan,
    threads: int,
    steps: int | None = None,
    warm_loop: bool = True,
) -> dict[str, Any]:
    """``fit`` of one stack of ``S`` models vs ``S`` fits of one model each, same steps and data.

    ``warm_loop=False`` skips the loop's warm-up: its fits are those of ``S = 1``, already warm.
    """
    ids = [plan.task_ids[i % len(plan.task_ids)] for i in range(S)]
    F = tasks.operator_stack(ids, size.d, size.s)
    seeds = list(range(S))
    data_seeds = [1000 + i for i in seeds]
    stack = models.BatchedElmanRNN(size.d, size.hidden, seeds, device=dev)
    singles = [models.BatchedElmanRNN(size.d, size.hidden, [seed], device=dev) for seed in seeds]
    kw: dict[str, Any] = {"batch": size.batch, "horizons": (size.horizon,), "lr": 3e-3}  # A01's lr
    steps = steps or size.steps[dev.type]

    def batched(k: int = steps) -> None:
        train.fit(stack, F, size.d, size.s, data_seeds=data_seeds, steps=k, **kw)

    def looped(k: int = steps) -> None:
        for i, single in enumerate(singles):
            train.fit(single, F[i : i + 1], size.d, size.s, data_seeds=[data_seeds[i]], steps=k, **kw)

    torch.set_num_threads(threads)
    warm = (lambda: looped(1), lambda: batched(1)) if warm_loop else (lambda: batched(1),)
    res = compare(looped, batched, dev, plan.repeats[dev.type], warm=warm)
    return {
        "device": dev.type,
        "model": size.name,
        "d": size.d,
        "s": size.s,
        "hidden": size.hidden,
        "batch": size.batch,
        "horizon": size.horizon,
        "T": size.s + size.horizon,
        "S": S,
        "steps": steps,
        "threads": threads if dev.type == "cpu" else torch.get_num_threads(),
        **res,
    }


MATMUL_OPS = {"aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm", "aten::matmul"}
COPY_OPS = {
    "aten::copy_", "aten::_to_copy", "aten::clone", "aten::cat", "aten::stack", "aten::index",
    "aten::_index_put_impl_", "aten::index_put_", "aten::fill_", "aten::zero_", "aten::contiguous",
}  # fmt: skip
ELEMENTWISE_OPS = {
    "aten::mul", "aten::mul_", "aten::add", "aten::add_", "aten::sub", "aten::sub_", "aten::rsub",
    "aten::div", "aten::div_", "aten::sigmoid", "aten::tanh", "aten::pow", "aten::sqrt", "aten::addcmul_",
    "aten::addcmul", "aten::sign", "aten::eq", "aten::clamp", "aten::sum", "aten::where",
}  # fmt: skip


def profile_training(size: ModelSize, S: int, plan: Plan, threads: int, steps: int = 2) -> dict[str, Any]:
    """Where a CPU training step's time goes: aten op groups vs time outside ops (Python, dispatch).

    One stack of ``S`` models, ``steps`` steps under ``torch.profiler`` (after one warm-up step).
    Fractions are of the profiled wall time; the profiler adds some overhead to every op.
    """
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(threads)
    F = tasks.operator_stack([plan.task_ids[i % len(plan.task_ids)] for i in range(S)], size.d, size.s)
    model = models.BatchedElmanRNN(size.d, size.hidden, list(range(S)))
    kw: dict[str, Any] = {"batch": size.batch, "horizons": (size.horizon,), "data_seeds": list(range(S))}
    train.fit(model, F, size.d, size.s, steps=1, **kw)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        train.fit(model, F, size.d, size.s, steps=steps, **kw)
        wall = time.perf_counter() - t0
    groups = {"matmul": 0.0, "copies": 0.0, "elementwise": 0.0, "other ops": 0.0}
    n_ops = 0
    for ev in prof.key_averages():
        if not ev.key.startswith("aten::"):
            continue
        n_ops += ev.count
        key = (
            "matmul"
            if ev.key in MATMUL_OPS
            else "copies"
            if ev.key in COPY_OPS
            else "elementwise"
            if ev.key in ELEMENTWISE_OPS
            else "other ops"
        )
        groups[key] += ev.self_cpu_time_total / 1e6
    in_ops = sum(groups.values())
    fractions = {k: v / wall for k, v in groups.items()}
    fractions["outside ops (Python, dispatch)"] = max(0.0, 1 - in_ops / wall)
    return {
        "model": size.name,
        "hidden": size.hidden,
        "S": S,
        "threads": threads,
        "wall_ms_per_step": 1e3 * wall / steps,
        "aten_ops_per_step": n_ops / steps,
        "fractions": fractions,
    }


# --------------------------------------------------------------------------------------------
# (2) parallel scan vs sequential loop
# --------------------------------------------------------------------------------------------


def scan_inputs(
    form: str, L: int, batch: int, n: int, dev: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(L)
    b = torch.randn(batch, L, n, generator=g)
    if form == "diagonal":
        a = 0.5 + 0.5 * torch.rand(batch, L, n, generator=g)  # decays in (0.5, 1)
    else:
        a = torch.randn(batch, L, n, n, generator=g) / (2 * n**0.5)  # spectral radius about 1/2
    return a.to(dev), b.to(dev)


def scan_fn(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], a: torch.Tensor, b: torch.Tensor, pass_: str
) -> Callable[[], object]:
    if pass_ == "forward":

        def forward() -> object:
            with torch.no_grad():
                return fn(a, b)

        return forward
    a_, b_ = a.clone().requires_grad_(), b.clone().requires_grad_()

    def forward_backward() -> object:
        a_.grad = b_.grad = None
        fn(a_, b_).sum().backward()
        return a_.grad

    return forward_backward


def scan_case(form: str, pass_: str, L: int, dev: torch.device, plan: Plan, threads: int) -> dict[str, Any]:
    batch, n = plan.diag if form == "diagonal" else plan.matrix
    loop_fn, fast_fn = (
        (scan.sequential_scan, scan.parallel_scan)
        if form == "diagonal"
        else (scan.sequential_matrix_scan, scan.parallel_matrix_scan)
    )
    a, b = scan_inputs(form, L, batch, n, dev)
    loop, fast = scan_fn(loop_fn, a, b, pass_), scan_fn(fast_fn, a, b, pass_)
    # the loop needs no warm-up beyond the shorter lengths already run; a long one costs seconds
    warm = (loop, fast) if L <= 1024 else (fast,)
    torch.set_num_threads(threads)
    res = compare(loop, fast, dev, plan.repeats[dev.type], warm=warm)
    return {
        "device": dev.type,
        "form": form,
        "pass": pass_,
        "L": L,
        "batch": batch,
        "n": n,
        "dtype": "float32",
        "threads": threads if dev.type == "cpu" else torch.get_num_threads(),
        **res,
    }


# --------------------------------------------------------------------------------------------
# (3) chapter wall times
# --------------------------------------------------------------------------------------------


def chapter_times(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "results").glob("*.ci.json")):
        try:
            res = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if "wall_s" not in res:
            continue
        rows.append(
            {
                "chapter": res.get("chapter", path.name.split(".")[0]),
                "title": res.get("title", ""),
                "device": res.get("device", ""),
                "wall_s": float(res["wall_s"]),
                "file": f"results/{path.name}",
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# machine, targets
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def targets(result: dict[str, Any], plan: Plan) -> list[dict[str, Any]]:
    """The issue's four targets, each met / missed / not measured."""
    tr, sc = result["training"], result["scan"]
    small = plan.sizes[0].name
    out = []

    def verdict(values: list[float], threshold: float) -> bool | None:
        return None if not values else all(v >= threshold for v in values)

    # 1. batched >= 1.5x the loop for 8 models on 2 CPU cores
    rows = [r for r in tr if r["device"] == "cpu" and r["model"] == small and r["S"] == 8]
    two = [r for r in rows if r["threads"] == 2]
    out.append(
        {
            "target": "batched training >= 1.5x the loop, 8 models, 2 CPU cores",
            "threshold": 1.5,
            "measured": {f"{r['threads']} thread(s)": r["speedup"] for r in rows},
            "met": verdict([r["speedup"] for r in two], 1.5),
            "judged_on": "A01 ci sizes, 2 CPU threads",
        }
    )
    # 2. batched >= 10x the loop for 64 models on one GPU
    rows = [r for r in tr if r["device"] == "cuda" and r["model"] == small and r["S"] == 64]
    out.append(
        {
            "target": "batched training >= 10x the loop, 64 models, one GPU",
            "threshold": 10.0,
            "measured": {r["device"]: r["speedup"] for r in rows},
            "met": verdict([r["speedup"] for r in rows], 10.0),
            "judged_on": "A01 ci sizes",
        }
    )
    # 3./4. scan >= 5x at L = 4096 on CPU, >= 20x at L = 16384 on GPU (diagonal form)
    for dev, L, thr in (("cpu", 4096, 5.0), ("cuda", 16384, 20.0)):
        L_eff = L if not plan.quick else plan.lengths[-1]
        rows = [r for r in sc if r["device"] == dev and r["form"] == "diagonal" and r["L"] == L_eff]
        out.append(
            {
                "target": f"parallel scan >= {thr:g}x the loop at L = {L}, {'CPU' if dev == 'cpu' else 'GPU'}",
                "threshold": thr,
                "measured": {r["pass"]: r["speedup"] for r in rows},
                "met": verdict([r["speedup"] for r in rows], thr),
                "judged_on": "diagonal form, forward and forward+backward (both must meet it)",
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# figures and page
# --------------------------------------------------------------------------------------------


TARGET_MARKS = {  # (device, x, speedup) of the targets, drawn on the speedup panels
    "training": (("cpu", 8, 1.5), ("cuda", 64, 10.0)),
    "scan": (("cpu", 4096, 5.0), ("cuda", 16384, 20.0)),
}


def _log_axis(ax: Any, values: Sequence[int]) -> None:
    """Log x axis with a tick at every measured value, labelled plainly."""
    ax.set_xscale("log")
    ax.set_xticks(list(values), [str(v) for v in values])
    ax.minorticks_off()


def _speedup_panel(ax: Any, series: list[tuple[str, str, str, list[int], list[float]]], kind: str) -> None:
    for label, color, style, x, y in series:
        ax.plot(x, y, style, marker="o", ms=3, color=color, label=label)
    for dev, x, thr in TARGET_MARKS[kind]:
        if any(label.startswith(dev) for label, *_ in series):
            ax.plot([x], [thr], marker="*", ms=9, color="k", ls="none")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if lo <= t <= hi]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("speedup (loop / fast)")
    ax.set_title("speedup (star: target)")
    ax.legend(fontsize=7, handlelength=3)


def make_figures(result: dict[str, Any], fig_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnbook import plots

    plots.use_style()
    fig_dir.mkdir(parents=True, exist_ok=True)
    devices = [d["type"] for d in result["devices"]]
    main_threads = result["threads"]["cpu"]

    # training: ms per step against S, one panel per model size; then the speedups
    tr = [r for r in result["training"] if r["device"] != "cpu" or r["threads"] == main_threads]
    names = list(dict.fromkeys(r["model"] for r in tr))
    stacks = sorted({r["S"] for r in tr})
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.3 * (len(names) + 1), 3.0))
    series = []
    for k, name in enumerate(names):
        ax = axes[k]
        for j, dev in enumerate(devices):
            rows = [r for r in tr if r["model"] == name and r["device"] == dev]
            if not rows:
                continue
            S = [r["S"] for r in rows]
            for kind, style, label in (("loop", "--", "loop"), ("fast", "-", "batched")):
                med = [1e3 * r[kind]["median_s"] / r["steps"] for r in rows]
                lo = [1e3 * r[kind]["min_s"] / r["steps"] for r in rows]
                hi = [1e3 * r[kind]["max_s"] / r["steps"] for r in rows]
                ax.plot(S, med, style, marker="o", ms=3, color=f"C{j}", label=f"{dev}: {label}")
                ax.fill_between(S, lo, hi, color=f"C{j}", alpha=0.15, lw=0)
            series.append(
                (f"{dev}, {name}", f"C{j}", "-" if k == 0 else ":", S, [r["speedup"] for r in rows])
            )
        _log_axis(ax, stacks)
        ax.set_yscale("log")
        ax.set(xlabel="models S", ylabel="ms per training step", title=f"{name} (hidden {rows[0]['hidden']})")
        ax.legend(fontsize=7, handlelength=3)
    _speedup_panel(axes[-1], series, "training")
    _log_axis(axes[-1], stacks)
    axes[-1].set_xlabel("models S")
    fig.savefig(fig_dir / "bench_training.png")
    plt.close(fig)

    # scan: ms against L, one panel per form; then the speedups
    sc = result["scan"]
    forms = list(dict.fromkeys(r["form"] for r in sc))
    passes = result["plan"]["passes"]
    lengths = sorted({r["L"] for r in sc})
    fig, axes = plt.subplots(1, len(forms) + 1, figsize=(3.3 * (len(forms) + 1), 3.0))
    series = []
    for k, form in enumerate(forms):
        ax = axes[k]
        for j, dev in enumerate(devices):
            for p, pass_ in enumerate(passes):
                rows = [r for r in sc if r["form"] == form and r["device"] == dev and r["pass"] == pass_]
                if not rows:
                    continue
                L, color, tag = [r["L"] for r in rows], f"C{2 * j + p}", "fwd" if p == 0 else "fwd+bwd"
                for kind, style, label in (("loop", "--", "loop"), ("fast", "-", "scan")):
                    med = [1e3 * r[kind]["median_s"] for r in rows]
                    ax.plot(L, med, style, marker="o", ms=3, color=color, label=f"{dev} {tag}: {label}")
                series.append(
                    (
                        f"{dev} {form[:4]} {tag}",
                        color,
                        "-" if k == 0 else ":",
                        L,
                        [r["speedup"] for r in rows],
                    )
                )
        _log_axis(ax, lengths)
        ax.set_yscale("log")
        ax.set(
            xlabel="sequence length L",
            ylabel="ms",
            title=f"{form} (batch {rows[0]['batch']}, n {rows[0]['n']})",
        )
        ax.legend(fontsize=7, handlelength=3)
    _speedup_panel(axes[-1], series, "scan")
    _log_axis(axes[-1], lengths)
    axes[-1].set_xlabel("sequence length L")
    fig.savefig(fig_dir / "bench_scan.png")
    plt.close(fig)


def fmt_time(summ: dict[str, Any], per: int = 1) -> str:
    """``median (min-max)`` in a readable unit."""
    med, lo, hi = (summ[k] / per for k in ("median_s", "min_s", "max_s"))
    if med >= 1.0:
        return f"{med:.2f} s ({lo:.2f}–{hi:.2f})"

    def ms(x: float) -> str:
        return f"{1e3 * x:.3g}" if x < 1.0 else f"{1e3 * x:.0f}"

    return f"{ms(med)} ms ({ms(lo)}–{ms(hi)})"


def fmt_status(met: bool | None, dev: str) -> str:
    if met is None:
        return "not measured: no GPU in this run" if dev == "cuda" else "not measured"
    return "**met**" if met else "**missed**"


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def limits_section(result: dict[str, Any]) -> list[str]:
    """What limits the speedups, from this run's numbers and its CPU profile."""
    lines = ["## What limits the speedups", ""]
    main_threads = result["threads"]["cpu"]
    tr = [r for r in result["training"] if r["device"] == "cpu" and r["threads"] == main_threads]
    profs = result.get("profiles", [])
    if tr and len(profs) == 2:
        p1, pS = profs
        small = [r for r in tr if r["model"] == p1["model"]]
        largest = max(small, key=lambda r: r["S"])
        per_model = {
            k: 1e3 * largest[k]["median_s"] / largest["steps"] / largest["S"] for k in ("loop", "fast")
        }
        f1, fS = p1["fractions"], pS["fractions"]
        lines += [
            f"**Training.** One training step of one model ({p1['model']} sizes, CPU, {p1['threads']} thread)",
            f"took {p1['wall_ms_per_step']:.1f} ms under the profiler for {p1['aten_ops_per_step']:.0f} tensor",
            f"operations, {1e3 * p1['wall_ms_per_step'] / p1['aten_ops_per_step']:.0f} µs per operation on average:",
            f"{pct(f1['matmul'])} of the time in matrix products, {pct(f1['outside ops (Python, dispatch)'])}",
            "outside the operations (Python and dispatch), the rest in copies and elementwise work on",
            "small tensors. Stacking `S` models keeps the number of operations per step and makes",
            f"each one `S` times bigger: at `S = {largest['S']}` a training step costs",
            f"{per_model['fast']:.1f} ms per model batched against {per_model['loop']:.1f} ms per model in the",
            f"loop. At `S = {pS['S']}` the profile is {pct(fS['matmul'])} matrix products,",
            f"{pct(fS['copies'])} copies, {pct(fS['elementwise'])} elementwise and",
            f"{pct(fS['outside ops (Python, dispatch)'])} outside operations: the step is now bound by",
            "arithmetic (the recurrent products of the forward and backward passes) and memory",
            "traffic, which batching cannot remove, so the speedup grows much more slowly than `S`.",
        ]
        big = [r for r in tr if r["model"] != p1["model"]]
        if big:
            lines += [
                f"The {big[0]['model']} model (hidden {big[0]['hidden']}) is in that regime already at",
                "`S = 1`: each recurrent product is large enough to keep the core busy, so on a CPU",
                "batching cannot win much (speedups "
                + ", ".join(f"{r['speedup']:.2f}x" for r in big)
                + f" for `S` = {', '.join(str(r['S']) for r in big)}); on a GPU, whose many cores one small",
                "model leaves idle, it is expected to.",
            ]
        two = find(result["training"], device="cpu", model=p1["model"], threads=2)
        one = find(tr, model=p1["model"], S=two["S"]) if two else None
        if one and two:
            t1 = {k: 1e3 * one[k]["median_s"] / one["steps"] for k in ("loop", "fast")}
            t2 = {k: 1e3 * two[k]["median_s"] / two["steps"] for k in ("loop", "fast")}
            slower = t2["loop"] > t1["loop"] and t2["fast"] > t1["fast"]
            lines += [
                "",
                f"With 2 threads (`S = {two['S']}`) a step took {t2['loop']:.0f} ms in the loop and",
                f"{t2['fast']:.0f} ms batched, against {t1['loop']:.0f} and {t1['fast']:.0f} ms with one thread.",
            ]
            if slower:
                lines += [
                    "Both got slower on this machine: with other processes running, the second thread often",
                    "waits for a core, and OpenMP's threads synchronise at every parallel operation; the",
                    "loop, with many more operations per model, pays this more often, which is why its",
                    "2-thread speedup is the larger one. The ci profile runs chapters with one",
                    "thread each, two side by side on CI's two cores, so the 1-thread speedup is the one",
                    "chapters see.",
                ]
        lines.append("")
    sc = [r for r in result["scan"] if r["device"] == "cpu" and r["form"] == "diagonal"]
    if sc:
        fw = [r for r in sc if r["pass"] == "forward"]
        per_step = statistics.median(1e6 * r["loop"]["median_s"] / r["L"] for r in fw)
        longest = max(fw, key=lambda r: r["L"])
        mb = 4 * longest["batch"] * longest["L"] * longest["n"] / 2**20
        lines += [
            f"**Scan.** The forward loop pays a roughly constant {per_step:.0f} µs per time step on the CPU",
            "(a multiply and an add on a small tensor, and the Python around them; with gradients,",
            "autograd's record of each step on top), nearly whatever the width. The",
            "scan does the same O(L) arithmetic in `2 log2 L` rounds of whole-tensor operations, so its",
            "cost is the arithmetic and memory traffic itself: it wins by a large factor while the",
            f"tensors fit in the caches, and less once they do not (at `L = {longest['L']}` each tensor is",
            f"{mb:.1f} MB). Its backward pass is a second scan, so forward+backward keeps the advantage;",
            "the loop's backward replays one autograd node per step. The matrix form does `n^3` work",
            "per combine instead of the loop's `n^2`, which small `n` keeps cheap.",
            "",
        ]
    m = result["machine"]
    load = (m.get("load_average_start") or [0])[0]
    if m.get("cpu_count") and load > m["cpu_count"]:
        lines += [
            f"**Noise.** The load average was {load:g} on {m['cpu_count']} CPUs when this run started:",
            "other processes were running, so absolute times are inflated and vary between repeats,",
            "and the 2-thread rows suffer most (two OpenMP threads wait for each other at every",
            "operation while one of them is descheduled). Loop and fast variants were interleaved,",
            "so their ratio is more stable than either time.",
            "",
        ]
    return lines


def page(result: dict[str, Any]) -> str:
    m = result["machine"]
    cpu_threads = result["threads"]["cpu"]
    gpu = result["gpu"]
    lines = [
        "# Performance",
        "",
        "Executable books get slow. QuantEcon's lectures take 45–60 minutes to build on GPU runners,",
        "and Neuromatch Academy's course book about 3.5 hours on CPUs: most of that time goes into",
        "the same two patterns this book is full of, a Python loop over seeds (many small models",
        "trained one after another) and a Python loop over time steps (long linear recurrences).",
        "This page measures how much the library's two fast paths save over those loops, so that a",
        "chapter's ci run stays within its minute on 2 CPU cores:",
        "",
        "- **batched training** (`rnnbook.train.fit` on a `rnnbook.models.BatchedElmanRNN`):",
        "  `S` independent models (seeds x tasks) stacked",
        "  into one model, one forward and backward pass per step, with per-model losses, clipping,",
        "  curriculum and early stopping; against `S` separate fits of one model each, one after",
        "  the other, for the same number of steps on the same data;",
        "- **parallel scan** (`rnnbook.scan`): the linear recurrence `h_t = a_t * h_{t-1} + b_t`",
        "  (diagonal `a_t`, or small matrices `A_t`) computed in `2 log2(L)` rounds of whole-tensor",
        "  operations instead of `L` Python steps; later chapters (LSSL, Aaren, LightNet, pLSTM,",
        "  ParaRNN) build on it.",
        "",
        "Every number below comes from `results/bench.json`, written by `make bench` together with",
        "this page (do not edit it by hand). The page is regenerated whenever someone runs",
        "`make bench`; on a machine with a GPU it adds the GPU rows.",
        "",
    ]
    if result["quick"]:
        lines += [
            ":::{warning}",
            "This page was written by `bench.py --quick` (tiny sizes, one repeat): a smoke test,",
            "not a measurement. Run `make bench` for real numbers.",
            ":::",
            "",
        ]
    load = m.get("load_average_start"), m.get("load_average_end")
    lines += [
        "## This run",
        "",
        f"- date: {result['date']}",
        f"- machine: {m['cpu']} ({m['cpu_count']} logical CPUs, {m['platform']})",
        f"- GPU: {gpu if gpu else 'none (GPU rows: not measured: no GPU in this run)'}",
        f"- torch {result['torch']}, Python {result['python']}, float32",
        f"- CPU threads: {cpu_threads} for all CPU measurements (the ci profile's `BOOK_THREADS=1`:",
        "  CI runs two chapters side by side on its 2 cores), and 2 threads for the 2-core target",
        f"- repeats: {result['plan']['repeats']['cpu']} on CPU, {result['plan']['repeats']['cuda']} on GPU,",
        "  after one warm-up call; loop and fast variant interleaved; times are median (min–max)",
    ]
    if load[0] is not None:
        lines.append(
            f"- load average (1 min) at start and end: {load[0][0]:g} and {load[1][0]:g} on "
            f"{m['cpu_count']} CPUs; other processes share this machine, so the spread is real noise"
        )
    lines += ["", "## Targets", "", "| Target | Measured | Status |", "|---|---|---|"]
    for t in result["targets"]:
        measured = ", ".join(f"{v:.1f}x ({k})" for k, v in t["measured"].items()) or "–"
        dev = "cuda" if "GPU" in t["target"] else "cpu"
        lines.append(f"| {t['target']} | {measured} | {fmt_status(t['met'], dev)} |")
    lines += [
        "",
        "Judged on: " + "; ".join(f"{i + 1}. {t['judged_on']}" for i, t in enumerate(result["targets"])),
    ]
    lines.append("")

    # training
    lines += [
        "## Batched vs looped training",
        "",
        "A01's variable-binding tasks T1–T4 (`d = s = 4`) cycled over the models, Adam (lr 3e-3),",
        "one fixed output horizon and no early stopping (so both variants do the same steps), batch",
        "and sizes as listed (`T` = sequence length). *Loop*: `S` models",
        "trained one after the other, each by its own `fit` call; *batched*: one `fit` of the",
        "stack of `S`. Times are per training step (data generation, forward, backward, clipping,",
        "optimiser step; for the loop, the sum over its `S` models).",
        "",
        "![Training step time and speedup against the number of models](figures/bench_training.png)",
        "",
    ]
    for dev in [d["type"] for d in result["devices"]]:
        rows = [r for r in result["training"] if r["device"] == dev]
        if not rows:
            continue
        lines += [
            f"**{dev}** ({result['device_names'][dev]})",
            "",
            "| Model | hidden | batch | T | S | threads | steps | loop, per step | batched, per step | speedup |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['model']} | {r['hidden']} | {r['batch']} | {r['T']} | {r['S']} | {r['threads']} | "
                f"{r['steps']} | {fmt_time(r['loop'], r['steps'])} | {fmt_time(r['fast'], r['steps'])} | "
                f"{r['speedup']:.2f}x |"
            )
        lines.append("")
    if not gpu:
        lines += ["**cuda**: not measured: no GPU in this run.", ""]

    # scan
    lines += [
        "## Parallel scan vs sequential loop",
        "",
        "`rnnbook.scan.parallel_scan` (diagonal) and `parallel_matrix_scan` against",
        "`sequential_scan` / `sequential_matrix_scan` (one Python step per time step, autograd",
        "recording each), float32, zero initial state. *forward*: under `torch.no_grad()`;",
        "*forward+backward*: `h.sum().backward()` with respect to `a` and `b` (the scan's backward",
        "pass is itself a scan).",
        "",
        "![Scan time and speedup against sequence length](figures/bench_scan.png)",
        "",
    ]
    for dev in [d["type"] for d in result["devices"]]:
        rows = [r for r in result["scan"] if r["device"] == dev]
        if not rows:
            continue
        lines += [
            f"**{dev}** ({result['device_names'][dev]})",
            "",
            "| Form | pass | batch | n | L | loop | scan | speedup |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['form']} | {r['pass']} | {r['batch']} | {r['n']} | {r['L']} | {fmt_time(r['loop'])} | "
                f"{fmt_time(r['fast'])} | {r['speedup']:.1f}x |"
            )
        lines.append("")
    if not gpu:
        lines += ["**cuda**: not measured: no GPU in this run.", ""]

    lines += limits_section(result)

    # chapters
    lines += ["## Chapter run times (ci profile)", ""]
    chapters = result["chapters"]
    if chapters:
        lines += [
            "Wall time of each chapter's last execution in the ci profile (`wall_s` in",
            "`results/<chapter>.ci.json`, written by `make run CHAPTER=aNN PROFILE=ci`; one torch thread).",
            "The ci profile's budget is about a minute per chapter on 2 CPU cores.",
            "",
            "| Chapter | Title | Device | Wall time |",
            "|---|---|---|---|",
        ]
        for c in chapters:
            lines.append(f"| {c['chapter'].upper()} | {c['title']} | {c['device']} | {c['wall_s']:.0f} s |")
        total = sum(c["wall_s"] for c in chapters)
        lines += [f"| **total** | | | **{total:.0f} s** |", ""]
        over = [c for c in chapters if c["wall_s"] > CI_BUDGET_S]
        if over:
            names = ", ".join(f"{c['chapter'].upper()} ({c['wall_s']:.0f} s)" for c in over)
            lines += [f"Over the budget of {CI_BUDGET_S} s: {names}.", ""]
    else:
        lines += ["No chapter has a `results/*.ci.json` yet (run `make run CHAPTER=aNN PROFILE=ci`).", ""]

    lines += [
        "## Reproducing",
        "",
        "```bash",
        "make bench                         # CPU, and the GPU when one is visible",
        ".venv/bin/python bench/bench.py --quick --out /tmp/b   # smoke test: tiny sizes",
        "```",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def run(plan: Plan, threads: int, devices: list[torch.device], log: Callable[[str], None]) -> dict[str, Any]:
    configure_torch(threads)
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": plan.quick,
        "machine": {
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_start": load_average(),
        },
        "torch": torch.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "devices": [{"type": d.type, "name": describe(d, threads)} for d in devices],
        "device_names": {d.type: describe(d, threads) for d in devices},
        "gpu": next((describe(d, threads) for d in devices if d.type == "cuda"), None),
        "threads": {"cpu": threads, "thread_check": 2, "interop": torch.get_num_interop_threads()},
        "plan": {
            "repeats": plan.repeats,
            "stacks": plan.stacks,
            "lengths": plan.lengths,
            "passes": list(plan.passes),
            "sizes": [vars(s) for s in plan.sizes],
            "warmup": 1,
            "deterministic_algorithms": True,
            "tf32": False,
        },
        "training": [],
        "scan": [],
    }
    t_start = time.perf_counter()
    for dev in devices:
        for size in plan.sizes:
            for k, S in enumerate(plan.stacks):
                row = training_case(size, S, dev, plan, threads, warm_loop=k == 0)
                result["training"].append(row)
                log(f"train {dev.type} {size.name} S={S}: x{row['speedup']:.2f}")
            if dev.type == "cpu" and size is plan.sizes[0] and threads != 2:
                for S in plan.thread_check:
                    row = training_case(size, S, dev, plan, 2, steps=plan.thread_check_steps)
                    result["training"].append(row)
                    log(f"train {dev.type} {size.name} S={S} (2 threads): x{row['speedup']:.2f}")
                torch.set_num_threads(threads)
        for form in ("diagonal", "matrix"):
            for pass_ in plan.passes:
                for L in plan.lengths:
                    row = scan_case(form, pass_, L, dev, plan, threads)
                    result["scan"].append(row)
                    log(f"scan {dev.type} {form} {pass_} L={L}: x{row['speedup']:.1f}")
        if dev.type == "cpu" and plan.profile:
            size = plan.sizes[0]
            result["profiles"] = [
                profile_training(size, S, plan, threads) for S in (plan.stacks[0], plan.stacks[-1])
            ]
            torch.set_num_threads(threads)
            log("profiled " + ", ".join(f"S={p['S']}" for p in result["profiles"]))
    result["chapters"] = chapter_times(ROOT)
    result["machine"]["load_average_end"] = load_average()
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    result["targets"] = targets(result, plan)
    return result


def describe(dev: torch.device, threads: int) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"{cpu_model()}, {threads} thread(s) unless noted"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: a smoke test")
    parser.add_argument("--out", type=Path, default=None, help="write results/ and book/ under this folder")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as in ci)")
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU even when one is visible")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the page and figures from bench.json",
    )
    args = parser.parse_args(argv)
    out = args.out or (ROOT / "_build" / "bench-quick" if args.quick else ROOT)
    json_path, page_path = out / "results" / "bench.json", out / "book" / "performance.md"
    if args.render_only:  # chapter times are read, not measured: refresh them
        result = json.loads(json_path.read_text())
        result["chapters"] = chapter_times(ROOT)
        json_path.write_text(json.dumps(result, indent=2) + "\n")
    else:
        plan = make_plan(args.quick)
        devices = [torch.device("cpu")]
        if torch.cuda.is_available() and not args.cpu_only:
            devices.append(torch.device("cuda"))

        def log(msg: str) -> None:
            print(msg, flush=True)

        result = run(plan, args.threads, devices, log)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2) + "\n")
    page_path.parent.mkdir(parents=True, exist_ok=True)
    make_figures(result, page_path.parent / "figures")
    page_path.write_text(page(result))
    print(f"wrote {json_path}, {page_path} and its figures ({result['seconds']:.0f} s of measurements)")
    for t in result["targets"]:
        measured = ", ".join(f"{v:.2f}x ({k})" for k, v in t["measured"].items()) or "not measured"
        print(
            f"  {t['target']}: {measured} -> {fmt_status(t['met'], 'cuda' if 'GPU' in t['target'] else 'cpu')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
