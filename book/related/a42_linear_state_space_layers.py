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
# # A42 · Linear state-space layers: one system, three views
#
# Gu, Johnson, Goel, Saab, Dao, Rudra and Ré {footcite}`gu2021lssl` build a sequence layer from the
# oldest object in control theory, a linear time-invariant system
#
# $$x'(t) = A x(t) + B u(t), \qquad y(t) = C x(t) + D u(t),$$
#
# with a state $x \in \mathbb R^N$ for each scalar input channel $u$. Discretised with a step
# $\Delta$, the same system is a linear *recurrence* $x_k = \bar A x_{k-1} + \bar B u_k$, and,
# unrolled, a causal *convolution* $y = K * u + D u$ with the kernel
# $K = (C\bar B, C\bar A\bar B, \dots, C\bar A^{L-1}\bar B)$. The Linear State-Space Layer
# (LSSL) stacks such systems, $H$ channels per layer, with pointwise nonlinearities and
# mixing between them, and takes $A$ from the HiPPO theory of continuous-time memorisation
# {footcite}`gu2020hippo`, which gives the state the meaning of Legendre coefficients of the
# input's history. $\Delta$ is learned, a timescale per channel. The paper reports 99.53 % on
# sequential MNIST and 98.76 % on permuted MNIST, and on raw speech (length 16,000) a gain of 24
# points over earlier models. The authors' successor, S4 {footcite}`gu2022s4`, kept the system and
# replaced the computation of its kernel.
#
# We build the system into the book's library (`rnnbook.ssm`: HiPPO-LegS, discretisations,
# kernel, the three views, the layer), check that the three views agree and that the
# bilinear rule is of second order, and train small deep LSSLs on the 8×8 digits of
# scikit-learn read pixel by pixel, **a substitute for MNIST** (64 steps instead of 784; a
# miniature), against a random stable $A$, an LSTM {footcite}`hochreiter1997long` of the same
# parameter count, and controls. Parts that follow the authors' code (`state-spaces/s4`,
# `src/models/sequence/modules/lssl.py`) are marked [C]; parts reconstructed by us [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "LSSL models are closely related to the three aforementioned families" — the
#   recurrent, convolutional and continuous-time views compute the same map (construction).
# - **C2** the bilinear discretisation (the paper's default) converges to the continuous system
#   at second order in $\Delta$; forward Euler at first order (construction).
# - **C3** "a trainable subset of structured matrices $A$ that endow LSSLs with long-range
#   memory": HiPPO-LegS beats a random stable $A$ on permuted sequential digits (paper:
#   sequential / permuted MNIST 99.53 / 98.76 %).
# - **C4** "state-of-the-art results ... for long dependencies in sequential image
#   classification": the LSSL beats an LSTM with as many parameters.
# - **C5** "share features of NDEs such as time-scale adaptation": a model trained at one
#   sampling rate classifies the same signals sampled half as often when $\Delta$ is doubled.
# - **C6** "On a difficult speech classification task with length-16000 sequences, LSSL
#   outperforms prior approaches by 24 accuracy points": not testable here (no audio data set
#   offline, and 16,000 steps are beyond the ci budget).
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
import torch.nn.functional as F
from scipy.integrate import solve_ivp
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from torch import nn

from rnnbook import claims, plots, runtime, ssm

ctx = runtime.setup(
    "a42", default_seeds={"ci": [0, 1, 2], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(zoom=1, H=16, N=16, layers=2, epochs=8, batch=64, lr=1e-2,
            n_test=500),
    full=dict(zoom=2, H=64, N=64, layers=4, epochs=60, batch=64, lr=2e-3,
              n_test=500),
)  # fmt: skip
# Constants (not sizes): Delta range as in the authors' config [C].
DT_MIN, DT_MAX = 1e-3, 1e-1
S = len(ctx.seeds)

# %% [markdown]
# All claims are declared here, before any experiment runs.
#
# - **C1** (construction). On random inputs in `float32`, $L$ = 256, $N$ = 32 and three $\Delta$
#   from $10^{-3}$ to $10^{-1}$, the recurrence (the library's parallel matrix scan) and the FFT
#   convolution agree within $10^{-4}$ (the research notes' tolerance); in `float64` the scan
#   equals the plain loop to rounding; with the input held constant over each step, the
#   zero-order-hold recurrence equals the continuous system solved by an ODE integrator
#   (`scipy.integrate.solve_ivp`, tolerance $10^{-11}$) within $10^{-6}$; and the trained
#   layer of one model gives the same output in both modes.
# - **C2** (construction). For $x' = Ax + B\sin 3t$ with HiPPO-LegS ($N$ = 8) on $[0, 2]$, the
#   global error against the exact solution (matrix exponential of the joint system) at
#   $\Delta = 2/256 \to 2/512$ falls by at least 3× (the notes' rule) and its observed order
#   is at least 1.8 for the bilinear rule; forward Euler's order lies in $[0.8, 1.2]$. Each
#   sample stands for its step's midpoint, $u_k = u((k-\tfrac12)\Delta)$; the order with
#   endpoint samples $u_k = u(k\Delta)$ is reported beside (we did not know it before the run
#   of the library's tests; see the section).
# - **C3** The test accuracy of a deep LSSL with HiPPO-LegS $A$ exceeds that of the same model
#   with a random stable $A$ by at least 5 points, on average over seeds, on permuted
#   sequential digits. The notes ask +10 points at 256 steps; our sequences are a quarter as
#   long, which leaves a random $A$ less to forget, so we fix half the margin. Control: the
#   same gap between two random $A$ of different draws must fail the rule.
# - **C4** The LSSL (HiPPO) beats an LSTM with the same number of trained parameters (within
#   ±20 %) by at least 3 points (the notes' rule) on permuted digits. Control: the LSSL trained
#   on shuffled labels, against the same LSTM, must fail.
# - **C5** Operational rule for timescale adaptation, after the authors' code, which multiplies
#   $\Delta$ by the ratio of the training length to the test length [C]: an LSSL trained on
#   the digit sequences at twice the sampling rate ($2L-1$ steps, linear interpolation between
#   pixels) and tested on the original $L$ samples (every second sample of its training
#   signal) with $\Delta$ doubled loses at most 5 points of accuracy (the notes' rule). Control:
#   the same test with $\Delta$ unchanged must fail (lose more than 5 points).
# - **C6** is not testable here; its check is declared for the record.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Linear state-space layers")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "The recurrent, convolutional and continuous-time views of one LSSL compute the same "
    "map.", kind="construction",
    paper="LSSL as recurrence, convolution and continuous-time system (views of Section 3)",
    checks=[
        ev("rec_vs_conv_f32", "<=", 1e-4, "max |recurrence − FFT convolution|, float32, "
           "L = 256, N = 32", tol=1e-4),
        ev("scan_vs_loop_f64", "<=", 1e-10, "max |scan − loop| / scale, float64", tol=1e-10),
        ev("zoh_vs_ode", "<=", 1e-6, "max |ZOH recurrence − ODE solution|, held input",
           tol=1e-6),
        ev("trained_rec_vs_conv", "<=", 1e-4, "trained layer, both modes, float32",
           tol=1e-4),
    ])
