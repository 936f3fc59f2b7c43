"""Input normalisation shared by every public function: numpy/torch in, numpy into the core, the
same kind back out, and readable errors (what was expected, what came)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Return annotations of torch-in/torch-out functions (the rule, written once). A function whose result
#: kind follows an *argument* has ``typing.overload`` signatures: a ``torch.Tensor`` argument gives a
#: ``torch.Tensor``, a ``numpy.ndarray`` a ``numpy.ndarray``, anything else (lists, CuPy arrays) is
#: ``Any``. A method whose result kind follows how its *object* was built (a MarkovChain from a torch
#: matrix, an Ising sampler started from torch spins) returns ``ArrayOut``: numpy arrays, or torch
#: tensors when the object was built from torch; an alias of Any, because no static type sees how the
#: object was built. tests/test_stubs.py checks both against what the functions return.
ArrayOut = Any


def is_torch_tensor(x: Any) -> bool:
    """True for a torch.Tensor, without importing torch when it is not already loaded."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "numpy")


def import_torch(purpose: str) -> Any:
    """Import torch lazily, or explain that the optional dependency is missing."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised by hiding the module in tests
        raise ImportError(
            f"{purpose} needs PyTorch, which is not installed; "
            "install it with: pip install 'deepcheap-native[torch]'"
        ) from exc
    return torch


def to_numpy(x: Any, name: str) -> tuple[np.ndarray, bool]:
    """Return (array, came_from_torch). torch tensors are detached and moved to the CPU."""
    if type(x) is np.ndarray:  # the common case first (small calls: issue 26)
        return x, False
    if is_torch_tensor(x):
        return x.detach().cpu().numpy(), True
    if isinstance(x, np.ndarray):
        return x, False
    try:
        return np.asarray(x), False
    except Exception as exc:
        raise TypeError(f"{name} must be array-like (numpy or torch), got {type(x).__name__}") from exc


def like_input(result: np.ndarray, came_from_torch: bool) -> Any:
    """Give the caller back the kind of array they passed in."""
    if came_from_torch:
        return import_torch("returning a torch tensor").from_numpy(np.ascontiguousarray(result))
    return result


def float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """float32 or float64 from any spelling a user has at hand: "float32", np.float32, np.dtype, or a
    torch dtype (torch.float32); anything else is a TypeError, another dtype a ValueError."""
    if type(dtype).__module__ == "torch" and type(dtype).__name__ == "dtype":
        dtype = str(dtype).removeprefix("torch.")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be 'float32' or 'float64' (a numpy or torch dtype, or its name), got "
                        f"{dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be 'float32' or 'float64', got {dt}")
    return dt


def as_float_array(x: Any, name: str, dtype: Any) -> np.ndarray:
    """A C-contiguous float array of `dtype`; rejects non-numeric data and NaN/inf with a clear error."""
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    out = np.ascontiguousarray(x, dtype=dtype)
    if not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(f"{name} must be finite, but {name}[{', '.join(map(str, bad))}] is {out[tuple(bad)]}")
    return out


# ---- short reprs for results a notebook shows -------------------------------------------------------


def describe_value(value: Any) -> str:
    """A few characters for one field of a result: arrays as dtype, shape and mean, never their values."""
    if isinstance(value, np.ndarray) or is_torch_tensor(value):
        arr = np.asarray(value.detach().cpu()) if is_torch_tensor(value) else value
        text = f"{arr.dtype}{tuple(arr.shape)}"
        if arr.size and arr.dtype.kind in "biuf":
            with np.errstate(all="ignore"):
                text += f" mean {float(np.mean(arr)):.4g}"
        return text
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {describe_value(v)}" for k, v in list(value.items())[:6]) + (
            ", …}" if len(value) > 6 else "}")
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def short_repr(name: str, fields: Any) -> str:
    """``Name(field=summary, ...)`` from (field, value) pairs: shapes and summaries, not array dumps."""
    return f"{name}(" + ", ".join(f"{k}={describe_value(v)}" for k, v in fields) + ")"


def html_table(name: str, fields: Any) -> str:
    """The same summary as a small HTML table, for notebooks (``_repr_html_``)."""
    import html

    rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td style='text-align:left'>{html.escape(describe_value(v))}</td></tr>" for k, v in fields)
    return f"<table><caption style='text-align:left'><b>{html.escape(name)}</b></caption>{rows}</table>"
