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
# log-loss, and the data come from a synthetic "program-phase" source whose entropy rate, the
# floor of the curve, is known exactly. The numbers are ours, not the paper's; the ci profile is
# a miniature (GRUs of width 1 to 32).

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
        V=6, k=3, widths=[1, 2, 3, 4, 6, 8, 12, 16, 24, 32],
        pad_to=[8, 32],
        restarts={8: 3, 32: 1},
        T=12, batch=32, steps=600,
        n_small=128, n_test=1024, eval_chunk=256,
    ),
    full=dict(
        V=16, k=3, widths=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        pad_to=[8, 32, 64, 128, 256, 512, 1024],
        restarts={8: 4, 32: 2, 64: 2, 128: 2, 256: 1, 512: 1, 1024: 1},
        T=24, batch=256, steps=3000,
        n_small=512, n_test=8192, eval_chunk=256,
    ),
)  # fmt: skip
# The design, identical in both profiles:
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
# model's loss
EPS_BOUNDARY = 0.01
V, k, T = SIZES["V"], SIZES["k"], SIZES["T"]

# %% [markdown]
# All pass rules are fixed here, before any experiment. The paper gives no numbers, so the
# thresholds come from our research notes: 0.1 bit/symbol for "approaching the floor", a
# 3-piece fit of log *excess* loss, $\log_2(L - H)$, against $\log_2 C$ with outer slopes flatter
# than the middle by a factor of 2 for "distinct regimes", 1 % loss for the compression boundary.
# (An earlier version of this chapter fitted $\log_2 L$ instead, which drifted from the notes
# without saying so; the notes' fit is restored as the evidence, and the $\log_2 L$ fit is shown
# beside it as context.) C1 holds by construction (a textbook inequality, checked as a guard on
# the implementation); every other claim is empirical and has a negative control, the same
# statistic on a model or curve where it must fail: untrained GRUs (C2, C3), a one-regime
# straight line with the fit's own scatter (C4), and models that never saw the small training
# set (C5). `tol` says how far a re-run on another CPU or thread count may move each number
# (derived at the end of the chapter).

# %% tags=["hide-input"]
# fmt: off
TITLE = "The cost-quality tradeoff of resource-constrained sequence prediction"
report = claims.Report(ctx, title=TITLE)
E, K, X = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "Theory: at any description length the best held-out loss is bounded below by the "
    "entropy rate.", kind="construction", paper="theory (no number)",
    checks=[
        X("H", "exact entropy rate of the source (bit/symbol)", tol=1e-06),
        E("oracle_z", "<=", 4.0, "|oracle's test loss − H| in standard errors", tol=1.0),
        E("min_excess", ">", -0.01, "lowest test loss of any model − the oracle's", tol=0.005),
    ])
report.claim(
    "C2", "Empirical procedure: description length vs held-out log-loss over a model family; the "
    "envelope is monotone.", kind="empirical", paper="procedure (no number)",
    checks=[
        E("below_raw", "==", 1.0, "share of compression boundaries below raw float32 size", tol=0),
        E("cost_increasing", "==", 1.0, "boundary cost (seed mean) rises with every width", tol=0),
        E("max_loss_rise", "<=", 0.02, "largest rise of boundary loss, width to width", tol=0.005),
        K("max_loss_rise_untrained", "max_loss_rise", "the same for untrained GRUs", tol=0.02),
    ])
report.claim(
    "C3", "The best models approach the source's entropy rate.", kind="empirical",
    paper="reached (no number)", partial=["captured"],
    checks=[
        E("excess", "<=", 0.1, "best test loss − the oracle's (bit/symbol)", tol=0.005),
        E("captured", ">=", 0.9, "share of the gap H_0 → H closed by the best", tol=0.01),
        K("excess_untrained", "excess", "the same, best variant of an untrained GRU", tol=0.02),
        X("best", "best test loss over all variants (bit/symbol)", tol=0.02),
    ])
report.claim(
    "C4", "Three regimes in log-log: large cost for little gain, a roughly linear middle, large "
    "cost for marginal gain.", kind="empirical", paper="three phases (no slopes given)",
    partial=["s2", "ratio_1"],
    checks=[
        E("s2", "<", 0, "middle slope of the 3-piece fit of log2(L − H) vs log2 C", tol=0.5),
        E("ratio_1", ">=", 2.0, "|s2| / |s1|: cheap end flatter than the middle", tol=5.0),
        E("ratio_3", ">=", 2.0, "|s2| / |s3|: expensive end flatter than the middle", tol=50.0),
        K("ratio_1_line", "ratio_1", "one straight line + the fit's residuals, shuffled", tol=0.5),
        K("ratio_3_line", "ratio_3", "one straight line + the fit's residuals, shuffled", tol=5.0),
        X("s1", "cheap-end slope of the log2(L − H) fit", tol=1.0),
        X("s3", "expensive-end slope of the log2(L − H) fit", tol=0.5),
        X("n_points", "envelope points fitted (< 9: not testable)", tol=5.0),
        X("logL_ratio_1", "|s2| / |s1| of the earlier fit of log2 L", tol=0.2),
        X("logL_ratio_3", "|s2| / |s3| of the earlier fit of log2 L", tol=20.0),
    ])
