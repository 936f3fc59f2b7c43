"""The CUDA drivers on a real GPU against the CPU drivers: Philox words and circuit outputs bit for
bit, product networks within the bounds stated in tests/cuda_cases.py (docs/guide/gpu.md). Skipped,
with the reason, where no GPU is usable; tests/test_cuda_emulated.py runs the same checks everywhere
through the CPU emulation of the same driver sources. Sizes here are large enough that every
grid-stride loop takes several strides (more items than the capped grid has threads).

Sections: philox, product, circuit, markov, ising, zero-copy, relu."""

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
    check_relu_lines,
    check_relu_planes,
    check_relu_sawtooth,
    random_circuit,
)
from deepcheap_native import cuda


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


@pytest.mark.parametrize("name", ["sha256", "adder64"])
def test_circuit_levelized(name):
    circuit = dc.circuits.bristol(name)
    words = np.random.default_rng(4).integers(0, 2**64, (circuit.n_inputs, 20_000), dtype=np.uint64)
    want = circuit.evaluate_packed(words, device="cpu")
    np.testing.assert_array_equal(circuit.evaluate_packed(words, device="cuda", schedule="levelized"), want)
    got = circuit.evaluate_packed(cuda.to_device(words), schedule="levelized")
    np.testing.assert_array_equal(got.get(), want)


def test_circuit_aes():
    check_circuit(dc.circuits.bristol("aes_128"), 5_000, seed=9)


# ---- markov ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("S", "return_path"), [(16, False), (300, True)])
def test_markov_chain_bit_identical(S, return_path):
    rng = np.random.default_rng(S)
    P = rng.random((S, S)) ** 2
    P /= P.sum(axis=1, keepdims=True)
    chain = dc.MarkovChain(P)
    n = 3_000_000 if not return_path else 400_000  # more chains than the capped grid has threads
    kw = dict(seed=7, return_path=return_path, first=2**32 - 1000, start_step=2)
    np.testing.assert_array_equal(chain.sample(n, 11, device="cuda", **kw), chain.sample(n, 11, device="cpu", **kw))


def test_hierarchical_chain_bit_identical():
    rng = np.random.default_rng(2)
    mats = [rng.dirichlet(np.ones(b), size=a) for a, b in [(4, 64), (64, 300), (300, 8)]]
    h = dc.HierarchicalChain(mats, np.full(4, 0.25))
    for a, b in zip(h.sample(2_500_000, seed=1, device="cuda"), h.sample(2_500_000, seed=1, device="cpu")):
        np.testing.assert_array_equal(a, b)


# ---- ising ----------------------------------------------------------------------------------------
# The lattice stays on the GPU between calls. Ising thresholds are computed once on the host, so the
# GPU reproduces the CPU bit for bit; Boltzmann heat-bath thresholds are computed per update with the
# package's own exp (deepcheap/common/exp.hpp: correctly rounded operations only), the same bits on
# both devices by construction.


@pytest.mark.parametrize(("L", "kw", "h"), [
    (2560, dict(replicas=64), 0.0),        # 3.3 M sites per colour: several grid strides
    (512, dict(replicas=128), 0.2),
    (512, dict(replicas=9, kernel="int8"), 0.1),
    (512, dict(replicas=9, algorithm="heatbath"), 0.0),
])
def test_ising_chain_bit_identical(L, kw, h):
    model = dc.IsingModel(L, h=h)
    gpu = model.sampler(2.27, seed=5, device="cuda", **kw)
    cpu_ = model.sampler(2.27, seed=5, device="cpu", **kw)
    a, b = gpu.run(2), cpu_.run(2)
    np.testing.assert_array_equal(a.m, b.m)
    np.testing.assert_array_equal(a.e, b.e)
    np.testing.assert_array_equal(gpu.spins, cpu_.spins)


def test_boltzmann_chain_bit_identical():
    rng = np.random.default_rng(3)
    terms = {(int(i), int(j)): float(rng.normal()) for i, j in rng.integers(0, 500, (2000, 2)) if i != j}
    gpu = dc.BoltzmannSampler(500, terms, temperature=1.2, replicas=4096, seed=1, device="cuda")
    cpu_ = dc.BoltzmannSampler(500, terms, temperature=1.2, replicas=4096, seed=1)
    np.testing.assert_array_equal(gpu.sweep(3).spins, cpu_.sweep(3).spins)
    np.testing.assert_array_equal(gpu.energy(), cpu_.energy())



@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
@pytest.mark.parametrize(("L", "replicas", "temperature"), [(256, 40, 2.269), (64, 300, 1.5), (2, 5, 2.0)])
def test_cluster_sampler_bit_identical(algorithm, L, replicas, temperature):
    check_cluster_sampler(algorithm, L, replicas, temperature)


