"""Statistics of Markov-chain series near a critical point: integrated autocorrelation times (Sokal's
automatic window), single-histogram reweighting (Ferrenberg & Swendsen 1988) and finite-size scaling
(Binder-cumulant crossings and exponent fits, errors by jackknife over independent replicas).

Everything here is numpy on series the samplers return; ``finite_size_scan`` also runs the samplers,
locally or on any ``client`` with ``submit`` (a dask.distributed.Client or a concurrent.futures
Executor), split over replicas with ``first_replica=`` so the numbers do not depend on the split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..core.arrays import html_table, short_repr, to_numpy
from ..core.results import saveable
from ..core.scaleout import run
from ..core.validate import check_choice, check_int, check_real, check_threads, resolve_seed

__all__ = ["AutocorrelationTime", "FiniteSizeScan", "autocorrelation_time", "binder_cumulant", "binder_from_moments",
           "derived_seed", "finite_size_scan", "jackknife", "reweight"]


def _real_array(x: Any, name: str) -> np.ndarray:
    a, _ = to_numpy(x, name)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, but it holds NaN or inf")
    return a


# ---- autocorrelation -------------------------------------------------------------------------------


class AutocorrelationTime(NamedTuple):
    """Integrated autocorrelation time ``tau = 1/2 + sum_{t=1}^{W} rho(t)`` (in measurements).

    The variance of a time average of n correlated samples is ``2 tau sigma^2 / n``, so an uncorrelated
    series has tau = 1/2 and ``2 tau`` measurements make one independent sample.
    """

    tau: float  #: the estimate
    error: float  #: its statistical error, tau * sqrt(2 (2W + 1) / N) (Madras & Sokal 1988)
    window: int  #: the window W chosen
    converged: bool  #: False when no W <= n/2 met W >= c tau(W), or n < 50 tau: too short to trust


def autocorrelation_function(series: Any) -> np.ndarray:
    """Normalised autocorrelation rho(t), t = 0 .. n-1, of a series of shape (n,) or (n, chains).

    Each chain is centred on its own mean; the autocovariances (1/n normalisation, computed by FFT) are
    averaged over chains before normalising, so independent replicas pool their information.
    """
    x = _real_array(series, "series")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"series must have shape (n,) or (n, chains), got {x.shape}")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"series needs at least 2 measurements, got {n}")
    x = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), size, axis=0)[:n].mean(axis=1) / n
    if not acov[0] > 0:
        raise ValueError("series is constant: its autocorrelation is undefined")
    return acov / acov[0]


def autocorrelation_time(series: Any, *, c: float = 6.0) -> AutocorrelationTime:
    """Integrated autocorrelation time with Sokal's automatic window, and its error.

    Parameters
    ----------
    series : measurements of shape (n,), or (n, chains) for independent chains of the same process
        (e.g. ``run(...).abs_m`` with its replicas as columns).
    c : Sokal's window constant: the smallest W with ``W >= c tau(W)`` is used (c = 4..10; 6 is good
        for nearly exponential decay, where the bias is ~exp(-c)).

    Returns
    -------
    AutocorrelationTime(tau, error, window, converged), tau in units of the measurement spacing.
    ``converged`` is False when the series is shorter than 50 tau (the estimate is then biased low).
    """
    c = check_real(c, "c", positive=True)
    rho = autocorrelation_function(series)
    x = np.asarray(series)
    n = rho.size
    total = n * (x.shape[1] if x.ndim == 2 else 1)
    taus = 0.5 + np.cumsum(rho[1:])  # taus[W-1] = tau(W)
    windows = np.arange(1, n)
    ok = windows[: n // 2] >= c * taus[: n // 2]
    converged = bool(ok.any())
    w = int(windows[np.argmax(ok)]) if converged else max(1, n // 2)
    tau = float(taus[w - 1])
    converged = converged and n >= 50 * tau
    error = abs(tau) * math.sqrt(2.0 * (2 * w + 1) / total)
    return AutocorrelationTime(tau=tau, error=error, window=w, converged=converged)


# ---- reweighting -----------------------------------------------------------------------------------


def _log_weights(e: np.ndarray, n_sites: int, t0: float, temperatures: np.ndarray) -> np.ndarray:
    """log w_i(T) = -(1/T - 1/T0) N e_i, shape (len(T), samples), shifted so each row's max is 0."""
    lw = -np.outer(1.0 / temperatures - 1.0 / t0, e * n_sites)
    return lw - lw.max(axis=1, keepdims=True)


