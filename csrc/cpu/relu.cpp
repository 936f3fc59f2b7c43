// CPU drivers of the ReLU area (see relu.hpp): OpenMP loops over independent items around the
// header math in deepcheap/relu/network.hpp. Each item is computed whole by one thread, in a fixed
// order, so results do not depend on the thread count. The line walk is deepcheap::relu::walk_item,
// the same per-line function the CUDA driver (csrc/cuda/relu.cu) runs on one GPU thread per item; the
// plane walk is deepcheap::relu::plane_first_cells and plane_unit_regions, likewise shared.
// Every loop runs in interruptible chunks of items (deepcheap/common/interrupt.hpp): an item's result
// depends on nothing but its own index, so the chunks never change a result.
#include "relu.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "deepcheap/relu/network.hpp"
#include "relu_walk.hpp"
#include "stop.hpp"
#include "threads.hpp"

namespace deepcheap::cpu::relu {

namespace dr = deepcheap::relu;

namespace {

int layers_of(const std::vector<int64_t>& widths) { return static_cast<int>(widths.size()) - 1; }

int64_t max_width(const std::vector<int64_t>& widths) { return *std::max_element(widths.begin(), widths.end()); }

// f(i, network, point, b0, b1) for every item i = (network, point) of a batch of points, with two
// scratch rows of the widest layer per thread.
template <class F>
void for_each_point(const std::vector<int64_t>& widths, int64_t n_nets, int64_t n_points, F f) {
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t buf = max_width(widths);
  const int threads = deepcheap::cpu::num_threads();
  // One item costs about one multiply-add per parameter.
  interrupt::run_chunks(n_nets * n_points, interrupt::first_chunk(double(per)), [&](int64_t begin, int64_t end) {
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> b0(buf), b1(buf);
#pragma omp for schedule(static)
      for (int64_t i = begin; i < end; ++i) f(i, i / n_points, i % n_points, b0.data(), b1.data());
    }
  }, threads);
}

}  // namespace

void forward(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets, const double* x,
             int64_t n_points, double* out) {
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front(), m = widths.back();
  for_each_point(widths, n_nets, n_points, [&](int64_t i, int64_t n, int64_t p, double* b0, double* b1) {
    dr::forward(widths.data(), layers, params + n * per, x + p * d, out + i * m, b0, b1);
  });
}

void pattern_hashes(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                    const double* x, int64_t n_points, uint64_t* hashes) {
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front();
  for_each_point(widths, n_nets, n_points, [&](int64_t i, int64_t n, int64_t p, double* b0, double* b1) {
    hashes[i] = dr::pattern_hash(widths.data(), layers, params + n * per, x + p * d, b0, b1);
  });
}

