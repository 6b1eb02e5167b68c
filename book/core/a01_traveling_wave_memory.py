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
# # A01 · Traveling waves as a model of neural working memory
#
# Karuvally, Sejnowski and Siegelmann {footcite}`karuvally2024traveling` propose that working memory
# need not sit in static, register-like slots: a lattice of neurons can hold the recent past as
# *traveling waves*, each input entering at one edge and moving one cell per time step, while a
# *boundary condition* at the entry edge computes the next value from the whole lattice. With a
# linear boundary this is a shift matrix plus a low-rank matrix, the same object that trained
# Elman RNNs {footcite}`elman1990finding` turn out to learn on history-dependent tasks; with a
# self-attention boundary it is the autoregressive loop of an attention-only transformer
# {footcite}`vaswani2017attention`. This chapter builds the lattice, checks the exact statements
# numerically, trains small bias-free RNNs on the variable-binding tasks of the companion
# paper {footcite}`karuvally2023emt`, and looks for the waves and their effect on gradients.
# The paper's full text was not available to us: its equations and experiments are
# reconstructed from the abstract, the authors' code for the companion paper and a public blog
# summary, and marked as such below.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# C1–C3 are constructions (identities and exact equivalences, verified rather than reproduced);
# C4–C6 are empirical, each with negative controls (the networks before training, random
# and random orthogonal $W_{hh}$; for C6(b), orthogonal and identity initialisations).
#
# - **C1** "a theoretical model of neural working memory" built from "traveling wave dynamics
#   within a neural lattice" represents state histories exactly (Theorem 3.1 [reconstructed];
#   example: generalized Fibonacci).
# - **C2** "linear boundary condition": the lattice is a shift plus a low-rank matrix, and every
#   change of basis gives another RNN with the same dynamics and spectrum.
# - **C3** "the non-linear scenario parallels the autoregressive loop of an attention-only
#   transformer" (self-attention boundary condition).
# - **C4** "the linear scenario is effectively learned by Recurrent Neural Networks (RNNs)
#   through backpropagation when modeling history-dependent dynamical systems": the eigenvalues
#   of trained `W_hh` match the theory (paper: figures *spectrum_T1..T4*) and the RNNs
#   generalise far beyond the trained horizon.
# - **C5** "the model reliably stores external information": the hidden state carries the
#   inputs as traveling waves (paper: the input "315" moving through the hidden state).
# - **C6** the waves "enhance the learning process by addressing the diminishing gradient
#   problem" (paper: *gradient_propagation*, before vs after training).
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

ctx = runtime.setup(
    "a01", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(
        d=4, s=4, hidden=64,
        task_ids={
            "T1": (15, 0, 0), "T2": (33825, 6, 9),
            "T3": (33825, 0, 0), "T4": (33825, 5, 5),
        },
        steps=1500, lr=3e-3, batch=64, horizons=(10, 20, 40),
        threshold=0.96, stop_mse=0.01, patience=20,
        test_horizon=200, test_batches=10,
        speed_d=4, speed_s=8, speed_hidden=64, speed_steps=600,
        glyph=["####", "...#", "..#.", ".#.."],
    ),
    full=dict(
        d=8, s=8, hidden=128,
        task_ids=tasks.PAPER_TASKS,
        steps=20000, lr=1e-3, batch=64, horizons=(10, 20, 40, 60, 100),
        threshold=0.96, stop_mse=0.01, patience=200,
        test_horizon=200, test_batches=10,
        speed_d=8, speed_s=8, speed_hidden=128, speed_steps=6000,
        glyph=[
            "##.#.##.", ".#.#.#..", "##.#.##.", ".#.#..#.",
            "##.#.##.", "........", "........", "........",
        ],
    ),
)  # fmt: skip
d, s, hidden = P["d"], P["s"], P["hidden"]

# %% [markdown]
# All claims, their kinds and their checks are fixed here, before any experiment runs. C1–C3
# are *constructions*: identities that hold by construction (verified, and a failure would stop
# the chapter as a bug); they are not counted as reproductions. C4–C6 are *empirical*: their
# evidence thresholds come from our research notes (values measured on a scratch
# implementation, with slack), and each carries a *negative control*, the same statistic on a
# model where it must fail (the networks before training, or a random $W_{hh}$ with the trained
# spectral radius). A control that passes makes the verdict "inconclusive". No claim declares a
# partial rule, so a claim is either reproduced or not. Per-seed values are judged by their
# worst seed (`over="min"`/`"max"`); `tol` is how far a re-execution may move a value (see
# "How the tolerances were obtained").
#
# **Added for issue 16, written before the runs that judge them.** (i) C5 and C6 get a second
# kind of control: a *random orthogonal* $W_{hh}$ (Haar, scaled to the spectral radius of the
# trained $W_{hh}$, with the trained $W_{ih}$ and $W_{hy}$): a norm-preserving network with no
# shift structure. Each is judged by the rule of the evidence check it controls and must fail
# it. (ii) C5 gets the re-entered block alone as evidence (`min_corr_boundary`, ≥ 0.9, the
# bar of `min_corr_next`), with the sign derived from the construction below (+1 on the exact
# TWM), not from a result. Its value on these seeds was already known (0.36–0.51 in `ci`,
# −0.947 in the `full` profile), so this check can only take credit away from C5, never give
# it. New controls are judged on their most favourable seed, so a control fails only if
# every seed fails. (iii) C6(b) gets two arms that keep the TWM arm's pre-installed write
# ($W_{ih} = \Psi E_s$) and readout ($W_{hy} = E_s^\top \Psi^\top$) but replace the shift: an
# orthogonal $W_{hh}$ (random, Haar) and the identity $W_{hh} = I$. Both are controls of
# `max_step_ratio` and must fail its rule (≤ 1/3). What they mean for the verdict: if either
# learns three times faster than the default init as well, the speed-up belongs to the
# pre-installed write and readout or to a norm-preserving $W_{hh}$, not to the wave, and C6 is
# inconclusive; if both fail while the TWM arm passes, the speed-up needs the shift.
# (iv) Reported, not judged (context): the linearisation error of the trained networks (the
# actual $h(t)$ against $h_{lin}(t) = \sum_k W_{hh}^{t-k} W_{ih} x(k)$) and their tanh
# saturation; how much of the re-entered vector lies outside the span of $\Psi$; the decoding
# in the authors' output-grounded basis; the actual over the linearised gradient at lag $s$.
# Some of these were seen in a scratch probe of the `ci` T1 networks before they were added,
# which is why none of them is judged.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Traveling waves as a model of neural working memory")
ev, ctl, cx = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "Traveling-wave dynamics in a neural lattice represent state histories: any "
    "history-dependent system, exactly.",
    kind="construction", paper="Theorem 3.1 [reconstructed]; generalized Fibonacci",
    checks=[
        ev("exact", "==", True, "TWM == direct recursion for 30 steps, exact integers"),
    ],
)
report.claim(
    "C2", "Linear boundary condition: a shift plus a low-rank matrix; any change of basis keeps "
    "dynamics and spectrum.",
    kind="construction", paper="infinitely many RNNs implement one TWM",
    checks=[
        ev("max_traj_err", "<", 1e-6, "5 random (F, P), d=4, s=5: output error", tol=1e-8),
        ev("max_eig_err", "<", 1e-8, "eigenvalues with |λ|>0.5: error after matching", tol=5e-11),
        ev("max_rank", "<=", 4, "rank(Φ − S), at most d = 4"),
    ],
)
report.claim(
    "C3", "The non-linear (self-attention) scenario parallels the autoregressive loop of an "
    "attention-only transformer.",
    kind="construction", paper="identity",
    checks=[
        ev("max_abs_diff", "<", 1e-10, "max |TWM-SBC − transformer| over 50 steps", tol=5e-16),
    ],
)
report.claim(
    "C4", "The linear scenario is effectively learned by RNNs through backpropagation "
    "(variable-binding tasks T1–T4).",
    kind="empirical", paper="learned spectra match Φ (spectrum_T1..T4); generalisation",
    checks=[
        ev("count_match", "==", 1.0, "fraction of tasks with #|λ|>0.9 = Φ's", over="min"),
        ev("max_angle_deg", "<", 2.0, "worst task's mean angle error (°)", over="max", tol=0.5),
        ev("min_test_acc", ">=", 0.95, "worst task's accuracy, horizon 200", over="min", tol=0.01),
        ctl("init_count_match", "count_match", "the same networks before training", over="min"),
        ctl("init_max_angle_deg", "max_angle_deg", "the same networks before training", over="max",
            tol=0.1),
        ctl("random_max_angle_deg", "max_angle_deg", "random W_hh, trained spectral radius",
            over="max", tol=5.0),
        ctl("init_min_test_acc", "min_test_acc", "the same networks before training", over="min",
            tol=0.01),
    ],
)
report.claim(
    "C5", "The model reliably stores external information: the inputs travel through the hidden "
    "state as waves.",
    kind="empirical", paper="input '315' travels through the hidden state (wave_prop_RNN)",
    checks=[
        ev("min_corr_t_s", ">=", 0.95, "T1, Ψ_k = W_hh^(s−k) W_ih: corr(Ψ⁺h(s), x(1..s))",
           over="min",
           tol=2e-4),
        ev("min_corr_next", ">=", 0.9, "all s blocks of Ψ⁺h(s+1) vs (x(2..s), y(s+1))",
           over="min",
           tol=0.02),
        ev("min_corr_boundary", ">=", 0.9, "re-entered block of Ψ⁺h(s+1) vs y(s+1) (sign +)",
           over="min", tol=0.2),
        ctl("init_corr_t_s", "min_corr_t_s", "the same T1 networks before training", over="min",
            tol=2e-4),
        ctl("init_corr_next", "min_corr_next", "the same T1 networks before training", over="min",
            tol=0.02),
        ctl("init_corr_boundary", "min_corr_boundary", "the same T1 networks before training",
            over="max", tol=0.5),
        ctl("rorth_corr_t_s", "min_corr_t_s", "random orthogonal W_hh, trained radius, W_ih, W_hy",
            over="max", tol=5e-4),
        ctl("rorth_corr_next", "min_corr_next", "random orthogonal W_hh (as above)", over="max",
            tol=0.02),
        ctl("rorth_corr_boundary", "min_corr_boundary", "random orthogonal W_hh (as above)",
            over="max", tol=0.2),
        cx("min_corr_shifted", "blocks 1..s−1 of Ψ⁺h(s+1) vs x(2..s)", over="min", tol=0.001),
        cx("mean_corr_boundary", "re-entered block vs y(s+1)", over="mean", tol=0.5),
        cx("boundary_gain", "mean diagonal of the block-s coefficient of W_hh^s W_ih (TWM: 1)",
           over="mean", tol=0.1),
        cx("out_of_span", "share of ‖W_hh^s W_ih‖ outside span Ψ (TWM: 0)", over="min",
           tol=0.01),
        cx("out_corr_next", "authors' basis Ψ_k = W_hh^(s−k) W_hy⁺: all blocks at s+1",
           over="min", tol=0.02),
        cx("lin_err_s", "‖h(s) − h_lin(s)‖ / ‖h(s)‖, trained T1", over="max", tol=0.02),
        cx("lin_err_2s", "the same at t = 2s (s steps into the output phase)", over="max",
           tol=0.05),
        cx("saturation", "share of |h_i(t)| > 0.9, t ≤ 2s, trained T1", over="max", tol=0.01),
    ],
)
report.claim(
    "C6", "Waves enhance the learning process by addressing the diminishing gradient problem.",
    kind="empirical", paper="trained RNNs propagate gradients better (gradient_propagation)",
    checks=[
        ev("init_decay_log10", ">=", 2.0, "before training: log10 ‖∂o/∂x‖ at k=0 over k=11",
           over="min", tol=0.5),
        ev("trained_lag_s", ">=", 0.5, "trained T1: ‖∂o(T)/∂x(T−s)‖", over="min",
           tol=0.05),
        ev("trained_over_init_log10", ">=", 1.0, "log10 trained / before training, lag s",
           over="min", tol=0.05),
        ev("max_step_ratio", "<=", 1 / 3, "steps to 99 %: TWM init / default init", over="max",
           tol=0.05),
        ctl("init_lag_s", "trained_lag_s", "the same T1 networks before training", over="min",
            tol=0.01),
        ctl("random_lag_s", "trained_lag_s", "trained W_ih, W_hy; random W_hh, same radius",
            over="min", tol=0.2),
        ctl("rorth_lag_s", "trained_lag_s", "trained W_ih, W_hy; random orthogonal W_hh, "
            "same radius", over="max", tol=0.2),
        ctl("orth_step_ratio", "max_step_ratio", "TWM write/readout, orthogonal W_hh: / default",
            over="min", tol=0.02),
        ctl("ident_step_ratio", "max_step_ratio", "TWM write/readout, W_hh = I: / default",
            over="min", tol=0.1),
        cx("lin_grad_ratio", "trained T1, lag s: actual / linearised ‖W_hy W_hh^s W_ih‖",
           over="min", tol=0.05),
    ],
)
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The traveling-wave lattice (C1)
#
# A history-dependent dynamical system (HDS) computes its next state from the last $s$ states,
# $x(t+1) = f\big(x(t), \dots, x(t-s+1)\big)$ with $x \in \mathbb{R}^d$. The traveling-wave memory
# (TWM) stores this history in a lattice $h_{i,j}$ with $s$ positions $i$ and $d$ independent
# waves $j$. Discretising the one-way wave equation $\partial_t u + c\,\partial_i u = 0$ with the
# upwind scheme at Courant number $C = c\,\Delta t/\Delta i = 1$ makes propagation an exact
# shift, and the entry edge applies $f$ to the whole lattice (the *boundary condition*):
#
# $$h_{i}(t+1) = h_i(t) - C\,\big(h_i(t) - h_{i+1}(t)\big) = h_{i+1}(t) \quad (i < s), \qquad
#   h_{s}(t+1) = f\big(h_s(t), \dots, h_1(t)\big).$$
#
# Newest values sit at position $s$ and travel towards position 1, where they leave the lattice
# (open end). The paper's Theorem 3.1 [reconstructed] says that this represents *any* HDS
# exactly. Our example is the generalized Fibonacci (tribonacci) system $x(t) = x(t-1) + x(t-2) + x(t-3)$
# on $d = 2$ integer sequences.