def reweight(
    e: Any,
    observable: Any,
    temperature: float,
    temperatures: Any,
    *,
    n_sites: int,
) -> Any:
    """Single-histogram reweighting (Ferrenberg & Swendsen 1988) of samples taken at one temperature.

    ``<O>_T = sum_i O_i exp(-(1/T - 1/T0) E_i) / sum_i exp(-(1/T - 1/T0) E_i)`` with ``E_i = N e_i`` the
    total energy of sample i. Reliable while the reweighted energy distribution stays inside the sampled
    one: roughly ``|1/T - 1/T0| * sigma(E) <~ 2``.

    Parameters
    ----------
    e : energies per spin of the samples, any shape (all samples are pooled).
    observable : an array of the shape of ``e`` (e.g. ``m2``), or a mapping name -> such arrays.
    temperature : T0, the temperature the samples were drawn at.
    temperatures : the temperature(s) to reweight to (scalar or 1-D).
    n_sites : N, the number of spins (L^2), which turns e into E.

    Returns
    -------
    <O> at each temperature: a float for scalar ``temperatures``, else an array; a dict of those for a
    mapping of observables.
    """
    energies = _real_array(e, "e").ravel()
    if energies.size == 0:
        raise ValueError("e must not be empty")
    t0 = check_real(temperature, "temperature", positive=True)
    ts = _real_array(temperatures, "temperatures")
    scalar = ts.ndim == 0
    ts = np.atleast_1d(ts)
    if ts.ndim != 1:
        raise ValueError(f"temperatures must be a scalar or 1-D, got shape {ts.shape}")
    if (ts <= 0).any():
        raise ValueError(f"temperatures must be > 0, got {ts[ts <= 0][0]}")
    n_sites = check_int(n_sites, "n_sites", minimum=1)
    observables = dict(observable) if isinstance(observable, Mapping) else {None: observable}
    arrays = {}
    for name, o in observables.items():
        label = "observable" if name is None else f"observable[{name!r}]"
        a = _real_array(o, label)
        if a.size != energies.size:
            raise ValueError(f"{label} has {a.size} samples but e has {energies.size}: they must match")
        arrays[name] = a.ravel()
    w = np.exp(_log_weights(energies, n_sites, t0, ts))
    norm = w.sum(axis=1)
    out = {name: (w @ a) / norm for name, a in arrays.items()}
    out = {name: (float(v[0]) if scalar else v) for name, v in out.items()}
    return out[None] if None in out else out


# ---- finite-size scaling ---------------------------------------------------------------------------

# Sums kept per jackknife block: weight, |m|, m^2, m^4, e, m^2 e, m^4 e (e per spin).
_W, _ABS, _M2, _M4, _E, _M2E, _M4E = range(7)


def _block_sums(e: np.ndarray, m: np.ndarray, n_sites: int, t0: float, temperatures: np.ndarray,
                blocks: int) -> np.ndarray:
    """Reweighted sums per replica block: shape (len(T), blocks, 7); e, m of shape (n, replicas)."""
    r = e.shape[1]
    edges = np.linspace(0, r, blocks + 1).round().astype(int)
    lw = _log_weights(e.ravel(order="F"), n_sites, t0, temperatures)  # column-major: replica by replica
    w = np.exp(lw).reshape(len(temperatures), r, e.shape[0])
    m2 = m * m
    columns = np.stack([np.ones_like(e), np.abs(m), m2, m2 * m2, e, m2 * e, m2 * m2 * e])  # (7, n, r)
    per_replica = np.einsum("trn,knr->trk", w, columns)  # (T, r, 7)
    return np.stack([per_replica[:, edges[b]:edges[b + 1]].sum(axis=1) for b in range(blocks)], axis=1)


def _leave_one_out(sums: np.ndarray) -> np.ndarray:
    """(..., blocks, 7) block sums -> (..., blocks + 1, 7): index 0 all blocks, 1 + k without block k."""
    total = sums.sum(axis=-2, keepdims=True)
    return np.concatenate([total, total - sums], axis=-2)


