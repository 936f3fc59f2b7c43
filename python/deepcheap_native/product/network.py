"""Product-gate networks (Lin, Tegmark & Rolnick 2017; Rolnick & Tegmark 2018): explicit networks that
multiply numbers, deep (a binary tree of 4-neuron gates) or shallow (one hidden layer of 2^n neurons),
built as real weights, evaluated by fused native kernels, and exported as torch modules."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import float_dtype, import_torch, is_torch_tensor, like_input, to_numpy
from ..core.memory import SMALL_BYTES, check_allocation, format_bytes
from ..core.validate import call_threads, check_choice, check_int, check_out, check_real, check_threads

if TYPE_CHECKING:  # annotations only: torch stays a lazy, optional import
    import torch

__all__ = [
    "AccuracyWarning",
    "ProductNetwork",
    "multiplication_gate",
    "polynomial_network",
    "product_network",
    "product_network_neurons",
]

ACTIVATIONS = ("softplus", "exp", "logistic", "tanh", "gelu")
_ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}  # = product::Activation
_KINDS = ("deep", "shallow")
_HOST = cuda.resolve_device(None)  # the CPU, for the small-call path of ProductNetwork.__call__
_MODES = ("network", "stable")
_CANNOT_MULTIPLY = {
    "relu": "relu is piecewise linear, so σ'' ≡ 0 (and every higher derivative) wherever it exists",
    "identity": "the identity is linear, so σ'' ≡ 0",
    "linear": "a linear activation has σ'' ≡ 0",
    "hardtanh": "hardtanh is piecewise linear, so σ'' ≡ 0",
    "leaky_relu": "leaky_relu is piecewise linear, so σ'' ≡ 0",
}
#: The largest shallow network we build: 2**20 neurons, whose weights take about 170 MiB in float64.
MAX_SHALLOW_INPUTS = 20
#: Largest deep network the native kernel evaluates (and the largest whose `.weights` we materialise).
MAX_DEEP_INPUTS = 65536
MAX_DEEP_WEIGHT_INPUTS = 4096
_BIAS_RANGE = 6.0
_BIAS_GRID = np.linspace(-_BIAS_RANGE, _BIAS_RANGE, 12 * 128 + 1)


# ---- derivatives of the activations --------------------------------------------------------------


def _logistic(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-z))


def _logistic_derivative(k: int, a: np.ndarray) -> np.ndarray:
    """k-th derivative of the logistic sigmoid by Cauchy's integral on a circle of radius 0.75π.

    The sigmoid's poles nearest the real axis sit at a ± iπ, so the trapezoid rule on 256 points
    converges like 0.75^256 and rounding is amplified only by (4/3)^k (k ≤ 20: below 1e-13 relative).
    """
    if k == 0:
        return _logistic(a)
    points = 256
    radius = 0.75 * math.pi
    theta = 2.0 * math.pi * np.arange(points) / points
    z = a[..., None] + radius * np.exp(1j * theta)
    coefficient = np.mean(_logistic(z) * np.exp(-1j * k * theta), axis=-1).real / radius**k
    return math.factorial(k) * coefficient


def _normal_pdf_derivative(m: int, a: np.ndarray) -> np.ndarray:
    """φ^(m)(a) = (−1)^m He_m(a) φ(a) with the probabilists' Hermite recurrence."""
    he_prev, he = np.ones_like(a), a.copy()
    if m == 0:
        he = he_prev
    for j in range(1, m):
        he_prev, he = he, a * he - j * he_prev
    return (-1) ** m * he * np.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)


def _normal_cdf(a: np.ndarray) -> np.ndarray:
    return 0.5 * np.vectorize(math.erfc)(-a / math.sqrt(2.0))


def activation_derivative(activation: str, k: int, a: Any) -> np.ndarray:
    """σ^(k)(a) for one of the supported activations (k = 0 gives σ itself), float64."""
    a = np.asarray(a, dtype=np.float64)
    if activation == "exp":
        return np.exp(a)
    if activation == "logistic":
        return _logistic_derivative(k, a)
    if activation == "softplus":
        return np.logaddexp(0.0, a) if k == 0 else _logistic_derivative(k - 1, a)
    if activation == "tanh":  # tanh(z) = 2 logistic(2z) − 1
        return np.tanh(a) if k == 0 else 2.0 ** (k + 1) * _logistic_derivative(k, 2.0 * a)
    if activation == "gelu":  # GELU(z) = z Φ(z); Leibniz: z φ^(k−1) + k φ^(k−2)
        if k == 0:
            return a * _normal_cdf(a)
        if k == 1:
            return _normal_cdf(a) + a * _normal_pdf_derivative(0, a)
        return a * _normal_pdf_derivative(k - 1, a) + k * _normal_pdf_derivative(k - 2, a)
    raise ValueError(f"unknown activation {activation!r}")


def _derivative_name(k: int) -> str:
    return {1: "σ'", 2: "σ''", 3: "σ'''"}.get(k, f"σ^({k})")


def _conditioning(activation: str, k: int, a: np.ndarray) -> np.ndarray:
    """|σ^(k)(a)| / max(1, |σ(a)|): the network's rounding floor is proportional to its inverse."""
    return np.abs(activation_derivative(activation, k, a)) / np.maximum(
        1.0, np.abs(activation_derivative(activation, 0, a))
    )


@functools.lru_cache(maxsize=256)
def choose_bias(activation: str, order: int) -> float:
    """The bias a in [−6, 6] that maximises |σ^(order)(a)| / max(1, |σ(a)|), preferring a = 0 when it
    is within 0.1% of the best (exactly optimal for softplus and GELU at order 2; exp is flat).

    Grid search on 1/128 steps, then golden-section refinement around the best grid point.
    """
    if activation == "exp":
        return 0.0  # every derivative is e^a: the conditioning does not depend on a
    scores = _conditioning(activation, order, _BIAS_GRID)
    best = float(scores.max())
    if best <= 0 or not np.isfinite(best):
        raise ValueError(f"{_derivative_name(order)} of {activation} vanishes everywhere on [−6, 6]")
    if float(_conditioning(activation, order, np.array(0.0))) >= 0.999 * best:
        return 0.0
    # Ties between ±a (odd or even derivatives of symmetric activations): take the positive one.
    candidates = np.flatnonzero(scores >= best * (1 - 1e-12))
    i = int(candidates[np.argmax(_BIAS_GRID[candidates])])
    step = _BIAS_GRID[1] - _BIAS_GRID[0]
    lo, hi = _BIAS_GRID[i] - step, _BIAS_GRID[i] + step
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        m1, m2 = hi - golden * (hi - lo), lo + golden * (hi - lo)
        s1, s2 = _conditioning(activation, order, np.array([m1, m2]))
        if s1 < s2:
            lo = m1
        else:
            hi = m2
    return float(0.5 * (lo + hi))


