"""The one timing helper (deepcheap_native.testing.timing), on a fake clock: runs, warm-up, budget."""

from __future__ import annotations

import itertools

from deepcheap_native.testing import timing


def test_timed_counts_runs_warmup_and_budget(monkeypatch):
    clock = itertools.count(0, 1)  # every run takes exactly 1 s
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    calls: list[int] = []
    t = timing.timed(lambda: calls.append(1) or len(calls), repeat=3)
    assert (t.runs, len(calls), t.best, t.median, t.result) == (3, 4, 1, 1, 4)  # one untimed warm-up
    assert timing.timed(lambda: 0, repeat=5, warmup=False, budget=2).runs == 2  # stops once 2 s are spent
    assert timing.timed(lambda: 0, repeat=1, warmup=False, min_time=4).runs == 4
    assert timing.timed(lambda: 0, repeat=100, warmup=False, max_runs=7).runs == 7
