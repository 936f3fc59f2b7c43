// CPU emulation of the small part of CUDA that our drivers use, so that the .cu driver sources also
// compile as plain C++ (module deepcheap_native._cuda_emulated, built everywhere and run in CI). A
// launch becomes loops over blocks and threads in launch order, __global__/__device__ expand to
// nothing, and device memory is host memory. Kernels written for it must not use __shared__,
// __syncthreads or atomics (ours are grid-stride loops over independent items), so every index,
// layout and launch geometry is exercised exactly as on the GPU, one thread after the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>

#if defined(__CUDACC__)
#  error "emulate.hpp is for the plain C++ emulation build; nvcc uses the real runtime"
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// The built-in index variables. thread_local: tests may drive the emulated module from several
// Python threads at once, each running its own launch.
inline thread_local dim3 threadIdx{0, 0, 0};
inline thread_local dim3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};

enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
};
#define CUDART_VERSION 0  // the emulation is no runtime version

enum cudaMemcpyKind : int {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    default: return "invalid device ordinal";
  }
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
// One emulated device, number 0.
inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
inline cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
// The emulated device's allocations (address -> bytes), so that cudaPointerGetAttributes can tell device
// memory from host memory as the real runtime does.
struct EmulatedAllocations {
  std::mutex mutex;
  std::map<uintptr_t, size_t> ranges;
};
inline EmulatedAllocations& emulated_allocations() {
  static EmulatedAllocations a;
  return a;
}
inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::malloc(bytes ? bytes : 1);
  if (!*p) return cudaErrorMemoryAllocation;
  EmulatedAllocations& a = emulated_allocations();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.ranges[reinterpret_cast<uintptr_t>(*p)] = bytes ? bytes : 1;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  if (p) {
    EmulatedAllocations& a = emulated_allocations();
    std::lock_guard<std::mutex> lock(a.mutex);
    a.ranges.erase(reinterpret_cast<uintptr_t>(p));
  }
  std::free(p);
  return cudaSuccess;
}
enum cudaMemoryType : int {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
};
struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
};
// Device memory when p lies inside an emulated cudaMalloc allocation, else unregistered host memory.
inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* p) {
  *attributes = cudaPointerAttributes{cudaMemoryTypeUnregistered, -2, nullptr, const_cast<void*>(p)};
  EmulatedAllocations& a = emulated_allocations();
  std::lock_guard<std::mutex> lock(a.mutex);
  const uintptr_t x = reinterpret_cast<uintptr_t>(p);
  auto it = a.ranges.upper_bound(x);
  if (it != a.ranges.begin() && x < std::prev(it)->first + std::prev(it)->second)
    *attributes = cudaPointerAttributes{cudaMemoryTypeDevice, 0, const_cast<void*>(p), nullptr};
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes) std::memset(dst, value, bytes);
  return cudaSuccess;
}

namespace deepcheap::cuda::emulate {

// Runs body() once per (block, thread) of the launch, blocks and threads in x-fastest order.
template <class Body>
void run_grid(dim3 grid, dim3 block, Body&& body) {
  gridDim = grid;
  blockDim = block;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = dim3(bx, by, bz);
        for (unsigned tz = 0; tz < block.z; ++tz)
          for (unsigned ty = 0; ty < block.y; ++ty)
            for (unsigned tx = 0; tx < block.x; ++tx) {
              threadIdx = dim3(tx, ty, tz);
              body();
            }
      }
}

}  // namespace deepcheap::cuda::emulate
