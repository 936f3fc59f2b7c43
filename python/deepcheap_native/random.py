"""Philox4x32-10, the counter-based generator behind every sampler in the package."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import cuda as _cuda_api
from ._arrays import like_input, to_numpy

__all__ = ["philox4x32"]


def philox4x32(counter: Any, key: Any, *, device: Any = None) -> Any:
    """Apply Philox4x32-10 to counters under keys.

    Parameters
    ----------
    counter : array of uint32, shape (..., 4)
    key : array of uint32, shape (..., 2); broadcast against ``counter[..., 0]``.
    device : "cpu", "cuda", "cuda:N" or None (the inputs' device: a CUDA tensor means its GPU).
        The words are the same on every device, bit for bit.

    Returns
    -------
    array of uint32, shape (..., 4): numpy, or torch when ``counter`` was a torch tensor (on the
    device ``counter`` was on), or CuPy for a CuPy ``counter``.
    """
    where = _cuda_api.resolve_device(device, counter, key)
    template = counter
    c, came_from_torch = to_numpy(_cuda_api.to_host(counter), "counter")
    k, _ = to_numpy(_cuda_api.to_host(key), "key")
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
    out = where.module.philox4x32(c2, k2, device=where.index).reshape(batch + (4,))
    if _cuda_api.array_device(template) is not None:
        return _cuda_api.like_device_input(out, template)
    return like_input(out, came_from_torch)
