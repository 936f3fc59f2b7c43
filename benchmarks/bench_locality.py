"""−H/T of sampled 32x32 Ising lattices (issue 23): the conv HamiltonianNetwork (one fused native kernel:
periodic neighbourhood gather, the product area's gate math, the sum over sites), the same network the
unfused way ("gather": neighbourhoods gathered in numpy, the per-site product kernel, a numpy sum), its
torch export (Conv2d circular +
softplus gates, CPU) and a plain numpy roll-based exact energy, in one process, each checked against the
exact energy within the network's λ² bound.

    python -m pytest benchmarks/bench_locality.py --benchmark-enable --benchmark-group-by=group \
        --benchmark-columns=min,median,max

Full size: 4096 lattices (the issue's 10⁶ would take minutes per round on 2 shared cores; rates scale
linearly). DEEPCHEAP_BENCH_SIZE=small (the suite): 64 lattices of 16x16.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native.locality import LatticeHamiltonian, hamiltonian_network

SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"
L, BATCH = (16, 64) if SMALL else (32, 4096)
T = 2.5
_CACHE: dict = {}


def setup():
    if not _CACHE:
        model = dc.IsingModel(L)
        sampler = model.sampler(T, replicas=BATCH, seed=4)
        sampler.sweep(20)
        spins = np.asarray(sampler.spins)
        H = LatticeHamiltonian.from_ising(model)
        net = hamiltonian_network(H, T)
        _CACHE.update(spins=spins, H=H, net=net, exact=-H.energy(spins) / T)
    return _CACHE


def numpy_roll_energy(spins):
    s = spins.astype(np.float64)
    return -(-(s * np.roll(s, -1, axis=2)).sum(axis=(1, 2)) - (s * np.roll(s, -1, axis=1)).sum(axis=(1, 2))) / T


@pytest.mark.benchmark(group="locality-energy")
@pytest.mark.parametrize("impl", ["native", "gather", "torch", "numpy"])
def test_energy_rate(benchmark, impl):
    c = setup()
    if impl == "native":
        result = benchmark(c["net"], c["spins"])
    elif impl == "gather":
        result = benchmark(c["net"]._reference, c["spins"])
    elif impl == "torch":
        torch = pytest.importorskip("torch")
        module = c["net"].to_torch()
        x = torch.from_numpy(c["spins"])

        def run():
            with torch.no_grad():
                return module(x).numpy()

        result = benchmark(run)
    else:
        result = benchmark(numpy_roll_energy, c["spins"])
    tolerance = 0.0 if impl == "numpy" else c["net"].error_bound * 1.01 + 1e-9
    assert np.max(np.abs(result - c["exact"])) <= tolerance + 1e-9
    benchmark.extra_info["lattices_per_second"] = BATCH / benchmark.stats.stats.median
