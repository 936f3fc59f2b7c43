"""The CUDA drivers run on the CPU through _cuda_emulated (the same csrc/cuda/*.cu sources compiled as
C++; every launch is loops over blocks and threads). Checks the drivers' index arithmetic, layouts and
launch geometry against the CPU drivers: bit for bit for Philox and circuits, within the stated ulp
bounds for product networks. The device parser's errors are checked here too."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import cuda

emulated = pytest.importorskip("deepcheap_native._cuda_emulated", reason="built with DEEPCHEAP_CUDA_EMULATION=OFF")


@pytest.fixture
def emulation():
    with cuda.emulation():
        yield


# ---- device parsing -----------------------------------------------------------------------------


def test_parse_device():
    assert cuda.parse_device("cpu") == cuda.Device("cpu")
    assert cuda.parse_device("cuda") == cuda.Device("cuda", 0)
    assert cuda.parse_device("CUDA:3") == cuda.Device("cuda", 3)
    assert str(cuda.Device("cuda", 2)) == "cuda:2"
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'cuda:N'.*'gpu'"):
        cuda.parse_device("gpu")
    with pytest.raises(ValueError, match="cuda:-1"):
        cuda.parse_device("cuda:-1")
    with pytest.raises(TypeError, match="got int 0"):
        cuda.parse_device(0)


def test_resolve_device_defaults_to_cpu():
    assert cuda.resolve_device(None, np.zeros(3)) == cuda.Device("cpu")


def test_missing_cuda_names_the_missing_part():
    # Outside the emulation: either a real GPU is there, or the error says what is missing.
    if cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="cuda:0 requested but (this build|no CUDA device)"):
        cuda.resolve_device("cuda")


def test_emulated_device_count(emulation):
    assert cuda.is_available() and cuda.device_count() == 1
    with pytest.raises(RuntimeError, match=r"cuda:1 requested but only 1 CUDA device\(s\)"):
        cuda.resolve_device("cuda:1")


def test_native_device_check(emulation):
    with pytest.raises(ValueError, match="device cuda:2 requested but 1 CUDA device"):
        emulated.philox4x32(np.zeros((1, 4), np.uint32), np.zeros((1, 2), np.uint32), device=2)
    with pytest.raises(ValueError, match="CPU driver has one device, 0; got device 1"):
        dc._core.philox4x32(np.zeros((1, 4), np.uint32), np.zeros((1, 2), np.uint32), device=1)


# ---- Philox ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 5000])
def test_philox_bit_identical(emulation, n):
    rng = np.random.default_rng(n)
    counter = rng.integers(0, 2**32, (n, 4), dtype=np.uint32)
    key = rng.integers(0, 2**32, (n, 2), dtype=np.uint32)
    got = dc.random.philox4x32(counter, key, device="cuda")
    want = dc.random.philox4x32(counter, key, device="cpu")
    assert got.shape == (n, 4) and got.dtype == np.uint32
    np.testing.assert_array_equal(got, want)


def test_philox_known_answer(emulation):
    # Random123 kat_vectors: philox4x32 10, counter = key = all ones.
    out = dc.random.philox4x32(np.full((1, 4), 0xFFFFFFFF, np.uint32), np.full((1, 2), 0xFFFFFFFF, np.uint32),
                               device="cuda")
    np.testing.assert_array_equal(out[0], np.array([0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD], np.uint32))


# ---- product networks -----------------------------------------------------------------------------

ACTIVATIONS = ["softplus", "exp", "logistic", "tanh", "gelu"]


def _product_inputs(batch, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.0, (batch, n)) * rng.choice([-1.0, 1.0], (batch, n))
    return x.astype(dtype)


def _relative_gap(got, want):
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
def _network_bound(net, activation, dtype, neurons, coef, reach):
    eps = float(np.finfo(dtype).eps)
    return 32 * eps * abs(coef) * _activation_peak(activation, net.bias, reach, dtype) * neurons


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("mode", ["network", "stable"])
@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_product_deep_matches_cpu(emulation, dtype, activation, mode, scale):
    if mode == "stable" and activation == "gelu":
        pytest.skip("gelu has no stable form")
    n = 13  # odd levels: carries are exercised; batch not a multiple of 64 or of 256
    net = dc.product_network(n, activation=activation, scale=scale, dtype=np.dtype(dtype).name, mode=mode)
    x = _product_inputs(333, n, dtype)
    got = net(x, device="cuda")
    want = net(x, device="cpu")
    assert got.dtype == dtype and got.shape == (333,)
    if mode == "stable":
        assert _relative_gap(got, want) <= 64 * np.finfo(dtype).eps
    else:
        # Every gate's inputs are products of |x| <= 1: pre-activations within bias +- 2 scale.
        bound = _network_bound(net, activation, dtype, 4 * (n - 1) + 2 * 3, net._gate_coef, 2 * scale)
        gap = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))
        assert gap <= bound


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["softplus", "exp", "tanh"])
def test_product_shallow_matches_cpu(emulation, dtype, activation):
    n, scale = 7, 0.5
    net = dc.product_network(n, kind="shallow", activation=activation, scale=scale, dtype=np.dtype(dtype).name)
    x = _product_inputs(70, n, dtype, seed=1)
    got = net(x, device="cuda")
    want = net(x, device="cpu")
    coef = net._monomials[0].out_coef
    bound = _network_bound(net, activation, dtype, 2**n, coef, n * scale)
    assert np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) <= bound


def test_product_shallow_stable_matches_cpu(emulation):
    net = dc.product_network(9, kind="shallow", activation="exp", scale=0.1, mode="stable")
    x = _product_inputs(100, 9, np.float64, seed=2)
    assert _relative_gap(net(x, device="cuda"), net(x, device="cpu")) <= 64 * np.finfo(np.float64).eps


def test_product_polynomial_and_errors_on_cuda(emulation):
    poly = dc.polynomial_network([[2, 0, 1], [0, 1, 1]], [1.5, -2.0])
    x = _product_inputs(50, 3, np.float64, seed=3)
    np.testing.assert_allclose(poly(x, device="cuda"), poly(x, device="cpu"), rtol=1e-9)
    net = dc.product_network(4)
    bad = x[:, :3].copy()
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        net(bad, device="cuda")
    x4 = _product_inputs(5, 4, np.float64)
    x4[2, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        net(x4, device="cuda")
    with pytest.raises(ValueError, match="finite, but 1 of its values"):
        emulated.product_deep(x4, 0, False, 0.01, 0.0, 1.0, 1.0, 0, None, device=0)


def test_product_empty_batch(emulation):
    net = dc.product_network(5)
    assert net(np.zeros((0, 5)), device="cuda").shape == (0,)


# ---- circuits -------------------------------------------------------------------------------------


def _random_circuit(seed, n_inputs=37, n_gates=400, n_outputs=23):
    rng = np.random.default_rng(seed)
    ops = rng.integers(0, 10, n_gates).astype(np.uint8)
    in0 = np.array([rng.integers(0, n_inputs + g) for g in range(n_gates)], np.int32)
    in1 = np.array([rng.integers(0, n_inputs + g) for g in range(n_gates)], np.int32)
    outputs = rng.integers(0, n_inputs + n_gates, n_outputs).astype(np.int32)
    return dc.Circuit(ops, in0, in1, outputs, [n_inputs], [n_outputs])


@pytest.mark.parametrize("n_words", [0, 1, 63, 257, 1000])
def test_circuit_bit_identical(emulation, n_words):
    circuit = _random_circuit(n_words)
    words = np.random.default_rng(7).integers(0, 2**64, (circuit.n_inputs, n_words), dtype=np.uint64)
    got = circuit.evaluate_packed(words, device="cuda")
    want = circuit.evaluate_packed(words, device="cpu", schedule="sequential")
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(circuit.evaluate_packed(words, device="cuda", schedule="sequential"), want)


def test_circuit_sha256_bit_identical(emulation):
    sha = dc.circuits.bristol("sha256")
    words = np.random.default_rng(8).integers(0, 2**64, (sha.n_inputs, 3), dtype=np.uint64)
    np.testing.assert_array_equal(sha.evaluate_packed(words, device="cuda"), sha.evaluate_packed(words))


def test_circuit_cuda_errors(emulation):
    circuit = _random_circuit(1)
    words = np.zeros((circuit.n_inputs, 4), np.uint64)
    with pytest.raises(ValueError, match="levelized' is a CPU schedule"):
        circuit.evaluate_packed(words, device="cuda", schedule="levelized")
    core = emulated.CircuitCore(2, np.array([0], np.uint8), np.array([0], np.int32), np.array([1], np.int32),
                                np.array([2], np.int32))
    with pytest.raises(ValueError, match=r"words has 3 rows but expected 2"):
        core.evaluate_packed(np.zeros((3, 4), np.uint64), np.zeros((1, 4), np.uint64), 0, 0, 0)
    with pytest.raises(ValueError, match="schedule code 1 is not available on CUDA"):
        core.evaluate_packed(np.zeros((2, 4), np.uint64), np.zeros((1, 4), np.uint64), 1, 0, 0)
    with pytest.raises(ValueError, match="reads wire 5"):
        emulated.CircuitCore(2, np.array([0], np.uint8), np.array([5], np.int32), np.array([1], np.int32),
                             np.array([2], np.int32))
