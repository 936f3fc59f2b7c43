// Per-item math of ReLU multilayer perceptrons (DC_HD: host and device), no driver, no Python.
//
// A network is described by its widths w[0..L] (w[0] the input dimension, w[L] the output dimension,
// w[1..L-1] the hidden ReLU layers) and one flat float64 parameter block: for each affine layer
// l = 1..L, W_l (w[l] x w[l-1], row-major) then b_l (w[l]). Hidden layers apply ReLU, the last layer
// is affine. Every dot product is summed in index order, so a result is the same bits on every
// thread count and device (and exact wherever the arithmetic is: the sawtooth on dyadic inputs).
// Inside DC_NAMESPACE (each SIMD target's copy has its own mangled names): the CPU line walk is a kernel
// compiled per target (csrc/cpu/kernels/relu.cpp); the plane walk, the plan and CUDA use the generic copy.
#pragma once

#include <cmath>
#include <cstdint>

#include "deepcheap/common/config.hpp"

DC_NAMESPACE_BEGIN
namespace relu {

// Offset of W_l (l = 1..L) in the flat parameter block; layer_offset(widths, L + 1) is its size.
DC_HD int64_t layer_offset(const int64_t* widths, int layer) {
  int64_t offset = 0;
  for (int l = 1; l < layer; ++l) offset += widths[l] * (widths[l - 1] + 1);
  return offset;
}

// y = W x (+ b when b is not null), W row-major n_out x n_in, summed in index order.
DC_HD void affine(const double* W, const double* b, int64_t n_out, int64_t n_in, const double* x, double* y) {
  for (int64_t i = 0; i < n_out; ++i) {
    const double* row = W + i * n_in;
    double s = 0.0;
    for (int64_t j = 0; j < n_in; ++j) s += row[j] * x[j];
    y[i] = b ? s + b[i] : s;
  }
}

// The network at one point x (w[0] values) into out (w[L] values). buf0 and buf1 hold max(w) values
// each. Returns nothing; NaN in, NaN out (the caller validates).
DC_HD void forward(const int64_t* widths, int layers, const double* params, const double* x, double* out,
                   double* buf0, double* buf1) {
  const double* in = x;
  double* cur = buf0;
  for (int l = 1; l <= layers; ++l) {
    const double* W = params + layer_offset(widths, l);
    const double* b = W + widths[l] * widths[l - 1];
    double* dst = l == layers ? out : cur;
    affine(W, b, widths[l], widths[l - 1], in, dst);
    if (l < layers) {
      for (int64_t i = 0; i < widths[l]; ++i) dst[i] = dst[i] > 0.0 ? dst[i] : 0.0;
      in = dst;
      cur = cur == buf0 ? buf1 : buf0;
    }
  }
}

// The activation pattern at x (one bit per hidden neuron, pre-activation > 0, in layer order) folded
// into a 64-bit FNV-1a hash: the same pattern, the same hash (used to label regions of an image).
DC_HD uint64_t pattern_hash(const int64_t* widths, int layers, const double* params, const double* x,
                            double* buf0, double* buf1) {
  uint64_t h = 1469598103934665603ull;
  const double* in = x;
  double* cur = buf0;
  for (int l = 1; l < layers; ++l) {
    const double* W = params + layer_offset(widths, l);
    const double* b = W + widths[l] * widths[l - 1];
    affine(W, b, widths[l], widths[l - 1], in, cur);
    for (int64_t i = 0; i < widths[l]; ++i) {
      const bool on = cur[i] > 0.0;
      cur[i] = on ? cur[i] : 0.0;
      h = (h ^ (on ? 0x9Bu : 0x31u)) * 1099511628211ull;
    }
    in = cur;
    cur = cur == buf0 ? buf1 : buf0;
  }
  return h;
}

// The zeros of the pre-activations z_j + t dz_j (j < n) strictly inside (lo + tol, hi - tol), sorted
// and merged (a zero within tol of the last one kept is the same breakpoint), into cuts (n values).
// A neuron with dz_j = 0 is constant on the piece and never cuts it. Returns the number of cuts.
DC_HD int piece_cuts(const double* z, const double* dz, int64_t n, double lo, double hi, double tol, double* cuts) {
  int count = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (dz[j] == 0.0) continue;
    const double t = -z[j] / dz[j];
    if (t > lo + tol && t < hi - tol) {
      int k = count++;
      while (k > 0 && cuts[k - 1] > t) {  // insertion sort: pieces are short, cuts are few
        cuts[k] = cuts[k - 1];
        --k;
      }
      cuts[k] = t;
    }
  }
  int kept = 0;
  for (int i = 0; i < count; ++i)
    if (kept == 0 || cuts[i] - cuts[kept - 1] > tol) cuts[kept++] = cuts[i];
  return kept;
}