report.claim(
    "C5", "Beyond the knee extra parameters memorise: train loss falls below H while test loss "
    "stops improving.", kind="empirical", paper="boundary grows with no test gain (no number)",
    checks=[
        E("train_minus_H", "<", 0, "widest model's loss on its small training set − H", tol=0.05),
        E("test_gain_beyond_knee", "<=", 0.02, "test loss at the knee − the widest's", tol=0.05),
        K("train_minus_H_online", "train_minus_H", "widest online GRU (never saw it)", tol=0.1),
        X("knee_width", "narrowest width whose train loss (seed mean) is below H", tol=8),
        X("test_widest", "test loss of the widest small-set model (seed mean)", tol=0.1),
    ])
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


table = program_source(V, k, **SOURCE)
pi = stationary(table, V)
H = float(pi @ entropy_bits(table))
ladder = [conditional_entropy(table, pi, V, j) for j in range(k + 1)]
glue(H=H, H0=ladder[0], H1=ladder[1], H2=ladder[2])
print(f"{V} phases, {V**k} contexts; entropy rate H = {H:.4f} bit/symbol")
print(
    "ladder H_0..H_k:",
    np.round(ladder, 3),
    f"(uniform guess: {math.log2(V):.3f})",
)

# %% [markdown]
# The phase frequencies alone are worth little ($H_0 =$ {glue:text}`H0:.3f` bit/symbol, close to
# the uniform guess); each remembered phase helps ($H_1 =$ {glue:text}`H1:.3f`,
# $H_2 =$ {glue:text}`H2:.3f`), and only all $k$ reach $H =$ {glue:text}`H:.3f` (the grey
# levels in the training figure below). Windows of $T$
# phases start from a context drawn from $\pi$; every loss below is averaged over the positions
# $t \ge k$, where the true predictive distribution is exactly $P(\cdot \mid c_t)$.


