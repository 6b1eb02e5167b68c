# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A20 · Recurrent Relational Networks
#
# A relational network {footcite}`santoro2017simple` lets every pair of objects interact *once*
# and then answers. Palm, Paquet and Winther {footcite}`palm2018recurrent` make it recurrent:
# objects are nodes of a graph, each node sends a learned message to its neighbours, sums what it
# receives, updates an LSTM state {footcite}`hochreiter1997long` and does it again, step after
# step, with a loss on the output of *every* step. Information can then travel along chains of
# relations, one hop per step, as in message-passing networks {footcite}`gilmer2017neural`. The
# paper's showcase is Sudoku: cells are nodes, cells that share a row, column or box are
# neighbours, and the network learns to solve puzzles from (puzzle, solution) pairs alone.
#
# We build the recurrent relational network (RRN) from its equations, train it on 4×4 Sudoku in
# the miniature (puzzles with 4 to 12 givens), watch its accuracy grow with the number of steps,
# run it for more steps than it was trained for, and train the same network with a single step.
# The `full` profile adds 9×9
# Sudoku from our own generator (accuracy by number of givens, against the paper's 96.6 %) and a
# Pretty-CLEVR-like multi-hop question task. bAbI {footcite}`weston2015towards` cannot be
# downloaded on the machines that build this book, so its claim is not tested. Details taken
# from the authors' code (`rasmusbergpalm/recurrent-relational-networks`) are marked [C],
# choices of ours [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "recurrent relational networks can learn to solve Sudoku puzzles from supervised
#   training data" (4×4 Sudoku, unseen puzzles).
# - **C2** "a challenging task requiring upwards of 64 steps of relational reasoning": puzzle
#   accuracy grows with the number of message-passing steps. C2a (construction): one step sees
#   only a cell's row, column and box, two steps the whole 4×4 grid. C2b (empirical): accuracy
#   grows with the steps.
# - **C3** running more steps at test time than in training does not hurt: the network settles
#   on its answer (the paper trains with 32 steps and tests with 64).
# - **C4** "the capacity to do many-step relational reasoning" needs the recurrence: the same
#   network with one step (a relational network) does not solve the task. C4a (construction):
#   one round of elimination completes none of the hard (4-6-given) puzzles, so a one-step
#   model can solve those only by guessing. C4b (empirical): the one-step network learns what
#   one round allows and no more; the recurrent network solves the rest.
# - **C5** "solving 96.6 % of the hardest Sudoku puzzles" (17 givens; 9×9, `full` profile).
# - **C6** "we can vary the question to control for the number of relational reasoning steps":
#   on Pretty-CLEVR-like questions, more hops need more steps (`full` profile).
# - **C7** "consistently solving 20/20 [bAbI] tasks" (not tested: no download).
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import math
import multiprocessing as mp
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from rnnbook import claims, plots, runtime, sudoku

ctx = runtime.setup("a20", default_seeds={"ci": [0, 1], "full": [0, 1]})
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
# s4 = 4x4 Sudoku, s9 = 9x9 Sudoku, pc = Pretty-CLEVR-like.
P = ctx.pick(
    ci=dict(
        s4_hidden=32, s4_train_steps=6, s4_test_steps=24,
        s4_iters=400, s4_batch=32, s4_lr=2e-3,
        s4_givens=list(range(4, 13)), s4_hard=6,
        s4_test=900, s4_test_grids=48,
        s9_demo=3, s9_train_pool=2, s9_test_pool=2,
        s9_hidden=96, s9_train_steps=2, s9_test_steps=4,
        s9_iters=2, s9_batch=4, s9_lr=1e-3, s9_max_givens=34,
        s9_extra=[0, 16], s9_time_s=270,
        pc_hidden=32, pc_train_steps=8, pc_iters=3, pc_batch=16,
        pc_lr=1e-3, pc_test=64, pc_time_s=60,
    ),
    full=dict(
        s4_hidden=32, s4_train_steps=6, s4_test_steps=24,
        s4_iters=1500, s4_batch=64, s4_lr=2e-3,
        s4_givens=list(range(4, 13)), s4_hard=6,
        s4_test=2700, s4_test_grids=48,
        s9_demo=3, s9_train_pool=3000, s9_test_pool=400,
        s9_hidden=96, s9_train_steps=32, s9_test_steps=64,
        s9_iters=6000, s9_batch=64, s9_lr=1e-3, s9_max_givens=34,
        s9_extra=[0, 2, 4, 6, 8, 10], s9_time_s=270,
        pc_hidden=128, pc_train_steps=8, pc_iters=4000, pc_batch=512,
        pc_lr=1e-3, pc_test=8000, pc_time_s=60,
    ),
)  # fmt: skip
S = len(ctx.seeds)



# %% [markdown]
# All claims and their pass rules are fixed here, before any experiment runs. Where the
# thresholds come from: C1's 0.95 (mean) and 0.90 (every seed), C2b's gain of 0.5 from step 2
# and C4's 0.2 are the research notes' rules, set from a 60-second probe on 4×4 puzzles with 5
# givens (final accuracy 0.97-1.00, step-1 accuracy 0.00); C3's 0.01 and 0.1 % are this
# chapter's first-version rules. In that first version the miniature used only 4-6 givens, where
# one round of messages can complete no puzzle at all, so "step 1 solves ≤ 0.1" (C2) and "the
# one-step model solves ≤ 0.2" (C4) held by that bound, not by anything learned: they are now
# the constructions C2a and C4a. To let C2b and C4b test learning, the puzzles now have 4 to 12
# givens (equal numbers of each), and about a fifth of them *can* be completed by one round
# (the bound is measured below). C4b's 0.9 (the one-step network learned what one round allows)
# is the per-seed floor of C1, its 0.5 the notes' gain; C2b's gain from step 1 reuses the notes'
# 0.5. Accuracies are the fraction of test puzzles solved completely (every cell right); "hard"
# puzzles are those with 4-6 givens, as in the notes' probe and the first version. The 9×9 rules
# are ours, set for an 8-minute training run far shorter than the paper's. Every empirical claim
# has a control: the same statistic on the untrained network (the trained one's own
# initialisation) or on the one-step network, where it must fail the rule.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Recurrent Relational Networks")
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "An RRN learns to solve Sudoku from (puzzle, solution) pairs (4×4, unseen puzzles).",
    kind="empirical",
    paper="no 4×4 number (its 96.6 % is for 17-given 9×9 puzzles, C5): a miniature",
    checks=[
        E("acc_hard", ">=", 0.95, "solved at the trained step, hard test puzzles", tol=0.02),
        E("acc_hard_min", ">=", 0.90, "the same, worst seed", over="min", tol=0.02),
        CTL("untrained_hard", "acc_hard", "the untrained network (its initialisation)", tol=0.01),
        CTX("acc_all", "solved at the trained step, all test puzzles (4-12 givens)", tol=0.005),
    ])
report.claim(
    "C2a", "One message-passing step sees only a cell's row, column and box; two see the grid.",
    kind="construction", paper="information travels one hop per step",
    checks=[
        E("jac_far_step1", "==", 0, "max |∂ step-1 output / ∂ input| over non-neighbour pairs"),
        E("jac_far_step2_min", ">", 0, "min over non-neighbour pairs of the same at step 2",
          tol=0.01),
    ])