// One sub-piece [s, e] of a layer: the pattern at its midpoint (constant on it: no zero inside), and
// the post-activations as affine functions of t, a + t c (zero where the neuron is off).
DC_HD void piece_activate(const double* z, const double* dz, int64_t n, double s, double e, double* a, double* c,
                          uint8_t* bits) {
  const double m = 0.5 * (s + e);
  for (int64_t j = 0; j < n; ++j) {
    const bool on = z[j] + m * dz[j] > 0.0;
    bits[j] = on ? 1 : 0;
    a[j] = on ? z[j] : 0.0;
    c[j] = on ? dz[j] : 0.0;
  }
}

// The next sibling [s, e] of a piece whose pattern was computed by piece_activate: updates the pattern
// and (a, c) in place and lists the neurons that changed state in flips (increasing order). Returns
// their number.
DC_HD int piece_flip(const double* z, const double* dz, int64_t n, double s, double e, double* a, double* c,
                     uint8_t* bits, int* flips) {
  const double m = 0.5 * (s + e);
  int nflip = 0;
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t on = z[j] + m * dz[j] > 0.0 ? 1 : 0;
    if (on == bits[j]) continue;
    bits[j] = on;
    a[j] = on ? z[j] : 0.0;
    c[j] = on ? dz[j] : 0.0;
    flips[nflip++] = static_cast<int>(j);
  }
  return nflip;
}

// Workspace of one line walk: for every hidden layer l = 1..H, (z, dz, a, c, cuts) of w[l] values and
// w[l] pattern bytes, plus per-level scalars. The caller provides the storage (sizes from
// walk_doubles / walk_bytes), so the walk itself never allocates (it runs the same on a GPU thread).
DC_HD int64_t walk_doubles(const int64_t* widths, int layers) {
  int64_t n = 2 * widths[0];
  for (int l = 1; l < layers; ++l) n += 5 * widths[l] + 2;
  return n;
}
DC_HD int64_t walk_ints(const int64_t* widths, int layers) {
  int64_t widest = 1;
  for (int l = 1; l < layers; ++l) widest = widths[l] > widest ? widths[l] : widest;
  return 2 * layers + widest;
}
DC_HD int64_t hidden_neurons(const int64_t* widths, int layers) {
  int64_t n = 0;
  for (int l = 1; l < layers; ++l) n += widths[l];
  return n;
}

// The same block with every W_l stored transposed (w[l-1] x w[l], row-major), the layout the walk
// reads: transpose_params writes it from the ordinary block.
DC_HD void transpose_params(const int64_t* widths, int layers, const double* params, double* params_t) {
  for (int l = 1; l <= layers; ++l) {
    const int64_t off = layer_offset(widths, l), n_out = widths[l], n_in = widths[l - 1];
    for (int64_t i = 0; i < n_out; ++i)
      for (int64_t j = 0; j < n_in; ++j) params_t[off + j * n_out + i] = params[off + i * n_in + j];
    for (int64_t i = 0; i < n_out; ++i) params_t[off + n_out * n_in + i] = params[off + n_out * n_in + i];
  }
}

