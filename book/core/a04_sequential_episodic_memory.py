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
# # A04 · General Sequential Episodic Memory Models (LISEM and DSEM)
#
# Karuvally, Sejnowski and Siegelmann {footcite}`karuvally2022energy` extend the energy-based
# associative memories of Krotov and Hopfield {footcite}`krotov2021large` from single memories to
# *sequences*. A feature layer, a hidden (memory) layer and a slow *delay* copy of the features
# are coupled by the memories $\Xi$ and by new asymmetric synapses $\Phi$ between hidden units
# that read the delayed state. As the delay changes, so does the energy: its minimum slides from
# one memory to the next and the network walks through a chain of meta-stable states, an
# *episode*. LISEM puts the non-linearity in the feature layer (a Hopfield network
# {footcite}`hopfield1982neural` with a delayed cross term), DSEM a softmax in the hidden layer (a
# dense associative memory {footcite}`krotov2016dense,demircigil2017model`); the ICML version
# {footcite}`karuvally2023general` adds polynomial activations. We build both models from their
# equations, check the energy argument (and find a missing factor in the authors' energy code),
# recall the paper's two-cycle episode, measure capacity against network size and run the
# Hebbian/STDP-like learning rule online. The paper's full text was not available: equations and
# protocols come from the abstract and the authors' code (`arjun23496/gsemm`,
# `arjunkaruvally/EDEN_cpp`; marked [C]) or are reconstructed by us (marked [R]).

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "asymmetric synapses with signal propagation delays" give a "temporally changing
#   energy surface". **C1a** (a construction): at frozen delay the energy is a Lyapunov function.
#   **C1b** (empirical): its minimum moves to the next memory as the delay follows the state
#   (paper: energy-landscape figure, DSEM notebook), at both values of $a_c$ below.
# - **C2** "a series of meta-stable states that are sequential episodic memories": DSEM cued with
#   75 % of one memory of a two-cycle graph recalls its own cycle in order (paper: overlap plot
#   with plateaus, memories 4, 5, 6, 3, … of the 7-memory graph). The authors' notebook sets
#   $a_c = 4.9$ in its parameter cell, but its saved outputs were made with $a_c = 0.7$; we judge
#   both: **C2a** ($a_c = 4.9$) and **C2b** ($a_c = 0.7$, the run behind the paper's figures).
# - **C3** "two memory models from the GSEMM class, differing in their activation functions.
#   LISEM has non-linearities in the feature layer, whereas DSEM has non-linearity in the hidden
#   layer": LISEM should recall the episode as DSEM does in C2 (C3 judges LISEM only).
# - **C4** "DSEM has a storage capacity that grows exponentially with the number of neurons"
#   (LISEM's linearly), under the book's own capacity protocol; the numbers of the paper's
#   capacity figure were not recovered.
# - **C5** "a learning rule for the synapses based on the energy minimization principle",
#   "similar to the Hebbian learning algorithm and Spike-Timing Dependent Plasticity", learns
#   "their sequential relationships online" (paper: the learned $\Phi$ shows the chain), with
#   every epoch starting from rest as in the authors' C++ code.
# - **C6** the same rule "can learn single memories" online (paper: learned $\Xi$ columns look
#   like the presented images).
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
import seaborn as sns
import torch

from rnnbook import claims, plots, runtime

ctx = runtime.setup("a04", default_seeds=[0, 1, 2])
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(
        episode_time=250.0, record_every=4, energy_snapshots=24,
        lisem_time=600.0, lisem_pub_time=3000.0, lisem_record=2,
        relax_steps=600,
        cap_dsem_N=[8, 12, 16, 20, 24],
        cap_lisem_N=[16, 24, 32, 64, 128, 256],
        cap_poly_N=[16, 24, 32],
        cap_M_max=4096, cap_sets=2, cap_transitions=32, cap_steps=150,
        learn_L=6, learn_nets=8, learn_epochs=3, learn_steps=500,
    ),
    full=dict(
        episode_time=600.0, record_every=2, energy_snapshots=96,
        lisem_time=2000.0, lisem_pub_time=6000.0, lisem_record=1,
        relax_steps=2000,
        cap_dsem_N=[8, 12, 16, 20, 24, 28, 32, 36, 40],
        cap_lisem_N=[16, 24, 32, 64, 128, 256, 512, 1024, 2048],
        cap_poly_N=[16, 24, 32, 48, 64, 96, 128],
        cap_M_max=2**18, cap_sets=8, cap_transitions=64, cap_steps=150,
        learn_L=10, learn_nets=64, learn_epochs=10, learn_steps=500,
    ),
)  # fmt: skip
# Model constants (not sizes): the authors' DSEM notebook [C], and our
# integration steps, capacity and learning settings [R].
DSEM = dict(
    N=100, a_s=1.0, a_c=4.9, beta_d=7.0, gamma=1.0, T_f=1.0, T_d=20.0,
    dt=0.01,
)  # fmt: skip
# a_c of the notebook's parameter cell, and of its saved outputs
A_C = {"4.9": 4.9, "0.7": 0.7}
TAG = {"4.9": "49", "0.7": "07"}  # for glue names
EP_DT, LISEM_DT, LISEM_DT_PUB = 0.05, 0.2, 0.5  # RK4 steps [R]
CAP = dict(a_s=1.0, a_c=2.0, gamma=0.1, dt=0.1, threshold=0.9)
LEARN = dict(
    N=50, a_s=1.0, a_c=2.0, gamma=1.0, beta_d=1.0, T_f=0.005, T_d=0.125,
    T_phi=1.0, T_xi=0.1, dt=1e-3,
)  # fmt: skip
S = len(ctx.seeds)


# %% [markdown]
# All claims and their checks are fixed here, before any experiment runs. Thresholds come from
# the research notes (claims 1–5 of the GSEMM section: exact sequences, ≥ 3 clean cycles, mean
# maximal overlap ≥ 0.8, 0 energy rises, every pattern learned) and from the paper's statements
# (exponential against linear growth); the plateau threshold (½ of the time), the capacity-law
# thresholds (R² ≥ 0.95, slope ratio ≥ 1.3, LISEM slope within 0.5 of 1) and the replay fraction
# of C6 (½ of the networks) are the chapter's own, fixed before the first run of the chapter.
# C1 is split: its Lyapunov half holds by construction (a gradient flow, and the descent lemma
# for its Euler steps), its moving-minimum half is empirical. C2 is judged twice, with the same
# rules, at the two values of $a_c$ found in the authors' notebook (C2a: 4.9, C2b: 0.7).
#
# The abstract names the mechanism: *asymmetric* synapses with *delays* in the adiabatic limit.
# Three ablations remove one ingredient each and run in the same batch as the intact network;
# each is a negative control judged by the rule of the evidence check it names, and what each
# must show is declared here:
#
# - $a_c = 0$ (no delayed asymmetric term: the fixed-point limit of a dense associative
#   memory) must fail the sequence rule (C2: clean cycles; C1b: moving minimum; C3 likewise):
#   the cue is retrieved and kept.
# - a symmetric $\Phi + \Phi^\top$ (each memory drives its predecessor as strongly as its
#   successor) must fail the same sequence rules: the drive has no direction.
# - a short delay, $T_d = T_f$ (no separation of time scales), must fail the sequence rule
#   and the meta-stability rules (plateau fraction, mean largest overlap): without a slow
#   delay there is nothing to hold a memory while the next one is prepared.
#
# The other controls are a reshuffled presentation order (C5), the untrained $\Xi$ (C6) and a
# power-law (polynomial) capacity (C4). `tol` is how far a re-execution on another CPU
# or thread count may move a value (derived at the end of the chapter).

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="General Sequential Episodic Memory Models (LISEM and DSEM)")
# Re-execution tolerances, measured in "How the tolerances were obtained" (0: exact).
TOL = dict(
    dt_times_L=0.1, identity_err=1e-12, increases_as_coded=0.05, moved=0, argmin_next=0,
    moved_sym=0.2, argmin_sym=0.05, plateau=0.005, mean_max=0.005, dwell=0.1, in_order_sym=0.2,
    plateau_short=0, mean_max_short=0.02, port=1e-6, lisem_clean=0.5, lisem_trans=10.0,
    lisem_trans_pub=10.0, r2=0.002, accel=0.2, lisem_ll=0.05, bits=0.01, lisem_pn=0.01,
    poly_ll=0.5, poly_accel=1.0, c5_recall=0.1, c5_rows=0.05, c5_first=0.1, c5_recall_shuf=0,
    c5_rows_shuf=0.1, captured=0.05, c6_recall=0, c6_cos=0.05,
)
ev, ctl, cx = claims.evidence, claims.control, claims.context
report.claim(
    "C1a", "At frozen delay the DSEM energy (with a_c on its last term) never rises along the "
    "feature dynamics: a Lyapunov function.",
    kind="construction", paper="energy-based model; energy plots (DSEM notebook)", checks=[
        ev("dt_times_L", "<", 2, "Euler step × Lipschitz bound of ∇E (descent lemma needs < 2)",
           tol=TOL["dt_times_L"]),
        ev("identity_err", "<=", 1e-9, "|E term by term − (½|V|² − lse γH)| on a fixed instance",
           tol=TOL["identity_err"]),
        ev("increases", "==", 0, "rises of E > 1e-9·|E| over all frozen-delay relaxations"),
        cx("increases_as_coded", "relaxations where the authors' get_energy rises, a_c = 4.9",
           tol=TOL["increases_as_coded"]),
        cx("increases_as_coded_07", "the same at a_c = 0.7", tol=TOL["increases_as_coded"]),
    ])
report.claim(
    "C1b", "The energy minimum moves to the next memory once the delay has caught up with "
    "the current one (asymmetric delayed synapses), at a_c = 4.9 and 0.7.",
    kind="empirical", paper="energy landscape moving memory to memory (DSEM notebook)", checks=[
        ev("moved", ">=", 0.95, "relaxations from noisy ξ_μ at V_d = β_d ξ_μ ending at ξ_next(μ)",
           tol=TOL["moved"]),
        ev("argmin_next", ">=", 0.95, "delays V_d = β_d ξ_μ whose lowest memory is next(μ)",
           tol=TOL["argmin_next"]),
        ev("moved_07", ">=", 0.95, "moved, at a_c = 0.7", tol=TOL["moved"]),
        ev("argmin_next_07", ">=", 0.95, "argmin_next, at a_c = 0.7", tol=TOL["argmin_next"]),
        ctl("moved_ac0", "moved", "a_c = 0: no delayed term", tol=TOL["moved"]),
        ctl("argmin_ac0", "argmin_next", "a_c = 0: no delayed term", tol=TOL["argmin_next"]),
        ctl("moved_sym", "moved", "symmetric Φ + Φᵀ, a_c = 4.9", tol=TOL["moved_sym"]),
        ctl("argmin_sym", "argmin_next", "symmetric Φ + Φᵀ, a_c = 4.9", tol=TOL["argmin_sym"]),
        ctl("moved_sym_07", "moved_07", "symmetric Φ + Φᵀ, a_c = 0.7", tol=TOL["moved_sym"]),
        ctl("argmin_sym_07", "argmin_next_07", "symmetric Φ + Φᵀ, a_c = 0.7",
            tol=TOL["argmin_sym"]),
    ])
for cid, a_c, paper in (
    ("C2a", "4.9", "the notebook's parameter cell"),
    ("C2b", "0.7", "the notebook's saved outputs: the paper's figures"),
):
    report.claim(
        cid, f"A series of meta-stable states that are sequential episodic memories (DSEM, "
        f"two-cycle graph, partial cue), a_c = {a_c}.",
        kind="empirical", paper=f"cue ξ_4 (25 % zeroed) → 4, 5, 6, 3, 4, … with plateaus; "
        f"a_c = {a_c}: {paper}", partial=["in_order"], checks=[
            ev("in_order", ">=", 1.0, "runs (7 cues) with ≥ 3 clean cycles of the cue's own cycle",
               over="min", tol=0),
            ev("plateau_frac", ">=", 0.5, "time with max_μ m_μ ≥ 0.9 (t ≥ 10)",
               tol=TOL["plateau"]),
            ev("mean_max_overlap", ">=", 0.8, "time mean of max_μ m_μ (the notes' rule)",
               tol=TOL["mean_max"]),
            cx("dwell", "time units per correct transition", tol=TOL["dwell"]),
            cx("port_mismatch", "|mean |V| at t = 10 in our port of the authors' update − the "
               "notebook's saved 0.99174|", tol=TOL["port"]),
            ctl("in_order_ac0", "in_order", "a_c = 0: the fixed-point limit", over="min", tol=0),
            ctl("in_order_sym", "in_order", "symmetric Φ + Φᵀ", over="min",
                tol=TOL["in_order_sym"]),
            ctl("in_order_short_Td", "in_order", "T_d = T_f: no separation of time scales",
                over="min", tol=0),
            ctl("plateau_short_Td", "plateau_frac", "T_d = T_f", tol=TOL["plateau_short"]),
            ctl("mean_max_short_Td", "mean_max_overlap", "T_d = T_f",
                tol=TOL["mean_max_short"]),
        ])
