"""Boolean circuits: load (Bristol Fashion, AIGER), build, analyse (size, depth, level widths, list
scheduling) and evaluate bit-sliced at native speed. The serial-depth-versus-parallel-width side of
the package (Hoang & Guerraoui 2018; DESIGN.md §1.3).

A :class:`Circuit` is immutable. Its wires ``0 .. n_inputs-1`` are the input bits (input value 1 first,
least significant bit first), and gate ``g`` writes wire ``n_inputs + g`` from earlier wires only, so
the gates are in topological order by construction.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import is_torch_tensor, like_input, to_numpy
from ..core.memory import SMALL_BYTES, check_allocation, memory_limit
from ..core.validate import check_choice, check_int, check_out, check_threads

if TYPE_CHECKING:  # annotations only: torch stays a lazy, optional import
    import torch
from .io import CONSTANT_OPS, OP_CODE, OPS, UNARY_OPS, ParseError, read_source
from .threshold import threshold_network

_UINT64 = np.dtype(np.uint64)
#: output words (8 bytes each) below which evaluate_packed's small-call path runs: under the 1 MiB that
#: check_allocation lets pass at once
_FAST_OUTPUT_WORDS = SMALL_BYTES // 8

__all__ = ["OPS", "Circuit", "CircuitBuilder", "ParseError", "ScheduleResult"]

# The op table exists once, in the leaf module circuit_io (OPS: names by op code).
_OP_CODE = OP_CODE
_UNARY = UNARY_OPS
_CONST = CONSTANT_OPS
_SCHEDULES = {"batch": 0, "levelized": 1, "sequential": 2}


@dataclasses.dataclass(frozen=True)
class ScheduleResult:
    """Greedy list scheduling of a circuit's gates (unit time each) on ``processors`` processors.

    ``makespan`` always lies in [``lower_bound``, ``upper_bound``]: no schedule beats
    max(⌈W/p⌉, D), and any greedy one meets Brent's W/p + D.
    """

    processors: int
    makespan: int
    work: int
    depth: int
    lower_bound: int
    upper_bound: float

    @property
    def speedup(self) -> float:
        """Work over makespan: how many of the p processors were busy on average."""
        return self.work / self.makespan if self.makespan else 0.0


def _as_index_array(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if a.size and (a.min() < -1 or a.max() >= 2**30):
        raise ValueError(f"{name} holds wire numbers outside [-1, 2**30): min {a.min()}, max {a.max()}")
    return np.ascontiguousarray(a, dtype=np.int32)


def _check_widths(widths: Any, name: str) -> tuple[int, ...]:
    if isinstance(widths, (int, np.integer)):
        widths = [widths]
    out = tuple(check_int(w, f"{name}[{i}]", minimum=1) for i, w in enumerate(widths))
    return out


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(n, B) array of 0/1 -> (n, ⌈B/64⌉) uint64 words; bit j of word k is vector 64·k + j."""
    n, batch = bits.shape
    n_words = (batch + 63) // 64
    packed = np.packbits(bits.astype(np.uint8, copy=False), axis=1, bitorder="little")
    if packed.shape[1] != 8 * n_words:
        packed = np.concatenate([packed, np.zeros((n, 8 * n_words - packed.shape[1]), np.uint8)], axis=1)
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False).reshape(n, n_words)