# %%
def sample_windows(n, rng):
    """n stationary windows of T phases (each starts from a context
    drawn from pi): (n, T) ints."""
    C = V**k
    c = rng.choice(C, size=n, p=pi)
    x = np.empty((n, T), dtype=np.int64)
    for j in range(k):
        x[:, j] = (c // V ** (k - 1 - j)) % V
    cdf = np.cumsum(table, 1)
    for t in range(k, T):
        x[:, t] = np.minimum(
            (rng.random(n)[:, None] > cdf[c]).sum(1), V - 1
        )
        c = (c * V + x[:, t]) % C
    return x


def oracle_bits(x):
    """-log2 P(x_t | c_t) of the true source at the positions t >= k:
    shape (n, T - k)."""
    c = sum(x[:, j] * V ** (k - 1 - j) for j in range(k))
    out = np.empty((len(x), T - k))
    for t in range(k, T):
        out[:, t - k] = -np.log2(table[c, x[:, t]])
        c = (c * V + x[:, t]) % V**k
    return out


# %%
X_test = sample_windows(
    SIZES["n_test"], np.random.default_rng([ctx.seeds[0], 7])
)
X_val = sample_windows(
    SIZES["n_test"] // 4, np.random.default_rng([ctx.seeds[0], 8])
)
oracle_window = oracle_bits(X_test).mean(1)
oracle_test = float(oracle_window.mean())
oracle_se = float(
    oracle_window.std(ddof=1) / math.sqrt(len(oracle_window))
)
glue(oracle_test=oracle_test)
print(
    f"oracle loss on the test windows: {oracle_test:.4f} ± "
    f"{oracle_se:.4f} bit/symbol (H = {H:.4f})"
)

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
# To train all widths, seeds and regimes at once, members of width $h \le P$ are stacked and
# zero-padded to a width $P$. The padding is exact: a unit with all-zero weights and biases has
# $n = \tanh(0) = 0$, stays at $h = 0$ and is read by nothing, so its gradients are exactly zero
# and Adam never moves it (checked at the end). Each member has its own seeded initialisation,
# $U(-1/\sqrt{h}, 1/\sqrt{h})$ as in `torch.nn.GRU`.


# %%
class PaddedGRUs(nn.Module):
    """M independent GRU next-phase predictors; member m has width
    widths[m] <= P, zero-padded to P."""

    def __init__(self, P, widths, seeds=None):
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
def scan_forward(U, W_h, b_h):
    """GRU hidden states H (T, M, B, P) from U (T, M, B, 3, P) =
    W_i x_t + b_i, W_h (M, P, 3P), b_h (M, 1, 3, P)."""
    T, M, B, _, P = U.shape
    h = U.new_zeros(M, B, P)
    H, RZ, N, Gn = [h], [], [], []
    for t in range(T):
        # g_t = W_h h_{t-1} + b_h
        g = torch.baddbmm(b_h.view(M, 1, 3 * P), h, W_h).view(M, B, 3, P)
        # gates r_t and z_t
        rz = torch.sigmoid(U[t, :, :, :2] + g[:, :, :2])
        n = torch.tanh(
            torch.addcmul(U[t, :, :, 2], rz[:, :, 0], g[:, :, 2])
        )
        h = torch.addcmul(n, rz[:, :, 1], h - n)  # (1 - z) n + z h_{t-1}
        H.append(h), RZ.append(rz), N.append(n), Gn.append(g[:, :, 2])
    return [torch.stack(a) for a in (H, RZ, N, Gn)]  # H includes h_0 = 0


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
    carry, dh_all, dg_all = torch.zeros_like(H[0]), [None] * T, [None] * T
    for t in range(T - 1, -1, -1):
        dh_all[t] = dh = dH[t] + carry  # delta_t
        dg_all[t] = dg = dh.unsqueeze(2) * K[t]  # (M, B, 3, P)
        carry = torch.baddbmm(
            dh * Z[t], dg.view(M, B, 3 * P), W_h.transpose(1, 2)
        )
    dG, dh = torch.stack(dg_all), torch.stack(dh_all)
    dU = torch.cat([dG[:, :, :, :2], (dh * dn).unsqueeze(3)], 3)
    dW = torch.einsum("tmbi,tmbj->mij", H[:-1], dG.view(T, M, B, 3 * P))
    return dU, dW, dG.sum((0, 2)).unsqueeze(1)


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
def gru_forward(net, x):
    """Next-phase logits (M, B, T, V) of every member for its own
    windows x (M, B, T)."""
    M, B, _ = x.shape
    onehot = F.one_hot(x, V).to(net.W_i.dtype).view(M, -1, V)
    U = (
        torch.bmm(onehot, net.W_i.view(M, V, -1)).view(M, B, -1, 3, net.P)
        + net.b_i.unsqueeze(1)
    )
    H = GRUScan.apply(
        U.permute(2, 0, 1, 3, 4).contiguous(),
        net.W_h.view(M, net.P, -1),
        net.b_h,
    )
    return (
        torch.einsum("tmbp,mpv->mbtv", H, net.W_o) + net.b_o.unsqueeze(1)
    )


def bits_per_symbol(net, x):
    """Mean log-loss in bits of each member on its own windows, over
    the positions t >= k: shape (M,)."""
    logits = gru_forward(net, x)[:, :, k - 1 : -1]
    nll = F.cross_entropy(
        logits.reshape(-1, V), x[:, :, k:].reshape(-1), reduction="none"
    )
    return nll.view(len(x), -1).mean(1) / math.log(2)


# %% [markdown]
# ## Training in two data regimes
#
# Every width is trained twice. **Online**: fresh windows at every step, so a model can learn
# the program but never a sample; this family traces the tradeoff curve (C2-C4). **Small**: a
# fixed set of {glue:text}`n_small_symbols:.0f` scored symbols, revisited all run, where wide models
# can memorise (C5). Tiny GRUs often stop in poor local optima, so the narrow online models get
# restarts; the one with the lowest loss on separate validation windows represents its width and
# seed. Adam, cosine schedule, summed loss: each member gets exactly its own gradient.


# %%
# width -> padded width
pad_of = {
    h: min(P for P in SIZES["pad_to"] if P >= h) for h in SIZES["widths"]
}
REGIMES = ("online", "small")
members = [
    (regime, seed, h, r)
    for regime in REGIMES
    for seed in ctx.seeds
    for h in SIZES["widths"]
    for r in range(
        SIZES["restarts"][pad_of[h]] if regime == "online" else 1
    )
]
groups = {
    P: [i for i, m in enumerate(members) if pad_of[m[2]] == P]
    for P in SIZES["pad_to"]
}
# position of member i in its stack
slot = {i: j for idx in groups.values() for j, i in enumerate(idx)}
nets = {
    P: PaddedGRUs(
        P,
        [members[i][2] for i in idx],
        seeds=[
            100_000 * members[i][1] + 10 * members[i][2] + members[i][3]
            for i in idx
        ],
    ).to(ctx.device)
    for P, idx in groups.items()
}
glue(n_small_symbols=SIZES["n_small"] * (T - k))
print(
    {P: len(idx) for P, idx in groups.items()},
    "members per padded width P;",
    len(members),
    "in all",
)


# %%
def training_streams(steps, batch):
    """Per (regime, seed): the windows of every step, fresh (online)
    or drawn from a fixed small set."""
    streams = {}
    for seed in ctx.seeds:
        rng = np.random.default_rng([seed, 1])
        streams["online", seed] = sample_windows(
            steps * batch, rng
        ).reshape(steps, batch, T)
        streams["pool", seed] = sample_windows(
            SIZES["n_small"], np.random.default_rng([seed, 2])
        )
        streams["small", seed] = streams["pool", seed][
            rng.integers(0, SIZES["n_small"], (steps, batch))
        ]
    return streams


streams = training_streams(SIZES["steps"], SIZES["batch"])
stream_keys = [(regime, seed) for regime in REGIMES for seed in ctx.seeds]
stream_data = torch.tensor(
    np.stack([streams[key] for key in stream_keys]),
    dtype=torch.uint8,
    device=ctx.device,
)
stream_of = {
    P: torch.tensor(
        [stream_keys.index(members[i][:2]) for i in idx], device=ctx.device
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
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.0), sharey=True)
norm = LogNorm(min(SIZES["widths"]), max(SIZES["widths"]))
smooth = np.ones(25) / 25
for ax, regime in zip(axes, REGIMES, strict=True):
    for h in SIZES["widths"]:
        mine = [i for i, m in enumerate(members) if m[0] == regime and m[2] == h and m[3] == 0]
        ax.plot(np.convolve(curves[:, mine].mean(1), smooth, "valid"), color=plt.cm.viridis(norm(h)), lw=1)
    for j, H_j in enumerate(ladder[:-1]):
        ax.axhline(H_j, color="grey", ls=":", lw=1, label="$H_j$: $j$ phases remembered" if j == 0 else None)
    ax.axhline(H, color="k", ls="--", lw=1, label="entropy rate $H$")
    ax.set(xlabel="training step", title=f"{regime} regime: training loss", yscale="log")
axes[0].set_ylabel("bit/symbol")
axes[0].legend()
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
# its compressed float32 bytes. Every variant runs with its own weights on the same test windows;
# a model's **compression boundary** is its cheapest variant within 1 % of the float model's loss.


# %%
@torch.no_grad()
def held_out_bits(net, X):
    """Mean log-loss (bits) of every member of net on the same windows
    X (N, T): shape (M,)."""
    total, chunk = np.zeros(len(net.widths)), SIZES["eval_chunk"]
    for start in range(0, len(X), chunk):
        x = torch.as_tensor(X[start : start + chunk], device=ctx.device)
        total += bits_per_symbol(
            net, x.expand(len(net.widths), -1, -1)
        ).cpu().numpy() * len(x)
    return total / len(X)


def variant(i, bits, prune, family):
    """(weights, description length in bits) of member i of family,
    pruned by magnitude, then quantised."""
    own = [
        w.detach().cpu()
        for w in family[pad_of[members[i][2]]].member(slot[i])
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
for P, net in nets.items():
    test_loss[groups[P]], val_loss[groups[P]] = (
        held_out_bits(net, X_test),
        held_out_bits(net, X_val),
    )
    # the small-regime members on their own training windows
    for seed in ctx.seeds:
        own = [
            j
            for j, i in enumerate(groups[P])
            if members[i][:2] == ("small", seed)
        ]
        train_loss[[groups[P][j] for j in own]] = held_out_bits(
            net, streams["pool", seed]
        )[own]
# (seed, width) -> the online restart with the lowest validation loss
chosen = {}
for i, (regime, seed, h, _) in enumerate(members):
    if regime == "online" and (
        (seed, h) not in chosen or val_loss[i] < val_loss[chosen[seed, h]]
    ):
        chosen[seed, h] = i

# %%
VARIANTS = [(None, 0.0)] + [(b, p) for p in PRUNE for b in BITS]


def price(family, chosen_members):
    """Every variant of the chosen members of a family: cost (bits)
    and test loss."""
    rows = []
    # LZMA runs outside the GIL
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        for P in family:
            jobs = [
                (i, b, p)
                for i in chosen_members
                if pad_of[members[i][2]] == P
                for b, p in VARIANTS
            ]
            made = list(
                workers.map(lambda job: variant(*job, family), jobs)
            )
            probe = PaddedGRUs(
                P, [members[i][2] for i, _, _ in jobs]
            ).to(ctx.device)
            for m, (weights, _) in enumerate(made):
                probe.load_member(m, weights)
            for (i, b, p), (_, bits), loss in zip(
                jobs, made, held_out_bits(probe, X_test), strict=True
            ):
                rows.append(dict(
                    member=i, seed=members[i][1], width=members[i][2],
                    bits=b, prune=p, cost=bits, loss=loss,
                ))  # fmt: skip
    return rows


rows = price(nets, chosen.values())
# the control: the first restart of every online member, untrained,
# priced the same way
chosen_untrained = {
    (m[1], m[2]): i
    for i, m in enumerate(members)
    if m[0] == "online" and m[3] == 0
}
rows_untrained = price(untrained, chosen_untrained.values())
C_all, L_all = (
    np.array([r["cost"] for r in rows], float),
    np.array([r["loss"] for r in rows]),
)
print(
    f"{len(rows)} variants of {len(chosen)} trained models measured "
    f"(and {len(rows_untrained)} untrained)"
)

# %% [markdown]
# ## The cost-quality plane (C1, C2, C3)
#
# Each dot is one variant of one trained model; the lower envelope of the cloud is the empirical
# tradeoff curve $L^*(C)$, the stars are the compression boundaries. C2 asks that the procedure
# orders the family sensibly: boundaries below the raw float32 size, costlier as the width grows,
# and never worse in loss than the previous width's.


# %%
def n_params(h):
    return 3 * h * (V + h + 2) + V * (h + 1)


def boundary(i, rows=rows):
    """The cheapest variant of member i whose loss is within
    EPS_BOUNDARY of its float loss."""
    mine = [r for r in rows if r["member"] == i]
    float_loss = next(r["loss"] for r in mine if r["bits"] is None)
    return min(
        (r for r in mine if r["loss"] <= (1 + EPS_BOUNDARY) * float_loss),
        key=lambda r: r["cost"],
    )


def boundary_curve(bounds):
    """Seed means of the boundaries' cost and loss, per width."""
    b_cost = np.array([
        np.mean([bounds[s, h]["cost"] for s in ctx.seeds]) for h in widths
    ])  # fmt: skip
    b_loss = np.array([
        np.mean([bounds[s, h]["loss"] for s in ctx.seeds]) for h in widths
    ])  # fmt: skip
    return b_cost, b_loss


widths = SIZES["widths"]
bounds = {key: boundary(i) for key, i in chosen.items()}
b_cost, b_loss = boundary_curve(bounds)
u_cost, u_loss = boundary_curve(
    {
        key: boundary(i, rows_untrained)
        for key, i in chosen_untrained.items()
    }
)
c2 = dict(
    below_raw=float(np.mean([
        b["cost"] < 32 * n_params(b["width"]) for b in bounds.values()
    ])),
    cost_increasing=float(np.all(np.diff(b_cost) > 0)),
    max_loss_rise=float(np.max(np.diff(b_loss))),
    max_loss_rise_untrained=float(np.max(np.diff(u_loss))),
)
report.measure("C2", c2)
glue(
    max_loss_rise_untrained=c2["max_loss_rise_untrained"],
    untrained_loss=float(u_loss.mean()),
)
glue(
    boundary_bits=float(
        np.median([b["bits"] or 32 for b in bounds.values()])
    )
)
print(
    "boundary (seed mean):",
    {
        h: (round(c), round(float(y), 3))
        for h, c, y in zip(widths, b_cost, b_loss, strict=True)
    },
)
print(c2)

# %%
env = cost.lower_envelope(C_all, L_all)
best = float(L_all.min())
best_untrained = min(r["loss"] for r in rows_untrained)
c3 = dict(
    best=best,
    excess=best - oracle_test,
    captured=(ladder[0] - best) / (ladder[0] - H),
    excess_untrained=best_untrained - oracle_test,
)
report.measure("C3", c3)
# all variants, all restarts, both regimes
everything = np.concatenate([L_all, test_loss])
c1 = dict(
    H=H,
    oracle_z=abs(oracle_test - H) / oracle_se,
    min_excess=float(everything.min() - oracle_test),
)
report.measure("C1", c1)
glue(
    best=best,
    excess=c3["excess"],
    env_points=len(env),
    env_pruned=sum(rows[i]["prune"] > 0 for i in env),
    excess_untrained=c3["excess_untrained"],
)
print(c1, c3, sep="\n")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.0, 4.2))
marker = {0.0: "o", 0.5: "^"}
for p in PRUNE:
    sel = np.array([r["prune"] == p for r in rows])
    ax.scatter(C_all[sel], L_all[sel], c=[r["width"] for r in np.array(rows)[sel]], cmap="viridis", norm=norm,
               marker=marker[p], s=14, alpha=0.7, label=f"pruned {p:.0%}")  # fmt: skip
