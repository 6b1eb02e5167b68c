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
# # A07 · How connectivity structure shapes rich and lazy learning
#
# A network learns *lazily* when training barely moves its weights, its hidden representations
# and its tangent kernel {footcite}`jacot2018neural`, so that it behaves like its own
# linearisation; it learns *richly* when these change a lot {footcite}`chizat2019lazy,flesch2022orthogonal,george2022lazy`.
# The usual knob is the scale of the initial weights. Liu, Baratin, Cornford, Mihalas,
# Shea-Brown and Lajoie {footcite}`liu2024connectivity` turn a different knob, one that matters for
# brains: the *structure* of the initial connectivity, summarised by its effective rank
# {footcite}`roy2007effective`, at a fixed weight norm. They argue, with a two-layer linear theory
# and with recurrent networks trained on neuroscience tasks, that high-rank initial weights learn
# lazily and low-rank ones richly, unless the low-rank structure is aligned with the task. We
# build the measures (effective rank, representation and tangent-kernel alignment) into the
# book's library, redo the linear theory numerically, train recurrent networks of every rank on
# three neuroscience tasks as one batched model, and place a cell-type, Dale's-law connectivity
# on the resulting trend. Parts taken from the authors' code (`Helena-Yuhan-Liu/BioRNN_RichLazy`)
# are marked [C], parts reconstructed by us [R]; the paper's text was available to us only in
# excerpts, so its figure values are not quoted.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "high-rank initializations typically yield smaller network changes indicative of
#   lazier learning", "low-rank initialization biases learning towards richer learning": with
#   the weight norm matched, weight change falls and representation and tangent-kernel alignment
#   rise with the effective rank of the initial recurrent weights, on a two-alternative decision
#   (2AF), delayed match-to-sample (DMS) and context-dependent decision (CXT) task (paper: RNN
#   figure, measures against effective rank).
# - **C2** "through both empirical and theoretical analyses": in a two-layer linear network,
#   averaged over tasks, a low-rank initialisation moves its tangent kernel more than a
#   full-rank one of the same norm (paper: linear-network theory and its figure).
# - **C3** "lazier learning can still occur with a low-rank initialization that aligns with task
#   and data statistics" (paper: aligned versus random low-rank initialisation, its Proposition 1).
#   **C3a** (construction): a rank-one initialisation that already holds the teacher direction
#   barely moves its kernel. **C3b** (empirical): a partly aligned one, along the task's feature
#   subspace, becomes lazier the more the tasks concentrate in that subspace.
# - **C4** "a finding we also confirm with experimentally-driven initial connectivity": a
#   cell-type block connectivity obeying Dale's law, norm matched, is as lazy as its effective
#   rank predicts. Our matrix is a substitute with illustrative cell-type tables, not the
#   paper's experimentally driven connectivity.
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

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr

from rnnbook import alignment, claims, plots, runtime

ctx = runtime.setup(
    "a07", default_seeds={"ci": [0, 1, 2, 3], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(N=64, ranks=[1, 4, 16, 64], steps=1000, lr=1e-2, batch=32,
            probe_rep=128, probe_ntk=8,
            lin_d=32, lin_tasks=20, lin_steps=1500,
            lin_scales=[0.3, 0.5, 1.0]),
    full=dict(N=300, ranks=[1, 3, 10, 30, 100, 300], steps=10000, lr=3e-3,
              batch=32, probe_rep=320, probe_ntk=32,
              lin_d=64, lin_tasks=200, lin_steps=3000,
              lin_scales=[0.3, 0.5, 1.0]),
)  # fmt: skip
# Constants (not sizes): the authors' main.py [C] and our linear-theory
# settings [R].
RNN = dict(g=1.25, momentum=0.9, T=8, n_in=7, n_out=3, sigma=0.1)
# step size lr / (scale^2 d): below the stability limit
LIN = dict(lr=0.25, scale=0.5, kappa=4.0, probe=64)
TASKS = ["2AF", "DMS", "CXT"]
S = len(ctx.seeds)



# %% [markdown]
# All claims, their kinds and their checks are fixed here, before any experiment runs; the table
# below the declarations is what the experiments are judged by. "Lazier" is read as the paper
# reads it: a smaller weight change $\lVert\Delta W\rVert_F$, and a higher alignment between the
# kernels before and after training.
#
# - **C1** asks, per seed, for the rank correlation (Spearman, over the four ranks) of each
#   measure with the effective rank, averaged over the three tasks, to be at least 0.8 in the
#   paper's direction on average over the seeds: the magnitude pre-registered for this chapter
#   and in the research notes (whose rule 1 asks ρ ≤ −0.8 for ΔW). The notes' rule 2,
#   KA(full rank) − KA(rank 1) ≥ 0.1, is a fourth evidence check. C1 has no partial rule: the
#   rule written before the first run gave "partly" for *any* one measure, which the claims
#   model cannot declare, and choosing one check now, after earlier runs showed which checks
#   pass, would be a rule fitted to the result. The control shuffles which rank each network is labelled with (a
#   fixed random permutation per task and seed) and must fail the same rules.
# - **C2** keeps its rules (ratio ≥ 1.5 from the notes' rule 3, rank correlation ≤ −0.8); its
#   control is the same ratio between two independent full-rank initialisations.
# - **C3** is split. That an initialisation which already holds the teacher direction barely
#   moves its kernel follows from the set-up (the gradient of $W$ then stays along that direction),
#   so C3a is a construction. C3b is the empirical part: a *partially* aligned rank-one
#   initialisation (the task's feature subspace) must become lazier as the anisotropy κ
#   concentrates the tasks there: median over tasks of distance(κ = 4) / distance(κ = 1) ≤ 0.5,
#   and at κ = 4 ≤ 0.5 × the random rank-one distance, the factor 0.5 being the notes' rule for
#   aligned initialisations. Its control aligns with a random half of the input space instead.
# - **C4** keeps its rule (the Dale networks' tangent-kernel alignment within a quarter of the
#   sweep's range of the trend, in 3 of 3 tasks; 2 of 3 for partly); its control places the
#   rank-one networks at the Dale matrix's effective rank, where the rule must reject them. A
#   matrix with the Dale matrix's spectral radius and norm but no cell types is reported beside.
#
# C1's statistic changed for this version (see "How the tolerances were obtained"); C2 and C4
# are as first written, C3 is split; the history is in "Differences from the paper".

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="How connectivity structure shapes rich and lazy learning")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "With matched weight norm, higher effective rank of the initial recurrent weights gives "
    "lazier learning: smaller weight change, higher representation (RA) and tangent-kernel (KA) "
    "alignment.", kind="empirical",
    paper="ΔW falls, RA and KA rise with effective rank on 2AF, DMS, CXT (RNN figure)",
    checks=[
        ev("rho_dW", "<=", -0.8, "Spearman(erank, ΔW), task mean", over="mean", tol=0.5),
        ev("rho_RA", ">=", 0.8, "Spearman(erank, RA), task mean", over="mean", tol=0.2),
        ev("rho_KA", ">=", 0.8, "Spearman(erank, KA), task mean", over="mean", tol=0.1),
        ev("KA_gap", ">=", 0.1, "KA(full) − KA(rank 1), task mean", over="mean", tol=0.05),
        ctl("rho_KA_shuffled", "rho_KA", "rank labels shuffled", over="mean", tol=0.5),
        ctl("KA_gap_shuffled", "KA_gap", "rank labels shuffled", over="mean", tol=0.2),
        ctx_("acc_rank1", "decision accuracy, rank 1", over="mean", tol=0.1),
        ctx_("acc_full", "decision accuracy, full rank", over="mean", tol=0.02),
        ctx_("loss_final", "training loss, last 50 steps, all networks", tol=0.002),
    ],
)
report.claim(
    "C2", "Two-layer linear network: averaged over tasks, low-rank initialisation moves the "
    "tangent kernel more than full rank (same norm).", kind="empirical",
    paper="theory: expected NTK movement larger at low effective rank",
    checks=[
        ev("ratio_rank1_full", ">=", 1.5, "kernel distance rank 1 / full rank, σ = 0.5", tol=0.5),
        ev("rho", "<=", -0.8, "Spearman(erank, kernel distance) over 6 ranks", tol=0.05),
        ctl("ratio_null", "ratio_rank1_full", "full rank (2nd draw) / full rank", tol=0.05),
        ctx_("dist_rank1", "kernel distance, rank 1", tol=0.01),
        ctx_("dist_full", "kernel distance, full rank", tol=0.005),
        ctx_("max_final_loss", "largest final loss (all scales, ranks, tasks)", tol=5e-9),
    ],
    partial=["ratio_rank1_full"])
