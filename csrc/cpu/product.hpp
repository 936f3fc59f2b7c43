// Declarations of the product-gate network kernels (csrc/cpu/kernels/product.cpp) for the dispatcher,
// and the CPU driver entry that picks the SIMD target (csrc/cpu/product.cpp).
// The kernels take the validated argument record (plan/product.hpp: x (batch, n) row-major, out (batch,))
// and return how many inputs were NaN or infinite.
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "driver.hpp"
#include "plan/product.hpp"

DC_DECLARE_KERNEL(int64_t product_forward_f32(const deepcheap::plan::ProductForward<float>& p))
DC_DECLARE_KERNEL(int64_t product_forward_f64(const deepcheap::plan::ProductForward<double>& p))
DC_DECLARE_KERNEL(void product_activation_f32(const float* z, int64_t count, int32_t activation,
                                              float* out))
DC_DECLARE_KERNEL(void product_activation_f64(const double* z, int64_t count, int32_t activation,
                                              double* out))

namespace deepcheap::cpu {

// Runs a validated forward pass on the active SIMD target; returns the count of non-finite inputs.
int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device);
int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device);
// The activations alone, as the network kernels apply them (tests each target's exp/log1p).
void product_activation(Driver, const float* z, int64_t count, int32_t activation, float* out);
void product_activation(Driver, const double* z, int64_t count, int32_t activation, double* out);

}  // namespace deepcheap::cpu
