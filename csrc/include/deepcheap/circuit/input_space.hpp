// Per-word math for walking a circuit's 2^n input space bit-sliced: the input words of a contiguous
// range of it (vector v of the range is the integer start + v, bit i of which is input wire i, the
// truth-table order), random input words keyed by (seed, word, input pair), and the 64 x 64 bit
// transpose that turns packed output words back into one output pattern per vector.
#pragma once

#include "deepcheap/common/config.hpp"
#include "deepcheap/common/philox.hpp"

// Like gates.hpp, one namespace for every caller: only the generic CPU build and nvcc include it.
namespace deepcheap::circuit {

constexpr uint32_t kCircuitPurposeRandomInputs = 0xC1C00000u;

// Bit i (i < 6) of the 64 integers 64a, 64a + 1, ..., 64a + 63: lane j holds bit i of j.
DC_HD uint64_t low_bit_pattern(int i) {
  const uint64_t patterns[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
  return patterns[i];
}

// Bit `bit` of (S + addend), S a little-endian number of n_limbs 64-bit limbs (bits past it are 0).
DC_HD uint64_t bit_of_sum(const uint64_t* s, int n_limbs, uint64_t addend, int64_t bit) {
  const int64_t limb = bit >> 6;
  uint64_t carry = addend, v = 0;
  for (int64_t l = 0; l <= limb; ++l) {
    const uint64_t x = l < n_limbs ? s[l] : 0;
    v = x + carry;
    carry = v < carry ? 1u : 0u;
  }
  return (v >> (bit & 63)) & 1u;
}

// Word k of input bit i over the range that starts at the integer `start`, given as
// high = start >> 6 (n_limbs limbs) and r = start & 63. Lanes j < 64 - r hold 64(high + k) + r + j;
// lanes j >= 64 - r have wrapped into the next 64-block, 64(high + k + 1) + r + j - 64.
DC_HD uint64_t range_input_word(const uint64_t* high, int n_limbs, unsigned r, uint64_t k, int64_t i) {
  if (i < 6) {
    const uint64_t p = low_bit_pattern(static_cast<int>(i));
    return r == 0 ? p : (p >> r) | (p << (64 - r));
  }
  const uint64_t wrapped = r == 0 ? 0 : ~uint64_t(0) << (64 - r);
  const uint64_t same = bit_of_sum(high, n_limbs, k, i - 6) ? ~wrapped : 0;
  const uint64_t next = (r != 0 && bit_of_sum(high, n_limbs, k + 1, i - 6)) ? wrapped : 0;
  return same | next;
}

// Random input words of vector word k for input bits 2p and 2p + 1: one Philox call, counter
// (k, pair, purpose), so any split of the words gives the same vectors.
struct WordPair {
  uint64_t even, odd;
};
DC_HD WordPair random_input_words(uint64_t seed, uint64_t k, uint32_t pair) {
  const Philox4x32 r = philox_draw(seed, k, pair, kCircuitPurposeRandomInputs);
  return WordPair{uint64_t(r.v[0]) | (uint64_t(r.v[1]) << 32), uint64_t(r.v[2]) | (uint64_t(r.v[3]) << 32)};
}

// In-place transpose of a 64 x 64 bit matrix: afterwards bit o of a[j] is what bit j of a[o] was.
// Six rounds of block swaps (Hacker's Delight 7-3, with bit j the column of row a[o]).
DC_HD void transpose64(uint64_t* a) {
  uint64_t m = 0x00000000FFFFFFFFull;
  for (int width = 32; width != 0; width >>= 1, m ^= m << width) {
    for (int o = 0; o < 64; o = (o + width + 1) & ~width) {
      const uint64_t t = ((a[o] >> width) ^ a[o + width]) & m;
      a[o] ^= t << width;
      a[o + width] ^= t;
    }
  }
}

}  // namespace deepcheap::circuit