report.claim(
    "C2", "The bilinear discretisation converges to the continuous system at second order in "
    "Δ, forward Euler at first order.", kind="construction",
    paper="bilinear (GBT α = ½) is the default discretisation; second order [R]",
    checks=[
        ev("bilinear_halving_ratio", ">=", 3.0, "error(2/256) / error(2/512)", tol=0.05),
        ev("bilinear_order", ">=", 1.8, "observed order, midpoint samples", tol=0.02),
        ev("euler_order_low", ">=", 0.8, "forward Euler's observed order", tol=0.02),
        ev("euler_order_high", "<=", 1.2, "forward Euler's observed order", tol=0.02),
        ctx_("bilinear_order_endpoint", "bilinear, endpoint samples u(kΔ)", tol=0.02),
        ctx_("zoh_order", "zero-order hold, midpoint samples", tol=0.02),
    ])
report.claim(
    "C3", "HiPPO-LegS A beats a random stable A on permuted sequential digits.",
    kind="empirical",
    paper="sMNIST 99.53 %, pMNIST 98.76 % (LSSL); HiPPO A needed for long memory",
    checks=[
        ev("gap_hippo_random", ">=", 0.05, "test acc. HiPPO − random A", over="mean",
           tol=0.05),
        ctl("gap_random_random", "gap_hippo_random", "random A (2nd draw) − random A",
            over="mean", tol=0.1),
        ctx_("acc_hippo_perm", "test accuracy, HiPPO, permuted", over="mean", tol=0.05),
        ctx_("acc_random_perm", "test accuracy, random A, permuted", over="mean",
             tol=0.1),
        ctx_("acc_hippo_seq", "test accuracy, HiPPO, sequential order", over="mean",
             tol=0.05),
    ])
report.claim(
    "C4", "An LSSL beats an LSTM with as many parameters on permuted sequential digits.",
    kind="empirical",
    paper="pMNIST 98.76 % (LSSL) against recurrent baselines",
    checks=[
        ev("gap_lssl_lstm", ">=", 0.03, "test acc. LSSL − LSTM", over="mean", tol=0.05),
        ev("param_mismatch", "<=", 0.2, "|params LSSL / params LSTM − 1|", tol=0.01),
        ctl("gap_shuffled_lstm", "gap_lssl_lstm", "LSSL on shuffled labels − LSTM",
            over="mean", tol=0.05),
        ctx_("acc_lstm_perm", "test accuracy, LSTM, permuted", over="mean", tol=0.1),
        ctx_("acc_shuffled", "test accuracy, LSSL on shuffled labels", over="mean",
             tol=0.1),
    ])
report.claim(
    "C5", "Timescale adaptation: doubling Δ lets a model trained at 2× the sampling rate "
    "classify signals sampled at 1×.", kind="empirical",
    paper="time-scale adaptation by Δ (test-time sampling-rate change in the authors' code)",
    checks=[
        ev("drop_dt_doubled", "<=", 0.05, "acc(2L−1 steps) − acc(L steps, Δ × 2)",
           over="mean", tol=0.05),
        ctl("drop_dt_kept", "drop_dt_doubled", "Δ unchanged at L steps", over="mean",
            tol=0.1),
        ctx_("acc_fine", "test accuracy at the training rate", over="mean", tol=0.05),
    ])
report.claim(
    "C6", "Raw speech, length 16,000: LSSL beats prior models by 24 accuracy points.",
    kind="empirical", paper="+24 points on raw speech classification",
    checks=[ev("gain_points", ">=", 24, "accuracy gain over the best prior model")],
    no_control="not run: no speech data set offline; 16,000 steps beyond the ci budget")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The system and its discretisations
