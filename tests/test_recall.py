"""Tests of rnnbook.recall (MQAR generator, introduced by A36)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnbook.recall import IGNORE, MQARBatch, accuracy, mqar, solve, vocab_split


def _batch(seed: int = 0, **kw: int) -> MQARBatch:
    args = dict(batch=32, seq_len=40, n_pairs=6, vocab=33) | kw
    return mqar(**args, generator=torch.Generator().manual_seed(seed))


def test_layout_consistent() -> None:
    b = _batch()
    n_keys, n_values = vocab_split(33)
    assert (n_keys, n_values) == (16, 16)
    assert b.inputs.shape == b.targets.shape == (32, 40)
    assert b.inputs.dtype == torch.long
    # context: keys at even, values at odd positions; keys distinct per row
    assert torch.equal(b.inputs[:, 0:12:2], b.keys)
    assert torch.equal(b.inputs[:, 1:12:2], b.values)
    assert ((b.keys >= 1) & (b.keys <= n_keys)).all()
    assert ((b.values > n_keys) & (b.values < 33)).all()
    for row in b.keys:
        assert len(set(row.tolist())) == len(row)
    # queries: distinct sorted positions in the query region holding asked keys
    assert (b.query_pos >= 12).all() and (b.query_pos < 40).all()
    assert (b.query_pos.diff(dim=-1) > 0).all()
    assert torch.equal(b.inputs.gather(1, b.query_pos), b.query_key)
    for row in range(32):
        assert len(set(b.query_key[row].tolist())) == b.query_key.shape[1]
    # fillers elsewhere in the query region, targets only at queries
    region = b.inputs[:, 12:].clone()
    region.scatter_(1, b.query_pos - 12, 0)
    assert (region == 0).all()
    assert int((b.targets != IGNORE).sum()) == 32 * 6
    assert ((b.targets == IGNORE) | (b.targets > n_keys)).all()


def test_answers_recoverable_against_plain_loop() -> None:
    b = _batch(1, n_queries=4)
    assert b.query_pos.shape == (32, 4)
    want = torch.full_like(b.inputs, IGNORE)
    for r in range(b.inputs.shape[0]):
        pairs = {int(b.keys[r, i]): int(b.values[r, i]) for i in range(6)}
        for t in range(12, 40):
            tok = int(b.inputs[r, t])
            if tok != 0:
                want[r, t] = pairs[tok]
    assert torch.equal(want, b.targets)
    assert torch.equal(solve(b.inputs, 6), b.targets)


def test_seeds_reproducible_and_distinct() -> None:
    a, b, c = _batch(5), _batch(5), _batch(6)
    for x, y in zip((a.inputs, a.targets, a.query_pos), (b.inputs, b.targets, b.query_pos), strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a.inputs, c.inputs)


def test_accuracy() -> None:
    b = _batch(2)
    oracle = F.one_hot(solve(b.inputs, 6).clamp_min(0), 33).float()
    assert float(accuracy(oracle, b.targets)) == 1.0
    stack = torch.stack([oracle, torch.zeros_like(oracle)])  # zeros: argmax 0, never right
    assert accuracy(stack, b.targets).tolist() == [1.0, 0.0]


def test_bad_sizes() -> None:
    with pytest.raises(ValueError):
        mqar(2, 10, 6, 33)  # no room for queries
    with pytest.raises(ValueError):
        mqar(2, 40, 20, 33)  # more pairs than keys
    with pytest.raises(ValueError):
        mqar(2, 40, 6, 33, n_queries=7)
