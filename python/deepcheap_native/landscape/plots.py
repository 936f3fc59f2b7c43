"""Figures of the landscape area: ``DescentResult.plot()`` and the endpoint histogram the report's
"LeCun's box" section draws with :func:`plot_endpoints`. matplotlib is imported only when drawing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.plotting import axes_for
from .theory import ground_state_energy, threshold_energy

__all__ = ["plot_descent", "plot_endpoints"]


def plot_endpoints(ax: Any, energies: Mapping[Any, Any], bins: Any, *, p: int | None = None,
                   density: bool = True) -> Any:
    """Step histograms of endpoint energies per spin, one per label (``{label: energies}``), with the
    ground state −E₀ (dashed) and the threshold −E_∞ (dotted) of the p-spin model when ``p`` is given."""
    for i, (label, e) in enumerate(energies.items()):
        ax.hist(np.asarray(e, dtype=np.float64), bins=bins, histtype="step", density=density, color=f"C{i}",
                label=str(label))
    if p is not None:
        e0, e_inf = ground_state_energy(p), threshold_energy(p)
        ax.axvline(-e0, color="k", ls="--", lw=1, label=f"−E₀ = {-e0:.3f}")
        ax.axvline(-e_inf, color="k", ls=":", lw=1, label=f"−E_∞ = {-e_inf:.3f}")
    ax.set_xlabel("endpoint energy per spin H/N")
    ax.set_ylabel("density" if density else "endpoints")
    ax.legend(fontsize=7)
    return ax


def plot_descent(result: Any, ax: Any = None, *, p: int | None = None, bins: Any = 30) -> list[Any]:
    """Where a descent ended: the histogram of endpoint energies per spin (with −E₀ and −E_∞ for ``p``),
    and, for a result with ``history`` (``descend(history=True)``), the energy per spin against the step
    for every start (median and 10–90 % band). ``ax``: one or two Axes as the result needs, or None."""
    has_history = result.history is not None
    axes = axes_for(ax, 2 if has_history else 1)
    plot_endpoints(axes[0], {f"{len(result.energy_per_spin)} starts ({result.method})": result.energy_per_spin},
                   bins, p=p)
    axes[0].set_title(f"{int(np.sum(result.converged))} of {len(result.converged)} converged")
    if has_history:
        h = np.asarray(result.history, dtype=np.float64)
        steps = np.arange(h.shape[0])
        lo, med, hi = np.quantile(h, [0.1, 0.5, 0.9], axis=1)
        a = axes[1]
        a.plot(steps, med, color="C0", label="median over starts")
        a.fill_between(steps, lo, hi, color="C0", alpha=0.25, lw=0, label="10–90 %")
        if p is not None:
            a.axhline(-threshold_energy(p), color="k", ls=":", lw=1, label="−E_∞")
        a.set_xlabel("step")
        a.set_ylabel("energy per spin H/N")
        a.legend(fontsize=7)
    return axes
