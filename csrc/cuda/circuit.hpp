// CUDA circuit driver (csrc/cuda/circuit.cu): the object behind _cuda.CircuitCore, a compiled plan
// (csrc/plan/circuit.hpp) whose arrays are copied to one device once and reused by every evaluation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "driver.hpp"
#include "plan/circuit.hpp"

namespace deepcheap::cuda {

class CircuitCore : public plan::CircuitPlan {
 public:
  CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
              std::vector<int32_t> outputs, int device);
  ~CircuitCore();
  CircuitCore(const CircuitCore&) = delete;
  CircuitCore& operator=(const CircuitCore&) = delete;

  // in: (n_inputs, n_words), out: (n_outputs, n_words), host, row-major. Only the batch schedule
  // (0; sequential, 2, is the same thing on a GPU); threads and block_words are CPU notions, ignored.
  // Safe from several threads at once: the device plan is read-only, each call has its own buffers.
  void evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int threads, int block_words);
  int device() const { return device_; }

 private:
  struct DevicePlan;
  int device_;
  std::unique_ptr<DevicePlan> device_plan_;
};

}  // namespace deepcheap::cuda
