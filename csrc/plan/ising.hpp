// Ising and k-local Boltzmann samplers, device-neutral layer: argument checks, acceptance tables and the
// graph colouring that the CPU chains (csrc/cpu/ising.hpp) and the CUDA chains (csrc/cuda/ising.hpp)
// both build from. No CPU or CUDA code here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deepcheap/ising/ising.hpp"

namespace deepcheap::plan {

// A checked Ising chain: L even in [2, 32768], replicas >= 1, finite J and h, T > 0, multi-spin only
// for Metropolis with replicas and first_replica multiples of 64, first_replica + replicas <= 2^32.
struct IsingSetup {
  int64_t L, replicas;
  double J, h, beta;
  bool heatbath, multispin;
  uint64_t seed, first_replica;
  // Multi-spin acceptance classes (flipping a spin with S satisfied bonds costs dE = 4|J|(S - 2) + 2 h s;
  // the classes with p < 1), and whether they are the h = 0 pair (S = 3, S = 4, any spin).
  MultispinTable classes;
  bool two_classes;
  // int8 thresholds (2^32 scale): Metropolis [(sum + 4) / 2 * 2 + (s > 0)], heat-bath [(sum + 4) / 2].
  uint64_t threshold[10];
};
IsingSetup ising_setup(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, uint64_t first_replica);

// A checked Boltzmann chain: the terms (indices padded with -1), which terms each spin is in, and a
// greedy colouring in index order (spins that share a term get different colours).
struct BoltzmannSetup {
  int64_t n_spins, n_terms, replicas;
  double beta;
  uint64_t seed, first_replica;
  int n_colours = 0;
  std::vector<int32_t> term_indices, incidence_terms, colour_members, colour_of;
  std::vector<double> coefficients;
  std::vector<int64_t> incidence_offsets, colour_offsets;
};
BoltzmannSetup boltzmann_setup(int64_t n_spins, const int32_t* term_indices, const double* coefficients,
                               int64_t n_terms, double temperature, int64_t replicas, uint64_t seed,
                               uint64_t first_replica);

// A checked Wolff or Swendsen-Wang chain (ferromagnet J > 0, h = 0): L in [2, 32768], replicas >= 1,
// first_replica + replicas <= 2^32, T > 0, clusters_per_sweep in [1, L^2] (a sweep of L^2 clusters flips at
// least L^2 spins, a full sweep's work even at infinite temperature; more only multiplies the time one
// call takes), init 0 (random) or 1 (up). The CPU
// chain (csrc/cpu/ising_cluster.hpp) and the CUDA chain (csrc/cuda/ising_cluster.hpp) both build from it.
struct ClusterSetup {
  enum Algorithm { kWolff = 0, kSwendsenWang = 1 };
  int64_t L, replicas, clusters_per_sweep;
  double J;
  int algorithm, init;
  uint64_t seed, first_replica;
  uint64_t threshold;  // bond activation on the 2^32 scale, p = 1 - exp(-2 J / T)
};
ClusterSetup cluster_setup(int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                           uint64_t first_replica, int init, int64_t clusters_per_sweep);
// The cluster chains' counters are 56-bit steps (32 bits in the counter's step word, 24 beside the purpose,
// deepcheap/ising/cluster.hpp): past 2^56 sweeps (Swendsen-Wang) or clusters of a replica (Wolff) the
// streams would repeat, so counters stay <= 2^56.
constexpr uint64_t kClusterSteps = uint64_t(1) << 56;
// Throws std::invalid_argument unless `sweeps` and every one of the `replicas` cluster counts is in
// [0, 2^56] (restoring a checkpoint).
void check_cluster_counters(uint64_t sweeps, const uint64_t* clusters, int64_t replicas);
// Throws unless n_measure x every more sweeps from `sweeps`, with `most_clusters` the largest cluster
// count of a replica, keep every counter within 2^56 (the product checked for overflow first).
void check_cluster_advance(const ClusterSetup& s, uint64_t sweeps, uint64_t most_clusters, int64_t n_measure,
                           int64_t every);
// The initial lattices (replicas x L x L): fair Philox bits keyed by the global replica (init 0), or all +1.
void cluster_initial_spins(const ClusterSetup& s, int8_t* spins);

// The most spins a sampler's state may hold (replicas x spins per replica): 2^46, 64 TiB as int8, far
// beyond any machine. Python checks memory first (_memory.py); this guards every native entry that
// allocates a state, so a product that overflows or cannot be allocated is a clear ValueError.
constexpr int64_t kMaxStateSpins = int64_t(1) << 46;
// replicas x per_replica, or std::invalid_argument (expected versus got) when it overflows int64 or
// exceeds kMaxStateSpins; `what` names one replica's spins ("L x L = 1024 sites").
int64_t checked_state_spins(int64_t replicas, int64_t per_replica, const std::string& what);

// Throws std::invalid_argument unless every entry is -1 or +1.
void check_spins(const int8_t* spins, int64_t n);
// The sweep number is the counter's 32-bit step word: a chain makes at most 2^32 sweeps.
void check_sweeps(uint64_t done, int64_t n);

}  // namespace deepcheap::plan
