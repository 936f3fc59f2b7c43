"""Product-gate networks (DESIGN.md §1.1): neuron counts, the network is its weights (native vs a plain
numpy forward pass vs torch), the λ² error law and the rounding floor, Gray-code vs dense evaluation,
stable forms, polynomials, bad input, threads and SIMD targets."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import deepcheap_native as dc
from conftest import simd, threads
from deepcheap_native import _core

ACTIVATIONS = ("softplus", "exp", "logistic", "tanh", "gelu")
STABLE_ACTIVATIONS = ("softplus", "exp", "logistic", "tanh")
CODES = {name: i for i, name in enumerate(ACTIVATIONS)}

# Independent float64 references (scipy / numpy, not our code).
NUMPY_ACTIVATIONS = {
    "softplus": lambda z: np.logaddexp(0.0, z),
    "exp": np.exp,
    "logistic": special.expit,
    "tanh": np.tanh,
    "gelu": lambda z: z * special.ndtr(z),
}


def numpy_forward(net, x):
    """A plain dense forward pass over net.weights: h ← σ(W h + b), then the output map."""
    sigma = NUMPY_ACTIVATIONS[net.activation]
    h = x
    for w, b in net.weights[:-1]:
        h = sigma(h @ w.T + b)
    w, b = net.weights[-1]
    return (h @ w.T + b)[:, 0]


def signed_inputs(rng, batch, n, dtype=np.float64):
    """±U[0.5, 1]: products stay away from 0, so relative errors are meaningful."""
    return (rng.uniform(0.5, 1.0, (batch, n)) * rng.choice([-1.0, 1.0], (batch, n))).astype(dtype)


def greedy_tree_neurons(n):
    """Independent count: simulate the levels of the greedy binary tree (4 per gate, 2 per carry)."""
    neurons, count = 0, n
    while count > 1:
        neurons += 4 * (count // 2) + 2 * (count % 2)
        count = count // 2 + count % 2
    return neurons


# ---- counts ----------------------------------------------------------------------------------------


def test_neuron_counts_closed_form():
    for k in range(1, 7):
        n = 2**k
        assert dc.product_network_neurons(n, "deep") == 4 * (n - 1)
    for n in range(1, 300):
        assert dc.product_network_neurons(n, "deep") == greedy_tree_neurons(n), n
    for n in range(1, 65):
        assert dc.product_network_neurons(n, "shallow") == 2**n
    assert dc.product_network_neurons(64, "deep") == 252
    assert dc.product_network_neurons(64, "shallow") == 18446744073709551616
    assert dc.product_network_neurons(3, "deep") == 10  # one gate, one carry, then one gate


def test_built_networks_have_the_counted_neurons_and_shapes():
    for n in range(1, 65):
        net = dc.product_network(n)
        widths = [w.shape[0] for w, _ in net.weights[:-1]]
        assert net.n_neurons == sum(widths) == dc.product_network_neurons(n, "deep"), n
        assert net.n_hidden_layers == len(widths) == math.ceil(math.log2(n)), n
        fan_in = n
        for w, b in net.weights:
            assert w.shape[1] == fan_in and b.shape == (w.shape[0],)
            fan_in = w.shape[0]
        assert net.weights[-1][0].shape[0] == 1
    for n in range(1, 11):
        net = dc.product_network(n, kind="shallow", scale=0.5)
        (w1, b1), (w2, b2) = net.weights
        assert net.n_neurons == 2**n and net.n_hidden_layers == 1
        assert w1.shape == (2**n, n) and b1.shape == (2**n,) and w2.shape == (1, 2**n) and b2.shape == (1,)
        # Every sign vector exactly once, consecutive neurons differ in one sign (Gray order).
        signs = np.sign(w1).astype(int)
        assert len({tuple(r) for r in signs}) == 2**n
        assert np.all(np.abs(np.diff(signs, axis=0)).sum(axis=1) == 2)


# ---- the network is its weights -----------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind, sizes, scale", [("deep", (2, 3, 5, 6), 0.5), ("shallow", (1, 2, 3, 4, 6), 1.0)])
def test_network_is_its_weights(activation, kind, sizes, scale):
    """float64, rtol 1e-12. The scale keeps cancellation (∝ 1/λ² per gate, 1/λⁿ shallow) below ~100,
    so the three evaluation orders agree to a few hundred ulps; torch vs numpy shows the same spread."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10 + CODES[activation])
    for n in sizes:
        net = dc.product_network(n, kind=kind, activation=activation, scale=scale)
        x = signed_inputs(rng, 257, n)
        reference = numpy_forward(net, x)
        np.testing.assert_allclose(net(x), reference, rtol=1e-12, atol=0)
        module = net.to_torch()
        assert all(isinstance(m, (torch.nn.Linear, torch.nn.Module)) for m in module)
        assert sum(isinstance(m, torch.nn.Linear) for m in module) == net.n_hidden_layers + 1
        with torch.no_grad():
            out = module(torch.from_numpy(x))[:, 0].numpy()
        np.testing.assert_allclose(out, reference, rtol=1e-12, atol=0)
        # torch in, torch out
        t = net(torch.from_numpy(x))
        assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
        np.testing.assert_array_equal(t.numpy(), net(x))


