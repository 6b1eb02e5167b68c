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
# # A25 · A brain basis of dynamical intelligence (conceptual illustrations)
#
# ```{admonition} Conceptual illustrations, not a reproduction
# :class: warning
# Monaco, Rajan and Hwang {footcite}`monaco2021brain` wrote a *perspective*: it has no
# experiments, no model and no numbers to reproduce. This chapter therefore reproduces nothing.
# It builds three small toys, one for each of the paper's arguments that a recurrent network
# can show, fixes a rule for each before running it, and runs a control under the same rule.
# Every claim below has the kind **illustration**: its verdict says whether the toy behaves as
# the argument says, and the book counts it apart from reproductions of experimental papers.
# ```
#
# The paper argues that brains owe much of their intelligence to *dynamics* and *sparsity*, two
# resources that deep learning uses little. Temporal dynamics, "as expressed through neural
# synchrony, nested oscillations, and flexible sequences", would give a computational layer for
# reading and updating models held in long-term memory; sparse network structure would make this
# cheap. We illustrate three of its arguments:
#
# 1. **Synchrony as a binding code** {footcite}`gray1989oscillatory`: features of one object
#    oscillate in phase, features of different objects out of phase. Toy: Kuramoto phase
#    oscillators {footcite}`kuramoto1984chemical`.
# 2. **Nested theta–gamma oscillations as a sequence code of limited capacity**
#    {footcite}`lisman1995storage,lisman2013theta`: the items of a sequence fire in successive
#    gamma cycles of one theta cycle, so a theta cycle holds about $f_\gamma / f_\theta$ items.
# 3. **Sparse recurrent networks are cheap**: a reservoir with a tenth of the synapses keeps
#    most of the short-term memory capacity {footcite}`jaeger2001short` of a dense one.
#
# The paper's third pillar, interactive (agent-centred) learning, has no toy here.

# %% [markdown]
# ```{admonition} Claims illustrated
# :class: tip
# - **I1** "neural synchrony" as a code that binds features into objects: two objects of four
#   oscillators each, coupled within objects, bind (each object coherent, the two apart in
#   phase, membership read out from phases); without coupling they do not.
# - **I2** "nested oscillations, and flexible sequences": a theta–gamma phase code holds the
#   order of a sequence up to $f_\gamma / f_\theta$ items and loses it beyond; with the phases
#   shuffled among the items, order is lost.
# - **I3** "sparsity in network structure": an echo-state reservoir with 10 % of the recurrent
#   synapses keeps at least 90 % of the dense reservoir's memory capacity; the same synapse
#   budget spent on a smaller dense reservoir does not.
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnnbook import claims, plots, runtime

ctx = runtime.setup(
    "a25", default_seeds={"ci": [0, 1, 2, 3], "full": list(range(8))}
)
plots.use_style()
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(inits=20, k_sweep=[0.1, 0.25, 0.5], trials=2000, k_max=12,
            N=200, densities=[0.03, 0.1, 0.3, 1.0], t_train=3000,
            t_test=1500),
    full=dict(inits=100, k_sweep=[0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5,
                                  0.75], trials=20000, k_max=14,
              N=400, densities=[0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3,
                                0.5, 1.0], t_train=8000, t_test=4000),
)  # fmt: skip
# Constants of the toys (not sizes), chosen by us [R].
# Kuramoto: 2 objects x 4 oscillators near 40 Hz, coupling in rad/s.
KUR = dict(n_obj=2, per_obj=4, f0=40.0, f_sd=1.0, K_in=80.0,
           K_out=-20.0, dt=1e-3, T=2.0, window=0.5)  # fmt: skip
# Theta-gamma: (f_theta, f_gamma) pairs in Hz, spike-time jitter in s.
TG = dict(pairs=[(8.0, 40.0), (6.0, 42.0), (5.0, 45.0)], jitter=5e-3)
# Echo-state reservoir: spectral radius, input weight scale, ridge.
ESN = dict(radius=0.95, in_scale=0.1, washout=200, ridge=1e-6,
           density=0.1)  # fmt: skip
S = len(ctx.seeds)

