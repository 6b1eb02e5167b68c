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
# # A12 · Deconstructing recurrence, attention and gating
#
# Heidenreich, Vlachas and Koumoutsakos {footcite}`heidenreich2024deconstructing` take the
# parts that make modern sequence models strong (the *gates* and the *recurrence* of RNNs,
# the *attention* of transformers) and treat each as a hyper-parameter of a forecaster
# $\hat x_{t+1} = x_t + f(\cdot)$ of a dynamical system. They add attention over a window of
# past hidden states to LSTMs, GRUs {footcite}`cho2014gru` and Recurrent Highway Networks
# (RHN) {footcite}`zilly2017rhn`, replace residual additions by learned "neural gates", add
# a recurrent state to transformers {footcite}`vaswani2017attention`, and measure how long
# each forecast of the chaotic multiscale Lorenz-96 system and the Kuramoto–Sivashinsky
# equation stays valid. The abstract reports three findings: gating and attention improve
# the standard RNNs on most tasks, recurrence added to transformers is detrimental, and
# an RHN with gating and attention is the best model for high-dimensional spatio-temporal
# chaos.
#
# We test the three findings on a **miniature**: single-scale Lorenz-96 with 10 sites
# {footcite}`lorenz1996predictability` (the paper uses the two-scale system and
# Kuramoto–Sivashinsky), integrated with RK4 in the chapter, with the largest Lyapunov
# exponent estimated here by the tangent (Benettin) method {footcite}`benettin1980lyapunov`
# so that the valid prediction time (VPT) can be read in Lyapunov times, as in the group's
# earlier benchmark {footcite}`vlachas2020backprop`. Persistence ($\hat x_{t+1} = x_t$) is
# the floor every learned model must clear. Where we had to choose without the paper's code
# we mark it [R] (reconstructed).

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) the chapter's numerics: the tangent map is the derivative of the
#   RK4 flow (so $\lambda_{\max}$ is estimated from the right linearisation), and each
#   forecaster's step-by-step form (used for forecasts) is the same function as its
#   parallel, teacher-forced form (used for training).
# - **C2** every learned model beats persistence (valid prediction time and one-step error).
# - **C3** "neural gating and attention improve" the GRU's valid prediction time.
# - **C4** "the addition of a notion of recurrence in transformers is detrimental".
# - **C5** the RHN with gating and attention "emerges as the best performing architecture".
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
from rnnbook.train import clip_per_model

ctx = runtime.setup(
    "a12", default_seeds={"ci": [0, 1, 2], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(n_traj=16, n_samples=500, n_test=50, lyap_ics=16,
            lyap_renorm=400, h=32, h_wide=48, d=32, steps=500, batch=16,
            seq=12, lr=2e-2),
    full=dict(n_traj=64, n_samples=2000, n_test=500, lyap_ics=64,
              lyap_renorm=2000, h=64, h_wide=96, d=64, steps=2000,
              batch=64, seq=16, lr=3e-3),
)  # fmt: skip
# Constants (not sizes).
N, FORCE = 10, 8.0  # Lorenz-96 sites and forcing
DT, SUB = 0.01, 5  # RK4 step; one sample every SUB steps (0.05)
SPIN = 1000  # RK4 steps discarded to land on the attractor
EPS = 0.5  # VPT threshold on the normalised RMSE [R]
WARM, HOR = 16, 100  # forecast warm-up and horizon (samples)
BURN = 4  # first steps of a training window without loss
K = 8  # attention window (past hidden states / past states)
NH = 2  # attention heads
GATE_BIAS = 0.0  # output-gate bias at init (-2 tried, see the end) [R]
MARGIN = 0.1  # C3, C4: a difference of at least 0.1 Lyapunov times
VPT_MIN, NRMSE1_MAX = 0.5, 0.1  # C2 (research notes)
S = len(ctx.seeds)
F64 = torch.float64

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs. VPT is the time until
# the forecast's normalised root-mean-square error (over the 10 sites, in units of the
# training data's standard deviation) first exceeds $\varepsilon = 0.5$, in Lyapunov times
# $1/\lambda_{\max}$; per model and seed we take the **median over the test initial
# conditions** (the statistic the paper's VPT tables summarise), then judge over seeds as
# each check says.
#
# - **C1** (construction). The tangent step agrees with a central finite difference of the
#   RK4 step in `float64` to $10^{-6}$ (relative), and for every model family the
#   step-by-step forecaster, fed the true states, gives the teacher-forced predictions to
#   $10^{-4}$ (`float32`). $\lambda_{\max}$ is reported beside.
# - **C2.** The issue's sanity claim, with the research notes' thresholds: every trained
#   model (all eight below) has a median VPT of at least 0.5 Lyapunov times on every seed,
#   and a one-step NRMSE below 0.1 on every seed. Controls: persistence and the GRU at its
#   initialisation (untrained) must fail.
# - **C3.** "Gating and attention improve the RNNs": the median VPT of the GRU with
#   attention and input-dependent gating exceeds the plain GRU's by at least 0.1 Lyapunov
#   times (about two sampling steps; mean over seeds). Control: a wider plain GRU with about
#   as many parameters as the GRU with attention and gating must *fail* the same rule;
#   otherwise the gain may be size, not mechanism, and the claim is inconclusive. The same
#   gain for the RHN is reported.
# - **C4.** "Recurrence in transformers is detrimental": the median VPT of the transformer
#   with a recurrent memory is at least 0.1 Lyapunov times *below* the transformer's (mean
#   over seeds). Control: the same recurrent transformer whose memory receives no input (the
#   extra token and parameters, no recurrence) must fail the same rule; otherwise the loss is
#   not due to recurrence.
# - **C5.** "RHN + attention + gating is best": its median VPT minus the best of the other
#   four main models (GRU, GRU + attention + gating, transformer, transformer + recurrence)
#   is at least 0 (mean over seeds). Control: the plain RHN, against the same four, must fail;
#   otherwise the ranking is the RHN's and not the combination's.
#
# The notes' pre-registered thresholds (C2) and the notes' model list were fixed before any
# code ran; the margin of C3 and C4 and the three controls were fixed after a first
# prototype, before the chapter itself ran; sizes were changed after that (see
# "Differences from the paper").

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Recurrence, attention and gating")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "The tangent map is the RK4 flow's derivative; each step-by-step forecaster "
    "equals its teacher-forced form.", kind="construction",
    paper="λ_max and VPT as in Vlachas et al. (2020); no number checked here",
    checks=[
        ev("tangent_vs_fd", "<=", 1e-6, "max relative |tangent step − central "
           "difference of the RK4 step|, float64", tol=1e-7),
        ev("stream_vs_parallel", "<=", 1e-4, "max |step-by-step − teacher-forced "
           "prediction| over the three families, float32", tol=1e-4),
        ctx_("lambda_max", "λ_max of L96 (N = 10, F = 8), tangent method", tol=0.05),
    ])
