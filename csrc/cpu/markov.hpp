// The markov area's CPU driver: the multi-target sampling kernel (kernels/markov.cpp) and the
// target-independent entries in markov.cpp (the sampling driver, histogram counting). Alias tables and
// the checks of a call are device-neutral: csrc/plan/markov.hpp.
#pragma once

#include <cstdint>

#include "deepcheap/markov/layout.hpp"
#include "dispatch.hpp"
#include "driver.hpp"

DC_DECLARE_KERNEL(void markov_sample(const ::deepcheap::markov::Level* steps, int64_t n_steps,
                                     ::deepcheap::markov::Level init, const uint32_t* init_states,
                                     const ::deepcheap::markov::Store* stores, int64_t n_chains,
                                     uint64_t seed, int64_t chunk, uint64_t first_chain,
                                     uint64_t first_step))

namespace deepcheap::plan {
struct MarkovSample;
}

namespace deepcheap::cpu {

// The CPU driver of a sampling call planned by plan::plan_markov_sample (outputs already set):
// chains in chunks over threads, the SIMD target's kernel per chunk.
void markov_sample(Driver, const plan::MarkovSample& plan, int device);

}  // namespace deepcheap::cpu

namespace deepcheap::markov {

// Histogram of values in [0, k): counts[v] = #{i : x[i] == v}. Integer sums per thread, so the
// result does not depend on the thread count. Throws std::invalid_argument for a value >= k.
// elem_kind: 'B' uint8, 'H' uint16, 'I' uint32, 'i' int32, 'q' int64 (negative values are rejected).
void count_values(const void* x, char elem_kind, int64_t n, int64_t k, int64_t* counts);

// Joint histogram: counts[x[i] * ky + y[i]] over kx * ky cells.
void count_pairs(const void* x, char x_kind, const void* y, char y_kind, int64_t n, int64_t kx,
                 int64_t ky, int64_t* counts);

}  // namespace deepcheap::markov