@pytest.mark.parametrize("dtype, rtol, atol", [("float64", 1e-12, 0), ("float32", 1e-3, 1e-4)])
def test_softplus_series_path_equals_exp_log1p_path(each_simd_target, dtype, rtol, atol):
    """At bias 0 a block whose pre-activations all lie in ±0.5 uses the log-cosh series; one large
    sample sends the whole block through exp + log1p. Both are within an ulp of softplus, so the
    other 63 samples agree to the cancellation-amplified ulp (1/λ² = 100 here; in float32 that is an
    absolute ~1e-5 per gate)."""
    rng = np.random.default_rng(13)
    for n in (2, 3, 8):  # 3: the carry has the same two paths
        net = dc.product_network(n, scale=0.1, dtype=dtype)
        x = signed_inputs(rng, 64, n, dtype)
        series = net(x)
        x_big = x.copy()
        x_big[0] = 5.0  # λ(u + v) = 1 > 0.5
        general = net(x_big)
        np.testing.assert_allclose(general[1:], series[1:], rtol=rtol, atol=atol)
        reference = numpy_forward(dc.product_network(n, scale=0.1), x.astype(np.float64))
        np.testing.assert_allclose(series.astype(np.float64), reference, rtol=max(rtol, 1e-11), atol=atol)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(1, 40), activation=st.sampled_from(ACTIVATIONS), kind=st.sampled_from(["deep", "shallow"]),
       seed=st.integers(0, 2**32 - 1))
def test_property_any_network_is_its_weights(n, activation, kind, seed):
    """Random sizes (odd ones carry), activations and inputs: counts agree with the closed form and the
    native evaluation with the dense forward pass: rtol 1e-10, plus an absolute 1e-13 for products of
    many inputs that are themselves ~1e-6 (the last gate rounds at ε σ(a)/(λ² σ''(a)) ≈ 1e-15)."""
    if kind == "shallow":
        n = min(n, 8)
    net = dc.product_network(n, kind=kind, activation=activation, scale=0.5 if kind == "deep" else 1.0)
    assert net.n_neurons == sum(w.shape[0] for w, _ in net.weights[:-1]) == dc.product_network_neurons(n, kind)
    x = signed_inputs(np.random.default_rng(seed), 17, n)
    np.testing.assert_allclose(net(x), numpy_forward(net, x), rtol=1e-10, atol=1e-13)


def test_torch_module_is_plain_linear_and_activation_layers():
    torch = pytest.importorskip("torch")
    net = dc.product_network(4, activation="softplus")
    module = net.to_torch()
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "Softplus", "Linear", "Softplus", "Linear"]
    for (w, b), linear in zip(net.weights, [m for m in module if isinstance(m, torch.nn.Linear)]):
        np.testing.assert_array_equal(linear.weight.detach().numpy(), w)
        np.testing.assert_array_equal(linear.bias.detach().numpy(), b)


