"""Ising and k-local Boltzmann samplers: exact formulas, exact enumeration of small systems, block
spins against a numpy reference, determinism (threads, SIMD targets) and input validation. The long
statistical checks against Onsager/Kaufman numbers live in test_ising_statistics.py."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import simd, threads
from deepcheap_native import _core, ising

# ---- exact references computed here, independently of the package -------------------------------


def enumerate_torus(L: int, J: float, h: float, T: float) -> dict[str, float]:
    """<e>, <m>, <|m|> per spin of the L x L torus by summing over all 2^(L^2) states (float64)."""
    n = L * L
    codes = np.arange(2**n, dtype=np.int64)
    s = (((codes[:, None] >> np.arange(n)) & 1) * 2 - 1).reshape(-1, L, L)
    bonds = (s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
    mag = s.sum(axis=(1, 2))
    energy = -J * bonds - h * mag
    w = np.exp(-(energy - energy.min()) / T)
    w /= w.sum()
    return {"e": float(w @ energy) / n, "m": float(w @ mag) / n, "abs_m": float(w @ np.abs(mag)) / n}


def replica_mean_and_error(series: np.ndarray) -> tuple[float, float]:
    """Mean over (n_measure, replicas) and its standard error from the spread of the replica means
    (replicas are independent chains, so this error accounts for autocorrelation)."""
    per_replica = series.mean(axis=0)
    return float(per_replica.mean()), float(per_replica.std(ddof=1) / math.sqrt(per_replica.size))


# ---- exact formulas ------------------------------------------------------------------------------


def test_critical_temperature():
    assert ising.CRITICAL_TEMPERATURE == pytest.approx(2.269185314213022, abs=1e-15)
    assert math.sinh(2 / ising.CRITICAL_TEMPERATURE) == pytest.approx(1.0, abs=1e-15)


def test_exact_energy_matches_the_issue_values_to_1e9():
    # Values quoted in the issue for the 32 x 32 torus (Ferdinand & Fisher 1969).
    assert abs(ising.exact_energy(32, 2.0) - (-1.7455645271)) < 1e-9
    assert abs(ising.exact_energy(32, 2.5) - (-1.1072916609)) < 1e-9


@pytest.mark.parametrize("T", [1.0, 2.0, ising.CRITICAL_TEMPERATURE, 2.5, 4.0])
@pytest.mark.parametrize("L", [2, 4])
def test_exact_energy_matches_enumeration_of_small_tori(L, T):
    assert ising.exact_energy(L, T) == pytest.approx(enumerate_torus(L, 1.0, 0.0, T)["e"], abs=1e-12)


def test_exact_references_take_temperature_arrays_and_the_lattice_rule_of_the_model():
    T = np.array([[1.5, 2.0], [2.5, 3.0]])
    for f, args in ((ising.onsager_magnetization, ()), (ising.onsager_energy, ()), (ising.exact_energy, (8,))):
        curve = f(*args, T)
        assert isinstance(curve, np.ndarray) and curve.shape == T.shape and curve.dtype == np.float64
        assert [float(f(*args, float(t))) for t in T.ravel()] == curve.ravel().tolist()
        assert isinstance(f(*args, 2.0), float)
        assert f(*args, [2.0, 2.5]).shape == (2,)
        with pytest.raises(ValueError, match=r"T\[1, 0\] is -2.5"):
            f(*args, np.array([[2.0, 2.5], [-2.5, 3.0]]))
    with pytest.raises(ValueError, match="L must be even, as for IsingModel"):
        ising.exact_energy(15, 2.0)  # the model rejects odd L: so does its exact reference
    with pytest.raises(ValueError, match="L must be even"):
        dc.IsingModel(15)


@pytest.mark.parametrize("T", [1.5, 2.0, 2.5, 3.0])
def test_exact_energy_tends_to_onsager(T):
    # At L = 512 the finite-size correction is exponentially small away from T_c.
    assert ising.exact_energy(512, T) == pytest.approx(ising.onsager_energy(T), abs=1e-9)


def test_onsager_energy_and_magnetization_values():
    tc = ising.CRITICAL_TEMPERATURE
    assert ising.onsager_energy(tc) == -math.sqrt(2)
    # The closed form is continuous at T_c (the elliptic-integral term vanishes there).
    assert ising.onsager_energy(tc * (1 - 1e-9)) == pytest.approx(-math.sqrt(2), abs=1e-6)
    assert ising.onsager_energy(tc * (1 + 1e-9)) == pytest.approx(-math.sqrt(2), abs=1e-6)
    assert abs(ising.onsager_magnetization(2.0) - 0.9113193779) < 1e-10
    assert ising.onsager_magnetization(tc) == 0.0 and ising.onsager_magnetization(3.0) == 0.0
    # Low-temperature expansion: u = -2 + 8 x^2 + ..., x = e^(-4/T), |m| = 1 - 2 x^2 + ...
    T = 0.5
    x = math.exp(-4 / T)
    assert ising.onsager_energy(T) == pytest.approx(-2 + 8 * x * x, rel=1e-9)
    assert ising.onsager_magnetization(T) == pytest.approx(1 - 2 * x * x, rel=1e-9)


def test_elliptic_integral_against_scipy():
    special = pytest.importorskip("scipy.special")
    for k in (0.0, 0.3, 0.9, 0.999999):
        # ellipkm1 takes 1 - k^2 directly, so the comparison is not limited by rounding k^2 near 1.
        assert ising.exact._elliptic_k(k) == pytest.approx(special.ellipkm1((1 - k) * (1 + k)), rel=1e-13)


def test_binder_cumulant_of_known_distributions():
    rng = np.random.default_rng(0)
    assert ising.binder_cumulant(rng.choice([-0.5, 0.5], size=(100, 7))) == pytest.approx(2 / 3, abs=1e-15)
    # Gaussian: <m^4> = 3 <m^2>^2, so U = 0 (up to sampling error ~ 1/sqrt(n)).
    assert abs(ising.binder_cumulant(rng.normal(size=400_000))) < 0.01
    per_column = ising.binder_cumulant(np.array([[1.0, 2.0], [-1.0, 0.0]]), axis=0)
    np.testing.assert_allclose(per_column, [2 / 3, 1 - 8 / (3 * 2**2)])
    with pytest.raises(ValueError, match="m_series"):
        ising.binder_cumulant(np.zeros(4))


# ---- samplers against exact enumeration (4 x 4 torus: 65536 states) ---------------------------------

SMALL_CASES = [
    # (J, h, T, algorithm, replicas): multi-spin two-class path, multi-spin with field, antiferromagnet,
    # int8 Metropolis (replicas not a multiple of 64) and heat-bath.
    (1.0, 0.0, 2.5, "metropolis", 512),
    (1.0, 0.3, 2.0, "metropolis", 512),
    (-1.0, 0.7, 1.5, "metropolis", 512),
    (1.0, -0.4, 3.0, "metropolis", 500),
    (0.7, 0.2, 1.8, "heatbath", 500),
    (-1.0, 0.0, 2.2, "heatbath", 512),
]


@pytest.mark.parametrize("J,h,T,algorithm,replicas", SMALL_CASES)
def test_sampler_matches_enumeration_on_4x4(J, h, T, algorithm, replicas):
    exact = enumerate_torus(4, J, h, T)
    s = dc.IsingModel(4, J=J, h=h).sampler(T, replicas=replicas, algorithm=algorithm, seed=3)
    assert s.kernel == ("multispin" if algorithm == "metropolis" and replicas % 64 == 0 else "int8")
    s.sweep(200)
    r = s.run(2000, measure_every=2)
    # 4.5 sigma for 12 comparisons: a false alarm has probability ~1e-4 for a correct sampler.
    for name, series in (("e", r.e), ("m", r.m)):
        mean, err = replica_mean_and_error(series)
        assert abs(mean - exact[name]) < 4.5 * err, (name, mean, exact[name], err)


def test_multispin_and_int8_metropolis_agree_on_4x4():
    model = dc.IsingModel(4, h=0.25)
    a = model.sampler(2.2, replicas=512, seed=5, kernel="multispin").sweep(100).run(1000)
    b = model.sampler(2.2, replicas=512, seed=5, kernel="int8").sweep(100).run(1000)
    ma, ea = replica_mean_and_error(a.e)
    mb, eb = replica_mean_and_error(b.e)
    assert abs(ma - mb) < 4.5 * math.hypot(ea, eb)


# ---- sampler mechanics -------------------------------------------------------------------------------


@pytest.mark.parametrize("replicas,algorithm", [(64, "metropolis"), (10, "metropolis"), (10, "heatbath")])
def test_init_up_spins_and_measurements(replicas, algorithm):
    s = dc.IsingModel(8, J=1.5, h=0.5).sampler(1.0, replicas=replicas, algorithm=algorithm, init="up")
    spins = s.spins
    assert spins.dtype == np.int8 and spins.shape == (replicas, 8, 8) and (spins == 1).all()
    np.testing.assert_array_equal(s.magnetization(), np.ones(replicas))
    np.testing.assert_array_equal(s.energy(), np.full(replicas, -2 * 1.5 - 0.5))


@pytest.mark.parametrize("replicas,algorithm", [(128, "metropolis"), (7, "metropolis"), (7, "heatbath")])
def test_spins_roundtrip_and_measurements_match_numpy(replicas, algorithm):
    rng = np.random.default_rng(1)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(replicas, 6, 6))
    s = dc.IsingModel(6, J=-0.5, h=0.25).sampler(2.0, replicas=replicas, algorithm=algorithm, init=spins)
    np.testing.assert_array_equal(s.spins, spins)
    s.sweep(3)
    spins = s.spins
    m = spins.mean(axis=(1, 2))
    bonds = (spins * np.roll(spins, 1, 1) + spins * np.roll(spins, 1, 2)).sum(axis=(1, 2)) / 36
    np.testing.assert_allclose(s.magnetization(), m, rtol=0, atol=1e-15)
    np.testing.assert_allclose(s.energy(), 0.5 * bonds - 0.25 * m, rtol=0, atol=1e-15)
    s.spins = -spins
    np.testing.assert_array_equal(s.spins, -spins)


def test_random_init_is_fair_and_seeded():
    a = dc.IsingModel(32).sampler(2.0, replicas=64, seed=9).spins
    assert abs(a.mean()) < 4 / math.sqrt(a.size)
    np.testing.assert_array_equal(a, dc.IsingModel(32).sampler(2.0, replicas=64, seed=9).spins)
    assert (a != dc.IsingModel(32).sampler(2.0, replicas=64, seed=10).spins).any()
    # Replicas get different lattices (no shared stream).
    assert (a[0] != a[1]).any()


def test_run_series_shapes_and_relations(capsys):
    s = dc.IsingModel(8).sampler(2.3, replicas=64, seed=2)
    seen = []
    r = s.run(25, measure_every=4, progress=lambda done, total: seen.append((done, total)))
    assert s.sweeps_done == 25
    captured = capsys.readouterr()
    # progress goes through progress= (docs/guide/design.md: Conventions); the library never prints
    assert captured.out == "" and captured.err == "" and seen[-1] == (25, 25)  # every sweep counted, as ClusterSampler (issue 24)
    for a in r:
        assert a.shape == (6, 64)
    np.testing.assert_array_equal(r.abs_m, np.abs(r.m))
    np.testing.assert_array_equal(r.m2, r.m * r.m)
    np.testing.assert_array_equal(r.m4, r.m2 * r.m2)
    np.testing.assert_array_equal(r.m[-1], dc.IsingModel(8).sampler(2.3, replicas=64, seed=2).sweep(24).magnetization())


def test_run_equals_sweeps_then_measurements():
    a = dc.IsingModel(10).sampler(2.1, replicas=5, algorithm="heatbath", seed=4)
    b = dc.IsingModel(10).sampler(2.1, replicas=5, algorithm="heatbath", seed=4)
    r = a.run(9, measure_every=3)
    for k in range(3):
        b.sweep(3)
        np.testing.assert_array_equal(r.e[k], b.energy())
    np.testing.assert_array_equal(a.spins, b.spins)


def test_replicas_are_independent_chains():
    # Replica r of a 128-replica run does not depend on the other replicas' initial state.
    model = dc.IsingModel(8)
    spins = np.ones((128, 8, 8), dtype=np.int8)
    a = model.sampler(2.5, replicas=128, seed=6, init=spins).sweep(5).spins
    spins[1:] = -1
    b = model.sampler(2.5, replicas=128, seed=6, init=spins).sweep(5).spins
    np.testing.assert_array_equal(a[0], b[0])


# ---- block spins -------------------------------------------------------------------------------------


def test_block_spin_majority_against_numpy():
    rng = np.random.default_rng(3)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(16, 12, 12))
    out = dc.block_spin(spins, 2, seed=7)
    sums = spins.reshape(16, 6, 2, 6, 2).sum(axis=(2, 4))
    decided = sums != 0
    np.testing.assert_array_equal(out[decided], np.sign(sums[decided]))
    assert set(np.unique(out[~decided])) <= {-1, 1}
    # Ties are broken by fair, seeded coins.
    ties = out[~decided]
    assert ties.size > 150 and abs(ties.mean()) < 4 / math.sqrt(ties.size)
    np.testing.assert_array_equal(out, dc.block_spin(spins, 2, seed=7))
    other = dc.block_spin(spins, 2, seed=8)
    np.testing.assert_array_equal(other[decided], out[decided])
    assert (other[~decided] != out[~decided]).any()


def test_block_spin_odd_blocks_decimation_and_shapes():
    rng = np.random.default_rng(4)
    spins = rng.choice([-1.0, 1.0], size=(2, 3, 9, 9))
    out = dc.block_spin(spins, 3)
    assert out.shape == (2, 3, 3, 3) and out.dtype == np.int8
    np.testing.assert_array_equal(out, np.sign(spins.reshape(2, 3, 3, 3, 3, 3).sum(axis=(3, 5))))
    np.testing.assert_array_equal(dc.block_spin(spins, 3, rule="decimation"), spins[..., ::3, ::3])
    np.testing.assert_array_equal(dc.block_spin(spins[0, 0], 1), spins[0, 0])


def test_block_spin_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    spins = torch.ones((2, 4, 4), dtype=torch.int64)
    out = dc.block_spin(spins)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 2, 2) and bool((out == 1).all())


def test_block_spin_flows_to_order_and_disorder():
    # Renormalization: blocking an L = 32 lattice by b = 4 gives 8 x 8 lattices that look like a direct
    # 8 x 8 system at a lower temperature below T_c (U closer to 2/3) and at a higher one above T_c
    # (U closer to 0). The gaps (0.024 at T = 2.15, 0.22 at T = 2.4) are several standard errors (~0.003).
    for T, direction in ((2.15, +1), (2.4, -1)):
        s = dc.IsingModel(32).sampler(T, replicas=256, seed=1).sweep(300)
        m_block = []
        for k in range(40):
            s.sweep(5)
            m_block.append(dc.block_spin(s.spins, 4, seed=k).mean(axis=(1, 2)))
        direct = dc.IsingModel(8).sampler(T, replicas=1024, seed=2).sweep(300).run(400, measure_every=2).m
        gap = ising.binder_cumulant(np.array(m_block)) - ising.binder_cumulant(direct)
        assert direction * gap > 0.012, (T, gap)


# ---- k-local Boltzmann sampler --------------------------------------------------------------------


def random_terms(n: int, count: int, seed: int) -> dict[tuple[int, ...], float]:
    rng = np.random.default_rng(seed)
    terms: dict[tuple[int, ...], float] = {}
    while len(terms) < count:
        order = int(rng.integers(1, 5))
        idx = tuple(sorted(int(i) for i in rng.choice(n, size=order, replace=False)))
        terms[idx] = float(rng.normal(scale=0.6))
    return terms


def exact_boltzmann(n: int, terms: dict, T: float) -> tuple[np.ndarray, np.ndarray]:
    """States (2^n, n) with spin i = bit i, and their exact probabilities."""
    codes = np.arange(2**n)
    s = ((codes[:, None] >> np.arange(n)) & 1) * 2 - 1
    H = np.zeros(2**n)
    for idx, c in terms.items():
        H += c * np.prod(s[:, list(idx)], axis=1)
    p = np.exp(-(H - H.min()) / T)
    return s, H, p / p.sum()


def test_boltzmann_matches_exact_distribution():
    stats = pytest.importorskip("scipy.stats")
    n, T = 8, 1.0
    terms = random_terms(n, 14, seed=11)
    states, H, p = exact_boltzmann(n, terms, T)
    sampler = dc.BoltzmannSampler(n, terms, temperature=T, replicas=20000, seed=1)
    assert sampler.n_colours >= 2
    sampler.sweep(100)
    # Final states of independent replicas are independent samples: a chi-square test of the histogram.
    codes = ((sampler.spins > 0).astype(np.int64) << np.arange(n)).sum(axis=1)
    counts = np.bincount(codes, minlength=2**n)
    expected = p * codes.size
    big = expected >= 5
    observed = np.append(counts[big], counts[~big].sum())
    expect = np.append(expected[big], expected[~big].sum())
    chi2 = ((observed - expect) ** 2 / expect).sum()
    assert stats.chi2.sf(chi2, observed.size - 1) > 1e-4
    # And the energy the sampler reports is H of its spins.
    np.testing.assert_allclose(sampler.energy(), H[codes], rtol=1e-12, atol=1e-12)


def test_boltzmann_time_averages_match_exact():
    n, T = 12, 1.5
    terms = random_terms(n, 24, seed=12)
    _, H, p = exact_boltzmann(n, terms, T)
    sampler = dc.BoltzmannSampler(n, list(terms.items()), temperature=T, replicas=256, seed=2)
    sampler.sweep(50)
    series = sampler.run(600, measure_every=2)
    mean, err = replica_mean_and_error(series.energy)
    assert abs(mean - p @ H) < 4.5 * err


def test_boltzmann_on_lattice_matches_ising_sampler():
    L, T, h = 8, 2.4, 0.15
    terms = {}
    for i, j in itertools.product(range(L), range(L)):
        site = i * L + j
        terms[(site, i * L + (j + 1) % L)] = -1.0
        terms[(site, ((i + 1) % L) * L + j)] = -1.0
        terms[(site,)] = -h
    b = dc.BoltzmannSampler(L * L, terms, temperature=T, replicas=256, seed=3)
    colours = b.colours.reshape(L, L)
    assert b.n_colours == 2 and (colours == np.add.outer(np.arange(L), np.arange(L)) % 2).all()
    b.sweep(200)
    eb = b.run(800, measure_every=2).energy / (L * L)
    s = dc.IsingModel(L, h=h).sampler(T, replicas=256, seed=3).sweep(200)
    es = s.run(800, measure_every=2).e
    (mb, sb), (ms, ss) = replica_mean_and_error(eb), replica_mean_and_error(es)
    assert abs(mb - ms) < 4.5 * math.hypot(sb, ss)


def test_boltzmann_accepts_single_int_terms_and_sets_spins():
    b = dc.BoltzmannSampler(3, [(0, 1.0), ((1, 2), -0.5)], temperature=1.0, replicas=4)
    b.spins = np.ones((4, 3), dtype=np.int8)
    np.testing.assert_array_equal(b.energy(), np.full(4, 0.5))
    assert b.sweep(2).sweeps_done == 2


# ---- determinism: threads and SIMD targets ----------------------------------------------------------


def _all_outputs() -> list[np.ndarray]:
    out = []
    for model, kw in (
        (dc.IsingModel(16), dict(replicas=128)),                            # multi-spin, two classes
        (dc.IsingModel(34), dict(replicas=64)),   # two classes, rows of 17 sites: 8-site blocks and a wrapped end
        (dc.IsingModel(4), dict(replicas=64)),    # two classes, a row shorter than one 8-site block
        (dc.IsingModel(16, J=-1.0, h=0.4), dict(replicas=64)),              # multi-spin, generic classes
        (dc.IsingModel(14, h=0.1), dict(replicas=9)),                       # int8 Metropolis
        (dc.IsingModel(14, J=0.8), dict(replicas=9, algorithm="heatbath")),  # int8 heat-bath
        (dc.IsingModel(12, h=-0.2), dict(replicas=3, algorithm="heatbath")),
        # int8 rows long enough for the vector blocks (16 sites on AVX-512, 8 on AVX2) with scalar ends
        (dc.IsingModel(40, h=0.1), dict(replicas=3)),
        (dc.IsingModel(38, J=-0.7), dict(replicas=2, algorithm="heatbath")),
    ):
        for T in (1.5, ising.CRITICAL_TEMPERATURE):
            s = model.sampler(T, seed=123, **kw)
            r = s.run(12, measure_every=3)
            out += [s.spins, r.m, r.e]
            out.append(dc.block_spin(s.spins, 2, seed=5))
    # Calls big enough to use two threads: rows of one lattice split among threads (the first two), and
    # whole lattices per thread (the last two).
    for model, kw, n in (
        (dc.IsingModel(256, h=0.3), dict(replicas=64), 2),
        (dc.IsingModel(512), dict(replicas=1, algorithm="heatbath"), 2),
        (dc.IsingModel(64), dict(replicas=128), 8),
        (dc.IsingModel(64, h=0.1), dict(replicas=4), 8),
    ):
        s = model.sampler(2.2, seed=7, **kw).sweep(n)
        out += [s.spins, s.energy()]
    b = dc.BoltzmannSampler(40, random_terms(40, 60, seed=3), temperature=0.9, replicas=33, seed=4)
    out += [b.sweep(7).spins, b.energy()]
    return out


def test_one_and_two_threads_and_every_simd_target_identical():
    with simd("scalar"), threads(1):
        reference = _all_outputs()
    for target in dc.simd_targets():
        for k in (1, 2):
            with simd(target), threads(k):
                got = _all_outputs()
            for a, b in zip(reference, got):
                np.testing.assert_array_equal(a, b, err_msg=f"{target}, {k} threads")


# ---- bad input ---------------------------------------------------------------------------------------


def test_bad_input_raises_value_error_naming_argument():
    model = dc.IsingModel(8)
    with pytest.raises(ValueError, match="L must be even"):
        dc.IsingModel(7)
    with pytest.raises(ValueError, match="L must be >= 2, got 0"):
        dc.IsingModel(0)
    for T in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature"):
            model.sampler(T)
        with pytest.raises(ValueError, match="temperature"):
            dc.BoltzmannSampler(2, {(0, 1): 1.0}, temperature=T, replicas=1)
        with pytest.raises(ValueError, match="T"):
            ising.exact_energy(8, T)
    with pytest.raises(ValueError, match="replicas"):
        model.sampler(2.0, replicas=0)
    with pytest.raises(ValueError, match="replicas"):
        dc.BoltzmannSampler(2, {(0, 1): 1.0}, temperature=1.0, replicas=-3)
    with pytest.raises(ValueError, match="algorithm"):
        model.sampler(2.0, algorithm="glauber")
    with pytest.raises(ValueError, match="init"):
        model.sampler(2.0, init="down")
    with pytest.raises(ValueError, match="kernel"):
        model.sampler(2.0, replicas=10, kernel="multispin")
    bad = np.ones((64, 8, 8), dtype=np.int8)
    bad[3, 2, 1] = 0
    with pytest.raises(ValueError, match=r"init.*-1 and \+1"):
        model.sampler(2.0, init=bad)
    with pytest.raises(ValueError, match="init must have shape"):
        model.sampler(2.0, init=np.ones((2, 8, 8)))
    s = model.sampler(2.0)
    with pytest.raises(ValueError, match="spins"):
        s.spins = bad
    with pytest.raises(ValueError, match="spins"):
        dc.block_spin(bad)
    with pytest.raises(ValueError, match="b must divide L"):
        dc.block_spin(np.ones((8, 8)), 3)
    with pytest.raises(ValueError, match="b"):
        dc.block_spin(np.ones((8, 8)), 0)
    with pytest.raises(ValueError, match="rule"):
        dc.block_spin(np.ones((8, 8)), rule="mean")
    with pytest.raises(ValueError, match="spins must have shape"):
        dc.block_spin(np.ones((8, 6)))
    with pytest.raises(ValueError, match="n_sweeps"):
        s.run(-1)
    with pytest.raises(ValueError, match="measure_every"):
        s.run(10, measure_every=0)
    with pytest.raises(ValueError, match="out of range"):
        dc.BoltzmannSampler(3, {(0, 3): 1.0}, temperature=1.0, replicas=1)
    with pytest.raises(ValueError, match="out of range"):
        dc.BoltzmannSampler(3, {(-1,): 1.0}, temperature=1.0, replicas=1)
    with pytest.raises(ValueError, match="order 5"):
        dc.BoltzmannSampler(6, {(0, 1, 2, 3, 4): 1.0}, temperature=1.0, replicas=1)
    with pytest.raises(ValueError, match="order 0"):
        dc.BoltzmannSampler(6, {(): 1.0}, temperature=1.0, replicas=1)
    with pytest.raises(ValueError, match="repeats"):
        dc.BoltzmannSampler(6, {(1, 1): 1.0}, temperature=1.0, replicas=1)
    with pytest.raises(ValueError, match="coefficient"):
        dc.BoltzmannSampler(6, {(1, 2): float("nan")}, temperature=1.0, replicas=1)
    with pytest.raises(TypeError, match="terms"):
        dc.BoltzmannSampler(6, 3, temperature=1.0, replicas=1)
    with pytest.raises(TypeError, match="replicas"):
        model.sampler(2.0, replicas=64.0)


def test_core_rechecks_invariants():
    # The private core must refuse bad input on its own (never crash), with ValueError.
    with pytest.raises(ValueError, match="L must be even"):
        _core.IsingChain(7, 1.0, 0.0, 2.0, 64, False, True, 0, True)
    with pytest.raises(ValueError, match="temperature"):
        _core.IsingChain(8, 1.0, 0.0, float("nan"), 64, False, True, 0, True)
    with pytest.raises(ValueError, match="replicas"):
        _core.IsingChain(8, 1.0, 0.0, 2.0, 0, False, False, 0, True)
    with pytest.raises(ValueError, match="multiple of 64"):
        _core.IsingChain(8, 1.0, 0.0, 2.0, 65, False, True, 0, True)
    chain = _core.IsingChain(8, 1.0, 0.0, 2.0, 64, False, True, 0, True)
    with pytest.raises(ValueError, match="spins has shape"):
        chain.set_spins(np.ones((64, 8, 6), dtype=np.int8))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        chain.set_spins(np.zeros((64, 8, 8), dtype=np.int8))
    with pytest.raises(ValueError, match="n must be"):
        chain.sweep(-1)
    with pytest.raises(ValueError, match="b must divide L"):
        _core.block_spin(np.ones((1, 8, 8), dtype=np.int8), 3, 0, 0)
    with pytest.raises(ValueError, match="only -1"):
        _core.block_spin(np.zeros((1, 8, 8), dtype=np.int8), 2, 0, 0)
    idx = np.array([[0, 5, -1, -1]], dtype=np.int32)
    with pytest.raises(ValueError, match="index 5 but n_spins is 3"):
        _core.BoltzmannChain(3, idx, np.ones(1), 1.0, 1, 0)
    with pytest.raises(ValueError, match="term_indices has shape"):
        _core.BoltzmannChain(3, np.zeros((1, 5), dtype=np.int32), np.ones(1), 1.0, 1, 0)
    with pytest.raises(ValueError, match="repeats"):
        _core.BoltzmannChain(3, np.array([[1, 1, -1, -1]], dtype=np.int32), np.ones(1), 1.0, 1, 0)


# ---- partition invariance and checkpoints (issue 12 §1) --------------------------------------------

ALGORITHMS = [  # (sampler keywords, replicas of the whole batch, the cut points of its pieces)
    (dict(algorithm="metropolis", kernel="multispin"), 192, [0, 64, 192]),
    (dict(algorithm="metropolis", kernel="int8"), 11, [0, 3, 4, 11]),
    (dict(algorithm="heatbath"), 11, [0, 5, 11]),
    (dict(algorithm="metropolis", kernel="multispin", init="up"), 128, [0, 64, 128]),
]


@pytest.mark.parametrize("h", [0.0, 0.3])
@pytest.mark.parametrize(("kw", "replicas", "cuts"), ALGORITHMS)
def test_replica_pieces_with_first_replica_equal_one_sampler(kw, replicas, cuts, h):
    model = dc.IsingModel(6, h=h)
    whole = model.sampler(2.3, replicas=replicas, seed=21, **kw)
    whole.sweep(5)
    pieces = [model.sampler(2.3, replicas=b - a, seed=21, first_replica=a, **kw) for a, b in zip(cuts[:-1], cuts[1:])]
    for p in pieces:
        assert p.kernel == whole.kernel
        p.sweep(2).sweep(3)
    np.testing.assert_array_equal(np.concatenate([p.spins for p in pieces]), whole.spins)
    np.testing.assert_array_equal(np.concatenate([p.energy() for p in pieces]), whole.energy())


def test_boltzmann_pieces_with_first_replica_equal_one_sampler():
    terms = random_terms(30, 50, seed=8)
    whole = dc.BoltzmannSampler(30, terms, temperature=1.1, replicas=9, seed=5).sweep(6)
    pieces = [dc.BoltzmannSampler(30, terms, temperature=1.1, replicas=b - a, seed=5, first_replica=a).sweep(6)
              for a, b in [(0, 2), (2, 3), (3, 9)]]
    np.testing.assert_array_equal(np.concatenate([p.spins for p in pieces]), whole.spins)


@pytest.mark.parametrize(("kw", "replicas", "cuts"), ALGORITHMS[:3])
def test_ising_checkpoint_and_pickle_continue_bit_identically(kw, replicas, cuts):
    import pickle

    model = dc.IsingModel(8, J=-0.7, h=0.2)
    s = model.sampler(1.9, replicas=replicas, seed=2**63 + 5, first_replica=64, **kw).sweep(3)
    state = s.state()
    assert state["sweeps_done"] == 3 and state["first_replica"] == 64
    assert state["spins"].dtype == np.uint8 and state["spins"].nbytes == replicas * 8 * 8 // 8
    restored = dc.IsingSampler.from_state(pickle.loads(pickle.dumps(state)))
    unpickled = pickle.loads(pickle.dumps(s))
    for other in (restored, unpickled):
        assert (other.kernel, other.algorithm, other.sweeps_done) == (s.kernel, s.algorithm, 3)
        np.testing.assert_array_equal(other.spins, s.spins)
    s.sweep(4)
    for other in (restored, unpickled):
        other.sweep(4)
        np.testing.assert_array_equal(other.spins, s.spins)
        assert other.sweeps_done == 7
    # And against a sampler that never stopped.
    straight = model.sampler(1.9, replicas=replicas, seed=2**63 + 5, first_replica=64, **kw).sweep(7)
    np.testing.assert_array_equal(straight.spins, s.spins)


def test_boltzmann_checkpoint_and_pickle_continue_bit_identically():
    import pickle

    terms = random_terms(25, 40, seed=2)
    b = dc.BoltzmannSampler(25, terms, temperature=0.8, replicas=5, seed=3, first_replica=7).sweep(2)
    restored = dc.BoltzmannSampler.from_state(b.state())
    unpickled = pickle.loads(pickle.dumps(b))
    b.sweep(3)
    for other in (restored, unpickled):
        assert other.first_replica == 7
        np.testing.assert_array_equal(other.sweep(3).spins, b.spins)
        np.testing.assert_array_equal(other.energy(), b.energy())
        assert other.sweeps_done == 5


def test_bad_offsets_and_states():
    model = dc.IsingModel(4)
    with pytest.raises(ValueError, match="first_replica must be >= 0"):
        model.sampler(2.0, first_replica=-1)
    with pytest.raises(TypeError, match="first_replica must be an integer"):
        model.sampler(2.0, first_replica=1.5)
    with pytest.raises(ValueError, match="first_replica must be <="):
        model.sampler(2.0, replicas=3, first_replica=2**32 - 2)
    with pytest.raises(ValueError, match="multiples of 64"):
        model.sampler(2.0, kernel="multispin", first_replica=32)
    assert model.sampler(2.0, first_replica=32).kernel == "int8"
    with pytest.raises(ValueError, match="first_replica"):
        _core.IsingChain(4, 1.0, 0.0, 2.0, 64, False, True, 0, True, 32)
    with pytest.raises(ValueError, match="first_replica \\+ replicas"):
        _core.BoltzmannChain(3, np.full((0, 4), -1, np.int32), np.zeros(0), 1.0, 5, 0, 2**32 - 4)
    s = model.sampler(2.0, replicas=4, kernel="int8")
    with pytest.raises(TypeError, match="state must be a dict"):
        dc.IsingSampler.from_state([1, 2])
    with pytest.raises(ValueError, match="expected 'IsingSampler'"):
        dc.IsingSampler.from_state(dc.BoltzmannSampler(2, {(0, 1): 1.0}, temperature=1.0, replicas=1).state())
    state = s.state()
    with pytest.raises(ValueError, match="lacks spins"):
        dc.IsingSampler.from_state({k: v for k, v in state.items() if k != "spins"})
    with pytest.raises(ValueError, match="uint8 array of shape \\(4, 2\\)"):
        dc.IsingSampler.from_state({**state, "spins": state["spins"][:2]})
    with pytest.raises(ValueError, match="version"):
        dc.IsingSampler.from_state({**state, "version": 99})
    with pytest.raises(ValueError, match="at most 2\\^32 sweeps"):
        s._chain.set_sweeps_done(2**32 + 1)


# ---- one sampler, several Python threads (issue 15 §1) ----------------------------------------------


@pytest.mark.parametrize("kw", [dict(kernel="multispin"), dict(kernel="int8", replicas=7), dict(algorithm="heatbath")])
def test_threads_hammering_one_sampler_give_the_sequential_result(kw):
    import threading

    model = dc.IsingModel(16)
    shared = model.sampler(2.2, seed=3, **kw)
    calls = [2, 3, 1, 4]  # per thread; sweeps commute, so any interleaving must equal the sum in sequence
    barrier = threading.Barrier(4)
    energies = []

    def work():
        barrier.wait()
        for n in calls:
            shared.sweep(n)
            energies.append(shared.energy())  # a read between writes never sees a half-swept lattice
        shared.run(3)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    sequential = model.sampler(2.2, seed=3, **kw).sweep(4 * (sum(calls) + 3))
    assert shared.sweeps_done == sequential.sweeps_done == 4 * (sum(calls) + 3)
    np.testing.assert_array_equal(shared.spins, sequential.spins)


def test_separate_samplers_in_threads_equal_their_sequential_runs():
    import threading

    model = dc.IsingModel(16)
    samplers = [model.sampler(2.2, seed=k) for k in range(3)]
    samplers.append(dc.BoltzmannSampler(30, random_terms(30, 50, seed=1), temperature=1.0, replicas=8, seed=9))
    workers = [threading.Thread(target=s.sweep, args=(40,)) for s in samplers]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for k in range(3):
        np.testing.assert_array_equal(samplers[k].spins, model.sampler(2.2, seed=k).sweep(40).spins)
    again = dc.BoltzmannSampler(30, random_terms(30, 50, seed=1), temperature=1.0, replicas=8, seed=9).sweep(40)
    np.testing.assert_array_equal(samplers[3].spins, again.spins)


# ---- graceful under load (issue 15 §2): chunks of rows advance without a barrier per colour ----------


@pytest.mark.parametrize(("L", "kw", "n"), [
    (64, dict(replicas=64), 16),                       # two chunks per lattice: each is both neighbours
    (256, dict(replicas=64, h=0.2), 3),                # 32 chunks, the two-class and general updates
    (96, dict(replicas=3, kernel="int8"), 4),          # three lattices of one chunk each
    (256, dict(replicas=1, algorithm="heatbath"), 3),  # one lattice in four chunks of rows
])
def test_wavefront_sweeps_equal_serial_sweeps_on_any_thread_count(L, kw, n):
    h = kw.pop("h", 0.0)
    model = dc.IsingModel(L, h=h)
    with threads(1):
        want = model.sampler(2.3, seed=11, **kw).sweep(n).spins
    for k in (2, 3, 5):
        with threads(k):
            s = model.sampler(2.3, seed=11, **kw).sweep(n - 1).sweep(1)
        np.testing.assert_array_equal(s.spins, want, err_msg=f"{k} threads")


# ---- the Philox counter layout, re-implemented in numpy (issue 9) ----------------------------------
# Written from the layout documented in deepcheap/ising/ising.hpp, with its own acceptance tables
# (Python's math.exp, glibc's, as the driver uses) and its own neighbour sums and bit-serial test.

PURPOSE_MULTISPIN, PURPOSE_INT8, PURPOSE_INIT = 0x15100000, 0x15200000, 0x15300000


def philox_numpy(counters, key, rounds):
    """Philox4x32 with `rounds` rounds (Salmon et al., SC'11), written here in numpy: (n, 4) uint32."""
    c = [np.asarray(counters, dtype=np.uint64)[:, k] & np.uint64(0xFFFFFFFF) for k in range(4)]
    k0, k1, low = int(key[0]), int(key[1]), np.uint64(0xFFFFFFFF)
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
        p0, p1 = c[0] * np.uint64(0xD2511F53), c[2] * np.uint64(0xCD9E8D57)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & low,
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & low]
    return np.stack(c, 1).astype(np.uint32)


