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
# # A05 · What GANs learn: weights of the generator and the discriminator
#
# A generative adversarial network {footcite}`goodfellow2014gan` pits a generator $G$, which turns
# noise into images, against a discriminator $D$, which tells real images from generated ones.
# Karuvally {footcite}`karuvally2018gan` looked inside the two networks of a convolutional
# Wasserstein-style GAN {footcite}`arjovsky2017wgan` trained on MNIST: for each $5\times5$ kernel of
# one layer of $G$ he took its best cosine similarity with any kernel of the matching layer of
# $D$, read the histogram of these values as evidence that the two networks learn similar
# weights, and then built a *shared* GAN in which one layer of $G$ simply uses $D$'s kernels.
# Its samples scored as well as the baseline's.
#
# We train both GANs on scikit-learn's bundled digits {footcite}`alpaydin1998optdigits` (MNIST
# cannot be downloaded here), judge their samples with a separately trained classifier,
# recompute the statistic and ask the question it needs: how large is it *by chance*? The
# paper's text was not available to us: architecture, losses and the authors' numbers come from
# their code and its stored outputs (`arjunkaruvally/Shared-WGAN`); pass rules and controls are ours.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "The generator creates an output from the input noise [...] eventually leads to the
#   generator modeling the target distribution": a classifier is more confident on GAN samples
#   than on noise or on an untrained generator, and sees every class (paper, MNIST: mean
#   entropy 0.208 for the WGAN vs 0.482 untrained, 2.115 noise, 0.006 data).
# - **C2** "a study into the similarity of the discriminator and generator networks": the
#   best-match cosine similarity of $G$'s kernels to $D$'s, read against what random kernels
#   of the same shape give (authors' notebook: 4,096 kernels, range 0.455–0.855, mean 0.647;
#   no null shown). **C2b**: our statistic is the authors' (a port of their function).
# - **C3** Is that similarity more than chance? (a) the paper's own histogram against random
#   kernels of the same shape; (b) our trained pairs against a freshly initialised $D$,
#   shuffled kernels, and a channel-order-free measure. *Our question, not the paper's claim.*
# - **C4** "both the networks may have a similar structure with experimental evidence with a
#   novel shared architecture": (a) the shared GAN trains as well as the baseline (paper:
#   entropy 0.209 vs 0.208), and better than generators whose layer is frozen at kernels $D$
#   never trained; (b) its shared kernels really are identical after every update.
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import gzip
import importlib.util
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnbook import claims, plots, runtime

ctx = runtime.setup("a05", default_seeds=[0, 1, 2])
plots.use_style()
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code (same losses, optimiser
# and sharing rule).
P = ctx.pick(
    ci=dict(img=8, h=16, k=5, z_dim=32, g_extra=0, d_widths=[16, 16],
            batch=16, steps=700, n_critic=1, lr=1e-3, clip=0.1,
            n_eval=4000, null_reps=10, rho_null=200),
    full=dict(img=28, h=64, k=5, z_dim=100, g_extra=3,
              d_widths=[64, 64, 32, 16], batch=64, steps=3000,
              n_critic=5, lr=5e-5, clip=0.01, n_eval=4000, null_reps=10,
              rho_null=200),
)  # fmt: skip
# seeds; every seed trains one GAN per arm, all from the same weights
S = len(ctx.seeds)
# G's layer 1: its own (baseline), D's copied after every D update
# (shared), frozen at its initial random kernels, frozen at D's
# initial kernels
ARMS = ("baseline", "shared", "frozen random", "frozen D-init")
# models trained side by side: arm a holds models a*S..a*S+S-1
M = len(ARMS) * S
dev = ctx.device
# (out, in, k, k) of the layer the paper compared
PAPER_SHAPE = (64, 64, 5, 5)

# %% [markdown]
# All claims and their pass rules are fixed here, before anything is trained. Where a rule has
# a number, it comes from the paper's own values or from our research notes: the paper's trained
# WGAN closes 58 % of the entropy gap between the untrained generator (0.482) and the data
# (0.006), so we ask for at least half; "beats" means lower by 0.1 nats, over ten standard errors
# of a 4,000-sample mean; every digit class must receive at least 4 % of the samples, the notes'
# threshold. (An earlier version of this chapter used 2 %, a drift from the notes that it did not
# declare; the notes' 4 % is restored.) For the similarity claims, 0.05 is a quarter of the
# half-width of the paper's histogram. C2b and C4b are implementation guards (constructions);
# every other claim is empirical and has a negative control, the same statistic where it must
# fail: shuffled pixels (C1), random kernels (C2, C3a), an untrained discriminator or the
# discriminator of another seed (C3b), and, for C4a, three generators whose layer holds kernels
# $D$ never trained. `tol` says how far a re-run on another CPU or thread count may move each
# number (derived at the end of the chapter).
#
# Two rules were rewritten for this version, before the new runs, and are stricter than the
# old ones. **C2** used to ask whether our statistic has the paper's mean and range; random
# kernels of the paper's shape meet that rule (mean {glue:text}`a05_null_mean:.3f`,
# {glue:text}`a05_null_in_range:.4f` of the values in range), so it could
# not fail for a reason that matters. It now asks for an *excess over chance*: the mean
# best-match cosine of trained $G$ against trained $D$ must exceed the same statistic with $D$
# replaced by random Gaussian kernels of the same shape by at least 0.05; its control is one more
# random kernel set in place of $D$. The rule is relative to a null of the same shape, so it
# applies at our miniature's shape as at the paper's. **C4a** gains two arms trained alongside
# the baseline and the shared GAN, from the same weights and data: $G$'s shared layer frozen
# for the whole run at its own random initial kernels, and frozen at $D$'s initial kernels (the
# kernels the shared GAN starts from, before $D$ has learned anything). What each must show,
# declared now: both must *fail* C4a's rel_gap rule, that is, train clearly worse than the
# baseline. If a generator whose layer never learns trains as well, then that layer need not
# learn at all, and a shared GAN that trains as well says nothing about $D$'s kernels being
# what $G$ needs: C4a is then inconclusive. The two frozen arms are draws from the same
# distribution (both initial kernel sets are independent draws of the same initialiser), so we
# expect them to agree with each other; the second one isolates what $D$'s training of the
# kernels adds to the shared GAN. **C3b** judges the cross-seed pair as a control of the
# $\rho$ check: $G$ against the trained $D$ of every other seed (the mean over them) must fail
# the rule that $G$ against its own $D$ passes.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="What GANs learn: weights of the generator and the discriminator")
E, K, X = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "A GAN trains on real images: a separate classifier is more confident on its samples "
    "than on noise or an untrained generator, and sees every class.", kind="empirical",
    paper="entropy 0.208 (WGAN) vs 0.482 untrained, 2.115 noise, 0.006 data (MNIST)",
    checks=[
        E("margin", ">=", 0.1, "min(H_noise, H_untrained) − H_gan, nats (per seed)", tol=0.2),
        E("closure", ">=", 0.5, "(H_untrained − H_gan) / (H_untrained − H_data)", tol=0.1),
        E("min_share", ">=", 0.04, "smallest share of a digit class", over="min", tol=0.05),
        K("closure_shuffled", "closure", "held-out digits, pixels shuffled", tol=0.01),
        X("H_gan", "mean entropy of the baselines' samples (nats)", tol=0.2),
        X("H_untrained", "the same for the untrained generators", tol=0.05),
        X("H_noise", "the same for uniform noise", tol=0.02),
        X("H_data", "the same for held-out digits", tol=0.0001),
    ])
report.claim(
    "C2", "The generator and discriminator learn similar weights: the best-match cosine of each "
    "G kernel over D's kernels exceeds what random kernels of D's shape give.", kind="empirical",
    paper="4,096 kernels (5×5, 64→64): range 0.455–0.855, mean 0.647; no null shown",
    checks=[
        E("excess", ">=", 0.05, "s(G, trained D) − s(G, random D), same shape (per seed)", tol=0.02),
        K("excess_random", "excess", "one more random kernel set in place of D", tol=0.005),
        X("s_here", "s(G, trained D), this profile's kernel shape", tol=0.02),
        X("null_here", "s(G, random D), mean over draws", tol=0.02),
    ])
report.claim(
    "C2b", "Our statistic s is the authors' (a port of their get_similarity gives the same "
    "values on our kernels).", kind="construction", paper="Weights_Analyser.ipynb",
    checks=[
        E("max_abs_diff", "<=", 1e-5, "max |s_book − s_port|, every kernel, every seed", tol=1e-6),
    ])
report.claim(
    "C3a", "The paper's similarity histogram lies above chance (random kernels of the "
    "same shape). [our question]", kind="empirical",
    paper="histogram read as similarity; no null shown",
    checks=[
        E("gap", ">=", 0.05, "paper's mean − mean of Gaussian kernels, 5×5, 64→64", tol=0.0005),
        K("gap_random", "gap", "one more random kernel pair in place of the paper's", tol=0.005),
        X("null_mean", "mean of the random-kernel statistic", tol=0.0005),
        X("null_min", "its minimum (mean over draws)", tol=0.005),
        X("null_max", "its maximum (mean over draws)", tol=0.02),
        X("overlap", "shared mass of the paper's and the null histogram", tol=0.01),
        X("paper_below_null_q01", "paper's share below the null's 1st percentile", tol=0.005),
        X("paper_above_null_q99", "paper's share above the null's 99th percentile", tol=0.005),
    ])
