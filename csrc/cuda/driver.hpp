// The CUDA driver tag and what the runtime sees. Plain C++ with no CUDA types: the bindings
// (csrc/python/bind_cuda.cpp, host compiler) include the csrc/cuda/<area>.hpp headers for both
// deepcheap_native._cuda (real GPU) and _cuda_emulated (the same .cu sources compiled as C++).
// Every entry takes host arrays, copies them to `device`, runs, and copies the result back; CUDA
// errors are std::runtime_error naming the kernel, bad arguments std::invalid_argument.
#pragma once

#include <string>

namespace deepcheap::cuda {

struct Driver {
  static constexpr const char* name = "cuda";
};

// Devices the runtime sees (0 when none) and, when none, why (driver missing or too old, no device).
struct RuntimeStatus {
  int device_count = 0;
  std::string problem;
};
RuntimeStatus runtime_status();
// True in _cuda_emulated (kernels run as loops on the CPU), false in _cuda.
bool is_emulated();
// Throws std::invalid_argument unless 0 <= device < device count (std::runtime_error when none).
void check_device(int device);

}  // namespace deepcheap::cuda