# %% [markdown]
# ## Rules, fixed before the runs
#
# The paper gives no numbers, so the thresholds come from the research notes written for this
# chapter before any toy was run; each is the plain reading of "binds", "holds the sequence" or
# "keeps most of the capacity".
#
# - **I1.** Over 20 random initial phases and random assignments of oscillators to objects per
#   seed, the within-object coherence $r$ (time mean over the last 0.5 s, mean of both objects)
#   is at least 0.95 and the object membership read out from the phases is at least 95 %
#   correct, in every seed (`over="min"`); the mean phase gap between the two objects is at
#   least $\pi/3$. Control: the same oscillators with no coupling, judged by the same rules
#   in its *best* seed (`over="max"`).
# - **I2.** With $f_\theta = 8$ Hz and $f_\gamma = 40$ Hz (5 gamma cycles per theta cycle), the
#   order of sequences of 2 to 5 items is recalled at least 95 % correct, and recall at 8 items
#   is at least 25 points below recall at 5, in every seed. Over the three frequency pairs, the capacity (the
#   longest sequence such that all shorter ones are recalled ≥ 95 %) equals
#   $\lfloor f_\gamma/f_\theta\rfloor$ exactly. Control: the same spikes with their phases
#   shuffled among the items.
# - **I3.** At density 0.1 (10 % of the synapses), the reservoir's memory capacity is at least
#   90 % of that of the dense reservoir of the same size, in every seed. Control: a *dense*
#   reservoir with the same number of synapses (in ci 63 units, $63^2 \approx 0.1 \cdot 200^2$). We
#   choose it because it tests the argument itself: if any network with this synapse budget
#   kept the capacity, sparsity would have nothing to do with it; the claim is that spreading
#   the budget sparsely over many neurons is what keeps it. A second control removes the
#   recurrent weights of the sparse reservoir, to show that the memory is carried by the
#   recurrence and not by the input and readout alone.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="A brain basis of dynamical intelligence")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
ILL = "illustration"
report.claim(
    "I1", "Synchrony binds: oscillators coupled within objects lock in phase per object and "
    "apart between objects, and object membership can be read from the phases.", kind=ILL,
    paper="argument (synchrony as a binding code); no number",
    checks=[
        ev("r_within", ">=", 0.95, "within-object coherence r", over="min", tol=0.01),
        ev("membership_acc", ">=", 0.95, "membership read from phases", over="min",
           tol=0.02),
        ev("phase_gap", ">=", math.pi / 3, "phase gap between objects (rad)", over="min",
           tol=0.1),
        ctl("r_within_uncoupled", "r_within", "no coupling", over="max", tol=0.05),
        ctl("acc_uncoupled", "membership_acc", "no coupling", over="max", tol=0.1),
        ctx_("acc_chance", "chance accuracy of the readout", tol=0),
    ])
report.claim(
    "I2", "A theta-gamma phase code holds the order of a sequence up to f_gamma / f_theta "
    "items and loses it beyond.", kind=ILL,
    paper="argument (nested oscillations as a sequence code); 7 ± 2 items in the model "
    "it draws on",
    checks=[
        ev("recall_le5", ">=", 0.95, "order recall, 2-5 items, 8/40 Hz (worst k)",
           over="min", tol=0.01),
        ev("drop_5_to_8", ">=", 0.25, "recall(5) − recall(8), 8/40 Hz", over="min",
           tol=0.05),
        ev("capacity_err", "<=", 0, "max |capacity − ⌊fγ/fθ⌋| over 3 pairs", over="max",
           tol=0),
        ctl("recall_le5_shuffled", "recall_le5", "phases shuffled among items",
            over="max", tol=0.05),
        ctl("drop_shuffled", "drop_5_to_8", "phases shuffled among items", over="max",
            tol=0.05),
        ctl("capacity_err_shuffled", "capacity_err", "phases shuffled among items",
            over="min", tol=0),
        ctx_("recall_8", "order recall, 8 items, 8/40 Hz", over="mean", tol=0.05),
    ])
