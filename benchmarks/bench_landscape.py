"""Spherical p-spin descent: the library's batched step (monomials over index multisets, one BLAS GEMM
with the reduced coupling tensor) against the same projected gradient descent written plainly over the
full symmetric tensor, with numpy einsum (optimize=True, so it too reaches BLAS) and with torch.einsum,
in one process, each asserting that its endpoints match the library's.

    python -m pytest benchmarks/bench_landscape.py --benchmark-enable \
        --benchmark-min-rounds=3 --benchmark-group-by=group --benchmark-columns=min,median,max

Cases: p = 3 with N = 64, 128, 256 and p = 4 with N = 32, 48; 256 starts, 10 steps, float32 (what the
report runs). BLAS threads: numpy's default (all cores); torch: 2 threads. With DEEPCHEAP_BENCH_SIZE=small
(the suite, benchmarks disabled; see conftest.py) each case runs once at p = 3, N = 24 and p = 4, N = 10
with 32 starts and 3 steps, so the endpoint checks still run in well under a second.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from deepcheap_native.landscape import SphericalSpinGlass

SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
STARTS, STEPS = (32, 3) if SMALL else (256, 10)
CASES = [(3, 24), (4, 10)] if SMALL else [(3, 64), (3, 128), (3, 256), (4, 32), (4, 48)]
_MODELS: dict = {}


def model_for(p, N):
    if (p, N) not in _MODELS:
        model = SphericalSpinGlass(N, p, seed=1)
        expected = model.descend(STARTS, steps=STEPS, seed=2, tol=0, dtype="float32")  # warms the reduced tensor
        _MODELS[(p, N)] = (model, model.random_starts(STARTS, seed=2), expected.sigma)
    return _MODELS[(p, N)]


def gradient_subscripts(p):
    letters = "ijkl"[:p]
    return letters + "," + ",".join(f"b{c}" for c in letters[1:]) + "->bi"


def numpy_descent(tensor, x, steps, eta, p):
    """Projected gradient descent over the full symmetric tensor with np.einsum(optimize=True)."""
    N = x.shape[1]
    scale = np.float32(p * N ** (-(p - 1) / 2))
    subscripts = gradient_subscripts(p)
    for _ in range(steps):
        g = scale * np.einsum(subscripts, tensor, *([x] * (p - 1)), optimize=True)
        g -= (np.einsum("bi,bi->b", g, x) / N)[:, None] * x
        x = x - np.float32(eta) * g
        x *= (math.sqrt(N) / np.linalg.norm(x, axis=1))[:, None].astype(np.float32)
    return x


def torch_descent(torch, tensor, x, steps, eta, p):
    N = x.shape[1]
    scale = p * N ** (-(p - 1) / 2)
    subscripts = gradient_subscripts(p)
    for _ in range(steps):
        g = scale * torch.einsum(subscripts, tensor, *([x] * (p - 1)))
        g = g - ((g * x).sum(1) / N)[:, None] * x
        x = x - eta * g
        x = x * (math.sqrt(N) / torch.linalg.vector_norm(x, dim=1))[:, None]
    return x


def check(sigma, expected):
    # float32 arithmetic in a different order: endpoints after 10 steps agree to ~1e-4 per coordinate
    np.testing.assert_allclose(np.asarray(sigma, dtype=np.float64), expected, atol=5e-3)


@pytest.mark.parametrize("p, N", CASES)
def test_library_descent(benchmark, p, N):
    benchmark.group = f"descent p={p} N={N} B={STARTS} steps={STEPS} float32"
    model, starts, expected = model_for(p, N)
    result = benchmark(lambda: model.descend(STARTS, steps=STEPS, seed=2, tol=0, dtype="float32"))
    np.testing.assert_array_equal(result.sigma, expected)


@pytest.mark.parametrize("p, N", CASES)
def test_numpy_einsum_peer(benchmark, p, N):
    benchmark.group = f"descent p={p} N={N} B={STARTS} steps={STEPS} float32"
    model, starts, expected = model_for(p, N)
    tensor = model.symmetric_couplings.astype(np.float32)
    x0 = starts.astype(np.float32)
    sigma = benchmark(lambda: numpy_descent(tensor, x0, STEPS, model.default_step_size(), p))
    check(sigma, expected)


@pytest.mark.parametrize("p, N", CASES)
def test_torch_einsum_peer(benchmark, p, N):
    torch = pytest.importorskip("torch")
    benchmark.group = f"descent p={p} N={N} B={STARTS} steps={STEPS} float32"
    model, starts, expected = model_for(p, N)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tensor = torch.from_numpy(model.symmetric_couplings.astype(np.float32))
        x0 = torch.from_numpy(starts.astype(np.float32))
        sigma = benchmark(lambda: torch_descent(torch, tensor, x0, STEPS, model.default_step_size(), p))
    finally:
        torch.set_num_threads(before)
    check(sigma.numpy(), expected)
