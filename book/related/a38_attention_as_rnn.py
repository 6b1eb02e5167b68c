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
# # A38 · Attention as an RNN (Aaren)
#
# Softmax attention {footcite}`vaswani2017attention` with one query $q$ over $N$ keys and
# values is a weighted mean, $o_N = \sum_i e^{s_i} v_i / \sum_i e^{s_i}$ with $s_i = q \cdot k_i$.
# Feng, Tung, Hajimirsadeghi, Ahmed, Bengio and Mori {footcite}`feng2024attention` read this
# sum as a recurrent network: a numerator, a denominator and a running maximum, updated one
# token at a time, are a hidden state of constant size whose last readout is the attention
# output (a *many-to-one* RNN). A Transformer, seen this way, is an RNN that cannot take a
# new token cheaply: each new query needs all past keys and values (the growing KV cache). The
# paper then computes all prefix outputs $o_1, \dots, o_N$ (the *many-to-many* RNN) in
# parallel with a prefix scan {footcite}`hillis1986data` over an
# associative operator on triples $(m, u, w)$, and builds **Aaren**, an attention layer whose
# query is a learned token rather than a function of the input: it trains in parallel like a
# Transformer and, at inference, updates its constant-size state with each new token.
#
# We implement the recurrence, the scan (the paper's operator, and the same quantities as a
# linear recurrence through the book's `rnnbook.scan`), a stacked Aaren and a Transformer of
# the same size, check the exactness, the numerical stability and the memory of the streaming
# form, and compare the two models on **generated** multi-seasonal series, our substitute for
# the paper's 38 datasets. No code of the authors was found (we searched GitHub; two
# unofficial re-implementations exist, see "Differences from the paper"), so everything here is
# reconstructed from the paper's equations [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "attention can be viewed as a special Recurrent Neural Network (RNN) with the
#   ability to compute its many-to-one RNN output efficiently": the recurrence on
#   (running max, numerator, denominator) gives softmax attention's output exactly.
# - **C2** "a new efficient method of computing attention's many-to-many RNN output based on
#   the parallel prefix scan algorithm": the scan reproduces causal softmax attention at every
#   position, and stays finite and accurate with scores in ±80, where the plain exponential
#   form overflows.
# - **C3** Aaren "can [...] be updated efficiently with new tokens, requiring only constant
#   memory for inferences (like traditional RNNs)": token-by-token updates reproduce the
#   parallel outputs, with a state whose size does not depend on the context length, while a
#   Transformer's KV cache grows linearly with it.
# - **C4** "Aarens achieve comparable performance to Transformers": on generated
#   multi-seasonal series (a substitute for the paper's forecasting datasets), an Aaren
#   reaches the test error of a Transformer with the same number of parameters.
# - **C5** "while being more time [...] efficient": the time of one streaming update stays
#   flat with the context length for Aaren and grows for a Transformer with a KV cache
#   (measured here; judged only when the chapter runs on a GPU).
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

from rnnbook import claims, plots, runtime, scan
from rnnbook import linear_attention as la

ctx = runtime.setup(
    "a38", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(n_exact=[16, 256, 1024], n_stab=1024, d=32, layers=2,
            heads=4, ffn=64, steps=300, batch=64, lr=3e-3, n_test=512,
            stream_L=[16, 64, 256, 1024]),
    full=dict(n_exact=[16, 256, 4096], n_stab=4096, d=64, layers=3,
              heads=4, ffn=128, steps=3000, batch=128, lr=1e-3,
              n_test=4096, stream_L=[16, 64, 256, 1024, 4096]),
)  # fmt: skip
# Constants (not sizes) [R]: the series and the forecasting window.
SERIES = dict(periods=(24.0, 60.0, 9.0), ar=0.8, noise=0.15,
              lookback=96, horizon=24, patch=4)  # fmt: skip
STAB_B = [10, 40, 80, 100, 200]  # score ranges ±B of the stability sweep
S = len(ctx.seeds)

# %% [markdown]
# All claims are declared here, before any experiment runs.
#
# - **C1, C2, C3 are constructions**: identities that cannot fail unless the code is wrong.
#   Their thresholds are round-off bounds: $10^{-10}$ in `float64`, and for `float32` with
#   scores in ±80 the research notes' $10^{-4}$. That the plain exponential form breaks is
#   part of C2 (the paper's reason for carrying the maximum): we ask for non-finite outputs in
#   half precision at ±80 and in single precision at ±100 (single precision holds $e^{88.7}$,
#   so at ±80 it survives; we report that too). C3 counts the floats a streaming model keeps:
#   Aaren's must be the same at every context length, the KV cache's must grow in proportion.
# - **C4** is the empirical claim. The paper reports Aarens as "comparable" to Transformers
#   without a numeric criterion; we fix the research notes' rule: the test MSE of Aaren is at
#   most 1.15 × the Transformer's (ratio per seed, mean over seeds), both at the same
#   parameter count (within 1 %). A parity between two models that learned nothing would be
#   empty, so a second evidence check asks that Aaren learned the task: MSE at most half the
#   persistence forecast's (the last observed value repeated). Controls that must fail the
#   same rules: the persistence forecast and an untrained Aaren against the Transformer, and
#   the untrained Aaren against persistence.
# - **C5** asks for a per-token update time at the longest context of at most 1.5 × the time
#   at the shortest for Aaren, and at least 1.5 × for the Transformer with a KV cache (its
#   control). The paper's timing is of its own models on its own hardware (which we could not
#   confirm from the text we had); a Python loop of a miniature timed on a shared CPU, whose
#   timings move from run to run, is not that measurement. So C5 is judged only when the
#   chapter runs on a GPU (the full profile); otherwise it is reported as not testable.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Attention as an RNN (Aaren)")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
L_ratio = P["stream_L"][-1] / P["stream_L"][0]
report.claim(
    "C1", "Softmax attention of one query equals a many-to-one RNN on (running max m, "
    "numerator a, denominator c) updated token by token.", kind="construction",
    paper="o_N = a_N / c_N exactly (Section 3.1)",
    checks=[
        ev("err_fp64", "<=", 1e-10, "max |RNN − softmax attention|, float64", tol=1e-10),
        ev("err_fp32", "<=", 1e-5, "the same in float32, scores ±10", tol=1e-5),
        ctx_("state_floats", "RNN state size (floats), d = 32", tol=0),
    ])
