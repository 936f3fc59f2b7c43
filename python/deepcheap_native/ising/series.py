"""The samplers' results: time series of the lattice samplers (local and cluster) and of the k-local
Boltzmann sampler, saveable without pickle (``to_npz``), with short reprs.

Energy names, one meaning each across the Ising area's results: ``e`` and ``energy_per_spin`` are
H / N (N spins: L² on a lattice); ``energy`` and ``total_energy`` are H itself. The lattice series
carry ``e`` (per spin, as every lattice measurement), the Boltzmann series ``energy`` (the total: a
k-local Hamiltonian has no site count to divide by); the explicit names are aliases of those fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core.arrays import html_table, short_repr
from ..core.results import saveable

__all__ = ["BoltzmannSeries", "ClusterSeries", "IsingSeries"]


def _plot(self: Any, quantities: Any = None, ax: Any = None) -> Any:
    """Draw the series with matplotlib (mean over replicas ±1σ, a few replicas faint), by default ``e``
    and ``abs_m`` (``energy`` for a Boltzmann series): see
    :func:`deepcheap_native.ising.plots.plot_series`. Returns the axes."""
    from .plots import plot_series

    return plot_series(self, quantities, ax)


def _result(cls: type) -> type:
    """A series type: saveable (``to_npz``, ``to_dataframe``), a short repr, an HTML table and ``plot``."""
    cls.__repr__ = lambda self: short_repr(cls.__name__, zip(self._fields, self))
    cls._repr_html_ = lambda self: html_table(cls.__name__, zip(self._fields, self))
    cls.plot = _plot
    return saveable(cls)


def _lattice_series(cls: type, m: Any, e: Any, *rest: Any) -> Any:
    """A lattice series from its magnetizations and energies per spin: (m, |m|, m², m⁴, e, *rest)."""
    m2 = m * m
    return cls(m, np.abs(m), m2, m2 * m2, e, *rest)


@_result
class IsingSeries(NamedTuple):
    """Time series from :meth:`IsingSampler.run`, each of shape (n_measure, replicas)."""

    m: np.ndarray  #: magnetization per spin
    abs_m: np.ndarray  #: ``|m|``
    m2: np.ndarray  #: m^2
    m4: np.ndarray  #: m^4
    e: np.ndarray  #: energy per spin, H / L²

    @property
    def energy_per_spin(self) -> Any:
        """H / L² per measurement and replica: the explicit name of ``e``."""
        return self.e


@_result
class ClusterSeries(NamedTuple):
    """Time series from :meth:`ClusterSampler.run`, each of shape (n_measure, replicas): the fields of
    :class:`IsingSeries`, then the cluster counts."""

    m: np.ndarray  #: magnetization per spin
    abs_m: np.ndarray  #: ``|m|``
    m2: np.ndarray  #: m^2
    m4: np.ndarray  #: m^4
    e: np.ndarray  #: energy per spin, H / L²
    clusters: np.ndarray  #: clusters built in the sweeps before each measurement (int64)
    flipped: np.ndarray  #: spins flipped in those sweeps (int64)

    @property
    def energy_per_spin(self) -> Any:
        """H / L² per measurement and replica: the explicit name of ``e`` (as in IsingSeries)."""
        return self.e

    @property
    def mean_cluster_size(self) -> float:
        """Spins flipped per cluster built. Wolff: its clusters are grown from a random site, so they are
        picked in proportion to their size and this averages to ``L^2 <m^2>`` (Wolff's improved
        estimator of the susceptibility, chi = L^2 <m^2> / T). Swendsen-Wang: every cluster of the
        partition counts and half of them flip, so this is half the mean cluster size."""
        total = self.clusters.sum()
        if total == 0:
            raise ValueError("no clusters were built: run at least one sweep between measurements")
        return float(self.flipped.sum() / total)


@_result
class BoltzmannSeries(NamedTuple):
    """Time series from :meth:`BoltzmannSampler.run`."""

    energy: np.ndarray  #: H (the total) per replica, shape (n_measure, replicas)
    spins: np.ndarray | None  #: (n_measure, replicas, n_spins) int8 when asked for, else None

    @property
    def total_energy(self) -> Any:
        """H (the total) per measurement and replica: the explicit name of ``energy``."""
        return self.energy