report.claim(
    "C3b", "In our trained GANs, G–D kernel similarity exceeds chance. [our question]",
    kind="empirical", paper="not tested in the paper", partial=["rho_excess"],
    checks=[
        E("gap_init", ">=", 0.05, "s(G, trained D) − s(G, initial D)", tol=0.05),
        E("gap_shuffled", ">=", 0.05, "s(G, trained D) − s(G, D's kernels shuffled)", tol=0.02),
        E("rho_excess", ">", 0, "ρ(G, trained D) − 99th pct of ρ, random D", tol=0.1),
        K("rho_excess_init", "rho_excess", "the same with D at initialisation", tol=0.1),
        K("rho_excess_cross", "rho_excess", "the same, mean over the trained Ds of the other "
          "seeds", tol=0.1),
        X("s_trained", "mean best-match cosine s(G, trained D)", tol=0.02),
        X("rho_null_q99", "99th percentile of the seed-mean ρ with random D", tol=0.05),
    ])
report.claim(
    "C4a", "The shared architecture (one layer of G uses D's kernels) trains as well as the "
    "baseline.", kind="empirical", paper="entropy 0.209 (shared) vs 0.208 (baseline)",
    checks=[
        E("rel_gap", "<=", 0.25, "(H_shared − H_base) / (H_untrained − H_base)", tol=0.2),
        E("margin", ">=", 0.1, "min(H_noise, H_untrained) − H_shared, nats (per seed)", tol=0.05),
        E("min_share", ">=", 0.04, "smallest share of a digit class", over="min", tol=0.05),
        K("rel_gap_swapped", "rel_gap", "shared G, shared layer swapped for random", tol=0.2),
        K("rel_gap_frozen_random", "rel_gap", "G's layer frozen at its random initial kernels",
          tol=0.2),
        K("rel_gap_frozen_init", "rel_gap", "G's layer frozen at D's initial kernels", tol=0.2),
        X("H_shared", "mean entropy of the shared GANs' samples (nats)", tol=0.1),
        X("H_base", "the same for the baselines", tol=0.2),
        X("H_frozen_random", "the same, layer frozen at random kernels", tol=0.1),
        X("H_frozen_init", "the same, layer frozen at D's initial kernels", tol=0.1),
    ])
