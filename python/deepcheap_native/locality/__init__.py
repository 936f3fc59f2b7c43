"""Locality and symmetry (issue 23): a translation-invariant local Hamiltonian, its Boltzmann
log-probability −H/T as an explicit convolutional (or dense) product-gate network, and the phases of the
Ising model learned by a dense and a convolutional classifier (Carrasquilla & Melko 2017)."""

from __future__ import annotations

from .hamiltonian import LatticeHamiltonian
from .network import HamiltonianNetwork, hamiltonian_network, network_neurons, network_parameters

__all__ = ["HamiltonianNetwork", "LatticeHamiltonian", "hamiltonian_network", "network_neurons",
           "network_parameters"]