report.claim(
    "C2", "Every learned model beats persistence.", kind="empirical",
    paper="no persistence baseline in the paper (the issue's sanity claim)",
    checks=[
        ev("vpt_worst", ">=", VPT_MIN, "lowest median VPT of the eight trained models "
           "(Lyapunov times), per seed", over="min", tol=0.15),
        ev("nrmse1_worst", "<=", NRMSE1_MAX, "highest mean one-step NRMSE of the "
           "eight trained models, per seed", over="max", tol=0.01),
        ctl("vpt_persist", "vpt_worst", "persistence x̂_{t+1} = x_t", over="min",
            tol=0.01),
        ctl("nrmse1_persist", "nrmse1_worst", "persistence", over="max",
            tol=0.001),
        ctl("vpt_untrained", "vpt_worst", "GRU at initialisation", over="min",
            tol=0.1),
    ])
report.claim(
    "C3", "Attention and input-dependent gating raise the GRU's valid prediction "
    "time.", kind="empirical",
    paper="gating and attention improve all standard RNNs on most tasks (no number "
    "checked here)",
    checks=[
        ev("gain_gru", ">=", MARGIN, "median VPT(GRU + attn + gate) − median "
           "VPT(GRU), Lyapunov times", tol=0.15),
        ctl("gain_wide", "gain_gru", "median VPT(wider GRU, matched parameters) − "
            "median VPT(GRU)", tol=0.15),
        ctx_("gain_rhn", "median VPT(RHN + attn + gate) − median VPT(RHN)",
             tol=0.15),
    ])
report.claim(
    "C4", "Recurrence added to a transformer lowers its valid prediction time.",
    kind="empirical",
    paper="the addition of recurrence in transformers is detrimental (no number "
    "checked here)",
    checks=[
        ev("loss_rec", ">=", MARGIN, "median VPT(transformer) − median "
           "VPT(transformer + recurrent memory)", tol=0.15),
        ctl("loss_rec_noinput", "loss_rec", "the same with a memory that receives "
            "no input", tol=0.15),
    ])
