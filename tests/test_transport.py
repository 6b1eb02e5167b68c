"""Tests of rnnbook.transport: the debiased log-domain Sinkhorn divergence (A08)."""

import itertools
import math

import pytest
import torch

from rnnbook import transport

torch.set_num_threads(1)


def exact_assignment_cost(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unregularised OT between two uniform clouds of n points: the best permutation (brute force)."""
    C = transport.cost_matrix(x, y)
    n = x.shape[0]
    return min(float(C[range(n), list(p)].mean()) for p in itertools.permutations(range(n)))


def clouds(seed: int, n: int = 5, d: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, d, generator=g, dtype=torch.float64) + 0.5
    return x, y


def test_cost_matrix_is_half_squared_distance():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    y = torch.tensor([[3.0, 4.0]])
    assert torch.allclose(transport.cost_matrix(x, y), torch.tensor([[12.5], [4.0]]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ot_eps_brackets_the_exact_assignment_cost(seed):
    # OT_0 <= OT_eps <= OT_0 + eps log n (the plan's KL to the product is at most log n).
    x, y = clouds(seed)
    exact = exact_assignment_cost(x, y)
    for eps in (0.1, 0.01, 0.001):
        value = float(transport.ot_eps(x, y, eps, iters=2000))
        assert exact - 1e-6 <= value <= exact + eps * math.log(5) + 1e-6, (eps, value, exact)


@pytest.mark.parametrize("seed", [0, 3])
def test_divergence_tends_to_exact_cost_as_eps_vanishes(seed):
    x, y = clouds(seed)
    exact = exact_assignment_cost(x, y)
    value = float(transport.sinkhorn_divergence(x, y, 1e-3, iters=2000))
    assert abs(value - exact) < 0.01 * exact + 1e-3


def test_single_points_give_the_cost_itself():
    x = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, -1.0, 2.0]], dtype=torch.float64)
    for eps in (0.05, 1.0):
        assert float(transport.sinkhorn_divergence(x, y, eps)) == pytest.approx(2.5, abs=1e-9)


def test_symmetric_zero_on_identical_and_positive_otherwise():
    x, y = clouds(4, n=16, d=3)
    s_xy = float(transport.sinkhorn_divergence(x, y, 0.5, iters=500))
    s_yx = float(transport.sinkhorn_divergence(y, x, 0.5, iters=500))
    assert s_xy == pytest.approx(s_yx, rel=1e-8)
    assert s_xy > 0.1
    assert abs(float(transport.sinkhorn_divergence(x, x.clone(), 0.5, iters=500))) < 1e-9
    assert float(transport.sinkhorn_divergence(x, x, 0.1)) == 0.0


def test_gradient_is_the_gradient_of_the_converged_value():
    # Finite differences re-run the whole Sinkhorn loop; autograd differentiates one step.
    x, y = clouds(5, n=6, d=2)
    x.requires_grad_(True)
    y.requires_grad_(True)

    def s(a, b):
        return transport.sinkhorn_divergence(a, b, 0.3, iters=400)

    assert torch.autograd.gradcheck(s, (x, y), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradient_moves_points_towards_the_target():
    x, y = clouds(6, n=8, d=2)
    x.requires_grad_(True)
    s0 = transport.sinkhorn_divergence(x, y, 0.05)
    (grad,) = torch.autograd.grad(s0, x)
    with torch.no_grad():
        s1 = transport.sinkhorn_divergence(x.detach() - 0.5 * 8 * grad, y, 0.05)
    assert float(s1) < 0.5 * float(s0.detach())


def test_leading_axes_are_independent_problems():
    x1, y1 = clouds(7, n=6, d=3)
    x2, y2 = clouds(8, n=6, d=3)
    batched = transport.sinkhorn_divergence(torch.stack([x1, x2]), torch.stack([y1, y2]), 0.1, iters=100)
    single = torch.stack(
        [
            transport.sinkhorn_divergence(x1, y1, 0.1, iters=100),
            transport.sinkhorn_divergence(x2, y2, 0.1, iters=100),
        ]
    )
    assert batched.shape == (2,)
    assert torch.allclose(batched, single, atol=1e-10)


def test_eps_schedule_anneals_to_eps():
    s = transport.eps_schedule(4.0, 0.5, 0.5, 3)
    assert s == [4.0, 2.0, 1.0, 0.5, 0.5, 0.5]
    with pytest.raises(ValueError):
        transport.eps_schedule(1.0, 0.1, 1.5, 1)
