// Per-item math of the Ising and k-local Boltzmann samplers, device-clean (CPU loops in
// csrc/cpu/kernels/ising.cpp; a CUDA driver can call the same functions). Two representations:
// multi-spin coding (bit b of a uint64 word is replica b at one site; bit 1 = spin +1) and int8 ±1.
#pragma once

#include <math.h>

#include "deepcheap/common/config.hpp"
#include "deepcheap/common/philox.hpp"

DC_NAMESPACE_BEGIN

// Philox `purpose` words: every stream of the area has its own range, so no two uses share a counter.
constexpr uint32_t kIsingPurposeMultispin = 0x15100000u;  // | colour << 8 | draw index
constexpr uint32_t kIsingPurposeInt8 = 0x15200000u;       // | colour << 8 | algorithm
constexpr uint32_t kIsingPurposeInit = 0x15300000u;
constexpr uint32_t kIsingPurposeBlockTie = 0x15400000u;
constexpr uint32_t kBoltzmannPurpose = 0x15500000u;       // | colour
constexpr uint32_t kBoltzmannPurposeInit = 0x15600000u;

// Up to this many classes of (satisfied bonds S, spin) have an acceptance probability below one.
constexpr int kMultispinMaxClasses = 10;

// The acceptance classes of a multi-spin Metropolis update. A replica is in class c when its number
// of satisfied bonds is `satisfied[c]` and its spin matches `spin[c]` (0: down, 1: up, 2: either);
// it flips with probability threshold[c] / 2^64, tested bit-serially against random words.
struct MultispinTable {
  int count;
  int satisfied[kMultispinMaxClasses];
  int spin[kMultispinMaxClasses];
  uint64_t threshold[kMultispinMaxClasses];
};

// Bit-sliced count of satisfied bonds (0..4) from four "satisfied" words: returns the masks of the
// replicas with exactly k satisfied bonds in eq[k].
DC_HD void multispin_bond_classes(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t eq[5]) {
  // Two half adders, then a 2-bit + 2-bit add: S = 4*s2 + 2*s1 + s0.
  const uint64_t x0 = a ^ b, x1 = a & b;
  const uint64_t y0 = c ^ d, y1 = c & d;
  const uint64_t s0 = x0 ^ y0;
  const uint64_t carry = x0 & y0;
  const uint64_t s1 = x1 ^ y1 ^ carry;
  const uint64_t s2 = (x1 & y1) | ((x1 ^ y1) & carry);
  eq[0] = ~s2 & ~s1 & ~s0;
  eq[1] = ~s2 & ~s1 & s0;
  eq[2] = ~s2 & s1 & ~s0;
  eq[3] = ~s2 & s1 & s0;
  eq[4] = s2;
}

// One multi-spin Metropolis update of a site word `s` with neighbours n0..n3. `ferro` selects which
// neighbour relation satisfies a bond (aligned for J > 0, anti-aligned for J < 0). Random words come
// from `prefix` (already drawn, `n_prefix` of them) and then from Philox draws on demand; each replica
// compares its own uniform (the bits of the random words at its position, most significant first) with
// its class threshold, so replicas never share a random number. Returns the new word.
DC_HD uint64_t multispin_metropolis_site(uint64_t s, uint64_t n0, uint64_t n1, uint64_t n2, uint64_t n3,
                                         bool ferro, const MultispinTable& table, const uint64_t* prefix,
                                         int n_prefix, uint64_t seed, uint64_t item, uint32_t step,
                                         uint32_t purpose) {
  const uint64_t flip = ferro ? ~uint64_t(0) : uint64_t(0);
  uint64_t eq[5];
  multispin_bond_classes(s ^ n0 ^ flip, s ^ n1 ^ flip, s ^ n2 ^ flip, s ^ n3 ^ flip, eq);
  uint64_t mask[kMultispinMaxClasses];
  uint64_t need = 0;
  for (int c = 0; c < table.count; ++c) {
    const uint64_t sel = table.spin[c] == 2 ? ~uint64_t(0) : (table.spin[c] == 1 ? s : ~s);
    mask[c] = eq[table.satisfied[c]] & sel;
    need |= mask[c];
  }
  uint64_t undecided = need, accept = 0;
  Philox4x32 block{{0, 0, 0, 0}};
  for (int k = 0; k < 64 && undecided; ++k) {
    uint64_t r;
    if (k < n_prefix) {
      r = prefix[k];
    } else {
      if (((k - n_prefix) & 1) == 0) block = philox_draw(seed, item, step, purpose + uint32_t(k >> 1));
      r = ((k - n_prefix) & 1) ? (uint64_t(block.v[3]) << 32 | block.v[2])
                               : (uint64_t(block.v[1]) << 32 | block.v[0]);
    }
    uint64_t bits = 0;
    for (int c = 0; c < table.count; ++c)
      bits |= mask[c] & (uint64_t(0) - ((table.threshold[c] >> (63 - k)) & 1));
    accept |= undecided & bits & ~r;   // first differing bit: uniform 0, threshold 1 -> u < p
    undecided &= ~(r ^ bits);          // equal bits: still undecided
  }
  return s ^ (~need | accept);
}

// int8 single-site updates. `sum` is the neighbour sum (-4..4, even). Metropolis: flip when
// u < threshold[(sum + 4) / 2][s > 0] / 2^32; heat-bath: new spin +1 when u < threshold[(sum + 4) / 2].
DC_HD int8_t int8_metropolis_site(int8_t s, int sum, uint32_t u, const uint64_t* threshold) {
  const int idx = ((sum + 4) >> 1) * 2 + (s > 0 ? 1 : 0);
  return uint64_t(u) < threshold[idx] ? int8_t(-s) : s;
}

DC_HD int8_t int8_heatbath_site(int sum, uint32_t u, const uint64_t* threshold) {
  return uint64_t(u) < threshold[(sum + 4) >> 1] ? int8_t(1) : int8_t(-1);
}

// Majority of a block sum (ties broken by the caller's random bit).
DC_HD int8_t block_majority(int sum, uint32_t random_bits) {
  if (sum > 0) return 1;
  if (sum < 0) return -1;
  return (random_bits & 1u) ? int8_t(1) : int8_t(-1);
}

// Heat-bath probability threshold (2^32 scale) for a spin with local field F = dH/ds (H = s F + rest).
DC_HD uint64_t heatbath_threshold(double beta_field) {
  // P(s = +1) = 1 / (1 + exp(2 beta F)); computed without overflow for large |beta F|.
  double p;
  if (beta_field >= 0) {
    const double e = exp(-2.0 * beta_field);
    p = e / (1.0 + e);
  } else {
    p = 1.0 / (1.0 + exp(2.0 * beta_field));
  }
  const double scaled = p * 4294967296.0;
  return scaled >= 4294967296.0 ? uint64_t(1) << 32 : uint64_t(scaled);
}

DC_NAMESPACE_END