report.claim(
    "C2b", "Puzzle accuracy grows with the number of message-passing steps.",
    kind="empirical", paper="accuracy vs steps rises over tens of steps (accuracy-vs-steps figure)",
    checks=[
        E("gain_1_to_T", ">=", 0.5, "solved at the trained step − at step 1, all puzzles",
          tol=0.05),
        E("gain_2_to_T_hard", ">=", 0.5, "the same from step 2, hard puzzles (notes)", tol=0.02),
        E("max_drop", "<=", 0.02, "largest drop between consecutive steps ≤ T", over="max",
          tol=0.005),
        CTL("untrained_gain", "gain_1_to_T", "the untrained network", tol=0.01),
        CTX("acc_step1", "solved at step 1, all puzzles", tol=0.05),
        CTX("acc_step1_hard", "solved at step 1, hard puzzles (old rule: ≤ 0.1)", tol=0.005),
    ])
report.claim(
    "C3", "Running more steps at test time than in training does not hurt; the answer converges.",
    kind="empirical", paper="trained with 32 steps, evaluated with 64",
    checks=[
        E("long_minus_trained", ">=", -0.01, "solved at step 4T − at T (trained)", tol=0.002),
        E("changed_cells", "<=", 1e-3, "cells whose answer changes between 2T and 4T", tol=5e-4),
        CTL("one_step_long_minus", "long_minus_trained", "one-step network, step 24 − step 1",
            tol=0.2),
        CTL("one_step_changed", "changed_cells", "one-step network, steps 12 → 24", tol=0.05),
    ])
report.claim(
    "C4a", "One round of elimination completes none of the hard puzzles (a bound on one step).",
    kind="construction", paper="the non-recurrent RN solved none of the 17-given puzzles",
    checks=[
        E("bound_hard", "==", 0, "hard test puzzles completed by one round of naked singles"),
        E("jac_far_one_step", "==", 0, "the one-step network's far Jacobian (as C2a)"),
        CTX("bound_all", "the same bound, all test puzzles (4-12 givens)", tol=0.05),
    ])
report.claim(
    "C4b", "Without recurrence the task is not solved: one step learns what one round allows, "
    "the recurrent network the rest.",
    kind="empirical", paper="the non-recurrent RN solved no 17-given puzzle (project page)",
    checks=[
        E("one_step_one_round", ">=", 0.9, "one-step net, puzzles one round completes", tol=0.5),
        E("gap_deeper", ">=", 0.5, "recurrent − one-step net, the other puzzles", tol=0.1),
        CTL("untrained_one_round", "one_step_one_round", "untrained net, step 1", tol=0.01),
        CTL("untrained_gap", "gap_deeper", "untrained recurrent − one-step net", tol=0.1),
        CTX("acc_one_step_hard", "one-step net, hard puzzles (old rule: ≤ 0.2)", tol=0.01),
        CTX("acc_one_step_all", "one-step net, all puzzles", tol=0.2),
    ])
report.claim(
    "C5", "9×9 Sudoku: accuracy by number of givens, against 96.6 % on the hardest puzzles.",
    kind="empirical", paper="96.6 % at 17 givens, 64 steps (test set 17-34 givens)",
    checks=[
        E("acc_minimal", ">=", 0.9, "minimal generated 9×9 test puzzles, step 64", tol=0.1),
        E("acc_32plus", ">=", 0.9, "test puzzles with ≥ 32 givens, step 64", tol=0.1),
        CTL("untrained_32plus", "acc_32plus", "the untrained 9×9 network", tol=0.1),
        CTX("acc_minimal_half", "old partial reading: acc_minimal ≥ 0.5", tol=0.1),
    ],
    partial=["acc_32plus"])
report.claim(
    "C6", "Pretty-CLEVR-like multi-hop questions: more hops need more steps.",
    kind="empirical", paper="accuracy vs jumps, per number of steps (Pretty-CLEVR figure)",
    checks=[
        E("acc_last_0", ">=", 0.95, "0-jump questions, last step", tol=0.05),
        E("gain_3plus", ">=", 0.2, "≥ 3 jumps: last step − step 1", tol=0.1),
        CTL("untrained_gain_3plus", "gain_3plus", "the untrained network", tol=0.1),
    ])
report.claim(
    "C7", "bAbI: 20/20 tasks solved.", kind="empirical", paper="20/20 tasks (bAbI table)",
    checks=[E("tasks_solved", ">=", 20, "bAbI tasks with error < 5 %")],
    no_control="not run: the bAbI data must be downloaded")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The recurrent relational network
#
# Each node $j$ has an input vector $x_j$ (an MLP of its features) and a hidden state $h_j$. One
# step of the RRN, with $N(j)$ the neighbours of $j$ and all MLPs shared across nodes and steps:
#
# $$m_{ij}^t = f(h_i^{t-1}, h_j^{t-1}), \qquad m_j^t = \sum_{i \in N(j)} m_{ij}^t, \qquad
#   h_j^t, s_j^t = \mathrm{LSTM}\big(g(m_j^t, x_j),\ s_j^{t-1}\big), \qquad o_j^t = r(h_j^t).$$
#
# The loss is the cross-entropy of $o^t$ averaged over *all* steps $t = 1..T$, so every step is
# pushed towards the answer. As in the authors' code [C], $h^0 = x$ and the LSTM cell state
# starts at 0. We train several seeds as one batched model: every weight has a leading seed
# dimension $S$ and every matrix product is a batched one.

# %%
class BLinear(torch.nn.Module):
    """S independent linear maps: x (S, ..., i) -> (S, ..., o);
    PyTorch's default init per seed."""

    def __init__(self, gens, i, o, bias=True):
        super().__init__()
        k = 1 / math.sqrt(i)
        self.W = torch.nn.Parameter(torch.stack([
            (torch.rand(i, o, generator=g) * 2 - 1) * k for g in gens
        ]))
        self.b = torch.nn.Parameter(torch.stack([
            (torch.rand(1, o, generator=g) * 2 - 1) * k for g in gens
        ])) if bias else None

    def forward(self, x):
        x2 = x.reshape(x.shape[0], -1, x.shape[-1])  # (S, M, i)
        y = (x2 @ self.W if self.b is None
             else torch.baddbmm(self.b, x2, self.W))
        return y.reshape(*x.shape[:-1], -1)


