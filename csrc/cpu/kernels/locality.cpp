// Fused Hamiltonian-network energies (issue 23 §1): periodic neighbourhood gather, the site network's
// product-gate trees (deepcheap/product/network.hpp) and the sum over sites, for a batch of int8 +-1
// lattices, without ever storing the (batch * L^2, K) neighbourhood array. A block of 64 consecutive
// sites of one lattice goes through every monomial's tree while it sits in L1; sites lie in the inner,
// vectorised loop. Gate and carry paths are chosen per block by the product kernel's own block functions
// (cpu/product_blocks.hpp), so when L^2 is a multiple of 64 every site takes the path it takes there.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/locality/network.hpp"
#include "plan/locality.hpp"
#include "cpu/product_blocks.hpp"
#include "threads.hpp"

DC_NAMESPACE_BEGIN

namespace {

constexpr int64_t kBlock = kGateBlock;
static_assert(kBlock == locality::kSiteBlock, "the CUDA driver's blocks (locality::block_totals) must be these");

// One lattice: sites in blocks of 64, each block's site values summed into the lattice's total in site
// order (a sequential sum: the same on any thread count). neighbour[k * L^2 + q] is the index of input k
// of site q (locality::periodic_index, tabulated once per call). Returns the spins that are not +-1.
template <int Act, bool Stable, class T>
int64_t lattice_energy(const plan::SiteNetwork<T>& net, const int8_t* DC_RESTRICT lattice, int64_t sites,
                       const int32_t* DC_RESTRICT neighbour, T* work, T* total, T* out) {
  const int64_t bad = locality::bad_spins(lattice, sites);
  T sum = T(0);
  for (int64_t first = 0; first < sites; first += kBlock) {
    const int64_t count = sites - first < kBlock ? sites - first : kBlock;
    for (int64_t s = 0; s < kBlock; ++s) total[s] = net.constant;
    for (int64_t m = 0; m < net.monomials; ++m) {
      const int32_t k0 = net.start[m], k1 = net.start[m + 1];
      const int64_t n = k1 - k0;
      if (n == 0) continue;  // degree 0: folded into constant
      for (int64_t i = 0; i < n; ++i) {
        T* DC_RESTRICT dst = work + i * kBlock;
        const int32_t* DC_RESTRICT from = neighbour + (k0 + i) * sites + first;
        for (int64_t s = 0; s < count; ++s) dst[s] = T(lattice[from[s]]);
        for (int64_t s = count; s < kBlock; ++s) dst[s] = T(0);  // padding lanes, never summed
      }
      const T bias = net.bias[m];
      product::deep_tree_walk(
          n, net.extra_layers[m],
          [&](int64_t d, int64_t s0, int64_t s1) {
            gate_block<Act, Stable>(work + s0 * kBlock, work + s1 * kBlock, work + d * kBlock, net.lambda, bias,
                                    net.gate_coef);
          },
          [&](int64_t d, int64_t src) {
            carry_block<Act, Stable>(work + src * kBlock, work + d * kBlock, net.lambda, bias, net.carry_coef);
          });
      // coef * tree, then the add, as two rounded operations (no fused multiply-add): the Python
      // polynomial computes total += coef * value in two numpy steps.
      const T coef = net.coef[m];
      for (int64_t s = 0; s < kBlock; ++s) work[s] = coef * work[s];
      for (int64_t s = 0; s < kBlock; ++s) total[s] += work[s];
    }
    sum = locality::add_sites(sum, total, count);  // the drivers' one order: site by site
  }
  *out = sum;
  return bad;
}

template <int Act, bool Stable, class T>
int64_t energy_run(const plan::LocalityEnergy<T>& p) {
  const int64_t L = p.L, sites = L * L, inputs = p.net.start[p.net.monomials];
  // The periodic gather as a table: one index per monomial input and site, shared by every lattice.
  int32_t* neighbour = new int32_t[inputs * sites + 1];
  for (int64_t k = 0; k < inputs; ++k)
    for (int64_t q = 0; q < sites; ++q)
      neighbour[k * sites + q] = int32_t(locality::periodic_index(L, q / L, q % L, p.net.dr[k], p.net.dc[k]));
  const int64_t grain = sites >= 4096 ? 1 : 4096 / sites;
  int64_t bad = 0;
  parallel_for_chunks(p.batch, grain, cpu::num_threads(), [&](int64_t b0, int64_t b1) {
    T* work = new T[(p.net.max_degree + 1) * kBlock];
    T* total = work + p.net.max_degree * kBlock;
    int64_t local = 0;
    for (int64_t b = b0; b < b1; ++b)
      local += lattice_energy<Act, Stable>(p.net, p.spins + b * sites, sites, neighbour, work, total, p.out + b);
    delete[] work;
    __atomic_fetch_add(&bad, local, __ATOMIC_RELAXED);
  });
  delete[] neighbour;
  return bad;
}

template <class T>
int64_t energy_any(const plan::LocalityEnergy<T>& p) {
  return product::with_gate(p.net.activation, p.net.stable, [&](auto act, auto stable) {
    return energy_run<decltype(act)::value, decltype(stable)::value>(p);
  });
}

}  // namespace

int64_t locality_energy_f32(const plan::LocalityEnergy<float>& p) { return energy_any(p); }
int64_t locality_energy_f64(const plan::LocalityEnergy<double>& p) { return energy_any(p); }

DC_NAMESPACE_END
