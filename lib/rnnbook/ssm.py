"""Linear state-space models: HiPPO matrices, discretisations, kernels, and the LSSL layer.

Introduced by chapter A42 (LSSL, Gu et al. 2021) for its three views of one linear system
``x'(t) = A x(t) + B u(t)``, ``y(t) = C x(t) + D u(t)``:

- continuous: :func:`exosystem_response` solves the system exactly (matrix exponential) for an
  input that is itself the output of a linear autonomous system (sines, polynomials, decays);
- recurrent: a discretisation (:func:`discretize`: bilinear, zero-order hold, forward or
  backward Euler, or any generalised bilinear transform :func:`gbt`) gives
  ``x_k = Ab x_{k-1} + Bb u_k``, run by :func:`ssm_recurrent` (the log-depth
  :func:`rnnbook.scan.parallel_matrix_scan`) or the plain loop :func:`ssm_loop`;
- convolutional: ``y = K * u + D u`` with the kernel ``K = (C Bb, C Ab Bb, ..., C Ab^{L-1} Bb)``
  (:func:`ssm_kernel`, by repeated squaring) applied by an FFT (:func:`causal_conv`).

:class:`LSSL` is one layer of ``H`` independent single-input single-output systems sharing a
state matrix ``A`` (HiPPO-LegS by default, :func:`hippo_legs`), with trainable ``C``, ``D`` and
timescale ``Delta = exp(log_dt)`` per channel, and an optional leading model axis so that
several models (seeds, arms with different ``A``) train as one stacked module. It runs in
either mode (``"conv"`` or ``"recurrent"``); both give the same output.

Shapes: state size ``N``, length ``L``, channels ``H``. Plain PyTorch; CPU and CUDA.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from rnnbook.scan import parallel_matrix_scan

__all__ = [
    "LSSL",
    "causal_conv",
    "discretize",
    "exosystem_response",
    "gbt",
    "hippo_legs",
    "krylov",
    "random_stable",
    "ssm_convolutional",
    "ssm_kernel",
    "ssm_loop",
    "ssm_recurrent",
]

Method = Literal["bilinear", "zoh", "euler", "backward"]
GBT_ALPHA: dict[str, float] = {"euler": 0.0, "bilinear": 0.5, "backward": 1.0}


def hippo_legs(N: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """HiPPO-LegS ``(A, B)``: ``A_nk = -sqrt(2n+1) sqrt(2k+1)`` (n > k), ``-(n+1)`` (n = k),
    ``0`` (n < k); ``B_n = sqrt(2n+1)``. ``A``: ``(N, N)``, ``B``: ``(N,)``."""
    q = torch.arange(N, dtype=dtype)
    r = torch.sqrt(2 * q + 1)
    A = -torch.tril(r[:, None] * r[None, :], diagonal=-1) - torch.diag(q + 1)
    return A, r.clone()


def random_stable(
    N: int, generator: torch.Generator, abscissa: float = -0.5, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random stable ``(A, B)``: a Gaussian ``G / sqrt(N)`` shifted by a multiple of the
    identity so that its rightmost eigenvalue has real part ``abscissa`` (< 0); ``B ~ N(0, I)``.

    The control for HiPPO: stable like it, with no memory structure.
    """
    if abscissa >= 0:
        raise ValueError("abscissa must be negative for a stable A")
    G = torch.randn(N, N, generator=generator, dtype=torch.float64) / math.sqrt(N)
    top = torch.linalg.eigvals(G).real.max()
    A = G - (top - abscissa) * torch.eye(N, dtype=torch.float64)
    B = torch.randn(N, generator=generator, dtype=torch.float64)
    return A.to(dtype), B.to(dtype)


