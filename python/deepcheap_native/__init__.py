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
# --- locality ---
from . import locality
from .locality import LatticeHamiltonian, hamiltonian_network

__version__ = "0.1.0"

__all__ = [
    "BoltzmannSampler",
    "Circuit",
    "CircuitBuilder",
    "HierarchicalChain",
    "IsingModel",
    "IsingSampler",
    "LatticeHamiltonian",
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
    "hamiltonian_network",
    "landscape",
    "locality",
    "multiplication_gate",
    "polynomial_network",
    "product_network",
    "product_network_neurons",
    "random",
    "set_num_threads",
    "set_simd_target",
    "simd_target",
    "simd_targets",
]


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