ax.step(C_all[env], L_all[env], where="post", color="k", lw=1.2, label="lower envelope $L^*(C)$")
ax.scatter(*zip(*[(b["cost"], b["loss"]) for b in bounds.values()], strict=True), marker="*", s=70, color="k",
           label="compression boundaries")  # fmt: skip
ax.axhline(H, color=plots.COLORBLIND[3], ls="--", label="entropy rate $H$ (floor)")
ax.axhline(math.log2(V), color="grey", ls=":", label="uniform guess (free)")
ax.set(xscale="log", yscale="log", xlabel="cost $C$: description length of the parameters (bits)",
       ylabel="held-out loss $L$ (bit/symbol)", title="The cost-quality plane of the GRU family")  # fmt: skip
fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label="GRU width $h$")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# The paper's figure is not available to us; this one mirrors the summary's description (cost
# against quality, log-log, lower envelope). The floor holds and is nearly reached: the best
# loss is {glue:text}`best:.3f` bit/symbol, {glue:text}`excess:.3f` above the oracle's
# {glue:text}`oracle_test:.3f` on the same windows. The boundaries sit at a median of
# {glue:text}`boundary_bits:.0f` bits per weight, and {glue:text}`env_pruned:.0f` of the
# {glue:text}`env_points:.0f` envelope points are pruned variants.
#
# The controls are the same GRUs before training, priced by the same procedure. Their best
# variant is {glue:text}`excess_untrained:.2f` bit/symbol above the oracle (C3 fails for them,
# as it must), and their boundary loss, {glue:text}`untrained_loss:.2f` bit/symbol on average,
# rises by up to {glue:text}`max_loss_rise_untrained:.3f` from one width to the next: C2's
# monotonicity check fails for untrained models. C2's other two checks (boundaries below the raw size, costs rising with width) would
# pass for untrained models too: they describe the pricing, and only the loss check carries
# evidence about learning.
#
# ## Regimes of the tradeoff curve (C4)
#
# The research notes fix the test before any run: fit the envelope's *excess* loss over the
# floor, $y = \log_2(L - H)$, against $u = \log_2 C$ with a continuous three-piece linear function,
# breakpoints $u_i < u_j$ at envelope points and at least three points per piece, by least
# squares over all admissible $(i, j)$ (envelope points worse than the free uniform guess are
# left out):
#
# $$
# \log_2 (L - H) \approx a + s_1 u + (s_2 - s_1)(u - u_i)_+ + (s_3 - s_2)(u - u_j)_+ .
# $$
#
# Three regimes: a falling middle ($s_2 < 0$) at least twice as steep as both $s_1$ and $s_3$.
# Subtracting the floor matters: a curve that merely approaches $H$ flattens in $\log L$ near
# its end whatever the models do, while in $\log(L - H)$ a flat end means the models stopped
# closing the gap. "Partly" is declared for the cheap end alone (a falling middle, a flatter
# start): the flat expensive end is the generic half. The earlier fit of $\log_2 L$ is shown as
# context. The control asks whether the fit invents regimes: the same fit on one straight line
# through the first and last envelope points plus the fit's own residuals in shuffled order, a
# one-regime curve with the same scatter.


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


