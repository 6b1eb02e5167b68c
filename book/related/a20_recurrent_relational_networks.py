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
# the miniature, watch its accuracy grow with the number of steps, run it for more steps than it
# was trained for, and train the same network with a single step. The `full` profile adds 9×9
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
#   accuracy grows with the number of message-passing steps.
# - **C3** running more steps at test time than in training does not hurt: the network settles
#   on its answer (the paper trains with 32 steps and tests with 64).
# - **C4** "the capacity to do many-step relational reasoning" needs the recurrence: the same
#   network with one step (a relational network) does not solve the task.
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
# Sizes only: both profiles run the same code. s4 = 4x4 Sudoku, s9 = 9x9 Sudoku, pc = Pretty-CLEVR-like.
P = ctx.pick(
    ci=dict(
        s4_hidden=32, s4_train_steps=6, s4_test_steps=24, s4_iters=400, s4_batch=32, s4_lr=2e-3,
        s4_givens=[4, 5, 6], s4_test=500, s4_test_grids=48,
        s9_demo=3, s9_train_pool=0, s9_test_pool=0, s9_hidden=96, s9_train_steps=32, s9_test_steps=64,
        s9_iters=0, s9_batch=64, s9_lr=1e-3, s9_max_givens=34, s9_extra=[0, 2, 4, 6, 8, 10], s9_time_s=270,
        pc_hidden=32, pc_train_steps=8, pc_iters=3, pc_batch=16, pc_lr=1e-3, pc_test=64, pc_time_s=60,
    ),
    full=dict(
        s4_hidden=32, s4_train_steps=6, s4_test_steps=24, s4_iters=1500, s4_batch=64, s4_lr=2e-3,
        s4_givens=[4, 5, 6], s4_test=3000, s4_test_grids=48,
        s9_demo=3, s9_train_pool=3000, s9_test_pool=400, s9_hidden=96, s9_train_steps=32, s9_test_steps=64,
        s9_iters=6000, s9_batch=64, s9_lr=1e-3, s9_max_givens=34, s9_extra=[0, 2, 4, 6, 8, 10], s9_time_s=270,
        pc_hidden=128, pc_train_steps=8, pc_iters=4000, pc_batch=512, pc_lr=1e-3, pc_test=8000, pc_time_s=60,
    ),
)  # fmt: skip
S = len(ctx.seeds)



# %% [markdown]
# All claims and their pass rules are fixed here, before any experiment runs. Thresholds for the
# miniature follow the research notes' 60-second probe (final accuracy 0.97-1.00, step-1 accuracy
# 0.00); the 9×9 rules are ours, set for an 8-minute training run that is far shorter than the
# paper's. Accuracies are the fraction of test puzzles solved completely (every cell right).

# %%
# fmt: off
report = claims.Report(ctx, title="Recurrent Relational Networks")
ok = claims.all_or_some
NT = claims.NOT_TESTABLE
full_only = lambda rule: (lambda o: NT if o.get("profile") == "ci" else rule(o))  # noqa: E731
report.claim("C1", "An RRN learns to solve Sudoku from (puzzle, solution) pairs (4×4, unseen puzzles).",
             paper="96.6 % of 17-given 9×9 puzzles (Sudoku section)",
             rule="puzzle accuracy at the last trained step ≥ 0.95 (mean over seeds) and ≥ 0.90 for every seed, on puzzles from held-out grids",
             judge=lambda o: ok([o["acc_trained"] >= 0.95, o["acc_trained_min"] >= 0.90]),
             tolerance={"acc_trained": 0.04, "acc_trained_min": 0.06, "acc_by_givens": 0.06})
report.claim("C2", "Puzzle accuracy grows with the number of message-passing steps.",
             paper="accuracy vs steps rises over tens of steps (accuracy-vs-steps figure)",
             rule="acc(step 1) ≤ 0.1, acc(trained steps) − acc(step 2) ≥ 0.5, and no drop > 0.02 between consecutive steps up to the trained number",
             judge=lambda o: ok([o["acc"]["1"] <= 0.1, o["gain_2_to_T"] >= 0.5, o["max_drop"] <= 0.02]),
             tolerance={"acc": 0.08, "gain_2_to_T": 0.08, "max_drop": 0.02})
