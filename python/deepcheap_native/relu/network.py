"""ReLU multilayer perceptrons as weights the native core reads: one flat float64 block per network.

A :class:`ReLUNetwork` is a list of affine layers ``(W, b)``; every layer but the last applies ReLU.
It is built from the package's constructions (:func:`~deepcheap_native.relu.sawtooth_network`), from
numpy lists of ``(W, b)`` pairs, or from a torch ``nn.Sequential`` of ``Linear`` and ``ReLU``
(:func:`as_network` accepts any of them), and evaluated natively in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from ..core.arrays import import_torch, is_torch_tensor, like_input, to_numpy
from ..core.random import normal_pairs
from ..core.validate import call_threads, check_int, check_real, check_seed, check_threads

__all__ = ["ReLUNetwork", "as_network", "random_network"]

#: Philox purposes (the counter's fourth word) of the area's random draws.
PURPOSE_WEIGHTS = 0x52454C55  # "RELU"
PURPOSE_LINES = 0x52454C56


def _layer_arrays(W: Any, b: Any, index: int) -> tuple[np.ndarray, np.ndarray]:
    Wa, _ = to_numpy(W, f"layer {index} weight")
    ba, _ = to_numpy(b, f"layer {index} bias")
    for arr, what in ((Wa, "weight"), (ba, "bias")):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"layer {index} {what} must hold real numbers, got dtype {arr.dtype}")
    Wa = np.ascontiguousarray(Wa, dtype=np.float64)
    ba = np.ascontiguousarray(ba, dtype=np.float64)
    if Wa.ndim != 2:
        raise ValueError(f"layer {index} weight has shape {Wa.shape} but expected (out, in)")
    if ba.shape != (Wa.shape[0],):
        raise ValueError(f"layer {index} bias has shape {ba.shape} but expected ({Wa.shape[0]},) to match its weight")
    if Wa.shape[0] < 1 or Wa.shape[1] < 1:
        raise ValueError(f"layer {index} weight has shape {Wa.shape}: every width must be >= 1")
    for arr, what in ((Wa, "weight"), (ba, "bias")):
        if not np.isfinite(arr).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"layer {index} {what} must be finite, but entry {bad} is {arr[bad]}")
    return Wa, ba


class ReLUNetwork:
    """A ReLU MLP: affine layers ``(W_l, b_l)``, ReLU after every layer but the last.

    Parameters
    ----------
    layers : sequence of ``(W, b)`` pairs (numpy or torch; W of shape (out, in), b of shape (out,)),
        with each layer's ``in`` equal to the previous layer's ``out``. Values must be finite.

    ``widths`` is ``(input_dim, hidden widths..., output_dim)``; ``neurons`` counts the hidden ReLUs.
    """

    def __init__(self, layers: Sequence[tuple[Any, Any]]):
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
            raise TypeError(f"layers must be a sequence of (W, b) pairs, got {type(layers).__name__}")
        if len(layers) < 1:
            raise ValueError("layers must hold at least one (W, b) pair, got none")
        if len(layers) > 64:
            raise ValueError(f"a network has at most 64 affine layers, got {len(layers)}")
        arrays = []
        for i, pair in enumerate(layers):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"layer {i} must be a (W, b) pair, got {type(pair).__name__}")
            W, b = _layer_arrays(pair[0], pair[1], i)
            if arrays and W.shape[1] != arrays[-1][0].shape[0]:
                raise ValueError(
                    f"layer {i} weight has shape {W.shape} but expected (out, {arrays[-1][0].shape[0]}): "
                    f"its input is layer {i - 1}'s output")
            arrays.append((W, b))
        self._layers = tuple(arrays)
        self.widths = (arrays[0][0].shape[1],) + tuple(W.shape[0] for W, _ in arrays)
        self._params = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in arrays])
        self._params.setflags(write=False)

    # ---- structure -----------------------------------------------------------------------------
    @property
    def layers(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The ``(W, b)`` pairs (read-only copies)."""
        out = []
        for W, b in self._layers:
            W, b = W.copy(), b.copy()
            W.setflags(write=False)
            b.setflags(write=False)
            out.append((W, b))
        return tuple(out)

    @property
    def input_dim(self) -> int:
        return int(self.widths[0])

    @property
    def output_dim(self) -> int:
        return int(self.widths[-1])

    @property
    def depth(self) -> int:
        """Number of hidden ReLU layers."""
        return len(self.widths) - 2

    @property
    def neurons(self) -> int:
        """Number of hidden ReLU units."""
        return int(sum(self.widths[1:-1]))

    @property
    def params(self) -> np.ndarray:
        """The flat float64 parameter block the core reads (W_1, b_1, W_2, b_2, ...), read-only."""
        return self._params

    def __repr__(self) -> str:
        return f"ReLUNetwork(widths={self.widths})"

    # ---- evaluation ----------------------------------------------------------------------------
    def __call__(self, x: Any, *, threads: int | None = None) -> Any:
        """Evaluate in float64, natively: x of shape (n, input_dim) (or (n,) when input_dim is 1)
        gives (n, output_dim) (or (n,) when output_dim is 1). numpy in, numpy out; torch in, torch out."""
        check_threads(threads)
        arr, from_torch = to_numpy(x, "x")
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"x must hold real numbers, got dtype {arr.dtype}")
        flat = arr.ndim == 1 and self.input_dim == 1
        if flat:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.input_dim:
            raise ValueError(f"x has shape {arr.shape} but expected (n, {self.input_dim})")
        xs = np.ascontiguousarray(arr, dtype=np.float64)
        if not np.isfinite(xs).all():
            raise ValueError("x must be finite, got NaN or inf")
        with call_threads(threads):
            y = _core.relu_forward(self._widths_array(), self._params[None, :], xs)[0]
        if flat and self.output_dim == 1:
            y = y[:, 0]
        return like_input(y, from_torch)

    def activation_patterns(self, x: Any, *, threads: int | None = None) -> np.ndarray:
        """The activation pattern at each point: (n, neurons) bool, pre-activation > 0 (in float64)."""
        check_threads(threads)
        arr, _ = to_numpy(x, "x")
        if arr.ndim == 1 and self.input_dim == 1:
            arr = arr[:, None]
        xs = np.ascontiguousarray(arr, dtype=np.float64)
        if xs.ndim != 2 or xs.shape[1] != self.input_dim:
            raise ValueError(f"x has shape {xs.shape} but expected (n, {self.input_dim})")
        out = np.empty((xs.shape[0], self.neurons), dtype=bool)
        h, col = xs, 0
        for W, b in self._layers[:-1]:
            z = h @ W.T + b
            out[:, col : col + W.shape[0]] = z > 0
            col += W.shape[0]
            h = np.maximum(z, 0.0)
        return out

    def _widths_array(self) -> np.ndarray:
        return np.asarray(self.widths, dtype=np.int64)

    # ---- torch ---------------------------------------------------------------------------------
    def to_torch(self, dtype: Any = None) -> Any:
        """An ``nn.Sequential`` of ``Linear`` and ``ReLU`` with these weights (torch.float64 unless
        ``dtype`` says otherwise); :func:`as_network` reads it back unchanged."""
        torch = import_torch("ReLUNetwork.to_torch")
        dtype = torch.float64 if dtype is None else dtype
        modules = []
        for i, (W, b) in enumerate(self._layers):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            modules.append(lin)
            if i + 1 < len(self._layers):
                modules.append(torch.nn.ReLU())
        return torch.nn.Sequential(*modules)

    @classmethod
    def from_torch(cls, module: Any) -> ReLUNetwork:
        """Read an ``nn.Sequential`` of ``Linear`` and ``ReLU`` (alternating, Linear first and last)."""
        torch = import_torch("ReLUNetwork.from_torch")
        if not isinstance(module, torch.nn.Sequential):
            raise TypeError(f"expected a torch nn.Sequential of Linear and ReLU, got {type(module).__name__}")
        layers, expect_linear = [], True
        for i, sub in enumerate(module):
            if isinstance(sub, torch.nn.Linear):
                if not expect_linear:
                    raise ValueError(f"layer {i} is a Linear right after a Linear: expected ReLU between them")
                bias = sub.bias if sub.bias is not None else torch.zeros(sub.out_features)
                layers.append((sub.weight.detach().cpu().double().numpy(), bias.detach().cpu().double().numpy()))
                expect_linear = False
            elif isinstance(sub, torch.nn.ReLU):
                if expect_linear:
                    raise ValueError(f"layer {i} is a ReLU that does not follow a Linear")
                expect_linear = True
            else:
                raise ValueError(
                    f"layer {i} is {type(sub).__name__}: only Linear and ReLU layers are supported "
                    "(a ReLU network's regions are defined for piecewise-linear activations only)")
        if not layers:
            raise ValueError("the nn.Sequential holds no Linear layer")
        if expect_linear:
            raise ValueError("the nn.Sequential ends with a ReLU: expected a Linear output layer "
                             "(append nn.Linear(width, width) with identity weights to keep it)")
        return cls(layers)


