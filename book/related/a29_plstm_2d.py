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
# # A29 · pLSTM: linear recurrences on a 2-D grid, and arrow-pointing extrapolation
#
# Linear RNNs (xLSTM's mLSTM, Mamba, gated linear attention) run along a sequence. An image is
# not a sequence, and the usual fix is to read it in one or several fixed orders. Pöppel,
# Freinschlag, Schmied, Lin and Hochreiter {footcite}`poppel2025plstm` instead put a *linear*
# recurrence on the grid itself, in the spirit of multi-dimensional RNNs
# {footcite}`graves2007mdrnn`: every pixel receives a state from its left and from its upper
# neighbour and sends one to the right and one down. The gates are named for what they do on
# the edges of the grid's line graph: a **Source** writes a pixel's key-value outer product
# onto its outgoing edges, a **Transition** carries an incoming edge's state to an outgoing
# edge, a **Mark** reads the incoming states out with the query (pLSTM). Because the recurrence
# is linear it can be parallelised like an associative scan, in logarithmic depth.
#
# A linear recurrence on a grid has a problem that a sequence does not: the number of paths
# from one pixel to another grows binomially with the distance, so unit transitions make the
# states explode. The paper proposes two stable parametrisations: **P-mode** (directed
# propagation: an orientation gate splits each pixel's outgoing weight between right and down)
# and **D-mode** (diffusive distribution: one cross term only, so that exactly one path joins
# two pixels). To show that this carries information over long distances, the paper introduces
# **arrow-pointing extrapolation**: is the arrow pointing at the circle? Models are trained on
# small images and tested on larger ones; pLSTM generalises, a Vision Transformer
# {footcite}`dosovitskiy2021vit` does not.
#
# We check the stability claims as exact numerics on a 64×64 grid, check the book's new 2-D
# scan (`rnnbook.scan2d`, written for this chapter) against a plain loop, and run a
# **miniature** of the arrow-pointing task (our own generator, 16×16 training images, 32×32
# test images, **axis-aligned arrows**: a simplification, see below) with a two-layer pLSTM
# and a ViT of the same parameter count.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) a naive 2-D linear recurrence with unit transitions explodes with
#   the distance (binomially); P-mode and D-mode stay bounded by the source on a 64×64 grid;
#   P-mode with $o = 1$, $T = 1$ transports a source undamped along a row.
# - **C2** (construction) the library's wavefront 2-D scan and its dense parallel form equal
#   a plain per-cell loop, values and gradients.
# - **C3** pLSTM trained on small images extrapolates to images twice the size, where a
#   ViT-style model of the same parameter budget does not (arrow pointing, miniature).
# - **C4** pLSTM is strong on molecular-graph and ImageNet-1k benchmarks (not testable here).
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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from rnnbook import claims, plots, runtime
from rnnbook import scan2d as s2
from rnnbook import transformer as tf

ctx = runtime.setup(
    "a29", default_seeds={"ci": [0, 1], "full": [0, 1, 2]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(n_train=4000, n_test=500, steps=150, batch=32, lr=3e-3,
            eval_batch=250),
    full=dict(n_train=20000, n_test=2000, steps=1500, batch=64,
              lr=1e-3, eval_batch=500),
)  # fmt: skip
# Constants (not sizes): the task and the two models.
SIDE_ID, SIDE_OOD = 16, 32  # training / test image side (pixels)
PATCH = 2  # both models see a (SIDE / 2)^2 grid of patches
R_DISC = 1.5  # disc radius (pixels), the same at both sizes
MIN_OFF = math.radians(25)  # negatives: disc at least 25 deg off the ray
D_MODEL, HEADS, DK, DV = 16, 2, 2, 4  # pLSTM width, heads, key/value
MODES = "PD"  # layer 1 P-mode, layer 2 D-mode (authors' "PD" blocks)
VIT_D, VIT_HEADS, VIT_LAYERS = 16, 2, 2
GRID = 64  # C1: grid side
ID_MIN, OOD_MIN, DROP_RATIO = 0.85, 0.75, 0.5  # C3 rule
DATA_SEED = 43  # one fixed data set, as the authors' config fixes one
S = len(ctx.seeds)
F64 = torch.float64

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs.
#
# - **C1** is exact numerics in float64 on a 64×64 grid with one unit source in the corner
#   (written onto both outgoing edges). With unit transitions the state leaving a pixel
#   counts the monotone lattice paths from the corner: we require at least $10^8$ at distance
#   30 (the binomial $\binom{30}{15} \approx 1.6\cdot10^8$) and agreement with the binomial
#   closed form everywhere. P-mode with random $o \in (0,1)$, $T \in (0,1)$ and D-mode with
#   random $|T| < 1$ must keep every state at most the source (1). P-mode with $o = 1$,
#   $T = 1$ must deliver the source to the far end of the first row with ratio at least 0.99
#   (the research notes' rule; it is 1 exactly).
# - **C2** compares `rnnbook.scan2d.scan2d` (wavefront) and `scan2d_dense` (one triangular
#   solve) with the per-cell loop on random inputs in float64: values and gradients within
#   $10^{-12}$.
# - **C3.** The paper's claim is qualitative ("pLSTMs generalize well to larger image sizes,
#   whereas Transformers struggle to extrapolate"). We take the rule suggested in the research
#   notes, fixed before the first run of this chapter: the pLSTM reaches at least 0.85
#   accuracy at the training size (ID) and at least 0.75 at twice the size (OOD), and its
#   ID→OOD drop is at most half the ViT's drop, written as
#   $\mathrm{drop}_\mathrm{pLSTM} - \tfrac12\,\mathrm{drop}_\mathrm{ViT} \le 0$ (means over
#   seeds). Declared beforehand: **partly** if the pLSTM passes both accuracy thresholds but
#   the comparison with the ViT fails (it extrapolates, but not better than the ViT). The
#   control is the untrained pLSTM (the same initial weights, no training): it must fail the
#   ID and OOD thresholds, or the task is too easy to tell anything. Both models have the same
#   parameter count within 10 % (reported; the chapter stops if not) and see the same images,
#   batches, steps and optimiser.
# - **C4** is not testable here (no molecular or ImageNet data offline, no GPU-scale training).

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="pLSTM on 2-D grids")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "A naive 2-D linear recurrence explodes with distance; P-mode and D-mode "
    "stay bounded; P-mode with o = 1, T = 1 transports a source undamped along a "
    "row.", kind="construction",
    paper="path counts grow combinatorially; P-mode and D-mode avoid exploding "
    "activations (Sec. 3)",
    checks=[
        ev("naive_d30", ">=", 1e8, "naive: state leaving pixel (15, 15), "
           "distance 30 (= L + U there)", tol=0.0),
        ev("naive_vs_binomial", "<=", 1e-12, "naive: max relative deviation from "
           "the binomial path count", tol=1e-13),
        ev("pmode_max", "<=", 1.0, "P-mode (random o, T): max |state| / source",
           tol=1e-12),
        ev("dmode_max", "<=", 1.0, "D-mode (random |T| < 1): max |state| / "
           "source", tol=1e-12),
        ev("transport", ">=", 0.99, "P-mode o = 1, T = 1: state at (0, 63) / "
           "source", tol=0.0),
    ])
