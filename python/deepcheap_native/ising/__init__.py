"""The 2D Ising model and Boltzmann sampling: exact anchors (``exact``: T_c, U*, Onsager, Kaufman), the
model and its local samplers (``model``), what every sampler shares (``chain``: the sweep loop,
checkpoints, pickling), cluster samplers (``cluster``), k-local Boltzmann sampling (``boltzmann``), the
results (``series``) and critical-point statistics (``stats``: Binder cumulant, jackknife,
autocorrelation, reweighting, finite-size scans).

Energy names, one meaning each: ``e`` and ``energy_per_spin`` are H / N (per spin), ``total_energy`` is
H. ``energy`` keeps its older meaning per object and is documented there as an alias: per spin on the
lattice samplers (``IsingSampler.energy()``, ``ClusterSampler.energy()``), the total for k-local
Hamiltonians (``BoltzmannSampler.energy()``, ``BoltzmannSeries.energy``). Lattice series carry ``e``.
"""

from .boltzmann import BoltzmannSampler
from .chain import STATE_VERSION
from .cluster import ALGORITHMS, ClusterSampler, wolff_clusters_per_sweep
from .exact import CRITICAL_BINDER, CRITICAL_TEMPERATURE, exact_energy, onsager_energy, onsager_magnetization
from .model import ALGORITHM_NAMES, DEFAULT_RNG, IsingModel, IsingSampler, block_spin, check_algorithm
from .series import BoltzmannSeries, ClusterSeries, IsingSeries
from .stats import (
    AutocorrelationTime,
    FiniteSizeScan,
    analyse_finite_size,
    autocorrelation_function,
    autocorrelation_time,
    binder_cumulant,
    binder_from_moments,
    derived_seed,
    finite_size_scan,
    jackknife,
    reweight,
)

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "AutocorrelationTime",
    "BoltzmannSampler",
    "BoltzmannSeries",
    "CRITICAL_BINDER",
    "CRITICAL_TEMPERATURE",
    "DEFAULT_RNG",
    "ClusterSampler",
    "ClusterSeries",
    "FiniteSizeScan",
    "IsingModel",
    "IsingSampler",
    "IsingSeries",
    "STATE_VERSION",
    "analyse_finite_size",
    "autocorrelation_function",
    "autocorrelation_time",
    "binder_cumulant",
    "binder_from_moments",
    "block_spin",
    "check_algorithm",
    "derived_seed",
    "exact_energy",
    "finite_size_scan",
    "jackknife",
    "onsager_energy",
    "onsager_magnetization",
    "reweight",
    "wolff_clusters_per_sweep",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
