// Bit-sliced circuit evaluation: every wire slot holds a block of 64-bit words (8 words = 512 input
// vectors per 64-byte vector register), and one pass over a compiled plan (deepcheap/circuit/gates.hpp)
// evaluates every gate for the whole block. Gates come in runs of one op, so the inner loops are
// branch-free loads, one bitwise instruction and a store; the op switch runs once per run.
#include <omp.h>

#include "deepcheap/circuit/gates.hpp"

DC_NAMESPACE_BEGIN

namespace {

// Eight words: one AVX-512 register, two AVX2 registers, four SSE2 registers on the scalar target.
// Slots are blocks of KV such vectors (block_words 8..64), or a single plain word (block_words 1:
// calls of a word or two, where an 8-word block would evaluate 8 words for every one asked for).
typedef uint64_t vword __attribute__((vector_size(64), aligned(64)));

// Words in one V (8 for vword, 1 for uint64_t).
template <class V>
constexpr int kLanes = int(sizeof(V) / sizeof(uint64_t));

template <class V, int KV, class I, class F>
inline void circuit_run_binary(const I* DC_RESTRICT ins, int32_t n, V* S, F f) {
  for (int32_t i = 0; i < n; ++i) {
    const V* a = S + static_cast<int64_t>(ins[3 * i]) * KV;
    const V* b = S + static_cast<int64_t>(ins[3 * i + 1]) * KV;
    V* d = S + static_cast<int64_t>(ins[3 * i + 2]) * KV;
    // Plans never let a gate write a slot it reads in the same level, but compute then store anyway
    // so the loop stays correct under aliasing.
    V t[KV];
    for (int k = 0; k < KV; ++k) t[k] = f(a[k], b[k]);
    for (int k = 0; k < KV; ++k) d[k] = t[k];
  }
}

template <class V, int KV, class I>
void circuit_run(int op, const I* ins, int32_t n, V* S) {
  // The op switch runs once per run of gates; the gate itself is the header's circuit_gate<Op>.
  switch (op) {
#define DC_CIRCUIT_RUN(name, code, arity, value)                                                            \
  case circuit::OP_##name:                                                                                  \
    circuit_run_binary<V, KV>(ins, n, S, [](V a, V b) { return circuit_gate<circuit::OP_##name>(a, b); });   \
    break;
    DC_CIRCUIT_OPS(DC_CIRCUIT_RUN)
#undef DC_CIRCUIT_RUN
    default:  // codes are checked when the plan is built; anything else runs as CONST1, as circuit_apply_gate
      circuit_run_binary<V, KV>(ins, n, S, [](V a, V b) { return circuit_gate<circuit::OP_CONST1>(a, b); });
      break;
  }
}

// The words a kernel call evaluates: columns [w0, w1) of row-major arrays whose rows are `stride` words
// apart (the caller's (n_inputs, n_words) and (n_outputs, n_words) arrays, so a chunk of columns needs
// no copy). Word columns are independent: any range gives the same words as the whole call.
struct WordRange {
  int64_t stride, w0, w1;
};

// Copy inputs [lo, hi) of the block starting at word `w` into their slots; the tail of a partial block
// (past r.w1) is zeroed.
template <class V, int KV>
void circuit_load(const circuit::PlanView& p, const uint64_t* in, const WordRange& r, int64_t w, int32_t lo,
                  int32_t hi, V* S) {
  constexpr int K = kLanes<V> * KV;
  const int64_t nw = r.w1 - w < K ? r.w1 - w : K;
  // Input rows are `stride` words apart, one page or more: the hardware prefetcher does not follow that
  // stride, so fetch the block of the row 8 ahead by hand (wide, shallow circuits such as a parity
  // tree read a fresh row per gate and are otherwise bound by memory latency).
  constexpr int kAhead = 8;
  for (int32_t i = lo; i < hi; ++i) {
    if (i + kAhead < hi) {
      const char* ahead = reinterpret_cast<const char*>(in + static_cast<int64_t>(i + kAhead) * r.stride + w);
      for (int64_t byte = 0; byte < nw * 8; byte += 64) __builtin_prefetch(ahead + byte);
    }
    const int32_t s = p.input_slot[i];
    if (s < 0) continue;
    uint64_t* d = reinterpret_cast<uint64_t*>(S + static_cast<int64_t>(s) * KV);
    const uint64_t* src = in + static_cast<int64_t>(i) * r.stride + w;
    if (nw == K) {
      for (int k = 0; k < K; ++k) d[k] = src[k];
    } else {
      for (int64_t k = 0; k < nw; ++k) d[k] = src[k];
      for (int64_t k = nw; k < K; ++k) d[k] = 0;
    }
  }
}

template <class V, int KV>
void circuit_store(const circuit::PlanView& p, uint64_t* out, const WordRange& r, int64_t w, int32_t lo,
                   int32_t hi, const V* S) {
  constexpr int K = kLanes<V> * KV;
  const int64_t nw = r.w1 - w < K ? r.w1 - w : K;
  constexpr int kAhead = 8;  // as in circuit_load: output rows are `stride` words apart
  for (int32_t o = lo; o < hi; ++o) {
    if (o + kAhead < hi) {
      char* ahead = reinterpret_cast<char*>(out + static_cast<int64_t>(o + kAhead) * r.stride + w);
      for (int64_t byte = 0; byte < nw * 8; byte += 64) __builtin_prefetch(ahead + byte, 1);
    }
    const uint64_t* s = reinterpret_cast<const uint64_t*>(S + static_cast<int64_t>(p.output_slot[o]) * KV);
    uint64_t* d = out + static_cast<int64_t>(o) * r.stride + w;
    for (int64_t k = 0; k < nw; ++k) d[k] = s[k];
  }
}

// "batch": each thread takes blocks one at a time and runs the whole plan on each with its own slot
// buffer; threads never wait for each other but at the end. One thread (or one block) runs without any
// OpenMP construct: even a parallel region that `if` makes serial costs a futex wake of the pool's
// idle threads per call in libgomp, a good part of a one-word call's few microseconds.
template <class V, int KV, class I>
void circuit_batch(const circuit::PlanView& p, const I* instr, const uint64_t* in, uint64_t* out, const WordRange& r,
                   int threads, uint64_t* workspace) {
  constexpr int K = kLanes<V> * KV;
  const int64_t n_blocks = (r.w1 - r.w0 + K - 1) / K;
  const int T = static_cast<int>(threads < n_blocks ? threads : n_blocks);
  const int32_t n_runs = p.level_run[p.n_levels];
  auto block = [&](V* S, int64_t blk) {
    const int64_t w = r.w0 + blk * K;
    circuit_load<V, KV>(p, in, r, w, 0, p.n_inputs, S);
    for (int32_t run = 0; run < n_runs; ++run)
      circuit_run<V, KV>(p.run_op[run], instr + 3 * static_cast<int64_t>(p.run_begin[run]),
                         p.run_begin[run + 1] - p.run_begin[run], S);
    circuit_store<V, KV>(p, out, r, w, 0, p.n_outputs, S);
  };
  if (T <= 1) {
    for (int64_t blk = 0; blk < n_blocks; ++blk) block(reinterpret_cast<V*>(workspace), blk);
    return;
  }
  // Blocks are handed out one at a time, not in equal slices: on a shared machine one thread is often
  // slower than the other, and with slices the faster one waited at the end of every chunk.
#pragma omp parallel num_threads(T)
  {
    V* S = reinterpret_cast<V*>(workspace) + static_cast<int64_t>(omp_get_thread_num()) * p.n_slots * KV;
#pragma omp for schedule(dynamic, 1)
    for (int64_t blk = 0; blk < n_blocks; ++blk) block(S, blk);
  }
}

// "levelized": all threads share one slot buffer and split every level's gates, meeting at a barrier
// after each level. This is what evaluation looks like when parallelism comes from width alone.
template <class V, int KV, class I>
void circuit_levelized(const circuit::PlanView& p, const I* instr, const uint64_t* in, uint64_t* out,
                       const WordRange& r, int threads, uint64_t* workspace) {
  constexpr int K = kLanes<V> * KV;
  const int64_t n_blocks = (r.w1 - r.w0 + K - 1) / K;
  const int T = threads;
  V* S = reinterpret_cast<V*>(workspace);
  if (T <= 1) {  // one thread: the batch loop over one slot buffer, with no OpenMP construct (see above)
    circuit_batch<V, KV>(p, instr, in, out, r, 1, workspace);
    return;
  }
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    for (int64_t blk = 0; blk < n_blocks; ++blk) {
      const int64_t w = r.w0 + blk * K;
      circuit_load<V, KV>(p, in, r, w, static_cast<int32_t>(int64_t(p.n_inputs) * t / nt),
                       static_cast<int32_t>(int64_t(p.n_inputs) * (t + 1) / nt), S);
#pragma omp barrier
      for (int32_t level = 0; level < p.n_levels; ++level) {
        const int32_t r_lo = p.level_run[level], r_hi = p.level_run[level + 1];
        if (r_lo == r_hi) continue;  // same decision on every thread: no barrier needed
        for (int32_t run = r_lo; run < r_hi; ++run) {
          const int64_t len = p.run_begin[run + 1] - p.run_begin[run];
          const int64_t lo = len * t / nt, hi = len * (t + 1) / nt;
          circuit_run<V, KV>(p.run_op[run], instr + 3 * (static_cast<int64_t>(p.run_begin[run]) + lo),
                          static_cast<int32_t>(hi - lo), S);
        }
#pragma omp barrier
      }
      circuit_store<V, KV>(p, out, r, w, static_cast<int32_t>(int64_t(p.n_outputs) * t / nt),
                        static_cast<int32_t>(int64_t(p.n_outputs) * (t + 1) / nt), S);
#pragma omp barrier
    }
  }
}

template <class V, int KV, class I>
void circuit_dispatch_instr(const circuit::PlanView& p, const I* instr, const uint64_t* in, uint64_t* out,
                            const WordRange& r, int schedule, int threads, uint64_t* workspace) {
  if (schedule == 1)
    circuit_levelized<V, KV>(p, instr, in, out, r, threads, workspace);
  else
    circuit_batch<V, KV>(p, instr, in, out, r, schedule == 2 ? 1 : threads, workspace);
}

// The 16-bit instructions when the plan has them (PlanView::instr16: the same slots, half the bytes).
template <class V, int KV>
void circuit_dispatch_schedule(const circuit::PlanView& p, const uint64_t* in, uint64_t* out, const WordRange& r,
                               int schedule, int threads, uint64_t* workspace) {
  if (p.instr16)
    circuit_dispatch_instr<V, KV>(p, p.instr16, in, out, r, schedule, threads, workspace);
  else
    circuit_dispatch_instr<V, KV>(p, p.instr, in, out, r, schedule, threads, workspace);
}

}  // namespace

// Word columns [w0, w1) of in (n_inputs rows) and out (n_outputs rows), rows `stride` words apart.
// schedule: 0 batch, 1 levelized, 2 sequential. block_words: 1, 8, 16, 32 or 64. The workspace holds
// threads * n_slots * block_words words (one slot buffer for levelized), 64-byte aligned.
void circuit_evaluate(const circuit::PlanView& plan, const uint64_t* in, uint64_t* out, int64_t stride, int64_t w0,
                      int64_t w1, int block_words, int schedule, int threads, uint64_t* workspace) {
  if (w1 <= w0) return;
  const WordRange r{stride, w0, w1};
  switch (block_words) {
    case 1: circuit_dispatch_schedule<uint64_t, 1>(plan, in, out, r, schedule, threads, workspace); break;
    case 8: circuit_dispatch_schedule<vword, 1>(plan, in, out, r, schedule, threads, workspace); break;
    case 16: circuit_dispatch_schedule<vword, 2>(plan, in, out, r, schedule, threads, workspace); break;
    case 32: circuit_dispatch_schedule<vword, 4>(plan, in, out, r, schedule, threads, workspace); break;
    default: circuit_dispatch_schedule<vword, 8>(plan, in, out, r, schedule, threads, workspace); break;
  }
}

DC_NAMESPACE_END
