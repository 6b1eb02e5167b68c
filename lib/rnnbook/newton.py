"""Newton's method for nonlinear recurrences, solved in parallel over time with linear scans.

Introduced for chapter A32 (ParaRNN, Danieli et al. 2025): the nonlinear recurrence
``h_t = f(h_{t-1}, u_t)`` over all ``t`` is one system of equations ``F(h) = 0`` with
``F(h)_t = h_t - f(h_{t-1}, u_t)``. Its Jacobian is block-bidiagonal (the identity on the
diagonal, ``-J_t = -df/dh(h_{t-1}, u_t)`` below it), so each Newton step is a *linear*
recurrence,

    h^{k+1}_t = J^k_t h^{k+1}_{t-1} + (f(h^k_{t-1}, u_t) - J^k_t h^k_{t-1}),

which :func:`rnnbook.scan.parallel_scan` (diagonal ``J``) or
:func:`rnnbook.scan.parallel_matrix_scan` (small dense or block ``J``) solves in log depth.

Conventions (every function here):

- states ``h``: ``(..., L, n)``; inputs ``u``: ``(..., L, m)`` (time on axis ``-2``; the input
  projection, e.g. ``u = x W + b``, is done by the caller, outside the recurrence);
- a *cell* is a pair of functions ``step(h_prev, u, *params) -> h`` and
  ``jacobian(h_prev, u, *params)``, both applied to whole trajectories at once: ``h_prev`` and
  ``u`` carry a time axis (of length ``L``, or 1 in the sequential loop), and ``params`` have
  the batch shape of ``h`` *without* the time axis (the cell inserts it). ``jacobian`` returns
  ``(..., L, n)`` for a diagonal cell and ``(..., L, n, n)`` for a dense one;
- ``h0`` (the state before ``t = 0``) is ``(..., n)`` or ``None`` (zeros).

Contents: the ParaGRU cell (:func:`paragru_step`, :func:`paragru_jacobian`; diagonal recurrence,
so a diagonal Jacobian), a dense tanh cell (:func:`tanh_step`, :func:`tanh_jacobian`), the
reference loop :func:`sequential`, the starting point :func:`initial_guess`, :func:`newton` and
the Jacobian-free fixed-point iteration :func:`picard` with a residual trace per iteration
(:class:`Trace`), and :func:`newton_rnn`,
a differentiable solve whose backward pass is the adjoint recurrence
``lam_t = g_t + J_{t+1}^T lam_{t+1}``, itself linear: one reverse scan, no Newton.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from rnnbook import scan

__all__ = [
    "Trace",
    "initial_guess",
    "newton",
    "newton_rnn",
    "paragru_jacobian",
    "paragru_step",
    "picard",
    "residual",
    "sequential",
    "tanh_jacobian",
    "tanh_step",
]

Step = Callable[..., torch.Tensor]


# --------------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------------


def _gates(h_prev: torch.Tensor, u: torch.Tensor, a: torch.Tensor):
    a = a.unsqueeze(-3)  # (..., 1, 3, n): broadcast over time
    a_z, a_r, a_h = a[..., 0, :], a[..., 1, :], a[..., 2, :]
    u_z, u_r, u_h = u.chunk(3, dim=-1)
    z = torch.sigmoid(a_z * h_prev + u_z)
    r = torch.sigmoid(a_r * h_prev + u_r)
    c = torch.tanh(a_h * h_prev * r + u_h)
    return a_z, a_r, a_h, z, r, c


def paragru_step(h_prev: torch.Tensor, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """ParaGRU: a GRU whose recurrent weights are diagonal.

    ``z = sigmoid(a_z h + u_z)``, ``r = sigmoid(a_r h + u_r)``, ``c = tanh(a_h (h r) + u_h)``,
    ``h' = z c + (1 - z) h``. ``u``: ``(..., T, 3n)`` (the three gates' input terms, bias
    included); ``a``: ``(..., 3, n)`` (rows z, r, h). Returns ``(..., T, n)``.
    """
    _, _, _, z, _, c = _gates(h_prev, u, a)
    return z * c + (1 - z) * h_prev


def paragru_jacobian(h_prev: torch.Tensor, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The diagonal of ``d paragru_step / d h_prev``: ``(..., T, n)``.

    ``J = (1 - z) + (c - h) z (1 - z) a_z + z (1 - c^2) a_h (r + h r (1 - r) a_r)``.
    """
    a_z, a_r, a_h, z, r, c = _gates(h_prev, u, a)
    dz = z * (1 - z) * a_z
    dc = (1 - c * c) * a_h * (r + h_prev * r * (1 - r) * a_r)
    return (1 - z) + (c - h_prev) * dz + z * dc


