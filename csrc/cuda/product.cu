// CUDA driver for product-network forward passes: one thread per sample over the header's per-sample
// functions (deepcheap/product/network.hpp), the same math the CPU kernels run on 64-sample blocks.
// Deep: the sample's values sit transposed in a work array (value i of sample s at i * rows + s), so
// the threads of a warp touch neighbouring words. Shallow: each thread walks its own Gray code.
// Results match the CPU within the ulp bounds stated in README ("GPU path"); they are not bit-identical
// (the CPU chooses the softplus series per block of 64, the GPU per sample; FMA contraction differs).
#include <cmath>
#include <vector>

#include "deepcheap/product/network.hpp"
#include "product.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

template <int Act, bool Stable, class T>
__global__ void product_deep_kernel(const T* x, int64_t rows, int64_t n, T lambda, T a, T gate_coef, T carry_coef,
                                    int32_t extra_layers, T* work, T* out) {
  DC_GRID_STRIDE(s, rows) {
    for (int64_t i = 0; i < n; ++i) work[i * rows + s] = x[s * n + i];
    out[s] = product::deep_sample<Act, Stable>(work + s, rows, n, lambda, a, gate_coef, carry_coef, extra_layers);
  }
}

template <int Act, bool Stable, class T>
__global__ void product_shallow_kernel(const T* x, int64_t rows, int64_t n, T lambda, T a, T out_coef, T* out) {
  DC_GRID_STRIDE(s, rows) { out[s] = product::shallow_sample<Act, Stable>(x + s * n, 1, n, lambda, a, out_coef); }
}

// Non-finite inputs counted on the device (for resident inputs, which the host cannot scan): a fixed
// grid of kNonfiniteThreads threads strides over the values, each writes its own count (no atomics),
// and the host adds the counts up.
constexpr unsigned kNonfiniteBlocks = 64;
constexpr int64_t kNonfiniteThreads = int64_t(kNonfiniteBlocks) * kBlockThreads;

template <class T>
__global__ void nonfinite_count_kernel(const T* x, int64_t total, int64_t* counts) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t c = 0;
  DC_GRID_STRIDE(i, total) { c += product::is_nonfinite(x[i]) ? 1 : 0; }
  counts[t] = c;
}

template <class T>
int64_t count_nonfinite_on_device(const T* x, int64_t total) {
  DeviceBuffer<int64_t> counts(kNonfiniteThreads, "product forward (allocate finiteness counts)");
  launch("nonfinite_count_kernel", nonfinite_count_kernel<T>, dim3(kNonfiniteBlocks), dim3(kBlockThreads), x, total,
         counts.data());
  std::vector<int64_t> host(static_cast<size_t>(kNonfiniteThreads));
  counts.copy_to_host(host.data(), kNonfiniteThreads, "product forward (copy finiteness counts)");
  int64_t sum = 0;
  for (int64_t c : host) sum += c;
  return sum;
}

template <int Act, bool Stable, class T>
void run_chunk(const plan::ProductForward<T>& p, const T* x, int64_t rows, T* work, T* out) {
  const dim3 grid(grid_for(rows)), block(kBlockThreads);
  if (p.kind == plan::ProductKind::deep)
    launch("product_deep_kernel", product_deep_kernel<Act, Stable, T>, grid, block, x, rows, p.n, p.lambda, p.bias,
           p.gate_coef, p.carry_coef, p.extra_layers, work, out);
  else
    launch("product_shallow_kernel", product_shallow_kernel<Act, Stable, T>, grid, block, x, rows, p.n, p.lambda,
           p.bias, p.gate_coef, out);
}

template <class T>
void run_chunk_any(const plan::ProductForward<T>& p, const T* x, int64_t rows, T* work, T* out) {
  // Shallow stable exists for exp only: plan/product.cpp refuses the rest before we get here.
  product::with_gate(p.activation, p.stable, [&](auto act, auto stable) {
    run_chunk<decltype(act)::value, decltype(stable)::value>(p, x, rows, work, out);
  });
}

template <class T>
int64_t forward(const plan::ProductForward<T>& p, int device, bool resident) {
  check_device(device);
  if (p.batch == 0) return 0;
  DeviceGuard guard(device);
  // Finiteness first: resident inputs are counted on the device (after waiting for their producer),
  // host inputs on the host as they are about to be copied; no device atomics either way.
  int64_t nonfinite = 0;
  if (resident) {
    check(cudaDeviceSynchronize(), "product forward (wait for the inputs)");
    nonfinite = count_nonfinite_on_device(p.x, p.batch * p.n);
  } else {
    for (int64_t i = 0; i < p.batch * p.n; ++i) nonfinite += product::is_nonfinite(p.x[i]) ? 1 : 0;
  }
  if (nonfinite) return nonfinite;
  // Chunks of at most 2^28 bytes of inputs keep device memory bounded for any batch. Resident x and out
  // are read and written in place; host ones are staged through a chunk-sized device buffer each.
  const int64_t row_bytes = p.n * static_cast<int64_t>(sizeof(T));
  int64_t chunk = (int64_t(1) << 28) / row_bytes;
  if (chunk < 1) chunk = 1;
  if (chunk > p.batch) chunk = p.batch;
  DeviceBuffer<T> work(p.kind == plan::ProductKind::deep ? chunk * p.n : 1, "product forward (allocate work)");
  DeviceBuffer<T> x_stage, out_stage;
  if (!resident) {
    x_stage = DeviceBuffer<T>(chunk * p.n, "product forward (allocate inputs)");
    out_stage = DeviceBuffer<T>(chunk, "product forward (allocate outputs)");
  }
  for (int64_t first = 0; first < p.batch; first += chunk) {
    const int64_t rows = p.batch - first < chunk ? p.batch - first : chunk;
    const T* x = resident ? p.x + first * p.n : x_stage.data();
    T* out = resident ? p.out + first : out_stage.data();
    if (!resident)
      check(cudaMemcpy(x_stage.data(), p.x + first * p.n, static_cast<size_t>(rows * row_bytes),
                       cudaMemcpyHostToDevice),
            "product forward (copy inputs)");
    run_chunk_any(p, x, rows, work.data(), out);
    if (!resident) out_stage.copy_to_host(p.out + first, rows, "product forward (copy outputs)");
    // Between chunks, a pending Ctrl-C stops the call (deepcheap/common/interrupt.hpp): out holds the
    // rows of every completed chunk, the others are untouched.
    if (first + chunk < p.batch) interrupt::poll();
  }
  return 0;
}

}  // namespace

int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device, bool resident) {
  return forward(p, device, resident);
}
int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device, bool resident) {
  return forward(p, device, resident);
}

}  // namespace deepcheap::cuda
