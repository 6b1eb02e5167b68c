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
# # A32 · ParaRNN: training nonlinear RNNs in parallel with Newton's method
#
# A nonlinear RNN computes $h_t = f(h_{t-1}, x_t)$ one step after another, which is why
# transformers and linear state-space models, whose recurrences can be evaluated in parallel
# over the sequence, displaced it at scale. Danieli, Rodríguez, Sarabia, Suau and Zappella
# {footcite}`danieli2025pararnn`, building on DEER {footcite}`lim2024deer` and its stabilised
# successors {footcite}`gonzalez2024scalable`, write all $L$ steps as one system of equations
# and solve it with Newton's method. Each Newton step is a *linear* recurrence, which a parallel
# scan {footcite}`blelloch1990prefix,martin2018parallelizing` solves in $O(\log L)$ depth, and
# cells designed with a diagonal recurrence (ParaGRU, ParaLSTM) keep every Jacobian diagonal.
# The authors report speed-ups of up to 665× over the sequential loop, convergence in 3 Newton
# iterations, and 7-billion-parameter models with the perplexity of transformers and Mamba2.
# We add the Newton solver to the book's library (`rnnbook.newton`, built on `rnnbook.scan`),
# check it against the sequential loop, measure how many iterations it needs and whether
# training in parallel mode reaches the loss of sequential training, on a character model of
# Python source (substitute data), and time it against the loop. What we read in the authors'
# code (`apple/ml-pararnn`) is marked [C]; our own choices [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) "we cast the sequence of nonlinear recurrence relationships as a
#   single system of equations, which we solve in parallel using Newton's iterations combined
#   with custom parallel reductions": solved to convergence, the Newton + scan trajectory is
#   the sequential one, and the gradients from one adjoint scan are those of backpropagation
#   through time, up to rounding.
# - **C2** Newton converges in about 3 iterations, nearly independently of the sequence
#   length (paper: 3 iterations suffice for ParaGRU and ParaLSTM).
# - **C3** "allowing training nonlinear RNNs": training in parallel mode (3 Newton iterations,
#   the authors' setting) reaches the loss of sequential training, on a miniature character
#   model of Python source (substitute data).
# - **C4** "speedups of up to 665x over naive sequential application": a GPU claim; measured
#   and reported on the CPU in ci, judged on a GPU in the full profile.
# - **C5** 7B-parameter ParaGRU / ParaLSTM models reach a perplexity comparable to
#   similarly-sized transformers and Mamba2: out of reach here (not testable).
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

from rnnbook import claims, languages, newton, plots, runtime

ctx = runtime.setup(
    "a32", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(n=32, m=16, batch=4, lengths=[256, 1024, 4096], L_grad=1024,
            lm_n=64, lm_L=64, lm_batch=16, lm_steps=120, lm_lr=3e-3,
            text_chars=200_000, eval_L=256, eval_batch=8, iter_L=1024,
            sp_n=64, sp_batch=4, sp_lengths=[16, 256, 1024], sp_reps=5),
    full=dict(n=64, m=32, batch=8, lengths=[256, 1024, 4096, 16384],
              L_grad=4096,
              lm_n=256, lm_L=256, lm_batch=32, lm_steps=1000, lm_lr=2e-3,
              text_chars=2_000_000, eval_L=1024, eval_batch=16,
              iter_L=4096, sp_n=256, sp_batch=8,
              sp_lengths=[16, 256, 4096, 16384, 65536], sp_reps=7),
)  # fmt: skip
# Constants (not sizes).
TOL = 1e-6  # convergence: max |F(h)| <= TOL, float64 (research notes)
SOLVE_TOL = 1e-12  # "solved to convergence" for C1
CAP = 64  # most updates any iteration may make in C1/C2
K_PAPER = 3  # Newton updates per forward pass in the authors' code [C]
STRONG = 1.0  # std of the recurrent weights in the strong-recurrence probe
S = len(ctx.seeds)
F64 = torch.float64

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs.
#
# - **C1** is a construction: Newton's method on this system, run until the residual is at
#   rounding level ($\max_t \lVert F(h)_t\rVert_\infty \le 10^{-12}$ in float64), has the
#   sequential trajectory as its only fixed point, and the gradient of a solution of
#   $F(h) = 0$ is given by the adjoint equation, which is again a linear recurrence. We ask
#   for agreement to $10^{-10}$ in the states and a relative $10^{-8}$ in the gradients
#   (float64; the research notes ask for $10^{-5}$ after at most 4 iterations, which C2
#   covers). The authors' float32, three-iteration setting is reported beside it.
# - **C2**: the paper's number is 3 iterations; "about 3" is read as at most 4 updates to
#   reach $\max\lvert F\rvert \le 10^{-6}$ (float64) at every length, with at most one more
#   update at the longest length than at the shortest (the notes' rule), for ParaGRU cells at
#   the authors' initialisation, and at most 4 for the ParaGRU trained in C3 on held-out
#   text, the setting the paper's number is about. If only the first two hold, C2 is partly
#   reproduced. The control is the Jacobian-free fixed-point (Picard / Jacobi) iteration,
#   $h^{k+1}_t = f(h^k_{t-1}, x_t)$, parallel over time like Newton but without the
#   Jacobian: it must need more than 4 updates (it is capped at 64).
# - **C3**: the same ParaGRU character model, from the same initialisation and on the same
#   batches, trained once with backpropagation through the sequential loop and once in
#   parallel mode (3 Newton updates forward, one adjoint scan backward, as in the authors'
#   code), must end within 2 % of each other in held-out loss (the research notes' rule;
#   the loss of both is measured with the sequential loop, i.e. on the RNN that the training
#   produced), for every seed. The control trains with 0 Newton updates (the initial guess
#   $f(0, x_t)$, which drops the recurrence): it must end more than 2 % away.
# - **C4**: the paper's 665× is measured on a GPU with fused CUDA kernels. On a GPU (full
#   profile) our pure-PyTorch solver must be at least 10× faster than the loop at the longest
#   length (median of interleaved repeats); the control is the same ratio at $L = 16$, where
#   there is no length to parallelise, which must fall short of 10×. On the CPU the claim is
#   not testable: the ratio is measured and reported.
# - **C5** needs billions of parameters and a large corpus: not testable.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="ParaRNN: Newton + parallel scan for nonlinear RNNs")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "Solved to convergence, Newton + parallel scan gives the sequential trajectory, and "
    "one adjoint scan gives the gradients of backpropagation through time.",
    kind="construction",
    paper="parallel and sequential outputs and gradients agree (authors' test script)",
    checks=[
        ev("traj_err", "<=", 1e-10, "max |h_newton − h_loop|, float64, all L", tol=1e-12),
        ev("grad_rel_err", "<=", 1e-8, "max |g_scan − g_BPTT| / max |g_BPTT|, float64",
           tol=1e-10),
        ctx_("updates_solve", "updates to max |F| ≤ 1e-12, largest over L and seeds", tol=1),
        ctx_("err32_newton3", "max |h − h_loop64|, float32, 3 updates, longest L",
             tol=1e-3),
        ctx_("err32_loop", "max |h − h_loop64|, float32 sequential loop, longest L",
             tol=1e-3),
    ])