report.claim(
    "C2", "The wavefront 2-D scan and its dense parallel form equal the per-cell "
    "loop (values and gradients).", kind="construction",
    paper="the parallel (log-depth) form equals the recurrence",
    checks=[
        ev("wave_vs_loop", "<=", 1e-12, "max |wavefront − loop|, float64",
           tol=1e-13),
        ev("dense_vs_loop", "<=", 1e-12, "max |dense − loop|, float64",
           tol=1e-13),
        ev("grad_wave", "<=", 1e-12, "max |gradient difference|, wavefront",
           tol=1e-13),
        ev("grad_dense", "<=", 1e-12, "max |gradient difference|, dense",
           tol=1e-13),
    ])
report.claim(
    "C3", "pLSTM trained on small images extrapolates to twice the size, where a "
    "ViT of the same parameter budget does not (arrow pointing, miniature).",
    kind="empirical",
    paper="arrow pointing 192 → 384 px: pLSTM generalises, ViT struggles "
    "(the paper's accuracies not retrieved)",
    partial=["acc_id", "acc_ood"],
    checks=[
        ev("acc_id", ">=", ID_MIN, "pLSTM accuracy at 16×16 (ID)", tol=0.05),
        ev("acc_ood", ">=", OOD_MIN, "pLSTM accuracy at 32×32 (OOD)",
           tol=0.1),
        ev("drop_excess", "<=", 0.0, "drop(pLSTM) − ½ drop(ViT), drop = ID − "
           "OOD", tol=0.1),
        ctl("acc_id_untrained", "acc_id", "untrained pLSTM, ID", tol=0.05),
        ctl("acc_ood_untrained", "acc_ood", "untrained pLSTM, OOD", tol=0.05),
        ctx_("vit_id", "ViT accuracy, ID", tol=0.1),
        ctx_("vit_ood", "ViT accuracy, OOD", tol=0.1),
    ])
report.claim(
    "C4", "pLSTM performs strongly on molecular-graph and ImageNet-1k "
    "benchmarks.", kind="empirical",
    paper="strong results (numbers not retrieved)",
    checks=[ev("acc", ">=", 0.0, "benchmark accuracy")],
    no_control="not testable at this scale")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The 2-D recurrence
#
# Pixel $(i, j)$ (row $i$, column $j$) has two incoming edge states, $L_{ij}$ from the left
# and $U_{ij}$ from above, and two outgoing ones, $R_{ij}$ to the right and $D_{ij}$ down:
#
# $$R_{ij} = T^{rl}_{ij} L_{ij} + T^{ru}_{ij} U_{ij} + S^{r}_{ij}\, k_{ij} v_{ij}^\top,\qquad
# D_{ij} = T^{du}_{ij} U_{ij} + T^{dl}_{ij} L_{ij} + S^{d}_{ij}\, k_{ij} v_{ij}^\top,$$
#
# with $L_{ij} = R_{i,j-1}$ and $U_{ij} = D_{i-1,j}$ (zero on the border). The output reads the
# incoming states with the query, through the marks, plus a direct term:
# $h_{ij} = q_{ij}^\top (M^l_{ij} L_{ij} + M^u_{ij} U_{ij}) + D_{ij}\,(q_{ij}^\top k_{ij})\,
# v_{ij}$. Transitions here are scalars per pixel and head (the paper's $J_T = 1$). Unrolled,
# what pixel $a$ receives from pixel $b$ is the sum over all monotone paths from $b$ to $a$
# of the product of the transitions along the path.
#
# - **Naive**: all four transitions 1. The number of paths is binomial.
# - **P-mode**: an orientation gate $o \in (0, 1)$ and a transition $T$:
#   $T^{rl} = T^{ru} = oT$, $T^{dl} = T^{du} = (1 - o)T$, $S^r = oS$, $S^d = (1 - o)S$. The
#   merged incoming state is split between the two outgoing edges; the weights leaving a
#   pixel sum to $T \le 1$, like a probability flow.
# - **D-mode**: free $T^{rl}$, $T^{du}$ and a single cross term $T^{dl}$ ($T^{ru} = 0$, the
#   "chirality"), each $|T| \le 1$. A path may turn down once and never back, so exactly one
#   path joins two pixels and the product along it is at most 1.
#
# `rnnbook.scan2d` computes the recurrence in three ways: a per-cell loop (the reference); a
# **wavefront** over anti-diagonals (all pixels with $i + j = s$ depend only on diagonal
# $s - 1$, so $H + W - 1$ vectorised steps); and a **dense** form: stacking all $2HW$ edge
# states into $z$, the recurrence is $z = Az + b$ with $A$ strictly lower triangular, so
# $z = (I - A)^{-1} b$ by one triangular solve. The paper's parallel form factorises the same
# $(I - A)^{-1}$ hierarchically in $\log_2$ levels of einsums; we did not port it (see the
# table at the end). Four scan orientations (flips of the grid) cover the four quadrants;
# the model averages them.

# %% [markdown]
# ## C1: explosion and the two stable modes

# %%
def corner(n, dtype=F64):
    src = torch.zeros(n, n, 1, dtype=dtype)
    src[0, 0] = 1.0
    return src


g1 = torch.Generator().manual_seed(ctx.seeds[0])
src1 = corner(GRID)
Ln, Un = s2.scan2d(src1, src1, s2.naive((GRID, GRID)))
# naive: the state entering (i, j) from the left is binom(i + j - 1, i)
ii, jj = torch.meshgrid(torch.arange(GRID), torch.arange(GRID),
                        indexing="ij")
binom = torch.tensor([[math.comb(i + j - 1, i) if j > 0 else 0
                       for j in range(GRID)] for i in range(GRID)],
                     dtype=F64)
naive_rel = ((Ln[..., 0] - binom).abs()
             / binom.clamp_min(1)).max().item()
