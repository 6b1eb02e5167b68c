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
# # A02 · The cost-quality tradeoff of resource-constrained sequence prediction
#
# Karuvally and Moss {footcite}`karuvally2023complexity` ask what a sequence predictor *costs*, what
# its predictions are *worth*, and how the two trade against each other across a family of
# models such as neural networks of growing size. The abstract promises a theory and an empirical
# procedure; a public summary adds that the cost is an *empirical compression boundary*, an upper
# bound on the information in a model's parameters, and that the cost-quality curve has three
# regimes in log-log axes, the last marking the move from learning the data's structure to
# memorising its variability. Neither the paper's text nor its code was available to us, so this
# chapter **reconstructs** the procedure from those sentences: the cost is the compressed size of
# quantised and pruned GRU parameters {footcite}`cho2014gru,han2016deep`, the quality is held-out
# log-loss, and the data come from two synthetic "program-phase" sources (order 3 and order 4,
# the abstract's "different tasks") whose entropy rates, the floors of the curves, are known
# exactly. Every choice is made on validation windows and reported on separate test windows.
# The numbers are ours, not the paper's; the ci profile is a miniature (GRUs of width 1 to 32).

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "we formulate the necessary theory": the tradeoff between "the cost of
#   implementation and the quality of its predictions", here a distortion-rate curve whose floor
#   is the source's entropy rate (paper: theory, no number).
# - **C2** "an associated empirical procedure to explore this tradeoff space for a particular
#   family of machine learning models": compressed description length against held-out
#   log-loss over widths, bit-widths and pruning; the lower envelope is the tradeoff curve and it
#   is monotone (paper: procedure, no number).
# - **C3** the best models reach "the theoretical ... limits": their loss approaches the entropy
#   rate (summary: the boundary approaches the data's complexity; no number).
# - **C4** the tradeoff has three regimes in log-log: large cost for little gain, a roughly
#   linear middle, then large cost for marginal gain (summary: "three phases"; no slopes given).
# - **C5** beyond the knee the extra cost memorises "nuance variability": train loss falls below
#   the entropy rate while test loss stops improving (summary; no number).
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
import os
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import LogNorm
from torch import nn

from rnnbook import claims, cost, plots, runtime

ctx = runtime.setup("a02", default_seeds={"ci": [0, 1], "full": [0, 1, 2]})
plots.use_style()
print(ctx.describe())


def glue(**values):  # numbers quoted in the prose
    for name, value in values.items():
        runtime.glue(name, value)


