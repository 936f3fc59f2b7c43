// Device memory the Python layer can hold (csrc/cuda/memory.cu): the buffer behind
// deepcheap_native.cuda.DeviceArray, and the addresses of arrays that already live on a GPU (torch CUDA
// tensors, CuPy arrays, anything with __cuda_array_interface__). Plain C++ declarations, so the
// bindings compile with the host compiler for both _cuda and _cuda_emulated.
//
// The zero-copy path: a driver entry called with `resident = true` takes device addresses for its
// inputs and outputs and reads and writes them in place (no host copy of the batch either way). Before
// its first launch it waits for the device (cudaDeviceSynchronize), so work another library queued on
// any stream to produce the inputs is finished; after its last launch it has synchronised too, so the
// caller may read the outputs from any stream.
#pragma once

#include <cstdint>

#include "driver.hpp"

namespace deepcheap::cuda {

class DeviceMemory {
 public:
  // `bytes` of device memory on `device` (uninitialised); std::runtime_error naming `what` on failure.
  DeviceMemory(int64_t bytes, int device, const char* what);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  int device() const { return device_; }
  void copy_from_host(const void* host, int64_t bytes);
  void copy_to_host(void* host, int64_t bytes) const;

 private:
  void* data_ = nullptr;
  int64_t bytes_ = 0;
  int device_ = 0;
};

// Throws std::invalid_argument unless `address` is device (or managed) memory of `device`, naming `name`
// and what the memory is instead (host memory, another GPU's): a __cuda_array_interface__ that points
// elsewhere becomes a clear error, not an illegal memory access in a kernel.
void check_device_address(const void* address, int device, const char* name);

// Device-to-device copy of `bytes` on `device`, complete when it returns: it waits for the device before
// (the source's producer is done) and after (a device-to-device cudaMemcpy may return before it ends),
// so any stream may read `dst` next.
void copy_device(void* dst, const void* src, int64_t bytes, int device);

}  // namespace deepcheap::cuda
