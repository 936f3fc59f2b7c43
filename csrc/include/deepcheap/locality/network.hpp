// Per-site math of the Hamiltonian networks (issue 23 §1): the site network -H_x/T of a translation-
// invariant local Hamiltonian is a polynomial over the periodic neighbourhood of site x, each monomial a
// deep product-gate tree (deepcheap/product/network.hpp, reused as is). The CPU kernel
// (csrc/cpu/kernels/locality.cpp) runs it on blocks of 64 sites of one lattice; site_value is the
// one-sample form (one site per GPU thread, and the reference the kernel's blocks reproduce).
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

}  // namespace locality

DC_NAMESPACE_END
