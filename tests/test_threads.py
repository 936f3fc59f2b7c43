"""Per-call ``threads=`` (docs/guide/design.md: Conventions): every hot path takes it, it is validated once
(``core.validate.check_threads``: None or an int in [1, 1024]), it is a per-OS-thread override in the core,
so concurrent callers with different counts do not interfere, and no result depends on it. Each area's
entry point is run on 1 and 2 threads at a size its kernel splits across threads, and compared bit
for bit (the reference: the same call on one thread, i.e. the serial loop)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import _core, census, circuits
from deepcheap_native.circuit.space import random_input_words, range_input_words
from deepcheap_native.core.validate import call_threads
from deepcheap_native.ising.stats import _scan_job


def _chain(seed: int = 3, states: int = 5) -> np.ndarray:
    P = np.random.default_rng(seed).random((states, states))
    return P / P.sum(axis=1, keepdims=True)


def _hierarchy() -> dc.HierarchicalChain:
    rng = np.random.default_rng(4)
    matrices = []
    for a, b in ((3, 4), (4, 2)):
        M = rng.random((a, b))
        matrices.append(M / M.sum(axis=1, keepdims=True))
    return dc.HierarchicalChain(matrices, np.full(3, 1 / 3))


def _adder_pair() -> tuple[dc.Circuit, dc.Circuit]:
    return circuits.kogge_stone_adder(8), circuits.ripple_carry_adder(8)


# Every hot path, as a function of threads= returning what must not depend on it. Sizes: above each
# kernel's threading threshold (Markov: 2^16 chains or 2^17 transitions; Ising: several row chunks).
def _sweep(sampler_kwargs: dict, L: int = 64) -> object:
    def run(threads):
        sampler = dc.IsingModel(L).sampler(2.3, seed=11, **sampler_kwargs)
        sampler.sweep(3, threads=threads)
        series = sampler.run(4, threads=threads)
        return sampler.spins, series.m, series.e
    return run


def _boltzmann(threads):
    n = 40
    terms = [((i, (i + 1) % n), 1.0) for i in range(n)] + [((i, (i + 3) % n, (i + 7) % n), 0.5) for i in range(n)]
    sampler = dc.BoltzmannSampler(n, terms, 1.5, replicas=2048, seed=5)  # > 1 chunk of ~550 replicas
    series = sampler.run(6, measure_every=2, return_spins=True, threads=threads)
    sampler.sweep(2, threads=threads)
    return series.energy, series.spins, sampler.spins


def _cluster(algorithm):
    def run(threads):
        sampler = dc.IsingModel(16).sampler(2.27, algorithm=algorithm, replicas=8, seed=2)
        sampler.sweep(2, threads=threads)
        series = sampler.run(3, threads=threads)
        return sampler.spins, series.m, series.clusters, series.flipped
    return run


def _min_units(threads):
    census.threshold._MIN_UNITS.clear()  # the table is cached per process: recompute it on these threads
    return [census.min_hidden_units(t, n=3, threads=threads) for t in (0x96, 0x17, 0xE8, 0x69)]


HOT_PATHS = {
    "ProductNetwork.__call__": lambda t: dc.product_network(8, dtype=np.float64)(
        np.random.default_rng(1).standard_normal((20000, 8)), threads=t),
    "ProductNetwork.__call__ polynomial": lambda t: dc.polynomial_network([[2, 1], [0, 3]], [1.0, -0.5])(
        np.random.default_rng(2).standard_normal((20000, 2)), threads=t),
    "multiplication_gate": lambda t: dc.multiplication_gate(np.linspace(-1, 1, 50000), np.linspace(2, -2, 50000),
                                                            threads=t),
    "MarkovChain.sample": lambda t: dc.MarkovChain(_chain()).sample(70000, 3, seed=9, return_path=True, threads=t),
    "MarkovChain.sample transitions": lambda t: dc.MarkovChain(_chain()).sample(2048, 128, seed=9, threads=t),
    "HierarchicalChain.sample": lambda t: _hierarchy().sample(70000, seed=8, threads=t),
    "IsingSampler multispin": _sweep({"replicas": 128}),
    "IsingSampler int8 heatbath": _sweep({"replicas": 4, "algorithm": "heatbath"}),
    "block_spin": lambda t: dc.block_spin(np.where(np.random.default_rng(3).random((64, 32, 32)) < 0.5, -1, 1), 2,
                                          seed=4, threads=t),
    "BoltzmannSampler": _boltzmann,
    "ClusterSampler wolff": _cluster("wolff"),
    "ClusterSampler swendsen-wang": _cluster("swendsen-wang"),
    "finite_size_scan job": lambda t: _scan_job(8, 2.27, "wolff", 8, 0, 1, 2, 4, 1, t),
    "random.philox4x32": lambda t: dc.random.philox4x32(
        np.arange(4 * 50000, dtype=np.uint32).reshape(-1, 4), np.array([7, 8], np.uint32), threads=t),
    "census.threshold_functions": lambda t: census.threshold_functions(5, threads=t),
    "census.threshold_tables": lambda t: census.threshold_tables(5, threads=t),
    "census.min_hidden_units": _min_units,
    "census.depth2_functions": lambda t: (census.threshold._MIN_UNITS.clear(), census.depth2_functions(3, 2, threads=t))[1],
    "circuit range_input_words": lambda t: range_input_words(20, 12345, 1 << 16, threads=t),
    "circuit random_input_words": lambda t: random_input_words(20, 0, 1 << 16, seed=3, threads=t),
    "Circuit.evaluate_range": lambda t: _adder_pair()[0].evaluate_range(0, 1 << 16, chunk=1 << 12, threads=t),
    "Circuit.count_output_patterns": lambda t: _adder_pair()[0].count_output_patterns(0, 1 << 16, threads=t),
    "circuits.equivalent": lambda t: circuits.equivalent(*_adder_pair(), exhaustive_bits=16, chunk=1 << 12,
                                                         threads=t),
    "to_torch(native=True) module": lambda t: _native_module(t),
    "Circuit.evaluate_bits": lambda t: _adder_pair()[1].evaluate_bits(
        np.random.default_rng(5).integers(0, 2, (4096, 16), dtype=np.uint8), threads=t),
}


def _native_module(threads):
    torch = pytest.importorskip("torch")
    module = dc.product_network(8, dtype=np.float64).to_torch(native=True, threads=threads)
    x = torch.from_numpy(np.random.default_rng(6).standard_normal((20000, 8)))
    return module(x).numpy()


def _assert_same(a, b):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # bit for bit: no tolerance
    else:
        assert a == b


@pytest.mark.parametrize("name", list(HOT_PATHS))
def test_results_identical_on_one_and_two_threads(name):
    call = HOT_PATHS[name]
    one = call(1)
    _assert_same(call(2), one)
    _assert_same(call(None), one)  # the package setting (all cores here)


@pytest.mark.parametrize("name", list(HOT_PATHS))
@pytest.mark.parametrize(("bad", "error"), [("2", TypeError), (2.0, TypeError), (0, ValueError), (1025, ValueError)])
def test_bad_threads_named_in_the_error(name, bad, error):
    with pytest.raises(error, match="threads"):
        HOT_PATHS[name](bad)


def test_the_override_is_what_kernels_read_and_is_restored():
    setting = dc.get_num_threads()
    with call_threads(3):
        assert dc.get_num_threads() == 3  # the kernels' num_threads() on this OS thread
        with call_threads(None):
            assert dc.get_num_threads() == 3  # None: no change
        with call_threads(5):
            assert dc.get_num_threads() == 5
        assert dc.get_num_threads() == 3
    assert dc.get_num_threads() == setting
    with pytest.raises(RuntimeError), call_threads(2):
        raise RuntimeError("restored on the way out of an error too")
    assert dc.get_num_threads() == setting
    with pytest.raises(ValueError, match="0 clears it"):
        _core.set_thread_override(-1)  # the native check, for callers that bypass Python's


def test_the_override_covers_the_whole_call():
    """A progress callback runs between the native chunks of a run: it sees the call's count."""
    seen = []
    sampler = dc.IsingModel(8).sampler(2.0, replicas=4)
    sampler.run(40, progress=lambda done, total: seen.append(dc.get_num_threads()), threads=3)
    assert seen and set(seen) == {3}