# %% tags=["parameters"]
SIZES = ctx.pick(
    ci=dict(
        V=6, widths=[1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
        pad_to=[4, 8, 16, 32],
        restarts={4: 3, 8: 3, 16: 1, 32: 1},
        T=12, batch=32, steps=600,
        n_small=128, n_val=256, n_test=1024, eval_chunk=256,
    ),
    full=dict(
        V=16, widths=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        pad_to=[8, 16, 32, 64, 128, 256, 512, 1024],
        restarts={8: 4, 16: 2, 32: 2, 64: 2, 128: 2, 256: 1, 512: 1,
                  1024: 1},
        T=24, batch=256, steps=3000,
        n_small=512, n_val=2048, n_test=8192, eval_chunk=256,
    ),
)  # fmt: skip
# The design, identical in both profiles:
# two sources ("tasks"): the same kind of program, order k = 3 and 4
ORDERS = [3, 4]
# the "program": a fixed construction
SOURCE = dict(p_branch=0.3, p_major=0.8, p_interrupt=0.01, seed=2310)
# Adam with cosine decay; the group padded to width P uses
# LR * min(1, sqrt(32 / P))
LR = 2e-2
# quantisation bit-widths (None below: unquantised float32)
BITS = [2, 3, 4, 6, 8]
# fraction of each weight matrix zeroed by magnitude before quantising
PRUNE = [0.0, 0.5]
# compression boundary: the cheapest variant within 1 % of the float
# model's validation loss
EPS_BOUNDARY = 0.01
V, T = SIZES["V"], SIZES["T"]
NAMES = [f"k{k}" for k in ORDERS]  # k3 is the chapter's first source

# %% [markdown]
# All pass rules are fixed here, before any experiment. The paper gives no numbers, so the
# thresholds come from our research notes: 0.1 bit/symbol for "approaching the floor", a
# 3-piece fit of log *excess* loss, $\log_2(L - H)$, against $\log_2 C$ with outer slopes flatter
# than the middle by a factor of 2 for "distinct regimes", 1 % loss for the compression boundary.
# The $\log_2(L - H)$ fit decides C4; a fit of $\log_2 L$ (an earlier version of this chapter
# used it without saying so) is shown beside it as context and never judged.
#
# **Two tasks.** The abstract speaks of "different tasks", so every claim is judged on two
# sources, declared here: the chapter's order-3 program (`k3`) and an order-4 program of the
# same construction (`k4`, six times as many contexts), which needs a longer memory. It keeps
# the alphabet, so one stack of GRUs trains both, and it is the kind of task for which an
# earlier version of this chapter guessed that a cheap regime of "large cost for little gain"
# might appear (the cheapest useful models must learn more before they predict anything). The
# combination rule: a claim is **reproduced** only if every evidence check passes on *both*
# sources; **partly** only if its partial rule passes on both; a control that passes on either
# source makes it **inconclusive**. A claim that holds on one source and not the other is "not
# reproduced", and the note says which source failed.
#
# **Selection on validation windows.** Each source has three independently drawn sets of
# windows: the training stream, validation windows, and test windows. Every choice (the restart that
# represents a width, a model's compression boundary, the envelope points, the "best model")
# is made on the validation windows; the test windows are used only to report the chosen
# models' loss.
#
# C1 holds by construction (a textbook inequality, checked as a guard on the implementation);
# every other claim is empirical and has a negative control on each source, the same statistic
# on a model or curve where it must fail: untrained GRUs (C2, C3), a one-regime straight line
# with the fit's own scatter (C4), and models that never saw the small training set (C5).
# `tol` says how far a re-run on another CPU or thread count may move each number (derived at
# the end of the chapter).


# %% tags=["hide-input"]
# fmt: off
TITLE = "The cost-quality tradeoff of resource-constrained sequence prediction"
report = claims.Report(ctx, title=TITLE)
E, K, X = claims.evidence, claims.control, claims.context


def per_source(*checks):
    """Checks declared as (kind, name, [of,] ...): one per source."""
    out = []
    for s in NAMES:
        for make, name, *rest in checks:
            if isinstance(rest[-1], dict) and isinstance(rest[-1]["tol"], dict):
                rest = [*rest[:-1], dict(tol=rest[-1]["tol"][s])]  # per source
            if make is K:
                of, what = rest[0], rest[1]
                out.append(K(f"{name}_{s}", f"{of}_{s}", f"[{s}] {what}",
                             **(rest[2] if len(rest) > 2 else {})))
            elif make is E:
                op, thr, what = rest[0], rest[1], rest[2]
                out.append(E(f"{name}_{s}", op, thr, f"[{s}] {what}",
                             **(rest[3] if len(rest) > 3 else {})))
            else:
                out.append(X(f"{name}_{s}", f"[{s}] {rest[0]}",
                             **(rest[1] if len(rest) > 1 else {})))
    return out


def both(*names):
    return [f"{n}_{s}" for s in NAMES for n in names]


def name_sources(cid):
    """After measuring: the claim's note says where evidence fails."""
    claim = report.claims[cid]
    bad = sorted({m.check.name.rsplit("_", 1)[1] for m in claim.measured
                  if m.check.role == claims.EVIDENCE and not m.passed})
    claim.note = ("evidence fails on " + ", ".join(bad) if bad
                  else "all evidence passes on both sources")


report.claim(
    "C1", "Theory: at any description length the best held-out loss is bounded below by the "
    "entropy rate.", kind="construction", paper="theory (no number)",
    checks=per_source(
        (X, "H", "exact entropy rate of the source (bit/symbol)", dict(tol=1e-06)),
        (E, "oracle_z", "<=", 4.0, "|oracle's test loss − H| in standard errors", dict(tol=dict(k3=1, k4=2))),
        (E, "min_excess", ">", -0.01, "lowest test loss of any model − the oracle's", dict(tol=dict(k3=0.005, k4=0.1))),
    ))
report.claim(
    "C2", "Empirical procedure: description length vs held-out log-loss over a model family; the "
    "envelope is monotone.", kind="empirical", paper="procedure (no number)",
    checks=per_source(
        (E, "below_raw", "==", 1.0, "share of compression boundaries below raw float32 size", dict(tol=0.0)),
        (E, "cost_increasing", "==", 1.0, "boundary cost (seed mean) rises with every width", dict(tol=0.0)),
        (E, "max_loss_rise", "<=", 0.02, "largest rise of boundary test loss, width to width", dict(tol=dict(k3=0.005, k4=0.02))),
        (K, "max_loss_rise_untrained", "max_loss_rise", "the same for untrained GRUs", dict(tol=dict(k3=0.02, k4=0.1))),
    ))
report.claim(
    "C3", "The best models approach the source's entropy rate.", kind="empirical",
    paper="reached (no number)", partial=both("captured"),
    checks=per_source(
        (E, "excess", "<=", 0.1, "test loss of the best variant on validation − the oracle's", dict(tol=dict(k3=0.005, k4=0.1))),
        (E, "captured", ">=", 0.9, "share of the gap H_0 → H closed by that variant (test)", dict(tol=dict(k3=0.01, k4=0.05))),
        (K, "excess_untrained", "excess", "the same, best untrained GRU variant", dict(tol=dict(k3=0.02, k4=0.05))),
        (X, "best", "test loss of the best variant on validation (bit/symbol)", dict(tol=dict(k3=0.02, k4=0.1))),
    ))
report.claim(
    "C4", "Three regimes in log-log: large cost for little gain, a roughly linear middle, large "
    "cost for marginal gain.", kind="empirical", paper="three phases (no slopes given)",
    partial=both("s2", "ratio_1"),
    checks=per_source(
        (E, "s2", "<", 0, "middle slope of the 3-piece fit of log2(L − H) vs log2 C", dict(tol=0.5)),
        (E, "ratio_1", ">=", 2.0, "|s2| / |s1|: cheap end flatter than the middle", dict(tol=5)),
        (E, "ratio_3", ">=", 2.0, "|s2| / |s3|: expensive end flatter than the middle", dict(tol=50)),
        (K, "ratio_1_line", "ratio_1", "one straight line + the fit's residuals, shuffled", dict(tol=dict(k3=2, k4=1))),
        (K, "ratio_3_line", "ratio_3", "one straight line + the fit's residuals, shuffled", dict(tol=5)),
        (X, "s1", "cheap-end slope of the log2(L − H) fit", dict(tol=1)),
        (X, "s3", "expensive-end slope of the log2(L − H) fit", dict(tol=1)),
        (X, "n_points", "envelope points fitted (< 9: not testable)", dict(tol=5)),
        (X, "logL_ratio_1", "|s2| / |s1| of the log2 L fit (not judged)", dict(tol=1)),
        (X, "logL_ratio_3", "|s2| / |s3| of the log2 L fit (not judged)", dict(tol=20)),
    ))
report.claim(
    "C5", "Beyond the knee extra parameters memorise: train loss falls below H while test loss "
    "stops improving.", kind="empirical", paper="boundary grows with no test gain (no number)",
    checks=per_source(
        (E, "train_minus_H", "<", 0, "widest model's loss on its small training set − H", dict(tol=0.05)),
        (E, "test_gain_beyond_knee", "<=", 0.02, "test loss at the knee − the widest's", dict(tol=dict(k3=0.05, k4=0.5))),
        (K, "train_minus_H_online", "train_minus_H", "widest online GRU (never saw it)", dict(tol=0.1)),
        (X, "knee_width", "narrowest width whose train loss (seed mean) is below H", dict(tol=8)),
        (X, "test_widest", "test loss of the widest small-set model (seed mean)", dict(tol=0.1)),
    ))
print("claims declared:", ", ".join(report.claims))
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The theory: a distortion-rate curve with an entropy floor (C1)
#
# A predictor $p_\theta(x_t \mid x_{<t})$ of a stationary source has a **quality**, its held-out
# log-loss in bits per symbol, and a **cost**, the bits needed to write $\theta$ down:
#
# $$
# L(\theta) = -\frac{1}{N}\sum_{t} \log_2 p_\theta(x_t \mid x_{<t}), \qquad
# C(\theta) = \ell\big(\mathrm{compress}(\mathrm{quantise}_b(\mathrm{prune}_\rho(\theta)))\big) + 32\,n_{\text{tensors}} .
# $$
#
# $C$ is a computable upper bound on the Kolmogorov complexity of the parameters (up to the size
# of the decompressor). For a model family $\mathcal{M}$ the **tradeoff curve** is the best loss
# affordable at each cost, a distortion-rate function or, in Kolmogorov's terms, a structure
# function {footcite}`vereshchagin2004kolmogorov`:
#
# $$
# L^*(C) = \min\{\,L(\theta) : \theta \in \mathcal{M},\ C(\theta) \le C\,\} .
# $$
#
# It is non-increasing by construction, and its **floor** is the entropy rate: cross-entropy is
# never below entropy, so every predictor, however expensive, has
# $\mathbb{E}\,L(\theta) \ge H = \lim_t H(x_t \mid x_{<t})$ {footcite}`cover2006elements`. For an order-$k$
# Markov source with table $P(\cdot \mid c)$, contexts $c = (x_{t-k},\dots,x_{t-1})$ and
# stationary context distribution $\pi$,
#
# $$
# H = \sum_c \pi(c)\, H\big(P(\cdot \mid c)\big), \qquad
# H_j = H(x_t \mid x_{t-j}, \dots, x_{t-1}) \ \text{ with } H_0 \ge H_1 \ge \dots \ge H_k = H .
# $$
#
# $H_j$ is what a predictor that remembers $j$ symbols can reach. Two-part coding
# {footcite}`rissanen1978modeling,hinton1993keeping` links the axes: $N$ symbols cost
# $C(\theta) + N L(\theta)$ bits with model $\theta$, so the best model for $N$ symbols sits where the
# curve's slope is $-1/N$. On a *training* set a model can push $L$ below $H$ by storing the
# sample's accidents in its parameters, which shows up as cost, never as held-out quality. C1
# checks the floor: exact $H$ must match the true source's loss on the test windows, and no
# trained model may beat that oracle.

# %% [markdown]
# ## A program-phase source with a known entropy rate
#
# With no real traces offline, we build a "program": $V$ phases and an order-$k$ table of what
# comes next. In each context it runs straight-line code (one successor) or, with probability
# 0.3, hits a branch (two successors, 0.8/0.2); a rare interrupt can send it to any phase, which
# makes the context chain irreducible, so $\pi$ is unique and $H$ exact:
#
# $$
# P(v \mid c) = (1 - \epsilon)\, P_{\text{program}}(v \mid c) + \epsilon / V, \qquad \epsilon = 0.01 .
# $$
#
# The table is a fixed construction (seed 2310 in every run); the run's seeds draw the training
# and test windows and the initial weights.


# %%
def program_source(V, k, p_branch, p_major, p_interrupt, seed):
    """Next-phase table P[c, v] = p(x_t = v | c),
    c = (x_{t-k}, ..., x_{t-1}) read as a base-V number."""
    rng = np.random.default_rng(seed)
    C = V**k
    main = rng.integers(0, V, C)  # where straight-line code goes next
    other = (main + rng.integers(1, V, C)) % V  # the other arm of a branch
    is_branch = rng.random(C) < p_branch
    table = np.zeros((C, V))
    table[np.arange(C), main] = np.where(is_branch, p_major, 1.0)
    table[np.flatnonzero(is_branch), other[is_branch]] = 1.0 - p_major
    return (1.0 - p_interrupt) * table + p_interrupt / V


def stationary(table, V):
    """Stationary distribution of the contexts, by power iteration to
    machine precision."""
    C = len(table)
    pi = np.full(C, 1.0 / C)
    for _ in range(100_000):
        # drop the oldest phase, append v
        new = (pi[:, None] * table).reshape(V, C // V, V).sum(0).ravel()
        if np.abs(new - pi).max() < 1e-15:
            break
        pi = new
    return new / new.sum()


def entropy_bits(p):
    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)


# %%
def conditional_entropy(table, pi, V, j):
    """H_j = H(x_t | the last j phases) under the stationary
    distribution; H_k is the entropy rate."""
    # p(last j phases, next phase)
    joint = (pi[:, None] * table).reshape(-1, V**j, V).sum(0)
    return float(entropy_bits(joint.ravel()) - entropy_bits(joint.sum(1)))


def make_source(k):
    table = program_source(V, k, **SOURCE)
    pi = stationary(table, V)
    return dict(
        k=k, table=table, pi=pi, cdf=np.cumsum(table, 1),
        H=float(pi @ entropy_bits(table)),
        ladder=[
            conditional_entropy(table, pi, V, j) for j in range(k + 1)
        ],
    )  # fmt: skip


SRC = {name: make_source(k) for name, k in zip(NAMES, ORDERS)}
for name, src in SRC.items():
    glue(**{f"H_{name}": src["H"], f"H0_{name}": src["ladder"][0]})
    print(
        f"{name}: {V} phases, {V ** src['k']} contexts; entropy rate "
        f"H = {src['H']:.4f} bit/symbol; ladder H_0..H_k:",
        np.round(src["ladder"], 3),
    )
print(f"(uniform guess: {math.log2(V):.3f})")

# %% [markdown]
# In both programs the phase frequencies alone are worth little ($H_0 =$
# {glue:text}`H0_k3:.3f` and {glue:text}`H0_k4:.3f` bit/symbol, close to the uniform guess);
# each remembered phase helps, and only all $k$ reach $H =$ {glue:text}`H_k3:.3f` (order 3)
# and {glue:text}`H_k4:.3f` (order 4); the grey levels in the training figure below are the
# $H_j$. Windows of $T$ phases start from a context drawn from $\pi$; every loss below is
# averaged over the positions $t \ge k$, where the true predictive distribution is exactly
# $P(\cdot \mid c_t)$. The order-3 source keeps the random streams of the chapter's earlier
# version; the order-4 source draws its own.


# %%
def stream(name, *key):
    """Random stream of a source: k3 keeps the earlier version's."""
    extra = [] if name == NAMES[0] else [SRC[name]["k"]]
    return np.random.default_rng([*key, *extra])


def sample_windows(src, n, rng):
    """n stationary windows of T phases (each starts from a context
    drawn from pi): (n, T) ints."""
    k, C = src["k"], V ** src["k"]
    c = rng.choice(C, size=n, p=src["pi"])
    x = np.empty((n, T), dtype=np.int64)
    for j in range(k):
        x[:, j] = (c // V ** (k - 1 - j)) % V
    for t in range(k, T):
        x[:, t] = np.minimum(
            (rng.random(n)[:, None] > src["cdf"][c]).sum(1), V - 1
        )
        c = (c * V + x[:, t]) % C
    return x


def oracle_bits(src, x):
    """-log2 P(x_t | c_t) of the true source at the positions t >= k:
    shape (n, T - k)."""
    k = src["k"]
    c = sum(x[:, j] * V ** (k - 1 - j) for j in range(k))
    out = np.empty((len(x), T - k))
    for t in range(k, T):
        out[:, t - k] = -np.log2(src["table"][c, x[:, t]])
        c = (c * V + x[:, t]) % V**k
    return out


# %%
X_test, X_val, oracle_test, oracle_se = {}, {}, {}, {}
for name, src in SRC.items():
    X_test[name] = sample_windows(
        src, SIZES["n_test"], stream(name, ctx.seeds[0], 7)
    )
    X_val[name] = sample_windows(
        src, SIZES["n_val"], stream(name, ctx.seeds[0], 8)
    )
    per_window = oracle_bits(src, X_test[name]).mean(1)
    oracle_test[name] = float(per_window.mean())
    oracle_se[name] = float(
        per_window.std(ddof=1) / math.sqrt(len(per_window))
    )
    print(
        f"{name}: oracle loss on the test windows {oracle_test[name]:.4f}"
        f" ± {oracle_se[name]:.4f} bit/symbol (H = {src['H']:.4f})"
    )
glue(**{f"oracle_test_{n}": v for n, v in oracle_test.items()})

# %% [markdown]
# ## The model family: GRUs of every width, trained as one batch
#
# Each predictor is a GRU {footcite}`cho2014gru` of width $h$ reading one-hot phases, with a linear
# readout to next-phase logits:
#
# $$
# \begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), &
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),\\
# n_t &= \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big), &
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}, \qquad o_t = W_o h_t + b_o .
# \end{aligned}
# $$
#
# To train all widths, seeds, regimes and both sources at once, members of width $h \le P$ are
# stacked and zero-padded to a width $P$. The padding is exact: a unit with all-zero weights
# and biases has $n = \tanh(0) = 0$, stays at $h = 0$ and is read by nothing, so its gradients
# are exactly zero and Adam never moves it (checked at the end). Each member has its own seeded
# initialisation, $U(-1/\sqrt{h}, 1/\sqrt{h})$ as in `torch.nn.GRU`, and scores only the
# positions $t \ge k$ of its own source.


