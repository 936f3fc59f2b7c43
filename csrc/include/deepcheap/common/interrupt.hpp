// Interruptible long calls (issue 21): every driver loop that can run longer than ~0.1 s cuts its work
// into consecutive chunks of items (sweeps, chain blocks, sample rows, words, items of the census,
// launches on a GPU) through run_chunks, which polls for a pending interrupt between chunks on the
// calling thread.
//
// The mechanism, and why this one. The poll is a plain function pointer that the binding layer installs
// once per extension module (set_poll); this header and every driver and kernel stay free of Python. The
// Python bindings install a poll that, on the interpreter's main thread only, re-acquires the GIL briefly
// and calls PyErr_CheckSignals(), throwing py::error_already_set when a handler raised (KeyboardInterrupt
// for SIGINT). We chose that over a flag set by our own C signal handler and polled by the workers:
// - it honours whatever Python-level SIGINT handler the user (or Jupyter, or a test runner) installed,
//   and any other signal with a Python handler, with no second handler to chain or restore;
// - the worker threads never need to look at anything: a chunk is a whole parallel region (or a whole
//   launch), the calling thread polls only after every worker finished it, so the workers stop at the
//   next chunk boundary by construction and no kernel's inner loop has a branch added;
// - the cost is one clock read per chunk plus one GIL round trip per poll. Chunks are sized by their
//   measured duration to about kChunkSeconds, so that cost is far below 0.1 % of the call; calls shorter
//   than one first chunk run in one piece exactly as before.
// Python runs signal handlers on the main thread only, so a poll on another thread returns at once
// without touching the GIL (as in Python, Ctrl-C interrupts the main thread).
//
// The contract for drivers: body(begin, end) processes items [begin, end) and leaves the object whole
// after each chunk (counters advanced, outputs of finished items written); results must not depend on
// where chunks begin or end (every item's random numbers are keyed by its own index, so they do not).
// run_chunks is called on the calling thread, never inside a parallel region; an exception thrown by
// the poll unwinds through the driver like any other (RAII locks and buffers).
#pragma once

// Host code only (no DC_HD): nvcc parses it in both passes, device code never calls it.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace deepcheap::interrupt {

using Poll = void (*)();

// Seconds one chunk aims at: well below the 0.5 s a user waits for Ctrl-C (a chunk of a loaded machine
// may take twice its estimate), far above the cost of a poll and of starting a parallel region, which on
// oversubscribed cores is a scheduling delay of milliseconds, not microseconds.
constexpr double kChunkSeconds = 0.1;

struct Settings {
  std::atomic<Poll> poll{nullptr};
  std::atomic<int64_t> fixed_chunk{0};  // > 0: every chunk has exactly this many items (tests); < 0: one piece
  std::atomic<int64_t> polls{0};        // polls made so far (tests: proves a call was cut)
};

// One per extension module (symbols are hidden), installed by that module's bindings.
inline Settings& settings() {
  static Settings s;
  return s;
}

inline void set_poll(Poll poll) { settings().poll.store(poll, std::memory_order_release); }

// Test and benchmark hook: > 0 forces every chunk to that many items, -1 runs every call in one piece with
// no poll (the drivers' calls before issue 21: the benchmarks' baseline), 0 restores duration-sized
// chunks. Returns the old value.
inline int64_t set_fixed_chunk(int64_t items) {
  return settings().fixed_chunk.exchange(items < 0 ? -1 : items, std::memory_order_relaxed);
}

inline int64_t polls_done() { return settings().polls.load(std::memory_order_relaxed); }

// Asks the installed poll; throws whatever it throws (the Python error of a pending signal).
inline void poll() {
  if (Poll p = settings().poll.load(std::memory_order_acquire)) {
    settings().polls.fetch_add(1, std::memory_order_relaxed);
    p();
  }
}

// Serial host loops that are not cut into chunks (a circuit's planning passes over millions of gates):
// tick(i) for every item i reads the clock every 4096 items and polls once kSerialPollSeconds have
// passed since its last poll. Polls come by time, not by item count, so a slow build (AddressSanitizer,
// some 10x) still answers Ctrl-C within milliseconds, and a fast one makes no more GIL round trips,
// which another busy Python thread (a Dask worker's) could make expensive.
class SerialPoll {
 public:
  static constexpr double kSerialPollSeconds = 0.01;
  void tick(int64_t i) {
    if ((i & 4095) == 4095) poll_if_due();
  }
  void poll_if_due() {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() < kSerialPollSeconds) return;
    last_ = now;
    poll();
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Items in a first chunk when one item costs about `cost` elementary operations (a spin update, a gate
// word, a transition): about 2^25 of them, some 10-30 ms. Later chunks follow measured durations.
inline int64_t first_chunk(double cost) {
  const double items = cost > 0 ? double(int64_t(1) << 25) / cost : double(int64_t(1) << 25);
  return items < 1 ? 1 : items > 9e15 ? int64_t(9e15) : int64_t(items);
}

// body(begin, end) over items [0, n) in consecutive chunks, polling between chunks (never after the last
// one: a call whose work is done returns, and Python delivers the signal right after it). The first chunk
// has `first` items; every next one is sized to take about kChunkSeconds at the rate measured on the one
// before, at most four times and at least half its size. Every chunk but the last is a multiple of `quantum`
// items (a driver passes the split its threads share evenly: 16 blocks of 64 rows per thread, say).
template <class Body>
void run_chunks(int64_t n, int64_t first, Body&& body, int64_t quantum = 1) {
  if (n <= 0) return;
  Settings& s = settings();
  const int64_t fixed = s.fixed_chunk.load(std::memory_order_relaxed);
  if (fixed < 0 || (s.poll.load(std::memory_order_relaxed) == nullptr && fixed == 0)) {
    body(int64_t(0), n);
    return;
  }
  if (quantum < 1) quantum = 1;
  const auto round = [quantum](int64_t items) { return items <= quantum ? quantum : items / quantum * quantum; };
  int64_t chunk = fixed > 0 ? fixed : round(first);
  for (int64_t begin = 0; begin < n;) {
    const int64_t end = n - begin <= chunk ? n : begin + chunk;
    const auto start = std::chrono::steady_clock::now();
    body(begin, end);
    if (end == n) return;
    poll();
    if (fixed == 0) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = double(end - begin) / (seconds > 1e-7 ? seconds : 1e-7);
      const double want = rate * kChunkSeconds;
      const double low = double(chunk) / 2, high = double(chunk) * 4;
      const double next = want < low ? low : want > high ? high : want;
      chunk = round(next < 1 ? 1 : int64_t(next));
    }
    begin = end;
  }
}

}  // namespace deepcheap::interrupt
