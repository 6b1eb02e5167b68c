"""Associative (log-depth) parallel scans for linear recurrences ``h_t = a_t * h_{t-1} + b_t``.

Introduced for issue 7 (fast experiments); used by later chapters (LSSL, Aaren, LightNet, pLSTM,
ParaRNN).

Two forms, both over the second-to-last axis (time, length ``L``) with any leading batch axes:

- diagonal: ``a``, ``b`` of shape ``(..., L, n)``, ``h_t = a_t * h_{t-1} + b_t`` elementwise
  (:func:`parallel_scan`; reference loop :func:`sequential_scan`);
- matrix: ``A`` of shape ``(..., L, n, n)``, ``b`` of shape ``(..., L, n)``,
  ``h_t = A_t @ h_{t-1} + b_t`` (:func:`parallel_matrix_scan`, for small ``n``; reference loop
  :func:`sequential_matrix_scan`).

``h_{-1} = h0`` (optional, shape ``(..., n)``; zeros if omitted). ``a`` and ``b`` broadcast
against each other (e.g. one ``(L, n)`` decay shared by a batch). Complex dtypes work too.

The scan composes the affine maps ``h -> a h + b``, which is associative:
``(a2, b2) o (a1, b1) = (a2 a1, a2 b1 + b2)``. It is computed by odd-even reduction: combine
neighbouring pairs (half the length), scan that recursively, then fill in the even positions
from their odd predecessors. That is ``2 log2(L)`` rounds of whole-tensor operations and O(L)
work (no ``L log L``), any ``L`` (not only powers of two), and no division by products of the
decays: ``a = 0`` exactly, ``|a|`` close to 0 (products underflow harmlessly), ``|a|`` close to 1
and negative ``a`` all give the sequential loop's result up to rounding.

Gradients: a custom backward that is itself a scan (the adjoint recurrence
``lambda_t = g_t + a_{t+1} lambda_{t+1}`` runs backwards in time, by the mirror-image odd-even
scan, without flipped copies), so the backward pass costs about one more forward pass instead of
autograd's record of every intermediate; it is itself differentiable (double backward works).
Plain PyTorch: CPU and CUDA.

Two alternatives, measured against the default by ``make bench`` (issue 18):

- :func:`compiled_scan`: the same odd-even scan written without in-place writes and compiled
  by ``torch.compile`` (one compilation per shape, dtype and device, tens of seconds of CPU
  each; then several times faster than :func:`parallel_scan`, the elementwise operations of
  each level fused). For many calls at one shape, e.g. a training loop.
- :func:`log_scan`: the closed form in log space (Heinsen, 2023): ``log h_t = A_t +
  logcumsumexp_k(log b_k - A_k)`` with ``A_t = sum_{k<=t} log a_k``. Two library cumulative
  operations instead of a recursion, but transcendental functions on every element and a
  rounding error that grows with ``|A_t|`` (float32 loses digits on long sequences with
  decaying ``a``); ``a`` must be non-zero.
"""

from __future__ import annotations

import torch

__all__ = [
    "compiled_scan",
    "log_scan",
    "parallel_matrix_scan",
    "parallel_scan",
    "sequential_matrix_scan",
    "sequential_scan",
]


# --------------------------------------------------------------------------------------------
# cores: h_{-1} = 0, same-shape inputs, no autograd bookkeeping of their own
# --------------------------------------------------------------------------------------------


def _readable(view: torch.Tensor) -> torch.Tensor:
    """``view`` itself, or a copy while autograd records (double backward): the next write into
    the same output would otherwise invalidate the view that autograd saved."""
    return view.clone() if torch.is_grad_enabled() else view


