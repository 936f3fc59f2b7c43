"""Inputs and stated bounds shared by tests/test_cuda.py (a real GPU) and tests/test_cuda_emulated.py
(the same CUDA drivers run on the CPU)."""

from __future__ import annotations

import numpy as np

import deepcheap_native as dc

ACTIVATIONS = ["softplus", "exp", "logistic", "tanh", "gelu"]


def product_inputs(batch, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.0, (batch, n)) * rng.choice([-1.0, 1.0], (batch, n))
    return x.astype(dtype)


def relative_gap(got, want):
    return np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)) / np.abs(want.astype(np.float64)))


_CODES = {"softplus": 0, "exp": 1, "logistic": 2, "tanh": 3, "gelu": 4}


def _activation_peak(activation, bias, reach, dtype):
    """max |sigma(z)| over z in [bias - reach, bias + reach], as the network kernels compute it."""
    z = np.linspace(bias - reach, bias + reach, 101).astype(dtype)
    return float(np.max(np.abs(dc._core.product_activation(z, _CODES[activation]))))


# The stated bounds (README "GPU path"). Stable mode has no cancellation: the drivers differ only by
# where compilers fuse multiply-adds, within 64 ulp of the dtype per output (measured: 0 here, where
# neither side fuses). Network mode computes what the network computes, whose outputs are sums of
# neuron values of size |sigma| times a coefficient ~1/lambda^2 (deep gate) or ~1/lambda^n (shallow):
# each neuron value may round differently on the two drivers (FMA contraction; the CPU picks the
# softplus series per block of 64, the GPU per sample), so outputs may differ by a few ulp of |sigma|
# times that coefficient per neuron: the absolute bound is 32 eps |coef| max|sigma| per neuron
# (measured: at most a quarter of it, emulation against the AVX2 and AVX-512 targets).
def network_bound(net, activation, dtype, neurons, coef, reach):
    eps = float(np.finfo(dtype).eps)
    return 32 * eps * abs(coef) * _activation_peak(activation, net.bias, reach, dtype) * neurons


def random_circuit(seed, n_inputs=37, n_gates=400, n_outputs=23):
    rng = np.random.default_rng(seed)
    ops = rng.integers(0, 10, n_gates).astype(np.uint8)
    in0 = np.array([rng.integers(0, n_inputs + g) for g in range(n_gates)], np.int32)
    in1 = np.array([rng.integers(0, n_inputs + g) for g in range(n_gates)], np.int32)
    outputs = rng.integers(0, n_inputs + n_gates, n_outputs).astype(np.int32)
    return dc.Circuit(ops, in0, in1, outputs, [n_inputs], [n_outputs])




# ---- checks run on the CUDA device in use (real or emulated) against the CPU ----------------------


def check_philox(n, seed=0):
    rng = np.random.default_rng(seed)
    counter = rng.integers(0, 2**32, (n, 4), dtype=np.uint32)
    key = rng.integers(0, 2**32, (n, 2), dtype=np.uint32)
    got = dc.random.philox4x32(counter, key, device="cuda")
    assert got.shape == (n, 4) and got.dtype == np.uint32
    np.testing.assert_array_equal(got, dc.random.philox4x32(counter, key, device="cpu"))


def check_product_deep(dtype, activation, mode, scale, batch=333, n=13):
    """n = 13: odd levels, so carries run; batch not a multiple of 64 or 256."""
    net = dc.product_network(n, activation=activation, scale=scale, dtype=np.dtype(dtype).name, mode=mode)
    x = product_inputs(batch, n, dtype)
    got = net(x, device="cuda")
    want = net(x, device="cpu")
    assert got.dtype == dtype and got.shape == (batch,)
    if mode == "stable":
        assert relative_gap(got, want) <= 64 * np.finfo(dtype).eps
    else:
        # Every gate's inputs are products of |x| <= 1: pre-activations within bias +- 2 scale.
        bound = network_bound(net, activation, dtype, 4 * (n - 1) + 2 * 3, net._gate_coef, 2 * scale)
        assert np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) <= bound


def check_product_shallow(dtype, activation, batch=70, n=7, scale=0.5):
    net = dc.product_network(n, kind="shallow", activation=activation, scale=scale, dtype=np.dtype(dtype).name)
    x = product_inputs(batch, n, dtype, seed=1)
    got = net(x, device="cuda")
    want = net(x, device="cpu")
    bound = network_bound(net, activation, dtype, 2**n, net._monomials[0].out_coef, n * scale)
    assert np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) <= bound


def check_circuit(circuit, n_words, seed=7):
    words = np.random.default_rng(seed).integers(0, 2**64, (circuit.n_inputs, n_words), dtype=np.uint64)
    want = circuit.evaluate_packed(words, device="cpu", schedule="sequential")
    np.testing.assert_array_equal(circuit.evaluate_packed(words, device="cuda"), want)
