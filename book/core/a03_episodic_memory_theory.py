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
# # A03 · Episodic Memory Theory: the mechanistic interpretation of RNNs
#
# Karuvally, Delmastro and Siegelmann {footcite}`karuvally2023emt` read a recurrent network as a
# memory model: the columns of a matrix $\Xi$ are stored memories, a matrix $\Phi$ says which
# memory follows which, and the recurrent weights are $W_{hh} = \Xi \Phi \Xi^{+}$. This is the
# discrete-time limit of the General Sequential Episodic Memory Model (GSEMM)
# {footcite}`karuvally2023general`. On a family of *variable-binding* tasks the theory gives an exact
# circuit (a block shift that stores the variables plus a boundary block that composes them),
# and the paper reports that trained Elman RNNs {footcite}`elman1990finding` converge to it. A
# *privileged basis* built from the trained weights then shows which directions of the hidden
# state hold which variable. This chapter derives the reduction, builds the circuit, trains
# batched bias-free RNNs on the four tasks at the paper's ratios of hidden size to circuit size
# and at three L2 strengths (the structure of the paper's Table 1, in miniature), and
# implements the basis with the authors' rank reduction, so that it can be tested on the
# compose tasks, where it can fail. We worked from the abstract and the authors' public code,
# notes and notebooks; what comes from there rather than from the paper's text is marked
# [reconstructed], and a table at the end sets our choices beside their code.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# C1 is a construction (an exact equivalence, verified rather than reproduced); C2–C6 are
# empirical, each with a negative control.
#
# - **C1** "RNNs can be conceptualized as discrete-time analogs of the recently proposed General
#   Sequential Episodic Memory Model": GSEMM with an instantaneous hidden layer and a fast delay
#   is a bias-free RNN with $W_{hh} = \Xi \Phi \Xi^{+}$ (paper: derivation, no number).
# - **C2** "a novel set of algorithmic tasks tailored to probe the variable binding behavior":
#   trained RNNs solve T1–T4 and generalise to horizon 200 (paper Table 1: mean best test
#   accuracy 0.98–1.00 at hidden 128 = 2sd, L2 = 0).
# - **C3** "trained RNNs consistently converge to the variable binding circuit, thus indicating
#   universality": learned spectra match $\Phi$ (paper Table 1: mean spectral error
#   0.0005–0.0055 rad at hidden 128, L2 = 0).
# - **C4** the L2 column of Table 1: L2 = 0.1 breaks binding (accuracy 0.50, "—" for every
#   task), while L2 = 1e-3 mostly does not.
# - **C5** "an algorithm to define a privileged basis, which reveals hidden neurons instrumental
#   in the temporal storage and composition of variables" (paper Figs. 3–4: $\Psi^* W_{hh} \Psi$
#   shows the shift and boundary blocks; the input "315" moves between variable subspaces).
# - **C6** "the privileged basis enhances the interpretability of the learned parameters and
#   hidden states" (paper: qualitative; we add a number).
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
import matplotlib.pyplot as plt
import numpy as np
import torch

from rnnbook import analysis, claims, models, plots, runtime, tasks, train

ctx = runtime.setup("a03", default_seeds={"ci": [0, 1], "full": [0, 1, 2]})
plots.use_style()
print(ctx.describe())

# %% [markdown]
# The paper's Table 1 names its tasks T1–T4 in the order of its results file: repeat copy,
# then *compose copy*, then two composed variants. The authors' demo notebook (and this book's
# `tasks.PAPER_TASKS`) calls the variant `(…, 262676, 189)` T2 and compose copy T3; we follow
# Table 1, since its numbers are the ones we compare with.

# %%
# Table 1's rows [authors' Table-1 notebook: its task list, in order]
TABLE1_IDS = {
    "T1": (255, 0, 0),  # repeat copy
    "T2": (9241421688590303745, 0, 0),  # compose copy
    "T3": (9241421688590303745, 262676, 189),
    "T4": (9241421688590303745, 38637, 145),
}
assert set(TABLE1_IDS.values()) == set(tasks.PAPER_TASKS.values())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(
        d=4, s=4,
        # (hidden, L2 values, max steps): one batched model each.
        # hidden sd/2, sd, 2sd as the paper's 32, 64, 128 at sd = 64
        stacks=[
            (32, (0.0, 1e-3), 1200), (16, (0.0,), 1000),
            (8, (0.0,), 600), (32, (0.1,), 300),
        ],
        task_ids={
            "T1": (15, 0, 0), "T2": (33825, 0, 0),
            "T3": (33825, 6, 9), "T4": (33825, 5, 5),
        },
        lr=3e-3, batch=64, horizons=(10, 20, 40),
        threshold=0.96, stop_mse=0.01, patience=20,
        test_horizon=200, test_batches=8, probe_batch=256,
        gsemm_N=24,
        glyph=["####", "...#", "..#.", ".#.."],
    ),
    full=dict(
        d=8, s=8,
        stacks=[
            (128, (0.0, 1e-3), 3000), (64, (0.0, 1e-3), 3000),
            (32, (0.0, 1e-3), 3000), (128, (0.1, 10.0), 3000),
        ],
        task_ids=TABLE1_IDS,
        lr=1e-3, batch=64, horizons=(10, 20, 40, 60, 100),
        threshold=0.96, stop_mse=0.01, patience=50,
        test_horizon=200, test_batches=8, probe_batch=256,
        gsemm_N=96,
        glyph=[
            "##.#.##.", ".#.#.#..", "##.#.##.", ".#.#..#.",
            "##.#.##.", "........", "........", "........",
        ],
    ),
)  # fmt: skip
d, s = P["d"], P["s"]
stacks = [(h, tuple(l2s), n) for h, l2s, n in P["stacks"]]
n_mem = s * d  # number of variable memories: s subspaces of d dimensions
big = max(h for h, _, _ in stacks)  # 2sd: the paper's hidden 128
strong_l2 = [l2 for h, l2s, _ in stacks if h == big for l2 in l2s]
strong_l2 = [l2 for l2 in strong_l2 if l2 >= 0.1]

