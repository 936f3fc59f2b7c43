"""The circuit kernel as a torch.library custom op, so it runs inside torch.compile(fullgraph=True)
graphs: ``deepcheap::circuit_evaluate_bits(bits, handle, schedule, threads)``, bit-sliced evaluation of
a Circuit; boolean, so it has no gradient. Imported only when a torch tensor reaches
``Circuit.evaluate_bits``, so importing the package never imports torch.
"""

from typing import TYPE_CHECKING

import torch

from ..core.torch_ops import handle_of
from ..core.torch_ops import lookup as _lookup

if TYPE_CHECKING:  # pragma: no cover
    from .circuit import Circuit

# No `from __future__ import annotations` here: torch.library reads the op schemas from real annotations.

__all__ = ["circuit_evaluate_bits"]


@torch.library.custom_op("deepcheap::circuit_evaluate_bits", mutates_args=())
def _circuit_evaluate_bits(bits: torch.Tensor, handle: int, schedule: str, threads: int) -> torch.Tensor:
    circuit = _lookup(handle)
    result = circuit.evaluate_bits(bits.detach().cpu().numpy(), schedule=schedule, threads=threads or None)
    return torch.from_numpy(result).to(bits.device)


@_circuit_evaluate_bits.register_fake
def _(bits: torch.Tensor, handle: int, schedule: str, threads: int) -> torch.Tensor:
    circuit = _lookup(handle)
    batch = 1 if bits.ndim == 1 else bits.shape[0]
    return bits.new_empty((batch, circuit.n_outputs), dtype=torch.bool)


def circuit_evaluate_bits(circuit: "Circuit", bits: torch.Tensor, schedule: str, threads: int | None) -> torch.Tensor:
    return torch.ops.deepcheap.circuit_evaluate_bits(bits, handle_of(circuit), schedule, threads or 0)
