"""MarkovChain and HierarchicalChain: the sampler against an independent numpy re-implementation
(Philox from dc.random, tables decoded in numpy), against exact distributions (chi-square), and the
exact quantities against brute-force enumeration.

Statistical thresholds: every chi-square test uses a fixed seed and rejects only above the
1 - 1e-6 quantile of its chi-square distribution, so a correct sampler fails for about one seed in a
million (and, the seeds being fixed, the outcome never changes from run to run); a sampler that is
wrong by more than a few standard errors in any cell fails.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import deepcheap_native as dc
from conftest import threads
from deepcheap_native import _core

PURPOSE_INIT = 0x4D4B0000
PURPOSE_TRANSITION = 0x4D4B0001
CHI2_QUANTILE = 1 - 1e-6


def random_stochastic(rng, rows, cols, *, zeros=0.0):
    """A random row-stochastic matrix; a fraction `zeros` of entries set to 0 (never a whole row)."""
    P = rng.random((rows, cols)) ** 2
    if zeros:
        P[rng.random((rows, cols)) < zeros] = 0.0
        P[np.arange(rows), rng.integers(0, cols, rows)] += 0.5
    return P / P.sum(axis=1, keepdims=True)


def alias_bits(cols):
    return max(1, int(np.ceil(np.log2(cols))))


def decode_tables(table):
    """The distribution each packed row samples (see alias.hpp), computed independently in numpy:
    column j is drawn with probability 1/cols, kept with probability threshold / 2^(32 - bits)."""
    rows, cols = table.shape
    bits = alias_bits(cols)
    one = 2.0 ** (32 - bits)
    alias = (table & ((1 << bits) - 1)).astype(np.int64)
    threshold = (table >> bits).astype(np.float64)
    keep = np.where(alias == np.arange(cols), one, threshold) / one
    out = np.zeros((rows, cols))
    for r in range(rows):
        out[r] += keep[r]
        np.add.at(out[r], alias[r], 1.0 - keep[r])
    return out / cols


def reference_paths(tables, init_table, n_chains, n_steps, seed, *, first=0, start_step=0, init_states=None):
    """The sampler re-implemented in numpy from dc.random.philox4x32 and the packed tables; `tables`
    is one table (a homogeneous chain) or a list with one table per step. Chain i uses the counters of
    chain first + i, step t those of step start_step + t; init_states replaces the initial draw."""
    if not isinstance(tables, list):
        tables = [tables] * n_steps
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
    chains = np.uint64(first) + np.arange(n_chains, dtype=np.uint64)

    def words(block, purpose):
        counter = np.stack(
            [chains & 0xFFFFFFFF, chains >> 32, np.full(n_chains, block), np.full(n_chains, purpose)], axis=1
        ).astype(np.uint32)
        return dc.random.philox4x32(counter, key)

    def step(tab, state, word):
        bits = alias_bits(tab.shape[1])
        m = word.astype(np.uint64) * np.uint64(tab.shape[1])
        column = (m >> np.uint64(32)).astype(np.int64)
        fraction = (m & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        entry = tab[state, column]
        keep = (fraction >> bits) < (entry >> bits)
        return np.where(keep, column, entry & ((1 << bits) - 1)).astype(np.int64)

    if init_states is None:
        state = step(init_table, np.zeros(n_chains, dtype=np.int64), words(0, PURPOSE_INIT)[:, 0])
    else:
        state = np.asarray(init_states, dtype=np.int64)
    path = [state]
    for t in range(n_steps):
        g = start_step + t
        block = words(g // 4, PURPOSE_TRANSITION)
        state = step(tables[t], state, block[:, g % 4])
        path.append(state)
    return path


def chi2_threshold(dof):
    return stats.chi2.ppf(CHI2_QUANTILE, dof)


def chi2_statistic(observed, expected):
    keep = expected > 0
    assert observed[~keep].sum() == 0, "a zero-probability state was sampled"
    return float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep])), int(keep.sum()) - 1


# ---- alias tables -----------------------------------------------------------------------------
@pytest.mark.parametrize("cols", [1, 2, 3, 16, 100, 256, 300, 4097])
def test_alias_tables_encode_P(cols):
    rng = np.random.default_rng(cols)
    rows = min(cols, 8)
    P = random_stochastic(rng, rows, cols, zeros=0.3)
    table = _core.markov_alias_tables(P, 1e-6, "P")
    bits = alias_bits(cols)
    implied = decode_tables(table)
    # Each weight is quantised to 1 / (cols * 2^(32 - bits)) <= 2^-32 * 2^bits / cols, at most one unit off.
    unit = 1.0 / (cols * 2.0 ** (32 - bits))
    np.testing.assert_allclose(implied, P, rtol=0, atol=2 * unit + 1e-15)
    assert np.all(implied[P == 0] == 0), "a zero-probability column can be drawn"
    assert np.all((table & ((1 << bits) - 1)) < cols)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-12, 1.0), st.floats(0.9, 1.0)), min_size=1, max_size=70
    ).filter(lambda w: sum(w) > 0),
    as_float32=st.booleans(),
)
def test_alias_table_property(weights, as_float32):
    # Any row, including tiny and zero weights and float32 rounding: the table samples the
    # renormalised row within the stated quantisation and never a zero-probability column.
    row = np.array(weights) / np.sum(weights)
    if as_float32:
        row = row.astype(np.float32).astype(np.float64)
    cols = len(row)
    table = _core.markov_alias_tables(row[None, :], 1e-5, "p")
    unit = 1.0 / (cols * 2.0 ** (32 - alias_bits(cols)))
    implied = decode_tables(table)[0]
    np.testing.assert_allclose(implied, row / row.sum(), rtol=0, atol=2 * unit + 1e-15)
    assert np.all(implied[row == 0] == 0)


def test_float32_rows_slightly_off_never_leave_the_state_space():
    # quantecon issue #591: float32 rows summing to slightly less than 1 made a cumulative-sum search
    # return S (out of range) 801,746 times in 10^6 steps. Here: rows off by up to 5e-6 in float32,
    # and the last state has probability 0 from every row, so any overflow would show as state 3 or 4.
    P = np.array(
        [
            [0.1, 0.2, 0.699995, 0.0],
            [0.333333, 0.333333, 0.333333, 0.0],
            [0.999996, 0.0, 0.0, 0.0],
            [0.5, 0.5, 0.0, 0.0],
        ],
        dtype=np.float32,
    )
    assert np.all(np.abs(P.sum(axis=1, dtype=np.float64) - 1) < 1e-5) and np.any(P.sum(axis=1) != 1)
    chain = dc.MarkovChain(P)
    path = chain.sample(1000, 1000, seed=591, return_path=True)
    assert path.dtype == np.uint8
    assert path[:, 1:].max() <= 2, "state 3 has probability 0 and 4 does not exist"
    assert np.all(path[:, 1:][path[:, :-1] == 2] == 0)  # row 2 goes to 0 with probability 1


# ---- the sampler against its independent reimplementation -------------------------------------
@pytest.mark.parametrize("S, n_steps", [(5, 11), (16, 6), (16, 13), (300, 11)])
def test_paths_match_numpy_reference_on_every_simd_target(S, n_steps, each_simd_target):
    rng = np.random.default_rng(S)
    P = random_stochastic(rng, S, S, zeros=0.2)
    chain = dc.MarkovChain(P)
    n_chains, seed = 1037, 2**40 + 17  # chains: not a multiple of 16 or 512; steps: a partial last block
    got = chain.sample(n_chains, n_steps, seed=seed, return_path=True)
    table = _core.markov_alias_tables(P, 1e-6, "P")
    uniform = _core.markov_alias_tables(np.full((1, S), 1.0 / S), 1e-9, "init")
    want = np.stack(reference_paths(table, uniform, n_chains, n_steps, seed), axis=1)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == (np.uint8 if S <= 256 else np.uint16)


def test_hierarchy_matches_numpy_reference_on_every_simd_target(each_simd_target):
    # Distinct levels of different sizes (uint8 and uint16 levels: one uint16 array), sampled with
    # the hierarchy's large chunks and table prefetching, on 1 and 2 threads.
    rng = np.random.default_rng(16)
    sizes = [5, 300, 7, 16, 16, 3]
    matrices = [random_stochastic(rng, sizes[k], sizes[k + 1], zeros=0.3) for k in range(5)]
    p0 = random_stochastic(rng, 1, 5)[0]
    h = dc.HierarchicalChain(matrices, p0)
    tables = [_core.markov_alias_tables(M, 1e-6, "M") for M in matrices]
    want = reference_paths(tables, _core.markov_alias_tables(p0[None, :], 1e-6, "p0"), 30011, 5, 99)
    # 30,011 chains x 5 levels is above the kernel's one-thread cut-off (2^17 transitions).
    for k in (1, 2):
        with threads(k):
            got = h.sample(30011, seed=99)
        assert got.dtype == np.uint16 and got.shape == (30011, 6)
        for a, b in zip(got.T, want):
            np.testing.assert_array_equal(a, b)


def test_large_hierarchy_with_packed_tables_matches_reference():
    # 20 distinct 256-state levels: 5 MiB of tables, packed into one array (huge pages).
    rng = np.random.default_rng(17)
    matrices = [random_stochastic(rng, 256, 256) for _ in range(20)]
    h = dc.HierarchicalChain(matrices, np.full(256, 1 / 256))
    assert h._tables[0].base is not None and h._tables[0].base is h._tables[19].base
    tables = [_core.markov_alias_tables(M, 1e-6, "M") for M in matrices]
    want = reference_paths(tables, _core.markov_alias_tables(np.full((1, 256), 1 / 256), 1e-6, "p0"), 700, 20, 5)
    np.testing.assert_array_equal(h.sample(700, seed=5), np.stack(want, axis=1))


def test_one_and_two_threads_bit_identical():
    rng = np.random.default_rng(1)
    P = random_stochastic(rng, 64, 64)
    chain = dc.MarkovChain(P)
    with threads(1):
        a = chain.sample(5003, 40, seed=9, return_path=True)
        fa = chain.sample(20000, 33, seed=9)
    with threads(2):
        b = chain.sample(5003, 40, seed=9, return_path=True)
        fb = chain.sample(20000, 33, seed=9)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fa, fb)
    # Chain i's path depends only on (seed, i): a larger batch starts with the same chains.
    np.testing.assert_array_equal(chain.sample(20000, 40, seed=9, return_path=True)[:5003], a)


def test_sampling_from_a_thread_with_a_small_stack():
    # The sampler's per-chunk buffers live on the heap, so a thread with a 256 KiB stack is enough.
    import threading

    P = random_stochastic(np.random.default_rng(15), 256, 256)
    want = dc.MarkovChain(P).sample(20_000, 12, seed=3)
    result = {}
    before = threading.stack_size(256 * 1024)
    try:
        with threads(1):
            worker = threading.Thread(target=lambda: result.update(x=dc.MarkovChain(P).sample(20_000, 12, seed=3)))
            worker.start()
            worker.join()
    finally:
        threading.stack_size(before)
    np.testing.assert_array_equal(result["x"], want)


def test_seeds_give_different_streams():
    P = random_stochastic(np.random.default_rng(2), 16, 16)
    chain = dc.MarkovChain(P)
    a = chain.sample(4096, 20, seed=0, return_path=True)
    b = chain.sample(4096, 20, seed=1, return_path=True)
    c = chain.sample(4096, 20, seed=2**32, return_path=True)  # differs only in the key's high word
    np.testing.assert_array_equal(a, chain.sample(4096, 20, seed=0, return_path=True))
    for other in (b, c):
        # Independent streams agree in about sum_b p_b^2 of the entries; nowhere near all.
        assert np.mean(a[:, 1:] == other[:, 1:]) < 0.2


# ---- distributions -------------------------------------------------------------------------------
@pytest.mark.parametrize("S, init", [(16, 3), (16, "dist"), (300, None)])
def test_final_histogram_matches_exact_marginal(S, init):
    rng = np.random.default_rng(10 + S)
    P = random_stochastic(rng, S, S, zeros=0.5)
    chain = dc.MarkovChain(P)
    if init == "dist":
        init = random_stochastic(rng, 1, S, zeros=0.5)[0]
    n, t = 400_000, 7
    final = chain.sample(n, t, init=init, seed=123)
    expected = n * chain.marginal(t, init)
    observed = np.bincount(final, minlength=S)
    statistic, dof = chi2_statistic(observed, expected)
    assert statistic < chi2_threshold(dof), (statistic, dof)


def test_transition_counts_match_P():
    rng = np.random.default_rng(20)
    S = 12
    P = random_stochastic(rng, S, S, zeros=0.3)
    path = dc.MarkovChain(P).sample(2000, 500, seed=5, return_path=True).astype(np.int64)
    counts = np.bincount((path[:, :-1] * S + path[:, 1:]).ravel(), minlength=S * S).reshape(S, S)
    visits = counts.sum(axis=1, keepdims=True)
    statistic, dof_cells = chi2_statistic(counts.ravel(), (visits * P).ravel())
    dof = dof_cells + 1 - S  # one constraint per row
    assert statistic < chi2_threshold(dof), (statistic, dof)


def test_init_array_and_point_mass():
    P = random_stochastic(np.random.default_rng(3), 10, 10)
    chain = dc.MarkovChain(P)
    init = np.arange(1000) % 10
    path = chain.sample(1000, 3, init=init, return_path=True)
    np.testing.assert_array_equal(path[:, 0], init)
    assert np.all(chain.sample(100, 0, init=7) == 7)
    assert np.all(chain.sample(100, 0, init=np.int64(7)) == 7)
    assert chain.sample(0, 5).shape == (0,)
    assert chain.sample(4, 0, return_path=True).shape == (4, 1)


def test_out_buffers_and_chunk_sizes_change_nothing():
    P = random_stochastic(np.random.default_rng(14), 30, 30)
    chain = dc.MarkovChain(P)
    want = chain.sample(3000, 9, seed=4, return_path=True)
    out = np.full((3000, 10), 255, dtype=np.uint8)
    assert chain.sample(3000, 9, seed=4, return_path=True, out=out) is out
    np.testing.assert_array_equal(out, want)
    final = np.empty(3000, np.uint8)
    chain.sample(3000, 9, seed=4, out=final)
    np.testing.assert_array_equal(final, want[:, -1])
    h = dc.HierarchicalChain([P] * 9, np.full(30, 1 / 30))
    table = _core.markov_alias_tables(P, 1e-6, "P")
    uniform = _core.markov_alias_tables(np.full((1, 30), 1 / 30), 1e-9, "p")
    for chunk in (16, 100, 512, 8192, 10**6):  # clamped to [16, 8192]
        got = _core.markov_sample([table], np.zeros(9, np.int64), uniform, None, 3000, 4, "path", chunk)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(h.sample(3000, seed=4, out=np.empty((3000, 10), np.uint8)), want)
    with pytest.raises(ValueError, match=r"out has shape \(3000, 9\) but expected \(3000, 10\)"):
        chain.sample(3000, 9, return_path=True, out=np.empty((3000, 9), np.uint8))
    with pytest.raises(ValueError, match="out has dtype uint16 but expected uint8"):
        chain.sample(3000, 9, out=np.empty(3000, np.uint16))
    with pytest.raises(ValueError, match="C-contiguous"):
        chain.sample(3000, 9, return_path=True, out=np.empty((10, 3000), np.uint8).T)
    with pytest.raises(TypeError, match="out must be a numpy array"):
        chain.sample(3, 9, out=[0, 0, 0])


# ---- exact quantities -----------------------------------------------------------------------------
def test_stationary_distribution_gth():
    rng = np.random.default_rng(4)
    P = random_stochastic(rng, 40, 40, zeros=0.6)
    pi = dc.MarkovChain(P).stationary_distribution()
    w, v = np.linalg.eig(P.T)
    ref = np.real(v[:, np.argmin(np.abs(w - 1))])
    np.testing.assert_allclose(pi, ref / ref.sum(), atol=1e-12)
    # Nearly decomposable two-state chain: pi = (b, a) / (a + b) to full relative precision, where
    # solving pi (P - I) = 0 by elimination loses everything to cancellation against 1 - a.
    a, b = 1e-15, 3e-15
    pi2 = dc.MarkovChain(np.array([[1 - a, a], [b, 1 - b]])).stationary_distribution()
    np.testing.assert_allclose(pi2, [b / (a + b), a / (a + b)], rtol=1e-12)


def test_stationary_with_transient_states_and_reducible_chain():
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8], [0.0, 0.6, 0.4]])  # state 0 is transient
    np.testing.assert_allclose(dc.MarkovChain(P).stationary_distribution(), [0, 6 / 14, 8 / 14], atol=1e-15)
    two = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])
    with pytest.raises(ValueError, match="2 closed classes"):
        dc.MarkovChain(two).stationary_distribution()


def test_entropy_rate_two_state_closed_form():
    a, b = 0.1, 0.3

    def h(p):
        return -p * np.log(p) - (1 - p) * np.log(1 - p)

    chain = dc.MarkovChain(np.array([[1 - a, a], [b, 1 - b]]))
    want = (b * h(a) + a * h(b)) / (a + b)
    assert chain.entropy_rate() == pytest.approx(want, rel=1e-14)
    assert chain.entropy_rate(base=2) == pytest.approx(want / np.log(2), rel=1e-14)


def test_n_step_and_marginal():
    rng = np.random.default_rng(6)
    P = random_stochastic(rng, 7, 7)
    chain = dc.MarkovChain(P)
    Q = np.eye(7)
    for t in range(12):
        np.testing.assert_allclose(chain.n_step(t), Q, atol=1e-14)
        np.testing.assert_allclose(chain.marginal(t, 2), Q[2], atol=1e-14)
        np.testing.assert_allclose(chain.marginal(t), Q.mean(axis=0), atol=1e-14)
        Q = Q @ P


def brute_force_joint(p0, matrices):
    """p(y0, ..., yL) as a full tensor, by enumerating every path (independent of matrix products)."""
    sizes = [len(p0)] + [M.shape[1] for M in matrices]
    joint = np.zeros(sizes)
    for path in itertools.product(*(range(s) for s in sizes)):
        p = p0[path[0]]
        for k, M in enumerate(matrices):
            p *= M[path[k], path[k + 1]]
        joint[path] = p
    return joint


def test_exact_quantities_match_brute_force_enumeration():
    rng = np.random.default_rng(7)
    sizes = [3, 4, 2, 5]
    p0 = random_stochastic(rng, 1, sizes[0])[0]
    matrices = [random_stochastic(rng, sizes[k], sizes[k + 1], zeros=0.3) for k in range(3)]
    h = dc.HierarchicalChain(matrices, p0)
    full = brute_force_joint(p0, matrices)
    for i in range(4):
        np.testing.assert_allclose(h.marginal(i), full.sum(axis=tuple(a for a in range(4) if a != i)), atol=1e-15)
        for j in range(4):
            if i == j:
                pair = np.diag(h.marginal(i))
            else:
                pair = full.sum(axis=tuple(a for a in range(4) if a not in (i, j)))
                pair = pair if i < j else pair.T
            np.testing.assert_allclose(h.joint(i, j), pair, atol=1e-15)
            px, py = pair.sum(axis=1), pair.sum(axis=0)
            nz = pair > 0
            mi = np.sum(pair[nz] * np.log(pair[nz] / np.outer(px, py)[nz]))
            assert h.mutual_information(i, j) == pytest.approx(mi, abs=1e-13)
            assert h.mutual_information(i, j, base=2) == pytest.approx(mi / np.log(2), abs=1e-13)
            # Bayes: for each y_j guess the most probable y_i; accuracy = sum over y_j of that mass.
            assert h.bayes_accuracy(i, j) == pytest.approx(sum(pair[:, b].max() for b in range(pair.shape[1])))
    assert h.mutual_information(0, 0) == pytest.approx(-np.sum(p0 * np.log(p0)))
    assert h.bayes_accuracy(0, 0) == pytest.approx(1.0)


def test_data_processing_inequality():
    rng = np.random.default_rng(8)
    sizes = [8, 12, 6, 16, 16, 9, 30, 4, 8, 8, 20]
    matrices = [random_stochastic(rng, sizes[k], sizes[k + 1], zeros=0.4) for k in range(10)]
    h = dc.HierarchicalChain(matrices, random_stochastic(rng, 1, 8)[0])
    for i in range(11):
        mi = [h.mutual_information(i, k) for k in range(i, 11)]
        assert np.all(np.diff(mi) <= 1e-12), (i, mi)
        acc = [h.bayes_accuracy(i, k) for k in range(i, 11)]
        assert np.all(np.diff(acc) <= 1e-12), (i, acc)
    assert h.mutual_information(0, 10) > 0


def test_plug_in_mutual_information_within_3_standard_errors():
    # n = 10^6 samples of a 4-level hierarchy of 8 states. The plug-in's bias, about
    # (8 - 1)^2 / (2n) = 2.5e-5 nats, is a tenth of the standard errors here (>= 2e-4), so |error| < 3 SE
    # holds for a correct sampler with probability about 0.997 per pair; the seed is fixed.
    rng = np.random.default_rng(9)
    matrices = [random_stochastic(rng, 8, 8, zeros=0.5) for _ in range(4)]
    h = dc.HierarchicalChain(matrices, np.full(8, 1 / 8))
    y = h.sample(1_000_000, seed=2024)
    assert y.shape == (1_000_000, 5) and y.dtype == np.uint8
    for k in range(1, 5):
        exact = h.mutual_information(0, k)
        for correction in (None, "miller-madow"):
            est = dc.info.mutual_information(y[:, 0], y[:, k], correction=correction)
            assert abs(est.value - exact) < 3 * est.stderr, (k, correction, est, exact)
        counts = np.bincount(y[:, k], minlength=8)
        statistic, dof = chi2_statistic(counts, 1e6 * h.marginal(k))
        assert statistic < chi2_threshold(dof)


def test_hierarchy_equals_homogeneous_chain_paths():
    rng = np.random.default_rng(11)
    P = random_stochastic(rng, 20, 20)
    p0 = random_stochastic(rng, 1, 20)[0]
    h = dc.HierarchicalChain([P] * 9, p0)
    np.testing.assert_array_equal(
        h.sample(3001, seed=77), dc.MarkovChain(P).sample(3001, 9, init=p0, seed=77, return_path=True)
    )


def test_hierarchy_of_mixed_dtypes_returns_one_uint16_array():
    rng = np.random.default_rng(12)
    sizes = [4, 300, 3]
    h = dc.HierarchicalChain([random_stochastic(rng, sizes[k], sizes[k + 1]) for k in range(2)], np.full(4, 0.25))
    out = h.sample(5000, seed=1)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint16 and out.shape == (5000, 3)
    assert [out[:, k].max() < s for k, s in enumerate(sizes)] == [True] * 3
    assert (out[:, 1] > 255).any()
    assert h.level_sizes == sizes and h.n_levels == 2


# ---- torch ------------------------------------------------------------------------------------
def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    P = random_stochastic(rng, 6, 6)
    tP = torch.tensor(P, dtype=torch.float32)
    chain = dc.MarkovChain(tP)
    out = chain.sample(100, 5, seed=3, return_path=True)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and out.shape == (100, 6)
    np.testing.assert_array_equal(out.numpy(), dc.MarkovChain(P.astype(np.float32)).sample(100, 5, seed=3, return_path=True))
    assert isinstance(chain.stationary_distribution(), torch.Tensor)
    assert isinstance(chain.marginal(3, 0), torch.Tensor) and isinstance(chain.n_step(2), torch.Tensor)
    # torch init with numpy P also gives torch out
    assert isinstance(dc.MarkovChain(P).sample(10, 2, init=torch.zeros(10, dtype=torch.int64)), torch.Tensor)
    h = dc.HierarchicalChain([tP, tP], torch.full((6,), 1 / 6, dtype=torch.float64))
    y = h.sample(50)
    assert isinstance(y, torch.Tensor) and y.shape == (50, 3)
    assert isinstance(h.joint(0, 2), torch.Tensor)
    est = dc.info.mutual_information(y[:, 0], y[:, 1])
    assert est == dc.info.mutual_information(y[:, 0].numpy(), y[:, 1].numpy())


# ---- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "P, match",
    [
        ([[0.5, 0.6], [0.5, 0.5]], r"row 0 of P sums to 1\.1 but expected 1 within 1e-06"),
        ([[0.5, 0.5], [1.5, -0.5]], r"P\[1, 1\] is -0\.5 but expected a probability >= 0"),
        ([[0.5, 0.5], [np.nan, 1.0]], r"P\[1, 0\] is nan"),
        ([[np.inf, 0.5], [0.5, 0.5]], r"P\[0, 0\] is inf"),
        ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], r"square"),
        ([0.5, 0.5], r"shape"),
        (np.zeros((0, 0)), r"empty"),
    ],
)
def test_bad_matrices(P, match):
    with pytest.raises(ValueError, match=match):
        dc.MarkovChain(np.array(P))


def test_float32_tolerance_is_wider():
    P32 = np.array([[0.5, 0.499995], [0.5, 0.5]], dtype=np.float32)  # off by 5e-6 > float64's 1e-6
    dc.MarkovChain(P32)
    with pytest.raises(ValueError, match="within 1e-06"):
        dc.MarkovChain(P32.astype(np.float64))
    with pytest.raises(ValueError, match=r"row 0 of P sums to .* within 1e-05"):
        dc.MarkovChain(np.array([[0.5, 0.4999], [0.5, 0.5]], dtype=np.float32))


def test_bad_init_and_arguments():
    chain = dc.MarkovChain(np.full((4, 4), 0.25))
    with pytest.raises(ValueError, match="init must be <= 3"):
        chain.sample(10, 2, init=4)
    with pytest.raises(ValueError, match=r"init\[2\] is 9 but expected a state in \[0, 4\)"):
        chain.sample(3, 2, init=np.array([0, 1, 9]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        chain.sample(3, 2, init=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"init\[1\] is -0.5"):
        chain.sample(3, 2, init=np.array([0.5, -0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="init sums to"):
        chain.sample(3, 2, init=np.array([0.5, 0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="n_chains must be >= 0"):
        chain.sample(-1, 2)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        chain.sample(1, 2, seed=-1)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        chain.sample(1, 2.5)
    with pytest.raises(ValueError, match="base must be a positive number other than 1, got 1"):
        chain.entropy_rate(base=1)


def test_bad_hierarchies():
    good = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"matrices\[1\] has 2 rows but level 1 has 3 states"):
        dc.HierarchicalChain([good, np.full((2, 3), 1 / 3)], np.full(3, 1 / 3))
    with pytest.raises(ValueError, match=r"matrices\[0\] has 3 rows but level 0 has 4 states"):
        dc.HierarchicalChain([good], np.full(4, 0.25))
    with pytest.raises(ValueError, match=r"row 2 of matrices\[1\] sums to"):
        dc.HierarchicalChain([good, np.array([[1, 0], [0, 1], [0.5, 0.6]])], np.full(3, 1 / 3))
    with pytest.raises(ValueError, match=r"p0\[0\] is -1.0"):
        dc.HierarchicalChain([good], np.array([-1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="at least one level"):
        dc.HierarchicalChain([], np.full(3, 1 / 3))
    with pytest.raises(TypeError, match="list or tuple"):
        dc.HierarchicalChain(good, np.full(3, 1 / 3))
    h = dc.HierarchicalChain([good], np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="j must be <= 1"):
        h.mutual_information(0, 2)


def test_core_rechecks_invariants():
    # The private core never trusts its caller: bad matrices, forged tables and broken chaining raise.
    with pytest.raises(ValueError, match=r"row 1 of M sums to 0\.9"):
        _core.markov_alias_tables(np.array([[1.0, 0.0], [0.4, 0.5]]), 1e-6, "M")
    with pytest.raises(ValueError, match=r"M\[0, 1\] is -0\.5"):
        _core.markov_alias_tables(np.array([[1.5, -0.5], [0.5, 0.5]]), 1e-6, "M")
    with pytest.raises(ValueError, match=r"M\[0, 0\] is nan"):
        _core.markov_alias_tables(np.array([[np.nan, 1.0]]), 1e-6, "M")
    table = _core.markov_alias_tables(np.full((4, 4), 0.25), 1e-6, "P")
    init = _core.markov_alias_tables(np.full((1, 4), 0.25), 1e-6, "p")
    three = _core.markov_alias_tables(np.full((3, 3), 1 / 3), 1e-6, "T")
    forged = three.copy()
    forged[2, 1] = (forged[2, 1] & ~np.uint32(3)) | np.uint32(3)  # alias 3 in a 3-state level (2 alias bits)
    with pytest.raises(ValueError, match="alias 3 but expected < 3"):
        _core.markov_sample([forged], np.zeros(3, np.int64), init[:, :3].copy(), None, 10, 0, "final")
    wide = _core.markov_alias_tables(np.full((3, 4), 0.25), 1e-6, "Q")
    with pytest.raises(ValueError, match="table with 3 rows but the chain has 4 states"):
        _core.markov_sample([table, wide], np.array([0, 1], np.int64), init, None, 10, 0, "final")
    with pytest.raises(ValueError, match=r"init_states\[1\] is 4"):
        _core.markov_sample([table], np.zeros(3, np.int64), init, np.array([0, 4], np.uint32), 2, 0, "final")
    with pytest.raises(ValueError, match=r"step_levels\[0\] is 1"):
        _core.markov_sample([table], np.ones(3, np.int64), init, None, 2, 0, "final")


# ---- partition invariance (issue 12 §1): pieces of a batch, and chains resumed from saved states ----


@pytest.mark.parametrize("S", [5, 300])
@pytest.mark.parametrize("return_path", [False, True])
@pytest.mark.parametrize("init", [None, 2, "distribution"])
def test_pieces_with_first_concatenate_to_one_call(S, return_path, init):
    rng = np.random.default_rng(S)
    chain = dc.MarkovChain(random_stochastic(rng, S, S, zeros=0.3))
    if init == "distribution":
        init = random_stochastic(rng, 1, S)[0]
    whole = chain.sample(1000, 13, init=init, seed=77, return_path=return_path)
    cuts = [0, 1, 17, 600, 1000]
    pieces = [chain.sample(b - a, 13, init=init, seed=77, return_path=return_path, first=a)
              for a, b in zip(cuts[:-1], cuts[1:])]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_first_matches_numpy_reference_across_the_2_to_32_chain_boundary(each_simd_target):
    # The counter's chain word changes its high half at chain 2^32; chains on both sides in one call.
    rng = np.random.default_rng(5)
    P = random_stochastic(rng, 6, 6, zeros=0.2)
    chain = dc.MarkovChain(P)
    first = 2**32 - 37
    got = chain.sample(80, 9, seed=2**40 + 3, return_path=True, first=first)
    table = _core.markov_alias_tables(P, 1e-6, "P")
    uniform = _core.markov_alias_tables(np.full((1, 6), 1 / 6), 1e-9, "init")
    want = np.stack(reference_paths(table, uniform, 80, 9, 2**40 + 3, first=first), axis=1)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("S", [7, 300])
@pytest.mark.parametrize("T1", [0, 1, 3, 4, 6, 9])
def test_resuming_with_start_step_equals_one_long_run(S, T1):
    rng = np.random.default_rng(T1)
    chain = dc.MarkovChain(random_stochastic(rng, S, S, zeros=0.3))
    T2 = 11
    whole = chain.sample(300, T1 + T2, seed=9, return_path=True, first=50)
    head = chain.sample(300, T1, seed=9, return_path=True, first=50)
    tail = chain.sample(300, T2, init=head[:, -1], seed=9, return_path=True, first=50, start_step=T1)
    np.testing.assert_array_equal(np.concatenate([head, tail[:, 1:]], axis=1), whole)
    final = chain.sample(300, T2, init=head[:, -1], seed=9, first=50, start_step=T1)
    np.testing.assert_array_equal(final, whole[:, -1])
    # Resumed pieces of chains also split by first.
    parts = [chain.sample(b - a, T2, init=head[a:b, -1], seed=9, first=50 + a, start_step=T1)
             for a, b in [(0, 123), (123, 300)]]
    np.testing.assert_array_equal(np.concatenate(parts), whole[:, -1])


def test_start_step_matches_numpy_reference(each_simd_target):
    rng = np.random.default_rng(8)
    P = random_stochastic(rng, 9, 9)
    init = rng.integers(0, 9, 40)
    got = dc.MarkovChain(P).sample(40, 10, init=init, seed=4, return_path=True, first=3, start_step=2**34 - 10)
    table = _core.markov_alias_tables(P, 1e-6, "P")
    want = np.stack(reference_paths(table, None, 40, 10, 4, first=3, start_step=2**34 - 10, init_states=init),
                    axis=1)
    np.testing.assert_array_equal(got, want)


def test_hierarchy_pieces_with_first_concatenate_to_one_call():
    rng = np.random.default_rng(3)
    sizes = [4, 300, 6, 6]  # mixed dtypes: one uint16 array
    mats = [random_stochastic(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    p0 = random_stochastic(rng, 1, 4)[0]
    h = dc.HierarchicalChain(mats, p0)
    whole = h.sample(500, seed=12)
    pieces = [h.sample(b - a, seed=12, first=a) for a, b in [(0, 100), (100, 101), (101, 500)]]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    one_dtype = dc.HierarchicalChain([mats[2], mats[2]], np.full(6, 1 / 6))  # an (n, 3) uint8 array
    np.testing.assert_array_equal(
        np.concatenate([one_dtype.sample(7, seed=1), one_dtype.sample(9, seed=1, first=7)]),
        one_dtype.sample(16, seed=1),
    )


def test_bad_offsets():
    chain = dc.MarkovChain(np.eye(3))
    with pytest.raises(TypeError, match="first must be an integer"):
        chain.sample(3, 2, first=1.0)
    with pytest.raises(ValueError, match="first must be >= 0"):
        chain.sample(3, 2, first=-1)
    with pytest.raises(ValueError, match="first must be <="):
        chain.sample(3, 2, first=2**64 - 3)
    with pytest.raises(ValueError, match="start_step must be <="):
        chain.sample(3, 5, start_step=2**34 - 4)
    with pytest.raises(TypeError, match="start_step must be an integer"):
        chain.sample(3, 5, start_step="1")
    with pytest.raises(ValueError, match="first must be >= 0"):
        dc.HierarchicalChain([np.eye(2)], np.array([0.5, 0.5])).sample(3, first=-2)
    table = _core.markov_alias_tables(np.eye(3), 0.0, "P")
    with pytest.raises(ValueError, match="first_step \\+ n_steps"):
        _core.markov_sample([table], np.zeros(5, np.int64), table[:1], None, 3, 0, "final",
                            first_step=2**34 - 4)
    with pytest.raises(ValueError, match="first_chain \\+ n_chains"):
        _core.markov_sample([table], np.zeros(5, np.int64), table[:1], None, 3, 0, "final",
                            first_chain=2**64 - 2)


def test_the_old_n_keyword_behaves_the_same_in_both_samplers():
    """Issue 25.11: MarkovChain.sample(n=10, n_steps=5) was a TypeError while HierarchicalChain warned."""
    P = np.array([[0.9, 0.1], [0.3, 0.7]])
    chain = dc.MarkovChain(P)
    with pytest.warns(DeprecationWarning, match=r"MarkovChain.sample\(n=...\) is deprecated; use n_chains="):
        old = chain.sample(n=10, n_steps=5, seed=3)
    np.testing.assert_array_equal(old, chain.sample(10, 5, seed=3))
    h = dc.HierarchicalChain([P, P], np.array([0.5, 0.5]))
    with pytest.warns(DeprecationWarning, match=r"HierarchicalChain.sample\(n=...\) is deprecated; use n_chains="):
        np.testing.assert_array_equal(h.sample(n=4, seed=1), h.sample(4, seed=1))
    for call in (lambda: chain.sample(10, 5, n=10), lambda: h.sample(4, n=4)):
        with pytest.raises(TypeError, match="both n_chains and the deprecated n"):
            call()
    with pytest.raises(TypeError, match="missing n_steps"):
        chain.sample(10)
