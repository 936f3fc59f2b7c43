"""The one progress contract of the package: every ``progress=`` argument goes through
:func:`progress_bar`, and every long call reports to the object it returns. The library never prints.

``progress`` is one of
- False or None: nothing;
- True: a tqdm bar on stderr when tqdm is installed (the ``progress`` extra); otherwise a RuntimeWarning
  says so and nothing is shown;
- a callable ``progress(done, total)``, called after every step;
- an object with ``update(n)`` (a tqdm bar, the report's :class:`~deepcheap_native.report.progress.Progress`):
  updated, and left open for its owner.

The returned :class:`Bar` has ``update(n=1)``, ``close()``, ``done`` and ``total``, and is a context
manager: ``with progress_bar(...) as bar:`` closes a bar it made on any exit, KeyboardInterrupt included.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Bar", "progress_bar"]


class Bar:
    """What a long call reports to: ``update(n)`` after n more units, ``close()`` at the end (idempotent)."""

    def __init__(self, total: int = 0) -> None:
        self.total, self.done = total, 0

    def update(self, n: int = 1) -> None:
        self.done += n
        self._advance(n)

    def _advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Callback(Bar):
    """``progress(done, total)`` after every step."""

    def __init__(self, callback: Callable[[int, int], Any], total: int) -> None:
        super().__init__(total)
        self.callback = callback

    def _advance(self, n: int) -> None:
        self.callback(self.done, self.total)


class _Borrowed(Bar):
    """A caller's bar: updated, but left open for the caller."""

    def __init__(self, bar: Any, total: int) -> None:
        super().__init__(total)
        self.bar = bar

    def _advance(self, n: int) -> None:
        self.bar.update(n)


class _Owned(Bar):
    """A tqdm bar made for ``progress=True``: closed (once) with this object."""

    def __init__(self, bar: Any, total: int) -> None:
        super().__init__(total)
        self.bar: Any = bar

    def _advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        bar, self.bar = self.bar, None
        if bar is not None:
            bar.close()


def progress_bar(progress: Any, total: int, description: str, *, unit: str = "it") -> Bar:
    """The :class:`Bar` a call with ``progress=progress`` reports to (see the module docstring)."""
    if progress is None or progress is False:
        return Bar(total)
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            warnings.warn(
                f"{description}: progress=True needs tqdm (pip install 'deepcheap-native[progress]'); "
                "running without a progress bar",
                RuntimeWarning,
                stacklevel=3,
            )
            return Bar(total)
        return _Owned(tqdm(total=total, desc=description, unit=unit, leave=False), total)
    if hasattr(progress, "update"):
        return _Borrowed(progress, total)
    if callable(progress):
        return _Callback(progress, total)
    raise TypeError(
        f"progress must be a bool, a callable progress(done, total) or an object with update(), "
        f"got {type(progress).__name__}"
    )
