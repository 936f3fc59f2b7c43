// Bindings of the ReLU line and plane walks, written once for every driver (CPU in bind_relu.cpp, CUDA
// in bind_cuda.cpp): convert the arguments, plan and check the call (csrc/plan/relu.hpp), call the
// driver's relu_line_regions or relu_plane_regions (argument-dependent lookup: deepcheap::cpu or
// deepcheap::cuda) with the GIL released, shape the results.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "plan/relu.hpp"
#include "python/pybind.hpp"

namespace deepcheap::python {

inline std::vector<int64_t> relu_widths(const carray<int64_t>& widths) {
  DC_REQUIRE(widths.ndim() == 1, "widths has shape " + shape_string(widths) + " but expected (layers + 1,)");
  return std::vector<int64_t>(widths.data(), widths.data() + widths.shape(0));
}

// The parameter block: (n_nets, P) float64, checked against the widths; returns n_nets.
inline int64_t relu_check_params(const std::vector<int64_t>& w, const carray<double>& params) {
  DC_REQUIRE(params.ndim() == 2, "params has shape " + shape_string(params) + " but expected (n_networks, P)");
  plan::check_relu_network(w, params.shape(0), params.size(), params.data());
  return params.shape(0);
}

template <class T>
py::array_t<T> relu_to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

template <class Driver>
void define_relu(py::module_& m) {
  m.def(
      "relu_line_regions",
      [](const carray<int64_t>& widths, const carray<double>& params, const carray<double>& lines, double tol,
         bool keep_patterns, int64_t max_pieces, int device) {
        const auto w = relu_widths(widths);
        const int64_t nets = relu_check_params(w, params);
        DC_REQUIRE(lines.ndim() == 3 && lines.shape(1) == 2 && lines.shape(2) == w.front(),
                   "lines has shape " + shape_string(lines) + " but expected (n_lines, 2, " + std::to_string(w.front()) + ")");
        DC_REQUIRE(lines.shape(0) >= 1, "lines is empty: expected at least one segment");
        const plan::ReluLines p = plan::plan_relu_lines(w, params.data(), nets, params.size(), lines.data(),
                                                        lines.shape(0), tol, keep_patterns, max_pieces);
        plan::ReluLineRegions r;
        {
          // Safe: the driver reads the plan (its own copy of the weights) and the caller's lines, kept
          // alive by this frame, and writes r; it touches no Python object.
          py::gil_scoped_release release;
          r = relu_line_regions(Driver{}, p, device);
        }
        auto counts = relu_to_array(r.counts).reshape({static_cast<py::ssize_t>(nets), lines.shape(0)});
        py::array_t<uint8_t> patterns = relu_to_array(r.patterns);
        if (keep_patterns) {
          int64_t pieces = 0;
          for (int64_t c : r.counts) pieces += c;  // an affine network (no hidden neuron) has one piece of no bits
          patterns = patterns.reshape({static_cast<py::ssize_t>(pieces), static_cast<py::ssize_t>(p.neurons)});
        }
        return py::make_tuple(counts, relu_to_array(r.breakpoints), patterns);
      },
      py::arg("widths"), py::arg("params"), py::arg("lines"), py::arg("tol"), py::arg("keep_patterns"),
      py::arg("max_pieces"), py::arg("device") = 0,
      "Exact activation regions along segments: (counts (n_networks, n_lines), breakpoints, patterns).");
  m.def(
      "relu_plane_regions",
      [](const carray<int64_t>& widths, const carray<double>& params, const carray<double>& planes,
         const carray<double>& extent, double tol, bool keep_cells, int device) {
        const auto w = relu_widths(widths);
        const int64_t nets = relu_check_params(w, params);
        DC_REQUIRE(planes.ndim() == 3 && planes.shape(1) == 3 && planes.shape(2) == w.front(),
                   "planes has shape " + shape_string(planes) + " but expected (n_planes, 3, " + std::to_string(w.front()) + ")");
        DC_REQUIRE(planes.shape(0) >= 1, "planes is empty: expected at least one plane");
        DC_REQUIRE(extent.ndim() == 1 && extent.shape(0) == 4,
                   "extent has shape " + shape_string(extent) + " but expected (4,): s0, s1, t0, t1");
        const plan::ReluPlanes p = plan::plan_relu_planes(w, params.data(), nets, params.size(), planes.data(),
                                                          planes.shape(0), extent.data(), tol, keep_cells);
        plan::ReluPlaneRegions r;
        {
          // Safe: the driver reads the caller's arrays, kept alive by this frame, and writes r.
          py::gil_scoped_release release;
          r = relu_plane_regions(Driver{}, p, device);
        }
        auto counts = relu_to_array(r.counts).reshape({static_cast<py::ssize_t>(nets), planes.shape(0)});
        auto cells = relu_to_array(r.cells).reshape({static_cast<py::ssize_t>(r.cells.size() / 3), py::ssize_t(3)});
        return py::make_tuple(counts, cells);
      },
      py::arg("widths"), py::arg("params"), py::arg("planes"), py::arg("extent"), py::arg("tol"),
      py::arg("keep_cells"), py::arg("device") = 0,
      "Exact activation regions in plane rectangles: (counts (n_networks, n_planes), cells (regions, 3)).");
}

}  // namespace deepcheap::python
