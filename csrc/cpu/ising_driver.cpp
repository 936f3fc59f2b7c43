// Target-independent driver of the Ising and Boltzmann samplers: argument checks, acceptance tables,
// graph colouring and state ownership; the loops themselves are the dispatched kernels.
#include "ising.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "deepcheap/ising/ising.hpp"

namespace deepcheap::cpu {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

double checked_beta(double temperature) {
  require(std::isfinite(temperature) && temperature > 0,
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
  require(first_replica <= (uint64_t(1) << 32) - uint64_t(replicas),
          "first_replica + replicas is " + std::to_string(first_replica) + " + " + std::to_string(replicas) +
              " but expected <= 2^32");
}

// The sweep number is the counter's 32-bit step word: a chain makes at most 2^32 sweeps, after which
// its streams would repeat.
void check_sweep_range(uint64_t done, int64_t n) {
  require(done <= (uint64_t(1) << 32) && uint64_t(n) <= (uint64_t(1) << 32) - done,
          "sweeps_done + n is " + std::to_string(done) + " + " + std::to_string(n) +
              " but a chain makes at most 2^32 sweeps");
}

void check_spins(const int8_t* spins, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (spins[k] != 1 && spins[k] != -1)  // the message is built only on failure: this loop is hot
      throw std::invalid_argument("spins must hold only -1 and +1, but entry " + std::to_string(k) + " is " +
                                  std::to_string(int(spins[k])));
}

}  // namespace

IsingChain::IsingChain(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, bool random_init, uint64_t first_replica)
    : L_(L),
      replicas_(replicas),
      J_(J),
      h_(h),
      heatbath_(heatbath),
      multispin_(multispin),
      seed_(seed),
      first_replica_(first_replica) {
  require(L >= 2 && L % 2 == 0, "L must be even and >= 2, got " + std::to_string(L));
  require(L <= 32768, "L must be <= 32768, got " + std::to_string(L));
  require(replicas >= 1, "replicas must be >= 1, got " + std::to_string(replicas));
  check_replica_range(first_replica, replicas);
  require(!multispin || first_replica % 64 == 0,
          "the multi-spin kernel needs first_replica a multiple of 64, got " + std::to_string(first_replica));
  require(std::isfinite(J), "J must be finite, got " + std::to_string(J));
  require(std::isfinite(h), "h must be finite, got " + std::to_string(h));
  beta_ = checked_beta(temperature);
  require(!multispin || (replicas % 64 == 0 && !heatbath),
          "the multi-spin kernel needs Metropolis and replicas a multiple of 64, got replicas=" +
              std::to_string(replicas));
  const int64_t sites = L * L;
  // Multi-spin classes: flipping a spin with S satisfied bonds costs dE = 4|J|(S - 2) + 2 h s.
  for (int S = 0; S <= 4; ++S) {
    uint64_t t[2];
    bool always[2];
    for (int up = 0; up < 2; ++up) {
      const double dE = 4.0 * std::fabs(J) * (S - 2) + 2.0 * h * (up ? 1.0 : -1.0);
      const double p = dE <= 0 ? 1.0 : std::exp(-beta_ * dE);
      always[up] = !(p < 1.0);
      t[up] = always[up] ? 0 : probability_threshold(p, 64);
    }
    if (!always[0] && !always[1] && t[0] == t[1]) {
      satisfied_[n_classes_] = S, spin_[n_classes_] = 2, class_threshold_[n_classes_++] = t[0];
    } else {
      for (int up = 0; up < 2; ++up)
        if (!always[up]) satisfied_[n_classes_] = S, spin_[n_classes_] = up, class_threshold_[n_classes_++] = t[up];
    }
  }
  // int8 tables (2^32 scale): Metropolis [(sum + 4) / 2][s > 0], heat-bath [(sum + 4) / 2].
  for (int k = 0; k < 5; ++k) {
    const double local = J * (2 * k - 4) + h;  // J * neighbour sum + h
    if (heatbath) {
      threshold_[k] = heatbath_threshold(-beta_ * local);
    } else {
      for (int up = 0; up < 2; ++up) {
        const double dE = 2.0 * (up ? 1.0 : -1.0) * local;
        threshold_[2 * k + up] = probability_threshold(dE <= 0 ? 1.0 : std::exp(-beta_ * dE), 32);
      }
    }
  }
  spins_.assign(size_t(replicas * sites), int8_t(1));
  if (random_init) DC_DISPATCH(ising_random_spins)(spins_.data(), replicas, sites, seed, first_replica);
  if (multispin_) {
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

void IsingChain::sweep_locked(int64_t n) {
  require(n >= 0, "n must be >= 0, got " + std::to_string(n));
  check_sweep_range(sweeps_done(), n);
  if (n == 0) return;
  if (multispin_) {
    DC_DISPATCH(ising_multispin_sweep)(words_.data(), replicas_ / 64, L_, n_classes_, satisfied_, spin_,
                                       class_threshold_, J_ >= 0, seed_, sweeps_done(), n, first_replica_ / 64);
  } else {
    DC_DISPATCH(ising_int8_sweep)(spins_.data(), replicas_, L_, heatbath_, threshold_, seed_, sweeps_done(), n,
                                  first_replica_);
  }
  sweeps_.fetch_add(uint64_t(n), std::memory_order_relaxed);
}

void IsingChain::set_sweeps_done(uint64_t n) {
  check_sweep_range(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

void IsingChain::get_spins(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t sites = L_ * L_;
  if (multispin_)
    DC_DISPATCH(ising_unpack)(words_.data(), replicas_ / 64, sites, out);
  else
    std::copy(spins_.begin(), spins_.end(), out);
}

void IsingChain::set_spins(const int8_t* spins) {
  const int64_t sites = L_ * L_;
  check_spins(spins, replicas_ * sites);
  std::lock_guard<std::mutex> lock(mutex_);
  if (multispin_)
    DC_DISPATCH(ising_pack)(spins, replicas_ / 64, sites, words_.data());
  else
    std::copy(spins, spins + replicas_ * sites, spins_.begin());
}

void IsingChain::measure(double* magnetization, double* energy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  measure_locked(magnetization, energy);
}

void IsingChain::measure_locked(double* magnetization, double* energy) const {
  const int64_t sites = L_ * L_;
  const double n = double(sites);
  if (multispin_) {
    DC_DISPATCH(ising_multispin_measure)(words_.data(), replicas_ / 64, L_, partial_.data(), count_a_.data(),
                                         count_b_.data());
    for (int64_t r = 0; r < replicas_; ++r) {
      const int64_t spin_sum = 2 * count_a_[r] - sites;
      const int64_t bond_sum = 2 * sites - 2 * count_b_[r];
      magnetization[r] = double(spin_sum) / n;
      energy[r] = (-J_ * double(bond_sum) - h_ * double(spin_sum)) / n;
    }
  } else {
    DC_DISPATCH(ising_int8_measure)(spins_.data(), replicas_, L_, count_a_.data(), count_b_.data());
    for (int64_t r = 0; r < replicas_; ++r) {
      magnetization[r] = double(count_a_[r]) / n;
      energy[r] = (-J_ * double(count_b_[r]) - h_ * double(count_a_[r])) / n;
    }
  }
}

void IsingChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy) {
  require(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
  require(every >= 1, "measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);  // the whole run is one call: no other call interleaves
  for (int64_t k = 0; k < n_measure; ++k) {
    sweep_locked(every);
    measure_locked(magnetization + k * replicas_, energy + k * replicas_);
  }
}

BoltzmannChain::BoltzmannChain(int64_t n_spins, const int32_t* term_indices, const double* coefficients,
                               int64_t n_terms, double temperature, int64_t replicas, uint64_t seed,
                               uint64_t first_replica)
    : n_spins_(n_spins), n_terms_(n_terms), replicas_(replicas), seed_(seed), first_replica_(first_replica) {
  require(n_spins >= 1 && n_spins < (int64_t(1) << 31), "n_spins must be in [1, 2^31), got " + std::to_string(n_spins));
  require(replicas >= 1, "replicas must be >= 1, got " + std::to_string(replicas));
  check_replica_range(first_replica, replicas);
  require(n_terms >= 0, "terms must not be negative in number");
  beta_ = checked_beta(temperature);
  term_indices_.assign(term_indices, term_indices + 4 * n_terms);
  coefficients_.assign(coefficients, coefficients + n_terms);
  std::vector<int64_t> degree(size_t(n_spins), 0);
  for (int64_t t = 0; t < n_terms; ++t) {
    require(std::isfinite(coefficients[t]), "terms: coefficient of term " + std::to_string(t) + " is not finite");
    const int32_t* idx = term_indices + 4 * t;
    int order = 0;
    for (int q = 0; q < 4; ++q) {
      if (idx[q] < 0) {
        require(idx[q] == -1, "terms: padding index must be -1");
        continue;
      }
      require(idx[q] < n_spins, "terms: term " + std::to_string(t) + " has index " + std::to_string(idx[q]) +
                                    " but n_spins is " + std::to_string(n_spins));
      for (int p = 0; p < q; ++p)
        require(idx[p] != idx[q], "terms: term " + std::to_string(t) + " repeats index " + std::to_string(idx[q]));
      ++order;
      ++degree[size_t(idx[q])];
    }
    require(order >= 1, "terms: term " + std::to_string(t) + " has no spin index");
  }
  incidence_offsets_.assign(size_t(n_spins + 1), 0);
  for (int64_t i = 0; i < n_spins; ++i) incidence_offsets_[size_t(i + 1)] = incidence_offsets_[size_t(i)] + degree[size_t(i)];
  incidence_terms_.assign(size_t(incidence_offsets_.back()), 0);
  std::vector<int64_t> fill(incidence_offsets_.begin(), incidence_offsets_.end() - 1);
  for (int64_t t = 0; t < n_terms; ++t)
    for (int q = 0; q < 4; ++q)
      if (term_indices[4 * t + q] >= 0) incidence_terms_[size_t(fill[size_t(term_indices[4 * t + q])]++)] = int32_t(t);
  // Greedy colouring in index order: spins that share a term get different colours.
  colour_of_.assign(size_t(n_spins), -1);
  std::vector<int64_t> seen;  // seen[c] == i when colour c is taken by a neighbour of i
  for (int64_t i = 0; i < n_spins; ++i) {
    for (int64_t k = incidence_offsets_[size_t(i)]; k < incidence_offsets_[size_t(i + 1)]; ++k) {
      const int32_t* idx = term_indices + 4 * int64_t(incidence_terms_[size_t(k)]);
      for (int q = 0; q < 4; ++q) {
        if (idx[q] < 0 || idx[q] == i) continue;
        const int32_t c = colour_of_[size_t(idx[q])];
        if (c >= 0) {
          if (size_t(c) >= seen.size()) seen.resize(size_t(c) + 1, -1);
          seen[size_t(c)] = i;
        }
      }
    }
    int32_t c = 0;
    while (size_t(c) < seen.size() && seen[size_t(c)] == i) ++c;
    colour_of_[size_t(i)] = c;
    n_colours_ = std::max(n_colours_, int(c) + 1);
  }
  colour_offsets_.assign(size_t(n_colours_ + 1), 0);
  for (int64_t i = 0; i < n_spins; ++i) ++colour_offsets_[size_t(colour_of_[size_t(i)] + 1)];
  for (int c = 0; c < n_colours_; ++c) colour_offsets_[size_t(c + 1)] += colour_offsets_[size_t(c)];
  colour_members_.assign(size_t(n_spins), 0);
  std::vector<int64_t> cursor(colour_offsets_.begin(), colour_offsets_.end() - 1);
  for (int64_t i = 0; i < n_spins; ++i) colour_members_[size_t(cursor[size_t(colour_of_[size_t(i)])]++)] = int32_t(i);
  spins_.assign(size_t(replicas * n_spins), int8_t(1));
  DC_DISPATCH(ising_random_spins)(spins_.data(), replicas, n_spins, seed ^ 0xB01720A77ull, first_replica);
}

void BoltzmannChain::sweep(int64_t n) {
  require(n >= 0, "n must be >= 0, got " + std::to_string(n));
  std::lock_guard<std::mutex> lock(mutex_);
  check_sweep_range(sweeps_done(), n);
  if (n == 0) return;
  DC_DISPATCH(boltzmann_sweep)(spins_.data(), replicas_, n_spins_, n_colours_, colour_offsets_.data(),
                               colour_members_.data(), incidence_offsets_.data(), incidence_terms_.data(),
                               term_indices_.data(), coefficients_.data(), beta_, seed_, sweeps_done(), n,
                               first_replica_);
  sweeps_.fetch_add(uint64_t(n), std::memory_order_relaxed);
}

void BoltzmannChain::set_sweeps_done(uint64_t n) {
  check_sweep_range(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

void BoltzmannChain::get_spins(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins_.begin(), spins_.end(), out);
}

void BoltzmannChain::set_spins(const int8_t* spins) {
  check_spins(spins, replicas_ * n_spins_);
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins, spins + replicas_ * n_spins_, spins_.begin());
}

void BoltzmannChain::energy(double* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DC_DISPATCH(boltzmann_energy)(spins_.data(), replicas_, n_spins_, n_terms_, term_indices_.data(),
                                coefficients_.data(), out);
}

std::vector<int32_t> BoltzmannChain::colours() const { return colour_of_; }

}  // namespace deepcheap::cpu
