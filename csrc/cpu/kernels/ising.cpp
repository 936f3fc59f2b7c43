// Hot loops of the Ising and k-local Boltzmann samplers (compiled once per SIMD target). Every random
// number is a Philox draw keyed by the seed with a counter built from (site or spin, replica, sweep,
// colour), and each parallel item (a lattice row, a replica) writes only its own sites, so any thread
// count and any SIMD target produce the same lattices bit for bit.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/ising/ising.hpp"
#include "philox_simd.hpp"
#include "threads.hpp"

#include <omp.h>

#include <atomic>
#include <memory>
#include <thread>

#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
#include <immintrin.h>
#endif

DC_NAMESPACE_BEGIN

namespace {
// Random words drawn for a chunk of a row before the updates, in a loop the compiler vectorises; the
// sites whose replicas are still undecided after them draw more on demand (multispin_metropolis_site).
constexpr int kPrefixDraws = 4;
constexpr int kPrefixWords = 2 * kPrefixDraws;
constexpr int64_t kRowChunk = 64;

// Items per parallel chunk so that each chunk holds about `work` units: tiny lattices run on one thread
// instead of paying a fork/join (milliseconds on a busy machine) per colour. Chunking never changes
// results, since every item's random numbers depend only on its own coordinates.
inline int64_t grain_for(int64_t work_per_item, int64_t work) {
  return work_per_item >= work ? 1 : (work + work_per_item - 1) / work_per_item;
}

inline int64_t wrap_next(int64_t x, int64_t L) { return x + 1 == L ? 0 : x + 1; }
inline int64_t wrap_prev(int64_t x, int64_t L) { return x == 0 ? L - 1 : x - 1; }

// One colour of one row of one 64-replica lattice, in the counter layout of ising.hpp.
// kTwoClasses: h = 0, where only S = 3 and S = 4 satisfied bonds need a random test (thresholds
// threshold[0] for S = 3 and threshold[1] for S = 4, any spin): the header's two-class steps run with the
// first kPrefixDraws draws of the row chunk made together (vectorised), which decides most sites, and
// the rest drawn together for the sites still undecided.
template <bool kTwoClasses, int kRounds>
void multispin_row(uint64_t* DC_RESTRICT here, const uint64_t* DC_RESTRICT up, const uint64_t* DC_RESTRICT down,
                   int64_t L, int64_t i, uint32_t group, int colour, bool ferro, const MultispinTable& table,
                   uint64_t seed, uint32_t step) {
  const int64_t half = L / 2;
  const int64_t j0 = (colour + i) & 1;
  const uint32_t key0 = seed_key0(seed), key1 = seed_key1(seed);
  uint64_t bit3[kPrefixWords], bit4[kPrefixWords];
  for (int k = 0; k < kPrefixWords; ++k) {
    bit3[k] = threshold_bit_mask(table.threshold[0], k);
    bit4[k] = threshold_bit_mask(table.threshold[1], k);
  }
  uint32_t random[kPrefixDraws][4][kRowChunk];
  TwoClassSite sites[kRowChunk];
  uint32_t pending[kRowChunk], pending_counter[kRowChunk], more[4][kRowChunk];
  for (int64_t t0 = 0; t0 < half; t0 += kRowChunk) {
    const int64_t n = half - t0 < kRowChunk ? half - t0 : kRowChunk;
    // Items multispin_item(group, site) of the chunk's sites: word 0 the site, stride 2; word 1 the group.
    const uint64_t item0 = multispin_item(group, i * L + j0 + 2 * t0);
    const uint32_t site0 = uint32_t(item0);
    for (int q = 0; q < kPrefixDraws; ++q)
      philox_strided<kRounds>(site0, 2, uint32_t(item0 >> 32), step, multispin_purpose(colour, q), key0, key1, n,
                              nullptr, random[q][0], random[q][1], random[q][2], random[q][3]);
    if (kTwoClasses) {
      for (int64_t t = 0; t < n; ++t) {
        const int64_t j = j0 + 2 * (t0 + t);
        TwoClassSite x = multispin_two_class_begin(here[j], up[j], down[j], here[wrap_prev(j, L)],
                                                   here[wrap_next(j, L)], ferro);
        for (int k = 0; k < kPrefixWords; ++k) {
          const int q = k >> 1, w = (k & 1) * 2;  // multispin_word(draw q, k), from the drawn columns
          multispin_two_class_word(x, uint64_t(random[q][w + 1][t]) << 32 | random[q][w][t], bit3[k], bit4[k]);
        }
        sites[t] = x;
      }
      // Sites with replicas still undecided continue with draws kPrefixDraws, + 1, ..., drawn together
      // (vectorised) for all such sites of the chunk.
      int64_t n_pending = 0;
      for (int64_t t = 0; t < n; ++t) {
        if (sites[t].undecided) {
          pending[n_pending] = uint32_t(t);
          pending_counter[n_pending++] = site0 + 2 * uint32_t(t);
        }
      }
      for (int q = kPrefixDraws; q < 32 && n_pending > 0; ++q) {
        philox_strided<kRounds>(0, 0, uint32_t(item0 >> 32), step, multispin_purpose(colour, q), key0, key1,
                                n_pending, pending_counter, more[0], more[1], more[2], more[3]);
        const uint64_t b3[2] = {threshold_bit_mask(table.threshold[0], 2 * q),
                                threshold_bit_mask(table.threshold[0], 2 * q + 1)};
        const uint64_t b4[2] = {threshold_bit_mask(table.threshold[1], 2 * q),
                                threshold_bit_mask(table.threshold[1], 2 * q + 1)};
        int64_t kept = 0;
        for (int64_t p = 0; p < n_pending; ++p) {
          TwoClassSite& x = sites[pending[p]];
          multispin_two_class_word(x, uint64_t(more[1][p]) << 32 | more[0][p], b3[0], b4[0]);
          multispin_two_class_word(x, uint64_t(more[3][p]) << 32 | more[2][p], b3[1], b4[1]);
          if (x.undecided) {
            pending[kept] = pending[p];
            pending_counter[kept++] = pending_counter[p];
          }
        }
        n_pending = kept;
      }
      for (int64_t t = 0; t < n; ++t) here[j0 + 2 * (t0 + t)] ^= sites[t].flip;
    } else {
      const uint32_t purpose = multispin_purpose(colour, 0);
      for (int64_t t = 0; t < n; ++t) {
        const int64_t j = j0 + 2 * (t0 + t);
        uint64_t prefix[kPrefixWords];
        for (int k = 0; k < kPrefixWords; ++k) {
          const int q = k >> 1, w = (k & 1) * 2;
          prefix[k] = uint64_t(random[q][w + 1][t]) << 32 | random[q][w][t];
        }
        here[j] = multispin_metropolis_site(here[j], up[j], down[j], here[wrap_prev(j, L)], here[wrap_next(j, L)],
                                            ferro, table, prefix, kPrefixWords, seed,
                                            multispin_item(group, i * L + j), step, purpose, kRounds);
      }
    }
  }
}

#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
// The few vector operations the Philox draws and the bit-serial test use, for AVX2 and AVX-512
// vectors, so that both are written once (PhiloxQuad::draw<Lanes256 or Lanes512>, lanes_test). The
// three-input forms are one vpternlogq on AVX-512 and two instructions on AVX2.
struct Lanes256 {
  using V = __m256i;
  static V set32(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static V set64(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static V mul(V a, V b) { return _mm256_mul_epu32(a, b); }
  static V high(V a) { return _mm256_srli_epi64(a, 32); }
  static V xor2(V a, V b) { return _mm256_xor_si256(a, b); }
  static V and2(V a, V b) { return _mm256_and_si256(a, b); }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static V xor_and(V a, V b, V c) { return _mm256_xor_si256(a, _mm256_and_si256(b, c)); }        // a ^ (b & c)
  static V xor_andnot(V a, V b, V c) { return _mm256_xor_si256(a, _mm256_andnot_si256(b, c)); }  // a ^ (~b & c)
  static V and_xnor(V a, V b, V c) { return _mm256_andnot_si256(_mm256_xor_si256(b, c), a); }    // a & ~(b ^ c)
  // Each lane's (hi << 32 | lo) from the low halves of lo and hi.
  static V join(V lo, V hi) { return _mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA); }
  static V maj(V a, V b, V c) {  // (a & b) | ((a ^ b) & c)
    return _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(_mm256_xor_si256(a, b), c));
  }
  static V or_and(V a, V b, V c) { return _mm256_or_si256(a, _mm256_and_si256(b, c)); }  // a | (b & c)
  static V xnor(V a, V b) { return _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_set1_epi64x(-1)); }
  static V add64(V a, V b) { return _mm256_add_epi64(a, b); }
  // The pending list (flush_pending): aligned loads, lane masks of 4 bits.
  static constexpr int kWidth = 4;
  static constexpr unsigned kAll = 0xF;
  static V load(const void* x) { return _mm256_load_si256(static_cast<const __m256i*>(x)); }
  static unsigned nonzero(V x);
  static void compress(void* list, int at, unsigned keep, V x);
  // here[column[l]] = w[l] for the lanes l in `lanes` (the columns are distinct).
  static void scatter(uint64_t* here, unsigned lanes, V column, V w) {
    alignas(32) uint64_t vw[4];
    alignas(32) int64_t vc[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(vw), w);
    _mm256_store_si256(reinterpret_cast<__m256i*>(vc), column);
    for (; lanes != 0; lanes &= lanes - 1) {
      const int l = __builtin_ctz(lanes);
      here[vc[l]] = vw[l];
    }
  }
};
#if defined(DC_TARGET_IS_avx512)
struct Lanes512 {
  using V = __m512i;
  static V set32(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static V set64(uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static V mul(V a, V b) { return _mm512_mul_epu32(a, b); }
  static V high(V a) { return _mm512_srli_epi64(a, 32); }
  static V xor2(V a, V b) { return _mm512_xor_si512(a, b); }
  static V and2(V a, V b) { return _mm512_and_si512(a, b); }
  static V xor3(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0x96); }
  static V xor_and(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0x78); }
  static V xor_andnot(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0xD2); }
  static V and_xnor(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0x90); }
  static V join(V lo, V hi) { return _mm512_mask_blend_epi32(0xAAAA, lo, _mm512_slli_epi64(hi, 32)); }
  static V maj(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0xE8); }
  static V or_and(V a, V b, V c) { return _mm512_ternarylogic_epi64(a, b, c, 0xF8); }
  static V xnor(V a, V b) { return _mm512_ternarylogic_epi64(a, b, b, 0xC3); }
  static V add64(V a, V b) { return _mm512_add_epi64(a, b); }
  static constexpr int kWidth = 8;
  static constexpr unsigned kAll = 0xFF;
  static V load(const void* x) { return _mm512_load_si512(x); }
  static unsigned nonzero(V x) { return _mm512_test_epi64_mask(x, x); }
  // Vector compress: the lanes set in `keep` to list[at], list[at + 1], ... (8 entries written).
  static void compress(void* list, int at, unsigned keep, V x) {
    _mm512_storeu_si512(static_cast<uint64_t*>(list) + at, _mm512_maskz_compress_epi64(static_cast<__mmask8>(keep), x));
  }
  static void scatter(uint64_t* here, unsigned lanes, V column, V w) {
    _mm512_mask_i64scatter_epi64(static_cast<void*>(here), static_cast<__mmask8>(lanes), column, w, 8);
  }
};
#endif
// The h = 0 row of multispin_row<true, kRounds> with everything in AVX2 registers: four sites of the
// colour per vector (lanes hold sites t, t + 2, t + 1, t + 3 of the row's colour: what unpacking two
// loads of eight consecutive words gives), the Philox draws made four counters at a time with each
// 32-bit word in the low half of a 64-bit lane (vpmuludq then gives hi and lo with no shuffle), and
// the bit-serial test run on the four sites' words together for the first 8 words (a site of T ~ 2
// needs about 7), then on the sites still undecided, four at a time (PendingSites). Each site sees exactly the words of
// multispin_two_class_site (same counters, same order), so the lattice equals the scalar kernel's bit
// for bit; the extra words a vector draws for a site already decided change nothing.
template <int kRounds>
struct PhiloxQuad {
  // Per row: the lane-independent part of rounds 1 and 2 (counter words 1 and 2 are the same for every
  // site of a row: the group and the step), and the key schedule.
  uint32_t k0[kRounds], k1[kRounds];
  uint32_t a0, b1, c2_key, c3;  // see draw()
  PhiloxQuad(uint64_t seed, uint32_t group, uint32_t step) {
    k0[0] = seed_key0(seed);
    k1[0] = seed_key1(seed);
    for (int r = 1; r < kRounds; ++r) {
      k0[r] = k0[r - 1] + kPhiloxW0;
      k1[r] = k1[r - 1] + kPhiloxW1;
    }
    uint32_t hi, lo;
    philox_mulhilo(kPhiloxM1, step, hi, lo);  // round 1, word pair (2, 3): the same for every site
    a0 = hi ^ group ^ k0[0];                    // round-1 word 0
    b1 = lo;                                    // round-1 word 1
    philox_mulhilo(kPhiloxM0, a0, hi, lo);      // round 2, word pair (0, 1) of a lane-independent word 0
    c2_key = hi ^ k1[1];                        // round-2 word 2 = this ^ round-1 word 3
    c3 = lo;                                    // round-2 word 3
  }
  // Draw with counter word 3 = purpose for the sites (four per AVX2 vector, eight per AVX-512 one)
  // whose round-1 products site * M0 are `p0`: the 64-bit words (v1 << 32 | v0) and (v3 << 32 | v2)
  // of each lane.
  template <class O, class V = typename O::V>
  __attribute__((always_inline)) void draw(V p0, uint32_t purpose, V& w0, V& w1) const {
    const V m0 = O::set32(kPhiloxM0), m1 = O::set32(kPhiloxM1);
    // Round 1: word 2 = hi(site M0) ^ purpose ^ k1[0], word 3 = lo(site M0) (= p0's low half).
    const V x2 = O::xor2(O::high(p0), O::set32(purpose ^ k1[0]));
    // Round 2: words 0 and 1 from word 2's product; words 2 and 3 from the constant word 0.
    const V q1 = O::mul(x2, m1);
    V y0 = O::xor2(O::high(q1), O::set32(b1 ^ k0[1]));
    V y1 = q1;
    V y2 = O::xor2(p0, O::set32(c2_key));
    V y3 = O::set32(c3);
    for (int r = 2; r < kRounds; ++r) {
      const V e0 = O::mul(y0, m0), e2 = O::mul(y2, m1);
      y0 = O::xor3(O::high(e2), y1, O::set32(k0[r]));
      y2 = O::xor3(O::high(e0), y3, O::set32(k1[r]));
      y1 = e2;
      y3 = e0;
    }
    w0 = O::join(y0, y1);
    w1 = O::join(y2, y3);
  }
};

