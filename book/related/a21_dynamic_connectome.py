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
# # A21 · Learning dynamic representations of the functional connectome
#
# Which neurons work together changes from moment to moment, even though the wiring does not.
# Dyballa, Lang, Haslund-Gourley, Yemini and Zucker {footcite}`dyballa2024dynamic` learn these
# changing communities from whole-brain calcium imaging of *C. elegans* (NeuroPAL worms) in
# three stages: (1) a non-linear "differential" affinity between every pair of neuronal traces
# in short time windows; (2) a non-negative tensor factorisation (NTF)
# {footcite}`kolda2009tensor` of the pairs × time × worms tensor, each component saying which
# pairs interact, when and in which worms; (3) weighted community detection on the pair
# factor of each component. They validate a predicted causal role by silencing a neuron.
#
# **The data here are simulated, not the paper's.** The NeuroPAL recordings cannot be
# downloaded at build time, so this chapter runs the method on *simulated* whole-brain calcium
# recordings with a known answer: several worms, communities whose couplings switch between
# experimental epochs, per-worm gains and noise, and a calcium kernel. The silencing
# experiment is likewise replaced by silencing *in silico*, a stand-in for the paper's
# experiment on real worms. The authors' repository (`dyballa/dynamic-connectomes`) holds
# notebooks; the one with the affinity kernel could not be read from our copy, so the kernel
# below is **reconstructed** [R] from the paper's description, not taken from their code.
# Their stage 3 uses a nested weighted stochastic block model (graph-tool, not installable
# from PyPI); we use Louvain modularity {footcite}`blondel2008fast` as implemented in
# networkx, which their benchmark notebook also compares.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** "Each factor specifies which groups of neurons are most likely interacting for an
#   inferred interval in time": on simulated recordings whose communities switch between
#   experimental conditions, the temporal factors of the NTF components align with the
#   conditions.
# - **C2** "a generative model that allows for weighted community detection is applied to the
#   functional motifs produced by NTF to reveal a dynamic functional connectome": communities
#   found on each component recover that condition's ground-truth groups, and clearly better
#   than a static whole-recording correlation clustered the same way.
# - **C3** "our method is able to robustly predict causal interactions between neurons": the
#   hub predicted in a community, when silenced *in silico* (a stand-in for the paper's
#   silencing experiment in worms), disrupts its own community more than the others.
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main", "tensorly", "networkx"], check=True)

# %%
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import seaborn as sns
import tensorly as tl
from scipy.optimize import linear_sum_assignment
from scipy.signal import fftconvolve
from sklearn.metrics import adjusted_rand_score
from tensorly.decomposition import non_negative_parafac

from rnnbook import claims, plots, runtime

ctx = runtime.setup(
    "a21", default_seeds={"ci": [10, 11, 12], "full": list(range(10, 15))}
)
plots.use_style()
tl.set_backend("numpy")
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(N=30, W=6, epoch_len=150),
    full=dict(N=60, W=12, epoch_len=300),
)  # fmt: skip
# Constants (not sizes), fixed in a pilot on seeds 0-5 before the rules:
# the simulation [R] and the pipeline [R].
SIM = dict(K=3, rate=0.08, beta=1.0, p_pass=0.6, gamma=0.4,
           tau_r=1.0, tau_d=6.0,
           log_gain_worm=0.3, log_gain_cell=0.2, noise=(0.05, 0.15))
PIPE = dict(win=50, step=25, theta=3.0, rank=6, restarts=2,
            n_iter=500, tol=1e-7)
EPOCHS = [0, 1, 0, 2]  # baseline, stimulus A, baseline, stimulus B
COND = ["baseline", "stim A", "stim B"]
C, K, N, W = len(COND), SIM["K"], P["N"], P["W"]
T = P["epoch_len"] * len(EPOCHS)
IU = np.triu_indices(N, 1)