def _addcmul_into(dest: torch.Tensor, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> None:
    """``dest[...] = x + y * z``, where ``z`` is another view of ``dest``'s base (disjoint positions).

    Straight into ``dest`` (no temporary) unless autograd records (double backward): then a
    copy of ``z`` and an assignment that autograd can follow.
    """
    if torch.is_grad_enabled():
        dest[...] = torch.addcmul(x, y, _readable(z))
    else:
        torch.addcmul(x, y, z, out=dest)


def _diag_core(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Odd-even scan of ``h_t = a_t h_{t-1} + b_t`` with ``h_{-1} = 0``; ``a``, ``b``: ``(..., L, n)``.

    Writes into ``out`` (a fresh tensor, or a strided view of the caller's output: the recursion
    fills the odd positions of its parent in place, so no level allocates its own result).
    Plain tensor operations, so autograd can record them too (double backward).
    """
    out = torch.empty_like(b) if out is None else out
    L = b.shape[-2]
    if L == 1:
        return out.copy_(b)
    m = L // 2  # pairs (2i, 2i+1), i < m
    a_even, b_even = a[..., 0::2, :], b[..., 0::2, :]
    a_odd, b_odd = a[..., 1::2, :], b[..., 1::2, :]
    h_odd = out[..., 1::2, :]
    # compose each pair: h_{2i+1} = (a_{2i+1} a_{2i}) h_{2i-1} + (a_{2i+1} b_{2i} + b_{2i+1})
    _diag_core(a_odd * a_even[..., :m, :], torch.addcmul(b_odd, a_odd, b_even[..., :m, :]), h_odd)
    out[..., 0, :] = b[..., 0, :]
    # the even positions from their odd predecessors: h_{2i} = a_{2i} h_{2i-1} + b_{2i}, i >= 1
    n_even = (L + 1) // 2
    if n_even > 1:
        _addcmul_into(out[..., 2::2, :], b_even[..., 1:, :], a_even[..., 1:, :], h_odd[..., : n_even - 1, :])
    return out


def _matvec(A: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``A @ x`` for stacks of matrices ``(..., n, n)`` and vectors ``(..., n)``."""
    return torch.matmul(A, x.unsqueeze(-1)).squeeze(-1)


def _matrix_core(A: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Odd-even scan of ``h_t = A_t h_{t-1} + b_t`` with ``h_{-1} = 0``; ``A``: ``(..., L, n, n)``."""
    out = torch.empty_like(b) if out is None else out
    L = b.shape[-2]
    if L == 1:
        return out.copy_(b)
    m = L // 2
    A_even, b_even = A[..., 0::2, :, :], b[..., 0::2, :]
    A_odd, b_odd = A[..., 1::2, :, :], b[..., 1::2, :]
    h_odd = out[..., 1::2, :]
    _matrix_core(
        torch.matmul(A_odd, A_even[..., :m, :, :]), b_odd + _matvec(A_odd, b_even[..., :m, :]), h_odd
    )
    out[..., 0, :] = b[..., 0, :]
    n_even = (L + 1) // 2
    if n_even > 1:
        out[..., 2::2, :] = b_even[..., 1:, :] + _matvec(
            A_even[..., 1:, :, :], _readable(h_odd[..., : n_even - 1, :])
        )
    return out


def _diag_core_reverse(c: torch.Tensor, g: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Odd-even scan backwards in time: ``lam_t = c_t lam_{t+1} + g_t``, ``lam_{L-1} = g_{L-1}``.

    ``g``: ``(..., L, n)``; ``c``: ``(..., L-1, n)`` (``c_t`` couples ``t`` to ``t+1``). The mirror
    image of :func:`_diag_core`, pairing each position with its successor, so the backward
    pass needs no flipped or shifted copies (the adjoint's ``c_t = a_{t+1}`` is ``a[..., 1:, :]``).
    """
    out = torch.empty_like(g) if out is None else out
    L = g.shape[-2]
    if L == 1:
        return out.copy_(g)
    p, m = L % 2, L // 2  # pairs (o, o+1): o = p, p+2, ..., L-2
    e = (L - 1) % 2  # the unpaired parity, which holds the last position L-1
    c_odd, c_even = c[..., p::2, :], c[..., e::2, :]  # c_even lacks the last position (no successor)
    g_odd, g_even = g[..., p::2, :], g[..., e::2, :]
    lam_odd = out[..., p::2, :]
    # lam_o = (c_o c_{o+1}) lam_{o+2} + (c_o g_{o+1} + g_o)
    _diag_core_reverse(
        c_odd[..., : m - 1, :] * c_even[..., p : p + m - 1, :],
        torch.addcmul(g_odd, c_odd, g_even[..., p:, :]),
        lam_odd,
    )
    out[..., L - 1, :] = g[..., L - 1, :]
    if L > 2:  # the other positions from their successors: lam_e = c_e lam_{e+1} + g_e
        _addcmul_into(out[..., e : L - 1 : 2, :], g_even[..., :-1, :], c_even, lam_odd[..., 1 - p :, :])
    return out


def _matrix_core_reverse(C: torch.Tensor, g: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`_diag_core_reverse` with matrices: ``lam_t = C_t @ lam_{t+1} + g_t``; ``C``: ``(..., L-1, n, n)``."""
    out = torch.empty_like(g) if out is None else out
    L = g.shape[-2]
    if L == 1:
        return out.copy_(g)
    p, m = L % 2, L // 2
    e = (L - 1) % 2
    C_odd, C_even = C[..., p::2, :, :], C[..., e::2, :, :]
    g_odd, g_even = g[..., p::2, :], g[..., e::2, :]
    lam_odd = out[..., p::2, :]
    _matrix_core_reverse(
        torch.matmul(C_odd[..., : m - 1, :, :], C_even[..., p : p + m - 1, :, :]),
        g_odd + _matvec(C_odd, g_even[..., p:, :]),
        lam_odd,
    )
    out[..., L - 1, :] = g[..., L - 1, :]
    if L > 2:
        lam_next = _readable(lam_odd[..., 1 - p :, :])
        out[..., e : L - 1 : 2, :] = g_even[..., :-1, :] + _matvec(C_even, lam_next)
    return out


def _with_h0(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, matrix: bool) -> torch.Tensor:
    """``b`` with ``b_0`` replaced by ``b_0 + a_0 h0``, so the scan can start from zero."""
    if h0 is None:
        return b
    b = b.clone()
    b[..., 0, :] += _matvec(a[..., 0, :, :], h0) if matrix else a[..., 0, :] * h0
    return b


def _times_previous(lam: torch.Tensor, h: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """``lam_t * conj(h_{t-1})`` for every ``t`` (``h_{-1} = h0``): the gradient of the decays."""
    if torch.is_grad_enabled():  # double backward: plain differentiable operations
        return lam * torch.cat([h0.unsqueeze(-2), h[..., :-1, :]], dim=-2).conj()
    out = torch.empty_like(lam)
    torch.mul(lam[..., 1:, :], h[..., :-1, :].conj(), out=out[..., 1:, :])
    torch.mul(lam[..., 0, :], h0.conj(), out=out[..., 0, :])
    return out


class _DiagonalScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor, has_h0: bool) -> torch.Tensor:  # type: ignore[override]
        h = _diag_core(a, _with_h0(a, b, h0 if has_h0 else None, matrix=False))
        ctx.save_for_backward(a, h0, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        a, h0, h = ctx.saved_tensors
        # adjoint: lam_t = g_t + conj(a_{t+1}) lam_{t+1}, a reverse-time scan
        lam = _diag_core_reverse(a[..., 1:, :].conj(), grad_h)
        grad_a = _times_previous(lam, h, h0) if ctx.needs_input_grad[0] else None
        grad_h0 = a[..., 0, :].conj() * lam[..., 0, :] if ctx.needs_input_grad[2] else None
        return grad_a, lam, grad_h0, None


class _MatrixScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, A: torch.Tensor, b: torch.Tensor, h0: torch.Tensor, has_h0: bool) -> torch.Tensor:  # type: ignore[override]
        h = _matrix_core(A, _with_h0(A, b, h0 if has_h0 else None, matrix=True))
        ctx.save_for_backward(A, h0, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        A, h0, h = ctx.saved_tensors
        # adjoint: lam_t = g_t + A_{t+1}^H lam_{t+1}
        A_H = A.transpose(-1, -2).conj()
        lam = _matrix_core_reverse(A_H[..., 1:, :, :], grad_h)
        grad_A = None
        if ctx.needs_input_grad[0]:  # outer products lam_t h_{t-1}^H
            h_prev = torch.cat([h0.unsqueeze(-2), h[..., :-1, :]], dim=-2).conj()
            grad_A = lam.unsqueeze(-1) * h_prev.unsqueeze(-2)
        grad_h0 = _matvec(A_H[..., 0, :, :], lam[..., 0, :]) if ctx.needs_input_grad[2] else None
        return grad_A, lam, grad_h0, None


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def _prepare(
    a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, matrix: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Broadcast ``a``, ``b`` and ``h0`` to common shapes and one dtype (expanded views, no copies)."""
    if b.dim() < 2:
        raise ValueError(f"b must have shape (..., L, n), got {tuple(b.shape)}")
    dtype = torch.promote_types(a.dtype, b.dtype)
    if h0 is not None:
        dtype = torch.promote_types(dtype, h0.dtype)
    if matrix:
        if a.dim() < 3 or a.shape[-1] != a.shape[-2]:
            raise ValueError(f"A must have shape (..., L, n, n), got {tuple(a.shape)}")
        batch = torch.broadcast_shapes(a.shape[:-1], b.shape)
        a = a.to(dtype).expand(*batch, batch[-1])
    else:
        batch = torch.broadcast_shapes(a.shape, b.shape)
        a = a.to(dtype).expand(batch)
    b = b.to(dtype).expand(batch)
    state = batch[:-2] + batch[-1:]
    h0 = b.new_zeros(()).expand(state) if h0 is None else h0.to(dtype).expand(state)
    return a, b, h0


def parallel_scan(
    a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None, *, reverse: bool = False
) -> torch.Tensor:
    """All states of the diagonal recurrence ``h_t = a_t * h_{t-1} + b_t``, by a log-depth scan.

    ``a``, ``b``: ``(..., L, n)`` (broadcastable against each other); ``h0``: ``(..., n)`` or
    ``None`` (zeros). Returns ``h`` of the broadcast shape ``(..., L, n)``, ``h[..., t, :] = h_t``.
    With ``reverse=True`` time runs backwards: ``h_t = a_t * h_{t+1} + b_t``, ``h_L = h0``.

    Differentiable in ``a``, ``b`` and ``h0`` (the backward pass is itself a scan). Equal to
    :func:`sequential_scan` up to rounding.

    Introduced for issue 7 (fast experiments); used by later chapters (LSSL, Aaren, LightNet,
    pLSTM, ParaRNN).
    """
    if reverse:
        return parallel_scan(a.flip(-2), b.flip(-2), h0).flip(-2)
    has_h0 = h0 is not None
    a, b, h0 = _prepare(a, b, h0, matrix=False)
    return _DiagonalScan.apply(a, b, h0, has_h0)


def parallel_matrix_scan(
    A: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None, *, reverse: bool = False
) -> torch.Tensor:
    """All states of ``h_t = A_t @ h_{t-1} + b_t`` (matrix-valued ``A_t``), by a log-depth scan.

    ``A``: ``(..., L, n, n)``; ``b``: ``(..., L, n)``; ``h0``: ``(..., n)`` or ``None`` (zeros).
    Returns ``h`` ``(..., L, n)``. With ``reverse=True``: ``h_t = A_t @ h_{t+1} + b_t``,
    ``h_L = h0``. Each combine is an ``n x n`` matrix product, so the scan does ``O(L n^3)``
    work against the loop's ``O(L n^2)``: meant for small state sizes (``n`` up to ~16).

    Differentiable in ``A``, ``b`` and ``h0`` (the backward pass is itself a scan).

    Introduced for issue 7 (fast experiments); used by later chapters (LSSL, Aaren, LightNet,
    pLSTM, ParaRNN).
    """
    if reverse:
        return parallel_matrix_scan(A.flip(-3), b.flip(-2), h0).flip(-2)
    has_h0 = h0 is not None
    A, b, h0 = _prepare(A, b, h0, matrix=True)
    return _MatrixScan.apply(A, b, h0, has_h0)


def sequential_scan(
    a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None, *, reverse: bool = False
) -> torch.Tensor:
    """Reference loop for :func:`parallel_scan`: one Python step per time step (autograd records each).

    Introduced for issue 7 (fast experiments); used by later chapters (LSSL, Aaren, LightNet,
    pLSTM, ParaRNN).
    """
    if reverse:
        return sequential_scan(a.flip(-2), b.flip(-2), h0).flip(-2)
    a, b, h = _prepare(a, b, h0, matrix=False)
    out = []
    for a_t, b_t in zip(a.unbind(-2), b.unbind(-2), strict=True):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out, dim=-2)


def sequential_matrix_scan(
    A: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None, *, reverse: bool = False
) -> torch.Tensor:
    """Reference loop for :func:`parallel_matrix_scan`: ``h = A_t @ h + b_t``, one step at a time.

    Introduced for issue 7 (fast experiments); used by later chapters (LSSL, Aaren, LightNet,
    pLSTM, ParaRNN).
    """
    if reverse:
        return sequential_matrix_scan(A.flip(-3), b.flip(-2), h0).flip(-2)
    A, b, h = _prepare(A, b, h0, matrix=True)
    out = []
    for A_t, b_t in zip(A.unbind(-3), b.unbind(-2), strict=True):
        h = _matvec(A_t, h) + b_t
        out.append(h)
    return torch.stack(out, dim=-2)


# --------------------------------------------------------------------------------------------
# alternatives (issue 18): the closed form in log space; the odd-even scan, compiled
# --------------------------------------------------------------------------------------------


def log_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The diagonal recurrence ``h_t = a_t * h_{t-1} + b_t`` in closed form, in log space.

    ``h_t = exp(A_t) * sum_{k<=t} b_k exp(-A_k)`` with ``A_t = sum_{k<=t} log a_k``, evaluated
    as ``exp(A_t + logcumsumexp(log b - A))`` so that nothing overflows (Heinsen, 2023,
    "Efficient parallelization of a ubiquitous sequential computation"). Signs: with all
    ``a > 0`` (real), ``b`` is split into its positive and negative parts (two real
    ``logcumsumexp``); otherwise (a negative decay, or complex inputs) the logarithms are
    complex. ``a`` must be non-zero. Shapes and broadcasting as :func:`parallel_scan`;
    differentiable by autograd. Equal to :func:`sequential_scan` up to a rounding error of
    about ``eps * max |A_t|``.

    Introduced for issue 18 (a peer of :func:`parallel_scan` in ``make bench``).
    """
    a, b, h0_ = _prepare(a, b, h0, matrix=False)
    if h0 is not None:
        b = torch.cat([(b[..., :1, :] + a[..., :1, :] * h0_.unsqueeze(-2)), b[..., 1:, :]], dim=-2)
    if not a.is_complex() and bool((a > 0).all()):
        A = torch.cumsum(torch.log(a), dim=-2)
        tiny = torch.finfo(b.dtype).tiny  # log(0) would make a 0 * inf gradient
        positive = (b > 0).to(b.dtype)  # complementary masks: each element's gradient flows once
        log_pos = torch.log(b * positive + tiny) - A
        log_neg = torch.log(b * (positive - 1) + tiny) - A
        pos = torch.exp(A + torch.logcumsumexp(log_pos, dim=-2))
        neg = torch.exp(A + torch.logcumsumexp(log_neg, dim=-2))
        # both parts carry the same tiny offset, sum_k tiny exp(A_t - A_k): it cancels in the difference
        return pos - neg
    cdtype = torch.promote_types(a.dtype, torch.complex64)
    A = torch.cumsum(torch.log(a.to(cdtype)), dim=-2)
    h = torch.exp(A + torch.logcumsumexp(torch.log(b.to(cdtype)) - A, dim=-2))
    return h if a.is_complex() or b.is_complex() else h.real


def _functional_core(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:func:`_diag_core` without in-place writes (new tensors, interleaved by ``stack``), so
    that ``torch.compile`` can fuse each level's elementwise operations."""
    L = b.shape[-2]
    if L == 1:
        return b
    m, n_even = L // 2, (L + 1) // 2
    a_even, b_even = a[..., 0::2, :], b[..., 0::2, :]
    a_odd, b_odd = a[..., 1::2, :], b[..., 1::2, :]
    h_odd = _functional_core(a_odd * a_even[..., :m, :], b_odd + a_odd * b_even[..., :m, :])
    h_even = torch.cat(
        [b[..., :1, :], b_even[..., 1:, :] + a_even[..., 1:, :] * h_odd[..., : n_even - 1, :]], dim=-2
    )
    if L % 2:  # pad the odd positions to the even ones' count, interleave, drop the pad
        h_odd = torch.cat([h_odd, h_odd[..., -1:, :]], dim=-2)
    return torch.stack([h_even, h_odd], dim=-2).flatten(-3, -2)[..., :L, :]


def _functional_forward(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    b = torch.cat([b[..., :1, :] + a[..., :1, :] * h0.unsqueeze(-2), b[..., 1:, :]], dim=-2)
    return _functional_core(a, b)


def _functional_backward(
    a: torch.Tensor, h0: torch.Tensor, h: torch.Tensor, grad_h: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # adjoint lam_t = g_t + a_{t+1} lam_{t+1}: a forward scan in flipped time (flips fuse into loads)
    c = torch.cat([a[..., 1:, :], torch.zeros_like(a[..., :1, :])], dim=-2)
    lam = _functional_core(c.flip(-2), grad_h.flip(-2)).flip(-2)
    h_prev = torch.cat([h0.unsqueeze(-2), h[..., :-1, :]], dim=-2)
    return lam * h_prev, lam, a[..., 0, :] * lam[..., 0, :]


_COMPILED: dict[str, object] = {}


def _compiled(name: str) -> object:
    if name not in _COMPILED:
        fn = _functional_forward if name == "forward" else _functional_backward
        _COMPILED[name] = torch.compile(fn, dynamic=False)
    return _COMPILED[name]


def _run_compiled(name: str, *args: torch.Tensor) -> object:
    import torch._dynamo

    # one compilation per shape: allow more shapes than dynamo's default of 8 per function
    with torch._dynamo.config.patch(recompile_limit=256, accumulated_recompile_limit=4096):
        return _compiled(name)(*args)  # type: ignore[operator]


class _CompiledScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        h = _run_compiled("forward", a.contiguous(), b.contiguous(), h0.contiguous())
        ctx.save_for_backward(a, h0, h)
        return h  # type: ignore[return-value]

    @staticmethod
    def backward(ctx, grad_h: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        a, h0, h = ctx.saved_tensors
        grad_a, grad_b, grad_h0 = _run_compiled(
            "backward", a.contiguous(), h0.contiguous(), h, grad_h.contiguous()
        )  # type: ignore[misc]
        return grad_a, grad_b, grad_h0


def compiled_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`parallel_scan` (forward time, real dtypes), compiled by ``torch.compile``.

    The same odd-even scan, written without in-place writes so that the compiler fuses each
    level's elementwise operations; its backward pass is the same scan in flipped time, compiled
    too. The first call at each shape, dtype and device compiles (tens of seconds of CPU; the
    compiled code is cached on disk by PyTorch), later calls are several times faster than
    :func:`parallel_scan` on the CPU. Complex inputs fall back to :func:`parallel_scan`.
    Differentiable in ``a``, ``b`` and ``h0`` (first derivatives only).

    Introduced for issue 18 (``make bench`` found it faster than the default at steady state).
    """
    if a.is_complex() or b.is_complex() or (h0 is not None and h0.is_complex()):
        return parallel_scan(a, b, h0)
    a, b, h0 = _prepare(a, b, h0, matrix=False)
    return _CompiledScan.apply(a, b, h0)
