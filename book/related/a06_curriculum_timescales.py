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
# # A06 · Emergent long timescales depend on the training curriculum
#
# A recurrent network can hold information for long in two ways: each neuron can be slow (a long
# membrane time constant $\tau$), or the recurrent connections can keep activity reverberating (a
# long *network-mediated* timescale $\tau_\mathrm{net}$). Khajehabdollahi, Zeraati and colleagues
# {footcite}`khajehabdollahi2024emergent` let a leaky RNN learn both its weights and one $\tau$ per
# neuron on two memory tasks whose difficulty grows with $N$, N-parity and N-delayed
# match-to-sample (N-DMS), and grow $N$ by a curriculum {footcite}`bengio2009curriculum`. Which
# mechanism the network uses depends on the curriculum, they find: trained on one $N$ at a time
# (*single-head*) it makes its neurons slower and forgets the earlier tasks
# {footcite}`mccloskey1989catastrophic`; trained on all $N$ so far at once (*multi-head*) it keeps
# $\tau$ small and builds its long timescales from its connections. We rebuild the model and the
# tasks from the authors' code (`LevinaLab/rnn_timescale_public`, marked [C]), train the two
# curricula and a no-curriculum baseline as one batched model, and measure $\tau$, $\tau_\mathrm{net}$,
# training speed, robustness and generalisation. Protocols we had to choose ourselves are
# marked [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "we train RNNs to solve N-parity and N-delayed match-to-sample tasks with increasing
#   memory requirements controlled by N": with a curriculum they learn large $N$; trained
#   directly on that $N$ for as long, they do not.
# - **C2** "Single-head networks increase their tau with N and are able to solve tasks for large
#   N, but they suffer from catastrophic forgetting."
# - **C3** "multi-head networks [...] keep tau constant and develop longer timescales through
#   recurrent connectivity" (the network-mediated timescale grows with $N$).
# - **C4** "the multi-head curriculum increases training speed and network stability to ablations
#   and perturbations, and allows RNNs to generalize better to tasks beyond their training
#   regime."
# - **C5** "This curriculum also significantly improves training GRUs and LSTMs for large-N
#   tasks" (full profile only).
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if (
    "google.colab" in sys.modules
    and importlib.util.find_spec("rnnbook") is None
):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main",
        ],
        check=True,
    )

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from rnnbook import claims, plots, runtime
from rnnbook.train import StackedAdam, clip_per_model

ctx = runtime.setup(
    "a06", default_seeds={"ci": [0, 1, 2], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(
        tasks=["parity", "dms"], hidden=48, batch=32, steps=700,
        heads=30, window=10, threshold=0.95, lr=1e-2, eval_batch=256,
        ac_steps=1000, ac_burn=100, ac_trials=8,
        stream=1000, stream_warmup=100, stream_trials=4,
        n_ablate=8, eps=[0.05, 0.1, 0.2, 0.4], n_draws=2,
        gated=["gru", "lstm"], gated_steps=20,
        retrain_steps=200, decode_batches=(4, 2),
    ),
    full=dict(
        tasks=["parity", "dms"], hidden=500, batch=128, steps=4000,
        heads=60, window=50, threshold=0.98, lr=2e-3, eval_batch=1024,
        ac_steps=4000, ac_burn=500, ac_trials=10,
        stream=1000, stream_warmup=100, stream_trials=10,
        n_ablate=20, eps=[0.05, 0.1, 0.2, 0.4], n_draws=4,
        gated=["gru", "lstm"], gated_steps=3000,
        retrain_steps=1500, decode_batches=(8, 4),
    ),
)  # fmt: skip
# Constants of the model and the analyses (not sizes): the authors' code
# [C] unless marked [R].
SLOPE = 0.01  # LeakyReLU negative slope (torch default) [C]
CLIP = 2.0  # gradient-norm clip per network [C]
# sequence length M ~ U[N+2, N+2+SPAN*N) [C]
SPAN = {"parity": 1.5, "dms": 3.0}
FIT_LAG = 30  # autocorrelation lags used for the exponential fit [C]
ALL = ("single", "multi")
# C1's positive control: the no-curriculum baseline trained directly on
# N = 3 [R]
N_SMALL = 3
# C4: retrain at N_gen = ceil(1.5 N_c), beyond every N trained
# (authors: 16 -> 36) [R]
GEN_FACTOR = 1.5
FORGET_LAG = 2  # C2: forgetting is asked about N_final - 2 (notes) [R]
# floats of hidden state simulated at once in the analyses
CHUNK = 2**28 if dev.type == "cuda" else 2**24


# %% [markdown]
# All claims and their pass rules are fixed here, before any experiment runs, as lists of
# checks: *evidence* decides the verdict, a *control* is the same statistic on a model where it
# must fail the evidence rule (if it passes, the verdict is "inconclusive"), *context* is
# reported and not judged. A list of per-network values is summarised by its mean, and a check
# whose margin is smaller than the spread across networks is marked fragile. Where the
# thresholds come from: 0.65 (near chance, 0.5) is the notes' forgetting threshold, used for
# every "stays at chance" rule; $\rho \ge 0.5$ for "grows with $N$" is the notes' rule; the
# margins of C4 (2 in $N$, 0.05 kept accuracy, 0.02 accuracy) and the band of C3 (0.05 in mean
# $\tau$) are the ones this chapter declared in its first version. Accuracies are measured on
# balanced inputs ($P(x_t = 1) = 1/2$), where chance is exactly 0.5.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Emergent long timescales depend on the training curriculum")
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "With a curriculum RNNs learn N-parity and N-DMS up to large N; trained directly on "
    "that N for the same number of steps they do not.",
    kind="empirical", paper="large N is learned only with a curriculum (both tasks)",
    checks=[
        E("direct_parity", "<=", 0.65, "parity: no-curriculum net trained on N*, accuracy",
          tol=0.02),
        E("direct_dms", "<=", 0.65, "DMS: no-curriculum net trained on N*, accuracy", tol=0.02),
        CTL("small_parity", "direct_parity", "the same training directly on N = 3", tol=0.01),
        CTL("small_dms", "direct_dms", "the same training directly on N = 3", tol=0.01),
        CTL("curric_parity", "direct_parity", "multi-head twin at N*, its head for N*", tol=0.02),
        CTL("curric_dms", "direct_dms", "multi-head twin at N*, its head for N*", tol=0.01),
        CTX("N_star_parity", "largest N its multi-head twin solved (parity)", tol=0.5),
        CTX("N_star_dms", "largest N its multi-head twin solved (DMS)", tol=0.5),
    ])
report.claim(
    "C2", "Single-head networks increase their tau with N and solve large N, but forget the "
    "earlier N.",
    kind="empirical", paper="mean tau grows with N (both tasks); accuracy on earlier N lost",
    checks=[
        E("tau_rho_parity", ">=", 0.5, "parity: Spearman ρ(N, mean τ) over snapshots", tol=1),
        E("tau_gain_parity", ">", 0.0, "parity: mean τ, last − first solved N", tol=0.2),
        E("tau_rho_dms", ">=", 0.5, "DMS: Spearman ρ(N, mean τ) over snapshots", tol=0.2),
        E("tau_gain_dms", ">", 0.0, "DMS: mean τ, last − first solved N", tol=0.1),
        E("forget_decode", "<=", 0.65, "fresh linear readout of final states: N_final − 2 task",
          tol=0.05),
        CTL("decode_before", "forget_decode", "same net, snapshot when it solved N_final − 2",
            tol=0.01),
        CTL("decode_multi", "forget_decode", "multi-head twin, final states", tol=0.01),
        CTX("same_head_acc", "old check: its own head asked about N_final − 2 (cannot fail)",
            tol=0.02),
        CTX("bit_decode", "linear readout of the bit x_(T−N_final+3) itself", tol=0.02),
        CTX("tau_rho_from3_parity", "parity: ρ(N, mean τ) from N = 3", tol=0.5),
        CTX("tau_rho_from3_dms", "DMS: ρ(N, mean τ) from N = 3", tol=0.2),
        CTX("N_single", "N solved, single-head", tol=0.2),
    ],
    partial=["forget_decode"])
report.claim(
    "C3", "Multi-head networks keep tau constant and develop longer timescales through "
    "recurrent connectivity.",
    kind="empirical", paper="tau ≈ constant over N; tau_net grows with N (both tasks)",
    checks=[
        E("tau_change", "<=", 0.05, "|mean τ at last − at first solved N| per network",
          tol=0.1),
        E("net_rho_parity", ">=", 0.5, "parity: ρ(N, median τ_net) over snapshots", tol=0.5),
        E("net_rho_dms", ">=", 0.5, "DMS: ρ(N, median τ_net) over snapshots", tol=0.5),
        CTL("net_rho_parity_noW", "net_rho_parity", "the same snapshots with W = 0", tol=1),
        CTL("net_rho_dms_noW", "net_rho_dms", "the same snapshots with W = 0", tol=0.5),
        CTX("tau_gain", "signed mean τ change, last − first solved N", tol=0.1),
        CTX("tau_last", "mean τ at the last N (notes' reading: ≤ 1.2, near the floor)", tol=0.05),
        CTX("net_ratio", "median τ_net, last / first solved N", tol=1),
        CTX("N_multi", "N solved, multi-head", tol=0.5),
    ],
    partial=["net_rho_parity", "net_rho_dms"])
report.claim(
    "C4", "The multi-head curriculum trains faster, is more robust to ablations and "
    "perturbations, and generalises better beyond its training regime.",
    kind="empirical",
    paper="multi-head: higher N in the same training, smaller accuracy loss, better beyond N",
    checks=[
        E("N_gain", ">=", 2, "N solved, multi − single (same seed, same steps)", tol=0.2),
        E("robust_gap", ">=", 0.05, "above-chance accuracy kept when perturbed, multi − single",
          tol=0.1),
        E("gen_gap", ">=", 0.02, "accuracy retrained at N_gen = ⌈1.5 N_c⌉, multi − single",
          tol=0.05),
        CTL("gen_gap_shuffled", "gen_gap", "multi-head with its W entries shuffled − single",
            tol=0.1),
        CTX("gen_single", "single-head, retrained at N_gen", tol=0.01),
        CTX("gen_multi", "multi-head, retrained at N_gen", tol=0.05),
        CTX("stream_gap", "old reading: 1,000-step streams at N_c, multi − single", tol=0.05),
    ],
    partial=["N_gain", "robust_gap"])
report.claim(
    "C5", "The multi-head curriculum also improves training of GRUs and LSTMs at large N.",
    kind="empirical", paper="GRU and LSTM reach larger N with the multi-head curriculum",
    checks=[
        E("gru_gain", ">=", 2, "GRU: N solved, multi − single (same steps)", tol=2),
        E("lstm_gain", ">=", 2, "LSTM: N solved, multi − single (same steps)", tol=2),
    ],
    no_control="full profile only; no control run is implemented for the gated cells (e.g. "
    "both curricula on shuffled labels), so a full verdict here would rest on evidence alone")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The model: a leaky RNN whose neurons learn their own time constant
