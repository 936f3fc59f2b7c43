"""Statistical checks of the Ising samplers against exact numbers (Onsager, Kaufman/Ferdinand-Fisher,
the Binder cumulant at T_c). Fixed seeds; errors come from the spread of independent replicas (each
replica's time average is one independent sample, so autocorrelation is accounted for)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import ising

# The Binder cumulant at T_c on periodic square lattices (Salas & Sokal 2000: U* = 0.61069...).
BINDER_AT_TC = 0.6107


def replica_mean_and_error(series: np.ndarray) -> tuple[float, float]:
    per_replica = series.mean(axis=0)
    return float(per_replica.mean()), float(per_replica.std(ddof=1) / math.sqrt(per_replica.size))


def binder_and_error(m: np.ndarray) -> tuple[float, float]:
    """U = 1 - <m^4> / (3 <m^2>^2) over (n_measure, replicas), with a jackknife error over replicas."""
    a = (m * m).mean(axis=0)
    b = (m**4).mean(axis=0)
    r = a.size
    u = 1 - b.mean() / (3 * a.mean() ** 2)
    leave_one_out = 1 - ((b.sum() - b) / (r - 1)) / (3 * ((a.sum() - a) / (r - 1)) ** 2)
    err = math.sqrt((r - 1) / r * ((leave_one_out - leave_one_out.mean()) ** 2).sum())
    return float(u), err


def test_ordered_phase_magnetization_and_energy_at_T2():
    # <|m|> at L = 64 against Onsager's infinite-lattice value: the finite-size correction at T = 2
    # (correlation length ~ 1.5) is exponentially small, far below the ~1e-4 statistical error.
    s = dc.IsingModel(64).sampler(2.0, replicas=256, seed=20, init="up").sweep(200)
    r = s.run(600, measure_every=2)
    mean, err = replica_mean_and_error(r.abs_m)
    assert err < 2e-4
    assert abs(mean - 0.9113193779) < 3 * err, (mean, err)

    s = dc.IsingModel(32).sampler(2.0, replicas=512, seed=21, init="up").sweep(200)
    mean, err = replica_mean_and_error(s.run(600, measure_every=2).e)
    assert err < 3e-4
    assert abs(mean - (-1.7455645271)) < 3 * err, (mean, err)
    assert abs(mean - ising.exact_energy(32, 2.0)) < 3 * err


def test_disordered_phase_energy_at_T2_5():
    s = dc.IsingModel(32).sampler(2.5, replicas=512, seed=22).sweep(400)
    mean, err = replica_mean_and_error(s.run(800, measure_every=2).e)
    assert err < 5e-4
    assert abs(mean - (-1.1072916609)) < 3 * err, (mean, err)


def test_metropolis_and_heatbath_agree_with_each_other_and_exact():
    model = dc.IsingModel(16)
    exact = ising.exact_energy(16, 2.5)
    results = {}
    for algorithm in ("metropolis", "heatbath"):
        s = model.sampler(2.5, replicas=512, algorithm=algorithm, seed=23).sweep(300)
        r = s.run(800, measure_every=2)
        results[algorithm] = (replica_mean_and_error(r.e), replica_mean_and_error(r.abs_m))
        mean, err = results[algorithm][0]
        assert abs(mean - exact) < 3 * err, (algorithm, mean, exact, err)
    for k in (0, 1):
        (ma, ea), (mb, eb) = results["metropolis"][k], results["heatbath"][k]
        assert abs(ma - mb) < 3 * math.hypot(ea, eb), (k, ma, mb)


@pytest.fixture(scope="module")
def direct_l32_at_tc() -> np.ndarray:
    """Magnetization series of 2048 replicas of the 32 x 32 lattice at T_c (after 800 sweeps)."""
    s = dc.IsingModel(32).sampler(ising.CRITICAL_TEMPERATURE, replicas=2048, seed=24).sweep(800)
    return s.run(2400, measure_every=2).m


def test_binder_cumulant_at_tc(direct_l32_at_tc):
    u, err = binder_and_error(direct_l32_at_tc)
    assert err < 8e-4  # so the 3e-3 tolerance below is a real test (>= 3.75 sigma)
    assert abs(u - BINDER_AT_TC) < 3e-3, (u, err)
    assert ising.binder_cumulant(direct_l32_at_tc) == pytest.approx(u, abs=1e-12)


@pytest.mark.slow
def test_block_spin_64_to_32_reproduces_binder_at_tc(direct_l32_at_tc):
    # At T_c the block-spin map is (up to irrelevant corrections) a fixed point: majority-rule blocks of
    # L = 64 lattices have the Binder cumulant of directly sampled L = 32 lattices.
    s = dc.IsingModel(64).sampler(ising.CRITICAL_TEMPERATURE, replicas=1024, seed=25).sweep(2500)
    blocked = []
    for k in range(360):
        s.sweep(16)
        blocked.append(dc.block_spin(s.spins, 2, seed=k).mean(axis=(1, 2), dtype=np.float64))
    u_block, err_block = binder_and_error(np.array(blocked))
    u_direct, err_direct = binder_and_error(direct_l32_at_tc)
    assert err_block < 1e-3
    assert abs(u_block - u_direct) < 3e-3, (u_block, u_direct, err_block, err_direct)
