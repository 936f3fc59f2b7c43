"""Cluster updates of the ferromagnetic Ising model: Wolff (1989) and Swendsen-Wang (1987).

Near T_c local sweeps decorrelate in ~L^2.17 sweeps; cluster updates flip whole correlated regions and
need ~L^0.25. Both build clusters from bonds between equal neighbours, each active with probability
p = 1 - exp(-2J/T). Made by ``IsingModel.sampler(T, algorithm="wolff" | "swendsen-wang")``; the sampler
has the local samplers' interface (``sweep``, ``run``, ``spins``, ``magnetization``, ``energy``,
``state()``/``from_state``, pickling) and runs replicas in parallel in native code, each replica drawing
from Philox counters built from (replica, site, cluster or sweep, purpose): the same seed gives the same
lattices on any thread count and for any split of the replicas (``first_replica=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core import cuda
from ..core.validate import check_int
from .chain import _unpack_spins
from .exact import CRITICAL_TEMPERATURE, onsager_magnetization
from .model import IsingModel, _LatticeChain, check_algorithm
from .series import ClusterSeries

__all__ = ["ALGORITHMS", "ClusterSampler", "wolff_clusters_per_sweep"]

#: The cluster algorithms and their native codes.
ALGORITHMS: dict[str, int] = {"wolff": 0, "swendsen-wang": 1}

#: Amplitude of the 2D Ising susceptibility above T_c: T chi = N <m^2> / N ~ 0.9626 (1 - T_c/T)^(-7/4)
#: (Wu, McCoy, Tracy & Barouch 1976).
_CHI_AMPLITUDE = 0.9625817


def wolff_clusters_per_sweep(L: int, temperature: float, J: float = 1.0) -> int:
    """The default number of Wolff clusters in one sweep: about ``L^2 / <|C|>``, so that a sweep flips about
    L^2 spins on average.

    Wolff's clusters are picked in proportion to their size, so ``<|C|> = L^2 <m^2>``. The count must not
    depend on the chain's own history (stopping once L^2 spins have flipped would bias every average), so
    it comes from a closed-form estimate of <m^2> at K = J/T: Onsager's m_0^2 below T_c, the critical
    amplitude ``0.9626 (1 - T_c/T)^(-7/4) / L^2`` above it, capped by the finite-size value ~L^(-1/4) near
    T_c. It is exact in neither regime; ``run(...).flipped`` reports the spins actually flipped.
    """
    t = float(temperature) / float(J)  # the model depends on J / T only
    m2 = L ** -0.25
    if t < CRITICAL_TEMPERATURE:
        m2 = max(m2, onsager_magnetization(t) ** 2)
    elif t > CRITICAL_TEMPERATURE:
        m2 = min(m2, _CHI_AMPLITUDE * (1.0 - CRITICAL_TEMPERATURE / t) ** -1.75 / L**2)
    return max(1, round(1.0 / max(m2, 1.0 / L**2)))


class ClusterSampler(_LatticeChain):
    """Replicas of a ferromagnetic, zero-field :class:`IsingModel` under Wolff or Swendsen-Wang updates.

    A **sweep** of Swendsen-Wang updates every bond once and flips each cluster of the partition with
    probability 1/2. A **sweep** of Wolff builds and flips ``clusters_per_sweep`` single clusters, each
    grown from a uniformly random site; the default, :func:`wolff_clusters_per_sweep`, is about
    ``L^2 / <|C|>``, so a sweep flips about L^2 spins on average, like a local sweep (the spins actually
    flipped are in ``run(...).flipped``). The count is fixed in advance: stopping once L^2 spins have
    flipped would make the measurement times depend on the cluster sizes and bias the averages.

    Parameters
    ----------
    model : IsingModel with J > 0 and h = 0.
    temperature : T > 0; may be assigned between sweeps (annealing: the bond probability, and a Wolff
        ``clusters_per_sweep`` left to its default, follow it); the other parameters are fixed.
    replicas : number of independent lattices (run in parallel, one per thread at a time).
    algorithm : "wolff" or "swendsen-wang".
    seed : 64-bit seed of the Philox streams.
    init : "random" (fair spins), "up" (all +1), or ±1 spins of shape (replicas, L, L).
    first_replica : global index of the first replica: the replicas draw exactly the numbers that
        replicas first_replica, first_replica + 1, ... of a larger sampler would, so a big job split
        over workers gives the same lattices as one call.
    clusters_per_sweep : Wolff clusters per sweep (default :func:`wolff_clusters_per_sweep`); must be
        None for Swendsen-Wang.
    device : None or "cpu" (default), "cuda", "cuda:N": where the lattices live and are updated. The GPU
        gives the CPU's lattices, measurements and cluster counts bit for bit (Wolff: one thread per
        replica grows its clusters; Swendsen-Wang: one thread per site, clusters found by label
        propagation, each labelled by its smallest site as the CPU's union-find roots are).
    """

    def __init__(
        self,
        model: IsingModel,
        temperature: float,
        *,
        replicas: int = 64,
        algorithm: str = "wolff",
        seed: int | None = None,
        init: Any = "random",
        first_replica: int = 0,
        clusters_per_sweep: int | None = None,
        device: Any = None,
    ) -> None:
        spins = self._check_lattice(model, temperature, replicas, first_replica, seed, init)
        self.algorithm = check_algorithm(algorithm, tuple(ALGORITHMS))
        if model.h != 0.0:
            raise ValueError(f"cluster updates need zero field, h = 0, got h={model.h} (use 'metropolis' or "
                             "'heatbath' with a field)")
        if not model.J > 0:
            raise ValueError(f"cluster updates need a ferromagnet, J > 0, got J={model.J} (use 'metropolis' or "
                             "'heatbath' for J <= 0)")
        self._clusters_follow_temperature = clusters_per_sweep is None and self.algorithm == "wolff"
        if clusters_per_sweep is None:
            clusters_per_sweep = (wolff_clusters_per_sweep(model.L, self.temperature, model.J)
                                  if self.algorithm == "wolff" else 1)
        elif self.algorithm != "wolff":
            raise ValueError(f"clusters_per_sweep applies to Wolff only, got {clusters_per_sweep!r} with "
                             f"algorithm={self.algorithm!r}")
        self.clusters_per_sweep = check_int(clusters_per_sweep, "clusters_per_sweep", minimum=1)
        if self.clusters_per_sweep > model.L**2:
            # A sweep of L^2 clusters flips at least L^2 spins (a full sweep's work even at infinite
            # temperature, and the default never asks more); more would only make one call run for hours.
            raise ValueError(f"clusters_per_sweep must be <= L^2 = {model.L**2} (L^2 clusters already flip at "
                             f"least every spin's worth), got {self.clusters_per_sweep}")
        self.device = cuda.resolve_device(device)
        self._chain = self.device.module.IsingClusterChain(
            model.L, model.J, self.temperature, self.replicas, ALGORITHMS[self.algorithm], self.seed,
            self.first_replica, 0 if spins is None and init == "random" else 1, self.clusters_per_sweep,
            device=self.device.index,
        )
        if spins is not None:
            self._chain.set_spins(spins)

    _FIXED = ("model", "replicas", "first_replica", "seed", "algorithm", "clusters_per_sweep", "device")

    def _state_at(self, temperature: float) -> dict[str, Any]:
        # A Wolff count left to its default follows the temperature, as a fresh sampler's would.
        state = super()._state_at(temperature)
        if self._clusters_follow_temperature:
            state["clusters_per_sweep"] = None
        return state

    def __repr__(self) -> str:
        return (f"ClusterSampler(L={self.model.L}, T={self.temperature}, replicas={self.replicas}, "
                f"algorithm={self.algorithm!r}, clusters_per_sweep={self.clusters_per_sweep}, "
                f"sweeps_done={self.sweeps_done})")

    @property
    def bond_probability(self) -> float:
        """p = 1 - exp(-2J/T), as the native code uses it (a multiple of 2^-32)."""
        return self._chain.bond_threshold / 2.0**32

    _SERIES = ClusterSeries
    _EXTRA_DTYPES = (np.int64, np.int64)  # clusters built and spins flipped before each measurement

    def _run_description(self) -> str:
        return f"{self.algorithm} sweeps"

    # ---- checkpoints ---------------------------------------------------------------------------

    _PARAMS = ("L", "J", "temperature", "replicas", "algorithm", "seed", "first_replica", "clusters_per_sweep")
    _COUNTERS = ("clusters_done",)

    def _state_params(self) -> dict[str, Any]:
        return {"L": self.model.L, "J": self.model.J, "temperature": self.temperature, "replicas": self.replicas,
                "algorithm": self.algorithm, "seed": self.seed, "first_replica": self.first_replica,
                "clusters_per_sweep": self.clusters_per_sweep}

    def _state_counters(self, snapshot: tuple[Any, ...]) -> dict[str, Any]:
        return {"clusters_done": np.asarray(snapshot[1], dtype=np.uint64).copy()}  # Wolff clusters per replica

    @classmethod
    def _from_params(cls, state: Mapping[str, Any], device: Any) -> ClusterSampler:
        L, replicas = check_int(state["L"], "state['L']", minimum=2), check_int(state["replicas"], "state['replicas']",
                                                                              minimum=1)
        return cls(IsingModel(L, J=state["J"]), state["temperature"], replicas=replicas,
                   algorithm=state["algorithm"], seed=state["seed"],
                   init=_unpack_spins(state["spins"], (replicas, L, L)), first_replica=state["first_replica"],
                   clusters_per_sweep=state["clusters_per_sweep"] if state["algorithm"] == "wolff" else None,
                   device=device)

    def _set_counters(self, state: Mapping[str, Any]) -> None:
        clusters = np.asarray(state["clusters_done"])
        if clusters.shape != (self.replicas,) or clusters.dtype.kind not in "iu":
            raise ValueError(f"state['clusters_done'] must be {self.replicas} integers, got {clusters.dtype} "
                             f"{clusters.shape}")
        # The streams' counters are 56-bit (deepcheap/ising/cluster.hpp): beyond, they would repeat.
        out_of_range = (clusters < 0) | (clusters > 2**56) if clusters.dtype.kind == "i" else clusters > 2**56
        if out_of_range.any():
            r = int(np.argmax(out_of_range))
            raise ValueError(f"state['clusters_done'][{r}] must be in [0, 2**56] (the Wolff streams' range), "
                             f"got {int(clusters[r])}")
        self._chain.set_counters(check_int(state["sweeps_done"], "state['sweeps_done']", minimum=0, maximum=2**56),
                                 np.ascontiguousarray(clusters, dtype=np.uint64))