report.claim(
    "C3a", "An initialisation that already holds the teacher direction (aligned rank 1) barely "
    "moves its kernel: less than random rank 1 and full rank.", kind="construction",
    paper="aligned rank-1 init keeps high kernel alignment (Proposition 1 figure)",
    checks=[
        ev("aligned_over_random_k1", "<=", 0.5, "distance ratio, κ = 1", tol=0.002),
        ev("aligned_over_random_k4", "<=", 0.5, "distance ratio, κ = 4", tol=0.005),
        ev("aligned_over_full_k1", "<=", 1.0, "distance ratio, κ = 1", tol=0.02),
        ev("aligned_over_full_k4", "<=", 1.0, "distance ratio, κ = 4", tol=0.01),
    ])
report.claim(
    "C3b", "A low-rank initialisation partially aligned with the data statistics (the feature "
    "subspace) learns more lazily the more the tasks concentrate in that subspace (larger κ).",
    kind="empirical",
    paper="lazier learning with a low-rank init aligned with task and data statistics (Prop. 1)",
    checks=[
        ev("partial_k4_over_k1", "<=", 0.5, "dist(κ = 4) / dist(κ = 1)", over="median", tol=0.01),
        ev("partial_over_random_k4", "<=", 0.5, "dist / random rank 1", over="median", tol=0.05),
        ctl("randhalf_k4_over_k1", "partial_k4_over_k1", "aligned with a random half instead",
            over="median", tol=0.1),
        ctx_("dist_partial_k1", "kernel distance, partly aligned, κ = 1", over="mean", tol=0.02),
        ctx_("dist_partial_k4", "kernel distance, partly aligned, κ = 4", over="mean", tol=0.005),
    ])
report.claim(
    "C4", "Cell-type connectivity obeying Dale's law (our substitute for the paper's "
    "experimentally driven matrix, matched norm) is as lazy as its effective rank predicts.",
    kind="empirical",
    paper="bio-inspired connectivity follows the effective-rank trend",
    checks=[
        ev("tasks_on_trend", ">=", 3, "tasks with |KA(Dale) − trend| ≤ ¼ KA range", tol=1),
        ev("tasks_on_trend_2", ">=", 2, "the same count, for partly", tol=1),
        ctl("rank1_on_trend", "tasks_on_trend_2", "rank-1 networks placed at the Dale erank"),
        ctx_("resid_KA_dale", "(KA − trend) / band, Dale, task mean", tol=5),
        ctx_("resid_KA_radius", "the same, same radius and norm, no cell types", tol=5),
        ctx_("erank_dale", "effective rank of the Dale matrix", tol=5),
        ctx_("erank_radius", "effective rank of the radius-matched matrix", tol=0.5),
        ctx_("radius_dale", "spectral radius, Dale matrix", tol=1),
        ctx_("radius_gauss", "spectral radius, Gaussian", tol=0.1),
    ],
    partial=["tasks_on_trend_2"])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Effective rank
#
# For a weight matrix with singular values $\sigma_1 \ge \sigma_2 \ge \dots$, the effective rank
# {footcite}`roy2007effective` is the exponential of the entropy of the normalised spectrum,
#
# $$\mathrm{erank}(W) = \exp\Big(-\sum_i p_i \log p_i\Big), \qquad p_i = \frac{\sigma_i}{\sum_j \sigma_j}.$$
#
# It is 1 for a rank-one matrix and $k$ for $k$ equal singular values; a square Gaussian matrix has
# a quarter-circle spectrum and an effective rank of about 0.8 of its size. The library's
# `alignment.effective_rank` computes it (tests in `tests/test_alignment.py`). As in the authors'
# code [C], a rank-$r$ initialisation truncates the singular value decomposition of one Gaussian
# matrix $W_0 = g\,G/\sqrt N$ ($g = 1.25$) to its top $r$ components and rescales it to the same
# Frobenius norm: the *norm* is matched, only the *structure* differs.

# %%
def truncate_to_rank(W0, r):
    """Top-r SVD truncation of W0 (..., N, N), rescaled to W0's
    Frobenius norm [C]."""
    U, s, Vh = torch.linalg.svd(W0)
    Wr = U[..., :r] @ torch.diag_embed(s[..., :r]) @ Vh[..., :r, :]
    return Wr * (
        torch.linalg.matrix_norm(W0) / torch.linalg.matrix_norm(Wr)
    )[..., None, None]

N, R = P["N"], P["ranks"]
W_gauss = torch.stack([
    RNN["g"] * torch.randn(N, N, generator=runtime.generator(s, 1))
    / math.sqrt(N)
    for s in ctx.seeds
])
# (S, ranks, N, N)
W_sweep = torch.stack([truncate_to_rank(W_gauss, r) for r in R], dim=1)
erank_sweep = alignment.effective_rank(W_sweep).mean(0)  # (ranks,)
print(
    "rank:", R,
    "\neffective rank:", [round(float(e), 1) for e in erank_sweep],
)

# %% [markdown]
# ## A cell-type connectivity with Dale's law
#
# Cortical connectivity is organised by cell types: each neuron is excitatory or inhibitory
# (Dale's law) and the probability and strength of a connection depend mostly on the types of the
# two neurons, as in the data-driven model of mouse V1 by Billeh et al. {footcite}`billeh2020systematic`.
# We build such a matrix with four types, E (80 %), PV (10 %), SST (5 %) and VIP (5 %), a
# connection-probability table $p_{ab}$ and a mean-strength table $w_{ab}$ (post type $a$, pre
# type $b$) shaped after the known motifs (PV and SST inhibit E strongly, VIP inhibits SST),
# log-normal synaptic weights, and the inhibition of each row type scaled so that excitation and
# inhibition balance on average. **This matrix is a substitute**: its tables are illustrative
# values of ours [R], not fitted to, or taken from, published cell-type statistics, and it is
# not the experimentally driven connectivity the paper used. The matrix is then
# rescaled to the Gaussian's Frobenius norm. Its block-structured mean is low rank, its random part
# is not: the effective rank lands between the truncated Gaussians, which lets us ask whether it
# falls on their trend.
#
# The Dale matrix's spectral radius is much larger than the Gaussian's, and a large radius alone
# could make a network richer. So we also build a *radius-matched* matrix without cell types or
# signs: a Gaussian bulk plus one symmetric rank-one outlier $b\,uu^\top$, with $b$ tuned so that
# the spectral radius and the Frobenius norm both equal the Dale matrix's [R].

# %%
FRAC = torch.tensor([0.80, 0.10, 0.05, 0.05])  # E, PV, SST, VIP
SIGN_T = torch.tensor([1.0, -1.0, -1.0, -1.0])
P_CONN = torch.tensor([[0.15, 0.50, 0.40, 0.05],
                       [0.40, 0.50, 0.30, 0.05],
                       [0.30, 0.05, 0.05, 0.40],
                       [0.20, 0.05, 0.30, 0.05]])  # fmt: skip
