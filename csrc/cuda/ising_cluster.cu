// Wolff and Swendsen-Wang samplers on the GPU (see ising_cluster.hpp for the scheme). The lattices and
// cluster counters stay on the device between calls; the per-site math is deepcheap/ising/cluster.hpp,
// the setup plan::cluster_setup, both shared with the CPU chain, so every lattice, measurement and
// count equals the CPU's (tests/test_cuda_emulated.py everywhere, tests/test_cuda.py on a GPU).
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/common/interrupt.hpp"
#include "deepcheap/ising/cluster.hpp"
#include "ising_cluster.hpp"
#include "memory.hpp"
#include "plan/ising.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

// Wolff: thread r grows `n_clusters` clusters of replica r in turn, adding their sizes to flipped[r].
__global__ void wolff_kernel(int8_t* spins, int64_t replicas, uint32_t L, uint64_t seed, uint64_t first_replica,
                             uint64_t* clusters_done, uint64_t threshold, uint32_t* queues, int64_t n_clusters,
                             int64_t* flipped) {
  const int64_t sites = int64_t(L) * L;
  DC_GRID_STRIDE(r, replicas) {
    int64_t f = 0;
    for (int64_t c = 0; c < n_clusters; ++c)
      f += wolff_grow(spins + r * sites, L, seed, first_replica + uint64_t(r), clusters_done[r]++, threshold,
                      queues + r * (sites + 1));
    if (flipped) flipped[r] += f;  // null: sweeps without measurements
  }
}

// Swendsen-Wang, step 1: every site's bond bits and coin; every site starts labelled by itself.
__global__ void sw_bonds_kernel(const int8_t* spins, int64_t replicas, uint32_t L, uint64_t seed,
                                uint64_t first_replica, uint64_t sweep, uint64_t threshold, uint8_t* bonds,
                                int32_t* label) {
  const int64_t sites = int64_t(L) * L;
  DC_GRID_STRIDE(x, replicas * sites) {
    const int64_t r = x / sites, i = x % sites;
    bonds[x] = swendsen_wang_site(spins + r * sites, L, seed, first_replica + uint64_t(r), sweep, threshold,
                                  uint32_t(i));
    label[x] = int32_t(i);
  }
}

// Step 2, launched until no label changes: each site takes the smallest of its label, its label's
// label, and the labels of the neighbours it is bonded to (its own right and down bonds, and the right
// bond of its left neighbour and the down bond of the one above). Labels only fall and always name a
// site of the same cluster, so a launch with no change leaves each cluster labelled by its smallest
// site. Sites read labels other threads may be writing: any value read is a valid, larger-or-equal label,
// so it can only slow convergence, never change where it ends. `changed` is set (to 1, by any number of
// threads) when some label fell.
__global__ void sw_label_kernel(int32_t* label, const uint8_t* bonds, int64_t replicas, uint32_t L,
                                int32_t* changed) {
  const int64_t sites = int64_t(L) * L;
  DC_GRID_STRIDE(x, replicas * sites) {
    const int64_t r = x / sites;
    const uint32_t i = uint32_t(x % sites);
    int32_t* lab = label + r * sites;
    const uint8_t* b = bonds + r * sites;
    int32_t m = lab[i];
    const int32_t jump = lab[m];
    if (jump < m) m = jump;
    uint32_t nb[4];
    torus_neighbours(i, L, nb);  // right, left, down, up
    if ((b[i] & 1u) && lab[nb[0]] < m) m = lab[nb[0]];
    if ((b[nb[1]] & 1u) && lab[nb[1]] < m) m = lab[nb[1]];
    if ((b[i] & 2u) && lab[nb[2]] < m) m = lab[nb[2]];
    if ((b[nb[3]] & 2u) && lab[nb[3]] < m) m = lab[nb[3]];
    if (m < lab[i]) {
      lab[i] = m;
      *changed = 1;
    }
  }
}

