// The ReLU line walk on the GPU: one thread per item (network, segment) runs deepcheap::relu::walk_item
// (deepcheap/relu/network.hpp), the function the CPU driver's loop calls, over a workspace of its own.
//
// Variable-length outputs: a counting pass, then a filling pass. The first launch walks every item with
// an emitter that only counts (relu::CountPieces) and returns its pieces; the host checks max_pieces,
// takes the prefix sums (breakpoints: count - 1 per item, patterns: count x neurons bytes), allocates
// exactly that, and a second launch walks every item again with an emitter that writes at the item's
// offset (relu::StorePieces). The walk is deterministic, so the second walk emits exactly what the first
// counted. We chose this over a per-item capacity with an overflow flag retried on the host: a piece
// count has no useful a-priori bound (from 1 to 2^depth), so any fixed capacity either wastes memory on
// every item or sends many items back; the second walk costs at most as much as the first and needs no
// guess, no retry and no device atomics (the README's rule for these kernels).
//
// Each pass runs in timed chunks of items (interrupt::run_chunks: a pending Ctrl-C stops the call between
// them, deepcheap/common/interrupt.hpp), each chunk as launches whose workspace (walk_doubles + walk_ints
// + pattern bytes per item) and, in the filling pass, whose outputs fit a fixed budget of device memory.
#include <atomic>
#include <vector>

#include "deepcheap/relu/network.hpp"
#include "plan/relu.hpp"
#include "relu.hpp"
#include "runtime.hpp"

