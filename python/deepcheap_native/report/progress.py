"""A tiny progress bar on stderr for the report's long steps (no dependency): a
:class:`~deepcheap_native.core.progress.Bar` of the package's one progress contract, so the report
passes it as ``progress=`` to the library's long calls.

On a terminal it redraws one line in place; elsewhere (CI logs, pipes) it prints one line when a step
starts and one when it ends, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

from ..core.progress import Bar

T = TypeVar("T")


class Progress(Bar):
    """Count `total` units of work under `label`; use as a context manager or call `update`."""

    def __init__(self, label: str, total: int, *, stream: IO[str] | None = None, enabled: bool = True):
        self.label = label
        self.total = max(int(total), 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def __enter__(self) -> Progress:
        if self.enabled and not self.interactive:
            print(f"  {self.label} ...", file=self.stream, flush=True)
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(failed=exc[0] is not None)

    def _advance(self, n: int) -> None:
        self.done = min(self.done, self.total)
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.interactive:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < 0.1 and self.done < self.total:
            return
        self._last_draw = now
        width = 28
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = now - self.start
        line = f"\r  {self.label:<34.34} [{bar}] {self.done}/{self.total} {elapsed:6.1f} s"
        self.stream.write(line)
        self.stream.flush()

    def close(self, failed: bool = False) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if self.interactive:
            self._draw(force=True)
            self.stream.write("  failed\n" if failed else "\n")
        else:
            status = "failed" if failed else "done"
            print(f"  {self.label}: {status} in {elapsed:.1f} s", file=self.stream, flush=True)
        self.stream.flush()
        self.enabled = False


def track(items: Iterable[T], label: str, *, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Iterate over `items`, advancing a progress bar once per item."""
    items = list(items) if total is None else items
    n = len(items) if total is None else total  # type: ignore[arg-type]
    with Progress(label, n, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update()
