// Portability macros shared by every kernel header: DC_HD marks per-item math that must compile for
// the CPU and, under nvcc, for the GPU. DC_NAMESPACE_BEGIN gives each SIMD target its own inline
// namespace, so inline functions compiled with AVX-512 flags never replace the scalar copies at link time.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#  define DC_HD __host__ __device__ __forceinline__
#  define DC_DEVICE_CODE 1
#else
#  define DC_HD inline
#endif

#define DC_CONCAT_(a, b) a##b
#define DC_CONCAT(a, b) DC_CONCAT_(a, b)

// Kernel translation units are compiled once per target with -DDC_TARGET=<scalar|avx2|avx512>.
// Everything declared between DC_NAMESPACE_BEGIN/END gets the target in its mangled name
// (deepcheap::target_avx2::...), which is what keeps the one-definition rule safe across targets.
#if defined(DC_TARGET)
#  define DC_TARGET_NAMESPACE DC_CONCAT(target_, DC_TARGET)
#else
#  define DC_TARGET_NAMESPACE target_generic
#endif
#define DC_NAMESPACE_BEGIN namespace deepcheap { inline namespace DC_TARGET_NAMESPACE {
#define DC_NAMESPACE_END } }

// A loop over the lanes of a block that GCC should vectorise (OpenMP SIMD, no threads): expands to
// nothing under nvcc and wherever OpenMP is off, so headers stay warning-free in every translation unit.
#if defined(_OPENMP) && !defined(__CUDACC__)
#  define DC_SIMD _Pragma("omp simd")
#else
#  define DC_SIMD
#endif

#if defined(__GNUC__) && !defined(__CUDACC__)
#  define DC_RESTRICT __restrict__
#elif defined(__CUDACC__)
#  define DC_RESTRICT __restrict__
#else
#  define DC_RESTRICT
#endif
