// CPU drivers of the ReLU area (csrc/include/deepcheap/relu/network.hpp holds the math): batched
// forward passes, activation-pattern hashes, and the exact walk of linear regions along segments.
// Items (network, point) or (network, line) are independent and each is computed by one thread in
// index order, so every result is the same bits on any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "driver.hpp"
#include "plan/relu.hpp"

namespace deepcheap::cpu::relu {

// out[n, p, :] = network n at x[p, :], for n < n_nets, p < n_points.
void forward(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets, const double* x,
             int64_t n_points, double* out);

// hashes[n, p] = the activation pattern of network n at x[p, :], hashed (deepcheap::relu::pattern_hash).
void pattern_hashes(Driver, const std::vector<int64_t>& widths, const double* params, int64_t n_nets,
                    const double* x, int64_t n_points, uint64_t* hashes);

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

namespace deepcheap::cpu {

// The exact activation regions of each item of the plan (plan/relu.hpp: network, segment, tol,
// max_pieces, all checked there), each walked by deepcheap::relu::walk_item; `device` is ignored. A
// walk over max_pieces pieces is an std::invalid_argument (plan::check_relu_counts). In deepcheap::cpu,
// beside its CUDA twin in deepcheap::cuda, so that the one binding (bind_relu.hpp) finds either.
plan::ReluLineRegions relu_line_regions(Driver, const plan::ReluLines& p, int device = 0);

}  // namespace deepcheap::cpu
