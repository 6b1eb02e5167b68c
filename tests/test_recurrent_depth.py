"""rnnbook.recurrent_depth: the model's independence and causality, the training step's
truncation, and the samplers' call counts, with real tensors."""

from __future__ import annotations

import copy

import torch

from rnnbook import recurrent_depth as rd
from rnnbook.languages import modular_recurrence

V, D, S, B, L, PROMPT = 7, 8, 2, 3, 9, 3


def model(seed: int = 0) -> rd.RecurrentDepth:
    return rd.RecurrentDepth(V, D, 2, 16, S, torch.Generator().manual_seed(seed))


def test_models_are_independent_and_causal():
    m = model()
    tok = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(1))
    noise = torch.randn(S, B, L, D, generator=torch.Generator().manual_seed(2))
    out = m.decode(m.step(m.embed(tok), noise))
    assert out.shape == (S, B, L, V)
    # changing model 0's shared block leaves model 1 untouched
    m2 = copy.deepcopy(m)
    with torch.no_grad():
        for p in m2.core.parameters():
            p[0] += 0.5
    out2 = m2.decode(m2.step(m2.embed(tok), noise))
    assert not torch.allclose(out[0], out2[0]) and torch.equal(out[1], out2[1])
    # causal: positions before 5 ignore tokens and states from 5 on
    tok3, noise3 = tok.clone(), noise.clone()
    tok3[:, 5:] = (tok3[:, 5:] + 1) % V
    noise3[:, :, 5:] += 1.0
    out3 = m.decode(m.step(m.embed(tok3), noise3))
    assert torch.allclose(out[:, :, :5], out3[:, :, :5], atol=1e-6)
    assert not torch.allclose(out[:, :, 5:], out3[:, :, 5:])


def _inputs():
    prompt = modular_recurrence(torch.Generator().manual_seed(4), B, PROMPT, V, 0.0)
    noise = torch.randn(S, B, L, D, generator=torch.Generator().manual_seed(5))
    return prompt, noise


def test_sampler_call_counts():
    m, (prompt, noise), r = model(), _inputs(), 3
    new = L - PROMPT
    tok_ar, calls_ar = rd.sample_ar(m, prompt, noise, r)
    assert (calls_ar == new * r).all()
    # exit test off: prefill r, then one call per step until the last position has had r
    _, calls_df = rd.sample_df(m, prompt, noise, r, 0.0)
    assert (calls_df == r + (new - 1) + r - 1).all()
    # width one, exit test off: each of the new - 1 later positions in turn, r calls each
    _, calls_w1 = rd.sample_df(m, prompt, noise, r, 0.0, width_one=True)
    assert (calls_w1 == r + (new - 1) * r).all()
    # the loosest exit test freezes a position after two updates: fewer calls
    _, calls_loose = rd.sample_df(m, prompt, noise, r, 1e9)
    assert (calls_loose < calls_df).all()


def test_df_keeps_the_prompt_and_agrees_on_the_first_token():
    m, (prompt, noise), r = model(), _inputs(), 4
    tok_ar, _ = rd.sample_ar(m, prompt, noise, r)
    tok_df, _ = rd.sample_df(m, prompt, noise, r, 0.03)
    assert torch.equal(tok_df[:, :, :PROMPT], prompt.expand(S, -1, -1))
    # both read the prompt at depth r from the same noise: the first new token is the same
    assert torch.equal(tok_df[:, :, : PROMPT + 1], tok_ar[:, :, : PROMPT + 1])
    assert int(tok_df.min()) >= 0 and int(tok_df.max()) < V


def _grads(m: rd.RecurrentDepth) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


def test_truncated_backprop_matches_a_hand_written_update():
    def batches(gen: torch.Generator) -> torch.Tensor:
        return modular_recurrence(gen, 4, L, V, 0.1)

    m = model()
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    losses = rd.train_truncated(m, batches, torch.Generator().manual_seed(9), 1, 0.0, (3, 3), 1)
    assert all(torch.equal(before[n], p) for n, p in m.named_parameters())  # lr 0
    got = _grads(m)
    # by hand: the same draws, two steps without a graph, one with
    ref, gen = model(), torch.Generator().manual_seed(9)
    x = batches(gen)
    r = int(torch.randint(3, 4, (1,), generator=gen))
    e = ref.embed(x)
    s = torch.randn(S, *x.shape, D, generator=gen)
    with torch.no_grad():
        for _ in range(r - 1):
            s = ref.step(e, s)
    logits = ref.decode(ref.step(e, s))[:, :, 1:-1]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), x[:, 2:].expand(S, -1, -1).reshape(-1))
    loss.backward()
    assert abs(losses[0] - loss.item()) < 1e-6
    want = _grads(ref)
    assert set(got) == set(want)
    assert all(torch.allclose(got[n], want[n], atol=1e-6) for n in want)
    # full backprop through all three steps gives the shared block other gradients
    full = model()
    rd.train_truncated(full, batches, torch.Generator().manual_seed(9), 1, 0.0, (3, 3), 3)
    for name in ("core.qkv.W", "prelude.qkv.W"):
        assert not torch.allclose(_grads(full)[name], want[name], atol=1e-6)
