"""k-hop pointer chasing: a generated lookup task whose difficulty is the number of hops.

Introduced by chapter A33 (Universal Transformers: a shared layer applied T times against a
fixed stack), shared with A35 (CoLa: skip or loop layers, where the hop count is an item's
difficulty).

A sequence lists the ``nodes`` edges ``(i, pi(i))`` of one random cycle through all nodes, in
random order, one token each (token ``i * nodes + pi(i)``), then one query token for (hops
``k``, start ``s``) (token ``nodes**2 + (k - 1) * nodes + s``). The answer is ``pi^k(s)``.
A single cycle (rather than any permutation) keeps ``pi^k(s) != s`` for ``k < nodes``, so a
model cannot answer by copying the start.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["pointer_chase", "vocab_size"]


def vocab_size(nodes: int, max_hops: int) -> int:
    """Edge tokens, then (hops, start) query tokens."""
    return nodes * nodes + nodes * max_hops


def pointer_chase(
    gen: torch.Generator, count: int, nodes: int, max_hops: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Tokens ``(count, nodes + 1)``, answers ``pi^k(s)`` ``(count,)``, hops ``k`` ``(count,)``.

    ``k`` is uniform on ``1 .. max_hops``; the same generator state gives the same batch.
    """
    cyc = torch.rand(count, nodes, generator=gen).argsort(1)  # the cycle c_0 .. c_{N-1}
    perm = torch.empty_like(cyc).scatter_(1, cyc, cyc.roll(-1, 1))  # pi(c_j) = c_{j+1}
    order = torch.rand(count, nodes, generator=gen).argsort(1)
    edges = order * nodes + perm.gather(1, order)  # token of (i, pi(i)), shuffled
    start = torch.randint(nodes, (count,), generator=gen)
    hops = torch.randint(1, max_hops + 1, (count,), generator=gen)
    node = start
    for h in range(max_hops):
        step = perm.gather(1, node[:, None])[:, 0]
        node = torch.where(hops > h, step, node)
    query = nodes * nodes + (hops - 1) * nodes + start
    return torch.cat([edges, query[:, None]], 1), node, hops
