"""Circuit generators: the same function in different shapes (deep and narrow versus shallow and
wide), for the serial-depth-versus-parallel-width experiments of DESIGN.md §1.3.

Adders take two n-bit values and return their (n+1)-bit sum; multipliers return the 2n-bit product;
sorters take n values of ``bits`` bits and return them in ascending order. ``chain`` and ``parallel``
stack copies of any circuit in depth or in width.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..core.validate import check_int
from .circuit import Circuit, CircuitBuilder, ParseError
from .space import Equivalence

__all__ = [
    "BRISTOL_CIRCUITS",
    "Equivalence",
    "ParseError",
    "array_multiplier",
    "bitonic_sorter",
    "bristol",
    "brent_kung_adder",
    "chain",
    "dadda_multiplier",
    "equivalent",
    "kogge_stone_adder",
    "odd_even_merge_sorter",
    "parallel",
    "parity_chain",
    "parity_tree",
    "ripple_carry_adder",
    "sklansky_adder",
]


# The Bristol Fashion set (mkskeller/bristol-fashion at cdd5927) shipped with the package; the
# installed data/bristol/SOURCE.md gives provenance, format, bit order and udivide64's known fault.
BRISTOL_CIRCUITS = (
    "adder64", "aes_128", "aes_192", "aes_256", "divide64", "mult2_64", "mult64", "neg64",
    "sha256", "sub64", "udivide64", "zero_equal",
)


def installed_bristol_folder() -> Path:
    """The folder of the Bristol circuits installed with the package: deepcheap_native/data/bristol,
    looked up on the package's path (an editable install keeps the built data beside the sources)."""
    package = sys.modules[__name__.partition(".")[0]]  # deepcheap_native, already imported (no upward import)
    folders = [Path(entry) / "data" / "bristol" for entry in package.__path__]
    return next((f for f in folders if f.is_dir()), folders[0])


