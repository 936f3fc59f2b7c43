// CPU feature detection and the process-wide choice of SIMD target (see dispatch.hpp).
#include "dispatch.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace deepcheap::cpu {
namespace {

std::atomic<int> g_target{-1};

// Case-insensitive, so DEEPCHEAP_SIMD and set_simd_target take the same names ("AVX2" as "avx2").
SimdTarget parse_target(const std::string& given) {
  std::string name = given;
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (name == "scalar") return SimdTarget::scalar;
  if (name == "avx2") return SimdTarget::avx2;
  if (name == "avx512") return SimdTarget::avx512;
  throw std::invalid_argument("unknown SIMD target '" + name +
                              "': expected one of 'scalar', 'avx2', 'avx512'");
}

SimdTarget best_target() {
  return target_supported(SimdTarget::avx512) ? SimdTarget::avx512
         : target_supported(SimdTarget::avx2) ? SimdTarget::avx2
                                              : SimdTarget::scalar;
}

}  // namespace

const char* target_name(SimdTarget t) {
  switch (t) {
    case SimdTarget::avx512: return "avx512";
    case SimdTarget::avx2: return "avx2";
    default: return "scalar";
  }
}

bool target_supported(SimdTarget t) {
  // libgcc's __builtin_cpu_supports also checks that the OS saves the AVX/AVX-512 register state.
  switch (t) {
    case SimdTarget::scalar: return true;
    case SimdTarget::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    case SimdTarget::avx512:
      return target_supported(SimdTarget::avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
}

std::vector<SimdTarget> supported_targets() {
  std::vector<SimdTarget> out;
  for (SimdTarget t : {SimdTarget::scalar, SimdTarget::avx2, SimdTarget::avx512})
    if (target_supported(t)) out.push_back(t);
  return out;
}

SimdTarget active_target() {
  int t = g_target.load(std::memory_order_relaxed);
  if (t >= 0) return static_cast<SimdTarget>(t);
  SimdTarget chosen = best_target();
  if (const char* env = std::getenv("DEEPCHEAP_SIMD"); env && *env) {
    // A bad or unsupported value falls back to the best target rather than failing every kernel;
    // deepcheap_native.simd_target() shows what is in use, and the package warns once on import.
    try {
      SimdTarget asked = parse_target(env);
      if (target_supported(asked)) chosen = asked;
    } catch (const std::invalid_argument&) {
    }
  }
  g_target.store(static_cast<int>(chosen), std::memory_order_relaxed);
  return chosen;
}

void set_simd_target(const std::string& name) {
  SimdTarget t = parse_target(name);
  if (!target_supported(t))
    throw std::invalid_argument(std::string("SIMD target '") + name +
                                "' is not supported by this CPU");
  g_target.store(static_cast<int>(t), std::memory_order_relaxed);
}

}  // namespace deepcheap::cpu