@functools.lru_cache(maxsize=256)
def _typical_derivative(activation: str, order: int) -> float:
    """max |σ^(order)| over the bias grid: the scale against which a derivative counts as vanishing."""
    return float(np.abs(activation_derivative(activation, order, _BIAS_GRID)).max())


def _check_derivative(activation: str, order: int, bias: float, purpose: str) -> float:
    """σ^(order)(bias), or a ValueError naming the derivative when it vanishes there."""
    value = float(activation_derivative(activation, order, np.array(bias)))
    typical = _typical_derivative(activation, order)
    if not np.isfinite(value) or abs(value) <= 1e-9 * typical:
        suggestion = choose_bias(activation, order)
        raise ValueError(
            f"{_derivative_name(order)} (derivative {order} of {activation}) vanishes at bias={bias!r} "
            f"(value {value:.3g}); {purpose} divides by it. Pass bias=None to pick a working bias "
            f"(here {suggestion:.6g}) or choose another bias"
        )
    return value


# ---- the error model and the default scale ----------------------------------------------------------
#
# A network's error on inputs in [−1, 1]ⁿ (where |∏ xᵢ| ≤ 1, so this is also the error relative to the
# largest output) is the sum of two terms (docs/pitfalls.rst):
# - truncation, from the Taylor expansion of the gates: deep, each of the d−1 gates m(u, v) has relative
#   error σ⁽⁴⁾(a)/(6σ''(a)) λ²(u² + v²) ≤ 2|σ⁽⁴⁾/(6σ'')| λ², and each 2-neuron carry σ⁽³⁾/(6σ') λ²;
#   shallow, the λ^(d+2) term of the sign sum gives σ^(d+2)(a)/σ^(d)(a) · λ² Σxᵢ²/6 ≤ d|σ^(d+2)/σ^(d)| λ²/6;
# - the cancellation floor of mode="network": the gate divides a difference of activations of size
#   S ≈ |σ| + |σ'|·|a + z| by 4λ²σ''(a) (deep) or the 2^d-term sign sum by 2^d σ^(d)(a) λ^d (shallow), so the
#   rounding ε·S of the activations becomes ε·S/(λ²|σ''(a)|) (deep; the gates' errors are multiplied by
#   the other factors, |·| ≤ 1, and measured not to add up over the tree) or ε·S/(|σ^(d)(a)| λ^d)
#   (shallow). mode="stable" has no floor beyond a few ε per gate.
# Both are checked against measured maximum errors (tests/test_product_scale.py). The default scale is
# the λ on a log grid that minimises their sum, among those whose output weights the dtype represents.

_SCALE_GRID = np.logspace(-6, math.log10(0.5), 241)
class AccuracyWarning(RuntimeWarning):
    """A product network whose predicted error is large (see ``ProductNetwork.predicted_error``);
    a RuntimeWarning, so ``warnings.simplefilter("ignore", dc.product.AccuracyWarning)`` silences
    exactly these (as experiments that sweep λ into the floor on purpose do)."""


#: A caller's λ whose cancellation floor is predicted above this gets a RuntimeWarning naming a better λ.
ACCURACY_WARNING = 1e-3
#: The default λ warns only when even the best λ predicts more than this (float32 deep networks in
#: mode="network" sit near 1e-3 by nature: ε = 6e-8 against λ² truncation).
DEFAULT_ACCURACY_WARNING = 1e-2


def _monomial_error(activation: str, kind: str, mode: str, dtype: np.dtype, degree: int, bias: float,
                    extra_layers: int, scale: Any) -> np.ndarray:
    """Predicted maximum absolute error of one monomial of ``degree`` on [−1, 1]ⁿ at each λ in ``scale``,
    as (truncation, cancellation floor)."""
    eps = float(np.finfo(dtype).eps) / 2.0  # unit roundoff
    lam = np.asarray(scale, dtype=np.float64)
    if degree <= 0:
        return np.zeros_like(lam), np.zeros_like(lam)

    def d(k: int, at: Any = bias) -> Any:
        return activation_derivative(activation, k, np.asarray(at, dtype=np.float64))

    if kind == "deep":
        gates, carries = degree - 1, _deep_carries(degree) + extra_layers
        size = _rounding_size(d, bias, 2.0 * lam)
        trunc = np.zeros_like(lam)
        floor = np.zeros_like(lam)
        if gates:
            second = abs(float(d(2)))
            trunc = trunc + gates * 2.0 * abs(float(d(4)) / (6.0 * second)) * lam**2
            floor = floor + eps * size / (lam**2 * second)
        if carries:
            first = abs(float(d(1)))
            trunc = trunc + carries * abs(float(d(3)) / (6.0 * first)) * lam**2
            floor = floor + eps * size / (lam * first)
        if mode == "stable":
            floor = 4.0 * (gates + carries + 1) * eps * np.ones_like(lam)
        return trunc, floor
    nth = abs(float(d(degree)))
    trunc = degree * abs(float(d(degree + 2)) / nth) * lam**2 / 6.0
    if mode == "stable":
        return trunc, 4.0 * (degree + 1) * eps * np.ones_like(lam)
    size = _rounding_size(d, bias, degree * lam)
    with np.errstate(over="ignore"):
        floor = eps * size / (nth * lam**degree)
    return trunc, floor


def _rounding_size(d: Any, bias: float, reach: np.ndarray) -> np.ndarray:
    """S: the size of what is rounded in one activation σ(a + z), |z| ≤ reach: its value, and its
    argument's rounding ε|a + z| carried through σ'."""
    value = np.maximum(np.abs(d(0, bias + reach)), np.abs(d(0, bias - reach)))
    return value + abs(float(d(1))) * (abs(bias) + reach)


def _network_error(activation: str, kind: str, mode: str, dtype: np.dtype, monomials: Sequence[Any],
                   scale: Any) -> tuple[np.ndarray, np.ndarray]:
    """Σ |cⱼ| · (predicted error of monomial j), as (truncation, floor): the whole network's prediction."""
    trunc = floor = np.zeros_like(np.asarray(scale, dtype=np.float64))
    for degree, coefficient, bias, extra in monomials:
        t, f = _monomial_error(activation, kind, mode, dtype, degree, bias, extra, scale)
        trunc, floor = trunc + abs(coefficient) * t, floor + abs(coefficient) * f
    return trunc, floor


