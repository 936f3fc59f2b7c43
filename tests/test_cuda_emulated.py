"""The CUDA drivers run on the CPU through _cuda_emulated (the same csrc/cuda/*.cu sources compiled as
C++; every launch is loops over blocks and threads). Checks the drivers' index arithmetic, layouts and
launch geometry against the CPU drivers: bit for bit for Philox and circuits, within the stated ulp
bounds for product networks. The device parser's errors are checked here too."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc
from cuda_cases import (
    ACTIVATIONS,
    check_circuit,
    check_circuit_resident,
    check_cluster_sampler,
    check_hierarchy_resident,
    check_markov_resident,
    check_philox,
    check_philox_resident,
    check_product_deep,
    check_product_resident,
    check_product_shallow,
    product_inputs,
    random_circuit,
    relative_gap,
)
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
    with pytest.raises(ValueError, match="schedule must be one of"):
        circuit.evaluate_packed(words, device="cuda", schedule="levelised")
    core = emulated.CircuitCore(2, np.array([0], np.uint8), np.array([0], np.int32), np.array([1], np.int32),
                                np.array([2], np.int32))
    with pytest.raises(ValueError, match=r"words has 3 rows but expected 2"):
        core.evaluate_packed(np.zeros((3, 4), np.uint64), np.zeros((1, 4), np.uint64), 0, 0, 0)
    with pytest.raises(ValueError, match="schedule code must be 0 \\(batch\\), 1 \\(levelized\\) or 2"):
        core.evaluate_resident(0, 0, 4, 3)
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


# ---- Markov chains (csrc/cuda/markov.cu) ----------------------------------------------------------


def _stochastic(rng, rows, cols):
    P = rng.random((rows, cols)) ** 2
    P[rng.random((rows, cols)) < 0.3] = 0.0
    P[np.arange(rows), rng.integers(0, cols, rows)] += 0.5
    return P / P.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("S", [2, 7, 300])
@pytest.mark.parametrize("return_path", [False, True])
@pytest.mark.parametrize(("init", "first", "start_step"), [(None, 0, 0), ("states", 5, 3), ("dist", 2**32 - 3, 0)])
def test_markov_chain_bit_identical(emulation, S, return_path, init, first, start_step):
    rng = np.random.default_rng(S)
    chain = dc.MarkovChain(_stochastic(rng, S, S))
    n = 300
    if init == "states":
        init = rng.integers(0, S, n)
    elif init == "dist":
        init = _stochastic(rng, 1, S)[0]
    kw = dict(init=init, seed=2**40 + 7, return_path=return_path, first=first, start_step=start_step)
    got = chain.sample(n, 9, device="cuda", **kw)
    want = chain.sample(n, 9, device="cpu", **kw)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_hierarchical_chain_bit_identical(emulation):
    rng = np.random.default_rng(1)
    sizes = [3, 300, 5, 5, 9]  # uint16 and uint8 levels: one uint16 array (the wider dtype)
    mats = [_stochastic(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    h = dc.HierarchicalChain(mats + [mats[-1].T[:, :9] / mats[-1].T[:, :9].sum(1, keepdims=True)], np.full(3, 1 / 3))
    got = h.sample(257, seed=3, first=11, device="cuda")
    want = h.sample(257, seed=3, first=11, device="cpu")
    assert got.dtype == want.dtype == np.uint16 and got.shape == want.shape == (257, 6)
    np.testing.assert_array_equal(got, want)
    same = dc.HierarchicalChain([mats[2], mats[2], mats[2]], np.full(5, 0.2))
    np.testing.assert_array_equal(same.sample(100, seed=4, device="cuda"), same.sample(100, seed=4))
    assert same.sample(0, device="cuda").shape == (0, 4)


def test_markov_device_errors(emulation):
    chain = dc.MarkovChain(np.eye(3))
    with pytest.raises(RuntimeError, match="cuda:1 requested"):
        chain.sample(3, 2, device="cuda:1")
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'cuda:N'"):
        chain.sample(3, 2, device="gpu")
    table = dc._core.markov_alias_tables(np.eye(3), 0.0, "P")
    with pytest.raises(ValueError, match="device cuda:3 requested"):
        emulated.markov_sample([table], np.zeros(2, np.int64), table[:1], None, 3, 0, "final", device=3)
    with pytest.raises(ValueError, match="step_levels\\[0\\] is 4"):
        emulated.markov_sample([table], np.full(2, 4, np.int64), table[:1], None, 3, 0, "final")


# ---- Ising and Boltzmann chains (csrc/cuda/ising.cu) -----------------------------------------------


@pytest.mark.parametrize(("kw", "h"), [
    (dict(replicas=64), 0.0),                          # multi-spin, the h = 0 two-class update
    (dict(replicas=128, first_replica=64), 0.25),      # multi-spin, general classes, replica offset
    (dict(replicas=5, kernel="int8", first_replica=3), 0.2),
    (dict(replicas=4, algorithm="heatbath"), -0.4),
])
def test_ising_chain_bit_identical(emulation, kw, h):
    model = dc.IsingModel(10, J=-0.9 if h < 0 else 1.0, h=h)
    gpu = model.sampler(2.1, seed=2**35 + 1, device="cuda", **kw)
    cpu_ = model.sampler(2.1, seed=2**35 + 1, device="cpu", **kw)
    np.testing.assert_array_equal(gpu.spins, cpu_.spins)
    series_gpu, series_cpu = gpu.run(6, measure_every=2), cpu_.run(6, measure_every=2)
    for a, b in zip(series_gpu, series_cpu):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(gpu.sweep(1).spins, cpu_.sweep(1).spins)
    assert gpu.sweeps_done == cpu_.sweeps_done == 7
    # The state stays on the device between calls; set and checkpoint round trips keep both in step.
    start = np.where(np.random.default_rng(0).random(cpu_.spins.shape) < 0.5, 1, -1).astype(np.int8)
    gpu.spins = start
    cpu_.spins = start
    np.testing.assert_array_equal(gpu.sweep(2).spins, cpu_.sweep(2).spins)
    moved = dc.IsingSampler.from_state(cpu_.state(), device="cuda")
    assert moved.device == cuda.Device("cuda", 0)
    np.testing.assert_array_equal(moved.sweep(3).spins, cpu_.sweep(3).spins)


def test_boltzmann_chain_bit_identical(emulation):
    rng = np.random.default_rng(4)
    terms = {}
    while len(terms) < 40:
        idx = tuple(sorted(int(i) for i in rng.choice(20, size=int(rng.integers(1, 5)), replace=False)))
        terms[idx] = float(rng.normal(scale=0.7))
    gpu = dc.BoltzmannSampler(20, terms, temperature=0.9, replicas=7, seed=5, first_replica=2, device="cuda")
    cpu_ = dc.BoltzmannSampler(20, terms, temperature=0.9, replicas=7, seed=5, first_replica=2)
    np.testing.assert_array_equal(gpu.spins, cpu_.spins)
    np.testing.assert_array_equal(gpu.sweep(5).spins, cpu_.sweep(5).spins)
    np.testing.assert_array_equal(gpu.energy(), cpu_.energy())
    run_gpu, run_cpu = gpu.run(4, return_spins=True), cpu_.run(4, return_spins=True)
    np.testing.assert_array_equal(run_gpu.energy, run_cpu.energy)
    np.testing.assert_array_equal(run_gpu.spins, run_cpu.spins)
    assert gpu.colours.tolist() == cpu_.colours.tolist() and gpu.n_colours == cpu_.n_colours


def test_ising_device_errors(emulation):
    with pytest.raises(RuntimeError, match="cuda:2 requested"):
        dc.IsingModel(4).sampler(2.0, device="cuda:2")
    with pytest.raises(ValueError, match="device cuda:1 requested"):
        emulated.IsingChain(4, 1.0, 0.0, 2.0, 64, False, True, 0, True, 0, device=1)
    with pytest.raises(ValueError, match="CPU driver has one device"):
        dc._core.IsingChain(4, 1.0, 0.0, 2.0, 64, False, True, 0, True, 0, device=1)
    with pytest.raises(ValueError, match="L must be even"):
        emulated.IsingChain(5, 1.0, 0.0, 2.0, 64, False, True, 0, True, 0)
    s = dc.IsingModel(4).sampler(2.0, replicas=2, kernel="int8", device="cuda")
    with pytest.raises(ValueError, match="only -1 and \\+1, but entry 5 is 0"):
        s._chain.set_spins(np.where(np.arange(32) == 5, 0, 1).astype(np.int8).reshape(2, 4, 4))


# ---- the zero-copy path: DeviceArray in, DeviceArray out (the emulated device's memory is host memory,
# so these run the resident entries, which take device addresses and skip every host copy) ----------


def test_device_array_round_trip(emulation):
    x = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    a = cuda.to_device(x)
    assert isinstance(a, cuda.DeviceArray) and a.shape == (2, 3, 4) and a.dtype == np.int16
    assert a.ndim == 3 and a.size == 24 and a.nbytes == 48 and len(a) == 2 and a.device == cuda.Device("cuda", 0)
    cai = a.__cuda_array_interface__
    assert cai["shape"] == (2, 3, 4) and cai["typestr"] == "<i2" and cai["version"] == 3 and cai["strides"] is None
    assert cai["data"][0] != 0 and cai["data"][1] is False
    np.testing.assert_array_equal(a.get(), x)
    np.testing.assert_array_equal(np.asarray(a), x)
    assert "shape=(2, 3, 4)" in repr(a) and "cuda:0" in repr(a)
    assert cuda.DeviceArray.empty((0, 5), np.float32).get().shape == (0, 5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.uint16, np.uint64, np.bool_])
def test_device_array_dlpack(emulation, dtype):
    # The emulated device's memory is host memory and says so, so numpy can be the consumer here: a view,
    # not a copy, that keeps the memory alive after the DeviceArray is gone.
    host = (np.arange(24) % 3).astype(dtype).reshape(2, 3, 4)
    a = cuda.to_device(host)
    assert a.__dlpack_device__() == (1, 0)
    view = np.from_dlpack(a)
    assert view.dtype == dtype and view.shape == (2, 3, 4)
    assert view.ctypes.data == a.__cuda_array_interface__["data"][0]
    del a
    np.testing.assert_array_equal(view, host)
    with pytest.raises(BufferError, match="copy=True"):
        cuda.to_device(host).__dlpack__(copy=True)


def test_device_array_dlpack_to_torch(emulation):
    torch = pytest.importorskip("torch")
    a = cuda.to_device(np.arange(6, dtype=np.float32).reshape(2, 3))
    t = torch.from_dlpack(a)
    assert t.data_ptr() == a.__cuda_array_interface__["data"][0]
    del a
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_device_array_pickles_through_the_host(emulation):
    import pickle

    a = cuda.to_device(np.arange(6, dtype=np.float32).reshape(2, 3))
    b = pickle.loads(pickle.dumps(a))
    assert isinstance(b, cuda.DeviceArray) and b.shape == (2, 3) and b.dtype == np.float32
    assert b.__cuda_array_interface__["data"][0] != a.__cuda_array_interface__["data"][0]
    np.testing.assert_array_equal(b.get(), a.get())


def test_device_array_errors(emulation):
    with pytest.raises(ValueError, match="'cuda' or 'cuda:N' for a DeviceArray, got 'cpu'"):
        cuda.to_device(np.zeros(3), device="cpu")
    with pytest.raises(TypeError, match="takes numbers, got dtype <U1"):
        cuda.to_device(np.array(["a"]))
    with pytest.raises(ValueError, match="negative"):
        cuda.DeviceArray.empty((2, -1), np.float32)
    with pytest.raises(TypeError, match="shape must be an integer, got float 2.5"):
        cuda.DeviceArray.empty((2.5,), np.float32)
    with pytest.raises(ValueError, match="rectangular array of numbers"):
        cuda.to_device([[1, 2], [3]])
    with pytest.raises(TypeError, match="holds numbers, got dtype object"):
        cuda.DeviceArray.empty(3, object)
    with pytest.raises(ValueError, match="copy=False"):
        np.asarray(cuda.to_device(np.zeros(3)), copy=False)
    with pytest.raises(RuntimeError, match="cuda:1 requested"):
        cuda.to_device(np.zeros(3), device="cuda:1")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["deep", "shallow"])
def test_product_resident(emulation, kind, dtype):
    check_product_resident(cuda.to_device, kind, dtype, n=13 if kind == "deep" else 7)


def test_product_resident_errors(emulation):
    net = dc.product_network(4, dtype="float32")
    x = np.full((5, 4), 0.5, np.float32)
    with pytest.raises(TypeError, match="x has dtype float64 on the GPU but expected float32"):
        net(cuda.to_device(x.astype(np.float64)))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\), got \(5, 3\)"):
        net(cuda.to_device(x[:, :3]))
    bad = x.copy()
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match="x must be finite, but 1 of its values are NaN or infinite"):
        net(cuda.to_device(bad))
    with pytest.raises(TypeError, match="out must be a device array on cuda:0"):
        net(cuda.to_device(x), out=np.zeros(5, np.float32))
    with pytest.raises(ValueError, match=r"out has shape \(4,\) and dtype float32 but expected \(5,\)"):
        net(cuda.to_device(x), out=cuda.to_device(np.zeros(4, np.float32)))
    # device="cpu" with a device input: copied to the host, computed there, returned as the input's kind.
    got = net(cuda.to_device(x), device="cpu")
    assert isinstance(got, cuda.DeviceArray)
    np.testing.assert_array_equal(got.get(), net(x))


def test_polynomial_network_with_device_input(emulation):
    # Polynomials (several products) take the host path; the result still comes back on the device.
    poly = dc.polynomial_network([[1, 1, 0], [0, 0, 1], [0, 0, 0]], [2.0, -1.0, 0.5])
    x = product_inputs(50, 3, np.float64, seed=3)
    got = poly(cuda.to_device(x))
    assert isinstance(got, cuda.DeviceArray)
    np.testing.assert_array_equal(got.get(), poly(x, device="cuda"))


def test_resident_needs_c_contiguous(emulation):
    base = cuda.to_device(np.zeros((4, 6), np.float64))

    class Strided:  # a foreign __cuda_array_interface__ array: every other column of `base`
        __cuda_array_interface__ = {"shape": (4, 3), "typestr": "<f8", "data": (base._memory.address, False),
                                    "strides": (48, 16), "version": 3}

    with pytest.raises(ValueError, match=r"x must be C-contiguous on the GPU, got strides \(48, 16\)"):
        dc.product_network(3)(Strided())


def test_resident_refuses_host_memory(emulation):
    host = np.zeros((4, 3), np.float64)

    class HostPointer:  # a __cuda_array_interface__ that points at host memory
        __cuda_array_interface__ = {"shape": (4, 3), "typestr": "<f8", "data": (host.ctypes.data, False),
                                    "strides": None, "version": 3}

    with pytest.raises(ValueError, match="x says it is on cuda:0 .* but its address is host memory"):
        dc.product_network(3)(HostPointer())
    on_device = cuda.to_device(host)
    address = on_device.__cuda_array_interface__["data"][0]
    assert emulated.check_address(address, 0, "x") is None
    assert emulated.check_address(address + 8 * 11, 0, "x") is None  # inside the allocation
    with pytest.raises(ValueError, match="device cuda:1 requested"):
        emulated.check_address(address, 1, "x")
    del on_device  # freed: the address is no longer device memory
    with pytest.raises(ValueError, match="host memory"):
        emulated.check_address(address, 0, "x")


def test_emulated_device_array_is_not_gpu_memory():
    with cuda.emulation():
        a = cuda.to_device(np.zeros((2, 4)))
    if cuda.is_available():
        with pytest.raises(RuntimeError, match="made by deepcheap_native._cuda_emulated"):
            dc.product_network(4)(a, device="cuda")
    else:
        with pytest.raises(RuntimeError, match="cuda:0 requested but"):
            dc.product_network(4)(a)


def test_philox_resident(emulation):
    check_philox_resident(cuda.to_device)
    c = cuda.to_device(np.zeros((3, 4), np.uint32))
    with pytest.raises(TypeError, match="counter is on cuda:0 but key is on the host"):
        dc.random.philox4x32(c, np.zeros((3, 2), np.uint32))
    with pytest.raises(ValueError, match=r"same batch shape \(no broadcasting\), got \(3,\) and \(1,\)"):
        dc.random.philox4x32(c, cuda.to_device(np.zeros((1, 2), np.uint32)))
    with pytest.raises(TypeError, match="key has dtype uint64 on the GPU but expected uint32"):
        dc.random.philox4x32(c, cuda.to_device(np.zeros((3, 2), np.uint64)))
    with pytest.raises(ValueError, match=r"key must have shape \(\.\.\., 2\), got \(3, 3\)"):
        dc.random.philox4x32(c, cuda.to_device(np.zeros((3, 3), np.uint32)))


@pytest.mark.parametrize("n_words", [1, 300])
def test_circuit_resident(emulation, n_words):
    check_circuit_resident(cuda.to_device, random_circuit(5), n_words)


def test_circuit_resident_errors(emulation):
    circuit = random_circuit(6)
    with pytest.raises(ValueError, match=r"words must have shape \(n_inputs=37, n_words\), got \(36, 3\)"):
        circuit.evaluate_packed(cuda.to_device(np.zeros((36, 3), np.uint64)))


@pytest.mark.parametrize("n_words", [1, 130])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_circuit_levelized_on_cuda(emulation, seed, n_words):
    """One launch per level, one thread per (gate, word): the CPU's outputs bit for bit, host and
    device arrays alike."""
    circuit = random_circuit(seed, n_gates=300 + 50 * seed)
    words = np.random.default_rng(seed).integers(0, 2**64, (circuit.n_inputs, n_words), dtype=np.uint64)
    want = circuit.evaluate_packed(words, device="cpu", schedule="sequential")
    np.testing.assert_array_equal(circuit.evaluate_packed(words, device="cuda", schedule="levelized"), want)
    got = circuit.evaluate_packed(cuda.to_device(words), schedule="levelized")
    np.testing.assert_array_equal(got.get(), want)


def test_circuit_levelized_on_cuda_real_circuit(emulation):
    adder = dc.circuits.bristol("adder64")  # the published 64-bit adder: a deep, narrow circuit
    words = np.random.default_rng(3).integers(0, 2**64, (adder.n_inputs, 3), dtype=np.uint64)
    np.testing.assert_array_equal(adder.evaluate_packed(words, device="cuda", schedule="levelized"),
                                  adder.evaluate_packed(words, device="cpu"))


def test_markov_resident(emulation):
    check_markov_resident(cuda.to_device)
    P = cuda.to_device(np.array([[0.5, 0.5], [0.1, 0.9]]))
    with pytest.raises(ValueError, match="out= is a host array"):
        dc.MarkovChain(P).sample(4, 2, out=np.zeros(4, np.uint8))


def test_hierarchy_resident(emulation):
    check_hierarchy_resident(cuda.to_device)
    check_hierarchy_resident(cuda.to_device, sizes=(4, 6, 3))


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
def test_ising_device_spins(emulation, algorithm):
    s = dc.IsingModel(12).sampler(2.2, replicas=128, seed=9, algorithm=algorithm, device="cuda")
    assert s._chain.multispin == (algorithm == "metropolis")
    s.sweep(4)
    spins = s.device_spins()
    assert isinstance(spins, cuda.DeviceArray) and spins.shape == (128, 12, 12) and spins.dtype == np.int8
    np.testing.assert_array_equal(spins.get(), s.spins)
    np.testing.assert_array_equal(spins.get(), dc.IsingModel(12).sampler(2.2, replicas=128, seed=9,
                                                                         algorithm=algorithm).sweep(4).spins)
    with pytest.raises(ValueError, match="runs on cpu"):
        dc.IsingModel(12).sampler(2.2, replicas=64).device_spins()


def test_boltzmann_device_spins(emulation):
    terms = [((0, 1), 1.0), ((1, 2), -0.5), ((0, 2, 3), 0.25)]
    s = dc.BoltzmannSampler(4, terms, 1.5, replicas=10, seed=2, device="cuda").sweep(3)
    np.testing.assert_array_equal(s.device_spins().get(), s.spins)


# ---- cluster samplers: Wolff (one thread per replica) and Swendsen-Wang (label propagation) ---------


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
@pytest.mark.parametrize(("L", "replicas", "temperature"), [
    (2, 3, 2.0),     # the smallest torus: left and right (up and down) are the same site
    (6, 4, 2.269),   # not a power of two, critical
    (16, 3, 1.2),    # cold: one cluster spans the lattice (long label propagation)
    (16, 2, 6.0),    # hot: many small clusters
])
def test_cluster_sampler_bit_identical(emulation, algorithm, L, replicas, temperature):
    check_cluster_sampler(algorithm, L, replicas, temperature)


def test_cluster_sampler_on_device(emulation):
    s = dc.IsingModel(8).sampler(2.3, replicas=4, algorithm="swendsen-wang", seed=1, device="cuda")
    assert s.device == cuda.Device("cuda", 0) and s._chain.__class__.__module__.endswith("_cuda_emulated")
    s.sweep(2)
    np.testing.assert_array_equal(s.device_spins().get(), s.spins)
    up = np.ones((4, 8, 8), np.int8)
    s.spins = up
    np.testing.assert_array_equal(s.spins, up)
    with pytest.raises(ValueError, match="spins must hold only -1 and \\+1, but entry 0 is 0"):
        s._chain.set_spins(np.zeros((4, 8, 8), np.int8))
    with pytest.raises(ValueError, match="cluster updates need a ferromagnet"):
        emulated.IsingClusterChain(8, -1.0, 2.0, 4, 0, 1, 0, 0, 1, device=0)
    w = dc.IsingModel(8).sampler(2.3, replicas=2, algorithm="wolff", seed=1, device="cuda").sweep(3)
    w2 = dc.ising.cluster.ClusterSampler.from_state(w.state(), device="cuda")
    np.testing.assert_array_equal(w2.sweep(2).spins, w.sweep(2).spins)


# ---- the CuPy branches, through a CuPy stand-in over the emulated device (tests/fake_cupy.py) -------


@pytest.fixture
def fake_cupy(emulation):
    import fake_cupy

    fake_cupy.calls.clear()
    return fake_cupy


def test_cupy_like_arrays_stay_cupy_like(fake_cupy):
    put = fake_cupy.asarray
    check_product_resident(put, "deep", np.float32)
    check_philox_resident(put)
    check_circuit_resident(put, random_circuit(7), 100)
    check_markov_resident(put)
    check_hierarchy_resident(put)
    assert "ascontiguousarray" in fake_cupy.calls


def test_cupy_like_inputs_are_converted_by_their_library(fake_cupy):
    net = dc.product_network(6, dtype="float32")
    x = product_inputs(40, 6, np.float64, seed=4)
    got = net(fake_cupy.asarray(x))  # float64 in: converted on the device with the array's own astype
    assert isinstance(got, fake_cupy.ndarray) and "astype" in fake_cupy.calls
    np.testing.assert_array_equal(got.get(), net(x.astype(np.float32), device="cuda"))
    poly = dc.polynomial_network([[1, 1, 0], [0, 0, 2]], [1.0, 3.0])
    got = poly(fake_cupy.asarray(x[:, :3]))  # the host path, returned through the library's asarray
    assert isinstance(got, fake_cupy.ndarray)
    np.testing.assert_array_equal(got.get(), poly(x[:, :3], device="cuda"))


def test_cupy_like_out_is_never_converted(fake_cupy):
    """A strided CuPy out= must be refused, not made contiguous: a contiguous copy would take the result
    and leave the caller's array unchanged."""
    net = dc.product_network(4, dtype="float32")
    x = fake_cupy.asarray(np.full((6, 4), 0.5, np.float32))

    class Strided(fake_cupy.ndarray):  # every other element of a 12-element array
        @property
        def __cuda_array_interface__(self):
            return dict(self._a.__cuda_array_interface__, shape=(6,), strides=(8,))

    out = Strided(cuda.to_device(np.zeros(12, np.float32)))
    with pytest.raises(ValueError, match=r"out must be C-contiguous on the GPU, got strides \(8,\)"):
        net(x, out=out)
    assert fake_cupy.calls.count("ascontiguousarray") == 1  # x's own conversion only