W_MEAN = torch.tensor([[1.0, 4.0, 2.5, 1.0],
                       [1.5, 4.0, 2.0, 1.0],
                       [1.0, 1.0, 1.0, 3.0],
                       [1.0, 1.0, 2.0, 1.0]])  # fmt: skip

def dale_matrix(N, norm, g):
    """Cell-type block connectivity obeying Dale's law, E/I balanced per
    row type, Frobenius norm `norm`."""
    counts = (FRAC * N).round().long()
    counts[0] = N - counts[1:].sum()
    types = torch.repeat_interleave(torch.arange(4), counts)
    # expected input by (post, pre) type
    mean_in = FRAC[None] * P_CONN * W_MEAN * SIGN_T[None]
    w = W_MEAN.clone()
    # balance inhibition per post type
    w[:, 1:] *= (mean_in[:, 0] / -mean_in[:, 1:].sum(1))[:, None]
    conn = torch.rand(N, N, generator=g) < P_CONN[types][:, types]
    W = (conn * w[types][:, types] * SIGN_T[types][None]
         * torch.exp(0.5 * torch.randn(N, N, generator=g)))
    return W * norm / torch.linalg.matrix_norm(W), types

W_dale = torch.stack([
    dale_matrix(N, float(torch.linalg.matrix_norm(W_gauss[i])),
                runtime.generator(s, 2))[0]
    for i, s in enumerate(ctx.seeds)
])
types = dale_matrix(N, 1.0, runtime.generator(0, 2))[1]
col_sign = torch.sign(W_dale.sum(1))  # sign of each presynaptic column
erank_dale = float(alignment.effective_rank(W_dale).mean())

def spectral_radius(W):
    return torch.linalg.eigvals(W).abs().amax(-1)

def radius_matched(W_ref, g):
    """Gaussian bulk + b u u^T with the spectral radius and Frobenius
    norm of W_ref (N, N) [R]."""
    n = W_ref.shape[-1]
    bulk, u = (
        torch.randn(n, n, generator=g),
        torch.nn.functional.normalize(torch.randn(n, generator=g), dim=0),
    )
    bulk, target, norm = (
        bulk / torch.linalg.matrix_norm(bulk),
        spectral_radius(W_ref),
        torch.linalg.matrix_norm(W_ref),
    )
    b = target
    # fixed point: outlier b such that the radius after norm matching is
    # the target
    for _ in range(20):
        c = torch.sqrt((norm**2 - b**2).clamp_min(1e-6))
        W = c * bulk + b * torch.outer(u, u)
        W = W * norm / torch.linalg.matrix_norm(W)
        b = b * target / spectral_radius(W)
    return W

W_radius = torch.stack([
    radius_matched(W_dale[i], runtime.generator(s, 5))
    for i, s in enumerate(ctx.seeds)
])
radius = {
    k: float(spectral_radius(W).mean())
    for k, W in (("Gauss", W_gauss), ("Dale", W_dale),
                 ("radius", W_radius))
}
erank_radius = float(alignment.effective_rank(W_radius).mean())
def top_share(W):
    """Share of the squared Frobenius norm in the leading singular value
    (seed mean)."""
    return float((torch.linalg.svdvals(W)[:, 0] ** 2
                  / torch.linalg.matrix_norm(W) ** 2).mean())

runtime.glue("a07_top_share", 100 * top_share(W_dale))
runtime.glue("a07_top_share_gauss", 100 * top_share(W_gauss))
print(
    "Dale's law holds: "
    f"{bool(((W_dale * col_sign[:, None, :]) >= 0).all())}; "
    f"effective rank {erank_dale:.1f}; "
    f"spectral radius {radius['Dale']:.2f} "
    f"(Gaussian {radius['Gauss']:.2f}); "
    f"radius-matched: radius {radius['radius']:.2f}, "
    f"effective rank {erank_radius:.1f}, norm ratio "
    f"""{float((torch.linalg.matrix_norm(W_radius)
               / torch.linalg.matrix_norm(W_dale)).max()):.4f}"""
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2), width_ratios=[3, 2])
for k, r in enumerate(R):
    axs[0].plot(np.arange(1, N + 1), torch.linalg.svdvals(W_sweep[0, k]), ".-", ms=3, color=plots.COLORBLIND[k], label=f"rank {r} (erank {erank_sweep[k]:.1f})")
axs[0].plot(np.arange(1, N + 1), torch.linalg.svdvals(W_dale[0]), "k--", label=f"cell-type Dale (erank {erank_dale:.1f})")
axs[0].plot(np.arange(1, N + 1), torch.linalg.svdvals(W_radius[0]), "k:", label=f"radius-matched (erank {erank_radius:.1f})")
axs[0].set(xscale="log", yscale="log", ylim=(1e-2, 20), xlabel="index i", ylabel=r"singular value $\sigma_i$",
           title="initial recurrent weights, equal Frobenius norm")
axs[0].legend(fontsize=7)
axs[1].imshow(W_dale[0], **plots.signed_limits(W_dale[0]))
axs[1].set(title="cell-type Dale matrix (E | PV | SST | VIP)", xlabel="presynaptic", ylabel="postsynaptic")
axs[1].grid(False)
plt.show()

# %% [markdown]
# ## Theory: a two-layer linear network (C2)
#
# The paper's analysis uses a two-layer linear student $f(x) = a^\top W x$ ($W \in \mathbb R^{h \times d}$)
# learning a teacher $y = \beta^\top x$ from Gaussian inputs, with tasks $\beta$ drawn at random
# {footcite}`liu2024connectivity`. We redo it numerically [R: gradient descent on the population
# loss $\tfrac12\lVert W^\top a - \beta\rVert^2$ for $x \sim \mathcal N(0, I)$, $d = h$]. The tangent
# kernel with respect to both layers on probe inputs $X$ is
#
# $$K = \lVert a\rVert^2\, X X^\top + X W^\top W X^\top,$$
#
# and we measure its movement by the kernel distance $1 - \mathrm{KA}(K_0, K_T)$, with
# $\mathrm{KA}(K, K') = \langle K, K'\rangle_F / (\lVert K\rVert_F \lVert K'\rVert_F)$
# (`alignment.kernel_alignment`). $W$ starts as a rank-$r$ truncation of $\sigma\,G/\sqrt d$ at
# matched norm, $a \sim \mathcal N(0, \sigma^2/h)$; the scale $\sigma$ sets how rich learning is overall,
# the rank is the knob under test.

# %%
def train_linear(W, a, beta, steps, lr):
    """Gradient descent on 0.5 |W^T a - beta|^2 for a batch of two-layer
    linear networks (..., h, d), (..., h)."""
    for _ in range(steps):
        err = (W.mT @ a[..., None])[..., 0] - beta  # (..., d)
        W, a = (W - lr * a[..., None] * err[..., None, :],
                a - lr * (W @ err[..., None])[..., 0])
    return (W, a,
            0.5 * (((W.mT @ a[..., None])[..., 0] - beta) ** 2).sum(-1))

def linear_ntk(W, a, X):
    """Tangent kernel of f(x) = a^T W x with respect to (W, a) on probe
    inputs X (n, d)."""
    return ((a * a).sum(-1)[..., None, None] * (X @ X.T)
            + X @ W.mT @ W @ X.T)

d = h = P["lin_d"]
n_tasks, lin_ranks = P["lin_tasks"], sorted({1, 2, 4, 8, 16, d})
gl = runtime.generator(ctx.seeds[0], 3)
X_probe = torch.randn(LIN["probe"], d, generator=gl, dtype=torch.float64)
beta_iso = torch.nn.functional.normalize(
    torch.randn(n_tasks, d, generator=gl, dtype=torch.float64), dim=-1
)
G_lin = (torch.randn(n_tasks, h, d, generator=gl, dtype=torch.float64)
         / math.sqrt(d))
