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
# # A36 · Attention, SSMs and RNNs as one dynamical system (DSF)
#
# Sieber, Alonso, Didier, Zeilinger and Orvieto {footcite}`sieber2024understanding` write
# softmax attention {footcite}`vaswani2017attention`, linear attention
# {footcite}`katharopoulos2020transformers`, selective state-space models (S6, the layer of
# Mamba {footcite}`gu2023mamba`) and gated linear RNNs in one form, the **Dynamical Systems
# Framework (DSF)**:
#
# $$h_t = \Lambda_t h_{t-1} + B_t u_t, \qquad y_t = C_t h_t ,$$
#
# with a hidden state $h_t \in \mathbb{R}^N$ and matrices $\Lambda_t, B_t, C_t$ that may depend
# on the input. In this form the models differ only in how $\Lambda_t, B_t, C_t$ are built and
# in the state size $N = n\,d$ (the *state expansion* $n$ times the width $d$): linear
# attention has $\Lambda_t = I$ and a state of $n\,d$ numbers for a feature map of dimension
# $n$; S6 has a diagonal, input-dependent $\Lambda_t = e^{\Delta_t A}$; an LSTM whose gates
# depend on the input only (a *quasi*-LSTM) has $\Lambda_t = \mathrm{diag}(f_t)$ and $n = 1$;
# softmax attention is the limit $N \to \infty$, since $e^{q^\top k}$ is an inner product of
# infinite-dimensional features. The paper uses the framework to say when linear attention
# and S6 coincide, when softmax attention can be approximated by a finite state, and argues,
# with experiments on multi-query associative recall (MQAR) {footcite}`arora2023zoology`, that
# state expansion and the normalisation of the recurrence drive performance.
#
# We write the three recurrent models in DSF matrices and check that the recurrence and the
# parallel (attention-like) form agree; we approximate softmax attention by linear attention
# with positive random features {footcite}`choromanski2021rethinking` of growing dimension;
# and we train linear attention with growing state against softmax attention on generated
# MQAR (the book's `rnnbook.recall`, introduced with this chapter). All at miniature size.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) "we introduce the Dynamical Systems Framework (DSF), which allows a
#   principled investigation of all these architectures in a common representation":
#   normalised linear attention, an S6-like selective SSM and a qLSTM-like RNN, written as
#   $h_t = \Lambda_t h_{t-1} + B_t u_t$, $y_t = C_t h_t$ and run as a recurrence, give the
#   outputs of their parallel forms.
# - **C2** "the theoretical conditions under which softmax attention can be approximated":
#   linear attention with positive random features of dimension $n$ (a DSF with state
#   expansion $n$) approaches causal softmax attention as $n$ grows.
# - **C3** "we substantiate these new insights with empirical validations": on MQAR, the
#   accuracy of normalised linear attention rises with its state expansion toward that of
#   softmax attention.
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
from torch import nn

from rnnbook import claims, plots, recall, runtime, scan
from rnnbook import linear_attention as la

ctx = runtime.setup(
    "a36", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(L_eq=64, d_eq=8, n_eq=4, rf_L=128, rf_d=16, rf_draws=8,
            rf_m=[8, 32, 128, 512], mq_len=48, mq_pairs=8, mq_vocab=64,
            mq_d=32, mq_n=[4, 16, 64], mq_steps=400, mq_batch=64,
            mq_test=512, lr=1e-2),
    full=dict(L_eq=256, d_eq=16, n_eq=8, rf_L=512, rf_d=32, rf_draws=32,
              rf_m=[8, 32, 128, 512, 2048], mq_len=128, mq_pairs=16,
              mq_vocab=128, mq_d=64, mq_n=[4, 16, 64, 256],
              mq_steps=3000, mq_batch=128, mq_test=4096, lr=3e-3),
)  # fmt: skip
S = len(ctx.seeds)
EMB_STD = 0.25  # embedding init of the MQAR models [R]

