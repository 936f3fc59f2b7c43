"""Markov chains and hierarchical generative processes y0 -> y1 -> ... -> yL (DESIGN.md §1.2).

Sampling is native (``_core.markov_sample``: Walker/Vose alias tables, one Philox4x32-10 word per
transition, all chains advanced step by step); the exact quantities (marginals, joints, mutual
information, Bayes accuracy, stationary distribution, entropy rate) are float64 numpy linear algebra.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import ArrayOut, as_float_array, is_torch_tensor, like_input, to_numpy
from ..core.memory import check_allocation
from ..core.validate import call_threads, check_array_or_none, check_int, check_real, check_threads, resolve_seed

#: MarkovChain.sample's small-call path: fewer chains and steps than these (under 1 MiB of plan and result)
_FAST_CHAINS = 2**16
_FAST_STEPS = 2**12

__all__ = ["HierarchicalChain", "MarkovChain"]

#: How far a row of probabilities may sum from 1 (|sum - 1| <= tolerance), by the input's dtype.
#: float64: 1e-6, enough for probabilities written with six decimals. float32: 1e-5; rounding each
#: entry of an exact distribution to float32 moves the sum by at most about 6e-8, and arithmetic done in
#: float32 (a softmax, a normalisation) by a few 1e-7 more, so 1e-5 accepts every honest float32 row
#: while rejecting real mistakes. Accepted rows are renormalised in float64 before sampling.
ROW_SUM_TOLERANCE = {"float64": 1e-6, "float32": 1e-5}

#: The sampler keeps every level's table below 2^31 entries and at most 65536 states.
MAX_STATES = 65536


def _tolerance(dtype: np.dtype) -> float:
    return ROW_SUM_TOLERANCE["float32"] if dtype in (np.float16, np.float32) else ROW_SUM_TOLERANCE["float64"]


def _state_dtype(n_states: int) -> type:
    """The smallest unsigned dtype that holds states 0 .. n_states - 1."""
    return np.uint8 if n_states <= 256 else np.uint16


def _probabilities(x: Any, name: str, *, ndim: int) -> tuple[np.ndarray, bool, float]:
    """Validate a distribution (ndim 1) or row-stochastic matrix (ndim 2): float64 copy, whether it
    came from torch, and the row-sum tolerance used. Errors name the offending row and entry."""
    arr, came_from_torch = to_numpy(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real probabilities, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        want = "(n_states,)" if ndim == 1 else "(rows, cols)"
        raise ValueError(f"{name} must have shape {want}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.shape[-1] > MAX_STATES:
        raise ValueError(
            f"{name} has {arr.shape[-1]} states (columns) but at most {MAX_STATES} are supported"
        )
    tolerance = _tolerance(arr.dtype)
    values = as_float_array(arr, name, np.float64)
    rows = values.reshape(-1, values.shape[-1])
    negative = np.argwhere(rows < 0)
    if len(negative):
        r, c = negative[0]
        where = f"{name}[{c}]" if ndim == 1 else f"{name}[{r}, {c}]"
        raise ValueError(f"{where} is {float(rows[r, c])!r} but expected a probability >= 0")
    sums = rows.sum(axis=1)
    bad = np.flatnonzero(~(np.abs(sums - 1.0) <= tolerance))
    if len(bad):
        r = bad[0]
        what = name if ndim == 1 else f"row {r} of {name}"
        raise ValueError(
            f"{what} sums to {float(sums[r])!r} but expected 1 within {tolerance:g} (dtype {arr.dtype})"
        )
    return values, came_from_torch, tolerance


def _distribution_table(p: np.ndarray, tolerance: float, name: str) -> np.ndarray:
    return _core.markov_alias_tables(p.reshape(1, -1), tolerance, name)


def _point_mass(state: int, n_states: int) -> np.ndarray:
    p = np.zeros(n_states)
    p[state] = 1.0
    return p


def _check_level(k: Any, n_levels: int, name: str) -> int:
    return check_int(k, name, minimum=0, maximum=n_levels)


def _entropy_terms(p: np.ndarray) -> np.ndarray:
    """-p log p elementwise (natural log), with 0 log 0 = 0."""
    out = np.zeros_like(p)
    positive = p > 0
    out[positive] = -p[positive] * np.log(p[positive])
    return out


def _mutual_information_of_joint(joint: np.ndarray) -> float:
    """I(X; Y) in nats from a joint probability table."""
    px = joint.sum(axis=1)
    py = joint.sum(axis=0)
    positive = joint > 0
    ratio = joint[positive] / np.outer(px, py)[positive]
    return float(max(0.0, np.sum(joint[positive] * np.log(ratio))))


class MarkovChain:
    """A homogeneous Markov chain on states 0 .. S-1 with transition matrix P.

    Parameters
    ----------
    P : array of shape (S, S), numpy or torch, float32 or float64
        Row-stochastic: P[a, b] = p(next = b | now = a). Entries must be finite and >= 0, and every
        row must sum to 1 within ``ROW_SUM_TOLERANCE`` (1e-6 for float64, 1e-5 for float32); rows are
        then renormalised in float64, so slightly-off float32 rows never produce an out-of-range state.

    Raises
    ------
    ValueError
        Naming the row and entry: negative, NaN or infinite entries, rows off 1, a non-square P, or
        more than 65536 states.
    """

    def __init__(self, P: Any) -> None:
        # A P on a GPU (torch CUDA, CuPy): samples run there and stay there, as that kind of array.
        self._device_template = P if cuda.is_device_array(P) else None
        values, self._torch, self._tolerance = _probabilities(cuda.to_host(P), "P", ndim=2)
        if values.shape[0] != values.shape[1]:
            raise ValueError(f"P must be square (S, S), got shape {values.shape}")
        self._P = values
        self._table = _core.markov_alias_tables(values, self._tolerance, "P")
        self._uniform_table: np.ndarray | None = None
        self._itemsize = np.dtype(self.state_dtype).itemsize
        self._levels = np.zeros(0, dtype=np.int64)  # every step at level 0 (one table): the last length asked

    def _step_levels(self, n_steps: int) -> np.ndarray:
        """n_steps zeros (int64, read-only), kept between calls of the same length (small calls: issue 26)."""
        if len(self._levels) != n_steps:
            levels = np.zeros(n_steps, dtype=np.int64)
            levels.flags.writeable = False
            self._levels = levels
        return self._levels

    @property
    def n_states(self) -> int:
        """The number of states S."""
        return self._P.shape[0]

    @property
    def transition_matrix(self) -> np.ndarray:
        """P as float64 (a copy)."""
        return self._P.copy()

    @property
    def state_dtype(self) -> type:
        """The dtype of sampled states: uint8 for S <= 256, else uint16."""
        return _state_dtype(self.n_states)

    def __repr__(self) -> str:
        return f"MarkovChain(n_states={self.n_states})"

    # ---- sampling ------------------------------------------------------------------------------
    def _init(self, init: Any, n_chains: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(one-row alias table, per-chain initial states or None) for the sampler."""
        if init is None and self._uniform_table is not None:  # the common case, first
            return self._uniform_table, None
        S = self.n_states
        if init is None:
            self._uniform_table = _distribution_table(np.full(S, 1.0 / S), 1e-9, "init")
            return self._uniform_table, None
        if isinstance(init, numbers.Integral) and not isinstance(init, bool):
            state = check_int(init, "init", minimum=0, maximum=S - 1)
            return _distribution_table(_point_mass(state, S), 0.0, "init"), None
        arr, _ = to_numpy(init, "init")
        if arr.ndim == 0 and arr.dtype.kind in "iu":
            return self._init(int(arr), n_chains)
        if arr.dtype.kind in "iu":
            if arr.shape != (n_chains,):
                raise ValueError(f"init as an array of states must have shape ({n_chains},), got {arr.shape}")
            bad = np.flatnonzero((arr < 0) | (arr >= S))
            if len(bad):
                raise ValueError(f"init[{bad[0]}] is {int(arr[bad[0]])} but expected a state in [0, {S})")
            return self._uniform_table_or_dummy(), np.ascontiguousarray(arr, dtype=np.uint32)
        if arr.dtype.kind == "f":
            if arr.shape != (S,):
                raise ValueError(f"init as a distribution must have shape ({S},), got {arr.shape}")
            p, _, tolerance = _probabilities(arr, "init", ndim=1)
            return _distribution_table(p, tolerance, "init"), None
        raise TypeError(
            "init must be None, a state (int), an integer array of states or a float distribution, "
            f"got dtype {arr.dtype}"
        )

    def _uniform_table_or_dummy(self) -> np.ndarray:
        # The sampler needs a one-row table of the right width even when every chain's start is given.
        return self._init(None, 0)[0]

    def sample(
        self,
        n_chains: int | None = None,
        n_steps: int | None = None,
        *,
        init: Any = None,
        seed: int | None = None,
        return_path: bool = False,
        out: np.ndarray | None = None,
        first: int = 0,
        start_step: int = 0,
        device: Any = None,
        threads: int | None = None,
        n: int | None = None,
    ) -> ArrayOut:
        """Run n_chains independent chains for n_steps transitions.

        Parameters
        ----------
        n_chains, n_steps : int >= 0
        init : None, int, integer array (n_chains,) or float array (S,)
            None: uniform; an int: every chain starts there; an integer array: chain i starts at
            init[i]; a float array: the initial distribution (sampled per chain).
        seed : int in [0, 2**64)
            Philox key. Chain i's path depends only on (seed, i), so any thread count and any SIMD
            target give the same paths; different seeds give independent streams.
        return_path : bool
            False: the final states, shape (n_chains,). True: shape (n_chains, n_steps + 1), column 0
            the initial states.
        out : numpy array, optional
            Where to write the result (exactly the shape and dtype that would be returned,
            C-contiguous). Reusing a buffer avoids the cost of first writes into fresh memory.
        first : int >= 0
            The result is chains first .. first + n_chains - 1 of this seed's batch: pieces drawn with
            consecutive ``first`` and concatenated equal one call, bit for bit (any init but a per-chain
            array, which is then the start of these chains).
        start_step : int >= 0
            The chains' step count so far: with ``init`` the final states of an earlier call that ran
            ``start_step`` steps (same seed and ``first``), this call continues those chains exactly as
            if that call had run ``start_step + n_steps`` steps. A path then starts with ``init``.
        device : None, "cpu", "cuda" or "cuda:N"
            Where to sample (None: the device of a CUDA tensor P or init, else the CPU). The GPU runs the
            same per-chain math and gives the same paths bit for bit. With P or ``init`` on a GPU (torch
            CUDA, CuPy, DeviceArray) the result is made there and returned as that kind of array;
            otherwise it comes back to the host.
        threads : int >= 1, optional
            CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`; ignored on a
            GPU). The paths do not depend on it.

        Returns
        -------
        uint8 (S <= 256) or uint16 array; a torch tensor when P was one (on P's or init's GPU when
        either lives on one).
        """
        if (init is None and out is None and device is None and threads is None and n is None and return_path is False
                and type(n_chains) is int and type(n_steps) is int and type(seed) is int  # noqa: E721
                and type(first) is int and type(start_step) is int and first == 0 == start_step  # noqa: E721
                and self._device_template is None and 0 <= n_chains < _FAST_CHAINS and 0 <= n_steps < _FAST_STEPS
                and 0 <= seed < 2**64):
            # The small call's path (issue 26 §3): final states from the uniform start, every option at its
            # default, plain int arguments in range. The checks below would pass and the memory check
            # return at once (under 1 MiB: 64 bytes of plan per step, 2 bytes per chain at most).
            self.last_seed = seed
            init_table, init_states = self._init(None, n_chains)
            result = _core.markov_sample([self._table], self._step_levels(n_steps), init_table, init_states, n_chains,
                                         seed, "final", 0, None, 0, 0, 0)
            return like_input(result, self._torch)
        n_chains = _chain_count(n_chains, n, "MarkovChain.sample")
        if n_steps is None:
            raise TypeError("MarkovChain.sample() missing n_steps: sample(n_chains, n_steps, ...)")
        n_chains = check_int(n_chains, "n_chains", minimum=0)
        n_steps = check_int(n_steps, "n_steps", minimum=0, maximum=2**34 - 1)
        seed = resolve_seed(seed)
        self.last_seed = seed  # the seed of the latest sample (drawn when seed=None): pass it to repeat it
        if not (type(first) is int and type(start_step) is int and first == 0 == start_step):  # noqa: E721
            # (the defaults, int zeros, are valid for every size: small calls skip the check)
            first, start_step = _check_offsets(first, n_chains, start_step, n_steps)
        threads = check_threads(threads)
        if return_path is not False and return_path is not True:
            raise TypeError(f"return_path must be a bool, got {type(return_path).__name__}")
        # Before anything is allocated: per step 64 bytes of plan (C++), then the result (unless out=).
        n_bytes = 64 * n_steps + (0 if out is not None else n_chains * (n_steps + 1 if return_path else 1)
                                  * self._itemsize)
        check_allocation(n_bytes, lambda: f"MarkovChain.sample(n_chains={n_chains}, n_steps={n_steps})")
        if init is None:  # the common case: nothing to move, convert or read a device from
            torch_out, template = self._torch, self._device_template
            where = cuda.resolve_device(device, template)
            init_table, init_states = self._init(None, n_chains)
        else:
            torch_out = self._torch or is_torch_tensor(init)
            template = init if cuda.is_device_array(init) else self._device_template
            where = cuda.resolve_device(device, init, template)
            init_table, init_states = self._init(cuda.to_host(init), n_chains)
        if where.kind == "cuda" and template is not None:
            # The zero-copy path: the paths are made on the GPU and returned there, as the input's kind.
            return _resident_sample(where, template, out, [self._table], self._step_levels(n_steps), init_table,
                                    init_states, n_chains, seed, "path" if return_path else "final", first, start_step)
        with call_threads(threads):
            # By position (tables, step levels, init table and states, n, seed, keep, chunk, out, first
            # chain, first step, device): pybind11 matches keywords by name, about 1 us of a small call.
            result = where.module.markov_sample(
                [self._table], self._step_levels(n_steps), init_table, init_states, n_chains, seed,
                "path" if return_path else "final", 0, check_array_or_none(out), first, start_step, where.index,
            )
        return like_input(result, torch_out)

    # ---- exact quantities ----------------------------------------------------------------------
    def _distribution(self, init: Any) -> np.ndarray:
        S = self.n_states
        if init is None:
            return np.full(S, 1.0 / S)
        if isinstance(init, numbers.Integral) and not isinstance(init, bool):
            return _point_mass(check_int(init, "init", minimum=0, maximum=S - 1), S)
        arr, _ = to_numpy(init, "init")
        if arr.dtype.kind != "f" or arr.shape != (S,):
            raise ValueError(
                f"init must be None, a state, or a float distribution of shape ({S},); got dtype {arr.dtype} "
                f"and shape {arr.shape}"
            )
        p, _, _ = _probabilities(arr, "init", ndim=1)
        return p / p.sum()

    def n_step(self, t: int) -> Any:
        """P^t in float64: the t-step transition probabilities (torch when P was torch)."""
        t = check_int(t, "t", minimum=0)
        return like_input(np.linalg.matrix_power(self._P, t), self._torch)

    def marginal(self, t: int, init: Any = None) -> Any:
        """The exact distribution of the state after t steps, init @ P^t (float64).

        ``init`` as in :meth:`sample`, except per-chain arrays: None (uniform), a state or a distribution.
        """
        t = check_int(t, "t", minimum=0)
        p = self._distribution(init)
        if t <= self.n_states:
            for _ in range(t):
                p = p @ self._P
        else:
            p = p @ np.linalg.matrix_power(self._P, t)
        return like_input(p, self._torch)

    def stationary_distribution(self) -> Any:
        """The stationary distribution pi = pi P, by Grassmann-Taksar-Heyman elimination.

        GTH uses only additions of non-negative numbers and one division per step (no subtractive
        cancellation), so it is accurate to working precision even for nearly decomposable chains.
        Transient states get probability 0. Cost O(S^3) in float64 numpy.

        Raises
        ------
        ValueError
            When the chain has more than one closed class (the stationary distribution is not unique).
        """
        adjacency = self._P > 0
        if _reaches_all(adjacency) and _reaches_all(adjacency.T):  # irreducible: the common case
            return like_input(_gth(self._P), self._torch)
        closed = _closed_classes(adjacency)
        if len(closed) != 1:
            shown = "; ".join(str(list(map(int, c[:5]))) + ("..." if len(c) > 5 else "") for c in closed[:4])
            raise ValueError(
                f"the chain has {len(closed)} closed classes ({shown}), so its stationary distribution "
                "is not unique; sample or use marginal(t, init) instead"
            )
        states = closed[0]
        pi = np.zeros(self.n_states)
        pi[states] = _gth(self._P[np.ix_(states, states)])
        return like_input(pi, self._torch)

    def entropy_rate(self, *, base: float = np.e) -> float:
        """H = -sum_a pi_a sum_b P[a, b] log P[a, b] in units of log(base) (nats by default)."""
        base = _check_base(base)
        pi = self.stationary_distribution()
        pi = pi.numpy() if is_torch_tensor(pi) else pi
        return float(pi @ _entropy_terms(self._P).sum(axis=1)) / np.log(base)