def _philox(counters, seed, rounds=10):
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
    if rounds != 10:  # the sweeps of rng="philox7"
        return philox_numpy(np.asarray(counters, dtype=np.uint64).astype(np.uint32), key, rounds)
    return dc.random.philox4x32(np.asarray(counters, dtype=np.uint64).astype(np.uint32), key)


def _probability_threshold(p: float, bits: int) -> int:
    return 1 << bits if p >= 1.0 else (0 if p <= 0.0 else int(math.ldexp(p, bits)))


def _reference_init(replicas, L, seed, first_replica=0):
    sites = L * L
    draws = (sites + 127) // 128
    r, d = np.meshgrid(np.arange(replicas, dtype=np.uint64) + np.uint64(first_replica), np.arange(draws), indexing="ij")
    r, d = r.ravel(), d.ravel().astype(np.uint64)
    words = _philox(np.stack([d, 0 * d, r & np.uint64(0xFFFFFFFF), np.uint64(PURPOSE_INIT) | (r >> np.uint64(32))], 1), seed)
    bits = ((words[:, :, None] >> np.arange(32, dtype=np.uint32)) & 1).reshape(replicas, draws * 128)[:, :sites]
    return (bits.astype(np.int8) * 2 - 1).reshape(replicas, L, L)


def _neighbour_sum(s):
    return np.roll(s, 1, -2) + np.roll(s, -1, -2) + np.roll(s, 1, -1) + np.roll(s, -1, -1)