useful = env[L_all[env] < math.log2(V)]
u, y = np.log2(C_all[useful]), np.log2(L_all[useful] - H)
if len(useful) >= 9:
    bi, bj, (s1, s2, s3), fitted = three_segment_fit(u, y)
    # the control: one regime, same scatter
    line = y[0] + (y[-1] - y[0]) * (u - u[0]) / (u[-1] - u[0])
    y_line = line + (
        np.random.default_rng([ctx.seeds[0], 9]).permutation(y - fitted)
    )
    _, _, (n1, n2, n3), _ = three_segment_fit(u, y_line)
    # the earlier fit, log2 L
    _, _, (l1, l2, l3), _ = three_segment_fit(u, np.log2(L_all[useful]))
    c4 = dict(
        s2=s2, ratio_1=flatter(s2, s1), ratio_3=flatter(s2, s3),
        ratio_1_line=flatter(n2, n1), ratio_3_line=flatter(n2, n3),
        s1=s1, s3=s3, n_points=len(useful),
        logL_ratio_1=flatter(l2, l1), logL_ratio_3=flatter(l2, l3),
    )  # fmt: skip
    report.measure("C4", c4)
    glue(s1=s1, s2=s2, s3=s3, **{
        key: c4[key]
        for key in ("ratio_1", "ratio_3", "ratio_1_line", "ratio_3_line",
                    "logL_ratio_1", "logL_ratio_3")
    })  # fmt: skip
    print({key: round(v, 3) for key, v in c4.items()})
