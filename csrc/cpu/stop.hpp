// Stopping inside long items (issue 21). run_chunks (deepcheap/common/interrupt.hpp) polls for Ctrl-C
// between chunks of items, which is enough when every item is short. An item that alone can run for
// seconds (a ReLU segment through a deep sawtooth: 10^7 pieces) needs its own exit: ItemStop gives
// the workers of one parallel region a shared stop flag that long items look at every few thousand
// steps, and lets the region's master thread (the calling thread: OpenMP makes the encountering thread
// thread 0 of the team) poll while it works and, once its own items are done, while it waits for the
// others, instead of sleeping in the barrier. The first poll that throws (a KeyboardInterrupt from
// Python) sets the flag; every worker leaves its item at its next check and skips the rest; after the
// region, rethrow() raises it on the calling thread. Items that stopped leave garbage the caller never
// reads: the call raises.
//
// Inactive (no poll installed, or the benchmarks' set_fixed_chunk(-1) baseline): requested() is one
// load and a branch, master_wait() returns at once, and the region runs exactly as without it.
#pragma once

#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>

#include "deepcheap/common/interrupt.hpp"

namespace deepcheap::cpu {

class ItemStop {
 public:
  // How often a long item calls requested(): every this many steps (pieces of a walk, cells of a plane).
  static constexpr int64_t kEvery = 4096;

  ItemStop() {
    const interrupt::Settings& s = interrupt::settings();
    active_ = s.poll.load(std::memory_order_relaxed) != nullptr && s.fixed_chunk.load(std::memory_order_relaxed) >= 0;
  }

  // Inside the region: whether the work should stop now. On the master thread it first polls, at most
  // every kPollSeconds.
  bool requested() {
    if (!active_) return false;
    if (omp_get_thread_num() == 0) poll_if_due();
    return stop_.load(std::memory_order_relaxed);
  }

  // Inside the region, master thread only (others return at once): after its own items, poll until
  // `done` reaches `total` or a stop is requested. It spins (yielding) for the first 2 ms, as a barrier
  // would, then sleeps 0.5 ms between looks, so a wait of seconds on one long item does not hold a core
  // a busy machine's other work could use; the end of such a wait comes at most 0.5 ms late.
  void master_wait(const std::atomic<int64_t>& done, int64_t total) {
    if (!active_ || omp_get_thread_num() != 0) return;
    const auto start = std::chrono::steady_clock::now();
    while (done.load(std::memory_order_acquire) < total && !stop_.load(std::memory_order_relaxed)) {
      poll_if_due();
      if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2))
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }

  // After the region, on the calling thread: raises what a poll threw.
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

  // A long item's own counter: tick() once per step (a piece, a region) is true when the item should
  // stop, and asks requested() only every kEvery steps.
  struct Countdown {
    ItemStop* stop;
    int64_t left = kEvery;
    bool tick() {
      if (--left > 0) return false;
      left = kEvery;
      return stop->requested();
    }
  };

 private:
  static constexpr double kPollSeconds = 0.01;

  void poll_if_due() {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < kPollSeconds) return;
    last_ = now;
    try {
      interrupt::poll();
    } catch (...) {
      error_ = std::current_exception();
      stop_.store(true, std::memory_order_relaxed);
    }
  }

  bool active_ = false;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();  // master thread only
  std::exception_ptr error_;                                                         // written by the master only
};

// Items [begin, end) on `threads` threads (dynamic schedule, `grain` items at a time), any of which may
// run long: item(state, i, stop) for each, where `state` is make_state()'s per-thread scratch and `stop`
// the shared ItemStop its long loops tick (ItemStop::Countdown). Once a stop is requested the remaining
// items are skipped; the KeyboardInterrupt (or whatever the poll threw) is raised after the region.
template <class MakeState, class Item>
void for_stoppable_items(int64_t begin, int64_t end, int threads, int grain, MakeState&& make_state, Item&& item) {
  ItemStop stop;
  std::atomic<int64_t> done{0};
#pragma omp parallel num_threads(threads)
  {
    auto state = make_state();
#pragma omp for schedule(dynamic, grain) nowait
    for (int64_t i = begin; i < end; ++i) {
      if (!stop.requested()) item(state, i, stop);
      done.fetch_add(1, std::memory_order_release);
    }
    stop.master_wait(done, end - begin);
  }
  stop.rethrow();
}

}  // namespace deepcheap::cpu
