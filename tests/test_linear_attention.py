"""rnnbook.linear_attention: every parallel form against its recurrence as a plain loop,
values and gradients, in float64."""

from __future__ import annotations

import math

import pytest
import torch

from rnnbook import linear_attention as la

G = torch.Generator().manual_seed(0)


def rand(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=G, dtype=torch.float64)


def linear_attention_loop(fq, fk, v):
    """S_t = S_{t-1} + f_k,t v_t^T, z_t = z_{t-1} + f_k,t, y_t = S_t^T f_q,t / z_t . f_q,t."""
    S = torch.zeros(fk.shape[-1], v.shape[-1], dtype=v.dtype)
    z = torch.zeros(fk.shape[-1], dtype=v.dtype)
    out = []
    for t in range(v.shape[0]):
        S = S + torch.outer(fk[t], v[t])
        z = z + fk[t]
        out.append(S.T @ fq[t] / (z @ fq[t]))
    return torch.stack(out)


def decayed_loop(q, k, v, log_decay):
    """Per head: S_i = diag(lambda_i) S_{i-1} + k_i v_i^T, o_i = S_i^T q_i."""
    L, H, K = q.shape
    S = torch.zeros(H, K, v.shape[-1], dtype=v.dtype)
    out = []
    for i in range(L):
        S = log_decay[i].exp()[..., None] * S + k[i][..., None] * v[i][:, None, :]
        out.append(torch.einsum("hk,hkv->hv", q[i], S))
    return torch.stack(out)


def softmax_loop(s, v):
    """The many-to-one attention RNN on (m, c, a), one prefix after another."""
    m, c, a = torch.tensor(-math.inf, dtype=s.dtype), torch.zeros((), dtype=s.dtype), 0 * v[0]
    out = []
    for s_i, v_i in zip(s, v, strict=True):
        m_new = torch.maximum(m, s_i)
        c = c * torch.exp(m - m_new) + torch.exp(s_i - m_new)
        a = a * torch.exp(m - m_new) + v_i * torch.exp(s_i - m_new)
        m = m_new
        out.append(a / c)
    return torch.stack(out)


def softmax_reference_loop(q, k, v):
    return torch.stack([torch.softmax(k[: t + 1] @ q[t], 0) @ v[: t + 1] for t in range(len(q))])


def grads(fn, *xs):
    xs = [x.detach().clone().requires_grad_(True) for x in xs]
    out = fn(*xs)
    r = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    (out * r).sum().backward()
    return out.detach(), [x.grad for x in xs]


def assert_same(fast, slow, *xs, atol=1e-10):
    y1, g1 = grads(fast, *xs)
    y2, g2 = grads(slow, *xs)
    assert torch.allclose(y1, y2, atol=atol)
    for a, b in zip(g1, g2, strict=True):
        assert torch.allclose(a, b, atol=atol)


def test_elu_features_are_positive():
    x = rand(50) * 10
    f = la.elu_features(x)
    assert (f > 0).all() and torch.allclose(f[x > 0], x[x > 0] + 1)


def test_causal_linear_attention_is_its_recurrence():
    L, m, d = 12, 5, 3
    fq, fk, v = la.elu_features(rand(L, m)), la.elu_features(rand(L, m)), rand(L, d)
    assert_same(la.causal_linear_attention, linear_attention_loop, fq, fk, v)
    # batch axes broadcast
    batched = la.causal_linear_attention(fq.expand(2, L, m), fk.expand(2, L, m), v.expand(2, L, d))
    assert torch.allclose(batched[1], linear_attention_loop(fq, fk, v))


def test_causal_softmax_attention_against_a_loop():
    q, k, v = rand(10, 4), rand(10, 4), rand(10, 3)
    assert_same(la.causal_softmax_attention, softmax_reference_loop, q, k, v)


def test_positive_random_features_estimate_the_softmax_kernel():
    # unbiased, with relative spread about exp(|q + k|^2) / sqrt(m): small inputs, many draws
    d, m = 4, 200000
    q, k = rand(3, d) / 4, rand(3, d) / 4
    w = rand(m, d)
    est = la.positive_random_features(q, w) @ la.positive_random_features(k, w).T
    assert (la.positive_random_features(q, w) > 0).all()
    assert torch.allclose(est, torch.exp(q @ k.T), rtol=0.02)


def test_decayed_attention_is_its_recurrence():
    L, H, K, V = 9, 2, 3, 4
    q, k, v = rand(L, H, K), rand(L, H, K), rand(L, H, V)
    log_decay = -torch.rand(L, H, K, generator=G, dtype=torch.float64)
    assert_same(la.decayed_attention, decayed_loop, q, k, v, log_decay)


@pytest.mark.parametrize("scale", [1.0, 80.0])
def test_softmax_prefix_scan_is_the_attention_rnn(scale):
    s, v = rand(33) * scale, rand(33, 5)
    assert_same(la.softmax_prefix_scan, softmax_loop, s, v, atol=1e-9)
    assert torch.isfinite(la.softmax_prefix_scan(s.float(), v.float())).all()
    # and the prefix outputs are softmax attention over each prefix
    ref = torch.stack([torch.softmax(s[: t + 1], 0) @ v[: t + 1] for t in range(33)])
    assert torch.allclose(la.softmax_prefix_scan(s, v), ref, atol=1e-10)
