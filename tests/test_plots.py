"""``.plot()`` on the main result types (issue 25.17): each draws on the caller's axes or a new figure,
the data drawn is the result's own (read back from the artists and compared with the result's arrays),
wrong axes are clear errors, and the report's figures come from the same functions."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line_ydata(ax, label):
    lines = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(lines) == 1, [ln.get_label() for ln in ax.get_lines()]
    return np.asarray(lines[0].get_ydata())


def test_ising_series_plot_draws_the_replica_mean():
    s = dc.IsingModel(8).sampler(2.0, replicas=16, seed=3)
    series = s.run(20)
    axes = series.plot()
    assert len(axes) == 2
    np.testing.assert_array_equal(_line_ydata(axes[0], "mean of 16 replicas"), series.e.mean(axis=1))
    np.testing.assert_array_equal(_line_ydata(axes[1], "mean of 16 replicas"), series.abs_m.mean(axis=1))
    fig, ax = plt.subplots()
    (a,) = series.plot("m2", ax=ax)
    assert a is ax
    np.testing.assert_array_equal(_line_ydata(ax, "mean of 16 replicas"), series.m2.mean(axis=1))


def test_cluster_and_boltzmann_series_plot():
    c = dc.IsingModel(8).sampler(2.3, algorithm="wolff", replicas=4, seed=1).run(10)
    axes = c.plot(("e", "clusters"))
    np.testing.assert_array_equal(_line_ydata(axes[1], "mean of 4 replicas"), c.clusters.mean(axis=1))
    b = dc.BoltzmannSampler(4, {(0, 1): -1.0, (1, 2, 3): 0.5}, temperature=1.5, replicas=8, seed=2).run(12)
    (ax,) = b.plot()
    np.testing.assert_array_equal(_line_ydata(ax, "mean of 8 replicas"), b.energy.mean(axis=1))


def test_series_plot_bad_input():
    series = dc.IsingModel(8).sampler(2.0, replicas=4, seed=3).run(5)
    with pytest.raises(ValueError, match="quantity 'spins' is not a series.*choose from m, abs_m"):
        series.plot("spins")
    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="draws 2 panels: pass ax= as a sequence of 2"):
        series.plot(ax=axes)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        series.plot(ax=42)


def test_finite_size_scan_plot_is_the_reports_figure():
    from deepcheap_native.ising import plots

    scan = dc.ising.finite_size_scan([4, 8], 2.27, replicas=16, n_sweeps=60, thermalize=20, seed=5)
    axes = scan.plot()
    assert len(axes) == 3
    for i, L in enumerate(scan.sizes):
        np.testing.assert_array_equal(_line_ydata(axes[0], f"L = {L}"), scan.binder[i])
    vlines = [ln for ln in axes[0].get_lines() if ln.get_label().startswith("crossing")]
    assert vlines and np.allclose(vlines[0].get_xdata(), scan.tc)
    import inspect

    from deepcheap_native.report import critical

    assert "plot_scan(" in inspect.getsource(critical._fss_figures)  # reused, not copied
    assert plots.T_C == pytest.approx(2 / np.log(1 + np.sqrt(2)), rel=1e-15)


def test_descent_result_plot():
    glass = dc.SphericalSpinGlass(12, 3, seed=1)
    r = glass.descend(8, steps=50, seed=2, history=True)
    axes = r.plot(p=3)
    assert len(axes) == 2
    assert len(axes[0].patches) == 1  # one step histogram
    xs = [ln.get_xdata()[0] for ln in axes[0].get_lines()]  # −E₀ and −E_∞ of p = 3
    np.testing.assert_allclose(sorted(xs), sorted([-dc.landscape.ground_state_energy(3), -dc.landscape.threshold_energy(3)]))
    med = _line_ydata(axes[1], "median over starts")
    np.testing.assert_allclose(med, np.median(r.history, axis=1))
    r2 = glass.descend(4, steps=20, seed=2)
    assert len(r2.plot()) == 1  # no history: one panel
