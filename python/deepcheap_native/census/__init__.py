"""The threshold-function census and depth-2 counts.
"""

from .threshold import (
    CHECKPOINT_FORMAT,
    MAX_COUNT_N,
    MAX_DEPTH2_N,
    MAX_TABLES_N,
    MAX_TEST_N,
    depth2_functions,
    estimate_seconds,
    is_threshold,
    max_weight,
    min_hidden_units,
    threshold_functions,
    threshold_tables,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "MAX_COUNT_N",
    "MAX_DEPTH2_N",
    "MAX_TABLES_N",
    "MAX_TEST_N",
    "depth2_functions",
    "estimate_seconds",
    "is_threshold",
    "max_weight",
    "min_hidden_units",
    "threshold_functions",
    "threshold_tables",
]