naive_d30 = (Ln[15, 15, 0] + Un[15, 15, 0]).item()  # R = D = L + U
o_r = torch.rand(GRID, GRID, generator=g1, dtype=F64)
t_r = torch.rand(GRID, GRID, generator=g1, dtype=F64)
Lp, Up = s2.scan2d(*s2.p_sources(o_r, src1), s2.p_mode(o_r, t_r))
td = [torch.rand(GRID, GRID, generator=g1, dtype=F64) * 2 - 1
      for _ in range(3)]
Ld, Ud = s2.scan2d(src1, src1, s2.d_mode(*td))
one = torch.ones(GRID, GRID, dtype=F64)
Lt, _ = s2.scan2d(*s2.p_sources(one, src1), s2.p_mode(one, one))
pmode_max = max(Lp.abs().max(), Up.abs().max()).item()
dmode_max = max(Ld.abs().max(), Ud.abs().max()).item()
transport = Lt[0, GRID - 1, 0].item()
report.measure("C1", naive_d30=naive_d30, naive_vs_binomial=naive_rel,
               pmode_max=pmode_max, dmode_max=dmode_max,
               transport=transport)
print(report.verdicts())
runtime.glue("a29_naive_d30", f"{naive_d30:.3g}")
runtime.glue("a29_naive_max", f"{Ln.max().item():.3g}")
runtime.glue("a29_pmax", f"{pmode_max:.3f}")
runtime.glue("a29_dmax", f"{dmode_max:.3f}")

# %%
dist = (ii + jj).flatten()
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for name, (Lx, Ux), c in (("naive", (Ln, Un), "C3"),
                          ("P-mode", (Lp, Up), "C0"),
                          ("D-mode", (Ld, Ud), "C2")):
    mag = torch.maximum(Lx.abs(), Ux.abs())[..., 0].flatten()
    best = torch.zeros(2 * GRID - 1, dtype=F64).scatter_reduce(
        0, dist, mag, "amax")
    ax.plot(np.arange(1, 2 * GRID - 1), best[1:].numpy(), label=name,
            color=c)
ax.axhline(1.0, color="k", lw=0.8, ls=":")
ax.set(yscale="log", xlabel="distance i + j from the source",
       ylabel="max |state| at that distance",
       title=f"{GRID}×{GRID} grid, unit source in the corner")
ax.legend()
plt.show()

# %% [markdown]
# With unit transitions the state leaving pixel (15, 15), at distance 30 from the source,
# is {glue:text}`a29_naive_d30` (the number of lattice paths, $\binom{30}{15}$, exactly), and the largest state
# on the grid is {glue:text}`a29_naive_max`: a 2-D linear RNN without pLSTM's gating cannot
# carry a signal across an image. P-mode (random orientation gates and transitions) peaks
# at {glue:text}`a29_pmax` and D-mode (random transitions of either sign) at
# {glue:text}`a29_dmax`: both never exceed the source. In P-mode the states *decay* with the
# distance wherever $T < 1$ or the flow spreads over many paths; only where the gates steer
# it ($o = 1$ along a row, last check) does a source arrive undamped. This is what the modes
# promise: no explosion, and long range only along a directed path. All values are exact
# (float64); the figure shows the maximum state at each distance.
#
# ## C2: the library's 2-D scan against the loop
#
# Random sources (3 batch rows, a 6×7 grid, states of width 3) and random transitions with
# both cross terms, float64; the gradient of a random linear functional of both outputs.

# %%
gc = torch.Generator().manual_seed(ctx.seeds[0] + 1)


def rnd(*shape):
    return torch.randn(*shape, generator=gc, dtype=F64)


leaves = [rnd(3, 6, 7, 3), rnd(3, 6, 7, 3),
          *(rnd(3, 6, 7).tanh() for _ in range(4))]
wts = rnd(2, 3, 6, 7, 3)


def run_form(fn):
    xs = [x.clone().requires_grad_(True) for x in leaves]
    Lf, Uf = fn(xs[0], xs[1], s2.Transitions(*xs[2:]))
    ((wts[0] * Lf).sum() + (wts[1] * Uf).sum()).backward()
    return (Lf.detach(), Uf.detach()), [x.grad for x in xs]


out_loop, grad_loop = run_form(s2.scan2d_loop)
out_wave, grad_wave = run_form(s2.scan2d)
out_dense, grad_dense = run_form(s2.scan2d_dense)


def maxdiff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


report.measure("C2", wave_vs_loop=maxdiff(out_wave, out_loop),
               dense_vs_loop=maxdiff(out_dense, out_loop),
               grad_wave=maxdiff(grad_wave, grad_loop),
               grad_dense=maxdiff(grad_dense, grad_loop))
print(report.verdicts())

# %% [markdown]
# The unit tests of `rnnbook.scan2d` (`tests/test_scan2d.py`) check the same on other grid
# shapes (non-square, one row, one column), without one or both cross terms, with broadcast
# transitions, and by `torch.autograd.gradcheck`.
#
# ## C3: arrow-pointing extrapolation (miniature)
#
# **Our generator** (written for this chapter from the paper's description; the authors'
# generator lives in a separate repository that we did not read). An image has two channels:
# channel 0 an arrow (a shaft of 5 to 7 pixels and a two-stroke head, lines about one pixel
# wide, antialiased), channel 1 a disc of radius 1.5 pixels. The label is 1 if the disc lies on
# the ray from the arrow's tip (its centre within 0.3 px of the ray), 0 if the direction to
# the disc is at least 25° off the arrow's direction and the ray misses the disc. Classes are
# balanced, and the disc stays clear of the arrow. **Simplification:** the arrows point along
# one of the four axis directions (the paper draws any angle). In pilot runs (disclosed below)
# neither model learned arbitrary angles at 16×16 within the ci budget. Objects keep their
# pixel size at 32×32, so the OOD images have the same arrows and discs and longer
# distances, as in the paper (192 → 384 px at fixed object sizes). The training set is one
# fixed set of images (data seed 43); each model seed draws its own initial weights and
# batch order.

# %%
def seg_dist(px, py, ax_, ay, bx, by):
    """Distance of the pixel centres (P,) to n segments: (n, P)."""
    dx, dy = (bx - ax_)[:, None], (by - ay)[:, None]
    t = ((px - ax_[:, None]) * dx + (py - ay[:, None]) * dy) \
        / (dx * dx + dy * dy).clamp_min(1e-9)
    t = t.clamp(0, 1)
    return torch.hypot(px - ax_[:, None] - t * dx,
                       py - ay[:, None] - t * dy)


