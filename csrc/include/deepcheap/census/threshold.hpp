// Per-item math of the capability census: truth tables of up to 7 inputs (128 bits, two words),
// the chain of threshold functions one weight vector realises, and the table transforms (negating,
// swapping and testing variables) the census and the depth-2 counts are built from.
// Truth tables index x in {0,1}^n by sum_i x_i 2^i: bit x of the table is f(x).
#pragma once

#include <cstdint>

#include "deepcheap/common/config.hpp"

namespace deepcheap::census {

// A truth table of up to 7 inputs: bit x of (lo, hi) is f(x), x < 64 in lo, 64 <= x < 128 in hi.
struct Table128 {
  uint64_t lo;
  uint64_t hi;
};

DC_HD bool table_less(const Table128& a, const Table128& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; }
DC_HD bool table_equal(const Table128& a, const Table128& b) { return a.hi == b.hi && a.lo == b.lo; }

DC_HD bool table_bit(const Table128& t, uint32_t x) {
  return ((x < 64 ? t.lo >> x : t.hi >> (x - 64)) & 1u) != 0;
}

DC_HD void table_set(Table128& t, uint32_t x) {
  if (x < 64)
    t.lo |= uint64_t(1) << x;
  else
    t.hi |= uint64_t(1) << (x - 64);
}

// Positions x (of a 64-bit word) whose bit i is 0, for i < 6.
DC_HD uint64_t low_half_mask(int i) {
  switch (i) {
    case 0: return 0x5555555555555555ull;
    case 1: return 0x3333333333333333ull;
    case 2: return 0x0F0F0F0F0F0F0F0Full;
    case 3: return 0x00FF00FF00FF00FFull;
    case 4: return 0x0000FFFF0000FFFFull;
    default: return 0x00000000FFFFFFFFull;
  }
}

// All ones on the 2^n points of an n-input table (n <= 7).
DC_HD Table128 table_full(int n) {
  if (n >= 7) return Table128{~uint64_t(0), ~uint64_t(0)};
  if (n == 6) return Table128{~uint64_t(0), 0};
  return Table128{(uint64_t(1) << (1u << n)) - 1u, 0};
}

// f(x with x_i flipped): exchange the halves of every block of 2^(i+1) positions.
DC_HD uint64_t negate_variable64(uint64_t t, int i) {
  const uint64_t m = low_half_mask(i);
  const int s = 1 << i;
  return ((t >> s) & m) | ((t & m) << s);
}

DC_HD Table128 negate_variable(const Table128& t, int i) {
  if (i == 6) return Table128{t.hi, t.lo};
  return Table128{negate_variable64(t.lo, i), negate_variable64(t.hi, i)};
}

// Whether f depends on x_i (n-input table, i < n).
DC_HD bool depends_on(const Table128& t, int i) { return !table_equal(t, negate_variable(t, i)); }

// Whether f is symmetric in x_i and x_j (i < j): f(..x_i=1, x_j=0..) == f(..x_i=0, x_j=1..) everywhere.
DC_HD bool symmetric_in(const Table128& t, int i, int j, int n) {
  for (uint32_t x = 0; x < (1u << n); ++x)
    if (((x >> i) & 1u) == 1u && ((x >> j) & 1u) == 0u) {
      const uint32_t y = x ^ (1u << i) ^ (1u << j);
      if (table_bit(t, x) != table_bit(t, y)) return false;
    }
  return true;
}

// The chain of tables [w.x >= t] of one non-negative integer weight vector, for every threshold t from
// above the largest sum down to 0 (one table per distinct sum, plus the empty table). `level` needs
// sum(w) + 1 entries of scratch. Returns how many tables were written to `out` (at most 2^n + 1).
DC_HD int weight_chain(const int* w, int n, Table128* level, Table128* out) {
  int total = 0;
  for (int i = 0; i < n; ++i) total += w[i];
  for (int s = 0; s <= total; ++s) level[s] = Table128{0, 0};
  for (uint32_t x = 0; x < (1u << n); ++x) {
    int s = 0;
    for (int i = 0; i < n; ++i) s += ((x >> i) & 1u) ? w[i] : 0;
    table_set(level[s], x);
  }
  int count = 0;
  Table128 acc{0, 0};
  out[count++] = acc;
  for (int s = total; s >= 0; --s) {
    if (level[s].lo == 0 && level[s].hi == 0) continue;
    acc.lo |= level[s].lo;
    acc.hi |= level[s].hi;
    out[count++] = acc;
  }
  return count;
}

// [w.x >= t] at every point equals the table (n <= 10 inputs, table as 0/1 bytes): the exact check
// every realisation passes before it is returned. Integer arithmetic only.
DC_HD bool realises(const int64_t* w, int64_t t, int n, const uint8_t* table) {
  for (uint32_t x = 0; x < (1u << n); ++x) {
    int64_t s = 0;
    for (int i = 0; i < n; ++i) s += ((x >> i) & 1u) ? w[i] : 0;
    if ((s >= t) != (table[x] != 0)) return false;
  }
  return true;
}

// Bit-sliced evaluation of a k-input function g (truth table `g`, k <= 5) on k tables of 64 points:
// bit x of the result is g(h_0(x), ..., h_{k-1}(x)).
DC_HD uint64_t compose64(uint32_t g, const uint64_t* h, int k) {
  uint64_t out = 0;
  for (uint32_t p = 0; p < (1u << k); ++p) {
    if (((g >> p) & 1u) == 0) continue;
    uint64_t term = ~uint64_t(0);
    for (int j = 0; j < k; ++j) term &= ((p >> j) & 1u) ? h[j] : ~h[j];
    out |= term;
  }
  return out;
}

}  // namespace deepcheap::census
