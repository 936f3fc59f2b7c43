// CUDA driver entries of the ReLU line and plane walks (csrc/cuda/relu.cu): plain C++ declarations for the bindings.
#pragma once

#include "driver.hpp"
#include "plan/relu.hpp"

namespace deepcheap::cuda {

// The exact activation regions of each item of the plan, one GPU thread per (network, segment) running
// deepcheap::relu::walk_item, the CPU driver's per-line function: counts, breakpoints and patterns are
// the CPU's bit for bit (relu.cu is compiled without FMA contraction, as csrc/cpu/relu.cpp is). A walk
// over max_pieces pieces is an std::invalid_argument (plan::check_relu_counts), as on the CPU.
plan::ReluLineRegions relu_line_regions(Driver, const plan::ReluLines& p, int device);

// The exact activation regions of each network in each plane rectangle of the plan, one GPU thread per
// item, then per first-layer cell, running the CPU driver's per-unit functions (deepcheap::relu::
// plane_first_cells, plane_unit_regions): counts and cells are the CPU's bit for bit, in its order. A
// failed walk is the CPU's std::invalid_argument (plan::check_relu_plane_status).
plan::ReluPlaneRegions relu_plane_regions(Driver, const plan::ReluPlanes& p, int device);

}  // namespace deepcheap::cuda
