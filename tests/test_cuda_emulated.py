"""The CUDA drivers run on the CPU through _cuda_emulated (the same csrc/cuda/*.cu sources compiled as
C++; every launch is loops over blocks and threads). Checks the drivers' index arithmetic, layouts and
launch geometry against the CPU drivers: bit for bit for Philox and circuits, within the stated ulp
bounds for product networks. The device parser's errors are checked here too."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import cuda
from cuda_cases import (
    ACTIVATIONS,
    check_circuit,
    check_philox,
    check_product_deep,
    check_product_shallow,
    product_inputs,
    random_circuit,
    relative_gap,
)

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
    check_philox(n, seed=n)


def test_philox_known_answer(emulation):
    # Random123 kat_vectors: philox4x32 10, counter = key = all ones.
    out = dc.random.philox4x32(np.full((1, 4), 0xFFFFFFFF, np.uint32), np.full((1, 2), 0xFFFFFFFF, np.uint32),
                               device="cuda")
    np.testing.assert_array_equal(out[0], np.array([0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD], np.uint32))


# ---- product networks -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("mode", ["network", "stable"])
@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_product_deep_matches_cpu(emulation, dtype, activation, mode, scale):
    if mode == "stable" and activation == "gelu":
        pytest.skip("gelu has no stable form")
    check_product_deep(dtype, activation, mode, scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["softplus", "exp", "tanh"])
def test_product_shallow_matches_cpu(emulation, dtype, activation):
    check_product_shallow(dtype, activation)


def test_product_shallow_stable_matches_cpu(emulation):
    net = dc.product_network(9, kind="shallow", activation="exp", scale=0.1, mode="stable")
    x = product_inputs(100, 9, np.float64, seed=2)
    assert relative_gap(net(x, device="cuda"), net(x, device="cpu")) <= 64 * np.finfo(np.float64).eps


def test_product_polynomial_and_errors_on_cuda(emulation):
    poly = dc.polynomial_network([[2, 0, 1], [0, 1, 1]], [1.5, -2.0])
    x = product_inputs(50, 3, np.float64, seed=3)
    np.testing.assert_allclose(poly(x, device="cuda"), poly(x, device="cpu"), rtol=1e-9)
    net = dc.product_network(4)
    bad = x[:, :3].copy()
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        net(bad, device="cuda")
    x4 = product_inputs(5, 4, np.float64)
    x4[2, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        net(x4, device="cuda")
    with pytest.raises(ValueError, match="finite, but 1 of its values"):
        emulated.product_deep(x4, 0, False, 0.01, 0.0, 1.0, 1.0, 0, None, device=0)


def test_product_empty_batch(emulation):
    net = dc.product_network(5)
    assert net(np.zeros((0, 5)), device="cuda").shape == (0,)


# ---- circuits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_words", [0, 1, 63, 257, 1000])
def test_circuit_bit_identical(emulation, n_words):
    circuit = random_circuit(n_words)
    check_circuit(circuit, n_words)
    words = np.random.default_rng(1).integers(0, 2**64, (circuit.n_inputs, n_words), dtype=np.uint64)
    np.testing.assert_array_equal(circuit.evaluate_packed(words, device="cuda", schedule="sequential"),
                                  circuit.evaluate_packed(words))


def test_circuit_sha256_bit_identical(emulation):
    check_circuit(dc.circuits.bristol("sha256"), 3, seed=8)


def test_circuit_cuda_errors(emulation):
    circuit = random_circuit(1)
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


def test_cuda_modules_import_together():
    """_core, _cuda (when built) and _cuda_emulated each register their own CircuitCore (module-local
    pybind11 classes): importing and using all of them in one process must work."""
    import importlib

    modules = [dc._core, emulated]
    try:
        modules.append(importlib.import_module("deepcheap_native._cuda"))
    except ImportError:
        pass
    core = dc._core.CircuitCore(2, np.array([0], np.uint8), np.array([0], np.int32), np.array([1], np.int32),
                                np.array([2], np.int32))
    assert core.n_gates == 1
    assert emulated.CircuitCore(2, np.array([1], np.uint8), np.array([0], np.int32), np.array([1], np.int32),
                                np.array([2], np.int32)).n_gates == 1
    assert all(hasattr(m, "CircuitCore") for m in modules)