#
# Each of the $H$ neurons integrates its input with its own time constant $\tau_i \ge 1$; the
# recurrent matrix has no self-connections, so a neuron's own memory is its leak [C]:
#
# $$h_t = \phi\Big(\big(1 - \tfrac{1}{\tau}\big) \odot h_{t-1} + \tfrac{1}{\tau} \odot \big(W h_{t-1} + W_\mathrm{in} x_t + b\big)\Big),
# \qquad \phi = \mathrm{LeakyReLU},\quad W_{ii} = 0 .$$
#
# With $\phi$ the identity and no input, neuron $i$ alone decays as $(1 - 1/\tau_i)^t$: $\tau_i$ is its
# single-neuron timescale ($\tau = 1$ is no memory at all). Trainable, heterogeneous time
# constants of this kind help recurrent networks on temporal tasks {footcite}`perez2021neural`.
# The authors draw $\tau_i \sim U(1, 2)$, clip it at 1 in the forward pass, start from
# $h_0 \sim 0.1\,U(0, 1)$ and read out two-class logits $y^{(N)} = W^{(N)}_\mathrm{out} h_T + b^{(N)}$
# from the last state, one head per $N$ [C].
#
# We train many networks at once: every tensor carries a leading network axis $S$, and the time
# loop is one batched matrix product per step. Backpropagation through time is written out (the
# nbval cell at the end checks it against autograd); with $z_t$ the argument of $\phi$,
# $\delta_t = \partial L / \partial z_t$ and $a_t = W h_{t-1} + W_\mathrm{in} x_t + b$:
# $\partial L/\partial h_{t-1} \mathrel{+}= (1 - 1/\tau) \odot \delta_t + W^\top (\delta_t / \tau)$,
# $\partial L/\partial W = \sum_t (\delta_t/\tau)\, h_{t-1}^\top$ and
# $\partial L/\partial (1/\tau) = \sum_t \delta_t \odot (a_t - h_{t-1})$.


# %%
class LeakyTauScan(torch.autograd.Function):
    """Hidden states (S, T, B, H) of S leaky RNNs; U = W_in x + b
    (S, T, B, H), W (S, H, H), inv_tau (S, 1, H).
    """

    @staticmethod
    def forward(ctx, U, W, inv_tau, h0):
        S, T, B, H = U.shape
        Hs, h, W_T = U.new_empty(S, T, B, H), h0, W.transpose(1, 2)
        for t in range(T):  # h + (a - h) / tau == (1 - 1/tau) h + a / tau
            h = F.leaky_relu(
                torch.addcmul(
                    h, inv_tau, torch.baddbmm(U[:, t], h, W_T) - h
                ),
                SLOPE,
            )
            Hs[:, t] = h
        ctx.save_for_backward(U, W, inv_tau, h0, Hs)
        return Hs

    @staticmethod
    def backward(ctx, grad_Hs):
        U, W, inv_tau, h0, Hs = ctx.saved_tensors
        S, T, B, H = Hs.shape
        # E[:, t] = delta_t / tau
        E, g = torch.empty_like(Hs), grad_Hs[:, T - 1].clone()
        # phi'(z_t), read off the sign of h_t
        slope = torch.where(Hs > 0, 1.0, SLOPE)
        slope_fast, slope_leak = (
            slope * inv_tau[:, None],
            slope * (1 - inv_tau[:, None]),
        )
        # g = dL/dh_t; delta_t = g * phi'(z_t)
        for t in range(T - 1, -1, -1):
            e = g * slope_fast[:, t]
            E[:, t] = e
            # (1 - 1/tau) delta + W^T (delta / tau)
            g = torch.baddbmm(g * slope_leak[:, t], e, W)
            if t > 0:
                g += grad_Hs[:, t - 1]
        H_prev = torch.cat([h0[:, None], Hs[:, :-1]], 1).view(S, T * B, H)
        E_flat = E.view(S, T * B, H)
        grad_W = torch.bmm(E_flat.transpose(1, 2), H_prev)
        # a_t, all steps at once
        A = torch.baddbmm(
            U.reshape(S, T * B, H), H_prev, W.transpose(1, 2)
        )
        grad_inv_tau = (E_flat / inv_tau * (A - H_prev)).sum(
            1, keepdim=True
        )
        return E, grad_W, grad_inv_tau, None


# %% [markdown]
# A *stack* is a dict of parameter tensors with the network axis first. Networks that share a
# seed start from identical weights, whatever their curriculum, so single-head, multi-head and
# no-curriculum training are paired comparisons. Initial values follow `torch.nn.Linear` as in
# the authors' code [C]. The gated cells (GRU {footcite}`cho2014gru`, LSTM
# {footcite}`hochreiter1997long`) used for C5 share the heads and the curricula.

# %%
GATES = {"leaky": 1, "gru": 3, "lstm": 4}


def init_stack(seeds, H, K, cell="leaky"):
    """Parameters of len(seeds) networks (network i drawn from seed i): a
    dict of (S, ...) tensors.
    """
    out = []
    for seed in seeds:
        g = torch.Generator().manual_seed(7919 * seed + GATES[cell])
        U = lambda *shape, lo=-1.0, hi=1.0, g=g: (  # noqa: E731
            lo + (hi - lo) * torch.rand(shape, generator=g)
        )
        r, G = 1 / math.sqrt(H), GATES[cell]
        p = dict(
            W_in=U(1, G * H, lo=-r, hi=r),
            b=U(1, G * H, lo=-r, hi=r),
            W=U(H, G * H, lo=-r, hi=r),
        )
        # input weights of a Linear(1, H): bound 1; taus U(1, 2)
        if cell == "leaky":
            p.update(
                W_in=U(1, H),
                b=U(1, H),
                W=U(H, H, lo=-r, hi=r),
                tau=U(1, H, lo=1.0, hi=2.0),
            )
        p.update(
            W_out=U(K, H, 2, lo=-r, hi=r), b_out=U(K, 1, 2, lo=-r, hi=r)
        )
        out.append(p)
    return stack(out)


def stack(nets):
    """A stack from a list of single-network dicts (also used to gather
    snapshots).
    """
    return {
        k: torch.stack([n[k] for n in nets]).to(dev).requires_grad_()
        for k in nets[0]
    }


def gated_scan(p, x, h0):
    """GRU / LSTM hidden states (S, T, B, H) for inputs x (S, B, T),
    torch's gate equations.
    """
    H = h0.shape[-1]
    h, c, out = h0, torch.zeros_like(h0), []
    for t in range(x.shape[2]):
        gi = x[:, :, t, None] * p["W_in"] + p["b"]  # (S, B, G*H)
        gh = torch.bmm(h, p["W"])
        if p["W"].shape[-1] == 3 * H:  # GRU
            r, z = torch.sigmoid(
                gi[..., : 2 * H] + gh[..., : 2 * H]
            ).chunk(2, -1)
            n = torch.tanh(gi[..., 2 * H :] + r * gh[..., 2 * H :])
            h = (1 - z) * n + z * h
        else:  # LSTM
            i, f, g, o = (gi + gh).chunk(4, -1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out, 1)


def hidden(p, x, h0=None, gen=None):
    """Hidden states (S, T, B, H) of a stack for binary inputs x (S, B, T);
    h0 ~ 0.1 U(0, 1) [C].
    """
    S, B, _ = x.shape
    H = p["W"].shape[1]
    if h0 is None:
        h0 = 0.1 * torch.rand(S, B, H, generator=gen, device=dev)
    if "tau" not in p:
        return gated_scan(p, x, h0)
    U = (
        x.transpose(1, 2)[..., None] * p["W_in"][:, None] + p["b"][:, None]
    ).contiguous()
    no_self = 1 - torch.eye(H, device=dev)  # W_ii = 0 [C]
    return LeakyTauScan.apply(
        U, p["W"] * no_self, 1 / p["tau"].clamp(min=1.0), h0
    )


def readout(p, h):
    """Logits of every head, (S, K, B, 2), from states h (S, B, H)."""
    return torch.einsum("sbh,skhc->skbc", h, p["W_out"]) + p["b_out"]


# %% [markdown]
# ## Two tasks whose memory demand grows with N
#
# The input is a stream of bits $x_t \in \{0, 1\}$ of random length $M \sim U[N+2,\, N+2+cN)$
# ($c = 1.5$ for parity, $3$ for DMS), and the label is read at its last step $T = M$ [C]:
#
# $$\text{N-parity: } y = \Big(\sum_{k=0}^{N-1} x_{T-k}\Big) \bmod 2, \qquad
# \text{N-DMS: } y = \mathbb{1}\big[x_{T-N+1} = x_T\big].$$
#
# Parity needs all of the last $N$ bits, DMS only the one $N-1$ steps back; both need a memory
# of length $N$. The authors draw parity bits with a probability $p \sim U(0, 1)$ per batch and DMS
# bits with $p = 1/2$ [C]; we evaluate both at $p = 1/2$. One stack holds networks of both tasks
# (a flag per network) with different $N$ and lengths: we simulate all of them for the longest
# length and read each one out at its own last step, so the extra steps of a short sequence
# never touch its loss.


# %%
def labels(parity, x, M, lag):
    """Labels (S, K, B) of head k with lag[s, k] at each network's last
    step M[s]; parity (S,) bool.
    """
    S, B, _ = x.shape
    K = lag.shape[1]
    # index of x_{T-N+1}
    first = (M[:, None] - lag).clamp(min=0)[:, None].expand(S, B, K)
    last = (M - 1)[:, None, None].expand(S, B, 1)
    cs = F.pad(x.cumsum(2), (1, 0))  # cs[t] = x_0 + ... + x_{t-1}
    y_parity = (cs.gather(2, last + 1) - cs.gather(2, first)) % 2
    y_dms = (x.gather(2, first) == x.gather(2, last)).float()
    return (
        torch.where(parity[:, None, None], y_parity, y_dms)
        .long()
        .transpose(1, 2)
    )


def make_batch(parity, M, lag, B, gen, balanced=False):
    """Inputs (S, B, max M) and labels (S, K, B) for every network of a
    stack.
    """
    S = len(M)
    p = torch.rand(S, 1, 1, generator=gen, device=dev)
    p = torch.where(parity[:, None, None] & (not balanced), p, 0.5)
    x = (
        torch.rand(S, B, int(M.max()), generator=gen, device=dev) < p
    ).float()
    return x, labels(parity, x, M, lag)


def lengths(parity, N, gen):
    """One random length per network: M ~ U[N+2, N+2+SPAN*N)."""
    span = torch.where(parity, SPAN["parity"], SPAN["dms"])
    return (
        N
        + 2
        + (
            torch.rand(len(N), generator=gen, device=dev)
            * torch.ceil(span * N)
        ).long()
    )


