"""The house style for figures, applied explicitly with :func:`use_style` (never at import).

The style is seaborn's ``whitegrid`` theme with its colour-blind palette, at the book's small
figure size. :func:`seed_band` and :func:`seed_points` draw what most chapters show: a curve
or a value per seed, with the spread across seeds visible rather than averaged away.

Introduced in A01.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns

COLORBLIND: tuple[str, ...] = tuple(sns.color_palette("colorblind").as_hex())
DIVERGING = "RdBu_r"  # for signed matrices and hidden states (colour-blind safe)

STYLE: dict[str, Any] = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.figsize": (6.4, 3.6),
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.4,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "image.cmap": "viridis",
    "font.size": 10,
}


def use_style() -> None:
    """Apply the book's figure style: seaborn ``whitegrid``, colour-blind palette, small PNGs."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=0.9)
    mpl.rcParams.update(STYLE)


def seed_band(
    ax: Any,
    x: Sequence[float] | np.ndarray,
    values: Any,
    label: str | None = None,
    color: str | None = None,
    **kw: Any,
) -> Any:
    """Mean over seeds as a line, the full range over seeds (min to max) as a band.

    ``values`` has shape ``(seeds, len(x))``. The band is seaborn's percentile interval at 100 %,
    so a single bad seed widens it instead of vanishing into a standard error.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(x):
        raise ValueError(f"values must be (seeds, {len(x)}), got {v.shape}")
    frame = pd.DataFrame(
        {
            "x": np.tile(np.asarray(x, dtype=float), v.shape[0]),
            "y": v.ravel(),
            "seed": np.repeat(np.arange(v.shape[0]), v.shape[1]),
        }
    )
    return sns.lineplot(data=frame, x="x", y="y", ax=ax, errorbar=("pi", 100), label=label, color=color, **kw)


def seed_points(ax: Any, groups: Mapping[str, Any], ylabel: str = "", threshold: float | None = None) -> Any:
    """One column per group (trained, control, ...): every seed as a dot, the mean as a bar.

    ``threshold`` draws the claim's rule as a dashed line, so the reader sees which seeds pass.
    """
    frame = pd.DataFrame(
        [
            (name, float(v))
            for name, vals in groups.items()
            for v in np.atleast_1d(np.asarray(vals, dtype=float))
        ],
        columns=["group", "value"],
    )
    order = list(groups)
    sns.barplot(
        data=frame,
        x="group",
        y="value",
        order=order,
        ax=ax,
        errorbar=None,
        alpha=0.35,
        hue="group",
        palette=COLORBLIND[: len(order)],
        legend=False,
    )
    sns.stripplot(
        data=frame,
        x="group",
        y="value",
        order=order,
        ax=ax,
        hue="group",
        palette=COLORBLIND[: len(order)],
        size=5,
        jitter=0.15,
        legend=False,
    )
    if threshold is not None:
        ax.axhline(threshold, color="0.3", ls="--", lw=1, label="rule")
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    return ax


def signed_limits(*arrays: Any) -> dict[str, float]:
    """``vmin``/``vmax`` symmetric around zero for a diverging colour map."""
    m = max(float(abs(a).max()) for a in arrays) or 1.0
    return {"vmin": -m, "vmax": m, "cmap": DIVERGING}


def spectrum(ax: Any, learned: Any, theory: Any, title: str = "", cut: float | None = None) -> None:
    """Eigenvalues of a trained ``W_hh`` (dots) against a theoretical ``Phi`` (rings), unit circle drawn.

    Mirrors the paper's *spectrum_T1..T4* panels; ``cut`` adds the dashed circle ``|λ| = cut``.
    Introduced in A01; used by A03.
    """
    angle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(angle), np.sin(angle), color="0.6", lw=0.8)
    if cut is not None:
        ax.plot(cut * np.cos(angle), cut * np.sin(angle), color="0.8", lw=0.6, ls="--")
    learned, theory = np.asarray(learned), np.asarray(theory)
    ax.scatter(learned.real, learned.imag, s=8, color=COLORBLIND[1], label=r"trained $W_{hh}$")
    ax.scatter(
        theory.real, theory.imag, s=70, facecolors="none", edgecolors=COLORBLIND[0], label=r"theory $\Phi$"
    )
    ax.set_title(title, fontsize=7)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
