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
#   dwell-time distributions of a 2-state HMM (and, in the full profile, of larger HMMs).
# - **C2** "In the absence of inputs, the activity of trained RNNs collapses towards a single fixed point."
# - **C3** "When driven by stochastic input, trajectories instead exhibit noise-sustained dynamics along
#   closed orbits. Rotation along these orbits modulates the emission probabilities and is governed by
#   transitions between regions of slow, noise-driven dynamics connected by fast, deterministic transitions."
# - **C4** "a small set of 'kick neurons' initiating transitions": silencing them removes the switches,
#   silencing as many random units does not.
# - **C5** "This mechanism emerges during training as the network shifts into a regime of stochastic
#   resonance": switching is maximal near the training noise level, and the orbit appears during training.
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
# Sizes only: both profiles run the same code. smoke_*: networks trained from scratch in this run.
P = ctx.pick(
    ci=dict(smoke_steps=150, smoke_batch=128, stats_n=2048, orbit_n=16, orbit_T=1500, commit_n=120, commit_trials=16,
            ablate_n=16, ablate_T=800, random_draws=12, sweep_n=1024, snapshot_n=16, snapshot_T=1500),
    full=dict(smoke_steps=2500, smoke_batch=512, stats_n=8192, orbit_n=64, orbit_T=4000, commit_n=400, commit_trials=64,
              ablate_n=64, ablate_T=3000, random_draws=50, sweep_n=8192, snapshot_n=32, snapshot_T=3000),
)  # fmt: skip
S = len(ctx.seeds)



# %% [markdown]
# All claims and their pass rules are fixed here, before any experiment runs and before the
# checkpoint's analyses were looked at. Thresholds follow the paper's statements and the research
# notes (frequencies within 0.05, switch rate within 30 %, kick ablation halving the switch rate);
# where the paper gives no number the threshold is ours and says so in the rule.

# %%
# fmt: off
report = claims.Report(ctx, title="Mechanistic interpretability of RNNs emulating hidden Markov models")
ok = claims.all_or_some
report.claim("C1", "RNNs driven by noise replicate HMM emission statistics (frequencies, switch rate, dwell times).",
             paper="Sinkhorn loss near zero; frequencies, transition matrix and lability match (all HMMs)",
             rule="checkpoint (2-state): max |Δfreq| ≤ 0.05, switch rate within 30 %, dwell-time TV ≤ 0.10; smoke-trained nets: max |Δfreq| ≤ 0.05; full: larger HMMs freq and switch rate too. Some → partly",
             judge=lambda o: ok([o["freq_err"] <= 0.05, abs(o["switch_rel_err"]) <= 0.3, o["dwell_tv"] <= 0.10, o["smoke_freq_err"] <= 0.05]
                                + ([o["families_ok"] == 1.0] if "families_ok" in o else [])),
             tolerance={"freq_err": 0.03, "switch_rel_err": 0.15, "dwell_tv": 0.04, "smoke_freq_err": 0.1,
                        "switch_rnn": 0.02, "switch_hmm": 0.01, "smoke_switch": 0.3, "families_ok": 0.5})
report.claim("C2", "Without input, activity collapses to a single fixed point.",
             paper="one fixed point (no input)",
             rule="200 starts (100 random ×3, 100 noise-driven states), 300 input-free steps: spread of end points < 1e-3 and last step < 1e-4 (both relative to the mean noise-driven |h|)",
             judge=lambda o: "reproduced" if o["spread_rel"] < 1e-3 and o["last_step_rel"] < 1e-4 else "not reproduced",
             tolerance={"spread_rel": 1e-3, "last_step_rel": 1e-4, "steps_to_1pct": 10.0})
report.claim("C3", "With noise: closed orbits whose rotation sets the emission probabilities; slow noise-driven regions joined by fast deterministic transitions.",
             paper="orbits in PC1-PC2, clusters (residency > 8) and transitions (< 2 steps)",
             rule="[R] (a) net rotation κ = |windings| / (switches/2) ≥ 0.5; (b) phase explains emission probabilities, η² ≥ 0.7; (c) speed at switches ≥ 2× in clusters, fresh-noise P(switch ≤ 3 steps) ≥ 0.7 from the last pre-switch state and ≤ 0.2 from cluster states. All → reproduced, some → partly",
             judge=lambda o: ok([o["kappa"] >= 0.5, o["eta2"] >= 0.7,
                                 o["speed_ratio"] >= 2 and o["p_commit_transition"] >= 0.7 and o["p_switch_cluster"] <= 0.2]),
             tolerance={"kappa": 0.2, "eta2": 0.1, "speed_ratio": 1.0, "p_commit_transition": 0.15, "p_switch_cluster": 0.1})
report.claim("C4", "A small set of kick neurons initiates the transitions: ablating them removes switches, ablating as many random units does not.",
             paper="two triplets of kick neurons (of 150); ablation (μ = 0) traps trajectories in a cluster",
             rule="k = ⌈0.05 H⌉ units with the largest pre-switch activation (found on one noise draw, tested on another): switch-rate reduction ≥ 50 %; k random non-kick units: mean reduction < 20 %",
             judge=lambda o: ok([o["kick_reduction"] >= 0.5, o["random_reduction"] < 0.2]),
             tolerance={"kick_reduction": 0.15, "random_reduction": 0.12, "k": 0})
