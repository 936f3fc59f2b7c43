// Device memory held by Python objects, and the waits of the zero-copy path (see memory.hpp).
#include "memory.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {

DeviceMemory::DeviceMemory(int64_t bytes, int device, const char* what) : bytes_(bytes), device_(device) {
  if (bytes < 0) throw std::invalid_argument(std::string(what) + ": negative size " + std::to_string(bytes));
  check_device(device);
  DeviceGuard guard(device);
  check(cudaMalloc(&data_, static_cast<size_t>(bytes > 0 ? bytes : 1)), what);
}

DeviceMemory::~DeviceMemory() {
  if (data_ == nullptr) return;
  int previous = 0;
  if (cudaGetDevice(&previous) == cudaSuccess) {
    cudaSetDevice(device_);
    cudaFree(data_);
    cudaSetDevice(previous);
  }
}

void DeviceMemory::copy_from_host(const void* host, int64_t bytes) {
  if (bytes > bytes_) throw std::invalid_argument("copy of " + std::to_string(bytes) + " bytes into " +
                                                  std::to_string(bytes_) + " bytes of device memory");
  DeviceGuard guard(device_);
  if (bytes > 0) check(cudaMemcpy(data_, host, static_cast<size_t>(bytes), cudaMemcpyHostToDevice), "DeviceArray (copy to device)");
}

void DeviceMemory::copy_to_host(void* host, int64_t bytes) const {
  if (bytes > bytes_) throw std::invalid_argument("copy of " + std::to_string(bytes) + " bytes out of " +
                                                  std::to_string(bytes_) + " bytes of device memory");
  DeviceGuard guard(device_);
  if (bytes > 0) check(cudaMemcpy(host, data_, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost), "DeviceArray (copy to host)");
}

void check_device_address(const void* address, int device, const char* name) {
  check_device(device);
  cudaPointerAttributes a{};
  const cudaError_t e = cudaPointerGetAttributes(&a, address);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw std::invalid_argument(std::string(name) + " is not GPU memory (cudaPointerGetAttributes: " +
                                cudaGetErrorString(e) + ")");
  }
  const std::string where = "cuda:" + std::to_string(device);
  if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged)
    throw std::invalid_argument(std::string(name) + " says it is on " + where +
                                " (__cuda_array_interface__) but its address is host memory");
  if (a.type == cudaMemoryTypeDevice && a.device != device)
    throw std::invalid_argument(std::string(name) + " is memory of cuda:" + std::to_string(a.device) +
                                " but the call runs on " + where);
}

void copy_device(void* dst, const void* src, int64_t bytes, int device) {
  DeviceGuard guard(device);
  check(cudaDeviceSynchronize(), "copy on the device (wait for the source)");
  if (bytes > 0) check(cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToDevice), "copy on the device");
  check(cudaDeviceSynchronize(), "copy on the device (wait for the copy)");
}

}  // namespace deepcheap::cuda
