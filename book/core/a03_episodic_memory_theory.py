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
# batched bias-free RNNs on the four tasks at several hidden sizes and L2 strengths (the
# structure of the paper's Table 1, in miniature), and implements the basis. The paper's full
# text was not available to us: equations and protocols are reconstructed from the abstract
# and the authors' public code and notes, and marked [reconstructed] where they are.

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
#   accuracy 0.94–1.00 at hidden 64/128, L2 = 0).
# - **C3** "trained RNNs consistently converge to the variable binding circuit, thus indicating
#   universality": learned spectra match $\Phi$ (paper Table 1: mean spectral error
#   0.0005–0.0112 rad for converged runs).
# - **C4** the limits of Table 1: L2 = 0.1 breaks binding (accuracy 0.50, "—" for every task);
#   hidden 32 < $s d$ = 64 never converged.
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

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(
        d=4, s=4,
        # (hidden, L2): one batched model each
        stacks=[(8, 0.0), (64, 0.0), (64, 0.1)],
        task_ids={
            "T1": (15, 0, 0), "T2": (33825, 6, 9),
            "T3": (33825, 0, 0), "T4": (33825, 5, 5),
        },
        steps=1500, l2_steps=500, lr=3e-3, batch=64, horizons=(10, 20, 40),
        threshold=0.96, stop_mse=0.01, patience=20,
        test_horizon=200, test_batches=8, gsemm_N=24,
        glyph=["####", "...#", "..#.", ".#.."],
    ),
    full=dict(
        d=8, s=8,
        stacks=[
            (h, l2)
            for h in (32, 64, 128)
            for l2 in (0.0, 1e-3, 0.1, 10.0)
        ],
        task_ids=tasks.PAPER_TASKS,
        steps=3000, l2_steps=3000, lr=1e-3, batch=64,
        horizons=(10, 20, 40, 60, 100),
        threshold=0.96, stop_mse=0.01, patience=50,
        test_horizon=200, test_batches=8, gsemm_N=96,
        glyph=[
            "##.#.##.", ".#.#.#..", "##.#.##.", ".#.#..#.",
            "##.#.##.", "........", "........", "........",
        ],
    ),
)  # fmt: skip
d, s = P["d"], P["s"]
stacks = [tuple(st) for st in P["stacks"]]
n_mem = s * d  # number of variable memories: s subspaces of d dimensions