# %% [markdown]
# All claims are declared here, before any experiment runs.
#
# - **C1 is a construction**: the recurrent form and the parallel form are two ways of
#   evaluating one function, so they agree to round-off in `float64` unless the code is
#   wrong ($10^{-10}$, also for the gradients with respect to the input).
# - **C2.** The random-feature estimate of $e^{q^\top k}$ is unbiased with a standard error
#   $\propto 1/\sqrt{n}$, so the error of the attention output should fall roughly like
#   $n^{-1/2}$: by a factor near 8 from $n = 8$ to $n = 512$. The research notes' rule, which
#   we adopt: the relative error falls at every step of the sweep $n \in \{8, 32, 128, 512\}$
#   (no rise beyond 2 % of the previous value) and by at least 3× from the smallest to the
#   largest $n$. The control that must fail: features whose query and key projections are
#   drawn independently (mismatched), a state of the same size that estimates the wrong
#   kernel, so a larger state cannot close the gap.
# - **C3.** The paper's Figure 1 shows linear attention approaching softmax on MQAR as the
#   state grows (we had no numeric values from it). The research notes' rule: accuracy does
#   not fall by more than 2 points from one state expansion to the next, and the gap to
#   softmax at the largest $n$ is at most half the gap at the smallest ("closure" ≥ 0.5). For
#   the comparison to mean anything softmax attention must solve the task (≥ 0.9) and the
#   rise must be large (the largest $n$ at least 0.2 above the smallest). The control that
#   must fail the rise: the same models untrained.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Dynamical Systems Framework (DSF)")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
n_lo, n_hi = P["mq_n"][0], P["mq_n"][-1]
report.claim(
    "C1", "Normalised linear attention, an S6-like SSM and a qLSTM-like RNN in DSF "
    "matrices: the recurrence h_t = Λ_t h_{t−1} + B_t u_t, y_t = C_t h_t equals the "
    "parallel form (and the log-depth scan), values and input gradients.",
    kind="construction", paper="exact reformulation (Sections 2-3)",
    checks=[
        ev("err_la", "<=", 1e-10, "max |recurrence − masked attention|, linear attention",
           tol=1e-10),
        ev("err_s6", "<=", 1e-10, "max |recurrence − materialised Φ u|, S6", tol=1e-10),
        ev("err_qlstm", "<=", 1e-10, "max |recurrence − materialised Φ u|, qLSTM",
           tol=1e-10),
        ev("err_scan", "<=", 1e-10, "max |recurrence − rnnbook.scan|, all three",
           tol=1e-10),
        ev("err_grad", "<=", 1e-10, "max |input gradient difference|, all three",
           tol=1e-10),
    ])
report.claim(
    "C2", "Causal linear attention with positive random features of dimension n "
    "approaches causal softmax attention as n grows.", kind="empirical",
    paper="softmax = DSF with N = ∞; approximable by a finite state (no number given)",
    checks=[
        ev("rf_ratio", ">=", 3.0, f"relative error at n = {P['rf_m'][0]} / at n = "
           f"{P['rf_m'][-1]}", over="mean", tol=1.0),
        ev("rf_rises", "==", 0, "steps of the sweep where the error rises by > 2 %",
           over="max"),
        ctl("rf_ratio_mismatched", "rf_ratio", "query and key features drawn "
            "independently", over="mean", tol=0.3),
        ctx_("rf_err_lo", f"relative error, n = {P['rf_m'][0]}", tol=0.05),
        ctx_("rf_err_hi", f"relative error, n = {P['rf_m'][-1]}", tol=0.05),
        ctx_("rf_ratio_small", "rf_ratio with logits of variance 1/4 (added "
             "after the first run, not judged)", over="mean", tol=1.0),
    ])
