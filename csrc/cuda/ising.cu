// Ising and Boltzmann samplers on the GPU. The lattice (multi-spin words or int8 spins) stays on the
// device between calls; each colour of a sweep is one launch with one thread per site of that colour in
// every lattice (multispin_update / int8_update in deepcheap/ising/ising.hpp), Boltzmann one thread per
// replica (boltzmann_replica_sweeps). Initial spins, packing and unpacking run on the host with the same
// header functions; counters are the CPU's, so lattices are the CPU's bit for bit (the emulation checks
// this in CI; on a GPU the heat-bath thresholds use the device's exp, see README "GPU path").
#include <vector>

#include "deepcheap/common/interrupt.hpp"
#include "deepcheap/ising/ising.hpp"
#include "ising.hpp"
#include "memory.hpp"
#include "plan/ising.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

__global__ void multispin_colour_kernel(uint64_t* words, int64_t groups, int64_t L, int colour, uint64_t first_group,
                                        uint32_t step, uint64_t seed, bool ferro, MultispinTable table,
                                        bool two_classes, int rounds) {
  const int64_t per_lattice = L * (L / 2);
  DC_GRID_STRIDE(x, groups * per_lattice) {
    const int64_t g = x / per_lattice, k = x % per_lattice;
    multispin_update(words + g * L * L, L, k / (L / 2), k % (L / 2), colour, first_group + uint64_t(g), step, seed,
                     ferro, table, two_classes, rounds);
  }
}

struct Thresholds {
  uint64_t t[10];
};

__global__ void int8_colour_kernel(int8_t* spins, int64_t replicas, int64_t L, int colour, uint64_t first_replica,
                                   uint32_t step, uint64_t seed, bool heatbath, Thresholds threshold, int rounds) {
  const int64_t per_lattice = L * (L / 2);
  DC_GRID_STRIDE(x, replicas * per_lattice) {
    const int64_t r = x / per_lattice, k = x % per_lattice;
    int8_update(spins + r * L * L, L, k / (L / 2), k % (L / 2), colour, first_replica + uint64_t(r), step, seed,
                heatbath, threshold.t, rounds);
  }
}

__global__ void multispin_measure_kernel(const uint64_t* words, int64_t groups, int64_t L, int64_t* up,
                                         int64_t* anti) {
  DC_GRID_STRIDE(x, groups * 64) {
    multispin_replica_counts(words + (x / 64) * L * L, L, int(x % 64), up[x], anti[x]);
  }
}

__global__ void int8_measure_kernel(const int8_t* spins, int64_t replicas, int64_t L, int64_t* spin_sum,
                                    int64_t* bond_sum) {
  DC_GRID_STRIDE(r, replicas) { int8_replica_sums(spins + r * L * L, L, spin_sum[r], bond_sum[r]); }
}

__global__ void boltzmann_kernel(int8_t* spins, int64_t replicas, int64_t n_spins, int n_colours,
                                 const int64_t* colour_offsets, const int32_t* colour_members,
                                 const int64_t* incidence_offsets, const int32_t* incidence_terms,
                                 const int32_t* term_indices, const double* coefficients, double beta, uint64_t seed,
                                 uint64_t first_replica, uint64_t first_sweep, int64_t n_sweeps) {
  DC_GRID_STRIDE(r, replicas) {
    boltzmann_replica_sweeps(spins + r * n_spins, n_spins, n_colours, colour_offsets, colour_members,
                             incidence_offsets, incidence_terms, term_indices, coefficients, beta, seed,
                             first_replica + uint64_t(r), first_sweep, n_sweeps);
  }
}

__global__ void boltzmann_energy_kernel(const int8_t* spins, int64_t replicas, int64_t n_spins, int64_t n_terms,
                                        const int32_t* term_indices, const double* coefficients, double* out) {
  DC_GRID_STRIDE(r, replicas) { out[r] = boltzmann_energy_of(spins + r * n_spins, n_terms, term_indices, coefficients); }
}

// The int8 spins of multi-spin words, on the device (bit b of a group's word: replica 64 g + b, set = +1),
// the exact inverse of Impl::upload's packing and the device twin of Impl::download.
__global__ void multispin_unpack_kernel(const uint64_t* words, int64_t replicas, int64_t sites, int8_t* out) {
  DC_GRID_STRIDE(x, replicas * sites) {
    const int64_t r = x / sites, site = x % sites;
    out[x] = ((words[(r / 64) * sites + site] >> (r % 64)) & 1) ? int8_t(1) : int8_t(-1);
  }
}

