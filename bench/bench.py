"""``make bench``: the library's fast paths against what a user would pick instead, and the machine.

Introduced for issue 7 (fast experiments); rewritten for issue 18 (peers, the physical limit,
honest timing, growth). One run measures, side by side:

1. **the machine's limit**: memory bandwidth (STREAM-like copy ``z = x`` and triad
   ``z = y + s x`` in torch on arrays far larger than the caches) and the float32 matmul rate,
   with 1 and 2 CPU threads (and on a GPU when one is visible);
2. **the diagonal scan** ``h_t = a_t h_{t-1} + b_t`` (:func:`rnnbook.scan.parallel_scan`, the
   default) against its peers: the Python loop, a TorchScript loop, the closed form in log space
   (:func:`rnnbook.scan.log_scan`, Heinsen 2023), the odd-even scan compiled by
   ``torch.compile`` (:func:`rnnbook.scan.compiled_scan`) and PyTorch's own
   ``torch._higher_order_ops.associative_scan``; forward and forward+backward, ``L`` from 256
   to 16384; achieved bytes per second as a fraction of the triad bandwidth;
3. **the matrix-state scan** (:func:`rnnbook.scan.parallel_matrix_scan`) against the loop, a
   TorchScript loop and ``associative_scan``;
4. **training ``S`` small models at once**: ``rnnbook``'s batched model
   (:class:`rnnbook.models.BatchedElmanRNN` + :func:`rnnbook.train.fit`, as A01 uses it)
   against PyTorch's ensembling recipe (``torch.func.stack_module_state`` +
   ``vmap(functional_call)``) and against one ``torch.compile``-d model trained ``S`` times in
   a loop; A01's sizes, growing ``S`` and growing width;
5. every chapter's ci wall time (``results/*.ci.json``, key ``wall_s``).

Timing: every variant of a row is called once untimed (its first call, compilation included,
is recorded), then ``repeats`` rounds in which all variants run once each, in an order that
rotates and reverses from round to round, so that a change in machine load hits all of them;
Python's garbage collector paused during a call; ``torch.cuda.synchronize`` around GPU calls.
Reported: median with min and max; a row whose slowest/fastest repeat of any variant exceeds
1.5 is flagged noisy and kept out of the targets. The thread count is set for each row and
recorded with it; the load average is recorded before and after.

Writes ``results/bench.json`` and the book page ``book/performance.md`` with its figures
(``book/figures/bench_*.png``). ``--quick`` runs tiny sizes with one repeat (every code path, a
smoke test, numbers meaningless) into ``_build/bench-quick/`` unless ``--out`` is given.
``--render-only`` rewrites the page and figures from an existing ``bench.json``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnbook import models, scan, tasks, train

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402  (bench/report.py: the page and figures)

SCHEMA = 2
NOISY = 1.5  # a row is noisy when some variant's max/min over repeats exceeds this

# A01's ci tasks T1..T4 (d = s = 4), cycled over the models of a stack: A01 trains seeds x tasks.
TASK_IDS: tuple[tuple[int, int, int], ...] = ((15, 0, 0), (33825, 6, 9), (33825, 0, 0), (33825, 5, 5))

DEFAULT = {"diagonal": "parallel_scan", "matrix": "parallel_matrix_scan", "training": "batched (rnnbook)"}


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------


@dataclass
class TrainCase:
    """One training configuration: ``S`` models of width ``hidden`` on A01's task sizes."""

    group: str  # "S" (growing S at A01's width), "hidden" (growing width), "bigger"
    hidden: int
    S: int
    threads: int = 1


@dataclass
class Plan:
    """What one run measures."""

    quick: bool
    repeats: int
    threads: tuple[int, ...]  # thread counts of the machine-limit rows
    stream_n: int  # float32 elements per STREAM array
    matmul_n: int
    lengths: list[int]  # diagonal scan
    compiled_lengths: list[int]  # lengths at which the compiled scan runs (one compile each)
    diag: tuple[int, int]  # (batch, n)
    matrix_lengths: list[int]
    matrix: tuple[int, int]  # (batch, n)
    scan_two_threads: list[int]  # diagonal lengths re-measured with 2 threads (forward)
    d: int = 4
    s: int = 4
    batch: int = 64
    horizon: int = 20
    train_steps: int = 1
    train_cases: list[TrainCase] = field(default_factory=list)
    task_ids: tuple[tuple[int, int, int], ...] = field(default=TASK_IDS)
    passes: tuple[str, ...] = ("forward", "forward+backward")
    min_sample_s: float = 0.0  # a timed sample lasts at least this long (several calls if short)