# ---- error law ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["network", "stable"])
def test_softplus_gate_error_law(mode):
    """At bias 0, m(u, v) = uv [1 − λ²(u² + v²)/12 + O(λ⁴)]. The rounding floor (ε/λ² ≈ 1e-10 at
    λ = 1e-3) is 1000× below the λ² term, and the O(λ⁴) term is 1e-4 of it at λ = 1e-2: 2% is safe."""
    rng = np.random.default_rng(1)
    u = rng.uniform(0.5, 1.0, 500) * rng.choice([-1, 1], 500)
    v = rng.uniform(0.5, 1.0, 500) * rng.choice([-1, 1], 500)
    for lam in (1e-2, 3e-3, 1e-3):
        m = dc.multiplication_gate(u, v, scale=lam, bias=0.0, mode=mode)
        relative = m / (u * v) - 1
        predicted = -(lam**2) * (u**2 + v**2) / 12
        np.testing.assert_allclose(relative, predicted, rtol=0.02)
    lams = np.geomspace(1e-3, 1e-1, 9)
    errors = [np.mean(np.abs(dc.multiplication_gate(u, v, scale=lam, bias=0.0, mode=mode) / (u * v) - 1))
              for lam in lams]
    slope = np.polyfit(np.log(lams), np.log(errors), 1)[0]
    assert abs(slope - 2) <= 0.05, slope


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gate_error_coefficient_every_activation(activation):
    """m/uv − 1 ≈ σ''''(a)/(6σ''(a)) λ²(u² + v²), with σ'' and σ'''' from sympy (independent of the
    package's derivative code) at the bias the package picks."""
    sympy = pytest.importorskip("sympy")
    z = sympy.symbols("z")
    expr = {
        "softplus": sympy.log(1 + sympy.exp(z)),
        "exp": sympy.exp(z),
        "logistic": 1 / (1 + sympy.exp(-z)),
        "tanh": sympy.tanh(z),
        "gelu": z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2,
    }[activation]
    net = dc.product_network(2, activation=activation, scale=1e-2)
    a = net.bias
    d2 = float(sympy.diff(expr, z, 2).subs(z, a).evalf(30))
    d4 = float(sympy.diff(expr, z, 4).subs(z, a).evalf(30))
    rng = np.random.default_rng(2)
    x = signed_inputs(rng, 300, 2)
    relative = net(x) / x.prod(axis=1) - 1
    predicted = d4 / (6 * d2) * 1e-4 * (x**2).sum(axis=1)
    np.testing.assert_allclose(relative, predicted, rtol=0.02)


def test_bias_choice_matches_analytic_optima():
    # |σ''| peaks at a = ln(2 + √3) for the logistic and atanh(1/√3) for tanh; 0 for the others.
    assert dc.product_network(2, activation="logistic").bias == pytest.approx(math.log(2 + math.sqrt(3)), abs=1e-7)
    assert dc.product_network(2, activation="tanh").bias == pytest.approx(math.atanh(1 / math.sqrt(3)), abs=1e-7)
    for act in ("softplus", "exp", "gelu"):
        assert dc.product_network(2, activation=act).bias == 0.0
    # Shallow softplus: σ^(n)(0) = 0 for odd n ≥ 3, so the bias moves away from 0; even n keep 0.
    for n in (3, 5, 7):
        assert abs(dc.product_network(n, kind="shallow", activation="softplus").bias) > 0.1
    for n in (2, 4, 6):
        assert dc.product_network(n, kind="shallow", activation="softplus").bias == 0.0


def test_derivatives_against_sympy():
    sympy = pytest.importorskip("sympy")
    from deepcheap_native.product import activation_derivative

    z = sympy.symbols("z")
    exprs = {
        "softplus": sympy.log(1 + sympy.exp(z)),
        "logistic": 1 / (1 + sympy.exp(-z)),
        "tanh": sympy.tanh(z),
        "gelu": z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2,
    }
    for name, expr in exprs.items():
        for k in (1, 2, 3, 5, 8):
            dk = sympy.diff(expr, z, k)
            points = (-1.3, 0.0, 0.4, 2.0)
            exact = [float(dk.subs(z, a).evalf(30)) for a in points]
            size = max(1.0, *map(abs, exact))  # odd/even derivatives vanish at 0: absolute there
            for a, e in zip(points, exact):
                assert float(activation_derivative(name, k, a)) == pytest.approx(e, rel=1e-10, abs=1e-13 * size), (name, k, a)


def test_deep16_error_float64_and_the_float32_floor():
    rng = np.random.default_rng(3)
    x64 = signed_inputs(rng, 4000, 16)
    exact = x64.prod(axis=1)
    net = dc.product_network(16, scale=1e-3)
    assert np.max(np.abs(net(x64) / exact - 1)) <= 2e-6
    x32 = x64.astype(np.float32)
    exact32 = x32.astype(np.float64).prod(axis=1)
    stable = dc.product_network(16, scale=1e-3, dtype="float32", mode="stable")
    out = stable(x32)
    assert out.dtype == np.float32
    assert np.max(np.abs(out / exact32 - 1)) <= 1e-5
    # The network itself cannot: its rounding floor is ε/λ² ≈ 6e-8 / 1e-6, i.e. percents per gate.
    with pytest.warns(RuntimeWarning, match="cancellation floor"):  # ... and says so when built
        network32 = dc.product_network(16, scale=1e-3, dtype="float32")
    assert np.max(np.abs(network32(x32) / exact32 - 1)) > 1e-2


