// Bindings for the ReLU area in _core: the line and plane walks (bind_relu.hpp, shared with the CUDA
// modules) and the CPU-only batched forward passes and activation-pattern hashes.
// python/deepcheap_native/relu/ validates and explains; shapes, finiteness and the parameter count are re-checked here before the GIL
// is released.
#include "python/bind_relu.hpp"

#include "cpu/relu.hpp"

using deepcheap::python::carray;
using deepcheap::python::shape_string;
namespace cr = deepcheap::cpu::relu;

namespace {

std::vector<int64_t> widths_of(const carray<int64_t>& widths) { return deepcheap::python::relu_widths(widths); }

int64_t check_params(const std::vector<int64_t>& w, const carray<double>& params) {
  return deepcheap::python::relu_check_params(w, params);
}

void check_points(const carray<double>& x, int64_t d, const char* what) {
  DC_REQUIRE(x.ndim() == 2 && x.shape(1) == d,
             std::string(what) + " has shape " + shape_string(x) + " but expected (n, " + std::to_string(d) + ")");
}

}  // namespace

void bind_relu(py::module_& m) {
  m.def(
      "relu_forward",
      [](const carray<int64_t>& widths, const carray<double>& params, const carray<double>& x) {
        const auto w = widths_of(widths);
        const int64_t nets = check_params(w, params);
        check_points(x, w.front(), "x");
        py::array_t<double> out({static_cast<py::ssize_t>(nets), x.shape(0), static_cast<py::ssize_t>(w.back())});
        {
          py::gil_scoped_release release;  // reads the caller's arrays, writes the fresh output
          cr::forward(deepcheap::cpu::Driver{}, w, params.data(), nets, x.data(), x.shape(0), out.mutable_data());
        }
        return out;
      },
      py::arg("widths"), py::arg("params"), py::arg("x"));
  m.def(
      "relu_pattern_hashes",
      [](const carray<int64_t>& widths, const carray<double>& params, const carray<double>& x) {
        const auto w = widths_of(widths);
        const int64_t nets = check_params(w, params);
        check_points(x, w.front(), "x");
        py::array_t<uint64_t> out({static_cast<py::ssize_t>(nets), x.shape(0)});
        {
          py::gil_scoped_release release;
          cr::pattern_hashes(deepcheap::cpu::Driver{}, w, params.data(), nets, x.data(), x.shape(0), out.mutable_data());
        }
        return out;
      },
      py::arg("widths"), py::arg("params"), py::arg("x"));
  deepcheap::python::define_relu<deepcheap::cpu::Driver>(m);
}
