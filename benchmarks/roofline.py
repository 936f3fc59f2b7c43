"""A measured roofline (issue 26 §2): each hot path's throughput beside the limit this machine sets it,
both measured in the same run, for every SIMD target the CPU supports, on 1 thread and on all.

    python benchmarks/roofline.py [--quick] [--json out.json]     # the table
    python -m pytest benchmarks/roofline.py                         # answers only, at a small size

The measurement and the model of each kernel live in the package (deepcheap_native/testing/roofline.py,
its docstring states them), so `deepcheap bench` and the report's performance section print the same
"limits" table; this script prints it alone, and its tests check the probes' answers, never their speed.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import _core
from deepcheap_native.testing.roofline import PRODUCT_LANE_OPS, expected_rounds, markdown, roofline

PATHS = {"Markov transitions/s", "sha256 gate-evals/s", "Ising flips/s", "product samples/s"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (seconds, noisy)")
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args()
    rows = roofline(args.quick)
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


# ---- as tests: the probes' answers (never their speed) ------------------------------------------


def _int_probe_reference(iters: int, seed: int, lanes: int) -> int:
    mask = (1 << 64) - 1
    k = 0xD1B54A32D192ED03 ^ seed
    s = 0
    for j in range(lanes):
        v = (seed + j * 0x9E3779B97F4A7C15) & mask
        for _ in range(iters):
            v = ((v ^ k) + v) & mask
        s ^= v
    return s


def test_integer_probe_computes_what_it_counts():
    """The int probe's checksum equals a Python recomputation of its lanes (warm-up seed t+1, timed
    seed t+2, xor-combined), and its work count is 2 ops × lanes × iterations; per SIMD target."""
    for target in dc.simd_targets():
        dc.set_simd_target(target)
        try:
            lanes = _core._roofline_lanes()
            assert lanes in (8, 32, 64)
            seconds, work, check = _core._roofline_probe("int", 50, 0, 1)
            assert seconds > 0 and work == 2 * lanes * 50
            assert check == _int_probe_reference(50, 1, lanes) ^ _int_probe_reference(50, 2, lanes)
        finally:
            dc.set_simd_target(dc.simd_targets()[-1])


def test_read_probe_counts_bytes_and_refuses_bad_arguments():
    for target in dc.simd_targets():
        dc.set_simd_target(target)
        try:
            seconds, work, _ = _core._roofline_probe("read", 3, 4096, 1)
            assert seconds > 0 and work == 3 * 4096
        finally:
            dc.set_simd_target(dc.simd_targets()[-1])
    with pytest.raises(ValueError, match="kind must be 'int', 'fp', 'read' or 'philox', got 'gpu'"):
        _core._roofline_probe("gpu", 1, 0, 1)
    with pytest.raises(ValueError, match="amount >= 1"):
        _core._roofline_probe("read", 1, 8, 1)


def test_philox_probe_is_the_generator():
    """The philox probe's work is 4 words per counter, and its checksum is the same on every target
    (philox_simd.hpp gives philox4x32_10's words on each), recomputed from random.philox4x32."""
    checks = set()
    for target in dc.simd_targets():
        dc.set_simd_target(target)
        try:
            seconds, work, check = _core._roofline_probe("philox", 2, 0, 1)
            assert seconds > 0 and work == 4 * 1024 * 2
            checks.add(check)
        finally:
            dc.set_simd_target(dc.simd_targets()[-1])
    assert len(checks) == 1
    def run_check(seed: int, blocks: int) -> int:
        s = 0
        for b in range(blocks):
            c = np.zeros((1024, 4), np.uint32)
            c[:, 0] = np.arange(1024)
            c[:, 1], c[:, 2] = b, seed
            w = dc.random.philox4x32(c, np.array([0x5EED, 0xC0DE], np.uint32))
            s ^= (int(w[b % 1024, 0] ^ w[(b + 1) % 1024, 1]) << 32) | int(w[(b + 2) % 1024, 2] ^ w[(b + 3) % 1024, 3])
        return s
    assert checks == {run_check(1, 2) ^ run_check(2, 2)}


def test_expected_rounds_matches_a_simulation():
    """Σ_r (1 − (1 − 2^−r)^m) against 20 000 simulated maxima of m geometric(1/2) counts (threshold 2 %)."""
    rng = np.random.default_rng(0)
    for m in (1, 8, 64):
        sim = (rng.geometric(0.5, (20_000, m))).max(axis=1).mean()
        assert math.isclose(expected_rounds(m), sim, rel_tol=0.02), (m, expected_rounds(m), sim)


def test_roofline_runs_and_every_fraction_is_positive():
    before = dc.simd_target()
    rows = roofline(quick=True)
    assert dc.simd_target() == before  # the active target is restored
    assert {r["hot path"] for r in rows} == PATHS
    assert {r["target"] for r in rows} == set(dc.simd_targets())
    for r in rows:
        assert r["items/s"] > 0 and r["limit"] > 0 and math.isfinite(r["fraction"])
        assert (r["scaling"] is None) == (r["threads"] == 1)
    table = markdown(rows)
    assert not any(r["hot path"] == "product samples/s" and r["target"] == "scalar" for r in rows)
    assert table.count("| Ising flips/s |") == sum(r["hot path"] == "Ising flips/s" for r in rows) > 0
    assert "philox words/s" in table


def test_product_model_takes_the_series_path():
    """The product row's model counts the series path, which a block takes when every gate's
    λ max(|u + v|, |u − v|) is at most 0.5 (kSoftplusSeriesRange): the roofline's inputs (magnitudes
    0.5–1, λ = 0.1) keep every value of the tree, a product of inputs, within [-1, 1], so the largest
    reach is at most 0.2. Checked on the tree's exact pairwise products, and the network's output
    against the exact product (the path the kernel took computes the product)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.0, (4096, 16)) * rng.choice([-1.0, 1.0], (4096, 16))
    level, reach = x, 0.0
    while level.shape[1] > 1:
        u, v = level[:, 0::2], level[:, 1::2]
        reach = max(reach, float((0.1 * np.maximum(np.abs(u + v), np.abs(u - v))).max()))
        level = u * v
    assert reach <= 0.2 + 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dc.product.AccuracyWarning)
        net = dc.product_network(16, kind="deep", dtype="float32", scale=0.1)
    got = np.asarray(net(x.astype(np.float32)), np.float64)
    np.testing.assert_allclose(got, level[:, 0], rtol=0.05, atol=1e-3)
    assert PRODUCT_LANE_OPS == 15 * 36


if __name__ == "__main__":
    main()
