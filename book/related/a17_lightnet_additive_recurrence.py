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
# # A17 · You Only Scan Once: LightNet's additive linear recurrence
#
# Linear attention with a decay, $s_t = \lambda_t s_{t-1} + k_t v_t^\top$, is a *multiplicative*
# linear recurrence: what token $t$ sees of token $j < t$ is scaled by the product of the decays
# between them, so the output depends on the order of the scan, and a causal scan sees only
# what came before. On an image, a global receptive field then needs several scans (forwards
# and backwards along rows and along columns, as in Vim and VMamba
# {footcite}`zhu2024vim,liu2024vmamba`), and each scan costs as much as the first. Qin, Mao,
# Shen, Li, Zhang, Dai and Zhong {footcite}`qin2024lightnet` replace it by an *additive*
# recurrence: with $\delta_t = \sum_{j \le t} e^{k_j}$ (per key dimension),
#
# $$\delta_t s_t = \delta_{t-1} s_{t-1} + e^{k_t} v_t^\top,$$
#
# so $s_t$ is a weighted *mean* of the $v_j$ with weights $e^{k_j}/\delta_t$. Over the whole
# sequence (the non-causal form used for images) the weights are a softmax over positions, and
# the sum does not depend on the order of the tokens: one pass gives every token the same global
# state. The paper builds LightNet on this recurrence, adds two multi-dimensional positional
# encodings (MD-TPE, from Toeplitz neural networks {footcite}`qin2023tnn`, and MD-LRPE, from
# linearized relative positional encoding {footcite}`qin2023lrpe`), and reports image
# classification, image generation and language modelling results.
#
# We check the two identities behind the recurrence, then compare on **8×8 digit images**
# (scikit-learn's bundled digits, a **substitute** for ImageNet; 64 pixels as 64 tokens, a
# **miniature**) a one-pass additive model with multiplicative models that scan 1, 2 or 4 times,
# time them on the CPU, and ablate the two positional encodings. The authors' repository
# (`OpenNLPLab/LightNet`) could not be fetched here; we read the re-implementation in
# flash-linear-attention {footcite}`yang2024fla` (marked [F]) and mark our own choices [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) the additive recurrence is a multiplicative one with
#   $\lambda_t = \delta_{t-1}/\delta_t$ and input weight $e^{k_t}/\delta_t = 1 - \lambda_t$.
# - **C2** (construction) the non-causal additive output is permutation-invariant: permuting the
#   tokens permutes the token outputs and leaves the pooled output unchanged ("it can handle
#   multi-dimensional data within a single scan").
# - **C3** one additive scan matches several multiplicative scans in accuracy on 2-D data
#   (digits, a substitute), where a single multiplicative scan does not.
# - **C4** ... at a fraction of the time (measured on this CPU, 1 thread; see how we read it).
# - **C5** MD-TPE and MD-LRPE "enhance the model's ability to discern positional information in
#   multi-dimensional scenarios": do they raise accuracy at all?
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
from sklearn.datasets import load_digits

from rnnbook import claims, plots, runtime
from rnnbook import linear_attention as la
from rnnbook.scan import parallel_scan, sequential_scan

ctx = runtime.setup(
    "a17", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(d=32, heads=2, layers=1, gate_rank=8, batch=32, steps=150,
            lr=1e-2, n_test=597, time_batch=32, time_reps=6),
    full=dict(d=64, heads=4, layers=4, gate_rank=16, batch=64,
              steps=3000, lr=2e-3, n_test=597, time_batch=64,
              time_reps=30),
)  # fmt: skip
# Constants (not sizes).
SIDE = 8  # images are SIDE x SIDE; one token per pixel
L = SIDE * SIDE
MIN_LOG_DECAY = -0.5  # log lambda in (-0.5, 0): parallel form finite [R]
THETA_BASE = 10.0  # MD-LRPE angles theta_m = THETA_BASE ** -(m / M) [R]
MARGIN = 0.02  # C3: "matches" = within 2 points (research notes)
GAIN = 0.01  # C5: "helps" = at least +1 point
FRACTION = 0.5  # C4: "a fraction" = at most half the time
S = len(ctx.seeds)
F64 = torch.float64

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs.
#
# - **C1, C2** are constructions, checked in float64 on random inputs: agreement to $10^{-10}$.
#   C1 compares the closed form $s_t = \sum_{j\le t} e^{k_j} v_j^\top / \delta_t$ with the
#   multiplicative recurrence run by the book's parallel scan (`rnnbook.scan`). C2 permutes the
#   64 tokens of a model without positional encoding. Beside C2 we report how much a single
#   multiplicative scan changes under the same permutation (it is not invariant).
# - **C3.** The paper's claim is qualitative: LightNet with one scan is competitive with
#   multi-scan linear-recurrence models. We read "matches" as the research notes do: held-out
#   accuracy of the one-pass additive model at most 2 points below the 4-scan multiplicative
#   model (mean over seeds; every model sees the same initial weights and batches). The control
#   is the multiplicative model with a single scan (row-major, forwards): it must fall more
#   than 2 points short, otherwise a single scan suffices on this task and the claim is
#   inconclusive. The 2-scan model (forwards and backwards along rows, as in Vim) is reported.
# - **C4.** The paper's efficiency argument is that multi-scan models do the scan's work
#   several times; this is a statement about work, not about a device, so we judge it on the
#   CPU we have (1 thread) and say so. Rule: the median time of one token-mixing layer
#   (forward and backward) of the additive model is at most half that of the 4-scan
#   multiplicative layer (the ideal is a quarter), in interleaved rounds. The control is a
#   second, identical copy of the 4-scan layer timed in the same rounds (an A/A comparison):
#   its ratio must fail the rule, or the protocol cannot tell the two apart. The whole model's
#   training step and the 1-scan multiplicative layer are reported.
# - **C5.** "Help at all": the additive model with both encodings (MD-TPE and MD-LRPE, on top
#   of the learned 2-D absolute embedding every model has) must gain at least 1 point of
#   held-out accuracy over the same model without them (mean over seeds). The control feeds
#   both encodings a fixed random shuffle of the 2-D coordinates (the same parameters, no
#   geometry): it must gain less. A model with no positional information at all is
#   reported.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="LightNet: additive linear recurrence")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "The additive recurrence is the multiplicative one with λ_t = δ_{t−1}/δ_t and "
    "input weight 1 − λ_t.", kind="construction",
    paper="δ_t s_t = δ_{t−1} s_{t−1} + e^{k_t} v_t^T (derivation)",
    checks=[
        ev("add_vs_scan", "<=", 1e-10, "max |closed form − multiplicative scan|, float64",
           tol=1e-12),
        ev("weight_id", "<=", 1e-12, "max |e^{k_t}/δ_t − (1 − λ_t)|, float64", tol=1e-13),
        ev("parallel_vs_loop", "<=", 1e-10, "decay attention (training form) vs the "
           "recurrence loop, float64", tol=1e-12),
    ])
