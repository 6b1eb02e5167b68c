"""Tests of rnnbook.tasks: the task-id decoder, Phi and the batch generator (A01)."""

import numpy as np
import pytest
import torch

from rnnbook import tasks

torch.set_num_threads(1)  # tiny tensors: more threads only add contention (pytest -n 2)

PAPER_D = PAPER_S = 8
COMPOSE = 9241421688590303745  # bits 0, 9, 18, ..., 63: entry (position j, dim j)


def reads(F: np.ndarray, d: int) -> list[tuple[int, int, int]]:
    """(position, dim, sign) read by each output column of F."""
    out = []
    for j in range(F.shape[1]):
        (k,) = np.flatnonzero(F[:, j])
        out.append((k // d, k % d, int(F[k, j])))
    return out


def test_paper_t1_is_repeat_copy():
    F = tasks.decode_task_id((255, 0, 0), PAPER_D, PAPER_S)
    assert F.shape == (64, 8)
    # output j reads position 0 (y(t-8)), dim j, sign +: y(t) = y(t-8)
    assert reads(F, 8) == [(0, j, 1) for j in range(8)]


def test_compose_copy_reads_the_diagonal():
    F = tasks.decode_task_id((COMPOSE, 0, 0), PAPER_D, PAPER_S)
    assert reads(F, 8) == [(j, j, 1) for j in range(8)]


def test_permutation_and_signs_of_paper_task():
    F = tasks.decode_task_id((COMPOSE, 262676, 189), PAPER_D, PAPER_S)
    r = reads(F, 8)
    assert sorted((p, q) for p, q, _ in r) == [(j, j) for j in range(8)]  # same entries, permuted
    assert [p for p, _, _ in r] != list(range(8))
    assert sum(sign < 0 for _, _, sign in r) == bin(189).count("1") == 6
    assert np.all(np.abs(F).sum(0) == 1) and set(np.unique(F)) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize(
    "task_id",
    [(7, 0, 0), (2**16, 0, 0), (15, 0, 16), (15, 64, 0), (15, 0, 0, 0), (-1, 0, 0), (15, 4**4, 0)],
)
def test_invalid_task_ids_raise(task_id):
    with pytest.raises(ValueError):
        tasks.decode_task_id(task_id, 4, 4)


def test_invalid_digit_message_names_the_rule():
    with pytest.raises(ValueError, match="must be < d - i"):
        tasks.decode_task_id((15, 3 * 4, 0), 4, 4)  # digit 1 is 3, but d - 1 = 3


def test_repeat_copy_phi_eigenvalues_are_roots_of_unity():
    d, s = 3, 5
    Phi = tasks.phi_from_operator(tasks.decode_task_id((2**d - 1, 0, 0), d, s), d, s)
    lam = np.linalg.eigvals(Phi)
    assert np.allclose(lam**s, 1.0)
    roots = np.exp(2j * np.pi * np.arange(s) / s)
    for r in roots:  # each s-th root of unity, d times
        assert np.sum(np.abs(lam - r) < 1e-6) == d


def test_phi_is_shift_plus_boundary():
    d, s = 4, 4
    F = tasks.decode_task_id((33825, 6, 9), d, s)
    Phi = tasks.phi_from_operator(F, d, s)
    S = tasks.shift_matrix(d, s)
    assert np.array_equal(Phi[: (s - 1) * d], S[: (s - 1) * d])
    assert np.array_equal(Phi[(s - 1) * d :], F.T)
    assert np.linalg.matrix_rank(Phi - S) <= d


def test_generator_satisfies_the_recursion_and_phi():
    d, s, horizon = 4, 4, 12
    ids = [(15, 0, 0), (33825, 6, 9), (33825, 5, 5)]
    F = tasks.operator_stack(ids, d, s)
    gens = [torch.Generator().manual_seed(k) for k in range(3)]
    x, y, mask = tasks.variable_binding_batch(F, d, s, [horizon, 5, 8], 7, gens, dtype=torch.float64)
    T = s + horizon
    assert x.shape == y.shape == (3, 7, T, d) and mask.shape == (3, T)
    assert torch.all(x[:, :, :s].abs() == 1) and torch.all(x[:, :, s:] == 0)
    assert torch.equal(y[:, :, :s], x[:, :, :s])
    for i in range(3):
        Phi = tasks.phi_from_operator(F[i], d, s)
        for t in range(s, T):  # 0-based index t is time t + 1
            hist = y[i, :, t - s : t].reshape(7, s * d).numpy()
            assert np.array_equal(y[i, :, t].numpy(), hist @ F[i])
            assert np.array_equal((hist @ Phi.T)[:, -d:], y[i, :, t].numpy())
    assert mask[0].sum() == horizon and mask[1].sum() == 5 and mask[2].sum() == 8
    assert not mask[:, :s].any()


def test_repeat_copy_targets_repeat_the_inputs():
    d, s = 4, 8
    x, y, _ = tasks.variable_binding_batch(
        tasks.decode_task_id((15, 0, 0), d, s), d, s, 16, 3, torch.Generator().manual_seed(0)
    )
    assert torch.equal(y[0, :, s : 2 * s], x[0, :, :s]) and torch.equal(y[0, :, 2 * s :], x[0, :, :s])


def test_per_model_generators_make_data_independent_of_the_stack():
    d, s = 4, 4
    F = tasks.operator_stack([(15, 0, 0), (33825, 0, 0)], d, s)
    x2, y2, _ = tasks.variable_binding_batch(
        F, d, s, 10, 5, [torch.Generator().manual_seed(3), torch.Generator().manual_seed(4)]
    )
    x1, y1, _ = tasks.variable_binding_batch(F[1], d, s, 10, 5, [torch.Generator().manual_seed(4)])
    assert torch.equal(x2[1], x1[0]) and torch.equal(y2[1], y1[0])


def test_gathered_targets_equal_the_recursion_and_general_operators_still_work():
    d, s, T = 3, 4, 30
    rng = np.random.default_rng(0)
    for _ in range(5):
        t1 = sum(2 ** int(k) for k in rng.choice(s * d, size=d, replace=False))
        tid = (t1, int(rng.integers(d)) + d * int(rng.integers(d - 1)), int(rng.integers(2**d)))
        F = tasks.decode_task_id(tid, d, s)
        assert tasks.source_table(F, d, s, T) is not None
        x, y, _ = tasks.variable_binding_batch(
            F, d, s, T - s, 5, torch.Generator().manual_seed(1), torch.float64
        )
        ref = tasks.continue_sequence(torch.as_tensor(F)[None], x[:, :, :s], T - s)
        assert torch.equal(y, ref)
    F_mix = tasks.decode_task_id((7, 0, 0), d, s) + tasks.decode_task_id(
        (7 << 9, 0, 0), d, s
    )  # sums of entries
    assert tasks.source_table(F_mix, d, s, T) is None
    x, y, _ = tasks.variable_binding_batch(F_mix, d, s, 6, 2, torch.Generator().manual_seed(0), torch.float64)
    for t in range(s, s + 6):
        assert torch.equal(y[0, :, t], y[0, :, t - s : t].reshape(2, s * d) @ torch.as_tensor(F_mix))


def test_paper_tasks_decode_at_the_paper_size():
    assert list(tasks.PAPER_TASKS) == ["T1", "T2", "T3", "T4"]
    F1 = tasks.decode_task_id(tasks.PAPER_TASKS["T1"], PAPER_D, PAPER_S)
    assert np.array_equal(F1[:PAPER_D], np.eye(PAPER_D)) and not F1[PAPER_D:].any()  # T1: y(t) = y(t - s)
    for tid in tasks.PAPER_TASKS.values():
        F = tasks.decode_task_id(tid, PAPER_D, PAPER_S)
        assert F.shape == (PAPER_S * PAPER_D, PAPER_D) and (np.abs(F).sum(0) == 1).all()
