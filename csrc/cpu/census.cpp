// CPU drivers of the capability census (see census.hpp). Threshold functions are enumerated through
// their canonical positive representatives (non-increasing integer weights up to Muroga's bound) and
// counted with orbit sizes, so n = 6 takes well under a second. The exact threshold test solves a
// small linear program in floating point only to find a basis, then re-solves that basis in exact
// integer arithmetic (fraction-free Gauss-Jordan) and checks the answer exactly.
#include "census.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "deepcheap/common/interrupt.hpp"  // run_chunks: Ctrl-C between chunks
#include "threads.hpp"

namespace deepcheap::cpu::census {

using deepcheap::census::depends_on;
using deepcheap::census::negate_variable64;
using deepcheap::census::symmetric_in;
using deepcheap::census::table_bit;
using deepcheap::census::table_equal;
using deepcheap::census::table_less;
using deepcheap::census::weight_chain;

namespace {

__extension__ typedef __int128 i128;

constexpr int kMaxCensusInputs = 7;

void check_n(int n, int largest, const char* what) {
  if (n < 0 || n > largest)
    throw std::invalid_argument(std::string(what) + ": n must be in 0.." + std::to_string(largest) + ", got " +
                                std::to_string(n));
}

int64_t binomial(int64_t a, int64_t b) {
  if (b < 0 || b > a) return 0;
  int64_t r = 1;
  for (int64_t i = 1; i <= b; ++i) r = r * (a - b + i) / i;
  return r;
}

// Item index -> (w0, w1) prefix for n >= 2: all pairs max >= w0 >= w1 >= 0 in lexicographic order.
void item_prefix(int64_t item, int m, int& w0, int& w1) {
  for (w0 = 0; w0 <= m; ++w0) {
    if (item < w0 + 1) {
      w1 = static_cast<int>(item);
      return;
    }
    item -= w0 + 1;
  }
  throw std::logic_error("census item out of range");
}

// Open addressing set of tables; the empty table is tracked apart (it marks free slots).
class TableSet {
 public:
  TableSet() : slots_(1024, Table128{0, 0}) {}
  void insert(const Table128& t) {
    if (t.lo == 0 && t.hi == 0) {
      has_empty_ = true;
      return;
    }
    if (2 * (size_ + 1) > slots_.size()) grow();
    place(t);
  }
  void append_to(std::vector<Table128>& out) const {
    if (has_empty_) out.push_back(Table128{0, 0});
    for (const auto& s : slots_)
      if (s.lo != 0 || s.hi != 0) out.push_back(s);
  }

 private:
  static uint64_t hash(const Table128& t) {
    uint64_t h = t.lo * 0x9E3779B97F4A7C15ull ^ (t.hi + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 31);
  }
  void place(const Table128& t) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(t) & mask;; i = (i + 1) & mask) {
      Table128& s = slots_[i];
      if (s.lo == 0 && s.hi == 0) {
        s = t;
        ++size_;
        return;
      }
      if (table_equal(s, t)) return;
    }
  }
  void grow() {
    std::vector<Table128> old(slots_.size() * 2, Table128{0, 0});
    old.swap(slots_);
    size_ = 0;
    for (const auto& s : old)
      if (s.lo != 0 || s.hi != 0) place(s);
  }
  std::vector<Table128> slots_;
  size_t size_ = 0;
  bool has_empty_ = false;
};

void sort_unique(std::vector<Table128>& v) {
  std::sort(v.begin(), v.end(), table_less);
  v.erase(std::unique(v.begin(), v.end(), table_equal), v.end());
}

// Calls body(w) for every non-increasing vector w[start..n) with entries <= bound.
template <class Body>
void for_each_suffix(int* w, int start, int n, int bound, Body& body) {
  if (start == n) {
    body(w);
    return;
  }
  for (int v = 0; v <= bound; ++v) {
    w[start] = v;
    for_each_suffix(w, start + 1, n, v, body);
  }
}

// Symmetry classes of a canonical table: runs of adjacent symmetric inputs (the influence order is
// total for threshold functions, so classes are contiguous in the sorted order). class_of[i] is the
// class of input i; returns the number of classes.
int symmetry_classes(const Table128& f, int n, int* class_of) {
  int c = 0;
  for (int i = 0; i < n; ++i) {
    if (i > 0 && !symmetric_in(f, i - 1, i, n)) ++c;
    class_of[i] = c;
  }
  return n > 0 ? c + 1 : 0;
}

uint64_t factorial(int n) {
  uint64_t f = 1;
  for (int i = 2; i <= n; ++i) f *= static_cast<uint64_t>(i);
  return f;
}

// Permutation-orbit size and relevant-input count of a canonical table.
void orbit_of(const Table128& f, int n, uint64_t& orbit, int& relevant) {
  int class_of[kMaxCensusInputs] = {0};
  const int classes = symmetry_classes(f, n, class_of);
  int size[kMaxCensusInputs] = {0};
  for (int i = 0; i < n; ++i) ++size[class_of[i]];
  orbit = factorial(n);
  for (int c = 0; c < classes; ++c) orbit /= factorial(size[c]);
  relevant = 0;
  for (int i = 0; i < n; ++i) relevant += depends_on(f, i) ? 1 : 0;
}