else:
    report.untestable(
        "C4",
        f"only {len(useful)} envelope points; the 3-piece fit needs 9",
    )

# %% tags=["hide-input"]
assert len(useful) >= 9, "C4 is not testable here: nothing to draw"
fig, (ax, bx) = plt.subplots(1, 2, figsize=(8.6, 3.4), width_ratios=[2.2, 1])
ax.plot(C_all[useful], L_all[useful] - H, "o", ms=4, color="grey", label="envelope points")
for a, b, s, col in ((0, bi, s1, 0), (bi, bj, s2, 1), (bj, len(u) - 1, s3, 2)):
    ax.plot(2 ** u[a : b + 1], 2 ** fitted[a : b + 1], color=plots.COLORBLIND[col], lw=2.5, label=f"slope {s:.2f}")  # fmt: skip
ax.plot(2**u, 2**y_line, ":", color="k", lw=1, label="control: one line + residuals")
ax.set(xscale="log", yscale="log", xlabel="cost $C$ (bits)", ylabel="excess loss $L - H$ (bit/symbol)",
       title="Three-piece fit of the envelope's excess loss")  # fmt: skip
ax.legend(fontsize=8)
bx.bar(["low cost", "middle", "high cost"], [s1, s2, s3], color=plots.COLORBLIND[:3])
bx.set(ylabel="slope $d \\log_2 (L - H) / d \\log_2 C$", title="Slope per regime")
plt.show()

