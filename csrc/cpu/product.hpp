// Declarations of the product-gate network kernels (csrc/cpu/kernels/product.cpp) for the dispatcher,
// and the CPU driver entry that picks the SIMD target (csrc/cpu/product.cpp).
// x is (batch, n) row-major; out is (batch,). Each returns how many inputs were NaN or infinite. activation uses deepcheap::product::Activation codes.
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "driver.hpp"
#include "plan/product.hpp"

DC_DECLARE_KERNEL(int64_t product_deep_f32(const float* x, int64_t batch, int64_t n, int32_t activation,
                                        int32_t stable, float lambda, float bias, float gate_coef,
                                        float carry_coef, int32_t extra_layers, float* out))
DC_DECLARE_KERNEL(int64_t product_deep_f64(const double* x, int64_t batch, int64_t n, int32_t activation,
                                        int32_t stable, double lambda, double bias, double gate_coef,
                                        double carry_coef, int32_t extra_layers, double* out))
DC_DECLARE_KERNEL(int64_t product_shallow_f32(const float* x, int64_t batch, int64_t n, int32_t activation,
                                           int32_t stable, float lambda, float bias, float out_coef,
                                           float* out))
DC_DECLARE_KERNEL(int64_t product_shallow_f64(const double* x, int64_t batch, int64_t n,
                                           int32_t activation, int32_t stable, double lambda,
                                           double bias, double out_coef, double* out))
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