def _representable_scales(kind: str, activation: str, dtype: np.dtype, monomials: Sequence[Any]) -> np.ndarray:
    """The grid's λ whose output weights (1/(4λ²σ''), 1/(2^d σ^(d) λ^d)) the dtype holds with a margin
    of 2^16 below overflow."""
    limit = float(np.finfo(dtype).max) / 2.0**16
    ok = np.ones(_SCALE_GRID.shape, dtype=bool)
    with np.errstate(over="ignore", divide="ignore"):
        for degree, _, bias, _ in monomials:
            if degree <= 1 and kind == "deep":
                continue
            if kind == "deep":
                nth = abs(float(activation_derivative(activation, 2, np.array(bias))))
                ok &= 1.0 / (4.0 * nth * _SCALE_GRID**2) < limit
            elif degree >= 1:
                nth = abs(float(activation_derivative(activation, degree, np.array(bias))))
                ok &= 1.0 / (2.0**degree * nth * _SCALE_GRID**degree) < limit
    return _SCALE_GRID[ok]


def choose_scale(kind: str, activation: str, dtype: np.dtype, mode: str, monomials: Sequence[Any]) -> float:
    """The default λ: the one on a log grid in [1e-6, 0.5] minimising the predicted error (truncation
    ∝ λ² against the cancellation floor ∝ ε/λ² deep or ε/λ^d shallow), among the λ whose output weights
    ``dtype`` represents. ``monomials``: (degree, coefficient, bias, extra carry layers) tuples."""
    grid = _representable_scales(kind, activation, dtype, monomials)
    if grid.size == 0:
        grid = _SCALE_GRID[-1:]
    errors = sum(_network_error(activation, kind, mode, dtype, monomials, grid))
    errors = np.where(np.isfinite(errors), errors, np.inf)
    return float(grid[int(np.argmin(errors))])


# ---- argument checks -------------------------------------------------------------------------------


def _check_activation(activation: Any) -> str:
    if isinstance(activation, str) and activation.lower() in _CANNOT_MULTIPLY:
        raise ValueError(
            f"activation {activation!r} cannot multiply: {_CANNOT_MULTIPLY[activation.lower()]}, so no "
            f"bias makes the gate work (σ'' must be non-zero). Use one of {', '.join(ACTIVATIONS)}"
        )
    return check_choice(activation, "activation", ACTIVATIONS)


def _check_dtype(dtype: Any) -> np.dtype:
    return float_dtype(dtype)


def _check_representable(value: float, name: str, dtype: np.dtype) -> None:
    info = np.finfo(dtype)
    if not np.isfinite(value) or not float(info.tiny) <= abs(value) <= float(info.max):
        raise ValueError(
            f"{name} = {value:.3g} is not representable in {dtype}; use a larger scale, "
            f"dtype='float64', or fewer inputs"
        )


def _shallow_memory(n: int, itemsize: int = 8) -> int:
    return (2**n) * (n + 2) * itemsize


def _check_shallow_size(n: int) -> None:
    if n > MAX_SHALLOW_INPUTS:
        raise ValueError(
            f"kind='shallow' needs 2**n neurons: n={n} means {2**n:,} neurons whose weights would take "
            f"{format_bytes(_shallow_memory(n))} in float64; the limit is n <= {MAX_SHALLOW_INPUTS} "
            f"({2**MAX_SHALLOW_INPUTS:,} neurons, {format_bytes(_shallow_memory(MAX_SHALLOW_INPUTS))}). "
            f"product_network_neurons(n, 'shallow') gives the count for any n"
        )


# ---- closed-form counts ----------------------------------------------------------------------------


def _deep_depth(d: int) -> int:
    return (d - 1).bit_length()  # ⌈log₂ d⌉ for d ≥ 1


def _deep_carries(d: int) -> int:
    """Carried values in the greedy binary tree of d inputs: level L holds ⌈d/2^L⌉ values, odd exactly
    when bit L of d−1 is 0, so the count is ⌈log₂ d⌉ − popcount(d−1)."""
    return _deep_depth(d) - bin(d - 1).count("1") if d >= 1 else 0


def product_network_neurons(n: int, kind: str = "deep") -> int:
    """Hidden neurons of the product network of n inputs, in closed form (exact for any n, e.g. 64).

    - ``"deep"``: 4(n−1) + 2(⌈log₂ n⌉ − popcount(n−1)). Each of the n−1 gates has 4 neurons; a level
      with an odd number of values carries one of them through the layer with 2 neurons, and that
      happens ⌈log₂ n⌉ − popcount(n−1) times (never for n a power of two, where it is 4(n−1)).
    - ``"shallow"``: 2ⁿ (one neuron per sign vector; by the no-flattening theorem no single hidden
      layer does it with fewer).
    """
    n = check_int(n, "n", minimum=1)
    kind = check_choice(kind, "kind", _KINDS)
    if kind == "shallow":
        return 2**n
    return 4 * (n - 1) + 2 * _deep_carries(n)


def built_neurons(net: ProductNetwork) -> int:
    """The hidden neurons of a built network, counted from its weights: the rows of every weight
    matrix but the output layer's (the check that a network has the neurons its closed form says; the
    demo's table and the report's counts both use it)."""
    return int(sum(np.asarray(W).shape[0] for W, _ in net.weights[:-1]))


def product_network_hidden_layers(n: int, kind: str = "deep") -> int:
    """⌈log₂ n⌉ for the deep network, 1 for the shallow one."""
    n = check_int(n, "n", minimum=1)
    return 1 if check_choice(kind, "kind", _KINDS) == "shallow" else _deep_depth(n)


# ---- weights ---------------------------------------------------------------------------------------


def _deep_monomial_layers(columns: Sequence[int], n_inputs: int, depth: int, scale: float, bias: float,
                          gate_coef: float, carry_coef: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Hidden layers (W, b) of one deep product over `columns`, padded with carries to `depth` layers,
    then the output row as the last entry. Each current value is a row of `values` over the previous
    layer's outputs (the inputs x for the first layer)."""
    values = np.zeros((len(columns), n_inputs))
    values[np.arange(len(columns)), columns] = 1.0
    layers = []
    for _ in range(depth):
        count = values.shape[0]
        gates, odd = count // 2, count % 2
        if count == 1:
            gates, odd = 0, 1
        rows, combos = [], []
        width = 4 * gates + 2 * odd
        for g in range(gates):
            u, v = values[2 * g], values[2 * g + 1]
            rows += [scale * (u + v), -scale * (u + v), scale * (u - v), -scale * (u - v)]
            combo = np.zeros(width)
            combo[4 * g: 4 * g + 4] = gate_coef * np.array([1.0, 1.0, -1.0, -1.0])
            combos.append(combo)
        if odd:
            x = values[count - 1]
            rows += [scale * x, -scale * x]
            combo = np.zeros(width)
            combo[4 * gates: 4 * gates + 2] = carry_coef * np.array([1.0, -1.0])
            combos.append(combo)
        layers.append((np.array(rows), np.full(width, bias)))
        values = np.array(combos)
    layers.append((values, np.zeros(1)))
    return layers


def _gray_signs(d: int) -> np.ndarray:
    """(2^d, d) sign vectors in Gray-code order: s_i = −1 where bit i of gray(j) is set."""
    j = np.arange(2**d)
    gray = j ^ (j >> 1)
    return np.where((gray[:, None] >> np.arange(d)) & 1, -1.0, 1.0)


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols))
    r = c = 0
    for b in blocks:
        out[r: r + b.shape[0], c: c + b.shape[1]] = b
        r += b.shape[0]
        c += b.shape[1]
    return out


