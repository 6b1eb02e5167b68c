"""Two-dimensional linear recurrences on a grid: states arrive from the left and from the top.

Introduced by A29 (pLSTM, Pöppel et al. 2025) for the 2-D scan that the part's library layer
(:mod:`rnnbook.scan`, one-dimensional) lacked. The recurrence is the one pLSTM runs on the
line graph of a 2-D grid: every cell ``(i, j)`` (row ``i`` of ``H``, column ``j`` of ``W``)
has two *incoming* edge states, ``L`` from its left neighbour and ``U`` from the neighbour
above, and two *outgoing* edge states, ``R`` (to the right) and ``D`` (down)::

    R[i, j] = t_rl[i, j] * L[i, j] + t_ru[i, j] * U[i, j] + src_r[i, j]
    D[i, j] = t_du[i, j] * U[i, j] + t_dl[i, j] * L[i, j] + src_d[i, j]
    L[i, j] = R[i, j - 1]   (0 in column 0),   U[i, j] = D[i - 1, j]   (0 in row 0)

The transitions are scalars per cell (pLSTM's ``J_T = 1``); the states are vectors of any
width ``n`` (a flattened ``d_k x d_v`` matrix memory in pLSTM). The functions return the
incoming states ``(L, U)`` of every cell, which pLSTM reads out through its marks.

Three forms, all with any leading batch axes (``src`` is ``(..., H, W, n)``, every transition
``(..., H, W)``, broadcast against the sources):

- :func:`scan2d_loop`: the plain per-cell double loop (the reference);
- :func:`scan2d`: the wavefront form. All cells of one anti-diagonal ``i + j = s`` depend only
  on the anti-diagonal before, so ``H + W - 1`` sequential steps, each vectorised over the
  diagonal and the batch. The grid is skewed once (diagonal ``s``, row ``i``), cells outside
  the grid get zero transitions and sources, so they carry nothing;
- :func:`scan2d_dense`: the parallel (non-recurrent) form for small grids. Stacking all
  ``2 H W`` edge states into one vector ``z``, the recurrence is ``z = A z + b`` with ``A``
  strictly lower triangular in row-major cell order, so ``z = (I - A)^{-1} b``: one
  triangular solve, no loop. Its cost grows like ``(H W)^2`` in memory; it exists to check
  the wavefront form by an independent route (the paper's log-depth parallel form is a
  different, hierarchical factorisation of the same ``(I - A)^{-1}``).

The stabilising parametrisations of the paper (Sec. 3, and the authors' ``plstm`` code):

- :func:`p_mode` (directed propagation): an orientation gate ``o`` in ``(0, 1)`` and a
  transition ``t`` with ``|t| <= 1``; ``t_rl = t_ru = o t``, ``t_du = t_dl = (1 - o) t``. The
  merged incoming state is split between the right and the down edge, so the total outgoing
  weight of a cell is ``|t| <= 1`` and the sum over paths cannot grow;
- :func:`d_mode` (diffusive distribution): three free transitions ``t_rl``, ``t_du`` and
  one cross term ``t_dl`` (``t_ru = 0``, the "chirality" choice), each ``|t| <= 1``. With one
  cross term, exactly one path leads from a cell to any cell below-right of it, so the
  product of transitions along it is bounded by 1;
- :func:`naive`: every transition 1 (a 2-D linear RNN without the pLSTM gating); the number
  of paths from a corner to ``(i, j)`` is binomial, and the states grow accordingly.

Gradients are plain autograd in all three forms (tested against each other, float64).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "Transitions",
    "d_mode",
    "naive",
    "p_mode",
    "p_sources",
    "scan2d",
    "scan2d_dense",
    "scan2d_loop",
]


class Transitions(NamedTuple):
    """The four scalar transitions of every cell, each ``(..., H, W)``; a ``None`` cross term is 0.

    ``rl``: left-in to right-out, ``du``: top-in to down-out, ``ru``: top-in to right-out,
    ``dl``: left-in to down-out (pLSTM's ``T_rl, T_du, T_ru, T_dl``).
    """

    rl: Tensor
    du: Tensor
    ru: Tensor | None = None
    dl: Tensor | None = None


def p_mode(o: Tensor, t: Tensor) -> Transitions:
    """P-mode transitions from the orientation gate ``o`` and the transition ``t`` (both ``(..., H, W)``)."""
    right, down = o * t, (1 - o) * t
    return Transitions(rl=right, du=down, ru=right, dl=down)


def p_sources(o: Tensor, s: Tensor) -> tuple[Tensor, Tensor]:
    """P-mode sources: ``s`` (..., H, W, n) split as ``o s`` to the right and ``(1 - o) s`` down."""
    return o[..., None] * s, (1 - o[..., None]) * s


def d_mode(t_r: Tensor, t_d: Tensor, t_cross: Tensor) -> Transitions:
    """D-mode transitions: straight ``t_r``, ``t_d`` and the one cross term left-in to down-out."""
    return Transitions(rl=t_r, du=t_d, ru=None, dl=t_cross)


def naive(shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> Transitions:
    """Unit transitions everywhere (all four): the ungated 2-D linear recurrence."""
    one = torch.ones(shape, dtype=dtype)
    return Transitions(rl=one, du=one, ru=one, dl=one)


def _full(t: Tensor | None, like: Tensor) -> Tensor:
    """A transition as a tensor of the sources' shape without the state axis (zeros for None)."""
    lead = like.shape[:-1]
    if t is None:
        return like.new_zeros(lead)
    return t.expand(torch.broadcast_shapes(t.shape, lead))


def _check(src_r: Tensor, src_d: Tensor, trans: Transitions) -> tuple[Tensor, Tensor]:
    if src_r.dim() < 3:
        raise ValueError(f"sources must be (..., H, W, n), got shape {tuple(src_r.shape)}")
    src_r, src_d = torch.broadcast_tensors(src_r, src_d)
    for name, t in zip(Transitions._fields, trans, strict=True):
        if t is not None and t.shape[-2:] != src_r.shape[-3:-1]:
            raise ValueError(
                f"transition {name} has grid {tuple(t.shape[-2:])}, sources {tuple(src_r.shape[-3:-1])}"
            )
    lead = torch.broadcast_shapes(src_r.shape[:-1], *(t.shape for t in trans if t is not None))
    shape = (*lead, src_r.shape[-1])
    return src_r.expand(shape), src_d.expand(shape)


def scan2d_loop(src_r: Tensor, src_d: Tensor, trans: Transitions) -> tuple[Tensor, Tensor]:
    """The reference: a plain loop over rows and columns. Returns the incoming ``(L, U)``."""
    src_r, src_d = _check(src_r, src_d, trans)
    rl, du, ru, dl = (_full(t, src_r) for t in trans)
    H, W = src_r.shape[-3], src_r.shape[-2]
    zero = src_r.new_zeros(src_r.shape[:-3] + src_r.shape[-1:])
    R = [[zero] * W for _ in range(H)]
    D = [[zero] * W for _ in range(H)]
    Ls, Us = [[zero] * W for _ in range(H)], [[zero] * W for _ in range(H)]
    for i in range(H):
        for j in range(W):
            left = R[i][j - 1] if j > 0 else zero
            up = D[i - 1][j] if i > 0 else zero
            c = (..., i, j, None)
            R[i][j] = rl[c] * left + ru[c] * up + src_r[..., i, j, :]
            D[i][j] = du[c] * up + dl[c] * left + src_d[..., i, j, :]
            Ls[i][j], Us[i][j] = left, up
    L = torch.stack([torch.stack(row, -2) for row in Ls], -3)
    U = torch.stack([torch.stack(row, -2) for row in Us], -3)
    return L, U


def _skew_index(H: int, W: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Flat cell index and validity of (diagonal s, row i) -> cell (i, s - i); shapes (S, H)."""
    s = torch.arange(H + W - 1, device=device)[:, None]
    i = torch.arange(H, device=device)[None, :]
    j = s - i
    valid = (j >= 0) & (j < W)
    return i * W + j.clamp(0, W - 1), valid


def _skew(x: Tensor, flat: Tensor, valid: Tensor) -> Tensor:
    """``x`` (..., H, W, k) -> (S, ..., H, k): row i of diagonal s holds cell (i, s - i) or 0.

    The diagonal axis comes first, so that every step of the wavefront reads a contiguous block.
    """
    xf = x.flatten(-3, -2)  # (..., H W, k)
    out = xf[..., flat.reshape(-1), :].unflatten(-2, flat.shape)  # (..., S, H, k)
    out = out * valid[..., None].to(out.dtype)
    return out.movedim(-3, 0).contiguous()


def scan2d(src_r: Tensor, src_d: Tensor, trans: Transitions) -> tuple[Tensor, Tensor]:
    """The wavefront form: ``H + W - 1`` steps over anti-diagonals. Returns the incoming ``(L, U)``.

    ``src_r``, ``src_d``: ``(..., H, W, n)``; each transition ``(..., H, W)`` (or ``None`` for
    a zero cross term), broadcast against the sources. Differentiable by autograd.
    """
    src_r, src_d = _check(src_r, src_d, trans)
    H, W, n = src_r.shape[-3:]
    flat, valid = _skew_index(H, W, src_r.device)
    sr, sd = _skew(src_r, flat, valid), _skew(src_d, flat, valid)  # (S, ..., H, n)
    rl, du, ru, dl = (
        None if t is None else _skew(_full(t, src_r)[..., None], flat, valid).unbind(0) for t in trans
    )
    # unbind once: its backward is one stack, where indexing step by step would fill a
    # full-size zero gradient for every step
    zero = src_r.new_zeros(sr.shape[1:])
    pad = src_r.new_zeros((*sr.shape[1:-2], 1, n))
    sr, sd = sr.unbind(0), sd.unbind(0)
    R, D = zero, zero
    lefts, ups = [], []
    for s in range(H + W - 1):
        left = R  # R of (i, s - 1 - i): the left neighbour of (i, s - i)
        up = torch.cat([pad, D[..., :-1, :]], -2)  # D of (i - 1, s - i)
        R = torch.addcmul(sr[s], rl[s], left)
        D = torch.addcmul(sd[s], du[s], up)
        if ru is not None:
            R = torch.addcmul(R, ru[s], up)
        if dl is not None:
            D = torch.addcmul(D, dl[s], left)
        lefts.append(left)
        ups.append(up)
    # un-skew: cell (i, j) sits on diagonal i + j, row i
    i = torch.arange(H, device=src_r.device)[:, None]
    j = torch.arange(W, device=src_r.device)[None, :]
    back = ((i + j) * H + i).reshape(-1)

    def unskew(parts: list[Tensor]) -> Tensor:
        y = torch.stack(parts, -3).flatten(-3, -2)  # (..., S H, n)
        return y[..., back, :].unflatten(-2, (H, W))

    return unskew(lefts), unskew(ups)


def scan2d_dense(src_r: Tensor, src_d: Tensor, trans: Transitions) -> tuple[Tensor, Tensor]:
    """The parallel form ``z = (I - A)^{-1} b`` by one triangular solve (small grids only).

    Edge states in row-major cell order, ``R`` of cell ``c`` at ``2c`` and ``D`` at ``2c + 1``;
    every state depends only on cells with a smaller index, so ``A`` is strictly lower
    triangular. Returns the incoming ``(L, U)`` like :func:`scan2d`.
    """
    src_r, src_d = _check(src_r, src_d, trans)
    H, W, n = src_r.shape[-3:]
    lead = src_r.shape[:-3]
    dev, dt = src_r.device, src_r.dtype
    cell = torch.arange(H * W, device=dev).view(H, W)
    rows, cols, vals = [], [], []

    def link(out: Tensor, src: Tensor, t: Tensor | None, sl_out: tuple, sl_src: tuple) -> None:
        if t is None:
            return
        rows.append(out[sl_out].reshape(-1))
        cols.append(src[sl_src].reshape(-1))
        vals.append(_full(t, src_r)[(..., *sl_out)].flatten(-2))

    r_idx, d_idx = 2 * cell, 2 * cell + 1
    right, down = (slice(None), slice(1, None)), (slice(1, None), slice(None))
    from_left, from_top = (slice(None), slice(None, -1)), (slice(None, -1), slice(None))
    link(r_idx, r_idx, trans.rl, right, from_left)  # R[i,j] <- R[i,j-1]
    link(r_idx, d_idx, trans.ru, down, from_top)  # R[i,j] <- D[i-1,j]
    link(d_idx, d_idx, trans.du, down, from_top)  # D[i,j] <- D[i-1,j]
    link(d_idx, r_idx, trans.dl, right, from_left)  # D[i,j] <- R[i,j-1]
    N = 2 * H * W
    flat_idx = torch.cat(rows) * N + torch.cat(cols)
    A = torch.zeros((*lead, N * N), dtype=dt, device=dev)
    A = A.index_add(-1, flat_idx, torch.cat(vals, -1)).unflatten(-1, (N, N))
    b = torch.stack([src_r, src_d], -2).reshape(*lead, N, n)
    eye = torch.eye(N, dtype=dt, device=dev)
    z = torch.linalg.solve_triangular(eye - A, b, upper=False, unitriangular=True)
    z = z.unflatten(-2, (H, W, 2))
    R, D = z[..., 0, :], z[..., 1, :]
    L = torch.cat([torch.zeros_like(R[..., :, :1, :]), R[..., :, :-1, :]], -2)
    U = torch.cat([torch.zeros_like(D[..., :1, :, :]), D[..., :-1, :, :]], -3)
    return L, U
