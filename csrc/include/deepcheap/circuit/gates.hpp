// Gate opcodes and the bit-sliced gate function shared by every evaluator (the CPU kernels and the CUDA
// driver): a gate applied to whole words evaluates it for 64 (or 512, in a vector) input vectors at once.
#pragma once

#include <cstdint>

#include "deepcheap/common/config.hpp"

namespace deepcheap::circuit {

// The op table, written once: X(name, code, arity, value) per op, value the gate on words a, b. The
// enum below, circuit_gate, circuit_apply_gate, the CPU kernel's run switch, the Bristol parser and
// _core.circuit_op_table() (which tests/test_circuit_parse.py checks against OPS in
// python/deepcheap_native/circuit_io.py) all expand it. The codes are the binding's contract.
#define DC_CIRCUIT_OPS(X)       \
  X(AND, 0, 2, a & b)           \
  X(XOR, 1, 2, a ^ b)           \
  X(OR, 2, 2, a | b)            \
  X(NAND, 3, 2, ~(a & b))       \
  X(NOR, 4, 2, ~(a | b))        \
  X(XNOR, 5, 2, ~(a ^ b))       \
  X(INV, 6, 1, ~a)              \
  X(BUF, 7, 1, a)               \
  X(CONST0, 8, 0, a ^ a)        \
  X(CONST1, 9, 0, ~(a ^ a))

enum Op : uint8_t {
#define DC_CIRCUIT_ENUM(name, code, arity, value) OP_##name = code,
  DC_CIRCUIT_OPS(DC_CIRCUIT_ENUM)
#undef DC_CIRCUIT_ENUM
#define DC_CIRCUIT_COUNT(name, code, arity, value) +1
  OP_COUNT = 0 DC_CIRCUIT_OPS(DC_CIRCUIT_COUNT),
#undef DC_CIRCUIT_COUNT
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
  // The same instructions as 16-bit slot numbers when every slot fits (n_slots <= 65536), else null:
  // half the bytes a pass over a large plan streams (sha256: 135,073 gates, 1,224 slots, 0.8 MB
  // instead of 1.6 MB, so it stays in L2). The CPU kernels read it when present; the GPU reads instr.
  const uint16_t* instr16;
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
#define DC_CIRCUIT_GATE(name, code, arity, value) \
  if constexpr (Op == circuit::OP_##name) return value; else
  DC_CIRCUIT_OPS(DC_CIRCUIT_GATE)
#undef DC_CIRCUIT_GATE
  {
    static_assert(Op >= 0 && Op < circuit::OP_COUNT, "circuit_gate: no such op");
    return a;
  }
}

// The same gate with the op known only at run time (codes are checked when a plan is built; anything
// else evaluates as CONST1, as the CPU kernel does).
template <class T>
DC_HD T circuit_apply_gate(int op, T a, T b) {
  switch (op) {
#define DC_CIRCUIT_CASE(name, code, arity, value) \
  case circuit::OP_##name:                       \
    return circuit_gate<circuit::OP_##name>(a, b);
    DC_CIRCUIT_OPS(DC_CIRCUIT_CASE)
#undef DC_CIRCUIT_CASE
    default:
      return circuit_gate<circuit::OP_CONST1>(a, b);
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
