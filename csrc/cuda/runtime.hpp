// The one CUDA runtime layer every driver in csrc/cuda uses: the real runtime under nvcc, the CPU
// emulation (emulate.hpp) in the plain C++ build. Launches go through launch(), which checks the
// launch and synchronises, so a CUDA error becomes std::runtime_error naming the kernel (pybind11
// turns it into RuntimeError), never an abort or a silent wrong answer.
#pragma once

#include "deepcheap/common/interrupt.hpp"  // every driver polls for Ctrl-C between launches
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__CUDACC__)
#  include <cuda_runtime.h>
#else
#  include "emulate.hpp"
#endif

namespace deepcheap::cuda {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a sticky-free error so the next call starts clean
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
  }
}

// Threads per block for the grid-stride kernels, and the grid that covers n items (capped: each
// thread then strides; 4 waves of 132 SMs x 16 blocks is plenty for an H100/H200).
constexpr unsigned kBlockThreads = 256;
inline unsigned grid_for(int64_t n, unsigned threads = kBlockThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  const int64_t cap = 8448;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

// Launch kernel over grid x block, then check the launch and wait for it (results are read next).
template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, Args&&... args) {
#if defined(__CUDACC__)
  kernel<<<grid, block>>>(static_cast<Params>(std::forward<Args>(args))...);
  check(cudaGetLastError(), name);
  check(cudaDeviceSynchronize(), name);
#else
  emulate::run_grid(grid, block, [&] { kernel(static_cast<Params>(args)...); });
  (void)name;
#endif
}

// Selects a device for the lifetime of the guard and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (device != previous_) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// Owning device array of T; copies in and out with checked cudaMemcpy.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(int64_t count, const char* what = "cudaMalloc") : count_(count) {
    void* p = nullptr;
    check(cudaMalloc(&p, static_cast<size_t>(count > 0 ? count : 1) * sizeof(T)), what);
    data_ = static_cast<T*>(p);
  }
  DeviceBuffer(const T* host, int64_t count, const char* what) : DeviceBuffer(count, what) {
    if (count > 0)
      check(cudaMemcpy(data_, host, static_cast<size_t>(count) * sizeof(T), cudaMemcpyHostToDevice), what);
  }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), count_(o.count_) { o.data_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() const { return data_; }
  int64_t size() const { return count_; }
  void copy_to_host(T* host, int64_t count, const char* what) const {
    if (count > 0)
      check(cudaMemcpy(host, data_, static_cast<size_t>(count) * sizeof(T), cudaMemcpyDeviceToHost), what);
  }

 private:
  T* data_ = nullptr;
  int64_t count_ = 0;
};

}  // namespace deepcheap::cuda

// for (i = this thread's first item; i < n; i += all threads): the loop of every kernel here.
#define DC_GRID_STRIDE(i, n)                                                              \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
