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
# # A33 · Universal Transformers
#
# A Transformer {footcite}`vaswani2017attention` has a fixed number of layers, each with its own
# weights. Dehghani, Gouws, Vinyals, Uszkoreit and Kaiser {footcite}`dehghani2019universal` make
# it recurrent *in depth*: one layer, with one set of weights, is applied again and again to all
# positions in parallel, with a (position, step) signal added before every step. With adaptive
# computation time (ACT, {footcite}`graves2016adaptive`) each position decides for itself when to
# stop. The abstract says that this "recurrent inductive bias" lets the Universal Transformer
# (UT) generalise where a Transformer fails (copying strings longer than those seen in
# training), that ACT improves accuracy, and that the UT beats Transformers from algorithmic
# tasks to machine translation.
#
# We build the UT from the paper's equations in the book's library (`rnnbook.transformer`, whose
# pieces later chapters of this part reuse), test the recurrent bias on a task made for it
# (*k-hop pointer chasing*: one lookup per hop), watch ACT spend more steps on harder queries,
# and run the paper's algorithmic tasks (copy, reverse, addition; train length 40, test length
# 400) at a miniature size in `ci` and at a small size in `full`. Translation is out of reach.
# Details taken from the authors' code (`tensorflow/tensor2tensor`) are marked [C], choices of
# ours [R].

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C0** (construction) "a generalization of the Transformer model" with weights shared in
#   depth: the UT has the parameters of *one* Transformer layer (plus ACT's halting unit),
#   however many steps it takes.
# - **C1** "UTs combine the parallelizability and global receptive field of feed-forward
#   sequence models like the Transformer with the recurrent inductive bias of RNNs": on k-hop
#   pointer chasing, a shared layer applied T = 4 times beats a parameter-matched one-layer
#   Transformer and approaches a four-layer one (four times the parameters).
# - **C2** "a dynamic per-position halting mechanism": ACT ponders longer on harder inputs
#   (more hops).
# - **C3** "fail to generalize in many simple tasks that recurrent models handle with ease,
#   e.g. copying strings ... when the string ... lengths exceed those observed at training
#   time": copy, reverse and addition trained at length ≤ 40 and tested at length ≤ 400, the
#   paper's table (LSTM / Transformer / UT, character and sequence accuracy) beside ours
#   (judged in `full` only).
# - **C4** "a 0.9 BLEU improvement over Transformers on the WMT14 En-De dataset" (28.9 BLEU):
#   not tested.
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
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from rnnbook import claims, plots, pointer, runtime
from rnnbook import transformer as tr

ctx = runtime.setup("a33", default_seeds={"ci": [0, 1], "full": [0, 1, 2]})
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
# pc = pointer chasing (C0-C2), alg = copy / reverse / addition (C3).
P = ctx.pick(
    ci=dict(
        pc_nodes=6, pc_hops=3, pc_d=32, pc_heads=2, pc_ff=64, pc_steps=4,
        pc_iters=500, pc_batch=96, pc_lr=3e-3, pc_test=3000,
        alg_d=16, alg_heads=2, alg_layers=2, alg_steps=2,
        alg_train_len=6, alg_test_len=12, alg_iters=15, alg_batch=16,
        alg_lr=1e-3, alg_test=64,
    ),
    full=dict(
        pc_nodes=6, pc_hops=3, pc_d=32, pc_heads=2, pc_ff=64, pc_steps=4,
        pc_iters=5000, pc_batch=128, pc_lr=3e-3, pc_test=6000,
        alg_d=128, alg_heads=4, alg_layers=2, alg_steps=8,
        alg_train_len=40, alg_test_len=400, alg_iters=4000, alg_batch=64,
        alg_lr=1e-3, alg_test=512,
    ),
)  # fmt: skip
S = len(ctx.seeds)
TAU = 0.01  # ACT's ponder-cost weight, as the authors' code [C]
HALT_BIAS = 1.0  # initial halting bias, as the authors' code [C]

# %% [markdown]
# All claims and their rules are fixed here, before any experiment runs.
#
# - **C1.** The paper's claim is qualitative; the numbers are the research notes' rules for
#   this miniature, fixed before any run. *Beats*: the UT's accuracy on 3-hop queries is at
#   least 30 points above the one-layer Transformer's (a one-layer model can do one lookup, so
#   a real recurrent advantage shows on 3 hops as a large gap, not a few points). *Approaches*:
#   it is at most 5 points below the four-layer Transformer's, a margin about the size of the
#   seed-to-seed spread of small models trained for a few hundred updates. Both are means over
#   seeds. Controls: the trained UT stopped after one step (its recurrence removed; it must not
#   beat the one-layer model by 30 points), and the untrained UT (it must not come within 5
#   points of the four-layer model).
# - **C2.** The paper shows ponder time by task and position (bAbI, its ponder figure), not a
#   number; our rule (the notes'): the Spearman correlation between the number of hops and the
#   ponder time $N + R$ at the query position is at least 0.5, and 3-hop queries ponder longer
#   than 1-hop ones. Controls: the same correlation with the hop counts shuffled across queries,
#   and on the untrained UT. A constant ponder time has no rank correlation; we count it as 0.
# - **C3.** The notes' rule: the UT's character accuracy at the test length is at least 0.2
#   above the Transformer's, on each of copy, reverse and addition (the paper's gaps are 0.38,
#   0.83 and 0.27); "partly" if copy and reverse pass. The control: the untrained UT in place of
#   the trained one. In `ci` the tasks run at a miniature size only, and C3 is "not testable".
# - **C4.** Machine translation needs the WMT14 data (a download) and days of accelerator time.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Universal Transformers")
E, CTL, CTX = claims.evidence, claims.control, claims.context
report.claim(
    "C0", "The UT shares one layer's weights across its steps: its parameters are those of a "
    "one-layer Transformer plus the halting unit (d + 1), whatever the number of steps.",
    kind="construction", paper="weights tied across depth (the UT's definition)",
    checks=[
        E("extra_params", "==", 0, "UT − one-layer Transformer, parameters per model"),
        E("steps_add_none", "==", 0, "parameters at T = 1 − at T = 4"),
        E("act_extra", "==", P["pc_d"] + 1, "UT with ACT − UT (the halting unit)"),
        CTX("ratio_4_layer", "four-layer Transformer / UT, parameters"),
    ])