def bristol(name: str, directory: str | os.PathLike | None = None) -> Circuit:
    """Load one of the published Bristol Fashion circuits that ship with the package.

    Parameters
    ----------
    name : str
        One of ``BRISTOL_CIRCUITS``, e.g. ``"sha256"`` (135,073 gates, depth 5,332) or ``"aes_128"``.
    directory : path, optional
        A folder of Bristol Fashion files to read instead of the installed copy: ``<name>.txt``,
        ``<name>.txt.xz`` or ``<name>.txt.gz``. The installed copy is xz-compressed (1.31 MB for
        the twelve circuits, 9.19 MB as text; gzip -9 would be 2.41 MB) and decompressed on read.

    Returns
    -------
    Circuit
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {', '.join(BRISTOL_CIRCUITS)}; got {type(name).__name__}")
    if name not in BRISTOL_CIRCUITS:
        raise ValueError(f"name must be one of {', '.join(BRISTOL_CIRCUITS)}, got {name!r}")
    folder = installed_bristol_folder() if directory is None else Path(directory)
    return Circuit.from_bristol(_bristol_file(folder, name, directory))


_SUFFIXES = (".txt", ".txt.xz", ".txt.gz")


def _bristol_file(folder: Path, name: str, directory: object) -> Path:
    for suffix in _SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    where = (
        "the Bristol circuits are installed by the package build (pip install .); a source checkout "
        "has them under data/bristol"
        if directory is None
        else "the folder should hold <name>.txt, <name>.txt.xz or <name>.txt.gz"
    )
    raise FileNotFoundError(f"no {name}.txt[.xz|.gz] in {folder}: {where}")


def bristol_folder(directory: str | os.PathLike | None = None) -> Path:
    """The folder :func:`bristol` reads: ``directory``, or the installed copy when None. A folder that
    holds none of ``BRISTOL_CIRCUITS`` is a FileNotFoundError saying where the circuits come from."""
    folder = installed_bristol_folder() if directory is None else Path(directory)
    if not any((folder / f"{name}{suffix}").is_file() for name in BRISTOL_CIRCUITS for suffix in _SUFFIXES):
        _bristol_file(folder, "sha256", directory)  # raises, naming the folder and where circuits come from
    return folder


# ------------------------------------------------------------------------------- building blocks
def _full_adder(b: CircuitBuilder, x: int, y: int, z: int) -> tuple[int, int]:
    p = b.xor(x, y)
    return b.xor(p, z), b.xor(b.and_(x, y), b.and_(p, z))  # the two carry terms never both hold


def _half_adder(b: CircuitBuilder, x: int, y: int) -> tuple[int, int]:
    return b.xor(x, y), b.and_(x, y)


def _ripple_add(b: CircuitBuilder, xs: list[int], ys: list[int]) -> list[int]:
    """Sum of two equal-length bit lists, with the carry out as the last bit."""
    out = []
    carry = None
    for x, y in zip(xs, ys):
        if carry is None:
            s, carry = _half_adder(b, x, y)
        else:
            s, carry = _full_adder(b, x, y, carry)
        out.append(s)
    return out + [carry]


def _prefix_add(b: CircuitBuilder, xs: list[int], ys: list[int], pairs_by_level) -> list[int]:
    """Parallel-prefix adder: ``pairs_by_level`` lists, per level, the (i, j) with (G,P)_i ∘= (G,P)_j."""
    n = len(xs)
    g = [b.and_(x, y) for x, y in zip(xs, ys)]
    p = [b.xor(x, y) for x, y in zip(xs, ys)]
    big_g, big_p = list(g), list(p)
    for pairs in pairs_by_level:
        new_g, new_p = list(big_g), list(big_p)
        for i, j in pairs:
            new_g[i] = b.or_(big_g[i], b.and_(big_p[i], big_g[j]))
            new_p[i] = b.and_(big_p[i], big_p[j])
        big_g, big_p = new_g, new_p
    return [p[0]] + [b.xor(p[i], big_g[i - 1]) for i in range(1, n)] + [big_g[n - 1]]


def _adder(n: int, pairs_by_level=None) -> Circuit:
    n = check_int(n, "n", minimum=1)
    b = CircuitBuilder()
    xs, ys = b.inputs(n), b.inputs(n)
    b.outputs(_ripple_add(b, xs, ys) if pairs_by_level is None else _prefix_add(b, xs, ys, pairs_by_level(n)))
    return b.build()


def ripple_carry_adder(n: int) -> Circuit:
    """n-bit ripple-carry adder: inputs a, b (n bits), output a + b (n + 1 bits); depth ≈ 2n."""
    return _adder(n)


def _kogge_stone_pairs(n: int):
    d = 1
    while d < n:
        yield [(i, i - d) for i in range(d, n)]
        d *= 2


def _sklansky_pairs(n: int):
    d = 1
    while d < n:
        yield [(i, (i // (2 * d)) * (2 * d) + d - 1) for i in range(n) if i & d]
        d *= 2


def _brent_kung_pairs(n: int):
    d = 1
    while d < n:  # up-sweep: a binary tree of spans
        yield [(i, i - d) for i in range(2 * d - 1, n, 2 * d)]
        d *= 2
    d //= 2
    while d >= 1:  # down-sweep: fill in the missing prefixes
        pairs = [(i, i - d) for i in range(3 * d - 1, n, 2 * d)]
        if pairs:
            yield pairs
        d //= 2


def kogge_stone_adder(n: int) -> Circuit:
    """Kogge–Stone prefix adder: depth ≈ 2·log₂ n, about n·log₂ n prefix cells (widest)."""
    return _adder(n, _kogge_stone_pairs)


def sklansky_adder(n: int) -> Circuit:
    """Sklansky (divide-and-conquer) prefix adder: depth ≈ 2·log₂ n, (n/2)·log₂ n cells, high fan-out."""
    return _adder(n, _sklansky_pairs)


def brent_kung_adder(n: int) -> Circuit:
    """Brent–Kung prefix adder: depth ≈ 4·log₂ n, fewer than 2n cells (narrowest of the three)."""
    return _adder(n, _brent_kung_pairs)


def parity_chain(n: int) -> Circuit:
    """XOR of n bits (one n-bit input value) as a chain: n − 1 gates, depth n − 1."""
    n = check_int(n, "n", minimum=2)
    b = CircuitBuilder()
    xs = b.inputs(n)
    acc = xs[0]
    for x in xs[1:]:
        acc = b.xor(acc, x)
    b.outputs([acc])
    return b.build()


def parity_tree(n: int) -> Circuit:
    """XOR of n bits as a balanced tree: n − 1 gates, depth ⌈log₂ n⌉."""
    n = check_int(n, "n", minimum=2)
    b = CircuitBuilder()
    layer = b.inputs(n)
    while len(layer) > 1:
        nxt = [b.xor(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    b.outputs(layer)
    return b.build()


def _partial_products(b: CircuitBuilder, xs: list[int], ys: list[int]) -> list[list[int]]:
    return [[b.and_(x, y) for x in xs] for y in ys]  # row i: a · b_i, to be shifted by i


def array_multiplier(n: int) -> Circuit:
    """n × n → 2n-bit array multiplier: partial-product rows added one after another (depth O(n))."""
    n = check_int(n, "n", minimum=1)
    b = CircuitBuilder()
    xs, ys = b.inputs(n), b.inputs(n)
    rows = _partial_products(b, xs, ys)
    product = [rows[0][0]]
    acc = rows[0][1:]  # the running sum, shifted right by the bits already final
    for i in range(1, n):
        row = rows[i]
        if len(acc) < n:
            acc = acc + [b.const(0)] * (n - len(acc))
        total = _ripple_add(b, acc, row)  # n + 1 bits
        product.append(total[0])
        acc = total[1:]
    product += acc
    b.outputs(product[: 2 * n] if len(product) >= 2 * n else product + [b.const(0)] * (2 * n - len(product)))
    return b.build()


def dadda_multiplier(n: int) -> Circuit:
    """n × n → 2n-bit Dadda multiplier: column compression to two rows, then a Sklansky adder (depth O(log n))."""
    n = check_int(n, "n", minimum=1)
    b = CircuitBuilder()
    xs, ys = b.inputs(n), b.inputs(n)
    cols: list[list[int]] = [[] for _ in range(2 * n)]
    for i, row in enumerate(_partial_products(b, xs, ys)):
        for j, w in enumerate(row):
            cols[i + j].append(w)
    heights = [2]
    while heights[-1] < max(len(c) for c in cols):
        heights.append(heights[-1] * 3 // 2)
    def reduce_to(d: int) -> None:
        nonlocal cols
        new_cols: list[list[int]] = [[] for _ in range(2 * n + 1)]
        for c in range(2 * n):
            old = list(cols[c])
            while len(old) + len(new_cols[c]) > d:
                if len(old) + len(new_cols[c]) - d >= 2 and len(old) >= 3:
                    s, carry = _full_adder(b, old.pop(), old.pop(), old.pop())
                elif len(old) >= 2:
                    s, carry = _half_adder(b, old.pop(), old.pop())
                else:
                    break
                new_cols[c].append(s)
                new_cols[c + 1].append(carry)
            new_cols[c] = old + new_cols[c]
        cols = new_cols[: 2 * n]  # the product fits in 2n bits: carries out of the top are zero

    for d in reversed(heights[:-1]):
        reduce_to(d)
    while max(len(c) for c in cols) > 2:  # never needed for Dadda's heights; a safety net
        reduce_to(2)
    zero = None
    row_a, row_b = [], []
    for c in cols:
        if len(c) < 2 and zero is None:
            zero = b.const(0)
        row_a.append(c[0] if c else zero)
        row_b.append(c[1] if len(c) > 1 else zero)
    total = _prefix_add(b, row_a, row_b, list(_sklansky_pairs(2 * n)))
    b.outputs(total[: 2 * n])
    return b.build()


# ------------------------------------------------------------------------------- sorting networks
def _less_than(b: CircuitBuilder, x: list[int], y: list[int]) -> int:
    lt = b.and_(b.not_(x[0]), y[0])
    for xi, yi in zip(x[1:], y[1:]):
        lt = b.or_(b.and_(b.not_(xi), yi), b.and_(b.xnor(xi, yi), lt))
    return lt


def _compare_exchange(b: CircuitBuilder, vals: list[list[int]], i: int, j: int, ascending: bool = True) -> None:
    # Swap when the pair is out of order: vals[j] < vals[i] (ascending) or vals[i] < vals[j].
    lt = _less_than(b, vals[j], vals[i]) if ascending else _less_than(b, vals[i], vals[j])
    lo = [b.mux(lt, yj, xi) for xi, yj in zip(vals[i], vals[j])]
    hi = [b.mux(lt, xi, yj) for xi, yj in zip(vals[i], vals[j])]
    vals[i], vals[j] = lo, hi


def _sorter_inputs(n: int, bits: int) -> tuple[CircuitBuilder, list[list[int]]]:
    n = check_int(n, "n", minimum=1)
    bits = check_int(bits, "bits", minimum=1)
    if n & (n - 1):
        raise ValueError(f"n must be a power of two, got {n}")
    b = CircuitBuilder()
    return b, [b.inputs(bits) for _ in range(n)]


def bitonic_sorter(n: int, bits: int) -> Circuit:
    """Bitonic sorting network of n (a power of two) unsigned ``bits``-bit values, ascending."""
    b, vals = _sorter_inputs(n, bits)
    k = 2
    while k <= n:
        j = k // 2
        while j >= 1:
            for i in range(n):
                partner = i ^ j
                if partner > i:
                    _compare_exchange(b, vals, i, partner, ascending=(i & k) == 0)
            j //= 2
        k *= 2
    for v in vals:
        b.outputs(v)
    return b.build()


def odd_even_merge_sorter(n: int, bits: int) -> Circuit:
    """Batcher's odd–even merge sorting network of n (a power of two) ``bits``-bit values, ascending."""
    b, vals = _sorter_inputs(n, bits)
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        _compare_exchange(b, vals, i + j, i + j + k)
            k //= 2
        p *= 2
    for v in vals:
        b.outputs(v)
    return b.build()