# ---- the network -----------------------------------------------------------------------------------


class _Monomial:
    """One product ∏ x[columns] with its coefficient, evaluated natively."""

    def __init__(self, columns: list[int], coefficient: float, extra_layers: int, bias: float,
                 out_coef: float = 0.0) -> None:
        self.columns = columns
        self.coefficient = coefficient
        self.extra_layers = extra_layers
        self.bias = bias
        self.out_coef = out_coef  # shallow only


class ProductNetwork:
    """An explicit network that multiplies its inputs (or sums weighted products of them).

    Built by :func:`product_network` or :func:`polynomial_network`; see there for the parameters.

    Attributes
    ----------
    n : int
        Number of inputs.
    kind, activation, mode : str
    scale : float
        λ, the input scale of every hidden neuron.
    bias : float
        The hidden bias a (for a shallow polynomial, the bias of its highest-degree monomial; all
        per-degree biases are in ``biases``).
    dtype : numpy.dtype
    n_neurons : int
        Hidden neurons.
    n_hidden_layers : int
    weights : list of (W, b)
        The affine maps, hidden layers first and the output last: ``h = σ(W h + b)`` between them.
    """

    def __init__(self, n: int, kind: str, activation: str, scale: float, dtype: np.dtype, mode: str,
                 monomials: list[_Monomial], constant: float, depth: int, biases: dict[int, float],
                 gate_coef: float, carry_coef: float, n_neurons: int, is_plain_product: bool) -> None:
        self.n = n
        self.kind = kind
        self.activation = activation
        self.scale = scale
        self.dtype = dtype
        self.mode = mode
        self.biases = biases
        self.bias = biases[max(biases)] if biases else 0.0
        self.n_neurons = n_neurons
        self.n_hidden_layers = depth
        self._monomials = monomials
        self._constant = constant
        self._gate_coef = gate_coef
        self._carry_coef = carry_coef
        self._plain = is_plain_product
        self._weights: list[tuple[np.ndarray, np.ndarray]] | None = None

    def _grad_module(self, threads: int | None) -> Any:
        """The native torch module of this network (cached per thread count), for inputs that need grad."""
        cache = self.__dict__.setdefault("_grad_modules", {})
        if threads not in cache:
            from .torch_ops import native_module

            cache[threads] = native_module(self, threads)
        return cache[threads]

    def _error_terms(self) -> list[tuple[int, float, float, int]]:
        """(degree, coefficient, bias, extra carry layers) of each monomial, for the error model."""
        return [(len(m.columns), m.coefficient, m.bias, m.extra_layers) for m in self._monomials]

    @property
    def predicted_error(self) -> float:
        """The error model's prediction of the maximum absolute error on inputs in [−1, 1]ⁿ (relative to
        the largest output, where ∏ xᵢ = ±1; for a polynomial, Σⱼ abs(cⱼ) times each monomial's): truncation
        ∝ λ² plus, in mode="network", the cancellation floor ∝ ε/λ² (deep) or ε/λⁿ (shallow). Checked
        against measured errors to within a small factor (tests/test_product_scale.py)."""
        return float(sum(_network_error(self.activation, self.kind, self.mode, self.dtype, self._error_terms(),
                                        self.scale)))

    def __repr__(self) -> str:
        return (f"ProductNetwork(n={self.n}, kind={self.kind!r}, activation={self.activation!r}, "
                f"scale={self.scale}, bias={self.bias:.6g}, dtype={self.dtype.name!r}, mode={self.mode!r}, "
                f"n_neurons={self.n_neurons}, n_hidden_layers={self.n_hidden_layers})")

    # -- evaluation --
    @overload
    def __call__(self, x: torch.Tensor, *, out: Any = None, device: Any = None,
                 threads: int | None = None) -> torch.Tensor: ...
    @overload
    def __call__(self, x: np.ndarray, *, out: Any = None, device: Any = None,
                 threads: int | None = None) -> np.ndarray: ...
    @overload
    def __call__(self, x: Any, *, out: Any = None, device: Any = None, threads: int | None = None) -> Any: ...

    def __call__(self, x: Any, *, out: Any = None, device: Any = None, threads: int | None = None) -> Any:
        """Evaluate the network natively on x of shape (batch, n).

        Returns shape (batch,) in the network's dtype: a numpy array, or a torch tensor when x is one.
        ``out`` (numpy, shape (batch,), the network's dtype) receives the result without allocating;
        it is supported for networks that are a single product. ``device``: "cpu", "cuda", "cuda:N",
        or None for x's device (a torch CUDA tensor or CuPy array runs on its GPU and the result comes
        back there); see :mod:`deepcheap_native.cuda`. ``threads``: CPU threads for this call (None:
        :func:`~deepcheap_native.set_num_threads`; ignored on a GPU); the result does not depend on it.
        """
        if (type(x) is np.ndarray and out is None and device is None and threads is None and self._plain
                and x.dtype == self.dtype and x.ndim == 2 and x.shape[1] == self.n
                and x.shape[0] * self.dtype.itemsize < SMALL_BYTES and x.flags.c_contiguous and x.flags.aligned):
            # The small call's path (issue 26 §3): a single product on a host array of its dtype, every option
            # at its default; the checks below would pass and the memory check return at once.
            try:
                return self._evaluate(x, None, _HOST)
            except _core.NonFiniteInputError:
                pass  # the general path below finds the bad value and says which
        threads = check_threads(threads)
        if type(x) is not np.ndarray and is_torch_tensor(x) and x.requires_grad:
            import torch

            if torch.is_grad_enabled():  # carry the gradient: the same custom op as to_torch(native=True)
                if out is not None:
                    raise ValueError("out= cannot carry a gradient: x requires grad (call under torch.no_grad() "
                                     "or x.detach() to write into out=)")
                if device is not None and cuda.parse_device(device) != (cuda.array_device(x) or cuda.Device("cpu")):
                    raise ValueError(f"device={device!r} differs from x's device {x.device} while x requires grad; "
                                     "move x first (x.to(...)) so the gradient flows")
                return self._grad_module(threads)(x)[:, 0]
        where = cuda.resolve_device(device, x)
        if where.kind == "cuda" and self._plain and cuda.is_device_array(x):
            return self._evaluate_resident(x, out, where)
        template = x
        array, came_from_torch = to_numpy(cuda.to_host(x), "x")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"x must hold real numbers, got dtype {array.dtype}")
        if array.ndim != 2 or array.shape[1] != self.n:
            raise ValueError(f"x must have shape (batch, {self.n}), got {array.shape}")
        # A broadcast view (np.broadcast_to(0.7, (10**8, 2))) is copied here: check the copy, the result and,
        # for a polynomial, each monomial's columns and the running total, before allocating any of them.
        batch, itemsize = array.shape[0], self.dtype.itemsize
        flags = array.flags
        copied = not (flags.c_contiguous and flags.aligned and array.dtype == self.dtype)
        n_bytes = itemsize * batch * ((self.n if copied else 0) + (0 if self._plain else self.n + 1) + 1)
        check_allocation(n_bytes, lambda: f"{type(self).__name__}(n={self.n}) on x of shape {array.shape}",
                         detail=lambda: f"{batch} rows of {itemsize}-byte numbers")
        if copied:
            array = np.require(array, dtype=self.dtype, requirements=['C', 'A'])  # contiguous and aligned
        if out is not None:
            if not self._plain:
                raise ValueError("out= is supported only for a single product network")
            check_out(out, (array.shape[0],), self.dtype)
        try:
            with call_threads(threads):
                result = self._evaluate(array, out, where)
        except where.module.NonFiniteInputError:  # the native error about x's values, and only that one
            bad = np.argwhere(~np.isfinite(array))[0]
            raise ValueError(f"x must be finite, but x[{bad[0]}, {bad[1]}] is {array[tuple(bad)]}") from None
        if type(template) is not np.ndarray and cuda.array_device(template) is not None:
            return cuda.like_device_input(result, template)
        return like_input(result, came_from_torch)

    def _evaluate_resident(self, x: Any, out: Any, where: Any) -> Any:
        """The zero-copy path: x on the GPU is read in place and the result is made there."""
        address, shape, _, owner = cuda.device_input(x, "x", where, self.dtype)
        if len(shape) != 2 or shape[1] != self.n:
            raise ValueError(f"x must have shape (batch, {self.n}), got {shape}")
        out_address, result = cuda.device_output(out, (shape[0],), self.dtype, where)
        mono = self._monomials[0]
        deep = self.kind == "deep"
        where.module.product_resident(
            deep, address, shape[0], self.n, self.dtype == np.float64, _ACTIVATION_CODES[self.activation],
            self.mode == "stable", self.scale, mono.bias, self._gate_coef if deep else mono.out_coef,
            self._carry_coef if deep else 1.0, mono.extra_layers if deep else 0, out_address, where.index)
        del owner
        return cuda.like_device(result, x)

    def _evaluate(self, x: np.ndarray, out: np.ndarray | None, where: Any) -> np.ndarray:
        native = where.module  # _core, or the CUDA driver module for device="cuda[:N]"
        code = _ACTIVATION_CODES[self.activation]
        stable = self.mode == "stable"
        total = None if self._plain else np.full(x.shape[0], self._constant, dtype=self.dtype)
        for mono in self._monomials:
            if not mono.columns:
                continue  # degree 0: folded into the constant
            cols = x if self._plain else np.ascontiguousarray(x[:, mono.columns])
            # device by position too: pybind11's keyword matching is about 1 us of a small call
            if self.kind == "deep":
                value = native.product_deep(cols, code, stable, self.scale, mono.bias, self._gate_coef,
                                            self._carry_coef, mono.extra_layers, out, where.index)
            else:
                value = native.product_shallow(cols, code, stable, self.scale, mono.bias, mono.out_coef, out,
                                               where.index)
            if self._plain:
                return value
            total += self.dtype.type(mono.coefficient) * value
        return total if total is not None else np.full(x.shape[0], self._constant, dtype=self.dtype)

    # -- explicit weights --
    @property
    def weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The explicit affine maps [(W₁, b₁), …, (W_L, b_L), (W_out, b_out)] in the network's dtype."""
        if self._weights is None:
            self._weights = [(w.astype(self.dtype), b.astype(self.dtype)) for w, b in self._build_weights()]
        return self._weights

    def _build_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self.kind == "deep" and self.n > MAX_DEEP_WEIGHT_INPUTS:
            raise ValueError(
                f"the weights of a deep network with n={self.n} would take "
                f"{format_bytes(16.0 * self.n * self.n)}; .weights is limited to n <= "
                f"{MAX_DEEP_WEIGHT_INPUTS} (the native evaluation has no such limit)"
            )
        monos = [m for m in self._monomials if m.columns]
        out_bias = np.array([self._constant])
        if self.kind == "deep":
            if self.n_hidden_layers == 0:  # every monomial has degree 1: a plain affine map
                w = np.zeros((1, self.n))
                for m in monos:
                    w[0, m.columns[0]] += m.coefficient
                return [(w, out_bias)]
            per = [_deep_monomial_layers(m.columns, self.n, self.n_hidden_layers, self.scale, m.bias,
                                         self._gate_coef, self._carry_coef) for m in monos]
            layers = [(np.vstack([p[0][0] for p in per]), np.concatenate([p[0][1] for p in per]))]
            for k in range(1, self.n_hidden_layers):
                layers.append((_block_diag([p[k][0] for p in per]), np.concatenate([p[k][1] for p in per])))
            w_out = np.hstack([m.coefficient * p[-1][0] for m, p in zip(monos, per)])
            return layers + [(w_out, out_bias)]
        hidden_w, hidden_b, out_w = [], [], []
        for m in monos:
            d = len(m.columns)
            signs = _gray_signs(d)
            w = np.zeros((2**d, self.n))
            for i, c in enumerate(m.columns):
                w[:, c] += self.scale * signs[:, i]
            hidden_w.append(w)
            hidden_b.append(np.full(2**d, m.bias))
            out_w.append(m.coefficient * m.out_coef * signs.prod(axis=1))
        return [(np.vstack(hidden_w), np.concatenate(hidden_b)), (np.concatenate(out_w)[None, :], out_bias)]

    def to_torch(self, native: bool = False, *, threads: int | None = None, dtype: Any = None,
                 device: Any = None, reparametrize: bool = False) -> Any:
        """The network as a ``torch.nn.Module`` with output shape (batch, 1).

        ``dtype`` (numpy or torch float32/float64; default the network's) and ``device`` (default the
        CPU) place the module's parameters, as ``module.to(device, dtype)`` would; a native module
        computes in the network's own dtype, so it takes only that one.

        ``native=False`` (default): a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules
        with exactly these weights; ``net.to_torch()(x)[:, 0]`` equals ``net(x)`` up to rounding.
        ``native=True``: a module whose forward pass is this package's kernel, run as the custom op
        ``torch.ops.deepcheap.product_network`` (works under ``torch.compile(fullgraph=True)``), with
        the exact gradient of the explicit weights with respect to the input. ``threads`` (native only):
        CPU threads for each eager forward pass of the module, as ``threads=`` of a call (None:
        :func:`~deepcheap_native.set_num_threads`; a ``torch.compile`` graph runs the op later, with the
        package setting; ignored on a GPU); the result does not depend on it.

        ``reparametrize=True`` (``native=False`` only): for fine-tuning. The explicit weights are
        ill-conditioned for an optimiser (order λ inside, 1/λ² or 1/λⁿ at the read-out, the output a
        cancellation between them: plain SGD diverges at any useful learning rate). Each ``nn.Linear``
        becomes a ``ScaledLinear`` whose trained tensors are the weights divided by a fixed power of two,
        chosen so that every tensor moves the output about equally (Gauss–Newton trace about 1 at
        export); the module computes bit for bit what the plain export does. At the default λ it stays
        stable under SGD (lr 0.1) where the plain export diverges at lr 1e-7; to fine-tune, build at a
        larger λ (e.g. ``scale=0.3``, whose truncation error Adam then removes: 10× lower MSE in 60
        steps, deep n = 3). What it cannot do: a per-tensor scale leaves the stiffness inside a layer (a
        gate's read-out moves the output about 1/λ² more along its cancelling directions than along
        its useful one); see :mod:`deepcheap_native.product.reparametrize`.
        """
        torch = import_torch("ProductNetwork.to_torch()")
        if not isinstance(reparametrize, (bool, np.bool_)):
            raise TypeError(f"reparametrize must be True or False, got {type(reparametrize).__name__}")
        if reparametrize and native:
            raise ValueError("reparametrize=True applies to native=False modules (a native module has no "
                             "trainable weights: its op computes the fixed explicit network)")
        dt = self.dtype if dtype is None else float_dtype(dtype)
        if native:
            from .torch_ops import native_module

            if dt != self.dtype:
                raise ValueError(f"a native module computes in the network's dtype {self.dtype.name}, got "
                                 f"dtype={dt.name}; build the network with dtype={dt.name!r} or use native=False")
            module = native_module(self, check_threads(threads))
            return module if device is None else module.to(device)
        if threads is not None:
            raise ValueError("threads= applies to native=True modules; a torch.nn.Sequential runs on torch's threads "
                             "(torch.set_num_threads)")
        layers = []
        weights = self.weights
        for k, (w, b) in enumerate(weights):
            linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=getattr(torch, dt.name))
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))  # copy_ converts to the module's dtype
                linear.bias.copy_(torch.from_numpy(b))
            layers.append(linear)
            if k < len(weights) - 1:
                layers.append(torch_activation(self.activation))
        module = torch.nn.Sequential(*layers)
        if device is not None:
            module = module.to(device)
        if reparametrize:
            from .reparametrize import reparametrized

            module = reparametrized(module, self.n)
        return module


