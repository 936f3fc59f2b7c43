// What the CUDA runtime sees. The runtime is linked statically, so this module loads on machines
// without a driver; there cudaGetDeviceCount reports why (no driver, driver too old, no device).
#include "driver.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {

RuntimeStatus runtime_status() {
  RuntimeStatus s;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    // Name the missing part: the driver (absent, or older than this runtime needs) or the device.
    const char* what = e == cudaErrorInsufficientDriver ? "no NVIDIA driver, or one too old for this CUDA runtime"
                       : e == cudaErrorNoDevice         ? "no CUDA device"
                                                        : "the CUDA runtime failed to start";
    s.problem = std::string(what) + " (CUDA runtime " + std::to_string(CUDART_VERSION / 1000) + "." +
                std::to_string(CUDART_VERSION % 1000 / 10) + ": " + cudaGetErrorString(e) + ")";
    return s;
  }
  s.device_count = count;
  if (count == 0) s.problem = "the CUDA driver is loaded but reports no device";
  return s;
}

bool is_emulated() {
#if defined(__CUDACC__)
  return false;
#else
  return true;
#endif
}

void check_device(int device) {
  const RuntimeStatus s = runtime_status();
  if (s.device_count == 0) throw std::runtime_error("no CUDA device: " + s.problem);
  if (device < 0 || device >= s.device_count)
    throw std::invalid_argument("device cuda:" + std::to_string(device) + " requested but " +
                                std::to_string(s.device_count) + " CUDA device(s) found (cuda:0.." +
                                std::to_string(s.device_count - 1) + ")");
}

}  // namespace deepcheap::cuda
