"""Linear regions along random lines (issue 22): the native walk (`relu.linear_regions`) against a
numpy implementation of the same walk, vectorised over every piece of every line at once (breadth
first: each layer's zeros split all current pieces in one batch of array operations), in one run.

    python -m pytest benchmarks/bench_relu.py --benchmark-enable --benchmark-min-rounds=3

He-initialised networks (`relu.random_network`, biases N(0, 0.1²)) with input dimension 16, widths
32–256, depths 1–8; random segments of length 4 (`relu.random_lines`). Measured ratios (docs/relu.rst,
shared 2-core machine): 3.4× (32 × 1), 5.0× (64 × 4), 15.9× (256 × 2), 1.6× (128 × 8); the issue's
20× goal is not met. Both implementations must give the same region counts on
every line (checked in every run), so the ratio compares equal work.
"""

from __future__ import annotations

import os

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