# %% [markdown]
# All claims, their kinds and their checks are fixed here, before any experiment. C1 is a
# *construction* (an exact equivalence: verified, not counted as a reproduction). C2–C6 are
# *empirical*. Thresholds follow the paper where it gives one: Table 1 counts a run as converged
# at test accuracy 0.9 and prints "—" otherwise; chance is 0.5. The 2° (0.035 rad) angle bound
# is three times the largest Table-1 error (0.0112 rad). The correlation bounds for the
# privileged basis come from our research notes (measured 0.97 on a scratch implementation)
# with slack. Every empirical claim carries a *negative control*: the same statistic on a
# model where it must fail (the networks before training; a random $W_{hh}$ with the trained
# spectral radius; for the failure claims of C4, the networks without L2 and with a hidden layer
# large enough). A control that passes makes the verdict "inconclusive". No claim declares a
# partial rule. Per-seed values are judged by their worst seed (`over="min"`/`"max"`).
#
# The L2 = 0 stack at hidden 64 is the same computation as chapter A01's trained networks (same
# seeds, data streams and settings; retrained here, not loaded): A01 C4 and C2/C3 below judge
# the same eight trained models.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Episodic Memory Theory: the mechanistic interpretation of RNNs")
ev, ctl, cx = claims.evidence, claims.control, claims.context
big = max(h for h, _ in stacks)
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
    "C2", f"Trained RNNs (hidden {big}, L2 = 0) solve T1–T4 and generalise to horizon 200.",
    kind="empirical", paper="Table 1 (h64/h128, L2=0): mean best test acc 0.94–1.00",
    checks=[
        ev("min_test_acc", ">=", 0.9, "worst task's bit accuracy at horizon 200", over="min",
           tol=0.01),
        ctl("init_min_test_acc", "min_test_acc", "the same networks before training", over="min",
            tol=0.01),
    ],
)
report.claim(
    "C3", "Universality: trained RNNs converge to the variable-binding circuit (spectrum of W_hh "
    "vs Φ).",
    kind="empirical", paper="Table 1: spectral error 0.0005–0.0112 rad (converged runs)",
    checks=[
        ev("count_match", "==", 1.0, f"converged runs (h={big}, L2=0): #|λ|>0.9 = Φ's",
           over="min"),
        ev("max_err_rad", "<", 0.035, "worst converged run's mean angle error (rad)", over="max",
           tol=0.01),
        ctl("init_count_match", "count_match", "the same networks before training", over="min"),
        ctl("random_max_err_rad", "max_err_rad", "random W_hh, trained spectral radius",
            over="max", tol=0.02),
    ],
)
report.claim(
    "C4", "L2 = 0.1 breaks variable binding; a hidden layer smaller than the circuit cannot store "
    "the variables.",
    kind="empirical", paper="Table 1: L2=0.1 → acc 0.50, '—'; h=32 < sd never converged",
    checks=[
        ev("l2_max_acc", "<=", 0.6, f"L2=0.1 (h={big}): best task's accuracy", over="max",
           tol=0.01),
        ev("l2_max_count", "==", 0, "L2=0.1: most eigenvalues with |λ|>0.9", over="max"),
        ev("small_max_acc", "<", 0.9, "hidden < sd, L2=0: best task's accuracy", over="max",
           tol=0.05),
        ctl("no_l2_max_acc", "l2_max_acc", f"the same stack without L2 (h={big}, L2=0)",
            over="max", tol=0.01),
        ctl("no_l2_max_count", "l2_max_count", f"the same stack without L2 (h={big}, L2=0)",
            over="max"),
        ctl("big_max_acc", "small_max_acc", f"hidden {big} ≥ sd, L2=0", over="max", tol=0.01),
    ],
)
report.claim(
    "C5", "The privileged basis reveals the neurons that store and compose variables: "
    "Ψ* W_hh Ψ ≈ Φ, Ψ* h(t) = the variables.",
    kind="empirical", paper="Figs. 3–4 (qualitative)",
    checks=[
        ev("min_boundary_corr_T1", ">=", 0.9, "T1: corr(boundary rows of Ψ*W_hhΨ, Fᵀ)",
           over="min", tol=0.001),
        ev("min_state_corr_T1", ">=", 0.9, "T1: corr(Ψ*h(t), last s outputs)", over="min",
           tol=0.01),
        ctl("init_boundary_corr", "min_boundary_corr_T1", "the same T1 networks before training",
            over="min", tol=0.5),
        ctl("init_state_corr", "min_state_corr_T1", "the same T1 networks before training",
            over="min", tol=0.05),
    ],
)
report.claim(
    "C6", "The privileged basis enhances interpretability of the learned parameters and hidden "
    "states.",
    kind="empirical", paper="qualitative (Figs. 3–4 vs raw weights)",
    checks=[
        ev("min_weight_gain", ">=", 2.0, "T1: row concentration of Ψ*W_hhΨ over W_hh's",
           over="min", tol=0.5),
        ev("min_state_gain", ">=", 2.0, "T1: variable read-out, Ψ* over best single neuron",
           over="min", tol=0.05),
        ctl("init_weight_gain", "min_weight_gain", "the same T1 networks before training",
            over="min", tol=1.0),
        ctl("random_weight_gain", "min_weight_gain", "random W_hh, trained radius; trained W_hy",
            over="min", tol=2.0),
        ctl("init_state_gain", "min_state_gain", "the same T1 networks before training",
            over="min", tol=0.1),
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
# batch accuracy reaches the threshold (the paper: Adam 1e-3, clip 1.0, curriculum
# 10 → … → 100). For every (hidden size, L2) pair, all tasks × seeds form one stacked model
# trained in one forward/backward pass; each run keeps its own data, clipping, curriculum and
# early stop, so it ends where it would end alone. The T2/T3 labels differ between the
# authors' notebooks, so every result carries its task id. In `ci` the L2 > 0 stacks get 500
# steps instead of 1,500: with L2 = 0.1 the weights collapse onto the zero-output fixed point
# (batch MSE exactly 1) within the first hundred steps in our scratch runs, and the printout
# below shows the final MSE, so the shorter budget does not change where they end.

# %%
# the runs of every stack
grid = [(name, seed) for seed in ctx.seeds for name in names]
F_stack = tasks.operator_stack(
    [P["task_ids"][name] for name, _ in grid], d, s
)
data_seeds = [1000 * seed + names.index(name) for name, seed in grid]
rnns, histories, test_acc, inits = {}, {}, {}, {}
for hidden, l2 in stacks:
    rnn = rnns[hidden, l2] = models.BatchedElmanRNN(
        d, hidden, seeds=[seed for _, seed in grid], device=ctx.device
    )
    # for the controls
    inits[hidden, l2] = {
        k: v.detach().clone() for k, v in rnn.state_dict().items()
    }
    histories[hidden, l2] = train.fit(
        rnn,
        F_stack,
        d,
        s,
        data_seeds=data_seeds,
        steps=P["steps"] if l2 == 0 else P["l2_steps"],
        lr=P["lr"],
        batch=P["batch"],
        horizons=P["horizons"],
        threshold=P["threshold"],
        clip=1.0,
        weight_decay=l2,
        target_loss=P["stop_mse"],
        patience=P["patience"],
    )
    test_acc[hidden, l2] = train.bit_accuracy(
        rnn,
        F_stack,
        d,
        s,
        horizon=P["test_horizon"],
        data_seeds=[10**6 + k for k in data_seeds],
        batches=P["test_batches"],
        batch=P["batch"],
    )
    hist = histories[hidden, l2]
    print(
        f"hidden {hidden}, L2 {l2:g}: {len(grid)} runs, "
        f"{hist.steps} steps, {hist.seconds:.1f} s, "
        f"final batch MSE {np.nanmin(hist.loss[-1]):.3f}.."
        f"{np.nanmax(hist.loss[-1]):.3f}"
    )

# %% [markdown]
# The spectral error is the paper's: keep the eigenvalues with $|\lambda| > 0.9$ of $W_{hh}$ and of
# $\Phi$, pad the shorter list with zeros, match each theoretical eigenvalue greedily to the
# nearest remaining learned one by phase, and average the absolute phase differences
# (radians, as in Table 1):
#
# $$\varepsilon = \frac{1}{n}\sum_{i=1}^{n} \big|\arg \lambda_i^{\Phi} - \arg \lambda_{\pi(i)}^{W_{hh}}\big| .$$
#
# Table 1 averages it over converged runs (test accuracy ≥ 0.9) and prints "—" when none converged.

# %%
rows = []
for hidden, l2 in stacks:
    for i, (name, seed) in enumerate(grid):
        sp = analysis.spectrum_comparison(
            rnns[hidden, l2].W_hh[i], Phi_of[name]
        )
        rows.append(
            dict(
                task=name,
                tid=P["task_ids"][name],
                hidden=hidden,
                l2=l2,
                seed=seed,
                acc=float(test_acc[hidden, l2][i]),
                n=sp["n_learned"],
                n_theory=sp["n_theory"],
                err=float(np.radians(sp["mean_angle_deg"])),
            )
        )
for r in rows:
    print(
        f"{r['task']} {r['tid']} h={r['hidden']} L2={r['l2']:g} "
        f"seed {r['seed']}: acc@{P['test_horizon']} {r['acc']:.3f}, "
        f"|λ|>0.9: {r['n']} (theory {r['n_theory']}), "
        f"error {r['err']:.4f} rad"
    )

# %% [markdown]
# The miniature Table 1 (mean spectral error in radians over converged runs, mean test accuracy
# in brackets), next to the paper's values (its task ids are the $d = s = 8$ versions of ours; our
# hidden sizes below $sd$ are set beside the paper's h = 32 row, which never converged).

# %%
# paper's Table 1 [authors' notebook]: (task, hidden) -> values at
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
    """The matching Table-1 entry; a hidden layer below sd maps to the
    paper's h = 32 (never converged)."""
    if hidden < n_mem:
        return "h=32: —"
    ph = hidden if hidden in (64, 128) else 64
    l2_col = {0.0: 0, 1e-3: 1, 0.1: 2}.get(l2)
    return (
        f"h={ph}: {table1[name, ph][l2_col]}"
        if l2_col is not None
        else f"h={ph}: (not in notes)"
    )


print(f"{'task':4} {'hidden':>6} {'L2':>6}  {'ours':>16}  paper (d=s=8)")
for name in names:
    for hidden, l2 in stacks:
        sel = [
            r
            for r in rows
            if r["task"] == name
            and r["hidden"] == hidden
            and r["l2"] == l2
        ]
        conv = [r["err"] for r in sel if r["acc"] >= 0.9]
        cell = f"{np.mean(conv):.4f}" if conv else "—"
        acc = np.mean([r["acc"] for r in sel])
        print(
            f"{name:4} {hidden:6d} {l2:6g}  {cell + f' ({acc:.2f})':>16}  "
            f"{paper_cell(name, hidden, l2)}"
        )

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.8))
for ax, name in zip(axes, names, strict=True):
    i = grid.index((name, ctx.seeds[0]))
    lam_l, lam_t = (
        analysis.eigenvalues(rnns[big, 0.0].W_hh[i]),
        analysis.eigenvalues(Phi_of[name]),
    )
    plots.spectrum(ax, lam_l, lam_t, f"{name} {P['task_ids'][name]}")
