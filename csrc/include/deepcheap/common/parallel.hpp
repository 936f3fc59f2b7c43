// CPU parallel-for over independent items. Chunks of items are handed out one at a time (a thread
// that finishes takes the next), and every item's result (and random stream) depends only on the
// item's own index, so any thread count and any order give the same output. Dynamic, not static
// slices: on a shared machine one thread is often slower, and with slices the other waited for it at
// the end of every call (measured with benchmarks/bench_scaling.py).
#pragma once

#if !defined(__CUDACC__)
#include <cstdint>

#include "deepcheap/common/config.hpp"

DC_NAMESPACE_BEGIN

// body(begin, end) processes items [begin, end); chunks of `grain` items keep per-call overhead small.
template <class Body>
void parallel_for_chunks(int64_t n, int64_t grain, int threads, Body&& body) {
  if (grain < 1) grain = 1;
  const int64_t chunks = (n + grain - 1) / grain;
  if (threads <= 1 || chunks <= 1) {
    if (n > 0) body(int64_t(0), n);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * grain;
    const int64_t end = begin + grain < n ? begin + grain : n;
    body(begin, end);
  }
}

DC_NAMESPACE_END
#endif
