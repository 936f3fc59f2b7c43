"""The product kernels as torch.library custom ops, so they run inside torch.compile(fullgraph=True)
graphs and training loops: a fake (meta) kernel gives each op's output shape and dtype without
running it, and an autograd formula gives the gradient with respect to the inputs.

- ``deepcheap::product_network(x, weights, handle)``: a ProductNetwork evaluated by the native
  kernel. The backward pass is the exact vector-Jacobian
  product of the network's explicit weights (``weights``: W₁, b₁, …, W_out, b_out, passed as tensors
  so that compiled graphs see them), written with torch operations: it is itself differentiable.
- ``deepcheap::multiplication_gate(u, v, activation, scale, bias, mode)``: the 4-neuron gate,
  elementwise; its backward sums the neurons' slopes σ'(z) times their input weights.

Objects travel into an op as an integer handle (``core.torch_ops.handle_of``: ops take tensors and
scalars only); the circuit area registers its own op in ``circuit/torch_ops.py``. This module is
imported only when a torch tensor reaches one of these entry points, so importing the package never
imports torch.
"""

import functools
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import torch

from ..core import cuda as gpu  # deepcheap's GPU drivers (torch.cuda is torch's)
from ..core.torch_ops import handle_of
from ..core.torch_ops import lookup as _lookup
from ..core.validate import call_threads
from .network import torch_activation

if TYPE_CHECKING:  # pragma: no cover
    from .network import ProductNetwork

# No `from __future__ import annotations` here: torch.library reads the op schemas from real annotations.

__all__ = ["NativeProductNetwork", "multiplication_gate", "native_module"]

# ---- product networks ------------------------------------------------------------------------------


def _activation(name: str, z: torch.Tensor) -> torch.Tensor:
    return torch_activation(name)(z)


def _activation_slope(name: str, z: torch.Tensor) -> torch.Tensor:
    """σ'(z), in closed form (softplus' = logistic, logistic' = s(1 − s), GELU' = Φ + zφ)."""
    if name == "softplus":
        return torch.sigmoid(z)
    if name == "logistic":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    if name == "gelu":
        return torch.special.ndtr(z) + z * torch.exp(-0.5 * z * z) * (2 * np.pi) ** -0.5
    return torch.exp(z)


def _network_vjp(x: torch.Tensor, weights: list[torch.Tensor], activation: str, grad: torch.Tensor) -> torch.Tensor:
    """grad · ∂f/∂x for the network f(x) = W_out σ(… σ(W₁x + b₁) …) + b_out, batched over rows of x."""
    pre = []
    h = x
    for k in range(0, len(weights) - 2, 2):
        z = h @ weights[k].T + weights[k + 1]
        pre.append(z)
        h = _activation(activation, z)
    g = grad[:, None] * weights[-2][0]
    for k in reversed(range(len(pre))):
        g = (g * _activation_slope(activation, pre[k])) @ weights[2 * k]
    return g


@torch.library.custom_op("deepcheap::product_network", mutates_args=())
def _product_network(x: torch.Tensor, weights: list[torch.Tensor], handle: int) -> torch.Tensor:
    net = _lookup(handle)
    if x.is_cuda and gpu.is_available():
        return net(x.detach())  # the GPU kernel reads x in place; the result is made on x's device
    result = net(np.ascontiguousarray(x.detach().cpu().numpy()))
    return torch.from_numpy(result).to(x.device)


@_product_network.register_fake
def _(x: torch.Tensor, weights: list[torch.Tensor], handle: int) -> torch.Tensor:
    return x.new_empty((x.shape[0],), dtype=weights[0].dtype)


def _product_network_setup(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
    x, weights, handle = inputs
    ctx.save_for_backward(x, *weights)
    ctx.activation = _lookup(handle).activation
    ctx.n_weights = len(weights)


def _product_network_backward(ctx: Any, grad: torch.Tensor) -> tuple:
    x, *weights = ctx.saved_tensors
    return _network_vjp(x, weights, ctx.activation, grad), [None] * ctx.n_weights, None


_product_network.register_autograd(_product_network_backward, setup_context=_product_network_setup)


def _weight_tensors(net: "ProductNetwork") -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a)) for pair in net.weights for a in pair]


