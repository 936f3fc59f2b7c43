// Bindings for product-gate networks on the CPU: the forward passes (bind_product.hpp, shared with the
// CUDA modules) and the activations alone (CPU only: they test each SIMD target's exp/log1p).
#include "python/bind_product.hpp"

#include "cpu/product.hpp"


namespace {

template <class T>
py::array activation_typed(py::array z_any, int32_t activation) {
  auto z = py::cast<py::array_t<T, py::array::c_style | deepcheap::python::aligned_input>>(z_any);
  py::array_t<T> result(z.request().shape);
  const T* zp = z.data();
  T* op = result.mutable_data();
  const int64_t count = z.size();
  {
    // Safe: reads z and writes result, both kept alive by this frame; no Python objects touched.
    py::gil_scoped_release release;
    product_activation(deepcheap::cpu::Driver{}, zp, count, activation, op);
  }
  return result;
}

}  // namespace

void bind_product(py::module_& m) {
  m.def(
      "product_activation",
      [](py::array z, int32_t activation) -> py::array {
        deepcheap::plan::check_activation_code(activation);
        DC_REQUIRE(deepcheap::python::has_dtype<float>(z) || deepcheap::python::has_dtype<double>(z),
                   "z has dtype " + std::string(py::str(z.dtype())) + " but expected float32 or float64");
        if (deepcheap::python::has_dtype<float>(z)) return activation_typed<float>(z, activation);
        return activation_typed<double>(z, activation);
      },
      py::arg("z"), py::arg("activation"),
      "The activation exactly as the network kernels apply it (any shape; NaN and inf allowed).");
  deepcheap::python::define_product_forward<deepcheap::cpu::Driver>(m);
}