# %%
class PaddedGRUs(nn.Module):
    """M independent GRU next-phase predictors; member m has width
    widths[m] <= P, zero-padded to P, and scores positions t >= ks[m]."""

    def __init__(self, P, widths, ks, seeds=None):
        super().__init__()
        M = len(widths)
        self.P, self.widths = P, list(widths)
        # one-hot phase -> gates (r, z, n)
        self.W_i = nn.Parameter(torch.zeros(M, V, 3, P))
        self.b_i = nn.Parameter(torch.zeros(M, 1, 3, P))
        # hidden state -> gates
        self.W_h = nn.Parameter(torch.zeros(M, P, 3, P))
        self.b_h = nn.Parameter(torch.zeros(M, 1, 3, P))
        # hidden state -> next-phase logits
        self.W_o = nn.Parameter(torch.zeros(M, P, V))
        self.b_o = nn.Parameter(torch.zeros(M, 1, V))
        # which predicted positions t = 1..T-1 each member scores:
        # (T - 1, M, 1)
        t = torch.arange(1, T)[:, None, None]
        self.register_buffer(
            "scored", (t >= torch.tensor(ks)[:, None]).float()
        )
        for m, seed in enumerate(seeds or []):
            g, bound = (
                torch.Generator().manual_seed(seed),
                1 / math.sqrt(widths[m]),
            )
            self.load_member(m, [
                torch.empty(w.shape).uniform_(-bound, bound, generator=g)
                for w in self.member(m)
            ])  # fmt: skip

    def member(self, m):
        """The six tensors of member m's own width-h GRU (views into
        the padded stack)."""
        h = self.widths[m]
        return [self.W_i[m, ..., :h], self.b_i[m, ..., :h],
                self.W_h[m, :h, :, :h], self.b_h[m, ..., :h],
                self.W_o[m, :h], self.b_o[m]]  # fmt: skip

    @torch.no_grad()
    def load_member(self, m, tensors):
        for live, new in zip(self.member(m), tensors, strict=True):
            live.copy_(new)


# %% [markdown]
# On a CPU the time of these tiny models goes into the number of tensor operations, not into
# arithmetic, so the recurrence and its backward pass are written out by hand (backpropagation
# through time). With $a^n_t$ the pre-activation of $n_t$ and $g_t = W_h h_{t-1} + b_h$, the error
# $\delta_t = \partial \mathcal{L} / \partial h_t$ flows back as
#
# $$
# \frac{\partial \mathcal{L}}{\partial a^n_t} = \delta_t (1 - z_t)(1 - n_t^2),\quad
# \frac{\partial \mathcal{L}}{\partial g_t} = \Big(\tfrac{\partial \mathcal{L}}{\partial a^n_t} g^n_t r_t (1 - r_t),\;
# \delta_t (h_{t-1} - n_t) z_t (1 - z_t),\; \tfrac{\partial \mathcal{L}}{\partial a^n_t} r_t\Big),\quad
# \delta_{t-1} \mathrel{+}= \delta_t z_t + W_h^\top \tfrac{\partial \mathcal{L}}{\partial g_t} .
# $$


