"""Product-gate networks (Lin, Tegmark & Rolnick): networks, the gate, polynomial networks, torch
export. ``product/torch_ops.py`` (the torch.library ops) is imported only when a tensor arrives.
"""

from .network import (
    ACTIVATIONS,
    MAX_DEEP_INPUTS,
    MAX_DEEP_WEIGHT_INPUTS,
    MAX_SHALLOW_INPUTS,
    ProductNetwork,
    activation_derivative,
    choose_bias,
    multiplication_gate,
    polynomial_network,
    product_network,
    product_network_hidden_layers,
    product_network_neurons,
)

__all__ = [
    "ACTIVATIONS",
    "MAX_DEEP_INPUTS",
    "MAX_DEEP_WEIGHT_INPUTS",
    "MAX_SHALLOW_INPUTS",
    "ProductNetwork",
    "activation_derivative",
    "choose_bias",
    "multiplication_gate",
    "polynomial_network",
    "product_network",
    "product_network_hidden_layers",
    "product_network_neurons",
]