// z = W a + b and dz = W c from the transposed weights WT (n_in x n_out): b first, then input j's
// column for j = 0, 1, ... in order (an input with a_j = c_j = 0, an inactive neuron, adds nothing and
// is skipped). Each z_i is summed in the same order on every SIMD width, so the lanes are bit-identical
// to the scalar loop (the file is compiled without floating-point contraction).
DC_HD void affine_pair_t(const double* DC_RESTRICT WT, const double* DC_RESTRICT b, int64_t n_out, int64_t n_in,
                         const double* DC_RESTRICT a, const double* DC_RESTRICT c, double* DC_RESTRICT z,
                         double* DC_RESTRICT dz) {
  for (int64_t i = 0; i < n_out; ++i) {
    z[i] = b[i];
    dz[i] = 0.0;
  }
  for (int64_t j = 0; j < n_in; ++j) {
    const double aj = a[j], cj = c[j];
    if (aj == 0.0 && cj == 0.0) continue;
    const double* DC_RESTRICT col = WT + j * n_out;
    DC_SIMD
    for (int64_t i = 0; i < n_out; ++i) {
      z[i] += col[i] * aj;
      dz[i] += col[i] * cj;
    }
  }
}

// The exact walk along x(t) = x0 + t (x1 - x0), t in [0, 1]: each hidden layer's pre-activations are
// affine in t on the current piece, so their zeros split it; depth first, so the pieces come out in
// increasing t (params_t: the transposed block, transpose_params). emit(s, e, bits) is called once per piece with its activation pattern (one byte per
// hidden neuron, layer order) and returns whether to go on. Returns the number of pieces (activation
// regions along the segment), -1 as soon as more than max_pieces were found (the walk stops there: a
// sawtooth of depth 60 has 2^60 pieces, and nothing should run that long by accident), or kWalkStopped
// when emit said stop (the CPU driver's on Ctrl-C: cpu/stop.hpp).
//   work: walk_doubles(widths, layers) doubles; bits: hidden_neurons(widths, layers) bytes;
//   state: walk_ints(widths, layers) ints.
constexpr int64_t kWalkStopped = -2;

