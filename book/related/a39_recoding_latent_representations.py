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
# # A39 · Recoding latent sentence representations
#
# Ulmer {footcite}`ulmer2021recoding` (an MSc thesis) adds a correction step to an LSTM
# language model {footcite}`hochreiter1997long`: after each time step, the model computes an
# *error signal* $\delta_t$ from its own prediction, takes one gradient step on its hidden
# state against that signal, $\tilde h_t = h_t - \alpha\, \partial \delta_t / \partial h_t$,
# re-decodes its prediction from $\tilde h_t$ and carries $\tilde h_t$ on to the next step.
# The signals studied include the surprisal of the gold next token (supervised) and the
# predictive entropy across Monte Carlo dropout samples {footcite}`gal2016dropout`
# (unsupervised). The thesis concludes that the approach "is only able to produce minor
# improvements over the baseline".
#
# We train a small character-level LSTM on **docstrings of Python's standard library** (read
# from the local installation: a *substitute* for the thesis's Penn Treebank, a *miniature*
# model), and recode its hidden state at test time with the two signals. Everything is our
# own reconstruction [R]; the authors' code is compared at the end.

# %% [markdown]
# ```{admonition} Claims tested
# :class: tip
# - **C1** (construction) One recoding step lowers its own error signal: $\delta(\tilde h_t)
#   < \delta(h_t)$ at almost every position, for both signals.
# - **C2** With the unsupervised MC-dropout entropy signal, test perplexity moves **only
#   slightly** (the thesis's own near-null result: "only [...] minor improvements over the
#   baseline").
# - **C3** With the gold-token surprisal signal, perplexity "improves" a lot, **only because
#   the signal reads the target**: the same recoding towards a wrong (shuffled) "gold" token
#   does not improve it. This is **not a valid language-model evaluation**; it is shown as a
#   leakage demonstration.
# ```

# %% tags=["hide-cell"]
# Colab setup: install the book's library from GitHub (keeps Colab's own torch and numpy).
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rnnbook @ git+https://github.com/rnn-memory-book/rnn-memory-book@main"], check=True)

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from rnnbook import claims, languages, plots, runtime

ctx = runtime.setup(
    "a39", default_seeds={"ci": [0, 1], "full": [0, 1, 2, 3, 4]}
)
plots.use_style()
dev = ctx.device
print(ctx.describe())

# %% tags=["parameters"]
# Sizes only: both profiles run the same code.
P = ctx.pick(
    ci=dict(emb=32, hidden=128, steps=300, batch=32, seq=64, lr=3e-3,
            streams=32, test_len=120, mc=8),
    full=dict(emb=64, hidden=512, steps=4000, batch=64, seq=128,
              lr=2e-3, streams=128, test_len=400, mc=10),
)  # fmt: skip
# Constants (not sizes) [R]: dropout, the relative step sizes rho of the
# sweep and the judged one.
DROPOUT = 0.3
RHOS = [0.03, 0.1, 0.3]
RHO = 0.1
S = len(ctx.seeds)

# %% [markdown]
# All claims are declared here, before any experiment runs.
#
# - **Step size.** The thesis uses a fixed step $\alpha$ (0.001 in its MC-dropout
#   configuration, for a 650-unit model on word-level text); that number does not transfer to
#   our model. We fix instead the *relative* size of the step: for each signal, $\alpha$ is
#   set on validation text so that the median step $\|\alpha g\|$ is $\rho$ = 0.1 of the
#   median $\|h\|$. A sweep over $\rho \in \{0.03, 0.1, 0.3\}$ is shown, judged only at 0.1.
# - **C1 is a construction**: a small gradient step on $\delta$ lowers $\delta$ to first
#   order. Rule: $\delta$ lower after the step at $\ge$ 95 % of positions (the research
#   notes' rule), for each signal at $\rho$ = 0.1.
# - **C2** "only slightly": the thesis's improvements are "minor"; we fix
#   $|\mathrm{ppl}_\text{recoded}/\mathrm{ppl}_\text{base} - 1| \le 0.03$ (mean over seeds)
#   and report the sign. The control must fail the same rule: the **gold-surprisal** recoding
#   at the same relative step size. It shows that a step of this size *can* move perplexity
#   when the signal carries information, so a small change is not a dead mechanism.
# - **C3** the leak: gold-surprisal recoding lowers "perplexity" by at least 10 %
#   (ratio $\le 0.9$, research notes). Control: the same recoding with the "gold" tokens
#   shuffled across positions (a wrong target of the same distribution) must fail it.