# %%
def twm_step(H: np.ndarray, f, courant: int = 1) -> np.ndarray:
    """One TWM step: upwind advection (Courant number 1) plus the
    boundary value f(H)."""
    new = H.copy()
    # = H[1:]: every value moves one cell
    new[:-1] = H[:-1] - courant * (H[:-1] - H[1:])
    new[-1] = f(H)  # boundary condition at the entry edge (position s)
    return new


# x(1), x(2), x(3), oldest first
fib_start = np.array([[0, 1], [1, 1], [1, 2]], dtype=np.int64)
H, lattice = fib_start.copy(), [fib_start.copy()]
for _ in range(30):
    H = twm_step(H, f=lambda H: H.sum(axis=0))
    lattice.append(H)
# what enters the lattice at each step
twm_seq = np.array([L[-1] for L in lattice[1:]])

direct = list(fib_start)
for _ in range(30):
    direct.append(direct[-1] + direct[-2] + direct[-3])
fib_exact = bool(np.array_equal(twm_seq, np.array(direct[3:])))
print(
    f"Fibonacci TWM == recursion for 30 steps: {fib_exact}; "
    f"x(33) = {twm_seq[-1].tolist()}"
)
report.measure("C1", exact=fib_exact)

# %% [markdown]
# ## The linear boundary condition: shift plus low rank (C2)
#
# If $f$ is linear, $f(H) = F^\top \operatorname{vec}(H)$ with $F \in \mathbb{R}^{sd \times d}$, the
# stacked lattice $h = \operatorname{vec}(H)$ (oldest block first) evolves as $h(t+1) = \Phi\,h(t)$ with
#
# $$\Phi = S + E_s F^\top,$$
#
# $S$ the block shift ($S_{k,k+d} = 1$) and $E_s$ the embedding into the last block: a shift
# plus a matrix of rank at most $d$. For any invertible $P$, the RNN with
# $W_{hh} = P \Phi P^{-1}$, $W_{hy} = E_s^\top P^{-1}$ has the same outputs and the same spectrum,
# so infinitely many RNNs implement one TWM; the spectrum is the basis-free fingerprint that
# the training experiments compare. We draw random valid task ids for $d = 4$, $s = 5$ and
# random Gaussian bases $P$.


# %%
def random_task_id(
    rng: np.random.Generator, d: int, s: int
) -> tuple[int, int, int]:
    """A random valid (t1, t2, t3): d of the s*d history entries, a
    permutation, signs."""
    t1 = sum(2 ** int(k) for k in rng.choice(s * d, size=d, replace=False))
    t2 = sum(int(rng.integers(d - i)) * d**i for i in range(d))
    return t1, t2, int(rng.integers(2**d))


lbc = {"max_traj_err": 0.0, "max_eig_err": 0.0, "max_rank": 0}
for trial in range(5):
    rng = np.random.default_rng([ctx.seeds[0], trial])
    F5 = tasks.decode_task_id(random_task_id(rng, 4, 5), 4, 5)
    Phi5 = tasks.phi_from_operator(F5, 4, 5)
    Pb = rng.normal(size=Phi5.shape)
    W, W_hy = (
        Pb @ Phi5 @ np.linalg.inv(Pb),
        tasks.boundary_embedding(4, 5).T @ np.linalg.inv(Pb),
    )
    h = rng.choice([-1.0, 1.0], size=20)  # TWM state
    z = Pb @ h  # the same state in the RNN's basis
    for _ in range(200):
        h, z = Phi5 @ h, W @ z
        lbc["max_traj_err"] = max(
            lbc["max_traj_err"], float(np.abs(W_hy @ z - h[-4:]).max())
        )
    lam_t, lam_r = analysis.eigenvalues(Phi5), analysis.eigenvalues(W)
    # zero eigenvalues sit in Jordan blocks: skip them
    for lam in lam_t[np.abs(lam_t) > 0.5]:
        lbc["max_eig_err"] = max(
            lbc["max_eig_err"], float(np.abs(lam_r - lam).min())
        )
    lbc["max_rank"] = max(
        lbc["max_rank"],
        int(np.linalg.matrix_rank(Phi5 - tasks.shift_matrix(4, 5))),
    )
