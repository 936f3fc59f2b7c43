// CUDA circuit driver, "batch" schedule: one thread per 64-bit word column of the packed inputs (64
// input vectors), each running the whole compiled plan with the header's circuit_evaluate_word. The
// threads' wire slots are interleaved (slot s of thread t at s * threads + t) so a warp's accesses
// coalesce, and the thread count is capped so the slots fit in 1 GiB; threads stride over the words.
// Bit-identical to the CPU: the same plan, the same gate function, no arithmetic that could round.
#include "circuit.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

__global__ void circuit_batch_kernel(circuit::PlanView p, const uint64_t* in, uint64_t* out, int64_t n_words,
                                     uint64_t* slots) {
  const int64_t thread = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t threads = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t w = thread; w < n_words; w += threads) circuit_evaluate_word(p, in, out, n_words, w, slots + thread, threads);
}

template <class T>
DeviceBuffer<T> upload(const T* host, int64_t count) {
  return DeviceBuffer<T>(host, count, "circuit plan (copy to device)");
}

}  // namespace

}  // namespace deepcheap::cuda

namespace deepcheap::plan {

using cuda::circuit_batch_kernel;
using cuda::DeviceBuffer;
using cuda::DeviceGuard;
using cuda::Driver;
using cuda::kBlockThreads;
using cuda::launch;
using cuda::upload;

template <>
struct CircuitCore<Driver>::State {
  DeviceBuffer<int32_t> input_slot, output_slot, run_begin, level_run, instr;
  DeviceBuffer<uint8_t> run_op;
  circuit::PlanView view{};
};

template <>
CircuitCore<Driver>::CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0,
                                 std::vector<int32_t> in1, std::vector<int32_t> outputs, int device)
    : CircuitPlan(n_inputs, std::move(ops), std::move(in0), std::move(in1), std::move(outputs)), device_(device) {
  cuda::check_device(device);
  DeviceGuard guard(device);
  const circuit::PlanView h = view();
  const int32_t n_runs = h.level_run[h.n_levels];
  const int64_t n_instr = h.run_begin[n_runs];
  state_ = std::make_unique<State>();
  State& d = *state_;
  d.input_slot = upload(h.input_slot, h.n_inputs);
  d.output_slot = upload(h.output_slot, h.n_outputs);
  d.run_begin = upload(h.run_begin, n_runs + 1);
  d.level_run = upload(h.level_run, h.n_levels + 1);
  d.instr = upload(h.instr, 3 * n_instr);
  d.run_op = upload(h.run_op, n_runs);
  d.view = circuit::PlanView{h.n_inputs,        h.n_outputs,        h.n_slots,         h.n_levels,
                             d.input_slot.data(), d.output_slot.data(), d.run_op.data(), d.run_begin.data(),
                             d.level_run.data(), d.instr.data()};
}

template <>
CircuitCore<Driver>::~CircuitCore() = default;

template <>
void CircuitCore<Driver>::evaluate_resident(const uint64_t* in, uint64_t* out, int64_t n_words) {
  if (n_words <= 0) return;
  DeviceGuard guard(device_);
  cuda::check(cudaDeviceSynchronize(), "circuit evaluate (wait for the inputs)");
  const State& d = *state_;
  // As many threads as words, rounded to whole blocks, while all their slots fit in 1 GiB.
  const int64_t budget_threads = ((int64_t(1) << 27) / (n_slots() > 0 ? n_slots() : 1)) / kBlockThreads * kBlockThreads;
  int64_t threads = (n_words + kBlockThreads - 1) / kBlockThreads * kBlockThreads;
  if (threads > budget_threads) threads = budget_threads > kBlockThreads ? budget_threads : kBlockThreads;
  DeviceBuffer<uint64_t> slots(n_slots() * threads, "circuit evaluate (allocate slots)");
  launch("circuit_batch_kernel", circuit_batch_kernel, dim3(static_cast<unsigned>(threads / kBlockThreads)),
         dim3(kBlockThreads), d.view, in, out, n_words, slots.data());
}

template <>
void CircuitCore<Driver>::evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int, int) {
  if (schedule != 0 && schedule != 2)
    throw std::invalid_argument("schedule code " + std::to_string(schedule) +
                                " is not available on CUDA: expected 0 (batch) or 2 (sequential, the same on a GPU)");
  if (n_words <= 0) return;
  DeviceGuard guard(device_);
  DeviceBuffer<uint64_t> din(in, n_inputs() * n_words, "circuit evaluate (copy inputs)");
  DeviceBuffer<uint64_t> dout(n_outputs() * n_words, "circuit evaluate (allocate outputs)");
  evaluate_resident(din.data(), dout.data(), n_words);
  dout.copy_to_host(out, n_outputs() * n_words, "circuit evaluate (copy outputs)");
}

}  // namespace deepcheap::plan