// Fair initial spins of replicas first_replica .. + replicas - 1 (the CPU's ising_random_spins).
std::vector<int8_t> random_spins(int64_t replicas, int64_t sites, uint64_t seed, uint64_t first_replica) {
  std::vector<int8_t> spins(size_t(replicas * sites));
  const int64_t draws = (sites + 127) / 128;
  for (int64_t r = 0; r < replicas; ++r)
    for (int64_t d = 0; d < draws; ++d) {
      const Philox4x32 b = initial_spins_draw(seed, first_replica + uint64_t(r), d);
      for (int64_t k = 0; k < 128 && d * 128 + k < sites; ++k) spins[size_t(r * sites + d * 128 + k)] = initial_spin(b, int(k));
    }
  return spins;
}

}  // namespace

// ---- Ising ----------------------------------------------------------------------------------------

struct IsingChain::Impl {
  plan::IsingSetup s;
  int device;
  DeviceBuffer<uint64_t> words;  // multi-spin: (replicas / 64, L, L)
  DeviceBuffer<int8_t> spins;    // int8: (replicas, L, L)
  int rounds = kIsingRoundsPhilox10;  // the sweeps' generator (set_rng_rounds)
  int64_t sites() const { return s.L * s.L; }

  void upload(const int8_t* host) {
    if (!s.multispin) {
      spins = DeviceBuffer<int8_t>(host, s.replicas * sites(), "ising (copy spins)");
      return;
    }
    const int64_t groups = s.replicas / 64;
    std::vector<uint64_t> w(size_t(groups * sites()), 0);
    for (int64_t g = 0; g < groups; ++g)
      for (int b = 0; b < 64; ++b)
        for (int64_t site = 0; site < sites(); ++site)
          w[size_t(g * sites() + site)] |= uint64_t(host[(g * 64 + b) * sites() + site] > 0) << b;
    words = DeviceBuffer<uint64_t>(w.data(), groups * sites(), "ising (copy words)");
  }
  void download(int8_t* out) const {
    if (!s.multispin) {
      spins.copy_to_host(out, s.replicas * sites(), "ising (copy spins back)");
      return;
    }
    const int64_t groups = s.replicas / 64;
    std::vector<uint64_t> w(size_t(groups * sites()));
    words.copy_to_host(w.data(), groups * sites(), "ising (copy words back)");
    for (int64_t g = 0; g < groups; ++g)
      for (int b = 0; b < 64; ++b)
        for (int64_t site = 0; site < sites(); ++site)
          out[(g * 64 + b) * sites() + site] = ((w[size_t(g * sites() + site)] >> b) & 1) ? int8_t(1) : int8_t(-1);
  }
};

IsingChain::IsingChain(int64_t L, double J, double h, double temperature, int64_t replicas, bool heatbath,
                       bool multispin, uint64_t seed, bool random_init, uint64_t first_replica, int device)
    : impl_(new Impl{plan::ising_setup(L, J, h, temperature, replicas, heatbath, multispin, seed, first_replica),
                     device, {}, {}}) {
  check_device(device);
  DeviceGuard guard(device);
  const std::vector<int8_t> start =
      random_init ? random_spins(replicas, L * L, seed, first_replica) : std::vector<int8_t>(size_t(replicas * L * L), 1);
  impl_->upload(start.data());
}

IsingChain::~IsingChain() = default;

void IsingChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  sweep_locked(n);
}

void IsingChain::sweep_locked(int64_t n) {
  plan::check_sweeps(sweeps_done(), n);
  const plan::IsingSetup& s = impl_->s;
  DeviceGuard guard(impl_->device);
  const int64_t items = (s.multispin ? s.replicas / 64 : s.replicas) * s.L * (s.L / 2);
  Thresholds t;
  for (int k = 0; k < 10; ++k) t.t[k] = s.threshold[k];
  // Sweeps in interruptible chunks of launches (deepcheap/common/interrupt.hpp), sweeps_ advanced after
  // each chunk: an interrupted call leaves the lattice after its last completed sweep.
  interrupt::run_chunks(n, 1, [&](int64_t begin, int64_t end) {
  for (int64_t k = 0; k < end - begin; ++k) {
    const uint32_t step = static_cast<uint32_t>(sweeps_done() + uint64_t(k));
    for (int colour = 0; colour < 2; ++colour) {
      if (s.multispin)
        launch("ising_multispin_colour", multispin_colour_kernel, dim3(grid_for(items)), dim3(kBlockThreads),
               impl_->words.data(), s.replicas / 64, s.L, colour, s.first_replica / 64, step, s.seed, s.J >= 0,
               s.classes, s.two_classes, impl_->rounds);
      else
        launch("ising_int8_colour", int8_colour_kernel, dim3(grid_for(items)), dim3(kBlockThreads), impl_->spins.data(),
               s.replicas, s.L, colour, s.first_replica, step, s.seed, s.heatbath, t, impl_->rounds);
    }
  }
  sweeps_.fetch_add(uint64_t(end - begin), std::memory_order_relaxed);
  });
}

