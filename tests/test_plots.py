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


def test_use_style_sets_the_colourblind_cycle():
    plots.use_style()
    cycle = [c for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert [matplotlib.colors.to_hex(c) for c in cycle[:3]] == list(plots.COLORBLIND[:3])
    assert matplotlib.rcParams["figure.dpi"] == 80


def test_seed_band_draws_the_mean_and_the_full_range():
    plots.use_style()
    fig, ax = plt.subplots()
    x = np.arange(5.0)
    values = np.stack([x, x + 2.0, x + 4.0])  # three seeds
    plots.seed_band(ax, x, values, label="trained")
    line = ax.lines[0]
    assert np.allclose(line.get_ydata(), x + 2.0)  # mean over seeds
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].min(), 0.0) and np.isclose(band[:, 1].max(), 8.0)  # min..max
    plt.close(fig)


def test_seed_band_rejects_a_wrong_shape():
    fig, ax = plt.subplots()
    try:
        plots.seed_band(ax, np.arange(3.0), np.zeros((2, 4)))
    except ValueError as e:
        assert "(seeds, 3)" in str(e)
    else:
        raise AssertionError("a (2, 4) array against 3 x values must be rejected")
    plt.close(fig)


def test_seed_points_shows_every_seed_and_the_rule():
    plots.use_style()
    fig, ax = plt.subplots()
    plots.seed_points(ax, {"trained": [0.9, 0.95, 0.97], "untrained": [0.1, 0.2, 0.15]}, "acc", threshold=0.8)
    dots = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if len(c.get_offsets())])
    assert sorted(np.round(dots, 3)) == [0.1, 0.15, 0.2, 0.9, 0.95, 0.97]
    heights = sorted(round(p.get_height(), 4) for p in ax.patches)
    assert heights == [0.15, 0.94]  # bars are the means
    assert any(np.allclose(line.get_ydata(), 0.8) for line in ax.lines)
    plt.close(fig)
