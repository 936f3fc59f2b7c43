"""The native kernels as torch custom ops: values equal the numpy path, gradients equal torch's own
autograd through the exported nn.Sequential (an independent reference) and pass gradcheck in float64,
torch.library.opcheck validates schema, fake kernel and autograd registration, and the ops run inside
torch.compile(fullgraph=True)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepcheap_native as dc  # noqa: E402


def _x(n, batch=6, seed=0, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], (batch, n))
    return torch.tensor(signs * rng.uniform(0.5, 1.0, (batch, n)), dtype=dtype)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=5, kind="deep", activation="softplus", scale=0.1),  # odd n: a carried value
        dict(n=4, kind="deep", activation="logistic", scale=0.1),
        dict(n=3, kind="deep", activation="tanh", scale=0.1, mode="stable"),
        dict(n=4, kind="deep", activation="gelu", scale=0.1),
        dict(n=3, kind="shallow", activation="exp", scale=0.2),
    ],
)
def test_native_module_matches_values_and_gradients_of_the_sequential(kwargs):
    n = kwargs.pop("n")
    net = dc.product_network(n, **kwargs)
    native, reference = net.to_torch(native=True), net.to_torch()
    x = _x(n).requires_grad_()
    y = native(x)
    assert y.shape == (x.shape[0], 1) and y.dtype == torch.float64
    np.testing.assert_allclose(y.detach().numpy()[:, 0], net(x.detach().numpy()), rtol=0, atol=0)
    (grad,) = torch.autograd.grad(y.sum(), x)
    x_ref = x.detach().clone().requires_grad_()
    (grad_ref,) = torch.autograd.grad(reference(x_ref).sum(), x_ref)
    np.testing.assert_allclose(grad.numpy(), grad_ref.numpy(), rtol=1e-9, atol=1e-12)
    # the network multiplies, so its gradient is close to prod(x) / x_i (relative error O(λ²))
    expected = (x.detach().prod(1, keepdim=True) / x.detach()).numpy()
    np.testing.assert_allclose(grad.numpy(), expected, rtol=0.1)


def test_gradcheck_product_network_and_gate_float64():
    net = dc.product_network(4, scale=0.1)
    module = net.to_torch(native=True)
    x = _x(4, batch=3).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: module(t), (x,))
    assert torch.autograd.gradgradcheck(lambda t: module(t), (x,))
    u = _x(3, batch=2).requires_grad_()  # (2, 3) against (3,): the gradient of v sums over the batch
    v = _x(3, batch=1, seed=1)[0].requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: dc.multiplication_gate(a, b, scale=0.1), (u, v))


def test_gate_on_tensors_equals_numpy_and_differentiates_like_uv():
    u = _x(8, batch=4, seed=2).requires_grad_()
    v = _x(8, batch=4, seed=3).requires_grad_()
    m = dc.multiplication_gate(u, v, scale=1e-2)
    assert isinstance(m, torch.Tensor) and m.shape == u.shape and m.dtype == torch.float64
    np.testing.assert_array_equal(m.detach().numpy(), dc.multiplication_gate(u.detach().numpy(), v.detach().numpy(), scale=1e-2))
    gu, gv = torch.autograd.grad(m.sum(), (u, v))
    # ∂(uv)/∂u = v up to the gate's relative error λ² (u² + v²)/4 ≤ 5e-5 at λ = 1e-2
    np.testing.assert_allclose(gu.numpy(), v.detach().numpy(), rtol=1e-4)
    np.testing.assert_allclose(gv.numpy(), u.detach().numpy(), rtol=1e-4)
    m32 = dc.multiplication_gate(u.detach().float(), v.detach().float(), scale=0.1)
    assert m32.dtype == torch.float32
    with pytest.raises(ValueError, match="broadcast"):
        dc.multiplication_gate(torch.ones(3), torch.ones(4))
    with pytest.raises(TypeError, match="real numbers"):
        dc.multiplication_gate(torch.ones(3, dtype=torch.bool), torch.ones(3))
    with pytest.raises(ValueError, match="relu"):
        dc.multiplication_gate(torch.ones(3), torch.ones(3), activation="relu")


def test_circuit_evaluate_bits_on_tensors():
    add = dc.circuits.ripple_carry_adder(4)
    bits = torch.from_numpy(np.random.default_rng(4).integers(0, 2, (50, 8)).astype(bool))
    out = add.evaluate_bits(bits)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.bool and out.shape == (50, 5)
    np.testing.assert_array_equal(out.numpy(), add.evaluate_bits(bits.numpy()))
    a = (bits[:, :4].long() << torch.arange(4)).sum(1)
    b = (bits[:, 4:].long() << torch.arange(4)).sum(1)
    assert torch.equal((out.long() << torch.arange(5)).sum(1), a + b)


def test_opcheck_schema_fake_kernels_and_autograd_registration():
    net = dc.product_network(4, scale=0.1)
    module = net.to_torch(native=True)
    weights = [getattr(module, f"weight_{k}") for k in range(module.n_weights)]
    x = _x(4, batch=3).requires_grad_()
    torch.library.opcheck(torch.ops.deepcheap.product_network.default, (x, weights, module.handle))
    from deepcheap_native.core.torch_ops import handle_of

    parity = dc.circuits.parity_tree(6)
    bits = torch.zeros(5, 6, dtype=torch.bool)
    torch.library.opcheck(torch.ops.deepcheap.circuit_evaluate_bits.default, (bits, handle_of(parity), "batch", 0))


def test_torch_compile_fullgraph():
    # aot_eager: dynamo traces the Python, the fake kernels give shapes, AOTAutograd traces the
    # backward; Inductor's C++ code generation would only add minutes of compile time here.
    net = dc.product_network(4, scale=0.1)
    module = net.to_torch(native=True)
    parity = dc.circuits.parity_tree(4)

    def f(x, u, v, bits):
        return module(x)[:, 0] + dc.multiplication_gate(u, v, scale=0.1), parity.evaluate_bits(bits)

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    x = _x(4, batch=5).requires_grad_()
    u, v = _x(5, batch=1, seed=5)[0], _x(5, batch=1, seed=6)[0]
    bits = torch.from_numpy(np.random.default_rng(7).integers(0, 2, (3, 4)).astype(bool))
    (y, parities), (y_ref, parities_ref) = compiled(x, u, v, bits), f(x, u, v, bits)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=0)
    assert torch.equal(parities, parities_ref) and torch.equal(parities[:, 0], bits.sum(1) % 2 == 1)
    (g,) = torch.autograd.grad(y.sum(), x)
    (g_ref,) = torch.autograd.grad(y_ref.sum(), x)
    torch.testing.assert_close(g, g_ref)


def test_native_module_rejects_bad_input():
    module = dc.product_network(3).to_torch(native=True)
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        module(torch.ones(2, 4))
    with pytest.raises(TypeError, match="floating-point"):
        module(torch.ones(2, 3, dtype=torch.int64))