// The bit-serial test of one word k on four or eight lanes (multispin_two_class_word), on the site's
// new word w (s with the flips so far: a lane still undecided has not flipped, so an accepted one flips
// by xor) and its undecided lanes; class 4 lanes (c4) take the S = 4 threshold's bit, the others the
// S = 3 one's (only their undecided lanes matter): bits = m3 ^ (c4 & (m3 ^ m4)).
template <class O, class V = typename O::V>
__attribute__((always_inline)) inline void lanes_test(V r, int k, V c4, const uint64_t* mask3, const uint64_t* mask34,
                                                      V& w, V& undecided) {
  const V bits = O::xor_and(O::set64(mask3[k]), c4, O::set64(mask34[k]));
  w = O::xor_andnot(w, r, O::and2(undecided, bits));  // w ^ (~r & undecided & bits)
  undecided = O::and_xnor(undecided, r, bits);        // undecided & ~(r ^ bits)
}

// Sites of a row still undecided after the first kFixedDraws draws, gathered so that their further
// draws run four (AVX2) or eight (AVX-512) sites per vector however they are spread along the row (a
// vector of neighbours would keep drawing for all of them while one is undecided). Per site: its new
// word so far, its undecided lanes, its class 4 lanes and its column (the site is row base + column).
constexpr int kFixedDraws = 4;
constexpr int kPendingCapacity = 64;
struct PendingSites {
  // 8 entries of slack: the AVX-512 row appends a whole vector (compressed) and pads to a multiple of 8.
  alignas(64) uint64_t w[kPendingCapacity + 8], undecided[kPendingCapacity + 8], class4[kPendingCapacity + 8];
  alignas(64) int64_t column[kPendingCapacity + 8];
  int n = 0;
};

