"""Philox4x32-10, the counter-based generator behind every sampler in the package."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from . import cuda as _cuda_api
from .arrays import like_input, to_numpy
from .memory import SMALL_BYTES, check_allocation
from .validate import call_threads, check_threads

if TYPE_CHECKING:  # annotations only: torch stays a lazy, optional import
    import torch

__all__ = ["normal_pairs", "philox4x32", "uniform_double"]

_U32 = np.dtype(np.uint32)
_FAST_ITEMS = SMALL_BYTES // (16 + 8 + 16)  #: counters below which philox4x32's small-call path runs


@overload
def philox4x32(counter: torch.Tensor, key: Any, *, device: Any = None, threads: int | None = None) -> torch.Tensor: ...
@overload
def philox4x32(counter: np.ndarray, key: Any, *, device: Any = None, threads: int | None = None) -> np.ndarray: ...
@overload
def philox4x32(counter: Any, key: Any, *, device: Any = None, threads: int | None = None) -> Any: ...


def philox4x32(counter: Any, key: Any, *, device: Any = None, threads: int | None = None) -> Any:
    """Apply Philox4x32-10 to counters under keys.

    Parameters
    ----------
    counter : array of uint32, shape (..., 4)
    key : array of uint32, shape (..., 2); broadcast against ``counter[..., 0]``.
    device : "cpu", "cuda", "cuda:N" or None (the inputs' device: a CUDA tensor means its GPU).
        The words are the same on every device, bit for bit.
    threads : CPU threads for this call (None: :func:`~deepcheap_native.set_num_threads`; ignored on
        a GPU). The words do not depend on it.

    Returns
    -------
    array of uint32, shape (..., 4): numpy, or torch when ``counter`` was a torch tensor (on the
    device ``counter`` was on), or CuPy for a CuPy ``counter``.
    """
    if (device is None and threads is None and type(counter) is np.ndarray and type(key) is np.ndarray
            and counter.dtype == _U32 and key.dtype == _U32):
        # The small call's path (issue 26 §3): host uint32 arrays, counter (n, 4) with its key (n, 2), or
        # one counter (1, 4) with one key (2,), C-contiguous, under the 1 MiB that check_allocation lets
        # pass at once. What the general path would check and convert is then already true.
        cs, ks = counter.shape, key.shape
        if (len(cs) == 2 and cs[1] == 4 and cs[0] < _FAST_ITEMS and (ks == (cs[0], 2) or (ks == (2,) and cs[0] == 1))
                and counter.flags.c_contiguous and key.flags.c_contiguous):
            return _core.philox4x32(counter, key.reshape(1, 2) if len(ks) == 1 else key, 0)
    threads = check_threads(threads)
    where = _cuda_api.resolve_device(device, counter, key)
    if where.kind == "cuda" and _cuda_api.is_device_array(counter):
        return _philox_resident(counter, key, where)
    template = counter
    c, came_from_torch = to_numpy(_cuda_api.to_host(counter), "counter")
    k, _ = to_numpy(_cuda_api.to_host(key), "key")
    for name, a, last in (("counter", c, 4), ("key", k, 2)):
        if a.dtype.kind not in "ui":
            raise TypeError(f"{name} must be an integer array (uint32 words), got dtype {a.dtype}")
        if a.ndim < 1 or a.shape[-1] != last:
            raise ValueError(f"{name} must have shape (..., {last}), got {a.shape}")
        if a.dtype != np.uint32 and a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF):  # uint32 always fits
            raise ValueError(f"{name} words must lie in [0, 2**32 - 1]")
    c_batch, k_batch = c.shape[:-1], k.shape[:-1]
    # The common shapes (equal batches, or one key for every counter) skip numpy's broadcasting helpers,
    # which were most of a one-counter call's time (issue 26, small calls).
    if c_batch == k_batch or not k_batch:
        batch = c_batch
    elif not c_batch:
        batch = k_batch
    else:
        try:
            batch = np.broadcast_shapes(c_batch, k_batch)
        except ValueError:
            raise ValueError(f"counter batch shape {c_batch} and key batch shape {k_batch} do not broadcast") from None
    items = math.prod(batch)
    check_allocation(items * (16 + 8 + 16), lambda: f"random.philox4x32 on a batch of shape {batch}",
                     detail=lambda: f"{items} counters, keys and outputs of 16, 8 and 16 bytes")
    c2 = _rows(c, batch, items, 4)
    k2 = _rows(k, batch, items, 2)
    with call_threads(threads):
        out = where.module.philox4x32(c2, k2, where.index).reshape(batch + (4,))  # by position: ~1 us less
    if _cuda_api.array_device(template) is not None:
        return _cuda_api.like_device_input(out, template)
    return like_input(out, came_from_torch)


def _rows(a: np.ndarray, batch: tuple[int, ...], items: int, width: int) -> np.ndarray:
    """``a`` (words already checked to fit uint32) as a C-contiguous uint32 array (items = prod(batch),
    width), broadcast over ``batch`` by one assignment when its own batch shape differs."""
    if a.size == items * width:
        # Nothing to broadcast (a batch shape that broadcasts to `batch` with as many items differs from it
        # only by leading ones): a uint32 C-contiguous array is a reshape away, the common small call.
        if a.dtype == np.uint32 and a.flags.c_contiguous:
            return a.reshape(items, width)
        return np.ascontiguousarray(a, dtype=np.uint32).reshape(items, width)
    rows = np.empty(batch + (width,), dtype=np.uint32)
    rows[...] = a
    return rows.reshape(-1, width)


def _philox_resident(counter: Any, key: Any, where: Any) -> Any:
    """The zero-copy path: counters and keys on the GPU (uint32, the same batch shape, no broadcasting)
    are read in place and the words are made there."""
    if not _cuda_api.is_device_array(key):
        raise TypeError(f"counter is on {where} but key is on the host: put key on the same device")
    c_address, c_shape, _, c_owner = _cuda_api.device_input(counter, "counter", where, np.uint32)
    k_address, k_shape, _, k_owner = _cuda_api.device_input(key, "key", where, np.uint32)
    for name, shape, last in (("counter", c_shape, 4), ("key", k_shape, 2)):
        if len(shape) < 1 or shape[-1] != last:
            raise ValueError(f"{name} must have shape (..., {last}), got {shape}")
    if c_shape[:-1] != k_shape[:-1]:
        raise ValueError(f"on the GPU counter and key must have the same batch shape (no broadcasting), "
                         f"got {c_shape[:-1]} and {k_shape[:-1]}")
    n = int(np.prod(c_shape[:-1], dtype=np.int64))
    out_address, result = _cuda_api.device_output(None, c_shape, np.uint32, where)
    where.module.philox4x32_resident(c_address, k_address, out_address, n, where.index)
    del c_owner, k_owner
    return _cuda_api.like_device(result, counter)


def uniform_double(hi: Any, lo: Any) -> np.ndarray:
    """Uniforms in [0, 1) with 53 random bits from two Philox words, exactly as the kernels' C++
    ``uniform_double(hi, lo)`` (csrc/include/deepcheap/common/philox.hpp) computes them."""
    x = (np.asarray(hi, dtype=np.uint64) << np.uint64(21)) ^ (np.asarray(lo, dtype=np.uint64) >> np.uint64(11))
    return (x & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53


def normal_pairs(seed: int, item: Any, step: Any, purpose: int) -> np.ndarray:
    """Two standard normals per Philox4x32-10 draw at counter (item, step, purpose) under ``seed``.

    The package-wide counter layout (item low, item high, step, purpose) and key (seed low, seed
    high), so every value depends only on its coordinates: any batch split or thread count gives the
    same numbers. Box–Muller on two 53-bit uniforms: u₁ from words (0, 1), u₂ from words (2, 3),
    r = √(−2 ln(1 − u₁)) (1 − u₁ lies in (0, 1], so r is finite), normals r·cos 2πu₂ and r·sin 2πu₂.

    Parameters
    ----------
    seed : int in [0, 2**64)
    item : integer array (values in [0, 2**64)), broadcast against ``step``
    step : integer array (values in [0, 2**32))
    purpose : int in [0, 2**32), separating the streams one item draws for different reasons

    Returns
    -------
    numpy float64 array of shape broadcast(item, step).shape + (2,)
    """
    from .validate import check_int, check_seed

    seed = check_seed(seed)
    purpose = check_int(purpose, "purpose", minimum=0, maximum=2**32 - 1)
    item64 = np.asarray(item, dtype=np.uint64)
    step32 = np.asarray(step, dtype=np.uint32)
    shape = np.broadcast_shapes(item64.shape, step32.shape)
    counter = np.empty(shape + (4,), dtype=np.uint32)
    counter[..., 0] = (item64 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    counter[..., 1] = (item64 >> np.uint64(32)).astype(np.uint32)
    counter[..., 2] = step32
    counter[..., 3] = purpose
    flat = counter.reshape(-1, 4)
    keys = np.empty((flat.shape[0], 2), dtype=np.uint32)
    keys[:, 0], keys[:, 1] = seed & 0xFFFFFFFF, seed >> 32
    words = _core.philox4x32(flat, keys).reshape(shape + (4,))
    u1 = uniform_double(words[..., 0], words[..., 1])
    u2 = uniform_double(words[..., 2], words[..., 3])
    r = np.sqrt(-2.0 * np.log1p(-u1))
    theta = 2.0 * np.pi * u2
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)

from .namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