x_demo = torch.tensor([[[1.0, 0, 1, 1, 0, 1, 1]]], device=dev).expand(
    2, 1, 7
)
M_demo, lag_demo = (
    torch.tensor([7, 7], device=dev),
    torch.tensor([[2, 3, 4]], device=dev).expand(2, 3),
)
y_demo = labels(
    torch.tensor([True, False], device=dev), x_demo, M_demo, lag_demo
)
print(
    "input:",
    x_demo[0, 0].long().tolist(),
    "| N = 2, 3, 4 parity:",
    y_demo[0, :, 0].tolist(),
    "| DMS:",
    y_demo[1, :, 0].tolist(),
)

# %% [markdown]
# ## Three curricula in one batched model
#
# - *single-head*: one head; train on $N$ until it is solved, then on $N+1$ with the same head.
# - *multi-head*: one head per $N' \in \{2, \dots, N\}$; the loss is the sum of their
#   cross-entropies, and a head for $N+1$ is added once all are solved.
# - *no curriculum*: one head, trained directly on one large $N$.
#
# "Solved" means accuracy above a threshold, both averaged over the heads and on the newest
# head [C: the authors use 98 % on 50 test batches after every 600 training steps; we use the
# training batches of the last `window` steps, 95 % in ci]. Each network's curriculum state is
# a tensor entry, so one step trains all of them; the loss is a sum over networks, and Adam and
# gradient clipping act per network, so each network follows its own trajectory. Networks with
# the same seed start from the same weights whatever their task and curriculum: the comparisons
# are paired. We use Adam rather than the authors' SGD (lr 0.05, momentum 0.1) to fit the
# miniature's budget [R]. Whenever a network solves an $N$ we keep a snapshot of its parameters.


# %%
def train(nets, steps, cell="leaky", tag=0, N_none=None, p0=None):
    """Train one stack; nets: list of (task, kind, seed), kind in
    {"single", "multi", "none"}; N_none[i]: N of a "none".

    p0: parameters to start from (a stack), instead of fresh ones drawn
    from the seeds.
    """
    S, K, B, win = len(nets), P["heads"], P["batch"], P["window"]
    if p0 is None:
        p = init_stack([seed for *_, seed in nets], P["hidden"], K, cell)
    else:
        p = {k: v.detach().clone().requires_grad_() for k, v in p0.items()}
    opt, gen = (
        StackedAdam(list(p.values()), P["lr"]),
        runtime.generator(ctx.seeds[0], 100 + tag, dev),
    )
    parity = torch.tensor([t == "parity" for t, _, _ in nets], device=dev)
    multi = torch.tensor([k == "multi" for _, k, _ in nets], device=dev)
    learns = torch.tensor([k != "none" for _, k, _ in nets], device=dev)
    N = torch.tensor(
        [
            N_none[i] if k == "none" else 2
            for i, (_, k, _) in enumerate(nets)
        ],
        device=dev,
    )
    k_idx, rows = torch.arange(K, device=dev), torch.arange(S, device=dev)
    hits, log, snaps = torch.zeros(S, K, device=dev), [], {}
    for step in range(steps):
        # head k of a multi-head net: N' = k + 2
        lag = torch.where(multi[:, None], k_idx + 2, N[:, None])
        mask = torch.where(
            multi[:, None], k_idx <= N[:, None] - 2, k_idx == 0
        ).float()
        M = lengths(parity, N, gen)
        x, y = make_batch(parity, M, lag, B, gen)
        # each network at its own last step
        logits = readout(p, hidden(p, x, gen=gen)[rows, M - 1])
        ce = (
            F.cross_entropy(
                logits.flatten(0, 2), y.flatten(), reduction="none"
            )
            .view(S, K, B)
            .mean(2)
        )
        for q in p.values():
            q.grad = None
        (ce * mask).sum().backward()
        clip_per_model(list(p.values()), CLIP)
        opt.step()
        hits += (logits.argmax(-1) == y).float().mean(2).detach() * mask
        if (step + 1) % win == 0:
            acc, n_heads = hits / win, mask.sum(1).long()
            newest = acc[rows, n_heads - 1]
            solved = (
                (acc.sum(1) / n_heads > P["threshold"])
                & (newest > P["threshold"])
                & learns
            )
            for s in solved.nonzero().flatten().tolist():
                snaps[s, int(N[s])] = {
                    k: v[s].detach().clone() for k, v in p.items()
                }
            N, hits = N + solved.long(), hits.zero_()
            # solved N; newest-head accuracy
            log.append(
                (step + 1, (N - learns.long()).tolist(), newest.tolist())
            )
    return dict(
        p=p,
        N_solved=N - learns.long(),
        snaps=snaps,
        log=log,
        nets=nets,
        parity=parity,
    )


