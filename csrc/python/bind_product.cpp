// Bindings for product-gate networks: the fused deep (binary tree) and shallow (Gray-code) kernels.
// The Python layer (python/deepcheap_native/product.py) builds the networks and computes their
// coefficients; here every invariant is checked again before the GIL is released.
#include "pybind.hpp"
#include "product.hpp"

#include <cmath>
#include <type_traits>

using deepcheap::python::require;
using deepcheap::python::shape_string;

namespace {

constexpr int64_t kMaxDeepInputs = 65536;
constexpr int64_t kMaxShallowInputs = 30;  // the Python API stops at 20 (memory of the weights)

void check_parameters(int32_t activation, bool stable, double scale, double bias) {
  require(activation >= 0 && activation <= 4,
          "activation code must be 0..4 (softplus, exp, logistic, tanh, gelu), got " +
              std::to_string(activation));
  require(!(stable && activation == 4), "mode='stable' has no cancellation-free form for gelu");
  require(std::isfinite(scale) && scale > 0, "scale must be finite and > 0, got " + std::to_string(scale));
  require(std::isfinite(bias), "bias must be finite, got " + std::to_string(bias));
}

void check_coefficient(double c, const char* name) {
  require(std::isfinite(c) && c != 0.0, std::string(name) + " must be finite and non-zero, got " +
                                            std::to_string(c));
}

// The one place where the dtype is chosen: float32 stays float32, everything else must be float64.
template <class T>
py::array_t<T> prepare_out(const py::array_t<T, py::array::c_style>& x, py::object out) {
  const py::ssize_t batch = x.shape(0);
  if (out.is_none()) return py::array_t<T>(batch);
  auto o = py::cast<py::array>(out);
  require(o.dtype().is(py::dtype::of<T>()), "out has dtype " + std::string(py::str(o.dtype())) +
                                                " but expected " + std::string(py::str(py::dtype::of<T>())));
  require(o.ndim() == 1 && o.shape(0) == batch,
          "out has shape " + shape_string(o) + " but expected (" + std::to_string(batch) + ",)");
  require(o.flags() & py::array::c_style, "out must be C-contiguous");
  require(o.writeable(), "out must be writeable");
  return py::cast<py::array_t<T>>(o);
}

void check_input(const py::array& x, int64_t max_n) {
  require(x.ndim() == 2, "x has shape " + shape_string(x) + " but expected (batch, n)");
  require(x.shape(1) >= 1 && x.shape(1) <= max_n,
          "x has " + std::to_string(x.shape(1)) + " columns but expected 1.." + std::to_string(max_n));
  require(x.dtype().is(py::dtype::of<float>()) || x.dtype().is(py::dtype::of<double>()),
          "x has dtype " + std::string(py::str(x.dtype())) + " but expected float32 or float64");
  require(x.flags() & py::array::c_style, "x must be C-contiguous");
}

void check_finite_count(int64_t nonfinite) {
  require(nonfinite == 0, "x must be finite, but " + std::to_string(nonfinite) +
                              " of its values are NaN or infinite");
}

template <class T>
py::array deep_typed(py::array x_any, int32_t activation, bool stable, double scale, double bias,
                     double gate_coef, double carry_coef, int32_t extra_layers, py::object out) {
  auto x = py::cast<py::array_t<T, py::array::c_style>>(x_any);
  auto result = prepare_out<T>(x, out);
  const T* xp = x.data();
  T* op = result.mutable_data();
  const int64_t batch = x.shape(0), n = x.shape(1);
  int64_t nonfinite = 0;
  {
    // Safe: the kernel reads x and writes result, both kept alive by this frame; no Python objects.
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, float>)
      nonfinite = DC_DISPATCH(product_deep_f32)(xp, batch, n, activation, stable, float(scale),
                                                float(bias), float(gate_coef), float(carry_coef),
                                                extra_layers, op);
    else
      nonfinite = DC_DISPATCH(product_deep_f64)(xp, batch, n, activation, stable, scale, bias,
                                                gate_coef, carry_coef, extra_layers, op);
  }
  check_finite_count(nonfinite);
  return result;
}