report.claim("C3", "Running more steps at test time than in training does not hurt; the answer converges.",
             paper="trained with 32 steps, evaluated with 64",
             rule="acc(4× trained steps) ≥ acc(trained steps) − 0.01 and ≤ 0.1 % of cells change their answer between 2× and 4× the trained steps",
             judge=lambda o: ok([o["acc_long"] >= o["acc_trained"] - 0.01, o["changed_cells"] <= 1e-3]),
             tolerance={"acc_long": 0.04, "acc_trained": 0.04, "changed_cells": 2e-3})
report.claim("C4", "Without recurrence (one step: a relational network) the task is not solved.",
             paper="the non-recurrent RN solved none of the 17-given puzzles (authors' project page)",
             rule="the same network trained with 1 step, same updates and data: puzzle accuracy ≤ 0.2 (mean over seeds)",
             judge=lambda o: ok([o["acc_one_step"] <= 0.2]),
             tolerance={"acc_one_step": 0.03, "one_round_bound": 0.05})
report.claim("C5", "9×9 Sudoku: accuracy by number of givens, against 96.6 % on the hardest puzzles.",
             paper="96.6 % at 17 givens, 64 steps (test set 17-34 givens)",
             rule="full profile, 64 steps: reproduced if ≥ 0.9 of minimal generated test puzzles are solved; partly if ≥ 0.5 of them, or ≥ 0.9 of those with ≥ 32 givens; ci: generator only",
             judge=full_only(lambda o: claims.REPRODUCED if o["acc_minimal"] >= 0.9 else (
                 claims.PARTLY if o["acc_minimal"] >= 0.5 or o["acc_32plus"] >= 0.9 else claims.NOT_REPRODUCED)),
             tolerance={"acc_minimal": 0.1, "acc_32plus": 0.1})
report.claim("C6", "Pretty-CLEVR-like multi-hop questions: more hops need more steps.",
             paper="accuracy vs number of jumps, per number of steps (Pretty-CLEVR figure)",
             rule="full profile: 0-jump accuracy ≥ 0.95 at the last step, and on questions with ≥ 3 jumps the last step beats step 1 by ≥ 0.2 (mean); ci: smoke run only",
             judge=full_only(lambda o: ok([o["acc_last_0"] >= 0.95, o["gain_3plus"] >= 0.2])),
             tolerance={"acc_last_0": 0.05, "gain_3plus": 0.1})
report.claim("C7", "bAbI: 20/20 tasks solved.", paper="20/20 tasks (bAbI table)",
             rule="not tested: the bAbI data must be downloaded", judge=lambda o: NT)