def _dt_like(dt: torch.Tensor | float, A: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(dt, dtype=A.dtype, device=A.device)


def gbt(
    A: torch.Tensor, B: torch.Tensor, dt: torch.Tensor | float, alpha: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised bilinear transform with step ``dt``:
    ``Ab = (I - alpha dt A)^{-1} (I + (1 - alpha) dt A)``, ``Bb = (I - alpha dt A)^{-1} dt B``.

    ``alpha`` = 0: forward Euler; 1/2: bilinear (Tustin); 1: backward Euler.
    ``A``: ``(..., N, N)``, ``B``: ``(..., N)``, ``dt``: scalar or ``(...)``, all broadcast.
    Returns ``Ab`` ``(..., N, N)``, ``Bb`` ``(..., N)``. Differentiable in all three.
    """
    dt = _dt_like(dt, A)
    N = A.shape[-1]
    eye = torch.eye(N, dtype=A.dtype, device=A.device)
    dA = dt[..., None, None] * A
    dB = dt[..., None] * B
    if alpha == 0.0:
        return eye + dA, dB
    left = eye - alpha * dA
    right = eye + (1 - alpha) * dA
    Ab = torch.linalg.solve(left, right)
    Bb = torch.linalg.solve(left, dB.unsqueeze(-1)).squeeze(-1)
    return Ab, Bb


def discretize(
    A: torch.Tensor, B: torch.Tensor, dt: torch.Tensor | float, method: Method = "bilinear"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Discretise ``x' = A x + B u`` with step ``dt``: returns ``(Ab, Bb)`` of
    ``x_k = Ab x_{k-1} + Bb u_k``.

    ``method``: ``"bilinear"`` (second order), ``"euler"`` (forward, first order),
    ``"backward"`` (backward Euler, first order), or ``"zoh"`` (zero-order hold: exact when the
    input is constant over each step; ``Ab = exp(dt A)``, ``Bb = int_0^dt exp(s A) ds B``, from
    one matrix exponential of the block matrix ``[[A, B], [0, 0]] dt``).
    Shapes as in :func:`gbt`.
    """
    if method in GBT_ALPHA:
        return gbt(A, B, dt, GBT_ALPHA[method])
    if method != "zoh":
        raise ValueError(f"unknown method {method!r}")
    dt = _dt_like(dt, A)
    N = A.shape[-1]
    shape = torch.broadcast_shapes(A.shape[:-2], B.shape[:-1], dt.shape)
    M = A.new_zeros(*shape, N + 1, N + 1)
    M[..., :N, :N] = A
    M[..., :N, N] = B
    E = torch.linalg.matrix_exp(M * dt[..., None, None])
    return E[..., :N, :N], E[..., :N, N]


def krylov(Ab: torch.Tensor, Bb: torch.Tensor, L: int) -> torch.Tensor:
    """The Krylov matrix ``(Bb, Ab Bb, ..., Ab^{L-1} Bb)``: ``(..., N, L)``, by repeated
    squaring (``ceil(log2 L)`` matrix products instead of ``L`` matrix-vector products)."""
    X = Bb.unsqueeze(-1)
    P = Ab
    while X.shape[-1] < L:
        X = torch.cat([X, P @ X], dim=-1)
        if X.shape[-1] < L:
            P = P @ P
    return X[..., :L]


def ssm_kernel(Ab: torch.Tensor, Bb: torch.Tensor, C: torch.Tensor, L: int) -> torch.Tensor:
    """The convolution kernel ``K_j = C Ab^j Bb``, ``j < L``: ``(..., L)``; ``C``: ``(..., N)``."""
    return (C.unsqueeze(-2) @ krylov(Ab, Bb, L)).squeeze(-2)


def causal_conv(u: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """``y_k = sum_{j <= k} K_j u_{k-j}`` over the last axis, by an FFT of length ``2L``.

    ``u``: ``(..., L)``; ``K``: ``(..., L)`` (broadcast against ``u``). Real tensors.
    """
    L = u.shape[-1]
    n = 2 * L
    Y = torch.fft.rfft(u, n=n) * torch.fft.rfft(K[..., :L], n=n)
    return torch.fft.irfft(Y, n=n)[..., :L]


def ssm_convolutional(
    u: torch.Tensor, Ab: torch.Tensor, Bb: torch.Tensor, C: torch.Tensor, D: torch.Tensor | float
) -> torch.Tensor:
    """The convolutional view ``y = K * u + D u``; ``u``: ``(..., L)``, the system's tensors
    broadcast against ``u``'s leading axes. Returns ``(..., L)``."""
    K = ssm_kernel(Ab, Bb, C, u.shape[-1])
    return causal_conv(u, K) + torch.as_tensor(D, dtype=u.dtype, device=u.device)[..., None] * u


def ssm_recurrent(
    u: torch.Tensor,
    Ab: torch.Tensor,
    Bb: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | float,
    h0: torch.Tensor | None = None,
    return_states: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The recurrent view ``x_k = Ab x_{k-1} + Bb u_k``, ``y_k = C x_k + D u_k`` (``x_{-1} = h0``,
    zeros by default), all steps at once by :func:`rnnbook.scan.parallel_matrix_scan`.

    ``u``: ``(..., L)``; ``Ab`` ``(..., N, N)``, ``Bb``, ``C`` ``(..., N)``, ``D`` ``(...)``
    broadcast against ``u``'s leading axes. Returns ``y`` ``(..., L)`` (and the states
    ``(..., L, N)`` with ``return_states``).
    """
    b = Bb.unsqueeze(-2) * u.unsqueeze(-1)  # (..., L, N)
    x = parallel_matrix_scan(Ab.unsqueeze(-3), b, h0)
    y = (x * C.unsqueeze(-2)).sum(-1) + torch.as_tensor(D, dtype=u.dtype, device=u.device)[..., None] * u
    return (y, x) if return_states else y


def ssm_loop(
    u: torch.Tensor,
    Ab: torch.Tensor,
    Bb: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | float,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference loop for :func:`ssm_recurrent`: one step at a time. Returns ``(y, states)``."""
    L, N = u.shape[-1], Ab.shape[-1]
    shape = torch.broadcast_shapes(u.shape[:-1], Ab.shape[:-2], Bb.shape[:-1])
    x = u.new_zeros(*shape, N) if h0 is None else h0.expand(*shape, N)
    D = torch.as_tensor(D, dtype=u.dtype, device=u.device)
    ys, xs = [], []
    for k in range(L):
        x = (Ab @ x.unsqueeze(-1)).squeeze(-1) + Bb * u[..., k, None]
        xs.append(x)
        ys.append((C * x).sum(-1) + D * u[..., k])
    return torch.stack(ys, -1), torch.stack(xs, -2)


def exosystem_response(
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: float,
    S: torch.Tensor,
    h: torch.Tensor,
    w0: torch.Tensor,
    t: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Exact continuous-time solution of ``x' = A x + B u``, ``x(0) = 0``, ``y = C x + D u`` for
    an input generated by the linear system ``w' = S w``, ``w(0) = w0``, ``u = h . w``.

    The joint state ``z = (x, w)`` obeys ``z' = [[A, B h^T], [0, S]] z``, so
    ``z(t) = exp(t M) z(0)`` (one matrix exponential per time). ``S = [[0, w], [-w, 0]]``,
    ``h = (1, 0)``, ``w0 = (0, 1)`` gives ``u(t) = sin(w t)``. ``A``: ``(N, N)``; ``t``: ``(T,)``.
    Returns ``x(t)`` ``(T, N)``, ``u(t)`` ``(T,)`` and ``y(t)`` ``(T,)``.
    """
    N, m = A.shape[-1], S.shape[-1]
    M = A.new_zeros(N + m, N + m)
    M[:N, :N] = A
    M[:N, N:] = B[:, None] * h[None, :]
    M[N:, N:] = S
    z0 = torch.cat([A.new_zeros(N), w0])
    z = (torch.linalg.matrix_exp(t[:, None, None] * M) @ z0).reshape(len(t), N + m)
    x, u = z[:, :N], z[:, N:] @ h
    return x, u, x @ C + D * u


class LSSL(nn.Module):
    """One linear state-space layer: ``H`` single-input single-output systems with a shared
    ``(A, B)`` (fixed buffers), trainable ``C`` ``(H, N)``, ``D`` ``(H,)`` and timescale
    ``Delta = exp(log_dt)`` ``(H,)``, initialised log-uniform in ``[dt_min, dt_max]``.

    With ``models = M`` every parameter gets a leading model axis and ``A`` may differ per model
    (``A``: ``(N, N)`` or ``(M, N, N)``, ``B``: ``(N,)`` or ``(M, N)``); the input is then
    ``(M, batch, L, H)``, otherwise ``(batch, L, H)``. ``forward(u, mode, dt_scale)``: ``mode``
    ``"conv"`` (FFT convolution with the kernel) or ``"recurrent"`` (parallel scan), equal up to
    rounding; ``dt_scale`` multiplies ``Delta`` (timescale adaptation to another sampling rate).
    ``learn_dt=False`` keeps ``Delta`` fixed. The output is the linear ``y = K * u + D u``;
    nonlinearity, mixing and normalisation belong to the model around it.
    """

    def __init__(
        self,
        H: int,
        A: torch.Tensor,
        B: torch.Tensor,
        *,
        models: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        method: Method = "bilinear",
        learn_dt: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        N = A.shape[-1]
        lead = () if models is None else (models,)
        self.H, self.N, self.models, self.method = H, N, models, method
        self.register_buffer("A", A.to(torch.get_default_dtype()))
        self.register_buffer("B", B.to(torch.get_default_dtype()))
        self.C = nn.Parameter(torch.randn(*lead, H, N, generator=generator) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(*lead, H, generator=generator))
        lo, hi = math.log(dt_min), math.log(dt_max)
        log_dt = lo + (hi - lo) * torch.rand(*lead, H, generator=generator)
        self.log_dt = nn.Parameter(log_dt, requires_grad=learn_dt)

    def system(self, dt_scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """The discrete ``(Ab, Bb)`` per channel: ``(..., H, N, N)``, ``(..., H, N)``."""
        A, B = self.A.unsqueeze(-3), self.B.unsqueeze(-2)  # a channel axis
        return discretize(A, B, torch.exp(self.log_dt) * dt_scale, self.method)

    def kernel(self, L: int, dt_scale: float = 1.0) -> torch.Tensor:
        """``K`` of every channel: ``(..., H, L)``."""
        Ab, Bb = self.system(dt_scale)
        return ssm_kernel(Ab, Bb, self.C, L)

    def forward(
        self, u: torch.Tensor, mode: Literal["conv", "recurrent"] = "conv", dt_scale: float = 1.0
    ) -> torch.Tensor:
        v = u.transpose(-1, -2)  # (..., batch, H, L)
        lift = (lambda p: p) if self.models is None else (lambda p: p.unsqueeze(1))
        if mode == "conv":
            K = lift(self.kernel(u.shape[-2], dt_scale))
            y = causal_conv(v, K) + lift(self.D)[..., None] * v
        elif mode == "recurrent":
            Ab, Bb = self.system(dt_scale)
            y = ssm_recurrent(v, lift(Ab), lift(Bb), lift(self.C), lift(self.D))
        else:
            raise ValueError(f"unknown mode {mode!r}")
        return y.transpose(-1, -2)