report.claim(
    "I3", "A sparse recurrent network (10 % of the synapses) keeps most (≥ 90 %) of the "
    "dense network's memory capacity.", kind=ILL,
    paper="argument (sparsity in network structure); no number",
    checks=[
        ev("mc_ratio_sparse", ">=", 0.9, "MC(density 0.1) / MC(dense), N = 200",
           over="min", tol=0.1),
        ctl("mc_ratio_small_dense", "mc_ratio_sparse",
            "dense, same synapse count (√0.1·N units)", over="max",
            tol=0.2),
        ctl("mc_ratio_no_recurrence", "mc_ratio_sparse",
            "sparse, recurrent weights removed", over="max", tol=0.01),
        ctx_("mc_dense", "memory capacity, dense", over="mean", tol=2),
        ctx_("mc_sparse", "memory capacity, density 0.1", over="mean", tol=5),
        ctx_("synapse_ratio", "non-zero synapses, sparse / dense", over="mean",
             tol=0.01),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## I1 · Synchrony as a binding code
#
# Eight phase oscillators $\theta_i$, with natural frequencies drawn around 40 Hz (s.d. 1 Hz),
# follow the Kuramoto equation {footcite}`kuramoto1984chemical`
#
# $$\dot\theta_i = \omega_i + \frac{1}{N}\sum_j K_{ij}\,\sin(\theta_j - \theta_i),$$
#
# with $K_{ij} = K_\mathrm{in} = 80$ rad/s when $i$ and $j$ code features of the same object and
# $K_\mathrm{out} = -20$ rad/s (mutual repulsion) otherwise. Which oscillators belong to which
# object is drawn at random for each run, as are the initial phases. We integrate for 2 s
# (Euler, 1 ms) and analyse the last 0.5 s: the coherence of each object,
# $r = \lvert\langle e^{i\theta_j}\rangle_{j\in\text{object}}\rvert$ averaged over time; the phase
# gap between the two objects' mean phases; and a readout that knows only the phases: it picks,
# among the 35 ways of splitting the eight oscillators into two groups of four, the split whose
# members are most in phase (largest summed $\mathrm{Re}\,\langle e^{i(\theta_j-\theta_k)}\rangle_t$
# within groups). The control sets all couplings to zero. All seeds, initial conditions and
# coupling strengths (the rule's, zero, and a sweep of fractions of it) run as one tensor.

# %%
def balanced_splits(n):
    """All splits of n oscillators into two halves, as 0/1 masks
    (oscillator 0 always in group 0): (n_splits, n)."""
    rest = range(1, n)
    masks = []
    for grp in itertools.combinations(rest, n // 2):
        m = torch.zeros(n)
        m[list(grp)] = 1.0
        masks.append(m)
    return torch.stack(masks)


def kuramoto_binding(seeds, inits, scales):
    """Integrate all (seed, init, coupling scale) runs at once.

    Returns per (seed, scale, init): r_within, membership accuracy,
    phase gap, and one example trace."""
    n = KUR["n_obj"] * KUR["per_obj"]
    steps = round(KUR["T"] / KUR["dt"])
    win = round(KUR["window"] / KUR["dt"])
    om, th0, lab = [], [], []
    for s in seeds:
        g = runtime.generator(s, 1)
        om.append(2 * math.pi * (KUR["f0"] + KUR["f_sd"]
                                 * torch.randn(inits, n, generator=g)))
        th0.append(2 * math.pi * torch.rand(inits, n, generator=g))
        perm = torch.stack([torch.randperm(n, generator=g)
                            for _ in range(inits)])
        lab.append((perm >= KUR["per_obj"]).double())
    om, th0, lab = (torch.stack(x).double() for x in (om, th0, lab))
    sc = torch.tensor(scales, dtype=torch.float64)
    same = (lab[..., :, None] == lab[..., None, :]).double()
    K = same * KUR["K_in"] + (1 - same) * KUR["K_out"]  # (S, I, n, n)
    K = sc[None, :, None, None, None] * K[:, None]  # (S, C, I, n, n)
    om = om[:, None].expand(-1, len(scales), -1, -1)
    th = th0[:, None].expand(-1, len(scales), -1, -1).clone()
    z_sum = torch.zeros((*th.shape, n), dtype=torch.complex128)
    r_sum = torch.zeros(th.shape[:-1], dtype=torch.float64)
    gap_sum = torch.zeros_like(r_sum)
    trace = []
    for t in range(steps):
        d = th[..., None, :] - th[..., :, None]  # theta_j - theta_i
        th = th + KUR["dt"] * (om + (K * torch.sin(d)).sum(-1) / n)
        if t % 5 == 0:
            trace.append(th[0, :, 0].clone())
        if t >= steps - win:
            z = torch.exp(1j * th)
            z_sum += z[..., :, None] * z[..., None, :].conj()
            zA = (z * (1 - lab[:, None])).sum(-1) / KUR["per_obj"]
            zB = (z * lab[:, None]).sum(-1) / KUR["per_obj"]
            r_sum += 0.5 * (zA.abs() + zB.abs())
            gap_sum += torch.angle(zA * zB.conj()).abs()
    coh = (z_sum / win).real  # (S, C, I, n, n)
    splits = balanced_splits(n).double()  # (M, n)
    same_split = (splits[:, :, None] == splits[:, None, :]).double()
    score = torch.einsum("scijk,mjk->scim", coh, same_split)
    best = splits[score.argmax(-1)]  # (S, C, I, n)
    agree = (best == lab[:, None]).double().mean(-1)
    acc = torch.maximum(agree, 1 - agree)
    return dict(r=r_sum / win, acc=acc, gap=gap_sum / win,
                trace=torch.stack(trace), lab=lab[0])


def chance_accuracy(n):
    """Mean accuracy of a split drawn uniformly among the balanced ones,
    against a fixed balanced labelling (exact, by enumeration)."""
    splits = balanced_splits(n)
    truth = splits[0]
    agree = (splits == truth).double().mean(-1)
    return float(torch.maximum(agree, 1 - agree).mean())


SCALES = [1.0, 0.0, *P["k_sweep"]]
kb = kuramoto_binding(ctx.seeds, P["inits"], SCALES)
per_seed = {k: kb[k].mean(-1) for k in ("r", "acc", "gap")}  # (S, C)
c1 = {"r_within": per_seed["r"][:, 0].tolist(),
      "membership_acc": per_seed["acc"][:, 0].tolist(),
      "phase_gap": per_seed["gap"][:, 0].tolist(),
      "r_within_uncoupled": per_seed["r"][:, 1].tolist(),
      "acc_uncoupled": per_seed["acc"][:, 1].tolist(),
      "acc_chance": chance_accuracy(KUR["n_obj"] * KUR["per_obj"])}
report.measure("I1", c1)
print({k: np.round(v, 3).tolist() for k, v in c1.items()})

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 3, figsize=(12, 3.3))
tr = kb["trace"]  # (time, C, n) of seed 0, init 0
tt = np.arange(tr.shape[0]) * 5 * KUR["dt"]
lab0 = kb["lab"][0].numpy().astype(int)
for ax, c, name in ((axs[0], 0, "coupled"), (axs[1], 1, "no coupling")):
    rel = torch.remainder(tr[:, c] - tr[:, c, :1] + math.pi, 2 * math.pi)
    for j in range(tr.shape[-1]):
        ax.plot(tt, rel[:, j] - math.pi, ".", ms=1,
                color=plots.COLORBLIND[lab0[j]])
    ax.set(xlabel="time (s)", ylabel="phase relative to oscillator 0",
           title=f"{name} (colour = object)", ylim=(-math.pi, math.pi))
order = np.argsort(SCALES)
xs = np.array(SCALES)[order] * KUR["K_in"]
plots.seed_band(axs[2], xs, per_seed["acc"][:, order].numpy(),
                label="membership accuracy", marker="o")
plots.seed_band(axs[2], xs, per_seed["r"][:, order].numpy(),
                label="within-object r", marker="s")
axs[2].axhline(0.95, color="k", ls=":", lw=1)
axs[2].set(xlabel=r"within-object coupling $K_{in}$ (rad/s)",
           ylabel="value (band: seeds)", ylim=(0.3, 1.02))
axs[2].legend(loc="lower right", fontsize=8)
plt.show()

# %%
runtime.glue("a25_r", float(np.mean(c1["r_within"])))
runtime.glue("a25_acc", float(np.mean(c1["membership_acc"])))
runtime.glue("a25_gap", float(np.mean(c1["phase_gap"])))
runtime.glue("a25_r0", float(np.mean(c1["r_within_uncoupled"])))
runtime.glue("a25_acc0", float(np.mean(c1["acc_uncoupled"])))
runtime.glue("a25_chance", c1["acc_chance"])

# %% [markdown]
# With coupling, each object locks within a few hundred milliseconds: within-object coherence
# {glue:text}`a25_r:.3f`, the two objects {glue:text}`a25_gap:.2f` rad apart (anti-phase is
# $\pi$), and the phase readout recovers the objects in {glue:text}`a25_acc:.3f` of the
# oscillators (means over seeds). Without coupling the phases drift at their own frequencies:
# coherence {glue:text}`a25_r0:.2f`, membership accuracy {glue:text}`a25_acc0:.2f`, near the
# readout's chance level {glue:text}`a25_chance:.2f` (a random balanced split agrees with the
# truth on at least half of the oscillators by construction). The sweep (right) shows binding
# appearing once the within-object coupling exceeds the spread of natural frequencies
# (s.d. $2\pi \cdot 1$ Hz $\approx 6$ rad/s, to be compared with the effective coupling
# $K_\mathrm{in}\cdot 4/8$).

# %% [markdown]
# ## I2 · Nested theta–gamma oscillations as a sequence code
#
# In the model of Lisman and Idiart {footcite}`lisman1995storage`, a short-term memory holds a
# sequence by replaying it once per theta cycle, one item per gamma cycle: item $j$ fires in the
# $j$-th gamma cycle after the theta trough. We keep only this timing: item $j$ fires at
# $t_j = (j + \tfrac12)\,T_\gamma + \varepsilon_j$, with a spike-time jitter $\varepsilon_j$ of
# s.d. 5 ms, and the replay is locked to theta. A reader that sees only each item's *theta
# phase* $\phi_j = 2\pi\,(t_j \bmod T_\theta)/T_\theta$ ranks the items by phase; recall is the
# fraction of items put at their true position. Nothing else limits the capacity: when the
# sequence is longer than the number of gamma cycles in a theta cycle, the extra items fall
# into the next theta cycle and their phases land among those of the first items. The control
# keeps the same spikes but shuffles the phases among the items, so that phase carries no order.

# %%
def theta_gamma_recall(seeds, pairs, k_max, trials, shuffle):
    """Order recall for sequence lengths 1..k_max, per (seed, pair, k).

    Item j fires at (j + 1/2) T_gamma + jitter; the reader ranks items
    by theta phase. shuffle: permute the phases among the items."""
    out = torch.zeros(len(seeds), len(pairs), k_max, dtype=torch.float64)
    for si, s in enumerate(seeds):
        g = runtime.generator(s, 2)
        for pi, (f_th, f_g) in enumerate(pairs):
            for k in range(1, k_max + 1):
                j = torch.arange(k, dtype=torch.float64)
                t = (j + 0.5) / f_g + TG["jitter"] * torch.randn(
                    trials, k, generator=g, dtype=torch.float64)
                phase = torch.remainder(t * f_th, 1.0)
                if shuffle:
                    idx = torch.argsort(torch.rand(trials, k, generator=g),
                                        dim=-1)
                    phase = torch.gather(phase, 1, idx)
                rank = torch.argsort(torch.argsort(phase, dim=-1), dim=-1)
                out[si, pi, k - 1] = (rank == j.long()).double().mean()
    return out


def capacity(recall, thr=0.95):
    """Longest k such that all lengths 1..k are recalled >= thr."""
    ok = torch.cumprod((recall >= thr).long(), dim=-1)
    return ok.sum(-1)


slots = torch.tensor(
    [math.floor(fg / ft + 1e-9) for ft, fg in TG["pairs"]]
)
res = {sh: theta_gamma_recall(ctx.seeds, TG["pairs"], P["k_max"],
                              P["trials"], sh)
       for sh in (False, True)}  # fmt: skip


def i2_stats(rec):
    """recall_le5 (worst k in 2..5), drop 5 -> 8 and capacity error,
    per seed, for the first (8/40 Hz) pair."""
    return dict(le5=rec[:, 0, 1:5].min(-1).values,
                drop=rec[:, 0, 4] - rec[:, 0, 7],
                err=(capacity(rec) - slots).abs().max(-1).values)


st, st_sh = i2_stats(res[False]), i2_stats(res[True])
c2 = {"recall_le5": st["le5"].tolist(), "drop_5_to_8": st["drop"].tolist(),
      "capacity_err": st["err"].tolist(),
      "recall_le5_shuffled": st_sh["le5"].tolist(),
      "drop_shuffled": st_sh["drop"].tolist(),
      "capacity_err_shuffled": st_sh["err"].tolist(),
      "recall_8": res[False][:, 0, 7].tolist()}  # fmt: skip
report.measure("I2", c2)
print({k: np.round(v, 3).tolist() for k, v in c2.items()})
print("capacity per pair (seed 0):", capacity(res[False])[0].tolist(),
      "gamma cycles per theta cycle:", slots.tolist())

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8.5, 3.4))
ks = np.arange(1, P["k_max"] + 1)
for pi, (ft, fg) in enumerate(TG["pairs"]):
    plots.seed_band(ax, ks, res[False][:, pi].numpy(), marker="o",
                    label=f"θ {ft:g} Hz, γ {fg:g} Hz", color=plots.COLORBLIND[pi])
    ax.axvline(fg / ft, color=plots.COLORBLIND[pi], ls=":", lw=1)