@torch.no_grad()
def accuracy(p, parity, lag, N_len, gen, same_head=False):
    """Balanced accuracy (S, K) of head k at lag[s, k], on sequences drawn
    for length scale N_len[s].
    """
    T_max = int(N_len.max()) * 4 + 2  # the longest possible sequence
    # networks at once
    chunk = max(1, CHUNK // (P["eval_batch"] * p["W"].shape[1] * T_max))
    # a single-head network's only head, asked about every lag
    if same_head:
        p = dict(
            p,
            W_out=p["W_out"][:, :1].expand_as(p["W_out"]),
            b_out=p["b_out"][:, :1].expand_as(p["b_out"]),
        )
    out = []
    # a few networks at a time: bounded memory
    for a in range(0, len(N_len), chunk):
        c = slice(a, a + chunk)
        M = lengths(parity[c], N_len[c], gen)
        x, y = make_batch(
            parity[c], M, lag[c], P["eval_batch"], gen, balanced=True
        )
        pc = {k: v[c] for k, v in p.items()}
        logits = readout(
            pc,
            hidden(pc, x, gen=gen)[
                torch.arange(len(M), device=dev), M - 1
            ],
        )
        out.append((logits.argmax(-1) == y).float().mean(2))
    return torch.cat(out)


# %% [markdown]
# We first train the two curricula side by side, one network of each per task and seed. Their
# result sets the target of the baseline: the network with the same seed (and the same initial
# weights) is trained directly on $N^*$, the largest $N$ its multi-head twin solved, for the same
# number of steps.

# %%
nets = [(t, k, s) for t in P["tasks"] for s in ctx.seeds for k in ALL]
run = train(nets, P["steps"])
idx = {
    (t, k): [i for i, n in enumerate(nets) if n[:2] == (t, k)]
    for t in P["tasks"]
    for k in ALL
}
N_solved = run["N_solved"].cpu()
N_star = [int(N_solved[i]) for t in P["tasks"] for i in idx[t, "multi"]]
direct = train(
    [(t, "none", s) for t in P["tasks"] for s in ctx.seeds],
    P["steps"],
    tag=1,
    N_none=N_star,
)
for t in P["tasks"]:
    print(
        f"{t:6s}: N solved, "
        f"single-head {N_solved[idx[t, 'single']].tolist()}, "
        f"multi-head {N_solved[idx[t, 'multi']].tolist()}"
    )

# %% [markdown]
# A second stack, trained for `retrain_steps` steps (200 in ci) once the curricula are done,
# holds two experiments that need their result: C1's positive control (the baseline's training,
# from the same initial weights, directly on a small $N = 3$) and C4's retraining beyond the
# trained $N$ (described with C4 below).


# %%
def shuffle_W(snap, gen):
    """A copy of one network with the off-diagonal entries of W permuted at
    random.
    """
    W = snap["W"].clone()
    off = ~torch.eye(W.shape[0], dtype=torch.bool, device=dev)
    W[off] = W[off][
        torch.randperm(int(off.sum()), generator=gen, device=dev)
    ]
    return dict(snap, W=W)


# same task and seed
pairs = [
    (a, b)
    for t in P["tasks"]
    for a, b in zip(idx[t, "single"], idx[t, "multi"])
]
# common N
N_c = {
    t: int(min(N_solved[i] for kind in ALL for i in idx[t, kind]))
    for t in P["tasks"]
}
N_gen = {t: math.ceil(GEN_FACTOR * N_c[t]) for t in P["tasks"]}
# single, multi, shuffled multi
g_rows = (
    [a for a, _ in pairs] + [b for _, b in pairs] + [b for _, b in pairs]
)
gen_g = runtime.generator(ctx.seeds[0], 600, dev)
g_snaps = [run["snaps"][i, N_c[nets[i][0]]] for i in g_rows]
g_snaps[2 * len(pairs) :] = [
    shuffle_W(sn, gen_g) for sn in g_snaps[2 * len(pairs) :]
]
# C1's positive control
small = [(t, "none", s) for t in P["tasks"] for s in ctx.seeds]
fresh = {
    k: v.detach()
    for k, v in init_stack(
        [nets[i][2] for i in g_rows] + [s for *_, s in small],
        P["hidden"],
        P["heads"],
    ).items()
}
first_head = lambda k, j, sn: (  # noqa: E731
    sn[k]
    .clone()
    .index_copy_(
        0, torch.zeros(1, dtype=torch.long, device=dev), fresh[k][j, :1]
    )
)
p_second = stack(
    [
        dict(
            sn,
            W_out=first_head("W_out", j, sn),
            b_out=first_head("b_out", j, sn),
        )
        for j, sn in enumerate(g_snaps)
    ]
    + [
        {k: v[len(g_rows) + j] for k, v in fresh.items()}
        for j in range(len(small))
    ]
)
g_N = [N_gen[nets[i][0]] for i in g_rows]
second = train(
    [(nets[i][0], "none", nets[i][2]) for i in g_rows] + small,
    P["retrain_steps"],
    tag=2,
    N_none=g_N + [N_SMALL] * len(small),
    p0=p_second,
)

# %% tags=["hide-input"]
steps_log = np.array([s for s, _, _ in run["log"]])
N_log, acc_direct_log = (
    np.array([n for _, n, _ in run["log"]]),
    np.array([a for _, _, a in direct["log"]]),
)
fig, axs = plt.subplots(1, len(P["tasks"]) + 1, figsize=(11, 3.2))
for ax, t in zip(axs, P["tasks"]):
    for c, kind in zip(plots.COLORBLIND, ALL):
        for j, i in enumerate(idx[t, kind]):
            ax.step(
                steps_log,
                N_log[:, i],
                where="post",
                color=c,
                alpha=0.8,
                label=f"{kind}-head" if j == 0 else None,
            )
    ax.set(
        xlabel="training step",
        ylabel="largest N solved",
        title=f"{t}: N reached over training",
    )
    ax.legend(fontsize=8)
for j, (t, _, _) in enumerate(direct["nets"]):
    first = j == min(k for k, n in enumerate(direct["nets"]) if n[0] == t)
    axs[-1].plot(
        steps_log,
        acc_direct_log[:, j],
        color=plots.COLORBLIND[2 + P["tasks"].index(t)],
        alpha=0.8,
        label=t if first else None,
    )
axs[-1].axhline(P["threshold"], color="k", lw=0.8, ls="--")
axs[-1].set(
    xlabel="training step",
    ylabel="training accuracy",
    ylim=(0.4, 1.02),
    title="no curriculum, trained on N*",
)
axs[-1].legend(fontsize=7)
plt.show()

# %% [markdown]
# The left panels mirror the paper's curves of $N$ reached over training: the multi-head
# curriculum climbs faster than the single-head one on both tasks (C4, speed). The right panel
# is the baseline: trained directly on $N^*$ the network stays near the accuracy that the input
# statistics alone give (parity bits are drawn with a random bias, so training accuracy sits
# above 0.5 even without any memory). Its accuracy on balanced inputs decides C1:


# %%
def head_accuracy(p, parity, N, head, gen):
    """Balanced accuracy (S,) of head[s] of network s on N[s] (sequences of
    N[s]'s lengths).
    """
    acc = accuracy(p, parity, N[:, None].expand(-1, P["heads"]), N, gen)
    return acc[torch.arange(len(N), device=dev), head]


def cat_stacks(*stacks):
    """One stack (detached) from several."""
    return {
        k: torch.cat([s_[k].detach() for s_ in stacks]) for k in stacks[0]
    }


n_d = len(direct["nets"])
# the twins of direct["nets"], in order
multi_rows = [i for t in P["tasks"] for i in idx[t, "multi"]]
# in the second stack
small_rows = list(range(len(g_rows), len(g_rows) + len(small)))
snap_star = stack(
    [run["snaps"][i, N_star[j]] for j, i in enumerate(multi_rows)]
)
p_c1 = cat_stacks(
    direct["p"],
    {k: v[small_rows] for k, v in second["p"].items()},
    snap_star,
)
par_c1 = torch.cat(
    [
        direct["parity"],
        second["parity"][small_rows],
        run["parity"][multi_rows],
    ]
)
N_c1 = torch.tensor(N_star + [N_SMALL] * len(small) + N_star, device=dev)
head_c1 = torch.tensor(
    [0] * (2 * n_d) + [n - 2 for n in N_star], device=dev
)
acc_c1 = (
    head_accuracy(
        p_c1,
        par_c1,
        N_c1,
        head_c1,
        runtime.generator(ctx.seeds[0], 200, dev),
    )
    .cpu()
    .numpy()
)
c1 = {}
for t in P["tasks"]:
    rows = [j for j, n in enumerate(direct["nets"]) if n[0] == t]
    c1[f"direct_{t}"] = [float(acc_c1[j]) for j in rows]
    c1[f"small_{t}"] = [float(acc_c1[n_d + j]) for j in rows]
    c1[f"curric_{t}"] = [float(acc_c1[2 * n_d + j]) for j in rows]
    c1[f"N_star_{t}"] = [N_star[j] for j in rows]
    print(
        f"{t}: N* = {c1[f'N_star_{t}']}; balanced accuracy, "
        "trained directly on N*: "
        f"{np.round(c1[f'direct_{t}'], 3).tolist()}, "
        f"directly on N = {N_SMALL}: "
        f"{np.round(c1[f'small_{t}'], 3).tolist()}, "
        f"multi-head at N*: {np.round(c1[f'curric_{t}'], 3).tolist()}"
    )
    for k in ("direct", "small", "curric", "N_star"):
        runtime.glue(f"a06_{t}_{k}", float(np.mean(c1[f"{k}_{t}"])))
report.measure("C1", c1)

# %% [markdown]
# Within the same number of steps the multi-head curriculum solves parity up to
# $N^* \approx$ {glue:text}`a06_parity_N_star:.1f` and DMS up to {glue:text}`a06_dms_N_star:.1f`
# (means over seeds), where its heads score {glue:text}`a06_parity_curric:.2f` and
# {glue:text}`a06_dms_curric:.2f` on balanced inputs, while the same networks trained directly
# on those $N$ stay at chance (balanced accuracy {glue:text}`a06_parity_direct:.2f` and
# {glue:text}`a06_dms_direct:.2f`). The positive control shows that the baseline's training is
# not broken: trained the same way directly on $N = 3$, it reaches
# {glue:text}`a06_parity_small:.2f` (parity) and {glue:text}`a06_dms_small:.2f` (DMS).
# For parity this is the familiar difficulty of learning a high-order parity from scratch: no
# single bit, and no set of fewer than $N$ bits, carries any information about the label.

# %% [markdown]
# ## Single-neuron timescales (C2, C3)
#
# The trained $\tau_i$ are read directly off each snapshot (clipped at 1, as the forward pass
# sees them). We summarise a network at each solved $N$ by its mean $\tau$, and its trend by the
# Spearman rank correlation $\rho(N, \bar\tau)$ across its snapshots and the gain
# $\bar\tau(N_\mathrm{last}) - \bar\tau(N = 2)$.


# %%
def ranks(v):
    """Ranks 0..n-1 of a 1-d sequence; tied values share their mean
    rank.
    """
    v = np.asarray(v, dtype=float)
    r = np.empty(len(v))
    r[np.argsort(v, kind="stable")] = np.arange(len(v))
    _, inv = np.unique(v, return_inverse=True)
    return (np.bincount(inv, r) / np.bincount(inv))[inv]


def spearman(a, b):
    """Spearman rank correlation of two 1-d sequences, ties ranked by
    their mean rank.

    nan with fewer than 3 points; 0 when either sequence is constant (no
    trend at all).
    """
    if len(a) < 3:
        return float("nan")
    ra, rb = (ranks(v) for v in (a, b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


snap_keys = sorted(run["snaps"])  # (network, N solved)
tau_of = {
    key: run["snaps"][key]["tau"].clamp(min=1.0).flatten().cpu().numpy()
    for key in snap_keys
}
Ns_of = {i: [n for j, n in snap_keys if j == i] for i in range(len(nets))}


def trend(i, value, N_min=2):
    """(Spearman rho over N, last - first) of value[(i, N)] across network
    i's snapshots with N >= N_min.
    """
    Ns = [n for n in Ns_of[i] if n >= N_min]
    v = [value[i, n] for n in Ns]
    return spearman(Ns, v), (v[-1] - v[0]) if Ns else float("nan")


mean_tau = {key: float(v.mean()) for key, v in tau_of.items()}
tau_trend = {i: trend(i, mean_tau) for i in Ns_of}
# without the first step, N = 2 -> 3
tau_trend3 = {i: trend(i, mean_tau, N_min=3) for i in Ns_of}
for t in P["tasks"]:
    for kind in ALL:
        rho, gain = np.nanmean(
            [tau_trend[i] for i in idx[t, kind]], axis=0
        )
        tau_from = np.mean(
            [mean_tau[i, Ns_of[i][0]] for i in idx[t, kind]]
        )
        tau_to = np.mean([mean_tau[i, Ns_of[i][-1]] for i in idx[t, kind]])
        print(
            f"{t:6s} {kind:6s}-head: mean tau from {tau_from:.3f} "
            f"to {tau_to:.3f}; rho(N, tau) = {rho:+.2f}"
        )
        runtime.glue(f"a06_{kind}_rho_{t}", float(rho))
        runtime.glue(
            f"a06_{kind}_rho3_{t}",
            float(np.nanmean([tau_trend3[i][0] for i in idx[t, kind]])),
        )
runtime.glue(
    "a06_multi_gain",
    float(
        np.mean(
            [tau_trend[i][1] for t in P["tasks"] for i in idx[t, "multi"]]
        )
    ),
)
for t in P["tasks"]:
    runtime.glue(
        f"a06_single_N_{t}",
        float(N_solved[idx[t, "single"]].float().mean()),
    )

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(11, 3.2))
for t, ls in zip(P["tasks"], ("-", "--")):
    for c, kind in zip(plots.COLORBLIND, ALL):
        for j, i in enumerate(idx[t, kind]):
            axs[0].plot(
                Ns_of[i],
                [mean_tau[i, n] for n in Ns_of[i]],
                ls,
                color=c,
                marker=".",
                label=f"{t}, {kind}" if j == 0 else None,
            )
axs[0].set(
    xlabel="N solved",
    ylabel=r"mean $\tau$",
    title=r"mean $\tau$ against N",
)
axs[0].legend(fontsize=7)
bins = np.linspace(1, max(v.max() for v in tau_of.values()), 30)
for ax, kind in zip(axs[1:], ALL):
    for c, which in zip(plots.COLORBLIND[2:], (0, -1)):
        vals = np.concatenate(
            [
                tau_of[i, Ns_of[i][which]]
                for t in P["tasks"]
                for i in idx[t, kind]
            ]
        )
        ax.hist(
            vals,
            bins=bins,
            color=c,
            alpha=0.6,
            label="first solved N (= 2)"
            if which == 0
            else "last solved N",
        )
    ax.set(
        xlabel=r"$\tau$",
        ylabel="neurons",
        title=f"{kind}-head: distribution of $\\tau$",
    )
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# These panels mirror the paper's $\tau$ distributions. Every network first lowers its mean $\tau$
# from the initial $U(1, 2)$ while it learns the first tasks (the drop from $N = 2$ to $N = 3$ in
# the left panel). After that the two curricula part. The multi-head networks keep moving their
# neurons towards the floor $\tau = 1$ (mean gain from $N = 2$ {glue:text}`a06_multi_gain:+.2f`,
# mean $\tau$ at the last $N$ {glue:text}`a06_multi_tau_last:.2f`): $\tau$ certainly does not
# grow, but it is not constant either. C3's rule is two-sided: a network keeps $\tau$ constant
# if its mean $\tau$ moves by at most 0.05 either way between its first and last solved $N$; the
# mean change is {glue:text}`a06_multi_change:.2f`. (The notes read "constant" as "near the
# floor", mean $\tau \le 1.2$ at the end; we report that value as context.) The single-head
# networks keep slower neurons than their multi-head twins, and on DMS their mean $\tau$ rises
# with $N$ (mean $\rho$ = {glue:text}`a06_single_rho_dms:+.2f`). On parity, where they reach only
# $N \approx$ {glue:text}`a06_single_N_parity:.0f`, the rise from $N = 3$ on (mean $\rho$ =
# {glue:text}`a06_single_rho3_parity:+.2f`) does not make up for the first drop, and the
# pre-registered trend from $N = 2$ is flat ($\rho$ = {glue:text}`a06_single_rho_parity:+.2f`).
# The paper follows single-head networks to $N$ of several tens; the miniature sees only the
# first steps of that growth.

# %% [markdown]
# ## Catastrophic forgetting (C2)
#
# After training, we ask each network about every $N' \le N_\mathrm{final}$: a multi-head network
# with the head of $N'$, a single-head network with its only head (the one it was trained with
# on every $N$ in turn). With balanced inputs the labels for different $N'$ are independent, so a
# head that computes $N$-parity is at chance on $(N-2)$-parity: asked this way, a single-head
# network forgets by construction. The first version of this chapter judged forgetting by
# exactly that number, a check that could not fail; it is now context only.
#
# Whether the *network* has forgotten is a question about its states. We freeze each network
# after training, record its last hidden state on balanced sequences, and train a fresh linear
# readout (logistic regression on standardised states, scikit-learn) to decode the label of the
# earlier task $N_\mathrm{final} - 2$ [R]; it is scored on fresh sequences. The single-head
# network has forgotten if this decoder stays near chance (≤ 0.65, the threshold of the notes).
# The decoder is controlled twice: on the same network's snapshot taken when it had just solved
# $N_\mathrm{final} - 2$, and on the final states of its multi-head twin, which still has a head
# for that $N$. Both hold the earlier task, so the decoder must find it there (> 0.65), or the
# test cannot tell forgetting from a decoder that fails.

# %%
final = {k: v.detach() for k, v in run["p"].items()}
N_f = N_solved.to(dev)
# N' = k + 2 for head k
lag_all = (torch.arange(P["heads"], device=dev) + 2).clamp(
    max=N_f[:, None] + 1
)
gen_f = runtime.generator(ctx.seeds[0], 300, dev)
par_f = run["parity"]
acc_same = accuracy(
    final, par_f, lag_all, N_f + 1, gen_f, same_head=True
).cpu()
acc_heads = accuracy(final, par_f, lag_all, N_f + 1, gen_f).cpu()
single = torch.tensor([k == "single" for _, k, _ in nets])
# (network, N' - 2)
acc_now = torch.where(single[:, None], acc_same, acc_heads)


@torch.no_grad()
def last_states(p, parity, N_len, lag, gen, batches):
    """Last-step states (S, n, H), labels at lag[s] (S, n) and the bits
    x_(T-lag+1) (S, n) of balanced sequences.
    """
    rows, hs, ys, bits = torch.arange(len(N_len), device=dev), [], [], []
    for _ in range(batches):
        M = lengths(parity, N_len, gen)
        x, y = make_batch(
            parity, M, lag[:, None], P["eval_batch"], gen, balanced=True
        )
        hs.append(hidden(p, x, gen=gen)[rows, M - 1])
        ys.append(y[:, 0])
        bits.append(
            x.gather(
                2, (M - lag)[:, None, None].expand(-1, x.shape[1], 1)
            )[..., 0]
        )
    return [torch.cat(v, 1).cpu().numpy() for v in (hs, ys, bits)]


def linear_decoding(p, parity, N_len, lag, gen):
    """Test accuracy (S,) of a fresh logistic readout of the lag[s] label,
    and (S,) of the bit x_(T-lag+1).
    """
    n_train, n_test = P["decode_batches"]
    (H_tr, y_tr, b_tr), (H_te, y_te, b_te) = (
        last_states(p, parity, N_len, lag, gen, n)
        for n in (n_train, n_test)
    )
    score = lambda X, y, Xt, yt: (  # noqa: E731
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        .fit(X, y)
        .score(Xt, yt)
    )
    return (
        np.array(
            [
                score(H_tr[s], y_tr[s], H_te[s], y_te[s])
                for s in range(len(lag))
            ]
        ),
        np.array(
            [
                score(H_tr[s], b_tr[s], H_te[s], b_te[s])
                for s in range(len(lag))
            ]
        ),
    )


sgl = [a for a, _ in pairs]
# N_final - 2 of each single-head network
N_early = [max(int(N_solved[a]) - FORGET_LAG, 2) for a in sgl]
p_dec = cat_stacks(
    {k: v[sgl] for k, v in final.items()},
    stack([run["snaps"][a, n] for a, n in zip(sgl, N_early)]),
    {k: v[[b for _, b in pairs]] for k, v in final.items()},
)
par_dec = par_f[sgl].repeat(3)
# the lengths of each single-head network's last task
N_len_dec = N_f[sgl].repeat(3)
lag_dec = torch.tensor(N_early * 3, device=dev)
dec, dec_bit = linear_decoding(
    p_dec,
    par_dec,
    N_len_dec,
    lag_dec,
    runtime.generator(ctx.seeds[0], 310, dev),
)
n_p = len(pairs)
c2_forget = {
    "forget_decode": dec[:n_p].tolist(),
    "decode_before": dec[n_p : 2 * n_p].tolist(),
    "decode_multi": dec[2 * n_p :].tolist(),
    "bit_decode": dec_bit[:n_p].tolist(),
    "same_head_acc": [
        float(acc_now[a, n - 2]) for a, n in zip(sgl, N_early)
    ],
}
for k, v in c2_forget.items():
    print(
        f"{k:14s}",
        np.round(v, 3).tolist(),
        "(parity seeds, then DMS seeds)",
    )
    runtime.glue(f"a06_{k}", float(np.mean(v)))

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, len(P["tasks"]) + 1, figsize=(11, 3.2))
for ax, t in zip(axs, P["tasks"]):
    for c, kind in zip(plots.COLORBLIND, ALL):
        for j, i in enumerate(idx[t, kind]):
            Nf = int(N_solved[i])
            ax.plot(
                range(2, Nf + 1),
                acc_now[i, : Nf - 1],
                "o-",
                ms=3,
                color=c,
                label=f"{kind}-head" if j == 0 else None,
            )
    ax.axhline(0.5, color="k", lw=0.8)
    ax.set(
        xlabel="N' asked about",
        ylabel="balanced accuracy",
        ylim=(0.3, 1.02),
        title=f"{t}: its heads, every N' ≤ N_final",
    )
    ax.legend(fontsize=8)
groups = [("single,\nfinal", "forget_decode"), ("single, when\nN_final − 2\nwas solved", "decode_before"),
          ("multi twin,\nfinal", "decode_multi"), ("single: the\nbit only", "bit_decode")]  # fmt: skip
# one dot per network: c2_forget lists the parity seeds, then the DMS seeds
rows = [(lb, t, v) for lb, key in groups
        for t, v in zip(np.repeat(P["tasks"], len(ctx.seeds)), c2_forget[key])]  # fmt: skip
sns.stripplot(data=pd.DataFrame(rows, columns=["group", "task", "acc"]), x="group", y="acc", hue="task",
              dodge=True, jitter=0.1, size=4, palette=plots.COLORBLIND[2:4], ax=axs[-1])  # fmt: skip
axs[-1].axhline(0.65, color="k", lw=0.8, ls="--")
axs[-1].tick_params(axis="x", labelsize=7)
axs[-1].set(
    ylabel="fresh linear readout, test accuracy",
    ylim=(0.4, 1.02),
    xlabel="",
    title="decoding the N_final − 2 task",
)
axs[-1].legend(fontsize=7)
plt.show()

# %% [markdown]
# Asked with their own head, the single-head networks are at chance on $N_\mathrm{final} - 2$
# ({glue:text}`a06_same_head_acc:.2f`), as they must be. A fresh linear readout of their final
# states decodes that earlier task with accuracy {glue:text}`a06_forget_decode:.2f` (mean over
# tasks and seeds; the rule asks for ≤ 0.65). On the same networks' snapshots from when they
# had just solved it the decoder reaches {glue:text}`a06_decode_before:.2f`, and on the
# multi-head twins {glue:text}`a06_decode_multi:.2f`. The earlier task's label is a nonlinear
# function of the input bits (an XOR for both tasks), so a linear readout finds it only where
# the network still computes it; the bit that the earlier task needs, $x_{T - N_\mathrm{final} + 3}$,
# is decoded from the final single-head states with accuracy {glue:text}`a06_bit_decode:.2f`
# (context: memory of the input, as distinct from the answer to the old task).

# %% [markdown]
# ## Network-mediated timescales (C3)
#
# $\tau_\mathrm{net}$ is read from activity, as in the paper [C]: drive the network with a long
# random binary input (bit probability drawn per trial), drop a burn-in, compute each neuron's
# autocorrelation $C(\ell)$ averaged over trials (FFT with zero padding, unbiased $1/(T-\ell)$
# normalisation), and fit $C(\ell)/C(0) \approx a\,e^{-\ell/\tau_\mathrm{net}}$ on lags
# $0 \le \ell \le 30$ with $0 \le a \le 1$, $\tau_\mathrm{net} \le 100$. The authors choose between
# one and two exponentials by AIC and keep the slower timescale; we fit one exponential only
# (a least-squares grid over $\tau_\mathrm{net}$ with the best $a$ in closed form), which is simpler
# and vectorises over all neurons of all snapshots [R].


# %%
@torch.no_grad()
def network_timescales(p, gen, steps=None, trials=None):
    """tau_net (S, H) of every neuron of a stack: single-exponential fit of
    its autocorrelation.
    """
    steps, trials = steps or P["ac_steps"], trials or P["ac_trials"]
    # networks at once
    chunk = max(1, CHUNK // (steps * trials * p["W"].shape[1]))
    # candidate tau_net in [0.1, 100]
    grid = torch.logspace(-1, 2, 301, device=dev)
    lags = torch.arange(FIT_LAG + 1, device=dev)
    # (G, L) unit-amplitude exponentials
    E = torch.exp(-lags / grid[:, None])
    out = []
    for a in range(0, p["W"].shape[0], chunk):
        pc = {k: v[a : a + chunk] for k, v in p.items()}
        S, T = pc["W"].shape[0], steps + P["ac_burn"]
        bias = torch.rand(S, trials, 1, generator=gen, device=dev)
        x = (
            torch.rand(S, trials, T, generator=gen, device=dev) < bias
        ).float()
        # (S, trials, H, T')
        h = hidden(pc, x, gen=gen)[:, P["ac_burn"] :].permute(0, 2, 3, 1)
        h = h - h.mean(-1, keepdim=True)
        n = h.shape[-1]
        f = torch.fft.rfft(h, n=2 * n)
        ac = torch.fft.irfft(f.real**2 + f.imag**2, n=2 * n)[
            ..., : FIT_LAG + 1
        ] / (n - lags)
        ac = ac.mean(1)  # (S, H, L), averaged over trials
        y = ac / ac[..., :1]
        dots = y @ E.T  # (S, H, G)
        amp = (dots / (E * E).sum(1)).clamp(0, 1)
        rss = (
            (y * y).sum(-1, keepdim=True)
            - 2 * amp * dots
            + amp**2 * (E * E).sum(1)
        )
        tau_net = grid[rss.argmin(-1)]
        # silent neurons: undefined
        out.append(torch.where(ac[..., 0] > 1e-8, tau_net, torch.nan))
    return torch.cat(out)


# %%
snap_stack = stack([run["snaps"][key] for key in snap_keys])
# C3's control: these with W = 0
multi_keys = [key for key in snap_keys if nets[key[0]][1] == "multi"]
no_W = stack(
    [
        dict(run["snaps"][key], W=torch.zeros_like(run["snaps"][key]["W"]))
        for key in multi_keys
    ]
)
tau_net_all = (
    network_timescales(
        cat_stacks(snap_stack, no_W),
        runtime.generator(ctx.seeds[0], 400, dev),
    )
    .cpu()
    .numpy()
)
tau_net = {
    key: float(np.nanmedian(tau_net_all[j]))
    for j, key in enumerate(snap_keys)
}
tau_net_noW = {
    key: float(np.nanmedian(tau_net_all[len(snap_keys) + j]))
    for j, key in enumerate(multi_keys)
}
tau_net_all = tau_net_all[: len(snap_keys)]
net_trend = {i: trend(i, tau_net) for i in Ns_of}
for t in P["tasks"]:
    for kind in ALL:
        first = np.mean([tau_net[i, Ns_of[i][0]] for i in idx[t, kind]])
        last = np.mean([tau_net[i, Ns_of[i][-1]] for i in idx[t, kind]])
        print(
            f"{t:6s} {kind:6s}-head: median tau_net from {first:.2f} "
            f"(N = 2) to {last:.2f} (last N); rho(N, tau_net) = "
            f"{np.nanmean([net_trend[i][0] for i in idx[t, kind]]):+.2f}"
        )
        runtime.glue(
            f"a06_{kind}_net_{t}",
            float(np.nanmean([net_trend[i][0] for i in idx[t, kind]])),
        )
        runtime.glue(f"a06_{kind}_netlast_{t}", float(last))


ratio = {
    i: tau_net[i, Ns_of[i][-1]] / tau_net[i, Ns_of[i][0]] for i in Ns_of
}
net_trend_noW = {
    i: trend(i, tau_net_noW) for t in P["tasks"] for i in idx[t, "multi"]
}
per_net = lambda t, kind, f: [  # noqa: E731
    float(f(i)) for i in idx[t, kind]
]
both = lambda kind, f: [  # noqa: E731
    float(f(i)) for t in P["tasks"] for i in idx[t, kind]
]
report.measure(
    "C2",
    tau_rho_parity=per_net("parity", "single", lambda i: tau_trend[i][0]),
    tau_gain_parity=per_net("parity", "single", lambda i: tau_trend[i][1]),
    tau_rho_dms=per_net("dms", "single", lambda i: tau_trend[i][0]),
    tau_gain_dms=per_net("dms", "single", lambda i: tau_trend[i][1]),
    tau_rho_from3_parity=per_net(
        "parity", "single", lambda i: tau_trend3[i][0]
    ),
    tau_rho_from3_dms=per_net("dms", "single", lambda i: tau_trend3[i][0]),
    N_single=both("single", lambda i: N_solved[i]),
    **c2_forget,
)
report.measure(
    "C3",
    tau_change=both("multi", lambda i: abs(tau_trend[i][1])),
    net_rho_parity=per_net("parity", "multi", lambda i: net_trend[i][0]),
    net_rho_dms=per_net("dms", "multi", lambda i: net_trend[i][0]),
    net_rho_parity_noW=per_net(
        "parity", "multi", lambda i: net_trend_noW[i][0]
    ),
    net_rho_dms_noW=per_net("dms", "multi", lambda i: net_trend_noW[i][0]),
    tau_gain=both("multi", lambda i: tau_trend[i][1]),
    tau_last=both("multi", lambda i: mean_tau[i, Ns_of[i][-1]]),
    net_ratio=both("multi", lambda i: ratio[i]),
    N_multi=both("multi", lambda i: N_solved[i]),
)
for t in P["tasks"]:
    runtime.glue(
        f"a06_multi_net_noW_{t}",
        float(np.mean(per_net(t, "multi", lambda i: net_trend_noW[i][0]))),
    )
runtime.glue(
    "a06_multi_change",
    float(np.mean(both("multi", lambda i: abs(tau_trend[i][1])))),
)
runtime.glue(
    "a06_multi_tau_last",
    float(np.mean(both("multi", lambda i: mean_tau[i, Ns_of[i][-1]]))),
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(11, 3.2))
for t, ls in zip(P["tasks"], ("-", "--")):
    for c, kind in zip(plots.COLORBLIND, ALL):
        for j, i in enumerate(idx[t, kind]):
            axs[0].plot(
                Ns_of[i],
                [tau_net[i, n] for n in Ns_of[i]],
                ls,
                color=c,
                marker=".",
                label=f"{t}, {kind}" if j == 0 else None,
            )
axs[0].set(
    xlabel="N solved",
    ylabel=r"median $\tau_\mathrm{net}$",
    yscale="log",
    title=r"network timescale against N",
)
axs[0].legend(fontsize=7)
for ax, kind in zip(axs[1:], ALL):
    i = idx[P["tasks"][0], kind][0]
    for c, which in zip(plots.COLORBLIND[2:], (0, -1)):
        j = snap_keys.index((i, Ns_of[i][which]))
        ax.scatter(
            tau_of[snap_keys[j]],
            tau_net_all[j],
            s=8,
            color=c,
            alpha=0.7,
            label=f"N = {Ns_of[i][which]}",
        )
    ax.plot([1, 10], [1, 10], color="k", lw=0.8)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"trained $\tau$",
        ylabel=r"$\tau_\mathrm{net}$",
        title=f"{kind}-head ({P['tasks'][0]}, seed {ctx.seeds[0]}): neurons",
    )
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The left panel mirrors the paper's $\tau_\mathrm{net}$ against $N$. In the miniature the
# network-mediated timescales are short: the median neuron's autocorrelation has all but
# vanished after one step (median $\tau_\mathrm{net}$ of the multi-head networks at their last $N$:
# {glue:text}`a06_multi_netlast_parity:.2f` on parity, {glue:text}`a06_multi_netlast_dms:.2f`
# on DMS), and its trend with $N$ is weak (mean $\rho$ = {glue:text}`a06_multi_net_parity:+.2f`
# on parity, {glue:text}`a06_multi_net_dms:+.2f` on DMS). An isolated spike in the left panel, if any,
# is a snapshot whose activity grows without bound when a trial's input is almost all zeros (a
# bit probability drawn near 0, over a thousand steps, far from its short training sequences):
# that trial dominates the averaged autocorrelation. Rank correlations are insensitive to such
# outliers. The control removes the connections: the same multi-head snapshots with $W = 0$
# (each neuron alone, driven by the input through its own $\tau$) give a trend of
# {glue:text}`a06_multi_net_noW_parity:+.2f` on parity and {glue:text}`a06_multi_net_noW_dms:+.2f`
# on DMS; a trend in $\tau_\mathrm{net}$ that survived this would not be "through recurrent
# connectivity". Yet a multi-head DMS network recalls
# a bit from more than ten steps back with neurons whose $\tau$ sits near 1 and whose activity
# forgets within a step. The memory must be in the connections, but not as the slow
# reverberation that $\tau_\mathrm{net}$ measures; one possibility, which we have not checked, is
# a sequence passed from neuron to neuron (a delay line), for which every single neuron looks
# fast. The right panels show the neurons of one pair of networks. At the last $N$ many
# multi-head neurons sit at $\tau = 1$, with no memory of their own, and some of them still have
# $\tau_\mathrm{net}$ above 1: for those neurons the timescale can only come from the
# connections. Most neurons of both networks have $\tau_\mathrm{net}$ well below what their $\tau$
# alone would give ($-1/\ln(1 - 1/\tau)$, about 1.4 at $\tau = 2$): they follow the input.

# %% [markdown]
# ## Speed, robustness and generalisation (C4)
#
# *Speed* is the $N$ each curriculum solved in the same number of steps (the first figure).
# For *robustness* and *generalisation* we compare the two curricula at the same point, the
# snapshots at the common $N_c$ (the largest $N$ every network of a task solved), each read out
# with its head for $N_c$. Perturbations follow the authors' code [C]: ablating neuron $j$
# (zeroing its input, recurrent and readout weights), for the `n_ablate` slowest and fastest
# neurons by $\tau$ one at a time; adding $\epsilon \lVert W \rVert_F\, D / \lVert D \rVert_F$ to $W$
# ($D$ Gaussian); adding $\epsilon \lVert \tau \rVert\, |D| / \lVert D \rVert$ to $\tau$. We score each
# perturbed network on the task itself (balanced inputs, training lengths) by the fraction of
# its above-chance accuracy it keeps, $(a - 0.5)/(a_0 - 0.5)$ [R; the authors score perturbed
# networks on long streams].
#
# *Generalisation beyond the training regime* means a larger $N$ than any the network was
# trained on. The authors retrain networks trained up to $N = 16$ on larger $N$, up to 36 [C];
# in the miniature we take each $N_c$ snapshot, give it a fresh readout head (the same fresh
# head for both twins), and retrain it directly on $N_\mathrm{gen} = \lceil 1.5\, N_c \rceil$ for
# `retrain_steps` steps (200 in ci), the same for both curricula; the score is its balanced
# accuracy at $N_\mathrm{gen}$ [R]. Its control is the multi-head snapshot with the entries of
# its recurrent matrix $W$ shuffled (same weights, structure destroyed), retrained the same way:
# if the multi-head advantage lives in its learned connections, as the paper says, the
# shuffled twin must lose it. The first version of this chapter read generalisation as the
# accuracy on a stream of 1,000 steps after 100 warm-up steps, read out at every step [C: the
# authors' accuracy protocol]; that stays in the training range of $N$ and is now context.


# %%
def perturbed_copies(snap, n_ablate, eps, n_draws, gen):
    """Copies of one network (dict of tensors): unperturbed, ablations, W
    and tau perturbations; with labels.
    """
    copies, names = [dict(snap)], [("base", 0.0)]
    order = snap["tau"].flatten().argsort()
    # fastest, then slowest
    for n, j in enumerate(
        torch.cat([order[:n_ablate], order[-n_ablate:]]).tolist()
    ):
        c = {k: v.clone() for k, v in snap.items()}
        c["W"][j, :] = c["W"][:, j] = c["W_in"][:, j] = c["W_out"][
            :, j, :
        ] = 0.0
        (
            copies.append(c),
            names.append(
                (
                    "ablate fast" if n < n_ablate else "ablate slow",
                    float(snap["tau"].flatten()[j]),
                )
            ),
        )
    for e in eps:
        for _ in range(n_draws):
            D = torch.randn(snap["W"].shape, generator=gen, device=dev)
            (
                copies.append(
                    dict(
                        snap,
                        W=snap["W"] + e * snap["W"].norm() * D / D.norm(),
                    )
                ),
                names.append(("W", e)),
            )
            D = torch.randn(
                snap["tau"].shape, generator=gen, device=dev
            ).abs()
            (
                copies.append(
                    dict(
                        snap,
                        tau=snap["tau"]
                        + e * snap["tau"].norm() * D / D.norm(),
                    )
                ),
                names.append(("tau", e)),
            )
    return copies, names


@torch.no_grad()
def stream_accuracy(p, parity, lag, head, gen):
    """Accuracy (S,) of head[s] for lag[s], read out at every step of a
    long balanced stream.
    """
    S, H = p["W"].shape[:2]
    warm, T, B = (
        P["stream_warmup"],
        P["stream_warmup"] + P["stream"],
        P["stream_trials"],
    )
    x = (torch.rand(S, B, T, generator=gen, device=dev) < 0.5).float()
    t = torch.arange(warm, T, device=dev).expand(S, B, -1)
    first = t + 1 - lag[:, None, None]
    cs = F.pad(x.cumsum(2), (1, 0))
    y_par = (cs.gather(2, t + 1) - cs.gather(2, first)) % 2
    y = torch.where(
        parity[:, None, None],
        y_par,
        (x.gather(2, first) == x.gather(2, t)).float(),
    )
    rows = torch.arange(S, device=dev)
    # (S, H, 2), (S, 1, 2)
    W_o, b_o = p["W_out"][rows, head], p["b_out"][rows, head]
    W_T, inv_tau = (
        (p["W"] * (1 - torch.eye(H, device=dev))).transpose(1, 2),
        1 / p["tau"].clamp(min=1.0),
    )
    h, correct = (
        0.1 * torch.rand(S, B, H, generator=gen, device=dev),
        torch.zeros(S, device=dev),
    )
    for s in range(T):
        u = x[:, :, s, None] * p["W_in"] + p["b"]
        h = F.leaky_relu(
            torch.addcmul(h, inv_tau, torch.baddbmm(u, h, W_T) - h), SLOPE
        )
        if s >= warm:
            logit = torch.baddbmm(b_o, h, W_o)
            correct += (
                (
                    (logit[..., 1] > logit[..., 0]).float()
                    == y[:, :, s - warm]
                )
                .float()
                .mean(1)
            )
    return correct / P["stream"]


# %%
gen_r = runtime.generator(ctx.seeds[0], 500, dev)
# meta: (learner network, kind of perturbation, its size)
copies, meta = [], []
for t in P["tasks"]:
    for i in idx[t, "single"] + idx[t, "multi"]:
        c, names = perturbed_copies(
            run["snaps"][i, N_c[t]],
            P["n_ablate"],
            P["eps"],
            P["n_draws"],
            gen_r,
        )
        copies += c
        meta += [(i, *nm) for nm in names]
cp = {k: v.detach() for k, v in stack(copies).items()}
cp_par = torch.stack([run["parity"][i] for i, *_ in meta])
cp_N = torch.tensor([N_c[nets[i][0]] for i, *_ in meta], device=dev)
cp_head = torch.tensor(
    [
        N_c[nets[i][0]] - 2 if nets[i][1] == "multi" else 0
        for i, *_ in meta
    ],
    device=dev,
)
acc_cp = (
    accuracy(
        cp, cp_par, cp_N[:, None].expand(-1, P["heads"]), cp_N, gen_r
    )[torch.arange(len(meta)), cp_head]
    .cpu()
    .numpy()
)
base_rows = [j for j, m in enumerate(meta) if m[1] == "base"]
acc_stream = (
    stream_accuracy(
        {k: v[base_rows] for k, v in cp.items()},
        cp_par[base_rows],
        cp_N[base_rows],
        cp_head[base_rows],
        gen_r,
    )
    .cpu()
    .numpy()
)
print(
    "common N:",
    N_c,
    "| unperturbed accuracy:",
    [round(float(a), 3) for a in acc_cp[base_rows]],
    "| on 1000-step streams:",
    [round(float(a), 3) for a in acc_stream],
)

# %%
g_S = len(g_rows)
acc_g = (
    head_accuracy(
        {k: v[:g_S].detach() for k, v in second["p"].items()},
        second["parity"][:g_S],
        torch.tensor(g_N, device=dev),
        torch.zeros(g_S, dtype=torch.long, device=dev),
        runtime.generator(ctx.seeds[0], 610, dev),
    )
    .cpu()
    .numpy()
)
gen_single, gen_multi, gen_shuf = (
    acc_g[:n_p],
    acc_g[n_p : 2 * n_p],
    acc_g[2 * n_p :],
)
print(
    "N_gen:",
    N_gen,
    "| balanced accuracy after retraining, single-head",
    np.round(gen_single, 3).tolist(),
    "multi-head",
    np.round(gen_multi, 3).tolist(),
    "multi-head with W shuffled",
    np.round(gen_shuf, 3).tolist(),
)

# %%
base_acc = {m[0]: acc_cp[j] for j, m in enumerate(meta) if m[1] == "base"}
stream_of = {meta[j][0]: acc_stream[n] for n, j in enumerate(base_rows)}
kept_frac = np.array(
    [
        (a - 0.5) / max(base_acc[m[0]] - 0.5, 0.05)
        for a, m in zip(acc_cp, meta)
    ]
)
by_kind = {
    kind: [
        j
        for j, m in enumerate(meta)
        if m[1] != "base" and nets[m[0]][1] == kind
    ]
    for kind in ALL
}
kept_of = {
    i: kept_frac[
        [j for j, m in enumerate(meta) if m[1] != "base" and m[0] == i]
    ].mean()
    for i, *_ in meta
}
c4 = {
    "N_gain": [int(N_solved[b] - N_solved[a]) for a, b in pairs],
    "robust_gap": [float(kept_of[b] - kept_of[a]) for a, b in pairs],
    "gen_gap": (gen_multi - gen_single).tolist(),
    "gen_gap_shuffled": (gen_shuf - gen_single).tolist(),
    "gen_single": gen_single.tolist(),
    "gen_multi": gen_multi.tolist(),
    "stream_gap": [float(stream_of[b] - stream_of[a]) for a, b in pairs],
}
report.measure("C4", c4)
for k, v in c4.items():
    print(f"{k:16s}", np.round(v, 3).tolist())
glued = {k: float(np.mean(v)) for k, v in c4.items()}
glued.update(
    {
        "kept_single": float(kept_frac[by_kind["single"]].mean()),
        "kept_multi": float(kept_frac[by_kind["multi"]].mean()),
        "stream_single": float(np.mean([stream_of[a] for a, _ in pairs])),
        "stream_multi": float(np.mean([stream_of[b] for _, b in pairs])),
    }
)
for kind in ALL:
    for grp in ("fast", "slow"):
        glued[f"ablate_{grp}_{kind}"] = float(
            np.mean(
                [
                    acc_cp[j]
                    for j in by_kind[kind]
                    if meta[j][1] == f"ablate {grp}"
                ]
            )
        )
for t in P["tasks"]:
    runtime.glue(f"a06_N_gen_{t}", N_gen[t])
    runtime.glue(f"a06_N_c_{t}", N_c[t])
for k, v in glued.items():
    runtime.glue(f"a06_c4_{k}", v)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(11, 3.2))