@pytest.mark.parametrize("activation", STABLE_ACTIVATIONS)
def test_stable_equals_network_function(activation):
    """Same mathematical function: at λ = 0.3 (little cancellation) the float64 stable forms agree with
    the network's dense forward pass to 1e-12; n = 5 exercises the carries too. float32 stable stays
    within 1e-5 of float64 even at λ = 1e-3 where the float32 network is lost."""
    rng = np.random.default_rng(4)
    for n in (2, 5, 8):
        x = signed_inputs(rng, 300, n)
        network = dc.product_network(n, activation=activation, scale=0.3)
        stable = dc.product_network(n, activation=activation, scale=0.3, mode="stable")
        np.testing.assert_allclose(stable(x), numpy_forward(network, x), rtol=1e-12)
        small64 = dc.product_network(n, activation=activation, scale=1e-3, mode="stable")
        small32 = dc.product_network(n, activation=activation, scale=1e-3, mode="stable", dtype="float32")
        np.testing.assert_allclose(small32(x.astype(np.float32)), small64(x), rtol=1e-5)


def test_shallow_exp_stable_is_the_product_of_sinh():
    rng = np.random.default_rng(5)
    x = signed_inputs(rng, 200, 6)
    stable = dc.product_network(6, kind="shallow", activation="exp", scale=0.5, mode="stable")
    network = dc.product_network(6, kind="shallow", activation="exp", scale=0.5)
    np.testing.assert_allclose(stable(x), np.prod(np.sinh(0.5 * x) / 0.5, axis=1), rtol=1e-13)
    np.testing.assert_allclose(stable(x), numpy_forward(network, x), rtol=1e-11)


# ---- shallow: Gray code -------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gray_code_equals_dense_form(activation):
    rng = np.random.default_rng(6)
    for n in range(1, 11):
        net = dc.product_network(n, kind="shallow", activation=activation, scale=1.0)
        x = signed_inputs(rng, 130, n)
        np.testing.assert_allclose(net(x), numpy_forward(net, x), rtol=1e-10, atol=0)


def test_shallow_approximates_the_product():
    rng = np.random.default_rng(7)
    for n in (2, 3, 4, 6):
        x = signed_inputs(rng, 200, n)
        net = dc.product_network(n, kind="shallow", activation="exp", scale=0.05)
        rel = np.abs(net(x) / x.prod(axis=1) - 1)
        # exp: Σ_s ∏s e^{λ s·x} / (2ⁿλⁿ) = ∏ sinh(λxᵢ)/λ = ∏xᵢ (1 + λ²Σxᵢ²/6 + …)
        assert rel.max() <= 0.05**2 * n / 6 * 1.01 + 1e-9


# ---- polynomials and the gate ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["deep", "shallow"])
def test_polynomial_network(kind):
    torch = pytest.importorskip("torch")
    exponents = np.array([[2, 0, 1, 0], [0, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [3, 0, 0, 2]])
    coefficients = np.array([1.5, -2.0, 0.5, 0.25, 1.0])
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (400, 4))
    exact = 0.1 + (coefficients * np.prod(x[:, None, :] ** exponents[None], axis=2)).sum(axis=1)
    # λ² law. The shallow form's rounding floor is ε/λ^d (d = 5 here), so it is measured at larger λ.
    lams, bound = ((1e-2, 1e-3), 1e-3) if kind == "deep" else ((0.1, 0.03), 0.05)
    errors = []
    for lam in lams:
        net = dc.polynomial_network(exponents, coefficients, kind=kind, scale=lam, constant=0.1)
        errors.append(np.max(np.abs(net(x) - exact)))
    assert errors[0] < bound
    ratio = (lams[0] / lams[1]) ** 2
    assert ratio / 1.5 < errors[0] / errors[1] < ratio * 1.5
    net = dc.polynomial_network(exponents, coefficients, kind=kind, scale=0.5, constant=0.1)
    widths = [w.shape[0] for w, _ in net.weights[:-1]]
    degrees = exponents.sum(axis=1)
    if kind == "deep":
        depth = max(math.ceil(math.log2(d)) for d in degrees if d)
        expected = sum(dc.product_network_neurons(int(d)) + 2 * (depth - math.ceil(math.log2(d)))
                       for d in degrees if d)
    else:
        expected = sum(2 ** int(d) for d in degrees if d)
    assert net.n_neurons == sum(widths) == expected
    np.testing.assert_allclose(net(x), numpy_forward(net, x), rtol=1e-11, atol=1e-13)
    with torch.no_grad():
        out = net.to_torch()(torch.from_numpy(x))[:, 0].numpy()
    np.testing.assert_allclose(out, numpy_forward(net, x), rtol=1e-11, atol=1e-13)


