// Per-sample math of the product-gate networks (DESIGN.md §1.1): one 4-neuron gate, one 2-neuron
// carry, the deep network's binary-tree walk and the shallow network's Gray-code walks. The CPU kernels
// (csrc/cpu/kernels/product.cpp) run these on 64-sample blocks (the shallow one: shallow_walk_block),
// the CUDA driver (csrc/cuda/product.cu) one sample per thread (shallow_sample).
#pragma once

#include "deepcheap/product/activations.hpp"

DC_NAMESPACE_BEGIN

namespace product {

// ---- one gate: coef * [s(a+p) + s(a-p) - s(a+q) - s(a-q)], p = l(u+v), q = l(u-v) ----

template <int Act, class T>
DC_PRODUCT_HD T gate_network(T u, T v, T lambda, T a, T coef) {
  const T p = lambda * (u + v);
  const T q = lambda * (u - v);
  return coef * (activate<Act>(a + p) + activate<Act>(a - p) - activate<Act>(a + q) - activate<Act>(a - q));
}

// Softplus at bias 0: the neurons at +p and -p share log1p(exp(-|p|)); bit-identical to gate_network.
template <class T>
DC_PRODUCT_HD T gate_softplus0(T u, T v, T lambda, T coef) {
  const T p = lambda * (u + v);
  const T q = lambda * (u - v);
  const T lp = softplus_tail(p);
  const T lq = softplus_tail(q);
  const T h = ((p > T(0) ? p : T(0)) + lp) + ((-p > T(0) ? -p : T(0)) + lp) - ((q > T(0) ? q : T(0)) + lq) -
              ((-q > T(0) ? -q : T(0)) + lq);
  return coef * h;
}

// Softplus at bias 0 when |p|, |q| <= kSoftplusSeriesRange: each neuron is E(±z) ± z/2 with the series E.
template <class T>
DC_PRODUCT_HD T gate_softplus0_series(T u, T v, T lambda, T coef) {
  const T p = lambda * (u + v);
  const T q = lambda * (u - v);
  const T ep = softplus_even_small(p);
  const T eq = softplus_even_small(q);
  const T hp = T(0.5) * p;
  const T hq = T(0.5) * q;
  return coef * (((ep + hp) + (ep - hp)) - (eq + hq) - (eq - hq));
}

template <int Act, class T>
DC_PRODUCT_HD T gate_stable(T u, T v, T lambda, T a, T coef) {
  return coef * stable_gate_numerator<Act>(u, v, lambda, a);
}

// Largest |pre-activation offset| of a gate: what decides whether the series applies.
template <class T>
DC_PRODUCT_HD T gate_reach(T u, T v, T lambda) {
  const T p = lambda * (u + v);
  const T q = lambda * (u - v);
  const T ap = p < T(0) ? -p : p;
  const T aq = q < T(0) ? -q : q;
  return ap > aq ? ap : aq;
}

// ---- one carry: coef * [s(a+p) - s(a-p)], p = l x ----

template <int Act, class T>
DC_PRODUCT_HD T carry_network(T x, T lambda, T a, T coef) {
  const T p = lambda * x;
  return coef * (activate<Act>(a + p) - activate<Act>(a - p));
}

template <class T>
DC_PRODUCT_HD T carry_softplus0(T x, T lambda, T coef) {
  const T p = lambda * x;
  const T lp = softplus_tail(p);
  return coef * (((p > T(0) ? p : T(0)) + lp) - ((-p > T(0) ? -p : T(0)) + lp));
}

template <class T>
DC_PRODUCT_HD T carry_softplus0_series(T x, T lambda, T coef) {
  const T p = lambda * x;
  const T e = softplus_even_small(p);
  const T hp = T(0.5) * p;
  return coef * ((e + hp) - (e - hp));
}

template <int Act, class T>
DC_PRODUCT_HD T carry_stable(T x, T lambda, T a, T coef) {
  return coef * stable_carry_numerator<Act>(x, lambda, a);
}

template <class T>
DC_PRODUCT_HD T carry_reach(T x, T lambda) {
  const T p = lambda * x;
  return p < T(0) ? -p : p;
}

// ---- one sample through a gate or carry, choosing the path as the CPU does per block ----

template <int Act, bool Stable, class T>
DC_PRODUCT_HD T gate_value(T u, T v, T lambda, T a, T coef) {
  if constexpr (Stable) {
    return gate_stable<Act>(u, v, lambda, a, coef);
  } else {
    if (Act == kSoftplus && a == T(0))
      return gate_reach(u, v, lambda) <= T(kSoftplusSeriesRange) ? gate_softplus0_series(u, v, lambda, coef)
                                                                  : gate_softplus0(u, v, lambda, coef);
    return gate_network<Act>(u, v, lambda, a, coef);
  }
}

template <int Act, bool Stable, class T>
DC_PRODUCT_HD T carry_value(T x, T lambda, T a, T coef) {
  if constexpr (Stable) {
    return carry_stable<Act>(x, lambda, a, coef);
  } else {
    if (Act == kSoftplus && a == T(0))
      return carry_reach(x, lambda) <= T(kSoftplusSeriesRange) ? carry_softplus0_series(x, lambda, coef)
                                                                : carry_softplus0(x, lambda, coef);
    return carry_network<Act>(x, lambda, a, coef);
  }
}

// ---- the deep network's tree ----

// The deep network's wiring over n value slots, level by level: gate(d, s0, s1) writes slot d from
// slots s0, s1; carry(d, s) passes slot s through a layer into slot d. Gate g of a level reads 2g,
// 2g+1 and writes g; an odd value out is carried to the slot after the gates; then extra_layers
// carries of slot 0. Writes never clobber a slot still to be read, so the walk runs in place.
#if defined(__CUDACC__)
#  pragma nv_exec_check_disable
#endif
template <class Gate, class Carry>
DC_HD void deep_tree_walk(int64_t n, int32_t extra_layers, Gate&& gate, Carry&& carry) {
  for (int64_t c = n; c > 1;) {
    const int64_t gates = c / 2;
    for (int64_t g = 0; g < gates; ++g) gate(g, 2 * g, 2 * g + 1);
    if (c & 1) carry(gates, c - 1);
    c = gates + (c & 1);
  }
  for (int32_t e = 0; e < extra_layers; ++e) carry(int64_t(0), int64_t(0));
}

// One sample of the deep network: its n inputs at work[i * stride], overwritten; returns the output.
template <int Act, bool Stable, class T>
DC_HD T deep_sample(T* work, int64_t stride, int64_t n, T lambda, T a, T gate_coef, T carry_coef,
                    int32_t extra_layers) {
  deep_tree_walk(
      n, extra_layers,
      [&](int64_t d, int64_t s0, int64_t s1) {
        work[d * stride] = gate_value<Act, Stable>(work[s0 * stride], work[s1 * stride], lambda, a, gate_coef);
      },
      [&](int64_t d, int64_t s) { work[d * stride] = carry_value<Act, Stable>(work[s * stride], lambda, a, carry_coef); });
  return work[0];
}

// ---- the shallow network's Gray-code walk ----

// Neuron j has signs s_i = -1 where bit i of gray(j) is set and output weight prod(s) = (-1)^j;
// going from neuron j-1 to j flips sign ctz(j).
DC_HD int64_t gray_code(int64_t j) { return j ^ (j >> 1); }
DC_HD int gray_flip(int64_t j) {
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(j)) - 1;
#else
  return __builtin_ctzll(static_cast<unsigned long long>(j));
#endif
}

