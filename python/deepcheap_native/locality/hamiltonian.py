"""Translation-invariant k-local Hamiltonians on the L x L torus: exact energies and Boltzmann sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.arrays import like_input, to_numpy
from ..core.validate import check_int, check_real, check_seed
from ..ising import BoltzmannSampler, IsingModel

__all__ = ["LatticeHamiltonian"]

#: The largest term order the Boltzmann heat bath takes (BoltzmannSampler: 1 to 4 spins per term).
MAX_SAMPLER_ORDER = 4


def _check_offset(offset: Any, where: str) -> tuple[int, int]:
    if isinstance(offset, (str, bytes)) or not isinstance(offset, Sequence) and not isinstance(offset, np.ndarray):
        raise TypeError(f"{where} must be a pair (row, column) of integers, got {type(offset).__name__} {offset!r}")
    if len(offset) != 2:
        raise ValueError(f"{where} must be a pair (row, column), got {len(offset)} numbers: {tuple(offset)!r}")
    return (check_int(offset[0], f"{where}[0]"), check_int(offset[1], f"{where}[1]"))


class LatticeHamiltonian:
    """``H(s) = Σ_t c_t Σ_(i,j) Π_(dr,dc)∈offsets_t s[(i+dr) mod L, (j+dc) mod L]`` on the L x L torus.

    Each term is a real coefficient and a list of distinct site offsets, repeated at every site: the
    Hamiltonian is translation-invariant by construction, and k-local with k the largest term order.

    Parameters
    ----------
    L : lattice side (>= 1); the lattice is periodic in both directions.
    terms : iterable of ``(coefficient, [(dr, dc), ...])``;
        ``[(-1.0, [(0, 0), (0, 1)]), (-1.0, [(0, 0), (1, 0)]), (-0.3, [(0, 0)])]`` is the Ising model with
        J = 1, h = 0.3. A coefficient must be one real
        number: a site-dependent (array) coefficient is not translation-invariant and is refused (use
        :class:`~deepcheap_native.BoltzmannSampler` for arbitrary couplings). The offsets of a term must be
        distinct sites of the L x L torus (an interaction range wider than the lattice is a ValueError).

    Attributes
    ----------
    L, terms : the lattice side and the terms as ``(coefficient, ((dr, dc), ...))`` tuples.
    order : the largest number of spins in a term (k).
    radius : (Rr, Rc), the largest abs(dr) and abs(dc): the network's kernel is (2Rr+1) x (2Rc+1).
    offsets : the distinct offsets of all terms, in first-seen order (the per-site network's inputs).
    """

    def __init__(self, L: int, terms: Any) -> None:
        self.L = check_int(L, "L", minimum=1)
        if isinstance(terms, (str, bytes)) or not hasattr(terms, "__iter__"):
            raise TypeError(f"terms must be an iterable of (coefficient, offsets) pairs, got {type(terms).__name__}")
        normal: list[tuple[float, tuple[tuple[int, int], ...]]] = []
        for t, item in enumerate(terms):
            if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
                raise TypeError(f"terms[{t}] must be a pair (coefficient, [(dr, dc), ...]), got {item!r}")
            coefficient, offsets = item
            if isinstance(coefficient, np.ndarray) and coefficient.ndim > 0 or isinstance(coefficient, (list, tuple)):
                raise ValueError(
                    f"terms[{t}] coefficient must be one real number: a coefficient per site is not "
                    "translation-invariant, which a LatticeHamiltonian (and its convolutional network) "
                    "requires; use BoltzmannSampler for site-dependent couplings")
            coefficient = check_real(coefficient, f"terms[{t}] coefficient")
            if isinstance(offsets, (str, bytes)) or not isinstance(offsets, (Sequence, np.ndarray)):
                raise TypeError(f"terms[{t}] offsets must be a list of (dr, dc) pairs, got {type(offsets).__name__}")
            offs = tuple(_check_offset(o, f"terms[{t}] offset {k}") for k, o in enumerate(offsets))
            if not offs:
                raise ValueError(f"terms[{t}] has no offsets: a term needs at least one site (a constant "
                                 "energy does not change the Boltzmann distribution)")
            sites = [(dr % self.L, dc % self.L) for dr, dc in offs]
            if len(set(offs)) != len(offs):
                raise ValueError(f"terms[{t}] repeats an offset: {offs!r}")
            if len(set(sites)) != len(sites):
                raise ValueError(
                    f"terms[{t}] offsets {offs!r} fall on the same site of the {self.L}x{self.L} torus: the "
                    f"interaction range (the kernel) is wider than the lattice; use L > the term's extent")
            if max(max(abs(dr), abs(dc)) for dr, dc in offs) >= self.L:
                raise ValueError(f"terms[{t}] offsets {offs!r} reach {self.L} or more sites away: the kernel "
                                 f"is larger than the lattice (L={self.L}); shift the term or use a larger L")
            normal.append((coefficient, offs))
        if not normal:
            raise ValueError("terms must hold at least one term")
        self.terms = tuple(normal)
        self.order = max(len(o) for _, o in self.terms)
        self.radius = (max(abs(dr) for _, o in self.terms for dr, _ in o),
                       max(abs(dc) for _, o in self.terms for _, dc in o))
        seen: dict[tuple[int, int], None] = {}
        for _, offs in self.terms:
            for o in offs:
                seen.setdefault(o, None)
        self.offsets = tuple(seen)

    @classmethod
    def from_ising(cls, model: IsingModel) -> LatticeHamiltonian:
        """The Ising model ``-J Σ_<ij> s_i s_j - h Σ_i s_i`` as two bond terms (right, down) and, when
        h != 0, a field term."""
        if not isinstance(model, IsingModel):
            raise TypeError(f"model must be an IsingModel, got {type(model).__name__}")
        terms: list[tuple[float, list[tuple[int, int]]]] = [(-model.J, [(0, 0), (0, 1)]), (-model.J, [(0, 0), (1, 0)])]
        if model.h != 0.0:
            terms.append((-model.h, [(0, 0)]))
        return cls(model.L, terms)

    def __repr__(self) -> str:
        return f"LatticeHamiltonian(L={self.L}, terms={[(c, list(o)) for c, o in self.terms]!r})"

    @property
    def n_spins(self) -> int:
        return self.L * self.L

    def _check_spins(self, spins: Any, name: str = "spins") -> tuple[np.ndarray, bool]:
        a, came_from_torch = to_numpy(spins, name)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold spins -1/+1 as numbers, got dtype {a.dtype}")
        if a.ndim < 2 or a.shape[-2:] != (self.L, self.L):
            raise ValueError(f"{name} must have shape (..., {self.L}, {self.L}), got {a.shape}")
        bad = (a != 1) & (a != -1)
        if bad.any():
            where = tuple(int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"{name} must hold only -1 and +1, but {name}[{', '.join(map(str, where))}] is {a[where]}")
        return a, came_from_torch

    def neighbourhoods(self, spins: np.ndarray) -> np.ndarray:
        """(..., L, L, n_offsets) float64: spin (i+dr, j+dc) for each offset of :attr:`offsets` (periodic)."""
        s = np.asarray(spins, dtype=np.float64)
        return np.stack([np.roll(s, (-dr, -dc), axis=(-2, -1)) for dr, dc in self.offsets], axis=-1)

    def term_energies(self, spins: Any) -> np.ndarray:
        """(..., n_terms) float64: each term's contribution c_t Σ_sites Π s to H (numpy, exact)."""
        a, _ = self._check_spins(spins)
        return self._term_energies(a)

    def _term_energies(self, a: np.ndarray) -> np.ndarray:
        s = a.astype(np.float64)
        out = np.empty(a.shape[:-2] + (len(self.terms),))
        for t, (c, offs) in enumerate(self.terms):
            prod = np.ones_like(s)
            for dr, dc in offs:
                prod = prod * np.roll(s, (-dr, -dc), axis=(-2, -1))
            out[..., t] = c * prod.sum(axis=(-2, -1))
        return out

    def energy(self, spins: Any) -> Any:
        """H of each lattice, exact: spins of shape (..., L, L) holding ±1 (numpy or torch), result of
        shape (...) in float64 (a torch tensor when spins is one). Products of ±1 are exact and the sum is
        over integers times the coefficients, so the only rounding is the final multiply-adds."""
        a, came_from_torch = self._check_spins(spins)
        result = self._term_energies(a).sum(axis=-1)
        if came_from_torch:
            return like_input(np.ascontiguousarray(result), True)
        return result

    def expanded_terms(self) -> list[tuple[tuple[int, ...], float]]:
        """The terms at every site as ``((i1, i2, ...), coefficient)`` with flat site index r*L + c."""
        L = self.L
        out = []
        for c, offs in self.terms:
            for i in range(L):
                for j in range(L):
                    out.append((tuple(((i + dr) % L) * L + (j + dc) % L for dr, dc in offs), c))
        return out

    def sampler(self, temperature: float, *, replicas: int = 64, seed: int = 0, device: Any = None) -> BoltzmannSampler:
        """Heat-bath sampling of ``exp(-H/T)`` through :class:`~deepcheap_native.BoltzmannSampler` over the
        expanded term list; its spins have shape (replicas, L*L), site (r, c) at index r*L + c (reshape to
        (replicas, L, L) for :meth:`energy`). Terms of order > 4 are refused (the heat bath takes 1 to 4)."""
        if self.order > MAX_SAMPLER_ORDER:
            raise ValueError(f"sampler() needs terms of order <= {MAX_SAMPLER_ORDER} (BoltzmannSampler), "
                             f"this Hamiltonian has order {self.order}")
        return BoltzmannSampler(self.n_spins, self.expanded_terms(), temperature, replicas=replicas,
                                seed=check_seed(seed), device=device)
