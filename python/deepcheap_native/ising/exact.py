"""Exact anchors of the square-lattice Ising model that any sampler can be checked against: the critical
temperature and the critical Binder cumulant, Onsager's magnetization and energy, and Kaufman's
finite-torus energy (Ferdinand-Fisher). Each constant and formula is defined here once."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..core.arrays import to_numpy
from ..core.memory import check_allocation
from ..core.validate import check_int, check_real

__all__ = ["CRITICAL_BINDER", "CRITICAL_TEMPERATURE", "exact_energy", "onsager_energy", "onsager_magnetization"]

#: Onsager's critical temperature of the square-lattice Ising model (J = 1, k_B = 1): 2 / ln(1 + sqrt 2).
CRITICAL_TEMPERATURE: float = 2.0 / math.log1p(math.sqrt(2.0))

#: U* = 1 - <m^4> / (3 <m^2>^2) at T_c on large L x L tori, where the Binder cumulants of every size
#: cross (Kamieniarz & Bloete 1993, Salas & Sokal 2000: 0.61069...), to the four digits the report uses.
CRITICAL_BINDER: float = 0.6107


def _over_temperatures(scalar: Any) -> Any:
    """Let an exact reference of one temperature take an array of them (theory curves for plots): a
    scalar T gives a float, an array-like gives a float64 array of T's shape; every T is checked."""

    @functools.wraps(scalar)
    def wrapper(*args: Any) -> Any:
        *rest, T = args
        if isinstance(T, (bool, str, bytes)) or np.ndim(T) == 0 and not hasattr(T, "__len__"):
            return scalar(*rest, T)
        values, _ = to_numpy(T, "T")
        if values.dtype.kind not in "iuf":
            raise TypeError(f"T must hold real numbers, got dtype {values.dtype}")
        flat = values.astype(np.float64).reshape(-1)
        bad = np.flatnonzero(~(np.isfinite(flat) & (flat > 0)))
        if bad.size:
            index = np.unravel_index(int(bad[0]), values.shape)
            raise ValueError(f"T must be finite and > 0, but T[{', '.join(map(str, index))}] is {flat[bad[0]]}")
        return np.array([scalar(*rest, float(t)) for t in flat], dtype=np.float64).reshape(values.shape)

    return wrapper


@_over_temperatures
def onsager_magnetization(T: float) -> float:
    """Spontaneous magnetization per spin of the infinite square lattice (J = 1); T may be an array
    (the result has its shape).

    ``(1 - sinh(2/T)^-4)^(1/8)`` below the critical temperature, 0 at and above it (Onsager, Yang 1952).
    """
    t = check_real(T, "T", positive=True)
    if t >= CRITICAL_TEMPERATURE:
        return 0.0
    return (1.0 - math.sinh(2.0 / t) ** -4) ** 0.125


def _elliptic_k(k: float) -> float:
    """Complete elliptic integral of the first kind K(k) (modulus k < 1) by the arithmetic-geometric mean."""
    a, b = 1.0, math.sqrt((1.0 - k) * (1.0 + k))
    for _ in range(64):
        if abs(a - b) <= 1e-16 * a:
            break
        a, b = 0.5 * (a + b), math.sqrt(a * b)
    return math.pi / (2.0 * a)


@_over_temperatures
def onsager_energy(T: float) -> float:
    """Energy per spin of the infinite square lattice (J = 1, h = 0), Onsager's closed form; T may be an
    array (the result has its shape).

    ``u = -coth(2K) [1 + (2/pi) (2 tanh^2(2K) - 1) K(k)]`` with ``K = 1/T``, ``k = 2 sinh(2K) / cosh^2(2K)``
    and the complete elliptic integral K; at T_c the bracket tends to 1, so ``u(T_c) = -sqrt(2)``.
    """
    t = check_real(T, "T", positive=True)
    K = 1.0 / t
    k = 2.0 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
    factor = 2.0 * math.tanh(2 * K) ** 2 - 1.0
    bracket = 1.0 if k >= 1.0 else 1.0 + (2.0 / math.pi) * factor * _elliptic_k(k)
    return -bracket / math.tanh(2 * K)


