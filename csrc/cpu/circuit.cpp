// CPU circuit driver: evaluates a compiled plan (csrc/plan/circuit.cpp) with the SIMD kernel of the
// active target, reusing a per-circuit workspace.
#include "circuit.hpp"

#include <cstdlib>

namespace deepcheap::cpu {

CircuitCore::CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0,
                         std::vector<int32_t> in1, std::vector<int32_t> outputs, int device)
    : plan::CircuitPlan(n_inputs, std::move(ops), std::move(in0), std::move(in1), std::move(outputs)) {
  Driver::check_device(device);
}

CircuitCore::~CircuitCore() { std::free(workspace_); }

void CircuitCore::evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int threads,
                           int block_words) {
  if (schedule < 0 || schedule > 2)
    throw std::invalid_argument("schedule code must be 0 (batch), 1 (levelized) or 2 (sequential), got " +
                                std::to_string(schedule));
  if (threads < 1 || threads > 1024)
    throw std::invalid_argument("threads must be between 1 and 1024, got " + std::to_string(threads));
  if (block_words != 8 && block_words != 16 && block_words != 32 && block_words != 64)
    throw std::invalid_argument("block_words must be 8, 16, 32 or 64, got " + std::to_string(block_words));
  if (n_words <= 0) return;
  const circuit::PlanView plan_view = view();
  const int64_t buffers = schedule == static_cast<int>(Schedule::batch) ? threads : 1;
  const size_t words = static_cast<size_t>(buffers) * n_slots() * block_words;
  // One evaluation at a time per circuit: the cached workspace is reused across calls because first
  // touches of fresh memory are slow here (DESIGN.md §3).
  std::lock_guard<std::mutex> lock(workspace_mutex_);
  if (words > workspace_words_) {
    std::free(workspace_);
    workspace_ = static_cast<uint64_t*>(std::aligned_alloc(64, ((words * 8 + 63) / 64) * 64));
    if (!workspace_) {
      workspace_words_ = 0;
      throw std::bad_alloc();
    }
    workspace_words_ = words;
  }
  DC_DISPATCH(circuit_evaluate)(plan_view, in, out, n_words, block_words, schedule, threads,
                                workspace_);
}

}  // namespace deepcheap::cpu
