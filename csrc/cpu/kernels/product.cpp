// Fused evaluation of product-gate networks (DESIGN.md §1.1). A block of samples goes through every
// layer while it sits in cache (activations of the whole batch are never stored); samples lie in the
// inner, vectorised loop, so one gate or one neuron is a few SIMD instructions for 8-16 samples.
#include "deepcheap/common/parallel.hpp"
#include "deepcheap/product/network.hpp"
#include "plan/product.hpp"
#include "cpu/product_blocks.hpp"
#include "cpu/threads.hpp"

#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
#include <immintrin.h>
#endif

DC_NAMESPACE_BEGIN

namespace {

using product::activate;
using product::stable_carry_numerator;
using product::stable_gate_numerator;

constexpr int64_t kBlock = kGateBlock;  // samples per block: n * 64 values stay in L1/L2 for any sane n

#if defined(DC_TARGET_IS_avx512)
constexpr int64_t kTile = 16;  // a float32 tile of 16 samples x 16 inputs, transposed in zmm registers
// load_block of a full float32 block with n a multiple of 16, by 16 x 16 register transposes (the
// strided element loads of the generic loop took 40 % of a deep n = 16 forward). Same values, same count.
int64_t load_block_tiles(const float* DC_RESTRICT x, int64_t n, float* DC_RESTRICT work) {
  int64_t bad = 0;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t s0 = 0; s0 < kBlock; s0 += kTile) {
    for (int64_t f0 = 0; f0 < n; f0 += kTile) {
      __m512 r[16], t[16], u[16];
      for (int k = 0; k < 16; ++k) {
        r[k] = _mm512_loadu_ps(x + (s0 + k) * n + f0);
        // is_nonfinite(v) is !(v - v == 0)
        bad += 16 - __builtin_popcount(_mm512_cmp_ps_mask(_mm512_sub_ps(r[k], r[k]), zero, _CMP_EQ_OQ));
      }
      for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
      }
      // u[4 i + k], 128-bit lane L: rows 4 i .. 4 i + 3 of input 4 L + k.
      for (int i = 0; i < 4; ++i) {
        u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      // Input 4 L + k of all 16 rows: lane L of u[k], u[4 + k], u[8 + k], u[12 + k].
      for (int k = 0; k < 4; ++k) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x44), v1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xEE);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x44);
        const __m512 v3 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xEE);
        float* dst = work + (f0 + k) * kBlock + s0;
        _mm512_storeu_ps(dst, _mm512_shuffle_f32x4(v0, v2, 0x88));
        _mm512_storeu_ps(dst + 4 * kBlock, _mm512_shuffle_f32x4(v0, v2, 0xDD));
        _mm512_storeu_ps(dst + 8 * kBlock, _mm512_shuffle_f32x4(v1, v3, 0x88));
        _mm512_storeu_ps(dst + 12 * kBlock, _mm512_shuffle_f32x4(v1, v3, 0xDD));
      }
    }
  }
  return bad;
}
#elif defined(DC_TARGET_IS_avx2)
constexpr int64_t kTile = 8;  // a float32 tile of 8 samples x 8 inputs, transposed in ymm registers
int64_t load_block_tiles(const float* DC_RESTRICT x, int64_t n, float* DC_RESTRICT work) {
  int64_t bad = 0;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t s0 = 0; s0 < kBlock; s0 += kTile) {
    for (int64_t f0 = 0; f0 < n; f0 += kTile) {
      __m256 r[8], t[8], u[8];
      for (int k = 0; k < 8; ++k) {
        r[k] = _mm256_loadu_ps(x + (s0 + k) * n + f0);
        bad += 8 - __builtin_popcount(
                       static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_sub_ps(r[k], r[k]), zero, _CMP_EQ_OQ))));
      }
      for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
      }
      for (int i = 0; i < 2; ++i) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      for (int k = 0; k < 4; ++k) {
        float* dst = work + (f0 + k) * kBlock + s0;
        _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u[k], u[4 + k], 0x20));
        _mm256_storeu_ps(dst + 4 * kBlock, _mm256_permute2f128_ps(u[k], u[4 + k], 0x31));
      }
    }
  }
  return bad;
}
#endif

// work holds the block transposed: work[i * kBlock + s] is value i of sample s.
// Returns how many inputs are NaN or infinite: the kernel reads every input exactly once, so the C++
// side re-checks finiteness here for free instead of in a separate pass over the batch.
template <class T>
int64_t load_block(const T* DC_RESTRICT x, int64_t n, int64_t count, T* DC_RESTRICT work) {
#if defined(DC_TARGET_IS_avx512) || defined(DC_TARGET_IS_avx2)
  if constexpr (sizeof(T) == 4) {
    if (count == kBlock && n % kTile == 0) return load_block_tiles(x, n, work);
  }
#endif
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

template <int Act, bool Stable, class T>
int64_t shallow_run(const T* x, int64_t batch, int64_t n, T lambda, T a, T out_coef, T* out) {
  const int64_t blocks = (batch + kBlock - 1) / kBlock;
  const int64_t table = product::shallow_table_size(n);
  int64_t nonfinite = 0;
  parallel_for_chunks(blocks, 1, cpu::num_threads(), [&](int64_t b0, int64_t b1) {
    int64_t bad = 0;
    T* work = new T[(n + table + 4) * kBlock];
    T* lo = work + n * kBlock;
    T* hi = lo + table * kBlock;
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
        // The header's table walk over the whole block (n >= 1, so the table has an even number of rows).
        product::shallow_walk_block<kBlock, Act>(work, n, lambda, a, lo, hi, acc, accp, accm);
        for (int64_t s = 0; s < count; ++s) out[first + s] = out_coef * acc[s];
      }
    }
    delete[] work;
    __atomic_fetch_add(&nonfinite, bad, __ATOMIC_RELAXED);
  });
  return nonfinite;
}

// A validated forward pass (csrc/plan/product.hpp): the activation and mode become template arguments.
template <class T>
int64_t forward_run(const plan::ProductForward<T>& p) {
  return product::with_gate(p.activation, p.stable, [&](auto act, auto stable) {
    constexpr int Act = decltype(act)::value;
    constexpr bool Stable = decltype(stable)::value;
    if (p.kind == plan::ProductKind::deep)
      return deep_run<Act, Stable, T>(p.x, p.batch, p.n, p.lambda, p.bias, p.gate_coef, p.carry_coef,
                                      p.extra_layers, p.out);
    return shallow_run<Act, Stable, T>(p.x, p.batch, p.n, p.lambda, p.bias, p.gate_coef, p.out);
  });
}

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

// One entry per dtype for the dispatcher (csrc/cpu/product.cpp); deep or shallow is chosen here.
int64_t product_forward_f32(const plan::ProductForward<float>& p) { return forward_run(p); }
int64_t product_forward_f64(const plan::ProductForward<double>& p) { return forward_run(p); }

DC_NAMESPACE_END