def _pack_tables(tables: list[np.ndarray]) -> list[np.ndarray]:
    """Put the alias tables of a hierarchy back to back in one array and return views into it.

    numpy backs arrays of 4 MiB and more with transparent huge pages, so the sampler's random lookups
    across many levels miss the TLB less: 64 distinct 256-state levels (16 MiB of tables) sampled at
    312 M/s packed against 238 M/s as 64 separate arrays (best of 8 interleaved runs, one thread).
    """
    total = sum(t.size for t in tables)
    if len(tables) < 2 or total * 4 < 4 << 20:
        return tables
    flat = np.empty(total, dtype=np.uint32)
    views = []
    offset = 0
    for t in tables:
        view = flat[offset : offset + t.size].reshape(t.shape)
        view[...] = t
        views.append(view)
        offset += t.size
    return views


def _check_offsets(first: Any, n_chains: int, start_step: Any, n_steps: int) -> tuple[int, int]:
    """Validate a chain offset and a step offset: the counters hold chains below 2^64 and blocks of
    four steps below 2^32, so first + n_chains <= 2^64 - 1 and start_step + n_steps <= 2^34."""
    first = check_int(first, "first", minimum=0, maximum=2**64 - 1 - n_chains)
    start_step = check_int(start_step, "start_step", minimum=0, maximum=2**34 - n_steps)
    return first, start_step


