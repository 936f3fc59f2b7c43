// Target-independent drivers of the markov area: alias-table construction in exact integer
// arithmetic (Vose's method) and multi-threaded histogram counting for the information estimates.
#include "markov.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "deepcheap/markov/alias.hpp"
#include "threads.hpp"

namespace deepcheap::markov {
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

namespace {

template <class T>
const T* typed(const void* x) {
  return static_cast<const T*>(x);
}

// Calls f(get) where get(i) reads element i of x as int64, for each supported element kind.
template <class F>
void with_reader(const void* x, char kind, F&& f) {
  switch (kind) {
    case 'B': f([p = typed<uint8_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'H': f([p = typed<uint16_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'I': f([p = typed<uint32_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'i': f([p = typed<int32_t>(x)](int64_t i) { return static_cast<int64_t>(p[i]); }); break;
    case 'q': f([p = typed<int64_t>(x)](int64_t i) { return p[i]; }); break;
    default:
      throw std::invalid_argument(std::string("unsupported element kind '") + kind +
                                  "': expected uint8, uint16, uint32, int32 or int64");
  }
}

// Shared by both histograms: index(i) gives the cell of element i or -1 when out of range.
template <class Index>
void histogram(Index index, int64_t n, int64_t cells, int64_t* counts, const char* what) {
  const int threads = n < (int64_t(1) << 16) ? 1 : cpu::num_threads();
  std::vector<int64_t> partial(static_cast<size_t>(threads) * cells, 0);
  int64_t bad = -1;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    int64_t* mine = partial.data() + static_cast<int64_t>(t) * cells;
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    int64_t my_bad = -1;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t cell = index(i);
      if (cell < 0) {
        my_bad = i;
        break;
      }
      ++mine[cell];
    }
    if (my_bad >= 0) {
#pragma omp critical
      if (bad < 0 || my_bad < bad) bad = my_bad;
    }
  }
  if (bad >= 0)
    throw std::invalid_argument(std::string(what) + ": element " + std::to_string(bad) +
                                " lies outside the declared range of values");
  for (int64_t c = 0; c < cells; ++c) {
    int64_t s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * cells + c];
    counts[c] = s;
  }
}

}  // namespace

void count_values(const void* x, char kind, int64_t n, int64_t k, int64_t* counts) {
  with_reader(x, kind, [&](auto get) {
    histogram([&](int64_t i) { const int64_t v = get(i); return v >= 0 && v < k ? v : int64_t(-1); },
              n, k, counts, "x");
  });
}

void count_pairs(const void* x, char x_kind, const void* y, char y_kind, int64_t n, int64_t kx,
                 int64_t ky, int64_t* counts) {
  with_reader(x, x_kind, [&](auto get_x) {
    with_reader(y, y_kind, [&](auto get_y) {
      histogram(
          [&](int64_t i) {
            const int64_t a = get_x(i), b = get_y(i);
            return a >= 0 && a < kx && b >= 0 && b < ky ? a * ky + b : int64_t(-1);
          },
          n, kx * ky, counts, "(x, y)");
    });
  });
}

}  // namespace deepcheap::markov
