"""Is the second core a whole core? The hot paths on 1 thread, on all threads, and as one 1-thread copy
per core in separate processes at once (issue 26 §2: all threads >= 1.8x one thread).

    python benchmarks/bench_scaling.py [--rounds 5] [--quick]

Three rates per hot path (the roofline's workloads, items/s, median of interleaved rounds):

- *1 thread*: one process, ``threads=1``;
- *all threads*: one process, ``threads=cpu_count``: our parallel code;
- *1 thread × cores*: ``cpu_count`` processes at once, each on 1 thread: the sum of their rates. No
  thread in it waits for another, so it is what these cores give this kernel when all of them are
  busy: the machine's own scaling.

If *all threads* falls short of 1.8× while *1 thread × cores* also does, the machine is the bound (a
shared cache, memory, a host that does not give the VM two whole cores); if *1 thread × cores*
reaches 1.8× and *all threads* does not, our threading is. Every run's answer is checked: the
processes' Markov states and sha256 outputs equal the one-process ones bit for bit.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import statistics
import time

import numpy as np

import deepcheap_native as dc
from deepcheap_native.circuit.families import bristol


def _workloads(quick: bool):
    rng = np.random.default_rng(0)
    P = rng.random((16, 16))
    P /= P.sum(axis=1, keepdims=True)
    chain = dc.MarkovChain(P)
    chains, steps = (20_000, 50) if quick else (100_000, 1000)
    sha = bristol("sha256")
    words = 64 if quick else 1024
    sha_in = rng.integers(0, 2**63, (sha.n_inputs, words), dtype=np.uint64)
    L, sweeps = (64, 2) if quick else (256, 20)
    sampler = dc.IsingModel(L).sampler(2.0, replicas=64, seed=1)
    return {
        "Markov transitions/s": (chains * steps, lambda k: chain.sample(chains, steps, seed=1, threads=k)),
        "sha256 gate-evals/s": (sha.n_gates * words * 64, lambda k: sha.evaluate_packed(sha_in, threads=k)),
        "Ising flips/s": (L * L * 64 * sweeps, lambda k: sampler.sweep(sweeps, threads=k)),
    }


def _digest(result) -> bytes:
    return b"" if result is None else np.ascontiguousarray(result).tobytes()[:4096]


def _run(name: str, threads: int, quick: bool, barrier=None) -> tuple[float, bytes]:
    """(items/s, the start of its answer) of one call of `name` on `threads` threads, after a warm-up."""
    items, call = _workloads(quick)[name]
    call(threads)  # warm-up: first touches, plan caches
    if barrier is not None:
        barrier.wait()  # the processes start their timed call together
    start = time.perf_counter()
    result = call(threads)
    return items / (time.perf_counter() - start), _digest(result)


def measure(name: str, rounds: int, quick: bool, cores: int) -> dict[str, float]:
    one, many, copies = [], [], []
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no OpenMP pool inherited
    with ctx.Manager() as manager, concurrent.futures.ProcessPoolExecutor(cores, mp_context=ctx) as pool:
        for _ in range(rounds):
            rate, want = _run(name, 1, quick)
            one.append(rate)
            rate, got = _run(name, cores, quick)
            many.append(rate)
            barrier = manager.Barrier(cores)
            runs = [pool.submit(_run, name, 1, quick, barrier) for _ in range(cores)]
            results = [r.result() for r in runs]
            copies.append(sum(rate for rate, _ in results))
            if not name.startswith("Ising"):  # a sampler's state moves on; the others are pure functions
                assert got == want and all(d == want for _, d in results), f"{name}: answers differ"
    m1 = statistics.median(one)
    return {"1 thread": m1, "all threads": statistics.median(many), "1 thread x cores": statistics.median(copies),
            "all / 1": statistics.median(many) / m1, "copies / 1": statistics.median(copies) / m1}


def test_scaling_runs_and_answers_agree():
    """At a small size: the three ways run and give the same answers (the timing is not asserted)."""
    for name in _workloads(True):
        r = measure(name, 1, True, 2)
        assert all(v > 0 for v in r.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{cores} cores, simd={dc.simd_target()}, load {os.getloadavg()[0]:.2f}; items/s, median of "
          f"{args.rounds} interleaved rounds")
    print("| hot path | 1 thread | all threads | 1 thread x cores (processes) | all / 1 | copies / 1 |")
    print("|---|---|---|---|---|---|")
    for name in _workloads(args.quick):
        r = measure(name, args.rounds, args.quick, cores)
        print(f"| {name} | {r['1 thread']:.3g} | {r['all threads']:.3g} | {r['1 thread x cores']:.3g} | "
              f"{r['all / 1']:.2f}x | {r['copies / 1']:.2f}x |", flush=True)
    print(f"load {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
