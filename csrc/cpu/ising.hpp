// The Ising and k-local Boltzmann samplers: kernel declarations for the dispatcher (kernels in
// csrc/cpu/kernels/ising.cpp) and the target-independent chain objects that own the state.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "dispatch.hpp"
#include "driver.hpp"
#include "plan/ising.hpp"

DC_DECLARE_KERNEL(void ising_multispin_sweep(uint64_t* words, int64_t groups, int64_t L, int n_classes,
                                             const int* satisfied, const int* spin, const uint64_t* threshold,
                                             bool ferro, uint64_t seed, uint64_t first_sweep, int64_t n_sweeps,
                                             uint64_t first_group, int rounds))
DC_DECLARE_KERNEL(void ising_int8_sweep(int8_t* spins, int64_t replicas, int64_t L, bool heatbath,
                                        const uint64_t* threshold, uint64_t seed, uint64_t first_sweep,
                                        int64_t n_sweeps, uint64_t first_replica, int rounds))
DC_DECLARE_KERNEL(void ising_multispin_measure(const uint64_t* words, int64_t groups, int64_t L, int64_t* partial,
                                               int64_t* up_count, int64_t* anti_count))
DC_DECLARE_KERNEL(void ising_int8_measure(const int8_t* spins, int64_t replicas, int64_t L, int64_t* spin_sum,
                                          int64_t* bond_sum))
DC_DECLARE_KERNEL(void ising_pack(const int8_t* spins, int64_t groups, int64_t sites, uint64_t* words))
DC_DECLARE_KERNEL(void ising_unpack(const uint64_t* words, int64_t groups, int64_t sites, int8_t* spins))
DC_DECLARE_KERNEL(void ising_random_spins(int8_t* spins, int64_t replicas, int64_t sites, uint64_t seed,
                                          uint64_t first_replica))
DC_DECLARE_KERNEL(void ising_block_spin(const int8_t* spins, int64_t replicas, int64_t L, int64_t b, int rule,
                                        uint64_t seed, int8_t* out, int64_t first_replica))
DC_DECLARE_KERNEL(void boltzmann_sweep(int8_t* spins, int64_t replicas, int64_t n_spins, int n_colours,
                                       const int64_t* colour_offsets, const int32_t* colour_members,
                                       const int64_t* incidence_offsets, const int32_t* incidence_terms,
                                       const int32_t* term_indices, const double* coefficients, double beta,
                                       uint64_t seed, uint64_t first_sweep, int64_t n_sweeps,
                                       uint64_t first_replica))
DC_DECLARE_KERNEL(void boltzmann_energy(const int8_t* spins, int64_t replicas, int64_t n_spins, int64_t n_terms,
                                        const int32_t* term_indices, const double* coefficients, double* out))

namespace deepcheap::cpu {

// Block-spin renormalisation of (replicas, L, L) spins into (replicas, L/b, L/b) (rule 0 majority with
// Philox tie-breaks, 1 decimation), on the active SIMD target. One pass over memory: not chunked.
void block_spin(Driver, const int8_t* spins, int64_t replicas, int64_t L, int64_t b, int rule, uint64_t seed,
                int8_t* out);

// Replicas of an L x L periodic Ising lattice, H = -J sum_<ij> s_i s_j - h sum_i s_i. Metropolis on
// multi-spin words when `multispin` (replicas a multiple of 64), else int8 Metropolis or heat-bath.
// Replica r of this chain is replica first_replica + r of the seed's batch (its random numbers are
// those replica's), so chains over consecutive ranges of replicas together equal one large chain.
// Checks and tables come from plan::ising_setup (csrc/plan/ising.hpp); std::invalid_argument names
// the argument that is wrong.
//
// Thread safety: every method that touches the lattice takes the chain's mutex, so calls from several
// threads (the bindings release the GIL first) run one after another, exactly as if made in sequence.
class IsingChain {
 public:
  IsingChain(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath, bool multispin,
             uint64_t seed, bool random_init, uint64_t first_replica);
  void sweep(int64_t n);
  void get_spins(int8_t* out) const;   // (replicas, L, L)
  // A checkpoint: the spins into `out` and the sweep count they belong to, under one lock (a sweep
  // from another thread cannot land between the two).
  uint64_t snapshot(int8_t* out) const;
  void set_spins(const int8_t* spins);  // (replicas, L, L), every entry -1 or +1 (checked)
  void measure(double* magnetization, double* energy) const;  // per replica, per spin
  // n_measure times: `every` sweeps, then a measurement into row k of (n_measure, replicas) outputs.
  void run(int64_t n_measure, int64_t every, double* magnetization, double* energy);

  int64_t L() const { return s_.L; }
  int64_t replicas() const { return s_.replicas; }
  uint64_t first_replica() const { return s_.first_replica; }
  uint64_t sweeps_done() const { return sweeps_.load(std::memory_order_relaxed); }
  void set_sweeps_done(uint64_t n);  // restoring a checkpoint: the next sweep uses counter step n
  bool multispin() const { return s_.multispin; }
  // The sweeps' generator (deepcheap/ising/ising.hpp): Philox4x32-10 (10, the default of this object)
  // or Philox4x32-7 (7); std::invalid_argument otherwise. Initial spins do not depend on it.
  void set_rng_rounds(int rounds);
  int rng_rounds() const { return rounds_; }

 private:
  void sweep_locked(int64_t n);
  void measure_locked(double* magnetization, double* energy) const;

  plan::IsingSetup s_;
  int rounds_ = 10;
  std::atomic<uint64_t> sweeps_{0};
  mutable std::mutex mutex_;
  std::vector<uint64_t> words_;
  std::vector<int8_t> spins_;
  mutable std::vector<int64_t> partial_, count_a_, count_b_;
};

// Replicas of n spins with H = sum_t c_t prod_{i in t} s_i (terms of order 1..4, indices padded
// with -1), heat-bath with a greedy graph colouring (plan::boltzmann_setup). Replica offset and
// locking as for IsingChain.
class BoltzmannChain {
 public:
  BoltzmannChain(int64_t n_spins, const int32_t* term_indices, const double* coefficients, int64_t n_terms,
                 double temperature, int64_t replicas, uint64_t seed, uint64_t first_replica);
  void sweep(int64_t n);
  void get_spins(int8_t* out) const;
  uint64_t snapshot(int8_t* out) const;  // spins and sweeps_done under one lock, as IsingChain
  void set_spins(const int8_t* spins);
  void energy(double* out) const;
  std::vector<int32_t> colours() const { return s_.colour_of; }  // colour of each spin

  int64_t n_spins() const { return s_.n_spins; }
  int64_t replicas() const { return s_.replicas; }
  uint64_t first_replica() const { return s_.first_replica; }
  uint64_t sweeps_done() const { return sweeps_.load(std::memory_order_relaxed); }
  void set_sweeps_done(uint64_t n);
  int n_colours() const { return s_.n_colours; }

 private:
  plan::BoltzmannSetup s_;
  std::atomic<uint64_t> sweeps_{0};
  mutable std::mutex mutex_;
  std::vector<int8_t> spins_;
};

}  // namespace deepcheap::cpu
