// CUDA driver entry of the product-network forward passes (csrc/cuda/product.cu).
#pragma once

#include <cstdint>

#include "driver.hpp"
#include "plan/product.hpp"

namespace deepcheap::cuda {

// resident: p.x and p.out are device addresses on `device` (the zero-copy path, see memory.hpp), and
// non-finite inputs are counted on the device; otherwise host arrays, copied in chunks.
int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device, bool resident = false);
int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device, bool resident = false);

}  // namespace deepcheap::cuda