template <class T>
py::array shallow_typed(py::array x_any, int32_t activation, bool stable, double scale, double bias,
                        double out_coef, py::object out) {
  auto x = py::cast<py::array_t<T, py::array::c_style>>(x_any);
  auto result = prepare_out<T>(x, out);
  const T* xp = x.data();
  T* op = result.mutable_data();
  const int64_t batch = x.shape(0), n = x.shape(1);
  int64_t nonfinite = 0;
  {
    // Safe: the kernel reads x and writes result, both kept alive by this frame; no Python objects.
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, float>)
      nonfinite = DC_DISPATCH(product_shallow_f32)(xp, batch, n, activation, stable, float(scale),
                                                   float(bias), float(out_coef), op);
    else
      nonfinite = DC_DISPATCH(product_shallow_f64)(xp, batch, n, activation, stable, scale, bias,
                                                   out_coef, op);
  }
  check_finite_count(nonfinite);
  return result;
}

}  // namespace

template <class T>
py::array activation_typed(py::array z_any, int32_t activation) {
  auto z = py::cast<py::array_t<T, py::array::c_style>>(z_any);
  py::array_t<T> result(z.request().shape);
  const T* zp = z.data();
  T* op = result.mutable_data();
  const int64_t count = z.size();
  {
    // Safe: reads z and writes result, both kept alive by this frame; no Python objects touched.
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, float>)
      DC_DISPATCH(product_activation_f32)(zp, count, activation, op);
    else
      DC_DISPATCH(product_activation_f64)(zp, count, activation, op);
  }
  return result;
}

void bind_product(py::module_& m) {
  m.def(
      "product_activation",
      [](py::array z, int32_t activation) -> py::array {
        require(activation >= 0 && activation <= 4,
                "activation code must be 0..4 (softplus, exp, logistic, tanh, gelu), got " +
                    std::to_string(activation));
        require(z.dtype().is(py::dtype::of<float>()) || z.dtype().is(py::dtype::of<double>()),
                "z has dtype " + std::string(py::str(z.dtype())) + " but expected float32 or float64");
        if (z.dtype().is(py::dtype::of<float>())) return activation_typed<float>(z, activation);
        return activation_typed<double>(z, activation);
      },
      py::arg("z"), py::arg("activation"),
      "The activation exactly as the network kernels apply it (any shape; NaN and inf allowed).");
  m.def(
      "product_deep",
      [](py::array x, int32_t activation, bool stable, double scale, double bias, double gate_coef,
         double carry_coef, int32_t extra_layers, py::object out) -> py::array {
        check_input(x, kMaxDeepInputs);
        check_parameters(activation, stable, scale, bias);
        check_coefficient(gate_coef, "gate_coef");
        check_coefficient(carry_coef, "carry_coef");
        require(extra_layers >= 0 && extra_layers <= 64,
                "extra_layers must be 0..64, got " + std::to_string(extra_layers));
        if (x.dtype().is(py::dtype::of<float>()))
          return deep_typed<float>(x, activation, stable, scale, bias, gate_coef, carry_coef,
                                   extra_layers, out);
        return deep_typed<double>(x, activation, stable, scale, bias, gate_coef, carry_coef,
                                  extra_layers, out);
      },
      py::arg("x"), py::arg("activation"), py::arg("stable"), py::arg("scale"), py::arg("bias"),
      py::arg("gate_coef"), py::arg("carry_coef"), py::arg("extra_layers"), py::arg("out") = py::none(),
      "Deep product network over the columns of x (binary tree of 4-neuron gates, carries for odd "
      "levels, then extra_layers carries); returns (batch,).");
  m.def(
      "product_shallow",
      [](py::array x, int32_t activation, bool stable, double scale, double bias, double out_coef,
         py::object out) -> py::array {
        check_input(x, kMaxShallowInputs);
        check_parameters(activation, stable, scale, bias);
        require(!(stable && activation != 1),
                "mode='stable' for the shallow network exists only for exp (the sign sum factorises "
                "into prod 2 sinh(scale x_i))");
        check_coefficient(out_coef, "out_coef");
        if (x.dtype().is(py::dtype::of<float>()))
          return shallow_typed<float>(x, activation, stable, scale, bias, out_coef, out);
        return shallow_typed<double>(x, activation, stable, scale, bias, out_coef, out);
      },
      py::arg("x"), py::arg("activation"), py::arg("stable"), py::arg("scale"), py::arg("bias"),
      py::arg("out_coef"), py::arg("out") = py::none(),
      "Shallow product network (2^n neurons, walked in Gray-code order) over the columns of x.");
}
