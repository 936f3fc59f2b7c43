// Per-item math of the Ising and k-local Boltzmann samplers, device-clean (CPU loops in
// csrc/cpu/kernels/ising.cpp; a CUDA driver can call the same functions). Two representations:
// multi-spin coding (bit b of a uint64 word is replica b at one site; bit 1 = spin +1) and int8 ±1.
#pragma once

#include <math.h>

#include "deepcheap/common/config.hpp"
#include "deepcheap/common/exp.hpp"
#include "deepcheap/common/philox.hpp"

DC_NAMESPACE_BEGIN

// ---- Philox counter layout ------------------------------------------------------------------------
// Every random number of the area is philox4x32_10(counter (c0, c1, c2, c3), key = seed) (philox.hpp),
// except that a sampler's sweeps may use Philox4x32-7 instead (its `rounds`, kIsingRounds*: the same
// counters through 7 rounds; Salmon et al., SC'11, Table 2: 7 is the fewest rounds with which
// Philox4x32 passed TestU01 BigCrush); initial spins and block-spin ties always use Philox4x32-10.
// `purpose` words give each stream its own range, so no two uses share a counter. Replica numbers are
// global (first_replica + local index), so samplers over ranges of replicas equal one large sampler.
//
// Multi-spin Metropolis, site (i, j) of the L x L lattice of 64-replica group g, sweep n, colour
// c = (i + j) % 2: draw q is counter (i L + j, g, n, kIsingPurposeMultispin | c << 8 + q); it gives the
// bit-serial test's 64-bit words 2q = v1 << 32 | v0 and 2q + 1 = v3 << 32 | v2 (multispin_word).
// int8 (Metropolis and heat-bath), replica r: the t-th site of colour c in row i (j = (c + i) % 2 + 2t)
// takes word t % 4 of counter (i * int8_draws_per_row(L) + t / 4, r, n, int8_purpose(c, heatbath)).
// Random initial spins, replica r: sites 128 d .. 128 d + 127 are bits 0..127 (bit k of word k / 32)
// of counter (d, 0, r mod 2^32, kIsingPurposeInit | r >> 32); 1 is spin +1.
// Block-spin ties, replica r, block b: word 0 of (b, 0, r mod 2^32, kIsingPurposeBlockTie | r >> 32).
// Boltzmann heat-bath, replica r, spin i, sweep n, colour c: word 0 of item r * n_spins + i, i.e.
// counter (item mod 2^32, item >> 32, n, kBoltzmannPurpose | c); initial spins as the Ising ones with
// the seed xor kBoltzmannInitSeed.
constexpr uint32_t kIsingPurposeMultispin = 0x15100000u;  // | colour << 8 | draw index
constexpr uint32_t kIsingPurposeInt8 = 0x15200000u;       // | colour << 8 | algorithm
constexpr uint32_t kIsingPurposeInit = 0x15300000u;
constexpr uint32_t kIsingPurposeBlockTie = 0x15400000u;
constexpr uint32_t kBoltzmannPurpose = 0x15500000u;       // | colour
constexpr uint32_t kBoltzmannPurposeInit = 0x15600000u;
constexpr uint64_t kBoltzmannInitSeed = 0xB01720A77ull;

// The two sweep generators: the package's Philox4x32-10 (rng "philox", the only stream up to 0.2.x)
// and Philox4x32-7 (rng "philox7", the default of new Ising samplers from 0.3.0).
constexpr int kIsingRoundsPhilox10 = 10;
constexpr int kIsingRoundsPhilox7 = 7;

// The sweep draw of counter (item, step, purpose) with `rounds` (7 or 10) rounds.
DC_HD Philox4x32 ising_draw(int rounds, uint64_t seed, uint64_t item, uint32_t step, uint32_t purpose) {
  const uint32_t c0 = static_cast<uint32_t>(item), c1 = static_cast<uint32_t>(item >> 32);
  return rounds == kIsingRoundsPhilox7 ? philox4x32_r<7>(c0, c1, step, purpose, seed_key0(seed), seed_key1(seed))
                                       : philox4x32_r<10>(c0, c1, step, purpose, seed_key0(seed), seed_key1(seed));
}