for ax, what in zip(axs[:2], ("W", "tau")):
    for c, kind in zip(plots.COLORBLIND, ALL):
        curve = [
            np.mean(
                [
                    acc_cp[j]
                    for j, m in enumerate(meta)
                    if m[1] == "base" and nets[m[0]][1] == kind
                ]
            )
        ]
        curve += [
            np.mean(
                [
                    acc_cp[j]
                    for j, m in enumerate(meta)
                    if m[1:] == (what, e) and nets[m[0]][1] == kind
                ]
            )
            for e in P["eps"]
        ]
        ax.plot([0] + P["eps"], curve, "o-", color=c, label=f"{kind}-head")
    ax.set(
        xlabel=r"perturbation size $\epsilon$",
        ylabel="accuracy at $N_c$",
        ylim=(0.4, 1.02),
        title="perturbing " + ("$W$" if what == "W" else r"$\tau$"),
    )
    ax.legend(fontsize=8)
for c, kind in zip(plots.COLORBLIND, ALL):
    js = [j for j in by_kind[kind] if meta[j][1].startswith("ablate")]
    axs[2].scatter(
        [meta[j][2] for j in js],
        acc_cp[js],
        s=10,
        color=c,
        alpha=0.7,
        label=f"{kind}-head",
    )
axs[2].set(
    xlabel=r"$\tau$ of the ablated neuron (before clipping)",
    ylabel="accuracy at $N_c$",
    ylim=(0.4, 1.02),
    title="ablating one neuron",
)
axs[2].legend(fontsize=8)
plt.show()

