"""Unit tests of rnnbook.claims: kinds, roles, verdicts, fragility, JSON, rendering, compare."""

import json

import numpy as np
import pytest
import torch

from rnnbook import claims
from rnnbook.claims import context, control, evidence
from rnnbook.machine.checks import claim_problems
from rnnbook.machine.compare import compare


def make_report(tmp_path, monkeypatch) -> claims.Report:
    from rnnbook import runtime

    monkeypatch.setenv("BOOK_RESULTS_DIR", str(tmp_path))
    ctx = runtime.Context(chapter="a99", profile="ci", seeds=[0, 1], device=torch.device("cpu"), threads=1)
    report = claims.Report(ctx, title="Test chapter")
    report.claim(
        "C1",
        "trained nets are accurate",
        kind="empirical",
        paper=0.95,
        checks=[
            evidence("acc", ">=", 0.9, "accuracy of trained nets", over="min", tol=0.05),
            evidence("gap", ">", 0.2, "trained minus chance", tol=0.05),
            control("acc_untrained", of="acc", what="untrained nets", tol=0.05),
            context("steps", "training steps"),
        ],
        partial=["acc"],
    )
    report.claim("C2", "identity", kind="construction", paper="exact", checks=[evidence("err", "<", 1e-10)])
    report.claim(
        "C3",
        "needs a GPU",
        kind="empirical",
        paper="Table 1",
        checks=[evidence("x", ">=", 1)],
        no_control="full only",
    )
    return report


def test_verdicts_follow_evidence_controls_and_the_declared_partial_rule(tmp_path, monkeypatch):
    cases = [
        (dict(acc=[0.95, 0.93], gap=0.3, acc_untrained=[0.5, 0.5], steps=10), claims.REPRODUCED),
        (dict(acc=[0.95, 0.93], gap=0.1, acc_untrained=[0.5, 0.5], steps=10), claims.PARTLY),
        (dict(acc=[0.95, 0.85], gap=0.3, acc_untrained=[0.5, 0.5], steps=10), claims.NOT_REPRODUCED),
        # a control that passes the rule: the test cannot tell, whatever the evidence says
        (dict(acc=[0.95, 0.93], gap=0.3, acc_untrained=[0.91, 0.95], steps=10), claims.INCONCLUSIVE),
    ]
    for values, want in cases:
        report = make_report(tmp_path, monkeypatch)
        assert report.measure("C1", **values) is None
        assert report.verdict("C1") == want, values


def test_a_control_never_earns_credit_and_partial_names_only_evidence():
    with pytest.raises(ValueError, match="not evidence"):
        claims.Claim(
            "C", "t", "empirical", None, [evidence("a", ">", 0), control("c", of="a", what="x")], ("c",)
        )
    with pytest.raises(ValueError, match="proper subset"):
        claims.Claim("C", "t", "empirical", None, [evidence("a", ">", 0)], ("a",), "none")
    with pytest.raises(ValueError, match="needs a control"):
        claims.Claim("C", "t", "empirical", None, [evidence("a", ">", 0)])
    with pytest.raises(ValueError, match="no controls"):
        claims.Claim("C", "t", "construction", None, [evidence("a", ">", 0), control("c", of="a", what="x")])
    with pytest.raises(ValueError, match="not an evidence check"):
        claims.Claim("C", "t", "empirical", None, [evidence("a", ">", 0), control("c", of="b", what="x")])


