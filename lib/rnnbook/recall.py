"""Multi-query associative recall (MQAR): a generated token task for sequence mixers.

Introduced by chapter A36 (Dynamical Systems Framework, Sieber et al. 2024), which trains
linear attention with growing state against softmax attention on it; meant to be shared with
A35 (CoLa) and any later chapter that needs an associative-recall probe (issue 20 asks for
MQAR in the library).

The task (Arora et al. 2023, "Zoology"; reconstructed from the paper's description, not
copied from any code): a sequence opens with ``n_pairs`` key-value pairs
``k_1 v_1 k_2 v_2 ... k_P v_P`` (distinct keys per sequence), followed by a query region of
filler tokens in which each key appears again at a random position. At a query position the
model must output the value that was paired with that key in the context; every other
position is ignored by the loss (target :data:`IGNORE`).

Vocabulary layout (``vocab`` tokens): token ``0`` is the filler, keys are
``1 .. n_keys`` and values are ``n_keys + 1 .. vocab - 1`` with
``n_keys = (vocab - 1) // 2``; so a key and a value can never be confused.

:func:`mqar` makes a batch from a :class:`torch.Generator` (same seed, same batch);
:func:`solve` reads the answers back from the inputs alone by a plain lookup (a perfect
oracle, used by the tests and as a sanity check in chapters); :func:`accuracy` scores logits
on the query positions only. Everything is plain PyTorch on CPU or CUDA.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["IGNORE", "MQARBatch", "accuracy", "mqar", "solve", "vocab_split"]

IGNORE = -100
"""Target at positions that are not queries (``torch.nn.functional.cross_entropy``'s default)."""


@dataclass(frozen=True)
class MQARBatch:
    """One batch of MQAR sequences.

    ``inputs`` (B, L) int64 tokens; ``targets`` (B, L) int64, the value at each query position
    and :data:`IGNORE` elsewhere; ``keys`` and ``values`` (B, P) the pairs in context order;
    ``query_pos`` (B, Q) the positions of the queries (sorted), ``query_key`` (B, Q) which key
    is asked there.
    """

    inputs: Tensor
    targets: Tensor
    keys: Tensor
    values: Tensor
    query_pos: Tensor
    query_key: Tensor

    def to(self, device: torch.device | str) -> MQARBatch:
        """The same batch on ``device``."""
        return MQARBatch(
            *(
                t.to(device)
                for t in (self.inputs, self.targets, self.keys, self.values, self.query_pos, self.query_key)
            )
        )


def vocab_split(vocab: int) -> tuple[int, int]:
    """``(n_keys, n_values)`` for a vocabulary of ``vocab`` tokens (token 0 is the filler)."""
    n_keys = (vocab - 1) // 2
    return n_keys, vocab - 1 - n_keys


def mqar(
    batch: int,
    seq_len: int,
    n_pairs: int,
    vocab: int,
    *,
    n_queries: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> MQARBatch:
    """A batch of MQAR sequences.

    ``n_pairs`` distinct keys per sequence, each with a value drawn uniformly (values may
    repeat); ``n_queries`` (default ``n_pairs``) of the keys, distinct, are asked again at
    distinct random positions of the query region ``[2 n_pairs, seq_len)``, in random order.
    The draw uses ``generator`` on the CPU (reproducible across devices), then moves to
    ``device``.
    """
    n_keys, n_values = vocab_split(vocab)
    n_queries = n_pairs if n_queries is None else n_queries
    region = seq_len - 2 * n_pairs
    if n_pairs < 1 or n_pairs > n_keys:
        raise ValueError(f"n_pairs must be in 1..{n_keys} for vocab {vocab}, got {n_pairs}")
    if not 1 <= n_queries <= n_pairs:
        raise ValueError(f"n_queries must be in 1..n_pairs={n_pairs}, got {n_queries}")
    if region < n_queries:
        raise ValueError(f"seq_len {seq_len} leaves {region} query slots for {n_queries} queries")
    g = generator
    # distinct keys: the first n_pairs of a random permutation of 1..n_keys, per row
    keys = torch.rand(batch, n_keys, generator=g).argsort(-1)[:, :n_pairs] + 1
    values = torch.randint(0, n_values, (batch, n_pairs), generator=g) + n_keys + 1
    # which pairs are asked (distinct), and where (distinct slots of the query region)
    asked = torch.rand(batch, n_pairs, generator=g).argsort(-1)[:, :n_queries]
    slots = torch.rand(batch, region, generator=g).argsort(-1)[:, :n_queries]
    order = slots.argsort(-1)
    query_pos = slots.gather(1, order) + 2 * n_pairs
    asked = asked.gather(1, order)
    query_key = keys.gather(1, asked)
    inputs = torch.zeros(batch, seq_len, dtype=torch.long)
    inputs[:, 0 : 2 * n_pairs : 2] = keys
    inputs[:, 1 : 2 * n_pairs : 2] = values
    inputs.scatter_(1, query_pos, query_key)
    targets = torch.full((batch, seq_len), IGNORE, dtype=torch.long)
    targets.scatter_(1, query_pos, values.gather(1, asked))
    return MQARBatch(inputs, targets, keys, values, query_pos, query_key).to(device)


def solve(inputs: Tensor, n_pairs: int) -> Tensor:
    """The answers recovered from ``inputs`` (B, L) alone, by lookup.

    For every position ``t >= 2 n_pairs`` holding a non-filler token, the value that follows
    the same key in the context; :data:`IGNORE` elsewhere. A perfect MQAR model's output.
    """
    ctx_keys = inputs[:, 0 : 2 * n_pairs : 2]  # (B, P)
    ctx_vals = inputs[:, 1 : 2 * n_pairs : 2]
    rest = inputs[:, 2 * n_pairs :]  # (B, R)
    match = rest[:, :, None] == ctx_keys[:, None, :]  # (B, R, P)
    found = match.any(-1) & (rest != 0)
    idx = match.float().argmax(-1)
    ans = torch.where(found, ctx_vals.gather(1, idx), torch.full_like(rest, IGNORE))
    out = torch.full_like(inputs, IGNORE)
    out[:, 2 * n_pairs :] = ans
    return out


def accuracy(logits: Tensor, targets: Tensor) -> Tensor:
    """Share of query positions (``targets != IGNORE``) where ``logits.argmax(-1)`` is right.

    ``logits`` (..., B, L, V) and ``targets`` (B, L) (broadcast over leading axes, e.g. a
    stack of models); returns a tensor of shape ``logits.shape[:-3]`` (a scalar for one model).
    """
    mask = targets != IGNORE
    hit = (logits.argmax(-1) == targets) & mask
    return hit.flatten(-2).sum(-1).float() / mask.sum().clamp_min(1)