def mlp(gens, sizes):
    """ReLU MLP made of BLinear layers (no activation after the last)."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [BLinear(gens, a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


# %% [markdown]
# The graph is regular (every node has the same number of neighbours), so it is stored as a
# table `peers[j] = N(j)` built from the library's edge list. The message function is a
# three-layer MLP, $f(h_i, h_j) = W_3\,\mathrm{relu}(W_2\,\mathrm{relu}(W_a h_i + W_b h_j + b_1) + b_2) + b_3$.
# Its first layer is linear in $[h_i; h_j]$, so we apply it to the nodes and gather the result on
# the edges; its last layer is linear, so it commutes with the sum over neighbours and is applied
# once per node (its bias absorbs the constant factor $|N(j)|$). Only $W_2$ runs once per edge:
# the same function class as the plain edge-wise MLP, at a fraction of the cost.

# %%
class RRN(torch.nn.Module):
    """S batched recurrent relational networks on a regular graph
    peers (N, P); node or graph outputs."""

    def __init__(self, seeds, d_in, H, n_out, peers, graph_output=False,
                 tag=0):
        super().__init__()
        gens = [runtime.generator(s, 100 + tag) for s in seeds]
        self.register_buffer("peers", torch.as_tensor(peers))
        self.inp = mlp(gens, [d_in, H, H])  # x_j
        # first layer of f
        self.f_src, self.f_dst = (BLinear(gens, H, H),
                                  BLinear(gens, H, H, bias=False))
        # second and last layer of f
        self.f_mid, self.f_out = BLinear(gens, H, H), BLinear(gens, H, H)
        self.g = mlp(gens, [2 * H, H, H])
        self.lstm = BLinear(gens, 2 * H, 4 * H)
        self.r = (mlp(gens, [H, H, n_out]) if graph_output
                  else BLinear(gens, H, n_out))
        self.graph_output = graph_output

    def forward(self, X, steps, keep_state=False):
        """X (S, B, N, d_in) -> logits (steps, S, B, N or 1, n_out)
        [and the final h]."""
        x = self.inp(X)
        h, s, outs = x, torch.zeros_like(x), []
        for _ in range(steps):
            e = torch.relu(  # (S, B, N, P, H)
                self.f_src(h)[:, :, self.peers]
                + self.f_dst(h)[:, :, :, None]
            )
            # m_j = sum over i in N(j) of f(h_i, h_j)
            m = self.f_out(torch.relu(self.f_mid(e)).sum(3))
            i, f, o, u = self.lstm(
                torch.cat([self.g(torch.cat([m, x], -1)), h], -1)
            ).chunk(4, -1)
            s = torch.sigmoid(f) * s + torch.sigmoid(i) * torch.tanh(u)
            h = torch.sigmoid(o) * torch.tanh(s)
            outs.append(self.r(h.sum(2, keepdim=True) if self.graph_output
                               else h))
        return (torch.stack(outs), h) if keep_state else torch.stack(outs)


# %% [markdown]
# Training minimises the step-averaged cross-entropy with Adam on fresh batches; `batch(i)`
# returns inputs `X` (S, B, N, d) and integer targets `Y` (S, B, N or 1). An optional time limit
# protects the `full` profile's 8-minute budget; the number of updates actually made is reported.

# %%
def train(model, batch, steps, iters, lr, time_limit=None):
    """Adam on mean-over-steps cross-entropy;
    returns (losses, updates made)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, t0 = [], time.perf_counter()
    for it in range(iters):
        X, Y = batch(it)
        out = model(X, steps)  # (T, S, B, N, C)
        loss = F.cross_entropy(out.flatten(0, -2),
                               Y.expand(steps, *Y.shape).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item() if it % 10 == 0 else float("nan"))
        if (time_limit is not None
                and time.perf_counter() - t0 > time_limit):
            return losses, it + 1
    return losses, iters


# %% [markdown]
# ## 4×4 Sudoku
#
# A 4×4 Sudoku ($b = 2$: digits 1-4, four 2×2 boxes) has exactly 288 solution grids, which the
# library enumerates with its backtracking solver. A puzzle keeps $k$ random cells of a grid as
# givens; we keep it only if its solution is unique, i.e. exactly one of the 288 grids agrees
# with its givens (checked for whole batches at once). Four givens is the minimum for a unique
# 4×4 puzzle. We draw equal numbers of puzzles with each $k$ from 4 to 12 [R]: the hard ones
# (4-6 givens) need chains of deductions, the easy ones can often be completed by one round of
# elimination, so that a one-step network has something to learn (C4). Test puzzles come from 48
# grids never used for training. All puzzles are generated once, before training.

# %%
b4, N4 = 2, 16
grids4 = torch.as_tensor(sudoku.all_grids(b4))  # (288, 16)
# (112, 2) directed edges (i, j): i sends to j
edges4 = sudoku.sudoku_edges(b4)
peers4 = torch.as_tensor(  # (16, 7)
    edges4[np.argsort(edges4[:, 1], kind="stable"), 0].reshape(N4, -1))
onehot4 = F.one_hot(grids4 - 1, 4).flatten(1).float()  # (288, 64)
HARD = P["s4_hard"]  # puzzles with at most this many givens are "hard"


def n_matching(puzzles):
    """How many of the 288 grids agree with all givens of each puzzle
    (1 = unique solution)."""
    # (count, 288): givens matched
    hits = F.one_hot(puzzles, 5)[..., 1:].flatten(1).float() @ onehot4.T
    return (hits == (puzzles > 0).sum(1, keepdim=True)).sum(1)


def shidoku(gen, count, givens, grid_ids, chunk=2048):
    """count unique puzzles (0 = empty), equally many with each number
    of givens in `givens` (shuffled), and their solutions."""
    P_, Y_ = [], []
    for j, k in enumerate(givens):
        want, got = count // len(givens) + (j < count % len(givens)), 0
        while got < want:
            g = grids4[grid_ids[
                torch.randint(len(grid_ids), (chunk,), generator=gen)]]
            keep = (torch.rand(chunk, N4, generator=gen)
                    .argsort(1).argsort(1) < k)
            p = torch.where(keep, g, 0)
            unique = n_matching(p) == 1
            P_.append(p[unique][: want - got])
            Y_.append(g[unique][: want - got])
            got += len(P_[-1])
    order = torch.randperm(count, generator=gen)
    return torch.cat(P_)[order], torch.cat(Y_)[order]


def one_round(Xp):
    """Whether one round of 'naked singles' from the givens alone
    completes each puzzle."""
    # (count, 16, 4): digit given at each cell
    seen = F.one_hot(Xp, 5)[:, :, 1:]
    # digits among the cell's peers and itself
    around = seen[:, peers4].amax(2) | seen
    return ((Xp > 0) | (around.sum(-1) == 3)).all(-1)


# %%
split = torch.randperm(288, generator=runtime.generator(ctx.seeds[0], 1))
test_ids, train_ids = (split[: P["s4_test_grids"]],
                       split[P["s4_test_grids"] :])
Xte4, Yte4 = shidoku(runtime.generator(ctx.seeds[0], 2), P["s4_test"],
                     P["s4_givens"], test_ids)
Xs, Ys = zip(*(
    shidoku(runtime.generator(s, 3), P["s4_iters"] * P["s4_batch"],
            P["s4_givens"], train_ids)
    for s in ctx.seeds
))
# (S, iters * batch, 16): every update sees new puzzles
Xtr4, Ytr4 = torch.stack(Xs), torch.stack(Ys)
giv4 = (Xte4 > 0).sum(1)
# (count,) masks: hard puzzles, puzzles one round completes
hard4, round4 = giv4 <= HARD, one_round(Xte4)


def batch4(it, B=P["s4_batch"]):
    """Update `it`'s puzzles, per seed its own: one-hot digits
    X (S, B, 16, 5), answers 0..3."""
    return (F.one_hot(Xtr4[:, it * B : (it + 1) * B], 5).float().to(dev),
            (Ytr4[:, it * B : (it + 1) * B] - 1).to(dev))