// AVX2 has no vector compress: lane compaction by vpermd with indices from a table. Row m of
// kCompress4 moves the 64-bit lanes set in m (4 bits) to the front, in order.
struct Compress4Table {
  alignas(32) int32_t index[16][8];
  constexpr Compress4Table() : index() {
    for (int m = 0; m < 16; ++m) {
      int out = 0;
      for (int l = 0; l < 4; ++l)
        if (m >> l & 1) index[m][2 * out] = 2 * l, index[m][2 * out + 1] = 2 * l + 1, ++out;
      for (; out < 4; ++out) index[m][2 * out] = 0, index[m][2 * out + 1] = 1;
    }
  }
};
constexpr Compress4Table kCompress4{};

// The lanes of x whose bit is set in `keep`, stored from list[at] on (4 entries written).
__attribute__((always_inline)) inline void compress4_store(void* list, int at, int keep, __m256i x) {
  const __m256i idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress4.index[keep]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<uint64_t*>(list) + at),
                      _mm256_permutevar8x32_epi32(x, idx));
}

// The 4-bit mask of the lanes of x that are not zero.
__attribute__((always_inline)) inline int nonzero_lanes4(__m256i x) {
  return ~_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(x, _mm256_setzero_si256()))) & 0xF;
}

inline unsigned Lanes256::nonzero(__m256i x) { return static_cast<unsigned>(nonzero_lanes4(x)); }
inline void Lanes256::compress(void* list, int at, unsigned keep, __m256i x) {
  compress4_store(list, at, static_cast<int>(keep), x);
}

// Draws kFixedDraws, kFixedDraws + 1, ... for the pending sites, four (AVX2) or eight (AVX-512) per
// vector, until none is undecided (or all 32 draws, 64 words, are used: a uniform equal to the
// threshold in all 64 bits is not below it), writing each site's new word into the row as it is
// decided and compacting the list by lane compress. `site_base` is the row's first site (i L). Same
// words per site as the scalar kernel, so the same lattice.
template <class O, int kRounds>
void flush_pending(PendingSites& p, uint64_t* DC_RESTRICT here, uint32_t site_base, int colour,
                   const PhiloxQuad<kRounds>& gen, const uint64_t* mask3, const uint64_t* mask34) {
  using V = typename O::V;
  const V m0 = O::set32(kPhiloxM0), base = O::set64(site_base);
  for (int q = kFixedDraws; q < 32 && p.n > 0; ++q) {
    int kept = 0;
    for (int g = 0; g < p.n; g += O::kWidth) {
      // The lanes past the list's end hold stale entries: computed on, never written back.
      const unsigned in = p.n - g >= O::kWidth ? O::kAll : (1u << (p.n - g)) - 1;
      const V c4 = O::load(p.class4 + g), column = O::load(p.column + g);
      V w = O::load(p.w + g), und = O::load(p.undecided + g);
      V r0, r1;
      gen.template draw<O>(O::mul(O::add64(column, base), m0), multispin_purpose(colour, q), r0, r1);
      lanes_test<O>(r0, 2 * q, c4, mask3, mask34, w, und);
      lanes_test<O>(r1, 2 * q + 1, c4, mask3, mask34, w, und);
      const unsigned still = O::nonzero(und) & in;
      O::scatter(here, in & ~still, column, w);  // the decided sites' new words into the row
      // The rest to the front of the list (kept <= g, and the group is already in registers).
      O::compress(p.w, kept, still, w), O::compress(p.undecided, kept, still, und);
      O::compress(p.class4, kept, still, c4), O::compress(p.column, kept, still, column);
      kept += __builtin_popcount(still);
    }
    p.n = kept;
  }
  for (int e = 0; e < p.n; ++e) here[p.column[e]] = p.w[e];
  p.n = 0;
}

// The h = 0 classes of a vector of sites (multispin_two_class_begin): the class 4 lanes, the lanes to
// test (S >= 3), and the new word with every other replica flipped.
template <class O, class V = typename O::V>
__attribute__((always_inline)) inline void two_class_begin(V s, V up, V down, V left, V right, V ferro, V& class4,
                                                           V& undecided, V& nw) {
  // Satisfied bonds bit-sliced: two half adders, then the sum's bits s1 s0 and class 4 (all four).
  const V sf = O::xor2(s, ferro);
  const V x = O::xor2(sf, up), y = O::xor2(sf, down), z = O::xor2(sf, left), v = O::xor2(sf, right);
  const V x0 = O::xor2(x, y), x1 = O::and2(x, y), y0 = O::xor2(z, v), y1 = O::and2(z, v);
  const V s0 = O::xor2(x0, y0), carry = O::and2(x0, y0);
  const V s1 = O::xor3(x1, y1, carry);
  class4 = O::maj(x1, y1, carry);
  undecided = O::or_and(class4, s1, s0);
  nw = O::xnor(s, undecided);
}

