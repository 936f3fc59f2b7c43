// The circuit plan compiler (device-neutral layer): validation of the gate list, its linear-time
// analysis (levels, widths, AND-depth, critical path, list scheduling) and the compiled bit-sliced
// evaluation plan that the CPU driver (csrc/cpu/circuit.cpp) and the CUDA driver (csrc/cuda/circuit.cu)
// both run. Everything here is one or two linear passes over the gates: levels forward, heights
// backward, a counting sort of gates by (level, op), and liveness-based slot allocation.
#include "plan/circuit.hpp"

#include <algorithm>
#include <limits>

#include "deepcheap/common/interrupt.hpp"

namespace deepcheap::plan {

using namespace deepcheap::circuit;

namespace {
// The op classes come from the gate header, so the plan and every evaluator agree on them.
bool is_const(int op) { return circuit_op_is_const(op); }
bool is_unary(int op) { return circuit_op_is_unary(op); }
bool is_nonlinear(int op) { return circuit_op_is_nonlinear(op); }

// Planning a circuit of millions of gates takes seconds (random reads over every wire, several passes):
// every pass over the gates or wires polls for Ctrl-C (issue 21) on the calling thread, every 10 ms
// (interrupt::SerialPoll: by time, so the AddressSanitizer build, some 10x slower, answers as fast; a
// poll every 2^20 gates was 0.6 s apart there). An interrupt throws out of the constructor, so no
// half-built plan is ever seen.
inline void poll_every(int64_t i) {
  thread_local interrupt::SerialPoll poller;
  poller.tick(i);
}
}  // namespace

CircuitPlan::CircuitPlan(int64_t n_inputs, std::vector<uint8_t> ops, std::vector<int32_t> in0,
                         std::vector<int32_t> in1, std::vector<int32_t> outputs)
    : n_inputs_(n_inputs), ops_(std::move(ops)), in0_(std::move(in0)), in1_(std::move(in1)),
      outputs_(std::move(outputs)) {
  const int64_t G = static_cast<int64_t>(ops_.size());
  if (n_inputs_ < 0) throw std::invalid_argument("n_inputs must be >= 0, got " + std::to_string(n_inputs_));
  if (n_inputs_ + G > std::numeric_limits<int32_t>::max() / 2)
    throw std::invalid_argument("circuit too large: " + std::to_string(n_inputs_ + G) +
                                " wires, at most 1073741823 supported");
  if (static_cast<int64_t>(in0_.size()) != G || static_cast<int64_t>(in1_.size()) != G)
    throw std::invalid_argument("in0 and in1 must have one entry per gate (" + std::to_string(G) + "), got " +
                                std::to_string(in0_.size()) + " and " + std::to_string(in1_.size()));
  level_.assign(G, 0);
  std::vector<int32_t> and_level(G, 0);
  auto wire_level = [&](int32_t w, const std::vector<int32_t>& lv) { return w < n_inputs_ ? 0 : lv[w - n_inputs_]; };
  for (int64_t g = 0; g < G; ++g) {
    poll_every(g);
    const int op = ops_[g];
    if (op >= OP_COUNT)
      throw std::invalid_argument("gate " + std::to_string(g) + " has unknown op code " + std::to_string(op) +
                                  " (expected 0.." + std::to_string(OP_COUNT - 1) + ")");
    const int64_t limit = n_inputs_ + g;  // a gate may read inputs and earlier gates only
    if (is_const(op)) {
      in0_[g] = in1_[g] = -1;
      continue;
    }
    if (is_unary(op)) in1_[g] = in0_[g];
    for (int32_t w : {in0_[g], in1_[g]})
      if (w < 0 || w >= limit)
        throw std::invalid_argument("gate " + std::to_string(g) + " reads wire " + std::to_string(w) +
                                    " but may only read wires 0.." + std::to_string(limit - 1) +
                                    " (inputs and earlier gates: gates must be in topological order)");
    level_[g] = 1 + std::max(wire_level(in0_[g], level_), wire_level(in1_[g], level_));
    and_level[g] = (is_nonlinear(op) ? 1 : 0) +
                   std::max(wire_level(in0_[g], and_level), wire_level(in1_[g], and_level));
    depth_ = std::max(depth_, level_[g]);
    and_depth_ = std::max(and_depth_, and_level[g]);
    ++work_;
  }
  for (size_t j = 0; j < outputs_.size(); ++j)
    if (outputs_[j] < 0 || outputs_[j] >= n_inputs_ + G)
      throw std::invalid_argument("output bit " + std::to_string(j) + " is wire " + std::to_string(outputs_[j]) +
                                  " but the circuit has wires 0.." + std::to_string(n_inputs_ + G - 1));
  // Heights: longest path (in gates) from a gate's output to a sink; ALAP level = depth - height.
  height_.assign(G, 0);
  for (int64_t g = G - 1; g >= 0; --g) {
    poll_every(g);
    if (is_const(ops_[g])) continue;
    for (int32_t w : {in0_[g], in1_[g]})
      if (w >= n_inputs_) height_[w - n_inputs_] = std::max(height_[w - n_inputs_], height_[g] + 1);
  }
  // Plan with ASAP levels, then ALAP levels, and keep the one with fewer live slots. ALAP wins when
  // input-only subcircuits would otherwise be computed early and held (sha256's message schedule in
  // chain(sha256, t)); either is a valid levelisation, since every gate's inputs sit on lower levels.
  std::vector<int32_t> alap(G, 0);
  for (int64_t g = 0; g < G; ++g) {
    poll_every(g);
    alap[g] = is_const(ops_[g]) ? 0 : depth_ - height_[g];
  }
  build_plan(level_);
  const int32_t asap_slots = n_slots_;
  build_plan(alap);
  if (n_slots_ >= asap_slots) build_plan(level_);
}

std::vector<int64_t> CircuitPlan::level_widths(bool alap) const {
  std::vector<int64_t> widths(depth_, 0);
  for (size_t g = 0; g < ops_.size(); ++g) {
    if (is_const(ops_[g])) continue;
    const int32_t lv = alap ? depth_ - height_[g] : level_[g];
    ++widths[lv - 1];
  }
  return widths;
}

std::vector<int64_t> CircuitPlan::critical_path() const {
  std::vector<int64_t> path;
  if (depth_ == 0) return path;
  int64_t g = std::find(level_.begin(), level_.end(), depth_) - level_.begin();
  while (true) {
    path.push_back(g);
    if (level_[g] == 1) break;
    int64_t next = -1;
    for (int32_t w : {in0_[g], in1_[g]})
      if (w >= n_inputs_ && level_[w - n_inputs_] == level_[g] - 1) next = w - n_inputs_;
    g = next;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

// Greedy list scheduling with unit-time gates: at every step run up to p ready gates, highest first
// (height = remaining critical path). Any greedy rule meets Brent's bound W/p + D; this one is near
// the lower bound max(W/p, D) in practice. Linear time with bucket queues (heights only fall).
int64_t CircuitPlan::list_schedule(int64_t p) const {
  if (p < 1) throw std::invalid_argument("processors must be >= 1, got " + std::to_string(p));
  const int64_t G = n_gates();
  std::vector<int32_t> pending(G, 0), consumer_begin(G + 1, 0), consumers;
  for (int64_t g = 0; g < G; ++g) {
    if (is_const(ops_[g])) continue;
    for (int k = 0; k < 2; ++k) {
      const int32_t w = k ? in1_[g] : in0_[g];
      if (k && w == in0_[g]) continue;
      if (w >= n_inputs_ && !is_const(ops_[w - n_inputs_])) {
        ++pending[g];
        ++consumer_begin[w - n_inputs_ + 1];
      }
    }
  }
  for (int64_t g = 0; g < G; ++g) consumer_begin[g + 1] += consumer_begin[g];
  consumers.assign(consumer_begin[G], 0);
  {
    std::vector<int32_t> fill(consumer_begin.begin(), consumer_begin.end() - 1);
    for (int64_t g = 0; g < G; ++g) {
      if (is_const(ops_[g])) continue;
      for (int k = 0; k < 2; ++k) {
        const int32_t w = k ? in1_[g] : in0_[g];
        if (k && w == in0_[g]) continue;
        if (w >= n_inputs_ && !is_const(ops_[w - n_inputs_])) consumers[fill[w - n_inputs_]++] = int32_t(g);
      }
    }
  }
  std::vector<int32_t> head(depth_ + 1, -1), next(G, -1);
  int32_t top = -1;
  auto push = [&](int64_t g) {
    next[g] = head[height_[g]];
    head[height_[g]] = int32_t(g);
    top = std::max(top, height_[g]);
  };
  for (int64_t g = 0; g < G; ++g)
    if (!is_const(ops_[g]) && pending[g] == 0) push(g);
  int64_t steps = 0, done = 0;
  interrupt::SerialPoll poller;
  std::vector<int32_t> taken;
  taken.reserve(std::min<int64_t>(p, G));
  while (done < work_) {
    taken.clear();
    while (static_cast<int64_t>(taken.size()) < p && top >= 0) {
      if (head[top] < 0) {
        --top;
        continue;
      }
      const int32_t g = head[top];
      head[top] = next[g];
      taken.push_back(g);
    }
    ++steps;
    if (done >> 12 != (done + static_cast<int64_t>(taken.size())) >> 12) poller.poll_if_due();
    done += static_cast<int64_t>(taken.size());
    for (int32_t g : taken)
      for (int32_t c = consumer_begin[g]; c < consumer_begin[g + 1]; ++c)
        if (--pending[consumers[c]] == 0) push(consumers[c]);
  }
  return steps;
}

void CircuitPlan::build_plan(const std::vector<int32_t>& plan_level) {
  const int64_t G = n_gates();
  const int32_t n_in = static_cast<int32_t>(n_inputs_);
  const int64_t n_wires = n_inputs_ + G;
  n_levels_ = depth_ + 1;
  // Counting sort of gates by (level, op): runs of one op inside each level.
  const int64_t n_keys = static_cast<int64_t>(n_levels_) * OP_COUNT;
  std::vector<int32_t> key_start(n_keys + 1, 0);
  for (int64_t g = 0; g < G; ++g) {
    poll_every(g);
    ++key_start[int64_t(plan_level[g]) * OP_COUNT + ops_[g] + 1];
  }
  for (int64_t k = 0; k < n_keys; ++k) key_start[k + 1] += key_start[k];
  std::vector<int32_t> order(G);
  {
    std::vector<int32_t> fill(key_start.begin(), key_start.end() - 1);
    for (int64_t g = 0; g < G; ++g) {
      poll_every(g);
      order[fill[int64_t(plan_level[g]) * OP_COUNT + ops_[g]]++] = int32_t(g);
    }
  }
  run_op_.clear();
  run_begin_.clear();
  level_run_.assign(n_levels_ + 1, 0);
  for (int32_t lv = 0; lv < n_levels_; ++lv) {
    level_run_[lv] = static_cast<int32_t>(run_op_.size());
    for (int op = 0; op < OP_COUNT; ++op) {
      const int64_t k = int64_t(lv) * OP_COUNT + op;
      if (key_start[k + 1] > key_start[k]) {
        run_op_.push_back(uint8_t(op));
        run_begin_.push_back(key_start[k]);
      }
    }
  }
  level_run_[n_levels_] = static_cast<int32_t>(run_op_.size());
  run_begin_.push_back(static_cast<int32_t>(G));

  // Liveness: a wire's slot is freed at the end of the last level that reads it, never earlier, so no
  // gate writes a slot another gate of its level still reads (which "levelized" relies on).
  constexpr int32_t kForever = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> last_level(n_wires, -1);
  for (int64_t g = 0; g < G; ++g) {
    poll_every(g);
    if (is_const(ops_[g])) continue;
    last_level[in0_[g]] = std::max(last_level[in0_[g]], plan_level[g]);
    last_level[in1_[g]] = std::max(last_level[in1_[g]], plan_level[g]);
  }
  for (int32_t w : outputs_) last_level[w] = kForever;
  // Wires to free after each level (dead gates are freed after their own level).
  std::vector<int32_t> free_start(n_levels_ + 1, 0), free_list;
  auto free_level = [&](int64_t w) -> int32_t {
    const int32_t ll = last_level[w];
    if (ll == kForever) return -1;
    if (ll >= 0) return ll;
    return w < n_inputs_ ? -1 : plan_level[w - n_inputs_];  // unread input: never allocated
  };
  for (int64_t w = 0; w < n_wires; ++w) {
    poll_every(w);
    if (int32_t lv = free_level(w); lv >= 0) ++free_start[lv + 1];
  }
  for (int32_t lv = 0; lv < n_levels_; ++lv) free_start[lv + 1] += free_start[lv];
  free_list.assign(free_start[n_levels_], 0);
  {
    std::vector<int32_t> fill(free_start.begin(), free_start.end() - 1);
    for (int64_t w = 0; w < n_wires; ++w) {
      poll_every(w);
      if (int32_t lv = free_level(w); lv >= 0) free_list[fill[lv]++] = int32_t(w);
    }
  }
  std::vector<int32_t> slot(n_wires, -1), free_slots;
  int32_t high = 0;
  auto alloc = [&]() {
    if (!free_slots.empty()) {
      const int32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    return high++;
  };
  input_slot_.assign(n_in, -1);
  for (int32_t i = 0; i < n_in; ++i)
    if (last_level[i] >= 0) input_slot_[i] = slot[i] = alloc();
  instr_.assign(3 * G, 0);
  for (int32_t lv = 0; lv < n_levels_; ++lv) {
    for (int32_t i = key_start[int64_t(lv) * OP_COUNT]; i < key_start[int64_t(lv + 1) * OP_COUNT]; ++i) {
      poll_every(i);
      const int32_t g = order[i];
      const int32_t out = alloc();
      slot[n_in + g] = out;
      instr_[3 * i + 0] = is_const(ops_[g]) ? out : slot[in0_[g]];
      instr_[3 * i + 1] = is_const(ops_[g]) ? out : slot[in1_[g]];
      instr_[3 * i + 2] = out;
    }
    for (int32_t f = free_start[lv]; f < free_start[lv + 1]; ++f) free_slots.push_back(slot[free_list[f]]);
  }
  n_slots_ = std::max<int32_t>(high, 1);
  instr16_.clear();
  if (n_slots_ <= 65536) instr16_.assign(instr_.begin(), instr_.end());  // every slot number < 2^16
  output_slot_.resize(outputs_.size());
  for (size_t j = 0; j < outputs_.size(); ++j) output_slot_[j] = slot[outputs_[j]];
}

// Largest block (8..64 words) whose slot buffer stays within 512 KiB, half of a core's L2 here
// (lscpu: 2 MiB L2 in 2 instances; measured on sha256: 32 words, 313 KB, beat 64 words, 627 KB, by ~15%), and that still
// gives every thread a block of its own.
// A call of one word takes slots of one plain word: an 8-word block would evaluate eight words for it
// (measured, 1 thread, AVX2: sha256 187 us against 260 us, adder64 5.9 against 6.6 us per call; from two
// words on the 8-word block is as fast or faster).
int CircuitPlan::default_block_words(int64_t n_words, int threads) const {
  if (n_words <= 1) return 1;
  int bw = 64;
  while (bw > 8 && static_cast<int64_t>(n_slots_) * bw * 8 > (int64_t(1) << 19)) bw /= 2;
  while (bw > 8 && (n_words + bw - 1) / bw < threads) bw /= 2;
  return bw;
}

PlanView CircuitPlan::view() const {
  return PlanView{static_cast<int32_t>(n_inputs_), static_cast<int32_t>(outputs_.size()), n_slots_, n_levels_,
                  input_slot_.data(), output_slot_.data(), run_op_.data(), run_begin_.data(),
                  level_run_.data(), instr_.data(), instr16_.empty() ? nullptr : instr16_.data()};
}

void CircuitPlan::check_schedule(int schedule) {
  if (schedule < 0 || schedule > 2)
    throw std::invalid_argument("schedule code must be 0 (batch), 1 (levelized) or 2 (sequential), got " +
                                std::to_string(schedule));
}

void CircuitPlan::check_packed_shapes(int64_t words_rows, int64_t out_rows, int64_t out_words,
                                      int64_t n_words) const {
  if (words_rows != n_inputs_)
    throw std::invalid_argument("words has " + std::to_string(words_rows) + " rows but expected " +
                                std::to_string(n_inputs_) + " (one per input bit)");
  if (out_rows != n_outputs() || out_words != n_words)
    throw std::invalid_argument("out has shape (" + std::to_string(out_rows) + ", " + std::to_string(out_words) +
                                ") but expected (" + std::to_string(n_outputs()) + ", " + std::to_string(n_words) +
                                ")");
}

}  // namespace deepcheap::plan