def arrow_images(n, side, gen):
    """n balanced images (n, 2, side, side), labels (n,) and the
    distance from the arrow's tip to the disc's centre (n,)."""
    xs, ys, ds, n_pos, n_neg = [], [], [], 0, 0
    yy, xx = torch.meshgrid(torch.arange(side, dtype=torch.float32),
                            torch.arange(side, dtype=torch.float32),
                            indexing="ij")
    px, py = xx.reshape(-1), yy.reshape(-1)
    while n_pos + n_neg < n:
        u = lambda: torch.rand(4 * n, generator=gen)  # noqa: E731
        lab = (u() < 0.5).float()
        length = 5.0 + 2.0 * u()
        th = (math.pi / 2) * torch.floor(4 * u())  # axis directions
        tipx, tipy = 2 + (side - 5) * u(), 2 + (side - 5) * u()
        ex, ey = th.cos(), th.sin()
        tailx, taily = tipx - length * ex, tipy - length * ey
        sign = torch.where(u() < 0.5, -1.0, 1.0)
        off = sign * (MIN_OFF + (math.pi - MIN_OFF) * u())
        phi = th + (1 - lab) * off
        d = R_DISC + 2.5 + 1.5 * side * u()
        perp = (u() - 0.5) * 0.6 * lab
        cx = tipx + d * phi.cos() - perp * phi.sin()
        cy = tipy + d * phi.sin() + perp * phi.cos()
        lo, hi = R_DISC, side - 1 - R_DISC
        ok = (cx > lo) & (cx < hi) & (cy > lo) & (cy < hi)
        ok &= (tailx > 0.5) & (tailx < side - 1.5)
        ok &= (taily > 0.5) & (taily < side - 1.5)
        sx, sy = tipx - tailx, tipy - taily
        t = ((cx - tailx) * sx + (cy - taily) * sy) / (sx * sx + sy * sy)
        t = t.clamp(0, 1)
        ok &= torch.hypot(cx - tailx - t * sx,
                          cy - taily - t * sy) > R_DISC + 2.0
        rx, ry = cx - tipx, cy - tipy
        hit = ((rx * ex + ry * ey) > 0) \
            & ((rx * ey - ry * ex).abs() < R_DISC + 1.0)
        ok &= (lab == 1) | ~hit
        ip = (ok & (lab == 1)).nonzero()[:, 0][: n // 2 - n_pos]
        ineg = (ok & (lab == 0)).nonzero()[:, 0][: n - n // 2 - n_neg]
        idx = torch.cat([ip, ineg])
        n_pos, n_neg = n_pos + len(ip), n_neg + len(ineg)
        if len(idx) == 0:
            continue
        tk = th[idx]
        heads = [(tipx[idx] - 2.5 * (tk + s * 0.7).cos(),
                  tipy[idx] - 2.5 * (tk + s * 0.7).sin())
                 for s in (-1, 1)]
        segs = [(tailx[idx], taily[idx]), *heads]
        dmin = torch.stack([seg_dist(px, py, a, b, tipx[idx], tipy[idx])
                            for a, b in segs]).amin(0)
        arrow = (1.0 - dmin).clamp(0, 1)
        disc = (R_DISC + 0.5 - torch.hypot(px - cx[idx, None],
                                           py - cy[idx, None])).clamp(0, 1)
        xs.append(torch.stack([arrow, disc], 1).view(-1, 2, side, side))
        ys.append(lab[idx])
        ds.append(torch.hypot(cx - tipx, cy - tipy)[idx])
    X, Y, Dst = torch.cat(xs), torch.cat(ys), torch.cat(ds)
    perm = torch.randperm(n, generator=gen)
    return X[perm].to(dev), Y[perm].to(dev), Dst[perm].numpy()


gd = torch.Generator().manual_seed(DATA_SEED)
Xtr, Ytr, dist_tr = arrow_images(P["n_train"], SIDE_ID, gd)
Xid, Yid, dist_id = arrow_images(P["n_test"], SIDE_ID, gd)
Xood, Yood, dist_ood = arrow_images(P["n_test"], SIDE_OOD, gd)
print("train", tuple(Xtr.shape), "ID", tuple(Xid.shape),
      "OOD", tuple(Xood.shape), "positives", Ytr.mean().item())

# %%
fig, axs = plt.subplots(2, 6, figsize=(9, 3.4))
for r, (Xs, Ys, side) in enumerate(((Xid, Yid, SIDE_ID),
                                    (Xood, Yood, SIDE_OOD))):
    for c in range(6):
        im = torch.stack([Xs[c, 0], Xs[c, 1], 0 * Xs[c, 0]], -1)
        axs[r, c].imshow(im.cpu().numpy())
        axs[r, c].set_title(f"{side}px, y={int(Ys[c])}", fontsize=8)
        axs[r, c].axis("off")
plt.show()

# %% [markdown]
# **pLSTM (miniature).** A stem of a 3×3 convolution (2 → 16 channels, GELU) and a 2×2
# stride-2 convolution gives an 8×8 grid of 16-dimensional patch features at 16×16 (16×16 at
# 32×32). Then two pLSTM layers, the first in P-mode and the second in D-mode (the authors'
# "PD" block pattern), each with 2 heads of $d_k = 2$, $d_v = 4$ in 4 orientations. In each
# layer: layer norm; $q, k, v$ by one projection; per orientation and head sigmoid gates
# (P: $o, S, T, M$; D: $S^r, S^d, T^{rl}, T^{du}, T^{dl}, M^l, M^u$) from the same features;
# the 2-D scan of `rnnbook.scan2d`; the mean over orientations; a direct term; a per-head
# layer norm; an output projection and a residual; then a residual MLP (16 → 32 → 16). The
# orientation-gate biases start at $-2$ and $2$ across heads and the transition biases at 5
# ($T \approx 0.993$): the authors initialise the orientation bias evenly in $[-2, 2]$ and
# their transitions near 1. The classifier max-pools the normalised features over the grid and
# applies a linear map. **ViT:** 2×2 patches, a linear patch embedding, learned 8×8 position
# embeddings (bilinearly interpolated to 16×16 at 32×32, as the research notes suggest), two
# pre-LN blocks of `rnnbook.transformer` (width 16, 2 heads), the same max-pool head. Max
# pooling (for both) makes the head independent of the number of patches; mean pooling would
# dilute a local detection four-fold at 32×32. The seeds of one experiment are stacked as one
# batched model (weights with a leading model axis).

# %%
ORI = 4
FLIPS = [[d for d, bit in ((2, k & 1), (3, k & 2)) if bit]
         for k in range(ORI)]
N_GATES = {"P": 4, "D": 7}


def lin(M, din, dout, gen, scale=1.0):
    return torch.randn(M, din, dout, generator=gen) * scale / din ** 0.5


def plstm_init(seed):
    """The weights of one pLSTM (leading model axis of size 1)."""
    g = runtime.generator(seed, 29)
    d, p = D_MODEL, {}
    p["c1w"] = torch.randn(d, 2, 3, 3, generator=g) / 18 ** 0.5
    p["c1b"] = torch.zeros(d)
    p["c2w"] = torch.randn(d, d, 2, 2, generator=g) / (4 * d) ** 0.5
    p["c2b"] = torch.zeros(d)
    for li, mode in enumerate(MODES):
        ng = N_GATES[mode]
        p[f"{li}qkv"] = lin(1, d, HEADS * (2 * DK + DV), g)
        p[f"{li}gw"] = lin(1, d, ORI * HEADS * ng, g, 0.1)
        gb = torch.zeros(ORI, HEADS, ng)
        if mode == "P":  # o, S, T, M
            gb[..., 0] = torch.linspace(-2, 2, HEADS)
            gb[..., 2] = 5.0
        else:  # Sr, Sd, Trl, Tdu, Tdl, Ml, Mu
            gb[..., 2:4] = 5.0
        p[f"{li}gb"] = gb.reshape(1, -1)
        p[f"{li}dir"] = lin(1, d, HEADS, g, 0.1)
        p[f"{li}out"] = lin(1, HEADS * DV, d, g, 0.5)
        p[f"{li}m1"] = lin(1, d, 2 * d, g)
        p[f"{li}m2"] = lin(1, 2 * d, d, g, 0.5)
    p["hw"] = lin(1, d, 1, g)
    p["hb"] = torch.zeros(1, 1)
    return p


def plstm_stack(seeds):
    """One batched model: every weight gets a leading axis of seeds."""
    ps = [plstm_init(s) for s in seeds]
    conv = ("c1w", "c1b", "c2w", "c2b")  # grouped conv: concatenate
    out = {k: torch.cat([p[k] for p in ps], 0).to(dev) for k in ps[0]}
    for k, v in out.items():
        if k not in conv:
            assert v.shape[0] == len(seeds)
        v.requires_grad_(True)
    return out


def n_params_plstm(p, M):
    return sum(v.numel() for v in p.values()) // M


def ein(eq, *xs):
    return torch.einsum(eq, *xs)


def oriented(x):
    """(M, B, G, G, ...) -> (M, B, O, G, G, ...): the four flips."""
    return torch.stack([x.flip(f) if f else x for f in FLIPS], 2)


def plstm_layer(p, li, mode, u):
    z = F.layer_norm(u, (D_MODEL,))
    qkv = ein("mbxyd,mde->mbxye", z, p[f"{li}qkv"])
    q, k, v = qkv.unflatten(-1, (HEADS, -1)).split([DK, DK, DV], -1)
    q = q / DK ** 0.5
    gt = ein("mbxyd,mde->mbxye", z, p[f"{li}gw"])
    gt = torch.sigmoid(gt + p[f"{li}gb"][:, None, None, None])
    gt = gt.unflatten(-1, (ORI, HEADS, -1))  # (M,B,G,G,O,H,g)
    gt = torch.stack([gt[:, :, :, :, o].flip(FLIPS[o]) if o
                      else gt[:, :, :, :, 0] for o in range(ORI)], 2)
    gt = gt.permute(0, 1, 2, 5, 6, 3, 4)  # (M,B,O,H,g,G,G)
    kv = (k[..., :, None] * v[..., None, :]).flatten(-2)
    kv = oriented(kv).movedim(-2, 3)  # (M,B,O,H,G,G,n)
    qo = oriented(q).movedim(-2, 3)  # (M,B,O,H,G,G,dk)
    if mode == "P":
        o_, S_, T_, M_ = gt.unbind(4)
        sr, sd = s2.p_sources(o_, S_[..., None] * kv)
        Lx, Ux = s2.scan2d(sr, sd, s2.p_mode(o_, T_))
        C = M_[..., None] * (Lx + Ux)
    else:
        Sr, Sd, Trl, Tdu, Tdl, Ml, Mu = gt.unbind(4)
        Lx, Ux = s2.scan2d(Sr[..., None] * kv, Sd[..., None] * kv,
                           s2.d_mode(Trl, Tdu, Tdl))
        C = Ml[..., None] * Lx + Mu[..., None] * Ux
    C = C.unflatten(-1, (DK, DV))
    y = ein("mbohxyk,mbohxykv->mboxyhv", qo, C)
    y = sum(y[:, :, o].flip(FLIPS[o]) if o else y[:, :, 0]
            for o in range(ORI)) / ORI  # (M,B,G,G,H,dv)
    direct = torch.sigmoid(ein("mbxyd,mdh->mbxyh", z, p[f"{li}dir"]))
    y = y + direct[..., None] * (q * k).sum(-1, keepdim=True) * v
    y = F.layer_norm(y, (DV,))  # per-head norm
    u = u + ein("mbxye,med->mbxyd", y.flatten(-2), p[f"{li}out"])
    z = F.layer_norm(u, (D_MODEL,))
    hid = F.gelu(ein("mbxyd,mde->mbxye", z, p[f"{li}m1"]))
    return u + ein("mbxye,med->mbxyd", hid, p[f"{li}m2"])


def plstm_forward(p, x):
    """x (M, B, 2, N, N) -> logits (M, B)."""
    M, B, _, N, _ = x.shape
    h = x.transpose(0, 1).reshape(B, M * 2, N, N)
    h = F.gelu(F.conv2d(h, p["c1w"], p["c1b"], padding=1, groups=M))
    h = F.conv2d(h, p["c2w"], p["c2b"], stride=PATCH, groups=M)
    G = N // PATCH
    u = h.view(B, M, D_MODEL, G, G).permute(1, 0, 3, 4, 2)
    for li, mode in enumerate(MODES):
        u = plstm_layer(p, li, mode, u)
    pooled = F.layer_norm(u, (D_MODEL,)).amax((2, 3))  # (M, B, d)
    return (ein("mbd,mdo->mbo", pooled, p["hw"])
            + p["hb"][:, None])[..., 0]


class ViT(torch.nn.Module):
    """Patch embedding, learned 2-D positions, pre-LN blocks, max pool."""

    def __init__(self, gen, models, d_ff):
        super().__init__()
        G = SIDE_ID // PATCH
        self.emb = tf.Linear(2 * PATCH * PATCH, VIT_D, models, gen)
        self.pos = torch.nn.Parameter(
            torch.randn(models, VIT_D, G, G, generator=gen) * 0.5)
        self.stack = tf.Stack(VIT_D, VIT_HEADS, VIT_LAYERS, d_ff, models,
                              gen)
        self.head = tf.Linear(VIT_D, 1, models, gen)

    def forward(self, x):
        M, B, C, N, _ = x.shape
        t = F.unfold(x.flatten(0, 1), PATCH, stride=PATCH)
        h = self.emb(t.transpose(1, 2).unflatten(0, (M, B)))
        G = N // PATCH
        pos = self.pos if G == self.pos.shape[-1] else F.interpolate(
            self.pos, size=(G, G), mode="bilinear", align_corners=False)
        h = self.stack(h + pos.flatten(2).transpose(1, 2)[:, None])
        return self.head(h.amax(2))[..., 0]


def vit_stack(seeds, d_ff):
    """One batched ViT whose model m is drawn from seed m's generator."""
    one = [ViT(runtime.generator(s, 30), 1, d_ff) for s in seeds]
    big = ViT(runtime.generator(seeds[0], 30), len(seeds), d_ff)
    with torch.no_grad():
        for name, w in big.named_parameters():
            w.copy_(torch.cat([dict(m.named_parameters())[name]
                               for m in one], 0))
    return big.to(dev)


# %% [markdown]
# The parameter budget: the pLSTM's count is fixed by its sizes above; the ViT's feed-forward
# width is the one that brings its count closest to the pLSTM's (the only free size).

# %%
p_count = n_params_plstm(plstm_init(0), 1)
vit_counts = {ff: tf.n_params(ViT(None, 1, ff))
              for ff in range(8, 257, 8)}
D_FF = min(vit_counts, key=lambda f: abs(vit_counts[f] - p_count))
v_count = vit_counts[D_FF]
if abs(v_count / p_count - 1) > 0.1:
    raise claims.ConstructionFailed("parameter budgets differ by > 10 %")
print(f"pLSTM {p_count} parameters; ViT {v_count} (feed-forward {D_FF})")
runtime.glue("a29_np_plstm", str(p_count))
runtime.glue("a29_np_vit", str(v_count))
runtime.glue("a29_dff", str(D_FF))

# %% [markdown]
# Training: binary cross-entropy on the logit, Adam, {glue:text}`a29_steps` steps of
# {glue:text}`a29_batch` images from the {glue:text}`a29_ntrain` training images (each seed
# its own batch order, the same for both models), learning rate {glue:text}`a29_lr`.
# Accuracy on {glue:text}`a29_ntest` fresh images at each size.

# %%
def batches(seed):
    g = runtime.generator(seed, 31)
    return [torch.randint(0, P["n_train"], (P["batch"],), generator=g)
            for _ in range(P["steps"])]


ORDER = [batches(s) for s in ctx.seeds]


def train(fwd, params):
    opt = torch.optim.Adam(params, lr=P["lr"])
    losses = []
    for step in range(P["steps"]):
        idx = torch.stack([o[step] for o in ORDER]).to(dev)  # (M, B)
        logit = fwd(Xtr[idx])
        loss = F.binary_cross_entropy_with_logits(
            logit, Ytr[idx], reduction="none").mean(1)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        losses.append(loss.detach().cpu())
    return torch.stack(losses).numpy()


CORRECT = {}


@torch.no_grad()
def accuracy(fwd, X, Y, key):
    """Accuracy per seed; keeps each image's correctness in CORRECT."""
    bs = P["eval_batch"]
    out = torch.cat([fwd(X[i:i + bs].expand(S, *X[i:i + bs].shape))
                     for i in range(0, len(X), bs)], 1)
    CORRECT[key] = ((out > 0).float() == Y).float().cpu().numpy()
    return CORRECT[key].mean(1)


pl = plstm_stack(ctx.seeds)
pl_fwd = lambda x: plstm_forward(pl, x)  # noqa: E731
acc_un = {"id": accuracy(pl_fwd, Xid, Yid, "un_id"),
          "ood": accuracy(pl_fwd, Xood, Yood, "un_ood")}
t0 = time.process_time()
loss_pl = train(pl_fwd, list(pl.values()))
acc_pl = {"id": accuracy(pl_fwd, Xid, Yid, "pl_id"),
          "ood": accuracy(pl_fwd, Xood, Yood, "pl_ood")}
cpu_pl = time.process_time() - t0
vit = vit_stack(ctx.seeds, D_FF)
t0 = time.process_time()
loss_vit = train(vit, list(vit.parameters()))
acc_vit = {"id": accuracy(vit, Xid, Yid, "vit_id"),
           "ood": accuracy(vit, Xood, Yood, "vit_ood")}
cpu_vit = time.process_time() - t0
for name, a in (("untrained pLSTM", acc_un), ("pLSTM", acc_pl),
                ("ViT", acc_vit)):
    print(f"{name:16s} ID {a['id'].round(3)}  OOD {a['ood'].round(3)}")
print(f"CPU seconds: pLSTM {cpu_pl:.1f}, ViT {cpu_vit:.1f}")

# %%
drop_pl = acc_pl["id"] - acc_pl["ood"]
drop_vit = acc_vit["id"] - acc_vit["ood"]
report.measure(
    "C3", acc_id=acc_pl["id"].tolist(), acc_ood=acc_pl["ood"].tolist(),
    drop_excess=(drop_pl - DROP_RATIO * drop_vit).tolist(),
    acc_id_untrained=acc_un["id"].tolist(),
    acc_ood_untrained=acc_un["ood"].tolist(),
    vit_id=acc_vit["id"].tolist(), vit_ood=acc_vit["ood"].tolist(),
    note=f"{p_count} parameters (pLSTM) against {v_count} (ViT)")
report.untestable(
    "C4", "no molecular-graph or ImageNet data offline and no GPU-scale "
    "training; the full profile does not attempt it either")
print(report.verdicts())
for k, a in (("pl", acc_pl), ("vit", acc_vit), ("un", acc_un)):
    for part in ("id", "ood"):
        runtime.glue(f"a29_{k}_{part}", f"{100 * a[part].mean():.1f}")
runtime.glue("a29_drop_pl", f"{100 * drop_pl.mean():.1f}")
runtime.glue("a29_drop_vit", f"{100 * drop_vit.mean():.1f}")
runtime.glue("a29_steps", str(P["steps"]))
runtime.glue("a29_batch", str(P["batch"]))
runtime.glue("a29_ntrain", str(P["n_train"]))
runtime.glue("a29_ntest", str(P["n_test"]))
runtime.glue("a29_lr", f"{P['lr']:g}")

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.3))
names = ["untrained\npLSTM", "pLSTM", "ViT"]
for i, a in enumerate((acc_un, acc_pl, acc_vit)):
    for j, part in enumerate(("id", "ood")):
        xpos = i + (j - 0.5) * 0.3
        a1.scatter(np.full(S, xpos), 100 * a[part], color=f"C{j}",
                   zorder=3, label=("16×16 (ID)", "32×32 (OOD)")[j]
                   if i == 0 else None)
        a1.hlines(100 * a[part].mean(), xpos - 0.1, xpos + 0.1,
                  color=f"C{j}")
