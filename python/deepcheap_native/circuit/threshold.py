"""A circuit as a threshold network (Rolnick & Tegmark 2018, §III.B): boolean gates on 0/1 values are
single neurons, so any circuit is a network whose depth follows the circuit's depth.

Every wire is an affine function of earlier *units* (input bits and neurons). AND is
H(x + y − 1.5), OR is H(x + y − 0.5), NAND and NOR their mirror images; XOR is two neurons,
H(x + y − 0.5) − H(x + y − 1.5); INV (1 − x), BUF and constants cost nothing, they fold into the
weights of the neurons that read them. Pre-activations are always ±0.5 or farther from the threshold,
so a logistic σ(β z) in place of H reproduces the outputs once β is large (errors ≈ e^(−β/2)).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.arrays import html_table, short_repr
from ..core.validate import check_choice, check_real
from .io import AND, BUF, CONST0, INV, NAND, NOR, OR, XOR

if TYPE_CHECKING:  # pragma: no cover
    from .circuit import Circuit

__all__ = ["ThresholdNetwork", "threshold_network"]


@dataclasses.dataclass(frozen=True)
class ThresholdNetwork:
    """Neurons ``n = act(bias[n] + Σ weight · unit)`` over units (input bits first, then neurons).

    Neurons are numbered layer by layer; ``weights`` are in CSR form (``indptr``, ``indices`` into
    units, ``data``). Outputs are affine in the units: ``out = output_constant + output_weights · units``.
    """

    n_inputs: int
    n_outputs: int
    activation: str
    beta: float
    layer_sizes: np.ndarray  # neurons per layer, layer 1 first
    bias: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    output_constant: np.ndarray
    output_indptr: np.ndarray
    output_indices: np.ndarray
    output_data: np.ndarray

    def __repr__(self) -> str:
        return short_repr("ThresholdNetwork", [("n_inputs", self.n_inputs), ("n_outputs", self.n_outputs),
                                               ("activation", self.activation), ("beta", self.beta),
                                               ("layer_sizes", self.layer_sizes.tolist() if self.layer_sizes.size <= 12
                                                else self.layer_sizes),
                                               ("weights", self.data)])

    def _repr_html_(self) -> str:
        return html_table("ThresholdNetwork", [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)])

    @property
    def n_neurons(self) -> int:
        return int(self.bias.size)

    @property
    def depth(self) -> int:
        """Layers of neurons (INV and BUF add none, so this is at most the circuit's depth)."""
        return int(self.layer_sizes.size)

    def _act(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "heaviside":
            return (z > 0).astype(np.float64)
        return 0.5 * (1.0 + np.tanh(0.5 * self.beta * z))  # the logistic σ(βz), without overflow

    def forward(self, x: Any) -> np.ndarray:
        """Real-valued outputs for a (B, n_inputs) array of 0/1 inputs; shape (B, n_outputs), float64."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (B, n_inputs={self.n_inputs}), got {x.shape}")
        batch = x.shape[0]
        units = np.empty((self.n_inputs + self.n_neurons, batch))
        units[: self.n_inputs] = x.T
        start = 0
        for size in self.layer_sizes.tolist():
            lo, hi = self.indptr[start], self.indptr[start + size]
            src = self.indices[lo:hi]
            contrib = units[src] * self.data[lo:hi, None]
            counts = np.diff(self.indptr[start : start + size + 1])
            pre = np.zeros((size, batch))
            nonempty = counts > 0  # (neurons that read only constants have empty rows)
            if nonempty.any():
                pre[nonempty] = np.add.reduceat(contrib, self.indptr[start : start + size][nonempty] - lo, axis=0)
            pre += self.bias[start : start + size, None]
            n0 = self.n_inputs + start
            units[n0 : n0 + size] = self._act(pre)
            start += size
        out = np.repeat(self.output_constant[:, None], batch, axis=1)
        for j in range(self.n_outputs):
            lo, hi = self.output_indptr[j], self.output_indptr[j + 1]
            if hi > lo:
                out[j] += self.output_data[lo:hi] @ units[self.output_indices[lo:hi]]
        return out.T

    def to_torch(self, dtype: Any = None) -> Any:
        """The same network as a ``torch.nn.Module`` (weights as buffers, sparse per layer).

        ``module(x)`` takes a (B, n_inputs) float tensor and returns (B, n_outputs), equal to
        :meth:`forward`; with ``activation="sigmoid"`` it is differentiable in its inputs.
        """
        from ..core.arrays import import_torch

        torch = import_torch("ThresholdNetwork.to_torch")
        net = self
        dtype = dtype or torch.float64

        class CircuitNetwork(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.n_inputs, self.activation, self.beta = net.n_inputs, net.activation, net.beta
                self.layer_sizes = net.layer_sizes.tolist()
                rows = np.repeat(np.arange(net.n_neurons), np.diff(net.indptr))
                self.register_buffer("rows", torch.from_numpy(rows))
                self.register_buffer("cols", torch.from_numpy(net.indices))
                self.register_buffer("weights", torch.from_numpy(net.data).to(dtype))
                self.register_buffer("bias", torch.from_numpy(net.bias).to(dtype))
                self.edge_ptr = net.indptr.tolist()
                out_rows = np.repeat(np.arange(net.n_outputs), np.diff(net.output_indptr))
                self.register_buffer("out_rows", torch.from_numpy(out_rows))
                self.register_buffer("out_cols", torch.from_numpy(net.output_indices))
                self.register_buffer("out_weights", torch.from_numpy(net.output_data).to(dtype))
                self.register_buffer("out_constant", torch.from_numpy(net.output_constant).to(dtype))

            def forward(self, x):  # noqa: D401 - torch convention
                batch = x.shape[0]
                units = torch.zeros(batch, self.n_inputs + self.bias.numel(), dtype=self.bias.dtype, device=x.device)
                units[:, : self.n_inputs] = x.to(self.bias.dtype)
                start = 0
                for size in self.layer_sizes:
                    lo, hi = self.edge_ptr[start], self.edge_ptr[start + size]
                    contrib = units[:, self.cols[lo:hi]] * self.weights[lo:hi]
                    pre = torch.zeros(batch, size, dtype=units.dtype, device=x.device)
                    pre = pre.index_add(1, self.rows[lo:hi] - start, contrib) + self.bias[start : start + size]
                    act = (pre > 0).to(pre.dtype) if self.activation == "heaviside" else torch.sigmoid(self.beta * pre)
                    n0 = self.n_inputs + start
                    units = torch.cat([units[:, :n0], act, units[:, n0 + size :]], dim=1)
                    start += size
                out = self.out_constant.expand(batch, -1).clone()
                return out.index_add(1, self.out_rows, units[:, self.out_cols] * self.out_weights)

        return CircuitNetwork()

    def predict(self, x: Any) -> np.ndarray:
        """Boolean outputs: ``forward(x) > 0.5``."""
        return self.forward(x) > 0.5


def threshold_network(c: Circuit, activation: str = "heaviside", beta: float = 50.0) -> ThresholdNetwork:
    """Build the threshold network of ``c`` (see :meth:`Circuit.to_network`)."""
    activation = check_choice(activation, "activation", ("heaviside", "sigmoid"))
    beta = check_real(beta, "beta", positive=True)
    n_in = c.n_inputs
    ops = c.ops.tolist()
    in0 = c.in0.tolist()
    in1 = c.in1.tolist()
    # Affine form of each wire: (constant, {unit: coefficient}); units >= n_in are neurons.
    forms: list[tuple[float, dict[int, float]]] = [(0.0, {i: 1.0}) for i in range(n_in)]
    bias: list[float] = []
    rows: list[dict[int, float]] = []
    layer = [0] * n_in

    def neuron(sign: float, threshold: float, fa, fb) -> int:
        # H(sign * (A + B) - threshold), A and B affine.
        row: dict[int, float] = {}
        for f in (fa, fb):
            for u, w in f[1].items():
                row[u] = row.get(u, 0.0) + sign * w
        row = {u: w for u, w in row.items() if w != 0.0}
        bias.append(sign * (fa[0] + fb[0]) - threshold)
        rows.append(row)
        layer.append(1 + max((layer[u] for u in row), default=0))
        return n_in + len(rows) - 1

    for g, op in enumerate(ops):
        if op >= CONST0:
            forms.append((float(op - CONST0), {}))
            continue
        fa = forms[in0[g]]
        if op == INV:
            forms.append((1.0 - fa[0], {u: -w for u, w in fa[1].items()}))
            continue
        if op == BUF:
            forms.append(fa)
            continue
        fb = forms[in1[g]]
        if op == AND:
            forms.append((0.0, {neuron(1.0, 1.5, fa, fb): 1.0}))
        elif op == OR:
            forms.append((0.0, {neuron(1.0, 0.5, fa, fb): 1.0}))
        elif op == NAND:
            forms.append((0.0, {neuron(-1.0, -1.5, fa, fb): 1.0}))
        elif op == NOR:
            forms.append((0.0, {neuron(-1.0, -0.5, fa, fb): 1.0}))
        else:  # XOR / XNOR: H(A+B-0.5) - H(A+B-1.5)
            n1 = neuron(1.0, 0.5, fa, fb)
            n2 = neuron(1.0, 1.5, fa, fb)
            forms.append((0.0, {n1: 1.0, n2: -1.0}) if op == XOR else (1.0, {n1: -1.0, n2: 1.0}))
    # Renumber neurons layer by layer (stable), so each layer is one contiguous block.
    n_neurons = len(rows)
    neuron_layer = np.array(layer[n_in:], dtype=np.int64)
    order = np.argsort(neuron_layer, kind="stable")
    new_id = np.empty(n_neurons, dtype=np.int64)
    new_id[order] = np.arange(n_neurons)
    unit_map = np.concatenate([np.arange(n_in), n_in + new_id]) if n_neurons else np.arange(n_in)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for k in order.tolist():
        row = rows[k]
        indices += [int(unit_map[u]) for u in row]
        data += list(row.values())
        indptr.append(len(indices))
    out_const, out_indptr, out_indices, out_data = [], [0], [], []
    for w in c.outputs.tolist():
        const, f = forms[w]
        out_const.append(const)
        out_indices += [int(unit_map[u]) for u in f]
        out_data += list(f.values())
        out_indptr.append(len(out_indices))
    sizes = np.bincount(neuron_layer)[1:] if n_neurons else np.zeros(0, np.int64)
    return ThresholdNetwork(
        n_inputs=n_in,
        n_outputs=c.n_outputs,
        activation=activation,
        beta=beta,
        layer_sizes=sizes.astype(np.int64),
        bias=np.array(bias, dtype=np.float64)[order] if n_neurons else np.zeros(0),
        indptr=np.array(indptr, dtype=np.int64),
        indices=np.array(indices, dtype=np.int64),
        data=np.array(data, dtype=np.float64),
        output_constant=np.array(out_const, dtype=np.float64),
        output_indptr=np.array(out_indptr, dtype=np.int64),
        output_indices=np.array(out_indices, dtype=np.int64),
        output_data=np.array(out_data, dtype=np.float64),
    )
