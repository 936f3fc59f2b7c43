// The circuit plan (device-neutral layer): the validated gate list, its analysis, and the compiled
// bit-sliced evaluation plan (deepcheap::circuit::PlanView) that both the CPU driver and the CUDA
// driver run. No CPU or CUDA code here; compiled into _core, _cuda and _cuda_emulated alike. Each
// driver's CircuitCore derives from CircuitPlan and adds what it keeps between evaluations and the
// evaluations it offers (csrc/cpu/circuit.hpp, csrc/cuda/circuit.hpp); the bindings take either
// through one template (csrc/python/bind_circuit.hpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/circuit/gates.hpp"

namespace deepcheap::plan {

using circuit::PlanView;

class CircuitPlan {
 public:
  // Wires 0..n_inputs-1 are the inputs; gate g writes wire n_inputs + g and reads earlier wires only.
  // Throws std::invalid_argument naming the first bad gate or output.
  CircuitPlan(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
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

  // The compiled plan as flat arrays (valid while this object lives).
  PlanView view() const;
  // evaluate_packed's shape contract: words (n_inputs, n_words) -> out (n_outputs, n_words).
  void check_packed_shapes(int64_t words_rows, int64_t out_rows, int64_t out_words, int64_t n_words) const;
  // The schedule codes every driver knows: 0 batch, 1 levelized, 2 sequential (std::invalid_argument else).
  static void check_schedule(int schedule);

 private:
  void build_plan(const std::vector<int32_t>& plan_level);

  int64_t n_inputs_;
  std::vector<uint8_t> ops_;
  std::vector<int32_t> in0_, in1_, outputs_;
  std::vector<int32_t> level_;   // per gate
  std::vector<int32_t> height_;  // per gate: longest path from the gate's output to a sink, in gates
  int32_t depth_ = 0, and_depth_ = 0;
  int64_t work_ = 0;

  int32_t n_slots_ = 0, n_levels_ = 0;
  std::vector<int32_t> input_slot_, output_slot_, run_begin_, level_run_, instr_;
  std::vector<uint16_t> instr16_;  // instr_ in 16 bits when n_slots_ <= 65536 (PlanView::instr16), else empty
  std::vector<uint8_t> run_op_;
};

}  // namespace deepcheap::plan