# %% [markdown]
# All claims, their kinds and their checks are fixed here, before any experiment. C1 is a
# *construction* (an exact equivalence: verified, not counted as a reproduction). C2–C6 are
# *empirical*. Thresholds follow the paper where it gives one: the authors' Table-1 notebook
# analyses a run when its test accuracy exceeds 0.9; chance is 0.5. The 2° (0.035 rad) angle
# bound is three times the largest Table-1 error (0.0112 rad). The correlation bounds for the
# privileged basis (0.9) are those this chapter used for repeat copy before it had the rank
# reduction, now required on every task. C6's concentration bar (0.8) is ours: a column whose
# largest entry carries 80 % of its energy names one memory; its gain bar (2) is the one this
# chapter used before. Every empirical claim carries *negative controls*:
# the same statistic, under the same rule, on models where it must fail (the networks before
# training; a random $W_{hh}$ with the trained spectral radius; for C4, the networks without
# L2). A control that passes makes the verdict "inconclusive". No claim declares a partial
# rule. Per-seed values are reduced over tasks (worst task for C2, C3, C5, C6; best task for
# C4) and judged by their worst seed (`over="min"`/`"max"`).
#
# **Runs of their own.** A03 trains its own networks: hidden sizes $sd/2$, $sd$, $2sd$ (A01
# trains $4sd$), its own initial-weight seeds ($3000 +$ seed) and data streams. No run is
# shared with chapter A01: where the two chapters agree, they agree on different networks.
# (Earlier versions retrained A01's eight hidden-64 networks here, so A01 C4 and A03 C2/C3
# judged the same runs three times; C2 and C3 below are decided on A03's own runs.)

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Episodic Memory Theory: the mechanistic interpretation of RNNs")
ev, ctl, cx = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "RNNs are discrete-time analogs of GSEMM: instantaneous hidden layer + fast delay give "
    "h(t+1) = σ(Ξ Φ Ξ⁺ h(t)).",
    kind="construction", paper="derivation (no number)",
    checks=[
        ev("gsemm_vs_rnn", "<", 1e-6, "relaxed GSEMM step vs RNN step, 10 steps", tol=2e-9),
        ev("circuit_vs_task", "<", 1e-9, "circuit RNN vs task recursion, 100 steps", tol=1e-13),
    ],
)
report.claim(
    "C2", f"Trained RNNs (hidden {big} = 2sd, L2 = 0) solve T1–T4 and generalise to horizon 200.",
    kind="empirical", paper="Table 1 (h128 = 2sd, L2=0): mean best test acc 0.98–1.00",
    checks=[
        ev("min_test_acc", ">=", 0.9, "worst task's bit accuracy at horizon 200", over="min",
           tol=0.02),
        ctl("init_min_test_acc", "min_test_acc", "the same networks before training", over="min",
            tol=0.02),
    ],
)
report.claim(
    "C3", "Universality: trained RNNs converge to the variable-binding circuit (spectrum of W_hh "
    "vs Φ).",
    kind="empirical", paper="Table 1 (h128, L2=0): spectral error 0.0005–0.0055 rad",
    checks=[
        ev("count_match", "==", 1.0, f"converged runs (h={big}, L2=0): #|λ|>0.9 = Φ's",
           over="min"),
        ev("max_err_rad", "<", 0.035, "worst converged run's mean angle error (rad)", over="max",
           tol=0.01),
        ctl("init_count_match", "count_match", "the same networks before training", over="min"),
        ctl("random_max_err_rad", "max_err_rad", "random W_hh, trained spectral radius",
            over="max", tol=0.5),
    ],
)
report.claim(
    "C4", "L2 = 0.1 breaks variable binding (Table 1's L2 columns).",
    kind="empirical", paper="Table 1: L2=0.1 → acc 0.50, '—' on every task",
    checks=[
        ev("l2_max_acc", "<=", 0.6, f"L2=0.1 (h={big}): best task's accuracy", over="max",
           tol=0.01),
        ev("l2_max_count", "==", 0, "L2=0.1: most eigenvalues with |λ|>0.9", over="max"),
        ctl("no_l2_max_acc", "l2_max_acc", f"the same stack without L2 (h={big}, L2=0)",
            over="max", tol=0.02),
        ctl("no_l2_max_count", "l2_max_count", f"the same stack without L2 (h={big}, L2=0)",
            over="max"),
        cx("l2_authors_acc", "L2=0.1: best task's accuracy, authors' metric (0 → +1)",
           over="max", tol=0.01),
        cx("small_l2_min_acc", f"L2=1e-3 (h={big}): worst task's accuracy", over="min",
           tol=0.05),
    ],
)
report.claim(
    "C5", "The privileged basis (rank-reduced) reveals the neurons that store and compose "
    "variables on T1–T4: Ψ* W_hh Ψ ≈ Φ, Ψ* h(t) = the variables.",
    kind="empirical", paper="Figs. 3–4 (qualitative)",
    checks=[
        ev("min_exit_corr", ">=", 0.9, "worst task: corr(boundary columns of Ψ*W_hhΨ, Φ's)",
           over="min", tol=0.05),
        ev("min_state_corr", ">=", 0.9, "worst task: corr(Ψ*h(t), stored entries)",
           over="min", tol=0.05),
        ctl("init_exit_corr", "min_exit_corr", "the same networks before training",
            over="min", tol=0.2),
        ctl("random_exit_corr", "min_exit_corr", "random W_hh, trained radius, W_ih, W_hy",
            over="min", tol=0.2),
        ctl("init_state_corr", "min_state_corr", "the same networks before training",
            over="min", tol=0.2),
        ctl("random_state_corr", "min_state_corr", "random W_hh, trained radius, W_ih, W_hy",
            over="min", tol=0.1),
    ],
)
report.claim(
    "C6", "The privileged basis enhances interpretability of the learned parameters and hidden "
    "states.",
    kind="empirical", paper="qualitative (Figs. 3–4 vs raw weights)",
    checks=[
        ev("min_exit_conc", ">=", 0.8, "worst task: boundary columns name one memory each",
           over="min", tol=0.05),
        ev("min_state_gain", ">=", 2.0, "worst task: read-out, Ψ* over best single neuron",
           over="min", tol=0.1),
        ctl("init_exit_conc", "min_exit_conc", "the same networks before training",
            over="min", tol=0.1),
        ctl("random_exit_conc", "min_exit_conc", "random W_hh, trained radius, W_ih, W_hy",
            over="min", tol=0.1),
        ctl("init_state_gain", "min_state_gain", "the same networks before training",
            over="min", tol=0.5),
        ctl("random_state_gain", "min_state_gain", "random W_hh, trained radius, W_ih, W_hy",
            over="min", tol=0.2),
        cx("krylov_gain", "row concentration, Ψ*W_hhΨ over W_hh (holds by construction)",
           over="min", tol=2.0),
        cx("random_krylov_gain", "the same on random W_hh (construction: also high)",
           over="min", tol=2.0),
    ],
)
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## From GSEMM to an RNN (C1)
#
# GSEMM has a feature layer $V_f \in \mathbb{R}^N$, a hidden (memory) layer $V_h \in \mathbb{R}^M$ and a
# delayed copy $V_d$ of the features; memories are the columns of $\Xi \in \mathbb{R}^{N\times M}$ and
# $\Phi$ couples memory $\mu$ to its successor (chapter A04):
#
# $$T_f \dot V_f = \Xi\, \sigma_h(V_h) - V_f, \quad
#   T_h \dot V_h = \Xi^\top \sigma_f(V_f) + \Phi^\top \Xi^\top V_d - V_h, \quad
#   T_d \dot V_d = \sigma_f(V_f) - V_d .$$
#
# With $\sigma_h = \mathrm{id}$, an instantaneous hidden layer ($T_h \to 0$), a fast delay
# ($T_d \to 0$) and one Euler step of size $T_f$ [reconstructed from the authors' notes],
#
# $$V_f(t+1) = \Xi (I + \Phi^\top) \Xi^\top \sigma_f\big(V_f(t)\big)
#   \;\Longleftrightarrow\; h(t+1) = \sigma_f\big(W_{hh} h(t)\big), \quad h = \sigma_f(V_f),$$
#
# a bias-free RNN. Absorbing $I$ into $\Phi$ and allowing a non-orthogonal memory basis (dual
# $\Xi^{+}$) gives $W_{hh} = \Xi \Phi \Xi^{+}$. We check it by *relaxing* the fast layers with their
# own dynamics (many small Euler steps, not the closed form) before each slow step.


# %%
def gsemm_step(V_f, Xi, Phi, relax=400, dt_fast=0.05):
    """One slow Euler step (dt = T_f) of GSEMM after relaxing V_h and V_d
    to their fixed points."""
    sig = np.tanh(V_f)
    V_d, V_h = np.zeros_like(V_f), np.zeros(Xi.shape[1])
    # fast populations: T_d dV_d = sig - V_d,
    # T_h dV_h = Xi^T sig + Phi^T Xi^T V_d - V_h
    for _ in range(relax):
        V_d += dt_fast * (sig - V_d)
        V_h += dt_fast * (Xi.T @ sig + Phi.T @ Xi.T @ V_d - V_h)
    return Xi @ V_h  # T_f dV_f = Xi V_h - V_f with dt = T_f


rng = np.random.default_rng(ctx.seeds[0])
N, M = P["gsemm_N"], 6
# orthonormal memories: Xi^+ = Xi^T
Xi = np.linalg.qr(rng.normal(size=(N, M)))[0]
Phi_g = 0.5 * np.roll(np.eye(M), 1, axis=1)  # memory mu -> mu + 1
V_f, h = rng.normal(size=N), None
W_g = Xi @ (np.eye(M) + Phi_g.T) @ Xi.T
gsemm_err = 0.0
for _ in range(10):
    h = np.tanh(V_f)
    V_f = gsemm_step(V_f, Xi, Phi_g)
    gsemm_err = max(
        gsemm_err, float(np.abs(np.tanh(V_f) - np.tanh(W_g @ h)).max())
    )