class NativeProductNetwork(torch.nn.Module):
    """A ProductNetwork as a torch module whose forward pass is the native kernel (one custom op).

    ``module(x)`` takes (batch, n) and returns (batch, 1) like ``net.to_torch()``; gradients with
    respect to ``x`` are exact for the explicit weights (the buffers ``weight_0``, ``weight_1``, …).
    """

    def __init__(self, net: "ProductNetwork", threads: Optional[int] = None) -> None:
        super().__init__()
        self.net = net
        self.threads = threads  # CPU threads of each eager forward pass (None: set_num_threads)
        self.handle = handle_of(net)
        self.n_weights = 2 * len(net.weights)
        for k, tensor in enumerate(_weight_tensors(net)):
            self.register_buffer(f"weight_{k}", tensor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = [getattr(self, f"weight_{k}") for k in range(self.n_weights)]
        if x.ndim != 2 or x.shape[1] != self.net.n:
            raise ValueError(f"x must have shape (batch, {self.net.n}), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
        x = x.to(weights[0].dtype)
        if torch.compiler.is_compiling():  # a compiled graph runs the op later, with set_num_threads
            return torch.ops.deepcheap.product_network(x, weights, self.handle)[:, None]
        with call_threads(self.threads):  # eager ops run on this thread, so the override reaches the kernel
            return torch.ops.deepcheap.product_network(x, weights, self.handle)[:, None]

    def extra_repr(self) -> str:
        return repr(self.net) + ("" if self.threads is None else f", threads={self.threads}")


def native_module(net: "ProductNetwork", threads: Optional[int] = None) -> NativeProductNetwork:
    return NativeProductNetwork(net, threads)


@functools.lru_cache(maxsize=64)
def _gate_network(activation: str, scale: float, bias: Optional[float], mode: str, dtype: str) -> Any:
    from .network import product_network

    return product_network(2, activation=activation, scale=scale, bias=bias, dtype=dtype, mode=mode)


@functools.lru_cache(maxsize=64)
def _gate_neurons(activation: str, scale: float, bias: Optional[float], mode: str) -> tuple:
    """The gate as Python numbers: out = Σ_k w_k σ(α_k u + β_k v + b_k) + b_out, for its backward."""
    (w1, b1), (w_out, _) = _gate_network(activation, scale, bias, mode, "float64").weights
    return tuple((float(w_out[0, k]), float(w1[k, 0]), float(w1[k, 1]), float(b1[k])) for k in range(w1.shape[0]))


@torch.library.custom_op("deepcheap::multiplication_gate", mutates_args=())
def _multiplication_gate(u: torch.Tensor, v: torch.Tensor, activation: str, scale: float, bias: Optional[float],
                         mode: str) -> torch.Tensor:
    net = _gate_network(activation, scale, bias, mode, "float32" if u.dtype == torch.float32 else "float64")
    if u.is_cuda and gpu.is_available():  # on the GPU, without a round trip through the host
        return net(torch.stack([u.detach().reshape(-1), v.detach().reshape(-1)], dim=1)).reshape(tuple(u.shape))
    x = np.stack([u.detach().cpu().numpy().reshape(-1), v.detach().cpu().numpy().reshape(-1)], axis=1)
    return torch.from_numpy(net(x).reshape(tuple(u.shape))).to(u.device)


@_multiplication_gate.register_fake
def _(u: torch.Tensor, v: torch.Tensor, activation: str, scale: float, bias: Optional[float], mode: str) -> torch.Tensor:
    return torch.empty_like(u)


def _gate_setup(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
    u, v, activation, scale, bias, mode = inputs
    ctx.save_for_backward(u, v)
    ctx.activation = activation
    ctx.neurons = _gate_neurons(activation, scale, bias, mode)


def _gate_backward(ctx: Any, grad: torch.Tensor) -> tuple:
    u, v = ctx.saved_tensors
    grad_u, grad_v = torch.zeros_like(u), torch.zeros_like(v)
    for w, alpha, beta, b in ctx.neurons:
        slope = w * _activation_slope(ctx.activation, alpha * u + beta * v + b)
        grad_u = grad_u + alpha * slope
        grad_v = grad_v + beta * slope
    return grad * grad_u, grad * grad_v, None, None, None, None


_multiplication_gate.register_autograd(_gate_backward, setup_context=_gate_setup)


@torch.compiler.assume_constant_result
def _default_gate_scale(activation: str, bias: Optional[float], mode: str, dtype: str) -> float:
    """product_network(2)'s default λ for this dtype (a constant of a compiled graph)."""
    from .network import product_network

    return float(product_network(2, activation=activation, bias=bias, mode=mode, dtype=dtype).scale)


def multiplication_gate(u: Any, v: Any, *, activation: str, scale: Optional[float], bias: Optional[float],
                        mode: str) -> torch.Tensor:
    """The gate on torch tensors: broadcast, then one native op; differentiable in u and v."""
    u = u if isinstance(u, torch.Tensor) else torch.as_tensor(np.asarray(u))
    v = v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
    if not torch.compiler.is_compiling():  # friendly errors; a compiled graph was checked when traced
        for name, t in (("u", u), ("v", v)):
            if t.dtype == torch.bool or t.is_complex():
                raise TypeError(f"{name} must hold real numbers, got {t.dtype}")
        try:
            torch.broadcast_shapes(u.shape, v.shape)
        except RuntimeError:
            raise ValueError(f"u of shape {tuple(u.shape)} and v of shape {tuple(v.shape)} do not broadcast") from None
    dtype = torch.float32 if u.dtype == torch.float32 and v.dtype == torch.float32 else torch.float64
    uu, vv = torch.broadcast_tensors(u.to(dtype), v.to(dtype))
    if scale is None:
        scale = _default_gate_scale(activation, bias, mode, "float32" if dtype == torch.float32 else "float64")
    return torch.ops.deepcheap.multiplication_gate(uu, vv, activation, float(scale),
                                                   None if bias is None else float(bias), mode)
