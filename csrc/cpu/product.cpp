// CPU driver for product-network forward passes: the one place that picks the SIMD target's kernel.
#include "product.hpp"

namespace deepcheap::cpu {

int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device) {
  Driver::check_device(device);
  if (p.kind == plan::ProductKind::deep)
    return DC_DISPATCH(product_deep_f32)(p.x, p.batch, p.n, p.activation, p.stable, p.lambda, p.bias, p.gate_coef,
                                         p.carry_coef, p.extra_layers, p.out);
  return DC_DISPATCH(product_shallow_f32)(p.x, p.batch, p.n, p.activation, p.stable, p.lambda, p.bias, p.gate_coef,
                                          p.out);
}

int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device) {
  Driver::check_device(device);
  if (p.kind == plan::ProductKind::deep)
    return DC_DISPATCH(product_deep_f64)(p.x, p.batch, p.n, p.activation, p.stable, p.lambda, p.bias, p.gate_coef,
                                         p.carry_coef, p.extra_layers, p.out);
  return DC_DISPATCH(product_shallow_f64)(p.x, p.batch, p.n, p.activation, p.stable, p.lambda, p.bias, p.gate_coef,
                                          p.out);
}

void product_activation(Driver, const float* z, int64_t count, int32_t activation, float* out) {
  DC_DISPATCH(product_activation_f32)(z, count, activation, out);
}

void product_activation(Driver, const double* z, int64_t count, int32_t activation, double* out) {
  DC_DISPATCH(product_activation_f64)(z, count, activation, out);
}

}  // namespace deepcheap::cpu
