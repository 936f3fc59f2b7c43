"""Exported product networks with parameters scaled for training (``to_torch(reparametrize=True)``).

An explicit product network is ill-conditioned as a set of trainable weights: its hidden weights are of
order λ and its read-out weights of order 1/λ² (deep) or 1/λⁿ (shallow), and the output depends on the
small weights through a cancellation, so ∂f/∂W of the inner layers is of order 1/λ³ while the weights
are of order λ. Plain SGD at any learning rate that moves the read-out diverges in the inner layers
(issue 25.14: λ = 0.01, lr = 1e-6, MSE 7e-12 → 8e9 in 50 steps).

The reparametrization keeps the function and changes only what the optimiser sees: each ``nn.Linear``
becomes a :class:`ScaledLinear` with ``weight = weight_scale · weight_param`` and ``bias = bias_scale ·
bias_param``, where each scale is a power of two fixed at export (a buffer, not trained) so that the
module computes bit for bit what the plain export computes. The scales equalise the output's
sensitivity: on a fixed probe batch of inputs uniform in [−1, 1]ⁿ, each parameter tensor P gets
E‖∂f/∂P‖² ≈ 1/T (T tensors), so the trace of the Gauss–Newton matrix E[∇f ∇fᵀ] is about 1 at export and
SGD with a learning rate below about 1 starts stable, whatever λ; Adam, which normalises per parameter,
moves each weight by about lr times its own scale.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

__all__ = ["reparametrized", "scaled_linear_class"]

PROBE_SAMPLES = 32  # probe batch for the sensitivities (fixed seed: the scales are reproducible)
PROBE_SEED = 0


def _power_of_two(x: float) -> float:
    """The power of two nearest to x in log scale (x > 0, finite)."""
    return float(2.0 ** round(math.log2(x)))


def _scaled_linear_class(torch: Any) -> type:
    class ScaledLinear(torch.nn.Module):
        """An affine map y = x Wᵀ + b with W = weight_scale · weight_param and b = bias_scale ·
        bias_param; the scales are fixed powers of two (buffers), the ``*_param`` tensors are trained.
        ``weight`` and ``bias`` give the effective tensors, as ``nn.Linear`` names them."""

        def __init__(self, linear: Any, weight_scale: float, bias_scale: float) -> None:
            super().__init__()
            self.in_features = linear.in_features
            self.out_features = linear.out_features
            dt, dev = linear.weight.dtype, linear.weight.device
            self.register_buffer("weight_scale", torch.tensor(weight_scale, dtype=dt, device=dev))
            self.register_buffer("bias_scale", torch.tensor(bias_scale, dtype=dt, device=dev))
            with torch.no_grad():  # division by a power of two is exact
                self.weight_param = torch.nn.Parameter(linear.weight.detach() / weight_scale)
                self.bias_param = torch.nn.Parameter(linear.bias.detach() / bias_scale)

        @property
        def weight(self) -> Any:
            return self.weight_param * self.weight_scale

        @property
        def bias(self) -> Any:
            return self.bias_param * self.bias_scale

        def forward(self, x: Any) -> Any:
            return torch.nn.functional.linear(x, self.weight, self.bias)

        def extra_repr(self) -> str:
            return (f"in_features={self.in_features}, out_features={self.out_features}, "
                    f"weight_scale=2**{round(math.log2(float(self.weight_scale)))}, "
                    f"bias_scale=2**{round(math.log2(float(self.bias_scale)))}")

    ScaledLinear.__qualname__ = "ScaledLinear"
    ScaledLinear.__module__ = __name__
    return ScaledLinear


@functools.cache
def scaled_linear_class() -> type:
    """The ``ScaledLinear`` module class (built on first use: importing this module never imports torch)."""
    import torch

    return _scaled_linear_class(torch)


def __getattr__(name: str) -> Any:
    if name == "ScaledLinear":
        return scaled_linear_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sensitivities(module: Any, n_inputs: int) -> list[float]:
    """E‖∂f/∂P‖² over the probe batch for each parameter tensor P of ``module`` (in parameter order)."""
    import torch

    params = list(module.parameters())
    p0 = params[0]
    rng = np.random.default_rng(PROBE_SEED)
    x = torch.from_numpy(rng.uniform(-1.0, 1.0, (PROBE_SAMPLES, n_inputs))).to(p0.device, p0.dtype)
    total = [0.0] * len(params)
    for i in range(PROBE_SAMPLES):  # per-sample gradients: one backward pass each
        grads = torch.autograd.grad(module(x[i: i + 1]).sum(), params, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                total[k] += float((g.double() ** 2).sum()) / PROBE_SAMPLES
    return total


def reparametrized(module: Any, n_inputs: int) -> Any:
    """``module`` (a ``torch.nn.Sequential`` of ``nn.Linear`` and activations) with every Linear replaced
    by a :class:`ScaledLinear` of the same function, scaled as the module docstring says."""
    import torch

    cls = scaled_linear_class()
    sens = _sensitivities(module, n_inputs)
    n_tensors = len(sens)
    scales = [_power_of_two(1.0 / math.sqrt(n_tensors * s)) if s > 0 and math.isfinite(s) else 1.0
              for s in sens]
    layers, k = [], 0
    for layer in module:
        if isinstance(layer, torch.nn.Linear):
            layers.append(cls(layer, scales[k], scales[k + 1]))
            k += 2
        else:
            layers.append(layer)
    return torch.nn.Sequential(*layers)
