// Drivers that walk a circuit's input space bit-sliced (csrc/include/deepcheap/circuit/input_space.hpp
// has the per-word math): range and random input words, and output-pattern histograms and values.
// Kept apart from the circuit evaluator; Python chains them with Circuit.evaluate_packed chunk by chunk.
#pragma once

#include <cstdint>

namespace deepcheap::circuit {

// out (n_inputs x n_words, row-major): the input words of vectors start .. start + 64 n_words - 1,
// start = 64 * high + r with high given as n_limbs little-endian limbs.
void fill_range_inputs(const uint64_t* high, int n_limbs, unsigned r, int64_t n_inputs, int64_t n_words,
                       uint64_t* out, int threads);

// out (n_inputs x n_words): random input words of vector words first_word .. first_word + n_words - 1.
void fill_random_inputs(uint64_t seed, uint64_t first_word, int64_t n_inputs, int64_t n_words, uint64_t* out,
                        int threads);

// Output patterns of the first `count` vectors of packed outputs (n_outputs <= 64 rows of n_words):
// pattern bit o is output bit o. values gets one pattern per vector; histogram (2^n_outputs entries,
// n_outputs <= 24) is incremented.
void output_pattern_values(const uint64_t* words, int64_t n_outputs, int64_t n_words, int64_t count,
                           uint64_t* values, int threads);
void add_output_pattern_histogram(const uint64_t* words, int64_t n_outputs, int64_t n_words, int64_t count,
                                  uint64_t* histogram);

}  // namespace deepcheap::circuit