report.claim(
    "C2", "The prefix scan with the operator on (m, u, w) gives causal softmax attention at "
    "every position, and is stable with scores in ±80 where the plain exponential form "
    "overflows.", kind="construction",
    paper="exact many-to-many output; max-shift for stability (Section 3.2)",
    checks=[
        ev("err_scan_fp64", "<=", 1e-10, "max |(m,u,w) scan − causal attention|, float64",
           tol=1e-10),
        ev("err_linear_fp64", "<=", 1e-10, "the same, as a linear scan (rnnbook.scan)",
           tol=1e-10),
        ev("err_grad_fp64", "<=", 1e-10, "max |gradient difference|, linear scan", tol=1e-10),
        ev("err_scan_fp32_80", "<=", 1e-4, "float32 scan, scores ±80, vs float64", tol=1e-4),
        ev("nonfinite_scan", "==", 0, "non-finite scan outputs, all ranges and dtypes"),
        ev("naive_bad_fp16_80", ">", 0, "share non-finite, plain exp form, float16, ±80",
           tol=0.05),
        ev("naive_bad_fp32_100", ">", 0, "share non-finite, plain exp form, float32, ±100",
           tol=0.05),
        ctx_("naive_bad_fp32_80", "share non-finite, plain exp form, float32, ±80", tol=0.05),
    ])
report.claim(
    "C3", "Streaming (one token at a time) reproduces the parallel outputs; Aaren's state is "
    "constant in the context length while a Transformer's KV cache grows linearly.",
    kind="construction",
    paper="constant memory for Aaren, linear for Transformers (efficiency figure)",
    checks=[
        ev("stream_err_aaren", "<=", 1e-10, "max |stream − parallel|, Aaren, float64",
           tol=1e-10),
        ev("stream_err_tf", "<=", 1e-10, "max |KV-cache stream − parallel|, Transformer",
           tol=1e-10),
        ev("aaren_state_growth", "==", 1.0, "Aaren state floats, longest / shortest context"),
        ev("kv_growth", ">=", L_ratio, "KV-cache floats, longest / shortest context"),
        ctx_("aaren_state_floats", "Aaren state (floats per sequence)"),
        ctx_("kv_floats_max", "KV cache at the longest context (floats per sequence)"),
    ])
report.claim(
    "C4", "On generated multi-seasonal series, an Aaren matches a Transformer of the same "
    "parameter count in test MSE (substitute data).", kind="empirical",
    paper="comparable to Transformers on 38 datasets in 4 settings (per-dataset numbers "
    "not quoted here)",
    checks=[
        ev("ratio_aaren_tf", "<=", 1.15, "test MSE Aaren / Transformer", over="mean",
           tol=0.1),
        ev("skill_aaren", "<=", 0.5, "test MSE Aaren / persistence", over="mean", tol=0.05),
        ctl("ratio_persistence_tf", "ratio_aaren_tf", "persistence forecast / Transformer",
            over="mean", tol=2.0),
        ctl("ratio_untrained_tf", "ratio_aaren_tf", "untrained Aaren / Transformer",
            over="mean", tol=5.0),
        ctl("skill_untrained", "skill_aaren", "untrained Aaren / persistence",
            over="mean", tol=0.2),
        ctx_("mse_aaren", "test MSE, Aaren", over="mean", tol=0.02),
        ctx_("mse_tf", "test MSE, Transformer", over="mean", tol=0.02),
        ctx_("mse_persistence", "test MSE, persistence", tol=1e-4),
        ctx_("mse_mean", "test MSE, window mean", tol=1e-4),
        ctx_("param_gap", "|params Aaren − Transformer| / Transformer", tol=0),
    ])