def _observables(sums: np.ndarray, n_sites: int, temperatures: np.ndarray) -> dict[str, np.ndarray]:
    """Binder cumulant, its beta-derivative, <|m|> and chi = N <m^2> / T from sums (T, samples, 7)."""
    s = sums / sums[..., _W:_W + 1]
    m2, m4, e = s[..., _M2], s[..., _M4], s[..., _E]
    t = temperatures.reshape((-1,) + (1,) * (m2.ndim - 1))
    # d<X>/d beta = -N (<X e> - <X><e>) for e per spin.
    dm2 = -n_sites * (s[..., _M2E] - m2 * e)
    dm4 = -n_sites * (s[..., _M4E] - m4 * e)
    return {
        "binder": binder_from_moments(m2, m4),
        "dbinder_dbeta": -(dm4 * m2 - 2.0 * m4 * dm2) / (3.0 * m2**3),
        "abs_m": s[..., _ABS],
        "chi": n_sites * m2 / t,
        "chi_connected": n_sites * (m2 - s[..., _ABS] ** 2) / t,
        "e": e,
    }


def _jackknife_error(values: np.ndarray) -> np.ndarray:
    """values[0] the full estimate, values[1:] the leave-one-out ones (axis 0)."""
    k = values.shape[0] - 1
    loo = values[1:]
    return np.sqrt((k - 1) / k * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))


def jackknife(per_replica: np.ndarray, estimate: Any) -> tuple[float, float]:
    """``estimate`` of the means over independent replicas, and its jackknife standard error.

    ``per_replica`` has the replicas on axis 1 (rows: per-replica time averages of the quantities the
    estimate combines); ``estimate`` maps an array of those rows, shape (rows,) or (rows, n), to one
    value per column. The error is ``sqrt((n-1)/n sum_k (est_k - mean est)^2)`` over the n
    leave-one-replica-out estimates; NaN for one replica."""
    n = per_replica.shape[1]
    value = float(estimate(per_replica.mean(axis=1)))
    if n < 2:
        return value, float("nan")
    leave_one_out = (per_replica.sum(axis=1, keepdims=True) - per_replica) / (n - 1)
    values = np.asarray(estimate(leave_one_out), dtype=np.float64)
    return value, float(_jackknife_error(np.concatenate([[value], values]))[()])


def binder_from_moments(m2: Any, m4: Any) -> Any:
    """The Binder cumulant ``U = 1 - <m^4> / (3 <m^2>^2)`` from the moments <m²> and <m⁴> (numbers or
    arrays, broadcast): the one formula every Binder estimate of the package uses."""
    return 1.0 - m4 / (3.0 * m2 * m2)


def binder_cumulant(m_series: Any, axis: int | tuple[int, ...] | None = None) -> Any:
    """Binder cumulant ``U = 1 - <m^4> / (3 <m^2>^2)`` of magnetization samples.

    Parameters
    ----------
    m_series : array-like of magnetizations (e.g. ``run(...).m``, shape (n_measure, replicas)).
    axis : axes to average over (default: all samples pooled).

    Returns
    -------
    float, or an array when ``axis`` leaves dimensions.
    """
    m, _ = to_numpy(m_series, "m_series")
    if m.dtype.kind not in "biuf":
        raise TypeError(f"m_series must hold real numbers, got dtype {m.dtype}")
    m = np.asarray(m, dtype=np.float64)
    if m.size == 0:
        raise ValueError("m_series must not be empty")
    m2 = np.mean(m * m, axis=axis)
    m4 = np.mean((m * m) ** 2, axis=axis)
    if np.any(m2 == 0):
        raise ValueError("m_series has <m^2> = 0: the cumulant is undefined")
    u = binder_from_moments(m2, m4)
    return float(u) if np.ndim(u) == 0 else u