// Four sites of the row: `w` points at the word left of the first site (w[1], w[3], w[5], w[7] are the
// sites, w[0..8] all read), `u` and `d` at the first site's up and down words (u[0], u[2], u[4], u[6]).
// Returns the new site words in lane order (t, t + 2, t + 1, t + 3) and the right neighbours after
// kFixedDraws draws; the sites among the first `valid` still undecided then go to `pending` (their
// returned words are provisional: flush_pending writes the final ones).
template <int kRounds>
__attribute__((always_inline)) inline __m256i multispin_quad(const uint64_t* w, const uint64_t* u, const uint64_t* d,
                                                             uint32_t site0, int64_t column0, int valid, int colour,
                                                             const PhiloxQuad<kRounds>& gen, __m256i ferro,
                                                             const uint64_t* mask3, const uint64_t* mask34,
                                                             __m256i& right, PendingSites& pending) {
  auto load = [](const uint64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  const __m256i a = load(w + 1), b = load(w + 5), c = load(w), e = load(w + 4);
  const __m256i s = _mm256_unpacklo_epi64(a, b);
  right = _mm256_unpackhi_epi64(a, b);
  const __m256i left = _mm256_unpacklo_epi64(c, e);
  const __m256i up = _mm256_unpacklo_epi64(load(u), load(u + 4));
  const __m256i down = _mm256_unpacklo_epi64(load(d), load(d + 4));
  __m256i class4, undecided, nw;
  two_class_begin<Lanes256>(s, up, down, left, right, ferro, class4, undecided, nw);
  // Round-1 products of the lanes' counter word 0 (sites t, t + 2, t + 1, t + 3: columns + 0, 4, 2, 6).
  const __m256i p0 = _mm256_mul_epu32(_mm256_setr_epi64x(site0, site0 + 4, site0 + 2, site0 + 6),
                                      _mm256_set1_epi32(static_cast<int>(kPhiloxM0)));
  for (int q = 0; q < kFixedDraws; ++q) {
    __m256i r0, r1;
    gen.template draw<Lanes256>(p0, multispin_purpose(colour, q), r0, r1);
    lanes_test<Lanes256>(r0, 2 * q, class4, mask3, mask34, nw, undecided);
    lanes_test<Lanes256>(r1, 2 * q + 1, class4, mask3, mask34, nw, undecided);
  }
  // The undecided sites among the first `valid` (lane l holds site t + {0, 2, 1, 3}[l]) to `pending`, in
  // lane order, compressed by table (4 entries of slack).
  const int keep = nonzero_lanes4(undecided) & (valid >= 4 ? 0xF : valid == 3 ? 0x7 : valid == 2 ? 0x5 : 0x1);
  if (keep != 0) {
    const int e = pending.n;
    compress4_store(pending.w, e, keep, nw), compress4_store(pending.undecided, e, keep, undecided);
    compress4_store(pending.class4, e, keep, class4);
    const __m256i columns = _mm256_add_epi64(_mm256_set1_epi64x(column0), _mm256_setr_epi64x(0, 4, 2, 6));
    compress4_store(pending.column, e, keep, columns);
    pending.n = e + __builtin_popcount(static_cast<unsigned>(keep));
  }
  return nw;
}

// The threshold bit masks of S = 3 at each word k, and their xor with those of S = 4.
inline void two_class_masks(const MultispinTable& table, uint64_t* mask3, uint64_t* mask34) {
  for (int k = 0; k < 64; ++k) {
    mask3[k] = threshold_bit_mask(table.threshold[0], k);
    mask34[k] = mask3[k] ^ threshold_bit_mask(table.threshold[1], k);
  }
}

template <int kRounds>
void multispin_row_two_class_avx2(uint64_t* DC_RESTRICT here, const uint64_t* DC_RESTRICT up,
                                  const uint64_t* DC_RESTRICT down, int64_t L, int64_t i, uint32_t group, int colour,
                                  bool ferro, const MultispinTable& table, uint64_t seed, uint32_t step) {
  const int64_t half = L / 2;
  const int64_t j0 = (colour + i) & 1;
  const uint32_t site_base = static_cast<uint32_t>(i * L);
  const PhiloxQuad<kRounds> gen(seed, group, step);
  uint64_t mask3[64], mask34[64];
  two_class_masks(table, mask3, mask34);
  const __m256i fv = _mm256_set1_epi64x(ferro ? -1 : 0);
  PendingSites pending;
  for (int64_t t = 0; t < half; t += 4) {
    if (pending.n > kPendingCapacity - 4)
      flush_pending<Lanes256, kRounds>(pending, here, site_base, colour, gen, mask3, mask34);
    const int64_t j = j0 + 2 * t;
    const uint32_t site0 = static_cast<uint32_t>(i * L + j);
    __m256i right;
    if (j >= 1 && j + 7 < L) {
      const __m256i news = multispin_quad<kRounds>(here + j - 1, up + j, down + j, site0, j, 4, colour, gen, fv, mask3,
                                                   mask34, right, pending);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(here + j), _mm256_unpacklo_epi64(news, right));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(here + j + 4), _mm256_unpackhi_epi64(news, right));
    } else {
      // A block at a row end (or a short one): the same code on copies with the columns wrapped.
      uint64_t w[9], u[8], d[8];
      // Columns j - 1 .. j + 8 wrapped without a division per word (a row may be shorter than a block).
      for (int64_t m = 0, c = j == 0 ? L - 1 : j - 1; m < 9; ++m, c = c + 1 == L ? 0 : c + 1) w[m] = here[c];
      for (int64_t m = 0, c = j; m < 8; ++m, c = c + 1 == L ? 0 : c + 1) u[m] = up[c], d[m] = down[c];
      const int valid = half - t < 4 ? int(half - t) : 4;
      const __m256i news =
          multispin_quad<kRounds>(w, u, d, site0, j, valid, colour, gen, fv, mask3, mask34, right, pending);
      alignas(32) uint64_t out[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(out), news);
      const int order[4] = {0, 2, 1, 3};  // lane of site t + k
      for (int k = 0; k < valid; ++k) here[j + 2 * k] = out[order[k]];
    }
  }
  flush_pending<Lanes256, kRounds>(pending, here, site_base, colour, gen, mask3, mask34);
}