# %% tags=["hide-input"]
# fmt: off
report = claims.Report(ctx, title="Recoding latent sentence representations")
ev, ctl, ctx_ = claims.evidence, claims.control, claims.context
report.claim(
    "C1", "One gradient step on the hidden state lowers the error signal it was taken on "
    "(MC-dropout entropy and gold surprisal).", kind="construction",
    paper="the recoding step is one gradient-descent step on δ (thesis; code: mechanism.py)",
    checks=[
        ev("lower_mcd", ">=", 0.95, "share of positions where δ falls, MC dropout",
           over="min", tol=0.02),
        ev("lower_gold", ">=", 0.95, "share of positions where δ falls, gold surprisal",
           over="min", tol=0.02),
    ])
report.claim(
    "C2", "With the unsupervised MC-dropout entropy signal, test perplexity moves only "
    "slightly (|relative change| ≤ 3 %).", kind="empirical",
    paper="\"only [...] minor improvements over the baseline\" (abstract)",
    checks=[
        ev("mcd_abs_change", "<=", 0.03, "|ppl recoded / ppl base − 1|, MC dropout",
           tol=0.02),
        ctl("gold_abs_change", "mcd_abs_change",
            "the same for gold surprisal (informative signal)", tol=0.1),
        ctx_("mcd_ratio", "ppl recoded / ppl base, MC dropout (sign)", tol=0.02),
        ctx_("ppl_base", "test perplexity per character, no recoding", tol=0.3),
    ])
report.claim(
    "C3", "Gold-surprisal recoding lowers perplexity only by reading the target: with a "
    "shuffled 'gold' token it does not (NOT a valid LM evaluation).", kind="empirical",
    paper="surprisal recoding uses the gold token (code: perplexity.py)",
    checks=[
        ev("gold_ratio", "<=", 0.9, "ppl recoded / ppl base, gold surprisal", tol=0.05),
        ctl("shuffled_ratio", "gold_ratio", "the same with shuffled 'gold' tokens",
            tol=0.1),
    ])
# fmt: on

# %%
report.preregistration()

# %% [markdown]
# ## Substitute data: standard-library docstrings
#
# The text is the docstrings of 40 standard-library modules and of their public functions and
# classes, read with `inspect` from the installed Python (so it can differ slightly between
# Python versions). It is lower-cased, whitespace is collapsed, digits become `0` and rare
# symbols `#`: a vocabulary of about 40 characters. The first 90 % is training text, the
# next 5 % validation (used only to set $\alpha$), the last 5 % test.

# %%
MODS = ["collections", "json", "textwrap", "string", "functools",
        "itertools", "argparse", "csv", "pathlib", "logging", "random",
        "statistics", "heapq", "bisect", "datetime", "decimal",
        "fractions", "shutil", "tempfile", "unittest", "difflib", "pprint",
        "enum", "dataclasses", "typing", "contextlib", "calendar",
        "zipfile", "tarfile", "email", "http.client", "urllib.parse",
        "ftplib", "smtplib", "sqlite3", "threading", "subprocess",
        "socket", "optparse", "configparser"]


def stdlib_text(mods):
    """Docstrings of modules and their public members, in a fixed
    order, normalised to a small character set [R]
    (`rnnbook.languages`, shared with A32's source text)."""
    return languages.stdlib_docstrings(mods)


text = stdlib_text(MODS)
chars = sorted(set(text))
ids = torch.tensor([chars.index(ch) for ch in text])
V, n = len(chars), len(ids)
train_ids = ids[: int(0.9 * n)]
val_ids = ids[int(0.9 * n): int(0.95 * n)]
test_ids = ids[int(0.95 * n):]
print(f"{n} characters, vocabulary {V}; train {len(train_ids)}, "
      f"validation {len(val_ids)}, test {len(test_ids)}")
print(repr(text[:160]))

# %% [markdown]
# ## The language model
#
# One LSTM layer (`torch.nn.LSTM`), an embedding, and dropout on the hidden state before the
# linear decoder, the place where the thesis's MC-dropout signal puts its dropout masks.
# Trained with Adam on random windows of the training text, one model per seed.