report.claim(
    "C2", "Newton converges in about 3 iterations, nearly independently of the length.",
    kind="empirical", paper="3 Newton iterations suffice (ParaGRU, ParaLSTM)",
    checks=[
        ev("iters_max", "<=", 4, "updates to max |F| ≤ 1e-6, authors' init, largest over "
           "L and seeds", over="max", tol=1),
        ev("iters_growth", "<=", 1, "updates at the longest L − at the shortest",
           over="max", tol=1),
        ev("iters_trained", "<=", 4, "the same on held-out text, ParaGRU trained in C3",
           over="max", tol=1),
        ctl("picard_iters_max", "iters_max", "Jacobian-free fixed point (Picard), cap 64",
            over="max", tol=3),
        ctx_("iters_strong", f"Newton, recurrent weights of std {STRONG} (cap 64; 65 = "
             "never reached)", over="max", tol=64),
    ],
    partial=["iters_max", "iters_growth"])
report.claim(
    "C3", "Training in parallel mode (3 Newton updates) reaches the loss of sequential "
    "training.", kind="empirical",
    paper="ParaGRU/ParaLSTM trained in parallel at 7B scale; parallel and sequential "
    "modes agree",
    checks=[
        ev("loss_gap", "<=", 0.02, "|loss(parallel) − loss(sequential)| / loss(sequential), "
           "held-out", over="max", tol=0.01),
        ctl("loss_gap_k0", "loss_gap", "0 Newton updates (no recurrence), trained the same",
            over="max", tol=0.06),
        ctx_("loss_seq", "held-out loss (nats/char), sequential training", tol=0.3),
        ctx_("loss_par", "held-out loss, parallel training", tol=0.3),
        ctx_("loss_k1", "held-out loss, 1 Newton update", tol=0.3),
        ctx_("loss_untrained", "held-out loss at initialisation", tol=0.03),
        ctx_("train_gap", "largest |training-loss difference|, parallel − sequential, over "
             "steps", over="max", tol=0.05),
    ])
report.claim(
    "C4", "Newton + parallel scan is much faster than the sequential loop on a GPU.",
    kind="empirical", paper="up to 665× (fused CUDA kernels, GPU)",
    checks=[
        ev("speedup_long", ">=", 10, "median time(loop) / time(Newton, 3 updates), forward, "
           "longest L", tol=5),
        ctl("speedup_short", "speedup_long", "the same at L = 16", tol=1),
    ])
report.claim(
    "C5", "7B ParaGRU/ParaLSTM reach the perplexity of similarly-sized transformers and "
    "Mamba2.", kind="empirical",
    paper="comparable perplexity at 7B parameters (SlimPajama)",
    checks=[ev("ppl_ratio", "<=", 1.05, "perplexity / transformer perplexity at 7B")],
    no_control="not run: needs billions of parameters and a large corpus")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Newton's method on a whole trajectory
