// Bindings for the circuit area: the CircuitCore object (analysis, evaluation) and the two parsers.
// python/deepcheap_native/circuit/ wraps these with friendly validation; everything is re-checked here.
#include "python/bind_circuit.hpp"

#include <limits>

#include "cpu/circuit.hpp"
#include "cpu/threads.hpp"
#include "io/circuit_parse.hpp"

using deepcheap::cpu::CircuitCore;
using deepcheap::io::GateList;
using deepcheap::python::to_array;

namespace {

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
py::dict parse(py::bytes data, int64_t budget, Parser parser) {
  // No copy: `data` holds a reference to the bytes object for the whole call, and bytes are immutable
  // (a bytearray or memoryview is refused by the py::bytes caster), so the buffer cannot change or go away.
  std::string_view view(data);
  GateList gl;
  {
    // Safe: parses that buffer into C++ containers only. Without the GIL, a Ctrl-C (or a timer thread's
    // signal) reaches the parser's polls (io/circuit_parse.cpp, every 2^20 lines or gates, issue 21): the
    // KeyboardInterrupt unwinds the parse, which frees what it built, and nothing is returned.
    py::gil_scoped_release release;
    gl = parser(view.data(), view.size(), budget);
  }
  return gate_list_dict(std::move(gl));
}

}  // namespace

void bind_circuit(py::module_& m) {
  // CircuitParseError -> deepcheap_native.circuit.ParseError (a ValueError with the line number).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const deepcheap::io::CircuitParseError& e) {
      py::object cls = py::module_::import("deepcheap_native.circuit").attr("ParseError");
      py::object line = e.line > 0 ? py::object(py::int_(e.line)) : py::object(py::none());
      py::object exc = cls(py::str(e.what()), line);
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });

  // budget: the most bytes the parse may take (Python passes _memory.memory_limit()).
  m.def("circuit_parse_bristol",
        [](py::bytes data, int64_t budget) { return parse(data, budget, deepcheap::io::parse_bristol); },
        py::arg("data"), py::arg("budget") = std::numeric_limits<int64_t>::max());
  m.def("circuit_parse_aiger",
        [](py::bytes data, int64_t budget) { return parse(data, budget, deepcheap::io::parse_aiger); },
        py::arg("data"), py::arg("budget") = std::numeric_limits<int64_t>::max());

  // The op table of deepcheap/circuit/gates.hpp as (name, code, arity) rows, in code order: the test
  // that Python's table (circuit_io.OPS) matches the kernels' reads it.
  m.def("circuit_op_table", [] {
    py::list table;
#define DC_CIRCUIT_ROW(name, code, arity, value) table.append(py::make_tuple(#name, code, arity));
    DC_CIRCUIT_OPS(DC_CIRCUIT_ROW)
#undef DC_CIRCUIT_ROW
    return table;
  });

  deepcheap::python::define_circuit_core<CircuitCore>(m, &deepcheap::cpu::num_threads);
}