report.claim(
    "C5", "RHN + attention + gating ranks at the top.", kind="empirical",
    paper="best performing architecture on high-dimensional spatio-temporal "
    "forecasting (multiscale L96, KS)",
    checks=[
        ev("lead_rhn_ag", ">=", 0.0, "median VPT(RHN + attn + gate) − best of the "
           "other four", tol=0.15),
        ctl("lead_rhn", "lead_rhn_ag", "median VPT(plain RHN) − best of the same "
            "four", tol=0.15),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Lorenz-96, RK4 and the largest Lyapunov exponent
#
# Lorenz-96 with $N$ = 10 sites on a ring and forcing $F$ = 8:
#
# $$\dot x_i = (x_{i+1} - x_{i-2})\, x_{i-1} - x_i + F,\qquad i = 1,\dots,N
# \ (\text{indices mod } N).$$
#
# We integrate it with classical RK4 at $\delta t$ = 0.01 and keep every fifth state
# ($\Delta t$ = 0.05), after discarding 10 time units from random starts near $x_i = F$.
# Training data: {glue:text}`a12_n_traj` trajectories of {glue:text}`a12_n_samples`
# samples; test: {glue:text}`a12_n_test` independent trajectories, each a warm-up of 16
# samples and a 100-sample horizon, drawn from their own random stream.
#
# **$\lambda_{\max}$ (Benettin's method).** A tangent vector $v$ follows the variational
# equation $\dot v = J(x)\, v$,
# $\dot v_i = (v_{i+1} - v_{i-2})\, x_{i-1} + (x_{i+1} - x_{i-2})\, v_{i-1} - v_i$, advanced by
# the same RK4 stages as $x$; it is renormalised every $\Delta t$ and
# $\lambda_{\max} = \frac{1}{T}\sum \log\lVert v\rVert$, averaged over
# {glue:text}`a12_lyap_ics` starts of {glue:text}`a12_lyap_T` time units each. C1 checks the
# tangent step against a finite difference of the RK4 step itself.

# %%
def l96(x):
    """Lorenz-96 vector field, x (..., N)."""
    return (x.roll(-1, -1) - x.roll(2, -1)) * x.roll(1, -1) - x + FORCE


def l96_tangent(x, v):
    """J(x) v for the Lorenz-96 field."""
    return ((v.roll(-1, -1) - v.roll(2, -1)) * x.roll(1, -1)
            + (x.roll(-1, -1) - x.roll(2, -1)) * v.roll(1, -1) - v)


def rk4(x, v=None):
    """One RK4 step of x (and of a tangent vector v along it)."""
    ks, ls = [l96(x)], [] if v is None else [l96_tangent(x, v)]
    for c in (0.5, 0.5, 1.0):
        xs = x + DT * c * ks[-1]
        if v is not None:
            ls.append(l96_tangent(xs, v + DT * c * ls[-1]))
        ks.append(l96(xs))
    x1 = x + DT / 6 * (ks[0] + 2 * ks[1] + 2 * ks[2] + ks[3])
    if v is None:
        return x1
    return x1, v + DT / 6 * (ls[0] + 2 * ls[1] + 2 * ls[2] + ls[3])


def starts(n, gen):
    x = FORCE + torch.randn(n, N, generator=gen, dtype=F64)
    for _ in range(SPIN):
        x = rk4(x)
    return x


def trajectories(n, n_samples, gen):
    x, out = starts(n, gen), []
    for _ in range(n_samples):
        out.append(x)
        for _ in range(SUB):
            x = rk4(x)
    return torch.stack(out, 1)  # (n, n_samples, N)


def lyapunov(n, renorm, gen):
    x = starts(n, gen)
    v = torch.randn(n, N, generator=gen, dtype=F64)
    v = v / v.norm(dim=-1, keepdim=True)
    logs = torch.zeros(n, dtype=F64)
    for _ in range(renorm):
        for _ in range(SUB):
            x, v = rk4(x, v)
        nv = v.norm(dim=-1)
        logs += nv.log()
        v = v / nv[:, None]
    return logs / (renorm * SUB * DT)


t0 = time.process_time()
# the data do not depend on the model seeds: one fixed stream per role
train_raw = trajectories(P["n_traj"], P["n_samples"],
                         runtime.generator(0, 1201))
test_raw = trajectories(P["n_test"], WARM + HOR,
                        runtime.generator(0, 1202))
lam_ics = lyapunov(P["lyap_ics"], P["lyap_renorm"],
                   runtime.generator(0, 1203))
LAM = float(lam_ics.mean())
MU, SIG = float(train_raw.mean()), float(train_raw.std())
t_data = time.process_time() - t0

# C1a: tangent step vs central difference of the RK4 step
gfd = runtime.generator(0, 1204)
xf = starts(8, gfd)
vf = torch.randn(8, N, generator=gfd, dtype=F64)
h_fd = 1e-5
fd = (rk4(xf + h_fd * vf) - rk4(xf - h_fd * vf)) / (2 * h_fd)
tan = rk4(xf, vf)[1]
tangent_vs_fd = float((tan - fd).abs().max() / tan.abs().max())

print(f"lambda_max = {LAM:.3f} ± {float(lam_ics.std()):.3f} (sd over "
      f"{P['lyap_ics']} starts); data + Lyapunov {t_data:.1f} s CPU")
print(f"train {tuple(train_raw.shape)}, test {tuple(test_raw.shape)}, "
      f"mean {MU:.2f}, sd {SIG:.2f}; tangent vs FD {tangent_vs_fd:.1e}")
runtime.glue("a12_lambda", f"{LAM:.2f}")
runtime.glue("a12_lambda_sd", f"{float(lam_ics.std()):.2f}")
runtime.glue("a12_lyap_T", f"{P['lyap_renorm'] * SUB * DT:.0f}")
runtime.glue("a12_steps_per_lt", f"{1 / (LAM * SUB * DT):.1f}")
for k in ("n_traj", "n_samples", "n_test", "lyap_ics", "steps", "h", "d",
          "batch", "seq", "lr"):
    runtime.glue(f"a12_{k}", P[k])

# %%
fig, ax = plt.subplots(figsize=(7, 2.4))
tt = np.arange(HOR + WARM) * SUB * DT * LAM
im = ax.pcolormesh(tt, np.arange(N), test_raw[0].T.numpy(), shading="auto",
                   cmap="RdBu_r")
ax.set(xlabel="time (Lyapunov times)", ylabel="site i",
       title=f"Lorenz-96, N = {N}, F = {FORCE:g} (one test trajectory)")
fig.colorbar(im, ax=ax, label="$x_i$")
plt.show()

# %% [markdown]
# Our estimate is $\lambda_{\max}$ = {glue:text}`a12_lambda` (standard deviation over starts
# {glue:text}`a12_lambda_sd`), so one Lyapunov time is about {glue:text}`a12_steps_per_lt`
# samples. We quote no literature value for $N$ = 10: the value usually cited
# (about 1.7) is for $N$ = 40, and we could not check one for ten sites.
#
# ## The forecasters
#
# Every model maps the normalised states $u_t = (x_t - \mu)/\sigma$ to a prediction of
# $u_{t+1}$; all are trained with teacher forcing on windows of {glue:text}`a12_seq` steps
# (one-step MSE, the first 4 steps of a window without loss) and forecast autoregressively
# after a warm-up of 16 true states.
#
# - **Output.** Additive: $\hat u_{t+1} = u_t + F$ with $F = W_r z_t + b_r$ read from the
#   model's feature $z_t$. *Input-dependent neural gating* replaces the addition:
#   $g = \sigma(W_g[u_t; F] + b_g)$, $\hat u_{t+1} = g \odot F + (1 - g)\odot u_t$ (the
#   gating of the paper as given in our notes; applied at the output only, $b_g = 0$ at
#   initialisation [R]).
# - **GRU** (hidden {glue:text}`a12_h`), a **wider GRU** (hidden 48 in ci, the control of C3,
#   about as many parameters as the GRU with attention and gating).
# - **RHN** with two micro-steps per time step and coupled carry gate $c = 1 - t$:
#   $s^{(l)} = h^{(l)} \odot t^{(l)} + s^{(l-1)} \odot (1 - t^{(l)})$,
#   $h^{(l)} = \tanh(W_H u_t \mathbb 1_{l=1} + R_H^{(l)} s^{(l-1)} + b_H^{(l)})$, and $t^{(l)}$
#   likewise with a sigmoid.
# - **Attention over past hidden states** [R]: two heads attend from $s_t$ over
#   $s_{t-7}, \dots, s_t$ with a learned bias per head and lag (a relative positional
#   bias); $z_t = s_t + W_o\,\mathrm{attn}$. The attention reads the hidden states; it does not
#   feed back into the recurrence.
# - **Transformer** (width {glue:text}`a12_d`, one pre-norm layer, two heads, MLP 2×): each
#   position attends over the last 8 states with the same relative bias, additive output.
# - **Transformer + recurrence** [R]: a GRU memory $c$ (width {glue:text}`a12_d`) reads each
#   state as it *leaves* the window, and the query attends to the 8 states plus one memory
#   token $c_{t-8}$ (own key and value projections and bias). Its control feeds the memory
#   zeros: same token, same parameters, no recurrence.
#
# Within a family (the two GRUs of width {glue:text}`a12_h`, the wide GRU, the two RHNs,
# the three transformers) all arms and all seeds are one stacked computation: parameters
# carry a leading model axis of arms × seeds, and an arm without attention, gate or memory
# has it switched off by a 0/1 flag, so its unused parameters receive no gradient. All
# models see the same batches per seed.

# %%
train_u = ((train_raw - MU) / SIG).float().to(dev)
test_u = ((test_raw - MU) / SIG).float().to(dev)
SEEDS = ctx.seeds


def mm(x, w):
    """Per-model product: x (M, ..., i) @ w (M, i, o); w (M, o) adds."""
    lead = [1] * (x.dim() - (2 if w.dim() == 2 else 3))
    return (x + w.view(w.shape[0], *lead, -1) if w.dim() == 2
            else x @ w.view(w.shape[0], *lead, *w.shape[1:]))


def ln(x):
    return F.layer_norm(x, x.shape[-1:])


def init(shapes, arms, tag):
    """Parameters (arms x seeds, ...): U(-1/sqrt(fan_in), ...) weights,
    zero biases, one random stream per (seed, family, arm)."""
    out = {k: [] for k in shapes}
    for a in range(len(arms)):
        for seed in SEEDS:
            g = runtime.generator(seed, 100 * tag + a)
            for k, shp in shapes.items():
                w = (torch.zeros(shp) if isinstance(shp, int) else
                     (2 * torch.rand(shp, generator=g) - 1) / shp[0] ** .5)
                out[k].append(w)
    out["bg"] = [b + GATE_BIAS for b in out["bg"]]
    return {k: torch.stack(v).to(dev).requires_grad_()
            for k, v in out.items()}


def flags(arms, key):
    """Per-model 0/1 flag (M,) from the arms' settings."""
    return torch.tensor([float(a[key]) for a in arms for _ in SEEDS],
                        device=dev)


def fv(f, like):
    return f.view(-1, *[1] * (like.dim() - 1))


def output(p, fl, u, z):
    """Additive or gated output, per model."""
    f = mm(mm(z, p["wr"]), p["br"])
    g = torch.sigmoid(mm(mm(torch.cat([u, f], -1), p["wg"]), p["bg"]))
    gate = fv(fl["gate"], f)
    return gate * (g * f + (1 - g) * u) + (1 - gate) * (u + f)


def lag_bias(p, lag, ok):
    """Relative bias (M, NH, Lq, Lk) with -inf outside the window."""
    b = p["rel"][:, :, lag.clamp(0, K - 1)]
    return b.masked_fill(~ok, float("-inf"))


def heads(x):
    return x.unflatten(-1, (NH, -1)).transpose(-2, -3)


def window_mask(n):
    i = torch.arange(n, device=dev)
    lag = i[:, None] - i[None, :]
    return lag, (lag >= 0) & (lag < K)

# %% [markdown]
# The recurrent families (GRU and RHN cells, attention read-out, output) and their
# two forms: `rnn_seq` runs a window with teacher forcing, `rnn_forecast` steps one state
# at a time (its `teacher` argument feeds true states instead of its own predictions; C1).

# %%
def rnn_shapes(cell, h):
    sh = (dict(wx=(N, 3 * h), wh=(h, 3 * h), bx=3 * h) if cell == "gru"
          else dict(wx=(N, 2 * h), r1=(h, 2 * h), r2=(h, 2 * h),
                    bx=2 * h, b2=2 * h))
    sh.update(wq=(h, h), wk=(h, h), wv=(h, h), wo=(h, h), rel=(NH, K),
              wr=(h, N), br=N, wg=(2 * N, N), bg=N)
    return sh


def rnn_family(cell, arms, tag):
    h = arms[0]["h"]  # one width per family
    p = init(rnn_shapes(cell, h), arms, tag)
    fl = {k: flags(arms, k) for k in ("attn", "gate")}
    return dict(cell=cell, h=h, p=p, fl=fl, arms=arms)


def rnn_cell(cell, h, p, xin, s):
    """One time step; xin = u_t W_x + b_x, precomputed."""
    if cell == "gru":
        gh = mm(s, p["wh"])
        rz = torch.sigmoid(xin[..., :2 * h] + gh[..., :2 * h])
        n = torch.tanh(xin[..., 2 * h:] + rz[..., :h] * gh[..., 2 * h:])
        return n + rz[..., h:] * (s - n)
    for a in (xin + mm(s, p["r1"]), None):
        if a is None:
            a = mm(mm(s, p["r2"]), p["b2"])
        t = torch.sigmoid(a[..., h:])
        s = s + t * (torch.tanh(a[..., :h]) - s)
    return s


def rnn_attend(p, fl, sq, sk, lag, ok):
    """Attention from sq (M,B,Lq,h) over sk (M,B,Lk,h), flag-gated."""
    q, k, v = heads(mm(sq, p["wq"])), heads(mm(sk, p["wk"])), \
        heads(mm(sk, p["wv"]))
    sc = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    a = torch.softmax(sc + lag_bias(p, lag, ok)[:, None], -1) @ v
    o = mm(a.transpose(-2, -3).flatten(-2), p["wo"])
    return sq + fv(fl["attn"], o) * o


def rnn_seq(fam, u):
    """Teacher forcing: u (M,B,L,N) -> predictions of u[:, :, 1:]."""
    p, cell, h = fam["p"], fam["cell"], fam["h"]
    xin = mm(mm(u, p["wx"]), p["bx"])
    s = u.new_zeros(*u.shape[:2], h)
    hs = []
    for t in range(u.shape[2]):
        s = rnn_cell(cell, h, p, xin[:, :, t], s)
        hs.append(s)
    hs = torch.stack(hs, 2)
    z = rnn_attend(p, fam["fl"], hs, hs, *window_mask(u.shape[2]))
    return output(p, fam["fl"], u, z)


def rnn_forecast(fam, warm, hor, teacher=None):
    """Warm-up on warm (M,B,W,N), then hor autoregressive steps."""
    p, cell, h = fam["p"], fam["cell"], fam["h"]
    step = lambda x, s: rnn_cell(cell, h, p,  # noqa: E731
                                 mm(mm(x, p["wx"]), p["bx"]), s)
    s = warm.new_zeros(*warm.shape[:2], h)
    buf = []
    for t in range(warm.shape[2]):
        s = step(warm[:, :, t], s)
        buf = [*buf, s][-K:]
    x, out = warm[:, :, -1], []
    for t in range(hor):
        n = len(buf)
        lag = torch.arange(n - 1, -1, -1, device=dev)[None]
        z = rnn_attend(p, fam["fl"], s[:, :, None], torch.stack(buf, 2),
                       lag, lag >= 0)[:, :, 0]
        x = output(p, fam["fl"], x, z).clamp(-10, 10)
        out.append(x)
        if teacher is not None:
            x = teacher[:, :, t]
        s = step(x, s)
        buf = [*buf, s][-K:]
    return torch.stack(out, 2)

# %% [markdown]
# The transformer family: one pre-norm layer whose queries attend over the last 8
# states and, where the arm has one, a memory token. The memory is a GRU over the
# embeddings of the states that have left the window (fed zeros in the control arm).

# %%
def tf_shapes(d):
    return dict(we=(N, d), be=d, wq=(d, d), wk=(d, d), wv=(d, d),
                wo=(d, d), rel=(NH, K), wkm=(d, d), wvm=(d, d), bm=NH,
                w1=(d, 2 * d), b1=2 * d, w2=(2 * d, d), b2=d, wr=(d, N),
                br=N, wg=(2 * N, N), bg=N, mx=(d, 3 * d), mh=(d, 3 * d),
                mb=3 * d)


def tf_family(arms, tag):
    p = init(tf_shapes(P["d"]), arms, tag)
    fl = {k: flags(arms, k) for k in ("mem", "memin")}
    fl["gate"] = torch.zeros_like(fl["mem"])
    return dict(p=p, fl=fl, arms=arms)


def embed(p, u):
    return mm(mm(u, p["we"]), p["be"])


def mem_step(p, fl, e, c):
    """The memory GRU reads one embedded state (zeros if no input)."""
    d = c.shape[-1]
    xin = mm(mm(fv(fl["memin"], e) * e, p["mx"]), p["mb"])
    gh = mm(c, p["mh"])
    rz = torch.sigmoid(xin[..., :2 * d] + gh[..., :2 * d])
    n = torch.tanh(xin[..., 2 * d:] + rz[..., :d] * gh[..., 2 * d:])
    return n + rz[..., d:] * (c - n)


def tf_block(p, fl, u, eq, ek, cm, lag, ok):
    """Queries eq (M,B,Lq,d) over keys ek (M,B,Lk,d) + memory cm
    (M,B,Lq,d); u (M,B,Lq,N) the current states."""
    a, b = ln(eq), ln(ek)
    q, k, v = heads(mm(a, p["wq"])), heads(mm(b, p["wk"])), \
        heads(mm(b, p["wv"]))
    km, vm = heads(mm(cm, p["wkm"])), heads(mm(cm, p["wvm"]))
    sc = q @ k.transpose(-1, -2) + lag_bias(p, lag, ok)[:, None] \
        * math.sqrt(q.shape[-1])
    sm = (q * km).sum(-1, keepdim=True) \
        + p["bm"].view(-1, 1, NH, 1, 1) * math.sqrt(q.shape[-1])
    sm = sm.masked_fill(fv(fl["mem"], sm) == 0, float("-inf"))
    w = torch.softmax(torch.cat([sc, sm], -1) / math.sqrt(q.shape[-1]), -1)
    o = w[..., :-1] @ v + w[..., -1:] * vm
    x = eq + mm(o.transpose(-2, -3).flatten(-2), p["wo"])
    x = x + mm(mm(F.gelu(mm(mm(ln(x), p["w1"]), p["b1"])), p["w2"]),
               p["b2"])
    return output(p, fl, u, ln(x))


def tf_seq(fam, u):
    p, fl = fam["p"], fam["fl"]
    e = embed(p, u)
    L = u.shape[2]
    c = e.new_zeros(*e.shape[:2], e.shape[-1])
    cm = [c] * min(K, L)
    for j in range(L - K):
        c = mem_step(p, fl, e[:, :, j], c)
        cm.append(c)
    return tf_block(p, fl, u, e, e, torch.stack(cm, 2), *window_mask(L))


def tf_forecast(fam, warm, hor, teacher=None):
    p, fl = fam["p"], fam["fl"]
    W = warm.shape[2]
    e = embed(p, warm)
    c = e.new_zeros(*e.shape[:2], e.shape[-1])
    for j in range(W - K):
        c = mem_step(p, fl, e[:, :, j], c)
    buf = list(e[:, :, -K:].unbind(2))
    x, out = warm[:, :, -1], []
    lag = torch.arange(K - 1, -1, -1, device=dev)[None]
    for t in range(hor):
        x = tf_block(p, fl, x[:, :, None], buf[-1][:, :, None],
                     torch.stack(buf, 2), c[:, :, None], lag,
                     lag >= 0)[:, :, 0].clamp(-10, 10)
        out.append(x)
        if teacher is not None:
            x = teacher[:, :, t]
        c = mem_step(p, fl, buf[0], c)
        buf = [*buf[1:], embed(p, x)]
    return torch.stack(out, 2)


def n_params(fam, arm_index, seq_fn):
    """Parameters that receive a gradient in one model of an arm."""
    m = arm_index * S
    u = train_u[:1, : P["seq"] + 1][None].expand(len(fam["arms"]) * S,
                                                -1, -1, -1)
    for v in fam["p"].values():
        v.grad = None
    seq_fn(fam, u[:, :, :-1]).square().sum().backward()
    n = sum(int((v.grad[m] != 0).sum()) for v in fam["p"].values())
    for v in fam["p"].values():
        v.grad = None
    return n

# %% [markdown]
# ## Training
#
# Adam with a one-cycle learning-rate schedule (peak {glue:text}`a12_lr`),
# {glue:text}`a12_steps` steps, batches of {glue:text}`a12_batch` windows per model, gradient
# norm clipped at 1 per model. Each seed has its own stream of windows, shared by the arms.

# %%
FAMILIES = {
    "gru": ("gru", [dict(name="GRU", h=P["h"], attn=0, gate=0),
                    dict(name="GRU+A+G", h=P["h"], attn=1, gate=1)]),
    "wide": ("gru", [dict(name="GRU wide", h=P["h_wide"], attn=0,
                          gate=0)]),
    "rhn": ("rhn", [dict(name="RHN", h=P["h"], attn=0, gate=0),
                    dict(name="RHN+A+G", h=P["h"], attn=1, gate=1)]),
    "tf": ("tf", [dict(name="TF", mem=0, memin=0),
                  dict(name="TF+rec", mem=1, memin=1),
                  dict(name="TF+rec, no input", mem=1, memin=0)]),
}


def windows(seed):
    g = runtime.generator(seed, 1205)
    L = P["seq"] + 1
    while True:
        tr = torch.randint(0, P["n_traj"], (P["batch"],), generator=g)
        t0 = torch.randint(0, P["n_samples"] - L, (P["batch"],),
                           generator=g)
        yield train_u[tr[:, None].to(dev),
                      (t0[:, None] + torch.arange(L)).to(dev)]


def train(fam, seq_fn):
    params = list(fam["p"].values())
    opt = torch.optim.Adam(params, lr=P["lr"])
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, P["lr"], total_steps=P["steps"], pct_start=0.1)
    streams = [windows(seed) for seed in SEEDS]
    curve = []
    for _ in runtime.progress(range(P["steps"]), desc=fam["name"]):
        w = torch.stack([next(s) for s in streams])  # (S, B, L+1, N)
        w = w.repeat(len(fam["arms"]), 1, 1, 1)  # arm-major models
        pred = seq_fn(fam, w[:, :, :-1])
        loss = (pred - w[:, :, 1:]).square()[:, :, BURN:].mean((1, 2, 3))
        opt.zero_grad()
        loss.sum().backward()
        clip_per_model(params, 1.0)
        opt.step()
        sched.step()
        curve.append(loss.detach())
    return torch.stack(curve).cpu()


fams, curves, cpu_s, params0 = {}, {}, {}, None
for name, (cell, arms) in FAMILIES.items():
    tag = list(FAMILIES).index(name) + 1
    fam = tf_family(arms, tag) if cell == "tf" else rnn_family(cell, arms,
                                                              tag)
    fam["name"] = name
    seq_fn = tf_seq if cell == "tf" else rnn_seq
    fam["seq"], fam["forecast"] = seq_fn, (tf_forecast if cell == "tf"
                                           else rnn_forecast)
    fam["n_params"] = ([n_params(fam, i, seq_fn) for i in range(len(arms))]
                       if cell == "gru" else [])
    if name == "gru":  # the untrained control: GRU at initialisation
        params0 = {k: v.detach().clone() for k, v in fam["p"].items()}
    t0 = time.process_time()
    curves[name] = train(fam, seq_fn)
    cpu_s[name] = time.process_time() - t0
    fams[name] = fam
    print(f"{name}: {cpu_s[name]:.1f} s CPU"
          + "".join(f"; {a['name']} {n} parameters" for a, n in
                    zip(arms, fam["n_params"])))

# %% [markdown]
# ## Forecasts and valid prediction time
#
# Every model forecasts the same {glue:text}`a12_n_test` test trajectories after a
# 16-state warm-up; persistence repeats the last warm-up state. NRMSE is the root-mean-square
# error over the 10 sites in units of the training standard deviation; VPT counts the leading
# forecast steps with NRMSE below 0.5, times $\Delta t\,\lambda_{\max}$.

# %%
warm = test_u[:, :WARM]
truth = test_u[:, WARM:WARM + HOR]


def vpt_of(pred):
    """pred (..., n_test, HOR, N) -> VPT per IC (Lyapunov times),
    one-step NRMSE per IC, NRMSE curve."""
    err = (pred - truth).square().mean(-1).sqrt()
    bad = err > EPS
    k = torch.where(bad.any(-1), bad.float().argmax(-1),
                    torch.tensor(HOR, device=dev))
    return k.float() * SUB * DT * LAM, err[..., 0], err


forecasts, results = {}, {}
with torch.no_grad():
    for fam in fams.values():
        M = len(fam["arms"]) * S
        pred = fam["forecast"](fam, warm.expand(M, -1, -1, -1), HOR)
        pred = pred.view(len(fam["arms"]), S, *pred.shape[1:])
        for a, arm in enumerate(fam["arms"]):
            results[arm["name"]] = vpt_of(pred[a])
    persist = warm[:, -1:].expand(-1, HOR, -1)
    results["persistence"] = tuple(
        r.expand(S, *r.shape) for r in vpt_of(persist))
    trained_gru = {k: v.detach().clone()
                   for k, v in fams["gru"]["p"].items()}
    for k, v in fams["gru"]["p"].items():
        v.data.copy_(params0[k])
    pred0 = rnn_forecast(fams["gru"], warm.expand(2 * S, -1, -1, -1), HOR)
    results["GRU untrained"] = vpt_of(pred0.view(2, S,
                                                 *pred0.shape[1:])[0])
    for k, v in fams["gru"]["p"].items():
        v.data.copy_(trained_gru[k])

med = {k: r[0].median(-1).values.cpu().numpy() for k, r in results.items()}
one = {k: r[1].mean(-1).cpu().numpy() for k, r in results.items()}
TRAINED = [a["name"] for f in fams.values() for a in f["arms"]]
for k in med:
    print(f"{k:18s} median VPT per seed {np.round(med[k], 2)}  "
          f"one-step NRMSE {np.round(one[k], 3)}")

# %% [markdown]
# **C1, the second half.** Each family's step-by-step forecaster, fed the true states,
# must give the predictions of its teacher-forced form on the same test windows.

# %%
with torch.no_grad():
    gaps = []
    for fam in fams.values():
        M = len(fam["arms"]) * S
        u = test_u[:, : WARM + 8].expand(M, -1, -1, -1)
        par = fam["seq"](fam, u)[:, :, WARM - 1:-1]
        stream = fam["forecast"](fam, u[:, :, :WARM], 8,
                                 teacher=u[:, :, WARM:])
        gaps.append(float((par - stream).abs().max()))
stream_vs_parallel = max(gaps)
print("step-by-step vs teacher-forced, per family:",
      [f"{g:.1e}" for g in gaps])
report.measure("C1", tangent_vs_fd=tangent_vs_fd,
               stream_vs_parallel=stream_vs_parallel, lambda_max=LAM)

# %% [markdown]
# ## C2 · Every learned model beats persistence

# %%
vpt_worst = np.min([med[k] for k in TRAINED], 0)
nrmse1_worst = np.max([one[k] for k in TRAINED], 0)
report.measure("C2", vpt_worst=vpt_worst.tolist(),
               nrmse1_worst=nrmse1_worst.tolist(),
               vpt_persist=med["persistence"].tolist(),
               nrmse1_persist=one["persistence"].tolist(),
               vpt_untrained=med["GRU untrained"].tolist())
print(report.verdicts())
worst = min(TRAINED, key=lambda k: med[k].min())
runtime.glue("a12_worst", worst)
runtime.glue("a12_vpt_worst", f"{vpt_worst.min():.2f}")
runtime.glue("a12_n1_worst", f"{nrmse1_worst.max():.3f}")
runtime.glue("a12_vpt_persist", f"{med['persistence'][0]:.2f}")
runtime.glue("a12_n1_persist", f"{one['persistence'][0]:.3f}")
runtime.glue("a12_vpt_untrained", f"{med['GRU untrained'].max():.2f}")

ORDER = ["persistence", "GRU untrained", *TRAINED]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained",
                         gridspec_kw=dict(width_ratios=[1.6, 1]))
