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
#   best-match cosine similarity of $G$'s kernels to $D$'s has the paper's histogram (authors'
#   notebook: 4,096 kernels, range 0.455–0.855, mean 0.647).
# - **C3** Is that similarity more than chance? (a) the paper's own histogram against random
#   kernels of the same shape; (b) our trained pairs against a freshly initialised $D$,
#   shuffled kernels, and a channel-order-free measure. *Our question, not the paper's claim.*
# - **C4** "both the networks may have a similar structure with experimental evidence with a
#   novel shared architecture": (a) the shared GAN trains as well as the baseline (paper:
#   entropy 0.209 vs 0.208); (b) its shared kernels really are identical after every update.
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
            batch=16, steps=800, n_critic=1, lr=1e-3, clip=0.1,
            n_eval=4000, null_reps=10, rho_null=200),
    full=dict(img=28, h=64, k=5, z_dim=100, g_extra=3,
              d_widths=[64, 64, 32, 16], batch=64, steps=3000,
              n_critic=5, lr=5e-5, clip=0.01, n_eval=4000, null_reps=10,
              rho_null=200),
)  # fmt: skip
# seeds; every seed trains one baseline and one shared GAN
S = len(ctx.seeds)
# models trained side by side: baselines 0..S-1, shared GANs S..2S-1
M = 2 * S
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
# half-width of the paper's histogram. C4b is an implementation guard (a construction); every
# other claim is empirical and has a negative control, the same statistic where it must fail:
# shuffled pixels (C1), random kernels (C2, C3a), an untrained or unrelated discriminator (C3b),
# and a shared layer swapped for random kernels (C4a). `tol` says how far a re-run on another
# CPU or thread count may move each number (derived at the end of the chapter).

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
    "C2", "The generator and discriminator learn similar weights: best-match cosine of each G "
    "kernel over D's kernels (paper's histogram).", kind="empirical",
    paper="4,096 kernels (5×5, 64→64): range 0.455–0.855, mean 0.647",
    checks=[
        E("mean_dev", "<=", 0.05, "|mean − 0.647|, trained G vs D, paper's kernel shape", tol=0),
        E("frac_in_range", ">=", 0.9, "share of values in [0.455, 0.855], the same kernels", tol=0),
        K("mean_dev_random", "mean_dev", "Gaussian kernels of the paper's shape", tol=0.0005),
        K("frac_in_range_random", "frac_in_range", "the same random kernels", tol=5e-05),
        X("mean_here", "mean at this profile's kernel shape", tol=0.002),
        X("frac_in_range_here", "share in range at this profile's kernel shape", tol=0.05),
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
        E("gap_init", ">=", 0.05, "s(G, trained D) − s(G, initial D)", tol=0.01),
        E("gap_shuffled", ">=", 0.05, "s(G, trained D) − s(G, D's kernels shuffled)", tol=0.01),
        E("rho_excess", ">", 0, "ρ(G, trained D) − 99th pct of ρ, random D", tol=0.1),
        K("rho_excess_init", "rho_excess", "the same with D at initialisation", tol=0.1),
        K("rho_excess_cross", "rho_excess", "the same, trained D of another seed", tol=0.1),
        X("s_trained", "mean best-match cosine s(G, trained D)", tol=0.002),
        X("rho_null_q99", "99th percentile of the seed-mean ρ with random D", tol=0.02),
    ])
report.claim(
    "C4a", "The shared architecture (one layer of G uses D's kernels) trains as well as the "
    "baseline.", kind="empirical", paper="entropy 0.209 (shared) vs 0.208 (baseline)",
    checks=[
        E("rel_gap", "<=", 0.25, "(H_shared − H_base) / (H_untrained − H_base)", tol=0.2),
        E("margin", ">=", 0.1, "min(H_noise, H_untrained) − H_shared, nats (per seed)", tol=0.05),
        E("min_share", ">=", 0.04, "smallest share of a digit class", over="min", tol=0.02),
        K("rel_gap_swapped", "rel_gap", "shared G, shared layer swapped for random", tol=0.1),
        X("H_shared", "mean entropy of the shared GANs' samples (nats)", tol=0.05),
        X("H_base", "the same for the baselines", tol=0.2),
    ])
