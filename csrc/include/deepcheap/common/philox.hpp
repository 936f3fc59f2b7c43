// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the one
// random generator of the package. Counter-based: the output depends only on (counter, key), so every
// sampler builds its counter from (item, step, purpose) and its key from the user's seed, and gets the
// same numbers on any thread count and on the GPU. Tested against the Random123 known-answer vectors.
#pragma once

#include "deepcheap/common/config.hpp"

DC_NAMESPACE_BEGIN

struct Philox4x32 {
  uint32_t v[4];
};

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

DC_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// kRounds rounds of Philox4x32 on counter (c0..c3) with key (k0, k1); the key is bumped before
// rounds 2..kRounds, as in Random123's philox4x32_R. Ten rounds is the package's generator; seven is
// the fewest with which Salmon et al. (SC'11, Table 2) found Philox4x32 Crush-resistant (passing
// TestU01's SmallCrush, Crush and BigCrush), which the Ising sweeps may select (ising.hpp).
template <int kRounds>
DC_HD Philox4x32 philox4x32_r(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
#if defined(__CUDACC__)
#  pragma unroll
#endif
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kPhiloxM0, c0, hi0, lo0);
    philox_mulhilo(kPhiloxM1, c2, hi1, lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

DC_HD Philox4x32 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                uint32_t k1) {
  return philox4x32_r<10>(c0, c1, c2, c3, k0, k1);
}

// One item of a bulk call (dc.random.philox4x32): counter row i (4 words) under key row i (2 words)
// into out row i. The CPU kernel and the CUDA kernel both run exactly this.
DC_HD void philox4x32_item(const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t i) {
  const uint32_t* c = counter + 4 * i;
  const uint32_t* k = key + 2 * i;
  const Philox4x32 r = philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
  out[4 * i + 0] = r.v[0];
  out[4 * i + 1] = r.v[1];
  out[4 * i + 2] = r.v[2];
  out[4 * i + 3] = r.v[3];
}

// The package-wide key: a 64-bit user seed split into Philox's two key words.
DC_HD uint32_t seed_key0(uint64_t seed) { return static_cast<uint32_t>(seed); }
DC_HD uint32_t seed_key1(uint64_t seed) { return static_cast<uint32_t>(seed >> 32); }

// The package-wide counter layout: (item low, item high, step, purpose). `purpose` separates the
// streams that one item draws for different reasons (a level, a colour, a tie-break), so no two uses
// ever share a counter.
DC_HD Philox4x32 philox_draw(uint64_t seed, uint64_t item, uint32_t step, uint32_t purpose) {
  return philox4x32_10(static_cast<uint32_t>(item), static_cast<uint32_t>(item >> 32), step, purpose,
                       seed_key0(seed), seed_key1(seed));
}

// Uniform in [0, 1) with 24 random bits (exact in float32).
DC_HD float uniform_float(uint32_t bits) { return static_cast<float>(bits >> 8) * 0x1.0p-24f; }

// Uniform in [0, 1) with 53 random bits from two words (exact in float64).
DC_HD double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t x = (static_cast<uint64_t>(hi) << 21) ^ (static_cast<uint64_t>(lo) >> 11);
  return static_cast<double>(x & ((uint64_t(1) << 53) - 1)) * 0x1.0p-53;
}

// Integer in [0, n) from one 32-bit word by multiply-shift (Lemire). Each value's probability is off
// by at most 1 / 2^32 relative to 1 / n; callers needing more use uniform_double or two words.
DC_HD uint32_t bounded_u32(uint32_t bits, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(bits) * n) >> 32);
}

DC_NAMESPACE_END
