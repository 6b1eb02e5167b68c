"""Unit tests of rnnbook.cost: quantisation, pruning, description length, lower envelope."""

import itertools

import numpy as np
import pytest
import torch

from rnnbook import cost


def gaussian(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 12])
def test_quantize_error_is_at_most_half_a_step(bits):
    w = gaussian(1000)
    codes, scale = cost.quantize(w, bits)
    levels = 2 ** (bits - 1) - 1
    assert codes.dtype == torch.int32
    assert int(codes.abs().max()) == levels  # the largest weight maps to the top level
    err = (cost.dequantize(codes, scale) - w).abs().max().item()
    assert err <= scale / 2 + 1e-6
    assert scale == pytest.approx(w.abs().max().item() / levels)


def test_quantize_rejects_bad_bits_and_handles_zeros():
    with pytest.raises(ValueError):
        cost.quantize(torch.ones(3), 1)
    codes, scale = cost.quantize(torch.zeros(5), 4)
    assert scale == 1.0 and int(codes.abs().sum()) == 0


def test_two_bit_codes_are_ternary():
    codes, _ = cost.quantize(torch.tensor([-1.0, -0.2, 0.0, 0.3, 0.9]), 2)
    assert codes.tolist() == [-1, 0, 0, 0, 1]


def test_prune_by_magnitude_zeroes_the_smallest():
    w = torch.tensor([0.5, -0.1, 2.0, 0.05, -3.0, 0.2])
    out = cost.prune_by_magnitude(w, 0.5)
    assert out.tolist() == [0.5, 0.0, 2.0, 0.0, -3.0, 0.0]
    assert torch.equal(w, torch.tensor([0.5, -0.1, 2.0, 0.05, -3.0, 0.2]))  # input untouched
    assert torch.equal(cost.prune_by_magnitude(w, 0.0), w)
    assert int((cost.prune_by_magnitude(w, 1.0) != 0).sum()) == 0
    with pytest.raises(ValueError):
        cost.prune_by_magnitude(w, 1.5)


def test_zeros_compress_far_below_random_codes():
    n = 4000
    zeros = cost.lzma_bits(bytes(n))
    rand = np.random.default_rng(0).integers(-128, 128, n).astype(np.int8).tobytes()
    assert zeros < 0.05 * 8 * n
    assert cost.lzma_bits(rand) >= 8 * n  # incompressible: LZMA2 cannot beat the raw bytes


def test_description_length_grows_with_bits_and_is_bounded_by_packing():
    tensors = [gaussian(3000, 1), gaussian(500, 2)]
    n = 3500
    lengths = [cost.description_length(tensors, b) for b in (2, 3, 4, 6, 8)]
    assert all(a < b for a, b in itertools.pairwise(lengths))
    for b, dl in zip((2, 3, 4, 6, 8), lengths, strict=True):
        assert dl <= b * n + 1 + cost.SCALE_BITS * 2
    # Gaussian 8-bit codes carry about log2(sigma_codes * sqrt(2 pi e)) bits each, well below 8.
    assert lengths[-1] < 7.5 * n
    assert cost.description_length(tensors, None) <= 32 * n + 1


def test_pruning_lowers_the_description_length():
    tensors = [gaussian(4000, 3)]
    dense = cost.description_length(tensors, 6)
    pruned = cost.description_length([cost.prune_by_magnitude(tensors[0], 0.8)], 6)
    assert pruned < 0.6 * dense


def test_quantized_copy_matches_quantize():
    t = gaussian(50, 4)
    (q,) = cost.quantized_copy([t], 3)
    codes, scale = cost.quantize(t, 3)
    assert torch.equal(q, cost.dequantize(codes, scale))
    assert len(torch.unique(q)) <= 7
    assert torch.equal(cost.quantized_copy([t], None)[0], t)


def test_lower_envelope_is_the_pareto_front():
    c = np.array([10.0, 20.0, 20.0, 30.0, 40.0, 5.0, 50.0])
    y = np.array([3.0, 2.0, 2.5, 2.2, 1.0, 4.0, 1.0])
    idx = cost.lower_envelope(c, y)
    assert idx.tolist() == [5, 0, 1, 4]
    assert np.all(np.diff(c[idx]) > 0) and np.all(np.diff(y[idx]) < 0)
    with pytest.raises(ValueError):
        cost.lower_envelope([1.0, 2.0], [1.0])
