// Compile check only: every kernel header must stay device-clean (DC_HD functions callable from a
// kernel). CUDA drivers with real launches come in a later issue; this file proves nvcc accepts the math.
#include <cstdint>

#include "deepcheap/common/philox.hpp"

__global__ void deepcheap_smoke_philox(uint32_t* out, uint64_t seed, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    const deepcheap::Philox4x32 r = deepcheap::philox_draw(seed, static_cast<uint64_t>(i), 0, 0);
    out[i] = r.v[0] ^ r.v[1] ^ r.v[2] ^ r.v[3];
  }
}