// Softplus at bias 0 of a neuron with pre-activation z and of its complement (-z), which shares
// log1p(exp(-|z|)); partner_sign is the complement's output weight relative to z's, (-1)^n.
template <class T>
DC_PRODUCT_HD T softplus0_pair(T z, T partner_sign) {
  const T t = softplus_tail(z);
  return ((z > T(0) ? z : T(0)) + t) + partner_sign * ((-z > T(0) ? -z : T(0)) + t);
}

// The shallow network's table walk, the CPU's algorithm, over a block of Lanes samples at once (x_i of
// lane s at x[i * Lanes + s]; CPU: Lanes = 64, so each inner loop is a few SIMD instructions; a GPU
// thread could run Lanes = 1). Neuron j = h * 2^Lo + l: the low Lo = shallow_low_bits(n) sign bits come
// from a table lo[t] = lambda * sum_{i<Lo} s_i x_i (t = l, or 2^Lo - 1 - l for odd h, which is what
// reflects the Gray code), the high ones from hi, walked in Gray order with one add per step
// (recomputed exactly every 256 steps against drift). Softplus at bias 0 with n >= 2 walks only the sign
// vectors with s_{n-1} = +1 and adds each complement (softplus0_pair): half the transcendentals.
// Scratch: lo[shallow_table_size(n) * Lanes], hi, accp, accm [Lanes]; result sum_j (-1)^j s(z_j) in
// acc[Lanes] (the caller multiplies by out_coef).
DC_HD int64_t shallow_low_bits(int64_t n) { return n < 6 ? n : 6; }
DC_HD int64_t shallow_table_size(int64_t n) { return int64_t(1) << shallow_low_bits(n); }

