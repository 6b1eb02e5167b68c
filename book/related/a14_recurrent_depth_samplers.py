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
# # A14 · Parallel samplers for recurrent-depth models
#
# A recurrent-depth language model {footcite}`geiping2025scaling` reads its input with a few
# layers (the *prelude*), then applies one shared block $r$ times to a latent state, feeding
# the prelude's output back in at every step (*input injection*), and reads the answer out with
# a few more layers (the *coda*). Generating a token autoregressively then costs $r$ block calls
# one after another, for every token. Geiping, Yang and Su {footcite}`geiping2025parallel`
# observe that the recurrence looks like the denoising loop of a diffusion model and borrow
# *diffusion forcing* {footcite}`chen2024diffusion`: the sampler decodes a draft of a new token
# at every forward pass, and keeps refining the latent states of the not-yet-final tokens in
# parallel, in one batched call, freezing a token once its state stops moving. They report up to
# 5× faster generation with a 3.5B model, without retraining. We train a miniature
# recurrent-depth model on a synthetic language, implement both samplers, and *count* the
# sequential block calls each needs. Parts read in the authors' code
# (`seal-rg/recurrent-pretraining`) are marked [C], parts reconstructed by us [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C0** (construction, a count): the autoregressive sampler at depth $r$ makes exactly
#   $(N+1)\,r$ sequential block calls for $N+1$ new tokens; the diffusion-forcing sampler, with
#   its exit test switched off, exactly $r + N + r - 1$.
# - **C1** "leading to up to a 5x speedup": the diffusion-forcing sampler cuts the sequential
#   block calls by several times against autoregressive sampling at the same depth (a count on
#   a trained model; the paper: up to 5× wall-clock on a 3.5B model).
# - **C2** the sampler keeps the accuracy (about 1 % change in the paper), and its tokens agree
#   with greedy autoregressive decoding.
# - **C3** the exit threshold ε trades speed for agreement.
# - **C4** (construction) "generation with our sampler is strictly more expressive than the
#   baseline autoregressive generation using the same time budget": a theoretical statement.
#   We do not reproduce it; we verify the counting argument behind it.
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnnbook import claims, languages, plots, runtime
from rnnbook import recurrent_depth as rd
from rnnbook import transformer as tr

ctx = runtime.setup("a14", default_seeds={"ci": [0, 1], "full": [0, 1, 2]})
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(d=24, heads=2, ff=48, iters=300, batch=64, lr=3e-3,
            prompts=128),
    full=dict(d=64, heads=4, ff=128, iters=3000, batch=128, lr=1e-3,
              prompts=1024),
)  # fmt: skip
S = len(ctx.seeds)
MOD = 7  # alphabet of the substitute language
PROMPT, NEW = 4, 16  # prompt tokens; new tokens after the first one
R, R_MIN, K_BP = 8, 4, 4  # test depth; training depths R_MIN..R; backprop
NOISE = 0.1  # share of random tokens in the training language
EPS = 0.03  # exit threshold of C1, C2: the authors' default exit_t [C]
EPS_SWEEP = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0]

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs. "Sequential model
# calls" are counted as the authors' code counts `num_core_forward_passes` [C]: one call is one
# application of the shared recurrent block, to one position or to a whole batch of positions
# at once; the prelude and coda calls, two per forward pass in both samplers, are left out of
# the ratio and reported beside it.
#
# - **C0** is a count that cannot come out otherwise unless the code is wrong.
# - **C1.** The paper's "up to 5×" is a wall-clock speed-up; the research notes turn it into a
#   count: the autoregressive calls divided by the diffusion-forcing calls, at the same depth
#   $r = 8$ and ε = 0.03 (the authors' default exit threshold), at least 3 ("several times"),
#   mean over prompts and seeds. Control: the same sampler with a wavefront of width one (a new
#   position opens only when the one before has frozen), so that only the early exit, not the
#   parallel refinement, can save calls; it must fail the same rule.
# - **C2.** The notes' rule: accuracy of the sampled continuations (the share of new tokens that
#   obey the language's rule) at most 2 points below the autoregressive sampler's, and token
#   agreement with greedy autoregressive decoding at least 0.95. Control: a sampler that skips
#   the recurrence (tokens decoded from the initial noise state, depth 0); it must fail both.
# - **C3.** Operational rule for "trades": over the sweep ε ∈ {0, 0.01, 0.03, 0.1, 0.3, 1}, the
#   speed-up does not fall in at least 4 of the 5 steps, the agreement does not rise in at least
#   4 of the 5 steps (the notes' "monotone in ≥ 4/5"), the speed-up at ε = 1 is at least 1.1 ×
#   that at ε = 0, and the agreement at ε = 1 is at least 0.02 below that at ε = 0 (a trade
#   that is not flat). Control: the same sweep with the exit test ablated (positions freeze only
#   at the depth cap); its gain and drop must fail.
# - **C4** is the counting behind the paper's theoretical statement (below); the statement
#   itself is theory and is not counted as reproduced.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Parallel samplers for recurrent-depth models")
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C0", "Exact sequential block calls: AR at depth r makes (N + 1) r; diffusion forcing "
    "with the exit test off makes r + N + r − 1 (one inner recurrence per step).",
    kind="construction", paper="counts of num_core_forward_passes (the authors' code)",
    checks=[
        E("ar_count_error", "==", 0, "AR calls − (N + 1) r, largest over prompts"),
        E("df_count_error", "==", 0, "DF calls (ε = 0) − (r + N + r − 1), largest"),
    ])
