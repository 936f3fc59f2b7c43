// Per-site math of the Hamiltonian networks (issue 23 §1): the site network -H_x/T of a translation-
// invariant local Hamiltonian is a polynomial over the periodic neighbourhood of site x, each monomial a
// deep product-gate tree (deepcheap/product/network.hpp, reused as is). Both drivers run it on blocks of
// kSiteBlock consecutive sites of one lattice, each gate and carry taking one path for the whole block
// (the softplus series or not: the rule of cpu/product_blocks.hpp), and add the site values in site
// order (add_sites): the CPU kernel (csrc/cpu/kernels/locality.cpp) with its SIMD block functions, the
// CUDA driver (csrc/cuda/locality.cu) with block_totals below, one block per thread. site_value is the
// one-site form with the path chosen per site (what the blocks reproduce when no block mixes paths).
#pragma once

#include <cstdint>

#include "deepcheap/product/network.hpp"

DC_NAMESPACE_BEGIN

namespace locality {

// Row-major index of site (r + dr, c + dc) on the L x L torus, for any integer offset.
DC_HD int64_t periodic_index(int64_t L, int64_t r, int64_t c, int64_t dr, int64_t dc) {
  int64_t i = (r + dr) % L;
  int64_t j = (c + dc) % L;
  if (i < 0) i += L;
  if (j < 0) j += L;
  return i * L + j;
}

// Spin of monomial input k at site (r, c) as T: the gather that the convolution's first layer reads.
template <class T>
DC_HD T neighbour(const int8_t* lattice, int64_t L, int64_t r, int64_t c, int32_t dr, int32_t dc) {
  return T(lattice[periodic_index(L, r, c, dr, dc)]);
}

// -H_x/T at site (r, c) of one lattice, one sample at a time: work holds max_degree values.
// Each monomial's value is coef[m] * tree, added in monomial order to constant (the order the
// Python-side polynomial uses), so the result is the site network's output bit for bit when the tree
// takes the same gate paths.
// net: a plan::SiteNetwork<T> (csrc/plan/locality.hpp).
template <int Act, bool Stable, class T, class Net>
DC_HD T site_value(const Net& net, const int8_t* lattice, int64_t L, int64_t r, int64_t c, T* work) {
  T total = net.constant;
  for (int64_t m = 0; m < net.monomials; ++m) {
    const int32_t s0 = net.start[m], s1 = net.start[m + 1];
    if (s1 == s0) continue;  // degree 0: folded into constant
    for (int32_t k = s0; k < s1; ++k) work[k - s0] = neighbour<T>(lattice, L, r, c, net.dr[k], net.dc[k]);
    const T tree = product::deep_sample<Act, Stable>(work, 1, int64_t(s1 - s0), net.lambda, net.bias[m],
                                                      net.gate_coef, net.carry_coef, net.extra_layers[m]);
    const T term = net.coef[m] * tree;
    total += term;
  }
  return total;
}

// Sites per block: the CPU kernel's block (kGateBlock of cpu/product_blocks.hpp, checked there).
constexpr int64_t kSiteBlock = 64;

// How many of a lattice's sites are neither -1 nor +1.
DC_HD int64_t bad_spins(const int8_t* lattice, int64_t sites) {
  int64_t bad = 0;
  for (int64_t q = 0; q < sites; ++q) bad += (lattice[q] == 1 || lattice[q] == -1) ? 0 : 1;
  return bad;
}

// sum + total[0] + total[1] + ... + total[count - 1], left to right: the one order in which both drivers
// add a lattice's site values (the CPU block by block, carrying sum; the GPU all sites in one call).
template <class T>
DC_HD T add_sites(T sum, const T* total, int64_t count) {
  for (int64_t s = 0; s < count; ++s) sum += total[s];
  return sum;
}

// One gate over lanes [0, count) of a block whose slot k, lane s is work[(k * kSiteBlock + s) * stride]:
// slot d = m(slot s0, slot s1), lane by lane the header's gate, with one path for the whole block as in
// cpu/product_blocks.hpp's gate_block (softplus at bias 0: the series when every lane's reach is within
// kSoftplusSeriesRange, else the shared log1p). The CPU's padding lanes hold 0, whose reach is 0, so the
// choice over the count real lanes is the CPU's choice. d may equal s0 (the tree runs in place).
template <int Act, bool Stable, class T>
DC_HD void gate_lanes(T* work, int64_t stride, int64_t count, int64_t d, int64_t s0, int64_t s1, T lambda, T a,
                      T coef) {
  const T* U = work + s0 * kSiteBlock * stride;
  const T* V = work + s1 * kSiteBlock * stride;
  T* D = work + d * kSiteBlock * stride;
  if constexpr (Stable) {
    for (int64_t s = 0; s < count; ++s) D[s * stride] = product::gate_stable<Act>(U[s * stride], V[s * stride], lambda, a, coef);
  } else {
    if (Act == product::kSoftplus && a == T(0)) {
      T largest = T(0);
      for (int64_t s = 0; s < count; ++s) {
        const T m = product::gate_reach(U[s * stride], V[s * stride], lambda);
        largest = m > largest ? m : largest;
      }
      if (largest <= T(product::kSoftplusSeriesRange)) {
        for (int64_t s = 0; s < count; ++s)
          D[s * stride] = product::gate_softplus0_series(U[s * stride], V[s * stride], lambda, coef);
      } else {
        for (int64_t s = 0; s < count; ++s)
          D[s * stride] = product::gate_softplus0(U[s * stride], V[s * stride], lambda, coef);
      }
      return;
    }
    for (int64_t s = 0; s < count; ++s)
      D[s * stride] = product::gate_network<Act>(U[s * stride], V[s * stride], lambda, a, coef);
  }
}

// One carry over the block's lanes: slot d ~= slot src, with carry_block's per-block path.
template <int Act, bool Stable, class T>
DC_HD void carry_lanes(T* work, int64_t stride, int64_t count, int64_t d, int64_t src, T lambda, T a, T coef) {
  const T* X = work + src * kSiteBlock * stride;
  T* D = work + d * kSiteBlock * stride;
  if constexpr (Stable) {
    for (int64_t s = 0; s < count; ++s) D[s * stride] = product::carry_stable<Act>(X[s * stride], lambda, a, coef);
  } else {
    if (Act == product::kSoftplus && a == T(0)) {
      T largest = T(0);
      for (int64_t s = 0; s < count; ++s) {
        const T m = product::carry_reach(X[s * stride], lambda);
        largest = m > largest ? m : largest;
      }
      if (largest <= T(product::kSoftplusSeriesRange)) {
        for (int64_t s = 0; s < count; ++s) D[s * stride] = product::carry_softplus0_series(X[s * stride], lambda, coef);
      } else {
        for (int64_t s = 0; s < count; ++s) D[s * stride] = product::carry_softplus0(X[s * stride], lambda, coef);
      }
      return;
    }
    for (int64_t s = 0; s < count; ++s) D[s * stride] = product::carry_network<Act>(X[s * stride], lambda, a, coef);
  }
}

// The site values of sites [first, first + count) of one lattice (count <= kSiteBlock) into total[0..count):
// per site constant, then coef[m] * tree_m added monomial by monomial (the multiply and the add as two
// roundings, as the CPU kernel and the Python polynomial do). work: max_degree * kSiteBlock slots at
// stride `stride` (work[(k * kSiteBlock + s) * stride]), overwritten. The CPU kernel computes the same
// numbers with its SIMD block functions; this is the scalar form the CUDA driver runs, one block a thread.
// net: a plan::SiteNetwork<T> (csrc/plan/locality.hpp).
template <int Act, bool Stable, class T, class Net>
DC_HD void block_totals(const Net& net, const int8_t* lattice, int64_t L, int64_t first, int64_t count, T* work,
                        int64_t stride, T* total) {
  for (int64_t s = 0; s < count; ++s) total[s] = net.constant;
  for (int64_t m = 0; m < net.monomials; ++m) {
    const int32_t k0 = net.start[m], k1 = net.start[m + 1];
    const int64_t n = k1 - k0;
    if (n == 0) continue;  // degree 0: folded into constant
    for (int64_t i = 0; i < n; ++i)
      for (int64_t s = 0; s < count; ++s) {
        const int64_t q = first + s;
        work[(i * kSiteBlock + s) * stride] = neighbour<T>(lattice, L, q / L, q % L, net.dr[k0 + i], net.dc[k0 + i]);
      }
    const T bias = net.bias[m];
    product::deep_tree_walk(
        n, net.extra_layers[m],
        [&](int64_t d, int64_t s0, int64_t s1) {
          gate_lanes<Act, Stable>(work, stride, count, d, s0, s1, net.lambda, bias, net.gate_coef);
        },
        [&](int64_t d, int64_t src) { carry_lanes<Act, Stable>(work, stride, count, d, src, net.lambda, bias, net.carry_coef); });
    const T coef = net.coef[m];
    for (int64_t s = 0; s < count; ++s) {
      const T term = coef * work[s * stride];
      total[s] += term;
    }
  }
}

}  // namespace locality

DC_NAMESPACE_END
