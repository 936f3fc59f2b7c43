// CUDA driver entry of the Markov sampler (csrc/cuda/markov.cu): plain C++ declarations for the bindings.
#pragma once

#include "driver.hpp"

namespace deepcheap::plan {
struct MarkovSample;
}

namespace deepcheap::cuda {

// Copies the tables (and initial states) to `device`, runs one thread per chain (markov_chain in
// deepcheap/markov/alias.hpp) and copies the planned output arrays back.
// resident: the plan's output arrays are device addresses on `device`, written in place (the
// zero-copy path, memory.hpp); the tables and initial states still come from the host.
void markov_sample(Driver, const plan::MarkovSample& plan, int device, bool resident = false);

}  // namespace deepcheap::cuda
