"""What interruptibility costs on the hot paths (issue 21: at most 1 %).

Every long native call is cut into chunks of about 50 ms with a poll for Ctrl-C between them
(csrc/include/deepcheap/common/interrupt.hpp). The baseline is the same build with the chunking switched
off (``_core._set_interrupt_chunk(-1)``: every call in one piece, no poll: the drivers' calls before
issue 21), so both run in one process, interleaved round by round:

    python benchmarks/bench_interrupt.py [--rounds 5]     # the table: medians and chunked/one-piece ratio
    python -m pytest benchmarks/bench_interrupt.py        # as a test: small sizes, results bit-identical

Each case also checks that the chunked call's result equals the one-piece call's, bit for bit.

On a shared VM the two medians differ by a few % either way, which hides a cost of 1 %. So the table
also gives each chunked call's polls and a bound: polls × the measured cost of one chunk boundary
(``chunk_overhead``) over the call's time. That bound leaves out only the wait at a chunk's end for its
slowest thread, at most one item.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import deepcheap_native as dc
from deepcheap_native import _core

FULL = os.environ.get("DEEPCHEAP_BENCH_SIZE", "full") != "small"
BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"


def _sweeps(make: Callable[[], object], n: int) -> Callable[[], np.ndarray]:
    def run() -> np.ndarray:
        s = make()
        s.sweep(n)
        return np.asarray(s.spins)
    return run


def cases() -> dict[str, Callable[[], np.ndarray]]:
    f = 1 if FULL else 0
    out: dict[str, Callable[[], np.ndarray]] = {
        "ising multispin sweeps": _sweeps(lambda: dc.IsingModel(256).sampler(2.0, replicas=64, seed=1),
                                          300 if f else 3),
        "ising int8 heat-bath sweeps": _sweeps(
            lambda: dc.IsingModel(128).sampler(2.0, replicas=8, algorithm="heatbath", seed=2), 200 if f else 2),
        "boltzmann sweeps": _sweeps(lambda: dc.BoltzmannSampler(
            400, {(i, (i + 1) % 400): -1.0 for i in range(400)}, 1.5, replicas=128, seed=3), 100 if f else 2),
        "wolff sweeps": _sweeps(lambda: dc.IsingModel(64).sampler(2.3, replicas=8, algorithm="wolff", seed=4),
                                2000 if f else 5),
        "swendsen-wang sweeps": _sweeps(
            lambda: dc.IsingModel(64).sampler(2.3, replicas=8, algorithm="swendsen-wang", seed=5), 300 if f else 3),
    }
    chain = dc.MarkovChain(np.full((16, 16), 1 / 16))
    out["markov sample"] = lambda: chain.sample(200_000 if f else 1000, 1000 if f else 10, seed=1)
    h = dc.HierarchicalChain([np.full((4, 4), 1 / 4)] * 200, np.full(4, 1 / 4))
    out["hierarchical sample"] = lambda: h.sample(100_000 if f else 500, seed=2)
    deep = dc.product_network(64, kind="deep")
    xd = np.random.default_rng(0).uniform(0.99, 1.01, (200_000 if f else 500, 64))
    out["product deep"] = lambda: deep(xd)
    shallow = dc.product_network(14, kind="shallow", activation="exp", scale=0.3)  # 0.1 would sit in the cancellation floor (an AccuracyWarning)
    xs = np.random.default_rng(1).uniform(0.4, 0.6, (20_000 if f else 200, 14))
    out["product shallow"] = lambda: shallow(xs)
    sha = dc.circuits.bristol("sha256", directory=BRISTOL)
    words = np.random.default_rng(2).integers(0, 2**63, (sha.n_inputs, 8192 if f else 64), dtype=np.uint64)
    out["sha256 evaluate_packed"] = lambda: sha.evaluate_packed(words)
    items = int(_core.census_item_count(6))
    out["census canonical n=6"] = lambda: np.asarray(_core.census_canonical(6, 0, items if f else 10))
    net = dc.relu.random_network([8, 128, 128, 128], seed=1)
    out["relu line walks"] = lambda: np.asarray(dc.relu.linear_regions(net, lines=4000 if f else 20, seed=2).counts)
    saw = dc.relu.sawtooth_network(22 if f else 10)  # one item of 4 million pieces: the stop checks inside it

    def sawtooth() -> np.ndarray:
        r = dc.relu.linear_regions(saw, line=([0.0], [1.0]))
        return np.concatenate([np.asarray(r.counts, np.float64).ravel(), r.breakpoints(0, 0)])

    out["relu one sawtooth segment"] = sawtooth
    return out


def timed(run: Callable[[], np.ndarray], chunk: int) -> tuple[float, np.ndarray]:
    previous = _core._set_interrupt_chunk(chunk)
    try:
        start = time.perf_counter()
        result = run()
        return time.perf_counter() - start, result
    finally:
        _core._set_interrupt_chunk(previous)


def measure(rounds: int) -> list[tuple[str, float, float, int]]:
    """Per case: median one-piece and chunked seconds, and the polls a chunked call made (chunks - 1)."""
    rows = []
    for name, run in cases().items():
        run()  # warm-up (first touches, caches)
        whole, cut, polls = [], [], 0
        for _ in range(rounds):
            t0, r0 = timed(run, -1)
            before = _core._interrupt_polls()
            t1, r1 = timed(run, 0)
            polls = _core._interrupt_polls() - before
            assert np.array_equal(r0, r1), f"{name}: chunked result differs"
            whole.append(t0)
            cut.append(t1)
        rows.append((name, statistics.median(whole), statistics.median(cut), polls))
    return rows


def chunk_overhead(rounds: int) -> float:
    """Seconds one chunk boundary costs: the poll with its GIL round trip, the clock, and the driver's
    next parallel region (its start, and the wait for the slower thread at its end). A Markov sample of
    2048 x 256 chains x 4 steps cut into 2048 chunks of 256 chains (2047 polls, each chunk a parallel
    region of a few microseconds) against one piece, median of `rounds` interleaved pairs. A whole
    call's timing difference is within the machine's noise (a few %); this cost times a call's polls
    bounds what the chunking adds to it (a chunk of ~0.1 s waits at its end for at most one item)."""
    chain = dc.MarkovChain(np.full((16, 16), 1 / 16))
    n_chains, chunk = 2048 * 256, 256

    def run() -> np.ndarray:
        return chain.sample(n_chains, 4, seed=1)

    run()
    diffs = []
    for _ in range(rounds):
        t0, _ = timed(run, -1)
        before = _core._interrupt_polls()
        t1, _ = timed(run, chunk)
        diffs.append((t1 - t0) / max(_core._interrupt_polls() - before, 1))
    return max(statistics.median(diffs), 0.0)


NAMES = ("ising multispin sweeps", "ising int8 heat-bath sweeps", "boltzmann sweeps", "wolff sweeps",
         "swendsen-wang sweeps", "markov sample", "hierarchical sample", "product deep", "product shallow",
         "sha256 evaluate_packed", "census canonical n=6", "relu line walks", "relu one sawtooth segment")


def test_chunked_equals_one_piece() -> None:
    every = cases()
    assert tuple(every) == NAMES
    for name, run in every.items():
        _, whole = timed(run, -1)
        _, cut = timed(run, 0)
        _, tiny = timed(run, 2)
        assert np.array_equal(whole, cut) and np.array_equal(whole, tiny), name
    _, whole = timed(run, -1)
    _, cut = timed(run, 0)
    _, tiny = timed(run, 2)
    assert np.array_equal(whole, cut) and np.array_equal(whole, tiny)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        dc.set_num_threads(args.threads)
    print(f"threads {_core.get_num_threads()}, SIMD {dc.simd_target()}, load average {os.getloadavg()[0]:.1f}")
    per_chunk = chunk_overhead(args.rounds)
    print(f"one chunk boundary costs {per_chunk * 1e6:.2f} us (Markov, 2048 chunks of 256 chains, against one piece)")
    print(f"{'case':28s} {'one piece s':>12s} {'chunked s':>10s} {'ratio':>7s} {'polls':>6s} {'bound':>8s}")
    for name, a, b, polls in measure(args.rounds):
        print(f"{name:28s} {a:12.4f} {b:10.4f} {b / a:7.3f} {polls:6d} {100 * polls * per_chunk / a:7.3f}%")