#if defined(DC_TARGET_IS_avx512)
// The same row on AVX-512, eight sites of the colour per vector: multispin_quad's loads and unpacks on
// 512 bits give lanes t, t + 4, t + 1, t + 5, t + 2, t + 6, t + 3, t + 7 (column offsets 0, 8, 2, 10, 4,
// 12, 6, 14), Philox on eight counters (PhiloxQuad::draw), the bit-serial test in vpternlogq. The
// sites still undecided after kFixedDraws draws go to the same PendingSites, appended and compacted
// by vector compress and flushed eight per vector, so every site sees exactly the words of the scalar
// kernel, in the same order.
// The lanes of multispin_oct holding one of the first `valid` sites of its block (lane l holds site
// t + offset[l] / 2 with offsets 0, 8, 2, 10, 4, 12, 6, 14).
inline __mmask8 valid_lanes(int valid) {
  if (valid >= 8) return 0xFF;
  const int site_of_lane[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  __mmask8 m = 0;
  for (int l = 0; l < 8; ++l)
    if (site_of_lane[l] < valid) m = static_cast<__mmask8>(m | (1u << l));
  return m;
}

// Eight sites: w[1], w[3], ..., w[15] are the sites (w[0..16] read), u[0..15] and d[0..15] the words
// above and below. As multispin_quad, for eight lanes.
template <int kRounds>
__attribute__((always_inline)) inline __m512i multispin_oct(const uint64_t* w, const uint64_t* u, const uint64_t* d,
                                                            uint32_t site0, int64_t column0, int valid, int colour,
                                                            const PhiloxQuad<kRounds>& gen, __m512i ferro,
                                                            const uint64_t* mask3, const uint64_t* mask34,
                                                            __m512i& right, bool chained, PendingSites& pending) {
  auto load = [](const uint64_t* p) { return _mm512_loadu_si512(static_cast<const void*>(p)); };
  const __m512i previous_right = right;
  const __m512i a = load(w + 1), b = load(w + 9);
  const __m512i s = _mm512_unpacklo_epi64(a, b);
  right = _mm512_unpackhi_epi64(a, b);
  // Left neighbours: with `chained`, `right` held the previous block's right neighbours on entry, and
  // each site's left is the right of the site before it (lane 0's: the previous block's lane 7). That
  // avoids loading w[0..7], which overlaps the previous block's last store and would stall on it.
  const __m512i left = chained ? _mm512_permutex2var_epi64(right, _mm512_setr_epi64(15, 6, 0, 1, 2, 3, 4, 5),
                                                           previous_right)
                               : _mm512_unpacklo_epi64(load(w), load(w + 8));
  const __m512i up = _mm512_unpacklo_epi64(load(u), load(u + 8));
  const __m512i down = _mm512_unpacklo_epi64(load(d), load(d + 8));
  __m512i class4, undecided, nw;
  two_class_begin<Lanes512>(s, up, down, left, right, ferro, class4, undecided, nw);
  const __m512i p0 = _mm512_mul_epu32(_mm512_setr_epi64(site0, site0 + 8, site0 + 2, site0 + 10, site0 + 4,
                                                        site0 + 12, site0 + 6, site0 + 14),
                                      _mm512_set1_epi32(static_cast<int>(kPhiloxM0)));
  for (int q = 0; q < kFixedDraws; ++q) {
    __m512i r0, r1;
    gen.template draw<Lanes512>(p0, multispin_purpose(colour, q), r0, r1);
    lanes_test<Lanes512>(r0, 2 * q, class4, mask3, mask34, nw, undecided);
    lanes_test<Lanes512>(r1, 2 * q + 1, class4, mask3, mask34, nw, undecided);
  }
  // The undecided sites among the first `valid` go to `pending`, in lane order, with no per-lane branch:
  // each field compressed to the front of a vector and stored at the end of the list (8 entries of slack).
  const __mmask8 keep = _mm512_test_epi64_mask(undecided, undecided) & valid_lanes(valid);
  if (keep != 0) {
    const int e = pending.n;
    auto put = [keep, e](void* list, __m512i x) {
      _mm512_storeu_si512(static_cast<uint64_t*>(list) + e, _mm512_maskz_compress_epi64(keep, x));
    };
    const __m512i offset = _mm512_setr_epi64(0, 8, 2, 10, 4, 12, 6, 14);  // column offset of each lane
    put(pending.w, nw), put(pending.undecided, undecided), put(pending.class4, class4);
    put(pending.column, _mm512_add_epi64(_mm512_set1_epi64(column0), offset));
    pending.n = e + __builtin_popcount(keep);
  }
  return nw;
}

template <int kRounds>
void multispin_row_two_class_avx512(uint64_t* DC_RESTRICT here, const uint64_t* DC_RESTRICT up,
                                    const uint64_t* DC_RESTRICT down, int64_t L, int64_t i, uint32_t group,
                                    int colour, bool ferro, const MultispinTable& table, uint64_t seed,
                                    uint32_t step) {
  const int64_t half = L / 2;
  const int64_t j0 = (colour + i) & 1;
  const uint32_t site_base = static_cast<uint32_t>(i * L);
  const PhiloxQuad<kRounds> gen(seed, group, step);
  uint64_t mask3[64], mask34[64];
  two_class_masks(table, mask3, mask34);
  const __m512i fv = _mm512_set1_epi64(ferro ? -1 : 0);
  PendingSites pending;
  // The previous block's right neighbours: lane 7 is the word left of this block's first site (valid
  // from the second block on, since only a row's last block wraps on the right).
  __m512i right = _mm512_setzero_si512();
  for (int64_t t = 0; t < half; t += 8) {
    if (pending.n > kPendingCapacity - 8)
      flush_pending<Lanes512, kRounds>(pending, here, site_base, colour, gen, mask3, mask34);
    const int64_t j = j0 + 2 * t;
    const uint32_t site0 = static_cast<uint32_t>(i * L + j);
    if (j >= 1 && j + 15 < L) {
      const __m512i news = multispin_oct<kRounds>(here + j - 1, up + j, down + j, site0, j, 8, colour, gen, fv, mask3,
                                                  mask34, right, t > 0, pending);
      _mm512_storeu_si512(static_cast<void*>(here + j), _mm512_unpacklo_epi64(news, right));
      _mm512_storeu_si512(static_cast<void*>(here + j + 8), _mm512_unpackhi_epi64(news, right));
    } else {
      // A block at a row end (or a short one): the same code on copies with the columns wrapped.
      uint64_t w[17], u[16], d[16];
      // Columns j - 1 .. j + 16 wrapped without a division per word (a row may be shorter than a block).
      for (int64_t m = 0, c = j == 0 ? L - 1 : j - 1; m < 17; ++m, c = c + 1 == L ? 0 : c + 1) w[m] = here[c];
      for (int64_t m = 0, c = j; m < 16; ++m, c = c + 1 == L ? 0 : c + 1) u[m] = up[c], d[m] = down[c];
      const int valid = half - t < 8 ? int(half - t) : 8;
      const __m512i news =
          multispin_oct<kRounds>(w, u, d, site0, j, valid, colour, gen, fv, mask3, mask34, right, false, pending);
      alignas(64) uint64_t out[8];
      _mm512_store_si512(static_cast<void*>(out), news);
      const int order[8] = {0, 2, 4, 6, 1, 3, 5, 7};  // lane of site t + k
      for (int k = 0; k < valid; ++k) here[j + 2 * k] = out[order[k]];
    }
  }
  flush_pending<Lanes512, kRounds>(pending, here, site_base, colour, gen, mask3, mask34);
}
#endif
#endif

// Waiting for a neighbouring chunk: spin briefly (it is usually microseconds away), then give the core
// away, since on a busy machine the thread we wait for may need it to run at all.
inline void wait_a_little(int& idle) {
  if (++idle < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

// Checkerboard phases (phase p: sweep p / 2, colour p % 2) over chunks of `grain` rows of each lattice,
// without a barrier per phase. A chunk may make phase p once both neighbouring chunks of its lattice
// (rows wrap around) have finished phase p - 1: its sites' neighbours are then final, and no neighbour
// can be more than one phase ahead, so no chunk reads rows another is writing. Any free thread takes any
// ready chunk, so a thread the OS does not schedule (a busy machine) holds up only its own chunk and,
// through the ring of dependencies, chunks a few phases later, instead of stopping everyone at the
// next colour. Each chunk-phase runs the same updates with the same random numbers as a serial sweep.
template <class Rows>
void sweep_rows_wavefront(int64_t lattices, int64_t L, int threads, int64_t grain, uint64_t first_sweep,
                          int64_t n_sweeps, Rows&& rows) {
  const int64_t per_lattice = (L + grain - 1) / grain;
  const int64_t n_chunks = lattices * per_lattice;
  const int64_t phases = 2 * n_sweeps;
  // state[c] = 2 * (phases done) + (1 while a thread holds the chunk).
  std::unique_ptr<std::atomic<int64_t>[]> state(new std::atomic<int64_t>[size_t(n_chunks)]);
  for (int64_t c = 0; c < n_chunks; ++c) state[c].store(0, std::memory_order_relaxed);
  std::atomic<int64_t> finished{0};
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t c = n_chunks * t / nt;  // threads start apart and walk the chunks in order: a wavefront
    int idle = 0;
    while (finished.load(std::memory_order_acquire) < n_chunks) {
      bool worked = false;
      for (int64_t scanned = 0; scanned < n_chunks && !worked; ++scanned) {
        int64_t s = state[c].load(std::memory_order_acquire);
        const int64_t p = s >> 1;
        const int64_t g = c / per_lattice, k = c % per_lattice;
        if ((s & 1) == 0 && p < phases) {
          const int64_t prev = g * per_lattice + (k == 0 ? per_lattice - 1 : k - 1);
          const int64_t next = g * per_lattice + (k + 1 == per_lattice ? 0 : k + 1);
          if ((state[prev].load(std::memory_order_acquire) >> 1) >= p &&
              (state[next].load(std::memory_order_acquire) >> 1) >= p &&
              state[c].compare_exchange_strong(s, s | 1, std::memory_order_acq_rel)) {
            const int64_t end = (k + 1) * grain < L ? (k + 1) * grain : L;
            rows(g * L + k * grain, g * L + end, static_cast<uint32_t>(first_sweep + uint64_t(p >> 1)), int(p & 1));
            state[c].store(2 * (p + 1), std::memory_order_release);
            if (p + 1 == phases) finished.fetch_add(1, std::memory_order_acq_rel);
            worked = true;
          }
        }
        c = c + 1 == n_chunks ? 0 : c + 1;
      }
      if (worked)
        idle = 0;
      else
        wait_a_little(idle);
    }
  }
}

// Checkerboard sweeps of `lattices` independent L x L lattices; rows(begin, end, step, colour) updates
// one colour of global rows [begin, end) (row = lattice * L + i). With enough lattices per thread, each
// thread sweeps whole lattices with no synchronisation at all; otherwise chunks of rows advance phase by
// phase as their neighbours allow (sweep_rows_wavefront). The updates and their random numbers are the
// same either way, so the lattices do not depend on which split runs or on the thread count.
template <class Rows>
void sweep_lattices(int64_t lattices, int64_t L, int threads, int64_t row_grain, uint64_t first_sweep,
                    int64_t n_sweeps, Rows&& rows) {
  // Calls too small to pay for waking a second thread (about 0.1 ms of updates) run on one.
  if (lattices * L * (L / 2) * n_sweeps < 32768) threads = 1;
  if (threads > 1 && lattices > 1 && (lattices % threads == 0 || lattices >= 4 * threads)) {
    parallel_for_chunks(lattices, (lattices + threads - 1) / threads, threads, [&](int64_t begin, int64_t end) {
      for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
        const uint32_t step = static_cast<uint32_t>(first_sweep + uint64_t(sweep));
        for (int64_t g = begin; g < end; ++g)
          for (int colour = 0; colour < 2; ++colour) rows(g * L, (g + 1) * L, step, colour);
      }
    });
    return;
  }
  if (threads > 1) {
    sweep_rows_wavefront(lattices, L, threads, row_grain, first_sweep, n_sweeps, rows);
    return;
  }
  for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
    const uint32_t step = static_cast<uint32_t>(first_sweep + uint64_t(sweep));
    for (int colour = 0; colour < 2; ++colour) rows(0, lattices * L, step, colour);
  }
}
}  // namespace

