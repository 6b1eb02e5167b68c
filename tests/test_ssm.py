"""Tests of rnnbook.ssm (chapter A42): the three views of one linear state-space system agree.

Real tensors in float64 unless said otherwise: HiPPO-LegS against its definition, the
discretisations against scipy.signal.cont2discrete, the recurrence (parallel scan) against the
plain loop, the FFT convolution against a direct sum, the discrete views against the continuous
solution (matrix exponential, and scipy.integrate.solve_ivp), the orders of convergence of the
bilinear rule (2) and of Euler's (1), and gradients (against the loop, and gradcheck).
"""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp
from scipy.signal import cont2discrete

from rnnbook import ssm

torch.set_num_threads(1)
F64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def close(x, y, tol=1e-10):
    x, y = x.detach(), y.detach()
    scale = max(1.0, float(y.abs().max()))
    err = float((x - y).abs().max())
    assert err <= tol * scale, f"max abs error {err:.3g} (scale {scale:.3g})"


def test_hippo_legs_definition():
    N = 6
    A, B = ssm.hippo_legs(N)
    for n in range(N):
        assert B[n] == pytest.approx(math.sqrt(2 * n + 1))
        for k in range(N):
            want = -math.sqrt(2 * n + 1) * math.sqrt(2 * k + 1) if n > k else (-(n + 1) if n == k else 0.0)
            assert A[n, k] == pytest.approx(want)
    # triangular: eigenvalues -(n+1), all stable
    ev = torch.linalg.eigvals(A).real.sort().values
    close(ev, -torch.arange(N, 0, -1, dtype=F64), 1e-8)


def test_random_stable_abscissa():
    A, B = ssm.random_stable(16, gen(3), abscissa=-0.5)
    assert float(torch.linalg.eigvals(A).real.max()) == pytest.approx(-0.5, abs=1e-9)
    assert B.shape == (16,)
    with pytest.raises(ValueError):
        ssm.random_stable(4, gen(0), abscissa=0.1)


@pytest.mark.parametrize(
    "method,scipy_method",
    [("bilinear", "bilinear"), ("zoh", "zoh"), ("euler", "euler"), ("backward", "backward_diff")],
)
def test_discretize_matches_scipy(method, scipy_method):
    A, B = ssm.hippo_legs(5)
    C = rand(5, seed=1)
    dt = 0.07
    Ab, Bb = ssm.discretize(A, B, dt, method)
    Ad, Bd, *_ = cont2discrete(
        (A.numpy(), B.numpy()[:, None], C.numpy()[None], np.zeros((1, 1))), dt, scipy_method
    )
    close(Ab, torch.from_numpy(Ad), 1e-12)
    close(Bb, torch.from_numpy(Bd[:, 0]), 1e-12)


def test_discretize_batched_dt():
    A, B = ssm.hippo_legs(4)
    dt = torch.tensor([0.01, 0.1, 0.5], dtype=F64)
    for method in ("bilinear", "zoh", "euler", "backward"):
        Ab, Bb = ssm.discretize(A, B, dt, method)
        assert Ab.shape == (3, 4, 4) and Bb.shape == (3, 4)
        for i in range(3):
            a1, b1 = ssm.discretize(A, B, float(dt[i]), method)
            close(Ab[i], a1, 1e-13)
            close(Bb[i], b1, 1e-13)
    with pytest.raises(ValueError):
        ssm.discretize(A, B, 0.1, "rk4")


def system(N=8, H=3, seed=0, method="bilinear"):
    A, B = ssm.hippo_legs(N)
    dt = torch.exp(torch.empty(H, dtype=F64).uniform_(math.log(1e-3), math.log(1e-1), generator=gen(seed)))
    Ab, Bb = ssm.discretize(A, B, dt, method)
    return Ab, Bb, rand(H, N, seed=seed + 1), rand(H, seed=seed + 2)


