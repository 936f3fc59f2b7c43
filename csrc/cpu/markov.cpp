// Target-independent CPU drivers of the markov area: the sampling driver (chunking, SIMD dispatch) and
// multi-threaded histogram counting for the information estimates.
#include "markov.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/markov/alias.hpp"
#include "plan/markov.hpp"
#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "threads.hpp"

namespace deepcheap::cpu {
namespace {

// Chains per chunk. One table stays in L1/L2 whatever the chunk, so a small chunk keeps the chunk's
// states and words in L1. Distinct tables (a hierarchy) are streamed into the cache once per level
// and chunk, so large chunks amortise each table over many lookups (64 distinct 256-state levels, one
// thread, paths: 142 M/s with 2048 chains per chunk, 261 with 8192, 368 with 32768). Either way every
// thread gets chunks of equal size.
int64_t auto_chunk(const std::vector<markov::Level>& steps, int64_t n_chains) {
  bool one_table = true;
  for (const auto& s : steps) one_table = one_table && s.table == steps[0].table;
  const int64_t largest = one_table ? 512 : 32768;
  const int64_t threads = num_threads();
  const int64_t per_thread = (n_chains + threads - 1) / threads;
  const int64_t pieces = (per_thread + largest - 1) / largest;
  const int64_t chunk = pieces > 0 ? ((per_thread + pieces - 1) / pieces + 15) / 16 * 16 : 16;
  return chunk < 16 ? 16 : chunk;
}

}  // namespace

namespace {

// Chains of one block of the step-chunked path (below): their carried states take 4 bytes each.
constexpr int64_t kStepBlockChains = int64_t(1) << 16;

// The state chain i of a store holds (a position kept in the output: 1, 2 or 4 bytes, little-endian).
uint32_t stored_state(const markov::Store& store, int64_t i) {
  const unsigned char* at = store.base + i * store.stride_bytes;
  uint32_t v = 0;
  for (int32_t b = 0; b < store.elem_bytes; ++b) v |= uint32_t(at[b]) << (8 * b);
  return v;
}

// Chains [c0, c1) through steps [0, n_steps) in interruptible chunks of steps, the states after each
// chunk carried into the next through `carry` (the next chunk's initial states, its first step the
// global step after them): every step's numbers are keyed by (chain, global step), so the chunks
// equal one call. Chunks are multiples of 4 steps, so byte paths keep the kernel's fast layout.
template <class Kernel>
void sample_steps_chunked(Kernel kernel, const plan::MarkovSample& p, int64_t c0, int64_t c1, int64_t chunk,
                          std::vector<uint32_t>& carry) {
  const int64_t n = c1 - c0;
  carry.resize(size_t(n));
  std::vector<markov::Store> stores;
  interrupt::run_chunks(p.n_steps, interrupt::first_chunk(double(n)), [&](int64_t s0, int64_t s1) {
    stores.assign(p.stores.begin() + s0, p.stores.begin() + s1 + 1);
    for (markov::Store& st : stores)
      if (st.base != nullptr) st.base += c0 * st.stride_bytes;
    markov::Store& last = stores.back();
    const bool kept = last.base != nullptr;
    if (!kept) last = markov::Store{reinterpret_cast<unsigned char*>(carry.data()), 4, 4};
    const uint32_t* init = s0 > 0 ? carry.data() : p.init_states != nullptr ? p.init_states + c0 : nullptr;
    kernel(p.steps.data() + s0, s1 - s0, p.init, init, stores.data(), n, p.seed, chunk, p.first_chain + uint64_t(c0),
           p.first_step + uint64_t(s0));
    if (kept)
      for (int64_t i = 0; i < n; ++i) carry[size_t(i)] = stored_state(last, i);
  }, 4);
}

}  // namespace

// Blocks of chains, each through every step, in interruptible chunks (deepcheap/common/interrupt.hpp):
// chain i's numbers are keyed by first_chain + i whatever its block, so the blocks never change a result,
// and an interrupted call has written the paths of every completed block and nothing of the others.
// When even the smallest block of chains through every step is a long call (millions of steps), the
// chains go in blocks of at most kStepBlockChains, each cut into chunks of steps instead: an interrupted
// call has then written the completed blocks and, of the current block, the path positions of its
// completed steps (the final states only once its last step is done).
void markov_sample(Driver, const plan::MarkovSample& p, int device) {
  Driver::check_device(device);
  const auto kernel = DC_DISPATCH(markov_sample);
  const double cost = double(p.n_steps > 0 ? p.n_steps : 1);
  // The threads' share of a block is a multiple of 16 chains (the kernel's smallest chunk).
  const int64_t quantum = 16 * int64_t(num_threads());
  if (p.n_steps > 0 && interrupt::first_chunk(cost) < quantum) {
    std::vector<uint32_t> carry;
    for (int64_t c0 = 0; c0 < p.n_chains; c0 += kStepBlockChains) {
      const int64_t c1 = p.n_chains - c0 < kStepBlockChains ? p.n_chains : c0 + kStepBlockChains;
      const int64_t chunk = p.chunk > 0 ? p.chunk : auto_chunk(p.steps, c1 - c0);
      sample_steps_chunked(kernel, p, c0, c1, chunk, carry);
    }
    return;
  }
  std::vector<markov::Store> stores(p.stores);
  interrupt::run_chunks(p.n_chains, interrupt::first_chunk(cost), [&](int64_t begin, int64_t end) {
    const int64_t n = end - begin;
    for (size_t t = 0; t < stores.size(); ++t)
      if (p.stores[t].base != nullptr) stores[t].base = p.stores[t].base + begin * p.stores[t].stride_bytes;
    const int64_t chunk = p.chunk > 0 ? p.chunk : auto_chunk(p.steps, n);
    kernel(p.steps.data(), p.n_steps, p.init, p.init_states != nullptr ? p.init_states + begin : nullptr,
           stores.data(), n, p.seed, chunk, p.first_chain + uint64_t(begin), p.first_step);
  }, quantum);
}

}  // namespace deepcheap::cpu

