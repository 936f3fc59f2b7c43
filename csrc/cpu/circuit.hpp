// Circuit driver: the validated gate list, its linear-time analysis (levels, widths, AND-depth,
// critical path, list scheduling), the compiled bit-sliced evaluation plan, and the Bristol Fashion
// and AIGER parsers. Target-independent code; the hot loop is csrc/cpu/kernels/circuit.cpp.
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/circuit/gates.hpp"
#include "dispatch.hpp"

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

GateList parse_bristol(const char* data, size_t size);
GateList parse_aiger(const char* data, size_t size);

enum class Schedule : int { batch = 0, levelized = 1, sequential = 2 };

class CircuitCore {
 public:
  // Takes the gate arrays; throws std::invalid_argument naming the first bad gate or output.
  CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
              std::vector<int32_t> outputs);

  int64_t n_inputs() const { return n_inputs_; }
  int64_t n_gates() const { return static_cast<int64_t>(ops_.size()); }
  int64_t n_outputs() const { return static_cast<int64_t>(outputs_.size()); }
  int64_t work() const { return work_; }  // gates that cost a step: all but constants
  int32_t depth() const { return depth_; }
  int32_t and_depth() const { return and_depth_; }
  const std::vector<int32_t>& levels() const { return level_; }  // per gate, ASAP
  std::vector<int64_t> level_widths(bool alap) const;             // levels 1..depth
  std::vector<int64_t> critical_path() const;                     // gate indices, input side first
  int64_t list_schedule(int64_t processors) const;                // greedy makespan
  int64_t n_slots() const { return n_slots_; }
  int default_block_words(int64_t n_words, int threads) const;

  // in: (n_inputs, n_words), out: (n_outputs, n_words), both row-major.
  void evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, Schedule schedule, int threads,
                int block_words);

 private:
  void build_plan(const std::vector<int32_t>& plan_level);

  int64_t n_inputs_;
  std::vector<uint8_t> ops_;
  std::vector<int32_t> in0_, in1_, outputs_;
  std::vector<int32_t> level_;   // per gate
  std::vector<int32_t> height_;  // per gate: longest path from the gate's output to a sink, in gates
  int32_t depth_ = 0, and_depth_ = 0;
  int64_t work_ = 0;

  // plan
  int32_t n_slots_ = 0, n_levels_ = 0;
  std::vector<int32_t> input_slot_, output_slot_, run_begin_, level_run_, instr_;
  std::vector<uint8_t> run_op_;

  std::mutex workspace_mutex_;
  uint64_t* workspace_ = nullptr;
  size_t workspace_words_ = 0;

 public:
  ~CircuitCore();
  CircuitCore(const CircuitCore&) = delete;
  CircuitCore& operator=(const CircuitCore&) = delete;
};

}  // namespace deepcheap::cpu