# %% [markdown]
# All claims, their kinds and their checks are fixed here, before any experiment on the
# chapter's seeds runs. The simulation's constants, the window length, the affinity threshold
# and the NTF rank were set in a pilot on seeds 0–5 (see "Differences from the paper"); the
# chapter's seeds (10–12 in ci) and the variation's seed sets were not used in the pilot.
#
# - **C1.** For each seed, the $R = 6$ temporal factors are matched one-to-one to the three
#   conditions (Hungarian assignment on the Pearson correlation between a factor and the
#   fraction of each window spent in the condition), and the matched correlations are
#   averaged over conditions. The research notes ask $|r| \ge 0.8$ per epoch; we ask the
#   median over seeds of the condition-averaged $r$ to be at least 0.8. The control runs the
#   same NTF after shuffling the order of the time windows independently in each worm: the
#   epochs are still in every worm, but no longer at the same time, so a temporal factor
#   shared by all worms should not find them.
# - **C2.** Louvain communities of each matched component's pair factor, scored by the
#   adjusted Rand index (ARI) {footcite}`hubert1985comparing` against that condition's true
#   groups, averaged over conditions: median over seeds at least 0.8 (the notes' rule). The
#   control clusters the static whole-recording correlation (averaged over worms, negative
#   values set to 0) with the same Louvain call and scores it against every condition: it
#   must fail the same rule, and the notes' second rule asks the dynamic ARI to beat it by at
#   least 0.2.
# - **C3.** In each condition, the predicted hub of each community is the member with the
#   largest summed affinity to its community in the component. Silencing it (its events and
#   its output set to zero, same noise) lowers the mean within-community affinity of the
#   *other* members; its *selectivity* is the relative drop in its own community minus the
#   mean relative drop in the other communities of that condition. The rule: mean over hubs,
#   median over seeds, at least 0.3. The control silences a random non-hub member of the same
#   community instead, and must fail the same rule.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Learning dynamic representations of the functional connectome")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "The temporal factors of the NTF components align with the experimental conditions "
    "(simulated worms).", kind="empirical",
    paper="components align with stimulus epochs and spontaneous behaviour (real worms, no r given)",
    checks=[
        ev("r_matched", ">=", 0.8, "Pearson r, factor vs condition, matched, condition mean",
           over="median", tol=0.1),
        ctl("r_shuffled", "r_matched", "windows shuffled independently per worm",
            over="median", tol=0.2),
        ctx_("r_min", "worst condition's matched r", over="median", tol=0.3),
        ctx_("fit_error", "relative NTF reconstruction error", over="mean", tol=0.02),
    ])
report.claim(
    "C2", "Communities found on each component recover the condition's ground-truth groups, "
    "clearly better than static correlation with the same clustering.", kind="empirical",
    paper="communities match known circuits (salt sensing, attractants); no ARI given",
    checks=[
        ev("ari_dynamic", ">=", 0.8, "ARI, component communities vs truth, condition mean",
           over="median", tol=0.2),
        ev("ari_gap", ">=", 0.2, "ARI dynamic − ARI static", over="median", tol=0.2),
        ctl("ari_static", "ari_dynamic", "static whole-recording correlation + Louvain",
            over="median", tol=0.1),
        ctx_("ari_static_affinity", "static differential affinity + Louvain",
             over="median", tol=0.2),
        ctx_("n_communities", "communities found per component", over="mean", tol=1),
    ])