void ising_multispin_sweep(uint64_t* words, int64_t groups, int64_t L, int n_classes, const int* satisfied,
                           const int* spin, const uint64_t* threshold, bool ferro, uint64_t seed,
                           uint64_t first_sweep, int64_t n_sweeps, uint64_t first_group, int rounds) {
  MultispinTable table;
  table.count = n_classes;
  for (int c = 0; c < n_classes; ++c) {
    table.satisfied[c] = satisfied[c];
    table.spin[c] = spin[c];
    table.threshold[c] = threshold[c];
  }
  const bool two_classes = n_classes == 2 && satisfied[0] == 3 && satisfied[1] == 4 && spin[0] == 2 && spin[1] == 2;
  const int threads = cpu::num_threads();
  auto rows = [&](int64_t begin, int64_t end, uint32_t step, int colour) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t g = row / L, i = row % L;
      uint64_t* lattice = words + g * L * L;
      uint64_t* here = lattice + i * L;
      const uint64_t* up = lattice + wrap_prev(i, L) * L;
      const uint64_t* down = lattice + wrap_next(i, L) * L;
      const uint32_t group = uint32_t(first_group + uint64_t(g));
      const bool r7 = rounds == kIsingRoundsPhilox7;
#if defined(DC_TARGET_IS_avx512)
      if (two_classes) {
        if (r7)
          multispin_row_two_class_avx512<7>(here, up, down, L, i, group, colour, ferro, table, seed, step);
        else
          multispin_row_two_class_avx512<10>(here, up, down, L, i, group, colour, ferro, table, seed, step);
        continue;
      }
#elif defined(DC_TARGET_IS_avx2)
      if (two_classes) {
        if (r7)
          multispin_row_two_class_avx2<7>(here, up, down, L, i, group, colour, ferro, table, seed, step);
        else
          multispin_row_two_class_avx2<10>(here, up, down, L, i, group, colour, ferro, table, seed, step);
        continue;
      }
#endif
      if (two_classes && r7)
        multispin_row<true, 7>(here, up, down, L, i, group, colour, ferro, table, seed, step);
      else if (two_classes)
        multispin_row<true, 10>(here, up, down, L, i, group, colour, ferro, table, seed, step);
      else if (r7)
        multispin_row<false, 7>(here, up, down, L, i, group, colour, ferro, table, seed, step);
      else
        multispin_row<false, 10>(here, up, down, L, i, group, colour, ferro, table, seed, step);
    }
  };
  sweep_lattices(groups, L, threads, grain_for(L / 2, 1024), first_sweep, n_sweeps, rows);
}

