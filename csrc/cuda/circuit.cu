// CUDA circuit driver, two schedules over the same plan and the same gate function
// (circuit_apply_gate), so outputs are the CPU's bit for bit (no arithmetic that could round):
// - "batch" (and "sequential", the same thing on a GPU): one thread per 64-bit word column of the packed
//   inputs (64 input vectors), each running the whole compiled plan with the header's
//   circuit_evaluate_word. The threads' wire slots are interleaved (slot s of thread t at s * threads + t)
//   so a warp's accesses coalesce, and the thread count is capped so the slots fit in 1 GiB; threads
//   stride over the words.
// - "levelized": one launch per level of the circuit, one thread per (gate of that level, word): the
//   circuit's depth is the number of launches and its width the parallelism of each, which is the
//   parallel-versus-sequential contrast itself. The plan frees a slot only after the last level that
//   reads it, so the gates of one level never write a slot another gate of that level reads, and they
//   may run in any order. Slots are slot-major (slot s of word w at s * W + w) over chunks of W words
//   that fit in 1 GiB.
#include <vector>

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

__global__ void circuit_load_kernel(const int32_t* input_slot, int32_t n_inputs, const uint64_t* in, int64_t n_words,
                                    int64_t first, int64_t W, uint64_t* slots) {
  DC_GRID_STRIDE(x, int64_t(n_inputs) * W) {
    const int64_t i = x / W, w = x % W;
    const int32_t s = input_slot[i];
    if (s >= 0) slots[s * W + w] = in[i * n_words + first + w];
  }
}

__global__ void circuit_level_kernel(const int32_t* instr, const uint8_t* instr_op, int64_t first_instr,
                                     int64_t n_instr, int64_t W, uint64_t* slots) {
  DC_GRID_STRIDE(x, n_instr * W) {
    const int64_t k = first_instr + x / W, w = x % W;
    const int32_t* ins = instr + 3 * k;
    slots[int64_t(ins[2]) * W + w] =
        circuit_apply_gate<uint64_t>(instr_op[k], slots[int64_t(ins[0]) * W + w], slots[int64_t(ins[1]) * W + w]);
  }
}

__global__ void circuit_store_kernel(const int32_t* output_slot, int32_t n_outputs, const uint64_t* slots, int64_t W,
                                     uint64_t* out, int64_t n_words, int64_t first) {
  DC_GRID_STRIDE(x, int64_t(n_outputs) * W) {
    const int64_t o = x / W, w = x % W;
    out[o * n_words + first + w] = slots[int64_t(output_slot[o]) * W + w];
  }
}

// Both schedules keep their wire slots within 1 GiB: 2^27 words.
constexpr int64_t kSlotWords = int64_t(1) << 27;

template <class T>
DeviceBuffer<T> upload(const T* host, int64_t count) {
  return DeviceBuffer<T>(host, count, "circuit plan (copy to device)");
}

}  // namespace

struct CircuitCore::State {
  DeviceBuffer<int32_t> input_slot, output_slot, run_begin, level_run, instr;
  DeviceBuffer<uint8_t> run_op;
  DeviceBuffer<uint8_t> instr_op;         // levelized: the op of each instruction
  std::vector<int64_t> level_first;       // levelized: first instruction of each level (n_levels + 1)
  circuit::PlanView view{};
};

CircuitCore::CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
                         std::vector<int32_t> outputs, int device)
    : plan::CircuitPlan(n_inputs, std::move(ops), std::move(in0), std::move(in1), std::move(outputs)), device_(device) {
  check_device(device);
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
  std::vector<uint8_t> instr_op(size_t(n_instr > 0 ? n_instr : 1), 0);
  for (int32_t r = 0; r < n_runs; ++r)
    for (int32_t k = h.run_begin[r]; k < h.run_begin[r + 1]; ++k) instr_op[size_t(k)] = h.run_op[r];
  d.instr_op = upload(instr_op.data(), int64_t(instr_op.size()));
  d.level_first.resize(size_t(h.n_levels) + 1);
  for (int32_t lv = 0; lv <= h.n_levels; ++lv) d.level_first[size_t(lv)] = h.run_begin[h.level_run[lv]];
  d.view = circuit::PlanView{h.n_inputs,        h.n_outputs,        h.n_slots,         h.n_levels,
                             d.input_slot.data(), d.output_slot.data(), d.run_op.data(), d.run_begin.data(),
                             d.level_run.data(), d.instr.data(), nullptr};
}