# %%
def scan_forward(U, W_h, b_h, keep=True):
    """GRU hidden states H (T + 1, M, B, P), H[0] = 0, from U
    (T, M, B, 3, P) = W_i x_t + b_i, W_h (M, P, 3P), b_h (M, 1, 3, P);
    with keep, also what the backward pass needs."""
    T, M, B, _, P = U.shape
    H = U.new_empty(T + 1, M, B, P)
    H[0] = 0
    # gates r, z; candidate n; g = W_h h + b_h (written in place;
    # evaluation reuses one slot)
    S = T if keep else 1
    RZ, N, G = (
        U.new_empty(S, M, B, 2, P), U.new_empty(S, M, B, P),
        U.new_empty(S, M, B, 3, P),
    )  # fmt: skip
    for t in range(T):
        s = t if keep else 0
        # g_t = W_h h_{t-1} + b_h
        g = torch.baddbmm(
            b_h.view(M, 1, 3 * P), H[t], W_h, out=G[s].view(M, B, -1)
        ).view(M, B, 3, P)
        # gates r_t and z_t
        rz = torch.sigmoid(U[t, :, :, :2] + g[:, :, :2], out=RZ[s])
        n = torch.tanh(
            torch.addcmul(U[t, :, :, 2], rz[:, :, 0], g[:, :, 2]),
            out=N[s],
        )
        # h_t = (1 - z) n + z h_{t-1}
        torch.addcmul(n, rz[:, :, 1], H[t] - n, out=H[t + 1])
    return (H, RZ, N, G[:, :, :, 2]) if keep else H


# %%
def scan_backward(dH, W_h, H, RZ, N, Gn):
    """Gradients of the loss w.r.t. U, W_h, b_h from
    dH = dL/dh_t (T, M, B, P): the equations above."""
    T, M, B, P = N.shape
    R, Z = RZ[:, :, :, 0], RZ[:, :, :, 1]
    dn = (1 - Z) * (1 - N * N)  # d h_t / d a^n_t
    # d h_t / d g_t
    K = torch.stack(
        [dn * Gn * R * (1 - R), (H[:-1] - N) * Z * (1 - Z), dn * R], 3
    )
    carry = torch.zeros_like(H[0])
    dh, dG = torch.empty_like(dH), torch.empty_like(K)
    for t in range(T - 1, -1, -1):
        torch.add(dH[t], carry, out=dh[t])  # delta_t
        torch.mul(dh[t].unsqueeze(2), K[t], out=dG[t])  # (M, B, 3, P)
        carry = torch.baddbmm(
            dh[t] * Z[t], dG[t].view(M, B, 3 * P), W_h.transpose(1, 2)
        )
    dW = torch.einsum("tmbi,tmbj->mij", H[:-1], dG.view(T, M, B, 3 * P))
    db = dG.sum((0, 2)).unsqueeze(1)
    # dL/dU: the r and z parts are those of g; the n part is dL/da^n
    dG[:, :, :, 2] = dh * dn
    return dG, dW, db


class GRUScan(torch.autograd.Function):
    """Stacked GRU recurrence with the hand-written backward pass
    (checked by gradcheck at the end)."""

    @staticmethod
    def forward(ctx, U, W_h, b_h):
        H, RZ, N, Gn = scan_forward(U, W_h, b_h)
        ctx.save_for_backward(W_h, H, RZ, N, Gn)
        return H[1:]

    @staticmethod
    def backward(ctx, dH):
        return scan_backward(dH, *ctx.saved_tensors)


# %%
def gru_states(net, x):
    """Hidden states h_t (T, M, B, P) of every member for its own
    windows x (M, B, T)."""
    M = x.shape[0]
    # W_i x_t for a one-hot x_t is row x_t of member m's W_i
    offset = V * torch.arange(M, device=x.device)[:, None]
    rows = (x.permute(2, 0, 1) + offset).contiguous()
    U = F.embedding(rows, net.W_i.view(M * V, -1))
    args = (
        U.view(*rows.shape, 3, net.P) + net.b_i,
        net.W_h.view(M, net.P, -1),
        net.b_h,
    )
    if torch.is_grad_enabled():
        return GRUScan.apply(*args)
    return scan_forward(*args, keep=False)[1:]  # evaluation


def bits_per_symbol(net, x):
    """Mean log-loss in bits of each member on its own windows, over
    its scored positions t >= k: shape (M,)."""
    # h_{t-1} predicts x_t, t = 1 .. T-1: logits (V, T - 1, M, B),
    # the phase axis first (V is small)
    logits = torch.einsum(
        "tmbp,mpv->vtmb", gru_states(net, x)[:-1], net.W_o
    ) + net.b_o.permute(2, 1, 0).unsqueeze(3)
    target = x.permute(2, 0, 1)[1:].unsqueeze(0)
    # -log softmax at the phase that came
    nll = torch.logsumexp(logits, 0) - logits.gather(0, target)[0]
    total = (nll * net.scored).sum((0, 2))
    return total / (net.scored.sum((0, 2)) * x.shape[1] * math.log(2))


# %% [markdown]
# ## Training in two data regimes
#
# Every width is trained twice on each source. **Online**: fresh windows at every step, so a
# model can learn the program but never a sample; this family traces the tradeoff curve
# (C2-C4). **Small**: a fixed set of {glue:text}`n_small_windows:.0f` windows
# ({glue:text}`n_small_k3:.0f` scored symbols of the order-3 source,
# {glue:text}`n_small_k4:.0f` of the order-4 one), revisited all run, where wide models can
# memorise (C5). Tiny GRUs often stop in poor local optima, so the narrow online models get
# restarts; the one with the lowest loss on the validation windows represents its width and
# seed. Adam, cosine schedule, summed loss: each member gets exactly its own gradient.


# %%
class Member(tuple):
    """(source, regime, seed, width, restart) of one trained GRU."""

    src = property(lambda m: m[0])
    regime = property(lambda m: m[1])
    seed = property(lambda m: m[2])
    h = property(lambda m: m[3])
    r = property(lambda m: m[4])


# width -> padded width
pad_of = {
    h: min(P for P in SIZES["pad_to"] if P >= h) for h in SIZES["widths"]
}
REGIMES = ("online", "small")
members = [
    Member((name, regime, seed, h, r))
    for name in NAMES
    for regime in REGIMES
    for seed in ctx.seeds
    for h in SIZES["widths"]
    for r in range(
        SIZES["restarts"][pad_of[h]] if regime == "online" else 1
    )
]
groups = {
    P: [i for i, m in enumerate(members) if pad_of[m.h] == P]
    for P in SIZES["pad_to"]
}
# position of member i in its stack
slot = {i: j for idx in groups.values() for j, i in enumerate(idx)}


def init_seed(m):
    # the order-3 members keep the earlier version's initialisations
    return (
        100_000 * m.seed + 10 * m.h + m.r
        + 10_000_000 * NAMES.index(m.src)
    )  # fmt: skip


nets = {
    P: PaddedGRUs(
        P,
        [members[i].h for i in idx],
        [SRC[members[i].src]["k"] for i in idx],
        seeds=[init_seed(members[i]) for i in idx],
    ).to(ctx.device)
    for P, idx in groups.items()
}
glue(
    n_small_windows=SIZES["n_small"],
    **{
        f"n_small_{n}": SIZES["n_small"] * (T - SRC[n]["k"])
        for n in NAMES
    },
)
print(
    {P: len(idx) for P, idx in groups.items()},
    "members per padded width P;",
    len(members),
    "in all",
)


# %%
def training_streams(steps, batch):
    """Per (source, regime, seed): the windows of every step, fresh
    (online) or drawn from a fixed small set."""
    streams = {}
    for name, src in SRC.items():
        for seed in ctx.seeds:
            rng = stream(name, seed, 1)
            streams[name, "online", seed] = sample_windows(
                src, steps * batch, rng
            ).reshape(steps, batch, T)
            streams[name, "pool", seed] = sample_windows(
                src, SIZES["n_small"], stream(name, seed, 2)
            )
            streams[name, "small", seed] = streams[name, "pool", seed][
                rng.integers(0, SIZES["n_small"], (steps, batch))
            ]
    return streams


streams = training_streams(SIZES["steps"], SIZES["batch"])
stream_keys = [
    (name, regime, seed)
    for name in NAMES
    for regime in REGIMES
    for seed in ctx.seeds
]
stream_data = torch.tensor(
    np.stack([streams[key] for key in stream_keys]),
    dtype=torch.uint8,
    device=ctx.device,
)
stream_of = {
    P: torch.tensor(
        [stream_keys.index(members[i][:3]) for i in idx],
        device=ctx.device,
    )
    for P, idx in groups.items()
}


