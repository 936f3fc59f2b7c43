"""Closed forms of the spherical p-spin glass (no sampling, no numpy): the threshold E_∞ where descent
ends and the ground state E₀, per spin, as N → ∞. Used by the model, its figures and the report."""

from __future__ import annotations

import math

from ..core.validate import check_int

__all__ = ["ground_state_energy", "threshold_energy"]


def threshold_energy(p: int) -> float:
    """E_∞ = 2√((p−1)/p): local minima of H/N end at −E_∞ (Auffinger, Ben Arous & Černý 2013)."""
    p = check_int(p, "p", minimum=2)
    return 2.0 * math.sqrt((p - 1) / p)


def ground_state_energy(p: int) -> float:
    """E₀, the ground-state energy per spin is −E₀ as N → ∞.

    p = 2: √2 (the semicircle edge). p ≥ 3: the zero above E_∞ of the complexity of local minima
    Θ(u) = ½ ln(p−1) − (p−2)u²/(4(p−1)) − I₁(u), with I₁(u) = (u/E_∞²)√(u²−E_∞²) − ln(u + √(u²−E_∞²))
    + ln E_∞ (Auffinger, Ben Arous & Černý 2013, Theorem 2.8; equal to the Crisanti–Sommers 1RSB
    value), found by bisection to machine precision: 1.656998 for p = 3, 1.794085 for p = 4.
    """
    p = check_int(p, "p", minimum=2)
    e_inf = threshold_energy(p)
    if p == 2:
        return e_inf

    def complexity(u: float) -> float:
        s = math.sqrt(max(u * u - e_inf * e_inf, 0.0))
        i1 = u / e_inf**2 * s - math.log(u + s) + math.log(e_inf)
        return 0.5 * math.log(p - 1) - (p - 2) / (4 * (p - 1)) * u * u - i1

    lo, hi = e_inf, e_inf + 2.0  # Θ(E_∞) = ½ln(p−1) − (p−2)/p > 0 and Θ(E_∞ + 2) < 0 for p ≥ 3
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if complexity(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