plots.seed_band(ax, ks, res[True][:, 0].numpy(), marker="x", color="grey",
                label="8/40 Hz, phases shuffled")
ax.axhline(0.95, color="k", ls="--", lw=0.8)
ax.set(xlabel="sequence length k (items)", ylabel="order recall",
       title="dotted: gamma cycles per theta cycle")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.show()

# %%
runtime.glue("a25_le5", float(st["le5"].min()))
runtime.glue("a25_recall8", float(res[False][:, 0, 7].mean()))
runtime.glue("a25_le5_sh", float(st_sh["le5"].mean()))

# %% [markdown]
# Up to five items at 8 and 40 Hz, order is recalled almost perfectly (worst length and seed:
# {glue:text}`a25_le5:.3f`); at eight items recall falls to {glue:text}`a25_recall8:.2f`, and the
# capacity follows $f_\gamma/f_\theta$ for all three frequency pairs (5, 7 and 9 items), the
# range of the "7 ± 2" that Lisman and Idiart set out to explain. With the phases shuffled
# among the items, the worst recall from 2 to 5 items is {glue:text}`a25_le5_sh:.2f`
# (chance is $1/k$). The capacity limit is built into the scheme, a theta cycle has only so many
# gamma cycles; what the toy shows is that the code survives realistic spike-time jitter up to
# that limit, and that the order is carried by the phase, not by the items' identities.