report.claim(
    "C3", "On MQAR, the accuracy of normalised linear attention rises with its state "
    "expansion n toward softmax attention (miniature, generated data).",
    kind="empirical",
    paper="Fig. 1: linear attention approaches softmax on MQAR as state expansion "
    "grows (values not available to us)",
    checks=[
        ev("closure", ">=", 0.5, f"1 − gap(n = {n_hi}) / gap(n = {n_lo}), gap = "
           "softmax − linear attention", over="mean", tol=0.15),
        ev("rise", ">=", 0.2, f"accuracy n = {n_hi} − n = {n_lo}", over="mean",
           tol=0.1),
        ev("drop", "<=", 0.02, "largest fall of accuracy between consecutive n",
           over="max", tol=0.05),
        ev("acc_soft", ">=", 0.9, "softmax attention accuracy", over="mean",
           tol=0.05),
        ctl("rise_untrained", "rise", "the same models untrained", over="mean",
            tol=0.02),
        ctx_("acc_lo", f"accuracy, linear attention n = {n_lo}", tol=0.1),
        ctx_("acc_hi", f"accuracy, linear attention n = {n_hi}", tol=0.1),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Three models in DSF matrices (C1)
#
# For an input sequence $u_1, \dots, u_L \in \mathbb{R}^d$ we build, for each model, the
# matrices $\Lambda_t$ (diagonal here, $N$ numbers), $B_t \in \mathbb{R}^{N \times d}$ and
# $C_t \in \mathbb{R}^{d \times N}$ explicitly, and run the recurrence one step at a time
# (`dsf_loop`). The constructions follow the paper's Section 3 as we read it [R]:
#
# - **Normalised linear attention** with feature map $\phi$ of dimension $n$,
#   $y_t = \sum_{j \le t} \phi(q_t)^\top \phi(k_j)\, v_j / \eta_t$ with
#   $\eta_t = \sum_{j\le t} \phi(q_t)^\top\phi(k_j)$: the state holds
#   $\sum_j v_j \otimes \phi(k_j)$ ($N = n d$), so $\Lambda_t = I$,
#   $B_t = W_v \otimes \phi(k_t)$ and $C_t = (I_d \otimes \phi(q_t))^\top / \eta_t$. The
#   normaliser is itself a recurrence, $z_t = z_{t-1} + \phi(k_t)$, $\eta_t =
#   \phi(q_t)^\top z_t$: the "recurrent normalisation" the paper singles out.
# - **S6-like SSM**: per channel $c$ and state index $i$,
#   $\Lambda_t = \exp(\Delta_t^c a_i)$ with $\Delta_t = \mathrm{softplus}(W_\Delta u_t)$,
#   $B_t$ writes $\Delta_t^c\, (W_B u_t)_i\, u_t^c$, $C_t$ reads $(W_C u_t)^\top h^c_t$;
#   $N = n d$.
# - **qLSTM-like RNN**: gates from the input only, $f_t, i_t, o_t = \sigma(W_{f,i,o} u_t)$,
#   $c_t = f_t \odot c_{t-1} + i_t \odot W_z u_t$, $y_t = o_t \odot c_t$: $\Lambda_t =
#   \mathrm{diag}(f_t)$, $B_t = \mathrm{diag}(i_t) W_z$, $C_t = \mathrm{diag}(o_t)$; $N = d$
#   ($n = 1$). Without the LSTM's $\tanh$ on the cell input and output (the quasi-LSTM
#   simplification, so that the map is linear in the state).
#
# The **parallel form** is the model's own definition where it has one (the masked attention
# matrix for linear attention), and otherwise the materialised matrix $y = \Phi u$ with
# $\Phi_{tj} = C_t \Lambda_t \cdots \Lambda_{j+1} B_j$ for $j \le t$, whose products of
# diagonal $\Lambda$'s are differences of cumulative sums of $\log \Lambda$ (how S6 and gated
# RNNs become attention-like). A third evaluation runs the same recurrence through the book's
# log-depth `rnnbook.scan.parallel_scan`.

# %%
def dsf_loop(lam, Bm, Cm, u):
    """The DSF recurrence, one step at a time [R]. lam (L, N) diagonal
    of Λ_t, Bm (L, N, d), Cm (L, d_out, N), u (L, d) -> y (L, d_out)."""
    h = torch.zeros(lam.shape[-1], dtype=u.dtype)
    ys = []
    for t in range(u.shape[0]):
        h = lam[t] * h + Bm[t] @ u[t]
        ys.append(Cm[t] @ h)
    return torch.stack(ys)


def dsf_scan(lam, Bm, Cm, u):
    """The same recurrence by rnnbook.scan.parallel_scan (log depth)."""
    h = scan.parallel_scan(lam, torch.einsum("tnd,td->tn", Bm, u))
    return torch.einsum("ton,tn->to", Cm, h)


phi_elu = la.elu_features


def linear_attention_dsf(u, W):
    """Normalised linear attention as (Λ, B, C) [R]: state index
    (value channel c, feature i) -> c * n + i."""
    q, k = phi_elu(u @ W["q"]), phi_elu(u @ W["k"])
    L, n = q.shape
    eta = (q * k.cumsum(0)).sum(-1)  # recurrent normaliser
    lam = torch.ones(L, W["v"].shape[1] * n, dtype=u.dtype)
    Bm = torch.einsum("dc,ti->tcid", W["v"], k).reshape(L, -1, u.shape[1])
    eye = torch.eye(W["v"].shape[1], dtype=u.dtype)
    Cm = torch.einsum("co,ti->toci", eye, q).reshape(L, eye.shape[0], -1)
    return lam, Bm, Cm / eta[:, None, None]


def linear_attention_parallel(u, W):
    """The model's own parallel form: the causal attention matrix."""
    q, k, v = phi_elu(u @ W["q"]), phi_elu(u @ W["k"]), u @ W["v"]
    return la.causal_linear_attention(q, k, v)


def s6_dsf(u, W):
    """S6-like selective SSM as (Λ, B, C) [R]: index c * n + i."""
    L, d = u.shape
    dt = F.softplus(u @ W["dt"] + W["dt_b"])  # (L, d)
    Bt, Ct = u @ W["B"], u @ W["C"]  # (L, n)
    lam = torch.exp(dt[:, :, None] * W["a"][None]).reshape(L, -1)
    eye = torch.eye(d, dtype=u.dtype)
    Bm = torch.einsum("tc,ti,cd->tcid", dt, Bt, eye).reshape(L, -1, d)
    Cm = torch.einsum("ti,co->toci", Ct, eye).reshape(L, d, -1)
    return lam, Bm, Cm


def qlstm_dsf(u, W):
    """qLSTM-like RNN (input-only gates, no tanh) as (Λ, B, C) [R]."""
    f, i, o = (torch.sigmoid(u @ W[g]) for g in ("f", "i", "o"))
    Bm = i[:, :, None] * W["z"].T[None]
    return f, Bm, torch.diag_embed(o)


def materialised(lam, Bm, Cm, u):
    """y = Φ u with Φ_tj = C_t Λ_t ... Λ_{j+1} B_j (j <= t), from
    cumulative log-decays: the attention-like parallel form."""
    G = torch.log(lam).cumsum(0)  # (L, N)
    decay = torch.exp((G[:, None] - G[None]).clamp(max=0.0))
    mask = torch.ones(len(u), len(u), dtype=torch.bool).tril()
    decay = decay * mask[..., None]  # (t, j, N)
    Bu = torch.einsum("jnd,jd->jn", Bm, u)
    return torch.einsum("ton,tjn,jn->to", Cm, decay, Bu)


# %% [markdown]
# The weights are random (`float64`), one draw per seed; the gradient check compares
# $\partial \sum_t y_t \cdot r_t / \partial u$ for a random $r$ between the loop and the two
# parallel forms.

# %%
def random_weights(g, d, n):
    def r(*s):
        return torch.randn(*s, generator=g, dtype=torch.float64)

    return dict(
        q=r(d, n) / d**0.5, k=r(d, n) / d**0.5, v=r(d, d) / d**0.5,
        dt=r(d, d) / d**0.5, dt_b=r(d) - 1.0, B=r(d, n), C=r(d, n),
        a=-torch.rand(d, n, generator=g, dtype=torch.float64) * 4 - 0.5,
        f=r(d, d) / d**0.5 + 1.0, i=r(d, d) / d**0.5,
        o=r(d, d) / d**0.5, z=r(d, d) / d**0.5)


def grad_of(fn, u, r):
    u = u.detach().requires_grad_(True)
    (gu,) = torch.autograd.grad((fn(u) * r).sum(), u)
    return gu


c1 = {k: [] for k in ("err_la", "err_s6", "err_qlstm", "err_scan",
                      "err_grad")}
models = dict(la=linear_attention_dsf, s6=s6_dsf, qlstm=qlstm_dsf)
for seed in ctx.seeds:
    g = runtime.generator(seed, 1)
    W = random_weights(g, P["d_eq"], P["n_eq"])
    u = torch.randn(P["L_eq"], P["d_eq"], generator=g, dtype=torch.float64)
    r = torch.randn(P["L_eq"], P["d_eq"], generator=g, dtype=torch.float64)
    e_scan, e_grad = 0.0, 0.0
    for name, build in models.items():
        def rec(x, build=build, W=W):
            return dsf_loop(*build(x, W), x)

        def par(x, build=build, name=name, W=W):
            if name == "la":
                return linear_attention_parallel(x, W)
            return materialised(*build(x, W), x)

        def scn(x, build=build, W=W):
            return dsf_scan(*build(x, W), x)

        y_rec = rec(u)
        c1[f"err_{name}"].append(float((y_rec - par(u)).abs().max()))
        e_scan = max(e_scan, float((y_rec - scn(u)).abs().max()))
        g_rec = grad_of(rec, u, r)
        e_grad = max(e_grad,
                     float((g_rec - grad_of(par, u, r)).abs().max()),
                     float((g_rec - grad_of(scn, u, r)).abs().max()))
    c1["err_scan"].append(e_scan)
    c1["err_grad"].append(e_grad)
report.measure("C1", c1)
state_N = {k: models[k](u, W)[0].shape[-1] for k in models}
print({k: f"{max(v):.1e}" for k, v in c1.items()}, "state N:", state_N)

# %% [markdown]
# All three agree with their parallel forms to round-off (largest difference over seeds
# {glue:text}`a36_c1_max`), values and gradients. The state sizes of this check
# ($d$ = {glue:text}`a36_d_eq`, $n$ = {glue:text}`a36_n_eq`): linear attention and S6 keep
# $N = n d$ = {glue:text}`a36_N_la` numbers, the qLSTM $N = d$ = {glue:text}`a36_N_q`. Two of
# the paper's statements follow from the matrices above and are not tested as claims (they
# are theory, not measurement): linear attention is an S6-like system with $\Lambda_t = I$
# (no forgetting) whose $C_t$ carries a normaliser $\eta_t$ computed by a second recurrence;
# and S6 becomes linear attention without normalisation when $\Delta_t a_i \to 0$ (then
# $\Lambda_t \to I$), with $B_t$ and $C_t$ in the roles of key and query.

# %%
runtime.glue("a36_c1_max", f"{max(max(v) for v in c1.values()):.1e}")
runtime.glue("a36_d_eq", P["d_eq"])
runtime.glue("a36_n_eq", P["n_eq"])
runtime.glue("a36_N_la", state_N["la"])
runtime.glue("a36_N_q", state_N["qlstm"])

# %% [markdown]
# ## Softmax attention as the limit of growing state (C2)
#
# The exponential kernel has positive random features {footcite}`choromanski2021rethinking`:
# with $w \sim \mathcal{N}(0, I)$,
# $\mathbb{E}_w\!\left[e^{w^\top q - |q|^2/2}\, e^{w^\top k - |k|^2/2}\right] = e^{q^\top k}$.
# Drawing $n$ such $w$ gives a feature map $\phi_n$ and a normalised linear attention with
# state expansion $n$ whose attention weights estimate softmax's. We measure the relative
# error $\lVert Y_n - Y_{\mathrm{softmax}} \rVert_F / \lVert Y_{\mathrm{softmax}} \rVert_F$
# of the causal outputs on random $q, k, v$ (scaled so that $q^\top k$ has unit variance),
# averaged over {glue:text}`a36_rf_draws` feature draws per $n$. The control draws the
# query features and the key features from two independent sets of $w$: the same state size,
# but its expected kernel is a constant, so it estimates uniform causal averaging, not
# softmax.

# %%
# the library's forms (`rnnbook.linear_attention`, each tested against
# its recurrence as a loop)
causal_softmax = la.causal_softmax_attention
prf = la.positive_random_features
causal_linear = la.causal_linear_attention


# per arm and seed: the error per n; "small logits" is q, k / sqrt(2)
rf_err = {"matched": [], "mismatched": [], "small logits": []}
for seed in ctx.seeds:
    g = runtime.generator(seed, 2)
    D, Lr, R = P["rf_d"], P["rf_L"], P["rf_draws"]
    q0, k0, v = (torch.randn(R, Lr, D, generator=g, dtype=torch.float64)
                 * D ** -0.25 for _ in range(3))
    for arm in rf_err:
        c = 0.5**0.5 if arm == "small logits" else 1.0
        q, k = q0 * c, k0 * c
        y_ref = causal_softmax(q, k, v)
        errs = []
        for m in P["rf_m"]:
            w1 = torch.randn(R, m, D, generator=g, dtype=torch.float64)
            w2 = (torch.randn(R, m, D, generator=g, dtype=torch.float64)
                  if arm == "mismatched" else w1)
            y = causal_linear(prf(q, w1), prf(k, w2), v)
            e = (y - y_ref).flatten(1).norm(dim=1) / y_ref.flatten(1).norm(
                dim=1)
            errs.append(float(e.mean()))
        rf_err[arm].append(errs)


def rises(errs):
    return sum(b > 1.02 * a for a, b in zip(errs, errs[1:]))


c2 = dict(
    rf_ratio=[e[0] / e[-1] for e in rf_err["matched"]],
    rf_rises=[rises(e) for e in rf_err["matched"]],
    rf_ratio_mismatched=[e[0] / e[-1] for e in rf_err["mismatched"]],
    rf_err_lo=float(np.mean([e[0] for e in rf_err["matched"]])),
    rf_err_hi=float(np.mean([e[-1] for e in rf_err["matched"]])),
    rf_ratio_small=[e[0] / e[-1] for e in rf_err["small logits"]])
report.measure("C2", c2)
for arm, errs in rf_err.items():
    print(arm, np.round(np.mean(errs, 0), 4).tolist())

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for j, (arm, errs) in enumerate(rf_err.items()):
    e = np.array(errs)
    ax.plot(P["rf_m"], e.mean(0), "o-", color=plots.COLORBLIND[j],
            label=f"{arm} features")
    for row in e:
        ax.plot(P["rf_m"], row, color=plots.COLORBLIND[j], alpha=0.3,
                lw=0.8)
m_ = np.array(P["rf_m"], dtype=float)
ax.plot(m_, np.mean(rf_err["matched"], 0)[0] * (m_ / m_[0]) ** -0.5, "k--",
        lw=0.8, label=r"$\propto n^{-1/2}$")
ax.set(xscale="log", yscale="log", xlabel="state expansion n (features)",
       ylabel="relative error to softmax",
       title="random-feature attention")
ax.set_xticks(P["rf_m"], [str(m) for m in P["rf_m"]])
ax.minorticks_off()
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With matched features the error falls at every step, from {glue:text}`a36_rf_lo` at $n$ =
# {glue:text}`a36_rf_m0` to {glue:text}`a36_rf_hi` at $n$ = {glue:text}`a36_rf_m1`: a factor
# of only {glue:text}`a36_rf_ratio`, short of the declared 3 and far from the
# $\sqrt{n_{\max}/n_{\min}}$ = {glue:text}`a36_rf_mc` of a Monte Carlo estimate with finite
# variance. The mismatched features, which estimate the
# wrong kernel, fall nearly as much (factor {glue:text}`a36_rf_ratio_mm`): most of what a
# larger state buys here is a smaller spread of the normalised estimate, not a closer
# approach to softmax. The reason is the variance of positive random features: for one
# feature it grows like $e^{|q + k|^2}$, and with $q^\top k$ of unit variance in
# $d$ = {glue:text}`a36_rf_d` dimensions $|q + k|^2 \approx 2\sqrt{d}$ = 8, so a few
# hundred features are still in the heavy-tailed regime. With logits of variance 1/4 (an
# exploration added after the first run, reported as context and not judged) the factor is
# {glue:text}`a36_rf_ratio_small`. So C2 is not reproduced under its declared rule: a finite
# random-feature state does approach softmax attention, but at unit-scale logits too slowly
# for 512 features to come close; the DSF picture of softmax as an infinite state is, at
# this scale, a practical statement as well as a formal one.

# %%
runtime.glue("a36_rf_draws", P["rf_draws"])
runtime.glue("a36_rf_lo", f"{c2['rf_err_lo']:.3f}")
runtime.glue("a36_rf_hi", f"{c2['rf_err_hi']:.3f}")
runtime.glue("a36_rf_m0", P["rf_m"][0])
runtime.glue("a36_rf_m1", P["rf_m"][-1])
runtime.glue("a36_rf_ratio", f"{np.mean(c2['rf_ratio']):.1f}")
runtime.glue("a36_rf_ratio_mm",
             f"{np.mean(c2['rf_ratio_mismatched']):.2f}")
runtime.glue("a36_rf_ratio_small", f"{np.mean(c2['rf_ratio_small']):.2f}")
runtime.glue("a36_rf_d", P["rf_d"])
runtime.glue("a36_rf_mc", f"{(P['rf_m'][-1] / P['rf_m'][0]) ** 0.5:.0f}")

# %% [markdown]
# ## MQAR: accuracy against state expansion (C3)
#
# **Task** (`rnnbook.recall.mqar`, generated; a miniature of the paper's MQAR set-up): a
# sequence of {glue:text}`a36_mq_len` tokens opens with {glue:text}`a36_mq_pairs` key-value
# pairs (keys and values from disjoint halves of a {glue:text}`a36_mq_vocab`-token
# vocabulary), then every key is asked once again at a random position among filler tokens;
# at each query the model must output the paired value. Accuracy is over query positions of
# a fixed test set of {glue:text}`a36_mq_test` sequences.
#
# **Models** [R]: one mixing layer on top of a token embedding that also sees the previous
# token (a fixed "shift", the job of the short convolution or first layer in the paper's
# models, so that the value position carries its key), a residual connection, LayerNorm and
# a linear read-out at the query positions. The mixer is either normalised linear attention
# with the authors' feature map $\phi(x) = \mathrm{elu}(x) + 1$ of dimension
# $n \in$ {glue:text}`a36_mq_n` (DSF state $N = n d$), or causal softmax attention
# (query/key width equal to the largest $n$; $N = \infty$). Width $d$ =
# {glue:text}`a36_mq_d`. All arms and seeds
# train together, each arm as one module with a leading model axis (one model per seed),
# {glue:text}`a36_mq_steps` Adam steps on fresh batches.

# %%
class Mixer(nn.Module):
    """`models` one-layer MQAR models, stacked [R]: shift embedding,
    one attention (linear with elu+1 features of dim n, or softmax),
    residual, LayerNorm, read-out; logits at the query positions."""

    def __init__(self, models, n, soft, d, vocab, g):
        super().__init__()

        def r(*s):
            w = torch.randn(*s, generator=g) / s[-2] ** 0.5
            return nn.Parameter(w)

        self.E = nn.Parameter(  # small init: see the note below
            torch.randn(models, vocab, 2 * d, generator=g) * EMB_STD)
        self.Wqk, self.Wv = r(models, d, 2 * n), r(models, d, d)
        self.Wo, self.Wout = r(models, d, d), r(models, d, vocab)
        self.n, self.d, self.soft = n, d, soft

    def forward(self, x, pos):
        d, n, M = self.d, self.n, self.E.shape[0]
        prev = F.pad(x[:, :-1], (1, 0))
        h = self.E[:, x, :d] + self.E[:, prev, d:]  # (M, B, L, d)
        q, k = (h @ self.Wqk[:, None]).split(n, -1)
        v = h @ self.Wv[:, None]
        q = q.gather(2, pos[None, :, :, None].expand(M, -1, -1, n))
        hq = h.gather(2, pos[None, :, :, None].expand(M, -1, -1, d))
        seen = torch.arange(x.shape[1]) <= pos[..., None]  # (B, Q, L)
        if self.soft:
            s = (q @ k.transpose(-1, -2)) / n**0.5
            a = s.masked_fill(~seen, -math.inf).softmax(-1)
        else:
            s = (phi_elu(q) @ phi_elu(k).transpose(-1, -2)) * seen
            a = s / s.sum(-1, keepdim=True)
        y = F.layer_norm(hq + (a @ v) @ self.Wo[:, None], (d,))
        return y @ self.Wout[:, None]  # (M, B, Q, vocab)


def query_acc(model, batch):
    tq = batch.targets.gather(1, batch.query_pos)
    hit = model(batch.inputs, batch.query_pos).argmax(-1) == tq
    return hit.float().mean((1, 2))  # per model (seed)


g_init = runtime.generator(ctx.seeds[0], 3)
arms = {f"n={n}": Mixer(S, n, False, P["mq_d"], P["mq_vocab"], g_init)
        for n in P["mq_n"]}
arms["softmax"] = Mixer(S, n_hi, True, P["mq_d"], P["mq_vocab"], g_init)
mq = dict(seq_len=P["mq_len"], n_pairs=P["mq_pairs"], vocab=P["mq_vocab"])
test = recall.mqar(P["mq_test"], **mq,
                   generator=runtime.generator(ctx.seeds[0], 4))
assert torch.equal(recall.solve(test.inputs, P["mq_pairs"]), test.targets)
with torch.no_grad():
    acc0 = {a: query_acc(m, test).tolist() for a, m in arms.items()}

# %% [markdown]
# **Protocol changes made after the first runs, before the claims were final (rules
# unchanged).** The first ci run used 250 steps, a softmax query/key width of 16 and
# embeddings initialised with unit variance; it reproduced C3 on seeds 0–1, but on seeds 2–3
# one softmax model stayed near 0.75 and failed the declared sanity check "softmax ≥ 0.9".
# A probe over 8 initialisations showed softmax attention stalling on 3 of 8 (linear
# attention with $n = 64$ on none): with unit-variance embeddings its initial attention
# logits have a standard deviation near 2, so softmax starts saturated on random positions.
# We lowered the embedding initialisation to a standard deviation of
# {glue:text}`a36_emb_std` (softmax then trained on 8 of 8 in the probe), gave softmax the
# query/key width of the largest $n$, and train {glue:text}`a36_mq_steps` steps, for all arms
# alike. That a normalised linear attention trains more reliably than softmax at this size
# is itself an observation of the miniature, not a claim of the paper.
#
# The seeds: model $s$ of every arm is initialised from one stream (seed
# {glue:text}`a36_seed0`'s, drawn in order), and all models see the same batches, drawn from a
# stream of the first seed. So the seed axis varies initialisation, and a re-run with another
# seed set varies both initialisation and data.

# %%
params = [p for m in arms.values() for p in m.parameters()]
opt = torch.optim.Adam(params, lr=P["lr"])
g_data = runtime.generator(ctx.seeds[0], 5)
curve = {a: [] for a in arms}
for step in range(P["mq_steps"]):
    b = recall.mqar(P["mq_batch"], **mq, generator=g_data)
    tq = b.targets.gather(1, b.query_pos)
    loss = sum(F.cross_entropy(m(b.inputs, b.query_pos).flatten(0, 2),
                               tq.repeat(S, 1).flatten()) * S
               for m in arms.values())
    opt.zero_grad()
    loss.backward()
    opt.step()
    if (step + 1) % max(1, P["mq_steps"] // 5) == 0:
        with torch.no_grad():
            for a, m in arms.items():
                curve[a].append((step + 1, query_acc(m, test).tolist()))
with torch.no_grad():
    acc = {a: query_acc(m, test).tolist() for a, m in arms.items()}


def c3_stats(acc):
    ns = [f"n={n}" for n in P["mq_n"]]
    lo, hi, sm = (np.array(acc[k]) for k in (ns[0], ns[-1], "softmax"))
    drop = max(max(np.array(acc[a]) - np.array(acc[b]))
               for a, b in zip(ns, ns[1:]))
    return dict(closure=(1 - (sm - hi) / (sm - lo)).tolist(),
                rise=(hi - lo).tolist(), drop=float(drop),
                acc_soft=sm.tolist(), acc_lo=float(lo.mean()),
                acc_hi=float(hi.mean()))


c3 = c3_stats(acc)
c3["rise_untrained"] = c3_stats(acc0)["rise"]
report.measure("C3", c3)
for a in arms:
    print(f"{a:8s} untrained {np.mean(acc0[a]):.3f}  trained",
          np.round(acc[a], 3).tolist())

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2))
ns = P["mq_n"]
lin = np.array([acc[f"n={n}"] for n in ns])
for s in range(S):
    axs[0].plot(ns, lin[:, s], "o-", color=plots.COLORBLIND[0], alpha=0.5,
                label="linear attention" if s == 0 else None)
    axs[0].axhline(acc["softmax"][s], color=plots.COLORBLIND[1], ls="--",
                   label="softmax attention" if s == 0 else None)
axs[0].plot(ns, lin.mean(1), "o-", color=plots.COLORBLIND[0], lw=2.5)
axs[0].set(xscale="log", xlabel="state expansion n",
           ylabel="MQAR accuracy",
           ylim=(0, 1.05), title="after training (one line per seed)")
axs[0].set_xticks(ns, [str(n) for n in ns])
axs[0].minorticks_off()
axs[0].legend(fontsize=8)
for j, a in enumerate(arms):
    st = [c[0] for c in curve[a]]
    axs[1].plot(st, [np.mean(c[1]) for c in curve[a]], "o-",
                color=plots.COLORBLIND[j],
                label=a if a == "softmax" else f"linear, {a}")
axs[1].set(xlabel="Adam steps", ylabel="MQAR accuracy (mean over seeds)",
           ylim=(0, 1.05), title="training")
axs[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# Linear attention with $n$ = {glue:text}`a36_n_lo` reaches {glue:text}`a36_acc_lo` and with
# $n$ = {glue:text}`a36_n_hi` {glue:text}`a36_acc_hi`, softmax attention
# {glue:text}`a36_acc_sm` (means over seeds); untrained, all arms are near chance (1 /
# {glue:text}`a36_n_vals` values). With {glue:text}`a36_mq_pairs` pairs to hold, a state of
# $n d$ numbers with $n$ well below the number of pairs cannot keep the keys apart: its
# positive features overlap, and the normalised read-out blends the stored values. The
# accuracies are at a fixed number of steps: part of the gap at small $n$ may be slower
# learning rather than a ceiling (the training panel shows whether the curves have levelled).

# %%
runtime.glue("a36_mq_len", P["mq_len"])
runtime.glue("a36_mq_pairs", P["mq_pairs"])
runtime.glue("a36_mq_vocab", P["mq_vocab"])
runtime.glue("a36_mq_test", P["mq_test"])
runtime.glue("a36_mq_n", str(P["mq_n"]))
runtime.glue("a36_mq_d", P["mq_d"])
runtime.glue("a36_mq_steps", P["mq_steps"])
runtime.glue("a36_seed0", ctx.seeds[0])
runtime.glue("a36_emb_std", EMB_STD)
runtime.glue("a36_n_lo", n_lo)
runtime.glue("a36_n_hi", n_hi)
runtime.glue("a36_acc_lo", f"{c3['acc_lo']:.2f}")
runtime.glue("a36_acc_hi", f"{c3['acc_hi']:.2f}")
runtime.glue("a36_acc_sm", f"{np.mean(c3['acc_soft']):.2f}")
runtime.glue("a36_n_vals", recall.vocab_split(P["mq_vocab"])[1])

# %% [markdown]
# ## Checks that do not depend on the run
#
# The DSF loop on a hand-sized case, the random-feature identity in expectation (a large
# draw), the MQAR generator's oracle, and the state sizes.

# %% tags=["nbval-check-output"]
g0 = torch.Generator().manual_seed(0)
lam_ = torch.full((3, 1), 0.5, dtype=torch.float64)
B_ = torch.ones(3, 1, 1, dtype=torch.float64)
u_ = torch.tensor([[1.0], [0.0], [2.0]], dtype=torch.float64)
print("DSF loop, Λ = 0.5, B = C = 1:",
      dsf_loop(lam_, B_, B_, u_).flatten().tolist())
x_ = torch.randn(2, 4, generator=g0, dtype=torch.float64) * 0.5
w_ = torch.randn(200_000, 4, generator=g0, dtype=torch.float64)
fx = prf(x_, w_)
est, exact = float(fx[0] @ fx[1]), float(torch.exp(x_[0] @ x_[1]))
print("PRF kernel estimate within 1 %:", abs(est / exact - 1) < 0.01)
tb = recall.mqar(4, 24, 4, 17, generator=g0)
print("MQAR oracle recovers the targets:",
      torch.equal(recall.solve(tb.inputs, 4), tb.targets))
for n in (4, 16, 64):
    print(f"linear attention n = {n}: DSF state N = n d = {n * 32}")

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2 threads
# (seeds 0–1) and with two other seed sets (2–3 and 4–5), and chose each `tol` at least the
# change between thread paths and the change between seed sets; the constructions' errors are
# round-off and may move by their own size.

# %%
report.tolerances("../../data/a36_variation.json")

# %% [markdown]
# ## Versus the authors' code
#
# The paper links no code that we could find for MQAR. The first author's public repository
# `jsie7/ssm-benchmark` (snapshot `3c4337f`, read with the `fetch` tool; nothing copied) is
# the code of an earlier paper by the same group {footcite}`alonso2024state` and carries the
# long-range-arena (LRA) configurations logged under a NeurIPS 2024 project, with softmax,
# linear and "normalised" attention variants. What it shows, beside ours:
#
# | | authors' code (`models/transformer.py`, `configs/`) | this chapter |
# |---|---|---|
# | linear attention | $\phi = \mathrm{elu} + 1$ on q and k; normaliser $\phi(q_t)^\top \sum_{j\le t}\phi(k_j)$; a masked form and a cumulative-sum (recurrent) form | the same feature map and normaliser; masked form, DSF loop and log-depth scan (C1) |
# | "normalised" attention | un-normalised $\sum_j q_t^\top k_j v_j$ times a learned $\eta_t^{-1} = \exp(-W_n u_t)$ (or softplus / sigmoid) | not trained here; discussed in the differences |
# | state expansion | `state_dim` (query/key width) 64, 8 heads, width 128, 2 layers | $n$ = query/key feature width, one head, width 32, one layer |
# | softmax | standard masked softmax attention | the same, query/key width = largest $n$ |
# | S6 / RG-LRU | Mamba 1.1.4 and Hawk (RG-LRU) from their public releases | S6-like and qLSTM-like layers in DSF matrices (C1 only) |
# | tasks | LRA (ListOps, text, retrieval, image, pathfinder) | random sequences (C1, C2), generated MQAR (C3) |
# | MQAR | not in the repository | `rnnbook.recall` |

# %% [markdown]
# ## Differences from the paper
#
# - **Text available to us.** We worked from the abstract, summaries of the paper and the
#   research notes, not from its full text or figures; the DSF matrices above are our
#   reconstruction [R]. The paper's numbers (Figure 1's MQAR accuracies, its LRA and
#   WikiText-103 tables) are therefore not placed beside ours; each claim's "paper" column
#   says what the paper asserts in words.
# - **Constructions.** Our S6 is "S6-like": one layer of the selective recurrence with
#   $\Delta_t, B_t, C_t$ linear in the input and a fixed negative diagonal $A$, without
#   Mamba's convolution, gating branch and $D$ skip. Our qLSTM drops the $\tanh$ on the cell
#   input and output so that it is a DSF (linear in the state); the paper's qLSTM may place
#   its nonlinearities differently.
# - **Random features** are our test of the paper's statement that softmax attention is the
#   infinite-state limit; the paper discusses approximation conditions theoretically and, as
#   far as we know, reports no random-feature sweep. The rule (monotone, ≥ 3× from 8 to 512
#   features) is from our research notes, fixed before the first run.
# - **MQAR miniature.** One mixing layer with a fixed shift embedding instead of the paper's
#   two-layer models with a short convolution; width 32, {glue:text}`a36_mq_pairs` pairs,
#   sequences of {glue:text}`a36_mq_len`, {glue:text}`a36_mq_steps` steps in ci. The paper's
#   grid (more lengths, more pairs, widths up to 256 or more) belongs to the full profile,
#   which has not been executed for this version (no GPU was available). We compare only
#   normalised linear attention with elu + 1 features against softmax; the paper's learned
#   normalisation and its S6 / RG-LRU variants on MQAR are not trained here.
# - **LRA and WikiText-103** are not reproduced: LRA needs its data files and WikiText-103 a
#   download, which the book does not do.
#
# ## References
#
# ```{footbibliography}
# ```
