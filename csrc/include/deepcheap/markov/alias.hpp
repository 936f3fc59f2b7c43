// Per-transition math of the Markov samplers: one step of Walker's alias method on a packed table,
// driven by one 32-bit random word. Device-clean (DC_HD, no containers), so a CUDA driver can call
// the same functions; the CPU kernel (csrc/cpu/kernels/markov.cpp) runs markov_chain's steps for many
// chains at once (its scalar target exactly these functions), the table builder is in csrc/plan/.
//
// Table layout. A level with `rows` x `cols` states (cols <= 65536) has one uint32 per (row, column):
//     entry = (threshold << bits) | alias,   bits = alias_bits(cols) = max(1, ceil(log2 cols)),
// where threshold lies in [0, 2^(32 - bits)) and alias < cols. A column that always keeps itself
// stores alias = itself, so the threshold does not matter there. 4 bytes per entry: a 256-state
// level is 256 KiB (fits in L2), a 16-state one 1 KiB.
//
// Random word. One word w gives both decisions by multiply-shift (Lemire): w * cols is a 64-bit
// number whose high half is the column j = floor(w * cols / 2^32), uniform in [0, cols) up to
// cols / 2^32, and whose low half is the fraction used against the threshold. Compared on its
// top (32 - bits) bits, the fraction's acceptance probability is off by at most cols / 2^32 <=
// 2^-(32 - bits), the same as the threshold's own resolution, so every transition probability is
// represented within total variation 2^-(31 - bits) per row: 2^-27 for 16 states, 2^-23 for 256,
// 2^-19 for 4096. Detecting 2^-23 takes on the order of 10^14 draws.
#pragma once

#include "deepcheap/common/config.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/markov/layout.hpp"

DC_NAMESPACE_BEGIN

// The number of low bits that hold the alias index for a level with `cols` columns (1..65536).
DC_HD uint32_t alias_bits(uint32_t cols) {
  uint32_t bits = 1;
  while (bits < 16 && (uint32_t(1) << bits) < cols) ++bits;
  return bits;
}

// One alias-method transition: the next state after `state` on a level with `cols` columns, packed
// table `table` (rows x cols, fewer than 2^31 entries: the index stays in int32 so that SIMD builds
// can use 32-bit-index gathers) and alias_mask = 2^bits - 1. Branchless: the compare makes a mask that
// selects the column or its alias.
DC_HD uint32_t alias_step(const uint32_t* DC_RESTRICT table, uint32_t state, uint32_t cols,
                          uint32_t alias_mask, uint32_t word) {
  const uint64_t m = static_cast<uint64_t>(word) * cols;
  const uint32_t column = static_cast<uint32_t>(m >> 32);
  const uint32_t fraction = static_cast<uint32_t>(m);
  const uint32_t entry = table[static_cast<int32_t>(state * cols + column)];
  const uint32_t keep = (fraction & ~alias_mask) < (entry & ~alias_mask) ? ~uint32_t(0) : uint32_t(0);
  return (column & keep) | (entry & alias_mask & ~keep);
}

// Counter layout of the Markov samplers (see philox.hpp): item = chain, step = block of four
// transitions (one Philox call gives four words, one per transition), purpose below. Chain and step
// are the global numbers (a call's first chain / first step plus the local index), so pieces of a
// batch and resumed chains draw exactly the words of one large call.
constexpr uint32_t kMarkovPurposeInit = 0x4D4B0000u;        // the initial state
constexpr uint32_t kMarkovPurposeTransition = 0x4D4B0001u;  // transitions, word t % 4 of block t / 4

// The word that draws the initial state of `chain`, and that state: one step from row 0 of the
// one-row table of the initial distribution.
DC_HD uint32_t markov_initial_word(uint64_t seed, uint64_t chain) {
  return philox_draw(seed, chain, 0, kMarkovPurposeInit).v[0];
}
DC_HD uint32_t markov_initial_state(const markov::Level& init, uint64_t seed, uint64_t chain) {
  return alias_step(init.table, 0, init.cols, (uint32_t(1) << init.bits) - 1u, markov_initial_word(seed, chain));
}

// The draw holding the words of transitions 4b .. 4b + 3 of `chain` (b = step / 4); transition `step`
// uses word step % 4.
DC_HD Philox4x32 markov_transition_draw(uint64_t seed, uint64_t chain, uint64_t step) {
  return philox_draw(seed, chain, static_cast<uint32_t>(step >> 2), kMarkovPurposeTransition);
}

// Whether transition t of a call (global step `step`) starts a new draw: at each block of four, and at
// a call's first step (a resumed chain may start mid-block). It then uses word markov_word_of(step).
DC_HD bool markov_new_draw(uint64_t step, int64_t t) { return (step & 3) == 0 || t == 0; }
DC_HD int markov_word_of(uint64_t step) { return static_cast<int>(step & 3); }

// One transition on a level: the next state of a chain at `state`, with its word.
DC_HD uint32_t markov_step(const markov::Level& level, uint32_t state, uint32_t word) {
  return alias_step(level.table, state, level.cols, (uint32_t(1) << level.bits) - 1u, word);
}

// Writes chain i's state at one path position (no-op where the position is not kept).
DC_HD void markov_store(const markov::Store& store, int64_t i, uint32_t state) {
  if (store.base == nullptr) return;
  unsigned char* at = store.base + i * store.stride_bytes;
  if (store.elem_bytes == 1)
    *at = static_cast<unsigned char>(state);
  else if (store.elem_bytes == 2)
    *reinterpret_cast<uint16_t*>(at) = static_cast<uint16_t>(state);
  else
    *reinterpret_cast<uint32_t*>(at) = state;
}

// A whole chain, the reference every driver reproduces: chain i of a call (global chain first_chain + i)
// from its initial state (given, or drawn) through steps first_step .. first_step + n_steps - 1, each
// position written to its store. The CPU kernel runs the same steps for many chains at once.
DC_HD void markov_chain(const markov::Level* steps, int64_t n_steps, const markov::Level& init,
                        const uint32_t* init_states, const markov::Store* stores, int64_t i, uint64_t seed,
                        uint64_t first_chain, uint64_t first_step) {
  const uint64_t chain = first_chain + static_cast<uint64_t>(i);
  uint32_t state = init_states != nullptr ? init_states[i] : markov_initial_state(init, seed, chain);
  markov_store(stores[0], i, state);
  Philox4x32 draw{{0, 0, 0, 0}};
  for (int64_t t = 0; t < n_steps; ++t) {
    const uint64_t step = first_step + static_cast<uint64_t>(t);
    if (markov_new_draw(step, t)) draw = markov_transition_draw(seed, chain, step);
    state = markov_step(steps[t], state, draw.v[markov_word_of(step)]);
    markov_store(stores[t + 1], i, state);
  }
}

DC_NAMESPACE_END
