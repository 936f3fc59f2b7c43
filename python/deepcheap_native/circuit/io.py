"""Circuit files: the bytes the native parsers read (csrc/cpu/circuit_parse.cpp), and writers for
Bristol Fashion and AIGER.

Readers follow the package convention: a path (or an open file) and the text itself are different
arguments; compressed files (gzip, xz) are decompressed transparently, recognised by their magic
bytes. Both writers rewrite gates the format lacks into gates it has, and keep every output value
and width, so that reading the file back gives a circuit computing the same function.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import stat
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .circuit import Circuit

#: Gate operations, by op code (the code is the index): the one Python copy of the native table
#: (csrc/include/deepcheap/circuit/). CONST0/CONST1 are constants (no inputs); INV and BUF read one wire.
OPS: tuple[str, ...] = ("AND", "XOR", "OR", "NAND", "NOR", "XNOR", "INV", "BUF", "CONST0", "CONST1")
OP_CODE: dict[str, int] = {name: code for code, name in enumerate(OPS)}
AND, XOR, OR, NAND, NOR, XNOR, INV, BUF, CONST0, CONST1 = range(len(OPS))
UNARY_OPS = (INV, BUF)
CONSTANT_OPS = (CONST0, CONST1)


class ParseError(ValueError):
    """A malformed Bristol Fashion or AIGER file.

    ``line`` is the 1-based line number of the offending line, or None where no line applies (the
    binary AND section of an .aig file: the message gives the byte offset instead; a corrupt
    compressed stream).
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"


#: The most bytes a reader takes by default (a file, or what a compressed one expands to): 1 GiB, or a
#: quarter of this machine's memory when that is less (the parser holds the text beside the circuit it
#: builds). ``max_bytes=`` of the readers overrides it.
DEFAULT_MAX_BYTES = 2**30


