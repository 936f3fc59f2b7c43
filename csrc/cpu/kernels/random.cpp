// Bulk Philox4x32-10 over arrays of counters and keys: the generator's known-answer path, and the
// smallest kernel that exercises every SIMD target (the 32x32->64 multiplies vectorise).
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/common/philox.hpp"
#include "cpu/threads.hpp"

DC_NAMESPACE_BEGIN

void philox4x32_batch(const uint32_t* DC_RESTRICT counter, const uint32_t* DC_RESTRICT key,
                      uint32_t* DC_RESTRICT out, int64_t n) {
  parallel_for_chunks(n, 4096, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) philox4x32_item(counter, key, out, i);
  });
}

DC_NAMESPACE_END
