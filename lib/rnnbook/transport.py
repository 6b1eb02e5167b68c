"""Entropic optimal transport between two batches of points: the debiased Sinkhorn divergence.

Introduced in A08. A loss for *distribution matching*: a network that generates samples (here
whole output sequences, flattened) is trained so that the cloud of its samples matches a cloud
of target samples, without pairing them one to one.

With uniform weights on the points ``x_1..x_n`` and ``y_1..y_m`` and the cost
``C(x, y) = |x - y|^2 / 2`` (the convention of ``geomloss`` for ``p = 2``), the entropic transport
cost is

    OT_eps(x, y) = min_pi <pi, C> + eps KL(pi | a (x) b),

whose dual optimum ``(f, g)`` solves ``f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)`` and
the symmetric equation for ``g``; then ``OT_eps = <a, f> + <b, g>``. The Sinkhorn divergence

    S_eps(x, y) = OT_eps(x, y) - OT_eps(x, x) / 2 - OT_eps(y, y) / 2

is zero for identical batches, symmetric, and tends to the unregularised transport cost as
``eps -> 0``.

Everything runs in the log domain (``logsumexp``), with ``eps``-annealing from the scale of the
largest cost down to ``eps``. The potentials are found under ``torch.no_grad()``; one last
*differentiable* half-step recomputes ``f`` from the frozen ``g``. By the envelope theorem
its gradient is exactly the gradient of ``OT_eps`` at convergence (with respect to both point
clouds), so backpropagation costs one ``logsumexp`` instead of the whole loop.
"""

from __future__ import annotations

import math

import torch

__all__ = ["cost_matrix", "eps_schedule", "ot_eps", "sinkhorn_divergence", "sinkhorn_potentials"]


def cost_matrix(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``C_ij = |x_i - y_j|^2 / 2`` for ``x`` of shape ``(..., n, d)`` and ``y`` ``(..., m, d)``."""
    xx = (x * x).sum(-1)[..., :, None]
    yy = (y * y).sum(-1)[..., None, :]
    return (0.5 * (xx + yy) - x @ y.transpose(-1, -2)).clamp_min(0.0)


def eps_schedule(diameter_cost: float, eps: float, scaling: float, iters: int) -> list[float]:
    """Annealed temperatures: ``diameter_cost * scaling^k`` down to ``eps``, then ``iters`` at ``eps``.

    ``diameter_cost`` is the largest cost (start at a temperature where one step is enough);
    ``scaling`` in (0, 1) is the ratio between consecutive temperatures.
    """
    if not 0.0 < scaling < 1.0:
        raise ValueError("scaling must lie in (0, 1)")
    steps = []
    e = max(diameter_cost, eps)
    while e > eps:
        steps.append(e)
        e *= scaling
    return steps + [eps] * max(iters, 1)


def _softmin(eps: float, C: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``-eps log sum_j exp(h_j - C_ij / eps)`` over the last axis of ``C`` (``h``: ``(..., m)``)."""
    return -eps * torch.logsumexp(h[..., None, :] - C / eps, dim=-1)


@torch.no_grad()
def sinkhorn_potentials(
    x: torch.Tensor, y: torch.Tensor, eps: float, iters: int = 20, scaling: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dual potentials ``(f, g)`` of ``OT_eps(x, y)`` with uniform weights (no gradient).

    Alternating log-domain Sinkhorn updates along :func:`eps_schedule`. When ``x is y`` the
    problem is symmetric and the damped update ``f <- (f + T(f)) / 2`` is used (``g = f``).
    """
    n, m = x.shape[-2], y.shape[-2]
    a_log, b_log = -math.log(n), -math.log(m)
    C_xy = cost_matrix(x, y)
    schedule = eps_schedule(float(C_xy.max()), eps, scaling, iters)
    if x is y:
        f = _softmin(schedule[0], C_xy, torch.full_like(C_xy[..., 0, :], a_log))
        for e in schedule:
            f = 0.5 * (f + _softmin(e, C_xy, a_log + f / e))
        return f, f
    C_yx = C_xy.transpose(-1, -2)
    g = _softmin(schedule[0], C_yx, torch.full_like(C_xy[..., 0, :], a_log))
    for e in schedule:
        f = _softmin(e, C_xy, b_log + g / e)
        g = _softmin(e, C_yx, a_log + f / e)
    return f, g


def ot_eps(
    x: torch.Tensor, y: torch.Tensor, eps: float, iters: int = 20, scaling: float = 0.5
) -> torch.Tensor:
    """Entropic transport cost ``OT_eps(x, y)`` (shape ``(...)``), differentiable in ``x`` and ``y``.

    The potentials come from :func:`sinkhorn_potentials`; the returned value is
    ``<a, f(x, y; g)> + <b, g>`` with ``g`` frozen and ``f`` recomputed with gradients: its
    gradient is the envelope gradient ``sum_j pi_ij grad C(x_i, y_j)`` (and likewise in ``y``).
    """
    f, g = sinkhorn_potentials(x, y, eps, iters, scaling)
    m = y.shape[-2]
    f_diff = _softmin(eps, cost_matrix(x, y), -math.log(m) + g / eps)
    return f_diff.mean(-1) + g.mean(-1)


def sinkhorn_divergence(
    x: torch.Tensor, y: torch.Tensor, eps: float, iters: int = 20, scaling: float = 0.5
) -> torch.Tensor:
    """Debiased Sinkhorn divergence ``OT(x, y) - OT(x, x) / 2 - OT(y, y) / 2`` (shape ``(...)``).

    ``x``: ``(..., n, d)``, ``y``: ``(..., m, d)``; leading axes are independent problems (for
    example one per model of a batched network). ``eps`` is the temperature in cost units
    (``geomloss``'s ``blur`` is ``sqrt(eps)`` for ``p = 2``).
    """
    return (
        ot_eps(x, y, eps, iters, scaling)
        - 0.5 * ot_eps(x, x, eps, iters, scaling)
        - 0.5 * ot_eps(y, y, eps, iters, scaling)
    )
