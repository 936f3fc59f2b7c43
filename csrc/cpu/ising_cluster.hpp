// Wolff and Swendsen-Wang cluster samplers of the ferromagnetic Ising model (J > 0, h = 0): the chain
// object that owns the replicas' int8 lattices and their cluster counters. Replicas run in parallel,
// each with its own stack or union-find array; per-site math in deepcheap/ising/cluster.hpp.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "plan/ising.hpp"

namespace deepcheap::cpu {

class IsingClusterChain {
 public:
  // init: 0 random (Philox bits keyed by the global replica index), 1 all up.
  // clusters_per_sweep: Wolff clusters per sweep (ignored by Swendsen-Wang), >= 1.
  IsingClusterChain(int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                    uint64_t first_replica, int init, int64_t clusters_per_sweep);

  // One sweep: Swendsen-Wang, one update of every bond and cluster; Wolff, clusters_per_sweep single
  // clusters. The count is fixed in advance: stopping once "about L^2 spins" have flipped would make the
  // measurement times depend on the cluster sizes and bias every average.
  void sweep(int64_t n);
  // n_measure times: `every` sweeps, then m and e per spin of each replica into row k of (n_measure,
  // replicas) arrays, with the clusters built and spins flipped during those sweeps.
  void run(int64_t n_measure, int64_t every, double* magnetization, double* energy, int64_t* clusters,
           int64_t* flipped);
  void measure(double* magnetization, double* energy) const;
  void get_spins(int8_t* out) const;
  void set_spins(const int8_t* spins);  // every entry -1 or +1 (checked)

  // Checkpoints: the counters that, with the spins, fix every future random number.
  void get_counters(uint64_t* sweeps, uint64_t* clusters) const;  // sweeps (1), clusters per replica
  void set_counters(uint64_t sweeps, const uint64_t* clusters);
  // A checkpoint: spins and both counters under one lock (a sweep from another thread cannot land
  // between them).
  void snapshot(int8_t* spins, uint64_t* sweeps, uint64_t* clusters) const;

  int64_t L() const { return s_.L; }
  int64_t clusters_per_sweep() const { return s_.clusters_per_sweep; }
  int64_t replicas() const { return s_.replicas; }
  int algorithm() const { return s_.algorithm; }
  uint64_t first_replica() const { return s_.first_replica; }
  uint64_t sweeps_done() const;
  uint64_t bond_threshold() const { return s_.threshold; }

 private:
  // The caller holds mutex_; outputs may be null (sweeps without measurements).
  void advance(int64_t n_measure, int64_t every, double* magnetization, double* energy, int64_t* clusters,
               int64_t* flipped);
  void measure_unlocked(double* magnetization, double* energy) const;

  plan::ClusterSetup s_;  // the checked parameters (plan/ising.hpp), shared with the CUDA chain
  uint64_t sweeps_ = 0;
  std::vector<int8_t> spins_;
  std::vector<uint64_t> clusters_done_;  // Wolff: clusters built so far, per replica
  mutable std::mutex mutex_;             // one caller at a time: calls release the GIL
};

}  // namespace deepcheap::cpu
