"""Tests of rnnbook.newton (chapter A32, ParaRNN): Newton + parallel scans against the loop.

Float64 against :func:`rnnbook.newton.sequential` (a plain Python loop): trajectories,
gradients (adjoint scan against BPTT through the loop), Jacobians against autograd, iteration
counts and traces, a dense-Jacobian cell (matrix scan), an initial state, stacked models.
"""

import pytest
import torch

from rnnbook import newton

torch.set_num_threads(1)
F64 = torch.float64


def rand(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=F64)


def gru_setup(batch=(3,), L=50, n=6, seed=0, a_scale=1.0):
    u = rand(*batch, L, 3 * n, seed=seed)
    a = rand(*batch[:-1], 1, 3, n, seed=seed + 1, scale=a_scale) if batch else rand(3, n, seed=seed + 1)
    return u, a


def test_paragru_jacobian_matches_autograd():
    u, a = gru_setup(batch=(2,), L=4, n=5)
    h_prev = rand(2, 4, 5, seed=3)
    J = newton.paragru_jacobian(h_prev, u, a)
    for b in range(2):
        for t in range(4):
            u_bt = u[b : b + 1, t : t + 1]

            def f(h, u_bt=u_bt):
                return newton.paragru_step(h.view(1, 1, 5), u_bt, a[0:1]).view(5)

            full = torch.autograd.functional.jacobian(f, h_prev[b, t])
            assert torch.allclose(full, torch.diag(torch.diagonal(full)))  # diagonal recurrence
            assert torch.allclose(J[b, t], torch.diagonal(full), atol=1e-12)


def test_tanh_jacobian_matches_autograd():
    n = 4
    W = rand(n, n, seed=2, scale=0.5)
    u = rand(1, 1, n, seed=3)
    h_prev = rand(1, 1, n, seed=4)
    full = torch.autograd.functional.jacobian(
        lambda h: newton.tanh_step(h.view(1, 1, n), u, W).view(n), h_prev.view(n)
    )
    assert torch.allclose(newton.tanh_jacobian(h_prev, u, W)[0, 0], full, atol=1e-12)


def test_sequential_is_the_loop():
    u, a = gru_setup(L=7)
    h = torch.zeros(3, 1, 6, dtype=F64)
    for t in range(7):
        h = newton.paragru_step(h, u[:, t : t + 1], a)
        assert torch.allclose(newton.sequential(newton.paragru_step, u, a)[:, t], h[:, 0])


@pytest.mark.parametrize("L", [1, 2, 37, 256, 1000])
def test_newton_trajectory_equals_loop(L):
    u, a = gru_setup(L=L)
    ref = newton.sequential(newton.paragru_step, u, a)
    h, tr = newton.newton(newton.paragru_step, newton.paragru_jacobian, u, a, iters=30, tol=1e-12, trace=True)
    assert torch.allclose(h, ref, atol=1e-10, rtol=0)
    k = tr.iterations(1e-12)
    assert k is not None and k <= 10
    assert tr.residuals[-1] <= 1e-12


def test_newton_with_h0_and_stacked_models():
    # two stacked models (leading axis 2), each with its own a, batch 3, and an initial state
    u = rand(2, 3, 40, 3 * 5, seed=1)
    a = rand(2, 1, 3, 5, seed=2)
    h0 = rand(2, 3, 5, seed=3)
    ref = newton.sequential(newton.paragru_step, u, a, h0=h0)
    h, _ = newton.newton(newton.paragru_step, newton.paragru_jacobian, u, a, h0=h0, iters=30, tol=1e-13)
    assert torch.allclose(h, ref, atol=1e-10, rtol=0)
    for m in range(2):  # model m alone gives the same
        ref_m = newton.sequential(newton.paragru_step, u[m], a[m], h0=h0[m])
        assert torch.allclose(ref[m], ref_m, atol=1e-14)


def test_newton_dense_jacobian_uses_matrix_scan():
    n, L = 4, 60
    W = rand(n, n, seed=5, scale=0.8 / n**0.5)
    u = rand(2, L, n, seed=6)
    ref = newton.sequential(newton.tanh_step, u, W, n=n)
    h, tr = newton.newton(newton.tanh_step, newton.tanh_jacobian, u, W, iters=30, tol=1e-12, trace=True, n=n)
    assert torch.allclose(h, ref, atol=1e-10, rtol=0)
    assert tr.iterations(1e-12) <= 10


def test_newton_is_exact_after_L_updates_and_picard_too():
    # update k makes at least the first k steps exact (forward substitution), for both methods
    u, a = gru_setup(L=6, a_scale=3.0)
    ref = newton.sequential(newton.paragru_step, u, a)
    for k in range(1, 7):
        h, _ = newton.newton(newton.paragru_step, newton.paragru_jacobian, u, a, iters=k)
        assert torch.allclose(h[:, :k], ref[:, :k], atol=1e-12)
        p, _ = newton.picard(newton.paragru_step, u, a, iters=k)
        assert torch.allclose(p[:, : k + 1], ref[:, : k + 1], atol=1e-12)  # guess is exact at t=0


