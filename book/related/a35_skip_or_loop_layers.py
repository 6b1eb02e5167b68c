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
# # A35 · Skip a layer or loop it? (CoLa)
#
# Li, Li and Zhou {footcite}`li2025skiplayer` treat the layers of a pretrained language model
# as modules that can be skipped or repeated at test time, per input, without any
# finetuning: a *chain of layers* (CoLa) is the sequence of layers the input actually passes
# through. A Monte Carlo tree search (MCTS, {footcite}`kocsis2006bandit`) looks for a good chain
# for every test sample. The abstract reports two findings: for more than 75 % of the samples
# the original model answers correctly, a *shorter* chain also answers correctly; and for more
# than 60 % of the samples it answers wrongly, some chain answers correctly.
#
# Both findings are **oracle results**: the search scores each chain against the sample's
# *gold* label. They say that good chains exist, not that anyone could find them without the
# answer. This is not a deployable method, and with a small label space a search that is
# allowed to try many chains may reach *any* label. We therefore run the same search a second
# time, told to reach a wrong *decoy* label: a rescue rate is evidence only where it clearly
# beats the decoy's. Our miniature: a four-layer pre-LN Transformer trained in the chapter on
# k-hop pointer chasing, where the number of hops is a graded difficulty. Choices of ours are
# marked [R]; what we read in the authors' code, [C].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C0** (construction) the chain that keeps every layer once is the trained model itself,
#   and the MCTS never reports a chain shorter than the shortest one that exists (checked
#   against all chains).
# - **C1** "for >75% of samples with correct predictions by the original LLM, we can find
#   shorter CoLa".
# - **C2** "for >60% of samples with originally incorrect predictions, we can identify CoLa
#   achieving correct predictions" — with the decoy-label search as the leakage control.
# - **C3** "patterns of layer importance and redundancy vary with task difficulty" (the
#   research notes' reading): the length of the shortest correct chain grows with the number
#   of hops.
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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from rnnbook import claims, plots, pointer, runtime
from rnnbook import transformer as tr

ctx = runtime.setup("a35", default_seeds={"ci": [0], "full": [0, 1, 2]})
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(nodes=6, hops=3, d=32, heads=2, ff=64, layers=4,
            iters=500, batch=96, lr=3e-3, test=600, budget=16),
    full=dict(nodes=6, hops=3, d=32, heads=2, ff=64, layers=4,
              iters=3000, batch=128, lr=3e-3, test=1500, budget=16),
)  # fmt: skip
S = len(ctx.seeds)
REPEAT = 2  # a layer runs 0 (skip), 1 (keep) or 2 times (loop) [C]
LAMBDA = 0.1  # length penalty in the search's reward [R]
UCB_C = 1.0  # exploration constant of UCB [R]

# %% [markdown]
# All rules are fixed here, before any experiment runs. Rates are fractions of items, means
# over seeds.
#
# - **C1.** The paper reports ">75 %"; the research notes' rule for a miniature is half of
#   that size of effect: at least 0.5 of the originally correct items have a correct chain
#   shorter than the model's depth, found by the search within its budget. Control: the same
#   search, from the same items, told to reach a random wrong (decoy) label with a shorter
#   chain. If the decoy also passes, a short chain that reaches the gold label says little.
# - **C2.** Rescue rate (wrong items for which the search finds a correct chain) at least 0.5
#   (the paper: >60 %), and at least 0.2 above the decoy rescue rate (the notes' margin: a
#   search that can reach any label rescues about as often as it reaches a decoy). Controls:
#   the decoy rescue rate must fail the first rule, and the margin between two *independent*
#   decoy searches (a placebo margin) must fail the second.
# - **C3.** Spearman ρ between the length of the shortest correct chain found and the number
#   of hops is at least 0.3 (the notes), over the items for which a correct chain was found.
#   Control: the same with the hops shuffled across items.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Skip a layer or loop it? (CoLa)")
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C0", "Keeping every layer once is the trained model; the search never reports a correct "
    "chain shorter than the shortest one (all chains enumerated).",
    kind="construction", paper="CoLa's search space contains the original model",
    checks=[
        E("identity_max_diff", "<=", 1e-6, "|logits of chain (1,…,1) − model|, max"),
        E("search_below_exhaustive", "==", 0,
          "items where the search beats enumeration (impossible)"),
        CTX("n_chains", "chains in the space"),
    ])