a1.axhline(100 * ID_MIN, color="C0", ls=":", lw=0.8)
a1.axhline(100 * OOD_MIN, color="C1", ls=":", lw=0.8)
a1.set_xticks(range(3), names)
a1.set(ylabel="accuracy (%)", ylim=(40, 102))
a1.legend(fontsize=8)
for lc, name, c in ((loss_pl, "pLSTM", "C2"), (loss_vit, "ViT", "C3")):
    a2.plot(lc.mean(1), color=c, label=name)
a2.set(xlabel="step", ylabel="training loss (mean over seeds)")
a2.legend()
plt.show()

# %% [markdown]
# Accuracy (mean over seeds) at the training size and at twice the size: pLSTM
# {glue:text}`a29_pl_id` % → {glue:text}`a29_pl_ood` % (drop {glue:text}`a29_drop_pl`
# points), ViT {glue:text}`a29_vit_id` % → {glue:text}`a29_vit_ood` % (drop
# {glue:text}`a29_drop_vit` points), the untrained pLSTM {glue:text}`a29_un_id` % and
# {glue:text}`a29_un_ood` %. Parameter counts: pLSTM {glue:text}`a29_np_plstm`, ViT
# {glue:text}`a29_np_vit` (feed-forward width {glue:text}`a29_dff`). The verdict above applies
# the rule fixed before the run.
#
# What we read from it. With the same images, steps and parameter budget, the pLSTM learns the
# task at the training size much faster than the ViT (its P- and D-mode scans move evidence
# along rows and columns, which is what axis-aligned arrows need; the ViT's training loss is
# still near $\log 2$ after {glue:text}`a29_steps` steps). At twice the image size the
# pLSTM falls far below the 0.75 threshold, on every seed set of the variation table, so the
# claim is not reproduced in this miniature. The comparison part of the rule fails too: the
# ViT, which has hardly learned the task, has little accuracy to lose. The two analyses
# below ask where the pLSTM's accuracy goes.
#
# **Where the accuracy is lost.** Accuracy by the distance from the arrow's tip to the disc
# (bins of 4 pixels; the training images reach about {glue:text}`a29_dmax_tr` pixels). A
# model that carries the evidence undamped would keep its accuracy at the distances that
# only the large images have; one whose evidence fades loses it with the distance.

