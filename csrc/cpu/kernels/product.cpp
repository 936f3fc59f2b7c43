// Fused evaluation of product-gate networks (DESIGN.md §1.1). A block of samples goes through every
// layer while it sits in cache (activations of the whole batch are never stored); samples lie in the
// inner, vectorised loop, so one gate or one neuron is a few SIMD instructions for 8-16 samples.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/product/network.hpp"
#include "threads.hpp"

DC_NAMESPACE_BEGIN

namespace {

using product::activate;
using product::stable_carry_numerator;
using product::stable_gate_numerator;

constexpr int64_t kBlock = 64;  // samples per block: n * 64 values stay in L1/L2 for any sane n

// work holds the block transposed: work[i * kBlock + s] is value i of sample s.
// Returns how many inputs are NaN or infinite: the kernel reads every input exactly once, so the C++
// side re-checks finiteness here for free instead of in a separate pass over the batch.
template <class T>
int64_t load_block(const T* DC_RESTRICT x, int64_t n, int64_t count, T* DC_RESTRICT work) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    T* DC_RESTRICT dst = work + i * kBlock;
    for (int64_t s = 0; s < count; ++s) {
      const T v = x[s * n + i];
      bad += product::is_nonfinite(v) ? 1 : 0;
      dst[s] = v;
    }
    for (int64_t s = count; s < kBlock; ++s) dst[s] = T(0);  // padding lanes, never stored
  }
  return bad;
}

// One 4-neuron gate over a block: D = m(U, V), each lane the header's per-sample gate. D may equal U
// (in-place reduction of the tree).
template <int Act, bool Stable, class T>
void gate_block(const T* U, const T* V, T* D, T lambda, T a, T gate_coef) {
  if constexpr (Stable) {
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::gate_stable<Act>(U[s], V[s], lambda, a, gate_coef);
  } else if (Act == product::kSoftplus && a == T(0)) {
    // Softplus at bias 0 (the default). When every pre-activation of the block is small, each neuron
    // is E(±p) ± p/2 with the series E (no exp, no log); otherwise the +p and -p neurons share
    // log1p(exp(-|p|)). The choice is per block so the inner loops stay branch-free.
    T largest = T(0);
#pragma omp simd reduction(max : largest)
    for (int64_t s = 0; s < kBlock; ++s) {
      const T m = product::gate_reach(U[s], V[s], lambda);
      largest = m > largest ? m : largest;
    }
    if (largest <= T(product::kSoftplusSeriesRange)) {
#pragma omp simd
      for (int64_t s = 0; s < kBlock; ++s) D[s] = product::gate_softplus0_series(U[s], V[s], lambda, gate_coef);
      return;
    }
#pragma omp simd
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::gate_softplus0(U[s], V[s], lambda, gate_coef);
  } else {
#pragma omp simd
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::gate_network<Act>(U[s], V[s], lambda, a, gate_coef);
  }
}

// One 2-neuron carry: D ~= X, passing a value through a layer it does not take part in.
template <int Act, bool Stable, class T>
void carry_block(const T* X, T* D, T lambda, T a, T carry_coef) {
  if constexpr (Stable) {
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::carry_stable<Act>(X[s], lambda, a, carry_coef);
  } else if (Act == product::kSoftplus && a == T(0)) {
    T largest = T(0);
#pragma omp simd reduction(max : largest)
    for (int64_t s = 0; s < kBlock; ++s) {
      const T m = product::carry_reach(X[s], lambda);
      largest = m > largest ? m : largest;
    }
    if (largest <= T(product::kSoftplusSeriesRange)) {
#pragma omp simd
      for (int64_t s = 0; s < kBlock; ++s) D[s] = product::carry_softplus0_series(X[s], lambda, carry_coef);
      return;
    }
#pragma omp simd
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::carry_softplus0(X[s], lambda, carry_coef);
  } else {
#pragma omp simd
    for (int64_t s = 0; s < kBlock; ++s) D[s] = product::carry_network<Act>(X[s], lambda, a, carry_coef);
  }
}