# %% [markdown]
# These panels mirror the paper's perturbation and ablation curves. In the same number of
# steps the multi-head curriculum solves {glue:text}`a06_c4_N_gain:.1f` more $N$ than the
# single-head one (mean over tasks and seeds). At the common $N_c$ the multi-head networks keep
# {glue:text}`a06_c4_kept_multi:.2f` of their above-chance accuracy under ablations and
# perturbations, the single-head ones {glue:text}`a06_c4_kept_single:.2f`. Single-neuron
# ablations cost the single-head networks more too (mean accuracy
# {glue:text}`a06_c4_ablate_fast_single:.2f` after losing one of their fastest neurons,
# {glue:text}`a06_c4_ablate_slow_single:.2f` one of their slowest; multi-head
# {glue:text}`a06_c4_ablate_fast_multi:.2f` and {glue:text}`a06_c4_ablate_slow_multi:.2f`). At this
# scale the single-head networks depend most on some of their fast neurons, not on the slow
# ones. Per pair of twins the multi-head network keeps {glue:text}`a06_c4_robust_gap:.3f` more
# of its above-chance accuracy (mean over pairs; the rule asks for ≥ 0.05).
#
# Beyond the trained $N$ the advantage is small. Retrained for the same number of steps at
# $N_\mathrm{gen}$ = {glue:text}`a06_N_gen_parity` (parity, from $N_c$ = {glue:text}`a06_N_c_parity`)
# and {glue:text}`a06_N_gen_dms` (DMS, from {glue:text}`a06_N_c_dms`), the multi-head networks
# reach {glue:text}`a06_c4_gen_multi:.3f` and the single-head ones
# {glue:text}`a06_c4_gen_single:.3f` (mean gap {glue:text}`a06_c4_gen_gap:+.3f`; the rule asks
# for ≥ 0.02); the multi-head twins with shuffled connections reach a gap of
# {glue:text}`a06_c4_gen_gap_shuffled:+.3f`. One possible reason, which we have not tested: the
# single-head networks come with slower neurons (previous sections), which a larger $N$ can use
# at once. Within the trained $N$, on 1,000-step streams
# far beyond their training lengths (the first version's reading of generalisation, now
# context), the multi-head networks score {glue:text}`a06_c4_stream_multi:.3f` against
# {glue:text}`a06_c4_stream_single:.3f`.

