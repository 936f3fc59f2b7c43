// CPU loops over the per-word input-space math: each thread takes whole blocks of vector words, so the
// words (and with them every random input) depend only on their index, never on the thread count.
#include "input_space.hpp"

#include <vector>

#include "deepcheap/circuit/input_space.hpp"
#include "deepcheap/common/parallel.hpp"

namespace deepcheap::circuit {

namespace {
constexpr int64_t kWordGrain = 1024;  // 64 Ki vectors per task: enough to amortise the thread start
}

void fill_range_inputs(const uint64_t* high, int n_limbs, unsigned r, int64_t n_inputs, int64_t n_words,
                       uint64_t* out, int threads) {
  parallel_for_chunks(n_words, kWordGrain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = 0; i < n_inputs; ++i) {
      uint64_t* row = out + i * n_words;
      if (i < 6) {  // the same rotated pattern in every word
        const uint64_t w = range_input_word(high, n_limbs, r, 0, i);
        for (int64_t k = begin; k < end; ++k) row[k] = w;
      } else {
        for (int64_t k = begin; k < end; ++k) row[k] = range_input_word(high, n_limbs, r, uint64_t(k), i);
      }
    }
  });
}

void fill_random_inputs(uint64_t seed, uint64_t first_word, int64_t n_inputs, int64_t n_words, uint64_t* out,
                        int threads) {
  parallel_for_chunks(n_words, kWordGrain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = 0; i < n_inputs; i += 2) {
      uint64_t* even = out + i * n_words;
      uint64_t* odd = i + 1 < n_inputs ? out + (i + 1) * n_words : nullptr;
      for (int64_t k = begin; k < end; ++k) {
        const WordPair p = random_input_words(seed, first_word + uint64_t(k), static_cast<uint32_t>(i / 2));
        even[k] = p.even;
        if (odd) odd[k] = p.odd;
      }
    }
  });
}

namespace {
// The patterns of word k's 64 vectors (bit o of patterns[j] = output o of vector 64 k + j).
inline void word_patterns(const uint64_t* words, int64_t n_outputs, int64_t n_words, int64_t k, uint64_t* patterns) {
  for (int64_t o = 0; o < 64; ++o) patterns[o] = o < n_outputs ? words[o * n_words + k] : 0;
  transpose64(patterns);
}
}  // namespace

void output_pattern_values(const uint64_t* words, int64_t n_outputs, int64_t n_words, int64_t count,
                           uint64_t* values, int threads) {
  parallel_for_chunks(n_words, kWordGrain, threads, [&](int64_t begin, int64_t end) {
    uint64_t patterns[64];
    for (int64_t k = begin; k < end; ++k) {
      word_patterns(words, n_outputs, n_words, k, patterns);
      const int64_t lanes = count - 64 * k < 64 ? count - 64 * k : 64;
      for (int64_t j = 0; j < lanes; ++j) values[64 * k + j] = patterns[j];
    }
  });
}

void add_output_pattern_histogram(const uint64_t* words, int64_t n_outputs, int64_t n_words, int64_t count,
                                  uint64_t* histogram) {
  uint64_t patterns[64];
  for (int64_t k = 0; k < n_words && 64 * k < count; ++k) {
    word_patterns(words, n_outputs, n_words, k, patterns);
    const int64_t lanes = count - 64 * k < 64 ? count - 64 * k : 64;
    for (int64_t j = 0; j < lanes; ++j) ++histogram[patterns[j]];
  }
}

}  // namespace deepcheap::circuit