template <class Emit>
DC_HD int64_t walk_line(const int64_t* widths, int layers, const double* params_t, const double* x0, const double* x1,
                        double tol, int64_t max_pieces, double* work, uint8_t* bits, int* state, Emit& emit) {
  const int H = layers - 1;
  const int64_t d = widths[0];
  double* a0 = work;
  double* c0 = work + d;
  for (int64_t j = 0; j < d; ++j) {
    a0[j] = x0[j];
    c0[j] = x1[j] - x0[j];
  }
  if (H == 0) {
    emit(0.0, 1.0, bits);
    return 1;
  }
  // Level l (1..H) storage, laid out one after the other.
  double* zs[64];
  double* dzs[64];
  double* as[64];
  double* cs[64];
  double* cutss[64];
  uint8_t* bitss[64];
  double* lohi[64];
  {
    double* p = work + 2 * d;
    uint8_t* q = bits;
    for (int l = 1; l <= H; ++l) {
      const int64_t n = widths[l];
      zs[l] = p;
      dzs[l] = p + n;
      as[l] = p + 2 * n;
      cs[l] = p + 3 * n;
      cutss[l] = p + 4 * n;
      lohi[l] = p + 5 * n;
      p += 5 * n + 2;
      bitss[l] = q;
      q += n;
    }
  }
  int* ncut = state;           // ncut[l]: cuts of the current level-l piece
  int* next = state + layers;  // next[l]: index of the next sub-piece of level l to visit
  int* flips = state + 2 * layers;  // neurons whose state changed between two sibling pieces
  int64_t pieces = 0;
  // Enter level l on piece [lo, hi] with the previous level's (a, c).
  auto enter = [&](int l, double lo, double hi) {
    const double* a = l == 1 ? a0 : as[l - 1];
    const double* c = l == 1 ? c0 : cs[l - 1];
    const double* WT = params_t + layer_offset(widths, l);
    affine_pair_t(WT, WT + widths[l] * widths[l - 1], widths[l], widths[l - 1], a, c, zs[l], dzs[l]);
    ncut[l] = piece_cuts(zs[l], dzs[l], widths[l], lo, hi, tol, cutss[l]);
    next[l] = 0;
    lohi[l][0] = lo;
    lohi[l][1] = hi;
  };
  // Enter level l on the next sibling [lo, hi] of the previous level-(l-1) piece: only the level-(l-1)
  // neurons in flips[0..nflip) changed state, so z and dz move by their columns (a rank-nflip update,
  // in increasing neuron order) instead of being recomputed.
  auto enter_next = [&](int l, double lo, double hi, int nflip) {
    const int64_t n = widths[l];
    const double* WT = params_t + layer_offset(widths, l);
    double* DC_RESTRICT z = zs[l];
    double* DC_RESTRICT dz = dzs[l];
    for (int f = 0; f < nflip; ++f) {
      const int j = flips[f];
      const double sign = bitss[l - 1][j] ? 1.0 : -1.0;
      const double da = sign * zs[l - 1][j], dc = sign * dzs[l - 1][j];
      const double* DC_RESTRICT col = WT + static_cast<int64_t>(j) * n;
      DC_SIMD
      for (int64_t q = 0; q < n; ++q) {
        z[q] += col[q] * da;
        dz[q] += col[q] * dc;
      }
    }
    ncut[l] = piece_cuts(z, dz, n, lo, hi, tol, cutss[l]);
    next[l] = 0;
    lohi[l][0] = lo;
    lohi[l][1] = hi;
  };
  enter(1, 0.0, 1.0);
  int l = 1;
  while (l >= 1) {
    if (next[l] > ncut[l]) {
      --l;
      continue;
    }
    const int i = next[l]++;
    const double s = i == 0 ? lohi[l][0] : cutss[l][i - 1];
    const double e = i == ncut[l] ? lohi[l][1] : cutss[l][i];
    if (i == 0 || l == H) {
      piece_activate(zs[l], dzs[l], widths[l], s, e, as[l], cs[l], bitss[l]);
    } else {
      const int nflip = piece_flip(zs[l], dzs[l], widths[l], s, e, as[l], cs[l], bitss[l], flips);
      ++l;
      enter_next(l, s, e, nflip);
      continue;
    }
    if (l == H) {
      if (pieces == max_pieces) return -1;
      if (!emit(s, e, bits)) return kWalkStopped;
      ++pieces;
    } else {
      ++l;
      enter(l, s, e);
    }
  }
  return pieces;
}

// Item i of a batch of walks, the one per-line function every driver calls (the CPU loop in
// csrc/cpu/relu.cpp, the CUDA kernels in csrc/cuda/relu.cu): network i / n_lines (params_t: n_nets
// blocks of `per` transposed parameters) along segment i % n_lines (lines: n_lines x 2 x w[0], (x0, x1)
// each). Returns walk_line's count (-1 past max_pieces, kWalkStopped when emit stopped it); the
// workspace is that of walk_line.
template <class Emit>
DC_HD int64_t walk_item(const int64_t* widths, int layers, const double* params_t, int64_t per, const double* lines,
                        int64_t n_lines, int64_t i, double tol, int64_t max_pieces, double* work, uint8_t* bits,
                        int* state, Emit& emit) {
  const int64_t d = widths[0];
  const double* x0 = lines + (i % n_lines) * 2 * d;
  return walk_line(widths, layers, params_t + (i / n_lines) * per, x0, x0 + d, tol, max_pieces, work, bits, state,
                   emit);
}

// Emitters for walk_item that need no allocation (a GPU thread's): CountPieces only lets the walk count;
// StorePieces writes the interior breakpoints (every piece's start but the first, t = 0) to t and, when
// patterns is not null, each piece's pattern (neurons bytes) to patterns, into storage sized by a
// counting pass (the walk is deterministic: the second walk of an item emits exactly what the first
// counted).
struct CountPieces {
  DC_HD bool operator()(double, double, const uint8_t*) { return true; }
};
struct StorePieces {
  double* t;
  uint8_t* patterns;
  int64_t neurons;
  DC_HD bool operator()(double s, double, const uint8_t* b) {
    if (s > 0.0) *t++ = s;
    if (patterns) {
      for (int64_t j = 0; j < neurons; ++j) patterns[j] = b[j];
      patterns += neurons;
    }
    return true;
  }
};

}  // namespace relu
DC_NAMESPACE_END

