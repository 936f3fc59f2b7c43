// Ising and Boltzmann samplers, device-neutral layer (see ising.hpp): checks, acceptance tables and
// the greedy colouring.
#include "plan/ising.hpp"

#include "deepcheap/ising/cluster.hpp"
#include "deepcheap/common/require.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace deepcheap::plan {
namespace {

double checked_beta(double temperature) {
  DC_REQUIRE(std::isfinite(temperature) && temperature > 0,
             "temperature must be finite and > 0, got " + std::to_string(temperature));
  return 1.0 / temperature;
}

// p in [0, 1] on the 2^bits scale; p = 1 maps to 2^bits (always accepted when compared with u < t).
uint64_t probability_threshold(double p, int bits) {
  if (!(p < 1.0)) return bits >= 64 ? ~uint64_t(0) : uint64_t(1) << bits;
  if (!(p > 0.0)) return 0;
  return static_cast<uint64_t>(std::ldexp(p, bits));
}

// Replica numbers enter the Philox counters as 32-bit words (int8 and Boltzmann: the replica; multi-spin:
// the group of 64), so first_replica + replicas must stay within 2^32.
void check_replica_range(uint64_t first_replica, int64_t replicas) {
  // replicas <= 2^32 first: otherwise 2^32 - replicas wraps around and the bound would pass.
  DC_REQUIRE(uint64_t(replicas) <= (uint64_t(1) << 32) && first_replica <= (uint64_t(1) << 32) - uint64_t(replicas),
             "first_replica + replicas is " + std::to_string(first_replica) + " + " + std::to_string(replicas) +
              " but expected <= 2^32");
}

}  // namespace

int64_t checked_state_spins(int64_t replicas, int64_t per_replica, const std::string& what) {
  int64_t total = 0;
  const bool overflow = __builtin_mul_overflow(replicas, per_replica, &total);
  DC_REQUIRE(replicas >= 0 && per_replica >= 0 && !overflow && total <= kMaxStateSpins,
             "replicas x spins per replica is " + std::to_string(replicas) + " x (" + what + ")" +
              (overflow ? std::string(", which overflows int64,") : " = " + std::to_string(total)) +
              " but expected at most 2^46 spins");
  return total;
}

void check_sweeps(uint64_t done, int64_t n) {
  DC_REQUIRE(n >= 0, "n must be >= 0, got " + std::to_string(n));
  DC_REQUIRE(done <= (uint64_t(1) << 32) && uint64_t(n) <= (uint64_t(1) << 32) - done,
             "sweeps_done + n is " + std::to_string(done) + " + " + std::to_string(n) +
              " but a chain makes at most 2^32 sweeps");
}

void check_spins(const int8_t* spins, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (spins[k] != 1 && spins[k] != -1)  // the message is built only on failure: this loop is hot
      throw std::invalid_argument("spins must hold only -1 and +1, but entry " + std::to_string(k) + " is " +
                                  std::to_string(int(spins[k])));
}

IsingSetup ising_setup(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, uint64_t first_replica) {
  DC_REQUIRE(L >= 2 && L % 2 == 0, "L must be even and >= 2, got " + std::to_string(L));
  DC_REQUIRE(L <= 32768, "L must be <= 32768, got " + std::to_string(L));
  DC_REQUIRE(replicas >= 1, "replicas must be >= 1, got " + std::to_string(replicas));
  check_replica_range(first_replica, replicas);
  checked_state_spins(replicas, L * L, "L x L = " + std::to_string(L * L) + " sites");
  DC_REQUIRE(!multispin || first_replica % 64 == 0,
             "the multi-spin kernel needs first_replica a multiple of 64, got " + std::to_string(first_replica));
  DC_REQUIRE(std::isfinite(J), "J must be finite, got " + std::to_string(J));
  DC_REQUIRE(std::isfinite(h), "h must be finite, got " + std::to_string(h));
  IsingSetup s{};
  s.L = L, s.replicas = replicas, s.J = J, s.h = h, s.beta = checked_beta(temperature);
  s.heatbath = heatbath, s.multispin = multispin, s.seed = seed, s.first_replica = first_replica;
  DC_REQUIRE(!multispin || (replicas % 64 == 0 && !heatbath),
             "the multi-spin kernel needs Metropolis and replicas a multiple of 64, got replicas=" +
              std::to_string(replicas));
  MultispinTable& c = s.classes;
  c.count = 0;
  for (int S = 0; S <= 4; ++S) {
    uint64_t t[2];
    bool always[2];
    for (int up = 0; up < 2; ++up) {
      const double dE = 4.0 * std::fabs(J) * (S - 2) + 2.0 * h * (up ? 1.0 : -1.0);
      const double p = dE <= 0 ? 1.0 : std::exp(-s.beta * dE);
      always[up] = !(p < 1.0);
      t[up] = always[up] ? 0 : probability_threshold(p, 64);
    }
    if (!always[0] && !always[1] && t[0] == t[1]) {
      c.satisfied[c.count] = S, c.spin[c.count] = 2, c.threshold[c.count++] = t[0];
    } else {
      for (int up = 0; up < 2; ++up)
        if (!always[up]) c.satisfied[c.count] = S, c.spin[c.count] = up, c.threshold[c.count++] = t[up];
    }
  }
  s.two_classes = c.count == 2 && c.satisfied[0] == 3 && c.satisfied[1] == 4 && c.spin[0] == 2 && c.spin[1] == 2;
  for (int k = 0; k < 10; ++k) s.threshold[k] = 0;
  for (int k = 0; k < 5; ++k) {
    const double local = J * (2 * k - 4) + h;  // J * neighbour sum + h
    if (heatbath) {
      s.threshold[k] = heatbath_threshold(-s.beta * local);
    } else {
      for (int up = 0; up < 2; ++up) {
        const double dE = 2.0 * (up ? 1.0 : -1.0) * local;
        s.threshold[2 * k + up] = probability_threshold(dE <= 0 ? 1.0 : std::exp(-s.beta * dE), 32);
      }
    }
  }
  return s;
}

