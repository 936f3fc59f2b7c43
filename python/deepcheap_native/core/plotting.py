"""Plotting plumbing every area's ``.plot()`` uses: matplotlib imported lazily, axes made when none
are given. Knows no area; the figures themselves live in each area's ``plots`` module (the report
draws its figures through those same functions)."""

from __future__ import annotations

from typing import Any

__all__ = ["MissingDependency", "axes_for", "pyplot"]


class MissingDependency(RuntimeError):
    """An optional dependency (matplotlib, or one the report needs) is not installed."""


def pyplot() -> Any:
    """``matplotlib.pyplot`` (the user's backend is left as it is), or MissingDependency naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependency(
            "plots need matplotlib, which is not installed; install it with: "
            "pip install 'deepcheap-native[plot]'"
        ) from exc
    return plt


def axes_for(ax: Any, n: int, *, width: float = 4.6, height: float = 3.6) -> list[Any]:
    """``n`` axes to draw on: the caller's (one Axes for n = 1, or a sequence of n), or a new figure's.

    A wrong count or type is a clear error: ``.plot(ax=...)`` takes what the figure needs."""
    if ax is None:
        plt = pyplot()
        _, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
        return list(axes.ravel())
    if n == 1 and hasattr(ax, "plot"):
        return [ax]
    try:
        axes = list(ax.ravel() if hasattr(ax, "ravel") else ax)
    except TypeError:
        raise TypeError(f"ax must be a matplotlib Axes or a sequence of {n}, got {type(ax).__name__}") from None
    if len(axes) != n or not all(hasattr(a, "plot") for a in axes):
        raise ValueError(f"this figure draws {n} panel{'s' * (n != 1)}: pass ax= as a sequence of {n} matplotlib "
                         f"Axes (or none), got {len(axes)} item{'s' * (len(axes) != 1)}")
    return axes