DC_HD uint32_t multispin_purpose(int colour, int draw) {
  return (kIsingPurposeMultispin | (uint32_t(colour) << 8)) + uint32_t(draw);
}
DC_HD uint32_t int8_purpose(int colour, bool heatbath) {
  return kIsingPurposeInt8 | (uint32_t(colour) << 8) | (heatbath ? 1u : 0u);
}
DC_HD int64_t int8_draws_per_row(int64_t L) { return (L / 2 + 3) / 4; }

// The Philox items (counter words 0 and 1) of the layouts above: multi-spin site `site` = i L + j of
// 64-replica group `group`, and int8 draw q of row i (of int8_draws_per_row(L)) of replica `replica`.
// A row's consecutive sites or draws differ in word 0 only, which is what lets the CPU kernel draw
// them with a strided SIMD Philox.
DC_HD uint64_t multispin_item(uint64_t group, int64_t site) {
  return uint64_t(static_cast<uint32_t>(group)) << 32 | static_cast<uint32_t>(site);
}
DC_HD uint64_t int8_item(int64_t L, int64_t i, int64_t q, uint64_t replica) {
  return uint64_t(static_cast<uint32_t>(replica)) << 32 | static_cast<uint32_t>(i * int8_draws_per_row(L) + q);
}

// Word k (0..63) of a multi-spin site's bit-serial test, from draw k / 2.
DC_HD uint64_t multispin_word(const Philox4x32& draw, int k) {
  return (k & 1) ? (uint64_t(draw.v[3]) << 32 | draw.v[2]) : (uint64_t(draw.v[1]) << 32 | draw.v[0]);
}

// The draw holding initial spins 128 d .. 128 d + 127 of replica `replica` (global), and the draw
// whose word 0 breaks a block-spin tie of block `block` of that replica (layouts above).
DC_HD Philox4x32 initial_spins_draw(uint64_t seed, uint64_t replica, int64_t d) {
  return philox_draw(seed, uint64_t(d), uint32_t(replica), kIsingPurposeInit | uint32_t(replica >> 32));
}
DC_HD uint32_t block_tie_word(uint64_t seed, uint64_t block, uint64_t replica) {
  return philox_draw(seed, block, uint32_t(replica), kIsingPurposeBlockTie | uint32_t(replica >> 32)).v[0];
}

// Spin k (0..127) of an initial-spin draw.
DC_HD int8_t initial_spin(const Philox4x32& draw, int k) {
  return ((draw.v[k >> 5] >> (k & 31)) & 1) ? int8_t(1) : int8_t(-1);
}

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

// All ones where bit `k` (from the most significant, k = 0..63) of a 2^64-scale threshold is set.
DC_HD uint64_t threshold_bit_mask(uint64_t threshold, int k) { return uint64_t(0) - ((threshold >> (63 - k)) & 1); }

// One position of the bit-serial acceptance test. Each undecided replica compares its uniform's next
// bit (r) with its threshold's (bits): the first position where they differ decides, accepting when
// the uniform has 0 and the threshold 1 (u < p).
DC_HD void multispin_test_word(uint64_t r, uint64_t bits, uint64_t& accept, uint64_t& undecided) {
  accept |= undecided & bits & ~r;
  undecided &= ~(r ^ bits);
}

// h = 0 (any J): flipping costs dE = 4|J|(S - 2) for S satisfied bonds, so only S = 3 and S = 4 need a
// random test; the others always flip. `flip` starts as the replicas that flip for sure, `undecided`
// as those to test, class3 / class4 as their classes.
struct TwoClassSite {
  uint64_t flip, undecided, class3, class4;
};

DC_HD TwoClassSite multispin_two_class_begin(uint64_t s, uint64_t n0, uint64_t n1, uint64_t n2, uint64_t n3,
                                             bool ferro) {
  const uint64_t f = ferro ? ~uint64_t(0) : uint64_t(0);
  uint64_t eq[5];
  multispin_bond_classes(s ^ n0 ^ f, s ^ n1 ^ f, s ^ n2 ^ f, s ^ n3 ^ f, eq);
  const uint64_t need = eq[3] | eq[4];
  return TwoClassSite{~need, need, eq[3], eq[4]};
}

