"""The peers that native kernels are measured against: the best vectorised numpy a Python user would
write for each hot path. One copy, used by the report (deepcheap report) and by the pytest-benchmark
suite (benchmarks/), so both measure against the same code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..circuit.circuit import OPS, Circuit

__all__ = ["NumpyLevelized", "numpy_alias_sampler", "numpy_checkerboard_sweep", "vose_tables"]


# --------------------------------------------------------------------------- Markov chains
def vose_tables(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias tables (probability of keeping column j, alias of j) per row, in numpy."""
    S = P.shape[1]
    prob = np.ones(P.shape)
    alias = np.tile(np.arange(S), (P.shape[0], 1))
    for r in range(P.shape[0]):
        q = P[r] * S
        small = [i for i in range(S) if q[i] < 1]
        large = [i for i in range(S) if q[i] >= 1]
        while small and large:
            s, l = small.pop(), large[-1]
            prob[r, s], alias[r, s] = q[s], l
            q[l] -= 1 - q[s]
            if q[l] < 1:
                small.append(large.pop())
    return prob, alias


def numpy_alias_sampler(P: np.ndarray, n_chains: int, seed: int = 1) -> Callable[[int], np.ndarray]:
    """The best vectorised numpy we know: alias tables flattened, one float64 uniform per transition
    split into column and threshold, preallocated buffers, in-place ufuncs."""
    S = P.shape[0]
    prob, alias = vose_tables(P)
    prob = prob.ravel()
    alias = alias.ravel().astype(np.intp)
    rng = np.random.default_rng(seed)
    u = np.empty(n_chains)
    j = np.empty(n_chains, dtype=np.intp)
    index = np.empty(n_chains, dtype=np.intp)
    keep_prob = np.empty(n_chains)
    spare = np.empty(n_chains, dtype=np.intp)
    keep = np.empty(n_chains, dtype=bool)

    def run(n_steps: int) -> np.ndarray:
        x = rng.integers(0, S, n_chains).astype(np.intp)
        nxt = spare
        for _ in range(n_steps):
            rng.random(out=u)
            np.multiply(u, S, out=u)
            np.floor(u, out=keep_prob)
            j[:] = keep_prob
            np.subtract(u, keep_prob, out=u)  # the fraction
            np.multiply(x, S, out=index)
            np.add(index, j, out=index)
            np.take(prob, index, out=keep_prob)
            np.take(alias, index, out=nxt)
            np.less(u, keep_prob, out=keep)
            np.copyto(nxt, j, where=keep)
            x, nxt = nxt, x
        return x

    return run


# --------------------------------------------------------------------------- Ising
_CHECKERBOARD: dict[tuple[int, float], tuple[tuple[np.ndarray, np.ndarray], np.ndarray]] = {}


def numpy_checkerboard_sweep(spins: np.ndarray, beta: float, rng: np.random.Generator) -> None:
    """One Metropolis sweep in checkerboard order of (R, L, L) int8 ±1 spins (J = 1, h = 0), vectorised
    over replicas: whole-array int8 arithmetic (no fancy indexing), a 5-entry float32 acceptance table
    indexed by (s·Σnb + 4)/2, float32 uniforms, and an in-place masked negation. The fastest of the
    numpy variants we timed (about 0.09 flips/ns here, against 0.03–0.05 for gather/scatter forms)."""
    L = spins.shape[-1]
    key = (L, beta)
    if key not in _CHECKERBOARD:
        parity = (np.add.outer(np.arange(L), np.arange(L)) % 2).astype(bool)
        table = np.minimum(1.0, np.exp(-2.0 * beta * np.arange(-4, 5, 2))).astype(np.float32)
        _CHECKERBOARD[key] = ((~parity, parity), table)
    masks, table = _CHECKERBOARD[key]
    for mask in masks:
        index = np.roll(spins, 1, -1) + np.roll(spins, -1, -1) + np.roll(spins, 1, -2) + np.roll(spins, -1, -2)
        index *= spins  # s·Σnb ∈ {−4, …, 4}; ΔE = 2·s·Σnb
        index += 4
        index >>= 1
        accept = rng.random(spins.shape, dtype=np.float32) < table[index]
        accept &= mask
        np.negative(spins, out=spins, where=accept)


# --------------------------------------------------------------------------- circuits
class NumpyLevelized:
    """Bit-sliced evaluation in numpy: per level and op, one gather-op-scatter over all words.

    Wires live in reusable slots (freed after the last level that reads them), as in the native plan,
    so 65,536 vectors fit in memory; the level loop and its fancy indexing are numpy's best case.
    """

    _FUNCS = {
        "AND": np.bitwise_and, "XOR": np.bitwise_xor, "OR": np.bitwise_or,
        "NAND": lambda a, b: ~(a & b), "NOR": lambda a, b: ~(a | b), "XNOR": lambda a, b: ~(a ^ b),
        "INV": lambda a, b: ~a, "BUF": lambda a, b: a.copy(),
    }

    def __init__(self, c: Circuit):
        n_in, levels = c.n_inputs, c.levels
        ops, in0, in1 = c.ops, c.in0, c.in1
        assert not np.isin(ops, [8, 9]).any(), "constants not needed for the benchmark circuits"
        last = np.full(c.n_wires, -1)
        np.maximum.at(last, in0, levels)
        np.maximum.at(last, in1, levels)
        last[c.outputs] = 1 << 30
        slot = np.full(c.n_wires, -1)
        free: list[int] = []
        high = 0
        for w in range(n_in):
            slot[w], high = high, high + 1
        order = np.lexsort((ops, levels))
        bounds = np.searchsorted(levels[order], np.arange(c.depth + 2))
        frees_at = {}
        for w in np.flatnonzero((last >= 0) & (last < (1 << 30))):
            frees_at.setdefault(int(last[w]), []).append(int(w))
        self.steps = []
        for lv in range(1, c.depth + 1):
            gates = order[bounds[lv] : bounds[lv + 1]]
            for g in gates.tolist():
                slot[n_in + g] = free.pop() if free else high
                high = high if slot[n_in + g] < high else high + 1
            for op in np.unique(ops[gates]):
                sel = gates[ops[gates] == op]
                self.steps.append((self._FUNCS[OPS[op]], slot[in0[sel]], slot[in1[sel]], slot[n_in + sel]))
            free += [int(slot[w]) for w in frees_at.get(lv, [])]
        self.n_slots, self.n_in, self.out_slots = high, n_in, slot[c.outputs]

    def __call__(self, words: np.ndarray) -> np.ndarray:
        s = np.empty((self.n_slots, words.shape[1]), dtype=np.uint64)
        s[: self.n_in] = words
        for func, a, b, out in self.steps:
            s[out] = func(s[a], s[b])
        return s[self.out_slots]
