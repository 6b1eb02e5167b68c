"""The Performance page and its figures, written from ``results/bench.json`` (issue 18).

Used by ``bench/bench.py`` (``make bench``; ``--render-only`` rewrites page and figures from an
existing ``bench.json``). Nothing here measures: every number on the page is read from the JSON.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

CI_BUDGET_S = 60  # the ci profile's budget per chapter (README: "at most a minute")
DEFAULT = {"diagonal": "parallel_scan", "matrix": "parallel_matrix_scan", "training": "batched (rnnbook)"}
PASS_TAG = {"forward": "fwd", "forward+backward": "fwd+bwd"}


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------


def fmt_s(x: float) -> str:
    if x >= 1.0:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{1e3 * x:.3g} ms"
    return f"{1e6 * x:.3g} µs"


def fmt_time(v: dict[str, Any], per: int = 1) -> str:
    """``median (min–max)`` in a readable unit."""
    if "median_s" not in v:
        return "cannot run here"
    med, lo, hi = (v[k] / per for k in ("median_s", "min_s", "max_s"))
    return f"{fmt_s(med)} ({fmt_s(lo)}–{fmt_s(hi)})"


def fmt_ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def fmt_pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def fmt_status(met: bool | None) -> str:
    if met is None:
        return "not judged (every row noisy or not measured)"
    return "**met**" if met else "**missed**"


def fmt_err(x: float | None) -> str:
    return "–" if x is None else f"{x:.1e}"


def md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def devices(result: dict[str, Any]) -> list[str]:
    return [d["type"] for d in result["devices"]]


def main_rows(result: dict[str, Any], key: str, dev: str, **match: Any) -> list[dict[str, Any]]:
    main = result["threads"]["main"]
    return [
        r
        for r in result[key]
        if r["device"] == dev and r["threads"] == main and all(r.get(k) == v for k, v in match.items())
    ]


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def _exponent(result: dict[str, Any], dev: str, path: str, variant: str, size: str) -> str:
    for g in result.get("growth", []):
        if g["device"] == dev and g["path"] == path and g["variant"] == variant and g["size"] == size:
            if g["exponent"] is not None:
                return f" (slope {g['exponent']:.2f}, expected {g['expected']:g})"
    return ""


def make_figures(result: dict[str, Any], fig_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnbook import plots

    plots.use_style()
    fig_dir.mkdir(parents=True, exist_ok=True)
    for dev in devices(result):
        suffix = "" if dev == "cpu" else f"_{dev}"
        # scans: time against L, one panel per form and pass, every variant; dotted: the bound
        panels = [(f, p) for f in ("diagonal", "matrix") for p in result["plan"]["passes"]]
        cols = len(result["plan"]["passes"])
        fig, axes = plt.subplots(2, cols, figsize=(4.2 * cols, 7.0), squeeze=False)
        for ax, (form, pass_) in zip(axes.flat, panels, strict=True):
            rows = sorted(main_rows(result, "scan", dev, form=form, **{"pass": pass_}), key=lambda r: r["L"])
            names = list(dict.fromkeys(n for r in rows for n in r["variants"]))
            for j, name in enumerate(names):
                pts = [
                    (r["L"], r["variants"][name]) for r in rows if "median_s" in r["variants"].get(name, {})
                ]
                if not pts:
                    continue
                L = [p[0] for p in pts]
                med = [1e3 * p[1]["median_s"] for p in pts]
                err = [
                    [1e3 * (p[1]["median_s"] - p[1]["min_s"]) for p in pts],
                    [1e3 * (p[1]["max_s"] - p[1]["median_s"]) for p in pts],
                ]
                default = name == DEFAULT[form]
                label = name + _exponent(result, dev, f"{form} scan, {pass_}", name, "L")
                ax.errorbar(
                    L, med, yerr=err, marker="o", ms=3, lw=2.2 if default else 1.0, color=f"C{j}", label=label,
                    capsize=2,
                )  # fmt: skip
            bound = [
                (r["L"], 1e3 * r["min_bytes"] / r["bandwidth_Bps"]) for r in rows if r.get("bandwidth_Bps")
            ]
            if bound:
                ax.plot(*zip(*bound, strict=True), ":", color="k", lw=1.2, label="bandwidth bound")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            batch, n = (rows[0]["batch"], rows[0]["n"]) if rows else ("?", "?")
            ax.set(
                xlabel="sequence length L",
                ylabel="ms",
                title=f"{form}, {PASS_TAG[pass_]} (batch {batch}, n {n})",
            )
            ax.legend(fontsize=6, loc="upper left")
        fig.savefig(fig_dir / f"bench_scan{suffix}.png")
        plt.close(fig)

        # training: time per step against S (A01 width) and against width (fixed S)
        tr = main_rows(result, "training", dev)
        fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), squeeze=False)
        S0 = next((r["S"] for r in tr if r["group"] == "hidden"), None)
        for ax, size in zip(axes[0], ("S", "hidden"), strict=True):
            if size == "S":
                rows = sorted([r for r in tr if r["group"] == "S"], key=lambda r: r["S"])
                title = f"growing S (hidden {rows[0]['hidden']})" if rows else "growing S"
            else:
                rows = sorted(
                    [r for r in tr if r["S"] == S0 and r["group"] in ("S", "hidden")],
                    key=lambda r: r["hidden"],
                )
                title = f"growing width (S = {S0})"
            names = list(dict.fromkeys(n for r in rows for n in r["variants"]))
            for j, name in enumerate(names):
                pts = [
                    (r[size], r["variants"][name], r["steps"])
                    for r in rows
                    if "median_s" in r["variants"][name]
                ]
                if not pts:
                    continue
                x = [p[0] for p in pts]
                med = [1e3 * p[1]["median_s"] / p[2] for p in pts]
                err = [
                    [1e3 * (p[1]["median_s"] - p[1]["min_s"]) / p[2] for p in pts],
                    [1e3 * (p[1]["max_s"] - p[1]["median_s"]) / p[2] for p in pts],
                ]
                label = name + _exponent(result, dev, "training", name, size)
                ax.errorbar(
                    x,
                    med,
                    yerr=err,
                    marker="o",
                    ms=3,
                    lw=2.2 if j == 0 else 1.0,
                    color=f"C{j}",
                    label=label,
                    capsize=2,
                )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set(
                xlabel="models S" if size == "S" else "hidden units",
                ylabel="ms per training step",
                title=title,
            )
            ax.legend(fontsize=6, loc="upper left")
        fig.savefig(fig_dir / f"bench_training{suffix}.png")
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# page
# --------------------------------------------------------------------------------------------


def limit_of(result: dict[str, Any], dev: str, threads: int) -> dict[str, Any] | None:
    for r in result["limits"]:
        if r["device"] == dev and (dev != "cpu" or r["threads"] == threads):
            return r
    return None


def what_to_use(result: dict[str, Any], dev: str) -> list[str]:
    """The readers' table, each recommendation decided by this run's numbers."""
    lines = ["| You need | Use | Why (this run) |", "|---|---|---|"]
    diag = [r for r in main_rows(result, "scan", dev, form="diagonal") if not r["noisy"]] or main_rows(
        result, "scan", dev, form="diagonal"
    )
    if diag:
        Lmax = max(r["L"] for r in diag)
        long = [r for r in diag if r["L"] == Lmax]
        # one call, or shapes that change: eager variants only (a compile per shape costs more)
        for r in long:
            eager = {
                n: v["median_s"] for n, v in r["variants"].items() if "median_s" in v and n != "compiled_scan"
            }
            best = min(eager, key=eager.get)  # type: ignore[arg-type]
            others = sorted((t / eager[best], n) for n, t in eager.items() if n != best)
            why = f"L = {Lmax}, {r['pass']}: fastest without compilation; next " + (
                f"{others[0][1]} at {fmt_ratio(others[0][0])} its time" if others else "–"
            )
            lines.append(
                f"| diagonal recurrence, one call or changing shapes ({r['pass']}) | `{best}` | {why} |"
            )
        for r in long:
            v, d = r["variants"].get("compiled_scan", {}), r["variants"][DEFAULT["diagonal"]]
            if "median_s" not in v or "median_s" not in d:
                continue
            gain = d["median_s"] - v["median_s"]
            if gain > 0:
                calls = v["first_call_s"] / gain
                lines.append(
                    f"| diagonal recurrence, many calls at one shape ({r['pass']}) | `scan.compiled_scan` | "
                    f"{fmt_ratio(d['median_s'] / v['median_s'])} faster than `parallel_scan` at L = {Lmax} once "
                    f"compiled; its first call took {fmt_s(v['first_call_s'])}, repaid after about {calls:.0f} calls |"
                )
            else:
                lines.append(
                    f"| diagonal recurrence, many calls at one shape ({r['pass']}) | `scan.parallel_scan` | "
                    f"the compiled scan was not faster here ({fmt_ratio(v['median_s'] / d['median_s'])} its time) |"
                )
        fwd = next((r for r in long if r["pass"] == "forward"), None)
        if fwd and "median_s" in fwd["variants"].get("log space (Heinsen)", {}):
            v = fwd["variants"]["log space (Heinsen)"]
            e_log, e_def = (
                v.get("rel_error_vs_float64"),
                fwd["variants"][DEFAULT["diagonal"]].get("rel_error_vs_float64"),
            )
            lines.append(
                f"| the closed form in log space | {'`scan.log_scan`' if v['vs_default'] < 1 else 'not recommended here'} | "
                f"{fmt_ratio(v['vs_default'])} the time of `parallel_scan` at L = {Lmax}; float32 error "
                f"{fmt_err(e_log)} against {fmt_err(e_def)} (relative, against a float64 loop) |"
            )
    mat = [r for r in main_rows(result, "scan", dev, form="matrix") if not r["noisy"]] or main_rows(
        result, "scan", dev, form="matrix"
    )
    for pass_ in result["plan"]["passes"]:
        rows = [r for r in mat if r["pass"] == pass_]
        if not rows:
            continue
        r = max(rows, key=lambda r: r["L"])
        times = {n: v["median_s"] for n, v in r["variants"].items() if "median_s" in v}
        best = min(times, key=times.get)  # type: ignore[arg-type]
        runner = sorted((t / times[best], n) for n, t in times.items() if n != best)
        lines.append(
            f"| matrix-state recurrence, small n ({pass_}) | `{best}` | fastest at L = {r['L']}, n = {r['n']}; next "
            + (f"{runner[0][1]} at {fmt_ratio(runner[0][0])} its time |" if runner else "– |")
        )
    tr = [r for r in main_rows(result, "training", dev) if not r["noisy"]] or main_rows(
        result, "training", dev
    )
    if tr:
        wins: dict[str, list[str]] = {}
        for r in sorted(tr, key=lambda r: (r["hidden"], r["S"])):
            times = {n: v["median_s"] for n, v in r["variants"].items() if "median_s" in v}
            if not times:
                continue
            best = min(times, key=times.get)  # type: ignore[arg-type]
            wins.setdefault(best, []).append(f"h {r['hidden']}/S {r['S']}")
        for best, cases in wins.items():
            lines.append(
                f"| train S small RNNs at once | `{best}` | fastest at {', '.join(cases)} (hidden/S) |"
            )
    return lines


def targets_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| Device | Fast path | Rule | Measured: best peer (its time / ours), fraction of the bound | Status |",
        "|---|---|---|---|---|",
    ]
    for t in result["targets"]:
        parts = []
        for e in t["entries"]:
            where = f"L = {e['L']}" if "L" in e else f"h {e['hidden']}, S {e['S']}"
            frac = f", {fmt_pct(e['bound_fraction'])} of bound" if e.get("bound_fraction") is not None else ""
            noisy = " (noisy, excluded)" if e["noisy"] else ""
            parts.append(f"{where}: {e['best_peer']} {fmt_ratio(e['peer_over_ours'])}{frac}{noisy}")
        lines.append(
            f"| {t['device']} | {t['path']} | {t['rule']} | {md_escape('; '.join(parts)) or '–'} | {fmt_status(t['met'])} |"
        )
    return lines


def scan_table(result: dict[str, Any], dev: str, form: str, threads: int | None = None) -> list[str]:
    rows = [
        r
        for r in result["scan"]
        if r["device"] == dev and r["form"] == form and (threads is None or r["threads"] == threads)
    ]
    if not rows:
        return []
    lines = [
        "| pass | L | threads | variant | time: median (min–max) | / default | GB/s | of bound | first call | error (fwd) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tag = f"{r['L']}" + (" **noisy**" if r["noisy"] else "")
        for name, v in r["variants"].items():
            if "median_s" not in v:
                lines.append(
                    f"| {PASS_TAG[r['pass']]} | {tag} | {r['threads']} | {name} | cannot run here: "
                    f"{md_escape(v['reason'])} | | | | | |"
                )
                continue
            bold = "**" if name == DEFAULT[form] else ""
            lines.append(
                f"| {PASS_TAG[r['pass']]} | {tag} | {r['threads']} | {bold}{name}{bold} | {fmt_time(v)} | "
                f"{fmt_ratio(v.get('vs_default'))} | {v['achieved_Bps'] / 1e9:.2f} | {fmt_pct(v.get('bound_fraction'))} | "
                f"{fmt_s(v['first_call_s'])} | {fmt_err(v.get('rel_error_vs_float64'))} |"
            )
    return lines


def training_table(result: dict[str, Any], dev: str) -> list[str]:
    rows = [r for r in result["training"] if r["device"] == dev]
    if not rows:
        return []
    lines = [
        "| hidden | S | threads | variant | per step: median (min–max) | / batched | first call |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tag = f"{r['S']}" + (" **noisy**" if r["noisy"] else "")
        for name, v in r["variants"].items():
            if "median_s" not in v:
                lines.append(
                    f"| {r['hidden']} | {tag} | {r['threads']} | {name} | cannot run here: {md_escape(v['reason'])} | | |"
                )
                continue
            bold = "**" if name == DEFAULT["training"] else ""
            lines.append(
                f"| {r['hidden']} | {tag} | {r['threads']} | {bold}{name}{bold} | {fmt_time(v, r['steps'])} | "
                f"{fmt_ratio(v.get('vs_default'))} | {fmt_s(v['first_call_s'])} |"
            )
    return lines


def page(result: dict[str, Any]) -> str:
    m = result["machine"]
    main = result["threads"]["main"]
    plan = result["plan"]
    gpu = result["gpu"]
    lines = [
        "# Performance",
        "",
        "The book leans on two fast paths so that a chapter's ci run fits in a minute on 2 CPU cores:",
        "",
        "- **scans** (`rnnbook.scan`): the linear recurrence `h_t = a_t * h_{t-1} + b_t` (diagonal",
        "  `a_t`, or small matrices `A_t`) in `2 log2 L` rounds of whole-tensor operations (an",
        "  odd-even reduction) instead of `L` Python steps; the part on parallel and linear",
        "  recurrences (LightNet, pLSTM, ParaRNN, DSF, Aaren, LSSL) builds on it;",
        "- **batched training** (`rnnbook.models.BatchedElmanRNN` + `rnnbook.train.fit`, as A01",
        "  uses them): `S` independent models stacked into one, one forward and backward pass per",
        "  step, per-model losses, clipping and Adam.",
        "",
        "A plain Python loop is a weak baseline, so this page measures each fast path against what a",
        "reader who cares about speed would pick instead, and against the machine's own limit:",
        "",
        "- diagonal scan: a TorchScript loop; the closed form in log space (Heinsen, 2023,",
        "  `scan.log_scan`); the same odd-even scan compiled by `torch.compile` (`scan.compiled_scan`,",
        "  written without in-place writes so that the compiler can fuse each level);",
        "  PyTorch's prototype `torch._higher_order_ops.associative_scan` in its `generic` mode and",
        "  in its `pointwise` mode (a generated kernel, which PyTorch allows on CUDA only); and the",
        "  Python loop;",
        "- matrix scan: a TorchScript loop, `associative_scan` and the Python loop;",
        "- training: PyTorch's ensembling recipe (`torch.func.stack_module_state` +",
        "  `vmap(functional_call)`, one `Adam` over the stacked parameters) and one model compiled by",
        "  `torch.compile`, trained `S` times in a loop (its own `Adam` each); all three variants do",
        "  the same step (data of A01's variable-binding task, forward, masked MSE, backward, gradient",
        "  clipping per model, Adam) from the same weights on the same data.",
        "",
        "Every number below comes from `results/bench.json`, written by `make bench` together with",
        "this page and its figures (do not edit it by hand).",
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
    load0, load1 = m.get("load_average_start"), m.get("load_average_end")
    lines += [
        "## This run",
        "",
        f"- date: {result['date']}; measurements took {result['seconds']:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in result.get("section_seconds", {}).items())
        + ")",
        f"- machine: {m['cpu']} ({m['cpu_count']} logical CPUs, {m['platform']})",
        f"- GPU: {gpu if gpu else 'none: no GPU rows in this run'}",
        f"- torch {result['torch']}, Python {result['python']}, float32",
        f"- CPU threads: set for every row and shown in its `threads` column; {main} unless noted (the ci",
        "  profile's `BOOK_THREADS=1`), 2 in the rows marked so",
        "- timing: every variant of a row called once first (shown as *first call*: compilation",
        f"  included), then {plan['repeats']} rounds in which every variant runs once, in an order",
        "  that rotates and reverses between rounds; median (min–max) over the rounds; a call",
        f"  shorter than {1e3 * plan.get('min_sample_s', 0):.0f} ms is timed as the mean of several back-to-back calls",
        "- PyTorch caches compiled code on disk (`/tmp/torchinductor_<user>`), so a first call",
        "  that found it there compiled faster than on a fresh machine",
        f"- a row is **noisy** when any of its variants' slowest repeat exceeds {plan['noisy_spread']:g}x its",
        "  fastest; noisy rows are shown but kept out of the targets",
    ]
    if load0 is not None and load1 is not None:
        lines.append(
            f"- load average (1, 5, 15 min) at start: {', '.join(f'{x:g}' for x in load0)}; at end: "
            f"{', '.join(f'{x:g}' for x in load1)} ({m['cpu_count']} CPUs)"
        )
        if m.get("cpu_count") and max(load0[0], load1[0]) > 0.75 * m["cpu_count"]:
            lines.append(
                "- **the machine was busy**: other processes competed for the cores, so absolute times"
                " are inflated and spread; interleaving keeps the ratios fairer than the times"
            )
    lines.append("")

    for dev in devices(result):
        lines += [f"## What to use when ({dev})", "", *what_to_use(result, dev), ""]

    lines += [
        "## Targets",
        "",
        "Per fast path: the fastest peer's time over ours (above 1: ours is faster) and, for",
        "scans, the achieved fraction of the bandwidth bound (the least memory traffic of the",
        "computation at the median triad bandwidth of the same thread count, measured below).",
        "",
        *targets_table(result),
        "",
    ]

    lines += [
        "## The machine's limit",
        "",
        f"STREAM-like kernels in torch on float32 arrays of {plan['stream_n']:,} elements",
        f"({4 * plan['stream_n'] / 2**20:.0f} MiB each, beyond the caches): *copy* `z = x` (8 bytes per",
        "element) and *triad* `z = y + 3 x` (12 bytes per element); and a float32 matrix product of",
        f"size {plan['matmul_n']} (`2 n^3` flops). Fastest repeat (median repeat).",
        "",
        "| device | threads | copy GB/s | triad GB/s | matmul GFLOP/s |",
        "|---|---|---|---|---|",
    ]
    for r in result["limits"]:
        noisy = " **noisy**" if r["noisy"] else ""
        lines.append(
            f"| {r['device']} | {r['threads']}{noisy} | {r['copy']['GBps_best']:.1f} ({r['copy']['GBps_median']:.1f}) | "
            f"{r['triad']['GBps_best']:.1f} ({r['triad']['GBps_median']:.1f}) | "
            f"{r['matmul']['GFLOPs_best']:.0f} ({r['matmul']['GFLOPs_median']:.0f}) |"
        )
    lines += [
        "",
        "A scan's *bound* is its least memory traffic (float32): forward reads `a` and `b` and",
        "writes `h`; the backward pass also reads the incoming gradient, `a` and `h` and writes the",
        "gradients of `a` and `b`. Achieved GB/s = those bytes / the median time; *of bound* = that",
        "over the median triad bandwidth at the row's thread count. The odd-even scan moves several times",
        "those bytes (each of its `log2 L` levels reads and writes a shrinking copy), so 100 % is",
        "out of its reach; a loop is bound by its per-step overhead instead.",
        "",
    ]

    for dev in devices(result):
        lines += [
            f"## Diagonal scan ({dev})",
            "",
            "`h_t = a_t * h_{t-1} + b_t`, `a` uniform in (0.5, 1), zero initial state. *fwd*: under",
            "`torch.no_grad()`; *fwd+bwd*: `h.sum().backward()` with respect to `a` and `b`. */ default*:",
            "the variant's median over `parallel_scan`'s (above 1: `parallel_scan` is faster). *error*:",
            "max |h − h_float64 loop| / max |h|, forward. Slopes in the legend: fitted exponent of time",
            "against `L` (expected 1: O(L) work; the odd-even scan's depth is `2 log2 L` rounds).",
            "",
            f"![Scan time against sequence length, every variant](figures/bench_scan{'' if dev == 'cpu' else '_' + dev}.png)",
            "",
            *scan_table(result, dev, "diagonal"),
            "",
            f"## Matrix-state scan ({dev})",
            "",
            "`h_t = A_t h_{t-1} + b_t` with small `n x n` matrices (entries `N(0, 1/(4n))`, spectral",
            "radius about 1/2). The odd-even scan multiplies matrices (`n^3` per combine) where the",
            "loop multiplies a matrix and a vector (`n^2`), so it wins only while `n` is small.",
            "",
            *scan_table(result, dev, "matrix"),
            "",
            f"## Training S models at once ({dev})",
            "",
            f"A01's variable-binding tasks (`d = s = {plan['d']}`, batch {plan['batch']}, horizon {plan['horizon']},",
            "tasks cycled over the models), Adam (lr 3e-3), gradient-norm clipping at 1 per model. Times",
            "per training step. */ batched*: the variant's median over the batched model's.",
            "",
            f"![Training step time against S and width](figures/bench_training{'' if dev == 'cpu' else '_' + dev}.png)",
            "",
            *training_table(result, dev),
            "",
        ]

    lines += [
        "## Growth",
        "",
        "Fitted exponent of time against size (least squares on log–log axes, the figures' slopes),",
        "beside the expected one. Fixed per-call costs (Python, dispatch, thread start) flatten the",
        "fit at small sizes; caches steepen it where the tensors outgrow them.",
        "",
        "| device | path | variant | size | sizes | fitted exponent | expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in result.get("growth", []):
        exp = "–" if g["exponent"] is None else f"{g['exponent']:.2f}"
        lines.append(
            f"| {g['device']} | {g['path']} | {g['variant']} | {g['size']} | {g['x'][0]}–{g['x'][-1]} | {exp} | "
            f"{g['expected']:g}: {g['expected_note']} |"
        )
    lines.append("")

    cannot = {}
    for r in result["scan"] + result["training"]:
        for name, v in r["variants"].items():
            if "reason" in v:
                cannot.setdefault((r["device"], name), v["reason"])
    lines += ["## Peers that cannot run here", ""]
    if cannot:
        lines += [f"- {dev}, {name}: {md_escape(reason)}" for (dev, name), reason in cannot.items()]
    else:
        lines.append("None: every peer ran on every device of this run.")
    if not gpu:
        lines += ["", "No GPU in this run: every peer's GPU rows are not measured."]
    lines.append("")

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
        "make bench                                              # CPU, and the GPU when one is visible",
        ".venv/bin/python bench/bench.py --quick --out /tmp/b   # smoke test: tiny sizes, every code path",
        ".venv/bin/python bench/bench.py --render-only           # page and figures from results/bench.json",
        "```",
        "",
    ]
    return "\n".join(lines)