# %%
edges = np.arange(0, 4 * math.ceil(dist_ood.max() / 4) + 1, 4)
fig, ax = plt.subplots(figsize=(6.5, 3.3))
for key, dst, c, ls in (("pl_id", dist_id, "C2", "-"),
                        ("pl_ood", dist_ood, "C2", "--"),
                        ("vit_id", dist_id, "C3", "-"),
                        ("vit_ood", dist_ood, "C3", "--")):
    b = np.digitize(dst, edges) - 1
    mids, accs = [], []
    for k in range(len(edges) - 1):
        sel = b == k
        if sel.sum() >= 10:
            mids.append(edges[k] + 2)
            accs.append(100 * CORRECT[key][:, sel].mean())
    name = ("pLSTM" if key.startswith("pl") else "ViT") \
        + (", 16×16" if key.endswith("id") else ", 32×32")
    ax.plot(mids, accs, color=c, ls=ls, marker="o", label=name)
ax.axvline(dist_tr.max(), color="k", lw=0.8, ls=":")
ax.set(xlabel="distance tip → disc (pixels)", ylabel="accuracy (%)",
       title="mean over seeds; dotted: largest training distance")
ax.legend(fontsize=8)
plt.show()
near = dist_ood <= dist_tr.max()
# the 16x16 test images in the middle of an empty 32x32 canvas
Xpad = F.pad(Xid, (8, 8, 8, 8))
acc_pad = {"pl": accuracy(pl_fwd, Xpad, Yid, "pl_pad"),
           "vit": accuracy(vit, Xpad, Yid, "vit_pad")}
