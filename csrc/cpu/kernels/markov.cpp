// Batched Markov-chain sampling: every chain of a chunk advances one transition before any advances
// the next, so the table lookups of different chains overlap (throughput-bound) instead of waiting on
// each other (latency-bound). One Philox4x32-10 call per (chain, block of four transitions) supplies
// one 32-bit word per transition; the counter depends only on (chain, block, purpose), never on the
// chunking or thread count, so every thread count and SIMD target gives the same paths.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/markov/alias.hpp"
#include "deepcheap/markov/layout.hpp"
#include "cpu/philox_simd.hpp"
#include "cpu/threads.hpp"

#include <new>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

DC_NAMESPACE_BEGIN

namespace {

// The most chains per chunk. A chunk's states and random words take 5 x 4 bytes per chain (640 KiB at
// most, within L2), in a per-thread buffer kept between calls: memory already touched (first-touch
// writes are slow here) and off the stack (threads may have small stacks).
constexpr int64_t kMaxChunk = 32768;
constexpr int64_t kFallbackChunk = 256;  // on the stack, if the buffer cannot be allocated

struct Scratch {
  uint32_t* data = nullptr;
  int64_t size = 0;
  ~Scratch() { delete[] data; }
};

// This thread's buffer of at least `words` uint32, or nullptr when memory is short (never throws).
uint32_t* thread_scratch(int64_t words) {
  thread_local Scratch scratch;
  if (scratch.size < words) {
    delete[] scratch.data;
    scratch.data = new (std::nothrow) uint32_t[words];
    scratch.size = scratch.data != nullptr ? words : 0;
  }
  return scratch.data;
}

// One path position of n chains, each written by the header's markov_store.
void store_states(const markov::Store& store, const uint32_t* DC_RESTRICT state, int64_t first, int64_t n) {
  if (store.base == nullptr) return;
  const markov::Store local = store;  // a copy: the byte stores below cannot alias it, so it stays in registers
  for (int64_t i = 0; i < n; ++i) markov_store(local, first + i, state[i]);
}

#if defined(__AVX512F__)
// 32 x 32 -> 64-bit products of 16 lanes, split into high and low words (vpmuludq works on the even
// lanes; the odd lanes are shifted down, multiplied and put back).
inline void mulhilo16(__m512i a, __m512i b, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, b);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), b);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}
#elif defined(__AVX2__)
inline void mulhilo8(__m256i a, __m256i b, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, b);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), b);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}
#endif

// markov_transition_draw(seed, chain, step) for chains first .. first + n - 1, drawn with the strided
// Philox (philox_simd.hpp: 16 or 8 chains per call on AVX-512/AVX2; on the scalar target a loop over
// the header's philox4x32_10, which GCC vectorises with SSE2, where one markov_transition_draw per chain
// measured 8 % slower): counter (chain low, chain high, step / 4, kMarkovPurposeTransition), the
// chain's low word varying; a run never crosses a multiple of 2^32 chains, where the high word changes.
void fill_words(uint64_t seed, uint64_t first, int64_t n, uint64_t step, uint32_t* DC_RESTRICT w0,
                uint32_t* DC_RESTRICT w1, uint32_t* DC_RESTRICT w2, uint32_t* DC_RESTRICT w3) {
  const uint32_t block = static_cast<uint32_t>(step >> 2);
  for (int64_t done = 0; done < n;) {
    const uint64_t item = first + static_cast<uint64_t>(done);
    const int64_t to_wrap = static_cast<int64_t>((uint64_t(1) << 32) - (item & 0xFFFFFFFFu));
    const int64_t run = n - done < to_wrap ? n - done : to_wrap;
    philox_strided(static_cast<uint32_t>(item), 1, static_cast<uint32_t>(item >> 32), block,
                   kMarkovPurposeTransition, seed_key0(seed), seed_key1(seed), run, nullptr, w0 + done,
                   w1 + done, w2 + done, w3 + done);
    done += run;
  }
}