BoltzmannSetup boltzmann_setup(int64_t n_spins, const int32_t* term_indices, const double* coefficients,
                               int64_t n_terms, double temperature, int64_t replicas, uint64_t seed,
                               uint64_t first_replica) {
  DC_REQUIRE(n_spins >= 1 && n_spins < (int64_t(1) << 31), "n_spins must be in [1, 2^31), got " + std::to_string(n_spins));
  DC_REQUIRE(replicas >= 1, "replicas must be >= 1, got " + std::to_string(replicas));
  check_replica_range(first_replica, replicas);
  checked_state_spins(replicas, n_spins, std::to_string(n_spins) + " spins");
  DC_REQUIRE(n_terms >= 0, "terms must not be negative in number");
  BoltzmannSetup s;
  s.n_spins = n_spins, s.n_terms = n_terms, s.replicas = replicas, s.beta = checked_beta(temperature);
  s.seed = seed, s.first_replica = first_replica;
  s.term_indices.assign(term_indices, term_indices + 4 * n_terms);
  s.coefficients.assign(coefficients, coefficients + n_terms);
  std::vector<int64_t> degree(size_t(n_spins), 0);
  for (int64_t t = 0; t < n_terms; ++t) {
    DC_REQUIRE(std::isfinite(coefficients[t]), "terms: coefficient of term " + std::to_string(t) + " is not finite");
    const int32_t* idx = term_indices + 4 * t;
    int order = 0;
    for (int q = 0; q < 4; ++q) {
      if (idx[q] < 0) {
        DC_REQUIRE(idx[q] == -1, "terms: padding index must be -1");
        continue;
      }
      DC_REQUIRE(idx[q] < n_spins, "terms: term " + std::to_string(t) + " has index " + std::to_string(idx[q]) +
                                    " but n_spins is " + std::to_string(n_spins));
      for (int p = 0; p < q; ++p)
        DC_REQUIRE(idx[p] != idx[q], "terms: term " + std::to_string(t) + " repeats index " + std::to_string(idx[q]));
      ++order;
      ++degree[size_t(idx[q])];
    }
    DC_REQUIRE(order >= 1, "terms: term " + std::to_string(t) + " has no spin index");
  }
  s.incidence_offsets.assign(size_t(n_spins + 1), 0);
  for (int64_t i = 0; i < n_spins; ++i) s.incidence_offsets[size_t(i + 1)] = s.incidence_offsets[size_t(i)] + degree[size_t(i)];
  s.incidence_terms.assign(size_t(s.incidence_offsets.back()), 0);
  std::vector<int64_t> fill(s.incidence_offsets.begin(), s.incidence_offsets.end() - 1);
  for (int64_t t = 0; t < n_terms; ++t)
    for (int q = 0; q < 4; ++q)
      if (term_indices[4 * t + q] >= 0) s.incidence_terms[size_t(fill[size_t(term_indices[4 * t + q])]++)] = int32_t(t);
  // Greedy colouring in index order: spins that share a term get different colours.
  s.colour_of.assign(size_t(n_spins), -1);
  std::vector<int64_t> seen;  // seen[c] == i when colour c is taken by a neighbour of i
  for (int64_t i = 0; i < n_spins; ++i) {
    for (int64_t k = s.incidence_offsets[size_t(i)]; k < s.incidence_offsets[size_t(i + 1)]; ++k) {
      const int32_t* idx = term_indices + 4 * int64_t(s.incidence_terms[size_t(k)]);
      for (int q = 0; q < 4; ++q) {
        if (idx[q] < 0 || idx[q] == i) continue;
        const int32_t c = s.colour_of[size_t(idx[q])];
        if (c >= 0) {
          if (size_t(c) >= seen.size()) seen.resize(size_t(c) + 1, -1);
          seen[size_t(c)] = i;
        }
      }
    }
    int32_t c = 0;
    while (size_t(c) < seen.size() && seen[size_t(c)] == i) ++c;
    s.colour_of[size_t(i)] = c;
    s.n_colours = std::max(s.n_colours, int(c) + 1);
  }
  s.colour_offsets.assign(size_t(s.n_colours + 1), 0);
  for (int64_t i = 0; i < n_spins; ++i) ++s.colour_offsets[size_t(s.colour_of[size_t(i)] + 1)];
  for (int c = 0; c < s.n_colours; ++c) s.colour_offsets[size_t(c + 1)] += s.colour_offsets[size_t(c)];
  s.colour_members.assign(size_t(n_spins), 0);
  std::vector<int64_t> cursor(s.colour_offsets.begin(), s.colour_offsets.end() - 1);
  for (int64_t i = 0; i < n_spins; ++i) s.colour_members[size_t(cursor[size_t(s.colour_of[size_t(i)])]++)] = int32_t(i);
  return s;
}

