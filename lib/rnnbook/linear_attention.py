"""Linear attention and its relatives, in the parallel (masked) forms the chapters train with.

Gathered for the part "Parallel and linear recurrences", whose chapters each had their own
copy: A17 (LightNet: attention with a per-channel decay), A36 (the Dynamical Systems
Framework: normalised linear attention, positive random features of softmax) and A38 (Aaren:
softmax attention as a prefix scan). Every function here is the parallel form of a recurrence;
the unit tests compare each with that recurrence written as a plain loop, values and
gradients.

- :func:`elu_features`: the feature map ``elu(x) + 1`` of Katharopoulos et al. (2020).
- :func:`causal_linear_attention`: normalised causal linear attention
  ``y_t = sum_{j<=t} (f_q,t . f_k,j) v_j / sum_{j<=t} (f_q,t . f_k,j)``; as a recurrence,
  ``S_t = S_{t-1} + f_k,t v_t^T``, ``z_t = z_{t-1} + f_k,t``, ``y_t = S_t^T f_q,t / z_t . f_q,t``.
- :func:`positive_random_features`: ``phi(x) = exp(w x - |x|^2 / 2) / sqrt(m)``, whose inner
  products estimate ``exp(q . k)`` without bias for ``w ~ N(0, I)`` (Choromanski et al. 2021).
- :func:`causal_softmax_attention`: the masked softmax reference (no scaling of the scores).
- :func:`decayed_attention`: unnormalised linear attention with a per-channel decay,
  ``o_i = sum_{j<=i} q_i^T diag(prod_{j<l<=i} lambda_l) k_j v_j^T``; as a recurrence,
  ``S_i = diag(lambda_i) S_{i-1} + k_i v_i^T``, ``o_i = S_i^T q_i``.
- :func:`softmax_prefix_scan`: causal softmax attention for one query per position over
  scores ``s`` (``o_k = sum_{i<=k} e^{s_i} v_i / sum_{i<=k} e^{s_i}``) as a linear recurrence
  solved by :func:`rnnbook.scan.parallel_scan`, stable for any score range: the running
  maximum (``torch.cummax``) is fixed first, after which the rescaled sums obey a linear
  recurrence with coefficients in ``(0, 1]``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbook import scan

__all__ = [
    "causal_linear_attention",
    "causal_softmax_attention",
    "decayed_attention",
    "elu_features",
    "positive_random_features",
    "softmax_prefix_scan",
]


def elu_features(x: Tensor) -> Tensor:
    """``elu(x) + 1``: positive features for linear attention."""
    return F.elu(x) + 1


def causal_linear_attention(fq: Tensor, fk: Tensor, v: Tensor) -> Tensor:
    """Normalised causal linear attention from features ``fq``, ``fk`` ``(..., L, m)`` and
    values ``v`` ``(..., L, d)``: the masked parallel form, ``(..., L, d)``."""
    A = (fq @ fk.transpose(-1, -2)).tril()
    return (A / A.sum(-1, keepdim=True)) @ v


def positive_random_features(x: Tensor, w: Tensor) -> Tensor:
    """Positive random features of ``exp(q . k)``: ``x`` ``(..., L, d)``, ``w`` ``(..., m, d)``
    -> ``(..., L, m)``."""
    sq = (x * x).sum(-1, keepdim=True) / 2
    return torch.exp(x @ w.transpose(-1, -2) - sq) / w.shape[-2] ** 0.5


def causal_softmax_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """``softmax(q k^T)`` masked to ``j <= t``, times ``v`` (scores not scaled)."""
    s = q @ k.transpose(-1, -2)
    mask = torch.ones(s.shape[-2:], dtype=torch.bool, device=s.device).tril()
    return s.masked_fill(~mask, -math.inf).softmax(-1) @ v


def decayed_attention(q: Tensor, k: Tensor, v: Tensor, log_decay: Tensor) -> Tensor:
    """Linear attention with per-channel decay, masked parallel form.

    ``q``, ``k``, ``log_decay`` ``(..., L, H, K)``, ``v`` ``(..., L, H, V)`` -> ``(..., L, H, V)``:
    ``o_i = sum_{j<=i} q_i^T diag(exp(c_i - c_j)) k_j v_j^T`` with ``c = cumsum(log_decay)``
    along the sequence. The factorised ``exp(c_i) exp(-c_j)`` overflows when the cumulative
    decay leaves float range (``|c|`` beyond ~80 in float32): chunk longer sequences.
    """
    c = log_decay.cumsum(-3)
    a = torch.einsum("...ihk,...jhk->...hij", q * c.exp(), k * (-c).exp())
    n = q.shape[-3]
    a = a * torch.ones(n, n, dtype=a.dtype, device=a.device).tril()
    return torch.einsum("...hij,...jhv->...ihv", a, v)


def softmax_prefix_scan(s: Tensor, v: Tensor) -> Tensor:
    """Prefix softmax attention ``o_k = sum_{i<=k} e^{s_i} v_i / sum_{i<=k} e^{s_i}`` by a
    stable linear recurrence; ``s`` ``(..., N)``, ``v`` ``(..., N, d)`` -> ``(..., N, d)``.

    With ``m_k`` the running maximum (detached: ``o`` does not depend on the shift, as in a
    stable log-sum-exp), ``h_k = e^{m_{k-1} - m_k} h_{k-1} + e^{s_k - m_k} (1, v_k)`` and
    ``o_k = h_k[1:] / h_k[0]``.
    """
    m = torch.cummax(s.detach(), -1).values
    m_prev = torch.cat([m[..., :1], m[..., :-1]], -1)
    a = torch.exp(m_prev - m)[..., None]
    b = torch.exp(s - m)[..., None] * torch.cat([torch.ones_like(v[..., :1]), v], -1)
    h = scan.parallel_scan(a, b)
    return h[..., 1:] / h[..., :1]
