// Timed driver of the machine-limit probes: every thread runs its own copy (its own buffer, touched
// first by that thread), so the figure is the all-threads limit; 1 thread gives the one-core limit.
#include "roofline.hpp"

#include <omp.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace deepcheap::cpu {

RooflineProbe roofline_probe(const std::string& kind, int64_t amount, int64_t bytes, int threads) {
  if (kind != "int" && kind != "fp" && kind != "read" && kind != "philox")
    throw std::invalid_argument("roofline probe kind must be 'int', 'fp', 'read' or 'philox', got '" + kind + "'");
  if (amount < 1 || threads < 1 || (kind == "read" && bytes < 64))
    throw std::invalid_argument("roofline probe needs amount >= 1, threads >= 1 and (read) bytes >= 64");
  const int64_t words = bytes / 8;
  const int lanes = DC_DISPATCH(roofline_lanes)();
  std::vector<uint64_t> checks(static_cast<size_t>(threads), 0);
  double seconds = 0;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    // The read buffer starts on a 64-byte line (malloc gives 16): a vector load that straddles two lines
    // costs two, which halved the AVX-512 probe's rates.
    std::vector<uint64_t> storage;
    uint64_t* buffer = nullptr;
    if (kind == "read") {
      storage.resize(static_cast<size_t>(words) + 8);
      const uintptr_t at = reinterpret_cast<uintptr_t>(storage.data());
      buffer = storage.data() + ((64 - at % 64) % 64) / 8;
      for (int64_t i = 0; i < words; ++i) buffer[i] = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    }
    auto run = [&](uint64_t seed) -> uint64_t {
      if (kind == "int") return DC_DISPATCH(roofline_int_ops)(amount, seed);
      if (kind == "philox") return DC_DISPATCH(roofline_philox)(amount, seed, DC_DISPATCH(roofline_philox_run)());
      if (kind == "fp") return static_cast<uint64_t>(DC_DISPATCH(roofline_fp_ops)(amount, static_cast<double>(seed)) * 1e6);
      return DC_DISPATCH(roofline_read)(buffer, words, amount);
    };
    uint64_t c = run(static_cast<uint64_t>(t) + 1);  // warm-up: caches, frequency, page faults
#pragma omp barrier
    const auto start = std::chrono::steady_clock::now();
    c ^= run(static_cast<uint64_t>(t) + 2);
#pragma omp barrier
#pragma omp master
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    checks[static_cast<size_t>(t)] = c;
  }
  uint64_t check = 0;
  for (uint64_t c : checks) check ^= c;
  double per_thread = kind == "read"     ? 8.0 * static_cast<double>(words) * static_cast<double>(amount)
                      : kind == "philox" ? 4.0 * static_cast<double>(DC_DISPATCH(roofline_philox_run)()) *
                                               static_cast<double>(amount)
                                         : 2.0 * lanes * static_cast<double>(amount);
  return {seconds, per_thread * threads, check};
}

}  // namespace deepcheap::cpu
