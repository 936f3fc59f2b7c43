// Declarations of the random kernels (csrc/cpu/kernels/random.cpp) and the CPU driver entry.
#pragma once

#include <cstdint>

#include "deepcheap/common/interrupt.hpp"
#include "dispatch.hpp"
#include "driver.hpp"
#include "threads.hpp"

DC_DECLARE_KERNEL(void philox4x32_batch(const uint32_t* counter, const uint32_t* key, uint32_t* out,
                                        int64_t n))

namespace deepcheap::cpu {

// Counters in interruptible chunks (deepcheap/common/interrupt.hpp; issue 21): a batch the memory limit
// allows (some 10^9 counters) takes seconds, and each row's words depend on its own counter and key
// only, so the chunks never change a word. An interrupted call raises; its output is never returned.
inline void philox4x32(Driver, const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t n, int device) {
  Driver::check_device(device);
  const auto kernel = DC_DISPATCH(philox4x32_batch);
  // About 40 elementary operations per counter (10 rounds of two multiplies and some xors, SIMD).
  interrupt::run_chunks(n, interrupt::first_chunk(40.0), [&](int64_t begin, int64_t end) {
    kernel(counter + 4 * begin, key + 2 * begin, out + 4 * begin, end - begin);
  }, int64_t(4096) * num_threads());
}

}  // namespace deepcheap::cpu