# ---- zero-copy: device arrays of every kind in, the same kind out, on the same GPU ----------------


def _torch_put(a):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    return torch.as_tensor(a, device="cuda")


def _cupy_put(a):
    return pytest.importorskip("cupy").asarray(a)


PUTS = {"DeviceArray": cuda.to_device, "torch": _torch_put, "cupy": _cupy_put}


@pytest.mark.parametrize("put", PUTS.values(), ids=PUTS.keys())
@pytest.mark.parametrize("kind", ["deep", "shallow"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_resident(put, kind, dtype):
    check_product_resident(put, kind, dtype, batch=1_000_003, n=16 if kind == "deep" else 8)


@pytest.mark.parametrize("put", PUTS.values(), ids=PUTS.keys())
def test_philox_resident(put):
    check_philox_resident(put, batch=(3, 1_000_001))


@pytest.mark.parametrize("put", PUTS.values(), ids=PUTS.keys())
def test_circuit_resident(put):
    check_circuit_resident(put, dc.circuits.bristol("sha256"), 20_000)


@pytest.mark.parametrize("put", PUTS.values(), ids=PUTS.keys())
def test_markov_resident(put):
    check_markov_resident(put, n_chains=2_000_000)
    check_hierarchy_resident(put, n_chains=300_000)


def test_torch_out_is_written_in_place():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    net = dc.product_network(16, dtype="float32")
    x = torch.rand(100_000, 16, device="cuda") + 0.5
    out = torch.empty(100_000, device="cuda")
    pointer = out.data_ptr()
    assert net(x, out=out) is out and out.data_ptr() == pointer
    np.testing.assert_array_equal(out.cpu().numpy(), net(x.cpu().numpy(), device="cuda"))


def test_device_spins():
    s = dc.IsingModel(512).sampler(2.27, replicas=128, seed=3, device="cuda").sweep(2)
    np.testing.assert_array_equal(s.device_spins().get(), s.spins)
    b = dc.BoltzmannSampler(50, {(0, 1): 1.0, (1, 2): -0.5}, 1.0, replicas=1000, seed=1, device="cuda").sweep(2)
    np.testing.assert_array_equal(b.device_spins().get(), b.spins)


def test_torch_native_module_runs_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    net = dc.product_network(8, dtype="float32")
    module = net.to_torch(native=True).cuda()
    x = (torch.rand(4096, 8, device="cuda") + 0.5).requires_grad_()
    y = module(x)
    assert y.device == x.device
    np.testing.assert_array_equal(y.detach().cpu().numpy().reshape(-1), net(x.detach().cpu().numpy(), device="cuda"))
    y.sum().backward()
    assert x.grad is not None and x.grad.device == x.device
    gate = dc.multiplication_gate(x[:, 0], x[:, 1], activation="softplus", scale=0.1)
    assert gate.device == x.device
    np.testing.assert_allclose(gate.detach().cpu().numpy(), (x[:, 0] * x[:, 1]).detach().cpu().numpy(), rtol=1e-2)


def test_device_array_dlpack_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this torch build has no CUDA")
    a = cuda.to_device(np.arange(12, dtype=np.float32).reshape(3, 4))
    assert a.__dlpack_device__() == (2, 0)
    t = torch.from_dlpack(a)
    assert t.is_cuda and t.data_ptr() == a.__cuda_array_interface__["data"][0]
    del a
    assert t.cpu().tolist() == np.arange(12, dtype=np.float32).reshape(3, 4).tolist()


# ---- relu: the line walk, bit for bit (relu.cu has no FMA contraction, as the CPU driver) -------------


@pytest.mark.parametrize(("widths", "n_lines", "n_nets"), [
    ((3, 16, 16, 1), 70_000, 1),         # more items than one launch's 2^16: several launches per pass
    ((8, 64, 64, 64, 64, 1), 2_000, 3),  # deeper and wider, a batch of networks
    ((2, 8, 8, 8, 8, 8, 8, 8, 8, 1), 500, 2),
])
def test_relu_line_regions_bit_identical(widths, n_lines, n_nets):
    check_relu_lines(widths, n_lines=n_lines, n_nets=n_nets)


@pytest.mark.parametrize("k", [1, 12])
def test_relu_sawtooth(k):
    check_relu_sawtooth(k)


@pytest.mark.parametrize(("widths", "n_nets"), [
    ((2, 64, 64, 1), 2),                # a batch of networks, hundreds of first-layer cells (units) each
    ((3, 16, 16, 16, 16, 16, 1), 1),    # deep: long walks below each cell
])
def test_relu_plane_regions_bit_identical(widths, n_nets):
    check_relu_planes(widths, n_nets=n_nets, extent=(-3.0, 3.0, -3.0, 3.0))