def _reference_int8_sweeps(spins, J, h, T, heatbath, seed, sweeps, first_replica=0, rounds=10):
    s = spins.astype(np.int64).copy()
    R, L, _ = s.shape
    beta, dpr = 1.0 / T, (L // 2 + 3) // 4
    i, j = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    for sweep in range(sweeps):
        for colour in (0, 1):
            ci, cj = i[(i + j) % 2 == colour], j[(i + j) % 2 == colour]
            t = (cj - ((colour + ci) & 1)) // 2  # position of the site among its row's colour sites
            purpose = PURPOSE_INT8 | colour << 8 | int(heatbath)
            rr = np.repeat(np.arange(R) + first_replica, len(ci))
            counters = np.stack([np.tile(ci * dpr + t // 4, R), rr, np.full(rr.shape, sweep), np.full(rr.shape, purpose)], 1)
            u = _philox(counters, seed, rounds)[np.arange(len(rr)), np.tile(t % 4, R)].reshape(R, -1).astype(np.int64)
            k = (_neighbour_sum(s)[:, ci, cj] + 4) // 2  # 0..4 aligned neighbours
            here = s[:, ci, cj]
            if heatbath:  # P(+1) = 1 / (1 + exp(2 beta F)), F = -(J sum + h), on the 2^32 scale
                table = []
                for a in range(5):
                    f = -beta * (J * (2 * a - 4) + h)
                    q = math.exp(-2 * f) / (1 + math.exp(-2 * f)) if f >= 0 else 1 / (1 + math.exp(2 * f))
                    table.append(1 << 32 if q * 2.0**32 >= 2.0**32 else int(q * 2.0**32))
                s[:, ci, cj] = np.where(u < np.array(table)[k], 1, -1)
            else:  # flip with probability min(1, exp(-beta dE)), dE = 2 s (J sum + h)
                table = [_probability_threshold(1.0 if dE <= 0 else math.exp(-beta * dE), 32)
                         for a in range(5) for dE in (-2.0 * (J * (2 * a - 4) + h), 2.0 * (J * (2 * a - 4) + h))]
                s[:, ci, cj] = np.where(u < np.array(table)[2 * k + (here > 0)], -here, here)
    return s.astype(np.int8)


def _reference_multispin_sweeps(spins, J, h, T, seed, sweeps, first_replica=0, rounds=10):
    R, L, _ = spins.shape
    beta = 1.0 / T
    groups = R // 64
    weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
    words = ((spins.reshape(groups, 64, L, L) > 0).astype(np.uint64) * weights[None, :, None, None]).sum(1, dtype=np.uint64)
    classes = []  # (satisfied bonds, spin 0/1/2, threshold on the 2^64 scale)
    for S in range(5):
        t, always = {}, {}
        for up in (0, 1):
            dE = 4.0 * abs(J) * (S - 2) + 2.0 * h * (1 if up else -1)
            p = 1.0 if dE <= 0 else math.exp(-beta * dE)
            always[up], t[up] = p >= 1.0, _probability_threshold(p, 64)
        if not always[0] and not always[1] and t[0] == t[1]:
            classes.append((S, 2, t[0]))
        else:
            classes += [(S, up, t[up]) for up in (0, 1) if not always[up]]
    ones = ~np.uint64(0)
    i, j = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    for sweep in range(sweeps):
        for colour in (0, 1):
            ci, cj = i[(i + j) % 2 == colour], j[(i + j) % 2 == colour]
            n = len(ci)
            s = words[:, ci, cj]
            sat = []
            for nb in (np.roll(words, 1, 1), np.roll(words, -1, 1), np.roll(words, 1, 2), np.roll(words, -1, 2)):
                x = s ^ nb[:, ci, cj]
                sat.append(~x if J >= 0 else x)
            count = sum(((b[..., None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int64) for b in sat)
            masks, need = [], np.zeros_like(s)
            for S, spin, _ in classes:
                m = ((count == S).astype(np.uint64) * weights).sum(-1, dtype=np.uint64)
                m &= ones if spin == 2 else (s if spin == 1 else ~s)
                masks.append(m)
                need |= m
            g = np.repeat(np.arange(groups) + first_replica // 64, n)
            site = np.tile(ci * L + cj, groups)
            und, acc = need.copy(), np.zeros_like(s)
            for q in range(32):
                purpose = (PURPOSE_MULTISPIN | colour << 8) + q
                w = _philox(np.stack([site, g, np.full(g.shape, sweep), np.full(g.shape, purpose)], 1), seed,
                            rounds).astype(np.uint64)
                for half in (0, 1):
                    r = ((w[:, 2 * half + 1] << np.uint64(32)) | w[:, 2 * half]).reshape(groups, n)
                    k = 2 * q + half
                    bits = np.zeros_like(s)
                    for m, (_, _, thr) in zip(masks, classes):
                        if (thr >> (63 - k)) & 1:
                            bits |= m
                    acc |= und & bits & ~r
                    und &= ~(r ^ bits)
            words[:, ci, cj] = s ^ (~need | acc)
    bits = (words[:, None] >> np.arange(64, dtype=np.uint64)[None, :, None, None]) & np.uint64(1)
    return (bits.astype(np.int8) * 2 - 1).reshape(R, L, L)


RNG_ROUNDS = {"philox": 10, "philox7": 7}


@pytest.mark.parametrize("rng", ["philox", "philox7"])
@pytest.mark.parametrize(("J", "h", "T"), [(1.0, 0.0, 2.3), (1.0, 0.4, 1.8), (-0.8, 0.3, 1.5)])
def test_multispin_counter_layout_matches_numpy(J, h, T, rng, each_simd_target):
    model = dc.IsingModel(6, J=J, h=h)
    s = model.sampler(T, replicas=128, seed=2**33 + 9, kernel="multispin", first_replica=64, rng=rng)
    start = _reference_init(128, 6, 2**33 + 9, first_replica=64)
    np.testing.assert_array_equal(s.spins, start)
    np.testing.assert_array_equal(s.sweep(3).spins,
                                  _reference_multispin_sweeps(start, J, h, T, 2**33 + 9, 3, 64, RNG_ROUNDS[rng]))


@pytest.mark.parametrize("rng", ["philox", "philox7"])
@pytest.mark.parametrize("heatbath", [False, True])
@pytest.mark.parametrize(("J", "h", "T"), [(1.0, 0.0, 2.3), (-0.7, 0.5, 1.6)])
def test_int8_counter_layout_matches_numpy(J, h, T, heatbath, rng, each_simd_target):
    model = dc.IsingModel(10, J=J, h=h)
    algorithm = "heatbath" if heatbath else "metropolis"
    s = model.sampler(T, replicas=3, seed=5, kernel="int8", algorithm=algorithm, first_replica=7, rng=rng)
    start = _reference_init(3, 10, 5, first_replica=7)
    np.testing.assert_array_equal(s.spins, start)
    np.testing.assert_array_equal(s.sweep(4).spins,
                                  _reference_int8_sweeps(start, J, h, T, heatbath, 5, 4, 7, RNG_ROUNDS[rng]))


def test_native_entries_refuse_a_state_too_large_to_allocate():
    """The C++ entries that allocate replicas x sites re-check that product themselves (the Python API
    checks memory first; native callers must not rely on it): a clear ValueError, before any allocation,
    instead of a failed multi-terabyte allocation. replicas beyond 2^32 used to wrap the replica-range
    check around (2^32 - replicas in unsigned arithmetic) and pass it."""
    from deepcheap_native import _core

    with pytest.raises(ValueError, match=r"is 1048576 x \(L x L = 1073741824 sites\) = 1125899906842624 but expected at most 2\^46"):
        _core.IsingChain(32768, 1.0, 0.0, 2.5, 2**20, False, False, 1, False)
    with pytest.raises(ValueError, match=r"first_replica \+ replicas is 0 \+ 1099511627776"):
        _core.IsingChain(4, 1.0, 0.0, 2.5, 2**40, False, False, 1, False)
    with pytest.raises(ValueError, match=r"1073741824 spins\) = 1125899906842624 but expected at most 2\^46"):
        _core.BoltzmannChain(2**30, np.zeros((0, 4), np.int32), np.zeros(0), 1.0, 2**20, 1)
    with pytest.raises(ValueError, match=r"L x L = 1073741824 sites\) = 1125899906842624 but expected at most 2\^46"):
        _core.IsingClusterChain(32768, 1.0, 2.5, 2**20, 0, 1, 0, 0, 1)


# ---- the exp every device evaluates alike (common/exp.hpp), used by the heat-bath thresholds ---------


def test_portable_exp_within_two_ulp_of_numpy():
    """The Boltzmann heat bath needs exp of arbitrary local fields; CPU and GPU use one exp written with
    correctly rounded operations only (no contraction), so their thresholds agree bit for bit. Reference:
    numpy's exp (within 1 ulp of the exact value); threshold 2 ulp, checked over 10^6 arguments spread
    over the whole range, the sampler's range [-80, 0] densely, and the special values."""
    from deepcheap_native import _core

    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-745.0, 709.7, 500_000), rng.uniform(-80.0, 0.0, 500_000),
                        np.linspace(-1.0, 1.0, 2001), [0.0, -0.0, 1e-300, -1e-300, np.log(2.0), 709.78]])
    got, ref = _core._portable_exp(x), np.exp(x)
    ulp = np.spacing(np.abs(ref))
    assert np.max(np.abs(got - ref) / ulp) <= 2.0
    assert _core._portable_exp(np.array([0.0]))[0] == 1.0
    special = _core._portable_exp(np.array([np.nan, np.inf, -np.inf, 710.0, -746.0, -745.0, -740.0]))
    assert np.isnan(special[0]) and special[1] == np.inf and special[3] == np.inf
    assert special[2] == 0.0 and special[4] == 0.0
    # the subnormal range: exact powers of two land on the nearest subnormal
    np.testing.assert_array_equal(special[5:], np.exp([-745.0, -740.0]))
