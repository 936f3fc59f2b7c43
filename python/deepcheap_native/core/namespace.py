"""What tab completion shows: a public module lists its ``__all__`` and the subpackage modules a user
reaches through it, not the helpers it imported (``annotations``, ``np``, ``check_int``, ``NamedTuple``)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any


def public_dir(namespace: dict[str, Any]) -> Callable[[], list[str]]:
    """A module-level ``__dir__`` (PEP 562) for the module whose globals are ``namespace``: its
    ``__all__`` plus the modules of this package bound in it (``dc.ising.model``)."""
    package = namespace["__name__"].split(".")[0]

    def __dir__() -> list[str]:
        names = set(namespace.get("__all__", ()))
        names |= {k for k, v in namespace.items() if isinstance(v, types.ModuleType) and not k.startswith("_")
                  and v.__name__.startswith(package + ".")}
        return sorted(names)

    return __dir__
