"""The Ising area's distributed entry point :func:`ising_scan` (public as
``deepcheap_native.distributed.ising_scan``): a grid L x T x algorithm x replicas x sweeps run on the
core scale-out engine, each row's seed, one task's per-replica averages and the table's statistics
(jackknife over independent replicas)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.scaleout import Engine, _require
from ..core.scaleout import pieces as _pieces
from ..core.validate import check_choice, check_int, check_threads, resolve_seed
from .stats import binder_from_moments, derived_seed, jackknife

__all__ = ["ISING_ALGORITHMS", "ISING_COLUMNS", "ising_scan", "ising_statistics", "row_seed"]

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


def _as_list(value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return [value]
    return list(value)


def ising_scan(L: Any, T: Any, *, algorithm: Any = "metropolis", replicas: Any = 64, sweeps: Any = 1000,
               thermalize: int | None = None, measure_every: int = 1, J: float = 1.0, h: float = 0.0,
               seed: int | None = None, replica_chunk: int | None = None, client: Any = None,
               threads: int | None = 1) -> Any:
    """Ising observables over the grid L × T × algorithm × replicas × sweeps, one task per row (or per
    ``replica_chunk`` replicas of a row), as a pandas DataFrame.

    ``algorithm``: "metropolis", "heatbath", "wolff" or "swendsen-wang" (cluster updates need J > 0
    and h = 0; a Wolff "sweep" flips clusters covering about L² spins, see ``ClusterSampler``).
    Each row runs ``replicas`` independent lattices from random spins: ``thermalize`` sweeps (default
    sweeps // 4) unmeasured, then ``sweeps`` sweeps measured every ``measure_every``. Columns: the
    parameters, the row's sampler ``seed`` (:func:`row_seed`), ``⟨|m|⟩`` (``abs_m``), ⟨e⟩ per spin (``e``),
    the Binder cumulant ``U4`` = 1 − ⟨m⁴⟩/(3⟨m²⟩²), the susceptibility ``chi`` = ``L²⟨m²⟩/T`` (as in
    :func:`~deepcheap_native.ising.finite_size_scan`), the connected susceptibility ``chi_connected`` =
    ``L²(⟨m²⟩ − ⟨|m|⟩²)/T`` (before version 0.2 this was the column named ``chi``) and
    the heat capacity per spin ``C`` = L²(⟨e²⟩ − ⟨e⟩²)/T², each with a jackknife standard error over
    the independent replicas (``*_err``; NaN for one replica).

    Splitting a row's replicas (``replica_chunk``, a multiple of 64 when the row runs the multi-spin
    Metropolis kernel) uses ``first_replica=``, and the table is the same bit for bit.
    """
    pd = _require("pandas")
    Ls = [check_int(v, "L", minimum=2) for v in _as_list(L)]
    Ts = [float(v) for v in _as_list(T)]
    algorithms = [check_choice(v, "algorithm", ISING_ALGORITHMS) for v in _as_list(algorithm)]
    replica_counts = [check_int(v, "replicas", minimum=1) for v in _as_list(replicas)]
    sweep_counts = [check_int(v, "sweeps", minimum=1) for v in _as_list(sweeps)]
    every = check_int(measure_every, "measure_every", minimum=1)
    for s in sweep_counts:
        if s < every:
            raise ValueError(f"sweeps ({s}) must be at least measure_every ({every}) so that every row measures")
    for t in Ts:
        if not np.isfinite(t) or t <= 0:
            raise ValueError(f"temperatures must be finite and > 0, got {t}")
    seed = resolve_seed(seed)
    if replica_chunk is not None:
        replica_chunk = check_int(replica_chunk, "replica_chunk", minimum=1)
    runner = Engine(client, threads=check_threads(threads), local=False)
    rows, futures = [], []
    for Lv, Tv, alg, R, S in itertools.product(Ls, Ts, algorithms, replica_counts, sweep_counts):
        therm = S // 4 if thermalize is None else check_int(thermalize, "thermalize", minimum=0)
        if alg in ("wolff", "swendsen-wang"):
            kernel = "cluster"
        else:
            kernel = "multispin" if alg == "metropolis" and R % 64 == 0 else "int8"
        piece = R if replica_chunk is None else replica_chunk
        if kernel == "multispin" and piece % 64:
            raise ValueError(
                f"replica_chunk must be a multiple of 64 for rows on the multi-spin kernel (Metropolis with "
                f"{R} replicas): pieces of {piece} replicas would run a different kernel; got replica_chunk={piece}"
            )
        s = row_seed(seed, Lv, Tv, alg, R, S)
        rows.append({"L": Lv, "T": Tv, "algorithm": alg, "replicas": R, "sweeps": S, "thermalize": therm,
                     "measure_every": every, "seed": s})
        futures.append([runner.submit(_ising_piece, Lv, float(J), float(h), Tv, alg, kernel, first, n, therm, S,
                                      every, s) for first, n in _pieces(R, piece)])
    for row, parts in zip(rows, futures):
        per_replica = np.concatenate(runner.gather(parts), axis=1)
        row.update(ising_statistics(per_replica, row["L"], row["T"]))
    return pd.DataFrame(rows, columns=["L", "T", "algorithm", "replicas", "sweeps", "thermalize",
                                       "measure_every", "seed", *ISING_COLUMNS])