def test_concurrent_callers_do_not_see_each_others_threads():
    """Two Python threads inside calls with different threads= at the same time: each reads its own
    count (a global would give one of them the other's), and the results equal the serial ones."""
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[int, int] = {}
    results: dict[int, object] = {}
    errors: list[BaseException] = []
    sample = HOT_PATHS["MarkovChain.sample transitions"]
    sweep = HOT_PATHS["IsingSampler multispin"]

    def worker(k: int) -> None:
        try:
            with call_threads(k):
                barrier.wait()  # both overrides are set now
                seen[k] = dc.get_num_threads()
                barrier.wait()
            results[k] = (sample(k), sweep(k))  # concurrently, on 1 and on 2 threads
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert seen == {1: 1, 2: 2}
    serial = (sample(None), sweep(None))
    _assert_same(results[1], serial)
    _assert_same(results[2], serial)


def test_census_estimates_are_for_the_calls_thread_count():
    assert census.estimate_seconds(7, threads=1) == pytest.approx(2 * census.estimate_seconds(7, threads=2))
    with pytest.raises(ValueError, match=r"on 1 threads"):
        census.threshold_functions(7, threads=1, max_seconds=1e-9)


def test_threads_inside_torch_compile():
    """A compiled graph runs the gate later, outside the call: threads= must not break the graph."""
    torch = pytest.importorskip("torch")
    u, v = torch.linspace(-1, 1, 7, dtype=torch.float64), torch.linspace(2, -2, 7, dtype=torch.float64)
    compiled = torch.compile(lambda a, b: dc.multiplication_gate(a, b, threads=2), fullgraph=True,
                             backend="aot_eager")
    torch.testing.assert_close(compiled(u, v), dc.multiplication_gate(u, v, threads=1), rtol=0, atol=0)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts the process's threads in Linux /proc")
