"""The capability census (mechanical learning; DESIGN.md §1.4): how many boolean functions one
threshold unit, a depth-2 threshold network with k hidden units, and a full unit realise.

Definitions
-----------
A *threshold unit* computes ``[w·x >= t]`` on ``x ∈ {0,1}ⁿ`` with real ``w, t`` (constant functions
included). A *depth-2 threshold network with k hidden units* computes ``[v·h(x) >= s]`` with
``h_j(x) = [w_j·x >= t_j]``. A *full* n-input unit realises all ``2^(2^n)`` functions. Truth tables
index ``x`` by ``Σ x_i 2^i``: entry (or bit) ``x`` of a table is ``f(x)``.

How it is counted
-----------------
Every threshold function has an integer realisation with ``|w_i| <= (n+1)^((n+1)/2) / 2^n``
(Muroga, Toda & Takasu 1961). The native core walks all non-increasing weight vectors within that bound
(the canonical representatives of the positive functions, one per permutation class) and counts
``n!/∏(class sizes!) · 2^(relevant inputs)`` functions for each: every permutation of the inputs and
every negation of a relevant input gives a distinct threshold function. ``is_threshold`` solves a
small linear program to find a basis, re-solves it in exact integer arithmetic and checks the
realisation (or a certificate that none exists) exactly. Depth-2 counts enumerate networks up to input
permutations and negations with the output unit split on its last input.

Results never depend on the thread count (they are sets and counts), nor on how ``threshold_functions``
splits its work (``client=``, checkpoints).
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core
from ..core.arrays import to_numpy
from ..core.progress import progress_bar
from ..core.scaleout import Engine
from ..core.validate import call_threads, check_int, check_threads

__all__ = [
    "A000609",
    "depth2_functions",
    "estimate_seconds",
    "is_threshold",
    "max_weight",
    "min_hidden_units",
    "threshold_functions",
    "threshold_tables",
]

#: OEIS A000609: the number of threshold functions of n inputs (constants included), n = 0 … 7: the
#: published reference the counts meet (the one copy in the package; the report and benchmarks use it).
A000609 = (2, 4, 14, 104, 1882, 94572, 15028134, 8378070864)

#: Largest n each operation runs for.
MAX_COUNT_N = 7
MAX_TABLES_N = 6
MAX_TEST_N = 10
MAX_DEPTH2_N = 4

# Thread-seconds per (weight vector × 2ⁿ points), measured on the 2-core EPYC VM this was written on
# while it was shared with other jobs (load average about 20): n = 7 took 241 s and n = 6 0.21 s on
# 2 threads. The chain of tables and the hash-set inserts both scale with 2ⁿ. A quiet machine is faster,
# so the estimate errs on the long side.
_SECONDS_PER_VECTOR_POINT = 2.4e-7


def max_weight(n: int) -> int:
    """Muroga's bound: the largest integer ≤ (n+1)^((n+1)/2) / 2ⁿ (every threshold function of n inputs
    has an integer realisation with weights no larger in absolute value)."""
    n = check_int(n, "n", minimum=0)
    bound = (n + 1) ** (n + 1)
    m = math.isqrt(bound) >> n
    while ((m + 1) << n) ** 2 <= bound:
        m += 1
    while m > 0 and (m << n) ** 2 > bound:
        m -= 1
    return m


def _vector_count(n: int) -> int:
    """Non-increasing weight vectors in [0, max_weight(n)]ⁿ: C(M + n, n)."""
    return math.comb(max_weight(n) + n, n)


def estimate_seconds(n: int, threads: int | None = None) -> float:
    """Estimated wall time of ``threshold_functions(n)`` on this kind of machine with `threads` threads
    (default: the package's thread count): weight vectors × 2ⁿ × a per-point cost measured here."""
    n = check_int(n, "n", minimum=0)
    threads = check_threads(threads) or _core.get_num_threads()
    return _vector_count(n) * 2.0**n * _SECONDS_PER_VECTOR_POINT / threads


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _canonical_batch(n: int, begin: int, end: int, threads: int | None = None) -> np.ndarray:
    """Canonical tables of items [begin, end): a pure function, so any executor may run it (on
    ``threads`` threads of the process that runs it; None: that process's setting)."""
    from deepcheap_native import _core as core

    with call_threads(threads):
        return core.census_canonical(n, begin, end)


def _union(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Sorted distinct rows of (k, 2) uint64 tables."""
    joined = np.concatenate([np.asarray(p, dtype=np.uint64).reshape(-1, 2) for p in parts]) if parts else \
        np.zeros((0, 2), np.uint64)
    rows = np.ascontiguousarray(joined).view([("lo", np.uint64), ("hi", np.uint64)]).reshape(-1)
    unique = np.unique(rows)  # sorted by (lo, hi); order does not matter to the count
    return unique.view(np.uint64).reshape(-1, 2).copy()


#: Format of the checkpoint files ``threshold_functions(checkpoint=...)`` writes (1: before the checksum).
CHECKPOINT_FORMAT = 2


def _checkpoint_digest(n: int, pieces: np.ndarray, next_piece: int, canonical: np.ndarray) -> str:
    """SHA-256 of everything a checkpoint claims (format, n, the batch plan, the next batch, the tables)."""
    digest = hashlib.sha256(f"deepcheap census checkpoint {CHECKPOINT_FORMAT} n={n} next={next_piece};".encode())
    digest.update(np.ascontiguousarray(pieces, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(canonical, dtype="<u8").tobytes())
    return digest.hexdigest()


def _save_checkpoint(path: Path, n: int, pieces: list[tuple[int, int]], next_piece: int,
                     canonical: np.ndarray) -> None:
    plan = np.asarray(pieces, dtype=np.int64).reshape(-1, 2)
    np.savez(path, format=CHECKPOINT_FORMAT, n=n, pieces=plan, next_piece=next_piece, canonical=canonical,
             checksum=np.str_(_checkpoint_digest(n, plan, next_piece, canonical)))


def _load_checkpoint(path: Path, n: int, pieces: list[tuple[int, int]]) -> tuple[int, np.ndarray]:
    """(next_piece, canonical tables) of a checkpoint file, after checking that it is one (format,
    checksum, dtypes and shapes, sorted distinct tables of n inputs) and that it belongs to this run (n
    and the batch plan). Anything else is a ValueError naming the file and what is wrong."""
    where = f"checkpoint {str(path)!r}"
    fix = "; delete it to start the count over"
    keys = ("format", "n", "pieces", "next_piece", "canonical", "checksum")
    try:
        with open(path, "rb") as f:  # our handle: closed whatever np.load makes of the file
            saved = np.load(f, allow_pickle=False)  # never unpickles: a foreign file cannot run code
            if not isinstance(saved, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not an .npz archive")
            with saved:
                missing = [k for k in keys if k not in saved.files]
                if missing:
                    raise ValueError(f"lacks {', '.join(missing)}")
                arrays = {k: saved[k] for k in keys}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"{where} is not a readable census checkpoint ({error}){fix}") from None

    def scalar(name: str, kind: str) -> Any:
        a = arrays[name]
        if a.shape != () or a.dtype.kind not in kind:
            raise ValueError(f"{where} has {name} of dtype {a.dtype} and shape {a.shape}, expected a scalar{fix}")
        return a.item()

    version = scalar("format", "iu")
    if version != CHECKPOINT_FORMAT:
        raise ValueError(f"{where} has format {version}, but this version reads format {CHECKPOINT_FORMAT}{fix}")
    saved_n, next_piece, checksum = scalar("n", "iu"), scalar("next_piece", "iu"), scalar("checksum", "U")
    plan, canonical = arrays["pieces"], arrays["canonical"]
    if plan.dtype != np.int64 or plan.ndim != 2 or plan.shape[1:] != (2,):
        raise ValueError(f"{where} has pieces of dtype {plan.dtype} and shape {plan.shape}, expected int64 "
                         f"(batches, 2){fix}")
    if canonical.dtype != np.uint64 or canonical.ndim != 2 or canonical.shape[1:] != (2,):
        raise ValueError(f"{where} has canonical tables of dtype {canonical.dtype} and shape {canonical.shape}, "
                         f"expected uint64 (k, 2){fix}")
    if checksum != _checkpoint_digest(saved_n, plan, next_piece, canonical):
        raise ValueError(f"{where} fails its checksum: its content was changed or cut after it was written{fix}")
    if saved_n != n or [tuple(b) for b in plan.tolist()] != pieces:
        raise ValueError(f"{where} belongs to another run (n = {saved_n}, {len(plan)} batches), not n = {n} "
                         f"with {len(pieces)} batches")
    if not 0 <= next_piece <= len(pieces):
        raise ValueError(f"{where} has next_piece {next_piece}, expected 0 <= next_piece <= {len(pieces)}{fix}")
    if next_piece > 0 and len(canonical) == 0:  # every batch of weight vectors realises some function
        raise ValueError(f"{where} has no canonical tables after {next_piece} batches{fix}")
    lo, hi = canonical[:, 0], canonical[:, 1]
    if n < 7 and (hi.any() or (n < 6 and (lo >> np.uint64(1 << n)).any())):
        raise ValueError(f"{where} holds tables wider than the 2^{n} bits of {n} inputs{fix}")
    ascending = (lo[1:] > lo[:-1]) | ((lo[1:] == lo[:-1]) & (hi[1:] > hi[:-1]))
    if not ascending.all():
        raise ValueError(f"{where} has canonical tables that are not sorted and distinct (row "
                         f"{int(np.argmin(ascending)) + 1}){fix}")
    return int(next_piece), canonical


def threshold_functions(n: int, *, progress: Any = None, checkpoint: str | os.PathLike[str] | None = None,
                        client: Any = None, max_seconds: float | None = 120.0,
                        batches: int | None = None, threads: int | None = None) -> int:
    """The number of boolean functions of n inputs one threshold unit realises (OEIS A000609).

    Parameters
    ----------
    n : 0 … 7. n ≤ 6 takes well under a second; n = 7 is a long run (see `estimate_seconds`).
    progress : the package's progress contract (:func:`~deepcheap_native.core.progress.progress_bar`):
        True for a tqdm bar (when tqdm is installed), a callable(done, total) or a bar with ``update``,
        in weight vectors.
    checkpoint : a file (.npz): the canonical tables found so far and the next batch are saved after
        every batch, and a run given the same file resumes from it.
    client : a dask.distributed.Client, any concurrent.futures.Executor (anything with ``submit``),
        "sync" or a scheduler address (:func:`~deepcheap_native.distributed.get_client`): the batches
        run there instead of in this process. The result is the same.
    max_seconds : refuse (ValueError, with the estimated time) a count estimated to take longer;
        None runs whatever the estimate.
    batches : number of independent pieces the work is cut into (default: 1 for n ≤ 6, 64 for n = 7).
    threads : CPU threads per batch (None: :func:`~deepcheap_native.set_num_threads` of the process
        running the batch; with ``client``, the worker's). The count does not depend on it.

    Raises ValueError for n out of range, and for counts estimated to take longer than max_seconds.
    """
    n = check_int(n, "n", minimum=0)
    threads = check_threads(threads)
    on = threads or _core.get_num_threads()  # the count the estimates are for
    if n > MAX_COUNT_N:
        raise ValueError(
            f"threshold_functions({n}) would take about {_duration(estimate_seconds(n, on))} ({_vector_count(n):.3g} "
            f"weight vectors of 2^{n} points) on {on} threads here; this implementation "
            f"counts n <= {MAX_COUNT_N}")
    if max_seconds is not None:
        if isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real):
            raise TypeError(f"max_seconds must be a number or None, got {type(max_seconds).__name__}")
        estimate = estimate_seconds(n, on)
        if estimate > max_seconds:
            raise ValueError(
                f"threshold_functions({n}) would take about {_duration(estimate)} on {on} "
                f"threads ({_vector_count(n):,} weight vectors of 2^{n} points), more than max_seconds="
                f"{max_seconds}; pass max_seconds=None to run it (with progress=True and checkpoint=... to "
                "watch and resume it)")
    items = int(_core.census_item_count(n))
    if batches is None:
        batches = 64 if n >= 7 else 1
    batches = check_int(batches, "batches", minimum=1)
    # Cut the items into batches of about equal numbers of weight vectors (the items are very uneven).
    sizes = [int(_core.census_vector_count(n, i, i + 1)) for i in range(items)]
    total = sum(sizes)
    bounds = [0]
    acc = 0
    for i, size in enumerate(sizes):
        acc += size
        if acc * batches >= total * len(bounds) and i + 1 < items:
            bounds.append(i + 1)
    bounds.append(items)
    pieces = list(zip(bounds[:-1], bounds[1:]))

    found: list[np.ndarray] = []
    start_piece = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        start_piece, canonical = _load_checkpoint(path, n, pieces)
        found.append(canonical)
    engine = Engine(client)  # client=None: the batches run here, one after another
    todo = pieces[start_piece:]
    weights = [int(_core.census_vector_count(n, b, e)) for b, e in todo]
    with progress_bar(progress, total, f"threshold functions n={n}", unit="vectors") as bar:
        bar.update(total - sum(weights))  # the batches a checkpoint already holds
        results = engine.map(_canonical_batch, [(n, b, e, threads) for b, e in todo], bar=bar, weights=weights)
        for index, part in enumerate(results, start=start_piece):
            found.append(np.asarray(part, dtype=np.uint64).reshape(-1, 2))
            if len(found) > 8 or path is not None:
                found = [_union(found)]
            if path is not None:
                tmp = path.with_name(path.name + ".tmp.npz")
                _save_checkpoint(tmp, n, pieces, index + 1, found[0])
                os.replace(tmp, path)
    canonical = _union(found)
    return int(_core.census_count(n, canonical))


def threshold_tables(n: int, *, threads: int | None = None) -> np.ndarray:
    """Every threshold function of n ≤ 6 inputs as a uint64 truth table (bit x is f(x)), sorted.

    len(threshold_tables(n)) == threshold_functions(n); n = 6 gives 15,028,134 tables (120 MB).
    ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
    tables do not depend on it.
    """
    n = check_int(n, "n", minimum=0, maximum=MAX_TABLES_N)
    with call_threads(threads):
        return _core.census_tables(n)


def _table_bytes(table: Any, n: int | None, largest: int) -> np.ndarray:
    """A truth table as 2ⁿ bytes of 0/1, from an array-like of 0/1 (length 2ⁿ) or an integer with n."""
    if isinstance(table, numbers.Integral) and not isinstance(table, bool):
        if n is None:
            raise TypeError("an integer table needs n= (the number of inputs)")
        n = check_int(n, "n", minimum=0, maximum=min(largest, 6))
        value = int(table)
        if value < 0 or value >= 1 << (1 << n):
            raise ValueError(f"table must be an integer in [0, 2**{1 << n}) for n = {n}, got {value}")
        return np.array([(value >> x) & 1 for x in range(1 << n)], dtype=np.uint8)
    arr, _ = to_numpy(table, "table")
    if arr.dtype.kind not in "biu":
        raise TypeError(f"table must hold 0/1 (bool or integer dtype), got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"table must be one-dimensional with 2**n entries, got shape {arr.shape}")
    size = arr.shape[0]
    if size == 0 or size & (size - 1) or size > 1 << largest:
        raise ValueError(f"table must have 2**n entries with n <= {largest}, got {size} entries")
    if n is not None and size != 1 << check_int(n, "n", minimum=0):
        raise ValueError(f"table has {size} entries but n = {n} needs {1 << n}")
    if arr.dtype.kind != "b" and ((arr != 0) & (arr != 1)).any():
        bad = int(np.argmax((arr != 0) & (arr != 1)))
        raise ValueError(f"table entries must be 0 or 1, but table[{bad}] is {arr[bad]}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def is_threshold(table: Any, *, n: int | None = None) -> tuple[tuple[int, ...], int] | None:
    """``None`` if the function is not a threshold function, else an integer realisation ``(w, t)``.

    table : 2ⁿ values 0/1 (n ≤ 10; numpy, torch or a list), entry x = f(x) with x = Σ x_i 2^i; or an
        integer truth table (bit x) together with ``n=`` (n ≤ 6).

    The realisation satisfies ``f(x) == (w·x >= t)`` at every point, checked in exact integer arithmetic
    before it is returned; ``None`` is returned only with an exactly checked certificate (an input the
    function is not monotone in, or convex combinations of true and false points that coincide).
    """
    arr = _table_bytes(table, n, MAX_TEST_N)
    return _core.census_is_threshold(arr)


_MIN_UNITS: dict[int, np.ndarray] = {}
# The depth-2 counts are computed up to this many hidden units (they reach every function of n ≤ 4
# inputs by then; n = 4 with 4 hidden units walks 5·10⁷ networks per output unit, 5 would be 2000× more).
_DEPTH2_KMAX = {0: 1, 1: 2, 2: 2, 3: 3, 4: 4}


def _min_units(n: int, progress: Any = None, threads: int | None = None) -> np.ndarray:
    if n not in _MIN_UNITS:  # computed once per process: the table does not depend on threads
        with progress_bar(progress, _DEPTH2_KMAX[n], f"depth-2 networks n={n}", unit="units") as bar:

            def report(done: int, total: int) -> None:
                bar.update(done - bar.done)

            with call_threads(threads):
                _MIN_UNITS[n] = _core.census_depth2_min_units(n, _DEPTH2_KMAX[n], report)
    return _MIN_UNITS[n]


def depth2_functions(n: int, k: int, *, progress: Any = None, threads: int | None = None) -> int:
    """The number of functions of n inputs that a depth-2 threshold network with k hidden units realises.

    n ≤ 4 for every k (the count reaches 2^(2^n) at the k that ``min_hidden_units`` reports as the
    largest); n = 5 for k ≤ 1 (k = 0: the two constants, k = 1: the threshold functions). Raises
    ValueError for anything else, saying why. ``threads``: CPU threads for this call (None:
    :func:`~deepcheap_native.set_num_threads`); the count does not depend on it.
    """
    n = check_int(n, "n", minimum=0, maximum=5)
    k = check_int(k, "k", minimum=0)
    threads = check_threads(threads)
    if n == 5:
        if k == 0:
            return 2
        if k == 1:
            return threshold_functions(5, threads=threads)
        raise ValueError(
            f"depth2_functions(5, {k}) is not feasible here: 2^32 functions and 94,572² pairs of hidden "
            "units for k = 2 already; counts for n = 5 are available for k <= 1")
    units = _min_units(n, progress, threads)
    if k >= _DEPTH2_KMAX[n] or (units <= k).all():
        if (units != 255).all():
            return 1 << (1 << n)
    return int(np.count_nonzero(units <= k))


def min_hidden_units(table: Any, *, n: int | None = None, threads: int | None = None) -> int:
    """The fewest hidden units of a depth-2 threshold network that computes the function (n ≤ 4).

    0 for the constants, 1 for the other threshold functions. table as for `is_threshold`.
    ``threads``: CPU threads for the first call for this n, which searches every network (None:
    :func:`~deepcheap_native.set_num_threads`); the answer does not depend on it.
    """
    threads = check_threads(threads)
    arr = _table_bytes(table, n, MAX_DEPTH2_N)
    size = arr.shape[0]
    index = int(np.dot(arr.astype(np.int64), 1 << np.arange(size, dtype=np.int64)))
    value = int(_min_units(size.bit_length() - 1, None, threads)[index])
    if value == 255:  # pragma: no cover - every function of n <= 4 inputs is reached
        raise RuntimeError("this function needs more hidden units than were searched")
    return value
