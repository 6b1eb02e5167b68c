"""The cost of a model: quantise its parameters, compress them, count the bits.

Introduced in A02. A trained model's *description length* is an upper bound on the information
its parameters hold: quantise every tensor to ``b``-bit integer codes (symmetric, uniform, one
32-bit scale per tensor), optionally prune the smallest weights to zero first, and compress the
codes with a general-purpose compressor (raw LZMA2, no container header). Any decodable code is
an upper bound, so the cost is the shorter of the LZMA stream and the plain ``b``-bit packing.

Also here: the lower envelope (Pareto front) of a cloud of (cost, loss) points, which turns a
family of models into an empirical cost-quality tradeoff curve.
"""

from __future__ import annotations

import lzma
from collections.abc import Sequence

import numpy as np
import torch

SCALE_BITS = 32  # one float32 scale per quantised tensor
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6}]


def quantize(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, float]:
    """Symmetric uniform quantisation of ``w`` to integer codes in ``[-(2**(bits-1)-1), 2**(bits-1)-1]``.

    Returns ``(codes, scale)`` with ``w ≈ codes * scale`` and ``|w - codes * scale| <= scale / 2``.
    ``scale = max|w| / (2**(bits-1) - 1)`` (``1.0`` for an all-zero tensor). ``bits`` from 2 to 16.

    Introduced in A02.
    """
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be between 2 and 16, got {bits}")
    levels = 2 ** (bits - 1) - 1
    top = float(w.detach().abs().max()) if w.numel() else 0.0
    scale = top / levels if top > 0 else 1.0
    codes = torch.clamp(torch.round(w.detach().double() / scale), -levels, levels).to(torch.int32)
    return codes, scale


def dequantize(codes: torch.Tensor, scale: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The weights ``codes * scale`` that a quantised model computes with.

    Introduced in A02.
    """
    return (codes.double() * scale).to(dtype)


def prune_by_magnitude(w: torch.Tensor, fraction: float) -> torch.Tensor:
    """A copy of ``w`` with its ``round(fraction * numel)`` smallest-magnitude entries set to zero.

    Ties are broken by position (stable sort), so the result is deterministic.

    Introduced in A02.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    out = w.detach().clone()
    n = round(fraction * out.numel())
    if n > 0:
        order = torch.argsort(out.abs().flatten(), stable=True)
        out.view(-1)[order[:n]] = 0
    return out


def lzma_bits(data: bytes) -> int:
    """Length in bits of ``data`` compressed with raw LZMA2 (no container header).

    Introduced in A02.
    """
    return 8 * len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS))


def code_bytes(codes: Sequence[torch.Tensor], bits: int) -> bytes:
    """The integer codes of several tensors as one byte string (1 byte per code up to 8 bits, else 2).

    Introduced in A02.
    """
    dtype = np.int8 if bits <= 8 else np.int16
    flat = [c.detach().cpu().numpy().ravel() for c in codes]
    joined = np.concatenate(flat) if flat else np.zeros(0)
    return joined.astype(dtype).tobytes()


def description_length(tensors: Sequence[torch.Tensor], bits: int | None) -> int:
    """Bits needed to write down ``tensors`` after ``bits``-bit quantisation (``None``: float32).

    ``min(LZMA2 stream, plain packing) + 1`` bit saying which of the two codes is used, plus
    ``SCALE_BITS`` per quantised tensor. The architecture (shapes) is not counted: it is the
    same for every member of a model family of a given width. With ``bits=None`` the raw
    float32 bytes are compressed (no scales).

    Introduced in A02.
    """
    n = sum(t.numel() for t in tensors)
    if bits is None:
        data = b"".join(t.detach().cpu().float().numpy().tobytes() for t in tensors)
        return min(lzma_bits(data), 32 * n) + 1
    codes = [quantize(t, bits)[0] for t in tensors]
    packed = code_bytes(codes, bits)
    return min(lzma_bits(packed), bits * n) + 1 + SCALE_BITS * len(tensors)


def quantized_copy(tensors: Sequence[torch.Tensor], bits: int | None) -> list[torch.Tensor]:
    """Each tensor replaced by its ``bits``-bit quantised version (``None``: unchanged copies).

    Introduced in A02.
    """
    if bits is None:
        return [t.detach().clone() for t in tensors]
    out = []
    for t in tensors:
        codes, scale = quantize(t, bits)
        out.append(dequantize(codes, scale, t.dtype).to(t.device))
    return out


def lower_envelope(cost: Sequence[float] | np.ndarray, loss: Sequence[float] | np.ndarray) -> np.ndarray:
    """Indices of the Pareto-optimal points, ordered by increasing cost.

    A point is on the envelope if no other point has a cost at most as large and a strictly
    lower loss (of equal-cost points only the lowest loss, the first one in input order on
    ties, is kept). Along the returned order the cost increases and the loss strictly decreases.

    Introduced in A02.
    """
    c = np.asarray(cost, dtype=float)
    y = np.asarray(loss, dtype=float)
    if c.shape != y.shape or c.ndim != 1:
        raise ValueError("cost and loss must be 1-d arrays of equal length")
    order = np.lexsort((np.arange(len(c)), y, c))  # by cost, then loss, then position
    keep: list[int] = []
    best = np.inf
    for i in order:
        if y[i] < best:
            keep.append(int(i))
            best = y[i]
    return np.asarray(keep, dtype=int)