report.claim("C5", "The regime emerges during training as stochastic resonance: switching peaks near the training noise, and the orbit appears during training.",
             paper="stochastic resonance; phase transition during training",
             rule="[R] (a) argmax switch rate over σ/σ_train ∈ {1/8 … 8} (training-length windows) peaks at 1/2, 1 or 2 and both ends ≤ 0.8 × peak; (b) κ < 0.3 at initialisation and ≥ 0.5 at the end of training. Both → reproduced, one → partly",
             judge=lambda o: ok([o["peak_ratio"] in (0.5, 1.0, 2.0) and o["ends_over_peak"] <= 0.8,
                                 o["kappa_init"] < 0.3 and o["kappa_final"] >= 0.5]),
             tolerance={"ends_over_peak": 0.15, "kappa_init": 0.2, "kappa_final": 0.3, "stationary_spread": 0.05, "peak_ratio": 8.0})
report.claim("C6", "The same motif is reused across linear-chain, fully connected and cyclic HMMs.",
             paper="144 trained models; the motif composes across architectures",
             rule="full profile, per family (3-state chain, 3-state fully connected, 4-state cyclic): frequencies within 0.05, single fixed point (C2 rule), kick ablation ≥ 50 % vs random < 20 % (C4 rule); all families → reproduced, some → partly",
             judge=lambda o: ok([v == 1.0 for v in o.values()]),
             tolerance=0.5)
# fmt: on

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
# The checkpoint recipe: the authors' 2-state setting (T = 20, Sinkhorn blur 0.2 -> eps = 0.04, Adam,
# clip 0.9, d-dimensional N(0, 1) input) [C] at a CPU-sized scale (H = 50, d = 10, batch 512) [R].
CKPT = dict(hmm="chain2", H=50, d=10, K=3, T=20, sigma=1.0, batch=512, steps=2500, lr=2e-3, clip=0.9,
            eps=0.04, sinkhorn_iters=5, scaling=0.5, seed=0, snapshots=[0, 100, 250, 500, 1000, 1500, 2500])


def chain_hmm(S: int, stay: float = 0.95) -> np.ndarray:
    """Linear chain: stay, else step to a neighbour (ends: the only neighbour) [C]."""
    A = np.zeros((S, S))
    for i in range(S):
        nb = [j for j in (i - 1, i + 1) if 0 <= j < S]
        A[i, i] = stay
        A[i, nb] = (1 - stay) / len(nb)
    return A


def linear_emissions(S: int) -> np.ndarray:
    """State i emits [0.99 (1 - a), 0.01, 0.99 a] with a = i / (S - 1) [C]."""
    a = np.arange(S) / (S - 1)
    return np.stack([0.99 * (1 - a), np.full(S, 0.01), 0.99 * a], axis=1)


# %% tags=["checkpoint-code"]
def fully_connected_hmm(S: int, stay: float = 0.99) -> np.ndarray:
    return np.full((S, S), (1 - stay) / (S - 1)) + np.eye(S) * (stay - (1 - stay) / (S - 1))


def cyclic_hmm(S: int, stay: float = 0.95) -> np.ndarray:
    A = np.eye(S) * stay
    for i in range(S):
        A[i, (i + 1) % S] += (1 - stay) / 2
        A[i, (i - 1) % S] += (1 - stay) / 2
    return A


HMMS = {"chain2": chain_hmm(2), "chain3": chain_hmm(3), "fully3": fully_connected_hmm(3), "cycle4": cyclic_hmm(4)}


