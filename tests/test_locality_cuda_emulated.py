"""The locality energies' CUDA driver (csrc/cuda/locality.cu) run through _cuda_emulated against the CPU
kernel, bit for bit: the same header math (locality::block_totals, the per-block path choice) and the
same order of the sum over sites (locality::add_sites)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import simd
from deepcheap_native import cuda
from deepcheap_native.locality import LatticeHamiltonian, hamiltonian_network

pytest.importorskip("deepcheap_native._cuda_emulated", reason="built with DEEPCHEAP_CUDA_EMULATION=OFF")

ISING_H = [(-1.0, [(0, 0), (0, 1)]), (-1.0, [(0, 0), (1, 0)]), (-0.3, [(0, 0)])]
PLAQUETTE = [(-1.0, [(0, 0), (0, 1)]), (0.25, [(0, 0), (0, 1), (1, 0)]), (-0.5, [(0, 0), (0, 1), (1, 0), (1, 1)]),
             (0.2, [(0, 0)])]


def spins(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", ["conv", "dense"])
@pytest.mark.parametrize(("L", "terms", "scale"), [(8, ISING_H, 0.05), (5, PLAQUETTE, 0.05), (3, ISING_H, 0.25),
                                                   (9, PLAQUETTE, 0.25)])
def test_emulated_equals_cpu(dtype, form, L, terms, scale):
    # scale 0.25: first-level reach 2 * 0.25 = the softplus series range, so blocks may mix paths
    net = hamiltonian_network(LatticeHamiltonian(L, terms), 1.3, form=form, dtype=dtype, scale=scale)
    s = spins((21, L, L), seed=L)
    with simd("scalar"):
        want = net(s)
    np.testing.assert_array_equal(net(s), want)
    with cuda.emulation():
        got = net(s, device="cuda")
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)


def test_emulated_torch_and_errors():
    torch = pytest.importorskip("torch")
    net = hamiltonian_network(LatticeHamiltonian(4, PLAQUETTE), 1.0)
    s = spins((6, 4, 4), seed=3)
    with cuda.emulation():
        got = net(torch.from_numpy(s), device="cuda")
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), net(s))
        with pytest.raises(ValueError, match=r"only -1 and \+1"):
            net(np.full((2, 4, 4), 2), device="cuda")
        with pytest.raises(ValueError, match="shape"):
            net(np.ones((2, 4, 5)), device="cuda")
        module = cuda.Device("cuda").module
        with pytest.raises(ValueError, match=r"only -1 and \+1"):
            module.locality_energy(np.full((2, 4, 4), 2, dtype=np.int8), **net._native)
        with pytest.raises(ValueError, match="start"):
            module.locality_energy(s, **{**net._native, "start": net._native["start"][::-1].copy()})
        with pytest.raises(RuntimeError, match="cuda:1"):
            net(s, device="cuda:1")


def test_emulated_chunks_poll_and_agree():
    net = hamiltonian_network(LatticeHamiltonian(4, ISING_H), 1.0)
    s = spins((30, 4, 4), seed=5)
    want = net(s)
    with cuda.emulation():
        module = cuda.Device("cuda").module
        old = module._set_interrupt_chunk(7)
        try:
            polls = module._interrupt_polls()
            np.testing.assert_array_equal(net(s, device="cuda"), want)
            assert module._interrupt_polls() > polls
        finally:
            module._set_interrupt_chunk(old)
    assert net(s[:0]).shape == (0,)
