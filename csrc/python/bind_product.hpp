// Bindings of the product-network forward passes, written once for every driver (CPU in
// bind_product.cpp, CUDA in bind_cuda.cpp): convert the arguments, check them (csrc/plan/product.hpp),
// call the driver's product_forward with the GIL released.
#pragma once

#include <type_traits>

#include "python/pybind.hpp"
#include "plan/product.hpp"

namespace deepcheap::python {

// float32 stays float32, everything else must be float64 (the Python layer converts).
inline void check_product_input(const py::array& x) {
  DC_REQUIRE(x.ndim() == 2, "x has shape " + shape_string(x) + " but expected (batch, n)");
  DC_REQUIRE(deepcheap::python::has_dtype<float>(x) || deepcheap::python::has_dtype<double>(x),
             "x has dtype " + std::string(py::str(x.dtype())) + " but expected float32 or float64");
  DC_REQUIRE(x.flags() & py::array::c_style, "x must be C-contiguous");
}

template <class T>
py::array_t<T> prepare_product_out(py::ssize_t batch, py::object out) {
  if (out.is_none()) return py::array_t<T>(batch);
  auto o = py::cast<py::array>(out);
  DC_REQUIRE(deepcheap::python::has_dtype<T>(o),
             "out has dtype " + std::string(py::str(o.dtype())) + " but expected " + std::string(py::str(py::dtype::of<T>())));
  DC_REQUIRE(o.ndim() == 1 && o.shape(0) == batch,
             "out has shape " + shape_string(o) + " but expected (" + std::to_string(batch) + ",)");
  DC_REQUIRE(o.flags() & py::array::c_style, "out must be C-contiguous");
  DC_REQUIRE(o.flags() & aligned_input, "out must be aligned for its dtype");
  DC_REQUIRE(o.writeable(), "out must be writeable");
  return py::cast<py::array_t<T>>(o);
}

template <class Driver, class T>
py::array product_forward_typed(plan::ProductKind kind, py::array x_any, int32_t activation, bool stable,
                                double scale, double bias, double gate_coef, double carry_coef,
                                int32_t extra_layers, py::object out, int device) {
  auto x = py::cast<py::array_t<T, py::array::c_style | aligned_input>>(x_any);
  auto result = prepare_product_out<T>(x.shape(0), out);
  const plan::ProductForward<T> p{kind,     x.data(),    x.shape(0), x.shape(1),         activation, stable,
                                  T(scale), T(bias),     T(gate_coef), T(carry_coef), extra_layers,
                                  result.mutable_data()};
  int64_t nonfinite = 0;
  {
    // Safe: the driver reads x and writes result, both kept alive by this frame; no Python objects.
    py::gil_scoped_release release;
    nonfinite = product_forward(Driver{}, p, device);
  }
  plan::check_product_nonfinite(nonfinite);
  return result;
}

template <class Driver>
py::array product_forward_any(plan::ProductKind kind, py::array x, int32_t activation, bool stable, double scale,
                              double bias, double gate_coef, double carry_coef, int32_t extra_layers,
                              py::object out, int device) {
  check_product_input(x);
  plan::check_product_forward(kind, x.shape(1), activation, stable, scale, bias, gate_coef, carry_coef,
                              extra_layers);
  if (deepcheap::python::has_dtype<float>(x))
    return product_forward_typed<Driver, float>(kind, x, activation, stable, scale, bias, gate_coef, carry_coef,
                                                extra_layers, out, device);
  return product_forward_typed<Driver, double>(kind, x, activation, stable, scale, bias, gate_coef, carry_coef,
                                               extra_layers, out, device);
}

template <class Driver>
void define_product_forward(py::module_& m) {
  // plan::NonFiniteInput -> <module>.NonFiniteInputError, a ValueError subclass: the one native error
  // about the values of x (python/deepcheap_native/product/network.py locates the first bad one).
  py::register_local_exception<plan::NonFiniteInput>(m, "NonFiniteInputError", PyExc_ValueError);
  m.def(
      "product_deep",
      [](py::array x, int32_t activation, bool stable, double scale, double bias, double gate_coef,
         double carry_coef, int32_t extra_layers, py::object out, int device) {
        return product_forward_any<Driver>(plan::ProductKind::deep, x, activation, stable, scale, bias, gate_coef,
                                           carry_coef, extra_layers, out, device);
      },
      py::arg("x"), py::arg("activation"), py::arg("stable"), py::arg("scale"), py::arg("bias"),
      py::arg("gate_coef"), py::arg("carry_coef"), py::arg("extra_layers"), py::arg("out") = py::none(),
      py::arg("device") = 0,
      "Deep product network over the columns of x (binary tree of 4-neuron gates, carries for odd "
      "levels, then extra_layers carries); returns (batch,).");
  m.def(
      "product_shallow",
      [](py::array x, int32_t activation, bool stable, double scale, double bias, double out_coef, py::object out,
         int device) {
        return product_forward_any<Driver>(plan::ProductKind::shallow, x, activation, stable, scale, bias, out_coef,
                                           1.0, 0, out, device);
      },
      py::arg("x"), py::arg("activation"), py::arg("stable"), py::arg("scale"), py::arg("bias"),
      py::arg("out_coef"), py::arg("out") = py::none(), py::arg("device") = 0,
      "Shallow product network (2^n neurons, walked in Gray-code order) over the columns of x.");
}

}  // namespace deepcheap::python