def test_a_failing_construction_stops_the_chapter(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.measure("C2", err=1e-12)
    assert report.verdict("C2") == claims.VERIFIED
    report = make_report(tmp_path, monkeypatch)
    with pytest.raises(claims.ConstructionFailed, match="err < 1e-10"):
        report.measure("C2", err=1e-3)


def test_values_must_match_the_declared_checks(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    with pytest.raises(ValueError, match="missing"):
        report.measure("C1", acc=0.95)


def test_fragile_when_the_margin_is_inside_the_seed_spread(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.measure("C1", acc=np.array([0.99, 0.91]), gap=0.3, acc_untrained=torch.tensor([0.5, 0.6]), steps=3)
    checks = {c["name"]: c for c in report.claims["C1"].as_json()["checks"]}
    assert checks["acc"]["value"] == 0.91 and checks["acc"]["spread"] == pytest.approx(0.08)
    assert checks["acc"]["fragile"] is True  # margin 0.01 < spread 0.08
    assert checks["acc_untrained"]["fragile"] is False and checks["acc_untrained"]["passed"] is False
    assert checks["gap"]["fragile"] is False  # one value: no spread


def test_rule_text_is_rendered_from_the_checks(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    rule = report.claims["C1"].rule()
    assert "acc ≥ 0.9" in rule and "gap > 0.2" in rule and "partly if only acc" in rule
    assert "acc_untrained (untrained nets) must fail acc's rule" in rule
    assert report.claims["C2"].rule() == "holds exactly: err < 1e-10"
    html = report.preregistration().data
    assert "[control] acc_untrained: untrained nets" in html and "no control: full only" in html


def test_write_has_the_schema_and_the_checks_rederive_the_verdicts(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    with pytest.raises(RuntimeError, match="without a verdict"):
        report.write()
    report.measure("C1", acc=[0.95, 0.93], gap=0.1, acc_untrained=[0.5, 0.5], steps=10)
    report.measure("C2", err=0.0)
    report.untestable("C3", "needs the paper's 9x9 grid")
    res = json.loads(report.write().read_text())
    c1 = res["claims"][0]
    assert c1["kind"] == "empirical" and c1["verdict"] == "partly"
    assert {k["name"]: k["role"] for k in c1["checks"]} == {
        "acc": "evidence",
        "gap": "evidence",
        "acc_untrained": "control",
        "steps": "context",
    }
    assert all({"name", "role", "value", "threshold", "passed", "fragile"} <= set(k) for k in c1["checks"])
    assert res["claims"][2]["no_control_reason"] == "full only"
    for c in res["claims"]:
        assert claim_problems(c, "x") == []
    # an edited boolean or an edited verdict is caught by re-deriving the verdict
    edited = json.loads(json.dumps(c1))
    edited["checks"][1]["passed"] = True
    assert "says otherwise" in claim_problems(edited, "x")[0]
    edited = json.loads(json.dumps(c1))
    edited["verdict"] = "reproduced"
    assert "its checks give 'partly'" in claim_problems(edited, "x")[0]


def _result(acc: float, tol: float = 0.05) -> dict:
    return {
        "chapter": "a99",
        "title": "t",
        "profile": "ci",
        "seeds": [0],
        "claims": [
            {
                "id": "C1",
                "text": "t",
                "kind": "empirical",
                "paper": 1,
                "rule": "r",
                "partial": [],
                "verdict": "reproduced",
                "checks": [
                    {
                        "name": "acc",
                        "role": "evidence",
                        "op": ">=",
                        "threshold": 0.9,
                        "value": acc,
                        "passed": True,
                        "tol": tol,
                    },
                    {"name": "ok", "role": "context", "value": True, "passed": None, "tol": 0},
                ],
            }
        ],
    }


def test_compare_uses_the_fresh_tolerance_and_compares_every_value():
    assert compare(_result(0.95), _result(0.97)) == []
    assert "tolerance 0.05" in compare(_result(0.95), _result(1.05))[0]
    # a committed file that widens its own tolerance does not widen the comparison
    assert compare(_result(0.95), _result(1.05, tol=1e9))
    edited = _result(0.95)
    edited["claims"][0]["checks"][1]["value"] = False
    assert "must be identical" in " ".join(compare(_result(0.95), edited))
    edited = _result(0.95)
    edited["claims"][0]["rule"] = "looser"
    assert "rule" in " ".join(compare(_result(0.95), edited))
    edited = _result(0.95)
    edited["seeds"] = [7]
    assert "seeds" in " ".join(compare(_result(0.95), edited))


def test_tiny_values_keep_their_significant_digits(tmp_path, monkeypatch):
    report = make_report(tmp_path, monkeypatch)
    report.measure("C2", err=3.49623e-11)
    assert report.claims["C2"].as_json()["checks"][0]["value"] == 3.49623e-11


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "x.json"
    claims.atomic_write_text(target, "{}")
    claims.atomic_write_text(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_an_illustration_is_judged_like_an_empirical_claim_and_never_reads_reproduced():
    c = claims.Claim(
        "I1",
        "toy",
        "illustration",
        None,
        [evidence("sync", ">=", 0.9), control("sync_uncoupled", of="sync", what="K=0")],
    )
    assert c.judge({"sync": 0.95, "sync_uncoupled": 0.2}) == claims.ILLUSTRATED
    assert c.judge({"sync": 0.5, "sync_uncoupled": 0.2}) == claims.NOT_ILLUSTRATED
    assert c.judge({"sync": 0.95, "sync_uncoupled": 0.93}) == claims.INCONCLUSIVE
    assert c.as_json()["kind"] == "illustration"
    # counted apart on the status page: not among the empirical reproductions
    from rnnbook.machine.status import counts

    c.verdict = c.judge({"sync": 0.95, "sync_uncoupled": 0.2})
    row = json.loads(json.dumps(c.as_json()))
    n = counts({"claims": [row]})
    assert n["illustrated"] == 1 and n["reproduced"] == 0
    assert claim_problems(row, "t.json") == []


def test_a_control_that_could_not_be_measured_does_not_count_as_failing(tmp_path, monkeypatch):
    """A NaN or None control (e.g. a cross-seed control run with one seed) leaves the claim
    inconclusive: only a measured control that fails the rule supports the evidence."""
    good = dict(acc=[0.95, 0.93], gap=0.3, steps=10)
    for unmeasured in (float("nan"), None, [float("nan"), float("nan")]):
        report = make_report(tmp_path, monkeypatch)
        report.measure("C1", acc_untrained=unmeasured, **good)
        assert report.verdict("C1") == claims.INCONCLUSIVE, unmeasured
        row = next(c for c in report.as_json() if c["id"] == "C1")
        assert claim_problems(json.loads(json.dumps(row)), "t.json") == []  # the check re-derives it
    report = make_report(tmp_path, monkeypatch)
    report.measure("C1", acc_untrained=[0.5, 0.5], **good)
    assert report.verdict("C1") == claims.REPRODUCED
    assert claims.verdict_of("empirical", {"acc": True}, [None], []) == claims.INCONCLUSIVE
