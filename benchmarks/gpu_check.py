"""Timings for benchmarks/gpu_check.sh: every hot path on the GPU (device="cuda") against the CPU
(all cores, the best SIMD target) in the same process, one table in Markdown.

Two kinds of GPU row: "host arrays" rows are end to end from numpy (copies to the device, the
kernels, copies back); "device arrays" rows take dc.cuda.DeviceArray inputs and leave the result on
the GPU (the zero-copy path a torch or CuPy user gets), which is what the throughput goals are about.
The CPU column is always numpy in, numpy out, all cores. Each row checks its GPU answer against the
CPU's before timing. Rows are functions registered in ROWS.

SCALE (environment GPU_CHECK_SCALE, default 1) divides every size: tests/test_gpu_check.py runs the
whole script at a tiny scale through the CPU emulation of the drivers, so its plumbing is tested
everywhere (the emulated table is marked as not a GPU measurement).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable

import numpy as np

import deepcheap_native as dc
from deepcheap_native import cuda
from deepcheap_native.testing import timing


def timed(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """(best of ``repeats`` timed calls after one warm-up call, the last call's result)."""
    t = timing.timed(fn, repeat=repeats)
    return t.best, t.result


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best of ``repeats`` timed calls after one warm-up call."""
    return timing.timed(fn, repeat=repeats).best


SCALE = max(1, int(os.environ.get("GPU_CHECK_SCALE", "1")))


def size(n: int, minimum: int = 1) -> int:
    return max(minimum, n // SCALE)


# Each row: (name, unit, goal or None, function returning (work items, gpu seconds, cpu seconds)).
ROWS: list[tuple[str, str, float | None, Callable[[], tuple[float, float, float]]]] = []


def row(name: str, unit: str, goal: float | None = None):
    def register(fn):
        ROWS.append((name, unit, goal, fn))
        return fn

    return register


# ---- philox ---------------------------------------------------------------------------------------
def _philox(resident):
    n = size(1 << 24)
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2**32, (n, 4), dtype=np.uint32)
    k = rng.integers(0, 2**32, (n, 2), dtype=np.uint32)
    cpu, want = timed(lambda: dc.random.philox4x32(c, k, device="cpu"))  # the timed CPU run is the reference
    if resident:
        dc_, dk = cuda.to_device(c), cuda.to_device(k)
        np.testing.assert_array_equal(dc.random.philox4x32(dc_, dk).get(), want)
        gpu = best_time(lambda: dc.random.philox4x32(dc_, dk))
    else:
        np.testing.assert_array_equal(dc.random.philox4x32(c, k, device="cuda"), want)
        gpu = best_time(lambda: dc.random.philox4x32(c, k, device="cuda"))
    return n, gpu, cpu


@row("philox4x32, 2^24 blocks, host arrays", "blocks/s")
def philox_host():
    return _philox(False)


@row("philox4x32, 2^24 blocks, device arrays", "blocks/s")
def philox_resident():
    return _philox(True)


# ---- product --------------------------------------------------------------------------------------
def _product(n, batch, kind, dtype, scale, resident):
    batch = size(batch, 1000)
    net = dc.product_network(n, kind=kind, dtype=dtype, scale=scale)
    x = (np.random.default_rng(1).uniform(0.5, 1.0, (batch, n))).astype(dtype)
    small = x[:1000]
    gpu_small = net(small, device="cuda")
    np.testing.assert_allclose(gpu_small, net(small, device="cpu"), rtol=1e-2 if dtype == "float32" else 1e-6)
    out = np.empty(batch, dtype=dtype)
    cpu = best_time(lambda: net(x, out=out, device="cpu"))
    if resident:
        dx, dout = cuda.to_device(x), cuda.DeviceArray.empty(batch, dtype)
        # Each sample is its own thread's work: the first rows match the host path's bits.
        np.testing.assert_array_equal(net(dx, out=dout).get()[:1000], gpu_small)
        return batch, best_time(lambda: net(dx, out=dout)), cpu
    return batch, best_time(lambda: net(x, out=out, device="cuda")), cpu


@row("product deep n=16 float32, B=10^7, lambda=0.1, device arrays", "samples/s", 5e9)
def product_deep_f32_resident():
    return _product(16, 10_000_000, "deep", "float32", 0.1, True)


@row("product deep n=16 float32, B=10^7, lambda=0.1, host arrays", "samples/s")
def product_deep_f32():
    return _product(16, 10_000_000, "deep", "float32", 0.1, False)


@row("product deep n=16 float64, B=10^7, lambda=0.1, device arrays", "samples/s")
def product_deep_f64():
    return _product(16, 10_000_000, "deep", "float64", 0.1, True)


@row("product shallow n=12 float32, B=10^5, lambda=0.5, device arrays", "samples/s")
def product_shallow_f32():
    return _product(12, 100_000, "shallow", "float32", 0.5, True)


# ---- circuit --------------------------------------------------------------------------------------
def _sha256(resident, schedule="batch"):
    sha = dc.circuits.bristol("sha256")
    n_words = size(1 << 16, 64)
    words = np.random.default_rng(2).integers(0, 2**64, (sha.n_inputs, n_words), dtype=np.uint64)
    want = sha.evaluate_packed(words[:, :512], device="cpu")
    out = np.empty((sha.n_outputs, n_words), np.uint64)
    cpu = best_time(lambda: sha.evaluate_packed(words, out=out, device="cpu"))
    if resident:
        dw, dout = cuda.to_device(words), cuda.DeviceArray.empty(out.shape, np.uint64)
        np.testing.assert_array_equal(sha.evaluate_packed(dw, out=dout, schedule=schedule).get()[:, :512], want)
        gpu = best_time(lambda: sha.evaluate_packed(dw, out=dout, schedule=schedule))
    else:
        np.testing.assert_array_equal(sha.evaluate_packed(words[:, :512], device="cuda"), want)
        gpu = best_time(lambda: sha.evaluate_packed(words, out=out, device="cuda"))
    return sha.n_gates * 64.0 * n_words, gpu, cpu


@row("circuit sha256 evaluate_packed, 2^22 vectors, device arrays", "gate-evals/s", 5e12)
def circuit_sha256_resident():
    return _sha256(True)


@row("circuit sha256 levelized (one launch per level), 2^22 vectors, device arrays", "gate-evals/s")
def circuit_sha256_levelized():
    return _sha256(True, "levelized")


@row("circuit sha256 evaluate_packed, 2^22 vectors, host arrays", "gate-evals/s")
def circuit_sha256():
    return _sha256(False)


# ---- markov ---------------------------------------------------------------------------------------
def _markov(S, n, T, resident=False):
    n = size(n, 1000)
    P = np.random.default_rng(S).random((S, S))
    P /= P.sum(axis=1, keepdims=True)
    chain = dc.MarkovChain(P)
    out = np.empty(n, np.uint8)
    cpu = best_time(lambda: chain.sample(n, T, seed=1, out=out, device="cpu"))
    want = out.copy()  # the timed CPU run is the reference (fixed seed)
    if resident:  # P on the GPU: the states are made there and stay there
        on_gpu = dc.MarkovChain(cuda.to_device(P))
        np.testing.assert_array_equal(on_gpu.sample(n, T, seed=1).get(), want)
        return n * T, best_time(lambda: on_gpu.sample(n, T, seed=1)), cpu
    np.testing.assert_array_equal(chain.sample(n, T, seed=1, device="cuda"), want)
    return n * T, best_time(lambda: chain.sample(n, T, seed=1, out=out, device="cuda")), cpu


@row("markov S=16 final, N=10^7, T=100, device arrays", "transitions/s", 1e11)
def markov_s16_resident():
    return _markov(16, 10_000_000, 100, True)


@row("markov S=16 final, N=10^7, T=100, host arrays", "transitions/s")
def markov_s16():
    return _markov(16, 10_000_000, 100)


@row("markov S=256 final, N=10^6, T=1000, host arrays", "transitions/s")
def markov_s256():
    return _markov(256, 1_000_000, 1000)


# ---- ising ----------------------------------------------------------------------------------------
# The lattice lives on the GPU between sweeps, so these rows have no host copies in the timed part.
# Bit-identity is checked on a smaller lattice (tests/test_cuda.py checks L = 2560); the timed one is
# the size: L >= 4096 for the multi-spin goal (1,000 flips/ns).
def _ising(L, replicas, sweeps, **kw):
    L = size(L, 8) // 2 * 2
    check_L = min(L, 256)
    a = dc.IsingModel(check_L).sampler(2.27, replicas=replicas, seed=1, device="cuda", **kw)
    b = dc.IsingModel(check_L).sampler(2.27, replicas=replicas, seed=1, device="cpu", **kw)
    np.testing.assert_array_equal(a.sweep(2).spins, b.sweep(2).spins)
    model = dc.IsingModel(L)
    gpu = model.sampler(2.27, replicas=replicas, seed=1, device="cuda", **kw)
    cpu_ = model.sampler(2.27, replicas=replicas, seed=1, device="cpu", **kw)
    sweeps = size(sweeps)
    return replicas * L * L * sweeps, best_time(lambda: gpu.sweep(sweeps)), best_time(lambda: cpu_.sweep(sweeps), 1)


@row("ising multi-spin L=4096, 64 replicas, 20 sweeps", "flips/s", 1e12)
def ising_multispin():
    return _ising(4096, 64, 20)


@row("ising int8 heat-bath L=1024, 8 replicas, 10 sweeps", "flips/s")
def ising_heatbath():
    return _ising(1024, 8, 10, algorithm="heatbath")


# ---- cluster samplers -----------------------------------------------------------------------------
# Wolff runs one thread per replica (many replicas fill the GPU); Swendsen-Wang one thread per site.
def _cluster(algorithm, L, replicas, sweeps):
    L = size(L, 4) // 2 * 2
    replicas = size(replicas, 2)
    model = dc.IsingModel(L)
    gpu = model.sampler(2.269, replicas=replicas, algorithm=algorithm, seed=1, device="cuda")
    cpu_ = model.sampler(2.269, replicas=replicas, algorithm=algorithm, seed=1, device="cpu")
    np.testing.assert_array_equal(gpu.sweep(1).spins, cpu_.sweep(1).spins)
    return replicas * sweeps, best_time(lambda: gpu.sweep(sweeps), 1), best_time(lambda: cpu_.sweep(sweeps), 1)


@row("wolff L=128 at T_c, 4096 replicas, 5 sweeps", "replica-sweeps/s")
def cluster_wolff():
    return _cluster("wolff", 128, 4096, 5)


@row("swendsen-wang L=512 at T_c, 64 replicas, 5 sweeps", "replica-sweeps/s")
def cluster_sw():
    return _cluster("swendsen-wang", 512, 64, 5)


def main(path: str) -> None:
    if not cuda.is_available():
        sys.exit(f"gpu_check: no usable CUDA device ({cuda._status()[2]})")
    lines = [
        f"GPU check: {platform.node()}, CPU {os.cpu_count()} cores ({dc.get_num_threads()} threads, "
        f"{dc.simd_target()}), CUDA devices: {cuda.device_count()}"
        + (f", sizes / {SCALE}" if SCALE > 1 else "")
        + (" (EMULATED on the CPU: not a GPU measurement)" if cuda.Device("cuda").module.emulated else ""),
        "",
        "| hot path | GPU | CPU | GPU / CPU | goal (GPU) |",
        "|---|---:|---:|---:|---:|",
    ]
    failed = 0
    for name, unit, goal, fn in ROWS:
        try:
            work, gpu, cpu = fn()
        except Exception as exc:  # one failing row must not hide the others
            lines.append(f"| {name} | failed: {type(exc).__name__}: {exc} | | | |")
            print(lines[-1], flush=True)
            failed += 1
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
    if failed:
        sys.exit(f"gpu_check: {failed} row(s) failed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu_check.md")
