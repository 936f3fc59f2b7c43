"""Hot paths under load: each one at 1 and 2 native threads, alone and beside one and two CPU-bound
competitor processes (a Python busy loop each), so a kernel that waits at barriers for a thread the
OS has not scheduled shows up as 2 threads slower than 1 (issue 15 §2: under load 2 threads should be
at most 10 % slower than 1; idle, 2 threads should keep their speed-up).

    python benchmarks/bench_load.py [--rounds 5]            # the table: rates and 2t/1t per load
    python -m pytest benchmarks/bench_load.py --benchmark-enable --benchmark-min-rounds=5

Every case also asserts its answer: the result with k threads and c competitors equals the result of
one thread on a quiet machine, bit for bit (Philox streams are keyed by item, never by thread).
Rates are per unit of work: samples, transitions, spin flips, gate evaluations.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before the OpenMP runtime loads

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc

SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"
BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"


class Competitors:
    """n CPU-bound processes (busy loops), started and stopped by this object only."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Competitors:
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        time.sleep(0.2 if self.procs else 0)  # let them reach their loops
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []


def _product() -> tuple[Callable[[], np.ndarray], int, str]:
    B = 4096 if SMALL else 1 << 18
    x = np.random.default_rng(0).uniform(0.5, 1.0, (B, 16)).astype(np.float32)
    net = dc.product_network(16, scale=0.1, dtype="float32")
    out = np.empty(B, np.float32)
    return (lambda: net(x, out=out).copy()), B, "samples"


def _markov() -> tuple[Callable[[], np.ndarray], int, str]:
    n, T = (1000, 20) if SMALL else (100_000, 100)
    P = np.random.default_rng(1).random((16, 16)) ** 2
    chain = dc.MarkovChain(P / P.sum(axis=1, keepdims=True))
    return (lambda: chain.sample(n, T, seed=3)), n * T, "transitions"


def _ising() -> tuple[Callable[[], np.ndarray], int, str]:
    L, sweeps = (32, 1) if SMALL else (256, 4)

    def run() -> np.ndarray:
        s = dc.IsingModel(L).sampler(dc.ising.CRITICAL_TEMPERATURE, replicas=64, seed=5, init="up")
        return s.sweep(sweeps).spins

    return run, 64 * L * L * sweeps, "spin flips"


def _circuit(schedule: str) -> Callable[[], tuple[Callable[[], np.ndarray], int, str]]:
    def make() -> tuple[Callable[[], np.ndarray], int, str]:
        c = dc.Circuit.from_bristol(BRISTOL / "sha256.txt")
        words = 8 if SMALL else (1024 if schedule == "batch" else 64)
        x = np.random.default_rng(2).integers(0, 2**64, (c.n_inputs, words), dtype=np.uint64)
        return (lambda: c.evaluate_packed(x, schedule=schedule)), c.n_gates * 64 * words, "gate evaluations"
    return make


HOT_PATHS: dict[str, Callable[[], tuple[Callable[[], np.ndarray], int, str]]] = {
    "product deep n=16 float32": _product,
    "markov S=16": _markov,
    "ising multispin 64 replicas, T_c": _ising,
    "circuit sha256 batch": _circuit("batch"),
    "circuit sha256 levelized": _circuit("levelized"),
}
_REFERENCES: dict[str, np.ndarray] = {}


def reference(name: str, run: Callable[[], np.ndarray]) -> np.ndarray:
    """One thread, before any competitor starts: what every other run must reproduce."""
    if name not in _REFERENCES:
        before = dc.get_num_threads()
        dc.set_num_threads(1)
        try:
            _REFERENCES[name] = np.asarray(run()).copy()
        finally:
            dc.set_num_threads(before)
    return _REFERENCES[name]


# ---- pytest-benchmark -------------------------------------------------------------------------------
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("competitors", [0, 1, 2])
@pytest.mark.parametrize("path", list(HOT_PATHS))
def test_hot_path_under_load(benchmark, path, competitors, threads):
    run, units, unit_name = HOT_PATHS[path]()
    expected = reference(path, run)
    before = dc.get_num_threads()
    benchmark.group = f"load {path}, {competitors} competitor(s)"
    benchmark.name = f"native-{threads}t"
    try:
        dc.set_num_threads(threads)
        with Competitors(competitors):
            result = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    finally:
        dc.set_num_threads(before)
    np.testing.assert_array_equal(np.asarray(result), expected)
    benchmark.extra_info.update(threads=threads, competitors=competitors, units=units, unit=unit_name,
                                rate_per_s=units / benchmark.stats.stats.median)


# ---- the table -------------------------------------------------------------------------------------
def measure(rounds: int) -> list[dict]:
    rows = []
    for path, make in HOT_PATHS.items():
        run, units, unit_name = make()
        expected = reference(path, run)
        for competitors in (0, 1, 2):
            times: dict[int, list[float]] = {1: [], 2: []}
            with Competitors(competitors):
                for _ in range(rounds):  # interleaved, so a noisy moment hits both thread counts alike
                    for k in (1, 2):
                        dc.set_num_threads(k)
                        t0 = time.perf_counter()
                        result = run()
                        times[k].append(time.perf_counter() - t0)
                        np.testing.assert_array_equal(np.asarray(result), expected)
            rate = {k: units / statistics.median(v) for k, v in times.items()}
            rows.append({"path": path, "competitors": competitors, "unit": unit_name,
                         "rate_1t": rate[1], "rate_2t": rate[2], "ratio": rate[2] / rate[1]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    before = dc.get_num_threads()
    load = os.getloadavg()[0]
    try:
        rows = measure(args.rounds)
    finally:
        dc.set_num_threads(before)
    print(f"{os.cpu_count()} logical cores, SIMD {dc.simd_target()}, load average {load:.2f} before the run "
          f"(besides our competitors); medians of {args.rounds} interleaved rounds")
    print("| hot path | competitors | 1 thread | 2 threads | 2t / 1t |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['path']} | {r['competitors']} | {r['rate_1t']:.3g} {r['unit']}/s | "
              f"{r['rate_2t']:.3g}/s | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
