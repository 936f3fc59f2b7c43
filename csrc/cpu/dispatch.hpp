// Run-time SIMD dispatch. Each file in csrc/cpu/kernels is compiled three times (scalar, AVX2,
// AVX-512) into deepcheap::target_<name>; DC_DISPATCH(fn) picks the copy for the active target, which
// is the best one the CPU supports unless DEEPCHEAP_SIMD or set_simd_target() asks for another.
#pragma once

#include <string>
#include <vector>

namespace deepcheap::cpu {

enum class SimdTarget : int { scalar = 0, avx2 = 1, avx512 = 2 };

const char* target_name(SimdTarget t);
bool target_supported(SimdTarget t);
std::vector<SimdTarget> supported_targets();
// The target in use: DEEPCHEAP_SIMD (scalar|avx2|avx512) when set and supported, else the best one.
SimdTarget active_target();
// Force a target by name; throws std::invalid_argument for an unknown or unsupported one.
void set_simd_target(const std::string& name);

}  // namespace deepcheap::cpu

// Declare a kernel's three compiled copies. Use in a driver file, never inside a kernel file (there
// the kernel's own namespace is inline and must be opened by DC_NAMESPACE_BEGIN first).
#define DC_DECLARE_KERNEL(signature)               \
  namespace deepcheap::target_scalar { signature; } \
  namespace deepcheap::target_avx2 { signature; }   \
  namespace deepcheap::target_avx512 { signature; }

#define DC_DISPATCH(fn)                                                                   \
  (::deepcheap::cpu::active_target() == ::deepcheap::cpu::SimdTarget::avx512             \
       ? &::deepcheap::target_avx512::fn                                                  \
       : ::deepcheap::cpu::active_target() == ::deepcheap::cpu::SimdTarget::avx2          \
             ? &::deepcheap::target_avx2::fn                                              \
             : &::deepcheap::target_scalar::fn)
