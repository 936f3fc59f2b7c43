// CPU drivers of the ReLU area (csrc/include/deepcheap/relu/network.hpp holds the math): batched
// forward passes, activation-pattern hashes, and the exact walks of linear regions along segments and
// in planes. Items (network, point), (network, line) or (network, plane) are independent and each is computed by one thread in
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

}  // namespace deepcheap::cpu::relu

namespace deepcheap::cpu {

// The exact activation regions of each item of the plan (plan/relu.hpp: network, segment, tol,
// max_pieces, all checked there), each walked by deepcheap::relu::walk_item; `device` is ignored. A
// walk over max_pieces pieces is an std::invalid_argument (plan::check_relu_counts). In deepcheap::cpu,
// beside its CUDA twin in deepcheap::cuda, so that the one binding (bind_relu.hpp) finds either.
plan::ReluLineRegions relu_line_regions(Driver, const plan::ReluLines& p, int device = 0);

// The exact activation regions of each network in each plane rectangle of the plan (plan/relu.hpp:
// network, planes, extent, tol, all checked there), by splitting convex polygons with each neuron's
// line, layer by layer (deepcheap::relu::plane_first_cells, then plane_unit_regions per first-layer
// cell); `device` is ignored. A walk that fails (plan::check_relu_plane_status) is an
// std::invalid_argument. Beside its CUDA twin, as relu_line_regions.
plan::ReluPlaneRegions relu_plane_regions(Driver, const plan::ReluPlanes& p, int device = 0);

}  // namespace deepcheap::cpu
