"""Circuit benchmarks: the serial-depth-versus-parallel-width suite (DESIGN.md §1.3, issue 3).

Run: python -m pytest benchmarks/bench_circuit.py --benchmark-enable -p no:cacheprovider
     (add --benchmark-json=out.json for the extra_info: gate-evaluations/s and Brent bounds).

Groups
- circuit-eval-<name>: gate-evaluations/s on sha256 and aes_128 at 65,536 vectors, native (batch on 1
  and 2 threads, levelized) against a levelized numpy bit-sliced evaluator written below, py-aiger
  batched (Python ints as bit vectors, aes_128 only: loading sha256 takes py-aiger ~16 s) and bfcl
  (one vector per call, as it is meant to be used). Each asserts the outputs against native.
- circuit-sha256-compressions: SHA-256 compressions/s of the circuit vs hashlib (one compression per
  55-byte message).
- circuit-analysis: building sha256's core (levels, heights, plan) and its widths and schedule.
- circuit-depth-width-*: pairs computing the same function in different shapes (chain vs parallel
  copies of sha256, ripple vs Kogge-Stone, parity chain vs tree) over threads 1 and 2, schedules and
  batch sizes; extra_info holds W, D, and the list-scheduling makespan with its Brent bounds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import circuits as C
from deepcheap_native.circuit import pack_bits, unpack_bits
from deepcheap_native.testing.peers import NumpyLevelized

BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"
SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
VECTORS = 4096 if SMALL else 65_536
N_WORDS = VECTORS // 64
ROUNDS = dict(rounds=3, iterations=1, warmup_rounds=1)


def load(name: str) -> dc.Circuit:
    return dc.Circuit.from_bristol(BRISTOL / f"{name}.txt")


# numpy peer: NumpyLevelized (deepcheap_native.testing.peers), shared with the report.


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", params=["sha256", "aes_128"])
def workload(request):
    c = load(request.param)
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**64, size=(c.n_inputs, N_WORDS), dtype=np.uint64)
    out = np.empty((c.n_outputs, N_WORDS), dtype=np.uint64)
    expected = c.evaluate_packed(words, threads=1).copy()
    return request.param, c, words, out, expected


def record(benchmark, c: dc.Circuit, vectors: int, **info):
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    benchmark.extra_info["gates"] = c.n_gates
    benchmark.extra_info["vectors"] = vectors
    benchmark.extra_info["gate_evals_per_s"] = c.n_gates * vectors / median


# --------------------------------------------------------------------------- throughput
@pytest.mark.parametrize("threads, schedule", [(1, "batch"), (2, "batch"), (2, "levelized")])
def test_native(benchmark, workload, threads, schedule):
    name, c, words, out, expected = workload
    benchmark.group = f"circuit-eval-{name}"
    benchmark.name = f"native-{schedule}-{threads}t"
    benchmark.pedantic(c.evaluate_packed, args=(words,), kwargs=dict(out=out, threads=threads, schedule=schedule), **ROUNDS)
    np.testing.assert_array_equal(out, expected)
    record(benchmark, c, VECTORS, threads=threads, schedule=schedule)


def test_numpy_levelized(benchmark, workload):
    name, c, words, out, expected = workload
    benchmark.group = f"circuit-eval-{name}"
    benchmark.name = "numpy-levelized-1t"
    peer = NumpyLevelized(c)
    result = benchmark.pedantic(peer, args=(words,), rounds=2, iterations=1, warmup_rounds=0)
    np.testing.assert_array_equal(result, expected)
    record(benchmark, c, VECTORS, threads=1)


def test_py_aiger_batched(benchmark, workload, tmp_path):
    aiger = pytest.importorskip("aiger")
    name, c, words, out, expected = workload
    if name != "aes_128":
        pytest.skip("py-aiger needs ~16 s to load sha256's 354k AND nodes; measured on aes_128 only")
    benchmark.group = f"circuit-eval-{name}"
    benchmark.name = "py-aiger-batched-1t"
    c.to_aiger(tmp_path / "c.aag")
    aig = aiger.load(str(tmp_path / "c.aag"))
    # Python ints as 65,536-bit vectors: py-aiger's `lift` evaluates with & and ~ on them.
    ints = [int.from_bytes(words[i].astype("<u8").tobytes(), "little") for i in range(c.n_inputs)]
    names, k = {}, 0
    for v, width in enumerate(c.input_widths):
        for bit in range(width):
            names[f"in{v}[{bit}]"] = ints[k]
            k += 1
    outs, _ = benchmark.pedantic(aig, args=(names,), kwargs=dict(lift=lambda x: x), rounds=2, iterations=1)
    mask = (1 << VECTORS) - 1
    j = 0
    for v, width in enumerate(c.output_widths):
        for bit in range(width):
            got = np.frombuffer((outs[f"out{v}[{bit}]"] & mask).to_bytes(8 * N_WORDS, "little"), "<u8")
            np.testing.assert_array_equal(got, expected[j])
            j += 1
    record(benchmark, c, VECTORS, threads=1)


def test_bfcl_one_vector(benchmark, workload):
    bfcl = pytest.importorskip("bfcl")
    name, c, words, out, expected = workload
    benchmark.group = f"circuit-eval-{name}"
    benchmark.name = "bfcl-1-vector-1t"
    circuit = bfcl.circuit((BRISTOL / f"{name}.txt").read_text())
    bits = unpack_bits(words[:, :1], 1)[:, 0].tolist()
    values, k = [], 0
    for width in c.input_widths:
        values.append(bits[k : k + width])
        k += width
    result = benchmark.pedantic(circuit.evaluate, args=(values,), rounds=2, iterations=1)
    got = [b for value in result for b in value]
    assert got == unpack_bits(expected[:, :1], 1)[:, 0].tolist()
    record(benchmark, c, 1, threads=1)


# --------------------------------------------------------------------------- SHA-256 vs hashlib
def test_sha256_compressions_native(benchmark):
    c = load("sha256")
    rng = np.random.default_rng(1)
    messages = [rng.bytes(55) for _ in range(VECTORS)]  # one block each after padding
    blocks = [m + b"\x80" + (440).to_bytes(8, "big") for m in messages]
    iv = int("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19", 16)
    bits = np.unpackbits(np.frombuffer(b"".join(blocks), np.uint8).reshape(VECTORS, 64)[:, ::-1], axis=1, bitorder="little")
    state = np.array([(iv >> k) & 1 for k in range(256)], dtype=np.uint8)
    words = pack_bits(np.concatenate([bits.T, np.repeat(state[:, None], VECTORS, axis=1)]))
    out = np.empty((256, N_WORDS), dtype=np.uint64)
    benchmark.group = "circuit-sha256-compressions"
    benchmark.name = "native-circuit-2t"
    benchmark.pedantic(c.evaluate_packed, args=(words,), kwargs=dict(out=out, threads=2), **ROUNDS)
    digest_bits = unpack_bits(out, VECTORS).T  # (B, 256), LSB first = last byte's LSB
    digests = np.packbits(digest_bits, axis=1, bitorder="little")[:, ::-1]
    for i in (0, 1, VECTORS - 1):
        assert digests[i].tobytes() == hashlib.sha256(messages[i]).digest()
    benchmark.extra_info["compressions_per_s"] = VECTORS / benchmark.stats.stats.median


def test_sha256_compressions_hashlib(benchmark):
    rng = np.random.default_rng(1)
    messages = [rng.bytes(55) for _ in range(VECTORS)]
    benchmark.group = "circuit-sha256-compressions"
    benchmark.name = "hashlib-1t"
    digests = benchmark.pedantic(lambda: [hashlib.sha256(m).digest() for m in messages], **ROUNDS)
    assert len(digests) == VECTORS
    benchmark.extra_info["compressions_per_s"] = VECTORS / benchmark.stats.stats.median


# --------------------------------------------------------------------------- analysis
def test_analysis_sha256(benchmark):
    c = load("sha256")

    def analyse():
        fresh = dc.Circuit(c.ops, c.in0, c.in1, c.outputs, c.input_widths, c.output_widths)
        return fresh.depth, fresh.level_widths(), fresh.level_widths(alap=True), fresh.schedule(2)

    benchmark.group = "circuit-analysis"
    benchmark.name = "sha256-levels-widths-schedule"
    depth, widths, alap, sched = benchmark.pedantic(analyse, **ROUNDS)
    assert depth == 5332 and widths.max() == 900 and sched.lower_bound <= sched.makespan <= sched.upper_bound


# --------------------------------------------------------------------------- depth versus width
def _pairs():
    sha = load("sha256")
    return {
        "sha256x4": (C.chain(sha, 4), C.parallel(sha, 4)),
        "adder256": (C.ripple_carry_adder(256), C.kogge_stone_adder(256)),
        "parity4096": (C.parity_chain(4096), C.parity_tree(4096)),
    }


PAIRS = _pairs()


@pytest.mark.parametrize("vectors", [512] if SMALL else [512, 8192, 65_536])
@pytest.mark.parametrize("threads, schedule", [(1, "batch"), (2, "batch"), (2, "levelized")])
@pytest.mark.parametrize("shape", ["deep", "wide"])
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_depth_versus_width(benchmark, pair, shape, threads, schedule, vectors):
    c = PAIRS[pair][0 if shape == "deep" else 1]
    if schedule == "levelized" and c.depth * (vectors // 512) > 200_000:
        pytest.skip("levelized pays one barrier per level and block: too slow to time here")
    rng = np.random.default_rng(2)
    words = rng.integers(0, 2**64, size=(c.n_inputs, vectors // 64), dtype=np.uint64)
    out = np.empty((c.n_outputs, vectors // 64), dtype=np.uint64)
    expected = c.evaluate_packed(words, threads=1).copy()
    benchmark.group = f"circuit-depth-width-{pair}-{vectors}"
    benchmark.name = f"{shape}-{schedule}-{threads}t"
    benchmark.pedantic(c.evaluate_packed, args=(words,), kwargs=dict(out=out, threads=threads, schedule=schedule), **ROUNDS)
    np.testing.assert_array_equal(out, expected)
    s1, s2 = c.schedule(1), c.schedule(2)
    record(benchmark, c, vectors, threads=threads, schedule=schedule, work=c.work, depth=c.depth,
           makespan_p2=s2.makespan, lower_bound_p2=s2.lower_bound, upper_bound_p2=s2.upper_bound,
           brent_speedup_p2=s1.makespan / s2.makespan)
