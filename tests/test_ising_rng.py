"""The Ising sweeps' two generators (``rng="philox7"``, the default from 0.3.0, and ``rng="philox"``,
the Philox4x32-10 stream of 0.2): Philox4x32-7 against Random123's published known-answer vectors, the
vectorised multi-spin kernel against the numpy re-implementation of the counter layout on every row
shape it special-cases (short rows, row ends, partial blocks), threads and SIMD targets, the generator
carried by state()/from_state()/pickle (old states keep the old stream), and the new stream's
statistics (Onsager/Kaufman)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import simd, threads
from deepcheap_native import ising
from test_ising import _reference_init, _reference_multispin_sweeps, philox_numpy


def test_philox7_numpy_matches_random123_known_answers():
    # Random123's kat_vectors, "philox4x32 7" lines: counter, key -> output.
    cases = [
        ([0, 0, 0, 0], [0, 0], [0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662]),
        ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
         [0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A]),
    ]
    for counter, key, want in cases:
        got = philox_numpy(np.array([counter], dtype=np.uint32), key, 7)[0]
        assert [int(x) for x in got] == want


def test_philox10_numpy_matches_the_package():
    rng = np.random.default_rng(0)
    counters = rng.integers(0, 2**32, size=(64, 4), dtype=np.uint64).astype(np.uint32)
    key = np.array([0x12345678, 0x9ABCDEF0], dtype=np.uint32)
    np.testing.assert_array_equal(philox_numpy(counters, key, 10), dc.random.philox4x32(counters, key))


@pytest.mark.parametrize("L", [2, 4, 8, 10, 18])
@pytest.mark.parametrize("rng", ["philox", "philox7"])
def test_two_class_rows_match_numpy(L, rng, each_simd_target):
    """h = 0: the AVX2 kernel's four-site blocks, row ends and partial blocks (L/2 = 1, 2, 4, 5, 9)."""
    model = dc.IsingModel(L, J=-1.0 if L == 10 else 1.0)
    s = model.sampler(2.1, replicas=64, seed=77, rng=rng)
    start = _reference_init(64, L, 77)
    want = _reference_multispin_sweeps(start, model.J, 0.0, 2.1, 77, 3, 0, 7 if rng == "philox7" else 10)
    np.testing.assert_array_equal(s.sweep(3).spins, want)


@pytest.mark.parametrize("rng", ["philox", "philox7"])
def test_threads_and_simd_targets_identical_for_both_generators(rng):
    cases = [(dc.IsingModel(128), 64, 3),           # rows of one lattice split among threads
             (dc.IsingModel(32), 256, 4),           # whole lattices per thread
             (dc.IsingModel(30, h=0.2), 64, 3),     # generic classes
             (dc.IsingModel(20), 5, 3)]             # int8
    def run():
        out = []
        for model, replicas, n in cases:
            s = model.sampler(2.25, replicas=replicas, seed=3, rng=rng).sweep(n)
            out.append(s.spins)
        return out
    with simd("scalar"), threads(1):
        reference = run()
    for target in dc.simd_targets():
        for k in (1, 2):
            with simd(target), threads(k):
                for a, b in zip(reference, run()):
                    np.testing.assert_array_equal(a, b, err_msg=f"{target}, {k} threads, rng={rng}")


def test_default_is_philox7_and_streams_differ():
    model = dc.IsingModel(16)
    a = model.sampler(2.3, seed=5).sweep(4)
    b = model.sampler(2.3, seed=5, rng="philox7").sweep(4)
    c = model.sampler(2.3, seed=5, rng="philox").sweep(4)
    assert a.rng == "philox7" and c.rng == "philox"
    np.testing.assert_array_equal(a.spins, b.spins)
    assert not np.array_equal(a.spins, c.spins)


@pytest.mark.parametrize("rng", ["philox", "philox7"])
def test_state_and_pickle_carry_the_generator(rng):
    s = dc.IsingModel(12).sampler(2.0, replicas=64, seed=9, rng=rng).sweep(3)
    state = s.state()
    assert state["rng"] == rng
    want = s.sweep(2).spins
    again = dc.IsingModel(12).sampler(2.0, replicas=64, seed=9, rng=rng).sweep(3)
    for restored in (type(s).from_state(state), pickle.loads(pickle.dumps(again))):
        assert restored.rng == rng
        np.testing.assert_array_equal(restored.sweep(2).spins, want)
    s.temperature = 2.5  # rebuilt from its state: keeps the generator
    assert s.rng == rng


def test_old_state_without_rng_keeps_philox10():
    old = dc.IsingModel(12).sampler(2.0, replicas=64, seed=9, rng="philox").sweep(3)
    state = old.state()
    del state["rng"]  # a state made by 0.2
    restored = type(old).from_state(state)
    assert restored.rng == "philox"
    np.testing.assert_array_equal(restored.sweep(2).spins, old.sweep(2).spins)


def test_rng_validation():
    model = dc.IsingModel(8)
    with pytest.raises(ValueError, match="rng"):
        model.sampler(2.0, rng="mt19937")
    with pytest.raises(TypeError):
        model.sampler(2.0, rng=7)
    with pytest.raises(ValueError, match="rng applies to the local samplers"):
        model.sampler(2.0, algorithm="wolff", rng="philox")
    state = model.sampler(2.0, seed=1).state()
    state["rng"] = "philox9"
    with pytest.raises(ValueError, match=r"state\['rng'\]"):
        ising.IsingSampler.from_state(state)


@pytest.mark.parametrize(("T", "lo"), [(2.0, 0.9), (2.6, 0.0)])
def test_philox7_stream_matches_exact_energy(T, lo):
    """L = 32, 128 replicas (multi-spin), fixed seed: the mean energy per spin within 0.006 of the exact
    finite-lattice value (Kaufman), about 5 standard errors here, and |m| above `lo` in the ordered phase."""
    s = dc.IsingModel(32).sampler(T, replicas=128, seed=2026, init="up", rng="philox7").sweep(300)
    r = s.run(200, measure_every=2)
    e = float(np.mean(r.e))
    assert abs(e - ising.exact_energy(32, T)) < 0.006, (e, ising.exact_energy(32, T))
    assert float(np.mean(np.abs(r.m))) > lo