print(f"max |GSEMM step - RNN step| over 10 steps: {gsemm_err:.1e}")

# %% [markdown]
# The variable-binding circuit is this RNN with a particular $\Phi$. A task keeps the last $s$
# vectors $y \in \{\pm 1\}^d$ (the *variables*) in $s$ subspaces of $d$ memories each:
#
# $$\Phi = \sum_{\mu=1}^{(s-1)d} |\psi_\mu\rangle\langle\psi^{\mu+d}| + \sum_{\mu > (s-1)d} F^\top_{\mu\nu}\, |\psi_\mu\rangle\langle\psi^{\nu}|,
#   \qquad W_{ih} = \Xi E_s, \quad W_{hy} = E_s^\top \Xi^{+},$$
#
# a block shift that moves every variable one subspace down, plus a boundary block (the last
# $d$ rows, $F^\top$) that composes the new variable from the stored ones; $E_s$ writes to and reads
# from subspace $s$. We embed it in a random non-orthogonal basis $\Xi \in \mathbb{R}^{4sd\times sd}$, start
# from the end of the input phase, where subspace $k$ holds $x(k)$, and run the linear circuit
# against the task recursion for 100 output steps on every task. (During the input phase a
# boundary block that is always on would add $F^\top h$ to each new input; this is harmless for
# repeat copy, whose boundary reads the still-empty oldest subspace, but not for the compose
# tasks. How the paper's circuit treats the input phase is not in the material we had
# [reconstructed]; we test the output phase.)

# %%
names, ids = list(P["task_ids"]), list(P["task_ids"].values())
F_of = {
    name: tasks.decode_task_id(tid, d, s)
    for name, tid in zip(names, ids, strict=True)
}
Phi_of = {
    name: tasks.phi_from_operator(F_of[name], d, s) for name in names
}
E = tasks.boundary_embedding(d, s)
circuit_err = 0.0
for name in names:
    Xi_c = rng.normal(size=(4 * n_mem, n_mem))  # 4 sd neurons, sd memories
    W_hh_c, W_hy_c = (
        Xi_c @ Phi_of[name] @ np.linalg.pinv(Xi_c),
        E.T @ np.linalg.pinv(Xi_c),
    )
    x_c = rng.choice([-1.0, 1.0], size=(s, d))
    target = tasks.continue_sequence(
        torch.tensor(F_of[name])[None], torch.tensor(x_c)[None, None], 100
    )[0, 0]
    # h(s): the variables x(1..s) stored in subspaces 1..s
    h_c = Xi_c @ x_c.reshape(-1)
    for t in range(s, s + 100):
        h_c = W_hh_c @ h_c  # linear circuit, output phase
        circuit_err = max(
            circuit_err,
            float(np.abs(W_hy_c @ h_c - target[t].numpy()).max()),
        )
    print(
        f"{name} {ids[names.index(name)]}: circuit vs task recursion, "
        f"max error {circuit_err:.1e}"
    )
report.measure(
    "C1", {"gsemm_vs_rnn": gsemm_err, "circuit_vs_task": circuit_err}
)


# %% [markdown]
# ## Training the Table-1 grid as batched models (C2–C4)
#
# The learner is the bias-free Elman RNN of the book's library (A01),
#
# $$h(t) = \tanh\big(W_{hh} h(t-1) + W_{ih} x(t)\big), \qquad o(t) = W_{hy} h(t),$$
#
# trained with Adam on the mean squared error of the output phase, L2 applied as Adam weight
# decay, gradient clipping 1.0, and a curriculum over horizons that advances per run when its
# batch accuracy reaches the threshold (the authors: Adam 1e-3, clip 1.0, curriculum
# 10 → … → 100). The paper's grid has hidden 32, 64 and 128 at $sd = 64$, that is $sd/2$, $sd$
# and $2sd$; at our $sd = 16$ these are 8, 16 and 32. For every hidden size, all tasks × seeds ×
# L2 values form one stacked model trained in one forward/backward pass (L2 is set per run);
# each run keeps its own data, clipping, curriculum and early stop, so it ends where it would
# end alone. Runs of the same task and seed see the same data stream at every L2, so the L2
# arms differ only in L2. In `ci` the L2 = 0.1 runs get 300 steps: with L2 = 0.1 the weights
# collapse onto the zero-output fixed point within the first hundred steps in our scratch runs,
# and the printout shows the final MSE, so a longer budget would not change where they end. The
# smaller stacks get fewer steps (1,000 at $sd$, 600 at $sd/2$) to keep `ci` within its minute;
# at $sd/2$ the limit is capacity, not time (next section), and both are context, not claims.


# %%
def init_seed(seed):
    return 3000 + seed  # A03's own initial weights (A01 uses the seed)


def data_seed(name, seed):
    return 3 * 10**6 + 1000 * seed + names.index(name)


rows, rnns, inits, runs_of = [], {}, {}, {}
for hidden, l2s, n_steps in stacks:
    runs = [
        (name, seed, l2)
        for l2 in l2s
        for seed in ctx.seeds
        for name in names
    ]
    F_run = tasks.operator_stack(
        [P["task_ids"][name] for name, _, _ in runs], d, s
    )
    seeds_d = [data_seed(name, seed) for name, seed, _ in runs]
    rnn = models.BatchedElmanRNN(
        d,
        hidden,
        seeds=[init_seed(seed) for _, seed, _ in runs],
        device=ctx.device,
    )
    inits[hidden, l2s] = {
        k: v.detach().clone() for k, v in rnn.state_dict().items()
    }
    hist = train.fit(
        rnn,
        F_run,
        d,
        s,
        data_seeds=seeds_d,
        steps=n_steps,
        lr=P["lr"],
        batch=P["batch"],
        horizons=P["horizons"],
        threshold=P["threshold"],
        clip=1.0,
        weight_decay=[l2 for *_, l2 in runs],
        target_loss=P["stop_mse"],
        patience=P["patience"],
    )
    rnns[hidden, l2s], runs_of[hidden, l2s] = rnn, (runs, F_run, seeds_d)
    print(
        f"hidden {hidden}, L2 {l2s}: {len(runs)} runs, "
        f"{hist.steps} steps, "
        f"{hist.seconds:.1f} s, final batch MSE "
        f"{np.nanmin(hist.loss[-1]):.3f}..{np.nanmax(hist.loss[-1]):.3f}"
    )

# %% [markdown]
# Test accuracy is measured at horizon 200, on data the runs never saw, in two ways. Ours
# counts $\operatorname{sign}(o) = y$, so an output of exactly 0 is wrong. The authors' code
# maps $o \ge 0$ to $+1$ [authors' task module], so an output of exactly 0 scores $1/2$ on $\pm 1$
# targets: the paper's 0.50 under strong L2 is that zero output. We judge with ours and print
# theirs beside the paper's numbers.


# %%
@torch.no_grad()
def test_accuracies(rnn, F_run, seeds_d):
    """(ours, authors') bit accuracy per run at the test horizon."""
    gens = [torch.Generator().manual_seed(10**6 + k) for k in seeds_d]
    ours = torch.zeros(rnn.n_models, dtype=torch.float64)
    theirs = torch.zeros_like(ours)
    for _ in range(P["test_batches"]):
        x, y, mask = tasks.variable_binding_batch(
            F_run, d, s, P["test_horizon"], P["batch"], gens,
            device=ctx.device,
        )  # fmt: skip
        o, _ = rnn(x)
        ours += train.masked_metrics(o, y, mask)[1].double().cpu()
        o_pm = torch.where(o >= 0, 1.0, -1.0)  # authors: o >= 0 -> +1
        theirs += train.masked_metrics(o_pm, y, mask)[1].double().cpu()
    return (ours / P["test_batches"]).numpy(), (
        theirs / P["test_batches"]
    ).numpy()