print(
    {k: f"{v:.1e}" if isinstance(v, float) else v for k, v in lbc.items()}
)
report.measure("C2", lbc)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(9, 2.9))
im_kw = plots.signed_limits(Phi5)
axes[0].imshow(Phi5, **im_kw)
axes[0].set_title(r"$\Phi = S + E_s F^\top$ (last trial)")
axes[1].imshow(W, **plots.signed_limits(W))
axes[1].set_title(r"$W_{hh} = P\,\Phi\,P^{-1}$")
for ax in axes[:2]:
    ax.set_xlabel("from cell")
    ax.set_ylabel("to cell")
t_circle = np.linspace(0, 2 * np.pi, 200)
axes[2].plot(np.cos(t_circle), np.sin(t_circle), color="0.6", lw=0.8)
axes[2].scatter(
    lam_t.real,
    lam_t.imag,
    s=60,
    facecolors="none",
    edgecolors="C0",
    label=r"$\Phi$",
)
axes[2].scatter(
    lam_r.real, lam_r.imag, s=12, color="C1", label=r"$P\Phi P^{-1}$"
)
axes[2].set_aspect("equal")
axes[2].set_xlabel(r"Re $\lambda$")
axes[2].set_ylabel(r"Im $\lambda$")
axes[2].legend(loc="upper right", fontsize=7)
axes[2].set_title("same spectrum")
plt.show()

# %% [markdown]
# ## The self-attention boundary condition (C3)
#
# A non-linear boundary can attend over the lattice. With query, key and value maps $Q, K, V$,
#
# $$h_s(t+1) = \sum_{i=1}^{s} \operatorname{softmax}_i\!\big(h_i^\top K^\top Q\, h_s\big)\, V h_i .$$
#
# A one-layer, one-head, attention-only transformer (no MLP, no normalisation, no positional
# code, identity embedding) that generates autoregressively with a context window of $s$
# tokens computes the same thing: the window *is* the lattice, and appending a token while the
# oldest one drops out *is* the wave. We check the identity against PyTorch's own attention
# kernel over 50 generated tokens (float64).


# %%
def sbc_boundary(
    H: np.ndarray, Q: np.ndarray, K: np.ndarray, V: np.ndarray
) -> np.ndarray:
    """Self-attention boundary: the newest cell attends over the
    lattice H (s, d)."""
    scores = (H @ K.T) @ (Q @ H[-1])  # h_i^T K^T Q h_s
    weights = np.exp(scores - scores.max())
    return (weights / weights.sum()) @ (H @ V.T)


rng = np.random.default_rng(ctx.seeds[0])
Q, K = (rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(2))
# orthogonal: a convex mix of V h_i stays bounded
V = np.linalg.qr(rng.normal(size=(d, d)))[0]
H = rng.normal(size=(s, d))
tokens = torch.tensor(H)  # the transformer's context
twm_out, tf_out = [], []
for _ in range(50):
    H = twm_step(H, f=lambda H: sbc_boundary(H, Q, K, V))
    twm_out.append(H[-1])
    window = tokens[-s:]  # sliding context window of s tokens
    q = window[-1:] @ torch.tensor(Q).T
    nxt = torch.nn.functional.scaled_dot_product_attention(
        q[None],
        (window @ torch.tensor(K).T)[None],
        (window @ torch.tensor(V).T)[None],
        scale=1.0,
    )[0]
    tokens = torch.cat([tokens, nxt])
    tf_out.append(nxt[0].numpy())
sbc_diff = float(np.abs(np.array(twm_out) - np.array(tf_out)).max())
print(f"max |TWM-SBC - transformer| over 50 steps: {sbc_diff:.1e}")
report.measure("C3", {"max_abs_diff": sbc_diff})

# %% [markdown]
# ## Trained RNNs learn the wave solution (C4)
#
# Now the converse: do RNNs *trained* on a history-dependent task find the TWM? The tasks are
# the binary linear variable-binding family of the companion paper {footcite}`karuvally2023emt`:
# the network reads $s$ random vectors $x(1..s) \in \{\pm 1\}^d$, then receives zeros and must
# continue the sequence $y(t) = F^\top \operatorname{vec}\big(y(t-s), \dots, y(t-1)\big)$. A task id
# $(t_1, t_2, t_3)$ names $F$: which history entries are read, in which order, with which signs
# (`tasks.decode_task_id`). The model is a bias-free Elman RNN,
#
# $$h(t) = \tanh\big(W_{hh} h(t-1) + W_{ih} x(t)\big), \qquad o(t) = W_{hy} h(t),$$
#
# without biases, so the origin is a fixed point and the linearisation there is exactly
# $W_{hh}$. If training finds the TWM in some basis, $W_{hh} \approx \Psi \Phi \Psi^{+}$ and the
# eigenvalues of $W_{hh}$ with $|\lambda| > 0.9$ are those of $\Phi$: roots of unity, one group
# per cycle of $F$. The T2/T3 labels differ between the authors' notebooks, so every result
# carries its task id.

# %%
names, ids = list(P["task_ids"]), list(P["task_ids"].values())
for name, tid in zip(names, ids, strict=True):
    F_show = tasks.decode_task_id(tid, d, s)
    reads = [
        f"{'-' if F_show[k, j] < 0 else '+'}y(t-{s - k // d})[{k % d}]"
        for j, k in enumerate(np.abs(F_show).argmax(0))
    ]
    lam = analysis.eigenvalues(tasks.phi_from_operator(F_show, d, s))
    print(
        f"{name} {tid}: y(t) = [{', '.join(reads)}]; "
        f"|λ|>0.9 of Phi: {(np.abs(lam) > 0.9).sum()}"
    )

runs = [
    (name, tid, seed)
    for seed in ctx.seeds
    for name, tid in zip(names, ids, strict=True)
]
F_stack = tasks.operator_stack([tid for _, tid, _ in runs], d, s)
Phis = [tasks.phi_from_operator(F, d, s) for F in F_stack]
rnn = models.BatchedElmanRNN(
    d, hidden, seeds=[seed for *_, seed in runs], device=ctx.device
)
# the controls of C4-C6
W_init = {k: v.detach().clone() for k, v in rnn.state_dict().items()}
print(
    f"{len(runs)} runs (tasks x seeds) as one stacked model: "
    f"W_hh {tuple(rnn.W_hh.shape)}"
)

# %% [markdown]
# All runs train as one stacked model: the loss is the sum of the per-run losses, and clipping,
# the curriculum (horizons 10 → 20 → 40 in `ci`, advancing when a run's batch accuracy reaches the
# threshold) and early stopping (a run stops once its batch MSE at the last horizon has stayed
# below `stop_mse` for `patience` consecutive steps) are per run, so each run ends exactly
# where it would end alone, and a finished run costs nothing while the others train on.

# %%
data_seeds = [1000 * seed + names.index(name) for name, _, seed in runs]
history = train.fit(
    rnn,
    F_stack,
    d,
    s,
    data_seeds=data_seeds,
    steps=P["steps"],
    lr=P["lr"],
    batch=P["batch"],
    horizons=P["horizons"],
    threshold=P["threshold"],
    clip=1.0,
    target_loss=P["stop_mse"],
    patience=P["patience"],
)
test_acc = train.bit_accuracy(
    rnn,
    F_stack,
    d,
    s,
    horizon=P["test_horizon"],
    data_seeds=[10**6 + k for k in data_seeds],
    batches=P["test_batches"],
    batch=P["batch"],
)
spectra = [
    analysis.spectrum_comparison(rnn.W_hh[i], Phis[i])
    for i in range(len(runs))
]
print(f"trained {history.steps} steps in {history.seconds:.1f} s")
for i, (name, tid, seed) in enumerate(runs):
    sp, stop = spectra[i], history.steps_to_target[i]
    print(
        f"{name} {tid} seed {seed}: "
        + (
            f"stopped at step {stop}"
            if stop > 0
            else "ran to the step cap"
        )
        + f", |λ|>0.9: {sp['n_learned']} (theory {sp['n_theory']}), "
        f"angle error {sp['mean_angle_deg']:.2f}°, "
        f"test acc @{P['test_horizon']}: {test_acc[i]:.3f}"
    )

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
for i, (name, _, seed) in enumerate(runs):
    ls = "-" if seed == ctx.seeds[0] else ":"
    steps_i = np.arange(1, history.steps + 1)
    axes[0].semilogy(
        steps_i,
        history.loss[:, i],
        ls,
        color=f"C{names.index(name)}",
        lw=1,
        label=f"{name}" if ls == "-" else None,
    )
    axes[1].plot(
        steps_i,
        history.horizon[:, i],
        ls,
        color=f"C{names.index(name)}",
        lw=1,
    )
