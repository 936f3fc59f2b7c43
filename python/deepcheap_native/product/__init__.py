"""Product-gate networks (Lin, Tegmark & Rolnick): networks, the gate, polynomial networks, torch
export. ``product/torch_ops.py`` (the torch.library ops) is imported only when a tensor arrives.
"""

from .network import (
    ACCURACY_WARNING,
    ACTIVATIONS,
    DEFAULT_ACCURACY_WARNING,
    MAX_DEEP_INPUTS,
    MAX_DEEP_WEIGHT_INPUTS,
    MAX_SHALLOW_INPUTS,
    AccuracyWarning,
    ProductNetwork,
    activation_derivative,
    built_neurons,
    choose_bias,
    choose_scale,
    multiplication_gate,
    polynomial_network,
    product_network,
    product_network_hidden_layers,
    product_network_neurons,
    torch_activation,
)

__all__ = [
    "ACCURACY_WARNING",
    "ACTIVATIONS",
    "AccuracyWarning",
    "DEFAULT_ACCURACY_WARNING",
    "MAX_DEEP_INPUTS",
    "MAX_DEEP_WEIGHT_INPUTS",
    "MAX_SHALLOW_INPUTS",
    "ProductNetwork",
    "activation_derivative",
    "built_neurons",
    "choose_bias",
    "choose_scale",
    "multiplication_gate",
    "polynomial_network",
    "product_network",
    "product_network_hidden_layers",
    "product_network_neurons",
    "torch_activation",
]

from ..core.namespace import public_dir as _public_dir  # noqa: E402  (tab completion: __all__ only)

__dir__ = _public_dir(globals())