def _crossing(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Temperature where curves a and b (on grid t) cross, by linear interpolation; the crossing nearest
    the middle of the grid when there are several, nan when there is none."""
    d = a - b
    idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)[0]
    if idx.size == 0:
        return math.nan
    i = int(idx[np.argmin(np.abs(idx - (t.size - 1) / 2))])
    if d[i] == d[i + 1]:
        return float(t[i])
    return float(t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1]))


def _fit_slope(sizes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of log(values) against log(L), along the last axis."""
    x = np.log(sizes)
    y = np.log(np.abs(values))
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)


def derived_seed(*parts: Any) -> int:
    """A 64-bit sampler seed, a fixed function of a job's seed and the parameters that set it apart
    (blake2b of ``"seed|part|..."``): jobs that differ in any part draw unrelated Philox streams, while
    a job gives the same numbers in any larger job that contains it."""
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _scan_job(L: int, temperature: float, algorithm: str, replicas: int, first_replica: int, seed: int,
              thermalize: int, n_sweeps: int, measure_every: int,
              threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One piece of a scan (module level, so any executor can pickle it): (e, m) of shape (n, replicas),
    on ``threads`` threads of the process that runs it (None: that process's setting)."""
    from .model import IsingModel

    sampler = IsingModel(L).sampler(temperature, replicas=replicas, algorithm=algorithm, seed=seed,
                                    init="up", first_replica=first_replica)
    sampler.sweep(thermalize, threads=threads)
    series = sampler.run(n_sweeps, measure_every=measure_every, threads=threads)
    return series.e, series.m


@saveable
@dataclass
class FiniteSizeScan:
    """What :func:`finite_size_scan` measured and estimated (errors: jackknife over replica blocks)."""

    sizes: np.ndarray  #: L
    temperature: float  #: the simulation temperature T0
    grid: np.ndarray  #: temperatures the curves are reweighted to
    binder: np.ndarray  #: U4(L, T) on the grid, shape (len(sizes), len(grid))
    binder_error: np.ndarray
    crossings: list[tuple[int, int, float, float]]  #: (L, L', T where U4 curves cross, error)
    tc: float  #: T_c estimate: crossing of the two largest sizes
    tc_error: float
    exponents: dict[str, tuple[float, float]]  #: "nu", "gamma/nu", "beta/nu": (value, error)
    at_tc: dict[str, tuple[np.ndarray, np.ndarray]]  #: per L at the estimated T_c: (values, errors)
    tau_abs_m: np.ndarray  #: integrated autocorrelation time of ``|m|`` per L (in measurements)
    tau_abs_m_error: np.ndarray
    series: dict[int, tuple[np.ndarray, np.ndarray]] = field(repr=False)  #: L -> (e, m), (n, replicas)
    seed: int | None = None  #: the scan's seed (drawn when seed=None): pass it to repeat the scan

    def __repr__(self) -> str:
        return short_repr("FiniteSizeScan", [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "series"])

    def _repr_html_(self) -> str:
        return html_table("FiniteSizeScan", [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "series"])

    def summary(self) -> str:
        lines = [f"T_c = {self.tc:.6f} ± {self.tc_error:.6f}"]
        for name, (v, err) in self.exponents.items():
            lines.append(f"{name} = {v:.4f} ± {err:.4f}")
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Draw the scan with matplotlib (U₄ crossings, χ against L, the collapse): the report's figure,
        :func:`deepcheap_native.ising.plots.plot_scan`. ``ax``: three Axes or None. Returns the axes."""
        from .plots import plot_scan

        return plot_scan(self, ax)


def _check_series(series: Mapping[int, tuple[Any, Any]], sizes: np.ndarray,
                  blocks: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """L -> (e, m) as float64 arrays of one shape (n >= 2, replicas >= blocks)."""
    data = {}
    for L in sizes:
        e, m = series[int(L)]
        e, m = _real_array(e, f"series[{L}] e"), _real_array(m, f"series[{L}] m")
        if e.ndim != 2 or e.shape != m.shape:
            raise ValueError(f"series[{L}]: e and m must have the same shape (n, replicas), got {e.shape}, {m.shape}")
        if e.shape[1] < blocks:
            raise ValueError(f"series[{L}] has {e.shape[1]} replicas, fewer than blocks={blocks}")
        if e.shape[0] < 2:
            raise ValueError(f"series[{L}] has {e.shape[0]} measurements; at least 2 are needed")
        data[int(L)] = (e, m)
    return data


def _at_temperatures(data: Mapping[int, tuple[np.ndarray, np.ndarray]], sizes: np.ndarray, t0: float,
                     eval_t: np.ndarray, blocks: int) -> dict[str, np.ndarray]:
    """|m|, chi, dU4/dbeta and U4 per L (rows) and jackknife sample k (columns), sample k evaluated at
    its own temperature eval_t[k] (index 0: all blocks)."""
    at = {name: np.empty((len(sizes), blocks + 1)) for name in ("abs_m", "chi", "dbinder_dbeta", "binder")}
    for j, L in enumerate(sizes):
        e, m = data[int(L)]
        for k in range(blocks + 1):  # leave-one-out k evaluated at its own T_c estimate
            sums = _leave_one_out(_block_sums(e, m, int(L) ** 2, t0, eval_t[k:k + 1], blocks))[:, k:k + 1]
            obs = _observables(sums, int(L) ** 2, eval_t[k:k + 1])
            for name in at:
                at[name][j, k] = obs[name][0, 0]
    return at


def analyse_finite_size(
    series: Mapping[int, tuple[Any, Any]],
    temperature: float,
    *,
    window: float | None = None,
    points: int = 201,
    blocks: int = 16,
    tc: float | None = None,
) -> FiniteSizeScan:
    """The analysis half of :func:`finite_size_scan`, on series already measured.

    Parameters
    ----------
    series : L -> (e, m), energies and magnetizations per spin of shape (n, replicas), all at T0.
    temperature : T0.
    window : reweight to T0 ± window (default 2 / L_max^0.75).
    points : grid points in the window.
    blocks : jackknife blocks of replicas (every L needs at least this many replicas).
    tc : evaluate the exponents at this temperature instead of the estimated crossing.
    """
    t0 = check_real(temperature, "temperature", positive=True)
    if not isinstance(series, Mapping) or len(series) < 2:
        raise ValueError("series must map at least two lattice sizes L to (e, m) series")
    sizes = np.array(sorted(check_int(L, "L", minimum=2) for L in series))
    blocks = check_int(blocks, "blocks", minimum=2)
    points = check_int(points, "points", minimum=3)
    data = _check_series(series, sizes, blocks)
    if window is None:
        window = 2.0 / float(sizes[-1]) ** 0.75
    window = check_real(window, "window", positive=True)
    grid = np.linspace(t0 - window, t0 + window, points)
    if grid[0] <= 0:
        raise ValueError(f"window={window} reaches T <= 0 from T0={t0}")
    curves, dcurves = [], []
    for L in sizes:
        e, m = data[int(L)]
        obs = _observables(_leave_one_out(_block_sums(e, m, int(L) ** 2, t0, grid, blocks)), int(L) ** 2, grid)
        curves.append(obs["binder"])  # (T, blocks + 1)
        dcurves.append(obs["dbinder_dbeta"])
    binder = np.stack(curves)  # (L, T, blocks + 1)
    crossings = []
    cross_values = []
    for i in range(len(sizes) - 1):
        values = np.array([_crossing(grid, binder[i, :, k], binder[i + 1, :, k]) for k in range(blocks + 1)])
        err = float(_jackknife_error(values[:, None])[0]) if np.isfinite(values).all() else math.nan
        crossings.append((int(sizes[i]), int(sizes[i + 1]), float(values[0]), err))
        cross_values.append(values)
    tc_values = cross_values[-1]
    tc_error = float(_jackknife_error(tc_values[:, None])[0]) if np.isfinite(tc_values).all() else math.nan
    eval_t = np.full(blocks + 1, check_real(tc, "tc", positive=True)) if tc is not None else tc_values
    if not np.isfinite(eval_t).all():
        raise ValueError(f"the Binder cumulants of L={sizes[-2]} and L={sizes[-1]} do not cross within "
                         f"T0 ± {window}: widen the window or simulate closer to T_c")
    at = _at_temperatures(data, sizes, t0, eval_t, blocks)
    slopes = {
        "nu": 1.0 / _fit_slope(sizes, at["dbinder_dbeta"].T),
        "gamma/nu": _fit_slope(sizes, at["chi"].T),
        "beta/nu": -_fit_slope(sizes, at["abs_m"].T),
    }
    exponents = {name: (float(v[0]), float(_jackknife_error(v[:, None])[0])) for name, v in slopes.items()}
    taus = [autocorrelation_time(np.abs(data[int(L)][1])) for L in sizes]
    return FiniteSizeScan(
        sizes=sizes, temperature=t0, grid=grid, binder=binder[:, :, 0],
        binder_error=np.stack([_jackknife_error(b.T) for b in binder]),
        crossings=crossings, tc=float(tc_values[0]), tc_error=tc_error, exponents=exponents,
        at_tc={name: (v[:, 0].copy(), _jackknife_error(v.T)) for name, v in at.items()},
        tau_abs_m=np.array([t.tau for t in taus]), tau_abs_m_error=np.array([t.error for t in taus]),
        series=data,
    )


def _per_size(value: Any, name: str, sizes: list[int]) -> dict[int, int]:
    """An int, or a mapping L -> int with an entry for every L: a count per size."""
    if isinstance(value, Mapping):
        missing = set(sizes) - set(value)
        if missing:
            raise ValueError(f"{name} has no entry for L in {sorted(missing)}")
        return {L: check_int(value[L], f"{name}[{L}]", minimum=0) for L in sizes}
    v = check_int(value, name, minimum=0)
    return {L: v for L in sizes}


def _scan_jobs(sizes: list[int], t0: float, algorithm: str, replicas: int, pieces: int, seed: int,
               therm: Mapping[int, int], sweeps: Mapping[int, int], every: int,
               threads: int | None) -> list[tuple[int, tuple[Any, ...]]]:
    """(L, _scan_job arguments) per (L, block of replicas): ``pieces`` blocks per L with their
    first_replica offsets (whole 64-replica words for multi-spin Metropolis); size L on derived_seed(seed, L)."""
    unit = 64 if algorithm == "metropolis" and replicas % 64 == 0 else 1  # keep multi-spin words whole
    pieces = min(pieces, replicas // unit)
    jobs = []
    for L in sorted(set(sizes)):
        edges = unit * np.linspace(0, replicas // unit, pieces + 1).round().astype(int)
        for a, b in zip(edges[:-1], edges[1:]):
            if b > a:
                jobs.append((L, (L, t0, algorithm, int(b - a), int(a), derived_seed(seed, L), therm[L], sweeps[L],
                                 every, threads)))
    return jobs


def _run_jobs(jobs: list[tuple[int, tuple[Any, ...]]], client: Any,
              progress: Any) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """L -> (e, m) with the jobs' replica blocks side by side, run here (client None) or on ``client``
    in order; one progress unit per job."""
    # The core engine: here, one job after another, for client=None; else every job submitted first.
    results = run(_scan_job, [args for _, args in jobs], client=client, progress=progress,
                  description="finite-size scan jobs", unit="job")
    parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {L: [] for L, _ in jobs}
    for (L, _), piece in zip(jobs, results):
        parts[L].append(piece)
    return {L: (np.concatenate([p[0] for p in ps], axis=1), np.concatenate([p[1] for p in ps], axis=1))
            for L, ps in parts.items()}


def _check_sizes(sizes: Any) -> list[int]:
    """At least two different even L (each checked as IsingModel checks it)."""
    from .model import IsingModel

    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of lattice sizes, got {type(sizes).__name__}")
    size_list = [check_int(L, "sizes[i]", minimum=2) for L in sizes]
    if len(set(size_list)) < 2:
        raise ValueError(f"sizes needs at least two different L, got {list(sizes)!r}")
    for L in size_list:
        IsingModel(L)  # even L, with the model's own message
    return size_list


def finite_size_scan(
    sizes: Sequence[int],
    temperature: float,
    *,
    algorithm: str = "wolff",
    replicas: int = 16,
    n_sweeps: int | Mapping[int, int] = 1000,
    thermalize: int | Mapping[int, int] = 100,
    measure_every: int = 1,
    seed: int | None = None,
    blocks: int | None = None,
    window: float | None = None,
    points: int = 201,
    tc: float | None = None,
    client: Any = None,
    jobs_per_size: int | None = None,
    progress: Any = False,
    threads: int | None = None,
) -> FiniteSizeScan:
    """Simulate each L at T0 near T_c and estimate T_c, nu, gamma/nu and beta/nu by finite-size scaling.

    Each size runs ``replicas`` independent lattices (cluster updates by default, started all up) at
    ``temperature``;
    single-histogram reweighting gives the Binder cumulant U4(T) = 1 - <m^4> / (3 <m^2>^2) on a grid
    T0 ± window. T_c is where the U4 curves of the two largest sizes cross (the crossings of every
    neighbouring pair are reported). At that T_c: ``dU4/dbeta ~ L^(1/nu)`` (computed exactly from the
    reweighted energy correlations), ``chi = L^2 <m^2> / T ~ L^(gamma/nu)`` and ``<|m|> ~ L^(-beta/nu)``,
    fitted by least squares on log-log axes. Errors: jackknife over ``blocks`` groups of replicas, the
    whole analysis (crossing included) repeated per leave-one-out sample.

    Parameters
    ----------
    sizes : at least two lattice sizes L (even).
    temperature : T0, the simulation temperature (near T_c; the reweighting window must hold the crossing).
    algorithm : "wolff", "swendsen-wang", "metropolis" or "heatbath".
    replicas : independent lattices per L (at least ``blocks``).
    n_sweeps, thermalize : sweeps measured and discarded per L (an int, or a mapping L -> int).
    measure_every : sweeps between measurements.
    seed : 64-bit seed of the scan; size L runs on ``derived_seed(seed, L)``. (The Philox items hold
        replica, site and sweep but no L, so one seed shared by every L would make the sizes draw the
        same words at shared (replica, site, sweep): correlated lattices across L.)
    blocks : jackknife blocks (default min(replicas, 16)).
    window : half-width of the reweighting window (default 2 / L_max^0.75).
    points : grid points in the window.
    tc : evaluate exponents at this T instead of the estimate (e.g. the exact T_c, to separate the errors).
    client : None (run here), anything with ``submit(fn, *args)`` returning futures with ``result()`` (a
        dask.distributed.Client or a concurrent.futures Executor), or a string for
        :func:`deepcheap_native.distributed.get_client` ("sync" or a scheduler address). Jobs are
        (L, block of replicas) pieces with ``first_replica=`` offsets (whole 64-replica words for
        multi-spin Metropolis), so the series are identical to a local run.
    jobs_per_size : replica blocks per L sent to the client (default ``blocks``; locally one per L).
    progress : False (default), True (a tqdm bar), a callable ``progress(jobs_done, jobs_total)`` or a bar
        with ``update``: the package's one progress contract (``progress_bar``), reported per job.
    threads : CPU threads per job (None: :func:`~deepcheap_native.set_num_threads` of the process running
        the job; with ``client``, the worker's). The series do not depend on it.

    Returns
    -------
    FiniteSizeScan
    """
    size_list = _check_sizes(sizes)
    t0 = check_real(temperature, "temperature", positive=True)
    algorithm = check_choice(algorithm, "algorithm", ("wolff", "swendsen-wang", "metropolis", "heatbath"))
    replicas = check_int(replicas, "replicas", minimum=2)
    blocks = min(replicas, 16) if blocks is None else check_int(blocks, "blocks", minimum=2, maximum=replicas)
    every = check_int(measure_every, "measure_every", minimum=1)
    seed = resolve_seed(seed)
    threads = check_threads(threads)

    sweeps = _per_size(n_sweeps, "n_sweeps", size_list)
    therm = _per_size(thermalize, "thermalize", size_list)
    for L in size_list:
        if sweeps[L] // every < 2:
            raise ValueError(f"n_sweeps[{L}]={sweeps[L]} gives fewer than 2 measurements at measure_every={every}")
    pieces = 1 if client is None else (blocks if jobs_per_size is None else
                                      check_int(jobs_per_size, "jobs_per_size", minimum=1, maximum=replicas))
    jobs = _scan_jobs(size_list, t0, algorithm, replicas, pieces, seed, therm, sweeps, every, threads)
    scan = analyse_finite_size(_run_jobs(jobs, client, progress), t0, window=window, points=points, blocks=blocks, tc=tc)
    scan.seed = seed
    return scan