# %%
def train(nets, steps):
    """Adam on the summed loss of all members; returns every member's
    training loss per step."""
    opt = torch.optim.Adam(
        [
            {
                "params": net.parameters(),
                "lr": LR * min(1.0, math.sqrt(32 / P)),
            }
            for P, net in nets.items()
        ]
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    # training loss of every member per step
    curves = torch.zeros(steps, len(members), device=ctx.device)
    for s in range(steps):
        loss = 0.0
        for P, net in nets.items():
            bits = bits_per_symbol(
                net, stream_data[stream_of[P], s].long().to(ctx.device)
            )
            curves[s, groups[P]] = bits.detach()
            loss = loss + bits.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return curves.cpu().numpy()


# the negative control of C2 and C3: the same GRUs before training
untrained = copy.deepcopy(nets)
t0 = time.process_time()
curves = train(nets, SIZES["steps"])
print(
    f"trained {len(members)} GRUs for {SIZES['steps']} steps: "
    f"{time.process_time() - t0:.1f} s of CPU time"
)

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(8.4, 5.4), sharex=True)
norm = LogNorm(min(SIZES["widths"]), max(SIZES["widths"]))
smooth = np.ones(25) / 25
for row, name in zip(axes, NAMES, strict=True):
    src = SRC[name]
    for ax, regime in zip(row, REGIMES, strict=True):
        for h in SIZES["widths"]:
            mine = [i for i, m in enumerate(members) if m[:2] == (name, regime) and m.h == h and m.r == 0]
            ax.plot(np.convolve(curves[:, mine].mean(1), smooth, "valid"), color=plt.cm.viridis(norm(h)), lw=1)
        for j, H_j in enumerate(src["ladder"][:-1]):
            ax.axhline(H_j, color="grey", ls=":", lw=1, label="$H_j$: $j$ phases remembered" if j == 0 else None)
        ax.axhline(src["H"], color="k", ls="--", lw=1, label="entropy rate $H$")
        ax.set(title=f"order {src['k']}, {regime}: training loss", yscale="log")
    row[0].set_ylabel("bit/symbol")
for ax in axes[1]:
    ax.set_xlabel("training step")
axes[0, 0].legend(fontsize=8)
fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes, label="GRU width $h$")
plt.show()

# %% [markdown]
# ## The cost of a model: quantise, prune, compress
#
# `rnnbook.cost` (introduced here) prices each trained model: its weight matrices are pruned
# (the fraction $\rho$ of smallest magnitudes set to zero), then all six tensors are quantised to
# $b$ bits with one float32 scale each,
#
# $$
# q = \mathrm{round}\big(w / s\big) \in \{-(2^{b-1}-1), \dots, 2^{b-1}-1\}, \qquad s = \frac{\max |w|}{2^{b-1}-1},
# $$
#
# and the codes are compressed with LZMA2 (raw stream). The cost is the shorter of the stream and
# plain $b$-bit packing, plus one bit to say which and 32 bits per scale; the float model costs
# its compressed float32 bytes. Every variant runs with its own weights on its source's
# validation windows. A model's **compression boundary** is its cheapest variant within 1 % of
# the float model's *validation* loss; its test loss is what we report.


# %%
@torch.no_grad()
def held_out_bits(net, X):
    """Mean log-loss (bits) of every member of net on its own windows
    X[m] (M, N, T): shape (M,)."""
    total, chunk = np.zeros(len(net.widths)), SIZES["eval_chunk"]
    for start in range(0, X.shape[1], chunk):
        x = torch.as_tensor(
            X[:, start : start + chunk], device=ctx.device
        )
        total += bits_per_symbol(net, x).cpu().numpy() * x.shape[1]
    return total / X.shape[1]


def windows_of(idx, sets, key=lambda m: m.src):
    """The windows of each member in idx, stacked: (M, N, T)."""
    return np.stack([sets[key(members[i])] for i in idx])


def variant(i, bits, prune, family):
    """(weights, description length in bits) of member i of family,
    pruned by magnitude, then quantised."""
    own = [
        w.detach().cpu()
        for w in family[pad_of[members[i].h]].member(slot[i])
    ]
    pruned = [
        cost.prune_by_magnitude(w, prune) if j in (0, 2, 4) else w
        for j, w in enumerate(own)
    ]
    return (
        cost.quantized_copy(pruned, bits),
        cost.description_length(pruned, bits),
    )


# %%
test_loss, val_loss, train_loss = (
    np.full(len(members), np.nan) for _ in range(3)
)
pool_key = lambda m: (m.src, "pool", m.seed)  # noqa: E731
for P, net in nets.items():
    idx = groups[P]
    test_loss[idx] = held_out_bits(net, windows_of(idx, X_test))
    val_loss[idx] = held_out_bits(net, windows_of(idx, X_val))
    # every member on the small training set of its source and seed
    # (the small-regime members' training loss, C5's control)
    train_loss[idx] = held_out_bits(
        net, windows_of(idx, streams, pool_key)
    )
# (source, seed, width) -> the online restart with the lowest
# validation loss
chosen = {}
for i, m in enumerate(members):
    key = (m.src, m.seed, m.h)
    if m.regime == "online" and (
        key not in chosen or val_loss[i] < val_loss[chosen[key]]
    ):
        chosen[key] = i

# %%
VARIANTS = [(None, 0.0)] + [(b, p) for p in PRUNE for b in BITS]


def probe_losses(rows, X):
    """Loss of each priced variant in rows on its source's windows
    X[source], all variants of a padded width in one stack."""
    out = np.full(len(rows), np.nan)
    for P in SIZES["pad_to"]:
        sel = [j for j, r in enumerate(rows) if pad_of[r["width"]] == P]
        if not sel:
            continue
        idx = [rows[j]["member"] for j in sel]
        probe = PaddedGRUs(
            P,
            [members[i].h for i in idx],
            [SRC[members[i].src]["k"] for i in idx],
        ).to(ctx.device)
        for m, j in enumerate(sel):
            probe.load_member(m, rows[j]["weights"])
        out[sel] = held_out_bits(probe, windows_of(idx, X))
    return out


def price(family, chosen_members):
    """Every variant of the chosen members of a family: weights, cost
    (bits) and validation loss. The test loss is filled in later, for
    the variants chosen on validation only."""
    jobs = [(i, b, p) for i in chosen_members for b, p in VARIANTS]
    # LZMA runs outside the GIL
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        made = list(workers.map(lambda job: variant(*job, family), jobs))
    rows = []
    for (i, b, p), (weights, bits) in zip(jobs, made, strict=True):
        m = members[i]
        rows.append(dict(
            member=i, src=m.src, seed=m.seed, width=m.h, bits=b,
            prune=p, cost=bits, weights=weights, loss=math.nan,
        ))  # fmt: skip
    for r, val in zip(rows, probe_losses(rows, X_val), strict=True):
        r["val"] = val
    return rows


rows = price(nets, chosen.values())
# the control: the first restart of every online member, untrained,
# priced the same way
chosen_untrained = {
    (m.src, m.seed, m.h): i
    for i, m in enumerate(members)
    if m.regime == "online" and m.r == 0
}
rows_untrained = price(untrained, chosen_untrained.values())
print(
    f"{len(rows)} variants of {len(chosen)} trained models priced "
    f"(and {len(rows_untrained)} untrained)"
)

# %% [markdown]
# ## The cost-quality plane (C1, C2, C3)
#
# Each dot is one variant of one trained model, at its validation loss. The lower envelope of
# the cloud in cost and validation loss is the empirical tradeoff curve $L^*(C)$. Only the
# variants chosen on validation are then scored on the test windows: the envelope points, the
# compression boundaries (stars) and the best variant, the last point of the envelope. C2 asks
# that the procedure orders the family sensibly: boundaries below the raw float32 size,
# costlier as the width grows, and never worse in test loss than the previous width's. C3's
# "best model" is the variant with the lowest validation loss, reported on the test windows.


# %%
def n_params(h):
    return 3 * h * (V + h + 2) + V * (h + 1)


def boundary(i, rows):
    """The cheapest variant of member i whose validation loss is
    within EPS_BOUNDARY of its float model's."""
    mine = [r for r in rows if r["member"] == i]
    float_val = next(r["val"] for r in mine if r["bits"] is None)
    return min(
        (r for r in mine if r["val"] <= (1 + EPS_BOUNDARY) * float_val),
        key=lambda r: r["cost"],
    )


