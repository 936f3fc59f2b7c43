// Markov sampling, device-neutral layer (see markov.hpp): alias tables in exact integer arithmetic
// (Vose's method), the checks of a sampling call and its output layout.
#include "plan/markov.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/markov/alias.hpp"
#include "deepcheap/common/require.hpp"

namespace deepcheap::plan {
namespace {

std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// Weights of one row as integers summing exactly to total: floor of the scaled probabilities, then
// the remainder handed out by largest fractional part (only to columns with positive probability).
void quantise_row(const double* p, int64_t cols, double row_sum, uint64_t total, std::vector<uint64_t>& w,
                  std::vector<double>& frac, std::vector<int64_t>& order) {
  int64_t assigned = 0;
  for (int64_t c = 0; c < cols; ++c) {
    const double scaled = p[c] / row_sum * static_cast<double>(total);
    const double whole = std::floor(scaled);
    w[c] = static_cast<uint64_t>(whole);
    frac[c] = p[c] > 0 ? scaled - whole : -1.0;
    assigned += static_cast<int64_t>(w[c]);
  }
  int64_t remainder = static_cast<int64_t>(total) - assigned;
  if (remainder == 0) return;
  for (int64_t c = 0; c < cols; ++c) order[c] = c;
  if (remainder > 0) {
    std::sort(order.begin(), order.begin() + cols, [&](int64_t a, int64_t b) {
      return frac[a] != frac[b] ? frac[a] > frac[b] : a < b;
    });
    // Rounding can leave a remainder above the number of positive fractions; cycle over the
    // positive-probability columns (order puts them first).
    int64_t positive = 0;
    while (positive < cols && frac[order[positive]] >= 0) ++positive;
    for (int64_t i = 0; remainder > 0; i = (i + 1) % positive, --remainder) ++w[order[i]];
  } else {
    std::sort(order.begin(), order.begin() + cols, [&](int64_t a, int64_t b) {
      return w[a] != w[b] ? w[a] > w[b] : a < b;
    });
    for (int64_t i = 0; remainder < 0; i = (i + 1) % cols) {
      if (w[order[i]] > 0) {
        --w[order[i]];
        ++remainder;
      }
    }
  }
}

}  // namespace

void build_alias_tables(const double* p, int64_t rows, int64_t cols, double tolerance,
                        const char* name, uint32_t* out) {
  if (rows < 1 || cols < 1 || cols > 65536)
    throw std::invalid_argument(std::string(name) + " has shape (" + std::to_string(rows) + ", " +
                                std::to_string(cols) +
                                ") but expected at least one row and 1 to 65536 columns");
  if (rows * cols >= (int64_t(1) << 31))
    throw std::invalid_argument(std::string(name) + " has " + std::to_string(rows * cols) +
                                " entries but the sampler supports fewer than 2^31");
  if (!(tolerance >= 0 && tolerance <= 1e-2))
    throw std::invalid_argument("row-sum tolerance is " + number(tolerance) +
                                " but expected 0 <= tolerance <= 0.01");
  // Check everything before building anything, so a bad matrix never leaves a half-built table.
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = p + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double v = row[c];
      if (!std::isfinite(v))
        throw std::invalid_argument(std::string(name) + "[" + std::to_string(r) + ", " + std::to_string(c) +
                                    "] is " + number(v) + " but expected a finite probability");
      if (v < 0)
        throw std::invalid_argument(std::string(name) + "[" + std::to_string(r) + ", " + std::to_string(c) +
                                    "] is " + number(v) + " but expected a probability >= 0");
      sum += v;
    }
    if (!(std::fabs(sum - 1.0) <= tolerance) || !(sum > 0))
      throw std::invalid_argument("row " + std::to_string(r) + " of " + name + " sums to " + number(sum) +
                                  " but expected 1 within " + number(tolerance));
  }

  const uint32_t bits = alias_bits(static_cast<uint32_t>(cols));
  const uint64_t threshold_one = uint64_t(1) << (32 - bits);  // probability 1 within a column
  const uint64_t total = static_cast<uint64_t>(cols) * threshold_one;
  std::vector<uint64_t> w(cols);
  std::vector<double> frac(cols);
  std::vector<int64_t> order(cols);
  std::vector<uint32_t> small, large;
  small.reserve(cols);
  large.reserve(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = p + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += row[c];
    quantise_row(row, cols, sum, total, w, frac, order);
    uint32_t* entries = out + r * cols;
    small.clear();
    large.clear();
    for (int64_t c = 0; c < cols; ++c) {
      entries[c] = static_cast<uint32_t>(c);  // keeps itself unless paired below
      (w[c] < threshold_one ? small : large).push_back(static_cast<uint32_t>(c));
    }
    // Vose: pair each under-full column with an over-full donor. Integer weights make the
    // bookkeeping exact: the columns left over at the end hold exactly threshold_one.
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      entries[s] = (static_cast<uint32_t>(w[s]) << bits) | l;
      w[l] -= threshold_one - w[s];
      if (w[l] < threshold_one) {
        large.pop_back();
        small.push_back(l);
      }
    }
    if (!small.empty())  // unreachable with exact integer sums; kept as a guard, never a crash
      throw std::logic_error("alias table construction left an under-full column");
  }
}

