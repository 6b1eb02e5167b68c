"""The house style for figures, applied explicitly with :func:`use_style` (never at import).

Introduced in A01.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np

# seaborn's "colorblind" palette, written out so that seaborn is not a dependency.
COLORBLIND: tuple[str, ...] = (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
    "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9",
)  # fmt: skip
DIVERGING = "RdBu_r"  # for signed matrices and hidden states (colour-blind safe)

STYLE: dict[str, Any] = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.figsize": (6.4, 3.6),
    "figure.constrained_layout.use": True,
    "axes.prop_cycle": mpl.cycler(color=COLORBLIND),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "image.cmap": "viridis",
    "font.size": 10,
}


def use_style() -> None:
    """Apply the book's figure style (small PNGs, colour-blind palette, light grid)."""
    mpl.rcParams.update(STYLE)


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