#
# Stack the recurrence over all steps as $F(h) = 0$ with $F(h)_t = h_t - f(h_{t-1}, x_t)$ and
# $h_{-1} = 0$. The Jacobian of $F$ has the identity on its diagonal and
# $-J_t = -\partial f/\partial h\,(h_{t-1}, x_t)$ just below it, so the Newton update
# $h^{k+1} = h^k - (\partial F)^{-1} F(h^k)$ is the linear recurrence
#
# $$h^{k+1}_t = J^k_t\, h^{k+1}_{t-1} + \big(f(h^k_{t-1}, x_t) - J^k_t\, h^k_{t-1}\big),$$
#
# which `rnnbook.scan.parallel_scan` solves for all $t$ in $2\log_2 L$ rounds when $J$ is
# diagonal (`parallel_matrix_scan` for small dense blocks). Two properties follow from this
# structure. Update $k$ makes (at least) the first $k$ steps exact, because the linear
# recurrence is forward substitution, so the iteration ends after at most $L$ updates; and
# near the solution the error is squared at every update, which is why few updates suffice
# when the starting point is close. The starting point is $h^0_t = f(0, x_t)$ [C].
#
# The backward pass needs no Newton at all: for a loss $\ell(h)$ at a solution of $F(h) = 0$,
# the adjoint $\lambda = (\partial F)^{-\top} \nabla_h \ell$ solves
# $\lambda_t = \nabla_{h_t}\ell + J_{t+1}^\top \lambda_{t+1}$, a linear recurrence backward in
# time (one reverse scan), and the parameters' gradients are one vector–Jacobian product of
# the cell at all steps at once. `newton.newton_rnn` does both; the authors' code does the
# same [C] (they call the reverse solve with flipped, shifted Jacobians).
#
# **ParaGRU** [C] is a GRU {footcite}`cho2014gru` whose recurrent weights are diagonal vectors
# $a_z, a_r, a_h$:
#
# $$z = \sigma(a_z \odot h + B_z x + b_z),\quad r = \sigma(a_r \odot h + B_r x + b_r),\quad
# c = \tanh(a_h \odot h \odot r + B_h x + b_h),\quad h' = z \odot c + (1-z) \odot h,$$
#
# so its Jacobian is the diagonal
# $J = (1-z) + (c-h)\,z(1-z)\,a_z + z(1-c^2)\,a_h\,(r + h\,r(1-r)\,a_r)$. As in the
# authors' code, $a$ starts as $\mathcal N(0, (2/\sqrt{5n})^2)$, $B$ is Xavier-uniform and the
# update gate's bias is $-\mathrm{linspace}(0, 1)$ [C]. The library's tests
# (`tests/test_newton.py`) check the Jacobian against autograd and the solver against the loop.

# %%
def per_seed(draw, tag, seeds=None):
    """draw(generator) for every seed of the run, stacked on a new
    leading axis: model s depends on seed s only."""
    seeds = ctx.seeds if seeds is None else seeds
    out = [draw(runtime.generator(sd, tag)) for sd in seeds]
    if isinstance(out[0], torch.Tensor):
        return torch.stack(out).to(dev)
    return [torch.stack(p).to(dev) for p in zip(*out, strict=True)]


def paragru_init(n, m, tag, dtype=torch.float32):
    """Stacked ParaGRU cells at the authors' initialisation [C]:
    a (S, 1, 3, n), B (S, m, 3n), b (S, 1, 1, 3n)."""
    def draw(gen):
        a = 2 / math.sqrt(5 * n) * torch.randn(1, 3, n, generator=gen,
                                                dtype=dtype)
        lim = math.sqrt(6 / (m + n))  # Xavier, fan_in m, fan_out n [C]
        B = torch.rand(m, 3 * n, generator=gen, dtype=dtype)
        B = (2 * B - 1) * lim
        b = torch.zeros(1, 1, 3, n, dtype=dtype)  # (drawn on the CPU)
        b[..., 0, :] = -torch.linspace(0, 1, n, dtype=dtype)
        return a, B, b.flatten(-2)
    return per_seed(draw, tag)


def gate_inputs(x, B, b):
    """u = x B + b: (S, batch, L, m) -> (S, batch, L, 3n)."""
    return torch.einsum("sblm,smk->sblk", x, B) + b


step, jac = newton.paragru_step, newton.paragru_jacobian


def capped(k):
    """Updates to the tolerance; CAP + 1 when it was never reached."""
    return CAP + 1 if k is None else k

# %% [markdown]
# ## C1: the same trajectory and the same gradients
#
# Stacked cells (one per seed) at the authors' initialisation, a batch of Gaussian input
# sequences, lengths {glue:text}`a32_lengths`, all in float64: Newton + scan until
# $\max\lvert F\rvert \le 10^{-12}$ against the loop, and the gradients of a random linear
# read-out of all states, with respect to $a$, $B$ and $b$, from the adjoint scan against
# backpropagation through the loop at $L =$ {glue:text}`a32_Lgrad`.

# %%
a64, B64, b64 = paragru_init(P["n"], P["m"], 1, F64)


def gauss(*shape, tag):
    return per_seed(lambda g: torch.randn(*shape, generator=g, dtype=F64),
                    tag)