report.claim(
    "C1", "For most originally correct items a shorter chain is also correct.",
    kind="empirical", paper=">75 % of correct samples",
    checks=[
        E("shorter_rate", ">=", 0.5, "correct items with a shorter correct chain found",
          tol=0.1),
        CTL("decoy_shorter_rate", "shorter_rate",
            "the same search aimed at a decoy label", tol=0.1),
        CTX("shorter_exhaustive", "the same, all chains enumerated", tol=0.1),
        CTX("mean_saved", "mean layers saved, correct items", tol=0.5),
    ])
report.claim(
    "C2", "For most originally wrong items some chain is correct, clearly more often than "
    "the same search reaches a decoy label.",
    kind="empirical", paper=">60 % of incorrect samples",
    checks=[
        E("rescue_rate", ">=", 0.5, "wrong items rescued by the search", tol=0.1),
        E("rescue_margin", ">=", 0.2, "rescue rate − decoy rescue rate", tol=0.1),
        CTL("decoy_rescue_rate", "rescue_rate", "decoy label, wrong items", tol=0.1),
        CTL("placebo_margin", "rescue_margin",
            "decoy − a second, independent decoy", tol=0.1),
        CTX("rescue_exhaustive", "rescue rate, all chains enumerated", tol=0.1),
        CTX("decoy_exhaustive", "decoy rescue rate, all chains enumerated",
            tol=0.1),
        CTX("accuracy", "original model, test accuracy", tol=0.1),
    ])
