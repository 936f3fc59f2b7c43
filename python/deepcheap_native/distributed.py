"""Scale-out with Dask: split big jobs (Markov chains, Ising scans, circuit input spaces, product
networks over huge batches) over a ``dask.distributed`` cluster or any ``concurrent.futures.Executor``,
with results bit-identical to one local call whatever the chunking, worker count or retry.

Every task carries its explicit seed and its place in the whole job (the first chain, the first
replica, the range of inputs), and the package's counter-based Philox streams make each item's numbers
depend only on (seed, item), never on which piece computed it. Reductions over pieces are integer sums
or are made on the driver in one fixed order.

Install with ``pip install "deepcheap-native[dask]"``. Dask, distributed and pandas are imported
lazily: ``import deepcheap_native`` never needs them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .circuit import space as circuit_space
from .core.arrays import to_numpy
from .core.scaleout import (  # the clients: re-exported here, their public home
    DEFAULT_CONNECT_TIMEOUT,
    Engine,
    SyncExecutor,
    _is_dask_client,
    _require,
    close_default_client,
    get_client,
)
from .core.scaleout import pieces as _pieces
from .core.validate import check_int, check_multiple, check_threads, resolve_seed
from .ising.scan import (  # the Ising area's distributed entry point: re-exported here, its public path
    ISING_ALGORITHMS,
    ISING_COLUMNS,
    ising_scan,
    ising_statistics,
    row_seed,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "ISING_ALGORITHMS",
    "ISING_COLUMNS",
    "SyncExecutor",
    "close_default_client",
    "compute",
    "count_output_patterns",
    "equivalent",
    "get_client",
    "ising_scan",
    "ising_statistics",
    "product_network_map",
    "row_seed",
    "sample_chains",
]

_check_threads = check_threads


def compute(*arrays: Any, client: Any = None) -> Any:
    """Compute lazy dask arrays (from :func:`sample_chains`, :func:`product_network_map`) on ``client``
    (as in :func:`get_client`); one array gives one numpy array, several a tuple."""
    dask = _require("dask")
    executor = get_client(client)
    if _is_dask_client(executor):
        results = executor.compute(list(arrays), sync=True)
    else:
        scheduler = "synchronous" if isinstance(executor, SyncExecutor) else executor
        results = dask.compute(*arrays, scheduler=scheduler)
    return results[0] if len(arrays) == 1 else tuple(results)


def _chunk_pieces(chunks: Any, chunk: Any, total: int, unit: int, what: str,
                  where: str) -> list[tuple[int, int]] | None:
    """(start, size) pieces from ``chunks=`` as dask takes it: an int (items per task) or a tuple of
    chunk sizes summing to ``total`` (a dask array's ``.chunks`` works too: its first axis is used).
    ``chunk=`` is the deprecated name. Sizes must be multiples of ``unit`` (the last may be shorter).
    None when neither is given (the caller's default)."""
    if chunk is not None:
        if chunks is not None:
            raise TypeError(f"{where} got both chunks= and the deprecated chunk=; pass chunks= only")
        warnings.warn(f"{where}(chunk=...) is deprecated; use chunks= (an int or a tuple of sizes, as dask)",
                      DeprecationWarning, stacklevel=3)
        chunks = chunk
    if chunks is None:
        return None
    if isinstance(chunks, (tuple, list)):
        sizes = chunks[0] if chunks and isinstance(chunks[0], (tuple, list)) else chunks
        sizes = [check_int(v, "chunks[i]", minimum=1) for v in sizes]
        if sum(sizes) != total:
            raise ValueError(f"chunks must sum to the {total} {what}, got {len(sizes)} sizes summing to {sum(sizes)}")
        if any(v % unit for v in sizes[:-1]):
            raise ValueError(f"chunks must be multiples of {unit} {what} (but the last), got {tuple(sizes)}")
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        return list(zip(starts, sizes))
    return _pieces(total, check_multiple(chunks, "chunks", unit, what))


# ---- Markov chains ----------------------------------------------------------------------------------


def _sample_piece(chain: Any, first: int, size: int, n_steps: int | None, kwargs: dict) -> np.ndarray:
    from .markov.chain import MarkovChain

    extra = {"first": first} if first else {}
    if isinstance(chain, MarkovChain):
        result = chain.sample(size, n_steps, **extra, **kwargs)
    else:
        result = chain.sample(size, **extra, **kwargs)
    return _to_numpy(result)


def _to_numpy(x: Any) -> Any:
    """A task's result as numpy (a hierarchy's list per level), so it pickles without torch."""
    if isinstance(x, list):
        return [_to_numpy(v) for v in x]
    return to_numpy(x, "result")[0]


def sample_chains(chain: Any, n_chains: int, n_steps: int | None = None, *, seed: int | None = None, init: Any = None,
                  return_path: bool = False, chunks: Any = None, chunk: Any = None) -> Any:
    """N chains as a lazy dask array: chunk i holds chains [i·chunk, (i+1)·chunk), sampled with ``first=``.

    Parameters
    ----------
    chain : MarkovChain (then ``n_steps`` is required) or HierarchicalChain (``n_steps`` None).
    n_chains : total chains; the last chunk is shorter when ``chunk`` does not divide it.
    seed, init, return_path : as in ``MarkovChain.sample`` (``init`` an array of states is sliced per
        chunk; ``return_path`` is for MarkovChain only).
    chunks : chains per task (default 2**20), or a tuple of chunk sizes summing to n_chains, as dask
        takes it; ``chunk=`` is its deprecated old name.

    Returns
    -------
    dask.array: exactly ``chain.sample(n_chains, n_steps, seed=seed, ...)`` once computed (see
    :func:`compute`), whatever ``chunk``. A hierarchy whose levels have different state dtypes gives a
    list of dask arrays, one per level.
    """
    da = _require("dask.array")
    dask = _require("dask")
    from .markov.chain import HierarchicalChain, MarkovChain

    n_chains = check_int(n_chains, "n_chains", minimum=0)
    given = _chunk_pieces(chunks, chunk, n_chains, 1, "chains", "sample_chains")
    seed = resolve_seed(seed)
    if isinstance(chain, MarkovChain):
        if n_steps is None:
            raise TypeError("sample_chains(MarkovChain, n_chains, n_steps): n_steps is required")
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        common: dict = {"seed": seed, "return_path": return_path}
    elif isinstance(chain, HierarchicalChain):
        if n_steps is not None or return_path or init is not None:
            raise TypeError("a HierarchicalChain samples whole paths from its own p0: pass no n_steps, init or return_path")
        common = {"seed": seed}
    else:
        raise TypeError(f"chain must be a MarkovChain or HierarchicalChain, got {type(chain).__name__}")
    per_chain_init = init is not None and not isinstance(init, (int, np.integer)) and np.asarray(init).dtype.kind in "iu"
    if per_chain_init:
        init = np.asarray(init)
        if init.shape != (n_chains,):
            raise ValueError(f"init as an array of states must have shape ({n_chains},), got {init.shape}")
    meta_kwargs = dict(common)
    if init is not None:
        meta_kwargs["init"] = init[:0] if per_chain_init else init
    meta = _sample_piece(chain, 0, 0, n_steps, meta_kwargs)  # a zero-chain call: shapes and dtypes
    pieces = (given if given is not None else _pieces(n_chains, 1 << 20)) or [(0, 0)]
    blocks = []
    for first, size in pieces:
        kwargs = dict(common)
        if init is not None:
            kwargs["init"] = init[first : first + size] if per_chain_init else init
        blocks.append(dask.delayed(_sample_piece, pure=False)(chain, first, size, n_steps, kwargs))
    if isinstance(meta, list):
        levels = []
        for level, m in enumerate(meta):
            parts = [da.from_delayed(b[level], (size,) + m.shape[1:], dtype=m.dtype) for b, (_, size) in zip(blocks, pieces)]
            levels.append(da.concatenate(parts, axis=0))
        return levels
    parts = [da.from_delayed(b, (size,) + meta.shape[1:], dtype=meta.dtype) for b, (_, size) in zip(blocks, pieces)]
    return da.concatenate(parts, axis=0)


# ---- product networks -------------------------------------------------------------------------------


def _network_block(x: np.ndarray, net: Any) -> np.ndarray:
    return _to_numpy(net(np.ascontiguousarray(x)))


def product_network_map(net: Any, x: Any, *, chunks: Any = None, chunk: Any = None) -> Any:
    """A product network (``dc.product_network`` / ``polynomial_network``) over a huge batch, lazily.

    Parameters
    ----------
    net : a ProductNetwork.
    x : (B, n) numpy or dask array (for example one generated on the workers).
    chunks : samples per task (default 2**18), a multiple of 64, or a tuple of such sizes (the last may
        be shorter), as dask takes it: the native kernel evaluates blocks of 64 samples and may pick a
        faster path per block, so only block-aligned pieces are bit-identical to one call. ``chunk=``
        is its deprecated old name.

    Returns
    -------
    dask.array of shape (B,): exactly ``net(x)`` once computed, whatever ``chunk``.
    """
    da = _require("dask.array")
    from .product.network import ProductNetwork

    if not isinstance(net, ProductNetwork):
        raise TypeError(f"net must be a ProductNetwork, got {type(net).__name__}")
    if not isinstance(x, da.Array):
        x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, n), got {x.shape}")
    pieces = _chunk_pieces(chunks, chunk, int(x.shape[0]), 64, "samples (the kernel's block of 64)",
                           "product_network_map")
    rows = tuple(size for _, size in (pieces if pieces is not None else _pieces(int(x.shape[0]), 1 << 18)))
    x = da.from_array(x, chunks=(rows or (0,), x.shape[1])) if not isinstance(x, da.Array) else x.rechunk(
        (rows or (0,), x.shape[1]))
    meta = _network_block(np.zeros((1, x.shape[1]), dtype=x.dtype), net)
    return x.map_blocks(_network_block, net, drop_axis=1, dtype=meta.dtype, meta=np.empty((0,), meta.dtype))


# ---- circuits ---------------------------------------------------------------------------------------


def _default_task_vectors(total: int, engine: Engine) -> int:
    workers = engine.workers()
    per = -(-total // (4 * workers))  # about four tasks per worker: balance without much overhead
    return max(1 << 16, -(-per // 64) * 64)


def _count_piece(circuit: Any, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    return circuit_space.count_output_patterns(circuit, start, count)


def count_output_patterns(circuit: Any, start: int = 0, count: int | None = None, *, chunks: Any = None,
                          client: Any = None, threads: int | None = 1, chunk: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Circuit.count_output_patterns` over ranges of ``chunk`` inputs run as separate tasks.

    The counts are integer sums, so the answer equals the local call exactly for any chunk (a multiple
    of 64; default about four tasks per worker) and any number of workers.
    """
    from .circuit.circuit import Circuit

    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit, got {type(circuit).__name__}")
    if circuit.n_outputs > 64:
        raise ValueError(f"output patterns are counted as 64-bit integers, but the circuit has {circuit.n_outputs} output bits")
    start, count = circuit_space.check_range(circuit.n_inputs, start, count)
    runner = Engine(client, threads=_check_threads(threads), local=False)
    pieces = _chunk_pieces(chunks, chunk, count, 64, "inputs (one packed word)", "count_output_patterns")
    if pieces is None:
        pieces = _pieces(count, _default_task_vectors(count, runner))
    shipped = runner.scatter(circuit)
    futures = [runner.submit(_count_piece, shipped, start + offset, size) for offset, size in pieces]
    return circuit_space.merge_pattern_counts(runner.gather(futures))


def _difference_piece(a: Any, b: Any, method: str, start: int, count: int, seed: int) -> int | None:
    return circuit_space.first_difference(a, b, method, start, count, seed=seed)


def equivalent(a: Any, b: Any, *, exhaustive_bits: int = 24, samples: int = 1 << 20, seed: int | None = None,
               chunks: Any = None, client: Any = None, threads: int | None = 1, chunk: Any = None) -> Any:
    """:func:`deepcheap_native.circuits.equivalent` with the inputs split into tasks of ``chunks`` inputs
    (an int, a multiple of 64, or a tuple of sizes as dask takes it; ``chunk=`` is the deprecated name).

    Tasks run in parallel; as soon as every task before the earliest difference found has finished,
    the rest are cancelled. The first counterexample is the same as the local call's whatever the
    chunk (a multiple of 64) or the number of workers.
    """
    circuit_space.check_pair(a, b)
    method, total = circuit_space.plan_equivalence(a, exhaustive_bits, samples)
    seed = resolve_seed(seed)
    runner = Engine(client, threads=_check_threads(threads), local=False)
    pieces = _chunk_pieces(chunks, chunk, total, 64, "inputs (one packed word)", "equivalent")
    if pieces is None:
        pieces = _pieces(total, _default_task_vectors(total, runner))
    sa, sb = runner.scatter(a), runner.scatter(b)
    futures = [runner.submit(_difference_piece, sa, sb, method, offset, size, seed) for offset, size in pieces]
    position = {id(f): i for i, f in enumerate(futures)}
    done = [False] * len(futures)
    found: dict[int, int] = {}
    best: int | None = None
    for future in runner.as_completed(futures):
        i = position[id(future)]
        done[i] = True
        index = future.result()
        if index is not None:
            found[i] = index
            best = i if best is None else min(best, i)
        if best is not None and all(done[:best]):
            runner.cancel([f for j, f in enumerate(futures) if not done[j]])
            break
    return circuit_space.describe_difference(a, b, method, found[best] if best is not None else None, total, seed=seed)


from .core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
