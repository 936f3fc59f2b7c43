"""Markov-chain sampling throughput (transitions per second): deepcheap_native against the best
vectorised numpy (the alias method), quantecon's MarkovChain.simulate (numba; compile time excluded),
torch.multinomial and a torch alias method, all in one process; and a hierarchy of 64 distinct
256-state levels against the homogeneous chain.

    python -m pytest benchmarks/bench_markov.py --benchmark-enable --benchmark-min-rounds=3
    python benchmarks/bench_markov.py          # the docs table (docs/guide/markov.md): medians, rates and ratios

Every benchmark checks its answer: the final-state histogram against the exact marginal (chi-square
below its 1 - 1e-6 quantile). Peers that are too slow or too memory-hungry for the full size run
fewer steps or chains (stated in `extra_info` and the table); the rate is per transition either way.
Native code runs on THREADS threads; numpy and quantecon are single-threaded; torch gets THREADS.
OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE unless set) and OpenBLAS runs on one thread
(OPENBLAS_NUM_THREADS=1 unless set): deepcheap_native, torch and numpy's OpenBLAS each bring a thread
pool, and the threads of one spinning after their work starved the next method on 2 cores (torch
alias measured 2 M/s instead of 17 M/s, deepcheap_native 380 instead of 975 M/s, in the same run).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any OpenMP runtime loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import functools
import statistics
import time
from collections.abc import Callable

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native.testing.peers import numpy_alias_sampler, vose_tables

THREADS = 2
# (states, chains, steps) from the issue.
CASES = {"S16": (16, 100_000, 1000), "S256": (256, 10_000, 1000)}
HIERARCHY = (256, 100_000, 64)  # states per level, samples, levels
if os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small":  # CI runs each benchmark once, small (conftest.py)
    CASES, HIERARCHY = {"S16": (16, 5_000, 50), "S256": (256, 5_000, 50)}, (256, 2_000, 8)


def transition_matrix(S: int, seed: int = 0) -> np.ndarray:
    P = np.random.default_rng(seed).random((S, S)) ** 2
    return P / P.sum(axis=1, keepdims=True)


@functools.cache
def _exact_marginal(S: int, n_steps: int) -> np.ndarray:
    return np.full(S, 1 / S) @ np.linalg.matrix_power(transition_matrix(S), n_steps)


def check_marginal(final: np.ndarray, P: np.ndarray, n_steps: int) -> None:
    """Chains started uniformly: the final histogram must match uniform @ P^t (chi-square)."""
    from scipy import stats

    S = P.shape[0]
    assert np.array_equal(P, transition_matrix(S))
    expected = len(final) * _exact_marginal(S, n_steps)
    observed = np.bincount(np.asarray(final, dtype=np.int64), minlength=S)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    assert statistic < stats.chi2.ppf(1 - 1e-6, S - 1), f"chi-square {statistic:.1f} with {S - 1} dof"


# ---- peers (numpy alias: deepcheap_native.testing.peers, shared with the report) -------------------
def quantecon_sampler(P: np.ndarray, n_chains: int, seed: int = 2) -> Callable[[int], np.ndarray] | None:
    try:
        import quantecon as qe
    except ImportError:
        return None
    mc = qe.MarkovChain(P)
    rng = np.random.default_rng(seed)
    mc.simulate(ts_length=3, init=np.zeros(4, dtype=int), random_state=0)  # numba compiles here

    def run(n_steps: int) -> np.ndarray:
        init = rng.integers(0, P.shape[0], n_chains)
        return mc.simulate(ts_length=n_steps + 1, init=init, random_state=int(rng.integers(2**31)))[:, -1]

    return run


def torch_multinomial_sampler(
    P: np.ndarray, n_chains: int, seed: int = 3
) -> Callable[[int], np.ndarray] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    Pt = torch.tensor(P)
    g = torch.Generator().manual_seed(seed)

    def run(n_steps: int) -> np.ndarray:
        x = torch.randint(0, P.shape[0], (n_chains,), generator=g)
        for _ in range(n_steps):
            x = torch.multinomial(Pt[x], 1, generator=g).squeeze(1)
        return x.numpy()

    return run


def torch_alias_sampler(P: np.ndarray, n_chains: int, seed: int = 4) -> Callable[[int], np.ndarray] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    S = P.shape[0]
    prob, alias = vose_tables(P)
    prob_t = torch.tensor(prob.ravel(), dtype=torch.float32)
    alias_t = torch.tensor(alias.ravel(), dtype=torch.int64)
    g = torch.Generator().manual_seed(seed)

    def run(n_steps: int) -> np.ndarray:
        x = torch.randint(0, S, (n_chains,), generator=g)
        for _ in range(n_steps):
            u = torch.rand(n_chains, generator=g) * S
            j = u.long()
            index = x * S + j
            x = torch.where(u - j < prob_t[index], j, alias_t[index])
        return x.numpy()

    return run


def native_sampler(P: np.ndarray, n_chains: int, seed: int = 5) -> Callable[[int], np.ndarray]:
    chain = dc.MarkovChain(P)
    out = np.empty(n_chains, dtype=chain.state_dtype)

    def run(n_steps: int) -> np.ndarray:
        return chain.sample(n_chains, n_steps, seed=seed, out=out)

    return run


# Each peer: (label, factory, fraction of the chains, fraction of the steps) at full size it would
# take minutes (torch.multinomial) or gigabytes (quantecon keeps every path as int64).
PEERS = [
    ("deepcheap_native", native_sampler, 1, 1),
    ("numpy alias", numpy_alias_sampler, 1, 1),
    ("quantecon simulate", quantecon_sampler, {"S16": 0.1, "S256": 1}, 1),
    ("torch alias", torch_alias_sampler, 1, 0.1),
    ("torch multinomial", torch_multinomial_sampler, 1, {"S16": 0.02, "S256": 0.005}),
]


def peer_size(case: str, chains_fraction, steps_fraction) -> tuple[int, int]:
    S, N, T = CASES[case]
    cf = chains_fraction[case] if isinstance(chains_fraction, dict) else chains_fraction
    sf = steps_fraction[case] if isinstance(steps_fraction, dict) else steps_fraction
    return int(N * cf), int(T * sf)


def hierarchy_runners() -> dict[str, tuple[Callable[[], np.ndarray], int]]:
    """Distinct levels versus one matrix repeated, same sample count and path shape, into reused buffers."""
    S, n, L = HIERARCHY
    rng = np.random.default_rng(6)
    matrices = [m / m.sum(axis=1, keepdims=True) for m in rng.random((L, S, S)) ** 2]
    p0 = np.full(S, 1 / S)
    distinct = dc.HierarchicalChain(matrices, p0)
    same = dc.HierarchicalChain([matrices[0]] * L, p0)
    chain = dc.MarkovChain(matrices[0])
    out = np.empty((n, L + 1), dtype=np.uint8)
    final = np.empty(n, dtype=np.uint8)
    return {
        "64 distinct levels (paths)": (lambda: distinct.sample(n, seed=7, out=out), n * L),
        "one level repeated (paths)": (lambda: same.sample(n, seed=7, out=out), n * L),
        "homogeneous MarkovChain (final)": (lambda: chain.sample(n, L, seed=7, out=final), n * L),
    }


# ---- pytest-benchmark ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _two_threads():
    before = dc.get_num_threads()
    dc.set_num_threads(THREADS)
    yield
    dc.set_num_threads(before)


def _record(benchmark, transitions: int) -> None:
    benchmark.extra_info["transitions"] = transitions
    if benchmark.stats is not None:
        benchmark.extra_info["M_transitions_per_s"] = transitions / benchmark.stats.stats.median / 1e6


@pytest.mark.parametrize("label, factory, chains_fraction, steps_fraction", PEERS, ids=[p[0] for p in PEERS])
@pytest.mark.parametrize("case", list(CASES))
def test_transitions_per_second(benchmark, case, label, factory, chains_fraction, steps_fraction):
    S = CASES[case][0]
    n_chains, n_steps = peer_size(case, chains_fraction, steps_fraction)
    P = transition_matrix(S)
    run = factory(P, n_chains)
    if run is None:
        pytest.skip(f"{label} is not installed")
    benchmark.group = f"markov {case}: N={CASES[case][1]}, T={CASES[case][2]}"
    benchmark.extra_info.update(chains=n_chains, steps=n_steps, threads=THREADS)
    final = benchmark(run, n_steps)
    _record(benchmark, n_chains * n_steps)
    check_marginal(final, P, n_steps)


@pytest.mark.parametrize("name", list(hierarchy_runners()))
def test_hierarchy(benchmark, name):
    run, transitions = hierarchy_runners()[name]
    benchmark.group = "markov hierarchy: 256 states, 64 levels, n=1e5"
    result = benchmark(run)
    _record(benchmark, transitions)
    assert np.asarray(result).max() < HIERARCHY[0]


# ---- the docs table ----------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:,.1f}" if x >= 10 else f"{x:.2g}"


def main(rounds: int = 5) -> None:
    dc.set_num_threads(THREADS)
    host = f"{dc.simd_target()}, {THREADS} threads"
    for case, (S, N, T) in CASES.items():
        P = transition_matrix(S)
        runners = []
        for label, factory, cf, sf in PEERS:
            n_chains, n_steps = peer_size(case, cf, sf)
            run = factory(P, n_chains)
            if run is not None:
                runners.append((label, run, n_chains, n_steps))
        times: dict[str, list[float]] = {r[0]: [] for r in runners}
        for _ in range(rounds):  # interleaved, so a noisy moment hits every method alike
            for label, run, _n_chains, n_steps in runners:
                start = time.perf_counter()
                final = run(n_steps)
                times[label].append(time.perf_counter() - start)
                check_marginal(final, P, n_steps)
        rates = {r[0]: r[2] * r[3] / statistics.median(times[r[0]]) / 1e6 for r in runners}
        print(f"\n{case}: S={S}, N={N}, T={T} ({host}; median of {rounds})")
        print("| method | chains x steps timed | M transitions/s | native / method |")
        print("|---|---|---|---|")
        for label, _, n_chains, n_steps in runners:
            ratio = rates["deepcheap_native"] / rates[label]
            print(f"| {label} | {n_chains:,} x {n_steps:,} | {_fmt(rates[label])} | {_fmt(ratio)}x |")
    runs = hierarchy_runners()
    times = {k: [] for k in runs}
    for _ in range(rounds):
        for k, (run, _) in runs.items():
            start = time.perf_counter()
            run()
            times[k].append(time.perf_counter() - start)
    rates = {k: runs[k][1] / statistics.median(times[k]) / 1e6 for k in runs}
    print(f"\nhierarchy: {HIERARCHY[0]} states, {HIERARCHY[2]} levels, n={HIERARCHY[1]:,} ({host})")
    print("| sampler | M transitions/s | slowdown vs homogeneous final |")
    print("|---|---|---|")
    base = rates["homogeneous MarkovChain (final)"]
    for k, r in rates.items():
        print(f"| {k} | {_fmt(r)} | {base / r:.2f}x |")


if __name__ == "__main__":
    main()
