"""A measured roofline (issue 26 §2): each hot path's throughput beside the limit this machine sets it,
both measured in the same run, for every SIMD target the CPU supports, on 1 thread and on all.

`deepcheap bench` writes it as the "limits" table of bench.md (limits.json beside it), the report's
performance section shows it, and ``python benchmarks/roofline.py`` prints it alone.

The machine's limits come from native probes compiled per SIMD target like every kernel
(csrc/cpu/kernels/roofline.cpp): 64-bit integer lane-ops/s and float64 flops/s (8 vector registers of
independent chains), bytes/s read from a buffer sized for L1 (16 KiB), L2 (256 KiB) and DRAM
(256 MiB), and the package's random generator alone (Philox4x32-10 words/s from the SIMD Philox the
kernels call, csrc/cpu/philox_simd.hpp). Each hot path has a model of its work per item, read from its
kernel:

- Markov sampling (final states, S = 16): one 32-bit Philox word per transition (one Philox4x32-10
  call per four transitions, csrc/cpu/kernels/markov.cpp) and one 4-byte alias-table gather; the limit
  is the generator's word rate.
- Circuit evaluation (sha256, bit-sliced): per gate and 64-vector word, two 8-byte loads and one
  8-byte store (csrc/cpu/kernels/circuit.cpp); the limit is the L2 read rate over 16 bytes read per
  gate-word (the wire table of a block of words lives in L2), times 64 evaluations per word.
- Ising multi-spin Metropolis (64 replicas per word): per site-word the bit-serial test draws 64-bit
  random words until every lane is decided; with m lanes undecided after the ΔE ≤ 0 ones accept, the
  expected number of rounds is Σ_r (1 − (1 − 2^−r)^m), at most 7.3 for m = 64. The limit is the
  generator's rate over that worst case (two 32-bit words per 64-bit round), so it is a lower bound on
  the true limit and the fraction an upper bound. The sweeps use Philox4x32-7 (``rng="philox7"``)
  while the probe times Philox4x32-10: the generator's rate is scaled by 10/7 (its cost is its rounds).
- Product networks (deep, n = 16, float32, softplus at λ = 0.1, inputs of magnitude 0.5–1): every
  block of 64 samples takes the series path of csrc/cpu/product_blocks.hpp (all |λ(u ± v)| ≤ 0.5),
  where a gate is 36 floating-point lane-operations, counted from deepcheap/product/network.hpp and
  activations.hpp with a fused multiply-add as one: 8 for the block's reach test (p and q, two
  absolute values, two maxima), then p and q again (4), the two even series (each 2 multiplies and 5
  FMAs: 14), the halves (2) and the combination (7 adds, 1 multiply: 8). A sample is 15 gates, 540
  lane-operations. The limit is the FP probe's rate in those units: its float64 flops/s count an FMA as
  2 on a float64 lane, and a float32 vector has twice the lanes, so float32 lane-operations/s equal
  the probe's flops/s. The count leaves out the block's transposed load with its finiteness check and
  the store, so the limit is high and the fraction a lower bound. The row is for the FMA targets
  (avx2, avx512) only: the scalar target has no FMA, so its multiply-adds are two operations and its
  probe's flops/s convert differently. (A first model, 34 float64 flops per softplus, gave 150–500 %:
  it counted the exp/log1p path, which these blocks never take.)

What the figures do not show: the probes measure throughput of one resource each, so a kernel bound by
two at once sits below both; on a shared VM the clock and the neighbours vary between runs, so compare
fractions within one run, not across runs; ``quick`` sizes are small and timed once (seconds, noisy).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _core
from ..circuit.families import bristol
from ..ising.model import IsingModel
from ..markov.chain import MarkovChain
from ..product.network import AccuracyWarning, product_network

__all__ = ["CACHE_BYTES", "PRODUCT_LANE_OPS", "expected_rounds", "machine_limits", "markdown", "probe", "roofline"]

CACHE_BYTES = {"L1": 16 << 10, "L2": 256 << 10, "DRAM": 256 << 20}
# Floating-point lane-operations of one deep n = 16 sample on the series path (module docstring).
PRODUCT_GATE_LANE_OPS = 8 + 4 + 14 + 2 + 8
PRODUCT_LANE_OPS = 15 * PRODUCT_GATE_LANE_OPS


def _median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---- the machine's limits -------------------------------------------------------------------------


def probe(kind: str, threads: int, *, level: str = "L1", quick: bool = False) -> float:
    """The best of 5 runs (1 when quick) of a native probe's rate: ``"int"`` lane-ops/s, ``"fp"``
    flops/s, ``"read"`` bytes/s from a buffer the size of `level` (L1, L2 or DRAM), ``"philox"``
    words/s. The best, not the median: a limit is what the machine reaches, and on a shared VM noise
    only slows a probe down (medians of 3 of the L2 read rate varied 6.5e10-9.4e10 B/s between runs)."""
    if kind == "read":
        size = CACHE_BYTES[level]
        amount = max(1, int((2e8 if not quick else 2e7) / size))
    elif kind == "philox":
        size, amount = 0, 200 if quick else 4000
    else:
        size, amount = 0, 2_000_000 if not quick else 200_000
    rates = []
    for _ in range(1 if quick else 5):
        seconds, work, _ = _core._roofline_probe(kind, amount, size, threads)
        rates.append(work / seconds)
    return max(rates)


def machine_limits(threads: int, quick: bool = False) -> dict[str, float]:
    """The probes' rates on `threads` threads for the active SIMD target (DRAM skipped when quick)."""
    limits = {"int lane-ops/s": probe("int", threads, quick=quick), "flops/s": probe("fp", threads, quick=quick)}
    for level in CACHE_BYTES:
        if quick and level == "DRAM":
            continue
        limits[f"read {level} B/s"] = probe("read", threads, level=level, quick=quick)
    limits["philox words/s"] = probe("philox", threads, quick=quick)
    return limits