axes[0].set_xlabel("training step")
axes[0].set_ylabel("MSE (output phase)")
axes[0].legend(ncol=2)
axes[1].set_xlabel("training step")
axes[1].set_ylabel("curriculum horizon (0 = stopped)")
fig.suptitle(
    f"training curves, seeds {ctx.seeds} (solid: seed {ctx.seeds[0]})"
)
plt.show()

# %% [markdown]
# The next figure mirrors the paper's *spectrum_T1..T4*: eigenvalues of each trained $W_{hh}$
# (first seed) in the complex plane, with those of the theoretical $\Phi$.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.8))
for ax, name in zip(axes, names, strict=True):
    i = runs.index(
        next(r for r in runs if r[0] == name and r[2] == ctx.seeds[0])
    )
    plots.spectrum(
        ax,
        spectra[i]["learned"],
        spectra[i]["theory"],
        f"{name} {runs[i][1]}",
        cut=0.9,
    )
axes[0].set_ylabel(r"Im $\lambda$")
axes[0].legend(loc="lower left", fontsize=6)
plt.show()

# %% [markdown]
# The negative controls apply the same statistics to networks that have not learned the task:
# the same stacked networks before training (their initial weights, and their bit accuracy at
# horizon 200), and, for the eigen-angles, a random Gaussian $W_{hh}$ per run, scaled to the
# spectral radius of that run's trained $W_{hh}$ (so that it has eigenvalues above 0.9 to match).
# Each statistic is reduced per seed over the four tasks (worst task), then judged on the worst
# seed.

# %%
init_rnn = models.BatchedElmanRNN.from_weights(
    W_init["W_hh"], W_init["W_ih"], W_init["W_hy"]
)
init_spectra = [
    analysis.spectrum_comparison(init_rnn.W_hh[i].detach(), Phis[i])
    for i in range(len(runs))
]
random_spectra = []
for i, (_, _, seed) in enumerate(runs):
    W_rand = torch.randn(
        hidden,
        hidden,
        generator=runtime.generator(seed, 400 + i),
        dtype=torch.float64,
    )
    rho = float(np.abs(analysis.eigenvalues(rnn.W_hh[i].detach())).max())
    W_rand *= rho / float(np.abs(analysis.eigenvalues(W_rand)).max())
    random_spectra.append(analysis.spectrum_comparison(W_rand, Phis[i]))
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
by_seed = [
    [i for i, r in enumerate(runs) if r[2] == seed] for seed in ctx.seeds
]


def per_seed(values, worst=min):
    """The worst value over the tasks of each seed (one number per
    seed)."""
    return [float(worst(values[i] for i in idx)) for idx in by_seed]


count_match = [
    float(np.mean([spectra[i]["counts_equal"] for i in idx]))
    for idx in by_seed
]
max_angle = per_seed([sp["mean_angle_deg"] for sp in spectra], max)
min_acc = per_seed(test_acc)
runtime.glue("a01_max_angle", max(max_angle))
runtime.glue("a01_min_acc", min(min_acc))
c4_controls = {
    "init_count_match": [
        float(np.mean([init_spectra[i]["counts_equal"] for i in idx]))
        for idx in by_seed
    ],
    "init_max_angle_deg": per_seed(
        [sp["mean_angle_deg"] for sp in init_spectra], max
    ),
    "random_max_angle_deg": per_seed(
        [sp["mean_angle_deg"] for sp in random_spectra], max
    ),
    "init_min_test_acc": per_seed(init_acc),
}
print({k: np.round(v, 3).tolist() for k, v in c4_controls.items()})
print(
    f"random W_hh: #|λ|>0.9 {[sp['n_learned'] for sp in random_spectra]}, "
    f"theory {[sp['n_theory'] for sp in random_spectra]}"
)
runtime.glue("a01_random_angle", min(c4_controls["random_max_angle_deg"]))
report.measure(
    "C4",
    count_match=count_match,
    max_angle_deg=max_angle,
    min_test_acc=min_acc,
    **c4_controls,
)

# %% [markdown]
# Across all runs the largest mean angular error is {glue:text}`a01_max_angle:.2f`° and the
# lowest bit accuracy at horizon 200, five times the longest trained horizon in the `ci`
# profile, is {glue:text}`a01_min_acc:.3f`. The moduli of the learned eigenvalues are slightly
# above 1; the tanh bounds the resulting oscillations, so only the angles are compared.
#
# The controls fail, as they must: before training no eigenvalue reaches 0.9 and the outputs
# decay to zero over 200 steps, and random matrices with the trained spectral radius miss the
# theoretical angles by {glue:text}`a01_random_angle:.0f`° or more. What they do not rule out
# (a point for a later version) is that any near-linear solution of the task would share this
# fingerprint at the origin: C4 shows that training finds the circuit's linearisation, not that
# it finds this circuit rather than another with the same spectrum. The fingerprint is also
# a statement about the origin: C5 below measures how far the trained trajectories are from
# their linearisation there (close in the input phase, further in the output phase).
#
# ## Hidden traveling waves (C5)
#
# Where are the stored inputs? Linearising at the origin, after the input phase
# $h(s) \approx \sum_{k=1}^{s} W_{hh}^{s-k} W_{ih}\, x(k)$, so the *input-grounded basis*
# $\Psi = [\Psi_1, \dots, \Psi_s]$, $\Psi_k = W_{hh}^{s-k} W_{ih}$, with dual $\Psi^{+}$ (pseudo-inverse)
# decodes block $k$ of $\Psi^{+} h(s)$ as the input of step $k$. If the network implements the
# repeat-copy TWM, one step later every block has moved by one and the oldest input has
# re-entered at the boundary. We test both on held-out sequences for every T1 run.

# %% [markdown]
# **The sign of the boundary block, derived before it is judged.** Block $k$ of $\Psi^{+}h$ is
# the coordinate along $\Psi_k$, and $\Psi_s = W_{ih}$ is where an input enters. One step after
# the input phase, linearly, $h(s+1) = \sum_{k=2}^{s}\Psi_{k-1}x(k) + W_{hh}^{s}W_{ih}\,x(1)$: the
# shifted blocks are exact for any $W_{hh}$, and all that can differ between networks is the
# re-entered vector $W_{hh}^{s}W_{ih}$. Its block-$s$ coefficient $C$ (the rows of
# $\Psi^{+}W_{hh}^{s}W_{ih}$ for block $s$) is what the boundary statistic measures. For the exact
# TWM of repeat copy, $W_{hh}^{s}W_{ih} = \Psi\,\Phi^{s}E_s = \Psi E_s = \Psi_s$, so $C = +I$ and
# the correlation with $y(s+1) = x(1)$ is $+1$: the boundary writes the recalled value back
# into the input's own slot, with the input's sign. A negative correlation therefore does not
# mean a flipped convention; it means that the part of $W_{hh}^{s}W_{ih}$ inside span $\Psi$ points
# against the input slot, and its size is then given by $C$ and by how much of
# $W_{hh}^{s}W_{ih}$ lies outside span $\Psi$ altogether (0 for the exact TWM). The authors'
# code (`emt-tools`, `get_grounded_bases`) grounds the basis in the *output* instead,
# $\Psi_s = W_{hy}^{+}$ and $\Psi_k = W_{hh}^{s-k}W_{hy}^{+}$ (our `analysis.privileged_basis`;
# its rank reduction keeps every block for repeat copy): there block $s$ is
# the readout's slot, so its sign is fixed by the trained output, and the two groundings agree
# only when the network writes inputs where it reads outputs, as the exact TWM does. So the
# rule keeps the sign +, and both quantities (C and the share outside span $\Psi$) are
# reported. The exact TWM in a random basis is measured first, as a check of the code.

# %%
T1_runs = [i for i, r in enumerate(runs) if r[0] == "T1"]
sel = torch.tensor(T1_runs, device=ctx.device)
trained_T1 = models.BatchedElmanRNN.from_weights(
    rnn.W_hh[sel].detach(), rnn.W_ih[sel].detach(), rnn.W_hy[sel].detach()
)
init_T1 = models.BatchedElmanRNN.from_weights(
    init_rnn.W_hh[sel], init_rnn.W_ih[sel], init_rnn.W_hy[sel]
)
# the random-orthogonal control: Haar W_hh at the trained radius, with
# the trained W_ih and W_hy
rho_T1 = [
    float(np.abs(analysis.eigenvalues(rnn.W_hh[i].detach())).max())
    for i in T1_runs
]
rorth_T1 = models.BatchedElmanRNN.from_weights(
    torch.stack(
        [
            rho_T1[j]
            * models.random_orthonormal(
                hidden, hidden, 10**4 + 10 * runs[i][2] + j
            )
            for j, i in enumerate(T1_runs)
        ]
    ).to(rnn.W_hh),
    rnn.W_ih[sel].detach(),
    rnn.W_hy[sel].detach(),
)
# the exact TWM of T1 (repeat copy) in a random orthonormal basis
twm_T1 = models.BatchedElmanRNN.from_weights(
    *models.twm_weights(
        d,
        s,
        hidden,
        F=F_stack[T1_runs[0]],
        basis=models.random_orthonormal(hidden, s * d, ctx.seeds[0]),
    )
).to(rnn.W_hh)
gens = [
    torch.Generator().manual_seed(2 * 10**6 + data_seeds[i])
    for i in T1_runs
]
x5, y5, _ = tasks.variable_binding_batch(
    F_stack[T1_runs], d, s, 2 * s, 256, gens, device=ctx.device
)


