// CPU drivers of the ReLU area (see relu.hpp): OpenMP loops over independent items around the
// header math in deepcheap/relu/network.hpp. Each item is computed whole by one thread, in a fixed
// order, so results do not depend on the thread count. The line walk is deepcheap::relu::walk_item,
// the same per-line function the CUDA driver (csrc/cuda/relu.cu) runs on one GPU thread per item.
// Every loop runs in interruptible chunks of items (deepcheap/common/interrupt.hpp): an item's result
// depends on nothing but its own index, so the chunks never change a result.
#include "relu.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
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

namespace {

// Thrown inside a plane walk when its ItemStop says stop; caught by the same thread around the unit.
struct Stopped {};

// Depth-first polygon splitting in one plane: the cells of level l inside polygon `poly`, given the
// previous level's post-activations as affine functions a + s cu + t cv of the plane coordinates.
struct PlaneWalk {
  const int64_t* widths = nullptr;
  int layers = 0;
  const double* params = nullptr;
  double tol = 0.0;
  int64_t regions = 0;
  std::vector<double>* cells_out = nullptr;     // (area, centroid s, centroid t) per region, when kept
  ItemStop::Countdown* stop = nullptr;          // ticked once per region (throws Stopped when it says stop)
  std::vector<std::vector<double>> a, cu, cv;  // per level: post-activations
  std::vector<double> scratch_pos, scratch_neg;

  // Level 0: the plane origin + s u + t v itself.
  PlaneWalk(const int64_t* w, int n_layers, const double* network, double tolerance, const double* plane)
      : widths(w), layers(n_layers), params(network), tol(tolerance), a(n_layers), cu(n_layers), cv(n_layers) {
    for (int l = 0; l < layers; ++l) {
      a[l].assign(static_cast<size_t>(widths[l]), 0.0);
      cu[l].assign(static_cast<size_t>(widths[l]), 0.0);
      cv[l].assign(static_cast<size_t>(widths[l]), 0.0);
    }
    const int64_t d = widths[0];
    for (int64_t j = 0; j < d; ++j) {
      a[0][j] = plane[j];
      cu[0][j] = plane[d + j];
      cv[0][j] = plane[2 * d + j];
    }
  }

  // Level l's pre-activations (pz + s pu + t pv) and the cells their lines cut `poly` into.
  struct Split {
    std::vector<double> pz, pu, pv;
    std::vector<std::vector<double>> cells;
  };
  Split split(int l, const std::vector<double>& poly) {
    const int64_t n = widths[l];
    const double* W = params + dr::layer_offset(widths, l);
    const double* b = W + n * widths[l - 1];
    Split out;
    out.pz.resize(static_cast<size_t>(n));
    out.pu.resize(static_cast<size_t>(n));
    out.pv.resize(static_cast<size_t>(n));
    dr::affine(W, b, n, widths[l - 1], a[l - 1].data(), out.pz.data());
    dr::affine(W, nullptr, n, widths[l - 1], cu[l - 1].data(), out.pu.data());
    dr::affine(W, nullptr, n, widths[l - 1], cv[l - 1].data(), out.pv.data());
    std::vector<std::vector<double>> next;
    out.cells.push_back(poly);
    for (int64_t j = 0; j < n; ++j) {
      next.clear();
      for (auto& cell : out.cells) {
        const int nv = static_cast<int>(cell.size() / 2);
        scratch_pos.resize(2 * (nv + 1));
        scratch_neg.resize(2 * (nv + 1));
        int np = 0, nn = 0;
        if (dr::polygon_split(cell.data(), nv, out.pz[j], out.pu[j], out.pv[j], tol, scratch_pos.data(), np,
                              scratch_neg.data(), nn)) {
          next.emplace_back(scratch_pos.begin(), scratch_pos.begin() + 2 * np);
          next.emplace_back(scratch_neg.begin(), scratch_neg.begin() + 2 * nn);
        } else {
          next.push_back(std::move(cell));
        }
      }
      out.cells.swap(next);
    }
    return out;
  }

  // One cell of level l: a region at the last hidden level, else the next level splits it.
  void enter(int l, const Split& level, const std::vector<double>& cell) {
    double cs = 0, ct = 0;
    const double area = dr::polygon_area_centroid(cell.data(), static_cast<int>(cell.size() / 2), cs, ct);
    if (l == layers - 1) {
      ++regions;
      if (cells_out) cells_out->insert(cells_out->end(), {area, cs, ct});
      if (stop && stop->tick()) throw Stopped{};
      return;
    }
    for (int64_t j = 0; j < widths[l]; ++j) {
      const bool on = level.pz[j] + cs * level.pu[j] + ct * level.pv[j] > 0.0;
      a[l][j] = on ? level.pz[j] : 0.0;
      cu[l][j] = on ? level.pu[j] : 0.0;
      cv[l][j] = on ? level.pv[j] : 0.0;
    }
    descend(l + 1, cell);
  }