# %% [markdown]
# ## I3 · Sparse recurrent networks keep their memory
#
# An echo-state reservoir {footcite}`jaeger2001short`,
# $x_{t+1} = \tanh(W x_t + w_\mathrm{in} u_{t+1})$, with $N = 200$ units, receives a white input
# $u_t \sim \mathcal U(-1, 1)$. $W$ has a fraction $\rho$ of non-zero Gaussian entries and is
# rescaled to spectral radius 0.95; the input weights ($\pm 0.1$, uniform) keep the units near
# their linear range. A ridge readout is trained to output $u_{t-d}$ for each delay
# $d = 1, \dots, N$ on 3,000 steps and tested on 1,500 others; the memory capacity is
# $\mathrm{MC} = \sum_d \mathrm{corr}^2(\hat u_{t-d}, u_{t-d})$ on the test steps, at most $N$
# for any reservoir of $N$ units {footcite}`jaeger2001short`. All seeds and arms (the densities of
# the sweep, the small dense control padded with silent units, and the sparse reservoir without
# recurrence) run as one batch of reservoirs.

# %%
def reservoirs(seed, N, densities, n_small):
    """Recurrent and input weights for one seed: one reservoir per
    density, a dense one of n_small units (padded to N), and the
    density-0.1 reservoir with W = 0. Returns W (A, N, N), w_in (A, N)."""
    g = runtime.generator(seed, 3)
    G = torch.randn(N, N, generator=g, dtype=torch.float64)
    U = torch.rand(N, N, generator=g, dtype=torch.float64)
    w_in = ESN["in_scale"] * (
        2 * torch.rand(N, generator=g, dtype=torch.float64) - 1)
    Ws = [G * (U < rho) for rho in densities]
    small = torch.zeros(N, N, dtype=torch.float64)
    small[:n_small, :n_small] = G[:n_small, :n_small]
    Ws.append(small)
    W = torch.stack(Ws)
    rad = torch.linalg.eigvals(W).abs().max(-1).values
    W = W * (ESN["radius"] / rad)[:, None, None]
    W = torch.cat([W, torch.zeros(1, N, N, dtype=torch.float64)])
    w_small = w_in.clone()
    w_small[n_small:] = 0
    w_in = torch.stack([w_in] * len(densities) + [w_small, w_in])
    return W, w_in


