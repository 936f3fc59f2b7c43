// Binding of the circuit object, written once for every driver: _core.CircuitCore (CPU, bind_circuit.cpp)
// and _cuda.CircuitCore (bind_cuda.cpp). Core derives from plan::CircuitPlan (analysis) and adds
// evaluate(in, out, n_words, schedule, threads, block_words) for its device.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "python/pybind.hpp"
#include "plan/circuit.hpp"

namespace deepcheap::python {

template <class T>
std::vector<T> to_vector(const carray<T>& a, const char* name) {
  DC_REQUIRE(a.ndim() == 1, std::string(name) + " has shape " + shape_string(a) + " but expected (n,)");
  return std::vector<T>(a.data(), a.data() + a.size());
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// Returns the class, so a driver's module can add what only it offers (CUDA: evaluate_resident).
template <class Core>
py::class_<Core> define_circuit_core(py::module_& m, int (*default_threads)()) {
  return py::class_<Core>(m, "CircuitCore", py::module_local())
      .def(py::init([](int64_t n_inputs, carray<uint8_t> ops, carray<int32_t> in0, carray<int32_t> in1,
                       carray<int32_t> outputs, int device) {
             auto o = to_vector(ops, "ops");
             auto a = to_vector(in0, "in0");
             auto b = to_vector(in1, "in1");
             auto w = to_vector(outputs, "outputs");
             // Planning reads only these vectors; without the GIL a Ctrl-C (or a timer thread's signal)
             // reaches the plan's polls (plan/circuit.cpp) while a circuit of millions of gates is planned.
             py::gil_scoped_release release;
             return new Core(n_inputs, std::move(o), std::move(a), std::move(b), std::move(w), device);
           }),
           py::arg("n_inputs"), py::arg("ops"), py::arg("in0"), py::arg("in1"), py::arg("outputs"),
           py::arg("device") = 0)
      .def_property_readonly("n_inputs", &Core::n_inputs)
      .def_property_readonly("n_gates", &Core::n_gates)
      .def_property_readonly("n_outputs", &Core::n_outputs)
      .def_property_readonly("work", &Core::work)
      .def_property_readonly("depth", &Core::depth)
      .def_property_readonly("and_depth", &Core::and_depth)
      .def_property_readonly("n_slots", &Core::n_slots)
      .def("levels", [](const Core& c) { return to_array(c.levels()); })
      .def("level_widths", [](const Core& c, bool alap) { return to_array(c.level_widths(alap)); }, py::arg("alap"))
      .def("critical_path", [](const Core& c) { return to_array(c.critical_path()); })
      .def("list_schedule",
           [](const Core& c, int64_t p) {
             // Safe: reads only the immutable gate arrays of `c`, kept alive by this call.
             py::gil_scoped_release release;
             return c.list_schedule(p);
           },
           py::arg("processors"))
      .def("default_block_words", &Core::default_block_words, py::arg("n_words"), py::arg("threads"))
      .def(
          "evaluate_packed",
          [default_threads](Core& c, py::array_t<uint64_t, py::array::c_style | aligned_input> words,
                            py::array_t<uint64_t, py::array::c_style> out, int schedule, int threads, int block_words) {
            DC_REQUIRE(words.ndim() == 2, "words has shape " + shape_string(words) + " but expected (" +
                                           std::to_string(c.n_inputs()) + ", n_words)");
            DC_REQUIRE(out.ndim() == 2, "out has shape " + shape_string(out) + " but expected (" +
                                         std::to_string(c.n_outputs()) + ", n_words)");
            const int64_t n_words = words.shape(1);
            c.check_packed_shapes(words.shape(0), out.shape(0), out.shape(1), n_words);
            DC_REQUIRE(out.writeable(), "out must be writeable");
            Core::check_schedule(schedule);
            if (threads <= 0) threads = default_threads();
            if (block_words <= 0) block_words = c.default_block_words(n_words, threads);
            const uint64_t* in = words.data();
            uint64_t* o = out.mutable_data();
            {
              // Safe: reads `words` and writes `out`, both numpy buffers held alive by this frame; the
              // plan is immutable and each Core serialises what it caches (its own mutex).
              py::gil_scoped_release release;
              c.evaluate(in, o, n_words, schedule, threads, block_words);
            }
            return out;
          },
          py::arg("words"), py::arg("out"), py::arg("schedule"), py::arg("threads"), py::arg("block_words"));
}

}  // namespace deepcheap::python
