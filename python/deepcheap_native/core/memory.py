"""Refuse requests that cannot fit in memory before anything is allocated.

A call such as ``MarkovChain.sample(10**12, 10)`` would otherwise ask the OS for a terabyte (and on a
machine that overcommits, start writing into it and die or swap for hours), or overflow a size
computed in C++. Every public entry point that allocates in proportion to its arguments calls
:func:`check_allocation` with the bytes it is about to need; it raises ``MemoryError`` naming them when
they exceed this machine's memory, and ``ValueError`` when no machine could address them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

# Sizes above this cannot be indexed by numpy (ssize_t) or the native code (int64 byte offsets).
ADDRESSABLE_BYTES = 2**63 - 1

# Requests below this are never refused and cost no look-up (issue 26: reading the limit, with its
# environment override, was about 2 us of every small call). No machine or container this package runs
# in has less free memory than this; DEEPCHEAP_MEMORY_LIMIT guards the large requests it is meant for.
SMALL_BYTES = 2**20


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'; binary units, three significant digits (1000 GiB and up is '0.977 TiB')."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1000 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _cgroup_limit() -> int | None:
    """The container's memory limit (cgroup v2 or v1), when one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:  # v1 reports ~2**63 for "no limit"
            return int(text)
    return None


@functools.lru_cache(maxsize=1)
def _machine_limit() -> int:
    """Physical memory, or the container's limit if lower: read once per process (reading the cgroup
    files cost about 23 us, paid by every small call before; issue 26)."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX: no limit known
        physical = ADDRESSABLE_BYTES
    limit = _cgroup_limit()
    return min(physical, limit) if limit else physical


def memory_limit() -> int:
    """Bytes of memory this process could ever hold: physical memory, or the container's limit if lower.

    ``DEEPCHEAP_MEMORY_LIMIT`` (bytes) overrides it, e.g. to keep a shared machine responsive.
    """
    override = os.environ.get("DEEPCHEAP_MEMORY_LIMIT")
    if override:
        try:
            value = int(override)
        except ValueError:
            raise ValueError(f"DEEPCHEAP_MEMORY_LIMIT must be a number of bytes, got {override!r}") from None
        if value > 0:
            return value
    return _machine_limit()


def check_allocation(n_bytes: Any, what: str | Callable[[], str], *, detail: str | Callable[[], str] = "") -> None:
    """Raise before allocating ``n_bytes`` for ``what`` if that cannot succeed.

    Parameters
    ----------
    n_bytes : int (exact: computed from the caller's sizes in Python integers, so it cannot overflow)
    what : the request, as the user wrote it, e.g. ``"MarkovChain.sample(n_chains=10**12, n_steps=10)"``
    detail : how the size arises, e.g. ``"10**12 chains x 1 byte"``

    ``what`` and ``detail`` may be callables that build the text: a small call then pays for no message
    it never shows. Requests below :data:`SMALL_BYTES` (1 MiB) return at once, whatever the limit.

    Raises
    ------
    ValueError : more bytes than any 64-bit machine can address.
    MemoryError : more bytes than this machine's memory (:func:`memory_limit`).
    """
    if type(n_bytes) is int and n_bytes < SMALL_BYTES:  # noqa: E721 - exactly int: the small calls' fast path
        return
    n_bytes = int(n_bytes)
    what = what() if callable(what) else what
    detail = detail() if callable(detail) else detail
    because = f" ({detail})" if detail else ""
    if n_bytes > ADDRESSABLE_BYTES:
        raise ValueError(f"{what} would need {format_bytes(n_bytes)}{because}, more than a 64-bit machine "
                         f"can address (2**63 bytes); reduce the request")
    limit = memory_limit()
    if n_bytes > limit:
        raise MemoryError(f"{what} would need {format_bytes(n_bytes)}{because}, more than the "
                          f"{format_bytes(limit)} of memory this machine has; reduce the request or "
                          f"split it into pieces")