template <int Lanes, int Act, class T>
DC_HD void shallow_walk_block(const T* x, int64_t n, T lambda, T a, T* lo, T* hi, T* acc,
                              T* DC_RESTRICT accp, T* DC_RESTRICT accm) {
  const int64_t L = shallow_low_bits(n);
  const int64_t H = n - L;
  const int64_t table = shallow_table_size(n);
  // lo table by its own Gray walk from the all-plus vector.
  for (int64_t s = 0; s < Lanes; ++s) lo[s] = T(0);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t s = 0; s < Lanes; ++s) lo[s] += lambda * x[i * Lanes + s];
  for (int64_t t = 1; t < table; ++t) {
    const int bit = gray_flip(t);
    const bool now_minus = (gray_code(t) >> bit) & 1;
    const T step = now_minus ? T(-2) * lambda : T(2) * lambda;
    for (int64_t s = 0; s < Lanes; ++s) lo[t * Lanes + s] = lo[(t - 1) * Lanes + s] + step * x[bit * Lanes + s];
  }
  for (int64_t s = 0; s < Lanes; ++s) acc[s] = T(0);
  // The neuron of -s has pre-activation -z and shares log1p(exp(-|z|)) with the neuron of s; its output
  // sign relative to its partner is (-1)^n.
  const bool paired = Act == kSoftplus && a == T(0) && n >= 2;
  const T partner_sign = (n & 1) ? T(-1) : T(1);
  const int64_t rows = (int64_t(1) << H) >> (paired && H >= 1 ? 1 : 0);
  const int64_t columns = table >> (paired && H == 0 ? 1 : 0);
  for (int64_t h = 0; h < rows; ++h) {
    const int64_t gh = gray_code(h);
    if ((h & 255) == 0) {
      for (int64_t s = 0; s < Lanes; ++s) hi[s] = a;
      for (int64_t i = 0; i < H; ++i) {
        const T w = ((gh >> i) & 1) ? -lambda : lambda;
        for (int64_t s = 0; s < Lanes; ++s) hi[s] += w * x[(L + i) * Lanes + s];
      }
    } else {
      const int bit = gray_flip(h);
      const T step = ((gh >> bit) & 1) ? T(-2) * lambda : T(2) * lambda;
      for (int64_t s = 0; s < Lanes; ++s) hi[s] += step * x[(L + bit) * Lanes + s];
    }
    for (int64_t s = 0; s < Lanes; ++s) {
      accp[s] = T(0);
      accm[s] = T(0);
    }
    // Even t carry sign +, odd t sign - (for even h); columns is even (L >= 1, or L >= 2 if paired).
    if (paired) {
      for (int64_t t = 0; t < columns; t += 2) {
        const T* DC_RESTRICT l0 = lo + t * Lanes;
        const T* DC_RESTRICT l1 = l0 + Lanes;
        DC_SIMD
        for (int64_t s = 0; s < Lanes; ++s) {
          accp[s] += softplus0_pair(hi[s] + l0[s], partner_sign);
          accm[s] += softplus0_pair(hi[s] + l1[s], partner_sign);
        }
      }
    } else {
      for (int64_t t = 0; t < columns; t += 2) {
        const T* DC_RESTRICT l0 = lo + t * Lanes;
        const T* DC_RESTRICT l1 = l0 + Lanes;
        DC_SIMD
        for (int64_t s = 0; s < Lanes; ++s) {
          accp[s] += activate<Act>(hi[s] + l0[s]);
          accm[s] += activate<Act>(hi[s] + l1[s]);
        }
      }
    }
    const T sign = (h & 1) ? T(-1) : T(1);
    for (int64_t s = 0; s < Lanes; ++s) acc[s] += sign * (accp[s] - accm[s]);
  }
}

// One sample of the shallow network, mode="network": sum_j (-1)^j s(a + l s_j.x) times out_coef, the
// pre-activation walked with one add per neuron and recomputed exactly every 256 neurons against
// drift. x_i at x[i * stride]. mode="stable" (exp only): out_coef e^a prod 2 sinh(l x_i).
template <int Act, bool Stable, class T>
DC_PRODUCT_HD T shallow_sample(const T* x, int64_t stride, int64_t n, T lambda, T a, T out_coef) {
  if constexpr (Stable) {
    using std::exp;
    using std::sinh;
    T prod = out_coef * exp(a);
    for (int64_t i = 0; i < n; ++i) prod *= T(2) * sinh(lambda * x[i * stride]);
    return prod;
  } else {
    const int64_t neurons = int64_t(1) << n;
    T acc = T(0), z = T(0);
    for (int64_t j = 0; j < neurons; ++j) {
      const int64_t g = gray_code(j);
      if ((j & 255) == 0) {
        z = a;
        for (int64_t i = 0; i < n; ++i) z += (((g >> i) & 1) ? -lambda : lambda) * x[i * stride];
      } else {
        const int bit = gray_flip(j);
        z += (((g >> bit) & 1) ? T(-2) * lambda : T(2) * lambda) * x[bit * stride];
      }
      const T s = activate<Act>(z);
      acc += (j & 1) ? -s : s;
    }
    return out_coef * acc;
  }
}

// Whether a value is NaN or infinite (x - x is NaN exactly then), as the kernels count bad inputs.
template <class T>
DC_HD bool is_nonfinite(T v) {
  return !(v - v == T(0));
}

}  // namespace product

DC_NAMESPACE_END