# the authors' rank reduction: the coordinates on persistent cycles of
# Phi (for repeat copy, all s*d of them)
keep_T1 = analysis.persistent_coordinates(Phis[T1_runs[0]])
print(f"rank reduction keeps {len(keep_T1)} of {s * d} coordinates")


def corr(a, b):
    """Pearson correlation of two tensors, flattened."""
    return float(np.corrcoef(a.flatten(), b.flatten())[0, 1])


def wave_decoding(net, xs=x5, ys=y5):
    """C5's statistics for every model of a T1 stack (model j sees
    xs[j])."""
    with torch.no_grad():
        _, H = net(xs.to(net.W_hh))
    H = H.double().cpu()
    keys = ["t_s", "next", "shift", "boundary", "gain", "outside"]
    out = {k: [] for k in [*keys, "out_next", "lin_s", "lin_2s", "sat"]}
    out["Psi"] = []
    for j in range(net.n_models):
        W_hh = net.W_hh[j].detach().double().cpu()
        W_ih = net.W_ih[j].detach().double().cpu()
        Psi = analysis.input_grounded_basis(W_hh, W_ih, s)
        Psi_dual = torch.linalg.pinv(Psi)
        # (batch, t, block, dim)
        z = (H[j] @ Psi_dual.T).reshape(len(H[j]), -1, s, d)
        # x(1..s): block k holds x(k) at t = s
        x_in = ys[j, :, :s].double().cpu()
        y_next = ys[j, :, s : s + 1].double().cpu()
        # x(2..s), then y(s+1)
        x_next = torch.cat([x_in[:, 1:], y_next], dim=1)
        out["t_s"].append(corr(z[:, s - 1], x_in))
        out["next"].append(corr(z[:, s], x_next))
        out["shift"].append(corr(z[:, s, : s - 1], x_in[:, 1:]))
        out["boundary"].append(corr(z[:, s, s - 1], y_next))
        # the re-entered vector W_hh^s W_ih: its block-s coefficient
        # and its share outside span Psi
        v = torch.linalg.matrix_power(W_hh, s) @ W_ih
        C = (Psi_dual @ v)[(s - 1) * d :]
        out["gain"].append(float(torch.diagonal(C).mean()))
        out["outside"].append(
            float((v - Psi @ (Psi_dual @ v)).norm() / v.norm())
        )
        # the authors' output-grounded basis
        _, Psi_out_dual = analysis.privileged_basis(
            W_hh, net.W_hy[j].detach().double().cpu(), s, keep=keep_T1
        )
        z_out = (H[j] @ Psi_out_dual.T).reshape(len(H[j]), -1, s, d)
        out["out_next"].append(corr(z_out[:, s], x_next))
        # the linearised trajectory h_lin(t) = sum_k W_hh^(t-k) W_ih x(k)
        h_lin, errs = torch.zeros_like(H[j][:, 0]), []
        for t in range(2 * s):
            x_t = xs[j, :, t].double().cpu()
            h_lin = h_lin @ W_hh.T + x_t @ W_ih.T
            errs.append(
                float((H[j][:, t] - h_lin).norm() / H[j][:, t].norm())
            )
        out["lin_s"].append(errs[s - 1])
        out["lin_2s"].append(errs[2 * s - 1])
        sat = (H[j][:, : 2 * s].abs() > 0.9).double().mean()
        out["sat"].append(float(sat))
        out.setdefault("lin_curve", []).append(errs)
        out["Psi"].append(Psi)
    return out


wave_twm = wave_decoding(twm_T1, x5[:1], y5[:1])
print(
    f"exact TWM (T1, random basis): boundary corr "
    f"{wave_twm['boundary'][0]:+.3f}, gain {wave_twm['gain'][0]:+.3f}, "
    f"outside span {wave_twm['outside'][0]:.1e}"
)
wave, wave_init, wave_rorth = (
    wave_decoding(net) for net in (trained_T1, init_T1, rorth_T1)
)
corr_s, corr_next, corr_shift, corr_boundary, Psis = (
    wave[k] for k in ("t_s", "next", "shift", "boundary", "Psi")
)
for label, w in [
    ("trained", wave),
    ("before training", wave_init),
    ("random orthogonal", wave_rorth),
]:
    print(
        f"{label}: t = s {np.round(w['t_s'], 3)}; t = s+1: all blocks "
        f"{np.round(w['next'], 3)}, shifted {np.round(w['shift'], 3)}, "
        f"re-entered {np.round(w['boundary'], 3)}; gain C "
        f"{np.round(w['gain'], 3)}, outside span "
        f"{np.round(w['outside'], 2)}; authors' basis "
        f"{np.round(w['out_next'], 3)}"
    )
    print(
        f"   linearisation error t = s {np.round(w['lin_s'], 3)}, "
        f"t = 2s {np.round(w['lin_2s'], 3)}; share |h| > 0.9: "
        f"{np.round(w['sat'], 3)}"
    )
runtime.glue("a01_corr_next", min(corr_next))
runtime.glue("a01_corr_shift", min(corr_shift))
runtime.glue("a01_corr_boundary", float(np.mean(corr_boundary)))
runtime.glue("a01_init_corr_s", min(wave_init["t_s"]))
runtime.glue("a01_init_corr_next", min(wave_init["next"]))
runtime.glue("a01_rorth_corr_s", min(wave_rorth["t_s"]))
runtime.glue("a01_twm_boundary", wave_twm["boundary"][0])
runtime.glue("a01_gain", float(np.mean(wave["gain"])))
runtime.glue("a01_outside", min(wave["outside"]))
runtime.glue("a01_out_next", min(wave["out_next"]))
runtime.glue("a01_lin_s", max(wave["lin_s"]))
runtime.glue("a01_lin_2s", max(wave["lin_2s"]))
runtime.glue("a01_sat", max(wave["sat"]))
runtime.glue("a01_rorth_lin_s", min(wave_rorth["lin_s"]))
report.measure(
    "C5",
    min_corr_t_s=corr_s,
    min_corr_next=corr_next,
    min_corr_boundary=corr_boundary,
    init_corr_t_s=wave_init["t_s"],
    init_corr_next=wave_init["next"],
    init_corr_boundary=wave_init["boundary"],
    rorth_corr_t_s=wave_rorth["t_s"],
    rorth_corr_next=wave_rorth["next"],
    rorth_corr_boundary=wave_rorth["boundary"],
    min_corr_shifted=corr_shift,
    mean_corr_boundary=corr_boundary,
    boundary_gain=wave["gain"],
    out_of_span=wave["outside"],
    out_corr_next=wave["out_next"],
    lin_err_s=wave["lin_s"],
    lin_err_2s=wave["lin_2s"],
    saturation=wave["sat"],
)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(10, 2.9))
c5_groups = {
    "trained": None,
    "before\ntraining": wave_init,
    "random\northogonal": wave_rorth,
}
for ax, key, title in zip(
    axes[:2],
    ["next", "boundary"],
    ["all blocks at $t = s+1$", "re-entered block alone"],
    strict=True,
):
    plots.seed_points(
        ax,
        {g: (w or wave)[key] for g, w in c5_groups.items()},
        ylabel="correlation",
        threshold=0.9,
    )
    ax.set_title(title)
t_axis = np.arange(1, 2 * s + 1)
for (g, w), col in zip(c5_groups.items(), plots.COLORBLIND, strict=False):
    plots.seed_band(
        axes[2],
        t_axis,
        np.array((w or wave)["lin_curve"]),
        label=g.replace("\n", " "),
        color=col,
    )
axes[2].axvline(s, color="0.6", lw=0.8)
axes[2].set_xlabel("time step t")
axes[2].set_ylabel(r"$\|h - h_{lin}\| / \|h\|$")
axes[2].set_title("linearisation error (T1)")
plt.show()