// Step 3, one thread per (replica, row): flip the row's spins whose cluster's root drew a 1, and count
// the row's roots (clusters) and flipped spins into row_counts[2 x], row_counts[2 x + 1].
__global__ void sw_flip_kernel(int8_t* spins, const int32_t* label, const uint8_t* bonds, int64_t replicas,
                               uint32_t L, int64_t* row_counts) {
  const int64_t sites = int64_t(L) * L;
  DC_GRID_STRIDE(x, replicas * int64_t(L)) {
    const int64_t r = x / L, row = x % L;
    int64_t clusters = 0, flipped = 0;
    for (int64_t col = 0; col < L; ++col) {
      const int64_t i = row * L + col;
      const int32_t root = label[r * sites + i];
      clusters += root == i ? 1 : 0;
      const bool flip = (bonds[r * sites + root] & 4u) != 0;
      if (flip) spins[r * sites + i] = int8_t(-spins[r * sites + i]);
      flipped += flip ? 1 : 0;
    }
    row_counts[2 * x] = clusters;
    row_counts[2 * x + 1] = flipped;
  }
}

// Each replica's rows summed into its counts.
__global__ void sw_sum_kernel(const int64_t* row_counts, int64_t replicas, uint32_t L, int64_t* clusters,
                              int64_t* flipped) {
  DC_GRID_STRIDE(r, replicas) {
    int64_t c = 0, f = 0;
    for (int64_t row = 0; row < L; ++row) {
      c += row_counts[2 * (r * L + row)];
      f += row_counts[2 * (r * L + row) + 1];
    }
    clusters[r] += c;
    if (flipped) flipped[r] += f;  // null: sweeps without measurements
  }
}

__global__ void cluster_measure_kernel(const int8_t* spins, int64_t replicas, int64_t L, double J,
                                       double* magnetization, double* energy) {
  DC_GRID_STRIDE(r, replicas) { cluster_measure(spins + r * L * L, L, J, magnetization[r], energy[r]); }
}

}  // namespace

struct IsingClusterChain::Impl {
  plan::ClusterSetup s;
  int device;
  uint64_t sweeps = 0;
  DeviceBuffer<int8_t> spins;            // (replicas, L, L)
  DeviceBuffer<uint64_t> clusters_done;  // Wolff clusters built so far, per replica
  DeviceBuffer<uint32_t> queues;         // Wolff: L^2 + 1 per replica, made at the first Wolff call
  DeviceBuffer<int32_t> label;           // Swendsen-Wang scratch, made at the first call
  DeviceBuffer<uint8_t> bonds;
  DeviceBuffer<int32_t> changed;
  DeviceBuffer<int64_t> row_counts;
  int64_t sites() const { return s.L * s.L; }
  Impl(const plan::ClusterSetup& setup, int dev) : s(setup), device(dev) {}
};

IsingClusterChain::IsingClusterChain(int64_t L, double J, double temperature, int64_t replicas, int algorithm,
                                     uint64_t seed, uint64_t first_replica, int init, int64_t clusters_per_sweep,
                                     int device)
    : impl_(new Impl(plan::cluster_setup(L, J, temperature, replicas, algorithm, seed, first_replica, init,
                                         clusters_per_sweep),
                     device)) {
  check_device(device);
  DeviceGuard guard(device);
  Impl& m = *impl_;
  std::vector<int8_t> start(size_t(m.s.replicas * m.sites()));
  plan::cluster_initial_spins(m.s, start.data());
  m.spins = DeviceBuffer<int8_t>(start.data(), int64_t(start.size()), "cluster chain (copy spins)");
  const std::vector<uint64_t> zeros(size_t(m.s.replicas), 0);
  m.clusters_done = DeviceBuffer<uint64_t>(zeros.data(), m.s.replicas, "cluster chain (copy counters)");
}

IsingClusterChain::~IsingClusterChain() = default;

