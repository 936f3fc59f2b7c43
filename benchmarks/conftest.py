"""The benchmarks time native code against peers and record rates from the timings, so they need
pytest-benchmark enabled (the project's pytest config disables it for the test suite)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    if config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False):
        skip = pytest.mark.skip(reason="benchmarks need timings: run with --benchmark-enable (or `deepcheap bench`)")
        for item in items:
            item.add_marker(skip)