# %% [markdown]
# On the excess loss, as the notes specify, the expensive end is flat (slope
# {glue:text}`s3:.2f`, {glue:text}`ratio_3:.1f` times flatter than the middle's
# {glue:text}`s2:.2f`), but the cheap end is not: its slope {glue:text}`s1:.2f` makes the middle
# only {glue:text}`ratio_1:.2f` times steeper, short of 2. The control tells how little such a
# ratio means: one straight line with the fit's own residuals, shuffled, gives
# {glue:text}`ratio_1_line:.2f` and {glue:text}`ratio_3_line:.2f`, so a cheap-end ratio near
# 1.5 is what a one-regime curve with this scatter produces. The claim's first regime, large
# cost for little gain, is absent: even a width-1 GRU at 2 or 3 bits already captures part of
# the program. The flat expensive end is the generic half, and the partial rule names the
# cheap end, so with the default seeds the verdict is "not reproduced".
#
# The fit is fragile. Its breakpoints move with the seeds, and the ratios with them: with the
# seeds {2, 3} both outer pieces come out more than twice flatter than the middle, but so does
# the expensive end of the one-line control, and the verdict reads "inconclusive"; with
# {4, 5} the cheap end is steeper than the middle (the values are in the tolerances table at
# the end). Three envelope pieces fitted to some twenty points cannot carry this claim at
# `ci` scale; the verdict changes with the seeds, and we report the default seeds' one.
#
# The chapter's earlier fit of $\log_2 L$ (not the notes' rule; context in the table) found the
# cheap end *steeper* than the middle (ratio {glue:text}`logL_ratio_1:.2f`) and an expensive end
# {glue:text}`logL_ratio_3:.0f` times flatter, and the old rule, which accepted either outer
# piece for "partly", gave "partly". On $\log L$ much of that flat end is the approach to the
# floor $H$, which any curve that nears $H$ shows.
#
# ## Memorisation beyond the knee (C5)
#
# In the small-data regime the widths see only {glue:text}`n_small_symbols:.0f` scored symbols. A
# model fits a finite sample better than the entropy rate only by storing its random branch
# outcomes and interrupts, "nuance variability", which do not transfer to new windows. The knee
# is the narrowest width whose training loss falls below $H$.


# %%
def seed_mean(values, regime, h):
    """Mean over seeds of the first restart of (regime, width h)."""
    return float(np.mean([
        values[i] for i, m in enumerate(members)
        if (m[0], m[2], m[3]) == (regime, h, 0)
    ]))  # fmt: skip


tr = np.array([seed_mean(train_loss, "small", h) for h in widths])
te = np.array([seed_mean(test_loss, "small", h) for h in widths])
te_online = np.array(
    [np.mean([test_loss[chosen[s, h]] for s in ctx.seeds]) for h in widths]
)
# first width with train loss below H
knee = int(np.flatnonzero(tr < H)[0]) if (tr < H).any() else None
widest = {
    regime: [
        next(i for i, m in enumerate(members)
             if m == (regime, s, widths[-1], 0))
        for s in ctx.seeds
    ]
    for regime in REGIMES
}  # fmt: skip
# the control: the widest online GRU on the small set it never saw
pool_loss = {
    i: held_out_bits(
        nets[pad_of[widths[-1]]], streams["pool", members[i][1]]
    )[slot[i]]
    for i in widest["online"]
}
c5 = dict(
    train_minus_H=[train_loss[i] - H for i in widest["small"]],
    test_gain_beyond_knee=(
        float(te[knee] - te[-1]) if knee is not None else math.nan
    ),
    train_minus_H_online=[pool_loss[i] - H for i in widest["online"]],
    knee_width=widths[knee] if knee is not None else None,
    test_widest=float(te[-1]),
)
report.measure("C5", c5)
glue(
    knee_width=c5["knee_width"] or 0,
    train_widest=float(tr[-1]),
    test_widest=c5["test_widest"],
    online_on_pool=float(
        np.mean([pool_loss[i] for i in widest["online"]])
    ),
)
print(
    {
        key: (
            np.round(v, 3).tolist() if isinstance(v, list | float) else v
        )
        for key, v in c5.items()
    }
)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.0, 3.4))
ax.plot(widths, tr, "o-", color=plots.COLORBLIND[1], label="small set: train loss")
ax.plot(widths, te, "s-", color=plots.COLORBLIND[3], label="small set: test loss")
ax.plot(widths, te_online, "d-", color=plots.COLORBLIND[0], label="online: test loss")
ax.axhline(H, color="k", ls="--", lw=1, label="entropy rate $H$")
if knee is not None:
    ax.axvline(widths[knee], color="grey", ls=":", label="knee: train loss < $H$")
