"""A stand-in for CuPy over the emulated device, so the CuPy branches of the zero-copy path (conversion
with the array's own library, results wrapped back as that library's arrays) run on machines without a
GPU. It is a module the package imports by the array's module name, exactly as it imports cupy."""

from __future__ import annotations

import contextlib
import types

import numpy as np

from deepcheap_native import cuda as dc_cuda

uint16 = np.uint16
calls: list[str] = []


class ndarray:  # noqa: N801 - named as CuPy's class
    def __init__(self, memory: dc_cuda.DeviceArray) -> None:
        self._a = memory

    @property
    def __cuda_array_interface__(self) -> dict:
        return self._a.__cuda_array_interface__

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def shape(self):
        return self._a.shape

    @property
    def device(self):
        return types.SimpleNamespace(id=self._a.device.index)

    def astype(self, dtype):
        calls.append("astype")
        return ndarray(dc_cuda.to_device(self._a.get().astype(dtype)))

    def get(self):
        return self._a.get()


def asarray(obj):
    calls.append("asarray")
    return ndarray(obj if isinstance(obj, dc_cuda.DeviceArray) else dc_cuda.to_device(np.asarray(obj)))


def ascontiguousarray(x):
    calls.append("ascontiguousarray")
    return x


def stack(arrays, axis=0):
    return ndarray(dc_cuda.to_device(np.stack([a.get() for a in arrays], axis=axis)))


class _Device(contextlib.nullcontext):
    def __init__(self, index):
        super().__init__()


cuda = types.SimpleNamespace(Device=_Device)  # what CuPy code reads: cupy.cuda.Device(i)