def test_picard_converges_linearly_and_newton_quadratically():
    u, a = gru_setup(L=200, n=8)
    _, tn = newton.newton(newton.paragru_step, newton.paragru_jacobian, u, a, iters=8, trace=True)
    _, tp = newton.picard(newton.paragru_step, u, a, iters=8, trace=True)
    assert len(tn.residuals) == len(tp.residuals) == 9
    assert tn.residuals[0] == pytest.approx(tp.residuals[0])  # same initial guess
    assert tn.iterations(1e-10) is not None
    assert tp.iterations(1e-10) is None  # Picard is far slower
    assert tn.residuals[3] < tp.residuals[3]


def test_trace_iterations():
    tr = newton.Trace([1.0, 1e-3, 1e-7])
    assert tr.iterations(1e-2) == 1 and tr.iterations(1e-7) == 2 and tr.iterations(1e-9) is None


def _grads(fn, u, a, h0, w):
    u = u.clone().requires_grad_(True)
    a = a.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)
    loss = (fn(u, a, h0) * w).sum() + fn(u, a, h0).pow(2).sum()
    return torch.autograd.grad(loss, (u, a, h0))


@pytest.mark.parametrize("L", [1, 33, 300])
def test_newton_rnn_gradients_equal_bptt(L):
    u, a = gru_setup(L=L, n=5)
    a = rand(3, 3, 5, seed=8)  # one a per sequence
    h0 = rand(3, 5, seed=9)
    w = rand(3, L, 5, seed=10)
    seq = _grads(lambda u, a, h0: newton.sequential(newton.paragru_step, u, a, h0=h0), u, a, h0, w)
    par = _grads(
        lambda u, a, h0: newton.newton_rnn(
            newton.paragru_step, newton.paragru_jacobian, u, a, h0=h0, iters=40, tol=1e-13
        ),
        u, a, h0, w,
    )  # fmt: skip
    for gs, gp in zip(seq, par, strict=True):
        assert gs.shape == gp.shape
        assert torch.allclose(gs, gp, atol=1e-9, rtol=1e-9)


def test_newton_rnn_gradients_broadcast_params_and_no_h0():
    # a shared by a batch (shape (1, 3, n)), no initial state
    u, a = gru_setup(batch=(4,), L=25, n=3)
    w = rand(4, 25, 3, seed=11)

    def grads(fn):
        uu, aa = u.clone().requires_grad_(True), a.clone().requires_grad_(True)
        return torch.autograd.grad((fn(uu, aa) * w).sum(), (uu, aa))

    seq = grads(lambda u, a: newton.sequential(newton.paragru_step, u, a))
    par = grads(
        lambda u, a: newton.newton_rnn(
            newton.paragru_step, newton.paragru_jacobian, u, a, iters=40, tol=1e-13
        )
    )
    for gs, gp in zip(seq, par, strict=True):
        assert gs.shape == gp.shape and torch.allclose(gs, gp, atol=1e-10)


def test_newton_rnn_dense_gradients_equal_bptt():
    n, L = 3, 40
    W = rand(n, n, seed=12, scale=0.9 / n**0.5)
    u = rand(2, L, n, seed=13)
    w = rand(2, L, n, seed=14)

    def grads(fn):
        uu, WW = u.clone().requires_grad_(True), W.clone().requires_grad_(True)
        return torch.autograd.grad((fn(uu, WW) * w).sum(), (uu, WW))

    seq = grads(lambda u, W: newton.sequential(newton.tanh_step, u, W, n=n))
    par = grads(
        lambda u, W: newton.newton_rnn(newton.tanh_step, newton.tanh_jacobian, u, W, iters=40, tol=1e-13, n=n)
    )
    for gs, gp in zip(seq, par, strict=True):
        assert torch.allclose(gs, gp, atol=1e-10)


def test_newton_rnn_float32_three_iterations_close():
    # the authors' setting: float32, 3 updates, no tolerance; small recurrent weights
    g = torch.Generator().manual_seed(0)
    n, L = 8, 512
    u = torch.randn(2, L, 3 * n, generator=g)
    a = 2 / (5 * n) ** 0.5 * torch.randn(3, n, generator=g)
    ref = newton.sequential(newton.paragru_step, u, a)
    h = newton.newton_rnn(newton.paragru_step, newton.paragru_jacobian, u, a, iters=3)
    assert h.dtype == torch.float32
    assert (h - ref).abs().max() < 1e-3