for (hidden, l2s), rnn in rnns.items():
    runs, F_run, seeds_d = runs_of[hidden, l2s]
    acc, acc_a = test_accuracies(rnn, F_run, seeds_d)
    for i, (name, seed, l2) in enumerate(runs):
        sp = analysis.spectrum_comparison(rnn.W_hh[i], Phi_of[name])
        rows.append(
            dict(
                task=name, hidden=hidden, l2=l2, seed=seed, stack=l2s,
                index=i, acc=float(acc[i]), acc_authors=float(acc_a[i]),
                n=sp["n_learned"], n_theory=sp["n_theory"],
                err=float(np.radians(sp["mean_angle_deg"])),
            )
        )  # fmt: skip
for r in rows:
    print(
        f"{r['task']} h={r['hidden']} L2={r['l2']:g} seed {r['seed']}: "
        f"acc {r['acc']:.3f} (authors' metric {r['acc_authors']:.3f}), "
        f"|λ|>0.9: {r['n']} (theory {r['n_theory']}), "
        f"error {r['err']:.4f} rad"
    )

# %% [markdown]
# The spectral error is the paper's: keep the eigenvalues with $|\lambda| > 0.9$ of $W_{hh}$ and of
# $\Phi$, match each theoretical eigenvalue greedily to the nearest remaining learned one by
# phase, and average the absolute phase differences (radians, as in Table 1):
#
# $$\varepsilon = \frac{1}{n}\sum_{i=1}^{n} \big|\arg \lambda_i^{\Phi} - \arg \lambda_{\pi(i)}^{W_{hh}}\big| .$$
#
# When the two counts differ, the shorter list is padded with zeros. The authors' code then
# normalises every eigenvalue to unit length, which turns a padded zero into 0/0: the error is
# NaN, and the Table-1 notebook prints a NaN cell as "—" [authors' code]. So "—" in Table 1
# means "some seed's runs all had the wrong number of eigenvalues above 0.9", not "no run
# converged". A cell is the mean over seeds of each seed's best (lowest) error, beside the mean
# of each seed's best accuracy. We compute a cell both ways: by the authors' rule (NaN on any
# count mismatch, so "—"), and by ours (the padded zero keeps its angle; mean over runs above
# 0.9 accuracy; "—" only if none).
#
# At hidden $sd/2$ the "—" is forced: the circuit of compose copy at $d = s = 8$ needs
# $8 + 7 + \dots + 1 = 36$ eigenvalues on the unit circle and repeat copy needs 64, more than a
# 32-unit network has. The Table-1 notebook's saved output shows an $h = 32$ compose-copy run
# (L2 = 0, seed 9) above its 0.9 accuracy gate, analysed with 25 eigenvalues above 0.8. Earlier
# versions of this chapter read the "—" of $h = 32$ as "never converged"; the authors' material
# does not support that; and the notebook's LaTeX cell, which prints the paper's Table-1
# numbers, prints hidden 64 and 128 only.


# %%
# the paper's Table 1 [authors' notebook]: (row, hidden) -> values at
# L2 = 0, 1e-3, 0.1
table1 = {
    ("T1", 64):  ["— (0.97)",      "— (0.88)",      "— (0.50)"],
    ("T1", 128): ["0.0005 (1.00)", "— (0.93)",      "— (0.50)"],
    ("T2", 64):  ["0.0075 (1.00)", "— (0.85)",      "— (0.50)"],
    ("T2", 128): ["0.0055 (0.98)", "0.0031 (0.98)", "— (0.50)"],
    ("T3", 64):  ["0.0026 (1.00)", "0.0010 (0.97)", "— (0.50)"],
    ("T3", 128): ["0.0031 (0.98)", "0.0005 (1.00)", "— (0.50)"],
    ("T4", 64):  ["0.0112 (0.94)", "0.0011 (1.00)", "— (0.50)"],
    ("T4", 128): ["0.0022 (1.00)", "0.0006 (1.00)", "— (0.50)"],
}  # fmt: skip


def paper_cell(name, hidden, l2):
    """Table 1's entry at the same hidden/sd ratio (sd = 64 there)."""
    ph = hidden * 64 // n_mem
    col = {0.0: 0, 1e-3: 1, 0.1: 2}.get(l2)
    if (name, ph) not in table1 or col is None:
        return f"h={ph}: not in Table 1"
    return f"h={ph}: {table1[name, ph][col]}"


def cell(sel):
    """Our cell by the authors' rule and by ours."""
    best = [
        min(
            (r["err"] if r["n"] == r["n_theory"] else np.nan)
            for r in sel
            if r["seed"] == seed
        )
        for seed in ctx.seeds
    ]
    authors = "—" if np.isnan(best).any() else f"{np.mean(best):.4f}"
    conv = [r["err"] for r in sel if r["acc"] >= 0.9]
    ours = f"{np.mean(conv):.4f}" if conv else "—"
    acc = np.mean([r["acc_authors"] for r in sel])
    return f"{authors} ({acc:.2f})", ours


print(
    f"{'task':4} {'hidden':>6} {'L2':>6}  {'authors rule':>14}"
    f"  {'ours':>6}  paper (d=s=8)"
)
dash_but_solved = 0  # "—" by the authors' rule, yet every run >= 0.9
for name in names:
    for hidden, l2s, _ in stacks:
        for l2 in l2s:
            sel = [
                r
                for r in rows
                if (r["task"], r["hidden"], r["l2"]) == (name, hidden, l2)
            ]
            a_cell, o_cell = cell(sel)
            dash_but_solved += (
                a_cell.startswith("—")
                and min(r["acc"] for r in sel) >= 0.9
            )
            print(
                f"{name:4} {hidden:6d} {l2:6g}  {a_cell:>14}  "
                f"{o_cell:>6}  "
                f"{paper_cell(name, hidden, l2)}"
            )
runtime.glue("a03_dash_but_solved", int(dash_but_solved))

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.8))
for ax, name in zip(axes, names, strict=True):
    r0 = next(
        r
        for r in rows
        if (r["task"], r["hidden"], r["l2"], r["seed"])
        == (name, big, 0.0, ctx.seeds[0])
    )
    lam_l, lam_t = (
        analysis.eigenvalues(rnns[big, r0["stack"]].W_hh[r0["index"]]),
        analysis.eigenvalues(Phi_of[name]),
    )
    plots.spectrum(ax, lam_l, lam_t, f"{name} {P['task_ids'][name]}")
axes[0].set_ylabel(r"Im $\lambda$")
axes[0].legend(loc="lower left", fontsize=6)
fig.suptitle(f"spectra, hidden {big}, L2 = 0, seed {ctx.seeds[0]}")
plt.show()

# %% [markdown]
# The controls: the same statistics on the L2 = 0 networks of hidden $2sd$ *before* training
# (their initial weights, their accuracy at horizon 200), and on a random Gaussian $W_{hh}$ per
# converged run, scaled to that run's trained spectral radius; for C4, whose claim is a failure,
# the control is the same stack without L2, which must fail C4's rules.

# %%
main_key = next(k for k in rnns if k[0] == big and 0.0 in k[1])
main_rnn = rnns[main_key]
main = [
    r
    for r in rows
    if (r["hidden"], r["stack"], r["l2"]) == (big, main_key[1], 0.0)
]
main_idx = [r["index"] for r in main]
init_rnn = models.BatchedElmanRNN.from_weights(
    *(inits[main_key][k][main_idx] for k in ("W_hh", "W_ih", "W_hy"))
)
runs_m, F_m, seeds_m = runs_of[main_key]
init_acc, _ = test_accuracies(
    init_rnn, F_m[main_idx], [seeds_m[i] for i in main_idx]
)
rho = {
    r["index"]: float(
        np.abs(analysis.eigenvalues(main_rnn.W_hh[r["index"]])).max()
    )
    for r in main
}
W_random = {}
for r in main:
    W_r = torch.randn(
        big,
        big,
        generator=runtime.generator(r["seed"], 500 + r["index"]),
        dtype=torch.float64,
    )
    W_random[r["index"]] = (
        W_r
        * rho[r["index"]]
        / float(np.abs(analysis.eigenvalues(W_r)).max())
    )
