// Philox4x32-10 (or kRounds rounds: philox4x32_r) for a run of counters that differ only in their first
// word, vectorised by hand: 16 lanes on AVX-512, 8 on AVX2, scalar elsewhere and for the tail. Shared
// by the Markov and Ising kernels (include only from csrc/cpu/kernels/*.cpp: the code sits in the target's
// namespace). Every path gives exactly philox4x32_10's words, so all SIMD targets agree bit for bit.
#pragma once

#include "deepcheap/common/philox.hpp"

#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
#include <immintrin.h>
#endif

DC_NAMESPACE_BEGIN

// Counters (c0 + stride t, c1, c2, c3) for t = 0..n-1 (first word modulo 2^32), or (list[t], c1, c2,
// c3) when `list` is given, under key (key0, key1); word k of counter t goes to ok[t].
template <int kRounds = 10>
inline void philox_strided(uint32_t c0, uint32_t stride, uint32_t c1, uint32_t c2, uint32_t c3,
                           uint32_t key0, uint32_t key1, int64_t n, const uint32_t* list,
                           uint32_t* DC_RESTRICT o0, uint32_t* DC_RESTRICT o1, uint32_t* DC_RESTRICT o2,
                           uint32_t* DC_RESTRICT o3) {
  int64_t t = 0;
#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
  uint32_t k0[kRounds], k1[kRounds];  // the key schedule, the same for every lane
  k0[0] = key0;
  k1[0] = key1;
  for (int r = 1; r < kRounds; ++r) {
    k0[r] = k0[r - 1] + kPhiloxW0;
    k1[r] = k1[r - 1] + kPhiloxW1;
  }
#endif
#if defined(DC_TARGET_IS_avx512)
  // Each 32-bit word sits in the low half of a 64-bit lane (8 counters per register, two registers per
  // 16): vpmuludq then yields the whole product with no shuffling, the high word is one shift away,
  // and the three-way xors are one vpternlogd each. The high halves hold junk that vpmuludq ignores;
  // vpmovqd keeps the low halves at the end.
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxM1));
  const __m512i step_a = _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(stride));
  const __m512i step_b = _mm512_mullo_epi64(_mm512_setr_epi64(8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi64(stride));
  for (; t + 16 <= n; t += 16) {
    __m512i a0, b0;
    if (list) {
      a0 = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(list + t)));
      b0 = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(list + t + 8)));
    } else {
      const __m512i base = _mm512_set1_epi64(static_cast<long long>(c0 + stride * static_cast<uint32_t>(t)));
      a0 = _mm512_add_epi64(base, step_a);
      b0 = _mm512_add_epi64(base, step_b);
    }
    __m512i a1 = _mm512_set1_epi32(static_cast<int>(c1)), b1 = a1;
    __m512i a2 = _mm512_set1_epi32(static_cast<int>(c2)), b2 = a2;
    __m512i a3 = _mm512_set1_epi32(static_cast<int>(c3)), b3 = a3;
    for (int r = 0; r < kRounds; ++r) {
      const __m512i key_0 = _mm512_set1_epi32(static_cast<int>(k0[r]));
      const __m512i key_1 = _mm512_set1_epi32(static_cast<int>(k1[r]));
      const __m512i pa0 = _mm512_mul_epu32(a0, m0), pa1 = _mm512_mul_epu32(a2, m1);
      const __m512i pb0 = _mm512_mul_epu32(b0, m0), pb1 = _mm512_mul_epu32(b2, m1);
      a0 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pa1, 32), a1, key_0, 0x96);
      a2 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pa0, 32), a3, key_1, 0x96);
      b0 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pb1, 32), b1, key_0, 0x96);
      b2 = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pb0, 32), b3, key_1, 0x96);
      a1 = pa1;
      a3 = pa0;
      b1 = pb1;
      b3 = pb0;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o0 + t), _mm512_cvtepi64_epi32(a0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o0 + t + 8), _mm512_cvtepi64_epi32(b0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o1 + t), _mm512_cvtepi64_epi32(a1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o1 + t + 8), _mm512_cvtepi64_epi32(b1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o2 + t), _mm512_cvtepi64_epi32(a2));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o2 + t + 8), _mm512_cvtepi64_epi32(b2));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o3 + t), _mm512_cvtepi64_epi32(a3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o3 + t + 8), _mm512_cvtepi64_epi32(b3));
  }
#elif defined(DC_TARGET_IS_avx2)
  // hi/lo of the 32x32->64 products from vpmuludq on the even and the odd lanes, blended.
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  const __m256i lanes = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32(static_cast<int>(stride)));
  for (; t + 8 <= n; t += 8) {
    __m256i x0 = list ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(list + t))
                      : _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(c0 + stride * static_cast<uint32_t>(t))), lanes);
    __m256i x1 = _mm256_set1_epi32(static_cast<int>(c1)), x2 = _mm256_set1_epi32(static_cast<int>(c2));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(c3));
    for (int r = 0; r < kRounds; ++r) {
      const __m256i e0 = _mm256_mul_epu32(x0, m0), o0v = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
      const __m256i e2 = _mm256_mul_epu32(x2, m1), o2v = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0v, 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e2, 32), o2v, 0xAA);
      const __m256i lo0 = _mm256_mullo_epi32(x0, m0), lo1 = _mm256_mullo_epi32(x2, m1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0[r])));
      x1 = lo1;
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1[r])));
      x3 = lo0;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o0 + t), x0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o1 + t), x1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o2 + t), x2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o3 + t), x3);
  }
#endif
  for (; t < n; ++t) {
    const Philox4x32 b =
        philox4x32_r<kRounds>(list ? list[t] : c0 + stride * static_cast<uint32_t>(t), c1, c2, c3, key0, key1);
    o0[t] = b.v[0];
    o1[t] = b.v[1];
    o2[t] = b.v[2];
    o3[t] = b.v[3];
  }
}

DC_NAMESPACE_END