def _log_2cosh(x: float) -> float:
    ax = abs(x)
    return ax + math.log1p(math.exp(-2 * ax))


def _log_abs_2sinh(x: float) -> float:
    ax = abs(x)
    return ax + math.log1p(-math.exp(-2 * ax))


@_over_temperatures
def exact_energy(L: int, T: float) -> float:
    """Exact energy per spin of the L x L periodic square lattice (J = 1, h = 0); T may be an array (the
    result has its shape). L must be even, as for :class:`IsingModel` (one rule for both).

    Kaufman's (1949) partition function of the finite torus,
    ``Z = 1/2 (2 sinh 2K)^(L^2/2) (Z1 + Z2 + Z3 + Z4)`` with products of ``2 cosh(L gamma_l / 2)`` and
    ``2 sinh(L gamma_l / 2)`` over odd and even l, ``cosh gamma_l = cosh 2K coth 2K - cos(pi l / L)`` and
    ``gamma_0 = 2K + ln tanh K``; the energy is ``-d ln Z / dK / L^2`` differentiated analytically
    (Ferdinand & Fisher 1969), summed in the log domain so large L does not overflow.
    """
    n = check_int(L, "L", minimum=2)
    if n % 2:
        raise ValueError(f"L must be even, as for IsingModel (checkerboard updates on a torus), got {n}")
    t = check_real(T, "T", positive=True)
    check_allocation(224 * n, f"exact_energy(L={n})", detail=f"2 x {n} (gamma, gamma') pairs as Python floats")
    K = 1.0 / t
    m = n  # square: m columns, n rows
    s2, c2 = math.sinh(2 * K), math.cosh(2 * K)
    c_of_k = c2 * c2 / s2
    dc_dk = 2 * c2 * (s2 * s2 - 1) / (s2 * s2)

    def gamma(l: int) -> tuple[float, float]:
        if l == 0:
            return 2 * K + math.log(math.tanh(K)), 2 + 2 / s2
        g = math.acosh(c_of_k - math.cos(math.pi * l / n))
        return g, dc_dk / math.sinh(g)

    odd = [gamma(2 * r + 1) for r in range(n)]
    even = [gamma(2 * r) for r in range(n)]
    # Each Z_i as (sign, log|Z_i|, d Z_i / dK divided by |Z_i| or by the product without the zero factor).
    terms = []
    for gammas, hyperbolic in ((odd, "cosh"), (odd, "sinh"), (even, "cosh"), (even, "sinh")):
        log_abs, sign, slope = 0.0, 1.0, 0.0
        zero_factor_slope = None
        for g, dg in gammas:
            x = m * g / 2
            if hyperbolic == "cosh":
                log_abs += _log_2cosh(x)
                slope += math.tanh(x) * (m / 2) * dg
            elif x == 0.0:  # 2 sinh(0) = 0: keep the product of the others and this factor's derivative
                zero_factor_slope = 2 * (m / 2) * dg
            else:
                log_abs += _log_abs_2sinh(x)
                sign *= 1.0 if x > 0 else -1.0
                slope += (m / 2) * dg / math.tanh(x)
        if zero_factor_slope is not None:  # Z_i = 0; d Z_i / dK = (product of the others) * factor'
            terms.append((0.0, log_abs, sign * zero_factor_slope))
        else:
            terms.append((sign, log_abs, sign * slope))
    top = max(t_[1] for t_ in terms)
    z = sum(sign * math.exp(la - top) for sign, la, _ in terms)
    dz = sum(d * math.exp(la - top) for _, la, d in terms)
    dlogz_dk = n * m * c2 / s2 + dz / z
    return -dlogz_dk / (n * m)
