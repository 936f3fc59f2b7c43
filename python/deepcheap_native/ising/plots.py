"""Figures of the Ising area's results: ``FiniteSizeScan.plot()``, ``IsingSeries.plot()`` (and the
cluster and Boltzmann series). The report draws its finite-size-scaling figure with :func:`plot_scan`.
matplotlib is imported only when a figure is drawn."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.plotting import axes_for
from .exact import CRITICAL_BINDER as U_STAR
from .exact import CRITICAL_TEMPERATURE as T_C

__all__ = ["plot_scan", "plot_series"]



def plot_scan(scan: Any, ax: Any = None) -> list[Any]:
    """Three panels of a :class:`FiniteSizeScan`: U₄(T) reweighted per L (bands ±1σ) with the crossing
    and the exact T_c, χ at the estimated T_c against L with the exact slope 7/4, and the collapse of U₄
    against (T − T_c)L (exact T_c, ν = 1). ``ax``: three matplotlib Axes, or None for a new figure.
    Returns the axes."""
    axes = axes_for(ax, 3)
    sizes = np.asarray(scan.sizes)
    a = axes[0]
    for i, L in enumerate(sizes):
        a.plot(scan.grid, scan.binder[i], color=f"C{i}", label=f"L = {L}")
        a.fill_between(scan.grid, scan.binder[i] - scan.binder_error[i], scan.binder[i] + scan.binder_error[i],
                       color=f"C{i}", alpha=0.25, lw=0)
    a.axvline(T_C, color="k", lw=0.8, ls=":", label="exact T_c")
    a.axvline(scan.tc, color="C3", lw=0.8, ls="--", label=f"crossing {scan.tc:.4f}")
    a.axhline(U_STAR, color="gray", lw=0.7, ls="--")
    a.set_xlabel("T")
    a.set_ylabel("U₄ (reweighted, ±1σ)")
    a.set_title("U₄ crossings")
    a.legend(fontsize=7)

    a = axes[1]
    chi, chi_err = scan.at_tc["chi"]
    a.errorbar(sizes, chi, yerr=chi_err, fmt="o", color="C0", label="χ at crossing T_c")
    g, g_err = scan.exponents["gamma/nu"]
    a.plot(sizes, chi[-1] * (sizes / sizes[-1]) ** 1.75, "k--", lw=0.8, label="slope 7/4 (exact)")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("L")
    a.set_ylabel("χ = L²⟨m²⟩/T")
    a.set_title(f"γ/ν = {g:.3f} ± {g_err:.3f}")
    a.legend(fontsize=7)

    a = axes[2]
    for i, L in enumerate(sizes):
        a.plot((scan.grid - T_C) * L, scan.binder[i], ".", ms=2, color=f"C{i}", label=f"L = {L}")
    a.set_xlabel("(T − T_c) L^(1/ν), exact T_c and ν = 1")
    a.set_ylabel("U₄")
    a.set_title("data collapse")
    a.legend(fontsize=7)
    return axes


_SERIES_LABELS = {"e": "energy per spin", "energy": "energy H (total)", "abs_m": "|m|", "m": "m",
                  "m2": "m²", "m4": "m⁴", "clusters": "clusters per measurement",
                  "flipped": "spins flipped per measurement"}


def plot_series(series: Any, quantities: Any = None, ax: Any = None) -> list[Any]:
    """Time series of a sampler run: for each quantity (default ``("e", "abs_m")``, or ``("energy",)`` for
    a Boltzmann series) the mean over replicas against the measurement index, with a band of ±1σ of
    that mean (the spread over replicas / √replicas) and the first few replicas faint beside it, so
    equilibration and fluctuations show. ``ax``: one Axes per quantity, or None. Returns the axes."""
    fields = series._fields
    if quantities is None:
        quantities = ("e", "abs_m") if "abs_m" in fields else ("energy",)
    elif isinstance(quantities, str):
        quantities = (quantities,)
    quantities = tuple(quantities)
    for q in quantities:
        if q not in fields or q == "spins":
            choices = ", ".join(f for f in fields if f != "spins")
            raise ValueError(f"quantity {q!r} is not a series of {type(series).__name__}: choose from {choices}")
    axes = axes_for(ax, len(quantities), width=5.0, height=3.4)
    for a, q in zip(axes, quantities):
        y = np.asarray(getattr(series, q), dtype=np.float64)
        if y.ndim != 2 or y.shape[0] == 0:
            raise ValueError(f"{type(series).__name__}.{q} has shape {y.shape}: nothing to plot (run at least one "
                             f"measurement)")
        t = np.arange(y.shape[0])
        for r in range(min(4, y.shape[1])):
            a.plot(t, y[:, r], lw=0.5, alpha=0.35, color=f"C{r + 1}")
        mean = y.mean(axis=1)
        err = y.std(axis=1, ddof=1) / math.sqrt(y.shape[1]) if y.shape[1] > 1 else np.zeros_like(mean)
        a.plot(t, mean, color="C0", label=f"mean of {y.shape[1]} replicas")
        a.fill_between(t, mean - err, mean + err, color="C0", alpha=0.25, lw=0)
        a.set_xlabel("measurement")
        a.set_ylabel(_SERIES_LABELS.get(q, q))
        a.legend(fontsize=7)
    return axes