# fmt: on

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
    """S independent linear maps: x (S, ..., i) -> (S, ..., o); PyTorch's default init per seed."""

    def __init__(self, gens, i, o, bias=True):
        super().__init__()
        k = 1 / math.sqrt(i)
        self.W = torch.nn.Parameter(torch.stack([(torch.rand(i, o, generator=g) * 2 - 1) * k for g in gens]))
        self.b = torch.nn.Parameter(torch.stack([(torch.rand(1, o, generator=g) * 2 - 1) * k for g in gens])) if bias else None

    def forward(self, x):
        x2 = x.reshape(x.shape[0], -1, x.shape[-1])  # (S, M, i)
        y = x2 @ self.W if self.b is None else torch.baddbmm(self.b, x2, self.W)
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
    """S batched recurrent relational networks on a regular graph peers (N, P); node or graph outputs."""

    def __init__(self, seeds, d_in, H, n_out, peers, graph_output=False, tag=0):
        super().__init__()
        gens = [runtime.generator(s, 100 + tag) for s in seeds]
        self.register_buffer("peers", torch.as_tensor(peers))
        self.inp = mlp(gens, [d_in, H, H])  # x_j
        self.f_src, self.f_dst = BLinear(gens, H, H), BLinear(gens, H, H, bias=False)  # first layer of f
        self.f_mid, self.f_out = BLinear(gens, H, H), BLinear(gens, H, H)  # second and last layer of f
        self.g = mlp(gens, [2 * H, H, H])
        self.lstm = BLinear(gens, 2 * H, 4 * H)
        self.r = mlp(gens, [H, H, n_out]) if graph_output else BLinear(gens, H, n_out)
        self.graph_output = graph_output

    def forward(self, X, steps, keep_state=False):
        """X (S, B, N, d_in) -> logits (steps, S, B, N or 1, n_out) [and the final h]."""
        x = self.inp(X)
        h, s, outs = x, torch.zeros_like(x), []
        for _ in range(steps):
            e = torch.relu(self.f_src(h)[:, :, self.peers] + self.f_dst(h)[:, :, :, None])  # (S, B, N, P, H)
            m = self.f_out(torch.relu(self.f_mid(e)).sum(3))  # m_j = sum over i in N(j) of f(h_i, h_j)
            i, f, o, u = self.lstm(torch.cat([self.g(torch.cat([m, x], -1)), h], -1)).chunk(4, -1)
            s = torch.sigmoid(f) * s + torch.sigmoid(i) * torch.tanh(u)
            h = torch.sigmoid(o) * torch.tanh(s)
            outs.append(self.r(h.sum(2, keepdim=True) if self.graph_output else h))
        return (torch.stack(outs), h) if keep_state else torch.stack(outs)


# %% [markdown]
# Training minimises the step-averaged cross-entropy with Adam on fresh batches; `batch(i)`
# returns inputs `X` (S, B, N, d) and integer targets `Y` (S, B, N or 1). An optional time limit
# protects the `full` profile's 8-minute budget; the number of updates actually made is reported.

# %%
def train(model, batch, steps, iters, lr, time_limit=None):
    """Adam on mean-over-steps cross-entropy; returns (losses, updates made)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, t0 = [], time.perf_counter()
    for it in range(iters):
        X, Y = batch(it)
        out = model(X, steps)  # (T, S, B, N, C)
        loss = F.cross_entropy(out.flatten(0, -2), Y.expand(steps, *Y.shape).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item() if it % 10 == 0 else float("nan"))
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            return losses, it + 1
    return losses, iters


# %% [markdown]
# ## 4×4 Sudoku
#
# A 4×4 Sudoku ($b = 2$: digits 1-4, four 2×2 boxes) has exactly 288 solution grids, which the
# library enumerates with its backtracking solver. A puzzle keeps $k$ random cells of a grid as
# givens; we keep it only if its solution is unique, i.e. exactly one of the 288 grids agrees
# with its givens (checked for whole batches at once). Four givens is the minimum for a unique
# 4×4 puzzle. Test puzzles come from 48 grids never used for training.

# %%
b4, N4 = 2, 16
grids4 = torch.as_tensor(sudoku.all_grids(b4))  # (288, 16)
edges4 = sudoku.sudoku_edges(b4)  # (112, 2) directed edges (i, j): i sends to j
peers4 = torch.as_tensor(edges4[np.argsort(edges4[:, 1], kind="stable"), 0].reshape(N4, -1))  # (16, 7)
onehot4 = F.one_hot(grids4 - 1, 4).flatten(1).float()  # (288, 64)


def n_matching(puzzles):
    """How many of the 288 grids agree with all givens of each puzzle (1 = unique solution)."""
    hits = F.one_hot(puzzles, 5)[..., 1:].flatten(1).float() @ onehot4.T  # (count, 288): givens matched
    return (hits == (puzzles > 0).sum(1, keepdim=True)).sum(1)


def shidoku(gen, count, givens, grid_ids, chunk=2048):
    """count unique puzzles (0 = empty) with a number of givens drawn from `givens`, and their solutions."""
    P_, Y_ = [], []
    while sum(len(p) for p in P_) < count:
        g = grids4[grid_ids[torch.randint(len(grid_ids), (chunk,), generator=gen)]]
        k = torch.tensor(givens)[torch.randint(len(givens), (chunk,), generator=gen)]
        keep = torch.rand(chunk, N4, generator=gen).argsort(1).argsort(1) < k[:, None]
        unique = n_matching(torch.where(keep, g, 0)) == 1
        P_.append(torch.where(keep, g, 0)[unique])
        Y_.append(g[unique])
    return torch.cat(P_)[:count], torch.cat(Y_)[:count]


# %%
split = torch.randperm(288, generator=runtime.generator(ctx.seeds[0], 1))
test_ids, train_ids = split[: P["s4_test_grids"]], split[P["s4_test_grids"] :]
Xte4, Yte4 = shidoku(runtime.generator(ctx.seeds[0], 2), P["s4_test"], P["s4_givens"], test_ids)
Xs, Ys = zip(*(shidoku(runtime.generator(s, 3), P["s4_iters"] * P["s4_batch"], P["s4_givens"], train_ids) for s in ctx.seeds))
Xtr4, Ytr4 = torch.stack(Xs), torch.stack(Ys)  # (S, iters * batch, 16): every update sees new puzzles


def batch4(it, B=P["s4_batch"]):
    """Update `it`'s puzzles, per seed its own: one-hot digits X (S, B, 16, 5), answers 0..3."""
    return F.one_hot(Xtr4[:, it * B : (it + 1) * B], 5).float().to(dev), (Ytr4[:, it * B : (it + 1) * B] - 1).to(dev)