def test_the_kernels_start_exactly_the_threads_asked_for():
    """The override reaches the kernels: in a fresh process (no OpenMP pool yet), calls on 1 thread
    start no worker, a call on 3 threads starts 2 and one on 5 starts 2 more (OpenMP keeps its pool)."""
    code = """if True:
        import os, numpy as np, deepcheap_native as dc
        tasks = lambda: len(os.listdir("/proc/self/task"))
        chain = dc.MarkovChain(np.array([[0.9, 0.1], [0.2, 0.8]]))
        counts = [tasks()]
        chain.sample(200_000, 4, seed=1, threads=1)
        counts.append(tasks())
        chain.sample(200_000, 4, seed=1, threads=3)
        counts.append(tasks())
        dc.random.philox4x32(np.zeros((100_000, 4), np.uint32), np.zeros(2, np.uint32), threads=5)
        counts.append(tasks())
        print(*counts)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    n0, n1, n3, n5 = map(int, result.stdout.split())
    assert (n1 - n0, n3 - n0, n5 - n0) == (0, 2, 4)


def test_native_torch_module_threads_reach_the_kernel():
    """The module's threads= is the override while its forward pass runs (and only then)."""
    torch = pytest.importorskip("torch")
    net = dc.product_network(4)
    seen = []
    real = net._evaluate

    def spy(*args):
        seen.append(dc.get_num_threads())
        return real(*args)

    net._evaluate = spy
    before = dc.get_num_threads()
    net.to_torch(native=True, threads=1)(torch.ones(3, 4, dtype=torch.float64))
    assert seen == [1] and dc.get_num_threads() == before
    with pytest.raises(ValueError, match="threads= applies to native=True modules"):
        net.to_torch(threads=2)
    with pytest.raises(ValueError, match="threads"):
        net.to_torch(native=True, threads=0)