widths = SIZES["widths"]
bounds = {key: boundary(i, rows) for key, i in chosen.items()}
bounds_untrained = {
    key: boundary(i, rows_untrained)
    for key, i in chosen_untrained.items()
}
plane = {}
for name in NAMES:
    mine = [r for r in rows if r["src"] == name]
    C_s, val_s = (
        np.array([r[f] for r in mine], float) for f in ("cost", "val")
    )
    env = cost.lower_envelope(C_s, val_s)
    mine_u = [r for r in rows_untrained if r["src"] == name]
    plane[name] = dict(
        rows=mine, C=C_s, val=val_s, env=env,
        best=mine[env[-1]],  # lowest validation loss
        best_u=min(mine_u, key=lambda r: r["val"]),
    )  # fmt: skip
# the test windows see only the variants chosen above
selected = list({
    id(r): r
    for r in [*bounds.values(), *bounds_untrained.values()]
    + [p["rows"][i] for p in plane.values() for i in p["env"]]
    + [p["best_u"] for p in plane.values()]
}.values())  # fmt: skip
for r, test in zip(selected, probe_losses(selected, X_test), strict=True):
    r["loss"] = test
print(f"{len(selected)} chosen variants scored on the test windows")


# %%
def boundary_curve(bounds, name):
    """Seed means of the boundaries' cost and test loss, per width."""
    pick = lambda f: np.array([  # noqa: E731
        np.mean([bounds[name, s, h][f] for s in ctx.seeds])
        for h in widths
    ])  # fmt: skip
    return pick("cost"), pick("loss")


c1, c2, c3 = {}, {}, {}
for name, src in SRC.items():
    p = plane[name]
    b_cost, b_loss = boundary_curve(bounds, name)
    _, u_loss = boundary_curve(bounds_untrained, name)
    c2 |= {
        f"below_raw_{name}": float(np.mean([
            b["cost"] < 32 * n_params(b["width"])
            for key, b in bounds.items() if key[0] == name
        ])),
        f"cost_increasing_{name}": float(np.all(np.diff(b_cost) > 0)),
        f"max_loss_rise_{name}": float(np.max(np.diff(b_loss))),
        f"max_loss_rise_untrained_{name}": float(np.max(np.diff(u_loss))),
    }  # fmt: skip
    # selected on validation, reported on test
    best, best_u = p["best"]["loss"], p["best_u"]["loss"]
    c3 |= {
        f"excess_{name}": best - oracle_test[name],
        f"captured_{name}": (src["ladder"][0] - best)
        / (src["ladder"][0] - src["H"]),
        f"excess_untrained_{name}": best_u - oracle_test[name],
        f"best_{name}": best,
    }
    # every trained model and variant that met the test windows
    # (a guard, no selection)
    everything = [r["loss"] for r in selected if r["src"] == name] + [
        test_loss[i] for i, m in enumerate(members) if m.src == name
    ]
    c1 |= {
        f"H_{name}": src["H"],
        f"oracle_z_{name}": abs(oracle_test[name] - src["H"])
        / oracle_se[name],
        f"min_excess_{name}": float(np.nanmin(everything))
        - oracle_test[name],
    }
    glue(**{
        f"boundary_bits_{name}": float(np.median([
            b["bits"] or 32 for key, b in bounds.items() if key[0] == name
        ])),
        f"env_points_{name}": len(p["env"]),
        f"env_pruned_{name}": sum(
            p["rows"][i]["prune"] > 0 for i in p["env"]
        ),
    })  # fmt: skip
    print(
        f"{name} boundary (seed mean):",
        {
            h: (round(c), round(float(y), 3))
            for h, c, y in zip(widths, b_cost, b_loss, strict=True)
        },
    )
report.measure("C1", c1)
report.measure("C2", c2)
report.measure("C3", c3)
name_sources("C2"), name_sources("C3")
glue(**c2, **c3)
print(c1, c2, c3, sep="\n")

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharey=True)
marker = {0.0: "o", 0.5: "^"}
for ax, name in zip(axes, NAMES, strict=True):
    p, src = plane[name], SRC[name]
    for q in PRUNE:
        sel = np.array([r["prune"] == q for r in p["rows"]])
        ax.scatter(p["C"][sel], p["val"][sel], c=[r["width"] for r in np.array(p["rows"])[sel]], cmap="viridis",
                   norm=norm, marker=marker[q], s=12, alpha=0.5, label=f"pruned {q:.0%} (validation loss)")  # fmt: skip
    env = p["env"]
    ax.step(p["C"][env], p["val"][env], where="post", color="grey", lw=1, label="envelope on validation")
    ax.plot(p["C"][env], [p["rows"][i]["loss"] for i in env], "o-", color="k", ms=3, lw=1.2,
            label="envelope points, test loss")  # fmt: skip
    stars = [(b["cost"], b["loss"]) for key, b in bounds.items() if key[0] == name]
    ax.scatter(*zip(*stars, strict=True), marker="*", s=70, color="k", label="boundaries, test loss")
    ax.axhline(src["H"], color=plots.COLORBLIND[3], ls="--", label="entropy rate $H$ (floor)")
    ax.axhline(math.log2(V), color="grey", ls=":", label="uniform guess (free)")
    ax.set(xscale="log", yscale="log", xlabel="cost $C$: description length (bits)", title=f"order-{src['k']} source")
axes[0].set_ylabel("loss (bit/symbol)")
axes[0].legend(fontsize=7, loc="upper right")
fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes, label="GRU width $h$")
plt.show()

# %% [markdown]
# The paper's figure is not available to us; this one mirrors the summary's description (cost
# against quality, log-log, lower envelope), once per source. The floor holds on both. On the
# order-3 source the best variant (chosen on validation) is {glue:text}`excess_k3:.3f`
# bit/symbol above the oracle's {glue:text}`oracle_test_k3:.3f` on the test windows and closes
# {glue:text}`captured_k3:.0%` of the gap from $H_0$ to $H$; on the order-4 source it is
# {glue:text}`excess_k4:.3f` above the oracle's {glue:text}`oracle_test_k4:.3f` and closes
# {glue:text}`captured_k4:.0%`. The boundaries sit at a median of
# {glue:text}`boundary_bits_k3:.0f` and {glue:text}`boundary_bits_k4:.0f` bits per weight, and
# {glue:text}`env_pruned_k3:.0f` of {glue:text}`env_points_k3:.0f` and
# {glue:text}`env_pruned_k4:.0f` of {glue:text}`env_points_k4:.0f` envelope points are pruned
# variants.
#
# The order-4 program is the harder task: its ladder reaches $H$ only for a predictor that keeps
# four phases apart, here in a GRU of at most 32 units trained for 600 steps. Under the
# declared combination rule a claim must hold on both sources, so a shortfall on the order-4
# source decides C3 even where the order-3 source passes.
#
# The controls are the same GRUs before training, priced and selected by the same procedure.
# Their best variant is {glue:text}`excess_untrained_k3:.2f` and
# {glue:text}`excess_untrained_k4:.2f` bit/symbol above the oracle (C3 fails for them, as it
# must), and their boundary loss rises by up to {glue:text}`max_loss_rise_untrained_k3:.3f`
# and {glue:text}`max_loss_rise_untrained_k4:.3f` from one width to the next: C2's monotonicity
# check fails for untrained models. C2's other two checks (boundaries below the raw size, costs
# rising with width) would pass for untrained models too: they describe the pricing, and only
# the loss check carries evidence about learning.
#
# ## Regimes of the tradeoff curve (C4)
#
# The research notes fix the test before any run: fit the envelope's *excess* loss over the
# floor, $y = \log_2(L - H)$, against $u = \log_2 C$ with a continuous three-piece linear function,
# breakpoints $u_i < u_j$ at envelope points and at least three points per piece, by least
# squares over all admissible $(i, j)$:
#
# $$
# \log_2 (L - H) \approx a + s_1 u + (s_2 - s_1)(u - u_i)_+ + (s_3 - s_2)(u - u_j)_+ .
# $$
#
# The envelope points are chosen on the validation windows and fitted at their test loss
# (points worse than the free uniform guess on validation are left out, and so would be any
# whose test loss is not above $H$). Three regimes: a falling middle ($s_2 < 0$) at least
# twice as steep as both $s_1$ and $s_3$. Subtracting the floor matters: a curve that merely
# approaches $H$ flattens in $\log L$ near its end whatever the models do, while in
# $\log(L - H)$ a flat end means the models stopped closing the gap. "Partly" is declared for
# the cheap end alone (a falling middle, a flatter start, on both sources): the flat expensive
# end is the generic half. The fit of $\log_2 L$ is shown as context. The control asks whether
# the fit invents regimes: the same fit on one straight line through the first and last
# envelope points plus the fit's own residuals in shuffled order, a one-regime curve with the
# same scatter.