def memory_capacity(seeds, N, densities, t_train, t_test):
    """Memory function corr^2 per delay, (seeds, arms, N delays)."""
    n_small = round(math.sqrt(ESN["density"]) * N)
    Ws, wins, us = [], [], []
    T = ESN["washout"] + t_train + t_test
    for s in seeds:
        W, w_in = reservoirs(s, N, densities, n_small)
        Ws.append(W)
        wins.append(w_in)
        u = 2 * torch.rand(T, generator=runtime.generator(s, 4),
                           dtype=torch.float64) - 1
        us.append(u)
    W, w_in, u = torch.stack(Ws), torch.stack(wins), torch.stack(us)
    Sd, A = W.shape[:2]
    x = torch.zeros(Sd, A, N, dtype=torch.float64)
    X = torch.empty(Sd, A, T, N, dtype=torch.float64)
    for t in range(T):
        x = torch.tanh(torch.einsum("sanm,sam->san", W, x)
                       + w_in * u[:, t, None, None])
        X[:, :, t] = x
    lag = torch.arange(1, N + 1)
    t0 = ESN["washout"]
    idx = torch.arange(t0, T)[:, None] - lag[None, :]  # (T - t0, N)
    Y = u[:, idx]  # (S, T - t0, delays)
    X = X[:, :, t0:]
    Xtr, Xte = X[:, :, :t_train], X[:, :, t_train:]
    Ytr, Yte = Y[:, None, :t_train], Y[:, None, t_train:]
    G = Xtr.transpose(-1, -2) @ Xtr
    G = G + ESN["ridge"] * t_train * torch.eye(N, dtype=torch.float64)
    rhs = (Xtr.transpose(-1, -2) @ Ytr).contiguous()
    B = torch.cholesky_solve(rhs, torch.linalg.cholesky(G))
    pred = Xte @ B
    pc = pred - pred.mean(-2, keepdim=True)
    yc = Yte - Yte.mean(-2, keepdim=True)
    r = (pc * yc).sum(-2) / (pc.norm(dim=-2) * yc.norm(dim=-2) + 1e-300)
    nnz = (W != 0).sum((-1, -2)).double()
    return r**2, nnz


