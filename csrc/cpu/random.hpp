// Declarations of the random kernels (csrc/cpu/kernels/random.cpp) and the CPU driver entry.
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "driver.hpp"

DC_DECLARE_KERNEL(void philox4x32_batch(const uint32_t* counter, const uint32_t* key, uint32_t* out,
                                        int64_t n))

namespace deepcheap::cpu {

inline void philox4x32(Driver, const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t n, int device) {
  Driver::check_device(device);
  DC_DISPATCH(philox4x32_batch)(counter, key, out, n);
}

}  // namespace deepcheap::cpu
