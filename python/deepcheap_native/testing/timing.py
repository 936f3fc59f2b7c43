"""Wall-clock timing of a call, one helper for the report and the benchmark scripts (pytest-benchmark
times the benchmarks' own tests; this is for scripts and the report's tables)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Timing", "timed"]


class Timing(NamedTuple):
    best: float  #: the fastest run, seconds (the least disturbed by noise)
    median: float  #: the median run, seconds
    result: Any  #: the last run's result
    runs: int


def timed(fn: Callable[[], Any], *, repeat: int = 3, warmup: bool = True, min_time: float = 0.0,
          budget: float = math.inf, max_runs: int = 50) -> Timing:
    """Time ``fn()`` ``repeat`` times (after one untimed warm-up call when ``warmup``), and more until
    ``min_time`` seconds are spent; stop early once ``budget`` seconds are spent (after one run) or
    after ``max_runs`` runs, so slow cases are timed fewer times."""
    result = fn() if warmup else None
    times: list[float] = []
    while (len(times) < repeat or sum(times) < min_time) and not (times and sum(times) >= budget):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= max_runs:
            break
    return Timing(min(times), statistics.median(times), result, len(times))