template <int Act, bool Stable, class T>
int64_t deep_run(const T* x, int64_t batch, int64_t n, T lambda, T a, T gate_coef, T carry_coef,
                 int32_t extra_layers, T* out) {
  const int64_t blocks = (batch + kBlock - 1) / kBlock;
  int64_t nonfinite = 0;
  parallel_for_chunks(blocks, 16, cpu::num_threads(), [&](int64_t b0, int64_t b1) {
    int64_t bad = 0;
    T* work = new T[n * kBlock];
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t first = b * kBlock;
      const int64_t count = batch - first < kBlock ? batch - first : kBlock;
      bad += load_block(x + first * n, n, count, work);
      // The header's tree walk, each slot a block of samples.
      product::deep_tree_walk(
          n, extra_layers,
          [&](int64_t d, int64_t s0, int64_t s1) {
            gate_block<Act, Stable>(work + s0 * kBlock, work + s1 * kBlock, work + d * kBlock, lambda, a, gate_coef);
          },
          [&](int64_t d, int64_t src) {
            carry_block<Act, Stable>(work + src * kBlock, work + d * kBlock, lambda, a, carry_coef);
          });
      for (int64_t s = 0; s < count; ++s) out[first + s] = work[s];
    }
    delete[] work;
    __atomic_fetch_add(&nonfinite, bad, __ATOMIC_RELAXED);
  });
  return nonfinite;
}

// Shallow network: neuron j has signs s_i = -1 where bit i of gray(j) is set, output weight (-1)^j.
// j = h * 2^L + l: the low L sign bits come from a per-block table lo[t] = lambda * sum_{i<L} s_i x_i
// (t = l, or 2^L - 1 - l for odd h, which is what reflects the Gray code), the high ones from hi,
// walked in Gray order with one add per step (recomputed exactly every 256 steps against drift).
template <int Act, class T>
void shallow_block(const T* work_x, int64_t n, T lambda, T a, T* lo, T* hi, T* acc, T* DC_RESTRICT accp,
                   T* DC_RESTRICT accm) {
  const int64_t L = n < 6 ? n : 6;
  const int64_t H = n - L;
  const int64_t table = int64_t(1) << L;
  // lo table by its own Gray walk from the all-plus vector.
  for (int64_t s = 0; s < kBlock; ++s) lo[s] = T(0);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t s = 0; s < kBlock; ++s) lo[s] += lambda * work_x[i * kBlock + s];
  for (int64_t t = 1; t < table; ++t) {
    const int bit = product::gray_flip(t);
    const bool now_minus = (product::gray_code(t) >> bit) & 1;
    const T step = now_minus ? T(-2) * lambda : T(2) * lambda;
    for (int64_t s = 0; s < kBlock; ++s)
      lo[t * kBlock + s] = lo[(t - 1) * kBlock + s] + step * work_x[bit * kBlock + s];
  }
  for (int64_t s = 0; s < kBlock; ++s) acc[s] = T(0);
  // Softplus at bias 0 with n >= 2: the neuron of -s has pre-activation -z and shares
  // log1p(exp(-|z|)) with the neuron of s, so walk only the sign vectors with s_{n-1} = +1 (the first
  // half of the Gray code) and add each complement, with output sign (-1)^n relative to its partner.
  const bool paired = Act == product::kSoftplus && a == T(0) && n >= 2;
  const T partner_sign = (n & 1) ? T(-1) : T(1);
  const int64_t rows = (int64_t(1) << H) >> (paired && H >= 1 ? 1 : 0);
  const int64_t columns = table >> (paired && H == 0 ? 1 : 0);
  for (int64_t h = 0; h < rows; ++h) {
    const int64_t gh = product::gray_code(h);
    if ((h & 255) == 0) {
      for (int64_t s = 0; s < kBlock; ++s) hi[s] = a;
      for (int64_t i = 0; i < H; ++i) {
        const T w = ((gh >> i) & 1) ? -lambda : lambda;
        for (int64_t s = 0; s < kBlock; ++s) hi[s] += w * work_x[(L + i) * kBlock + s];
      }
    } else {
      const int bit = product::gray_flip(h);
      const T step = ((gh >> bit) & 1) ? T(-2) * lambda : T(2) * lambda;
      for (int64_t s = 0; s < kBlock; ++s) hi[s] += step * work_x[(L + bit) * kBlock + s];
    }
    for (int64_t s = 0; s < kBlock; ++s) {
      accp[s] = T(0);
      accm[s] = T(0);
    }
    // Even t carry sign +, odd t sign - (for even h); columns is even (L >= 1, or L >= 2 if paired).
    if (paired) {
      for (int64_t t = 0; t < columns; t += 2) {
        const T* DC_RESTRICT l0 = lo + t * kBlock;
        const T* DC_RESTRICT l1 = l0 + kBlock;
#pragma omp simd
        for (int64_t s = 0; s < kBlock; ++s) {
          const T z0 = hi[s] + l0[s];
          const T z1 = hi[s] + l1[s];
          accp[s] += product::softplus0_pair(z0, partner_sign);
          accm[s] += product::softplus0_pair(z1, partner_sign);
        }
      }
    } else {
      for (int64_t t = 0; t < columns; t += 2) {
        const T* DC_RESTRICT l0 = lo + t * kBlock;
        const T* DC_RESTRICT l1 = l0 + kBlock;
#pragma omp simd
        for (int64_t s = 0; s < kBlock; ++s) {
          accp[s] += activate<Act>(hi[s] + l0[s]);
          accm[s] += activate<Act>(hi[s] + l1[s]);
        }
      }
    }
    const T sign = (h & 1) ? T(-1) : T(1);
    for (int64_t s = 0; s < kBlock; ++s) acc[s] += sign * (accp[s] - accm[s]);
  }
}

