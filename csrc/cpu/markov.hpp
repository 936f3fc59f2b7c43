// The markov area's native entry points: the multi-target sampling kernel (kernels/markov.cpp) and
// the target-independent drivers in markov.cpp (alias-table construction, histogram counting).
#pragma once

#include <cstdint>

#include "deepcheap/markov/layout.hpp"
#include "dispatch.hpp"

DC_DECLARE_KERNEL(void markov_sample(const ::deepcheap::markov::Level* steps, int64_t n_steps,
                                     ::deepcheap::markov::Level init, const uint32_t* init_states,
                                     const ::deepcheap::markov::Store* stores, int64_t n_chains,
                                     uint64_t seed, int64_t chunk, uint64_t first_chain,
                                     uint64_t first_step))

namespace deepcheap::markov {

// Packed alias tables (see deepcheap/markov/alias.hpp) for every row of the row-major rows x cols
// matrix p, written to out (rows x cols uint32). Each row is renormalised in float64 and quantised
// to integer weights that sum exactly to cols * 2^(32 - bits), so the table is built in exact
// integer arithmetic and can never point outside [0, cols) or at a zero-probability column.
// Throws std::invalid_argument naming `name`, the row and the entry for a negative or non-finite
// entry, or a row whose sum is off 1 by more than `tolerance`.
void build_alias_tables(const double* p, int64_t rows, int64_t cols, double tolerance,
                        const char* name, uint32_t* out);

// Histogram of values in [0, k): counts[v] = #{i : x[i] == v}. Integer sums per thread, so the
// result does not depend on the thread count. Throws std::invalid_argument for a value >= k.
// elem_kind: 'B' uint8, 'H' uint16, 'I' uint32, 'i' int32, 'q' int64 (negative values are rejected).
void count_values(const void* x, char elem_kind, int64_t n, int64_t k, int64_t* counts);

// Joint histogram: counts[x[i] * ky + y[i]] over kx * ky cells.
void count_pairs(const void* x, char x_kind, const void* y, char y_kind, int64_t n, int64_t kx,
                 int64_t ky, int64_t* counts);

}  // namespace deepcheap::markov