traj_err, upd_solve, iters, picard_it, strong_it = [], [], {}, {}, {}
traces = {}
for L in P["lengths"]:
    x = gauss(P["batch"], L, P["m"], tag=10 + L)
    u = gate_inputs(x, B64, b64)
    with torch.no_grad():
        ref = newton.sequential(step, u, a64)
    h, tr = newton.newton(step, jac, u, a64, iters=CAP, tol=SOLVE_TOL,
                          trace=True)
    traj_err.append(float((h - ref).abs().max()))
    upd_solve.append(capped(tr.iterations(SOLVE_TOL)))
    # C2: per seed, Newton and Picard to TOL; a strong-recurrence probe
    iters[L], picard_it[L], strong_it[L] = [], [], []
    for s in range(S):
        _, tn = newton.newton(step, jac, u[s], a64[s], iters=CAP,
                              tol=TOL, trace=True)
        _, tp = newton.picard(step, u[s], a64[s], iters=CAP, tol=TOL,
                              trace=True)
        a_strong = a64[s] * (STRONG / a64[s].std())
        _, tst = newton.newton(step, jac, u[s], a_strong, iters=CAP,
                               tol=TOL, trace=True)
        iters[L].append(tn.iterations(TOL))
        picard_it[L].append(tp.iterations(TOL))
        strong_it[L].append(tst.iterations(TOL))
        if s == 0:  # for the figure: Newton down to rounding level
            traces[L] = (
                newton.newton(step, jac, u[s], a64[s], iters=6,
                              trace=True)[1].residuals,
                tp.residuals,
            )
print("max |h_newton - h_loop|:", traj_err)
print("updates to 1e-12:", upd_solve)

# %% [markdown]
# The gradients: the loss is $\sum_t w_t \cdot h_t$ with a fixed random $w$; the sequential
# side is autograd through the loop (backpropagation through time), the parallel side is
# `newton_rnn`, whose backward pass is the adjoint scan.

# %%
L = P["L_grad"]
x = gauss(P["batch"], L, P["m"], tag=2)
w = gauss(P["batch"], L, P["n"], tag=3)


def read_out_grads(solve):
    ps = [t.clone().requires_grad_(True) for t in (a64, B64, b64)]
    h = solve(gate_inputs(x, ps[1], ps[2]), ps[0])
    return torch.autograd.grad((h * w).sum(), ps)


g_seq = read_out_grads(lambda u, a: newton.sequential(step, u, a))
g_par = read_out_grads(lambda u, a: newton.newton_rnn(
    step, jac, u, a, iters=CAP, tol=SOLVE_TOL))
grad_rel = max(float((gp - gs).abs().max() / gs.abs().max())
               for gp, gs in zip(g_par, g_seq, strict=True))
print(f"relative gradient error (a, B, b): {grad_rel:.2e}")

# %% [markdown]
# The authors' own setting is float32 and exactly 3 updates, with no tolerance [C]. Both the
# float32 loop and the float32 three-update solve are compared with the float64 loop at the
# longest length: the loop's own rounding error is the scale against which the solver's
# error is read.

# %%
L = P["lengths"][-1]
x = gauss(P["batch"], L, P["m"], tag=4)
u = gate_inputs(x, B64, b64)
with torch.no_grad():
    ref = newton.sequential(step, u, a64)
    loop32 = newton.sequential(step, u.float(), a64.float())
h32, _ = newton.newton(step, jac, u.float(), a64.float(), iters=K_PAPER)
err32_newton3 = float((h32.double() - ref).abs().max())
err32_loop = float((loop32.double() - ref).abs().max())
print(f"float32, L = {L}: 3 updates {err32_newton3:.1e}, "
      f"loop {err32_loop:.1e}")
report.measure("C1", traj_err=max(traj_err), grad_rel_err=grad_rel,
               updates_solve=max(upd_solve), err32_newton3=err32_newton3,
               err32_loop=err32_loop)
print(report.verdict("C1"))

# %%
runtime.glue("a32_lengths", ", ".join(str(v) for v in P["lengths"]))
runtime.glue("a32_Lgrad", str(P["L_grad"]))
runtime.glue("a32_traj", f"{max(traj_err):.0e}")
runtime.glue("a32_grad", f"{grad_rel:.0e}")
runtime.glue("a32_e32n", f"{err32_newton3:.0e}")
runtime.glue("a32_e32l", f"{err32_loop:.0e}")

# %% [markdown]
# The trajectories agree to {glue:text}`a32_traj` and the gradients to a relative
# {glue:text}`a32_grad`. In float32 with the authors' three updates the error is
# {glue:text}`a32_e32n`, against {glue:text}`a32_e32l` for the float32 loop itself: three
# updates leave an error near float32 rounding, as the authors' test script warns ("expect
# errors growing as eps * seq_length") [C].
#
# ## C2: how many iterations?
#
# The figure shows the largest residual $\max_t \lvert F(h^k)_t\rvert$ after each update for
# one seed at every length. Newton's residual falls quadratically (each update roughly
# squares it); Picard's falls by a roughly constant factor per update, the factor set by how
# fast the cell forgets (Picard's trace stops at the tolerance, the dotted line).

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for L, (rn, rp) in traces.items():
    for a_, res, fmt in [(ax[0], rn, "o-"), (ax[1], rp, "-")]:
        a_.semilogy(np.maximum(res, 1e-17), fmt, label=f"L={L}")
for a_, title in zip(ax, ["Newton + scan", "Picard (no Jacobian)"],
                     strict=True):
    a_.axhline(TOL, color="grey", ls=":", lw=1)
    a_.set(title=title, xlabel="update k")
