"""Critical-point statistics: autocorrelation times against AR(1) processes (exact tau), reweighting
against exact enumeration of the 4 x 4 torus, and finite_size_scan (local and through an Executor,
bit-identical; crossing and exponents near the exact 2D Ising values)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import signal

from deepcheap_native import ising
from deepcheap_native.ising.stats import analyse_finite_size, autocorrelation_function


def ar1(phi: float, n: int, chains: int, seed: int) -> np.ndarray:
    """x_t = phi x_{t-1} + noise, started in equilibrium: rho(t) = phi^t, tau = (1 + phi) / (2 (1 - phi))."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(n, chains))
    noise[0] /= math.sqrt(1 - phi * phi)
    return signal.lfilter([1.0], [1.0, -phi], noise, axis=0)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 0.98])
def test_autocorrelation_time_of_ar1_processes(phi):
    x = ar1(phi, 20000, 8, seed=int(phi * 100))
    t = ising.autocorrelation_time(x)
    exact = (1 + phi) / (2 * (1 - phi))
    assert t.converged
    assert abs(t.tau - exact) < 4 * t.error + 0.01 * exact, (t, exact)
    assert t.error < 0.1 * exact  # enough data for the test to mean something
    # Sokal's window: the first W with W >= c tau(W).
    assert t.window >= 6 * t.tau - 1 and t.window <= 6 * t.tau + 6 * exact


def test_autocorrelation_error_matches_spread_over_independent_runs():
    phi, exact = 0.8, 4.5
    estimates = [ising.autocorrelation_time(ar1(phi, 4000, 1, seed=s)) for s in range(40)]
    taus = np.array([t.tau for t in estimates])
    spread = taus.std(ddof=1)
    predicted = np.mean([t.error for t in estimates])
    assert 0.6 < predicted / spread < 1.6, (predicted, spread)
    assert abs(taus.mean() - exact) < 0.1 * exact  # small window bias only


