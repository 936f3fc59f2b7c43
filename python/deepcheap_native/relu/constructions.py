"""Telgarsky's sawtooth, built exactly as a deep ReLU network and as a one-hidden-layer one, with the
closed-form counts and the L¹ gap bound beside them.

The triangle map t(x) = 2·min(x, 1 − x) on [0, 1] is 2 ReLUs, t(x) = 2·relu(x) − 4·relu(x − ½); its
k-fold composition s_k = t∘…∘t is a sawtooth with 2^k linear pieces (docs/relu.rst has the proofs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.arrays import to_numpy
from ..core.validate import check_int
from .network import ReLUNetwork

__all__ = [
    "interpolating_network",
    "sawtooth",
    "sawtooth_counts",
    "sawtooth_knots",
    "sawtooth_l1_gap_bound",
    "sawtooth_network",
    "shallow_sawtooth_network",
]

#: The largest k built: 2^k knots stay exact in float64 (and small enough to hold).
K_MAX = 24


def _check_k(k: Any, maximum: int = K_MAX) -> int:
    return check_int(k, "k", minimum=1, maximum=maximum)


def sawtooth(k: int, x: Any) -> np.ndarray:
    """The closed form of the k-fold triangle map on [0, 1]: s_k(x) = 2·min(u, 1 − u) with
    u = frac(2^(k−1)·x) (numpy float64; exact on dyadic x)."""
    k = _check_k(k, 60)
    arr, _ = to_numpy(x, "x")
    xs = np.asarray(arr, dtype=np.float64)
    u = np.mod(np.ldexp(xs, k - 1), 1.0)
    return 2.0 * np.minimum(u, 1.0 - u)


def sawtooth_knots(k: int) -> np.ndarray:
    """The sawtooth's 2^k + 1 knots (x_j, s_k(x_j)), x_j = j / 2^k: shape (2^k + 1, 2), float64."""
    k = _check_k(k)
    x = np.arange(2**k + 1, dtype=np.float64) / 2**k
    return np.stack([x, (np.arange(2**k + 1) % 2).astype(np.float64)], axis=1)


def sawtooth_network(k: int) -> ReLUNetwork:
    """Telgarsky's k-fold triangle map as a ReLU network: k hidden layers of 2 units, affine output.

    Layer 1: (relu(x), relu(x − ½)); layer l > 1: the same two units applied to the previous layer's
    t = 2·h₁ − 4·h₂, i.e. W = [[2, −4], [2, −4]], b = (0, −½); output 2·h₁ − 4·h₂. Every weight is a
    power of two (or zero), so on dyadic inputs in [0, 1] the float64 evaluation is exact.
    """
    k = _check_k(k, 60)
    layers = [(np.array([[1.0], [1.0]]), np.array([0.0, -0.5]))]
    for _ in range(k - 1):
        layers.append((np.array([[2.0, -4.0], [2.0, -4.0]]), np.array([0.0, -0.5])))
    layers.append((np.array([[2.0, -4.0]]), np.array([0.0])))
    return ReLUNetwork(layers)


