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
constexpr int kRoofVectorBytes = 64;  // zmm
#elif defined(DC_TARGET_IS_avx2)
constexpr int kRoofVectorBytes = 32;  // ymm
#else
constexpr int kRoofVectorBytes = 8;   // a general-purpose register
#endif
// The integer and read probes are written on explicit vectors (GCC's vector extension), eight chains of
// them: left to the auto-vectoriser, GCC turned the 64-lane array of the first version into scalar
// code on the AVX-512 target (and the read probe's accumulators into memory), so those "limits" came
// out below the kernels they bound (sha256 at 181 % of one).
typedef uint64_t RoofU64 __attribute__((vector_size(kRoofVectorBytes)));
// The read probe loads at least 16 bytes at a time: the scalar target's circuit kernel runs on 8-word
// vector-extension types, which x86-64's baseline SSE2 loads 16 bytes at a time.
constexpr int kRoofReadBytes = kRoofVectorBytes < 16 ? 16 : kRoofVectorBytes;
typedef uint64_t RoofRead __attribute__((vector_size(kRoofReadBytes)));
constexpr int kRoofChains = 8;
constexpr int kRoofLanes = kRoofChains * kRoofVectorBytes / 8;

int roofline_lanes() { return kRoofLanes; }

// 2 integer ops (xor, add) per lane per iteration: iters * 2 * roofline_lanes() lane-ops in all.
uint64_t roofline_int_ops(int64_t iters, uint64_t seed) {
  auto start = [seed](int c) {
    RoofU64 x;
    for (int l = 0; l < kRoofVectorBytes / 8; ++l)
      x[l] = seed + static_cast<uint64_t>(c * (kRoofVectorBytes / 8) + l) * 0x9E3779B97F4A7C15ull;
    return x;
  };
  RoofU64 v0 = start(0), v1 = start(1), v2 = start(2), v3 = start(3);
  RoofU64 v4 = start(4), v5 = start(5), v6 = start(6), v7 = start(7);
  const RoofU64 k = RoofU64{} + (0xD1B54A32D192ED03ull ^ seed);
  for (int64_t i = 0; i < iters; ++i) {
    v0 = (v0 ^ k) + v0, v1 = (v1 ^ k) + v1, v2 = (v2 ^ k) + v2, v3 = (v3 ^ k) + v3;
    v4 = (v4 ^ k) + v4, v5 = (v5 ^ k) + v5, v6 = (v6 ^ k) + v6, v7 = (v7 ^ k) + v7;
  }
  const RoofU64 all = v0 ^ v1 ^ v2 ^ v3 ^ v4 ^ v5 ^ v6 ^ v7;
  uint64_t s = 0;
  for (int l = 0; l < kRoofVectorBytes / 8; ++l) s ^= all[l];
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

// Reads n words reps times (xor-reduced into eight vector accumulators): 8 n reps bytes.
uint64_t roofline_read(const uint64_t* DC_RESTRICT p, int64_t n, int64_t reps) {
  constexpr int kLanes = kRoofReadBytes / 8, kStride = kRoofChains * kLanes;
  auto at = [p](int64_t i) {
    RoofRead x;
    __builtin_memcpy(&x, p + i, sizeof(x));
    return x;
  };
  RoofRead a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
  uint64_t tail = 0;
  const int64_t whole = n / kStride * kStride;
  for (int64_t r = 0; r < reps; ++r) {
    for (int64_t i = 0; i < whole; i += kStride) {
      a0 ^= at(i), a1 ^= at(i + kLanes), a2 ^= at(i + 2 * kLanes), a3 ^= at(i + 3 * kLanes);
      a4 ^= at(i + 4 * kLanes), a5 ^= at(i + 5 * kLanes), a6 ^= at(i + 6 * kLanes), a7 ^= at(i + 7 * kLanes);
    }
    for (int64_t i = whole; i < n; ++i) tail ^= p[i];
    a0 += static_cast<uint64_t>(r);  // a loop-carried use: no pass can be skipped
  }
  const RoofRead all = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
  uint64_t s = tail;
  for (int l = 0; l < kLanes; ++l) s ^= all[l];
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