CircuitCore::~CircuitCore() = default;

void CircuitCore::evaluate_resident(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule) {
  check_schedule(schedule);
  if (n_words <= 0) return;
  DeviceGuard guard(device_);
  check(cudaDeviceSynchronize(), "circuit evaluate (wait for the inputs)");
  const State& d = *state_;
  if (schedule == 1) {
    // Levelized: chunks of W words whose slots (n_slots x W) fit in 1 GiB; one launch per level.
    int64_t W = kSlotWords / n_slots();  // n_slots() >= 1
    if (W < 1) W = 1;
    if (W > n_words) W = n_words;
    DeviceBuffer<uint64_t> slots(int64_t(n_slots()) * W, "circuit evaluate (allocate level slots)");
    for (int64_t first = 0; first < n_words; first += W) {
      const int64_t w = n_words - first < W ? n_words - first : W;
      launch("circuit_load_kernel", circuit_load_kernel, dim3(grid_for(int64_t(n_inputs()) * w)), dim3(kBlockThreads),
             d.input_slot.data(), int32_t(n_inputs()), in, n_words, first, w, slots.data());
      for (size_t lv = 0; lv + 1 < d.level_first.size(); ++lv) {
        const int64_t n_instr = d.level_first[lv + 1] - d.level_first[lv];
        if (n_instr == 0) continue;
        launch("circuit_level_kernel", circuit_level_kernel, dim3(grid_for(n_instr * w)), dim3(kBlockThreads),
               d.instr.data(), d.instr_op.data(), d.level_first[lv], n_instr, w, slots.data());
      }
      launch("circuit_store_kernel", circuit_store_kernel, dim3(grid_for(int64_t(n_outputs()) * w)),
             dim3(kBlockThreads), d.output_slot.data(), int32_t(n_outputs()), slots.data(), w, out, n_words, first);
      if (first + W < n_words) interrupt::poll();  // between word chunks (deepcheap/common/interrupt.hpp)
    }
    return;
  }
  // As many threads as words, rounded to whole blocks, while all their slots fit in 1 GiB.
  const int64_t budget_threads = kSlotWords / n_slots() / kBlockThreads * kBlockThreads;
  int64_t threads = (n_words + kBlockThreads - 1) / kBlockThreads * kBlockThreads;
  if (threads > budget_threads) threads = budget_threads > kBlockThreads ? budget_threads : kBlockThreads;
  DeviceBuffer<uint64_t> slots(n_slots() * threads, "circuit evaluate (allocate slots)");
  launch("circuit_batch_kernel", circuit_batch_kernel, dim3(static_cast<unsigned>(threads / kBlockThreads)),
         dim3(kBlockThreads), d.view, in, out, n_words, slots.data());
}

void CircuitCore::evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int, int) {
  check_schedule(schedule);
  if (n_words <= 0) return;
  DeviceGuard guard(device_);
  DeviceBuffer<uint64_t> din(in, n_inputs() * n_words, "circuit evaluate (copy inputs)");
  DeviceBuffer<uint64_t> dout(n_outputs() * n_words, "circuit evaluate (allocate outputs)");
  evaluate_resident(din.data(), dout.data(), n_words, schedule);
  dout.copy_to_host(out, n_outputs() * n_words, "circuit evaluate (copy outputs)");
}

}  // namespace deepcheap::cuda
