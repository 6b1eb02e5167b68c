"""Tests of rnnbook.alignment: effective rank, kernel alignment, tangent kernels (A07)."""

import math

import pytest
import torch

from rnnbook import alignment

torch.set_num_threads(1)


def random_orthogonal(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))[0]


def test_effective_rank_of_known_spectra():
    U, V = random_orthogonal(6, 0), random_orthogonal(6, 1)
    spectra = {
        (1.0, 0, 0, 0, 0, 0): 1.0,  # rank one
        (3.0, 3.0, 0, 0, 0, 0): 2.0,  # two equal singular values
        (1.0,) * 6: 6.0,  # orthogonal matrix: full effective rank
        (2.0, 1.0, 1.0, 0, 0, 0): 2**1.5,  # p = (1/2, 1/4, 1/4): entropy 1.5 log 2
    }
    for s, expected in spectra.items():
        W = U @ torch.diag(torch.tensor(s, dtype=torch.float64)) @ V.T
        assert math.isclose(float(alignment.effective_rank(W)), expected, rel_tol=1e-9)


def test_effective_rank_is_scale_invariant_batched_and_below_rank():
    g = torch.Generator().manual_seed(2)
    W = torch.randn(3, 20, 20, generator=g, dtype=torch.float64)
    r = alignment.effective_rank(W)
    assert r.shape == (3,)
    assert torch.allclose(alignment.effective_rank(7.5 * W), r)
    low = W[:, :, :4] @ W[:, :4, :]  # rank 4
    assert bool((alignment.effective_rank(low) <= 4 + 1e-9).all())
    assert bool((r > 10).all())  # a square Gaussian matrix is far from low rank


def test_kernel_alignment_known_cases():
    K = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert math.isclose(float(alignment.kernel_alignment(K, 5 * K)), 1.0, rel_tol=1e-12)
    e1, e2 = torch.diag(torch.tensor([1.0, 0.0])), torch.diag(torch.tensor([0.0, 1.0]))
    assert float(alignment.kernel_alignment(e1, e2)) == 0.0
    # identity against a rank-one projector in n dimensions: 1 / sqrt(n)
    n = 9
    P = torch.zeros(n, n, dtype=torch.float64)
    P[0, 0] = 1.0
    assert math.isclose(float(alignment.kernel_alignment(torch.eye(n, dtype=torch.float64), P)), 1 / 3)
    batch = alignment.kernel_alignment(torch.stack([K, e1.double()]), torch.stack([K, e2.double()]))
    assert torch.allclose(batch, torch.tensor([1.0, 0.0], dtype=torch.float64))


def test_representation_kernel_is_gram_matrix():
    H = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]])
    expected = torch.tensor([[5.0, 2.0], [2.0, 10.0]])
    assert torch.equal(alignment.representation_kernel(H), expected)


def test_empirical_tangent_kernel_of_two_layer_linear_network():
    """f(X) = X W^T a: the Jacobian by W of output i is a x_i^T, so K = |a|^2 X X^T."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(5, 4, generator=g, dtype=torch.float64)
    W = torch.randn(3, 4, generator=g, dtype=torch.float64)
    a = torch.randn(3, generator=g, dtype=torch.float64)
    K = alignment.empirical_tangent_kernel(lambda W_: X @ W_.T @ a, W)
    assert torch.allclose(K, (a @ a) * X @ X.T)
    # by the readout a the Jacobian is W x_i, so K = X W^T W X^T
    K_a = alignment.empirical_tangent_kernel(lambda a_: X @ W.T @ a_, a)
    assert torch.allclose(K_a, X @ W.T @ W @ X.T)


def test_tangent_kernel_contracts_parameter_dimensions():
    g = torch.Generator().manual_seed(4)
    J = torch.randn(2, 6, 3, 4, generator=g, dtype=torch.float64)  # 2 models, 6 outputs, 3x4 weights
    K = alignment.tangent_kernel(J, param_dims=2)
    assert K.shape == (2, 6, 6)
    assert torch.allclose(K[1], J[1].reshape(6, 12) @ J[1].reshape(6, 12).T)
    with pytest.raises(ValueError):
        alignment.tangent_kernel(J, param_dims=4)


def test_relative_change():
    A = torch.eye(3, dtype=torch.float64)
    assert math.isclose(float(alignment.relative_change(A, 2 * A)), 1.0)
    assert float(alignment.relative_change(A, A)) == 0.0
