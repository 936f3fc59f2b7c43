// exp written once for every device: the same sequence of correctly rounded IEEE-754 operations on the
// CPU and the GPU, so a sampler whose acceptance test needs exp (the Boltzmann heat bath, whose local
// fields are arbitrary doubles) gives the same bits everywhere. The platform exp cannot promise that:
// glibc's and CUDA's differ in the last place for some arguments (CUDA documents a 1 ulp bound, glibc
// its own), and nvcc fuses a * b + c into an FMA unless told not to.
//
// Method: x = k ln2 + r with k = rint(x / ln2) and |r| <= ln2 / 2 (Cody–Waite: ln2 split in a high part
// with 21 trailing zero bits, so k * ln2_hi is exact for |k| < 2^21, and a low part), e^r by its Taylor
// series to degree 13 in Horner form (truncation below 5e-18 relative), then scaled by 2^k with ldexp.
// Accuracy: within 2 ulp of the exact value for x in [-745, 709.78] (tested against numpy's exp), 0
// below, +inf above, NaN for NaN.
//
// No contraction: on the device every product and sum goes through __dmul_rn / __dadd_rn, which nvcc
// never fuses; on the CPU the translation units that call this are either compiled for a target without
// FMA instructions (scalar, the plans, the emulated CUDA drivers) or with -ffp-contract=off (the
// AVX2/AVX-512 Ising kernels, see CMakeLists.txt), so the host evaluates exactly the same operations.
#pragma once

#include <math.h>

#include "deepcheap/common/config.hpp"

DC_NAMESPACE_BEGIN

#if defined(__CUDA_ARCH__)
DC_HD double exact_mul(double a, double b) { return __dmul_rn(a, b); }
DC_HD double exact_add(double a, double b) { return __dadd_rn(a, b); }
#else
DC_HD double exact_mul(double a, double b) { return a * b; }
DC_HD double exact_add(double a, double b) { return a + b; }
#endif

DC_HD double portable_exp(double x) {
  if (x != x) return x;                       // NaN
  if (x > 709.782712893384) return HUGE_VAL;  // beyond the largest double
  if (x < -745.2) return 0.0;                 // below half the smallest subnormal
  constexpr double kInvLn2 = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000: 21 trailing zero bits
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln2 - kLn2Hi
  const double k = rint(exact_mul(x, kInvLn2));
  const double r = exact_add(exact_add(x, -exact_mul(k, kLn2Hi)), -exact_mul(k, kLn2Lo));
  // Taylor coefficients 1/n!, n = 13 ... 0 (Horner from the highest degree).
  constexpr double kCoef[14] = {1.6059043836821613e-10, 2.08767569878681e-09, 2.505210838544172e-08, 2.755731922398589e-07,
                                2.7557319223985893e-06, 2.48015873015873e-05, 0.0001984126984126984, 0.001388888888888889,
                                0.008333333333333333, 0.041666666666666664, 0.16666666666666666, 0.5, 1.0, 1.0};
  double p = kCoef[0];
  for (int n = 1; n < 14; ++n) p = exact_add(exact_mul(p, r), kCoef[n]);
  return ldexp(p, static_cast<int>(k));  // exact, or one rounding into the subnormals (IEEE on both devices)
}

DC_NAMESPACE_END