report.claim(
    "C5", "Per-token streaming time is flat in the context length for Aaren and grows for a "
    "Transformer with a KV cache.", kind="empirical",
    paper="Aaren's cumulative time linear, Transformer's quadratic in tokens",
    checks=[
        ev("time_growth_aaren", "<=", 1.5, "time per token, longest / shortest context",
           tol=1.0),
        ctl("time_growth_tf", "time_growth_aaren", "Transformer with a KV cache", tol=5.0),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Attention as a many-to-one RNN (C1)
#
# For one query $q$ and tokens $(k_i, v_i)$, with scores $s_i = q\cdot k_i$, the attention output
# after $k$ tokens is $o_k = \sum_{i\le k} e^{s_i} v_i \big/ \sum_{i\le k} e^{s_i}$. Carrying the
# running maximum $m_k$ and the numerator and denominator *scaled by* $e^{-m_k}$ gives a
# recurrence whose terms never exceed 1:
#
# $$m_k = \max(m_{k-1}, s_k),\quad
# a_k = a_{k-1} e^{m_{k-1}-m_k} + v_k e^{s_k - m_k},\quad
# c_k = c_{k-1} e^{m_{k-1}-m_k} + e^{s_k - m_k},\quad o_k = a_k / c_k .$$
#
# The state $(m_k, c_k, a_k)$ has $d + 2$ numbers whatever $k$ is. This is the online softmax
# of {footcite:t}`milakov2018online` and the memory-efficient attention of
# {footcite:t}`rabe2021self`, read as an RNN. A Transformer layer is such an RNN for its *last*
# query only: when a token arrives, the new query must be run over all past keys and values
# again, so a Transformer that streams keeps them all (the KV cache); the paper calls it a
# many-to-one RNN that cannot be updated efficiently (a statement about cost, shown in C3 and
# C5, not a theorem to test).

# %%
def attention_rnn(q, K, V):
    """Many-to-one attention RNN [R]: q (d,), K, V (N, d) -> o_N and
    the final state (m, c, a)."""
    m = torch.tensor(-math.inf, dtype=K.dtype)
    c = torch.zeros((), dtype=K.dtype)
    a = torch.zeros(V.shape[-1], dtype=K.dtype)
    for k_i, v_i in zip(K, V):
        s = k_i @ q
        m_new = torch.maximum(m, s)
        c = c * torch.exp(m - m_new) + torch.exp(s - m_new)
        a = a * torch.exp(m - m_new) + v_i * torch.exp(s - m_new)
        m = m_new
    return a / c, (m, c, a)


def softmax_attention(q, K, V):
    return torch.softmax(K @ q, -1) @ V


g = runtime.generator(ctx.seeds[0], 1)
q1, K1, V1 = (torch.randn(*sh, generator=g, dtype=torch.float64)
              for sh in ((32,), (200, 32), (200, 32)))
o_rnn, state = attention_rnn(q1, K1, V1)
err_fp64 = float((o_rnn - softmax_attention(q1, K1, V1)).abs().max())
# float32 with scores in about ±10 (q scaled to unit norm)
q32 = (q1 / q1.norm() * 2).float()
o32, _ = attention_rnn(q32, K1.float(), V1.float())
err_fp32 = float((o32.double() - softmax_attention(
    q32.double(), K1, V1)).abs().max())
c1 = dict(err_fp64=err_fp64, err_fp32=err_fp32,
          state_floats=sum(t.numel() for t in state))
report.measure("C1", c1)
print(c1)

# %% [markdown]
# ## Many-to-many: the prefix scan (C2)
#
# All prefix outputs $o_1, \dots, o_N$ come from one scan. Each token is a leaf $(s_i, 1, v_i)$;
# two adjacent blocks $A$ and $B$ (with $A$ before $B$) combine as
#
# $$(m_A, u_A, w_A) \oplus (m_B, u_B, w_B) = \big(m,\; u_A e^{m_A - m} + u_B e^{m_B - m},\;
# w_A e^{m_A - m} + w_B e^{m_B - m}\big), \quad m = \max(m_A, m_B),$$
#
# which is associative, and the inclusive prefix "sum" at position $k$ is $(m_k, c_k, a_k)$ of
# the recurrence above, so $o_k = w_k / u_k$. We compute it two ways.
#
# 1. **The paper's operator**, by our own Hillis–Steele scan {footcite}`hillis1986data`
#    (`scan_mw`): $\lceil\log_2 N\rceil$ rounds, in round $j$ every position combines with the
#    one $2^j$ before it. $O(N \log N)$ work, every round one whole-tensor operation.
# 2. **As a linear recurrence through `rnnbook.scan`** (`scan_linear`, from
#    `rnnbook.linear_attention`): the running maximum is a cumulative maximum (`torch.cummax`), known before the scan; with it fixed, $u$ and $w$
#    obey the *linear* recurrence $h_k = e^{m_{k-1}-m_k} h_{k-1} + e^{s_k - m_k}(1, v_k)$, whose
#    coefficients are all in $(0, 1]$. The book's log-depth `scan.parallel_scan` (odd–even
#    reduction, a backward pass that is itself a scan) computes it. Since $o_k$ does not depend
#    on the shift $m$, the maximum is detached from the gradient, as in a stable log-sum-exp.
#    The Aaren layer below uses this form.
#
# The plain form, `cumsum(exp(s) v) / cumsum(exp(s))`, is the same in exact arithmetic and
# breaks as soon as $e^{s}$ leaves the floating-point range.

# %%
def combine(A, B):
    """The paper's associative operator on (m, u, w) [R]."""
    (mA, uA, wA), (mB, uB, wB) = A, B
    m = torch.maximum(mA, mB)
    eA, eB = torch.exp(mA - m), torch.exp(mB - m)
    return m, uA * eA + uB * eB, wA * eA[..., None] + wB * eB[..., None]


def scan_mw(s, v):
    """Hillis-Steele inclusive scan of the leaves (s_i, 1, v_i) [R].
    s (..., N), v (..., N, d) -> o (..., N, d), o_k = w_k / u_k."""
    m, u, w = s, torch.ones_like(s), v
    off, N = 1, s.shape[-1]
    while off < N:
        mn, un, wn = combine(
            (m[..., :-off], u[..., :-off], w[..., :-off, :]),
            (m[..., off:], u[..., off:], w[..., off:, :]))
        m = torch.cat([m[..., :off], mn], -1)
        u = torch.cat([u[..., :off], un], -1)
        w = torch.cat([w[..., :off, :], wn], -2)
        off *= 2
    return w / u[..., None]


# the same prefix outputs as a linear recurrence solved by
# rnnbook.scan.parallel_scan: rnnbook.linear_attention, tested there
# against the attention RNN above written as a loop
scan_linear = la.softmax_prefix_scan


def scan_naive(s, v):
    """cumsum(e^s v) / cumsum(e^s): exact in exact arithmetic only."""
    e = torch.exp(s)
    return torch.cumsum(e[..., None] * v, -2) / torch.cumsum(e, -1)[
        ..., None]


def causal_attention_ref(s, v):
    """Reference: masked softmax over the prefix of every position."""
    N = s.shape[-1]
    mask = torch.ones(N, N, dtype=torch.bool).tril()
    S_ = s[..., None, :].expand(*s.shape[:-1], N, N)
    W = torch.softmax(S_.masked_fill(~mask, -math.inf), -1)
    return W @ v


err_scan, err_lin, err_grad = 0.0, 0.0, 0.0
for N in P["n_exact"]:
    g = runtime.generator(ctx.seeds[0], 2 + N)
    s = 3 * torch.randn(2, N, generator=g, dtype=torch.float64)
    v = torch.randn(2, N, 8, generator=g, dtype=torch.float64)
    ref = causal_attention_ref(s, v)
    err_scan = max(err_scan, float((scan_mw(s, v) - ref).abs().max()))
    err_lin = max(err_lin, float((scan_linear(s, v) - ref).abs().max()))
    # gradients of a random functional, linear scan vs reference
    w_out = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    grads = []
    for f in (scan_linear, causal_attention_ref):
        s_, v_ = s.clone().requires_grad_(), v.clone().requires_grad_()
        (f(s_, v_) * w_out).sum().backward()
        grads.append(torch.cat([s_.grad.flatten(), v_.grad.flatten()]))
    err_grad = max(err_grad, float((grads[0] - grads[1]).abs().max()))
print(f"N = {P['n_exact']}: (m,u,w) scan {err_scan:.1e}, linear scan "
      f"{err_lin:.1e}, gradients {err_grad:.1e}")

# %% [markdown]
# The stability sweep draws scores uniformly in $[-B, B]$ for $N$ tokens and values from a
# standard normal, and counts the non-finite outputs of the plain form and of the scan in
# single and half precision; the scan's error is measured against the `float64` reference.

# %%
N = P["n_stab"]
g = runtime.generator(ctx.seeds[0], 3)
u01 = torch.rand(N, generator=g, dtype=torch.float64)
v_st = torch.randn(N, 4, generator=g, dtype=torch.float64)
stab = []
for B in STAB_B:
    s64 = (2 * u01 - 1) * B
    ref = scan_mw(s64, v_st)  # float64: equal to the reference (above)
    for dt in (torch.float32, torch.float16):
        s_, v_ = s64.to(dt), v_st.to(dt)
        o_scan, o_naive = scan_mw(s_, v_), scan_naive(s_, v_)
        stab.append(dict(
            B=B, dtype=str(dt).split(".")[-1],
            naive_bad=float((~torch.isfinite(o_naive)).float().mean()),
            scan_bad=int((~torch.isfinite(o_scan)).sum()),
            scan_err=float((o_scan.double() - ref).abs().max()),
        ))
row = {(r["B"], r["dtype"]): r for r in stab}
c2 = dict(
    err_scan_fp64=err_scan, err_linear_fp64=err_lin,
    err_grad_fp64=err_grad,
    err_scan_fp32_80=row[80, "float32"]["scan_err"],
    nonfinite_scan=sum(r["scan_bad"] for r in stab),
    naive_bad_fp16_80=row[80, "float16"]["naive_bad"],
    naive_bad_fp32_100=row[100, "float32"]["naive_bad"],
    naive_bad_fp32_80=row[80, "float32"]["naive_bad"],
)
report.measure("C2", c2)
print(f"{'±B':>5} {'dtype':>8} {'plain: non-finite':>18} "
      f"{'scan: non-finite':>17} {'scan error':>11}")
for r in stab:
    print(f"{r['B']:>5} {r['dtype']:>8} {r['naive_bad']:>18.3f} "
          f"{r['scan_bad']:>17d} {r['scan_err']:>11.1e}")

# %% [markdown]
# The scan stays finite for every range and both precisions, and its error stays at the
# precision's own rounding level (last column). The plain form
# fails in half precision already at ±10 (its largest number is 65,504, so the running sums
# overflow), and in single precision beyond ±88.7: at ±80 it survives in `float32`
# ({glue:text}`a38_naive32_80:.0%` non-finite), at ±100 a share of
# {glue:text}`a38_naive32_100:.0%` of its outputs is `inf` or `nan`. The claim's "±80" is
# therefore a statement about the scan; the overflow it guards against starts at ±88.7 in single
# precision and much earlier in the half precision used for inference on accelerators.

# %%
runtime.glue("a38_naive32_80", c2["naive_bad_fp32_80"])
runtime.glue("a38_naive32_100", c2["naive_bad_fp32_100"])

# %% [markdown]
# ## Aaren and a Transformer of the same size
#
# **Aaren** [R] replaces the query of attention by a learned token $q$ (one per head and layer,
# input-independent); keys and values are linear maps of the layer's input, and the layer's
# output at position $k$ is the scan output $o_k$, so the layer is causal. Layers are stacked
# as in a pre-LayerNorm Transformer: $x \leftarrow x + W_o\,\mathrm{Aaren}(\mathrm{LN}(x))$,
# $x \leftarrow x + \mathrm{FFN}(\mathrm{LN}(x))$. The **Transformer** baseline is the same
# stack with causal self-attention ($q_k = W_q x_k$); its block equals
# `torch.nn.TransformerEncoderLayer(norm_first=True)` with a causal mask (checked at the end
# of the chapter). Dropping $W_q$ saves Aaren $d^2$ parameters per layer and adds $d$ for the
# query token; we give Aaren's feed-forward layer $\lceil d^2/(2d+1)\rceil$ more hidden units so
# that the two parameter counts agree to within 0.2 %.
#
# Both models are written with a leading *seed* axis on every weight, so all seeds of a model
# train as one batched network (Adam is elementwise, so the seeds do not interact). The input
# series is cut into patches of 4 steps {footcite}`nie2023time` (96 steps → 24 tokens), each
# embedded linearly with a sinusoidal position code; the forecast of the next 24 steps is a
# linear map of the last token's output, added to the window mean.

# %%
def sinusoid(T, d):
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    f = torch.exp(-math.log(1e4) * torch.arange(0, d, 2) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * f), torch.cos(pos * f)
    return pe


class Stacked(torch.nn.Module):
    """Aaren or causal Transformer with a leading seed axis S on every
    weight [R]; pre-LN blocks, ReLU feed-forward."""

    def __init__(self, kind, gens, d, layers, heads, ffn, patch,
                 horizon):
        super().__init__()
        self.kind, self.h, self.d = kind, heads, d
        S = len(gens)  # one generator per seed: a seed's weights do
        # not depend on which other seeds share the batch
        if kind == "aaren":  # match the Transformer's parameter count
            ffn += math.ceil(d * d / (2 * d + 1))

        def lin(i, o):
            w = torch.stack([torch.randn(i, o, generator=g_)
                             for g_ in gens]) / math.sqrt(i)
            return (torch.nn.Parameter(w),
                    torch.nn.Parameter(torch.zeros(S, 1, 1, o)))

        def ln():
            return (torch.nn.Parameter(torch.ones(S, 1, 1, d)),
                    torch.nn.Parameter(torch.zeros(S, 1, 1, d)))

        self.emb = torch.nn.ParameterList(lin(patch, d))
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            b = torch.nn.ParameterDict()
            b["ln1_g"], b["ln1_b"] = ln()
            b["ln2_g"], b["ln2_b"] = ln()
            names = ("k", "v", "o") + (("q",) if kind == "tf" else ())
            for n in names:
                b["W" + n], b["b" + n] = lin(d, d)
            if kind == "aaren":
                b["query"] = torch.nn.Parameter(torch.stack([
                    torch.randn(heads, d // heads, generator=g_)
                    for g_ in gens]))
            b["W1"], b["b1"] = lin(d, ffn)
            b["W2"], b["b2"] = lin(ffn, d)
            self.blocks.append(b)
        self.lnf = torch.nn.ParameterList(ln())
        self.head = torch.nn.ParameterList(lin(d, horizon))

    @staticmethod
    def lin_(x, W, b):  # x (S, B, T, i), W (S, i, o), b (S, 1, 1, o)
        return x @ W[:, None] + b

    @staticmethod
    def ln_(x, g, b):
        return F.layer_norm(x, x.shape[-1:]) * g + b

    def split(self, x):  # (S, B, T, d) -> (S, B, h, T, dh)
        S_, B, T, _ = x.shape
        return x.view(S_, B, T, self.h, -1).transpose(2, 3)

    def mix(self, b, y):
        """The attention part of a block on LN(x) = y, all positions."""
        k = self.split(self.lin_(y, b["Wk"], b["bk"]))
        v = self.split(self.lin_(y, b["Wv"], b["bv"]))
        if self.kind == "aaren":
            qt = b["query"][:, None, :, None, :]  # (S, 1, h, 1, dh)
            s = (k * qt).sum(-1) / math.sqrt(k.shape[-1])
            o = scan_linear(s, v)
        else:
            qq = self.split(self.lin_(y, b["Wq"], b["bq"]))
            o = F.scaled_dot_product_attention(qq, k, v, is_causal=True)
        o = o.transpose(2, 3).reshape(y.shape)
        return self.lin_(o, b["Wo"], b["bo"])

    def ffn_(self, b, x):
        y = self.ln_(x, b["ln2_g"], b["ln2_b"])
        return self.lin_(torch.relu(self.lin_(y, b["W1"], b["b1"])),
                         b["W2"], b["b2"])

    def embed(self, patches):  # (S, B, T, patch) -> (S, B, T, d)
        T = patches.shape[-2]
        pe = sinusoid(T, self.d).to(patches)
        return self.lin_(patches, *self.emb) + pe

    def encode(self, z):  # all positions, in parallel
        for b in self.blocks:
            z = z + self.mix(b, self.ln_(z, b["ln1_g"], b["ln1_b"]))
            z = z + self.ffn_(b, z)
        return z

    def forward(self, xw, patch):  # xw (S, B, lookback) -> (S, B, H)
        mu = xw.mean(-1, keepdim=True)
        S_, B, L = xw.shape
        z = self.encode(self.embed((xw - mu).view(S_, B, -1, patch)))
        out = self.lin_(self.ln_(z[..., -1:, :], *self.lnf), *self.head)
        return out[..., 0, :] + mu


def n_params(model):  # per seed
    return sum(p[0].numel() for p in model.parameters())


ARCH = dict(d=P["d"], layers=P["layers"], heads=P["heads"],
            ffn=P["ffn"], patch=SERIES["patch"],
            horizon=SERIES["horizon"])
aaren = Stacked("aaren", [runtime.generator(s, 4) for s in ctx.seeds],
                **ARCH)
tf = Stacked("tf", [runtime.generator(s, 5) for s in ctx.seeds], **ARCH)
untrained = Stacked("aaren", [runtime.generator(0, 6)] * S, **ARCH)
untrained.load_state_dict(aaren.state_dict())  # the control: no steps
aaren, tf, untrained = aaren.to(dev), tf.to(dev), untrained.to(dev)
pa, pt = n_params(aaren), n_params(tf)
print(f"parameters per seed: Aaren {pa:,}, Transformer {pt:,} "
      f"(gap {abs(pa - pt) / pt:.2%})")

# %% [markdown]
# ## Task: forecasting generated multi-seasonal series (C4)
#
# **Substitute data.** The paper compares on ten public forecasting benchmarks among its 38
# datasets; none can be downloaded at build time, and `statsmodels` (whose wheel bundles a few
# classic series) is not a dependency of the book. We generate series instead [R]: three
# sinusoids with periods 24, 60 and 9 steps, random amplitudes in $[0.5, 1]$ and random phases,
# a random level, and AR(1) noise ($\phi = 0.8$, innovation s.d. 0.15, itself generated with
# `rnnbook.scan`). A model sees 96 steps and forecasts the next 24; the phases and amplitudes
# must be read from the window. Training draws fresh windows at every step (no overfitting to a
# finite set); the test set is one fixed draw of {glue:text}`a38_n_test` windows. The AR noise
# sets a floor: its unpredictable part alone gives an MSE of about
# {glue:text}`a38_floor:.3f`.

# %%
def make_windows(n, g):
    """(n, lookback + horizon) windows of the generated series [R]."""
    T = SERIES["lookback"] + SERIES["horizon"]
    t = torch.arange(T, dtype=torch.float32)
    per = torch.tensor(SERIES["periods"])
    amp = 0.5 + 0.5 * torch.rand(n, 3, generator=g)
    ph = 2 * math.pi * torch.rand(n, 3, generator=g)
    x = (amp[..., None] * torch.sin(
        2 * math.pi * t / per[:, None] + ph[..., None])).sum(1)
    sd0 = SERIES["noise"] / math.sqrt(1 - SERIES["ar"] ** 2)
    e = SERIES["noise"] * torch.randn(n, T, 1, generator=g)
    e0 = sd0 * torch.randn(n, 1, generator=g)
    ar = scan.parallel_scan(torch.full_like(e, SERIES["ar"]), e, e0)
    return x + ar[..., 0] + 0.5 * torch.randn(n, 1, generator=g)


LB, H = SERIES["lookback"], SERIES["horizon"]
test = make_windows(P["n_test"], runtime.generator(12345, 7)).to(dev)
xt, yt = test[:, :LB], test[:, LB:]
phi2 = SERIES["ar"] ** (2 * torch.arange(1, H + 1))
floor = float((SERIES["noise"] ** 2 / (1 - SERIES["ar"] ** 2)
               * (1 - phi2)).mean())
mse_persist = float(((xt[:, -1:] - yt) ** 2).mean())
mse_mean = float(((xt.mean(-1, keepdim=True) - yt) ** 2).mean())
runtime.glue("a38_n_test", P["n_test"])
runtime.glue("a38_floor", floor)
print(f"persistence MSE {mse_persist:.3f}, window-mean MSE "
      f"{mse_mean:.3f}, noise floor {floor:.3f}")


# %% [markdown]
# Training: Adam, learning rate {glue:text}`a38_lr` with a cosine decay to zero,
# {glue:text}`a38_steps` steps of {glue:text}`a38_batch` windows, the same schedule for both
# models; each seed draws its own training windows. Loss: MSE over the 24-step horizon.

# %%
def test_mse(model):
    with torch.no_grad():
        pred = model(xt.expand(S, -1, -1), SERIES["patch"])
        return ((pred - yt) ** 2).mean((1, 2)).cpu()  # (S,)


gens = [runtime.generator(s, 8) for s in ctx.seeds]
params = list(aaren.parameters()) + list(tf.parameters())
opt = torch.optim.Adam(params, lr=P["lr"])
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, P["steps"])
curve = []
t0 = time.process_time()
for _step in runtime.progress(range(P["steps"]), desc="train"):
    w = torch.stack([make_windows(P["batch"], g_)
                     for g_ in gens]).to(dev)
    x_, y_ = w[..., :LB], w[..., LB:]
    la = ((aaren(x_, SERIES["patch"]) - y_) ** 2).mean((1, 2))
    lt = ((tf(x_, SERIES["patch"]) - y_) ** 2).mean((1, 2))
    opt.zero_grad()
    (la.sum() + lt.sum()).backward()
    opt.step()
    sched.step()
    curve.append((la.detach().cpu().numpy(), lt.detach().cpu().numpy()))
cpu_train = time.process_time() - t0
mse_a, mse_t, mse_u = test_mse(aaren), test_mse(tf), test_mse(untrained)
c4 = dict(
    ratio_aaren_tf=(mse_a / mse_t).tolist(),
    skill_aaren=(mse_a / mse_persist).tolist(),
    ratio_persistence_tf=(mse_persist / mse_t).tolist(),
    ratio_untrained_tf=(mse_u / mse_t).tolist(),
    skill_untrained=(mse_u / mse_persist).tolist(),
    mse_aaren=mse_a.tolist(), mse_tf=mse_t.tolist(),
    mse_persistence=mse_persist, mse_mean=mse_mean,
    param_gap=abs(pa - pt) / pt,
)
report.measure("C4", c4)
runtime.glue("a38_lr", P["lr"])
runtime.glue("a38_steps", P["steps"])
runtime.glue("a38_batch", P["batch"])
print(f"training: {cpu_train:.1f} s CPU; test MSE Aaren "
      f"{mse_a.numpy().round(4)}, Transformer {mse_t.numpy().round(4)},"
      f" untrained Aaren {mse_u.numpy().round(3)}")

# %% tags=["hide-input"]
la_c = np.array([c[0] for c in curve])
lt_c = np.array([c[1] for c in curve])
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2))
steps_ = np.arange(1, len(curve) + 1)
for arr, name, col in ((la_c, "Aaren", plots.COLORBLIND[0]), (lt_c, "Transformer", plots.COLORBLIND[1])):
    for i in range(S):
        axs[0].plot(steps_, arr[:, i], color=col, alpha=0.7, lw=1, label=name if i == 0 else None)
