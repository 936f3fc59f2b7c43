// Philox4x32-10 on the GPU: one thread per counter, the same header function as the CPU kernel, so
// the words are bit-identical (tests/test_cuda.py on a GPU, tests/test_cuda_emulated.py everywhere).
#include "deepcheap/common/philox.hpp"
#include "random.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

__global__ void philox4x32_kernel(const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t n) {
  DC_GRID_STRIDE(i, n) { philox4x32_item(counter, key, out, i); }
}

}  // namespace

void philox4x32(Driver, const uint32_t* counter, const uint32_t* key, uint32_t* out, int64_t n, int device,
                bool resident) {
  check_device(device);
  if (n <= 0) return;
  DeviceGuard guard(device);
  if (resident) {
    check(cudaDeviceSynchronize(), "philox4x32 (wait for the inputs)");
    launch("philox4x32_kernel", philox4x32_kernel, dim3(grid_for(n)), dim3(kBlockThreads), counter, key, out, n);
    return;
  }
  DeviceBuffer<uint32_t> c(counter, 4 * n, "philox4x32 (copy counters)");
  DeviceBuffer<uint32_t> k(key, 2 * n, "philox4x32 (copy keys)");
  DeviceBuffer<uint32_t> o(4 * n, "philox4x32 (allocate output)");
  launch("philox4x32_kernel", philox4x32_kernel, dim3(grid_for(n)), dim3(kBlockThreads), c.data(), k.data(),
         o.data(), n);
  o.copy_to_host(out, 4 * n, "philox4x32 (copy result)");
}

}  // namespace deepcheap::cuda
