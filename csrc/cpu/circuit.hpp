// CPU circuit driver: _core.CircuitCore, the plan (csrc/plan/circuit.hpp) plus the CPU evaluator's
// cached workspace. The hot loop is csrc/cpu/kernels/circuit.cpp; the file readers are csrc/io/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "deepcheap/circuit/gates.hpp"
#include "dispatch.hpp"
#include "plan/circuit.hpp"

// Word columns [w0, w1) of in (n_inputs, stride) and out (n_outputs, stride), evaluated in place.
DC_DECLARE_KERNEL(void circuit_evaluate(const deepcheap::circuit::PlanView& plan, const uint64_t* in,
                                        uint64_t* out, int64_t stride, int64_t w0, int64_t w1, int block_words,
                                        int schedule, int threads, uint64_t* workspace))

namespace deepcheap::cpu {

enum class Schedule : int { batch = 0, levelized = 1, sequential = 2 };

// _core.CircuitCore (bound by csrc/python/bind_circuit.hpp, shared with _cuda.CircuitCore): the plan
// plus the workspace of the last evaluation, reused by the next.
class CircuitCore : public plan::CircuitPlan {
 public:
  // device: the CPU has one, 0 (anything else is std::invalid_argument).
  CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
              std::vector<int32_t> outputs, int device);
  ~CircuitCore();
  CircuitCore(const CircuitCore&) = delete;
  CircuitCore& operator=(const CircuitCore&) = delete;

  // in: (n_inputs, n_words), out: (n_outputs, n_words), row-major; schedule 0 batch, 1 levelized,
  // 2 sequential. One evaluation at a time per circuit (the workspace is locked), any number of circuits.
  void evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int threads, int block_words);
  int device() const { return device_; }

 private:
  struct State;
  int device_;
  std::unique_ptr<State> state_;
};

}  // namespace deepcheap::cpu