report.claim(
    "C2", "The non-causal additive output is permutation-invariant (one scan gives a "
    "global receptive field).", kind="construction",
    paper="one scan handles multi-dimensional data",
    checks=[
        ev("perm_tokens", "<=", 1e-10, "max |f(Px) − P f(x)|, mixing layer, float64",
           tol=1e-12),
        ev("perm_logits", "<=", 1e-10, "max |logits(Px) − logits(x)|, model without "
           "positional encoding, float64", tol=1e-12),
        ctx_("perm_mult1", "the same for one multiplicative scan (not invariant)",
             tol=1.0),
    ])
report.claim(
    "C3", "One additive scan matches several multiplicative scans in accuracy on 2-D data.",
    kind="empirical",
    paper="one-scan LightNet competitive with multi-scan models (ImageNet-1k; no numbers "
    "checked here)",
    checks=[
        ev("gap_add1", ">=", -MARGIN, "acc(additive, 1 pass) − acc(multiplicative, 4 "
           "scans), held out", tol=0.03),
        ctl("gap_mult1", "gap_add1", "acc(multiplicative, 1 scan) − acc(4 scans)",
            tol=0.03),
        ctx_("gap_mult2", "acc(multiplicative, 2 scans) − acc(4 scans)", tol=0.03),
        ctx_("acc_add1", "held-out accuracy, additive", tol=0.03),
        ctx_("acc_mult4", "held-out accuracy, multiplicative 4 scans", tol=0.03),
    ])
report.claim(
    "C4", "The one-pass additive layer takes a fraction of the time of four "
    "multiplicative scans (CPU, 1 thread).", kind="empirical",
    paper="multiple scans cause inefficiency; one scan is efficient (GPU throughput)",
    checks=[
        ev("t_ratio", "<=", FRACTION, "median t(additive layer) / t(4-scan layer), "
           "forward + backward", tol=0.2),
        ctl("t_ratio_aa", "t_ratio", "a second copy of the 4-scan layer / the 4-scan "
            "layer (A/A)", tol=0.3),
        ctx_("t_ratio_mult1", "median t(1-scan layer) / t(4-scan layer)", tol=0.3),
        ctx_("t_ratio_model", "median t(additive model step) / t(4-scan model step)",
             tol=0.3),
    ])