report.claim(
    "C1", "A shared layer applied T times beats a parameter-matched one-layer Transformer "
    "on k-hop pointer chasing and approaches a four-layer one.",
    kind="empirical", paper="no pointer-chasing number (a task of the notes; a miniature)",
    checks=[
        E("gain_over_1layer", ">=", 0.30, "UT − one-layer Transformer, 3-hop accuracy",
          tol=0.1),
        E("gap_to_4layer", ">=", -0.05, "UT − four-layer Transformer, 3-hop accuracy",
          tol=0.05),
        CTL("one_step_gain", "gain_over_1layer", "the trained UT stopped after one step",
            tol=0.05),
        CTL("untrained_gap", "gap_to_4layer", "the untrained UT", tol=0.1),
        CTX("acc3_ut", "UT, 3-hop accuracy", tol=0.1),
        CTX("acc3_1layer", "one-layer Transformer, 3-hop accuracy", tol=0.05),
        CTX("acc3_4layer", "four-layer Transformer, 3-hop accuracy", tol=0.05),
    ])
report.claim(
    "C2", "ACT ponders longer on harder inputs (more hops).",
    kind="empirical", paper="ponder time grows with the task's supporting facts (bAbI figure)",
    checks=[
        E("rho_ponder_hops", ">=", 0.5, "Spearman ρ(ponder N + R at the query, hops)",
          tol=0.5),
        E("ponder_3_minus_1", ">", 0, "mean ponder, 3-hop − 1-hop queries", tol=0.1),
        CTL("shuffled_rho", "rho_ponder_hops", "the same with the hops shuffled", tol=0.05),
        CTL("untrained_rho", "rho_ponder_hops", "the untrained UT", tol=0.5),
        CTX("ponder_1", "mean ponder, 1-hop queries", tol=0.2),
        CTX("ponder_3", "mean ponder, 3-hop queries", tol=0.2),
    ])
report.claim(
    "C3", "Trained at length ≤ 40 and tested at ≤ 400, the UT beats the Transformer on copy, "
    "reverse and addition (character accuracy).",
    kind="empirical",
    paper="char-acc UT / Transformer / LSTM: copy .91/.53/.45, reverse .96/.13/.66, "
          "addition .34/.07/.08 (seq-acc .35/.03/.09, .46/.06/.11, .02/.00/.00)",
    checks=[
        E("copy_gap", ">=", 0.2, "UT − Transformer, copy, char-acc at test length", tol=0.5),
        E("reverse_gap", ">=", 0.2, "the same, reverse", tol=0.5),
        E("addition_gap", ">=", 0.2, "the same, addition", tol=0.5),
        CTL("untrained_copy_gap", "copy_gap", "untrained UT − Transformer, copy", tol=0.5),
    ],
    partial=["copy_gap", "reverse_gap"])
report.claim(
    "C4", "WMT14 En-De: 28.9 BLEU, 0.9 above the Transformer.", kind="empirical",
    paper="28.9 BLEU (Transformer base 28.0)",
    checks=[E("bleu", ">=", 28.9, "BLEU on newstest2014")],
    no_control="not run: WMT14 must be downloaded and needs days of accelerator time")
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## The Universal Transformer
#
# The state of a sequence of $L$ positions is a matrix $H^t \in \mathbb{R}^{L \times d}$; $H^0$
# holds the token embeddings. Before step $t$ the coordinate signal
# $P^t_{i,2j} = \sin(i/10000^{2j/d}) + \sin(t/10000^{2j/d})$ (cosines in the odd channels)
# is added, and one shared Transformer layer runs:
#
# $$A^t = H^{t-1} + P^t + \mathrm{MHSA}\big(\mathrm{LN}(H^{t-1} + P^t)\big), \qquad
#   H^t = A^t + \mathrm{FFN}\big(\mathrm{LN}(A^t)\big),$$
#
# and the output is $\mathrm{LN}(H^T)$. The paper writes the layer with LayerNorm *after* each
# residual sum; its code [C] normalises *before* (pre-LN), as we do. A Transformer with $T$
# layers is the same map with a different layer at every step and the position signal added
# once. In the library the pieces are `tr.Block` (one layer), `tr.Stack` (a Transformer) and
# `tr.UniversalTransformer` (one block applied $T$ times). Every module holds several
# independent models on a leading axis, so the seeds of an arm train as one model.
#
# **ACT.** After each step, position $i$ computes a halting probability
# $p^t_i = \sigma(w \cdot h^t_i + b)$ [R: the authors' code reads it from the step's input]. It
# halts at the first step $N_i$ at which $\sum_{t \le N_i} p^t_i$ would exceed $1 - \epsilon$
# (or at $T_{\max}$); its remainder is $R_i = 1 - \sum_{t < N_i} p^t_i$; its output is
# $\sum_t w^t_i h^t_i$ with $w^t_i = p^t_i$ before $N_i$ and $w^{N_i}_i = R_i$, weights that
# sum to one; a halted position's state is copied forward, so the others can still attend to
# it. The loss adds $\tau \cdot \mathrm{mean}_i (N_i + R_i)$, the ponder cost, with
# $\tau = 0.01$, $\epsilon = 0.01$ and $b = 1$ at initialisation [C].

