// CUDA circuit driver (csrc/cuda/circuit.cu): _cuda.CircuitCore, the plan (csrc/plan/circuit.hpp) plus
// its State, the compiled plan's arrays copied to one device once and reused by every evaluation.
// Schedules: batch (0; sequential, 2, is the same thing on a GPU) and levelized (1: one launch per
// level); threads and block_words are CPU notions, ignored. Safe from several threads at once: the
// device plan is read-only, each call has its own buffers. Plain C++ (the bindings include it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "driver.hpp"
#include "plan/circuit.hpp"

namespace deepcheap::cuda {

class CircuitCore : public plan::CircuitPlan {
 public:
  // device: the device that keeps the plan and runs every evaluation.
  CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
              std::vector<int32_t> outputs, int device);
  ~CircuitCore();
  CircuitCore(const CircuitCore&) = delete;
  CircuitCore& operator=(const CircuitCore&) = delete;

  // in: (n_inputs, n_words), out: (n_outputs, n_words), host, row-major (copied to device() and back).
  void evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int threads, int block_words);
  // in and out are device addresses on device(), read and written in place (the zero-copy path,
  // csrc/cuda/memory.hpp); schedule as for evaluate.
  void evaluate_resident(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule);
  int device() const { return device_; }

 private:
  struct State;
  int device_;
  std::unique_ptr<State> state_;
};

}  // namespace deepcheap::cuda
