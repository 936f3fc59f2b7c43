"""Timings for benchmarks/gpu_check.sh: every hot path on the GPU (device="cuda") against the CPU
(all cores, the best SIMD target) in the same process, one table in Markdown.

GPU times are end to end as the public API runs them today: host arrays in, copies to the device,
the kernels, copies back. Each row asserts its GPU answer against the CPU's before timing.
Rows are functions registered in ROWS; the Markov and Ising areas add theirs in their sections.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Callable

import numpy as np

import deepcheap_native as dc
from deepcheap_native import cuda


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    fn()  # warm-up (first launch, lazy module load, allocations)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# Each row: (name, unit, goal or None, function returning (work items, gpu seconds, cpu seconds)).
ROWS: list[tuple[str, str, float | None, Callable[[], tuple[float, float, float]]]] = []


def row(name: str, unit: str, goal: float | None = None):
    def register(fn):
        ROWS.append((name, unit, goal, fn))
        return fn

    return register


# ---- philox ---------------------------------------------------------------------------------------
@row("philox4x32, 2^24 blocks", "blocks/s")
def philox():
    n = 1 << 24
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2**32, (n, 4), dtype=np.uint32)
    k = rng.integers(0, 2**32, (n, 2), dtype=np.uint32)
    np.testing.assert_array_equal(dc.random.philox4x32(c[:4096], k[:4096], device="cuda"),
                                  dc.random.philox4x32(c[:4096], k[:4096], device="cpu"))
    return n, best_time(lambda: dc.random.philox4x32(c, k, device="cuda")), best_time(
        lambda: dc.random.philox4x32(c, k, device="cpu"))


# ---- product --------------------------------------------------------------------------------------
def _product(n, batch, kind, dtype, scale):
    net = dc.product_network(n, kind=kind, dtype=dtype, scale=scale)
    x = (np.random.default_rng(1).uniform(0.5, 1.0, (batch, n))).astype(dtype)
    small = x[:1000]
    np.testing.assert_allclose(net(small, device="cuda"), net(small, device="cpu"), rtol=1e-2 if dtype == "float32" else 1e-6)
    out = np.empty(batch, dtype=dtype)
    return batch, best_time(lambda: net(x, out=out, device="cuda")), best_time(lambda: net(x, out=out, device="cpu"))


@row("product deep n=16 float32, B=10^7, lambda=0.1", "samples/s", 5e9)
def product_deep_f32():
    return _product(16, 10_000_000, "deep", "float32", 0.1)


@row("product deep n=16 float64, B=10^7, lambda=0.1", "samples/s")
def product_deep_f64():
    return _product(16, 10_000_000, "deep", "float64", 0.1)


@row("product shallow n=12 float32, B=10^5, lambda=0.5", "samples/s")
def product_shallow_f32():
    return _product(12, 100_000, "shallow", "float32", 0.5)


# ---- circuit --------------------------------------------------------------------------------------
@row("circuit sha256 evaluate_packed, 2^22 vectors", "gate-evals/s", 5e12)
def circuit_sha256():
    sha = dc.circuits.bristol("sha256")
    n_words = 1 << 16
    words = np.random.default_rng(2).integers(0, 2**64, (sha.n_inputs, n_words), dtype=np.uint64)
    np.testing.assert_array_equal(sha.evaluate_packed(words[:, :512], device="cuda"),
                                  sha.evaluate_packed(words[:, :512], device="cpu"))
    out = np.empty((sha.n_outputs, n_words), np.uint64)
    gpu = best_time(lambda: sha.evaluate_packed(words, out=out, device="cuda"))
    cpu = best_time(lambda: sha.evaluate_packed(words, out=out, device="cpu"))
    return sha.n_gates * 64.0 * n_words, gpu, cpu


# ---- markov ---------------------------------------------------------------------------------------
def _markov(S, n, T):
    P = np.random.default_rng(S).random((S, S))
    chain = dc.MarkovChain(P / P.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(chain.sample(10_000, T, seed=1, device="cuda"), chain.sample(10_000, T, seed=1))
    out = np.empty(n, np.uint8)
    return n * T, best_time(lambda: chain.sample(n, T, seed=1, out=out, device="cuda")), best_time(
        lambda: chain.sample(n, T, seed=1, out=out, device="cpu"))


@row("markov S=16 final, N=10^7, T=100", "transitions/s")
def markov_s16():
    return _markov(16, 10_000_000, 100)


@row("markov S=256 final, N=10^6, T=1000", "transitions/s")
def markov_s256():
    return _markov(256, 1_000_000, 1000)


# ---- ising ----------------------------------------------------------------------------------------
def _ising(L, replicas, sweeps, **kw):
    model = dc.IsingModel(L)
    gpu = model.sampler(2.27, replicas=replicas, seed=1, device="cuda", **kw)
    cpu_ = model.sampler(2.27, replicas=replicas, seed=1, device="cpu", **kw)
    np.testing.assert_array_equal(gpu.sweep(1).spins, cpu_.sweep(1).spins)
    return replicas * L * L * sweeps, best_time(lambda: gpu.sweep(sweeps)), best_time(lambda: cpu_.sweep(sweeps))


@row("ising multi-spin L=1024, 64 replicas, 20 sweeps", "flips/s", 1e11)
def ising_multispin():
    return _ising(1024, 64, 20)


@row("ising int8 heat-bath L=1024, 8 replicas, 10 sweeps", "flips/s")
def ising_heatbath():
    return _ising(1024, 8, 10, algorithm="heatbath")


def main(path: str) -> None:
    if not cuda.is_available():
        sys.exit(f"gpu_check: no usable CUDA device ({cuda._status()[2]})")
    lines = [
        f"GPU check: {platform.node()}, CPU {os.cpu_count()} cores ({dc.get_num_threads()} threads, "
        f"{dc.simd_target()}), CUDA devices: {cuda.device_count()}"
        + (" (EMULATED on the CPU: not a GPU measurement)" if cuda.Device("cuda").module.emulated else ""),
        "",
        "| hot path | GPU | CPU | GPU / CPU | goal (GPU) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, unit, goal, fn in ROWS:
        try:
            work, gpu, cpu = fn()
        except Exception as exc:  # one failing row must not hide the others
            lines.append(f"| {name} | failed: {type(exc).__name__}: {exc} | | | |")
            continue
        g, c = work / gpu, work / cpu
        met = "" if goal is None else f"{goal:.3g} {'met' if g >= goal else 'NOT met'}"
        lines.append(f"| {name} | {g:.3g} {unit} | {c:.3g} {unit} | {g / c:.1f}x | {met} |")
        print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    with open(path, "w") as f:
        f.write(table)
    print(f"table written to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu_check.md")