# %%
class Reader(nn.Module):
    """Token embedding -> body (tr.Stack or tr.UniversalTransformer)
    -> classes read at the last position; S models on a leading axis."""

    def __init__(self, body, vocab, d, n_out, S, gen):
        super().__init__()
        self.ut = isinstance(body, tr.UniversalTransformer)
        # the UT adds its position signal at every step [C]
        self.emb = tr.Embedding(vocab, d, position=not self.ut,
                                models=S, gen=gen)
        self.body, self.head = body, tr.Linear(d, n_out, S, gen)

    def forward(self, x, steps=None):
        h = self.emb(x)
        y, info = (self.body(h, steps=steps) if self.ut
                   else (self.body(h), None))
        return self.head(y[:, :, -1]), info


# %% [markdown]
# ## k-hop pointer chasing
#
# A random cyclic permutation $\pi$ of $N$ nodes (one cycle through all of them) is listed as
# $N$ edge tokens $(i, \pi(i))$ in random order; a last token holds a start node $s$ and a
# number of hops $k \in \{1, \dots, K\}$. The answer is $\pi^k(s)$. One cycle, so that every
# hop moves: a random permutation has fixed points and short cycles, and a third of its 2- and
# 3-hop queries would be answered by copying the start [R]. One attention lookup (the edge whose source is the current node) makes
# one hop, so a one-layer Transformer can answer $k = 1$, and $k$ hops need $k$ layers, or $k$
# steps of a shared layer [R: the research notes' task].

# %%
NN, K = P["pc_nodes"], P["pc_hops"]
VOCAB = pointer.vocab_size(NN, K)  # edges, then (hops, start)


def pointer_chase(gen, count):
    """Tokens (count, N + 1), answers pi^k(s) (count,), hops k (count,):
    the book's generator (`rnnbook.pointer`) at this chapter's sizes."""
    return pointer.pointer_chase(gen, count, NN, K)


