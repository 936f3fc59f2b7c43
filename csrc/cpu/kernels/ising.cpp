// Hot loops of the Ising and k-local Boltzmann samplers (compiled once per SIMD target). Every random
// number is a Philox draw keyed by the seed with a counter built from (site or spin, replica, sweep,
// colour), and each parallel item (a lattice row, a replica) writes only its own sites, so any thread
// count and any SIMD target produce the same lattices bit for bit.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/common/philox.hpp"
#include "deepcheap/ising/ising.hpp"
#include "threads.hpp"

DC_NAMESPACE_BEGIN

namespace {
// Random words drawn for a whole row before the updates (a loop the compiler can vectorise); the rare
// sites whose replicas stay undecided after them draw more on demand.
constexpr int kPrefixDraws = 4;
constexpr int kPrefixWords = 2 * kPrefixDraws;
constexpr int64_t kRowChunk = 64;

inline int64_t wrap_next(int64_t x, int64_t L) { return x + 1 == L ? 0 : x + 1; }
inline int64_t wrap_prev(int64_t x, int64_t L) { return x == 0 ? L - 1 : x - 1; }
}  // namespace

void ising_multispin_sweep(uint64_t* words, int64_t groups, int64_t L, int n_classes, const int* satisfied,
                           const int* spin, const uint64_t* threshold, bool ferro, uint64_t seed,
                           uint64_t first_sweep, int64_t n_sweeps) {
  MultispinTable table;
  table.count = n_classes;
  for (int c = 0; c < n_classes; ++c) {
    table.satisfied[c] = satisfied[c];
    table.spin[c] = spin[c];
    table.threshold[c] = threshold[c];
  }
  const int threads = cpu::num_threads();
  const int64_t rows = groups * L;
  const int64_t half = L / 2;
  for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
    const uint32_t step = static_cast<uint32_t>(first_sweep + uint64_t(sweep));
    for (int colour = 0; colour < 2; ++colour) {
      const uint32_t purpose = kIsingPurposeMultispin | (uint32_t(colour) << 8);
      parallel_for_chunks(rows, 1, threads, [&](int64_t begin, int64_t end) {
        uint64_t prefix[kPrefixWords][kRowChunk];
        for (int64_t row = begin; row < end; ++row) {
          const int64_t g = row / L, i = row % L;
          uint64_t* lattice = words + g * L * L;
          const uint64_t* up = lattice + wrap_prev(i, L) * L;
          const uint64_t* down = lattice + wrap_next(i, L) * L;
          uint64_t* here = lattice + i * L;
          const int64_t j0 = (colour + i) & 1;
          const uint64_t row_item = uint64_t(row) * uint64_t(L);
          for (int64_t t0 = 0; t0 < half; t0 += kRowChunk) {
            const int64_t n = half - t0 < kRowChunk ? half - t0 : kRowChunk;
            for (int q = 0; q < kPrefixDraws; ++q) {
              for (int64_t t = 0; t < n; ++t) {
                const uint64_t item = row_item + uint64_t(j0 + 2 * (t0 + t));
                const Philox4x32 b = philox_draw(seed, item, step, purpose + uint32_t(q));
                prefix[2 * q][t] = uint64_t(b.v[1]) << 32 | b.v[0];
                prefix[2 * q + 1][t] = uint64_t(b.v[3]) << 32 | b.v[2];
              }
            }
            for (int64_t t = 0; t < n; ++t) {
              const int64_t j = j0 + 2 * (t0 + t);
              uint64_t mine[kPrefixWords];
              for (int k = 0; k < kPrefixWords; ++k) mine[k] = prefix[k][t];
              here[j] = multispin_metropolis_site(here[j], up[j], down[j], here[wrap_prev(j, L)],
                                                  here[wrap_next(j, L)], ferro, table, mine, kPrefixWords,
                                                  seed, row_item + uint64_t(j), step, purpose);
            }
          }
        }
      });
    }
  }
}

