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