# ---- the hot paths and their models ----------------------------------------------------------------


def expected_rounds(m: int) -> float:
    """E[max of m independent geometric(1/2) rounds]: Σ_{r≥0} (1 − (1 − 2^−r)^m)."""
    return float(sum(1.0 - (1.0 - 2.0 ** -r) ** m for r in range(0, 80)))


def _hot_paths(quick: bool) -> dict[str, tuple[Callable[[int], float], Callable[[dict[str, float]], float], str, str]]:
    """name -> (items/s on k threads, limit from the machine's limits, what bounds it, the size)."""
    rng = np.random.default_rng(0)
    P = rng.random((16, 16))
    P /= P.sum(axis=1, keepdims=True)
    chain = MarkovChain(P)
    chains, steps = (20_000, 100) if quick else (100_000, 1000)
    sha = bristol("sha256")
    words = 64 if quick else 1024
    sha_in = rng.integers(0, 2**63, (sha.n_inputs, words), dtype=np.uint64)
    L, sweeps = (64, 2) if quick else (256, 20)
    sampler = IsingModel(L).sampler(2.0, replicas=64, seed=1)
    reps = 1 if quick else 5
    with warnings.catch_warnings():  # λ = 0.1 is the benchmark's size; its accuracy is not timed here
        warnings.simplefilter("ignore", AccuracyWarning)
        net = product_network(16, kind="deep", dtype="float32", scale=0.1)
    batch = 20_000 if quick else 1_000_000
    x = (rng.uniform(0.5, 1.0, (batch, 16)) * rng.choice([-1.0, 1.0], (batch, 16))).astype(np.float32)

    def markov(k: int) -> float:
        return chains * steps / _median_seconds(lambda: chain.sample(chains, steps, seed=1, threads=k), reps)

    def circuit(k: int) -> float:
        return sha.n_gates * words * 64 / _median_seconds(lambda: sha.evaluate_packed(sha_in, threads=k), reps)

    def ising(k: int) -> float:
        return L * L * 64 * sweeps / _median_seconds(lambda: sampler.sweep(sweeps, threads=k), reps)

    def product(k: int) -> float:
        return batch / _median_seconds(lambda: net(x, threads=k), reps)

    rounds = expected_rounds(64)
    return {
        "Markov transitions/s": (markov, lambda lim: lim["philox words/s"], "generator: 1 word per transition",
                                 f"S = 16, {chains:,} chains × {steps} steps"),
        "sha256 gate-evals/s": (circuit, lambda lim: lim["read L2 B/s"] / 16 * 64, "L2 reads: 16 B per gate-word",
                                f"{words} words of 64 vectors"),
        "Ising flips/s": (ising, lambda lim: lim["philox words/s"] * 10 / 7 / (2 * rounds) * 64,
                          f"generator: ≤ {rounds:.1f} 64-bit rounds per 64 flips",
                          f"L = {L}, T = 2, 64 replicas × {sweeps} sweeps"),
        "product samples/s": (product, lambda lim: lim["flops/s"] / PRODUCT_LANE_OPS,
                              f"FP lane-ops: {PRODUCT_LANE_OPS} per sample (15 series gates)",
                              f"deep n = 16, float32, λ = 0.1, B = {batch:,}"),
    }


