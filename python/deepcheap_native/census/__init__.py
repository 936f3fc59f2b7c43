"""The threshold-function census and depth-2 counts.
"""

from .threshold import (
    A000609,
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
    "A000609",
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

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