def as_network(network: Any) -> ReLUNetwork:
    """A :class:`ReLUNetwork` from a ReLUNetwork, a torch ``nn.Sequential`` or a list of ``(W, b)``."""
    if isinstance(network, ReLUNetwork):
        return network
    if type(network).__module__.startswith("torch"):
        return ReLUNetwork.from_torch(network)
    if is_torch_tensor(network) or isinstance(network, np.ndarray):
        raise TypeError("a network is a ReLUNetwork, a torch nn.Sequential or a list of (W, b) pairs, "
                        f"got a bare {type(network).__name__}")
    if isinstance(network, (list, tuple)):
        return ReLUNetwork(network)
    raise TypeError("a network is a ReLUNetwork, a torch nn.Sequential or a list of (W, b) pairs, "
                    f"got {type(network).__name__}")


def random_network(widths: Sequence[int], *, seed: int = 0, bias_std: float = 0.0, index: int = 0) -> ReLUNetwork:
    """A He-initialised ReLU network: W_l entries N(0, 2 / fan_in), biases N(0, bias_std²).

    ``widths`` is ``(input_dim, hidden..., output_dim)``. The numbers come from the package's Philox
    under ``seed`` (``deepcheap_native.random.normal_pairs`` at item ``index``, step = position in
    the flat parameter block // 2, purpose "RELU"), so network ``index`` of a seed is the same
    whatever else is drawn, on any machine and thread count.
    """
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence):
        raise TypeError(f"widths must be a sequence of ints, got {type(widths).__name__}")
    w = [check_int(v, f"widths[{i}]", minimum=1) for i, v in enumerate(widths)]
    if len(w) < 2:
        raise ValueError(f"widths needs an input and an output width, got {len(w)} entries")
    seed = check_seed(seed)
    index = check_int(index, "index", minimum=0)
    bias_std = check_real(bias_std, "bias_std", minimum=0.0)
    total = sum(w[i] * (w[i - 1] + 1) for i in range(1, len(w)))
    if total > 2**31:
        raise ValueError(f"widths {tuple(w)} give {total} parameters, more than 2**31")
    steps = np.arange((total + 1) // 2, dtype=np.uint32)
    z = normal_pairs(seed, index, steps, PURPOSE_WEIGHTS).reshape(-1)[:total]
    layers, at = [], 0
    for i in range(1, len(w)):
        n_w = w[i] * w[i - 1]
        W = z[at : at + n_w].reshape(w[i], w[i - 1]) * np.sqrt(2.0 / w[i - 1])
        b = z[at + n_w : at + n_w + w[i]] * bias_std
        at += n_w + w[i]
        layers.append((W, b))
    return ReLUNetwork(layers)