# %% [markdown]
# The exact TWM behaves as derived: its re-entered block correlates
# {glue:text}`a01_twm_boundary:.3f` with $y(s+1)$, its coefficient is $C = +I$, and nothing of
# $W_{hh}^{s}W_{ih}$ lies outside span $\Psi$. The trained networks store their inputs and shift
# them exactly as a wave, but the recalled value does not come back into the input's slot.
# C5's verdict is **inconclusive** (controls pass), and its evidence fails as well:
#
# - **The decoding at $t = s$ cannot tell.** The same networks *before training* decode their
#   inputs just as well (correlation at least {glue:text}`a01_init_corr_s:.3f`), and so do the
#   random orthogonal networks ({glue:text}`a01_rorth_corr_s:.3f`). This is a construction, not
#   a finding: $\Psi$ is built from each network's own input response, and in the near-linear
#   regime $h(s) = \sum_k \Psi_k x(k)$ for any $W_{hh}$, so $\Psi^{+}$ recovers the inputs whenever
#   $\Psi$ has full column rank. The same holds for the shifted blocks one step later
#   ($W_{hh}\Psi_k = \Psi_{k-1}$ exactly).
# - **The part that can fail, fails.** Only the re-entered block distinguishes a trained
#   traveling-wave memory from a random network. It correlates {glue:text}`a01_corr_boundary:.2f`
#   with $y(s+1)$ on average (rule ≥ 0.9, sign +). The reason is visible in the construction's
#   terms: the block-$s$ coefficient $C$ of $W_{hh}^{s}W_{ih}$ has a mean diagonal of
#   {glue:text}`a01_gain:.2f` (exact TWM: 1), and at least {glue:text}`a01_outside:.2f` of the
#   norm of $W_{hh}^{s}W_{ih}$ lies *outside* span $\Psi$ (exact TWM: 0). The trained network
#   writes the recalled value almost entirely into directions that the input-grounded basis
#   does not contain; what the boundary statistic sees is the small residue inside the span,
#   and the construction fixes neither its size nor its sign. This is how the `full` profile
#   (run once on a CPU for issue 16, $d = s = 8$, five seeds) can give a strong *negative*
#   mean correlation (−0.947) while its all-block statistic passes (0.916): a small residue
#   that points against the input slot. (This notebook measures $C$ and the share outside
#   span $\Psi$ at the size of its profile; the `full` profile records both. A scratch run at
#   $d = s = 8$ for issue 16, T1 with two seeds and `ci`-style training, not part of this
#   notebook, showed the same decomposition with a negative coefficient, a fraction of the
#   TWM's +1, and most of $W_{hh}^{s}W_{ih}$ outside span $\Psi$.) The sign convention is not at fault (the exact TWM gives +1 in the same
#   code), so the rule was not changed. The all-block statistic
#   at $t = s + 1$, the pre-registered rule, also fails here: worst seed
#   {glue:text}`a01_corr_next:.3f` (rule ≥ 0.9), against {glue:text}`a01_init_corr_next:.3f`
#   before training. No partial rule was declared, so the passing $t = s$ check earns nothing.
#   (A draft of this chapter once changed the scored quantity, after seeing 0.88 < 0.9, to the
#   shifted blocks only, lowest run {glue:text}`a01_corr_shift:.3f`; that was a loosening after
#   the fact and was reverted.)
# - **Where the boundary is.** In the authors' output-grounded basis ($\Psi_s = W_{hy}^{+}$,
#   `emt-tools`), the all-block correlation at $t = s + 1$ is {glue:text}`a01_out_next:.3f` or
#   more for the trained networks and near zero for both controls (printed above). Reported,
#   not judged: we looked at it in a scratch probe before adding it, and its block $s$ is the
#   readout's slot, which a network with correct outputs fills by training. Together with the
#   input-grounded numbers it says that the trained networks keep a wave, but write the
#   recalled value where they *read* outputs, not where they *write* inputs; the exact TWM
#   uses one slot for both. Which grounding shows "the" wave is a choice of basis; the
#   authors' code uses the output-grounded one.
#
# **Linearisation.** Every statement above, and the basis $\Psi$ itself, is linear. The actual
# trajectories stay close to the linear ones where C5 decodes: the relative error of
# $h_{lin}$ is at most {glue:text}`a01_lin_s:.2f` at $t = s$, and no unit of a trained T1
# network exceeds $|h| > 0.9$ in the first $2s$ steps (largest share
# {glue:text}`a01_sat:.3f`). The error grows in the output phase, to
# {glue:text}`a01_lin_2s:.2f` at $t = 2s$: the trained eigenvalues lie slightly outside the
# unit circle, and the tanh, not the linear map, keeps the oscillation bounded. So the linear
# picture is adequate for the decoding at $t = s, s + 1$ and for the gradients at lags up to
# $s$ (C6), and it is an approximation, not an identity, for longer times. The random
# orthogonal networks are further from linear (error at least
# {glue:text}`a01_rorth_lin_s:.2f` at $t = s$), which does not rescue them: they still decode
# the inputs at $t = s$.
#
# With $s$ blocks of which $s - 1$ are right by construction and a re-entered block that
# carries little, the all-blocks statistic is about $\sqrt{(s-1)/s}$: 0.87 at $s = 4$ (the
# untrained networks above) but 0.94 at the paper's $s = 8$, above the bar, so at the paper's
# size that rule no longer separates trained from untrained networks (the `full` run passed
# it, 0.916, with a negative boundary). The boundary block alone, added as evidence for this
# reason, is the test that no construction passes for free; here the trained networks fail
# it, and so do both controls.

# %% [markdown]
# To see the waves, we store a small bitmap (the paper used the text "315"; at `ci` size the
# memory holds a $4 \times 4$ image, so we store a "7") as the $s$ input vectors (row $k$ = input
# $x(k)$) and decode the hidden state at every step. The same figure shows the hidden state
# in the neuron basis: there the waves are hidden.

# %%
# (s, d)
glyph = torch.tensor(
    [[1.0 if c == "#" else -1.0 for c in row] for row in P["glyph"]]
)
x_glyph = torch.zeros(1, 1, 3 * s, d)
x_glyph[0, 0, :s] = glyph
i0 = T1_runs[0]
with torch.no_grad():
    _, H_glyph = rnn(
        x_glyph.to(ctx.device),
        models=torch.tensor([i0], device=ctx.device),
    )
# (t, block, dim)
z_glyph = (
    analysis.decode_hidden(H_glyph[0, 0].double(), Psis[0])
    .cpu()
    .reshape(3 * s, s, d)
)

# %% tags=["hide-input"]
show_t = list(range(1, 2 * s + 2))
fig, axes = plt.subplots(1, len(show_t), figsize=(1.0 * len(show_t), 1.6))
for ax, t in zip(axes, show_t, strict=True):
    # ink (+1) black
    ax.imshow(z_glyph[t - 1], cmap="gray_r", vmin=-1.2, vmax=1.2)
    ax.set_title(f"t={t}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
axes[0].set_ylabel("block (old→new)", fontsize=7)
fig.suptitle(
    r"decoded memory $\Psi^+ h(t)$: the glyph enters, "
    "then travels one block per step",
    fontsize=9,
)
plt.show()
fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
axes[0].imshow(
    H_glyph[0, 0].cpu().T,
    aspect="auto",
    cmap=plots.DIVERGING,
    vmin=-1,
    vmax=1,
)
axes[0].set_title("hidden state in the neuron basis")
axes[0].set_ylabel("neuron")
axes[1].imshow(
    z_glyph.reshape(3 * s, s * d).T,
    aspect="auto",
    cmap=plots.DIVERGING,
    vmin=-1.5,
    vmax=1.5,
)
axes[1].set_title(r"the same state in the basis $\Psi$")
axes[1].set_ylabel("memory cell (block·d + dim)")
for ax in axes:
    ax.set_xlabel("time step t − 1")
plt.show()

# %% [markdown]
# The paper's *Atransformed* figures show $W_{hh}$ in such a basis. In the input-grounded basis
# $W_{hh}\Psi_k = \Psi_{k-1}$ by construction, so $\Psi^{+} W_{hh} \Psi$ is a block shift plus one
# block column, $\Psi^{+} W_{hh}^{s} W_{ih}$: where the oldest block is written back. For the exact
# TWM of repeat copy this is $\Phi$ itself, with the identity in the corner (bottom row of the
# figure, computed the same way from $\Phi$ and $E_s$).

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, len(names), figsize=(2.4 * len(names), 4.8))
E_s = torch.as_tensor(tasks.boundary_embedding(d, s))
for col, name in enumerate(names):
    i = runs.index(
        next(r for r in runs if r[0] == name and r[2] == ctx.seeds[0])
    )
    W_hh, W_ih = (
        rnn.W_hh[i].detach().double().cpu(),
        rnn.W_ih[i].detach().double().cpu(),
    )
    Psi = analysis.input_grounded_basis(W_hh, W_ih, s)
    Psi_th = analysis.input_grounded_basis(
        torch.as_tensor(Phis[i]), E_s, s
    )
    for row, A in enumerate(
        [
            torch.linalg.pinv(Psi) @ W_hh @ Psi,
            torch.linalg.pinv(Psi_th) @ torch.as_tensor(Phis[i]) @ Psi_th,
        ]
    ):
        axes[row, col].imshow(
            A.numpy(), cmap=plots.DIVERGING, vmin=-1.2, vmax=1.2
        )
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[0, col].set_title(f"{name}", fontsize=9)
axes[0, 0].set_ylabel(r"trained $\Psi^+ W_{hh} \Psi$", fontsize=8)
axes[1, 0].set_ylabel(r"exact TWM, same basis", fontsize=8)
plt.show()

# %% [markdown]
# The trained matrices show the block shift cleanly, the wave. Their boundary column is weak
# and smeared: for T1 the identity block in the corner is almost missing. This is the same
# observation as the low correlation of the re-entered block above: the trained networks send
# the recalled value back through directions outside the span of $\Psi$ (the hidden layer is
# larger than the $s d$-cell memory), so this basis shows the traveling part of the memory
# but not the boundary. The authors' output-grounded basis finds it at the readout (C5);
# chapter A03 builds that basis with its rank reduction.