print(f"{Xtr4.shape[1]} training puzzles per seed, {len(Xte4)} test puzzles, givens {P['s4_givens']}")

# %% [markdown]
# The recurrent model trains with $T = 6$ steps. The ablation is the same network trained with
# $T = 1$: one round of messages, which is a relational network with an LSTM node function. It gets
# the same number of updates on the same number of puzzles (so less compute: 1/6 per update).

# %%
t0 = time.process_time()
rrn4 = RRN(ctx.seeds, 5, P["s4_hidden"], 4, peers4).to(dev)
loss4, _ = train(rrn4, batch4, P["s4_train_steps"], P["s4_iters"], P["s4_lr"])
one4 = RRN(ctx.seeds, 5, P["s4_hidden"], 4, peers4).to(dev)
loss1, _ = train(one4, batch4, 1, P["s4_iters"], P["s4_lr"])
print(f"trained {S} seeds × 2 models, {P['s4_iters']} updates each, in {time.process_time() - t0:.1f} s CPU")

# %% [markdown]
# We run both models on the test puzzles for up to 24 steps (four times the 6 of training) and
# record, per step, which puzzles are solved completely.

# %%
@torch.no_grad()
def solved_by_step(model, Xp, Y, steps, n):
    """Per step and seed, whether each puzzle is fully right: (steps, S, count); and the predictions."""
    X = F.one_hot(Xp, n + 1).float().to(dev).expand(S, -1, -1, -1)
    pred = model(X, steps).argmax(-1).cpu() + 1  # (T, S, count, N)
    return (pred == Y).all(-1), pred


ok4, pred4 = solved_by_step(rrn4, Xte4, Yte4, P["s4_test_steps"], 4)
ok1, _ = solved_by_step(one4, Xte4, Yte4, 1, 4)
acc4 = ok4.float().mean(-1)  # (T, S)
T4 = P["s4_train_steps"]
giv4 = (Xte4 > 0).sum(1)
print("accuracy by step (mean over seeds):", {t: round(float(acc4[t - 1].mean()), 3) for t in (1, 2, 3, 4, 6, 12, 24)})

# %% [markdown]
# ### Accuracy grows with the steps (C1, C2)
#
# The paper's figure plots the fraction of solved puzzles against the step, one line per number of
# givens. Ours below is its 4×4 miniature; the dashed line marks the trained number of steps and
# the cross the one-step model.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.4, 3.4))
steps_axis = np.arange(1, P["s4_test_steps"] + 1)
for c, k in zip(plots.COLORBLIND, P["s4_givens"]):
    ax.plot(steps_axis, ok4[:, :, giv4 == k].float().mean((1, 2)), "o-", ms=3, color=c, label=f"{k} givens")
