// Declarations of the Hamiltonian-network energy kernels (csrc/cpu/kernels/locality.cpp) for the
// dispatcher, and the CPU driver entry (csrc/cpu/locality.cpp). The kernels take the validated record
// (plan/locality.hpp) and return how many spins were not +-1.
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "driver.hpp"
#include "plan/locality.hpp"

DC_DECLARE_KERNEL(int64_t locality_energy_f32(const deepcheap::plan::LocalityEnergy<float>& p))
DC_DECLARE_KERNEL(int64_t locality_energy_f64(const deepcheap::plan::LocalityEnergy<double>& p))

namespace deepcheap::cpu {

// Energies of a batch of lattices on the active SIMD target; returns the count of spins not +-1.
int64_t locality_energy(Driver, const plan::LocalityEnergy<float>& p, int device);
int64_t locality_energy(Driver, const plan::LocalityEnergy<double>& p, int device);

}  // namespace deepcheap::cpu
