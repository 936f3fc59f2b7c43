"""The 2D Ising model and Boltzmann sampling: models and local samplers (``model``), cluster samplers
(``cluster``), critical-point statistics (``stats``: autocorrelation, reweighting, finite-size scans).
"""

from .cluster import (
    ALGORITHMS,
    ClusterSampler,
    ClusterSeries,
    wolff_clusters_per_sweep,
)
from .model import (
    ALGORITHM_NAMES,
    CRITICAL_TEMPERATURE,
    STATE_VERSION,
    BoltzmannSampler,
    BoltzmannSeries,
    IsingModel,
    IsingSampler,
    IsingSeries,
    binder_cumulant,
    block_spin,
    check_algorithm,
    exact_energy,
    onsager_energy,
    onsager_magnetization,
)
from .stats import (
    AutocorrelationTime,
    FiniteSizeScan,
    analyse_finite_size,
    autocorrelation_function,
    autocorrelation_time,
    derived_seed,
    finite_size_scan,
    reweight,
)

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "AutocorrelationTime",
    "BoltzmannSampler",
    "BoltzmannSeries",
    "CRITICAL_TEMPERATURE",
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
    "block_spin",
    "check_algorithm",
    "derived_seed",
    "exact_energy",
    "finite_size_scan",
    "onsager_energy",
    "onsager_magnetization",
    "reweight",
    "wolff_clusters_per_sweep",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
