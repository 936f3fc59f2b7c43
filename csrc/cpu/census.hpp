// CPU drivers of the capability census: threshold functions counted and listed from their canonical
// (sorted-weight) representatives, exact threshold tests, and depth-2 threshold network counts.
// Every result is a set or a count: independent of the thread count by construction.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "deepcheap/census/threshold.hpp"

namespace deepcheap::cpu::census {

using deepcheap::census::Table128;

// Muroga, Toda & Takasu (1961): every threshold function of n inputs has an integer realisation with
// |w_i| <= (n+1)^((n+1)/2) / 2^n. The largest integer within that bound.
int max_weight(int n);

// The enumeration of non-increasing weight vectors in [0, max_weight(n)]^n is split into items by
// their first two weights; items are independent, so any split (threads, processes, a Dask cluster)
// gives the same union.
int64_t canonical_item_count(int n);
// Number of weight vectors of items [begin, end) (for time estimates and progress).
int64_t canonical_vector_count(int n, int64_t begin, int64_t end);

// The distinct tables [w.x >= t] over the weight vectors of items [begin, end), sorted: each is the
// canonical representative (variables in non-increasing order of influence) of a positive threshold
// function, and every positive threshold function's permutation class has exactly one.
std::vector<Table128> canonical_tables(int n, int64_t begin, int64_t end);

// Number of threshold functions whose canonical representatives are `canonical` (distinct, sorted):
// each stands for n!/prod(class sizes!) positive functions and each of those for 2^(relevant inputs)
// functions (every relevant input may be negated).
uint64_t count_from_canonical(int n, const std::vector<Table128>& canonical);

// Every threshold function of n <= 6 inputs as a 64-bit table, sorted.
std::vector<uint64_t> all_tables(int n);

struct Realisation {
  bool threshold = false;
  std::vector<int64_t> w;
  int64_t t = 0;
};
// Exact test of a table of n <= 10 inputs (0/1 bytes, 2^n of them). A realisation is returned only
// after [w.x >= t] was checked at every point; "not threshold" only with an exactly checked
// certificate (a non-unate input, or convex combinations of true and false points that coincide).
// Throws std::runtime_error if neither certificate verifies (never expected).
Realisation is_threshold(int n, const uint8_t* table);

// For n <= 4: the fewest hidden units (0..kmax) a depth-2 threshold network needs for each of the
// 2^(2^n) functions, 255 where more than kmax are needed. `progress(done, total)` is called between
// stages with the GIL not held by the caller's thread (the binding re-acquires it).
std::vector<uint8_t> depth2_min_units(int n, int kmax, const std::function<void(int, int)>& progress);

}  // namespace deepcheap::cpu::census
