// CUDA driver entry of the product-network forward passes (csrc/cuda/product.cu).
#pragma once

#include <cstdint>

#include "driver.hpp"
#include "plan/product.hpp"

namespace deepcheap::cuda {

int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device);
int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device);

}  // namespace deepcheap::cuda