report.claim(
    "C4b", "In the shared architecture the shared weights are identical in G and D after every "
    "update.", kind="construction", paper="copy after each round of D updates; G's optimiser "
    "excludes the layer",
    checks=[
        E("max_abs_diff", "==", 0.0, "max |W_G − W_D|, shared layer, every G update", tol=0),
        E("unchecked_steps", "==", 0, "generator steps after which that was not checked", tol=0),
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
# All $2S$ GANs (a baseline and a shared one per seed) are trained at once: their channels are
# stacked and every convolution is *grouped*, one group per model, so the models never mix.

# %%
def conv(x, w, b, stride=1):
    """M independent convolutions in one call: x (B, M*C, H, W),
    w (M, O, C, k, k), b (M, O)."""
    return F.conv2d(
        x, w.flatten(0, 1), b.flatten(), stride=stride,
        padding=w.shape[-1] // 2, groups=w.shape[0],
    )  # fmt: skip


def conv_to_one(x, w, b):
    """The same for O = 1, through a block-diagonal weight (CPUs are
    slow on one-channel groups)."""
    m, _, c, k, _ = w.shape
    eye = torch.eye(m, device=w.device)[:, :, None, None, None]
    w_block = (eye * w[:, 0][None]).reshape(m, m * c, k, k)
    return F.conv2d(x, w_block, b.flatten(), padding=k // 2)


def stacked(shape, gens, std=0.02):
    """One draw per seed from N(0, std²) truncated at 2 std (the authors'
    conv initialiser), repeated for the seed's baseline and shared model,
    so that both start from the same weights."""
    draws = [
        nn.init.trunc_normal_(
            torch.empty(shape), 0, std, -2 * std, 2 * std, generator=g
        )
        for g in gens
    ]
    return nn.Parameter(torch.stack(draws + draws).to(dev))


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
# $10^{-3}$ and 1, with batches of 16, on 800 generator steps (`full`: the paper's values, 3,000 steps).
#
# **Sharing.** After each round of $D$ updates, the shared GAN copies $D$'s shared kernel and
# bias into $G$'s shared layer, and $G$'s optimiser never moves that layer:
#
# $$
# W^{G}_{\text{shared}} \leftarrow W^{D}_{\text{shared}}, \qquad \nabla_{W^{G}_{\text{shared}}} L_G := 0 .
# $$
#
# The copy happens before $G$'s forward pass: an in-place copy after it would change a tensor
# that autograd saved. Each seed's baseline and shared GAN start from the same weights and
# see the same real images and latent codes, so they differ only by the sharing.

# %%
gens = [torch.Generator().manual_seed(seed) for seed in ctx.seeds]
G, D = Generator(gens), Discriminator(gens)
assert G.W[1].shape == D.W[1].shape, (
    "the shared layer must have the same kernel shape in G and D"
)
is_shared = (torch.arange(M) >= S).to(dev)
# broadcasts over a layer's (out, in, k, k)
shared_5d = is_shared.view(M, 1, 1, 1, 1)
opt_d = torch.optim.RMSprop(D.parameters(), lr=P["lr"], alpha=0.9)
opt_g = torch.optim.RMSprop(G.parameters(), lr=P["lr"], alpha=0.9)
# the freshly initialised D, a control for C3
D_init = D.W[1].detach().cpu().clone()
n_train = len(X_train)
X_train_dev = X_train.to(dev)


def latent(B, streams=gens):
    """Per seed, B codes from U(-1, 1), the same for the seed's baseline
    and shared model."""
    z = torch.stack(
        [torch.rand(B, P["z_dim"], generator=g) * 2 - 1 for g in streams]
    )
    return torch.cat([z, z]).transpose(0, 1).to(dev)  # (B, M, z_dim)


def real_images(B):
    idx = torch.stack(
        [torch.randint(n_train, (B,), generator=g) for g in gens]
    )
    idx = torch.cat([idx, idx]).to(dev)
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
    # G's optimiser never moves a shared layer
    G.W[1].grad.masked_fill_(shared_5d, 0.0)
    G.b[1].grad.masked_fill_(is_shared[:, None], 0.0)
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


untrained = sample(P["n_eval"])
H_untrained, _ = scores(untrained)
print(
    "untrained generators, mean entropy per model:",
    np.round(H_untrained, 3),
)

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
base_gap = (G.W[1] - D.W[1])[~is_shared].abs().max().item()
print(
    f"{P['steps']} generator steps; shared layer: "
    f"max |W_G - W_D| = {max_diff} (shared GANs), "
    f"{base_gap:.3f} (baselines)"
)

# %% [markdown]
# ## C1 · Does the GAN learn the digits?

# %%
# (n_eval, M, s, s): four checkpoints, the last one at the end
trained = torch.cat(late)
H_trained, shares = scores(trained)
base, shrd = slice(0, S), slice(S, M)
H_u = float(H_untrained.mean())
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
          ("untrained G", untrained[:25, 0]), ("baseline G", late[-1][:25, 0]), ("shared G", late[-1][:25, S])]  # fmt: skip
fig, axes = plt.subplots(1, 5, figsize=(9, 2.2))
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
for m in range(M):
    ax2.plot(range(10), shares[m].numpy(), "o-" if m < S else "s:", color=plots.COLORBLIND[0 if m < S else 1], alpha=0.7,
             label=("baseline" if m == 0 else "shared" if m == S else None))  # fmt: skip
ax2.axhline(0.02, color="grey", lw=1)
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
# improvement over the untrained generator, plus C1's other checks. The control asks whether
# the shared layer matters at all: the final shared generators, their shared layer swapped for
# Gaussian kernels with the same norm per kernel (no retraining), must fall short of the rule.
# After every generator update the shared kernels of $G$ and $D$ were compared bit for bit
# (printed above: 0 is identical), while each baseline's two layers drift apart freely.


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
    out = sample(P["n_eval"])
    G.W[1].copy_(keep)
    return out


H_swapped, _ = scores(
    swapped_samples(torch.Generator().manual_seed(ctx.seeds[0]))
)
H_b = H_trained[base]
report.measure(
    "C4a",
    rel_gap=(H_trained[shrd] - H_b) / (H_u - H_b),
    margin=H_ref - H_trained[shrd],
    min_share=shares[shrd].min(1).values,
    rel_gap_swapped=(H_swapped[shrd] - H_b) / (H_u - H_b),
    H_shared=H_shared, H_base=H_base,
)  # fmt: skip
report.measure(
    "C4b", max_abs_diff=max_diff, unchecked_steps=P["steps"] - checks
)
runtime.glue("a05_H_swapped", float(H_swapped[shrd].mean()))
print(
    "shared GANs with the shared layer swapped for random kernels, "
    "entropy per seed:",
    np.round(H_swapped[shrd], 3),
)
print(
    "smallest class share per seed, shared GANs:",
    np.round(shares[shrd].min(1).values.numpy(), 4),
)

# %% [markdown]
# The shared GANs meet the rule, and the control fails it: with random kernels in place of
# $D$'s, the same generators' entropy rises to {glue:text}`a05_H_swapped:.3f` nats, so $G$ does
# rely on the kernels it borrows. The coverage check is a knife edge, though: with the notes'
# 4 % per class restored, the smallest class share of one shared GAN lies within a fraction of
# a percent of the threshold, closer than the spread between seeds (marked fragile in the table
# below), and other seed sets can fall on either side (see how the tolerances were obtained).

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
# histogram (4,096 values, 20 bins) from their notebook.

# %%
def best_match_cosine(W_g, W_d):
    """For every k x k kernel of W_g (out, in, k, k): its largest cosine
    with any kernel of W_d."""
    a = F.normalize(W_g.reshape(-1, W_g.shape[-1] ** 2), dim=1)
    b = F.normalize(W_d.reshape(-1, W_d.shape[-1] ** 2), dim=1)
    return (a @ b.T).max(dim=1).values


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
frac_in = (
    ((stat_trained >= PAPER_EDGES[0]) & (stat_trained <= PAPER_EDGES[-1]))
    .float().mean().item()
)  # fmt: skip
paper_shape = tuple(W_G.shape[1:]) == PAPER_SHAPE
runtime.glue("a05_stat_trained", stat_trained.mean().item())
runtime.glue("a05_paper_mean", paper_mean)

# %% [markdown]
# Our trained baselines give a mean best-match cosine of {glue:text}`a05_stat_trained:.3f`
# (paper {glue:text}`a05_paper_mean:.3f`). At `ci` size this comparison is not meaningful: how
# large a maximum over $h^2$ cosines of 25-dimensional vectors is depends on $h$, so C2's
# evidence is measured only at the paper's shape (the `full` profile). Its control, random
# kernels of the paper's shape, can be measured here, in the next section: they pass C2's rule
# (mean within 0.05 of the paper's, {glue:text}`a05_null_in_range:.3f` of the values in its
# range). The rule cannot tell trained kernels from random ones, so whatever trained kernels
# give at the paper's shape, C2 is **inconclusive**, in `ci` and in `full` alike.
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
report.measure(
    "C2",
    mean_dev=(
        abs(stat_trained.mean().item() - paper_mean)
        if paper_shape else None
    ),
    frac_in_range=frac_in if paper_shape else None,
    mean_dev_random=abs(null.mean().item() - paper_mean),
    frac_in_range_random=in_range(null),
    mean_here=stat_trained.mean().item(),
    frac_in_range_here=frac_in,
    note="" if paper_shape else (
        f"trained kernels {tuple(W_G.shape[1:])}, "
        f"not the paper's {PAPER_SHAPE}: "
        "the evidence is measured only at the paper's shape "
        "(full profile); the control is measured here"
    ),
)  # fmt: skip
if not paper_shape and report.verdict("C2") != claims.INCONCLUSIVE:
    report.untestable(
        "C2",
        f"trained kernels {tuple(W_G.shape[1:])}, "
        f"not the paper's {PAPER_SHAPE}",
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
    others = {"trained": W_D[m], "init": D_init[m],
              "shuffled": shuffled(W_D[m], ctl_gen),
              "random": torch.randn(W_D[m].shape, generator=ctl_gen),
              "cross-seed": W_D[(m + 1) % S]}  # fmt: skip
    for key, W in others.items():
        if key != "cross-seed" or S > 1:
            ctl[key].append(best_match_cosine(W_G[m], W))
    for key in rho:
        if key != "cross-seed" or S > 1:
            rho[key].append(spatial_similarity(W_G[m], others[key]))
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
# {glue:text}`a05_rho_init:.2f`. But a $G$ compared with the $D$ of *another* seed scores as
# high ({glue:text}`a05_rho_cross:.2f`): the two networks share a mild preference for the same
# spatial patterns, which comes from training on digits, not from the two being adversaries.
# That cross-seed pair is a negative control of the $\rho$ check: it must fail the rule and it
# passes, so C3b is **inconclusive**: the one check that passes cannot tell adversaries from
# unrelated networks trained on the same digits. (In an earlier version the cross-seed value was
# shown beside the rule but not judged, and C3b read "partly".)
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
    "block-diagonal conv == grouped conv:",
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
# seed-set change, rounded up to a 1-2-5 step; the cell fails if a `tol` is below the
# thread-path change. All verdicts but C4a's are the same in every run. C4a is a knife edge:
# "reproduced" with the default seeds, where the smallest class share of a shared GAN clears the
# notes' 4 % by a fraction of a percent, and "not reproduced" with {3, 4, 5} and {6, 7, 8},
# where it falls below. C2 is inconclusive in every run because its control, random kernels,
# passes in every run; C3b is inconclusive in every run because its cross-seed control passes in
# every run. Between one and two threads the trained GANs differ as much as between seed sets
# (training amplifies the last bits of a different summation order), so their tolerances are set
# by three times the thread-path change; the random-kernel statistics agree to 1e-7.

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
#   the shared one instead of four, two discriminator layers instead of four, batch 16, 800
#   generator steps with one critic step each, learning rate $10^{-3}$ and clipping at 0.1
#   (paper: batch 64, 50,000 steps, five critic steps, $5\cdot10^{-5}$, 0.01). The `full`
#   profile uses the paper's architecture and optimiser settings but 3,000 instead of 50,000
#   generator steps to fit eight minutes on one GPU; it has not been run yet (no GPU was
#   available to us), only constructed and stepped on a CPU.
# - **Reconstructed.** The paper's text was unavailable. Architecture, loss, clipping, RMSProp,
#   the copy rule and the authors' numbers (entropies, the similarity histogram) come from the
#   authors' repository and the outputs stored in its notebook; the pass rules, the nulls of
#   C3, the spatial measure $\rho$, the coverage check and the pooling of samples from four late
#   checkpoints (the authors sampled the final model) are ours. We share kernel *and* bias
#   (the repository's weight-study variant shares only the kernel); PyTorch pads "same"
#   convolutions symmetrically where TensorFlow pads stride-2 ones asymmetrically.
# - **Rules restored and controls added.** Class coverage is judged at the research notes' 4 %
#   per class (an earlier version used 2 % without saying so). Every empirical claim now carries
#   a negative control judged by its own rule; C3b's cross-seed comparison, once shown beside
#   the rule, is now one of them, and C2's random-kernel null is judged against C2's rule.
# - **What does not reproduce.** The statistic itself is reproducible, but the paper's
#   histogram matches random kernels of the same shape on average (C3a; it is wider, with
#   excess in both tails), and on our trained GANs the statistic falls *below* its controls
#   (C3b). The channel-free $\rho$ finds a weak common spatial preference, as strong between a
#   $G$ and the $D$ of another seed as within a pair: no evidence that the two networks learn
#   similar weights *because* they are adversaries. The shared architecture does train (C4a):
#   its samples are as confident as the baseline's and $G$ depends on the borrowed kernels (the
#   random-kernel swap ruins it), but with the notes' 4 % coverage rule the verdict rests on a
#   knife edge: the default seeds pass by a fraction of a percent, while the seed sets {3, 4, 5}
#   and {6, 7, 8} each have a shared GAN that gives one digit class less than 4 % of its
#   samples, so they read "not reproduced" (verdicts per seed set in the tolerances table). $G$ can *work with* $D$'s kernels, which does not mean it
#   would have learned them.
# - **A rule corrected during development.** The first version of the $\rho$ check compared
#   the mean over seeds with the 99th percentile of *single-seed* chance values, two different
#   quantities, and its verdict depended on the seed set. The null is now the same mean over
#   seeds with random kernels in place of $D$; no threshold was changed.
#
# ## References
#
# ```{footbibliography}
# ```