report.claim(
    "C3", "LISEM, the GSEMM member with its non-linearity in the feature layer, recalls the "
    "episode as DSEM does.",
    kind="empirical", paper="both models produce sequences (LISEM notebook absent from our copy)",
    checks=[
        ev("lisem_clean_best", ">=", 0.9, "runs with ≥ 3 clean cycles, best setting of the grid",
           tol=TOL["lisem_clean"]),
        cx("lisem_transitions_best", "mean correct transitions, best setting",
           tol=TOL["lisem_trans"]),
        cx("lisem_clean_published", "runs with ≥ 3 clean cycles, published defaults",
           tol=TOL["lisem_clean"]),
        cx("lisem_transitions_published", "mean correct transitions, published defaults",
           tol=TOL["lisem_trans_pub"]),
        ctl("lisem_clean_ac0", "lisem_clean_best", "a_c = 0 at the grid's three a_s",
            tol=TOL["lisem_clean"]),
        ctl("lisem_clean_sym", "lisem_clean_best", "symmetric Φ + Φᵀ, best of the grid",
            tol=TOL["lisem_clean"]),
        ctl("lisem_clean_short_Td", "lisem_clean_best", "T_d = T_f, best of the grid",
            tol=TOL["lisem_clean"]),
    ])
report.claim(
    "C4", "DSEM's capacity grows exponentially with the number of neurons (LISEM's linearly), "
    "under the book's single-transition protocol.",
    kind="empirical", paper="exponential (DSEM) vs linear (LISEM); numbers not recovered; the "
    "authors' capacity scripts test other networks",
    partial=["dsem_r2_exp", "dsem_accel"], checks=[
        ev("dsem_r2_exp", ">=", 0.95, "R² of a line through log2 C against N (DSEM)",
           tol=TOL["r2"]),
        ev("dsem_accel", ">=", 1.3, "log-log slope of C, upper ÷ lower half of the N range (DSEM)",
           tol=TOL["accel"]),
        ev("lisem_loglog_dev", "<=", 0.5, "|log-log slope of C against N − 1| (LISEM)",
           tol=TOL["lisem_ll"]),
        ev("dsem_beats_lisem", ">=", 1.0, "shared N where C_DSEM > C_LISEM", tol=0),
        cx("dsem_bits_per_neuron", "slope of log2 C against N (DSEM)", tol=TOL["bits"]),
        cx("lisem_per_neuron", "slope of C against N (LISEM)", tol=TOL["lisem_pn"]),
        cx("poly3_loglog", "log-log slope, polynomial DSEM n = 3", tol=TOL["poly_ll"]),
        ctl("poly3_accel", "dsem_accel", "polynomial DSEM n = 3 (a power law)",
            tol=TOL["poly_accel"]),
    ])
report.claim(
    "C5", "The energy-minimisation (Hebbian/STDP-like) rule learns the sequential "
    "relationships online (memories fixed; every epoch starts from rest).",
    kind="empirical", paper="learned Φ shows the chain; recall follows it (reconsolidation)",
    checks=[
        ev("recall_in_order", ">=", 0.9, "networks whose recall from ξ_0 replays the order",
           over="mean", tol=TOL["c5_recall"]),
        ev("rows_next", ">=", 0.9, "rows of the learned Φ peaking at the next memory",
           over="mean", tol=TOL["c5_rows"]),
        cx("recall_first_item", "recall in order, epochs starting at the first item (our "
           "earlier protocol)", over="mean", tol=TOL["c5_first"]),
        ctl("recall_shuffled", "recall_in_order", "order reshuffled every epoch", over="mean",
            tol=TOL["c5_recall_shuf"]),
        ctl("rows_next_shuffled", "rows_next", "order reshuffled every epoch", over="mean",
            tol=TOL["c5_rows_shuf"]),
    ])
