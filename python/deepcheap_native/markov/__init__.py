"""Markov chains (MarkovChain, HierarchicalChain) and information estimates (``info``: entropy,
mutual information).
"""

from . import info
from .chain import (
    MAX_STATES,
    ROW_SUM_TOLERANCE,
    HierarchicalChain,
    MarkovChain,
)
from .info import (
    MAX_DENSE_CELLS,
    Estimate,
    entropy,
    mutual_information,
)

__all__ = [
    "Estimate",
    "HierarchicalChain",
    "MAX_DENSE_CELLS",
    "MAX_STATES",
    "MarkovChain",
    "ROW_SUM_TOLERANCE",
    "entropy",
    "info",
    "mutual_information",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