// Test word k of the two-class site with the threshold bit masks of S = 3 and S = 4 at position k.
DC_HD void multispin_two_class_word(TwoClassSite& x, uint64_t r, uint64_t bit3, uint64_t bit4) {
  multispin_test_word(r, (x.class3 & bit3) | (x.class4 & bit4), x.flip, x.undecided);
}

// The whole h = 0 update of one site: the new word. Draws on demand in the counter layout above
// (item = g << 32 | (i L + j)); the CPU kernel runs the same begin/word steps with the first draws of
// a row vectorised, and gives the same result.
DC_HD uint64_t multispin_two_class_site(uint64_t s, uint64_t n0, uint64_t n1, uint64_t n2, uint64_t n3,
                                        bool ferro, uint64_t threshold3, uint64_t threshold4, uint64_t seed,
                                        uint64_t item, uint32_t step, int colour, int rounds) {
  TwoClassSite x = multispin_two_class_begin(s, n0, n1, n2, n3, ferro);
  Philox4x32 draw{{0, 0, 0, 0}};
  for (int k = 0; k < 64 && x.undecided; ++k) {
    if ((k & 1) == 0) draw = ising_draw(rounds, seed, item, step, multispin_purpose(colour, k >> 1));
    multispin_two_class_word(x, multispin_word(draw, k), threshold_bit_mask(threshold3, k),
                             threshold_bit_mask(threshold4, k));
  }
  return s ^ x.flip;
}

// One multi-spin Metropolis update of a site word `s` with neighbours n0..n3. `ferro` selects which
// neighbour relation satisfies a bond (aligned for J > 0, anti-aligned for J < 0). Random words come
// from `prefix` (already drawn, `n_prefix` of them) and then from Philox draws on demand; each replica
// compares its own uniform (the bits of the random words at its position, most significant first) with
// its class threshold, so replicas never share a random number. Returns the new word.
DC_HD uint64_t multispin_metropolis_site(uint64_t s, uint64_t n0, uint64_t n1, uint64_t n2, uint64_t n3,
                                         bool ferro, const MultispinTable& table, const uint64_t* prefix,
                                         int n_prefix, uint64_t seed, uint64_t item, uint32_t step,
                                         uint32_t purpose, int rounds = kIsingRoundsPhilox10) {
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
      // n_prefix is even, so word k is half k % 2 of draw k / 2 (multispin_word).
      if (((k - n_prefix) & 1) == 0) block = ising_draw(rounds, seed, item, step, purpose + uint32_t(k >> 1));
      r = multispin_word(block, k);
    }
    uint64_t bits = 0;
    for (int c = 0; c < table.count; ++c) bits |= mask[c] & threshold_bit_mask(table.threshold[c], k);
    multispin_test_word(r, bits, accept, undecided);
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

// One int8 site of the checkerboard: neighbours up, down, left, right; `u` its random word.
DC_HD int8_t int8_site(int8_t s, int8_t up, int8_t down, int8_t left, int8_t right, uint32_t u, bool heatbath,
                       const uint64_t* threshold) {
  const int sum = int(up) + int(down) + int(left) + int(right);
  return heatbath ? int8_heatbath_site(sum, u, threshold) : int8_metropolis_site(s, sum, u, threshold);
}

// Majority of a block sum (ties broken by the caller's random bit).
DC_HD int8_t block_majority(int sum, uint32_t random_bits) {
  if (sum > 0) return 1;
  if (sum < 0) return -1;
  return (random_bits & 1u) ? int8_t(1) : int8_t(-1);
}

// Heat-bath probability threshold (2^32 scale) for a spin with local field F = dH/ds (H = s F + rest).
DC_HD uint64_t heatbath_threshold(double beta_field) {
  // P(s = +1) = 1 / (1 + exp(2 beta F)); computed without overflow for large |beta F|, with the exp
  // that rounds the same on every device (common/exp.hpp), so GPU and CPU thresholds agree bit for bit.
  double p;
  if (beta_field >= 0) {
    const double e = portable_exp(-2.0 * beta_field);
    p = e / (1.0 + e);
  } else {
    p = 1.0 / (1.0 + portable_exp(2.0 * beta_field));
  }
  const double scaled = p * 4294967296.0;
  return scaled >= 4294967296.0 ? uint64_t(1) << 32 : uint64_t(scaled);
}