#
# HiPPO-LegS {footcite}`gu2020hippo` is the lower-triangular matrix
#
# $$A_{nk} = -\begin{cases}\sqrt{2n+1}\sqrt{2k+1} & n > k\\ n+1 & n = k\\ 0 & n < k\end{cases},
# \qquad B_n = \sqrt{2n+1},$$
#
# (`ssm.hippo_legs`; the authors build it as $T M T^{-1}$ [C]). Its eigenvalues are
# $-1, \dots, -N$. The control, `ssm.random_stable`, is a Gaussian matrix $G/\sqrt N$ shifted so
# that its rightmost eigenvalue has real part $-\tfrac12$, with a Gaussian $B$ [R]: stable like
# LegS, without its structure. The generalised bilinear transform (GBT) discretises with step
# $\Delta$:
#
# $$\bar A = (I - \alpha\Delta A)^{-1}(I + (1-\alpha)\Delta A), \qquad
# \bar B = (I - \alpha\Delta A)^{-1}\Delta B,$$
#
# forward Euler for $\alpha = 0$, bilinear for $\alpha = \tfrac12$ (the paper's choice [C]),
# backward Euler for $\alpha = 1$; the zero-order hold $\bar A = e^{\Delta A}$,
# $\bar B = \int_0^\Delta e^{sA}\,ds\,B$ is exact for an input constant over each step.
# `tests/test_ssm.py` checks all four against `scipy.signal.cont2discrete`. The kernel
# $K_j = C\bar A^j\bar B$ is computed by repeated squaring, $\lceil\log_2 L\rceil$ matrix
# products (`ssm.krylov`; the authors use the same doubling [C]), and applied by an FFT of
# length $2L$.
#
# The figure shows the kernels of one channel for three $\Delta$: with LegS, a small $\Delta$
# gives a long, smooth kernel (the window the state summarises grows as $1/\Delta$); at
# $\Delta = 0.3$ the kernel alternates in sign, because the bilinear map
# $\lambda \mapsto (1 + \Delta\lambda/2)/(1 - \Delta\lambda/2)$ sends LegS's fast eigenvalues
# (down to $-N$) close to $-1$. The random $A$'s kernels are shaped by its few slowest
# eigenvalues.

# %%
A_legs, B_legs = ssm.hippo_legs(P["N"])
A_rand, B_rand = ssm.random_stable(P["N"], runtime.generator(0, 10))
L_demo = 64 * P["zoom"] ** 2
C_demo = torch.ones(P["N"], dtype=torch.float64) / math.sqrt(P["N"])
demo = {}
for name, (A_, B_) in {"HiPPO-LegS": (A_legs, B_legs),
                       "random stable": (A_rand, B_rand)}.items():
    for dt in (0.003, 0.03, 0.3):
        Ab, Bb = ssm.discretize(A_, B_, dt)
        demo[name, dt] = ssm.ssm_kernel(Ab, Bb, C_demo, L_demo)
print("largest |eigenvalue| of the discrete LegS A (Δ = 0.03):",
      round(float(torch.linalg.eigvals(
          ssm.discretize(A_legs, B_legs, 0.03)[0]).abs().max()), 4))

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3), sharey=False)
for ax, name in zip(axs, ("HiPPO-LegS", "random stable")):
    for k, dt in enumerate((0.003, 0.03, 0.3)):
        K = demo[name, dt]
        ax.plot(K / K.abs().max(), color=plots.COLORBLIND[k],
                label=f"Δ = {dt}")
    ax.set(title=f"kernel K of one channel, {name} A", xlabel="lag j",
           ylabel="K_j / max |K|")
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## C1: three views of one map
#
# The recurrence runs through the library's log-depth matrix scan
# (`rnnbook.scan.parallel_matrix_scan`), the convolution through `torch.fft`; both against the
# plain loop. The continuous view: with each sample held for its step, the zero-order hold is
# the exact solution, so the recurrence must match an independent ODE integrator
# (`scipy.integrate.solve_ivp`, DOP853) on the held input. The trained layer's check comes
# after training, below.

# %%
g = torch.Generator().manual_seed(1)
Nc, Lc = 32, 256  # the notes' check, the same in both profiles
A32, B32 = ssm.hippo_legs(Nc, torch.float32)
dts = torch.tensor([1e-3, 1e-2, 1e-1])
Ab32, Bb32 = ssm.discretize(A32, B32, dts)
C32 = torch.randn(3, Nc, generator=g) / math.sqrt(Nc)
u32 = torch.randn(4, 3, Lc, generator=g)
rec_vs_conv = float((ssm.ssm_recurrent(u32, Ab32, Bb32, C32, 0.5)
                     - ssm.ssm_convolutional(u32, Ab32, Bb32, C32, 0.5)
                     ).abs().max())

A64, B64 = ssm.hippo_legs(16)
Ab64, Bb64 = ssm.discretize(A64, B64, torch.tensor([0.01, 0.1]))
C64 = torch.randn(2, 16, generator=g, dtype=torch.float64)
u64 = torch.randn(3, 2, 200, generator=g, dtype=torch.float64)
y_loop, _ = ssm.ssm_loop(u64, Ab64, Bb64, C64, 0.3)
scan_vs_loop = float(
    (ssm.ssm_recurrent(u64, Ab64, Bb64, C64, 0.3) - y_loop).abs().max()
    / max(1.0, float(y_loop.abs().max())))

# continuous view: held input, ZOH recurrence against an ODE solver
dt_h, L_h = 0.05, 60
u_h = torch.sin(0.3 * torch.arange(1, L_h + 1, dtype=torch.float64))
Az, Bz = ssm.discretize(A64, B64, dt_h, "zoh")
_, x_zoh = ssm.ssm_loop(u_h, Az, Bz, C64[0], 0.0)
An, Bn = A64.numpy(), B64.numpy()
sol = solve_ivp(
    lambda s, z: An @ z + Bn * float(u_h[min(int(s / dt_h), L_h - 1)]),
    (0, L_h * dt_h), np.zeros(16), t_eval=dt_h * np.arange(1, L_h + 1),
    rtol=1e-11, atol=1e-12, method="DOP853", max_step=dt_h / 4)
zoh_vs_ode = float((x_zoh - torch.from_numpy(sol.y.T)).abs().max())
print(f"recurrence vs convolution (float32, L = {Lc}, N = {Nc}): "
      f"{rec_vs_conv:.2e}\nscan vs loop (float64, relative): "
      f"{scan_vs_loop:.2e}\nZOH recurrence vs ODE solver: "
      f"{zoh_vs_ode:.2e}")

