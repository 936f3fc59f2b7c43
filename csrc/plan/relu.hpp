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

}  // namespace deepcheap::plan
