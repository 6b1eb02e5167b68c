"""Tests of chapter A38's local code (Attention as an RNN / Aaren).

The functions and the model class live in the chapter (``book/related/a38_attention_as_rnn.py``);
this file takes their definitions from the chapter's source (without running the chapter) and
checks them against plain loops, with gradients: the many-to-one recurrence, the (m, u, w)
Hillis-Steele scan, the linear-recurrence form (``rnnbook.linear_attention``, through
``rnnbook.scan``), the streaming forms of
Aaren and of the Transformer with a KV cache, and the parameter matching.
"""

from __future__ import annotations

import ast
import math
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from rnnbook import linear_attention, scan

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "related" / "a38_attention_as_rnn.py"
NAMES = {
    "attention_rnn",
    "softmax_attention",
    "combine",
    "scan_mw",
    "scan_naive",
    "causal_attention_ref",
    "sinusoid",
    "Stacked",
    "n_params",
    "stream",
}


@pytest.fixture(scope="module")
def a38() -> dict[str, Any]:
    """The chapter's definitions, executed in a namespace of their own."""
    tree = ast.parse(CHAPTER.read_text())
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name in NAMES]
    assert {n.name for n in keep} == NAMES
    assert "scan_linear = la.softmax_prefix_scan" in CHAPTER.read_text()
    ns: dict[str, Any] = {"math": math, "time": time, "torch": torch, "F": F, "scan": scan}
    # the chapter's scan_linear is the library's form, bound by an assignment, not a def
    ns["la"] = linear_attention
    ns["scan_linear"] = linear_attention.softmax_prefix_scan
    ns["sync"] = lambda: None
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(CHAPTER), "exec"), ns)
    return ns


def loop_prefix_attention(s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """o_k = softmax(s_{1..k}) @ v_{1..k}, one prefix at a time."""
    return torch.stack(
        [torch.softmax(s[..., : k + 1], -1)[..., None, :] @ v[..., : k + 1, :] for k in range(s.shape[-1])],
        -3,
    )[..., 0, :]


def test_many_to_one_rnn(a38: dict[str, Any]) -> None:
    g = torch.Generator().manual_seed(0)
    q, K, V = (torch.randn(*sh, generator=g, dtype=torch.float64) for sh in ((6,), (23, 6), (23, 6)))
    o, (m, c, a) = a38["attention_rnn"](q, K, V)
    assert torch.allclose(o, torch.softmax(K @ q, -1) @ V, atol=1e-12)
    assert float(m) == float((K @ q).max())


@pytest.mark.parametrize("N", [1, 2, 7, 37, 64])
def test_scans_against_loop_and_gradients(a38: dict[str, Any], N: int) -> None:
    g = torch.Generator().manual_seed(N)
    s = 5 * torch.randn(3, N, generator=g, dtype=torch.float64)
    v = torch.randn(3, N, 4, generator=g, dtype=torch.float64)
    ref = loop_prefix_attention(s, v)
    assert torch.allclose(a38["causal_attention_ref"](s, v), ref, atol=1e-12)
    w = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    grads = []
    for f in (a38["scan_mw"], a38["scan_linear"], loop_prefix_attention):
        s_, v_ = s.clone().requires_grad_(), v.clone().requires_grad_()
        out = f(s_, v_)
        assert torch.allclose(out, ref, atol=1e-12)
        (out * w).sum().backward()
        # N = 1: the output is v itself, and the (m, u, w) scan never touches s
        grads.append((torch.zeros_like(s) if s_.grad is None else s_.grad, v_.grad))
    for gs, gv in grads[:2]:
        assert torch.allclose(gs, grads[2][0], atol=1e-11)
        assert torch.allclose(gv, grads[2][1], atol=1e-11)


def test_stability_and_naive_overflow(a38: dict[str, Any]) -> None:
    g = torch.Generator().manual_seed(1)
    s = (2 * torch.rand(256, generator=g, dtype=torch.float64) - 1) * 100
    v = torch.randn(256, 3, generator=g, dtype=torch.float64)
    ref = loop_prefix_attention(s, v)
    for dt, atol in ((torch.float32, 1e-4), (torch.float16, 0.1)):
        out = a38["scan_mw"](s.to(dt), v.to(dt))
        assert torch.isfinite(out).all()
        assert (out.double() - ref).abs().max() < atol
    assert torch.allclose(a38["scan_linear"](s.float(), v.float()).double(), ref, atol=1e-4)
    assert not torch.isfinite(a38["scan_naive"](s.float(), v.float())).all()
    # a common shift leaves attention unchanged; the scan does not notice it
    assert torch.allclose(a38["scan_mw"](s - 1000, v), ref, atol=1e-12)


@pytest.mark.parametrize("kind", ["aaren", "tf"])
def test_stream_equals_parallel(a38: dict[str, Any], kind: str) -> None:
    arch = dict(d=8, layers=2, heads=2, ffn=12, patch=4, horizon=3)
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    model = a38["Stacked"](kind, gens, **arch).double()
    one = a38["Stacked"](kind, [torch.Generator()], **arch).double()
    one.load_state_dict({k: v[:1] for k, v in model.state_dict().items()})
    z = torch.randn(1, 2, 11, 8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        out, floats, secs = a38["stream"](one, z)
        assert torch.allclose(out, one.encode(z), atol=1e-12)
        assert torch.allclose(model.encode(z.expand(2, -1, -1, -1))[:1], out, atol=1e-12)
    assert len(secs) == 11
    # Aaren: (m, u) per head and w (d) per layer; Transformer: keys and values of every token
    assert floats == (2 * (8 + 2 * 2) if kind == "aaren" else 2 * 2 * 11 * 8)
    # seeds do not share weights, and a seed's weights depend only on its own generator
    assert not torch.equal(model.emb[0][0], model.emb[0][1])
    solo = a38["Stacked"](kind, [torch.Generator().manual_seed(1)], **arch)
    assert torch.equal(solo.emb[0][0], model.emb[0][1].float())


def test_forward_shapes_and_parameter_match(a38: dict[str, Any]) -> None:
    for d in (16, 32, 64):
        kw = dict(d=d, layers=2, heads=4, ffn=2 * d, patch=4, horizon=24)
        na, nt = (a38["n_params"](a38["Stacked"](k, [torch.Generator()], **kw)) for k in ("aaren", "tf"))
        assert abs(na - nt) / nt < 0.01
    model = a38["Stacked"]("aaren", [torch.Generator(), torch.Generator()], **kw)
    x = torch.randn(2, 5, 96)
    assert model(x, 4).shape == (2, 5, 24)
