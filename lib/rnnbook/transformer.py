"""Small transformers: a pre-LN block, a stack of blocks, the Universal Transformer's shared block.

Introduced in A33 (Universal Transformers) for its pointer-chasing and algorithmic tasks;
meant to be imported by the later chapters of the "reasoning by recurrence" part (A14
recurrent depth, A35 CoLa), which need the same pieces.

- :func:`sinusoid` and :func:`coordinate_signal`: the sinusoidal position signal of Vaswani
  et al. and the Universal Transformer's two-dimensional (position, step) signal
  ``P^t_i = sinusoid(i) + sinusoid(t)``.
- :class:`Embedding`: token embedding (scaled by sqrt(d)), plus the position signal if asked.
- :class:`Block`: one pre-LN transformer block, ``x + MHSA(LN(x))`` then ``x + FFN(LN(x))``,
  attention by :func:`torch.nn.functional.scaled_dot_product_attention` (causal on request).
- :class:`Stack`: ``n`` blocks with their own weights and a final LayerNorm (a Transformer
  encoder, or a decoder-only model with ``causal=True``).
- :class:`UniversalTransformer`: ONE block applied ``steps`` times, with the coordinate signal
  added before every step, optionally with per-position adaptive computation time (ACT,
  Graves 2016, as the UT paper uses it). :class:`ACTInfo` carries the ponder statistics.

Every module holds ``models`` independent copies of its weights (a leading axis on every
parameter) and maps ``(models, B, L, d)`` to ``(models, B, L, d)``: seeds and arms of an
experiment train as one model, as ``models.BatchedElmanRNN`` does for RNNs. (Measured in A33:
``torch.func.stack_module_state`` + ``vmap`` was slower on the CPU, because
``scaled_dot_product_attention`` has no batching rule and falls back to a loop.)
Shapes: ``M`` models, ``B`` batch, ``L`` length, ``d`` width. No dropout anywhere (the chapters
are small and deterministic).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ACTInfo",
    "Block",
    "Embedding",
    "LayerNorm",
    "Linear",
    "Stack",
    "UniversalTransformer",
    "coordinate_signal",
    "n_params",
    "sinusoid",
]


def sinusoid(positions: Tensor, d: int, base: float = 10000.0) -> Tensor:
    """The sinusoidal signal of ``positions`` (any shape, numbers): shape ``(*positions.shape, d)``.

    Channel ``2j`` is ``sin(pos / base^(2j/d))`` and channel ``2j+1`` the cosine of the same
    angle (Vaswani et al. 2017); ``d`` must be even.
    """
    if d % 2:
        raise ValueError(f"sinusoid needs an even width, got {d}")
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=positions.device) / d)
    angle = positions.to(torch.float32)[..., None] * freq  # (..., d/2)
    return torch.stack([angle.sin(), angle.cos()], -1).flatten(-2)  # interleave sin, cos


def coordinate_signal(length: int, step: int, d: int, offset: int | Tensor = 0) -> Tensor:
    """The UT's (position, step) signal ``P^t_i = sinusoid(i) + sinusoid(t)``: ``(L, d)``.

    With a tensor ``offset`` of shape ``(B,)`` (random position offsets, as the UT paper uses
    for length generalisation) the result is ``(B, L, d)``.
    """
    off = torch.as_tensor(offset)
    pos = torch.arange(length, device=off.device) + off[..., None]  # (L,) or (B, L)
    return sinusoid(pos, d) + sinusoid(torch.tensor(float(step), device=off.device), d)


def _uniform(models: int, shape: tuple[int, ...], bound: float, gen: torch.Generator | None) -> Tensor:
    return (torch.rand(models, *shape, generator=gen) * 2 - 1) * bound


class Linear(nn.Module):
    """``models`` independent affine maps ``x W + b``, PyTorch's default init for each.

    ``x`` is ``(models, ..., d_in)``; ``W`` is ``(models, d_in, d_out)``.
    """

    def __init__(self, d_in: int, d_out: int, models: int = 1, gen: torch.Generator | None = None) -> None:
        super().__init__()
        k = d_in**-0.5
        self.W = nn.Parameter(_uniform(models, (d_in, d_out), k, gen))
        self.b = nn.Parameter(_uniform(models, (d_out,), k, gen))

    def forward(self, x: Tensor) -> Tensor:
        M, *mid, d = x.shape
        y = torch.baddbmm(self.b[:, None], x.reshape(M, -1, d), self.W)
        return y.reshape(M, *mid, -1)


class LayerNorm(nn.Module):
    """``models`` LayerNorms over the last axis (gain 1, bias 0 at init); ``x`` (models, ..., d)."""

    def __init__(self, d: int, models: int = 1) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(models, d))
        self.b = nn.Parameter(torch.zeros(models, d))

    def forward(self, x: Tensor) -> Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        return F.layer_norm(x, x.shape[-1:]) * self.g.view(shape) + self.b.view(shape)


class Embedding(nn.Module):
    """Token embedding ``sqrt(d) E[token]``, plus ``sinusoid(offset + i)`` when ``position``.

    ``tokens`` (B, L) shared by all models, or (models, B, L); returns (models, B, L, d).
    ``E`` is drawn from N(0, 1/d), so ``sqrt(d) E`` has entries of unit size.
    """

    def __init__(
        self, vocab: int, d: int, position: bool = True, models: int = 1, gen: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.E = nn.Parameter(torch.randn(models, vocab, d, generator=gen) * d**-0.5)
        self.d, self.position = d, position

    def forward(self, tokens: Tensor, offset: int | Tensor = 0) -> Tensor:
        """``offset`` int or (B,) shifts the positions (random offsets for length generalisation)."""
        M = self.E.shape[0]
        if tokens.dim() == 2:
            tokens = tokens.expand(M, *tokens.shape)
        rows = torch.arange(M, device=tokens.device).view(M, 1, 1)
        x = self.E[rows, tokens] * math.sqrt(self.d)  # (M, B, L, d)
        if self.position:
            off = torch.as_tensor(offset, device=tokens.device)
            pos = torch.arange(tokens.shape[-1], device=tokens.device) + off[..., None]
            x = x + sinusoid(pos, self.d)
        return x


class Block(nn.Module):
    """One pre-LN transformer block: ``x += MHSA(LN(x))``, then ``x += FFN(LN(x))``.

    ``models`` independent blocks run as one: ``x`` is (models, B, L, d) and every weight has a
    leading ``models`` axis (seeds or arms of an experiment, trained together; Adam's update
    is elementwise, so this is training each model with its own Adam). The FFN is
    ``W_2 relu(W_1 x + b_1) + b_2`` with width ``d_ff`` (default ``4 d``); attention is
    :func:`torch.nn.functional.scaled_dot_product_attention` over ``heads`` heads.
    """

    def __init__(
        self, d: int, heads: int, d_ff: int | None = None, models: int = 1, gen: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if d % heads:
            raise ValueError(f"width {d} is not divisible by {heads} heads")
        self.d, self.heads = d, heads
        self.ln1, self.ln2 = LayerNorm(d, models), LayerNorm(d, models)
        self.qkv = Linear(d, 3 * d, models, gen)
        self.out = Linear(d, d, models, gen)
        self.ff1 = Linear(d, d_ff or 4 * d, models, gen)
        self.ff2 = Linear(d_ff or 4 * d, d, models, gen)

    def attend(self, x: Tensor, causal: bool = False) -> Tensor:
        """Multi-head self-attention of ``x`` (M, B, L, d) (already normalised) -> (M, B, L, d)."""
        M, B, L, d = x.shape
        qkv = self.qkv(x).view(M * B, L, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (M B, heads, L, d/heads)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.out(y.transpose(1, 2).reshape(M, B, L, d))

    def forward(self, x: Tensor, causal: bool = False) -> Tensor:
        x = x + self.attend(self.ln1(x), causal)
        return x + self.ff2(F.relu(self.ff1(self.ln2(x))))


class Stack(nn.Module):
    """``layers`` blocks, each with its own weights, then a final LayerNorm (a Transformer)."""

    def __init__(
        self,
        d: int,
        heads: int,
        layers: int,
        d_ff: int | None = None,
        models: int = 1,
        gen: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(d, heads, d_ff, models, gen) for _ in range(layers))
        self.ln = LayerNorm(d, models)

    def forward(self, x: Tensor, causal: bool = False) -> Tensor:
        """``x`` (models, B, L, d) -> (models, B, L, d)."""
        for block in self.blocks:
            x = block(x, causal)
        return self.ln(x)


class ACTInfo(NamedTuple):
    """What ACT did at every position (all ``(B, L)`` except ``weights`` and ``halting``).

    ``steps`` is N (the number of block applications that count), ``remainder`` R, ``ponder``
    N + R (the ponder cost before averaging), ``weights`` (T, B, L) the weight of each step's
    state in the output (sums to 1 over steps), ``halting`` (T, B, L) the halting
    probabilities p_t as computed (before truncation). A named tuple, so that it passes
    through ``vmap``.
    """

    steps: Tensor
    remainder: Tensor
    ponder: Tensor
    weights: Tensor
    halting: Tensor


class UniversalTransformer(nn.Module):
    """The Universal Transformer's recurrence: one :class:`Block` applied ``steps`` times.

    Before step ``t`` (1-based) the coordinate signal :func:`coordinate_signal` is added to the
    state, then the shared block runs: ``h^t = Block(h^{t-1} + P^t)``; the output is
    ``LN(h^T)``. All steps share one block's parameters, so the model has exactly the
    parameters of a one-layer :class:`Stack` (plus ``d + 1`` for the halting unit with ACT).

    With ``act=True`` (Graves 2016, per position, as in the UT paper) a halting unit
    ``p^t_i = sigmoid(w . h^t_i + b)`` is read from each new state. Position ``i`` halts at
    the first step ``N_i`` where ``sum_{t<=N_i} p^t_i`` would exceed ``1 - eps`` (or at
    ``steps``); its remainder is ``R_i = 1 - sum_{t<N_i} p^t_i``. The output is the mean-field
    state ``sum_t w^t_i h^t_i`` with ``w^t = p^t`` for ``t < N_i`` and ``w^{N_i} = R_i``
    (the weights sum to 1). A halted position's state is copied forward unchanged, so later
    steps of the other positions still attend to it. All ``steps`` are computed (masked), so
    the model runs under ``vmap``; the ponder cost is ``mean(N + R)`` (its gradient flows
    through ``R``).
    """

    def __init__(
        self,
        d: int,
        heads: int,
        d_ff: int | None = None,
        steps: int = 4,
        act: bool = False,
        eps: float = 0.01,
        halting_bias: float = 1.0,
        models: int = 1,
        gen: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.block = Block(d, heads, d_ff, models, gen)
        self.ln = LayerNorm(d, models)
        self.d, self.steps, self.act, self.eps = d, steps, act, eps
        self.halt = Linear(d, 1, models, gen) if act else None
        if self.halt is not None:
            nn.init.constant_(self.halt.b, halting_bias)

    def forward(
        self,
        x: Tensor,
        causal: bool = False,
        steps: int | None = None,
        offset: int | Tensor = 0,
    ) -> tuple[Tensor, ACTInfo | None]:
        """``x`` (M, B, L, d) -> (``LN(output)`` (M, B, L, d), :class:`ACTInfo` or None).

        ``steps`` overrides the number of applications (at test time); ``offset`` shifts the
        positions of the coordinate signal (int or (B,)).
        """
        T = self.steps if steps is None else steps
        M, B, L, d = x.shape
        off = torch.as_tensor(offset, device=x.device)
        if self.halt is None:
            for t in range(1, T + 1):
                x = self.block(x + coordinate_signal(L, t, d, off).to(x.dtype), causal)
            return self.ln(x), None
        zeros = x.new_zeros(M, B, L)
        cum, remainder, n, running = zeros, zeros, zeros, torch.ones_like(zeros, dtype=torch.bool)
        out = torch.zeros_like(x)
        weights, halting = [], []
        for t in range(1, T + 1):
            h = self.block(x + coordinate_signal(L, t, d, off).to(x.dtype), causal)
            p = torch.sigmoid(self.halt(h)).squeeze(-1)  # (M, B, L)
            if t < T:
                halt_now = running & (cum + p > 1 - self.eps)
            else:
                halt_now = running
            go_on = running & ~halt_now
            r = (1 - cum) * halt_now  # the remainder, at the step where a position halts
            w = p * go_on + r
            cum = cum + p * go_on
            remainder = remainder + r
            n = n + running.to(x.dtype)
            out = out + w[..., None] * h
            x = torch.where(running[..., None], h, x)  # halted positions are copied forward
            running = go_on
            weights.append(w)
            halting.append(p)
        info = ACTInfo(n, remainder, n + remainder, torch.stack(weights), torch.stack(halting))
        return self.ln(out), info


def n_params(module: nn.Module) -> int:
    """The number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