report.claim(
    "C1", "The diffusion-forcing sampler cuts the sequential block calls by several times "
    "against AR sampling at the same depth (r = 8, ε = 0.03).",
    kind="empirical", paper="up to 5× wall-clock (3.5B Huginn, A100, batch 1)",
    checks=[
        E("speedup", ">=", 3.0, "AR calls / DF calls, mean over prompts", tol=0.2),
        CTL("speedup_width1", "speedup", "wavefront of width one, same ε", tol=0.2),
        CTX("df_calls", "DF block calls per prompt", tol=2),
        CTX("ar_calls", "AR block calls per prompt"),
    ])
report.claim(
    "C2", "The sampler keeps the accuracy, and its tokens agree with greedy AR decoding.",
    kind="empirical", paper="about 1 % accuracy change on GSM8K, MATH500, HumanEval, MBPP",
    checks=[
        E("acc_change", ">=", -0.02, "accuracy DF − AR", tol=0.02),
        E("agreement", ">=", 0.95, "share of new tokens equal to greedy AR", tol=0.02),
        CTL("acc_change_skip", "acc_change", "recurrence skipped (depth 0) − AR",
            tol=0.1),
        CTL("agreement_skip", "agreement", "recurrence skipped (depth 0)", tol=0.1),
        CTX("acc_ar", "accuracy of greedy AR at depth r", tol=0.02),
    ])
report.claim(
    "C3", "The exit threshold ε trades speed for agreement.",
    kind="empirical", paper="speed/accuracy trade-off over the exit threshold (figures)",
    checks=[
        E("speed_steps", ">=", 4, "of 5 sweep steps with speed-up not falling", tol=1),
        E("agree_steps", ">=", 4, "of 5 sweep steps with agreement not rising", tol=1),
        E("speed_gain", ">=", 1.1, "speed-up ε = 1 / ε = 0", tol=0.1),
        E("agree_drop", ">=", 0.02, "agreement ε = 0 − ε = 1", tol=0.1),
        CTL("speed_gain_ablated", "speed_gain", "exit test ablated", tol=0.01),
        CTL("agree_drop_ablated", "agree_drop", "exit test ablated", tol=0.01),
    ])