axs[0].axhline(mse_persist, color="k", ls=":", label="persistence (test)")
axs[0].axhline(floor, color="k", ls="--", lw=0.8, label="AR noise floor")
axs[0].set(yscale="log", xlabel="step", ylabel="training MSE", title="training, all seeds")
axs[0].legend(fontsize=7)
with torch.no_grad():
    pa_ = aaren(xt[:1].expand(S, -1, -1), SERIES["patch"])[0, 0].cpu()
    pt_ = tf(xt[:1].expand(S, -1, -1), SERIES["patch"])[0, 0].cpu()
tt_ = np.arange(LB + H)
axs[1].plot(tt_, test[0].cpu(), color="0.5", lw=1, label="series")
axs[1].plot(tt_[LB:], pa_, color=plots.COLORBLIND[0], label="Aaren")
axs[1].plot(tt_[LB:], pt_, color=plots.COLORBLIND[1], label="Transformer")
axs[1].axvline(LB - 0.5, color="k", lw=0.8)
axs[1].set(xlabel="time step", title="one test window (first seed)")
axs[1].legend(fontsize=7)
plt.show()

# %% [markdown]
# Over {glue:text}`a38_S` seeds, Aaren's test MSE is {glue:text}`a38_ratio:.3f` × the
# Transformer's (rule: at most 1.15), at {glue:text}`a38_skill:.3f` × the persistence forecast's
# (rule: at most 0.5). Persistence and an untrained Aaren are {glue:text}`a38_ctl_pers:.1f` and
# {glue:text}`a38_ctl_untr:.1f` × the Transformer's error. The parameter counts differ by
# {glue:text}`a38_gap:.2%`.