namespace deepcheap::markov {

namespace {

template <class T>
const T* typed(const void* x) {
  return static_cast<const T*>(x);
}

// Calls f(get) where get(i) reads element i of x as int64, for each supported element kind.
template <class F>
void with_reader(const void* x, char kind, F&& f) {
  switch (kind) {
    case 'B': f([p = typed<uint8_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'H': f([p = typed<uint16_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'I': f([p = typed<uint32_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'i': f([p = typed<int32_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'q': f([p = typed<int64_t>(x)](int64_t i) { return p[i]; }); break;
    default:
      throw std::invalid_argument(std::string("unsupported element kind '") + kind +
                                  "': expected uint8, uint16, uint32, int32 or int64");
  }
}

// Shared by both histograms: index(i) gives the cell of element i or -1 when out of range.
template <class Index>
void histogram(Index index, int64_t n, int64_t cells, int64_t* counts, const char* what) {
  const int threads = n < (int64_t(1) << 16) ? 1 : cpu::num_threads();
  std::vector<int64_t> partial(static_cast<size_t>(threads) * cells, 0);
  int64_t bad = -1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    int64_t* mine = partial.data() + static_cast<int64_t>(t) * cells;
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    int64_t my_bad = -1;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t cell = index(i);
      if (cell < 0) {
        my_bad = i;
        break;
      }
      ++mine[cell];
    }
    if (my_bad >= 0) {
#pragma omp critical
      if (bad < 0 || my_bad < bad) bad = my_bad;
    }
  }
  if (bad >= 0)
    throw std::invalid_argument(std::string(what) + ": element " + std::to_string(bad) +
                                " lies outside the declared range of values");
  for (int64_t c = 0; c < cells; ++c) {
    int64_t s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * cells + c];
    counts[c] = s;
  }
}

}  // namespace

void count_values(const void* x, char kind, int64_t n, int64_t k, int64_t* counts) {
  with_reader(x, kind, [&](auto get) {
    histogram([&](int64_t i) { const int64_t v = get(i); return v >= 0 && v < k ? v : int64_t(-1); },
              n, k, counts, "x");
  });
}

void count_pairs(const void* x, char x_kind, const void* y, char y_kind, int64_t n, int64_t kx,
                 int64_t ky, int64_t* counts) {
  with_reader(x, x_kind, [&](auto get_x) {
    with_reader(y, y_kind, [&](auto get_y) {
      histogram(
          [&](int64_t i) {
            const int64_t a = get_x(i), b = get_y(i);
            return a >= 0 && a < kx && b >= 0 && b < ky ? a * ky + b : int64_t(-1);
          },
          n, kx * ky, counts, "(x, y)");
    });
  });
}

}  // namespace deepcheap::markov