def make_plan(quick: bool) -> Plan:
    if quick:
        return Plan(
            quick=True,
            repeats=1,
            threads=(1, 2),
            stream_n=1 << 16,
            matmul_n=64,
            lengths=[16, 33],
            compiled_lengths=[16],
            diag=(2, 3),
            matrix_lengths=[16, 33],
            matrix=(2, 2),
            scan_two_threads=[33],
            d=2,
            s=2,
            batch=4,
            horizon=3,
            train_cases=[
                TrainCase("S", 8, 1),
                TrainCase("S", 8, 2),
                TrainCase("hidden", 12, 2),
                TrainCase("bigger", 16, 2),
                TrainCase("S", 8, 2, threads=2),
            ],
            task_ids=((3, 0, 0), (12, 0, 1)),
        )
    return Plan(
        quick=False,
        repeats=5,
        min_sample_s=0.02,
        threads=(1, 2),
        stream_n=1 << 24,  # 64 MiB per array
        matmul_n=1024,
        lengths=[256, 1024, 4096, 16384],
        compiled_lengths=[256, 1024, 4096, 16384],
        diag=(4, 64),
        matrix_lengths=[256, 1024, 4096],
        matrix=(4, 4),
        scan_two_threads=[16384],
        train_cases=[
            *(TrainCase("S", 64, S) for S in (1, 4, 16, 64)),
            *(TrainCase("hidden", h, 16) for h in (32, 128, 256)),
            TrainCase("bigger", 256, 4),
            TrainCase("S", 64, 16, threads=2),
        ],
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
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "spread": max(times) / min(times) if min(times) > 0 else math.inf,
        "repeats": len(times),
        "times_s": [round(t, 7) for t in times],
    }


def repeated(fn: Callable[[], object], number: int) -> Callable[[], object]:
    if number == 1:
        return fn

    def calls() -> object:
        for _ in range(number):
            fn()
        return None

    return calls


