"""Rich versus lazy learning: effective rank, kernels and their alignment.

Introduced in A07. The measures that tell a lazy learner (its representation and tangent
kernel barely move) from a rich one, and the effective rank that predicts which regime an
initial weight matrix falls into:

- :func:`effective_rank`: Roy and Vetterli's entropy of the normalised singular values.
- :func:`kernel_alignment`: the cosine between two kernel (Gram) matrices.
- :func:`representation_kernel`: ``H H^T`` of hidden states over a probe set.
- :func:`tangent_kernel`: ``J J^T`` from a Jacobian of outputs by parameters.
- :func:`empirical_tangent_kernel`: the same with the Jacobian taken by ``torch.func``.

All functions work on batches: leading dimensions are kept.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def effective_rank(W: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Effective rank ``exp(-sum_i p_i log p_i)``, ``p_i = sigma_i / sum_j sigma_j``.

    ``W`` has shape ``(..., m, n)``; the result has shape ``(...)``. It is 1 for a rank-1
    matrix, ``k`` for a matrix with ``k`` equal non-zero singular values, and invariant to
    the scale of ``W`` (Roy and Vetterli, 2007).
    """
    s = torch.linalg.svdvals(W)
    p = s / s.sum(dim=-1, keepdim=True).clamp_min(eps)
    entropy = -(p * torch.log(p.clamp_min(eps))).sum(dim=-1)
    return torch.exp(entropy)


def kernel_alignment(K1: torch.Tensor, K2: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    """Frobenius cosine ``<K1, K2>_F / (||K1||_F ||K2||_F)`` over the last two dimensions.

    1 when one kernel is a positive multiple of the other; 0 when they are orthogonal.
    """
    inner = (K1 * K2).sum(dim=(-2, -1))
    norms = torch.linalg.matrix_norm(K1) * torch.linalg.matrix_norm(K2)
    return inner / norms.clamp_min(eps)


def representation_kernel(H: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``H H^T`` of representations ``H`` of shape ``(..., samples, features)``."""
    return H @ H.mT


def tangent_kernel(J: torch.Tensor, param_dims: int) -> torch.Tensor:
    """Tangent kernel ``J J^T`` from a Jacobian ``J`` of shape ``(..., outputs, *params)``.

    The last ``param_dims`` dimensions of ``J`` index parameters (e.g. 2 for a weight matrix)
    and are contracted; the dimension before them indexes outputs (flatten several output
    dimensions into one first). Returns ``(..., outputs, outputs)``.
    """
    if param_dims < 1 or param_dims >= J.dim():
        raise ValueError(f"param_dims must be in [1, {J.dim() - 1}], got {param_dims}")
    flat = J.flatten(start_dim=J.dim() - param_dims)
    return flat @ flat.mT


def empirical_tangent_kernel(fn: Callable[[torch.Tensor], torch.Tensor], param: torch.Tensor) -> torch.Tensor:
    """Tangent kernel of ``fn`` with respect to one parameter tensor.

    ``fn(param)`` returns the outputs (any shape; they are flattened in order); the Jacobian is
    taken with ``torch.func.jacrev`` and contracted over the parameter's entries. Returns
    ``(outputs, outputs)``. Use ``torch.func.vmap`` over it to batch several models.
    """
    J = torch.func.jacrev(lambda p: fn(p).reshape(-1))(param)  # (outputs, *param.shape)
    return tangent_kernel(J, param.dim())


def relative_change(A0: torch.Tensor, A1: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    """``||A1 - A0||_F / ||A0||_F`` over the last two dimensions."""
    return torch.linalg.matrix_norm(A1 - A0) / torch.linalg.matrix_norm(A0).clamp_min(eps)
