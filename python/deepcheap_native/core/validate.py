"""Validators shared by every public function, written once (docs/guide/design.md: Conventions).

The rules: a value of the wrong *type* (a string for a number, a float for a count, a list for an
``out=`` buffer) is a TypeError; a value of the right type but the wrong *value* (out of range, wrong
shape or dtype, not finite) is a ValueError. Every message names the argument, what was expected and
what came. Seeds are integers in [0, 2**64 - 1] everywhere (API and command line), because they
become Philox4x32-10's two 32-bit key words.

``progress=`` arguments go through :func:`~deepcheap_native.core.progress.progress_bar` (core/progress.py).
``threads=`` arguments go through :func:`call_threads`: one per-call thread count for every kernel.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .progress import progress_bar  # noqa: F401  (the name older callers and tests/test_conventions.py import from here)

__all__ = [
    "SEED_MAX",
    "THREADS_MAX",
    "call_threads",
    "check_array_or_none",
    "check_choice",
    "check_int",
    "check_multiple",
    "check_out",
    "check_real",
    "check_seed",
    "last_drawn_seed",
    "resolve_seed",
    "check_threads",
    "FixedAttributes",
    "progress_bar",
]

#: The largest seed: seeds are Philox4x32-10 keys, two 32-bit words.
SEED_MAX = 2**64 - 1


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A Python int within [minimum, maximum]; bools, floats and strings are a TypeError."""
    # A plain int in range returns at once (every small call checks a few); other ints skip the
    # numbers.Integral check, an ABC lookup that cost tiny calls microseconds.
    if type(value) is int and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return value
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_seed(seed: Any, name: str = "seed") -> int:
    """Seeds are integers in [0, 2**64 - 1]: they become Philox's two key words."""
    return check_int(seed, name, minimum=0, maximum=SEED_MAX)


_drawn = threading.local()


def resolve_seed(seed: Any, name: str = "seed") -> int:
    """A seed argument whose default is None: None draws a fresh 64-bit seed from the operating system's
    entropy (``numpy.random.SeedSequence``) and remembers it (:func:`last_drawn_seed`, per thread; objects
    also record it as ``.seed`` or ``.last_seed``), so every run can be repeated by passing it; an int
    is checked as :func:`check_seed`. Reproducibility stays explicit: the same int, the same numbers."""
    if seed is None:
        words = np.random.SeedSequence().generate_state(2, dtype=np.uint32)
        value = int(words[0]) | (int(words[1]) << 32)
        _drawn.seed = value
        return value
    return check_seed(seed, name)


def last_drawn_seed() -> int | None:
    """The seed most recently drawn for a ``seed=None`` call on this thread (None if there was none)."""
    return getattr(_drawn, "seed", None)


#: The largest per-call thread count (more than any machine this runs on has cores).
THREADS_MAX = 1024


def check_threads(threads: Any, name: str = "threads") -> int | None:
    """A per-call thread count: None (the package's :func:`~deepcheap_native.set_num_threads`
    setting) or an int in [1, 1024]."""
    return None if threads is None else check_int(threads, name, minimum=1, maximum=THREADS_MAX)


_PACKAGE_THREADS = contextlib.nullcontext()  # threads=None: no override to set or restore


def call_threads(threads: Any) -> contextlib.AbstractContextManager[None]:
    """Run the body's native calls on ``threads`` threads (None: the package setting).

    Validated on entry (before the body does any work). The count is a per-OS-thread override in the
    core (``cpu::set_thread_override``), so Python threads calling concurrently with different
    ``threads=`` (each releasing the GIL inside its kernel) do not see each other's value; the
    previous override is restored on exit, so nested calls compose. ``threads=None`` (most calls) costs
    one comparison: a shared no-op context.
    """
    if threads is None:
        return _PACKAGE_THREADS
    return _thread_override(check_threads(threads))


@contextlib.contextmanager
def _thread_override(k: int) -> Iterator[None]:
    from .. import _core

    previous = _core.set_thread_override(k)
    try:
        yield
    finally:
        _core.set_thread_override(previous)


def check_real(value: Any, name: str, *, positive: bool = False, minimum: float | None = None,
               finite: bool = True) -> float:
    """A real number as a float: non-numbers (str, bool, complex, arrays) are a TypeError; NaN, inf
    (unless ``finite=False``), values <= 0 (``positive``) or below ``minimum`` a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v


def check_multiple(value: Any, name: str, unit: int, what: str) -> int:
    """An int, at least ``unit`` and a multiple of it (``what`` says what a unit is, for the message)."""
    value = check_int(value, name, minimum=unit)
    if value % unit:
        raise ValueError(f"{name} must be a multiple of {unit} {what}, got {value}")
    return value


def check_array_or_none(out: Any, name: str = "out") -> np.ndarray | None:
    """None, or a numpy array (anything else is a TypeError); the native call checks its shape and dtype."""
    if out is not None and not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(out).__name__}")
    return out


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``: a non-string is a TypeError, an unknown string a ValueError."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, choices))} (a str), got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_out(out: Any, shape: tuple[int, ...], dtype: Any, name: str = "out") -> np.ndarray:
    """A caller's output buffer: a numpy array (else TypeError) that is C-contiguous, writeable and
    of exactly ``shape`` and ``dtype`` (else ValueError)."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    expected = f"{name} must be a C-contiguous numpy array of dtype {dtype} and shape {shape}"
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{expected}, got {type(out).__name__}")
    if out.dtype != dtype:
        raise ValueError(f"{name} has dtype {out.dtype} but expected {dtype} ({expected})")
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape} but expected {shape} ({expected})")
    if not out.flags.c_contiguous:
        raise ValueError(f"{expected}, got a non-contiguous view")
    if not out.flags.writeable:
        raise ValueError(f"{expected}, got a read-only array")
    return out


class FixedAttributes:
    """Attributes set once, at construction: assigning one of ``_FIXED`` again is an AttributeError
    that says how to get what the caller wanted (``_FIXED_HINT``), instead of an assignment that the
    native object behind never sees (a silent wrong result). Attributes that can change in place are
    properties with real setters."""

    _FIXED: tuple[str, ...] = ()
    _FIXED_HINT = "make a new object"

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIXED and name in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.{name} is fixed once made: {self._FIXED_HINT}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._FIXED:
            raise AttributeError(f"{type(self).__name__}.{name} cannot be deleted")
        object.__delattr__(self, name)
