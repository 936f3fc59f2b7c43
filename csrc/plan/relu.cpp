// ReLU networks, device-neutral layer (see relu.hpp).
#include "plan/relu.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "deepcheap/relu/network.hpp"

namespace deepcheap::plan {

namespace dr = deepcheap::relu;

void check_relu_finite(const double* p, int64_t n, const char* what) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      throw std::invalid_argument(std::string(what) + " must be finite, got " + std::to_string(p[i]) + " at flat index " +
                                  std::to_string(i));
}

void check_relu_tol(double tol) {
  if (!(tol >= 0.0 && tol <= 1e-3)) throw std::invalid_argument("tol must be in [0, 1e-3], got " + std::to_string(tol));
}

int64_t check_relu_network(const std::vector<int64_t>& widths, int64_t n_nets, int64_t params_size,
                           const double* params) {
  if (widths.size() < 2 || static_cast<int>(widths.size()) > kReluMaxLayers + 1)
    throw std::invalid_argument("a network has 1 to " + std::to_string(kReluMaxLayers) +
                                " affine layers, got widths of length " + std::to_string(widths.size()));
  for (size_t i = 0; i < widths.size(); ++i)
    if (widths[i] < 1 || widths[i] > (int64_t(1) << 20))
      throw std::invalid_argument("width " + std::to_string(i) + " must be in [1, 2**20], got " + std::to_string(widths[i]));
  const int64_t per = dr::layer_offset(widths.data(), static_cast<int>(widths.size()));
  if (n_nets < 1 || params_size != n_nets * per)
    throw std::invalid_argument("parameters have " + std::to_string(params_size) + " values but expected " +
                                std::to_string(n_nets) + " networks x " + std::to_string(per));
  check_relu_finite(params, params_size, "network weights and biases");
  return per;
}

ReluLines plan_relu_lines(const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                          int64_t params_size, const double* lines, int64_t n_lines, double tol, bool keep_patterns, int64_t max_pieces) {
  check_relu_tol(tol);
  if (max_pieces < 1) throw std::invalid_argument("max_pieces must be >= 1, got " + std::to_string(max_pieces));
  ReluLines p;
  p.per = check_relu_network(widths, n_nets, params_size, params);
  p.widths = widths;
  p.layers = static_cast<int>(widths.size()) - 1;
  p.d = widths.front();
  p.neurons = dr::hidden_neurons(widths.data(), p.layers);
  p.n_nets = n_nets;
  if (n_lines < 1) throw std::invalid_argument("lines is empty: expected at least one segment");
  check_relu_finite(lines, n_lines * 2 * p.d, "line end points");
  for (int64_t i = 0; i < n_lines; ++i) {
    const double* x0 = lines + i * 2 * p.d;
    bool same = true;
    for (int64_t j = 0; j < p.d; ++j) same = same && x0[j] == x0[p.d + j];
    if (same) throw std::invalid_argument("line " + std::to_string(i) + " is degenerate: its two end points are equal");
  }
  p.lines = lines;
  p.n_lines = n_lines;
  p.tol = tol;
  p.keep_patterns = keep_patterns;
  p.max_pieces = max_pieces;
  p.params_t.resize(static_cast<size_t>(n_nets * p.per));
  for (int64_t n = 0; n < n_nets; ++n)
    dr::transpose_params(widths.data(), p.layers, params + n * p.per, p.params_t.data() + n * p.per);
  p.work_doubles = dr::walk_doubles(widths.data(), p.layers);
  p.work_ints = dr::walk_ints(widths.data(), p.layers);
  p.work_bytes = p.neurons > 1 ? p.neurons : 1;
  return p;
}

void check_relu_counts(const ReluLines& p, const int64_t* counts, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    if (counts[i] < 0)
      throw std::invalid_argument("network " + std::to_string(i / p.n_lines) + " has more than max_pieces = " +
                                  std::to_string(p.max_pieces) + " regions along line " + std::to_string(i % p.n_lines) +
                                  ": raise max_pieces (memory and time grow with it) or shorten the segment");
}

