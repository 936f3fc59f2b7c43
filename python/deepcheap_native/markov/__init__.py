"""Markov chains (MarkovChain, HierarchicalChain) and information estimates (``info``: entropy,
mutual information).
"""

from .chain import (
    HierarchicalChain,
    MAX_STATES,
    MarkovChain,
    ROW_SUM_TOLERANCE,
)
from .info import (
    Estimate,
    MAX_DENSE_CELLS,
    entropy,
    mutual_information,
)
from . import info

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