namespace deepcheap::cuda {
namespace {

// Device bytes one chunk may take for workspace, and (filling pass) for its outputs; a chunk holds at
// least one item whatever its size, and at most kMaxChunkItems (many resident threads, a short launch).
constexpr int64_t kChunkBytes = int64_t(1) << 28;
constexpr int64_t kMaxChunkItems = int64_t(1) << 16;

// What every walk kernel reads: the network and the segments on the device, and the chunk's workspace
// (item k of a chunk uses work + k * work_doubles, state + k * work_ints, bits + k * work_bytes).
struct Walk {
  const int64_t* widths;
  int layers;
  const double* params_t;
  int64_t per;
  const double* lines;
  int64_t n_lines;
  double tol;
  int64_t max_pieces;
  int64_t neurons;
  double* work;
  int64_t work_doubles;
  int* state;
  int64_t work_ints;
  uint8_t* bits;
  int64_t work_bytes;
};

template <class Emit>
__device__ __forceinline__ int64_t walk_chunk_item(const Walk& w, int64_t first, int64_t k, Emit& emit) {
  return relu::walk_item(w.widths, w.layers, w.params_t, w.per, w.lines, w.n_lines, first + k, w.tol, w.max_pieces,
                         w.work + k * w.work_doubles, w.bits + k * w.work_bytes, w.state + k * w.work_ints, emit);
}

// Pass 1: counts[k] = the pieces of item first + k (-1 past max_pieces).
__global__ void relu_count_kernel(Walk w, int64_t first, int64_t n, int64_t* counts) {
  DC_GRID_STRIDE(k, n) {
    relu::CountPieces emit;
    counts[k] = walk_chunk_item(w, first, k, emit);
  }
}

// Pass 2: item first + k writes its breakpoints at t + t_at[k] and (patterns not null) its patterns at
// patterns + p_at[k] * neurons; t_at and p_at are offsets within the chunk's output.
__global__ void relu_fill_kernel(Walk w, int64_t first, int64_t n, const int64_t* t_at, const int64_t* p_at, double* t,
                                 uint8_t* patterns) {
  DC_GRID_STRIDE(k, n) {
    relu::StorePieces emit{t + t_at[k], patterns ? patterns + p_at[k] * w.neurons : nullptr, w.neurons};
    walk_chunk_item(w, first, k, emit);
  }
}

}  // namespace

plan::ReluLineRegions relu_line_regions(Driver, const plan::ReluLines& p, int device) {
  check_device(device);
  const int64_t items = p.items();
  plan::ReluLineRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  if (items == 0) return r;
  DeviceGuard guard(device);
  DeviceBuffer<int64_t> widths(p.widths.data(), int64_t(p.widths.size()), "relu line regions (copy widths)");
  DeviceBuffer<double> params_t(p.params_t.data(), int64_t(p.params_t.size()), "relu line regions (copy weights)");
  DeviceBuffer<double> lines(p.lines, p.n_lines * 2 * p.d, "relu line regions (copy lines)");
  const int64_t item_bytes = p.work_doubles * int64_t(sizeof(double)) + p.work_ints * int64_t(sizeof(int)) + p.work_bytes;
  int64_t chunk = kChunkBytes / item_bytes;
  chunk = chunk < 1 ? 1 : chunk > kMaxChunkItems ? kMaxChunkItems : chunk;
  // The interrupt test hook (interrupt::set_fixed_chunk > 0) caps a launch at that many items, so the
  // tests run the chunked passes on small batches.
  const int64_t fixed = interrupt::settings().fixed_chunk.load(std::memory_order_relaxed);
  if (fixed > 0 && fixed < chunk) chunk = fixed;
  if (chunk > items) chunk = items;
  DeviceBuffer<double> work(chunk * p.work_doubles, "relu line regions (allocate workspace)");
  DeviceBuffer<int> state(chunk * p.work_ints, "relu line regions (allocate workspace)");
  DeviceBuffer<uint8_t> bits(chunk * p.work_bytes, "relu line regions (allocate workspace)");
  const Walk w{widths.data(), p.layers,     params_t.data(), p.per,        lines.data(),
               p.n_lines,     p.tol,        p.max_pieces,    p.neurons,    work.data(),
               p.work_doubles, state.data(), p.work_ints,    bits.data(),  p.work_bytes};

  // Pass 1, chunk after chunk in item order, so the first item over max_pieces is found in its chunk
  // (as on the CPU) and the call stops there. Chunks of items are timed by run_chunks (about 0.1 s each,
  // starting from one block of items: a long walk per item, a slow emulation, is still interruptible);
  // a chunk larger than the workspace runs as several launches.
  const int64_t first_chunk = chunk < int64_t(kBlockThreads) ? chunk : int64_t(kBlockThreads);
  {
    DeviceBuffer<int64_t> counts(chunk, "relu line regions (allocate counts)");
    interrupt::run_chunks(items, first_chunk, [&](int64_t begin, int64_t end) {
      for (int64_t first = begin; first < end; first += chunk) {
        const int64_t n = end - first < chunk ? end - first : chunk;
        launch("relu_count_kernel", relu_count_kernel, dim3(grid_for(n)), dim3(kBlockThreads), w, first, n,
               counts.data());
        counts.copy_to_host(r.counts.data() + first, n, "relu line regions (copy counts)");
        plan::check_relu_counts(p, r.counts.data(), first, first + n);
      }
    });
  }
  interrupt::poll();  // between the passes too

  // Offsets of every item's output (breakpoints count - 1, patterns count x neurons), exactly sized.
  std::vector<int64_t> t_at(static_cast<size_t>(items) + 1, 0), p_at(static_cast<size_t>(items) + 1, 0);
  for (int64_t i = 0; i < items; ++i) {
    t_at[i + 1] = t_at[i] + r.counts[i] - 1;
    p_at[i + 1] = p_at[i] + r.counts[i];
  }
  r.breakpoints.resize(static_cast<size_t>(t_at[items]));
  if (p.keep_patterns) r.patterns.resize(static_cast<size_t>(p_at[items] * p.neurons));
  const int64_t piece_bytes = p.keep_patterns ? p.neurons : 0;

  // Pass 2, in timed chunks again; each launch takes at most `chunk` items whose outputs fit
  // kChunkBytes (at least one item).
  std::vector<int64_t> t_local, p_local;
  interrupt::run_chunks(items, first_chunk, [&](int64_t begin, int64_t stop) {
    for (int64_t first = begin; first < stop;) {
      int64_t end = first + 1;
      const auto bytes = [&](int64_t e) {
        return (t_at[e] - t_at[first]) * int64_t(sizeof(double)) + (p_at[e] - p_at[first]) * piece_bytes;
      };
      while (end < stop && end - first < chunk && bytes(end + 1) <= kChunkBytes) ++end;
      const int64_t n = end - first;
      t_local.resize(static_cast<size_t>(n));
      p_local.resize(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) {
        t_local[k] = t_at[first + k] - t_at[first];
        p_local[k] = p_at[first + k] - p_at[first];
      }
      const int64_t nt = t_at[end] - t_at[first], np = (p_at[end] - p_at[first]) * piece_bytes;
      DeviceBuffer<int64_t> d_t_at(t_local.data(), n, "relu line regions (copy offsets)");
      DeviceBuffer<int64_t> d_p_at(p_local.data(), n, "relu line regions (copy offsets)");
      DeviceBuffer<double> d_t(nt, "relu line regions (allocate breakpoints)");
      DeviceBuffer<uint8_t> d_p(np, "relu line regions (allocate patterns)");
      launch("relu_fill_kernel", relu_fill_kernel, dim3(grid_for(n)), dim3(kBlockThreads), w, first, n,
             d_t_at.data(), d_p_at.data(), d_t.data(), p.keep_patterns ? d_p.data() : static_cast<uint8_t*>(nullptr));
      d_t.copy_to_host(r.breakpoints.data() + t_at[first], nt, "relu line regions (copy breakpoints)");
      if (p.keep_patterns)
        d_p.copy_to_host(r.patterns.data() + p_at[first] * p.neurons, np, "relu line regions (copy patterns)");
      first = end;
    }
  });
  return r;
}

}  // namespace deepcheap::cuda