// The first weights of a unit of canonical_tables' work: the vectors w with w[0..len) = w[0..len) of the
// unit, the rest non-increasing below w[len - 1]. For n >= 2 an item (w0, w1) is split into the units
// of its prefixes of min(n, kUnitPrefix) weights.
constexpr int kUnitPrefix = 4;

struct UnitPrefix {
  int8_t len;
  uint8_t w[kUnitPrefix];
};

void add_prefixes(int n, UnitPrefix unit, std::vector<UnitPrefix>& out) {
  const int len = n < kUnitPrefix ? n : kUnitPrefix;
  if (unit.len >= len) {
    out.push_back(unit);
    return;
  }
  const int bound = unit.w[unit.len - 1];
  for (int v = 0; v <= bound; ++v) {
    UnitPrefix next = unit;
    next.w[next.len++] = static_cast<uint8_t>(v);
    add_prefixes(n, next, out);
  }
}

std::vector<UnitPrefix> unit_prefixes(int n, int m, int64_t begin, int64_t end) {
  std::vector<UnitPrefix> units;
  for (int64_t item = begin; item < end; ++item) {
    UnitPrefix unit{0, {0, 0, 0, 0}};
    if (n == 1) {
      unit.len = 1;
      unit.w[0] = static_cast<uint8_t>(item);
    } else if (n >= 2) {
      int w0 = 0, w1 = 0;
      item_prefix(item, m, w0, w1);
      unit.len = 2;
      unit.w[0] = static_cast<uint8_t>(w0);
      unit.w[1] = static_cast<uint8_t>(w1);
    }
    add_prefixes(n, unit, units);
  }
  return units;
}

// The distinct tables of units [u_begin, u_end), appended to `result` (unsorted; one set per thread).
void collect_units(int n, int m, const std::vector<UnitPrefix>& units, int64_t u_begin, int64_t u_end, int threads,
                   std::vector<Table128>& result) {
#pragma omp parallel num_threads(threads)
  {
    TableSet set;
    std::vector<Table128> level(static_cast<size_t>(n * m + 2));
    std::vector<Table128> chain((1u << n) + 1);
    int w[kMaxCensusInputs] = {0};
    auto body = [&](const int* weights) {
      // Scaled copies realise the same chain: only primitive vectors (gcd 1, or all zero) are needed.
      int g = 0;
      for (int i = 0; i < n; ++i) g = std::gcd(g, weights[i]);
      if (g > 1) return;
      const int count = weight_chain(weights, n, level.data(), chain.data());
      for (int c = 0; c < count; ++c) set.insert(chain[c]);
    };
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = u_begin; u < u_end; ++u) {
      const UnitPrefix& unit = units[static_cast<size_t>(u)];
      for (int i = 0; i < unit.len; ++i) w[i] = unit.w[i];
      if (unit.len == n)
        body(w);
      else
        for_each_suffix(w, unit.len, n, w[unit.len - 1], body);
    }
    std::vector<Table128> mine;
    set.append_to(mine);
#pragma omp critical(deepcheap_census_merge)
    result.insert(result.end(), mine.begin(), mine.end());
  }
}

}  // namespace

int max_weight(int n) {
  check_n(n, 10, "max_weight");
  // Largest m with (m 2^n)^2 <= (n+1)^(n+1), in exact integers.
  i128 bound = 1;
  for (int i = 0; i <= n; ++i) bound *= (n + 1);
  int m = 0;
  while (true) {
    const i128 next = static_cast<i128>(m + 1) << n;
    if (next * next > bound) break;
    ++m;
  }
  return m;
}

int64_t canonical_item_count(int n) {
  check_n(n, kMaxCensusInputs, "canonical_item_count");
  const int m = max_weight(n);
  if (n == 0) return 1;
  if (n == 1) return m + 1;
  return int64_t(m + 1) * (m + 2) / 2;
}

int64_t canonical_vector_count(int n, int64_t begin, int64_t end) {
  const int64_t items = canonical_item_count(n);
  if (begin < 0 || end > items || begin > end)
    throw std::invalid_argument("items [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") out of range 0.." + std::to_string(items));
  if (n <= 1) return end - begin;
  const int m = max_weight(n);
  int64_t total = 0;
  for (int64_t item = begin; item < end; ++item) {
    int w0 = 0, w1 = 0;
    item_prefix(item, m, w0, w1);
    total += binomial(w1 + n - 2, n - 2);
  }
  return total;
}