// ---- whole-site updates and per-replica sums: what a driver with one thread per item runs ----------
// Lattices are row-major L x L; the t-th site of colour c in row i is column j = (c + i) % 2 + 2t.

// The random word of int8 site t of row i, replica `replica` (global), sweep `step`, colour c.
DC_HD uint32_t int8_site_word(uint64_t seed, int64_t L, int64_t i, int64_t t, uint64_t replica, uint32_t step,
                              int colour, bool heatbath, int rounds) {
  return ising_draw(rounds, seed, int8_item(L, i, t / 4, replica), step, int8_purpose(colour, heatbath)).v[t & 3];
}

// Updates int8 site t of colour c in row i of one replica's lattice.
DC_HD void int8_update(int8_t* lattice, int64_t L, int64_t i, int64_t t, int colour, uint64_t replica,
                       uint32_t step, uint64_t seed, bool heatbath, const uint64_t* threshold, int rounds) {
  const int64_t j = ((colour + i) & 1) + 2 * t;
  int8_t* here = lattice + i * L;
  const int8_t up = lattice[(i == 0 ? L - 1 : i - 1) * L + j], down = lattice[(i + 1 == L ? 0 : i + 1) * L + j];
  const int8_t left = here[j == 0 ? L - 1 : j - 1], right = here[j + 1 == L ? 0 : j + 1];
  const uint32_t u = int8_site_word(seed, L, i, t, replica, step, colour, heatbath, rounds);
  here[j] = int8_site(here[j], up, down, left, right, u, heatbath, threshold);
}

// Updates multi-spin site t of colour c in row i of group `group`'s lattice of words (all draws on
// demand; the CPU kernel draws the first ones of a row together and gets the same words).
DC_HD void multispin_update(uint64_t* lattice, int64_t L, int64_t i, int64_t t, int colour, uint64_t group,
                            uint32_t step, uint64_t seed, bool ferro, const MultispinTable& table, bool two_classes,
                            int rounds) {
  const int64_t j = ((colour + i) & 1) + 2 * t;
  uint64_t* here = lattice + i * L;
  const uint64_t up = lattice[(i == 0 ? L - 1 : i - 1) * L + j], down = lattice[(i + 1 == L ? 0 : i + 1) * L + j];
  const uint64_t left = here[j == 0 ? L - 1 : j - 1], right = here[j + 1 == L ? 0 : j + 1];
  const uint64_t item = multispin_item(group, i * L + j);
  here[j] = two_classes ? multispin_two_class_site(here[j], up, down, left, right, ferro, table.threshold[0],
                                                   table.threshold[1], seed, item, step, colour, rounds)
                        : multispin_metropolis_site(here[j], up, down, left, right, ferro, table, nullptr, 0, seed,
                                                    item, step, multispin_purpose(colour, 0), rounds);
}

// Replica b of a multi-spin lattice: up spins and anti-aligned bonds (right and down neighbours).
DC_HD void multispin_replica_counts(const uint64_t* lattice, int64_t L, int b, int64_t& up_count, int64_t& anti) {
  up_count = 0, anti = 0;
  for (int64_t i = 0; i < L; ++i) {
    const uint64_t* here = lattice + i * L;
    const uint64_t* down = lattice + (i + 1 == L ? 0 : i + 1) * L;
    for (int64_t j = 0; j < L; ++j) {
      const uint64_t s = here[j];
      up_count += int64_t((s >> b) & 1);
      anti += int64_t(((s ^ here[j + 1 == L ? 0 : j + 1]) >> b) & 1) + int64_t(((s ^ down[j]) >> b) & 1);
    }
  }
}

// One int8 lattice: sum of spins and sum over bonds (right and down) of s_i s_j. Row sums in int32
// (|row| <= 2L <= 65536), so the CPU's copy of this loop vectorises.
DC_HD void int8_replica_sums(const int8_t* lattice, int64_t L, int64_t& spin_sum, int64_t& bond_sum) {
  int64_t m = 0, e = 0;
  for (int64_t i = 0; i < L; ++i) {
    const int8_t* here = lattice + i * L;
    const int8_t* down = lattice + (i + 1 == L ? 0 : i + 1) * L;
    int32_t row_m = 0, row_e = 0;
    for (int64_t j = 0; j < L; ++j) {
      const int s = here[j];
      row_m += s;
      row_e += s * (int(here[j + 1 == L ? 0 : j + 1]) + int(down[j]));
    }
    m += row_m;
    e += row_e;
  }
  spin_sum = m;
  bond_sum = e;
}