print("16x16 content on a 32x32 canvas: pLSTM",
      acc_pad["pl"].round(3), "ViT", acc_pad["vit"].round(3))
runtime.glue("a29_pl_pad", f"{100 * acc_pad['pl'].mean():.1f}")
runtime.glue("a29_vit_pad", f"{100 * acc_pad['vit'].mean():.1f}")
runtime.glue("a29_dmax_tr", f"{dist_tr.max():.0f}")
runtime.glue("a29_pl_ood_near",
             f"{100 * CORRECT['pl_ood'][:, near].mean():.1f}")
runtime.glue("a29_pl_ood_far",
             f"{100 * CORRECT['pl_ood'][:, ~near].mean():.1f}")
runtime.glue("a29_frac_far", f"{100 * (~near).mean():.0f}")

# %% [markdown]
# On the 32×32 images, the pLSTM is right on {glue:text}`a29_pl_ood_near` % of the images
# whose distance also occurs in training and on {glue:text}`a29_pl_ood_far` % of the
# farther ones ({glue:text}`a29_frac_far` % of the test images). If the evidence faded
# with the distance, the near images would keep the training accuracy and the far ones would
# lose it; with the default seeds both are far below it. A second test separates the size of the
# canvas from the distances: the 16×16 test images, unchanged, placed in the middle of an
# empty 32×32 canvas. Same arrows, same discs, same distances; only the empty border is new.
# The pLSTM's accuracy on them is {glue:text}`a29_pl_pad` % (on the same images at 16×16:
# {glue:text}`a29_pl_id` %), the ViT's {glue:text}`a29_vit_pad` %.
#
# With the default seeds, what breaks is the larger canvas itself, not the longer distances
# (both 32×32 measurements sit far below the {glue:text}`a29_pl_id` % at 16×16). Two candidate causes,
# which this miniature does not separate [R]: (a) every background patch writes a learned,
# input-independent source into the scan, and with transitions near 1 the scan sums it
# along rows and columns, so on a canvas twice as wide the states carry about twice as much
# background as in training; (b) the classifier's max-pool runs over four times as many
# positions, and the maximum of the background features grows with their number. Nothing in
# training at one size asks the model to be invariant to the canvas. The paper trains
# 100,000 images for 50 epochs, with twelve blocks at 192 px and pooling at the corners;
# whether that removes the effect, the miniature cannot say. (The untrained pLSTM answers one
# class for every image, hence exactly 50 %.)
#
# ## Versus the authors' code
#
# Snapshots read: `ml-jku/plstm` (commit `a404ff3`, June 2025; `src/plstm/torch/plstm_2d.py`,
# `plstm_2d_layer.py`, `longrange_transition_layer.py`) and `ml-jku/plstm_experiments`
# (commit `ac539b6`, October 2025; `config/dataset/arrow_pointing*.yaml`,
# `config/experiments/spl/arrow_pointing_extrapolation*.yaml`, `config/model/plstm_vision.yaml`,
# `vit.yaml`). Nothing was copied.
#
# | | authors' code | this chapter |
# |---|---|---|
# | recurrence | states on the edges of the grid's line graph; $R = T^{rl}L + T^{ru}U + S^r kv^\top$, $D = T^{du}U + T^{dl}L + S^d kv^\top$; output through marks on incoming edges plus a direct term | the same equations (`rnnbook.scan2d`) |
# | parallel form | log-depth hierarchical combination of transition, source, mark and gating matrices with einsum, concatenation and padding (`transition_matrices_2d`, `pLSTM2D_fwbw`, custom backward), `levels = 6` | wavefront over anti-diagonals ($H + W - 1$ steps, autograd); a dense triangular solve as a second check; the log-depth form not ported |
# | P-mode | $o = \sigma(b + 0.5\, w^\top x / d)$, $S^r = oS$, $S^d = 1 - S^r$, $T^{rl} = T^{ru} = oT$, $T^{dl} = T^{du} = 1 - oT$ | the paper's form: $S^d = (1 - o)S$, $T^{dl} = T^{du} = (1 - o)T$; with $T = S = 1$ both agree |
# | D-mode | separate $T^{rl}, T^{du}$ and one cross term ($T^{dl}$, chirality "L"), marks $M^l, M^u$ | the same |
# | transitions | $J_T \ge 1$ matrices, normalised (exponential orthogonalisation or eigenvalue limit); scalar case $\tanh$ | scalars ($J_T = 1$) through a sigmoid, $T \in (0, 1)$ |
# | orientations | 4 flips, averaged; per-head multi-head RMS norm | 4 flips, averaged; per-head layer norm |
# | model | ViT-T size: width 192, patch 16, blocks alternating P- and D-mode layers (`block_mode: PD`), pooling at the corners | width 16, patch 2, 2 layers (P, D), max pooling |
# | ViT baseline | ViT-T (width 192, 12 blocks, 3 heads), class token | width 16, 2 blocks, 2 heads, max pooling, same parameter count as our pLSTM |
# | data | 192×192 RGB, 100,000 training images (seed 43), test 10,240 at 192 and at 384; arrows at any angle | 16×16, 2 channels, {glue:text}`a29_ntrain` images (seed 43), test {glue:text}`a29_ntest` at 16 and 32; axis-aligned arrows |
# | training | 50 epochs, peak lr $10^{-3}$, 1 warm-up epoch and decay, batch 128 | {glue:text}`a29_steps` steps, batch {glue:text}`a29_batch`, constant lr |
#
# The paper's arrow-pointing accuracies are not in our notes and could not be retrieved in
# this session; we quote none.