ax[0].set_ylabel("max |F(h^k)|")
ax[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# The same question on the trained model: after C3, the ParaGRU trained in parallel mode is
# run on held-out text of length {glue:text}`a32_iterL` (float64 copy of its weights).
# C2's verdict is given below, after C3.
#
# ## C3: training in parallel mode
#
# **Substitute data.** The paper trains on SlimPajama; we train a character model on Python
# source read from the local Python installation's standard library (no download). The text
# therefore depends slightly on the Python version that runs the chapter.

# %%
FILES = ["functools.py", "textwrap.py", "string.py", "heapq.py",
         "bisect.py", "fractions.py", "statistics.py", "random.py",
         "shlex.py", "difflib.py", "argparse.py", "inspect.py",
         "typing.py", "dataclasses.py", "pathlib.py", "pdb.py"]


def read_text(limit):
    """FILES first, then the other top-level modules in name order
    (`rnnbook.languages`, shared with A39's docstring text)."""
    return languages.stdlib_source(FILES, limit)


# vocabulary: newline, printable ASCII (32..126), and one "other" token
VOCAB = ["\n"] + [chr(c) for c in range(32, 127)]
OTHER = len(VOCAB)
V = OTHER + 1
lookup = {c: i for i, c in enumerate(VOCAB)}
text = read_text(P["text_chars"])
ids = torch.tensor([lookup.get(c, OTHER) for c in text])
cut = int(0.9 * len(ids))
train_ids, held_ids = ids[:cut], ids[cut:]
runtime.glue("a32_chars", f"{len(text):,}")
print(f"{len(text)} characters of Python {sys.version_info[0]}."
      f"{sys.version_info[1]} source; vocabulary {V}; "
      f"train {len(train_ids)}, held-out {len(held_ids)}")

# %% [markdown]
# The model, one per seed, stacked: an embedding of width $n$, a ParaGRU layer of $n$ units
# (the gate inputs $Bx + b$ are one dense layer; the authors split it into heads [C]) and a
# linear read-out to the {glue:text}`a32_V` characters. The four arms start from the same
# initialisation and see the same batches (Adam, {glue:text}`a32_steps` steps of
# {glue:text}`a32_batch` windows of {glue:text}`a32_lmL` characters):
#
# - *sequential*: the loop, backpropagation through time;
# - *parallel*: 3 Newton updates forward and the adjoint scan backward (the authors' mode);
# - *1 update* (reported) and *0 updates* (the control: $h_t = f(0, x_t)$, no recurrence).
#
# The held-out loss of every arm is measured with the sequential loop.

# %%
def lm_init():
    n = P["lm_n"]
    a, B, b = paragru_init(n, n, 20)
    E, R = per_seed(lambda g: (
        torch.randn(V, n, generator=g),
        torch.randn(n, V, generator=g) / math.sqrt(n)), 21)
    return [a, B, b, E, R, torch.zeros(S, 1, 1, V, device=dev)]


def lm_logits(params, tok, mode):
    a, B, b, E, R, c = params
    u = gate_inputs(E[torch.arange(S, device=dev)[:, None, None], tok],
                    B, b)
    if mode == "seq":
        h = newton.sequential(step, u, a)
    elif mode == "k0":
        h = newton.initial_guess(step, u, a)
    else:
        h = newton.newton_rnn(step, jac, u, a, iters=MODES[mode])
    return torch.einsum("sbln,snv->sblv", h, R) + c


def lm_loss(params, tok, mode):
    """Mean cross-entropy per seed: (S,)."""
    logits = lm_logits(params, tok[..., :-1], mode)
    ce = torch.nn.functional.cross_entropy(
        logits.flatten(0, 2), tok[..., 1:].flatten(), reduction="none")
    return ce.view(S, -1).mean(1)


def windows(source, count, length, gens):
    """count windows of length + 1 characters per seed: (S, count, L+1)."""
    starts = torch.stack([
        torch.randint(0, len(source) - length - 1, (count,), generator=g)
        for g in gens])
    return source[starts[..., None] + torch.arange(length + 1)].to(dev)


def seed_gens(tag):
    return [runtime.generator(sd, tag) for sd in ctx.seeds]


MODES = {"seq": None, "par": K_PAPER, "k1": 1, "k0": 0}
held = windows(held_ids, P["eval_batch"], P["eval_L"], seed_gens(22))
curves, held_loss, own_loss, models = {}, {}, {}, {}
for mode in MODES:
    params = [t.requires_grad_(True) for t in lm_init()]
    if mode == "seq":
        with torch.no_grad():
            untrained = lm_loss(params, held, "seq")
    opt = torch.optim.Adam(params, lr=P["lm_lr"])
    batches = seed_gens(23)  # the same batches for every arm
    curve = []
    for _ in range(P["lm_steps"]):
        tok = windows(train_ids, P["lm_batch"], P["lm_L"], batches)
        loss = lm_loss(params, tok, mode)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        curve.append(loss.detach())
    curves[mode] = torch.stack(curve).cpu().numpy()  # (steps, S)
    with torch.no_grad():
        held_loss[mode] = lm_loss(params, held, "seq").cpu().numpy()
        own_loss[mode] = lm_loss(params, held, mode).cpu().numpy()
    models[mode] = [t.detach() for t in params]
    print(f"{mode:4s} held-out loss (loop):", held_loss[mode].round(3))

# %%
gap = np.abs(held_loss["par"] - held_loss["seq"]) / held_loss["seq"]
gap_k0 = np.abs(held_loss["k0"] - held_loss["seq"]) / held_loss["seq"]
train_gap = np.abs(curves["par"] - curves["seq"]).max(0)
fig, ax = plt.subplots(figsize=(6, 3.4))
steps_axis = np.arange(1, P["lm_steps"] + 1)
for mode, label in [("seq", "sequential"), ("par", "parallel (3 updates)"),
                    ("k1", "1 update"), ("k0", "0 updates (control)")]:
    plots.seed_band(ax, steps_axis, curves[mode].T, label=label)
ax.set(xlabel="training step", ylabel="training loss (nats/char)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Now the iterations of C2 on the trained model: held-out windows of length
# {glue:text}`a32_iterL`, float64, each seed's parallel-trained weights.

# %%
a_t, B_t, b_t, E_t = (t.double() for t in models["par"][:4])
tok = windows(held_ids, 4, P["iter_L"], seed_gens(24))
u_t = gate_inputs(E_t[torch.arange(S, device=dev)[:, None, None],
                      tok[..., :-1]],
                  B_t, b_t)
iters_trained = [
    newton.newton(step, jac, u_t[s], a_t[s], iters=CAP, tol=TOL,
                  trace=True)[1].iterations(TOL) for s in range(S)]
print("updates to 1e-6, trained model:", iters_trained)


Ls = P["lengths"]
iters_max = [max(capped(iters[L][s]) for L in Ls) for s in range(S)]
growth = [capped(iters[Ls[-1]][s]) - capped(iters[Ls[0]][s])
          for s in range(S)]
picard_max = [max(capped(picard_it[L][s]) for L in Ls) for s in range(S)]
strong_max = [max(capped(strong_it[L][s]) for L in Ls) for s in range(S)]
print("Newton updates by L:", {L: iters[L] for L in Ls})
print("Picard updates by L:", {L: picard_it[L] for L in Ls})
print(f"strong recurrence (std {STRONG}):", {L: strong_it[L] for L in Ls})
report.measure("C2", iters_max=iters_max, iters_growth=growth,
               iters_trained=[capped(k) for k in iters_trained],
               picard_iters_max=picard_max, iters_strong=strong_max)
report.measure("C3", loss_gap=gap.tolist(), loss_gap_k0=gap_k0.tolist(),
               loss_seq=held_loss["seq"].tolist(),
               loss_par=held_loss["par"].tolist(),
               loss_k1=held_loss["k1"].tolist(),
               loss_untrained=untrained.cpu().tolist(),
               train_gap=train_gap.tolist())
print(report.verdicts())

# %%
runtime.glue("a32_V", str(V))
runtime.glue("a32_steps", str(P["lm_steps"]))
runtime.glue("a32_batch", str(P["lm_batch"]))
runtime.glue("a32_lmL", str(P["lm_L"]))
runtime.glue("a32_iterL", str(P["iter_L"]))
runtime.glue("a32_it", str(max(iters_max)))
runtime.glue("a32_itp", str(max(picard_max)))
runtime.glue("a32_itt", str(max(capped(k) for k in iters_trained)))
runtime.glue("a32_its", str(max(strong_max)))
runtime.glue("a32_gap", f"{gap.max():.1%}")
runtime.glue("a32_gap0", f"{gap_k0.min():.1%}")
gap_k1 = np.abs(held_loss["k1"] - held_loss["seq"]) / held_loss["seq"]
runtime.glue("a32_gap1", f"{gap_k1.max():.1%}")
gap_k0_own = np.abs(own_loss["k0"] - held_loss["seq"]) / held_loss["seq"]
runtime.glue("a32_lk0own", f"{own_loss['k0'].mean():.3f}")
runtime.glue("a32_gap0own", f"{gap_k0_own.min():.1%}")
runtime.glue("a32_lseq", f"{held_loss['seq'].mean():.3f}")
runtime.glue("a32_lpar", f"{held_loss['par'].mean():.3f}")
runtime.glue("a32_lk1", f"{held_loss['k1'].mean():.3f}")
runtime.glue("a32_lk0", f"{held_loss['k0'].mean():.3f}")
runtime.glue("a32_l0", f"{untrained.mean().item():.3f}")

# %% [markdown]
# **C2.** At the authors' initialisation Newton needs at most {glue:text}`a32_it` updates at
# every length, the trained model at most {glue:text}`a32_itt`, while the Jacobian-free
# iteration needs up to {glue:text}`a32_itp` (65 means it did not reach the tolerance within
# 64). The fast convergence depends on the cell: with recurrent weights of standard
# deviation 1, several times the initial scale, Newton needs up to {glue:text}`a32_its`
# updates (65 = never), and in our pilot at standard deviation 3 it diverged, because
# products of Jacobians larger than one blow up in the scan; the follow-up work on DEER
# damps the steps for this reason {footcite}`gonzalez2024scalable`. The authors keep $|a|$
# small by initialisation [C] and do not check convergence during training (always 3
# updates).
#
# **C3.** Held-out loss (nats per character, measured with the loop): sequential training
# {glue:text}`a32_lseq`, parallel training {glue:text}`a32_lpar` (largest relative gap over
# seeds {glue:text}`a32_gap`), 1 update {glue:text}`a32_lk1`, 0 updates
# {glue:text}`a32_lk0` (smallest gap {glue:text}`a32_gap0`), untrained
# {glue:text}`a32_l0`. This is a miniature: {glue:text}`a32_steps` steps, so the losses are
# far from what a converged model reaches; the claim is only that the two modes of training
# end at the same place. One update ends as close to the sequential loss as three (largest
# gap {glue:text}`a32_gap1`): with recurrent weights as small as these the cell is nearly
# linear in $h$ along the trajectory, and on a linear recurrence Newton is exact after one
# update. The miniature therefore cannot show why the authors need three; it shows that
# dropping the recurrence (0 updates) is detected by the rule. The control is measured like
# the other arms, with the loop, on which it was not trained; measured in its own mode (no
# recurrence, as it was trained) its held-out loss is {glue:text}`a32_lk0own` (smallest gap
# to sequential training {glue:text}`a32_gap0own`). In the figure the sequential, parallel
# and one-update curves lie on top of each other.
#
# ## C4: time against the loop
#
# One ParaGRU layer at the authors' initialisation (float32, on this run's device), forward
# pass only: the loop against 3 Newton updates with scans. The two are timed alternately, in
# interleaved rounds over all lengths after one warm-up each; we report the median and the
# range.

# %%
def timed(fn):
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


gs = runtime.generator(ctx.seeds[0], 30)  # one layer, the first seed
a_sp, B_sp, b_sp = (t[0].to(dev) for t in paragru_init(
    P["sp_n"], P["sp_n"], 30))
inputs = {L: torch.randn(P["sp_batch"], L, P["sp_n"], generator=gs)
          .to(dev) @ B_sp + b_sp for L in P["sp_lengths"]}
runs = {
    "loop": lambda u: newton.sequential(step, u, a_sp),
    "newton": lambda u: newton.newton(step, jac, u, a_sp, iters=K_PAPER),
}
times = {(k, L): [] for k in runs for L in P["sp_lengths"]}
with torch.no_grad():
    for rep in range(P["sp_reps"] + 1):
        for L in P["sp_lengths"]:
            for k, fn in runs.items():
                t = timed(lambda fn=fn, L=L: fn(inputs[L]))
                if rep > 0:  # round 0 is the warm-up
                    times[(k, L)].append(t)
rows = []
for L in P["sp_lengths"]:
    tl, tn = np.array(times[("loop", L)]), np.array(times[("newton", L)])
    rows.append((L, np.median(tl), tl.min(), tl.max(), np.median(tn),
                 tn.min(), tn.max(), np.median(tl) / np.median(tn)))
    print(f"L={L:6d}  loop {1e3 * rows[-1][1]:8.2f} ms "
          f"[{1e3 * tl.min():.2f}, {1e3 * tl.max():.2f}]  newton "
          f"{1e3 * rows[-1][4]:8.2f} ms [{1e3 * tn.min():.2f}, "
          f"{1e3 * tn.max():.2f}]  ratio {rows[-1][7]:.2f}")
speed_long, speed_short = rows[-1][7], rows[0][7]

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.4))
r = np.array(rows)
for col, label in [(1, "sequential loop"), (4, "Newton, 3 updates")]:
    ax.errorbar(r[:, 0], 1e3 * r[:, col],
                yerr=[1e3 * (r[:, col] - r[:, col + 1]),
                      1e3 * (r[:, col + 2] - r[:, col])],
                fmt="o-", capsize=3, label=label)