conv = [j for j, r in enumerate(main) if r["acc"] >= 0.9]
init_sp = {
    j: analysis.spectrum_comparison(
        init_rnn.W_hh[j].detach(), Phi_of[main[j]["task"]]
    )
    for j in conv
}
rand_sp = {
    j: analysis.spectrum_comparison(
        W_random[main[j]["index"]], Phi_of[main[j]["task"]]
    )
    for j in conv
}


def per_seed(values, worst, rows_=main, keep=None, empty=np.nan):
    """One value per seed: ``worst`` of ``values[j]`` over that seed's
    rows (``keep``: only those row positions)."""
    return [
        float(
            worst(
                (
                    values[j]
                    for j, r in enumerate(rows_)
                    if r["seed"] == seed and (keep is None or j in keep)
                ),
                default=empty,
            )
        )
        for seed in ctx.seeds
    ]


strong = [r for r in rows if r["hidden"] == big and r["l2"] in strong_l2]
weak = [r for r in rows if r["hidden"] == big and r["l2"] == 1e-3]
c2 = {
    "min_test_acc": per_seed([r["acc"] for r in main], min),
    "init_min_test_acc": per_seed(list(init_acc), min),
}
c3 = {
    "count_match": per_seed(
        [float(r["n"] == r["n_theory"]) for r in main], min, keep=conv,
        empty=0.0,
    ),
    "max_err_rad": per_seed(
        [r["err"] for r in main], max, keep=conv, empty=np.pi
    ),
    "init_count_match": per_seed(
        {j: float(init_sp[j]["counts_equal"]) for j in conv}, min,
        keep=conv, empty=0.0,
    ),
    "random_max_err_rad": per_seed(
        {j: np.radians(rand_sp[j]["mean_angle_deg"]) for j in conv},
        max, keep=conv, empty=np.pi,
    ),
}  # fmt: skip
c4 = {
    "l2_max_acc": per_seed([r["acc"] for r in strong], max, strong),
    "l2_max_count": per_seed([r["n"] for r in strong], max, strong),
    "no_l2_max_acc": per_seed([r["acc"] for r in main], max),
    "no_l2_max_count": per_seed([r["n"] for r in main], max),
    "l2_authors_acc": per_seed(
        [r["acc_authors"] for r in strong], max, strong
    ),
    "small_l2_min_acc": per_seed([r["acc"] for r in weak], min, weak),
}
for key, value in {**c2, **c3, **c4}.items():
    print(f"{key}: {np.round(value, 4).tolist()}")
    runtime.glue(
        f"a03_{key}",
        float(
            min(value)
            if key.startswith(("min", "init", "random", "small"))
            else max(value)
        ),
    )
half = [r for r in rows if r["hidden"] < n_mem]
runtime.glue("a03_half_max_acc", max(r["acc"] for r in half))
runtime.glue("a03_half_max_n", max(r["n"] for r in half))
report.measure("C2", c2)
report.measure("C3", c3)
report.measure("C4", c4)

# %% [markdown]
# At hidden $2sd$ without L2, the largest spectral error of a converged run is
# {glue:text}`a03_max_err_rad:.4f` rad (Table 1 at hidden 128: 0.0005–0.0055 rad) and the
# lowest accuracy at horizon 200 is {glue:text}`a03_min_test_acc:.3f`. With L2 = 0.1 the best
# run reaches {glue:text}`a03_l2_max_acc:.3f` by our metric and
# {glue:text}`a03_l2_authors_acc:.2f` by the authors': the outputs are exactly zero, which their
# metric scores as 0.50, the number in Table 1. With L2 = 1e-3 the worst task still reaches
# {glue:text}`a03_small_l2_min_acc:.3f`: weak L2 leaves binding intact, as in Table 1's middle
# column. At hidden $sd/2$ the best run reaches {glue:text}`a03_half_max_acc:.3f`, with at most
# {glue:text}`a03_half_max_n` eigenvalues above 0.9 where the circuits need 10 or 16, so the
# authors' rule prints "—" for every task there whatever the accuracy. The same rule prints "—"
# for {glue:text}`a03_dash_but_solved` cell(s) of our grid in which every run is above 0.9
# accuracy: a "—" in Table 1 is not evidence of failure.
#
# The controls fail every rule, as they must: before training the same networks score
# {glue:text}`a03_init_min_test_acc:.3f` at horizon 200 (their outputs decay to zero) and have no
# eigenvalue above 0.9; random matrices with the trained spectral radius miss the angles by
# {glue:text}`a03_random_max_err_rad:.2f` rad or more; and without L2 the same tasks reach
# {glue:text}`a03_no_l2_max_acc:.2f`, so C4's rules can fail. What these controls do not rule
# out is the review's point (issue 16): the eigenvalue fingerprint at the origin would be shared
# by any near-linear solution of the task, so C3 shows that training finds *a* solution with the
# circuit's linearisation, not that it finds this circuit rather than another. The privileged
# basis below asks the sharper question: do the circuit's *memories*, not only its eigenvalues,
# sit where the theory puts them?

# %% [markdown]
# ## The privileged basis, rank-reduced (C5)
#
# The trained network implements $\Phi$ in an unknown basis, $W_{hh} \approx \Psi \Phi \Psi^{+}$. The
# basis can be recovered from the weights alone [reconstructed from the authors' code]: the
# readout reads subspace $s$, so the *output-grounded* directions $G = W_{hy}^{+}$ span it; the
# shift carries subspace $s$ to subspace $k$ in $s - k$ steps, so
#
# $$\Psi_k = \operatorname{normalise}\big(W_{hh}^{\,s-k}\, W_{hy}^{+}\big), \qquad
#   \Psi = [\Psi_1, \dots, \Psi_s], \qquad \Psi^{*} = \Psi^{+} .$$
#
# For repeat copy every one of the $sd$ memories lies on a cycle of $\Phi$. A compose task stores
# entries that no output ever reads again: at $d = s = 4$, output $a$ reads dimension $a$ of
# subspace $a + 1$, so dimension $a$ of subspaces $1, \dots, a$ is transient, and only
# $4 + 3 + 2 + 1 = 10$ memories persist. The full Krylov basis mixes the transient directions
# into the persistent ones, and $\Psi^{*} W_{hh} \Psi$ is then not $\Phi$ even for an exact
# circuit. The authors' algorithm therefore reduces the rank (their step 4): it keeps memory
# $i$ only if deleting row and column $i$ from the theoretical $\Phi$ lowers the number of
# eigenvalues above 0.8, i.e. if $i$ lies on a cycle, and takes the dual of the kept columns.
# The library implements this as `analysis.persistent_coordinates(Phi)` and
# `analysis.privileged_basis(W_hh, W_hy, s, keep=...)`, unit-tested on compose circuits hidden
# in a random basis, where $\Psi^{*} W_{hh} \Psi = \Phi$ restricted to the kept memories holds
# exactly.
#
# **What can fail.** By construction $W_{hh}\Psi_k$ is a multiple of $\Psi_{k-1}$, so every kept
# column whose predecessor is also kept is a unit shift *for any* $W_{hh}$. The columns the
# construction leaves free are the *boundary columns*: for each dimension, its last persistent
# memory, whose image under $W_{hh}$ is where the composition happens. In $\Phi$ each such
# column holds a single $\pm 1$, in subspace $s$, at the output that reads it. C5 correlates
# these columns with $\Phi$'s, and $\Psi^{*} h(t)$ with the stored entries (memory $(k, a)$ holds
# $y_a(t - s + k)$), on all four tasks.

# %%
keep_of = {
    name: analysis.persistent_coordinates(Phi_of[name]) for name in names
}
exit_of = {
    name: [
        j
        for j, i in enumerate(keep)
        if i < d or (i - d) not in set(keep.tolist())
    ]
    for name, keep in keep_of.items()
}
for name in names:
    print(
        f"{name}: {len(keep_of[name])} of {n_mem} memories persist; "
        f"boundary columns (kept memory index) "
        f"{[int(keep_of[name][j]) for j in exit_of[name]]}"
    )