report.claim(
    "C4b", "In the shared architecture the shared weights are identical in G and D after every "
    "update; in the frozen arms G's layer never moves.", kind="construction",
    paper="copy after each round of D updates; G's optimiser excludes the layer",
    checks=[
        E("max_abs_diff", "==", 0.0, "max |W_G − W_D|, shared layer, every G update", tol=0),
        E("unchecked_steps", "==", 0, "generator steps after which that was not checked", tol=0),
        E("frozen_moved", "==", 0.0, "max |W_G − W_G(0)|, frozen arms, end of training", tol=0),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Data and the judge of sample quality
#
# The digits are 1,797 greyscale images of $8\times8$ pixels with values $0..16$, which we scale
# to $[0, 1]$; the `full` profile upsamples them bilinearly to MNIST's $28\times28$. Every third
# image is held out: it is never seen by the GANs or the classifier and gives the data's own
# score. The split is fixed, not random, so the judge is the same for every seed.

# %%
# scikit-learn's bundled copy, read directly (importing
# sklearn.datasets costs ~2 s of CPU)
csv = (
    Path(importlib.util.find_spec("sklearn").origin).parent
    / "datasets" / "data" / "digits.csv.gz"
)
# 1797 rows: 64 pixels (0..16), then the label
digits = np.loadtxt(gzip.open(csv), delimiter=",")
X_all = torch.tensor(
    digits[:, :64] / 16.0, dtype=torch.float32
).reshape(-1, 1, 8, 8)
X_all = F.interpolate(
    X_all, size=(P["img"], P["img"]), mode="bilinear", align_corners=False
).clamp(0, 1)[:, 0]
y_all = torch.tensor(digits[:, 64], dtype=torch.long)
held_out = torch.arange(len(X_all)) % 3 == 0
X_train, y_train = X_all[~held_out], y_all[~held_out]
X_test, y_test = X_all[held_out], y_all[held_out]
print(
    f"train {tuple(X_train.shape)}, held out {tuple(X_test.shape)}, "
    f"pixel range [{X_all.min():.0f}, {X_all.max():.0f}]"
)

# %% [markdown]
# The paper judged samples with a CNN trained on MNIST: the entropy of its predicted class
# distribution is low when the classifier is confident that a sample is one particular digit,
# and the mean over samples is the quality score (lower is better),
#
# $$
# H = \frac{1}{N}\sum_{n=1}^{N} \Big(-\sum_{c=0}^{9} p(c \mid x_n)\,\log p(c \mid x_n)\Big).
# $$
#
# A confident classifier can be fooled by a generator that draws a single digit well, so we also
# count the share of samples assigned to each class. Our judge is a multinomial logistic
# regression with a small L2 penalty: a convex fit, hence the same classifier for every seed.

# %%
def fit_softmax_regression(X, y, l2=1e-3):
    """Multinomial logistic regression on flattened images, fitted by
    full-batch L-BFGS."""
    X = X.reshape(len(X), -1)
    W = torch.zeros(X.shape[1], 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, b], lr=1, max_iter=200, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W + b, y) + l2 * W.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


W_clf, b_clf = fit_softmax_regression(X_train, y_train)


def judge(images):
    """Mean predictive entropy (nats) and the share of samples given to
    each class."""
    logits = images.reshape(len(images), -1).cpu() @ W_clf + b_clf
    p = torch.softmax(logits, dim=1)
    entropy = -(p * p.clamp_min(1e-12).log()).sum(1)
    counts = torch.bincount(p.argmax(1), minlength=10)
    return entropy.mean().item(), counts.float() / len(p)


# %%
acc = (
    (X_test.reshape(len(X_test), -1) @ W_clf + b_clf).argmax(1) == y_test
).float().mean().item()
H_data, share_data = judge(X_test)
noise_gen = torch.Generator().manual_seed(ctx.seeds[0])
# uniform pixels
H_noise, _ = judge(
    torch.rand(P["n_eval"], P["img"], P["img"], generator=noise_gen)
)
# C1's control: the same digits, pixels shuffled in each image
flat = X_test.reshape(len(X_test), -1)
order = torch.rand(
    flat.shape, generator=torch.Generator().manual_seed(ctx.seeds[0])
).argsort(1)
H_shuffled, _ = judge(flat.gather(1, order).reshape(X_test.shape))
runtime.glue("a05_H_shuffled", H_shuffled)
runtime.glue("a05_acc", acc)
runtime.glue("a05_H_data", H_data)
runtime.glue("a05_H_noise", H_noise)
print(f"classifier accuracy on held-out digits {acc:.3f}; entropy: "
      f"data {H_data:.3f}, uniform noise {H_noise:.3f}, "
      f"shuffled digits {H_shuffled:.3f} nats")  # fmt: skip

# %% [markdown]
# The classifier labels {glue:text}`a05_acc:.3f` of the held-out digits correctly. Its mean
# entropy is {glue:text}`a05_H_data:.3f` nats on them and {glue:text}`a05_H_noise:.3f` on
# uniform noise: a linear classifier on 64 pixels is less sure of real digits than the paper's
# MNIST CNN (0.006) and surer of noise (paper 2.115), so only comparisons *within* this chapter
# are meaningful, not the paper's absolute numbers.
#
# ## The two networks
#
# We follow the authors' code for the weight study, with fewer channels in `ci`. With $\sigma$
# the logistic function, $\mathrm{lrelu}(u) = \max(u, 0.2u)$ and BN batch normalisation:
#
# $$
# \begin{aligned}
# G:&\; z \sim \mathcal U(-1, 1)^{d_z} \to \mathrm{lrelu}(\mathrm{BN}(W_0 z)) \in \mathbb R^{1\times s\times s}
#   \to \mathrm{conv}_{1\to h} \to \underbrace{\mathrm{conv}_{h\to h}}_{\text{shared}} \to (\mathrm{conv}_{h\to h})^{n}
#   \to \sigma(\mathrm{conv}_{h\to 1}),\\
# D:&\; x \to \mathrm{conv}_{1\to h}^{\,/2} \to \underbrace{\mathrm{conv}_{h\to h}^{\,/2}}_{\text{shared}}
#   \to \dots \to \text{linear score } D(x) \in \mathbb R,
# \end{aligned}
# $$
#
# every hidden convolution ($5\times5$ kernels, "same" padding) followed by BN and lrelu. $G$
# keeps the $s\times s$ resolution; $D$ halves it at each layer (stride 2, marked $/2$). The
# "shared" layer has the same kernel shape in both networks but a different job.
# The paper has $n = 3$ extra generator layers and $D$ widths $h, h, h/2, h/4$ with $h = 64$;
# `ci` uses $h = 16$, $n = 0$ and two discriminator layers.
#
# All $4S$ GANs (four arms per seed, below) are trained at once: their channels are stacked
# and every convolution is *grouped*, one group per model, so the models never mix.

# %%
def conv(x, w, b, stride=1):
    """M independent convolutions in one call: x (B, M*C, H, W),
    w (M, O, C, k, k), b (M, O)."""
    return F.conv2d(
        x, w.flatten(0, 1), b.flatten(), stride=stride,
        padding=w.shape[-1] // 2, groups=w.shape[0],
    )  # fmt: skip


def conv_to_one(x, w, b):
    """The same for O = 1: one depthwise convolution per input channel,
    summed over each model's channels (CPUs are slow on one-channel
    groups)."""
    m, _, c, k, _ = w.shape
    y = F.conv2d(
        x, w.reshape(m * c, 1, k, k), padding=k // 2, groups=m * c
    )
    return y.unflatten(1, (m, c)).sum(2) + b.view(1, m, 1, 1)


def stacked(shape, gens, std=0.02):
    """One draw per seed from N(0, std²) truncated at 2 std (the authors'
    conv initialiser), repeated for every arm of the seed, so that all
    arms start from the same weights."""
    draws = [
        nn.init.trunc_normal_(
            torch.empty(shape), 0, std, -2 * std, 2 * std, generator=g
        )
        for g in gens
    ]
    return nn.Parameter(torch.stack(draws * len(ARMS)).to(dev))


def zeros(shape):
    return nn.Parameter(torch.zeros((M, *shape), device=dev))


# %%
class Generator(nn.Module):
    """M generators; layer 1 of self.W is the (possibly) shared
    convolution."""

    def __init__(self, gens):
        super().__init__()
        h, k, px = P["h"], P["k"], P["img"] ** 2
        self.W_lin, self.b_lin = (
            stacked((P["z_dim"], px), gens), zeros((px,))
        )
        self.bn_lin = nn.BatchNorm1d(M * px, device=dev)
        shapes = (
            [(h, 1, k, k)]
            + [(h, h, k, k)] * (1 + P["g_extra"])
            + [(1, h, k, k)]
        )
        self.W = nn.ParameterList([stacked(s, gens) for s in shapes])
        self.b = nn.ParameterList([zeros((s[0],)) for s in shapes])
        self.bn = nn.ModuleList(
            [nn.BatchNorm2d(M * h, device=dev) for _ in shapes[:-1]]
        )

    def forward(self, z):  # z (B, M, z_dim) -> images (B, M, s, s)
        B, s = z.shape[0], P["img"]
        x = torch.einsum("bmz,mzp->bmp", z, self.W_lin) + self.b_lin
        x = F.leaky_relu(self.bn_lin(x.reshape(B, -1)), 0.2)
        x = x.reshape(B, M, s, s)
        layers = zip(self.W[:-1], self.b[:-1], self.bn, strict=True)
        for W, b, bn in layers:
            x = F.leaky_relu(bn(conv(x, W, b)), 0.2)
        return torch.sigmoid(conv_to_one(x, self.W[-1], self.b[-1]))


# %%
class Discriminator(nn.Module):
    """M critics: stride-2 convolutions with BN and lrelu, then a linear
    score; layer 1 is shared."""

    def __init__(self, gens):
        super().__init__()
        widths, side, k = [1, *P["d_widths"]], P["img"], P["k"]
        pairs = zip(widths[:-1], widths[1:], strict=True)
        self.W = nn.ParameterList(
            [stacked((o, i, k, k), gens) for i, o in pairs]
        )
        self.b = nn.ParameterList([zeros((o,)) for o in widths[1:]])
        self.bn = nn.ModuleList(
            [nn.BatchNorm2d(M * o, device=dev) for o in widths[1:]]
        )
        for _ in widths[1:]:
            side = math.ceil(side / 2)
        self.W_lin, self.b_lin = (
            stacked((widths[-1] * side * side,), gens), zeros(())
        )

    def forward(self, x):  # x (B, M, s, s) -> scores (B, M)
        for W, b, bn in zip(self.W, self.b, self.bn, strict=True):
            x = F.leaky_relu(bn(conv(x, W, b, stride=2)), 0.2)
        x = x.reshape(x.shape[0], M, -1)
        return torch.einsum("bmf,mf->bm", x, self.W_lin) + self.b_lin


# %% [markdown]
# ## Training, with and without sharing
#
# The authors' loss is unusual: $D$'s score goes through $\tanh$ and then into a sigmoid
# cross-entropy with label $+1$ for real and $-1$ for generated images, and every parameter of
# $D$ (batch-norm scales included) is clipped to $[-c, c]$ before each of its updates. With
# $\ell(u, y) = \log(1 + e^{-u}) + (1 - y)\,u$ (the cross-entropy on logit $u$),
#
# $$
# L_D = \mathbb E_x\, \ell(\tanh D(x), +1) + \mathbb E_z\, \ell(\tanh D(G(z)), -1), \qquad
# L_G = \mathbb E_z\, \ell(\tanh D(G(z)), +1).
# $$
#
# For the small scores that clipping enforces, $\ell(u, +1) \approx \log 2 - u/2$ and
# $\ell(u, -1) \approx \log 2 + 3u/2$: a weighted Wasserstein critic {footcite}`arjovsky2017wgan`.
# Both networks use RMSProp (decay 0.9, as TensorFlow's default), $n_{\text{critic}}$ updates of
# $D$ per update of $G$. The paper's $c = 0.01$, learning rate $5\cdot10^{-5}$ and
# $n_{\text{critic}} = 5$ learn too slowly for a one-minute budget; `ci` uses $c = 0.1$,
# $10^{-3}$ and 1, with batches of 16, on 700 generator steps (`full`: the paper's values, 3,000 steps).
#
# **Sharing.** After each round of $D$ updates, the shared GAN copies $D$'s shared kernel and
# bias into $G$'s shared layer, and $G$'s optimiser never moves that layer:
#
# $$
# W^{G}_{\text{shared}} \leftarrow W^{D}_{\text{shared}}, \qquad \nabla_{W^{G}_{\text{shared}}} L_G := 0 .
# $$
#
# The copy happens before $G$'s forward pass: an in-place copy after it would change a tensor
# that autograd saved.
#
# **Frozen arms (C4a's controls).** Two more GANs per seed keep $G$'s shared layer out of $G$'s
# optimiser too, but never copy anything into it: in one it stays at $G$'s own random initial
# kernels, in the other it holds $D$'s *initial* kernels, copied once before the first step.
# All four arms of a seed start from the same weights and see the same real images and latent
# codes, so they differ only in what fills that one layer.

# %%
gens = [torch.Generator().manual_seed(seed) for seed in ctx.seeds]
G, D = Generator(gens), Discriminator(gens)
assert G.W[1].shape == D.W[1].shape, (
    "the shared layer must have the same kernel shape in G and D"
)
arm = (torch.arange(M) // S).to(dev)
is_shared = arm == ARMS.index("shared")
# G's optimiser never moves layer 1 of the shared and frozen arms
frozen = arm != ARMS.index("baseline")
# broadcast over a layer's (out, in, k, k)
shared_5d = is_shared.view(M, 1, 1, 1, 1)
frozen_5d = frozen.view(M, 1, 1, 1, 1)
with torch.no_grad():  # the D-init arm: D's initial kernels, once
    d_init_5d = (arm == ARMS.index("frozen D-init")).view(M, 1, 1, 1, 1)
    G.W[1].copy_(torch.where(d_init_5d, D.W[1], G.W[1]))
    G.b[1].copy_(torch.where(d_init_5d[:, :, 0, 0, 0], D.b[1], G.b[1]))
G_W1_start = G.W[1].detach().clone()
opt_d = torch.optim.RMSprop(D.parameters(), lr=P["lr"], alpha=0.9)
opt_g = torch.optim.RMSprop(G.parameters(), lr=P["lr"], alpha=0.9)
# the freshly initialised D, a control for C3
D_init = D.W[1].detach().cpu().clone()
n_train = len(X_train)
X_train_dev = X_train.to(dev)


def latent(B, streams=gens):
    """Per seed, B codes from U(-1, 1), the same for every arm."""
    z = torch.stack(
        [torch.rand(B, P["z_dim"], generator=g) * 2 - 1 for g in streams]
    )
    z = torch.cat([z] * len(ARMS))
    return z.transpose(0, 1).to(dev)  # (B, M, z_dim)


def real_images(B):
    idx = torch.stack(
        [torch.randint(n_train, (B,), generator=g) for g in gens]
    )
    idx = torch.cat([idx] * len(ARMS)).to(dev)
    return X_train_dev[idx].transpose(0, 1)  # (B, M, s, s)


# %%
def loss_vs(score, label):
    """The paper's loss: sigmoid cross-entropy of tanh(score) against ±1;
    batch mean, summed over models."""
    u = torch.tanh(score)
    loss = F.binary_cross_entropy_with_logits(
        u, torch.full_like(u, label), reduction="none"
    )
    return loss.mean(0).sum()


def d_step():
    with torch.no_grad():
        for p in D.parameters():
            p.clamp_(-P["clip"], P["clip"])
        fake = G(latent(P["batch"]))
    loss = (
        loss_vs(D(real_images(P["batch"])), 1.0)
        + loss_vs(D(fake), -1.0)
    )
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()


def g_step():
    D.requires_grad_(False)
    loss = loss_vs(D(G(latent(P["batch"]))), 1.0)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    # G's optimiser never moves a shared or frozen layer
    G.W[1].grad.masked_fill_(frozen_5d, 0.0)
    G.b[1].grad.masked_fill_(frozen[:, None], 0.0)
    opt_g.step()
    D.requires_grad_(True)


# %% [markdown]
# Before training we keep the untrained generators' samples: they are the paper's "initial
# entropy" reference. Samples are drawn with batch-norm in training mode, as in the authors' code.
# A GAN's output drifts between classes from one step to the next, so the trained generators
# are judged on samples pooled from four late checkpoints (70, 80, 90 and 100 % of training).

# %%
@torch.no_grad()
def sample(n, chunk=500):
    """n images from each of the M generators, (n, M, s, s) on the CPU;
    the same codes every call."""
    # not the training streams
    streams = [
        torch.Generator().manual_seed(10_000 + seed) for seed in ctx.seeds
    ]
    return torch.cat([
        G(latent(min(chunk, n - i), streams)).cpu()
        for i in range(0, n, chunk)
    ])  # fmt: skip


def scores(images):
    """Per model: mean entropy and class shares."""
    out = [judge(images[:, m]) for m in range(M)]
    return np.array([h for h, _ in out]), torch.stack([s for _, s in out])


# a reference, not a score: half as many samples
untrained = sample(P["n_eval"] // 2)
H_untrained, _ = scores(untrained)
for a, name in enumerate(ARMS):
    print(f"untrained generators, {name:13s} arm, mean entropy per seed:",
          np.round(H_untrained[a * S:(a + 1) * S], 3))  # fmt: skip

# %%
# shared GANs: G's layer 1 <- D's layer 1 (baselines keep their own)
@torch.no_grad()
def share():
    G.W[1].copy_(torch.where(shared_5d, D.W[1], G.W[1]))
    G.b[1].copy_(torch.where(is_shared[:, None], D.b[1], G.b[1]))


max_diff, checks, late = 0.0, 0, []
checkpoints = {round(P["steps"] * f) for f in (0.7, 0.8, 0.9, 1.0)}
for step in range(1, P["steps"] + 1):
    for _ in range(P["n_critic"]):
        d_step()
    share()
    g_step()
    with torch.no_grad():  # C4b: the shared slices of G and D, bit for bit
        diff = torch.maximum(
            (G.W[1] - D.W[1])[is_shared].abs().max(),
            (G.b[1] - D.b[1])[is_shared].abs().max(),
        )
    max_diff, checks = max(max_diff, diff.item()), checks + 1
    if step in checkpoints:
        late.append(sample(P["n_eval"] // len(checkpoints)))
base_gap = (G.W[1] - D.W[1])[~frozen].abs().max().item()
# C4b: the frozen arms' layer 1 against its value before step 1
frozen_moved = (
    (G.W[1] - G_W1_start)[frozen & ~is_shared].abs().max().item()
)
print(
    f"{P['steps']} generator steps; shared layer: "
    f"max |W_G - W_D| = {max_diff} (shared GANs), "
    f"{base_gap:.3f} (baselines); frozen arms moved by {frozen_moved}"
)

# %% [markdown]
# ## C1 · Does the GAN learn the digits?

# %%
# (n_eval, M, s, s): four checkpoints, the last one at the end
trained = torch.cat(late)
H_trained, shares = scores(trained)
base, shrd = slice(0, S), slice(S, 2 * S)
# all arms but the D-init one start as the baselines do
H_u = float(H_untrained[base].mean())
H_base = float(H_trained[base].mean())
H_shared = float(H_trained[shrd].mean())
closure = (H_u - H_base) / (H_u - H_data)
for name, part in (("baseline", base), ("shared", shrd)):
    print(f"{name:8s} entropy per seed {np.round(H_trained[part], 3)}, "
          "smallest class share per seed "
          f"{np.round(shares[part].min(1).values.numpy(), 3)}")
runtime.glue("a05_H_base", H_base)
runtime.glue("a05_H_shared", H_shared)
runtime.glue("a05_H_untrained", H_u)
runtime.glue("a05_closure", closure)

# %% tags=["hide-input"]
def grid(images, n=5):
    """n x n images (N, s, s) tiled into one array with 1-pixel gaps."""
    s = images.shape[-1]
    canvas = np.zeros((n * (s + 1) - 1, n * (s + 1) - 1))  # white gaps
    for i in range(n * n):
        r, c = divmod(i, n)
        canvas[r * (s + 1) : r * (s + 1) + s, c * (s + 1) : c * (s + 1) + s] = images[i]
    return canvas


panels = [("held-out digits", X_test[:25]), ("uniform noise", torch.rand(25, P["img"], P["img"], generator=noise_gen)),
          ("untrained G", untrained[:25, 0]), ("baseline G", late[-1][:25, 0]), ("shared G", late[-1][:25, S]),
          ("G, frozen random", late[-1][:25, 2 * S])]  # fmt: skip
fig, axes = plt.subplots(1, 6, figsize=(10.5, 2.2))
for ax, (title, imgs) in zip(axes, panels, strict=True):
    ax.imshow(grid(imgs.numpy()), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
fig.suptitle(f"5×5 samples, seed {ctx.seeds[0]} (the paper shows such grids of MNIST samples)")
plt.show()

# %% tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), width_ratios=[1, 1.4])
refs = {"data": H_data, "noise": H_noise, "untrained": H_u}
ax1.bar(list(refs), list(refs.values()), color=plots.COLORBLIND[7])
for x, part in ((3, base), (4, shrd)):
    ax1.bar(x, H_trained[part].mean(), color=plots.COLORBLIND[x - 3], alpha=0.6)
    ax1.plot(np.full(S, x), H_trained[part], "o", color=plots.COLORBLIND[x - 3])
ax1.set(xticks=range(5), xticklabels=[*refs, "baseline", "shared"], ylabel="mean entropy of the classifier (nats)",
        title="sample quality (lower is better)")  # fmt: skip
ax2.plot(range(10), share_data.numpy(), "k--", label="held-out data")
for m in range(2 * S):
    ax2.plot(range(10), shares[m].numpy(), "o-" if m < S else "s:", color=plots.COLORBLIND[0 if m < S else 1], alpha=0.7,
             label=("baseline" if m == 0 else "shared" if m == S else None))  # fmt: skip
ax2.axhline(0.04, color="grey", lw=1, ls="--")  # the coverage rule
ax2.set(xticks=range(10), xlabel="digit class assigned by the classifier", ylabel="share of samples")
ax2.legend()
plt.show()

# %% [markdown]
# Averaged over seeds, the baseline GANs reach a mean entropy of {glue:text}`a05_H_base:.3f`
# nats, against {glue:text}`a05_H_untrained:.3f` for the untrained generators, and close
# {glue:text}`a05_closure:.2f` of the gap between the untrained generator and the data (paper:
# 0.58). Many samples are recognisable digits, others are blotchy, and the classifier stays
# less sure of them than of real digits, as the paper's classifier was. The control is a
# trivial "generator" that keeps every pixel value of the held-out digits and shuffles their
# positions within each image: it closes {glue:text}`a05_closure_shuffled:.2f` of the gap
# (entropy {glue:text}`a05_H_shuffled:.3f` nats), short of the rule's 0.5, so the rule asks for
# more than the right pixel statistics. The margin is not large: a linear classifier judges
# shuffled digits far more confidently than the paper's CNN would.

# %%
# the better of the two references a GAN must beat
H_ref = min(H_noise, H_u)
report.measure(
    "C1",
    margin=H_ref - H_trained[base],
    closure=(H_u - H_trained[base]) / (H_u - H_data),
    min_share=shares[base].min(1).values,
    closure_shuffled=(H_u - H_shuffled) / (H_u - H_data),
    H_gan=H_base, H_untrained=H_u, H_noise=H_noise, H_data=H_data,
)  # fmt: skip
runtime.glue("a05_closure_shuffled", (H_u - H_shuffled) / (H_u - H_data))

# %% [markdown]
# ## C4 · Does the shared architecture train as well?
#
# The shared GANs reach {glue:text}`a05_H_shared:.3f` nats (baselines
# {glue:text}`a05_H_base:.3f`); the rule asks for at least three quarters of the baseline's
# improvement over the untrained generator, plus C1's other checks. Three controls must fail
# the same rule. The first asks whether $G$ uses the layer at all: the final shared
# generators, their shared layer swapped for Gaussian kernels with the same norm per kernel
# (no retraining). The other two ask whether $G$ needs *$D$'s* kernels in that layer, or any
# kernels: the two frozen arms, trained alongside from the same weights, whose layer holds
# random kernels, or $D$'s kernels before $D$ learned anything, for the whole run.
# After every generator update the shared kernels of $G$ and $D$ were compared bit for bit
# (printed above: 0 is identical), and the frozen layers were compared with their starting
# values at the end (0: they never moved), while each baseline's two layers drift apart
# freely.


# %%
@torch.no_grad()
def swapped_samples(gen):
    """Samples of the final generators, the shared GANs' layer 1 replaced
    by random kernels of equal norm."""
    keep = G.W[1].detach().clone()
    R = torch.randn(keep.shape, generator=gen).to(dev)
    R = (
        R * keep.flatten(3).norm(dim=3)[..., None, None]
        / R.flatten(3).norm(dim=3)[..., None, None]
    )
    G.W[1].copy_(torch.where(shared_5d, R, keep))
    out = sample(P["n_eval"] // 2)
    G.W[1].copy_(keep)
    return out


H_swapped, _ = scores(
    swapped_samples(torch.Generator().manual_seed(ctx.seeds[0]))
)
H_b = H_trained[base]
fr_rand, fr_init = slice(2 * S, 3 * S), slice(3 * S, 4 * S)


def rel_gap(H):
    """Per seed: (H_arm − H_base) / (H_untrained − H_base)."""
    return (H - H_b) / (H_u - H_b)


c4a = dict(
    rel_gap=rel_gap(H_trained[shrd]),
    margin=H_ref - H_trained[shrd],
    min_share=shares[shrd].min(1).values,
    rel_gap_swapped=rel_gap(H_swapped[shrd]),
    rel_gap_frozen_random=rel_gap(H_trained[fr_rand]),
    rel_gap_frozen_init=rel_gap(H_trained[fr_init]),
    H_shared=H_shared, H_base=H_base,
    H_frozen_random=float(H_trained[fr_rand].mean()),
    H_frozen_init=float(H_trained[fr_init].mean()),
)  # fmt: skip
report.measure("C4a", c4a)
report.measure(
    "C4b", max_abs_diff=max_diff, unchecked_steps=P["steps"] - checks,
    frozen_moved=frozen_moved,
)  # fmt: skip
runtime.glue("a05_H_swapped", float(H_swapped[shrd].mean()))
for key in ("H_frozen_random", "H_frozen_init"):
    runtime.glue(f"a05_{key}", c4a[key])
for key in ("rel_gap", "rel_gap_frozen_random", "rel_gap_frozen_init"):
    runtime.glue(f"a05_{key}", float(np.mean(c4a[key])))
runtime.glue("a05_c4a_min_share", float(shares[shrd].min()))
runtime.glue("a05_frozen_min_share", float(shares[2 * S:].min()))
for a, name in enumerate(ARMS):
    part = slice(a * S, (a + 1) * S)
    low = shares[part].min(1).values.numpy()
    print(f"{name:13s} entropy per seed {np.round(H_trained[part], 3)}, "
          f"rel_gap {np.round(rel_gap(H_trained[part]), 3)}, "
          f"smallest class share {np.round(low, 4)}")  # fmt: skip
print(
    "shared GANs with the shared layer swapped for random kernels, "
    "entropy per seed:",
    np.round(H_swapped[shrd], 3),
)

# %% tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.3), width_ratios=[1.5, 1])
groups = {"baseline": np.zeros(S), "shared": c4a["rel_gap"], "frozen\nrandom": c4a["rel_gap_frozen_random"],
          "frozen\nD-init": c4a["rel_gap_frozen_init"], "shared,\nswapped": c4a["rel_gap_swapped"]}  # fmt: skip
plots.seed_points(ax1, groups, ylabel="rel_gap (0 = baseline, 1 = untrained)", threshold=0.25)
ax1.set_title("C4a: each arm against its seed's baseline")
groups = {name.replace(" ", "\n"): shares[a * S:(a + 1) * S].min(1).values for a, name in enumerate(ARMS)}
plots.seed_points(ax2, groups, ylabel="smallest class share", threshold=0.04)
ax2.set_title("coverage")
plt.show()

# %% [markdown]
# The swap control fails the rule, as it must: with random kernels in place of $D$'s, the same
# generators' entropy rises to {glue:text}`a05_H_swapped:.3f` nats, so a trained $G$ relies on
# the kernels it was trained with. But the frozen arms train as well as the baseline and as
# the shared GAN: rel_gap {glue:text}`a05_rel_gap_frozen_random:.3f` with the layer frozen at
# random kernels and {glue:text}`a05_rel_gap_frozen_init:.3f` frozen at $D$'s initial kernels
# (entropies {glue:text}`a05_H_frozen_random:.3f` and {glue:text}`a05_H_frozen_init:.3f`
# nats), against {glue:text}`a05_rel_gap:.3f` for the shared GAN. Both pass the rule they
# were declared to fail, so C4a is **inconclusive**: in this generator a layer that never
# learns costs nothing, the layers around it adapt to whatever kernels it holds, and the shared
# GAN's success says nothing about $D$'s kernels suiting $G$. The coverage check of the shared
# GANs is, besides, a knife edge: the smallest class share of a shared GAN is
# {glue:text}`a05_c4a_min_share:.4f` against the notes' 0.04, within the spread between seeds
# (marked fragile in the table below), and other seed sets and thread counts fall on either
# side of it (see how the tolerances were obtained); the frozen arms' smallest share is
# {glue:text}`a05_frozen_min_share:.4f`.

# %% [markdown]
# ## C2 · The paper's similarity statistic
#
# For a layer with kernels $w_{oi} \in \mathbb R^{5\times5}$ (output channel $o$, input channel
# $i$), the authors' notebook computes for every kernel of $G$ its best cosine similarity with
# any kernel of $D$'s matching layer,
#
# $$
# s_{oi} = \max_{o', i'} \frac{\langle w^{G}_{oi}, w^{D}_{o'i'} \rangle}{\lVert w^{G}_{oi}\rVert\,\lVert w^{D}_{o'i'}\rVert},
# $$
#
# and shows the histogram of the $h^2$ values $s_{oi}$; we copy the counts of the authors'
# histogram (4,096 values, 20 bins) from their notebook. Below our one-line version of $s$
# sits a port of the authors' function (their loops, their TensorFlow kernel layout
# $(k, k, \text{in}, \text{out})$, the inner double loop written as one product): C2b checks
# that the two agree on our kernels.

# %%
def best_match_cosine(W_g, W_d):
    """For every k x k kernel of W_g (out, in, k, k): its largest cosine
    with any kernel of W_d."""
    a = F.normalize(W_g.reshape(-1, W_g.shape[-1] ** 2), dim=1)
    b = F.normalize(W_d.reshape(-1, W_d.shape[-1] ** 2), dim=1)
    return (a @ b.T).max(dim=1).values


def authors_similarity(a, b):
    """Port of get_similarity (authors' Weights_Analyser notebook): a, b
    in TensorFlow's (k, k, in, out) layout; for each slice a[:, :, i, o],
    in their loop order, its largest cosine with any slice of b."""
    k = a.shape[0]
    slices = b.reshape(k * k, -1)  # one column per slice of b
    slices = slices / np.linalg.norm(slices, axis=0)
    best = []
    for i in range(a.shape[2]):
        for o in range(a.shape[3]):
            u = a[:, :, i, o].reshape(k * k)
            best.append(np.max((u / np.linalg.norm(u)) @ slices))
    return np.array(best)


PAPER_COUNTS = np.array([
    1, 2, 24, 60, 134, 269, 329, 440, 529, 535,
    490, 433, 295, 251, 128, 91, 42, 27, 10, 6,
])  # fmt: skip
# from the authors' Weights_Analyser notebook
PAPER_EDGES = np.linspace(0.45530802, 0.85514832, 21)
paper_mean = float(
    (PAPER_COUNTS * (PAPER_EDGES[1:] + PAPER_EDGES[:-1]) / 2).sum()
    / PAPER_COUNTS.sum()
)
W_G, W_D = G.W[1].detach().cpu(), D.W[1].detach().cpu()
# baselines: (S, h*h)
stat_trained = torch.stack(
    [best_match_cosine(W_G[m], W_D[m]) for m in range(S)]
)

# C2b: the port, on TensorFlow's layout; its order is (in, out)
tf_layout = lambda W: W.permute(2, 3, 1, 0).numpy()  # noqa: E731
port = np.stack([
    authors_similarity(tf_layout(W_G[m]), tf_layout(W_D[m]))
    for m in range(S)
])  # fmt: skip
h_out, h_in = W_G.shape[1:3]
ours = stat_trained.reshape(S, h_out, h_in).transpose(1, 2).flatten(1)
port_diff = float(np.abs(port - ours.numpy()).max())
report.measure("C2b", max_abs_diff=port_diff)

# C2: the same statistic with D replaced by Gaussian kernels of its shape
c2_gen = torch.Generator().manual_seed(ctx.seeds[0])


def s_random(m):
    R = torch.randn(W_D[m].shape, generator=c2_gen)
    return best_match_cosine(W_G[m], R).mean().item()


s_here = stat_trained.mean(1).numpy()
null_here = np.array([
    np.mean([s_random(m) for _ in range(P["null_reps"])]) for m in range(S)
])  # fmt: skip
report.measure(
    "C2",
    excess=s_here - null_here,
    excess_random=np.array([s_random(m) for m in range(S)]) - null_here,
    s_here=float(s_here.mean()), null_here=float(null_here.mean()),
)  # fmt: skip
print(
    f"s(G, trained D) per seed {np.round(s_here, 3)}; with D random "
    f"{np.round(null_here, 3)}; the authors' function (port) gives mean "
    f"{port.mean():.4f}, max |difference| {port_diff:.1e}"
)
runtime.glue("a05_stat_trained", stat_trained.mean().item())
runtime.glue("a05_null_here", float(null_here.mean()))
runtime.glue("a05_excess", float((s_here - null_here).mean()))
runtime.glue(
    "a05_excess_random", report.claims["C2"].measured[1].value
)
runtime.glue("a05_port_diff", port_diff)
runtime.glue("a05_paper_mean", paper_mean)

# %% [markdown]
# Our trained baselines give a mean best-match cosine of {glue:text}`a05_stat_trained:.3f`
# (paper {glue:text}`a05_paper_mean:.3f`, at 64 rather than 16 channels: how large a maximum
# over $h^2$ cosines of 25-dimensional vectors is depends on $h$, so the two numbers cannot be
# compared directly). What can be compared at any shape is the excess over chance: with $D$'s
# kernels replaced by Gaussian ones of the same shape, the same generators give
# {glue:text}`a05_null_here:.3f`, so trained $D$ adds {glue:text}`a05_excess:.3f`, against the
# 0.05 that C2's rule asks for: trained $D$'s kernels match $G$'s no better, here slightly
# worse, than random ones (the next section says why), and C2 is **not reproduced**. Its
# control, one more random kernel set in $D$'s place, lands at
# {glue:text}`a05_excess_random:.3f`, failing the rule as it must. The authors' own
# function, ported, gives the same values to within {glue:text}`a05_port_diff:.0e` (C2b).
#
# ## C3 · How large is the statistic by chance?
#
# The maximum of many cosines is large even for unrelated vectors. For two independent random
# kernels $u, v \in \mathbb R^{25}$, $\cos(u, v)$ has mean 0 and standard deviation
# $1/\sqrt{25} = 0.2$; $s_{oi}$ takes the best of $64^2 = 4{,}096$ of them, which lands near the
# upper tail. We draw i.i.d. Gaussian kernels of the paper's shape ($64\times64\times5\times5$;
# the cosine ignores the scale, so the authors' truncated-normal initialiser gives the same
# null) and compute the same histogram.

# %%
null_gen = torch.Generator().manual_seed(ctx.seeds[0])
null = torch.stack([
    best_match_cosine(torch.randn(PAPER_SHAPE, generator=null_gen),
                      torch.randn(PAPER_SHAPE, generator=null_gen))
    for _ in range(P["null_reps"])
])  # fmt: skip
null_hist = np.histogram(null.numpy(), bins=PAPER_EDGES)[0] / null.numel()
# 1 = identical histograms
overlap = float(
    np.minimum(PAPER_COUNTS / PAPER_COUNTS.sum(), null_hist).sum()
)
# at PAPER_EDGES
paper_cdf = np.concatenate(
    [[0], np.cumsum(PAPER_COUNTS) / PAPER_COUNTS.sum()]
)
q01, q99 = np.quantile(null.numpy(), [0.01, 0.99])
c3a = {
    "paper_mean": paper_mean,
    "null_mean": null.mean().item(),
    "null_min": null.min(1).values.mean().item(),
    "null_max": null.max(1).values.mean().item(),
    "overlap": overlap,
    "paper_below_null_q01": float(np.interp(q01, PAPER_EDGES, paper_cdf)),
    "paper_above_null_q99": float(
        1 - np.interp(q99, PAPER_EDGES, paper_cdf)
    ),
}  # fmt: skip
extra = best_match_cosine(
    torch.randn(PAPER_SHAPE, generator=null_gen),
    torch.randn(PAPER_SHAPE, generator=null_gen),
)
c3a["gap"], c3a["gap_random"] = (
    paper_mean - c3a["null_mean"],
    extra.mean().item() - c3a["null_mean"],
)
del c3a["paper_mean"]
report.measure("C3a", c3a)
runtime.glue("a05_gap_random", c3a["gap_random"])
in_range = lambda v: (  # noqa: E731
    ((v >= PAPER_EDGES[0]) & (v <= PAPER_EDGES[-1])).float().mean().item()
)
runtime.glue("a05_null_in_range", in_range(null))
for key in ("null_mean", "null_min", "null_max", "overlap",
            "paper_below_null_q01", "paper_above_null_q99"):  # fmt: skip
    runtime.glue(f"a05_{key}", c3a[key])
print({k: round(v, 3) for k, v in c3a.items()})

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.2))
widths = np.diff(PAPER_EDGES)
ax.bar(PAPER_EDGES[:-1], PAPER_COUNTS / PAPER_COUNTS.sum() / widths, width=widths, align="edge",
       color=plots.COLORBLIND[0], alpha=0.6, label="paper (authors' notebook)")  # fmt: skip
ax.hist(null.numpy().ravel(), bins=40, density=True, histtype="step", lw=2, color=plots.COLORBLIND[3],
        label="random kernels")  # fmt: skip
ax.set(xlabel="best-match cosine similarity $s_{oi}$", ylabel="density", title="5×5 kernels, 64→64: the paper's histogram and chance")
ax.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# Random kernels give a mean of {glue:text}`a05_null_mean:.3f` (paper
# {glue:text}`a05_paper_mean:.3f`) and a typical range from {glue:text}`a05_null_min:.3f` to
# {glue:text}`a05_null_max:.3f` (paper 0.455 to 0.855); the two histograms share
# {glue:text}`a05_overlap:.2f` of their mass. On average, then, the paper's kernels match $D$
# no better than random kernels would, and the histogram's range is the range of chance. The
# paper's histogram is *wider*, though: {glue:text}`a05_paper_above_null_q99:.3f` of its
# kernels lie above the 99th percentile of chance and {glue:text}`a05_paper_below_null_q01:.3f`
# below the 1st (0.01 each by chance). A few kernels match better than chance and more match
# worse: the mark of kernel sets that favour a few spatial patterns (we meet it again below),
# not of a correspondence between $G$ and $D$. (C3a's control, one more random kernel pair in
# place of the paper's, lands {glue:text}`a05_gap_random:.3f` from the null mean: the gap
# statistic itself carries no bias.)
#
# That does not yet mean that trained $G$ and $D$ are *not* similar. We test our own trained
# pairs against three controls of the same shape: $D$ at initialisation, $D$'s trained kernels
# with their 25 entries shuffled within each kernel (same values, no spatial structure), and
# Gaussian kernels. The statistic $s$ also has a blind spot: channels can be permuted or mixed
# without changing what a network computes, and a maximum over pairs rewards any accidental
# match. So we add a measure that no re-ordering of channels can change: the cosine between the
# traceless parts of the two layers' $25\times25$ spatial second-moment matrices,
#
# $$
# \rho(W^G, W^D) = \frac{\langle T^G, T^D \rangle_F}{\lVert T^G\rVert_F\,\lVert T^D\rVert_F},\qquad
# T = \sum_{o,i} w_{oi} w_{oi}^{\top} - \tfrac{1}{25}\operatorname{tr}\Big(\sum_{o,i} w_{oi} w_{oi}^{\top}\Big) I .
# $$
#
# After the best orthogonal alignment of the $h^2$ kernel slots (orthogonal Procrustes
# {footcite}`schonemann1966procrustes`, which includes every permutation of channels), all that is
# left to compare are these second-moment matrices; $\rho$ compares their anisotropic parts. It
# is $\approx 0$ for independent isotropic kernels and large when both layers prefer the same
# spatial patterns. This measure is ours, not the paper's.

# %%
def spatial_similarity(W_g, W_d):
    """rho: cosine between the traceless k² x k² second-moment matrices
    of two kernel sets."""

    def traceless(W):
        A = W.reshape(-1, W.shape[-1] ** 2).double()
        C = A.T @ A
        return C - C.trace() / len(C) * torch.eye(len(C), dtype=C.dtype)

    a, b = traceless(W_g), traceless(W_d)
    return ((a * b).sum() / (a.norm() * b.norm())).item()


def participation_ratio(W):
    """Effective number of spatial directions (out of k²) used by a set
    of unit-norm kernels."""
    A = F.normalize(W.reshape(-1, W.shape[-1] ** 2), dim=1).double()
    ev = torch.linalg.eigvalsh(A.T @ A)
    return (ev.sum() ** 2 / ev.pow(2).sum()).item()


def shuffled(W, gen):
    """Each kernel's k² entries in a random order: same values, no spatial
    structure."""
    A = W.reshape(-1, W.shape[-1] ** 2)
    order = torch.rand(A.shape, generator=gen).argsort(1)
    return A.gather(1, order).reshape(W.shape)


# %%
ctl_gen = torch.Generator().manual_seed(ctx.seeds[0])
ctl = {"trained": [], "init": [], "shuffled": [], "random": [],
       "cross-seed": []}  # fmt: skip
rho = {"trained": [], "init": [], "cross-seed": []}
for m in range(S):
    others = {
        "trained": W_D[m], "init": D_init[m],
        "shuffled": shuffled(W_D[m], ctl_gen),
        "random": torch.randn(W_D[m].shape, generator=ctl_gen),
    }  # fmt: skip
    for key, W in others.items():
        ctl[key].append(best_match_cosine(W_G[m], W))
    for key in ("trained", "init"):
        rho[key].append(spatial_similarity(W_G[m], others[key]))
    # cross-seed: the trained D of every other seed (mean over them)
    cross = [n for n in range(S) if n != m]
    if cross:
        ctl["cross-seed"].append(torch.stack(
            [best_match_cosine(W_G[m], W_D[n]) for n in cross]
        ).mean(0))
        rho["cross-seed"].append(float(np.mean(
            [spatial_similarity(W_G[m], W_D[n]) for n in cross]
        )))  # fmt: skip
# null of the tested quantity, the mean over seeds of rho, with D
# replaced by random kernels
rho_null = [
    np.mean([
        spatial_similarity(
            W_G[m], torch.randn(W_G[m].shape, generator=ctl_gen)
        )
        for m in range(S)
    ])
    for _ in range(P["rho_null"])
]  # fmt: skip
mean_of = {key: torch.cat(v).mean().item() for key, v in ctl.items() if v}
pr_D = float(np.mean([participation_ratio(W_D[m]) for m in range(S)]))
pr_random = participation_ratio(
    torch.randn(W_D[0].shape, generator=ctl_gen)
)
q99 = float(np.quantile(rho_null, 0.99))
per_seed = {
    key: np.array([v.mean().item() for v in ctl[key]])
    for key in ("trained", "init", "shuffled")
}
c3b = {
    "gap_init": per_seed["trained"] - per_seed["init"],
    "gap_shuffled": per_seed["trained"] - per_seed["shuffled"],
    "rho_excess": np.array(rho["trained"]) - q99,
    "rho_excess_init": np.array(rho["init"]) - q99,
    "rho_excess_cross": (
        np.array(rho["cross-seed"] if S > 1 else [math.nan]) - q99
    ),
    "s_trained": mean_of["trained"],
    "rho_null_q99": q99,
}  # fmt: skip
print({k: round(v, 3) for k, v in mean_of.items()})
print(
    "rho per seed:",
    {k: np.round(v, 3).tolist() for k, v in rho.items()},
    f"null 99th percentile {q99:.3f}",
)

# %% tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.3), width_ratios=[1.4, 1])
bins = np.linspace(min(v.min().item() for v in map(torch.cat, filter(None, ctl.values()))), 1, 21)
for (key, v), colour in zip(ctl.items(), (0, 2, 4, 3, 7), strict=True):
    if v:
        ax1.hist(torch.cat(v).numpy(), bins=bins, density=True, histtype="bar" if key == "trained" else "step",
                 alpha=0.5 if key == "trained" else 1, lw=2, color=plots.COLORBLIND[colour], label=f"G vs {key} D")  # fmt: skip
ax1.set(xlabel="best-match cosine similarity $s_{oi}$", ylabel="density", title=f"our baselines, kernels {tuple(W_G.shape[1:])}")
ax1.legend(fontsize=8)
ax2.hist(rho_null, bins=30, color=plots.COLORBLIND[7], alpha=0.6, label="G vs random kernels")
for (key, v), colour in zip(rho.items(), (0, 2, 7), strict=True):
    if v:
        ax2.axvline(np.mean(v), color=plots.COLORBLIND[colour], lw=2, ls="-" if key == "trained" else ":", label=f"G vs {key} D")
ax2.set(xlabel=f"spatial similarity ρ, mean over {S} seeds", ylabel="count")
ax2.legend(fontsize=8)
plt.show()

# %%
report.measure("C3b", c3b)
for key in ("trained", "init", "shuffled"):
    runtime.glue(f"a05_c3b_{key}", mean_of[key])
runtime.glue("a05_c3b_rho", float(np.mean(rho["trained"])))
runtime.glue("a05_c3b_rho_null_q99", q99)
runtime.glue("a05_rho_init", float(np.mean(rho["init"])))
runtime.glue(
    "a05_rho_cross",
    float(np.mean(rho["cross-seed"])) if S > 1 else float("nan"),
)
runtime.glue("a05_pr_D", pr_D)
runtime.glue("a05_pr_random", pr_random)
print(
    f"participation ratio of D's kernels {pr_D:.1f}, "
    f"of random kernels {pr_random:.1f} (of {W_D.shape[-1] ** 2})"
)

# %% [markdown]
# On our own GANs the paper's statistic is {glue:text}`a05_c3b_trained:.3f` for trained $G$
# against trained $D$, *below* its controls: {glue:text}`a05_c3b_init:.3f` against the untrained
# $D$ and {glue:text}`a05_c3b_shuffled:.3f` against shuffled kernels. Training concentrates
# $D$'s kernels on a few spatial patterns (participation ratio {glue:text}`a05_pr_D:.1f` of 25
# dimensions, {glue:text}`a05_pr_random:.1f` for random kernels), and the best of fewer
# distinct candidates is a worse match. The channel-free measure does find something: $\rho$ is
# {glue:text}`a05_c3b_rho:.2f` for the trained pairs, above the 99th percentile of chance
# ({glue:text}`a05_c3b_rho_null_q99:.2f`), while the untrained $D$ gives
# {glue:text}`a05_rho_init:.2f`. But a $G$ compared with the $D$s of the *other* seeds scores
# as high ({glue:text}`a05_rho_cross:.2f`, the mean over them): the two networks share a mild
# preference for the same spatial patterns, which comes from training on digits, not from the
# two being adversaries. That cross-seed comparison is part of C3b's rule, a negative control
# of the $\rho$ check declared with it: it must fail the rule and it passes, so C3b is
# **inconclusive**: the one check that passes cannot tell adversaries from unrelated networks
# trained on the same digits. (In an earlier version the cross-seed value was shown beside the
# rule but not judged, and C3b read "partly"; the control now averages over all other seeds
# instead of pairing each seed with the next one.)
#
# The first kernels of each network (in the style of the authors' visualisation; the shared
# GAN's kernels are $D$'s by construction):

# %% tags=["hide-input"]
fig, axes = plt.subplots(3, 8, figsize=(7, 2.8))
rows = [("baseline G", W_G[0]), ("baseline D", W_D[0]), ("shared G = D", W_D[S])]
for r, (name, W) in enumerate(rows):
    for j in range(8):
        kernel = W[j, 0].numpy()
        axes[r, j].imshow(kernel, **plots.signed_limits(kernel))
        axes[r, j].set_xticks([])
        axes[r, j].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle(f"kernels w[o, 0] of the shared layer, o = 0..7, seed {ctx.seeds[0]}")
plt.show()

# %% [markdown]
# ## Checks that do not depend on the profile

# %% tags=["nbval-check-output"]
check_gen = torch.Generator().manual_seed(0)
Wa, Wb = (
    torch.randn(6, 5, 5, 5, generator=check_gen),
    torch.randn(6, 5, 5, 5, generator=check_gen),
)
perm_out, perm_in = (
    torch.randperm(6, generator=check_gen),
    torch.randperm(5, generator=check_gen),
)
print(
    "statistic of a kernel set against itself is 1 everywhere:",
    bool(torch.allclose(best_match_cosine(Wa, Wa), torch.ones(30))),
)
print(
    "statistic ignores kernel scale:",
    bool(torch.allclose(
        best_match_cosine(Wa, 3 * Wb), best_match_cosine(Wa, Wb)
    )),
)  # fmt: skip
print(
    "rho unchanged by permuting D's channels:",
    abs(
        spatial_similarity(Wa, Wb)
        - spatial_similarity(Wa, Wb[perm_out][:, perm_in])
    ) < 1e-12,
)  # fmt: skip
print(
    "rho of a set with itself is 1:",
    abs(spatial_similarity(Wa, Wa) - 1) < 1e-12,
)
x_chk, w_chk, b_chk = (
    torch.randn(2, 3 * 4, 6, 6, generator=check_gen),
    torch.randn(3, 1, 4, 5, 5, generator=check_gen),
    torch.zeros(3, 1),
)
print(
    "depthwise-and-sum conv == grouped conv:",
    bool(torch.allclose(
        conv_to_one(x_chk, w_chk, b_chk), conv(x_chk, w_chk, b_chk),
        atol=1e-5,
    )),
)  # fmt: skip
print(
    "paper's histogram holds", int(PAPER_COUNTS.sum()), "kernels (64 x 64)"
)
print(
    "shared layer: same kernel shape in G and D:",
    G.W[1].shape == D.W[1].shape,
)
print(
    "shared GANs: G's shared kernels equal D's after every update:",
    max_diff == 0.0 and checks == P["steps"],
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
# threads (same seeds, 0–2) and with two other seed sets, {3, 4, 5} and {6, 7, 8}
# (`python -m rnnbook.runner variation a05 --seeds 3,4,5 --seeds 6,7,8`). The table gives, per
# check, the change between the two thread paths, the largest change between seed sets, and the
# verdicts seen. Each `tol` is at least three times the thread-path change and at least the
# seed-set change, rounded up to a 1-2-5 step (C2b's difference is float rounding and gets
# 10⁻⁶); the cell fails if a `tol` is below the thread-path change. Every claim has the same
# verdict in every run: C1 reproduced, C2 and C3a not reproduced, C3b and C4a inconclusive, C2b
# and C4b verified. C4a's own evidence is still a knife edge: the smallest class share of a
# shared GAN lies below the notes' 4 % with the default seeds and with {6, 7, 8}, above it with
# two threads and with {3, 4, 5}. That no longer decides the verdict, because both frozen arms
# pass C4a's rel_gap rule in every run, far inside its threshold, and make C4a inconclusive
# whatever the coverage does. C2 fails in every run (trained $D$ is *less* similar to $G$ than
# random kernels are) while its control fails too; C3b's cross-seed control passes in every
# run. Between one and two threads the trained GANs differ about as much as between seed sets
# (training amplifies the last bits of a different summation order), so their tolerances are
# set by three times the thread-path change; the random-kernel statistics agree to 10⁻⁷.

# %%
report.tolerances("../../data/a05_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Data and judge.** scikit-learn's 1,797 $8\times8$ digits instead of MNIST (no download
#   here); `full` upsamples them to $28\times28$. A linear softmax classifier instead of the
#   paper's MNIST CNN: its entropies are on a different scale (data 0.006 and noise 2.115 in the
#   paper), so we compare within the chapter only, and we add class coverage.
# - **Scale (`ci`, a miniature).** $h = 16$ channels instead of 64, one generator layer after
#   the shared one instead of four, two discriminator layers instead of four, batch 16, 700
#   generator steps with one critic step each, learning rate $10^{-3}$ and clipping at 0.1
#   (paper: batch 64, 50,000 steps, five critic steps, $5\cdot10^{-5}$, 0.01). The `full`
#   profile uses the paper's architecture and optimiser settings but 3,000 instead of 50,000
#   generator steps, sized for eight minutes on one GPU when it trained two arms; it has not
#   been run yet (no GPU was available to us), and with four arms it may need fewer steps.
#   The `ci` run went from 800 to 700 steps when the two frozen arms were added, to stay
#   within its one-minute budget.
# - **Reconstructed.** The paper's text was unavailable. Architecture, loss, clipping, RMSProp,
#   the copy rule and the authors' numbers (entropies, the similarity histogram) come from the
#   authors' repository and the outputs stored in its notebook; the pass rules, the nulls of
#   C3, the spatial measure $\rho$, the coverage check and the pooling of samples from four late
#   checkpoints (the authors sampled the final model) are ours. We share kernel *and* bias
#   (the repository's weight-study variant shares only the kernel); PyTorch pads "same"
#   convolutions symmetrically where TensorFlow pads stride-2 ones asymmetrically.
# - **Rules restored, rewritten and controls added.** Class coverage is judged at the research
#   notes' 4 % per class (an earlier version used 2 % without saying so). Every empirical claim
#   carries a negative control judged by its own rule. C2's rule, once "mean and range as in
#   the paper's histogram", a rule that random kernels meet, now asks for an excess over random
#   kernels of the same shape, which makes it testable at our miniature's shape (it was "not
#   testable", then "inconclusive"). C4a gained two arms, $G$'s layer frozen at random kernels
#   and at $D$'s initial kernels, declared as controls before they were run. C3b's cross-seed
#   control compares each $G$ with the $D$s of all other seeds instead of one.
# - **What does not reproduce.** The statistic itself is the authors' (C2b), but the paper's
#   histogram matches random kernels of the same shape on average (C3a; it is wider, with
#   excess in both tails), and on our trained GANs the statistic falls *below* chance (C2: not
#   reproduced) and below its controls (C3b). The channel-free $\rho$ finds a weak common
#   spatial preference, as strong between a $G$ and the $D$s of other seeds as within a pair:
#   no evidence that the two networks learn similar weights *because* they are adversaries.
#   The shared architecture does train (C4a): its samples are as confident as the baseline's
#   and a trained $G$ depends on the kernels in that layer (the random-kernel swap ruins it).
#   But a $G$ whose layer is frozen at kernels no one trained does as well, so the shared GAN's
#   success is no evidence that $D$'s kernels suit $G$: C4a is inconclusive in every seed set,
#   whatever its coverage knife edge does. $G$ can *work with* $D$'s kernels, as it can work
#   with random ones.
# - **A rule corrected during development.** The first version of the $\rho$ check compared
#   the mean over seeds with the 99th percentile of *single-seed* chance values, two different
#   quantities, and its verdict depended on the seed set. The null is now the same mean over
#   seeds with random kernels in place of $D$; no threshold was changed.
#
# ## Versus the authors' code
#
# The authors' repository `arjunkaruvally/Shared-WGAN` {footcite}`karuvally2018sharedwgan`
# (TensorFlow 1, Python 2; last commit March 2018) holds two
# versions of the model: `models.py`, which `driver.py` runs, and
# `experimental_models/shared_wgan.py`, the variant whose $64\times64\times5\times5$ kernels
# the weight notebook (`Weights_Analyser.ipynb`) analyses. We read both and ran neither (no
# TensorFlow 1 here); the statistic we ported and ran (C2b).
#
# | What | Authors' code | This chapter | Same? | What follows |
# |---|---|---|---|---|
# | Similarity $s_{oi}$ | `get_similarity`: every $5\times5$ slice of $G$'s kernel, TensorFlow layout $(k, k, \text{in}, \text{out})$, best cosine over all slices of $D$'s | `best_match_cosine` | same | a port of their function gives our values to {glue:text}`a05_port_diff:.0e` (C2b): their histogram and ours are one statistic |
# | Shared layer | weight-study variant: second convolution, $h\to h$, stride 1 in $G$ and 2 in $D$; `models.py` shares the *first* one, $1\to h$ | second, $h\to h$ | as the weight study | the notebook's kernel shape confirms which variant it analysed |
# | What is copied | weight-study variant: the kernel only, and $G$'s optimiser still trains that layer's bias; `models.py`: kernel and bias | kernel and bias | differs | none: batch norm follows the layer in $G$ and removes any per-channel constant |
# | Loss | $\tanh$ of the score into sigmoid cross-entropy, labels $\pm1$ | the same | same | – |
# | Clipping | every variable of $D$, batch-norm scale and offset included, to $\pm0.01$ before each $D$ step | the same rule; $\pm0.1$ in `ci` | value differs in `ci` | `ci` learns faster; `full` uses 0.01 |
# | Optimiser | TensorFlow 1 RMSProp: decay 0.9, $\epsilon = 10^{-10}$, mean-square accumulator starts at **1** | PyTorch RMSprop: $\alpha = 0.9$, $\epsilon = 10^{-8}$, accumulator starts at 0 | differs | their first hundred or so updates are damped (a gradient $g \ll 1$ moves a weight by about $\eta g$ instead of $\eta\,\mathrm{sign}(g)$ while $0.9^n$ dominates the accumulator); ours move at full speed from the first step |
# | Critic schedule | weight-study variant: 100 $D$ steps per $G$ step for the first 25 $G$ steps and every 500th, else 5; `models.py`: always 5 | constant: 5 (`full`), 1 (`ci`) | differs | no critic warm-up here |
# | Codes of $G$'s step | weight-study variant: a new batch every `generator_train`-th $G$ step, default 1 | a new batch every step | same at the default | – |
# | Initialisation | convolutions: normal truncated at 2 std, std 0.02; linear layers: normal, std 0.02; biases 0 | truncated normal everywhere | differs slightly | none expected: cosines ignore scale, and the draws are random either way |
# | Padding | "SAME": a stride-2 layer pads one pixel more at the bottom and right | symmetric | differs | $D$'s maps are shifted by a pixel; sizes agree |
# | Sample quality | MNIST CNN (two convolutions, dense layer, dropout); entropy per sample; 10 batches of 64 samples from the final model | softmax regression on digits; 4,000 samples pooled over four late checkpoints; class coverage added | differs | entropies on another scale: compare within the chapter only |
# | Batch norm when sampling | training mode | training mode | same | – |
# | Runs | one run per architecture, fixed graph seeds | three seeds, four arms each | differs | the paper's 0.208 against 0.209 is one pair of runs, without a spread |
# | The baseline's weights | the weight-study variant always shares (no switch); `visualizer.py` restores a separate "baseline" checkpoint whose training script is not in the repository | the same code with sharing off | unknown | – |
#
# ## References
#
# ```{footbibliography}
# ```
