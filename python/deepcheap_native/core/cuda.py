"""The GPU: whether it is there, and the one device parser every hot path uses.

``device=`` on the public API takes ``"cpu"``, ``"cuda"`` (device 0) or ``"cuda:N"``; ``None`` means
the device of the inputs (a torch CUDA tensor or a CuPy array in means its GPU, anything else the CPU).
The CUDA drivers live in the private module ``_cuda``, built when nvcc is found (``DEEPCHEAP_CUDA``).

Arrays already on a GPU stay there (the zero-copy path): a torch CUDA tensor, a CuPy array or any
object with ``__cuda_array_interface__`` (such as :class:`DeviceArray`, what :func:`to_device` makes)
is read in place by the kernels, and the result is made on the same GPU and returned as the same kind
of array (torch in, torch out; CuPy in, CuPy out; anything else gives a :class:`DeviceArray`). Host
arrays with ``device="cuda"`` are copied in and the result comes back to the host.
Without a GPU the same driver sources run on the CPU in ``_cuda_emulated``: ``with emulation():``
(or ``DEEPCHEAP_CUDA_EMULATION=1`` in the environment) sends ``device="cuda"`` there, which is how
the tests check the GPU drivers' index arithmetic and launch geometry on machines without one.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import is_torch_tensor
from .validate import check_int

__all__ = ["Device", "DeviceArray", "device_count", "emulation", "is_available", "resolve_device", "to_device"]

_state = threading.local()


def _emulating() -> bool:
    forced = getattr(_state, "emulating", None)
    if forced is not None:
        return bool(forced)
    return os.environ.get("DEEPCHEAP_CUDA_EMULATION", "") not in ("", "0")


@contextlib.contextmanager
def emulation(enabled: bool = True) -> Iterator[None]:
    """Within the block (this thread only), ``device="cuda"`` runs the CUDA drivers on the CPU.

    The emulation compiles the same ``csrc/cuda/*.cu`` sources as plain C++ and runs every launch as
    loops over blocks and threads: one emulated device, ``cuda:0``, slow but exact.
    """
    previous = getattr(_state, "emulating", None)
    _state.emulating = enabled
    try:
        yield
    finally:
        _state.emulating = previous


def _module() -> tuple[Any, str]:
    """(the CUDA driver module, "") or (None, why it is missing)."""
    name = "_cuda_emulated" if _emulating() else "_cuda"
    try:
        return importlib.import_module(f"deepcheap_native.{name}"), ""
    except ImportError as exc:
        if name == "_cuda":
            return None, (
                "this build of deepcheap_native has no CUDA drivers (the _cuda module was not built: "
                "no nvcc at build time, or DEEPCHEAP_CUDA=OFF); reinstall with nvcc on PATH and "
                f"DEEPCHEAP_CUDA=ON ({exc})"
            )
        return None, f"this build has no CUDA emulation module (DEEPCHEAP_CUDA_EMULATION=OFF at build time; {exc})"


def _status() -> tuple[Any, int, str]:
    module, problem = _module()
    if module is None:
        return None, 0, problem
    count, problem = module.runtime_status()
    return module, int(count), problem


def is_available() -> bool:
    """True when ``device="cuda"`` can run: the _cuda module is built and sees at least one GPU."""
    return _status()[1] > 0


def device_count() -> int:
    """Number of CUDA devices the _cuda module sees (0 without the module, a driver or a GPU)."""
    return _status()[1]


@dataclass(frozen=True)
class Device:
    """Where a call runs: ``kind`` is "cpu" or "cuda", ``index`` the CUDA device (0 for the CPU)."""

    kind: str
    index: int = 0

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"cuda:{self.index}"

    @property
    def module(self) -> Any:
        """The native module whose functions run on this device (_core, _cuda or _cuda_emulated)."""
        if self.kind == "cpu":
            return _core_module()
        return _require_cuda(self.index)


@functools.cache
def _core_module() -> Any:
    from .. import _core  # on first use: core/ is imported while the package itself loads

    return _core


_CPU = Device("cpu")
# Exact types that are never device arrays (numpy arrays, scalars, sequences, None): the dispatchers
# answer them at once, since a small call pays for every attribute probe (issue 26, small calls).
_HOST_TYPES = frozenset({np.ndarray, type(None), int, float, bool, list, tuple, np.uint32, np.uint64, np.int64,
                         np.float64, np.float32, str})


def _require_cuda(index: int) -> Any:
    module, count, problem = _status()
    if module is None:
        raise RuntimeError(f"device cuda:{index} requested but {problem}")
    if count == 0:
        raise RuntimeError(f"device cuda:{index} requested but no CUDA device is usable: {problem}")
    if index >= count:
        raise RuntimeError(
            f"device cuda:{index} requested but only {count} CUDA device(s) exist (cuda:0..cuda:{count - 1})"
        )
    return module


def array_device(x: Any) -> Device | None:
    """The CUDA device of a torch CUDA tensor or a CuPy (``__cuda_array_interface__``) array, else None."""
    if type(x) in _HOST_TYPES:  # the common case, answered without attribute probes (small calls: issue 26)
        return None
    if isinstance(x, DeviceArray):
        return x.device
    if is_torch_tensor(x) and x.is_cuda:
        return Device("cuda", int(x.device.index or 0))
    if hasattr(x, "__cuda_array_interface__"):
        dev = getattr(x, "device", None)
        return Device("cuda", int(getattr(dev, "id", 0) or 0))
    return None


def parse_device(device: Any) -> Device:
    """``"cpu"``, ``"cuda"``, ``"cuda:N"``, a torch.device or a Device; raises TypeError/ValueError."""
    if isinstance(device, Device):
        return device
    if type(device).__module__.startswith("torch") and type(device).__name__ == "device":
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {type(device).__name__} {device!r}")
    text = device.strip().lower()
    if text == "cpu":
        return Device("cpu")
    if text == "cuda":
        return Device("cuda", 0)
    if text.startswith("cuda:") and text[5:].isdigit():
        return Device("cuda", int(text[5:]))
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N' (N >= 0), got {device!r}")


def resolve_device(device: Any, *arrays: Any) -> Device:
    """The one device dispatcher: an explicit ``device`` wins, else the device of the CUDA arrays
    among ``arrays`` (they must agree), else the CPU. Asking for CUDA where it cannot run raises
    RuntimeError naming what is missing (no _cuda build, no driver, no device)."""
    if device is None:
        for a in arrays:  # (a loop, not all() over a generator: this is on every small call's path)
            if type(a) not in _HOST_TYPES:
                break
        else:
            return _CPU
    found = {d for d in (array_device(a) for a in arrays) if d is not None}
    if device is None:
        if len(found) > 1:
            raise ValueError(f"inputs live on different devices: {', '.join(sorted(map(str, found)))}")
        chosen = found.pop() if found else Device("cpu")
    else:
        chosen = parse_device(device)
    if chosen.kind == "cuda":
        _require_cuda(chosen.index)
    return chosen


def _cupy_like(x: Any) -> Any:
    """The library of a CuPy (or CuPy-like) device array, imported by the array's own module name: an
    array with ``__cuda_array_interface__``, ``get`` and ``astype`` that is neither torch nor ours. Else None."""
    if isinstance(x, DeviceArray) or is_torch_tensor(x):
        return None
    if not (hasattr(x, "__cuda_array_interface__") and hasattr(x, "get") and hasattr(x, "astype")):
        return None
    return importlib.import_module(type(x).__module__.split(".")[0])


def to_host(x: Any) -> Any:
    """A CPU copy of a torch CUDA tensor, a CuPy array or a DeviceArray (other inputs pass through)."""
    if type(x) in _HOST_TYPES:
        return x
    if is_torch_tensor(x) and x.is_cuda:
        return x.detach().cpu()
    if isinstance(x, DeviceArray) or _cupy_like(x) is not None:
        return x.get()
    return x


def like_device_input(result: Any, template: Any) -> Any:
    """Return ``result`` (numpy) as the kind of array ``template`` was, on the same device."""
    if type(template) in _HOST_TYPES:
        return result
    if isinstance(template, DeviceArray):
        return to_device(result, template.device)
    if is_torch_tensor(template) and template.is_cuda:
        import torch

        return torch.from_numpy(result).to(template.device)
    cupy = _cupy_like(template)
    if cupy is not None:
        with cupy.cuda.Device(template.device.id):
            return cupy.asarray(result)
    return result


# ---- the zero-copy path ---------------------------------------------------------------------------


class DeviceArray:
    """A C-contiguous array in GPU memory, made by deepcheap: what :func:`to_device` returns, and the
    result of a call whose device inputs were neither torch nor CuPy arrays.

    It speaks ``__cuda_array_interface__`` (version 3) and DLPack, so ``torch.as_tensor(a,
    device="cuda")``, ``torch.from_dlpack(a)`` and ``cupy.asarray(a)`` view it without a copy (and keep
    it alive). :meth:`get` (or ``numpy.asarray``)
    copies it to the host. Under :func:`emulation` its memory is host memory of the emulated device.
    """

    def __init__(self, memory: Any, shape: tuple[int, ...], dtype: Any, module_name: str) -> None:
        self._memory = memory
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self._module_name = module_name

    @classmethod
    def empty(cls, shape: Any, dtype: Any, device: Any = "cuda") -> DeviceArray:
        """An uninitialised array of ``shape`` and ``dtype`` on ``device`` ("cuda" or "cuda:N")."""
        where = _cuda_device(device)
        shape = tuple(check_int(d, "shape") for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        if any(d < 0 for d in shape):
            raise ValueError(f"shape must have no negative sizes, got {shape}")
        return cls._allocate(where.module, where.index, shape, dtype)

    @classmethod
    def _allocate(cls, module: Any, index: int, shape: tuple[int, ...], dtype: Any) -> DeviceArray:
        """Memory from a given driver module (_cuda or _cuda_emulated) on its device ``index``."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"a DeviceArray holds numbers, got dtype {dtype}")
        memory = module.DeviceMemory(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, index)
        return cls(memory, shape, dtype, module.__name__)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def device(self) -> Device:
        return Device("cuda", self._memory.device)

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self._memory.address, False),
                "strides": None, "version": 3}

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """A DLPack capsule viewing this array (``torch.from_dlpack(a)``, ``cupy.from_dlpack(a)``, …).

        The data is complete when a call returns (every resident call synchronises), so any ``stream``
        may read it. Only the unversioned capsule ("dltensor") is made, which every consumer takes; under
        :func:`emulation` it says CPU memory, so ``numpy.from_dlpack`` can view it."""
        if copy:
            raise BufferError("a DeviceArray exports its memory itself (copy=True is not offered)")
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"a DeviceArray is on {self.__dlpack_device__()}, not on {tuple(dl_device)}")
        code = {"i": 0, "u": 1, "f": 2, "b": 6}[self.dtype.kind]
        return self._memory.dlpack(list(self.shape), code, 8 * self.dtype.itemsize)

    def __dlpack_device__(self) -> tuple[int, int]:
        """(2 = kDLCUDA, device index); (1 = kDLCPU, 0) under :func:`emulation` (host memory)."""
        return tuple(self._memory.dlpack_device)

    def get(self) -> np.ndarray:
        """A host (numpy) copy."""
        host = np.empty(self.shape, dtype=self.dtype)
        self._memory.copy_to_host(host)
        return host

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if copy is False:
            raise ValueError("a DeviceArray lives on a GPU: numpy can only have a copy (copy=False was asked)")
        host = self.get()
        return host if dtype is None else host.astype(dtype, copy=False)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled through the host (as CuPy does): a Dask worker gets the same values on its own GPU.
        return to_device, (self.get(), str(self.device))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d DeviceArray")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype}, device='{self.device}')"


def _cuda_device(device: Any) -> Device:
    if isinstance(device, Device) and device.kind == "cuda":
        return device  # already resolved (and checked) by the caller
    where = resolve_device(device)
    if where.kind != "cuda":
        raise ValueError(f"device must be 'cuda' or 'cuda:N' for a DeviceArray, got {device!r}")
    return where


def to_device(x: Any, device: Any = "cuda") -> DeviceArray:
    """Copy a host array (numpy, or anything numpy can read) to a GPU as a C-contiguous
    :class:`DeviceArray`. Calls given it run on that GPU and return their results there."""
    where = _cuda_device(device)
    try:
        host = np.ascontiguousarray(to_host(x))
    except ValueError as exc:
        raise ValueError(f"to_device takes a rectangular array of numbers ({exc})") from None
    if host.dtype.kind not in "biuf":
        raise TypeError(f"to_device takes numbers, got dtype {host.dtype}")
    arr = DeviceArray.empty(host.shape, host.dtype, where)
    arr._memory.copy_from_host(host)
    return arr


def is_device_array(x: Any) -> bool:
    """Whether ``x`` lives on a GPU (torch CUDA tensor, CuPy array, any ``__cuda_array_interface__``)."""
    return array_device(x) is not None


def _check_home(x: Any, name: str, where: Device) -> None:
    home = array_device(x)
    if home != where:
        raise ValueError(f"{name} is on {home} but the call runs on {where}: move it, or pass device='{home}'")


def _interface(x: Any, name: str, where: Device, want: np.dtype | None) -> tuple[int, tuple[int, ...], np.dtype]:
    """(address, shape, dtype) of a device array as it is, for a resident call on ``where``: its dtype
    must be ``want`` (when given), its layout C-contiguous, its memory ``where``'s."""
    if isinstance(x, DeviceArray) and x._module_name != where.module.__name__:
        raise RuntimeError(f"{name} was made by {x._module_name} but the call runs in {where.module.__name__} "
                           "(a DeviceArray made under dc.cuda.emulation() is host memory, not a GPU's)")
    cai = x.__cuda_array_interface__
    shape = tuple(int(d) for d in cai["shape"])
    got = np.dtype(cai["typestr"])
    if want is not None and got != want:
        raise TypeError(f"{name} has dtype {got} on the GPU but expected {want}")
    strides = cai.get("strides")
    if strides is not None:
        expected, step = [], got.itemsize
        for d in reversed(shape):
            expected.append(step)
            step *= d
        if any(d > 1 and s != e for d, s, e in zip(shape, strides, reversed(expected))):
            raise ValueError(f"{name} must be C-contiguous on the GPU, got strides {tuple(strides)} for shape {shape}")
    address = int(cai["data"][0]) if cai["data"] else 0
    if address and int(np.prod(shape, dtype=np.int64)):
        where.module.check_address(address, where.index, name)  # host memory or another GPU's: a clear error
    return address, shape, got


def device_input(x: Any, name: str, where: Device, dtype: Any = None) -> tuple[int, tuple[int, ...], np.dtype, Any]:
    """(address, shape, dtype, owner) of a device array for a resident call on ``where``.

    torch and CuPy arrays are converted to ``dtype`` and made C-contiguous on their device by their own
    library (no host copy); other ``__cuda_array_interface__`` arrays must already be C-contiguous and
    of ``dtype``. Keep ``owner`` alive until the call returns."""
    _check_home(x, name, where)
    want = None if dtype is None else np.dtype(dtype)
    cupy = _cupy_like(x)
    if is_torch_tensor(x):
        import torch

        t = x.detach()
        if want is not None:
            t = t.to(torch.from_numpy(np.empty(0, dtype=want)).dtype)
        x = t.contiguous()
    elif cupy is not None:
        if want is not None and x.dtype != want:
            x = x.astype(want)
        x = cupy.ascontiguousarray(x)
    return (*_interface(x, name, where, want), x)


def device_output(out: Any, shape: tuple[int, ...], dtype: Any, where: Device) -> tuple[int, Any]:
    """(address, array) of the result of a resident call: ``out`` itself when given (a device array of
    exactly ``shape`` and ``dtype`` on ``where``, C-contiguous, written in place: never converted, so
    the kernel writes the caller's memory), else a fresh :class:`DeviceArray`."""
    if out is None:
        arr = DeviceArray.empty(shape, dtype, where)
        return arr._memory.address, arr
    if not is_device_array(out):
        raise TypeError(f"out must be a device array on {where} when the inputs are (got {type(out).__name__})")
    _check_home(out, "out", where)
    view = out
    if is_torch_tensor(out):
        if not out.is_contiguous() or out.requires_grad:
            raise ValueError("out must be a contiguous torch tensor that does not require grad")
        view = out.detach()  # the same memory; torch offers __cuda_array_interface__ only without grad
    address, got_shape, got_dtype = _interface(view, "out", where, None)
    if got_shape != tuple(shape) or got_dtype != np.dtype(dtype):
        raise ValueError(f"out has shape {got_shape} and dtype {got_dtype} but expected {tuple(shape)} and {np.dtype(dtype)}")
    if view.__cuda_array_interface__["data"][1]:
        raise ValueError("out is read-only")
    return address, out


def like_device(result: Any, template: Any) -> Any:
    """A resident result as the kind of array ``template`` was: torch, CuPy, else the DeviceArray."""
    if not isinstance(result, DeviceArray):
        return result  # the caller's out=
    if is_torch_tensor(template):
        import torch

        return torch.as_tensor(result, device=template.device)
    cupy = _cupy_like(template)
    return result if cupy is None else cupy.asarray(result)

from .namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
