// CPU drivers of the ReLU area (csrc/include/deepcheap/relu/network.hpp holds the math): batched
// forward passes, activation-pattern hashes, and the exact walk of linear regions along segments.
// Items (network, point) or (network, line) are independent and each is computed by one thread in
// index order, so every result is the same bits on any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "driver.hpp"

namespace deepcheap::cpu::relu {

// Checks widths (>= 2 entries, each >= 1, at most 64 affine layers) and the parameter block
// (n_nets x param_count, every value finite); throws std::invalid_argument naming what is wrong.
int64_t check_network(const std::vector<int64_t>& widths, int64_t n_nets, int64_t params_size,
                      const double* params);

// out[n, p, :] = network n at x[p, :], for n < n_nets, p < n_points.
void forward(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets, const double* x,
             int64_t n_points, double* out);

// hashes[n, p] = the activation pattern of network n at x[p, :], hashed (deepcheap::relu::pattern_hash).
void pattern_hashes(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                    const double* x, int64_t n_points, uint64_t* hashes);

struct LineRegions {
  std::vector<int64_t> counts;       // (n_nets * n_lines): pieces along each segment
  std::vector<double> breakpoints;   // the interior breakpoints t of every item, item after item
  std::vector<uint8_t> patterns;     // when kept: (sum of counts) x hidden neurons, piece after piece
};

// The exact activation regions of each network along each segment lines[i] = (x0, x1) (n_lines x 2 x
// w[0] values): breakpoints within tol (in the segment's parameter t in [0, 1]) are one breakpoint.
// More than max_pieces pieces on one segment is an std::invalid_argument (the walk stops early).
LineRegions line_regions(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                         const double* lines, int64_t n_lines, double tol, bool keep_patterns, int64_t max_pieces);

struct PlaneRegions {
  std::vector<int64_t> counts;  // (n_nets * n_planes): regions in each rectangle
  std::vector<double> cells;    // when kept: (area, centroid s, centroid t) per region, item after item
};

// The exact number of activation regions of each network in each plane rectangle
// {origin + s u + t v : s in [s0, s1], t in [t0, t1]} (planes: n_planes x 3 x w[0] values: origin, u, v;
// extent: s0, s1, t0, t1), by splitting convex polygons with each neuron's line, layer by layer.
PlaneRegions plane_regions(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                           const double* planes, int64_t n_planes, const double* extent, double tol, bool keep_cells);

}  // namespace deepcheap::cpu::relu