ClusterSetup cluster_setup(int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                           uint64_t first_replica, int init, int64_t clusters_per_sweep) {
  DC_REQUIRE(L >= 2 && L <= 32768, "L must be in [2, 32768], got " + std::to_string(L));
  DC_REQUIRE(replicas >= 1, "replicas must be >= 1, got " + std::to_string(replicas));
  check_replica_range(first_replica, replicas);
  checked_state_spins(replicas, L * L, "L x L = " + std::to_string(L * L) + " sites");
  DC_REQUIRE(std::isfinite(J) && J > 0, "cluster updates need a ferromagnet, J > 0, got J=" + std::to_string(J));
  DC_REQUIRE(std::isfinite(temperature) && temperature > 0,
             "temperature must be finite and > 0, got " + std::to_string(temperature));
  DC_REQUIRE(algorithm == ClusterSetup::kWolff || algorithm == ClusterSetup::kSwendsenWang,
             "algorithm must be 0 (Wolff) or 1 (Swendsen-Wang), got " + std::to_string(algorithm));
  DC_REQUIRE(clusters_per_sweep >= 1 && clusters_per_sweep <= L * L,
             "clusters_per_sweep must be in [1, L^2 = " + std::to_string(L * L) + "] (a sweep of L^2 clusters "
             "already flips every spin's worth), got " + std::to_string(clusters_per_sweep));
  DC_REQUIRE(init == 0 || init == 1, "init must be 0 (random) or 1 (up), got " + std::to_string(init));
  ClusterSetup s{};
  s.L = L;
  s.replicas = replicas;
  s.clusters_per_sweep = clusters_per_sweep;
  s.J = J;
  s.algorithm = algorithm;
  s.init = init;
  s.seed = seed;
  s.first_replica = first_replica;
  const double beta = 1.0 / temperature;  // as it always was: the threshold's bits depend on the order
  s.threshold = probability_threshold(-std::expm1(-2.0 * beta * J), 32);
  return s;
}

void check_cluster_counters(uint64_t sweeps, const uint64_t* clusters, int64_t replicas) {
  DC_REQUIRE(sweeps <= kClusterSteps, "sweeps_done must be in [0, 2^56] (the cluster streams' range), got " +
                                       std::to_string(sweeps));
  for (int64_t r = 0; r < replicas; ++r)
    DC_REQUIRE(clusters[r] <= kClusterSteps, "clusters_done of replica " + std::to_string(r) +
                                              " must be in [0, 2^56] (the Wolff streams' range), got " +
                                              std::to_string(clusters[r]));
}

void check_cluster_advance(const ClusterSetup& s, uint64_t sweeps, uint64_t most_clusters, int64_t n_measure,
                           int64_t every) {
  if (n_measure <= 0 || every <= 0) return;
  const uint64_t room = kClusterSteps - std::min(sweeps, kClusterSteps);
  DC_REQUIRE(uint64_t(every) <= room / uint64_t(n_measure),
             "sweeps_done + n is " + std::to_string(sweeps) + " + " + std::to_string(n_measure) + " x " +
              std::to_string(every) + " but a cluster chain makes at most 2^56 sweeps");
  if (s.algorithm != ClusterSetup::kWolff) return;
  const uint64_t total = uint64_t(n_measure) * uint64_t(every);  // <= 2^56: no overflow
  const uint64_t cluster_room = kClusterSteps - std::min(most_clusters, kClusterSteps);
  DC_REQUIRE(total <= cluster_room / uint64_t(s.clusters_per_sweep),
             "clusters_done + n x clusters_per_sweep is " + std::to_string(most_clusters) + " + " +
              std::to_string(total) + " x " + std::to_string(s.clusters_per_sweep) +
              " but a Wolff replica builds at most 2^56 clusters");
}

void cluster_initial_spins(const ClusterSetup& s, int8_t* spins) {
  const int64_t sites = s.L * s.L;
  if (s.init != 0) {
    std::fill(spins, spins + s.replicas * sites, int8_t(1));
    return;
  }
  const int64_t blocks = (sites + 127) / 128;
  for (int64_t r = 0; r < s.replicas; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      const Philox4x32 w = cluster_draw(s.seed, s.first_replica + uint64_t(r), uint32_t(b), 0, kClusterInit);
      const int64_t n = sites - b * 128 < 128 ? sites - b * 128 : 128;
      for (int64_t k = 0; k < n; ++k)
        spins[r * sites + b * 128 + k] = initial_spin(w, int(k));
    }
}

}  // namespace deepcheap::plan