# %% [markdown]
# ## Checks that do not depend on the run
#
# The binomial path count on a small grid by hand, the shapes of the data, the parameter
# counts and the constants.

# %%
L5, _ = s2.scan2d(corner(5), corner(5), s2.naive((5, 5)))

# %% tags=["nbval-check-output"]
print("naive 5x5, state entering row 4 from the left:",
      L5[4, :, 0].tolist())
print("C1/C2 exact:", naive_rel <= 1e-12 and pmode_max <= 1
      and dmode_max <= 1 and transport == 1.0)
print("images: ID", tuple(Xid.shape[1:]), "OOD", tuple(Xood.shape[1:]))
print("parameters: pLSTM", p_count, "ViT", v_count, "d_ff", D_FF)
print("constants:", dict(ID_MIN=ID_MIN, OOD_MIN=OOD_MIN,
                         DROP_RATIO=DROP_RATIO, MODES=MODES))

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2
# threads (seeds 0, 1) and with two other seed sets (2, 3 and 4, 5); the table shows both
# changes beside the declared `tol` and every verdict seen.

# %%
report.tolerances("../../data/a29_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Miniature and simplified task.** 16×16 training images and 32×32 test images instead
#   of 192 and 384; two channels (arrow, disc) instead of RGB; **axis-aligned arrows** instead
#   of any angle; {glue:text}`a29_ntrain` training images and {glue:text}`a29_steps` steps
#   instead of 100,000 images and 50 epochs; two-layer models of about
#   {glue:text}`a29_np_plstm` parameters instead of ViT-T-sized ones. Our generator is
#   written from the paper's description; the authors' generator (a separate repository) was
#   not read.
# - **Parallel form.** The wavefront scan has $H + W - 1$ sequential steps; the paper's
#   log-depth form is faster on a GPU at large grids, and computes the same recurrence.
# - **Parametrisation.** Scalar transitions through a sigmoid (no matrix transitions, no
#   orthogonalisation); the P-mode split of the paper rather than the code's variant (row
#   "P-mode" of the table).
# - **Baselines.** Only a ViT; the paper also compares EfficientNet, ViL, Vim, Mamba2D and
#   2DMamba, and ablates P-only, D-only, constant gates and no position embedding. The D-only
#   ablation was not run in ci (budget).
# - **Rules before results, and pilots.** The C3 rule and its control were written before
#   this chapter's seeds were run. Pilot runs on seed 0 of a prototype (not this chapter's
#   code path) changed the task and the sizes, not the rule: with arrows at any angle neither
#   model learned within the budget (ViT about 67 % at the training size after 1,000 steps);
#   at 16×16 pixels without patches the scan was too slow for ci, so both models use 2×2
#   patches; with axis-aligned arrows the pLSTM reached about 95 % at the training size and
#   about 50–67 % at twice the size in the pilots. We also tried (and did not keep)
#   orientation biases in $[-4, 4]$ and a negative source-gate bias (the pLSTM then did not
#   learn). So the extrapolation result below the threshold was visible in the pilots before
#   this chapter ran; we kept the rule. The two analyses of where the accuracy is lost (by
#   distance, and on the padded canvas) were added after the first run of this chapter; they
#   are reported, not judged.
#
# ## References
#
# ```{footbibliography}
# ```
