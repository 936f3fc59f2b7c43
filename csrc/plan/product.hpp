// Product-gate network forward passes (device-neutral layer): the one argument record that the CPU and
// CUDA drivers take, and the checks both bindings run before it reaches a driver.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace deepcheap::plan {

constexpr int64_t kMaxDeepInputs = 65536;
constexpr int64_t kMaxShallowInputs = 30;  // the Python API stops at 20 (memory of the weights)

enum class ProductKind { deep, shallow };

// x is (batch, n) row-major, out is (batch,). Deep: gate_coef and carry_coef scale the gate and carry
// numerators, extra_layers carries follow the tree. Shallow: gate_coef is the output coefficient.
// Drivers return how many inputs were NaN or infinite (they read every input once anyway).
template <class T>
struct ProductForward {
  ProductKind kind;
  const T* x;
  int64_t batch, n;
  int32_t activation;  // deepcheap::product::Activation
  bool stable;
  T lambda, bias, gate_coef, carry_coef;
  int32_t extra_layers;
  T* out;
};

// Throws std::invalid_argument (expected versus got) for anything a driver must never see.
void check_product_forward(ProductKind kind, int64_t n, int32_t activation, bool stable, double scale, double bias,
                           double gate_coef, double carry_coef, int32_t extra_layers);
void check_activation_code(int32_t activation);
// NaN or infinite values in x: its own type (bound as <module>.NonFiniteInputError, a ValueError), so the
// Python layer can tell it from every other invalid argument and name the first bad value of x.
struct NonFiniteInput : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// After a driver ran: NaN or infinite inputs are a NonFiniteInput (the result is discarded).
void check_product_nonfinite(int64_t nonfinite);

}  // namespace deepcheap::plan