def default_max_bytes() -> int:
    """:data:`DEFAULT_MAX_BYTES`, or a quarter of :func:`~deepcheap_native.core.memory.memory_limit` if less."""
    from ..core.memory import memory_limit

    return max(1, min(DEFAULT_MAX_BYTES, memory_limit() // 4))


def check_max_bytes(max_bytes: Any) -> int:
    """``max_bytes=`` of a reader: None for the default, else an int >= 1."""
    if max_bytes is None:
        return default_max_bytes()
    from ..core.validate import check_int

    return check_int(max_bytes, "max_bytes", minimum=1)


def _too_big(what: str, max_bytes: int) -> ParseError:
    """``what`` ends in a verb: "the file 'x' holds", "the gzip stream of 9 bytes expands to"."""
    return ParseError(f"{what} more than max_bytes={max_bytes:,} bytes; pass a larger max_bytes= to read it "
                      "(a small compressed file that expands without end is a decompression bomb)")


def decompress(data: bytes, max_bytes: int | None = None) -> bytes:
    """``data`` itself, or its decompressed content when it is a gzip or xz stream (several concatenated
    streams too), decompressed in a stream that stops past ``max_bytes`` (default
    :func:`default_max_bytes`): a ParseError then, before the rest is expanded."""
    limit = check_max_bytes(max_bytes)
    if data.startswith(_GZIP_MAGIC):
        kind, opener = "gzip", gzip.open
    elif data.startswith(_XZ_MAGIC):
        kind, opener = "xz", lzma.open
    else:
        if len(data) > limit:
            raise _too_big(f"the data holds {len(data):,} bytes,", limit)
        return data
    try:
        with opener(io.BytesIO(data), "rb") as stream:
            out = stream.read(limit + 1)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ParseError(f"the data starts like a {kind} stream but does not decompress: {exc}") from None
    if len(out) > limit:
        raise _too_big(f"the {kind} stream of {len(data):,} bytes expands to", limit)
    return out


def _read_path(path: Path, reader: str, limit: int, special_files: bool) -> bytes:
    """The bytes of the file at ``path``, at most ``limit`` of them; a device, FIFO or socket (which may never
    end: /dev/zero) only with ``special_files=True``."""
    mode = path.stat().st_mode  # FileNotFoundError / IsADirectoryError as open() would raise them
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{reader}: {str(path)!r} is a directory, not a circuit file")
    if not stat.S_ISREG(mode) and not special_files:
        raise ValueError(f"{reader}: {str(path)!r} is not a regular file (a device, FIFO or socket, which may "
                         "never end); pass special_files=True to read it anyway, up to max_bytes")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _too_big(f"{reader}: the file {str(path)!r} holds", limit)
    return data


def read_source(source: Any, text: Any, *, reader: str, max_bytes: Any = None, special_files: bool = False) -> bytes:
    """The bytes a reader parses: from ``source`` (a path, an open file, or bytes of the file) or
    from ``text`` (the content as str or bytes), exactly one of the two.

    A str ``source`` is always a path (an empty one is a ValueError); only the old form, a str
    holding a newline, is still taken as the text itself, with a DeprecationWarning.

    ``max_bytes`` (default :func:`default_max_bytes`) caps what is read and what a gzip/xz file expands
    to (a ParseError past it, raised before the rest is read); a path that is not a regular file is a
    ValueError unless ``special_files=True``.
    """
    if (source is None) == (text is None):
        raise TypeError(f"{reader} takes a path or file object, or text=..., exactly one of them")
    limit = check_max_bytes(max_bytes)
    if not isinstance(special_files, bool):
        raise TypeError(f"special_files must be True or False, got {type(special_files).__name__}")
    if text is not None:
        if isinstance(text, str):
            return text.encode()
        if isinstance(text, (bytes, bytearray, memoryview)):
            return decompress(bytes(text), limit)
        raise TypeError(f"text must be str or bytes, got {type(text).__name__}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decompress(bytes(source), limit)
    if isinstance(source, str) and not source.strip():
        raise ValueError(f"{reader}: the path is an empty string (pass the file's content as text=...)")
    if isinstance(source, str) and "\n" in source:
        warnings.warn(
            f"{reader}: passing the file's text as the first argument is deprecated (a one-line text "
            "would be taken for a path); use text=...",
            DeprecationWarning,
            stacklevel=3,
        )
        return source.encode()
    if isinstance(source, (str, os.PathLike)):
        return decompress(_read_path(Path(source), reader, limit, special_files), limit)
    read = getattr(source, "read", None)
    if callable(read):
        data = read(limit + 1)  # a file that never ends (an open /dev/zero) stops here
        if isinstance(data, str):
            if len(data) > limit:
                raise _too_big(f"{reader}: the file object holds", limit)
            return data.encode()
        if isinstance(data, (bytes, bytearray, memoryview)):
            if len(data) > limit:
                raise _too_big(f"{reader}: the file object holds", limit)
            return decompress(bytes(data), limit)
        raise TypeError(f"{reader}: the file object's read() returned {type(data).__name__}, not str or bytes")
    raise TypeError(
        f"{reader} expects a path (str or os.PathLike), a file object or bytes, or text=..., "
        f"got {type(source).__name__}"
    )


# Bristol Fashion has XOR, AND, INV, EQ and EQW: the others become short sequences.
#   OR   = (a ^ b) ^ (a & b)       NAND = ~(a & b)       NOR = ~a & ~b       XNOR = ~(a ^ b)
_BRISTOL_SIZE = {AND: 1, XOR: 1, OR: 3, NAND: 2, NOR: 3, XNOR: 2, INV: 1, BUF: 1, CONST0: 1, CONST1: 1}


def bristol_text(c: Circuit) -> str:
    """Bristol Fashion text for ``c`` (see :meth:`Circuit.to_bristol`)."""
    n_in = c.n_inputs
    ops = c.ops.tolist()
    in0 = c.in0.tolist()
    in1 = c.in1.tolist()
    outputs = c.outputs.tolist()
    n_out = len(outputs)
    # Outputs must be the last wires, in order: a gate that computes output j is named after its slot;
    # outputs that are inputs or repeat a wire get an EQW copy instead.
    claim: dict[int, int] = {}
    copies: list[tuple[int, int]] = []
    for j, w in enumerate(outputs):
        if w >= n_in and w not in claim:
            claim[w] = j
        else:
            copies.append((j, w))
    written = sum(_BRISTOL_SIZE[op] for op in ops) + len(copies)
    out_base = n_in + written - n_out
    n_wires = out_base + n_out
    name = list(range(n_in)) + [0] * len(ops)
    lines: list[str] = []
    fresh = n_in

    def temp() -> int:
        nonlocal fresh
        fresh += 1
        return fresh - 1

    for g, op in enumerate(ops):
        w = n_in + g
        dest = out_base + claim[w] if w in claim else None
        a = name[in0[g]] if in0[g] >= 0 else -1
        b = name[in1[g]] if in1[g] >= 0 else -1
        if op in (AND, XOR, INV, BUF, CONST0, CONST1):
            d = dest if dest is not None else temp()
            if op == AND:
                lines.append(f"2 1 {a} {b} {d} AND")
            elif op == XOR:
                lines.append(f"2 1 {a} {b} {d} XOR")
            elif op == INV:
                lines.append(f"1 1 {a} {d} INV")
            elif op == BUF:
                lines.append(f"1 1 {a} {d} EQW")
            else:
                lines.append(f"1 1 {op - CONST0} {d} EQ")
        elif op == OR:
            t1, t2 = temp(), temp()
            d = dest if dest is not None else temp()
            lines += [f"2 1 {a} {b} {t1} XOR", f"2 1 {a} {b} {t2} AND", f"2 1 {t1} {t2} {d} XOR"]
        elif op == NAND:
            t1 = temp()
            d = dest if dest is not None else temp()
            lines += [f"2 1 {a} {b} {t1} AND", f"1 1 {t1} {d} INV"]
        elif op == NOR:
            t1, t2 = temp(), temp()
            d = dest if dest is not None else temp()
            lines += [f"1 1 {a} {t1} INV", f"1 1 {b} {t2} INV", f"2 1 {t1} {t2} {d} AND"]
        else:  # XNOR
            t1 = temp()
            d = dest if dest is not None else temp()
            lines += [f"2 1 {a} {b} {t1} XOR", f"1 1 {t1} {d} INV"]
        name[w] = d
    for j, w in copies:
        lines.append(f"1 1 {name[w]} {out_base + j} EQW")
    assert fresh == out_base and len(lines) == written
    header = [
        f"{len(lines)} {n_wires}",
        " ".join(map(str, [len(c.input_widths), *c.input_widths])),
        " ".join(map(str, [len(c.output_widths), *c.output_widths])),
        "",
    ]
    return "\n".join(header + lines) + "\n"


def _leb128(values: list[int]) -> bytes:
    out = bytearray()
    for x in values:
        while x >= 0x80:
            out.append((x & 0x7F) | 0x80)
            x >>= 7
        out.append(x)
    return bytes(out)


def aiger_bytes(c: Circuit, *, binary: bool) -> bytes:
    """AIGER (binary .aig or ASCII .aag) for ``c`` (see :meth:`Circuit.to_aiger`)."""
    n_in = c.n_inputs
    ops = c.ops.tolist()
    in0 = c.in0.tolist()
    in1 = c.in1.tolist()
    lit = [2 * (i + 1) for i in range(n_in)] + [0] * len(ops)
    ands: list[tuple[int, int, int]] = []
    next_var = n_in + 1

    def and_(x: int, y: int) -> int:
        nonlocal next_var
        lhs = 2 * next_var
        next_var += 1
        ands.append((lhs, max(x, y), min(x, y)))
        return lhs

    for g, op in enumerate(ops):
        a = lit[in0[g]] if in0[g] >= 0 else 0
        b = lit[in1[g]] if in1[g] >= 0 else 0
        if op == AND:
            r = and_(a, b)
        elif op == XOR or op == XNOR:  # XOR = ~(~(a & ~b) & ~(~a & b)); XNOR its negation
            r = and_(and_(a, b ^ 1) ^ 1, and_(a ^ 1, b) ^ 1) ^ (1 if op == XOR else 0)
        elif op == OR:
            r = and_(a ^ 1, b ^ 1) ^ 1
        elif op == NAND:
            r = and_(a, b) ^ 1
        elif op == NOR:
            r = and_(a ^ 1, b ^ 1)
        elif op == INV:
            r = a ^ 1
        elif op == BUF:
            r = a
        else:
            r = op - CONST0
        lit[n_in + g] = r
    outs = [lit[w] for w in c.outputs.tolist()]
    m = next_var - 1
    head = f"{'aig' if binary else 'aag'} {m} {n_in} 0 {len(outs)} {len(ands)}\n"
    parts = [head.encode()]
    if not binary:
        parts.append("".join(f"{2 * (i + 1)}\n" for i in range(n_in)).encode())
    parts.append("".join(f"{o}\n" for o in outs).encode())
    if binary:
        deltas: list[int] = []
        for lhs, r0, r1 in ands:
            deltas += [lhs - r0, r0 - r1]
        parts.append(_leb128(deltas))
    else:
        parts.append("".join(f"{lhs} {r0} {r1}\n" for lhs, r0, r1 in ands).encode())
    symbols = []
    k = 0
    for v, width in enumerate(c.input_widths):
        symbols += [f"i{k + bit} in{v}[{bit}]" for bit in range(width)]
        k += width
    k = 0
    for v, width in enumerate(c.output_widths):
        symbols += [f"o{k + bit} out{v}[{bit}]" for bit in range(width)]
        k += width
    parts.append(("\n".join(symbols) + "\n" if symbols else "").encode())
    parts.append(b"c\nwritten by deepcheap_native\n")
    return b"".join(parts)
