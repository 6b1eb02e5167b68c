"""The binary linear variable-binding task family (Karuvally et al.).

Introduced in A01. A task is a linear history-dependent dynamical system on ``d``-dimensional
±1 vectors with history ``s``. The network first reads ``s`` random vectors ``x(1..s)`` (the
*input phase*), then receives zeros and must continue the sequence (the *output phase*):

    y(t) = x(t)                          for t = 1..s
    y(t) = F^T vec(y(t-s), ..., y(t-1))  for t > s

``vec`` stacks the history oldest first, so entry ``k = position * d + dim`` of the history
is ``y(t - s + position)[dim]``. ``F`` (shape ``(s*d, d)``) has exactly one entry ``±1`` per
column: output ``j`` copies one history entry, maybe with a sign flip. A task is named by an
integer triple ``(t1, t2, t3)`` (:func:`decode_task_id`).

Time is 1-based in the prose and 0-based in the tensors: ``x[..., t - 1, :]`` is ``x(t)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

TaskId = tuple[int, int, int]

#: The paper's four tasks for ``d = s = 8`` (T1 repeat copy, T2-T4 compositions), as task ids.
PAPER_TASKS: dict[str, TaskId] = {
    "T1": (255, 0, 0),
    "T2": (9241421688590303745, 262676, 189),
    "T3": (9241421688590303745, 0, 0),
    "T4": (9241421688590303745, 38637, 145),
}


def decode_task_id(task_id: TaskId, d: int, s: int) -> np.ndarray:
    """The operator ``F`` (shape ``(s*d, d)``, entries in {0, ±1}) of task ``(t1, t2, t3)``.

    - ``t1``: bitmask over the ``s*d`` history entries with exactly ``d`` bits set; the set
      bits, in increasing order, are the entries the ``d`` outputs read.
    - ``t2``: base-``d`` digits, least significant first; a nonzero digit ``i`` (which must be
      ``< d - i``) swaps choice ``i`` with choice ``i + digit``.
    - ``t3``: bitmask of sign flips, bit ``j`` flips output ``j``.

    Example: ``(2**d - 1, 0, 0)`` reads position 0 (the oldest), i.e. repeat copy
    ``y(t) = y(t - s)``; the paper's T1 is ``(255, 0, 0)`` for ``d = s = 8``.

    Introduced in A01.
    """
    if len(task_id) != 3:
        raise ValueError(f"a task id is a triple (t1, t2, t3), got {task_id!r}")
    t1, t2, t3 = (int(v) for v in task_id)
    if d < 1 or s < 1:
        raise ValueError(f"d and s must be positive, got d={d}, s={s}")
    if min(t1, t2, t3) < 0:
        raise ValueError(f"task id entries must be non-negative, got {task_id!r}")
    if t1 >= 2 ** (s * d):
        raise ValueError(f"t1={t1} has bits beyond the s*d={s * d} history entries")
    choices = [k for k in range(s * d) if (t1 >> k) & 1]
    if len(choices) != d:
        raise ValueError(f"t1={t1} must have exactly d={d} bits set, it has {len(choices)}")
    digits, rest = [], t2
    while rest:
        digits.append(rest % d if d > 1 else rest)
        rest = rest // d if d > 1 else 0
    if len(digits) > d:
        raise ValueError(f"t2={t2} has {len(digits)} base-{d} digits; at most d={d} allowed")
    for i, digit in enumerate(digits):
        if digit and digit >= d - i:
            raise ValueError(f"t2={t2}: digit {i} is {digit}, but it must be < d - i = {d - i}")
        if digit:
            choices[i], choices[i + digit] = choices[i + digit], choices[i]
    if t3 >= 2**d:
        raise ValueError(f"t3={t3} has sign bits beyond the d={d} outputs")
    F = np.zeros((s * d, d))
    for j, k in enumerate(choices):
        F[k, j] = -1.0 if (t3 >> j) & 1 else 1.0
    return F


def shift_matrix(d: int, s: int) -> np.ndarray:
    """The block shift ``S`` (``(s*d, s*d)``): ``S[k, k + d] = 1``, so ``(S h)`` block ``i`` is block ``i+1``.

    Blocks are ``d``-dimensional; the newest block is the last one, and the wave travels
    towards block 0, where it leaves the lattice (open end).

    Introduced in A01.
    """
    n = s * d
    return np.eye(n, k=d)


def boundary_embedding(d: int, s: int) -> np.ndarray:
    """``E_s`` (``(s*d, d)``): embeds a ``d``-vector into the last (newest) block.

    Introduced in A01.
    """
    E = np.zeros((s * d, d))
    E[(s - 1) * d :, :] = np.eye(d)
    return E


def phi_from_operator(F: np.ndarray, d: int, s: int) -> np.ndarray:
    """The theoretical ``Phi = S + E_s F^T`` (``(s*d, s*d)``): block shift, last ``d`` rows ``F^T``.

    ``h(t+1) = Phi h(t)`` with ``h(t) = vec(y(t-s+1), ..., y(t))`` reproduces the task recursion.

    Introduced in A01.
    """
    F = np.asarray(F, dtype=float)
    if F.shape != (s * d, d):
        raise ValueError(f"F must have shape (s*d, d) = {(s * d, d)}, got {F.shape}")
    Phi = shift_matrix(d, s)
    Phi[(s - 1) * d :, :] = F.T
    return Phi


def operator_stack(task_ids: Sequence[TaskId], d: int, s: int) -> np.ndarray:
    """Decode several task ids into a stack of operators, shape ``(S, s*d, d)``.

    Introduced in A01.
    """
    return np.stack([decode_task_id(tid, d, s) for tid in task_ids])


def continue_sequence(F: torch.Tensor, inputs: torch.Tensor, steps: int) -> torch.Tensor:
    """Run the task recursion: ``s`` given vectors followed by ``steps`` generated ones.

    ``F``: ``(S, s*d, d)``; ``inputs``: ``(S, B, s, d)``; returns ``(S, B, s + steps, d)``.

    Introduced in A01.
    """
    S, B, s, d = inputs.shape
    # rows of seq are (time, dim) pairs, so the history of step t is the contiguous row slice
    # [(t - s) d, t d): vec(y(t-s), ..., y(t-1)), oldest first.
    seq = inputs.new_zeros(S, (s + steps) * d, B)
    seq[:, : s * d] = inputs.reshape(S, B, s * d).transpose(1, 2)
    F_T = F.transpose(1, 2)
    for t in range(s, s + steps):
        seq[:, t * d : (t + 1) * d] = torch.bmm(F_T, seq[:, (t - s) * d : t * d])  # y(t) = F^T vec(...)
    return seq.view(S, s + steps, d, B).permute(0, 3, 1, 2)


def source_table(F: np.ndarray, d: int, s: int, T: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Where each target bit comes from: ``y(t)[j] = sign[t, j] * vec(x(1..s))[src[t, j]]``.

    In this task family every output copies one earlier entry (maybe with a flipped sign), so
    following the copies back gives the input bit each target equals: one gather instead of a
    ``T``-step recursion. Returns ``(src, sign)``, both ``(T, d)``, or ``None`` if ``F`` is not a
    signed selection (then use :func:`continue_sequence`).

    Introduced in A01.
    """
    F = np.asarray(F, dtype=float)
    if not (np.all((F != 0).sum(0) == 1) and np.all(np.isin(F, (-1.0, 0.0, 1.0)))):
        return None
    return _source_table(F.tobytes(), d, s, T)


