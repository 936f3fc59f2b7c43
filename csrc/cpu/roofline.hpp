// The machine-limit probes (csrc/cpu/kernels/roofline.cpp) and their timed, threaded driver.
#pragma once

#include <cstdint>
#include <string>

#include "dispatch.hpp"

DC_DECLARE_KERNEL(int roofline_lanes())
DC_DECLARE_KERNEL(uint64_t roofline_int_ops(int64_t iters, uint64_t seed))
DC_DECLARE_KERNEL(double roofline_fp_ops(int64_t iters, double seed))
DC_DECLARE_KERNEL(uint64_t roofline_read(const uint64_t* p, int64_t n, int64_t reps))
DC_DECLARE_KERNEL(int64_t roofline_philox_run())
DC_DECLARE_KERNEL(uint64_t roofline_philox(int64_t blocks, uint64_t seed, int64_t run))

namespace deepcheap::cpu {

struct RooflineProbe {
  double seconds;   // wall time of the timed pass (all threads together, after one untimed pass)
  double work;      // lane-ops, flops or bytes done in it, over all threads
  uint64_t check;   // checksum of the results, so no probe is optimised away
};

// kind: "int" (64-bit integer lane-ops), "fp" (float64 flops), "read" (bytes read from a buffer of
// `bytes` per thread) or "philox" (32-bit Philox4x32-10 words). `amount`: iterations per thread (int,
// fp), passes over the buffer (read) or runs of counters (philox).
RooflineProbe roofline_probe(const std::string& kind, int64_t amount, int64_t bytes, int threads);

}  // namespace deepcheap::cpu