report.claim(
    "C5", "MD-TPE and MD-LRPE raise accuracy.", kind="empirical",
    paper="MD-TPE and MD-LRPE improve ImageNet-1k accuracy in the paper's ablation "
    "(numbers not checked here)",
    checks=[
        ev("gain_both", ">=", GAIN, "acc(+MD-TPE +MD-LRPE) − acc(learned 2-D embedding "
           "only)", tol=0.03),
        ctl("gain_shuffled", "gain_both", "the same encodings on shuffled coordinates",
            tol=0.03),
        ctx_("gain_nope", "no positional information at all (a bag of pixels)",
             tol=0.05),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The two recurrences
#
# **Multiplicative** (the decay of HGRN2 / GLA-style linear attention
# {footcite}`qin2024hgrn2,yang2024gla`): per key dimension a decay
# $\log\lambda_t = -\tfrac12\,\sigma(-W_\lambda x_t - b_\lambda) \in (-\tfrac12, 0)$ [R] and, as in
# HGRN2, the input
# weight $1 - \lambda_t$:
#
# $$s_t = \mathrm{diag}(\lambda_t)\, s_{t-1} + (1 - \lambda_t)\, v_t^\top,\qquad
# o_t = \mathrm{SiLU}(q_t)^\top s_t .$$
#
# Unrolled, $o_i = \sum_{j \le i} \mathrm{SiLU}(q_i)^\top \mathrm{diag}(e^{c_i - c_j})
# (1 - \lambda_j) v_j^\top$ with $c_t = \sum_{m \le t} \log\lambda_m$: a masked, decayed linear
# attention that we evaluate in parallel as $\big((q \odot e^{c})(k \odot e^{-c})^\top \odot
# M\big) v$ with the causal mask $M$ (the "parallel form"; the bound $\log\lambda > -\tfrac12$ keeps
# $e^{-c}$ finite in float32 over 64 tokens [R]). A *scan order* is a permutation of the 64 pixels: row-major
# forwards, row-major backwards, column-major forwards and backwards. The 2- and 4-scan models
# average the outputs of their scans.
#
# **Additive** (LightNet): $\delta_t = \delta_{t-1} + e^{k_t}$, $\delta_t s_t = \delta_{t-1}
# s_{t-1} + e^{k_t} v_t^\top$. Dividing by $\delta_t$ gives the multiplicative form with
# $\lambda_t = \delta_{t-1}/\delta_t$ and input weight $e^{k_t}/\delta_t = 1 - \lambda_t$: the
# additive recurrence *is* an HGRN2-type recurrence whose decay is fixed by the running sum of
# the keys (C1). Non-causally, $s = \sum_j \mathrm{softmax}_j(k)\, v_j^\top$ is one sum over all
# tokens, the same for every query, so the order of the tokens does not matter (C2) and no
# second scan is needed. In both models the mixed output goes through a layer norm, a
# low-rank sigmoid gate and an output projection [F], then a residual MLP block; the classifier
# averages the 64 tokens.

# %%
rows_id = torch.arange(L) // SIDE
cols_id = torch.arange(L) % SIDE
ROW_F = torch.arange(L)
COL_F = torch.arange(L).view(SIDE, SIDE).T.reshape(-1)
ORDERS = {"row>": ROW_F, "row<": ROW_F.flip(0), "col>": COL_F,
          "col<": COL_F.flip(0)}
SCANS = {1: ["row>"], 2: ["row>", "row<"], 4: list(ORDERS)}
H = P["heads"]
DK = P["d"] // H


def ln(x):
    return F.layer_norm(x, x.shape[-1:])


def heads(z):
    return z.unflatten(-1, (H, DK))


# o_i = sum_{j<=i} q_i^T diag(exp(c_i - c_j)) k_j v_j^T,
# c = cumsum log λ, tensors (..., L, H, DK): the masked parallel form,
# from rnnbook.linear_attention
decay_attention = la.decayed_attention


def rotate(x, phi):
    """MD-LRPE: rotate pairs of key dims by the angles phi (L, DK/2)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    cos, sin = phi.cos()[:, None], phi.sin()[:, None]  # (L, 1, DK/2)
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos],
                       -1).flatten(-2)


def lrpe_angles(r, c, dtype=torch.float32):
    """Half of the pairs turn with the row index, half with the column."""
    m = DK // 4
    theta = THETA_BASE ** (-torch.arange(m, dtype=dtype) / m)
    return torch.cat([r[:, None] * theta, c[:, None] * theta], 1).to(dev)


def tpe_index(r, c):
    """MD-TPE as a (L, L) Toeplitz mixing along each axis: token t takes
    token u of the same column at row offset r_t - r_u (and likewise
    along rows); returns offset indices and the two masks."""
    dr = (r[:, None] - r[None, :]) + SIDE - 1
    dc = (c[:, None] - c[None, :]) + SIDE - 1
    same_c = (c[:, None] == c[None, :]).float()
    same_r = (r[:, None] == r[None, :]).float()
    return dr.to(dev), dc.to(dev), same_c.to(dev), same_r.to(dev)


def mix(u, lp, arm, geo):
    """The token-mixing layer: u (..., L, d) -> (..., L, d)."""
    W = lambda name: lp[name][:, None]  # noqa: E731  (S, 1, ., .)
    q = F.silu(heads(u @ W("wq")))
    k, v = heads(u @ W("wk")), heads(u @ W("wv"))
    if arm["kind"] == "add":
        kt = torch.softmax(k, dim=-3)  # over the L positions
        if arm.get("lrpe"):
            q, kt = rotate(q, geo["phi"]), rotate(kt, geo["phi"])
        s = torch.einsum("...lhk,...lhv->...hkv", kt, v)
        o = torch.einsum("...lhk,...hkv->...lhv", q, s)
    else:
        z = heads(u @ W("wl") + lp["bl"][:, None, None])
        logl = MIN_LOG_DECAY * torch.sigmoid(-z)  # log lambda
        kk = -torch.expm1(logl)  # 1 - lambda
        # the scan orders run as one batch (as in VMamba's cross-scan)
        p = torch.stack([ORDERS[n] for n in SCANS[arm["scans"]]]).to(dev)
        inv = torch.argsort(p, dim=1)
        o = decay_attention(*(t[..., p, :, :] for t in (q, kk, v, logl)))
        # o (..., n_scans, L, H, DK): undo each order, average the scans
        o = torch.stack([o[..., i, inv[i], :, :]
                         for i in range(len(p))]).mean(0)
    g = torch.sigmoid(u @ W("wg1") @ W("wg2"))
    return (ln(o.flatten(-2)) * g) @ W("wo")


def forward(p, pix, arm, geo):
    """pix (S, B, L) in [0, 1] -> logits (S, B, 10)."""
    h = pix[..., None] * p["emb"][:, None, None, 0] \
        + p["emb"][:, None, None, 1]
    if arm.get("ape", True):
        h = h + (p["ape_r"][:, rows_id] + p["ape_c"][:, cols_id])[:, None]
    if arm.get("tpe"):
        dr, dc, same_c, same_r = geo["tpe"]
        kern = (p["tpe_r"][:, dr] * same_c[..., None]
                + p["tpe_c"][:, dc] * same_r[..., None])  # (S, L, L, d)
        h = h + torch.einsum("stud,sbud->sbtd", kern, h)
    for lp in p["layers"]:
        h = h + mix(ln(h), lp, arm, geo)
        h = h + F.gelu(ln(h) @ lp["w1"][:, None]) @ lp["w2"][:, None]
    return ln(h).mean(-2) @ p["wc"] + p["bc"][:, None]

# %% [markdown]
# Every model, whatever its arm, is drawn from the same stream per seed (unused parameters
# are drawn too), so the arms of one seed start from the same weights and see the same
# batches. The seeds are stacked along a leading axis and trained as one model.

# %%
def init(tag, seeds=None, dtype=torch.float32):
    d, r = P["d"], P["gate_rank"]
    seeds = ctx.seeds if seeds is None else seeds

    def draw(g):
        def W(i, o, scale=1.0):
            return scale * torch.randn(i, o, generator=g,
                                       dtype=dtype) / math.sqrt(i)
        p = dict(emb=torch.randn(2, d, generator=g, dtype=dtype),
                 ape_r=torch.randn(SIDE, d, generator=g, dtype=dtype),
                 ape_c=torch.randn(SIDE, d, generator=g, dtype=dtype),
                 tpe_r=torch.zeros(2 * SIDE - 1, d, dtype=dtype),
                 tpe_c=torch.zeros(2 * SIDE - 1, d, dtype=dtype),
                 wc=W(d, 10), bc=torch.zeros(10, dtype=dtype), layers=[])
        for _ in range(P["layers"]):
            p["layers"].append(dict(
                wq=W(d, d), wk=W(d, d), wv=W(d, d), wl=W(d, d),
                # lambda about .88 to .99 at the start
                bl=torch.linspace(1.0, 4.0, d, dtype=dtype),
                wg1=W(d, r), wg2=W(r, d), wo=W(d, d),
                w1=W(d, 2 * d), w2=W(2 * d, d)))
        return p

    ps = [draw(runtime.generator(sd, tag)) for sd in seeds]

    def stack(xs):
        if isinstance(xs[0], dict):
            return {k: stack([x[k] for x in xs]) for k in xs[0]}
        if isinstance(xs[0], list):
            return [stack(list(t)) for t in zip(*xs, strict=True)]
        return torch.stack(xs).to(dev).requires_grad_(True)
    return stack(ps)


def leaves(p):
    if isinstance(p, dict):
        return [t for v in p.values() for t in leaves(v)]
    if isinstance(p, list):
        return [t for v in p for t in leaves(v)]
    return [p]


GEO = dict(phi=lrpe_angles(rows_id.float(), cols_id.float()),
           tpe=tpe_index(rows_id, cols_id))
gshuf = torch.Generator().manual_seed(17)  # one fixed shuffle
shuf = torch.randperm(L, generator=gshuf)
GEO_SHUF = dict(phi=lrpe_angles(rows_id[shuf].float(),
                                cols_id[shuf].float()),
                tpe=tpe_index(rows_id[shuf], cols_id[shuf]))

# %% [markdown]
# ## C1: the additive recurrence is a multiplicative one
#
# Random keys, values and queries in float64 (batch 3, 64 steps, 2 heads of 16 dims). The
# closed form divides the running sums by $\delta_t$; the multiplicative form runs
# $s_t = \lambda_t s_{t-1} + (1 - \lambda_t) v_t^\top$ (a state of $16 \times 16$ per head,
# flattened) through `rnnbook.scan.parallel_scan`. $\delta_t$ is kept in log space
# (`logcumsumexp`), as the fla implementation does [F]. The parallel form used for training
# is checked against the plain loop of the multiplicative recurrence in the same way.

# %%
g1 = torch.Generator().manual_seed(1)
qc, kc, vc = (torch.randn(3, L, H, DK, generator=g1, dtype=F64)
              for _ in range(3))
kc = 2 * kc  # keys of several units: weights far from uniform
logd = torch.logcumsumexp(kc, dim=1)  # log delta_t
lam = torch.exp(torch.cat([torch.full_like(logd[:, :1], -torch.inf),
                           logd[:, :-1]], 1) - logd)  # delta_{t-1}/delta_t
wgt = torch.exp(kc - logd)  # e^{k_t} / delta_t
closed = torch.einsum("blhk,blhv->blhkv", kc.exp(), vc).cumsum(1) \
    / logd.exp()[..., None]
a_s = lam[..., None].expand(-1, -1, -1, -1, DK)
b_s = torch.einsum("blhk,blhv->blhkv", wgt, vc)
flat = lambda t: t.movedim(1, -3).flatten(-2)  # noqa: E731 (b,h,L,k*v)
scanned = parallel_scan(flat(a_s), flat(b_s))
add_vs_scan = (scanned - flat(closed)).abs().max().item()
weight_id = (wgt - (1 - lam)).abs().max().item()

logl_c = MIN_LOG_DECAY * torch.sigmoid(
    torch.randn(3, L, H, DK, generator=g1, dtype=F64))
kk_c = -torch.expm1(logl_c)
par = decay_attention(qc, kk_c, vc, logl_c)
st = sequential_scan(
    flat(logl_c.exp()[..., None].expand(-1, -1, -1, -1, DK)),
    flat(torch.einsum("blhk,blhv->blhkv", kk_c, vc)))
st = st.unflatten(-1, (DK, DK))  # (b, h, L, k, v)
loop_o = torch.einsum("blhk,bhlkv->blhv", qc, st)
parallel_vs_loop = (par - loop_o).abs().max().item()
print(f"closed form vs scan: {add_vs_scan:.1e}; weight identity: "
      f"{weight_id:.1e}; parallel form vs loop: {parallel_vs_loop:.1e}")
report.measure("C1", add_vs_scan=add_vs_scan, weight_id=weight_id,
               parallel_vs_loop=parallel_vs_loop)

# %% [markdown]
# ## C2: one pass, any order
#
# A float64 model without positional encoding (one seed), on a batch of random images: the
# mixing layer on permuted tokens against the permuted output, and the pooled logits of the
# whole model. The same permutation applied to a one-scan multiplicative layer is reported.

# %%
p64 = init(11, seeds=[0], dtype=F64)
x64 = torch.rand(1, 5, L, generator=g1, dtype=F64).to(dev)
perm = torch.randperm(L, generator=g1).to(dev)
u64 = ln(x64[..., None] * p64["emb"][:, None, None, 0]
         + p64["emb"][:, None, None, 1])
with torch.no_grad():
    lay = p64["layers"][0]
    add_arm, m1_arm = dict(kind="add"), dict(kind="mult", scans=1)
    perm_tokens = (mix(u64[:, :, perm], lay, add_arm, GEO)
                   - mix(u64, lay, add_arm, GEO)[:, :, perm]).abs().max()
    nope = dict(kind="add", ape=False)
    perm_logits = (forward(p64, x64[:, :, perm], nope, GEO)
                   - forward(p64, x64, nope, GEO)).abs().max()
    perm_mult1 = (mix(u64[:, :, perm], lay, m1_arm, GEO)
                  - mix(u64, lay, m1_arm, GEO)[:, :, perm]).abs().max()
print(f"additive: tokens {perm_tokens:.1e}, logits {perm_logits:.1e}; "
      f"one multiplicative scan: {perm_mult1:.2f}")
report.measure("C2", perm_tokens=perm_tokens.item(),
               perm_logits=perm_logits.item(),
               perm_mult1=perm_mult1.item())

# %% [markdown]
# ## The data: 8×8 digits (a substitute)
#
# The 1,797 handwritten digits bundled with scikit-learn {footcite}`pedregosa2011sklearn`,
# scaled to $[0, 1]$, one token per pixel, split once (fixed) into
# {glue:text}`a17_ntrain` training and {glue:text}`a17_ntest` held-out images. This is a
# substitute for ImageNet-1k and the models are miniatures
# ({glue:text}`a17_layers` layers of width {glue:text}`a17_d`, {glue:text}`a17_steps` Adam
# steps of {glue:text}`a17_batch` images).

# %%
digits = load_digits()
X = torch.tensor(digits.images.reshape(-1, L) / 16.0, dtype=torch.float32)
Y = torch.tensor(digits.target)
split = torch.randperm(len(Y), generator=torch.Generator().manual_seed(0))
te, tr = split[:P["n_test"]], split[P["n_test"]:]
Xtr, Ytr = X[tr].to(dev), Y[tr].to(dev)
Xte, Yte = X[te].to(dev), Y[te].to(dev)
runtime.glue("a17_ntrain", f"{len(tr):,}")
runtime.glue("a17_ntest", f"{len(te):,}")
runtime.glue("a17_layers", str(P["layers"]))
runtime.glue("a17_d", str(P["d"]))
runtime.glue("a17_steps", str(P["steps"]))
runtime.glue("a17_batch", str(P["batch"]))

ARMS = {
    "add1": dict(kind="add"),
    "mult1": dict(kind="mult", scans=1),
    "mult2": dict(kind="mult", scans=2),
    "mult4": dict(kind="mult", scans=4),
    "add_both": dict(kind="add", tpe=True, lrpe=True),
    "add_shuf": dict(kind="add", tpe=True, lrpe=True, shuffled=True),
    "add_nope": dict(kind="add", ape=False),
}


def train(arm):
    geo = GEO_SHUF if arm.get("shuffled") else GEO
    p = init(3)
    opt = torch.optim.Adam(leaves(p), lr=P["lr"])
    gens = [runtime.generator(sd, 4) for sd in ctx.seeds]
    curve = []
    for _ in range(P["steps"]):
        idx = torch.stack([torch.randint(len(tr), (P["batch"],),
                                         generator=g)
                           for g in gens]).to(dev)
        logits = forward(p, Xtr[idx], arm, geo)
        loss = F.cross_entropy(logits.flatten(0, 1), Ytr[idx].flatten())
        opt.zero_grad()
        (S * loss).backward()
        opt.step()
        curve.append(loss.item())
    with torch.no_grad():
        xs = Xte.expand(S, -1, -1)
        acc = (forward(p, xs, arm, geo).argmax(-1) == Yte).float().mean(-1)
    return acc.cpu().numpy(), np.array(curve)


acc, curves, secs = {}, {}, {}
for name, arm in ARMS.items():
    t0 = time.process_time()
    acc[name], curves[name] = train(arm)
    secs[name] = time.process_time() - t0
    print(f"{name:9s} held-out accuracy {acc[name].round(3)} "
          f"({secs[name]:.1f} s CPU)")

# %% [markdown]
# ## C3: one additive pass against 1, 2 and 4 multiplicative scans

# %%
gap = {n: acc[n] - acc["mult4"] for n in ("add1", "mult1", "mult2")}
report.measure("C3", gap_add1=gap["add1"].tolist(),
               gap_mult1=gap["mult1"].tolist(),
               gap_mult2=gap["mult2"].tolist(),
               acc_add1=acc["add1"].tolist(),
               acc_mult4=acc["mult4"].tolist())
print(report.verdicts())
fig, ax = plt.subplots(figsize=(6, 3.2))
names = ["add1", "mult1", "mult2", "mult4"]
labels = ["additive\n1 pass", "mult.\n1 scan", "mult.\n2 scans",
          "mult.\n4 scans"]
for i, n in enumerate(names):
    ax.scatter(np.full(S, i), 100 * acc[n], color=f"C{i}", zorder=3)
    ax.hlines(100 * acc[n].mean(), i - 0.25, i + 0.25, color=f"C{i}")
ax.set_xticks(range(len(names)), labels)
ax.set(ylabel="held-out accuracy (%)", title="8×8 digits (substitute)")
plt.show()
for n in ("add1", "mult1", "mult2", "mult4"):
    runtime.glue(f"a17_acc_{n}", f"{100 * acc[n].mean():.1f}")
for n in ("add1", "mult1", "mult2"):
    runtime.glue(f"a17_gap_{n}", f"{100 * gap[n].mean():+.1f}")
for n in ("mult1", "mult4"):
    runtime.glue(f"a17_seeds_{n}",
                 ", ".join(f"{100 * a:.1f}" for a in acc[n]))

# %% [markdown]
# Held-out accuracy (mean over seeds): additive one pass {glue:text}`a17_acc_add1` %,
# multiplicative with 1, 2 and 4 scans {glue:text}`a17_acc_mult1` %,
# {glue:text}`a17_acc_mult2` % and {glue:text}`a17_acc_mult4` %. Differences to the 4-scan
# model, in points: additive {glue:text}`a17_gap_add1`, one scan {glue:text}`a17_gap_mult1`,
# two scans {glue:text}`a17_gap_mult2`. The verdict above applies the rule declared before the
# run; the control decides whether this task can tell one scan from four at all. It can only
# just. Per seed, the single scan reached {glue:text}`a17_seeds_mult1` % and four scans
# {glue:text}`a17_seeds_mult4` %, so the mean gap rests on the spread between seeds; and in
# the variation table below, on one of the two other seed sets (4, 5) the single scan came
# within 2 points of four scans and the verdict there is "inconclusive", while the additive
# model stayed about 3 points *above* the 4-scan model on all three seed sets. With two
# seeds, {glue:text}`a17_ntest` test images and {glue:text}`a17_steps` steps, the miniature measures how
# well each model does after a short training as much as what it could reach; a difference
# of a few points between the multiplicative models is at the level of seed-to-seed
# variation. What is robust here is the first half of the claim: one additive pass is not
# worse than four multiplicative scans.
#
# ## C4: time
#
# One token-mixing layer (the first layer of a freshly drawn model, one seed) on a batch of
# {glue:text}`a17_tbatch` images, forward and backward, for the additive layer, the 1-scan and
# the 4-scan multiplicative layers and a second copy of the 4-scan layer; then the forward
# and backward pass of the whole additive and 4-scan models on a batch of digits. All are timed in interleaved rounds after a
# warm-up round, {glue:text}`a17_reps` rounds; we report the median and the range.

# %%
def timed(fn):
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


pt = init(5, seeds=ctx.seeds[:1])
lay_t = pt["layers"][0]
gt = runtime.generator(ctx.seeds[0], 6, dev)
ut = torch.randn(1, P["time_batch"], L, P["d"], generator=gt, device=dev)
xt = Xtr[:P["time_batch"]][None]
yt = Ytr[:P["time_batch"]]


def layer_step(arm):
    u = ut.clone().requires_grad_(True)
    mix(u, lay_t, arm, GEO).square().mean().backward()


def model_step(arm):
    F.cross_entropy(forward(pt, xt, arm, GEO)[0], yt).backward()


jobs = {
    "add1": lambda: layer_step(ARMS["add1"]),
    "mult1": lambda: layer_step(ARMS["mult1"]),
    "mult4": lambda: layer_step(ARMS["mult4"]),
    "mult4_copy": lambda: layer_step(dict(ARMS["mult4"])),
    "model_add1": lambda: model_step(ARMS["add1"]),
    "model_mult4": lambda: model_step(ARMS["mult4"]),
}
times = {k: [] for k in jobs}
for rep in range(P["time_reps"] + 1):
    for k, fn in jobs.items():
        t = timed(fn)
        if rep > 0:  # round 0 is the warm-up
            times[k].append(t)
med = {k: float(np.median(v)) for k, v in times.items()}
for k, v in times.items():
    print(f"{k:12s} median {1e3 * med[k]:7.2f} ms "
          f"[{1e3 * min(v):.2f}, {1e3 * max(v):.2f}]")
t_ratio = med["add1"] / med["mult4"]
report.measure(
    "C4", t_ratio=t_ratio, t_ratio_aa=med["mult4_copy"] / med["mult4"],
    t_ratio_mult1=med["mult1"] / med["mult4"],
    t_ratio_model=med["model_add1"] / med["model_mult4"])
print(report.verdicts())
runtime.glue("a17_tbatch", str(P["time_batch"]))
runtime.glue("a17_reps", str(P["time_reps"]))
runtime.glue("a17_tr", f"{t_ratio:.2f}")
runtime.glue("a17_tr1", f"{med['mult1'] / med['mult4']:.2f}")
runtime.glue("a17_trm", f"{med['model_add1'] / med['model_mult4']:.2f}")
runtime.glue("a17_tra", f"{med['mult4_copy'] / med['mult4']:.2f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
ks = list(jobs)
ax.boxplot([1e3 * np.array(times[k]) for k in ks], showfliers=True)
ax.set_xticks(range(1, len(ks) + 1),
              ["add.\nlayer", "mult. 1\nlayer", "mult. 4\nlayer",
               "mult. 4\ncopy", "add.\nmodel", "mult. 4\nmodel"])
ax.set(ylabel="ms per forward + backward", yscale="log",
       title=ctx.device_name)
plt.show()

# %% [markdown]
# The additive layer takes {glue:text}`a17_tr`× the time of the 4-scan layer (median), the
# 1-scan layer {glue:text}`a17_tr1`×, and the A/A copy {glue:text}`a17_tra`×. For whole
# training steps the ratio is {glue:text}`a17_trm`×: projections, gates and the MLP are shared
# by both models and dilute the saving. Two effects add up in the layer ratio: the number of
# scans (four against one; batched together, four scans cost less than four times one, as the
# 1-scan ratio shows) and the form of one pass (the additive sum costs $O(L\,d_k d_v)$, a
# decayed causal pass in our parallel form $O(L^2 d_k)$, so one additive pass is also cheaper
# than one multiplicative pass). Read as the paper's argument, "one scan instead of several",
# the saving is real on this CPU; part of it comes from the cheaper form of the pass, which
# is also the paper's point (no decay to carry through the scan). This is a CPU
# measurement at 1 thread; the paper's throughput numbers are from GPUs with fused kernels.
#
# ## C5: the multi-dimensional positional encodings
#
# **MD-LRPE** [R]: the (SiLU) queries and the softmax-normalised keys are rotated, pair of key
# dimensions by pair, by angles $r\,\theta_m$ (half of the pairs, $r$ the row) and
# $c\,\theta_m$ (the other half, $c$ the column), $\theta_m = 10^{-m/M}$. Then
# $q_i^\top R_i^\top R_j \tilde k_j$ depends on the offset between the two pixels only, and
# the sum $\sum_j R_j \tilde k_j v_j^\top$ is still one pass. **MD-TPE** [R]: before the first
# layer, each token adds a learned Toeplitz mixing of its column (weights per row offset and
# channel) and of its row (per column offset), i.e. a relative-position convolution along each
# axis, initialised at zero. Both are on top of the learned 2-D absolute embedding (a row and a
# column vector) that every model of this chapter has. The control feeds both encodings one
# fixed random shuffle of the 64 coordinates.

# %%
base = acc["add1"]
gains = {n: acc[n] - base for n in ("add_both", "add_shuf", "add_nope")}
report.measure("C5", gain_both=gains["add_both"].tolist(),
               gain_shuffled=gains["add_shuf"].tolist(),
               gain_nope=gains["add_nope"].tolist())
print(report.verdicts())
for n, gv in gains.items():
    runtime.glue(f"a17_g_{n}", f"{100 * gv.mean():+.1f}")
    runtime.glue(f"a17_acc_{n}", f"{100 * acc[n].mean():.1f}")

fig, ax = plt.subplots(figsize=(6.5, 3.2))
order = ["add_nope", "add1", "add_both", "add_shuf"]
labels = ["none", "2-D emb.", "+TPE +LRPE", "+both,\nshuffled"]
for i, n in enumerate(order):
    ax.scatter(np.full(S, i), 100 * acc[n], color=f"C{i}", zorder=3)
    ax.hlines(100 * acc[n].mean(), i - 0.25, i + 0.25, color=f"C{i}")
ax.set_xticks(range(len(order)), labels)
ax.set(ylabel="held-out accuracy (%)", title="additive model, positions")
plt.show()

# %% [markdown]
# Held-out accuracy of the additive model: no positional information
# {glue:text}`a17_acc_add_nope` % (a bag of pixel intensities: by C2 the model cannot know
# where a pixel is), learned 2-D embedding {glue:text}`a17_acc_add1` %, with MD-TPE and
# MD-LRPE {glue:text}`a17_acc_add_both` % ({glue:text}`a17_g_add_both` points), both on
# shuffled coordinates {glue:text}`a17_acc_add_shuf` % ({glue:text}`a17_g_add_shuf`). The
# two encodings are not run one at a time in ci (budget).
#
# The encodings help on every seed set of the variation table (by 4 to 8 points), but on the
# two other seed sets the shuffled control gained about 3 and 4 points as well, so there the
# verdict is "inconclusive": part of what the encodings add at this scale is extra capacity
# (a Toeplitz mixing before the first layer, rotations of $q$ and $k$) or faster training,
# which does not need the true 2-D geometry. "They help" holds here; "they help because they
# encode multi-dimensional position" is only supported on the default seeds.
#
# ## Versus the authors' code
#
# The paper names `OpenNLPLab/LightNet`; no snapshot of it could be fetched in this session,
# so the table compares with the paper's equations and with the LightNet layer of
# flash-linear-attention (`fla/layers/lightnet.py` and its gate kernel, commit `04506e1`),
# which is not the authors' code. Nothing was copied.
#
# | | paper / fla [F] | this chapter |
# |---|---|---|
# | recurrence | $\delta_t s_t = \delta_{t-1}s_{t-1} + e^{k_t}v_t^\top$; in fla a gated linear attention with $k \leftarrow e^{k_t - z_t}$, $\log\lambda_t = z_{t-1} - z_t$, $z = $ `logcumsumexp`$(k)$, float32 [F] | the same identity (C1), checked against `rnnbook.scan` in float64 |
# | non-causal form | softmax over positions of $k$, one sum (paper; fla has the causal form only) | the same |
# | query | SiLU$(q)$ [F] | the same |
# | output | RMS norm × low-rank gate (SiLU-gated, fused) then out-projection [F] | layer norm × low-rank sigmoid gate, out-projection |
# | heads | key dim per head 128 (`expand_ratio`) [F] | 2 heads of 16 |
# | positions | MD-TPE, MD-LRPE (paper) | reconstructed versions (C5) [R] |
# | multiplicative baseline | multi-scan linear-recurrence models (paper's tables) | HGRN2-type decay, 1, 2 or 4 scan orders, same blocks |
# | kernels | chunked Triton kernels (GLA) [F] | plain PyTorch; masked parallel form for $L = 64$ |
# | task | ImageNet-1k, generation, language modelling | 8×8 digits (substitute), miniature |

# %% [markdown]
# ## Checks that do not depend on the run
#
# A fixed small problem: the additive non-causal state is the softmax-weighted sum of the
# values, the parallel form equals the loop on one tiny sequence, and the shapes and counts
# of the data.

# %%
gf = torch.Generator().manual_seed(0)
kf, vf = (torch.randn(7, 3, generator=gf, dtype=F64) for _ in range(2))
s_sum = torch.softmax(kf, 0).T @ vf
ld = torch.logcumsumexp(kf, 0)
lam_f = torch.exp(torch.cat([torch.full((1, 3), -torch.inf, dtype=F64),
                             ld[:-1]]) - ld)
s_rec = torch.zeros(3, 3, dtype=F64)
for t in range(7):
    s_rec = lam_f[t][:, None] * s_rec \
        + (1 - lam_f[t])[:, None] * vf[t][None, :]

# %% tags=["nbval-check-output"]
print("last additive state = softmax-weighted sum:",
      bool(torch.allclose(s_rec, s_sum, atol=1e-12)))
print("C1/C2 below 1e-10:", max(add_vs_scan, parallel_vs_loop,
                                 perm_tokens.item()) < 1e-10)
print("images:", tuple(digits.images.shape), "train/test:",
      len(tr), len(te))
print("constants:", dict(MIN_LOG_DECAY=MIN_LOG_DECAY, MARGIN=MARGIN,
                         GAIN=GAIN, FRACTION=FRACTION))

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
# changes beside the declared `tol` and every verdict seen. Time ratios change from run to run
# on a shared machine; their `tol` is wide and the verdicts are read with that in mind.

# %%
report.tolerances("../../data/a17_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Data (a substitute) and scale (a miniature).** 8×8 digits instead of ImageNet-1k; models
#   of width {glue:text}`a17_d` and {glue:text}`a17_layers` layers trained for
#   {glue:text}`a17_steps` steps, instead of LightNet's image models; no image generation and
#   no language modelling. We quote none of the paper's ImageNet numbers: they were not in our
#   notes and could not be checked here.
# - **Baselines.** The paper compares with published multi-scan models (e.g. Vim, VMamba and
#   linear-attention models); we build the multiplicative baseline ourselves from the same
#   blocks as the additive model, so that the recurrence and the number of scans are the only
#   differences.
# - **Positional encodings reconstructed [R].** MD-TPE as a learned Toeplitz mixing per axis
#   (the paper generates Toeplitz coefficients with a small network of the relative position),
#   MD-LRPE as 2-D rotations with fixed angles; the paper's exact parametrisation may differ.
# - **Decay bound [R].** $\log\lambda > -\tfrac12$ keeps the parallel form finite over 64 tokens; a
#   chunked form (as in fla) would lift it.
# - **Time.** CPU, one thread, plain PyTorch; the paper's efficiency figures are GPU
#   throughput with fused kernels. The full profile runs the same code on a GPU.
# - **Rules before results.** All rules and controls were written before the chapter's seeds
#   were run. Pilots on other seeds (100, 101) changed sizes and modelling details, no rule:
#   the first (2 layers, 250 steps) was over the ci budget; in the second one multiplicative
#   model diverged with a hard clamp on $\log\lambda$ at $-1$, which we replaced by the smooth
#   bound above; at 150 steps every model with only the absolute embedding learned slowly
#   until we drew that embedding at the scale of the pixel embedding (it was 0.2) and raised
#   the learning rate from 0.003 to 0.01 (tried on the additive, 1-scan and 4-scan models).
#   The individual MD-TPE and MD-LRPE arms were dropped from ci for time.
#
# ## References
#
# ```{footbibliography}
# ```
