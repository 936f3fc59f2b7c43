"""The capability census against peers, timed in one process:

- counting threshold functions: native `census.threshold_functions(n)` against a vectorised numpy
  brute force over integer weight vectors (n = 4, where the brute force is feasible; the native count
  for n = 6 is timed alone: no peer finishes it in a benchmark's time);
- deciding threshold-ness: native `census.is_threshold` (LP basis re-solved exactly) against scipy's
  HiGHS LP on the same tables (float tolerances; the native answer is exact), n = 8.

    python -m pytest benchmarks/bench_census.py --benchmark-enable --benchmark-min-rounds=3

Every benchmark checks its answer (A000609, or agreement of the two deciders).
"""

from __future__ import annotations

import functools
import itertools
import os

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import census

A000609 = census.A000609  # OEIS, the package's one copy
THREADS = 2
SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
TABLES = 12 if SMALL else 40  # is_threshold cases (half of them perturbed, so most of those are not threshold)


def numpy_threshold_count(n: int, bound: int) -> int:
    """Distinct tables [w·x >= t] over integer w in [-bound, bound]ⁿ, vectorised over weight vectors."""
    x = np.arange(1 << n)
    X = (x[:, None] >> np.arange(n)) & 1
    W = np.array(list(itertools.product(range(-bound, bound + 1), repeat=n)), dtype=np.int64)
    S = W @ X.T  # (vectors, 2ⁿ)
    bits = (1 << np.arange(1 << n, dtype=np.uint64)).astype(np.uint64)
    tables = set()
    order = np.sort(S, axis=1)
    for t_index in range(1 << n):
        t = order[:, t_index : t_index + 1]
        tables.update(np.unique(((S >= t).astype(np.uint64) * bits).sum(1)).tolist())
    tables.add(0)
    return len(tables)


@pytest.fixture(autouse=True)
def _threads():
    before = dc.get_num_threads()
    dc.set_num_threads(THREADS)
    yield
    dc.set_num_threads(before)


@pytest.mark.benchmark(group="census count n=4")
def test_count_native_n4(benchmark):
    assert benchmark(census.threshold_functions, 4) == A000609[4]


@pytest.mark.benchmark(group="census count n=4")
def test_count_numpy_n4(benchmark):
    assert benchmark.pedantic(numpy_threshold_count, args=(4, 3), rounds=3) == A000609[4]


@pytest.mark.benchmark(group="census count n=6")
def test_count_native_n6(benchmark):
    assert benchmark.pedantic(census.threshold_functions, args=(6,), rounds=3) == A000609[6]


def _tables(n: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    x = np.arange(1 << n)
    X = (x[:, None] >> np.arange(n)) & 1
    out = []
    for i in range(count):
        s = X @ rng.normal(size=n)
        table = (s >= np.median(s)).astype(np.uint8)
        if i % 2:
            table[rng.integers(1 << n)] ^= 1  # usually breaks it
        out.append(table)
    return out


def _scipy_decide(table: np.ndarray) -> bool:
    from scipy.optimize import linprog

    n = int(np.log2(len(table)))
    x = np.arange(1 << n)
    X = ((x[:, None] >> np.arange(n)) & 1).astype(float)
    sign = np.where(table == 1, 1.0, -1.0)
    A = -sign[:, None] * np.hstack([X, -np.ones((len(X), 1))])
    res = linprog(np.zeros(n + 1), A_ub=A, b_ub=-np.ones(len(X)), bounds=[(None, None)] * (n + 1), method="highs")
    return res.status == 0


@functools.cache
def _cases() -> tuple[list[np.ndarray], list[bool]]:
    tables = _tables(8, TABLES)
    return tables, [_scipy_decide(t) for t in tables]


@pytest.mark.benchmark(group=f"is_threshold n=8, {TABLES} tables")
def test_is_threshold_native(benchmark):
    tables, expected = _cases()
    got = benchmark(lambda: [census.is_threshold(t) is not None for t in tables])
    assert got == expected and TABLES // 8 < sum(expected) < TABLES - TABLES // 8


@pytest.mark.benchmark(group=f"is_threshold n=8, {TABLES} tables")
def test_is_threshold_scipy(benchmark):
    tables, expected = _cases()
    assert benchmark(lambda: [_scipy_decide(t) for t in tables]) == expected
