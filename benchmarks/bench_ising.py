"""Ising Metropolis throughput: spin-flip attempts per nanosecond, native multi-spin kernel against a
vectorised numpy checkerboard Metropolis, at L = 256 and 1024, T = 2.0 and T_c.

    pytest benchmarks/bench_ising.py --benchmark-enable --benchmark-min-rounds=3   # pytest-benchmark groups
    python benchmarks/bench_ising.py [--threads 2]                                  # the docs table

Every benchmark checks its answer (the energy per spin after the timed sweeps against the exact value
at T = 2, a physical range at T_c). The GPU figure printed beside ours is the one we track for the
future CUDA path (NVIDIA's ising-gpu multi-spin code reports about 900 flips/ns on one H100); it is
quoted, not measured here.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import ising
from deepcheap_native.testing.peers import numpy_checkerboard_sweep
from deepcheap_native.testing.timing import timed

GPU_REFERENCE_FLIPS_PER_NS = 900.0  # NVIDIA ising-gpu (multi-spin, one H100), quoted
TEMPERATURES = {"2.0": 2.0, "Tc": ising.CRITICAL_TEMPERATURE}
SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
SIZES = (128,) if SMALL else (256, 1024)
NATIVE_REPLICAS = 128  # two 64-replica words per site: with 2 threads each sweeps its own lattices


class NumpyCheckerboard:
    """One L x L lattice under the shared numpy checkerboard Metropolis peer
    (deepcheap_native.testing.peers.numpy_checkerboard_sweep, also used by the report)."""

    def __init__(self, L: int, T: float, seed: int = 0) -> None:
        self.beta = 1.0 / T
        self.rng = np.random.default_rng(seed)
        self.spins = np.ones((1, L, L), dtype=np.int8)

    def sweep(self, n: int) -> None:
        for _ in range(n):
            numpy_checkerboard_sweep(self.spins, self.beta, self.rng)

    def energy(self) -> float:
        s = self.spins[0].astype(np.int64)
        return float(-(s * np.roll(s, 1, 0) + s * np.roll(s, 1, 1)).sum() / s.size)


def native_sampler(L: int, T: float):
    return dc.IsingModel(L).sampler(T, replicas=NATIVE_REPLICAS, seed=1, init="up")


# Both sides do the same number of flip attempts per round, so the pytest-benchmark
# group's time ratio is the speed ratio: native sweeps its replicas, numpy one lattice as many times.
NATIVE_SWEEPS = {128: 8} if SMALL else {256: 2, 1024: 1}  # one untimed call must relax from all-up too


def check_energy(e: float, T: float) -> None:
    if T == 2.0:  # relaxes from the all-up state within a few sweeps at T = 2
        assert abs(e - ising.exact_energy(256, 2.0)) < 0.03, e
    else:  # still relaxing towards -sqrt(2) at T_c: a physical range only
        assert -2.0 < e < -1.2, e


@pytest.mark.parametrize("L", SIZES)
@pytest.mark.parametrize("T_name", list(TEMPERATURES))
@pytest.mark.parametrize("impl", ["native", "numpy"])
def test_ising_flips(benchmark, L, T_name, impl):
    T = TEMPERATURES[T_name]
    benchmark.group = f"ising L={L} T={T_name}"
    n = NATIVE_SWEEPS[L]
    flips = NATIVE_REPLICAS * L * L * n
    if impl == "native":
        s = native_sampler(L, T)
        benchmark.pedantic(s.sweep, args=(n,), rounds=3, iterations=1, warmup_rounds=1)
        check_energy(float(s.energy().mean()), T)
    else:
        p = NumpyCheckerboard(L, T)
        benchmark.pedantic(p.sweep, args=(NATIVE_REPLICAS * n,), rounds=3, iterations=1, warmup_rounds=1)
        check_energy(p.energy(), T)
    benchmark.extra_info["flips_per_ns"] = flips / benchmark.stats.stats.median / 1e9
    benchmark.extra_info["threads"] = dc.get_num_threads()


def median_time(fn, rounds: int = 3) -> float:
    return timed(fn, repeat=rounds).median  # after one warm-up call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dc.set_num_threads(args.threads)
    print(f"threads={args.threads} simd={dc.simd_target()} native replicas={NATIVE_REPLICAS}; "
          f"median of {args.rounds} rounds; flips/ns = spin-flip attempts per nanosecond")
    print(f"{'L':>5} {'T':>4} {'native':>8} {'numpy':>7} {'ratio':>6} {'GPU ref':>8}")
    for L in SIZES:
        for T_name, T in TEMPERATURES.items():
            n = NATIVE_SWEEPS[L] * 4
            s = native_sampler(L, T)
            native = NATIVE_REPLICAS * L * L * n / median_time(lambda: s.sweep(n), args.rounds) / 1e9
            check_energy(float(s.energy().mean()), T)
            p = NumpyCheckerboard(L, T)
            m = NATIVE_SWEEPS[L] * 16
            peer = L * L * m / median_time(lambda: p.sweep(m), args.rounds) / 1e9
            check_energy(p.energy(), T)
            print(f"{L:>5} {T_name:>4} {native:8.2f} {peer:7.3f} {native / peer:5.0f}x {GPU_REFERENCE_FLIPS_PER_NS:8.0f}")


if __name__ == "__main__":
    main()