// One transition for n chains: alias_step (alias.hpp) 16 or 8 chains at a time with 32-bit-index
// gathers (spelled out because GCC's generic tuning does not emit gathers), then the scalar tail.
void advance(const markov::Level& level, uint32_t* DC_RESTRICT state, const uint32_t* DC_RESTRICT word,
             int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
  const uint32_t* DC_RESTRICT table = level.table;
  const uint32_t cols = level.cols;
  const uint32_t alias_mask = (uint32_t(1) << level.bits) - 1u;
#endif
#if defined(__AVX512F__)
  const __m512i vcols = _mm512_set1_epi32(static_cast<int>(cols));
  const __m512i vmask = _mm512_set1_epi32(static_cast<int>(alias_mask));
  for (; i + 16 <= n; i += 16) {
    const __m512i w = _mm512_loadu_si512(word + i);
    const __m512i s = _mm512_loadu_si512(state + i);
    __m512i column, fraction;
    mulhilo16(w, vcols, column, fraction);
    const __m512i index = _mm512_add_epi32(_mm512_mullo_epi32(s, vcols), column);
    const __m512i entry = _mm512_i32gather_epi32(index, table, 4);
    const __mmask16 keep = _mm512_cmplt_epu32_mask(_mm512_andnot_si512(vmask, fraction),
                                                   _mm512_andnot_si512(vmask, entry));
    _mm512_storeu_si512(state + i, _mm512_mask_blend_epi32(keep, _mm512_and_si512(entry, vmask), column));
  }
#elif defined(__AVX2__)
  const __m256i vcols = _mm256_set1_epi32(static_cast<int>(cols));
  const __m256i vmask = _mm256_set1_epi32(static_cast<int>(alias_mask));
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(word + i));
    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state + i));
    __m256i column, fraction;
    mulhilo8(w, vcols, column, fraction);
    const __m256i index = _mm256_add_epi32(_mm256_mullo_epi32(s, vcols), column);
    const __m256i entry = _mm256_i32gather_epi32(reinterpret_cast<const int*>(table), index, 4);
    // Unsigned a < b is the signed compare after flipping both sign bits.
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_xor_si256(_mm256_andnot_si256(vmask, entry), sign),
                                            _mm256_xor_si256(_mm256_andnot_si256(vmask, fraction), sign));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(state + i),
                        _mm256_blendv_epi8(_mm256_and_si256(entry, vmask), column, keep));
  }
#endif
  const markov::Level local = level;  // a copy, kept in registers across the stores to state
  for (; i < n; ++i) state[i] = markov_step(local, state[i], word[i]);
}

// advance() in slices, streaming the next level's table into the cache meanwhile: a hierarchy of
// distinct levels otherwise pays a cache miss on most lookups, since its tables together exceed L2
// (64 levels of 256 states: 16 MiB). A prefetch is only a hint; results never depend on it.
void advance_prefetching(const markov::Level& level, uint32_t* DC_RESTRICT state,
                         const uint32_t* DC_RESTRICT word, int64_t n, const markov::Level* next) {
  if (next == nullptr) {
    advance(level, state, word, n);
    return;
  }
  constexpr int64_t kSlice = 128;
  const char* bytes = reinterpret_cast<const char*>(next->table);
  const int64_t lines = (static_cast<int64_t>(next->rows) * next->cols * 4 + 63) / 64;
  const int64_t slices = (n + kSlice - 1) / kSlice;
  const int64_t per_slice = (lines + slices - 1) / slices;
  for (int64_t s = 0; s < slices; ++s) {
    const int64_t line_end = (s + 1) * per_slice < lines ? (s + 1) * per_slice : lines;
    for (int64_t l = s * per_slice; l < line_end; ++l) __builtin_prefetch(bytes + l * 64, 0, 2);
    const int64_t begin = s * kSlice;
    advance(level, state + begin, word + begin, n - begin < kSlice ? n - begin : kSlice);
  }
}

