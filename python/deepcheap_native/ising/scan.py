"""The pieces of ``deepcheap_native.distributed.ising_scan``, an Ising grid L x T x algorithm x replicas x
sweeps: each row's seed, one task's per-replica averages and the table's statistics (jackknife over
independent replicas)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .stats import binder_from_moments, derived_seed, jackknife

__all__ = ["ISING_ALGORITHMS", "ISING_COLUMNS", "ising_statistics", "row_seed"]

#: Algorithms of :func:`ising_scan`: the local checkerboard samplers and the cluster updates (J > 0, h = 0).
ISING_ALGORITHMS = ("metropolis", "heatbath", "wolff", "swendsen-wang")
#: Columns of :func:`ising_scan`'s table, after the parameters.
ISING_COLUMNS = ("abs_m", "abs_m_err", "e", "e_err", "U4", "U4_err", "chi", "chi_err", "chi_connected",
                 "chi_connected_err", "C", "C_err")


def row_seed(seed: int, L: int, T: float, algorithm: str, replicas: int, sweeps: int) -> int:
    """The sampler seed of one scan row: a fixed function of the scan seed and the row's parameters,
    so a row gives the same numbers in any scan that contains it."""
    return derived_seed(seed, L, float(T).hex(), algorithm, replicas, sweeps)


def _ising_piece(L: int, J: float, h: float, T: float, algorithm: str, kernel: str, first: int, n: int,
                 thermalize: int, sweeps: int, measure_every: int, seed: int) -> np.ndarray:
    """Per-replica time averages of |m|, m², m⁴, e, e² for replicas first .. first + n - 1: (5, n)."""
    from .model import IsingModel

    model = IsingModel(L, J=J, h=h)
    extra: dict[str, Any] = {"first_replica": first} if first else {}
    if kernel != "cluster":
        extra["kernel"] = kernel
    sampler = model.sampler(T, replicas=n, algorithm=algorithm, seed=seed, **extra)
    sampler.sweep(thermalize)
    r = sampler.run(sweeps, measure_every=measure_every)
    return np.stack([r.abs_m.mean(axis=0), r.m2.mean(axis=0), r.m4.mean(axis=0), r.e.mean(axis=0),
                     (r.e * r.e).mean(axis=0)])


def ising_statistics(per_replica: np.ndarray, L: int, T: float) -> dict[str, float]:
    """The table columns from per-replica averages (rows |m|, m², m⁴, e, e²), errors over replicas."""
    N = L * L
    out: dict[str, float] = {}
    out["abs_m"], out["abs_m_err"] = jackknife(per_replica, lambda a: a[0])
    out["e"], out["e_err"] = jackknife(per_replica, lambda a: a[3])
    out["U4"], out["U4_err"] = jackknife(per_replica, lambda a: binder_from_moments(a[1], a[2]))
    # One meaning per name across the package (as finite_size_scan): chi = L²⟨m²⟩/T, and the connected
    # susceptibility (the |m| fluctuation, finite at T_c's peak on a finite lattice) under its own name.
    out["chi"], out["chi_err"] = jackknife(per_replica, lambda a: N * a[1] / T)
    out["chi_connected"], out["chi_connected_err"] = jackknife(per_replica, lambda a: N * (a[1] - a[0] * a[0]) / T)
    out["C"], out["C_err"] = jackknife(per_replica, lambda a: N * (a[4] - a[3] * a[3]) / (T * T))
    return out


