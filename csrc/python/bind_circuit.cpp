// Bindings for the circuit area: the CircuitCore object (analysis, evaluation) and the two parsers.
// python/deepcheap_native/circuit.py wraps these with friendly validation; everything is re-checked here.
#include "pybind.hpp"

#include "circuit.hpp"
#include "threads.hpp"

using deepcheap::cpu::CircuitCore;
using deepcheap::cpu::GateList;
using deepcheap::python::carray;
using deepcheap::python::require;
using deepcheap::python::shape_string;

namespace {

template <class T>
std::vector<T> to_vector(const carray<T>& a, const char* name) {
  require(a.ndim() == 1, std::string(name) + " has shape " + shape_string(a) + " but expected (n,)");
  return std::vector<T>(a.data(), a.data() + a.size());
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// AIGER symbols may hold any bytes: decode as UTF-8 with replacement rather than fail.
py::list names_list(const std::vector<std::string>& names) {
  py::list out;
  for (const auto& n : names)
    out.append(py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(n.data(), static_cast<py::ssize_t>(n.size()), "replace")));
  return out;
}

py::dict gate_list_dict(GateList&& gl) {
  py::dict d;
  d["n_inputs"] = gl.n_inputs;
  d["input_widths"] = gl.input_widths;
  d["output_widths"] = gl.output_widths;
  d["ops"] = to_array(gl.ops);
  d["in0"] = to_array(gl.in0);
  d["in1"] = to_array(gl.in1);
  d["outputs"] = to_array(gl.outputs);
  d["input_names"] = names_list(gl.input_names);
  d["output_names"] = names_list(gl.output_names);
  return d;
}

template <class Parser>
py::dict parse(py::bytes data, Parser parser) {
  std::string_view view(data);  // the bytes object is kept alive by the caller's frame
  GateList gl;
  {
    // Safe: parses a buffer owned by `data` (held by this frame) into C++ containers only.
    py::gil_scoped_release release;
    gl = parser(view.data(), view.size());
  }
  return gate_list_dict(std::move(gl));
}

}  // namespace

void bind_circuit(py::module_& m) {
  // CircuitParseError -> deepcheap_native.circuit.ParseError (a ValueError with the line number).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const deepcheap::cpu::CircuitParseError& e) {
      py::object cls = py::module_::import("deepcheap_native.circuit").attr("ParseError");
      py::object line = e.line > 0 ? py::object(py::int_(e.line)) : py::object(py::none());
      py::object exc = cls(py::str(e.what()), line);
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });

  m.def("circuit_parse_bristol", [](py::bytes data) { return parse(data, deepcheap::cpu::parse_bristol); },
        py::arg("data"));
  m.def("circuit_parse_aiger", [](py::bytes data) { return parse(data, deepcheap::cpu::parse_aiger); },
        py::arg("data"));

  py::class_<CircuitCore>(m, "CircuitCore")
      .def(py::init([](int64_t n_inputs, carray<uint8_t> ops, carray<int32_t> in0, carray<int32_t> in1,
                       carray<int32_t> outputs) {
             return new CircuitCore(n_inputs, to_vector(ops, "ops"), to_vector(in0, "in0"), to_vector(in1, "in1"),
                                    to_vector(outputs, "outputs"));
           }),
           py::arg("n_inputs"), py::arg("ops"), py::arg("in0"), py::arg("in1"), py::arg("outputs"))
      .def_property_readonly("n_inputs", &CircuitCore::n_inputs)
      .def_property_readonly("n_gates", &CircuitCore::n_gates)
      .def_property_readonly("n_outputs", &CircuitCore::n_outputs)
      .def_property_readonly("work", &CircuitCore::work)
      .def_property_readonly("depth", &CircuitCore::depth)
      .def_property_readonly("and_depth", &CircuitCore::and_depth)
      .def_property_readonly("n_slots", &CircuitCore::n_slots)
      .def("levels", [](const CircuitCore& c) { return to_array(c.levels()); })
      .def("level_widths", [](const CircuitCore& c, bool alap) { return to_array(c.level_widths(alap)); },
           py::arg("alap"))
      .def("critical_path", [](const CircuitCore& c) { return to_array(c.critical_path()); })
      .def("list_schedule",
           [](const CircuitCore& c, int64_t p) {
             // Safe: reads only the immutable gate arrays of `c`, kept alive by this call.
             py::gil_scoped_release release;
             return c.list_schedule(p);
           },
           py::arg("processors"))
      .def("default_block_words", &CircuitCore::default_block_words, py::arg("n_words"), py::arg("threads"))
      .def(
          "evaluate_packed",
          [](CircuitCore& c, py::array_t<uint64_t, py::array::c_style> words, py::array_t<uint64_t, py::array::c_style> out,
             int schedule, int threads, int block_words) {
            require(words.ndim() == 2 && words.shape(0) == c.n_inputs(),
                    "words has shape " + shape_string(words) + " but expected (" + std::to_string(c.n_inputs()) +
                        ", n_words)");
            const int64_t n_words = words.shape(1);
            require(out.ndim() == 2 && out.shape(0) == c.n_outputs() && out.shape(1) == n_words,
                    "out has shape " + shape_string(out) + " but expected (" + std::to_string(c.n_outputs()) + ", " +
                        std::to_string(n_words) + ")");
            require(out.writeable(), "out must be writeable");
            require(schedule >= 0 && schedule <= 2,
                    "schedule code must be 0 (batch), 1 (levelized) or 2 (sequential), got " + std::to_string(schedule));
            if (threads <= 0) threads = deepcheap::cpu::num_threads();
            if (block_words <= 0) block_words = c.default_block_words(n_words, threads);
            const uint64_t* in = words.data();
            uint64_t* o = out.mutable_data();
            {
              // Safe: reads `words` and writes `out`, both numpy buffers held alive by this frame; the
              // core's plan is immutable and its workspace is guarded by a mutex.
              py::gil_scoped_release release;
              c.evaluate(in, o, n_words, static_cast<deepcheap::cpu::Schedule>(schedule), threads, block_words);
            }
            return out;
          },
          py::arg("words"), py::arg("out"), py::arg("schedule"), py::arg("threads"), py::arg("block_words"));
}