axes[0].set_ylabel(r"Im $\lambda$")
axes[0].legend(loc="lower left", fontsize=6)
fig.suptitle(f"spectra, hidden {big}, L2 = 0, seed {ctx.seeds[0]}")
plt.show()

# %% [markdown]
# The controls: the same statistics on the L2 = 0 networks of the largest hidden size *before*
# training (their initial weights, their accuracy at horizon 200), and on a random Gaussian $W_{hh}$ per
# converged run, scaled to that run's trained spectral radius; for C4, whose claim is a failure,
# the controls are the networks where binding must *not* break (the same stack without L2; a
# hidden layer of at least $sd$ units), which must fail C4's rules. Every statistic is reduced per
# seed over the tasks (worst task for C2/C3, best task for C4, as in the rules), then judged on
# the worst seed.

# %%
init_rnn = models.BatchedElmanRNN.from_weights(
    *(inits[big, 0.0][k] for k in ("W_hh", "W_ih", "W_hy"))
)
init_acc = train.bit_accuracy(
    init_rnn,
    F_stack,
    d,
    s,
    horizon=P["test_horizon"],
    data_seeds=[10**6 + k for k in data_seeds],
    batches=P["test_batches"],
    batch=P["batch"],
)
# in grid order
main = [r for r in rows if r["hidden"] == big and r["l2"] == 0.0]
conv_idx = [i for i, r in enumerate(main) if r["acc"] >= 0.9]
init_sp, rand_sp = {}, {}
for i in conv_idx:
    name, seed = grid[i]
    init_sp[i] = analysis.spectrum_comparison(
        init_rnn.W_hh[i].detach(), Phi_of[name]
    )
    W_r = torch.randn(
        big,
        big,
        generator=runtime.generator(seed, 500 + i),
        dtype=torch.float64,
    )
    rho = float(
        np.abs(analysis.eigenvalues(rnns[big, 0.0].W_hh[i].detach())).max()
    )
    rand_sp[i] = analysis.spectrum_comparison(
        W_r * rho / float(np.abs(analysis.eigenvalues(W_r)).max()),
        Phi_of[name],
    )


