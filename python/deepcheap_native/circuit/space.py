"""Walking a circuit's 2^n input space in ranges: input words generated natively chunk by chunk (never
the whole space at once), output-pattern counts, and the search for the first input on which two
circuits differ. The public faces are :meth:`Circuit.evaluate_range`,
:meth:`Circuit.count_output_patterns` and :func:`deepcheap_native.circuits.equivalent`;
:mod:`deepcheap_native.distributed` splits the same functions over a cluster.

Vector v of the range starting at ``start`` is the integer x = start + v, and input wire i of the
circuit gets bit i of x (the truth-table order x = Σ xᵢ 2^i). Random vectors are numbered too:
vector v takes bit v mod 64 of the Philox words of word v // 64, so any split of a range into pieces
(whose boundaries are multiples of 64 vectors) gives the same vectors.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from ..core.scaleout import pieces
from ..core.validate import check_choice, check_int, check_multiple, check_seed, check_threads, resolve_seed

if TYPE_CHECKING:
    from .circuit import Circuit

#: Vectors per chunk by default: 2^18 (4096 words per input bit), so one chunk of a 64-input circuit's
#: input words is 2 MiB.
DEFAULT_CHUNK = 1 << 18
#: Above this many outputs the pattern counts are kept sparse (sorted unique patterns) instead of
#: in a dense histogram of 2^n_outputs entries.
DENSE_OUTPUTS = 20


def check_range(n_inputs: int, start: Any, count: Any) -> tuple[int, int]:
    """(start, count) checked against the 2^n_inputs input space; count None means up to its end."""
    size = 1 << n_inputs
    start = check_int(start, "start")
    if not 0 <= start <= size:
        raise ValueError(f"start must lie in [0, 2**{n_inputs}] for a circuit with {n_inputs} input bits, got {start}")
    if count is None:
        count = size - start
        if count >= 1 << 62:
            raise ValueError(
                f"the range from start={start} to the end of the 2**{n_inputs} input space is too large; pass count"
            )
    count = check_int(count, "count")
    if count < 0 or count >= 1 << 62:
        raise ValueError(f"count must lie in [0, 2**62), got {count}")
    if start + count > size:
        raise ValueError(
            f"start + count = {start + count} runs past the 2**{n_inputs} = {size} inputs of the circuit"
        )
    return start, count


def check_chunk(chunk: Any) -> int:
    return check_multiple(chunk, "chunk", 64, "vectors (one packed word)")


def _threads(threads: Any) -> int:
    return check_threads(threads) or 0  # 0: the core's num_threads()


def range_input_words(n_inputs: int, start: int, count: int, *, threads: int | None = None) -> np.ndarray:
    """Packed input words of the vectors start .. start + count - 1: shape (n_inputs, ⌈count/64⌉),
    bit j of word k being input bit i of the integer start + 64·k + j (lanes past ``count`` hold the
    integers that would follow)."""
    n_inputs = check_int(n_inputs, "n_inputs", minimum=0)
    start, count = check_range(n_inputs, start, count)
    high = start >> 6
    n_limbs = max(1, -(-max(n_inputs - 6, 1) // 64), -(-high.bit_length() // 64))
    limbs = np.frombuffer(high.to_bytes(8 * n_limbs, "little"), dtype="<u8").astype(np.uint64)
    return _core.circuit_range_inputs(limbs, start & 63, n_inputs, -(-count // 64), _threads(threads))


def random_input_words(n_inputs: int, first: int, count: int, *, seed: int = 0, threads: int | None = None) -> np.ndarray:
    """Packed random input words of random vectors first .. first + count - 1 (``first`` a multiple of
    64): shape (n_inputs, ⌈count/64⌉). Word k, input bits 2p and 2p + 1 come from one Philox4x32-10
    call with counter (first/64 + k, p, purpose) keyed by ``seed``."""
    n_inputs = check_int(n_inputs, "n_inputs", minimum=0)
    first = check_int(first, "first", minimum=0, maximum=2**70)
    count = check_int(count, "count", minimum=0)
    if first % 64:
        raise ValueError(f"first must be a multiple of 64 (random vectors come in words of 64), got {first}")
    if first // 64 + -(-count // 64) > 2**64:
        raise ValueError(f"random vectors are numbered below 2**70, got first={first}, count={count}")
    return _core.circuit_random_inputs(check_seed(seed), first // 64, n_inputs, -(-count // 64), _threads(threads))


def _mask_tail(words: np.ndarray, count: int) -> np.ndarray:
    """Zero the lanes of the last word that lie past `count` vectors."""
    if count % 64 and words.shape[1]:
        words[:, -1] &= np.uint64((1 << (count % 64)) - 1)
    return words


def evaluate_range(circuit: Circuit, start: Any = 0, count: Any = None, *, chunk: Any = DEFAULT_CHUNK,
                   schedule: str = "batch", threads: int | None = None) -> np.ndarray:
    """See :meth:`Circuit.evaluate_range`."""
    start, count = check_range(circuit.n_inputs, start, count)
    chunk = check_chunk(chunk)
    out = np.zeros((circuit.n_outputs, -(-count // 64)), dtype=np.uint64)
    for offset, size in pieces(count, chunk):
        words = range_input_words(circuit.n_inputs, start + offset, size, threads=threads)
        k = offset // 64
        out[:, k : k + words.shape[1]] = circuit.evaluate_packed(words, schedule=schedule, threads=threads)
    return _mask_tail(out, count)


def merge_pattern_counts(parts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sum pattern counts ``(patterns, counts)`` from several ranges into one sorted pair."""
    parts = list(parts)
    if not parts:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    patterns = np.concatenate([np.asarray(p, dtype=np.uint64) for p, _ in parts])
    counts = np.concatenate([np.asarray(c, dtype=np.int64) for _, c in parts])
    order = np.argsort(patterns, kind="stable")
    patterns, counts = patterns[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], patterns[1:] != patterns[:-1]]))
    if not starts.size:
        return patterns, counts
    return patterns[starts], np.add.reduceat(counts, starts)