// All chains of [first, first + n) from the initial state to the last step; `buffer` holds 5 * n words.
// Chain `first + i` of this call is chain `first_chain + first + i` of the seed's batch, and step t
// of this call is step `first_step + t` of its chains: the counters use the global numbers, so pieces
// drawn separately (other chains, or later steps from saved states) equal one large call.
void sample_chunk(const markov::Level* steps, int64_t n_steps, const markov::Level& init,
                  const uint32_t* init_states, const markov::Store* stores, bool byte_path, int64_t first,
                  int64_t n, uint64_t seed, uint64_t first_chain, uint64_t first_step, uint32_t* buffer) {
  const uint64_t chain0 = first_chain + static_cast<uint64_t>(first);
  uint32_t* DC_RESTRICT state = buffer;
  uint32_t* const words[4] = {buffer + n, buffer + 2 * n, buffer + 3 * n, buffer + 4 * n};
  if (init_states != nullptr) {
    for (int64_t i = 0; i < n; ++i) state[i] = init_states[first + i];
  } else {
    // markov_initial_state for every chain, in two passes so that each vectorises: the words, then
    // one step from row 0 (advance: gathers on AVX2/AVX-512, markov_step on the scalar target).
    for (int64_t i = 0; i < n; ++i) words[0][i] = markov_initial_word(seed, chain0 + static_cast<uint64_t>(i));
    for (int64_t i = 0; i < n; ++i) state[i] = 0;
    advance(init, state, words[0], n);
  }
  store_states(stores[0], state, first, n);
  for (int64_t t = 0; t < n_steps; ++t) {
    const uint64_t g = first_step + static_cast<uint64_t>(t);  // the chain's global step
    if (markov_new_draw(g, t)) fill_words(seed, chain0, n, g, words[0], words[1], words[2], words[3]);
    const bool new_table = t + 1 < n_steps && steps[t + 1].table != steps[t].table;
    const markov::Level* next = new_table ? &steps[t + 1] : nullptr;
    advance_prefetching(steps[t], state, words[markov_word_of(g)], n, next);
    if (!byte_path) {
      store_states(stores[t + 1], state, first, n);
      continue;
    }
    // Byte paths (only when first_step % 4 == 0, so g & 3 == t & 3): the word just used is spent, so it
    // holds this step's states until the block of four is complete; then one 4-byte store per chain
    // writes positions 4b+1 .. 4b+4 at once.
    uint32_t* DC_RESTRICT kept = words[t & 3];
    for (int64_t i = 0; i < n; ++i) kept[i] = state[i];
    if ((t & 3) != 3 && t != n_steps - 1) continue;
    const int64_t block_start = t & ~int64_t(3);
    const int64_t stride = stores[block_start + 1].stride_bytes;
    unsigned char* base = stores[block_start + 1].base + first * stride;
    if ((t & 3) == 3) {
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t packed = words[0][i] | (words[1][i] << 8) | (words[2][i] << 16) | (words[3][i] << 24);
        __builtin_memcpy(base + i * stride, &packed, 4);  // little-endian: position 4b+1 first
      }
    } else {
      for (int64_t k = 0; k <= (t & 3); ++k)
        for (int64_t i = 0; i < n; ++i) base[k + i * stride] = static_cast<unsigned char>(words[k][i]);
    }
  }
}

}  // namespace

void markov_sample(const markov::Level* steps, int64_t n_steps, markov::Level init,
                   const uint32_t* init_states, const markov::Store* stores, int64_t n_chains,
                   uint64_t seed, int64_t chunk, uint64_t first_chain, uint64_t first_step) {
  chunk = chunk < 16 ? 16 : chunk > kMaxChunk ? kMaxChunk : chunk;
  // A path of one-byte states, position after position in memory (the (n, T + 1) uint8 layout)?
  bool byte_path = n_steps >= 1 && (first_step & 3) == 0;
  for (int64_t t = 1; byte_path && t <= n_steps; ++t)
    byte_path = stores[t].base != nullptr && stores[t].elem_bytes == 1 &&
                stores[t].base == stores[1].base + (t - 1) && stores[t].stride_bytes == stores[1].stride_bytes;
  // Below ~10^5 transitions (tens of microseconds on one core) waking a second thread costs more than
  // it saves, and far more when that core is busy; results never depend on the thread count.
  const int64_t transitions = n_chains * (n_steps > 0 ? n_steps : 1);
  const int threads = transitions < (int64_t(1) << 17) ? 1 : cpu::num_threads();
  parallel_for_chunks(n_chains, chunk, threads, [&](int64_t begin, int64_t end) {
    alignas(64) uint32_t fallback[5 * kFallbackChunk];
    uint32_t* buffer = thread_scratch(5 * chunk);
    const int64_t step = buffer != nullptr ? chunk : kFallbackChunk;
    if (buffer == nullptr) buffer = fallback;
    // parallel_for_chunks may hand one thread a range of many chunks; split it again.
    for (int64_t first = begin; first < end; first += step) {
      const int64_t n = end - first < step ? end - first : step;
      sample_chunk(steps, n_steps, init, init_states, stores, byte_path, first, n, seed, first_chain,
                   first_step, buffer);
    }
  });
}

DC_NAMESPACE_END