ax.set(xscale="log", yscale="log", xlabel="GRU width $h$", ylabel="loss (bit/symbol)", xticks=widths, xticklabels=widths,
       title="Past the knee, width buys memory, not prediction")  # fmt: skip
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With a small training set the widest GRUs' training loss ({glue:text}`train_widest:.3f`) is far
# below the entropy rate, which no predictor can do on fresh data, while their test loss
# ({glue:text}`test_widest:.3f`) is worse than at the knee (width {glue:text}`knee_width:.0f`).
# Trained online, the same widths keep improving toward $H$: the extra parameters store the
# sample, not the program. The control is the widest *online* GRU scored on the same small
# sets, which it never saw: {glue:text}`online_on_pool:.3f` bit/symbol on average, against
# $H =$ {glue:text}`H:.3f`. It fails the rule, but narrowly: a model that has learned the
# program without storing the sample scores $H$ plus sampling noise on
# {glue:text}`n_small_symbols:.0f` symbols, and the pre-registered rule "below $H$" leaves no
# room for that noise (the control is marked fragile; one seed lands just below $H$). What
# carries the claim is the size of the memorising models' margin, far beyond that noise.
#
# ## Exact checks
#
# Independent of profile, seed and device: the source is a distribution, $\pi$ is stationary, the
# padding is still exactly zero after training, the hand-written backward pass agrees with finite
# differences, and the envelope is monotone.


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
    "next-phase table rows sum to 1:", bool(np.allclose(table.sum(1), 1.0))
)
print(
    "pi is stationary:",
    bool(
        np.abs(
            (pi[:, None] * table).reshape(V, -1, V).sum(0).ravel() - pi
        ).max()
        < 1e-12
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
    "envelope: cost rises, loss falls:",
    bool(
        np.all(np.diff(C_all[env]) > 0) and np.all(np.diff(L_all[env]) < 0)
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
# seed-set change, rounded up to a 1-2-5 step; the cell fails if a `tol` is below the
# thread-path change. All verdicts but C4's are the same in every run. C4 is a knife edge: "not
# reproduced" with the default seeds and with {4, 5}, "inconclusive" with {2, 3} (both outer
# ratios pass there, and so does the one-line control's expensive end). Its ratios move with the
# fit's breakpoints, and their tolerances are as large as the values themselves. C5's control,
# the online GRU on the small set, stays above $H$ (seed mean) in every run. One and two threads
# give bit-identical numbers for every check.

# %%
report.tolerances("../../data/a02_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Reconstructed, not replicated.** The paper's text, figures and code were not available:
#   the procedure (quantise, prune, compress; envelope; boundary within 1 % loss), the source, the
#   model family and every threshold are our reconstruction from the abstract and a third-party
#   summary, and no number of the paper is compared here.
# - **Data.** Synthetic order-3 "program" phases (branches, rare interrupts) instead of traces
#   of real executions: its entropy rate is known exactly, and no traces are available offline.
# - **Scale (ci miniature).** 6 phases, GRUs of width 1 to 32, 600 steps of 32 windows of 12
#   phases, 2 seeds. The full profile (16 phases, widths up to 1024, windows of 24, 3000 steps
#   of 256 windows, 3 seeds) is sized for one GPU; the committed notebook is the ci run.
# - **Family.** GRUs only (no LSTM), magnitude pruning without retraining, symmetric uniform
#   quantisation with one float32 scale per tensor, LZMA2 as the coder. A stronger coder or
#   quantisation-aware training would move the whole curve to the left.
# - **Rules restored to the notes.** C4 fits $\log_2(L - H)$ as the research notes specify, not
#   $\log_2 L$ as an earlier version did without saying so (that fit is reported as context). The
#   notes' rule has no "partly"; we declare one, for a falling middle with a flatter cheap end,
#   the regime that distinguishes the claim (the earlier rule accepted either end).
# - **What does not reproduce.** At this scale the curve has two regimes, a steep descent and
#   a flat expensive end, not three: there is no cheap stretch of large cost for little gain,
#   because the smallest GRUs already capture part of the program's structure. Real program-phase
#   data, whose cheapest useful models may have to learn much more before they predict anything
#   (many phases, long-range structure), could show the first regime; our source cannot tell.
# - **Restarts.** The narrow GRUs (width up to 8) are trained from 3 initialisations each and the
#   best on validation windows is kept. An earlier version without restarts had a noisier cheap
#   end: depending on the seeds it came out up to 2.2 times flatter than the middle (on the
#   earlier $\log_2 L$ fit), and the C4 verdict changed with the seeds; the restarts make those
#   points reliable.
# - **Selection on test windows.** C3's "best model" is the best of all variants on the test
#   windows themselves, a small optimistic bias; selecting on validation windows is left to the
#   issue that adds new experiments to this chapter.

# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
