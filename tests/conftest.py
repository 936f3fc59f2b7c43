"""Shared fixtures. Tests import the installed package (pytest runs with --import-mode=importlib and
the sources live under python/, so the source tree is never imported by accident)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

import deepcheap_native as dc

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
#: The published Bristol circuits: package data (the wheel ships them compressed), read here as text.
BRISTOL_DATA = Path(__file__).resolve().parents[1] / "data" / "bristol"


@contextlib.contextmanager
def threads(k: int):
    """Run a block with k native threads, restoring the previous count."""
    before = dc.get_num_threads()
    dc.set_num_threads(k)
    try:
        yield
    finally:
        dc.set_num_threads(before)


@contextlib.contextmanager
def simd(target: str):
    """Run a block on one SIMD target, restoring the previous one."""
    before = dc.simd_target()
    dc.set_simd_target(target)
    try:
        yield
    finally:
        dc.set_simd_target(before)


@pytest.fixture(params=dc.simd_targets())
def each_simd_target(request):
    """Parametrise a test over every SIMD target this CPU supports."""
    with simd(request.param):
        yield request.param
