"""A measured roofline (issue 26 §2): each hot path's throughput beside the limit this machine sets it,
both measured in the same run, for every SIMD target the CPU supports, on 1 thread and on all.

    python benchmarks/roofline.py [--quick] [--json out.json]     # the table
    python -m pytest benchmarks/roofline.py                         # answers only, at a small size

The machine's limits come from native probes compiled per SIMD target like every kernel
(csrc/cpu/kernels/roofline.cpp): 64-bit integer lane-ops/s and float64 flops/s (8 vector registers of
independent chains), bytes/s read from a buffer sized for L1 (16 KiB), L2 (256 KiB) and DRAM
(256 MiB), and the package's random generator alone (Philox4x32-10 words/s from the
SIMD Philox the kernels call, csrc/cpu/philox_simd.hpp). Each hot path has a model of its work per item, read from its kernel:

- Markov sampling (final states, S = 16): one 32-bit Philox word per transition (one Philox4x32-10
  call per four transitions, csrc/cpu/kernels/markov.cpp) and one 4-byte alias-table gather; the limit
  is the generator's word rate.
- Circuit evaluation (sha256, bit-sliced): per gate and 64-vector word, two 8-byte loads and one
  8-byte store (csrc/cpu/kernels/circuit.cpp); the limit is the L2 read rate over 16 bytes read per
  gate-word (the wire table of a block of words lives in L2), times 64 evaluations per word.
- Ising multi-spin Metropolis (L = 256, 64 replicas per word): per site-word the bit-serial test draws
  64-bit random words until every lane is decided; with m lanes undecided after the ΔE ≤ 0 ones accept,
  the expected number of rounds is Σ_r (1 − (1 − 2^−r)^m), at most 7.3 for m = 64. The limit here is
  the generator's rate over that worst case (two 32-bit Philox words per 64-bit round), so it is a
  lower bound on the true limit and the fraction an upper bound.
  The sweeps use Philox4x32-7 (``rng="philox7"``) while the probe times Philox4x32-10: the generator's
  rate is scaled by 10/7 (its cost is its rounds).
- Product networks are not in the table: a first model (34 float64 flops per softplus) gave fractions
  of 150–500 %, because the float32 kernel runs twice the lanes and most gate neurons take a short
  even polynomial; an honest count needs the instruction mix of the fused kernel (not done).

What the figures do not show: the probes measure throughput of one resource each, so a kernel bound by
two at once sits below both; the machine is a shared VM (its clock and neighbours vary between runs), so
compare fractions within one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import _core

SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"
BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"
CACHE_BYTES = {"L1": 16 << 10, "L2": 256 << 10, "DRAM": 256 << 20}


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
    """Median over repeats of the probe's rate (lane-ops/s, flops/s or bytes/s)."""
    if kind == "read":
        size = CACHE_BYTES[level]
        amount = max(1, int((2e8 if not quick else 2e7) / size))
    else:
        size, amount = 0, 2_000_000 if not quick else 200_000
    rates = []
    for _ in range(3 if not quick else 1):
        seconds, work, _ = _core._roofline_probe(kind, amount, size, threads)
        rates.append(work / seconds)
    return statistics.median(rates)


def generator_words_per_second(threads: int, quick: bool = False) -> float:
    """32-bit Philox4x32-10 words per second from the SIMD generator the Markov and Ising kernels call
    (csrc/cpu/philox_simd.hpp), into L1-resident buffers."""
    rates = []
    for _ in range(1 if quick else 3):
        seconds, work, _ = _core._roofline_probe("philox", 200 if quick else 4000, 0, threads)
        rates.append(work / seconds)
    return statistics.median(rates)


def machine_limits(threads: int, quick: bool = False) -> dict[str, float]:
    limits = {"int lane-ops/s": probe("int", threads, quick=quick), "flops/s": probe("fp", threads, quick=quick)}
    for level in CACHE_BYTES:
        if quick and level == "DRAM":
            continue
        limits[f"read {level} B/s"] = probe("read", threads, level=level, quick=quick)
    limits["philox words/s"] = generator_words_per_second(threads, quick)
    return limits


# ---- the hot paths and their models ----------------------------------------------------------------


