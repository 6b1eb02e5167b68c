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
# # A26 · Chaining operations through a global workspace
#
# The Global Workspace Theory {footcite}`baars1988cognitive` pictures the mind as many
# specialised modules that share one small stage: whatever is put on the stage is broadcast to
# all of them, and a sequence of such broadcasts can chain what the modules do, one step after
# another. VanRullen and Kanai proposed to build this in deep networks
# {footcite}`vanrullen2021deep`. Chateau-Laurent and VanRullen
# {footcite}`chateaulaurent2025chaining` test the idea on the smallest task that needs a chain:
# add two numbers $a + b$ by putting $a$ on the workspace with an **Input** module, applying an
# **Increment** module $b$ times, and reading the result with an **Output** module. A
# controller, an LSTM {footcite}`hochreiter1997long`, chooses at every step which module's
# output is gated into the workspace. It is trained on the answer alone, so whether it learns
# the program `IN → INC × b → OUT` is a finding, not a given. The paper builds two versions:
# hand-designed modules on one-hot digits, and learned modules on MNIST images; and it compares
# the workspace with an LSTM and a Transformer {footcite}`vaswani2017attention` on additions
# never seen in training.
#
# We build both versions. The image version uses the 8×8 handwritten digits that ship with
# scikit-learn {footcite}`alpaydin1998optdigits` **as a substitute for MNIST** (no download).
# We check the program the controller executes, not only its answers, and compare it with an
# LSTM and a Transformer (`torch.nn.TransformerEncoder`) that have more parameters, on
# interpolation and extrapolation splits. Only the abstract and the opening of the paper's
# introduction were available to us; the architecture details below are ours [R], and the
# paper's accuracies are not quoted because we could not read them.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "the controller (a LSTM recurrent network) learns to select the appropriate modules
#   (input, increment, output) in the appropriate sequence": the *executed* program, with hard
#   gates, is `IN, INC × b, OUT`. **C1a** one-hot version, **C1b** image version ("here again,
#   the controller learns the appropriate sequential module selection").
# - **C2** "outperforms LSTMs and Transformers when tested on unseen addition operations
#   (... interpolations ...)": **C2a** one-hot, **C2b** image.
# - **C3** the same for "extrapolations of addition operations seen during training": **C3a**
#   one-hot, **C3b** image.
# - **C4** "while having fewer parameters" (construction: counted).
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import copy
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from rnnbook import claims, plots, runtime

ctx = runtime.setup(
    "a26", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4, 5, 6, 7]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(gw_iters=300, gw_batch=64, gw_lr=1e-2, ctrl_hidden=32,
            latent=16, rep_iters=300, inc_iters=300, rep_lr=1e-2,
            base_iters=300, base_batch=64, base_lr=3e-3,
            lstm_hidden=64, tf_dim=32, tf_layers=2, tf_heads=4,
            test_per_pair=20),
    full=dict(gw_iters=1500, gw_batch=128, gw_lr=5e-3, ctrl_hidden=32,
              latent=16, rep_iters=1500, inc_iters=1500, rep_lr=5e-3,
              base_iters=1500, base_batch=128, base_lr=2e-3,
              lstm_hidden=64, tf_dim=32, tf_layers=2, tf_heads=4,
              test_per_pair=100),
)  # fmt: skip
S = len(ctx.seeds)
N = 10  # digits 0..9; every sum a + b is a digit too
IN, INC, OUT = 0, 1, 2  # the three modules
NAMES = ["IN", "INC", "OUT"]
T = N + 1  # steps: IN, up to 9 INC, OUT

# %% [markdown]
# ## The task and what "interpolation" and "extrapolation" mean here
#
# Every item is a pair $(a, b)$ of digits with $a + b \le 9$ (55 pairs), so that every sum is
# itself a digit: in the image version the workspace then always holds something a digit module
# can read, as MNIST modules do in the paper. The answer is $a + b$ as one of 10 classes.
#
# The paper's abstract speaks of "unseen addition operations (both interpolations and
# extrapolations of addition operations seen during training)". We read an *operation* as a
# pair $(a, b)$, the operation "+ b" applied to $a$. An **interpolation** is an unseen pair
# inside the range of the training pairs; an **extrapolation** is an unseen pair outside that
# range, made of parts seen in training. Which parts can be extrapolated? The controller learns
# from the code of $b$ (a one-hot vector, or an image) how many increments to apply. A value of
# $b$ never seen in training is an input the controller has never been trained on (a one-hot
# unit with untrained weights), so extrapolation along $b$ (longer programs) cannot be what any
# of the three models is expected to do from these inputs. We therefore extrapolate along the
# first addend:
#
# - **training range**: $a \le 5$ (all $b$ with $a + b \le 9$, so every $b$ from 0 to 9 and
#   every sum from 0 to 9 is seen in training, and the Increment module is used on every
#   digit from 0 to 8);
# - **interpolation**: 9 pairs drawn per seed from the interior of the training range
#   ($1 \le a \le 4$, $b \ge 1$, $a + b \le 8$) and held out from training;
# - **extrapolation**: the 10 pairs with $a \ge 6$: first addends never used as a first addend
#   in training, applied to increments that were.
#
# The paper's keywords include "length generalization", which fits extrapolation along $b$
# better; if the paper's split is along $b$, our C3 tests a different split (see the
# differences at the end).

# %%
PAIRS = torch.tensor([(a, b) for a in range(N) for b in range(N)
                      if a + b < N])
A_MAX, N_HOLD = 5, 9


def splits(seed):
    """Boolean masks over PAIRS: train, interpolation, extrapolation."""
    a, b = PAIRS[:, 0], PAIRS[:, 1]
    region = a <= A_MAX
    interior = region & (a >= 1) & (b >= 1) & (a + b <= N - 2)
    inner = torch.nonzero(interior)[:, 0]
    pick = torch.randperm(len(inner), generator=runtime.generator(seed, 1))
    interp = torch.zeros(len(PAIRS), dtype=torch.bool)
    interp[inner[pick[:N_HOLD]]] = True
    return region & ~interp, interp, ~region