def unpack_bits(words: np.ndarray, batch: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: (n, n_words) uint64 -> (n, batch) uint8 of 0/1."""
    w = np.ascontiguousarray(words, dtype="<u8")
    return np.unpackbits(w.view(np.uint8), axis=1, bitorder="little")[:, :batch]


def _value_to_bits(value: Any, width: int, batch: int, name: str) -> np.ndarray:
    """One input value (ints of `width` bits, batch of them) -> (width, batch) uint8 bits."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [int(value)] * batch
    a = np.asarray(value)
    if a.dtype == bool or (a.size and a.dtype.kind not in "iuO"):
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    a = a.reshape(-1)
    if a.shape[0] != batch:
        raise ValueError(f"{name} has {a.shape[0]} values but the batch has {batch}")
    if width <= 64 and a.dtype.kind in "iu":
        lo = np.iinfo(a.dtype).min
        hi = np.iinfo(a.dtype).max
        if lo < -(2 ** (width - 1)) or hi >= 2**width:
            if a.size and (int(a.min()) < -(2 ** (width - 1)) or int(a.max()) >= 2**width):
                raise ValueError(
                    f"{name} must lie in [-2**{width - 1}, 2**{width}) for a {width}-bit value, "
                    f"got min {a.min()} and max {a.max()}"
                )
        x = a.astype(np.int64).view(np.uint64) if a.dtype.kind == "i" else a.astype(np.uint64)
        shifts = np.arange(width, dtype=np.uint64)[:, None]
        return ((x[None, :] >> shifts) & np.uint64(1)).astype(np.uint8)
    ints = []
    for v in a.tolist():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must hold integers, got {type(v).__name__}")
        v = int(v)
        if not -(2 ** (width - 1)) <= v < 2**width:
            raise ValueError(f"{name} must lie in [-2**{width - 1}, 2**{width}) for a {width}-bit value, got {v}")
        ints.append(v % (1 << width))
    n_bytes = (width + 7) // 8
    raw = b"".join(v.to_bytes(n_bytes, "little") for v in ints)
    bits = np.unpackbits(np.frombuffer(raw, np.uint8).reshape(batch, n_bytes), axis=1, bitorder="little")
    return np.ascontiguousarray(bits[:, :width].T)


def _bits_to_value(bits: np.ndarray) -> np.ndarray:
    """(width, batch) 0/1 bits -> uint64 array (width <= 64) or object array of Python ints."""
    width, batch = bits.shape
    if width <= 64:
        padded = np.zeros((batch, 64), np.uint8)
        padded[:, :width] = bits.T
        return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64).reshape(batch)
    n_bytes = (width + 7) // 8
    padded = np.zeros((batch, 8 * n_bytes), np.uint8)
    padded[:, :width] = bits.T
    raw = np.packbits(padded, axis=1, bitorder="little")
    out = np.empty(batch, dtype=object)
    for i in range(batch):
        out[i] = int.from_bytes(raw[i].tobytes(), "little")
    return out