def _resident_sample(where: Any, template: Any, out: Any, tables: list, step_levels: np.ndarray,
                     init_table: np.ndarray, init_states: np.ndarray | None, n_chains: int, seed: int, keep: str,
                     first: int, start_step: int) -> Any:
    """Sample on the GPU into arrays made there; returned as ``template``'s kind (torch, CuPy, DeviceArray).
    Levels of both state dtypes (a hierarchy mixing S <= 256 and S > 256) come back as uint16 (n_chains, levels).
    ``out`` must be None: the arrays are made on the device."""
    if out is not None:
        raise ValueError("out= is a host array; with GPU inputs the samples are made and returned on the GPU")
    made, per_position = where.module.markov_sample_resident(
        tables, step_levels, init_table, init_states, n_chains, seed, keep, first, start_step, where.index)
    arrays = [cuda.DeviceArray(memory, shape, np.uint8 if size == 1 else np.uint16, where.module.__name__)
              for memory, size, shape in made]
    if not per_position:
        return cuda.like_device(arrays[0], template)
    # Per-position arrays: stacked on the device by the input's library, else on the host and put back.
    parts = [cuda.like_device(a, template) for a in arrays]
    if type(template).__module__.startswith("torch"):
        import torch

        return torch.stack([p.to(torch.int32) for p in parts], dim=1).to(torch.uint16)
    if isinstance(parts[0], cuda.DeviceArray):
        return cuda.to_device(np.stack([a.get().astype(np.uint16) for a in arrays], axis=1), where)
    lib = cuda._cupy_like(parts[0])
    return lib.stack([p.astype(lib.uint16) for p in parts], axis=1)


