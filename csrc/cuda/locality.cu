// CUDA driver for Hamiltonian-network energies (issue 23 §1): one thread per block of kSiteBlock sites
// of one lattice runs the header's block_totals (deepcheap/locality/network.hpp: the periodic gather,
// the product-gate trees with the CPU kernel's per-block path choice, coef * tree added per monomial),
// writing the site values; then one thread per lattice adds them in site order (add_sites) and counts
// the spins that are not +-1. The same math and the same order as the CPU kernel, so the emulation is
// bit-identical to the CPU; on a GPU, FMA contraction may move outputs by a few ulp per neuron.
#include <vector>

#include "deepcheap/locality/network.hpp"
#include "locality.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

constexpr int64_t kSiteBlock = locality::kSiteBlock;

// Item i = (lattice i / per, block i % per); its work slots at work + i, stride `items` (coalesced).
template <int Act, bool Stable, class T>
__global__ void locality_block_kernel(plan::SiteNetwork<T> net, const int8_t* spins, int64_t L, int64_t lattices,
                                      T* work, T* totals) {
  const int64_t sites = L * L, per = (sites + kSiteBlock - 1) / kSiteBlock, items = lattices * per;
  DC_GRID_STRIDE(i, items) {
    const int64_t b = i / per, first = (i % per) * kSiteBlock;
    const int64_t count = sites - first < kSiteBlock ? sites - first : kSiteBlock;
    locality::block_totals<Act, Stable>(net, spins + b * sites, L, first, count, work + i, items,
                                        totals + b * sites + first);
  }
}

template <class T>
__global__ void locality_sum_kernel(const T* totals, const int8_t* spins, int64_t sites, int64_t lattices, T* out,
                                    int64_t* bad) {
  DC_GRID_STRIDE(b, lattices) {
    out[b] = locality::add_sites(T(0), totals + b * sites, sites);
    bad[b] = locality::bad_spins(spins + b * sites, sites);
  }
}

// The network's arrays on the device and the record pointing at them.
template <class T>
struct DeviceNetwork {
  DeviceBuffer<int32_t> start, dr, dc, extra;
  DeviceBuffer<T> coef, bias;
  plan::SiteNetwork<T> net;
  explicit DeviceNetwork(const plan::SiteNetwork<T>& host)
      : start(host.start, host.monomials + 1, "locality energy (copy the network)"),
        dr(host.dr, host.start[host.monomials], "locality energy (copy the network)"),
        dc(host.dc, host.start[host.monomials], "locality energy (copy the network)"),
        extra(host.extra_layers, host.monomials, "locality energy (copy the network)"),
        coef(host.coef, host.monomials, "locality energy (copy the network)"),
        bias(host.bias, host.monomials, "locality energy (copy the network)"),
        net(host) {
    net.start = start.data();
    net.dr = dr.data();
    net.dc = dc.data();
    net.extra_layers = extra.data();
    net.coef = coef.data();
    net.bias = bias.data();
  }
};

template <int Act, bool Stable, class T>
void run_piece(const plan::SiteNetwork<T>& net, const int8_t* spins, int64_t L, int64_t lattices, T* work, T* totals,
               T* out, int64_t* bad) {
  const int64_t sites = L * L, items = lattices * ((sites + kSiteBlock - 1) / kSiteBlock);
  launch("locality_block_kernel", locality_block_kernel<Act, Stable, T>, dim3(grid_for(items)), dim3(kBlockThreads),
         net, spins, L, lattices, work, totals);
  launch("locality_sum_kernel", locality_sum_kernel<T>, dim3(grid_for(lattices)), dim3(kBlockThreads), totals, spins,
         sites, lattices, out, bad);
}

template <class T>
void run_piece_any(const plan::SiteNetwork<T>& net, const int8_t* spins, int64_t L, int64_t lattices, T* work,
                   T* totals, T* out, int64_t* bad) {
  product::with_gate(net.activation, net.stable, [&](auto act, auto stable) {
    run_piece<decltype(act)::value, decltype(stable)::value>(net, spins, L, lattices, work, totals, out, bad);
  });
}

template <class T>
int64_t energy(const plan::LocalityEnergy<T>& p, int device) {
  check_device(device);
  if (p.batch == 0) return 0;
  DeviceGuard guard(device);
  const int64_t L = p.L, sites = L * L, per = (sites + kSiteBlock - 1) / kSiteBlock;
  const int64_t degree = p.net.max_degree > 0 ? p.net.max_degree : 1;
  // Device memory per lattice: spins, site values and every block's work slots; pieces of at most 2^28
  // bytes of it keep memory bounded for any batch.
  const int64_t lattice_bytes = sites + sites * int64_t(sizeof(T)) + per * kSiteBlock * degree * int64_t(sizeof(T)) +
                                int64_t(sizeof(T) + sizeof(int64_t));
  int64_t cap = (int64_t(1) << 28) / lattice_bytes;
  if (cap < 1) cap = 1;
  if (cap > p.batch) cap = p.batch;
  DeviceNetwork<T> dnet(p.net);
  DeviceBuffer<int8_t> spins(cap * sites, "locality energy (allocate spins)");
  DeviceBuffer<T> totals(cap * sites, "locality energy (allocate site values)");
  DeviceBuffer<T> work(cap * per * kSiteBlock * degree, "locality energy (allocate work)");
  DeviceBuffer<T> out(cap, "locality energy (allocate outputs)");
  DeviceBuffer<int64_t> bad(cap, "locality energy (allocate counts)");
  std::vector<int64_t> host_bad(static_cast<size_t>(cap));
  int64_t bad_total = 0;
  // Lattices in interruptible chunks (deepcheap/common/interrupt.hpp), as on the CPU: a pending Ctrl-C
  // stops the call between chunks, out then holds the lattices of every completed chunk. A chunk runs as
  // pieces of at most `cap` lattices, two launches each.
  const double cost = double(sites) * double(4 * (p.net.start[p.net.monomials] + 1));
  interrupt::run_chunks(p.batch, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    for (int64_t first = begin; first < end; first += cap) {
      const int64_t n = end - first < cap ? end - first : cap;
      check(cudaMemcpy(spins.data(), p.spins + first * sites, static_cast<size_t>(n * sites), cudaMemcpyHostToDevice),
            "locality energy (copy spins)");
      run_piece_any(dnet.net, spins.data(), L, n, work.data(), totals.data(), out.data(), bad.data());
      out.copy_to_host(p.out + first, n, "locality energy (copy outputs)");
      bad.copy_to_host(host_bad.data(), n, "locality energy (copy counts)");
      for (int64_t b = 0; b < n; ++b) bad_total += host_bad[static_cast<size_t>(b)];
    }
  });
  return bad_total;
}

}  // namespace

int64_t locality_energy(Driver, const plan::LocalityEnergy<float>& p, int device) { return energy(p, device); }
int64_t locality_energy(Driver, const plan::LocalityEnergy<double>& p, int device) { return energy(p, device); }

}  // namespace deepcheap::cuda