DC_NAMESPACE_BEGIN
namespace relu {

// ---- planes: a convex polygon (n vertices (s, t), interleaved) split by one neuron's line ----------
// The neuron is f(s, t) = z + s zu + t zv. Vertices within tol of the line (distance in plane units)
// count as on it. Returns 0 (no split) when no vertex lies beyond tol on one of the two sides;
// otherwise writes the part with f >= 0 into pos and the part with f <= 0 into neg (the line's
// crossings of the edges included in both) and returns 1. A convex polygon has at most two edges
// that cross the line properly (one end beyond tol on each side), so each part has at most n + 1
// vertices. Nothing is written and the result is kSplitNonConvex when more edges cross (a cell that
// rounding made non-convex on the scale of tol), kSplitNoRoom when the cell would split but n + 1 >
// room (the vertices pos and neg can each hold).
constexpr int kSplitNonConvex = -1;
constexpr int kSplitNoRoom = -2;

DC_HD int polygon_split(const double* poly, int n, double z, double zu, double zv, double tol, int64_t room,
                        double* pos, int& npos, double* neg, int& nneg) {
  const double norm2 = zu * zu + zv * zv;
  if (!(norm2 > 0.0)) return 0;  // constant on the plane: no line
  const double inv = 1.0 / sqrt(norm2);
  bool any_pos = false, any_neg = false;
  int crossings = 0;
  const double d0 = (z + poly[0] * zu + poly[1] * zv) * inv;
  double prev = d0;
  for (int i = 0; i < n; ++i) {
    const double d = prev;
    const double next = i + 1 == n ? d0 : (z + poly[2 * i + 2] * zu + poly[2 * i + 3] * zv) * inv;
    any_pos = any_pos || d > tol;
    any_neg = any_neg || d < -tol;
    crossings += (d > tol && next < -tol) || (d < -tol && next > tol) ? 1 : 0;
    prev = next;
  }
  if (!any_pos || !any_neg) return 0;
  if (crossings > 2) return kSplitNonConvex;
  if (n + 1 > room) return kSplitNoRoom;
  npos = 0;
  nneg = 0;
  for (int i = 0; i < n; ++i) {
    const int j = i + 1 == n ? 0 : i + 1;
    const double si = poly[2 * i], ti = poly[2 * i + 1], sj = poly[2 * j], tj = poly[2 * j + 1];
    const double di = (z + si * zu + ti * zv) * inv, dj = (z + sj * zu + tj * zv) * inv;
    const int ci = di > tol ? 1 : (di < -tol ? -1 : 0);
    const int cj = dj > tol ? 1 : (dj < -tol ? -1 : 0);
    if (ci >= 0) {
      pos[2 * npos] = si;
      pos[2 * npos + 1] = ti;
      ++npos;
    }
    if (ci <= 0) {
      neg[2 * nneg] = si;
      neg[2 * nneg + 1] = ti;
      ++nneg;
    }
    if (ci * cj < 0) {  // a proper crossing of the edge: the point on the line goes to both parts
      const double r = di / (di - dj);
      const double s = si + r * (sj - si), t = ti + r * (tj - ti);
      pos[2 * npos] = s;
      pos[2 * npos + 1] = t;
      ++npos;
      neg[2 * nneg] = s;
      neg[2 * nneg + 1] = t;
      ++nneg;
    }
  }
  return 1;
}

// Area and centroid of a convex polygon (shoelace); the vertex mean when the area is zero.
DC_HD double polygon_area_centroid(const double* poly, int n, double& cs, double& ct) {
  double a2 = 0.0, sx = 0.0, sy = 0.0, ms = 0.0, mt = 0.0;
  for (int i = 0; i < n; ++i) {
    const int j = i + 1 == n ? 0 : i + 1;
    const double cross = poly[2 * i] * poly[2 * j + 1] - poly[2 * j] * poly[2 * i + 1];
    a2 += cross;
    sx += (poly[2 * i] + poly[2 * j]) * cross;
    sy += (poly[2 * i + 1] + poly[2 * j + 1]) * cross;
    ms += poly[2 * i];
    mt += poly[2 * i + 1];
  }
  if (a2 != 0.0) {
    cs = sx / (3.0 * a2);
    ct = sy / (3.0 * a2);
  } else {
    cs = ms / n;
    ct = mt / n;
  }
  return 0.5 * (a2 < 0 ? -a2 : a2);
}

// ---- the plane walk: depth-first polygon splitting over caller-provided storage ---------------------
// The regions of a network in the plane rectangle {origin + s u + t v}: the rectangle is split by every
// first-layer neuron's line (one neuron after the other, each cell by each line), then each cell by the
// next layer's lines, which are affine on the cell (the previous layers' patterns are constant there:
// taken at its centroid), and so on. The split tree is walked depth first with the positive part
// first, so the cells come out in the order of splitting every cell of a level by neuron 0, then every
// resulting cell by neuron 1, ... (the leaves of the tree left to right), level after level.
//
// Bounds, so the walk needs no allocation: a split adds at most one vertex to each part (polygon_split)
// and a path from the rectangle to a region splits at most once per hidden neuron (N in all), so every
// polygon has at most 4 + N vertices and the stack of pending parts (one frame per split on the current
// path, plus the one being split) at most 1 + N frames. plane_vertices and plane_frames give these
// exact bounds; a caller may give less (max_vertices, max_frames: a wide network's bound is large, its
// walks mostly far below), and a walk that would pass them returns kPlaneFull.
constexpr int64_t kPlaneDegenerate = -3;  // polygon_split met a non-convex cell (raise tol)
constexpr int64_t kPlaneFull = -4;        // more vertices or nested splits than the workspace holds

DC_HD int64_t plane_vertices(const int64_t* widths, int layers) { return 4 + hidden_neurons(widths, layers); }
DC_HD int64_t plane_frames(const int64_t* widths, int layers) { return 1 + hidden_neurons(widths, layers); }
// Workspace of one walk with room for max_frames polygons of max_vertices each: doubles (the
// post-activations of levels 0..H-1 and the pre-activations of levels 1..H as affine functions of
// (s, t), three values per neuron each, then max_frames + 1 polygons of 2 max_vertices values) and
// ints (level, next neuron and vertex count per frame).
DC_HD int64_t plane_doubles(const int64_t* widths, int layers, int64_t max_vertices, int64_t max_frames) {
  int64_t n = 3 * widths[0];
  for (int l = 1; l < layers; ++l) n += 6 * widths[l];
  if (layers >= 2) n -= 3 * widths[layers - 1];  // level H has no post-activations (its cells are regions)
  return n + (max_frames + 1) * 2 * max_vertices;
}
DC_HD int64_t plane_ints(int64_t max_frames) { return 3 * max_frames; }

// The regions below one polygon. plane: origin, u, v (w[0] values each); params: the ordinary
// (row-major) parameter block. The walk starts from `poly` (nv vertices, copied) as a cell of level 1
// that neurons 0..start_next-1 of level 1 already split (0: the rectangle itself; w[1]: a finished
// first-layer cell), and emits every cell of level `last` (1 <= last <= H = layers - 1; H: the regions)
// through emit(area, centroid s, centroid t, polygon, vertices), which returns whether to go on.
// Returns the number of cells emitted, kWalkStopped when emit said stop, kPlaneDegenerate or
// kPlaneFull (nothing more is emitted then). layers >= 2 (an affine map has no hidden neuron: one region).
template <class Emit>
DC_HD int64_t walk_plane(const int64_t* widths, int layers, const double* params, const double* plane,
                         const double* poly, int nv, int64_t start_next, int last, double tol, int64_t max_vertices,
                         int64_t max_frames, double* work, int* state, Emit& emit) {
  const int H = layers - 1;
  const int64_t d = widths[0];
  // Level storage: post-activations (a, cu, cv) of levels 0..H-1, then pre-activations (pz, pu, pv) of
  // levels 1..H, three rows of w[l] values each; first[l] = w[0] + ... + w[l-1] places them.
  int64_t first[65];
  first[0] = 0;
  for (int l = 0; l < layers; ++l) first[l + 1] = first[l] + widths[l];
  double* const post_at = work;
  double* const pre_at = work + 3 * first[H] - 3 * widths[0];  // level 1's rows start at 3 first[H]
  const auto a_of = [&](int l) { return post_at + 3 * first[l]; };
  const auto cu_of = [&](int l) { return post_at + 3 * first[l] + widths[l]; };
  const auto cv_of = [&](int l) { return post_at + 3 * first[l] + 2 * widths[l]; };
  const auto pz_of = [&](int l) { return pre_at + 3 * first[l]; };
  const auto pu_of = [&](int l) { return pre_at + 3 * first[l] + widths[l]; };
  const auto pv_of = [&](int l) { return pre_at + 3 * first[l] + 2 * widths[l]; };
  double* p = work + 3 * first[H] + 3 * (first[H + 1] - first[1]);
  const int64_t stride = 2 * max_vertices;
  double* polys = p;                           // frame f's polygon at polys + f * stride
  double* spare = polys + max_frames * stride;  // the negative part of a split, before it takes its frame
  int* level = state;
  int* next = state + max_frames;
  int* count = state + 2 * max_frames;
  // The pre-activations of level l from the post-activations of level l - 1.
  auto pre = [&](int l) {
    const int64_t n = widths[l];
    const double* W = params + layer_offset(widths, l);
    const double* b = W + n * widths[l - 1];
    affine(W, b, n, widths[l - 1], a_of(l - 1), pz_of(l));
    affine(W, nullptr, n, widths[l - 1], cu_of(l - 1), pu_of(l));
    affine(W, nullptr, n, widths[l - 1], cv_of(l - 1), pv_of(l));
  };
  for (int64_t j = 0; j < d; ++j) {
    a_of(0)[j] = plane[j];
    cu_of(0)[j] = plane[d + j];
    cv_of(0)[j] = plane[2 * d + j];
  }
  pre(1);
  if (nv > max_vertices || max_frames < 1) return kPlaneFull;
  for (int k = 0; k < 2 * nv; ++k) polys[k] = poly[k];
  level[0] = 1;
  next[0] = static_cast<int>(start_next);
  count[0] = nv;
  int top = 0;
  int64_t cells = 0;
  while (top >= 0) {
    const int l = level[top];
    const int j = next[top];
    double* P = polys + top * stride;
    const int n = count[top];
    if (j < widths[l]) {  // split the cell by neuron j of its level: positive part on top, negative below
      int np = 0, nn = 0;
      const int64_t room = top + 1 < max_frames ? max_vertices : 0;  // frame top + 1 takes the positive part
      const int r = polygon_split(P, n, pz_of(l)[j], pu_of(l)[j], pv_of(l)[j], tol, room, P + stride, np, spare, nn);
      if (r == kSplitNonConvex) return kPlaneDegenerate;
      if (r == kSplitNoRoom) return kPlaneFull;
      next[top] = j + 1;
      if (r == 0) continue;
      for (int k = 0; k < 2 * nn; ++k) P[k] = spare[k];
      count[top] = nn;
      ++top;
      level[top] = l;
      next[top] = j + 1;
      count[top] = np;
      continue;
    }
    // The cell is finished at level l.
    double cs = 0.0, ct = 0.0;
    const double area = polygon_area_centroid(P, n, cs, ct);
    if (l == last) {
      if (!emit(area, cs, ct, static_cast<const double*>(P), n)) return kWalkStopped;
      ++cells;
      --top;
      continue;
    }
    // Level l's pattern is constant on the cell: its post-activations, then level l + 1's lines.
    for (int64_t i = 0; i < widths[l]; ++i) {
      const bool on = pz_of(l)[i] + cs * pu_of(l)[i] + ct * pv_of(l)[i] > 0.0;
      a_of(l)[i] = on ? pz_of(l)[i] : 0.0;
      cu_of(l)[i] = on ? pu_of(l)[i] : 0.0;
      cv_of(l)[i] = on ? pv_of(l)[i] : 0.0;
    }
    pre(l + 1);
    level[top] = l + 1;
    next[top] = 0;
  }
  return cells;
}

// Item i of a batch of plane walks, the functions every driver calls (the CPU loops in csrc/cpu/relu.cpp,
// the CUDA kernels in csrc/cuda/relu.cu): network i / n_planes (params: n_nets blocks of `per` ordinary
// parameters) in plane i % n_planes (planes: n_planes x 3 x w[0], origin, u, v each), rectangle extent
// (s0, s1, t0, t1). A walk is cut in two so that one plane of a deep network is many independent units
// of work: plane_first_cells emits the cells of the first hidden layer in the rectangle (their polygons
// matter: each is a unit), plane_unit_regions the regions below one of them (cell, nv: its polygon as
// plane_first_cells emitted it). The units of an item, in order, emit the regions of the whole walk in
// its order. Results, workspace and emit as walk_plane's.
template <class Emit>
DC_HD int64_t plane_first_cells(const int64_t* widths, int layers, const double* params, int64_t per,
                                const double* planes, int64_t n_planes, int64_t i, const double* extent, double tol,
                                int64_t max_vertices, int64_t max_frames, double* work, int* state, Emit& emit) {
  const double rect[8] = {extent[0], extent[2], extent[1], extent[2], extent[1], extent[3], extent[0], extent[3]};
  return walk_plane(widths, layers, params + (i / n_planes) * per, planes + (i % n_planes) * 3 * widths[0], rect, 4, 0,
                    1, tol, max_vertices, max_frames, work, state, emit);
}
template <class Emit>
DC_HD int64_t plane_unit_regions(const int64_t* widths, int layers, const double* params, int64_t per,
                                 const double* planes, int64_t n_planes, int64_t i, const double* cell, int nv,
                                 double tol, int64_t max_vertices, int64_t max_frames, double* work, int* state,
                                 Emit& emit) {
  return walk_plane(widths, layers, params + (i / n_planes) * per, planes + (i % n_planes) * 3 * widths[0], cell, nv,
                    widths[1], layers - 1, tol, max_vertices, max_frames, work, state, emit);
}

// Emitters for the plane walks that need no allocation (a GPU thread's), writing into storage sized by a
// counting pass (the walk is deterministic: the second walk emits exactly what the first counted).
// CountCells counts the vertices of the emitted polygons; StorePolygons writes each polygon's vertices
// (2 per vertex, one after the other) and vertex count; CountRegions only lets the walk count;
// StoreRegionCells writes (area, centroid s, centroid t) per region.
struct CountCells {
  int64_t vertices = 0;
  DC_HD bool operator()(double, double, double, const double*, int n) {
    vertices += n;
    return true;
  }
};
struct StorePolygons {
  double* vertices;
  int* counts;
  DC_HD bool operator()(double, double, double, const double* poly, int n) {
    for (int k = 0; k < 2 * n; ++k) vertices[k] = poly[k];
    vertices += 2 * n;
    *counts++ = n;
    return true;
  }
};
struct CountRegions {
  DC_HD bool operator()(double, double, double, const double*, int) { return true; }
};
struct StoreRegionCells {
  double* out;
  DC_HD bool operator()(double area, double cs, double ct, const double*, int) {
    out[0] = area;
    out[1] = cs;
    out[2] = ct;
    out += 3;
    return true;
  }
};

}  // namespace relu
DC_NAMESPACE_END
