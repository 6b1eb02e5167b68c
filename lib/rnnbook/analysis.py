"""Spectra, bases and gradients of (trained) RNNs.

Introduced in A01.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnbook.models import BatchedElmanRNN


def eigenvalues(W: np.ndarray | torch.Tensor) -> np.ndarray:
    """Eigenvalues of a square matrix, sorted by decreasing modulus (complex numpy array).

    Introduced in A01.
    """
    A = W.detach().cpu().double().numpy() if isinstance(W, torch.Tensor) else np.asarray(W)
    lam = np.linalg.eigvals(A)
    return lam[np.argsort(-np.abs(lam), kind="stable")]


def angle_between(a: complex | np.ndarray, b: complex | np.ndarray) -> np.ndarray:
    """Absolute difference of the phases of ``a`` and ``b``, wrapped to ``[0, pi]`` (radians).

    Introduced in A01.
    """
    return np.abs(np.angle(np.exp(1j * (np.angle(a) - np.angle(b)))))


def spectrum_comparison(
    W_learned: np.ndarray | torch.Tensor, Phi: np.ndarray | torch.Tensor, cut: float = 0.9
) -> dict[str, Any]:
    """Compare the large eigenvalues of a learned ``W_hh`` with those of the theoretical ``Phi``.

    Keeps the eigenvalues with ``|lambda| > cut`` of both matrices, pads the shorter list with
    zeros, and matches greedily: each theoretical eigenvalue (in order of phase) takes the
    remaining learned one closest in phase. Moduli are ignored (tanh turns learned
    ``|lambda| > 1`` into bounded oscillations). Returns the counts, whether they agree, the
    matched phase errors and their mean in degrees.

    Introduced in A01.
    """
    learned = eigenvalues(W_learned)
    theory = eigenvalues(Phi)
    big_l = learned[np.abs(learned) > cut]
    big_t = theory[np.abs(theory) > cut]
    n = max(len(big_l), len(big_t))
    pad_l = np.concatenate([big_l, np.zeros(n - len(big_l))])
    pad_t = np.concatenate([big_t, np.zeros(n - len(big_t))])
    pad_t = pad_t[np.argsort(np.angle(pad_t), kind="stable")]
    remaining = list(range(n))
    errors = []
    for lam in pad_t:
        gaps = angle_between(lam, pad_l[remaining])
        best = int(np.argmin(gaps))
        errors.append(float(gaps[best]))
        remaining.pop(best)
    errors_deg = np.degrees(np.array(errors))
    return {
        "n_learned": len(big_l),
        "n_theory": len(big_t),
        "counts_equal": len(big_l) == len(big_t),
        "errors_deg": errors_deg,
        "mean_angle_deg": float(errors_deg.mean()) if n else 0.0,
        "learned": learned,
        "theory": theory,
    }


def input_grounded_basis(W_hh: torch.Tensor, W_ih: torch.Tensor, s: int) -> torch.Tensor:
    """``Psi = [Psi_1, ..., Psi_s]`` with ``Psi_k = W_hh^(s-k) W_ih`` (one model: ``(h, s*d)``).

    In the linear regime ``h(s) = sum_k Psi_k x(k)``: block ``k`` holds the input of step ``k``.

    Introduced in A01.
    """
    blocks = [W_ih]
    for _ in range(s - 1):
        blocks.insert(0, W_hh @ blocks[0])
    return torch.cat(blocks, dim=-1)


def persistent_coordinates(Phi: np.ndarray | torch.Tensor, cut: float = 0.8) -> np.ndarray:
    """Indices of the memory coordinates of ``Phi`` that lie on its persistent cycles.

    Coordinate ``i`` is kept when deleting row and column ``i`` from ``Phi`` lowers the number of
    eigenvalues with ``|lambda| > cut``; the other coordinates are transient (a stored entry that
    no output ever reads again, a nilpotent direction). Repeat copy keeps all ``s*d``
    coordinates; compose copy at ``d = s = 4`` keeps ``4 + 3 + 2 + 1 = 10``. This is the rank
    reduction of the paper's privileged-basis algorithm (step 4), written from its description.

    Introduced in A03.
    """
    A = Phi.detach().cpu().double().numpy() if isinstance(Phi, torch.Tensor) else np.asarray(Phi, float)
    count = int((np.abs(np.linalg.eigvals(A)) > cut).sum())
    keep = []
    for i in range(A.shape[0]):
        minor = np.delete(np.delete(A, i, axis=0), i, axis=1)
        if int((np.abs(np.linalg.eigvals(minor)) > cut).sum()) < count:
            keep.append(i)
    return np.array(keep, dtype=int)


def privileged_basis(
    W_hh: torch.Tensor, W_hy: torch.Tensor, s: int, keep: np.ndarray | torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The output-grounded variable-memory basis ``Psi`` ``(h, s*d)`` and its dual ``Psi* = Psi^+``.

    The readout reads subspace ``s``, so ``G = W_hy^+`` spans it; the shift carries subspace ``s``
    to subspace ``k`` in ``s - k`` steps: ``Psi_k = normalise(W_hh^(s-k) G)`` column by column.
    For ``W_hh = P Phi P^+``, ``W_hy = E_s^T P^+`` with orthonormal ``P`` (a repeat-copy circuit in a
    hidden basis) ``Psi* W_hh Psi = Phi`` exactly.

    ``keep`` (indices into the ``s*d`` columns, e.g. ``persistent_coordinates(Phi)``) reduces the
    rank: only those columns are kept and the dual is the pseudo-inverse of the reduced basis,
    shapes ``(h, r)`` and ``(r, h)``. For a compose-copy circuit in a hidden basis the reduced
    basis gives ``Psi* W_hh Psi = Phi[keep][:, keep]`` exactly; without it the basis of a compose
    task is a Krylov basis that mixes the transient coordinates in.

    Introduced in A03.
    """
    blocks = [torch.linalg.pinv(W_hy)]  # G = W_hy^+, (h, d): subspace s
    for _ in range(s - 1):
        blocks.insert(0, W_hh @ blocks[0])  # Psi_k = W_hh^(s-k) G
    Psi = torch.cat(blocks, dim=1)
    Psi = Psi / Psi.norm(dim=0, keepdim=True)
    if keep is not None:
        Psi = Psi[:, torch.as_tensor(np.asarray(keep), dtype=torch.long, device=Psi.device)]
    return Psi, torch.linalg.pinv(Psi)