# %% [markdown]
# ## Waves and the diminishing gradient (C6)
#
# In a generic RNN the influence of an input $k$ steps back on today's output,
# $\lVert \partial o(T) / \partial x(T-k) \rVert$, is a product of $k$ Jacobians
# $\operatorname{diag}(\tanh')\,W_{hh}$ and decays like $\mu^k$ when their norms are below one. In a TWM
# the input is carried intact by the shift, so the gradient reaches back over the whole
# memory: $\partial h(s) / \partial x(1) = \Psi_1$ with no power of $\mu$ in front (the
# paper's argument, reconstructed from the blog summary). (a) We compare the per-lag gradient
# norms of each trained T1 network with the same network before training, on one input
# sequence with $T = 3s$.

# %%
x_lag = torch.zeros(len(T1_runs), 1, 3 * s, d)
x_lag[:, :, :s] = glyph
# (runs, lags)
g_trained = analysis.per_lag_gradient_norms(
    trained_T1, x_lag.to(ctx.device)
)
g_init = analysis.per_lag_gradient_norms(init_T1, x_lag.to(ctx.device))
k_far = 11
# the random-W_hh control: trained W_ih, W_hy; Gaussian W_hh with the
# trained radius
W_rand_T1 = []
for j, i in enumerate(T1_runs):
    W_r = torch.randn(
        hidden, hidden, generator=runtime.generator(runs[i][2], 600 + j)
    )
    rho = float(np.abs(analysis.eigenvalues(rnn.W_hh[i].detach())).max())
    W_rand_T1.append(
        W_r * rho / float(np.abs(analysis.eigenvalues(W_r)).max())
    )
random_T1 = models.BatchedElmanRNN.from_weights(
    torch.stack(W_rand_T1).to(rnn.W_hh),
    rnn.W_ih[sel].detach(),
    rnn.W_hy[sel].detach(),
)
g_random = analysis.per_lag_gradient_norms(random_T1, x_lag.to(ctx.device))
g_rorth = analysis.per_lag_gradient_norms(rorth_T1, x_lag.to(ctx.device))
# the linearised gradient: d o(T) / d x(T-k) = W_hy W_hh^k W_ih
g_lin = np.array(
    [
        [
            float(
                (
                    trained_T1.W_hy[j]
                    @ torch.linalg.matrix_power(trained_T1.W_hh[j], k)
                    @ trained_T1.W_ih[j]
                )
                .detach()
                .norm()
            )
            for k in range(3 * s)
        ]
        for j in range(len(T1_runs))
    ]
)
lin_grad_ratio = g_trained[:, s] / g_lin[:, s]
# one value per T1 run = per seed
init_decay = np.log10(g_init[:, 0] / g_init[:, k_far])
gain_s = np.log10(g_trained[:, s] / g_init[:, s])
print(
    f"init: log10 decay from k=0 to k={k_far}: {np.round(init_decay, 2)}"
)
print(
    f"trained at k=s={s}: {np.round(g_trained[:, s], 3)}; "
    f"log10(trained/init): {np.round(gain_s, 2)}"
)
print(
    f"at k=s: before training {np.round(g_init[:, s], 4)}; "
    f"random W_hh (trained radius) {np.round(g_random[:, s], 3)}; "
    f"random orthogonal {np.round(g_rorth[:, s], 3)}"
)
print(
    f"trained, lag s: actual / linearised gradient "
    f"{np.round(lin_grad_ratio, 3)}"
)
runtime.glue("a01_rorth_lag_s", float(g_rorth[:, s].max()))
runtime.glue("a01_lin_grad_ratio", float(lin_grad_ratio.min()))
peak_ratio = g_trained[:, s] / g_trained[:, s + 1 : 2 * s].max(axis=1)
print(f"lag s over the largest lag in (s, 2s): {np.round(peak_ratio, 1)}")
runtime.glue("a01_peak_ratio", float(peak_ratio.min()))
runtime.glue("a01_init_lag_s", float(g_init[:, s].max()))
runtime.glue("a01_random_lag_s", float(g_random[:, s].min()))

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.2))
lags = np.arange(3 * s)
for g, label, col in [
    (g_trained, "trained", plots.COLORBLIND[0]),
    (g_init, "before training", plots.COLORBLIND[1]),
    (g_rorth, "random orthogonal $W_{hh}$", plots.COLORBLIND[2]),
    (g_random, "random $W_{hh}$, same radius", plots.COLORBLIND[3]),
    (g_lin, "trained, linearised", "0.5"),
]:
    plots.seed_band(
        ax,
        lags,
        g,
        label=label,
        color=col,
        ls="--" if "linearised" in label else "-",
    )
ax.set_yscale("log")
ax.axvline(s, color="0.6", lw=0.8)
ax.axhline(0.5, color="0.3", ls=":", lw=1)
ax.set_xlabel("lag k (steps)")
ax.set_ylabel(r"$\|\partial o(T) / \partial x(T-k)\|_F$")
ax.set_title(
    "gradient propagation, T1, band = range over seeds "
    "(paper: gradient_propagation)",
    fontsize=9,
)
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# (b) The learning-speed form of the claim [reconstructed]: if waves are what makes the
# gradient reach far back, an RNN that *starts* with the wave structure, $W_{hh} = \Psi S \Psi^{\top}$
# (block shift, boundary left at zero), $W_{ih} = \Psi E_s$ and $W_{hy} = E_s^\top \Psi^\top$ in a
# random orthonormal basis $\Psi$, should learn repeat copy with a longer memory ($s = 8$) much
# faster than the default initialisation. That arm pre-installs three things at once: the
# shift, the write and the readout. Two control arms keep the write and the readout and
# replace only the shift: a random orthogonal $W_{hh}$ (norm-preserving, no wave; the
# orthogonal init of {footcite}`saxe2014exact`) and the identity $W_{hh} = I$ (every input
# piles up in the same slot; the identity init of {footcite}`le2015simple`, here with
# tanh). All arms start without knowing the task (the boundary is zero); each run stops at its first batch with 99 % bit
# accuracy at the last horizon. A run that has not got there by the step cap counts as the
# cap, so a ratio against a default run at the cap is an upper bound (in favour of the
# default init).

# %%
sd_, ss_, sh_ = P["speed_d"], P["speed_s"], P["speed_hidden"]
# repeat copy y(t) = y(t - s)
F_copy = tasks.decode_task_id((2**sd_ - 1, 0, 0), sd_, ss_)
arms = ["default", "TWM", "orthogonal", "identity"]
n = len(ctx.seeds)
# arm a, seed j is model a * n + j; every arm starts from the default
# init of that seed, then the other arms overwrite their weights
speed = models.BatchedElmanRNN(
    sd_, sh_, seeds=ctx.seeds * len(arms), device=ctx.device
)
with torch.no_grad():
    for j, seed in enumerate(ctx.seeds):
        W_hh, W_ih, W_hy = models.twm_weights(
            sd_,
            ss_,
            sh_,
            basis=models.random_orthonormal(sh_, sd_ * ss_, seed),
        )
        # the same write and readout, no shift
        W_orth = models.random_orthonormal(sh_, sh_, 2 * 10**4 + seed)
        W_eye = torch.eye(sh_, dtype=torch.float64)
        for a, W_a in enumerate([W_hh, W_orth, W_eye], start=1):
            k = a * n + j
            speed.W_hh[k], speed.W_ih[k], speed.W_hy[k] = (
                w.to(speed.W_hh) for w in (W_a, W_ih, W_hy)
            )
speed_hist = train.fit(
    speed,
    np.stack([F_copy] * len(speed.W_hh)),
    sd_,
    ss_,
    data_seeds=ctx.seeds * len(arms),
    steps=P["speed_steps"],
    lr=3e-3,
    batch=P["batch"],
    horizons=(10, 20, 40),
    threshold=P["threshold"],
    target=0.99,
)
hit = np.where(
    speed_hist.steps_to_target > 0,
    speed_hist.steps_to_target,
    P["speed_steps"],
).reshape(len(arms), n)
step_ratio = {arm: hit[a] / hit[0] for a, arm in enumerate(arms)}
for a, arm in enumerate(arms):
    print(
        f"repeat copy d={sd_}, s={ss_}, {arm} init: steps to 99% "
        f"{hit[a].tolist()}, ratio to default "
        f"{np.round(step_ratio[arm], 3).tolist()}"
    )
print(f"({speed_hist.seconds:.1f} s)")
runtime.glue("a01_orth_ratio", float(step_ratio["orthogonal"].max()))
runtime.glue("a01_ident_ratio", float(step_ratio["identity"].min()))
report.measure(
    "C6",
    init_decay_log10=init_decay,
    trained_lag_s=g_trained[:, s],
    trained_over_init_log10=gain_s,
    max_step_ratio=step_ratio["TWM"],
    init_lag_s=g_init[:, s],
    random_lag_s=g_random[:, s],
    rorth_lag_s=g_rorth[:, s],
    orth_step_ratio=step_ratio["orthogonal"],
    ident_step_ratio=step_ratio["identity"],
    lin_grad_ratio=lin_grad_ratio,
)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9.5, 3))
for a, arm in enumerate(arms):
    for j in range(n):
        acc_j = speed_hist.accuracy[:, a * n + j]
        axes[0].plot(
            np.arange(1, len(acc_j) + 1),
            acc_j,
            color=plots.COLORBLIND[a],
            lw=1,
            label=f"{arm} init" if j == 0 else None,
        )
