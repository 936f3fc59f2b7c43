"""The square-lattice Ising model and its local samplers: :class:`IsingModel`, Metropolis and heat-bath
checkerboard sweeps of many replicas (:class:`IsingSampler`), what the local and cluster samplers share
(``_LatticeChain``), and block-spin renormalization.

Metropolis with a multiple of 64 replicas runs on multi-spin coding: bit b of a 64-bit word holds
replica b at one site, neighbour counts are bitwise adders, and every replica compares its own random
uniform (bits drawn from Philox, keyed by seed, sweep, colour and site) with its acceptance
probability. Heat-bath and other replica counts use a plain int8 lattice. Results are identical for
every thread count and SIMD target.

Energies here are per spin (H / L²) as everywhere on the lattice: ``energy_per_spin()`` (and its older
name ``energy()``); ``total_energy()`` is H.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import ArrayOut, like_input
from ..core.memory import check_allocation
from ..core.validate import (
    FixedAttributes,
    call_threads,
    check_choice,
    check_int,
    check_real,
    check_threads,
    resolve_seed,
)
from .chain import _check_spin_array, _from_state, _NativeChain, _unpack_spins  # noqa: F401  (_from_state: pickles made before ising/chain.py name it here)
from .series import IsingSeries, _lattice_series

if TYPE_CHECKING:  # annotations only: torch stays a lazy, optional import
    import torch

    from .cluster import ClusterSampler

__all__ = ["ALGORITHM_NAMES", "DEFAULT_RNG", "IsingModel", "IsingSampler", "block_spin", "check_algorithm"]


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
        self.J = check_real(J, "J")
        self.h = check_real(h, "h")
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


#: The sweep generators of :class:`IsingSampler` (``rng=``) and their Philox rounds; the default from 0.3.0.
_RNG_ROUNDS = {"philox7": 7, "philox": 10}
DEFAULT_RNG = "philox7"  #: the Ising sweeps' generator when rng= is not given (0.2 and earlier: "philox")


def _state_rng(state: Mapping[str, Any]) -> str:
    """The saved sampler's generator (states made before the key, up to 0.2: Philox4x32-10)."""
    value = state.get("rng", "philox")
    if not isinstance(value, str) or value not in _RNG_ROUNDS:
        raise ValueError(f"state['rng'] must be one of {sorted(_RNG_ROUNDS)}, got {value!r}")
    return value