ReluPlanes plan_relu_planes(const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                            int64_t params_size, const double* planes, int64_t n_planes, const double* extent,
                            double tol, bool keep_cells) {
  ReluPlanes p;
  p.per = check_relu_network(widths, n_nets, params_size, params);
  check_relu_tol(tol);
  p.widths = widths;
  p.layers = static_cast<int>(widths.size()) - 1;
  p.d = widths.front();
  p.n_nets = n_nets;
  if (n_planes < 1) throw std::invalid_argument("planes is empty: expected at least one plane");
  check_relu_finite(planes, n_planes * 3 * p.d, "plane origin and directions");
  check_relu_finite(extent, 4, "extent");
  if (!(extent[0] < extent[1] && extent[2] < extent[3]))
    throw std::invalid_argument("extent (s0, s1, t0, t1) needs s0 < s1 and t0 < t1");
  p.params = params;
  p.planes = planes;
  p.n_planes = n_planes;
  for (int k = 0; k < 4; ++k) p.extent[k] = extent[k];
  p.tol = tol;
  p.keep_cells = keep_cells;
  const int64_t* w = widths.data();
  p.max_vertices = dr::plane_vertices(w, p.layers);
  p.max_frames = dr::plane_frames(w, p.layers);
  const auto bytes = [&](int64_t v, int64_t f) {
    return dr::plane_doubles(w, p.layers, v, f) * int64_t(sizeof(double)) + dr::plane_ints(f) * int64_t(sizeof(int));
  };
  if (bytes(p.max_vertices, p.max_frames) > kReluPlaneWorkBytes) {
    // Cut both bounds to the largest m (at least 16) that fits: walks far below the bound still run.
    int64_t m = 16;
    while (bytes(std::min(p.max_vertices, 2 * m), std::min(p.max_frames, 2 * m)) <= kReluPlaneWorkBytes) m *= 2;
    int64_t lo = m, hi = 2 * m;  // bytes(lo) fits (or lo = 16), bytes(hi) does not
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      (bytes(std::min(p.max_vertices, mid), std::min(p.max_frames, mid)) <= kReluPlaneWorkBytes ? lo : hi) = mid;
    }
    p.max_vertices = std::min(p.max_vertices, lo);
    p.max_frames = std::min(p.max_frames, lo);
  }
  p.work_doubles = dr::plane_doubles(w, p.layers, p.max_vertices, p.max_frames);
  p.work_ints = dr::plane_ints(p.max_frames);
  return p;
}

ReluPlaneRegions relu_plane_affine(const ReluPlanes& p) {
  ReluPlaneRegions r;
  const int64_t items = p.items();
  r.counts.assign(static_cast<size_t>(items), 1);
  const double* e = p.extent;
  if (p.keep_cells)
    for (int64_t i = 0; i < items; ++i)
      r.cells.insert(r.cells.end(), {(e[1] - e[0]) * (e[3] - e[2]), 0.5 * (e[0] + e[1]), 0.5 * (e[2] + e[3])});
  return r;
}

void check_relu_plane_status(const ReluPlanes& p, int64_t status, int64_t item) {
  if (status >= 0) return;
  const std::string where = "network " + std::to_string(item / p.n_planes) + " in plane " +
                            std::to_string(item % p.n_planes) + ": ";
  if (status == dr::kPlaneDegenerate)
    throw std::invalid_argument(where + "a neuron's line crossed a cell of the walk more than twice (rounding made "
                                "the cell non-convex on the scale of tol = " + std::to_string(p.tol) +
                                "): raise tol");
  if (status == dr::kPlaneFull)
    throw std::invalid_argument(where + "a cell of the walk needs more than " + std::to_string(p.max_vertices) +
                                " vertices or " + std::to_string(p.max_frames) +
                                " nested splits (the workspace of one walk is capped at " +
                                std::to_string(kReluPlaneWorkBytes >> 20) +
                                " MiB): use a smaller extent or fewer hidden neurons");
  throw std::invalid_argument(where + "the plane walk failed with status " + std::to_string(status));
}

}  // namespace deepcheap::plan
