"""The CUDA drivers on a real GPU against the CPU drivers: Philox words and circuit outputs bit for
bit, product networks within the bounds stated in tests/cuda_cases.py (README "GPU path"). Skipped,
with the reason, where no GPU is usable; tests/test_cuda_emulated.py runs the same checks everywhere
through the CPU emulation of the same driver sources. Sizes here are large enough that every
grid-stride loop takes several strides (more items than the capped grid has threads).

Sections: philox, product, circuit; markov and ising ("sampling") add theirs below."""

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
    random_circuit,
)


def _why_no_gpu() -> str:
    with cuda.emulation(False):
        try:
            cuda.resolve_device("cuda")
        except RuntimeError as exc:
            return str(exc)
    return ""


_REASON = _why_no_gpu()
pytestmark = pytest.mark.skipif(bool(_REASON), reason=f"no usable CUDA device: {_REASON}")


@pytest.fixture(autouse=True)
def real_gpu():
    with cuda.emulation(False):
        yield


def test_module_is_real():
    assert cuda.is_available() and cuda.device_count() >= 1
    assert cuda.Device("cuda", 0).module.emulated is False


# ---- philox ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 257, 3_000_000])
def test_philox_bit_identical(n):
    check_philox(n, seed=n)


# ---- product --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("mode", ["network", "stable"])
@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_product_deep(dtype, activation, mode, scale):
    if mode == "stable" and activation == "gelu":
        pytest.skip("gelu has no stable form")
    check_product_deep(dtype, activation, mode, scale, batch=3_000_001 if scale == 0.1 else 4001)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["softplus", "exp", "tanh", "logistic"])
def test_product_shallow(dtype, activation):
    check_product_shallow(dtype, activation, batch=5000, n=10, scale=0.5)


def test_product_torch_cuda_tensor_stays_on_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    net = dc.product_network(8)
    x = torch.rand(1000, 8, dtype=torch.float64, device="cuda") + 0.5
    y = net(x)
    assert y.device == x.device
    np.testing.assert_allclose(y.cpu().numpy(), net(x.cpu().numpy(), device="cpu"), rtol=1e-9)


# ---- circuit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_words", [1, 1000, 300_000])
def test_circuit_random(n_words):
    check_circuit(random_circuit(n_words), n_words)


def test_circuit_sha256():
    check_circuit(dc.circuits.bristol("sha256"), 20_000, seed=8)


def test_circuit_aes():
    check_circuit(dc.circuits.bristol("aes_128"), 5_000, seed=9)


# ---- markov (sampling adds) -----------------------------------------------------------------------

# ---- ising (sampling adds) ------------------------------------------------------------------------