void IsingChain::get_spins(int8_t* out) const { snapshot(out); }

uint64_t IsingChain::snapshot(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->download(out);
  return sweeps_done();
}

void IsingChain::get_spins_resident(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  const int64_t n = impl_->s.replicas * impl_->sites();
  if (!impl_->s.multispin) return copy_device(out, impl_->spins.data(), n, impl_->device);
  launch("multispin_unpack_kernel", multispin_unpack_kernel, dim3(grid_for(n)), dim3(kBlockThreads),
         impl_->words.data(), impl_->s.replicas, impl_->sites(), out);
}

void IsingChain::set_spins(const int8_t* spins) {
  plan::check_spins(spins, impl_->s.replicas * impl_->sites());
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->upload(spins);
}

void IsingChain::measure(double* magnetization, double* energy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  measure_locked(magnetization, energy);
}

void IsingChain::measure_locked(double* magnetization, double* energy) const {
  const plan::IsingSetup& s = impl_->s;
  DeviceGuard guard(impl_->device);
  const int64_t sites = impl_->sites();
  const double n = double(sites);
  DeviceBuffer<int64_t> a(s.replicas, "ising (allocate sums)"), b(s.replicas, "ising (allocate sums)");
  std::vector<int64_t> ha(size_t(s.replicas)), hb(size_t(s.replicas));
  if (s.multispin) {
    launch("ising_multispin_measure", multispin_measure_kernel, dim3(grid_for(s.replicas)), dim3(kBlockThreads),
           impl_->words.data(), s.replicas / 64, s.L, a.data(), b.data());
  } else {
    launch("ising_int8_measure", int8_measure_kernel, dim3(grid_for(s.replicas)), dim3(kBlockThreads),
           impl_->spins.data(), s.replicas, s.L, a.data(), b.data());
  }
  a.copy_to_host(ha.data(), s.replicas, "ising (copy sums)");
  b.copy_to_host(hb.data(), s.replicas, "ising (copy sums)");
  for (int64_t r = 0; r < s.replicas; ++r) {
    // The CPU driver's formulas: multi-spin counts up spins and anti-aligned bonds.
    const int64_t spin_sum = s.multispin ? 2 * ha[size_t(r)] - sites : ha[size_t(r)];
    const int64_t bond_sum = s.multispin ? 2 * sites - 2 * hb[size_t(r)] : hb[size_t(r)];
    magnetization[r] = double(spin_sum) / n;
    energy[r] = (-s.J * double(bond_sum) - s.h * double(spin_sum)) / n;
  }
}

void IsingChain::run(int64_t n_measure, int64_t every, double* magnetization, double* energy) {
  if (n_measure < 0)
    throw std::invalid_argument("number of measurements must be >= 0, got " + std::to_string(n_measure));
  if (every < 1) throw std::invalid_argument("measure_every must be >= 1, got " + std::to_string(every));
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t k = 0; k < n_measure; ++k) {
    sweep_locked(every);
    measure_locked(magnetization + k * impl_->s.replicas, energy + k * impl_->s.replicas);
    if (k + 1 < n_measure) interrupt::poll();  // between measurements too (polls are cheap beside launches)
  }
}