# %% [markdown]
# ## GRUs and LSTMs (C5)
#
# The same two curricula train gated networks, which have no explicit $\tau$: their forget and
# update gates set the timescales. We train GRUs and LSTMs on N-parity with both curricula for
# the same number of steps and compare the $N$ reached. This needs the full profile: the ci
# miniature trains them for only {glue:text}`a06_gated_steps` steps, so that the code runs, and
# does not judge the claim.

# %%
c5 = {}
runtime.glue("a06_gated_steps", P["gated_steps"])
for ci_, cell in enumerate(P["gated"]):
    g_nets = [("parity", k, s) for s in ctx.seeds for k in ALL]
    g_run = train(g_nets, P["gated_steps"], cell=cell, tag=10 + ci_)
    Ng = g_run["N_solved"].cpu().numpy()
    c5[f"{cell}_gain"] = (Ng[1::2] - Ng[0::2]).tolist()
    print(
        f"{cell}: N solved, single-head {Ng[0::2].tolist()}, "
        f"multi-head {Ng[1::2].tolist()}"
    )
report.measure("C5", c5)
if P["gated_steps"] < 1000:  # a smoke run of the code path
    report.untestable(
        "C5", f"ci trains the gated cells for {P['gated_steps']} "
        "steps (the code path runs; the networks have not learned "
        "yet); the full profile trains them for 3,000"
    )