# %%
runtime.glue("a38_S", S)
runtime.glue("a38_ratio", float(np.mean(c4["ratio_aaren_tf"])))
runtime.glue("a38_skill", float(np.mean(c4["skill_aaren"])))
runtime.glue("a38_ctl_pers", float(np.mean(c4["ratio_persistence_tf"])))
runtime.glue("a38_ctl_untr", float(np.mean(c4["ratio_untrained_tf"])))
runtime.glue("a38_gap", c4["param_gap"])

# %% [markdown]
# ## Streaming with constant memory (C3) and the time per token (C5)
#
# At inference an Aaren layer keeps, per head, only $(m, u, w)$: a new token updates them with
# the recurrence of C1, and the layer's output is $w/u$. The Transformer must keep every past
# key and value of every layer (the KV cache) to run the new token's query against them. We run
# both trained models (first seed, converted to `float64`) token by token, compare with the
# parallel forward on the same tokens, and count the floats each keeps at context lengths
# {glue:text}`a38_stream_L`. The tokens are random embedded patches; the model only needs to be
# a fixed network here, not a good forecaster at these lengths.

# %%
# wait for the GPU before reading the clock (nothing to wait for on a CPU)
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)


def stream(model, z):
    """Token-by-token run of `model` on embedded tokens z (1, B, T, d);
    returns the outputs (1, B, T, d), the state's float count per
    sequence and the seconds of each token's update [R]."""
    B, T, d = z.shape[1:]
    h = model.h
    states = []
    for _ in model.blocks:
        if model.kind == "aaren":
            states.append([torch.full((1, B, h), -math.inf).to(z),
                           z.new_zeros(1, B, h),
                           z.new_zeros(1, B, h, d // h)])
        else:
            states.append([z.new_zeros(1, B, h, 0, d // h),
                           z.new_zeros(1, B, h, 0, d // h)])
    outs, secs = [], []
    for t in range(T):
        sync()
        t0 = time.perf_counter()
        x = z[:, :, t:t + 1]  # (1, B, 1, d)
        for b, st in zip(model.blocks, states):
            y = model.ln_(x, b["ln1_g"], b["ln1_b"])
            k = model.split(model.lin_(y, b["Wk"], b["bk"]))
            v = model.split(model.lin_(y, b["Wv"], b["bv"]))
            k, v = k[..., 0, :], v[..., 0, :]  # (1, B, h, dh)
            if model.kind == "aaren":
                m, u, w = st
                s = (k * b["query"][:, None]).sum(-1) / math.sqrt(
                    k.shape[-1])
                m_new = torch.maximum(m, s)
                dec, new = torch.exp(m - m_new), torch.exp(s - m_new)
                u = u * dec + new
                w = w * dec[..., None] + new[..., None] * v
                st[:] = [m_new, u, w]
                o = (w / u[..., None])[..., None, :]
            else:
                qq = model.split(model.lin_(y, b["Wq"], b["bq"]))
                st[0] = torch.cat([st[0], k[..., None, :]], -2)
                st[1] = torch.cat([st[1], v[..., None, :]], -2)
                att = torch.softmax(qq @ st[0].transpose(-1, -2)
                                    / math.sqrt(k.shape[-1]), -1)
                o = att @ st[1]
            o = o.transpose(2, 3).reshape(x.shape)
            x = x + model.lin_(o, b["Wo"], b["bo"])
            x = x + model.ffn_(b, x)
        outs.append(x)
        sync()
        secs.append(time.perf_counter() - t0)
    floats = sum(t.numel() for st in states for t in st) // B
    return torch.cat(outs, 2), floats, secs


def first_seed(model):
    one = Stacked(model.kind, [runtime.generator(0, 9)], **ARCH)
    one.load_state_dict({k: v[:1] for k, v in model.state_dict().items()})
    return one.double().to(dev)


one = {"aaren": first_seed(aaren), "tf": first_seed(tf)}
mem, tpt = {k: [] for k in one}, {k: [] for k in one}
stream_err = {k: 0.0 for k in one}
g = runtime.generator(ctx.seeds[0], 10)
with torch.no_grad():
    for L in P["stream_L"]:
        z = torch.randn(1, 1, L, P["d"], generator=g,
                        dtype=torch.float64).to(dev)
        for k, mdl in one.items():
            out, floats, secs = stream(mdl, z)
            mem[k].append(floats)
            tpt[k].append(float(np.median(secs[-16:])))
            stream_err[k] = max(stream_err[k], float(
                (out - mdl.encode(z)).abs().max()))
print("context lengths:", P["stream_L"])
print("floats kept, Aaren:", mem["aaren"])
print("floats kept, Transformer KV cache:", mem["tf"])
c3 = dict(
    stream_err_aaren=stream_err["aaren"], stream_err_tf=stream_err["tf"],
    aaren_state_growth=mem["aaren"][-1] / mem["aaren"][0],
    kv_growth=mem["tf"][-1] / mem["tf"][0],
    aaren_state_floats=mem["aaren"][-1], kv_floats_max=mem["tf"][-1],
)
report.measure("C3", c3)
runtime.glue("a38_stream_L", ", ".join(map(str, P["stream_L"])))
print(c3)

# %% [markdown]
# The time per token (C5) comes from the same streaming runs: the median time of the last 16
# updates at each context length, the cost of one update once the context is that long.

# %%
Lt = P["stream_L"]
c5 = dict(time_growth_aaren=tpt["aaren"][-1] / tpt["aaren"][0],
          time_growth_tf=tpt["tf"][-1] / tpt["tf"][0])
if dev.type == "cuda":  # judged on a GPU only (see the declarations)
    report.measure("C5", c5)
else:  # noisy CPU timing: reported in the note, not stored as values
    report.untestable(
        "C5", f"measured on {ctx.device_name} (Aaren ×"
        f"{c5['time_growth_aaren']:.2f}, Transformer ×"
        f"{c5['time_growth_tf']:.2f} from {Lt[0]} to {Lt[-1]} tokens); "
        "a shared CPU's timing of a Python loop is not the paper's "
        "measurement; judged when the chapter runs on a GPU")
for k in tpt:
    print(k, [f"{1e3 * t:.2f} ms" for t in tpt[k]])

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.2))
axs[0].plot(P["stream_L"], mem["tf"], "o-", color=plots.COLORBLIND[1], label="Transformer (KV cache)")
axs[0].plot(P["stream_L"], mem["aaren"], "s-", color=plots.COLORBLIND[0], label="Aaren (m, u, w)")
axs[0].set(xscale="log", yscale="log", xlabel="context length (tokens)", ylabel="floats kept per sequence",
           title="inference state")
axs[0].legend(fontsize=8)
axs[1].plot(Lt, 1e3 * np.array(tpt["tf"]), "o-", color=plots.COLORBLIND[1], label="Transformer (KV cache)")
axs[1].plot(Lt, 1e3 * np.array(tpt["aaren"]), "s-", color=plots.COLORBLIND[0], label="Aaren")
axs[1].set(xscale="log", xlabel="context length (tokens)", ylabel="ms per token",
           title=f"one streaming update ({ctx.device_name}, not judged on a CPU)")
axs[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# Aaren keeps {glue:text}`a38_state` floats per sequence at every length
# ($d + 2h$ per layer, {glue:text}`a38_layers` layers, $d$ = {glue:text}`a38_d`,
# $h$ = {glue:text}`a38_h` heads); the KV cache keeps $2\,d$ per token and layer,
# {glue:text}`a38_kv` floats at {glue:text}`a38_Lmax` tokens. Both streams reproduce their
# parallel forward to round-off. The timing panel is shown, not judged, on a CPU: at a model
# this small, the fixed overhead of a Python step can hide the attention over the cache, and a
# shared machine's timings move from run to run.

# %%
runtime.glue("a38_state", mem["aaren"][-1])
runtime.glue("a38_kv", mem["tf"][-1])
runtime.glue("a38_Lmax", P["stream_L"][-1])
runtime.glue("a38_layers", P["layers"])
runtime.glue("a38_d", P["d"])
runtime.glue("a38_h", P["heads"])

# %% [markdown]
# ## Checks that do not depend on the run
#
# Our Transformer block against `torch.nn.TransformerEncoderLayer` (pre-LN, ReLU, no dropout,
# causal mask) with the same weights; the scan operator's associativity on random triples;
# the parameter counts.

# %% tags=["nbval-check-output"]
gt = torch.Generator().manual_seed(0)
ref_tf = Stacked("tf", [gt], d=16, layers=1, heads=2, ffn=24, patch=4,
                 horizon=3).double()
layer = torch.nn.TransformerEncoderLayer(
    16, 2, 24, dropout=0.0, batch_first=True, norm_first=True,
    dtype=torch.float64)
b0 = ref_tf.blocks[0]
with torch.no_grad():
    layer.self_attn.in_proj_weight.copy_(torch.cat(
        [b0[n][0].T for n in ("Wq", "Wk", "Wv")]))
    layer.self_attn.in_proj_bias.copy_(torch.cat(
        [b0[n][0, 0, 0] for n in ("bq", "bk", "bv")]))
    layer.self_attn.out_proj.weight.copy_(b0["Wo"][0].T)
    layer.self_attn.out_proj.bias.copy_(b0["bo"][0, 0, 0])
    layer.linear1.weight.copy_(b0["W1"][0].T)
    layer.linear1.bias.copy_(b0["b1"][0, 0, 0])
    layer.linear2.weight.copy_(b0["W2"][0].T)
    layer.linear2.bias.copy_(b0["b2"][0, 0, 0])
    zt = torch.randn(1, 3, 7, 16, generator=gt, dtype=torch.float64)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(
        7, dtype=torch.float64)
    print("block == TransformerEncoderLayer (causal):", torch.allclose(
        ref_tf.encode(zt)[0], layer(zt[0], src_mask=mask,
                                    is_causal=True)))
tri = [(torch.randn(5, generator=gt, dtype=torch.float64) * 30,
        torch.rand(5, generator=gt, dtype=torch.float64),
        torch.randn(5, 3, generator=gt, dtype=torch.float64))
       for _ in range(3)]
lhs = combine(combine(tri[0], tri[1]), tri[2])
rhs = combine(tri[0], combine(tri[1], tri[2]))
print("operator associative:",
      all(torch.allclose(x, y) for x, y in zip(lhs, rhs)))
print("leaf scan of one token is v:", torch.equal(
    scan_mw(torch.zeros(1, 1), torch.ones(1, 1, 2)), torch.ones(1, 1, 2)))
for d_ in (16, 32, 64):
    kw = dict(d=d_, layers=2, heads=4, ffn=2 * d_, patch=4, horizon=24)
    na, nt = (n_params(Stacked(k, [torch.Generator()], **kw))
              for k in ("aaren", "tf"))
    print(f"d = {d_}: params Aaren {na}, Transformer {nt}")
print("series:", SERIES)

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
# round-off and may move by their own size. The table shows both changes beside the declared
# `tol` and every verdict seen. The timing checks of C5 are not judged on a CPU, and their
# values are not stored in the results.

# %%
report.tolerances("../../data/a38_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **No code of the authors.** We searched GitHub and found no official implementation; two
#   unofficial ones exist (`claCase/Attention-as-RNN`, `andreofner/attention-as-rnn-pytorch`),
#   which we did not use. Everything here is our reconstruction from the paper's equations
#   [R], so there is no "versus the authors' code" table.
# - **Two scans, said which.** The paper's $(m, u, w)$ operator is computed by our own
#   Hillis–Steele scan (`scan_mw`, written in this chapter); the Aaren layer trains through the
#   equivalent linear recurrence solved by `rnnbook.scan.parallel_scan` with the running
#   maximum from `torch.cummax` (`scan_linear`, the library's
#   `linear_attention.softmax_prefix_scan`); both are checked against masked softmax
#   attention (C2). The paper does not say which scan implementation it used.
# - **Substitute data, miniature scale.** Generated series (three sinusoids and AR(1) noise),
#   not the paper's 38 datasets (reinforcement learning on D4RL, event forecasting, time-series
#   forecasting and classification benchmarks); `statsmodels`' bundled series are not used
#   because it is not a dependency of the book. ci: $d = 32$, 2 layers, 4 heads, 300 steps, 2
#   seeds; full: $d = 64$, 3 layers, 3,000 steps, 5 seeds (not yet executed: no GPU was
#   available for this version). The paper's forecasting set-up (input and output layers,
#   window lengths, training schedule) could not be checked against the text we had; ours
#   tokenises patches and reads the forecast from the last token, the same for both models [R].
# - **Matched parameters.** We match the two models' parameter counts to within 0.2 % by
#   widening Aaren's feed-forward layer by $\lceil d^2/(2d+1)\rceil$ units; the paper's own
#   counts were not available to us.
# - **Parity rule.** The paper's "comparable" has no numeric criterion; the rule (Aaren's MSE
#   at most 1.15 × the Transformer's) is from our research notes, fixed before the first run.
# - **Time.** The paper's efficiency analysis measures memory and cumulative time; we
#   count floats exactly (C3) and time a Python streaming loop (C5), which is judged only on a
#   GPU. The paper's numbers for memory and time are not quoted: we had only parts of its
#   text, not its figures.
# - **Paper numbers.** Only the text of the paper was available to us, not its tables, so the
#   per-dataset values of the comparison are not placed beside ours; the paper's claim is
#   quoted in words in each claim's "paper" column.
#
# ## References
#
# ```{footbibliography}
# ```
