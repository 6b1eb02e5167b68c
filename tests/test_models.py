"""Tests of rnnbook.models: the batched bias-free Elman RNN and the TWM weights (A01)."""

import numpy as np
import torch

from rnnbook import models, tasks

torch.set_num_threads(1)  # tiny tensors: more threads only add contention (pytest -n 2)


def reference_rnn(seed: int, d: int, hidden: int) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(d, hidden, bias=False, batch_first=True)
    readout = torch.nn.Linear(hidden, d, bias=False)
    return rnn.double(), readout.double()


def test_each_model_of_the_stack_is_torch_rnn_with_its_seed():
    d, hidden, seeds = 3, 7, [5, 0, 11]
    stack = models.BatchedElmanRNN(d, hidden, seeds=seeds, dtype=torch.float64)
    x = torch.randn(3, 4, 9, d, dtype=torch.float64)
    o, H = stack(x)
    assert o.shape == (3, 4, 9, d) and H.shape == (3, 4, 9, hidden)
    for i, seed in enumerate(seeds):
        rnn, readout = reference_rnn(seed, d, hidden)
        assert torch.equal(stack.W_ih[i], rnn.weight_ih_l0) and torch.equal(stack.W_hh[i], rnn.weight_hh_l0)
        assert torch.equal(stack.W_hy[i], readout.weight)
        H_ref, _ = rnn(x[i])
        assert torch.allclose(H[i], H_ref, atol=1e-12) and torch.allclose(o[i], readout(H_ref), atol=1e-12)


def test_no_biases_origin_is_a_fixed_point():
    stack = models.BatchedElmanRNN(4, 16, seeds=[0, 1])
    assert [n for n, _ in stack.named_parameters()] == ["W_ih", "W_hh", "W_hy"]
    o, H = stack(torch.zeros(2, 3, 5, 4))
    assert torch.all(H == 0) and torch.all(o == 0)


def test_hand_written_bptt_matches_autograd():
    stack = models.BatchedElmanRNN(3, 6, seeds=[0, 1], dtype=torch.float64)
    x = torch.randn(2, 2, 5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(models.ElmanScan.apply, (x, stack.W_ih, stack.W_hh), fast_mode=True)


def test_models_in_a_stack_do_not_interact():
    stack = models.BatchedElmanRNN(2, 5, seeds=[0, 1, 2], dtype=torch.float64)
    x = torch.randn(3, 4, 6, 2, dtype=torch.float64)
    o, _ = stack(x)
    o[1].pow(2).sum().backward()
    for p in (stack.W_hh, stack.W_ih, stack.W_hy):
        assert p.grad[1].abs().sum() > 0 and torch.all(p.grad[[0, 2]] == 0)
    o_sub, _ = stack(x[[2]], models=torch.tensor([2]))
    assert torch.allclose(o_sub[0], o[2].detach(), atol=1e-14)


def test_tanh_helper_is_tanh():
    z = torch.linspace(-20, 20, 1001, dtype=torch.float64)
    assert torch.allclose(models.tanh(z.clone()), torch.tanh(z), atol=1e-15)


def test_twm_weights_implement_the_task_in_any_orthonormal_basis():
    d, s, hidden = 2, 3, 10
    F = tasks.decode_task_id((0b100010, 1, 2), d, s)
    basis = models.random_orthonormal(hidden, s * d, seed=3)
    W_hh, W_ih, W_hy = models.twm_weights(d, s, hidden, F=F, basis=basis)
    Phi = tasks.phi_from_operator(F, d, s)
    assert np.allclose((basis.T @ W_hh @ basis).numpy(), Phi)
    # Started from the stored inputs, the autonomous linear RNN continues the task sequence.
    x, y, _ = tasks.variable_binding_batch(F, d, s, 12, 4, torch.Generator().manual_seed(0), torch.float64)
    h = x[0, :, :s].reshape(4, s * d) @ basis.T  # h(s) = Psi vec(x(1..s))
    for t in range(s, x.shape[2]):
        h = h @ W_hh.T
        assert torch.allclose(h @ W_hy.T, y[0, :, t], atol=1e-10)


def test_twm_with_repeat_copy_boundary_reads_its_inputs_exactly():
    d, s, hidden = 2, 3, 8
    F = tasks.decode_task_id((3, 0, 0), d, s)  # repeat copy: the boundary reads the oldest block
    W_hh, W_ih, W_hy = models.twm_weights(d, s, hidden, F=F, basis=models.random_orthonormal(hidden, 6, 1))
    x, y, _ = tasks.variable_binding_batch(F, d, s, 9, 4, torch.Generator().manual_seed(0), torch.float64)
    h = torch.zeros(4, hidden, dtype=torch.float64)
    for t in range(x.shape[2]):  # input phase included: h(t) = W_hh h(t-1) + W_ih x(t)
        h = h @ W_hh.T + x[0, :, t] @ W_ih.T
        assert torch.allclose(h @ W_hy.T, y[0, :, t], atol=1e-10)


def test_twm_wave_only_shifts_blocks():
    d, s = 2, 4
    W_hh, W_ih, W_hy = models.twm_weights(d, s, hidden=s * d)
    assert torch.equal(W_hh, torch.as_tensor(tasks.shift_matrix(d, s)))
    assert torch.equal(W_hy, W_ih.T) and torch.equal(W_ih[-d:], torch.eye(d, dtype=torch.float64))