# %%
class CharLSTM(torch.nn.Module):
    def __init__(self, V, emb, hidden):
        super().__init__()
        self.emb = torch.nn.Embedding(V, emb)
        self.lstm = torch.nn.LSTM(emb, hidden, batch_first=True)
        self.dec = torch.nn.Linear(hidden, V)

    def forward(self, x, state=None, gen=None):
        h, state = self.lstm(self.emb(x), state)
        if gen is not None:  # training-time dropout with our generator
            keep = torch.rand(h.shape, generator=gen,
                              device=h.device) > DROPOUT
            h = h * keep / (1 - DROPOUT)
        return self.dec(h), state


def train_lm(seed):
    torch.manual_seed(seed)
    model = CharLSTM(V, P["emb"], P["hidden"]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=P["lr"])
    g = runtime.generator(seed, 1, dev)
    L = P["seq"]
    src = train_ids.to(dev)
    for _ in range(P["steps"]):
        i = torch.randint(0, len(src) - L - 1, (P["batch"],),
                          generator=g, device=dev)
        w = src[i[:, None] + torch.arange(L + 1, device=dev)]
        logits, _ = model(w[:, :-1], gen=g)
        loss = F.cross_entropy(logits.reshape(-1, V), w[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()


models = [train_lm(s) for s in ctx.seeds]
print("trained", S, "models")

# %% [markdown]
# ## The recoding step
#
# At step $t$ the LSTM reads character $x_t$ and gives $(h_t, c_t)$; the decoder's
# distribution $p(\cdot \mid h_t)$ predicts $x_{t+1}$. The two error signals are
#
# - **MC dropout** (unsupervised): $K$ dropout masks $m_k$ on $h_t$, the mean prediction
#   $\bar p = \frac1K \sum_k \mathrm{softmax}(W(m_k \odot h_t) + b)$, and its entropy
#   $\delta = -\sum_v \bar p_v \log \bar p_v$;
# - **gold surprisal** (reads the target): $\delta = -\log p(x_{t+1} \mid h_t)$.
#
# Then $\tilde h_t = h_t - \alpha\, \partial\delta/\partial h_t$, the prediction of $x_{t+1}$
# is re-decoded from $\tilde h_t$ (without dropout) and $(\tilde h_t, c_t)$, detached, is the
# state for step $t+1$. We step only $h_t$ and leave the cell state $c_t$ as it is; the
# authors' code also steps $c_t$, along $\partial\delta/\partial c_t$ (nonzero, since
# $h_t = o_t \odot \tanh c_t$), which changes the future states but not the re-decoded
# prediction. All arms (no recoding; MC dropout, gold, shuffled gold at each
# $\rho$) run side by side as one batch of independent streams; the test text is cut into
# {glue:text}`a39_streams` streams of {glue:text}`a39_test_len` characters.

# %%
def streams(ids_, B, T):
    """B contiguous streams of T + 1 characters."""
    return ids_[: B * (T + 1)].reshape(B, T + 1)


def signals(model, h, y, masks):
    """Per-row error signals at hidden states h (N, H): MC-dropout
    predictive entropy with fixed masks (K, N, H), and the surprisal of
    the 'gold' tokens y (N,)."""
    probs = F.softmax(model.dec(masks * h[None]), -1).mean(0)
    ent = -(probs * probs.clamp_min(1e-12).log()).sum(-1)
    sur = F.cross_entropy(model.dec(h), y, reduction="none")
    return ent, sur


def run_arms(model, x, alphas, kinds, shuffle_gen, seed):
    """Run every arm on the streams x (B, T + 1). kinds: per arm 'none',
    'mcd', 'gold' or 'shuf'; alphas: per-arm step size. Returns the
    per-arm mean NLL of the next character and the share of positions
    where the step lowered the arm's own signal."""
    A, (B, T1) = len(kinds), x.shape
    xin = x.repeat(A, 1)
    kind = np.repeat(np.array(kinds), B)
    alpha = torch.tensor(np.repeat(alphas, B), dtype=torch.float32)
    alpha = alpha[:, None].to(dev)
    use_mcd = torch.tensor(kind == "mcd", device=dev)
    is_shuf = torch.tensor(kind == "shuf", device=dev)
    g = runtime.generator(seed, 7, dev)
    state, nll, lower = None, 0.0, 0.0
    recode = torch.tensor(kind != "none", device=dev)
    for t in range(T1 - 1):
        y = xin[:, t + 1]
        # wrong 'gold': the target of a random other position/stream
        y_shuf = x[torch.randint(0, B, (B,), generator=shuffle_gen,
                                 device=dev),
                   torch.randint(0, T1, (B,), generator=shuffle_gen,
                                 device=dev)]
        y_sig = torch.where(is_shuf, y_shuf.repeat(A), y)
        with torch.no_grad():
            _, (h, c) = model.lstm(model.emb(xin[:, t: t + 1]), state)
        h = h[0].detach().requires_grad_()
        masks = (torch.rand((P["mc"], *h.shape), generator=g,
                            device=dev) > DROPOUT) / (1 - DROPOUT)
        ent, sur = signals(model, h, y_sig, masks)
        delta = torch.where(use_mcd, ent, sur)
        (grad,) = torch.autograd.grad(delta.sum(), h)
        with torch.no_grad():
            h_new = torch.where(recode[:, None], h - alpha * grad, h)
            ent2, sur2 = signals(model, h_new, y_sig, masks)
            d2 = torch.where(use_mcd, ent2, sur2)
            lower = lower + (d2 < delta).float()
            nll = nll + F.cross_entropy(model.dec(h_new), y,
                                        reduction="none")
        state = (h_new[None].detach(), c.detach())
    nll = (nll / (T1 - 1)).reshape(A, B).mean(1)
    lower = (lower / (T1 - 1)).reshape(A, B).mean(1)
    return nll.cpu().numpy(), lower.cpu().numpy()


def grad_norms(model, x, seed):
    """Median |h| and median |dδ/dh| of both signals on the
    unrecoded trajectory of x (validation text)."""
    B, T1 = x.shape
    g = runtime.generator(seed, 8, dev)
    state, hn, gn = None, [], {"mcd": [], "gold": []}
    for t in range(T1 - 1):
        with torch.no_grad():
            _, (h, c) = model.lstm(model.emb(x[:, t: t + 1]), state)
        state = (h, c)
        h = h[0].requires_grad_()
        masks = (torch.rand((P["mc"], *h.shape), generator=g,
                            device=dev) > DROPOUT) / (1 - DROPOUT)
        ent, sur = signals(model, h, x[:, t + 1], masks)
        for k, d in (("mcd", ent), ("gold", sur)):
            (gr,) = torch.autograd.grad(d.sum(), h, retain_graph=True)
            gn[k].append(gr.norm(dim=-1))
        hn.append(h.detach().norm(dim=-1))
    med = {k: float(torch.cat(v).median()) for k, v in gn.items()}
    return float(torch.cat(hn).median()), med


x_val = streams(val_ids, P["streams"] // 2, P["test_len"]).to(dev)
x_test = streams(test_ids, P["streams"], P["test_len"]).to(dev)
kinds, rhos = ["none"], [0.0]
for r in RHOS:
    kinds += ["mcd", "gold", "shuf"]
    rhos += [r] * 3
res = []
for s, model in zip(ctx.seeds, models):
    h_med, g_med = grad_norms(model, x_val, s)
    # alpha so that the median step is rho * median |h| (gold's alpha
    # is used for the shuffled arm too)
    alphas = [0.0] + [
        r * h_med / g_med["mcd" if k == "mcd" else "gold"]
        for k, r in zip(kinds[1:], rhos[1:])]
    nll, lower = run_arms(model, x_test, alphas, kinds,
                          runtime.generator(s, 9, dev), s)
    res.append(dict(nll=nll, lower=lower, alphas=alphas))
ppl = np.exp(np.array([r["nll"] for r in res]))  # (S, arms)
ratio = ppl / ppl[:, :1]
low = np.array([r["lower"] for r in res])


def arm(k, r=RHO):
    return next(i for i, (kk, rr) in enumerate(zip(kinds, rhos))
                if kk == k and rr == r)


print(f"{'arm':>6} {'rho':>5} " + " ".join(
    f"{'ppl s' + str(s):>9}" for s in ctx.seeds) + f" {'ratio':>7}")
for i, (k, r) in enumerate(zip(kinds, rhos)):
    print(f"{k:>6} {r:5.2f} " + " ".join(f"{v:9.3f}" for v in ppl[:, i])
          + f" {ratio[:, i].mean():7.3f}")

# %%
c1 = dict(lower_mcd=low[:, arm("mcd")].tolist(),
          lower_gold=low[:, arm("gold")].tolist())
report.measure("C1", c1)
c2 = dict(mcd_abs_change=np.abs(ratio[:, arm("mcd")] - 1).tolist(),
          gold_abs_change=np.abs(ratio[:, arm("gold")] - 1).tolist(),
          mcd_ratio=ratio[:, arm("mcd")].tolist(),
          ppl_base=ppl[:, 0].tolist())
report.measure("C2", c2)
c3 = dict(gold_ratio=ratio[:, arm("gold")].tolist(),
          shuffled_ratio=ratio[:, arm("shuf")].tolist())
report.measure("C3", c3)
print(c1, c2, c3, sep="\n")
runtime.glue("a39_streams", P["streams"])
runtime.glue("a39_test_len", P["test_len"])
runtime.glue("a39_ppl_base", f"{ppl[:, 0].mean():.2f}")
runtime.glue("a39_mcd_pct",
             f"{100 * (ratio[:, arm('mcd')].mean() - 1):+.2f} %")
runtime.glue("a39_gold_pct",
             f"{100 * (ratio[:, arm('gold')].mean() - 1):+.1f} %")
runtime.glue("a39_mcd_sweep", ", ".join(
    f"{100 * (ratio[:, arm('mcd', r)].mean() - 1):+.1f} %" for r in RHOS))
runtime.glue("a39_shuf_pct",
             f"{100 * (ratio[:, arm('shuf')].mean() - 1):+.1f} %")

# %% [markdown]
# ```{warning}
# The gold-surprisal arm is **not a valid language-model evaluation**: its error signal is
# computed from the very token whose probability is then scored, so the step moves the
# hidden state towards the answer. Its "perplexity" is a leakage demonstration, not a result.
# ```
#
# The recoding step lowers its own signal (C1). With the MC-dropout entropy signal the
# test perplexity per character ({glue:text}`a39_ppl_base` without recoding) changes by
# {glue:text}`a39_mcd_pct` at $\rho$ = 0.1 (C2); with the gold token it falls by
# {glue:text}`a39_gold_pct`, and with a shuffled "gold" token it changes by
# {glue:text}`a39_shuf_pct` (C3). The figure shows the whole sweep over the relative step
# size, seeds as points.
#
# **Reading C2.** Over the sweep $\rho$ = 0.03, 0.1, 0.3 the MC-dropout arm changes perplexity
# by {glue:text}`a39_mcd_sweep` (mean over seeds). Descending the predictive entropy sharpens
# the averaged prediction towards whichever character the model already favours; where that
# character is wrong, the right one loses probability. In our miniature the smallest step
# changes perplexity by a fraction of a percent, of the size and sign of the thesis's "minor
# improvements", and larger steps make it worse, fast; whether the judged step
# ($\rho$ = 0.1, fixed before the first run) stays within the declared 3 % is the verdict in
# the table below, and we do not move the judged step after seeing the sweep. The thesis's
# models were *trained* with the recoding in the loop; a model trained without it, as here,
# has no reason to benefit from a step it never saw [R]. The shuffled-target arm shows what the gold arm's gain is made of: the same
# step towards a wrong token makes perplexity worse, so the gold arm's gain comes from the
# target it reads, not from the step itself.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for j, (k, lab) in enumerate([("mcd", "MC-dropout entropy"),
                              ("gold", "gold surprisal (leaks the target)"),
                              ("shuf", "shuffled 'gold' (control)")]):
    idx = [arm(k, r) for r in RHOS]
    for si in range(S):
        ax.plot(RHOS, ratio[si, idx], "o-", color=plots.COLORBLIND[j], alpha=0.8,
                label=lab if si == 0 else None)
ax.axhline(1.0, color="k", lw=0.8)
ax.axhspan(0.97, 1.03, color="0.85", zorder=0, label="|change| ≤ 3 % (C2 rule)")
ax.set(xscale="log", xlabel="relative step size ρ = |α g| / |h| (median)",
       ylabel="ppl recoded / ppl base", title="test-time recoding (miniature, substitute data)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Checks that do not depend on the run
#
# The surprisal signal's gradient has the closed form $W^\top(p - e_y)$; the MC-dropout
# entropy with all masks equal to one is the entropy of the plain prediction; and a step of
# size zero leaves the state unchanged.

# %% tags=["nbval-check-output"]
gt = torch.Generator().manual_seed(0)
m0 = CharLSTM(7, 4, 5).double()
h0 = torch.randn(3, 5, generator=gt, dtype=torch.float64)
y0 = torch.tensor([1, 4, 6])
hh = h0.clone().requires_grad_()
ent0, sur0 = signals(m0, hh, y0, torch.ones(2, 3, 5, dtype=torch.float64))
(g_auto,) = torch.autograd.grad(sur0.sum(), hh)
p0 = F.softmax(m0.dec(h0), -1)
g_closed = (p0 - F.one_hot(y0, 7)) @ m0.dec.weight
print("surprisal gradient = W^T (p - e_y):",
      torch.allclose(g_auto, g_closed))
print("entropy with unit masks = plain entropy:", torch.allclose(
    ent0, -(p0 * p0.log()).sum(-1)))
print("vocabulary characters:", V > 20)

# %%
report.table()

# %%
print(report.write().name)

# %% [markdown]
# ## How the tolerances were obtained
#
# Every check declares a `tol`: how far its value may move when the chapter is re-executed on
# another CPU or with another thread count. We re-executed the ci profile with 1 and 2 threads
# (seeds 0–1) and with two other seed sets (2–3 and 4–5), and chose each `tol` at least the
# change between thread paths and the change between seed sets. The table shows the changes beside the declared `tol` and
# every verdict seen.

# %%
report.tolerances("../../data/a39_variation.json")

# %% [markdown]
# ## Versus the authors' code
#
# We read `Kaleidophon/tenacious-toucan` (commit `6443bea`, April 2020; `src/recoding/`,
# `configs/`) to compare; nothing was copied.
#
# | | authors' code | this chapter |
# |---|---|---|
# | model | 2-layer LSTM, 650 units, word-level (PTB, Wikitext-2) | 1-layer LSTM, 128 units (ci), characters of stdlib docstrings |
# | recoding | $h \leftarrow h - \alpha\,\partial\delta/\partial h$ on $h$ and $c$ of every layer, then re-decode; states passed on | the same on $h$ only ($c$ is not stepped), re-decode, pass on detached |
# | step size | fixed (0.001 in the MC-dropout config), learned, or predicted by an MLP | fixed per signal from a relative size $\rho$ set on validation text |
# | MC-dropout signal | 10 masks, $p$ = 0.21, on the top hidden state; entropy of the mean prediction plus a prior term, summed over the batch | 8 masks, $p$ = 0.3, entropy of the mean prediction, no prior term (it has no gradient in $h$) |
# | surprisal signal | surprisal of the gold token (`perplexity.py`) | the same, plus a shuffled-target control |
# | when | during training and at test time | at test time only, on a model trained without recoding |
# | other signals | Bayes-by-backprop, anchored ensembles | not reproduced |
#
# ## Differences from the paper
#
# - **Test-time recoding only.** The thesis trains its models with the recoding step in the
#   loop; we train one plain LSTM per seed and apply the step at test time, which isolates
#   the mechanism but is not the thesis's protocol. A model trained with recoding might use
#   it differently.
# - **Substitute data, miniature.** Characters of standard-library docstrings instead of Penn
#   Treebank words; 128 hidden units and 300 training steps in ci (full: 512 units, 4,000
#   steps; not yet executed: no GPU was available for this version).
# - **Paper numbers.** Only the thesis's abstract and code were available to us, not its
#   tables; its result is quoted in words ("only [...] minor improvements over the
#   baseline"), and our rules for "minor" (3 %) and for the leak (10 %) are the research
#   notes', fixed before the first run.
# - **Step size** is set per signal by a relative size on validation text, not the
#   thesis's absolute $\alpha$ (see the declarations).
#
# ## References
#
# ```{footbibliography}
# ```