def expected_rounds(m: int) -> float:
    """E[max of m independent geometric(1/2) rounds]: Σ_{r≥0} (1 − (1 − 2^−r)^m)."""
    return float(sum(1.0 - (1.0 - 2.0 ** -r) ** m for r in range(0, 80)))


def hot_paths(quick: bool) -> dict[str, tuple[Callable[[int], float], Callable[[dict[str, float]], float], str]]:
    """name -> (items/s on k threads, limit from the machine's limits, what bounds it)."""
    rng = np.random.default_rng(0)
    P = rng.random((16, 16))
    P /= P.sum(axis=1, keepdims=True)
    chain = dc.MarkovChain(P)
    chains, steps = (20_000, 100) if quick else (100_000, 1000)
    sha = dc.Circuit.from_bristol(BRISTOL / "sha256.txt")
    words = 64 if quick else 1024
    sha_in = rng.integers(0, 2**63, (sha.n_inputs, words), dtype=np.uint64)
    L, sweeps = (64, 2) if quick else (256, 20)
    sampler = dc.IsingModel(L).sampler(2.0, replicas=64, seed=1)
    reps = 1 if quick else 5

    def markov(k: int) -> float:
        return chains * steps / _median_seconds(lambda: chain.sample(chains, steps, seed=1, threads=k), reps)

    def circuit(k: int) -> float:
        return sha.n_gates * words * 64 / _median_seconds(lambda: sha.evaluate_packed(sha_in, threads=k), reps)

    def ising(k: int) -> float:
        return L * L * 64 * sweeps / _median_seconds(lambda: sampler.sweep(sweeps, threads=k), reps)

    rounds = expected_rounds(64)
    return {
        "Markov transitions/s": (markov, lambda lim: lim["philox words/s"], "generator: 1 word per transition"),
        "sha256 gate-evals/s": (circuit, lambda lim: lim["read L2 B/s"] / 16 * 64, "L2 reads: 16 B per gate-word"),
        "Ising flips/s": (ising, lambda lim: lim["philox words/s"] * 10 / 7 / (2 * rounds) * 64,
                          f"generator: ≤ {rounds:.1f} 64-bit rounds per 64 flips"),
    }


def roofline(quick: bool = False) -> list[dict[str, object]]:
    rows = []
    paths = hot_paths(quick)
    all_threads = os.cpu_count() or 1
    for target in dc.simd_targets():
        dc.set_simd_target(target)
        try:
            for threads in sorted({1, all_threads}):
                limits = machine_limits(threads, quick)
                for name, (measure, limit_of, bound) in paths.items():
                    rate, limit = measure(threads), limit_of(limits)
                    rows.append({"target": target, "threads": threads, "hot path": name, "items/s": rate,
                                 "limit": limit, "fraction": rate / limit, "bound": bound, "limits": limits})
        finally:
            dc.set_simd_target(dc.simd_targets()[-1])
    return rows


def _table(rows: list[dict[str, object]]) -> str:
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
             f"{os.getloadavg()[0]:.1f}; targets {', '.join(dc.simd_targets())}",
             "| target | threads | hot path | measured | limit | fraction | bound by |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['threads']} | {r['hot path']} | {r['items/s']:.3g} | {r['limit']:.3g} | "
                     f"{100 * r['fraction']:.0f} % | {r['bound']} |")
    seen = set()
    lines += ["", "| target | threads | limit | value |", "|---|---|---|---|"]
    for r in rows:
        if (r["target"], r["threads"]) in seen:
            continue
        seen.add((r["target"], r["threads"]))
        for k, v in r["limits"].items():
            lines.append(f"| {r['target']} | {r['threads']} | {k} | {v:.3g} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (seconds, noisy)")
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args()
    rows = roofline(args.quick)
    print(_table(rows))
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
    rows = roofline(quick=True)
    assert {r["hot path"] for r in rows} == {"Markov transitions/s", "sha256 gate-evals/s", "Ising flips/s"}
    for r in rows:
        assert r["items/s"] > 0 and r["limit"] > 0 and math.isfinite(r["fraction"])


if __name__ == "__main__":
    main()
