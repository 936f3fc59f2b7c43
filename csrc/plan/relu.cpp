// ReLU networks, device-neutral layer (see relu.hpp).
#include "plan/relu.hpp"

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

}  // namespace deepcheap::plan
