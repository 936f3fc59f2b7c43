"""Parser errors name the line (ParseError, a ValueError), and fuzzing both parsers finds no crash
and no hang: every input either parses into a valid circuit or raises ParseError."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepcheap_native as dc
from conftest import BRISTOL_DATA, DATA

HALF_ADDER = "2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND\n"  # outputs wires 4 (sum), 5 (carry)


def test_parse_error_is_a_value_error_exported_twice():
    assert issubclass(dc.ParseError, ValueError)
    assert dc.circuits.ParseError is dc.ParseError
    c = dc.Circuit.from_bristol(text=HALF_ADDER)
    assert [c.evaluate(a, b) for a in (0, 1) for b in (0, 1)] == [0, 1, 1, 2]


BRISTOL_ERRORS = [
    # (text, line, message fragment)
    ("", 1, "empty file"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n", 5, "file ends after 1 gates"),                 # truncated
    ("3 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND\n", 6, "file ends after 2 gates"),  # header count
    ("1 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND\n", 6, "more gate lines"),
    ("2 6\n3 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND\n", 2, "3 input values but lists 2"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 9 5 AND\n", 6, "out of range"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 5 4 XOR\n2 1 0 1 5 AND\n", 5, "read before any gate writes it"),  # a cycle
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 MUX\n", 6, "unknown op 'MUX'"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 4 AND\n", 6, "written twice"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 1 XOR\n2 1 0 1 5 AND\n", 5, "input wire"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n1 1 0 5 AND\n", 6, "AND takes 2 inputs"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND 7\n", 6, "fields"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n1 1 2 5 EQ\n", 6, "constant 0 or 1"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 x 4 XOR\n2 1 0 1 5 AND\n", 5, "'x'"),
    ("2 6\n2 1 1\n1 2\n\n2 1 0 1 3 XOR\n2 1 0 1 2 AND\n", 6, "never written"),
    ("2 99999999\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n", 1, "too short"),
    ("99999999999 6\n2 1 1\n1 2\n", 1, "too large"),
]


@pytest.mark.parametrize("text, line, fragment", BRISTOL_ERRORS)
def test_bristol_errors_name_the_line(text, line, fragment):
    with pytest.raises(dc.ParseError, match=re.escape(fragment)) as info:
        dc.Circuit.from_bristol(text.encode())
    assert info.value.line == line
    assert f"line {line}:" in str(info.value)


def test_empty_string_is_empty_text_not_a_path():
    # "" once fell through to Path("").read_bytes(), i.e. the current directory.
    with pytest.raises(dc.ParseError, match="empty file"):
        dc.Circuit.from_bristol(text="")


AAG_HALF_ADDER = "aag 5 2 0 2 3\n2\n4\n6\n10\n6 2 4\n8 3 5\n10 7 9\ni0 a[0]\ni1 b[0]\no0 s[0]\no1 c[0]\n"


def test_aag_any_order_and_symbols():
    c = dc.Circuit.from_aiger(AAG_HALF_ADDER.encode())
    # o0 is literal 6 = a & b; o1 is literal 10 = ~(a & b) & ~(~a & ~b) = a ^ b
    assert c.input_widths == (1, 1) and c.output_widths == (1, 1)
    for a in (0, 1):
        for b in (0, 1):
            assert c.evaluate(a, b) == (a & b, a ^ b)
    reordered = "aag 5 2 0 2 3\n2\n4\n6\n10\n10 7 9\n8 3 5\n6 2 4\n"  # ANDs out of order are fine in .aag
    d = dc.Circuit.from_aiger(reordered.encode())
    assert d.input_widths == (2,) and d.output_widths == (2,)  # no symbols: one value each
    bits = np.array([[a, b] for a in (0, 1) for b in (0, 1)], dtype=bool)
    np.testing.assert_array_equal(d.evaluate_bits(bits), c.evaluate_bits(bits))


AIGER_ERRORS = [
    ("", 1, "empty file"),
    ("aag 3 1 1 1 1\n2\n4 6\n6\n6 2 4\n", 1, "latches"),
    ("aig 3 1 1 1 1\n", 1, "latches"),
    ("aag 3 2 0 1 1 1\n2\n4\n6\n6 2 4\n", 1, "bad-state"),
    ("aax 3 2 0 1 1\n", 1, "'aag'"),
    ("aag 3 2 0 1 1\n2\n4\n6\n", 5, "file ends after 0 of 1 AND"),
    ("aag 3 2 0 1 1\n2\n4\n6\n6 2 9\n", 5, "out of range"),
    ("aag 3 2 0 1 1\n2\n4\n6\n6 2 5 7\n", 5, "fields"),
    ("aag 3 2 0 1 1\n3\n4\n6\n6 2 4\n", 2, "even"),
    ("aag 3 2 0 1 1\n2\n2\n6\n6 2 4\n", 3, "defined twice"),
    ("aag 4 2 0 1 2\n2\n4\n6\n6 2 8\n8 6 4\n", 5, "depends on itself"),  # a cycle
    ("aag 4 2 0 1 1\n2\n4\n8\n6 2 4\n", 4, "undefined variable"),
    ("aag 4 2 0 1 1\n2\n4\n6\n6 2 8\n", 5, "which no input or AND defines"),
    ("aig 4 2 0 1 1\n6\n", 1, "M = I + L + A"),
    ("aag 99999999 2 0 1 1\n2\n4\n6\n6 2 4\n", 1, "do not fit"),
]


@pytest.mark.parametrize("text, line, fragment", AIGER_ERRORS)
def test_aiger_errors_name_the_line(text, line, fragment):
    with pytest.raises(dc.ParseError, match=re.escape(fragment)) as info:
        dc.Circuit.from_aiger(text.encode())
    assert info.value.line == line


def test_binary_aiger_errors_give_byte_offsets():
    with pytest.raises(dc.ParseError, match="ends inside AND gate 0") as info:
        dc.Circuit.from_aiger(b"aig 3 2 0 1 1\n6\n\x02")
    assert info.value.line is None and "byte offset" in str(info.value)
    with pytest.raises(dc.ParseError, match="rhs0 >= rhs1"):
        dc.Circuit.from_aiger(b"aig 3 2 0 1 1\n6\n\x07\x00")  # delta 7 > lhs 6


def test_loading_from_paths_and_text(tmp_path):
    path = tmp_path / "half.txt"
    path.write_text(HALF_ADDER)
    assert dc.Circuit.from_bristol(path).n_gates == dc.Circuit.from_bristol(str(path)).n_gates == 2
    with pytest.raises(FileNotFoundError):
        dc.Circuit.from_bristol(str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError, match="path"):
        dc.Circuit.from_bristol(42)


# ------------------------------------------------------------------------------ fuzzing
SEED_BRISTOL = [HALF_ADDER.encode(), (BRISTOL_DATA / "neg64.txt").read_bytes()]
SEED_AIGER = [AAG_HALF_ADDER.encode(), (DATA / "circuit" / "epfl" / "ctrl.aig").read_bytes()]
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def mutate(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for kind, pos, byte in edits:
        if not buf:
            buf.append(byte)
            continue
        pos %= len(buf)
        if kind == 0:
            buf[pos] = byte
        elif kind == 1:
            buf.insert(pos, byte)
        elif kind == 2:
            del buf[pos]
        else:
            del buf[pos:]
    return bytes(buf)


def check_parses_or_raises(parse, data: bytes) -> None:
    try:
        c = parse(data)
    except dc.ParseError:
        return
    except ValueError as exc:  # widths that the symbols cannot group are still a clean ValueError
        assert "widths" in str(exc)
        return
    # a successful parse is a valid circuit that evaluates
    bits = np.zeros((3, c.n_inputs), dtype=bool)
    assert c.evaluate_bits(bits).shape == (3, c.n_outputs)


EDITS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.sampled_from(b"0123456789 \n\x80aAEQXORNDIVMW")), max_size=6)


@FUZZ
@given(st.integers(0, 1), EDITS)
def test_fuzz_bristol_mutations(which, edits):
    check_parses_or_raises(dc.Circuit.from_bristol, mutate(SEED_BRISTOL[which], edits))


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_bristol_random_bytes(data):
    check_parses_or_raises(dc.Circuit.from_bristol, data)


@FUZZ
@given(st.integers(0, 1), EDITS)
def test_fuzz_aiger_mutations(which, edits):
    check_parses_or_raises(dc.Circuit.from_aiger, mutate(SEED_AIGER[which], edits))


@FUZZ
@given(st.sampled_from([b"aig ", b"aag "]), st.binary(max_size=200))
def test_fuzz_aiger_random_bytes(head, data):
    check_parses_or_raises(dc.Circuit.from_aiger, head + data)


def test_op_table_matches_the_kernels():
    """Python's one op table (circuit_io) against the C++ one (the X-macro list of gates.hpp that the
    enum, the kernels' switches and the parser expand): same names, same codes, same arity classes.
    A code that drifts on either side would evaluate every circuit with the wrong gates."""
    from deepcheap_native import _core
    from deepcheap_native.circuit import io as circuit_io

    table = _core.circuit_op_table()
    assert [name for name, _, _ in table] == list(circuit_io.OPS)
    assert [code for _, code, _ in table] == list(range(len(circuit_io.OPS)))
    assert {code for _, code, arity in table if arity == 1} == set(circuit_io.UNARY_OPS)
    assert {code for _, code, arity in table if arity == 0} == set(circuit_io.CONSTANT_OPS)
    # Each two-input op of the table is accepted by the Bristol parser under its name; unary and
    # constant ops are not (Bristol spells them INV/NOT/BUF/EQW and EQ).
    for name, code, arity in table:
        inputs = "2 1 0 1 2" if arity == 2 else "1 1 0 2"
        text = f"1 3\n2 1 1\n1 1\n{inputs} {name}\n".encode()
        if arity == 2:
            assert int(_core.circuit_parse_bristol(text)["ops"][0]) == code
        elif name not in ("INV", "BUF"):
            with pytest.raises(ValueError, match="unknown op"):
                _core.circuit_parse_bristol(text)