std::vector<Table128> canonical_tables(int n, int64_t begin, int64_t end) {
  const int64_t items = canonical_item_count(n);
  if (begin < 0 || end > items || begin > end)
    throw std::invalid_argument("items [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") out of range 0.." + std::to_string(items));
  const int m = max_weight(n);
  // Units of work: the items' weight vectors split further by their first kUnitPrefix weights (an item
  // of n = 7 walks up to 435897 vectors, about a second on a busy core; a unit at most 6545), so that
  // a chunk of units, and with it the wait for Ctrl-C, stays short.
  const std::vector<UnitPrefix> units = unit_prefixes(n, m, begin, end);
  std::vector<Table128> result;
  const int threads = deepcheap::cpu::num_threads();
  // Units in interruptible chunks (deepcheap/common/interrupt.hpp): the result is the union over units,
  // so chunks never change it. A unit walks about canonical_vector_count / units weight vectors, each a
  // chain of 2^n points ordered by weight (about n + 1 operations per point).
  const int64_t n_units = static_cast<int64_t>(units.size());
  const double cost = double(canonical_vector_count(n, begin, end)) / double(n_units > 0 ? n_units : 1) *
                      double(int64_t(1) << n) * double(n + 1);
  interrupt::run_chunks(n_units, interrupt::first_chunk(cost), [&](int64_t chunk_begin, int64_t chunk_end) {
    collect_units(n, m, units, chunk_begin, chunk_end, threads, result);
  });
  sort_unique(result);
  return result;
}

uint64_t count_from_canonical(int n, const std::vector<Table128>& canonical) {
  check_n(n, kMaxCensusInputs, "count_from_canonical");
  uint64_t total = 0;
  for (const auto& f : canonical) {
    uint64_t orbit = 0;
    int relevant = 0;
    orbit_of(f, n, orbit, relevant);
    total += orbit << relevant;
  }
  return total;
}