#: torch.nn module of each activation (exp has none in torch: :func:`torch_activation` makes one).
_TORCH_MODULES = {"softplus": "Softplus", "logistic": "Sigmoid", "tanh": "Tanh", "gelu": "GELU"}  # GELU: the exact erf form, as the native kernel


@functools.cache
def _exp_module(torch: Any) -> type:
    class Exp(torch.nn.Module):
        """Elementwise exp (torch has no nn.Exp)."""

        def forward(self, x: Any) -> Any:
            return torch.exp(x)

    return Exp


def torch_activation(activation: str) -> Any:
    """The ``torch.nn`` module of an activation name of :data:`ACTIVATIONS` (the one table from
    activation names to torch: ``to_torch`` exports, the torch ops and the locality networks use it)."""
    activation = _check_activation(activation)
    torch = import_torch(f"torch_activation({activation!r})")
    name = _TORCH_MODULES.get(activation)
    return getattr(torch.nn, name)() if name is not None else _exp_module(torch)()


# ---- builders --------------------------------------------------------------------------------------


def _build(n: int, exponent_rows: list[list[int]], coefficients: list[float], constant: float, kind: str,
           activation: str, scale: float | None, bias: float | None, dtype: Any, mode: str,
           plain: bool) -> ProductNetwork:
    """The network, at ``scale`` or (None) at the λ of :func:`choose_scale`, with its ``predicted_error``;
    a RuntimeWarning when the prediction exceeds ACCURACY_WARNING (see _warn_accuracy)."""
    activation = _check_activation(activation)
    kind = check_choice(kind, "kind", _KINDS)
    mode = check_choice(mode, "mode", _MODES)
    chosen = scale is None
    if not chosen:
        scale = check_real(scale, "scale (λ)", positive=True)
    dt = _check_dtype(dtype)
    args = (n, exponent_rows, coefficients, constant, kind, activation)
    if chosen:  # biases do not depend on λ: build once at a representable λ to learn them, then choose
        probe = _build_at(*args, _SCALE_GRID[-1], bias, dt, mode, plain)
        scale = choose_scale(kind, activation, dt, mode, probe._error_terms())
    net = _build_at(*args, scale, bias, dt, mode, plain)
    _warn_accuracy(net, chosen)
    return net