print(f"{Xtr4.shape[1]} training puzzles per seed, {len(Xte4)} test "
      f"puzzles ({int(hard4.sum())} hard), givens {P['s4_givens']}")
print(f"one round of elimination completes "
      f"{round4.float().mean():.3f} of the test puzzles, "
      f"{round4[hard4].float().mean():.3f} of the hard ones")

# %% [markdown]
# The recurrent model trains with $T = 6$ steps. The ablation is the same network trained with
# $T = 1$: one round of messages, which is a relational network with an LSTM node function. It gets
# the same number of updates on the same puzzles (so less compute: 1/6 per update). Both start
# from the same initial weights, which also serve, untrained, as the controls.

# %%
t0 = time.process_time()
rrn4 = RRN(ctx.seeds, 5, P["s4_hidden"], 4, peers4).to(dev)
loss4, _ = train(rrn4, batch4, P["s4_train_steps"], P["s4_iters"],
                 P["s4_lr"])
one4 = RRN(ctx.seeds, 5, P["s4_hidden"], 4, peers4).to(dev)
loss1, _ = train(one4, batch4, 1, P["s4_iters"], P["s4_lr"])
# the initialisation of both
untrained4 = RRN(ctx.seeds, 5, P["s4_hidden"], 4, peers4).to(dev)
print(f"trained {S} seeds × 2 models, {P['s4_iters']} updates each, "
      f"in {time.process_time() - t0:.1f} s CPU")

# %% [markdown]
# We run the three networks on the test puzzles for up to 24 steps (four times the 6 of training)
# and record, per step, which puzzles are solved completely.

# %%
@torch.no_grad()
def solved_by_step(model, Xp, Y, steps, n):
    """Per step and seed, whether each puzzle is fully right:
    (steps, S, count); and the predictions."""
    X = F.one_hot(Xp, n + 1).float().to(dev).expand(S, -1, -1, -1)
    pred = model(X, steps).argmax(-1).cpu() + 1  # (T, S, count, N)
    return (pred == Y).all(-1), pred


def per_seed(ok, mask=None):
    """Fraction solved per seed (a list), over the puzzles in mask."""
    return (ok if mask is None else ok[:, mask]).float().mean(-1).tolist()


ok4, pred4 = solved_by_step(rrn4, Xte4, Yte4, P["s4_test_steps"], 4)
ok1, pred1 = solved_by_step(one4, Xte4, Yte4, P["s4_test_steps"], 4)
ok0, _ = solved_by_step(untrained4, Xte4, Yte4, P["s4_test_steps"], 4)
acc4 = ok4.float().mean(-1)  # (T, S)
T4 = P["s4_train_steps"]
print("accuracy by step (mean over seeds):",
      {t: round(float(acc4[t - 1].mean()), 3)
       for t in (1, 2, 3, 4, 6, 12, 24)})

# %% [markdown]
# ### Accuracy grows with the steps (C1, C2)
#
# The paper's figure plots the fraction of solved puzzles against the step, one line per number of
# givens. Ours below is its 4×4 miniature, with the givens in three groups; the dashed line marks
# the trained number of steps and the crosses the one-step model.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.4, 3.4))
steps_axis = np.arange(1, P["s4_test_steps"] + 1)
for c, (lo, hi) in zip(plots.COLORBLIND, [(4, 6), (7, 9), (10, 12)]):
    sel = (giv4 >= lo) & (giv4 <= hi)
    solved = ok4[:, :, sel].float().mean(2).T  # (seeds, steps)
    plots.seed_band(ax, steps_axis, solved, label=f"{lo}-{hi} givens", color=c, marker="o", ms=3)
    ax.plot([1], [ok1[0][:, sel].float().mean()], "x", color=c, ms=9)
ax.axvline(T4, color="k", ls="--", lw=0.8)
ax.set(xscale="log", xlabel="message-passing step", ylabel="puzzles solved", title="4×4 Sudoku: RRN trained with 6 steps (×: 1-step model; band: range over seeds)")
ax.set_xticks([1, 2, 4, 6, 12, 24], labels=[1, 2, 4, 6, 12, 24])
ax.legend()
plt.show()

# %% [markdown]
# C2a is checked on the trained network itself: the gradient of a cell's step-$t$ output with
# respect to the input of every cell that shares no row, column or box with it. After one step
# it must be exactly zero; after two it must not be (every pair of 4×4 cells has a common
# neighbour).

# %%
def far_jacobian(model, Xp, t):
    """|∂ output of cell j at step t / ∂ input of cell i|, summed over
    seeds and digits: (16, 16)."""
    X = (F.one_hot(Xp[None], 5).float().to(dev).expand(S, -1, -1, -1)
         .clone().requires_grad_(True))
    out = model(X, t)[t - 1]  # (S, 1, 16, 4)
    rows = [
        torch.autograd.grad(out[:, :, j].sum(), X, retain_graph=True)[0]
        .abs().sum((0, 1, 3))
        for j in range(N4)
    ]
    return torch.stack(rows).cpu()


near = torch.eye(N4, dtype=torch.bool)
near[torch.as_tensor(edges4[:, 1]), torch.as_tensor(edges4[:, 0])] = True
far = ~near  # (j, i): i shares no unit with j
J1, J2 = far_jacobian(rrn4, Xte4[0], 1), far_jacobian(rrn4, Xte4[0], 2)
report.measure("C2a", jac_far_step1=float(J1[far].max()),
               jac_far_step2_min=float(J2[far].min()))
print(f"far pairs: {int(far.sum())}; "
      f"step 1 max {float(J1[far].max()):.1e}, "
      f"step 2 min {float(J2[far].min()):.2e}")

# %%
acc_T = ok4[T4 - 1]  # (S, count)
# (S,) largest drop per seed
drops = (acc4[:-1] - acc4[1:])[: T4 - 1].amax(0)
report.measure("C1", acc_hard=per_seed(acc_T, hard4),
               acc_hard_min=per_seed(acc_T, hard4),
               untrained_hard=per_seed(ok0[T4 - 1], hard4),
               acc_all=per_seed(acc_T))
gain = lambda ok, a, mask=None: (  # noqa: E731
    np.array(per_seed(ok[T4 - 1], mask)) - per_seed(ok[a - 1], mask)
).tolist()
report.measure("C2b", gain_1_to_T=gain(ok4, 1),
               gain_2_to_T_hard=gain(ok4, 2, hard4),
               max_drop=drops.tolist(),
               untrained_gain=gain(ok0, 1), acc_step1=per_seed(ok4[0]),
               acc_step1_hard=per_seed(ok4[0], hard4))  # fmt: skip
runtime.glue("a20_accT", float(acc_T[:, hard4].float().mean()))
runtime.glue("a20_accT_all", float(acc_T.float().mean()))
runtime.glue("a20_acc1", float(acc4[0].mean()))
runtime.glue("a20_acc1_hard", float(ok4[0][:, hard4].float().mean()))
runtime.glue("a20_acc2_hard", float(ok4[1][:, hard4].float().mean()))
print(report.verdicts())