void IsingClusterChain::advance(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                                int64_t* clusters, int64_t* flipped) {
  if (n_measure < 0 || every < 0)
    throw std::invalid_argument("numbers of sweeps must be >= 0, got " + std::to_string(n_measure) + " x " +
                                std::to_string(every));
  if (n_measure == 0 || every == 0) return;
  Impl& m = *impl_;
  const plan::ClusterSetup& s = m.s;
  DeviceGuard guard(m.device);
  uint64_t most_clusters = 0;
  if (s.algorithm == plan::ClusterSetup::kWolff) {  // the counters' range (a copy of R words per call)
    std::vector<uint64_t> done(size_t(s.replicas));
    m.clusters_done.copy_to_host(done.data(), s.replicas, "cluster chain (copy counters back)");
    most_clusters = *std::max_element(done.begin(), done.end());
  }
  plan::check_cluster_advance(s, m.sweeps, most_clusters, n_measure, every);
  const uint32_t L = uint32_t(s.L);
  const int64_t sites = m.sites(), R = s.replicas;
  const bool wolff = s.algorithm == plan::ClusterSetup::kWolff;
  if (wolff && m.queues.size() == 0) m.queues = DeviceBuffer<uint32_t>(R * (sites + 1), "wolff (allocate queues)");
  if (!wolff && m.label.size() == 0) {
    m.label = DeviceBuffer<int32_t>(R * sites, "swendsen-wang (allocate labels)");
    m.bonds = DeviceBuffer<uint8_t>(R * sites, "swendsen-wang (allocate bonds)");
    m.changed = DeviceBuffer<int32_t>(1, "swendsen-wang (allocate flag)");
    m.row_counts = DeviceBuffer<int64_t>(2 * R * s.L, "swendsen-wang (allocate counts)");
  }
  // Counts only when measurements are asked for (run); plain sweeps count nothing.
  const bool counting = magnetization != nullptr;
  DeviceBuffer<int64_t> n_clusters, n_flipped;
  if (counting) {
    n_clusters = DeviceBuffer<int64_t>(R, "cluster chain (allocate counts)");
    n_flipped = DeviceBuffer<int64_t>(R, "cluster chain (allocate counts)");
  }
  const dim3 per_replica(grid_for(R)), block(kBlockThreads);
  // Sweeps in interruptible chunks of launches (deepcheap/common/interrupt.hpp), m.sweeps advanced after
  // each: an interrupted call leaves the lattices and counters after its last completed sweep.
  for (int64_t k = 0; k < n_measure; ++k) {
    if (counting) {
      check(cudaMemset(n_clusters.data(), 0, size_t(R) * sizeof(int64_t)), "cluster chain (clear counts)");
      check(cudaMemset(n_flipped.data(), 0, size_t(R) * sizeof(int64_t)), "cluster chain (clear counts)");
    }
    interrupt::run_chunks(every, 1, [&](int64_t begin, int64_t end) {
    if (wolff) {
      // The sweep number does not enter Wolff's counters: a chunk's sweeps are one launch.
      launch("wolff_kernel", wolff_kernel, per_replica, block, m.spins.data(), R, L, s.seed, s.first_replica,
             m.clusters_done.data(), s.threshold, m.queues.data(), (end - begin) * s.clusters_per_sweep,
             counting ? n_flipped.data() : nullptr);
    } else {
      uint64_t sweep = m.sweeps;
      for (int64_t t = begin; t < end; ++t, ++sweep) {
        launch("sw_bonds_kernel", sw_bonds_kernel, dim3(grid_for(R * sites)), block, m.spins.data(), R, L, s.seed,
               s.first_replica, sweep, s.threshold, m.bonds.data(), m.label.data());
        for (int32_t changed = 1; changed;) {
          check(cudaMemset(m.changed.data(), 0, sizeof(int32_t)), "swendsen-wang (clear flag)");
          launch("sw_label_kernel", sw_label_kernel, dim3(grid_for(R * sites)), block, m.label.data(),
                 m.bonds.data(), R, L, m.changed.data());
          m.changed.copy_to_host(&changed, 1, "swendsen-wang (read flag)");
        }
        launch("sw_flip_kernel", sw_flip_kernel, dim3(grid_for(R * s.L)), block, m.spins.data(), m.label.data(),
               m.bonds.data(), R, L, m.row_counts.data());
        if (counting)
          launch("sw_sum_kernel", sw_sum_kernel, per_replica, block, m.row_counts.data(), R, L, n_clusters.data(),
                 n_flipped.data());
      }
    }
    m.sweeps += uint64_t(end - begin);
    });
    if (counting) {
      measure_unlocked(magnetization + k * R, energy + k * R);
      n_flipped.copy_to_host(flipped + k * R, R, "cluster chain (copy counts)");
      if (wolff)
        for (int64_t r = 0; r < R; ++r) clusters[k * R + r] = every * s.clusters_per_sweep;
      else
        n_clusters.copy_to_host(clusters + k * R, R, "cluster chain (copy counts)");
    }
    if (k + 1 < n_measure) interrupt::poll();
  }
}

void IsingClusterChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  advance(1, n, nullptr, nullptr, nullptr, nullptr);
}

void IsingClusterChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy,
                            int64_t* clusters, int64_t* flipped) {
  if (n_measure < 0) throw std::invalid_argument("number of measurements must be >= 0, got " + std::to_string(n_measure));
  if (every < 1) throw std::invalid_argument("measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);
  advance(n_measure, every, magnetization, energy, clusters, flipped);
}

void IsingClusterChain::measure_unlocked(double* magnetization, double* energy) const {
  const Impl& m = *impl_;
  DeviceGuard guard(m.device);
  const int64_t R = m.s.replicas;
  DeviceBuffer<double> dm(R, "cluster chain (allocate measurements)"), de(R, "cluster chain (allocate measurements)");
  launch("cluster_measure_kernel", cluster_measure_kernel, dim3(grid_for(R)), dim3(kBlockThreads), m.spins.data(), R,
         m.s.L, m.s.J, dm.data(), de.data());
  dm.copy_to_host(magnetization, R, "cluster chain (copy measurements)");
  de.copy_to_host(energy, R, "cluster chain (copy measurements)");
}

void IsingClusterChain::measure(double* magnetization, double* energy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  measure_unlocked(magnetization, energy);
}

void IsingClusterChain::get_spins(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->spins.copy_to_host(out, impl_->s.replicas * impl_->sites(), "cluster chain (copy spins back)");
}

void IsingClusterChain::get_spins_resident(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  copy_device(out, impl_->spins.data(), impl_->s.replicas * impl_->sites(), impl_->device);
}

void IsingClusterChain::set_spins(const int8_t* spins) {
  plan::check_spins(spins, impl_->s.replicas * impl_->sites());
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->spins = DeviceBuffer<int8_t>(spins, impl_->s.replicas * impl_->sites(), "cluster chain (copy spins)");
}

void IsingClusterChain::get_counters(uint64_t* sweeps, uint64_t* clusters) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  *sweeps = impl_->sweeps;
  impl_->clusters_done.copy_to_host(clusters, impl_->s.replicas, "cluster chain (copy counters back)");
}

void IsingClusterChain::snapshot(int8_t* spins, uint64_t* sweeps, uint64_t* clusters) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->spins.copy_to_host(spins, impl_->s.replicas * impl_->sites(), "cluster chain (copy spins back)");
  *sweeps = impl_->sweeps;
  impl_->clusters_done.copy_to_host(clusters, impl_->s.replicas, "cluster chain (copy counters back)");
}

void IsingClusterChain::set_counters(uint64_t sweeps, const uint64_t* clusters) {
  plan::check_cluster_counters(sweeps, clusters, impl_->s.replicas);
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->sweeps = sweeps;
  impl_->clusters_done = DeviceBuffer<uint64_t>(clusters, impl_->s.replicas, "cluster chain (copy counters)");
}

int64_t IsingClusterChain::L() const { return impl_->s.L; }
int64_t IsingClusterChain::clusters_per_sweep() const { return impl_->s.clusters_per_sweep; }
int64_t IsingClusterChain::replicas() const { return impl_->s.replicas; }
int IsingClusterChain::algorithm() const { return impl_->s.algorithm; }
uint64_t IsingClusterChain::first_replica() const { return impl_->s.first_replica; }
uint64_t IsingClusterChain::sweeps_done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return impl_->sweeps;
}
uint64_t IsingClusterChain::bond_threshold() const { return impl_->s.threshold; }
int IsingClusterChain::device() const { return impl_->device; }

}  // namespace deepcheap::cuda