def _chain_count(n_chains: Any, n: Any, where: str) -> Any:
    """n_chains, or the deprecated ``n=`` keyword (a DeprecationWarning; both samplers, one behaviour)."""
    if n is not None:
        if n_chains is not None:
            raise TypeError(f"{where} got both n_chains and the deprecated n; pass n_chains only")
        warnings.warn(f"{where}(n=...) is deprecated; use n_chains=", DeprecationWarning, stacklevel=3)
        n_chains = n
    if n_chains is None:
        raise TypeError(f"{where}() missing the number of chains: sample(n_chains, ...)")
    return n_chains


def _check_base(base: Any) -> float:
    base = check_real(base, "base", positive=True)
    if base == 1:
        raise ValueError("base must be a positive number other than 1, got 1")
    return base


def _gth(A: np.ndarray) -> np.ndarray:
    """Stationary distribution of an irreducible stochastic matrix (Grassmann, Taksar & Heyman 1985)."""
    A = np.array(A, dtype=np.float64)
    n = A.shape[0]
    for k in range(n - 1):
        scale = A[k, k + 1 :].sum()
        A[k + 1 :, k] /= scale
        A[k + 1 :, k + 1 :] += np.outer(A[k + 1 :, k], A[k, k + 1 :])
    x = np.zeros(n)
    x[n - 1] = 1.0
    for k in range(n - 2, -1, -1):
        x[k] = x[k + 1 :] @ A[k + 1 :, k]
    return x / x.sum()


