// CPU drivers of the ReLU area (see relu.hpp): OpenMP loops over independent items around the
// header math in deepcheap/relu/network.hpp. Each item is computed whole by one thread, in a fixed
// order, so results do not depend on the thread count.
#include "relu.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "deepcheap/relu/network.hpp"
#include "threads.hpp"

namespace deepcheap::cpu::relu {

namespace dr = deepcheap::relu;

namespace {

constexpr int kMaxLayers = 64;

int layers_of(const std::vector<int64_t>& widths) { return static_cast<int>(widths.size()) - 1; }

int64_t max_width(const std::vector<int64_t>& widths) { return *std::max_element(widths.begin(), widths.end()); }

void check_finite(const double* p, int64_t n, const char* what) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      throw std::invalid_argument(std::string(what) + " must be finite, got " + std::to_string(p[i]) + " at flat index " +
                                  std::to_string(i));
}

void check_tol(double tol) {
  if (!(tol >= 0.0 && tol <= 1e-3))
    throw std::invalid_argument("tol must be in [0, 1e-3], got " + std::to_string(tol));
}

}  // namespace

int64_t check_network(const std::vector<int64_t>& widths, int64_t n_nets, int64_t params_size, const double* params) {
  if (widths.size() < 2 || static_cast<int>(widths.size()) > kMaxLayers + 1)
    throw std::invalid_argument("a network has 1 to " + std::to_string(kMaxLayers) + " affine layers, got widths of length " +
                                std::to_string(widths.size()));
  for (size_t i = 0; i < widths.size(); ++i)
    if (widths[i] < 1 || widths[i] > (int64_t(1) << 20))
      throw std::invalid_argument("width " + std::to_string(i) + " must be in [1, 2**20], got " + std::to_string(widths[i]));
  const int64_t per = dr::layer_offset(widths.data(), layers_of(widths) + 1);
  if (n_nets < 1 || params_size != n_nets * per)
    throw std::invalid_argument("parameters have " + std::to_string(params_size) + " values but expected " +
                                std::to_string(n_nets) + " networks x " + std::to_string(per));
  check_finite(params, params_size, "network weights and biases");
  return per;
}

void forward(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets, const double* x,
             int64_t n_points, double* out) {
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front(), m = widths.back(), buf = max_width(widths);
  const int64_t items = n_nets * n_points;
  const int threads = deepcheap::cpu::num_threads();
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> b0(buf), b1(buf);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t n = i / n_points, p = i % n_points;
      dr::forward(widths.data(), layers, params + n * per, x + p * d, out + i * m, b0.data(), b1.data());
    }
  }
}

void pattern_hashes(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                    const double* x, int64_t n_points, uint64_t* hashes) {
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front(), buf = max_width(widths);
  const int64_t items = n_nets * n_points;
  const int threads = deepcheap::cpu::num_threads();
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> b0(buf), b1(buf);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t n = i / n_points, p = i % n_points;
      hashes[i] = dr::pattern_hash(widths.data(), layers, params + n * per, x + p * d, b0.data(), b1.data());
    }
  }
}

