"""Figure helpers: matplotlib on the Agg backend (no display needed), figures returned as PNG bytes."""

from __future__ import annotations

import io
from typing import Any

from ..core.plotting import MissingDependency  # one type for every missing optional dependency
from .context import MissingCapability


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or MissingDependency with the install command."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependency(
            "the report draws its figures with matplotlib, which is not installed; "
            "install it with: pip install 'deepcheap-native[report]'"
        ) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "font.size": 9, "axes.grid": True,
        "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "legend.fontsize": 8, "legend.frameon": False,
    })
    return plt


def subplots(ncols: int = 1, nrows: int = 1, *, width: float = 5.0, height: float = 3.6) -> tuple[Any, Any]:
    plt = pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes.ravel() if nrows * ncols > 1 else axes[0, 0]


def to_png(fig: Any) -> bytes:
    """Render and close a figure; PNG bytes (a real image: the page test checks it decodes)."""
    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    data = buf.getvalue()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MissingCapability("matplotlib did not produce a PNG image")
    return data
