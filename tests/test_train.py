"""Tests of rnnbook.train: batched training equals independent training (A01)."""

import numpy as np
import pytest
import torch

from rnnbook import models, tasks, train

torch.set_num_threads(1)  # tiny tensors: more threads only add contention (pytest -n 2)

D, S_HIST, HIDDEN = 2, 2, 8


def small_fit(seeds, ids, **kw):
    F = tasks.operator_stack(ids, D, S_HIST)
    model = models.BatchedElmanRNN(D, HIDDEN, seeds=seeds, dtype=torch.float64)
    args = {"steps": 25, "lr": 1e-2, "batch": 8, "horizons": (3, 6), "threshold": 0.7, "clip": 0.5}
    args.update(kw)
    result = train.fit(model, F, D, S_HIST, data_seeds=[100 + s for s in seeds], **args)
    return model, result


def test_batched_training_equals_training_each_seed_alone():
    seeds, ids = [0, 1, 2], [(3, 0, 0), (5, 0, 1), (3, 0, 0)]
    wd = [0.0, 0.1, 0.01]
    stack, res = small_fit(seeds, ids, weight_decay=wd, target=0.9)
    assert res.horizon.max() == 6  # the curriculum advanced
    for i, seed in enumerate(seeds):
        alone, res_i = small_fit([seed], [ids[i]], weight_decay=wd[i], target=0.9)
        for name in ("W_hh", "W_ih", "W_hy"):
            a, b = getattr(stack, name)[i], getattr(alone, name)[0]
            assert torch.allclose(a, b, rtol=0, atol=1e-10), name
        n = res_i.steps
        assert np.allclose(res.loss[:n, i], res_i.loss[:, 0], rtol=0, atol=1e-12)
        assert np.array_equal(res.horizon[:n, i], res_i.horizon[:, 0])
        assert res.steps_to_target[i] == res_i.steps_to_target[0]


def test_frozen_model_stops_updating():
    _, res = small_fit([0, 1], [(3, 0, 0), (3, 0, 0)], steps=5, target=0.0, horizons=(3,))
    assert list(res.steps_to_target) == [1, 1] and res.steps == 1
    model0 = models.BatchedElmanRNN(D, HIDDEN, seeds=[0, 1], dtype=torch.float64)
    model1, _ = small_fit([0, 1], [(3, 0, 0), (3, 0, 0)], steps=5, target=0.0, horizons=(3,))
    assert torch.equal(model0.W_hh, model1.W_hh)  # stopped before its first update


def test_stacked_adam_is_torch_adam():
    torch.manual_seed(0)
    w = torch.randn(1, 4, 3, dtype=torch.float64)
    ours, ref = w.clone().requires_grad_(), w.clone().requires_grad_()
    opt_ours, opt_ref = train.StackedAdam([ours], lr=0.01), torch.optim.Adam([ref], lr=0.01)
    for k in range(5):
        g = torch.randn(1, 4, 3, dtype=torch.float64)
        ours.grad, ref.grad = g.clone(), g.clone()
        opt_ours.step()
        opt_ref.step()
        assert torch.allclose(ours, ref, rtol=0, atol=1e-14), k


def test_clipping_is_per_model():
    p = torch.zeros(3, 2, 2, requires_grad=True)
    q = torch.zeros(3, 5, requires_grad=True)
    p.grad = torch.stack([torch.full((2, 2), 3.0), torch.full((2, 2), 0.1), torch.zeros(2, 2)])
    q.grad = torch.stack([torch.full((5,), 4.0), torch.zeros(5), torch.full((5,), 1.0)])
    norms = train.clip_per_model([p, q], max_norm=1.0)
    expected = torch.tensor([np.sqrt(4 * 9 + 5 * 16), 0.2, np.sqrt(5)], dtype=torch.float32)
    assert torch.allclose(norms, expected)
    after = torch.sqrt(p.grad.pow(2).sum((1, 2)) + q.grad.pow(2).sum(1))
    assert torch.allclose(after, torch.tensor([1.0, 0.2, 1.0]), atol=1e-5)  # model 1 untouched
    # torch's own clipping on model 0 alone gives the same gradient
    p0, q0 = p.detach()[0].clone().requires_grad_(), q.detach()[0].clone().requires_grad_()
    p0.grad, q0.grad = torch.full((2, 2), 3.0), torch.full((5,), 4.0)
    torch.nn.utils.clip_grad_norm_([p0, q0], 1.0)
    assert torch.allclose(p0.grad, p.grad[0]) and torch.allclose(q0.grad, q.grad[0])


def test_training_learns_repeat_copy_and_bit_accuracy_is_per_model():
    d, s = 2, 2
    F = tasks.operator_stack([(3, 0, 0), (3, 0, 0)], d, s)
    model = models.BatchedElmanRNN(d, 16, seeds=[0, 1])
    before = train.bit_accuracy(model, F, d, s, horizon=10, data_seeds=[7, 8], batches=2)
    train.fit(model, F, d, s, data_seeds=[0, 1], steps=150, lr=1e-2, batch=32, horizons=(4, 8))
    after = train.bit_accuracy(model, F, d, s, horizon=10, data_seeds=[7, 8], batches=2)
    assert after.shape == (2,) and np.all(after > 0.95) and np.all(before < 0.8)


def test_fit_rejects_mismatched_operators():
    model = models.BatchedElmanRNN(2, 4, seeds=[0, 1])
    with pytest.raises(ValueError):
        train.fit(model, tasks.operator_stack([(3, 0, 0)], 2, 2), 2, 2, data_seeds=[0, 1], steps=1)