namespace {

// The int8 checkerboard's acceptance table in vector form: entry e of `threshold` (2^32 scale, at most
// 2^32) as a 32-bit threshold and an "always" flag (the threshold is 2^32: every uniform is below it),
// so that u < threshold[e] is the unsigned 32-bit compare u < low[e], or always[e].
struct Int8Table {
  alignas(64) uint32_t low[16];
  alignas(64) int32_t always[16];
  Int8Table(const uint64_t* threshold, int entries) {
    for (int e = 0; e < 16; ++e) {
      const uint64_t t = e < entries ? threshold[e] : 0;
      low[e] = t >= (uint64_t(1) << 32) ? 0xFFFFFFFFu : static_cast<uint32_t>(t);
      always[e] = t >= (uint64_t(1) << 32) ? -1 : 0;
    }
  }
};

// Colour sites t_begin .. t_end - 1 of one int8 row (column j0 + 2 t), site t taking the uniform
// us[t - t_begin]: int8_site for each (ising.hpp), with the middle of the row in vectors where the
// target has them. A vector block reads the 2 B bytes from the block's first site on as B int16 pairs
// (low byte: the site, high byte: its right neighbour; the pair before's high byte: its left one) and
// writes the pairs back with only the low bytes changed, so the other colour is untouched.
template <bool kHeatbath>
void int8_span(int8_t* DC_RESTRICT here, const int8_t* DC_RESTRICT up, const int8_t* DC_RESTRICT down, int64_t L,
               int64_t j0, int64_t t_begin, int64_t t_end, const uint32_t* DC_RESTRICT us,
               const uint64_t* DC_RESTRICT threshold, const Int8Table& table) {
  int64_t t = t_begin;
  auto scalar_to = [&](int64_t stop) {
    for (; t < stop; ++t) {
      const int64_t j = j0 + 2 * t;
      here[j] = int8_site(here[j], up[j], down[j], here[wrap_prev(j, L)], here[wrap_next(j, L)], us[t - t_begin],
                          kHeatbath, threshold);
    }
  };
  // Column 0's left neighbour wraps: that site by the scalar code.
  scalar_to(j0 + 2 * t == 0 && t < t_end ? t + 1 : t);
#if defined(DC_TARGET_IS_avx512)
  constexpr int64_t kBlock = 16;
  const __m512i low = _mm512_load_si512(table.low), always = _mm512_load_si512(table.always);
  for (; t + kBlock <= t_end && j0 + 2 * t + 2 * kBlock <= L; t += kBlock) {
    const int64_t j = j0 + 2 * t;
    auto pairs = [j](const int8_t* row) {
      return _mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j)));
    };
    auto low_byte = [](__m512i x) { return _mm512_srai_epi32(_mm512_slli_epi32(x, 24), 24); };
    const __m512i pair = pairs(here);
    const __m512i sv = low_byte(pair), right = _mm512_srai_epi32(pair, 8);
    const __m512i left = _mm512_alignr_epi32(right, _mm512_set1_epi32(here[j - 1]), 15);
    const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(low_byte(pairs(up)), low_byte(pairs(down))),
                                         _mm512_add_epi32(left, right));
    const __m512i a = _mm512_srai_epi32(_mm512_add_epi32(sum, _mm512_set1_epi32(4)), 1);  // aligned neighbours
    const __m512i idx =
        kHeatbath ? a
                  : _mm512_add_epi32(_mm512_add_epi32(a, a), _mm512_srli_epi32(_mm512_add_epi32(sv, _mm512_set1_epi32(1)), 1));
    const __m512i u = _mm512_loadu_si512(us + (t - t_begin));
    const __mmask16 accept = _mm512_cmplt_epu32_mask(u, _mm512_permutexvar_epi32(idx, low)) |
                             _mm512_test_epi32_mask(_mm512_permutexvar_epi32(idx, always), _mm512_set1_epi32(-1));
    const __m512i nv = kHeatbath ? _mm512_mask_blend_epi32(accept, _mm512_set1_epi32(-1), _mm512_set1_epi32(1))
                                 : _mm512_mask_blend_epi32(accept, sv, _mm512_sub_epi32(_mm512_setzero_si512(), sv));
    const __m512i out = _mm512_ternarylogic_epi32(pair, nv, _mm512_set1_epi32(0xFF), 0xD8);  // mask ? nv : pair
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(here + j), _mm512_cvtepi32_epi16(out));
  }
#elif defined(DC_TARGET_IS_avx2)
  constexpr int64_t kBlock = 8;
  const __m256i low0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.low));
  const __m256i low1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.low + 8));
  const __m256i always0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.always));
  const __m256i always1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.always + 8));
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u)), seven = _mm256_set1_epi32(7);
  for (; t + kBlock <= t_end && j0 + 2 * t + 2 * kBlock <= L; t += kBlock) {
    const int64_t j = j0 + 2 * t;
    auto pairs = [j](const int8_t* row) {
      return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + j)));
    };
    auto low_byte = [](__m256i x) { return _mm256_srai_epi32(_mm256_slli_epi32(x, 24), 24); };
    const __m256i pair = pairs(here);
    const __m256i sv = low_byte(pair), right = _mm256_srai_epi32(pair, 8);
    const __m256i left = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(right, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6)),
                                            _mm256_set1_epi32(here[j - 1]), 0x01);
    const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(low_byte(pairs(up)), low_byte(pairs(down))),
                                         _mm256_add_epi32(left, right));
    const __m256i a = _mm256_srai_epi32(_mm256_add_epi32(sum, _mm256_set1_epi32(4)), 1);
    const __m256i idx =
        kHeatbath ? a
                  : _mm256_add_epi32(_mm256_add_epi32(a, a), _mm256_srli_epi32(_mm256_add_epi32(sv, _mm256_set1_epi32(1)), 1));
    // Entries 0..7 and 8..15 by two in-register permutes, chosen by idx > 7.
    const __m256i high = _mm256_cmpgt_epi32(idx, seven);
    const __m256i thr = _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(low0, idx), _mm256_permutevar8x32_epi32(low1, idx), high);
    const __m256i alw =
        _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(always0, idx), _mm256_permutevar8x32_epi32(always1, idx), high);
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(us + (t - t_begin)));
    // Unsigned u < thr is the signed compare after flipping both sign bits.
    const __m256i accept = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_xor_si256(thr, sign), _mm256_xor_si256(u, sign)), alw);
    const __m256i nv = kHeatbath ? _mm256_add_epi32(_mm256_and_si256(accept, _mm256_set1_epi32(2)), _mm256_set1_epi32(-1))
                                 : _mm256_blendv_epi8(sv, _mm256_sub_epi32(_mm256_setzero_si256(), sv), accept);
    const __m256i byte = _mm256_set1_epi32(0xFF);
    const __m256i out = _mm256_or_si256(_mm256_andnot_si256(byte, pair), _mm256_and_si256(nv, byte));
    // The pairs are sign-extended int16 (the high byte kept), so the saturating pack is exact.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(out, out), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(here + j), _mm256_castsi256_si128(packed));
  }
#else
  (void)table;
#endif
  scalar_to(t_end);
}

}  // namespace

void ising_int8_sweep(int8_t* spins, int64_t replicas, int64_t L, bool heatbath, const uint64_t* threshold,
                      uint64_t seed, uint64_t first_sweep, int64_t n_sweeps, uint64_t first_replica, int rounds) {
  const int threads = cpu::num_threads();
  const int64_t half = L / 2;
  const int64_t draws_per_row = int8_draws_per_row(L);
  const uint32_t key0 = seed_key0(seed), key1 = seed_key1(seed);
  const Int8Table table(threshold, heatbath ? 5 : 10);
  auto rows = [&, heatbath, L, half, draws_per_row, key0, key1, threshold, spins, first_replica, rounds](
                  int64_t begin, int64_t end, uint32_t step, int colour) {
    // Everything the loops read is a local: the int8 stores may alias any captured reference.
    const uint32_t purpose = int8_purpose(colour, heatbath);
    alignas(64) uint32_t u[4][kRowChunk];
    alignas(64) uint32_t us[4 * kRowChunk];  // the chunk's uniforms in site order: site k takes word k % 4 of draw k / 4
    for (int64_t row = begin; row < end; ++row) {
      const int64_t r = row / L, i = row % L;
      int8_t* lattice = spins + r * L * L;
      const int8_t* up = lattice + wrap_prev(i, L) * L;
      const int8_t* down = lattice + wrap_next(i, L) * L;
      int8_t* here = lattice + i * L;
      const int64_t j0 = (colour + i) & 1;
      for (int64_t q0 = 0; q0 < draws_per_row; q0 += kRowChunk) {
        const int64_t nq = draws_per_row - q0 < kRowChunk ? draws_per_row - q0 : kRowChunk;
        // Counter (i * draws_per_row + q, replica, sweep, purpose): 32-bit lanes, so this loop vectorises.
        const uint64_t item0 = int8_item(L, i, q0, first_replica + uint64_t(r));  // draws q0.. differ in word 0
        if (rounds == kIsingRoundsPhilox7)
          philox_strided<7>(uint32_t(item0), 1, uint32_t(item0 >> 32), step, purpose, key0, key1, nq, nullptr, u[0],
                            u[1], u[2], u[3]);
        else
          philox_strided<10>(uint32_t(item0), 1, uint32_t(item0 >> 32), step, purpose, key0, key1, nq, nullptr, u[0],
                             u[1], u[2], u[3]);
        for (int64_t q = 0; q < nq; ++q)
          for (int w = 0; w < 4; ++w) us[4 * q + w] = u[w][q];
        const int64_t t_end = (q0 + nq) * 4 < half ? (q0 + nq) * 4 : half;
        if (heatbath)
          int8_span<true>(here, up, down, L, j0, q0 * 4, t_end, us, threshold, table);
        else
          int8_span<false>(here, up, down, L, j0, q0 * 4, t_end, us, threshold, table);
      }
    }
  };
  sweep_lattices(replicas, L, threads, grain_for(L / 2, 8192), first_sweep, n_sweeps, rows);
}

