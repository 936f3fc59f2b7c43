"""Depth for ReLU networks (issue 22): Telgarsky's sawtooth built exactly, deep and shallow, with its
closed-form counts and L¹ gap bound; linear regions counted exactly along segments and in planes by a
native walk (Hanin & Rolnick's measure), for networks from this package, numpy lists or torch.

Modules by job: ``network`` (the ReLUNetwork type, torch import/export, He-initialised networks),
``constructions`` (sawtooth, interpolation, closed forms), ``regions`` (the exact region walks).
"""

from __future__ import annotations

from .constructions import (
    interpolating_network,
    sawtooth,
    sawtooth_counts,
    sawtooth_knots,
    sawtooth_l1_gap_bound,
    sawtooth_network,
    shallow_sawtooth_network,
)
from .network import ReLUNetwork, as_network, random_network
from .regions import LineRegions, PlaneRegions, linear_regions, linear_regions_2d, random_lines

__all__ = [
    "LineRegions",
    "PlaneRegions",
    "ReLUNetwork",
    "as_network",
    "interpolating_network",
    "linear_regions",
    "linear_regions_2d",
    "random_lines",
    "random_network",
    "sawtooth",
    "sawtooth_counts",
    "sawtooth_knots",
    "sawtooth_l1_gap_bound",
    "sawtooth_network",
    "shallow_sawtooth_network",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