# ------------------------------------------------------------------------------- depth and width
def _remapped(c: Circuit, wire_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    in0, in1 = c.in0.astype(np.int64), c.in1.astype(np.int64)
    a = np.where(in0 >= 0, wire_map[np.maximum(in0, 0)], -1)
    b = np.where(in1 >= 0, wire_map[np.maximum(in1, 0)], -1)
    return a, b, wire_map[c.outputs.astype(np.int64)]


def chain(circuit: Circuit, t: int, feed: int | None = None) -> Circuit:
    """t copies of ``circuit`` in series: copy k's outputs feed copy k+1's inputs (depth grows ∝ t).

    The outputs, concatenated, replace the input values ``feed, feed+1, ...`` (whose widths must add
    up to the output width); the other input values are shared by every copy. The default ``feed`` is
    the first index from which the remaining input widths add up to the output width: for sha256
    (block, state) → state, the state is fed and the block is shared, a hash chain.
    """
    t = check_int(t, "t", minimum=1)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    widths = circuit.input_widths
    if feed is None:
        for k in range(len(widths)):
            if sum(widths[k:]) == circuit.n_outputs:
                feed = k
                break
        else:
            raise ValueError(
                f"no tail of the input values (widths {list(widths)}) has the output width {circuit.n_outputs}; "
                "chain() feeds each copy's outputs into the next copy's last input values"
            )
    feed = check_int(feed, "feed", minimum=0, maximum=max(len(widths) - 1, 0))
    fed_start = sum(widths[:feed])
    if sum(widths[feed:]) != circuit.n_outputs:
        raise ValueError(
            f"input values {feed}.. have {sum(widths[feed:])} bits but the circuit has {circuit.n_outputs} output bits"
        )
    n_in, g = circuit.n_inputs, circuit.n_gates
    ops, a_all, b_all = [], [], []
    prev_out = np.arange(fed_start, n_in, dtype=np.int64)  # copy 0 reads the real inputs
    out = prev_out
    for k in range(t):
        wire_map = np.concatenate([np.arange(fed_start, dtype=np.int64), prev_out, n_in + k * g + np.arange(g, dtype=np.int64)])
        a, b, out = _remapped(circuit, wire_map)
        ops.append(circuit.ops)
        a_all.append(a)
        b_all.append(b)
        prev_out = out
    return Circuit(np.concatenate(ops), np.concatenate(a_all), np.concatenate(b_all), out, widths, circuit.output_widths)


def parallel(circuit: Circuit, t: int) -> Circuit:
    """t independent copies of ``circuit`` side by side (width grows ∝ t, depth unchanged).

    Input values: copy 0's values, then copy 1's, ...; outputs likewise.
    """
    t = check_int(t, "t", minimum=1)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    n_in, g = circuit.n_inputs, circuit.n_gates
    ops, a_all, b_all, outs = [], [], [], []
    for k in range(t):
        wire_map = np.concatenate([k * n_in + np.arange(n_in, dtype=np.int64), t * n_in + k * g + np.arange(g, dtype=np.int64)])
        a, b, out = _remapped(circuit, wire_map)
        ops.append(circuit.ops)
        a_all.append(a)
        b_all.append(b)
        outs.append(out)
    return Circuit(
        np.concatenate(ops),
        np.concatenate(a_all),
        np.concatenate(b_all),
        np.concatenate(outs),
        circuit.input_widths * t,
        circuit.output_widths * t,
    )


def equivalent(a: Circuit, b: Circuit, *, exhaustive_bits: int = 24, samples: int = 1 << 20, seed: int | None = None,
               chunk: int = 1 << 18, threads: int | None = None) -> Equivalence:
    """Whether two circuits compute the same function, and the first input on which they differ.

    Exhaustive (a proof) when the input space has at most 2**exhaustive_bits inputs: inputs are
    compared in truth-table order, ``chunk`` at a time, and the search stops at the first chunk with a
    difference. Beyond that, ``samples`` random inputs (Philox keyed by ``seed``, numbered so that any
    split gives the same inputs) are compared in order. Both circuits must have the same numbers of
    input and output bits.

    Returns
    -------
    :class:`Equivalence`: ``proved`` when the exhaustive check found no difference; ``equivalent``
    when no difference was found (by either method); otherwise ``counterexample`` (input values per
    input width of ``a``), ``inputs`` (the input integer), ``index`` and ``outputs``. Its truth value is
    the proof: true only for an exhaustive check without difference, false for a counterexample, and a
    TypeError for a random check without one (evidence is not a proof; ``coverage`` says how much of the
    2**input_bits inputs it saw).
    """
    from . import space as circuit_space

    return circuit_space.equivalent(a, b, exhaustive_bits=exhaustive_bits, samples=samples, seed=seed,
                                    chunk=chunk, threads=threads)

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
