// Plain structs that describe a Markov sampling job to the multi-target kernel. They live outside
// the per-target namespaces on purpose: the driver (compiled once) and every target's copy of the
// kernel must agree on one type.
#pragma once

#include <cstdint>

namespace deepcheap::markov {

// One transition: the packed alias table of a level (rows x cols entries, see alias.hpp).
struct Level {
  const uint32_t* table;
  uint32_t rows;
  uint32_t cols;
  uint32_t bits;
};

// Where the states at one position of the path go: chain i's state is written to
// base + i * stride_bytes as an unsigned integer of elem_bytes (1, 2 or 4). base == nullptr: not kept.
struct Store {
  unsigned char* base;
  int64_t stride_bytes;
  int32_t elem_bytes;
};

}  // namespace deepcheap::markov