def row_concentration(W: torch.Tensor) -> float:
    """Mean over rows of max_j W_ij^2 / sum_j W_ij^2: 1 for a signed
    permutation, ~2/h for noise."""
    W2 = W.pow(2)
    return float((W2.max(dim=1).values / W2.sum(dim=1)).mean())


# %% [markdown]
# The statistics of one network: $\Psi^{*} W_{hh} \Psi$ in the reduced basis, the correlation and
# the concentration of its boundary columns, the decoded state against the stored entries, and
# the best single neuron's correlation with each stored input bit (for C6).

# %%
gens_p = [
    torch.Generator().manual_seed(7 * 10**6 + seeds_m[i]) for i in main_idx
]
x_p, y_p, _ = tasks.variable_binding_batch(
    F_m[main_idx], d, s, 3 * s, P["probe_batch"], gens_p, device=ctx.device
)
# stored entries vec(y(t-s+1), ..., y(t)), t = s..4s: (runs, B, t, sd)
stored = torch.stack(
    [
        y_p[:, :, t - s + 1 : t + 1].flatten(-2)
        for t in range(s - 1, 4 * s)
    ],
    2,
).double()


def basis_stats(W_hh, W_hy, H, name, j):
    """C5/C6 statistics of one network (weights, probe states H)."""
    keep, ex = keep_of[name], exit_of[name]
    Psi, Psi_star = analysis.privileged_basis(W_hh, W_hy, s, keep=keep)
    M = (Psi_star @ W_hh @ Psi).numpy()
    Phi_k = Phi_of[name][np.ix_(keep, keep)]
    M2 = M[:, ex] ** 2
    z = H[:, s - 1 :].double() @ Psi_star.T  # (B, t, kept)
    target = stored[j][..., keep]
    H_s = H[:, s - 1].double().numpy()  # t = s, all inputs stored
    bits = target[:, 0].numpy()
    corr = np.corrcoef(np.c_[H_s, bits].T)[: H_s.shape[1], H_s.shape[1] :]
    state = float(np.corrcoef(z.ravel(), target.ravel())[0, 1])
    best = float(np.nanmean(np.nanmax(np.abs(corr), axis=0)))
    Psi_f, Psi_star_f = analysis.privileged_basis(W_hh, W_hy, s)
    return dict(
        exit_corr=float(
            np.corrcoef(M[:, ex].ravel(), Phi_k[:, ex].ravel())[0, 1]
        ),
        exit_conc=float((M2.max(0) / M2.sum(0)).mean()),
        state_corr=state,
        state_gain=state / best,
        krylov_gain=row_concentration(Psi_star_f @ W_hh @ Psi_f)
        / row_concentration(W_hh),
        M=M,
        Phi_k=Phi_k,
        Psi_star=Psi_star,
    )


def stats_of(W_hh_all, W_ih_all, W_hy_all):
    """basis_stats for every main run, hidden states from these weights."""
    net = models.BatchedElmanRNN.from_weights(W_hh_all, W_ih_all, W_hy_all)
    with torch.no_grad():
        _, H = net(x_p.to(W_hh_all.dtype))
    return [
        basis_stats(
            W_hh_all[j].detach().double(),
            W_hy_all[j].detach().double(),
            H[j],
            r["task"],
            j,
        )
        for j, r in enumerate(main)
    ]


trained_w = [
    getattr(main_rnn, k)[main_idx].detach()
    for k in ("W_hh", "W_ih", "W_hy")
]
st = {
    "trained": stats_of(*trained_w),
    "before training": stats_of(
        *(inits[main_key][k][main_idx] for k in ("W_hh", "W_ih", "W_hy"))
    ),
    "random W_hh": stats_of(
        torch.stack([W_random[i] for i in main_idx]).float(),
        *trained_w[1:],
    ),
}
for arm, vals in st.items():
    for key in ("exit_corr", "state_corr", "exit_conc", "state_gain"):
        print(
            f"{arm:16} {key:11}",
            " ".join(
                f"{r['task']}/{r['seed']}:{v[key]:+.3f}"
                for r, v in zip(main, vals, strict=True)
            ),
        )


def worst(arm, key):
    return per_seed([v[key] for v in st[arm]], min)


c5 = {
    "min_exit_corr": worst("trained", "exit_corr"),
    "min_state_corr": worst("trained", "state_corr"),
    "init_exit_corr": worst("before training", "exit_corr"),
    "random_exit_corr": worst("random W_hh", "exit_corr"),
    "init_state_corr": worst("before training", "state_corr"),
    "random_state_corr": worst("random W_hh", "state_corr"),
}
c6 = {
    "min_exit_conc": worst("trained", "exit_conc"),
    "min_state_gain": worst("trained", "state_gain"),
    "init_exit_conc": worst("before training", "exit_conc"),
    "random_exit_conc": worst("random W_hh", "exit_conc"),
    "init_state_gain": worst("before training", "state_gain"),
    "random_state_gain": worst("random W_hh", "state_gain"),
    "krylov_gain": worst("trained", "krylov_gain"),
    "random_krylov_gain": worst("random W_hh", "krylov_gain"),
}
for key, value in {**c5, **c6}.items():
    runtime.glue(f"a03_{key}", float(min(value)))
runtime.glue(
    "a03_random_exit_corr_max",
    max(v["exit_corr"] for v in st["random W_hh"]),
)
report.measure("C5", c5)
report.measure("C6", c6)
runtime.glue("a03_c5_verdict", report.verdict("C5"))
runtime.glue("a03_c6_verdict", report.verdict("C6"))
per_task = {
    name: min(
        v["exit_corr"]
        for r, v in zip(main, st["trained"], strict=True)
        if r["task"] == name
    )
    for name in names
}
runtime.glue("a03_t1_exit_corr", per_task["T1"])
runtime.glue("a03_compose_exit_corr", min(per_task[n] for n in names[1:]))

# %% [markdown]
# Every seed of every task, for the trained networks and for the two controls (dots: worst task
# per seed as judged; dashed: the rule). This is the paper's claim where it can fail: the
# controls use the same rank reduction, the same readout and, for the random $W_{hh}$, the same
# input and output weights.

# %% tags=["hide-input"]
panels = [
    ("min_exit_corr", "boundary columns: corr with Φ", 0.9),
    ("min_state_corr", r"$\Psi^* h(t)$: corr with stored", 0.9),
    ("min_exit_conc", "boundary columns: concentration", 0.8),
    ("min_state_gain", "read-out gain over best neuron", 2.0),
]
prefix = {
    "trained": "",
    "before training": "init_",
    "random W_hh": "random_",
}
fig, axes = plt.subplots(1, 4, figsize=(11, 2.8))
for ax, (key, label, rule) in zip(axes, panels, strict=True):
    base = key.split("_", 1)[1]
    plots.seed_points(
        ax,
        {
            arm: (c5 | c6)[p + base if p else key]
            for arm, p in prefix.items()
        },
        ylabel=label,
        threshold=rule,
    )
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
fig.suptitle(
    f"privileged basis, hidden {big}, T1–T4, seeds {ctx.seeds}", y=1.06
)
plt.show()

# %% [markdown]
# The next figure mirrors the paper's Fig. 4, which shows a T4 network: the trained $W_{hh}$ in
# the neuron basis, $\Psi^{*} W_{hh} \Psi$ in the reduced basis, and the theoretical $\Phi$ on the
# same kept memories (T4, first seed).

# %% tags=["hide-input"]
j4 = next(
    j
    for j, r in enumerate(main)
    if (r["task"], r["seed"]) == ("T4", ctx.seeds[0])
)
v4 = st["trained"][j4]
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, M_show, title in zip(
    axes,
    [trained_w[0][j4].numpy(), v4["M"], v4["Phi_k"]],
    [
        r"$W_{hh}$ (neuron basis)",
        r"$\Psi^* W_{hh} \Psi$ (reduced)",
        r"theory $\Phi$ (kept memories)",
    ],
    strict=True,
):
    ax.imshow(M_show, **plots.signed_limits(M_show))
    ax.set_title(title)
    ax.set_xlabel("from unit / memory")