def _warn_accuracy(net: ProductNetwork, chosen: bool) -> None:
    """A RuntimeWarning when the network cannot be trusted to ACCURACY_WARNING: for a caller's λ when its
    cancellation floor is above it (naming the better λ and mode="stable" where it exists), for the
    default λ when even the best λ's prediction is above it."""
    terms = net._error_terms()
    trunc, floor = (float(v) for v in _network_error(net.activation, net.kind, net.mode, net.dtype, terms,
                                                      net.scale))
    stable = net.mode == "network" and not (net.activation == "gelu" or
                                            (net.kind == "shallow" and net.activation != "exp"))
    hint = " or mode='stable' (cancellation-free, the same function)" if stable else ""
    where = "on inputs in [−1, 1]ⁿ (relative to the largest output, 1)"
    if not chosen and floor > ACCURACY_WARNING:
        best = choose_scale(net.kind, net.activation, net.dtype, net.mode, terms)
        best_error = float(sum(_network_error(net.activation, net.kind, net.mode, net.dtype, terms, best)))
        warnings.warn(
            f"scale={net.scale:g} puts the cancellation floor of this {net.kind} {net.dtype.name} network at "
            f"about {floor:.2g} {where} (truncation {trunc:.2g}); scale={best:.3g} (the default, "
            f"scale=None) predicts {best_error:.2g}{hint}", AccuracyWarning, stacklevel=4)
    elif chosen and trunc + floor > DEFAULT_ACCURACY_WARNING:
        other = [hint.removeprefix(" or ")] if stable else []
        if net.dtype == np.float32:
            other.append("dtype='float64'")
        if net.kind == "shallow":
            other.append("kind='deep'")
        advice = f"; for better use {' or '.join(other)}" if other else ""
        warnings.warn(
            f"even the best scale ({net.scale:.3g}) leaves this {net.kind} {net.dtype.name} network a predicted "
            f"maximum error of {trunc + floor:.2g} {where}{advice}", AccuracyWarning, stacklevel=4)