markov::Level checked_level(const uint32_t* t, int64_t ndim, int64_t rows, int64_t cols, const std::string& what) {
  const std::string shape = ndim == 2 ? "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"
                                      : "of " + std::to_string(ndim) + " dimensions";
  DC_REQUIRE(ndim == 2, what + " has shape " + shape + " but expected (rows, cols)");
  DC_REQUIRE(rows >= 1 && cols >= 1 && cols <= kMarkovMaxStates,
             what + " has shape " + shape + " but expected 1 to 65536 columns and at least one row");
  DC_REQUIRE(rows * cols < (int64_t(1) << 31),
             what + " has " + std::to_string(rows * cols) + " entries but the sampler supports fewer than 2^31");
  const uint32_t bits = alias_bits(static_cast<uint32_t>(cols));
  const uint32_t mask = (uint32_t(1) << bits) - 1u;
  for (int64_t i = 0; i < rows * cols; ++i)
    if ((t[i] & mask) >= cols)  // the message is built only on failure: this loop is hot
      throw std::invalid_argument(what + " entry " + std::to_string(i) + " has alias " + std::to_string(t[i] & mask) +
                                  " but expected < " + std::to_string(cols));
  return markov::Level{t, static_cast<uint32_t>(rows), static_cast<uint32_t>(cols), bits};
}

