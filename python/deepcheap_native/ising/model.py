"""Boltzmann sampling of low-order Hamiltonians: the 2D Ising model with many replicas, block-spin
renormalization, and heat-bath sampling of sparse k-local (k <= 4) Hamiltonians, with the exact
anchors (Onsager, Kaufman, Ferdinand-Fisher) that any sampler can be checked against.

Metropolis with a multiple of 64 replicas runs on multi-spin coding: bit b of a 64-bit word holds
replica b at one site, neighbour counts are bitwise adders, and every replica compares its own random
uniform (bits drawn from Philox, keyed by seed, sweep, colour and site) with its acceptance
probability. Heat-bath and other replica counts use a plain int8 lattice. Results are identical for
every thread count and SIMD target.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import (
    ArrayOut,
    check_choice,
    check_int,
    check_real,
    html_table,
    like_input,
    short_repr,
    to_numpy,
)
from ..core.memory import check_allocation
from ..core.results import saveable
from ..core.validate import FixedAttributes, call_threads, check_threads, progress_bar, resolve_seed

if TYPE_CHECKING:  # annotations only: torch stays a lazy, optional import
    import torch

    from .cluster import ClusterSampler

__all__ = [
    "CRITICAL_TEMPERATURE",
    "BoltzmannSampler",
    "BoltzmannSeries",
    "IsingModel",
    "IsingSampler",
    "IsingSeries",
    "binder_cumulant",
    "block_spin",
    "exact_energy",
    "onsager_energy",
    "onsager_magnetization",
]

#: Onsager's critical temperature of the square-lattice Ising model (J = 1, k_B = 1): 2 / ln(1 + sqrt 2).
CRITICAL_TEMPERATURE: float = 2.0 / math.log1p(math.sqrt(2.0))


def _check_temperature(temperature: Any, name: str = "temperature") -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(temperature).__name__} {temperature!r}")
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {t}")
    return t


def _check_real(value: Any, name: str) -> float:
    return check_real(value, name)


# ---- exact results ---------------------------------------------------------------------------------


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
    t = _check_temperature(T, "T")
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
    t = _check_temperature(T, "T")
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
    t = _check_temperature(T, "T")
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
    u = 1.0 - m4 / (3.0 * m2 * m2)
    return float(u) if np.ndim(u) == 0 else u


# ---- the lattice sampler ----------------------------------------------------------------------------


@saveable
class IsingSeries(NamedTuple):
    """Time series from :meth:`IsingSampler.run`, each of shape (n_measure, replicas)."""

    m: np.ndarray  #: magnetization per spin
    abs_m: np.ndarray  #: ``|m|``
    m2: np.ndarray  #: m^2
    m4: np.ndarray  #: m^4
    e: np.ndarray  #: energy per spin

    def __repr__(self) -> str:
        return short_repr("IsingSeries", zip(self._fields, self))

    def _repr_html_(self) -> str:
        return html_table("IsingSeries", zip(self._fields, self))

    @property
    def energy_per_spin(self) -> Any:
        """H / L² per measurement and replica: the explicit name of ``e``."""
        return self.e


def _check_spin_array(x: Any, name: str) -> tuple[np.ndarray, bool]:
    a, came_from_torch = to_numpy(x, name)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold spins -1/+1 as numbers, got dtype {a.dtype}")
    bad = (a != 1) & (a != -1)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{name} must hold only -1 and +1, but {name}[{', '.join(map(str, where))}] is {a[where]}")
    return np.ascontiguousarray(a, dtype=np.int8), came_from_torch


class IsingModel(FixedAttributes):
    """The square-lattice Ising model ``H = -J sum_<ij> s_i s_j - h sum_i s_i`` on an L x L torus.

    Parameters
    ----------
    L : even lattice size >= 2 (periodic boundaries; checkerboard updates need L even).
    J : coupling (J > 0 ferromagnetic).
    h : external field.

    A model is immutable (samplers made from it hold its L, J and h): assigning ``L``, ``J`` or ``h``
    is an AttributeError; make a new model instead.
    """

    _FIXED = ("L", "J", "h")
    _FIXED_HINT = "a model is immutable (its samplers hold L, J and h); make a new IsingModel(L, J=..., h=...)"

    def __init__(self, L: int, *, J: float = 1.0, h: float = 0.0) -> None:
        self.L = check_int(L, "L", minimum=2)
        if self.L % 2:
            raise ValueError(f"L must be even (checkerboard updates on a torus), got {self.L}")
        self.J = _check_real(J, "J")
        self.h = _check_real(h, "h")
        # H = -J sum s_i s_j - h sum s_i is summed in float64: its largest value, (2|J| + |h|) L^2, must be finite.
        if not math.isfinite((2 * abs(self.J) + abs(self.h)) * self.L * self.L):
            raise ValueError(f"J={self.J} and h={self.h} give energies beyond float64 on a {self.L} x {self.L} "
                             f"lattice ((2|J| + |h|) L^2 overflows); rescale the couplings (and the temperature)")

    def __repr__(self) -> str:
        return f"IsingModel(L={self.L}, J={self.J}, h={self.h})"

    def sampler(
        self,
        temperature: float,
        *,
        replicas: int = 64,
        algorithm: str = "metropolis",
        seed: int | None = None,
        init: Any = "random",
        kernel: str = "auto",
        first_replica: int = 0,
        device: Any = None,
        rng: str | None = None,
        **cluster_options: Any,
    ) -> IsingSampler | ClusterSampler:
        """A Markov chain of ``replicas`` independent lattices at ``temperature``.

        Parameters
        ----------
        temperature : T > 0 (k_B = 1).
        replicas : number of independent lattices.
        algorithm : "metropolis" or "heatbath" (checkerboard sweeps either way), or the cluster updates
            "wolff" and "swendsen-wang" (J > 0, h = 0; a :class:`~deepcheap_native.ising.ClusterSampler`,
            which takes ``first_replica=`` and no ``kernel``).
        seed : 64-bit seed of the Philox streams.
        init : "random" (independent fair spins), "up" (all +1), or an array of shape (replicas, L, L) of ±1.
        kernel : "auto" (multi-spin coding for Metropolis with a multiple of 64 replicas, else int8),
            "multispin" or "int8".
        first_replica : these are replicas first_replica .. first_replica + replicas - 1 of the seed's
            batch (see :class:`IsingSampler`).
        device : None or "cpu" (default), "cuda", "cuda:N": where the lattices live and are swept.
        rng : the sweeps' generator (Metropolis and heat-bath): "philox7" (Philox4x32-7, the default
            from 0.3.0) or "philox" (Philox4x32-10, the stream of 0.2 and earlier); see
            :class:`IsingSampler`.

        Algorithm names are case-insensitive; "heat-bath" and "sw" are aliases of "heatbath" and
        "swendsen-wang".
        """
        algorithm = check_algorithm(algorithm)
        if algorithm in ("wolff", "swendsen-wang"):
            from .cluster import ClusterSampler  # the cluster module builds on this one

            if kernel != "auto":
                raise ValueError(f"kernel applies to the local samplers only, got kernel={kernel!r} with "
                                 f"algorithm={algorithm!r}")
            if rng is not None:
                raise ValueError(f"rng applies to the local samplers only, got rng={rng!r} with "
                                 f"algorithm={algorithm!r}")
            return ClusterSampler(self, temperature, replicas=replicas, algorithm=algorithm, seed=seed, init=init,
                                  first_replica=first_replica, device=device, **cluster_options)
        if cluster_options:
            raise TypeError(f"unexpected arguments for algorithm={algorithm!r}: {sorted(cluster_options)}")
        return IsingSampler(self, temperature, replicas=replicas, algorithm=algorithm, seed=seed, init=init,
                            kernel=kernel, first_replica=first_replica, device=device, rng=rng)


#: Every Ising algorithm, local first, and the aliases accepted for them (case-insensitively).
ALGORITHM_NAMES = ("metropolis", "heatbath", "wolff", "swendsen-wang")
_ALGORITHM_ALIASES = {"heat-bath": "heatbath", "heat_bath": "heatbath", "sw": "swendsen-wang",
                      "swendsen_wang": "swendsen-wang", "swendsenwang": "swendsen-wang"}


def check_algorithm(algorithm: Any, choices: tuple[str, ...] = ALGORITHM_NAMES) -> str:
    """The canonical name of an Ising algorithm among ``choices``: case-insensitive, with the aliases
    "heat-bath" and "sw"; an unknown one is a ValueError listing every valid name."""
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be one of {', '.join(map(repr, choices))} (a str), got "
                        f"{type(algorithm).__name__}")
    name = algorithm.strip().lower()
    name = _ALGORITHM_ALIASES.get(name, name)
    if name not in choices:
        others = [a for a in ALGORITHM_NAMES if a not in choices]
        extra = (f" ({', '.join(map(repr, others))} are made by IsingModel.sampler)" if others and name in others
                 else "")
        raise ValueError(f"algorithm must be one of {', '.join(map(repr, choices))} (case-insensitive; "
                         f"aliases 'heat-bath', 'sw'), got {algorithm!r}{extra}")
    return name


#: Version of the dictionaries made by ``IsingSampler.state()`` and ``BoltzmannSampler.state()``.
STATE_VERSION = 1


def _pack_spins(spins: np.ndarray) -> np.ndarray:
    """(replicas, ...) ±1 int8 -> (replicas, ceil(n / 8)) uint8, one bit per spin (1 = +1)."""
    return np.packbits(spins.reshape(spins.shape[0], -1) > 0, axis=1)


def _unpack_spins(packed: Any, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape[1:]))
    want = (shape[0], (n + 7) // 8)
    if not isinstance(packed, np.ndarray) or packed.dtype != np.uint8 or packed.shape != want:
        got = f"{type(packed).__name__} {getattr(packed, 'dtype', '')} {getattr(packed, 'shape', '')}"
        raise ValueError(f"state['spins'] must be a uint8 array of shape {want}, got {got.strip()}")
    bits = np.unpackbits(packed, axis=1, count=n)
    return (bits.astype(np.int8) * 2 - 1).reshape(shape)


def _check_state(state: Any, sampler: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict made by {sampler}.state(), got {type(state).__name__}")
    if state.get("sampler") != sampler:
        raise ValueError(f"state is for {state.get('sampler')!r} but expected {sampler!r}")
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"state has version {state.get('version')!r} but expected {STATE_VERSION}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"state lacks {', '.join(missing)}")
    return state


#: The sweep generators of :class:`IsingSampler` (``rng=``) and their Philox rounds; the default from 0.3.0.
_RNG_ROUNDS = {"philox7": 7, "philox": 10}
DEFAULT_RNG = "philox7"


def _state_rng(state: Mapping[str, Any]) -> str:
    """The saved sampler's generator (states made before the key, up to 0.2: Philox4x32-10)."""
    value = state.get("rng", "philox")
    if not isinstance(value, str) or value not in _RNG_ROUNDS:
        raise ValueError(f"state['rng'] must be one of {sorted(_RNG_ROUNDS)}, got {value!r}")
    return value