void ising_int8_sweep(int8_t* spins, int64_t replicas, int64_t L, bool heatbath, const uint64_t* threshold,
                      uint64_t seed, uint64_t first_sweep, int64_t n_sweeps) {
  const int threads = cpu::num_threads();
  const int64_t rows = replicas * L;
  const int64_t half = L / 2;
  const int64_t draws_per_row = (half + 3) / 4;
  for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
    const uint32_t step = static_cast<uint32_t>(first_sweep + uint64_t(sweep));
    for (int colour = 0; colour < 2; ++colour) {
      const uint32_t purpose = kIsingPurposeInt8 | (uint32_t(colour) << 8) | (heatbath ? 1u : 0u);
      parallel_for_chunks(rows, 1, threads, [&](int64_t begin, int64_t end) {
        uint32_t u[4 * kRowChunk];
        for (int64_t row = begin; row < end; ++row) {
          const int64_t r = row / L, i = row % L;
          int8_t* lattice = spins + r * L * L;
          const int8_t* up = lattice + wrap_prev(i, L) * L;
          const int8_t* down = lattice + wrap_next(i, L) * L;
          int8_t* here = lattice + i * L;
          const int64_t j0 = (colour + i) & 1;
          for (int64_t q0 = 0; q0 < draws_per_row; q0 += kRowChunk) {
            const int64_t nq = draws_per_row - q0 < kRowChunk ? draws_per_row - q0 : kRowChunk;
            for (int64_t q = 0; q < nq; ++q) {
              const Philox4x32 b = philox_draw(seed, uint64_t(row) * uint64_t(draws_per_row) + uint64_t(q0 + q),
                                               step, purpose);
              u[4 * q + 0] = b.v[0];
              u[4 * q + 1] = b.v[1];
              u[4 * q + 2] = b.v[2];
              u[4 * q + 3] = b.v[3];
            }
            const int64_t t_end = (q0 + nq) * 4 < half ? (q0 + nq) * 4 : half;
            for (int64_t t = q0 * 4; t < t_end; ++t) {
              const int64_t j = j0 + 2 * t;
              const int sum = int(up[j]) + int(down[j]) + int(here[wrap_prev(j, L)]) + int(here[wrap_next(j, L)]);
              const uint32_t bits = u[t - q0 * 4];
              here[j] = heatbath ? int8_heatbath_site(sum, bits, threshold)
                                 : int8_metropolis_site(here[j], sum, bits, threshold);
            }
          }
        }
      });
    }
  }
}

// Per replica: number of up spins and number of unsatisfied-by-alignment (anti-aligned) bonds.
// `partial` holds groups * L * 128 counts (one row's counts per replica), so rows run in parallel.
void ising_multispin_measure(const uint64_t* words, int64_t groups, int64_t L, int64_t* partial,
                             int64_t* up_count, int64_t* anti_count) {
  int planes = 1;
  while ((int64_t(1) << planes) <= 2 * L) ++planes;
  parallel_for_chunks(groups * L, 1, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t g = row / L, i = row % L;
      const uint64_t* lattice = words + g * L * L;
      const uint64_t* here = lattice + i * L;
      const uint64_t* down = lattice + wrap_next(i, L) * L;
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
        add(anti_planes, s ^ here[wrap_next(j, L)]);
        add(anti_planes, s ^ down[j]);
      }
      int64_t* out = partial + row * 128;
      for (int b = 0; b < 64; ++b) {
        int64_t u = 0, a = 0;
        for (int k = 0; k < planes; ++k) {
          u += int64_t((up_planes[k] >> b) & 1) << k;
          a += int64_t((anti_planes[k] >> b) & 1) << k;
        }
        out[b] = u;
        out[64 + b] = a;
      }
    }
  });
  for (int64_t g = 0; g < groups; ++g) {
    for (int b = 0; b < 64; ++b) {
      int64_t u = 0, a = 0;
      for (int64_t i = 0; i < L; ++i) {
        u += partial[(g * L + i) * 128 + b];
        a += partial[(g * L + i) * 128 + 64 + b];
      }
      up_count[g * 64 + b] = u;
      anti_count[g * 64 + b] = a;
    }
  }
}

// Per replica: sum of spins and sum over bonds of s_i s_j.
void ising_int8_measure(const int8_t* spins, int64_t replicas, int64_t L, int64_t* spin_sum, int64_t* bond_sum) {
  parallel_for_chunks(replicas, 1, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int8_t* lattice = spins + r * L * L;
      int64_t m = 0, e = 0;
      for (int64_t i = 0; i < L; ++i) {
        const int8_t* here = lattice + i * L;
        const int8_t* down = lattice + wrap_next(i, L) * L;
        int32_t row_m = 0, row_e = 0;
        for (int64_t j = 0; j < L; ++j) {
          const int s = here[j];
          row_m += s;
          row_e += s * (int(here[wrap_next(j, L)]) + int(down[j]));
        }
        m += row_m;
        e += row_e;
      }
      spin_sum[r] = m;
      bond_sum[r] = e;
    }
  });
}

