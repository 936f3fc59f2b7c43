// Driver of the Wolff and Swendsen-Wang samplers: argument checks, state, and the loops over replicas
// (one replica per OpenMP iteration, dynamically scheduled: cluster sizes vary, and each replica's
// numbers depend only on its own counters, so the schedule never changes the result). The cluster
// updates themselves are SIMD-dispatched kernels (csrc/cpu/kernels/ising_cluster.cpp).
#include "ising_cluster.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "deepcheap/ising/cluster.hpp"
#include "dispatch.hpp"
#include "plan/ising.hpp"
#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "deepcheap/common/require.hpp"
#include "threads.hpp"

DC_DECLARE_KERNEL(int64_t wolff_cluster(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t cluster,
                                        uint64_t threshold, uint32_t* queue))
DC_DECLARE_KERNEL(void swendsen_wang_sweep(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t sweep,
                                           uint64_t threshold, int32_t* parent, uint8_t* coin, int64_t& n_clusters,
                                           int64_t& n_flipped))

namespace deepcheap::cpu {

namespace {

}  // namespace

IsingClusterChain::IsingClusterChain(int64_t L, double J, double temperature, int64_t replicas, int algorithm,
                                     uint64_t seed, uint64_t first_replica, int init, int64_t clusters_per_sweep)
    : s_(plan::cluster_setup(L, J, temperature, replicas, algorithm, seed, first_replica, init, clusters_per_sweep)) {
  spins_.resize(size_t(replicas * L * L));
  clusters_done_.assign(size_t(replicas), 0);
  plan::cluster_initial_spins(s_, spins_.data());
}

uint64_t IsingClusterChain::sweeps_done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sweeps_;
}

// n_measure times: `every` sweeps of every replica, then (when the outputs are given) a measurement into
// row k. Replicas are independent, so each thread runs whole replicas through a chunk of sweeps: one
// parallel region per chunk and no barrier between the sweeps inside it (a barrier per sweep made
// threads spin-wait for a core that another process held). Chunks (deepcheap/common/interrupt.hpp) are
// sized to about 0.1 s and polled for Ctrl-C between them; each replica's numbers depend only on its own
// counters, so the chunking never changes the result, and sweeps_ advances after every chunk, so an
// interrupted call leaves the lattices and counters exactly after the last completed sweep.
void IsingClusterChain::advance(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                                int64_t* clusters, int64_t* flipped) {
  DC_REQUIRE(n_measure >= 0 && every >= 0, "numbers of sweeps must be >= 0, got " + std::to_string(n_measure) +
                                            " x " + std::to_string(every));
  if (n_measure == 0 || every == 0) return;
  plan::check_cluster_advance(s_, sweeps_, *std::max_element(clusters_done_.begin(), clusters_done_.end()),
                              n_measure, every);
  const uint32_t L = uint32_t(s_.L);
  const int64_t sites = s_.L * s_.L;
  const auto wolff = DC_DISPATCH(wolff_cluster);
  const auto swendsen_wang = DC_DISPATCH(swendsen_wang_sweep);
  const int threads = s_.replicas > 1 ? num_threads() : 1;
  const int64_t n_threads = threads < s_.replicas ? threads : s_.replicas;
  // Clusters built and spins flipped since the last measurement, per replica (a measurement's `every`
  // sweeps may span chunks).
  std::vector<int64_t> n_clusters(size_t(s_.replicas), 0), n_flipped(size_t(s_.replicas), 0);
  const double cost = double(s_.replicas) * double(sites) * 8.0;
  interrupt::run_chunks(n_measure * every, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
#pragma omp parallel num_threads(int(n_threads))
    {
      // Per-thread scratch, reused across the replicas this thread runs: a queue for Wolff (one entry past
      // L^2, see wolff_cluster), parents and coins for Swendsen-Wang.
      std::vector<uint32_t> queue;
      std::vector<int32_t> parent;
      std::vector<uint8_t> coin;
      if (s_.algorithm == plan::ClusterSetup::kWolff)
        queue.resize(size_t(sites) + 1);
      else
        parent.resize(size_t(sites)), coin.resize(size_t(sites));
#pragma omp for schedule(dynamic, 1)
      for (int64_t r = 0; r < s_.replicas; ++r) {
        int8_t* s = spins_.data() + r * sites;
        const uint64_t replica = s_.first_replica + uint64_t(r);
        int64_t& built = n_clusters[size_t(r)];
        int64_t& flips = n_flipped[size_t(r)];
        for (int64_t u = begin; u < end; ++u) {
          if (s_.algorithm == plan::ClusterSetup::kWolff) {
            for (int64_t c = 0; c < s_.clusters_per_sweep; ++c)
              flips += wolff(s, L, s_.seed, replica, clusters_done_[size_t(r)]++, s_.threshold, queue.data());
            built += s_.clusters_per_sweep;
          } else {
            swendsen_wang(s, L, s_.seed, replica, sweeps_ + uint64_t(u - begin), s_.threshold, parent.data(),
                          coin.data(), built, flips);
          }
          if ((u + 1) % every == 0) {
            if (magnetization) {
              const int64_t at = (u / every) * s_.replicas + r;
              cluster_measure(s, s_.L, s_.J, magnetization[at], energy[at]);
              clusters[at] = built;
              flipped[at] = flips;
            }
            built = 0;
            flips = 0;
          }
        }
      }
    }
    sweeps_ += uint64_t(end - begin);
  });
}

void IsingClusterChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  advance(1, n, nullptr, nullptr, nullptr, nullptr);
}

void IsingClusterChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                            int64_t* clusters, int64_t* flipped) {
  DC_REQUIRE(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
  DC_REQUIRE(every >= 1, "measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);
  advance(n_measure, every, magnetization, energy, clusters, flipped);
}

void IsingClusterChain::measure_unlocked(double* magnetization, double* energy) const {
  for (int64_t r = 0; r < s_.replicas; ++r)
    cluster_measure(spins_.data() + r * s_.L * s_.L, s_.L, s_.J, magnetization[r], energy[r]);
}

void IsingClusterChain::measure(double* magnetization, double* energy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  measure_unlocked(magnetization, energy);
}

void IsingClusterChain::get_spins(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins_.begin(), spins_.end(), out);
}

void IsingClusterChain::set_spins(const int8_t* spins) {
  plan::check_spins(spins, s_.replicas * s_.L * s_.L);
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins, spins + s_.replicas * s_.L * s_.L, spins_.begin());
}

void IsingClusterChain::get_counters(uint64_t* sweeps, uint64_t* clusters) const {
  std::lock_guard<std::mutex> lock(mutex_);
  *sweeps = sweeps_;
  std::copy(clusters_done_.begin(), clusters_done_.end(), clusters);
}

void IsingClusterChain::snapshot(int8_t* spins, uint64_t* sweeps, uint64_t* clusters) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins_.begin(), spins_.end(), spins);
  *sweeps = sweeps_;
  std::copy(clusters_done_.begin(), clusters_done_.end(), clusters);
}

void IsingClusterChain::set_counters(uint64_t sweeps, const uint64_t* clusters) {
  plan::check_cluster_counters(sweeps, clusters, s_.replicas);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_ = sweeps;
  std::copy(clusters, clusters + s_.replicas, clusters_done_.begin());
}

}  // namespace deepcheap::cpu