axes[0].set_ylabel("to unit / memory")
plt.show()

# %% [markdown]
# The paper's Fig. 3 writes a picture (the text "315") into the network as a ±1 bitmap, one row
# per input step, and shows the hidden state decoded in the variable memories as the rows move
# from subspace to subspace. Our miniature writes an $s \times d$ glyph (a "7") into the T1
# network (repeat copy, where all memories persist) and decodes $\Psi^{*} h(t)$, reshaped
# $s \times d$, at the first $2s + 1$ steps.

# %%
j1 = next(
    j
    for j, r in enumerate(main)
    if (r["task"], r["seed"]) == ("T1", ctx.seeds[-1])
)
Psi_star = st["trained"][j1]["Psi_star"]
# (s, d)
glyph = torch.tensor(
    [[1.0 if c == "#" else -1.0 for c in row] for row in P["glyph"]]
)
x_g = torch.zeros(1, 1, 3 * s, d)
x_g[0, 0, :s] = glyph
with torch.no_grad():
    _, H_g = main_rnn(
        x_g.to(ctx.device),
        models=torch.tensor([main_idx[j1]], device=ctx.device),
    )
# (T, subspace, dim)
frames = (H_g[0, 0].double().cpu() @ Psi_star.T).reshape(-1, s, d).numpy()
neuron_frames = H_g[0, 0].cpu().numpy()
print(
    f"glyph rows written over steps 1..{s}; "
    f"decoded frames {frames.shape}, hidden states {neuron_frames.shape}"
)

# %% tags=["hide-input"]
n_show = 2 * s + 1
fig, axes = plt.subplots(2, n_show, figsize=(1.1 * n_show, 3.2))
side = int(np.ceil(np.sqrt(neuron_frames.shape[1])))
for t in range(n_show):
    axes[0, t].imshow(frames[t], **plots.signed_limits(frames[: 3 * s]))
    pad = np.full(side * side, np.nan)
    pad[: neuron_frames.shape[1]] = neuron_frames[t]
    axes[1, t].imshow(
        pad.reshape(side, side), **plots.signed_limits(neuron_frames)
    )
    axes[0, t].set_title(f"t={t + 1}", fontsize=7)
    for ax in axes[:, t]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel(r"$\Psi^* h(t)$" + "\nsubspace", fontsize=7)
axes[1, 0].set_ylabel("neurons", fontsize=7)
plt.show()

# %% [markdown]
# In the privileged basis the glyph appears row by row in subspace $s$, moves one subspace per
# step, and re-enters at the boundary after $s$ steps. In the neuron basis the same states are a
# scatter of activity.
#
# On all four tasks, the worst task's boundary columns correlate with $\Phi$'s at
# {glue:text}`a03_min_exit_corr:.3f` or more, and the decoded states with the stored entries at
# {glue:text}`a03_min_state_corr:.3f` or more. The controls, under the same rank reduction:
# built from the networks before training, the boundary correlation is at most
# {glue:text}`a03_init_exit_corr:.2f` for the worst task, and from a random $W_{hh}$ with the
# trained input and output weights at most {glue:text}`a03_random_exit_corr:.2f`
# (best task of any seed: {glue:text}`a03_random_exit_corr_max:.2f`); the decoded states of the
# random networks correlate with the stored entries at {glue:text}`a03_random_state_corr:.2f`
# for the worst task.
#
# ## Does the basis help a reader? (C6)
#
# A picture is not a measurement, so we score both views. For the weights, the part that the
# construction does not fix: the *concentration* of each boundary column of
# $\Psi^{*} W_{hh} \Psi$, $\max_i M_{ij}^2 / \sum_i M_{ij}^2$, averaged over the boundary columns.
# It is 1 when every boundary column names a single memory (as in $\Phi$) and about $2/r$ for
# unstructured columns over $r$ kept memories; the rule asks 0.8. For the hidden states, how
# well the stored entries can be read: in the privileged basis, the correlation of $\Psi^{*} h(t)$
# with them; in the neuron basis, for each stored input bit the best single neuron's
# $|\mathrm{corr}|$ at $t = s$, averaged over bits; the rule asks a gain of 2.
#
# The earlier version of C6 scored the *row concentration* of the whole $\Psi^{*} W_{hh} \Psi$
# against $W_{hh}$'s. We keep it as context only: it is a construction. $(s-1)d$ of its columns
# are unit shifts for any $W_{hh}$, so its random control passes too (gain
# {glue:text}`a03_random_krylov_gain:.1f` on random matrices, {glue:text}`a03_krylov_gain:.1f` on
# the trained ones).
#
# Result: the boundary columns of the trained networks reach a concentration of
# {glue:text}`a03_min_exit_conc:.2f` (worst task; before training
# {glue:text}`a03_init_exit_conc:.2f`, random $W_{hh}$ {glue:text}`a03_random_exit_conc:.2f`), and
# the basis reads the stored entries {glue:text}`a03_min_state_gain:.2f` times better than the
# best single neuron (worst task; before training {glue:text}`a03_init_state_gain:.2f`, random
# $W_{hh}$ {glue:text}`a03_random_state_gain:.2f`). A single neuron of these small networks already
# follows one input bit closely, so the hidden states are less opaque in the neuron basis than
# the weights are.
#
# **Reading the verdicts.** C5 is **{glue:text}`a03_c5_verdict`** under its rule. The memories
# of the circuit are where the theory puts them on every task: the decoded states follow the
# stored entries, and the boundary columns, which the construction leaves free, match $\Phi$'s
# closely (repeat copy at {glue:text}`a03_t1_exit_corr:.3f` or more), and far above both
# controls. On the compose tasks the match is looser (worst run
# {glue:text}`a03_compose_exit_corr:.3f`), so the 0.9 bar that the un-reduced basis passed on
# repeat copy is met narrowly or missed there; the claims table marks how close each value is
# to its rule. C6 is **{glue:text}`a03_c6_verdict`**: the boundary columns of the trained
# networks are concentrated at about the rule's edge ({glue:text}`a03_min_exit_conc:.2f` for
# the worst task, far above the controls), but the basis does not read the hidden state twice
# as well as the best single neuron on any task.
#
# ## Claims
#
# The cell below prints only what no profile, device or seed changes: the paper's task ids
# decoded (in Table 1's order), their persistent memories, and the sizes of the circuits.

# %% tags=["nbval-check-output"]
for row, tid in TABLE1_IDS.items():
    Phi_p = tasks.phi_from_operator(tasks.decode_task_id(tid, 8, 8), 8, 8)
    lam = analysis.eigenvalues(Phi_p)
    print(
        f"{row} {tid}: |λ|>0.9 of Phi = {(np.abs(lam) > 0.9).sum()} "
        f"of 64, persistent memories "
        f"{len(analysis.persistent_coordinates(Phi_p))}"
    )
print(
    f"GSEMM reduction exact (< 1e-6): {gsemm_err < 1e-6}; "
    f"circuit == task recursion (< 1e-9): {circuit_err < 1e-9}"
)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check carries a `tol`: how far its value may move when the chapter is re-executed on
# another CPU, with another thread count or seed set, before the book's checks call the re-run
# a mismatch. We measured it: the runner's `variation` re-executed this chapter in `ci` with the
# default seeds {0, 1}, with two threads, and with two other seed sets, {2, 3} and {4, 5}
# (disjoint, same size). Every value agreed exactly between one and two threads; each `tol` is
# at least the largest change between seed sets, rounded up to a 1-2-5 step. The table below
# compares each `tol` with the measured changes.

