"""Circuit input-space ranges: range and random input words, evaluate_range, output-pattern counts and
equivalence checking, each against a brute force written here in plain Python integers."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import circuits
from deepcheap_native.circuit import space as circuit_space
from deepcheap_native.circuit import unpack_bits


def _ints_from_words(words: np.ndarray, count: int) -> list[int]:
    """Packed (n, n_words) words -> the integer x of each of the first `count` vectors (bit i = row i)."""
    bits = unpack_bits(words, count)
    return [sum(int(bits[i, v]) << i for i in range(bits.shape[0])) for v in range(count)]


@pytest.mark.parametrize(
    ("n_inputs", "start", "count"),
    [(3, 0, 8), (6, 5, 59), (7, 0, 128), (7, 37, 91), (12, 4000, 96), (70, 2**64 - 100, 300),
     (130, 2**129 + 2**64 - 7, 200), (66, 2**66 - 130, 130)],
)
def test_range_words_are_consecutive_integers(n_inputs, start, count):
    words = circuit_space.range_input_words(n_inputs, start, count)
    assert words.shape == (n_inputs, -(-count // 64)) and words.dtype == np.uint64
    assert _ints_from_words(words, count) == list(range(start, start + count))


def test_random_words_are_philox_and_split_invariant():
    n, seed = 5, 1234
    whole = circuit_space.random_input_words(n, 0, 640, seed=seed)
    parts = [circuit_space.random_input_words(n, f, c, seed=seed) for f, c in ((0, 192), (192, 64), (256, 384))]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)
    # Independent reference: word k, input bits 2p and 2p+1 = Philox((k, 0, p, purpose), seed).
    k, p = 7, 1
    r = dc.random.philox4x32(np.array([k, 0, p, 0xC1C00000], np.uint32), np.array([seed, 0], np.uint32))
    r = [int(v) for v in r]
    assert int(whole[2 * p, k]) == r[0] | (r[1] << 32)
    assert int(whole[2 * p + 1, k]) == r[2] | (r[3] << 32)
    other = circuit_space.random_input_words(n, 0, 640, seed=seed + 1)
    assert not np.array_equal(other, whole)


def test_evaluate_range_matches_integer_sums():
    add = circuits.kogge_stone_adder(4)  # inputs: a (bits 0..3), b (bits 4..7); output: 5-bit sum
    full = add.evaluate_range()
    assert full.shape == (5, 4)
    sums = _ints_from_words(full, 256)
    assert sums == [(x & 15) + (x >> 4) for x in range(256)]
    # Any chunk and an unaligned start give the same words, lanes past count zeroed.
    part = add.evaluate_range(37, 150, chunk=64)
    assert _ints_from_words(part, 150) == sums[37:187]
    assert int(part[:, -1].max()) >> (150 % 64) == 0
    np.testing.assert_array_equal(add.evaluate_range(37, 150, chunk=128), part)


def test_count_output_patterns_dense_and_sparse():
    add = circuits.ripple_carry_adder(6)
    patterns, counts = add.count_output_patterns()
    expected = Counter((a + b) for a in range(64) for b in range(64))
    assert patterns.dtype == np.uint64 and counts.dtype == np.int64
    assert dict(zip(patterns.tolist(), counts.tolist())) == dict(expected)
    chunked = add.count_output_patterns(100, 3000, chunk=256)
    expected = Counter((x & 63) + (x >> 6) for x in range(100, 3100))
    assert dict(zip(chunked[0].tolist(), chunked[1].tolist())) == dict(expected)
    # 22 outputs: sparse counting.
    mult = circuits.array_multiplier(11)
    start, count = 123_457, 70_000
    patterns, counts = mult.count_output_patterns(start, count, chunk=1 << 14)
    expected = Counter((x & 2047) * (x >> 11) for x in range(start, start + count))
    assert dict(zip(patterns.tolist(), counts.tolist())) == dict(expected)
    assert np.all(np.diff(patterns.astype(np.float64)) > 0)


def _mutated(c: dc.Circuit, gate: int, op: str) -> dc.Circuit:
    ops = np.array(c.ops)
    ops[gate] = dc.circuit.OPS.index(op)
    return dc.Circuit(ops, c.in0, c.in1, c.outputs, c.input_widths, c.output_widths)


def _first_gate(c: dc.Circuit, op: str, after: int = 0) -> int:
    return int(np.flatnonzero(np.array(c.ops) == dc.circuit.OPS.index(op))[after])


def test_equivalent_exhaustive_proves_and_finds_the_first_counterexample():
    a, b = circuits.ripple_carry_adder(8), circuits.kogge_stone_adder(8)
    result = circuits.equivalent(a, b)
    assert result and result.method == "exhaustive" and result.vectors == 2**16 and result.counterexample is None
    bad = _mutated(b, _first_gate(b, "AND", 5), "OR")
    # Brute force: every input in truth-table order, Python integers.
    xs = np.arange(2**16)
    good_sum = a.evaluate(xs & 255, xs >> 8)
    bad_sum = bad.evaluate(xs & 255, xs >> 8)
    first = int(np.flatnonzero(good_sum != bad_sum)[0])
    for chunk in (64, 4096, 1 << 18):
        r = circuits.equivalent(a, bad, chunk=chunk)
        assert not r and r.method == "exhaustive"
        assert r.index == first and r.inputs == first and r.vectors == first + 1
        assert r.counterexample == (first & 255, first >> 8)
        assert r.outputs == ((int(good_sum[first]),), (int(bad_sum[first]),))


def test_equivalent_random_beyond_the_exhaustive_limit():
    a, b = circuits.ripple_carry_adder(32), circuits.sklansky_adder(32)
    r = circuits.equivalent(a, b, exhaustive_bits=20, samples=10_000, seed=3)
    assert r.equivalent and not r.proved and r.method == "random" and r.vectors == 10_000
    assert r.input_bits == 64 and r.coverage == 10_000 / 2**64
    # Evidence is not a proof: a random check without a counterexample has no truth value.
    with pytest.raises(TypeError, match=r"no difference in 10,000 of the 2\^64 inputs.*\.proved"):
        bool(r)
    assert "no difference in 10,000 random inputs of 2^64" in repr(r)
    exhaustive = circuits.equivalent(circuits.ripple_carry_adder(8), circuits.sklansky_adder(8))
    assert exhaustive and exhaustive.proved and exhaustive.coverage == 1.0
    # A fault in the carry out of bit 20: only inputs whose carry reaches it show it.
    bad = _mutated(b, _first_gate(b, "AND", 60), "XOR")
    results = [circuits.equivalent(a, bad, exhaustive_bits=20, samples=1 << 16, seed=9, chunk=c) for c in (64, 1 << 12, 1 << 18)]
    assert all(x == results[0] for x in results)
    r = results[0]
    assert not r and r.method == "random"
    x, y = r.counterexample
    assert r.inputs == x | (y << 32)
    assert a.evaluate(x, y) == (x + y) != bad.evaluate(x, y)
    assert r.outputs == ((x + y,), (bad.evaluate(x, y),))
    # It is the first: no random vector before r.index differs (brute force over the same vectors).
    words = circuit_space.random_input_words(64, 0, r.index + 1, seed=9)
    vectors = _ints_from_words(words, r.index + 1)
    assert vectors[-1] == r.inputs
    diff = [v for v in vectors if a.evaluate(v & (2**32 - 1), v >> 32) != bad.evaluate(v & (2**32 - 1), v >> 32)]
    assert diff == [r.inputs]


def test_range_bad_input():
    add = circuits.ripple_carry_adder(4)
    with pytest.raises(ValueError, match=r"start \+ count = 300 runs past the 2\*\*8"):
        add.evaluate_range(200, 100)
    with pytest.raises(ValueError, match="start must lie in"):
        add.evaluate_range(-1, 3)
    with pytest.raises(TypeError, match="start must be an integer, got float"):
        add.evaluate_range(1.5, 3)
    with pytest.raises(ValueError, match="chunk must be a multiple of 64 vectors"):
        add.count_output_patterns(chunk=100)
    with pytest.raises(ValueError, match="pass count"):
        circuits.ripple_carry_adder(40).evaluate_range()
    with pytest.raises(ValueError, match="129 output bits"):
        circuits.ripple_carry_adder(128).count_output_patterns(0, 64)
    with pytest.raises(ValueError, match="different interfaces"):
        circuits.equivalent(add, circuits.ripple_carry_adder(5))
    with pytest.raises(TypeError, match="b must be a Circuit"):
        circuits.equivalent(add, "adder")
    with pytest.raises(ValueError, match="first must be a multiple of 64"):
        circuit_space.random_input_words(4, 10, 64)


def test_circuit_pickles():
    c = circuits.brent_kung_adder(16)
    d = pickle.loads(pickle.dumps(c))
    assert d.n_gates == c.n_gates and d.input_widths == c.input_widths
    r = circuits.equivalent(c, d)  # 32 input bits: beyond exhaustive_bits=24, a random check
    assert r.equivalent and not r.proved