def interpolating_network(pieces: Any) -> ReLUNetwork:
    """The one-hidden-layer ReLU network through given knots: the shallow counterpart.

    ``pieces``: knots (x_j, y_j), j = 0…m, shape (m + 1, 2), x strictly increasing (m pieces). On
    [x_0, x_m] the network is the piecewise-linear interpolant
    f(x) = y_0 + s_1·relu(x − x_0) + Σ_{j=1}^{m−1} (s_{j+1} − s_j)·relu(x − x_j), slopes
    s_j = (y_j − y_{j−1}) / (x_j − x_{j−1}); left of x_0 it is the constant y_0. One unit per knot
    where the slope changes (m − 1 at most) plus one for the first slope when it is not zero: at most
    m units. Units whose slope change is zero are left out.
    """
    arr, _ = to_numpy(pieces, "pieces")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"pieces must hold real numbers, got dtype {arr.dtype}")
    knots = np.asarray(arr, dtype=np.float64)
    if knots.ndim != 2 or knots.shape[1] != 2 or knots.shape[0] < 2:
        raise ValueError(f"pieces has shape {knots.shape} but expected (m + 1, 2) knots (x, y) with m >= 1")
    if not np.isfinite(knots).all():
        raise ValueError("pieces must be finite, got NaN or inf")
    x, y = knots[:, 0], knots[:, 1]
    if not (np.diff(x) > 0).all():
        raise ValueError("pieces' x coordinates must be strictly increasing")
    slopes = np.diff(y) / np.diff(x)
    jumps = np.concatenate([[slopes[0]], np.diff(slopes)])
    at = x[:-1]
    keep = jumps != 0
    if not keep.any():  # a constant: one unit with zero output weight keeps the network well formed
        keep[0] = True
    W1 = np.ones((int(keep.sum()), 1))
    b1 = -at[keep]
    W2 = jumps[keep][None, :]
    b2 = np.array([y[0]])
    return ReLUNetwork([(W1, b1), (W2, b2)])


def shallow_sawtooth_network(k: int) -> ReLUNetwork:
    """The sawtooth as a single hidden layer: :func:`interpolating_network` of its knots, 2^k units
    (2^k − 1 kinks plus the first slope; see :func:`sawtooth_counts` for why 2^k − 1 cannot do)."""
    return interpolating_network(sawtooth_knots(_check_k(k, 20)))


def sawtooth_counts(k: int) -> dict[str, int]:
    """Closed-form counts for the k-fold sawtooth on [0, 1].

    - ``pieces`` = 2^k linear pieces (= activation regions of :func:`sawtooth_network` along [0, 1]);
    - ``deep_layers`` = k, ``deep_neurons`` = 2k (:func:`sawtooth_network`);
    - ``shallow_neurons_lower_bound`` = 2^k − 1: a 1-D one-hidden-layer network with m units has at most
      m + 1 pieces (Telgarsky's counting bound, for any function with 2^k pieces);
    - ``shallow_neurons`` = 2^k: what the sawtooth itself needs in one hidden layer on [0, 1] (and what
      :func:`shallow_sawtooth_network` uses). With 2^k − 1 units every unit must kink at one of the
      2^k − 1 interior knots, every slope change there is ±2^(k+1), and the first slope would be a sum
      of them (the units facing left), a multiple of 2^(k+1), but it is 2^k.
    """
    k = _check_k(k, 60)
    return {
        "pieces": 2**k,
        "deep_layers": k,
        "deep_neurons": 2 * k,
        "shallow_neurons_lower_bound": 2**k - 1,
        "shallow_neurons": 2**k,
    }


def sawtooth_l1_gap_bound(k: int, pieces: int) -> float:
    """A lower bound on ∫₀¹ abs(f − s_k) for every continuous piecewise-linear f with ``pieces`` pieces.

    Bound implemented (Telgarsky's lemma, counting form; proof in docs/relu.rst):
    ∫₀¹ abs(f − s_k) ≥ max(0, 2^(k−1) − p − 1) · 2^(−k−2) for p = ``pieces``.
    s_k − ½ changes sign at 2^k points, leaving 2^k − 1 whole triangles of area 2^(−k−2) alternately
    above and below ½; f − ½ changes sign at most p times, and each triangle lying inside a run where
    f stays on the other side of ½ contributes its whole area. A one-hidden-layer network with m units
    has at most m + 1 pieces: pass ``pieces = m + 1``; with m < 2^(k−2) the gap stays ≥ 1/16 − 2^(−k−1)
    for every k (a constant, as Telgarsky's theorem says).
    """
    k = _check_k(k, 60)
    p = check_int(pieces, "pieces", minimum=1)
    return max(0, 2 ** (k - 1) - p - 1) * 2.0 ** (-k - 2)
