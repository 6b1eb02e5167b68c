"""A bias-free Elman RNN, stored as a batch of ``S`` independent models.

Introduced in A01. One model is

    h(t) = tanh(W_hh h(t-1) + W_ih x(t)),   h(0) = 0,   o(t) = W_hy h(t)

with no biases anywhere, so the origin is a fixed point and the linearisation there is exactly
``W_hh`` (tanh'(0) = 1). ``S`` such models (seeds x tasks) are stacked along a leading axis
(``W_hh``: ``[S, h, h]``, ``W_ih``: ``[S, h, d]``, ``W_hy``: ``[S, d, h]``) and run with batched
matrix products, so they train as one model in one forward/backward pass while staying
mathematically independent.

The recurrence is written as an explicit loop with a hand-written backward pass (backprop
through time, :class:`ElmanScan`): on a CPU this is about three times faster than letting
autograd record every step, and the backward loop is the equation of the gradient argument of
A01 (``delta(t) = tanh'(z(t)) * (g(t) + W_hh^T delta(t+1))``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnbook.tasks import boundary_embedding, shift_matrix


def tanh(z: torch.Tensor) -> torch.Tensor:
    """``tanh(z)``; on CPUs computed as ``2 sigmoid(2z) - 1``, which is about 2x faster there.

    On GPUs ``torch.tanh`` is one fast kernel (fewer launches per time step).

    Introduced in A01.
    """
    if z.is_cuda:
        return torch.tanh(z)
    return torch.sigmoid(2 * z).mul_(2).sub_(1)


class ElmanScan(torch.autograd.Function):
    """Hidden states of ``S`` stacked tanh RNNs, with backprop through time written out.

    ``forward(x, W_ih, W_hh)``: ``x`` ``(S, B, T, d)`` -> ``H`` ``(S, T, B, h)`` with ``H[:, t] = h(t+1)``
    (time before batch, so that ``H.view(S, T * B, h)`` is free).

    Introduced in A01.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor) -> torch.Tensor:
        S, B, T, d = x.shape
        U = torch.bmm(x.reshape(S, B * T, d), W_ih.transpose(1, 2)).view(S, B, T, -1)  # W_ih x(t)
        H = x.new_empty(S, T, B, U.shape[-1])  # time before batch: contiguous (S, T*B, h) views
        h = x.new_zeros(S, B, U.shape[-1])
        W_hh_T = W_hh.transpose(1, 2)
        for t in range(T):
            h = tanh(torch.baddbmm(U[:, :, t], h, W_hh_T))  # row-vector form of W_hh h + W_ih x
            H[:, t] = h
        ctx.save_for_backward(x, W_ih, W_hh, H)
        return H

    @staticmethod
    def backward(ctx, grad_H: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, W_ih, W_hh, H = ctx.saved_tensors
        S, T, B, h = H.shape
        # g(t) = dL/dh(t): from the readout, grad_H[:, t], plus from the future, W_hh^T delta(t+1)
        # delta(t) = dL/dz(t) = g(t) * tanh'(z(t)) = g(t) * (1 - h(t)^2),  z(t) = W_hh h(t-1) + W_ih x(t)
        delta = torch.empty_like(H)
        g = grad_H[:, T - 1]
        for t in range(T - 1, -1, -1):
            h_t = H[:, t]
            d_t = torch.addcmul(g, g * h_t, h_t, value=-1)  # g (1 - h^2)
            delta[:, t] = d_t
            if t > 0:
                g = torch.baddbmm(grad_H[:, t - 1], d_t, W_hh)  # row-vector form of W_hh^T delta(t)
        D = delta.view(S, T * B, h)
        grad_x = grad_W_ih = grad_W_hh = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.bmm(D, W_ih).view(S, T, B, -1).transpose(1, 2)
        if ctx.needs_input_grad[1]:
            x_tb = x.transpose(1, 2).reshape(S, T * B, -1)
            grad_W_ih = torch.bmm(x_tb.transpose(1, 2), D).transpose(1, 2)  # sum_t delta(t) x(t)^T
        if ctx.needs_input_grad[2]:
            # sum_t delta(t) h(t-1)^T; h(0) = 0, so t = 1 drops out
            D_next, H_prev = delta[:, 1:].reshape(S, -1, h), H[:, :-1].reshape(S, -1, h)
            grad_W_hh = torch.bmm(D_next.transpose(1, 2), H_prev)
        return grad_x, grad_W_ih, grad_W_hh


def uniform_init(shape: Sequence[int], bound: float, generator: torch.Generator) -> torch.Tensor:
    """``U(-bound, bound)`` drawn in float32 on the CPU (so every dtype/device gets the same numbers).

    Introduced in A01.
    """
    return torch.empty(tuple(shape), dtype=torch.float32).uniform_(-bound, bound, generator=generator)


class BatchedElmanRNN(nn.Module):
    """``S`` independent bias-free Elman RNNs with stacked weights.

    Built from ``seeds``, model ``i`` is initialised like ``torch.nn.RNN(d, hidden, bias=False)``
    followed by ``torch.nn.Linear(hidden, d_out, bias=False)`` after ``torch.manual_seed(seeds[i])``
    (all weights ``U(-1/sqrt(hidden), 1/sqrt(hidden))``, drawn ``W_ih``, ``W_hh``, ``W_hy``), so
    model ``i`` does not depend on which other models share the stack.

    Introduced in A01.
    """

    def __init__(
        self,
        d: int,
        hidden: int,
        seeds: Sequence[int],
        d_out: int | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        d_out = d if d_out is None else d_out
        bound = 1.0 / math.sqrt(hidden)
        W_ih, W_hh, W_hy = [], [], []
        for seed in seeds:
            g = torch.Generator().manual_seed(int(seed))
            W_ih.append(uniform_init((hidden, d), bound, g))
            W_hh.append(uniform_init((hidden, hidden), bound, g))
            W_hy.append(uniform_init((d_out, hidden), bound, g))
        kw = {"dtype": dtype, "device": device}
        self.W_ih = nn.Parameter(torch.stack(W_ih).to(**kw))  # [S, h, d]
        self.W_hh = nn.Parameter(torch.stack(W_hh).to(**kw))  # [S, h, h]
        self.W_hy = nn.Parameter(torch.stack(W_hy).to(**kw))  # [S, d_out, h]

    @classmethod
    def from_weights(
        cls, W_hh: torch.Tensor | np.ndarray, W_ih: torch.Tensor | np.ndarray, W_hy: torch.Tensor | np.ndarray
    ) -> BatchedElmanRNN:
        """A stack built from given weights (``[S, h, h]``, ``[S, h, d]``, ``[S, d_out, h]``; or unstacked).

        Introduced in A01.
        """
        tensors = [torch.as_tensor(w) for w in (W_hh, W_ih, W_hy)]
        tensors = [w.unsqueeze(0) if w.dim() == 2 else w for w in tensors]
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        model.W_hh, model.W_ih, model.W_hy = (nn.Parameter(w.clone()) for w in tensors)
        return model

    @property
    def n_models(self) -> int:
        return self.W_hh.shape[0]

    @property
    def hidden(self) -> int:
        return self.W_hh.shape[1]

    def forward(
        self, x: torch.Tensor, models: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs ``o`` ``(S, B, T, d_out)`` and hidden states ``H`` ``(S, B, T, h)`` for inputs ``x`` ``(S, B, T, d)``.

        ``models`` (optional index tensor) runs only those models of the stack; ``x`` then holds
        their inputs only.
        """
        W_hh, W_ih, W_hy = self.W_hh, self.W_ih, self.W_hy
        if models is not None:
            W_hh, W_ih, W_hy = W_hh[models], W_ih[models], W_hy[models]
        H = ElmanScan.apply(x, W_ih, W_hh)  # (S, T, B, h)
        S, T, B, h = H.shape
        o = torch.bmm(H.view(S, T * B, h), W_hy.transpose(1, 2)).view(S, T, B, -1)  # W_hy h(t)
        return o.transpose(1, 2), H.transpose(1, 2)


def random_orthonormal(hidden: int, n: int, seed: int) -> torch.Tensor:
    """A ``(hidden, n)`` matrix with orthonormal columns (QR of a seeded Gaussian), float64.

    Introduced in A01.
    """
    g = torch.Generator().manual_seed(int(seed))
    Q, R = torch.linalg.qr(torch.randn(hidden, n, generator=g, dtype=torch.float64))
    return Q * torch.sign(torch.diagonal(R))


def twm_weights(
    d: int,
    s: int,
    hidden: int,
    F: np.ndarray | None = None,
    basis: torch.Tensor | None = None,
    gain: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The wave-structured ("TWM") weights ``W_hh = Psi (gain Phi) Psi^+``, ``W_ih = Psi E_s``, ``W_hy = E_s^T Psi^+``.

    ``Phi`` is the block shift plus, if ``F`` is given, the boundary rows ``F^T``; without ``F``
    only the wave (shift, write into the newest block, read the newest block) is built and the
    boundary is left for learning. ``basis`` (``(hidden, s*d)``, full column rank) defaults to
    the first ``s*d`` coordinates. Returns float64 tensors.

    Introduced in A01.
    """
    n = s * d
    if hidden < n:
        raise ValueError(f"a TWM of s*d = {n} cells needs hidden >= {n}, got {hidden}")
    Phi = shift_matrix(d, s)
    if F is not None:
        Phi[(s - 1) * d :, :] = np.asarray(F).T
    Psi = torch.eye(hidden, n, dtype=torch.float64) if basis is None else basis.to(torch.float64)
    Psi_dual = torch.linalg.pinv(Psi)
    E = torch.as_tensor(boundary_embedding(d, s))
    W_hh = Psi @ (gain * torch.as_tensor(Phi)) @ Psi_dual
    return W_hh, Psi @ E, E.T @ Psi_dual