void ising_pack(const int8_t* spins, int64_t groups, int64_t sites, uint64_t* words) {
  parallel_for_chunks(groups * sites, 4096, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t g = x / sites, site = x % sites;
      uint64_t w = 0;
      for (int b = 0; b < 64; ++b) w |= uint64_t(spins[(g * 64 + b) * sites + site] > 0) << b;
      words[x] = w;
    }
  });
}

void ising_unpack(const uint64_t* words, int64_t groups, int64_t sites, int8_t* spins) {
  parallel_for_chunks(groups * 64, 1, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t g = r / 64;
      const int b = int(r % 64);
      const uint64_t* w = words + g * sites;
      int8_t* out = spins + r * sites;
      for (int64_t site = 0; site < sites; ++site) out[site] = ((w[site] >> b) & 1) ? int8_t(1) : int8_t(-1);
    }
  });
}

// Independent fair ±1 spins: one Philox draw gives 128 sites of a replica.
void ising_random_spins(int8_t* spins, int64_t replicas, int64_t sites, uint64_t seed) {
  const int64_t draws = (sites + 127) / 128;
  parallel_for_chunks(replicas * draws, 64, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t r = x / draws, d = x % draws;
      const Philox4x32 b = philox_draw(seed, uint64_t(d), uint32_t(r), kIsingPurposeInit | uint32_t(uint64_t(r) >> 32));
      const int64_t first = d * 128;
      const int64_t n = sites - first < 128 ? sites - first : 128;
      for (int64_t k = 0; k < n; ++k)
        spins[r * sites + first + k] = ((b.v[k >> 5] >> (k & 31)) & 1) ? int8_t(1) : int8_t(-1);
    }
  });
}

// Block spins: b x b blocks of each replica's L x L lattice; rule 0 majority (ties by Philox keyed on
// (seed, block, replica)), rule 1 decimation (the block's top-left spin).
void ising_block_spin(const int8_t* spins, int64_t replicas, int64_t L, int64_t b, int rule, uint64_t seed,
                      int8_t* out) {
  const int64_t n = L / b;
  parallel_for_chunks(replicas * n, 1, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      const int64_t r = x / n, bi = x % n;
      const int8_t* lattice = spins + r * L * L;
      for (int64_t bj = 0; bj < n; ++bj) {
        int8_t value;
        if (rule == 1) {
          value = lattice[(bi * b) * L + bj * b];
        } else {
          int sum = 0;
          for (int64_t di = 0; di < b; ++di) {
            const int8_t* src = lattice + (bi * b + di) * L + bj * b;
            for (int64_t dj = 0; dj < b; ++dj) sum += src[dj];
          }
          uint32_t bits = 0;
          if (sum == 0) {
            const uint64_t block = uint64_t(bi * n + bj);
            bits = philox_draw(seed, block, uint32_t(r), kIsingPurposeBlockTie | uint32_t(uint64_t(r) >> 32)).v[0];
          }
          value = block_majority(sum, bits);
        }
        out[(r * n + bi) * n + bj] = value;
      }
    }
  });
}

// Heat-bath sweeps of H = sum_t coefficient_t prod_{i in t} s_i over replicas. Terms have up to four
// indices (padded with -1); spins of one colour share no term, so each colour is one parallel step.
void boltzmann_sweep(int8_t* spins, int64_t replicas, int64_t n_spins, int n_colours, const int64_t* colour_offsets,
                     const int32_t* colour_members, const int64_t* incidence_offsets, const int32_t* incidence_terms,
                     const int32_t* term_indices, const double* coefficients, double beta, uint64_t seed,
                     uint64_t first_sweep, int64_t n_sweeps) {
  parallel_for_chunks(replicas, 1, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int8_t* s = spins + r * n_spins;
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
                philox_draw(seed, uint64_t(r) * uint64_t(n_spins) + uint64_t(i), step, kBoltzmannPurpose | uint32_t(colour)).v[0];
            s[i] = uint64_t(u) < heatbath_threshold(beta * field) ? int8_t(1) : int8_t(-1);
          }
        }
      }
    }
  });
}

void boltzmann_energy(const int8_t* spins, int64_t replicas, int64_t n_spins, int64_t n_terms,
                      const int32_t* term_indices, const double* coefficients, double* out) {
  parallel_for_chunks(replicas, 16, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int8_t* s = spins + r * n_spins;
      double e = 0.0;
      for (int64_t t = 0; t < n_terms; ++t) {
        int prod = 1;
        for (int q = 0; q < 4; ++q)
          if (term_indices[4 * t + q] >= 0) prod *= s[term_indices[4 * t + q]];
        e += prod > 0 ? coefficients[t] : -coefficients[t];
      }
      out[r] = e;
    }
  });
}

DC_NAMESPACE_END
