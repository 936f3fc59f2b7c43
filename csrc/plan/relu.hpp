// ReLU networks, device-neutral layer: the checks of a network, a tolerance and a batch of segments,
// and the one record of a linear-regions call (ReluLines) that the CPU driver (csrc/cpu/relu.cpp) and
// the CUDA driver (csrc/cuda/relu.cu) both take, with the result both return. No CPU or CUDA code here:
// the walk itself is deepcheap::relu::walk_item (deepcheap/relu/network.hpp).
#pragma once

#include <cstdint>
#include <vector>

namespace deepcheap::plan {

constexpr int kReluMaxLayers = 64;  // walk_line keeps per-level pointers in arrays of 64

// Checks widths (>= 2 entries, each in [1, 2**20], at most 64 affine layers) and the parameter block
// (n_nets x param_count, every value finite); returns param_count. Throws std::invalid_argument naming
// what is wrong.
int64_t check_relu_network(const std::vector<int64_t>& widths, int64_t n_nets, int64_t params_size,
                           const double* params);
// tol in [0, 1e-3].
void check_relu_tol(double tol);
// Every p[i] finite, else std::invalid_argument "<what> must be finite, got ... at flat index i".
void check_relu_finite(const double* p, int64_t n, const char* what);

// One linear_regions call: item i = (network i / n_lines, segment i % n_lines), n_nets * n_lines items.
struct ReluLines {
  std::vector<int64_t> widths;
  int layers = 0;           // affine layers (widths.size() - 1)
  int64_t per = 0;          // parameters of one network
  int64_t d = 0;            // input dimension
  int64_t neurons = 0;      // hidden neurons (pattern bytes per piece)
  int64_t n_nets = 0;
  std::vector<double> params_t;  // n_nets x per, every W_l transposed (deepcheap::relu::transpose_params)
  const double* lines = nullptr;  // n_lines x 2 x d: (x0, x1) per segment, the caller's memory
  int64_t n_lines = 0;
  double tol = 0.0;
  bool keep_patterns = false;
  int64_t max_pieces = 0;
  // The walk's workspace of one item (deepcheap::relu::walk_doubles / walk_ints, pattern bytes >= 1).
  int64_t work_doubles = 0, work_ints = 0, work_bytes = 0;

  int64_t items() const { return n_nets * n_lines; }
};

// Checks everything (network, finite non-degenerate segments, tol, max_pieces >= 1) and transposes the
// weights once; the drivers then only walk.
ReluLines plan_relu_lines(const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                          int64_t params_size, const double* lines, int64_t n_lines, double tol, bool keep_patterns, int64_t max_pieces);

struct ReluLineRegions {
  std::vector<int64_t> counts;       // (n_nets * n_lines): pieces along each segment
  std::vector<double> breakpoints;   // the interior breakpoints t of every item, item after item
  std::vector<uint8_t> patterns;     // when kept: (sum of counts) x hidden neurons, piece after piece
};

// After a driver walked items [begin, end) in order: the first one whose walk stopped over max_pieces
// (count -1) is an std::invalid_argument naming the network, the line and what to do.
void check_relu_counts(const ReluLines& p, const int64_t* counts, int64_t begin, int64_t end);

// One linear_regions_2d call: item i = (network i / n_planes, plane i % n_planes), n_nets * n_planes
// items, each the rectangle extent (s0, s1, t0, t1) of its plane {origin + s u + t v} walked by
// deepcheap::relu::plane_first_cells and plane_unit_regions (deepcheap/relu/network.hpp).
struct ReluPlanes {
  std::vector<int64_t> widths;
  int layers = 0;
  int64_t per = 0;
  int64_t d = 0;
  int64_t n_nets = 0;
  const double* params = nullptr;  // n_nets x per, the ordinary block, the caller's memory
  const double* planes = nullptr;  // n_planes x 3 x d, the caller's memory
  int64_t n_planes = 0;
  double extent[4] = {0, 0, 0, 0};
  double tol = 0.0;
  bool keep_cells = false;
  // One walk's workspace: polygons of max_vertices, max_frames of them (the exact bounds
  // plane_vertices / plane_frames, or less for a very wide network: kReluPlaneWorkBytes), and its
  // sizes plane_doubles / plane_ints. The same on every device, so the same walks fit.
  int64_t max_vertices = 0, max_frames = 0, work_doubles = 0, work_ints = 0;

  int64_t items() const { return n_nets * n_planes; }
};

// Budget of one plane walk's workspace: the exact bounds (4 + N vertices, 1 + N frames for N hidden
// neurons) fit it up to N of about 2000; beyond, the bounds are cut to fit and a walk that needs more
// is an error (relu_plane_status).
constexpr int64_t kReluPlaneWorkBytes = int64_t(64) << 20;

// Checks everything (network, finite planes, extent with s0 < s1 and t0 < t1, tol) and sizes the
// workspace; the drivers then only walk.
ReluPlanes plan_relu_planes(const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                            int64_t params_size, const double* planes, int64_t n_planes, const double* extent,
                            double tol, bool keep_cells);

struct ReluPlaneRegions {
  std::vector<int64_t> counts;  // (n_nets * n_planes): regions in each rectangle
  std::vector<double> cells;    // when kept: (area, centroid s, centroid t) per region, item after item
};

// An affine network (layers == 1): every rectangle is one region (both drivers answer it so).
ReluPlaneRegions relu_plane_affine(const ReluPlanes& p);

// A walk's result for item `item` (a first-layer pass or one of its units) that is not a count
// (relu::kPlaneDegenerate, relu::kPlaneFull) is an std::invalid_argument naming the network, the plane
// and what to do. Drivers check their items and units in order, so the first failure is reported.
void check_relu_plane_status(const ReluPlanes& p, int64_t status, int64_t item);

}  // namespace deepcheap::plan