def decode_hidden(H: torch.Tensor, Psi: torch.Tensor) -> torch.Tensor:
    """Coordinates ``Psi^+ h`` of hidden states ``H`` (``(..., h)``) in the basis ``Psi``: ``(..., s*d)``.

    Introduced in A01.
    """
    return H @ torch.linalg.pinv(Psi).T


def per_lag_gradient_norms(model: BatchedElmanRNN, x: torch.Tensor) -> np.ndarray:
    """``||d o(T) / d x(T-k)||_F`` for every model and lag ``k = 0..T-1``, shape ``(S, T)``.

    ``x`` is ``(S, 1, T, d)``, one input sequence per model; ``T`` is its last step.

    Introduced in A01.
    """
    x = x.detach().clone().requires_grad_(True)
    o, _ = model(x)
    o_T = o[:, 0, -1, :]  # (S, d_out)
    rows = []
    for j in range(o_T.shape[1]):
        (g,) = torch.autograd.grad(o_T[:, j].sum(), x, retain_graph=j + 1 < o_T.shape[1])
        rows.append(g[:, 0])  # (S, T, d): d o_j(T) / d x(t)
    J = torch.stack(rows, dim=-2)  # (S, T, d_out, d)
    norms = J.pow(2).sum((-1, -2)).sqrt()  # (S, T), indexed by time t
    return norms.flip(-1).detach().cpu().numpy()  # indexed by lag k = T - t