def by_seed(rows_, key, worst):
    """One value per seed: ``worst`` (min or max) of ``key`` over that
    seed's rows."""
    return [
        float(worst(r[key] for r in rows_ if r["seed"] == seed))
        for seed in ctx.seeds
    ]


def conv_seed(values, worst, empty):
    """One value per seed over its converged runs (``empty`` when none
    converged)."""
    return [
        float(
            worst(
                (values[i] for i in conv_idx if grid[i][1] == seed),
                default=empty,
            )
        )
        for seed in ctx.seeds
    ]


def frac(flags):
    # per seed: the fraction of converged runs that match
    return float(np.mean(flags)) if flags else 0.0


strong = [r for r in rows if r["hidden"] >= n_mem and r["l2"] >= 0.1]
small = [r for r in rows if r["hidden"] < n_mem and r["l2"] == 0.0]
c2 = {
    "min_test_acc": by_seed(main, "acc", min),
    "init_min_test_acc": by_seed(
        [
            dict(seed=seed, acc=float(a))
            for (_, seed), a in zip(grid, init_acc, strict=True)
        ],
        "acc",
        min,
    ),
}
c3 = {
    "count_match": [
        frac(
            [
                float(main[i]["n"] == main[i]["n_theory"])
                for i in conv_idx
                if grid[i][1] == seed
            ]
        )
        for seed in ctx.seeds
    ],
    "max_err_rad": conv_seed(
        {i: main[i]["err"] for i in conv_idx}, max, np.pi
    ),
    "init_count_match": [
        frac(
            [
                float(init_sp[i]["counts_equal"])
                for i in conv_idx
                if grid[i][1] == seed
            ]
        )
        for seed in ctx.seeds
    ],
    "random_max_err_rad": conv_seed(
        {i: np.radians(rand_sp[i]["mean_angle_deg"]) for i in conv_idx},
        max,
        np.pi,
    ),
}
c4 = {
    "l2_max_acc": by_seed(strong, "acc", max),
    "l2_max_count": by_seed(strong, "n", max),
    "small_max_acc": by_seed(small, "acc", max),
    "no_l2_max_acc": by_seed(main, "acc", max),
    "no_l2_max_count": by_seed(main, "n", max),
    "big_max_acc": by_seed(main, "acc", max),
}
for key, value in {**c2, **c3, **c4}.items():
    print(f"{key}: {np.round(value, 4).tolist()}")
    runtime.glue(
        f"a03_{key}",
        float(
            min(value)
            if key.startswith(("min", "init", "random"))
            else max(value)
        ),
    )
