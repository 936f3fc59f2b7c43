// CUDA circuit driver (csrc/cuda/circuit.cu): _cuda.CircuitCore is the shared declaration of
// csrc/plan/circuit.hpp for the CUDA driver tag; its State is the compiled plan's arrays copied to one
// device once and reused by every evaluation. Schedules: batch (0; sequential, 2, is the same thing on a
// GPU) and levelized (1: one launch per level); threads and block_words are CPU notions, ignored. Safe from several threads at
// once: the device plan is read-only, each call has its own buffers.
#pragma once

#include "driver.hpp"
#include "plan/circuit.hpp"

namespace deepcheap::cuda {

using CircuitCore = plan::CircuitCore<Driver>;

}  // namespace deepcheap::cuda
