"""Tests of rnnbook.transformer: shapes, causal masking, weight sharing, ACT, gradients (A33)."""

import math

import pytest
import torch
import torch.nn.functional as F

from rnnbook import transformer as tr

D, HEADS = 16, 4


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def plain_block(blk: tr.Block, m: int, x: torch.Tensor, causal: bool) -> torch.Tensor:
    """Model m of a Block written out with explicit loops over heads (the reference)."""

    def ln(mod: tr.LayerNorm, z: torch.Tensor) -> torch.Tensor:
        mu = z.mean(-1, keepdim=True)
        var = ((z - mu) ** 2).mean(-1, keepdim=True)
        return (z - mu) / torch.sqrt(var + 1e-5) * mod.g[m] + mod.b[m]

    def lin(mod: tr.Linear, z: torch.Tensor) -> torch.Tensor:
        return z @ mod.W[m] + mod.b[m]

    B, L, d = x.shape
    q, k, v = lin(blk.qkv, ln(blk.ln1, x)).split(d, -1)
    dh = d // blk.heads
    heads = []
    for h in range(blk.heads):
        s = slice(h * dh, (h + 1) * dh)
        score = q[..., s] @ k[..., s].transpose(1, 2) / math.sqrt(dh)
        if causal:
            score = score.masked_fill(torch.ones(L, L).triu(1).bool(), float("-inf"))
        heads.append(score.softmax(-1) @ v[..., s])
    x = x + lin(blk.out, torch.cat(heads, -1))
    return x + lin(blk.ff2, torch.relu(lin(blk.ff1, ln(blk.ln2, x))))