a_lin = (torch.randn(n_tasks, h, generator=gl, dtype=torch.float64)
         / math.sqrt(h))

# %% [markdown]
# Ranks and tasks train as one batch per scale (`float64`). The step size is
# $0.25/(\sigma^2 d)$: a rank-one $W_0$ concentrates the whole norm in one singular value,
# $\sigma_1^2 \approx \sigma^2 d$, and larger steps would diverge there.

# %%
scales = torch.tensor(P["lin_scales"], dtype=torch.float64)[
    :, None, None, None, None
]
# (scales, ranks, tasks, h, d)
W0_lin = scales * torch.stack(
    [truncate_to_rank(G_lin, r) for r in lin_ranks]
)
a0_lin = scales[..., 0] * a_lin.expand(len(lin_ranks), -1, -1)
W1_lin, a1_lin, loss_lin = (
    torch.stack(z)
    for z in zip(*(
        train_linear(W0_lin[j], a0_lin[j], beta_iso, P["lin_steps"],
                     LIN["lr"] / (sc**2 * d))
        for j, sc in enumerate(P["lin_scales"])
    ))
)  # fmt: skip
dist_lin = 1 - alignment.kernel_alignment(
    linear_ntk(W0_lin, a0_lin, X_probe),
    linear_ntk(W1_lin, a1_lin, X_probe),
)
erank_lin = alignment.effective_rank(W0_lin[0]).mean(-1)  # (ranks,)
mean_dist = dist_lin.mean(-1)  # (scales, ranks)
i_s = P["lin_scales"].index(LIN["scale"])
# Control: a second, independent full-rank draw at the same scale (no rank
# difference at all).
G_null = torch.randn(
    n_tasks, h, d,
    generator=runtime.generator(ctx.seeds[0], 6), dtype=torch.float64,
) / math.sqrt(d)
W0n, a0n = LIN["scale"] * G_null, LIN["scale"] * a_lin
W1n, a1n, _ = train_linear(W0n, a0n, beta_iso, P["lin_steps"],
                           LIN["lr"] / (LIN["scale"] ** 2 * d))
dist_null = float((1 - alignment.kernel_alignment(
    linear_ntk(W0n, a0n, X_probe), linear_ntk(W1n, a1n, X_probe)
)).mean())
c2 = {"ratio_rank1_full": float(mean_dist[i_s, 0] / mean_dist[i_s, -1]),
      "rho": float(spearmanr(erank_lin, mean_dist[i_s]).statistic),
      "ratio_null": dist_null / float(mean_dist[i_s, -1]),
      "dist_rank1": float(mean_dist[i_s, 0]),
      "dist_full": float(mean_dist[i_s, -1]),
      "max_final_loss": float(loss_lin.max())}  # fmt: skip
report.measure("C2", c2)
print({k: round(v, 4) for k, v in c2.items()})

# %% [markdown]
# ## The exception: aligned low rank (C3)
#
# The paper's exception makes the inputs anisotropic through a feature matrix $F$ whose top half
# of singular values equals $\kappa$ and bottom half 1; the teacher reads the features, $y = w^\top F x$,
# so a task's effective regression vector $\beta = F^\top w$ leans towards the strong features
# {footcite}`liu2024connectivity`. An *aligned* rank-one initialisation puts the task direction into
# $W$ from the start, $W_0 = s\,u\,\hat\beta^\top$ with $s$ the matched norm and $u$ random; a
# *partially aligned* one uses $F$ truncated to its top half [R: our reading of the paper's
# Fig. 3 set-up]: it keeps the part of $\beta$ that lies in the strong-feature subspace, a share
# $\kappa^2/(\kappa^2+1)$ of its squared norm on average (one half at $\kappa = 1$, 16/17 at
# $\kappa = 4$). For the aligned initialisation, learning only has to rescale what is already there
# (the gradient of $W$ is $a\,(\text{error})^\top$ with the error along $\hat\beta$): that C3a holds
# is a property of the construction. The *control* for C3b projects $\beta$ on a random half of the
# input space instead of the feature subspace, which keeps half its norm whatever $\kappa$ is.

