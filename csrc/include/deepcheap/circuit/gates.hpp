// Gate opcodes and the bit-sliced gate function shared by every evaluator (the CPU kernels and the CUDA
// driver): a gate applied to whole words evaluates it for 64 (or 512, in a vector) input vectors at once.
#pragma once

#include <cstdint>

#include "deepcheap/common/config.hpp"

namespace deepcheap::circuit {

// The codes are part of the binding's contract with python/deepcheap_native/circuit.py (OPS there).
enum Op : uint8_t {
  OP_AND = 0,
  OP_XOR = 1,
  OP_OR = 2,
  OP_NAND = 3,
  OP_NOR = 4,
  OP_XNOR = 5,
  OP_INV = 6,
  OP_BUF = 7,
  OP_CONST0 = 8,
  OP_CONST1 = 9,
  OP_COUNT = 10,
};

// A compiled evaluation plan (built by csrc/plan/circuit.cpp): gates reordered level by level and,
// inside a level, grouped into runs of one op, each reading and writing wire *slots* that are reused
// once a wire is dead, so the live working set stays small. Slot s of a block occupies words
// [s*block_words, (s+1)*block_words) of a thread's slot buffer. A plain struct outside the per-target
// namespaces, so that the driver and every target's kernel see one type.
struct PlanView {
  int32_t n_inputs;            // input wires
  int32_t n_outputs;           // output bits
  int32_t n_slots;             // slots a buffer must hold
  int32_t n_levels;            // levels 0..n_levels-1; level 0 holds constants only
  const int32_t* input_slot;   // [n_inputs] slot of each input wire, -1 when never read
  const int32_t* output_slot;  // [n_outputs] slot holding each output bit at the end
  const uint8_t* run_op;       // [n_runs]
  const int32_t* run_begin;    // [n_runs + 1] first instruction of each run
  const int32_t* level_run;    // [n_levels + 1] first run of each level
  const int32_t* instr;        // [3 * n_instructions] (slot a, slot b, slot out); b = a for unary
};

}  // namespace deepcheap::circuit

DC_NAMESPACE_BEGIN

DC_HD bool circuit_op_is_unary(int op) { return op == circuit::OP_INV || op == circuit::OP_BUF; }
DC_HD bool circuit_op_is_const(int op) { return op == circuit::OP_CONST0 || op == circuit::OP_CONST1; }
// Gates that are not free in garbled circuits / MPC: the AND-depth counts only these.
DC_HD bool circuit_op_is_nonlinear(int op) {
  return op == circuit::OP_AND || op == circuit::OP_OR || op == circuit::OP_NAND || op == circuit::OP_NOR;
}

// One gate on one word of packed vectors (T: uint64_t, or a GCC vector of them), the op fixed at compile
// time: what every evaluator's inner loop runs (the CPU kernels once per run of one op, so the loop
// body is a single bitwise instruction).
template <int Op, class T>
DC_HD T circuit_gate(T a, T b) {
  (void)b;  // unary and constant gates ignore it
  if constexpr (Op == circuit::OP_AND) return a & b;
  else if constexpr (Op == circuit::OP_XOR) return a ^ b;
  else if constexpr (Op == circuit::OP_OR) return a | b;
  else if constexpr (Op == circuit::OP_NAND) return ~(a & b);
  else if constexpr (Op == circuit::OP_NOR) return ~(a | b);
  else if constexpr (Op == circuit::OP_XNOR) return ~(a ^ b);
  else if constexpr (Op == circuit::OP_INV) return ~a;
  else if constexpr (Op == circuit::OP_BUF) return a;
  else if constexpr (Op == circuit::OP_CONST0) return a ^ a;
  else return ~(a ^ a);
}

// The same gate with the op known only at run time.
template <class T>
DC_HD T circuit_apply_gate(int op, T a, T b) {
  switch (op) {
    case circuit::OP_AND: return circuit_gate<circuit::OP_AND>(a, b);
    case circuit::OP_XOR: return circuit_gate<circuit::OP_XOR>(a, b);
    case circuit::OP_OR: return circuit_gate<circuit::OP_OR>(a, b);
    case circuit::OP_NAND: return circuit_gate<circuit::OP_NAND>(a, b);
    case circuit::OP_NOR: return circuit_gate<circuit::OP_NOR>(a, b);
    case circuit::OP_XNOR: return circuit_gate<circuit::OP_XNOR>(a, b);
    case circuit::OP_INV: return circuit_gate<circuit::OP_INV>(a, b);
    case circuit::OP_BUF: return circuit_gate<circuit::OP_BUF>(a, b);
    case circuit::OP_CONST0: return circuit_gate<circuit::OP_CONST0>(a, b);
    default: return circuit_gate<circuit::OP_CONST1>(a, b);
  }
}

// The whole plan on one word column w of the packed inputs: 64 input vectors, one item of the
// "batch" schedule on the GPU. slots[s * slot_stride] is slot s of this item (the GPU interleaves
// the items' slots so that neighbouring threads touch neighbouring words).
DC_HD void circuit_evaluate_word(const circuit::PlanView& p, const uint64_t* in, uint64_t* out, int64_t n_words,
                                 int64_t w, uint64_t* slots, int64_t slot_stride) {
  for (int32_t i = 0; i < p.n_inputs; ++i) {
    const int32_t s = p.input_slot[i];
    if (s >= 0) slots[s * slot_stride] = in[static_cast<int64_t>(i) * n_words + w];
  }
  const int32_t n_runs = p.level_run[p.n_levels];
  for (int32_t r = 0; r < n_runs; ++r) {
    const int op = p.run_op[r];
    for (int32_t k = p.run_begin[r]; k < p.run_begin[r + 1]; ++k) {
      const int32_t* ins = p.instr + 3 * static_cast<int64_t>(k);
      const uint64_t a = slots[ins[0] * slot_stride];
      const uint64_t b = slots[ins[1] * slot_stride];
      slots[ins[2] * slot_stride] = circuit_apply_gate<uint64_t>(op, a, b);
    }
  }
  for (int32_t o = 0; o < p.n_outputs; ++o)
    out[static_cast<int64_t>(o) * n_words + w] = slots[p.output_slot[o] * slot_stride];
}

DC_NAMESPACE_END