dens = list(P["densities"])
i_sparse, i_dense = dens.index(ESN["density"]), dens.index(1.0)
mf, nnz = memory_capacity(ctx.seeds, P["N"], dens, P["t_train"],
                          P["t_test"])
mc = mf.sum(-1)  # (S, arms)
ratio = mc / mc[:, i_dense : i_dense + 1]
c3 = {"mc_ratio_sparse": ratio[:, i_sparse].tolist(),
      "mc_ratio_small_dense": ratio[:, len(dens)].tolist(),
      "mc_ratio_no_recurrence": ratio[:, len(dens) + 1].tolist(),
      "mc_dense": mc[:, i_dense].tolist(),
      "mc_sparse": mc[:, i_sparse].tolist(),
      "synapse_ratio": (nnz[:, i_sparse] / nnz[:, i_dense]).tolist()}
report.measure("I3", c3)
print({k: np.round(v, 3).tolist() for k, v in c3.items()})
print("MC by density (seed mean):",
      dict(zip(dens, np.round(mc[:, : len(dens)].mean(0).numpy(), 1))))

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(11, 3.4))
d = np.arange(1, P["N"] + 1)
arms = [(i_dense, "dense (ρ = 1)"), (i_sparse, f"sparse (ρ = {ESN['density']})"),
        (len(dens), "dense, same synapse count"), (len(dens) + 1, "no recurrence")]
for c, (a, name) in enumerate(arms):
    plots.seed_band(axs[0], d, mf[:, a].numpy(), label=name,
                    color=plots.COLORBLIND[c])
axs[0].set(xscale="log", xlabel="delay d (steps)",
           ylabel=r"memory function corr$^2$", title="memory per delay")
axs[0].legend(fontsize=8)
plots.seed_band(axs[1], nnz[0, : len(dens)].numpy(),
                mc[:, : len(dens)].numpy(), marker="o", label="N = 200, density sweep")
axs[1].plot(nnz[0, len(dens)], mc[:, len(dens)].mean(), "D", ms=8,
            color=plots.COLORBLIND[2], label="dense, same synapse count")
axs[1].set(xscale="log", xlabel="non-zero recurrent synapses",
           ylabel="memory capacity MC", title="capacity against synapse cost")
axs[1].xaxis.set_minor_formatter(plt.NullFormatter())
axs[1].legend(fontsize=8, loc="lower right")
plt.show()

# %%
runtime.glue("a25_mc_dense", float(mc[:, i_dense].mean()))
runtime.glue("a25_mc_sparse", float(mc[:, i_sparse].mean()))
runtime.glue("a25_ratio", float(ratio[:, i_sparse].min()))
runtime.glue("a25_ratio_max", float(ratio[:, i_sparse].max()))
runtime.glue("a25_ratio_mean", float(ratio[:, i_sparse].mean()))
runtime.glue("a25_n_below", int((ratio[:, i_sparse] < 0.9).sum()))
runtime.glue("a25_S", S)
runtime.glue("a25_mc03", float(mc[:, dens.index(0.03)].mean()))
runtime.glue("a25_ratio_small", float(ratio[:, len(dens)].mean()))
runtime.glue("a25_ratio_norec", float(ratio[:, len(dens) + 1].mean()))
runtime.glue("a25_n_small", round(math.sqrt(ESN["density"]) * P["N"]))

# %% [markdown]
# The dense reservoir remembers {glue:text}`a25_mc_dense:.1f` steps' worth of input (memory
# capacity, seed mean), the reservoir with a tenth of the synapses
# {glue:text}`a25_mc_sparse:.1f`: on average {glue:text}`a25_ratio_mean:.2f` of the dense value.
# But the rule asked for 90 % *in every seed*, and the ratio of one sparse reservoir to its dense
# sibling (the same Gaussian weights, masked) ranges from {glue:text}`a25_ratio:.2f` to
# {glue:text}`a25_ratio_max:.2f` over the seeds: in {glue:text}`a25_n_below` of
# {glue:text}`a25_S` seeds the sparse reservoir keeps less than 90 %, so the illustration is
# **not reproduced** as declared. The spread is a property of the individual random matrices,
# not noise of the estimate: with four times longer training and test runs, the per-seed ratios
# move by less than 0.015 (a check we ran while writing this chapter). The controls behave as
# the argument says: the same synapse budget spent on a dense reservoir of
# {glue:text}`a25_n_small` units keeps only {glue:text}`a25_ratio_small:.2f` of the capacity, and
# without recurrent weights almost nothing is left ({glue:text}`a25_ratio_norec:.3f`). Capacity
# falls clearly only at a density of 0.03 ({glue:text}`a25_mc03:.1f`). In this toy, then, a tenth
# of the synapses keeps most of the memory *on average*, and the number of units matters far more
# than the number of synapses; but a single sparse draw can lose more than the tenth of the
# capacity that the rule allowed. The non-zero synapse count is only a proxy for the energy cost
# that the paper has in mind.