def hmm_stack(names: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Transitions (M, S, S), emissions (M, S, K) and start distributions (M, S), padded to the largest S."""
    Smax = max(len(HMMS[n]) for n in names)
    A, E, pi0 = torch.zeros(len(names), Smax, Smax), torch.zeros(len(names), Smax, 3), torch.zeros(len(names), Smax)
    for m, name in enumerate(names):
        s = len(HMMS[name])
        A[m, :s, :s], E[m, :s], pi0[m, :s] = torch.tensor(HMMS[name]), torch.tensor(linear_emissions(s)), 1.0 / s
    return A.to(device), E.to(device), pi0.to(device)


# %% tags=["checkpoint-code"]
def sample_hmm(A: torch.Tensor, E: torch.Tensor, pi0: torch.Tensor, n: int, T: int, gen: torch.Generator):
    """n sequences of T one-hot symbols per HMM: (M, n, T, K), and the hidden states (M, n, T)."""
    M = A.shape[0]
    s = torch.multinomial(pi0, n, replacement=True, generator=gen)  # (M, n)
    rows = torch.arange(M, device=A.device)[:, None]
    states, symbols = [], []
    for t in range(T):
        if t:
            s = torch.multinomial(A[rows, s].reshape(M * n, -1), 1, generator=gen).view(M, n)
        states.append(s)
        symbols.append(torch.multinomial(E[rows, s].reshape(M * n, -1), 1, generator=gen).view(M, n))
    o = torch.stack(symbols, 2)
    return torch.nn.functional.one_hot(o, E.shape[-1]).float(), torch.stack(states, 2)


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
def init_weights(seeds: list[int], H: int, d: int, K: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Stacked weights (M, ...) of M networks, each from its own seed."""
    out: dict[str, list[torch.Tensor]] = {"W_hh": [], "W_ih": [], "W_out": []}
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        for name, shape in (("W_hh", (H, H)), ("W_ih", (H, d)), ("W_out", (K, H))):
            out[name].append((torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(H))
    return {k: torch.stack(v).to(device) for k, v in out.items()}


def rnn_run(W: dict[str, torch.Tensor], x: torch.Tensor, h0: torch.Tensor, keep: torch.Tensor | None = None):
    """x: (M, n, T, d), h0: (M, n, H) -> pre-activations u, states h (M, n, T, H), logits z (M, n, T, K).

    keep (M, 1, H) multiplies u (0 silences a unit: the authors' mu = 0 intervention)."""
    h, us, hs = h0, [], []
    for t in range(x.shape[2]):
        u = h @ W["W_hh"].transpose(1, 2) + x[:, :, t] @ W["W_ih"].transpose(1, 2)
        u = u if keep is None else u * keep
        h = torch.relu(u)
        us.append(u)
        hs.append(h)
    h_all = torch.stack(hs, 2)
    return torch.stack(us, 2), h_all, h_all @ W["W_out"].transpose(1, 2)[:, None]


def gumbel_hard(z: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One-hot sample of softmax(z), straight-through gradient of softmax(z + G)."""
    G = -torch.empty_like(z).exponential_(generator=gen).log()
    soft = torch.softmax(z + G, -1)
    hard = torch.nn.functional.one_hot(soft.argmax(-1), z.shape[-1]).to(z.dtype)
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
def train_rnn(names: list[str], seeds: list[int], cfg: dict, steps: int, batch: int, device: torch.device):
    """Train one network per (HMM name, seed) pair as one batched model; returns weights, losses, snapshots."""
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
        x = cfg["sigma"] * torch.randn(M, batch, cfg["T"], cfg["d"], generator=gen, device=device)
        _, _, z = rnn_run(W, x, torch.randn(M, batch, cfg["H"], generator=gen, device=device))
        y = gumbel_hard(z, gen).flatten(2)  # (M, batch, 3T)
        target = sample_hmm(A, E, pi0, batch, cfg["T"], gen)[0].flatten(2)
        loss = transport.sinkhorn_divergence(y, target, cfg["eps"], cfg["sinkhorn_iters"], cfg["scaling"])
        opt.zero_grad()
        loss.sum().backward()  # the sum: each network gets its own gradient
        clip_per_model(params, cfg["clip"])
        opt.step()
        losses.append(loss.detach().cpu().numpy())
    return {k: v.detach() for k, v in W.items()}, np.array(losses), snaps


# %% [markdown]
# ## Train or load the checkpoint
#
# The full profile (or `A08_TRAIN_CHECKPOINT=1`) trains the checkpoint with the recipe above and
# writes `data/a08_checkpoint.npz` (weights and training snapshots) and `data/a08_checkpoint.json`
# (configuration, seed, device, torch version, wall and CPU time, loss curve, and the code hash).
# Otherwise the committed checkpoint is loaded, after checking that its recorded hash equals the hash
# of this chapter's `checkpoint-code` cells and `transport.py`: a changed recipe stops the chapter
# instead of silently analysing a network the code no longer makes. The committed checkpoint was
# trained on a CPU (the JSON records the time); `tests/test_a08_checkpoint.py` repeats the hash check.

# %%
ROOT = runtime.find_root()
DATA = (ROOT / "data") if ROOT else Path("data")
SOURCE = ROOT / "book" / "related" / "a08_rnn_hmm_mechanisms.py" if ROOT else None


def checkpoint_code_sha256(chapter_py: Path, transport_py: Path) -> str:
    """SHA-256 of the syntax trees of the cells tagged checkpoint-code (in order) and of rnnbook/transport.py.

    Syntax trees, not bytes: reformatting or comments do not count, any change to the code does."""
    cells = re.split(r"^# %%", chapter_py.read_text(), flags=re.M)
    h = hashlib.sha256()
    for cell in cells:
        head, _, body = cell.partition("\n")
        if "checkpoint-code" in head:
            h.update(ast.dump(ast.parse(body)).encode() + b"\0")
    h.update(ast.dump(ast.parse(transport_py.read_text())).encode())
    return h.hexdigest()


CODE_SHA = checkpoint_code_sha256(SOURCE, Path(transport.__file__)) if SOURCE and SOURCE.exists() else None
TRAIN = os.environ.get("A08_TRAIN_CHECKPOINT", "1" if ctx.profile == "full" else "0") == "1"
TRAIN = TRAIN or not (DATA / "a08_checkpoint.npz").exists()
print("code hash:", CODE_SHA and CODE_SHA[:16], "| train the checkpoint:", TRAIN)


# %%
def save_checkpoint(W, losses, snaps, meta):
    arrays = {k: v[0].cpu().numpy() for k, v in W.items()}
    arrays["snapshot_steps"] = np.array(sorted(snaps))
    for k in ("W_hh", "W_ih", "W_out"):
        arrays[f"snapshot_{k}"] = np.stack([snaps[s][k][0].cpu().numpy() for s in sorted(snaps)])
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DATA / "a08_checkpoint.npz", **arrays)
    meta["shapes"] = {k: list(v.shape) for k, v in arrays.items()}
    (DATA / "a08_checkpoint.json").write_text(json.dumps(meta, indent=1) + "\n")


if TRAIN:
    t0, c0 = time.perf_counter(), time.process_time()
    W_ck, loss_ck, snaps_ck = train_rnn([CKPT["hmm"]], [CKPT["seed"]], CKPT, CKPT["steps"], CKPT["batch"], dev)
    meta = dict(code_sha256=CODE_SHA, config=CKPT, seed=CKPT["seed"], steps=CKPT["steps"], device=ctx.device_name,
                torch=torch.__version__, threads=torch.get_num_threads(), wall_s=round(time.perf_counter() - t0, 1),
                cpu_s=round(time.process_time() - c0, 1), loss_every_10=[round(float(v), 4) for v in loss_ck[::10, 0]])
    save_checkpoint(W_ck, loss_ck, snaps_ck, meta)
meta = json.loads((DATA / "a08_checkpoint.json").read_text())
if CODE_SHA is not None and meta["code_sha256"] != CODE_SHA:
    raise RuntimeError("data/a08_checkpoint.* was made by other code: retrain with A08_TRAIN_CHECKPOINT=1")
if meta["config"] != json.loads(json.dumps(CKPT)):
    raise RuntimeError("the checkpoint's configuration differs from CKPT: retrain with A08_TRAIN_CHECKPOINT=1")
npz = np.load(DATA / "a08_checkpoint.npz")
W = {k: torch.from_numpy(npz[k])[None].to(dev) for k in ("W_hh", "W_ih", "W_out")}
SNAPS = {int(s): {k: torch.from_numpy(npz[f"snapshot_{k}"][i])[None].to(dev) for k in ("W_hh", "W_ih", "W_out")}
         for i, s in enumerate(npz["snapshot_steps"])}  # fmt: skip
print(f"checkpoint: {meta['steps']} steps on {meta['device']}, {meta['wall_s']} s wall, torch {meta['torch']}")

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
# checkpoint is tested on all three. The networks trained from scratch in this run (one per seed,
# {glue:text}`a08_smoke_steps` steps) are tested on frequencies only: the research notes found that
# a minute of CPU training matches frequencies but not yet the dynamics.

# %%
def simulate(W, n, T, sigma, gen, burn=0, keep=None, h0=None):
    """Noise-driven runs of every network in W: (u, h, z) after `burn` discarded steps."""
    M, H, d = W["W_hh"].shape[0], W["W_hh"].shape[1], W["W_ih"].shape[2]
    x = sigma * torch.randn(M, n, burn + T, d, generator=gen, device=dev)
    h0 = torch.randn(M, n, H, generator=gen, device=dev) if h0 is None else h0
    with torch.no_grad():
        u, h, z = rnn_run(W, x, h0, keep)
    return u[:, :, burn:], h[:, :, burn:], z[:, :, burn:]


def emission_stats(o: np.ndarray, K: int = 3) -> dict:
    """Frequencies, switch rate and dwell-time distribution of symbol sequences o (n, T)."""
    n, T = o.shape
    new_run = np.ones_like(o, dtype=bool)
    new_run[:, 1:] = o[:, 1:] != o[:, :-1]
    lengths = np.bincount(np.cumsum(new_run.ravel()) - 1)
    return dict(freq=np.bincount(o.ravel(), minlength=K) / o.size, switch=float(new_run[:, 1:].mean()),
                dwell=np.bincount(lengths, minlength=T + 1)[1:] / len(lengths))


def compare_to_hmm(W, name, n, T, gen):
    A, E, pi0 = hmm_stack([name], dev)
    o_hmm = sample_hmm(A, E, pi0, n, T, gen)[0][0].argmax(-1).cpu().numpy()
    _, _, z = simulate(W, n, T, CKPT["sigma"], gen)
    o_rnn = gumbel_hard(z, gen)[0].argmax(-1).cpu().numpy()
    a, b = emission_stats(o_rnn), emission_stats(o_hmm)
    return a, b, dict(freq_err=float(np.abs(a["freq"] - b["freq"]).max()), switch_rel_err=a["switch"] / b["switch"] - 1,
                      dwell_tv=0.5 * float(np.abs(a["dwell"] - b["dwell"]).sum()), switch_rnn=a["switch"], switch_hmm=b["switch"])


g = runtime.generator(ctx.seeds[0], 1, dev)
st_rnn, st_hmm, c1 = compare_to_hmm(W, CKPT["hmm"], P["stats_n"], CKPT["T"], g)
print({k: round(v, 4) for k, v in c1.items()})

# %%
t0 = time.process_time()
W_smoke, loss_smoke, _ = train_rnn([CKPT["hmm"]] * S, ctx.seeds, CKPT, P["smoke_steps"], P["smoke_batch"], dev)
smoke = [compare_to_hmm({k: v[i : i + 1] for k, v in W_smoke.items()}, CKPT["hmm"], P["stats_n"], CKPT["T"], runtime.generator(s, 2, dev))[2]
         for i, s in enumerate(ctx.seeds)]  # fmt: skip
c1.update(smoke_freq_err=max(s["freq_err"] for s in smoke), smoke_switch=float(np.mean([s["switch_rel_err"] for s in smoke])))
runtime.glue("a08_smoke_steps", P["smoke_steps"])
print(f"smoke training: {time.process_time() - t0:.1f} s CPU;", [{k: round(v, 3) for k, v in s.items()} for s in smoke])

# %% [markdown]
# In the full profile the same recipe also trains one network per larger HMM (the families of C6),
# as one batched model, and C1 checks their frequencies and switch rates too.

# %%
FAMILIES = ["chain3", "fully3", "cycle4"]
if ctx.profile == "full":
    W_fam, _, _ = train_rnn(FAMILIES, [CKPT["seed"] + 1 + i for i in range(len(FAMILIES))], CKPT, CKPT["steps"], CKPT["batch"], dev)
    fam_c1 = {name: compare_to_hmm({k: v[i : i + 1] for k, v in W_fam.items()}, name, P["stats_n"], CKPT["T"], runtime.generator(0, 3, dev))[2]
              for i, name in enumerate(FAMILIES)}  # fmt: skip
    c1["families_ok"] = float(all(f["freq_err"] <= 0.05 and abs(f["switch_rel_err"]) <= 0.3 for f in fam_c1.values()))
    print({n: {k: round(v, 3) for k, v in f.items()} for n, f in fam_c1.items()})
report.measure("C1", c1)
runtime.glue("a08_c1_switch_rnn", c1["switch_rnn"])
runtime.glue("a08_c1_switch_hmm", c1["switch_hmm"])
runtime.glue("a08_c1_tv", c1["dwell_tv"])

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
# the same comparison for its networks).
#
# ## C2 · Without input: one fixed point
#
# Without biases, $h = 0$ is always a fixed point of $h \mapsto \mathrm{ReLU}(W_{hh} h)$. The claim is
# that it is the *only* attractor: we start 100 random states (three times the scale of $h_0$) and
# 100 states visited by the noise-driven network, switch the input off, and follow
# $h_{t+1} = \mathrm{ReLU}(W_{hh} h_t)$ for 300 steps (the authors iterate 1,000 steps from a grid [C]).

# %%
def fixed_point_test(W, gen) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Input-free relaxation from random and from noise-driven states (network 0 of W)."""
    _, h_orbit, _ = simulate(W, 4, 400, CKPT["sigma"], gen, burn=50)
    H, scale = h_orbit.shape[-1], float(h_orbit.norm(dim=-1).mean())
    traj = [torch.cat([3 * torch.randn(100, H, generator=gen, device=dev), h_orbit[0].reshape(-1, H)[::16][:100]])]
    with torch.no_grad():
        for _ in range(300):
            traj.append(torch.relu(traj[-1] @ W["W_hh"][0].T))
    traj = torch.stack(traj, 1)  # (200, 301, H)
    end, norms = traj[:, -1], traj.norm(dim=-1) / traj[:, :1].norm(dim=-1)
    out = dict(spread_rel=float((end - end.mean(0)).norm(dim=-1).max()) / scale,
               last_step_rel=float((traj[:, -1] - traj[:, -2]).norm(dim=-1).max()) / scale,
               steps_to_1pct=float((norms > 0.01).sum(1).float().max()), fixed_point_norm_rel=float(end.mean(0).norm()) / scale)
    return out, traj, h_orbit[0]


c2, traj_free, h_orbit = fixed_point_test(W, runtime.generator(ctx.seeds[0], 4, dev))
report.measure("C2", c2)
runtime.glue("a08_c2_steps", int(c2["steps_to_1pct"]))
print({k: f"{v:.3g}" for k, v in c2.items()})

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

# %%
def pca_basis(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and first two principal axes (rows) of states X (..., H), signs fixed."""
    X = X.reshape(-1, X.shape[-1])
    mu = X.mean(0)
    V = torch.linalg.svd(X - mu, full_matrices=False)[2][:2]
    return mu, V * torch.sign(V[torch.arange(2), V.abs().argmax(1)])[:, None]


def orbit_metrics(h: torch.Tensor, z: torch.Tensor, bins: int = 12) -> dict:
    """Rotation coherence kappa and phase-explained variance eta2 of runs h (n, T, H), logits z (n, T, K)."""
    if not bool(torch.isfinite(h).all()):  # a diverging network (possible mid-training): no orbit to measure
        return dict(kappa=float("nan"), eta2=float("nan"), turns=float("nan"), switches=float("nan"), switch_rate=float("nan"))
    mu, V = pca_basis(h)
    pc = (h - mu) @ V.T
    theta = torch.atan2(pc[..., 1], pc[..., 0])
    dtheta = torch.remainder(theta[:, 1:] - theta[:, :-1] + math.pi, 2 * math.pi) - math.pi
    a = z.argmax(-1)
    switches = float((a[:, 1:] != a[:, :-1]).sum())
    turns = float(dtheta.sum()) / (2 * math.pi)
    p = torch.softmax(z, -1).reshape(-1, z.shape[-1])
    b = ((theta.reshape(-1) + math.pi) / (2 * math.pi) * bins).long().clamp(0, bins - 1)
    counts = torch.bincount(b, minlength=bins).clamp_min(1)[:, None].to(p.dtype)
    means = torch.zeros(bins, p.shape[1], device=p.device, dtype=p.dtype).index_add_(0, b, p) / counts
    between = float((counts * (means - p.mean(0)) ** 2).sum())
    return dict(kappa=abs(turns) / max(switches / 2, 1.0), eta2=between / float(((p - p.mean(0)) ** 2).sum()),
                turns=turns, switches=switches, switch_rate=switches / a[:, 1:].numel())


def switch_times(a: np.ndarray) -> list[np.ndarray]:
    """Per run, the steps t at which the most likely symbol differs from step t - 1."""
    return [np.flatnonzero(r[1:] != r[:-1]) + 1 for r in a]


def cluster_mask(a: np.ndarray, margin: int = 5) -> np.ndarray:
    """Steps at least `margin` steps from every switch."""
    mask = np.zeros(a.shape, dtype=bool)
    for i, s in enumerate(switch_times(a)):
        t = np.arange(a.shape[1])
        dist = np.abs(t[:, None] - s[None, :]).min(1) if len(s) else np.full(len(t), a.shape[1])
        mask[i] = dist >= margin
    return mask


def p_switch_within(W, states: torch.Tensor, trials: int, steps: int, gen) -> float:
    """Probability that fresh noise changes the most likely symbol within `steps` steps of `states` (N, H)."""
    h0 = states.repeat_interleave(trials, 0)[None]
    a0 = (h0 @ W["W_out"][0].T).argmax(-1)
    _, _, z = simulate(W, h0.shape[1], steps, CKPT["sigma"], gen, h0=h0)
    return float((z.argmax(-1) != a0[..., None]).any(-1).float().mean())


def slow_fast(W, u, h, z, gen) -> dict:
    a = z[0].argmax(-1).cpu().numpy()
    speed = (h[0, :, 1:] - h[0, :, :-1]).norm(dim=-1).cpu().numpy()  # speed[:, t-1] = |h_t - h_{t-1}|
    sw = np.zeros(a.shape, dtype=bool)
    sw[:, 1:] = a[:, 1:] != a[:, :-1]
    clus = cluster_mask(a)
    pre = [(i, t - 1) for i, s in enumerate(switch_times(a)) for t in s]
    pre = pre[:: max(1, len(pre) // P["commit_n"])][: P["commit_n"]]
    ci, ct = np.nonzero(clus)
    pick = np.linspace(0, len(ci) - 1, P["commit_n"]).astype(int)
    hs = h[0]
    return dict(speed_ratio=float(np.median(speed[sw[:, 1:]]) / np.median(speed[clus[:, 1:]])),
                p_commit_transition=p_switch_within(W, hs[[i for i, _ in pre], [t for _, t in pre]], P["commit_trials"], 3, gen),
                p_switch_cluster=p_switch_within(W, hs[ci[pick], ct[pick]], P["commit_trials"], 3, gen), n_switches=len(pre))


u_l, h_l, z_l = simulate(W, P["orbit_n"], P["orbit_T"], CKPT["sigma"], runtime.generator(ctx.seeds[0], 5, dev), burn=50)
orb = orbit_metrics(h_l[0], z_l[0])
sf = slow_fast(W, u_l, h_l, z_l, runtime.generator(ctx.seeds[0], 6, dev))
c3 = dict(kappa=orb["kappa"], eta2=orb["eta2"], speed_ratio=sf["speed_ratio"], p_commit_transition=sf["p_commit_transition"],
          p_switch_cluster=sf["p_switch_cluster"], stationary_switch_rate=orb["switch_rate"])
report.measure("C3", c3)
runtime.glue("a08_orbit_T", P["orbit_T"])
for key in ("kappa", "eta2", "speed_ratio", "p_commit_transition", "p_switch_cluster"):
    runtime.glue(f"a08_c3_{key}", c3[key])
print({k: round(v, 3) for k, v in c3.items()})

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
# Without input every start falls to $h = 0$ (at most {glue:text}`a08_c2_steps` steps to 1 % of its
# initial norm; middle panel, the paper's Figure 3a). With input the state circulates (left; the
# paper's Figure 3b): the projected trajectory turns {glue:text}`a08_c3_kappa:.2f` times per pair of
# switches in one consistent direction, and its phase explains {glue:text}`a08_c3_eta2:.2f` of the
# variance of the emission probabilities. From the last state before a switch, fresh noise produces
# the switch within three steps with probability {glue:text}`a08_c3_p_commit_transition:.2f`; from a
# cluster state only {glue:text}`a08_c3_p_switch_cluster:.2f`: transitions are nearly deterministic,
# clusters are left only when noise accumulates. The *speed* contrast, however, is missing in this
# small network: steps at switches are only {glue:text}`a08_c3_speed_ratio:.2f` times faster than steps
# inside clusters (our rule asked for 2), so part (c) fails and C3 is reproduced only in part.

# %% [markdown]
# ## C4 · Kick neurons
#
# The paper finds units whose pre-activation $u_i$ is strongly negative inside clusters, near zero
# just before a transition and positive during it. We score every unit by how far its
# pre-activation in the three steps up to a switch ($t_s-2 \dots t_s$) rises above its cluster mean,
# in units of its cluster standard deviation [R], and call the $k = \lceil 0.05 H\rceil$ top units
# kick neurons (the paper's two triplets are 4 % of 150 units). The scores come from the run of C3;
# the ablation uses new noise. Ablation silences a unit at every step ($u_i \to 0$, the authors'
# $\mu = 0$ [C]); the control silences $k$ random other units.

# %%
def kick_scores(u: torch.Tensor, z: torch.Tensor) -> np.ndarray:
    a = z[0].argmax(-1).cpu().numpy()
    uu = u[0].cpu().numpy()
    clus = cluster_mask(a)
    win = [(i, t + dt) for i, s in enumerate(switch_times(a)) for t in s[s >= 2] for dt in (-2, -1, 0)]
    pre = uu[[i for i, _ in win], [t for _, t in win]]
    base = uu[clus]
    return (pre.mean(0) - base.mean(0)) / (base.std(0) + 1e-6)


def ablation_test(W, u, z, seed: int, draws: int) -> tuple[dict, np.ndarray, dict]:
    H = W["W_hh"].shape[-1]
    k = math.ceil(0.05 * H)
    kick = np.argsort(-kick_scores(u, z))[:k]

    def rate(silenced) -> float:
        keep = torch.ones(1, 1, H, device=dev)
        keep[..., list(silenced)] = 0.0
        _, _, zz = simulate(W, P["ablate_n"], P["ablate_T"], CKPT["sigma"], runtime.generator(seed, 7, dev), burn=50, keep=keep)
        a = zz[0].argmax(-1)
        return float((a[:, 1:] != a[:, :-1]).float().mean())

    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(H), kick)
    intact, kicked = max(rate([]), 1e-12), rate(kick)  # (a network that never switches: reductions ~ 0 or negative)
    randoms = [rate(rng.choice(others, k, replace=False)) for _ in range(draws)]
    red = dict(kick_reduction=1 - kicked / intact, random_reduction=float(np.mean([1 - r / intact for r in randoms])), k=k)
    return red, kick, dict(intact=intact, kick=kicked, random=randoms)


c4, kick, rates = ablation_test(W, u_l, z_l, ctx.seeds[0], P["random_draws"])
for s in ctx.seeds[1:]:  # other noise draws: the same kick units?
    _u, _h, _z = simulate(W, P["orbit_n"], P["orbit_T"], CKPT["sigma"], runtime.generator(s, 5, dev), burn=50)
    c4[f"overlap_seed{s}"] = len(set(kick) & set(np.argsort(-kick_scores(_u, _z))[: c4["k"]])) / c4["k"]
report.measure("C4", c4)
runtime.glue("a08_c4_kick", c4["kick_reduction"])
runtime.glue("a08_c4_random", c4["random_reduction"])
print("kick neurons:", kick.tolist(), {k: round(v, 3) for k, v in c4.items()}, "intact rate", round(rates["intact"], 4))

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
axs[1].bar([0, 1], [rates["intact"], rates["kick"]], color=plots.COLORBLIND[:2])
axs[1].errorbar([2], [np.mean(rates["random"])], yerr=[np.std(rates["random"])], fmt="o", color=plots.COLORBLIND[2])
axs[1].set(xticks=[0, 1, 2], xticklabels=["intact", f"{c4['k']} kick\nsilenced", f"{c4['k']} random\nsilenced"],
           ylabel="switch rate", title="ablation (new noise)")
plt.show()

# %% [markdown]
# Silencing the three top-scoring units barely changes switching in
# this network: the switch rate falls by a fraction {glue:text}`a08_c4_kick:.2f` (random units:
# {glue:text}`a08_c4_random:.2f`). The same units come out on top for other noise draws, so the score
# is not noise, but in a 50-unit network trained for 2,500 steps the transitions are not carried by
# three units that can be removed: the kick-neuron claim is not reproduced at this scale.

# %% [markdown]
# ## C5 · Noise level and the emergence of the orbit during training
#
# **A noise sweep.** We scale the input noise by $\sigma/\sigma_{\rm train} \in \{1/8, \dots, 8\}$ and
# count switches of the most likely symbol, in windows of the training length started as in training
# (the setting the network was trained for), and in long stationary runs. One property of this model
# decides much of the outcome: without biases, ReLU is positively homogeneous, so multiplying the noise
# *and* the state by $c > 0$ multiplies every later state by $c$ and leaves $\arg\max_k z_{t,k}$
# unchanged. Long runs therefore switch at the same rate at every noise level (up to sampling error);
# only the start $h_0 \sim \mathcal N(0, I)$, whose scale is fixed, breaks the symmetry within a
# 20-step window.
#
# **During training.** The checkpoint keeps snapshots of its weights; for each we measure the rotation
# coherence $\kappa$ of C3 (the orbit) and the switch rate under the training noise.

# %%
mults = [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8]
sweep_win, sweep_long = [], []
for m in mults:
    _, _, zw = simulate(W, P["sweep_n"], CKPT["T"], CKPT["sigma"] * m, runtime.generator(ctx.seeds[0], 8, dev))
    _, _, zl = simulate(W, 8, 1000, CKPT["sigma"] * m, runtime.generator(ctx.seeds[0], 9, dev), burn=200)
    for store, zz in ((sweep_win, zw), (sweep_long, zl)):
        a = zz[0].argmax(-1)
        store.append(float((a[:, 1:] != a[:, :-1]).float().mean()))
peak = int(np.argmax(sweep_win))
snap_steps = sorted(SNAPS)
snap = [orbit_metrics(*[v[0] for v in simulate(SNAPS[s], P["snapshot_n"], P["snapshot_T"], CKPT["sigma"], runtime.generator(ctx.seeds[0], 10, dev), burn=50)[1:]])
        for s in snap_steps]  # fmt: skip
c5 = dict(peak_ratio=mults[peak], ends_over_peak=max(sweep_win[0], sweep_win[-1]) / max(sweep_win[peak], 1e-12),
          stationary_spread=(max(sweep_long) - min(sweep_long)) / np.mean(sweep_long),
          kappa_init=snap[0]["kappa"], kappa_final=snap[-1]["kappa"])
report.measure("C5", c5)
runtime.glue("a08_c5_spread", c5["stationary_spread"])
runtime.glue("a08_c5_k0", c5["kappa_init"])
runtime.glue("a08_c5_k1", c5["kappa_final"])
print({k: round(float(v), 3) for k, v in c5.items()})
print("snapshots:", {s: (round(m["kappa"], 2), round(m["switch_rate"], 3)) for s, m in zip(snap_steps, snap)})

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(11, 3.4))
axs[0].semilogx(mults, sweep_win, "o-", label="training-length windows, $h_0\\sim\\mathcal{N}(0,I)$")
axs[0].semilogx(mults, sweep_long, "s--", label="long runs (stationary)")
axs[0].axvline(1, color="0.6", lw=0.6)
axs[0].set(xlabel=r"noise $\sigma/\sigma_{\rm train}$", ylabel="switch rate (most likely symbol)", title="noise sweep")
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
# The long runs switch at the same rate at every noise level (spread {glue:text}`a08_c5_spread:.3f`
# of the mean), as homogeneity predicts, and in training-length windows switching does not peak at the
# training noise either: the noise-sweep half of C5 fails, and we do not see how a bias-free ReLU
# network could show a peak in its most likely symbol; a resonance would have to involve the sampled
# output or another quantity than the ones we measured. The *emergence* half holds: the rotation
# coherence is {glue:text}`a08_c5_k0:.2f` at initialisation and {glue:text}`a08_c5_k1:.2f` at the end,
# and it appears abruptly between two snapshots, after the loss has long matched the frequencies
# (snapshots where the network diverges under noise have no value).

# %% [markdown]
# ## C6 · One motif across HMM families (full profile)
#
# The full profile trains one network per family with the checkpoint's recipe (C1 shows their
# emission statistics) and repeats the C2 and C4 tests on each. In the ci profile this claim is not
# testable: it needs three more trained networks.

# %%
if ctx.profile == "full":
    c6 = {}
    for i, name in enumerate(FAMILIES):
        Wf = {k: v[i : i + 1] for k, v in W_fam.items()}
        fp = fixed_point_test(Wf, runtime.generator(ctx.seeds[0], 20 + i, dev))[0]
        uf, _, zf = simulate(Wf, P["orbit_n"], P["orbit_T"], CKPT["sigma"], runtime.generator(ctx.seeds[0], 30 + i, dev), burn=50)
        ab = ablation_test(Wf, uf, zf, ctx.seeds[0] + 40 + i, P["random_draws"])[0]
        c6[name] = float(fam_c1[name]["freq_err"] <= 0.05 and fp["spread_rel"] < 1e-3 and fp["last_step_rel"] < 1e-4
                         and ab["kick_reduction"] >= 0.5 and ab["random_reduction"] < 0.2)
        print(name, {k: round(v, 3) for k, v in {**fp, **ab}.items()})
    report.measure("C6", c6)
else:
    report.untestable("C6", "needs networks trained on three more HMM families (full profile)")

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
print("exact stationary switch rate (chain2):", round(float(sum(0.5 * HMMS["chain2"][s, t] * (1 - E2[s] @ E2[t]) for s in range(2) for t in range(2))), 6))
x1, y1 = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64), torch.tensor([[1.0, -1.0, 2.0]], dtype=torch.float64)
print("S_eps(single points) = |x - y|^2 / 2:", round(float(transport.sinkhorn_divergence(x1, y1, 0.04)), 9))
gh = torch.Generator().manual_seed(0)
Wh = {k: torch.randn(1, *s, generator=gh, dtype=torch.float64) for k, s in (("W_hh", (5, 5)), ("W_ih", (5, 2)), ("W_out", (3, 5)))}
xh, h0h = torch.randn(1, 2, 7, 2, generator=gh, dtype=torch.float64), torch.randn(1, 2, 5, generator=gh, dtype=torch.float64)
print("ReLU RNN homogeneous (3x noise and state -> 3x logits):", torch.allclose(rnn_run(Wh, 3 * xh, 3 * h0h)[2], 3 * rnn_run(Wh, xh, h0h)[2]))
print("checkpoint shapes:", {k: meta["shapes"][k] for k in ("W_hh", "W_ih", "W_out", "snapshot_steps")})
print("checkpoint made by this code:", CODE_SHA == meta["code_sha256"], "| recipe:", CKPT)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** One checkpoint network with 50 hidden units and 10 noise
#   inputs, trained on a CPU for 2,500 steps of 512 sequences (the paper: 150 units and 100 inputs
#   for most analyses, batches of 4,096, 500-1,000 epochs, 144 networks). The ci profile loads it
#   and trains two networks for only {glue:text}`a08_smoke_steps` steps as a smoke test; the full
#   profile retrains the checkpoint on a GPU (and overwrites `data/a08_checkpoint.*`), trains three
#   networks for the other HMM families and three seeds of the smoke test at full length. The full
#   profile has not been executed for this version of the chapter.
# - **Data.** HMM sequences are drawn fresh at every step instead of a fixed set of 10,000; all HMMs
#   emit through the authors' "linear" rule [R for the families, whose exact emission settings in
#   the paper we did not recover].
# - **Reconstructed measures [R].** The paper's analyses are qualitative figures and hand-picked
#   units; the rotation coherence $\kappa$, the phase-explained variance $\eta^2$, the speed ratio,
#   the 3-step switch probabilities, the kick-neuron score and $k = \lceil 0.05H \rceil$, and the
#   noise-sweep criterion are ours, with thresholds fixed before the checkpoint was analysed.
# - **Not reproduced.** Kick neurons (C4): silencing the top ⌈0.05 H⌉ = 3 units reduces switching by
#   about 1 %; possible reasons are the small network (50 units, 10 inputs instead of 150 and 100) and
#   the short training. The speed contrast between clusters and transitions (C3 c) is absent. The
#   noise-sweep resonance (C5 a) cannot appear in the most likely symbol of a bias-free ReLU network
#   (exact homogeneity); the paper's stochastic-resonance statement may refer to something else that
#   we could not recover without its text.
# - **Partly reproduced.** C3 (orbit, phase, determinism yes; speed no) and C5 (emergence yes,
#   resonance no).
# - **Tolerances and sizes set after a second seed set.** No pass rule changed after seeing results.
#   After a run with seeds 5, 6 moved C5's final rotation coherence from 1.07 to 0.67, its
#   re-run tolerance was widened from 0.2 to 0.3 and the snapshot analysis was lengthened
#   (8 × 1,000 to 16 × 1,500 steps); C5's `peak_ratio` tolerance (8) was set before any result,
#   because the noise curve is nearly flat. Tolerances only bound how far a re-execution may move
#   a number; verdicts come from the rules above.
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