report.claim(
    "C3", "The shortest correct chain is longer for harder items (more hops).",
    kind="empirical", paper="layer use varies with difficulty (no number)",
    checks=[
        E("rho_depth_hops", ">=", 0.3, "Spearman ρ(shortest correct chain, hops)",
          tol=0.1),
        CTL("shuffled_rho", "rho_depth_hops", "hops shuffled across items", tol=0.1),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The task and the model
#
# *k-hop pointer chasing*, as in [A33](a33_universal_transformers): one random cycle through
# $N = 6$ nodes is listed as $N$ edge tokens $(i, \pi(i))$ in random order, and a last token
# holds a start node $s$ and a number of hops $k \in \{1, 2, 3\}$; the answer is $\pi^k(s)$.
# One attention lookup makes one hop, so harder items (more hops) plausibly need more layers:
# the number of hops is the items' difficulty [R]. The model is a pre-LN Transformer of four
# layers with its own weights (`tr.Stack`), read out at the last position, trained normally
# (no layer drop: CoLa's model was never trained to be cut). The paper uses pretrained LLMs
# on math and commonsense benchmarks; ours is a miniature trained here.

# %%
NN, K, NL = P["nodes"], P["hops"], P["layers"]
VOCAB = pointer.vocab_size(NN, K)


def pointer_chase(gen, count):
    """Tokens (count, N + 1), answers pi^k(s) (count,), hops k (count,):
    the book's generator (`rnnbook.pointer`) at this chapter's sizes."""
    return pointer.pointer_chase(gen, count, NN, K)


class Chaser(nn.Module):
    """Embedding -> blocks in the order `chain` -> LN -> head (last
    token)."""

    def __init__(self, gen):
        super().__init__()
        d = P["d"]
        self.emb = tr.Embedding(VOCAB, d, models=S, gen=gen)
        self.body = tr.Stack(d, P["heads"], NL, P["ff"], models=S, gen=gen)
        self.head = tr.Linear(d, NN, S, gen)

    def read(self, h):
        return self.head(self.body.ln(h)[:, :, -1])

    def forward(self, x, chain=None):
        h = self.emb(x)
        for i in range(NL) if chain is None else chain:
            h = self.body.blocks[i](h)
        return self.read(h)


def train(model, tag):
    gen = runtime.generator(ctx.seeds[0], tag)
    opt = torch.optim.Adam(model.parameters(), P["lr"])
    for _ in runtime.progress(range(P["iters"])):
        x, y, _ = pointer_chase(gen, P["batch"])
        loss = F.cross_entropy(model(x.to(dev)).flatten(0, 1),
                               y.to(dev).repeat(S))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


t0 = time.process_time()
model = train(Chaser(runtime.generator(ctx.seeds[0], 10)).to(dev), 20)
cpu_train = time.process_time() - t0
x_te, y_te, k_te = pointer_chase(runtime.generator(ctx.seeds[0], 30),
                                 P["test"])
with torch.no_grad():
    pred0 = model(x_te.to(dev)).argmax(-1).cpu()  # (S, n)
ok0 = pred0 == y_te
print(f"trained {S} seed(s) in {cpu_train:.1f} s CPU; accuracy by hops:",
      [round(float(ok0[:, k_te == k].float().mean()), 3)
       for k in range(1, K + 1)])

# %% [markdown]
# ## Chains of layers, all of them
#
# A chain here runs the layers in their original order and gives each a count: 0 (skip),
# 1 (keep) or 2 (loop once more), as the authors' code does for segments of layers (repeats
# are "2x only" there [C]). With four layers that is $3^4 = 81$ chains of length 0 to 8; the
# original model is the chain $(1, 1, 1, 1)$ of length 4. Because the space is small we run
# every chain on every test item once, sharing prefixes (all chains that start with the same
# counts share their first states), and keep the predicted label of each. The search below
# only *looks up* this table: one look-up stands for one forward pass of the paper's search.

# %%
CHAINS = list(itertools.product(range(REPEAT + 1), repeat=NL))
LENGTH = np.array([sum(c) for c in CHAINS])
ORIGINAL = CHAINS.index((1,) * NL)


@torch.no_grad()
def all_chains(x):
    """Predicted labels (S, chains, n) for every chain of counts."""
    states = {(): model.emb(x.to(dev))}
    for i in range(NL):
        nxt = {}
        for prefix, h in states.items():
            for c in range(REPEAT + 1):
                nxt[(*prefix, c)] = h
                if c < REPEAT:
                    h = model.body.blocks[i](h)
        states = nxt
    return torch.stack([model.read(states[c]).argmax(-1).cpu()
                        for c in CHAINS], 1)


t0 = time.process_time()
table = all_chains(x_te).numpy()  # (S, 81, n)
cpu_table = time.process_time() - t0
print(f"{len(CHAINS)} chains x {P['test']} items: {cpu_table:.1f} s CPU")

# %% [markdown]
# ## The search
#
# Per item and per target label, a Monte Carlo tree search over the counts, one layer per
# tree level [R: the paper's tree acts on blocks of layers]. Each rollout selects children by
# UCB, $Q + c \sqrt{\ln N_\text{parent} / N_\text{child}}$ with $c = 1$, expands one untried
# child, completes the chain at random and scores it with the reward
# $\mathbb{1}[\text{label} = \text{target}] - \lambda \cdot \text{length} / 4$ with
# $\lambda = 0.1$, favouring short chains, as the paper's reward does [R: the exact weight is
# ours]. The budget is 16 rollouts per item and target, a fifth of the space. The search
# returns the shortest chain it evaluated that reaches the target (or none).

# %%
def mcts(hit, rng, budget):
    """hit: (81,) bool, chain reaches the target. Shortest hit found
    by the search, in layer applications (None if none)."""
    visits, value = {(): 0}, {(): 0.0}
    best = None
    for _ in range(budget):
        node, path = (), [()]
        while len(node) < NL:
            kids = [(*node, c) for c in range(REPEAT + 1)]
            new = [k for k in kids if k not in visits]
            if new:
                node = new[rng.integers(len(new))]
                visits[node], value[node] = 0, 0.0
                path.append(node)
                break
            logn = math.log(visits[node])
            node = max(kids, key=lambda k: value[k] / visits[k]
                       + UCB_C * math.sqrt(logn / visits[k]))
            path.append(node)
        chain = node + tuple(rng.integers(REPEAT + 1, size=NL - len(node)))
        j = CHAINS.index(chain)
        r = float(hit[j]) - LAMBDA * LENGTH[j] / NL
        if hit[j] and (best is None or LENGTH[j] < best):
            best = int(LENGTH[j])
        for p in path:
            visits[p] += 1
            value[p] += r
    return best


def search_all(target, tag):
    """Shortest chain found reaching `target` (S, n); -1 if none."""
    out = np.full(target.shape, -1)
    for s in range(S):
        rng = np.random.default_rng([ctx.seeds[s], tag])
        for i in range(target.shape[1]):
            b = mcts(table[s, :, i] == target[s, i], rng, P["budget"])
            out[s, i] = -1 if b is None else b
    return out


def decoy(tag):
    """A random label that is neither the gold label nor the model's."""
    g = np.random.default_rng([ctx.seeds[0], tag])
    y = np.broadcast_to(y_te.numpy(), pred0.shape)
    d = g.integers(NN, size=pred0.shape)
    bad = (d == y) | (d == pred0.numpy())
    while bad.any():
        d[bad] = g.integers(NN, size=int(bad.sum()))
        bad = (d == y) | (d == pred0.numpy())
    return d


t0 = time.process_time()
gold = np.broadcast_to(y_te.numpy(), pred0.shape)
found = {"gold": search_all(gold, 40), "decoy": search_all(decoy(41), 42),
         "decoy 2": search_all(decoy(43), 44)}
cpu_search = time.process_time() - t0
hits = table == gold[:, None]  # (S, 81, n)
exhaustive = np.where(hits.any(1), np.where(hits, LENGTH[:, None], 99)
                      .min(1), -1)
decoy_any = (table == decoy(41)[:, None]).any(1)  # (S, n): reachable
print(f"search: {cpu_search:.1f} s CPU")

# %% [markdown]
# The figure shows, per number of hops, the original accuracy, the fraction of items for
# which the search found a chain reaching the gold label, and the same for a decoy label
# (left), and the length of the shortest gold chain found (right; the original depth is 4).

# %% tags=["hide-input"]
ok = ok0.numpy()
fig, axs = plt.subplots(1, 2, figsize=(10, 3.4))
ks = range(1, K + 1)
by_k = lambda v: [float(v[:, k_te.numpy() == k].mean()) for k in ks]  # noqa: E731
axs[0].plot(ks, by_k(ok), "o-", label="original model")
axs[0].plot(ks, by_k(found["gold"] >= 0), "s-", label="search, gold label")
axs[0].plot(ks, by_k(found["decoy"] >= 0), "^:", label="search, decoy label")
axs[0].set(xlabel="hops k", ylabel="fraction of items", xticks=list(ks), ylim=(0, 1.02), title=f"oracle search, {P['budget']} rollouts ({ctx.profile})")
axs[0].legend(fontsize=7)
f = found["gold"]
for k in ks:
    v = f[:, k_te.numpy() == k]
    v = v[v >= 0]
    axs[1].scatter(k + np.random.default_rng(k).uniform(-0.2, 0.2, v.size), v + np.random.default_rng(k + 9).uniform(-0.15, 0.15, v.size), s=6, alpha=0.4)
axs[1].axhline(NL, color="k", lw=0.8, ls="--")
axs[1].set(xlabel="hops k", ylabel="shortest correct chain found", xticks=list(ks), title="chain length by difficulty")
plt.show()

# %%
def spearman(a, b):
    """Spearman's rho; 0 when either side is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def shorter(f):
    """Per seed: correct items with a chain shorter than the model."""
    return [float(((f[s] >= 0) & (f[s] < NL))[ok[s]].mean())
            for s in range(S)]


# seeds with wrong items: a seed whose model answers every test item has
# no rescue rate (none of its items needs rescuing), and is left out
WRONG = [s for s in range(S) if (~ok[s]).any()]


def rescued(f):
    return [float((f[s] >= 0)[~ok[s]].mean()) for s in WRONG]


kk = k_te.numpy()
perm = np.random.default_rng([ctx.seeds[0], 50]).permutation(len(kk))
rho, rho_shuf = [], []
for s in range(S):
    m = found["gold"][s] >= 0
    rho.append(spearman(found["gold"][s][m], kk[m]))
    rho_shuf.append(spearman(found["gold"][s][m], kk[perm][m]))
resc, resc_d = np.array(rescued(found["gold"])), np.array(
    rescued(found["decoy"]))
report.measure(
    "C1", shorter_rate=shorter(found["gold"]),
    decoy_shorter_rate=shorter(found["decoy"]),
    shorter_exhaustive=shorter(exhaustive),
    mean_saved=[float(np.where(found["gold"][s] >= 0,
                               NL - found["gold"][s], 0)[ok[s]].mean())
                for s in range(S)],
    note=f"{S} seed(s), {P['test']} test items, {P['budget']} rollouts")
report.measure(
    "C2", rescue_rate=resc, rescue_margin=resc - resc_d,
    decoy_rescue_rate=resc_d,
    placebo_margin=resc_d - np.array(rescued(found["decoy 2"])),
    rescue_exhaustive=rescued(exhaustive),
    decoy_exhaustive=[float(decoy_any[s][~ok[s]].mean())
                      for s in WRONG],
    accuracy=ok.mean(1),
    note=f"rates over the {len(WRONG)} of {S} seed(s) with wrong items")
report.measure("C3", rho_depth_hops=rho, shuffled_rho=rho_shuf)
for name, v in [("shorter", shorter(found["gold"])),
                ("dshorter", shorter(found["decoy"])),
                ("rescue", resc), ("drescue", resc_d), ("rho", rho),
                ("dexh", decoy_any[~ok].mean()),
                ("margin", resc - resc_d),
                ("acc", ok.mean(1))]:
    runtime.glue(f"a35_{name}", float(np.mean(v)))
fg = found["gold"]
for k in range(1, K + 1):  # mean shortest gold chain found, by hops
    runtime.glue(f"a35_len{k}",
                 float(fg[:, kk == k][fg[:, kk == k] >= 0].mean()))
print(report.verdicts())

# %% [markdown]
# The trained model answers {glue:text}`a35_acc:.2f` of the test items. For
# {glue:text}`a35_shorter:.2f` of the items it answers correctly the search finds a correct
# chain shorter than four layers (the paper: >0.75); for {glue:text}`a35_rescue:.2f` of the
# items it answers wrongly it finds a correct chain (the paper: >0.60). The decoy searches
# decide what these numbers mean: the same search, told to reach a wrong label, finds a
# shorter chain to it for {glue:text}`a35_dshorter:.2f` of the correct items and "rescues"
# {glue:text}`a35_drescue:.2f` of the wrong items to the decoy. With six labels and 81
# chains, many of which scramble the model's computation, a search that looks at 16 chains
# reaches a good share of *all* labels; a rescue rate means "the model had the answer" only
# to the extent that it beats the decoy's. The length of the shortest gold chain found and the
# number of hops correlate with ρ = {glue:text}`a35_rho:.2f`.
#
# Reading the verdicts. **C1** passes its rule and its decoy control fails it: a shorter
# chain to the gold label is found far more often than one to a decoy, so the shortcuts say
# something about the model, not only about the search (in the exhaustive table *every*
# correct item has one). **C2** passes, but the decoy rescue rate is close to the 0.5 line:
# in the variation runs one of the other seeds put it on the line, which makes the control pass
# and the verdict "inconclusive" (table below). About half of the wrong items can be
# "rescued" to an arbitrary wrong label by the same 16 rollouts; the rescue rate of the paper's kind is
# therefore mostly a statement about the search's reach in a small label space, and only
# the margin over the decoy ({glue:text}`a35_margin:.2f` here) is evidence that the model "had" the answer.
# Among all 81 chains, {glue:text}`a35_dexh:.2f` of the wrong items have one that outputs
# the decoy label (against {glue:text}`a35_rescue:.2f` found for the gold label by the
# search, and all of them by enumeration): an exhaustive oracle would reach most wrong labels
# too, and the small budget is part of what keeps the decoy rate below the gold rate.
# **C3** is not reproduced: the mean length of the shortest gold chain found grows from
# {glue:text}`a35_len1:.2f` (1 hop) to {glue:text}`a35_len2:.2f` (2 hops) and
# {glue:text}`a35_len3:.2f` (3 hops), in the expected direction (the shuffled control is near
# 0), but ρ stays below 0.3. Our reading: the lengths are short for every hop count (a model
# trained at depth 4 that answers 3 hops does not need all four layers for many items), and
# the search reports the shortest chain it happened to visit, which adds noise to the
# ranking.
#
# ## Versus the authors' code
#
# The CoLa paper has no separate code release; its follow-up, *Program-of-Layers* (PoLar),
# is released as `tianyi-lab/PoLar` (snapshot `30d0efd`), which we read and did not copy.
#
# | | `tianyi-lab/PoLar` | this chapter |
# |---|---|---|
# | model | pretrained LLMs (LLaMA-3.2-3B, Qwen2.5-3B, Qwen1.5-MoE, Qwen3-8B) | a 4-layer pre-LN Transformer trained here |
# | chain | a list of executed layer indices, e.g. `[0,1,2,2,3]`, parsed into segments with skip / keep / repeat (repeat "2x only") | counts 0 / 1 / 2 per layer, layers in their original order |
# | search | MCTS used offline to produce `merged_mcts_samples.json`; the search itself is not in the release | our MCTS (UCB, random completion, reward correct − λ·length) |
# | use of the gold label | the offline search scores programs by answer correctness (DART-Math answer checking) | the same (an oracle); plus a decoy-label search as leakage control |
# | data | DART-Math difficulty levels 1–5 | k-hop pointer chasing, k = 1–3 |
# | learned predictor | PoLar network predicts segments and operations from the question | not built |
#
# ## Checks that do not depend on the run

# %% tags=["nbval-check-output"]
with torch.no_grad():
    xs = x_te[:32].to(dev)
    diff = float((model(xs) - model(xs, chain=range(NL))).abs().max())
    chain_diff = float((model(xs, chain=[0, 1, 1, 3]) - model(
        xs, chain=[0, 1, 1, 3])).abs().max())
print("chains:", len(CHAINS), "| original chain:", CHAINS[ORIGINAL],
      "| lengths", LENGTH.min(), "to", LENGTH.max())
print("model = chain (0,1,2,3):", diff == 0.0,
      "| a chain is deterministic:", chain_diff == 0.0)
tab_first = all_chains(x_te[:32])[:, ORIGINAL]
print("table column (1,1,1,1) = model's labels:",
      bool((tab_first == pred0[:, :32]).all()))
hit = np.zeros(len(CHAINS), bool)
hit[CHAINS.index((0, 0, 0, 0))] = True
print("search finds the one empty chain (81 rollouts):",
      mcts(hit, np.random.default_rng(0), len(CHAINS)) == 0)

# %%
with torch.no_grad():
    xs = x_te.to(dev)
    stack = model.head(model.body(model.emb(xs))[:, :, -1])  # tr.Stack
    id_diff = float((stack - model(xs, chain=[
        i for i, c in enumerate(CHAINS[ORIGINAL]) for _ in range(c)])
        ).abs().max())
below = int(sum(((f >= 0) & ((exhaustive < 0) | (f < exhaustive))).sum()
                for f in (found["gold"],)))
report.measure("C0", identity_max_diff=id_diff,
               search_below_exhaustive=below, n_chains=len(CHAINS))
print(f"CPU: training {cpu_train:.1f} s, chain table {cpu_table:.1f} s, "
      f"search {cpu_search:.1f} s")

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change a re-execution on another machine may show.
# We re-executed the chapter in the ci profile with 1 and 2 threads and with two other seeds,
# {1} and {2} (`python -m rnnbook.runner variation a35 --seeds 1 --seeds 2`), and chose each
# `tol` at least as large as the thread-path change. The table shows the declared `tol`
# beside the measured changes, and the verdicts seen in those runs.

# %%
report.tolerances("../../data/a35_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **An oracle study.** As in the paper, the search scores chains with the gold label. The
#   rates of C1 and C2 say that good chains *exist*; they are not accuracies of a method that
#   could run without the answer. The decoy search is our addition (the research notes'), to
#   measure how much of a "rescue" is the search's reach rather than the model's knowledge.
# - **A miniature.** A 4-layer model of width 32 trained for a few hundred updates on a
#   synthetic task, one seed in `ci` (three in `full`), instead of pretrained LLMs on GSM8K,
#   MATH and ARC; six labels instead of generated answers, which makes lucky hits far more
#   likely than in the paper (hence the decoy control).
# - **The chain space.** Layers keep their order and each runs 0, 1 or 2 times (81 chains);
#   the paper's tree acts on blocks of layers with more repeats, a much larger space. Our tree
#   has one level per layer, our reward's length weight $\lambda = 0.1$ is ours, and we
#   precompute every chain's label once (the space is small) so that each rollout is a
#   look-up: the search sees exactly what running the chain would give.
# - **Difficulty.** The number of hops stands in for the benchmarks' difficulty levels.
# - **Not tested.** The paper's per-benchmark analyses of which layers are skipped or looped,
#   and PoLar's learned predictor.
#
# ## References
#
# ```{footbibliography}
# ```