# %%
def three_segment_fit(u, y, min_points=3):
    """Best continuous 3-piece linear least-squares fit with
    breakpoints at data points: (i, j, slopes, fit)."""
    best_fit, n = None, len(u)
    for i in range(min_points - 1, n - 2 * min_points + 2):
        for j in range(i + min_points - 1, n - min_points + 1):
            A = np.stack([np.ones(n), u, np.maximum(u - u[i], 0),
                          np.maximum(u - u[j], 0)], 1)  # fmt: skip
            coef = np.linalg.lstsq(A, y, rcond=None)[0]
            sse = float(((A @ coef - y) ** 2).sum())
            if best_fit is None or sse < best_fit[0]:
                best_fit = (
                    sse, i, j, np.cumsum(coef[1:]).tolist(), A @ coef
                )  # fmt: skip
    return best_fit[1:]


def flatter(s2, s):
    """How many times steeper the middle slope is than an outer one."""
    return abs(s2) / abs(s) if s != 0 else math.inf


c4, fits = {}, {}
for name, src in SRC.items():
    p = plane[name]
    env = p["env"]
    test = np.array([p["rows"][i]["loss"] for i in env])
    keep = (p["val"][env] < math.log2(V)) & (test > src["H"])
    fits[name] = fit = dict(C=p["C"][env][keep], L=test[keep])
    if keep.sum() < 9:
        continue
    u, y = np.log2(fit["C"]), np.log2(fit["L"] - src["H"])
    bi, bj, (s1, s2, s3), fitted = three_segment_fit(u, y)
    # the control: one regime, same scatter
    line = y[0] + (y[-1] - y[0]) * (u - u[0]) / (u[-1] - u[0])
    y_line = line + np.random.default_rng(
        [ctx.seeds[0], 9, SRC[name]["k"]]
    ).permutation(y - fitted)
    _, _, (n1, n2, n3), _ = three_segment_fit(u, y_line)
    # context: the fit of log2 L
    _, _, (l1, l2, l3), _ = three_segment_fit(u, np.log2(fit["L"]))
    fit |= dict(u=u, y=y, bi=bi, bj=bj, fitted=fitted, line=y_line,
                slopes=(s1, s2, s3))  # fmt: skip
    c4 |= {f"{key}_{name}": v for key, v in dict(
        s2=s2, ratio_1=flatter(s2, s1), ratio_3=flatter(s2, s3),
        ratio_1_line=flatter(n2, n1), ratio_3_line=flatter(n2, n3),
        s1=s1, s3=s3, n_points=int(keep.sum()),
        logL_ratio_1=flatter(l2, l1), logL_ratio_3=flatter(l2, l3),
    ).items()}  # fmt: skip
short = [n for n in NAMES if f"s2_{n}" not in c4]
if short:
    report.untestable(
        "C4",
        "the 3-piece fit needs 9 envelope points; "
        + ", ".join(f"{n}: {len(fits[n]['C'])}" for n in short),
    )
else:
    report.measure("C4", c4)
    name_sources("C4")
    glue(**c4)
print({key: round(v, 3) for key, v in c4.items()})

# %% tags=["hide-input"]
assert not short, "C4 is not testable here: nothing to draw"
fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6), sharey=True)
for ax, name in zip(axes, NAMES, strict=True):
    f, src = fits[name], SRC[name]
    ax.plot(f["C"], f["L"] - src["H"], "o", ms=4, color="grey", label="envelope points (test loss)")
    for a, b, s, col in ((0, f["bi"], f["slopes"][0], 0), (f["bi"], f["bj"], f["slopes"][1], 1),
                         (f["bj"], len(f["u"]) - 1, f["slopes"][2], 2)):  # fmt: skip
        ax.plot(2 ** f["u"][a : b + 1], 2 ** f["fitted"][a : b + 1], color=plots.COLORBLIND[col], lw=2.5,
                label=f"slope {s:.2f}")  # fmt: skip
    ax.plot(2 ** f["u"], 2 ** f["line"], ":", color="k", lw=1, label="control: one line + residuals")
    ax.set(xscale="log", yscale="log", xlabel="cost $C$ (bits)", title=f"order-{src['k']} source: 3-piece fit")
    ax.legend(fontsize=7)
axes[0].set_ylabel("excess test loss $L - H$ (bit/symbol)")
plt.show()

# %% [markdown]
# The verdict is C4's row of the table at the end (each source's slopes and ratios are there
# too). On the order-3 source the fit gives slopes {glue:text}`s1_k3:.2f`,
# {glue:text}`s2_k3:.2f`, {glue:text}`s3_k3:.2f`: the middle is {glue:text}`ratio_1_k3:.3f`
# times steeper than the cheap end and {glue:text}`ratio_3_k3:.1f` times steeper than the
# expensive end. On the order-4 source: {glue:text}`s1_k4:.2f`, {glue:text}`s2_k4:.2f`,
# {glue:text}`s3_k4:.2f`, ratios {glue:text}`ratio_1_k4:.3f` and {glue:text}`ratio_3_k4:.1f`
# (three decimals: a ratio just below 2 fails the rule, however close).
# The one-line controls give {glue:text}`ratio_1_line_k3:.2f` and
# {glue:text}`ratio_3_line_k3:.2f` (order 3), {glue:text}`ratio_1_line_k4:.2f` and
# {glue:text}`ratio_3_line_k4:.2f` (order 4): that is how large a ratio a one-regime curve with
# the same scatter produces, and a passing control makes the claim inconclusive.
#
# The fit is fragile. Its breakpoints move with the seeds, and the ratios with them (the
# values for two other seed sets are in the tolerances table at the end). With the default
# seeds the order-3 cheap end is not twice flatter than the middle and the verdict is "not
# reproduced". With the seeds {2, 3} both sources pass every evidence check, but so does the
# order-4 one-line control's expensive end; with {4, 5} the order-4 control's cheap end passes.
# Both read "inconclusive": a straight line with the same scatter produces ratios as large as
# the envelope's. Three envelope pieces fitted to some twenty points cannot carry this claim at
# `ci` scale; we report the default seeds' verdict and say where it changes. The fit of $\log_2 L$ (context, never judged) gives
# cheap-end ratios of {glue:text}`logL_ratio_1_k3:.2f` and {glue:text}`logL_ratio_1_k4:.2f`
# and expensive-end ratios of {glue:text}`logL_ratio_3_k3:.0f` and
# {glue:text}`logL_ratio_3_k4:.0f`: on $\log L$ much of a flat end is the approach to the floor
# $H$, which any curve that nears $H$ shows.
#
# ## Memorisation beyond the knee (C5)
#
# In the small-data regime the widths see only a few thousand scored symbols. A model fits a
# finite sample better than the entropy rate only by storing its random branch outcomes and
# interrupts, "nuance variability", which do not transfer to new windows. The knee is the
# narrowest width whose training loss (seed mean) falls below $H$.


# %%
def by_seed(values, name, regime):
    """(seeds, widths) array of the first restarts (online: the
    restart chosen on validation)."""
    out = np.empty((len(ctx.seeds), len(widths)))
    for a, s in enumerate(ctx.seeds):
        for b, h in enumerate(widths):
            out[a, b] = values[
                chosen[name, s, h] if regime == "online"
                else members.index((name, regime, s, h, 0))
            ]  # fmt: skip
    return out