ax.plot([1], [ok1.float().mean()], "x", color="k", ms=9, label="1-step model")
ax.axvline(T4, color="k", ls="--", lw=0.8)
ax.set(xscale="log", xlabel="message-passing step", ylabel="puzzles solved", title="4×4 Sudoku: RRN trained with 6 steps")
ax.set_xticks([1, 2, 4, 6, 12, 24], labels=[1, 2, 4, 6, 12, 24])
ax.legend()
plt.show()

# %%
acc_T = acc4[T4 - 1]  # (S,)
drops = (acc4[:-1] - acc4[1:])[: T4 - 1].mean(1)
report.measure("C1", {"acc_trained": float(acc_T.mean()), "acc_trained_min": float(acc_T.min()),
                      "acc_by_givens": {str(k): float(ok4[T4 - 1][:, giv4 == k].float().mean()) for k in P["s4_givens"]}})  # fmt: skip
report.measure("C2", {"acc": {str(t): float(acc4[t - 1].mean()) for t in range(1, T4 + 1)},
                      "gain_2_to_T": float((acc4[T4 - 1] - acc4[1]).mean()), "max_drop": float(drops.max())})  # fmt: skip
runtime.glue("a20_accT", float(acc_T.mean()))
runtime.glue("a20_acc1", float(acc4[0].mean()))
runtime.glue("a20_acc2", float(acc4[1].mean()))
print(report.verdicts())

# %% [markdown]
# After one step almost nothing is solved ({glue:text}`a20_acc1:.3f`), after two steps
# {glue:text}`a20_acc2:.2f`, and at the trained sixth step {glue:text}`a20_accT:.3f` of the unseen
# puzzles. Puzzles with fewer givens need more steps: each step lets a cell hear about digits one
# hop further away, and a 4-given puzzle needs chains of deductions.
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
# six-step trajectory, running on could undo the answer. Instead the accuracy stays where it is
# and the answers stop changing: the recurrence has learned a fixed point.

# %%
changed = (pred4[2 * T4 - 1] != pred4[4 * T4 - 1]).float().mean()
acc_long = acc4[4 * T4 - 1]
report.measure("C3", {"acc_trained": float(acc_T.mean()), "acc_long": float(acc_long.mean()), "changed_cells": float(changed)})
print(f"acc at step {T4}: {acc_T.mean():.4f}, at step {4 * T4}: {acc_long.mean():.4f}; "
      f"cells changing between steps {2 * T4} and {4 * T4}: {changed:.2e}")  # fmt: skip

# %% [markdown]
# ### One step is not enough (C4)
#
# With one step a cell sees only the givens of its own row, column and box. The best such a model
# can do is to fill every cell whose digit follows from its neighbours' givens alone (the other
# three digits are all there) and guess the rest. The fraction of test puzzles where one such
# round of elimination fills every cell bounds what a one-step model can solve without luck.

# %%
def one_round(Xp):
    """Whether one round of 'naked singles' from the givens alone completes each puzzle."""
    seen = F.one_hot(Xp, 5)[:, :, 1:]  # (count, 16, 4): digit given at each cell
    around = seen[:, peers4].amax(2) | seen  # digits among the cell's peers and itself
    return ((Xp > 0) | (around.sum(-1) == 3)).all(-1)


bound = one_round(Xte4).float().mean()
acc_one = ok1.float().mean(-1)[0]
report.measure("C4", {"acc_one_step": float(acc_one.mean()), "one_round_bound": float(bound)})
runtime.glue("a20_one", float(acc_one.mean()))
runtime.glue("a20_bound", float(bound))
print(f"1-step model: {acc_one.tolist()} (per seed); one-round bound {bound:.3f}")

# %% [markdown]
# The one-step network solves {glue:text}`a20_one:.3f` of the puzzles, close to the
# {glue:text}`a20_bound:.3f` that one round of elimination allows: its failure is structural, not a
# lack of training. The recurrent network with the same weights and updates solves nearly all.
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
# pool. In the `ci` profile we only generate and check a few puzzles.

