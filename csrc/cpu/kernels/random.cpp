// Bulk Philox4x32-10 over arrays of counters and keys: the generator's known-answer path, and the
// smallest kernel that exercises every SIMD target (the 32x32->64 multiplies vectorise).
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/common/philox.hpp"
#include "threads.hpp"

DC_NAMESPACE_BEGIN

void philox4x32_batch(const uint32_t* DC_RESTRICT counter, const uint32_t* DC_RESTRICT key,
                      uint32_t* DC_RESTRICT out, int64_t n) {
  parallel_for_chunks(n, 4096, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint32_t* c = counter + 4 * i;
      const uint32_t* k = key + 2 * i;
      const Philox4x32 r = philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
      out[4 * i + 0] = r.v[0];
      out[4 * i + 1] = r.v[1];
      out[4 * i + 2] = r.v[2];
      out[4 * i + 3] = r.v[3];
    }
  });
}

DC_NAMESPACE_END
