"""What every experiment writes into: a Section of claims, figures, tables and numbers.

Each experiment runs as a list of steps; a step that raises is recorded as failed (with its error)
and the others still run, so a missing capability shows up loudly in the report instead of silently
vanishing or being replaced by made-up numbers.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .progress import Progress


class MissingCapability(RuntimeError):
    """The installation lacks something an experiment needs (the published circuits' folder, say)."""


@dataclass
class Claim:
    """One line of the summary table: what theory says, what we measured, and whether they agree."""

    name: str
    measured: str
    expected: str
    status: str  # "ok", "deviates" or "failed"
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "measured": self.measured, "expected": self.expected,
                "status": self.status, "note": self.note}


@dataclass
class Figure:
    key: str
    caption: str
    png: bytes


@dataclass
class Table:
    key: str
    caption: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class StepRecord:
    name: str
    seconds: float
    error: str | None = None
    traceback: str | None = None


@dataclass
class Section:
    key: str
    title: str
    intro: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def failed_steps(self) -> list[StepRecord]:
        return [s for s in self.steps if s.error is not None]

    def claim(self, name: str, measured: str, expected: str, ok: bool | None, note: str = "") -> None:
        status = "ok" if ok else ("deviates" if ok is not None else "info")
        self.claims.append(Claim(name, measured, expected, status, note))

    def figure(self, key: str, caption: str, png: bytes) -> None:
        self.figures.append(Figure(key, caption, png))

    def table(self, key: str, caption: str, headers: list[str], rows: list[list[Any]]) -> None:
        self.tables.append(Table(key, caption, headers, [list(r) for r in rows]))


@dataclass
class Context:
    """Run-wide settings: preset parameters, the base seed, threads and the progress switch."""

    preset: str
    seed: int
    threads: int
    progress: bool = True
    scheduler: str | None = None  #: a Dask scheduler address for the heavy steps (``--scheduler``)

    def client(self) -> Any:
        """The Dask client of ``scheduler`` (connected once, reused), or None without one: sections pass it
        as ``client=`` to the library's own distributed entry points (the width law, and the critical
        section's finite-size scan and τ_int runs)."""
        if self.scheduler is None:
            return None
        from ..core.scaleout import get_client

        return get_client(self.scheduler)

    def map(self, fn: Any, calls: list[tuple]) -> Iterator[Any]:
        """fn(*args) for each args in calls, in order: here, or as tasks on ``scheduler`` (fn must be a
        module-level function; each call carries its own seed, so the results are the same)."""
        from ..core.scaleout import Engine

        return Engine(self.client()).map(fn, calls)

    def seed_for(self, *path: int) -> int:
        """A derived seed, distinct per experiment and sub-step, fixed for a given --seed."""
        ss = np.random.SeedSequence([self.seed, *path])
        return int(ss.generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1)

    def bar(self, label: str, total: int) -> Progress:
        return Progress(label, total, enabled=self.progress)

    @contextlib.contextmanager
    def step(self, section: Section, name: str) -> Iterator[None]:
        """Run one step of an experiment, recording its time and, if it fails, its error."""
        start = time.perf_counter()
        try:
            yield
        except MissingCapability as exc:
            section.steps.append(StepRecord(name, time.perf_counter() - start, str(exc), None))
            section.claims.append(Claim(name, "not run", "-", "failed", str(exc)))
        except Exception as exc:  # an experiment's failure must not stop the others
            message = f"{type(exc).__name__}: {exc}"
            section.steps.append(StepRecord(name, time.perf_counter() - start, message,
                                            traceback.format_exc()))
            section.claims.append(Claim(name, "not run", "-", "failed", message))
        else:
            section.steps.append(StepRecord(name, time.perf_counter() - start))


def require(*names: str, issue: str | None = None) -> list[Any]:
    """Public names of deepcheap_native, fetched by dotted path (every area is part of the package, so
    a missing one is a renamed API: a failed step, MissingCapability). ``issue`` is ignored: kept only
    while report/relu.py still passes it; the other sections read ``dc.<name>`` directly."""
    import deepcheap_native as dc

    found = []
    for name in names:
        obj: Any = dc
        for part in name.split("."):
            if not hasattr(obj, part):
                raise MissingCapability(f"deepcheap_native.{name} does not exist; this experiment cannot run")
            obj = getattr(obj, part)
        found.append(obj)
    return found


def best_time(fn: Any, *, repeat: int = 3, min_time: float = 0.0, budget: float = 2.0) -> float:
    """The best of `repeat` wall-clock timings of fn() in seconds (the least disturbed by noise).

    Stops repeating once `budget` seconds are spent (after at least one run): slow cases are timed
    fewer times so the report keeps its time limit. (:func:`deepcheap_native.testing.timing.timed`.)
    """
    from ..testing.timing import timed

    return timed(fn, repeat=repeat, warmup=False, min_time=min_time, budget=budget).best


def fmt(x: float, digits: int = 4) -> str:
    """A compact number for tables: 4 significant digits, scientific when small or large."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return str(x)
    x = float(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"