# %%
t0 = time.process_time()
demo_p, demo_s = sudoku.generate_puzzles(P["s9_demo"], 3, seed=ctx.seeds[0])
demo_unique = [sudoku.count_solutions(p, 3) == 1 for p in demo_p]
print(f"{P['s9_demo']} minimal 9x9 puzzles in {time.process_time() - t0:.2f} s; givens {(demo_p > 0).sum(1).tolist()}; unique: {demo_unique}")
print("\n".join(" ".join(str(v) if v else "." for v in row) for row in demo_p[0].reshape(9, 9)))


def pool(count, seed, workers=None):
    """count minimal 9x9 puzzles (and solutions), generated in parallel worker processes."""
    workers = workers or os.cpu_count() or 1
    if count == 0:
        return np.zeros((0, 81), np.int64), np.zeros((0, 81), np.int64)
    chunks = [(count // workers + (w < count % workers), 3, 1000 * seed + w) for w in range(workers)]
    with mp.get_context("fork").Pool(workers) as p:  # workers run numpy only, never CUDA
        parts = p.starmap(sudoku.generate_puzzles, [c for c in chunks if c[0]])
    return np.concatenate([a for a, _ in parts]), np.concatenate([s for _, s in parts])


# %% [markdown]
# The 9×9 network uses the paper's sizes (hidden 96, 32 training steps, batch 64, evaluation at
# 64 steps) [C], one seed (the first), Adam with a larger learning rate than the paper's $2\cdot10^{-4}$
# and no weight decay, because it trains for minutes instead of days [R].

# %%
peers9 = torch.as_tensor((e := sudoku.sudoku_edges(3))[np.argsort(e[:, 1], kind="stable"), 0].reshape(81, -1))
rng9 = np.random.default_rng(ctx.seeds[0])
if P["s9_iters"]:
    t0 = time.perf_counter()
    train9, test9 = pool(P["s9_train_pool"], ctx.seeds[0]), pool(P["s9_test_pool"], 10_000 + ctx.seeds[0])
    print(f"pools of {len(train9[0])} + {len(test9[0])} puzzles in {time.perf_counter() - t0:.0f} s")


def batch9(it, B=P["s9_batch"]):
    """Pool puzzles under random symmetries, with extra givens up to s9_max_givens."""
    idx = rng9.integers(len(train9[0]), size=B)
    pairs = np.stack([sudoku.random_symmetry(np.stack([train9[0][i], train9[1][i]]), 3, rng9) for i in idx])
    Xp, Y = pairs[:, 0], pairs[:, 1]
    Xp = np.stack([sudoku.add_givens(p, y, rng9.integers(0, max(1, P["s9_max_givens"] - (p > 0).sum() + 1)), rng9)
                   for p, y in zip(Xp, Y)])  # fmt: skip
    return F.one_hot(torch.as_tensor(Xp), 10).float()[None].to(dev), torch.as_tensor(Y - 1)[None].to(dev)


# %%
if P["s9_iters"]:
    t0 = time.perf_counter()
    rrn9 = RRN(ctx.seeds[:1], 10, P["s9_hidden"], 9, peers9, tag=9).to(dev)
    loss9, done9 = train(rrn9, batch9, P["s9_train_steps"], P["s9_iters"], P["s9_lr"], time_limit=P["s9_time_s"])
    tp, ts = test9
    Xt9 = torch.as_tensor(np.concatenate([np.stack([sudoku.add_givens(p, s, k, rng9) for p, s in zip(tp, ts)]) for k in P["s9_extra"]]))
    Yt9 = torch.as_tensor(np.concatenate([ts] * len(P["s9_extra"])))
    with torch.no_grad():
        ok9 = torch.cat([((rrn9(F.one_hot(Xt9[i : i + 500], 10).float()[None].to(dev), P["s9_test_steps"]).argmax(-1).cpu() + 1)
                          == Yt9[i : i + 500]).all(-1)[:, 0] for i in range(0, len(Xt9), 500)], 1)  # fmt: skip
    giv9, minimal9 = (Xt9 > 0).sum(1), torch.arange(len(Xt9)) < len(tp)
    print(f"{done9} updates in {time.perf_counter() - t0:.0f} s; acc at step 64 on minimal puzzles: {ok9[-1, minimal9].float().mean():.3f}")

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
if P["s9_iters"]:
    last = ok9[-1]
    by_givens = {str(g): float(last[giv9 == g].float().mean()) for g in range(int(giv9.min()), int(giv9.max()) + 1) if (giv9 == g).sum() >= 20}
    report.measure("C5", {"profile": ctx.profile, "acc_minimal": float(last[minimal9].float().mean()),
                          "acc_32plus": float(last[giv9 >= 32].float().mean()), "acc_by_givens": by_givens,
                          "updates": done9, "minimal_givens_mean": float(giv9[minimal9].float().mean())})  # fmt: skip
else:
    report.measure("C5", {"profile": ctx.profile, "generated": len(demo_p), "unique": int(sum(demo_unique)),
                          "consistent": int(all(np.array_equal(sudoku.solve(p, 3), s) for p, s in zip(demo_p, demo_s)))})  # fmt: skip
print(report.claims["C5"].verdict, report.claims["C5"].ours)

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
    """Node features (count, 8, 42) with the question appended, answers (count, 1), jumps, path."""
    pos = torch.zeros(0, 8, 2)
    while len(pos) < count:  # rejection sampling: no two objects closer than 0.1
        cand = torch.rand(4 * count, 8, 2, generator=gen)
        pos = torch.cat([pos, cand[(torch.cdist(cand, cand) + torch.eye(8)).amin((1, 2)) > 0.1]])
    pos = pos[:count]
    d = torch.cdist(pos, pos)
    colour, shape = torch.rand(count, 8, generator=gen).argsort(1), torch.rand(count, 8, generator=gen).argsort(1)
    start, jumps = torch.randint(8, (count,), generator=gen), torch.randint(8, (count,), generator=gen)
    by_colour = torch.rand(count, generator=gen) < 0.5
    path, visited, rows = [start], F.one_hot(start, 8).bool(), torch.arange(count)
    for _ in range(7):  # greedy walk: closest object not yet visited
        nxt = d[rows, path[-1]].masked_fill(visited, float("inf")).argmin(1)
        path.append(nxt)
        visited |= F.one_hot(nxt, 8).bool()
    target = torch.stack(path, 1)[rows, jumps]
    anchor = torch.where(by_colour, colour[rows, start], 8 + shape[rows, start])
    answer = torch.where(by_colour, 8 + shape[rows, target], colour[rows, target])
    q = torch.cat([F.one_hot(anchor, 16), F.one_hot(jumps, 8)], 1).float()
    X = torch.cat([pos, F.one_hot(colour, 8).float(), F.one_hot(shape, 8).float(), q[:, None].expand(-1, 8, -1)], 2)
    return X, answer[:, None], jumps, torch.stack(path, 1), pos


# %%
gens_pc = [runtime.generator(s, 5) for s in ctx.seeds]


def batch_pc(it, B=P["pc_batch"]):
    Xs, Ys, *_ = zip(*(pretty_clevr(g, B) for g in gens_pc))
    return torch.stack(Xs).to(dev), torch.stack(Ys).to(dev)


t0 = time.perf_counter()
rrn_pc = RRN(ctx.seeds, 42, P["pc_hidden"], 16, torch.arange(8).repeat(8, 1), graph_output=True, tag=5).to(dev)
loss_pc, done_pc = train(rrn_pc, batch_pc, P["pc_train_steps"], P["pc_iters"], P["pc_lr"], time_limit=P["pc_time_s"])
Xq, Yq, Jq, path_q, pos_q = pretty_clevr(runtime.generator(ctx.seeds[0], 6), P["pc_test"])
with torch.no_grad():
    okq = (rrn_pc(Xq.to(dev).expand(S, -1, -1, -1), P["pc_train_steps"]).argmax(-1).cpu()[..., 0] == Yq[:, 0])  # (T, S, count)
acc_q = torch.stack([okq[:, :, Jq == j].float().mean((1, 2)) for j in range(8)], 1)  # (T, jumps)
print(f"{done_pc} updates in {time.perf_counter() - t0:.1f} s; last-step accuracy by jumps: {acc_q[-1].numpy().round(3)}")

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
pc_result = {"profile": ctx.profile, "updates": done_pc}
if ctx.profile == "full":  # the ci smoke run's accuracies are untrained noise: not recorded
    pc_result |= {"acc_last_0": float(acc_q[-1, 0]), "gain_3plus": float((acc_q[-1, 3:] - acc_q[0, 3:]).mean()),
                  "acc_by_jumps_last": [float(a) for a in acc_q[-1]], "acc_by_jumps_step1": [float(a) for a in acc_q[0]]}
report.measure("C6", pc_result)
report.untestable("C7", "bAbI must be downloaded (Facebook Research), and the book builds offline")
print(report.verdicts())

# %% [markdown]
# ## Checks that do not depend on the run
#
# The constraint graphs, the enumeration, a known 9×9 puzzle, the batched uniqueness test against
# the library's solver on fixed puzzles, one Pretty-CLEVR walk on fixed positions, and the size of
# the models.

# %% tags=["nbval-check-output"]
print("edges 4x4 / 9x9:", len(edges4), len(sudoku.sudoku_edges(3)), "| peers of cell 0 (4x4):", sorted(peers4[0].tolist()))
print("4x4 grids:", len(grids4), "| one-round bound on the empty grid:", bool(one_round(torch.zeros(1, 16, dtype=torch.long))[0]))
known = np.array([int(c) for c in "530070000600195000098000060800060003400803001700020006060000280000419005000080079"])
print("known 9x9 puzzle: solutions", sudoku.count_solutions(known, 3), "| solved:", sudoku.is_solution(sudoku.solve(known, 3), 3))
fixed = torch.stack([torch.where(torch.arange(16) < k, grids4[7], 0) for k in range(2, 10)])  # first k cells of grid 7
batched = n_matching(fixed).tolist()
print("solutions of fixed prefixes, batched vs solver:", batched, [sudoku.count_solutions(p.numpy(), 2, limit=300) for p in fixed])
line = torch.tensor([[0.0, 0.0], [0.9, 0.0], [0.2, 0.0], [0.5, 0.0], [0.35, 0.0], [0.7, 0.0], [0.1, 0.0], [1.0, 0.0]])
dl = torch.cdist(line, line)
walk, seen = [0], {0}
for _ in range(7):
    walk.append(min((float(dl[walk[-1], j]), j) for j in range(8) if j not in seen)[1])
    seen.add(walk[-1])
print("greedy walk on a line from object 0:", walk)
sizes = {k: sum(p[0].numel() for p in m.parameters()) for k, m in
         {"4x4 (H=32)": RRN([0], 5, 32, 4, peers4), "9x9 (H=96)": RRN([0], 10, 96, 9, peers9)}.items()}  # fmt: skip
print("parameters per model:", sizes)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** 4×4 Sudoku with 4-6 givens instead of 9×9 with 17-34,
#   hidden size 32 instead of 96, 6 training steps instead of 32, 400 updates of 32 puzzles per
#   seed, 2 seeds trained as one batched model. The 4×4 task needs only a few steps, so claim C2
#   is tested over 1-6 steps rather than the paper's 64.
# - **9×9 (C5) and Pretty-CLEVR (C6) run only in the `full` profile** (one GPU, ≤ 8 minutes);
#   in `ci` the judge returns "not testable at this scale" after generating three 9×9 puzzles
#   and stepping the Pretty-CLEVR model three times. The `full` profile has not been executed for
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
#   for one step, trained with the same number of updates and puzzles (less compute).
# - **Not tested.** bAbI (C7): it must be downloaded.
#
# ## References
#
# ```{footbibliography}
# ```