# %% [markdown]
# After one step the recurrent network solves {glue:text}`a20_acc1:.3f` of all test puzzles (more
# than the fraction one round of elimination completes, measured below: on puzzles with few empty
# cells a guess among two candidates is often right) but only {glue:text}`a20_acc1_hard:.3f` of
# the hard ones; after two steps
# {glue:text}`a20_acc2_hard:.2f` of the hard ones, and at the trained sixth step
# {glue:text}`a20_accT:.3f` of them ({glue:text}`a20_accT_all:.3f` of all). Puzzles with fewer
# givens need more steps: each step lets a cell hear about digits one hop further away, and a
# 4-given puzzle needs chains of deductions.
#
# ### A puzzle being solved, step by step
#
# The paper shows the network's beliefs changing over steps (digit size ∝ probability). Here is
# one 4-given test puzzle: each cell shows the most probable digit, shaded by its probability;
# givens are bold, wrong digits red.

# %% tags=["hide-input"]
k0 = int(torch.nonzero(giv4 == min(P["s4_givens"]))[0])
with torch.no_grad():
    prob = torch.softmax(rrn4(F.one_hot(Xte4[k0 : k0 + 1], 5).float().to(dev).expand(S, -1, -1, -1), 8), -1)[:, 0, 0].cpu()
show = [1, 2, 3, 4, 6, 8]
fig, axs = plt.subplots(1, len(show), figsize=(10, 2.0))
for ax, t in zip(axs, show):
    p, d = prob[t - 1].max(-1)
    ax.imshow(p.reshape(4, 4), vmin=0.25, vmax=1.6, cmap="Blues")  # light to mid blue: digits stay legible
    for c in range(16):
        given, right = bool(Xte4[k0, c] > 0), int(d[c]) + 1 == int(Yte4[k0, c])
        ax.text(c % 4, c // 4, int(d[c]) + 1, ha="center", va="center", fontsize=12,
                weight="bold" if given else "normal", color="k" if right else "#d55e00")  # fmt: skip
    ax.set(title=f"step {t}", xticks=[], yticks=[])
    ax.axhline(1.5, color="k", lw=1.5)
    ax.axvline(1.5, color="k", lw=1.5)
    ax.grid(False)
plt.show()

# %% [markdown]
# ### More steps than in training (C3)
#
# The network was trained to be right at steps 1 to 6, never beyond. If it had only learned a
# six-step trajectory, running on could undo the answer. We compare step 24 with step 6, and
# count the cells whose answer changes between steps 12 and 24. The control is the one-step
# network run to the same horizon: nothing in its training asked it to settle, so running it on
# should hurt it (step 24 against its trained step 1) and keep changing its answers.

# %%
# (S,)
changed = (pred4[2 * T4 - 1] != pred4[4 * T4 - 1]).float().mean((1, 2))
changed1 = (pred1[2 * T4 - 1] != pred1[4 * T4 - 1]).float().mean((1, 2))
long_minus = (acc4[4 * T4 - 1] - acc4[T4 - 1]).tolist()
report.measure(
    "C3", long_minus_trained=long_minus, changed_cells=changed.tolist(),
    one_step_long_minus=(np.array(per_seed(ok1[4 * T4 - 1]))
                         - per_seed(ok1[0])).tolist(),
    one_step_changed=changed1.tolist())  # fmt: skip
runtime.glue("a20_changed1", float(changed1.mean()))
runtime.glue("a20_one_long", float(ok1[4 * T4 - 1].float().mean()))
print(f"acc at step {T4}: {acc4[T4 - 1].mean():.4f}, "
      f"at step {4 * T4}: {acc4[4 * T4 - 1].mean():.4f}; "
      f"cells changing between steps {2 * T4} and {4 * T4}: "
      f"{changed.mean():.2e} "
      f"(one-step network: {changed1.mean():.2e})")  # fmt: skip

# %% [markdown]
# The one-step network, run on to step 24, solves {glue:text}`a20_one_long:.3f` of the puzzles
# and changes {glue:text}`a20_changed1:.3f` of its cells between steps 12 and 24; the recurrent
# network keeps its answers: its recurrence has learned a fixed point.
#
# ### One step is not enough (C4)
#
# With one step a cell sees only the givens of its own row, column and box (C2a). The best such a
# model can do with certainty is to fill every cell whose digit follows from its neighbours'
# givens alone (the other three digits are all there) and guess the rest. Puzzles where one such
# round of elimination fills every cell are the ones a one-step model can solve without luck.
# Among the hard puzzles there are none (C4a): that is why "the one-step model solves ≤ 0.2 of
# them" was a bound, not a finding. The learning test (C4b) asks two things the bound does not
# decide: did the one-step network learn to solve the puzzles one round *does* complete, and does
# the recurrent network, trained on the same puzzles, solve the others?

# %%
deeper = ~round4
acc_one = ok1[0]  # (S, count): the one-step network at its step 1
report.measure(
    "C4a", bound_hard=int(round4[hard4].sum()),
    bound_all=float(round4.float().mean()),
    jac_far_one_step=float(far_jacobian(one4, Xte4[0], 1)[far].max()))
report.measure(
    "C4b", one_step_one_round=per_seed(acc_one, round4),
    gap_deeper=(np.array(per_seed(acc_T, deeper))
                - per_seed(acc_one, deeper)).tolist(),
    untrained_one_round=per_seed(ok0[0], round4),
    untrained_gap=(np.array(per_seed(ok0[T4 - 1], deeper))
                   - per_seed(acc_one, deeper)).tolist(),
    acc_one_step_hard=per_seed(acc_one, hard4),
    acc_one_step_all=per_seed(acc_one))  # fmt: skip
runtime.glue("a20_one_round", float(acc_one[:, round4].float().mean()))
runtime.glue("a20_one_deeper", float(acc_one[:, deeper].float().mean()))
runtime.glue("a20_rrn_deeper", float(acc_T[:, deeper].float().mean()))
runtime.glue("a20_one_hard", float(acc_one[:, hard4].float().mean()))
runtime.glue("a20_bound", float(round4.float().mean()))
runtime.glue("a20_rrn1_round", float(ok4[0][:, round4].float().mean()))
print(f"one round completes {round4.float().mean():.3f} of the test "
      f"puzzles; one-step net on those: {per_seed(acc_one, round4)}, "
      f"on the others: {per_seed(acc_one, deeper)}; "
      f"recurrent net on the others: {per_seed(acc_T, deeper)}"
      )  # fmt: skip