axes[0].axhline(0.99, color="0.6", lw=0.8)
axes[0].set_xlabel("training step")
axes[0].set_ylabel("batch bit accuracy")
axes[0].set_title(f"repeat copy, d={sd_}, s={ss_}: learning speed")
axes[0].legend(fontsize=7)
plots.seed_points(
    axes[1],
    {arm: step_ratio[arm] for arm in arms},
    ylabel="steps to 99 % / default init's",
    threshold=1 / 3,
)
axes[1].set_title("ratio per seed (cap counts as the cap)")
plt.show()

# %% [markdown]
# C6 is **inconclusive**. Its evidence checks all pass: before training the gradient falls by
# more than 100× over 11 steps, the trained T1 networks keep it above 0.5 at lag $s$, and
# the wave initialisation learns repeat copy with $s = 8$ in a fraction of the steps. But
# controls of both parts pass, and each says something different:
#
# - **(a), random $W_{hh}$.** With the trained $W_{ih}$ and $W_{hy}$ and a *random* Gaussian
#   $W_{hh}$ of the same spectral radius (no shift structure), the gradient at lag $s$ is still
#   at least {glue:text}`a01_random_lag_s:.2f`; with a random *orthogonal* $W_{hh}$ of that
#   radius it reaches {glue:text}`a01_rorth_lag_s:.2f` on its best seed. Both are judged
#   by the rule's 0.5 (the networks before training: {glue:text}`a01_init_lag_s:.3f`). So the
#   pre-registered absolute bar measures mostly the spectral radius that training reached,
#   not the wave. What does tell the trained networks apart is the *shape* of the curve in
#   the figure: their gradient peaks at lags $0, s, 2s$, where a stored input comes back to
#   the readout's slot, and falls between the peaks (lag $s$ over the largest lag strictly
#   between $s$ and $2s$: at least {glue:text}`a01_peak_ratio:.0f`×), while the random
#   networks give a flat curve. That periodic profile is the wave's signature in the gradient; a rule on it
#   would have to be declared before a new run, so here it is only described.
# - **(b), orthogonal init.** The arm with the same pre-installed write and readout and a
#   random orthogonal $W_{hh}$ instead of the shift learns repeat copy nearly as fast as the
#   wave arm: its ratio to the default init is at most {glue:text}`a01_orth_ratio:.2f` on
#   every seed, inside the rule's 1/3. By the meaning declared before the run, the speed-up is not
#   specific to the wave: a norm-preserving $W_{hh}$ with the same write and readout gives
#   most of it. The identity arm, which keeps the write and readout but stores every input in
#   the same slot, does not learn the task within the cap (ratio at least
#   {glue:text}`a01_ident_ratio:.2f`): it fails, as a control should.
#
# **Linearisation.** The gradient argument ($\partial h(s)/\partial x(1) = \Psi_1$, no power of
# $\mu$) is linear. For the trained T1 networks the actual gradient at lag $s$ is at least
# {glue:text}`a01_lin_grad_ratio:.2f` of the linearised one $\lVert W_{hy} W_{hh}^{s} W_{ih} \rVert$
# (the dashed line in the figure): the tanh costs little at this lag, so the linear argument
# describes the trained networks' gradients here. It does not separate them from the
# controls, which are linear-enough too.

# ## Claims
#
# The cell below prints only what no profile, device or seed changes (exact constructions and
# the task decoder on the paper's ids); the table after it holds this run's measurements.

# %% tags=["nbval-check-output"]
print(f"Fibonacci TWM == recursion (30 steps): {fib_exact}")
print(
    f"LBC: trajectory error < 1e-6: {lbc['max_traj_err'] < 1e-6}; "
    f"eigenvalue error < 1e-8: {lbc['max_eig_err'] < 1e-8}"
)
print(f"SBC == attention-only transformer (< 1e-10): {sbc_diff < 1e-10}")
F_T1 = tasks.decode_task_id((255, 0, 0), 8, 8)
print(
    f"paper T1 (255, 0, 0): F {F_T1.shape}, y(t) = y(t-8): "
    f"{np.array_equal(F_T1[:8], np.eye(8))}"
)
for tid in tasks.PAPER_TASKS.values():
    lam = analysis.eigenvalues(
        tasks.phi_from_operator(tasks.decode_task_id(tid, 8, 8), 8, 8)
    )
    print(f"{tid}: |λ|>0.9 of Phi = {(np.abs(lam) > 0.9).sum()}")

# %%
report.table()

# %%
path = report.write()
print(path.name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check carries a `tol`: how far its value may move when the chapter is re-executed on
# another CPU, with another thread count or seed set, before the book's checks call the re-run
# a mismatch. We measured it: the runner's `variation` re-executed this chapter in `ci` with the
# default seeds {0, 1} and with two other seed sets, {2, 3} and {4, 5} (disjoint, same size).
# Each `tol` is at least the largest change between seed sets, rounded up to a 1-2-5 step.
# The same variation run re-executed the chapter with 1 and 2 torch threads: every value
# agreed exactly, so the thread-path rule (`tol` ≥ 3 × the thread change) holds for every
# check, and the table below checks it. The verdicts are the same on all three seed sets.

# %%
report.tolerances("../../data/a01_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale.** The `ci` profile uses $d = s = 4$, 64 hidden units, task ids chosen for $d = s = 4$
#   (T1 `(15, 0, 0)` repeat copy; T2-like `(33825, 6, 9)`; T3 compose copy `(33825, 0, 0)`;
#   T4-like `(33825, 5, 5)`), learning rate 3e-3, at most 1,500 Adam steps, curriculum
#   10 → 20 → 40, two seeds. The paper (and the `full` profile) uses $d = s = 8$, 128 hidden
#   units, the paper's task ids, learning rate 1e-3, 20,000 steps, curriculum up to 100, five seeds. The
#   wave-init experiment uses $d = 4$, $s = 8$, 64 units and at most 600 steps in `ci`
#   ($d = s = 8$, 128 units, 6,000 steps in `full`), now in four arms. The `full` profile was
#   run once on a 2-core CPU for issue 16 (24.6 min; all six verdicts "reproduced" under the
#   checks of that time), before the controls and the boundary check of this version.
# - **Reconstructed.** The paper's full text was not available. The TWM equations, Theorem 3.1,
#   the gradient argument and the list of figures come from the abstract, the authors'
#   companion code (task family, decoder) and a public blog summary. Our own choices: the
#   transformer of C3 (one head, no residual, no MLP, no positional code, identity embedding;
#   an orthogonal $V$ keeps the 50-step rollout bounded), the per-lag gradient measure of C6(a),
#   the learning-speed test of C6(b), the "7" glyph, and all pass rules.
# - **The boundary in the trained networks.** The input-grounded basis $\Psi$ shows the waves but
#   not the boundary: almost all of the re-entered vector $W_{hh}^{s}W_{ih}$ lies outside its
#   span (C5, and the weak corner blocks of $\Psi^{+} W_{hh} \Psi$). The authors' basis is
#   grounded in the output (`emt-tools`); in it the trained networks do show the recalled
#   value in the readout's slot (C5, context). The boundary check of C5 stays with the
#   input-grounded basis, the one this chapter declared; the output-grounded basis and its
#   rank reduction on the compose tasks are tested in chapter A03. The wave alone (shifted
#   blocks) holds by construction in the linear regime, for trained and untrained networks
#   alike (see C5).
# - **Which runs are this chapter's.** C4–C6 count only the models trained in this chapter:
#   the eight listed under C4 in `ci` (T1–T4 × seeds {0, 1}; 4 tasks × 5 seeds in `full`), of
#   which C5 and C6(a) use the T1 runs, plus the wave-speed runs of C6(b) (4 arms × 2 seeds).
#   Until issue 16, A03's L2 = 0 stack at hidden 64 repeated the C4 training exactly (same
#   seeds, data streams and settings), so the same models were counted in both chapters.
#   A03 now trains its own networks (other hidden sizes, its own initial-weight seeds and
#   data streams), so no trained model is counted in both chapters.
# - **Controls** (the networks before training; random Gaussian and random orthogonal $W_{hh}$
#   with the trained spectral radius; for C6(b) the orthogonal and identity arms) are ours,
#   added so that every empirical check can be seen to fail where it should. The authors'
#   basis (output-grounded, `emt-tools`) appears in C5 as context; its rank reduction
#   (`analysis.persistent_coordinates`) keeps every coordinate for repeat copy, so it is not
#   needed for T1.
# - **Early stopping.** A run stops once its batch MSE stays below 0.01 at the last horizon; the
#   paper trained for a fixed number of epochs. Perfect *bit* accuracy at horizon 40 is not a
#   good stopping signal: in our trials repeat-copy runs stopped that way after ~350 steps
#   still drifted beyond step ~60 and reached only 0.94 at horizon 200.
# - **Not reproduced here.** The paper's sweep over hidden sizes and L2 regularisation
#   (Table 1 of the companion paper) belongs to chapter A03.
#
# ## References
#
# ```{footbibliography}
# ```