namespace {

// Region walks take from microseconds (a small network, a short segment) to seconds (a deep sawtooth)
// per item, with no cheap estimate: the first chunk is one item per thread and later chunks follow
// the measured rate.
template <class Body>
void walk_in_chunks(int64_t items, int threads, Body&& body) {
  interrupt::run_chunks(items, threads, body, threads);
}

// The items' breakpoints (and patterns) one after the other, in item order.
template <class T>
std::vector<T> concatenate(const std::vector<std::vector<T>>& parts) {
  size_t total = 0;
  for (const auto& part : parts) total += part.size();
  std::vector<T> out;
  out.reserve(total);
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

}  // namespace deepcheap::cpu::relu

namespace deepcheap::cpu {

namespace {
// One walk's emitter (the kernel calls it through a function pointer: it lives in no target namespace):
// interior breakpoints and, when kept, patterns into the item's vectors; each piece ticks the shared stop.
struct LineEmit {
  std::vector<double>* cuts;
  std::vector<uint8_t>* patterns;
  int64_t neurons;
  ItemStop::Countdown stop;
  static bool call(void* self, double s, const uint8_t* b) {
    LineEmit& e = *static_cast<LineEmit*>(self);
    if (s > 0.0) e.cuts->push_back(s);
    if (e.patterns) e.patterns->insert(e.patterns->end(), b, b + e.neurons);
    return !e.stop.tick();
  }
};
}  // namespace

plan::ReluLineRegions relu_line_regions(Driver, const plan::ReluLines& p, int) {
  const int64_t items = p.items();
  std::vector<std::vector<double>> cuts(static_cast<size_t>(items));
  std::vector<std::vector<uint8_t>> bits(p.keep_patterns ? static_cast<size_t>(items) : 0);
  plan::ReluLineRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  const int threads = deepcheap::cpu::num_threads();
  const auto walk_item = DC_DISPATCH(relu_walk_line_item);  // the walk compiled for the SIMD target
  relu::walk_in_chunks(items, threads, [&](int64_t begin, int64_t end) {
    // One segment can hold millions of pieces (seconds of walking): the walks tick a shared stop every
    // piece, and the calling thread polls for Ctrl-C while it walks and while it waits (cpu/stop.hpp).
    struct Scratch {
      std::vector<double> work;
      std::vector<uint8_t> pattern;
      std::vector<int> state;
    };
    const auto scratch = [&] {
      return Scratch{std::vector<double>(static_cast<size_t>(p.work_doubles)),
                     std::vector<uint8_t>(static_cast<size_t>(p.work_bytes)),
                     std::vector<int>(static_cast<size_t>(p.work_ints))};
    };
    for_stoppable_items(begin, end, threads, 4, scratch, [&](Scratch& w, int64_t i, ItemStop& stop) {
      LineEmit emit{&cuts[static_cast<size_t>(i)], p.keep_patterns ? &bits[static_cast<size_t>(i)] : nullptr,
                    p.neurons, {&stop}};
      r.counts[static_cast<size_t>(i)] =
          walk_item(p.widths.data(), p.layers, p.params_t.data(), p.per, p.lines, p.n_lines, i, p.tol, p.max_pieces,
                    w.work.data(), w.pattern.data(), w.state.data(), &LineEmit::call, &emit);
    });
    // Items run in index order chunk after chunk, so the first item over max_pieces is in this chunk.
    plan::check_relu_counts(p, r.counts.data(), begin, end);
  });
  r.breakpoints = relu::concatenate(cuts);
  if (p.keep_patterns) r.patterns = relu::concatenate(bits);
  return r;
}

namespace dr = deepcheap::relu;

namespace {
// One plane unit's emitter: each region's (area, centroid) into the unit's vector when kept; each
// region ticks the shared stop.
struct PlaneEmit {
  std::vector<double>* cells;
  ItemStop::Countdown stop;
  bool operator()(double area, double cs, double ct, const double*, int) {
    if (cells) cells->insert(cells->end(), {area, cs, ct});
    return !stop.tick();
  }
};
// The first pass's emitter: every first-layer cell's polygon and vertex count.
struct FirstCells {
  std::vector<double>* vertices;
  std::vector<int>* counts;
  bool operator()(double, double, double, const double* poly, int n) {
    vertices->insert(vertices->end(), poly, poly + 2 * n);
    counts->push_back(n);
    return true;
  }
};
}  // namespace

plan::ReluPlaneRegions relu_plane_regions(Driver, const plan::ReluPlanes& p, int) {
  if (p.layers == 1) return plan::relu_plane_affine(p);
  const int64_t items = p.items();
  const int64_t* widths = p.widths.data();
  const int threads = deepcheap::cpu::num_threads();
  // Each thread's workspace, left uninitialised: it is sized for the worst case (up to
  // kReluPlaneWorkBytes) and a walk touches only the part it uses, so a wide network's untouched pages
  // cost nothing (each chunk allocates it again).
  struct Scratch {
    std::unique_ptr<double[]> work;
    std::unique_ptr<int[]> state;
  };
  const auto scratch = [&] {
    return Scratch{std::unique_ptr<double[]>(new double[static_cast<size_t>(p.work_doubles)]),
                   std::unique_ptr<int[]>(new int[static_cast<size_t>(p.work_ints)])};
  };
  // Two passes, each in interruptible chunks. First every item's rectangle is split by the first hidden
  // layer (deepcheap::relu::plane_first_cells); then each of those cells is a unit of its own, walked
  // depth first through the deeper layers (plane_unit_regions: a single plane of a deep network is then
  // many units, for the threads and for Ctrl-C alike). Units are gathered in order, so the counts and
  // cells are those of one walk per item.
  std::vector<std::vector<double>> first_vertices(static_cast<size_t>(items));
  std::vector<std::vector<int>> first_counts(static_cast<size_t>(items));
  std::vector<int64_t> status(static_cast<size_t>(items), 0);
  relu::walk_in_chunks(items, threads, [&](int64_t begin, int64_t end) {
#pragma omp parallel num_threads(threads)
    {
      Scratch w = scratch();
#pragma omp for schedule(dynamic, 1)
      for (int64_t i = begin; i < end; ++i) {
        FirstCells emit{&first_vertices[static_cast<size_t>(i)], &first_counts[static_cast<size_t>(i)]};
        status[static_cast<size_t>(i)] =
            dr::plane_first_cells(widths, p.layers, p.params, p.per, p.planes, p.n_planes, i, p.extent, p.tol,
                                  p.max_vertices, p.max_frames, w.work.get(), w.state.get(), emit);
      }
    }
    for (int64_t i = begin; i < end; ++i) plan::check_relu_plane_status(p, status[static_cast<size_t>(i)], i);
  });
  // Unit u: item unit_item[u], polygon at unit_at[u] in its item's vertices.
  std::vector<int64_t> unit_begin(static_cast<size_t>(items) + 1, 0);
  for (int64_t i = 0; i < items; ++i)
    unit_begin[i + 1] = unit_begin[i] + static_cast<int64_t>(first_counts[static_cast<size_t>(i)].size());
  const int64_t units = unit_begin[items];
  std::vector<int64_t> unit_item(static_cast<size_t>(units)), unit_at(static_cast<size_t>(units));
  for (int64_t i = 0, u = 0; i < items; ++i) {
    int64_t at = 0;
    for (int n : first_counts[static_cast<size_t>(i)]) {
      unit_item[static_cast<size_t>(u)] = i;
      unit_at[static_cast<size_t>(u++)] = at;
      at += 2 * n;
    }
  }
  std::vector<int64_t> unit_regions(static_cast<size_t>(units), 0);
  std::vector<std::vector<double>> unit_cells(p.keep_cells ? static_cast<size_t>(units) : 0);
  relu::walk_in_chunks(units, threads, [&](int64_t begin, int64_t end) {
    // A unit (one cell of the first hidden layer) of a deep network can hold millions of regions: the
    // walks tick a shared stop every region (cpu/stop.hpp), as the line walks do.
    for_stoppable_items(begin, end, threads, 1, scratch, [&](Scratch& w, int64_t u, ItemStop& stop) {
      const size_t k = static_cast<size_t>(u);
      const int64_t i = unit_item[k];
      PlaneEmit emit{p.keep_cells ? &unit_cells[k] : nullptr, {&stop}};
      const int nv = first_counts[static_cast<size_t>(i)][static_cast<size_t>(u - unit_begin[i])];
      unit_regions[k] = dr::plane_unit_regions(widths, p.layers, p.params, p.per, p.planes, p.n_planes, i,
                                               first_vertices[static_cast<size_t>(i)].data() + unit_at[k], nv, p.tol,
                                               p.max_vertices, p.max_frames, w.work.get(), w.state.get(), emit);
    });
    for (int64_t u = begin; u < end; ++u)
      plan::check_relu_plane_status(p, unit_regions[static_cast<size_t>(u)], unit_item[static_cast<size_t>(u)]);
  });
  plan::ReluPlaneRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  for (int64_t u = 0; u < units; ++u) r.counts[static_cast<size_t>(unit_item[static_cast<size_t>(u)])] += unit_regions[u];
  if (p.keep_cells) r.cells = relu::concatenate(unit_cells);
  return r;
}

}  // namespace deepcheap::cpu