@pytest.mark.parametrize("L", [1, 7, 64, 100])
def test_krylov_and_kernel_against_powers(L):
    Ab, Bb, C, _ = system()
    X = ssm.krylov(Ab, Bb, L)
    assert X.shape == (3, 8, L)
    for j in [0, L // 2, L - 1]:
        close(X[..., j], (torch.linalg.matrix_power(Ab, j) @ Bb.unsqueeze(-1)).squeeze(-1), 1e-12)
    K = ssm.ssm_kernel(Ab, Bb, C, L)
    close(K, (C.unsqueeze(-1) * X).sum(-2), 1e-12)


def test_causal_conv_against_direct_sum():
    u, K = rand(2, 3, 37, seed=4), rand(3, 37, seed=5)
    y = ssm.causal_conv(u, K)
    want = torch.zeros_like(u)
    for k in range(37):
        for j in range(k + 1):
            want[..., k] += K[..., j] * u[..., k - j]
    close(y, want, 1e-12)


@pytest.mark.parametrize("method", ["bilinear", "zoh", "euler"])
def test_recurrent_equals_convolutional_equals_loop(method):
    Ab, Bb, C, D = system(method=method)
    u = rand(5, 3, 50, seed=7)
    y_loop, x_loop = ssm.ssm_loop(u, Ab, Bb, C, D)
    y_rec, x_rec = ssm.ssm_recurrent(u, Ab, Bb, C, D, return_states=True)
    y_conv = ssm.ssm_convolutional(u, Ab, Bb, C, D)
    close(x_rec, x_loop)
    close(y_rec, y_loop)
    close(y_conv, y_loop)


def test_initial_state():
    Ab, Bb, C, D = system()
    u, h0 = rand(2, 3, 20, seed=8), rand(2, 3, 8, seed=9)
    y_loop, _ = ssm.ssm_loop(u, Ab, Bb, C, D, h0=h0)
    close(ssm.ssm_recurrent(u, Ab, Bb, C, D, h0=h0), y_loop)


def test_float32_long_sequence():
    """The chapter's check: L = 256, N = 32, float32, conv = recurrence within 1e-4."""
    A, B = ssm.hippo_legs(32, torch.float32)
    dt = torch.tensor([1e-3, 1e-2, 1e-1])
    Ab, Bb = ssm.discretize(A, B, dt)
    C = torch.randn(3, 32, generator=gen(1)) / math.sqrt(32)
    u = torch.randn(4, 3, 256, generator=gen(2))
    y_rec = ssm.ssm_recurrent(u, Ab, Bb, C, 0.5)
    y_conv = ssm.ssm_convolutional(u, Ab, Bb, C, 0.5)
    assert float((y_rec - y_conv).abs().max()) < 1e-4


def sine(omega):
    S = torch.tensor([[0.0, omega], [-omega, 0.0]], dtype=F64)
    return S, torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([0.0, 1.0], dtype=F64)


def test_exosystem_against_solve_ivp():
    A, B = ssm.hippo_legs(6)
    C = rand(6, seed=3)
    S, h, w0 = sine(2.0)
    t = torch.linspace(0, 3, 31, dtype=F64)
    x, u, y = ssm.exosystem_response(A, B, C, 0.3, S, h, w0, t)
    close(u, torch.sin(2 * t), 1e-12)
    sol = solve_ivp(
        lambda s, z: A.numpy() @ z + B.numpy() * np.sin(2 * s),
        (0, 3),
        np.zeros(6),
        t_eval=t.numpy(),
        rtol=1e-11,
        atol=1e-12,
        method="DOP853",
    )
    close(x, torch.from_numpy(sol.y.T), 1e-8)
    close(y, x @ C + 0.3 * u, 1e-12)


def test_zoh_exact_for_held_input():
    """Zero-order hold: the recurrence equals the continuous system driven by the held samples."""
    A, B = ssm.hippo_legs(5)
    C = rand(5, seed=2)
    dt, L = 0.05, 40
    u = torch.sin(torch.arange(1, L + 1, dtype=F64) * 0.3)
    Ab, Bb = ssm.discretize(A, B, dt, "zoh")
    _, x = ssm.ssm_loop(u, Ab, Bb, C, 0.0)
    # continuous: u(t) = u_k on (t_{k-1}, t_k]
    sol = solve_ivp(
        lambda s, z: A.numpy() @ z + B.numpy() * float(u[min(int(s / dt), L - 1)]),
        (0, L * dt),
        np.zeros(5),
        t_eval=dt * np.arange(1, L + 1),
        rtol=1e-11,
        atol=1e-12,
        method="DOP853",
        max_step=dt / 4,
    )
    close(x, torch.from_numpy(sol.y.T), 1e-6)


def global_error(method, L, T=2.0, N=8, midpoint=True):
    """Max over the common grid t = T/8, 2T/8, ... of |x_k - x(t_k)|, input sin(3t)."""
    A, B = ssm.hippo_legs(N)
    S, h, w0 = sine(3.0)
    dt = T / L
    k = torch.arange(1, L + 1, dtype=F64)
    t_in = (k - 0.5) * dt if midpoint else k * dt
    u = torch.sin(3.0 * t_in)
    Ab, Bb = ssm.discretize(A, B, dt, method)
    _, x = ssm.ssm_loop(u, Ab, Bb, torch.zeros(N, dtype=F64), 0.0)
    idx = torch.arange(L // 8 - 1, L, L // 8)
    x_true, _, _ = ssm.exosystem_response(A, B, torch.zeros(N, dtype=F64), 0.0, S, h, w0, k[idx] * dt)
    return float((x[idx] - x_true).abs().max())


@pytest.mark.parametrize("method,order", [("bilinear", 2.0), ("euler", 1.0), ("backward", 1.0)])
def test_orders_of_convergence(method, order):
    Ls = [64, 128, 256, 512]
    err = [global_error(method, L) for L in Ls]
    slopes = np.diff(np.log(err)) / np.diff(np.log([2.0 / L for L in Ls]))
    assert abs(slopes[-1] - order) < 0.15, (method, err, slopes)
    assert all(e2 < e1 for e1, e2 in itertools.pairwise(err))


def test_zoh_second_order_for_midpoint_samples():
    """ZOH with midpoint samples is second order too, for a smooth input."""
    err = [global_error("zoh", L) for L in (128, 256)]
    assert err[0] / err[1] > 3.5


def test_gradients_recurrent_equal_loop():
    A, B = ssm.hippo_legs(6)
    log_dt = torch.tensor([-3.0, -1.5], dtype=F64, requires_grad=True)
    C = rand(2, 6, seed=1).requires_grad_()
    D = rand(2, seed=2).requires_grad_()
    u = rand(3, 2, 33, seed=3).requires_grad_()
    w = rand(3, 2, 33, seed=4)

    def loss(view):
        Ab, Bb = ssm.discretize(A, B, torch.exp(log_dt))
        if view == "loop":
            y = ssm.ssm_loop(u, Ab, Bb, C, D)[0]
        elif view == "rec":
            y = ssm.ssm_recurrent(u, Ab, Bb, C, D)
        else:
            y = ssm.ssm_convolutional(u, Ab, Bb, C, D)
        return (w * y).sum()

    grads = {}
    for view in ("loop", "rec", "conv"):
        grads[view] = torch.autograd.grad(loss(view), [log_dt, C, D, u])
    for view in ("rec", "conv"):
        for g1, g2 in zip(grads[view], grads["loop"], strict=True):
            close(g1, g2, 1e-9)


def test_gradcheck_discretize_and_kernel():
    A, B = ssm.hippo_legs(4)
    C = rand(4, seed=5)
    for method in ("bilinear", "zoh"):

        def f(dt, C=C, method=method):
            Ab, Bb = ssm.discretize(A, B, dt, method)
            return ssm.ssm_kernel(Ab, Bb, C, 9)

        assert torch.autograd.gradcheck(f, (torch.tensor([0.05, 0.2], dtype=F64, requires_grad=True),))


@pytest.mark.parametrize("models", [None, 2])
def test_lssl_layer_modes_and_models(models):
    N, H = 8, 4
    A, B = ssm.hippo_legs(N)
    if models:
        A2, B2 = ssm.random_stable(N, gen(1))
        A, B = torch.stack([A, A2]), torch.stack([B, B2])
    torch.set_default_dtype(F64)
    try:
        layer = ssm.LSSL(H, A, B, models=models, generator=gen(2))
    finally:
        torch.set_default_dtype(torch.float32)
    lead = (models,) if models else ()
    u = rand(*lead, 3, 25, H, seed=6)
    y_conv = layer(u, "conv")
    y_rec = layer(u, "recurrent")
    assert y_conv.shape == u.shape
    close(y_conv, y_rec, 1e-10)
    # against the loop, model by model and channel by channel
    Ab, Bb = layer.system()
    for m in range(models or 1):
        sel = (lambda p, m=m: p[m]) if models else (lambda p: p)
        for c in range(H):
            y_loop, _ = ssm.ssm_loop(sel(u)[..., c], sel(Ab)[c], sel(Bb)[c], sel(layer.C)[c], sel(layer.D)[c])
            close(sel(y_conv)[..., c], y_loop, 1e-10)
    # gradients reach every parameter, equal in both modes
    g_conv = torch.autograd.grad(y_conv.square().sum(), [layer.C, layer.D, layer.log_dt])
    g_rec = torch.autograd.grad(layer(u, "recurrent").square().sum(), [layer.C, layer.D, layer.log_dt])
    for a, b in zip(g_conv, g_rec, strict=True):
        assert float(a.abs().max()) > 0
        close(a, b, 1e-9)
    with pytest.raises(ValueError):
        layer(u, "unknown")


def test_lssl_dt_scale_is_timescale():
    """Doubling Delta on a 2x-subsampled held input gives the same states (zero-order hold)."""
    N, H = 6, 2
    A, B = ssm.hippo_legs(N)
    torch.set_default_dtype(F64)
    try:
        layer = ssm.LSSL(H, A, B, method="zoh", generator=gen(3))
    finally:
        torch.set_default_dtype(torch.float32)
    u = rand(2, 10, H, seed=1)
    fine = u.repeat_interleave(2, dim=1)  # each sample held for two steps
    y_fine = layer(fine)
    y_coarse = layer(u, dt_scale=2.0)
    # states agree at the coarse grid; the outputs' C x parts agree
    close(y_fine[:, 1::2] - layer.D * fine[:, 1::2], y_coarse - layer.D * u, 1e-10)