# %% [markdown]
# ## Checks that do not depend on the run
#
# The readout's split enumeration, the exact chance level, uncoupled oscillators turning at their
# own frequencies, the gamma cycles per theta cycle, and the spectral radius of a rescaled
# sparse reservoir on a fixed draw.

# %% tags=["nbval-check-output"]
print("balanced splits of 8:", balanced_splits(8).shape[0],
      "| exact chance accuracy:", round(chance_accuracy(8), 6))
one = kuramoto_binding([0], 1, [0.0])
print("uncoupled: r and accuracy are finite:",
      bool(torch.isfinite(one["r"]).all()
           and torch.isfinite(one["acc"]).all()))
print("gamma cycles per theta cycle:", slots.tolist())
W_chk, _ = reservoirs(0, 30, [0.1, 1.0], 9)
rad_chk = torch.linalg.eigvals(W_chk[:3]).abs().max(-1).values
print("spectral radius after rescaling == 0.95:",
      bool(torch.allclose(rad_chk, torch.full((3,), 0.95,
                                              dtype=torch.float64))))
print("no-recurrence arm has W = 0:", bool((W_chk[3] == 0).all()))
print("KUR:", KUR, "\nTG:", TG, "\nESN:", ESN)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2 threads
# (seeds 0–3) and with two other seed sets (4–7 and 8–11), and chose each `tol` at least three
# times the change between thread paths and at least the change between seed sets. The table
# shows both changes beside the declared `tol` and every verdict seen across the four runs.

# %%
report.tolerances("../../data/a25_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Nothing is reproduced.** The paper is a perspective without experiments; all three toys and
#   their parameters are ours [R]. Their verdicts (kind *illustration*) say only that a toy
#   behaves as the argument says; they are not evidence about brains and are not counted as
#   reproductions.
# - **Not illustrated.** The paper's third pillar, interactive and agent-centred learning, and
#   its claims about abstraction, causal learning and energy efficiency of whole systems.
# - **Built in.** In I2 the capacity limit is part of the scheme (a theta cycle has
#   $f_\gamma/f_\theta$ gamma cycles); the toy tests that the phase code survives 5 ms spike
#   jitter up to that limit and fails beyond it, not why brains would use it. In I1 the readout
#   knows that there are two objects of four features each. In I3 the synapse count stands in
#   for energy.
# - **Scale.** ci: 4 seeds, 20 initial conditions per seed (I1), 2,000 sequences per length (I2),
#   $N = 200$ reservoirs (I3). The `full` profile uses 8 seeds, 100 initial conditions, 20,000
#   sequences, $N = 400$ and finer sweeps of coupling and density. It was executed once while
#   writing, on the CPU (2 threads, about 7 minutes; the toys do not use a GPU), and its results
#   are not committed: I1 and I2 were illustrated there too, and so was I3, every one of the
#   8 sparse reservoirs of 400 units keeping at least 90 % of its dense sibling's capacity. The
#   draw-to-draw spread of the ratio shrinks as the reservoir grows, so the ci verdict of I3 is
#   a property of the 200-unit miniature as much as of sparsity. The research notes' spiking (LIF) version of the theta–gamma code is not built.
# - **Changes after the first runs (disclosed).** The rules and thresholds are as first
#   declared. Two things changed after runs had been seen. (1) I2 first used 200 sequences per
#   length; in the first variation run one seed of the seed set 8–11 estimated the recall of
#   9-item sequences at 45 and 5 Hz below 0.95, so its capacity came out 8 instead of 9 and
#   the verdict differed between seed sets. The expected recall there is about 0.97 (from
#   200,000 sequences, computed while writing); a trial that wraps an end item loses nearly
#   all its items, so 200 sequences estimate it with a standard deviation of about 0.012. We
#   raised the count to 2,000 (s.d. about 0.004). This makes the estimate more precise; it
#   does not change what is measured or the threshold, but it was chosen after seeing a
#   failure, so we say so. (2) The ridge solve of I3 uses a Cholesky factorisation instead of
#   `torch.linalg.solve`, whose batched LU call failed in oneMKL with two threads.
# - **I3 is not illustrated as declared.** A sparse reservoir keeps about 95 % of the dense
#   capacity on average, but single draws fall below the 90 % that the rule asked of every
#   seed, in every ci seed set we ran. We keep the rule and report the verdict (see the full
#   profile under "Scale").
#
# ## References
#
# ```{footbibliography}
# ```