report.claim(
    "C3", "Silencing a predicted hub in silico disrupts its own community more than the "
    "others (a stand-in for the paper's silencing experiment).", kind="empirical",
    paper="silencing AWB confirmed its predicted role (real worms)",
    checks=[
        ev("selectivity_hub", ">=", 0.3, "drop own − drop others, hub, mean over hubs",
           over="median", tol=0.1),
        ctl("selectivity_random", "selectivity_hub", "random non-hub member silenced",
            over="median", tol=0.1),
        ctx_("drop_own_hub", "relative drop in own community, hub", over="mean", tol=0.1),
        ctx_("hub_is_true_hub", "fraction of predicted hubs that drive their group",
             over="mean", tol=0.2),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Simulated worms (a substitute for NeuroPAL recordings)
#
# Each simulated worm has the same $N$ identified neurons (as NeuroPAL identifies neurons
# across animals). The recording passes through four epochs, baseline, stimulus A, baseline,
# stimulus B, and each of the three conditions has its own partition of the neurons into
# $K = 3$ communities, drawn at random. Within a community one neuron is the *hub*: each of its
# calcium events is passed on to each other member independently with probability 0.6, with
# weight $\beta$, so that two members share fewer events than a member and its hub; a weaker
# input shared
# by the community (weight $\gamma$) and every neuron's private events complete the drive.
# Events are sparse (probability 0.08 per frame, exponential sizes). The drive is convolved
# with a calcium kernel $e^{-t/\tau_d} - e^{-t/\tau_r}$ ($\tau_r = 1$, $\tau_d = 6$ frames),
# scaled by a gain per worm and per neuron (log-normal) and observed with Gaussian noise
# whose level differs between worms. Silencing a neuron sets its events and its output to
# zero and keeps every other random draw.

# %%
def make_world(seed):
    """Random draws of one simulated experiment (W worms) [R]."""
    rng = np.random.default_rng(seed)
    part = np.stack([rng.permutation(N) % K for _ in range(C)])
    hubs = np.array([[rng.choice(np.flatnonzero(part[c] == k))
                      for k in range(K)] for c in range(C)])

    def events(shape):
        return ((rng.random(shape) < SIM["rate"])
                * rng.exponential(1.0, shape))

    ev_cell, ev_comm = events((W, N, T)), events((W, C, K, T))
    gain = (np.exp(rng.normal(0, SIM["log_gain_worm"], (W, 1)))
            * np.exp(rng.normal(0, SIM["log_gain_cell"], (W, N))))
    noise = rng.uniform(*SIM["noise"], W)
    eps = rng.normal(0.0, 1.0, (W, N, T))
    passed = rng.random((W, N, T)) < SIM["p_pass"]
    return dict(part=part, hubs=hubs, ev_cell=ev_cell, ev_comm=ev_comm,
                gain=gain, noise=noise, eps=eps, passed=passed)


COND_T = np.repeat(EPOCHS, P["epoch_len"])  # condition of each frame
_t = np.arange(10 * SIM["tau_d"])
KERNEL = np.exp(-_t / SIM["tau_d"]) - np.exp(-_t / SIM["tau_r"])
KERNEL /= KERNEL.max()


def simulate(world, silence=None):
    """Calcium traces (W, N, T); `silence`: a neuron set to zero."""
    ev = world["ev_cell"].copy()
    if silence is not None:
        ev[:, silence] = 0.0
    drive = ev.copy()
    for c in range(C):
        m = COND_T == c
        lab = world["part"][c]
        hub_of = world["hubs"][c][lab]  # each neuron's hub
        follows = (np.arange(N) != hub_of)[None, :, None]
        drive[:, :, m] += (
            SIM["beta"] * ev[:, hub_of][:, :, m] * follows
            * world["passed"][:, :, m]
            + SIM["gamma"] * world["ev_comm"][:, c, lab][:, :, m]
        )
    if silence is not None:
        drive[:, silence] = 0.0
    ca = fftconvolve(drive, KERNEL[None, None], axes=2)[..., :T]
    return (world["gain"][..., None] * ca
            + world["noise"][:, None, None] * world["eps"])


worlds = {s: make_world(s) for s in ctx.seeds}
traces = {s: simulate(worlds[s]) for s in ctx.seeds}
print("traces per seed:", traces[ctx.seeds[0]].shape,
      "(worms, neurons, frames)")

# %%
w0, F0 = worlds[ctx.seeds[0]], traces[ctx.seeds[0]]
fig, ax = plt.subplots(figsize=(9, 3.2))
pick = np.concatenate([np.flatnonzero(w0["part"][1] == k)[:4]
                       for k in range(K)])  # 4 neurons per stim-A group
for row, i in enumerate(pick):
    ax.plot(F0[0, i] / F0[0, i].max() + row, lw=0.6,
            color=sns.color_palette()[w0["part"][1][i]])
for e, c in enumerate(EPOCHS):
    ax.axvspan(e * P["epoch_len"], (e + 1) * P["epoch_len"],
               color="0.9" if c == 0 else "0.75", zorder=0)
    ax.text((e + 0.5) * P["epoch_len"], 12.2, COND[c], ha="center",
            va="bottom")
ax.set(xlabel="frame", ylabel="neuron (coloured by stim-A group)",
       yticks=[], ylim=(-0.3, 13.2))
ax.set_title("Simulated worm 0: 12 of its neurons", pad=14)
plt.show()

# %% [markdown]
# ## Stage 1: differential affinities in time windows
#
# The paper's affinity compares *local changes* of two traces, not their levels, so that two
# neurons are affine when they rise together, whatever their baselines and gains. Our
# reconstruction [R]: each trace's frame-to-frame difference is divided by a robust estimate
# of its noise (the median absolute difference / 0.6745), so that a worm's gain and noise level
# drop out; a rise counts only above $\theta = 3$ noise units and saturates,
# $u_i(t) = \tanh\big([d_i(t) - \theta]_+/\theta\big)$; the instantaneous affinity of a pair
# is $u_i(t)\,u_j(t)$ (non-negative, non-linear, large only when both rise at once), and it is
# averaged over windows of 50 frames every 25 frames. Each worm's slice is divided by its mean
# so that no worm dominates the factorisation by its event rate.

# %%
def rises(F):
    d = np.diff(F, axis=-1, prepend=F[..., :1])
    noise = np.median(np.abs(d), axis=-1, keepdims=True) / 0.6745
    d = d / (noise + 1e-12)
    th = PIPE["theta"]
    return np.tanh(np.maximum(d - th, 0.0) / th)


STARTS = np.arange(0, T - PIPE["win"] + 1, PIPE["step"])


def window_mean(a):
    cs = np.concatenate(
        [np.zeros((*a.shape[:-1], 1)), np.cumsum(a, axis=-1)], axis=-1)
    return (cs[..., STARTS + PIPE["win"]] - cs[..., STARTS]) / PIPE["win"]


def affinity(F):
    """Raw windowed affinities (W, pairs, windows) [R]."""
    u = rises(F)
    return window_mean(u[:, IU[0]] * u[:, IU[1]])


def normalise(A):
    return A / A.mean(axis=(1, 2), keepdims=True)


# fraction of each window spent in each condition, (C, windows)
IND = np.stack([
    window_mean((COND_T == c).astype(float)[None])[0] for c in range(C)])
A_raw = {s: affinity(traces[s]) for s in ctx.seeds}
print("tensor (pairs x windows x worms):",
      (*A_raw[ctx.seeds[0]].shape[1:], W))

# %% [markdown]
# ## Stage 2: non-negative tensor factorisation
#
# The tensor (pairs × windows × worms) is factorised with `tensorly`'s
# `non_negative_parafac` (multiplicative updates) at rank $R = 6$, the top of the notes'
# range (4–6): one component per condition, and room for components that belong to one worm
# only, which the paper also finds (its Figure 3 shows a factor "mainly" of one worm). The
# factorisation has local minima, so it
# starts from tensorly's SVD initialisation and from random starts, and keeps the fit with the
# lowest reconstruction error. The temporal factors are then matched to the conditions.

# %%
def ntf(A, seed):
    """Best of an SVD and `restarts` random starts; factors and error."""
    X = tl.tensor(np.transpose(A, (1, 2, 0)))  # pairs, windows, worms
    inits = ["svd"] + ["random"] * PIPE["restarts"]
    best = None
    for r, init in enumerate(inits):
        cp, err = non_negative_parafac(
            X, rank=PIPE["rank"], init=init, random_state=1000 * seed + r,
            n_iter_max=PIPE["n_iter"], tol=PIPE["tol"],
            return_errors=True)
        if best is None or err[-1] < best[1]:
            best = (cp, float(err[-1]))
    _, (fa, ft, fw) = best[0]
    return dict(fa=fa, ft=ft, fw=fw, err=best[1])


def match(ft):
    """Hungarian match of temporal factors to conditions by r."""
    r = np.corrcoef(np.vstack([IND, ft.T]))[:C, C:]
    r = np.nan_to_num(r)
    rows, cols = linear_sum_assignment(-r)
    return r[rows, cols], cols


def shuffle_windows(A, seed):
    rng = np.random.default_rng(seed + 7919)
    return np.stack([a[:, rng.permutation(a.shape[1])] for a in A])


fits, fits_shuf, c1 = {}, {}, {k: [] for k in
                               ("r_matched", "r_shuffled", "r_min",
                                "fit_error")}
for s in ctx.seeds:
    fits[s] = ntf(normalise(A_raw[s]), s)
    r, fits[s]["comp"] = match(fits[s]["ft"])
    fits_shuf[s] = ntf(shuffle_windows(normalise(A_raw[s]), s), s)
    r_sh, _ = match(fits_shuf[s]["ft"])
    c1["r_matched"].append(float(r.mean()))
    c1["r_min"].append(float(r.min()))
    c1["r_shuffled"].append(float(r_sh.mean()))
    c1["fit_error"].append(fits[s]["err"])
report.measure("C1", c1)
print({k: np.round(v, 3).tolist() for k, v in c1.items()})

# %%
f = fits[ctx.seeds[0]]
fig, axs = plt.subplots(1, 2, figsize=(10, 3),
                        gridspec_kw=dict(width_ratios=[3, 1]))
mid = STARTS + PIPE["win"] / 2
for c in range(C):
    comp = f["comp"][c]
    axs[0].plot(mid, f["ft"][:, comp] / f["ft"][:, comp].max(),
                label=f"component {comp} ↔ {COND[c]}")
for e, c in enumerate(EPOCHS):
    axs[0].axvspan(e * P["epoch_len"], (e + 1) * P["epoch_len"],
                   color="0.9" if c == 0 else "0.75", zorder=0)
axs[0].set(xlabel="frame (window centre)", ylabel="temporal factor / max",
           title=f"Seed {ctx.seeds[0]}: temporal factors")
axs[0].legend(fontsize=7, loc="upper right")
sns.heatmap(f["fw"] / f["fw"].max(0), ax=axs[1], cmap="viridis",
            cbar=False, xticklabels=True)
axs[1].set(xlabel="component", ylabel="worm", title="worm factors / max")
plt.show()

# %% [markdown]
# On the chapter's seeds the matched temporal factors correlate with the conditions at
# $r$ = {glue:text}`a21_r:.2f` (median over seeds of the condition mean; rule ≥ 0.8), and at
# {glue:text}`a21_r_shuf:.2f` when each worm's windows are shuffled. The paper reports no
# correlation; its figures show components confined to stimulus epochs in real worms.

# %%
runtime.glue("a21_r", float(np.median(c1["r_matched"])))
runtime.glue("a21_r_shuf", float(np.median(c1["r_shuffled"])))

# %% [markdown]
# ## Stage 3: communities on each component
#
# The pair factor of a component, put back into a symmetric $N \times N$ matrix, is a weighted
# graph. We detect its communities with networkx's `louvain_communities` (weighted modularity,
# resolution 1, seed fixed to the chapter seed). Louvain, like the paper's nested stochastic
# block model, chooses the number of communities itself; spectral clustering from
# scikit-learn would need it given, which would hand the method part of the answer. The same
# call clusters the control, the static correlation of the whole recording.

# %%
def to_matrix(v):
    M = np.zeros((N, N))
    M[IU] = v
    return M + M.T


def louvain(M, seed):
    G = nx.from_numpy_array(np.maximum(M, 0.0))
    groups = nx.community.louvain_communities(
        G, weight="weight", seed=seed)
    lab = np.zeros(N, dtype=int)
    for g, members in enumerate(sorted(groups, key=min)):
        lab[list(members)] = g
    return lab


def static_correlation(F):
    Z = (F - F.mean(-1, keepdims=True)) / F.std(-1, keepdims=True)
    R = np.mean([z @ z.T / T for z in Z], axis=0)
    np.fill_diagonal(R, 0.0)
    return np.maximum(R, 0.0)


c2 = {k: [] for k in ("ari_dynamic", "ari_gap", "ari_static",
                      "ari_static_affinity", "n_communities")}
labels = {}
for s in ctx.seeds:
    part, f = worlds[s]["part"], fits[s]
    labels[s] = [louvain(to_matrix(f["fa"][:, f["comp"][c]]), s)
                 for c in range(C)]
    dyn = np.mean([adjusted_rand_score(part[c], labels[s][c])
                   for c in range(C)])
    lab_st = louvain(static_correlation(traces[s]), s)
    st = np.mean([adjusted_rand_score(part[c], lab_st) for c in range(C)])
    lab_sa = louvain(to_matrix(A_raw[s].mean(axis=(0, 2))), s)
    c2["ari_dynamic"].append(float(dyn))
    c2["ari_static"].append(float(st))
    c2["ari_gap"].append(float(dyn - st))
    c2["ari_static_affinity"].append(float(np.mean(
        [adjusted_rand_score(part[c], lab_sa) for c in range(C)])))
    c2["n_communities"].append(float(np.mean(
        [lab.max() + 1 for lab in labels[s]])))
report.measure("C2", c2)
print({k: np.round(v, 3).tolist() for k, v in c2.items()})

# %%
s0 = ctx.seeds[0]
fig, axs = plt.subplots(1, C + 1, figsize=(12, 3))
for c in range(C):
    order = np.argsort(worlds[s0]["part"][c], kind="stable")
    M = to_matrix(fits[s0]["fa"][:, fits[s0]["comp"][c]])
    sns.heatmap(M[np.ix_(order, order)], ax=axs[c], cbar=False,
                cmap="rocket", xticklabels=False, yticklabels=False)
    axs[c].set_title(f"component ↔ {COND[c]}")
order = np.argsort(worlds[s0]["part"][1], kind="stable")
sns.heatmap(static_correlation(traces[s0])[np.ix_(order, order)],
            ax=axs[C], cbar=False, cmap="rocket", xticklabels=False,
            yticklabels=False)
axs[C].set_title("static correlation (stim-A order)")
fig.suptitle(f"Seed {s0}: neurons sorted by each condition's true groups")
plt.show()

# %% [markdown]
# The communities of the matched components reach an ARI of {glue:text}`a21_ari:.2f`
# (median over seeds; rule ≥ 0.8); the static correlation clustered the same way reaches
# {glue:text}`a21_ari_st:.2f`: it finds, at best, the baseline groups, which hold for half of
# the recording, and misses both stimulus conditions. The paper gives no ARI for real worms.

# %%
runtime.glue("a21_ari", float(np.median(c2["ari_dynamic"])))
runtime.glue("a21_ari_st", float(np.median(c2["ari_static"])))

# %% [markdown]
# ## Silencing a predicted hub in silico (a stand-in for the paper's experiment)
#
# The paper silenced AWB in real worms to test a role its communities predicted. We can only
# silence in the simulation: for each condition and each detected community with at least
# three members, the predicted hub is the member with the largest summed affinity to the rest
# of its community in the component. We re-simulate every worm with that neuron silenced and
# measure, in the windows that lie wholly inside the condition, the mean raw affinity among
# the *remaining* members of each detected community. The control silences a random other
# member of the same community (a fixed random draw per seed).

# %%
def community_affinity(A, lab, cond_windows, skip):
    out = []
    for g in range(lab.max() + 1):
        members = np.flatnonzero((lab == g) & (np.arange(N) != skip))
        M = to_matrix(A[:, :, cond_windows].mean(axis=(0, 2)))
        sub = M[np.ix_(members, members)]
        k = len(members)
        out.append(sub.sum() / max(k * (k - 1), 1))
    return np.array(out)


def selectivity(s, c, lab, neuron):
    inside = IND[c] == 1.0
    base = community_affinity(A_raw[s], lab, inside, neuron)
    sil = community_affinity(affinity(simulate(worlds[s], neuron)),
                             lab, inside, neuron)
    drop = 1.0 - sil / base
    own = lab[neuron]
    return drop[own] - np.delete(drop, own).mean(), drop[own]


c3 = {k: [] for k in ("selectivity_hub", "selectivity_random",
                      "drop_own_hub", "hub_is_true_hub")}
drops = []
for s in ctx.seeds:
    rng = np.random.default_rng(s + 104729)
    sel_h, sel_r, own_h, true_h = [], [], [], []
    for c in range(C):
        lab = labels[s][c]
        M = to_matrix(fits[s]["fa"][:, fits[s]["comp"][c]])
        for g in range(lab.max() + 1):
            members = np.flatnonzero(lab == g)
            if len(members) < 3 or lab.max() == 0:
                continue
            strength = M[np.ix_(members, members)].sum(1)
            hub = members[np.argmax(strength)]
            other = rng.choice(members[members != hub])
            sh, dh = selectivity(s, c, lab, hub)
            sr, dr = selectivity(s, c, lab, other)
            sel_h.append(sh)
            sel_r.append(sr)
            own_h.append(dh)
            true_h.append(hub in worlds[s]["hubs"][c])
            drops.append((s, "predicted hub", sh))
            drops.append((s, "random member", sr))
    c3["selectivity_hub"].append(float(np.mean(sel_h)))
    c3["selectivity_random"].append(float(np.mean(sel_r)))
    c3["drop_own_hub"].append(float(np.mean(own_h)))
    c3["hub_is_true_hub"].append(float(np.mean(true_h)))
report.measure("C3", c3)
print({k: np.round(v, 3).tolist() for k, v in c3.items()})

# %%
fig, ax = plt.subplots(figsize=(5, 3))
groups = {
    "predicted hub": c3["selectivity_hub"],
    "random member": c3["selectivity_random"],
}
plots.seed_points(ax, groups, ylabel="selectivity (mean over hubs)",
                  threshold=0.3)
ax.set_title("In-silico silencing: own drop − others' drop")
plt.show()

# %% [markdown]
# Silencing the predicted hub lowers the affinity within its own community by
# {glue:text}`a21_drop:.0%` on average, and its selectivity (own drop minus the others') is
# {glue:text}`a21_sel:.2f` (median over seeds; rule ≥ 0.3), against
# {glue:text}`a21_sel_r:.2f` for a random member of the same community. The predicted hub is
# the neuron that drives its group in the simulation in {glue:text}`a21_true:.0%` of cases.
# This is a test of the pipeline's *prediction* on a simulation built with hubs; it says
# nothing about whether real worms have such hubs, which is what the paper's experiment tested.

# %%
runtime.glue("a21_drop", float(np.mean(c3["drop_own_hub"])))
runtime.glue("a21_sel", float(np.median(c3["selectivity_hub"])))
runtime.glue("a21_sel_r", float(np.median(c3["selectivity_random"])))
runtime.glue("a21_true", float(np.mean(c3["hub_is_true_hub"])))

# %% [markdown]
# ## Checks that do not depend on the run
#
# The affinity is symmetric in the pair, zero for flat or falling traces, and larger for two
# traces that rise together than for two that rise apart; a silenced neuron's trace is pure
# noise; the Louvain call is reproducible with a fixed seed; the indicator rows sum to one.

# %% tags=["nbval-check-output"]
tt = np.zeros((1, 3, 40))  # steps up: 0 and 1 together, 2 apart
for i, onsets in enumerate([(10, 25), (10, 25), (17, 32)]):
    for t0 in onsets:
        tt[0, i, t0:] += 1.0
tt += 1e-2 * np.random.default_rng(0).normal(size=tt.shape)
u = rises(tt)
print("affinity symmetric:",
      np.allclose(u[:, 0] * u[:, 1], u[:, 1] * u[:, 0]))
print("together > apart:",
      (u[0, 0] * u[0, 1]).sum() > (u[0, 0] * u[0, 2]).sum())
print("falling trace scores 0:", float(rises(-tt)[0, 0].max()) == 0.0)
wt = make_world(0)
Fs = simulate(wt, silence=5)
print("silenced trace is noise only:",
      np.allclose(Fs[:, 5], wt["noise"][:, None] * wt["eps"][:, 5]))
Mt = to_matrix(np.arange(len(IU[0]), dtype=float) % 7)
print("Louvain reproducible:",
      bool((louvain(Mt, 3) == louvain(Mt, 3)).all()))
print("indicators sum to 1:", np.allclose(IND.sum(0), 1.0))
print("constants:", SIM, PIPE, sep="\n")

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count before the book's comparison fails. We re-executed
# the ci profile with 1 and 2 threads (seeds 10–12) and with two other seed sets (20–22 and
# 40–42), and chose each `tol` at least the change between thread paths and, where the
# statistic is discrete (ARI, community counts), wide enough for one seed's change; the table
# shows both changes beside the declared `tol` and every verdict seen across the runs.

# %%
report.tolerances("../../data/a21_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Data (a substitute).** Simulated calcium recordings, not NeuroPAL worms: $N = 30$
#   neurons, 6 worms, 600 frames (ci; full: 60 neurons, 12 worms, 1,200 frames), against the
#   paper's ~189 identified neurons per worm and its chemical-stimulus protocols. The
#   simulation's communities, hubs and epochs are ours [R]; real worms need not have hubs that
#   drive their groups, so C3 tests only that the pipeline finds the hubs the simulation has.
#   The full profile runs the same code at the larger size with 5 seeds (about 80 s of one
#   CPU core per seed, measured on one seed, whose verdicts matched ci); it has not been
#   executed in full for this version.
# - **Stage 1 (reconstructed [R]).** The authors' notebook with the affinity kernel was not
#   readable from our copy of their repository (only its benchmark notebook was), and the
#   paper's text was available to us only in summaries; our kernel (thresholded, saturating
#   coincident rises) is a reconstruction of a "differential" affinity, not theirs. The
#   per-worm normalisation of the tensor is ours.
# - **Stage 2.** `tensorly.decomposition.non_negative_parafac` (library solver), rank fixed at
#   6 instead of selected; best of an SVD and two random starts.
# - **Stage 3.** Louvain modularity (networkx) instead of the nested weighted stochastic block
#   model of graph-tool, which is not installable from PyPI. The authors' benchmark notebook
#   compares both on weighted benchmark graphs.
# - **Validation.** In-silico silencing replaces the silencing of AWB in real worms.
# - **Pilot.** The simulation's constants, the window (50 frames, step 25), the threshold
#   $\theta = 3$, the per-worm normalisation, the SVD start and $R = 4$ (now 6, below) were
#   chosen in a pilot
#   on seeds 0–5, in which a sparser simulation (event probability 0.03, four worms, windows of
#   20 frames) gave temporal factors that mixed conditions. The rules were then fixed, from
#   the research notes, before the chapter's seeds (10–12, and the variation's 20–22, 30–32,
#   later 40–42) were run. In the pilot some seeds still merged the two stimulus conditions into one
#   component, which is why the rules judge the median over seeds.
# - **Changed after the first run on the chapter's seeds (C3).** In the first version a hub
#   passed *every* event to every member. Then two members share exactly the events a member
#   shares with its hub, so no statistic of co-activation can tell the hub from a common
#   input: the predicted hub was the simulated one in 37 % of cases and the selectivity was
#   0.29 (rule ≥ 0.3; random member 0.00). Transmission is now unreliable (each event passes to
#   each member with probability 0.6, drawn once and kept when a neuron is silenced), which
#   makes the hub the best-connected member, as a driving neuron is in a real circuit. The
#   rule and its threshold were not changed; C1 and C2 kept their verdicts under the change.
# - **Changed after the first variation run (C1, C3: rank 4 → 6).** At rank 4 (chosen in the
#   pilot), seeds 10–12 and 30–32 passed every rule, but seeds 20–22 did not: C1's median
#   matched $r$ was 0.70 and C3's selectivity 0.26, because in two of the three seeds one
#   worm (the least noisy) took two or three of the four components for itself, leaving a
#   condition without a component (and C3 then silenced hubs of wrong communities). The rank
#   was raised to 6, the top of the range the notes give, so that worm-specific components
#   no longer crowd out the conditions; no rule changed. The variation table below was then
#   run on seed sets 20–22 (the failing one) and 40–42, which no earlier version had seen.
# - **Paper numbers.** The paper reports no correlation or ARI that a simulation could be set
#   beside; its evidence is qualitative (known circuits) and one silencing experiment.
#
# ## References
#
# ```{footbibliography}
# ```
