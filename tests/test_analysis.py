"""Tests of rnnbook.analysis: spectral comparison, input-grounded basis, per-lag gradients (A01)."""

import numpy as np
import torch

from rnnbook import analysis, models, tasks

torch.set_num_threads(1)  # tiny tensors: more threads only add contention (pytest -n 2)


def test_spectrum_comparison_is_basis_invariant():
    d, s = 4, 4
    Phi = tasks.phi_from_operator(tasks.decode_task_id((33825, 6, 9), d, s), d, s)
    P = np.random.default_rng(0).normal(size=(s * d, s * d))
    result = analysis.spectrum_comparison(P @ Phi @ np.linalg.inv(P), Phi)
    assert result["counts_equal"] and result["n_theory"] == 10  # periods 4 + 3 + 2 + 1
    assert result["mean_angle_deg"] < 1e-6


def test_spectrum_comparison_detects_wrong_rotation_and_counts():
    d, s = 2, 4
    Phi = tasks.phi_from_operator(tasks.decode_task_id((3, 0, 0), d, s), d, s)  # 4th roots of unity
    rotated = analysis.spectrum_comparison(np.exp(1j * np.deg2rad(5.0)) * Phi, Phi)
    assert abs(rotated["mean_angle_deg"] - 5.0) < 1e-6
    shrunk = analysis.spectrum_comparison(0.5 * Phi, Phi)
    assert shrunk["n_learned"] == 0 and not shrunk["counts_equal"]


def test_angle_between_wraps_around():
    a = np.exp(1j * np.deg2rad(179.0))
    b = np.exp(1j * np.deg2rad(-179.0))
    assert np.isclose(np.degrees(analysis.angle_between(a, b)), 2.0)


def test_input_grounded_basis_decodes_linear_hidden_state():
    d, s, hidden = 2, 3, 12
    g = torch.Generator().manual_seed(0)
    W_hh = torch.randn(hidden, hidden, generator=g, dtype=torch.float64) / hidden**0.5
    W_ih = torch.randn(hidden, d, generator=g, dtype=torch.float64)
    x = torch.randn(5, s, d, generator=g, dtype=torch.float64)
    h = torch.zeros(5, hidden, dtype=torch.float64)
    for t in range(s):  # linear RNN
        h = h @ W_hh.T + x[:, t] @ W_ih.T
    Psi = analysis.input_grounded_basis(W_hh, W_ih, s)
    assert Psi.shape == (hidden, s * d)
    assert torch.allclose(analysis.decode_hidden(h, Psi), x.reshape(5, s * d), atol=1e-10)


def test_per_lag_gradient_norms_of_a_linear_shift_network():
    # With the TWM repeat-copy weights scaled small, tanh is nearly linear and
    # d o(T)/d x(T-k) is the identity exactly at lags k = 0, s, 2s, ... and ~0 elsewhere.
    d, s, T = 2, 3, 7
    F = tasks.decode_task_id((3, 0, 0), d, s)
    W_hh, W_ih, W_hy = models.twm_weights(d, s, hidden=6, F=F)
    model = models.BatchedElmanRNN.from_weights(W_hh, 1e-4 * W_ih, 1e4 * W_hy)
    norms = analysis.per_lag_gradient_norms(model, torch.zeros(1, 1, T, d, dtype=torch.float64))
    assert norms.shape == (1, T)
    expected = np.zeros(T)
    expected[::s] = np.sqrt(d)  # Frobenius norm of I_d
    assert np.allclose(norms[0], expected, atol=1e-6)


def test_privileged_basis_recovers_phi_of_a_hidden_repeat_copy_circuit():
    d, s, hidden = 3, 4, 20
    F = tasks.decode_task_id((2**d - 1, 0, 0), d, s)  # repeat copy
    P = models.random_orthonormal(hidden, s * d, seed=5)
    W_hh, W_ih, W_hy = models.twm_weights(d, s, hidden, F=F, basis=P)
    Psi, Psi_star = analysis.privileged_basis(W_hh, W_hy, s)
    Phi = torch.as_tensor(tasks.phi_from_operator(F, d, s))
    assert Psi.shape == (hidden, s * d) and Psi_star.shape == (s * d, hidden)
    assert torch.allclose(Psi_star @ W_hh @ Psi, Phi, atol=1e-10)
    assert torch.allclose(Psi, P, atol=1e-10)  # the hidden basis itself, block by block
    # grounded on a readout that does not read the circuit, the basis no longer gives Phi
    W_bad = torch.randn(d, hidden, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    Psi_bad, Psi_star_bad = analysis.privileged_basis(W_hh, W_bad, s)
    assert not torch.allclose(Psi_star_bad @ W_hh @ Psi_bad, Phi, atol=1e-3)


def test_persistent_coordinates_drop_the_transient_entries():
    d, s = 4, 4
    repeat = tasks.phi_from_operator(tasks.decode_task_id((15, 0, 0), d, s), d, s)
    assert analysis.persistent_coordinates(repeat).tolist() == list(range(s * d))
    for tid in [(33825, 0, 0), (33825, 6, 9), (33825, 5, 5)]:  # compose copy and two variants
        Phi = tasks.phi_from_operator(tasks.decode_task_id(tid, d, s), d, s)
        keep = analysis.persistent_coordinates(torch.as_tensor(Phi))
        assert len(keep) == 10  # 4 + 3 + 2 + 1 entries on cycles
        # dim a is stored in subspaces a+1..s: entry (subspace k, dim a) has index (k-1)*d + a
        assert keep.tolist() == sorted((k - 1) * d + a for a in range(d) for k in range(a + 1, s + 1))


def test_reduced_privileged_basis_recovers_phi_of_a_hidden_compose_circuit():
    d, s, hidden = 4, 4, 24
    for tid in [(33825, 0, 0), (33825, 6, 9)]:
        F = tasks.decode_task_id(tid, d, s)
        Phi = torch.as_tensor(tasks.phi_from_operator(F, d, s))
        P = models.random_orthonormal(hidden, s * d, seed=3)
        W_hh, _, W_hy = models.twm_weights(d, s, hidden, F=F, basis=P)
        keep = analysis.persistent_coordinates(Phi)
        Psi, Psi_star = analysis.privileged_basis(W_hh, W_hy, s, keep=keep)
        assert Psi.shape == (hidden, len(keep)) and Psi_star.shape == (len(keep), hidden)
        k = torch.as_tensor(keep)
        assert torch.allclose(Psi_star @ W_hh @ Psi, Phi[k][:, k], atol=1e-10)
        assert torch.allclose(Psi, P[:, k], atol=1e-10)  # the memory directions themselves
        # the full (un-reduced) Krylov basis does not give Phi on a compose task
        Psi_f, Psi_star_f = analysis.privileged_basis(W_hh, W_hy, s)
        assert not torch.allclose(Psi_star_f @ W_hh @ Psi_f, Phi, atol=1e-3)
        # hidden states of the linear circuit decode to the stored entries
        y = torch.randn(5, s * d, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        assert torch.allclose((y @ P.T) @ Psi_star.T, y[:, k], atol=1e-10)
