// The ReLU line walk's per-target kernel (csrc/cpu/kernels/relu.cpp), declared for the CPU driver
// (csrc/cpu/relu.cpp). Kept apart from relu.hpp so the kernel file includes no std containers (the
// objects compiled with AVX flags must define no weak symbol outside their target namespace).
#pragma once

#include <cstdint>

#include "dispatch.hpp"

namespace deepcheap {
// Called once per piece of a walk with the piece's start s and activation pattern; false stops the walk.
using ReluEmit = bool (*)(void* ctx, double s, const uint8_t* bits);
}  // namespace deepcheap

// deepcheap::relu::walk_item for item i (same arguments, same result: the count, -1 past max_pieces,
// kWalkStopped when emit said stop), its dense updates vectorised for the target. The loops keep the
// scalar order of every sum and the file is built without FP contraction, so all targets give the
// same bits.
DC_DECLARE_KERNEL(int64_t relu_walk_line_item(const int64_t* widths, int layers, const double* params_t, int64_t per,
                                              const double* lines, int64_t n_lines, int64_t i, double tol,
                                              int64_t max_pieces, double* work, uint8_t* bits, int* state,
                                              ReluEmit emit, void* ctx))