std::vector<uint64_t> all_tables(int n) {
  check_n(n, 6, "all_tables");
  const std::vector<Table128> canonical = canonical_tables(n, 0, canonical_item_count(n));
  const int64_t k = static_cast<int64_t>(canonical.size());
  std::vector<uint64_t> offset(canonical.size() + 1, 0);
  for (int64_t c = 0; c < k; ++c) {
    uint64_t orbit = 0;
    int relevant = 0;
    orbit_of(canonical[c], n, orbit, relevant);
    offset[c + 1] = offset[c] + (orbit << relevant);
  }
  std::vector<uint64_t> out(offset.back());
  const int threads = deepcheap::cpu::num_threads();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
  for (int64_t c = 0; c < k; ++c) {
    const Table128& f = canonical[c];
    int class_of[kMaxCensusInputs] = {0};
    symmetry_classes(f, n, class_of);
    bool relevant_class[kMaxCensusInputs] = {false};
    for (int i = 0; i < n; ++i) relevant_class[class_of[i]] = relevant_class[class_of[i]] || depends_on(f, i);
    int label[kMaxCensusInputs];
    for (int i = 0; i < n; ++i) label[i] = class_of[i];
    uint64_t at = offset[c];
    do {
      // Canonical input i (the r-th of its class) goes to the position holding the r-th copy of its label.
      int position[kMaxCensusInputs] = {0};
      int support = 0;
      for (int i = 0; i < n; ++i) {
        int r = 0;
        for (int j = 0; j < i; ++j) r += class_of[j] == class_of[i];
        for (int p = 0; p < n; ++p)
          if (label[p] == class_of[i] && r-- == 0) {
            position[i] = p;
            break;
          }
        if (relevant_class[class_of[i]]) support |= 1 << position[i];
      }
      uint64_t g = 0;
      for (uint32_t y = 0; y < (1u << n); ++y) {
        uint32_t x = 0;
        for (int i = 0; i < n; ++i) x |= ((y >> position[i]) & 1u) << i;
        if (table_bit(f, x)) g |= uint64_t(1) << y;
      }
      // Every subset of the relevant inputs negated: distinct functions (a threshold function is unate).
      int sub = 0;
      do {
        uint64_t h = g;
        for (int i = 0; i < n; ++i)
          if ((sub >> i) & 1) h = negate_variable64(h, i);
        out[at++] = h;
        sub = (sub - support) & support;
      } while (sub != 0);
    } while (std::next_permutation(label, label + n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- exact threshold test --------------------------------------------------------------------------

namespace {

// Dense two-phase simplex for max c.x subject to A x <= b, x >= 0 (the well-known tableau form with
// one artificial column). Used only to find a basis: the answer is re-derived exactly from it.
class Simplex {
 public:
  Simplex(const std::vector<std::vector<double>>& A, const std::vector<double>& b, const std::vector<double>& c)
      : m_(static_cast<int>(b.size())), n_(static_cast<int>(c.size())), N_(n_ + 1), B_(m_),
        D_(m_ + 2, std::vector<double>(n_ + 2, 0.0)) {
    for (int i = 0; i < m_; ++i)
      for (int j = 0; j < n_; ++j) D_[i][j] = A[i][j];
    for (int i = 0; i < m_; ++i) {
      B_[i] = n_ + i;
      D_[i][n_] = -1;
      D_[i][n_ + 1] = b[i];
    }
    for (int j = 0; j < n_; ++j) {
      N_[j] = j;
      D_[m_][j] = -c[j];
    }
    N_[n_] = -1;
    D_[m_ + 1][n_] = 1;
  }

  // 1: optimal, 0: infeasible, -1: unbounded or no progress (iteration cap).
  int solve() {
    int r = 0;
    for (int i = 1; i < m_; ++i)
      if (D_[i][n_ + 1] < D_[r][n_ + 1]) r = i;
    if (m_ > 0 && D_[r][n_ + 1] < -kEps) {
      pivot(r, n_);
      const int ok = run(1);
      if (ok != 1) return ok == 0 ? -1 : ok;
      if (D_[m_ + 1][n_ + 1] < -kEps) return 0;
      for (int i = 0; i < m_; ++i)
        if (B_[i] == -1) {
          int s = -1;
          for (int j = 0; j <= n_; ++j)
            if (s == -1 || D_[i][j] < D_[i][s] || (D_[i][j] == D_[i][s] && N_[j] < N_[s])) s = j;
          pivot(i, s);
        }
    }
    const int ok = run(2);
    return ok == 1 ? 1 : -1;
  }
  const std::vector<int>& basic() const { return B_; }
  const std::vector<int>& nonbasic() const { return N_; }

 private:
  static constexpr double kEps = 1e-9;
  void pivot(int r, int s) {
    const double inv = 1.0 / D_[r][s];
    for (int i = 0; i < m_ + 2; ++i)
      if (i != r && D_[i][s] != 0.0) {
        const double f = D_[i][s] * inv;
        for (int j = 0; j < n_ + 2; ++j)
          if (j != s) D_[i][j] -= D_[r][j] * f;
      }
    for (int j = 0; j < n_ + 2; ++j)
      if (j != s) D_[r][j] *= inv;
    for (int i = 0; i < m_ + 2; ++i)
      if (i != r) D_[i][s] *= -inv;
    D_[r][s] = inv;
    std::swap(B_[r], N_[s]);
  }
  // Bland's rule (smallest index enters and leaves) never cycles on degenerate vertices, which the
  // 0/1 data of truth tables produce in abundance.
  int run(int phase) {
    const int x = phase == 1 ? m_ + 1 : m_;
    for (int iter = 0; iter < 100000; ++iter) {
      int s = -1;
      for (int j = 0; j <= n_; ++j) {
        if (phase == 2 && N_[j] == -1) continue;
        if (D_[x][j] < -kEps && (s == -1 || N_[j] < N_[s])) s = j;
      }
      if (s == -1) return 1;
      int r = -1;
      for (int i = 0; i < m_; ++i) {
        if (D_[i][s] < kEps) continue;
        if (r == -1) {
          r = i;
          continue;
        }
        const double a = D_[i][n_ + 1] / D_[i][s], b = D_[r][n_ + 1] / D_[r][s];
        if (a < b - kEps || (a <= b + kEps && B_[i] < B_[r])) r = i;
      }
      if (r == -1) return 0;
      pivot(r, s);
    }
    return -1;
  }
  int m_, n_;
  std::vector<int> N_, B_;
  std::vector<std::vector<double>> D_;
};

// The vertex of {A x <= b, x >= 0} at the simplex's final basis, in exact integers: x = X / den with
// den > 0. Fraction-free Gauss-Jordan (every division exact, every diagonal entry ends as the
// determinant). Returns false if the basis system is singular or the vertex violates a constraint.
bool exact_vertex(const Simplex& lp, const std::vector<std::vector<int>>& A, const std::vector<int>& b,
                  std::vector<i128>& X, i128& den) {
  const int m = static_cast<int>(A.size());
  const int nv = A.empty() ? 0 : static_cast<int>(A[0].size());
  std::vector<int> cols, rows;
  for (int v : lp.basic())
    if (v >= 0 && v < nv) cols.push_back(v);
  for (int v : lp.nonbasic())
    if (v >= nv) rows.push_back(v - nv);
  X.assign(nv, 0);
  const int r = static_cast<int>(cols.size());
  if (static_cast<int>(rows.size()) != r) return false;
  den = 1;
  if (r > 0) {
    std::vector<std::vector<i128>> a(r, std::vector<i128>(r + 1));
    for (int i = 0; i < r; ++i) {
      for (int j = 0; j < r; ++j) a[i][j] = A[rows[i]][cols[j]];
      a[i][r] = b[rows[i]];
    }
    i128 prev = 1;
    for (int k = 0; k < r; ++k) {
      int p = k;
      while (p < r && a[p][k] == 0) ++p;
      if (p == r) return false;
      std::swap(a[p], a[k]);
      for (int i = 0; i < r; ++i) {
        if (i == k) continue;
        for (int j = 0; j <= r; ++j)
          if (j != k) a[i][j] = (a[k][k] * a[i][j] - a[i][k] * a[k][j]) / prev;
        a[i][k] = 0;
      }
      prev = a[k][k];
    }
    den = a[0][0];
    const i128 sign = den < 0 ? -1 : 1;
    den *= sign;
    for (int j = 0; j < r; ++j) X[cols[j]] = a[j][r] * sign;
  }
  for (int j = 0; j < nv; ++j)
    if (X[j] < 0) return false;
  for (int i = 0; i < m; ++i) {
    i128 s = 0;
    for (int j = 0; j < nv; ++j) s += static_cast<i128>(A[i][j]) * X[j];
    if (s > static_cast<i128>(b[i]) * den) return false;
  }
  return true;
}

std::vector<std::vector<double>> as_double(const std::vector<std::vector<int>>& A) {
  std::vector<std::vector<double>> D(A.size());
  for (size_t i = 0; i < A.size(); ++i) D[i].assign(A[i].begin(), A[i].end());
  return D;
}

}  // namespace

Realisation is_threshold(int n, const uint8_t* table) {
  check_n(n, 10, "is_threshold");
  const uint32_t points = 1u << n;
  Realisation result;
  // Threshold functions are unate: each input pushes one way only. Flip the decreasing ones.
  uint32_t flip = 0;
  for (int i = 0; i < n; ++i) {
    bool up = true, down = true;
    for (uint32_t x = 0; x < points; ++x)
      if (((x >> i) & 1u) == 0) {
        const bool a = table[x] != 0, b = table[x | (1u << i)] != 0;
        up = up && (a <= b);
        down = down && (a >= b);
      }
    if (!up && !down) return result;  // certificate: f(x) < f(x+e_i) and f(y) > f(y+e_i)
    if (!up) flip |= 1u << i;
  }
  std::vector<uint8_t> g(points);
  for (uint32_t x = 0; x < points; ++x) g[x] = table[x ^ flip] != 0;
  std::vector<int64_t> W(n, 0);
  int64_t T = 0;
  bool found = false;
  std::vector<uint32_t> min_true, max_false;
  for (uint32_t x = 0; x < points; ++x) {
    bool minimal = g[x], maximal = !g[x];
    for (int i = 0; i < n; ++i) {
      if (g[x] && ((x >> i) & 1u) && g[x ^ (1u << i)]) minimal = false;
      if (!g[x] && !((x >> i) & 1u) && !g[x | (1u << i)]) maximal = false;
    }
    if (minimal) min_true.push_back(x);
    if (maximal) max_false.push_back(x);
  }
  if (min_true.empty()) {  // constant 0
    T = 1;
    found = true;
  } else if (max_false.empty()) {  // constant 1
    T = 0;
    found = true;
  } else {
    // Primal: w, t >= 0 with w.x >= t on minimal true points and w.y <= t - 1 on maximal false
    // points, minimising sum(w) + t (small integers).
    std::vector<std::vector<int>> A;
    std::vector<int> b;
    for (uint32_t x : min_true) {
      std::vector<int> row(n + 1);
      for (int i = 0; i < n; ++i) row[i] = -static_cast<int>((x >> i) & 1u);
      row[n] = 1;
      A.push_back(row);
      b.push_back(0);
    }
    for (uint32_t y : max_false) {
      std::vector<int> row(n + 1);
      for (int i = 0; i < n; ++i) row[i] = static_cast<int>((y >> i) & 1u);
      row[n] = -1;
      A.push_back(row);
      b.push_back(-1);
    }
    Simplex lp(as_double(A), std::vector<double>(b.begin(), b.end()), std::vector<double>(n + 1, -1.0));
    if (lp.solve() == 1) {
      std::vector<i128> X;
      i128 den = 1;
      if (exact_vertex(lp, A, b, X, den)) {
        i128 gcd = 0;
        for (const i128 v : X) {
          i128 a = v, c = gcd;
          while (c != 0) {
            const i128 t = a % c;
            a = c;
            c = t;
          }
          gcd = a;
        }
        if (gcd == 0) gcd = 1;
        bool fits = true;
        for (int i = 0; i <= n; ++i) fits = fits && X[i] / gcd < (i128(1) << 40);
        if (fits) {
          for (int i = 0; i < n; ++i) W[i] = static_cast<int64_t>(X[i] / gcd);
          T = static_cast<int64_t>(X[n] / gcd);
          found = deepcheap::census::realises(W.data(), T, n, g.data());
        }
      }
    }
    if (!found) {
      // Dual certificate: convex weights lambda on minimal true points and mu on maximal false points
      // with sum(lambda x) <= sum(mu y) coordinatewise. For a realisation with w >= 0 this would give
      // t <= w.sum(lambda x) <= w.sum(mu y) < t.
      const int a = static_cast<int>(min_true.size()), c = static_cast<int>(max_false.size());
      std::vector<std::vector<int>> D(n + 4, std::vector<int>(a + c, 0));
      std::vector<int> e(n + 4, 0);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < a; ++j) D[i][j] = static_cast<int>((min_true[j] >> i) & 1u);
        for (int j = 0; j < c; ++j) D[i][a + j] = -static_cast<int>((max_false[j] >> i) & 1u);
      }
      for (int j = 0; j < a; ++j) {
        D[n][j] = 1;
        D[n + 1][j] = -1;
      }
      for (int j = 0; j < c; ++j) {
        D[n + 2][a + j] = 1;
        D[n + 3][a + j] = -1;
      }
      e[n] = 1;
      e[n + 1] = -1;
      e[n + 2] = 1;
      e[n + 3] = -1;
      Simplex dual(as_double(D), std::vector<double>(e.begin(), e.end()), std::vector<double>(a + c, 0.0));
      std::vector<i128> L;
      i128 den = 1;
      if (dual.solve() == 1 && exact_vertex(dual, D, e, L, den)) return result;  // checked exactly
      throw std::runtime_error("is_threshold: neither a realisation nor a certificate could be verified "
                               "exactly for this " + std::to_string(n) + "-input table (please report)");
    }
  }
  // Undo the flips: x_i -> 1 - x_i moves w_i into the threshold.
  for (int i = 0; i < n; ++i)
    if ((flip >> i) & 1u) {
      T -= W[i];
      W[i] = -W[i];
    }
  if (!deepcheap::census::realises(W.data(), T, n, table))
    throw std::runtime_error("is_threshold: realisation failed its exact check (please report)");
  result.threshold = true;
  result.w = W;
  result.t = T;
  return result;
}

// ---- depth-2 threshold networks ----------------------------------------------------------------------

namespace {

// All input permutations and negations of n <= 4 inputs, as point maps: f'(x) = f(map[x]).
std::vector<std::vector<uint8_t>> np_transforms(int n) {
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<std::vector<uint8_t>> maps;
  do {
    for (uint32_t neg = 0; neg < (1u << n); ++neg) {
      std::vector<uint8_t> map(1u << n);
      for (uint32_t x = 0; x < (1u << n); ++x) {
        uint32_t y = 0;
        for (int i = 0; i < n; ++i) y |= ((x >> i) & 1u) << perm[i];
        map[x] = static_cast<uint8_t>(y ^ neg);
      }
      maps.push_back(std::move(map));
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return maps;
}

uint32_t apply_map(uint32_t f, const std::vector<uint8_t>& map) {
  uint32_t out = 0;
  for (size_t x = 0; x < map.size(); ++x) out |= ((f >> map[x]) & 1u) << x;
  return out;
}

// What every k of depth2_min_units shares: the threshold functions of n inputs (the hidden units), the
// representatives of their classes under input permutations and negations (h_1), those maps, and the
// base-3 encoding of (A, M) pairs.
struct Depth2Context {
  int n = 0;
  uint32_t points = 0, full = 0;
  uint64_t functions = 0, keys = 1;
  std::vector<uint32_t> T, reps;
  std::vector<std::vector<uint8_t>> maps;
  uint32_t pow3_of_byte[256] = {0};  // base-3 digits of a point: 2 if in A, 1 if in M, 0 otherwise

  explicit Depth2Context(int inputs) : n(inputs), points(1u << inputs), functions(uint64_t(1) << points) {
    full = static_cast<uint32_t>(functions - 1);
    for (uint64_t t : all_tables(n)) T.push_back(static_cast<uint32_t>(t));
    maps = np_transforms(n);
    for (uint32_t t : T) {
      uint32_t best = t;
      for (const auto& m : maps) best = std::min(best, apply_map(t, m));
      reps.push_back(best);
    }
    std::sort(reps.begin(), reps.end());
    reps.erase(std::unique(reps.begin(), reps.end()), reps.end());
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t sum = 0, p = 1;
      for (int i = 0; i < 8; ++i, p *= 3) sum += ((v >> i) & 1u) * p;
      pow3_of_byte[v] = sum;
    }
    for (uint32_t i = 0; i < points; ++i) keys *= 3;
  }
  uint64_t key(uint32_t A, uint32_t M) const {
    return uint64_t(2) * pow3_of_byte[A & 255] + pow3_of_byte[M & 255] +
           uint64_t(6561) * (uint64_t(2) * pow3_of_byte[A >> 8] + pow3_of_byte[M >> 8]);
  }
};

// Output units: positive threshold functions of k inputs that depend on all of them, one per
// permutation class (the hidden tuple is ordered, so permuting g's inputs adds nothing), split on
// their last input: g = g0 | (x_k & g1) with g0 <= g1 on the first k-1 inputs.
std::vector<std::pair<uint32_t, uint32_t>> output_units(int k) {
  std::vector<std::pair<uint32_t, uint32_t>> outputs;
  for (const auto& g : canonical_tables(k, 0, canonical_item_count(k))) {
    bool all = true;
    for (int i = 0; i < k; ++i) all = all && depends_on(g, i);
    if (!all) continue;
    const uint32_t half = 1u << (k - 1);
    const uint32_t mask = half == 32 ? 0xFFFFFFFFu : (1u << half) - 1u;
    outputs.emplace_back(static_cast<uint32_t>(g.lo) & mask, static_cast<uint32_t>(g.lo >> half) & mask);
  }
  return outputs;
}

// The networks of k hidden units, one search for one k: hidden units h_1..h_{k-1} (h_1 a representative
// of its class; the result is closed under the maps afterwards) give the pair (A, B) = (g0(h), g1(h));
// the last hidden unit h_k then yields every A | (h_k & (B \ A)). Either every (A, M = B \ A) pair is
// collected as a bit of `pairs`, or, when few functions remain (at the last k only the hardest class,
// e.g. parity), just those are tested on every network ("targeted"), which costs no memory and stops as
// soon as all are found.
struct Depth2Search {
  const Depth2Context& ctx;
  int k;
  std::vector<std::pair<uint32_t, uint32_t>> outputs;
  std::vector<uint32_t> remaining;  // functions not yet reached with fewer units
  bool targeted;
  std::vector<uint8_t> found;       // targeted: per remaining function
  int found_count = 0;
  std::vector<uint64_t> pairs;      // otherwise: one bit per (A, M) key

  Depth2Search(const Depth2Context& c, int units_k, const std::vector<uint8_t>& units)
      : ctx(c), k(units_k), outputs(output_units(units_k)) {
    for (uint64_t f = 0; f < ctx.functions; ++f)
      if (units[f] == 255) remaining.push_back(static_cast<uint32_t>(f));
    targeted = remaining.size() <= 64;
    found.assign(remaining.size(), 0);
    pairs.assign(targeted ? 0 : (ctx.keys + 63) / 64, 0);
  }

  int64_t outer() const { return static_cast<int64_t>(ctx.reps.size()) * (k >= 3 ? int64_t(ctx.T.size()) : 1); }
  bool all_found() {
    int done = 0;
#pragma omp atomic read
    done = found_count;
    return done >= static_cast<int>(remaining.size());
  }
  void run(int threads);
  std::vector<uint64_t> reached(int threads) const;
};

// One thread's walk over outer networks (h_1, h_2); its pair bits go to `mine`.
class Depth2Walker {
 public:
  Depth2Walker(Depth2Search& search, std::vector<uint64_t>& mine)
      : s_(search), c_(search.ctx), k_(search.k), mine_(mine), h_(search.k), hh_(search.k),
        term_(1u << (search.k - 1)), all_outputs_(search.outputs.size()) {
    std::iota(all_outputs_.begin(), all_outputs_.end(), 0);
  }

  void outer(int64_t o) {
    if (s_.targeted && s_.all_found()) return;
    const int64_t nT = static_cast<int64_t>(c_.T.size());
    h_[0] = c_.reps[k_ >= 3 ? o / nT : o];
    if (k_ >= 3) h_[1] = c_.T[o % nT];
    if (s_.targeted)
      prune(k_ >= 3 ? 2 : 1);
    else
      viable_ = all_outputs_;
    if (viable_.empty()) return;
    if (k_ < 4) {
      emit();
      return;
    }
    // h[2] and beyond: the remaining hidden units, all threshold functions.
    for (int64_t i = 0; i < nT; ++i) {
      h_[2] = c_.T[i];
      inner(0);
    }
  }

 private:
  // g (positive) on the chosen units with every later unit at 0 bounds A from below, at 1 bounds B from
  // above: an output unit no remaining function fits between the two is skipped.
  uint32_t bound(uint32_t table, int chosen, uint32_t later) {
    for (int j = 0; j < k_ - 1; ++j) hh_[j] = j < chosen ? h_[j] : later;
    uint32_t out = 0;
    for (uint32_t p = 0; p < (1u << (k_ - 1)); ++p) {
      if (((table >> p) & 1u) == 0) continue;
      uint32_t term_p = c_.full;
      for (int j = 0; j < k_ - 1; ++j) term_p &= ((p >> j) & 1u) ? hh_[j] : ~hh_[j] & c_.full;
      out |= term_p;
    }
    return out;
  }

  void prune(int chosen) {
    viable_.clear();
    for (const int gi : all_outputs_) {
      const uint32_t lo = bound(s_.outputs[gi].first, chosen, 0), hi = bound(s_.outputs[gi].second, chosen, c_.full);
      for (const uint32_t f : s_.remaining)
        if ((lo & ~f) == 0 && (f & ~hi) == 0) {
          viable_.push_back(gi);
          break;
        }
    }
  }

  void inner(int level) {
    if (level == (k_ >= 4 ? k_ - 4 : 0)) {
      emit();
      return;
    }
    for (const uint32_t t : c_.T) {
      h_[3 + level] = t;
      inner(level + 1);
    }
  }

  // Marks the remaining functions some f = A | (t & M) reaches (a threshold unit t as h_k).
  void test_remaining(uint32_t A, uint32_t B) {
    const uint32_t M = B & ~A;
    for (size_t r = 0; r < s_.remaining.size(); ++r) {
      const uint32_t f = s_.remaining[r];
      if ((A & ~f) != 0 || (f & ~B) != 0) continue;
      uint8_t already = 0;
#pragma omp atomic read
      already = s_.found[r];
      if (already) continue;
      for (uint32_t t : c_.T)
        if ((t & M) == (f & M)) {
#pragma omp atomic write
          s_.found[r] = 1;
#pragma omp atomic update
          ++s_.found_count;
          break;
        }
    }
  }

  void emit() {
    term_[0] = c_.full;
    for (int j = 0; j < k_ - 1; ++j) {
      const uint32_t width = 1u << j;
      for (uint32_t p = 0; p < width; ++p) {
        term_[p | width] = term_[p] & h_[j];
        term_[p] &= ~h_[j] & c_.full;
      }
    }
    for (const int gi : viable_) {
      const auto& og = s_.outputs[gi];
      uint32_t A = 0, B = 0;
      for (uint32_t p = 0; p < (1u << (k_ - 1)); ++p) {
        if ((og.first >> p) & 1u) A |= term_[p];
        if ((og.second >> p) & 1u) B |= term_[p];
      }
      if (s_.targeted) {
        test_remaining(A, B);
        continue;
      }
      const uint64_t key = c_.key(A, B & ~A);
      mine_[key >> 6] |= uint64_t(1) << (key & 63);
    }
  }

  Depth2Search& s_;
  const Depth2Context& c_;
  const int k_;
  std::vector<uint64_t>& mine_;
  std::vector<uint32_t> h_, hh_, term_;
  std::vector<int> all_outputs_, viable_;
};

void Depth2Search::run(int threads) {
  // Networks in interruptible chunks of the outer loop (deepcheap/common/interrupt.hpp); each thread
  // keeps its pair bits across chunks and they are merged once at the end, so chunks change nothing.
  std::vector<std::vector<uint64_t>> mine_of(static_cast<size_t>(threads));
  double cost = double(outputs.size()) + 1.0;
  for (int level = 0; level < (k >= 4 ? k - 3 : 0); ++level) cost *= double(ctx.T.size());
  interrupt::run_chunks(outer(), interrupt::first_chunk(cost), [&](int64_t o_begin, int64_t o_end) {
#pragma omp parallel num_threads(threads)
    {
      std::vector<uint64_t>& mine = mine_of[static_cast<size_t>(omp_get_thread_num())];
      if (mine.size() != pairs.size()) mine.assign(pairs.size(), 0);
      Depth2Walker walker(*this, mine);
#pragma omp for schedule(dynamic, 16)
      for (int64_t o = o_begin; o < o_end; ++o) walker.outer(o);
    }
  });
  for (const auto& mine : mine_of)
    for (size_t i = 0; i < mine.size(); ++i) pairs[i] |= mine[i];
}

// The functions the search reached: the targeted ones found, and every A | (t & M) of a collected pair.
std::vector<uint64_t> Depth2Search::reached(int threads) const {
  std::vector<uint64_t> reached((ctx.functions + 63) / 64, 0);
  for (size_t r = 0; r < remaining.size(); ++r)
    if (found[r]) reached[remaining[r] >> 6] |= uint64_t(1) << (remaining[r] & 63);
#pragma omp parallel num_threads(threads) if (!targeted)
  {
    std::vector<uint64_t> mine(reached.size(), 0);
#pragma omp for schedule(dynamic, 64)
    for (int64_t word = 0; word < static_cast<int64_t>(pairs.size()); ++word) {
      uint64_t bits = pairs[word];
      while (bits) {
        const uint64_t key = uint64_t(word) * 64 + static_cast<uint64_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        uint32_t A = 0, M = 0;
        uint64_t rest = key;
        for (uint32_t x = 0; x < ctx.points; ++x, rest /= 3) {
          const uint64_t digit = rest % 3;
          if (digit == 2) A |= 1u << x;
          if (digit == 1) M |= 1u << x;
        }
        for (uint32_t t : ctx.T) {
          const uint32_t f = A | (t & M);
          mine[f >> 6] |= uint64_t(1) << (f & 63);
        }
      }
    }
#pragma omp critical(deepcheap_census_reached)
    for (size_t i = 0; i < reached.size(); ++i) reached[i] |= mine[i];
  }
  return reached;
}

// Every reached function and its images under input permutations and negations need at most k units
// (the set of depth-2 functions is closed under them; the representatives of h_1 reach one member of
// each class).
void close_under_maps(const Depth2Context& ctx, const std::vector<uint64_t>& reached, int k,
                      std::vector<uint8_t>& units) {
  for (uint64_t f = 0; f < ctx.functions; ++f) {
    if (!((reached[f >> 6] >> (f & 63)) & 1u) || units[f] <= k) continue;
    for (const auto& m : ctx.maps) {
      const uint32_t image = apply_map(static_cast<uint32_t>(f), m);
      if (units[image] > k) units[image] = static_cast<uint8_t>(k);
    }
  }
}

}  // namespace

std::vector<uint8_t> depth2_min_units(int n, int kmax, const std::function<void(int, int)>& progress) {
  check_n(n, 4, "depth2_min_units");
  if (kmax < 0 || kmax > 5) throw std::invalid_argument("depth2_min_units: kmax must be in 0..5, got " + std::to_string(kmax));
  const uint64_t F = uint64_t(1) << (1u << n);  // functions of n inputs
  std::vector<uint8_t> units(F, 255);
  units[0] = 0;
  units[F - 1] = 0;
  if (progress) progress(0, kmax);
  if (kmax == 0) return units;
  const Depth2Context ctx(n);
  for (uint32_t t : ctx.T) units[t] = std::min<uint8_t>(units[t], 1);
  if (progress) progress(1, kmax);
  const int threads = deepcheap::cpu::num_threads();
  for (int k = 2; k <= kmax; ++k) {
    Depth2Search search(ctx, k, units);
    search.run(threads);
    close_under_maps(ctx, search.reached(threads), k, units);
    if (progress) progress(k, kmax);
    if (std::all_of(units.begin(), units.end(), [](uint8_t u) { return u != 255; })) break;
  }
  return units;
}

}  // namespace deepcheap::cpu::census