def test_polynomial_of_degree_one_is_affine():
    net = dc.polynomial_network([[1, 0], [0, 1]], [2.0, -3.0], constant=1.0)
    assert net.n_neurons == 0 and net.n_hidden_layers == 0
    x = np.array([[1.0, 2.0], [0.5, -1.0]])
    np.testing.assert_allclose(net(x), 1 + 2 * x[:, 0] - 3 * x[:, 1])
    np.testing.assert_allclose(numpy_forward(net, x), net(x))


def test_multiplication_gate_broadcasts_and_keeps_kind():
    torch = pytest.importorskip("torch")
    u = np.linspace(-1, 1, 7)[:, None]
    v = np.linspace(-2, 2, 5)[None, :]
    m = dc.multiplication_gate(u, v, scale=1e-3)
    assert m.shape == (7, 5) and m.dtype == np.float64
    np.testing.assert_allclose(m, u * v, atol=1e-5)
    m32 = dc.multiplication_gate(u.astype(np.float32), v.astype(np.float32), scale=0.1, mode="stable")
    assert m32.dtype == np.float32
    t = dc.multiplication_gate(torch.tensor([0.5, 2.0]), torch.tensor([4.0, -1.0]), scale=1e-3, mode="stable")
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), [2.0, -2.0], rtol=1e-5)


def test_float32_input_to_float64_network_and_out_buffer():
    net = dc.product_network(4, scale=0.1)
    x = signed_inputs(np.random.default_rng(9), 100, 4)
    assert net(x.astype(np.float32)).dtype == np.float64
    out = np.empty(100)
    result = net(x, out=out)
    assert result is out
    np.testing.assert_array_equal(out, net(x))
    with pytest.raises(ValueError, match="out must be"):
        net(x, out=np.empty(100, np.float32))


# ---- bad input ------------------------------------------------------------------------------------


