// CPU driver of the Ising and Boltzmann samplers: the chain objects that own the state and call the
// dispatched kernels; checks, tables and colourings come from the device-neutral plan (plan/ising.hpp).
#include "ising.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "deepcheap/ising/ising.hpp"
#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "threads.hpp"

namespace deepcheap::cpu {

// Replicas in interruptible chunks (issue 21): a batch the memory limit allows is a pass over gigabytes,
// and each replica's blocks depend on its own lattice and number only, so chunks change no spin.
void block_spin(Driver, const int8_t* spins, int64_t replicas, int64_t L, int64_t b, int rule, uint64_t seed,
                int8_t* out) {
  const auto kernel = DC_DISPATCH(ising_block_spin);
  const int64_t n = L / b;
  interrupt::run_chunks(replicas, interrupt::first_chunk(double(L) * double(L)), [&](int64_t begin, int64_t end) {
    kernel(spins + begin * L * L, end - begin, L, b, rule, seed, out + begin * n * n, begin);
  });
}

IsingChain::IsingChain(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, bool random_init, uint64_t first_replica)
    : s_(plan::ising_setup(L, J, h, temperature, replicas, heatbath, multispin, seed, first_replica)) {
  const int64_t sites = L * L;
  spins_.assign(size_t(replicas * sites), int8_t(1));
  if (random_init) DC_DISPATCH(ising_random_spins)(spins_.data(), replicas, sites, seed, first_replica);
  if (s_.multispin) {
    words_.assign(size_t(replicas / 64 * sites), 0);
    DC_DISPATCH(ising_pack)(spins_.data(), replicas / 64, sites, words_.data());
    std::vector<int8_t>().swap(spins_);
    partial_.assign(size_t(replicas / 64 * L * 128), 0);
  }
  count_a_.assign(size_t(replicas), 0);
  count_b_.assign(size_t(replicas), 0);
}

void IsingChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  sweep_locked(n);
}

// Sweeps in interruptible chunks (deepcheap/common/interrupt.hpp): sweep k uses counter step k whatever the
// chunk it falls in, and sweeps_ advances after every chunk, so an interrupted call leaves exactly the
// lattice after its last completed sweep with sweeps_done() counting it.
void IsingChain::sweep_locked(int64_t n) {
  plan::check_sweeps(sweeps_done(), n);
  if (n == 0) return;
  const double cost = double(s_.replicas) * double(s_.L * s_.L) / (s_.multispin ? 16.0 : 1.0);
  interrupt::run_chunks(n, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    if (s_.multispin) {
      DC_DISPATCH(ising_multispin_sweep)(words_.data(), s_.replicas / 64, s_.L, s_.classes.count,
                                         s_.classes.satisfied, s_.classes.spin, s_.classes.threshold, s_.J >= 0,
                                         s_.seed, sweeps_done(), end - begin, s_.first_replica / 64, rounds_);
    } else {
      DC_DISPATCH(ising_int8_sweep)(spins_.data(), s_.replicas, s_.L, s_.heatbath, s_.threshold, s_.seed,
                                    sweeps_done(), end - begin, s_.first_replica, rounds_);
    }
    sweeps_.fetch_add(uint64_t(end - begin), std::memory_order_relaxed);
  });
}

void IsingChain::set_rng_rounds(int rounds) {
  if (rounds != kIsingRoundsPhilox10 && rounds != kIsingRoundsPhilox7)
    throw std::invalid_argument("rng rounds must be 10 (Philox4x32-10) or 7 (Philox4x32-7), got " +
                                std::to_string(rounds));
  std::lock_guard<std::mutex> lock(mutex_);
  rounds_ = rounds;
}