def measure(
    variants: dict[str, Callable[[], object]],
    dev: torch.device,
    repeats: int,
    threads: int,
    min_sample_s: float = 0.0,
) -> dict[str, Any]:
    """Time every variant, interleaved; a variant whose first call raises is 'cannot run here'.

    A sample is the mean of ``number`` back-to-back calls, ``number`` chosen (from a second,
    warm call) so that a sample lasts at least ``min_sample_s``: short calls are otherwise at
    the mercy of single scheduler ticks (as ``timeit`` does).

    Returns ``{"variants": {name: summary | {"status": "cannot run here", "reason": ...}},
    "noisy": bool, "threads": threads}``.
    """
    torch.set_num_threads(threads)
    first: dict[str, float] = {}
    number: dict[str, int] = {}
    failed: dict[str, str] = {}
    for name, fn in variants.items():
        try:
            first[name] = timed(fn, dev)
            warm = timed(fn, dev) if min_sample_s > 0 else min_sample_s
            number[name] = max(1, min(100, math.ceil(min_sample_s / warm))) if warm > 0 else 1
        except Exception as err:  # a peer that this torch/device cannot run
            failed[name] = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:240]}"
    live = [name for name in variants if name not in failed]
    samples = {name: repeated(variants[name], number[name]) for name in live}
    times: dict[str, list[float]] = {name: [] for name in live}
    for r in range(repeats):
        k = (r // 2) % max(1, len(live))  # rotate every other round, reverse in between
        order = live[k:] + live[:k]
        if r % 2:
            order = order[::-1]
        for name in order:
            times[name].append(timed(samples[name], dev) / number[name])
    out: dict[str, Any] = {}
    for name in variants:
        if name in failed:
            out[name] = {"status": "cannot run here", "reason": failed[name]}
        else:
            out[name] = {
                **summary(times[name]),
                "first_call_s": first[name],
                "calls_per_sample": number[name],
            }
    spreads = [v["spread"] for v in out.values() if "spread" in v]
    return {"variants": out, "noisy": bool(spreads) and max(spreads) > NOISY, "threads": threads}


def ratios(row: dict[str, Any], default: str) -> None:
    """Add ``vs_default`` to every variant: its median over the default's (> 1: default faster)."""
    base = row["variants"][default]["median_s"]
    for v in row["variants"].values():
        if "median_s" in v:
            v["vs_default"] = v["median_s"] / base


def best_peer(row: dict[str, Any], default: str, exclude: Sequence[str] = ()) -> tuple[str, float] | None:
    """The fastest variant other than the default: (name, its median / the default's median)."""
    peers = [
        (name, v["vs_default"])
        for name, v in row["variants"].items()
        if name != default and name not in exclude and "vs_default" in v
    ]
    return min(peers, key=lambda p: p[1]) if peers else None


# --------------------------------------------------------------------------------------------
# (1) the machine's limit
# --------------------------------------------------------------------------------------------


def machine_limits(plan: Plan, dev: torch.device) -> list[dict[str, Any]]:
    """STREAM-like copy and triad bandwidth, and the float32 matmul rate, per thread count."""
    rows = []
    n = plan.stream_n
    x, y, z = (torch.rand(n, device=dev) for _ in range(3))
    m = plan.matmul_n
    A, B = torch.rand(m, m, device=dev), torch.rand(m, m, device=dev)
    C = torch.empty(m, m, device=dev)
    for threads in plan.threads if dev.type == "cpu" else (torch.get_num_threads(),):
        res = measure(
            {
                "copy": lambda: z.copy_(x),
                "triad": lambda: torch.add(y, x, alpha=3.0, out=z),
                "matmul": lambda: torch.mm(A, B, out=C),
            },
            dev,
            max(plan.repeats, 3) + 2,
            threads,
        )
        v = res["variants"]
        # bandwidth from the median and from the fastest repeat (the latter: least disturbed)
        bw = {
            k: {
                "bytes": nbytes,
                "GBps_median": nbytes / v[k]["median_s"] / 1e9,
                "GBps_best": nbytes / v[k]["min_s"] / 1e9,
            }
            for k, nbytes in (("copy", 8 * n), ("triad", 12 * n))
        }
        flops = 2 * m**3
        rows.append(
            {
                "device": dev.type,
                "threads": threads,
                "stream_elements": n,
                "matmul_n": m,
                **bw,
                "matmul": {
                    "GFLOPs_median": flops / v["matmul"]["median_s"] / 1e9,
                    "GFLOPs_best": flops / v["matmul"]["min_s"] / 1e9,
                },
                "noisy": res["noisy"],
                "timing": v,
            }
        )
    return rows


def bandwidth(limits: list[dict[str, Any]], dev: str, threads: int) -> float | None:
    """Triad bandwidth (bytes/s) of this device at this thread count, from the median repeat:
    the same statistic as the scans' achieved rates, so that load on the machine affects both."""
    for r in limits:
        if r["device"] == dev and (dev != "cpu" or r["threads"] == threads):
            return r["triad"]["GBps_median"] * 1e9
    return None


# --------------------------------------------------------------------------------------------
# (2, 3) scans
# --------------------------------------------------------------------------------------------


def _diag_loop_ts(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    h = torch.zeros_like(b[:, 0])
    hs: list[torch.Tensor] = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):  # noqa: B905 (TorchScript has no strict=)
        h = a_t * h + b_t
        hs.append(h)
    return torch.stack(hs, 1)


def _matrix_loop_ts(A: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    h = torch.zeros_like(b[:, 0])
    hs: list[torch.Tensor] = []
    for A_t, b_t in zip(A.unbind(1), b.unbind(1)):  # noqa: B905 (TorchScript has no strict=)
        h = torch.matmul(A_t, h.unsqueeze(-1)).squeeze(-1) + b_t
        hs.append(h)
    return torch.stack(hs, 1)


_SCRIPTED: dict[str, Any] = {}


def scripted(name: str) -> Any:
    """A TorchScript-compiled sequential loop (the loop runs in TorchScript's interpreter)."""
    if name not in _SCRIPTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _SCRIPTED[name] = torch.jit.script(_diag_loop_ts if name == "diagonal" else _matrix_loop_ts)
    return _SCRIPTED[name]


def _diag_combine(x: tuple[torch.Tensor, ...], y: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    (a1, b1), (a2, b2) = x, y
    return a2 * a1, a2 * b1 + b2


def _matrix_combine(x: tuple[torch.Tensor, ...], y: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    (A1, b1), (A2, b2) = x, y
    return A2 @ A1, (A2 @ b1.unsqueeze(-1)).squeeze(-1) + b2


def torch_associative_scan(form: str, mode: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``torch._higher_order_ops.associative_scan`` over (a, b) pairs, time axis 1.

    ``mode``: ``"generic"`` (runs anywhere) or ``"pointwise"`` (a generated kernel; PyTorch
    allows it on CUDA and XPU only, so on the CPU this peer reports why it cannot run).
    """

    def run(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        from torch._higher_order_ops.associative_scan import associative_scan

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comb = _diag_combine if form == "diagonal" else _matrix_combine
            return associative_scan(comb, (a, b), dim=1, combine_mode=mode)[1]

    return run


def scan_variants(
    form: str, compiled: bool
) -> dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    if form == "diagonal":
        out: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
            "parallel_scan": scan.parallel_scan,
            "Python loop": scan.sequential_scan,
            "TorchScript loop": lambda a, b: scripted("diagonal")(a, b),
            "log space (Heinsen)": scan.log_scan,
        }
        if compiled:
            out["compiled_scan"] = scan.compiled_scan
    else:
        out = {
            "parallel_matrix_scan": scan.parallel_matrix_scan,
            "Python loop": scan.sequential_matrix_scan,
            "TorchScript loop": lambda a, b: scripted("matrix")(a, b),
        }
    out["torch associative_scan (generic)"] = torch_associative_scan(form, "generic")
    if form == "diagonal":  # a matrix product is not pointwise
        out["torch associative_scan (pointwise)"] = torch_associative_scan(form, "pointwise")
    return out


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


def scan_call(
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


def min_bytes(form: str, pass_: str, batch: int, L: int, n: int) -> int:
    """The least memory traffic of the computation: every input read once, every output written
    once (float32). Forward: read ``a``, ``b``, write ``h``. Backward adds: read ``dL/dh``, ``a``
    and ``h``, write ``dL/da`` and ``dL/db``."""
    a_size = n if form == "diagonal" else n * n
    fwd = a_size + 2 * n
    bwd = (a_size + 2 * n) + (a_size + n)
    return 4 * batch * L * (fwd + (bwd if pass_ == "forward+backward" else 0))


def scan_errors(
    form: str, a: torch.Tensor, b: torch.Tensor, variants: dict[str, Any]
) -> dict[str, float | None]:
    """Each variant's forward error against the float64 loop, relative to max |h|."""
    ref_fn = scan.sequential_scan if form == "diagonal" else scan.sequential_matrix_scan
    with torch.no_grad():
        ref = ref_fn(a.double(), b.double())
        scale = float(ref.abs().max())
        out: dict[str, float | None] = {}
        for name, fn in variants.items():
            try:
                out[name] = float((fn(a, b).double() - ref).abs().max()) / scale
            except Exception:
                out[name] = None
    return out


def scan_row(
    form: str, pass_: str, L: int, dev: torch.device, plan: Plan, threads: int, limits: list[dict[str, Any]]
) -> dict[str, Any]:
    batch, n = plan.diag if form == "diagonal" else plan.matrix
    a, b = scan_inputs(form, L, batch, n, dev)
    compiled = L in plan.compiled_lengths
    fns = scan_variants(form, compiled)
    calls = {k: scan_call(fn, a, b, pass_) for k, fn in fns.items()}
    res = measure(calls, dev, plan.repeats, threads, plan.min_sample_s)
    row = {
        "device": dev.type,
        "form": form,
        "pass": pass_,
        "L": L,
        "batch": batch,
        "n": n,
        "dtype": "float32",
        **res,
    }
    default = DEFAULT[form]
    if "median_s" in row["variants"][default]:
        ratios(row, default)
    nbytes = min_bytes(form, pass_, batch, L, n)
    bw = bandwidth(limits, dev.type, threads)
    row["min_bytes"] = nbytes
    row["bandwidth_Bps"] = bw
    for v in row["variants"].values():
        if "median_s" in v:
            v["achieved_Bps"] = nbytes / v["median_s"]
            v["bound_fraction"] = nbytes / v["median_s"] / bw if bw else None
    if pass_ == "forward" and threads == 1:
        errors = scan_errors(form, a, b, fns)
        for name, err in errors.items():
            row["variants"][name]["rel_error_vs_float64"] = err
    return row


# --------------------------------------------------------------------------------------------
# (4) training S models at once
# --------------------------------------------------------------------------------------------


class Elman(torch.nn.Module):
    """One bias-free tanh Elman RNN with a linear readout, written as a user would for
    ``torch.func`` (an explicit loop over time); same weights as model ``i`` of a
    :class:`~rnnbook.models.BatchedElmanRNN`."""

    def __init__(self, W_ih: torch.Tensor, W_hh: torch.Tensor, W_hy: torch.Tensor) -> None:
        super().__init__()
        self.W_ih = torch.nn.Parameter(W_ih.detach().clone())
        self.W_hh = torch.nn.Parameter(W_hh.detach().clone())
        self.W_hy = torch.nn.Parameter(W_hy.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return elman_forward(self.W_ih, self.W_hh, self.W_hy, x)


def elman_forward(
    W_ih: torch.Tensor, W_hh: torch.Tensor, W_hy: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    U = x @ W_ih.T  # (B, T, h)
    h = U.new_zeros(U.shape[0], U.shape[2])
    hs = []
    for t in range(U.shape[1]):
        h = torch.tanh(U[:, t] + h @ W_hh.T)
        hs.append(h)
    return torch.stack(hs, 1) @ W_hy.T


def masked_mse(o: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask[None, :, None].to(o.dtype)
    return ((o - y).pow(2) * m).sum() / (m.sum() * o.shape[0] * o.shape[2])


def single_loss(
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    W_hy: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    return masked_mse(elman_forward(W_ih, W_hh, W_hy, x), y, mask)


_COMPILED_LOSS: list[Any] = []


def compiled_single_loss() -> Any:
    if not _COMPILED_LOSS:
        _COMPILED_LOSS.append(torch.compile(single_loss, dynamic=True))  # one compile for all sizes
    return _COMPILED_LOSS[0]


def training_row(case: TrainCase, dev: torch.device, plan: Plan) -> dict[str, Any]:
    """One training step (data, forward, backward, per-model clipping, Adam) of ``S`` models,
    three ways, on the same data and from the same weights."""
    d, s, S, hidden = plan.d, plan.s, case.S, case.hidden
    ids = [plan.task_ids[i % len(plan.task_ids)] for i in range(S)]
    F = tasks.operator_stack(ids, d, s)
    seeds = list(range(S))
    data_seeds = [1000 + i for i in seeds]
    lr, steps = 3e-3, plan.train_steps  # A01's learning rate
    kw: dict[str, Any] = {"batch": plan.batch, "horizons": (plan.horizon,), "lr": lr}

    stack = models.BatchedElmanRNN(d, hidden, seeds, device=dev)

    def batched() -> None:
        train.fit(stack, F, d, s, data_seeds=data_seeds, steps=steps, **kw)

    gens = [torch.Generator().manual_seed(k) for k in data_seeds]

    def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return tasks.variable_binding_batch(F, d, s, [plan.horizon] * S, plan.batch, gens, device=dev)

    # the ensembling recipe of torch.func: stack the modules' parameters, vmap a functional call
    singles = [
        Elman(stack.W_ih[i], stack.W_hh[i], stack.W_hy[i]) for i in range(S)
    ]  # fmt: skip
    params, buffers = torch.func.stack_module_state(singles)
    base = copy.deepcopy(singles[0]).to("meta")
    vparams = list(params.values())
    vopt = torch.optim.Adam(vparams, lr=lr)

    def one_model(p: dict[str, torch.Tensor], bufs: dict[str, torch.Tensor], x, y, mask) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return masked_mse(torch.func.functional_call(base, (p, bufs), (x,)), y, mask)

    ensemble_loss = torch.func.vmap(one_model)

    def vmapped() -> None:
        for _ in range(steps):
            x, y, mask = data()
            vopt.zero_grad(set_to_none=True)
            ensemble_loss(params, buffers, x, y, mask).sum().backward()
            train.clip_per_model(vparams, 1.0)
            vopt.step()

    # one compiled model, trained S times in a loop (each model its own Adam). Its weights are
    # plain leaf tensors: dynamo compiles nn.Parameter inputs for their exact shapes, plain
    # tensors once for all widths (dynamic=True)
    loop_weights = [
        [w[i].detach().clone().requires_grad_() for w in (stack.W_ih, stack.W_hh, stack.W_hy)]
        for i in range(S)
    ]
    loop_opts = [torch.optim.Adam(ws, lr=lr) for ws in loop_weights]
    loss_fn = compiled_single_loss()

    def compiled_loop() -> None:
        for _ in range(steps):
            x, y, mask = data()
            for i, (ws, opt) in enumerate(zip(loop_weights, loop_opts, strict=True)):
                opt.zero_grad(set_to_none=True)
                loss_fn(*ws, x[i], y[i], mask[i]).backward()
                torch.nn.utils.clip_grad_norm_(ws, 1.0)
                opt.step()

    variants = {
        DEFAULT["training"]: batched,
        "torch.func vmap ensemble": vmapped,
        "torch.compile single model, loop over S": compiled_loop,
    }
    res = measure(variants, dev, plan.repeats, case.threads if dev.type == "cpu" else 1, plan.min_sample_s)
    row = {
        "device": dev.type,
        "group": case.group,
        "d": d,
        "s": s,
        "hidden": hidden,
        "S": S,
        "batch": plan.batch,
        "T": s + plan.horizon,
        "steps": steps,
        **res,
    }
    if "median_s" in row["variants"][DEFAULT["training"]]:
        ratios(row, DEFAULT["training"])
    return row


# --------------------------------------------------------------------------------------------
# (5) chapter wall times; machine
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


def describe(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return cpu_model()


# --------------------------------------------------------------------------------------------
# growth: fitted exponents
# --------------------------------------------------------------------------------------------


def fit_exponent(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Least-squares slope of log y against log x (None with fewer than two sizes)."""
    if len(set(x)) < 2:
        return None
    slope, _ = np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)
    return float(slope)


def growth(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Time against size for each fast path (and its best peers), with the fitted exponent."""
    out = []
    main = result["threads"]["main"]
    for dev in [d["type"] for d in result["devices"]]:
        for form in ("diagonal", "matrix"):
            for pass_ in result["plan"]["passes"]:
                rows = [
                    r
                    for r in result["scan"]
                    if r["device"] == dev
                    and r["form"] == form
                    and r["pass"] == pass_
                    and r["threads"] == main
                ]
                names = [DEFAULT[form]] + (["compiled_scan"] if form == "diagonal" else []) + ["Python loop"]
                for name in names:
                    pts = [
                        (r["L"], r["variants"][name]["median_s"])
                        for r in rows
                        if "median_s" in r["variants"].get(name, {})
                    ]
                    if not pts:
                        continue
                    out.append(
                        {
                            "device": dev,
                            "path": f"{form} scan, {pass_}",
                            "variant": name,
                            "size": "L",
                            "x": [p[0] for p in pts],
                            "seconds": [p[1] for p in pts],
                            "exponent": fit_exponent(*zip(*pts, strict=True)),
                            "expected": 1.0,
                            "expected_note": (
                                "O(L) work in 2 log2 L rounds (depth O(log L))"
                                if name != "Python loop"
                                else "O(L) work in L steps"
                            ),
                        }
                    )
        for size, expected, note in (
            ("S", 1.0, "O(S) work; fixed per-step costs make it flatter at small S"),
            ("hidden", 2.0, "O(hidden^2) recurrent products per step"),
        ):
            rows = [r for r in result["training"] if r["device"] == dev and r["threads"] == main]
            if size == "hidden":  # the width sweep at its S, with the A01 row of the same S
                S0 = next((r["S"] for r in rows if r["group"] == "hidden"), None)
                rows = [r for r in rows if r["S"] == S0 and r["group"] in ("S", "hidden")]
            else:
                rows = [r for r in rows if r["group"] == "S"]
            rows = sorted(rows, key=lambda r: r[size])
            for name in rows[0]["variants"] if rows else []:
                pts = [
                    (r[size], r["variants"][name]["median_s"])
                    for r in rows
                    if "median_s" in r["variants"][name]
                ]
                if not pts:
                    continue
                out.append(
                    {
                        "device": dev,
                        "path": "training",
                        "variant": name,
                        "size": size,
                        "x": [p[0] for p in pts],
                        "seconds": [p[1] for p in pts],
                        "exponent": fit_exponent(*zip(*pts, strict=True)),
                        "expected": expected,
                        "expected_note": note,
                    }
                )
    return out


# --------------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------------


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per fast path: its ratio to the best peer and (scans) its fraction of the bandwidth bound.

    Judged only on rows that are not noisy. Scans at ``L >= 4096`` (the longest lengths of a
    quick run): the goal is ``bound_fraction >= 0.5`` (within 2x of the bandwidth bound) and no
    peer faster (best peer's time / ours >= 1). Training: no peer faster.
    """
    out = []
    main = result["threads"]["main"]
    for dev in [d["type"] for d in result["devices"]]:
        for form, paths in (
            ("diagonal", ("parallel_scan", "compiled_scan")),
            ("matrix", ("parallel_matrix_scan",)),
        ):
            rows = [
                r for r in result["scan"] if r["device"] == dev and r["form"] == form and r["threads"] == main
            ]
            if not rows:
                continue
            L_min = 4096 if not result["quick"] else max(r["L"] for r in rows)
            for path in paths:
                for pass_ in result["plan"]["passes"]:
                    judged = [
                        r
                        for r in rows
                        if r["pass"] == pass_
                        and r["L"] >= L_min
                        and "median_s" in r["variants"].get(path, {})
                    ]
                    entries = []
                    for r in judged:
                        v = r["variants"][path]
                        peers = [
                            (n, w["median_s"] / v["median_s"])
                            for n, w in r["variants"].items()
                            if n != path and "median_s" in w
                        ]
                        peer = min(peers, key=lambda p: p[1]) if peers else None
                        entries.append(
                            {
                                "L": r["L"],
                                "noisy": r["noisy"],
                                "best_peer": peer[0] if peer else None,
                                "peer_over_ours": peer[1] if peer else None,
                                "bound_fraction": v.get("bound_fraction"),
                            }
                        )
                    clean = [e for e in entries if not e["noisy"]]
                    met: bool | None = None
                    bound = form == "diagonal"  # the matrix scan is bound by its n^3 products
                    if clean:
                        met = all(
                            (e["peer_over_ours"] is None or e["peer_over_ours"] >= 1.0)
                            and (not bound or e["bound_fraction"] is None or e["bound_fraction"] >= 0.5)
                            for e in clean
                        )
                    out.append(
                        {
                            "device": dev,
                            "path": f"{path} ({pass_})",
                            "rule": f"L >= {L_min}: no peer faster"
                            + (", >= 50 % of the bandwidth bound" if bound else ""),
                            "entries": entries,
                            "met": met,
                        }
                    )
        rows = [r for r in result["training"] if r["device"] == dev and r["threads"] == main]
        entries = []
        for r in rows:
            peer = best_peer(r, DEFAULT["training"])
            if peer is None:
                continue
            entries.append(
                {
                    "hidden": r["hidden"],
                    "S": r["S"],
                    "noisy": r["noisy"],
                    "best_peer": peer[0],
                    "peer_over_ours": peer[1],
                    "bound_fraction": None,
                }
            )
        if entries:
            clean = [e for e in entries if not e["noisy"]]
            out.append(
                {
                    "device": dev,
                    "path": "batched training (BatchedElmanRNN + fit)",
                    "rule": "every size: no peer faster",
                    "entries": entries,
                    "met": all(e["peer_over_ours"] >= 1.0 for e in clean) if clean else None,
                }
            )
    return out


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
        "devices": [{"type": d.type, "name": describe(d)} for d in devices],
        "gpu": next((describe(d) for d in devices if d.type == "cuda"), None),
        "threads": {"main": threads, "interop": torch.get_num_interop_threads()},
        "plan": {
            **{k: v for k, v in asdict(plan).items() if k != "train_cases"},
            "train_cases": [asdict(c) for c in plan.train_cases],
            "passes": list(plan.passes),
            "noisy_spread": NOISY,
            "deterministic_algorithms": True,
            "tf32": False,
        },
        "limits": [],
        "scan": [],
        "training": [],
    }
    t_start = time.perf_counter()
    sections: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        sections[name] = round(sections.get(name, 0.0) + now - t0, 1)
        return now

    for dev in devices:
        t0 = time.perf_counter()
        result["limits"] += machine_limits(plan, dev)
        t0 = lap(f"limits {dev.type}", t0)
        for lim in result["limits"]:
            if lim["device"] == dev.type:
                log(
                    f"limit {dev.type} {lim['threads']} thread(s): triad {lim['triad']['GBps_best']:.1f} GB/s, "
                    f"matmul {lim['matmul']['GFLOPs_best']:.0f} GFLOP/s"
                )
        for form, lengths in (("diagonal", plan.lengths), ("matrix", plan.matrix_lengths)):
            for pass_ in plan.passes:
                for L in lengths:
                    row = scan_row(form, pass_, L, dev, plan, threads, result["limits"])
                    result["scan"].append(row)
                    log(scan_log(row))
        if dev.type == "cpu":
            for L in plan.scan_two_threads:
                row = scan_row("diagonal", "forward", L, dev, plan, 2, result["limits"])
                result["scan"].append(row)
                log(scan_log(row))
        t0 = lap(f"scans {dev.type}", t0)
        for case in plan.train_cases:
            if dev.type != "cpu" and case.threads != threads:
                continue
            row = training_row(case, dev, plan)
            result["training"].append(row)
            log(
                f"train {dev.type} hidden={case.hidden} S={case.S} threads={row['threads']}: "
                + ", ".join(
                    f"{k} {1e3 * v['median_s']:.1f} ms" for k, v in row["variants"].items() if "median_s" in v
                )
                + (" (noisy)" if row["noisy"] else "")
            )
        torch.set_num_threads(threads)
        lap(f"training {dev.type}", t0)
    result["section_seconds"] = sections
    result["chapters"] = chapter_times(ROOT)
    result["machine"]["load_average_end"] = load_average()
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    result["growth"] = growth(result)
    result["targets"] = targets(result)
    return result


def scan_log(row: dict[str, Any]) -> str:
    parts = []
    for k, v in row["variants"].items():
        parts.append(f"{k} {1e3 * v['median_s']:.2f} ms" if "median_s" in v else f"{k}: cannot run")
    noisy = " (noisy)" if row["noisy"] else ""
    return (
        f"scan {row['device']} {row['form']} {row['pass']} L={row['L']} t={row['threads']}: "
        + ", ".join(parts)
        + noisy
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
    os.environ.setdefault("BOOK_PROGRESS", "0")  # no progress bars from train.fit
    out = args.out or (ROOT / "_build" / "bench-quick" if args.quick else ROOT)
    json_path, page_path = out / "results" / "bench.json", out / "book" / "performance.md"
    if args.render_only:  # chapter times are read, not measured: refresh them
        result = json.loads(json_path.read_text())
        if result.get("schema") != SCHEMA:
            print(f"{json_path} has schema {result.get('schema')}, this page needs {SCHEMA}: run make bench")
            return 1
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
    report.make_figures(result, page_path.parent / "figures")
    page_path.write_text(report.page(result))
    print(f"wrote {json_path}, {page_path} and its figures ({result['seconds']:.0f} s of measurements)")
    for t in result["targets"]:
        print(f"  {t['device']} {t['path']}: {report.fmt_status(t['met'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