def _build_at(n: int, exponent_rows: list[list[int]], coefficients: list[float], constant: float, kind: str,
              activation: str, scale: float, bias: float | None, dt: np.dtype, mode: str,
              plain: bool) -> ProductNetwork:
    bias = None if bias is None else check_real(bias, "bias")
    if mode == "stable" and activation == "gelu":
        raise ValueError("mode='stable' has no cancellation-free closed form for gelu (the even part of "
                         "z Φ(z) has none); use mode='network' (in float64 for small scale)")
    if mode == "stable" and kind == "shallow" and activation != "exp":
        raise ValueError("mode='stable' for kind='shallow' exists only for activation='exp', where the "
                         "sign sum factorises into e^a ∏ 2 sinh(λ xᵢ); other activations have no "
                         "cancellation-free form of the 2ⁿ-term difference")
    columns_list = [[i for i, e in enumerate(row) for _ in range(e)] for row in exponent_rows]
    degrees = [len(c) for c in columns_list]
    monomials: list[_Monomial] = []
    biases: dict[int, float] = {}
    gate_coef = carry_coef = 1.0
    if kind == "deep":
        depth = max((_deep_depth(d) for d in degrees if d >= 1), default=0)
        needs_gate = any(d >= 2 for d in degrees)
        needs_carry = any(d >= 1 and (_deep_carries(d) or _deep_depth(d) < depth) for d in degrees)
        a = bias if bias is not None else (choose_bias(activation, 2) if needs_gate else choose_bias(activation, 1))
        if needs_gate or needs_carry:
            second = float(activation_derivative(activation, 2, np.array(a)))
            if needs_gate:
                second = _check_derivative(activation, 2, a, "the 4-neuron gate m = ΣN/(4λ²σ''(a))")
            first = float(activation_derivative(activation, 1, np.array(a)))
            if needs_carry:
                first = _check_derivative(activation, 1, a, "carrying an unpaired value, x ≈ ΔN/(2λσ'(a)),")
            gate_coef = 1.0 / (4.0 * scale * scale * second) if needs_gate else 1.0
            carry_coef = 1.0 / (2.0 * scale * first) if needs_carry and first != 0 else 1.0
            _check_representable(gate_coef, "the gate's output weight 1/(4λ²σ''(a))", dt)
            _check_representable(carry_coef, "the carry's output weight 1/(2λσ'(a))", dt)
        biases[2] = a
        n_neurons = 0
        for cols, coef in zip(columns_list, coefficients):
            d = len(cols)
            if d == 0:
                constant += coef
                continue
            extra = depth - _deep_depth(d)
            n_neurons += product_network_neurons(d, "deep") + 2 * extra
            monomials.append(_Monomial(cols, coef, extra, a))
    else:
        depth = 1 if any(d >= 1 for d in degrees) else 0
        out_coefs: dict[int, float] = {}
        n_neurons = 0
        for cols, coef in zip(columns_list, coefficients):
            d = len(cols)
            if d == 0:
                constant += coef
                continue
            _check_shallow_size(d)
            if d not in biases:
                a = bias if bias is not None else choose_bias(activation, d)
                value = _check_derivative(activation, d, a, f"the shallow network's output weight "
                                          f"1/(2^{d} {_derivative_name(d)}(a) λ^{d})")
                out_coef = 1.0 / (2.0**d * value * scale**d)
                _check_representable(out_coef, f"the output weight 1/(2^{d} {_derivative_name(d)}(a) λ^{d})", dt)
                biases[d] = a
                out_coefs[d] = out_coef
            monomials.append(_Monomial(cols, coef, 0, biases[d], out_coefs[d]))
            n_neurons += 2**d
    return ProductNetwork(n, kind, activation, scale, dt, mode, monomials, float(constant), depth, biases,
                          gate_coef, carry_coef, n_neurons, plain)


def product_network(n: int, *, kind: str = "deep", activation: str = "softplus", scale: float | None = None,
                    bias: float | None = None, dtype: Any = "float64", mode: str = "network") -> ProductNetwork:
    """The network that multiplies its n inputs: x ↦ ∏ xᵢ, within a relative error O(λ²).

    Parameters
    ----------
    n : int
        Number of inputs (≥ 1; at most 20 for ``kind="shallow"``, 65536 for ``kind="deep"``).
    kind : {"deep", "shallow"}
        ``"deep"``: a binary tree of 4-neuron gates m(u, v) = [σ(a+λ(u+v)) + σ(a−λ(u+v)) −
        σ(a+λ(u−v)) − σ(a−λ(u−v))] / (4λ²σ''(a)), ⌈log₂ n⌉ hidden layers and
        4(n−1) + 2(⌈log₂ n⌉ − popcount(n−1)) neurons (a level with an odd count carries its last
        value with 2 neurons, x ≈ [σ(a+λx) − σ(a−λx)] / (2λσ'(a))). ``"shallow"``: one hidden layer
        of 2ⁿ neurons, ∏ xᵢ ≈ Σ_s (∏ sᵢ) σ(a + λ s·x) / (2ⁿ σ⁽ⁿ⁾(a) λⁿ), evaluated natively by walking
        the sign vectors in Gray-code order (one add per neuron).
    activation : {"softplus", "exp", "logistic", "tanh", "gelu"}
        ``relu`` (σ'' ≡ 0) is refused with a ValueError.
    scale : float or None
        λ. The truncation error falls like λ², the rounding floor of ``mode="network"`` grows like
        ε/λ² (deep) or ε/λⁿ (shallow), ε the unit roundoff of dtype. None (default) picks the λ that
        minimises the predicted error for this n, kind, activation, dtype and mode (``net.scale`` says
        which, ``net.predicted_error`` what it predicts; e.g. about 1e-4 deep in float64, 0.02 deep in
        float32). A RuntimeWarning names a better λ (or ``mode="stable"``) when a given λ puts the
        cancellation floor above 1e-3, or when even the best λ predicts more than that.
    bias : float or None
        The hidden bias a. None picks the a in [−6, 6] maximising ``|σ⁽ᵈ⁾(a)| / max(1, |σ(a)|)`` with d = 2
        (deep) or d = n (shallow), preferring 0 when within 0.1% of the best: 0 for softplus, exp and
        GELU (deep), ln(2+√3) for the logistic, atanh(1/√3) for tanh. A bias where the needed
        derivative vanishes raises ValueError naming it.
    dtype : {"float64", "float32"}
        Of the weights and of the evaluation.
    mode : {"network", "stable"}
        ``"network"``: what the network computes, cancellation included. ``"stable"``: the same
        mathematical function through cancellation-free closed forms of each gate (softplus, exp,
        logistic, tanh; shallow: exp only); other combinations raise ValueError.

    Returns
    -------
    ProductNetwork
    """
    n = check_int(n, "n", minimum=1)
    if kind == "shallow":
        _check_shallow_size(n)
    elif n > MAX_DEEP_INPUTS:
        raise ValueError(f"n must be <= {MAX_DEEP_INPUTS} for kind='deep', got {n}")
    return _build(n, [[1] * n], [1.0], 0.0, kind, activation, scale, bias, dtype, mode, plain=True)


