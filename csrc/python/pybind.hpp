// Include this first in every binding file, so every translation unit sees the same casters.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace deepcheap::python {

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// "name has shape (3, 5) but expected (n, 4)"-style messages for the C++-side re-checks.
inline std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  if (a.ndim() == 1) s += ",";
  return s + ")";
}

inline void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace deepcheap::python

void bind_common(py::module_& m);
void bind_product(py::module_& m);
void bind_markov(py::module_& m);
void bind_ising(py::module_& m);
void bind_circuit(py::module_& m);
void bind_input_space(py::module_& m);
void bind_census(py::module_& m);
void bind_cluster(py::module_& m);