report.measure("C2", c2)
report.measure("C3", c3)
report.measure("C4", c4)

# %% [markdown]
# At the largest hidden size without L2, the largest spectral error of a converged run is
# {glue:text}`a03_max_err_rad:.4f` rad (Table 1: 0.0005–0.0112 rad) and the lowest accuracy at
# horizon 200 is {glue:text}`a03_min_test_acc:.3f`. With L2 = 0.1
# the best run reaches {glue:text}`a03_l2_max_acc:.3f`: the outputs are exactly zero, which the
# sign metric scores as wrong (the paper's 0.50 is chance). With a hidden layer smaller than the
# $sd$ memories of the circuit the best run reaches {glue:text}`a03_small_max_acc:.3f`; storing
# only some of the cycles of a task gives partial credit (about 0.875 at most for T2–T4 with 8 of
# their 10 stored entries), below Table 1's convergence bar of 0.9.
#
# The controls fail every rule, as they must: before training the same networks score
# {glue:text}`a03_init_min_test_acc:.3f` at horizon 200 (their outputs decay to zero) and have no
# eigenvalue above 0.9; random matrices with the trained spectral radius miss the angles by
# {glue:text}`a03_random_max_err_rad:.2f` rad or more; and without L2, at the largest hidden size,
# the same tasks reach {glue:text}`a03_no_l2_max_acc:.2f`, so C4's two failure rules can fail.
# What these controls do not rule out is the review's point (issue 16): the eigenvalue
# fingerprint at the origin would be shared by any near-linear solution of the task, so C3 shows
# that training finds *a* solution with the circuit's linearisation, not that it finds this
# circuit rather than another.
#
# ## The privileged basis (C5)
#
# The trained network implements $\Phi$ in an unknown basis, $W_{hh} \approx \Psi \Phi \Psi^{+}$. The
# basis can be recovered from the weights alone [reconstructed from the authors' code]: the
# readout reads subspace $s$, so the *output-grounded* directions $G = W_{hy}^{+}$ span it; the
# shift carries subspace $s$ to subspace $k$ in $s - k$ steps, so
#
# $$\Psi_k = \operatorname{normalise}\big(W_{hh}^{\,s-k}\, W_{hy}^{+}\big), \qquad
#   \Psi = [\Psi_1, \dots, \Psi_s], \qquad \Psi^{*} = \Psi^{+},$$
#
# and $\Psi^{*} W_{hh} \Psi$ should be $\Phi$ (up to the column normalisation, which is 1 in the
# linear regime), and $\Psi^{*} h(t)$ reshaped $s \times d$ should hold the last $s$ outputs,
# variable by variable.


#
# The library's `analysis.privileged_basis` implements exactly these three lines (it is unit-tested
# on constructed circuits where $\Psi^{*} W_{hh} \Psi = \Phi$ holds exactly):
#
# ```python
# blocks = [pinv(W_hy)]                      # G = W_hy^+: subspace s
# for _ in range(s - 1):
#     blocks.insert(0, W_hh @ blocks[0])     # Psi_k = W_hh^(s-k) G
# Psi = normalise_columns(cat(blocks));  Psi_star = pinv(Psi)
# ```


# %%
privileged_basis = analysis.privileged_basis


def row_concentration(W: torch.Tensor) -> float:
    """Mean over rows of max_j W_ij^2 / sum_j W_ij^2: 1 for a signed
    permutation, ~2/h for noise."""
    W2 = W.pow(2)
    return float((W2.max(dim=1).values / W2.sum(dim=1)).mean())


# %%
T1_runs = [grid.index(("T1", seed)) for seed in ctx.seeds]
rnn = rnns[big, 0.0]
gens = [
    torch.Generator().manual_seed(3 * 10**6 + data_seeds[i])
    for i in T1_runs
]
x_e, y_e, _ = tasks.variable_binding_batch(
    np.stack([F_of["T1"]] * len(T1_runs)),
    d,
    s,
    3 * s,
    256,
    gens,
    device=ctx.device,
)