  void descend(int l, const std::vector<double>& poly) {
    const Split level = split(l, poly);
    for (const auto& cell : level.cells) enter(l, level, cell);
  }
};

}  // namespace

PlaneRegions plane_regions(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                           const double* planes, int64_t n_planes, const double* extent, double tol, bool keep_cells) {
  plan::check_relu_tol(tol);
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front();
  plan::check_relu_finite(planes, n_planes * 3 * d, "plane origin and directions");
  plan::check_relu_finite(extent, 4, "extent");
  if (!(extent[0] < extent[1] && extent[2] < extent[3]))
    throw std::invalid_argument("extent (s0, s1, t0, t1) needs s0 < s1 and t0 < t1");
  const int64_t items = n_nets * n_planes;
  PlaneRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  const std::vector<double> rect{extent[0], extent[2], extent[1], extent[2], extent[1], extent[3], extent[0], extent[3]};
  if (layers == 1) {  // an affine map: the whole rectangle is one region
    if (keep_cells)
      for (int64_t i = 0; i < items; ++i)
        r.cells.insert(r.cells.end(), {(extent[1] - extent[0]) * (extent[3] - extent[2]), 0.5 * (extent[0] + extent[1]),
                                       0.5 * (extent[2] + extent[3])});
    std::fill(r.counts.begin(), r.counts.end(), int64_t(1));
    return r;
  }
  const int threads = deepcheap::cpu::num_threads();
  auto walk = [&](int64_t i) { return PlaneWalk(widths.data(), layers, params + (i / n_planes) * per, tol,
                                                planes + (i % n_planes) * 3 * d); };
  // Two passes, each in interruptible chunks. First every item's rectangle is split by the first hidden
  // layer; then each of those cells is a unit of its own, walked depth first through the deeper layers
  // (a single plane of a deep network is then many units, for the threads and for Ctrl-C alike). A
  // unit's regions are those of its subtree of the one-pass walk, and units are gathered in order, so
  // the counts and cells are the one-pass walk's.
  std::vector<PlaneWalk::Split> first(static_cast<size_t>(items));
  walk_in_chunks(items, threads, [&](int64_t begin, int64_t end) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t i = begin; i < end; ++i) first[static_cast<size_t>(i)] = walk(i).split(1, rect);
  });
  std::vector<int64_t> unit_begin(static_cast<size_t>(items) + 1, 0);
  for (int64_t i = 0; i < items; ++i)
    unit_begin[i + 1] = unit_begin[i] + static_cast<int64_t>(first[static_cast<size_t>(i)].cells.size());
  const int64_t units = unit_begin[items];
  std::vector<int64_t> unit_regions(static_cast<size_t>(units), 0);
  std::vector<std::vector<double>> unit_cells(keep_cells ? static_cast<size_t>(units) : 0);
  walk_in_chunks(units, threads, [&](int64_t begin, int64_t end) {
    // A unit (one cell of the first hidden layer) of a deep network can hold millions of regions: the
    // walks tick a shared stop every region (cpu/stop.hpp), as the line walks do.
    for_stoppable_items(begin, end, threads, 1, [] { return 0; }, [&](int, int64_t u, ItemStop& stop) {
      const int64_t i = std::upper_bound(unit_begin.begin(), unit_begin.end(), u) - unit_begin.begin() - 1;
      const PlaneWalk::Split& level = first[static_cast<size_t>(i)];
      PlaneWalk w = walk(i);
      ItemStop::Countdown countdown{&stop};
      w.stop = &countdown;
      if (keep_cells) w.cells_out = &unit_cells[static_cast<size_t>(u)];
      try {
        w.enter(1, level, level.cells[static_cast<size_t>(u - unit_begin[i])]);
      } catch (const Stopped&) {
      }
      unit_regions[static_cast<size_t>(u)] = w.regions;
    });
  });
  for (int64_t i = 0; i < items; ++i)
    for (int64_t u = unit_begin[i]; u < unit_begin[i + 1]; ++u) r.counts[static_cast<size_t>(i)] += unit_regions[u];
  if (keep_cells) r.cells = concatenate(unit_cells);
  return r;
}

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

}  // namespace deepcheap::cpu

