// The ReLU line and plane walks on the GPU (the plane walk: at the end of the file). The line walk: one
// thread per item (network, segment) runs deepcheap::relu::walk_item (deepcheap/relu/network.hpp), the
// function the CPU driver's loop calls, over a workspace of its own.
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

// ---- the plane walk ------------------------------------------------------------------------------
// One GPU thread per unit of work runs the CPU driver's per-unit functions (deepcheap::relu::
// plane_first_cells, plane_unit_regions), in the CPU driver's two stages, each a counting pass then a
// filling pass (the outputs are variable-length again, for the reasons above):
//   1. items (network, plane): count the first hidden layer's cells in the rectangle and their
//      vertices, then store their polygons (copied to the host);
//   2. units (one per first-layer cell, so one plane of a deep network keeps many threads busy): count
//      the regions below each cell, then (cells kept) store each region's area and centroid.
// Every pass runs in timed chunks of launches as the line walk's; a launch holds at most as many
// threads as kChunkBytes of workspace (plane_doubles + plane_ints each: the plan's bounds, the same on
// every device, or stage 2's smaller first tier, below) and of outputs allow.
namespace {

struct PlaneWalk {
  const int64_t* widths;
  int layers;
  const double* params;
  int64_t per;
  const double* planes;
  int64_t n_planes;
  const double* extent;
  double tol;
  int64_t max_vertices;
  int64_t max_frames;
  double* work;
  int64_t work_doubles;
  int* state;
  int64_t work_ints;
};

template <class Emit>
__device__ __forceinline__ int64_t plane_first_item(const PlaneWalk& w, int64_t first, int64_t k, Emit& emit) {
  return relu::plane_first_cells(w.widths, w.layers, w.params, w.per, w.planes, w.n_planes, first + k, w.extent, w.tol,
                                 w.max_vertices, w.max_frames, w.work + k * w.work_doubles, w.state + k * w.work_ints,
                                 emit);
}

// Unit k of a launch: item item[k], its polygon at polys + at[k] (nv[k] vertices).
template <class Emit>
__device__ __forceinline__ int64_t plane_unit(const PlaneWalk& w, int64_t k, const int64_t* item, const int64_t* at,
                                              const int* nv, const double* polys, Emit& emit) {
  return relu::plane_unit_regions(w.widths, w.layers, w.params, w.per, w.planes, w.n_planes, item[k], polys + at[k],
                                  nv[k], w.tol, w.max_vertices, w.max_frames, w.work + k * w.work_doubles,
                                  w.state + k * w.work_ints, emit);
}

// Stage 1, pass 1: cells[k] = the first-layer cells of item first + k (or a walk's failure status),
// vertices[k] their vertices.
__global__ void relu_plane_first_count_kernel(PlaneWalk w, int64_t first, int64_t n, int64_t* cells,
                                              int64_t* vertices) {
  DC_GRID_STRIDE(k, n) {
    relu::CountCells emit;
    cells[k] = plane_first_item(w, first, k, emit);
    vertices[k] = emit.vertices;
  }
}

// Stage 1, pass 2: item first + k writes its polygons at polys + v_at[k] and their vertex counts at
// nv + c_at[k] (offsets within the launch's output).
__global__ void relu_plane_first_fill_kernel(PlaneWalk w, int64_t first, int64_t n, const int64_t* v_at,
                                             const int64_t* c_at, double* polys, int* nv) {
  DC_GRID_STRIDE(k, n) {
    relu::StorePolygons emit{polys + v_at[k], nv + c_at[k]};
    plane_first_item(w, first, k, emit);
  }
}

// Stage 2, pass 1: regions[k] = the regions below unit k (or a walk's failure status).
__global__ void relu_plane_unit_count_kernel(PlaneWalk w, int64_t n, const int64_t* item, const int64_t* at,
                                             const int* nv, const double* polys, int64_t* regions) {
  DC_GRID_STRIDE(k, n) {
    relu::CountRegions emit;
    regions[k] = plane_unit(w, k, item, at, nv, polys, emit);
  }
}

// Stage 2, pass 2: unit k writes (area, centroid s, centroid t) per region at cells + 3 r_at[k].
__global__ void relu_plane_unit_fill_kernel(PlaneWalk w, int64_t n, const int64_t* item, const int64_t* at,
                                            const int* nv, const double* polys, const int64_t* r_at, double* cells) {
  DC_GRID_STRIDE(k, n) {
    relu::StoreRegionCells emit{cells + 3 * r_at[k]};
    plane_unit(w, k, item, at, nv, polys, emit);
  }
}

// The end of the next launch from `first` in [first, stop): at most `chunk` items, and at least one,
// whose outputs (bytes(first, end)) fit kChunkBytes.
template <class Bytes>
int64_t launch_end(int64_t first, int64_t stop, int64_t chunk, Bytes&& bytes) {
  int64_t end = first + 1;
  while (end < stop && end - first < chunk && bytes(first, end + 1) <= kChunkBytes) ++end;
  return end;
}

// The offsets at[first..end) - at[first], for a launch's output pointers.
std::vector<int64_t> local_offsets(const std::vector<int64_t>& at, int64_t first, int64_t end) {
  std::vector<int64_t> out(static_cast<size_t>(end - first));
  for (int64_t k = first; k < end; ++k) out[static_cast<size_t>(k - first)] = at[k] - at[first];
  return out;
}

}  // namespace

