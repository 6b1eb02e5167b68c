"""Smoke tests of bench/bench.py (``make bench``): it still drives the library, and its page logic.

The full benchmark is not a test (it takes minutes and its numbers depend on the machine);
this runs every measurement once at tiny sizes, in-process, and checks the targets and page.
"""

import importlib.util
import json
import sys
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


def test_every_measurement_runs_at_tiny_sizes(bench, monkeypatch):
    # the chapters' determinism switch imports torch._inductor (seconds) and is global: skip it
    monkeypatch.setattr(bench, "configure_torch", torch.set_num_threads)
    threads = torch.get_num_threads()
    plan = bench.make_plan(quick=True)
    plan.stacks, plan.lengths, plan.profile = [2], [5], False
    try:
        result = bench.run(plan, 1, [torch.device("cpu")], log=lambda msg: None)
    finally:
        torch.set_num_threads(threads)
    assert [(r["S"], r["threads"]) for r in result["training"]] == [(2, 1), (2, 2)]
    assert {(r["form"], r["pass"]) for r in result["scan"]} == {
        (f, p) for f in ("diagonal", "matrix") for p in ("forward", "forward+backward")
    }
    for row in result["training"] + result["scan"]:
        assert row["loop"]["repeats"] == 1 and row["speedup"] > 0
        assert row["speedup"] == pytest.approx(row["loop"]["median_s"] / row["fast"]["median_s"])
    json.dumps(result)  # the JSON is writable
    text = bench.page(result)
    assert text.startswith("# Performance\n")
    assert "](figures/bench_training.png)" in text and "](figures/bench_scan.png)" in text
    assert "not measured: no GPU in this run" in text and ":::{warning}" in text


def row(device, speedup, **kw):
    summary = {"median_s": 1.0, "min_s": 1.0, "max_s": 1.0}
    return {"device": device, "speedup": speedup, "loop": summary, "fast": summary, **kw}


def test_targets_are_judged_on_the_issue_configurations(bench):
    plan = bench.make_plan(quick=False)
    training = [
        row("cpu", 9.0, model="A01 ci", S=8, threads=1),
        row("cpu", 1.4, model="A01 ci", S=8, threads=2),  # the 2-core row decides
        row("cpu", 3.0, model="A01 ci", S=64, threads=1),
        row("cuda", 12.0, model="A01 ci", S=64, threads=1),
    ]
    scan_rows = [
        row("cpu", 6.0, form="diagonal", L=4096, **{"pass": "forward"}),
        row("cpu", 5.5, form="diagonal", L=4096, **{"pass": "forward+backward"}),
        row("cpu", 1.0, form="matrix", L=4096, **{"pass": "forward"}),
    ]
    met = [t["met"] for t in bench.targets({"training": training, "scan": scan_rows}, plan)]
    assert met == [False, True, True, None]  # the GPU scan was not measured
