// CPU circuit driver: the plan (csrc/plan/circuit.hpp) plus the CPU evaluator's cached workspace, and
// the Bristol Fashion and AIGER parsers. The hot loop is csrc/cpu/kernels/circuit.cpp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/circuit/gates.hpp"
#include "dispatch.hpp"
#include "driver.hpp"
#include "plan/circuit.hpp"

DC_DECLARE_KERNEL(void circuit_evaluate(const deepcheap::circuit::PlanView& plan, const uint64_t* in,
                                        uint64_t* out, int64_t n_words, int block_words, int schedule,
                                        int threads, uint64_t* workspace))

namespace deepcheap::cpu {

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

enum class Schedule : int { batch = 0, levelized = 1, sequential = 2 };

// _core.CircuitCore: the shared declaration of csrc/plan/circuit.hpp, defined for the CPU driver in
// circuit.cpp (evaluate: the SIMD kernel of the active target; the workspace is cached per circuit).
using CircuitCore = plan::CircuitCore<Driver>;

}  // namespace deepcheap::cpu
