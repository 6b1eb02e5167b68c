"""Smoke tests of bench/bench.py (``make bench``): every measurement and peer runs, and the page logic.

The full benchmark is not a test (minutes; its numbers depend on the machine). This runs the
``--quick`` plan (tiny sizes, one repeat: every code path, the compiled peers included) in-process
and checks the rows, targets, growth fits, page and figures; and the timing and judging rules on
made-up rows.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("rnnbook_bench", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def quick_result(bench):
    # the chapters' determinism switch is global: leave this process's settings alone
    threads = torch.get_num_threads()
    original = bench.configure_torch
    bench.configure_torch = torch.set_num_threads
    try:
        result = bench.run(bench.make_plan(quick=True), 1, [torch.device("cpu")], log=lambda msg: None)
    finally:
        bench.configure_torch = original
        torch.set_num_threads(threads)
    return result


def test_quick_run_measures_every_peer(bench, quick_result):
    result = quick_result
    plan = bench.make_plan(quick=True)
    assert [r["threads"] for r in result["limits"]] == [1, 2]
    for r in result["limits"]:
        assert r["triad"]["GBps_best"] > 0 and r["matmul"]["GFLOPs_best"] > 0
    diag = [r for r in result["scan"] if r["form"] == "diagonal" and r["threads"] == 1]
    assert {(r["pass"], r["L"]) for r in diag} == {(p, L) for p in plan.passes for L in plan.lengths}
    expected = {
        "parallel_scan",
        "Python loop",
        "TorchScript loop",
        "log space (Heinsen)",
        "torch associative_scan (generic)",
    }
    for r in diag:
        names = set(r["variants"])
        assert expected <= names
        assert ("compiled_scan" in names) == (r["L"] in plan.compiled_lengths)
    pointwise = diag[0]["variants"]["torch associative_scan (pointwise)"]
    assert pointwise["status"] == "cannot run here" and "CUDA" in pointwise["reason"]  # on the CPU
    matrix = [r for r in result["scan"] if r["form"] == "matrix"]
    assert {"parallel_matrix_scan", "Python loop", "TorchScript loop"} <= set(matrix[0]["variants"])
    assert [r["L"] for r in result["scan"] if r["threads"] == 2] == plan.scan_two_threads
    assert len(result["training"]) == len(plan.train_cases)
    assert {r["threads"] for r in result["training"]} == {1, 2}
    for row in result["scan"] + result["training"]:
        for name, v in row["variants"].items():
            if "median_s" not in v:  # a peer that cannot run here says why
                assert v["status"] == "cannot run here" and v["reason"], name
                continue
            assert v["repeats"] == plan.repeats and v["min_s"] <= v["median_s"] <= v["max_s"]
            assert v["first_call_s"] > 0 and v["vs_default"] > 0
        assert isinstance(row["noisy"], bool)
    # every library path ran (the defaults and the compiled scan)
    for r in diag:
        assert "median_s" in r["variants"]["parallel_scan"]
        if "compiled_scan" in r["variants"]:
            assert "median_s" in r["variants"]["compiled_scan"]
    fwd = [r for r in diag if r["pass"] == "forward"]
    for r in fwd:  # float32 forward errors against the float64 loop
        assert r["variants"]["parallel_scan"]["rel_error_vs_float64"] < 1e-5
        assert r["variants"]["parallel_scan"]["bound_fraction"] > 0
    for r in result["training"]:
        assert set(r["variants"]) == {
            "batched (rnnbook)",
            "torch.func vmap ensemble",
            "torch.compile single model, loop over S",
        }
    json.dumps(result)  # the JSON is writable


def test_quick_growth_targets_page_and_figures(bench, quick_result, tmp_path):
    result = quick_result
    sizes = {(g["path"], g["size"]) for g in result["growth"]}
    assert (
        ("diagonal scan, forward", "L") in sizes
        and ("training", "S") in sizes
        and ("training", "hidden") in sizes
    )
    for g in result["growth"]:
        assert g["exponent"] is None or isinstance(g["exponent"], float)
    paths = [t["path"] for t in result["targets"]]
    assert "parallel_scan (forward)" in paths and "batched training (BatchedElmanRNN + fit)" in paths
    text = bench.report.page(result)
    assert text.startswith("# Performance\n")
    for heading in (
        "## What to use when (cpu)",
        "## Targets",
        "## The machine's limit",
        "## Diagonal scan (cpu)",
        "## Matrix-state scan (cpu)",
        "## Training S models at once (cpu)",
        "## Growth",
        "## Peers that cannot run here",
    ):
        assert heading in text, heading
    assert ":::{warning}" in text and "No GPU in this run" in text
    bench.report.make_figures(result, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"bench_scan.png", "bench_training.png"}


def test_measure_interleaves_flags_noise_and_marks_failures(bench):
    calls = []

    def steady():
        calls.append("steady")
        time.sleep(0.002)

    spikes = iter([0.001, 0.001, 0.02, 0.001, 0.001, 0.001])

    def spiky():
        calls.append("spiky")
        time.sleep(next(spikes))

    def broken():
        raise RuntimeError("no kernel for this device\nmore")

    res = bench.measure({"steady": steady, "spiky": spiky, "broken": broken}, torch.device("cpu"), 5, 1)
    assert res["noisy"] and res["threads"] == 1
    assert res["variants"]["broken"] == {
        "status": "cannot run here",
        "reason": "RuntimeError: no kernel for this device",
    }
    assert res["variants"]["spiky"]["spread"] > 1.5 and res["variants"]["steady"]["repeats"] == 5
    rounds = [calls[2 + 2 * r : 4 + 2 * r] for r in range(5)]  # after the two first calls
    assert rounds[0] == ["steady", "spiky"] and rounds[1] == ["spiky", "steady"]  # the order alternates


def test_min_bytes_and_exponent(bench):
    assert bench.min_bytes("diagonal", "forward", 2, 10, 3) == 4 * 2 * 10 * 3 * 3
    assert bench.min_bytes("diagonal", "forward+backward", 1, 1, 1) == 4 * 8
    assert bench.min_bytes("matrix", "forward", 1, 1, 2) == 4 * (4 + 4)
    assert bench.fit_exponent([1, 2, 4], [3, 12, 48]) == pytest.approx(2.0)
    assert bench.fit_exponent([4], [1.0]) is None


def variant(median, spread=1.0):
    return {"median_s": median, "min_s": median, "max_s": median * spread, "bound_fraction": 0.6}


def test_targets_judge_clean_rows_only(bench):
    def scan_row(L, ours, peer, noisy=False, frac=0.6):
        v = variant(ours)
        v["bound_fraction"] = frac
        return {
            "device": "cpu",
            "form": "diagonal",
            "pass": "forward",
            "L": L,
            "threads": 1,
            "noisy": noisy,
            "variants": {"parallel_scan": v, "TorchScript loop": variant(peer)},
        }

    result = {
        "quick": False,
        "devices": [{"type": "cpu"}],
        "threads": {"main": 1},
        "plan": {"passes": ["forward"]},
        "scan": [
            scan_row(1024, 1.0, 0.5),  # below L = 4096: not judged
            scan_row(4096, 1.0, 2.0),
            scan_row(16384, 1.0, 0.5, noisy=True),  # a peer faster, but noisy: excluded
        ],
        "training": [],
    }
    (t,) = [t for t in bench.targets(result) if t["path"] == "parallel_scan (forward)"]
    assert [e["L"] for e in t["entries"]] == [4096, 16384] and t["met"] is True
    result["scan"][1]["variants"]["parallel_scan"]["bound_fraction"] = 0.3  # beyond 2x the bound
    (t,) = [t for t in bench.targets(result) if t["path"] == "parallel_scan (forward)"]
    assert t["met"] is False
    result["scan"][1]["noisy"] = True
    (t,) = [t for t in bench.targets(result) if t["path"] == "parallel_scan (forward)"]
    assert t["met"] is None
