"""deepcheap-native: the theory of why deep networks work, as fast native code.

Product-gate networks (Lin, Tegmark & Rolnick), batched Markov-chain and Boltzmann sampling, and
circuit-depth evaluation (Hoang & Guerraoui), with ReLU depth and locality beside them. Each area is a
subpackage with its own help: ``help(deepcheap_native.product)``, ``.markov``, ``.ising``, ``.circuit``,
``.census``, ``.landscape``, ``.relu``, ``.locality``; the manual is the package's documentation
(``docs/`` in the source distribution, built with Sphinx), its conventions page and its pitfalls page.
"""

from __future__ import annotations

# isort: skip_file  (one block per area, in the order of the docs)
import sys as _sys

# --- ising ---
# --- landscape ---
# --- census ---
# --- relu ---
# --- locality ---
from . import _core, census, ising, landscape, locality, relu
from ._core import simd_target, simd_targets

# --- circuit ---
from .circuit import Circuit, CircuitBuilder, ParseError
from .circuit import families as circuits
from .core import cuda, random
from .ising import BoltzmannSampler, IsingModel, IsingSampler, block_spin
from .landscape import SphericalSpinGlass
from .locality import LatticeHamiltonian, hamiltonian_network

# --- markov ---
from .markov import HierarchicalChain, MarkovChain, info

# The public API, one block per area (each area is a subpackage over core/; docs/guide/design.md: Layout).
# --- product ---
from .product import (
    ProductNetwork,
    multiplication_gate,
    polynomial_network,
    product_network,
    product_network_neurons,
)

# Public module paths that name a module living inside core/ or an area: `import deepcheap_native.cuda`,
# `from deepcheap_native.info import entropy` and `deepcheap_native.circuits.bristol` keep working, and
# each path is the same module object (monkeypatching dc.cuda patches core/cuda.py).
for _name, _module in (("cuda", cuda), ("random", random), ("info", info), ("circuits", circuits)):
    _sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module

__version__ = "0.3.0"

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
    from .core.validate import check_int

    _core.set_num_threads(check_int(k, "k", minimum=1))


def get_num_threads() -> int:
    """The number of threads native kernels use."""
    return _core.get_num_threads()

from .core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
