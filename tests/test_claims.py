"""Unit tests of rnnbook.claims: verdicts from rules, results JSON, CI comparison."""

import json

import pytest
import torch

from rnnbook import claims, runtime


def make_report(tmp_path, monkeypatch) -> claims.Report:
    monkeypatch.setenv("BOOK_RESULTS_DIR", str(tmp_path))
    ctx = runtime.Context(chapter="a99", profile="ci", seeds=[0], device=torch.device("cpu"), threads=1)
    report = claims.Report(ctx, title="Test chapter")
    report.claim(
        "C1",
        "error is small",
        paper=1e-3,
        rule="err < 0.01",
        judge=lambda e: claims.REPRODUCED if e < 0.01 else claims.NOT_REPRODUCED,
        tolerance=0.005,
    )
    report.claim(
        "C2",
        "two checks",
        paper=None,
        rule="both hold",
        judge=lambda d: claims.all_or_some([d["a"] > 0, d["b"] > 0]),
        tolerance={"a": 0.1},
    )
    report.claim("C3", "needs a GPU", paper="Table 1", rule="-", judge=lambda _: claims.REPRODUCED)
    return report


def test_rules_decide_verdicts(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    assert report.measure("C1", torch.tensor(0.002)) == claims.REPRODUCED
    assert report.measure("C2", {"a": 1.0, "b": -1.0}) == claims.PARTLY
    assert report.untestable("C3", "paper scale only") == claims.NOT_TESTABLE
    assert report.verdicts().splitlines() == [
        "C1: reproduced",
        "C2: partly",
        "C3: not testable at this scale",
    ]
    assert claims.all_or_some([False, False]) == claims.NOT_REPRODUCED
    assert claims.all_or_some([]) == claims.NOT_REPRODUCED


def test_judge_must_return_a_known_verdict(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.claim("C4", "bad judge", paper=None, rule="-", judge=lambda _: "pass")
    with pytest.raises(ValueError, match="not one of"):
        report.measure("C4", 1)
    with pytest.raises(ValueError, match="declared twice"):
        report.claim("C1", "again", paper=None, rule="-", judge=lambda _: claims.REPRODUCED)


def test_write_requires_all_verdicts_and_has_the_schema(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.measure("C1", 0.002)
    with pytest.raises(RuntimeError, match="without a verdict: C2, C3"):
        report.write()
    report.measure("C2", {"a": 1.0, "b": 2.0})
    report.untestable("C3", "GPU")
    path = report.write()
    assert path == tmp_path / "a99.ci.json"
    data = json.loads(path.read_text())
    assert list(data)[:8] == ["chapter", "title", "profile", "device", "torch", "seeds", "wall_s", "claims"]
    assert [c["verdict"] for c in data["claims"]] == [
        "reproduced",
        "reproduced",
        "not testable at this scale",
    ]
    assert data["claims"][0]["ours"] == 0.002 and set(data["claims"][0]) >= {
        "id",
        "text",
        "paper",
        "ours",
        "rule",
    }
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)
    html = report.table().data
    assert "claims-table" in html and "not testable at this scale" in html and "&lt;" in html


def test_compare_flags_verdict_and_tolerance_changes():
    committed = {
        "chapter": "a99",
        "claims": [
            {"id": "C1", "verdict": "reproduced", "ours": 0.002, "tolerance": 0.005},
            {"id": "C2", "verdict": "partly", "ours": {"a": 1.0, "b": 5.0}, "tolerance": {"a": 0.1}},
        ],
    }
    same = json.loads(json.dumps(committed))
    same["claims"][0]["ours"] = 0.006
    same["claims"][1]["ours"]["b"] = 50.0  # b has no tolerance: not compared
    assert claims.compare(same, committed) == []
    moved = json.loads(json.dumps(committed))
    moved["claims"][0]["ours"] = 0.0071
    moved["claims"][1]["verdict"] = "reproduced"
    problems = claims.compare(moved, committed)
    assert len(problems) == 2
    assert "C1" in problems[0] and "tolerance" in problems[0]
    assert "C2" in problems[1] and "verdict" in problems[1]
    missing = {"chapter": "a99", "claims": committed["claims"][:1]}
    assert any("claim ids differ" in p for p in claims.compare(missing, committed))


def test_tiny_values_keep_their_significant_digits(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.measure("C1", 3.5e-11)
    report.measure("C2", {"a": 1.0, "b": 123456789.0})
    report.untestable("C3", "-")
    data = json.loads(report.write().read_text())
    assert data["claims"][0]["ours"] == 3.5e-11
    assert data["claims"][1]["ours"]["b"] == 123457000.0


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "x.json"
    claims.atomic_write_text(target, "one")
    claims.atomic_write_text(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["x.json"]