def _state_torch(state: Mapping[str, Any]) -> bool:
    """Whether the saved sampler's spins were torch tensors (states made before the key: no)."""
    value = state.get("torch", False)
    if not isinstance(value, bool):
        raise ValueError(f"state['torch'] must be True or False, got {value!r}")
    return value


class _NativeChain(FixedAttributes):
    """What IsingSampler and BoltzmannSampler share: a native chain object (``self._chain``) of
    ``replicas`` ±1 configurations of shape ``_spin_shape``, advanced a sweep at a time.

    One sampler may be used from several Python threads: the native object holds a mutex, so calls
    run one at a time, exactly as if made in sequence (separate samplers run in parallel).

    ``temperature`` is the one parameter that changes in place (annealing): its setter rebuilds the
    native chain at the new temperature from the current spins and stream counters, exactly as
    ``from_state`` of a state with the new temperature would. Every other constructor argument is
    fixed (``_FIXED``): assigning it is an AttributeError, not a value the native chain never sees."""

    _chain: Any
    device: Any  # cuda.Device where the chain lives (every sampler sets it)
    _torch = False  # configurations given as torch tensors: spins and measurements come back as torch
    _temperature: float
    _FIXED_HINT = ("only temperature changes in place (sampler.temperature = T); for other parameters make "
                   "a new sampler, e.g. model.sampler(T, ..., init=old.spins)")

    @property
    def temperature(self) -> float:
        """T > 0 (k_B = 1). Assigning it changes the temperature of the following sweeps (an annealing
        schedule): the spins, ``sweeps_done`` and the random streams carry on, and ``state()`` records
        the new value, so a checkpoint continues exactly as this sampler does."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: Any) -> None:
        t = _check_temperature(value)
        if "_chain" not in self.__dict__:  # during construction
            self._temperature = t
            return
        self._retarget(self._state_at(t))

    def _state_at(self, temperature: float) -> dict[str, Any]:
        """This sampler's state with another temperature (what the temperature setter rebuilds from)."""
        state = self.state()
        state["temperature"] = temperature
        return state

    def _retarget(self, state: dict[str, Any]) -> None:
        """Replace the native chain (and every derived attribute) by the one ``from_state(state)``
        builds on this sampler's device; torch-ness of the results is kept."""
        fresh = type(self).from_state(state, device=self.device)
        torch_out = self._torch
        for name, value in fresh.__dict__.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_torch", torch_out)

    def state(self) -> dict[str, Any]:
        """A checkpoint: plain Python numbers and strings and one uint8 array of packed spins (one
        bit per spin), picklable and small. ``type(self).from_state(state)`` continues this sampler's
        chain bit for bit; the sampler itself pickles through it."""
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_from_state, (self.state(),))

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def sweeps_done(self) -> int:
        """Sweeps made so far (each one updates every spin once)."""
        return self._chain.sweeps_done

    def sweep(self, n: int = 1, *, progress: Any = False, threads: int | None = None) -> Any:
        """Make ``n`` sweeps (every spin of every replica once per sweep); returns self.

        ``progress``: False (default), True (a tqdm bar), a callable ``progress(done, n)`` or a bar with
        ``update``, reported after chunks of about 5 % of the sweeps (the same chain either way).
        ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
        chain does not depend on it.
        """
        n = check_int(n, "n", minimum=0)
        threads = check_threads(threads)
        with call_threads(threads):
            if not progress:
                self._chain.sweep(n)
                return self
            bar = progress_bar(progress, n, f"{type(self).__name__} sweeps")
            try:
                chunk, done = max(1, n // 20), 0
                while done < n:
                    k = min(chunk, n - done)
                    self._chain.sweep(k)
                    done += k
                    bar.update(k)
            finally:
                bar.close()
        return self

    @property
    def spins(self) -> ArrayOut:
        """A copy of the configurations: int8 ±1 of shape (replicas, ...) (torch when the sampler's
        spins were given as a torch tensor)."""
        return like_input(self._chain.get_spins(), self._torch)

    def device_spins(self) -> Any:
        """The configurations on the sampler's GPU, with no copy to the host: a
        :class:`~deepcheap_native.cuda.DeviceArray` of int8 ±1, shape (replicas, ...), made on the
        sampler's device (view it with ``torch.as_tensor(a, device=...)`` or ``cupy.asarray(a)``).
        Raises ValueError for a sampler on the CPU, whose :attr:`spins` are already on the host."""
        if self.device.kind != "cuda":
            raise ValueError(f"device_spins() is for a sampler on a GPU; this one runs on {self.device} (use .spins)")
        # Memory from the module that made the chain (the emulation's or the GPU's), whatever is current now.
        module = importlib.import_module(type(self._chain).__module__)
        arr = cuda.DeviceArray._allocate(module, self.device.index, self._spin_shape, np.int8)
        self._chain.get_spins_resident(arr._memory.address)
        return arr

    @spins.setter
    def spins(self, value: Any) -> None:
        spins, self._torch = _check_spin_array(value, "spins")
        if spins.shape != self._spin_shape:
            raise ValueError(f"spins must have shape {self._spin_shape}, got {spins.shape}")
        self._chain.set_spins(spins)


class _LatticeChain(_NativeChain):
    """What IsingSampler and ClusterSampler share: ``replicas`` L x L lattices of an
    :class:`IsingModel`, and the checks of the arguments both constructors take (written once)."""

    model: IsingModel
    temperature: float
    replicas: int
    first_replica: int
    seed: int

    def _check_lattice(self, model: Any, temperature: Any, replicas: Any, first_replica: Any, seed: Any,
                       init: Any) -> tuple[np.ndarray | None, bool]:
        """Validate and store model, temperature, replicas, first_replica and seed; returns the initial
        spins (None for "random" or "up") and whether they came as a torch tensor."""
        if not isinstance(model, IsingModel):
            raise TypeError(f"model must be an IsingModel, got {type(model).__name__}")
        self.model = model
        self.temperature = temperature
        self.replicas = check_int(replicas, "replicas", minimum=1, maximum=2**32)
        self.first_replica = check_int(first_replica, "first_replica", minimum=0, maximum=2**32 - self.replicas)
        self.seed = resolve_seed(seed)
        if isinstance(init, str):
            check_choice(init, "init", ("random", "up"))
            return None, False
        spins, came_from_torch = _check_spin_array(init, "init")
        if spins.shape != self._spin_shape:
            raise ValueError(f"init must have shape {self._spin_shape}, got {spins.shape}")
        return spins, came_from_torch

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        return (self.replicas, self.model.L, self.model.L)

    def energy(self) -> ArrayOut:
        raise NotImplementedError

    def energy_per_spin(self) -> ArrayOut:
        """H / L² of each replica, shape (replicas,): the explicit name of :meth:`energy`."""
        return self.energy()


class IsingSampler(_LatticeChain):
    """Replicas of an :class:`IsingModel` under Metropolis or heat-bath checkerboard sweeps.

    Usually made by :meth:`IsingModel.sampler`. Each replica draws its own random numbers (Philox keyed
    by the seed, with counters from sweep, colour, site and replica), so replicas are independent and the
    lattices do not depend on the thread count or SIMD target.

    ``temperature`` may be assigned between sweeps (annealing: ``for T in schedule: s.temperature = T;
    s.sweep(k)``); the model, replicas, algorithm, kernel, seed, first_replica and rng are fixed.

    ``rng`` picks the sweeps' generator (same counters either way): ``"philox7"``, Philox4x32-7, the
    default from 0.3.0 (7 rounds: the fewest with which Salmon et al., SC'11, Table 2, found Philox4x32
    to pass TestU01's BigCrush), or ``"philox"``, Philox4x32-10, the only stream of 0.2 and earlier:
    pass it to reproduce their lattices. Initial spins are the same under both. ``state()`` records the
    generator, and ``from_state`` of a state without one (made before 0.3.0) keeps Philox4x32-10.
    """

    _FIXED = ("model", "replicas", "first_replica", "seed", "algorithm", "kernel", "device", "rng")

    def __init__(
        self,
        model: IsingModel,
        temperature: float,
        *,
        replicas: int = 64,
        algorithm: str = "metropolis",
        seed: int | None = None,
        init: Any = "random",
        kernel: str = "auto",
        first_replica: int = 0,
        device: Any = None,
        rng: str | None = None,
    ) -> None:
        spins, self._torch = self._check_lattice(model, temperature, replicas, first_replica, seed, init)
        self.algorithm = check_algorithm(algorithm, ("metropolis", "heatbath"))
        rng = check_choice(DEFAULT_RNG if rng is None else rng, "rng", tuple(_RNG_ROUNDS))
        kernel = check_choice(kernel, "kernel", ("auto", "multispin", "int8"))
        can_multispin = (self.algorithm == "metropolis" and self.replicas % 64 == 0
                         and self.first_replica % 64 == 0)
        if kernel == "multispin" and not can_multispin:
            raise ValueError(
                "kernel='multispin' needs algorithm='metropolis' and replicas and first_replica multiples of "
                f"64, got algorithm={self.algorithm!r}, replicas={self.replicas}, "
                f"first_replica={self.first_replica}"
            )
        self.kernel = "multispin" if (kernel == "multispin" or (kernel == "auto" and can_multispin)) else "int8"
        check_allocation(self.replicas * model.L**2 * (9 if self.kernel == "multispin" else 8) // 8,
                         f"IsingModel({model.L}).sampler(replicas={self.replicas})")  # int8 spins (+ packed)
        self.device = cuda.resolve_device(device)
        self._chain = self.device.module.IsingChain(
            model.L, model.J, model.h, self.temperature, self.replicas, self.algorithm == "heatbath",
            self.kernel == "multispin", self.seed, init == "random" if spins is None else False,
            self.first_replica, device=self.device.index,
        )
        self._chain.set_rng_rounds(_RNG_ROUNDS[rng])
        self.rng = rng
        if spins is not None:
            self._chain.set_spins(spins)

    def __repr__(self) -> str:
        return (f"IsingSampler(L={self.model.L}, T={self.temperature}, replicas={self.replicas}, "
                f"algorithm={self.algorithm!r}, kernel={self.kernel!r}, sweeps_done={self.sweeps_done})")

    _STATE_KEYS = ("L", "J", "h", "temperature", "replicas", "first_replica", "algorithm", "kernel", "seed",
                   "sweeps_done", "spins")

    def state(self) -> dict[str, Any]:
        sweeps, spins = self._chain.snapshot()  # one lock: no sweep lands between the two
        return {
            "sampler": "IsingSampler", "version": STATE_VERSION,
            "L": self.model.L, "J": self.model.J, "h": self.model.h, "temperature": self.temperature,
            "replicas": self.replicas, "first_replica": self.first_replica, "algorithm": self.algorithm,
            "kernel": self.kernel, "seed": self.seed, "sweeps_done": int(sweeps),
            "spins": _pack_spins(spins), "torch": self._torch, "rng": self.rng,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, device: Any = None) -> IsingSampler:
        """The sampler saved by :meth:`state`: same model, replicas, seed, spins and sweep count, so its
        next sweeps are exactly those the saved sampler would have made, on ``device`` (default the CPU;
        the devices give the same lattices)."""
        state = _check_state(state, "IsingSampler", cls._STATE_KEYS)
        model = IsingModel(state["L"], J=state["J"], h=state["h"])
        shape = (check_int(state["replicas"], "state['replicas']", minimum=1), model.L, model.L)
        sampler = cls(model, state["temperature"], replicas=shape[0], algorithm=state["algorithm"],
                      seed=state["seed"], init=_unpack_spins(state["spins"], shape), kernel=state["kernel"],
                      first_replica=state["first_replica"], device=device,
                      rng=_state_rng(state))
        sampler._chain.set_sweeps_done(check_int(state["sweeps_done"], "state['sweeps_done']", minimum=0,
                                                 maximum=2**32))
        sampler._torch = _state_torch(state)
        return sampler

    def magnetization(self) -> ArrayOut:
        """Magnetization per spin of each replica, shape (replicas,)."""
        return like_input(self._chain.measure()[0], self._torch)

    def energy(self) -> ArrayOut:
        """Energy per spin of each replica, shape (replicas,) (also :meth:`energy_per_spin`)."""
        return like_input(self._chain.measure()[1], self._torch)

    def run(self, n_sweeps: int, *, measure_every: int = 1, progress: Any = False,
            threads: int | None = None) -> IsingSeries:
        """Sweep ``n_sweeps`` times, measuring after every ``measure_every`` sweeps.

        ``progress``: False (default), True (a tqdm bar when tqdm is installed), a callable
        ``progress(done, total)`` or a bar with ``update``; the library never prints.
        ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
        chain does not depend on it.

        Returns
        -------
        IsingSeries of (n_sweeps // measure_every, replicas) arrays: m, |m|, m^2, m^4 and e per spin.
        Sweeps left over after the last measurement are made too.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        every = check_int(measure_every, "measure_every", minimum=1)
        n_measure = n_sweeps // every
        threads = check_threads(threads)
        # Before any sweep: the series would otherwise be lost to numpy's allocation after the run.
        check_allocation(6 * 8 * n_measure * self.replicas,
                         f"IsingSampler.run(n_sweeps={n_sweeps}, measure_every={every}) with {self.replicas} replicas",
                         detail=f"{n_measure} measurements x {self.replicas} replicas x 6 float64 series")
        with call_threads(threads):
            if not progress:
                m, e = self._chain.run(n_measure, every)
            else:
                chunk = max(1, n_measure // 20)
                parts_m, parts_e = [], []
                done = 0
                bar = progress_bar(progress, n_measure * every, "Ising sweeps")
                try:  # the bar closes on Ctrl-C too (the chain keeps its last completed sweep)
                    while done < n_measure:
                        k = min(chunk, n_measure - done)
                        pm, pe = self._chain.run(k, every)
                        parts_m.append(pm)
                        parts_e.append(pe)
                        done += k
                        bar.update(k * every)
                finally:
                    bar.close()
                m = np.concatenate(parts_m) if parts_m else np.empty((0, self.replicas))
                e = np.concatenate(parts_e) if parts_e else np.empty((0, self.replicas))
            self._chain.sweep(n_sweeps - n_measure * every)
        m2 = m * m
        series = IsingSeries(m=m, abs_m=np.abs(m), m2=m2, m4=m2 * m2, e=e)
        return IsingSeries(*(like_input(a, self._torch) for a in series)) if self._torch else series


# ---- renormalization --------------------------------------------------------------------------------


@overload
def block_spin(spins: torch.Tensor, b: int = 2, *, rule: str = "majority", seed: int | None = None,
               threads: int | None = None) -> torch.Tensor: ...
@overload
def block_spin(spins: Any, b: int = 2, *, rule: str = "majority", seed: int | None = None,
               threads: int | None = None) -> np.ndarray: ...


def block_spin(spins: Any, b: int = 2, *, rule: str = "majority", seed: int | None = None, threads: int | None = None) -> Any:
    """Coarse-grain lattices by b x b blocks.

    Parameters
    ----------
    spins : ±1 array of shape (..., L, L) (numpy or torch), any integer or float dtype.
    b : block size; must divide L.
    rule : "majority" (the sign of the block sum; ties, possible for even b, broken by a fair coin from
        Philox keyed on (seed, block, replica)) or "decimation" (the block's top-left spin).
    seed : 64-bit seed of the tie-breaking coins.
    threads : CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the result
        does not depend on it.

    Returns
    -------
    int8 array of shape (..., L // b, L // b), torch when ``spins`` was a torch tensor.
    """
    a, came_from_torch = _check_spin_array(spins, "spins")
    b = check_int(b, "b", minimum=1)
    rule = check_choice(rule, "rule", ("majority", "decimation"))
    seed = resolve_seed(seed)
    threads = check_threads(threads)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"spins must have shape (..., L, L), got {a.shape}")
    L = a.shape[-1]
    if L == 0 or L % b:
        raise ValueError(f"b must divide L: got b={b}, L={L}")
    lead = a.shape[:-2]
    flat = a.reshape((-1, L, L))
    with call_threads(threads):
        out = _core.block_spin(flat, b, 0 if rule == "majority" else 1, seed)
    return like_input(out.reshape(lead + (L // b, L // b)), came_from_torch)


# ---- k-local Boltzmann sampling ---------------------------------------------------------------------


@saveable
class BoltzmannSeries(NamedTuple):
    """Time series from :meth:`BoltzmannSampler.run`."""

    energy: np.ndarray  #: H per replica, shape (n_measure, replicas)
    spins: np.ndarray | None  #: (n_measure, replicas, n_spins) int8 when asked for, else None

    def __repr__(self) -> str:
        return short_repr("BoltzmannSeries", zip(self._fields, self))

    def _repr_html_(self) -> str:
        return html_table("BoltzmannSeries", zip(self._fields, self))

    @property
    def total_energy(self) -> np.ndarray:
        """H (the total) per measurement and replica: the explicit name of ``energy``."""
        return self.energy


def _normalise_terms(n_spins: int, terms: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(terms, Mapping):
        items = list(terms.items())
    elif isinstance(terms, Iterable) and not isinstance(terms, (str, bytes)):
        items = list(terms)
    else:
        raise TypeError(f"terms must be a mapping {{indices: coefficient}} or pairs (indices, coefficient), "
                        f"got {type(terms).__name__}")
    indices = np.full((len(items), 4), -1, dtype=np.int32)
    coefficients = np.empty(len(items), dtype=np.float64)
    for t, item in enumerate(items):
        try:
            idx, coefficient = item
        except (TypeError, ValueError):
            raise TypeError(f"terms[{t}] must be a pair (indices, coefficient), got {item!r}") from None
        idx = (idx,) if isinstance(idx, (int, np.integer)) else tuple(idx)
        if not 1 <= len(idx) <= 4:
            raise ValueError(f"terms[{t}] has order {len(idx)}, but terms must have order 1 to 4: {idx!r}")
        for i in idx:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"terms[{t}] indices must be integers, got {idx!r}")
            if not 0 <= int(i) < n_spins:
                raise ValueError(f"terms[{t}] index {int(i)} is out of range for n_spins={n_spins}")
        if len(set(int(i) for i in idx)) != len(idx):
            raise ValueError(f"terms[{t}] repeats a spin index: {idx!r}")
        indices[t, : len(idx)] = [int(i) for i in idx]
        coefficients[t] = _check_real(coefficient, f"terms[{t}] coefficient")
    return indices, coefficients


class BoltzmannSampler(_NativeChain):
    """Heat-bath sampling of ``p(s) ∝ exp(-H(s) / T)`` for ±1 spins and a sparse k-local Hamiltonian.

    ``H(s) = sum over terms of coefficient * prod_{i in indices} s_i`` with 1 to 4 indices per term (a
    Boltzmann machine when every term has order <= 2). Spins that share a term get different colours
    (greedy graph colouring); one sweep updates the colour classes in turn, each class in parallel.

    Parameters
    ----------
    n_spins : number of spins.
    terms : mapping ``{(i, j, ...): coefficient}`` or an iterable of ``(indices, coefficient)`` pairs;
        a single int is a first-order term.
    temperature : T > 0; may be assigned between sweeps (annealing), the other parameters are fixed.
    replicas : number of independent chains.
    seed : 64-bit seed; the initial spins are fair coins.
    device : None or "cpu" (default), "cuda", "cuda:N": where the spins live and are swept.
    first_replica : these are replicas first_replica .. first_replica + replicas - 1 of the seed's batch:
        samplers over consecutive ranges together equal one sampler of all replicas, bit for bit.
    """

    _FIXED = ("n_spins", "term_indices", "coefficients", "replicas", "first_replica", "seed", "device")

    def __init__(self, n_spins: int, terms: Any, temperature: float, *, replicas: int, seed: int | None = None,
                 first_replica: int = 0, device: Any = None) -> None:
        self.n_spins = check_int(n_spins, "n_spins", minimum=1, maximum=2**31 - 1)
        self.temperature = temperature
        self.replicas = check_int(replicas, "replicas", minimum=1, maximum=2**32)
        self.first_replica = check_int(first_replica, "first_replica", minimum=0, maximum=2**32 - self.replicas)
        self.seed = resolve_seed(seed)
        check_allocation(self.replicas * self.n_spins, f"BoltzmannSampler(n_spins={self.n_spins}, "
                         f"replicas={self.replicas})")  # int8 spins
        indices, coefficients = _normalise_terms(self.n_spins, terms)
        indices.setflags(write=False)  # the native chain holds its own copy: edits would not reach it
        coefficients.setflags(write=False)
        self.term_indices, self.coefficients = indices, coefficients
        self.device = cuda.resolve_device(device)
        self._chain = self.device.module.BoltzmannChain(
            self.n_spins, self.term_indices, self.coefficients, self.temperature, self.replicas, self.seed,
            self.first_replica, device=self.device.index,
        )

    _STATE_KEYS = ("n_spins", "term_indices", "coefficients", "temperature", "replicas", "first_replica", "seed",
                   "sweeps_done", "spins")

    def state(self) -> dict[str, Any]:
        sweeps, spins = self._chain.snapshot()  # one lock: no sweep lands between the two
        return {
            "sampler": "BoltzmannSampler", "version": STATE_VERSION,
            "n_spins": self.n_spins, "term_indices": self.term_indices.copy(),
            "coefficients": self.coefficients.copy(), "temperature": self.temperature,
            "replicas": self.replicas, "first_replica": self.first_replica, "seed": self.seed,
            "sweeps_done": int(sweeps), "spins": _pack_spins(spins), "torch": self._torch,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, device: Any = None) -> BoltzmannSampler:
        """The sampler saved by :meth:`state`; its next sweeps are exactly the saved sampler's."""
        state = _check_state(state, "BoltzmannSampler", cls._STATE_KEYS)
        indices = np.asarray(state["term_indices"])  # (read-only views when the state is a sampler's own)
        coefficients = np.asarray(state["coefficients"])
        if indices.ndim != 2 or indices.shape[1] != 4 or coefficients.shape != (indices.shape[0],):
            raise ValueError(f"state['term_indices'] must have shape (n_terms, 4) and state['coefficients'] "
                             f"(n_terms,), got {indices.shape} and {coefficients.shape}")
        terms = [(tuple(int(i) for i in row if i >= 0), float(c)) for row, c in zip(indices, coefficients)]
        sampler = cls(state["n_spins"], terms, temperature=state["temperature"], replicas=state["replicas"],
                      seed=state["seed"], first_replica=state["first_replica"], device=device)
        sampler.spins = _unpack_spins(state["spins"], sampler._spin_shape)
        sampler._chain.set_sweeps_done(check_int(state["sweeps_done"], "state['sweeps_done']", minimum=0,
                                                 maximum=2**32))
        sampler._torch = _state_torch(state)
        return sampler

    @property
    def colours(self) -> np.ndarray:
        """The colour of each spin (spins sharing a term differ), shape (n_spins,)."""
        return np.asarray(self._chain.colours(), dtype=np.int32)

    @property
    def n_colours(self) -> int:
        return self._chain.n_colours

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        return (self.replicas, self.n_spins)

    def energy(self) -> np.ndarray:
        """H of each replica's current state, shape (replicas,) (also :meth:`total_energy`)."""
        return self._chain.energy()

    def total_energy(self) -> np.ndarray:
        """H (the total, not per spin) of each replica, shape (replicas,): the explicit name of :meth:`energy`."""
        return self.energy()

    def run(self, n_sweeps: int, *, measure_every: int = 1, return_spins: bool = False,
            threads: int | None = None) -> BoltzmannSeries:
        """Sweep ``n_sweeps`` times, recording H (and optionally the spins) every ``measure_every`` sweeps.

        ``threads``: CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
        chain does not depend on it.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        every = check_int(measure_every, "measure_every", minimum=1)
        threads = check_threads(threads)
        n_measure = n_sweeps // every
        check_allocation(n_measure * self.replicas * (8 + (self.n_spins if return_spins else 0)),
                         f"BoltzmannSampler.run(n_sweeps={n_sweeps}, measure_every={every}, "
                         f"return_spins={bool(return_spins)}) with {self.replicas} replicas",
                         detail=f"{n_measure} measurements x {self.replicas} replicas")
        energy = np.empty((n_measure, self.replicas))
        spins = np.empty((n_measure, self.replicas, self.n_spins), dtype=np.int8) if return_spins else None
        with call_threads(threads):
            for k in range(n_measure):
                self._chain.sweep(every)
                energy[k] = self._chain.energy()
                if spins is not None:
                    spins[k] = self._chain.get_spins()
            self._chain.sweep(n_sweeps - n_measure * every)
        return BoltzmannSeries(energy=energy, spins=spins)


def _from_state(state: Mapping[str, Any]) -> Any:
    """Unpickling: the sampler class named in the state, rebuilt from it."""
    kinds = {"IsingSampler": IsingSampler, "BoltzmannSampler": BoltzmannSampler}
    kind = state.get("sampler") if isinstance(state, Mapping) else None
    if kind not in kinds:
        raise ValueError(f"state names sampler {kind!r} but expected one of {sorted(kinds)}")
    return kinds[kind].from_state(state)
