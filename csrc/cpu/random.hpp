// Declarations of the random kernels (csrc/cpu/kernels/random.cpp) for the dispatcher.
#pragma once

#include <cstdint>

#include "dispatch.hpp"

DC_DECLARE_KERNEL(void philox4x32_batch(const uint32_t* counter, const uint32_t* key, uint32_t* out,
                                        int64_t n))