def test_autocorrelation_function_and_errors():
    rho = autocorrelation_function(ar1(0.7, 50000, 2, seed=1))
    np.testing.assert_allclose(rho[:6], 0.7 ** np.arange(6), atol=0.02)
    with pytest.raises(ValueError, match="constant"):
        ising.autocorrelation_time(np.ones(100))
    with pytest.raises(ValueError, match="at least 2"):
        ising.autocorrelation_time([1.0])
    with pytest.raises(ValueError, match="shape"):
        ising.autocorrelation_time(np.zeros((3, 3, 3)))
    with pytest.raises(TypeError, match="real numbers"):
        ising.autocorrelation_time(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="finite"):
        ising.autocorrelation_time([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match=r"c must be > 0, got 0.0"):
        ising.autocorrelation_time([1.0, 2.0, 3.0], c=0)
    short = ising.autocorrelation_time(ar1(0.99, 300, 1, seed=2))
    assert not short.converged


# ---- reweighting against exact enumeration ---------------------------------------------------------


def torus_states(L: int) -> tuple[np.ndarray, np.ndarray]:
    n = L * L
    codes = np.arange(2**n, dtype=np.int64)
    s = (((codes[:, None] >> np.arange(n)) & 1) * 2 - 1).reshape(-1, L, L)
    bonds = (s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
    return -bonds / n, s.sum(axis=(1, 2)) / n  # e, m per spin


def exact_average(e: np.ndarray, obs: np.ndarray, T: float, n: int) -> float:
    w = np.exp(-(e - e.min()) * n / T)
    return float(w @ obs / w.sum())


def test_reweighting_matches_exact_enumeration():
    L, n, t0 = 4, 16, 2.4
    e, m = torus_states(L)
    w = np.exp(-(e - e.min()) * n / t0)
    rng = np.random.default_rng(3)
    idx = rng.choice(e.size, size=400_000, p=w / w.sum())  # exact independent samples at T0
    targets = np.array([2.2, 2.3, 2.5, 2.6])
    got = ising.reweight(e[idx], {"m2": m[idx] ** 2, "e": e[idx]}, t0, targets, n_sites=n)
    for k, T in enumerate(targets):
        assert got["m2"][k] == pytest.approx(exact_average(e, m**2, T, n), rel=4e-3)
        assert got["e"][k] == pytest.approx(exact_average(e, e, T, n), rel=4e-3)
    # Reweighting to T0 itself is the plain average; scalars give floats.
    assert ising.reweight(e[idx], e[idx], t0, t0, n_sites=n) == pytest.approx(e[idx].mean(), rel=1e-12)
    with pytest.raises(ValueError, match="samples"):
        ising.reweight(e[:10], m[:11], t0, 2.0, n_sites=n)
    with pytest.raises(ValueError, match="> 0"):
        ising.reweight(e[:10], m[:10], t0, [2.0, -1.0], n_sites=n)
    with pytest.raises(ValueError, match="n_sites"):
        ising.reweight(e[:10], m[:10], t0, 2.0, n_sites=0)


# ---- finite-size scans -----------------------------------------------------------------------------


def test_scan_through_an_executor_is_identical_to_a_local_scan():
    kwargs = dict(replicas=4, n_sweeps=60, thermalize=10, seed=5, blocks=4, window=0.3)
    local = ising.finite_size_scan([4, 8], 2.27, **kwargs)
    calls = []
    with ThreadPoolExecutor(2) as pool:
        remote = ising.finite_size_scan([4, 8], 2.27, client=pool, jobs_per_size=3,
                                        progress=lambda d, t: calls.append((d, t)), **kwargs)
    assert calls[-1] == (6, 6)
    for L in (4, 8):
        for a, b in zip(local.series[L], remote.series[L]):
            np.testing.assert_array_equal(a, b)
    assert local.tc == remote.tc and local.exponents == remote.exponents
    sync = ising.finite_size_scan([4, 8], 2.27, client="sync", **kwargs)
    np.testing.assert_array_equal(sync.series[8][1], local.series[8][1])


def test_metropolis_scan_keeps_multispin_words_whole():
    kwargs = dict(algorithm="metropolis", replicas=128, n_sweeps=20, thermalize=5, seed=2, window=0.3)
    local = ising.finite_size_scan([4, 8], 2.27, **kwargs)
    with ThreadPoolExecutor(2) as pool:
        remote = ising.finite_size_scan([4, 8], 2.27, client=pool, jobs_per_size=5, **kwargs)
    np.testing.assert_array_equal(local.series[8][1], remote.series[8][1])


def test_scan_validates_its_input():
    with pytest.raises(ValueError, match="two different"):
        ising.finite_size_scan([8, 8], 2.27)
    with pytest.raises(ValueError, match="even"):
        ising.finite_size_scan([8, 9], 2.27)
    with pytest.raises(TypeError, match="sequence"):
        ising.finite_size_scan(8, 2.27)
    with pytest.raises(TypeError, match="submit"):
        ising.finite_size_scan([4, 8], 2.27, client=object())
    with pytest.raises(ValueError, match="n_sweeps has no entry"):
        ising.finite_size_scan([4, 8], 2.27, n_sweeps={4: 10})
    with pytest.raises(ValueError, match="fewer than 2 measurements"):
        ising.finite_size_scan([4, 8], 2.27, n_sweeps=1)
    with pytest.raises(ValueError, match="blocks"):
        analyse_finite_size({4: (np.zeros((5, 2)), np.zeros((5, 2))), 8: (np.zeros((5, 2)), np.zeros((5, 2)))},
                            2.27, blocks=4)


@pytest.mark.slow
def test_scan_finds_tc_and_exponents_of_the_2d_ising_model():
    # Wolff, L = 8..32: T_c within 5e-3 of Onsager's, gamma/nu and nu within 5 %, beta/nu within 15 %
    # (small lattices: corrections to scaling), each also within 4 sigma of its exact value.
    scan = ising.finite_size_scan([8, 16, 32], 2.27, replicas=16, n_sweeps=3000, thermalize=200, seed=1)
    assert abs(scan.tc - ising.CRITICAL_TEMPERATURE) < max(5e-3, 4 * scan.tc_error)
    assert scan.tc_error < 5e-3
    for name, exact, tol in (("gamma/nu", 1.75, 0.05), ("nu", 1.0, 0.05), ("beta/nu", 0.125, 0.15)):
        value, err = scan.exponents[name]
        assert abs(value - exact) < tol * exact, (name, value, err)
        assert err < tol * exact
    u, uerr = scan.at_tc["binder"]
    assert np.all(np.abs(u - 0.6107) < 0.02)
    assert "T_c" in scan.summary()


def test_scan_sizes_draw_unrelated_streams():
    """Issue 24 §3: the Philox items hold (replica, site, sweep) but no L, so one seed for every L made the
    sizes share words: heat-bath lattices at high T (each spin nearly a coin of its own word) of L = 4 and
    L = 8 had magnetizations correlated by ~0.47. Each L now runs on derived_seed(seed, L)."""
    scan = ising.finite_size_scan([4, 8], 20.0, algorithm="heatbath", replicas=16, n_sweeps=200, thermalize=0,
                                  seed=7, tc=20.0, window=1.0)
    a, b = scan.series[4][1].ravel(), scan.series[8][1].ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.15  # 3200 nearly independent samples: sd ~0.02
    for L in (4, 8):  # the documented derivation, so a size can be repeated on its own
        seed = ising.derived_seed(7, L)
        assert seed != 7
        s = ising.IsingModel(L).sampler(20.0, replicas=16, algorithm="heatbath", seed=seed, init="up")
        np.testing.assert_array_equal(s.run(200).m, scan.series[L][1])
    assert scan.seed == 7


def test_one_jackknife_one_binder_formula_one_tc_against_brute_force():
    """Issue 24 §2: the jackknife, the Binder cumulant, T_c and U* are defined once (ising.stats, ising.exact)
    and the report and distributed.ising_statistics use them."""
    from deepcheap_native import distributed
    from deepcheap_native.report import critical
    from deepcheap_native.report import ising as report_ising

    rng = np.random.default_rng(3)
    m = rng.normal(0.3, 0.2, size=(50, 9))
    m2, m4 = (m**2).mean(0), (m**4).mean(0)
    n = m.shape[1]
    loo = [1 - m4[np.arange(n) != i].mean() / (3 * m2[np.arange(n) != i].mean() ** 2) for i in range(n)]
    brute = math.sqrt((n - 1) / n * sum((v - np.mean(loo)) ** 2 for v in loo))
    value, error = ising.jackknife(np.stack([m2, m4]), lambda a: ising.binder_from_moments(a[0], a[1]))
    assert value == pytest.approx(1 - m4.mean() / (3 * m2.mean() ** 2), rel=1e-13)
    assert error == pytest.approx(brute, rel=1e-10)
    assert report_ising.binder_with_error(m) == (value, error)
    assert ising.binder_cumulant(m) == pytest.approx(1 - (m**4).mean() / (3 * (m**2).mean() ** 2), rel=1e-13)
    stats = distributed.ising_statistics(np.stack([np.abs(m).mean(0), m2, m4, m2, m4]), 4, 2.0)
    assert (stats["U4"], stats["U4_err"]) == (value, error)
    assert ising.jackknife(m2[None, :1], lambda a: a[0])[1] != ising.jackknife(m2[None, :1], lambda a: a[0])[1]  # NaN
    assert critical.TC is report_ising.TC is ising.CRITICAL_TEMPERATURE
    assert critical.U_CRITICAL is report_ising.U_CRITICAL is ising.CRITICAL_BINDER == 0.6107
