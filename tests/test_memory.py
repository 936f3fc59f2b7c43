"""Huge requests are refused before anything is allocated, with the size they would need: MemoryError
beyond this machine's memory, ValueError beyond what any 64-bit machine can address. Without the check
`MarkovChain.sample(10**12, 10)` asked for a terabyte (on an overcommitting kernel: pages written until
the OOM killer came), and sizes computed in C++ could overflow."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native.core import memory as _memory

LIMIT = 64 * 2**30  # a 64 GiB machine, so the expected messages do not depend on where the test runs


@pytest.fixture
def machine_of_64_gib(monkeypatch):
    monkeypatch.setenv("DEEPCHEAP_MEMORY_LIMIT", str(LIMIT))
    assert _memory.memory_limit() == LIMIT


def refused_up_front(call, exc_type, *fragments):
    """The call raises exc_type naming the fragments, at once, and numpy allocated nothing big on the way."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(exc_type) as info:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5.0
    assert peak < 2**20, f"{peak} bytes were allocated before refusing"
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


def test_format_bytes_against_exact_values():
    assert _memory.format_bytes(0) == "0 B" and _memory.format_bytes(999) == "999 B"
    assert _memory.format_bytes(1023) == "0.999 KiB" and _memory.format_bytes(2**40 - 64) == "1 TiB"
    assert _memory.format_bytes(1536) == "1.5 KiB"
    assert _memory.format_bytes(10**12) == "931 GiB"  # 10**12 / 2**30 = 931.32
    assert _memory.format_bytes(2**46) == "64 TiB"
    assert _memory.format_bytes(2**70) == "1.02e+03 EiB"


def test_limit_is_physical_memory_or_the_override(monkeypatch):
    import os

    monkeypatch.delenv("DEEPCHEAP_MEMORY_LIMIT", raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < _memory.memory_limit() <= physical
    monkeypatch.setenv("DEEPCHEAP_MEMORY_LIMIT", "12345")
    assert _memory.memory_limit() == 12345
    monkeypatch.setenv("DEEPCHEAP_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="DEEPCHEAP_MEMORY_LIMIT must be a number of bytes, got 'lots'"):
        _memory.memory_limit()


def test_check_allocation_boundaries(machine_of_64_gib):
    _memory.check_allocation(LIMIT, "exactly the limit")  # fits: no exception
    with pytest.raises(MemoryError, match=r"one byte more would need 64 GiB \(detail\), more than the 64 GiB"):
        _memory.check_allocation(LIMIT + 1, "one byte more", detail="detail")
    with pytest.raises(ValueError, match="more than a 64-bit machine can address"):
        _memory.check_allocation(2**63, "2**63 bytes")


def test_markov_sample_of_a_trillion_chains(machine_of_64_gib):
    chain = dc.MarkovChain(np.full((4, 4), 0.25))
    message = refused_up_front(lambda: chain.sample(10**12, 10), MemoryError, "931 GiB",
                               "MarkovChain.sample(n_chains=1000000000000, n_steps=10)", "64 GiB")
    assert "would need" in message
    # paths are (n_chains, n_steps + 1): 11x more
    refused_up_front(lambda: chain.sample(10**11, 10, return_path=True), MemoryError, "1 TiB")
    # 2**34 - 1 steps (the most allowed) of plan alone: 1 TiB
    refused_up_front(lambda: chain.sample(0, 2**34 - 1), MemoryError, "1 TiB")
    assert chain.sample(10, 10).shape == (10,)  # ordinary sizes are untouched


def test_hierarchy_sample(machine_of_64_gib):
    h = dc.HierarchicalChain([np.full((2, 300), 1 / 300)], [0.5, 0.5])  # uint8 then uint16 levels
    refused_up_front(lambda: h.sample(10**11), MemoryError, "HierarchicalChain.sample(n_chains=100000000000)",
                     "652 GiB")  # 1 + 2 bytes per sample per level, then one (n, 2) uint16 result: 7 bytes


def test_ising_lattice_of_2_to_the_20_squared(machine_of_64_gib):
    model = dc.IsingModel(2**20)
    refused_up_front(lambda: model.sampler(2.0), MemoryError, "IsingModel(1048576).sampler(replicas=64)",
                     "72 TiB")  # 64 replicas x 2**40 sites: int8 spins plus the packed words (1/8)
    refused_up_front(lambda: model.sampler(2.0, replicas=2**30), ValueError, "64-bit machine")
    refused_up_front(lambda: dc.BoltzmannSampler(2**30, {(0, 1): 1.0}, temperature=1.0, replicas=2**10),
                     MemoryError, "1 TiB")


def test_evaluate_packed_on_more_words_than_memory_holds(machine_of_64_gib):
    c = dc.circuits.ripple_carry_adder(8)
    words = np.broadcast_to(np.uint64(0), (c.n_inputs, 2**36))  # a view: no memory behind it
    refused_up_front(lambda: c.evaluate_packed(words), MemoryError,
                     "Circuit.evaluate_packed on 68,719,476,736 words", "12.5 TiB")  # (16 + 9) x 8 B x 2**36
    small = np.zeros((c.n_inputs, 4), np.uint64)
    assert c.evaluate_packed(small).shape == (c.n_outputs, 4)


def test_real_limit_refuses_exabytes(monkeypatch):
    monkeypatch.delenv("DEEPCHEAP_MEMORY_LIMIT", raising=False)
    chain = dc.MarkovChain(np.full((4, 4), 0.25))
    refused_up_front(lambda: chain.sample(2**62, 1), MemoryError, "4 EiB")
    refused_up_front(lambda: chain.sample(2**63, 1), ValueError, "8 EiB", "64-bit machine")
