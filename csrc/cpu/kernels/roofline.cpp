// Machine-limit probes for benchmarks/roofline.py (issue 26 §2): how many 64-bit integer lane-ops,
// double-precision flops and bytes read per second this core reaches with the target's own vectors.
// Not kernel math (nothing here is a result of the package): each probe is the simplest loop that
// saturates one resource, compiled per SIMD target like every kernel, so the limit it measures is the
// one that target's kernels live under. Each keeps enough independent chains to cover the latency of
// its operation (8 vector registers of lanes), and returns a checksum so nothing is optimised away.
#include <cstdint>

#include "deepcheap/common/config.hpp"
#include "philox_simd.hpp"

DC_NAMESPACE_BEGIN

#if defined(DC_TARGET_IS_avx512)
constexpr int kRoofLanes = 64;  // 8 zmm of 8 x 64-bit lanes
#elif defined(DC_TARGET_IS_avx2)
constexpr int kRoofLanes = 32;  // 8 ymm of 4 x 64-bit lanes
#else
constexpr int kRoofLanes = 8;   // 8 general-purpose registers
#endif

int roofline_lanes() { return kRoofLanes; }

// 2 integer ops (xor, add) per lane per iteration: iters * 2 * roofline_lanes() lane-ops in all.
uint64_t roofline_int_ops(int64_t iters, uint64_t seed) {
  uint64_t v[kRoofLanes];
  for (int j = 0; j < kRoofLanes; ++j) v[j] = seed + static_cast<uint64_t>(j) * 0x9E3779B97F4A7C15ull;
  const uint64_t k = 0xD1B54A32D192ED03ull ^ seed;
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 64
    for (int j = 0; j < kRoofLanes; ++j) v[j] = (v[j] ^ k) + v[j];
  }
  uint64_t s = 0;
  for (int j = 0; j < kRoofLanes; ++j) s ^= v[j];
  return s;
}

// 2 flops (a multiply-add, fused where the target has FMA) per lane per iteration; the values converge
// to b / (1 - a) = 0.1, far from subnormals.
double roofline_fp_ops(int64_t iters, double seed) {
  double v[kRoofLanes];
  for (int j = 0; j < kRoofLanes; ++j) v[j] = seed + j;
  const double a = 0.999999, b = 1e-7;
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 64
    for (int j = 0; j < kRoofLanes; ++j) v[j] = v[j] * a + b;
  }
  double s = 0;
  for (int j = 0; j < kRoofLanes; ++j) s += v[j];
  return s;
}

// Reads n words reps times (xor-reduced into roofline_lanes() accumulators): 8 n reps bytes.
uint64_t roofline_read(const uint64_t* DC_RESTRICT p, int64_t n, int64_t reps) {
  uint64_t acc[kRoofLanes] = {};
  const int64_t whole = n / kRoofLanes * kRoofLanes;
  for (int64_t r = 0; r < reps; ++r) {
    for (int64_t i = 0; i < whole; i += kRoofLanes) {
#pragma GCC unroll 64
      for (int j = 0; j < kRoofLanes; ++j) acc[j] ^= p[i + j];
    }
    for (int64_t i = whole; i < n; ++i) acc[0] ^= p[i];
    acc[r % kRoofLanes] += static_cast<uint64_t>(r);  // a loop-carried use: no pass can be skipped
  }
  uint64_t s = 0;
  for (int j = 0; j < kRoofLanes; ++j) s ^= acc[j];
  return s;
}

// The generator alone, as the Markov and Ising kernels call it (philox_simd.hpp): `blocks` runs of
// kRoofPhiloxRun Philox4x32-10 counters into L1-resident buffers; 4 words per counter.
constexpr int64_t kRoofPhiloxRun = 1024;
int64_t roofline_philox_run() { return kRoofPhiloxRun; }

// `run` (<= kRoofPhiloxRun, passed in so the compiler cannot specialise the tail away) counters per block.
uint64_t roofline_philox(int64_t blocks, uint64_t seed, int64_t run) {
  if (run < 4 || run > kRoofPhiloxRun) run = kRoofPhiloxRun;
  alignas(64) uint32_t o0[kRoofPhiloxRun], o1[kRoofPhiloxRun], o2[kRoofPhiloxRun], o3[kRoofPhiloxRun];
  uint64_t s = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    philox_strided(0, 1, static_cast<uint32_t>(b), static_cast<uint32_t>(seed), 0, 0x5EED, 0xC0DE, run, nullptr,
                   o0, o1, o2, o3);
    s ^= static_cast<uint64_t>(o0[b % run] ^ o1[(b + 1) % run]) << 32 | (o2[(b + 2) % run] ^ o3[(b + 3) % run]);
  }
  return s;
}

DC_NAMESPACE_END