# %% [markdown]
# ## C2: the order of the bilinear rule
#
# We drive $x' = Ax + B\sin 3t$ (LegS, $N = 8$, $x(0) = 0$) and compare the discrete states on
# $[0, 2]$ with the exact solution, obtained from one matrix exponential of the joint system
# of $x$ and the sine's own two-dimensional generator (`ssm.exosystem_response`). The error is
# the largest deviation over eight common time points, for $\Delta = 2/L$, $L$ = 32 … 1024.
#
# How a sample is read matters. The recurrence $x_k = \bar A x_{k-1} + \bar B u_k$ uses one
# sample per step. If it stands for the step's midpoint, $u_k = u((k-\frac12)\Delta)$, the
# bilinear rule is the trapezoidal rule for $Ax$ plus the midpoint rule for $Bu$, both of
# second order. If it is the value at the step's end, $u(k\Delta)$, the input is effectively
# shifted by $\Delta/2$, and the error falls only as $\Delta$, whatever the rule; we found
# this when the library's tests were first run, and report both. Sampled data have no
# midpoint: for a network fed pixels, the question does not arise, since $\bar B$ and $C$ are
# learned.

# %%
Ls = [32, 64, 128, 256, 512, 1024]
A8, B8 = ssm.hippo_legs(8)
Sx = torch.tensor([[0.0, 3.0], [-3.0, 0.0]], dtype=torch.float64)
hx = torch.tensor([1.0, 0.0], dtype=torch.float64)
wx = torch.tensor([0.0, 1.0], dtype=torch.float64)
t_common = torch.linspace(0.25, 2.0, 8, dtype=torch.float64)
x_exact, _, _ = ssm.exosystem_response(
    A8, B8, torch.zeros(8, dtype=torch.float64), 0.0, Sx, hx, wx, t_common)

def global_error(method, L, midpoint=True):
    dt = 2.0 / L
    k = torch.arange(1, L + 1, dtype=torch.float64)
    u = torch.sin(3.0 * ((k - 0.5) * dt if midpoint else k * dt))
    Ab, Bb = ssm.discretize(A8, B8, dt, method)
    zero_c = torch.zeros(8, dtype=torch.float64)
    _, x = ssm.ssm_loop(u, Ab, Bb, zero_c, 0.0)
    idx = torch.arange(L // 8 - 1, L, L // 8)
    return float((x[idx] - x_exact).abs().max())

errs = {
    (m, mid): np.array([global_error(m, L, mid) for L in Ls])
    for m in ("bilinear", "euler", "zoh") for mid in (True, False)
}
def order(e):  # observed order over the last halving, 2/256 -> 2/512
    i = Ls.index(512)
    return float(np.log(e[i - 1] / e[i]) / np.log(2))

for (m, mid), e in errs.items():
    print(f"{m:9s} {'midpoint' if mid else 'endpoint'}: order "
          f"{order(e):.3f}, error at Δ = 2/512: {e[Ls.index(512)]:.2e}")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.4))
for k, m in enumerate(("bilinear", "euler", "zoh")):
    for mid, ls in ((True, "-o"), (False, ":x")):
        ax.loglog([2 / L for L in Ls], errs[m, mid], ls,
                  color=plots.COLORBLIND[k], ms=4,
                  label=f"{m}, {'mid' if mid else 'end'}point samples")
dt_ref = np.array([2 / Ls[0], 2 / Ls[-1]])
ax.loglog(dt_ref, 0.5 * dt_ref**2, "k--", lw=0.8, label="slope 2")
ax.loglog(dt_ref, 0.05 * dt_ref, "k-.", lw=0.8, label="slope 1")
ax.set(xlabel="step Δ", ylabel="max |x_k − x(t_k)|",
       title="global error against the exact solution (LegS, N = 8)")
ax.legend(fontsize=6.5, ncol=2)
plt.show()

# %% [markdown]
# ## The digits, read pixel by pixel
#
# scikit-learn's 1,797 handwritten digits (8×8, 16 grey levels) stand in for MNIST (a
# **substitute**: no download). A fixed split keeps 500 for testing; each image is read as a
# sequence of $64\,z^2$ scalars ($z$ the profile's zoom, bilinear `scipy.ndimage.zoom`), in
# row order (*sequential*) or in one fixed random order (*permuted*), standardised with the
# training set's mean and deviation. For C5 the permuted sequences are also interpolated
# linearly to $2L-1$ steps, so that the original sequence is every second sample.

# %%
digits = load_digits()
imgs = zoom(digits.images.astype(np.float64) / 16.0,
            (1, P["zoom"], P["zoom"]), order=1)
X_all = torch.tensor(imgs.reshape(len(imgs), -1), dtype=torch.float32)
Y_all = torch.tensor(digits.target)
L = X_all.shape[1]
split = torch.randperm(len(X_all), generator=runtime.generator(0, 1))
te, tr = split[: P["n_test"]], split[P["n_test"]:]
mu, sd = X_all[tr].mean(), X_all[tr].std()
X_all = (X_all - mu) / sd
perm = torch.randperm(L, generator=runtime.generator(0, 2))
X_seq, X_perm = X_all, X_all[:, perm]

def upsample2(x):
    """Linear interpolation to 2L-1 steps; x[..., ::2] is the original."""
    mid = 0.5 * (x[..., 1:] + x[..., :-1])
    inter = torch.stack([x[..., :-1], mid], -1).flatten(-2)
    return torch.cat([inter, x[..., -1:]], -1)

X_fine = upsample2(X_perm)
print(f"{len(tr)} training and {len(te)} test digits, L = {L} "
      f"(fine: {X_fine.shape[1]}); fine[::2] == original: "
      f"{bool(torch.equal(X_fine[:, ::2], X_perm))}")