ax.set(xscale="log", yscale="log", xlabel="sequence length L",
       ylabel="forward time (ms)", title=ctx.device_name)
ax.legend(fontsize=8)
plt.show()

# %%
if dev.type == "cuda":
    report.measure("C4", speedup_long=float(speed_long),
                   speedup_short=float(speed_short))
else:
    report.untestable(
        "C4", "the 665× is a GPU measurement; on this CPU (1 thread) "
        f"Newton + scan / loop at L = {P['sp_lengths'][-1]}: "
        f"{speed_long:.2f}× (median of {P['sp_reps']}), at L = "
        f"{P['sp_lengths'][0]}: {speed_short:.2f}×; judged on a GPU in "
        "the full profile")
report.untestable("C5", "7B-parameter models and a large corpus are out "
                  "of reach of this book")
print(report.verdicts())
runtime.glue("a32_spl", f"{speed_long:.2f}")
runtime.glue("a32_sps", f"{speed_short:.2f}")
runtime.glue("a32_Lsp", str(P["sp_lengths"][-1]))

# %% [markdown]
# On this run's device the ratio of the medians is {glue:text}`a32_spl`× at
# $L =$ {glue:text}`a32_Lsp` and {glue:text}`a32_sps`× at $L = 16$. On one CPU thread a scan
# has no parallel hardware to use: it does about $3 \times$ (cell + Jacobian + a scan of
# $2\log_2 L$ rounds) of whole-tensor work where the loop does $L$ small steps, so any gain
# comes from fewer Python-level operations, not from parallelism. The paper's 665× comes
# from a GPU, fused CUDA kernels and long sequences; the full profile measures our
# pure-PyTorch solver on a GPU.
#
# ## Versus the authors' code
#
# We read `apple/ml-pararnn` (the authors' first commit, `dc2647b`, through the public mirror
# `xaviergonzalez/ml-pararnn`, whose later commits add training scripts that are not the
# authors') to compare; nothing was copied.
#
# | | authors (`pararnn`) [C] | this chapter |
# |---|---|---|
# | system | $F(h)_t = h_t - f(h_{t-1}, x_t)$, $h_{-1} = 0$ | the same |
# | Newton step | residual, Jacobian, linear solve, $h \mathrel{+}= \omega\,\delta$ ($\omega = 1$) | the same, $\omega = 1$ |
# | iterations | fixed `max_its = 3`; tolerance checks commented out | fixed 3 in training (C3); to a tolerance in C1/C2 |
# | initial guess | $f(0, x_t)$ for ParaGRU (zeros by default) | $f(0, x_t)$ |
# | linear solve | Hillis–Steele-style reduction in PyTorch ($\lceil\log_2 L\rceil$ steps, $O(L \log L)$ work); CUDA kernels (chunked Thomas + warp/block scans); a fully fused kernel | odd–even scan in PyTorch (`rnnbook.scan`, $2\log_2 L$ rounds, $O(L)$ work) |
# | Jacobians | diagonal, 2×2 / 3×3 block-diagonal, dense (autograd) | diagonal (ParaGRU) and dense (`tanh` cell, matrix scan, tests only) |
# | backward | reverse linear solve with flipped, shifted Jacobians; parameter gradients by hand (ParaGRU) or autograd | reverse scan; parameter gradients by one autograd VJP |
# | ParaGRU | $z, r$ gates, $c = \tanh(a_h h r + B_h x + b_h)$, $h' = z c + (1-z) h$ | the same equations |
# | input projection | block-diagonal $B$ over heads (2 by default) | one dense $B$ |
# | initialisation | $a \sim \mathcal N(0, (2/\sqrt{5n})^2)$, $B$ Xavier-uniform, $b_z = -\mathrm{linspace}(0,1)$ | the same |
# | ParaLSTM | CIFG LSTM with diagonal recurrence | not built |
# | protocol | sequential vs parallel outputs and gradients on random inputs (14 units, $L = 256$); language models to 7B on SlimPajama | C1–C4 here; a character model of Python source, 64 units |

