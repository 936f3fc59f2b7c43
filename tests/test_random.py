"""Philox4x32-10 against the Random123 known-answer vectors (file kat_vectors of the Random123
distribution), and the bulk kernel across SIMD targets and thread counts."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import simd, threads

# philox4x32 10 <counter x4> <key x2> <expected x4>, verbatim from Random123's kat_vectors.
KAT = """
00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
"""


def kat_rows():
    rows = [[int(w, 16) for w in line.split()] for line in KAT.strip().splitlines()]
    return np.array(rows, dtype=np.uint32)


def reference_philox(counter, key):
    """Independent pure-Python Philox4x32-10 (Salmon et al. 2011) for random inputs."""
    c = [int(x) for x in counter]
    k0, k1 = int(key[0]), int(key[1])
    mask = 0xFFFFFFFF
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & mask
            k1 = (k1 + 0xBB67AE85) & mask
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & mask, p1 & mask, ((p0 >> 32) ^ c[3] ^ k1) & mask, p0 & mask]
    return c


def test_known_answer_vectors(each_simd_target):
    rows = kat_rows()
    out = dc.random.philox4x32(rows[:, :4], rows[:, 4:6])
    np.testing.assert_array_equal(out, rows[:, 6:])


def test_matches_independent_reference_on_random_inputs():
    rng = np.random.default_rng(1)
    counter = rng.integers(0, 2**32, size=(64, 4), dtype=np.uint64).astype(np.uint32)
    key = rng.integers(0, 2**32, size=(64, 2), dtype=np.uint64).astype(np.uint32)
    out = dc.random.philox4x32(counter, key)
    expected = np.array([reference_philox(c, k) for c, k in zip(counter, key)], dtype=np.uint32)
    np.testing.assert_array_equal(out, expected)


def test_all_targets_and_thread_counts_agree():
    rng = np.random.default_rng(2)
    counter = rng.integers(0, 2**32, size=(100_003, 4), dtype=np.uint64).astype(np.uint32)
    key = rng.integers(0, 2**32, size=(1, 2), dtype=np.uint64).astype(np.uint32)
    results = []
    for target in dc.simd_targets():
        for k in (1, 2):
            with simd(target), threads(k):
                results.append(dc.random.philox4x32(counter, key))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_broadcasting_and_shapes():
    rows = kat_rows()
    counter = np.broadcast_to(rows[2, :4], (3, 5, 4))
    out = dc.random.philox4x32(counter, rows[2, 4:6])
    assert out.shape == (3, 5, 4) and out.dtype == np.uint32
    np.testing.assert_array_equal(out[1, 2], rows[2, 6:])
    # Both batches broadcast (3, 1) x (1, 2), and a single counter under a batch of keys: every output
    # word equals the one-counter call on its own pair (the known-answer rows, int64 words).
    counters = rows[:3, :4].reshape(3, 1, 4).astype(np.int64)
    keys = rows[:2, 4:6].reshape(1, 2, 2)
    both = dc.random.philox4x32(counters, keys)
    assert both.shape == (3, 2, 4)
    for i in range(3):
        for j in range(2):
            np.testing.assert_array_equal(both[i, j], dc.random.philox4x32(rows[i, :4], rows[j, 4:6]))
    one_counter = dc.random.philox4x32(rows[0, :4], rows[:3, 4:6])
    for j in range(3):
        np.testing.assert_array_equal(one_counter[j], dc.random.philox4x32(rows[0, :4], rows[j, 4:6]))


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    rows = kat_rows().astype(np.int64)
    out = dc.random.philox4x32(torch.from_numpy(rows[:, :4]), torch.from_numpy(rows[:, 4:6]))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), kat_rows()[:, 6:])


@pytest.mark.parametrize(
    ("counter", "key", "error", "match"),
    [
        (np.zeros((2, 3), np.uint32), np.zeros((2, 2), np.uint32), ValueError, r"shape \(\.\.\., 4\)"),
        (np.zeros((2, 4), np.uint32), np.zeros((2, 3), np.uint32), ValueError, r"shape \(\.\.\., 2\)"),
        (np.zeros((2, 4), np.float64), np.zeros((2, 2), np.uint32), TypeError, "integer array"),
        (np.full((1, 4), -1), np.zeros((1, 2), np.uint32), ValueError, r"\[0, 2\*\*32 - 1\]"),
        (np.zeros((2, 4), np.uint32), np.zeros((3, 2), np.uint32), ValueError, "do not broadcast"),
    ],
)
def test_bad_input(counter, key, error, match):
    with pytest.raises(error, match=match):
        dc.random.philox4x32(counter, key)


def test_core_rechecks_shapes():
    # The C++ side never trusts its caller.
    with pytest.raises(ValueError, match="expected"):
        dc._core.philox4x32(np.zeros((2, 3), np.uint32), np.zeros((2, 2), np.uint32))