# %% [markdown]
# ## Models: a deep LSSL and an LSTM, each a stack of models
#
# The deep LSSL [R, after the authors' module [C]]: a linear encoder lifts each scalar to $H$
# channels; each of the layers applies `ssm.LSSL` ($H$ systems with a shared, fixed $A$,
# trained $C$, $D$ and $\Delta$, bilinear discretisation, $\Delta$ log-uniform in
# $[10^{-3}, 10^{-1}]$ at initialisation as in the authors' config [C]), a GELU, an $H \times H$
# mixing matrix, a residual connection and layer normalisation; a linear decoder classifies from
# the last step. $A$ is fixed (the paper's LSSL-f; its LSSL also trains $A$ within a structured
# class). Every arm and seed is one slice of a stacked model: its own $A$, its own input order,
# its own labels, one forward and backward pass for all. The arms: HiPPO on permuted digits,
# random $A$ (two independent draws), HiPPO on shuffled labels, and HiPPO on sequential digits.
#
# The LSTM (one layer, hidden size $h$, one bias per gate, forget-gate bias 1, the same decoder
# from the last step) is stacked the same way; $h$ is chosen so that its parameter count
# matches the LSSL's. Both train with Adam on the summed per-model cross-entropy (so each model
# has its own gradient and its own Adam moments), batch 64, each seed its own batch order.

# %%
class DeepLSSL(nn.Module):
    """M stacked deep LSSLs: input (M, B, L), logits (M, B, 10)."""

    def __init__(self, M, H, layers, A, B, gen, n_out=10):
        super().__init__()
        self.H = H
        self.enc_w = nn.Parameter(torch.randn(M, H, generator=gen))
        self.enc_b = nn.Parameter(torch.zeros(M, H))
        self.ssms = nn.ModuleList(
            ssm.LSSL(H, A, B, models=M, dt_min=DT_MIN, dt_max=DT_MAX,
                     generator=gen) for _ in range(layers))
        self.mix_w = nn.ParameterList(
            nn.Parameter(
                torch.randn(M, H, H, generator=gen) / math.sqrt(H))
            for _ in range(layers))
        self.mix_b = nn.ParameterList(
            nn.Parameter(torch.zeros(M, H)) for _ in range(layers))
        self.dec_w = nn.Parameter(
            torch.randn(M, H, n_out, generator=gen) / math.sqrt(H))
        self.dec_b = nn.Parameter(torch.zeros(M, n_out))

    def forward(self, x, mode="conv", dt_scale=1.0):
        h = (x[..., None] * self.enc_w[:, None, None]
             + self.enc_b[:, None, None])
        for layer, W, b in zip(self.ssms, self.mix_w, self.mix_b):
            y = F.gelu(layer(h, mode, dt_scale))
            y = torch.einsum("mblh,mhk->mblk", y, W) + b[:, None, None]
            h = F.layer_norm(h + y, (self.H,))
        return torch.einsum("mbh,mhk->mbk", h[:, :, -1], self.dec_w) \
            + self.dec_b[:, None]


class StackedLSTM(nn.Module):
    """M stacked one-layer LSTMs: input (M, B, L), logits (M, B, 10)."""

    def __init__(self, M, h, gen, n_out=10):
        super().__init__()
        s = 1 / math.sqrt(h)
        def U(*shape):
            r = torch.rand(*shape, generator=gen)
            return nn.Parameter((2 * r - 1) * s)
        self.h = h
        self.w_x, self.w_h = U(M, 4 * h), U(M, h, 4 * h)
        bias = torch.zeros(M, 4 * h)
        bias[:, h:2 * h] = 1.0  # forget gate
        self.b = nn.Parameter(bias)
        self.dec_w, self.dec_b = U(M, h, n_out), nn.Parameter(
            torch.zeros(M, n_out))

    def forward(self, x):
        M, Bsz, Lx = x.shape
        gx = x[..., None] * self.w_x[:, None, None] + self.b[:, None, None]
        hs = x.new_zeros(M, Bsz, self.h)
        cs = torch.zeros_like(hs)
        for t in range(Lx):
            z = gx[:, :, t] + torch.bmm(hs, self.w_h)
            i, f, gg, o = z.chunk(4, -1)
            cs = torch.sigmoid(f) * cs + torch.sigmoid(i) * torch.tanh(gg)
            hs = torch.sigmoid(o) * torch.tanh(cs)
        return torch.einsum("mbh,mhk->mbk", hs, self.dec_w) \
            + self.dec_b[:, None]


def n_params(model, M):
    trained = [p for p in model.parameters() if p.requires_grad]
    return sum(p.numel() for p in trained) // M


def lstm_hidden_for(n):
    """Hidden size whose LSTM has about n parameters (4h^2 + 18h + 10)."""
    return round((-18 + math.sqrt(18**2 - 16 * (10 - n))) / 8)


