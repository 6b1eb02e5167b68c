"""Recurrent-depth language models and their two samplers.

Introduced by chapter A14 (parallel samplers for recurrent-depth models, Geiping et al. 2025),
moved here from the chapter so that the block, its training step and the samplers are tested
apart from the chapter that reports on them.

A model has a prelude ``P``, one shared recurrent block ``R`` with linear input injection and a
coda ``C``: ``e = P(x)``, ``s_0`` noise, ``s_i = R(A [s_{i-1}; e])`` for ``i = 1 .. r``,
logits ``C(s_r)``. Each part is a causal pre-LN block of :mod:`rnnbook.transformer`; ``models``
independent models (seeds) live on a leading axis and run as one.

Sequential calls are counted as the authors' code counts ``num_core_forward_passes``: one call
is one application of the shared block, to one position or to all positions at once.

- :func:`sample_ar`: greedy autoregressive sampling at depth ``r``; every new token costs ``r``
  calls.
- :func:`sample_df`: the diffusion-forcing sampler. A wavefront of unfrozen positions moves
  along the sequence; one call updates every wavefront position at once; the longest run of
  wavefront positions from its start whose state moved by less than ``eps`` (relative norm)
  freezes, as does any position that has had ``r`` updates; one new position opens per step
  (or, with ``width_one``, only when the wavefront has frozen: the early exit without the
  parallel refinement).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook import transformer as tr

__all__ = ["RecurrentDepth", "sample_ar", "sample_df", "train_truncated"]


class RecurrentDepth(nn.Module):
    """Prelude, shared recurrent block with linear input injection, coda; ``models`` on a
    leading axis. Token input ``(models, batch, length)`` or ``(batch, length)``."""

    def __init__(self, vocab: int, d: int, heads: int, ff: int, models: int, gen: torch.Generator) -> None:
        super().__init__()
        self.vocab, self.d, self.models = vocab, d, models
        self.emb = tr.Embedding(vocab, d, models=models, gen=gen)
        self.prelude = tr.Block(d, heads, ff, models, gen)
        self.adapter = tr.Linear(2 * d, d, models, gen)
        self.core = tr.Block(d, heads, ff, models, gen)
        self.coda = tr.Block(d, heads, ff, models, gen)
        self.ln = tr.LayerNorm(d, models)
        self.head = tr.Linear(d, vocab, models, gen)

    def embed(self, tok: Tensor) -> Tensor:
        """``e = P(x)``, shape ``(models, batch, length, d)``."""
        return self.prelude(self.emb(tok), causal=True)

    def step(self, e: Tensor, s: Tensor) -> Tensor:
        """One sequential call of the shared block."""
        return self.core(self.adapter(torch.cat([s, e], -1)), causal=True)

    def decode(self, s: Tensor) -> Tensor:
        """Logits; position ``i`` predicts token ``i + 1``."""
        return self.head(self.ln(self.coda(s, causal=True)))


def train_truncated(
    model: RecurrentDepth,
    batches: Callable[[torch.Generator], Tensor],
    gen: torch.Generator,
    iters: int,
    lr: float,
    depths: tuple[int, int],
    backprop: int,
    device: torch.device | str = "cpu",
) -> list[float]:
    """Adam on next-token cross-entropy with a random depth per update and truncated backprop.

    Each update draws tokens ``batches(gen)`` ``(batch, length)``, a depth ``r`` uniform on
    ``depths[0] .. depths[1]``, and the initial state as standard normal noise (all from
    ``gen``, in that order), runs ``r - backprop`` block calls without a graph and the last
    ``min(r, backprop)`` with one. The loss skips the first target (it needs two tokens of
    context in the chapter's language), so positions ``1 .. L-2`` predict tokens ``2 .. L-1``.
    Returns the loss of every update (one mean over models, batch and positions).
    """
    opt = torch.optim.Adam(model.parameters(), lr)
    losses = []
    for _ in range(iters):
        x = batches(gen).to(device)
        r = int(torch.randint(depths[0], depths[1] + 1, (1,), generator=gen))
        e = model.embed(x)
        s = torch.randn(model.models, *x.shape, model.d, generator=gen).to(device)
        with torch.no_grad():  # truncated backprop: early steps untracked
            for _ in range(r - backprop):
                s = model.step(e, s)
        for _ in range(min(r, backprop)):
            s = model.step(e, s)
        logits = model.decode(s)[:, :, 1:-1]
        target = x[:, 2:].expand(model.models, -1, -1)
        loss = F.cross_entropy(logits.reshape(-1, model.vocab), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def sample_ar(model: RecurrentDepth, prompt: Tensor, noise: Tensor, r: int) -> tuple[Tensor, Tensor]:
    """Greedy AR at depth ``r`` from ``prompt`` ``(batch, p)`` with initial states ``noise``
    ``(models, batch, length, d)``: tokens ``(models, batch, length)`` and calls
    ``(models, batch)``. Without a cache the prefix is recomputed, which changes the work per
    call but not the number of sequential calls."""
    S, B, length = noise.shape[:3]
    p = prompt.shape[-1]
    tok = torch.zeros(S, B, length, dtype=torch.long, device=noise.device)
    tok[:, :, :p] = prompt
    calls = torch.zeros(S, B, dtype=torch.long, device=noise.device)
    for t in range(p, length):
        e, s = model.embed(tok), noise
        for _ in range(r):
            s = model.step(e, s)
            calls += 1
        tok[:, :, t] = model.decode(s)[:, :, t - 1].argmax(-1)
    return tok, calls


@torch.no_grad()
def sample_df(
    model: RecurrentDepth, prompt: Tensor, noise: Tensor, r: int, eps: float, width_one: bool = False
) -> tuple[Tensor, Tensor]:
    """The diffusion-forcing sampler (module docstring): tokens ``(models, batch, length)`` and
    sequential calls ``(models, batch)``. The prompt is read at depth ``r`` (the same prefill
    as AR); the exit test needs two updates of a position (the first move, away from noise, is
    not a convergence signal)."""
    S, B, length = noise.shape[:3]
    p, dv = prompt.shape[-1], noise.device
    pos = torch.arange(length, device=dv)
    tok = torch.zeros(S, B, length, dtype=torch.long, device=dv)
    tok[:, :, :p] = prompt
    e, s = model.embed(tok), noise  # prefill at depth r
    for _ in range(r):
        s = model.step(e, s)
    tok[:, :, p] = model.decode(s)[:, :, p - 1].argmax(-1)
    s = torch.where(pos[:, None] < p, s, noise)
    calls = torch.full((S, B), r, device=dv)
    first = torch.full((S, B), p, device=dv)  # first unfrozen position
    end = torch.full((S, B), p + 1, device=dv)  # wavefront end (exclusive)
    depth = torch.zeros(S, B, length, dtype=torch.long, device=dv)
    while (first < length - 1).any():
        live = first < length - 1
        wave = (pos >= first[..., None]) & (pos < end[..., None]) & live[..., None]
        e, before = model.embed(tok), s
        s = torch.where(wave[..., None], model.step(e, s), s)
        depth += wave
        calls += live
        draft = model.decode(s).argmax(-1)  # position i drafts token i + 1
        tok[..., 1:] = torch.where(wave[..., :-1], draft[..., :-1], tok[..., 1:])
        moved = (s - before).norm(dim=-1) / s.norm(dim=-1)
        done = (depth >= r) | ((moved < eps) & (depth >= 2)) | (pos < first[..., None])
        lead = torch.cumprod(done.long(), -1).sum(-1)  # frozen prefix
        first = torch.where(live, torch.minimum(lead, end), first)
        grow = (first >= end) if width_one else torch.ones_like(live)
        end = torch.where(live & grow, end + 1, end)
        end = torch.clamp(torch.maximum(end, first + 1), max=length - 1)
    return tok, calls
