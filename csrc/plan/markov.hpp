// Markov sampling, device-neutral layer: alias-table construction, the checks of a sampling call and
// its output layout, gathered into one record (MarkovSample) that the CPU driver (csrc/cpu/markov.cpp)
// and the CUDA driver (csrc/cuda/markov.cu) both take. No CPU or CUDA code here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deepcheap/markov/layout.hpp"

namespace deepcheap::plan {

constexpr int64_t kMarkovMaxStates = 65536;

// Packed alias tables (see deepcheap/markov/alias.hpp) for every row of the row-major rows x cols
// matrix p, written to out (rows x cols uint32). Each row is renormalised in float64 and quantised
// to integer weights that sum exactly to cols * 2^(32 - bits), so the table is built in exact
// integer arithmetic and can never point outside [0, cols) or at a zero-probability column.
// Throws std::invalid_argument naming `name`, the row and the entry for a negative or non-finite
// entry, or a row whose sum is off 1 by more than `tolerance`.
void build_alias_tables(const double* p, int64_t rows, int64_t cols, double tolerance, const char* name,
                        uint32_t* out);

// A table made by build_alias_tables, re-checked: shape limits and every alias index a valid column,
// so no table, however it was made, can send a sampler outside the next level's rows.
markov::Level checked_level(const uint32_t* table, int64_t ndim, int64_t rows, int64_t cols, const std::string& what);

// One sampling call: chains first_chain .. first_chain + n_chains - 1 of the seed's batch, steps
// first_step .. first_step + n_steps - 1 of each (deepcheap/markov/alias.hpp has the counter layout).
struct MarkovSample {
  std::vector<markov::Level> steps;  // the table of each transition
  markov::Level init;                // one-row table of the initial distribution
  const uint32_t* init_states;       // or per-chain initial states (n_chains), nullptr when drawn
  int64_t n_chains, n_steps;
  uint64_t seed, first_chain, first_step;
  int64_t chunk;                     // CPU chains per chunk, 0 = the driver chooses
  std::vector<int64_t> states_at;    // states at each path position, n_steps + 1
  // Output layout: the arrays to allocate (element bytes 1 or 2 and shape each) and, once their
  // addresses are known (set_outputs), where each path position is stored.
  enum class Output { final_states, path_matrix, path_per_position } output;
  std::vector<int> array_bytes;
  std::vector<std::vector<int64_t>> array_shapes;
  std::vector<markov::Store> stores;  // n_steps + 1; base nullptr: position not kept
  std::vector<unsigned char*> arrays;
};

// Validates a call (levels' rows chain with the states, init states in range, offsets within the
// counters) and decides the output arrays. `step_levels[t]` indexes `levels`; keep_path false keeps
// only the final states. Throws std::invalid_argument naming what is wrong.
MarkovSample plan_markov_sample(const std::vector<markov::Level>& levels, const int64_t* step_levels,
                                int64_t n_steps, markov::Level init, const uint32_t* init_states,
                                int64_t n_init_states, int64_t n_chains, uint64_t seed, bool keep_path,
                                uint64_t first_chain, uint64_t first_step, int64_t chunk);

// Bytes of planned output array a (its element bytes times its shape).
inline int64_t output_bytes(const MarkovSample& p, size_t a) {
  int64_t bytes = p.array_bytes[a];
  for (int64_t d : p.array_shapes[a]) bytes *= d;
  return bytes;
}

// Points the stores at the allocated arrays (one per array_shapes entry, in order).
void set_outputs(MarkovSample& plan, const std::vector<unsigned char*>& arrays);

// The smallest state type for a level of `cols` states: 1 (uint8) or 2 (uint16) bytes.
inline int state_bytes(int64_t cols) { return cols <= 256 ? 1 : 2; }

}  // namespace deepcheap::plan
