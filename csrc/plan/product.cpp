// Validation of product-network forward passes, shared by the _core and _cuda bindings.
#include "plan/product.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "deepcheap/common/require.hpp"

namespace deepcheap::plan {
namespace {

void check_coefficient(double c, const char* name) {
  DC_REQUIRE(std::isfinite(c) && c != 0.0, std::string(name) + " must be finite and non-zero, got " + std::to_string(c));
}

}  // namespace

void check_activation_code(int32_t activation) {
  DC_REQUIRE(activation >= 0 && activation <= 4,
             "activation code must be 0..4 (softplus, exp, logistic, tanh, gelu), got " + std::to_string(activation));
}

void check_product_forward(ProductKind kind, int64_t n, int32_t activation, bool stable, double scale, double bias,
                           double gate_coef, double carry_coef, int32_t extra_layers) {
  const int64_t max_n = kind == ProductKind::deep ? kMaxDeepInputs : kMaxShallowInputs;
  DC_REQUIRE(n >= 1 && n <= max_n, "x has " + std::to_string(n) + " columns but expected 1.." + std::to_string(max_n));
  check_activation_code(activation);
  DC_REQUIRE(!(stable && activation == 4), "mode='stable' has no cancellation-free form for gelu");
  DC_REQUIRE(std::isfinite(scale) && scale > 0, "scale must be finite and > 0, got " + std::to_string(scale));
  DC_REQUIRE(std::isfinite(bias), "bias must be finite, got " + std::to_string(bias));
  if (kind == ProductKind::deep) {
    check_coefficient(gate_coef, "gate_coef");
    check_coefficient(carry_coef, "carry_coef");
    DC_REQUIRE(extra_layers >= 0 && extra_layers <= 64, "extra_layers must be 0..64, got " + std::to_string(extra_layers));
  } else {
    DC_REQUIRE(!(stable && activation != 1),
               "mode='stable' for the shallow network exists only for exp (the sign sum factorises "
               "into prod 2 sinh(scale x_i))");
    check_coefficient(gate_coef, "out_coef");
  }
}

void check_product_nonfinite(int64_t nonfinite) {
  if (nonfinite != 0)
    throw NonFiniteInput("x must be finite, but " + std::to_string(nonfinite) + " of its values are NaN or infinite");
}

}  // namespace deepcheap::plan
