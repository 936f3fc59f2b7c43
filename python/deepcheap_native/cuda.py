"""The GPU: whether it is there, and the one device parser every hot path uses.

``device=`` on the public API takes ``"cpu"``, ``"cuda"`` (device 0) or ``"cuda:N"``; ``None`` means
the device of the inputs (a torch CUDA tensor or a CuPy array in means its GPU, anything else the CPU).
The CUDA drivers live in the private module ``_cuda``, built when nvcc is found (``DEEPCHEAP_CUDA``).
Without a GPU the same driver sources run on the CPU in ``_cuda_emulated``: ``with emulation():``
(or ``DEEPCHEAP_CUDA_EMULATION=1`` in the environment) sends ``device="cuda"`` there, which is how
the tests check the GPU drivers' index arithmetic and launch geometry on machines without one.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Iterator

__all__ = ["Device", "device_count", "emulation", "is_available", "resolve_device"]

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
            from . import _core

            return _core
        return _require_cuda(self.index)


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
    if type(x).__module__.startswith("torch") and getattr(x, "is_cuda", False):
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


def to_host(x: Any) -> Any:
    """A CPU copy of a torch CUDA tensor or a CuPy array (other inputs pass through unchanged)."""
    if type(x).__module__.startswith("torch") and getattr(x, "is_cuda", False):
        return x.detach().cpu()
    if hasattr(x, "__cuda_array_interface__") and hasattr(x, "get"):
        return x.get()
    return x


def like_device_input(result: Any, template: Any) -> Any:
    """Return ``result`` (numpy) as the kind of array ``template`` was, on the same device."""
    if type(template).__module__.startswith("torch") and getattr(template, "is_cuda", False):
        import torch

        return torch.from_numpy(result).to(template.device)
    if hasattr(template, "__cuda_array_interface__") and hasattr(template, "get"):
        cupy = importlib.import_module("cupy")
        with cupy.cuda.Device(template.device.id):
            return cupy.asarray(result)
    return result