TR, IP, EX = (torch.stack(m) for m in zip(*(splits(s) for s in ctx.seeds)))
print(f"{len(PAIRS)} pairs; per seed: {int(TR[0].sum())} train, "
      f"{int(IP[0].sum())} interpolation, "
      f"{int(EX[0].sum())} extrapolation")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(4.2, 3.6))
grid = np.full((N, N), np.nan)
for k, (a, b) in enumerate(PAIRS.tolist()):
    grid[b, a] = 0 if TR[0, k] else (1 if IP[0, k] else 2)
cmap = plt.matplotlib.colors.ListedColormap(plots.COLORBLIND[:3])
ax.imshow(grid, origin="lower", cmap=cmap, vmin=-0.5, vmax=2.5)
for lab, c in zip(["train", "interpolation", "extrapolation"],
                  plots.COLORBLIND[:3]):
    ax.scatter([], [], color=c, marker="s", label=lab)
ax.set(xlabel="first addend a", ylabel="second addend b (INC steps)",
       xticks=range(N), yticks=range(N),
       title=f"split of seed {ctx.seeds[0]}")
ax.grid(False)
ax.legend(fontsize=7, loc="upper right")
plt.show()

# %% [markdown]
# ## Claims and rules
#
# The rules are fixed here, before anything is trained. C1's 0.95 (share of items whose executed
# program is exactly right) is the research notes' rule; in the image version the controller
# reads $b$ from a handwritten digit through a small classifier that misreads a few percent of
# test digits, so we lower it to 0.9 there, and the accuracy rules from 0.9 to 0.8 (two digits
# must be read). The margins over the best baseline, 0.1 for interpolation and 0.3 for
# extrapolation, are the notes' rules. A claim is "partly" reproduced if the workspace reaches
# its own accuracy but the margin over the baselines is short (declared below). Controls: for
# C1 the untrained controller (its initialisation); for C2 and C3 the trained workspace with
# its routing **shuffled**: the controller is given the code of another item's $b$, so it runs
# a valid program for the wrong number of increments. The parameter count (C4) is a
# construction: it cannot fail unless the code changes.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Chaining operations through a global workspace")
E, CTL, CTX = claims.evidence, claims.control, claims.context
NOPAPER = "not quoted (the paper's figures were not available to us)"
report.claim(
    "C1a", "The controller learns the program IN, INC × b, OUT (one-hot modules).",
    kind="empirical", paper="learns the appropriate sequence; " + NOPAPER,
    checks=[
        E("prog", ">=", 0.95, "executed program exactly right, all 55 pairs", tol=0.02),
        CTL("untrained_prog", "prog", "the untrained controller", tol=0.02),
        CTX("prog_min", "the same, worst seed", over="min", tol=0.05),
        CTX("minimal", "share of programs with a single IN", tol=0.2),
        CTX("answer", "answer right, all 55 pairs", tol=0.02),
    ])
report.claim(
    "C1b", "The controller learns the program IN, INC × b, OUT (image modules, 8×8 digits).",
    kind="empirical", paper="learns the appropriate sequence (MNIST); " + NOPAPER,
    checks=[
        E("prog", ">=", 0.9, "executed program exactly right, test images, all pairs",
          tol=0.05),
        CTL("untrained_prog", "prog", "the untrained controller", tol=0.02),
        CTX("digit_acc", "the digit module's accuracy on test digits", tol=0.02),
        CTX("answer", "answer right, test images, all pairs", tol=0.03),
    ])
for cid, ver, thr in (("C2a", "one-hot", 0.9), ("C2b", "image", 0.8)):
    report.claim(
        cid, f"The workspace beats an LSTM and a Transformer on interpolation ({ver}).",
        kind="empirical", paper="outperforms LSTMs and Transformers; " + NOPAPER,
        partial=["gw"],
        checks=[
            E("gw", ">=", thr, "workspace accuracy, interpolation pairs", tol=0.05),
            E("gap", ">=", 0.1, "workspace − best baseline", tol=0.2),
            CTL("shuffled_gw", "gw", "routing shuffled across items", tol=0.2),
            CTL("shuffled_gap", "gap", "routing shuffled − best baseline", tol=0.5),
            CTX("lstm", "LSTM accuracy", tol=0.2),
            CTX("transformer", "Transformer accuracy", tol=0.2),
        ])
for cid, ver, thr in (("C3a", "one-hot", 0.9), ("C3b", "image", 0.8)):
    report.claim(
        cid, f"The workspace beats an LSTM and a Transformer on extrapolation ({ver}).",
        kind="empirical", paper="outperforms LSTMs and Transformers; " + NOPAPER,
        partial=["gw"],
        checks=[
            E("gw", ">=", thr, "workspace accuracy, extrapolation pairs (a ≥ 6)", tol=0.05),
            E("gap", ">=", 0.3, "workspace − best baseline", tol=0.2),
            CTL("shuffled_gw", "gw", "routing shuffled across items", tol=0.1),
            CTL("shuffled_gap", "gap", "routing shuffled − best baseline", tol=0.1),
            CTX("lstm", "LSTM accuracy", tol=0.5),
            CTX("transformer", "Transformer accuracy", tol=0.2),
        ])
