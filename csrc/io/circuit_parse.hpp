// Circuit file readers (device-neutral, no CPU or CUDA code): Bristol Fashion and AIGER text and
// binary into a GateList, the validated gate list that csrc/plan/circuit.hpp compiles into a plan for
// any driver. Bound in _core only (csrc/python/bind_circuit.cpp): parsing runs on the host whatever
// device evaluates the circuit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace deepcheap::io {

// A malformed file. line is 1-based, or 0 where no line applies (binary AIGER's AND section).
struct CircuitParseError : std::invalid_argument {
  int64_t line;
  CircuitParseError(const std::string& message, int64_t line_number)
      : std::invalid_argument(message), line(line_number) {}
};

// Wires 0..n_inputs-1 are the inputs; gate g writes wire n_inputs + g and reads earlier wires only.
struct GateList {
  int64_t n_inputs = 0;
  std::vector<int64_t> input_widths, output_widths;
  std::vector<uint8_t> ops;
  std::vector<int32_t> in0, in1;   // -1 where unused (constants; in1 of unary gates)
  std::vector<int32_t> outputs;    // wire of each output bit
  std::vector<std::string> input_names, output_names;  // AIGER symbols ("" where none)
};

// `budget`: the most bytes parsing and planning may take (the caller's memory limit); a header whose
// declared sizes need more is a CircuitParseError naming both, raised before anything is allocated.
GateList parse_bristol(const char* data, size_t size, int64_t budget = INT64_MAX);
GateList parse_aiger(const char* data, size_t size, int64_t budget = INT64_MAX);

}  // namespace deepcheap::io
