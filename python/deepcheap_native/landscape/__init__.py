"""Spherical spin glasses: energy landscapes, descent, ground-state and threshold energies.
"""

from .spin_glass import (
    DEFAULT_MAX_BYTES,
    PURPOSE_COUPLINGS,
    PURPOSE_STARTS,
    DescentResult,
    SphericalSpinGlass,
    ground_state_energy,
    threshold_energy,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DescentResult",
    "PURPOSE_COUPLINGS",
    "PURPOSE_STARTS",
    "SphericalSpinGlass",
    "ground_state_energy",
    "threshold_energy",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
