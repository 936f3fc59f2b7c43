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


# The stated bounds (docs/guide/gpu.md). Stable mode has no cancellation: the drivers differ only by
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


# ---- the zero-copy path: device arrays in, device arrays out --------------------------------------
# `put(numpy) -> device array` makes the inputs (dc.cuda.to_device; torch.as_tensor(..., device=)
# or cupy.asarray on a real GPU); results must come back as the same kind of array, on the device.


def host(a):
    """A numpy copy of a device array of any kind."""
    if type(a).__module__.startswith("torch"):
        return a.detach().cpu().numpy()
    if hasattr(a, "get"):
        return a.get()
    raise AssertionError(f"expected a device array, got {type(a).__name__}")


def same_kind(result, template):
    assert type(result) is type(template), f"result is {type(result).__name__}, input was {type(template).__name__}"
    assert dc.cuda.array_device(result) == dc.cuda.array_device(template)


def check_product_resident(put, kind, dtype, batch=333, n=13):
    # (shallow at λ = 0.5: a bit-identity check, and the float32 shallow default would warn that it is inaccurate)
    net = dc.product_network(n, kind=kind, dtype=np.dtype(dtype).name, mode="stable" if kind == "deep" else "network",
                             scale=None if kind == "deep" else 0.5)
    x = product_inputs(batch, n if kind == "deep" else n, dtype, seed=2)
    dx = put(x)
    got = net(dx)
    same_kind(got, dx)
    # The same kernels as the host path on the same device, so the same bits; the host path is held
    # to the CPU by the stated bounds (check_product_deep / check_product_shallow).
    np.testing.assert_array_equal(host(got), net(x, device="cuda"))
    out = put(np.zeros(batch, dtype))
    assert net(dx, out=out) is out
    np.testing.assert_array_equal(host(out), host(got))


def check_philox_resident(put, batch=(3, 171)):
    rng = np.random.default_rng(11)
    counter = rng.integers(0, 2**32, batch + (4,), dtype=np.uint32)
    key = rng.integers(0, 2**32, batch + (2,), dtype=np.uint32)
    dc_ = put(counter)
    got = dc.random.philox4x32(dc_, put(key))
    same_kind(got, dc_)
    assert tuple(got.shape) == batch + (4,)
    np.testing.assert_array_equal(host(got), dc.random.philox4x32(counter, key, device="cpu"))


def check_circuit_resident(put, circuit, n_words, seed=8):
    words = np.random.default_rng(seed).integers(0, 2**64, (circuit.n_inputs, n_words), dtype=np.uint64)
    want = circuit.evaluate_packed(words, device="cpu", schedule="sequential")
    dw = put(words)
    got = circuit.evaluate_packed(dw)
    same_kind(got, dw)
    np.testing.assert_array_equal(host(got), want)
    out = put(np.zeros_like(want))
    assert circuit.evaluate_packed(dw, out=out) is out
    np.testing.assert_array_equal(host(out), want)


def check_markov_resident(put, n_chains=1000, n_steps=37, S=5, seed=4):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=S)
    dP = put(P)
    for return_path in (False, True):
        got = dc.MarkovChain(dP).sample(n_chains, n_steps, seed=seed, return_path=return_path, first=3, start_step=2)
        same_kind(got, dP)
        want = dc.MarkovChain(P).sample(n_chains, n_steps, seed=seed, return_path=return_path, first=3, start_step=2)
        np.testing.assert_array_equal(host(got), want)
    init = rng.integers(0, S, n_chains).astype(np.uint32)
    got = dc.MarkovChain(P).sample(n_chains, n_steps, seed=seed, init=put(init), return_path=True)
    np.testing.assert_array_equal(host(got), dc.MarkovChain(P).sample(n_chains, n_steps, seed=seed, init=init,
                                                                       return_path=True))


def check_hierarchy_resident(put, sizes=(3, 300, 4), n_chains=500, seed=5):
    """By default a hierarchy whose levels need both state dtypes (S <= 256 and S > 256): one uint16 result."""
    rng = np.random.default_rng(seed)
    p0 = rng.dirichlet(np.ones(sizes[0]))
    mats = [rng.dirichlet(np.ones(b), size=a) for a, b in zip(sizes[:-1], sizes[1:])]
    got = dc.HierarchicalChain([put(M) for M in mats], put(p0)).sample(n_chains, seed=seed, first=7)
    want = dc.HierarchicalChain(mats, p0).sample(n_chains, seed=seed, first=7)
    assert want.dtype == (np.uint16 if max(sizes) > 256 else np.uint8)
    same_kind(got, put(p0))
    np.testing.assert_array_equal(host(got), want)