MarkovSample plan_markov_sample(const std::vector<markov::Level>& levels, const int64_t* step_levels,
                                int64_t n_steps, markov::Level init, const uint32_t* init_states,
                                int64_t n_init_states, int64_t n_chains, uint64_t seed, bool keep_path,
                                uint64_t first_chain, uint64_t first_step, int64_t chunk) {
  DC_REQUIRE(n_chains >= 0, "n_chains is " + std::to_string(n_chains) + " but expected >= 0");
  DC_REQUIRE(init.rows == 1, "init_table has " + std::to_string(init.rows) + " rows but expected 1");
  DC_REQUIRE(n_steps >= 0 && n_steps < (int64_t(1) << 34) && first_step + uint64_t(n_steps) <= (uint64_t(1) << 34),
             "first_step + n_steps is " + std::to_string(first_step) + " + " + std::to_string(n_steps) +
              " but expected <= 2^34");
  DC_REQUIRE(first_chain <= ~uint64_t(0) - uint64_t(n_chains), "first_chain + n_chains is " + std::to_string(first_chain) +
                                                                " + " + std::to_string(n_chains) +
                                                                " but expected <= 2^64 - 1");
  MarkovSample p;
  p.init = init;
  p.init_states = init_states;
  p.n_chains = n_chains;
  p.n_steps = n_steps;
  p.seed = seed;
  p.first_chain = first_chain;
  p.first_step = first_step;
  p.chunk = chunk;
  p.steps.resize(size_t(n_steps));
  p.states_at.resize(size_t(n_steps + 1));
  p.states_at[0] = init.cols;
  for (int64_t t = 0; t < n_steps; ++t) {
    const int64_t k = step_levels[t];
    if (k < 0 || k >= static_cast<int64_t>(levels.size()))  // messages built only on failure
      throw std::invalid_argument("step_levels[" + std::to_string(t) + "] is " + std::to_string(k) +
                                  " but expected 0 <= k < " + std::to_string(levels.size()));
    p.steps[size_t(t)] = levels[size_t(k)];
    if (p.steps[size_t(t)].rows != p.states_at[size_t(t)])
      throw std::invalid_argument("step " + std::to_string(t) + " uses a table with " +
                                  std::to_string(p.steps[size_t(t)].rows) + " rows but the chain has " +
                                  std::to_string(p.states_at[size_t(t)]) + " states there");
    p.states_at[size_t(t + 1)] = p.steps[size_t(t)].cols;
  }
  if (init_states != nullptr) {
    DC_REQUIRE(n_init_states == n_chains, "init_states has shape (" + std::to_string(n_init_states) +
                                           ",) but expected (" + std::to_string(n_chains) + ",)");
    for (int64_t i = 0; i < n_chains; ++i)
      if (init_states[i] >= p.states_at[0])
        throw std::invalid_argument("init_states[" + std::to_string(i) + "] is " + std::to_string(init_states[i]) +
                                    " but expected < " + std::to_string(p.states_at[0]));
  }
  // Final states; a (n_chains, n_steps + 1) path when one dtype fits every position, else one
  // (n_chains,) array per position.
  if (!keep_path) {
    p.output = MarkovSample::Output::final_states;
    p.array_bytes = {state_bytes(p.states_at[size_t(n_steps)])};
    p.array_shapes = {{n_chains}};
  } else {
    bool same = true;
    for (int64_t t = 0; t <= n_steps; ++t) same = same && state_bytes(p.states_at[size_t(t)]) == state_bytes(init.cols);
    if (same) {
      p.output = MarkovSample::Output::path_matrix;
      p.array_bytes = {state_bytes(init.cols)};
      p.array_shapes = {{n_chains, n_steps + 1}};
    } else {
      p.output = MarkovSample::Output::path_per_position;
      for (int64_t t = 0; t <= n_steps; ++t) {
        p.array_bytes.push_back(state_bytes(p.states_at[size_t(t)]));
        p.array_shapes.push_back({n_chains});
      }
    }
  }
  p.stores.assign(size_t(n_steps + 1), markov::Store{nullptr, 0, 1});
  return p;
}

void set_outputs(MarkovSample& p, const std::vector<unsigned char*>& arrays) {
  DC_REQUIRE(arrays.size() == p.array_shapes.size(), "expected " + std::to_string(p.array_shapes.size()) +
                                                      " output arrays, got " + std::to_string(arrays.size()));
  p.arrays = arrays;
  const int64_t n_steps = p.n_steps;
  switch (p.output) {
    case MarkovSample::Output::final_states: {
      const int b = p.array_bytes[0];
      p.stores[size_t(n_steps)] = markov::Store{arrays[0], b, b};
      break;
    }
    case MarkovSample::Output::path_matrix: {
      const int b = p.array_bytes[0];
      for (int64_t t = 0; t <= n_steps; ++t) p.stores[size_t(t)] = markov::Store{arrays[0] + t * b, (n_steps + 1) * b, b};
      break;
    }
    case MarkovSample::Output::path_per_position:
      for (int64_t t = 0; t <= n_steps; ++t) {
        const int b = p.array_bytes[size_t(t)];
        p.stores[size_t(t)] = markov::Store{arrays[size_t(t)], b, b};
      }
      break;
  }
}

}  // namespace deepcheap::plan