template <int Act, bool Stable, class T>
int64_t shallow_run(const T* x, int64_t batch, int64_t n, T lambda, T a, T out_coef, T* out) {
  const int64_t blocks = (batch + kBlock - 1) / kBlock;
  const int64_t L = n < 6 ? n : 6;
  int64_t nonfinite = 0;
  parallel_for_chunks(blocks, 1, cpu::num_threads(), [&](int64_t b0, int64_t b1) {
    int64_t bad = 0;
    T* work = new T[(n + (int64_t(1) << L) + 4) * kBlock];
    T* lo = work + n * kBlock;
    T* hi = lo + (int64_t(1) << L) * kBlock;
    T* acc = hi + kBlock;
    T* accp = acc + kBlock;
    T* accm = accp + kBlock;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t first = b * kBlock;
      const int64_t count = batch - first < kBlock ? batch - first : kBlock;
      bad += load_block(x + first * n, n, count, work);
      if constexpr (Stable) {
        // exp: sum_s prod(s) e^{a + l s.x} = e^a prod_i 2 sinh(l x_i). Other activations have no
        // such form; the binding refuses them, and NaN marks the impossible path.
        for (int64_t s = 0; s < count; ++s)
          out[first + s] = Act == product::kExp ? product::shallow_sample<product::kExp, true>(work + s, kBlock, n, lambda, a, out_coef)
                                                : T(NAN);
      } else {
        // L >= 1 (n >= 1), so the table has an even number of rows.
        shallow_block<Act>(work, n, lambda, a, lo, hi, acc, accp, accm);
        for (int64_t s = 0; s < count; ++s) out[first + s] = out_coef * acc[s];
      }
    }
    delete[] work;
    __atomic_fetch_add(&nonfinite, bad, __ATOMIC_RELAXED);
  });
  return nonfinite;
}

