// CUDA drivers of the Ising and Boltzmann samplers (csrc/cuda/ising.cu): chain objects whose state lives
// on the device between calls. Plain C++ declarations (the implementation is behind a pointer), so the
// bindings compile with the host compiler. Same constructor checks (plan/ising.hpp), same counters and
// header math as the CPU chains, so a chain gives the CPU's lattices for the same seed and replicas.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "driver.hpp"

namespace deepcheap::cuda {

class IsingChain {
 public:
  IsingChain(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath, bool multispin,
             uint64_t seed, bool random_init, uint64_t first_replica, int device);
  ~IsingChain();
  void sweep(int64_t n);
  void get_spins(int8_t* out) const;
  uint64_t snapshot(int8_t* out) const;  // spins (host) and sweeps_done under one lock
  // The spins as int8 into `out`, a device address on device() (the zero-copy path, memory.hpp).
  void get_spins_resident(int8_t* out) const;
  void set_spins(const int8_t* spins);
  void measure(double* magnetization, double* energy) const;
  void run(int64_t n_measure, int64_t every, double* magnetization, double* energy);
  int64_t L() const;
  int64_t replicas() const;
  uint64_t first_replica() const;
  uint64_t sweeps_done() const { return sweeps_.load(std::memory_order_relaxed); }
  void set_sweeps_done(uint64_t n);
  bool multispin() const;
  void set_rng_rounds(int rounds);  // the sweeps' generator, as the CPU chain (csrc/cpu/ising.hpp)
  int rng_rounds() const;
  int device() const;

  struct Impl;

 private:
  void sweep_locked(int64_t n);
  void measure_locked(double* magnetization, double* energy) const;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> sweeps_{0};
  mutable std::mutex mutex_;
};

class BoltzmannChain {
 public:
  BoltzmannChain(int64_t n_spins, const int32_t* term_indices, const double* coefficients, int64_t n_terms,
                 double temperature, int64_t replicas, uint64_t seed, uint64_t first_replica, int device);
  ~BoltzmannChain();
  void sweep(int64_t n);
  void get_spins(int8_t* out) const;
  uint64_t snapshot(int8_t* out) const;  // spins (host) and sweeps_done under one lock
  // The spins as int8 into `out`, a device address on device() (the zero-copy path, memory.hpp).
  void get_spins_resident(int8_t* out) const;
  void set_spins(const int8_t* spins);
  void energy(double* out) const;
  std::vector<int32_t> colours() const;
  int64_t n_spins() const;
  int64_t replicas() const;
  uint64_t first_replica() const;
  uint64_t sweeps_done() const { return sweeps_.load(std::memory_order_relaxed); }
  void set_sweeps_done(uint64_t n);
  int n_colours() const;
  int device() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> sweeps_{0};
  mutable std::mutex mutex_;
};

}  // namespace deepcheap::cuda
