"""Philox4x32-10, the counter-based generator behind every sampler in the package."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._arrays import like_input, to_numpy

__all__ = ["philox4x32"]


def philox4x32(counter: Any, key: Any) -> Any:
    """Apply Philox4x32-10 to counters under keys.

    Parameters
    ----------
    counter : array of uint32, shape (..., 4)
    key : array of uint32, shape (..., 2); broadcast against ``counter[..., 0]``.

    Returns
    -------
    array of uint32, shape (..., 4): numpy, or torch when ``counter`` was a torch tensor.
    """
    c, came_from_torch = to_numpy(counter, "counter")
    k, _ = to_numpy(key, "key")
    for name, a, last in (("counter", c, 4), ("key", k, 2)):
        if a.dtype.kind not in "ui":
            raise TypeError(f"{name} must be an integer array (uint32 words), got dtype {a.dtype}")
        if a.ndim < 1 or a.shape[-1] != last:
            raise ValueError(f"{name} must have shape (..., {last}), got {a.shape}")
        if a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF):
            raise ValueError(f"{name} words must lie in [0, 2**32 - 1]")
    try:
        batch = np.broadcast_shapes(c.shape[:-1], k.shape[:-1])
    except ValueError:
        raise ValueError(
            f"counter batch shape {c.shape[:-1]} and key batch shape {k.shape[:-1]} do not broadcast"
        ) from None
    c2 = np.ascontiguousarray(np.broadcast_to(c, batch + (4,)), dtype=np.uint32).reshape(-1, 4)
    k2 = np.ascontiguousarray(np.broadcast_to(k, batch + (2,)), dtype=np.uint32).reshape(-1, 2)
    out = _core.philox4x32(c2, k2).reshape(batch + (4,))
    return like_input(out, came_from_torch)