LineRegions line_regions(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                         const double* lines, int64_t n_lines, double tol, bool keep_patterns, int64_t max_pieces) {
  check_tol(tol);
  if (max_pieces < 1) throw std::invalid_argument("max_pieces must be >= 1, got " + std::to_string(max_pieces));
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front();
  const int64_t neurons = dr::hidden_neurons(widths.data(), layers);
  check_finite(lines, n_lines * 2 * d, "line end points");
  for (int64_t i = 0; i < n_lines; ++i) {
    const double* x0 = lines + i * 2 * d;
    bool same = true;
    for (int64_t j = 0; j < d; ++j) same = same && x0[j] == x0[d + j];
    if (same) throw std::invalid_argument("line " + std::to_string(i) + " is degenerate: its two end points are equal");
  }
  const int64_t items = n_nets * n_lines;
  std::vector<std::vector<double>> cuts(static_cast<size_t>(items));
  std::vector<std::vector<uint8_t>> bits(keep_patterns ? static_cast<size_t>(items) : 0);
  LineRegions r;
  r.counts.assign(static_cast<size_t>(items), 0);
  std::vector<double> params_t(static_cast<size_t>(n_nets * per));
  for (int64_t n = 0; n < n_nets; ++n) dr::transpose_params(widths.data(), layers, params + n * per, params_t.data() + n * per);
  const int threads = deepcheap::cpu::num_threads();
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> work(static_cast<size_t>(dr::walk_doubles(widths.data(), layers)));
    std::vector<uint8_t> pattern(static_cast<size_t>(std::max<int64_t>(neurons, 1)));
    std::vector<int> state(static_cast<size_t>(dr::walk_ints(widths.data(), layers)));
#pragma omp for schedule(dynamic, 4)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t n = i / n_lines, k = i % n_lines;
      std::vector<double>& mine = cuts[static_cast<size_t>(i)];
      std::vector<uint8_t>* keep = keep_patterns ? &bits[static_cast<size_t>(i)] : nullptr;
      auto emit = [&](double s, double, const uint8_t* b) {
        if (s > 0.0) mine.push_back(s);
        if (keep) keep->insert(keep->end(), b, b + neurons);
      };
      const double* x0 = lines + k * 2 * d;
      r.counts[static_cast<size_t>(i)] = dr::walk_line(widths.data(), layers, params_t.data() + n * per, x0, x0 + d, tol,
                                                       max_pieces, work.data(), pattern.data(), state.data(), emit);
    }
  }
  for (int64_t i = 0; i < items; ++i)
    if (r.counts[static_cast<size_t>(i)] < 0)
      throw std::invalid_argument("network " + std::to_string(i / n_lines) + " has more than max_pieces = " +
                                  std::to_string(max_pieces) + " regions along line " + std::to_string(i % n_lines) +
                                  ": raise max_pieces (memory and time grow with it) or shorten the segment");
  size_t total = 0, total_bits = 0;
  for (int64_t i = 0; i < items; ++i) {
    total += cuts[static_cast<size_t>(i)].size();
    if (keep_patterns) total_bits += bits[static_cast<size_t>(i)].size();
  }
  r.breakpoints.reserve(total);
  r.patterns.reserve(total_bits);
  for (int64_t i = 0; i < items; ++i) {
    r.breakpoints.insert(r.breakpoints.end(), cuts[static_cast<size_t>(i)].begin(), cuts[static_cast<size_t>(i)].end());
    if (keep_patterns)
      r.patterns.insert(r.patterns.end(), bits[static_cast<size_t>(i)].begin(), bits[static_cast<size_t>(i)].end());
  }
  return r;
}

namespace {

// Depth-first polygon splitting in one plane: the cells of level l inside polygon `poly`, given the
// previous level's post-activations as affine functions a + s cu + t cv of the plane coordinates.
struct PlaneWalk {
  const int64_t* widths = nullptr;
  int layers = 0;
  const double* params = nullptr;
  double tol = 0.0;
  int64_t regions = 0;
  std::vector<double>* cells_out = nullptr;     // (area, centroid s, centroid t) per region, when kept
  std::vector<std::vector<double>> a, cu, cv;  // per level: post-activations
  std::vector<double> z, zu, zv;               // pre-activations of the level being split
  std::vector<double> scratch_pos, scratch_neg;