# %% [markdown]
# ## Checks that do not depend on the run
#
# A fixed small problem: Newton equals the loop after convergence and after $L$ updates
# (forward substitution), Picard is exact after $L - 1$ updates, and the adjoint gradient
# matches BPTT; the vocabulary.

# %%
gf = torch.Generator().manual_seed(0)
a_f = 0.5 * torch.randn(1, 3, 4, generator=gf, dtype=F64)
u_f = torch.randn(2, 9, 12, generator=gf, dtype=F64)
ref_f = newton.sequential(step, u_f, a_f)
h_f, _ = newton.newton(step, jac, u_f, a_f, iters=9)
p_f, _ = newton.picard(step, u_f, a_f, iters=8)

# %% tags=["nbval-check-output"]
print("Newton after L updates = loop:",
      bool(torch.allclose(h_f, ref_f, atol=1e-12)))
print("Picard after L-1 updates = loop:",
      bool(torch.allclose(p_f, ref_f, atol=1e-12)))
uf = u_f.clone().requires_grad_(True)
gs_f = torch.autograd.grad(newton.sequential(step, uf, a_f).sum(), uf)[0]
gp_f = torch.autograd.grad(newton.newton_rnn(
    step, jac, uf, a_f, iters=20, tol=1e-14).sum(), uf)[0]
