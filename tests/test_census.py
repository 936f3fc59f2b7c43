"""The capability census against independent references: OEIS A000609, brute-force enumeration of
integer weights written here, scipy's LP (HiGHS) on random tables, and depth-2 networks enumerated
here from scratch; plus thread-count independence, executors, checkpoints and bad input."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import _core, census

# OEIS A000609, the package's one copy (census.A000609); the brute forces below check its small entries.
A000609 = census.A000609


def points(n: int) -> np.ndarray:
    """(2ⁿ, n) 0/1 matrix, row x holds the bits of x (x = Σ x_i 2^i)."""
    x = np.arange(1 << n)
    return ((x[:, None] >> np.arange(n)) & 1).astype(np.int64)


def brute_threshold_set(n: int, bound: int) -> set[int]:
    """Every table [w·x >= t] with integer w in [-bound, bound]ⁿ and every t that matters."""
    X = points(n)
    out = set()
    weights = np.array(list(itertools.product(range(-bound, bound + 1), repeat=n)), dtype=np.int64)
    weights = weights.reshape(-1, n) if n else np.zeros((1, 0), dtype=np.int64)
    sums = weights @ X.T  # (W, 2ⁿ)
    bits = 1 << np.arange(1 << n, dtype=np.int64)
    for s in sums:
        for t in np.unique(np.concatenate([s, [s.max() + 1]])):
            out.add(int(((s >= t) * bits).sum()))
    return out


def table_int(bits: np.ndarray) -> int:
    return int(sum(int(b) << i for i, b in enumerate(bits)))


def table_bits(value: int, n: int) -> np.ndarray:
    return np.array([(value >> x) & 1 for x in range(1 << n)], dtype=np.uint8)


def verify(table: np.ndarray, realisation: tuple[tuple[int, ...], int]) -> bool:
    w, t = realisation
    n = int(np.log2(len(table)))
    assert len(w) == n and all(isinstance(v, int) for v in w) and isinstance(t, int)
    s = points(n) @ np.array(w, dtype=object) if n else np.zeros(1, dtype=object)
    return bool(np.array_equal((np.asarray(s) >= t).astype(np.uint8), table))


def scipy_separable(table: np.ndarray) -> bool:
    """Independent reference: HiGHS decides whether s_x (w·x − t) >= 1 is feasible."""
    from scipy.optimize import linprog

    n = int(np.log2(len(table)))
    X = points(n).astype(float)
    sign = np.where(table == 1, 1.0, -1.0)
    A = -sign[:, None] * np.hstack([X, -np.ones((len(X), 1))])
    res = linprog(np.zeros(n + 1), A_ub=A, b_ub=-np.ones(len(X)), bounds=[(None, None)] * (n + 1), method="highs")
    assert res.status in (0, 2), res.message
    return res.status == 0


# ---- counts and tables --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", range(7))
def test_counts_are_a000609(n):
    assert census.threshold_functions(n) == A000609[n]


@pytest.mark.parametrize("n", range(6))
def test_tables_are_the_threshold_functions(n):
    tables = census.threshold_tables(n)
    assert tables.dtype == np.uint64 and len(tables) == A000609[n]
    assert np.all(np.diff(tables.astype(object)) > 0) if len(tables) > 1 else True  # sorted, distinct
    if n <= 4:  # the whole set, against integer weights enumerated here (|w_i| <= 3 suffices for n <= 4)
        assert set(int(t) for t in tables) == brute_threshold_set(n, 3)
    else:  # n = 5: a brute force with |w_i| <= 2 gives a subset; a random sample is threshold exactly
        sub = brute_threshold_set(n, 2)
        assert sub <= set(int(t) for t in tables)
        rng = np.random.default_rng(5)
        for t in rng.choice(tables, 40, replace=False):
            bits = table_bits(int(t), n)
            assert verify(bits, census.is_threshold(bits))


def test_n6_tables_length_and_spot_checks():
    tables = census.threshold_tables(6)
    assert len(tables) == A000609[6]
    rng = np.random.default_rng(6)
    for t in rng.choice(tables, 25, replace=False):
        assert census.is_threshold(int(t), n=6) is not None
    # Functions just off the list are not threshold: flipping one bit of a threshold table mostly
    # breaks it; check the answer against membership.
    members = set(int(t) for t in rng.choice(tables, 2000, replace=False))
    for t in list(members)[:25]:
        flipped = t ^ (1 << int(rng.integers(64)))
        at = int(np.searchsorted(tables, np.uint64(flipped)))
        in_list = at < len(tables) and int(tables[at]) == flipped
        assert (census.is_threshold(flipped, n=6) is not None) == in_list


def test_max_weight_is_muroga_bound():
    for n in range(11):
        m = census.max_weight(n)
        assert (m * 2**n) ** 2 <= (n + 1) ** (n + 1) < ((m + 1) * 2**n) ** 2
        if n <= 7:
            assert _core.census_max_weight(n) == m


# ---- exact threshold test ---------------------------------------------------------------------------

def test_is_threshold_agrees_with_scipy_on_random_tables():
    rng = np.random.default_rng(14)
    checked = {True: 0, False: 0}
    for n in range(0, 9):
        for trial in range(30 if n <= 6 else 10):
            kind = trial % 3
            if kind == 0:  # uniformly random table (mostly not threshold for n >= 4)
                table = rng.integers(0, 2, 1 << n).astype(np.uint8)
            else:  # random real weights: threshold by construction
                w = rng.normal(size=n) * rng.choice([1, 10], size=n)
                s = points(n) @ w
                t = rng.choice(s) if kind == 1 else rng.normal()
                table = (s >= t).astype(np.uint8)
                if kind == 1 and n:  # one flipped point: usually not threshold any more
                    table[rng.integers(1 << n)] ^= 1
            got = census.is_threshold(table)
            assert (got is not None) == scipy_separable(table), (n, table)
            if got is not None:
                assert verify(table, got)
            checked[got is not None] += 1
    assert checked[True] > 50 and checked[False] > 50


def test_is_threshold_ten_inputs():
    rng = np.random.default_rng(10)
    X = points(10)
    for _ in range(3):
        w = rng.integers(-50, 51, 10)
        s = X @ w
        table = (s >= np.median(s)).astype(np.uint8)
        got = census.is_threshold(table)
        assert got is not None and verify(table, got)
    # Majority is threshold; parity of any 2 inputs inside it is not.
    maj = (X.sum(1) >= 5).astype(np.uint8)
    assert verify(maj, census.is_threshold(maj))
    xor = (X[:, 0] ^ X[:, 7]).astype(np.uint8)
    assert census.is_threshold(xor) is None
    # Not unate-detectable: monotone but not threshold (x0 x1 or x2 x3, the classic 2-summable case).
    f = ((X[:, 0] & X[:, 1]) | (X[:, 2] & X[:, 3])).astype(np.uint8)
    assert census.is_threshold(f) is None and not scipy_separable(f)


def test_is_threshold_accepts_torch_lists_and_bools():
    import torch

    assert verify(np.array([0, 0, 0, 1], dtype=np.uint8), census.is_threshold([0, 0, 0, 1]))
    assert census.is_threshold(torch.tensor([True, False])) is not None
    assert census.is_threshold(np.array([1], dtype=bool)) == ((), 0)
    assert census.is_threshold(np.array([0], dtype=np.int64)) == ((), 1)
    assert census.is_threshold(0b0110, n=2) is None


# ---- depth-2 networks -----------------------------------------------------------------------------------

def brute_depth2(n: int, kmax: int) -> list[set[int]]:
    """R_k = {g(h_1..h_k)}: every hidden tuple of threshold functions, every threshold output g."""
    T = sorted(brute_threshold_set(n, 3))
    P = 1 << n
    full = (1 << P) - 1
    result = [{0, full}]
    for k in range(1, kmax + 1):
        G = sorted(brute_threshold_set(k, 3))
        reached = set(result[-1])
        for hs in itertools.product(T, repeat=k):
            # pattern of hidden values at each point x
            pattern = [sum(((h >> x) & 1) << j for j, h in enumerate(hs)) for x in range(P)]
            for g in G:
                reached.add(sum(((g >> p) & 1) << x for x, p in enumerate(pattern)))
        result.append(reached)
    return result


@pytest.mark.parametrize("n,kmax", [(1, 2), (2, 2), (3, 2)])
def test_depth2_counts_match_brute_force(n, kmax):
    sets = brute_depth2(n, kmax)
    for k, s in enumerate(sets):
        assert census.depth2_functions(n, k) == len(s), (n, k)


def test_depth2_n4_k2_against_vectorised_brute_force():
    """Every pair of the 1882 threshold functions of 4 inputs through every 2-input threshold output."""
    T = np.array(sorted(brute_threshold_set(4, 3)), dtype=np.int64)
    G = sorted(brute_threshold_set(2, 3))
    h1, h2 = np.meshgrid(T, T, indexing="ij")
    h1, h2 = h1.ravel(), h2.ravel()
    reached = [T, np.array([0, 0xFFFF])]
    for g in G:  # g's table over (h1, h2) patterns p = h1 + 2 h2: OR of the minterms it contains
        out = np.zeros_like(h1)
        for p in range(4):
            if (g >> p) & 1:
                a = h1 if p & 1 else ~h1 & 0xFFFF
                b = h2 if p & 2 else ~h2 & 0xFFFF
                out |= a & b
        reached.append(np.unique(out))
    assert census.depth2_functions(4, 2) == len(np.unique(np.concatenate(reached)))


def test_depth2_n3_k3_reaches_everything_and_parity_needs_three():
    sets = brute_depth2(3, 2)
    assert len(sets[2]) == 254  # everything but parity and its complement
    parity = table_int(points(3).sum(1) % 2)
    assert parity not in sets[2] and (parity ^ 0xFF) not in sets[2]
    assert census.depth2_functions(3, 3) == 256
    assert census.min_hidden_units(points(3).sum(1) % 2) == 3


def test_min_hidden_units_examples_n4():
    X = points(4)
    parity = X.sum(1) % 2
    assert census.min_hidden_units(parity) == 4
    # The witness for 4: [h1 − h2 + h3 − h4 >= 1] with h_j = [Σx >= j] (checked here), and 3 is too few
    # (the census searched every network of 3 hidden units).
    h = np.stack([(X.sum(1) >= j) for j in range(1, 5)], 1).astype(int)
    assert np.array_equal((h @ np.array([1, -1, 1, -1]) >= 1).astype(int), parity)
    assert census.min_hidden_units((X.sum(1) >= 3).astype(int)) == 1  # majority-like threshold
    assert census.min_hidden_units(np.zeros(16, dtype=int)) == 0
    mux = np.where(X[:, 0] == 1, X[:, 2], X[:, 1])  # x0 ? x2 : x1 (x3 unused)
    assert census.min_hidden_units(mux) == 2
    assert census.depth2_functions(4, 4) == 65536
    counts = [census.depth2_functions(4, k) for k in range(5)]
    assert counts[0] == 2 and counts[1] == A000609[4] and counts == sorted(counts)


def test_min_hidden_units_consistent_with_is_threshold_n4():
    units = census.threshold._min_units(4)
    rng = np.random.default_rng(4)
    for f in rng.choice(1 << 16, 200, replace=False):
        bits = table_bits(int(f), 4)
        assert (units[f] <= 1) == (census.is_threshold(bits) is not None)
    # The count is closed under complement (negate the output unit) and under input negation.
    f = np.arange(1 << 16)
    assert np.array_equal(units, units[f ^ 0xFFFF])


def test_thread_count_independence():
    before = dc.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            dc.set_num_threads(threads)
            canon = _core.census_canonical(6, 0, _core.census_item_count(6))
            results.append((canon.tobytes(), _core.census_tables(5).tobytes(),
                            _core.census_depth2_min_units(3, 3, None).tobytes()))
        assert results[0] == results[1] == results[2]
    finally:
        dc.set_num_threads(before)


def test_executor_split_and_checkpoint(tmp_path):
    with ThreadPoolExecutor(2) as pool:
        assert census.threshold_functions(6, client=pool, batches=5) == A000609[6]
    calls = []
    path = tmp_path / "n6.npz"
    assert census.threshold_functions(6, batches=4, checkpoint=path, progress=lambda d, t: calls.append((d, t))) \
        == A000609[6]
    assert calls[-1][0] == calls[-1][1] and len(calls) >= 4
    # Resuming a finished checkpoint does no work and gives the same count.
    assert census.threshold_functions(6, batches=4, checkpoint=path) == A000609[6]
    with pytest.raises(ValueError, match="another run"):
        census.threshold_functions(5, batches=4, checkpoint=path)


# ---- bad input -------------------------------------------------------------------------------------------

def test_bad_input():
    with pytest.raises(ValueError, match="would take about"):
        census.threshold_functions(8)
    with pytest.raises(ValueError, match="max_seconds"):
        census.threshold_functions(7, max_seconds=1)
    with pytest.raises(ValueError, match=">= 0"):
        census.threshold_functions(-1)
    with pytest.raises(TypeError):
        census.threshold_functions(3.0)
    with pytest.raises(TypeError, match="submit"):
        census.threshold_functions(3, client=object())
    with pytest.raises(ValueError, match="<= 6"):
        census.threshold_tables(7)
    with pytest.raises(ValueError, match="2\\*\\*n"):
        census.is_threshold([0, 1, 1])
    with pytest.raises(ValueError, match="2\\*\\*n"):
        census.is_threshold(np.zeros(2048, dtype=np.uint8))
    with pytest.raises(ValueError, match="0 or 1"):
        census.is_threshold([0, 2])
    with pytest.raises(TypeError, match="dtype"):
        census.is_threshold(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="one-dimensional"):
        census.is_threshold(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(TypeError, match="n="):
        census.is_threshold(5)
    with pytest.raises(ValueError, match="2\\*\\*4"):
        census.is_threshold(16, n=2)
    with pytest.raises(ValueError, match="not feasible"):
        census.depth2_functions(5, 2)
    with pytest.raises(ValueError, match="<= 5"):
        census.depth2_functions(6, 1)
    with pytest.raises(ValueError, match="n <= 4"):
        census.min_hidden_units(np.zeros(32, dtype=np.uint8))
    # The native layer re-checks what Python validated.
    with pytest.raises(ValueError, match="0 or 1"):
        _core.census_is_threshold(np.array([0, 3], dtype=np.uint8))
    with pytest.raises(ValueError, match="n must be in"):
        _core.census_tables(7)
    with pytest.raises(ValueError, match="out of range"):
        _core.census_canonical(5, 0, 10**6)


def test_a000609_small_entries_against_brute_force():
    # Every function [w·x >= t] with integer |w_i| <= 3 (Muroga's bound for n <= 4) and every threshold
    # between the sums' extremes: the distinct truth tables are exactly the threshold functions.
    for n in range(5):
        points = list(itertools.product((0, 1), repeat=n))
        tables = set()
        for w in itertools.product(range(-3, 4), repeat=n):
            sums = [sum(a * b for a, b in zip(w, x)) for x in points]
            for t in range(-3 * n - 1, 3 * n + 2):
                tables.add(tuple(s >= t for s in sums))
        assert len(tables) == A000609[n], n