x_demo, y_demo, k_demo = pointer_chase(runtime.generator(0, 1), 2)
for x, y, k in zip(x_demo, y_demo, k_demo):
    pairs = [(int(t) // NN, int(t) % NN) for t in x[:-1]]
    start = (int(x[-1]) - NN * NN) % NN
    print(f"edges {pairs}, start {start}, {int(k)} hops -> {int(y)}")

# %% [markdown]
# Four arms, each with `S` seeds trained as one model on the same stream of fresh examples:
# the UT with $T = 4$ steps (C1), the same UT with ACT and at most 4 steps (C2), a one-layer
# and a four-layer Transformer. Width, heads and FFN width are the same in all of them, so the
# UT and the one-layer Transformer have exactly the same parameters (claim C0). The paper's
# algorithmic-task UT has no ACT either; ACT is the paper's addition for bAbI and LAMBADA.

# %%
d, H, FF, T = P["pc_d"], P["pc_heads"], P["pc_ff"], P["pc_steps"]


def chase_arms(tag):
    g = runtime.generator(ctx.seeds[0], tag)
    return {
        "UT": Reader(tr.UniversalTransformer(
            d, H, FF, steps=T, models=S, gen=g), VOCAB, d, NN, S, g),
        "UT (ACT)": Reader(tr.UniversalTransformer(
            d, H, FF, steps=T, act=True, halting_bias=HALT_BIAS,
            models=S, gen=g), VOCAB, d, NN, S, g),
        "1 layer": Reader(tr.Stack(d, H, 1, FF, models=S, gen=g),
                          VOCAB, d, NN, S, g),
        "4 layers": Reader(tr.Stack(d, H, 4, FF, models=S, gen=g),
                           VOCAB, d, NN, S, g),
    }


arms = {k: m.to(dev) for k, m in chase_arms(10).items()}
untrained = {k: m.to(dev) for k, m in chase_arms(10).items()
             if k.startswith("UT")}  # the UTs' own initialisations
n_par = {k: tr.n_params(m) // S for k, m in arms.items()}
print("parameters per model:", n_par)

# %%
def train_chaser(model, seed_tag):
    """Adam on cross-entropy (+ tau * ponder for the UT); fresh data."""
    gen = runtime.generator(ctx.seeds[0], seed_tag)
    opt = torch.optim.Adam(model.parameters(), P["pc_lr"])
    for _ in runtime.progress(range(P["pc_iters"])):
        x, y, _ = pointer_chase(gen, P["pc_batch"])
        logits, info = model(x.to(dev))
        loss = F.cross_entropy(logits.flatten(0, 1),
                               y.to(dev).repeat(S))
        if info is not None:
            loss = loss + TAU * info.ponder.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


t0 = time.process_time()
for model in arms.values():
    train_chaser(model, 20)
cpu_chase = time.process_time() - t0
print(f"trained {len(arms)} arms x {S} seeds: {cpu_chase:.1f} s CPU")

# %% [markdown]
# We test on fresh queries and record, per seed, the accuracy by number of hops and the UT's
# ponder time $N + R$ at the query position.

# %%
x_te, y_te, k_te = pointer_chase(runtime.generator(ctx.seeds[0], 30),
                                 P["pc_test"])


@torch.no_grad()
def evaluate(model, steps=None):
    """Accuracy by hops (S, K) and ponder at the query (S, n) or None."""
    logits, info = model(x_te.to(dev), steps=steps)
    ok = (logits.argmax(-1).cpu() == y_te).float()
    acc = torch.stack([ok[:, k_te == k].mean(1)
                       for k in range(1, K + 1)], 1)
    return acc, None if info is None else info.ponder[:, :, -1].cpu()


acc = {name: evaluate(m)[0] for name, m in arms.items()}
acc["UT, 1 step"] = evaluate(arms["UT"], steps=1)[0]
acc["UT untrained"] = evaluate(untrained["UT"])[0]
ponder = evaluate(arms["UT (ACT)"])[1]
ponder0 = evaluate(untrained["UT (ACT)"])[1]
for name, a in acc.items():
    print(f"{name:13s} accuracy by hops (mean of seeds):",
          a.mean(0).numpy().round(3))

# %% [markdown]
# The figure shows the accuracy by number of hops for every arm (left; dots are seeds), and
# the UT's ponder time at the query by number of hops (right).

# %% tags=["hide-input"]
fig, axs = plt.subplots(1, 2, figsize=(10, 3.4))
for c, (name, a) in zip(plots.COLORBLIND, acc.items()):
    ls = ":" if name in ("UT, 1 step", "UT untrained") else "-"
    axs[0].plot(range(1, K + 1), a.mean(0), ls, marker="o", color=c, label=name)
    for s in range(S):
        axs[0].plot(range(1, K + 1), a[s], ".", color=c, alpha=0.5)
axs[0].axhline(1 / NN, color="k", lw=0.8, ls="--")
axs[0].set(xlabel="hops k", ylabel="accuracy", xticks=range(1, K + 1), ylim=(0, 1.02), title=f"pointer chasing, N = {NN} ({ctx.profile})")
axs[0].legend(fontsize=7)
frame = pd.DataFrame({"hops": k_te.repeat(S).numpy(), "ponder N + R": ponder.flatten().numpy(), "seed": np.repeat(ctx.seeds, len(k_te))})
sns.violinplot(data=frame, x="hops", y="ponder N + R", hue="seed", ax=axs[1], cut=0, density_norm="width", inner="quart", palette="colorblind")
axs[1].set(title="ACT: ponder time at the query", ylim=(0, T + 1.5))
plt.show()

# %%
def spearman(a, b):
    """Spearman's rho; 0 when either side is constant (no ranking)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


shuffle = torch.randperm(len(k_te),
                         generator=runtime.generator(ctx.seeds[0], 40))
acc3 = {name: a[:, -1] for name, a in acc.items()}
report.measure(
    "C1",
    gain_over_1layer=acc3["UT"] - acc3["1 layer"],
    gap_to_4layer=acc3["UT"] - acc3["4 layers"],
    one_step_gain=acc3["UT, 1 step"] - acc3["1 layer"],
    untrained_gap=acc3["UT untrained"] - acc3["4 layers"],
    acc3_ut=acc3["UT"], acc3_1layer=acc3["1 layer"],
    acc3_4layer=acc3["4 layers"],
    note=f"{S} seeds, {P['pc_iters']} updates of {P['pc_batch']}; "
         f"N = {NN}, k ≤ {K}, T = {T}")  # fmt: skip
report.measure(
    "C2",
    rho_ponder_hops=[spearman(p, k_te) for p in ponder],
    ponder_3_minus_1=[float(p[k_te == K].mean() - p[k_te == 1].mean())
                      for p in ponder],
    shuffled_rho=[spearman(p, k_te[shuffle]) for p in ponder],
    untrained_rho=[spearman(p, k_te) for p in ponder0],
    ponder_1=[float(p[k_te == 1].mean()) for p in ponder],
    ponder_3=[float(p[k_te == K].mean()) for p in ponder],
)  # fmt: skip
runtime.glue("a33_acc3_ut", float(acc3["UT"].mean()))
runtime.glue("a33_acc3_act", float(acc3["UT (ACT)"].mean()))
runtime.glue("a33_acc2_ut", float(acc["UT"][:, 1].mean()))
runtime.glue("a33_acc2_1", float(acc["1 layer"][:, 1].mean()))
runtime.glue("a33_acc2_4", float(acc["4 layers"][:, 1].mean()))
runtime.glue("a33_acc3_1", float(acc3["1 layer"].mean()))
runtime.glue("a33_acc3_4", float(acc3["4 layers"].mean()))
runtime.glue("a33_rho",
             float(np.mean([spearman(p, k_te) for p in ponder])))
with torch.no_grad():  # ACT steps N at the query, per seed and query
    n_query = arms["UT (ACT)"](x_te.to(dev))[1].steps[:, :, -1].cpu()
runtime.glue("a33_halt1_k3",
             float((n_query[:, k_te == K] == 1).float().mean()))
runtime.glue("a33_ponder_k1", float(ponder[:, k_te == 1].mean()))
runtime.glue("a33_ponder_k3", float(ponder[:, k_te == K].mean()))
print(report.verdicts())

# %% [markdown]
# On 3-hop queries the UT answers {glue:text}`a33_acc3_ut:.2f` of the queries, the one-layer
# Transformer with the same parameters {glue:text}`a33_acc3_1:.2f` and the four-layer one
# {glue:text}`a33_acc3_4:.2f` (means over seeds; chance is 1/6). On 2-hop queries the three
# answer {glue:text}`a33_acc2_ut:.2f`, {glue:text}`a33_acc2_1:.2f` and
# {glue:text}`a33_acc2_4:.2f`. Within the `ci` budget (a few hundred updates) every model
# answers 1-hop queries, the four-layer Transformer learns the longer chains first, and the
# shared layer learns more slowly than the layers with their own weights: one set of weights has to make a hop at every step *and* leave the answer alone once
# the $k$ hops are done, which the four separate layers can split between them. The recurrent
# bias is a statement about what the model can represent and how it extrapolates; the
# miniature measures what it learns in a fixed, small number of updates. The `full` profile
# trains ten times longer.
#
# ACT does not save the UT here. Its ponder time is {glue:text}`a33_ponder_k1:.2f` on 1-hop
# and {glue:text}`a33_ponder_k3:.2f` on 3-hop queries (rank correlation with the hops
# {glue:text}`a33_rho:.2f`), and {glue:text}`a33_halt1_k3:.2f` of the 3-hop queries halt after
# the *first* step ($N = 1$, $R = 1$, ponder 2). The ponder cost pushes every halting
# probability up while the task's gradient on them is still weak; once a position halts at
# step 1 its later states get no weight and no gradient, and it stays there. Our reading (not
# measured separately): Adam makes the small $\tau$ no protection, since it rescales the
# halting unit's gradient to a full-size step whatever its scale.
# In probes before the final run (on an earlier version of the task, with random permutations
# instead of one cycle) the same happened with the halting bias started at −1 and −3 (long
# pondering at initialisation) instead of the authors' +1.
#
# ## The paper's algorithmic tasks (C3)
#
# The paper trains on copy, reverse and (decimal) addition with strings of length 1 to 40 and
# tests on strings of length 1 to 400, as the tensor2tensor problems do [C]: the input is a
# string of random digits (for addition, two little-endian numbers separated by `+`), the
# target the same string, its reverse, or the little-endian sum. We cast each task as a
# decoder-only language model over `input = target EOS` with a causal mask, and score the
# target tokens under teacher forcing, as tensor2tensor's accuracy metrics do [C; our reading
# of how the paper's numbers were computed]. The paper trains its models with position signals
# that start at a random offset, so that positions beyond the training length are not new
# [C]; we do the same, with offsets that cover the test length. The LSTM baseline reads the
# same sequence.

# %%
DIGITS, PLUS, EQ, EOS, PAD = 10, 10, 11, 12, 13
ALG_VOCAB = 14


def little_endian(gen, lengths):
    """Random numbers, little-endian digits (count, max len); no
    leading zero; PAD beyond each length."""
    n, m = len(lengths), int(lengths.max())
    dig = torch.randint(10, (n, m), generator=gen)
    top = torch.randint(1, 10, (n,), generator=gen)
    dig[torch.arange(n), lengths - 1] = top
    return dig.masked_fill(torch.arange(m) >= lengths[:, None], PAD)


def add_digits(a, b):
    """Little-endian sum of PAD-padded digit rows."""
    m = max(a.shape[1], b.shape[1]) + 1
    a = F.pad(a, (0, m - a.shape[1]), value=PAD)
    b = F.pad(b, (0, m - b.shape[1]), value=PAD)
    av, bv = a.where(a != PAD, 0), b.where(b != PAD, 0)
    out, carry = [], torch.zeros(len(a), dtype=torch.long)
    for i in range(m):
        s = av[:, i] + bv[:, i] + carry
        out.append(s % 10)
        carry = s // 10
    out = torch.stack(out, 1)
    used = ((out > 0) * torch.arange(1, m + 1)).amax(1)  # no leading 0
    return out.masked_fill(torch.arange(m) >= used[:, None], PAD)


def algorithmic(task, gen, count, max_len):
    """Token rows `input = target EOS` (PAD after), and the index of
    `=` per row. Lengths uniform in 1..max_len as tensor2tensor [C]."""
    if task == "addition":
        l1 = torch.randint(1, max(2, max_len // 2 + 1), (count,),
                           generator=gen).clamp(max=max(1, max_len - 2))
        l2 = (torch.rand(count, generator=gen)
              * (max_len - l1 - 1).clamp(min=1)).long() + 1
        a, b = little_endian(gen, l1), little_endian(gen, l2)
        rows = [torch.cat([ai[ai != PAD], torch.tensor([PLUS]),
                           bi[bi != PAD]]) for ai, bi in zip(a, b)]
        targets = [t[t != PAD] for t in add_digits(a, b)]
    else:
        lengths = torch.randint(1, max_len + 1, (count,), generator=gen)
        rows = [torch.randint(10, (int(n),), generator=gen)
                for n in lengths]
        targets = [r if task == "copy" else r.flip(0) for r in rows]
    seqs = [torch.cat([r, torch.tensor([EQ]), t, torch.tensor([EOS])])
            for r, t in zip(rows, targets)]
    width = max(len(s) for s in seqs)
    out = torch.full((count, width), PAD)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out, torch.tensor([len(r) for r in rows])


for task in ("copy", "reverse", "addition"):
    seq, eq = algorithmic(task, runtime.generator(0, 2), 1, 8)
    print(f"{task:8s}", " ".join("0123456789+=$"[t] for t in seq[0]
                                 if t != PAD))

# %% [markdown]
# The models: the UT with $T$ shared steps and a Transformer with the same width and
# `alg_layers` layers (tensor2tensor's `universal_transformer_tiny` and `transformer_tiny`
# sizes in `full` [C]), and a one-layer LSTM of the same width. All read the whole sequence
# causally and predict the next token.

# %%
class CausalLM(nn.Module):
    """Next-token logits (S, B, L, V) of a causal tr.Stack / tr.UT."""

    def __init__(self, body, d, S, gen):
        super().__init__()
        self.ut = isinstance(body, tr.UniversalTransformer)
        self.emb = tr.Embedding(ALG_VOCAB, d, position=not self.ut,
                                models=S, gen=gen)
        self.body, self.head = body, tr.Linear(d, ALG_VOCAB, S, gen)

    def forward(self, x, offset=0):
        h = self.emb(x, offset=0 if self.ut else offset)
        y = (self.body(h, causal=True, offset=offset)[0] if self.ut
             else self.body(h, causal=True))
        return self.head(y)


class LSTMLM(nn.Module):
    """S independent one-layer LSTM language models (a loop over S)."""

    def __init__(self, d, S):
        super().__init__()
        self.nets = nn.ModuleList(nn.ModuleDict(dict(
            emb=nn.Embedding(ALG_VOCAB, d),
            rnn=nn.LSTM(d, d, batch_first=True),
            head=nn.Linear(d, ALG_VOCAB))) for _ in range(S))

    def forward(self, x, offset=0):
        return torch.stack([n["head"](n["rnn"](n["emb"](x))[0])
                            for n in self.nets])


def alg_models(tag):
    g = runtime.generator(ctx.seeds[0], tag)
    torch.manual_seed(ctx.seeds[0] * 1000 + tag)  # the LSTMs' init
    da, ha = P["alg_d"], P["alg_heads"]
    return {
        "UT": CausalLM(tr.UniversalTransformer(
            da, ha, steps=P["alg_steps"], models=S, gen=g), da, S, g),
        "Transformer": CausalLM(tr.Stack(da, ha, P["alg_layers"],
                                         models=S, gen=g), da, S, g),
        "LSTM": LSTMLM(da, S),
    }


# %% [markdown]
# Training minimises the cross-entropy of the target tokens (after `=`, EOS included). At test
# time we report the character accuracy (target tokens predicted right) and the sequence
# accuracy (every target token right), on strings up to the test length.

# %%
MAX_POS = 2 * P["alg_test_len"] + 4  # longest test sequence


def target_mask(seq, eq):
    """Positions whose next token is a target token (S-independent)."""
    pos = torch.arange(seq.shape[1] - 1)
    return (pos >= eq[:, None]) & (seq[:, 1:] != PAD)


def alg_loss(model, seq, eq, offset):
    logits = model(seq[:, :-1].to(dev), offset=offset)
    mask = target_mask(seq, eq).to(dev)
    ce = F.cross_entropy(logits.flatten(0, 2), seq[:, 1:].to(dev)
                         .expand(logits.shape[0], -1, -1).flatten(),
                         reduction="none").view(mask.expand(
                             logits.shape[0], -1, -1).shape)
    return (ce * mask).sum() / mask.sum()


@torch.no_grad()
def alg_accuracy(model, seq, eq):
    """Per-seed char-acc and seq-acc (teacher forcing), in batches."""
    hits, counts, seq_ok = 0, 0, []
    for i in range(0, len(seq), 64):
        s, e = seq[i : i + 64], eq[i : i + 64]
        pred = model(s[:, :-1].to(dev)).argmax(-1).cpu()  # (S, B, L)
        mask = target_mask(s, e)
        right = (pred == s[:, 1:]) & mask
        hits = hits + right.sum((1, 2))
        counts += int(mask.sum())
        seq_ok.append(right.sum(2) == mask.sum(1))
    return (hits / counts).float(), torch.cat(seq_ok, 1).float().mean(1)


alg = {}
t0 = time.process_time()
for ti, task in enumerate(("copy", "reverse", "addition")):
    gen = runtime.generator(ctx.seeds[0], 50 + ti)
    models = {k: m.to(dev) for k, m in alg_models(60 + ti).items()}
    test = algorithmic(task, runtime.generator(ctx.seeds[0], 70 + ti),
                       P["alg_test"], P["alg_test_len"])
    alg[task, "UT untrained"] = alg_accuracy(models["UT"], *test)
    for name, model in models.items():
        opt = torch.optim.Adam(model.parameters(), P["alg_lr"])
        for _ in runtime.progress(range(P["alg_iters"])):
            seq, eq = algorithmic(task, gen, P["alg_batch"],
                                  P["alg_train_len"])
            offset = torch.randint(MAX_POS - seq.shape[1] + 1,
                                   (len(seq),), generator=gen).to(dev)
            loss = alg_loss(model, seq, eq, offset)
            opt.zero_grad()
            loss.backward()
            opt.step()
        alg[task, name] = alg_accuracy(model, *test)
cpu_alg = time.process_time() - t0
print(f"algorithmic tasks: {cpu_alg:.1f} s CPU")

# %% [markdown]
# The paper's table (its algorithmic-task table: train length 40, test length 400) beside
# ours. In `ci` ours are miniatures (length {glue:text}`a33_alg_train` for training,
# {glue:text}`a33_alg_test` for testing, a few updates): the code path runs, nothing is judged.

# %%
paper = {  # (char-acc, seq-acc), the paper's algorithmic table
    ("copy", "LSTM"): (0.45, 0.09), ("copy", "Transformer"): (0.53, 0.03),
    ("copy", "UT"): (0.91, 0.35), ("reverse", "LSTM"): (0.66, 0.11),
    ("reverse", "Transformer"): (0.13, 0.06),
    ("reverse", "UT"): (0.96, 0.46),
    ("addition", "LSTM"): (0.08, 0.00),
    ("addition", "Transformer"): (0.07, 0.00),
    ("addition", "UT"): (0.34, 0.02),
}  # fmt: skip
rows = []
for (task, name), (c, s) in paper.items():
    ours_c, ours_s = alg[task, name]
    rows.append(dict(task=task, model=name, paper_char=c, paper_seq=s,
                     ours_char=round(float(ours_c.mean()), 3),
                     ours_seq=round(float(ours_s.mean()), 3)))
runtime.glue("a33_alg_train", P["alg_train_len"])
runtime.glue("a33_alg_test", P["alg_test_len"])
pd.DataFrame(rows).set_index(["task", "model"])

# %%
gaps = {t: alg[t, "UT"][0] - alg[t, "Transformer"][0]
        for t in ("copy", "reverse", "addition")}
report.measure(
    "C3", copy_gap=gaps["copy"], reverse_gap=gaps["reverse"],
    addition_gap=gaps["addition"],
    untrained_copy_gap=(alg["copy", "UT untrained"][0]
                        - alg["copy", "Transformer"][0]),
    note=f"train length ≤ {P['alg_train_len']}, test ≤ "
         f"{P['alg_test_len']}, {P['alg_iters']} updates of "
         f"{P['alg_batch']}, {S} seeds")  # fmt: skip
if P["alg_iters"] < 1000:  # ci: a miniature of the code path
    report.untestable(
        "C3", f"ci trains {P['alg_iters']} updates at length ≤ "
        f"{P['alg_train_len']} and tests at ≤ {P['alg_test_len']} (the "
        "code path runs, not judged): the paper's lengths 40 / 400 need "
        "thousands of updates on sequences of up to 800 tokens, GPU "
        "minutes (full profile)")  # fmt: skip
report.untestable(
    "C4", "WMT14 En-De must be downloaded, and a Transformer-base-sized "
    "model trains for days on accelerators; the book builds offline on "
    "CPUs")  # fmt: skip
print(report.verdicts())

# %% [markdown]
# ## Versus the authors' code
#
# The UT lives in tensor2tensor (`models/research/universal_transformer.py` and
# `universal_transformer_util.py`). What we read there, and what we do:
#
# | | tensor2tensor | this chapter |
# |---|---|---|
# | layer | pre-LN (`layer_preprocess` "n", `layer_postprocess` "da"), final LN after the loop | pre-LN, final LN (the paper's equations write post-LN) |
# | signals | position signal (sinusoid) and step signal (`learned` by default, or sinusoid) added before every step | both sinusoids, $P^t = $ sin(position) + sin(step), as the paper's equation |
# | transition | FFN (`fc`) or separable convolution; one layer per step | FFN with ReLU, width $4d$ |
# | ACT: halting unit | $p = \sigma(w \cdot s + b)$ on the step's *input* $s$, $b = 1$ | on the step's *output* $h^t$ (Graves), $b = 1$ |
# | ACT: output | recurrence $s \leftarrow w\,h^t + (1 - w)\,s$ from $s = 0$ | the mean-field sum $\sum_t w^t h^t$ (the paper's text, Graves) |
# | ACT: halted positions | keep being transformed; their output is frozen | state copied forward (the paper's text) |
# | ACT: stopping | `while` loop until all halted or `act_max_steps` ($2 \times$ layers) | all $T_{\max}$ steps computed, masked |
# | ponder loss | $0.01 \cdot \mathrm{mean}(N + R)$, $\epsilon = 0.01$ | the same |
# | algorithmic data | lengths uniform in 1..40 (train), 1..400 (dev); addition little-endian | the same generators (rewritten), decoder-only instead of encoder-decoder |
# | positions | `position_start_index` (random offset) as an option | random offsets covering the test length |
# | metrics | teacher-forced `accuracy`, `accuracy_per_sequence` | the same (our reading) |
#
# ## Checks that do not depend on the run
#
# The sizes of the models, pointer-chasing answers against a plain walk, one addition,
# and the UT at $T = 1$ against a one-layer Transformer with the same weights.

# %% tags=["nbval-check-output"]
g0 = torch.Generator().manual_seed(0)
ut1 = tr.UniversalTransformer(8, 2, steps=1, models=1, gen=g0)
st1 = tr.Stack(8, 2, 1, models=1, gen=torch.Generator().manual_seed(0))
st1.blocks[0].load_state_dict(ut1.block.state_dict())
xs = torch.randn(1, 2, 5, 8, generator=g0)
print("UT at T = 1 is a one-layer Transformer (+ its signal):",
      torch.allclose(ut1(xs)[0], st1(xs + tr.coordinate_signal(5, 1, 8)),
                     atol=1e-6))
print("parameters per model (C0):",
      {k: tr.n_params(m) // S for k, m in chase_arms(10).items()})
print("parameters of the UT at T = 1 and T = 4:",
      tr.n_params(tr.UniversalTransformer(32, 2, 64, steps=1)),
      tr.n_params(tr.UniversalTransformer(32, 2, 64, steps=4)))
xs_, ys_, ks_ = pointer_chase(torch.Generator().manual_seed(5), 200)
walk_ok, one_cycle = True, True
for row, y, k in zip(xs_.tolist(), ys_.tolist(), ks_.tolist()):
    nxt = {t // NN: t % NN for t in row[:-1]}  # edges, then walk k hops
    node = (row[-1] - NN * NN) % NN
    for _ in range(k):
        node = nxt[node]
    walk_ok &= node == y
    node, length = nxt[0], 1
    while node != 0:
        node, length = nxt[node], length + 1
    one_cycle &= length == NN
print("answers match a plain walk:", walk_ok, "| one cycle:", one_cycle)
a_ = torch.tensor([[9, 9, 1]])  # 199, little-endian
b_ = torch.tensor([[3, PAD, PAD]])  # 3
print("199 + 3 (little-endian digits):", add_digits(a_, b_).tolist())

# %%
report.measure(
    "C0", extra_params=n_par["UT"] - n_par["1 layer"],
    steps_add_none=tr.n_params(tr.UniversalTransformer(d, H, FF, steps=1))
    - tr.n_params(tr.UniversalTransformer(d, H, FF, steps=T)),
    act_extra=n_par["UT (ACT)"] - n_par["UT"],
    ratio_4_layer=n_par["4 layers"] / n_par["UT"])  # fmt: skip
print(f"CPU: pointer chasing {cpu_chase:.1f} s, "
      f"algorithmic {cpu_alg:.1f} s")

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares `tol`, the absolute change a re-execution on another machine may show.
# We re-executed the chapter in the ci profile with 1 and 2 threads and with two other seed
# sets, {2, 3} and {4, 5} (`python -m rnnbook.runner variation a33 --seeds 2,3 --seeds 4,5`).
# The two thread paths gave identical values. We chose each `tol` at least as large as the
# change between seed sets, rounded up to a 1-2-5 step (a re-execution on another CPU may
# take another summation order, and a few hundred updates can amplify it), except for C3's
# miniature (0.5; not judged in ci). The table shows the declared `tol` beside the measured
# changes, and the verdicts seen in those runs.

# %%
report.tolerances("../../data/a33_variation.json")

# %% [markdown]
# ## Differences from the paper
#
# - **Pointer chasing is not in the paper.** It is the research notes' miniature for the
#   recurrent inductive bias: one lookup per hop, so depth is what the task needs. The paper's
#   evidence is bAbI, subject-verb agreement, LAMBADA, learning to execute and translation.
#   We list one cycle through all nodes rather than a random permutation [R], so that no
#   query is answered by copying its start.
# - **Scale (a miniature).** Width 32, 2 heads, FFN width 64, N = 6 nodes, up to 3 hops,
#   500 updates of 96 queries on one CPU core, 2 seeds trained as one model; the paper's
#   models have widths of 128 to 1024 and train for hundreds of thousands of updates. The
#   research notes planned 1,200 updates of 64 with 4 heads and T_max = 5 (about 75 s); on the
#   shared machine that did not fit the budget, and heads, FFN width and updates were cut
#   before the final run.
# - **C1 uses the UT without ACT** ($T = 4$), exactly parameter-matched to the one-layer
#   Transformer, as the paper's algorithmic-task UT; C2 uses the same UT with ACT.
# - **ACT details.** Our halting unit reads the step's output, the output is the mean-field
#   sum, and halted positions are copied forward (the paper's text and Graves); the authors'
#   code differs in these three points (table above). ACT's ponder cost and halting bias are
#   the authors' ($\tau = 0.01$, $b = 1$).
# - **Algorithmic tasks (C3).** Decoder-only (input, `=`, target) with teacher-forced metrics
#   instead of the paper's encoder-decoder; sizes after tensor2tensor's `*_tiny` settings in
#   `full`; in `ci` a few updates at lengths 6 / 12, not judged. The `full` profile has not
#   been executed for this version of the chapter (no GPU was available to us; our estimate
#   is 4-5 minutes on one GPU): C3 is "not testable" here, and the `full` numbers, once run,
#   are a small-budget reading of the paper's table, not its training schedule.
# - **Not tested.** WMT14 En-De (28.9 BLEU), LAMBADA and bAbI (downloads). The Turing
#   completeness of the UT "under certain assumptions" is a theoretical statement of the
#   paper, not reproduced here.
#
# ## References
#
# ```{footbibliography}
# ```
