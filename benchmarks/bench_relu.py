"""Linear regions along random lines (issue 22): the native walk (`relu.linear_regions`) against a
numpy implementation of the same walk, vectorised over every piece of every line at once (breadth
first: each layer's zeros split all current pieces in one batch of array operations), in one run.

    python -m pytest benchmarks/bench_relu.py --benchmark-enable --benchmark-min-rounds=3

He-initialised networks (`relu.random_network`, biases N(0, 0.1²)) with input dimension 16, widths
32–256, depths 1–8; random segments of length 4 (`relu.random_lines`). Measured ratios (docs/relu.rst,
shared 2-core machine, the per-target walk on AVX2, load 2.5): 3.7× (32 × 1), 8.3× (64 × 4), 25×
(256 × 2), 3.2× (128 × 8); the issue's 20× goal is met only for 256 × 2. Both implementations must give
the same region counts on every line (checked in every run), so the ratio compares equal work.

Against dense sampling at equal accuracy (``python benchmarks/bench_relu.py --dense``): sampling a
segment finds every region only if no piece falls between two samples, so each segment gets
n = ceil(1 / shortest piece) + 1 evenly spaced points (the shortest piece from the exact walk), whose
activation patterns come from numpy's forward pass batched over blocks of points (BLAS matrix
products); the count is 1 + the pattern changes between neighbours. That count must equal the exact
one on every segment timed. Segments are timed until a time budget is spent (their points in blocks
of 2^16), and the ratio compares seconds per segment. What it does not show: a sampler that knew no
shortest piece would have to guess n, and either miss regions or pay more.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import relu

THREADS = 2
SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
DIM = 16
# (width, depth, segments): 10^4 segments for the cheapest case, fewer where numpy's walk takes many seconds.
CASES = [(16, 2, 40)] if SMALL else [(32, 1, 10_000), (64, 4, 1_000), (256, 2, 1_000), (128, 8, 200)]
TOL = 1e-12


def numpy_line_regions(layers, lines, tol=TOL):
    """Region counts per line by the same walk in numpy: pieces (line, lo, hi, a + t c) split layer by
    layer at the zeros of the pre-activations inside them (zeros within tol merged)."""
    n_lines, _, d = lines.shape
    line = np.arange(n_lines)
    lo, hi = np.zeros(n_lines), np.ones(n_lines)
    a, c = lines[:, 0].copy(), lines[:, 1] - lines[:, 0]
    for W, b in layers[:-1]:
        z, dz = a @ W.T + b, c @ W.T
        with np.errstate(divide="ignore", invalid="ignore"):  # dz = 0 (no zero) and inf - inf (no cut)
            t = -z / dz
            inside = (dz != 0) & (t > lo[:, None] + tol) & (t < hi[:, None] - tol)
            t = np.sort(np.where(inside, t, np.inf), axis=1)
            keep = np.isfinite(t)
            keep[:, 1:] &= (t[:, 1:] - t[:, :-1]) > tol
        t = np.sort(np.where(keep, t, np.inf), axis=1)
        cuts = keep.sum(axis=1)
        # Sub-piece boundaries: lo, the cuts, hi; each piece gives cuts + 1 sub-pieces.
        bounds = np.concatenate([lo[:, None], t, np.full((len(lo), 1), np.inf)], axis=1)
        idx = np.arange(bounds.shape[1])[None, :]
        bounds = np.where(idx == cuts[:, None] + 1, hi[:, None], bounds)
        parent = np.repeat(np.arange(len(lo)), cuts + 1)
        k = np.arange(len(parent)) - np.repeat(np.cumsum(cuts + 1) - (cuts + 1), cuts + 1)
        s, e = bounds[parent, k], bounds[parent, k + 1]
        zz, dzz = z[parent], dz[parent]
        on = zz + 0.5 * (s + e)[:, None] * dzz > 0
        a, c = np.where(on, zz, 0.0), np.where(on, dzz, 0.0)
        line, lo, hi = line[parent], s, e
    return np.bincount(line, minlength=n_lines)


@pytest.fixture(autouse=True)
def _threads():
    before = dc.get_num_threads()
    dc.set_num_threads(THREADS)
    yield
    dc.set_num_threads(before)


def _case(width, depth, segments):
    net = relu.random_network((DIM,) + (width,) * depth + (1,), seed=width * 100 + depth, bias_std=0.1)
    lines = relu.random_lines(segments, DIM, seed=1, length=4.0)
    return net, lines


@pytest.mark.parametrize("width, depth, segments", CASES)
def test_regions_native(benchmark, width, depth, segments):
    net, lines = _case(width, depth, segments)
    benchmark.group = f"relu regions width={width} depth={depth} segments={segments}"
    result = benchmark.pedantic(relu.linear_regions, args=(net, lines), kwargs={"tol": TOL}, rounds=3)
    if SMALL:  # the full-size agreement is checked by test_regions_numpy
        assert np.array_equal(result.counts[0], numpy_line_regions(net.layers, lines))
    benchmark.extra_info["regions_per_segment"] = float(result.counts.mean())


@pytest.mark.parametrize("width, depth, segments", CASES)
def test_regions_numpy(benchmark, width, depth, segments):
    net, lines = _case(width, depth, segments)
    benchmark.group = f"relu regions width={width} depth={depth} segments={segments}"
    counts = benchmark.pedantic(numpy_line_regions, args=(net.layers, lines), rounds=1)
    assert np.array_equal(counts, relu.linear_regions(net, lines, tol=TOL).counts[0])


# ---- dense sampling at equal accuracy ------------------------------------------------------------------


def dense_counts(net, segment: np.ndarray, n: int, block: int = 1 << 16) -> int:
    """Regions along one segment (2, d) seen by n evenly spaced samples, one in each interval of length 1/n:
    1 + the pattern changes between neighbouring samples. The forward pass is numpy's, batched over a
    block of points per matrix product (BLAS)."""
    x0, x1 = segment
    changes, last = 0, None
    for start in range(0, n, block):
        # Offset by the golden fraction, not 1/2: no sample lands on a dyadic breakpoint (the sawtooth's)
        t = (np.arange(start, min(n, start + block)) + 0.6180339887498949) / n
        h = x0[None, :] + t[:, None] * (x1 - x0)[None, :]
        differs = np.zeros(len(t) - 1, dtype=bool)
        head, tail = [], []
        for W, b in net.layers[:-1]:
            z = h @ W.T + b
            on = z > 0
            differs |= (on[1:] != on[:-1]).any(axis=1)
            head.append(on[0])
            tail.append(on[-1])
            h = np.where(on, z, 0.0)
        changes += int(differs.sum()) + (0 if last is None else int((np.concatenate(head) != last).any()))
        last = np.concatenate(tail)
    return changes + 1


def dense_equal_accuracy(width: int, depth: int, segments: int, budget: float = 10.0) -> dict:
    """Seconds per segment of the exact walk and of dense sampling at the resolution that sees every
    piece, on the first segments that fit in `budget` seconds of sampling; counts checked equal."""
    net, lines = _case(width, depth, segments)
    t0 = time.perf_counter()
    exact = relu.linear_regions(net, lines, tol=TOL)
    walk = (time.perf_counter() - t0) / segments
    spent, done, points = 0.0, 0, 0
    for i in range(segments):
        cuts = np.concatenate([[0.0], exact.breakpoints(0, i), [1.0]])
        n = math.ceil(1.0 / np.diff(cuts).min()) + 1
        t0 = time.perf_counter()
        count = dense_counts(net, lines[i], n)
        spent += time.perf_counter() - t0
        assert count == exact.counts[0, i], (i, count, exact.counts[0, i], n)
        done, points = done + 1, points + n
        if spent > budget:
            break
    dense = spent / done
    return {"case": f"{width} x {depth}", "segments": done, "points_per_segment": points / done,
            "walk_s": walk, "dense_s": dense, "ratio": dense / walk}


def test_dense_sampling_at_equal_accuracy_counts_every_region():
    """The dense sampler, at the resolution the exact walk's shortest piece sets, finds exactly the walk's
    regions on every segment (so the comparison is at equal accuracy); the sawtooth of depth 6 along
    [0, 1] (64 pieces of length 1/64) needs 65 points."""
    r = dense_equal_accuracy(16, 2, 20, budget=1.0)
    assert r["segments"] >= 1 and r["dense_s"] > 0 and r["walk_s"] > 0
    saw = relu.sawtooth_network(6)
    assert dense_counts(saw, np.array([[0.0], [1.0]]), 65) == 64


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="ReLU regions: the exact walk against dense sampling at equal accuracy")
    ap.add_argument("--dense", action="store_true", help="run the dense-sampling comparison (the default)")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds of dense sampling per case (default 10)")
    args = ap.parse_args()
    dc.set_num_threads(THREADS)
    print(f"threads {THREADS}, SIMD {dc.simd_target()}, load average {os.getloadavg()[0]:.1f}")
    print("| case | segments timed | points per segment | walk s/segment | dense s/segment | dense / walk |")
    print("|---|---|---|---|---|---|")
    for width, depth, segments in CASES:
        r = dense_equal_accuracy(width, depth, segments, args.budget)
        print(f"| {r['case']} | {r['segments']} | {r['points_per_segment']:.3g} | {r['walk_s']:.3g} | "
              f"{r['dense_s']:.3g} | {r['ratio']:.3g}× |", flush=True)
