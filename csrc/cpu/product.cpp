// CPU driver for product-network forward passes: the one place that picks the SIMD target's kernel.
#include "product.hpp"

namespace deepcheap::cpu {

int64_t product_forward(Driver, const plan::ProductForward<float>& p, int device) {
  Driver::check_device(device);
  return DC_DISPATCH(product_forward_f32)(p);
}

int64_t product_forward(Driver, const plan::ProductForward<double>& p, int device) {
  Driver::check_device(device);
  return DC_DISPATCH(product_forward_f64)(p);
}

void product_activation(Driver, const float* z, int64_t count, int32_t activation, float* out) {
  DC_DISPATCH(product_activation_f32)(z, count, activation, out);
}

void product_activation(Driver, const double* z, int64_t count, int32_t activation, double* out) {
  DC_DISPATCH(product_activation_f64)(z, count, activation, out);
}

}  // namespace deepcheap::cpu
