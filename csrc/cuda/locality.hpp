// CUDA driver entry of the Hamiltonian-network energies (csrc/cuda/locality.cu).
#pragma once

#include <cstdint>

#include "driver.hpp"
#include "plan/locality.hpp"

namespace deepcheap::cuda {

// Host arrays in p (spins, the network's vectors, out), copied in chunks of lattices; returns the count
// of spins that are not +-1 (out is then unspecified), as the CPU driver does.
int64_t locality_energy(Driver, const plan::LocalityEnergy<float>& p, int device);
int64_t locality_energy(Driver, const plan::LocalityEnergy<double>& p, int device);

}  // namespace deepcheap::cuda
