"""deepcheap-native: the theory of why deep networks work, as fast native code.

Product-gate networks (Lin, Tegmark & Rolnick), batched Markov-chain and Boltzmann sampling, and
circuit-depth evaluation (Hoang & Guerraoui). See README.md for a tour.
"""

from __future__ import annotations

from . import _core, cuda, random
from ._core import simd_target, simd_targets

# The public API, one block per area.
# --- product ---
from .product import (
    ProductNetwork,
    multiplication_gate,
    polynomial_network,
    product_network,
    product_network_neurons,
)
# --- markov ---
from . import info
from .markov import HierarchicalChain, MarkovChain
# --- ising ---
from . import ising
from .ising import BoltzmannSampler, IsingModel, IsingSampler, block_spin
# --- circuit ---
from . import circuits
from .circuit import Circuit, CircuitBuilder, ParseError
# --- landscape ---
from . import landscape
from .landscape import SphericalSpinGlass
# --- census ---
from . import census
# --- relu ---
from . import relu

__version__ = "0.2.0"

__all__ = [
    "BoltzmannSampler",
    "Circuit",
    "CircuitBuilder",
    "HierarchicalChain",
    "IsingModel",
    "IsingSampler",
    "MarkovChain",
    "ParseError",
    "ProductNetwork",
    "SphericalSpinGlass",
    "block_spin",
    "census",
    "circuits",
    "cuda",
    "get_num_threads",
    "info",
    "ising",
    "landscape",
    "multiplication_gate",
    "polynomial_network",
    "product_network",
    "product_network_neurons",
    "random",
    "relu",
    "set_num_threads",
    "set_simd_target",
    "simd_target",
    "simd_targets",
]


def _warn_simd_environment() -> None:
    """Warn once (on import) when DEEPCHEAP_SIMD names no target this CPU runs: the kernels then use the
    best one, which a typo would otherwise hide. Names are case-insensitive, as in set_simd_target."""
    import os
    import warnings

    asked = os.environ.get("DEEPCHEAP_SIMD", "")
    if not asked:
        return
    if asked.lower() not in ("scalar", "avx2", "avx512"):
        why = "is not a SIMD target (expected scalar, avx2 or avx512, in any case)"
    elif asked.lower() not in simd_targets():
        why = f"is not supported by this CPU (it runs {', '.join(simd_targets())})"
    else:
        return
    warnings.warn(f"DEEPCHEAP_SIMD={asked!r} {why}; using {simd_target()!r}", RuntimeWarning, stacklevel=3)


_warn_simd_environment()


def set_simd_target(name: str) -> None:
    """Force the SIMD code path ('scalar', 'avx2' or 'avx512') for every kernel.

    The default is the best target the CPU supports; the environment variable DEEPCHEAP_SIMD sets it
    at start-up. Raises ValueError for an unknown target or one this CPU does not support.
    """
    _core.set_simd_target(name)


def set_num_threads(k: int) -> None:
    """Set the number of threads every native kernel uses (default: the number of cores).

    Results never depend on it: work is split by item and random streams are keyed by item.
    """
    from ._arrays import check_int

    _core.set_num_threads(check_int(k, "k", minimum=1))


def get_num_threads() -> int:
    """The number of threads native kernels use."""
    return _core.get_num_threads()