# %% [markdown]
# One round of elimination completes {glue:text}`a20_bound:.3f` of the test puzzles. The one-step
# network solves {glue:text}`a20_one_round:.3f` of those, and {glue:text}`a20_one_deeper:.3f` of
# the others ({glue:text}`a20_one_hard:.3f` of the hard ones); the recurrent network, with the
# same initial weights, updates and puzzles, solves {glue:text}`a20_rrn_deeper:.3f` of the others.
#
# So C4b is **not reproduced** as pre-registered: the gap on the deeper puzzles is large, but the
# one-step network has not learned all that one round allows (the rule asked for 0.9 of the
# puzzles one round completes). Its failure is therefore partly a lack of training, not only
# structure. A sign of this: the recurrent network's own first step, which computes the same kind
# of function, solves {glue:text}`a20_rrn1_round:.3f` of those puzzles; its weights, shared by six
# supervised steps, learn from all six in every update. The first version of this chapter could
# not see this: on 4-6 givens there is nothing for one step to learn, and its "one step solves
# ≤ 0.2" held by the bound (C4a).
#
# This verdict is a **knife-edge** across seed sets: the one-step network's share of the puzzles
# one round completes varies widely from one pair of seeds to the next, and with one of the two
# other seed sets of the tolerance runs it reaches the 0.9 and C4b is reproduced (see "Verdicts
# seen" in the table of the section on tolerances). Whether the one-step network learns the
# naked-singles rule in 400 updates is itself a matter of luck at this scale.
#
# ## 9×9 Sudoku (C5)
#
# The paper's data are Royle's 49,151 puzzles with 17 givens, the minimum for 9×9
# {footcite}`mcguire2014there`, plus copies with 0-17 extra givens [C]. Such puzzles cannot be
# generated quickly, so ours come from the library's generator: a random complete grid (randomised
# backtracking), then givens removed in random order while the solution stays unique, until no
# given can be removed. These *minimal* puzzles have 22-27 givens; they are our "hardest".
# Training draws a pool puzzle, applies a random validity-preserving symmetry (digit relabelling,
# row/column permutations within bands and stacks, band/stack permutations, transposition) and adds
# a random number of extra givens up to 34 (the paper's maximum). Test puzzles come from a separate
# pool. The `ci` profile runs the whole path at toy size (two training and two test puzzles, two
# updates) so that every line executes, and does not judge the claim.

# %%
t0 = time.process_time()
demo_p, demo_s = sudoku.generate_puzzles(P["s9_demo"], 3,
                                         seed=ctx.seeds[0])
demo_unique = [sudoku.count_solutions(p, 3) == 1 for p in demo_p]
print(f"{P['s9_demo']} minimal 9x9 puzzles in "
      f"{time.process_time() - t0:.2f} s; "
      f"givens {(demo_p > 0).sum(1).tolist()}; unique: {demo_unique}")
print("\n".join(" ".join(str(v) if v else "." for v in row)
                for row in demo_p[0].reshape(9, 9)))