def fit(model, Xtr, Ytr, seeds, epochs):
    """Adam on the summed per-model loss; each model its own batch order.
    Xtr: (M, n, L), Ytr: (M, n). Returns the loss (epochs, M)."""
    M, n = Ytr.shape
    opt = torch.optim.Adam(model.parameters(), lr=P["lr"])
    gens = [runtime.generator(s, 3) for s in seeds]
    losses = []
    for _ in runtime.progress(range(epochs), desc="epochs"):
        order = torch.stack([torch.randperm(n, generator=g) for g in gens])
        tot = torch.zeros(M)
        for k in range(0, n - P["batch"] + 1, P["batch"]):
            idx = order[:, k:k + P["batch"]]
            xb = torch.take_along_dim(Xtr, idx[..., None], 1)
            yb = torch.take_along_dim(Ytr, idx, 1)
            logits = model(xb.to(dev))
            per_model = F.cross_entropy(
                logits.flatten(0, 1), yb.flatten().to(dev),
                reduction="none").view(M, -1).mean(1)
            opt.zero_grad()
            per_model.sum().backward()
            opt.step()
            tot += per_model.detach().cpu()
        losses.append(tot / (n // P["batch"]))
    return torch.stack(losses).numpy()


@torch.no_grad()
def accuracy(model, Xte, Yte, **kw):
    """Test accuracy per model; Xte (M, n, L)."""
    out = torch.cat([model(Xte[:, k:k + 250].to(dev), **kw)
                     for k in range(0, Xte.shape[1], 250)], 1)
    return (out.argmax(-1).cpu() == Yte).float().mean(1)

# %% [markdown]
# ## Training all arms at once (C3, C4)

# %%
ARMS = ["hippo", "random_a", "random_b", "shuffled", "hippo_seq"]
M = len(ARMS) * S
A_stack, B_stack, X_tr, X_te, Y_tr = [], [], [], [], []
for arm in ARMS:
    for s in ctx.seeds:
        if arm.startswith("random"):
            A_, B_ = ssm.random_stable(
                P["N"], runtime.generator(s, 10 + (arm == "random_b")))
        else:
            A_, B_ = A_legs, B_legs
        A_stack.append(A_)
        B_stack.append(B_)
        Xs = X_seq if arm == "hippo_seq" else X_perm
        X_tr.append(Xs[tr])
        X_te.append(Xs[te])
        y = Y_all[tr]
        if arm == "shuffled":
            g_lab = runtime.generator(s, 4)
            y = y[torch.randperm(len(y), generator=g_lab)]
        Y_tr.append(y)
X_tr, X_te, Y_tr = torch.stack(X_tr), torch.stack(X_te), torch.stack(Y_tr)
Y_te = Y_all[te].expand(M, -1)

lssl = DeepLSSL(M, P["H"], P["layers"], torch.stack(A_stack),
                torch.stack(B_stack),
                runtime.generator(ctx.seeds[0], 5)).to(dev)
p_lssl = n_params(lssl, M)
h_lstm = lstm_hidden_for(p_lssl)
lstm = StackedLSTM(S, h_lstm, runtime.generator(ctx.seeds[0], 6)).to(dev)
p_lstm = n_params(lstm, S)
print(f"parameters per model: LSSL {p_lssl} (H = {P['H']}, N = {P['N']}, "
      f"{P['layers']} layers), LSTM {p_lstm} (h = {h_lstm})")

dt0 = torch.exp(lssl.ssms[0].log_dt.detach()).cpu().clone()
loss_lssl = fit(lssl, X_tr, Y_tr, ctx.seeds * len(ARMS), P["epochs"])
acc_lssl = accuracy(lssl, X_te, Y_te).view(len(ARMS), S)
def per_seed(x):
    return x.expand(S, *x.shape)

loss_lstm = fit(lstm, per_seed(X_perm[tr]), per_seed(Y_all[tr]),
                ctx.seeds, P["epochs"])
acc_lstm = accuracy(lstm, per_seed(X_perm[te]), per_seed(Y_all[te]))
acc = {arm: acc_lssl[i].numpy() for i, arm in enumerate(ARMS)}
acc["lstm"] = acc_lstm.numpy()
for k, v in acc.items():
    print(f"{k:10s} test accuracy per seed: {np.round(v, 3)}")

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2), width_ratios=[3, 2])
plots.seed_points(axs[0], {
    "HiPPO\n(perm.)": acc["hippo"], "random A\n(perm.)": acc["random_a"],
    "random A'\n(perm.)": acc["random_b"], "LSTM\n(perm.)": acc["lstm"],
    "HiPPO\nshuffled": acc["shuffled"], "HiPPO\n(seq.)": acc["hippo_seq"],
}, ylabel="test accuracy")
axs[0].set_title("digits read pixel by pixel (substitute for MNIST)")
loss_arm = loss_lssl.reshape(len(loss_lssl), len(ARMS), S).mean(-1)
for k, arm in enumerate(ARMS):
    axs[1].plot(loss_arm[:, k], color=plots.COLORBLIND[k], label=arm)