  void descend(int l, const std::vector<double>& poly) {
    const int64_t n = widths[l];
    const double* W = params + dr::layer_offset(widths, l);
    const double* b = W + n * widths[l - 1];
    std::vector<double> pz(static_cast<size_t>(n)), pu(static_cast<size_t>(n)), pv(static_cast<size_t>(n));
    dr::affine(W, b, n, widths[l - 1], a[l - 1].data(), pz.data());
    dr::affine(W, nullptr, n, widths[l - 1], cu[l - 1].data(), pu.data());
    dr::affine(W, nullptr, n, widths[l - 1], cv[l - 1].data(), pv.data());
    std::vector<std::vector<double>> cells{poly}, next;
    for (int64_t j = 0; j < n; ++j) {
      next.clear();
      for (auto& cell : cells) {
        const int nv = static_cast<int>(cell.size() / 2);
        scratch_pos.resize(2 * (nv + 1));
        scratch_neg.resize(2 * (nv + 1));
        int np = 0, nn = 0;
        if (dr::polygon_split(cell.data(), nv, pz[j], pu[j], pv[j], tol, scratch_pos.data(), np, scratch_neg.data(),
                              nn)) {
          next.emplace_back(scratch_pos.begin(), scratch_pos.begin() + 2 * np);
          next.emplace_back(scratch_neg.begin(), scratch_neg.begin() + 2 * nn);
        } else {
          next.push_back(std::move(cell));
        }
      }
      cells.swap(next);
    }
    for (const auto& cell : cells) {
      double cs = 0, ct = 0;
      const double area = dr::polygon_area_centroid(cell.data(), static_cast<int>(cell.size() / 2), cs, ct);
      if (l == layers - 1) {
        ++regions;
        if (cells_out) cells_out->insert(cells_out->end(), {area, cs, ct});
        continue;
      }
      for (int64_t j = 0; j < n; ++j) {
        const bool on = pz[j] + cs * pu[j] + ct * pv[j] > 0.0;
        a[l][j] = on ? pz[j] : 0.0;
        cu[l][j] = on ? pu[j] : 0.0;
        cv[l][j] = on ? pv[j] : 0.0;
      }
      descend(l + 1, cell);
    }
  }
};

}  // namespace

PlaneRegions plane_regions(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                           const double* planes, int64_t n_planes, const double* extent, double tol, bool keep_cells) {
  check_tol(tol);
  const int layers = layers_of(widths);
  const int64_t per = dr::layer_offset(widths.data(), layers + 1);
  const int64_t d = widths.front();
  check_finite(planes, n_planes * 3 * d, "plane origin and directions");
  check_finite(extent, 4, "extent");
  if (!(extent[0] < extent[1] && extent[2] < extent[3]))
    throw std::invalid_argument("extent (s0, s1, t0, t1) needs s0 < s1 and t0 < t1");
  const int64_t items = n_nets * n_planes;
  std::vector<int64_t> counts(static_cast<size_t>(items), 0);
  std::vector<std::vector<double>> cells(keep_cells ? static_cast<size_t>(items) : 0);
  const int threads = deepcheap::cpu::num_threads();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t i = 0; i < items; ++i) {
    const int64_t n = i / n_planes, k = i % n_planes;
    const double* o = planes + k * 3 * d;
    if (layers == 1) {
      counts[static_cast<size_t>(i)] = 1;
      if (keep_cells)
        cells[static_cast<size_t>(i)] = {(extent[1] - extent[0]) * (extent[3] - extent[2]), 0.5 * (extent[0] + extent[1]),
                                         0.5 * (extent[2] + extent[3])};
      continue;
    }
    PlaneWalk w;
    w.widths = widths.data();
    w.layers = layers;
    w.params = params + n * per;
    w.tol = tol;
    if (keep_cells) w.cells_out = &cells[static_cast<size_t>(i)];
    w.a.resize(static_cast<size_t>(layers));
    w.cu.resize(static_cast<size_t>(layers));
    w.cv.resize(static_cast<size_t>(layers));
    for (int l = 0; l < layers; ++l) {
      w.a[l].assign(static_cast<size_t>(widths[l]), 0.0);
      w.cu[l].assign(static_cast<size_t>(widths[l]), 0.0);
      w.cv[l].assign(static_cast<size_t>(widths[l]), 0.0);
    }
    for (int64_t j = 0; j < d; ++j) {
      w.a[0][j] = o[j];
      w.cu[0][j] = o[d + j];
      w.cv[0][j] = o[2 * d + j];
    }
    const std::vector<double> rect{extent[0], extent[2], extent[1], extent[2], extent[1], extent[3], extent[0], extent[3]};
    w.descend(1, rect);
    counts[static_cast<size_t>(i)] = w.regions;
  }
  PlaneRegions r;
  r.counts = std::move(counts);
  for (const auto& c : cells) r.cells.insert(r.cells.end(), c.begin(), c.end());
  return r;
}

}  // namespace deepcheap::cpu::relu
