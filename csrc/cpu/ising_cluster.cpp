// Driver of the Wolff and Swendsen-Wang samplers: argument checks, state, and the loops over replicas
// (one replica per OpenMP iteration, dynamically scheduled: cluster sizes vary, and each replica's
// numbers depend only on its own counters, so the schedule never changes the result). The cluster
// updates themselves are SIMD-dispatched kernels (csrc/cpu/kernels/ising_cluster.cpp).
#include "ising_cluster.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "deepcheap/ising/cluster.hpp"
#include "dispatch.hpp"
#include "plan/ising.hpp"
#include "threads.hpp"

DC_DECLARE_KERNEL(int64_t wolff_cluster(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t cluster,
                                        uint64_t threshold, uint32_t* queue))
DC_DECLARE_KERNEL(void swendsen_wang_sweep(int8_t* s, uint32_t L, uint64_t seed, uint64_t replica, uint64_t sweep,
                                           uint64_t threshold, int32_t* parent, uint8_t* coin, int64_t& n_clusters,
                                           int64_t& n_flipped))

namespace deepcheap::cpu {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace

IsingClusterChain::IsingClusterChain(int64_t L, double J, double temperature, int64_t replicas, int algorithm,
                                     uint64_t seed, uint64_t first_replica, int init, int64_t clusters_per_sweep) {
  // The checks, the bond threshold and the initial lattices are the device-neutral setup (plan/ising.hpp).
  const plan::ClusterSetup s =
      plan::cluster_setup(L, J, temperature, replicas, algorithm, seed, first_replica, init, clusters_per_sweep);
  L_ = s.L;
  replicas_ = s.replicas;
  clusters_per_sweep_ = s.clusters_per_sweep;
  J_ = s.J;
  beta_ = s.beta;
  algorithm_ = s.algorithm;
  seed_ = s.seed;
  first_replica_ = s.first_replica;
  threshold_ = s.threshold;
  spins_.resize(size_t(replicas * L * L));
  clusters_done_.assign(size_t(replicas), 0);
  plan::cluster_initial_spins(s, spins_.data());
}

uint64_t IsingClusterChain::sweeps_done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sweeps_;
}

// m and e per spin of one L x L lattice: the header's cluster_measure, as on every device.
static void measure_lattice(const int8_t* s, int64_t L, double J, double& magnetization, double& energy) {
  cluster_measure(s, L, J, magnetization, energy);
}

// n_measure times: `every` sweeps of every replica, then (when the outputs are given) a measurement into
// row k. Replicas are independent, so each thread runs whole replicas through all the sweeps: one
// parallel region per call and no barrier between sweeps (a barrier per sweep made threads spin-wait
// for a core that another process held).
void IsingClusterChain::advance(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                                int64_t* clusters, int64_t* flipped) {
  require(n_measure >= 0 && every >= 0, "numbers of sweeps must be >= 0, got " + std::to_string(n_measure) +
                                            " x " + std::to_string(every));
  if (n_measure == 0 || every == 0) return;
  const uint32_t L = uint32_t(L_);
  const int64_t sites = L_ * L_;
  const auto wolff = DC_DISPATCH(wolff_cluster);
  const auto swendsen_wang = DC_DISPATCH(swendsen_wang_sweep);
  const int threads = replicas_ > 1 ? num_threads() : 1;
  const int64_t n_threads = threads < replicas_ ? threads : replicas_;
#pragma omp parallel num_threads(int(n_threads))
  {
    // Per-thread scratch, reused across the replicas this thread runs: a queue for Wolff (one entry past
    // L^2, see wolff_cluster), parents and coins for Swendsen-Wang.
    std::vector<uint32_t> queue;
    std::vector<int32_t> parent;
    std::vector<uint8_t> coin;
    if (algorithm_ == kWolff)
      queue.resize(size_t(sites) + 1);
    else
      parent.resize(size_t(sites)), coin.resize(size_t(sites));
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < replicas_; ++r) {
      int8_t* s = spins_.data() + r * sites;
      const uint64_t replica = first_replica_ + uint64_t(r);
      uint64_t sweep = sweeps_;
      for (int64_t k = 0; k < n_measure; ++k) {
        int64_t n_clusters = 0, n_flipped = 0;
        for (int64_t t = 0; t < every; ++t, ++sweep) {
          if (algorithm_ == kWolff) {
            for (int64_t c = 0; c < clusters_per_sweep_; ++c)
              n_flipped += wolff(s, L, seed_, replica, clusters_done_[size_t(r)]++, threshold_, queue.data());
            n_clusters += clusters_per_sweep_;
          } else {
            swendsen_wang(s, L, seed_, replica, sweep, threshold_, parent.data(), coin.data(), n_clusters, n_flipped);
          }
        }
        if (magnetization) {
          const int64_t at = k * replicas_ + r;
          measure_lattice(s, L_, J_, magnetization[at], energy[at]);
          clusters[at] = n_clusters;
          flipped[at] = n_flipped;
        }
      }
    }
  }
  sweeps_ += uint64_t(n_measure * every);
}

void IsingClusterChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  advance(1, n, nullptr, nullptr, nullptr, nullptr);
}

void IsingClusterChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                            int64_t* clusters, int64_t* flipped) {
  require(n_measure >= 0, "number of measurements must be >= 0, got " + std::to_string(n_measure));
  require(every >= 1, "measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);
  advance(n_measure, every, magnetization, energy, clusters, flipped);
}

void IsingClusterChain::measure_unlocked(double* magnetization, double* energy) const {
  for (int64_t r = 0; r < replicas_; ++r)
    measure_lattice(spins_.data() + r * L_ * L_, L_, J_, magnetization[r], energy[r]);
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
  plan::check_spins(spins, replicas_ * L_ * L_);
  std::lock_guard<std::mutex> lock(mutex_);
  std::copy(spins, spins + replicas_ * L_ * L_, spins_.begin());
}

void IsingClusterChain::get_counters(uint64_t* sweeps, uint64_t* clusters) const {
  std::lock_guard<std::mutex> lock(mutex_);
  *sweeps = sweeps_;
  std::copy(clusters_done_.begin(), clusters_done_.end(), clusters);
}

void IsingClusterChain::set_counters(uint64_t sweeps, const uint64_t* clusters) {
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_ = sweeps;
  std::copy(clusters, clusters + replicas_, clusters_done_.begin());
}

}  // namespace deepcheap::cpu