class _LatticeChain(_NativeChain):
    """What IsingSampler and ClusterSampler share: ``replicas`` L x L lattices of an
    :class:`IsingModel`, the checks of the arguments both constructors take, the measurements and
    ``run`` (written once)."""

    model: IsingModel
    temperature: float
    replicas: int
    first_replica: int
    seed: int
    _SERIES: type = IsingSeries  # what run returns: the lattice series, then extra native columns
    _EXTRA_DTYPES: tuple[Any, ...] = ()  # dtypes of the extra columns (for a run with no measurement)

    def _check_lattice(self, model: Any, temperature: Any, replicas: Any, first_replica: Any, seed: Any,
                       init: Any) -> np.ndarray | None:
        """Validate and store model, temperature, replicas, first_replica, seed and whether ``init``
        came as a torch tensor (then spins and measurements come back as torch); returns the initial
        spins (None for "random" or "up")."""
        if not isinstance(model, IsingModel):
            raise TypeError(f"model must be an IsingModel, got {type(model).__name__}")
        self.model = model
        self.temperature = temperature
        self.replicas = check_int(replicas, "replicas", minimum=1, maximum=2**32)
        self.first_replica = check_int(first_replica, "first_replica", minimum=0, maximum=2**32 - self.replicas)
        self.seed = resolve_seed(seed)
        if isinstance(init, str):
            check_choice(init, "init", ("random", "up"))
            return None
        spins, self._torch = _check_spin_array(init, "init")
        if spins.shape != self._spin_shape:
            raise ValueError(f"init must have shape {self._spin_shape}, got {spins.shape}")
        return spins

    @property
    def _spin_shape(self) -> tuple[int, ...]:
        return (self.replicas, self.model.L, self.model.L)

    def magnetization(self) -> ArrayOut:
        """Magnetization per spin of each replica, shape (replicas,)."""
        return like_input(self._chain.measure()[0], self._torch)

    def energy_per_spin(self) -> ArrayOut:
        """H / L² of each replica, shape (replicas,)."""
        return like_input(self._chain.measure()[1], self._torch)

    def energy(self) -> ArrayOut:
        """H / L² of each replica, shape (replicas,): the older name of :meth:`energy_per_spin` (on the
        lattice an energy is per spin; :meth:`total_energy` is H)."""
        return self.energy_per_spin()

    def total_energy(self) -> ArrayOut:
        """H (the total, ``L² * energy_per_spin()``) of each replica, shape (replicas,)."""
        return like_input(self._chain.measure()[1] * float(self.model.L**2), self._torch)

    def _run_description(self) -> str:
        return f"{type(self).__name__} sweeps"

    def run(self, n_sweeps: int, *, measure_every: int = 1, progress: Any = False,
            threads: int | None = None) -> Any:
        """Sweep ``n_sweeps`` times, measuring after every ``measure_every`` sweeps.

        Parameters
        ----------
        n_sweeps : sweeps to make (those after the last measurement are made too).
        measure_every : sweeps between measurements.
        progress : False (default), True (a tqdm bar when tqdm is installed), a callable
            ``progress(sweeps_done_in_this_run, n_sweeps)`` or a bar with ``update``, reported after
            chunks of about 5 % of the run; the library never prints.
        threads : CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`); the
            lattices do not depend on it.

        Returns
        -------
        The sampler's series (:class:`IsingSeries`, :class:`ClusterSeries`) of
        (n_sweeps // measure_every, replicas) arrays: m, |m|, m^2, m^4 and e per spin (then the
        cluster counts); torch tensors when the sampler's spins were given as torch.
        """
        n_sweeps = check_int(n_sweeps, "n_sweeps", minimum=0)
        every = check_int(measure_every, "measure_every", minimum=1)
        n_measure = n_sweeps // every
        threads = check_threads(threads)
        # Before any sweep: the series would otherwise be lost to numpy's allocation after the run.
        words = len(self._SERIES._fields) + 1
        check_allocation(words * 8 * n_measure * self.replicas,
                         f"{type(self).__name__}.run(n_sweeps={n_sweeps}, measure_every={every}) with "
                         f"{self.replicas} replicas",
                         detail=f"{n_measure} measurements x {self.replicas} replicas x {words} series of 8 bytes")
        parts = self._advance(n_sweeps, every, progress, threads, self._run_description())
        dtypes = (np.float64, np.float64, *self._EXTRA_DTYPES)
        columns = ([np.concatenate(c) for c in zip(*parts)] if parts else
                   [np.empty((0, self.replicas), dtype=d) for d in dtypes])
        series = _lattice_series(self._SERIES, *columns)
        return type(series)(*(like_input(a, True) for a in series)) if self._torch else series

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
        spins = self._check_lattice(model, temperature, replicas, first_replica, seed, init)
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

    _PARAMS = ("L", "J", "h", "temperature", "replicas", "first_replica", "algorithm", "kernel", "seed")

    def _state_params(self) -> dict[str, Any]:
        return {"L": self.model.L, "J": self.model.J, "h": self.model.h, "temperature": self.temperature,
                "replicas": self.replicas, "first_replica": self.first_replica, "algorithm": self.algorithm,
                "kernel": self.kernel, "seed": self.seed, "rng": self.rng}

    @classmethod
    def _from_params(cls, state: Mapping[str, Any], device: Any) -> IsingSampler:
        model = IsingModel(state["L"], J=state["J"], h=state["h"])
        shape = (check_int(state["replicas"], "state['replicas']", minimum=1), model.L, model.L)
        return cls(model, state["temperature"], replicas=shape[0], algorithm=state["algorithm"],
                   seed=state["seed"], init=_unpack_spins(state["spins"], shape), kernel=state["kernel"],
                   first_replica=state["first_replica"], device=device, rng=_state_rng(state))

    def _run_description(self) -> str:
        return "Ising sweeps"


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
