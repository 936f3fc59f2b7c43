"""Heat-bath sampling of sparse k-local (k <= 4) Hamiltonians of ±1 spins: :class:`BoltzmannSampler`.

Energies here are totals (H of a replica), as the Boltzmann series' ``energy``: ``total_energy()`` (and
its older name ``energy()``); ``energy_per_spin()`` is H / n_spins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..core import cuda
from ..core.arrays import ArrayOut, like_input
from ..core.memory import check_allocation
from ..core.validate import call_threads, check_int, check_real, check_threads, resolve_seed
from .chain import _NativeChain, _unpack_spins
from .series import BoltzmannSeries

__all__ = ["BoltzmannSampler"]


def _normalise_terms(n_spins: int, terms: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(terms, Mapping):
        items = list(terms.items())
    elif isinstance(terms, Iterable) and not isinstance(terms, (str, bytes)):
        items = list(terms)
    else:
        raise TypeError(f"terms must be a mapping {{indices: coefficient}} or pairs (indices, coefficient), "
                        f"got {type(terms).__name__}")
    indices = np.full((len(items), 4), -1, dtype=np.int32)
    coefficients = np.empty(len(items), dtype=np.float64)
    for t, item in enumerate(items):
        try:
            idx, coefficient = item
        except (TypeError, ValueError):
            raise TypeError(f"terms[{t}] must be a pair (indices, coefficient), got {item!r}") from None
        idx = (idx,) if isinstance(idx, (int, np.integer)) else tuple(idx)
        if not 1 <= len(idx) <= 4:
            raise ValueError(f"terms[{t}] has order {len(idx)}, but terms must have order 1 to 4: {idx!r}")
        for i in idx:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"terms[{t}] indices must be integers, got {idx!r}")
            if not 0 <= int(i) < n_spins:
                raise ValueError(f"terms[{t}] index {int(i)} is out of range for n_spins={n_spins}")
        if len(set(int(i) for i in idx)) != len(idx):
            raise ValueError(f"terms[{t}] repeats a spin index: {idx!r}")
        indices[t, : len(idx)] = [int(i) for i in idx]
        coefficients[t] = check_real(coefficient, f"terms[{t}] coefficient")
    return indices, coefficients


class BoltzmannSampler(_NativeChain):
    """Heat-bath sampling of ``p(s) ∝ exp(-H(s) / T)`` for ±1 spins and a sparse k-local Hamiltonian.

    ``H(s) = sum over terms of coefficient * prod_{i in indices} s_i`` with 1 to 4 indices per term (a
    Boltzmann machine when every term has order <= 2). Spins that share a term get different colours
    (greedy graph colouring); one sweep updates the colour classes in turn, each class in parallel.

    Parameters
    ----------
    n_spins : number of spins.
    terms : mapping ``{(i, j, ...): coefficient}`` or an iterable of ``(indices, coefficient)`` pairs;
        a single int is a first-order term.
    temperature : T > 0; may be assigned between sweeps (annealing), the other parameters are fixed.
    replicas : number of independent chains.
    seed : 64-bit seed; the initial spins are fair coins.
    device : None or "cpu" (default), "cuda", "cuda:N": where the spins live and are swept.
    first_replica : these are replicas first_replica .. first_replica + replicas - 1 of the seed's batch:
        samplers over consecutive ranges together equal one sampler of all replicas, bit for bit.
    """

    _FIXED = ("n_spins", "term_indices", "coefficients", "replicas", "first_replica", "seed", "device")

    def __init__(self, n_spins: int, terms: Any, temperature: float, *, replicas: int, seed: int | None = None,
                 first_replica: int = 0, device: Any = None) -> None:
        self.n_spins = check_int(n_spins, "n_spins", minimum=1, maximum=2**31 - 1)
        self.temperature = temperature
        self.replicas = check_int(replicas, "replicas", minimum=1, maximum=2**32)
        self.first_replica = check_int(first_replica, "first_replica", minimum=0, maximum=2**32 - self.replicas)
        self.seed = resolve_seed(seed)
        check_allocation(self.replicas * self.n_spins, f"BoltzmannSampler(n_spins={self.n_spins}, "
                         f"replicas={self.replicas})")  # int8 spins
        indices, coefficients = _normalise_terms(self.n_spins, terms)
        indices.setflags(write=False)  # the native chain holds its own copy: edits would not reach it
        coefficients.setflags(write=False)
        self.term_indices, self.coefficients = indices, coefficients
        self.device = cuda.resolve_device(device)
        self._chain = self.device.module.BoltzmannChain(
            self.n_spins, self.term_indices, self.coefficients, self.temperature, self.replicas, self.seed,
            self.first_replica, device=self.device.index,
        )


    _PARAMS = ("n_spins", "term_indices", "coefficients", "temperature", "replicas", "first_replica", "seed")

    def _state_params(self) -> dict[str, Any]:
        return {"n_spins": self.n_spins, "term_indices": self.term_indices.copy(),
                "coefficients": self.coefficients.copy(), "temperature": self.temperature,
                "replicas": self.replicas, "first_replica": self.first_replica, "seed": self.seed}

    @classmethod
    def _from_params(cls, state: Mapping[str, Any], device: Any) -> BoltzmannSampler:
        indices = np.asarray(state["term_indices"])  # (read-only views when the state is a sampler's own)
        coefficients = np.asarray(state["coefficients"])
        if indices.ndim != 2 or indices.shape[1] != 4 or coefficients.shape != (indices.shape[0],):
            raise ValueError(f"state['term_indices'] must have shape (n_terms, 4) and state['coefficients'] "
                             f"(n_terms,), got {indices.shape} and {coefficients.shape}")
        terms = [(tuple(int(i) for i in row if i >= 0), float(c)) for row, c in zip(indices, coefficients)]
        sampler = cls(state["n_spins"], terms, temperature=state["temperature"], replicas=state["replicas"],
                      seed=state["seed"], first_replica=state["first_replica"], device=device)
        sampler.spins = _unpack_spins(state["spins"], sampler._spin_shape)
        return sampler

    @property
    def colours(self) -> np.ndarray:
        """The colour of each spin (spins sharing a term differ), shape (n_spins,)."""
        return np.asarray(self._chain.colours(), dtype=np.int32)

    @property
    def n_colours(self) -> int:
        return self._chain.n_colours

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        return (self.replicas, self.n_spins)

    def total_energy(self) -> ArrayOut:
        """H (the total, not per spin) of each replica, shape (replicas,)."""
        return like_input(self._chain.energy(), self._torch)

    def energy(self) -> ArrayOut:
        """H of each replica, shape (replicas,): the older name of :meth:`total_energy` (a k-local
        energy is a total; :meth:`energy_per_spin` is H / n_spins)."""
        return self.total_energy()

    def energy_per_spin(self) -> ArrayOut:
        """H / n_spins of each replica, shape (replicas,)."""
        return like_input(self._chain.energy() / float(self.n_spins), self._torch)

    def run(self, n_sweeps: int, *, measure_every: int = 1, return_spins: bool = False,
            threads: int | None = None) -> BoltzmannSeries:
        """Sweep ``n_sweeps`` times, recording H (and optionally the spins) every ``measure_every`` sweeps.

        ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
        chain does not depend on it.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        every = check_int(measure_every, "measure_every", minimum=1)
        threads = check_threads(threads)
        n_measure = n_sweeps // every
        check_allocation(n_measure * self.replicas * (8 + (self.n_spins if return_spins else 0)),
                         f"BoltzmannSampler.run(n_sweeps={n_sweeps}, measure_every={every}, "
                         f"return_spins={bool(return_spins)}) with {self.replicas} replicas",
                         detail=f"{n_measure} measurements x {self.replicas} replicas")
        energy = np.empty((n_measure, self.replicas))
        spins = np.empty((n_measure, self.replicas, self.n_spins), dtype=np.int8) if return_spins else None
        with call_threads(threads):
            for k in range(n_measure):
                self._chain.sweep(every)
                energy[k] = self._chain.energy()
                if spins is not None:
                    spins[k] = self._chain.get_spins()
            self._chain.sweep(n_sweeps - n_measure * every)
        if self._torch:  # spins given as torch: the series in torch too
            return BoltzmannSeries(energy=like_input(energy, True),
                                   spins=None if spins is None else like_input(spins, True))
        return BoltzmannSeries(energy=energy, spins=spins)