def basis_scores(net, runs_idx):
    """C5/C6 statistics per T1 run of a stack, and the last run's basis
    and Ψ*W_hhΨ."""
    with torch.no_grad():
        # (runs, batch, T, h)
        _, H_e = net(x_e, models=torch.tensor(runs_idx, device=ctx.device))
    out = {
        "boundary": [],
        "state": [],
        "conc_priv": [],
        "conc_neur": [],
        "neuron_best": [],
    }
    for j, i in enumerate(runs_idx):
        W_hh, W_hy = (
            net.W_hh[i].detach().double(),
            net.W_hy[i].detach().double(),
        )
        Psi, Psi_star = privileged_basis(W_hh, W_hy, s)
        Phi_hat = (Psi_star @ W_hh @ Psi).numpy()
        out["boundary"].append(
            float(
                np.corrcoef(Phi_hat[-d:].ravel(), F_of["T1"].T.ravel())[
                    0, 1
                ]
            )
        )
        # (batch, t, subspace, dim)
        z = (H_e[j].double() @ Psi_star.T).reshape(256, -1, s, d)
        # last s outputs
        hist = torch.stack(
            [y_e[j, :, t - s + 1 : t + 1] for t in range(s - 1, 4 * s)], 1
        ).double()
        out["state"].append(
            float(np.corrcoef(z[:, s - 1 :].ravel(), hist.ravel())[0, 1])
        )
        out["conc_priv"].append(
            row_concentration(torch.as_tensor(Phi_hat))
        )
        out["conc_neur"].append(row_concentration(W_hh))
        H_s, x_s = (
            H_e[j][:, s - 1].double().numpy(),
            y_e[j, :, :s].reshape(256, -1).double().numpy(),
        )
        # neuron x input bit
        corr = np.corrcoef(np.c_[H_s, x_s].T)[
            : H_s.shape[1], H_s.shape[1] :
        ]
        out["neuron_best"].append(
            float(np.nanmean(np.nanmax(np.abs(corr), axis=0)))
        )
    return out, (W_hh, Psi_star, Phi_hat)


c5, (W_hh, Psi_star, Phi_hat) = basis_scores(rnn, T1_runs)
c5_init, _ = basis_scores(init_rnn, T1_runs)
print(
    "trained:", {k: [round(v, 3) for v in vals] for k, vals in c5.items()}
)
print(
    "before training:",
    {k: [round(v, 3) for v in vals] for k, vals in c5_init.items()},
)
runtime.glue("a03_init_boundary", max(c5_init["boundary"]))
runtime.glue("a03_init_state", max(c5_init["state"]))
report.measure(
    "C5",
    min_boundary_corr_T1=c5["boundary"],
    min_state_corr_T1=c5["state"],
    init_boundary_corr=c5_init["boundary"],
    init_state_corr=c5_init["state"],
)

