"""What every area's torch.library ops share: objects travel into an op as a stable integer handle
(ops take tensors and scalars only). The ops themselves live with their area (``product/torch_ops.py``,
``circuit/torch_ops.py``); those modules, and this one, are imported only when a torch tensor arrives,
so importing the package never imports torch.
"""

import itertools
import weakref
from typing import Any

import torch

__all__ = ["handle_of", "lookup"]

_HANDLES = itertools.count(1)
_OBJECTS: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_HANDLE_OF: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


@torch.compiler.assume_constant_result
def handle_of(obj: Any) -> int:
    """A stable integer naming ``obj`` for the ops (kept alive by whoever holds ``obj``)."""
    handle = _HANDLE_OF.get(obj)
    if handle is None:
        handle = next(_HANDLES)
        _HANDLE_OF[obj] = handle
        _OBJECTS[handle] = obj
    return handle


def lookup(handle: int) -> Any:
    obj = _OBJECTS.get(handle)
    if obj is None:
        raise RuntimeError(f"deepcheap op: the object with handle {handle} no longer exists")
    return obj
