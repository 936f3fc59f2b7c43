"""Small calls in microseconds (issue 26 §3): each tiny native call beside a numpy and a torch call of
the same kind, median of many calls, interleaved in one process.

    python benchmarks/bench_overhead.py [--calls 2000]     # the table: us per call
    python -m pytest benchmarks/bench_overhead.py --benchmark-enable

The calls: MarkovChain.sample(10, 10), random.philox4x32 of one counter, evaluate_packed of one word
through adder64 (and sha256, beside its gates alone: the same one-word slots in a 64-word call, per
word), a 16-sample float32 product-network
forward, one sweep of an 8 x 8 Ising lattice (64 replicas). Peers: numpy's ufunc call (np.add on 16
floats), numpy's own Philox (one raw word), torch.add on 16 floats. Each benchmark checks its call's
answer, so a fast wrong answer fails.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc

BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"
#: sha256's gates on one word without the call around them: a 64-word call with one-word slots (the
#: slots a one-word call takes) on one thread (as the one-word call), per word. The goal (issue 26 §3): the
#: one-word call within 1.2x of it.
SHA_GATES = "sha256 gates alone: a 64-word call with block_words=1, per word"
PER_CALL = {SHA_GATES: 64}  # calls that stand for this many: timed n / 64 times, reported per word
NAMES = ("MarkovChain.sample(10, 10)", "random.philox4x32, one counter", "evaluate_packed, adder64, one word",
         "evaluate_packed, sha256, one word", SHA_GATES, "product forward, n=16, 16 samples",
         "IsingSampler.sweep(1), 8x8, 64 replicas", "numpy: np.add, 16 floats", "numpy: Philox random_raw(1)",
         "torch: torch.add, 16 floats")


@functools.lru_cache(maxsize=1)
def _calls() -> dict[str, tuple[Callable[[], object], Callable[[object], None]]]:
    """name -> (call, check of its result)."""
    P = np.full((4, 4), 0.25)
    chain = dc.MarkovChain(P)
    counter = np.array([[0, 0, 0, 0]], np.uint32)
    key = np.array([0, 0], np.uint32)
    adder = dc.Circuit.from_bristol(BRISTOL / "adder64.txt")
    sha = dc.Circuit.from_bristol(BRISTOL / "sha256.txt")
    # every vector: a = 2^64 - 1 (inputs 0..63), b = 1 (input 64 its least significant bit)
    a_words = np.array([[~np.uint64(0)]] * 65 + [[np.uint64(0)]] * 63, dtype=np.uint64)
    sha_words = np.zeros((sha.n_inputs, 1), np.uint64)
    sha_words64 = np.zeros((sha.n_inputs, 64), np.uint64)
    net = dc.product_network(16, dtype="float32")
    x = np.full((16, 16), 0.9, np.float32)
    sampler = dc.IsingModel(8).sampler(2.0, replicas=64, seed=0)
    y = np.ones(16)
    gen = np.random.Generator(np.random.Philox(0))

    def check_markov(r):
        assert r.shape == (10,) and int(r.max()) < 4

    def check_philox(r):  # Random123's known answer for counter 0, key 0
        assert r.tolist() == [[0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]]

    def check_adder(r):  # (2^64 - 1) + 1 = 0 (mod 2^64) in every vector
        assert r.shape == (64, 1) and not r.any()

    sha_zero = sha.evaluate_packed(sha_words, block_words=8, threads=1)  # 8-word blocks, the general path

    def check_sha(r):  # every word of the all-zero input gives the same outputs as the 8-word evaluation
        assert r.shape[0] == sha.n_outputs and (r == sha_zero).all()

    def check_product(r):
        np.testing.assert_allclose(r, np.full(16, 0.9**16), rtol=0.05)

    calls = {
        "MarkovChain.sample(10, 10)": (lambda: chain.sample(10, 10, seed=1), check_markov),
        "random.philox4x32, one counter": (lambda: dc.random.philox4x32(counter, key), check_philox),
        "evaluate_packed, adder64, one word": (lambda: adder.evaluate_packed(a_words), check_adder),
        "evaluate_packed, sha256, one word": (lambda: sha.evaluate_packed(sha_words), check_sha),
        SHA_GATES: (lambda: sha.evaluate_packed(sha_words64, block_words=1, threads=1), check_sha),
        "product forward, n=16, 16 samples": (lambda: net(x), check_product),
        "IsingSampler.sweep(1), 8x8, 64 replicas": (lambda: sampler.sweep(1), lambda r: None),
        "numpy: np.add, 16 floats": (lambda: np.add(y, y), lambda r: None),
        "numpy: Philox random_raw(1)": (lambda: gen.bit_generator.random_raw(1), lambda r: None),
    }
    try:
        import torch

        t = torch.ones(16)
        calls["torch: torch.add, 16 floats"] = (lambda: torch.add(t, t), lambda r: None)
    except ImportError:  # pragma: no cover - torch is a test dependency
        pass
    return calls


def per_call_us(calls: dict, n: int, rounds: int = 5) -> dict[str, float]:
    """Median over rounds of the mean time per call, the calls interleaved round by round."""
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(rounds):
        for name, (fn, _) in calls.items():
            k = PER_CALL.get(name, 1)
            m = max(1, n // k)
            start = time.perf_counter()
            for _ in range(m):
                fn()
            times[name].append((time.perf_counter() - start) / (m * k) * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


@pytest.mark.parametrize("name", NAMES)
def test_small_call(benchmark, name):
    if name not in _calls():
        pytest.skip(f"{name}: torch is not installed")
    fn, check = _calls()[name]
    benchmark.group = "small calls (us)"
    check(benchmark(fn))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        dc.set_num_threads(args.threads)
    calls = _calls()
    for _name, (fn, check) in calls.items():
        check(fn())
    us = per_call_us(calls, args.calls)
    print(f"threads={dc.get_num_threads()} simd={dc.simd_target()}; us per call, median of 5 interleaved rounds")
    print("| call | us |")
    print("|---|---|")
    for name, v in us.items():
        print(f"| {name} | {v:.2f} |")
    one, gates = us["evaluate_packed, sha256, one word"], us[SHA_GATES]
    print(f"\nsha256 one-word call / its gates alone: {one / gates:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
