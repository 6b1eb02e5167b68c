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
# # A08 · Mechanistic interpretability of RNNs emulating hidden Markov models
#
# Torre, Viscione, Pompe, Grewe and Mante {footcite}`torre2025mechanistic` ask how a network with a
# *continuous* state space can produce the *discrete*, stochastic behaviour that hidden Markov models
# (HMMs) {footcite}`rabiner1989tutorial` describe. They drive a bias-free ReLU RNN with Gaussian noise,
# let it emit one of three symbols per step through a hard Gumbel-softmax sample
# {footcite}`jang2017categorical`, and train it by *distribution matching*: the Sinkhorn divergence
# {footcite}`cuturi2013sinkhorn,feydy2019interpolating` between a batch of generated sequences and a
# batch of HMM sequences, with no pairing between the two. Then they reverse-engineer the trained
# networks in the tradition of fixed-point analysis {footcite}`sussillo2013opening`: one fixed point
# without input, noise-sustained orbits with input, slow "clusters" joined by fast transitions that a
# few "kick neurons" start, and a regime they relate to self-induced stochastic resonance
# {footcite}`muratov2005self`.
#
# The mechanistic claims need a *trained* network, and training one takes longer than the 60 s of
# the ci profile. This chapter therefore follows the "train or load" pattern: the training code lives
# below (the cells tagged `checkpoint-code`), the full profile runs it and writes a small checkpoint
# to `data/`, and the ci profile loads the committed checkpoint after checking that it was made by
# exactly this code (a SHA-256 of the syntax trees of those cells and of `rnnbook/transport.py`). The ci profile also
# trains a few networks from scratch for a short, honest smoke test. Equations and settings come from
# the authors' code `EliaTorre/hmmrnn` (marked [C]) or are ours (marked [R]).

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "RNNs can replicate HMM emission statistics": symbol frequencies, switch rates and
#   dwell-time distributions of a 2-state HMM.
# - **C2** "In the absence of inputs, the activity of trained RNNs collapses towards a single fixed point."
# - **C3a** "When driven by stochastic input, trajectories instead exhibit noise-sustained dynamics along
#   closed orbits. Rotation along these orbits modulates the emission probabilities ..."
# - **C3b** "... and is governed by transitions between regions of slow, noise-driven dynamics connected
#   by fast, deterministic transitions."
# - **C4** "a small set of 'kick neurons' initiating transitions": silencing them removes the switches.
# - **C5a** "... the network shifts into a regime of stochastic resonance": switching is maximal near
#   the training noise level.
# - **C5b** "This mechanism emerges during training": the orbit appears during training.
# - **C6** "this solution generalizes through the modular reuse of the same dynamical motif" across
#   linear-chain, fully connected and cyclic HMMs (full profile only).
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import ast
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnnbook import claims, plots, runtime, transport
from rnnbook.train import clip_per_model

ctx = runtime.setup("a08", default_seeds={"ci": [0, 1], "full": [0, 1, 2]})
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
# smoke_*: networks trained from scratch in this run.
P = ctx.pick(
    ci=dict(smoke_steps=150, smoke_batch=128, stats_n=2048,
            orbit_n=16, orbit_T=1500, commit_n=120, commit_trials=16,
            ablate_n=16, ablate_T=800, random_draws=12, sweep_n=1024,
            snapshot_n=16, snapshot_T=1500,
            family_steps=2, family_batch=32, family_draws=2),
    full=dict(smoke_steps=2500, smoke_batch=512, stats_n=8192,
              orbit_n=64, orbit_T=4000, commit_n=400, commit_trials=64,
              ablate_n=64, ablate_T=3000, random_draws=50, sweep_n=8192,
              snapshot_n=32, snapshot_T=3000,
              family_steps=2500, family_batch=512, family_draws=50),
)  # fmt: skip
S = len(ctx.seeds)



# %% [markdown]
# All claims and their pass rules are fixed here, before any experiment runs. The thresholds come
# from the research notes (`seed001_part1.md`, A08's "checkable claims": frequencies within 0.05,
# switch rate within 30 %, a single input-free fixed point, kick ablation ≥ 50 % against random
# < 20 %, a switch rate peaked near the training noise); where the paper gives no number the
# threshold is ours, marked [R] in the check's description, and was fixed before the checkpoint
# was analysed. Every empirical claim has a *control*: the same statistic on a model where it must
# fail (the network before training, its connections shuffled, random units silenced, or states
# matched on the logit margin). A control that passes makes the verdict "inconclusive".
#
# Two pass rules differ from the chapter's first version, in the direction the issue asked: C4 is
# judged on the kick ablation alone (the random ablation is its control, judged by the kick rule:
# it must not cut switching by half; the notes' stricter "< 20 %" for random units is no longer a
# condition), and C5's resonance is measured on
# the *sampled* emissions (the most likely symbol of this bias-free ReLU network does not depend
# on the noise scale at all; see C5). C3 and C5 are split into their two halves (C3a/C3b,
# C5a/C5b), each judged alone, instead of the old "some → partly". C2's thresholds are stricter
# than the notes' (relative 1e-3 and 1e-4 instead of absolute 1e-2 and 1e-3 at |h| ≈ 1-10).

# %% tags=["hide-input"]
# fmt: off
TITLE = "Mechanistic interpretability of RNNs emulating hidden Markov models"
report = claims.Report(ctx, title=TITLE)
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "RNNs driven by noise replicate HMM emission statistics (frequency, switching, dwell).",
    kind="empirical", paper="Sinkhorn loss near zero; frequencies and switching match (all HMMs)",
    checks=[
        E("freq_err", "<=", 0.05, "checkpoint: max |Δ frequency| (notes)", tol=0.05),
        E("switch_err", "<=", 0.3, "checkpoint: |switch rate / HMM's − 1| (notes)", tol=0.05),
        E("dwell_tv", "<=", 0.10, "checkpoint: dwell-time total variation [R]", tol=0.05),
        CTL("switch_err_untrained", "switch_err", "checkpoint before training (step 0)", tol=1),
        CTX("switch_rnn", "checkpoint: P(o_t+1 ≠ o_t)", tol=0.002),
        CTX("switch_hmm", "HMM: P(o_t+1 ≠ o_t)", tol=0.002),
        CTX("smoke_freq_err", "smoke nets (trained in this run): max |Δ frequency|", tol=0.1),
        CTX("smoke_switch_err", "smoke nets: |switch rate / HMM's − 1|", tol=2),
    ])
report.claim(
    "C2", "Without input, activity collapses to a single fixed point.",
    kind="empirical", paper="one fixed point (no input)",
    checks=[
        E("spread_rel", "<", 1e-3, "spread of 200 end points / mean noise-driven |h|", tol=5e-22),
        E("last_step_rel", "<", 1e-4, "largest last step / mean noise-driven |h|", tol=1e-22),
        CTL("spread_rel_shuffled", "spread_rel", "checkpoint, W_hh entries shuffled", tol=1e-22),
        CTX("steps_to_1pct", "steps until every start is at 1 % of its norm", tol=1),
    ])
report.claim(
    "C3a", "With noise: closed orbits whose rotation sets the emission probabilities.",
    kind="empirical", paper="orbits in PC1-PC2 (figures)",
    checks=[
        E("kappa", ">=", 0.5, "[R] net PC1-PC2 turns per pair of switches", tol=0.5),
        E("eta2", ">=", 0.7, "[R] variance of softmax(z) explained by the phase", tol=0.1),
        CTL("kappa_untrained", "kappa", "the checkpoint before training (step 0)", tol=0.005),
        CTL("eta2_untrained", "eta2", "the checkpoint before training (step 0)", tol=0.05),
    ])
report.claim(
    "C3b", "Slow, noise-driven regions are joined by fast, deterministic transitions.",
    kind="empirical", paper="clusters (residency > 8 steps) and transitions (< 2 steps)",
    checks=[
        E("speed_ratio", ">=", 2.0, "[R] median speed at switches / in clusters", tol=0.02),
        E("p_commit", ">=", 0.7, "[R] P(switch ≤ 3 steps, fresh noise) from pre-switch states",
          tol=0.02),
        E("p_switch_cluster", "<=", 0.2, "[R] the same from cluster states", tol=0.05),
        CTL("p_commit_margin_null", "p_commit", "states matched on the logit margin", tol=0.05),
        CTX("margin_pre_switch", "median top-two logit margin of pre-switch states", tol=0.1),
    ])
report.claim(
    "C4", "A small set of kick neurons initiates the transitions: silencing them removes switches.",
    kind="empirical", paper="two triplets of kick neurons (of 150); ablation traps trajectories",
    checks=[
        E("kick_reduction", ">=", 0.5, "switch-rate cut, k = ⌈0.05 H⌉ kick units silenced (notes)",
          tol=0.02),
        CTL("random_reduction", "kick_reduction", "k random non-kick units silenced", tol=0.05),
        CTX("k", "units silenced", tol=0),
        CTX("kick_overlap", "kick units shared with noise seed 0's", tol=0.5),
    ])
report.claim(
    "C5a", "Switching is a stochastic resonance: it peaks near the training noise level.",
    kind="empirical", paper="stochastic resonance in a noise-variance sweep",
    checks=[
        E("peak_near_train", "==", True, "sampled switch rate peaks at σ/σ_train ∈ {1/2, 1, 2}",
          tol=0),
        E("ends_over_peak", "<=", 0.8, "switch rate at σ/σ_train = 1/8 and 8 over the peak",
          tol=0.001),
        CTL("ends_over_peak_untrained", "ends_over_peak", "network before training", tol=0.0005),
        CTX("sinkhorn_best_ratio", "σ/σ_train with the smallest Sinkhorn divergence", tol=10),
        CTX("argmax_spread", "spread of the argmax switch rate over σ / mean (long runs)",
            tol=0.001),
    ])
report.claim(
    "C5b", "The orbit emerges during training.",
    kind="empirical", paper="phase transition during training",
    checks=[
        E("kappa_final", ">=", 0.5, "[R] κ (C3a) of the trained checkpoint", tol=0.1),
        E("kappa_init", "<", 0.3, "[R] κ of the same network before training", tol=0.02),
        CTL("kappa_untrained", "kappa_final", "κ of an independent untrained network", tol=0.005),
    ])
