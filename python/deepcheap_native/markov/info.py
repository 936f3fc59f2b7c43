"""Plug-in entropy and mutual information of integer samples, with standard errors.

Counting is native and multi-threaded (``_core.info_count``, ``_core.info_count_pairs``) for labels
in a dense range; sparse or negative labels are first relabelled with ``np.unique``. Estimates are in
nats unless ``base`` says otherwise.

Standard errors are the first-order (delta-method) ones: for the plug-in entropy
Var(H) ~ (sum p (log p)^2 - H^2) / n, and for the plug-in mutual information
Var(I) ~ (sum p_xy log^2(p_xy / (p_x p_y)) - I^2) / n. They are defined for any sample; where the
first-order term vanishes (a constant x, or independent x and y) they are 0 and the estimator's
error is of second order: its bias, which Miller-Madow removes to first order, dominates there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _core
from ..core.arrays import to_numpy
from ..core.memory import check_allocation
from ..core.validate import check_choice
from .chain import _check_base

__all__ = ["Estimate", "entropy", "mutual_information"]

#: Joint histograms up to this many cells are counted natively; larger label ranges are relabelled.
MAX_DENSE_CELLS = 1 << 26


class Estimate(tuple):
    """An estimate, its standard error and the base of its logarithm (``float(e)`` gives the value).

    A pair ``(value, stderr)`` as before (``value, stderr = e`` still unpacks), carrying its unit: ``base``
    and ``unit`` ("nats" for base e, "bits" for base 2), shown in the repr; :meth:`to_base` converts.
    Sums, differences and comparisons work between estimates in the same base (a sum's standard error
    assumes independent estimates) and with plain numbers (taken to be in the estimate's unit); across
    bases they are a TypeError, so bits are never read as nats.
    """

    base: float

    def __new__(cls, value: float, stderr: float, base: float = math.e) -> Estimate:
        obj = super().__new__(cls, (float(value), float(stderr)))
        obj.base = float(base)
        return obj

    def __getnewargs__(self) -> tuple[float, float, float]:  # pickling
        return (self[0], self[1], self.base)

    @property
    def value(self) -> float:
        return self[0]

    @property
    def stderr(self) -> float:
        return self[1]

    def __float__(self) -> float:
        return float(self.value)

    @property
    def unit(self) -> str:
        if self.base == math.e:
            return "nats"
        if self.base == 2:
            return "bits"
        return "bans" if self.base == 10 else f"log-base-{self.base:g} units"

    def to_base(self, base: float) -> Estimate:
        """The same estimate in another logarithm base."""
        base = _check_base(base)
        factor = math.log(self.base) / math.log(base)
        return Estimate(self.value * factor, self.stderr * factor, base)

    def __repr__(self) -> str:
        return f"Estimate({self.value:.6g} ± {self.stderr:.2g} {self.unit})"

    def _other(self, other: Any, op: str) -> float:
        if isinstance(other, Estimate):
            if other.base != self.base:
                raise TypeError(f"cannot {op} an estimate in {self.unit} and one in {other.unit}: convert one "
                                f"with .to_base({self.base if self.base != math.e else 'math.e'})")
            return other.value
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return float(other)
        raise TypeError(f"cannot {op} an Estimate and a {type(other).__name__}")

    def __add__(self, other: Any) -> Estimate:  # type: ignore[override]
        value = self._other(other, "add")
        err = math.hypot(self.stderr, other.stderr) if isinstance(other, Estimate) else self.stderr
        return Estimate(self.value + value, err, self.base)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Estimate:
        value = self._other(other, "subtract")
        err = math.hypot(self.stderr, other.stderr) if isinstance(other, Estimate) else self.stderr
        return Estimate(self.value - value, err, self.base)

    def __rsub__(self, other: Any) -> Estimate:
        return Estimate(self._other(other, "subtract") - self.value, self.stderr, self.base)

    def __mul__(self, other: Any) -> Any:  # type: ignore[override]
        raise TypeError("an Estimate does not multiply (a tuple would repeat); use float(e) or e.value")

    __rmul__ = __mul__

    def __lt__(self, other: Any) -> bool:  # type: ignore[override]
        return self.value < self._other(other, "compare")

    def __le__(self, other: Any) -> bool:  # type: ignore[override]
        return self.value <= self._other(other, "compare")

    def __gt__(self, other: Any) -> bool:  # type: ignore[override]
        return self.value > self._other(other, "compare")

    def __ge__(self, other: Any) -> bool:  # type: ignore[override]
        return self.value >= self._other(other, "compare")

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        if isinstance(other, Estimate):
            self._other(other, "compare")
            return tuple(self) == tuple(other) and self.base == other.base
        return NotImplemented

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = tuple.__hash__


_NATIVE = (np.uint8, np.uint16, np.uint32, np.int32, np.int64)


def _labels(x: Any, name: str) -> tuple[np.ndarray, int]:
    """Flattened labels in a dtype the native counter reads, and k with every label in [0, k)."""
    arr, _ = to_numpy(x, name)
    if arr.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integer labels (states), got dtype {arr.dtype}")
    # A broadcast or strided view is copied (and relabelled, at worst as int64) before counting: check first.
    if arr.dtype.type not in _NATIVE or not arr.flags.c_contiguous:
        check_allocation(arr.size * 8, f"the labels {name} of shape {arr.shape}",
                         detail=f"{arr.size} samples copied as int64")
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one sample, got none")
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= MAX_DENSE_CELLS:
        # Sparse or negative labels: relabel to 0 .. k-1 (np.unique sorts; fine for the rare case).
        check_allocation(arr.size * 24, f"relabelling {name} of {arr.size} samples",
                         detail="a sorted copy and int64 codes")
        values, codes = np.unique(arr, return_inverse=True)
        return np.ascontiguousarray(codes.reshape(-1), dtype=np.int64), len(values)
    if arr.dtype.type not in _NATIVE:
        arr = arr.astype(np.int64)
    return np.ascontiguousarray(arr), hi + 1


def _correction(correction: Any) -> str | None:
    if correction is None:
        return None
    return check_choice(correction, "correction", ("miller-madow",))


def entropy(x: Any, *, correction: str | None = None, base: float = np.e) -> Estimate:
    """Plug-in entropy H(X) of integer samples x (any shape; flattened), with its standard error.

    Parameters
    ----------
    x : integer array, numpy or torch
    correction : None or "miller-madow"
        Miller-Madow adds (m - 1) / (2n), m the number of observed values: the first-order bias.
    base : logarithm base (e: nats, 2: bits)
    """
    correction = _correction(correction)
    base = _check_base(base)
    labels, k = _labels(x, "x")
    counts = _core.info_count(labels, k)
    n = labels.size
    p = counts[counts > 0] / n
    log_p = np.log(p)
    h = float(-(p @ log_p))
    variance = max(0.0, float(p @ log_p**2) - h * h) / n
    if correction == "miller-madow":
        h += (len(p) - 1) / (2 * n)
    scale = np.log(base)
    return Estimate(float(h / scale), float(np.sqrt(variance) / scale), base)


def mutual_information(x: Any, y: Any, *, correction: str | None = None, base: float = np.e) -> Estimate:
    """Plug-in mutual information I(X; Y) of paired integer samples, with its standard error.

    Parameters
    ----------
    x, y : integer arrays of the same shape (flattened), numpy or torch
    correction : None or "miller-madow"
        Miller-Madow applied to H(X) + H(Y) - H(X, Y): adds (m_x + m_y - m_xy - 1) / (2n), which
        removes the plug-in's first-order upward bias (``(|X| - 1)(|Y| - 1) / (2n)`` for independent x, y).
    base : logarithm base (e: nats, 2: bits)
    """
    correction = _correction(correction)
    base = _check_base(base)
    xa, _ = to_numpy(x, "x")
    ya, _ = to_numpy(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same shape, got {xa.shape} and {ya.shape}")
    lx, kx = _labels(xa, "x")
    ly, ky = _labels(ya, "y")
    n = lx.size
    if kx * ky <= MAX_DENSE_CELLS:
        joint = _core.info_count_pairs(lx, ly, kx, ky)
        nx = joint.sum(axis=1)
        ny = joint.sum(axis=0)
        rows, cols = np.nonzero(joint)
        nxy = joint[rows, cols]
    else:
        # Too many cells for a dense table: count the observed pairs only.
        pairs, nxy = np.unique(lx.astype(np.int64) * ky + ly, return_counts=True)
        rows, cols = pairs // ky, pairs % ky
        nx = _core.info_count(lx, kx)
        ny = _core.info_count(ly, ky)
    pxy = nxy / n
    log_ratio = np.log(nxy.astype(np.float64) * n / (nx[rows].astype(np.float64) * ny[cols]))
    mi = float(pxy @ log_ratio)
    variance = max(0.0, float(pxy @ log_ratio**2) - mi * mi) / n
    if correction == "miller-madow":
        mi += (np.count_nonzero(nx) + np.count_nonzero(ny) - len(nxy) - 1) / (2 * n)
    scale = np.log(base)
    return Estimate(float(mi / scale), float(np.sqrt(variance) / scale), base)

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
