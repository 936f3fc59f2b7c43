"""The small-call paths (issue 26 §3): a tiny call with every option at its default skips the general
checks and conversions. Each must give the general path's answer bit for bit, and hand every input it
does not cover (or a bad value) to the general path, which checks and says what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc
from test_random import reference_philox

BRISTOL = Path(__file__).resolve().parents[1] / "data" / "bristol"


@pytest.mark.parametrize("n", [0, 1, 5, 300])
def test_philox_small_call_equals_reference(n):
    rng = np.random.default_rng(n)
    counter = rng.integers(0, 2**32, (n, 4), dtype=np.uint64).astype(np.uint32)
    key = rng.integers(0, 2**32, (n, 2), dtype=np.uint64).astype(np.uint32)
    got = dc.random.philox4x32(counter, key)  # the small-call path
    assert got.dtype == np.uint32 and got.shape == (n, 4)
    want = np.array([reference_philox(c, k) for c, k in zip(counter, key)], np.uint32).reshape(n, 4)
    np.testing.assert_array_equal(got, want)  # a pure-Python Philox
    np.testing.assert_array_equal(got, dc.random.philox4x32(counter, key, device="cpu"))  # the general path
    if n == 1:  # one counter, one key of shape (2,)
        np.testing.assert_array_equal(dc.random.philox4x32(counter, key[0]), got)


def test_philox_small_call_leaves_other_inputs_to_the_general_path():
    counter = np.zeros((3, 4), np.uint32)
    # a key of shape (2,) for 3 counters broadcasts (general path), a non-contiguous counter is copied
    np.testing.assert_array_equal(dc.random.philox4x32(counter, np.zeros(2, np.uint32)),
                                  dc.random.philox4x32(counter, np.zeros((3, 2), np.uint32)))
    wide = np.zeros((3, 8), np.uint32)
    np.testing.assert_array_equal(dc.random.philox4x32(wide[:, ::2], np.zeros((3, 2), np.uint32)),
                                  dc.random.philox4x32(counter, np.zeros((3, 2), np.uint32)))
    with pytest.raises(ValueError, match=r"counter must have shape \(\.\.\., 4\)"):
        dc.random.philox4x32(np.zeros((1, 3), np.uint32), np.zeros((1, 2), np.uint32))
    with pytest.raises(ValueError, match="do not broadcast"):
        dc.random.philox4x32(np.zeros((3, 4), np.uint32), np.zeros((2, 2), np.uint32))


@pytest.mark.parametrize("n_chains,n_steps", [(0, 5), (10, 0), (10, 10), (1000, 37)])
def test_markov_small_call_equals_general_path(n_chains, n_steps):
    P = np.random.default_rng(3).dirichlet(np.ones(5), size=5)
    chain = dc.MarkovChain(P)
    fast = chain.sample(n_chains, n_steps, seed=7)
    assert chain.last_seed == 7
    general = chain.sample(n_chains, n_steps, seed=7, threads=1)  # threads= takes the general path
    assert fast.dtype == general.dtype and fast.shape == (n_chains,)
    np.testing.assert_array_equal(fast, general)
    # and the final column of the path the general path returns
    np.testing.assert_array_equal(fast, chain.sample(n_chains, n_steps, seed=7, return_path=True)[:, -1])


def test_markov_small_call_keeps_the_checks():
    chain = dc.MarkovChain(np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="n_chains"):
        chain.sample(-1, 5, seed=0)
    with pytest.raises(ValueError, match="seed"):
        chain.sample(3, 5, seed=-1)
    with pytest.raises(TypeError, match="n_steps"):
        chain.sample(3, True, seed=0)
    torch = pytest.importorskip("torch")
    tchain = dc.MarkovChain(torch.full((3, 3), 1 / 3, dtype=torch.float64))
    out = tchain.sample(4, 3, seed=1)  # a chain built from torch answers in torch, on either path
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), chain.sample(4, 3, seed=1))


@pytest.mark.parametrize("name", ["adder64", "sha256"])
def test_one_word_call_equals_eight_word_blocks(name):
    c = dc.Circuit.from_bristol(BRISTOL / f"{name}.txt")
    rng = np.random.default_rng(11)
    words = rng.integers(0, 2**64, (c.n_inputs, 3), dtype=np.uint64)
    reference = c.evaluate_packed(words, block_words=8, threads=1)  # general path, 8-word blocks
    for k in range(3):
        one = np.ascontiguousarray(words[:, k:k + 1])
        np.testing.assert_array_equal(c.evaluate_packed(one), reference[:, k:k + 1])  # small path, 1-word slots
        np.testing.assert_array_equal(c.evaluate_packed(one, block_words=1, threads=2), reference[:, k:k + 1])
        np.testing.assert_array_equal(c.evaluate_packed(one, schedule="levelized", block_words=1, threads=2),
                                      reference[:, k:k + 1])
    np.testing.assert_array_equal(c.evaluate_packed(words, block_words=1, threads=2), reference)
    if name == "adder64":  # an independent reference: the sum mod 2^64 in every bit-sliced vector
        a = dc.circuit.unpack_bits(words[:64], 64 * 3).T.astype(np.uint64)
        b = dc.circuit.unpack_bits(words[64:], 64 * 3).T.astype(np.uint64)
        s = dc.circuit.unpack_bits(reference, 64 * 3).T.astype(np.uint64)
        weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
        np.testing.assert_array_equal((a * weights).sum(1) + (b * weights).sum(1), (s * weights).sum(1))


def test_evaluate_packed_small_call_keeps_the_checks():
    add = dc.Circuit.from_bristol(BRISTOL / "adder64.txt")
    with pytest.raises(ValueError, match=r"words must have shape \(n_inputs=128, n_words\)"):
        add.evaluate_packed(np.zeros((127, 1), np.uint64))
    with pytest.raises(ValueError, match="block_words must be 1, 8, 16, 32 or 64"):
        add.evaluate_packed(np.zeros((128, 1), np.uint64), block_words=2)
    strided = np.zeros((128, 2), np.uint64)[:, ::2]  # not C-contiguous: the general path copies it
    assert not add.evaluate_packed(strided).any()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_product_small_call_equals_general_path_and_names_a_bad_value(dtype):
    net = dc.product_network(16, dtype=dtype)
    x = np.random.default_rng(2).uniform(0.5, 1.0, (16, 16)).astype(dtype)
    fast = net(x)
    assert fast.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(fast, net(x, threads=1))  # threads= takes the general path
    if dtype == "float64":  # the product itself (float32 loses digits to the gates' cancellation)
        np.testing.assert_allclose(fast, np.prod(x, axis=1), rtol=1e-3)
    x[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"x must be finite, but x\[3, 5\] is nan"):
        net(x)
