"""Tests of rnnbook.scan: the parallel scans equal the sequential loops (issue 7).

Everything in float64 against the loop (itself checked against closed forms): values and
gradients, lengths that are not powers of two, long sequences, batch axes, broadcasting, an
initial state, and numerically hard decays (a = 0 exactly, |a| tiny, a = 1, |a| within 1e-9 of
1, negative a, mixtures of all of these).
"""

import numpy as np
import pytest
import torch

from rnnbook import scan

torch.set_num_threads(1)  # small tensors: more threads only add contention (pytest -n 2)
F64 = torch.float64


def rand(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def decays(kind, shape, seed=0):
    """Diagonal coefficients of one numerically hard kind (float64)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(*shape, generator=g, dtype=F64)
    sign = torch.where(torch.rand(*shape, generator=g, dtype=F64) < 0.5, -1.0, 1.0).to(F64)
    if kind == "zero":
        return torch.zeros(shape, dtype=F64)
    if kind == "tiny":  # products underflow to subnormals and then to 0
        return 1e-30 * (1 + u) * sign
    if kind == "one":
        return torch.ones(shape, dtype=F64)
    if kind == "near_one":  # |a| within 1e-9 .. 1e-6 of 1: long memory
        return 1 - 10 ** (-9 + 3 * u)
    if kind == "negative":
        return -(0.5 + 0.5 * u)
    if kind == "mixture":  # every kind above, element by element
        choices = torch.stack([decays(k, shape, seed + 1 + i) for i, k in enumerate(KINDS[:-1])])
        pick = torch.randint(0, len(KINDS) - 1, shape, generator=g)
        return torch.gather(choices, 0, pick.unsqueeze(0)).squeeze(0)
    raise ValueError(kind)


KINDS = ["zero", "tiny", "one", "near_one", "negative", "mixture"]


def close(x, y, rtol=1e-10):
    """Equal up to rounding, relative to the size of the values."""
    x, y = x.detach(), y.detach()
    scale = max(1.0, float(y.abs().max()))
    err = float((x - y).abs().max())
    assert err <= rtol * scale, f"max abs error {err:.3g} (scale {scale:.3g})"


# --------------------------------------------------------------------------------------------
# the references themselves
# --------------------------------------------------------------------------------------------


def test_sequential_scan_is_the_closed_form_for_constant_decay():
    L, n, alpha = 9, 3, -0.7
    b, h0 = rand(L, n), rand(n, seed=1)
    a = torch.full((L, n), alpha, dtype=F64)
    expected = torch.stack(
        [sum(alpha ** (t - k) * b[k] for k in range(t + 1)) + alpha ** (t + 1) * h0 for t in range(L)]
    )
    close(scan.sequential_scan(a, b, h0), expected, 1e-14)
    close(scan.sequential_scan(a, b, h0, reverse=True).flip(0), scan.sequential_scan(a, b.flip(0), h0), 1e-14)


def test_sequential_matrix_scan_is_the_closed_form_for_constant_matrix():
    L, n = 7, 3
    M, b, h0 = 0.5 * rand(n, n), rand(L, n, seed=1), rand(n, seed=2)
    A = M.expand(L, n, n)
    P = [torch.linalg.matrix_power(M, k) for k in range(L + 1)]
    expected = torch.stack([sum(P[t - k] @ b[k] for k in range(t + 1)) + P[t + 1] @ h0 for t in range(L)])
    close(scan.sequential_matrix_scan(A, b, h0), expected, 1e-14)


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------


LENGTHS = [*range(1, 18), 31, 32, 33, 100, 127, 128, 129, 1000]


@pytest.mark.parametrize("with_h0", [False, True])
def test_diagonal_scan_equals_loop_for_every_length(with_h0):
    for L in LENGTHS:
        a, b = rand(2, 3, L, 4, seed=L), rand(2, 3, L, 4, seed=L + 1)
        h0 = rand(2, 3, 4, seed=L + 2) if with_h0 else None
        h = scan.parallel_scan(a.tanh(), b, h0)
        assert h.shape == (2, 3, L, 4)
        close(h, scan.sequential_scan(a.tanh(), b, h0))


@pytest.mark.parametrize("with_h0", [False, True])
def test_matrix_scan_equals_loop_for_every_length(with_h0):
    for L in LENGTHS:
        A, b = rand(2, L, 3, 3, seed=L) / 2, rand(2, L, 3, seed=L + 1)
        h0 = rand(2, 3, seed=L + 2) if with_h0 else None
        close(scan.parallel_matrix_scan(A, b, h0), scan.sequential_matrix_scan(A, b, h0))


def test_matrix_scan_with_diagonal_matrices_is_the_diagonal_scan():
    a, b = rand(3, 77, 4).tanh(), rand(3, 77, 4, seed=1)
    close(scan.parallel_matrix_scan(torch.diag_embed(a), b), scan.parallel_scan(a, b))


def test_scan_of_length_16384_equals_loop():
    L = 16384
    a = torch.cat([decays("near_one", (2, L, 3)), decays("mixture", (2, L, 3), seed=5)], dim=-1)
    b, h0 = rand(2, L, 6, seed=1), rand(2, 6, seed=2)
    h = scan.parallel_scan(a, b, h0)
    ref = scan.sequential_scan(a, b, h0)
    close(h, ref, 1e-11)
    assert ref[..., :3].abs().max() > 30  # long memory: a random walk of ~sqrt(L) (near-one decays)


@pytest.mark.parametrize("kind", KINDS)
def test_hard_decays_equal_loop(kind):
    L = 2049
    a, b, h0 = decays(kind, (3, L, 5)), rand(3, L, 5, seed=1), rand(3, 5, seed=2)
    h = scan.parallel_scan(a, b, h0)
    assert torch.isfinite(h).all()
    close(h, scan.sequential_scan(a, b, h0), 1e-11)
    if kind == "zero":
        assert torch.equal(h, b)  # no memory at all: exactly the input
    if kind == "one":
        close(h, torch.cumsum(b, dim=-2) + h0.unsqueeze(-2), 1e-12)


def test_float32_scan_is_as_accurate_as_the_float32_loop():
    L = 16384
    a, b = decays("near_one", (2, L, 8)), rand(2, L, 8, seed=1)
    ref = scan.sequential_scan(a, b)
    err_scan = float((scan.parallel_scan(a.float(), b.float()).double() - ref).abs().max())
    err_loop = float((scan.sequential_scan(a.float(), b.float()).double() - ref).abs().max())
    assert err_scan <= 4 * err_loop + 1e-5 * float(ref.abs().max()), (err_scan, err_loop)


def test_broadcasting_and_reverse():
    L = 50
    a, b, h0 = rand(L, 4).sigmoid(), rand(3, L, 4, seed=1), rand(4, seed=2)  # one decay for the batch
    h = scan.parallel_scan(a, b, h0)
    assert h.shape == (3, L, 4)
    close(h, scan.sequential_scan(a.expand(3, L, 4), b, h0.expand(3, 4)))
    close(scan.parallel_scan(a, b, h0, reverse=True), scan.sequential_scan(a, b, h0, reverse=True))
    A = rand(L, 4, 4, seed=3) / 3
    close(scan.parallel_matrix_scan(A, b, h0), scan.sequential_matrix_scan(A.expand(3, L, 4, 4), b, h0))
    close(
        scan.parallel_matrix_scan(A, b, h0, reverse=True), scan.sequential_matrix_scan(A, b, h0, reverse=True)
    )


def test_dtypes_promote_and_bad_shapes_are_refused():
    h = scan.parallel_scan(torch.full((5, 2), 0.5, dtype=torch.float32), rand(5, 2))
    assert h.dtype == F64
    with pytest.raises(ValueError, match=r"\(\.\.\., L, n, n\)"):
        scan.parallel_matrix_scan(rand(5, 2, 3), rand(5, 2))
    with pytest.raises(ValueError, match=r"\(\.\.\., L, n\)"):
        scan.parallel_scan(rand(5), rand(5))


# --------------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------------


def leaf(x):
    return x.detach().clone().requires_grad_()


def test_gradients_equal_loop_for_every_length():
    for L in LENGTHS:
        a, b, h0 = rand(2, L, 3, seed=L).tanh(), rand(2, L, 3, seed=L + 1), rand(2, 3)
        A, w = rand(2, L, 3, 3, seed=L) / 2, rand(2, L, 3, seed=7)
        pairs = [
            (grads(scan.parallel_scan, (a, b, h0), w), grads(scan.sequential_scan, (a, b, h0), w)),
            (
                grads(scan.parallel_matrix_scan, (A, b, h0), w),
                grads(scan.sequential_matrix_scan, (A, b, h0), w),
            ),
        ]
        for fast, ref in pairs:
            for x, y in zip(fast, ref, strict=True):
                close(x, y)


@pytest.mark.parametrize("L", [1, 2, 5, 8])
def test_gradcheck_diagonal(L):
    a, b, h0 = leaf(rand(2, L, 3).tanh()), leaf(rand(2, L, 3, seed=1)), leaf(rand(2, 3, seed=2))
    assert torch.autograd.gradcheck(scan.parallel_scan, (a, b, h0))
    assert torch.autograd.gradcheck(lambda a, b: scan.parallel_scan(a, b, reverse=True), (a, b))


def test_gradcheck_matrix_complex_and_double_backward():
    A, b, h0 = leaf(rand(2, 7, 3, 3) / 2), leaf(rand(2, 7, 3, seed=1)), leaf(rand(2, 3, seed=2))
    assert torch.autograd.gradcheck(scan.parallel_matrix_scan, (A, b, h0), fast_mode=True)
    A2, b2, h02 = leaf(A[0, :5, :2, :2]), leaf(b[0, :5, :2]), leaf(h0[0, :2])
    assert torch.autograd.gradgradcheck(scan.parallel_matrix_scan, (A2, b2, h02), fast_mode=True)
    a = leaf(rand(2, 6, 3).tanh())
    assert torch.autograd.gradgradcheck(scan.parallel_scan, (a, leaf(b[:, :6]), h0))
    ac = leaf(torch.complex(rand(6, 2, seed=3), rand(6, 2, seed=4)) / 2)
    bc = leaf(torch.complex(rand(6, 2, seed=5), rand(6, 2, seed=6)))
    assert torch.autograd.gradcheck(scan.parallel_scan, (ac, bc))


def grads(fn, inputs, weight):
    inputs = [leaf(x) for x in inputs]
    out = fn(*inputs)
    return [out, *torch.autograd.grad((out * weight).sum(), inputs)]


@pytest.mark.parametrize("kind", ["mixture", "near_one"])
def test_diagonal_gradients_equal_loop_at_long_length(kind):
    L = 3000
    a, b, h0 = decays(kind, (2, L, 4)), rand(2, L, 4, seed=1), rand(2, 4, seed=2)
    w = rand(2, L, 4, seed=3)
    fast = grads(scan.parallel_scan, (a, b, h0), w)
    ref = grads(scan.sequential_scan, (a, b, h0), w)
    for name, x, y in zip(("h", "a", "b", "h0"), fast, ref, strict=True):
        assert x.shape == y.shape, name
        close(x, y, 1e-10)


def test_matrix_gradients_equal_loop_at_long_length():
    L = 1500
    A, b, h0 = rand(2, L, 3, 3) / 3, rand(2, L, 3, seed=1), rand(2, 3, seed=2)
    w = rand(2, L, 3, seed=3)
    fast = grads(scan.parallel_matrix_scan, (A, b, h0), w)
    ref = grads(scan.sequential_matrix_scan, (A, b, h0), w)
    for name, x, y in zip(("h", "A", "b", "h0"), fast, ref, strict=True):
        assert x.shape == y.shape, name
        close(x, y, 1e-10)


def test_gradients_of_broadcast_inputs_have_their_shapes():
    a, b, h0 = leaf(rand(40, 3).sigmoid()), leaf(rand(5, 40, 3, seed=1)), leaf(rand(3, seed=2))
    scan.parallel_scan(a, b, h0).sum().backward()
    ga, gh0 = a.grad.clone(), h0.grad.clone()
    a_ref, h0_ref = leaf(a), leaf(h0)
    scan.sequential_scan(a_ref, b.detach(), h0_ref).sum().backward()
    assert ga.shape == (40, 3) and gh0.shape == (3,)
    close(ga, a_ref.grad)
    close(gh0, h0_ref.grad)


def test_gradient_with_zero_decay_reaches_only_the_current_input():
    L = 33
    a, b = leaf(torch.zeros(L, 2, dtype=F64)), leaf(rand(L, 2))
    h = scan.parallel_scan(a, b)
    (g_b,) = torch.autograd.grad(h[20].sum(), b)
    expected = torch.zeros(L, 2, dtype=F64)
    expected[20] = 1
    assert torch.equal(g_b, expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_cuda_equals_cpu():  # pragma: no cover - runs on GPU machines only
    a, b, h0 = decays("mixture", (2, 4097, 3)), rand(2, 4097, 3, seed=1), rand(2, 3, seed=2)
    w = rand(2, 4097, 3, seed=3)
    cpu = grads(scan.parallel_scan, (a, b, h0), w)
    gpu = grads(scan.parallel_scan, [x.cuda() for x in (a, b, h0)], w.cuda())
    for x, y in zip(gpu, cpu, strict=True):
        close(x.cpu(), y, 1e-10)
    A = rand(2, 999, 3, 3) / 3
    close(
        scan.parallel_matrix_scan(A.cuda(), b[:, :999].cuda()).cpu(), scan.parallel_matrix_scan(A, b[:, :999])
    )
    assert np.isfinite(cpu[0].numpy()).all()


# --------------------------------------------------------------------------------------------
# alternatives (issue 18): the closed form in log space, the compiled odd-even scan
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["positive", "negative", "mixed_sign", "near_one"])
def test_log_scan_equals_loop_values_and_gradients(kind):
    L = 257
    g = torch.Generator().manual_seed(11)
    u = torch.rand(2, L, 3, generator=g, dtype=F64)
    a = {
        "positive": 0.3 + 0.7 * u,
        "negative": -(0.3 + 0.7 * u),  # complex logarithms
        "mixed_sign": torch.where(u < 0.5, -1.0, 1.0).to(F64) * (0.5 + u),
        "near_one": 1 - 1e-6 * u,
    }[kind]
    b, h0, w = rand(2, L, 3, seed=1), rand(2, 3, seed=2), rand(2, L, 3, seed=3)
    fast = grads(scan.log_scan, (a, b, h0), w)
    ref = grads(scan.sequential_scan, (a, b, h0), w)
    for name, x, y in zip(("h", "a", "b", "h0"), fast, ref, strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype, name
        close(x, y, 1e-9)


def test_log_scan_broadcasts_and_handles_b_zero():
    a, b = rand(40, 3, seed=4).sigmoid(), rand(5, 40, 3, seed=5)
    b[:, 7] = 0.0  # log(0): the tiny offset keeps values and gradients finite
    al, bl = leaf(a), leaf(b)
    h = scan.log_scan(al, bl)
    close(h, scan.sequential_scan(a, b))
    h.sum().backward()
    ar, br = leaf(a), leaf(b)
    scan.sequential_scan(ar, br).sum().backward()
    assert al.grad.shape == (40, 3)
    close(al.grad, ar.grad, 1e-9)
    close(bl.grad, br.grad, 1e-9)


def test_log_scan_complex_inputs():
    a = torch.complex(rand(30, 2, seed=6), rand(30, 2, seed=7)) / 2
    b = torch.complex(rand(30, 2, seed=8), rand(30, 2, seed=9))
    close(scan.log_scan(a, b), scan.sequential_scan(a, b), 1e-9)


def test_compiled_scan_equals_loop_values_and_gradients():
    # one shape (each compiles: seconds); L = 13 takes every odd-length branch (13 -> 6 -> 3 -> 1)
    L = 13
    a = decays("mixture", (2, L, 3), seed=3)
    b, h0, w = rand(2, L, 3, seed=1), rand(2, 3, seed=2), rand(2, L, 3, seed=4)
    fast = grads(scan.compiled_scan, (a, b, h0), w)
    ref = grads(scan.sequential_scan, (a, b, h0), w)
    for name, x, y in zip(("h", "a", "b", "h0"), fast, ref, strict=True):
        assert x.shape == y.shape, name
        close(x, y, 1e-12)
    # without h0, and a decay shared by the batch (broadcast): the same compiled shapes
    a1 = leaf(a[0])
    h = scan.compiled_scan(a1, b)
    close(h, scan.sequential_scan(a[0].expand(2, L, 3), b))
    h.sum().backward()
    assert a1.grad.shape == (L, 3)
    a2 = leaf(a[0])
    scan.sequential_scan(a2, b).sum().backward()
    close(a1.grad, a2.grad)


def test_compiled_scan_falls_back_for_complex():
    a = torch.complex(rand(9, 2, seed=6), rand(9, 2, seed=7)) / 2
    b = torch.complex(rand(9, 2, seed=8), rand(9, 2, seed=9))
    close(scan.compiled_scan(a, b), scan.sequential_scan(a, b))