report.claim(
    "C4", "The workspace model has fewer trained parameters than the LSTM and the Transformer.",
    kind="construction", paper="fewer parameters (counts not quoted)",
    checks=[
        E("ratio_onehot", "<", 1, "workspace / smallest baseline, one-hot"),
        E("ratio_image", "<", 1, "workspace / smallest baseline, image"),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The model
#
# The workspace holds one vector $w_t$. At step $t$ the controller, an LSTM with hidden size
# 32, receives the code of $b$ and its own previous gate vector, and outputs gates
# $g_t = \mathrm{softmax}(\cdot)$ over the three modules. The workspace becomes
#
# $$w_t = g_t^{\mathrm{IN}}\, \mathrm{enc}(a) + g_t^{\mathrm{INC}}\, \mathrm{inc}(w_{t-1})
#        + g_t^{\mathrm{OUT}}\, w_{t-1},$$
#
# starting from $w_0 = 0$. When the controller selects OUT, the Output module reads the
# workspace and the model answers; we let the answer be the first OUT, written softly as the
# probability $\pi_t = g_t^{\mathrm{OUT}} \prod_{s<t} (1 - g_s^{\mathrm{OUT}})$ of stopping at
# $t$, and train on $-\log \sum_t \pi_t\, p_t(a+b)$, where $p_t$ is the Output module's reading
# of $w_{t-1}$ (a model that never selects OUT gives no answer) [R]. A small entropy penalty
# (0.01) on the gates pushes them to one module at a time [R]. At test time the gates are hard
# (the argmax module), so the model runs a discrete program, which we read out and check.
#
# - **One-hot version.** $\mathrm{enc}(a)$ is the one-hot code of $a$, Increment shifts the
#   one-hot vector by one place, and Output reads the vector as the answer's probabilities;
#   none of them has parameters. Only the controller is trained.
# - **Image version.** A digit module (encoder 64 → 32 → 16, tanh, and a linear read-out to 10
#   classes) is first trained to classify digit images, alone, and frozen. Its *reading* of an
#   image (the 10 class probabilities) is the Input module's output, so the workspace is a
#   10-dimensional space of readings, and the Output module reads the workspace as the
#   answer's probabilities. The controller is given the reading of $b$'s image. The Increment
#   module is a learned linear map of the workspace (10 × 10, no bias), trained on its own
#   objective before the controller: from the reading of a digit $k \le 5$ (the first addends of
#   the training range), $t$ increments must give the one-hot code of $k + t$, in squared
#   error. Then the controller is trained on the addition objective with all modules frozen.
#   How we got to this design is told at the end of the section on the image version.
#
# All seeds are trained at once: each tensor of weights has a leading seed axis, and the loss is
# the sum of the seeds' losses, so each seed's Adam is its own.

# %%
def uinit(shape, bound, gen):
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


class SLinear(nn.Module):
    """One affine map per seed: x (S, B, i) -> (S, B, o)."""

    def __init__(self, n_in, n_out, tag):
        super().__init__()
        gens = [runtime.generator(s, tag) for s in ctx.seeds]
        k = 1 / math.sqrt(n_in)
        self.W = nn.Parameter(torch.stack(
            [uinit((n_in, n_out), k, g) for g in gens]))
        self.b = nn.Parameter(torch.stack(
            [uinit((1, n_out), k, g) for g in gens]))

    def forward(self, x):
        return torch.baddbmm(self.b, x, self.W)


class SLSTMCell(nn.Module):
    """One LSTM cell per seed (torch.nn.LSTMCell's equations)."""

    def __init__(self, n_in, hidden, tag):
        super().__init__()
        self.hidden = hidden
        self.lin = SLinear(n_in + hidden, 4 * hidden, tag)

    def forward(self, x, state):
        h, c = state
        i, f, g, o = self.lin(torch.cat([x, h], -1)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class Controller(nn.Module):
    def __init__(self, n_code, hidden, tag):
        super().__init__()
        self.cell = SLSTMCell(n_code + 3, hidden, tag)
        self.head = SLinear(hidden, 3, tag + 1)


def n_params(module):
    """Parameters of one seed's model."""
    return sum(p[0].numel() for p in module.parameters())


# %%
def run_gw(ctrl, enc_a, code_b, inc, read, hard=False):
    """Run the workspace for T steps.

    enc_a: (S, B, D) Input module's output; code_b: (S, B, C) what the
    controller is told. Returns the answer probabilities (S, B, N) and
    the gates (S, B, T, 3).
    """
    h = enc_a.new_zeros(*code_b.shape[:2], ctrl.cell.hidden)
    c, g = torch.zeros_like(h), enc_a.new_zeros(*code_b.shape[:2], 3)
    w = torch.zeros_like(enc_a)
    alive = enc_a.new_ones(*code_b.shape[:2], 1)
    answer, gates = 0.0, []
    for _ in range(T):
        h, c = ctrl.cell(torch.cat([code_b, g], -1), (h, c))
        logits = ctrl.head(h)
        g = (F.one_hot(logits.argmax(-1), 3).to(w.dtype) if hard
             else torch.softmax(logits, -1))
        gates.append(g)
        stop = alive * g[..., OUT:]
        answer = answer + stop * read(w)  # Output reads the workspace
        alive = alive - stop
        w = (g[..., IN:IN + 1] * enc_a + g[..., INC:INC + 1] * inc(w)
             + g[..., OUT:] * w)
    return answer, torch.stack(gates, 2)


def program_ok(gates, b):
    """Executed program (hard gates) up to the first OUT is IN+ INC^b OUT.

    Repeated IN at the start reloads the same a (idempotent); anything
    else (an INC before the first IN, an IN after an INC, a wrong number
    of INC, no OUT) is a wrong program. Returns (ok, minimal) per item.
    """
    ch = gates.argmax(-1).cpu()  # (S, B, T)
    b = b.cpu()
    is_out = ch == OUT
    first_out = torch.where(is_out.any(-1), is_out.float().argmax(-1),
                            torch.full_like(b, T))
    t = torch.arange(T)
    before = t < first_out[..., None]
    n_inc = ((ch == INC) & before).sum(-1)
    n_in = ((ch == IN) & before).sum(-1)
    # all INs come first: no IN after the first INC
    first_inc = torch.where(((ch == INC) & before).any(-1),
                            ((ch == INC) & before).float().argmax(-1),
                            first_out)
    late_in = ((ch == IN) & before & (t >= first_inc[..., None])).any(-1)
    ok = ((first_out < T) & (n_inc == b) & (n_in >= 1) & ~late_in
          & (ch[..., 0] == IN))
    return ok, ok & (n_in == 1)


def train_gw(ctrl, batch_fn, extra=()):
    params = list(ctrl.parameters()) + [p for m in extra
                                        for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=P["gw_lr"])
    for it in range(P["gw_iters"]):
        enc_a, code_b, y, inc, read = batch_fn(it)
        answer, gates = run_gw(ctrl, enc_a, code_b, inc, read)
        nll = -torch.log(answer.gather(-1, y[..., None])[..., 0] + 1e-6)
        ent = -(gates * torch.log(gates + 1e-9)).sum(-1).mean((1, 2))
        loss = (nll.mean(1) + 0.01 * ent).sum()  # sum over seeds
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(nll.detach().mean())


# %% [markdown]
# ### Baselines
#
# Both read the two addends as a sequence of two tokens (the one-hot codes, or in the image
# version the digit module's readings, so that all three models see the same perception) and
# classify the sum. The LSTM has 64 hidden units. The Transformer is
# `torch.nn.TransformerEncoder` with 2 layers of width 32, 4 heads, feed-forward width 64, a
# linear token embedding, learned positions and a mean-pooled read-out; no dropout. Both have
# more trained parameters than the workspace model (C4). They train with Adam on the same
# training pairs, for the same number of updates as the workspace.

# %%
class LSTMBaseline(nn.Module):
    def __init__(self, n_in, tag):
        super().__init__()
        self.cell = SLSTMCell(n_in, P["lstm_hidden"], tag)
        self.head = SLinear(P["lstm_hidden"], N, tag + 1)

    def forward(self, x):  # x (S, B, 2, D)
        h = x.new_zeros(*x.shape[:2], self.cell.hidden)
        state = (h, torch.zeros_like(h))
        for k in range(x.shape[2]):
            state = self.cell(x[:, :, k], state)
        return self.head(state[0])


class TFBaseline(nn.Module):
    def __init__(self, n_in):
        super().__init__()
        d = P["tf_dim"]
        self.emb = nn.Linear(n_in, d)
        self.pos = nn.Parameter(0.1 * torch.randn(2, d))
        layer = nn.TransformerEncoderLayer(
            d, P["tf_heads"], 2 * d, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, P["tf_layers"],
                                         enable_nested_tensor=False)
        self.head = nn.Linear(d, N)

    def forward(self, x):  # x (B, 2, D)
        return self.head(self.enc(self.emb(x) + self.pos).mean(1))


def make_tfs(n_in, tag):
    """One Transformer per seed (initialised from that seed's stream)."""
    out = []
    for s in ctx.seeds:
        torch.manual_seed(1_000_003 * s + tag)
        out.append(TFBaseline(n_in).to(dev))
    return out


def train_baselines(lstm, tfs, batch_fn):
    """Train the stacked LSTMs and the per-seed Transformers."""
    opt = torch.optim.Adam(
        list(lstm.parameters()) + [p for m in tfs for p in m.parameters()],
        lr=P["base_lr"])
    for it in range(P["base_iters"]):
        x, y = batch_fn(it)  # (S, B, 2, D), (S, B)
        loss = F.cross_entropy(lstm(x).flatten(0, 1), y.flatten(),
                               reduction="sum") / y.shape[1]
        for k, m in enumerate(tfs):
            loss = loss + F.cross_entropy(m(x[k]), y[k])
        opt.zero_grad()
        loss.backward()
        opt.step()


@torch.no_grad()
def baseline_answers(lstm, tfs, x):
    return (lstm(x).argmax(-1).cpu(),
            torch.stack([m(x[k]).argmax(-1) for k, m in enumerate(tfs)]
                        ).cpu())


# %% [markdown]
# ## One-hot version (C1a, C2a, C3a)

# %%
def onehot(v):
    return F.one_hot(v, N).float().to(dev)


def shift(w):
    """The hand-designed Increment: one-hot k -> one-hot k + 1."""
    return F.pad(w[..., :-1], (1, 0))


def read_onehot(w):
    return w.clamp(min=0)


gens_oh = [runtime.generator(s, 2) for s in ctx.seeds]


def draw_pairs(it, batch):
    """A batch of training pairs per seed, (S, B, 2)."""
    rows = []
    for k, g in enumerate(gens_oh):
        idx = torch.nonzero(TR[k])[:, 0]
        rows.append(idx[torch.randint(len(idx), (batch,), generator=g)])
    return PAIRS[torch.stack(rows)]


def batch_gw_oh(it):
    ab = draw_pairs(it, P["gw_batch"]).to(dev)
    return (onehot(ab[..., 0]), onehot(ab[..., 1]), ab.sum(-1), shift,
            read_onehot)


t0 = time.process_time()
ctrl_oh = Controller(N, P["ctrl_hidden"], tag=10).to(dev)
ctrl_oh0 = copy.deepcopy(ctrl_oh)  # the untrained control
nll_oh = train_gw(ctrl_oh, batch_gw_oh)
t_gw_oh = time.process_time() - t0
print(f"workspace (one-hot): final loss {nll_oh:.4f}, {t_gw_oh:.1f} s CPU")

# %%
A_ALL = PAIRS[:, 0].expand(S, -1)
B_ALL = PAIRS[:, 1].expand(S, -1)
Y_ALL = A_ALL + B_ALL
perm = torch.stack([torch.randperm(len(PAIRS),
                                   generator=runtime.generator(s, 3))
                    for s in ctx.seeds])
B_SHUF = torch.gather(B_ALL, 1, perm)  # another item's b


@torch.no_grad()
def eval_gw_oh(ctrl, b_code):
    ans, gates = run_gw(ctrl, onehot(A_ALL), onehot(b_code), shift,
                        read_onehot, hard=True)
    ok_prog, minimal = program_ok(gates, B_ALL)
    return (ans.argmax(-1).cpu() == Y_ALL), ok_prog, minimal, gates.cpu()


ok_oh, prog_oh, min_oh, gates_oh = eval_gw_oh(ctrl_oh, B_ALL)
_, prog_oh0, _, _ = eval_gw_oh(ctrl_oh0, B_ALL)
ok_oh_shuf, *_ = eval_gw_oh(ctrl_oh, B_SHUF)
print("programs right per seed:", prog_oh.float().mean(1).tolist())

# %%
def batch_base_oh(it):
    ab = draw_pairs(it, P["base_batch"]).to(dev)
    return torch.stack([onehot(ab[..., 0]), onehot(ab[..., 1])], 2), \
        ab.sum(-1)


t0 = time.process_time()
lstm_oh = LSTMBaseline(N, tag=20).to(dev)
tfs_oh = make_tfs(N, tag=30)
train_baselines(lstm_oh, tfs_oh, batch_base_oh)
X_ALL = torch.stack([onehot(A_ALL), onehot(B_ALL)], 2)
ok_lstm_oh, ok_tf_oh = (p == Y_ALL for p in
                        baseline_answers(lstm_oh, tfs_oh, X_ALL))
print(f"baselines (one-hot): {time.process_time() - t0:.1f} s CPU")


# %%
def split_acc(ok, mask):
    """Per-seed accuracy over the pairs of a split, (S,) list."""
    ok, mask = ok.float(), mask.float()
    return ((ok * mask).sum(-1) / mask.sum(-1)).tolist()


def compare(cid, ok_gw, ok_shuf, ok_lstm, ok_tf, mask):
    gw, sh = split_acc(ok_gw, mask), split_acc(ok_shuf, mask)
    ls, tf = split_acc(ok_lstm, mask), split_acc(ok_tf, mask)
    best = [max(x, y) for x, y in zip(ls, tf)]
    report.measure(
        cid, gw=gw, gap=[g - m for g, m in zip(gw, best)],
        shuffled_gw=sh, shuffled_gap=[g - m for g, m in zip(sh, best)],
        lstm=ls, transformer=tf)
    return dict(workspace=gw, LSTM=ls, Transformer=tf, shuffled=sh)


report.measure(
    "C1a", prog=prog_oh.float().mean(1).tolist(),
    untrained_prog=prog_oh0.float().mean(1).tolist(),
    prog_min=prog_oh.float().mean(1).tolist(),
    minimal=min_oh.float().mean(1).tolist(),
    answer=ok_oh.float().mean(1).tolist())
acc_oh = {
    "interpolation": compare("C2a", ok_oh, ok_oh_shuf, ok_lstm_oh,
                             ok_tf_oh, IP),
    "extrapolation": compare("C3a", ok_oh, ok_oh_shuf, ok_lstm_oh,
                             ok_tf_oh, EX),
    "train": dict(workspace=split_acc(ok_oh, TR),
                  LSTM=split_acc(ok_lstm_oh, TR),
                  Transformer=split_acc(ok_tf_oh, TR))}
for cid in ("C1a", "C2a", "C3a"):
    print(cid, report.verdict(cid))
for split in ("interpolation", "extrapolation"):
    print(split, {k: np.round(v, 2).tolist()
                  for k, v in acc_oh[split].items()})

# %% [markdown]
# The executed programs of the first seed's controller, one row per value of $b$ (the
# program does not depend on $a$; we show $a = 0$), hard gates. Each row should read
# `IN`, then $b$ times `INC`, then `OUT`; what comes after the first `OUT` is never executed.

# %% tags=["hide-input"]
def show_programs(ax, gates, title):
    rows = [int(torch.nonzero((PAIRS[:, 0] == 0) & (PAIRS[:, 1] == b))[0])
            for b in range(N)]
    ch = gates[0, rows].argmax(-1).numpy().astype(float)
    for r in range(N):  # grey out what follows the first OUT
        outs = np.nonzero(ch[r] == OUT)[0]
        if len(outs):
            ch[r, outs[0] + 1:] = np.nan
    cmap = plt.matplotlib.colors.ListedColormap(plots.COLORBLIND[3:6])
    ax.imshow(ch, cmap=cmap, vmin=-0.5, vmax=2.5, aspect="auto",
              origin="lower")
    for r in range(N):
        for t in range(T):
            if not np.isnan(ch[r, t]):
                ax.text(t, r, NAMES[int(ch[r, t])][:3], ha="center",
                        va="center", fontsize=6)
    ax.set(xlabel="step", ylabel="b", yticks=range(N), title=title)
    ax.grid(False)


fig, ax = plt.subplots(figsize=(6.5, 3.4))
show_programs(ax, gates_oh, f"one-hot controller, seed {ctx.seeds[0]}")
plt.show()

# %% [markdown]
# ## Image version (C1b, C2b, C3b)
#
# The digits are split once per seed, half of each class for training (the digit module, and
# the images drawn during addition training) and half for testing. The test items are
# `test_per_pair` random pairs of test images for each of the 55 pairs.

# %%
digits = load_digits()
IMG = torch.tensor(digits.data, dtype=torch.float32) / 16.0
LAB = torch.tensor(digits.target)


def image_split(seed):
    g = runtime.generator(seed, 4)
    train = torch.zeros(len(LAB), dtype=torch.bool)
    for c in range(N):
        idx = torch.nonzero(LAB == c)[:, 0]
        train[idx[torch.randperm(len(idx), generator=g)[:len(idx) // 2]]] \
            = True
    return train


IMG_TR = torch.stack([image_split(s) for s in ctx.seeds])  # (S, 1797)
by_class = [[torch.nonzero((LAB == c) & IMG_TR[k])[:, 0]
             for c in range(N)] for k in range(S)]
by_class_te = [[torch.nonzero((LAB == c) & ~IMG_TR[k])[:, 0]
                for c in range(N)] for k in range(S)]


def draw_images(cls, pools, gen):
    """One image index per entry of cls (S, B), drawn from pools."""
    out = torch.empty_like(cls)
    for k in range(cls.shape[0]):
        for c in range(N):
            sel = cls[k] == c
            if sel.any():
                pool = pools[k][c]
                out[k, sel] = pool[torch.randint(
                    len(pool), (int(sel.sum()),), generator=gen)]
    return out


class DigitModule(nn.Module):
    """Encoder (Input module) and read-out (Output module), per seed."""

    def __init__(self, tag):
        super().__init__()
        self.e1 = SLinear(64, 32, tag)
        self.e2 = SLinear(32, P["latent"], tag + 1)
        self.out = SLinear(P["latent"], N, tag + 2)

    def encode(self, x):
        return torch.tanh(self.e2(torch.tanh(self.e1(x))))


t0 = time.process_time()
digit = DigitModule(tag=40).to(dev)
opt = torch.optim.Adam(digit.parameters(), lr=P["rep_lr"])
g_rep = runtime.generator(ctx.seeds[0], 5)
pool_tr = [torch.nonzero(IMG_TR[k])[:, 0] for k in range(S)]
for _ in range(P["rep_iters"]):
    idx = torch.stack([p[torch.randint(len(p), (128,), generator=g_rep)]
                       for p in pool_tr])
    logits = digit.out(digit.encode(IMG[idx].to(dev)))
    loss = F.cross_entropy(logits.flatten(0, 1),
                           LAB[idx].flatten().to(dev),
                           reduction="sum") / 128
    opt.zero_grad()
    loss.backward()
    opt.step()
digit.requires_grad_(False)
with torch.no_grad():
    pool_te = [torch.nonzero(~IMG_TR[k])[:, 0] for k in range(S)]
    digit_acc = [float((digit.out(digit.encode(IMG[p].to(dev)[None]
                                               .expand(S, -1, -1)))[k]
                        .argmax(-1).cpu() == LAB[p]).float().mean())
                 for k, p in enumerate(pool_te)]
print(f"digit module: test accuracy {np.round(digit_acc, 3)}, "
      f"{time.process_time() - t0:.1f} s CPU")


# %%
def encode(idx):
    """Frozen codes of images idx (S, B) -> (S, B, latent)."""
    return digit.encode(IMG[idx].to(dev))


def reading(idx):
    """The digit module's reading of images idx (S, B): (S, B, 10)
    class probabilities. The Input module's output, and what the
    controller and the baselines are given."""
    return torch.softmax(digit.out(encode(idx)), -1)


class Increment(nn.Module):
    """A learned linear map on the 10-d workspace, one per seed."""

    def __init__(self, tag):
        super().__init__()
        self.M = nn.Parameter(torch.stack(
            [uinit((N, N), 1 / math.sqrt(N), runtime.generator(s, tag))
             for s in ctx.seeds]))

    def forward(self, w):
        return torch.bmm(w, self.M)


gen_img = runtime.generator(ctx.seeds[0], 6)


def image_batch(it, batch):
    ab = draw_pairs(it, batch)
    ia = draw_images(ab[..., 0], by_class, gen_img)
    ib = draw_images(ab[..., 1], by_class, gen_img)
    return reading(ia), reading(ib), ab.sum(-1).to(dev)


def train_increment(inc):
    """The Increment module's own objective: from the Input module's
    reading of a digit k <= A_MAX (the first addends of the training
    range), every chain of t increments must give the one-hot code of
    k + t (while k + t <= 9), in squared error."""
    opt = torch.optim.Adam(inc.parameters(), lr=P["rep_lr"])
    for _ in range(P["inc_iters"]):
        k = torch.randint(A_MAX + 1, (S, P["gw_batch"]), generator=gen_img)
        z = reading(draw_images(k, by_class, gen_img))
        k = k.to(dev)
        loss = 0.0
        for t in range(1, N):
            z = inc(z)
            valid = (k + t < N).float()
            err = (z - F.one_hot((k + t).clamp(max=N - 1), N)).pow(2)
            loss = loss + (err.sum(-1) * valid).sum() / P["gw_batch"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    inc.requires_grad_(False)
    return float(loss.detach()) / S


t0 = time.process_time()
inc_img = Increment(tag=50).to(dev)
inc_loss = train_increment(inc_img)
print(f"increment module: final loss {inc_loss:.3f}, "
      f"{time.process_time() - t0:.1f} s CPU")


def batch_gw_img(it):
    za, zb, y = image_batch(it, P["gw_batch"])
    return za, zb, y, inc_img, read_onehot


t0 = time.process_time()
ctrl_img = Controller(N, P["ctrl_hidden"], tag=60).to(dev)
ctrl_img0 = copy.deepcopy(ctrl_img)
nll_img = train_gw(ctrl_img, batch_gw_img)
t_gw_img = time.process_time() - t0
print(f"workspace (image): final loss {nll_img:.4f}, {t_gw_img:.1f} s CPU")

# %%
REP = P["test_per_pair"]
item = torch.arange(len(PAIRS)).repeat_interleave(REP)  # test items
A_TE = PAIRS[item, 0].expand(S, -1)
B_TE = PAIRS[item, 1].expand(S, -1)
Y_TE = A_TE + B_TE
gen_te = runtime.generator(ctx.seeds[0], 7)
IA_TE = draw_images(A_TE.contiguous(), by_class_te, gen_te)
IB_TE = draw_images(B_TE.contiguous(), by_class_te, gen_te)
perm_te = torch.stack([torch.randperm(len(item),
                                      generator=runtime.generator(s, 8))
                       for s in ctx.seeds])
IB_SHUF = torch.gather(IB_TE, 1, perm_te)
TR_TE, IP_TE, EX_TE = (m[:, item] for m in (TR, IP, EX))


@torch.no_grad()
def eval_gw_img(ctrl, ib):
    ans, gates = run_gw(ctrl, reading(IA_TE), reading(ib), inc_img,
                        read_onehot, hard=True)
    ok_prog, _ = program_ok(gates, B_TE)
    return ans.argmax(-1).cpu() == Y_TE, ok_prog


ok_img, prog_img = eval_gw_img(ctrl_img, IB_TE)
_, prog_img0 = eval_gw_img(ctrl_img0, IB_TE)
ok_img_shuf, _ = eval_gw_img(ctrl_img, IB_SHUF)
print("programs right per seed:", prog_img.float().mean(1).tolist())


# %%
def batch_base_img(it):
    za, zb, y = image_batch(it, P["base_batch"])
    return torch.stack([za, zb], 2), y


t0 = time.process_time()
lstm_img = LSTMBaseline(N, tag=70).to(dev)
tfs_img = make_tfs(N, tag=80)
train_baselines(lstm_img, tfs_img, batch_base_img)
with torch.no_grad():
    X_TE = torch.stack([reading(IA_TE), reading(IB_TE)], 2)
ok_lstm_img, ok_tf_img = (p == Y_TE for p in
                          baseline_answers(lstm_img, tfs_img, X_TE))
print(f"baselines (image): {time.process_time() - t0:.1f} s CPU")

# %%
report.measure(
    "C1b", prog=prog_img.float().mean(1).tolist(),
    untrained_prog=prog_img0.float().mean(1).tolist(),
    digit_acc=digit_acc, answer=ok_img.float().mean(1).tolist())
acc_img = {
    "interpolation": compare("C2b", ok_img, ok_img_shuf, ok_lstm_img,
                             ok_tf_img, IP_TE),
    "extrapolation": compare("C3b", ok_img, ok_img_shuf, ok_lstm_img,
                             ok_tf_img, EX_TE),
    "train": dict(workspace=split_acc(ok_img, TR_TE),
                  LSTM=split_acc(ok_lstm_img, TR_TE),
                  Transformer=split_acc(ok_tf_img, TR_TE))}
for cid in ("C1b", "C2b", "C3b"):
    print(cid, report.verdict(cid))
for split in ("interpolation", "extrapolation"):
    print(split, {k: np.round(v, 2).tolist()
                  for k, v in acc_img[split].items()})

# %% [markdown]
# **How we got to this design.** Our first image version kept the workspace in the digit
# encoder's 16-dimensional code and used an MLP (16 → 64 → 16, tanh) as the Increment module,
# trained on the addition objective together with the controller; after 300 or 600 updates it
# ran the right program on about a fifth of the test items. Pre-training that MLP on its own
# objective made the Increment exact (chains of nine increments read right), but the
# controller still learned only programs with up to 2-4 increments: the controller learns the
# short programs first, and to learn a longer one the error must flow back through the chain
# of frozen increments, whose saturated MLP passes almost no gradient. A softmax-output MLP on
# the 10-dimensional readings failed the same way. A linear Increment on the readings passes
# the gradient unchanged, as the one-hot shift does; with it the controller learns every
# program length in the same 300 updates. These trials were made on the image version only,
# before its results below were seen; the rules were not changed.

# %% [markdown]
# ## Parameters (C4)
#
# We count the parameters of each model beyond the shared perception: the image version's digit
# module is used by all three models (the baselines read the same readings), so it is counted
# apart; the workspace's count includes its Increment module.

# %%
size = {
    "workspace, one-hot": n_params(ctrl_oh),
    "workspace, image": n_params(ctrl_img) + n_params(inc_img),
    "LSTM, one-hot": n_params(lstm_oh),
    "Transformer, one-hot": sum(p.numel() for p in tfs_oh[0].parameters()),
    "LSTM, image": n_params(lstm_img),
    "Transformer, image": sum(p.numel() for p in tfs_img[0].parameters()),
    "digit module (shared, frozen)": n_params(digit),
}
report.measure(
    "C4",
    ratio_onehot=size["workspace, one-hot"] / min(
        size["LSTM, one-hot"], size["Transformer, one-hot"]),
    ratio_image=size["workspace, image"] / min(
        size["LSTM, image"], size["Transformer, image"]))
for k, v in size.items():
    print(f"{k:32s} {v:6d}")

# %% [markdown]
# ## Results
#
# Accuracy on each split, every seed a dot; the dashed lines are the claims' rules for the
# workspace. "shuffled" is the trained workspace whose controller is told another item's $b$
# (the control of C2 and C3).

# %% tags=["hide-input"]
fig, axs = plt.subplots(2, 3, figsize=(11, 6), sharey=True,
                        layout="constrained")
for row, (ver, acc, thr) in enumerate((("one-hot", acc_oh, 0.9),
                                       ("image", acc_img, 0.8))):
    for col, split in enumerate(("train", "interpolation",
                                 "extrapolation")):
        plots.seed_points(axs[row, col], acc[split],
                          ylabel=f"accuracy ({ver})",
                          threshold=None if split == "train" else thr)
        axs[row, col].set_title(f"{ver}: {split}")
        axs[row, col].tick_params(axis="x", labelsize=7)
axs[0, 0].set_ylim(0, 1.05)
plt.show()

# %%
def mean(v):
    return float(np.mean(np.asarray(v, dtype=float)))


for ver, acc in (("oh", acc_oh), ("img", acc_img)):
    for split in ("interpolation", "extrapolation"):
        for model in ("workspace", "LSTM", "Transformer", "shuffled"):
            runtime.glue(f"a26_{ver}_{split[:6]}_{model[:5].lower()}",
                         mean(acc[split][model]))
runtime.glue("a26_prog_oh", mean(prog_oh.float().mean(1)))
runtime.glue("a26_min_oh", mean(min_oh.float().mean(1)))
runtime.glue("a26_prog_img", mean(prog_img.float().mean(1)))
runtime.glue("a26_prog_oh0", mean(prog_oh0.float().mean(1)))
runtime.glue("a26_digit_acc", mean(digit_acc))
# how many extrapolation pairs have their mirror (b, a) in training?
train_set = {tuple(PAIRS[k].tolist()) for k in torch.nonzero(TR[0])[:, 0]}
mirror = [(int(b), int(a)) in train_set for a, b in PAIRS[EX[0]]]
runtime.glue("a26_mirror", f"{sum(mirror)} of {len(mirror)}")
print(report.verdicts())

# %% [markdown]
# **Programs.** With hard gates the one-hot controller executes the right program on
# {glue:text}`a26_prog_oh:.3f` of the 55 pairs (mean over seeds; the untrained controller
# {glue:text}`a26_prog_oh0:.3f`), on seen and unseen pairs alike, since the program depends on
# $b$ only; a share of {glue:text}`a26_min_oh:.2f` of them uses a single IN: the others reload
# $a$ one or more times before the first increment, which changes nothing (the controller
# "waits" before it counts; nothing in the objective asks for the shortest program). The image controller reads $b$ from
# a handwritten digit and runs the right program on {glue:text}`a26_prog_img:.3f` of the test
# items; its digit module reads {glue:text}`a26_digit_acc:.3f` of the test digits right.
#
# **Interpolation.** One-hot: the workspace answers {glue:text}`a26_oh_interp_works:.2f` of the
# held-out interior pairs, the LSTM {glue:text}`a26_oh_interp_lstm:.2f` and the Transformer
# {glue:text}`a26_oh_interp_trans:.2f`. Image: {glue:text}`a26_img_interp_works:.2f`,
# {glue:text}`a26_img_interp_lstm:.2f` and {glue:text}`a26_img_interp_trans:.2f`.
#
# **Extrapolation** ($a \ge 6$). One-hot: the workspace {glue:text}`a26_oh_extrap_works:.2f`,
# the LSTM {glue:text}`a26_oh_extrap_lstm:.2f`, the Transformer
# {glue:text}`a26_oh_extrap_trans:.2f`. Image: {glue:text}`a26_img_extrap_works:.2f`,
# {glue:text}`a26_img_extrap_lstm:.2f` and {glue:text}`a26_img_extrap_trans:.2f`. With its
# routing shuffled the workspace falls to {glue:text}`a26_oh_extrap_shuff:.2f` (one-hot) and
# {glue:text}`a26_img_extrap_shuff:.2f` (image): its answers come from the program it runs.
#
# The LSTM memorises the training pairs and answers none of the held-out interior pairs. The
# Transformer does much better on extrapolation than on interpolation, and we did not foresee
# why: for the first seed's split, {glue:text}`a26_mirror` extrapolation pairs $(a, b)$ have
# their mirror $(b, a)$ among the training pairs (a first addend $b \le 3$, a second addend
# $a \ge 6$). A Transformer with a shared token embedding, weak learned positions and a
# mean-pooled read-out treats its two tokens almost as a set, so commutativity hands it these
# sums. Our extrapolation split therefore separates the workspace from the LSTM but not from
# the Transformer, and C3 is "partly" reproduced: the workspace reaches its own bar, its margin
# over the best baseline falls short of 0.3. We report the split as declared instead of
# changing it after seeing this. A split without mirrors would have to keep the large values
# of $b$ out of training as well, and so would need a controller that extrapolates $b$: the
# reading of the paper we argued against above.
#
# In the one-hot version the workspace's advantage on unseen first addends is built in: its
# Input and Increment modules are exact for every digit, so once the controller counts $b$
# right, a new first addend costs nothing. In the image version the Increment module was
# learned, from chains that start at the first addends of the training range only, so the
# extrapolation pairs are the first time it starts from the reading of a 6, 7, 8 or 9.

# %% [markdown]
# ## Checks that do not depend on the run
#
# The pairs and splits, a hand-written program on the one-hot modules, the program checker on
# fixed gate sequences, and the parameter counts.

# %% tags=["nbval-check-output"]
print("pairs:", len(PAIRS), "| train / interpolation / extrapolation:",
      [int(m[0].sum()) for m in (TR, IP, EX)])
w = onehot(torch.tensor([[3]]))
for _ in range(4):
    w = shift(w)
print("IN(3), INC x 4, OUT reads:", int(read_onehot(w).argmax()))
fixed = {"IN INC INC OUT": [IN, INC, INC, OUT], "IN IN INC INC OUT":
         [IN, IN, INC, INC, OUT], "IN INC IN INC OUT":
         [IN, INC, IN, INC, OUT], "INC IN INC OUT": [INC, IN, INC, OUT],
         "IN INC INC INC OUT": [IN, INC, INC, INC, OUT]}
for name, seq in fixed.items():
    g = F.one_hot(torch.tensor(seq + [OUT] * (T - len(seq))), 3)
    ok, mn = program_ok(g[None, None].float(), torch.tensor([[2]]))
    print(f"b = 2, {name:20s} right: {bool(ok)}, minimal: {bool(mn)}")
print("parameters:", size)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change a re-execution on another machine may show.
# We re-executed the chapter in the ci profile with two other seed sets, {2, 3} and {4, 5}
# (`python -m rnnbook.runner variation a26 --seeds 2,3 --seeds 4,5`), and with 2 threads. The
# 2-thread run agreed exactly with the 1-thread run; each `tol` is at least the change between
# seed sets, rounded up to a 1-2-5 step. The table shows each declared `tol` beside the measured
# changes and the verdicts seen in those runs (the same in all of them).

# %%
report.tolerances("../../data/a26_variation.json")

# %% [markdown]
# ## Versus the authors' code
#
# We found no public code for this paper. The first author's public repository
# `HugoChateauLaurent/conscious-chaining` is an earlier spiking (Nengo) model of chaining
# operations through a workspace, not this paper's deep-learning model, so there is nothing to
# compare line by line; the lab's global-workspace library (`ruflab/shimmer`) is not used by
# the paper as far as its abstract says.
#
# ## Differences from the paper
#
# - **Text available.** Only the abstract and the start of the introduction of arXiv
#   2503.01906 were available to us. Everything below the abstract's level is reconstructed
#   [R]: the controller's inputs ($b$'s code and its previous gates), the soft first-OUT answer
#   and its loss, the entropy penalty, the step budget $T = 11$, the digit module, the
#   Increment MLP, the baselines' sizes. The paper's numbers are not quoted.
# - **Extrapolation split.** We extrapolate along the first addend ($a \ge 6$ never a first
#   addend in training), because an unseen $b$ is an untrained input to every model here. The
#   paper's keywords mention length generalisation; if its extrapolation set has larger $b$
#   than training (longer programs), our C3 is a different test, and a controller that reads
#   $b$ as a one-hot code would not be expected to pass it.
# - **Program check.** A program that reloads $a$ (IN) more than once before the first
#   increment counts as right: the reload is idempotent. We report the share of minimal
#   programs (one IN) beside it.
# - **Data.** scikit-learn's 8×8 digits (1,797 images, half for training, half for testing per
#   seed) **substitute for MNIST**; sums stay below 10 so that every workspace state is a digit.
# - **Image modules.** The digit module is a small classifier trained alone, not the paper's
#   learned representation modules (whose form we could not read), and the workspace holds
#   its 10-class reading rather than a learned latent code; the Increment module is a linear
#   map trained on its own objective (increment chains from digits 0-5), where the paper
#   trains an increment module "on the task objectives" (possibly end to end on additions).
#   The baselines read the same readings.
# - **Scale (ci: a miniature).** 300 updates of 64 pairs per model, 2 seeds trained as one
#   stacked model (the Transformers one per seed). The `full` profile uses 8 seeds, 1,500
#   updates of 128 pairs and 100 test image pairs per addition pair; it has not been executed
#   for this version of the chapter.
#
# ## References
#
# ```{footbibliography}
# ```