def check_cluster_sampler(algorithm, L, replicas, temperature, n_measure=3, every=2, seed=6, first_replica=5):
    """The GPU cluster chain against the CPU's: lattices, m, e, cluster counts and flips, bit for bit, over
    several measurements (the counters carry on), then a checkpoint moved from the GPU to the CPU."""
    model = dc.IsingModel(L)
    kw = dict(replicas=replicas, algorithm=algorithm, seed=seed, first_replica=first_replica)
    gpu = model.sampler(temperature, device="cuda", **kw)
    cpu = model.sampler(temperature, device="cpu", **kw)
    for _ in range(2):
        a, b = gpu.run(n_measure * every, measure_every=every), cpu.run(n_measure * every, measure_every=every)
        for field in ("m", "e", "clusters", "flipped"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        np.testing.assert_array_equal(gpu.spins, cpu.spins)
    assert gpu.sweeps_done == cpu.sweeps_done == 2 * n_measure * every
    np.testing.assert_array_equal(gpu.magnetization(), cpu.magnetization())
    moved = type(gpu).from_state(gpu.state(), device="cpu")
    np.testing.assert_array_equal(moved.sweep(3).spins, cpu.sweep(3).spins)


# ---- ReLU line walk: the CUDA driver runs the CPU's per-line function, so everything is bit for bit -----


def relu_same_regions(got, want):
    """Two LineRegions results are the same bits: counts, every breakpoint, every pattern."""
    np.testing.assert_array_equal(got.counts, want.counts)
    assert got._t.dtype == want._t.dtype == np.float64
    np.testing.assert_array_equal(got._t.view(np.uint64), want._t.view(np.uint64))
    if want._patterns is None:
        assert got._patterns is None
    else:
        assert got._patterns.shape == want._patterns.shape
        np.testing.assert_array_equal(got._patterns, want._patterns)


def check_relu_lines(widths, n_lines=25, n_nets=1, seed=3, bias_std=0.5, patterns=True, **kw):
    from deepcheap_native import relu

    nets = [relu.random_network(widths, seed=seed, index=i, bias_std=bias_std) for i in range(n_nets)]
    network = nets if n_nets > 1 else nets[0]
    got = relu.linear_regions(network, lines=n_lines, seed=seed + 1, patterns=patterns, device="cuda", **kw)
    want = relu.linear_regions(network, lines=n_lines, seed=seed + 1, patterns=patterns, device="cpu", **kw)
    relu_same_regions(got, want)
    assert got.counts.shape == (n_nets, n_lines)
    return got


def check_relu_sawtooth(k):
    from deepcheap_native import relu

    net = relu.sawtooth_network(k)
    got = relu.linear_regions(net, line=(0.0, 1.0), patterns=True, device="cuda")
    assert got.count == 2**k
    # The sawtooth's kinks are the dyadic points j / 2^k, exactly (the walk's zeros are exact there).
    np.testing.assert_array_equal(got.breakpoints(), np.arange(1, 2**k) / 2**k)
    relu_same_regions(got, relu.linear_regions(net, line=(0.0, 1.0), patterns=True, device="cpu"))


# ---- ReLU plane walk: the CUDA driver runs the CPU's per-cell functions, so everything is bit for bit ----


def relu_same_planes(got, want):
    """Two PlaneRegions results are the same: counts, every cell's (area, centroid) bits in the same
    order, the image."""
    np.testing.assert_array_equal(got.counts, want.counts)
    if want._cells is None:
        assert got._cells is None
    else:
        assert got._cells.dtype == want._cells.dtype == np.float64 and got._cells.shape == want._cells.shape
        np.testing.assert_array_equal(got._cells.view(np.uint64), want._cells.view(np.uint64))
    if want.image is None:
        assert got.image is None
    else:
        np.testing.assert_array_equal(got.image, want.image)


def check_relu_planes(widths, n_nets=1, seed=3, bias_std=0.5, extent=(-2.0, 1.5, -1.0, 2.5), image=(24, 20), **kw):
    from deepcheap_native import relu

    nets = [relu.random_network(widths, seed=seed, index=i, bias_std=bias_std) for i in range(n_nets)]
    network = nets if n_nets > 1 else nets[0]
    origin, u, v = np.random.default_rng(seed).normal(size=(3, widths[0]))
    got = relu.linear_regions_2d(network, origin, u, v, extent, cells=True, image=image, device="cuda", **kw)
    want = relu.linear_regions_2d(network, origin, u, v, extent, cells=True, image=image, device="cpu", **kw)
    relu_same_planes(got, want)
    assert got.counts.shape == (n_nets,)
    return got
