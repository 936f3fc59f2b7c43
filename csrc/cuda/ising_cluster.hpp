// CUDA driver of the Wolff and Swendsen-Wang samplers (csrc/cuda/ising_cluster.cu): the chain object whose
// lattices and cluster counters live on the device between calls. The same interface, checks
// (plan::cluster_setup), counters and per-site math (deepcheap/ising/cluster.hpp) as the CPU chain, so
// the lattices, measurements and cluster counts are the CPU's bit for bit.
//   Wolff: one thread per replica grows its clusters one after another (wolff_grow, the scalar form of
//     the CPU's batched growth), each with its own queue in device memory.
//   Swendsen-Wang: one thread per site draws its bonds and coin (swendsen_wang_site); clusters are then
//     found by label propagation (every site takes the smallest label among itself, its bonded
//     neighbours and its label's label, launch after launch until none changes), which ends with every
//     site labelled by the smallest site of its cluster: the root the CPU's union-find finds, so the
//     same coin flips the same cluster.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "driver.hpp"

namespace deepcheap::cuda {

class IsingClusterChain {
 public:
  IsingClusterChain(int64_t L, double J, double temperature, int64_t replicas, int algorithm, uint64_t seed,
                    uint64_t first_replica, int init, int64_t clusters_per_sweep, int device);
  ~IsingClusterChain();
  void sweep(int64_t n);
  void run(int64_t n_measure, int64_t every, double* magnetization, double* energy, int64_t* clusters,
           int64_t* flipped);
  void measure(double* magnetization, double* energy) const;
  void get_spins(int8_t* out) const;
  // The spins as int8 into `out`, a device address on device() (the zero-copy path, memory.hpp).
  void get_spins_resident(int8_t* out) const;
  void set_spins(const int8_t* spins);
  void get_counters(uint64_t* sweeps, uint64_t* clusters) const;
  void set_counters(uint64_t sweeps, const uint64_t* clusters);
  void snapshot(int8_t* spins, uint64_t* sweeps, uint64_t* clusters) const;  // all three under one lock

  int64_t L() const;
  int64_t clusters_per_sweep() const;
  int64_t replicas() const;
  int algorithm() const;
  uint64_t first_replica() const;
  uint64_t sweeps_done() const;
  uint64_t bond_threshold() const;
  int device() const;

  struct Impl;

 private:
  void advance(int64_t n_measure, int64_t every, double* magnetization, double* energy, int64_t* clusters,
               int64_t* flipped);
  void measure_unlocked(double* magnetization, double* energy) const;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mutex_;
};

}  // namespace deepcheap::cuda
