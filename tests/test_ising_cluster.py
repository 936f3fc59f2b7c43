"""Wolff and Swendsen-Wang samplers: bit-exact against a numpy re-implementation of the documented
Philox counters, exact enumeration of the 4 x 4 torus (chi-square on the joint law of m and e), the
exact finite-torus energies (Kaufman), the local samplers' <|m|>, U4 at T_c, reproducibility (threads,
replica splits, checkpoints) and input validation."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

import deepcheap_native as dc
from conftest import threads
from deepcheap_native import ising
from deepcheap_native.ising.cluster import ClusterSampler, wolff_clusters_per_sweep

WOLFF_SEED, WOLFF_BONDS, SW_BONDS, INIT = 0x31 << 24, 0x32 << 24, 0x33 << 24, 0x34 << 24


# ---- an independent reference: the documented counters, in numpy ---------------------------------


def draw(seed: int, replica: int, site: int, step: int, purpose: int) -> np.ndarray:
    counter = np.array([site, replica, step & 0xFFFFFFFF, purpose | ((step >> 32) & 0xFFFFFF)], dtype=np.uint32)
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
    return dc.random.philox4x32(counter, key)


def neighbours(i: int, L: int) -> list[int]:
    r, c = divmod(i, L)
    return [r * L + (c + 1) % L, r * L + (c - 1) % L, ((r + 1) % L) * L + c, ((r - 1) % L) * L + c]


def reference_init(seed: int, replica: int, L: int) -> np.ndarray:
    n = L * L
    s = np.empty(n, dtype=np.int8)
    for b in range((n + 127) // 128):
        w = draw(seed, replica, b, 0, INIT)
        for k in range(min(128, n - 128 * b)):
            s[128 * b + k] = 1 if (int(w[k >> 5]) >> (k & 31)) & 1 else -1
    return s


def reference_wolff(s: np.ndarray, L: int, seed: int, replica: int, cluster: int, threshold: int,
                    depth_first: bool = True) -> int:
    # The cluster is the set of sites reachable from the seed along bonds that the *tail* site's word
    # activates, so the visiting order (a stack here by default, the kernel's queue) must not matter.
    n = L * L
    start = (int(draw(seed, replica, 0, cluster, WOLFF_SEED)[0]) * n) >> 32
    old = s[start]
    s[start] = -old
    pending, size = [start], 1
    while pending:
        i = pending.pop() if depth_first else pending.pop(0)
        nb = neighbours(i, L)
        if not any(s[j] == old for j in nb):
            continue
        w = draw(seed, replica, i, cluster, WOLFF_BONDS)
        for d, j in enumerate(nb):
            if s[j] == old and int(w[d]) < threshold:
                s[j] = -old
                pending.append(j)
                size += 1
    return size


def reference_swendsen_wang(s: np.ndarray, L: int, seed: int, replica: int, sweep: int, threshold: int) -> None:
    n = L * L
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    coin = np.empty(n, dtype=bool)
    for i in range(n):
        w = draw(seed, replica, i, sweep, SW_BONDS)
        coin[i] = int(w[2]) >> 31
        for d, word in ((0, w[0]), (2, w[1])):
            j = neighbours(i, L)[d]
            if s[i] == s[j] and int(word) < threshold:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    flip = np.array([coin[root(i)] for i in range(n)])
    s[flip] *= -1


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
def test_bit_identical_to_reference_of_the_documented_counters(algorithm):
    L, T, seed, first = 6, 2.4, 2**40 + 7, 3
    s = dc.IsingModel(L).sampler(T, replicas=2, algorithm=algorithm, seed=seed, first_replica=first)
    threshold = int(math.ldexp(-math.expm1(-2.0 / T), 32))
    assert s.bond_probability == threshold / 2**32
    ref = np.stack([reference_init(seed, first + r, L) for r in range(2)])
    np.testing.assert_array_equal(s.spins.reshape(2, -1), ref)
    sweeps = 3
    s.sweep(sweeps)
    for r in range(2):
        if algorithm == "wolff":
            for c in range(sweeps * s.clusters_per_sweep):
                reference_wolff(ref[r], L, seed, first + r, c, threshold)
        else:
            for t in range(sweeps):
                reference_swendsen_wang(ref[r], L, seed, first + r, t, threshold)
    np.testing.assert_array_equal(s.spins.reshape(2, -1), ref)


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
def test_every_simd_target_matches_the_reference_with_full_batches(algorithm, each_simd_target):
    # L = 20 near T_c: Wolff clusters of hundreds of sites and a Swendsen-Wang sweep of 400 sites run the
    # kernels' full 64-site batches, their SIMD lanes and their scalar tails, on every compiled target.
    L, T, seed = 20, 2.3, 99
    s = dc.IsingModel(L).sampler(T, replicas=1, algorithm=algorithm, seed=seed, init="up",
                                 clusters_per_sweep=4 if algorithm == "wolff" else None)
    threshold = int(math.ldexp(-math.expm1(-2.0 / T), 32))
    series = s.run(3)
    for depth_first in (True, False):  # the kernel grows breadth-first; the order must not matter
        ref = np.ones(L * L, dtype=np.int8)
        sizes = []  # per Wolff cluster
        for t in range(3):
            if algorithm == "wolff":
                sizes += [reference_wolff(ref, L, seed, 0, 4 * t + c, threshold, depth_first) for c in range(4)]
            else:
                reference_swendsen_wang(ref, L, seed, 0, t, threshold)
        np.testing.assert_array_equal(s.spins.reshape(-1), ref)
        if algorithm == "wolff":
            np.testing.assert_array_equal(series.flipped[:, 0], np.reshape(sizes, (3, 4)).sum(1))
            assert max(sizes) > 2 * 64  # the test reached full batches


# ---- exact enumeration of the 4 x 4 torus ----------------------------------------------------------


def exact_joint_law(L: int, T: float) -> dict[tuple[int, int], float]:
    """P(M, B) of the total magnetisation M and bond sum B by summing all 2^(L^2) states."""
    n = L * L
    codes = np.arange(2**n, dtype=np.int64)
    s = (((codes[:, None] >> np.arange(n)) & 1) * 2 - 1).reshape(-1, L, L)
    bonds = (s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
    mag = s.sum(axis=(1, 2))
    w = np.exp((bonds - bonds.max()) / T)
    law: dict[tuple[int, int], float] = {}
    for key, weight in zip(zip(mag.tolist(), bonds.tolist()), w):
        law[key] = law.get(key, 0.0) + weight
    total = sum(law.values())
    return {k: v / total for k, v in law.items()}


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
@pytest.mark.parametrize("T", [1.8, ising.CRITICAL_TEMPERATURE, 3.5])
def test_4x4_torus_matches_exact_enumeration(algorithm, T):
    # Final states of independent replicas are independent draws: a plain chi-square test applies.
    L, replicas = 4, 20000
    s = dc.IsingModel(L).sampler(T, replicas=replicas, algorithm=algorithm, seed=11)
    s.sweep(40)
    spins = s.spins.astype(np.int64)
    mag = spins.sum(axis=(1, 2))
    bonds = (spins * np.roll(spins, 1, axis=1) + spins * np.roll(spins, 1, axis=2)).sum(axis=(1, 2))
    law = exact_joint_law(L, T)
    keys = sorted(law, key=law.get, reverse=True)
    expected = np.array([law[k] for k in keys]) * replicas
    counts = {k: 0 for k in keys}
    for key in zip(mag.tolist(), bonds.tolist()):
        assert key in counts, f"state with (M, B) = {key} has probability 0"
        counts[key] += 1
    observed = np.array([counts[k] for k in keys], dtype=float)
    big = expected >= 5  # pool the rare cells into one
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    p = stats.chisquare(obs, exp).pvalue
    assert p > 1e-3, f"chi-square p = {p:.2e} over {len(obs)} cells"


# ---- exact energies, the local samplers, U4 ---------------------------------------------------------


def replica_mean_and_error(series: np.ndarray) -> tuple[float, float]:
    per_replica = series.mean(axis=0)
    return float(per_replica.mean()), float(per_replica.std(ddof=1) / math.sqrt(per_replica.size))


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
@pytest.mark.parametrize("T", [2.0, 2.5])
def test_energy_matches_exact_finite_torus(algorithm, T):
    s = dc.IsingModel(32).sampler(T, replicas=16, algorithm=algorithm, seed=5)
    s.sweep(100)
    r = s.run(600)
    mean, err = replica_mean_and_error(r.e)
    exact = ising.exact_energy(32, T)
    assert abs(mean - exact) < 4 * err, f"{mean} ± {err} vs exact {exact}"
    assert err < 2e-3  # the test has teeth


def test_abs_magnetization_matches_local_sampler():
    T, L = 2.0, 32
    local = dc.IsingModel(L).sampler(T, replicas=128, algorithm="metropolis", seed=3, init="up")
    local.sweep(300)
    m_local, e_local = replica_mean_and_error(local.run(1500, measure_every=3).abs_m)
    for algorithm in ("wolff", "swendsen-wang"):
        s = dc.IsingModel(L).sampler(T, replicas=16, algorithm=algorithm, seed=9)
        s.sweep(100)
        m, e = replica_mean_and_error(s.run(600).abs_m)
        assert abs(m - m_local) < 4 * math.hypot(e, e_local), f"{algorithm}: {m} ± {e} vs {m_local} ± {e_local}"


@pytest.mark.slow
def test_binder_cumulant_at_tc_l32():
    s = dc.IsingModel(32).sampler(ising.CRITICAL_TEMPERATURE, replicas=32, algorithm="wolff", seed=21)
    s.sweep(200)
    r = s.run(4000)
    u = ising.binder_cumulant(r.m)
    # jackknife over replicas for the error
    m2, m4 = r.m2.mean(0), r.m4.mean(0)
    loo = 1 - (m4.sum() - m4) / (m2.size - 1) / (3 * ((m2.sum() - m2) / (m2.size - 1)) ** 2)
    err = math.sqrt((m2.size - 1) * loo.var())
    assert abs(u - 0.6107) < 5e-3, f"U4 = {u} ± {err}"
    assert err < 2.5e-3


def test_wolff_cluster_size_is_the_susceptibility_estimator():
    # Wolff picks clusters in proportion to their size: <|C|> = L^2 <m^2> (improved estimator).
    s = dc.IsingModel(16).sampler(2.5, replicas=16, algorithm="wolff", seed=4)
    s.sweep(100)
    r = s.run(1500)
    per_cluster = r.flipped.sum(0) / r.clusters.sum(0)
    m2 = 256 * r.m2.mean(0)
    diff = per_cluster - m2  # per replica: independent
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / math.sqrt(diff.size)
    assert abs(diff.mean()) < 0.05 * m2.mean()
    assert r.mean_cluster_size == pytest.approx(per_cluster.mean(), rel=0.05)


def test_default_clusters_per_sweep_flips_about_l2_spins():
    for T in (1.8, ising.CRITICAL_TEMPERATURE, 3.0):
        s = dc.IsingModel(32).sampler(T, replicas=8, algorithm="wolff", seed=1)
        s.sweep(50)
        flipped = s.run(200).flipped.mean() / 32**2
        assert 0.3 < flipped < 3.0, (T, flipped)
    assert wolff_clusters_per_sweep(256, ising.CRITICAL_TEMPERATURE) == round(256**0.25)


# ---- reproducibility and checkpoints ----------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
def test_threads_and_replica_splits_give_identical_lattices(algorithm):
    model = dc.IsingModel(16)
    with threads(1):
        a = model.sampler(2.3, replicas=6, algorithm=algorithm, seed=8)
        ra = a.run(20, measure_every=2)
    with threads(2):
        b = model.sampler(2.3, replicas=6, algorithm=algorithm, seed=8)
        rb = b.run(20, measure_every=2)
        parts = [model.sampler(2.3, replicas=k, algorithm=algorithm, seed=8, first_replica=f) for f, k in ((0, 2), (2, 4))]
        for p in parts:
            p.sweep(20)
    np.testing.assert_array_equal(a.spins, b.spins)
    for x, y in zip(ra, rb):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.spins, np.concatenate([p.spins for p in parts]))


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
def test_state_and_pickle_continue_bit_identically(algorithm):
    s = dc.IsingModel(12).sampler(2.2, replicas=3, algorithm=algorithm, seed=2)
    s.sweep(7)
    state = s.state()
    copy = pickle.loads(pickle.dumps(s))
    restored = ClusterSampler.from_state(state)
    assert restored.sweeps_done == copy.sweeps_done == 7
    s.sweep(5)
    copy.sweep(5)
    restored.sweep(5)
    np.testing.assert_array_equal(s.spins, copy.spins)
    np.testing.assert_array_equal(s.spins, restored.spins)
    assert "ClusterSampler" in repr(s)


def test_init_up_and_spins_setter():
    s = dc.IsingModel(8).sampler(2.0, replicas=2, algorithm="wolff", init="up")
    assert (s.spins == 1).all()
    np.testing.assert_array_equal(s.magnetization(), [1.0, 1.0])
    np.testing.assert_array_equal(s.energy(), [-2.0, -2.0])
    spins = -np.ones((2, 8, 8), dtype=np.int8)
    s.spins = spins
    np.testing.assert_array_equal(s.magnetization(), [-1.0, -1.0])
    with pytest.raises(ValueError, match="shape"):
        s.spins = np.ones((2, 4, 4))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        s.spins = np.zeros((2, 8, 8))


# ---- bad input --------------------------------------------------------------------------------------


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="h = 0"):
        dc.IsingModel(8, h=0.1).sampler(2.0, algorithm="wolff")
    with pytest.raises(ValueError, match="J > 0"):
        dc.IsingModel(8, J=-1.0).sampler(2.0, algorithm="swendsen-wang")
    with pytest.raises(ValueError, match="J > 0"):
        dc.IsingModel(8, J=0.0).sampler(2.0, algorithm="wolff")
    with pytest.raises(ValueError, match="even"):
        dc.IsingModel(7)
    with pytest.raises(ValueError, match="Wolff only"):
        dc.IsingModel(8).sampler(2.0, algorithm="swendsen-wang", clusters_per_sweep=3)
    with pytest.raises(ValueError, match="clusters_per_sweep must be >= 1"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolff", clusters_per_sweep=0)
    with pytest.raises(ValueError, match="kernel"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolff", kernel="int8")
    with pytest.raises(TypeError, match="unexpected arguments"):
        dc.IsingModel(8).sampler(2.0, algorithm="metropolis", clusters_per_sweep=3)
    with pytest.raises(ValueError, match="temperature"):
        dc.IsingModel(8).sampler(-1.0, algorithm="wolff")
    with pytest.raises(TypeError, match="replicas"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolff", replicas=2.5)
    with pytest.raises(ValueError, match="algorithm"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolf")
    with pytest.raises(ValueError, match="first_replica"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolff", replicas=4, first_replica=2**32 - 2)
    s = dc.IsingModel(8).sampler(2.0, algorithm="wolff", replicas=2)
    with pytest.raises(ValueError, match="n must be >= 0"):
        s.sweep(-1)
    with pytest.raises(TypeError, match="progress"):
        s.run(4, progress=3)
    with pytest.raises(ValueError, match="lacks"):
        ClusterSampler.from_state({"sampler": "ClusterSampler", "version": ising.STATE_VERSION})
    with pytest.raises(ValueError, match="expected 'ClusterSampler'"):
        ClusterSampler.from_state(dc.IsingModel(8).sampler(2.0).state())
    with pytest.raises(ValueError, match="init must have shape"):
        dc.IsingModel(8).sampler(2.0, algorithm="wolff", replicas=2, init=np.ones((3, 8, 8)))
    # The native layer re-checks what Python validated.
    with pytest.raises(ValueError, match="J > 0"):
        dc._core.IsingClusterChain(8, -1.0, 2.0, 2, 0, 0, 0, 0, 1)
    with pytest.raises(ValueError, match="algorithm"):
        dc._core.IsingClusterChain(8, 1.0, 2.0, 2, 5, 0, 0, 0, 1)


def test_run_reports_progress_and_leftover_sweeps():
    s = dc.IsingModel(8).sampler(2.0, algorithm="swendsen-wang", replicas=2)
    calls = []
    r = s.run(45, measure_every=2, progress=lambda done, total: calls.append((done, total)))
    assert r.e.shape == (22, 2) and r.clusters.dtype == np.int64
    assert s.sweeps_done == 45
    assert calls[-1] == (45, 45) and all(t == 45 for _, t in calls)
    empty = s.run(1, measure_every=2)
    assert empty.m.shape == (0, 2) and s.sweeps_done == 46