def pool(count, seed, chunks=8):
    """count minimal 9x9 puzzles (and solutions), generated in parallel
    worker processes. The puzzles depend on count and seed only: a fixed
    number of chunks, each with its own seed, shared among the cores."""
    parts_ = [
        (count // chunks + (w < count % chunks), 3, 1000 * seed + w)
        for w in range(chunks)
    ]
    workers = min(os.cpu_count() or 1, chunks)
    # workers run numpy only, never CUDA
    with mp.get_context("fork").Pool(workers) as p:
        parts = p.starmap(sudoku.generate_puzzles,
                          [c for c in parts_ if c[0]])
    return (np.concatenate([a for a, _ in parts]),
            np.concatenate([s for _, s in parts]))


# %% [markdown]
# The 9×9 network uses the paper's sizes (hidden 96, 32 training steps, batch 64, evaluation at
# 64 steps) [C], one seed (the first), Adam with a larger learning rate than the paper's $2\cdot10^{-4}$
# and no weight decay, because it trains for minutes instead of days [R].

# %%
peers9 = torch.as_tensor(
    (e := sudoku.sudoku_edges(3))[np.argsort(e[:, 1], kind="stable"), 0]
    .reshape(81, -1))
rng9 = np.random.default_rng(ctx.seeds[0])
if P["s9_iters"]:
    t0 = time.perf_counter()
    train9, test9 = (pool(P["s9_train_pool"], ctx.seeds[0]),
                     pool(P["s9_test_pool"], 10_000 + ctx.seeds[0]))
    print(f"pools of {len(train9[0])} + {len(test9[0])} puzzles "
          f"in {time.perf_counter() - t0:.0f} s")


def batch9(it, B=P["s9_batch"]):
    """Pool puzzles under random symmetries, with extra givens up to
    s9_max_givens."""
    idx = rng9.integers(len(train9[0]), size=B)
    pairs = np.stack([
        sudoku.random_symmetry(np.stack([train9[0][i], train9[1][i]]), 3,
                               rng9)
        for i in idx
    ])
    Xp, Y = pairs[:, 0], pairs[:, 1]
    Xp = np.stack([
        sudoku.add_givens(
            p, y,
            rng9.integers(
                0, max(1, P["s9_max_givens"] - (p > 0).sum() + 1)),
            rng9)
        for p, y in zip(Xp, Y)
    ])  # fmt: skip
    return (F.one_hot(torch.as_tensor(Xp), 10).float()[None].to(dev),
            torch.as_tensor(Y - 1)[None].to(dev))


# %%
if P["s9_iters"]:
    t0 = time.perf_counter()
    rrn9 = RRN(ctx.seeds[:1], 10, P["s9_hidden"], 9, peers9,
               tag=9).to(dev)
    loss9, done9 = train(rrn9, batch9, P["s9_train_steps"], P["s9_iters"],
                         P["s9_lr"], time_limit=P["s9_time_s"])
    tp, ts = test9
    Xt9 = torch.as_tensor(np.concatenate([
        np.stack([sudoku.add_givens(p, s, k, rng9)
                  for p, s in zip(tp, ts)])
        for k in P["s9_extra"]
    ]))
    Yt9 = torch.as_tensor(np.concatenate([ts] * len(P["s9_extra"])))
    with torch.no_grad():
        def solved9(m):
            return torch.cat([
                ((m(F.one_hot(Xt9[i : i + 500], 10).float()[None].to(dev),
                    P["s9_test_steps"]).argmax(-1).cpu() + 1)
                 == Yt9[i : i + 500]).all(-1)[:, 0]
                for i in range(0, len(Xt9), 500)
            ], 1)  # fmt: skip

        ok9 = solved9(rrn9)
        ok9_untrained = solved9(  # its initialisation
            RRN(ctx.seeds[:1], 10, P["s9_hidden"], 9, peers9,
                tag=9).to(dev))
    giv9, minimal9 = (Xt9 > 0).sum(1), torch.arange(len(Xt9)) < len(tp)
    print(f"{done9} updates in {time.perf_counter() - t0:.0f} s; "
          f"acc at step 64 on minimal puzzles: "
          f"{ok9[-1, minimal9].float().mean():.3f}")

# %% [markdown]
# The figure mirrors the paper's accuracy-vs-steps plot for 9×9, one line per number of givens
# (binned in pairs); the paper's 96.6 % at 17 givens and 64 steps is marked.

# %% tags=["hide-input"]
if P["s9_iters"]:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    lo = int(giv9.min())
    for c, g in zip(plots.COLORBLIND, range(lo, int(giv9.max()) + 1, 2)):
        sel = (giv9 >= g) & (giv9 < g + 2)
        if sel.sum() >= 20:
            ax.plot(np.arange(1, P["s9_test_steps"] + 1), ok9[:, sel].float().mean(1), color=c, label=f"{g}-{g + 1} givens")
    ax.plot([64], [0.966], "*", color="k", ms=10, label="paper, 17 givens")
    ax.axvline(P["s9_train_steps"], color="k", ls="--", lw=0.8)
    ax.set(xlabel="message-passing step", ylabel="puzzles solved", title=f"9×9 Sudoku ({done9} updates)")
    ax.legend(fontsize=7, ncol=2)
    plt.show()

# %%
last = ok9[-1]
by_givens = {str(g): float(last[giv9 == g].float().mean())
             for g in range(int(giv9.min()), int(giv9.max()) + 1)
             if (giv9 == g).sum() >= 20}
acc_min9 = float(last[minimal9].float().mean())
report.measure(
    "C5", acc_minimal=acc_min9,
    acc_32plus=float(last[giv9 >= 32].float().mean()),
    untrained_32plus=float(
        ok9_untrained[-1, giv9 >= 32].float().mean()),
    acc_minimal_half=acc_min9,
    note=f"{done9} updates; accuracy by givens at the last step: "
         f"{by_givens}")  # fmt: skip
if P["s9_iters"] < 1000:  # ci: a smoke run of the whole code path
    report.untestable(
        "C5", f"ci trains the 9×9 network for {done9} updates on "
        f"{len(train9[0])} puzzles (the code path runs, not judged); "
        "9×9 training needs minutes on a GPU (full profile). ci also "
        f"generates and checks {len(demo_p)} puzzles (unique: "
        f"{int(sum(demo_unique))} of {len(demo_p)})")  # fmt: skip
print(report.verdict("C5"))

# %% [markdown]
# ## A Pretty-CLEVR-like task (C6)
#
# Pretty-CLEVR {footcite}`palm2018recurrent` places 8 objects, each with its own colour and
# shape, at random positions in the unit square (no two closer than 0.1) [C]. A question names an
# anchor object by its colour or its shape and a number of jumps $n \in 0..7$; a jump goes to the
# closest object not yet visited. The answer is the shape of the object reached if the anchor was
# named by colour, otherwise its colour [C]. We use the state description (positions, colours and
# shapes as numbers), not the rendered image, and a graph in which every object talks to every
# object. The question is appended to every node's input, and the output is read from the sum
# of the node states [C].

# %%
def pretty_clevr(gen, count):
    """Node features (count, 8, 42) with the question appended,
    answers (count, 1), jumps, path."""
    pos = torch.zeros(0, 8, 2)
    # rejection sampling: no two objects closer than 0.1
    while len(pos) < count:
        cand = torch.rand(4 * count, 8, 2, generator=gen)
        pos = torch.cat([pos, cand[
            (torch.cdist(cand, cand) + torch.eye(8)).amin((1, 2)) > 0.1
        ]])
    pos = pos[:count]
    d = torch.cdist(pos, pos)
    colour, shape = (torch.rand(count, 8, generator=gen).argsort(1),
                     torch.rand(count, 8, generator=gen).argsort(1))
    start, jumps = (torch.randint(8, (count,), generator=gen),
                    torch.randint(8, (count,), generator=gen))
    by_colour = torch.rand(count, generator=gen) < 0.5
    path, visited, rows = ([start], F.one_hot(start, 8).bool(),
                           torch.arange(count))
    for _ in range(7):  # greedy walk: closest object not yet visited
        nxt = (d[rows, path[-1]].masked_fill(visited, float("inf"))
               .argmin(1))
        path.append(nxt)
        visited |= F.one_hot(nxt, 8).bool()
    target = torch.stack(path, 1)[rows, jumps]
    anchor = torch.where(by_colour, colour[rows, start],
                         8 + shape[rows, start])
    answer = torch.where(by_colour, 8 + shape[rows, target],
                         colour[rows, target])
    q = torch.cat([F.one_hot(anchor, 16), F.one_hot(jumps, 8)], 1).float()
    X = torch.cat([pos, F.one_hot(colour, 8).float(),
                   F.one_hot(shape, 8).float(),
                   q[:, None].expand(-1, 8, -1)], 2)
    return X, answer[:, None], jumps, torch.stack(path, 1), pos


# %%
gens_pc = [runtime.generator(s, 5) for s in ctx.seeds]


def batch_pc(it, B=P["pc_batch"]):
    Xs, Ys, *_ = zip(*(pretty_clevr(g, B) for g in gens_pc))
    return torch.stack(Xs).to(dev), torch.stack(Ys).to(dev)


t0 = time.perf_counter()
rrn_pc = RRN(ctx.seeds, 42, P["pc_hidden"], 16,
             torch.arange(8).repeat(8, 1), graph_output=True,
             tag=5).to(dev)
loss_pc, done_pc = train(rrn_pc, batch_pc, P["pc_train_steps"],
                         P["pc_iters"], P["pc_lr"],
                         time_limit=P["pc_time_s"])
Xq, Yq, Jq, path_q, pos_q = pretty_clevr(
    runtime.generator(ctx.seeds[0], 6), P["pc_test"])
with torch.no_grad():
    okq = (  # (T, S, count)
        rrn_pc(Xq.to(dev).expand(S, -1, -1, -1), P["pc_train_steps"])
        .argmax(-1).cpu()[..., 0] == Yq[:, 0])
acc_q = torch.stack(  # (T, jumps)
    [okq[:, :, Jq == j].float().mean((1, 2)) for j in range(8)], 1)
print(f"{done_pc} updates in {time.perf_counter() - t0:.1f} s; "
      f"last-step accuracy by jumps: {acc_q[-1].numpy().round(3)}")

# %% [markdown]
# Left: one test scene with the walk from the question's anchor (ringed). Right (the paper's Pretty-CLEVR figure):
# accuracy by number of jumps, one line per step. In the `ci` profile the network is only stepped
# a few updates to check that the code runs, so its curves are at chance.

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.4), width_ratios=[1, 2])
markers = "ov^<>sPX"
for o in range(8):
    c, m = int(Xq[0, o, 2:10].argmax()), int(Xq[0, o, 10:18].argmax())
    axs[0].scatter(*pos_q[0, o], color=plots.COLORBLIND[c], marker=markers[m], s=80)
axs[0].plot(*pos_q[0, path_q[0]].T, color="k", lw=0.8)
axs[0].scatter(*pos_q[0, path_q[0, 0]], s=300, facecolors="none", edgecolors="k")  # the anchor
axs[0].set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), aspect="equal", title="walk of 7 jumps from the anchor", xticks=[], yticks=[])
for t in range(acc_q.shape[0]):
    axs[1].plot(range(8), acc_q[t], "o-", ms=3, color=plt.cm.viridis(t / max(1, acc_q.shape[0] - 1)), label=f"step {t + 1}")
axs[1].axhline(1 / 8, color="k", ls=":", lw=0.8)
axs[1].set(xlabel="number of jumps", ylabel="accuracy", ylim=(0, 1.02), title=f"RRN, {done_pc} updates ({ctx.profile})")
axs[1].legend(fontsize=7, ncol=2)
plt.show()

# %%
# the untrained twin is the control; ci runs it all, judges nothing
with torch.no_grad():
    rrn_pc0 = RRN(ctx.seeds, 42, P["pc_hidden"], 16,
                  torch.arange(8).repeat(8, 1), graph_output=True,
                  tag=5).to(dev)
    ok0q = (rrn_pc0(Xq.to(dev).expand(S, -1, -1, -1),
                    P["pc_train_steps"]).argmax(-1).cpu()[..., 0]
            == Yq[:, 0])