// Per replica: number of up spins and number of unsatisfied-by-alignment (anti-aligned) bonds.
// `partial` holds groups * L * 128 counts (one row's counts per replica), so rows run in parallel.
void ising_multispin_measure(const uint64_t* words, int64_t groups, int64_t L, int64_t* partial,
                             int64_t* up_count, int64_t* anti_count) {
  parallel_for_chunks(groups * L, grain_for(L, 65536), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t g = row / L, i = row % L;
      multispin_row_counts(words + g * L * L, L, i, partial + row * 128);
    }
  });
  for (int64_t g = 0; g < groups; ++g) {
    for (int b = 0; b < 64; ++b) {
      int64_t u = 0, a = 0;
      for (int64_t i = 0; i < L; ++i) {
        u += partial[(g * L + i) * 128 + b];
        a += partial[(g * L + i) * 128 + 64 + b];
      }
      up_count[g * 64 + b] = u;
      anti_count[g * 64 + b] = a;
    }
  }
}

// Per replica: sum of spins and sum over bonds of s_i s_j.
void ising_int8_measure(const int8_t* spins, int64_t replicas, int64_t L, int64_t* spin_sum, int64_t* bond_sum) {
  parallel_for_chunks(replicas, grain_for(L * L, 65536), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) int8_replica_sums(spins + r * L * L, L, spin_sum[r], bond_sum[r]);
  });
}

void ising_pack(const int8_t* spins, int64_t groups, int64_t sites, uint64_t* words) {
  parallel_for_chunks(groups * sites, 4096, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t g = x / sites, site = x % sites;
      uint64_t w = 0;
      for (int b = 0; b < 64; ++b) w |= uint64_t(spins[(g * 64 + b) * sites + site] > 0) << b;
      words[x] = w;
    }
  });
}

void ising_unpack(const uint64_t* words, int64_t groups, int64_t sites, int8_t* spins) {
  parallel_for_chunks(groups * 64, grain_for(sites, 65536), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t g = r / 64;
      const int b = int(r % 64);
      const uint64_t* w = words + g * sites;
      int8_t* out = spins + r * sites;
      for (int64_t site = 0; site < sites; ++site) out[site] = ((w[site] >> b) & 1) ? int8_t(1) : int8_t(-1);
    }
  });
}

// Independent fair ±1 spins: one Philox draw gives 128 sites of a replica.
// Replica r of the call is replica first_replica + r of the batch.
void ising_random_spins(int8_t* spins, int64_t replicas, int64_t sites, uint64_t seed, uint64_t first_replica) {
  const int64_t draws = (sites + 127) / 128;
  parallel_for_chunks(replicas * draws, 64, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t r = x / draws, d = x % draws;
      const Philox4x32 b = initial_spins_draw(seed, first_replica + uint64_t(r), d);
      const int64_t first = d * 128;
      const int64_t n = sites - first < 128 ? sites - first : 128;
      for (int64_t k = 0; k < n; ++k) spins[r * sites + first + k] = initial_spin(b, int(k));
    }
  });
}

// Block spins: b x b blocks of each replica's L x L lattice; rule 0 majority (ties by Philox keyed on
// (seed, block, replica)), rule 1 decimation (the block's top-left spin).
// Replicas [first_replica, first_replica + replicas) of the caller's batch: `spins` and `out` point at
// the first of them, and a tie's word is keyed by the replica's number in the batch.
void ising_block_spin(const int8_t* spins, int64_t replicas, int64_t L, int64_t b, int rule, uint64_t seed,
                      int8_t* out, int64_t first_replica) {
  const int64_t n = L / b;
  parallel_for_chunks(replicas * n, grain_for(L * b, 65536), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t r = x / n, bi = x % n;
      const int8_t* lattice = spins + r * L * L;
      for (int64_t bj = 0; bj < n; ++bj) {
        int8_t value;
        if (rule == 1) {
          value = lattice[(bi * b) * L + bj * b];
        } else {
          int sum = 0;
          for (int64_t di = 0; di < b; ++di) {
            const int8_t* src = lattice + (bi * b + di) * L + bj * b;
            for (int64_t dj = 0; dj < b; ++dj) sum += src[dj];
          }
          uint32_t bits = 0;
          if (sum == 0) {
            bits = block_tie_word(seed, uint64_t(bi * n + bj), uint64_t(first_replica + r));
          }
          value = block_majority(sum, bits);
        }
        out[(r * n + bi) * n + bj] = value;
      }
    }
  });
}

// Heat-bath sweeps of H = sum_t coefficient_t prod_{i in t} s_i over replicas. Terms have up to four
// indices (padded with -1); spins of one colour share no term, so each colour is one parallel step.
void boltzmann_sweep(int8_t* spins, int64_t replicas, int64_t n_spins, int n_colours, const int64_t* colour_offsets,
                     const int32_t* colour_members, const int64_t* incidence_offsets, const int32_t* incidence_terms,
                     const int32_t* term_indices, const double* coefficients, double beta, uint64_t seed,
                     uint64_t first_sweep, int64_t n_sweeps, uint64_t first_replica) {
  parallel_for_chunks(replicas, grain_for(incidence_offsets[n_spins] + n_spins, 131072), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      boltzmann_replica_sweeps(spins + r * n_spins, n_spins, n_colours, colour_offsets, colour_members,
                               incidence_offsets, incidence_terms, term_indices, coefficients, beta, seed,
                               first_replica + uint64_t(r), first_sweep, n_sweeps);
  });
}

void boltzmann_energy(const int8_t* spins, int64_t replicas, int64_t n_spins, int64_t n_terms,
                      const int32_t* term_indices, const double* coefficients, double* out) {
  parallel_for_chunks(replicas, grain_for(4 * n_terms + 1, 262144), cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      out[r] = boltzmann_energy_of(spins + r * n_spins, n_terms, term_indices, coefficients);
  });
}

DC_NAMESPACE_END
