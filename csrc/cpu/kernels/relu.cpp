// The ReLU line walk (deepcheap::relu::walk_item, deepcheap/relu/network.hpp), compiled once per SIMD
// target so its dense pre-activation updates (DC_SIMD loops over a layer's outputs) run in the target's
// vectors: AVX2 and AVX-512 do 4 and 8 doubles where the generic build did 2. No FP contraction in this
// file (CMakeLists.txt) and no reordering of any sum, so every target gives the scalar bits.
#include "deepcheap/relu/network.hpp"
#include "relu_walk.hpp"

DC_NAMESPACE_BEGIN

namespace {
struct CallbackEmit {
  ReluEmit fn;
  void* ctx;
  bool operator()(double s, double, const uint8_t* b) const { return fn(ctx, s, b); }
};
}  // namespace

int64_t relu_walk_line_item(const int64_t* widths, int layers, const double* params_t, int64_t per,
                            const double* lines, int64_t n_lines, int64_t i, double tol, int64_t max_pieces,
                            double* work, uint8_t* bits, int* state, ReluEmit emit, void* ctx) {
  CallbackEmit e{emit, ctx};
  return relu::walk_item(widths, layers, params_t, per, lines, n_lines, i, tol, max_pieces, work, bits, state, e);
}

DC_NAMESPACE_END