class Circuit:
    """An immutable boolean circuit in topological order, evaluated bit-sliced.

    Parameters
    ----------
    ops : sequence of op names (see :data:`OPS`) or op codes, one per gate.
    in0, in1 : wires each gate reads (ignored for constants; ``in1`` ignored for INV/BUF, use -1).
        Wires ``0 .. n_inputs-1`` are the input bits, gate ``g`` writes wire ``n_inputs + g`` and may
        read only smaller wires.
    outputs : the wire of every output bit, output value 1 first, least significant bit first.
    input_widths, output_widths : bit widths of the input and output values; they must add up to
        ``n_inputs`` and ``len(outputs)``.

    Most users load a circuit (:meth:`from_bristol`, :meth:`from_aiger`), build one with
    :class:`CircuitBuilder`, or take one from :mod:`deepcheap_native.circuits`.
    """

    __slots__ = ("_core", "_ops", "_in0", "_in1", "_outputs", "_input_widths", "_output_widths", "_levels",
                 "_device_cores", "_io", "__weakref__")  # weak references: torch custom ops name circuits by a handle

    def __init__(
        self,
        ops: Any,
        in0: Any,
        in1: Any,
        outputs: Any,
        input_widths: Sequence[int] | int,
        output_widths: Sequence[int] | int,
    ):
        ops_arr = np.asarray(ops)
        if ops_arr.ndim != 1:
            raise ValueError(f"ops must be one-dimensional, got shape {ops_arr.shape}")
        if ops_arr.dtype.kind in "US":
            try:
                ops_arr = np.array([_OP_CODE[str(o).upper()] for o in ops_arr.tolist()], dtype=np.uint8)
            except KeyError as exc:
                raise ValueError(f"unknown op {exc.args[0]!r}: expected one of {', '.join(OPS)}") from None
        elif ops_arr.size and (ops_arr.dtype.kind not in "iu" or ops_arr.min() < 0 or ops_arr.max() >= len(OPS)):
            raise ValueError(f"op codes must be integers in [0, {len(OPS)}), see OPS")
        ops_arr = np.ascontiguousarray(ops_arr, dtype=np.uint8)
        in0_arr = _as_index_array(in0, "in0")
        in1_arr = _as_index_array(in1, "in1")
        out_arr = _as_index_array(outputs, "outputs")
        iw = _check_widths(input_widths, "input_widths") if np.size(input_widths) else ()
        ow = _check_widths(output_widths, "output_widths") if np.size(output_widths) else ()
        if sum(ow) != out_arr.size:
            raise ValueError(f"output_widths add up to {sum(ow)} but there are {out_arr.size} output wires")
        n_inputs = sum(iw)
        # The core re-checks everything (topological order, wire ranges) and computes levels.
        self._core = _core.CircuitCore(n_inputs, ops_arr, in0_arr, in1_arr, out_arr)
        self._io = (int(self._core.n_inputs), int(self._core.n_outputs))  # read on every evaluation
        for a in (ops_arr, in0_arr, in1_arr, out_arr):
            a.flags.writeable = False
        self._ops, self._in0, self._in1, self._outputs = ops_arr, in0_arr, in1_arr, out_arr
        self._input_widths, self._output_widths = iw, ow
        self._levels: np.ndarray | None = None
        # The plan copied to each CUDA device used so far: (driver module name, index) -> CircuitCore.
        self._device_cores: dict[tuple[str, int], Any] = {}

    def _core_for(self, where: Any) -> Any:
        """The native circuit object for a device: the CPU core, or this circuit's plan on a GPU."""
        if where.kind == "cpu":
            return self._core
        module = where.module
        key = (module.__name__, where.index)
        core = self._device_cores.get(key)
        if core is None:
            core = module.CircuitCore(self.n_inputs, self._ops, self._in0, self._in1, self._outputs, device=where.index)
            core = self._device_cores.setdefault(key, core)
        return core

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def _from_gate_list(cls, d: dict, input_widths: Any = None, output_widths: Any = None) -> Circuit:
        iw = d["input_widths"] if input_widths is None else input_widths
        ow = d["output_widths"] if output_widths is None else output_widths
        if sum(_check_widths(iw, "input_widths")) != d["n_inputs"]:
            raise ValueError(f"input_widths add up to {sum(iw)} but the file has {d['n_inputs']} input bits")
        return cls(d["ops"], d["in0"], d["in1"], d["outputs"], iw, ow)

    @classmethod
    def from_bristol(cls, source: str | os.PathLike | IO | bytes | None = None, *, text: str | bytes | None = None,
                     max_bytes: int | None = None, special_files: bool = False) -> Circuit:
        """Load a Bristol Fashion circuit from a path, an open file or the file's bytes, or from
        ``text=`` (the content itself). gzip- and xz-compressed files are read transparently.

        ``max_bytes``: the most bytes read, and the most a compressed file may expand to (default
        1 GiB, or a quarter of the machine's memory if less): past it a ParseError, before the rest is
        read. A path that is not a regular file (a device such as /dev/zero, a FIFO) is a ValueError
        unless ``special_files=True``.

        All of Bristol Fashion is read: XOR, AND, INV, EQ (constant), EQW (copy) and MAND (n ANDs);
        OR, NAND, NOR, XNOR, NOT and BUF are accepted too. Input and output values keep the file's
        widths; wire ``base + k`` is bit k (least significant first) of its value.

        Raises
        ------
        ParseError
            (a ValueError) naming the line: truncated file, header counts that disagree with the
            gates, a wire read before it is written (a cycle) or out of range, an unknown op.
        """
        data = read_source(source, text, reader="Circuit.from_bristol", max_bytes=max_bytes,
                           special_files=special_files)
        return cls._from_gate_list(_core.circuit_parse_bristol(data, memory_limit()))

    @classmethod
    def from_aiger(
        cls,
        source: str | os.PathLike | IO | bytes | None = None,
        input_widths: Sequence[int] | None = None,
        output_widths: Sequence[int] | None = None,
        *,
        text: str | bytes | None = None,
        max_bytes: int | None = None,
        special_files: bool = False,
    ) -> Circuit:
        """Load a combinational AIGER file, ASCII (.aag) or binary (.aig): a path, an open file or
        the file's bytes, or ``text=`` (the content itself); gzip/xz-compressed files are read too.
        ``max_bytes`` and ``special_files`` as in :meth:`from_bristol`.

        AND nodes become AND gates (NOR when both inputs are negated); a negated literal becomes one
        shared INV gate. Input and output values are grouped from the symbol table when it names
        the bits ``name[0], name[1], ...``; otherwise all inputs form one value and all outputs
        another. ``input_widths``/``output_widths`` override the grouping.

        Raises
        ------
        ParseError
            for malformed files and for latches (only combinational AIGER is supported).
        """
        d = _core.circuit_parse_aiger(read_source(source, text, reader="Circuit.from_aiger", max_bytes=max_bytes,
                                                  special_files=special_files), memory_limit())
        if input_widths is None:
            input_widths = _group_names(d["input_names"], d["n_inputs"])
        if output_widths is None:
            output_widths = _group_names(d["output_names"], len(d["outputs"]))
        return cls._from_gate_list(d, input_widths, output_widths)

    def to_bristol(self, path: str | os.PathLike | None = None) -> str | None:
        """Write the circuit in Bristol Fashion (using only XOR, AND, INV, EQ and EQW).

        OR, NAND, NOR and XNOR are rewritten with those gates; outputs that are inputs, constants or
        repeated wires get an EQW copy, so the outputs are the last wires as the format requires.
        Returns the text when ``path`` is None.
        """
        from .io import bristol_text

        text = bristol_text(self)
        if path is None:
            return text
        Path(path).write_text(text)
        return None

    def to_aiger(self, path: str | os.PathLike, binary: bool | None = None) -> None:
        """Write the circuit as AIGER: binary for a ``.aig`` path, ASCII for ``.aag``.

        Each gate becomes AND nodes (XOR and XNOR three, the others one or none); the symbol table
        names the bits ``in<i>[k]`` and ``out<j>[k]`` so that :meth:`from_aiger` restores the widths.
        """
        from .io import aiger_bytes

        path = Path(path)
        if binary is None:
            if path.suffix not in (".aig", ".aag"):
                raise ValueError(f"path must end in .aig (binary) or .aag (ASCII) unless binary= is given, got {path.name!r}")
            binary = path.suffix == ".aig"
        path.write_bytes(aiger_bytes(self, binary=bool(binary)))

    # ----------------------------------------------------------------------------- structure
    @property
    def ops(self) -> np.ndarray:
        """Op code of every gate (read-only uint8 array; names in :data:`OPS`)."""
        return self._ops

    @property
    def in0(self) -> np.ndarray:
        """First input wire of every gate (-1 for constants)."""
        return self._in0

    @property
    def in1(self) -> np.ndarray:
        """Second input wire of every gate (equal to ``in0`` for INV/BUF, -1 for constants)."""
        return np.where(np.isin(self._ops, _UNARY), self._in0, self._in1) if self._ops.size else self._in1

    @property
    def outputs(self) -> np.ndarray:
        """The wire of every output bit."""
        return self._outputs

    @property
    def input_widths(self) -> tuple[int, ...]:
        return self._input_widths

    @property
    def output_widths(self) -> tuple[int, ...]:
        return self._output_widths

    @property
    def n_inputs(self) -> int:
        """Number of input bits (wires)."""
        return int(self._core.n_inputs)

    @property
    def n_outputs(self) -> int:
        """Number of output bits."""
        return int(self._core.n_outputs)

    @property
    def n_wires(self) -> int:
        return self.n_inputs + self.n_gates

    @property
    def n_gates(self) -> int:
        """Number of gates, constants included."""
        return int(self._core.n_gates)

    @property
    def work(self) -> int:
        """W: gates that take a step when scheduled (every gate but constants)."""
        return int(self._core.work)

    @property
    def gate_counts(self) -> dict[str, int]:
        """Gates by op name (ops that occur only)."""
        counts = np.bincount(self._ops, minlength=len(OPS))
        return {OPS[i]: int(c) for i, c in enumerate(counts) if c}

    @property
    def depth(self) -> int:
        """D: the longest input-to-gate path, in gates (inputs and constants are level 0)."""
        return int(self._core.depth)

    @property
    def and_depth(self) -> int:
        """Longest path counting only AND, OR, NAND and NOR gates (XOR, XNOR, INV, BUF are free)."""
        return int(self._core.and_depth)

    @property
    def levels(self) -> np.ndarray:
        """ASAP level of every gate: 1 + the largest level of its inputs (constants: 0)."""
        if self._levels is None:
            lv = self._core.levels()
            lv.flags.writeable = False
            self._levels = lv
        return self._levels

    def level_widths(self, alap: bool = False) -> np.ndarray:
        """Gates on each level 1..depth (constants excluded), as an int64 array of length ``depth``.

        ASAP places each gate as early as its inputs allow; ``alap=True`` as late as its consumers
        allow (level = depth - longest path from the gate to an output). Both sum to ``work``.
        """
        return self._core.level_widths(bool(alap))

    def critical_path(self) -> np.ndarray:
        """Gate indices of one longest path, from the input side; its length is ``depth``."""
        return self._core.critical_path()

    def schedule(self, p: int) -> ScheduleResult:
        """Makespan of greedy list scheduling (highest remaining path first) on ``p`` processors.

        Every gate but constants takes one step; a gate may run once its inputs have. The result
        carries the bounds max(⌈W/p⌉, D) ≤ makespan ≤ W/p + D (Brent; Graham).
        """
        p = check_int(p, "p", minimum=1)
        w, d = self.work, self.depth
        return ScheduleResult(
            processors=p,
            makespan=int(self._core.list_schedule(p)),
            work=w,
            depth=d,
            lower_bound=max(-(-w // p), d),
            upper_bound=w / p + d,
        )

    def __reduce__(self) -> tuple:
        # Pickle as the gate arrays (the native core is rebuilt and re-checked on load): circuits travel
        # to worker processes in deepcheap_native.distributed.
        return (Circuit, (self._ops, self._in0, self._in1, self._outputs, self._input_widths, self._output_widths))

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.gate_counts.items())
        return (
            f"Circuit(inputs={list(self._input_widths)}, outputs={list(self._output_widths)}, "
            f"gates={self.n_gates} [{counts}], depth={self.depth})"
        )

    # ----------------------------------------------------------------------------- evaluation
    @overload
    def evaluate_packed(self, words: torch.Tensor, *, schedule: str = "batch", threads: int | None = None,
                        out: np.ndarray | None = None, block_words: int | None = None,
                        device: Any = None) -> torch.Tensor: ...
    @overload
    def evaluate_packed(self, words: np.ndarray, *, schedule: str = "batch", threads: int | None = None,
                        out: np.ndarray | None = None, block_words: int | None = None,
                        device: Any = None) -> np.ndarray: ...
    @overload
    def evaluate_packed(self, words: Any, *, schedule: str = "batch", threads: int | None = None,
                        out: np.ndarray | None = None, block_words: int | None = None, device: Any = None) -> Any: ...

    def evaluate_packed(
        self,
        words: Any,
        *,
        schedule: str = "batch",
        threads: int | None = None,
        out: np.ndarray | None = None,
        block_words: int | None = None,
        device: Any = None,
    ) -> Any:
        """Evaluate on bit-sliced inputs: ``words[i, k]`` bit j is input bit i of vector 64·k + j.

        Parameters
        ----------
        words : uint64 array, shape (n_inputs, n_words).
        schedule : "batch" (default: each thread runs the whole circuit on its own slice of the
            vectors), "levelized" (threads split every level and meet at a barrier per level) or
            "sequential" (one thread). All give identical results.
        threads : threads to use (default :func:`deepcheap_native.get_num_threads`).
        out : optional uint64 array of shape (n_outputs, n_words) to write into (avoids allocating).
        block_words : words per wire slot: 1, 8, 16, 32 or 64 (default: 1 for a one-word call, where an
            8-word block would evaluate eight words; else the largest whose live slots fit in about
            512 KiB of cache). Every choice gives the same words.
        device : "cpu", "cuda", "cuda:N", or None for the device of ``words`` (a torch CUDA tensor or
            CuPy array runs on its GPU and the result comes back there). On CUDA, "batch" and
            "sequential" are one thread per word running the whole circuit, and "levelized" is one
            launch per level with one thread per (gate of the level, word): the circuit's depth is
            the number of launches. Identical results; threads and block_words are CPU settings and
            are ignored there.

        Returns
        -------
        uint64 array, shape (n_outputs, n_words).
        """
        if (type(words) is np.ndarray and out is None and threads is None and block_words is None and device is None
                and schedule == "batch" and words.dtype == _UINT64 and words.ndim == 2):
            # The small call's path (issue 26 §3): a host uint64 array and every option at its default.
            # What the checks below would do for it is the shape test and the output's allocation; the
            # memory check passes at once for any request under 1 MiB (here 8 bytes per output word).
            n_inputs, n_outputs = self._io
            n_words = words.shape[1]
            if words.shape[0] == n_inputs and n_words * n_outputs < _FAST_OUTPUT_WORDS and words.flags.c_contiguous:
                return self._core.evaluate_packed(words, np.empty((n_outputs, n_words), _UINT64), 0, 0, 0)
        code = _SCHEDULES.get(schedule) if type(schedule) is str else None
        if code is None:  # (the check and its message only for what is not a schedule's name)
            code = _SCHEDULES[check_choice(schedule, "schedule", tuple(_SCHEDULES))]
        t = check_threads(threads) or 0  # 0: the core's num_threads() (a caller's override, else the setting)
        bw = 0 if block_words is None else check_int(block_words, "block_words", minimum=1, maximum=64)
        if bw and bw not in (1, 8, 16, 32, 64):
            raise ValueError(f"block_words must be 1, 8, 16, 32 or 64, got {bw}")
        where = cuda.resolve_device(device, words)
        if where.kind == "cuda" and cuda.is_device_array(words):
            # The zero-copy path: words on the GPU are read in place, the outputs made (or out= written) there.
            address, shape, _, owner = cuda.device_input(words, "words", where, np.uint64)
            if len(shape) != 2 or shape[0] != self.n_inputs:
                raise ValueError(f"words must have shape (n_inputs={self.n_inputs}, n_words), got {shape}")
            out_address, result = cuda.device_output(out, (self.n_outputs, shape[1]), np.uint64, where)
            self._core_for(where).evaluate_resident(address, out_address, shape[1], code)
            del owner
            return cuda.like_device(result, words)
        template = words
        w, came_from_torch = to_numpy(cuda.to_host(words), "words")
        n_inputs, n_outputs = self._io
        if w.ndim != 2 or w.shape[0] != n_inputs:
            raise ValueError(f"words must have shape (n_inputs={n_inputs}, n_words), got {w.shape}")
        exact = w.dtype == _UINT64
        if not exact and w.dtype.kind not in "iu":
            raise TypeError(f"words must be uint64, got dtype {w.dtype}")
        n_words = w.shape[1]
        copy = 0 if exact and w.flags.c_contiguous else n_inputs  # inputs copied, outputs made
        n_bytes = 8 * n_words * (copy + (n_outputs if out is None else 0))
        check_allocation(n_bytes, lambda: f"Circuit.evaluate_packed on {n_words:,} words")
        if copy:
            w = np.ascontiguousarray(w, dtype=np.uint64)
        shape = (n_outputs, n_words)
        if out is None:
            out = np.empty(shape, dtype=np.uint64)
        else:
            check_out(out, shape, np.uint64)
        result = self._core_for(where).evaluate_packed(w, out, code, t, bw)
        if type(template) is not np.ndarray and cuda.array_device(template) is not None:
            return cuda.like_device_input(result, template)
        return like_input(result, came_from_torch)

    @overload
    def evaluate_bits(self, bits: torch.Tensor, *, schedule: str = "batch",
                      threads: int | None = None) -> torch.Tensor: ...
    @overload
    def evaluate_bits(self, bits: Any, *, schedule: str = "batch", threads: int | None = None) -> np.ndarray: ...

    def evaluate_bits(self, bits: Any, *, schedule: str = "batch", threads: int | None = None) -> Any:
        """Evaluate on a (B, n_inputs) array of 0/1 (bool or integers); returns (B, n_outputs) bool.

        numpy in, numpy out; a torch tensor in gives a torch tensor out (as does ``evaluate_packed``),
        computed by the custom op ``torch.ops.deepcheap.circuit_evaluate_bits`` (usable inside
        ``torch.compile``).
        """
        if is_torch_tensor(bits):
            from .torch_ops import circuit_evaluate_bits

            check_choice(schedule, "schedule", tuple(_SCHEDULES))
            return circuit_evaluate_bits(self, bits, schedule, threads)
        b, came_from_torch = to_numpy(bits, "bits")
        if b.ndim == 1:
            b = b[None, :]
        if b.ndim != 2 or b.shape[1] != self.n_inputs:
            raise ValueError(f"bits must have shape (B, n_inputs={self.n_inputs}), got {np.shape(bits)}")
        if b.dtype != bool:
            if b.dtype.kind not in "iu" or (b.size and (b.min() < 0 or b.max() > 1)):
                raise ValueError("bits must be bool or integers 0/1")
        batch = b.shape[0]
        words = pack_bits(np.ascontiguousarray(b.T))
        res = self.evaluate_packed(words, schedule=schedule, threads=threads)
        return like_input(np.ascontiguousarray(unpack_bits(res, batch).T).astype(bool), came_from_torch)

    def evaluate(self, *values: Any, schedule: str = "batch", threads: int | None = None) -> Any:
        """Evaluate on integer values, one argument per input value.

        Each argument is a Python int or an array of integers (one per vector); values wider than 64
        bits are Python ints (or object arrays of them). Negative numbers are taken modulo 2**width
        (two's complement). Returns one result per output value (a tuple when there are several):
        Python ints when every argument was a scalar, else uint64 arrays (widths <= 64) or object
        arrays of Python ints.
        """
        if len(values) != len(self._input_widths):
            raise TypeError(
                f"the circuit has {len(self._input_widths)} input values (widths {list(self._input_widths)}), "
                f"got {len(values)} arguments"
            )
        scalar = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
        batch = 1
        for v in values:
            if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool)):
                batch = int(np.asarray(v).reshape(-1).shape[0]) if np.ndim(v) else 1
                break
        rows = [_value_to_bits(v, w, batch, f"input value {i}") for i, (v, w) in enumerate(zip(values, self._input_widths))]
        bits = np.concatenate(rows, axis=0) if rows else np.zeros((0, batch), np.uint8)
        res = self.evaluate_packed(pack_bits(bits), schedule=schedule, threads=threads)
        out_bits = unpack_bits(res, batch)
        results = []
        start = 0
        for w in self._output_widths:
            v = _bits_to_value(out_bits[start : start + w])
            start += w
            results.append(int(v[0]) if scalar else v)
        return results[0] if len(results) == 1 else tuple(results)

    # ----------------------------------------------------------------------------- input space
    def evaluate_range(self, start: int = 0, count: int | None = None, *, chunk: int = 1 << 18,
                       schedule: str = "batch", threads: int | None = None) -> np.ndarray:
        """Evaluate on the inputs start .. start + count - 1 of the 2^n_inputs input space, packed.

        Input integer x feeds bit i of x to input wire i (the truth-table order). The input words are
        generated natively ``chunk`` vectors at a time, so the range is never materialised as inputs.

        Parameters
        ----------
        start : int in [0, 2**n_inputs] (a Python int: input spaces may be wider than 64 bits).
        count : number of inputs (default: up to the end of the space; below 2**62).
        chunk : vectors per chunk, a multiple of 64.

        Returns
        -------
        uint64 array (n_outputs, ⌈count/64⌉): bit j of word k is the output for x = start + 64·k + j;
        lanes past ``count`` are 0.
        """
        from . import space as circuit_space

        return circuit_space.evaluate_range(self, start, count, chunk=chunk, schedule=schedule, threads=threads)

    def count_output_patterns(self, start: int = 0, count: int | None = None, *, chunk: int = 1 << 18,
                              schedule: str = "batch", threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Count the output patterns over inputs start .. start + count - 1 (see :meth:`evaluate_range`).

        A pattern is the integer whose bit o is output bit o (at most 64 outputs). Counting is native:
        a dense histogram for up to 20 outputs, sorted unique patterns beyond.

        Returns
        -------
        (patterns, counts): uint64 patterns that occur, ascending, and their int64 counts (summing to count).
        """
        from . import space as circuit_space

        return circuit_space.count_output_patterns(self, start, count, chunk=chunk, schedule=schedule,
                                                   threads=threads)

    def to_network(self, activation: str = "heaviside", beta: float = 50.0):
        """The circuit as a threshold network of neurons (Rolnick & Tegmark 2018, §III.B).

        AND, OR, NAND and NOR are one neuron each, XOR and XNOR two, INV and BUF none (they are
        affine in the wire they read). See :class:`deepcheap_native.circuit.ThresholdNetwork`.

        Parameters
        ----------
        activation : "heaviside" (exact) or "sigmoid" (logistic of ``beta`` times the
            pre-activation; reproduces the outputs after rounding once ``beta`` is large enough).
        beta : steepness of the sigmoid.
        """
        return threshold_network(self, activation=activation, beta=beta)


def _group_names(names: Sequence[str], n: int) -> tuple[int, ...]:
    """Widths from AIGER symbols ``a[0], a[1], ...``: consecutive runs of one base name with indices 0.."""
    if n == 0:
        return ()
    widths: list[int] = []
    prev_base = None
    expect = 0
    for name in names:
        base, idx = None, None
        if name.endswith("]") and "[" in name:
            base, _, rest = name[:-1].rpartition("[")
            idx = int(rest) if rest.isdigit() else None
        if base is None or idx is None:
            return (n,)
        if base == prev_base and idx == expect:
            widths[-1] += 1
            expect += 1
        elif idx == 0:
            widths.append(1)
            prev_base, expect = base, 1
        else:
            return (n,)
    return tuple(widths) if sum(widths) == n else (n,)


#: A circuit's wires (inputs and gates) are int32 indices below 2^30 (plan/circuit.cpp).
_MAX_BUILDER_WIRES = 2**30 - 1
_BUILDER_WIRE_BYTES = 80  # four list entries and the int objects a builder holds per wire


class CircuitBuilder:
    """Build a circuit gate by gate; wires are plain ints.

    Examples
    --------
    >>> b = CircuitBuilder()
    >>> x, y = b.inputs(1), b.inputs(1)
    >>> b.outputs([b.xor(x[0], y[0]), b.and_(x[0], y[0])])   # a half adder
    >>> c = b.build()
    """

    def __init__(self) -> None:
        self._is_input: list[bool] = []
        self._ops: list[int] = []
        self._a: list[int] = []
        self._b: list[int] = []
        self._input_widths: list[int] = []
        self._outputs: list[list[int]] = []
        self._consts: dict[int, int] = {}

    # wires -----------------------------------------------------------------
    def _new(self, is_input: bool, op: int, a: int, b: int) -> int:
        self._is_input.append(is_input)
        self._ops.append(op)
        self._a.append(a)
        self._b.append(b)
        return len(self._is_input) - 1

    def _wire(self, w: Any) -> int:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)):
            raise TypeError(f"a wire must be an int returned by this builder, got {type(w).__name__}")
        w = int(w)
        if not 0 <= w < len(self._is_input):
            have = (f"wires 0..{len(self._is_input) - 1}" if self._is_input else
                    "no wires yet: add inputs first, e.g. builder.inputs(8)")
            raise ValueError(f"wire {w} does not exist (this builder has {have})")
        return w

    def inputs(self, width: int) -> list[int]:
        """Declare the next input value of ``width`` bits; returns its wires, least significant first."""
        width = check_int(width, "width", minimum=1, maximum=_MAX_BUILDER_WIRES - len(self._is_input))
        check_allocation(_BUILDER_WIRE_BYTES * width, f"CircuitBuilder.inputs({width})",
                         detail=f"{width} wires x {_BUILDER_WIRE_BYTES} bytes of Python lists")
        self._input_widths.append(width)
        return [self._new(True, -1, -1, -1) for _ in range(width)]

    def gate(self, op: str, a: int, b: int | None = None) -> int:
        """A gate by op name (see :data:`OPS`)."""
        code = _OP_CODE.get(str(op).upper())
        if code is None:
            raise ValueError(f"unknown op {op!r}: expected one of {', '.join(OPS)}")
        if code in _CONST:
            return self.const(code - _CONST[0])
        a = self._wire(a)
        if code in _UNARY:
            return self._new(False, code, a, a)
        if b is None:
            raise TypeError(f"{OPS[code]} needs two input wires")
        return self._new(False, code, a, self._wire(b))

    def and_(self, a: int, b: int) -> int:
        return self.gate("AND", a, b)

    def xor(self, a: int, b: int) -> int:
        return self.gate("XOR", a, b)

    def or_(self, a: int, b: int) -> int:
        return self.gate("OR", a, b)

    def nand(self, a: int, b: int) -> int:
        return self.gate("NAND", a, b)

    def nor(self, a: int, b: int) -> int:
        return self.gate("NOR", a, b)

    def xnor(self, a: int, b: int) -> int:
        return self.gate("XNOR", a, b)

    def not_(self, a: int) -> int:
        return self.gate("INV", a)

    def buf(self, a: int) -> int:
        return self.gate("BUF", a)

    def const(self, value: int) -> int:
        """The constant 0 or 1 (one shared gate each)."""
        if value not in (0, 1):
            raise ValueError(f"a constant must be 0 or 1, got {value!r}")
        if value not in self._consts:
            self._consts[value] = self._new(False, _CONST[0] + value, -1, -1)
        return self._consts[value]

    def mux(self, select: int, if_true: int, if_false: int) -> int:
        """``if_true`` where ``select`` is 1, else ``if_false`` (two XORs and an AND)."""
        return self.xor(if_false, self.and_(select, self.xor(if_true, if_false)))

    def outputs(self, wires: Iterable[int]) -> None:
        """Declare the next output value: its wires, least significant bit first."""
        ws = [self._wire(w) for w in wires]
        if not ws:
            raise ValueError("an output value needs at least one wire")
        self._outputs.append(ws)

    def build(self) -> Circuit:
        """The circuit: inputs renumbered first (in declaration order), gates after in creation order."""
        if not self._outputs:
            raise ValueError("declare at least one output value with outputs(wires) before build()")
        is_input = np.array(self._is_input, dtype=bool)
        n_in = int(is_input.sum())
        new = np.empty(is_input.size, dtype=np.int64)
        new[is_input] = np.arange(n_in)
        new[~is_input] = n_in + np.arange(is_input.size - n_in)
        gate = ~is_input
        ops = np.array(self._ops, dtype=np.int64)[gate]
        a = np.array(self._a, dtype=np.int64)[gate]
        b = np.array(self._b, dtype=np.int64)[gate]
        remap = lambda x: np.where(x >= 0, new[np.maximum(x, 0)], -1)  # noqa: E731
        outs = np.array([w for ws in self._outputs for w in ws], dtype=np.int64)
        return Circuit(
            ops.astype(np.uint8),
            remap(a),
            remap(b),
            new[outs],
            self._input_widths,
            [len(ws) for ws in self._outputs],
        )
