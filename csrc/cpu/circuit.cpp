// CPU circuit driver: evaluates a compiled plan (csrc/plan/circuit.cpp) with the SIMD kernel of the
// active target, reusing a per-circuit workspace.
#include "circuit.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "driver.hpp"
#include "threads.hpp"

namespace deepcheap::cpu {

namespace {

// Runnable threads system-wide right now (Linux /proc/stat "procs_running", which counts the caller),
// or -1 where unknown.
int runnable_threads() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return -1;
  char line[256];
  int running = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "procs_running ", 14) == 0) {
      running = std::atoi(line + 14);
      break;
    }
  std::fclose(f);
  return running;
}

// Threads for the levelized schedule. Its threads meet at a barrier after every level, so one thread
// that is not scheduled stalls all of them (issue 15: 2 threads beside a CPU-bound competitor ran far
// slower than 1). Use one thread when a level holds too little work to pay for a barrier (below
// kMinWordOpsPerBarrier word operations, a few us; an uncontended barrier costs ~0.25 us here) or
// when the cores are already taken (more runnable threads than cores, counting ours). Results are
// identical for any thread count.
constexpr int64_t kMinWordOpsPerBarrier = int64_t(1) << 13;

int levelized_threads(const plan::CircuitPlan& plan, int block_words, int threads) {
  if (threads <= 1) return 1;
  const int64_t levels = plan.depth() > 0 ? plan.depth() : 1;
  if (plan.n_gates() * block_words / levels < kMinWordOpsPerBarrier) return 1;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int running = runnable_threads();
  if (cores > 0 && running > 0 && running - 1 + threads > cores) return 1;
  return threads;
}

}  // namespace

// The CPU's state: the slot buffers of the last evaluation, reused by the next.
struct CircuitCore::State {
  std::mutex workspace_mutex;
  uint64_t* workspace = nullptr;
  size_t workspace_words = 0;
  ~State() { std::free(workspace); }
};

CircuitCore::CircuitCore(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0, std::vector<int32_t> in1,
                         std::vector<int32_t> outputs, int device)
    : plan::CircuitPlan(n_inputs, std::move(ops), std::move(in0), std::move(in1), std::move(outputs)),
      device_(device),
      state_(std::make_unique<State>()) {
  Driver::check_device(device);
}

CircuitCore::~CircuitCore() = default;

void CircuitCore::evaluate(const uint64_t* in, uint64_t* out, int64_t n_words, int schedule, int threads,
                           int block_words) {
  check_schedule(schedule);
  if (threads < 1 || threads > 1024)
    throw std::invalid_argument("threads must be between 1 and 1024, got " + std::to_string(threads));
  if (block_words != 1 && block_words != 8 && block_words != 16 && block_words != 32 && block_words != 64)
    throw std::invalid_argument("block_words must be 1, 8, 16, 32 or 64, got " + std::to_string(block_words));
  if (n_words <= 0) return;
  const circuit::PlanView plan_view = view();
  if (schedule == static_cast<int>(Schedule::levelized)) threads = levelized_threads(*this, block_words, threads);
  const int64_t buffers = schedule == static_cast<int>(Schedule::batch) ? threads : 1;
  const size_t words = static_cast<size_t>(buffers) * n_slots() * block_words;
  // One evaluation at a time per circuit: the cached workspace is reused across calls because first
  // touches of fresh memory are slow here (DESIGN.md §3).
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.workspace_mutex);
  if (words > st.workspace_words) {
    std::free(st.workspace);
    st.workspace = static_cast<uint64_t*>(std::aligned_alloc(64, ((words * 8 + 63) / 64) * 64));
    if (!st.workspace) {
      st.workspace_words = 0;
      throw std::bad_alloc();
    }
    st.workspace_words = words;
  }
  const auto kernel = DC_DISPATCH(circuit_evaluate);
  // Words in interruptible chunks (deepcheap/common/interrupt.hpp): every word column is evaluated from
  // its own inputs alone, so chunks never change a result, and an interrupted call has written the words
  // of every completed chunk into out and left the rest untouched. The kernel takes a word range of the
  // caller's arrays (rows n_words apart), so a chunk reads and writes them in place, with no copy.
  const double cost = double(n_gates() + n_inputs() + n_outputs());
  const int64_t quantum = int64_t(64) * threads;
  interrupt::run_chunks(n_words, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    kernel(plan_view, in, out, n_words, begin, end, block_words, schedule, threads, st.workspace);
  }, quantum);
}

}  // namespace deepcheap::cpu