print("adjoint gradient = BPTT:", bool(torch.allclose(gs_f, gp_f)))
print("vocabulary size:", V)
print("constants:", dict(TOL=TOL, SOLVE_TOL=SOLVE_TOL, CAP=CAP,
                         K_PAPER=K_PAPER, STRONG=STRONG))

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2
# threads (seeds 0, 1) and with two other seed sets (2, 3 and 4, 5); the table shows both
# changes beside the declared `tol` and every verdict seen. No value changed between thread
# paths; each `tol` is at least the change between seed sets, because the character text
# also changes a little between Python versions. Iteration counts are integers: their `tol`
# allows at least one update.

# %%
report.tolerances("../../data/a32_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Scale.** A ParaGRU layer of 32–64 units (ci) instead of multi-layer models of up to 7B
#   parameters; C5 is not testable. The character model is a miniature trained for a few
#   hundred steps.
# - **Data (a substitute).** Python standard-library source from the local installation
#   (about {glue:text}`a32_chars` characters) instead of SlimPajama; it differs slightly
#   between Python versions.
# - **Solver.** Pure PyTorch with the book's odd–even scan; no CUDA kernels, so the speed of
#   C4 is not the speed of the authors' fused kernels.
# - **Full profile not yet run.** No GPU was available when this chapter was written; C4's
#   rule is judged only when the full profile runs on a GPU (the same code at larger sizes:
#   lengths to 65,536 for the timing, a 256-unit character model for 1,000 steps).
# - **Convergence measure.** The paper fixes 3 iterations; we count the updates needed to a
#   residual of $10^{-6}$ in float64 (the research notes' rule), and report the float32
#   three-update error in C1.
# - **Rules before results.** All rules and controls were written before the chapter's seeds
#   were run. A pilot on another seed (100) at the ci size showed Newton at 3 updates for
#   $L = 256$ to 4096 and Picard at about 45, and the strong-recurrence divergence; it fixed
#   no threshold.
#
# ## References
#
# ```{footbibliography}
# ```