def polynomial_network(exponents: Any, coefficients: Any, *, kind: str = "deep", activation: str = "softplus",
                       scale: float | None = None, bias: float | None = None, dtype: Any = "float64",
                       mode: str = "network", constant: float = 0.0) -> ProductNetwork:
    """A network for the sparse polynomial Σⱼ cⱼ ∏ᵢ xᵢ^eᵢⱼ built from the same gates.

    Parameters
    ----------
    exponents : (m, n) array of non-negative ints
        Row j holds the exponents of monomial j (xᵢ^e is the product of e copies of xᵢ).
    coefficients : (m,) array of reals
    constant : float
        Added to the output (the output layer's bias); rows of zeros add their coefficient here too.
    kind, activation, scale, bias, dtype, mode
        As for :func:`product_network`. ``kind="deep"``: monomial j is a deep product of its degree dⱼ
        inputs, padded with 2-neuron carries to the common depth D = maxⱼ ⌈log₂ dⱼ⌉, so it costs
        4(dⱼ−1) + 2(⌈log₂ dⱼ⌉ − popcount(dⱼ−1)) + 2(D − ⌈log₂ dⱼ⌉) neurons. ``kind="shallow"``: 2^dⱼ
        neurons each, one hidden layer, each degree with its own bias.

    Returns
    -------
    ProductNetwork whose ``n_neurons`` is the total above; it approximates the polynomial within the λ²
    law of its gates.
    """
    e = np.asarray(exponents)
    if e.dtype.kind not in "iub" and not (e.dtype.kind == "f" and e.size and np.all(e == np.round(e))):
        raise TypeError(f"exponents must be non-negative integers, got dtype {e.dtype}")
    if e.ndim != 2 or e.shape[0] < 1 or e.shape[1] < 1:
        raise ValueError(f"exponents must have shape (m, n) with m, n >= 1, got {e.shape}")
    if (e < 0).any():
        raise ValueError(f"exponents must be non-negative, got minimum {e.min()}")
    c = np.asarray(coefficients)
    if c.dtype.kind not in "biuf":
        raise TypeError(f"coefficients must be real numbers, got dtype {c.dtype}")
    c = c.astype(np.float64)
    if c.shape != (e.shape[0],):
        raise ValueError(f"coefficients must have shape ({e.shape[0]},) to match exponents, got {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError("coefficients must be finite")
    constant = float(constant)
    if not np.isfinite(constant):
        raise ValueError(f"constant must be finite, got {constant}")
    degrees = e.sum(axis=1)
    limit = MAX_SHALLOW_INPUTS if kind == "shallow" else MAX_DEEP_INPUTS
    if degrees.max() > limit:
        if kind == "shallow":
            _check_shallow_size(int(degrees.max()))
        raise ValueError(f"monomial degree must be <= {limit} for kind={kind!r}, got {int(degrees.max())}")
    rows = [[int(v) for v in row] for row in e]
    return _build(e.shape[1], rows, [float(v) for v in c], constant, kind, activation, scale, bias, dtype,
                  mode, plain=False)


@overload
def multiplication_gate(u: torch.Tensor, v: Any, *, activation: str = "softplus", scale: float | None = None,
                        bias: float | None = None, mode: str = "network",
                        threads: int | None = None) -> torch.Tensor: ...
@overload
def multiplication_gate(u: Any, v: torch.Tensor, *, activation: str = "softplus", scale: float | None = None,
                        bias: float | None = None, mode: str = "network",
                        threads: int | None = None) -> torch.Tensor: ...
@overload
def multiplication_gate(u: Any, v: Any, *, activation: str = "softplus", scale: float | None = None,
                        bias: float | None = None, mode: str = "network", threads: int | None = None) -> np.ndarray: ...


def multiplication_gate(u: Any, v: Any, *, activation: str = "softplus", scale: float | None = None,
                        bias: float | None = None, mode: str = "network", threads: int | None = None) -> Any:
    """The 4-neuron gate m(u, v) ≈ u·v, elementwise over broadcast u and v::

        m(u, v) = [σ(a+λ(u+v)) + σ(a−λ(u+v)) − σ(a+λ(u−v)) − σ(a−λ(u−v))] / (4λ²σ''(a))
                = u·v · [1 + σ''''(a)/(6σ''(a)) · λ²(u² + v²) + O(λ⁴)]

    (softplus at a = 0: relative error −λ²(u² + v²)/12). float32 inputs give float32, everything else
    float64; numpy or torch in, the same kind out. Parameters as for :func:`product_network`.
    On torch tensors the gate runs as the custom op ``torch.ops.deepcheap.multiplication_gate``:
    differentiable in u and v, and usable inside ``torch.compile``. ``threads``: CPU threads for this
    call (None: :func:`~deepcheap_native.set_num_threads`; inside a compiled graph, which runs the op
    later, the package setting applies); the result does not depend on it.
    """
    threads = check_threads(threads)
    if is_torch_tensor(u) or is_torch_tensor(v):
        import torch

        from .torch_ops import multiplication_gate as gate_op

        if torch.compiler.is_compiling():  # a compiled graph runs the op later, with set_num_threads
            return gate_op(u, v, activation=activation, scale=scale, bias=bias, mode=mode)
        if scale is not None:
            product_network(2, activation=activation, scale=scale, bias=bias, mode=mode)  # friendly errors first
        with call_threads(threads):  # eager ops run on this thread, so the override reaches the kernel
            return gate_op(u, v, activation=activation, scale=scale, bias=bias, mode=mode)
    uu, u_torch = to_numpy(u, "u")
    vv, v_torch = to_numpy(v, "v")
    for name, arr in (("u", uu), ("v", vv)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    try:
        uu, vv = np.broadcast_arrays(uu, vv)
    except ValueError:
        raise ValueError(f"u of shape {uu.shape} and v of shape {vv.shape} do not broadcast") from None
    dtype = np.float32 if uu.dtype == np.float32 and vv.dtype == np.float32 else np.float64
    net = product_network(2, activation=activation, scale=scale, bias=bias, dtype=dtype, mode=mode)
    x = np.stack([uu.reshape(-1), vv.reshape(-1)], axis=1)
    result = net(x, threads=threads).reshape(uu.shape)
    return like_input(result, u_torch or v_torch)