void IsingChain::set_sweeps_done(uint64_t n) {
  plan::check_sweeps(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

int64_t IsingChain::L() const { return impl_->s.L; }
int64_t IsingChain::replicas() const { return impl_->s.replicas; }
uint64_t IsingChain::first_replica() const { return impl_->s.first_replica; }
bool IsingChain::multispin() const { return impl_->s.multispin; }

void IsingChain::set_rng_rounds(int rounds) {
  if (rounds != kIsingRoundsPhilox10 && rounds != kIsingRoundsPhilox7)
    throw std::invalid_argument("rng rounds must be 10 (Philox4x32-10) or 7 (Philox4x32-7), got " +
                                std::to_string(rounds));
  std::lock_guard<std::mutex> lock(mutex_);
  impl_->rounds = rounds;
}

int IsingChain::rng_rounds() const { return impl_->rounds; }
int IsingChain::device() const { return impl_->device; }

// ---- Boltzmann ------------------------------------------------------------------------------------

struct BoltzmannChain::Impl {
  plan::BoltzmannSetup s;
  int device;
  DeviceBuffer<int8_t> spins;
  DeviceBuffer<int64_t> colour_offsets, incidence_offsets;
  DeviceBuffer<int32_t> colour_members, incidence_terms, term_indices;
  DeviceBuffer<double> coefficients;
};

BoltzmannChain::BoltzmannChain(int64_t n_spins, const int32_t* term_indices, const double* coefficients,
                               int64_t n_terms, double temperature, int64_t replicas, uint64_t seed,
                               uint64_t first_replica, int device)
    : impl_(new Impl{plan::boltzmann_setup(n_spins, term_indices, coefficients, n_terms, temperature, replicas, seed,
                                           first_replica),
                     device, {}, {}, {}, {}, {}, {}, {}}) {
  check_device(device);
  DeviceGuard guard(device);
  Impl& m = *impl_;
  const std::vector<int8_t> start = random_spins(replicas, n_spins, seed ^ kBoltzmannInitSeed, first_replica);
  m.spins = DeviceBuffer<int8_t>(start.data(), replicas * n_spins, "boltzmann (copy spins)");
  m.colour_offsets = DeviceBuffer<int64_t>(m.s.colour_offsets.data(), int64_t(m.s.colour_offsets.size()), "boltzmann");
  m.incidence_offsets =
      DeviceBuffer<int64_t>(m.s.incidence_offsets.data(), int64_t(m.s.incidence_offsets.size()), "boltzmann");
  m.colour_members = DeviceBuffer<int32_t>(m.s.colour_members.data(), int64_t(m.s.colour_members.size()), "boltzmann");
  m.incidence_terms = DeviceBuffer<int32_t>(m.s.incidence_terms.data(), int64_t(m.s.incidence_terms.size()), "boltzmann");
  m.term_indices = DeviceBuffer<int32_t>(m.s.term_indices.data(), int64_t(m.s.term_indices.size()), "boltzmann");
  m.coefficients = DeviceBuffer<double>(m.s.coefficients.data(), int64_t(m.s.coefficients.size()), "boltzmann");
}

BoltzmannChain::~BoltzmannChain() = default;

void BoltzmannChain::sweep(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  plan::check_sweeps(sweeps_done(), n);
  if (n == 0) return;
  Impl& m = *impl_;
  DeviceGuard guard(m.device);
  // Interruptible chunks of sweeps, one launch each (deepcheap/common/interrupt.hpp).
  interrupt::run_chunks(n, 1, [&](int64_t begin, int64_t end) {
    launch("boltzmann_sweeps", boltzmann_kernel, dim3(grid_for(m.s.replicas, 64)), dim3(64), m.spins.data(),
           m.s.replicas, m.s.n_spins, m.s.n_colours, m.colour_offsets.data(), m.colour_members.data(),
           m.incidence_offsets.data(), m.incidence_terms.data(), m.term_indices.data(), m.coefficients.data(),
           m.s.beta, m.s.seed, m.s.first_replica, sweeps_done(), end - begin);
    sweeps_.fetch_add(uint64_t(end - begin), std::memory_order_relaxed);
  });
}

void BoltzmannChain::get_spins(int8_t* out) const { snapshot(out); }

uint64_t BoltzmannChain::snapshot(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->spins.copy_to_host(out, impl_->s.replicas * impl_->s.n_spins, "boltzmann (copy spins back)");
  return sweeps_done();
}

void BoltzmannChain::get_spins_resident(int8_t* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  copy_device(out, impl_->spins.data(), impl_->s.replicas * impl_->s.n_spins, impl_->device);
}

void BoltzmannChain::set_spins(const int8_t* spins) {
  plan::check_spins(spins, impl_->s.replicas * impl_->s.n_spins);
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(impl_->device);
  impl_->spins = DeviceBuffer<int8_t>(spins, impl_->s.replicas * impl_->s.n_spins, "boltzmann (copy spins)");
}

void BoltzmannChain::energy(double* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Impl& m = *impl_;
  DeviceGuard guard(m.device);
  DeviceBuffer<double> e(m.s.replicas, "boltzmann (allocate energies)");
  launch("boltzmann_energy", boltzmann_energy_kernel, dim3(grid_for(m.s.replicas)), dim3(kBlockThreads), m.spins.data(),
         m.s.replicas, m.s.n_spins, m.s.n_terms, m.term_indices.data(), m.coefficients.data(), e.data());
  e.copy_to_host(out, m.s.replicas, "boltzmann (copy energies)");
}

void BoltzmannChain::set_sweeps_done(uint64_t n) {
  plan::check_sweeps(n, 0);
  std::lock_guard<std::mutex> lock(mutex_);
  sweeps_.store(n, std::memory_order_relaxed);
}

std::vector<int32_t> BoltzmannChain::colours() const { return impl_->s.colour_of; }
int64_t BoltzmannChain::n_spins() const { return impl_->s.n_spins; }
int64_t BoltzmannChain::replicas() const { return impl_->s.replicas; }
uint64_t BoltzmannChain::first_replica() const { return impl_->s.first_replica; }
int BoltzmannChain::n_colours() const { return impl_->s.n_colours; }
int BoltzmannChain::device() const { return impl_->device; }

}  // namespace deepcheap::cuda