report.claim(
    "C6", "The same rule learns single memories online as well as their order (Ξ and Φ from "
    "scratch).",
    kind="empirical", paper="learned Ξ columns look like the patterns (qualitative)",
    partial=["captured"], checks=[
        ev("captured", ">=", 1.0, "patterns with a learned column at cosine ≥ 0.95 (notes: all)",
           over="mean", tol=TOL["captured"]),
        ev("recall_in_order", ">=", 0.5, "networks whose recall replays the order", over="mean",
           tol=TOL["c6_recall"]),
        cx("mean_best_cosine", "best cosine per pattern, mean", over="mean", tol=TOL["c6_cos"]),
        ctl("captured_init", "captured", "Ξ at its random initialisation", over="mean", tol=0),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The model: three populations and one energy
#
# The feature layer $V \in \mathbb{R}^N$, the hidden layer $h \in \mathbb{R}^M$ (one unit per
# memory) and the delay layer $V_d \in \mathbb{R}^N$ interact through the memories
# $\Xi = [\xi_1, \dots, \xi_M] \in \{\pm 1\}^{N \times M}$ and the inter-memory synapses $\Phi$, where
# $\Phi_{\mu\nu} = 1$ means "memory $\mu$ is followed by memory $\nu$" (one orientation for the whole
# chapter; the authors' files use both). Each layer's activation is the gradient of a
# Lagrangian, $\sigma = \nabla L$ {footcite}`krotov2021large` [C]:
#
# $$\begin{aligned}
# T_f \dot V &= \sqrt{a_s}\,\Xi\,\sigma_h(h) - V, \quad
# T_h \dot h = \sqrt{a_s}\,\Xi^\top \sigma_f(V) + a_c\,\Phi^\top \Xi^\top V_d - h, \quad
# T_d \dot V_d = \beta_d\,\sigma_f(V) - V_d,\\
# E &= \big[V^\top\sigma_f - L_f\big] + \big[h^\top \sigma_h - L_h\big]
#      - \sqrt{a_s}\,\sigma_f^\top \Xi\,\sigma_h - a_c\,V_d^\top \Xi\,\Phi\,\sigma_h .
# \end{aligned}$$
#
# In the *adiabatic limit* the hidden layer is instantaneous ($T_h \to 0$, so
# $h = H(V, V_d) = \sqrt{a_s}\,\Xi^\top \sigma_f(V) + a_c \Phi^\top \Xi^\top V_d$) and the delay is slow
# ($T_d \gg T_f$). The asymmetric term $a_c \Phi^\top \Xi^\top V_d$ drives the hidden unit of the
# *successor* of whatever memory the delay still holds. **DSEM** takes $\sigma_f = \mathrm{id}$ and
# $\sigma_h = \mathrm{softmax}(\gamma\,\cdot)$, $L_h = \gamma^{-1}\log\sum e^{\gamma h}$. Every term with
# $\sigma_h$ then cancels against $h^\top\sigma_h$ and the energy collapses to
#
# $$E(V; V_d) = \tfrac12 \lVert V\rVert^2 - \tfrac1\gamma \log \sum_\mu e^{\gamma H_\mu(V, V_d)},
# \qquad T_f \dot V = -\nabla_V E ,$$
#
# a gradient descent at frozen $V_d$. The cancellation needs the factor $a_c$ on the last term:
# the authors' DSEM `get_energy` drops it (a commented-out line keeps it), leaving an extra
# $(a_c - 1)\,V_d^\top \Xi \Phi \sigma_h$; we measure both versions below. Overlaps are
# $m_\mu = \xi_\mu^\top V / N$.

# %%
def dsem_inputs(Xi, Phi, p):
    """W_in (B, 2N, M) with H = W_in^T [V; V_d] = sqrt(a_s) Xi^T V + a_c
    Phi^T Xi^T V_d."""
    return torch.cat([p["a_s"] ** 0.5 * Xi, p["a_c"] * Xi @ Phi], dim=1)


def dsem_rhs(X, Xi, W_in, p):
    """d/dt of the stacked state X = [V; V_d] (shape B, 2N, C) of DSEM; Xi
    (B, N, M)."""
    N = Xi.shape[1]
    V, Vd = X[:, :N], X[:, N:]
    H = W_in.mT @ X  # hidden input, (B, M, C)
    dV = (
        p["a_s"] ** 0.5 * Xi @ torch.softmax(p["gamma"] * H, dim=1) - V
    ) / p["T_f"]
    dVd = (p["beta_d"] * V - Vd) / p["T_d"]
    return torch.cat([dV, dVd], dim=1)


def rk4(rhs, X, dt, steps, every, observe):
    """Classical Runge-Kutta (the authors' integrator); observe(X) is
    recorded every `every` steps."""
    out = []
    for i in range(steps):
        if i % every == 0:
            out.append(observe(X))
        k1 = rhs(X)
        k2 = rhs(X + dt / 2 * k1)
        k3 = rhs(X + dt / 2 * k2)
        X = X + dt / 6 * (k1 + 2 * k2 + 2 * k3 + rhs(X + dt * k3))
    return X, torch.stack(out)


# %% [markdown]
# ## From a graph to an episode (C2)
#
# The authors' DSEM notebook [C] stores $M = 7$ random memories in $N = 100$ neurons and wires
# $\Phi$ as a graph with two cycles, $0 \to 1 \to 2 \to 0$ and $3 \to 4 \to 5 \to 6 \to 3$ ($a_s = 1$,
# $\beta_d = 7$, $\gamma = 1$, $T_f = 1$, $T_d = 20$); the cue is memory 4 with its last 25 % of
# entries zeroed. Its parameter cell sets $a_c = 4.9$ (a commented-out block above it pairs
# $a_c = 0.7$ with $T_d = 100$); we run both values of $a_c$, at $T_d = 20$. We draw the memories as their code does (numpy's legacy generator: seed 0 gives their
# patterns), cue *every* memory, and run seeds × cues × arms as one batch, integrated with RK4
# at $dt = 0.05$ for 250 time units (the authors: RK4 at $dt = 0.01$ for 583 time units; the
# `full` profile runs 600). The readout is the paper's: the index of the largest overlap where
# one memory is clearly retrieved ($\max_\mu m_\mu \ge 0.8$), de-duplicated into the sequence of
# visited memories.
#
# The three ablations declared with the claims run in the same batch, each at both values of
# $a_c$ where $a_c$ matters: $a_c = 0$, a symmetric $\Phi + \Phi^\top$, and $T_d = T_f$.

# %%
SUCC = [1, 2, 0, 4, 5, 6, 3]  # the two cycles of the paper's graph
CYCLE_LEN = [3, 3, 3, 4, 4, 4, 4]
M7, N = len(SUCC), DSEM["N"]
Phi_graph = torch.zeros(M7, M7, device=dev)
# Phi[mu, nu] = 1: mu -> nu
Phi_graph[torch.arange(M7), torch.tensor(SUCC)] = 1.0
Xi_ep = torch.stack(
    [
        torch.tensor(
            np.random.RandomState(s).choice([-1, 1], (N, M7)),
            dtype=torch.float32,
        )
        for s in ctx.seeds
    ]
).to(dev)  # (S, N, 7), the authors' draw for seed 0
# one column per cue: memory c with its last 25 % zeroed
cue = Xi_ep.clone()
cue[:, -N // 4 :, :] = 0.0
X0 = torch.cat([cue, torch.zeros_like(cue)], dim=1)
# control: mu drives next(mu) and prev(mu) alike
Phi_sym = Phi_graph + Phi_graph.mT
# the arms (name, a_c, Phi, T_d): blocks of S networks in one batch
ARMS = [
    ("4.9", 4.9, Phi_graph, DSEM["T_d"]),
    ("0.7", 0.7, Phi_graph, DSEM["T_d"]),
    ("a_c = 0", 0.0, Phi_graph, DSEM["T_d"]),
    ("sym 4.9", 4.9, Phi_sym, DSEM["T_d"]),
    ("sym 0.7", 0.7, Phi_sym, DSEM["T_d"]),
    ("T_d = T_f, 4.9", 4.9, Phi_graph, DSEM["T_f"]),
    ("T_d = T_f, 0.7", 0.7, Phi_graph, DSEM["T_f"]),
]
Xi_all = Xi_ep.repeat(len(ARMS), 1, 1)
W_all = torch.cat(
    [dsem_inputs(Xi_ep, Ph, {**DSEM, "a_c": a}) for _, a, Ph, _ in ARMS]
)
p_all = {
    **DSEM,
    "T_d": torch.tensor(
        [T_d for *_, T_d in ARMS for _ in ctx.seeds], device=dev
    )[:, None, None],
}


def observe_overlaps(X, Xi=Xi_all):
    """Overlaps of V and of V_d / beta_d with every memory:
    (2, B, M, C)."""
    return (
        torch.stack([Xi.mT @ X[:, :N], Xi.mT @ X[:, N:] / DSEM["beta_d"]])
        / N
    )


_, ov = rk4(
    lambda X: dsem_rhs(X, Xi_all, W_all, p_all),
    X0.repeat(len(ARMS), 1, 1),
    EP_DT,
    round(P["episode_time"] / EP_DT),
    P["record_every"],
    observe_overlaps,
)
# (T, V or V_d, arm, seed, memory, cue)
ov = ov.cpu().reshape(len(ov), 2, len(ARMS), S, M7, M7)
arm = {name: k for k, (name, *_) in enumerate(ARMS)}
# the intact networks, (T, S, M, C): feature and delay overlaps
m_ep = {a: ov[:, 0, arm[a]] for a in A_C}
md_ep = {a: ov[:, 1, arm[a]] for a in A_C}
t_ep = np.arange(ov.shape[0]) * P["record_every"] * EP_DT
print(
    f"{len(ARMS)} arms x {S * M7} runs, "
    f"{round(P['episode_time'] / EP_DT)} RK4 steps = "
    f"{P['episode_time']:.0f} time units"
)

# %% [markdown]
# A run is *in order* when its visited sequence starts at the cue and every transition follows
# $\Phi$, for at least three full cycles and with no other index anywhere.

# %%
def visited(m, thr=0.8):
    """De-duplicated argmax of overlaps m (T, M) over the samples where one
    memory is retrieved."""
    best, idx = m.max(dim=1)
    seq = idx[best >= thr].tolist()
    return [a for i, a in enumerate(seq) if i == 0 or a != seq[i - 1]]


def transitions_in_order(seq, succ, start):
    """Number of consecutive correct transitions, and whether the whole
    sequence is correct."""
    if not seq or seq[0] != start:
        return 0, False
    n = next(
        (i for i in range(len(seq) - 1) if seq[i + 1] != succ[seq[i]]),
        len(seq) - 1,
    )
    return n, n == len(seq) - 1


def episode_score(m, succ, cycle_len, cycles=3):
    """Per run (seed, cue): correct transitions, and whether >= `cycles`
    clean cycles were recalled."""
    n_ok, clean = (
        np.zeros((m.shape[1], m.shape[3])),
        np.zeros((m.shape[1], m.shape[3]), dtype=bool),
    )
    for s in range(m.shape[1]):
        for c in range(m.shape[3]):
            n, all_ok = transitions_in_order(
                visited(m[:, s, :, c]), succ, c
            )
            n_ok[s, c], clean[s, c] = (
                n,
                all_ok and n >= cycles * cycle_len[c],
            )
    return n_ok, clean


# %%
def episode_stats(m):
    """Per seed: fraction of clean runs, plateau fraction (t >= 10), mean
    max overlap; and correct transitions."""
    n_ok, clean = episode_score(m, SUCC, CYCLE_LEN)
    top = m.max(dim=2).values  # (T, S, C)
    late = torch.from_numpy(t_ep >= 10)
    plateau = (top[late] >= 0.9).float().mean(dim=(0, 2)).tolist()
    return (
        clean.mean(1).tolist(),
        plateau,
        top.mean(dim=(0, 2)).tolist(),
        n_ok,
    )


stats = {name: episode_stats(ov[:, 0, k]) for name, k in arm.items()}
print("seed 0, cue 4:", {a: visited(m_ep[a][:, 0, :, 4])[:9] for a in A_C})
for name, (c, pl, mm, n) in stats.items():
    print(
        f"{name:>15}: clean runs {np.mean(c):.2f}, "
        f"plateau {np.mean(pl):.2f}, "
        f"mean max overlap {np.mean(mm):.2f}, "
        f"correct transitions {n.mean():.1f}"
    )

# %% [markdown]
# ## Which $a_c$ made the paper's figures
#
# The notebook's saved outputs carry two fingerprints of the run behind them: the mean of
# $|V|$ at sample 100 ($t = 10.01$), printed as 0.9917382761206224, and the visited sequence
# over its 583 time units, 49 memories (48 transitions). We port the authors' update step (RK4
# on $V$ at frozen $V_d$, then RK4 on $V_d$ with the new $V$, float64, their seed-0 memories and
# cue) and run 1,001 steps at both values; and we predict the number of transitions in 583 time
# units from the dwell time measured above.

# %%
def authors_update(v, vd, xi, phi_t, a_c, dt=0.01):
    """One update of the authors' DSEM class as we read it (numpy, float64;
    columns of v are independent runs with their own a_c)."""

    def softmax0(h):
        e = np.exp(h - h.max(0))
        return e / e.sum(0)

    def rk4_step(f, x):
        k1 = f(x)
        k2 = f(x + dt * k1 / 2)
        k3 = f(x + dt * k2 / 2)
        return dt / 6 * (k1 + 2 * k2 + 2 * k3 + f(x + dt * k3))

    def f_v(x):  # a_s = 1, T_f = 1
        return xi @ softmax0(xi.T @ x + a_c * (phi_t @ xi.T @ vd)) - x

    v = v + rk4_step(f_v, v)
    vd = vd + rk4_step(
        lambda y: (DSEM["beta_d"] * v - y) / DSEM["T_d"], vd
    )
    return v, vd


# the notebook's saved outputs
SAVED_MEAN_ABS_V = 0.9917382761206224
SAVED_TRANSITIONS, SAVED_TIME = 48, 583.33
xi0 = np.random.RandomState(0).choice([-1, 1], (N, M7)).astype(float)
v_p = np.repeat(xi0[:, 4:5], len(A_C), axis=1)
v_p[-N // 4 :] = 0.0
vd_p, ac_p = np.zeros_like(v_p), np.array(list(A_C.values()))
for _ in range(1001):
    v_p, vd_p = authors_update(
        v_p, vd_p, xi0, Phi_graph.cpu().numpy().T, ac_p
    )
port_mismatch = dict(
    zip(A_C, np.abs(np.abs(v_p).mean(0) - SAVED_MEAN_ABS_V))
)
dwell = {
    a: float(P["episode_time"] / max(stats[a][3].mean(), 1)) for a in A_C
}
for a in A_C:
    runtime.glue(f"a04_port_{TAG[a]}", float(port_mismatch[a]))
    runtime.glue(f"a04_dwell_{TAG[a]}", dwell[a])
    runtime.glue(f"a04_pred_{TAG[a]}", SAVED_TIME / dwell[a])
    print(
        f"a_c = {a}: port's mean |V| at t = 10 differs from the saved "
        f"value by {port_mismatch[a]:.1e}; "
        f"dwell {dwell[a]:.1f} time units "
        f"-> {SAVED_TIME / dwell[a]:.0f} transitions in {SAVED_TIME:.0f} "
        f"time units (saved outputs: {SAVED_TRANSITIONS})"
    )

# %% [markdown]
# The port reproduces the saved value at $a_c = 0.7$ (difference
# {glue:text}`a04_port_07:.1e`, round-off) and misses it at $a_c = 4.9$ (by
# {glue:text}`a04_port_49:.3f`). The dwell times agree: a memory lasts
# {glue:text}`a04_dwell_07:.1f` time units at 0.7, which predicts
# {glue:text}`a04_pred_07:.0f` transitions in 583 time units (saved: 48), against
# {glue:text}`a04_dwell_49:.1f` and {glue:text}`a04_pred_49:.0f` at 4.9. The saved outputs,
# and with them the figure files the notebook writes (`time_cell_B.png`,
# `modelB_energy_surface.svg`), come from $a_c = 0.7$ with $T_d = 20$ (a scratch run of the
# port with the commented-out block's $T_d = 100$ gives 0.99999, not the saved value); the
# parameter cell must have been edited after that run. We take $a_c = 0.7$ as the run behind
# the paper's DSEM figures (C2b) and keep 4.9, the value a reader re-running the notebook gets,
# as C2a.

# %%
for cid, a in (("C2a", "4.9"), ("C2b", "0.7")):
    clean, plateau, mean_max, _ = stats[a]
    report.measure(
        cid,
        in_order=clean,
        plateau_frac=plateau,
        mean_max_overlap=mean_max,
        dwell=dwell[a],
        port_mismatch=float(port_mismatch[a]),
        in_order_ac0=stats["a_c = 0"][0],
        in_order_sym=stats[f"sym {a}"][0],
        in_order_short_Td=stats[f"T_d = T_f, {a}"][0],
        plateau_short_Td=stats[f"T_d = T_f, {a}"][1],
        mean_max_short_Td=stats[f"T_d = T_f, {a}"][2],
    )
    runtime.glue(f"a04_plateau_{TAG[a]}", float(np.mean(plateau)))
    runtime.glue(f"a04_mean_max_{TAG[a]}", float(np.mean(mean_max)))
    runtime.glue(f"a04_clean_{TAG[a]}", float(np.mean(clean)))
    runtime.glue(
        f"a04_sym_trans_{TAG[a]}", float(stats[f"sym {a}"][3].mean())
    )
    runtime.glue(
        f"a04_sym_clean_{TAG[a]}", float(np.mean(stats[f"sym {a}"][0]))
    )
    runtime.glue(
        f"a04_short_plateau_{TAG[a]}",
        float(np.mean(stats[f"T_d = T_f, {a}"][1])),
    )
runtime.glue("a04_ac0_trans", float(stats["a_c = 0"][3].mean()))
runtime.glue("a04_ac0_plateau", float(np.mean(stats["a_c = 0"][1])))

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(12, 3.2), width_ratios=[3, 3, 1])
show = t_ep <= 100
for ax, a in zip(axs, A_C):
    for mu in range(M7):
        ax.plot(t_ep[show], m_ep[a][show, 0, mu, 4], color=plots.COLORBLIND[mu], lw=1.3, label=f"memory {mu}")
    ax.set(xlabel="time (units of $T_f$)", title=f"$a_c$ = {a}: cued with 75 % of memory 4 (seed 0)")
axs[0].set_ylabel(r"overlap $m_\mu = \xi_\mu^\top V / N$")
fig.legend(*axs[0].get_legend_handles_labels(), ncol=7, loc="outside lower center", fontsize=7, handlelength=1)
axs[2].imshow(Phi_graph.cpu(), cmap="Greys")
axs[2].set(title=r"$\Phi$ ($\mu \to \nu$)", xlabel=r"$\nu$", ylabel=r"$\mu$", xticks=range(M7), yticks=range(M7))
axs[2].grid(False)
plt.show()

# %% [markdown]
# Both values give the paper's picture: every memory is held for a while, the switches are
# short, the order is $4 \to 5 \to 6 \to 3 \to 4$ of the cue's own cycle, and the memories of the
# other cycle stay near zero. At $a_c = 0.7$ the plateaus are long: the state sits on a memory
# (max overlap ≥ 0.9) a fraction {glue:text}`a04_plateau_07:.2f` of the time, and the mean
# largest overlap is {glue:text}`a04_mean_max_07:.2f`. At $a_c = 4.9$ the delayed drive is
# strong enough to pull the state on almost as soon as it arrives: the climb lasts about as long
# as the stay, the plateau fraction is {glue:text}`a04_plateau_49:.2f`, close to our threshold
# of one half, and the mean largest overlap {glue:text}`a04_mean_max_49:.2f`. Clean runs:
# {glue:text}`a04_clean_49:.2f` at 4.9 and {glue:text}`a04_clean_07:.2f` at 0.7.

# %% tags=["hide-input"]
groups = {name.replace("sym", "sym. Φ"): v[0] for name, v in stats.items()}
fig, axs = plt.subplots(1, 2, figsize=(12, 3.2))
plots.seed_points(axs[0], groups, "clean runs (≥ 3 cycles)", threshold=1.0)
plots.seed_points(axs[1], {n: v[1] for n, v in zip(groups, stats.values())}, "plateau fraction", threshold=0.5)
for ax, title in zip(axs, ("(a) C2's sequence rule (min over seeds must be 1)", "(b) meta-stability (mean must be ≥ ½)")):
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
plt.show()

# %% [markdown]
# The ablations fail as declared, each for its own reason (one dot per seed). Without the
# delayed term ($a_c = 0$) the cue is retrieved and kept: a fixed point with
# {glue:text}`a04_ac0_trans:.1f` transitions, on a plateau a fraction
# {glue:text}`a04_ac0_plateau:.2f` of the time, which is why plateaus alone are no evidence of an
# episode. With a symmetric $\Phi$ each memory drives its predecessor as strongly as its
# successor. At $a_c = 4.9$ the state swings back and forth between two neighbours
# ({glue:text}`a04_sym_trans_49:.1f` correct transitions on average). At $a_c = 0.7$ the swings
# have plateaus, and a fraction {glue:text}`a04_sym_clean_07:.2f` of the runs even complete
# three clean cycles, where the rule asks for every run of a seed: without the asymmetry the
# direction of the episode is left to chance. With $T_d = T_f$ the plateaus vanish (fractions
# {glue:text}`a04_short_plateau_49:.2f` and
# {glue:text}`a04_short_plateau_07:.2f`): the meta-stable states need the delay to be slow.


# %% [markdown]
# ## A moving energy surface (C1)
#
# Freeze the delay at values reached along the episode, start the feature layer near the memory
# it held, and integrate $T_f \dot V = -\nabla_V E$ with Euler steps ($dt = 0.01$, float64). That
# $E$ never rises here is a construction (C1a), not a finding: the flow is a gradient descent,
# and an Euler step of a gradient descent lowers $E$ whenever $dt\,L < 2$, where $L$ bounds the
# curvature of $E$ (the descent lemma). The Hessian is $I - \gamma a_s \Xi(\mathrm{diag}\,s - ss^\top)\Xi^\top$
# and the covariance $\mathrm{diag}\,s - ss^\top$ has no eigenvalue above ½, so
# $L \le 1 + \gamma a_s \lambda_{\max}(\Xi^\top\Xi)/2$. We check the bound, the closed form of $E$, and count
# rises above round-off ($10^{-9}\,|E|$) for our $E$ and for the authors' expression, both
# computed term by term (a failing construction stops the chapter).
#
# The *moving* part (C1b) can fail: with the delay caught up with memory $\mu$
# ($V_d = \beta_d \xi_\mu$), the lowest memory on the energy surface and the end point of the
# relaxation should be the successor of $\mu$, at both values of $a_c$. Its controls repeat both
# measurements with $a_c = 0$ and with the symmetric $\Phi + \Phi^\top$ (at both values), in one
# batch.

# %%
def dsem_energy(V, md, Xi, Phi, p, last_coef=None):
    """E term by term at h = H(V, V_d); md = Xi^T V_d. last_coef=None uses
    a_c, 1.0 the authors' code."""
    c = p["a_c"] if last_coef is None else last_coef
    H = p["a_s"] ** 0.5 * Xi.mT @ V + p["a_c"] * Phi.mT @ md
    s = torch.softmax(p["gamma"] * H, dim=1)
    L_h = torch.logsumexp(p["gamma"] * H, dim=1) / p["gamma"]
    feature = 0.5 * (V * V).sum(1)  # V^T sigma_f - L_f with sigma_f = id
    cross = (
        p["a_s"] ** 0.5 * (V * (Xi @ s)).sum(1)
        + (c * md * (Phi @ s)).sum(1)  # c: a number or (B, 1, 1)
    )
    return feature + (H * s).sum(1) - L_h - cross


def relax(V, md, Xi, Phi, p, steps, dt=0.01):
    """Euler descent of E at frozen delay; returns V and both energies at
    every step."""
    E_ours, E_coded = [], []
    for _ in range(steps):
        E_ours.append(dsem_energy(V, md, Xi, Phi, p))
        E_coded.append(dsem_energy(V, md, Xi, Phi, p, last_coef=1.0))
        H = p["a_s"] ** 0.5 * Xi.mT @ V + p["a_c"] * Phi.mT @ md
        V = V + dt * (
            p["a_s"] ** 0.5 * Xi @ torch.softmax(p["gamma"] * H, dim=1) - V
        ) / p["T_f"]
    return V, torch.stack(E_ours), torch.stack(E_coded)


def increases(E):
    """Steps where E rises by more than round-off, per relaxation."""
    return (E.diff(dim=0) > 1e-9 * E[1:].abs().clamp(min=1.0)).sum(dim=0)


# %%
# a tiny fixed instance for the closed form of E
g0 = torch.Generator().manual_seed(123)
Xt = torch.randint(0, 2, (1, 12, 4), generator=g0).double() * 2 - 1
Pt = torch.roll(torch.eye(4, dtype=torch.float64), 1, dims=1)
Vt, mdt = (
    torch.randn(1, 12, 5, generator=g0, dtype=torch.float64),
    torch.randn(1, 4, 5, generator=g0, dtype=torch.float64),
)
Ht = Xt.mT @ Vt + DSEM["a_c"] * Pt.mT @ mdt
closed = 0.5 * (Vt * Vt).sum(1) - torch.logsumexp(Ht, 1)
identity_err = float(
    (dsem_energy(Vt, mdt, Xt, Pt, DSEM) - closed).abs().max()
)
Xi64, Phi64 = Xi_ep.double(), Phi_graph.double()
# largest over seeds; the bound does not depend on a_c
lam_max = float(torch.linalg.eigvalsh(Xi64.mT @ Xi64).max())
dt_L = 0.01 / DSEM["T_f"] * (1 + DSEM["gamma"] * DSEM["a_s"] * lam_max / 2)
snap = np.linspace(
    len(t_ep) // P["energy_snapshots"],
    len(t_ep) - 1,
    P["energy_snapshots"],
).astype(int)
# both values of a_c in one batch: blocks of S networks
Xi64_2 = Xi64.repeat(len(A_C), 1, 1)
p_2 = {
    **DSEM,
    "a_c": torch.tensor(
        [a for a in A_C.values() for _ in ctx.seeds],
        dtype=torch.float64, device=dev,
    )[:, None, None],
}
# (2S, M, cues*snaps)
md_snap = torch.cat(
    [
        (md_ep[a][snap] * N * DSEM["beta_d"])
        .double()
        .permute(1, 2, 0, 3)
        .reshape(S, M7, -1)
        for a in A_C
    ]
).to(dev)
# memory held at each snapshot
current = torch.cat(
    [
        m_ep[a][snap].argmax(dim=2).permute(1, 0, 2).reshape(S, -1)
        for a in A_C
    ]
).to(dev)
noise = torch.randn(
    S, N, current.shape[1],
    generator=runtime.generator(ctx.seeds[0], 1), dtype=torch.float64,
).to(dev).repeat(len(A_C), 1, 1)
V0 = (
    torch.gather(Xi64_2, 2, current[:, None, :].expand(-1, N, -1))
    + 0.3 * noise
)
_, E_ours, E_coded = relax(
    V0, md_snap, Xi64_2, Phi64, p_2, P["relax_steps"]
)
inc_ours, inc_coded = increases(E_ours), increases(E_coded)
# per a_c: fraction of relaxations where the authors' expression rises
coded_frac = dict(
    zip(
        A_C,
        (inc_coded > 0).double().reshape(len(A_C), -1).mean(1).tolist(),
    )
)
print(
    f"{inc_ours.numel()} frozen-delay relaxations x "
    f"{P['relax_steps']} steps: rises of E = {int(inc_ours.sum())}; "
    "relaxations where the authors' expression rises: "
    + ", ".join(f"{v:.3f} at a_c = {a}" for a, v in coded_frac.items())
)

report.measure(
    "C1a",
    dt_times_L=dt_L,
    identity_err=identity_err,
    increases=int(inc_ours.sum()),
    increases_as_coded=coded_frac["4.9"],
    increases_as_coded_07=coded_frac["0.7"],
)
for a, v in coded_frac.items():
    runtime.glue(f"a04_coded_frac_{TAG[a]}", v)
runtime.glue("a04_dtL", dt_L)
print(
    f"dt L <= {dt_L:.3f} (descent needs < 2); "
    f"closed form of E off by {identity_err:.1e}"
)

# %%
# V_d = beta_d xi_mu for every mu (columns): (S, M, M)
md_caught = DSEM["beta_d"] * Xi64.mT @ Xi64
V_mu = Xi64 + 0.3 * torch.randn(
    Xi64.shape,
    generator=runtime.generator(ctx.seeds[0], 2),
    dtype=torch.float64,
).to(dev)
nxt = torch.tensor(SUCC)
# arms of the moving-minimum test, one batch
MM_ARMS = [
    ("4.9", 4.9, Phi64), ("0.7", 0.7, Phi64), ("a_c = 0", 0.0, Phi64),
    ("sym 4.9", 4.9, Phi_sym.double()), ("sym 0.7", 0.7, Phi_sym.double()),
]  # fmt: skip
R = len(MM_ARMS)
Phi_mm = torch.cat([Ph.expand(S, M7, M7) for *_, Ph in MM_ARMS])
p_mm = {
    **DSEM,
    "a_c": torch.tensor(
        [a for _, a, _ in MM_ARMS for _ in ctx.seeds],
        dtype=torch.float64, device=dev,
    )[:, None, None],
}
Xi_mm, md_mm = Xi64.repeat(R, 1, 1), md_caught.repeat(R, 1, 1)
V_end, _, _ = relax(
    V_mu.repeat(R, 1, 1), md_mm, Xi_mm, Phi_mm, p_mm, P["relax_steps"]
)
m_end = (Xi_mm.mT @ V_end / N).cpu()  # (R*S, overlap with, started at)
moved_all = (m_end[:, nxt, torch.arange(M7)] >= 0.95).double().mean(1)
E_at = torch.stack(
    [
        dsem_energy(
            Xi_mm, md_mm[:, :, mu : mu + 1].expand(-1, -1, M7),
            Xi_mm, Phi_mm, p_mm,
        )
        for mu in range(M7)
    ],
    1,
)  # (R*S, delay at mu, energy of memory nu)
argmin_all = (E_at.argmin(dim=2).cpu() == nxt).double().mean(1)
mm = {
    name: (
        moved_all.reshape(R, S)[k].tolist(),
        argmin_all.reshape(R, S)[k].tolist(),
    )
    for k, (name, *_) in enumerate(MM_ARMS)
}
report.measure(
    "C1b",
    moved=mm["4.9"][0],
    argmin_next=mm["4.9"][1],
    moved_07=mm["0.7"][0],
    argmin_next_07=mm["0.7"][1],
    moved_ac0=mm["a_c = 0"][0],
    argmin_ac0=mm["a_c = 0"][1],
    moved_sym=mm["sym 4.9"][0],
    argmin_sym=mm["sym 4.9"][1],
    moved_sym_07=mm["sym 0.7"][0],
    argmin_sym_07=mm["sym 0.7"][1],
)
for k, (name, (a, b)) in enumerate(mm.items()):
    runtime.glue(f"a04_moved_{k}", float(np.mean(a)))
    runtime.glue(f"a04_argmin_{k}", float(np.mean(b)))
    print(
        f"{name:>12}, delay at memory mu: relaxation ends at next(mu) "
        f"in {np.mean(a):.0%}, lowest memory is next(mu) "
        f"in {np.mean(b):.0%}"
    )

# %% tags=["hide-input"]
order, lam = [4, 5, 6, 3, 4], torch.linspace(0, 1, 25, dtype=torch.float64)[:-1]  # seed 0, cue 4: path around the cycle
path = torch.cat([(1 - lam) * Xi64[0, :, a : a + 1] + lam * Xi64[0, :, b : b + 1] for a, b in zip(order, order[1:])], 1)
md_at = lambda i, cols: (md_ep["0.7"][i, 0, :, 4] * N * DSEM["beta_d"]).double().to(dev)[None, :, None].expand(1, -1, cols)  # noqa: E731
p07 = {**DSEM, "a_c": 0.7}
fig, axs = plt.subplots(1, 3, figsize=(12, 3.4))
for k, i in enumerate(np.searchsorted(t_ep, np.linspace(20, 60, 6))):
    E_path = dsem_energy(path[None], md_at(i, path.shape[1]), Xi64[:1], Phi64, p07)[0].cpu()
    axs[0].plot(np.arange(len(E_path)) / len(lam), E_path - E_path.min(), color=plt.cm.viridis(k / 6), label=f"t = {t_ep[i]:.0f}")
axs[0].set(xticks=range(5), xticklabels=[rf"$\xi_{o}$" for o in order], ylabel=r"$E - \min E$",
           title="(a) energy along the cycle, delay at time t")  # fmt: skip
axs[0].legend(fontsize=7)
show = np.nonzero(t_ep <= 100)[0][::5]
E_mem = torch.stack([dsem_energy(Xi64[:1], md_at(i, M7), Xi64[:1], Phi64, p07)[0] for i in show], 1).cpu()
E_rel = (E_mem - E_mem.min(0).values).numpy()
sns.heatmap(E_rel, ax=axs[1], cmap="magma", robust=True, xticklabels=False, cbar_kws={"label": r"$E(\xi_\nu) - \min_\nu E$"})
axs[1].plot(np.arange(len(show)) + 0.5, m_ep["0.7"][show, 0, :, 4].argmax(1) + 0.5, ".", color=plots.COLORBLIND[2], ms=3, label="memory held by V")
axs[1].set(xlabel=f"time 0 to {t_ep[show[-1]]:.0f}", ylabel=r"memory $\nu$", title="(b) energy of each memory (dark = lowest)")
axs[1].legend(loc="upper right", fontsize=7)
r = int(inc_coded.flatten().argmax())  # the relaxation where the authors' expression rises most often
for E, name, ls in ((E_ours, "E with $a_c$ (ours)", "-"), (E_coded, "authors' get_energy", "--")):
    e = E.reshape(E.shape[0], -1)[:, r].cpu()
    axs[2].plot(np.arange(len(e)) * 0.01, e - e[-1], ls, label=name)
axs[2].set(xlabel="time at frozen delay", ylabel=r"$E - E_{\mathrm{end}}$", title="(c) relaxation through a switch ($a_c$ = 4.9)", xlim=(0, 6))
axs[2].legend(fontsize=7)
plt.show()

# %% [markdown]
# Panels (a) and (b) use $a_c = 0.7$, the paper's run. Panel (a) mirrors the paper's landscape
# figure: as the delay moves on, the energy valley moves from one memory to the next. In (b) the
# lowest memory (dark) jumps ahead and the state (dots) follows. Panel (c) is the bug: in
# {glue:text}`a04_coded_frac_49:.2f` of the frozen-delay relaxations at $a_c = 4.9$ the authors'
# expression *rises* when the hidden layer switches memory; at $a_c = 0.7$ the fraction is
# {glue:text}`a04_coded_frac_07:.2f`, so energy plots made from the paper's run would not show
# it. Ours never rises, as the descent lemma guarantees ($dt\,L \le$ {glue:text}`a04_dtL:.2f`).
#
# The moving minimum needs the delayed asymmetric term. With the delay at $\mu$ the relaxation
# ends at the successor in {glue:text}`a04_moved_0:.2f` (4.9) and {glue:text}`a04_moved_1:.2f`
# (0.7) of the cases, and the successor is the lowest memory in {glue:text}`a04_argmin_0:.2f`
# and {glue:text}`a04_argmin_1:.2f`. With $a_c = 0$ these fractions are
# {glue:text}`a04_moved_2:.2f` and {glue:text}`a04_argmin_2:.2f` (the state stays where it
# is), with a symmetric $\Phi$ {glue:text}`a04_moved_3:.2f` and {glue:text}`a04_argmin_3:.2f` at
# 4.9, {glue:text}`a04_moved_4:.2f` and {glue:text}`a04_argmin_4:.2f` at 0.7 (successor and
# predecessor are equally deep; crosstalk decides).


# %% [markdown]
# ## LISEM: the non-linearity in the feature layer (C3)
#
# LISEM takes $\sigma_f = \tanh(\gamma\,\cdot)$ and a linear hidden layer ($L_h = \tfrac12\lVert h\rVert^2$).
# Eliminating $h$ leaves a Hopfield network with a delayed cross term [C, as in the authors' code,
# with $\sqrt{a_s}$ absorbed into $a_c$]:
#
# $$T_f \dot V = a_s\,\Xi\Xi^\top \tanh(\gamma V) + a_c\,\Xi\Phi^\top\Xi^\top V_d - V, \qquad
#   T_d \dot V_d = \beta_d \tanh(\gamma V) - V_d .$$
#
# The code's defaults are $a_s = 0.045$, $a_c = 0.004$, $\beta_d = 7$, $T_d = 100$ ($N = 100$, $\gamma = 1$);
# the repository lists a LISEM notebook, but its file is absent from the copy we could read, so
# the parameters of the paper's LISEM figure are unknown. We run the defaults and six settings
# where the delayed drive beats the self-coupling ($a_c\beta_d / a_s \in \{1.5, 3\}$,
# $a_s N \in \{1, 2, 4.5\}$, $T_d = 20$ as for DSEM) on the same graph, memories and cues, reading
# overlaps off $\tanh(\gamma V)$. The defaults switch slowly (a review of the authors' code put
# the first switch near $t \approx 181$, and a memory then lasts about 200 time units), so they
# run on their own for 3000 time units (`full`: 6000) with RK4 at $dt = 0.5$; the grid, whose
# delay is five times faster, runs for 600 time units (`full`: 2000) at $dt = 0.2$ (a scratch
# comparison at $dt = 0.05$ and $0.1$, and at $0.2$ for the defaults, gave the same readouts).
# The three ablations run in the grid's batch: $a_c = 0$ at the grid's three values of $a_s$,
# and the symmetric $\Phi + \Phi^\top$ and $T_d = T_f$ at each of its six settings. C3 judges LISEM
# alone: DSEM's half of the statement is C2.

# %%
LISEM_GRID = [dict(a_s=0.045, a_c=0.004, beta_d=7.0, T_d=100.0)] + [
    dict(a_s=k / N, a_c=r * k / N / 7.0, beta_d=7.0, T_d=20.0)
    for k in (1.0, 2.0, 4.5)
    for r in (1.5, 3.0)
]
# the ablations: no delayed term; symmetric Phi; a short delay
LISEM_AC0 = [
    dict(a_s=k / N, a_c=0.0, beta_d=7.0, T_d=20.0) for k in (1.0, 2.0, 4.5)
]
LISEM_SYM = [{**g, "sym": True} for g in LISEM_GRID[1:]]
LISEM_SHORT = [{**g, "T_d": 1.0} for g in LISEM_GRID[1:]]
CONFIGS = LISEM_GRID + LISEM_AC0 + LISEM_SYM + LISEM_SHORT
K, K0 = len(CONFIGS), len(LISEM_GRID)
blocks = np.cumsum(
    [0, K0, len(LISEM_AC0), len(LISEM_SYM), len(LISEM_SHORT)]
)


def lisem_run(configs, dt, time, every):
    """Overlaps with tanh(V) of LISEM, every config x seed x cue in one
    batch: (T, config, seed, memory, cue), and the sample times."""
    col = lambda key: torch.tensor(  # noqa: E731
        [g[key] for g in configs for _ in ctx.seeds], device=dev
    )[:, None, None]
    Xi_l = Xi_ep.repeat(len(configs), 1, 1)  # config-major
    Phi_li = torch.stack(
        [
            Phi_sym if g.get("sym") else Phi_graph
            for g in configs
            for _ in ctx.seeds
        ]
    )
    # h = W_l^T [tanh V; V_d]
    W_l = torch.cat(
        [col("a_s") * Xi_l, col("a_c") * Xi_l @ Phi_li], dim=1
    )
    beta_l, T_d_l = col("beta_d"), col("T_d")

    def lisem_rhs(X):
        """h = a_s Xi^T tanh(V) + a_c Phi^T Xi^T V_d (gamma = 1,
        T_f = 1)."""
        V, Vd = X[:, :N], X[:, N:]
        g = torch.tanh(V)
        h = W_l.mT @ torch.cat([g, Vd], dim=1)
        return torch.cat([Xi_l @ h - V, (beta_l * g - Vd) / T_d_l], dim=1)

    _, ov_l = rk4(
        lisem_rhs,
        X0.repeat(len(configs), 1, 1),
        dt,
        round(time / dt),
        every,
        lambda X: Xi_l.mT @ torch.tanh(X[:, :N]) / N,
    )
    m = ov_l.cpu().reshape(-1, len(configs), S, M7, M7)
    return m, np.arange(len(m)) * every * dt


# the published defaults (slow: T_d = 100) on their own, for longer
m_pub, t_pub = lisem_run(
    LISEM_GRID[:1], LISEM_DT_PUB, P["lisem_pub_time"], 1
)
m_l, t_l = lisem_run(
    CONFIGS[1:], LISEM_DT, P["lisem_time"], P["lisem_record"]
)
scores = [episode_score(m_pub[:, 0], SUCC, CYCLE_LEN)] + [
    episode_score(m_l[:, k], SUCC, CYCLE_LEN) for k in range(K - 1)
]
clean_l, trans_l = (
    np.array([c.mean() for _, c in scores]),
    np.array([n.mean() for n, _ in scores]),
)
best = int(
    clean_l[:K0].argmax()
    if clean_l[:K0].max() > 0
    else trans_l[:K0].argmax()
)
# the grid's best setting (shown beside the defaults)
best_grid = 1 + int(
    clean_l[1:K0].argmax()
    if clean_l[1:K0].max() > 0
    else trans_l[1:K0].argmax()
)
# the defaults, seed 0, cue 4: visited memories and the first switch
seq_pub = visited(m_pub[:, 0, 0, :, 4])
b_pub, i_pub = m_pub[:, 0, 0, :, 4].max(dim=1)
switch = ((b_pub >= 0.8) & (i_pub != 4)).nonzero()
t_switch = float(t_pub[switch[0, 0]]) if len(switch) else float("nan")
clean_pub_seed = scores[0][1].mean(1)  # per seed
runtime.glue("a04_lisem_trans", float(trans_l[best]))
runtime.glue("a04_lisem_clean_best", float(clean_l[1:K0].max()))
runtime.glue("a04_lisem_clean_pub", float(clean_l[0]))
runtime.glue("a04_lisem_trans_pub", float(trans_l[0]))
runtime.glue("a04_lisem_switch", t_switch)
runtime.glue("a04_lisem_seq_pub", " → ".join(map(str, seq_pub[:9])))
runtime.glue("a04_lisem_pub_seed0", float(clean_pub_seed[0]))
runtime.glue("a04_lisem_pub_others", float(clean_pub_seed[1:].mean()))
runtime.glue(
    "a04_lisem_pub_other_trans", float(scores[0][0][1:].mean())
)
abl = {
    name: (clean_l[i:j].max(), trans_l[i:j].max())
    for name, i, j in zip(("ac0", "sym", "short"), blocks[1:], blocks[2:])
}
for name, (_, t) in abl.items():
    runtime.glue(f"a04_lisem_trans_{name}", float(t))
print(
    "clean-run fraction per setting:", clean_l[:K0].round(2),
    "\nmean correct transitions:", trans_l[:K0].round(1),
    "\nablations (best clean fraction, most transitions):",
    {
        k: (round(float(c), 2), round(float(t), 1))
        for k, (c, t) in abl.items()
    },
    "\ndefaults: clean runs per seed", clean_pub_seed.round(2),
    f"; seed 0, cue 4: {seq_pub[:9]}..., first switch at t = {t_switch}",
)
report.measure(
    "C3",
    lisem_clean_best=float(clean_l[:K0].max()),
    lisem_transitions_best=float(trans_l[best]),
    lisem_clean_published=float(clean_l[0]),
    lisem_transitions_published=float(trans_l[0]),
    lisem_clean_ac0=float(abl["ac0"][0]),
    lisem_clean_sym=float(abl["sym"][0]),
    lisem_clean_short_Td=float(abl["short"][0]),
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
for ax, k in zip(axs, (0, best_grid)):
    t_k, m_k = (t_pub, m_pub[:, 0]) if k == 0 else (t_l, m_l[:, k - 1])
    for mu in range(M7):
        ax.plot(t_k, m_k[:, 0, mu, 4], color=plots.COLORBLIND[mu], lw=1.3, label=f"memory {mu}")
    g = CONFIGS[k]
    ratio = g["a_c"] * g["beta_d"] / g["a_s"]
    ax.set(xlabel="time", title=rf"LISEM, $a_sN$ = {g['a_s'] * N:.1f}, $a_c\beta_d/a_s$ = {ratio:.2f}, $T_d$ = {g['T_d']:.0f}")
axs[0].set_ylabel(r"overlap with $\tanh(V)$")
axs[1].legend(ncol=2, fontsize=7)
plt.show()

# %% [markdown]
# Whether the published defaults recall an episode depends on the memories drawn. With the
# authors' own memories (seed 0, left) the state holds the cue until $t \approx$
# {glue:text}`a04_lisem_switch:.0f` and then walks the cycle slowly and cleanly
# ({glue:text}`a04_lisem_seq_pub` …): {glue:text}`a04_lisem_pub_seed0:.2f` of its runs give
# three clean cycles in 3000 time units. With the memories of seeds 1 and 2 the runs stop after
# {glue:text}`a04_lisem_pub_other_trans:.1f` correct transitions on average and stay in a
# memory or a mixture (clean runs: {glue:text}`a04_lisem_pub_others:.2f`): the "two
# transitions, then stuck" a review saw. Over the three seeds {glue:text}`a04_lisem_clean_pub:.2f`
# of the runs are clean, short of the rule's 0.9; our re-executions with other seed sets give
# between {glue:text}`a04_lisem_pub_lo:.2f` and {glue:text}`a04_lisem_pub_hi:.2f` (see the
# variation table at the end). The grid's settings switch sooner but start in or
# fall into *mixtures* (several overlaps at intermediate values); its best setting gives
# {glue:text}`a04_lisem_clean_best:.2f` clean runs (right). The best setting overall, the one
# judged, makes {glue:text}`a04_lisem_trans:.1f` correct transitions on average. The ablations
# make at most {glue:text}`a04_lisem_trans_ac0:.1f` ($a_c = 0$),
# {glue:text}`a04_lisem_trans_sym:.1f` (symmetric $\Phi$) and
# {glue:text}`a04_lisem_trans_short:.1f` ($T_d = T_f$) correct transitions. The equation shows why LISEM is fragile: the hidden layer is linear, so the
# delayed drives towards the successors of *all* recently visited memories (the delay trace
# holds several) add up and nothing picks one; in DSEM the softmax picks the largest. Whether
# LISEM recalls an episode depends on the draw of the memories at these settings.


# %% [markdown]
# ## Capacity against the number of neurons (C4)
#
# **C4 uses the book's own protocol, not the authors' experiment.** Their capacity scripts test
# other networks: `capacity_DSEM.py` couples the hidden units directly to each other
# (hidden-to-hidden synapses $200\,\alpha$ along the cycle, a finite hidden time constant) and has
# no delay layer; `capacity_LISEM.py` is a pure asymmetric tanh network
# ($\Xi\,\alpha\Phi\,\Xi^\top$, gain 20, no delay and no self-coupling). Both bisect on $N$ for
# full sequence recall (≥ 5 cycles, ≥ 80 % chain fidelity). Run as shipped (we read its
# `evaluate_at_neurons` in a scratch port), the DSEM script finds no working $\alpha$ at
# $N = M = 16$: the state jumps to another memory every one or two Euler steps, so the search
# reports that 16 memories need more than 16 neurons; at $N = 100$ it succeeds. Our protocol is
# reconstructed [R] and tests the GSEMM mechanism in the adiabatic limit directly. A cycle
# $\xi_1 \to \dots \to \xi_M \to \xi_1$ of $M$ distinct random patterns is stored ($\Phi$ = cyclic shift,
# so $\Phi^\top m$ is a roll of the overlaps), the delay is frozen at memory $\mu$ ($V_d = \xi_\mu$), $V$
# starts at $\xi_\mu$ and relaxes for 150 Euler steps ($dt = 0.1$):
#
# $$\text{DSEM: } V \leftarrow V + dt\,\big(\Xi\,\mathrm{softmax}(\gamma H) - V\big), \qquad
#   \text{LISEM: } V \leftarrow V + dt\,\big(\Xi h - V\big),\ h = a_s \Xi^\top \tanh V + a_c \Phi^\top \Xi^\top \xi_\mu .$$
#
# The transition succeeds if $\operatorname{sign}(V) = \xi_{\mu+1}$ in every entry; the capacity
# $C(N)$ is the largest $M$ with success probability $p(M) \ge 0.9$ (interpolated in $\log M$). DSEM
# uses $a_s = 1$, $a_c = 2$, $\gamma = 0.1$: at $\gamma = 1$ almost all $2^N$ patterns can be chained at
# these small $N$, which hides the growth law behind the number of distinct patterns. LISEM uses
# the same ratio of delayed to self coupling ($a_s = 1/N$, $a_c = 2/N$). For the polynomial DSEM of
# the ICML version [R: its exact form was not recovered] we take $L_h = \lVert h_+ \rVert_n$, so that
# $\sigma_h(h) = h_+^{\,n-1} / \lVert h_+\rVert_n^{\,n-1}$ (bounded; a hard maximum as $n \to \infty$), with
# $n = 3$, for which dense associative memories store $\sim N^{n-1}$ patterns {footcite}`krotov2016dense`.

# %%
def distinct_patterns(N, M, sets, gen):
    """`sets` independent sets of M distinct ±1 patterns (columns): shape
    (sets, N, M)."""
    out = []
    for _ in range(sets):
        if N > 60:  # collisions are impossible in practice
            out.append(
                torch.randint(0, 2, (N, M), generator=gen).to(dev).float()
                * 2 - 1
            )
            continue
        if 2**N <= max(8 * M, 2**16):
            codes = torch.randperm(2**N, generator=gen)[:M]
        else:
            # sample, drop duplicates, pick M at random among the
            # distinct codes
            codes = torch.unique(
                torch.randint(0, 2**N, (2 * M + 16,), generator=gen)
            )
            codes = codes[torch.randperm(len(codes), generator=gen)[:M]]
        # bits on the device
        out.append(
            (
                (
                    codes.to(dev)[None, :]
                    >> torch.arange(N, device=dev)[:, None]
                )
                & 1
            ).float()
            * 2 - 1
        )
    return torch.stack(out)


def sigma_poly(H, n=3):
    """Gradient of L_h = ||h_+||_n: h_+^(n-1) / ||h_+||_n^(n-1), computed
    scale-free."""
    hp = H.clamp(min=0) / H.amax(dim=1, keepdim=True).clamp(min=1e-12)
    return (
        hp ** (n - 1)
        / (hp**n).sum(dim=1, keepdim=True) ** ((n - 1) / n)
    )


# %%
def transition_ok(Xi, mu, model, steps):
    """Adiabatic transition mu -> mu+1 of a stored cycle, for every set and
    every mu: (B, K) bools."""
    B, N, M = Xi.shape
    a_s, a_c = (
        (1 / N, 2 / N) if model == "lisem" else (CAP["a_s"], CAP["a_c"])
    )
    V = Xi[:, :, mu].clone()
    # a_c Phi^T Xi^T V_d, V_d = xi_mu: hidden unit nu gets m_(nu-1)
    drive = a_c * torch.roll(Xi.mT @ V, 1, dims=1)
    for _ in range(steps):
        if model == "lisem":
            V = V + CAP["dt"] * (
                Xi @ (a_s * Xi.mT @ torch.tanh(V) + drive) - V
            )
        else:
            H = a_s**0.5 * Xi.mT @ V + drive
            s = (
                torch.softmax(CAP["gamma"] * H, dim=1)
                if model == "dsem"
                else sigma_poly(H)
            )
            V = V + CAP["dt"] * (a_s**0.5 * Xi @ s - V)
    return (torch.sign(V) == Xi[:, :, (mu + 1) % M]).all(dim=1)


# %%
def success_curve(model, N):
    """p(M) per seed on a sqrt(2)-spaced grid of M, equal tests per M,
    until every seed is below 0.5."""
    grid = sorted(
        {
            round(2 ** (j / 2))
            for j in range(2, 2 * int(math.log2(P["cap_M_max"])) + 1)
        }
    )
    Ms, ps = [], []
    for M in [M for M in grid if M <= 2**N]:
        # more sets for short cycles
        sets = P["cap_sets"] * math.ceil(
            P["cap_transitions"] / min(M, P["cap_transitions"])
        )
        Xi = torch.cat(
            [
                distinct_patterns(
                    N, M, sets, runtime.generator(s, 10_000 * N + M)
                )
                for s in ctx.seeds
            ]
        )
        mu = torch.randperm(
            M, generator=runtime.generator(ctx.seeds[0], 7 * M + N)
        )[: P["cap_transitions"]]
        p = (
            transition_ok(Xi, mu.to(dev), model, P["cap_steps"])
            .float()
            .reshape(S, -1)
            .mean(1)
            .cpu()
        )
        Ms.append(M)
        ps.append(p)
        if (p < 0.5).all():
            break
    return np.array(Ms), torch.stack(ps).numpy()  # (grid,), (grid, seeds)


def capacity(Ms, p, thr=CAP["threshold"]):
    """Largest M with p >= thr before the first drop below thr,
    interpolated in log2 M."""
    below = np.nonzero(p < thr)[0]
    if len(below) == 0:
        return float(Ms[-1])  # censored at the largest M tried
    i = below[0]
    if i == 0:
        return float(Ms[0])
    x0, x1 = math.log2(Ms[i - 1]), math.log2(Ms[i])
    return 2 ** (x0 + (p[i - 1] - thr) / (p[i - 1] - p[i]) * (x1 - x0))


# %%
curves, cap = {}, {}
for model, Ns in (
    ("dsem", P["cap_dsem_N"]),
    ("lisem", P["cap_lisem_N"]),
    ("poly3", P["cap_poly_N"]),
):
    for n in Ns:
        curves[model, n] = success_curve(model, n)
    cap[model] = np.array(
        [
            [
                capacity(curves[model, n][0], curves[model, n][1][:, k])
                for k in range(S)
            ]
            for n in Ns
        ]
    )
    print(
        f"{model:>5} capacity (mean over seeds):",
        {n: round(float(c), 1) for n, c in zip(Ns, cap[model].mean(1))},
    )

# %% [markdown]
# An exponential is a line of $\log_2 C$ against $N$; a power law $C \propto N^k$ a line of $\log_2 C$
# against $\log_2 N$ with slope $k$. A steep power law can mimic an exponential over a finite range,
# so we also compare the log-log slopes of the upper and lower halves of the $N$ range: equal for a
# power law, larger for an exponential (by $\log 2 / \log 1.5 \approx 1.71$ for $N = 8, 16, 24$).
# The control computes the same ratio for the polynomial DSEM, whose capacity should be a power
# law ($\sim N^{n-1}$): it must stay below the threshold.

# %%
def fit(x, y):
    """Least-squares line y = a + b x: slope b and R^2."""
    b, a = np.polyfit(x, y, 1)
    return float(b), float(
        1 - ((y - a - b * x) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    )


# mean over seeds of log2 capacity
logC = {k: np.log2(v).mean(1) for k, v in cap.items()}
Nd, Nl, Np = (np.array(P[f"cap_{k}_N"]) for k in ("dsem", "lisem", "poly"))
bits, r2_exp = fit(Nd, logC["dsem"])


def accel_of(k, Ns):
    """Log-log slope of the capacity over the upper half of the N range,
    divided by the lower half's."""
    local = lambda i, j: (  # noqa: E731
        (logC[k][j] - logC[k][i]) / (np.log2(Ns[j]) - np.log2(Ns[i]))
    )
    return float(local(len(Ns) // 2, len(Ns) - 1) / local(0, len(Ns) // 2))


accel, poly_accel = accel_of("dsem", Nd), accel_of("poly3", Np)
lisem_loglog, _ = fit(np.log2(Nl), logC["lisem"])
lisem_per_neuron, _ = fit(Nl.astype(float), cap["lisem"].mean(1))
shared = sorted(set(Nd) & set(Nl))
beats = float(
    np.mean(
        [
            cap["dsem"][list(Nd).index(n)].mean()
            > cap["lisem"][list(Nl).index(n)].mean()
            for n in shared
        ]
    )
)
poly_loglog, _ = fit(np.log2(Np), logC["poly3"])
report.measure(
    "C4",
    dsem_r2_exp=r2_exp,
    dsem_accel=accel,
    lisem_loglog_dev=abs(lisem_loglog - 1),
    dsem_beats_lisem=beats,
    dsem_bits_per_neuron=bits,
    lisem_per_neuron=lisem_per_neuron,
    poly3_loglog=poly_loglog,
    poly3_accel=poly_accel,
)
for name, v in (
    ("bits", bits), ("r2", r2_exp), ("accel", accel),
    ("lisem_ll", lisem_loglog), ("lisem_pn", lisem_per_neuron),
    ("poly_ll", poly_loglog), ("poly_accel", poly_accel),
):
    runtime.glue(f"a04_{name}", float(v))
print(
    f"DSEM: {bits:.2f} bits/neuron (R² {r2_exp:.3f}), "
    f"log-log slope grows x{accel:.2f}; "
    f"LISEM: log-log slope {lisem_loglog:.2f}, "
    f"{lisem_per_neuron:.3f} memories/neuron; "
    f"polynomial n=3: log-log slope {poly_loglog:.2f}"
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(12, 3.4))
for i, n in enumerate(Nd):
    axs[0].plot(curves["dsem", n][0], curves["dsem", n][1].mean(1), "o-", ms=3, color=plots.COLORBLIND[i], label=f"DSEM N={n}")
for i, n in enumerate(Nl[:3]):
    axs[0].plot(curves["lisem", n][0], curves["lisem", n][1].mean(1), "s--", ms=3, color=plots.COLORBLIND[i + 5], label=f"LISEM N={n}")
axs[0].axhline(CAP["threshold"], color="k", lw=0.8)
axs[0].set(xscale="log", xlabel="memories in the cycle M", ylabel="P(transition correct)", title="(a) single transitions")
axs[0].legend(fontsize=6, ncol=2)
styles = (("dsem", Nd, "o", "DSEM (softmax)"), ("poly3", Np, "^", "DSEM, polynomial n=3"), ("lisem", Nl, "s", "LISEM"))
for ax, xlog in ((axs[1], False), (axs[2], True)):
    for (k, Ns, mk, name), c in zip(styles, plots.COLORBLIND):
        ax.plot(Ns, 2 ** logC[k], mk + "-", color=c, ms=4, label=name)
        ax.plot(np.repeat(Ns, S), cap[k].flatten(), mk, color=c, alpha=0.3, ms=3)
    ax.set(yscale="log", xscale="log" if xlog else "linear", xlabel="neurons N", ylabel="capacity C (p ≥ 0.9)")
axs[1].set(title="(b) log C against N: exponential = line", xlim=(0, 70))
axs[2].set(title="(c) log C against log N: power law = line")
axs[2].legend(fontsize=7)
plt.show()

# %% [markdown]
# Panel (a) has the shape of the claim: DSEM's success stays at 1 up to a sharp, $N$-dependent
# edge, LISEM's falls early. DSEM's capacity grows by {glue:text}`a04_bits:.2f` bits per neuron
# ($R^2$ = {glue:text}`a04_r2:.3f` for a line in panel b) and its log-log slope grows
# {glue:text}`a04_accel:.2f`-fold from the lower to the upper half of the range, as an exponential
# should. LISEM's log-log slope is {glue:text}`a04_lisem_ll:.2f` (about {glue:text}`a04_lisem_pn:.3f`
# memories per neuron): linear up to the logarithmic factor of exact recall in Hopfield networks.
# The polynomial variant sits in between with a log-log slope of {glue:text}`a04_poly_ll:.2f`,
# close to the $N^{n-1} = N^2$ of dense associative memories, and its slope ratio, the control,
# is {glue:text}`a04_poly_accel:.2f`.

# %% [markdown]
# ## Learning the order online (C5)
#
# The learning rule descends the energy in the synapses, contrasting the state the network
# should be in (the presented pattern $x$ and its hidden code $s^* = \mathrm{softmax}(\gamma\sqrt{a_s}\,\Xi^\top x)$)
# with the state it is in ($V$, $s$) [C: the authors' C++ `ExpSM`; we derive it from $E$ rather
# than copy its constants]. With $\partial E/\partial \Phi = -a_c\,(\Xi^\top V_d)\, s^\top$ and
# $\partial E/\partial \Xi = -\sqrt{a_s}\,V s^\top - a_c\,V_d\,(\Phi s)^\top$,
#
# $$T_\Phi\,\dot\Phi = a_c\,(\Xi^\top V_d)\,(s^* - s)^\top, \qquad
#   T_\Xi\,\dot\Xi = \sqrt{a_s}\,(x\,s^{*\top} - V s^\top) + a_c\,V_d\,\big(\Phi (s^* - s)\big)^\top .$$
#
# $\dot\Phi_{\kappa\nu}$ multiplies the *delayed* (presynaptic) activity of memory $\kappa$ by the error
# of memory $\nu$: if $\kappa$ was active just before $\nu$ should be, the synapse $\kappa \to \nu$ grows
# (pre before post: potentiation, as in STDP {footcite}`bi1998synaptic`). The pattern also enters the
# feature layer as a weak current $x$ (as in the C++ code), too weak to move the state by itself:
# the network follows the presented sequence only once $\Phi$ has learned to carry it. Settings
# [R]: $N = 50$, $L = 6$ patterns, 500 Euler steps each ($dt = 10^{-3}$, $T_f = 0.005$, $T_d = 0.125$,
# $a_c = 2$, $T_\Phi = 1$), 3 epochs. $T_f$, $a_c$ and $T_\Phi$ lie within the ranges of the
# authors' random search; the other learning settings lie **outside** them: 500 steps per
# pattern (theirs 1000–2000), $T_d = 25\,T_f$ (theirs $50\,T_f$), $T_\Xi = 0.1$ (C6; theirs 1–101 in
# the 20-epoch scripts; only a single-pass script draws it from 0–7) and 3 epochs (theirs 20).
# The rule itself differs in two
# ways: the authors drive the hidden layer with $\tanh(V_d)$ (and $a_s\,\Xi^\top V$ in place of
# $\sqrt{a_s}$), and their $\Xi$ rule carries a factor $1 + \sqrt{a_s}$ on its first term.
# **Every epoch starts from rest** ($V = V_d = 0$), as the C++ code resets its states; this is
# the protocol C5 is judged on. A second group starts each epoch at the first pattern (our
# earlier protocol, reported beside the verdict). The control group starts from rest too and
# learns the same patterns presented in a new random order every epoch, so that no order is
# there to be learned, and is scored against the
# order $0, 1, \dots, L-1$ like the others.

# %%
def learn_online(
    X, Xi, Phi, p, epochs, steps, learn_xi, start, orders=None
):
    """Present the columns of X (B, N, L) in order, descending E in Phi
    (and Xi); start (B,1,1): 1 = first item, 0 = rest.

    orders (epochs, B, L): the presentation order of each epoch and
    network (None: 0, 1, ..., L-1).
    """
    B, N, L = X.shape
    sq, dt = p["a_s"] ** 0.5, p["dt"]
    for e in range(epochs):
        Xe = (
            X
            if orders is None
            else torch.gather(X, 2, orders[e][:, None, :].expand(B, N, L))
        )
        V, Vd = Xe[:, :, :1] * start, torch.zeros(B, N, 1, device=X.device)
        for mu in range(L):
            # presented pattern: target state and weak input current
            x = Xe[:, :, mu : mu + 1]
            for _ in range(steps):
                # current, delayed, presented
                m, md, mx = (Xi.mT @ torch.cat([V, Vd, x], dim=2)).split(
                    1, dim=2
                )
                s = torch.softmax(
                    p["gamma"] * (sq * m + p["a_c"] * Phi.mT @ md), dim=1
                )
                s_star = torch.softmax(p["gamma"] * sq * mx, dim=1)
                # postsynaptic error; md is the presynaptic (delayed)
                # activity
                err = s_star - s
                if learn_xi:
                    Xi = Xi + dt / p["T_xi"] * (
                        sq * (x @ s_star.mT - V @ s.mT)
                        + p["a_c"] * Vd @ (Phi @ err).mT
                    )
                Phi = Phi + dt / p["T_phi"] * p["a_c"] * md @ err.mT
                V, Vd = (
                    V + dt * ((sq * Xi @ s - V) / p["T_f"] + x),
                    Vd + dt * (p["beta_d"] * V - Vd) / p["T_d"],
                )
    return Xi, Phi


def recall(X, Xi, Phi, p, steps, every=10):
    """Cue with the first pattern, no input; overlaps with every pattern
    over time: (T, B, L)."""
    V, Vd, out = X[:, :, :1].clone(), torch.zeros_like(X[:, :, :1]), []
    for i in range(steps):
        if i % every == 0:
            out.append((X.mT @ V)[..., 0].cpu() / X.shape[1])
        s = torch.softmax(
            p["gamma"]
            * (
                p["a_s"] ** 0.5 * Xi.mT @ V
                + p["a_c"] * Phi.mT @ (Xi.mT @ Vd)
            ),
            dim=1,
        )
        V, Vd = (
            V + p["dt"] * (p["a_s"] ** 0.5 * Xi @ s - V) / p["T_f"],
            Vd + p["dt"] * (p["beta_d"] * V - Vd) / p["T_d"],
        )
    return torch.stack(out)


# %%
L, nets, Nl_ = P["learn_L"], P["learn_nets"], LEARN["N"]
X_seq = torch.cat(
    [
        torch.randint(
            0, 2, (2 * nets, Nl_, L), generator=runtime.generator(s, 3)
        )
        for s in ctx.seeds
    ]
).to(dev) * 2.0 - 1
# per seed: first-item group, rest group (the protocol judged)
start = torch.tensor(
    [1.0] * nets + [0.0] * nets, device=dev
).repeat(S)[:, None, None]
cue_grp = start.flatten().cpu().numpy() == 1
rest_grp = torch.from_numpy(~cue_grp).to(dev)
# + control group: the rest group's patterns, starting from rest
X_all = torch.cat([X_seq, X_seq[rest_grp]])
# the control's orders: a new permutation per epoch and network
gens = [runtime.generator(s, 5) for s in ctx.seeds]
orders = torch.stack(
    [
        torch.cat(
            [torch.arange(L).expand(len(X_seq), L)]
            + [
                torch.stack(
                    [torch.randperm(L, generator=g) for _ in range(nets)]
                )
                for g in gens
            ]
        )
        for _ in range(P["learn_epochs"])
    ]
).to(dev)  # (epochs, B, L)
_, Phi_l = learn_online(
    X_all,
    X_all.clone(),
    torch.zeros(len(X_all), L, L, device=dev),
    LEARN,
    P["learn_epochs"],
    P["learn_steps"],
    learn_xi=False,
    start=torch.cat([start, torch.zeros(S * nets, 1, 1, device=dev)]),
    orders=orders,
)
m_rec = recall(X_all, X_all, Phi_l, LEARN, (L + 2) * P["learn_steps"])
ok_all = np.array(
    [
        visited(m_rec[:, b])[:L] == list(range(L))
        for b in range(len(X_all))
    ],
    dtype=float,
)
rows_all = (
    (Phi_l[:, : L - 1].argmax(dim=2).cpu() == torch.arange(1, L))
    .float()
    .mean(1)
    .numpy()
)
per_seed = lambda v: v.reshape(S, nets).mean(1).tolist()  # noqa: E731
grp = lambda v: (  # noqa: E731
    v[: 2 * S * nets].reshape(S, 2, nets)[:, 0].flatten(),
    v[: 2 * S * nets].reshape(S, 2, nets)[:, 1].flatten(),
    v[2 * S * nets :],
)
(order_cue, order_rest, order_shuf), (rows_cue, rows_rest, rows_shuf) = (
    grp(ok_all),
    grp(rows_all),
)
report.measure(
    "C5",
    recall_in_order=per_seed(order_rest),
    rows_next=per_seed(rows_rest),
    recall_first_item=per_seed(order_cue),
    recall_shuffled=per_seed(order_shuf),
    rows_next_shuffled=per_seed(rows_shuf),
)
for name, v in (
    ("order", order_rest), ("first", order_cue), ("shuf", order_shuf),
    ("rows", rows_rest), ("rows_first", rows_cue),
    ("rows_shuf", rows_shuf),
):
    runtime.glue(f"a04_c5_{name}", float(v.mean()))
print(
    f"recall in order: {order_rest.mean():.2f} (epochs start at rest), "
    f"{order_cue.mean():.2f} (start at the first item), "
    f"{order_shuf.mean():.2f} (order reshuffled every epoch); "
    "rows of Phi peaking at the next memory: "
    f"{rows_rest.mean():.2f} (first item: {rows_cue.mean():.2f}, "
    f"reshuffled: {rows_shuf.mean():.2f})"
)

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3), width_ratios=[1, 3])
axs[0].imshow(Phi_l[nets].cpu(), **plots.signed_limits(Phi_l[nets].cpu()))  # seed 0, first network of the rest group
axs[0].set(title=r"learned $\Phi$ ($\kappa \to \nu$)", xlabel=r"$\nu$", ylabel=r"$\kappa$")
axs[0].grid(False)
for mu in range(L):
    axs[1].plot(np.arange(m_rec.shape[0]) * 10 * LEARN["dt"], m_rec[:, nets, mu], color=plots.COLORBLIND[mu], label=f"pattern {mu}")
axs[1].set(xlabel="time (recall, no input)", ylabel="overlap", title="recall from pattern 0 after online learning")
axs[1].legend(ncol=3, fontsize=7)
plt.show()

# %% [markdown]
# The learned $\Phi$ is the chain: the largest entry of each row sits one step to the right, and the
# diagonal is negative (the rule *depresses* a memory's synapse onto itself when it outstays its
# presentation). With every epoch starting from rest, as in the C++ code, recall replays the
# presented order in {glue:text}`a04_c5_order:.2f` of the networks and
# {glue:text}`a04_c5_rows:.2f` of the rows peak at the next memory. From rest the state can
# first fall into a wrong memory, and the rule then dutifully learns that spurious transition;
# starting each epoch at the first item (our earlier protocol) avoids this and replays the order
# in {glue:text}`a04_c5_first:.2f` of the networks (rows: {glue:text}`a04_c5_rows_first:.2f`).
# The control, the same patterns in a new order every epoch from rest, replays $0, 1, \dots$ in
# {glue:text}`a04_c5_shuf:.2f` of the networks and its rows peak at the next memory in
# {glue:text}`a04_c5_rows_shuf:.2f` of the
# cases (chance is $1/L$): what the rule stores is the order it was shown.
#
# ## Learning the memories as well (C6)
#
# Now $\Xi$ starts random (entries $\mathcal N(0, 1/N^2)$, as in the C++ code) with $M = 2L$ hidden
# units and both rules run together, with $T_\Xi = 0.1$ [R: a learning rate chosen after a short
# scan; the research notes found this part to need tuning]. A pattern counts as learned when
# some column of $\Xi$ has cosine similarity ≥ 0.95 with it.

# %%
# the same patterns as the first-item group above
X6 = X_seq[torch.from_numpy(cue_grp).to(dev)]
Xi0 = torch.cat(
    [
        torch.randn(nets, Nl_, 2 * L, generator=runtime.generator(s, 4))
        for s in ctx.seeds
    ]
).to(dev) / Nl_
Xi_6, Phi_6 = learn_online(
    X6,
    Xi0,
    torch.zeros(len(X6), 2 * L, 2 * L, device=dev),
    LEARN,
    P["learn_epochs"],
    P["learn_steps"],
    learn_xi=True,
    start=torch.ones(len(X6), 1, 1, device=dev),
)
cosine = lambda Xi: torch.nn.functional.cosine_similarity(  # noqa: E731
    X6[:, :, :, None], Xi[:, :, None, :], dim=1
).cpu()
cos = cosine(Xi_6)  # (B, L, 2L)
best_cos = cos.max(dim=2).values
m6 = recall(X6, Xi_6, Phi_6, LEARN, (L + 2) * P["learn_steps"])
order6 = np.array(
    [visited(m6[:, b])[:L] == list(range(L)) for b in range(len(X6))],
    dtype=float,
)
captured = float((best_cos >= 0.95).float().mean())
# control: the untrained Xi
captured_init = (
    (cosine(Xi0).max(dim=2).values >= 0.95).float().mean(1).numpy()
)
report.measure(
    "C6",
    captured=per_seed((best_cos >= 0.95).float().mean(1).numpy()),
    recall_in_order=per_seed(order6),
    mean_best_cosine=per_seed(best_cos.mean(1).numpy()),
    captured_init=per_seed(captured_init),
)
runtime.glue("a04_c6_captured", captured)
runtime.glue("a04_c6_init", float(captured_init.mean()))
runtime.glue("a04_c6_order", float(order6.mean()))
runtime.glue("a04_c6_low", float((best_cos < 0.5).float().mean()))
print(
    f"patterns captured: {captured:.2f} "
    f"(mean best cosine {best_cos.mean():.2f}); "
    f"recall in order: {order6.mean():.2f}"
)

# %% tags=["hide-input"]
b6 = int(np.argmax(best_cos.mean(1).numpy()))  # the best-learned network, to show what success looks like
fig, axs = plt.subplots(1, 2, figsize=(10, 3), width_ratios=[2, 3])
im = axs[0].imshow(cos[b6], vmin=-1, vmax=1, cmap=plots.DIVERGING)
axs[0].set(xlabel=r"hidden unit (column of $\Xi$)", ylabel="pattern", title="cosine(pattern, learned column)")
axs[0].grid(False)
fig.colorbar(im, ax=axs[0])
axs[1].hist(best_cos.flatten().numpy(), bins=np.linspace(0, 1, 41), color=plots.COLORBLIND[0])
axs[1].axvline(0.95, color="k", lw=0.8)
axs[1].set(xlabel="best cosine per pattern", ylabel="patterns", title=f"all {len(X6)} networks")
plt.show()

# %% [markdown]
# The rule does learn memories: {glue:text}`a04_c6_captured:.2f` of the patterns end up as a hidden
# column (cosine ≥ 0.95; left: the best network, right: all), against
# {glue:text}`a04_c6_init:.2f` for the random columns it starts from (the control). The rest are blends (one column
# shared by two patterns) or missing ({glue:text}`a04_c6_low:.2f` of the patterns have no column
# with cosine ≥ 0.5): the classic failure of competitive learning, where the softmax over tiny,
# nearly equal columns hardly discriminates at first, so an early winner takes a second pattern.
# Recall then replays the whole order in only {glue:text}`a04_c6_order:.2f` of the networks:
# memories and order together need the tuning the authors did by random search.

# %% [markdown]
# ## Checks that do not depend on the run
#
# The graph, the orientation of $\Phi$, and the DSEM energy identity on a tiny fixed instance:
# the term-by-term energy equals $\tfrac12\lVert V\rVert^2 - \gamma^{-1}\log\sum e^{\gamma H}$, and the
# authors' expression differs from it by exactly $(a_c - 1)\,V_d^\top\Xi\Phi\sigma_h$.

# %% tags=["nbval-check-output"]
print("edges mu -> nu:", [tuple(e) for e in Phi_graph.nonzero().tolist()])
print(
    "hidden unit driven by a delay at memory mu:",
    (Phi_graph.mT @ torch.eye(M7, device=dev)).argmax(0).tolist(),
)
extra = (DSEM["a_c"] - 1) * (mdt * (Pt @ torch.softmax(Ht, 1))).sum(1)
print(
    "E term by term == closed form:",
    torch.allclose(dsem_energy(Vt, mdt, Xt, Pt, DSEM), closed, atol=1e-9),
)
print(
    "authors' E - ours == (a_c - 1) Vd^T Xi Phi s:",
    torch.allclose(
        dsem_energy(Vt, mdt, Xt, Pt, DSEM, 1.0) - closed, extra, atol=1e-9
    ),
)
print(
    "episode memories (N, M):", tuple(Xi_ep.shape[1:]),
    "| LISEM settings:", len(LISEM_GRID),
)
print("DSEM:", DSEM, "\ncapacity test:", CAP, "\nlearning:", LEARN)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count before the book's comparison fails. We re-executed
# the ci profile with 1 and 2 threads (seeds 0–2) and with two other seed sets (3–5 and 6–8), and
# chose each `tol` ≥ max(3 × the change between thread paths, the change between seed sets),
# rounded up to a 1-2-5 step; 0 means the value must be reproduced exactly (the closed-form
# error of C1a, a float64 round-off, gets 1e-12 instead of its measured 0). The table shows
# both changes beside the declared `tol` and every verdict seen across the four runs; the cell
# fails if a `tol` is smaller than the change between thread paths.

# %%
import json
from pathlib import Path

vpath = Path("../../data/a04_variation.json")
poly_runs = {"none": float("nan")}  # while the table is being remade
if vpath.exists():
    variation = json.loads(vpath.read_text(encoding="utf-8"))
    poly_runs = next(
        r for r in variation["checks"] if r["check"] == "poly3_accel"
    )["values"]
runtime.glue("a04_poly_accel_lo", min(poly_runs.values()))
runtime.glue("a04_poly_accel_hi", max(poly_runs.values()))
pub_runs = {"none": float("nan")}
if vpath.exists():
    pub_runs = next(
        r
        for r in variation["checks"]
        if r["check"] == "lisem_clean_published"
    )["values"]
runtime.glue("a04_lisem_pub_lo", min(pub_runs.values()))
runtime.glue("a04_lisem_pub_hi", max(pub_runs.values()))
report.tolerances("../../data/a04_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (ci profile: a miniature).** The DSEM episode runs 250 time units (the notebook:
#   583), LISEM's grid 600 and its published defaults 3000; capacity for $N \le 24$ (DSEM),
#   $\le 256$ (LISEM), $\le 32$ (polynomial), 2 pattern sets per seed; online learning with
#   $L = 6$, 8 networks per seed, 3 epochs. The `full` profile (episodes of 600, 2000 and 6000
#   time units, $N$ up to 40 / 2048 / 128, $M \le 2^{18}$, $L = 10$, 64 networks per seed, 10
#   epochs) runs the same code on a GPU; it has not been executed for this version of the chapter.
# - **Two values of $a_c$.** The notebook's parameter cell says $a_c = 4.9$; its saved outputs
#   (and the figure files it writes) were made with $a_c = 0.7$: our port of the authors' update
#   reproduces their saved $\langle|V|\rangle$ at $t = 10$ to round-off at 0.7 only, and the dwell
#   time at 0.7 predicts their 48 transitions. C2b (0.7) is the paper's run; C2a (4.9) is what
#   the notebook gives when re-run.
# - **Reconstructed [R].** The paper's text was not available. The capacity protocol, the form
#   of the polynomial activation ($L_h = \lVert h_+\rVert_n$), the LISEM grid, the integration
#   steps and the learning settings are ours; the table below lists every difference from the
#   authors' code we know of.
# - **A bug in the authors' code.** DSEM's `get_energy` omits $a_c$ on its last term; the result is
#   not a Lyapunov function (it rises at memory switches at $a_c = 4.9$; at 0.7, the paper's run,
#   we saw no rise). With the factor restored the energy is exactly
#   $\tfrac12\lVert V\rVert^2 - \gamma^{-1}\mathrm{lse}(\gamma H)$ and never rises. The claims do not
#   depend on the bug.
# - **Not reproduced.** LISEM episodes (C3): the published defaults recall clean cycles for the
#   authors' memories (seed 0) but stop after a few transitions for other draws, and no setting
#   of our grid reaches the rule; the paper's LISEM parameters are in a notebook we could not
#   read. Learning the order from rest (C5): the learned $\Phi$ is the chain, but recall replays
#   the whole order in fewer networks than the rule asks. Learning memories and order together
#   (C6): neither the memories (the notes ask for every pattern) nor the order.
# - **Rules changed in this revision (issue 16), all before the runs they judge.** C2 is judged
#   at both values of $a_c$ (C2a, C2b) with the rules it had, over longer windows (250 time units
#   instead of 70, which at $a_c = 0.7$ would have shown too few transitions). Each ablation is
#   now a control of the sequence rule ($T_d = T_f$ also of the plateau rules); C1b adds the
#   moving minimum at 0.7 and its symmetric-$\Phi$ control; C3 adds the symmetric-$\Phi$ and
#   short-delay controls and judges the published defaults over a window where they switch. C5 is
#   judged on epochs that start from rest, the authors' protocol (it was judged on epochs starting
#   at the first pattern, where it passed; that value is now context). C4's text says that it
#   uses our protocol. Earlier revisions split C1 into a construction and an empirical claim,
#   judged C3 on LISEM alone, added the notes' rule to C2 and restored the notes' rule to C6.
# - **Knife edges.** C2a's plateau fraction (threshold ½, fixed before measuring) passes by less
#   than its spread over seeds and is marked fragile; at $a_c = 0.7$ (C2b) it passes with a wide
#   margin. C5's recall from rest fails by less than its spread over seeds (with 8 networks per
#   seed one network moves a seed's value by 0.125; other seed sets give up to 0.875). C4's control is not robust at this scale:
#   over the four re-executions the polynomial DSEM's slope ratio ranges from
#   {glue:text}`a04_poly_accel_lo:.2f` to {glue:text}`a04_poly_accel_hi:.2f`; above the threshold
#   of 1.3 the control passes and C4 is *inconclusive* instead of reproduced. With three values
#   of $N$ and two pattern sets per seed the slope ratio cannot reliably tell an exponential from
#   a power law; more $N$ and more pattern sets (the full profile) are needed.
# - **Capacity numbers.** The paper's capacity figure could not be compared number by number; we
#   test growth laws (exponential for DSEM, near-linear for LISEM, $\approx N^2$ for the polynomial
#   variant with $n = 3$), not their constants, which depend on $\gamma$, $a_c$ and the criterion.
#
# ## Versus the authors' code
#
# Read from `arjun23496/gsemm` (the DSEM notebook, the network classes, the capacity scripts)
# and `arjunkaruvally/EDEN_cpp` (`ExpSM`, the cluster scripts of its random search).
#
# | | authors' code | this chapter | | what follows |
# |---|---|---|---|---|
# | DSEM equations | $H = \sqrt{a_s}\Xi^\top V + a_c\Phi^\top\Xi^\top V_d$, softmax hidden layer, $T_d\dot V_d = \beta_d V - V_d$ | the same | same | — |
# | $a_c$ (episode) | 4.9 in the parameter cell; 0.7 in the saved outputs | both | same | C2a, C2b |
# | episode integrator | RK4 on $V$ at frozen $V_d$, then on $V_d$; $dt = 0.01$, 583 time units | RK4 on $(V, V_d)$ jointly, $dt = 0.05$, 250 time units | different | a scratch comparison at $dt = 0.01$ gave the same transitions and plateau fractions within 0.003 |
# | episode readout | argmax of overlaps at every sample, de-duplicated | the same where $\max_\mu m_\mu \ge 0.8$ | different | stricter: mixtures do not count as visits |
# | DSEM energy | `get_energy` without $a_c$ on its last term | with $a_c$ | different (bug) | rises at 4.9 only (C1a context) |
# | LISEM | the same equations and defaults; notebook listed, file absent from our copy | defaults + our grid | partly | paper's LISEM settings unknown |
# | DSEM capacity | `capacity_DSEM.py`: hidden-to-hidden coupling, no delay layer, bisection on $N$; fails at $N = M = 16$ | adiabatic single transitions of the GSEMM at frozen delay | different | C4 tests our protocol, not their figure |
# | LISEM capacity | `capacity_LISEM.py`: a pure asymmetric tanh network, gain 20, no delay | LISEM at frozen delay | different | as above |
# | hidden drive in learning | $a_s\Xi^\top V + a_c\Phi^\top\Xi^\top\tanh(V_d)$ | $\sqrt{a_s}\Xi^\top V + a_c\Phi^\top\Xi^\top V_d$ | different | rule derived from our energy |
# | $\Phi$ rule | $a_c(\Xi^\top V_d)(s^* - s)^\top / T_\Phi$ | the same form | same | — |
# | $\Xi$ rule | $(1 + \sqrt{a_s})(x s^{*\top} - V s^\top) + a_c V_d (s^* - s)^\top\Phi^\top$ | $\sqrt{a_s}(x s^{*\top} - V s^\top) + a_c V_d (s^* - s)^\top\Phi^\top$ | different | first term half as strong at $a_s = 1$ |
# | learning settings | random search: $T_f \in [0.001, 0.011]$, $T_d = 50\,T_f$, $T_\Xi, T_\Phi \in [1, 101]$, $a_c \in [0.01, 3]$, 1000–2000 steps per memory, 20 epochs (a single-pass script: $T_\Xi, T_\Phi \in [0, 7]$, 1000–3000 steps) | $T_f = 0.005$, $a_c = 2$, $T_\Phi = 1$ inside; $T_d = 25\,T_f$, $T_\Xi = 0.1$, 500 steps, 3 epochs outside | different | C5 and C6 test our settings, not theirs |
# | epoch start | states reset to rest every epoch | rest (C5, judged); first pattern (C5 context, C6) | same for C5 | C6 still starts at the first pattern |

# ## References
#
# ```{footbibliography}
# ```