# %% [markdown]
# ## Checks that do not depend on the run
#
# The task labels on a fixed input, the hand-written backpropagation against autograd on a tiny
# float64 case, and the timescale estimator on neurons whose answer is known: uncoupled neurons
# kept in the linear regime of $\phi$ by a positive bias are AR(1) processes, with
# autocorrelation $(1 - 1/\tau)^\ell$ and so $\tau_\mathrm{net} = -1/\ln(1 - 1/\tau)$.

# %% tags=["nbval-check-output"]
print(
    "input:",
    x_demo[0, 0].long().tolist(),
    "| N = 2, 3, 4 parity:",
    y_demo[0, :, 0].tolist(),
    "| DMS:",
    y_demo[1, :, 0].tolist(),
)
g0 = torch.Generator().manual_seed(0)
args = [
    torch.randn(2, 6, 3, 4, generator=g0, dtype=torch.float64),
    torch.randn(2, 4, 4, generator=g0, dtype=torch.float64),
    torch.rand(2, 1, 4, generator=g0, dtype=torch.float64) * 0.8 + 0.2,
    torch.rand(2, 3, 4, generator=g0, dtype=torch.float64),
]
args = [a.to(dev).requires_grad_(i < 3) for i, a in enumerate(args)]
w_out = torch.randn(2, 6, 3, 4, generator=g0, dtype=torch.float64).to(dev)
mine = torch.autograd.grad(
    (LeakyTauScan.apply(*args) * w_out).sum(), args[:3]
)
h, ref = args[3], []
for t in range(6):
    h = F.leaky_relu(
        h + args[2] * (h @ args[1].transpose(1, 2) + args[0][:, t] - h),
        SLOPE,
    )
    ref.append(h)
auto = torch.autograd.grad((torch.stack(ref, 1) * w_out).sum(), args[:3])
print(
    "hand-written BPTT == autograd (dL/dU, dL/dW, dL/d(1/tau)):",
    [torch.allclose(a, b) for a, b in zip(mine, auto)],
)
taus = torch.tensor([2.0, 5.0, 10.0], device=dev)
known = dict(
    W_in=torch.ones(1, 1, 3),
    b=2 * torch.ones(1, 1, 3),
    W=torch.zeros(1, 3, 3),
    tau=taus.cpu().view(1, 1, 3),
)
est = network_timescales(
    {k: v.to(dev) for k, v in known.items()},
    runtime.generator(0, 9, dev),
    steps=2000,
    trials=8,
)[0]
theory = -1 / torch.log(1 - 1 / taus)
print(
    "tau_net of AR(1) neurons within 15 % of",
    [round(v, 2) for v in theory.tolist()],
    ":",
    ((est / theory - 1).abs() < 0.15).tolist(),
)
print(
    "constants:",
    dict(slope=SLOPE, clip=CLIP, span=SPAN, fit_lag=FIT_LAG),
    "| claims:",
    list(report.claims),
)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change in its value that a re-execution on another
# CPU or thread count may show before the book's comparison fails. We measured it: the chapter
# was re-executed in ci with 1 and 2 threads (the default seeds) and with two other seed sets,
# [3, 4, 5] and [6, 7, 8] (`python -m rnnbook.runner variation a06 --seeds 3,4,5 --seeds 6,7,8`),
# and each `tol` is at least the larger of three times the change between thread paths and the
# change between seed sets, rounded up to a 1-2-5 step. The table shows both changes and the
# verdicts each run gave; the cell fails if a `tol` is below the thread-path change. The
# default seeds are fixed; the other seed sets show how far a verdict could move.
#
# Knife edges. With the other seed sets C4's generalisation gap falls below its margin (the
# default seeds pass it by less than the spread across pairs, and the check is marked
# fragile), so C4 is "reproduced" for the default seeds and "partly" for the two other sets.
# C4's robustness gap passes on every set, but on seeds 6–8 by a few $10^{-5}$; it too is marked
# fragile. The other verdicts were the same on every run.

# %%
report.tolerances("../../data/a06_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** 48 neurons (paper: 500), batches of 32 (256), 700 Adam
#   steps per network (the paper trains for up to 1,000 epochs of 600 SGD steps), "solved" at
#   95 % over the last 10 training batches (98 % on 50 test batches), $N$ up to about 13, three
#   seeds; $\tau_\mathrm{net}$ from 1,000 steps × 8 trials ($10^5$ steps × 10 trials). The `full`
#   profile (500 neurons, batches of 128, 4,000 steps, 98 %, up to 61 heads, five seeds, GRU and
#   LSTM) runs the same code on one GPU. It has not been executed for this version of the
#   chapter: its run time (about five minutes on an H100) is our estimate, how far $N$ gets in
#   4,000 steps at 500 neurons is unknown, and its learning rate was checked only in a short CPU
#   run.
# - **As in the authors' code [C].** The model equations, the $\tau$ initialisation and clipping,
#   zero self-connections, the random initial state, one readout head per $N$, both tasks with
#   their sequence lengths and input statistics, gradient clipping, the curriculum logic, the
#   autocorrelation protocol for $\tau_\mathrm{net}$ (FFT, lags 0–30, bounds), the ablation and
#   perturbation operations and the streaming accuracy.
# - **Reconstructed [R].** Adam instead of SGD; the "solved" test on training batches; training
#   all networks as one batched model with per-network readout times and paired initial
#   weights; the no-curriculum baseline trained on $N^*$; one exponential instead of the AIC
#   choice between one and two, and the median over neurons as a network's $\tau_\mathrm{net}$;
#   robustness scored on task-length sequences as the fraction of above-chance accuracy kept;
#   generalisation read as accuracy after retraining at $N_\mathrm{gen} = \lceil 1.5 N_c \rceil$
#   (the authors retrain from $N = 16$ to 36) with a fresh head for 200 steps; forgetting read
#   by a fresh linear readout of frozen states; GRU and LSTM trained on parity only. The
#   paper's full text was not available to us, so its figures could not be compared number by
#   number.
# - **Not reproduced at this scale.** See the table above for the verdicts of this run and the
#   tolerance table for those of the other seed sets. C2: single-head networks do raise $\tau$
#   with $N$ on DMS, but on parity they reach only $N \approx$
#   {glue:text}`a06_single_N_parity:.0f` and their $\tau$, measured from $N = 2$ as the rule fixed
#   beforehand, does not grow (from $N = 3$, after the drop every network makes on its first
#   tasks, mean $\rho$ = {glue:text}`a06_single_rho3_parity:+.2f`; reported, not judged). Nor do
#   their states forget: a fresh linear readout still decodes the task of $N_\mathrm{final} - 2$
#   above chance in most networks, most clearly on parity ({glue:text}`a06_forget_decode:.2f`
#   on average over both tasks). Their own head fails
#   on it, but that is the head, not the network. C3: multi-head networks do not keep $\tau$
#   constant, they lower it towards 1, and their $\tau_\mathrm{net}$ does not clearly grow with
#   $N$ on both tasks; their memory is in the connections in some form that single-neuron
#   autocorrelations do not show (see above). C4, generalisation: retrained at a larger $N$, the
#   multi-head networks are at most slightly better than the single-head ones; the gap is
#   smaller than its spread across seeds and its verdict differs between seed sets (next
#   section). All of these may need the paper's range of $N$; the full profile is written to
#   look.
# - **Pass rules changed after seeing results (first version).** (1) C1 first trained the
#   baseline in the same batch on a fixed $N_\mathrm{big}$ (8 for parity, 10 for DMS) and also
#   required every multi-head network to solve it; with one seed set they solved exactly 8, no
#   margin at all, so the baseline now trains on $N^*$, the $N$ its multi-head twin reached
#   (same threshold, 0.65). (2) C2 and C3 first averaged the trends of $\tau$ and
#   $\tau_\mathrm{net}$ over both tasks; with two seeds per run the C3 verdict was "reproduced"
#   for the default seeds and "partly" for three other seed sets, and C2 switched once as well.
#   Since the abstract claims the trends for both tasks, they are now judged per task. (3) C4's
#   robustness margin was 0.05; it was relaxed to "> 0" after seeing gaps of 0.025–0.094 and
#   restored to 0.05 in review, after which the seeds 6–8 passed by 4e-5 (0.0500), a knife
#   edge that nothing marked. (4) The default ci seeds went from two to three.
# - **Checks changed for the verdicts issue (rules fixed before these runs).** (5) C2's
#   forgetting check asked the single-head network's own head about $N_\mathrm{final} - 2$; on
#   balanced inputs that head is at chance by construction, so the check could not fail, and it
#   alone made C2 "partly". It is now a fresh linear readout of the frozen states (threshold
#   0.65, as before) with two controls, and the old number is context. (6) C3's "keeps $\tau$
#   constant" was one-sided ($\tau$ gain ≤ 0.05) and passed while $\tau$ fell; it is now
#   two-sided, $|\Delta\bar\tau| \le 0.05$ per network, and the $\tau_\mathrm{net}$ trend has a
#   control with $W = 0$. (7) C4's generalisation was accuracy on long streams at an $N$ the
#   networks were trained on; it is now accuracy after retraining beyond the trained $N$, with
#   a shuffled-$W$ control, and the stream gap is context. Its robustness and speed checks are
#   now per pair of twins, so their fragility is computed and shown. (8) C1 gained a positive
#   control (the baseline's training directly on $N = 3$; 200 steps in the second stack, to fit
#   the ci budget) and a control with the curriculum network at $N^*$. (9) "partly" now comes
#   only from one declared set of evidence checks: C1 has none (before: one task sufficed), C2
#   names the forgetting check, C3 the two $\tau_\mathrm{net}$ trends, C4 speed and robustness.
#   (10) Spearman's $\rho$ now gives tied values their mean rank (the $W = 0$ control has ties).
#
# ## References
#
# ```{footbibliography}
# ```