# %%
report.tolerances("../../data/a03_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (miniature).** `ci` uses $d = s = 4$ ($sd = 16$ variable memories), hidden sizes 8,
#   16 and 32 (the paper's ratios $sd/2$, $sd$, $2sd$: its 32, 64, 128 at $sd = 64$), L2 = 0 at
#   every size, L2 = 1e-3 and 0.1 at hidden 32 only, two seeds, at most 1,200 Adam steps at
#   learning rate 3e-3 (1,000 at hidden 16, 600 at hidden 8, 300 under L2 = 0.1), curriculum
#   10 → 20 → 40, and task
#   ids chosen for $d = s = 4$: T1 `(15, 0, 0)` repeat copy, T2 `(33825, 0, 0)` compose copy,
#   T3-like `(33825, 6, 9)`, T4-like `(33825, 5, 5)`. The paper uses $d = s = 8$, hidden
#   32/64/128, L2 ∈ {0, 1e-3, 0.1, 10}, two curriculum thresholds, 20 seeds, 10 epochs × 2,000
#   batches, curriculum up to 100. The `full` profile is sized for the paper's grid with three
#   seeds and 3,000 steps; it has **not been run** (no GPU here), so no `a03.full.json` exists.
# - **Hidden $sd/2$.** Not a claim any more: the paper's "—" at hidden 32 is the spectral
#   metric's NaN on an eigenvalue-count mismatch, which hidden 32 < 36 forces, and the authors'
#   notebook shows an $h = 32$ run above 0.9 accuracy. We report our $sd/2$ row beside it.
# - **Accuracy metric.** We judge with $\operatorname{sign}(o) = y$ (an output of 0 is wrong); the
#   authors map $o \ge 0$ to $+1$ (an output of 0 scores 0.50). Both are printed.
# - **Reconstructed.** The GSEMM-to-RNN limit (which time constants go to zero, Euler step
#   $T_f$), the privileged-basis algorithm (output grounding, column normalisation, rank
#   reduction), the spectral error and Table 1's values come from the authors' code and
#   notebooks, not the paper's text. Of the algorithm we omit its last step (10 PCA directions
#   of the residual, which only fill the picture).
# - **Measure of interpretability (C6)** is ours; the paper argues from figures.
# - **Controls** (the networks before training, random $W_{hh}$ with the trained spectral radius
#   and the trained input and output weights, the L2 = 0 stack for C4) are ours, added so that
#   every empirical check can be seen to fail where it should.
#
# ## Versus the authors' code
#
# Built from `arjunkaruvally/emt_variable_binding` (training script, task module, Table-1
# notebook) and `arjunkaruvally/emt-tools` (`utils.py`: basis, spectral comparison, $\Phi$).
#
# | Item | Authors | This chapter | Same? | What follows |
# |---|---|---|---|---|
# | Model | bias-free `nn.RNN` (tanh) + bias-free linear readout | same equations, stacked | same | — |
# | Loss, optimiser | MSE on the output phase; Adam 1e-3, weight decay = L2, clip 1.0 | same, Adam 3e-3 in `ci` | lr differs | faster miniature training |
# | Curriculum | horizons 10…100, advance above 0.9 or 0.98 | 10, 20, 40 at 0.96 | different | shorter training horizons; test at 200 in both |
# | Budget, seeds | 10 epochs × 2,000 batches of 64, 20 seeds, checkpoint by training accuracy | ≤ 1,500 steps, early stop at MSE 0.01, 2 seeds, last weights | different | miniature; fewer seeds |
# | Task ids | `(t1, t2, t3)` decoding | same decoding (`tasks.decode_task_id`) | same | T2/T3 follow Table 1's order |
# | Accuracy | $o \ge 0 \mapsto +1$ | $\operatorname{sign}(o)$; theirs printed too | different | zero outputs: 0.50 for them, 0 for us |
# | Spectral error | $\lvert\lambda\rvert > 0.9$, greedy phase matching; NaN on count mismatch | same matching; padded zeros keep an angle | different | their "—" is any count mismatch; we print both |
# | Table-1 cell | mean over seeds of per-seed best error / best accuracy | same aggregation, one run per seed | protocol | — |
# | Basis | $G = W_{hy}^{+}$, $\Psi_k = W_{hh}^{s-k} G$, columns normalised | same | same | — |
# | Rank reduction | keep memory $i$ if deleting it from $\Phi$ lowers #$\lvert\lambda\rvert > 0.8$ | same rule | same | compose tasks testable |
# | Extra directions | 10 PCA directions of the residual appended | omitted | different | none for the statistics (they use the kept memories only) |
# | Fig. 3 frames | each frame standardised (mean 0, sd 1) | raw $\Psi^{*} h(t)$ | different | our frames show amplitudes |
#
# Two of their functions are cheap to port (written here from their behaviour, in numpy) and to
# run on this chapter's networks: the spectral comparison (unit-normalised eigenvalues, angles
# by `arccos` of dot products, greedy in the order `eig` returns $\Phi$'s eigenvalues, no
# clipping) and the choice of the kept memories in their rank reduction.


# %%
def authors_spectral_error(Phi, W, cut=0.9):
    """Port of the authors' spectral comparison: NaN on a count
    mismatch (a padded zero normalised to unit length is 0/0)."""
    la, lb = np.linalg.eigvals(Phi), np.linalg.eigvals(W)
    la, lb = la[np.abs(la) > cut], lb[np.abs(lb) > cut]
    n = max(len(la), len(lb))
    la = np.r_[la, np.zeros(n - len(la))]
    lb = np.r_[lb, np.zeros(n - len(lb))]
    with np.errstate(invalid="ignore", divide="ignore"):
        ua = np.c_[la.real, la.imag] / np.abs(la)[:, None]
        ub = np.c_[lb.real, lb.imag] / np.abs(lb)[:, None]
        err = 0.0
        for a in ua:
            delta = np.arccos(ub @ a)  # no clipping, as in theirs
            k = int(np.argmin(np.abs(delta)))
            err += abs(delta[k])
            ub = np.delete(ub, k, axis=0)
    return err / n


def authors_kept(Phi, cut=0.8):
    """Port of their rank reduction's choice of memories."""
    count = (np.abs(np.linalg.eigvals(Phi)) > cut).sum()
    return [
        i
        for i in range(len(Phi))
        if (
            np.abs(
                np.linalg.eigvals(np.delete(np.delete(Phi, i, 0), i, 1))
            )
            > cut
        ).sum()
        < count
    ]


port = []  # the port's error for every run of every stack
for r in rows:
    W = rnns[r["hidden"], r["stack"]].W_hh[r["index"]].detach()
    port.append(
        authors_spectral_error(Phi_of[r["task"]], W.double().numpy())
    )
same = [r["n"] == r["n_theory"] for r in rows]
diff_same = [
    abs(p - r["err"])
    for p, r, ok in zip(port, rows, same, strict=True)
    if ok and not np.isnan(p)
]
nan_same = sum(np.isnan(p) for p, ok in zip(port, same, strict=True) if ok)
nan_diff = all(
    np.isnan(p) for p, ok in zip(port, same, strict=True) if not ok
)
kept_same = all(
    authors_kept(Phi_of[n])
    == analysis.persistent_coordinates(Phi_of[n]).tolist()
    for n in names
)
print(
    f"{sum(same)} runs with equal counts: max |ours - port| = "
    f"{max(diff_same, default=0):.1e} rad, port NaN on {nan_same}; "
    f"{len(rows) - sum(same)} runs with a count mismatch: port NaN on "
    f"all: {nan_diff}; kept memories identical: {kept_same}"
)
runtime.glue("a03_port_max_diff", max(diff_same, default=0.0))
runtime.glue("a03_port_nan_same", int(nan_same))
runtime.glue("a03_port_n_mismatch", len(rows) - sum(same))

# %% [markdown]
# Where the counts agree, the port gives our spectral error to within
# {glue:text}`a03_port_max_diff:.1e` rad (and NaN on {glue:text}`a03_port_nan_same` such runs,
# from `arccos` of a dot product that rounds above 1); on all
# {glue:text}`a03_port_n_mismatch` runs with a count mismatch it gives NaN, Table 1's "—".
#
# ## References
#
# ```{footbibliography}
# ```
