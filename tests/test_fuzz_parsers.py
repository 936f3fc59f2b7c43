"""Grammar-based fuzzing of the Bristol Fashion and AIGER (.aag and .aig) parsers, beside the byte-level
mutation fuzzing in test_circuit_parse.py.

Valid circuits are generated from each format's grammar and evaluated against a reference written
here (Python integers as bit vectors), so the parsers are checked for correctness, not just for not
crashing; then tokens are mutated (numbers replaced by edge values: negative, 2**31, 2**63, 10**30,
non-numbers; lines dropped, duplicated or swapped; the file cut short), and every mutant must either
parse into a circuit that evaluates or raise ParseError naming a line. Anything else (another
exception, a crash, an abort from native code) is a failure.

CI runs a time-boxed number of examples (``DEEPCHEAP_FUZZ_EXAMPLES``, default 300 per test). The long
local run is this file as a script, a plain seeded loop without hypothesis's overhead:

    python tests/test_fuzz_parsers.py --inputs 1000000 --seed 0     # prints counts; exit 1 on a finding
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

import deepcheap_native as dc

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the script mode needs only numpy
    given = None

EXAMPLES = int(os.environ.get("DEEPCHEAP_FUZZ_EXAMPLES", "300"))
VECTORS = 64  # evaluated vectors per circuit: one machine word
EDGE_NUMBERS = ["0", "1", "-1", "2", "3", "4294967295", "2147483648", "4294967296", "9223372036854775807",
                "9223372036854775808", "18446744073709551617", "1" + "0" * 30, "00", "+1", "1e3", "x", "", "-0"]


# ---------------------------------------------------------------------------------- the formats
@dataclass
class Generated:
    data: bytes
    n_inputs: int
    evaluate: object  # input bit vectors -> output bit vectors (Python ints over VECTORS bits)


def random_bristol(rng: random.Random) -> Generated:
    """A valid Bristol Fashion circuit: inputs first, each gate writes the next wire, outputs last."""
    n_in_values = rng.randint(1, 3)
    in_widths = [rng.randint(1, 5) for _ in range(n_in_values)]
    n_in = sum(in_widths)
    n_gates = rng.randint(1, 40)
    gates = []
    for g in range(n_gates):
        wire = n_in + g
        op = rng.choice(["XOR", "AND", "INV", "EQW", "EQ", "XOR", "AND"])
        if op in ("XOR", "AND"):
            gates.append(f"2 1 {rng.randrange(wire)} {rng.randrange(wire)} {wire} {op}")
        elif op == "EQ":
            gates.append(f"1 1 {rng.randint(0, 1)} {wire} EQ")
        else:
            gates.append(f"1 1 {rng.randrange(wire)} {wire} {op}")
    n_wires = n_in + n_gates
    n_out = rng.randint(1, n_gates)
    out_widths = []
    left = n_out
    while left:
        out_widths.append(rng.randint(1, left))
        left -= out_widths[-1]
    text = (f"{n_gates} {n_wires}\n{len(in_widths)} {' '.join(map(str, in_widths))}\n"
            f"{len(out_widths)} {' '.join(map(str, out_widths))}\n\n" + "\n".join(gates) + "\n")

    def evaluate(bits: list[int]) -> list[int]:
        mask = (1 << VECTORS) - 1
        v = list(bits) + [0] * n_gates
        for line in gates:
            f = line.split()
            if f[-1] == "XOR":
                v[int(f[4])] = v[int(f[2])] ^ v[int(f[3])]
            elif f[-1] == "AND":
                v[int(f[4])] = v[int(f[2])] & v[int(f[3])]
            elif f[-1] == "INV":
                v[int(f[3])] = ~v[int(f[2])] & mask
            elif f[-1] == "EQW":
                v[int(f[3])] = v[int(f[2])]
            else:  # EQ: a constant
                v[int(f[3])] = mask if f[2] == "1" else 0
        return v[n_wires - n_out:]

    return Generated(text.encode(), n_in, evaluate)


def _varint(x: int) -> bytes:
    out = bytearray()
    while x >= 0x80:
        out.append(0x80 | (x & 0x7F))
        x >>= 7
    out.append(x)
    return bytes(out)


def random_aiger(rng: random.Random, binary: bool) -> Generated:
    """A valid combinational AIGER file: I inputs, A ANDs (each reading earlier literals), O outputs."""
    n_in, n_and = rng.randint(1, 8), rng.randint(0, 30)
    M = n_in + n_and
    ands = []
    for i in range(n_and):
        lhs = 2 * (n_in + 1 + i)
        a, b = rng.randrange(lhs), rng.randrange(lhs)  # literals of constants, inputs, earlier ANDs
        if binary:
            a, b = max(a, b), min(a, b)  # .aig stores rhs0 >= rhs1
        ands.append((lhs, a, b))
    outputs = [rng.randrange(2 * M + 2) for _ in range(rng.randint(1, 6))]
    if binary:
        body = f"aig {M} {n_in} 0 {len(outputs)} {n_and}\n" + "".join(f"{o}\n" for o in outputs)
        data = body.encode() + b"".join(_varint(lhs - a) + _varint(a - b) for lhs, a, b in ands)
    else:
        order = list(ands)
        rng.shuffle(order)  # .aag allows ANDs in any order
        data = (f"aag {M} {n_in} 0 {len(outputs)} {n_and}\n" + "".join(f"{2 * (i + 1)}\n" for i in range(n_in))
                + "".join(f"{o}\n" for o in outputs) + "".join(f"{x} {y} {z}\n" for x, y, z in order)).encode()

    def evaluate(bits: list[int]) -> list[int]:
        mask = (1 << VECTORS) - 1
        var = [0] + list(bits) + [0] * n_and

        def lit(x: int) -> int:
            return var[x >> 1] ^ (mask if x & 1 else 0)

        for lhs, a, b in ands:
            var[lhs >> 1] = lit(a) & lit(b)
        return [lit(o) for o in outputs]

    return Generated(data, n_in, evaluate)


def generate(rng: random.Random, fmt: str) -> Generated:
    return random_bristol(rng) if fmt == "bristol" else random_aiger(rng, binary=(fmt == "aig"))


def parser(fmt: str):
    return dc.Circuit.from_bristol if fmt == "bristol" else dc.Circuit.from_aiger


# ---------------------------------------------------------------------------------- mutations
def mutate_tokens(data: bytes, rng: random.Random, n_edits: int) -> bytes:
    """Edits that respect the line and token structure, where parsers keep their arithmetic."""
    head, sep, tail = data.partition(b"\n")
    if data.startswith(b"aig") and rng.random() < 0.5:
        # Binary AIGER: the AND section is bytes; mutate the text part, or the bytes of the body.
        body = bytearray(tail)
        for _ in range(n_edits):
            if body and rng.random() < 0.7:
                body[rng.randrange(len(body))] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
            else:
                body += bytes([0xFF] * rng.randint(1, 10))
        return head + sep + bytes(body)
    lines = data.decode("latin-1").split("\n")
    for _ in range(n_edits):
        kind = rng.randrange(6)
        i = rng.randrange(len(lines))
        if kind <= 2:  # replace a number (or word) by an edge value
            tokens = lines[i].split(" ")
            j = rng.randrange(len(tokens))
            tokens[j] = rng.choice(EDGE_NUMBERS) if kind < 2 else str(int(rng.choice(["-", ""]) + "1")
                                                                      * rng.randrange(100))
            lines[i] = " ".join(tokens)
        elif kind == 3:
            del lines[i]
            if not lines:
                lines = [""]
        elif kind == 4:
            lines.insert(i, lines[rng.randrange(len(lines))])
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    out = "\n".join(lines).encode("latin-1")
    if rng.random() < 0.15:
        out = out[: rng.randrange(len(out) + 1)]
    return out


# ---------------------------------------------------------------------------------- the check
def evaluate_against_reference(c: dc.Circuit, g: Generated, rng: random.Random) -> None:
    bits = [rng.getrandbits(VECTORS) for _ in range(g.n_inputs)]
    assert c.n_inputs == g.n_inputs
    matrix = np.array([[(b >> j) & 1 for b in bits] for j in range(VECTORS)], dtype=bool)
    got = c.evaluate_bits(matrix)  # (VECTORS, n_outputs)
    want = g.evaluate(bits)
    assert got.shape == (VECTORS, len(want))
    for k, w in enumerate(want):
        assert int("".join("1" if x else "0" for x in got[::-1, k]), 2) == w, f"output {k}"


def parses_or_raises_parse_error(fmt: str, data: bytes) -> str:
    """'parsed' or 'rejected'; any other outcome raises (and fails the test or the run)."""
    try:
        c = parser(fmt)(data)
    except dc.ParseError as exc:
        assert str(exc), "ParseError without a message"
        return "rejected"
    except ValueError as exc:  # AIGER symbol groups that disagree with explicit widths
        if "widths" not in str(exc):
            raise AssertionError(f"ValueError that is not a ParseError: {exc}") from exc
        return "rejected"
    bits = np.zeros((3, c.n_inputs), dtype=bool)
    assert c.evaluate_bits(bits).shape == (3, c.n_outputs)
    widths = c.level_widths()  # constants sit at level 0, outside the widths
    assert widths.size == c.depth and widths.sum() == np.count_nonzero(np.asarray(c.levels) >= 1)
    return "parsed"


FORMATS = ["bristol", "aag", "aig"]

if given is not None:
    FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

    @FUZZ
    @given(st.sampled_from(FORMATS), st.integers(0, 2**32 - 1))
    def test_generated_circuits_parse_and_evaluate_like_the_reference(fmt, seed):
        rng = random.Random(seed)
        g = generate(rng, fmt)
        evaluate_against_reference(parser(fmt)(g.data), g, rng)

    @FUZZ
    @given(st.sampled_from(FORMATS), st.integers(0, 2**32 - 1), st.integers(1, 4))
    def test_mutated_circuits_parse_or_raise_parse_error(fmt, seed, n_edits):
        rng = random.Random(seed)
        parses_or_raises_parse_error(fmt, mutate_tokens(generate(rng, fmt).data, rng, n_edits))


def test_mutations_reach_both_outcomes():
    """The mutator is not a no-op and not a wrecking ball: both outcomes occur for every format."""
    for fmt in FORMATS:
        rng = random.Random(1)
        seen = {parses_or_raises_parse_error(fmt, mutate_tokens(generate(rng, fmt).data, rng, 1))
                for _ in range(200)}
        assert seen == {"parsed", "rejected"}, fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_reference_evaluator_catches_a_wrong_circuit(fmt):
    """The differential check can fail: a circuit with one output inverted disagrees."""
    rng = random.Random(3)
    g = generate(rng, fmt)
    want = g.evaluate([0] * g.n_inputs)
    flipped = Generated(g.data, g.n_inputs, lambda bits: [w ^ 1 for w in g.evaluate(bits)])
    with pytest.raises(AssertionError, match="output 0"):
        evaluate_against_reference(parser(fmt)(g.data), flipped, rng)
    assert want == g.evaluate([0] * g.n_inputs)


# ---------------------------------------------------------------------------------- long local run
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Long fuzz run of the circuit parsers (seeded, reproducible).")
    ap.add_argument("--inputs", type=int, default=100_000, help="number of inputs (default 1e5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hang-seconds", type=float, default=2.0,
                    help="an input that takes more CPU time than this is a hang (CPU time, not wall time: on "
                         "a shared machine a descheduled process is not hung)")
    args = ap.parse_args(argv)
    counts = {"generated-ok": 0, "parsed": 0, "rejected": 0, "failures": 0, "hangs": 0}
    slowest = 0.0
    start = time.perf_counter()
    for i in range(args.inputs):
        rng = random.Random(args.seed * 2**40 + i)
        fmt = FORMATS[i % 3]
        g = generate(rng, fmt)
        t0 = time.process_time()
        try:
            if i % 8 == 0:  # one in eight: a valid circuit checked against the reference
                evaluate_against_reference(parser(fmt)(g.data), g, rng)
                counts["generated-ok"] += 1
            else:
                counts[parses_or_raises_parse_error(fmt, mutate_tokens(g.data, rng, rng.randint(1, 4)))] += 1
        except Exception as exc:  # a finding: print how to reproduce it
            counts["failures"] += 1
            print(f"FAILURE input {i} ({fmt}, seed {args.seed}): {type(exc).__name__}: {exc}", file=sys.stderr)
        dt = time.process_time() - t0
        slowest = max(slowest, dt)
        if dt > args.hang_seconds:
            counts["hangs"] += 1
            print(f"HANG input {i} ({fmt}): {dt:.1f} s of CPU", file=sys.stderr)
        if (i + 1) % 25_000 == 0:
            print(f"{i + 1} inputs, {time.perf_counter() - start:.0f} s: {counts}", flush=True)
    print(f"done: {args.inputs} inputs in {time.perf_counter() - start:.0f} s, slowest {slowest * 1e3:.1f} ms CPU: "
          f"{counts}")
    return 1 if counts["failures"] or counts["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