def tanh_step(h_prev: torch.Tensor, u: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Elman cell with a dense recurrence: ``h' = tanh(W h + u)``; ``W``: ``(..., n, n)``."""
    W = W.unsqueeze(-3)
    return torch.tanh(torch.matmul(W, h_prev.unsqueeze(-1)).squeeze(-1) + u)


def tanh_jacobian(h_prev: torch.Tensor, u: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``d tanh_step / d h_prev = diag(1 - h'^2) W``: ``(..., T, n, n)``."""
    h = tanh_step(h_prev, u, W)
    return (1 - h * h).unsqueeze(-1) * W.unsqueeze(-3)


# --------------------------------------------------------------------------------------------
# solvers
# --------------------------------------------------------------------------------------------


def _shift(h: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    """``h_{t-1}`` for every ``t``: ``h`` moved one step later, ``h0`` (or zeros) first."""
    first = torch.zeros_like(h[..., :1, :]) if h0 is None else h0.unsqueeze(-2).expand_as(h[..., :1, :])
    return torch.cat([first, h[..., :-1, :]], dim=-2)


def residual(step: Step, h: torch.Tensor, u: torch.Tensor, *params, h0=None) -> torch.Tensor:
    """``F(h)_t = h_t - f(h_{t-1}, u_t)`` for a whole trajectory: ``(..., L, n)``."""
    return h - step(_shift(h, h0), u, *params)


def _state_size(step: Step, u: torch.Tensor, params, h0, n: int | None) -> int:
    """The state size: ``h0``'s, ``n``, or found by applying the cell to a zero scalar state
    (works for cells with elementwise recurrences, e.g. ParaGRU)."""
    if h0 is not None:
        return h0.shape[-1]
    if n is not None:
        return n
    return step(torch.zeros(1, device=u.device, dtype=u.dtype), u[..., :1, :], *params).shape[-1]


def sequential(
    step: Step, u: torch.Tensor, *params, h0: torch.Tensor | None = None, n: int | None = None
) -> torch.Tensor:
    """Reference loop: ``h_t = step(h_{t-1}, u_t)``, one Python step per time step (autograd
    records each, so backpropagating through it is plain BPTT). ``n``: the state size, needed
    only for a dense cell without ``h0``."""
    size = _state_size(step, u, params, h0, n)
    h = (
        torch.zeros(*u.shape[:-2], 1, size, device=u.device, dtype=u.dtype)
        if h0 is None
        else h0.unsqueeze(-2)
    )
    out = []
    for t in range(u.shape[-2]):
        h = step(h, u[..., t : t + 1, :], *params)
        out.append(h)
    return torch.cat(out, dim=-2)


@dataclass
class Trace:
    """Residuals ``max |F(h^k)|`` of an iteration, ``k = 0`` (the initial guess), 1, 2, ...

    ``residuals[k]`` is the largest absolute residual over the whole batch after ``k`` updates
    (a plain list of floats). ``iterations(tol)``: the first ``k`` with residual ``<= tol``
    (``None`` if never reached).
    """

    residuals: list[float] = field(default_factory=list)

    def iterations(self, tol: float) -> int | None:
        for k, r in enumerate(self.residuals):
            if r <= tol:
                return k
        return None


def _solve_linear(J: torch.Tensor, b: torch.Tensor, matrix: bool) -> torch.Tensor:
    return scan.parallel_matrix_scan(J, b) if matrix else scan.parallel_scan(J, b)


def initial_guess(step: Step, u: torch.Tensor, *params, h0=None, n: int | None = None) -> torch.Tensor:
    """``h^0_t = f(0, u_t)`` (``f(h0, u_0)`` at ``t = 0``): the cell applied to a zero state, as in
    the authors' ParaGRU."""
    zero = torch.zeros(*u.shape[:-1], _state_size(step, u, params, h0, n), device=u.device, dtype=u.dtype)
    h = step(zero, u, *params)
    if h0 is not None:
        h = torch.cat([step(h0.unsqueeze(-2), u[..., :1, :], *params), h[..., 1:, :]], dim=-2)
    return h


def newton(
    step: Step,
    jacobian: Step,
    u: torch.Tensor,
    *params,
    h0: torch.Tensor | None = None,
    iters: int = 3,
    tol: float | None = None,
    trace: bool = False,
    guess: torch.Tensor | None = None,
    n: int | None = None,
) -> tuple[torch.Tensor, Trace | None]:
    """Solve ``h_t = f(h_{t-1}, u_t)`` for all ``t`` by Newton's method with parallel scans.

    Starts from ``guess`` (default :func:`initial_guess`, ``f(0, u_t)``) and makes at most
    ``iters`` updates; with ``tol`` it stops as soon as ``max |F(h)| <= tol``. Each update costs
    one evaluation of the cell, one of its Jacobian and one scan (diagonal or matrix, by the
    shape of the Jacobian). With ``trace=True`` the residual after every update is recorded (one
    more cell evaluation at the end). No autograd record: use :func:`newton_rnn` to train.
    """
    with torch.no_grad():
        h = initial_guess(step, u, *params, h0=h0, n=n) if guess is None else guess
        rec = Trace() if trace else None
        for _ in range(iters):
            h_prev = _shift(h, h0)
            f = step(h_prev, u, *params)
            r = f - h  # minus the residual
            if rec is not None or tol is not None:
                res = float(r.abs().max())
                if rec is not None:
                    rec.residuals.append(res)
                if tol is not None and res <= tol:
                    return h, rec
            J = jacobian(h_prev, u, *params)
            matrix = J.dim() == h.dim() + 1
            # Newton: delta_t = J_t delta_{t-1} + r_t, delta_{-1} = 0 (h0 is given)
            h = h + _solve_linear(J, r, matrix)
        if rec is not None:
            rec.residuals.append(float(residual(step, h, u, *params, h0=h0).abs().max()))
        return h, rec


def picard(
    step: Step,
    u: torch.Tensor,
    *params,
    h0: torch.Tensor | None = None,
    iters: int = 3,
    tol: float | None = None,
    trace: bool = False,
    guess: torch.Tensor | None = None,
    n: int | None = None,
) -> tuple[torch.Tensor, Trace | None]:
    """The Jacobian-free fixed-point (Picard / Jacobi) iteration ``h^{k+1}_t = f(h^k_{t-1}, u_t)``.

    Every update evaluates the cell at all ``t`` at once (parallel over time, no scan); it is
    exact after at most ``L`` updates (one more time step becomes exact per update). Same
    arguments and trace as :func:`newton`.
    """
    with torch.no_grad():
        h = initial_guess(step, u, *params, h0=h0, n=n) if guess is None else guess
        rec = Trace() if trace else None
        for _ in range(iters):
            f = step(_shift(h, h0), u, *params)
            if rec is not None or tol is not None:
                res = float((h - f).abs().max())
                if rec is not None:
                    rec.residuals.append(res)
                if tol is not None and res <= tol:
                    return h, rec
            h = f
        if rec is not None:
            rec.residuals.append(float(residual(step, h, u, *params, h0=h0).abs().max()))
        return h, rec


# --------------------------------------------------------------------------------------------
# differentiable solve
# --------------------------------------------------------------------------------------------


class _NewtonRNN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, step, jacobian, opts, h0, u, *params):  # type: ignore[override]
        iters, tol, n = opts
        h, _ = newton(step, jacobian, u, *params, h0=h0, iters=iters, tol=tol, n=n)
        ctx.step, ctx.jacobian = step, jacobian
        ctx.has_h0 = h0 is not None
        ctx.save_for_backward(h, u, h0 if h0 is not None else h.new_zeros(()), *params)
        return h

    @staticmethod
    def backward(ctx, grad_h):  # type: ignore[override]
        h, u, h0, *params = ctx.saved_tensors
        h0_ = h0 if ctx.has_h0 else None
        with torch.no_grad():
            h_prev = _shift(h, h0_)
            J = ctx.jacobian(h_prev, u, *params)
            matrix = J.dim() == h.dim() + 1
            # adjoint: lam_t = g_t + J_{t+1}^T lam_{t+1}, lam_L = 0: one reverse-time scan
            if matrix:
                C = J[..., 1:, :, :].transpose(-1, -2)
                C = torch.cat([C, torch.zeros_like(C[..., :1, :, :])], dim=-3)
                lam = scan.parallel_matrix_scan(C, grad_h, reverse=True)
            else:
                C = torch.cat([J[..., 1:, :], torch.zeros_like(J[..., :1, :])], dim=-2)
                lam = scan.parallel_scan(C, grad_h, reverse=True)
        # the inputs' and parameters' gradients: one vector-Jacobian product of the cell at the
        # solution, all time steps at once
        with torch.enable_grad():
            hp = h_prev.detach().requires_grad_(ctx.has_h0 and ctx.needs_input_grad[3])
            uu = u.detach().requires_grad_(ctx.needs_input_grad[4])
            ps = [p.detach().requires_grad_(ctx.needs_input_grad[5 + i]) for i, p in enumerate(params)]
            wrt = [t for t in (hp, uu, *ps) if t.requires_grad]
            grads = iter(torch.autograd.grad(ctx.step(hp, uu, *ps), wrt, lam) if wrt else ())
        g_hp = next(grads) if hp.requires_grad else None
        g_u = next(grads) if uu.requires_grad else None
        g_ps = [next(grads) if p.requires_grad else None for p in ps]
        g_h0 = None
        if g_hp is not None:
            g_h0 = g_hp[..., 0, :].sum_to_size(h0.shape)
        return (None, None, None, g_h0, g_u, *g_ps)


def newton_rnn(
    step: Step,
    jacobian: Step,
    u: torch.Tensor,
    *params: torch.Tensor,
    h0: torch.Tensor | None = None,
    iters: int = 3,
    tol: float | None = None,
    n: int | None = None,
) -> torch.Tensor:
    """All states of ``h_t = step(h_{t-1}, u_t, *params)`` by :func:`newton`, differentiable.

    The forward pass makes ``iters`` Newton updates (stopping early at ``tol``), as the
    authors' ParaRNN does (their default: 3, no tolerance). The backward pass treats the result
    as the solution of ``F(h) = 0`` (implicit differentiation, not a record of the iterations):
    the adjoint recurrence ``lam_t = g_t + J_{t+1}^T lam_{t+1}`` is one reverse scan, and the
    gradients of ``u``, ``params`` and ``h0`` come from one vector-Jacobian product of the cell
    at all time steps. When the solve has converged these equal backpropagation through
    :func:`sequential` up to rounding.
    """
    return _NewtonRNN.apply(step, jacobian, (iters, tol, n), h0, u, *params)
