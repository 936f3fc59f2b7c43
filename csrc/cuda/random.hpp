// CUDA driver entry of dc.random.philox4x32 (csrc/cuda/random.cu).
#pragma once

#include <cstdint>

#include "driver.hpp"

namespace deepcheap::cuda {

// resident: counter, key and out are device addresses on `device` (the zero-copy path, memory.hpp).
void philox4x32(Driver, const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t n, int device,
                bool resident = false);

}  // namespace deepcheap::cuda