c5, curves5 = {}, {}
for name, src in SRC.items():
    tr = by_seed(train_loss, name, "small")
    te = by_seed(test_loss, name, "small")
    te_online = by_seed(test_loss, name, "online")
    # the control: the widest online GRUs on the small sets they never
    # saw (the restart chosen on validation)
    tr_online = by_seed(train_loss, name, "online")
    below = tr.mean(0) < src["H"]
    # first width with train loss below H
    knee = int(np.flatnonzero(below)[0]) if below.any() else None
    te_mean = te.mean(0)
    c5 |= {f"{key}_{name}": v for key, v in dict(
        train_minus_H=(tr[:, -1] - src["H"]).tolist(),
        test_gain_beyond_knee=(
            float(te_mean[knee] - te_mean[-1]) if knee is not None
            else math.nan
        ),
        train_minus_H_online=(tr_online[:, -1] - src["H"]).tolist(),
        knee_width=widths[knee] if knee is not None else None,
        test_widest=float(te_mean[-1]),
    ).items()}  # fmt: skip
    curves5[name] = dict(tr=tr, te=te, te_online=te_online, knee=knee)
    glue(**{
        f"knee_width_{name}": c5[f"knee_width_{name}"] or 0,
        f"train_widest_{name}": float(tr[:, -1].mean()),
        f"test_widest_{name}": c5[f"test_widest_{name}"],
        f"online_on_pool_{name}": float(tr_online[:, -1].mean()),
    })  # fmt: skip
report.measure("C5", c5)
name_sources("C5")
print({
    key: np.round(v, 3).tolist() if isinstance(v, list | float) else v
    for key, v in c5.items()
})  # fmt: skip

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6), sharey=True)
for ax, name in zip(axes, NAMES, strict=True):
    c, src = curves5[name], SRC[name]
    plots.seed_band(ax, widths, c["tr"], label="small set: train loss", color=plots.COLORBLIND[1], marker="o")
    plots.seed_band(ax, widths, c["te"], label="small set: test loss", color=plots.COLORBLIND[3], marker="s")
    plots.seed_band(ax, widths, c["te_online"], label="online: test loss", color=plots.COLORBLIND[0], marker="d")
    ax.axhline(src["H"], color="k", ls="--", lw=1, label="entropy rate $H$")
    if c["knee"] is not None:
        ax.axvline(widths[c["knee"]], color="grey", ls=":", label="knee: train loss < $H$")
    ax.set(xscale="log", yscale="log", xlabel="GRU width $h$", xticks=widths, xticklabels=widths,
           title=f"order-{src['k']} source: memory past the knee")  # fmt: skip
    ax.legend(fontsize=7)
axes[0].set_ylabel("loss (bit/symbol; band: range over seeds)")
plt.show()

# %% [markdown]
# With a small training set the widest GRUs' training loss is far below the entropy rate
# ({glue:text}`train_widest_k3:.3f` against $H =$ {glue:text}`H_k3:.3f` on the order-3 source,
# {glue:text}`train_widest_k4:.3f` against {glue:text}`H_k4:.3f` on the order-4 one), which no
# predictor can do on fresh data, while their test loss ({glue:text}`test_widest_k3:.3f` and
# {glue:text}`test_widest_k4:.3f`) is no better than at the knee (widths
# {glue:text}`knee_width_k3:.0f` and {glue:text}`knee_width_k4:.0f`). Trained online, the same
# widths keep improving toward $H$: the extra parameters store the sample, not the program.
# The control is the widest *online* GRU scored on the same small sets, which it never saw:
# {glue:text}`online_on_pool_k3:.3f` and {glue:text}`online_on_pool_k4:.3f` bit/symbol on
# average. A model that has learned the program without storing the sample scores about its
# test loss plus sampling noise there, and the pre-registered rule "below $H$" leaves no room
# for that noise (on the order-3 source one seed's control lands just below $H$); what carries
# the claim is the size of the memorising models' margin. On the order-4 source the knee comes
# late, one width before the widest, so the "no test gain beyond it" check rests on a single
# step: with the seeds {4, 5} the widest model still gains there and the verdict turns to "not
# reproduced" (tolerances table at the end).
#
# ## Exact checks
#
# Independent of profile, seed and device: the sources are distributions, $\pi$ is stationary,
# the padding is still exactly zero after training, the hand-written backward pass agrees with
# finite differences, and each envelope is monotone in validation loss.


# %% tags=["nbval-check-output"]
def padding_untouched(net):
    clone = copy.deepcopy(net)
    for m in range(len(net.widths)):
        clone.load_member(
            m, [torch.zeros_like(w) for w in clone.member(m)]
        )
    return all(bool((p == 0).all()) for p in clone.parameters())


g = torch.Generator().manual_seed(0)
args = (
    # U: T=4, M=2, B=3, P=5
    torch.randn(
        4, 2, 3, 3, 5, generator=g, dtype=torch.float64, requires_grad=True
    ),
    (
        0.5 * torch.randn(2, 5, 15, generator=g, dtype=torch.float64)
    ).requires_grad_(),
    torch.randn(
        2, 1, 3, 5, generator=g, dtype=torch.float64, requires_grad=True
    ),
)
print(
    "next-phase tables' rows sum to 1:",
    all(np.allclose(s["table"].sum(1), 1.0) for s in SRC.values()),
)
print(
    "pi is stationary:",
    all(
        np.abs(
            (s["pi"][:, None] * s["table"]).reshape(V, -1, V).sum(0)
            .ravel() - s["pi"]
        ).max()
        < 1e-12
        for s in SRC.values()
    ),
)
print(
    "padding of every stack still exactly zero:",
    all(padding_untouched(net) for net in nets.values()),
)
print(
    "hand-written BPTT passes gradcheck:",
    torch.autograd.gradcheck(GRUScan.apply, args),
)
print(
    "envelopes: cost rises, validation loss falls:",
    all(
        np.all(np.diff(p["C"][p["env"]]) > 0)
        and np.all(np.diff(p["val"][p["env"]]) < 0)
        for p in plane.values()
    ),
)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`, the absolute change a re-execution on another CPU or thread
# count may show. To choose it, the chapter was re-executed in `ci` with one and with two
# threads (same seeds, 0 and 1) and with two other seed sets, {2, 3} and {4, 5}
# (`python -m rnnbook.runner variation a02 --seeds 2,3 --seeds 4,5`). The table gives, per
# check, the change between the two thread paths, the largest change between seed sets, and the
# verdicts seen. Each `tol` is at least three times the thread-path change and at least the
# seed-set change (and never below the earlier version's value), rounded up to a 1-2-5 step;
# the cell fails if a `tol` is below the thread-path change. One and two threads give
# bit-identical numbers for every check. The verdicts of C1, C2 and C3 are the same in every
# run; C4 is "not reproduced" with the default seeds and "inconclusive" with both other seed
# sets (a one-line control passes); C5 is "not reproduced" with {4, 5}, where the order-4
# source's widest model still gains on test past a late knee.

# %%
report.tolerances("../../data/a02_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Reconstructed, not replicated.** The paper's text, figures and code were not available:
#   the procedure (quantise, prune, compress; envelope; boundary within 1 % loss), the sources,
#   the model family and every threshold are our reconstruction from the abstract and a
#   third-party summary, and no number of the paper is compared here (it gives none that we
#   could read).
# - **Data.** Two synthetic "program" sources, order 3 and order 4 over the same phases
#   (branches, rare interrupts), instead of traces of real executions: their entropy rates are
#   known exactly, and no traces are available offline. Two sources are the least that "different
#   tasks" asks for; both must pass for a verdict.
# - **Scale (ci miniature).** 6 phases, GRUs of width 1 to 32, 600 steps of 32 windows of 12
#   phases, 2 seeds. The full profile (16 phases, widths up to 1024, windows of 24, 3000 steps
#   of 256 windows, 3 seeds) is sized for one GPU; the committed notebook is the ci run.
# - **Family.** GRUs only (no LSTM), magnitude pruning without retraining, symmetric uniform
#   quantisation with one float32 scale per tensor, LZMA2 as the coder. A stronger coder or
#   quantisation-aware training would move the whole curve to the left.
# - **Rules.** C4 fits $\log_2(L - H)$ as the research notes specify; the $\log_2 L$ fit is
#   context. The notes' rule has no "partly"; we declare one, for a falling middle with a flatter
#   cheap end, the regime that distinguishes the claim.
# - **Selection.** Every choice (restart, compression boundary, envelope, best model) is made
#   on validation windows and reported on separate test windows. An earlier version chose C3's
#   best model and the boundaries on the test windows themselves, a small optimistic bias.
# - **Restarts.** The narrow GRUs (width up to 8) are trained from 3 initialisations each and the
#   best on validation windows is kept. An earlier version without restarts had a noisier cheap
#   end, and the C4 verdict changed with the seeds.

# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