def _reaches_all(adjacency: np.ndarray) -> bool:
    """Whether every state can be reached from state 0 (breadth-first, one numpy pass per level)."""
    seen = np.zeros(adjacency.shape[0], dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    while frontier.any():
        frontier = adjacency[frontier].any(axis=0) & ~seen
        seen |= frontier
    return bool(seen.all())


def _closed_classes(adjacency: np.ndarray) -> list[np.ndarray]:
    """The closed communicating classes of a chain (Tarjan's strongly connected components, iterative),
    each as a sorted array of states; a class is closed when no edge leaves it."""
    n = adjacency.shape[0]
    neighbours = [np.flatnonzero(adjacency[v]) for v in range(n)]
    index = np.full(n, -1)
    low = np.zeros(n, dtype=np.int64)
    on_stack = np.zeros(n, dtype=bool)
    component = np.full(n, -1)
    stack: list[int] = []
    counter = 0
    n_components = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            recurse = False
            nbrs = neighbours[v]
            while i < len(nbrs):
                w = nbrs[i]
                i += 1
                if index[w] < 0:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    component[w] = n_components
                    if w == v:
                        break
                n_components += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    leaves = np.zeros(n_components, dtype=bool)
    leaves[:] = True
    for v in range(n):
        if np.any(component[neighbours[v]] != component[v]):
            leaves[component[v]] = False
    return [np.flatnonzero(component == c) for c in range(n_components) if leaves[c]]


class HierarchicalChain:
    """A generative hierarchy y0 -> y1 -> ... -> yL of (possibly) different-sized levels.

    Parameters
    ----------
    matrices : sequence of L >= 1 arrays, numpy or torch
        matrices[k-1] has shape (S_{k-1}, S_k): row-stochastic, p(y_k = b | y_{k-1} = a). The same
        object passed twice shares one alias table.
    p0 : array of shape (S_0,)
        The distribution of the cause y0.

    Raises
    ------
    ValueError
        For bad probabilities (naming the matrix, row and entry) or sizes that do not chain.
    """

    def __init__(self, matrices: Sequence[Any], p0: Any) -> None:
        array_like = is_torch_tensor(matrices) or isinstance(matrices, np.ndarray)
        if array_like or not isinstance(matrices, Sequence):
            raise TypeError("matrices must be a list or tuple of 2-D arrays, one per level")
        if len(matrices) < 1:
            raise ValueError("matrices must hold at least one level, got 0")
        # Any level or p0 on a GPU (torch CUDA, CuPy): samples run there and stay there, as that kind of array.
        self._device_template = next((a for a in (p0, *matrices) if cuda.is_device_array(a)), None)
        p0 = cuda.to_host(p0)
        matrices = [cuda.to_host(M) for M in matrices]
        p0_values, torch_p0, p0_tolerance = _probabilities(p0, "p0", ndim=1)
        self._torch = torch_p0
        self._p0 = p0_values / p0_values.sum()
        self._matrices: list[np.ndarray] = []
        self._tables: list[np.ndarray] = []
        self._step_levels = np.zeros(len(matrices), dtype=np.int64)
        seen: dict[int, int] = {}
        states = p0_values.shape[0]
        for k, M in enumerate(matrices):
            name = f"matrices[{k}]"
            values, came_from_torch, tolerance = _probabilities(M, name, ndim=2)
            self._torch = self._torch or came_from_torch
            if values.shape[0] != states:
                source = "p0 has" if k == 0 else f"matrices[{k - 1}] has"
                raise ValueError(
                    f"{name} has {values.shape[0]} rows but level {k} has {states} states ({source} {states} "
                    f"{'entries' if k == 0 else 'columns'}); sizes must chain"
                )
            states = values.shape[1]
            self._matrices.append(values / values.sum(axis=1, keepdims=True))
            if id(M) not in seen:
                seen[id(M)] = len(self._tables)
                self._tables.append(_core.markov_alias_tables(values, tolerance, name))
            self._step_levels[k] = seen[id(M)]
        self._tables = _pack_tables(self._tables)
        self._p0_table = _distribution_table(p0_values, p0_tolerance, "p0")
        self._marginals = [self._p0]
        for M in self._matrices:
            self._marginals.append(self._marginals[-1] @ M)

    @property
    def n_levels(self) -> int:
        """L, the number of transitions (the hierarchy has L + 1 levels y0 .. yL)."""
        return len(self._matrices)

    @property
    def level_sizes(self) -> list[int]:
        """[S_0, S_1, ..., S_L]."""
        return [len(p) for p in self._marginals]

    def __repr__(self) -> str:
        return f"HierarchicalChain(level_sizes={self.level_sizes})"

    def sample(
        self, n_chains: int | None = None, *, seed: int | None = None, out: np.ndarray | None = None, first: int = 0,
        device: Any = None, threads: int | None = None, n: int | None = None,
    ) -> ArrayOut:
        """Draw n_chains independent realisations of (y0, ..., yL).

        The first argument is named as in :meth:`MarkovChain.sample` (each realisation is one chain
        through the levels); the old keyword ``n=`` still works, with a DeprecationWarning.

        Returns
        -------
        (n_chains, L + 1) array of states: uint8 when every level has at most 256 states, else uint16 (one
        return type, whatever the level sizes). torch when any input was torch.
        With L copies of one P, the paths equal MarkovChain(P).sample(n, L, init=p0, seed=seed,
        return_path=True): both use the counter (chain, step, purpose).

        ``out``: an optional (n_chains, L + 1) numpy array of the state dtype to write into (single-dtype
        hierarchies only), which avoids first-touch costs when sampling repeatedly.

        ``first``: the result is realisations first .. first + n_chains - 1 of this seed's batch, so pieces
        drawn with consecutive ``first`` (on other processes or machines) concatenate to one call.

        ``device``: None, "cpu", "cuda" or "cuda:N", as in :meth:`MarkovChain.sample` (same paths).

        ``threads``: CPU threads for this call, as in :meth:`MarkovChain.sample` (same paths).
        """
        n_chains = _chain_count(n_chains, n, "HierarchicalChain.sample")
        n = check_int(n_chains, "n_chains", minimum=0)
        seed = resolve_seed(seed)
        self.last_seed = seed  # the seed of the latest sample (drawn when seed=None): pass it to repeat it
        threads = check_threads(threads)
        first, _ = _check_offsets(first, n, 0, self.n_levels)
        per_level = [1 if s <= 256 else 2 for s in self.level_sizes]  # mixed: per-level arrays, then a uint16 copy
        check_allocation(0 if out is not None else n * (sum(per_level) + (2 * len(per_level) if len(set(per_level)) > 1
                                                                          else 0)), f"HierarchicalChain.sample(n_chains={n})")
        template = self._device_template
        where = cuda.resolve_device(device, template)
        if where.kind == "cuda" and template is not None:
            return _resident_sample(where, template, out, self._tables, self._step_levels, self._p0_table, None, n,
                                    seed, "path", first, 0)
        with call_threads(threads):
            out = where.module.markov_sample(  # by position, as in MarkovChain.sample
                self._tables, self._step_levels, self._p0_table, None, n, seed, "path", 0, check_array_or_none(out),
                first, 0, where.index,
            )
        if isinstance(out, list):  # levels of both dtypes come back per level: one array of the wider
            out = np.stack([a.astype(np.uint16, copy=False) for a in out], axis=1)
        return like_input(out, self._torch)

    def marginal(self, k: int) -> Any:
        """p(y_k) = p0 M_1 ... M_k, exact in float64."""
        k = _check_level(k, self.n_levels, "k")
        return like_input(self._marginals[k].copy(), self._torch)

    def _joint(self, i: int, j: int) -> np.ndarray:
        if i > j:
            return self._joint(j, i).T
        joint = np.diag(self._marginals[i])
        for M in self._matrices[i:j]:
            joint = joint @ M
        return joint

    def joint(self, i: int, j: int) -> Any:
        """p(y_i = a, y_j = b) as an (S_i, S_j) float64 table; for i < j, diag(p(y_i)) M_{i+1} ... M_j."""
        i = _check_level(i, self.n_levels, "i")
        j = _check_level(j, self.n_levels, "j")
        return like_input(self._joint(i, j), self._torch)

    def mutual_information(self, i: int, j: int, *, base: float = np.e) -> float:
        """I(y_i; y_j), exact, in units of log(base) (nats by default). Along the chain it never
        increases: I(y_0; y_k) >= I(y_0; y_{k+1}) (data-processing inequality)."""
        i = _check_level(i, self.n_levels, "i")
        j = _check_level(j, self.n_levels, "j")
        base = _check_base(base)
        return float(_mutual_information_of_joint(self._joint(i, j)) / np.log(base))

    def bayes_accuracy(self, i: int, j: int) -> float:
        """The probability that the MAP guess of y_i from y_j is right: sum_b max_a p(y_i = a, y_j = b)."""
        i = _check_level(i, self.n_levels, "i")
        j = _check_level(j, self.n_levels, "j")
        return float(self._joint(i, j).max(axis=0).sum())