// Row i of a multi-spin lattice for all 64 replicas at once: counts[b] = up spins of replica b in the
// row, counts[64 + b] = its anti-aligned bonds (right and down neighbours). Bit-sliced counters (plane
// k holds bit k of every replica's count, enough planes for 2L) make it one pass over the row's words
// instead of 64 (multispin_replica_counts, one replica per call, is what a thread per replica runs).
DC_HD void multispin_row_counts(const uint64_t* lattice, int64_t L, int64_t i, int64_t* counts) {
  int planes = 1;
  while ((int64_t(1) << planes) <= 2 * L) ++planes;
  const uint64_t* here = lattice + i * L;
  const uint64_t* down = lattice + (i + 1 == L ? 0 : i + 1) * L;
  uint64_t up_planes[24] = {0}, anti_planes[24] = {0};
  auto add = [planes](uint64_t* c, uint64_t x) {
    for (int k = 0; k < planes && x; ++k) {
      const uint64_t carry = c[k] & x;
      c[k] ^= x;
      x = carry;
    }
  };
  for (int64_t j = 0; j < L; ++j) {
    const uint64_t s = here[j];
    add(up_planes, s);
    add(anti_planes, s ^ here[j + 1 == L ? 0 : j + 1]);
    add(anti_planes, s ^ down[j]);
  }
  for (int b = 0; b < 64; ++b) {
    int64_t u = 0, a = 0;
    for (int k = 0; k < planes; ++k) {
      u += int64_t((up_planes[k] >> b) & 1) << k;
      a += int64_t((anti_planes[k] >> b) & 1) << k;
    }
    counts[b] = u;
    counts[64 + b] = a;
  }
}

// Heat-bath sweeps of one Boltzmann replica (global number `replica`): colour classes in turn, each
// spin's local field from the terms it is in, its word from the counter of (replica * n_spins + i).
DC_HD void boltzmann_replica_sweeps(int8_t* s, int64_t n_spins, int n_colours, const int64_t* colour_offsets,
                                    const int32_t* colour_members, const int64_t* incidence_offsets,
                                    const int32_t* incidence_terms, const int32_t* term_indices,
                                    const double* coefficients, double beta, uint64_t seed, uint64_t replica,
                                    uint64_t first_sweep, int64_t n_sweeps) {
  for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
    const uint32_t step = static_cast<uint32_t>(first_sweep + uint64_t(sweep));
    for (int colour = 0; colour < n_colours; ++colour) {
      for (int64_t m = colour_offsets[colour]; m < colour_offsets[colour + 1]; ++m) {
        const int32_t i = colour_members[m];
        double field = 0.0;
        for (int64_t k = incidence_offsets[i]; k < incidence_offsets[i + 1]; ++k) {
          const int32_t* idx = term_indices + 4 * int64_t(incidence_terms[k]);
          int prod = 1;
          for (int q = 0; q < 4; ++q)
            if (idx[q] >= 0 && idx[q] != i) prod *= s[idx[q]];
          field += prod > 0 ? coefficients[incidence_terms[k]] : -coefficients[incidence_terms[k]];
        }
        const uint32_t u =
            philox_draw(seed, replica * uint64_t(n_spins) + uint64_t(i), step, kBoltzmannPurpose | uint32_t(colour)).v[0];
        s[i] = uint64_t(u) < heatbath_threshold(beta * field) ? int8_t(1) : int8_t(-1);
      }
    }
  }
}

// H of one Boltzmann configuration.
DC_HD double boltzmann_energy_of(const int8_t* s, int64_t n_terms, const int32_t* term_indices,
                                 const double* coefficients) {
  double e = 0.0;
  for (int64_t t = 0; t < n_terms; ++t) {
    int prod = 1;
    for (int q = 0; q < 4; ++q)
      if (term_indices[4 * t + q] >= 0) prod *= s[term_indices[4 * t + q]];
    e += prod > 0 ? coefficients[t] : -coefficients[t];
  }
  return e;
}

DC_NAMESPACE_END