@lru_cache(maxsize=256)
def _source_table(F_bytes: bytes, d: int, s: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    F = np.frombuffer(F_bytes).reshape(s * d, d)
    choice = np.abs(F).argmax(0)  # history entry k = position * d + dim read by output j
    sign_j = F[choice, np.arange(d)]
    src, sign = np.zeros((T, d), dtype=np.int64), np.ones((T, d))
    src[:s] = np.arange(s * d).reshape(s, d)
    for t in range(s, T):  # history of y(t) starts at y(t - s): flat entry (t - s) d + k
        k = (t - s) * d + choice
        src[t], sign[t] = src.reshape(-1)[k], sign_j * sign.reshape(-1)[k]
    src.flags.writeable = sign.flags.writeable = False
    return src, sign


def variable_binding_batch(
    F: np.ndarray | torch.Tensor,
    d: int,
    s: int,
    horizon: int | Sequence[int],
    batch: int,
    generator: torch.Generator | Sequence[torch.Generator],
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of the variable-binding task for one operator or a stack of ``S`` operators.

    Returns ``(x, y, mask)``:

    - ``x``: ``(S, batch, T, d)`` inputs, ``T = s + max(horizon)``; ±1 in the first ``s`` steps,
      zeros afterwards;
    - ``y``: ``(S, batch, T, d)`` targets (the task sequence; ``y(t) = x(t)`` for ``t <= s``);
    - ``mask``: ``(S, T)`` bool, true in the output phase ``s < t <= s + horizon[i]`` of model ``i``.

    ``F`` is ``(s*d, d)`` (then ``S = 1``) or ``(S, s*d, d)``. ``horizon`` is one int or one per
    operator (shorter horizons are padded to the longest and masked). ``generator`` is one
    torch generator, or one per operator: then the inputs of operator ``i`` depend only on
    ``generator[i]``, so a model sees the same data whether it is trained alone or in a stack.

    Introduced in A01.
    """
    Fs = torch.as_tensor(np.asarray(F) if not isinstance(F, torch.Tensor) else F)
    if Fs.dim() == 2:
        Fs = Fs.unsqueeze(0)
    S = Fs.shape[0]
    if Fs.shape[1:] != (s * d, d):
        raise ValueError(f"operators must have shape (S, s*d, d) = (S, {s * d}, {d}), got {tuple(Fs.shape)}")
    horizons = [int(horizon)] * S if isinstance(horizon, int) else [int(h) for h in horizon]
    if len(horizons) != S or min(horizons) < 1:
        raise ValueError(f"need {S} positive horizons, got {horizons}")
    T = s + max(horizons)
    if isinstance(generator, torch.Generator):
        bits = torch.randint(0, 2, (S, batch, s, d), generator=generator)
    else:
        if len(generator) != S:
            raise ValueError(f"need one generator per operator ({S}), got {len(generator)}")
        bits = torch.stack([torch.randint(0, 2, (batch, s, d), generator=g) for g in generator])
    inputs = (2 * bits - 1).to(dtype=dtype, device=device)
    tables = [source_table(Fi, d, s, T) for Fi in Fs.cpu().numpy()]
    if all(tab is not None for tab in tables):  # signed selections: gather the target bits
        src = torch.as_tensor(np.stack([tab[0] for tab in tables]).reshape(S, 1, T * d), device=device)
        sign = torch.as_tensor(
            np.stack([tab[1] for tab in tables]).reshape(S, 1, T, d), dtype=dtype, device=device
        )
        y = (
            torch.gather(inputs.reshape(S, batch, s * d), 2, src.expand(S, batch, T * d)).view(S, batch, T, d)
            * sign
        )
    else:
        y = continue_sequence(Fs.to(dtype=dtype, device=device), inputs, T - s)
    x = torch.zeros_like(y)
    x[:, :, :s] = inputs
    t = torch.arange(1, T + 1, device=device)
    mask = (t > s) & (t <= s + torch.tensor(horizons, device=device)[:, None])
    return x, y, mask
