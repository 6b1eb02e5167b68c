"""Tests of rnnbook.scan2d (introduced by A29): the wavefront and dense forms equal the loop.

Float64 throughout: values and gradients of :func:`scan2d` and :func:`scan2d_dense` against
the per-cell double loop :func:`scan2d_loop` (itself checked against hand-computed cells and
binomial path counts), non-square grids, batch axes, broadcast transitions, missing cross
terms, and ``torch.autograd.gradcheck`` at a tiny size. Plus the stability properties of the
P-mode and D-mode parametrisations that A29 relies on.
"""

import math

import pytest
import torch

from rnnbook import scan2d as s2

torch.set_num_threads(1)
F64 = torch.float64


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def inputs(lead=(2,), H=4, W=5, n=3, seed=0, cross=(True, True)):
    src_r, src_d = rand(*lead, H, W, n, seed=seed), rand(*lead, H, W, n, seed=seed + 1)
    t = [rand(*lead, H, W, seed=seed + 2 + k).tanh() for k in range(4)]
    trans = s2.Transitions(t[0], t[1], t[2] if cross[0] else None, t[3] if cross[1] else None)
    return src_r, src_d, trans


def test_loop_by_hand():
    """Three cells worked out by hand on a 2 x 2 grid."""
    src_r, src_d, tr = inputs(lead=(), H=2, W=2, n=1)
    L, U = s2.scan2d_loop(src_r, src_d, tr)
    R00, D00 = src_r[0, 0], src_d[0, 0]
    R10 = tr.ru[1, 0] * D00 + src_r[1, 0]
    D01 = tr.dl[0, 1] * R00 + src_d[0, 1]
    assert torch.allclose(L[0, 1], R00) and torch.allclose(U[1, 0], D00)
    assert torch.allclose(L[1, 1], R10) and torch.allclose(U[1, 1], D01)
    assert L[:, 0].abs().max() == 0 and U[0].abs().max() == 0


@pytest.mark.parametrize("H,W", [(1, 1), (1, 6), (5, 1), (3, 3), (4, 7), (7, 4)])
@pytest.mark.parametrize("cross", [(True, True), (False, True), (True, False), (False, False)])
def test_forms_equal_loop(H, W, cross):
    src_r, src_d, tr = inputs(H=H, W=W, cross=cross)
    ref = s2.scan2d_loop(src_r, src_d, tr)
    for fn in (s2.scan2d, s2.scan2d_dense):
        out = fn(src_r, src_d, tr)
        for a, b in zip(out, ref, strict=True):
            assert a.shape == b.shape
            assert (a - b).abs().max() < 1e-12


def test_gradients_equal_loop():
    src_r, src_d, tr = inputs(lead=(3,), H=5, W=6, n=2, seed=4)
    leaves = [src_r, src_d, *tr]
    w = rand(2, 3, 5, 6, 2, seed=9)

    def grads(fn):
        xs = [x.clone().requires_grad_(True) for x in leaves]
        L, U = fn(xs[0], xs[1], s2.Transitions(*xs[2:]))
        ((w[0] * L).sum() + (w[1] * U).sum()).backward()
        return [x.grad for x in xs]

    ref = grads(s2.scan2d_loop)
    for fn in (s2.scan2d, s2.scan2d_dense):
        for a, b in zip(grads(fn), ref, strict=True):
            assert (a - b).abs().max() < 1e-11


@pytest.mark.parametrize("fn", [s2.scan2d, s2.scan2d_dense, s2.scan2d_loop])
def test_gradcheck(fn):
    src_r, src_d, tr = inputs(lead=(), H=2, W=3, n=2, seed=7)
    xs = [x.clone().requires_grad_(True) for x in (src_r, src_d, *tr)]

    def f(*a):
        return fn(a[0], a[1], s2.Transitions(*a[2:]))

    assert torch.autograd.gradcheck(f, xs)


def test_broadcast_transitions():
    """One (H, W) transition map shared by a batch of sources."""
    src_r, src_d, tr = inputs(lead=(4,), H=3, W=4)
    shared = s2.Transitions(*(t[0] for t in tr))
    expanded = s2.Transitions(*(t[:1].expand(4, 3, 4) for t in tr))
    a = s2.scan2d(src_r, src_d, shared)
    b = s2.scan2d_loop(src_r, src_d, expanded)
    assert all((x - y).abs().max() < 1e-12 for x, y in zip(a, b, strict=True))


def corner(H, W):
    src = torch.zeros(H, W, 1, dtype=F64)
    src[0, 0] = 1.0
    return src


def test_naive_counts_paths():
    """Unit transitions, unit sources into both edges at the corner: both outgoing states of
    cell (i, j) count the monotone lattice paths from the corner, binom(i + j, i), so the
    state entering from the left is binom(i + j - 1, i) for j > 0."""
    H = W = 9
    L, U = s2.scan2d(corner(H, W), corner(H, W), s2.naive((H, W)))
    for i in range(H):
        for j in range(1, W):
            assert L[i, j, 0].item() == math.comb(i + j - 1, i)


def test_p_and_d_mode_bounded():
    H = W = 24
    g = torch.Generator().manual_seed(3)
    o = torch.rand(H, W, generator=g, dtype=F64)
    t = torch.rand(H, W, generator=g, dtype=F64)
    sr, sd = s2.p_sources(o, corner(H, W))
    L, U = s2.scan2d(sr, sd, s2.p_mode(o, t))
    assert max(L.abs().max(), U.abs().max()) <= 1 + 1e-12
    td = [torch.rand(H, W, generator=g, dtype=F64) * 2 - 1 for _ in range(3)]
    L, U = s2.scan2d(corner(H, W), corner(H, W), s2.d_mode(*td))
    assert max(L.abs().max(), U.abs().max()) <= 1 + 1e-12


def test_p_mode_transports_a_row():
    H, W = 3, 16
    o, t = torch.ones(H, W, dtype=F64), torch.ones(H, W, dtype=F64)
    sr, sd = s2.p_sources(o, corner(H, W))
    L, U = s2.scan2d(sr, sd, s2.p_mode(o, t))
    assert torch.all(L[0, 1:, 0] == 1) and L[1:].abs().max() == 0 and U.abs().max() == 0


def test_bad_shapes():
    src = torch.zeros(3, 4, 2)
    with pytest.raises(ValueError):
        s2.scan2d(src, src, s2.Transitions(torch.zeros(4, 3), torch.zeros(3, 4)))
    with pytest.raises(ValueError):
        s2.scan2d(torch.zeros(3, 4), torch.zeros(3, 4), s2.Transitions(torch.zeros(3), torch.zeros(3)))