def test_sinusoid_matches_the_formula():
    pos = torch.tensor([0.0, 3.0, 17.0])
    s = tr.sinusoid(pos, 8)
    assert s.shape == (3, 8)
    for i, p in enumerate(pos.tolist()):
        for j in range(4):
            angle = p / 10000 ** (2 * j / 8)
            assert s[i, 2 * j].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert s[i, 2 * j + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    with pytest.raises(ValueError):
        tr.sinusoid(pos, 7)


def test_coordinate_signal_is_position_plus_step():
    P = tr.coordinate_signal(5, 3, D)
    expect = tr.sinusoid(torch.arange(5.0), D) + tr.sinusoid(torch.tensor(3.0), D)
    assert torch.allclose(P, expect)
    Pb = tr.coordinate_signal(5, 3, D, offset=torch.tensor([0, 2]))
    assert Pb.shape == (2, 5, D)
    assert torch.allclose(Pb[0], P) and torch.allclose(Pb[1, :3], P[2:])


def test_embedding_shapes_scale_and_offset():
    emb = tr.Embedding(11, D, position=True, models=3, gen=gen())
    tok = torch.randint(11, (4, 6), generator=gen(1))
    x = emb(tok)
    assert x.shape == (3, 4, 6, D)
    assert torch.allclose(x[1, 2, 3], emb.E[1, tok[2, 3]] * math.sqrt(D) + tr.sinusoid(torch.tensor(3.0), D))
    shifted = emb(tok, offset=torch.tensor([5, 0, 0, 0]))
    assert torch.allclose(
        shifted[:, 0, 0],
        x[:, 0, 0] - tr.sinusoid(torch.tensor(0.0), D) + tr.sinusoid(torch.tensor(5.0), D),
        atol=1e-6,
    )
    per_model = torch.randint(11, (3, 4, 6), generator=gen(2))
    assert emb(per_model).shape == (3, 4, 6, D)
    assert not tr.Embedding(11, D, position=False)(tok)[0].allclose(x[0])


@pytest.mark.parametrize("causal", [False, True])
def test_block_matches_a_plain_loop_for_every_model(causal):
    blk = tr.Block(D, HEADS, d_ff=24, models=3, gen=gen())
    with torch.no_grad():  # non-trivial LayerNorm parameters
        for p in (blk.ln1.g, blk.ln2.g, blk.ln1.b, blk.ln2.b):
            p.add_(0.3 * torch.randn(p.shape, generator=gen(5)))
    x = torch.randn(3, 2, 5, D, generator=gen(1))
    y = blk(x, causal)
    assert y.shape == x.shape
    for m in range(3):
        assert torch.allclose(y[m], plain_block(blk, m, x[m], causal), atol=1e-5)


def test_models_are_independent():
    blk = tr.Block(D, HEADS, models=2, gen=gen())
    x = torch.randn(2, 3, 4, D, generator=gen(1))
    x2 = x.clone()
    x2[1] += 1.0  # change model 1's input only
    assert torch.equal(blk(x)[0], blk(x2)[0])
    x = x.requires_grad_()
    blk(x)[0].sum().backward()
    assert blk.qkv.W.grad[1].abs().max() == 0 and blk.qkv.W.grad[0].abs().max() > 0
    assert x.grad[1].abs().max() == 0


def test_causal_masking_does_not_leak_the_future():
    L = 7
    for model in (
        tr.Stack(D, HEADS, layers=3, models=2, gen=gen()),
        tr.UniversalTransformer(D, HEADS, steps=4, models=2, gen=gen()),
        tr.UniversalTransformer(D, HEADS, steps=4, act=True, models=2, gen=gen()),
    ):
        x = torch.randn(2, 3, L, D, generator=gen(1), requires_grad=True)
        out = model(x, causal=True)
        y = out[0] if isinstance(out, tuple) else out
        r = torch.randn(D, generator=gen(2))  # (a LayerNorm's output sums to a constant)
        for i in (0, 3, L - 2):
            (g,) = torch.autograd.grad((y[:, :, i] * r).sum(), x, retain_graph=True)
            assert g[:, :, i + 1 :].abs().max() == 0, "an output sees a later input"
            assert g[:, :, : i + 1].abs().max() > 0
        # and without the mask the future is seen
        out = model(x, causal=False)
        y = out[0] if isinstance(out, tuple) else out
        (g,) = torch.autograd.grad((y[:, :, 0] * r).sum(), x)
        assert g[:, :, 1:].abs().max() > 0


def test_the_universal_transformer_has_one_blocks_parameters():
    ut = tr.UniversalTransformer(D, HEADS, steps=6, models=2, gen=gen())
    one = tr.Stack(D, HEADS, layers=1, models=2, gen=gen())
    four = tr.Stack(D, HEADS, layers=4, models=2, gen=gen())
    assert tr.n_params(ut) == tr.n_params(one)
    assert tr.n_params(four) == 4 * tr.n_params(one) - 3 * 2 * 2 * D  # one final LN each
    act = tr.UniversalTransformer(D, HEADS, steps=6, act=True, models=2, gen=gen())
    assert tr.n_params(act) == tr.n_params(ut) + 2 * (D + 1)  # the halting unit
    # steps do not add parameters, and the same block is applied each step
    x = torch.randn(2, 3, 5, D, generator=gen(1))
    y, info = ut(x, steps=3)
    assert info is None
    h = x
    for t in (1, 2, 3):
        h = ut.block(h + tr.coordinate_signal(5, t, D))
    assert torch.allclose(y, ut.ln(h), atol=1e-6)


def test_a_one_step_ut_is_a_one_layer_transformer_with_the_signal():
    ut = tr.UniversalTransformer(D, HEADS, steps=1, models=1, gen=gen())
    st = tr.Stack(D, HEADS, layers=1, models=1, gen=gen())
    st.load_state_dict(
        {"blocks.0." + k: v for k, v in ut.block.state_dict().items()}
        | {"ln." + k: v for k, v in ut.ln.state_dict().items()}
    )
    x = torch.randn(1, 2, 5, D, generator=gen(1))
    assert torch.allclose(ut(x)[0], st(x + tr.coordinate_signal(5, 1, D)), atol=1e-6)


def act_reference(ut: tr.UniversalTransformer, x: torch.Tensor, T: int):
    """ACT for model 0, batch item 0, position by position with Python numbers (the reference)."""
    L = x.shape[2]
    hs, ps = [], []
    # with copy-forward, a halted position's state stays as it was
    h_prev = x
    halted = [False] * L
    cum = [0.0] * L
    N, R = [0] * L, [0.0] * L
    w = [[0.0] * L for _ in range(T)]
    for t in range(1, T + 1):
        h = ut.block(h_prev + tr.coordinate_signal(L, t, ut.d))
        p = torch.sigmoid(ut.halt(h)).squeeze(-1)[0, 0].tolist()
        new = h_prev.clone()
        for i in range(L):
            if halted[i]:
                continue
            N[i] += 1
            if t == T or cum[i] + p[i] > 1 - ut.eps:
                R[i] = 1 - cum[i]
                w[t - 1][i] = R[i]
                halted[i] = True
            else:
                cum[i] += p[i]
                w[t - 1][i] = p[i]
            new[:, :, i] = h[:, :, i]
        hs.append(h)
        ps.append(p)
        h_prev = new
    out = sum(torch.tensor(w[t])[None, None, :, None] * hs[t] for t in range(T))
    return ut.ln(out), torch.tensor(N, dtype=torch.float32), torch.tensor(R), torch.tensor(w)


@pytest.mark.parametrize("bias", [-2.0, 0.0, 1.0])
def test_act_matches_a_plain_loop_and_its_weights_sum_to_one(bias):
    T = 5
    ut = tr.UniversalTransformer(D, HEADS, steps=T, act=True, halting_bias=bias, models=1, gen=gen())
    with torch.no_grad():
        ut.halt.W.mul_(8.0)  # make halting vary across positions
    x = torch.randn(1, 1, 6, D, generator=gen(3))
    y, info = ut(x)
    y_ref, N, R, w = act_reference(ut, x, T)
    assert torch.allclose(y, y_ref, atol=1e-5)
    assert torch.equal(info.steps[0, 0], N)
    assert torch.allclose(info.remainder[0, 0], R, atol=1e-6)
    assert torch.allclose(info.weights[:, 0, 0], w, atol=1e-6)
    assert torch.allclose(info.weights.sum(0), torch.ones(1, 1, 6), atol=1e-6)
    assert (info.weights >= 0).all()
    assert ((info.remainder > 0) & (info.remainder <= 1 + 1e-6)).all()
    assert torch.allclose(info.ponder, info.steps + info.remainder)
    assert ((info.steps >= 1) & (info.steps <= T)).all()


def test_ponder_cost_follows_the_halting_bias():
    x = torch.randn(2, 4, 6, D, generator=gen(3))
    ponder = {}
    for bias in (-10.0, 0.0, 10.0):
        ut = tr.UniversalTransformer(D, HEADS, steps=5, act=True, halting_bias=bias, models=2, gen=gen())
        ponder[bias] = ut(x)[1]
    assert torch.equal(ponder[10.0].steps, torch.ones(2, 4, 6))  # p ~ 1: halts at once
    assert torch.equal(ponder[-10.0].steps, torch.full((2, 4, 6), 5.0))  # p ~ 0: runs to T
    assert torch.allclose(ponder[-10.0].remainder, torch.ones(2, 4, 6), atol=1e-2)
    assert ponder[-10.0].ponder.mean() > ponder[0.0].ponder.mean() > ponder[10.0].ponder.mean()
    # the gradient of the ponder cost lowers it by raising the halting bias
    ut = tr.UniversalTransformer(D, HEADS, steps=5, act=True, halting_bias=0.0, models=2, gen=gen())
    ut(x)[1].ponder.mean().backward()
    assert (ut.halt.b.grad < 0).all()


@pytest.mark.parametrize("act", [False, True])
def test_gradients_flow_to_every_parameter(act):
    torch.manual_seed(0)
    emb = tr.Embedding(9, D, models=2, gen=gen())
    ut = tr.UniversalTransformer(D, HEADS, steps=3, act=act, halting_bias=-1.0, models=2, gen=gen())
    head = tr.Linear(D, 9, models=2, gen=gen())
    tok = torch.randint(9, (4, 5), generator=gen(1))
    y, info = ut(emb(tok))
    logits = head(y)
    loss = F.cross_entropy(logits.flatten(0, 2), tok.repeat(2, 1, 1).flatten())
    if act:
        loss = loss + 0.01 * info.ponder.mean()
    loss.backward()
    for name, p in [*ut.named_parameters(), *emb.named_parameters(), *head.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert (p.grad.flatten(1).abs().sum(1) > 0).all(), f"{name} gets no gradient in some model"


def test_gradients_match_finite_differences():
    ut = tr.UniversalTransformer(8, 2, d_ff=8, steps=3, models=1, gen=gen()).double()
    x = torch.randn(1, 2, 4, 8, generator=gen(1), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: ut(z, causal=True)[0], (x,))


def test_random_offsets_shift_the_signal_per_sequence():
    ut = tr.UniversalTransformer(D, HEADS, steps=2, models=1, gen=gen())
    x = torch.randn(1, 2, 5, D, generator=gen(1))
    y0 = ut(x, offset=torch.tensor([0, 3]))[0]
    assert torch.allclose(y0[:, :1], ut(x[:, :1], offset=0)[0], atol=1e-6)
    assert torch.allclose(y0[:, 1:], ut(x[:, 1:], offset=3)[0], atol=1e-6)
    assert not torch.allclose(y0[:, 1:], ut(x[:, 1:], offset=0)[0])