report.claim(
    "C4", "Counting behind 'strictly more expressive under the same time budget': with T "
    "sequential calls, the parallel sampler finalises at least as many tokens of depth r as "
    "AR, strictly more once T > r (the statement itself is theory, not reproduced).",
    kind="construction", paper="theoretical statement (the paper's proposition)",
    checks=[
        E("violations", "==", 0, "budgets T ≤ 64, depths r ≤ 8 where DF < AR tokens"),
        E("strict_share", ">", 0.5, "share of those cases where DF > AR"),
        E("measured_vs_formula", "==", 0, "measured DF tokens − formula, largest"),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## A substitute language that needs computation
#
# Our data are generated, a substitute for the paper's pretraining corpus and benchmarks. The
# first two tokens of a sentence are drawn uniformly from $\{0, \dots, 6\}$; every later token
# is $x_t = (x_{t-1} + x_{t-2}) \bmod 7$, except that during training 10 % of the tokens are
# replaced by a uniform draw (so the model must compute each token from its context rather than
# recall a sentence). A prompt is the first four tokens of a clean sentence, and a continuation
# is *correct* at a position when its token obeys the rule applied to the two tokens before it
# (in the generated sequence) [R: the research notes' running-sum language, made smaller].

# %%
LEN = PROMPT + NEW + 1


def language(gen, count, noise):
    """Sentences (count, LEN) of the substitute language."""
    return languages.modular_recurrence(gen, count, LEN, MOD, noise)


def correct(tok):
    """Share of new tokens (from position PROMPT on) that obey the rule."""
    return languages.obeys_recurrence(tok, PROMPT, MOD)


print(language(torch.Generator().manual_seed(0), 2, NOISE))

# %% [markdown]
# ## The recurrent-depth model
#
# With $e = P(x)$ the prelude's output, the state starts as noise, $s_0 \sim \mathcal N(0, I)$,
# and the shared block runs $s_i = R(A[s_{i-1}; e])$ for $i = 1, \dots, r$, where $A$ is a
# linear map of the concatenation (the authors' `injection_type: linear` adapter [C]); the coda
# reads the logits, $p = C(s_r)$. Prelude, recurrent block and coda are one causal pre-LN
# transformer block each (`tr.Block`), width 24, two heads; the seeds are models on a leading
# axis, trained as one. Training draws one depth per update, $r \sim U\{4, \dots, 8\}$, and
# backpropagates through the last four steps only (truncated backprop, as the authors'
# `mean_backprop_depth` [C]; their depths are Poisson-lognormal with mean 32). The model, its
# training step and both samplers live in the library (`rnnbook.recurrent_depth`), where a unit
# test checks the truncated update against one written out by hand and the samplers' call
# counts against their formulas; the language is `rnnbook.languages.modular_recurrence`.


# %%
def train(model, gen, iters):
    return rd.train_truncated(
        model, lambda g: language(g, P["batch"], NOISE), gen, iters,
        P["lr"], (R_MIN, R), K_BP, dev)


t0 = time.process_time()
model = rd.RecurrentDepth(MOD, P["d"], P["heads"], P["ff"], S,
                          runtime.generator(ctx.seeds[0], 1)).to(dev)
losses = train(model, runtime.generator(ctx.seeds[0], 2), P["iters"])
cpu_train = time.process_time() - t0
n_par = tr.n_params(model) // S
runtime.glue("a14_npar", n_par)
print(f"{n_par} parameters per model, {S} seeds; last loss "
      f"{np.mean(losses[-20:]):.3f}; {cpu_train:.1f} s CPU")

# %% [markdown]
# ## The two samplers
#
# **Autoregressive (AR).** For every new token, the whole model runs on the sequence so far:
# prelude, $r$ calls of the recurrent block (all positions at the same depth, as in training),
# coda, greedy choice. Without a cache we recompute the prefix, which changes the work per call
# but not the number of sequential calls: $r$ per token.
#
# **Diffusion forcing (DF)** [C: `generate_diffusion_style`]. After the prompt is read at depth
# $r$ (the same prefill in both samplers), a *wavefront* of unfrozen positions moves along the
# sequence. One sampler step: (1) the prelude embeds the current tokens, drafts included; (2)
# one call of the recurrent block updates the states of all wavefront positions at once
# (inner recurrence $r' = 1$; frozen positions keep their final states and are attended to
# as they are); (3) the coda decodes new drafts for the tokens after the wavefront positions;
# (4) the longest run of wavefront positions, from its start, whose state moved little,
# $\lVert s_i - s_i^{prev} \rVert / \lVert s_i \rVert < \varepsilon$, freezes, and so do the
# tokens they predict; (5) one new position opens at the end (headway 1), starting from noise.
# A position also freezes when it has had $r$ recurrences: no token gets more depth than under
# AR, which is what "at the same depth" means here [R: the authors cap the steps, not the depth
# per position]. The exit test needs two updates of a position (its first move, away from
# noise, is not a convergence signal). The noise states are the same draws in both samplers,
# so the comparison is not blurred by noise. We leave out the authors' moving average of the
# embeddings and their noise mixing (both default on in their code).

# %%
sample_ar, sample_df = rd.sample_ar, rd.sample_df


@torch.no_grad()
def sample_skip(model, prompt, noise):
    """Control: the recurrence skipped, tokens decoded from the noise
    state (depth 0), one position after another."""
    tok = torch.zeros(S, prompt.shape[0], LEN, dtype=torch.long,
                      device=noise.device)
    tok[:, :, :PROMPT] = prompt
    for t in range(PROMPT, LEN):
        tok[:, :, t] = model.decode(noise)[:, :, t - 1].argmax(-1)
    return tok


# %% [markdown]
# ## C0-C2: calls, accuracy and agreement
#
# The prompts are the first four tokens of fresh clean sentences; both samplers continue them by
# 17 tokens ($N + 1$ with $N = 16$).

# %%
t0 = time.process_time()
gen_eval = runtime.generator(ctx.seeds[0], 3)
prompts = language(gen_eval, P["prompts"], 0.0)[:, :PROMPT].to(dev)
noise = torch.randn(S, P["prompts"], LEN, P["d"],
                    generator=gen_eval).to(dev)
tok_ar, calls_ar = sample_ar(model, prompts, noise, R)
runs = {eps: sample_df(model, prompts, noise, R, eps) for eps in EPS_SWEEP}
tok_w1, calls_w1 = sample_df(model, prompts, noise, R, EPS, width_one=True)
tok_skip = sample_skip(model, prompts, noise)
# ablated exit test: freeze at the depth cap only (ε = 0 for every ε)
tok_abl, calls_abl = runs[0.0]


def agree(tok):  # per seed: share of new tokens equal to greedy AR
    same = tok[..., PROMPT:] == tok_ar[..., PROMPT:]
    return same.float().mean((1, 2)).cpu()


def speed(calls):  # per seed: mean over prompts of AR calls / DF calls
    return (calls_ar.float() / calls.float()).mean(1).cpu()


acc_ar = correct(tok_ar).mean(1).cpu()
tok_df, calls_df = runs[EPS]
cpu_sample = time.process_time() - t0
print(f"AR: accuracy {acc_ar.tolist()}, {int(calls_ar[0, 0])} calls")
for eps, (tk, cl) in runs.items():
    print(f"DF ε = {eps:<5}: accuracy {correct(tk).mean(1).tolist()}, "
          f"agreement {agree(tk).tolist()}, speed-up {speed(cl).tolist()}")
print(f"sampling: {cpu_sample:.1f} s CPU")

# %%
report.measure(
    "C0",
    ar_count_error=int((calls_ar - (NEW + 1) * R).abs().max()),
    df_count_error=int((runs[0.0][1] - (R + NEW + R - 1)).abs().max()))
report.measure(
    "C1", speedup=speed(calls_df).tolist(),
    speedup_width1=speed(calls_w1).tolist(),
    df_calls=calls_df.float().mean(1).tolist(),
    ar_calls=calls_ar.float().mean(1).tolist())
report.measure(
    "C2", acc_change=(correct(tok_df).mean(1).cpu() - acc_ar).tolist(),
    agreement=agree(tok_df).tolist(),
    acc_change_skip=(correct(tok_skip).mean(1).cpu() - acc_ar).tolist(),
    agreement_skip=agree(tok_skip).tolist(), acc_ar=acc_ar.tolist())
runtime.glue("a14_speedup", float(speed(calls_df).mean()))
runtime.glue("a14_agree", float(agree(tok_df).mean()))
runtime.glue("a14_speed_w1", float(speed(calls_w1).mean()))
runtime.glue("a14_acc_ar", float(acc_ar.mean()))

# %% [markdown]
# At ε = 0.03 the diffusion-forcing sampler needs {glue:text}`a14_speedup:.2f` times fewer
# sequential block calls than AR (mean over seeds), and agrees with greedy AR on
# {glue:text}`a14_agree:.3f` of the new tokens; greedy AR itself is correct on
# {glue:text}`a14_acc_ar:.3f` of them. With a wavefront of width one the saving falls to
# {glue:text}`a14_speed_w1:.2f`×: the calls are saved by refining several positions in one
# call, much less by the early exit. Most of C1 is therefore a property of the schedule, not
# of training: with the exit test off, any model, trained or not, needs $r + N + r - 1 = 31$
# calls against AR's $(N + 1)\,r = 136$, a ratio of 4.39 (C0); the trained model's exit test
# adds the rest. What training decides is whether those calls still give AR's tokens, which
# is C2.
#
# ## C3: the exit threshold
#
# The sweep, with the ablated sampler (exit test off) as its control.

# %%
sp = np.array([speed(runs[e][1]).numpy() for e in EPS_SWEEP])  # (eps, S)
ag = np.array([agree(runs[e][0]).numpy() for e in EPS_SWEEP])
sp_abl = np.repeat(speed(calls_abl).numpy()[None], len(EPS_SWEEP), 0)
ag_abl = np.repeat(agree(tok_abl).numpy()[None], len(EPS_SWEEP), 0)
report.measure(
    "C3", speed_steps=(np.diff(sp, axis=0) >= 0).sum(0).tolist(),
    agree_steps=(np.diff(ag, axis=0) <= 0).sum(0).tolist(),
    speed_gain=(sp[-1] / sp[0]).tolist(),
    agree_drop=(ag[0] - ag[-1]).tolist(),
    speed_gain_ablated=(sp_abl[-1] / sp_abl[0]).tolist(),
    agree_drop_ablated=(ag_abl[0] - ag_abl[-1]).tolist())

fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
xs = np.arange(len(EPS_SWEEP))
panels = [(axes[0], sp, sp_abl, "speed-up (AR / DF calls)"),
          (axes[1], ag, ag_abl, "agreement with greedy AR")]
for ax, y, y_abl, lab in panels:
    for i in range(S):
        ax.plot(xs, y[:, i], "o-", color="C0", alpha=0.8,
                label="diffusion forcing" if i == 0 else None)
        ax.plot(xs, y_abl[:, i], "s--", color="C3", alpha=0.8,
                label="exit test ablated" if i == 0 else None)
    ax.set_xticks(xs, [f"{e:g}" for e in EPS_SWEEP])
    ax.set(xlabel="exit threshold ε", ylabel=lab)
axes[1].legend(loc="lower left")
plt.show()
runtime.glue("a14_sp0", float(sp[0].mean()))
runtime.glue("a14_sp1", float(sp[-1].mean()))
runtime.glue("a14_ag1", float(ag[-1].mean()))

# %% [markdown]
# Raising ε from 0 to 1 moves the speed-up from {glue:text}`a14_sp0:.2f` to
# {glue:text}`a14_sp1:.2f` and the agreement down to {glue:text}`a14_ag1:.3f`. The range of
# speed-ups is narrow because one position opens per call (headway 1): even at ε = 0 every
# position gets its $r$ calls while others are refined beside it, so most of the saving is
# already there; the exit test trims the lag at the end of the wavefront, and at large ε it
# freezes tokens after two recurrences, which this model, trained at depths 4 to 8, cannot yet
# answer well.

# %% [markdown]
# ## C4: the counting argument (theory)
#
# The paper states that, on hardware where a batched call over a few positions costs about as
# much time as a call over one, its sampler is strictly more expressive than AR generation with
# the same time budget. That is a theoretical statement and we do not test it. What can be
# checked is the count behind it: give both samplers a budget of $T$ sequential block calls
# after the prefill, and ask how many tokens each finalises, every one at full depth $r$. AR
# finalises $\lfloor T / r \rfloor$. The diffusion-forcing schedule with the exit test off opens
# one position per call and freezes a position after its $r$-th call, so it finalises
# $\max(0, T - r + 1)$ tokens, each at depth $r$; with the wavefront restricted to width one it
# *is* the AR schedule, so everything AR computes within the budget it can compute too. We
# enumerate the budgets and depths, and compare with our sampler's measured count.

# %%
def tokens_ar(T, r):
    return T // r


def tokens_df(T, r):
    return max(0, T - r + 1)


cases = [(T, r) for T in range(1, 65) for r in range(1, R + 1)]
violations = sum(tokens_df(T, r) < tokens_ar(T, r) for T, r in cases)
strict = sum(tokens_df(T, r) > tokens_ar(T, r) for T, r in cases)
measured = runs[0.0][1] - R  # DF calls after the prefill, ε = 0
report.measure(
    "C4", violations=violations, strict_share=strict / len(cases),
    measured_vs_formula=abs(tokens_df(int(measured.max()), R) - NEW))
print("budget T:    ", [8, 16, 24, 32, 64])
print("AR tokens:   ", [tokens_ar(T, R) for T in (8, 16, 24, 32, 64)])
print("DF tokens:   ", [tokens_df(T, R) for T in (8, 16, 24, 32, 64)])

# %% [markdown]
# ## Versus the authors' code
#
# We read `recpre/raven_modeling_minimal.py` (the Huginn model, `generate_diffusion_style`,
# `iterate_one_step`, `randomized_iteration_sampler`) and `recpre/raven_config_minimal.json`
# in `seal-rg/recurrent-pretraining`. Nothing is copied; the differences:
#
# | | authors' code | this chapter |
# |---|---|---|
# | model | 2 prelude, 4 recurrent, 2 coda sandwich blocks, RMSNorm, gated SiLU MLP, width 5280, 3.5B | 1 + 1 + 1 pre-LN blocks (`tr.Block`), LayerNorm, ReLU MLP, width 24 |
# | input injection | linear adapter on $[s; e]$ | the same |
# | state init | truncated normal, std from the init scheme | standard normal, same draws in both samplers |
# | training depth | Poisson-lognormal, mean 32, backprop through 8 | uniform in 4..8, backprop through 4 |
# | AR baseline | KV cache, 32 recurrences per token | no cache (prefix recomputed), 8 recurrences per token |
# | inner recurrence per step | 4 (default) | 1 |
# | embedding EMA / noise mixing | 0.1 / 0.5, dampened by depth | off / off |
# | exit test | relative latent change < `exit_t` = 0.03; freeze up to the *last* converged position | the same test; freeze the longest converged *prefix*; also freeze at depth $r$ |
# | wavefront | up to 128 positions, headway 1 | at most $r$ positions (the depth cap), headway 1 |
# | attention to frozen tokens | one KV entry per position (latest state) | the frozen final state |
# | calls counted | `num_core_forward_passes` | the same count |
# | protocol | GSM8K, MATH500, HumanEval, MBPP, wall-clock on an A100, batch 1 | generated language, 128 prompts, counts, no wall-clock |
#
# ## Checks that do not depend on the run
#
# The language against a plain loop, the formula counts, and the two samplers on a toy untrained
# model: with the exit test off and a wavefront of width one, every position gets exactly $r$
# calls, so the count is the AR count.

# %% tags=["nbval-check-output"]
x_ = language(torch.Generator().manual_seed(3), 50, 0.0)
plain = all((row[t] == (row[t - 1] + row[t - 2]) % MOD)
            for row in x_.tolist() for t in range(2, LEN))
print("clean sentences obey the rule:", plain,
      "| correct() on them:", bool((correct(x_) == 1).all()))
print("AR / DF tokens at T = 24, r = 8:",
      tokens_ar(24, 8), tokens_df(24, 8))
toy = rd.RecurrentDepth(MOD, 8, 2, 16, S,
                        torch.Generator().manual_seed(0))
pr_ = x_[:3, :PROMPT]
nz_ = torch.randn(S, 3, LEN, 8, generator=torch.Generator().manual_seed(1))
_, c_ar = sample_ar(toy, pr_, nz_, 3)
_, c_w1 = sample_df(toy, pr_, nz_, 3, 0.0, width_one=True)
_, c_df = sample_df(toy, pr_, nz_, 3, 0.0)
print("calls AR, DF width one, DF (r = 3, ε = 0):",
      int(c_ar.max()), int(c_w1.max()), int(c_df.max()))

# %%
print(f"{n_par} parameters per model; CPU: training {cpu_train:.1f} s, "
      f"sampling {cpu_sample:.1f} s")
print(report.verdicts())

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change a re-execution on another machine may show.
# We re-executed the chapter in the ci profile with 1 and 2 threads and with two other seed
# sets, {2, 3} and {4, 5} (`python -m rnnbook.runner variation a14 --seeds 2,3 --seeds 4,5`).
# The two thread paths gave identical values; each `tol` is at least the change between seed
# sets (rounded up), except the counts of C0 and C4, which cannot change. The table shows
# the declared `tol` beside the measured changes, and the verdicts seen in those runs.

# %%
report.tolerances("../../data/a14_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **A miniature on substitute data.** Width 24, three transformer blocks, about
#   {glue:text}`a14_npar` parameters per model, 300 updates, on a generated language (each
#   token the sum of the two before it, mod 7); the paper applies its sampler to the 3.5B
#   Huginn-0125 model on reasoning and code benchmarks, which cannot be downloaded here.
# - **Counts, not seconds.** The paper's 5× is wall-clock time on an A100 at batch 1, where a
#   block call over a few positions costs about as much as over one. We count sequential block
#   calls, which is what the wall-clock gain rests on; on a CPU, a call over more positions
#   costs more, and we report no CPU timing.
# - **Simplified sampler.** One inner recurrence per step, no embedding EMA, no noise mixing,
#   longest-prefix freezing and a depth cap of $r$ per position (table above). The sweep over
#   ε is our operational reading of the paper's trade-off; its other knobs (inner recurrence,
#   noise, headway) are not swept.
# - **Training depths.** $r \sim U\{4, \dots, 8\}$ rather than the notes' $U\{1, \dots, 8\}$:
#   in a first trial with depths from 1 the miniature model was as good at two recurrences as
#   at eight, so ε could trade nothing; the Huginn model is trained at mean depth 32 and is
#   poor at very small depths, which the narrower range imitates.
# - **Full profile not executed.** No GPU was available to this session; the `full` sizes
#   (width 64, 3,000 updates, 1,024 prompts) run the same code, but their numbers do not exist
#   yet.
# - **Not tested.** "Strictly more expressive under the same time budget" (theory; C4 checks
#   only its count) and the reading of recurrent-depth models as continuous causal diffusion
#   language models (an interpretation).
# - **History of the rules.** The rules above were written after two prototype runs of the
#   samplers on this language (training depths 1..8 at width 32, then 4..8 at width 24),
#   whose values we had seen; the thresholds are the research notes', fixed before those
#   runs, and none was changed after the chapter's first execution.
#
# ## References
#
# ```{footbibliography}
# ```
