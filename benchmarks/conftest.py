"""Benchmarks run two ways. Timed (`--benchmark-enable`, or `deepcheap bench`): full sizes, several
rounds, pytest-benchmark statistics. As tests (the suite's default `--benchmark-disable`, which is how
CI runs them, as boost-histogram does): every benchmark runs its call once at a small size and its
correctness assertions still run, so a benchmark that computes the wrong answer fails CI.

Modules read the size from ``DEEPCHEAP_BENCH_SIZE`` ("full" or "small"), which this file sets before
they are imported (``small`` exactly when benchmarks are disabled, unless the variable is already set).
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture


def pytest_configure(config):
    disabled = config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False)
    os.environ.setdefault("DEEPCHEAP_BENCH_SIZE", "small" if disabled else "full")


class _RunOnce(BenchmarkFixture):
    """pytest-benchmark's fixture when disabled: the call runs once (pytest-benchmark's own behaviour),
    and ``stats.stats.median`` is that one call's wall time, so code that derives rates from the timing
    (``extra_info``) runs too instead of failing on ``stats is None``. A subclass, not a wrapper: the
    plugin checks that ``benchmark`` is a BenchmarkFixture."""

    def _timed(self, run: Any) -> Any:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        self.stats = SimpleNamespace(stats=SimpleNamespace(median=seconds, min=seconds, max=seconds,
                                                           mean=seconds, rounds=1))
        return result

    def __call__(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self._timed(lambda: super(_RunOnce, self).__call__(function, *args, **kwargs))

    def pedantic(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        return self._timed(lambda: super(_RunOnce, self).pedantic(target, *args, **kwargs))


@pytest.fixture
def benchmark(benchmark):  # noqa: F811 - pytest-benchmark's fixture of the same name, run once when disabled
    if benchmark.disabled:
        benchmark.__class__ = _RunOnce
    return benchmark
