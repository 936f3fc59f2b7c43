// Thread-count state (see threads.hpp). Default: OpenMP's default, which is the number of cores
// unless OMP_NUM_THREADS says otherwise.
#include "threads.hpp"

#include <omp.h>

#include <atomic>
#include <stdexcept>
#include <string>

namespace deepcheap::cpu {
namespace {
std::atomic<int> g_threads{0};
// Per OS thread: OpenMP workers never read it (num_threads() is asked before a parallel region).
thread_local int t_override = 0;
}

int num_threads() {
  if (t_override > 0) return t_override;
  int k = g_threads.load(std::memory_order_relaxed);
  if (k > 0) return k;
  k = omp_get_max_threads();
  return k > 0 ? k : 1;
}

void set_num_threads(int k) {
  if (k < 1)
    throw std::invalid_argument("number of threads must be >= 1, got " + std::to_string(k));
  g_threads.store(k, std::memory_order_relaxed);
}

int set_thread_override(int k) {
  if (k < 0)
    throw std::invalid_argument("thread override must be >= 0 (0 clears it), got " + std::to_string(k));
  const int previous = t_override;
  t_override = k;
  return previous;
}

}  // namespace deepcheap::cpu