report.claim(
    "C6", "The same motif is reused across linear-chain, fully connected and cyclic HMMs.",
    kind="empirical", paper="144 trained models; the motif composes across architectures",
    checks=[
        E("freq_err_max", "<=", 0.05, "largest C1 frequency error of 3 families", over="max"),
        E("switch_err_max", "<=", 0.3, "largest C1 switch-rate error", over="max"),
        E("spread_rel_max", "<", 1e-3, "largest C2 end-point spread", over="max"),
        E("kick_reduction_min", ">=", 0.5, "smallest C4 kick-ablation cut", over="min"),
        CTL("random_reduction_max", "kick_reduction_min", "C4's random ablation", over="max"),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The task: emissions of a hidden Markov model
#
# An HMM has hidden states $s_t \in \{1..S\}$ with transitions $A_{ij} = P(s_{t+1}=j \mid s_t=i)$ and
# emits a symbol $o_t \in \{0, 1, 2\}$ with probabilities $E_{s_t, o}$. As in the authors' code [C],
# the linear chain stays with probability $0.95$ and otherwise moves to a neighbour, and the
# emissions interpolate between the two outer symbols: state $i$ emits
# $[0.99(1-\alpha_i),\ 0.01,\ 0.99\alpha_i]$ with $\alpha_i = i/(S-1)$. For two states the model
# sits in one of two "behaviours" (mostly symbol 0 or mostly symbol 2) for about 20 steps and
# switches at random. The full profile adds a 3-state fully connected HMM (stay 0.99 [C]) and a
# 4-state cycle (stay 0.95, ±1 around the ring [R]). All HMMs here emit through the linear rule [R].
#
# Every cell tagged `checkpoint-code` (this one, the model and the training loop) is part of the
# checkpoint's recipe: its SHA-256 is recorded with the checkpoint.

# %% tags=["checkpoint-code"]
# The checkpoint recipe: the authors' 2-state setting (T = 20, Sinkhorn
# blur 0.2 -> eps = 0.04, Adam, clip 0.9, d-dimensional N(0, 1) input) [C]
# at a CPU-sized scale (H = 50, d = 10, batch 512) [R].
CKPT = dict(
    hmm="chain2", H=50, d=10, K=3, T=20, sigma=1.0, batch=512, steps=2500,
    lr=2e-3, clip=0.9, eps=0.04, sinkhorn_iters=5, scaling=0.5, seed=0,
    snapshots=[0, 100, 250, 500, 1000, 1500, 2500],
)


def chain_hmm(S: int, stay: float = 0.95) -> np.ndarray:
    (
        "Linear chain: stay, else step to a neighbour "
        "(ends: the only neighbour) [C]."
    )
    A = np.zeros((S, S))
    for i in range(S):
        nb = [j for j in (i - 1, i + 1) if 0 <= j < S]
        A[i, i] = stay
        A[i, nb] = (1 - stay) / len(nb)
    return A


def linear_emissions(S: int) -> np.ndarray:
    (
        "State i emits [0.99 (1 - a), 0.01, 0.99 a] "
        "with a = i / (S - 1) [C]."
    )
    a = np.arange(S) / (S - 1)
    return np.stack([0.99 * (1 - a), np.full(S, 0.01), 0.99 * a], axis=1)


# %% tags=["checkpoint-code"]
def fully_connected_hmm(S: int, stay: float = 0.99) -> np.ndarray:
    return np.full((S, S), (1 - stay) / (S - 1)) + np.eye(S) * (
        stay - (1 - stay) / (S - 1)
    )


def cyclic_hmm(S: int, stay: float = 0.95) -> np.ndarray:
    A = np.eye(S) * stay
    for i in range(S):
        A[i, (i + 1) % S] += (1 - stay) / 2
        A[i, (i - 1) % S] += (1 - stay) / 2
    return A


HMMS = {
    "chain2": chain_hmm(2),
    "chain3": chain_hmm(3),
    "fully3": fully_connected_hmm(3),
    "cycle4": cyclic_hmm(4),
}


def hmm_stack(
    names: list[str], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    (
        "Transitions (M, S, S), emissions (M, S, K) "
        "and start distributions (M, S), padded to the largest S."
    )
    Smax = max(len(HMMS[n]) for n in names)
    A, E, pi0 = (
        torch.zeros(len(names), Smax, Smax),
        torch.zeros(len(names), Smax, 3),
        torch.zeros(len(names), Smax),
    )
    for m, name in enumerate(names):
        s = len(HMMS[name])
        A[m, :s, :s], E[m, :s], pi0[m, :s] = (
            torch.tensor(HMMS[name]),
            torch.tensor(linear_emissions(s)),
            1.0 / s,
        )
    return A.to(device), E.to(device), pi0.to(device)


# %% tags=["checkpoint-code"]
def sample_hmm(
    A: torch.Tensor,
    E: torch.Tensor,
    pi0: torch.Tensor,
    n: int,
    T: int,
    gen: torch.Generator,
):
    (
        "n sequences of T one-hot symbols per HMM: (M, n, T, K), "
        "and the hidden states (M, n, T)."
    )
    M = A.shape[0]
    # (M, n)
    s = torch.multinomial(pi0, n, replacement=True, generator=gen)
    rows = torch.arange(M, device=A.device)[:, None]
    states, symbols = [], []
    for t in range(T):
        if t:
            s = torch.multinomial(
                A[rows, s].reshape(M * n, -1), 1, generator=gen
            ).view(M, n)
        states.append(s)
        symbols.append(
            torch.multinomial(
                E[rows, s].reshape(M * n, -1), 1, generator=gen
            ).view(M, n)
        )
    o = torch.stack(symbols, 2)
    return (
        torch.nn.functional.one_hot(o, E.shape[-1]).float(),
        torch.stack(states, 2),
    )


# %% [markdown]
# ## The model: a noise-driven RNN that samples its outputs
#
# A vanilla RNN without biases [C], one model per leading index $m$ (several networks train as one
# batched model):
#
# $$h_t = \mathrm{ReLU}(u_t),\qquad u_t = W_{hh} h_{t-1} + W_{ih} x_t,\qquad x_t \sim \mathcal N(0, \sigma^2 I_d),
# \qquad h_0 \sim \mathcal N(0, I),$$
#
# with logits $z_t = W_{out} h_t$ and a sampled one-hot output $y_t = \mathrm{onehot}(\arg\max_k (z_{t,k} + G_{t,k}))$,
# $G$ Gumbel noise. The straight-through Gumbel-softmax (temperature 1 [C]) passes gradients through
# $\mathrm{softmax}(z_t + G_t)$. Weights start uniform in $\pm 1/\sqrt H$ (PyTorch's `nn.RNN` default [C]).
# The pre-activations $u_t$ are returned too: the kick-neuron analysis reads them.

# %% tags=["checkpoint-code"]
def init_weights(
    seeds: list[int], H: int, d: int, K: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """Stacked weights (M, ...) of M networks, each from its own seed."""
    out: dict[str, list[torch.Tensor]] = {
        "W_hh": [],
        "W_ih": [],
        "W_out": [],
    }
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        for name, shape in (
            ("W_hh", (H, H)), ("W_ih", (H, d)), ("W_out", (K, H))
        ):
            out[name].append(
                (torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(H)
            )
    return {k: torch.stack(v).to(device) for k, v in out.items()}


def rnn_run(
    W: dict[str, torch.Tensor],
    x: torch.Tensor,
    h0: torch.Tensor,
    keep: torch.Tensor | None = None,
):
    (
        "x: (M, n, T, d), h0: (M, n, H) -> pre-activations u, "
        "states h (M, n, T, H), logits z (M, n, T, K).\n\n"
        "    keep (M, 1, H) multiplies u "
        "(0 silences a unit: the authors' mu = 0 intervention)."
    )
    h, us, hs = h0, [], []
    for t in range(x.shape[2]):
        u = (
            h @ W["W_hh"].transpose(1, 2)
            + x[:, :, t] @ W["W_ih"].transpose(1, 2)
        )
        u = u if keep is None else u * keep
        h = torch.relu(u)
        us.append(u)
        hs.append(h)
    h_all = torch.stack(hs, 2)
    return (
        torch.stack(us, 2),
        h_all,
        h_all @ W["W_out"].transpose(1, 2)[:, None],
    )


def gumbel_hard(z: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    (
        "One-hot sample of softmax(z), "
        "straight-through gradient of softmax(z + G)."
    )
    G = -torch.empty_like(z).exponential_(generator=gen).log()
    soft = torch.softmax(z + G, -1)
    hard = torch.nn.functional.one_hot(
        soft.argmax(-1), z.shape[-1]
    ).to(z.dtype)
    return hard - soft.detach() + soft


# %% [markdown]
# ## The loss: a Sinkhorn divergence between two batches of sequences
#
# Each sequence is one point $\mathbf y \in \{0,1\}^{3T}$ (its one-hot symbols, flattened). With the
# cost $C(\mathbf y, \mathbf y') = \tfrac12 \lVert \mathbf y - \mathbf y' \rVert^2$, the number of steps at which
# two sequences differ, the entropic transport cost between a batch of $n$ generated and $n$ HMM
# sequences is $\mathrm{OT}_\varepsilon = \min_\pi \langle \pi, C\rangle + \varepsilon\,\mathrm{KL}(\pi \mid a\otimes b)$
# and the loss is the debiased Sinkhorn divergence
#
# $$S_\varepsilon(\mathbf y, \mathbf y^{\rm HMM}) = \mathrm{OT}_\varepsilon(\mathbf y, \mathbf y^{\rm HMM})
#   - \tfrac12 \mathrm{OT}_\varepsilon(\mathbf y, \mathbf y) - \tfrac12 \mathrm{OT}_\varepsilon(\mathbf y^{\rm HMM}, \mathbf y^{\rm HMM}),$$
#
# with $\varepsilon = 0.04$ (the authors' `geomloss` blur $0.2$ [C]). `rnnbook.transport` computes it
# in the log domain with $\varepsilon$-annealing, finds the dual potentials without gradients and
# takes one differentiable step at the end (envelope theorem); its tests compare it with the exact
# assignment cost on tiny point sets and check the gradient by finite differences. A network matches
# the HMM when no re-pairing of the two batches makes them closer, so the loss sees whole sequences:
# frequencies, switches and dwell times at once. Gradients are clipped per network at 0.9 [C]; HMM
# sequences are drawn fresh at every step (the authors use a fixed set of 10,000) [R].

# %% tags=["checkpoint-code"]
def train_rnn(
    names: list[str],
    seeds: list[int],
    cfg: dict,
    steps: int,
    batch: int,
    device: torch.device,
):
    (
        "Train one network per (HMM name, seed) pair "
        "as one batched model; returns weights, losses, snapshots."
    )
    A, E, pi0 = hmm_stack(names, device)
    W = init_weights(seeds, cfg["H"], cfg["d"], cfg["K"], device)
    params = [W[k].requires_grad_(True) for k in ("W_hh", "W_ih", "W_out")]
    opt = torch.optim.Adam(params, lr=cfg["lr"])
    gen = torch.Generator(device=device).manual_seed(10_007 * seeds[0] + 1)
    M, losses, snaps = len(seeds), [], {}
    for step in range(steps + 1):
        if step in cfg["snapshots"]:
            snaps[step] = {k: v.detach().clone() for k, v in W.items()}
        if step == steps:
            break
        x = cfg["sigma"] * torch.randn(
            M, batch, cfg["T"], cfg["d"], generator=gen, device=device
        )
        _, _, z = rnn_run(
            W,
            x,
            torch.randn(M, batch, cfg["H"], generator=gen, device=device),
        )
        y = gumbel_hard(z, gen).flatten(2)  # (M, batch, 3T)
        target = sample_hmm(A, E, pi0, batch, cfg["T"], gen)[0].flatten(2)
        loss = transport.sinkhorn_divergence(
            y, target, cfg["eps"], cfg["sinkhorn_iters"], cfg["scaling"]
        )
        opt.zero_grad()
        # the sum: each network gets its own gradient
        loss.sum().backward()
        clip_per_model(params, cfg["clip"])
        opt.step()
        losses.append(loss.detach().cpu().numpy())
    return {k: v.detach() for k, v in W.items()}, np.array(losses), snaps


# %% [markdown]
# ## Train or load the checkpoint
#
# Every run trains with the recipe above. In ci it runs {glue:text}`a08_recipe_steps` steps into a
# scratch folder that is then removed, so the training and saving code executes on every CI run.
# The full profile (or `A08_TRAIN_CHECKPOINT=1`) trains the checkpoint itself and
# writes `data/a08_checkpoint.npz` (weights and training snapshots) and `data/a08_checkpoint.json`
# (configuration, seed, device, torch version, wall and CPU time, loss curve, and the code hash).
# Otherwise the committed checkpoint is loaded, after checking that its recorded hash equals the hash
# of this chapter's `checkpoint-code` cells and `transport.py`: a changed recipe stops the chapter
# instead of silently analysing a network the code no longer makes. The committed checkpoint was
# trained on a CPU (the JSON records the time); `tests/test_a08_checkpoint.py` repeats the hash check.

# %%
ROOT = runtime.find_root()
DATA = (ROOT / "data") if ROOT else Path("data")
SOURCE = (
    ROOT / "book" / "related" / "a08_rnn_hmm_mechanisms.py"
    if ROOT
    else None
)


def checkpoint_code_sha256(chapter_py: Path, transport_py: Path) -> str:
    """SHA-256 of the syntax trees of the cells tagged checkpoint-code
    (in order) and of rnnbook/transport.py.

    Syntax trees, not bytes: reformatting or comments do not count, any
    change to the code does."""
    cells = re.split(r"^# %%", chapter_py.read_text(), flags=re.M)
    h = hashlib.sha256()
    for cell in cells:
        head, _, body = cell.partition("\n")
        if "checkpoint-code" in head:
            h.update(ast.dump(ast.parse(body)).encode() + b"\0")
    h.update(ast.dump(ast.parse(transport_py.read_text())).encode())
    return h.hexdigest()


CODE_SHA = (
    checkpoint_code_sha256(SOURCE, Path(transport.__file__))
    if SOURCE and SOURCE.exists()
    else None
)
# Steps of the checkpoint recipe in this run. ci runs the recipe for a
# few steps into a scratch folder, so that training and saving execute
# on every CI run; the full profile (or A08_TRAIN_CHECKPOINT=1) trains
# the real checkpoint into data/.
RECIPE_STEPS = ctx.pick(ci=3, full=CKPT["steps"])
TRAIN = (
    os.environ.get("A08_TRAIN_CHECKPOINT") == "1"
    or RECIPE_STEPS == CKPT["steps"]
    or not (DATA / "a08_checkpoint.npz").exists()
)
print(
    "code hash:", CODE_SHA and CODE_SHA[:16],
    "| train the checkpoint:", TRAIN,
)


# %%
def save_checkpoint(W, losses, snaps, meta, folder):
    arrays = {k: v[0].cpu().numpy() for k, v in W.items()}
    arrays["snapshot_steps"] = np.array(sorted(snaps))
    for k in ("W_hh", "W_ih", "W_out"):
        arrays[f"snapshot_{k}"] = np.stack(
            [snaps[s][k][0].cpu().numpy() for s in sorted(snaps)]
        )
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "a08_checkpoint.npz", **arrays)
    meta["shapes"] = {k: list(v.shape) for k, v in arrays.items()}
    (folder / "a08_checkpoint.json").write_text(
        json.dumps(meta, indent=1) + "\n"
    )


steps_now = CKPT["steps"] if TRAIN else RECIPE_STEPS
runtime.glue("a08_recipe_steps", steps_now)
folder = DATA if TRAIN else Path(tempfile.mkdtemp(prefix="a08-smoke-"))
t0, c0 = time.perf_counter(), time.process_time()
W_ck, loss_ck, snaps_ck = train_rnn(
    [CKPT["hmm"]], [CKPT["seed"]], CKPT,
    steps_now, CKPT["batch"], dev,
)
meta = dict(
    code_sha256=CODE_SHA,
    config=CKPT,
    seed=CKPT["seed"],
    steps=steps_now,
    device=ctx.device_name,
    torch=torch.__version__,
    threads=torch.get_num_threads(),
    wall_s=round(time.perf_counter() - t0, 1),
    cpu_s=round(time.process_time() - c0, 1),
    loss_every_10=[round(float(v), 4) for v in loss_ck[::10, 0]],
)
save_checkpoint(W_ck, loss_ck, snaps_ck, meta, folder)
if not TRAIN:  # the smoke checkpoint reads back; then it is dropped
    with np.load(folder / "a08_checkpoint.npz") as smoke:
        print("smoke run of the recipe:", steps_now, "steps,",
              sorted(smoke.files))
    shutil.rmtree(folder)
meta = json.loads((DATA / "a08_checkpoint.json").read_text())
if CODE_SHA is not None and meta["code_sha256"] != CODE_SHA:
    raise RuntimeError(
        "data/a08_checkpoint.* was made by other code: "
        "retrain with A08_TRAIN_CHECKPOINT=1"
    )
if meta["config"] != json.loads(json.dumps(CKPT)):
    raise RuntimeError(
        "the checkpoint's configuration differs from CKPT: "
        "retrain with A08_TRAIN_CHECKPOINT=1"
    )
npz = np.load(DATA / "a08_checkpoint.npz")
W = {
    k: torch.from_numpy(npz[k])[None].to(dev)
    for k in ("W_hh", "W_ih", "W_out")
}
SNAPS = {
    int(s): {
        k: torch.from_numpy(npz[f"snapshot_{k}"][i])[None].to(dev)
        for k in ("W_hh", "W_ih", "W_out")
    }
    for i, s in enumerate(npz["snapshot_steps"])
}
print(
    f"checkpoint: {meta['steps']} steps on {meta['device']}, "
    f"{meta['wall_s']} s wall, torch {meta['torch']}"
)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(np.arange(len(meta["loss_every_10"])) * 10, meta["loss_every_10"], color=plots.COLORBLIND[0])
ax.set(xlabel="training step", ylabel=r"Sinkhorn divergence $S_\varepsilon$", yscale="log", title="checkpoint training")
plt.show()

# %% [markdown]
# ## C1 · Emission statistics
#
# Three statistics of the emitted symbols, measured on sequences of the training length $T = 20$
# started as in training ($h_0 \sim \mathcal N(0, I)$): the symbol frequencies, the switch rate
# $P(o_{t+1} \ne o_t)$, and the distribution of dwell times (lengths of runs of one symbol; runs cut
# by the window's ends count as they are, for both models alike), compared by total variation. The
# checkpoint is tested on all three, on one batch of sequences per noise seed (the verdict uses the
# mean over seeds). The control is the same network before training (its step-0 snapshot): an
# untrained network must miss the HMM's switch rate.
#
# The networks trained from scratch in this run (one per seed, {glue:text}`a08_smoke_steps` steps in
# ci) are reported as context, not judged: the claim is about *trained* networks, and
# {glue:text}`a08_smoke_steps` steps are a few percent of the checkpoint's 2,500, a smoke test that
# the training code runs and moves the frequencies. The research notes found that a minute of CPU
# training matches the frequencies but not yet the dynamics, and that is what the smoke networks
# show (their switch rate is far above the HMM's). The checkpoint alone decides C1.

# %%
def simulate(W, n, T, sigma, gen, burn=0, keep=None, h0=None):
    """Noise-driven runs of every network in W: (u, h, z) after `burn`
    discarded steps."""
    M, H, d = W["W_hh"].shape[0], W["W_hh"].shape[1], W["W_ih"].shape[2]
    x = sigma * torch.randn(M, n, burn + T, d, generator=gen, device=dev)
    h0 = (
        torch.randn(M, n, H, generator=gen, device=dev)
        if h0 is None
        else h0
    )
    with torch.no_grad():
        u, h, z = rnn_run(W, x, h0, keep)
    return u[:, :, burn:], h[:, :, burn:], z[:, :, burn:]


def emission_stats(o: np.ndarray, K: int = 3) -> dict:
    """Frequencies, switch rate and dwell-time distribution of symbol
    sequences o (n, T)."""
    n, T = o.shape
    new_run = np.ones_like(o, dtype=bool)
    new_run[:, 1:] = o[:, 1:] != o[:, :-1]
    lengths = np.bincount(np.cumsum(new_run.ravel()) - 1)
    return dict(
        freq=np.bincount(o.ravel(), minlength=K) / o.size,
        switch=float(new_run[:, 1:].mean()),
        dwell=np.bincount(lengths, minlength=T + 1)[1:] / len(lengths),
    )


def compare_to_hmm(W, name, n, T, gen):
    A, E, pi0 = hmm_stack([name], dev)
    o_hmm = sample_hmm(A, E, pi0, n, T, gen)[0][0].argmax(-1).cpu().numpy()
    _, _, z = simulate(W, n, T, CKPT["sigma"], gen)
    o_rnn = gumbel_hard(z, gen)[0].argmax(-1).cpu().numpy()
    a, b = emission_stats(o_rnn), emission_stats(o_hmm)
    return a, b, dict(
        freq_err=float(np.abs(a["freq"] - b["freq"]).max()),
        switch_rel_err=a["switch"] / b["switch"] - 1,
        dwell_tv=0.5 * float(np.abs(a["dwell"] - b["dwell"]).sum()),
        switch_rnn=a["switch"],
        switch_hmm=b["switch"],
    )


per_seed = [
    compare_to_hmm(
        W, CKPT["hmm"], P["stats_n"], CKPT["T"],
        runtime.generator(s, 1, dev),
    )
    for s in ctx.seeds
]
st_rnn, st_hmm = per_seed[0][:2]
c1_seeds = [r[2] for r in per_seed]
c1_untrained = compare_to_hmm(
    SNAPS[0], CKPT["hmm"], P["stats_n"], CKPT["T"],
    runtime.generator(ctx.seeds[0], 11, dev),
)[2]
print(
    [{k: round(v, 4) for k, v in c.items()} for c in c1_seeds],
    "| untrained:",
    {k: round(v, 4) for k, v in c1_untrained.items()},
)

# %%
t0 = time.process_time()
W_smoke, loss_smoke, _ = train_rnn(
    [CKPT["hmm"]] * S, ctx.seeds, CKPT,
    P["smoke_steps"], P["smoke_batch"], dev,
)
smoke = [
    compare_to_hmm(
        {k: v[i : i + 1] for k, v in W_smoke.items()},
        CKPT["hmm"], P["stats_n"], CKPT["T"], runtime.generator(s, 2, dev),
    )[2]
    for i, s in enumerate(ctx.seeds)
]  # fmt: skip
runtime.glue("a08_smoke_steps", P["smoke_steps"])
print(
    f"smoke training: {time.process_time() - t0:.1f} s CPU;",
    [{k: round(v, 3) for k, v in s.items()} for s in smoke],
)

# %%
report.measure(
    "C1",
    freq_err=[c["freq_err"] for c in c1_seeds],
    switch_err=[abs(c["switch_rel_err"]) for c in c1_seeds],
    dwell_tv=[c["dwell_tv"] for c in c1_seeds],
    switch_err_untrained=abs(c1_untrained["switch_rel_err"]),
    switch_rnn=[c["switch_rnn"] for c in c1_seeds],
    switch_hmm=[c["switch_hmm"] for c in c1_seeds],
    smoke_freq_err=[s["freq_err"] for s in smoke],
    smoke_switch_err=[abs(s["switch_rel_err"]) for s in smoke],
)
c1 = {k: float(np.mean([c[k] for c in c1_seeds])) for k in c1_seeds[0]}
runtime.glue("a08_c1_switch_rnn", c1["switch_rnn"])
runtime.glue("a08_c1_switch_hmm", c1["switch_hmm"])
runtime.glue("a08_c1_tv", c1["dwell_tv"])
runtime.glue("a08_c1_switch_untrained", c1_untrained["switch_rnn"])
runtime.glue(
    "a08_c1_smoke_switch", float(np.mean([s["switch_rnn"] for s in smoke]))
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(11, 3))
xs = np.arange(3)
axs[0].bar(xs - 0.2, st_hmm["freq"], 0.4, label="HMM")
axs[0].bar(xs + 0.2, st_rnn["freq"], 0.4, label="RNN (checkpoint)")
axs[0].set(xticks=xs, xlabel="symbol", ylabel="frequency", title="emission frequencies")
axs[0].legend()
L = np.arange(1, CKPT["T"] + 1)
axs[1].semilogy(L, st_hmm["dwell"], "o-", ms=3, label="HMM")
axs[1].semilogy(L, st_rnn["dwell"], "s-", ms=3, label="RNN")
axs[1].set(xlabel="dwell time (steps)", ylabel="fraction of runs", title="dwell-time distribution")
axs[2].bar([0, 1], [c1["switch_hmm"], c1["switch_rnn"]], color=plots.COLORBLIND[:2])
axs[2].set(xticks=[0, 1], xticklabels=["HMM", "RNN"], ylabel=r"$P(o_{t+1}\neq o_t)$", title="switch rate")
plt.show()

# %% [markdown]
# The checkpoint emits the symbols with the HMM's frequencies and switches at a rate of
# {glue:text}`a08_c1_switch_rnn:.3f` per step (HMM: {glue:text}`a08_c1_switch_hmm:.3f`); the dwell-time
# distributions differ by a total variation of {glue:text}`a08_c1_tv:.3f` (the paper's Figure 2 shows
# the same comparison for its networks; all three are means over the noise seeds). Before training
# the same network switches at {glue:text}`a08_c1_switch_untrained:.3f` per step, so the control
# fails the switch-rate rule as it must; the smoke networks of this run switch at
# {glue:text}`a08_c1_smoke_switch:.3f` (context only, see above).
#
# ## C2 · Without input: one fixed point
#
# Without biases, $h = 0$ is always a fixed point of $h \mapsto \mathrm{ReLU}(W_{hh} h)$. The claim is
# that it is the *only* attractor: we start 100 random states (three times the scale of $h_0$) and
# 100 states visited by the noise-driven network, switch the input off, and follow
# $h_{t+1} = \mathrm{ReLU}(W_{hh} h_t)$ for 300 steps (the authors iterate 1,000 steps from a grid [C]).
#
# The control is the checkpoint with the entries of $W_{hh}$ shuffled (same weights, no structure;
# $W_{ih}$ and $W_{out}$ kept): a network whose weights are as large as the trained ones but not
# arranged by training need not relax to one point. (The network *before* training would be a
# weak control: its uniform weights of scale $1/\sqrt H$ give $W_{hh}$ a spectral radius below 1,
# so it collapses to $h = 0$ whatever the claim.) A control that diverges is recorded with the
# finite value $10^{30}$.

# %%
def fixed_point_test(W, gen) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Input-free relaxation from random and from noise-driven states
    (network 0 of W)."""
    _, h_orbit, _ = simulate(W, 4, 400, CKPT["sigma"], gen, burn=50)
    H, scale = h_orbit.shape[-1], float(h_orbit.norm(dim=-1).mean())
    traj = [
        torch.cat([
            3 * torch.randn(100, H, generator=gen, device=dev),
            h_orbit[0].reshape(-1, H)[::16][:100],
        ])
    ]
    with torch.no_grad():
        for _ in range(300):
            traj.append(torch.relu(traj[-1] @ W["W_hh"][0].T))
    traj = torch.stack(traj, 1)  # (200, 301, H)
    end, norms = traj[:, -1], traj.norm(dim=-1) / traj[:, :1].norm(dim=-1)
    out = dict(
        spread_rel=float((end - end.mean(0)).norm(dim=-1).max()) / scale,
        last_step_rel=float(
            (traj[:, -1] - traj[:, -2]).norm(dim=-1).max()
        ) / scale,
        steps_to_1pct=float((norms > 0.01).sum(1).float().max()),
        fixed_point_norm_rel=float(end.mean(0).norm()) / scale,
    )
    return out, traj, h_orbit[0]


def shuffled(
    W: dict[str, torch.Tensor], gen: torch.Generator
) -> dict[str, torch.Tensor]:
    """W with the entries of W_hh permuted at random
    (the control of C2)."""
    flat = W["W_hh"].reshape(-1)
    perm = torch.randperm(flat.numel(), generator=gen, device=flat.device)
    return {**W, "W_hh": flat[perm].reshape(W["W_hh"].shape)}


def finite(x: float, cap: float = 1e30) -> float:
    return float(x) if math.isfinite(x) and x < cap else cap


c2, traj_free, h_orbit = fixed_point_test(
    W, runtime.generator(ctx.seeds[0], 4, dev)
)
W_shuf = shuffled(W, runtime.generator(ctx.seeds[0], 12, dev))
c2_shuf = fixed_point_test(
    W_shuf, runtime.generator(ctx.seeds[0], 4, dev)
)[0]
rho = {
    n: float(torch.linalg.eigvals(w["W_hh"][0]).abs().max())
    for n, w in (
        ("trained", W), ("shuffled", W_shuf), ("untrained", SNAPS[0])
    )
}
report.measure(
    "C2",
    spread_rel=c2["spread_rel"],
    last_step_rel=c2["last_step_rel"],
    spread_rel_shuffled=finite(c2_shuf["spread_rel"]),
    steps_to_1pct=c2["steps_to_1pct"],
)
runtime.glue("a08_c2_steps", int(c2["steps_to_1pct"]))
runtime.glue("a08_c2_shuf", finite(c2_shuf["spread_rel"]))
for name, r in rho.items():
    runtime.glue(f"a08_c2_rho_{name}", r)
runtime.glue("a08_c2_verdict", report.verdict("C2"))
print(
    {k: f"{v:.3g}" for k, v in c2.items()},
    "| shuffled:",
    {k: f"{v:.3g}" for k, v in c2_shuf.items()},
)
print("spectral radius of W_hh:", {k: round(v, 3) for k, v in rho.items()})

# %% [markdown]
# ## C3 · With noise: closed orbits, slow clusters and fast transitions
#
# We run the checkpoint for {glue:text}`a08_orbit_T` steps per trajectory and project the states on
# their first two principal components. Three measurements, each defined by us [R] after the
# paper's analyses (the authors classify states by residency time [C]):
#
# - **rotation.** With $\theta_t$ the angle of the projected state around the centre, the net number
#   of turns $\sum_t \Delta\theta_t / 2\pi$ is compared with the number of output switches. A closed
#   orbit travelled in one direction gives one turn per two switches (0 → 2 → 0), so
#   $\kappa = |\text{turns}| / (\text{switches}/2) \approx 1$; going back and forth along one path gives $\kappa \approx 0$.
# - **phase sets the emission probabilities.** The fraction $\eta^2$ of the variance of
#   $\mathrm{softmax}(z_t)$ explained by the phase $\theta_t$ (12 bins).
# - **slow and fast.** Speeds $\lVert h_t - h_{t-1}\rVert$ at the steps where the most likely symbol
#   changes versus inside clusters (at least 5 steps from any switch); and the probability that
#   *fresh* noise produces a switch within 3 steps, started from the last state before a switch
#   (deterministic transition: high) or from a cluster state (noise-driven: low).
#
# Controls. For the orbit (C3a), the same two statistics on the network before training. For the
# deterministic transitions (C3b), a null matched on the *logit margin* (the gap between the two
# largest logits): a state close to the decision boundary switches easily whatever the dynamics,
# so a high commit probability from pre-switch states says nothing unless states with the same
# margin elsewhere on the trajectory commit less. Each pre-switch state gets the state of the same
# run, not itself followed by a switch, whose margin is nearest to its own; the null is the commit
# probability from those states, judged by the same rule (≥ 0.7). Only when the null fails that
# rule do the transitions look deterministic beyond their closeness to the boundary.

# %%
def pca_basis(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and first two principal axes (rows) of states X (..., H),
    signs fixed."""
    X = X.reshape(-1, X.shape[-1])
    mu = X.mean(0)
    V = torch.linalg.svd(X - mu, full_matrices=False)[2][:2]
    return (
        mu,
        V * torch.sign(V[torch.arange(2), V.abs().argmax(1)])[:, None],
    )


def orbit_metrics(
    h: torch.Tensor, z: torch.Tensor, bins: int = 12
) -> dict:
    """Rotation coherence kappa and phase-explained variance eta2 of runs
    h (n, T, H), logits z (n, T, K)."""
    # a diverging network (possible mid-training): no orbit to measure
    if not bool(torch.isfinite(h).all()):
        return dict(
            kappa=float("nan"),
            eta2=float("nan"),
            turns=float("nan"),
            switches=float("nan"),
            switch_rate=float("nan"),
        )
    mu, V = pca_basis(h)
    pc = (h - mu) @ V.T
    theta = torch.atan2(pc[..., 1], pc[..., 0])
    dtheta = (
        torch.remainder(
            theta[:, 1:] - theta[:, :-1] + math.pi, 2 * math.pi
        )
        - math.pi
    )
    a = z.argmax(-1)
    switches = float((a[:, 1:] != a[:, :-1]).sum())
    turns = float(dtheta.sum()) / (2 * math.pi)
    p = torch.softmax(z, -1).reshape(-1, z.shape[-1])
    b = (
        ((theta.reshape(-1) + math.pi) / (2 * math.pi) * bins)
        .long()
        .clamp(0, bins - 1)
    )
    counts = (
        torch.bincount(b, minlength=bins).clamp_min(1)[:, None].to(p.dtype)
    )
    means = (
        torch.zeros(
            bins, p.shape[1], device=p.device, dtype=p.dtype
        ).index_add_(0, b, p)
        / counts
    )
    between = float((counts * (means - p.mean(0)) ** 2).sum())
    return dict(
        kappa=abs(turns) / max(switches / 2, 1.0),
        eta2=between / float(((p - p.mean(0)) ** 2).sum()),
        turns=turns,
        switches=switches,
        switch_rate=switches / a[:, 1:].numel(),
    )


def switch_times(a: np.ndarray) -> list[np.ndarray]:
    """Per run, the steps t at which the most likely symbol differs from
    step t - 1."""
    return [np.flatnonzero(r[1:] != r[:-1]) + 1 for r in a]


def cluster_mask(a: np.ndarray, margin: int = 5) -> np.ndarray:
    """Steps at least `margin` steps from every switch."""
    mask = np.zeros(a.shape, dtype=bool)
    for i, s in enumerate(switch_times(a)):
        t = np.arange(a.shape[1])
        dist = (
            np.abs(t[:, None] - s[None, :]).min(1)
            if len(s)
            else np.full(len(t), a.shape[1])
        )
        mask[i] = dist >= margin
    return mask


def p_switch_within(
    W, states: torch.Tensor, trials: int, steps: int, gen
) -> float:
    """Probability that fresh noise changes the most likely symbol within
    `steps` steps of `states` (N, H)."""
    h0 = states.repeat_interleave(trials, 0)[None]
    a0 = (h0 @ W["W_out"][0].T).argmax(-1)
    _, _, z = simulate(W, h0.shape[1], steps, CKPT["sigma"], gen, h0=h0)
    return float((z.argmax(-1) != a0[..., None]).any(-1).float().mean())


def logit_margin(z: torch.Tensor) -> torch.Tensor:
    """Gap between the largest and the second-largest logit."""
    top = z.topk(2, dim=-1).values
    return top[..., 0] - top[..., 1]


def slow_fast(W, u, h, z, gen) -> dict:
    a = z[0].argmax(-1).cpu().numpy()
    # speed[:, t-1] = |h_t - h_{t-1}|
    speed = (h[0, :, 1:] - h[0, :, :-1]).norm(dim=-1).cpu().numpy()
    sw = np.zeros(a.shape, dtype=bool)
    sw[:, 1:] = a[:, 1:] != a[:, :-1]
    clus = cluster_mask(a)
    pre = [(i, t - 1) for i, s in enumerate(switch_times(a)) for t in s]
    pre = pre[:: max(1, len(pre) // P["commit_n"])][: P["commit_n"]]
    ci, ct = np.nonzero(clus)
    pick = np.linspace(0, len(ci) - 1, P["commit_n"]).astype(int)
    hs = h[0]
    # margin-matched null: states not followed by a switch, nearest in
    # logit margin to each pre-switch state
    marg = logit_margin(z[0]).cpu().numpy()
    pool = np.ones(a.shape, dtype=bool)
    pool[:, :-1] = ~sw[:, 1:]  # the last state before a switch is excluded
    pool[:, -1] = False
    pi_, pt_ = np.nonzero(pool)
    order = np.argsort(marg[pi_, pt_], kind="stable")
    pm = marg[pi_, pt_][order]
    m_pre = marg[[i for i, _ in pre], [t for _, t in pre]]
    j = np.clip(np.searchsorted(pm, m_pre), 1, len(pm) - 1)
    j = np.where(
        np.abs(pm[j - 1] - m_pre) <= np.abs(pm[j] - m_pre), j - 1, j
    )
    ni, nt = pi_[order][j], pt_[order][j]
    return dict(
        speed_ratio=float(
            np.median(speed[sw[:, 1:]]) / np.median(speed[clus[:, 1:]])
        ),
        p_commit_transition=p_switch_within(
            W,
            hs[[i for i, _ in pre], [t for _, t in pre]],
            P["commit_trials"],
            3,
            gen,
        ),
        p_switch_cluster=p_switch_within(
            W, hs[ci[pick], ct[pick]], P["commit_trials"], 3, gen
        ),
        n_switches=len(pre),
        p_commit_null=p_switch_within(
            W, hs[ni, nt], P["commit_trials"], 3, gen
        ),
        margin_pre=float(np.median(m_pre)),
        margin_null=float(np.median(marg[ni, nt])),
        margin_all=float(np.median(marg)),
    )


u_l, h_l, z_l = simulate(
    W, P["orbit_n"], P["orbit_T"], CKPT["sigma"],
    runtime.generator(ctx.seeds[0], 5, dev), burn=50,
)
orb = orbit_metrics(h_l[0], z_l[0])
sf = slow_fast(W, u_l, h_l, z_l, runtime.generator(ctx.seeds[0], 6, dev))
_, h_l0, z_l0 = simulate(
    SNAPS[0], P["orbit_n"], P["orbit_T"], CKPT["sigma"],
    runtime.generator(ctx.seeds[0], 5, dev), burn=50,
)
orb0 = orbit_metrics(h_l0[0], z_l0[0])
c3 = dict(
    kappa=orb["kappa"],
    eta2=orb["eta2"],
    speed_ratio=sf["speed_ratio"],
    p_commit_transition=sf["p_commit_transition"],
    p_switch_cluster=sf["p_switch_cluster"],
    p_commit_null=sf["p_commit_null"],
    stationary_switch_rate=orb["switch_rate"],
    kappa_untrained=orb0["kappa"],
    eta2_untrained=orb0["eta2"],
)
report.measure(
    "C3a",
    kappa=orb["kappa"],
    eta2=orb["eta2"],
    kappa_untrained=orb0["kappa"],
    eta2_untrained=orb0["eta2"],
)
report.measure(
    "C3b",
    speed_ratio=sf["speed_ratio"],
    p_commit=sf["p_commit_transition"],
    p_switch_cluster=sf["p_switch_cluster"],
    p_commit_margin_null=sf["p_commit_null"],
    margin_pre_switch=sf["margin_pre"],
)
runtime.glue("a08_orbit_T", P["orbit_T"])
for key, v in c3.items():
    runtime.glue(f"a08_c3_{key}", v)
runtime.glue("a08_c3_margin_pre", sf["margin_pre"])
runtime.glue("a08_c3_margin_null", sf["margin_null"])
runtime.glue("a08_c3_margin_all", sf["margin_all"])
runtime.glue("a08_c3a_verdict", report.verdict("C3a"))
runtime.glue("a08_c3b_verdict", report.verdict("C3b"))
print(
    {k: round(v, 3) for k, v in c3.items()},
    {
        k: round(sf[k], 3)
        for k in ("margin_pre", "margin_null", "margin_all")
    },
)

# %% tags=["hide-input"]
mu, V = pca_basis(h_orbit)
Ts = min(600, P["orbit_T"])
fig, axs = plt.subplots(1, 3, figsize=(13, 4))
pc = ((h_l[0, 0, :Ts] - mu) @ V.T).cpu().numpy()
a0 = z_l[0, 0, :Ts].argmax(-1).cpu().numpy()
axs[0].plot(pc[:, 0], pc[:, 1], color="0.75", lw=0.5, zorder=1)
axs[0].scatter(pc[:, 0], pc[:, 1], c=[plots.COLORBLIND[int(k)] for k in a0], s=5, zorder=2)
axs[0].set(xlabel="PC1", ylabel="PC2", title="with noise input (colour: most likely symbol)")
for i in range(0, 200, 25):
    q = ((traj_free[i, :60] - mu) @ V.T).cpu().numpy()
    axs[1].plot(q[:, 0], q[:, 1], lw=0.8, color=plots.COLORBLIND[0] if i < 100 else plots.COLORBLIND[1])
axs[1].plot(*((-mu) @ V.T).cpu().numpy(), "k*", ms=12, label="fixed point h = 0")
axs[1].set(xlabel="PC1", ylabel="PC2", title="without input (60 steps)")
axs[1].legend()
spd = (h_l[0, 0, 1:Ts] - h_l[0, 0, : Ts - 1]).norm(dim=-1).cpu().numpy()
axs[2].plot(np.arange(1, Ts), spd, color="0.4", lw=0.7)
for t in np.flatnonzero(a0[1:] != a0[:-1]) + 1:
    axs[2].axvline(t, color=plots.COLORBLIND[3], lw=0.6, alpha=0.6)
axs[2].set(xlabel="step", ylabel=r"speed $\|h_t - h_{t-1}\|$", title="speed (red: output switches)")
plt.show()

# %% [markdown]
# **C2.** Without input every start falls to $h = 0$ (at most {glue:text}`a08_c2_steps` steps to 1 %
# of its initial norm; middle panel, the paper's Figure 3a), although the trained $W_{hh}$ has a
# spectral radius of {glue:text}`a08_c2_rho_trained:.2f` (before training:
# {glue:text}`a08_c2_rho_untrained:.2f`): the rectification, not a contracting linear map, brings
# the state home. But the control behaves the same way: with the entries of $W_{hh}$ shuffled
# (spectral radius {glue:text}`a08_c2_rho_shuffled:.2f`) every start also falls to one point
# (relative spread {glue:text}`a08_c2_shuf:.2g`). The test therefore cannot tell a trained network
# from a random one with the same weights, and the verdict is **{glue:text}`a08_c2_verdict`**: a
# single input-free fixed point is what random bias-free ReLU networks of this size do anyway, so
# our measurement does not show that training *produced* it. (The paper's claim is about trained
# networks and is not contradicted; it is just not specific to them here.)
#
# **C3a.** With input the state circulates (left; the paper's Figure 3b): the projected trajectory
# turns {glue:text}`a08_c3_kappa:.2f` times per pair of switches in one consistent direction, and its
# phase explains {glue:text}`a08_c3_eta2:.2f` of the variance of the emission probabilities. Before
# training the same measures give {glue:text}`a08_c3_kappa_untrained:.2f` and
# {glue:text}`a08_c3_eta2_untrained:.2f`, both failing the rules, as controls must: C3a is
# **{glue:text}`a08_c3a_verdict`**.
#
# **C3b.** From the last state before a switch, fresh noise produces the switch within three steps
# with probability {glue:text}`a08_c3_p_commit_transition:.2f`; from a cluster state only
# {glue:text}`a08_c3_p_switch_cluster:.2f`. The margin-matched null answers the obvious objection:
# pre-switch states sit close to the decision boundary (median logit margin
# {glue:text}`a08_c3_margin_pre:.2f` against {glue:text}`a08_c3_margin_all:.2f` over all states), but
# states elsewhere on the trajectory with the same margin (median {glue:text}`a08_c3_margin_null:.2f`)
# switch within three steps with probability only {glue:text}`a08_c3_p_commit_null:.2f`. The commit
# probability is therefore a property of *where* on the orbit the pre-switch states are, not of
# their closeness to the boundary: transitions are nearly deterministic. The *speed* contrast,
# however, is missing in this small network: steps at switches are only
# {glue:text}`a08_c3_speed_ratio:.2f` times faster than steps inside clusters (our rule asked for 2).
# "Fast" is part of the claim, so C3b is **{glue:text}`a08_c3b_verdict`**; no partial rule was
# declared for it.

# %% [markdown]
# ## C4 · Kick neurons
#
# The paper finds units whose pre-activation $u_i$ is strongly negative inside clusters, near zero
# just before a transition and positive during it. We score every unit by how far its
# pre-activation in the three steps up to a switch ($t_s-2 \dots t_s$) rises above its cluster mean,
# in units of its cluster standard deviation [R], and call the $k = \lceil 0.05 H\rceil$ top units
# kick neurons (the paper's two triplets are 4 % of 150 units). The scores come from the run of C3;
# the ablation uses new noise. Ablation silences a unit at every step ($u_i \to 0$, the authors'
# $\mu = 0$ [C]). The evidence is the kick ablation's cut in the switch rate (the notes: at least
# half); the control silences $k$ random other units (the mean cut over the draws), judged by the same
# rule, and must not cut switching by half. The whole test runs once per noise seed: kick units are
# found on that seed's run and ablated under that seed's fresh noise.

# %%
def kick_scores(u: torch.Tensor, z: torch.Tensor) -> np.ndarray:
    a = z[0].argmax(-1).cpu().numpy()
    uu = u[0].cpu().numpy()
    clus = cluster_mask(a)
    win = [
        (i, t + dt)
        for i, s in enumerate(switch_times(a))
        for t in s[s >= 2]
        for dt in (-2, -1, 0)
    ]
    # no switches or no clusters (an untrained network):
    # no kick units to find
    if not win or not clus.any():
        return np.zeros(uu.shape[-1])
    pre = uu[[i for i, _ in win], [t for _, t in win]]
    base = uu[clus]
    return (pre.mean(0) - base.mean(0)) / (base.std(0) + 1e-6)


def ablation_test(
    W, u, z, seed: int, draws: int
) -> tuple[dict, np.ndarray, dict]:
    H = W["W_hh"].shape[-1]
    k = math.ceil(0.05 * H)
    kick = np.argsort(-kick_scores(u, z))[:k]

    def rate(silenced) -> float:
        keep = torch.ones(1, 1, H, device=dev)
        keep[..., list(silenced)] = 0.0
        _, _, zz = simulate(
            W, P["ablate_n"], P["ablate_T"], CKPT["sigma"],
            runtime.generator(seed, 7, dev), burn=50, keep=keep,
        )
        a = zz[0].argmax(-1)
        return float((a[:, 1:] != a[:, :-1]).float().mean())

    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(H), kick)
    # (a network that never switches: reductions ~ 0 or negative)
    intact, kicked = max(rate([]), 1e-12), rate(kick)
    randoms = [
        rate(rng.choice(others, k, replace=False)) for _ in range(draws)
    ]
    red = dict(
        kick_reduction=1 - kicked / intact,
        random_reduction=float(
            np.mean([1 - r / intact for r in randoms])
        ),
        k=k,
    )
    return red, kick, dict(intact=intact, kick=kicked, random=randoms)


c4_seeds, kick_sets = [], []
# seed 0 reuses the run of C3; every seed: its own run, its own
# ablation noise
for s in ctx.seeds:
    _u, _z = (
        (u_l, z_l)
        if s == ctx.seeds[0]
        else [
            simulate(
                W, P["orbit_n"], P["orbit_T"], CKPT["sigma"],
                runtime.generator(s, 5, dev), burn=50,
            )[i]
            for i in (0, 2)
        ]
    )
    red, kick_s, rates_s = ablation_test(W, _u, _z, s, P["random_draws"])
    c4_seeds.append(red)
    kick_sets.append(kick_s)
    if s == ctx.seeds[0]:
        kick, rates = kick_s, rates_s
c4 = dict(
    kick_reduction=[r["kick_reduction"] for r in c4_seeds],
    random_reduction=[r["random_reduction"] for r in c4_seeds],
    k=c4_seeds[0]["k"],
    kick_overlap=float(np.mean([
        len(set(kick) & set(ks)) / len(kick) for ks in kick_sets
    ])),
)
report.measure("C4", c4)
runtime.glue("a08_c4_kick", float(np.mean(c4["kick_reduction"])))
runtime.glue("a08_c4_random", float(np.mean(c4["random_reduction"])))
runtime.glue("a08_c4_overlap", c4["kick_overlap"])
runtime.glue("a08_c4_verdict", report.verdict("C4"))
print(
    "kick neurons:", [ks.tolist() for ks in kick_sets], c4,
    "intact rate", round(rates["intact"], 4),
)

# %% tags=["hide-input"]
a = z_l[0].argmax(-1).cpu().numpy()
ev = [(i, t) for i, s in enumerate(switch_times(a)) for t in s if 10 <= t < a.shape[1] - 10]
lags = np.arange(-10, 11)
uu = u_l[0].cpu().numpy()
aligned = np.stack([uu[i, t + lags] for i, t in ev]) if ev else np.full((1, len(lags), uu.shape[-1]), np.nan)  # (events, 21, H)
fig, axs = plt.subplots(1, 2, figsize=(11, 3.4), width_ratios=[3, 2])
others = np.setdiff1d(np.arange(uu.shape[-1]), kick)
for j, unit in enumerate(kick):
    axs[0].plot(lags, aligned[:, :, unit].mean(0), color=plots.COLORBLIND[j % 8], label=f"kick unit {unit}")
axs[0].plot(lags, aligned[:, :, others].mean((0, 2)), "k--", label="mean of other units")
axs[0].axhline(0, color="0.6", lw=0.6)
axs[0].axvline(0, color="0.6", lw=0.6)
axs[0].set(xlabel="steps from output switch", ylabel="pre-activation $u_i$", title=f"activity around {len(ev)} switches")
axs[0].legend(fontsize=8)
plots.seed_points(axs[1], {"intact": rates["intact"], f"{c4['k']} kick\nsilenced": rates["kick"],
                            f"{c4['k']} random\nsilenced": rates["random"]}, ylabel="switch rate")  # fmt: skip
axs[1].set(title="ablation (new noise; dots: draws)")
plt.show()

# %% [markdown]
# Silencing the three top-scoring units barely changes switching in this network: the switch rate
# falls by a fraction {glue:text}`a08_c4_kick:.2f` on average over the noise seeds (random units:
# {glue:text}`a08_c4_random:.2f`, the control, which fails the rule as it must but carries no
# credit). A fraction {glue:text}`a08_c4_overlap:.2f` of the kick units found on the first seed
# comes out on top for the other seeds, so the score is not noise, but in a 50-unit network trained
# for 2,500 steps the transitions are not carried by three units that can be removed: the
# kick-neuron claim is **{glue:text}`a08_c4_verdict`** at this scale.

# %% [markdown]
# ## C5 · Noise level and the emergence of the orbit during training
#
# **A noise sweep (C5a).** We scale the input noise by $\sigma/\sigma_{\rm train} \in \{1/8, \dots, 8\}$.
# One property of this model decides what can be measured: without biases, ReLU is positively
# homogeneous, so multiplying the noise *and* the state by $c > 0$ multiplies every later state and
# logit by $c$ and leaves the most likely symbol $\arg\max_k z_{t,k}$ unchanged. In long runs the
# most likely symbol therefore switches at exactly the same rate at every noise level (shown as
# context; the first version of this chapter measured the sweep on it, a test that could not pass).
# The network's *output*, however, is a sample of $\mathrm{softmax}(z_t)$, and there the scale of
# the logits matters: it acts as an inverse temperature. We therefore measure the sweep on the
# sampled emissions, in windows of the training length started as in training
# ($h_0 \sim \mathcal N(0, I)$), with the same noise and Gumbel draws at every σ. The rule is the
# notes' (switch rate peaked near the training noise: its maximum at σ/σ_train = 1/2, 1 or 2, both
# ends at most 0.8 of the peak). The control is the same sweep on the network before training. As
# context we also give the noise level at which the Sinkhorn divergence between the sampled
# sequences and HMM sequences (the training loss) is smallest.
#
# **During training (C5b).** The checkpoint keeps snapshots of its weights; for each we measure the
# rotation coherence $\kappa$ of C3a (the orbit) and the switch rate under the training noise. The
# control is $\kappa$ of an independent untrained network (another initialisation seed).

# %%
mults = [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8]
A2, E2_, pi2 = hmm_stack([CKPT["hmm"]], dev)
y_hmm = sample_hmm(
    A2, E2_, pi2, P["sweep_n"], CKPT["T"],
    runtime.generator(ctx.seeds[0], 14, dev),
)[0].flatten(2)


def noise_sweep(Wn, with_loss: bool) -> tuple[list[float], list[float]]:
    """Switch rate of the sampled emissions (and Sinkhorn divergence to
    the HMM) at each noise level."""
    rates, losses = [], []
    for m in mults:
        _, _, zw = simulate(
            Wn, P["sweep_n"], CKPT["T"], CKPT["sigma"] * m,
            runtime.generator(ctx.seeds[0], 8, dev),
        )
        y = gumbel_hard(zw, runtime.generator(ctx.seeds[0], 13, dev))
        o = y[0].argmax(-1)
        rates.append(float((o[:, 1:] != o[:, :-1]).float().mean()))
        if with_loss:
            with torch.no_grad():
                sd = transport.sinkhorn_divergence(
                    y.flatten(2), y_hmm,
                    CKPT["eps"], CKPT["sinkhorn_iters"], CKPT["scaling"],
                )
            losses.append(float(sd[0]))
    return rates, losses


def resonance(rates: list[float]) -> tuple[bool, float]:
    peak = int(np.argmax(rates))
    return (
        mults[peak] in (0.5, 1.0, 2.0),
        max(rates[0], rates[-1]) / max(rates[peak], 1e-12),
    )


sweep_smp, sweep_loss = noise_sweep(W, with_loss=True)
sweep_smp0, _ = noise_sweep(SNAPS[0], with_loss=False)
sweep_long = []
for m in mults:
    _, _, zl = simulate(
        W, 8, 1000, CKPT["sigma"] * m,
        runtime.generator(ctx.seeds[0], 9, dev), burn=200,
    )
    al = zl[0].argmax(-1)
    sweep_long.append(float((al[:, 1:] != al[:, :-1]).float().mean()))
peak_ok, ends = resonance(sweep_smp)
ends0 = resonance(sweep_smp0)[1]
c5a = dict(
    peak_near_train=peak_ok,
    ends_over_peak=ends,
    ends_over_peak_untrained=ends0,
    sinkhorn_best_ratio=mults[int(np.argmin(sweep_loss))],
    argmax_spread=(
        (max(sweep_long) - min(sweep_long)) / np.mean(sweep_long)
    ),
)
report.measure("C5a", c5a)

snap_steps = sorted(SNAPS)
W_fresh = init_weights(
    [CKPT["seed"] + 1000], CKPT["H"], CKPT["d"], CKPT["K"], dev
)
snap = [
    orbit_metrics(*[
        v[0]
        for v in simulate(
            Wn, P["snapshot_n"], P["snapshot_T"], CKPT["sigma"],
            runtime.generator(ctx.seeds[0], 10, dev), burn=50,
        )[1:]
    ])
    for Wn in [SNAPS[s] for s in snap_steps] + [W_fresh]
]  # fmt: skip
snap, snap_fresh = snap[:-1], snap[-1]
c5b = dict(
    kappa_final=snap[-1]["kappa"],
    kappa_init=snap[0]["kappa"],
    kappa_untrained=snap_fresh["kappa"],
)
report.measure("C5b", c5b)
runtime.glue("a08_c5_spread", c5a["argmax_spread"])
runtime.glue("a08_c5_ends", ends)
runtime.glue("a08_c5_ends0", ends0)
runtime.glue("a08_c5_peak", mults[int(np.argmax(sweep_smp))])
runtime.glue("a08_c5_best", c5a["sinkhorn_best_ratio"])
runtime.glue("a08_c5_k0", c5b["kappa_init"])
runtime.glue("a08_c5_k1", c5b["kappa_final"])
runtime.glue("a08_c5_kfresh", c5b["kappa_untrained"])
runtime.glue("a08_c5a_verdict", report.verdict("C5a"))
runtime.glue("a08_c5b_verdict", report.verdict("C5b"))
runtime.glue("a08_c5_lo", sweep_smp[0])
runtime.glue("a08_c5_hi", sweep_smp[-1])
print({k: round(float(v), 3) for k, v in {**c5a, **c5b}.items()})
print(
    "sampled switch rate:", np.round(sweep_smp, 3).tolist(),
    "| untrained:", np.round(sweep_smp0, 3).tolist(),
)
print(
    "Sinkhorn divergence:", np.round(sweep_loss, 3).tolist(),
    "| argmax, long runs:", np.round(sweep_long, 4).tolist(),
)
print(
    "snapshots:",
    {
        s: (round(m["kappa"], 2), round(m["switch_rate"], 3))
        for s, m in zip(snap_steps, snap)
    },
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(11, 3.4))
axs[0].semilogx(mults, sweep_smp, "o-", label="sampled emissions (checkpoint)")
axs[0].semilogx(mults, sweep_smp0, "^:", label="sampled emissions (before training)")
axs[0].semilogx(mults, sweep_long, "s--", label="most likely symbol, long runs")
axs[0].axvline(1, color="0.6", lw=0.6)
axs[0].set(xlabel=r"noise $\sigma/\sigma_{\rm train}$", ylabel="switch rate", title="noise sweep")
axs[0].legend(fontsize=8)
axs[1].plot(snap_steps, [m["kappa"] for m in snap], "o-", label=r"rotation coherence $\kappa$")
axs[1].set(xlabel="training step (snapshot)", ylabel=r"$\kappa$", title="emergence during training")
ax2 = axs[1].twinx()
ax2.plot(snap_steps, [m["switch_rate"] for m in snap], "s--", color=plots.COLORBLIND[1], label="switch rate")
ax2.set(ylabel="switch rate", yscale="log")
axs[1].legend(loc="upper left", fontsize=8)
ax2.legend(loc="upper right", fontsize=8)
plt.show()

# %% [markdown]
# **C5a.** The most likely symbol switches at the same rate at every noise level in long runs
# (spread {glue:text}`a08_c5_spread:.3f` of the mean), exactly as homogeneity predicts. The sampled
# emissions do depend on σ, but not as a resonance: their switch rate falls steadily from
# {glue:text}`a08_c5_lo:.3f` at σ/σ_train = 1/8 to {glue:text}`a08_c5_hi:.3f` at 8, and its maximum is at
# σ/σ_train = {glue:text}`a08_c5_peak:.3g`. Small noise leaves the logits small (sampling is close to
# uniform and switches often); large noise makes them large (sampling approaches the argmax, which
# switches rarely). The untrained network shows the same monotone curve (ends over peak
# {glue:text}`a08_c5_ends0:.2f`, control failing). The training loss has no sharp optimum either: the
# Sinkhorn divergence to the HMM falls steeply up to the training noise and is nearly flat above it,
# its minimum (here at σ/σ_train = {glue:text}`a08_c5_best:.3g`) moving with the noise draw. C5a is **{glue:text}`a08_c5a_verdict`**. In a bias-free ReLU network the input noise only sets
# the output temperature; a resonance in the paper's sense would need a quantity we have not
# identified (we worked from the abstract and the authors' code, not the paper's full analysis).
#
# **C5b.** The rotation coherence is {glue:text}`a08_c5_k0:.2f` at initialisation and
# {glue:text}`a08_c5_k1:.2f` at the end (an independent untrained network: {glue:text}`a08_c5_kfresh:.2f`,
# the control, failing the rule), and it appears abruptly between two snapshots, after the loss has
# long matched the frequencies (snapshots where the network diverges under noise have no value).
# C5b is **{glue:text}`a08_c5b_verdict`**.

# %% [markdown]
# ## C6 · One motif across HMM families (full profile)
#
# The full profile trains one network per family with the checkpoint's recipe (2,500 steps of 512
# sequences, as one batched model) and repeats the C1, C2 and C4 tests on each; the control is C4's
# random ablation. In the ci profile this claim is not testable: three more trained networks cost
# about three times the checkpoint's CPU training (18 minutes). The ci profile still runs the
# whole code path, on networks trained for {glue:text}`a08_family_steps` steps of
# {glue:text}`a08_family_batch` sequences (an untrained size, printed and not judged), so that the
# full profile's code is exercised on every run.

# %%
FAMILIES = ["chain3", "fully3", "cycle4"]
W_fam, _, _ = train_rnn(
    FAMILIES,
    [CKPT["seed"] + 1 + i for i in range(len(FAMILIES))],
    CKPT, P["family_steps"], P["family_batch"], dev,
)
c6 = {
    k: []
    for k in (
        "freq_err_max", "switch_err_max", "spread_rel_max",
        "kick_reduction_min", "random_reduction_max",
    )
}
for i, name in enumerate(FAMILIES):
    Wf = {k: v[i : i + 1] for k, v in W_fam.items()}
    st = compare_to_hmm(
        Wf, name, P["stats_n"], CKPT["T"],
        runtime.generator(ctx.seeds[0], 3, dev),
    )[2]
    fp = fixed_point_test(
        Wf, runtime.generator(ctx.seeds[0], 20 + i, dev)
    )[0]
    uf, _, zf = simulate(
        Wf, P["orbit_n"], P["orbit_T"], CKPT["sigma"],
        runtime.generator(ctx.seeds[0], 30 + i, dev), burn=50,
    )
    ab = ablation_test(
        Wf, uf, zf, ctx.seeds[0] + 40 + i, P["family_draws"]
    )[0]
    for key, v in zip(c6, (
        st["freq_err"],
        abs(st["switch_rel_err"]),
        finite(fp["spread_rel"]),
        ab["kick_reduction"],
        ab["random_reduction"],
    )):
        c6[key].append(v)
    print(
        name,
        {k: round(float(v), 3) for k, v in {**st, **fp, **ab}.items()},
    )
runtime.glue("a08_family_steps", P["family_steps"])
runtime.glue("a08_family_batch", P["family_batch"])
report.measure("C6", c6)
if P["family_steps"] < CKPT["steps"]:  # ci: the code path, not judged
    report.untestable(
        "C6",
        "needs three more networks trained to the checkpoint's length "
        "(full profile); "
        "ci runs the code path on networks trained for a few steps, "
        "not judged",
    )

# %% [markdown]
# ## Checks that do not depend on the run
#
# The HMMs, the exact stationary switch rate of the 2-state chain
# $\sum_{s,s'} \pi_s A_{ss'}\,(1 - \sum_o E_{so}E_{s'o})$, a Sinkhorn divergence with a known value (two
# single points: the cost itself), the homogeneity of the ReLU network, and the checkpoint's recorded
# shapes and code hash.

# %% tags=["nbval-check-output"]
for name, A_ in HMMS.items():
    print(name, np.round(A_, 4).tolist())
E2 = linear_emissions(2)
print(
    "exact stationary switch rate (chain2):",
    round(float(sum(
        0.5 * HMMS["chain2"][s, t] * (1 - E2[s] @ E2[t])
        for s in range(2)
        for t in range(2)
    )), 6),
)
x1, y1 = (
    torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64),
    torch.tensor([[1.0, -1.0, 2.0]], dtype=torch.float64),
)
print(
    "S_eps(single points) = |x - y|^2 / 2:",
    round(float(transport.sinkhorn_divergence(x1, y1, 0.04)), 9),
)
gh = torch.Generator().manual_seed(0)
Wh = {
    k: torch.randn(1, *s, generator=gh, dtype=torch.float64)
    for k, s in (("W_hh", (5, 5)), ("W_ih", (5, 2)), ("W_out", (3, 5)))
}
xh, h0h = (
    torch.randn(1, 2, 7, 2, generator=gh, dtype=torch.float64),
    torch.randn(1, 2, 5, generator=gh, dtype=torch.float64),
)
print(
    "ReLU RNN homogeneous (3x noise and state -> 3x logits):",
    torch.allclose(
        rnn_run(Wh, 3 * xh, 3 * h0h)[2], 3 * rnn_run(Wh, xh, h0h)[2]
    ),
)
print(
    "checkpoint shapes:",
    {
        k: meta["shapes"][k]
        for k in ("W_hh", "W_ih", "W_out", "snapshot_steps")
    },
)
print(
    "checkpoint made by this code:", CODE_SHA == meta["code_sha256"],
    "| recipe:", CKPT,
)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far a re-execution on another CPU or thread count may move its
# value before the book's `compare` step fails. We measured it rather than guessed it:
# `python -m rnnbook.runner variation a08 --seeds 2,3 --seeds 4,5` re-executed this chapter in the ci
# profile with 1 and 2 threads (seeds 0, 1) and with the seed sets {2, 3} and {4, 5} (disjoint from
# the default, same size), and wrote every check's values to `data/a08_variation.json`. Each `tol` is
# at least three times the change between thread paths and at least the change between seed sets,
# rounded up to a 1-2-5 step (a value that did not move at all gets a small floor: one step for a
# count, 0.001 for a ratio, 1e-22 for C2's vanishing distances). The seed sets change the noise
# draws of every analysis (the checkpoint itself is fixed), so the seed-set change is the sampling
# error of each statistic; the one thread-path change is 1e-8 (C5b's control). No verdict differed
# between thread paths or seed sets (last column), so no verdict here is a knife-edge; the largest
# seed-set movements are the rotation coherence κ of C3a and the smoke networks' statistics
# (context). The table is read from that file; the cell fails if a declared `tol` is below the
# thread-path change.

# %%
report.tolerances("../../data/a08_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** One checkpoint network with 50 hidden units and 10 noise
#   inputs, trained on a CPU for 2,500 steps of 512 sequences (the paper: 150 units and 100 inputs
#   for most analyses, batches of 4,096, 500-1,000 epochs, 144 networks). The ci profile loads it
#   and trains two networks for only {glue:text}`a08_smoke_steps` steps as a smoke test (context,
#   not judged); the full profile retrains the checkpoint on a GPU (and overwrites
#   `data/a08_checkpoint.*`), trains three networks for the other HMM families and three seeds of
#   the smoke test at full length. The full profile has not been executed for this version of the
#   chapter.
# - **Data.** HMM sequences are drawn fresh at every step instead of a fixed set of 10,000; all HMMs
#   emit through the authors' "linear" rule [R for the families, whose exact emission settings in
#   the paper we did not recover].
# - **Reconstructed measures [R].** The paper's analyses are qualitative figures and hand-picked
#   units; the rotation coherence $\kappa$, the phase-explained variance $\eta^2$, the speed ratio,
#   the 3-step switch probabilities and their margin-matched null, the kick-neuron score and
#   $k = \lceil 0.05H \rceil$, and the noise-sweep criterion are ours, with thresholds fixed before
#   the checkpoint was analysed.
# - **Controls.** Every empirical claim is also measured on a model where it should fail: the
#   network before training (C1, C3a, C5a), an independent untrained network (C5b), the trained
#   $W_{hh}$ with its entries shuffled (C2), states matched on the logit margin (C3b) and random
#   units silenced (C4). C2's control passes (a shuffled network also relaxes to one point), so C2
#   is {glue:text}`a08_c2_verdict`.
# - **Not reproduced.** Kick neurons (C4): silencing the top ⌈0.05 H⌉ = 3 units reduces switching by
#   about {glue:text}`a08_c4_kick:.2f`; possible reasons are the small network (50 units, 10 inputs
#   instead of 150 and 100) and the short training. The speed contrast between clusters and
#   transitions (C3b) is absent, although the transitions are deterministic beyond their logit
#   margin. The noise-sweep resonance (C5a) is absent from the sampled emissions, whose switch rate
#   falls monotonically with σ, and cannot appear in the most likely symbol of a bias-free ReLU
#   network (exact homogeneity); the paper's stochastic-resonance statement may refer to a quantity
#   that we could not recover without its text.
# - **Rules changed in this version (before the new measurements were made).** C3 and C5, judged
#   before as "some parts → partly", are split into C3a/C3b and C5a/C5b, each judged on its own; C4
#   is judged on the kick ablation, with random units as its control (before, the random half alone
#   made C4 "partly"); C5a is measured on the sampled emissions instead of the argmax (a test that
#   could not pass); the smoke networks left C1's rule (they are context; the checkpoint decides).
#   C1 is measured on two noise seeds instead of one.
# - **After retraining the checkpoint** (full profile or `A08_TRAIN_CHECKPOINT=1`), re-run the ci
#   profile: `make stale` lists this chapter once `data/a08_*` changed, and its ci numbers move.
# - **The loss.** Our Sinkhorn divergence uses $\varepsilon$-annealing (factor 0.5, as `geomloss`) and
#   5 more iterations at the final $\varepsilon$; its gradient is the envelope gradient of the
#   converged value (tested by finite differences).
#
# ## References
#
# ```{footbibliography}
# ```