def test_bad_input_errors():
    net = dc.product_network(4)
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        net(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        net(np.ones(4))
    with pytest.raises(ValueError, match=r"x must be finite, but x\[1, 2\] is nan"):
        x = np.ones((3, 4))
        x[1, 2] = np.nan
        net(x)
    with pytest.raises(ValueError, match="finite"):
        net(np.array([[1.0, np.inf, 1.0, 1.0]]))
    with pytest.raises(TypeError, match="real numbers"):
        net(np.array([["a", "b", "c", "d"]]))


def test_native_errors_on_finite_input_are_not_read_as_bad_x():
    # A native ValueError that mentions "finite" but is about a coefficient (here forced: a gate
    # coefficient the Python layer would never pass) must come out as itself, not as a search for a
    # non-finite value of x, which a finite x does not have (that search raised IndexError).
    net = dc.product_network(4)
    x = np.full((3, 4), 0.9)
    net._gate_coef = float("inf")
    with pytest.raises(ValueError, match="gate_coef must be finite and non-zero") as info:
        net(x)
    assert not isinstance(info.value, _core.NonFiniteInputError)
    # Non-finite x is the native error type of its own, a ValueError, and the message names its first bad value.
    assert issubclass(_core.NonFiniteInputError, ValueError)
    with pytest.raises(_core.NonFiniteInputError, match="1 of its values are NaN or infinite"):
        _core.product_deep(np.array([[1.0, np.nan, 1.0, 1.0]]), 0, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match=r"x must be finite, but x\[2, 1\] is inf"):
        bad = np.ones((3, 4))
        bad[2, 1] = np.inf
        dc.product_network(4)(bad)
    with pytest.raises(TypeError, match="real numbers"):
        net(np.ones((2, 4), dtype=complex))
    with pytest.raises(ValueError, match="relu.*σ''"):
        dc.product_network(4, activation="relu")
    with pytest.raises(ValueError, match="activation must be one of"):
        dc.product_network(4, activation="swish")
    with pytest.raises(ValueError, match=">= 1"):
        dc.product_network(-3)
    with pytest.raises(ValueError, match=">= 1"):
        dc.product_network(0)
    with pytest.raises(TypeError, match="integer"):
        dc.product_network(2.5)
    with pytest.raises(ValueError, match=r"n=30 means 1,073,741,824 neurons .*256 GiB.*limit is n <= 20"):
        dc.product_network(30, kind="shallow")
    with pytest.raises(ValueError, match=r"kind must be one of"):
        dc.product_network(3, kind="wide")
    with pytest.raises(ValueError, match=r"mode must be one of"):
        dc.product_network(3, mode="fast")
    with pytest.raises(ValueError, match="scale"):
        dc.product_network(3, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        dc.product_network(3, scale=float("nan"))
    with pytest.raises(ValueError, match="dtype"):
        dc.product_network(3, dtype="int32")
    with pytest.raises(ValueError, match="bias"):
        dc.product_network(3, bias=float("inf"))
    # a bias where the needed derivative vanishes
    with pytest.raises(ValueError, match=r"σ''' .*vanishes at bias=0.0"):
        dc.product_network(3, kind="shallow", activation="softplus", bias=0.0)
    with pytest.raises(ValueError, match=r"σ'' .*vanishes at bias=0.0"):
        dc.product_network(2, activation="tanh", bias=0.0)
    with pytest.raises(ValueError, match=r"σ'' .*vanishes at bias=0.0"):
        dc.product_network(2, activation="logistic", bias=0.0)
    with pytest.raises(ValueError, match="stable.*gelu"):
        dc.product_network(4, activation="gelu", mode="stable")
    with pytest.raises(ValueError, match="stable.*shallow.*exp"):
        dc.product_network(4, kind="shallow", mode="stable")
    with pytest.raises(ValueError, match="not representable in float32"):
        dc.product_network(16, kind="shallow", scale=1e-3, dtype="float32")
    with pytest.raises(ValueError, match="exponents must be non-negative"):
        dc.polynomial_network([[1, -1]], [1.0])
    with pytest.raises(ValueError, match="coefficients must have shape"):
        dc.polynomial_network([[1, 1]], [1.0, 2.0])
    with pytest.raises(ValueError, match="do not broadcast"):
        dc.multiplication_gate(np.ones(3), np.ones(4))


def test_core_rechecks_invariants():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="activation code"):
        _core.product_deep(x, 9, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="gelu"):
        _core.product_deep(x, 4, True, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="scale"):
        _core.product_deep(x, 0, False, -0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="gate_coef"):
        _core.product_deep(x, 0, False, 0.1, 0.0, float("inf"), 1.0, 0)
    with pytest.raises(ValueError, match=r"shape \(4,\) but expected \(batch, n\)"):
        _core.product_deep(np.ones(4), 0, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="dtype int64"):
        _core.product_deep(np.ones((4, 3), dtype=np.int64), 0, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.product_deep(np.ones((4, 6))[:, ::2], 0, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match="columns but expected 1..30"):
        _core.product_shallow(np.ones((2, 31)), 1, False, 0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="only for exp"):
        _core.product_shallow(x, 0, True, 0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="2 of its values are NaN or infinite"):
        bad = x.copy()
        bad[0, 0], bad[3, 2] = np.nan, -np.inf
        _core.product_deep(bad, 0, False, 0.1, 0.0, 1.0, 1.0, 0)
    with pytest.raises(ValueError, match=r"out has shape \(3,\) but expected \(4,\)"):
        _core.product_deep(x, 0, False, 0.1, 0.0, 1.0, 1.0, 0, np.empty(3))


def test_empty_batch():
    assert dc.product_network(5)(np.empty((0, 5))).shape == (0,)
    assert dc.product_network(5, kind="shallow", scale=0.5)(np.empty((0, 5))).shape == (0,)


# ---- threads and SIMD targets ---------------------------------------------------------------------

CASES = [
    ("deep", "softplus", "network", 9), ("deep", "logistic", "stable", 7), ("deep", "gelu", "network", 5),
    ("shallow", "softplus", "network", 9), ("shallow", "exp", "stable", 5), ("shallow", "tanh", "network", 7),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_simd_targets_agree_with_scalar(dtype):
    """The scalar target runs exactly the header math (deepcheap/product/network.hpp: gate_*, carry_*,
    the tree walk, shallow_walk_block); AVX2 and AVX-512 compile the same functions vectorised over
    64-sample blocks. They are not bit-identical to scalar: with -mfma GCC contracts a * b + c into
    FMAs (forcing -ffp-contract=off measured 10-45 % slower), so each must agree with the scalar
    target within the scalar target's own rounding error against the float64 dense form (4x, plus
    16 ulps; that error itself bounded). AVX2 and AVX-512 agree bit for bit in float64; in float32 they
    need not: on an AVX-512 Xeon GCC's 512-bit loops of the softplus and logistic gates round
    differently from its 256-bit ones (up to 60 % of samples, 7e-5 relative at n = 9, both within the
    bound above), so there each is held to the same bound against the other. Shallow n = 14
    runs the Gray walk's rows past a 256-row recomputation, at bias 0 on the paired softplus path."""
    rng = np.random.default_rng(21)
    eps = np.finfo(dtype).eps
    cases = CASES + [("shallow", "softplus", "network", 14), ("shallow", "logistic", "network", 8),
                     ("deep", "exp", "network", 17)]
    for kind, activation, mode, n in cases:
        paired = (kind, activation) == ("shallow", "softplus") and n % 2 == 0  # bias 0 needs n even
        for bias in (None, 0.0) if paired else (None,):
            options = {} if bias is None else {"bias": bias}
            scale = 0.3 if kind == "deep" else 0.7
            net = dc.product_network(n, kind=kind, activation=activation, mode=mode, dtype=dtype, scale=scale,
                                     **options)
            reference = dc.product_network(n, kind=kind, activation=activation, scale=scale, **options)
            x = signed_inputs(rng, 131, n, dtype)
            with simd("scalar"):
                want = net(x).astype(np.float64)
            exact = numpy_forward(reference, x.astype(np.float64))
            scalar_error = np.max(np.abs(want - exact) / np.abs(exact))
            # The scalar target itself is right (measured at most 3e-12 in float64, 4e-4 in float32).
            assert scalar_error < (1e-11 if dtype == "float64" else 2e-3), (kind, activation, n, bias)
            bound = 4 * scalar_error + 16 * eps
            got = {}
            for target in dc.simd_targets():
                with simd(target):
                    got[target] = net(x)
                np.testing.assert_allclose(got[target], want, rtol=bound, atol=0,
                                           err_msg=f"{kind} {activation} n={n} bias={bias} on {target}")
            if "avx2" in got and "avx512" in got:
                if dtype == "float64":
                    np.testing.assert_array_equal(got["avx2"], got["avx512"])
                else:
                    np.testing.assert_allclose(got["avx512"], got["avx2"], rtol=bound, atol=0,
                                               err_msg=f"{kind} {activation} n={n} bias={bias}: AVX-512 vs AVX2")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_and_two_threads_bit_identical(dtype):
    rng = np.random.default_rng(11)
    for kind, activation, mode, n in CASES:
        scale = 0.1 if kind == "deep" else 0.7
        net = dc.product_network(n, kind=kind, activation=activation, mode=mode, scale=scale, dtype=dtype)
        x = signed_inputs(rng, 5000 if kind == "deep" else 700, n, dtype)
        with threads(1):
            one = net(x)
        with threads(2):
            two = net(x)
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("dtype, ulps", [("float32", 4), ("float64", 4)])
def test_activations_on_every_simd_target(each_simd_target, dtype, ulps):
    """The vectorised exp/log1p (own polynomials, no fast-math) against numpy/scipy in float64, within
    a few ulps of the dtype, plus IEEE special values; tanh and GELU near 0 are held to absolute
    error (their network use only ever needs that)."""
    dt = np.dtype(dtype)
    z = np.concatenate([np.linspace(-750, 750, 30001), np.linspace(-30, 30, 30001), np.linspace(-1e-3, 1e-3, 2001)])
    z = z.astype(dt)
    zz = z.astype(np.float64)
    eps = np.finfo(dt).eps
    with np.errstate(all="ignore"):
        for name in ACTIVATIONS:
            got = _core.product_activation(z, CODES[name]).astype(np.float64)
            ref = NUMPY_ACTIVATIONS[name](zz)
            fits = np.abs(ref) <= np.finfo(dt).max
            normal = np.isfinite(ref) & fits & (np.abs(ref) > 1e4 * np.finfo(dt).tiny)
            err = np.abs(got - ref)[normal]
            allowed = ulps * eps * np.abs(ref[normal])
            if name in ("tanh", "gelu"):
                allowed = np.maximum(allowed, ulps * eps)  # absolute near 0
            if name == "gelu":
                allowed = np.maximum(allowed, 200 * eps * np.abs(ref[normal]))  # libm erfc deep in the tail
            assert np.all(err <= allowed), (name, float((err / allowed).max()))
            assert np.array_equal(np.isinf(got), ~fits), name  # overflow exactly where the dtype overflows
        specials = np.array([np.nan, np.inf, -np.inf], dtype=dt)
        for name in ("softplus", "exp", "logistic", "tanh"):
            got = _core.product_activation(specials, CODES[name])
            ref = NUMPY_ACTIVATIONS[name](specials.astype(np.float64))
            np.testing.assert_array_equal(got.astype(np.float64), ref)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_on_every_simd_target(each_simd_target, dtype):
    """Every target against the float64 dense forward pass: float64 to 1e-11, float32 to its own
    rounding (ε32/λ² per gate at λ = 0.3: 1e-5)."""
    rng = np.random.default_rng(12)
    rtol = 1e-11 if dtype == "float64" else 2e-4
    for kind, activation, mode, n in CASES:
        for scale in (0.3, 0.2) if kind == "deep" else (1.0,):  # 0.2: the softplus series path
            net = dc.product_network(n, kind=kind, activation=activation, mode=mode, scale=scale, dtype=dtype)
            reference = dc.product_network(n, kind=kind, activation=activation, scale=scale)
            x = signed_inputs(rng, 333, n)
            np.testing.assert_allclose(net(x.astype(dtype)), numpy_forward(reference, x), rtol=rtol * max(1.0, (0.3 / scale) ** 2))


# ---- demo --------------------------------------------------------------------------------------------


def test_demo_runs_and_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "deepcheap_native.demo"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "252" in out and "18446744073709551616" in out.replace(",", "")
    assert "slope" in out


def test_unaligned_input_gives_the_aligned_answer():
    # numpy arrays unpickled from a byte buffer (results coming back from Dask workers) can be unaligned;
    # the kernels must never read them misaligned (UBSan caught that) and must give the same numbers.
    x = np.random.default_rng(3).uniform(0.5, 1, (257, 16))
    buf = bytearray(x.nbytes + 3)
    unaligned = np.frombuffer(memoryview(buf)[3:3 + x.nbytes], dtype=np.float64).reshape(x.shape)
    unaligned[...] = x
    assert not unaligned.flags.aligned
    net = dc.product_network(16)
    np.testing.assert_array_equal(net(unaligned), net(x))
    gate = dc.multiplication_gate(unaligned[:, 0], unaligned[:, 1], scale=1e-3)
    np.testing.assert_array_equal(gate, dc.multiplication_gate(x[:, 0], x[:, 1], scale=1e-3))


def test_torch_activation_is_the_one_table_of_activation_modules():
    torch = pytest.importorskip("torch")
    from deepcheap_native.product import torch_activation

    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    exact = {  # closed forms, written here
        "softplus": [math.log1p(math.exp(v)) for v in z.tolist()],
        "logistic": [1 / (1 + math.exp(-v)) for v in z.tolist()],
        "tanh": [math.tanh(v) for v in z.tolist()],
        "gelu": [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in z.tolist()],
        "exp": [math.exp(v) for v in z.tolist()],
    }
    assert sorted(exact) == sorted(dc.product.ACTIVATIONS)
    for name, values in exact.items():
        module = torch_activation(name)
        assert isinstance(module, torch.nn.Module)
        assert torch.allclose(module(z), torch.tensor(values, dtype=torch.float64), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="activation"):
        torch_activation("swish")


@pytest.mark.parametrize("n", [8, 16, 32])
def test_full_float32_blocks_load_as_the_generic_path(n):
    """A full 64-sample float32 block with n a multiple of 8 (AVX2) or 16 (AVX-512) is loaded by
    register transposes, a tail block by the generic loop. With inputs of magnitude at most 1 and
    lambda 0.1 every block takes the series path, so sample for sample the two give the same bits; and
    the native finiteness count sees values in full blocks and in the tail alike."""
    rng = np.random.default_rng(n)
    x = signed_inputs(rng, 200, n, "float32")
    net = dc.product_network(n, kind="deep", dtype="float32", scale=0.1)
    for target in dc.simd_targets():
        with simd(target):
            full = net(x[:64])
            np.testing.assert_array_equal(full[:63], net(x[:63]), err_msg=target)
            bad = x.copy()
            bad[5, 3], bad[40, n - 1], bad[199, 0] = np.nan, np.inf, -np.inf
            with pytest.raises(_core.NonFiniteInputError, match="3 of its values are NaN or infinite"):
                _core.product_deep(bad, 0, False, 0.1, 0.0, 1.0, 1.0, 0)