plan::ReluPlaneRegions relu_plane_regions(Driver, const plan::ReluPlanes& p, int device) {
  check_device(device);
  if (p.layers == 1) return plan::relu_plane_affine(p);
  const int64_t items = p.items();
  DeviceGuard guard(device);
  DeviceBuffer<int64_t> widths(p.widths.data(), int64_t(p.widths.size()), "relu plane regions (copy widths)");
  DeviceBuffer<double> params(p.params, p.n_nets * p.per, "relu plane regions (copy weights)");
  DeviceBuffer<double> planes(p.planes, p.n_planes * 3 * p.d, "relu plane regions (copy planes)");
  DeviceBuffer<double> extent(p.extent, 4, "relu plane regions (copy extent)");
  const int64_t unit_bytes = p.work_doubles * int64_t(sizeof(double)) + p.work_ints * int64_t(sizeof(int));
  int64_t chunk = kChunkBytes / unit_bytes;
  chunk = chunk < 1 ? 1 : chunk > kMaxChunkItems ? kMaxChunkItems : chunk;
  const int64_t fixed = interrupt::settings().fixed_chunk.load(std::memory_order_relaxed);
  if (fixed > 0 && fixed < chunk) chunk = fixed;  // the tests' hook: small launches on small batches
  DeviceBuffer<double> work(chunk * p.work_doubles, "relu plane regions (allocate workspace)");
  DeviceBuffer<int> state(chunk * p.work_ints, "relu plane regions (allocate workspace)");
  const PlaneWalk w{widths.data(), p.layers,       params.data(),  p.per,         planes.data(),
                    p.n_planes,    extent.data(),  p.tol,          p.max_vertices, p.max_frames,
                    work.data(),   p.work_doubles, state.data(),   p.work_ints};
  const int64_t first_chunk = chunk < int64_t(kBlockThreads) ? chunk : int64_t(kBlockThreads);

  // Stage 1, pass 1, in item order (the first failing item is reported, as on the CPU).
  std::vector<int64_t> cells(static_cast<size_t>(items)), vertices(static_cast<size_t>(items));
  {
    DeviceBuffer<int64_t> d_cells(chunk, "relu plane regions (allocate counts)");
    DeviceBuffer<int64_t> d_vertices(chunk, "relu plane regions (allocate counts)");
    interrupt::run_chunks(items, first_chunk, [&](int64_t begin, int64_t end) {
      for (int64_t first = begin; first < end; first += chunk) {
        const int64_t n = end - first < chunk ? end - first : chunk;
        launch("relu_plane_first_count_kernel", relu_plane_first_count_kernel, dim3(grid_for(n)), dim3(kBlockThreads),
               w, first, n, d_cells.data(), d_vertices.data());
        d_cells.copy_to_host(cells.data() + first, n, "relu plane regions (copy counts)");
        d_vertices.copy_to_host(vertices.data() + first, n, "relu plane regions (copy counts)");
        for (int64_t i = first; i < first + n; ++i) plan::check_relu_plane_status(p, cells[i], i);
      }
    });
  }
  interrupt::poll();

  // Stage 1, pass 2: every first-layer polygon, item after item, into host memory (unit order).
  std::vector<int64_t> c_at(static_cast<size_t>(items) + 1, 0), v_at(static_cast<size_t>(items) + 1, 0);
  for (int64_t i = 0; i < items; ++i) {
    c_at[i + 1] = c_at[i] + cells[i];
    v_at[i + 1] = v_at[i] + 2 * vertices[i];
  }
  const int64_t units = c_at[items];
  std::vector<double> polys(static_cast<size_t>(v_at[items]));
  std::vector<int> nv(static_cast<size_t>(units));
  interrupt::run_chunks(items, first_chunk, [&](int64_t begin, int64_t stop) {
    for (int64_t first = begin; first < stop;) {
      const int64_t end = launch_end(first, stop, chunk, [&](int64_t a, int64_t e) {
        return (v_at[e] - v_at[a]) * int64_t(sizeof(double)) + (c_at[e] - c_at[a]) * int64_t(sizeof(int));
      });
      const int64_t n = end - first, nd = v_at[end] - v_at[first], nc = c_at[end] - c_at[first];
      const std::vector<int64_t> v_local = local_offsets(v_at, first, end), c_local = local_offsets(c_at, first, end);
      DeviceBuffer<int64_t> d_v_at(v_local.data(), n, "relu plane regions (copy offsets)");
      DeviceBuffer<int64_t> d_c_at(c_local.data(), n, "relu plane regions (copy offsets)");
      DeviceBuffer<double> d_polys(nd, "relu plane regions (allocate polygons)");
      DeviceBuffer<int> d_nv(nc, "relu plane regions (allocate polygons)");
      launch("relu_plane_first_fill_kernel", relu_plane_first_fill_kernel, dim3(grid_for(n)), dim3(kBlockThreads), w,
             first, n, d_v_at.data(), d_c_at.data(), d_polys.data(), d_nv.data());
      d_polys.copy_to_host(polys.data() + v_at[first], nd, "relu plane regions (copy polygons)");
      d_nv.copy_to_host(nv.data() + c_at[first], nc, "relu plane regions (copy polygons)");
      first = end;
    }
  });
  interrupt::poll();

  // Units: unit u is first-layer cell u (item unit_item[u], polygon at unit_at[u] in polys).
  std::vector<int64_t> unit_item(static_cast<size_t>(units)), unit_at(static_cast<size_t>(units) + 1, 0);
  for (int64_t i = 0; i < items; ++i)
    for (int64_t u = c_at[i]; u < c_at[i + 1]; ++u) unit_item[static_cast<size_t>(u)] = i;
  for (int64_t u = 0; u < units; ++u) unit_at[u + 1] = unit_at[u] + 2 * int64_t(nv[static_cast<size_t>(u)]);
  // A launch's units (any list sel of them): their items, polygon offsets and vertex counts, and the
  // polygons, gathered on the device.
  struct Units {
    DeviceBuffer<int64_t> item, at;
    DeviceBuffer<int> nv;
    DeviceBuffer<double> polys;
  };
  const auto upload = [&](const int64_t* sel, int64_t n) {
    std::vector<int64_t> item(static_cast<size_t>(n)), at(static_cast<size_t>(n));
    std::vector<int> count(static_cast<size_t>(n));
    std::vector<double> gathered;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t u = sel[k];
      item[k] = unit_item[u];
      at[k] = int64_t(gathered.size());
      count[k] = nv[u];
      gathered.insert(gathered.end(), polys.begin() + unit_at[u], polys.begin() + unit_at[u + 1]);
    }
    return Units{DeviceBuffer<int64_t>(item.data(), n, "relu plane regions (copy units)"),
                 DeviceBuffer<int64_t>(at.data(), n, "relu plane regions (copy units)"),
                 DeviceBuffer<int>(count.data(), n, "relu plane regions (copy units)"),
                 DeviceBuffer<double>(gathered.data(), int64_t(gathered.size()), "relu plane regions (copy units)")};
  };

  // Two workspace tiers for the units. The plan's bounds (tier 1) are worst cases that few walks come
  // near, and they set how many threads a launch holds; tier 0 gives every thread room for kTier0Vertices
  // vertices and kTier0Frames frames, so a launch holds many more. A unit whose walk needs more returns
  // kPlaneFull there (a count is never partial: the walk is cut before it emits past its room) and is
  // walked again in tier 1, whose answer is the CPU's; the filling pass walks each unit in the tier whose
  // count succeeded. Room never changes what a walk that fits emits, so the results are the same bits.
  constexpr int64_t kTier0Vertices = 32, kTier0Frames = 128;
  plan::ReluPlanes p0 = p;
  p0.max_vertices = p.max_vertices < kTier0Vertices ? p.max_vertices : kTier0Vertices;
  p0.max_frames = p.max_frames < kTier0Frames ? p.max_frames : kTier0Frames;
  const bool tiers = p0.max_vertices < p.max_vertices || p0.max_frames < p.max_frames;
  p0.work_doubles = relu::plane_doubles(p.widths.data(), p.layers, p0.max_vertices, p0.max_frames);
  p0.work_ints = relu::plane_ints(p0.max_frames);
  int64_t chunk0 = kChunkBytes / (p0.work_doubles * int64_t(sizeof(double)) + p0.work_ints * int64_t(sizeof(int)));
  chunk0 = chunk0 < 1 ? 1 : chunk0 > kMaxChunkItems ? kMaxChunkItems : chunk0;
  if (fixed > 0 && fixed < chunk0) chunk0 = fixed;
  if (!tiers) chunk0 = chunk;
  DeviceBuffer<double> work0(tiers ? chunk0 * p0.work_doubles : 0, "relu plane regions (allocate workspace)");
  DeviceBuffer<int> state0(tiers ? chunk0 * p0.work_ints : 0, "relu plane regions (allocate workspace)");
  PlaneWalk w0 = w;
  if (tiers) {
    w0.max_vertices = p0.max_vertices;
    w0.max_frames = p0.max_frames;
    w0.work = work0.data();
    w0.work_doubles = p0.work_doubles;
    w0.state = state0.data();
    w0.work_ints = p0.work_ints;
  }
  const PlaneWalk* walks[2] = {&w0, &w};
  const int64_t chunks[2] = {chunk0, chunk};
  std::vector<uint8_t> tier(static_cast<size_t>(units), 0);

  // Counts of the units sel[0..n) in tier t, launch after launch, into regions.
  std::vector<int64_t> regions(static_cast<size_t>(units), 0);
  std::vector<int64_t> got;
  const auto count_units = [&](int t, const int64_t* sel, int64_t n) {
    for (int64_t k0 = 0; k0 < n; k0 += chunks[t]) {
      const int64_t m = n - k0 < chunks[t] ? n - k0 : chunks[t];
      const Units u = upload(sel + k0, m);
      DeviceBuffer<int64_t> d_regions(m, "relu plane regions (allocate counts)");
      launch("relu_plane_unit_count_kernel", relu_plane_unit_count_kernel, dim3(grid_for(m)), dim3(kBlockThreads),
             *walks[t], m, u.item.data(), u.at.data(), u.nv.data(), u.polys.data(), d_regions.data());
      got.resize(static_cast<size_t>(m));
      d_regions.copy_to_host(got.data(), m, "relu plane regions (copy counts)");
      for (int64_t k = 0; k < m; ++k) regions[sel[k0 + k]] = got[k];
    }
  };

  // Stage 2, pass 1, in unit order (the first failing unit is reported, as on the CPU).
  std::vector<int64_t> sel, retry;
  interrupt::run_chunks(units, first_chunk, [&](int64_t begin, int64_t stop) {
    sel.clear();
    for (int64_t u = begin; u < stop; ++u) sel.push_back(u);
    count_units(0, sel.data(), int64_t(sel.size()));
    if (tiers) {
      retry.clear();
      for (int64_t u = begin; u < stop; ++u)
        if (regions[u] == relu::kPlaneFull) {
          retry.push_back(u);
          tier[u] = 1;
        }
      count_units(1, retry.data(), int64_t(retry.size()));
    }
    for (int64_t u = begin; u < stop; ++u) plan::check_relu_plane_status(p, regions[u], unit_item[u]);
  });
  plan::ReluPlaneRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  for (int64_t u = 0; u < units; ++u) r.counts[static_cast<size_t>(unit_item[u])] += regions[u];
  if (!p.keep_cells) return r;
  interrupt::poll();

  // Stage 2, pass 2: each unit's regions' (area, centroid) at its offset, exactly sized. A launch range
  // [first, end) of units has its output on the device whole; its units of each tier are launched apart.
  std::vector<int64_t> r_at(static_cast<size_t>(units) + 1, 0);
  for (int64_t u = 0; u < units; ++u) r_at[u + 1] = r_at[u] + regions[u];
  r.cells.resize(static_cast<size_t>(3 * r_at[units]));
  std::vector<int64_t> offsets;
  interrupt::run_chunks(units, first_chunk, [&](int64_t begin, int64_t stop) {
    for (int64_t first = begin; first < stop;) {
      const int64_t end = launch_end(first, stop, chunk0, [&](int64_t a, int64_t e) {
        return 3 * (r_at[e] - r_at[a]) * int64_t(sizeof(double));
      });
      const int64_t nr = 3 * (r_at[end] - r_at[first]);
      DeviceBuffer<double> d_cells(nr, "relu plane regions (allocate cells)");
      for (int t = 0; t < 2; ++t) {
        sel.clear();
        for (int64_t u = first; u < end; ++u)
          if (tier[u] == t) sel.push_back(u);
        for (size_t k0 = 0; k0 < sel.size(); k0 += size_t(chunks[t])) {
          const int64_t m = int64_t(sel.size() - k0) < chunks[t] ? int64_t(sel.size() - k0) : chunks[t];
          const Units u = upload(sel.data() + k0, m);
          offsets.resize(static_cast<size_t>(m));
          for (int64_t k = 0; k < m; ++k) offsets[k] = r_at[sel[k0 + k]] - r_at[first];
          DeviceBuffer<int64_t> d_r_at(offsets.data(), m, "relu plane regions (copy offsets)");
          launch("relu_plane_unit_fill_kernel", relu_plane_unit_fill_kernel, dim3(grid_for(m)), dim3(kBlockThreads),
                 *walks[t], m, u.item.data(), u.at.data(), u.nv.data(), u.polys.data(), d_r_at.data(), d_cells.data());
        }
      }
      d_cells.copy_to_host(r.cells.data() + 3 * r_at[first], nr, "relu plane regions (copy cells)");
      first = end;
    }
  });
  return r;
}

}  // namespace deepcheap::cuda