void IsingChain::set_sweeps_done(uint64_t n) {
  plan::check_sweeps(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

void IsingChain::get_spins(int8_t* out) const { snapshot(out); }

uint64_t IsingChain::snapshot(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t sites = s_.L * s_.L;
  if (s_.multispin)
    DC_DISPATCH(ising_unpack)(words_.data(), s_.replicas / 64, sites, out);
  else
    std::copy(spins_.begin(), spins_.end(), out);
  return sweeps_done();
}

void IsingChain::set_spins(const int8_t* spins) {
  const int64_t sites = s_.L * s_.L;
  plan::check_spins(spins, s_.replicas * sites);
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_.multispin)
    DC_DISPATCH(ising_pack)(spins, s_.replicas / 64, sites, words_.data());
  else
    std::copy(spins, spins + s_.replicas * sites, spins_.begin());
}

void IsingChain::measure(double* magnetization, double* energy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  measure_locked(magnetization, energy);
}

void IsingChain::measure_locked(double* magnetization, double* energy) const {
  const int64_t sites = s_.L * s_.L;
  const double n = double(sites);
  if (s_.multispin) {
    DC_DISPATCH(ising_multispin_measure)(words_.data(), s_.replicas / 64, s_.L, partial_.data(), count_a_.data(),
                                         count_b_.data());
    for (int64_t r = 0; r < s_.replicas; ++r) {
      const int64_t spin_sum = 2 * count_a_[r] - sites;
      const int64_t bond_sum = 2 * sites - 2 * count_b_[r];
      magnetization[r] = double(spin_sum) / n;
      energy[r] = (-s_.J * double(bond_sum) - s_.h * double(spin_sum)) / n;
    }
  } else {
    DC_DISPATCH(ising_int8_measure)(spins_.data(), s_.replicas, s_.L, count_a_.data(), count_b_.data());
    for (int64_t r = 0; r < s_.replicas; ++r) {
      magnetization[r] = double(count_a_[r]) / n;
      energy[r] = (-s_.J * double(count_b_[r]) - s_.h * double(count_a_[r])) / n;
    }
  }
}

void IsingChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy) {
  if (n_measure < 0)
    throw std::invalid_argument("number of measurements must be >= 0, got " + std::to_string(n_measure));
  if (every < 1) throw std::invalid_argument("measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);  // the whole run is one call: no other call interleaves
  // Interruptible between measurements too (sweep_locked cuts a long `every` itself).
  const double cost = double(every) * double(s_.replicas) * double(s_.L * s_.L) / (s_.multispin ? 16.0 : 1.0);
  interrupt::run_chunks(n_measure, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      sweep_locked(every);
      measure_locked(magnetization + k * s_.replicas, energy + k * s_.replicas);
    }
  });
}

BoltzmannChain::BoltzmannChain(int64_t n_spins, const int32_t* term_indices, const double* coefficients,
                               int64_t n_terms, double temperature, int64_t replicas, uint64_t seed,
                               uint64_t first_replica)
    : s_(plan::boltzmann_setup(n_spins, term_indices, coefficients, n_terms, temperature, replicas, seed,
                               first_replica)) {
  spins_.assign(size_t(replicas * n_spins), int8_t(1));
  DC_DISPATCH(ising_random_spins)(spins_.data(), replicas, n_spins, seed ^ kBoltzmannInitSeed, first_replica);
}

void BoltzmannChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  plan::check_sweeps(sweeps_done(), n);
  if (n == 0) return;
  // Interruptible chunks of sweeps, as IsingChain::sweep_locked.
  const double cost = double(s_.replicas) * double(s_.incidence_offsets.back() + s_.n_spins);
  interrupt::run_chunks(n, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    DC_DISPATCH(boltzmann_sweep)(spins_.data(), s_.replicas, s_.n_spins, s_.n_colours, s_.colour_offsets.data(),
                                 s_.colour_members.data(), s_.incidence_offsets.data(), s_.incidence_terms.data(),
                                 s_.term_indices.data(), s_.coefficients.data(), s_.beta, s_.seed, sweeps_done(),
                                 end - begin, s_.first_replica);
    sweeps_.fetch_add(uint64_t(end - begin), std::memory_order_relaxed);
  });
}

void BoltzmannChain::set_sweeps_done(uint64_t n) {
  plan::check_sweeps(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

void BoltzmannChain::get_spins(int8_t* out) const { snapshot(out); }

uint64_t BoltzmannChain::snapshot(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins_.begin(), spins_.end(), out);
  return sweeps_done();
}

void BoltzmannChain::set_spins(const int8_t* spins) {
  plan::check_spins(spins, s_.replicas * s_.n_spins);
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins, spins + s_.replicas * s_.n_spins, spins_.begin());
}

void BoltzmannChain::energy(double* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DC_DISPATCH(boltzmann_energy)(spins_.data(), s_.replicas, s_.n_spins, s_.n_terms, s_.term_indices.data(),
                                s_.coefficients.data(), out);
}

}  // namespace deepcheap::cpu