def roofline(quick: bool = False, *, threads: list[int] | None = None,
             targets: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per SIMD target × thread count × hot path: items/s, the limit, the fraction, what bounds
    it, the size, the machine's limits, and ``scaling`` (this rate over the same path's on 1 thread,
    for thread counts above 1). Every target the CPU supports and 1 and all threads by default; the
    active SIMD target is restored afterwards."""
    rows = []
    paths = _hot_paths(quick)
    counts = sorted(set(threads)) if threads else sorted({1, os.cpu_count() or 1})
    before = _core.simd_target()
    for target in targets or _core.simd_targets():
        _core.set_simd_target(target)
        try:
            one: dict[str, float] = {}
            for k in counts:
                limits = machine_limits(k, quick)
                for name, (measure, limit_of, bound, size) in paths.items():
                    if name == "product samples/s" and target == "scalar":
                        continue  # no FMA: the model's unit does not apply (module docstring)
                    rate, limit = measure(k), limit_of(limits)
                    if k == 1:
                        one[name] = rate
                    rows.append({"target": target, "threads": k, "hot path": name, "size": size,
                                 "items/s": rate, "limit": limit, "fraction": rate / limit, "bound": bound,
                                 "scaling": rate / one[name] if k > 1 and name in one else None,
                                 "limits": limits})
        finally:
            _core.set_simd_target(before)
    return rows


def machine_line() -> str:
    return (f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
            f"{os.getloadavg()[0]:.1f}; SIMD targets {', '.join(_core.simd_targets())}")


def markdown(rows: list[dict[str, Any]]) -> str:
    """The limits as markdown: the hot paths' fractions, then the probes' values."""
    lines = [machine_line(), "",
             "| target | threads | hot path | size | measured | limit | fraction | × 1 thread | bound by |",
             "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        scaling = "" if r["scaling"] is None else f"{r['scaling']:.2f}×"
        lines.append(f"| {r['target']} | {r['threads']} | {r['hot path']} | {r['size']} | {r['items/s']:.3g} | "
                     f"{r['limit']:.3g} | {100 * r['fraction']:.0f} % | {scaling} | {r['bound']} |")
    seen = set()
    lines += ["", "| target | threads | limit | value |", "|---|---|---|---:|"]
    for r in rows:
        if (r["target"], r["threads"]) in seen:
            continue
        seen.add((r["target"], r["threads"]))
        for k, v in r["limits"].items():
            lines.append(f"| {r['target']} | {r['threads']} | {k} | {v:.3g} |")
    return "\n".join(lines) + "\n"

