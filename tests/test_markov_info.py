"""deepcheap_native.info: native counting against np.bincount, plug-in entropy and mutual information
against direct numpy formulas and exact values, standard errors against the spread of repeated
estimates."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import threads
from deepcheap_native import _core, info


def plug_in_entropy(x):
    _, counts = np.unique(x, return_counts=True)
    p = counts / counts.sum()
    return -np.sum(p * np.log(p)), len(counts)


def plug_in_mi(x, y):
    hx, mx = plug_in_entropy(x)
    hy, my = plug_in_entropy(y)
    hxy, mxy = plug_in_entropy(np.stack([x, y], axis=1).astype(np.int64) @ np.array([1 << 32, 1]))
    return hx + hy - hxy, mx + my - mxy - 1


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int32, np.int64])
def test_native_counts_match_bincount(dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 200, 300_001).astype(dtype)
    y = rng.integers(0, 37, 300_001).astype(dtype)
    np.testing.assert_array_equal(_core.info_count(x, 200), np.bincount(x, minlength=200))
    want = np.bincount(x.astype(np.int64) * 37 + y, minlength=200 * 37).reshape(200, 37)
    with threads(1):
        one = _core.info_count_pairs(x, y, 200, 37)
    with threads(2):
        two = _core.info_count_pairs(x, y, 200, 37)
    np.testing.assert_array_equal(one, want)
    np.testing.assert_array_equal(two, want)


def test_native_counts_reject_out_of_range():
    with pytest.raises(ValueError, match="element 2 lies outside"):
        _core.info_count(np.array([0, 1, 5], np.uint8), 5)
    with pytest.raises(ValueError, match="outside"):
        _core.info_count(np.array([0, -1], np.int64), 5)
    with pytest.raises(ValueError, match="dtype float64"):
        _core.info_count(np.zeros(3), 5)
    with pytest.raises(ValueError, match="3 samples but y has 2"):
        _core.info_count_pairs(np.zeros(3, np.uint8), np.zeros(2, np.uint8), 1, 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.integers(0, 6, 50_000).astype(np.uint8),
        lambda rng: rng.integers(-5, 5, 50_000),  # negative labels: relabelled
        lambda rng: rng.integers(0, 3, 50_000) * 10**9,  # sparse labels
        lambda rng: rng.random(50_000) < 0.3,  # bool
        lambda rng: rng.integers(0, 4, (200, 250)).astype(np.int16),  # any shape, any integer dtype
    ],
)
def test_entropy_and_mi_match_numpy_formulas(make):
    rng = np.random.default_rng(2)
    x = make(rng)
    y = (x.astype(np.int64) + rng.integers(0, 2, x.shape)) % 7
    h, m = plug_in_entropy(x.ravel())
    assert info.entropy(x).value == pytest.approx(h, rel=1e-12)
    assert info.entropy(x, correction="miller-madow").value == pytest.approx(h + (m - 1) / (2 * x.size), rel=1e-12)
    assert info.entropy(x, base=2).value == pytest.approx(h / np.log(2), rel=1e-12)
    mi, dof = plug_in_mi(x.ravel().astype(np.int64), y.ravel())
    assert info.mutual_information(x, y).value == pytest.approx(mi, rel=1e-10)
    mm = info.mutual_information(x, y, correction="miller-madow").value
    assert mm == pytest.approx(mi + dof / (2 * x.size), rel=1e-10, abs=1e-15)  # dof <= 0: a downward shift


def test_large_label_ranges_use_sparse_pairs():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20_000, 100_000)
    y = (x * 7 + rng.integers(0, 3, x.size)) % 15_000  # 3e8 cells: more than the dense limit
    mi, _ = plug_in_mi(x, y)
    assert info.mutual_information(x, y).value == pytest.approx(mi, rel=1e-10)


def test_entropy_exact_and_standard_error_calibrated():
    # 200 independent samples of n = 20,000 from a known distribution: the mean of the estimates is
    # within its own standard error budget of H (bias (m-1)/(2n) removed by Miller-Madow), and the
    # delta-method standard error agrees with the spread across repetitions within 25% (the relative
    # sampling error of a standard deviation from 200 repetitions is about 5%).
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    exact = -np.sum(p * np.log(p))
    rng = np.random.default_rng(4)
    estimates = [info.entropy(rng.choice(5, 20_000, p=p), correction="miller-madow") for _ in range(200)]
    values = np.array([e.value for e in estimates])
    stderr = np.mean([e.stderr for e in estimates])
    assert abs(values.mean() - exact) < 4 * values.std() / np.sqrt(200)
    assert 0.75 < values.std() / stderr < 1.25


def test_mi_standard_error_calibrated():
    rng = np.random.default_rng(5)
    P = rng.random((6, 6)) ** 2
    P /= P.sum(axis=1, keepdims=True)
    h = dc.HierarchicalChain([P], np.full(6, 1 / 6))
    exact = h.mutual_information(0, 1)
    estimates = []
    for seed in range(150):
        y = h.sample(20_000, seed=seed)
        estimates.append(info.mutual_information(y[:, 0], y[:, 1], correction="miller-madow"))
    values = np.array([e.value for e in estimates])
    assert abs(values.mean() - exact) < 4 * values.std() / np.sqrt(150)
    assert 0.75 < values.std() / np.mean([e.stderr for e in estimates]) < 1.25


def test_degenerate_cases():
    assert info.entropy(np.zeros(10, np.uint8)) == (0.0, 0.0)
    assert info.mutual_information(np.zeros(10, np.uint8), np.arange(10)) == (0.0, 0.0)
    est = info.entropy(np.array([0, 1]))
    assert float(est) == pytest.approx(np.log(2)) and isinstance(est, info.Estimate)


def test_bad_input():
    with pytest.raises(TypeError, match="integer labels"):
        info.entropy(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="at least one sample"):
        info.entropy(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match="same shape"):
        info.mutual_information(np.zeros(3, int), np.zeros(4, int))
    with pytest.raises(ValueError, match="correction must be one of 'miller-madow'"):
        info.mutual_information(np.zeros(3, int), np.zeros(3, int), correction="jackknife")
    with pytest.raises(ValueError, match="base"):
        info.entropy(np.zeros(3, int), base=-2)


def test_estimates_carry_their_unit_and_refuse_mixing_units():
    """Issue 25.4: an MI in bits printed beside one in nats read like a 7σ failure."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, 20_000)
    y = (x + rng.integers(0, 2, 20_000)) % 4
    nats = info.mutual_information(x, y)
    bits = info.mutual_information(x, y, base=2)
    assert (nats.unit, bits.unit, nats.base, bits.base) == ("nats", "bits", np.e, 2.0)
    assert "bits" in repr(bits) and "nats" in repr(nats)
    assert bits.value == pytest.approx(nats.value / np.log(2), rel=1e-12)
    converted = bits.to_base(np.e)
    assert converted.value == pytest.approx(nats.value, rel=1e-12) and converted.stderr == pytest.approx(nats.stderr)
    value, stderr = bits  # still a (value, stderr) pair
    assert (value, stderr) == (bits.value, bits.stderr) and float(bits) == value
    for op in (lambda a, b: a < b, lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a == b):
        with pytest.raises(TypeError, match="nats and one in bits"):
            op(nats, bits)
    diff = nats - converted
    assert abs(diff.value) < 1e-12 and diff.stderr == pytest.approx(np.hypot(nats.stderr, converted.stderr))
    assert nats > 0.5 and nats + 1 > 1.5
    with pytest.raises(TypeError, match="does not multiply"):
        nats * 2
    assert pickle.loads(pickle.dumps(bits)) == bits and pickle.loads(pickle.dumps(bits)).unit == "bits"