template <class T, template <int, bool> class Runner, class... Args>
int64_t dispatch_activation(int32_t activation, bool stable, Args... args) {
  switch (activation) {
    case product::kSoftplus:
      return stable ? Runner<product::kSoftplus, true>::run(args...) : Runner<product::kSoftplus, false>::run(args...);
    case product::kExp:
      return stable ? Runner<product::kExp, true>::run(args...) : Runner<product::kExp, false>::run(args...);
    case product::kLogistic:
      return stable ? Runner<product::kLogistic, true>::run(args...) : Runner<product::kLogistic, false>::run(args...);
    case product::kTanh:
      return stable ? Runner<product::kTanh, true>::run(args...) : Runner<product::kTanh, false>::run(args...);
    default:
      return Runner<product::kGelu, false>::run(args...);  // GELU has no stable form (checked by the caller)
  }
}

template <int Act, bool Stable>
struct DeepRunner {
  template <class T>
  static int64_t run(const T* x, int64_t batch, int64_t n, T lambda, T a, T gate_coef, T carry_coef,
                     int32_t extra_layers, T* out) {
    return deep_run<Act, Stable, T>(x, batch, n, lambda, a, gate_coef, carry_coef, extra_layers, out);
  }
};

template <int Act, bool Stable>
struct ShallowRunner {
  template <class T>
  static int64_t run(const T* x, int64_t batch, int64_t n, T lambda, T a, T out_coef, T* out) {
    return shallow_run<Act, Stable, T>(x, batch, n, lambda, a, out_coef, out);
  }
};

template <class T>
void activation_run(const T* z, int64_t count, int32_t activation, T* out) {
  parallel_for_chunks(count, 4096, cpu::num_threads(), [&](int64_t begin, int64_t end) {
    switch (activation) {
      case product::kSoftplus:
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] = activate<product::kSoftplus>(z[i]);
        break;
      case product::kExp:
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] = activate<product::kExp>(z[i]);
        break;
      case product::kLogistic:
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] = activate<product::kLogistic>(z[i]);
        break;
      case product::kTanh:
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] = activate<product::kTanh>(z[i]);
        break;
      default:
        for (int64_t i = begin; i < end; ++i) out[i] = activate<product::kGelu>(z[i]);
    }
  });
}

}  // namespace

// The activations alone, exactly as the network kernels apply them: lets the tests check the
// vectorised exp/log1p of every SIMD target against numpy, element by element.
void product_activation_f32(const float* z, int64_t count, int32_t activation, float* out) {
  activation_run(z, count, activation, out);
}
void product_activation_f64(const double* z, int64_t count, int32_t activation, double* out) {
  activation_run(z, count, activation, out);
}

int64_t product_deep_f32(const float* x, int64_t batch, int64_t n, int32_t activation, int32_t stable,
                      float lambda, float bias, float gate_coef, float carry_coef, int32_t extra_layers,
                      float* out) {
  return dispatch_activation<float, DeepRunner>(activation, stable != 0, x, batch, n, lambda, bias, gate_coef,
                                         carry_coef, extra_layers, out);
}

int64_t product_deep_f64(const double* x, int64_t batch, int64_t n, int32_t activation, int32_t stable,
                      double lambda, double bias, double gate_coef, double carry_coef,
                      int32_t extra_layers, double* out) {
  return dispatch_activation<double, DeepRunner>(activation, stable != 0, x, batch, n, lambda, bias, gate_coef,
                                          carry_coef, extra_layers, out);
}

int64_t product_shallow_f32(const float* x, int64_t batch, int64_t n, int32_t activation, int32_t stable,
                         float lambda, float bias, float out_coef, float* out) {
  return dispatch_activation<float, ShallowRunner>(activation, stable != 0, x, batch, n, lambda, bias, out_coef,
                                            out);
}

int64_t product_shallow_f64(const double* x, int64_t batch, int64_t n, int32_t activation, int32_t stable,
                         double lambda, double bias, double out_coef, double* out) {
  return dispatch_activation<double, ShallowRunner>(activation, stable != 0, x, batch, n, lambda, bias,
                                             out_coef, out);
}

DC_NAMESPACE_END
