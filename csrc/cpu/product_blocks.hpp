// Product gates and carries over a block of kGateBlock lanes, with the per-block choice of path (stable
// form; softplus at bias 0: the series when every pre-activation is small, else the shared log1p;
// otherwise the network form), each lane the header's per-sample math (deepcheap/product/network.hpp).
// Shared by the product kernel (lanes = samples) and the locality kernel (lanes = sites), so both take
// the same path for the same block. Include only from csrc/cpu/kernels/*.cpp: the code sits in the
// target's namespace.
#pragma once

#include <cstdint>

#include "deepcheap/product/network.hpp"

DC_NAMESPACE_BEGIN

constexpr int64_t kGateBlock = 64;

// One 4-neuron gate over a block: D = m(U, V), each lane the header's per-sample gate. D may equal U
// (in-place reduction of the tree).
template <int Act, bool Stable, class T>
void gate_block(const T* U, const T* V, T* D, T lambda, T a, T gate_coef) {
  if constexpr (Stable) {
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::gate_stable<Act>(U[s], V[s], lambda, a, gate_coef);
  } else if (Act == product::kSoftplus && a == T(0)) {
    // Softplus at bias 0 (the default). When every pre-activation of the block is small, each neuron
    // is E(±p) ± p/2 with the series E (no exp, no log); otherwise the +p and -p neurons share
    // log1p(exp(-|p|)). The choice is per block so the inner loops stay branch-free.
    T largest = T(0);
#pragma omp simd reduction(max : largest)
    for (int64_t s = 0; s < kGateBlock; ++s) {
      const T m = product::gate_reach(U[s], V[s], lambda);
      largest = m > largest ? m : largest;
    }
    if (largest <= T(product::kSoftplusSeriesRange)) {
#pragma omp simd
      for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::gate_softplus0_series(U[s], V[s], lambda, gate_coef);
      return;
    }
#pragma omp simd
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::gate_softplus0(U[s], V[s], lambda, gate_coef);
  } else {
#pragma omp simd
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::gate_network<Act>(U[s], V[s], lambda, a, gate_coef);
  }
}

// One 2-neuron carry: D ~= X, passing a value through a layer it does not take part in.
template <int Act, bool Stable, class T>
void carry_block(const T* X, T* D, T lambda, T a, T carry_coef) {
  if constexpr (Stable) {
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::carry_stable<Act>(X[s], lambda, a, carry_coef);
  } else if (Act == product::kSoftplus && a == T(0)) {
    T largest = T(0);
#pragma omp simd reduction(max : largest)
    for (int64_t s = 0; s < kGateBlock; ++s) {
      const T m = product::carry_reach(X[s], lambda);
      largest = m > largest ? m : largest;
    }
    if (largest <= T(product::kSoftplusSeriesRange)) {
#pragma omp simd
      for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::carry_softplus0_series(X[s], lambda, carry_coef);
      return;
    }
#pragma omp simd
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::carry_softplus0(X[s], lambda, carry_coef);
  } else {
#pragma omp simd
    for (int64_t s = 0; s < kGateBlock; ++s) D[s] = product::carry_network<Act>(X[s], lambda, a, carry_coef);
  }
}

DC_NAMESPACE_END