axs[1].plot(loss_lstm.mean(-1), color="k", ls="--", label="LSTM")
axs[1].set(xlabel="epoch", ylabel="training loss", title="training")
axs[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# ## C5: timescale adaptation
#
# A separate stack (HiPPO, one model per seed) trains on the interpolated sequences of
# $2L-1$ steps. At test time it reads the original $L$ samples (every second sample of the same
# signals) with $\Delta$ doubled, as the authors' code does for a shorter test sequence [C],
# and, as the control, with $\Delta$ unchanged.

# %%
fine = DeepLSSL(S, P["H"], P["layers"], A_legs, B_legs,
                runtime.generator(ctx.seeds[0], 7)).to(dev)
loss_fine = fit(fine, per_seed(X_fine[tr]), per_seed(Y_all[tr]),
                ctx.seeds, P["epochs"])
Yte_S = Y_all[te].expand(S, -1)
acc_fine = accuracy(fine, X_fine[te].expand(S, -1, -1), Yte_S).numpy()
acc_dt2 = accuracy(fine, X_perm[te].expand(S, -1, -1), Yte_S,
                   dt_scale=2.0).numpy()
acc_dt1 = accuracy(fine, X_perm[te].expand(S, -1, -1), Yte_S).numpy()
print("accuracy at the training rate:", np.round(acc_fine, 3),
      "\nhalf the rate, Δ × 2:        ", np.round(acc_dt2, 3),
      "\nhalf the rate, Δ unchanged:  ", np.round(acc_dt1, 3))

# %% [markdown]
# A diagnosis, added after the first run had shown the result (it is not part of any rule):
# where does the doubled $\Delta$ stop matching? For each layer we compare the linear
# system's output on the fine sequence, at every second step, with its output on the coarse
# sequence with $\Delta \times 2$, relative to its size.

# %%
@torch.no_grad()
def layer_outputs(model, x, dt_scale=1.0):
    """The linear SSM output of every layer (model's own forward)."""
    outs = []
    h = (x[..., None] * model.enc_w[:, None, None]
         + model.enc_b[:, None, None])
    for layer, W, b in zip(model.ssms, model.mix_w, model.mix_b):
        z = layer(h, "conv", dt_scale)
        outs.append(z)
        y = torch.einsum("mblh,mhk->mblk", F.gelu(z), W) + b[:, None, None]
        h = F.layer_norm(h + y, (model.H,))
    return outs

x_f = X_fine[te[:200]].expand(S, -1, -1).to(dev)
x_c = X_perm[te[:200]].expand(S, -1, -1).to(dev)
rel_err = [
    float((zf[:, :, ::2] - zc).norm() / zf[:, :, ::2].norm())
    for zf, zc in zip(layer_outputs(fine, x_f),
                      layer_outputs(fine, x_c, 2.0))
]
print("relative mismatch of each layer's SSM output, Δ × 2 vs fine:",
      np.round(rel_err, 3))
runtime.glue("a42_mismatch_l1", rel_err[0])
runtime.glue("a42_mismatch_last", rel_err[-1])

# %% [markdown]
# ## The trained layer in both modes (C1, continued)
#
# The first layer of the first HiPPO model, after training, run on two test sequences as a
# recurrence (parallel scan) and as an FFT convolution.

# %%
with torch.no_grad():
    layer = lssl.ssms[0]
    Ab_t, Bb_t = (t[0].cpu() for t in layer.system())
    h_in = (X_te[0, :2, :, None] * lssl.enc_w[0].cpu()
            + lssl.enc_b[0].cpu()).transpose(1, 2)  # (2, H, L)
    C_t, D_t = layer.C[0].cpu(), layer.D[0].cpu()
    sys_t = (Ab_t, Bb_t, C_t, D_t)
    trained_gap = float((ssm.ssm_recurrent(h_in, *sys_t)
                         - ssm.ssm_convolutional(h_in, *sys_t)
                         ).abs().max())
    dt1 = torch.exp(layer.log_dt).cpu()
print(f"trained layer, recurrence vs convolution: {trained_gap:.2e}")
print("Δ before training (model 0, layer 1), quartiles:",
      np.round(np.quantile(dt0[0].numpy(), [0.25, 0.5, 0.75]), 4),
      "\n         after:", np.round(np.quantile(dt1[0].numpy(),
                                              [0.25, 0.5, 0.75]), 4))

# %% [markdown]
# ## Verdicts

# %%
report.measure("C1", rec_vs_conv_f32=rec_vs_conv,
               scan_vs_loop_f64=scan_vs_loop, zoh_vs_ode=zoh_vs_ode,
               trained_rec_vs_conv=trained_gap)
i512 = Ls.index(512)
report.measure(
    "C2",
    bilinear_halving_ratio=float(errs["bilinear", True][i512 - 1]
                                 / errs["bilinear", True][i512]),
    bilinear_order=order(errs["bilinear", True]),
    euler_order_low=order(errs["euler", True]),
    euler_order_high=order(errs["euler", True]),
    bilinear_order_endpoint=order(errs["bilinear", False]),
    zoh_order=order(errs["zoh", True]))
report.measure(
    "C3", gap_hippo_random=acc["hippo"] - acc["random_a"],
    gap_random_random=acc["random_b"] - acc["random_a"],
    acc_hippo_perm=acc["hippo"], acc_random_perm=acc["random_a"],
    acc_hippo_seq=acc["hippo_seq"],
    note="paper (MNIST, 784 steps): 99.53 % sequential, 98.76 % permuted; "
         "ours: 8×8 digits, a substitute")
report.measure(
    "C4", gap_lssl_lstm=acc["hippo"] - acc["lstm"],
    param_mismatch=abs(p_lssl / p_lstm - 1),
    gap_shuffled_lstm=acc["shuffled"] - acc["lstm"],
    acc_lstm_perm=acc["lstm"], acc_shuffled=acc["shuffled"],
    note=f"{p_lssl} parameters (LSSL) against {p_lstm} "
         f"(LSTM, h = {h_lstm})")
report.measure(
    "C5", drop_dt_doubled=acc_fine - acc_dt2,
    drop_dt_kept=acc_fine - acc_dt1,
    acc_fine=acc_fine)
report.untestable(
    "C6", "no speech data set is available offline (the paper uses Speech "
    "Commands, raw 16 kHz audio), and 16,000-step sequences are beyond "
    "the ci budget; the full profile does not attempt it either")
print(report.verdicts())
for k, v in {"hippo": acc["hippo"], "random": acc["random_a"],
             "random_b": acc["random_b"], "lstm": acc["lstm"],
             "seq": acc["hippo_seq"], "shuffled": acc["shuffled"],
             "fine": acc_fine, "dt2": acc_dt2, "dt1": acc_dt1}.items():
    runtime.glue(f"a42_acc_{k}", 100 * float(np.mean(v)))
runtime.glue("a42_order_endpoint", order(errs["bilinear", False]))
runtime.glue("a42_order_bilinear", order(errs["bilinear", True]))

# %% [markdown]
# ## Checks that do not depend on the run
#
# HiPPO-LegS against its definition, one discretisation against `scipy.signal.cont2discrete`,
# the interpolation's subsampling identity, and the parameter counts' formula.

# %% tags=["nbval-check-output"]
from scipy.signal import cont2discrete

A3, B3 = ssm.hippo_legs(3)
print("LegS N = 3:", A3.tolist(), B3.round(decimals=4).tolist())
Ad_s, Bd_s, *_ = cont2discrete(
    (A3.numpy(), B3.numpy()[:, None], np.ones((1, 3)), np.zeros((1, 1))),
    0.1, "bilinear")
print("bilinear == scipy:", np.allclose(
    ssm.discretize(A3, B3, 0.1)[0].numpy(), Ad_s, atol=1e-12))
xt = torch.arange(5.0)
print("upsample2(0..4):", upsample2(xt).tolist())
print("LSTM parameters 4h^2 + 18h + 10 at h = 32:",
      n_params(StackedLSTM(1, 32, torch.Generator().manual_seed(0)), 1))

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## What the numbers say
#
# The three views agree to rounding, and the bilinear rule is of second order, as claimed,
# **when a sample stands for the middle of its step**; with endpoint samples its order is
# {glue:text}`a42_order_endpoint:.2f`, no better than Euler's (a detail of reading the data,
# not of the rule). On the digits, HiPPO-LegS reaches {glue:text}`a42_acc_hippo:.1f` % on the
# permuted sequences against {glue:text}`a42_acc_random:.1f` % with a random stable $A$ and
# {glue:text}`a42_acc_lstm:.1f` % for the LSTM of equal size; {glue:text}`a42_acc_seq:.1f` % in
# row order. The paper's 99.53 % and 98.76 % are on MNIST at 784 steps, with larger models and
# hundreds of epochs; our numbers are a miniature on a substitute data set and are not
# comparable in level. Trained at twice the sampling rate ({glue:text}`a42_acc_fine:.1f` %), a
# model reads the sequences at the original rate at {glue:text}`a42_acc_dt2:.1f` % with $\Delta$
# doubled and at {glue:text}`a42_acc_dt1:.1f` % with $\Delta$ unchanged: doubling $\Delta$ recovers
# much of the loss but not to within 5 points, so C5 is not reproduced in our miniature. The
# diagnosis after the run points at the kernel itself: already in the first layer, whose input
# is exactly the interpolated signal, the linear system's output with $\Delta \times 2$ differs
# from the fine output by {glue:text}`a42_mismatch_l1:.2f` of its size (the last layer:
# {glue:text}`a42_mismatch_last:.2f`). LegS has eigenvalues up to $-N$, so with the learned
# $\Delta$ of order $10^{-2}$ its fastest modes decay within a few steps; a kernel that changes
# on the scale of one step cannot be resampled at half the rate. The adaptation holds for the
# slow part of the kernel only (in the tests, a zero-order hold on a held input matches exactly,
# `tests/test_ssm.py`). Permuted pixels are rough signals; speech at 16 kHz, the paper's case,
# is oversampled relative to its content, where this should matter less.

# %% [markdown]
# ## Versus the authors' code
#
# We read `state-spaces/s4` (the LSSL module `src/models/sequence/modules/lssl.py`, its config
# `configs/model/layer/lssl.yaml`, `src/models/hippo/hippo.py` and `transition.py`,
# `src/models/functional/krylov.py`); nothing is copied.
#
# | | authors' code | this chapter |
# |---|---|---|
# | LegS matrix | $T M T^{-1}$ with $M$ lower triangular, $T = \mathrm{diag}\sqrt{2n+1}$ | the closed form; the same matrix (checked entrywise in the tests) |
# | discretisation | GBT with $\alpha = \frac12$ by default, through structured solves (`gbt_A`, `gbt_B`) | GBT by a dense `torch.linalg.solve`; ZOH by a block matrix exponential |
# | kernel | Krylov matrix by repeated squaring, then $C\,K$ and an FFT convolution | the same doubling, then an FFT of length $2L$ |
# | $A$ | fixed (`learn: 0`, LSSL-f) or trained in a structured class (`learn: 1`, the config's default) | fixed (LSSL-f); a random stable $A$ as control ($G/\sqrt N$ shifted; the authors' `random` is $G/N$ with $B = 1$, unshifted) |
# | $\Delta$ | per channel, log-uniform in $[10^{-3}, 10^{-1}]$, learned at its own learning rate $10^{-3}$ | the same range, learned at the model's learning rate |
# | $C$, $D$ | $C \sim \mathcal N(0, 1)$, $M$ copies per channel (`channels`) | $C \sim \mathcal N(0, 1/N)$, one copy ($M = 1$) |
# | layer | GELU, dropout, linear output map over $H \cdot M$ channels; residual and norm in the backbone | GELU, $H \times H$ mixing, residual, layer norm |
# | test-time rate | $\Delta \times$ (training length / test length), rounded | $\Delta \times 2$ (C5) |
# | recurrent mode | state passing via Krylov powers of $A^\top$; no step function | the parallel matrix scan of `rnnbook.scan` |
# | size | the layer config sets $N = 256$ ($H$ and depth come from the backbone; no LSSL experiment config is left in the repository) | $H = 16$, $N = 16$, 2 layers, 8 epochs (ci); $H = N = 64$, 4 layers, 60 epochs (full) |

# %% [markdown]
# ## How the tolerances were obtained
#
# The ci profile was re-executed with 1 and 2 threads (seeds 0–2) and with two other seed sets
# (3–5 and 6–8); the table shows, per check, the change between thread paths and between seed
# sets beside the declared `tol`, and the verdicts seen. Each `tol` is at least three times the
# thread-path change and at least the seed-set change, rounded up to a 1-2-5 step. Every
# check came out bit-identical with 1 and 2 threads; the accuracies move by up to 0.09
# between seed sets (the random-$A$ control and the $\Delta$-unchanged control most), and all
# verdicts were the same in the four runs. Two `tol` were raised after the variation run
# (the random-$A$ control's and the shuffled-label accuracy's, to 0.1); no rule changed.

# %%
report.tolerances("../../data/a42_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Data (substitute) and scale (miniature).** scikit-learn's 8×8 digits (1,297 for training,
#   500 for testing), 64 steps in ci and 256 (zoomed to 16×16) in the full profile, instead of
#   MNIST's 60,000 images at 784 steps; $H = 16$, $N = 16$, two layers and 8 epochs in ci
#   (1,322 parameters per model). The paper's 99.53 / 98.76 % are printed beside ours for
#   orientation only. Neither the LSSL nor the LSTM has necessarily converged in 8 epochs: C4
#   compares them at one training budget.
# - **$A$ fixed.** Our LSSL is the paper's LSSL-f: $A$ and $B$ are fixed, $C$, $D$ and $\Delta$
#   are trained. The paper's best numbers train $A$ within a structured class.
# - **Baselines.** One LSTM of equal parameter count, trained like the LSSL; the paper compares
#   against published numbers of many models.
# - **Speech (C6)** is not tested: no data offline and sequences of 16,000 steps.
# - **The order of the bilinear rule (C2)** is judged with midpoint samples; the endpoint
#   reading, under which the order drops to one, is reported beside. The paper does not discuss
#   the convention; the statement "second order" is ours to make precise [R].
# - **Timescale adaptation (C5)** follows the authors' code's test-time rule; the paper's own
#   experiment of this kind is on speech at a different sampling rate.
#
# ## References
#
# ```{footbibliography}
# ```
