"""Results that can be saved without pickle: ``to_dict``, ``to_npz(path)`` / ``from_npz(path)`` and
``to_dataframe()`` (pandas, when installed) for the package's result types (series, scans, descents).

One format for all: the result's fields, arrays stored as npz entries and everything else (numbers,
strings, nested dicts, lists and tuples of them) as one JSON skeleton that names the arrays it holds;
loading reads with ``allow_pickle=False`` and checks the type the file says it holds."""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from typing import Any

import numpy as np

FORMAT = 1


def result_fields(result: Any) -> dict[str, Any]:
    """The fields of a NamedTuple or dataclass result, in order."""
    if dataclasses.is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return dict(zip(result._fields, result))


def _flatten(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"@array": key}
    if isinstance(value, dict):
        return {"@dict": [[_flatten(k, f"{key}.k{i}", arrays), _flatten(v, f"{key}.{i}", arrays)]
                          for i, (k, v) in enumerate(value.items())]}
    if isinstance(value, (list, tuple)):
        return {"@list" if isinstance(value, list) else "@tuple":
                [_flatten(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save a field of type {type(value).__name__} ({key})")


def _unflatten(node: Any, arrays: Any) -> Any:
    if isinstance(node, dict):
        if "@array" in node:
            return arrays[node["@array"]]
        if "@dict" in node:
            return {_unflatten(k, arrays): _unflatten(v, arrays) for k, v in node["@dict"]}
        if "@list" in node:
            return [_unflatten(v, arrays) for v in node["@list"]]
        if "@tuple" in node:
            return tuple(_unflatten(v, arrays) for v in node["@tuple"])
    return node


def to_dict(result: Any) -> dict[str, Any]:
    """The fields as a plain dict (arrays as they are)."""
    return result_fields(result)


def to_npz(result: Any, path: str | os.PathLike) -> None:
    """Write ``result`` to ``path`` (a .npz file readable with numpy alone: no pickle)."""
    arrays: dict[str, np.ndarray] = {}
    skeleton = {name: _flatten(value, name, arrays) for name, value in result_fields(result).items()}
    meta = json.dumps({"type": type(result).__name__, "format": FORMAT, "fields": skeleton})
    np.savez(path, __meta__=np.array(meta), **{f"a:{k}": v for k, v in arrays.items()})


def from_npz(cls: type, path: str | os.PathLike) -> Any:
    """The ``cls`` result saved by :func:`to_npz`; a ValueError naming the file for anything else."""
    where = f"{os.fspath(path)!r}"
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            arrays = {k[2:]: data[k] for k in data.files if k.startswith("a:")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"{where} is not a saved deepcheap result ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("type") != cls.__name__ or meta.get("format") != FORMAT:
        found = meta.get("type") if isinstance(meta, dict) else None
        raise ValueError(f"{where} holds a {found!r} result (format {meta.get('format') if isinstance(meta, dict) else None}),"
                         f" but expected {cls.__name__!r} of format {FORMAT}")
    fields = {name: _unflatten(node, arrays) for name, node in meta["fields"].items()}
    try:
        return cls(**fields)
    except TypeError as exc:
        raise ValueError(f"{where} does not have the fields of {cls.__name__}: {exc}") from None


def to_dataframe(result: Any) -> Any:
    """A pandas DataFrame of the result's per-item arrays: (n_measure, replicas) series in long form
    (one row per measurement and replica), or the 1-D arrays of one common length (one row per item)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe() needs pandas (pip install pandas); to_dict() and to_npz() do not") from None
    fields = {k: v for k, v in result_fields(result).items() if isinstance(v, np.ndarray)}
    two_d = {k: v for k, v in fields.items() if v.ndim == 2}
    shapes = [v.shape for v in two_d.values()]
    shape = max(set(shapes), key=shapes.count) if shapes else None
    if shape is not None and shapes.count(shape) >= 2:  # a time series: several (n_measure, replicas) fields
        columns = {k: v for k, v in two_d.items() if v.shape == shape}
        t, r = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        return pd.DataFrame({"measurement": t.ravel(), "replica": r.ravel(),
                             **{k: v.ravel() for k, v in columns.items()}})
    one_d = {k: v for k, v in fields.items() if v.ndim == 1}
    if not one_d:
        raise ValueError(f"{type(result).__name__} has no per-item arrays to tabulate; use to_dict()")
    lengths = [len(v) for v in one_d.values()]
    n = max(set(lengths), key=lengths.count)
    return pd.DataFrame({k: v for k, v in one_d.items() if len(v) == n})


def saveable(cls: type) -> type:
    """Give a result class ``to_dict``, ``to_npz``, ``from_npz`` and ``to_dataframe`` (this module's)."""
    cls.to_dict = to_dict  # type: ignore[attr-defined]
    cls.to_npz = to_npz  # type: ignore[attr-defined]
    cls.from_npz = classmethod(from_npz)  # type: ignore[attr-defined]
    cls.to_dataframe = to_dataframe  # type: ignore[attr-defined]
    return cls