# %%
def anisotropic_tasks(kappa, g):
    """Teacher vectors beta = F^T w (tasks, d) and their top-half
    ('partial') versions; ||F||_F^2 = d."""
    Q1, Q2 = (
        torch.linalg.qr(
            torch.randn(d, d, generator=g, dtype=torch.float64)
        )[0]
        for _ in range(2)
    )
    sv = torch.ones(d, dtype=torch.float64)
    sv[: d // 2] = kappa
    sv *= math.sqrt(d) / sv.norm()
    w = torch.nn.functional.normalize(
        torch.randn(n_tasks, d, generator=g, dtype=torch.float64), dim=-1
    )
    F, F_top = (
        Q1 @ torch.diag(sv) @ Q2.T,
        Q1[:, : d // 2] @ torch.diag(sv[: d // 2]) @ Q2[:, : d // 2].T,
    )
    return w @ F, w @ F_top

Q_rand = torch.linalg.qr(torch.randn(
    d, d, generator=runtime.generator(ctx.seeds[0], 7), dtype=torch.float64
))[0][:, : d // 2]

u = torch.nn.functional.normalize(
    torch.randn(n_tasks, h, 1, generator=gl, dtype=torch.float64), dim=1
)
dist_c3, per_task = {}, {}
for kappa in (1.0, LIN["kappa"]):
    beta, beta_top = anisotropic_tasks(
        kappa, runtime.generator(ctx.seeds[0], 4)
    )
    norm = LIN["scale"] * torch.linalg.matrix_norm(G_lin)[:, None, None]
    unit = lambda v: (  # noqa: E731
        torch.nn.functional.normalize(v, dim=-1)[:, None]
    )
    inits = {"random rank 1": LIN["scale"] * truncate_to_rank(G_lin, 1),
             "aligned rank 1": norm * u * unit(beta),
             "partly aligned rank 1": norm * u * unit(beta_top),
             "random half rank 1":
                 norm * u * unit(beta @ Q_rand @ Q_rand.T),
             "full rank": LIN["scale"] * G_lin}  # fmt: skip
    W0s, a0s = (torch.stack(list(inits.values())),
                LIN["scale"] * a_lin.expand(len(inits), -1, -1))
    W1s, a1s, _ = train_linear(W0s, a0s, beta, P["lin_steps"],
                               LIN["lr"] / (LIN["scale"] ** 2 * d))
    # (inits, tasks)
    dist = 1 - alignment.kernel_alignment(
        linear_ntk(W0s, a0s, X_probe), linear_ntk(W1s, a1s, X_probe)
    )
    per_task[kappa] = dict(zip(inits, dist))
    dist_c3[kappa] = {
        k: float(v.mean()) for k, v in per_task[kappa].items()
    }
c3a = {f"aligned_over_{o}_k{int(k)}":
           dist_c3[k]["aligned rank 1"]
           / dist_c3[k][f"{o} rank" + (" 1" if o == "random" else "")]
       for k in dist_c3 for o in ("random", "full")}  # fmt: skip
pt1, pt4 = per_task[1.0], per_task[LIN["kappa"]]
c3b = {"partial_k4_over_k1":
           pt4["partly aligned rank 1"] / pt1["partly aligned rank 1"],
       "partial_over_random_k4":
           pt4["partly aligned rank 1"] / pt4["random rank 1"],
       "randhalf_k4_over_k1":
           pt4["random half rank 1"] / pt1["random half rank 1"],
       "dist_partial_k1": pt1["partly aligned rank 1"],
       "dist_partial_k4": pt4["partly aligned rank 1"]}  # fmt: skip
report.measure("C3a", c3a)
report.measure("C3b", c3b)
print({k: round(v, 4) for k, v in c3a.items()})
print({k: round(float(v.median()), 4) for k, v in c3b.items()},
      "(medians over tasks)")

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2))
for j, sc in enumerate(P["lin_scales"]):
    axs[0].plot(erank_lin, mean_dist[j], "o-", color=plots.COLORBLIND[j], label=rf"init scale $\sigma$ = {sc}")
axs[0].set(xscale="log", yscale="log", xlabel="effective rank of $W_0$", ylabel=r"kernel distance $1 - \mathrm{KA}$",
           title=f"(a) averaged over {n_tasks} random tasks")
axs[0].legend(fontsize=8)
names = list(dist_c3[1.0])
for j, kappa in enumerate(dist_c3):
    axs[1].bar(np.arange(len(names)) + 0.38 * j, [dist_c3[kappa][n] for n in names], 0.38, color=plots.COLORBLIND[j + 3], label=rf"$\kappa$ = {kappa:g}")
axs[1].set_xticks(np.arange(len(names)) + 0.19, [n.replace(" rank 1", "\nrank 1") for n in names], fontsize=8)
axs[1].set(yscale="log", ylabel=r"kernel distance $1 - \mathrm{KA}$", title=rf"(b) aligned versus random ($\sigma$ = {LIN['scale']})")
axs[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# Panel (a) mirrors the paper's theory figure: at every initial scale, the kernel moves more the
# lower the effective rank of $W_0$ (at $\sigma = 0.5$, rank one moves it
# {glue:text}`a07_c2_ratio:.1f` times as far as full rank). The scale changes how rich learning is
# overall; the rank orders the initialisations within each scale. Panel (b) is the exception: a
# rank-one $W_0$ that already points along the task direction barely moves its kernel, less than
# the full-rank one, whereas a random rank-one $W_0$ moves it most. Partial alignment sits in
# between; how much lazier it becomes as the anisotropy $\kappa$ concentrates the tasks in the
# retained subspace is C3b: the median over tasks of the ratio of its kernel distances at
# $\kappa = 4$ and $\kappa = 1$ is {glue:text}`a07_c3b_ratio:.2f`, against
# {glue:text}`a07_c3b_ctl:.2f` for the random-half control (rule: ≤ 0.5).

# %%
runtime.glue("a07_c2_ratio", c2["ratio_rank1_full"])
runtime.glue("a07_c3b_ratio", float(c3b["partial_k4_over_k1"].median()))
runtime.glue("a07_c3b_ctl", float(c3b["randhalf_k4_over_k1"].median()))

# %% [markdown]
# ## Three neuroscience tasks
#
# The authors train on three NeuroGym tasks {footcite}`molano2022neurogym` with $dt = 100$ ms and
# 8 time steps per trial [C: timings from their `main.py`]. We generate them in the repository
# [R: observation layout and coherences follow NeuroGym's task definitions as we understand them;
# we did not run NeuroGym]. Every trial has a fixation input that is on until the decision step;
# the target is "fixate" (class 0) before the decision and the correct choice (class 1 or 2) at
# the decision step; Gaussian noise $\sigma = 0.1$ is added to stimuli.
#
# - **2AF** (perceptual decision): two stimulus channels $(1 \pm c)/2$ for 7 steps, coherence
#   $c \in \{0, 6.4, 12.8, 25.6, 51.2\}\,\%$; choose the stronger.
# - **DMS** (delayed match-to-sample): a sample (one of two one-hot stimuli) at step 0, a delay of
#   5 steps, a test at step 6; answer match or non-match.
# - **CXT** (context-dependent decision): two modalities, each with its own direction and coherence
#   ($5, 15, 50\,\%$) for 2 steps, then a delay; a context cue (on until the decision) says which
#   modality to report.

# %%
def trial_frame(B):
    x = torch.zeros(B, RNN["T"], RNN["n_in"])
    x[:, :-1, 0] = 1.0  # fixation cue, off at the decision step
    return x, torch.zeros(B, RNN["T"], dtype=torch.long)

def evidence(coh, side, steps, g):
    """Two noisy stimulus channels (1 +- coh)/2 favouring `side` (0 or 1),
    shape (B, steps, 2)."""
    s = torch.where(side == 0, 1.0, -1.0) * coh
    mean = torch.stack([(1 + s) / 2, (1 - s) / 2], dim=-1)[:, None]
    return mean + RNN["sigma"] * torch.randn(
        len(coh), steps, 2, generator=g
    )

def task_2af(B, g):
    x, y = trial_frame(B)
    side = torch.randint(0, 2, (B,), generator=g)
    coh = torch.tensor([0.0, 0.064, 0.128, 0.256, 0.512])[
        torch.randint(0, 5, (B,), generator=g)
    ]
    x[:, :7, 1:3] = evidence(coh, side, 7, g)
    y[:, -1] = side + 1
    return x, y

# %%
def task_dms(B, g):
    x, y = trial_frame(B)
    sample, match = (torch.randint(0, 2, (B,), generator=g),
                     torch.randint(0, 2, (B,), generator=g))
    test = torch.where(match == 1, sample, 1 - sample)
    x[:, 0, 1:3] = (torch.nn.functional.one_hot(sample, 2)
                    + RNN["sigma"] * torch.randn(B, 2, generator=g))
    x[:, 6, 1:3] = (torch.nn.functional.one_hot(test, 2)
                    + RNN["sigma"] * torch.randn(B, 2, generator=g))
    y[:, -1] = 2 - match  # 1 = match, 2 = non-match
    return x, y

def task_cxt(B, g):
    x, y = trial_frame(B)
    side = torch.randint(0, 2, (B, 2), generator=g)
    coh = torch.tensor([0.05, 0.15, 0.50])[
        torch.randint(0, 3, (B, 2), generator=g)
    ]
    context = torch.randint(0, 2, (B,), generator=g)
    for m in range(2):
        x[:, :2, 1 + 2 * m : 3 + 2 * m] = evidence(
            coh[:, m], side[:, m], 2, g
        )
    x[:, :7, 5:7] = (
        torch.nn.functional.one_hot(context, 2)[:, None].float()
    )
    y[:, -1] = side[torch.arange(B), context] + 1
    return x, y

TASK_FN = {"2AF": task_2af, "DMS": task_dms, "CXT": task_cxt}

# %% [markdown]
# ## The recurrent network, trained as one batched model
#
# The authors' network [C] is a rate RNN without biases, with $\alpha = dt/\tau = 1$:
#
# $$h_t = \mathrm{ReLU}\big(W_{\mathrm{in}}\, x_t + W_{\mathrm{rec}}\, h_{t-1}\big), \qquad y_t = W_{\mathrm{out}}\, h_t,$$
#
# trained with cross-entropy at every time step by SGD with momentum 0.9 and batches of 32
# trials. All three matrices learn; the initial $W_{\mathrm{rec}}$ is a rank-$r$ truncation, the
# Dale matrix or its radius-matched counterpart, $W_{\mathrm{in}}$ and $W_{\mathrm{out}}$ start as PyTorch's default uniform
# initialisation. Every (task, seed, initialisation) is one network of a batch: networks of the
# same task and seed share $W_{\mathrm{in}}$, $W_{\mathrm{out}}$ and every training batch, so ranks
# are compared on identical data [R: the authors' script draws new input and output weights
# for each rank].

# %%
INITS = [f"rank {r}" for r in R] + ["Dale", "radius-matched"]
# (task, seed index, init index)
NETS = [(t, i, k)
        for t in TASKS for i in range(S) for k in range(len(INITS))]
n_net = len(NETS)

def init_weights():
    W_rec = torch.stack([
        W_sweep[i, k] if k < len(R) else (W_dale, W_radius)[k - len(R)][i]
        for _, i, k in NETS
    ])
    W_in, W_out = [], []
    for t, i, _ in NETS:
        # shared by all inits of (task, seed)
        g = runtime.generator(ctx.seeds[i], 10 + TASKS.index(t))
        W_in.append((torch.rand(N, RNN["n_in"], generator=g) * 2 - 1)
                    / math.sqrt(RNN["n_in"]))
        W_out.append((torch.rand(RNN["n_out"], N, generator=g) * 2 - 1)
                     / math.sqrt(N))
    return [w.to(dev)
            for w in (W_rec, torch.stack(W_in), torch.stack(W_out))]

def rnn(W_rec, W_in, W_out, x):
    """Batched forward pass: x (nets, B, T, n_in) -> outputs
    (nets, B, T, n_out), hidden (nets, B, T, N)."""
    h, hs = torch.zeros(*x.shape[:2], W_rec.shape[-1], device=x.device), []
    for t in range(x.shape[2]):
        h = torch.relu(x[:, :, t] @ W_in.mT + h @ W_rec.mT)
        hs.append(h)
    H = torch.stack(hs, dim=2)
    return H @ W_out.mT[:, None], H

# %% [markdown]
# Training batches are drawn per (task, seed) group from its own random stream, 50 steps at a
# time, and broadcast to the networks of the group; the probe trials used by the measures come
# from another stream.

# %%
GROUPS = [(t, i) for t in TASKS for i in range(S)]
GROUP_OF = torch.tensor([GROUPS.index((t, i)) for t, i, _ in NETS])

def draw(B, streams, reps=1):
    """reps batches of B trials per group, per network:
    x (nets, reps, B, T, n_in), y (nets, reps, B, T)."""
    xs, ys = zip(*(TASK_FN[t](reps * B, streams[t, i]) for t, i in GROUPS))
    x = torch.stack(xs).view(len(GROUPS), reps, B, RNN["T"], RNN["n_in"])
    y = torch.stack(ys).view(len(GROUPS), reps, B, RNN["T"])
    return x[GROUP_OF].to(dev), y[GROUP_OF].to(dev)

def fit(params, steps, lr, momentum):
    """SGD with momentum (torch.optim.SGD's update) on the summed
    per-network mean cross-entropy."""
    streams = {(t, i): runtime.generator(ctx.seeds[i], 20 + TASKS.index(t))
               for t, i in GROUPS}
    vel, curve = [torch.zeros_like(p) for p in params], []
    for step in range(steps):
        if step % 50 == 0:
            xs, ys = draw(P["batch"], streams, reps=50)
        x, y = xs[:, step % 50], ys[:, step % 50]
        out, _ = rnn(*params, x)
        loss = torch.nn.functional.cross_entropy(
            out.flatten(0, 2), y.flatten(), reduction="none"
        ).view(n_net, -1).mean(1)
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            for p, v, gr in zip(params, vel, grads):
                p.sub_(lr * v.mul_(momentum).add_(gr))
        curve.append(loss.detach())
    return torch.stack(curve).cpu()

# %%
theta0 = init_weights()
params = [p.clone().requires_grad_() for p in theta0]
curve = fit(params, P["steps"], P["lr"], RNN["momentum"])
theta1 = [p.detach() for p in params]
x_probe, y_probe = (z[:, 0] for z in draw(P["probe_rep"], {
    (t, i): runtime.generator(ctx.seeds[i], 30 + TASKS.index(t))
    for t, i in GROUPS
}))
with torch.no_grad():
    out0, H0 = rnn(*theta0, x_probe)
    out1, H1 = rnn(*theta1, x_probe)
acc = (
    (out1[:, :, -1].argmax(-1) == y_probe[:, :, -1]).float().mean(1).cpu()
)
print(f"{n_net} networks, {P['steps']} steps; "
      f"final loss {curve[-20:].mean():.3f} (mean), decision accuracy "
      + ", ".join(
          f"{t} "
          f"{acc[[j for j, n in enumerate(NETS) if n[0] == t]].mean():.2f}"
          for t in TASKS
      ))  # fmt: skip

# %% [markdown]
# ## Three measures of laziness
#
# Following the authors' code [C]: the weight change $\lVert W_{\mathrm{rec}}^T - W_{\mathrm{rec}}^0\rVert_F$;
# the representation alignment $\mathrm{RA} = \mathrm{KA}(K_R^0, K_R^T)$ of the kernels
# $K_R = H H^\top$ of hidden states at the decision step over the probe trials; and the
# tangent-kernel alignment $\mathrm{KA}(K^0, K^T)$ of the empirical tangent kernel
# $K = J J^\top$, $J = \partial y_{t,b,k} / \partial W_{\mathrm{rec}}$ over all time steps $t$,
# outputs $k$ and the first probe trials $b$ (`alignment.empirical_tangent_kernel`, a
# `torch.func.jacrev` per network). High alignment means the network hardly changed the way it
# represents and generalises: lazy.

# %%
def rec_ntk(theta, j, x):
    """Empirical tangent kernel of network j by its W_rec over probe
    trials x (B, T, n_in)."""
    W_rec, W_in, W_out = (p[j] for p in theta)
    return alignment.empirical_tangent_kernel(
        lambda W: rnn(W[None], W_in[None], W_out[None], x[None])[0], W_rec
    )

bk = P["probe_ntk"]
KA = torch.stack([
    alignment.kernel_alignment(rec_ntk(theta0, j, x_probe[j, :bk]),
                               rec_ntk(theta1, j, x_probe[j, :bk]))
    for j in range(n_net)
])
dW = torch.linalg.matrix_norm(theta1[0] - theta0[0])
RA = alignment.kernel_alignment(
    alignment.representation_kernel(H0[:, :, -1]),
    alignment.representation_kernel(H1[:, :, -1]),
)
# (task, seed, init)
meas = {m: v.cpu().view(len(TASKS), S, len(INITS)).numpy()
        for m, v in (("dW", dW), ("RA", RA), ("KA", KA))}
print("seed-mean KA by init:",
      {t: np.round(meas["KA"][i].mean(0), 2).tolist()
       for i, t in enumerate(TASKS)})

# %% [markdown]
# ## Laziness against effective rank (C1)
#
# The figure mirrors the paper's RNN figure: one panel per measure, effective rank on the x
# axis, one line per task (seed mean, with the seeds as faint points); the cell-type Dale
# networks are the stars.

# %%
MEASURES = ("dW", "RA", "KA")
# the paper's direction of each measure against effective rank
SIGN = {"dW": -1, "RA": +1, "KA": +1}
# (task, rank), seed mean
sweep = {m: meas[m][:, :, : len(R)].mean(1) for m in MEASURES}
erank_nets = alignment.effective_rank(W_sweep).numpy()  # (seed, rank)
gp = runtime.generator(ctx.seeds[0], 40)
# control: shuffled rank labels
perm = [[torch.randperm(len(R), generator=gp).numpy() for _ in range(S)]
        for _ in TASKS]

def rho_per_seed(m, shuffled=False):
    """Spearman(erank, measure m) over the ranks of each (task, seed),
    averaged over tasks: (seeds,)."""
    return np.mean([[spearmanr(erank_nets[i][perm[ti][i]] if shuffled
                               else erank_nets[i],
                               meas[m][ti, i, : len(R)]).statistic
                     for i in range(S)]
                    for ti in range(len(TASKS))], axis=0)  # fmt: skip

def ka_gap(shuffled=False):
    """KA(full rank) - KA(rank 1) per seed, averaged over tasks
    (shuffled: the permuted labels)."""
    idx = lambda ti, i, j: perm[ti][i][j] if shuffled else j  # noqa: E731
    return np.mean([[meas["KA"][ti, i, idx(ti, i, len(R) - 1)]
                     - meas["KA"][ti, i, idx(ti, i, 0)] for i in range(S)]
                    for ti in range(len(TASKS))], axis=0)  # fmt: skip

accn = acc.view(len(TASKS), S, len(INITS)).numpy()
c1 = {f"rho_{m}": rho_per_seed(m) for m in MEASURES}
c1 |= {"KA_gap": ka_gap(),
       "rho_KA_shuffled": rho_per_seed("KA", shuffled=True),
       "KA_gap_shuffled": ka_gap(shuffled=True),
       "acc_rank1": accn[:, :, 0].mean(0),
       "acc_full": accn[:, :, len(R) - 1].mean(0),
       "loss_final": float(curve[-50:].mean())}  # fmt: skip
report.measure("C1", c1)
print({k: np.round(v, 3).tolist() for k, v in c1.items()})
print("decision accuracy (seed mean) by init:",
      {t: np.round(accn[i].mean(0), 2).tolist()
       for i, t in enumerate(TASKS)})

# %% tags=["hide-input"]
LABEL = {"dW": r"weight change $\|\Delta W_{rec}\|_F$", "RA": "representation alignment RA", "KA": "tangent-kernel alignment KA"}
fig, axs = plt.subplots(1, 3, figsize=(12, 3.4))
for ax, m in zip(axs, MEASURES):
    for i, t in enumerate(TASKS):
        c = plots.COLORBLIND[i]
        # mean over seeds, band = min..max over the S seeds
        plots.seed_band(ax, erank_sweep, meas[m][i, :, : len(R)], label=t, color=c, marker="o")
        ax.plot([erank_dale], [meas[m][i, :, len(R)].mean()], "*", color=c, ms=13, mec="k", mew=0.6)
        ax.plot([erank_radius], [meas[m][i, :, len(R) + 1].mean()], "D", color=c, ms=6, mfc="w", mew=1.2)
    ax.set(xscale="log", xlabel="effective rank of initial $W_{rec}$", ylabel=LABEL[m])
axs[0].set_yscale("log")
axs[1].legend(title="task (★ Dale, ◇ radius-matched)", fontsize=8, loc="lower right")
fig.suptitle(f"RNN, N = {N}, {P['steps']} steps, {S} seeds: lazier to the right means ΔW down, RA and KA up", fontsize=10)
plt.show()

# %% [markdown]
# Trained for {glue:text}`a07_steps` steps, the networks have learned their tasks, the rich
# low-rank ones as well as the full-rank ones: decision accuracy {glue:text}`a07_acc_rank1:.2f` at
# rank one and {glue:text}`a07_acc_full:.2f` at full rank (mean over tasks and seeds; an ideal
# observer scores about 0.88 on 2AF and CXT, whose weakest stimuli are ambiguous, and 1 on DMS).
# The tangent kernel carries the trend: full rank keeps {glue:text}`a07_ka_gap:.2f` more
# kernel alignment than rank one (the notes' rule asks for 0.1), but its rank correlation with the
# effective rank, {glue:text}`a07_rho_ka:.2f` on average, falls short of the 0.8 the rule asks
# for, because the middle ranks are not ordered. Representation alignment rises less
# consistently (mean correlation {glue:text}`a07_rho_ra:.2f`). The weight change,
# the paper's first measure, does not fall with rank in our miniature (mean correlation
# {glue:text}`a07_rho_dw:.2f`, not the required −0.8): the seed means are nearly flat except
# where a single runaway network (faint points far above the others) drags them up, and the
# low-rank networks, whose few singular values carry the whole norm ($\sigma_1 = g\sqrt N$ at
# rank one), are the erratic ones. Low-rank networks thus change *how* they respond to a change of
# weights (their kernel) much more than high-rank ones, without moving their weights further.
# All our networks, full rank included, are fairly rich (kernel alignments below 0.5): at
# $N = 64$ the tangent kernel moves much more than at the paper's $N = 300$.

# %%
runtime.glue("a07_steps", P["steps"])
runtime.glue("a07_ka_gap", float(c1["KA_gap"].mean()))
runtime.glue("a07_acc_rank1", float(c1["acc_rank1"].mean()))
runtime.glue("a07_acc_full", float(c1["acc_full"].mean()))
for m in MEASURES:
    runtime.glue(f"a07_rho_{m.lower()}", float(c1[f"rho_{m}"].mean()))

# %% [markdown]
# ## The cell-type Dale connectivity on the trend (C4)
#
# The rule: for each task, interpolate the seed-mean sweep values linearly in
# $\log \mathrm{erank}$ at the Dale matrix's effective rank, and count the Dale networks (seed mean)
# as "on the trend" when they lie within a quarter of the range that the measure spans over the
# sweep. The verdict uses the tangent-kernel alignment; the residuals of all three measures, in
# units of that band, are printed, for the Dale networks and for the radius-matched ones (at their
# own effective rank). The control asks the same of the rank-one networks placed at the Dale
# matrix's effective rank: a band that let them through could not tell a network off the trend.

# %%
def residuals(k, at):
    """(measured - trend) / band for init k (seed mean) at effective rank
    `at`, per (measure, task)."""
    out = {}
    for i, t in enumerate(TASKS):
        for m in MEASURES:
            pred = np.interp(np.log(at), np.log(erank_sweep.numpy()),
                             sweep[m][i])
            band = 0.25 * (sweep[m][i].max() - sweep[m][i].min())
            out[m, t] = float((meas[m][i, :, k].mean() - pred) / band)
    return out

resid, resid_radius, resid_rank1 = (
    residuals(len(R), erank_dale),
    residuals(len(R) + 1, erank_radius),
    residuals(0, erank_dale),
)
on_trend = {name: sum(abs(r["KA", t]) <= 1 for t in TASKS)
            for name, r in (("Dale", resid), ("radius", resid_radius),
                            ("rank 1", resid_rank1))}
c4 = {"tasks_on_trend": on_trend["Dale"],
      "tasks_on_trend_2": on_trend["Dale"],
      "rank1_on_trend": on_trend["rank 1"],
      "resid_KA_dale": float(np.mean([resid["KA", t] for t in TASKS])),
      "resid_KA_radius":
          float(np.mean([resid_radius["KA", t] for t in TASKS])),
      "erank_dale": erank_dale, "erank_radius": erank_radius,
      "radius_dale": radius["Dale"],
      "radius_gauss": radius["Gauss"]}  # fmt: skip
report.measure(
    "C4", c4,
    note="radius-matched, no cell types (not judged): "
    f"{on_trend['radius']}/3 tasks on the KA trend",
)
print(f"KA on the trend: Dale {on_trend['Dale']}/3, "
      f"radius-matched {on_trend['radius']}/3, "
      f"rank 1 at the Dale erank {on_trend['rank 1']}/3")
print("residual / band, Dale:",
      {f"{m} {t}": round(v, 2) for (m, t), v in resid.items()})
print("residual / band, radius-matched:",
      {f"{m} {t}": round(v, 2) for (m, t), v in resid_radius.items()})
runtime.glue("a07_dale_ka", c4["resid_KA_dale"])
runtime.glue("a07_radius_ka", c4["resid_KA_radius"])
runtime.glue("a07_radius_dale", radius["Dale"])
runtime.glue("a07_radius_gauss", radius["Gauss"])

# %% [markdown]
# The cell-type Dale networks are *richer* than their effective rank predicts: their tangent-kernel
# alignment lies on average {glue:text}`a07_dale_ka:.1f` bands from the trend (negative: lower
# alignment), down among the lowest ranks (stars in the figure above), while their weight change
# and representation alignment scatter around the trend. Their spectral radius is
# {glue:text}`a07_radius_dale:.2f`, against {glue:text}`a07_radius_gauss:.2f` for the Gaussian. The
# radius-matched networks, with the same radius and norm but no cell types, lie
# {glue:text}`a07_radius_ka:.1f` bands from the trend on average (diamonds), but on the other two
# seed sets we ran (see the variation table at the end) they too fall about two bands below it,
# so the large spectral radius may explain part of the Dale networks' richness; at this scale we
# cannot separate it from the cell-type structure. The Dale matrix also differs in its spectrum:
# a leading singular value that carries
# {glue:text}`a07_top_share:.0f` % of the squared norm (the Gaussian's: {glue:text}`a07_top_share_gauss:.0f` %)
# on the cell-type block pattern, which the effective rank weighs lightly. Our matrix is a
# substitute, not the measured connectivity the paper used, so this is a counter-example to
# effective rank as the *only* predictor rather than a failure to replicate the paper's
# data-driven case.

# %% [markdown]
# ## Checks that do not depend on the run
#
# The effective rank on matrices whose answer is known, the linear network's tangent-kernel
# formula against `torch.func`, and the task generators' shapes and labels on a fixed draw.

# %% tags=["nbval-check-output"]
Dg = torch.diag(torch.tensor([2.0, 1.0, 1.0, 0.0], dtype=torch.float64))
print("erank(diag(2,1,1,0)) = 2^1.5:",
      math.isclose(float(alignment.effective_rank(Dg)), 2**1.5,
                   rel_tol=1e-9))
gt = torch.Generator().manual_seed(5)
Wt, at = (torch.randn(3, 4, generator=gt, dtype=torch.float64),
          torch.randn(3, generator=gt, dtype=torch.float64))
Xt = torch.randn(6, 4, generator=gt, dtype=torch.float64)
K_func = (
    alignment.empirical_tangent_kernel(lambda W: Xt @ W.T @ at, Wt)
    + alignment.empirical_tangent_kernel(lambda a: Xt @ Wt.T @ a, at)
)
print("linear NTK formula == torch.func:",
      torch.allclose(linear_ntk(Wt, at, Xt), K_func))
print("rank-3 truncation: rank", int(torch.linalg.matrix_rank(
    truncate_to_rank(torch.randn(8, 8, generator=gt), 3)
)))
for t in TASKS:
    xt, yt = TASK_FN[t](4, torch.Generator().manual_seed(0))
    print(t, tuple(xt.shape), "targets:", yt[:, -1].tolist(),
          "fixation targets all 0:", bool((yt[:, :-1] == 0).all()))
print("types (E, PV, SST, VIP):", torch.bincount(
    dale_matrix(100, 1.0, torch.Generator().manual_seed(0))[1]
).tolist())
print("RNN:", RNN, "\nlinear theory:", LIN)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count before the book's comparison fails. We re-executed
# the ci profile with 1 and 2 threads (seeds 0–3) and with two other seed sets (4–7 and 8–11), and
# chose each `tol` ≥ max(3 × the change between thread paths, the change between seed sets),
# rounded up to a 1-2-5 step; 0 means the value must be reproduced exactly. The table shows
# both changes beside the declared `tol` and every verdict seen across the four runs; the cell
# fails if a `tol` is smaller than the change between thread paths.
#
# The rank correlations of C1 and the counts and residuals of C4 move most between seed sets
# (four seeds of four ranks are few networks), and their `tol` is set by that; the linear-theory
# checks (C2, C3) run in `float64` and barely move. Under the earlier statistic of C1 (one rank
# correlation over all 16 networks of a task), another CPU had moved one task's value by 0.5.

# %%
report.tolerances("../../data/a07_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** $N = 64$ units, ranks $\{1, 4, 16, 64\}$, 4 seeds, 1,000 SGD
#   steps at learning rate $10^{-2}$, tangent kernels on 8 probe trials (192 outputs); the authors
#   use $N = 300$, ranks $\{1, 30, 100, 300\}$, 10,000 steps at $3 \cdot 10^{-3}$ and 32 probe trials.
#   The `full` profile runs that size (ranks $\{1, 3, 10, 30, 100, 300\}$, 5 seeds) on a GPU; it has
#   only been stepped briefly on a CPU, not executed, for this version. At $N = 64$ all networks
#   are richer than the paper's: the full-rank ones keep a kernel alignment below 0.5.
# - **As in the authors' code [C].** The network, its initialisation by truncated SVD at matched
#   Frobenius norm, $g = 1.25$, the optimiser, the loss at every step, the task timings and the
#   three measures (the tangent kernel by $W_{\mathrm{rec}}$ over all steps and outputs).
# - **Reconstructed [R].** The task generators (no NeuroGym); shared input/output weights across
#   ranks; the two-layer linear experiments are numerical (population gradient descent at a small
#   step), not the paper's closed-form analysis, and the aligned and partly aligned
#   initialisations are our reading of its Proposition 1 set-up. The cell-type Dale matrix is a
#   **substitute**: its tables are illustrative, not published cell-type statistics (such as the
#   Allen Institute's mouse V1 model) and not the paper's connectivity; the radius-matched
#   matrix is ours.
# - **Not reproduced.** The weight change does not fall with effective rank in our miniature, and
#   no measure reaches the pre-registered rank correlation of 0.8, so C1 is not reproduced,
#   although the notes' kernel-alignment rule (full rank at least 0.1 more aligned than rank
#   one) passes. Our Dale
#   matrix is much richer than its effective rank predicts (C4); a matrix of the same spectral
#   radius without cell types is richer than the trend too on two of three seed sets. A possible reason for C1: 1,000 steps instead of 10,000 and the loss at every time
#   step, which the fixation outputs dominate; the full profile tests the first.
# - **This version (verdicts issue).** The sweep trains 1,000 steps instead of 500: at 500, some
#   DMS and CXT networks were still at chance, so laziness was compared between trained and
#   untrained networks. C1's statistic is now a rank correlation over the four ranks *per seed*
#   and task, averaged (a per-seed list, so its spread shows), instead of one correlation over all
#   16 networks of a task: on another CPU (an Intel Xeon against the AMD EPYC of the committed run)
#   the pooled statistic of one task moved from −0.13 to 0.37, since one runaway network reorders
#   many pairs; per seed, a network can only reorder its own seed's four ranks. The threshold,
#   0.8, is unchanged; the notes' rule 2 (KA gap ≥ 0.1) is restored as a fourth evidence check
#   (with no partial rule: a partial rule chosen after earlier runs would be fitted to them). C2 gained a control, C3 was split into a construction (C3a, the
#   old rule) and an empirical claim on partial alignment against κ (C3b, rule fixed before it
#   was run), and C4's spectral twin was replaced by a radius-matched matrix and gained a control;
#   C4's old partial rule (2 of 3 tasks) is a second evidence check on the same count.
# - **Pass rules changed after seeing results (earlier versions).** C2 and C3 are as first
#   written. C1 first asked
#   for a Spearman correlation of seed means of at least 0.8 in magnitude per task and measure
#   (then $N = 100$, ranks $\{1, 3, 10, 30, 100\}$, 2 seeds): its verdict changed with the seeds
#   (not reproduced with seeds 0-1 and 2-3, partly with 4-5). We then used 4 seeds and ranks four
#   times apart, and a correlation over all networks of a task of at least 0.5 on every task: still
#   seed-dependent. The next rule averaged the per-task correlations over the three
#   tasks with a threshold of 0.5; lowering the threshold from 0.8 to 0.5 after seeing the numbers
#   was a loosening, so in review the threshold was set back to the pre-registered 0.8, which this
#   version keeps. C4 first
#   counted all nine (task, measure) pairs on the trend (at least 8 for reproduced, 5 for partly);
#   that count moved between 2 and 5 with the seeds, because weight change and representation
#   alignment have little trend to sit on. The final rule uses the tangent kernel only; every seed
#   set tried gives "not reproduced". The linear theory's step size was lowered (to
#   $0.25/(\sigma^2 d)$) when the full profile's larger $d$ diverged at the first step size.
# - **Paper numbers.** Only excerpts of the paper were available to us, so no figure values are
#   compared; the claims are tested by their direction and by rank correlations.
#
# ## References
#
# ```{footbibliography}
# ```
