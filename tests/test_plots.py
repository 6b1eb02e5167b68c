"""Tests of rnnbook.plots: the house style and the spectrum panel."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import plots


def test_spectrum_panel_draws_both_spectra_and_the_circles():
    plots.use_style()
    fig, ax = plt.subplots()
    learned = np.exp(2j * np.pi * np.arange(4) / 4) * 1.05
    theory = np.exp(2j * np.pi * np.arange(4) / 4)
    plots.spectrum(ax, learned, theory, "T1", cut=0.9)
    dots, rings = ax.collections
    assert np.allclose(dots.get_offsets(), np.c_[learned.real, learned.imag])
    assert np.allclose(rings.get_offsets(), np.c_[theory.real, theory.imag])
    radii = [np.hypot(*line.get_xydata().T).mean() for line in ax.lines]
    assert np.allclose(radii, [1.0, 0.9])
    assert ax.get_title() == "T1"
    plt.close(fig)


def test_signed_limits_are_symmetric():
    lim = plots.signed_limits(np.array([-0.5, 2.0]), np.array([1.0]))
    assert (lim["vmin"], lim["vmax"], lim["cmap"]) == (-2.0, 2.0, plots.DIVERGING)