def count_output_patterns(circuit: Circuit, start: Any = 0, count: Any = None, *, chunk: Any = DEFAULT_CHUNK,
                          schedule: str = "batch", threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """See :meth:`Circuit.count_output_patterns`."""
    n_out = circuit.n_outputs
    if n_out > 64:
        raise ValueError(f"output patterns are counted as 64-bit integers, but the circuit has {n_out} output bits")
    start, count = check_range(circuit.n_inputs, start, count)
    chunk = check_chunk(chunk)
    t = _threads(threads)
    dense = np.zeros(1 << n_out, dtype=np.uint64) if n_out <= DENSE_OUTPUTS else None
    parts = []
    for offset, size in pieces(count, chunk):
        words = range_input_words(circuit.n_inputs, start + offset, size, threads=threads)
        res = circuit.evaluate_packed(words, schedule=schedule, threads=threads)
        if dense is not None:
            _core.circuit_pattern_histogram(res, size, dense)
        else:
            parts.append(np.unique(_core.circuit_pattern_values(res, size, t), return_counts=True))
    if dense is not None:
        nonzero = np.flatnonzero(dense)
        return nonzero.astype(np.uint64), dense[nonzero].astype(np.int64)
    return merge_pattern_counts(parts)


# ---- equivalence ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Equivalence:
    """The answer of :func:`deepcheap_native.circuits.equivalent`.

    ``method`` is "exhaustive" (every input was compared: a proof) or "random" (``vectors`` random
    inputs of the 2**input_bits were compared: evidence). In a boolean context only a proof answers:
    an exhaustive check is true exactly when the circuits are equivalent, a counterexample (either
    method) is false, and a random check that found no difference raises TypeError, because "no
    difference in 10^6 of 2^32 inputs" is not "equivalent": read ``proved`` (False there),
    ``equivalent`` (no difference found) and ``coverage`` instead. ``vectors`` counts the inputs compared in enumeration order up to
    and including the counterexample, or all of them. ``index`` is the counterexample's place in that
    order (its input integer when exhaustive, its random vector number otherwise), ``inputs`` the
    integer x whose bit i is input bit i, ``counterexample`` the input values (per input width of the
    first circuit) and ``outputs`` the two circuits' output values there.
    """

    equivalent: bool
    method: str
    vectors: int
    index: int | None = None
    inputs: int | None = None
    counterexample: tuple[int, ...] | None = None
    outputs: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    input_bits: int = 0  #: input bits of the circuits: the space holds 2**input_bits inputs
    seed: int | None = None  #: the random check's seed (drawn when seed=None); None when exhaustive

    @property
    def proved(self) -> bool:
        """True when every input was compared and none differed: the circuits are equivalent."""
        return self.equivalent and self.method == "exhaustive"

    @property
    def coverage(self) -> float:
        """The fraction of the 2**input_bits inputs compared (1.0 for an exhaustive check)."""
        return min(1.0, self.vectors / 2.0**self.input_bits)

    def __bool__(self) -> bool:
        if self.equivalent and self.method != "exhaustive":
            raise TypeError(
                f"a random check found no difference in {self.vectors:,} of the 2^{self.input_bits} inputs "
                f"(coverage {self.coverage:.3g}): evidence, not a proof, so it has no truth value; read "
                ".proved (False), .equivalent (no difference found), or raise exhaustive_bits to prove it")
        return self.equivalent

    def __repr__(self) -> str:
        if self.equivalent:
            verdict = "proved" if self.proved else f"no difference in {self.vectors:,} random inputs of 2^{self.input_bits}"
            return f"Equivalence({verdict}, method={self.method!r})"
        return (f"Equivalence(differ, method={self.method!r}, inputs={self.inputs}, "
                f"counterexample={self.counterexample}, outputs={self.outputs})")


def check_pair(a: Any, b: Any) -> None:
    from .circuit import Circuit

    for name, c in (("a", a), ("b", b)):
        if not isinstance(c, Circuit):
            raise TypeError(f"{name} must be a Circuit, got {type(c).__name__}")
    if a.n_inputs != b.n_inputs or a.n_outputs != b.n_outputs:
        raise ValueError(
            f"circuits with different interfaces cannot be equivalent: a has {a.n_inputs} input and "
            f"{a.n_outputs} output bits, b has {b.n_inputs} and {b.n_outputs}"
        )


def plan_equivalence(a: Circuit, exhaustive_bits: Any, samples: Any) -> tuple[str, int]:
    """("exhaustive", 2^n) when the input space has at most 2^exhaustive_bits inputs, else ("random", samples)."""
    k = check_int(exhaustive_bits, "exhaustive_bits", minimum=0, maximum=61)
    if a.n_inputs <= k:
        return "exhaustive", 1 << a.n_inputs
    samples = check_int(samples, "samples", minimum=1, maximum=2**62 - 1)
    return "random", samples


def first_difference(a: Circuit, b: Circuit, method: str, start: int, count: int, *, seed: int = 0,
                     threads: int | None = None) -> int | None:
    """The first vector of [start, start + count) (input integers, or random vector numbers with
    ``start`` a multiple of 64) on which a and b differ, or None."""
    check_choice(method, "method", ("exhaustive", "random"))
    if count == 0:
        return None
    if method == "exhaustive":
        words = range_input_words(a.n_inputs, start, count, threads=threads)
    else:
        words = random_input_words(a.n_inputs, start, count, seed=seed, threads=threads)
    diff = a.evaluate_packed(words, threads=threads) ^ b.evaluate_packed(words, threads=threads)
    any_diff = _mask_tail(np.bitwise_or.reduce(diff, axis=0, keepdims=True), count)[0]
    hit = np.flatnonzero(any_diff)
    if not hit.size:
        return None
    k = int(hit[0])
    word = int(any_diff[k])
    return start + 64 * k + ((word & -word).bit_length() - 1)


def describe_difference(a: Circuit, b: Circuit, method: str, index: int | None, vectors: int, *,
                        seed: int = 0) -> Equivalence:
    """The Equivalence for a search whose first counterexample is at `index` (None: none in `vectors`)."""
    if index is None:
        return Equivalence(True, method, vectors, input_bits=a.n_inputs, seed=seed if method == 'random' else None)
    if method == "exhaustive":
        x = index
    else:
        lane = index % 64
        words = random_input_words(a.n_inputs, index - lane, 64, seed=seed)[:, 0]
        x = sum(((int(w) >> lane) & 1) << i for i, w in enumerate(words))
    values = []
    offset = 0
    for w in a.input_widths:
        values.append((x >> offset) & ((1 << w) - 1))
        offset += w

    def outputs(c: Circuit) -> tuple[int, ...]:
        r = c.evaluate(*values) if values else ()
        return r if isinstance(r, tuple) else (r,)

    if values:
        out_a, out_b = outputs(a), outputs(b)
    else:  # no inputs: the single (empty) vector
        bits = np.zeros((1, 0), bool)
        out_a = tuple(int(v) for v in a.evaluate_bits(bits)[0])
        out_b = tuple(int(v) for v in b.evaluate_bits(bits)[0])
    return Equivalence(False, method, index + 1, index, x, tuple(values), (out_a, out_b), input_bits=a.n_inputs,
                       seed=seed if method == "random" else None)


def equivalent(a: Circuit, b: Circuit, *, exhaustive_bits: int = 24, samples: int = 1 << 20, seed: int | None = None,
               chunk: int = DEFAULT_CHUNK, threads: int | None = None) -> Equivalence:
    """See :func:`deepcheap_native.circuits.equivalent`."""
    check_pair(a, b)
    method, total = plan_equivalence(a, exhaustive_bits, samples)
    seed = resolve_seed(seed)
    chunk = check_chunk(chunk)
    for offset, size in pieces(total, chunk):
        index = first_difference(a, b, method, offset, size, seed=seed, threads=threads)
        if index is not None:
            return describe_difference(a, b, method, index, total, seed=seed)
    return describe_difference(a, b, method, None, total, seed=seed)
