"""Training a stack of RNNs on the variable-binding tasks, each model on its own schedule.

Introduced in A01. :func:`fit` trains all ``S`` models of a :class:`~rnnbook.models.BatchedElmanRNN`
in one forward/backward pass per step. Everything that makes a model's run its own is kept
per model, so model ``i`` ends exactly where it would end if it were trained alone:

- the loss is the *sum* of per-model mean squared errors, so model ``i`` gets its own gradient;
- gradient-norm clipping and weight decay are applied per model;
- Adam is elementwise (:class:`StackedAdam`), so one optimizer over stacked tensors is ``S``
  independent Adams;
- the curriculum (horizons, e.g. 10 -> 20 -> 40) advances per model when that model's batch
  accuracy reaches ``threshold``; shorter horizons are padded and masked;
- a model that reaches ``target`` accuracy at the last horizon stops: it is frozen and no
  longer computed;
- each model draws its data from its own generator (seeded by ``data_seeds[i]``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.models import BatchedElmanRNN
from rnnbook.runtime import progress
from rnnbook.tasks import variable_binding_batch


class StackedAdam:
    """Adam (``torch.optim.Adam`` formulas, no weight decay) over stacked per-model parameters.

    ``step(active)`` moves only the models whose entry of ``active`` (bool ``(S,)``) is true.

    Introduced in A01.
    """

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:
        b1, b2 = self.betas
        self.t += 1
        bc1, bc2_sqrt = 1 - b1**self.t, math.sqrt(1 - b2**self.t)
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            g = p.grad
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            update = m / (v.sqrt() / bc2_sqrt + self.eps) * (self.lr / bc1)
            if active is not None:
                update *= active.to(update.dtype).view(-1, *([1] * (p.dim() - 1)))
            p.sub_(update)


def clip_per_model(params: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale each model's gradient to norm at most ``max_norm`` (like ``clip_grad_norm_``, per model).

    Returns the per-model gradient norms before clipping, shape ``(S,)``.

    Introduced in A01.
    """
    sq = sum(p.grad.pow(2).flatten(1).sum(1) for p in params)
    norms = sq.sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef.view(-1, *([1] * (p.dim() - 1))))
    return norms