plots.seed_points(axes[0], {k: med[k] for k in ORDER},
                  ylabel="median VPT (Lyapunov times)", threshold=VPT_MIN)
axes[0].tick_params(axis="x", rotation=60)
axes[0].set_title("valid prediction time, per seed")
tl = np.arange(1, HOR + 1) * SUB * DT * LAM
for i, k in enumerate(["persistence", "GRU", "GRU+A+G", "RHN+A+G", "TF",
                       "TF+rec"]):
    curve = results[k][2].median(-2).values.cpu().numpy()  # (S, HOR)
    plots.seed_band(axes[1], tl[:40], curve[:, :40], label=k,
                    color=f"C{i}")
axes[1].axhline(EPS, color="0.3", ls="--", lw=1)
axes[1].set(xlabel="forecast time (Lyapunov times)",
            ylabel="median NRMSE", title="error growth")
axes[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# The lowest median VPT of the eight trained models is {glue:text}`a12_vpt_worst` Lyapunov
# times ({glue:text}`a12_worst`; rule ≥ 0.5) and their highest one-step NRMSE is
# {glue:text}`a12_n1_worst` (rule < 0.1). Persistence reaches {glue:text}`a12_vpt_persist`
# Lyapunov times with a one-step NRMSE of {glue:text}`a12_n1_persist`; the untrained GRU at
# most {glue:text}`a12_vpt_untrained`. The right panel shows how the median error grows
# (band: range over seeds).
#
# Every trained model forecasts about four times longer than persistence or more, with well
# under a third of its one-step error, and all three controls fail clearly. But the notes' absolute
# floor of half a Lyapunov time is not cleared by every model on every seed at this
# training length: where the lowest value falls under 0.5 the verdict is "not reproduced".
# The variation table shows that this flips with the seed set (one of the other two seed
# sets clears it), so the page's verdict for C2 depends on the seeds; the reading that does
# not is "all learned models beat persistence by a wide margin, and the weakest ones sit at
# the notes' floor".
#
# ## C3 · Attention and gating in the GRU (and the RHN)

# %%
gain = {k: med[k] - med[b] for k, b in (("GRU+A+G", "GRU"),
                                         ("GRU wide", "GRU"),
                                         ("RHN+A+G", "RHN"))}
report.measure("C3", gain_gru=gain["GRU+A+G"].tolist(),
               gain_wide=gain["GRU wide"].tolist(),
               gain_rhn=gain["RHN+A+G"].tolist())
for k, v in gain.items():
    runtime.glue(f"a12_gain_{k.split()[0].replace('+', '')}"
                 f"{'_wide' if 'wide' in k else ''}", f"{v.mean():+.2f}")
for k in TRAINED:
    runtime.glue("a12_vpt_" + k.replace(" ", "_").replace("+", "")
                 .replace(",", ""), f"{med[k].mean():.2f}")
np_gru = {a["name"]: n for f in ("gru", "wide")
          for a, n in zip(fams[f]["arms"], fams[f]["n_params"])}
runtime.glue("a12_np_gru", np_gru["GRU"])
runtime.glue("a12_np_gruag", np_gru["GRU+A+G"])
runtime.glue("a12_np_wide", np_gru["GRU wide"])
print(report.verdicts())

# %% [markdown]
# Mean over seeds of the median VPT: GRU {glue:text}`a12_vpt_GRU`, GRU with attention and
# gating {glue:text}`a12_vpt_GRUAG` (gain {glue:text}`a12_gain_GRUAG`; rule ≥ 0.1), wider GRU
# {glue:text}`a12_vpt_GRU_wide` (gain {glue:text}`a12_gain_GRU_wide`, the control). The
# parameter counts are {glue:text}`a12_np_gru`, {glue:text}`a12_np_gruag` and
# {glue:text}`a12_np_wide`. For the RHN the same two components change the median VPT from
# {glue:text}`a12_vpt_RHN` to {glue:text}`a12_vpt_RHNAG` ({glue:text}`a12_gain_RHNAG`).
#
# Attention and gating do lengthen the GRU's forecasts, but a plain GRU made wider, to the
# same number of parameters, gains as much, so the control passes and the verdict is
# "inconclusive" (on the default seeds the control's gain sits right at the margin; on both
# other seed sets it is clearly above it, and on one of them the gain of attention and
# gating itself falls under the margin). At this scale we cannot credit the gain to the
# mechanism rather than to size. For the RHN the same two components *shorten* the
# forecasts, by about half a Lyapunov time: the opposite of the paper's finding that
# gating and attention improve every standard RNN. One reason may be ours: the gated
# output must learn to pass $u_t$ through, which a short training run does not finish
# (see the gate-bias trial at the end).
#
# ## C4 · Recurrence in the transformer

# %%
loss_rec = med["TF"] - med["TF+rec"]
loss_noin = med["TF"] - med["TF+rec, no input"]
report.measure("C4", loss_rec=loss_rec.tolist(),
               loss_rec_noinput=loss_noin.tolist())
runtime.glue("a12_loss_rec", f"{loss_rec.mean():+.2f}")
runtime.glue("a12_loss_noin", f"{loss_noin.mean():+.2f}")
print(report.verdicts())

# %% [markdown]
# The transformer's median VPT is {glue:text}`a12_vpt_TF` Lyapunov times; with the recurrent
# memory {glue:text}`a12_vpt_TFrec` (loss {glue:text}`a12_loss_rec`; rule ≥ 0.1), with the
# memory token but no input to it {glue:text}`a12_vpt_TFrec_no_input` (loss
# {glue:text}`a12_loss_noin`, the control).
#
# The recurrent memory does not shorten the transformer's forecasts: on all three seed sets
# of the variation table the difference is negative (the recurrent transformer is slightly
# *better*, by one or two sampling steps of 0.06 Lyapunov times), and the memory without
# input does about as well, so C4 is not reproduced here. Our transformer sees only 8 past states,
# and our memory is one light form of recurrence [R]; the paper's recurrent transformers
# and longer contexts may behave differently.
#
# ## C5 · Which model ranks at the top?

# %%
FOUR = ["GRU", "GRU+A+G", "TF", "TF+rec"]
best4 = np.max([med[k] for k in FOUR], 0)
lead = med["RHN+A+G"] - best4
lead_rhn = med["RHN"] - best4
report.measure("C5", lead_rhn_ag=lead.tolist(), lead_rhn=lead_rhn.tolist())
runtime.glue("a12_lead", f"{lead.mean():+.2f}")
runtime.glue("a12_lead_rhn", f"{lead_rhn.mean():+.2f}")
rank = sorted(TRAINED, key=lambda k: -med[k].mean())
runtime.glue("a12_rank", ", ".join(rank))
print("ranking by mean median VPT:", rank)
print(report.verdicts())

# %% [markdown]
# By mean median VPT the eight trained models rank {glue:text}`a12_rank`. The RHN with
# attention and gating leads the other four main models by {glue:text}`a12_lead` Lyapunov
# times (rule ≥ 0); the plain RHN by {glue:text}`a12_lead_rhn` (the control).
#
# The RHN is the best cell here, by a wide margin, as the paper finds for its RHN variants;
# but it is the *plain* RHN that ranks first. The control passes, so the book's rule makes
# the verdict "inconclusive"; the evidence check itself also fails on the default seeds
# (the RHN with attention and gating is not at the top). Read with C3: at this scale the
# RHN cell carries the ranking and attention and gating do not add to it.
#
# ## Training cost
#
# Each family trains all its arms and seeds as one computation; CPU seconds at one thread:

# %%
for name, fam in fams.items():
    last = curves[name][-1].view(len(fam["arms"]), S).mean(1)
    print(f"{name:4s}: {len(fam['arms'])} arms x {S} seeds in one stack, "
          f"{cpu_s[name]:.1f} s CPU, final loss "
          + ", ".join(f"{a['name']} {v:.4f}"
                      for a, v in zip(fam["arms"], last)))

# %% [markdown]
# ## Versus the authors' code
#
# We found no public implementation of this paper. We looked for repositories of the three
# authors and their lab (`pvlachas`: RNN-RC-Chaos, RNN-Lyapunov-Spectrum,
# LearningEffectiveDynamics and three others; `hunter-heidenreich`: 42 repositories, none for
# this paper; `cselab`: the lab's repositories, none named for it; nothing under
# `koumoutsakos`), searched code, documentation and web pages for the title, the arXiv
# number and "RHN attention gating Lorenz-96", and found only mentions of the paper in
# profile pages, with no link to code. So there is no "Versus the authors' code" table; the
# equations we could not take from the paper are marked [R]. The group's earlier benchmark
# code (`pvlachas/RNN-RC-Chaos`, commit `9e4b24a`, `computeErrors` in
# `Methods/Models/Utils/global_utils.py`) counts the leading forecast steps whose NRMSE
# (each dimension scaled by its own standard deviation) stays below 0.5; our VPT counts the
# same steps with one standard deviation for all sites (Lorenz-96 is homogeneous) and
# multiplies by $\Delta t\,\lambda_{\max}$. We compared nothing else.

# %% [markdown]
# ## Checks that do not depend on the run
#
# A fixed problem: RK4 conserves nothing here, but the Lorenz-96 field has a known energy
# identity, $\frac{d}{dt}\tfrac12\lVert x\rVert^2 = -\lVert x\rVert^2 + F\sum_i x_i$ (the
# advection term conserves energy); we check it on random states.

# %%
ge = torch.Generator().manual_seed(0)
xe = 3 * torch.randn(5, N, generator=ge, dtype=F64)
rhs = -(xe**2).sum(-1) + FORCE * xe.sum(-1)
energy_gap = float(((xe * l96(xe)).sum(-1) - rhs).abs().max())

# %% tags=["nbval-check-output"]
print("energy identity of the L96 field:", energy_gap < 1e-10)
print("C1 constructions hold:", tangent_vs_fd < 1e-6,
      stream_vs_parallel < 1e-4)
print("data:", tuple(train_raw.shape[2:]), "sites; test horizon", HOR,
      "samples")
print("constants:", dict(EPS=EPS, K=K, MARGIN=MARGIN, VPT_MIN=VPT_MIN,
                         NRMSE1_MAX=NRMSE1_MAX))

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2
# threads (seeds 0, 1, 2) and with two other seed sets (3, 4, 5 and 6, 7, 8); the table shows
# both changes beside the declared `tol` and every verdict seen. A median VPT moves in steps
# of $\Delta t\,\lambda_{\max} \approx 0.06$ Lyapunov times.

# %%
report.tolerances("../../data/a12_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Data (a miniature).** Single-scale Lorenz-96 with ten sites instead of the paper's
#   multiscale Lorenz-96 and the Kuramoto–Sivashinsky equation, and no real-world series. The
#   two-scale system and KS were left out for time: every path the full profile runs must also
#   run in ci, and ci has room for one system. The full profile only enlarges the models,
#   the data and the number of seeds and test trajectories.
# - **Models (a miniature).** One layer per model, hidden width {glue:text}`a12_h`,
#   {glue:text}`a12_steps` training steps, no hyper-parameter search (the paper searches
#   each architecture's hyper-parameters); no LSTM arm. Attention is a read-out over the last
#   8 hidden states [R]; gating is applied at the output only [R] (the paper also gates
#   residual connections inside the networks); the transformer's recurrence is a GRU memory
#   over states that leave its window [R] (the paper's form may differ).
# - **No numbers from the paper.** The abstract gives none and we could not check the
#   paper's tables here; every `paper=` entry is qualitative.
# - **VPT [R].** Threshold 0.5 on the NRMSE normalised by the training standard deviation,
#   as in Vlachas et al. {footcite}`vlachas2020backprop`; the paper may use another
#   threshold or normalisation.
# - **Rules before results, and what we changed after looking.** C2's thresholds (VPT ≥ 0.5
#   Lyapunov times, one-step NRMSE < 0.1) are the research notes', written before any code.
#   A first prototype (seeds 0-2; the GRU, RHN and their attention-and-gating arms; data
#   from another random stream; 300 steps on windows of 32, learning rate 0.003) gave the
#   GRU a median VPT of about 0.4 Lyapunov times and showed the plain RHN ahead of the RHN
#   with attention and gating. After it we wrote C3-C5 with their margins and controls,
#   keeping the plain RHN as C5's control knowing that it might make C5 inconclusive. Then,
#   **on the chapter's own seeds and data**, we changed sizes only, for the ci budget and
#   for training quality: 600 steps on windows of 16 (about 60 s of CPU, over budget), then
#   500 steps on windows of 12 with batches of 16 at learning rate 0.01 and, finally, 0.02
#   (the GRU's median VPT rose from about 0.45 to 0.6). Those runs showed the claim
#   statistics, so the sizes were not chosen blind; the variation table, on two other seed
#   sets, is the check on that. We also tried, once, starting the output gate near "keep
#   $u_t$" (bias −2, as highway networks initialise their gates): it lowered the GRU with
#   attention and gating (median VPT 0.48-0.61 against 0.67-0.79 per seed) and steadied
#   the RHN with them (0.67-0.73 against 0.48-0.85), which would have turned C3 from passing
#   into failing; we kept the neutral bias 0 we started with.
#
# ## References
#
# ```{footbibliography}
# ```