# %% [markdown]
# The next figure mirrors the paper's Fig. 4: the trained $W_{hh}$ in the neuron basis, and
# $\Psi^{*} W_{hh} \Psi$ next to the theoretical $\Phi$ of repeat copy (T1, last seed of the run; the paper shows a T4 network at $d = s = 8$).

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, M_show, title in zip(
    axes,
    [W_hh.numpy(), Phi_hat, Phi_of["T1"]],
    [
        r"$W_{hh}$ (neuron basis)",
        r"$\Psi^* W_{hh} \Psi$",
        r"theory $\Phi$",
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
# network (repeat copy) and decodes $\Psi^{*} h(t)$, reshaped $s \times d$, at the first $2s + 1$ steps.

# %%
# (s, d)
glyph = torch.tensor(
    [[1.0 if c == "#" else -1.0 for c in row] for row in P["glyph"]]
)
x_g = torch.zeros(1, 1, 3 * s, d)
x_g[0, 0, :s] = glyph
with torch.no_grad():
    _, H_g = rnn(
        x_g.to(ctx.device),
        models=torch.tensor(T1_runs[-1:], device=ctx.device),
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
# step, and re-enters at the boundary after $s$ steps: the "7" is readable at every step after
# the input phase. In the neuron basis the same states are a scatter of activity.
#
# The controls: built from the same networks before training, the basis decodes nothing (state
# correlation at most {glue:text}`a03_init_state:.2f`) and its boundary block is unrelated to
# $F^\top$ (correlation at most {glue:text}`a03_init_boundary:.2f`). Both C5 checks fail on
# untrained weights, so their pass on the trained T1 networks is evidence of what training
# built; they are tested on repeat copy only (see "Differences from the paper").
#
# ## Does the basis help a reader? (C6)
#
# A picture is not a measurement, so we score both views with two numbers. For the weights, the
# *row concentration* $\frac{1}{n}\sum_i \max_j W_{ij}^2 / \sum_j W_{ij}^2$: a signed permutation such as
# the repeat-copy $\Phi$ scores 1 (every unit listens to one unit), unstructured weights score
# about $2/n$. For the hidden states, how well the stored variables can be read: in the
# privileged basis the correlation of $\Psi^{*} h(t)$ with the true variables; in the neuron basis,
# for each input bit the best single neuron's $|\mathrm{corr}|$ at $t = s$, averaged over bits.

# %% [markdown]
# The controls score the same two gains on the T1 networks before training, and the weight gain
# on a random Gaussian $W_{hh}$ scaled to each trained network's spectral radius (with the
# trained $W_{hy}$, which grounds the basis).


# %%
def gains(scores):
    return (
        [
            p / n
            for p, n in zip(
                scores["conc_priv"], scores["conc_neur"], strict=True
            )
        ],
        [
            p / n
            for p, n in zip(
                scores["state"], scores["neuron_best"], strict=True
            )
        ],
    )


weight_gain, state_gain = gains(c5)
init_weight_gain, init_state_gain = gains(c5_init)
random_weight_gain = []
for j, i in enumerate(T1_runs):
    W_r = torch.randn(
        big,
        big,
        generator=runtime.generator(ctx.seeds[j], 700 + j),
        dtype=torch.float64,
    )
    W_r *= float(
        np.abs(analysis.eigenvalues(rnn.W_hh[i].detach())).max()
    ) / float(np.abs(analysis.eigenvalues(W_r)).max())
    Psi_r, Psi_r_star = privileged_basis(
        W_r, rnn.W_hy[i].detach().double(), s
    )
    random_weight_gain.append(
        row_concentration(Psi_r_star @ W_r @ Psi_r)
        / row_concentration(W_r)
    )
for seed, cp, cn, sp_, nb in zip(
    ctx.seeds,
    c5["conc_priv"],
    c5["conc_neur"],
    c5["state"],
    c5["neuron_best"],
    strict=True,
):
    print(
        f"T1 seed {seed}: row concentration {cp:.3f} (privileged) "
        f"vs {cn:.3f} (neurons); variable read-out {sp_:.3f} "
        f"(privileged) vs {nb:.3f} (best neuron)"
    )
print(
    f"weight gain: trained {np.round(weight_gain, 2)}, "
    f"before training {np.round(init_weight_gain, 2)}, "
    f"random W_hh {np.round(random_weight_gain, 2)}; "
    f"state gain: trained {np.round(state_gain, 2)}, "
    f"before training {np.round(init_state_gain, 2)}"
)
runtime.glue("a03_weight_gain", min(weight_gain))
runtime.glue("a03_state_gain", min(state_gain))
runtime.glue("a03_neuron_best", float(np.mean(c5["neuron_best"])))
runtime.glue("a03_init_weight_gain", min(init_weight_gain))
runtime.glue("a03_random_weight_gain", min(random_weight_gain))
runtime.glue("a03_init_state_gain", max(init_state_gain))
report.measure(
    "C6",
    min_weight_gain=weight_gain,
    min_state_gain=state_gain,
    init_weight_gain=init_weight_gain,
    random_weight_gain=random_weight_gain,
    init_state_gain=init_state_gain,
)

# %% [markdown]
# The privileged basis concentrates the weights at least {glue:text}`a03_weight_gain:.1f` times more
# than the neuron basis, and reads the variables at least {glue:text}`a03_state_gain:.1f` times
# better than the best single neuron. Neither half supports the claim:
#
# - **Weights: the control passes, so the test cannot tell.** The same construction applied to
#   the networks *before training* gains at least {glue:text}`a03_init_weight_gain:.1f`, and
#   applied to a random $W_{hh}$ with the trained spectral radius at least
#   {glue:text}`a03_random_weight_gain:.1f`, both far above the bar of 2. This follows from the
#   Krylov construction: $W_{hh}\Psi_k$ is, column by column, a multiple of $\Psi_{k-1}$, so
#   $(s-1)d$ of the $sd$ columns of $\Psi^{*} W_{hh} \Psi$ are unit shifts for *any* $W_{hh}$, and
#   most of its rows look like those of a permutation, while a matrix in the neuron basis has
#   no such structure. The weight gain measures the basis, not what training put into it; the
#   part of $\Psi^{*} W_{hh} \Psi$ that can fail is its boundary block, which C5 tests (and which
#   the controls there do fail). C6 is therefore **inconclusive**.
# - **States: fails on the trained networks.** The read-out gain stays below the pre-registered
#   factor 2 (the control, before training, reads nothing: {glue:text}`a03_init_state_gain:.2f`).
#   In the neuron basis a single unit already follows one input bit with correlation about
#   {glue:text}`a03_neuron_best:.2f`, so the hidden states are less opaque than the weights.
#
# ## Claims
#
# The cell below prints only what no profile, device or seed changes: the paper's task ids
# decoded, and the sizes of the circuits.

# %% tags=["nbval-check-output"]
for tid in tasks.PAPER_TASKS.values():
    lam = analysis.eigenvalues(
        tasks.phi_from_operator(tasks.decode_task_id(tid, 8, 8), 8, 8)
    )
    print(
        f"paper task {tid}: "
        f"|λ|>0.9 of Phi = {(np.abs(lam) > 0.9).sum()} of 64"
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
# default seeds {0, 1} and with two other seed sets, {2, 3} and {4, 5} (disjoint, same size).
# Each `tol` is at least the largest change between seed sets, rounded up to a 1-2-5 step.
# The 2-thread path was measured afterwards on a quiet machine
# (`python -m rnnbook.runner variation a03 --threads 2`, which keeps the seed-set runs): every
# value agreed exactly with the 1-thread run, so the thread-path rule (`tol` ≥ 3 × the thread
# change) holds for every check, and the table below checks it.

# %%
report.tolerances("../../data/a03_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale (miniature).** `ci` uses $d = s = 4$ (16 variable memories), hidden sizes 8 and 64,
#   L2 ∈ {0, 0.1} (only 0 at hidden 8), two seeds, at most 1,500 Adam steps at learning rate 3e-3,
#   curriculum 10 → 20 → 40, and task ids chosen for $d = s = 4$: T1 `(15, 0, 0)` repeat copy,
#   T2-like `(33825, 6, 9)`, T3 compose copy `(33825, 0, 0)`, T4-like `(33825, 5, 5)`. The paper
#   uses $d = s = 8$, hidden 32/64/128, L2 ∈ {0, 1e-3, 0.1, 10}, two curriculum thresholds,
#   20 seeds, 10 epochs × 2,000 batches, curriculum up to 100. The `full` profile is sized for the
#   paper's grid with three seeds and 3,000 steps; it has **not been run** (no GPU here), so no
#   `a03.full.json` exists and the full-scale Table 1 is not reproduced in this version.
# - **Hidden-size limit.** The paper's failing size is 32 < 36, the dimension compose copy needs
#   at $d = s = 8$ ($8 + 7 + \dots + 1$ stored entries) and below $sd = 64$ for repeat copy. Our
#   miniature's 8 units are below both the 10 entries compose copy needs and the 16 of repeat copy.
# - **Accuracy metric.** Bit accuracy counts `sign(o) == y`. Under L2 = 0.1 the weights collapse so
#   far that the outputs of the output phase are exactly zero, and the metric scores them 0, where
#   the paper's table shows 0.50 (chance). Both say the same thing: nothing is stored.
# - **Reconstructed.** The GSEMM-to-RNN limit (which time constants go to zero, Euler step
#   $T_f$), the privileged-basis algorithm (output grounding, column normalisation), the
#   spectral error and Table 1's values come from the authors' code and notes, not the paper's
#   text. We did not implement the basis algorithm's rank-reduction step (dropping transient
#   directions), so C5 and C6 are tested on repeat copy only, where all $sd$ memories are
#   persistent; for the compose-copy tasks the un-reduced basis is ill-conditioned.
# - **Table 1 labels.** Our T2/T3 follow the authors' demo notebook (compose copy = T3); the
#   paper's Table 1 column order may differ, so every result prints its task id.
# - **Measure of interpretability (C6)** is ours; the paper argues from figures. Its weight half
#   was found, by its controls, to hold for untrained and random matrices (inconclusive); a
#   measure restricted to the boundary block would be the one that can fail.
# - **Shared runs with A01.** The L2 = 0 stack at the largest hidden size repeats A01's training
#   exactly (same seeds, data streams and settings), so A01 C4 and C2/C3 here judge the same eight
#   trained models; the agreement of the two chapters is not independent evidence.
# - **Controls** (the networks before training, random $W_{hh}$ with the trained spectral radius,
#   the L2 = 0 and large-hidden stacks for C4) are ours, added so that every empirical check can
#   be seen to fail where it should.
#
# ## References
#
# ```{footbibliography}
# ```