def masked_metrics(o: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model MSE and bit accuracy (``sign(o) == y``) over the masked output phase, each ``(S,)``.

    Introduced in A01.
    """
    m = mask[:, None, :, None].to(o.dtype)  # (S, 1, T, 1)
    count = m.sum((1, 2, 3)) * o.shape[1] * o.shape[3]
    mse = ((o - y).pow(2) * m).sum((1, 2, 3)) / count
    acc = ((torch.sign(o) == y).to(o.dtype) * m).sum((1, 2, 3)) / count
    return mse, acc


@dataclass
class FitResult:
    """Per-model histories of a :func:`fit` run (rows: steps, columns: models; NaN/0 once frozen).

    Introduced in A01.
    """

    loss: np.ndarray  # batch MSE
    accuracy: np.ndarray  # batch bit accuracy
    grad_norm: np.ndarray  # gradient norm before clipping
    horizon: np.ndarray  # curriculum horizon (0 once stopped)
    steps_to_target: np.ndarray  # (S,), the step at which the target was hit, -1 if never
    stage: np.ndarray  # (S,), final curriculum stage
    seconds: float

    @property
    def steps(self) -> int:
        return self.loss.shape[0]


def fit(
    model: BatchedElmanRNN,
    F: np.ndarray | torch.Tensor,
    d: int,
    s: int,
    *,
    data_seeds: Sequence[int],
    steps: int,
    lr: float = 1e-3,
    batch: int = 64,
    horizons: Sequence[int] = (10, 20, 40),
    threshold: float = 0.96,
    clip: float = 1.0,
    weight_decay: float | Sequence[float] | torch.Tensor = 0.0,
    target: float | None = None,
    target_loss: float | None = None,
    patience: int = 1,
) -> FitResult:
    """Train the stack in place on operators ``F`` (``(S, s*d, d)``) with Adam, MSE on the output phase.

    ``weight_decay`` is one value or one per model (L2 added to the clipped gradient, as in
    ``torch.optim.Adam(weight_decay=...)``). With ``target`` (bit accuracy) and/or ``target_loss``
    (MSE), a model stops (is frozen) once its batch at the last horizon has met every given
    target (accuracy ``>= target``, MSE ``<= target_loss``) for ``patience`` consecutive steps;
    ``steps_to_target`` records that step. Training ends when all models have stopped or after
    ``steps`` steps.

    Introduced in A01.
    """
    params = [model.W_hh, model.W_ih, model.W_hy]
    dev, dtype = model.W_hh.device, model.W_hh.dtype
    S = model.n_models
    Fs = (
        (F.detach().cpu() if isinstance(F, torch.Tensor) else torch.as_tensor(np.asarray(F))).double().numpy()
    )
    if Fs.shape != (S, s * d, d) or len(data_seeds) != S:
        raise ValueError(f"need {S} operators of shape ({s * d}, {d}) and {S} data seeds")
    wd = torch.as_tensor(weight_decay, dtype=dtype, device=dev).expand(S).clone()
    gens = [torch.Generator().manual_seed(int(seed)) for seed in data_seeds]
    opt = StackedAdam(params, lr=lr)
    stage = np.zeros(S, dtype=int)
    active = np.ones(S, dtype=bool)
    hit = np.full(S, -1)
    streak = np.zeros(S, dtype=int)
    hist = {k: np.full((steps, S), np.nan) for k in ("loss", "accuracy", "grad_norm")}
    hist_h = np.zeros((steps, S), dtype=int)
    start, last = time.perf_counter(), len(horizons) - 1
    n_done = 0
    for step in progress(range(steps), desc=f"training {S} models"):
        idx = np.flatnonzero(active)
        hz = [horizons[stage[i]] for i in idx]
        x, y, mask = variable_binding_batch(
            Fs[idx], d, s, hz, batch, [gens[i] for i in idx], dtype=dtype, device=dev
        )
        o, _ = model(x, models=torch.as_tensor(idx, device=dev))
        mse, acc = masked_metrics(o, y, mask)
        for p in params:
            p.grad = None
        mse.sum().backward()
        acc_np, mse_np = acc.detach().cpu().numpy(), mse.detach().cpu().numpy()
        hist["loss"][step, idx], hist["accuracy"][step, idx], hist_h[step, idx] = mse_np, acc_np, hz
        if target is not None or target_loss is not None:
            good = stage[idx] == last
            if target is not None:
                good &= acc_np >= target
            if target_loss is not None:
                good &= mse_np <= target_loss
            streak[idx] = np.where(good, streak[idx] + 1, 0)
            done = idx[streak[idx] >= patience]
            hit[done], active[done] = step + 1, False
        norms = clip_per_model(params, clip)
        hist["grad_norm"][step, idx] = norms.detach().cpu().numpy()[idx]
        with torch.no_grad():
            for p in params:
                p.grad.add_(p * wd.view(-1, *([1] * (p.dim() - 1))))
        opt.step(torch.as_tensor(active, device=dev))
        stage[idx] += (acc_np >= threshold) & (stage[idx] < last)
        n_done = step + 1
        if not active.any():
            break
    return FitResult(
        loss=hist["loss"][:n_done],
        accuracy=hist["accuracy"][:n_done],
        grad_norm=hist["grad_norm"][:n_done],
        horizon=hist_h[:n_done],
        steps_to_target=hit,
        stage=stage,
        seconds=time.perf_counter() - start,
    )


@torch.no_grad()
def bit_accuracy(
    model: BatchedElmanRNN,
    F: np.ndarray | torch.Tensor,
    d: int,
    s: int,
    *,
    horizon: int,
    data_seeds: Sequence[int],
    batches: int = 10,
    batch: int = 64,
) -> np.ndarray:
    """Held-out bit accuracy of every model over ``horizon`` output steps, shape ``(S,)``.

    Use ``data_seeds`` different from the training ones (a separate generator per model).

    Introduced in A01.
    """
    dev, dtype = model.W_hh.device, model.W_hh.dtype
    gens = [torch.Generator().manual_seed(int(seed)) for seed in data_seeds]
    total = torch.zeros(model.n_models, dtype=torch.float64)
    for _ in range(batches):
        x, y, mask = variable_binding_batch(F, d, s, horizon, batch, gens, dtype=dtype, device=dev)
        o, _ = model(x)
        total += masked_metrics(o, y, mask)[1].double().cpu()
    return (total / batches).numpy()
