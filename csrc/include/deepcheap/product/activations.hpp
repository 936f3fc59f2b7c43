// Per-element math of product-gate networks (DESIGN.md §1.1): the activations as the network applies
// them, and the cancellation-free ("stable") closed forms of the 4-neuron gate and 2-neuron carry.
// Branch-free exp/log1p of our own so that GCC vectorises the fused kernels without fast-math.
#pragma once

#include <cmath>
#include <cstring>
#include <type_traits>

#include "deepcheap/common/config.hpp"

// The per-element math must be inlined into the vectorised loops (a call per element defeats SIMD),
// and GCC's inliner gives up on four softplus per gate: force it on the host.
#if defined(__GNUC__) && !defined(__CUDACC__)
#  define DC_PRODUCT_HD inline __attribute__((always_inline))
#else
#  define DC_PRODUCT_HD DC_HD
#endif

DC_NAMESPACE_BEGIN

namespace product {

// Numbering shared with python/deepcheap_native/product.py (_ACTIVATION_CODES).
enum Activation : int32_t { kSoftplus = 0, kExp = 1, kLogistic = 2, kTanh = 3, kGelu = 4 };

// The one switch from a run-time (activation, stable) pair to kernel template arguments, for every
// driver (CPU and CUDA, product and locality): returns f(std::integral_constant<int, Act>{},
// std::bool_constant<Stable>{}). GELU has no stable form (the plans refuse it before a driver gets here).
// Host code only: drivers call it, kernels never do.
template <class F>
decltype(auto) with_gate(int32_t activation, bool stable, F&& f) {
  using Yes = std::true_type;
  using No = std::false_type;
  switch (activation) {
    case kSoftplus:
      return stable ? f(std::integral_constant<int, kSoftplus>{}, Yes{}) : f(std::integral_constant<int, kSoftplus>{}, No{});
    case kExp:
      return stable ? f(std::integral_constant<int, kExp>{}, Yes{}) : f(std::integral_constant<int, kExp>{}, No{});
    case kLogistic:
      return stable ? f(std::integral_constant<int, kLogistic>{}, Yes{}) : f(std::integral_constant<int, kLogistic>{}, No{});
    case kTanh:
      return stable ? f(std::integral_constant<int, kTanh>{}, Yes{}) : f(std::integral_constant<int, kTanh>{}, No{});
    default:
      return f(std::integral_constant<int, kGelu>{}, No{});
  }
}

DC_PRODUCT_HD uint32_t bits_of(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}
DC_PRODUCT_HD uint64_t bits_of(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}
DC_PRODUCT_HD float float_of(uint32_t b) {
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}
DC_PRODUCT_HD double double_of(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

// a*b + c: one fused instruction where the target has FMA; elsewhere the plain form (a libm fma()
// call per operation would make the scalar build crawl). Every use below is accurate either way.
DC_PRODUCT_HD float madd(float a, float b, float c) {
#if defined(__FMA__) || defined(__CUDACC__)
  return fmaf(a, b, c);
#else
  return a * b + c;
#endif
}
DC_PRODUCT_HD double madd(double a, double b, double c) {
#if defined(__FMA__) || defined(__CUDACC__)
  return fma(a, b, c);
#else
  return a * b + c;
#endif
}

// exp(x), within about 1 ulp. Results below 2^-125 (float) or 2^-1021 (double) flush to zero, overflow
// gives +inf, NaN passes through. The rounding of x*log2(e) to an integer uses the 1.5*2^mantissa
// trick so that no float->int conversion (missing for doubles on AVX2) is needed.
DC_PRODUCT_HD float fast_exp(float x) {
  const float hi = 88.72283f;  // just below ln(FLT_MAX)
  const float lo = -86.5f;     // keeps the scaled exponent field >= 1 (no subnormal results)
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  const float magic = 12582912.0f;  // 1.5 * 2^23
  float kf = xc * 1.44269504088896341f + magic;
  const int32_t k = static_cast<int32_t>(bits_of(kf) - bits_of(magic));
  kf -= magic;
  float r = madd(kf, -0.693145751953125f, xc);  // ln2 split (hi part has 12 trailing zero bits)
  r = madd(kf, -1.428606765330187e-06f, r);
  // Taylor to degree 7 on |r| <= ln2/2: truncation below 5e-9 relative.
  float p = 1.0f / 5040.0f;
  p = madd(p, r, 1.0f / 720.0f);
  p = madd(p, r, 1.0f / 120.0f);
  p = madd(p, r, 1.0f / 24.0f);
  p = madd(p, r, 1.0f / 6.0f);
  p = madd(p, r, 0.5f);
  p = madd(p, r, 1.0f);
  p = madd(p, r, 1.0f);
  float y = float_of(bits_of(p) + (static_cast<uint32_t>(k) << 23));
  y += xc - xc;  // NaN in, NaN out (xc is finite otherwise); a select on x != x stops AVX2 if-conversion
  y = x > hi ? HUGE_VALF : y;
  return x < lo ? 0.0f : y;
}

DC_PRODUCT_HD double fast_exp(double x) {
  const double hi = 709.78;  // just below ln(DBL_MAX)
  const double lo = -708.0;
  const double xc = x < lo ? lo : (x > hi ? hi : x);
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  double kf = xc * 1.4426950408889634074 + magic;
  const int64_t k = static_cast<int64_t>(bits_of(kf) - bits_of(magic));
  kf -= magic;
  double r = madd(kf, -6.93147180369123816490e-01, xc);  // fdlibm's ln2_hi / ln2_lo
  r = madd(kf, -1.90821492927058770002e-10, r);
  // Taylor to degree 13 on |r| <= ln2/2: truncation below 5e-18 relative.
  double p = 1.0 / 6227020800.0;
  p = madd(p, r, 1.0 / 479001600.0);
  p = madd(p, r, 1.0 / 39916800.0);
  p = madd(p, r, 1.0 / 3628800.0);
  p = madd(p, r, 1.0 / 362880.0);
  p = madd(p, r, 1.0 / 40320.0);
  p = madd(p, r, 1.0 / 5040.0);
  p = madd(p, r, 1.0 / 720.0);
  p = madd(p, r, 1.0 / 120.0);
  p = madd(p, r, 1.0 / 24.0);
  p = madd(p, r, 1.0 / 6.0);
  p = madd(p, r, 0.5);
  p = madd(p, r, 1.0);
  p = madd(p, r, 1.0);
  double y = double_of(bits_of(p) + (static_cast<uint64_t>(k) << 52));
  y += xc - xc;
  y = x > hi ? HUGE_VAL : y;
  return x < lo ? 0.0 : y;
}

// log(1 + y) for y in [0, 1] (what softplus needs), within about 2 ulp. double: w = 1 + y is split as 2^k (1 + f)
// with 1 + f in [sqrt(2)/2, sqrt(2)], log(1 + f) by fdlibm's s = f / (2 + f) series, and the rounding
// error of w added back as c / w. c is below half an ulp of w, but for tiny y it is all of the result
// (w rounds to 1), so 1/w comes from one Newton step on 1.5 - w/2: exact at w = 1, within 1.5% on [1, 2].
// float: y * P(y) with P the degree-9 Chebyshev interpolant of log1p(y)/y on [0, 1] (the singularity
// at y = -1 makes it converge like 5.83^-degree): within 1.7 ulp, no division, no range reduction.
DC_PRODUCT_HD float log1p_unit(float y) {
  float p = -0.0031760570101959967f;
  p = madd(p, y, 0.019542527221239614f);
  p = madd(p, y, -0.056373612750104135f);
  p = madd(p, y, 0.1054362378672801f);
  p = madd(p, y, -0.1526966706883121f);
  p = madd(p, y, 0.19663274255110796f);
  p = madd(p, y, -0.24951616262414722f);
  p = madd(p, y, 0.3332971049886465f);
  p = madd(p, y, -0.49999892648060534f);
  p = madd(p, y, 0.9999999946562915f);
  return p * y;
}

DC_PRODUCT_HD double log1p_unit(double y) {
  const double w = 1.0 + y;
  const double c = y - (w - 1.0);
  const bool big = w > 1.4142135623730951;
  const double m = big ? 0.5 * w : w;
  const double kf = big ? 1.0 : 0.0;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  // R = 2 z/3 + 2 z^2/5 + ... ; |s| <= 0.1716 so z <= 0.0295 and 11 terms reach 1e-19.
  double R = 2.0 / 23.0;
  R = madd(R, z, 2.0 / 21.0);
  R = madd(R, z, 2.0 / 19.0);
  R = madd(R, z, 2.0 / 17.0);
  R = madd(R, z, 2.0 / 15.0);
  R = madd(R, z, 2.0 / 13.0);
  R = madd(R, z, 2.0 / 11.0);
  R = madd(R, z, 2.0 / 9.0);
  R = madd(R, z, 2.0 / 7.0);
  R = madd(R, z, 2.0 / 5.0);
  R = madd(R, z, 2.0 / 3.0);
  R *= z;
  const double hfsq = 0.5 * f * f;
  const double r0 = madd(-0.5, w, 1.5);
  const double recip_w = r0 * madd(-w, r0, 2.0);
  return madd(kf, 6.93147180369123816490e-01,
             f - (hfsq - s * (hfsq + R)) + madd(kf, 1.90821492927058770002e-10, c * recip_w));
}

// softplus(z) = max(z, 0) + log1p(exp(-|z|)); the tail is the same for z and -z.
template <class T>
DC_PRODUCT_HD T softplus_tail(T z) {
  const T az = z < T(0) ? -z : z;
  return log1p_unit(fast_exp(-az));
}

// softplus(z) = E(z) + z/2 with E(z) = log(2 cosh(z/2)) even. For |z| <= 0.5 (every neuron of a gate at
// bias 0 with small λ) E is a series in w = z²/4: ln 2 + Σ c_k w^k, c_k those of log cosh; truncation is
// below 1e-19 (double, 11 terms) and 1e-10 (float, 5 terms), so within an ulp like exp + log1p, at a
// third of the cost. Callers use it only when a whole block of pre-activations lies in the range.
constexpr double kSoftplusSeriesRange = 0.5;

DC_PRODUCT_HD double softplus_even_small(double z) {
  const double w = 0.25 * z * z;
  double p = 4.405244525877023e-06;
  p = madd(p, w, -1.1956455712177625e-05);
  p = madd(p, w, 3.277930227475478e-05);
  p = madd(p, w, -9.09896491907074e-05);
  p = madd(p, w, 0.0002565805740408915);
  p = madd(p, w, -0.0007386029608251831);
  p = madd(p, w, 0.0021869488536155205);
  p = madd(p, w, -0.006746031746031746);
  p = madd(p, w, 0.022222222222222223);
  p = madd(p, w, -0.08333333333333333);
  p = madd(p, w, 0.5);
  return madd(p, w, 0.6931471805599453);
}

DC_PRODUCT_HD float softplus_even_small(float z) {
  const float w = 0.25f * z * z;
  float p = 0.0021869488536155205f;
  p = madd(p, w, -0.006746031746031746f);
  p = madd(p, w, 0.022222222222222223f);
  p = madd(p, w, -0.08333333333333333f);
  p = madd(p, w, 0.5f);
  return madd(p, w, 0.6931471805599453f);
}

// The activations exactly as the network applies them (mode="network").
template <int Act, class T>
DC_PRODUCT_HD T activate(T z) {
  if constexpr (Act == kSoftplus) {
    const T pos = z > T(0) ? z : T(0);
    return pos + softplus_tail(z);
  } else if constexpr (Act == kExp) {
    return fast_exp(z);
  } else if constexpr (Act == kLogistic) {
    return T(1) / (T(1) + fast_exp(-z));
  } else if constexpr (Act == kTanh) {
    const T az = z < T(0) ? -z : z;
    const T e = fast_exp(T(-2) * az);
    const T t = (T(1) - e) / (T(1) + e);
    return z < T(0) ? -t : t;
  } else {  // GELU, exact form z * Phi(z)
    return T(0.5) * z * erfc(T(-0.70710678118654752440) * z);
  }
}

// Stable forms. With p = u + v, q = u - v, the gate numerator
//   N = s(a + l p) + s(a - l p) - s(a + l q) - s(a - l q)
// and the carry numerator C = s(a + l x) - s(a - l x) in closed forms with no cancellation
// (derivations in README "Product-gate networks"); the caller multiplies by 1/(4 l^2 s''(a)) or
// 1/(2 l s'(a)). GELU has none (the Python layer refuses it).
template <int Act, class T>
DC_PRODUCT_HD T stable_gate_numerator(T u, T v, T lambda, T a) {
  using std::cosh;
  using std::exp;
  using std::log1p;
  using std::sinh;
  if constexpr (Act == kSoftplus) {
    const T ea = exp(a);
    const T num = T(4) * ea * sinh(lambda * u) * sinh(lambda * v);
    const T den = T(1) + T(2) * ea * cosh(lambda * (u - v)) + ea * ea;
    return log1p(num / den);
  } else if constexpr (Act == kExp) {
    return T(4) * exp(a) * sinh(lambda * u) * sinh(lambda * v);
  } else if constexpr (Act == kLogistic) {
    const T ca = cosh(a);
    return T(-2) * sinh(a) * sinh(lambda * u) * sinh(lambda * v) /
           ((ca + cosh(lambda * (u + v))) * (ca + cosh(lambda * (u - v))));
  } else if constexpr (Act == kTanh) {
    const T c2a = cosh(T(2) * a);
    return T(-4) * sinh(T(2) * a) * sinh(T(2) * lambda * u) * sinh(T(2) * lambda * v) /
           ((c2a + cosh(T(2) * lambda * (u + v))) * (c2a + cosh(T(2) * lambda * (u - v))));
  } else {
    return T(0) * u * v;  // unreachable: refused before the kernel runs
  }
}

template <int Act, class T>
DC_PRODUCT_HD T stable_carry_numerator(T x, T lambda, T a) {
  using std::cosh;
  using std::exp;
  using std::log1p;
  using std::sinh;
  if constexpr (Act == kSoftplus) {
    return log1p(T(2) * exp(a) * sinh(lambda * x) / (T(1) + exp(a - lambda * x)));
  } else if constexpr (Act == kExp) {
    return T(2) * exp(a) * sinh(lambda * x);
  } else if constexpr (Act == kLogistic) {
    return sinh(lambda * x) / (cosh(a) + cosh(lambda * x));
  } else if constexpr (Act == kTanh) {
    return T(2) * sinh(T(2) * lambda * x) / (cosh(T(2) * a) + cosh(T(2) * lambda * x));
  } else {
    return T(0) * x;
  }
}

}  // namespace product

DC_NAMESPACE_END