acc0_q = torch.stack(
    [ok0q[:, :, Jq == j].float().mean((1, 2)) for j in range(8)], 1)
report.measure(
    "C6", acc_last_0=float(acc_q[-1, 0]),
    gain_3plus=float((acc_q[-1, 3:] - acc_q[0, 3:]).mean()),
    untrained_gain_3plus=float(
        (acc0_q[-1, 3:] - acc0_q[0, 3:]).mean()),
    note=f"{done_pc} updates; last-step accuracy by jumps "
         f"{[round(float(a), 3) for a in acc_q[-1]]}")  # fmt: skip
if P["pc_iters"] < 1000:  # ci: a smoke run, untrained noise
    report.untestable(
        "C6", "the ci profile steps the Pretty-CLEVR model only "
        f"{done_pc} times (a smoke run; the code path runs, not "
        "judged); training it to the paper's regime needs the full "
        "profile's GPU minutes")  # fmt: skip
report.untestable("C7", "bAbI must be downloaded (Facebook Research), "
                  "and the book builds offline")
print(report.verdicts())

# %% [markdown]
# ## Checks that do not depend on the run
#
# The constraint graphs, the enumeration, a known 9×9 puzzle, the batched uniqueness test against
# the library's solver on fixed puzzles, one Pretty-CLEVR walk on fixed positions, and the size of
# the models.

# %% tags=["nbval-check-output"]
print("edges 4x4 / 9x9:", len(edges4), len(sudoku.sudoku_edges(3)),
      "| peers of cell 0 (4x4):", sorted(peers4[0].tolist()))
print("4x4 grids:", len(grids4),
      "| one round completes the empty grid:",
      bool(one_round(torch.zeros(1, 16, dtype=torch.long))[0]),
      "| grid 7 with cells 0, 5, 10, 15 emptied:",
      bool(one_round(
          torch.where(torch.arange(16) % 5 == 0, 0, grids4[7])[None])[0]))
known = np.array([int(c) for c in
                  "530070000600195000098000060800060003400803001"
                  "700020006060000280000419005000080079"])
print("known 9x9 puzzle: solutions", sudoku.count_solutions(known, 3),
      "| solved:", sudoku.is_solution(sudoku.solve(known, 3), 3))
# first k cells of grid 7
fixed = torch.stack([torch.where(torch.arange(16) < k, grids4[7], 0)
                     for k in range(2, 10)])
batched = n_matching(fixed).tolist()
print("solutions of fixed prefixes, batched vs solver:", batched,
      [sudoku.count_solutions(p.numpy(), 2, limit=300) for p in fixed])
line = torch.tensor([[0.0, 0.0], [0.9, 0.0], [0.2, 0.0], [0.5, 0.0],
                     [0.35, 0.0], [0.7, 0.0], [0.1, 0.0], [1.0, 0.0]])
dl = torch.cdist(line, line)
walk, seen = [0], {0}
for _ in range(7):
    walk.append(min((float(dl[walk[-1], j]), j)
                    for j in range(8) if j not in seen)[1])
    seen.add(walk[-1])
print("greedy walk on a line from object 0:", walk)
sizes = {k: sum(p[0].numel() for p in m.parameters()) for k, m in
         {"4x4 (H=32)": RRN([0], 5, 32, 4, peers4),
          "9x9 (H=96)": RRN([0], 10, 96, 9, peers9)}.items()}  # fmt: skip
print("parameters per model:", sizes)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change a re-execution on another machine may show. We
# re-executed the chapter in the ci profile with two other seed sets, {2, 3} and {4, 5}
# (`python -m rnnbook.runner variation a20 --seeds 2,3 --seeds 4,5`), and chose each `tol` at
# least as large as the change between seed sets, rounded up to a 1-2-5 step. The run with 2
# threads (the other summation order a CPU can take) was measured afterwards on a quiet machine
# (`variation a20 --threads 2`, which keeps the seed-set runs): every value agreed exactly with
# the 1-thread run, so each `tol` is also at least three times the thread-path change, as the
# table below checks. The table shows the declared `tol` beside the measured changes, and the verdicts
# seen in those runs.

# %%
report.tolerances("../../data/a20_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** 4×4 Sudoku with 4-12 givens instead of 9×9 with 17-34,
#   hidden size 32 instead of 96, 6 training steps instead of 32, 400 updates of 32 puzzles per
#   seed, 2 seeds trained as one batched model. The 4×4 task needs only a few steps, so claim C2
#   is tested over 1-6 steps rather than the paper's 64. The paper's 96.6 % is for 17-given 9×9
#   puzzles; nothing in the miniature is comparable with it.
# - **Why 4×4 with a mix of givens, not 6×6.** The verdicts issue asked for a task on which one
#   round of messages can complete some puzzles: 6×6 Sudoku (2×3 boxes) or a mix of givens. A
#   6×6 generator written for this (solver-based, since 6×6 has 28,200,960 grids) makes about 220
#   minimal puzzles a second on one core, fast enough; but one training update of the 6×6 RRN
#   (36 cells, 12 neighbours each) costs about 30 ms per step for two seeds, so the miniature's
#   400 updates × 6 steps plus the one-step model would take some 80 s, over the ci budget of
#   60 s for the whole chapter. Adding givens to 4×4 puzzles costs nothing.
# - **9×9 (C5) and Pretty-CLEVR (C6) run only in the `full` profile** (one GPU, ≤ 8 minutes);
#   in `ci` they are "not testable at this scale": a 9×9 RRN needs minutes of GPU training before
#   it solves anything, and so does the Pretty-CLEVR model; ci only generates three 9×9 puzzles
#   and steps the Pretty-CLEVR model three times, to check that the code runs. The `full` profile has not been executed for
#   this version of the chapter. Its 9×9 training is capped at 270 s, far below the paper's
#   training, so its accuracy is not expected to reach the paper's.
# - **Data.** Royle's 17-given puzzles (and the Pretty-CLEVR images) are downloads; our 9×9
#   puzzles are generated, and the hardest are *minimal* puzzles with 22-27 givens, easier than
#   17-given ones. Pretty-CLEVR is rebuilt from the authors' generator [C] on state descriptions,
#   with colours and shapes both shuffled per scene [R].
# - **Reconstructed.** MLP depths (2-3 layers instead of 4), the first layer of the message
#   function applied per node (mathematically the same), one-hot digit inputs instead of an
#   embedding (the same map), learning rates and no weight decay [R]. The update equations, the
#   loss on every step, $h^0 = x$ and the Sudoku graph follow the paper and the authors' code.
# - **C4.** The paper's baseline is a separate relational network; ours is the same RRN run
#   for one step, trained with the same number of updates and puzzles (less compute). The paper
#   reports that it solves none of the hardest puzzles; at this scale that holds by construction
#   (C4a), so the empirical test (C4b) is that the one-step network learns what one round allows
#   and the recurrent network solves the rest.
# - **Not tested.** bAbI (C7): it must be downloaded.
#
# ## References
#
# ```{footbibliography}
# ```
