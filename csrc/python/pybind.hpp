// Include this first in every binding file, so every translation unit sees the same casters.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "deepcheap/common/interrupt.hpp"
#include "deepcheap/common/require.hpp"
#include "pythread.h"

namespace py = pybind11;

namespace deepcheap::python {

// The interrupt poll of this module (deepcheap/common/interrupt.hpp says why this design): on the
// interpreter's main thread, take the GIL back for a moment and run the pending signal handlers; a
// handler that raised (KeyboardInterrupt for SIGINT) becomes py::error_already_set, thrown through the
// driver (which leaves its object whole) to the binding, where pybind11 restores the Python error. On any
// other thread it returns at once: Python runs signal handlers on the main thread only.
inline unsigned long& main_thread_ident() {
  static unsigned long ident = 0;
  return ident;
}

inline void poll_python_signals() {
  if (PyThread_get_thread_ident() != main_thread_ident()) return;
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// Called once from each module's init (with the GIL held): installs the poll and the test hooks.
inline void install_interrupt_poll(py::module_& m) {
  main_thread_ident() = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  interrupt::set_poll(&poll_python_signals);
  // Private test hooks: force every chunk to `items` items (0: duration-sized, -1: one piece), count polls.
  m.def("_set_interrupt_chunk", &interrupt::set_fixed_chunk, py::arg("items"));
  m.def("_interrupt_polls", &interrupt::polls_done);
}

// NPY_ARRAY_ALIGNED as an array_t requirement: an input whose data is not aligned for its type (numpy
// arrays unpickled from a byte buffer, e.g. results coming back from Dask workers, can be) is copied
// into an aligned one on the way in, so no kernel ever reads it misaligned (undefined behaviour, and
// what the UBSan job caught in the product kernel).
constexpr int aligned_input = 0x0100;

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast | aligned_input>;

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

// Whether two dtypes are equal as numpy sees it (dtype.__eq__: same kind, size and byte order). Not
// object identity: an array unpickled (a result coming back from a Dask worker, say) carries a fresh
// dtype object that equals numpy's canonical one without being it.
inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  if (a.is(b)) return true;
  const int equal = PyObject_RichCompareBool(a.ptr(), b.ptr(), Py_EQ);
  if (equal < 0) throw py::error_already_set();
  return equal == 1;
}
template <class T>
bool has_dtype(const py::array& a) {
  return same_dtype(a.dtype(), py::dtype::of<T>());
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
void bind_relu(py::module_& m);
void bind_locality(py::module_& m);
void bind_roofline(py::module_& m);
