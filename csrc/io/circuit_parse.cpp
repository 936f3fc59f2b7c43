// Parsers for Bristol Fashion (text) and AIGER (ASCII .aag and binary .aig, combinational only).
// Both produce a GateList in single-assignment, topological form, and reject every malformed file
// with a CircuitParseError that names the line; sizes claimed by headers are checked against the
// file's length and against the caller's memory budget before anything is allocated, so a hostile
// header cannot exhaust memory; quoted pieces of the file are cut to a few dozen bytes.
// A parse of a file of tens of MB takes seconds: it polls for Ctrl-C (issue 21) as it goes (Poller).
#include "io/circuit_parse.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "deepcheap/circuit/gates.hpp"
#include "deepcheap/common/interrupt.hpp"

namespace deepcheap::io {

using namespace deepcheap::circuit;

namespace {

constexpr int64_t kMaxWires = int64_t(1) << 28;

// Messages quote pieces of the file, which may be any bytes: keep them printable ASCII.
std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A token as messages quote it: at most 40 bytes, then how long it was (a 100 MB token is not copied).
std::string quote(const std::string& tok) {
  if (tok.size() <= 40) return tok;
  return tok.substr(0, 40) + "... (" + std::to_string(tok.size()) + " bytes)";
}

[[noreturn]] void fail(int64_t line, const std::string& message) {
  std::string text = line > 0 ? "line " + std::to_string(line) + ": " + message : message;
  if (text.size() > 2000) text = text.substr(0, 2000) + "...";  // every quote is cut already: a safety net
  throw CircuitParseError(printable(text), line);
}

// Parsing and planning hold about this many bytes per wire (the gate list, the wire maps, the plan's
// levels and slots; AIGER adds a symbol per input and output): the declared sizes are checked against
// the caller's budget with it before anything is allocated.
constexpr int64_t kBytesPerWire = 16;
constexpr int64_t kBytesPerSymbol = 96;  // a std::string here, a Python str and list entry after

void check_budget(int64_t bytes, int64_t budget, const std::string& what) {
  if (bytes > budget)
    fail(1, "the header declares " + what + ", which would take about " + std::to_string(bytes) +
                " bytes to parse and plan, more than the memory budget of " + std::to_string(budget) +
                " bytes (DEEPCHEAP_MEMORY_LIMIT sets it)");
}

// Polls for Ctrl-C (issue 21) every 10 ms of parsing: every 4096 units of work (a line, plus one unit
// per 64 bytes of it, so a file of very long lines is checked as often for its time; a binary AND gate;
// a step of the ASCII AND ordering) it reads the clock, and polls once 10 ms have passed
// (interrupt::SerialPoll: by time, so the sanitized build, some 10x slower, answers as fast); a
// decrement and a branch per unit between. The poll runs on the calling thread (the binding releases
// the GIL around the parse) and throws the Python error of a pending signal, which unwinds the parse
// like a CircuitParseError (containers only). The interrupt test hook sets the interval: fixed_chunk > 0
// polls every that many units, < 0 never.
class Poller {
 public:
  Poller() : fixed_(interrupt::settings().fixed_chunk.load(std::memory_order_relaxed)), every_(interval()), left_(every_) {}
  void tick(int64_t units = 1) {
    left_ -= units;
    if (left_ <= 0) {
      left_ = every_;
      if (fixed_ > 0)
        interrupt::poll();
      else
        clock_.poll_if_due();
    }
  }

 private:
  int64_t interval() const { return fixed_ > 0 ? fixed_ : fixed_ < 0 ? INT64_MAX : 4096; }
  int64_t fixed_, every_, left_;
  interrupt::SerialPoll clock_;
};

// Splits text into lines (LF or CRLF) and each line into whitespace-separated tokens.
class LineReader {
 public:
  LineReader(const char* data, size_t size) : p_(data), end_(data + size) {}
  // Next line with at least one token (skip_blank) or the next line at all; false at end of data.
  bool next(std::vector<std::string>& tokens, bool skip_blank = true) {
    while (p_ < end_) {
      const char* eol = static_cast<const char*>(std::memchr(p_, '\n', end_ - p_));
      const char* stop = eol ? eol : end_;
      ++line_;
      poller_.tick(1 + (stop - p_) / 64);
      tokens.clear();
      const char* q = p_;
      while (q < stop) {
        while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r')) ++q;
        const char* s = q;
        while (q < stop && *q != ' ' && *q != '\t' && *q != '\r') ++q;
        if (q > s) tokens.emplace_back(s, q);
      }
      p_ = eol ? eol + 1 : end_;
      if (!tokens.empty() || !skip_blank) return true;
    }
    return false;
  }
  int64_t line() const { return line_; }
  const char* position() const { return p_; }
  const char* end() const { return end_; }

 private:
  const char* p_;
  const char* end_;
  int64_t line_ = 0;
  Poller poller_;
};

int64_t parse_count(const std::string& tok, int64_t line, const char* what, int64_t max = kMaxWires) {
  if (tok.empty() || tok.size() > 18) fail(line, std::string("expected ") + what + ", got '" + quote(tok) + "'");
  int64_t v = 0;
  for (char c : tok) {
    if (c < '0' || c > '9') fail(line, std::string("expected ") + what + " (a non-negative integer), got '" + tok + "'");
    v = v * 10 + (c - '0');
  }
  if (v > max) fail(line, std::string(what) + " " + tok + " is too large (at most " + std::to_string(max) + ")");
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bristol Fashion: "ngates nwires" / "niv n1..." / "nov m1..." / gates "nin nout in... out... OP".

namespace {

// One Bristol Fashion file being read: the header's counts, the map from its wire numbers to ours, and
// the gate list being built.
class BristolReader {
 public:
  BristolReader(const char* data, size_t size) : reader_(data, size), size_(size) {}

  GateList read(int64_t budget) {
    read_header(budget);
    for (int64_t g = 0; g < n_gates_; ++g) {
      if (!reader_.next(tok_))
        fail(reader_.line(), "file ends after " + std::to_string(g) + " gates but the header says " + std::to_string(n_gates_));
      read_gate();
    }
    while (reader_.next(tok_))
      fail(reader_.line(), "more gate lines than the " + std::to_string(n_gates_) + " the header says");
    read_outputs();
    return std::move(gl_);
  }

 private:
  // "ngates nwires" / "niv n1..." / "nov m1...": counts checked against the file's length and the budget.
  void read_header(int64_t budget) {
    if (!reader_.next(tok_)) fail(1, "empty file: expected the header '<ngates> <nwires>'");
    if (tok_.size() != 2)
      fail(reader_.line(), "header must be '<ngates> <nwires>', got " + std::to_string(tok_.size()) + " fields");
    // Every gate needs a line of at least 8 bytes; cap the counts by the file's length before allocating.
    n_gates_ = parse_count(tok_[0], reader_.line(), "number of gates", int64_t(size_) / 8 + 1);
    n_wires_ = parse_count(tok_[1], reader_.line(), "number of wires");
    int64_t sums[2] = {0, 0};
    for (int part = 0; part < 2; ++part) sums[part] = read_widths(part);
    n_in_ = sums[0];
    n_out_ = sums[1];
    if (n_in_ + n_out_ > n_wires_)
      fail(3, "header says " + std::to_string(n_wires_) + " wires, fewer than the " + std::to_string(n_in_) +
                  " inputs plus " + std::to_string(n_out_) + " outputs");
    if (n_wires_ - n_in_ > int64_t(size_))
      fail(1, "header says " + std::to_string(n_wires_) + " wires but the file is too short to write " +
                  std::to_string(n_wires_ - n_in_) + " of them");
    // Input wires cost no bytes of the file: only the budget bounds them.
    check_budget(kBytesPerWire * n_wires_, budget,
                 std::to_string(n_wires_) + " wires (" + std::to_string(n_in_) + " inputs, " +
                     std::to_string(n_gates_) + " gates)");
    gl_.n_inputs = n_in_;
    wire_.assign(size_t(n_wires_ - n_in_), -1);  // Bristol wire n_in + k -> our wire (inputs map to themselves)
    next_wire_ = int32_t(n_in_);
    gl_.ops.reserve(n_gates_);
    gl_.in0.reserve(n_gates_);
    gl_.in1.reserve(n_gates_);
  }

  // The input (part 0) or output (part 1) value line; returns the sum of its widths.
  int64_t read_widths(int part) {
    const char* what = part == 0 ? "input" : "output";
    if (!reader_.next(tok_)) fail(reader_.line() + 1, std::string("file ends before the ") + what + " value line");
    const int64_t count = parse_count(tok_[0], reader_.line(),
                                      part == 0 ? "number of input values" : "number of output values", 1 << 20);
    if (static_cast<int64_t>(tok_.size()) != count + 1)
      fail(reader_.line(), std::string("header says ") + std::to_string(count) + " " + what + " values but lists " +
                               std::to_string(tok_.size() - 1) + " widths");
    auto& widths = part == 0 ? gl_.input_widths : gl_.output_widths;
    int64_t sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      widths.push_back(parse_count(tok_[i + 1], reader_.line(), "a value width"));
      sum += widths.back();
    }
    return sum;
  }

  int32_t read_wire(const std::string& t, int64_t line) {
    const int64_t w = parse_count(t, line, "a wire number", int64_t(1) << 40);
    if (w >= n_wires_) fail(line, "wire " + t + " is out of range (the header says " + std::to_string(n_wires_) + " wires)");
    if (w < n_in_) return int32_t(w);
    if (wire_[w - n_in_] < 0)
      fail(line, "wire " + t + " is read before any gate writes it (gates must be in topological order: a cycle, "
                 "or a missing gate)");
    return wire_[w - n_in_];
  }

  void write_wire(const std::string& t, int64_t line) {
    const int64_t w = parse_count(t, line, "a wire number", int64_t(1) << 40);
    if (w >= n_wires_) fail(line, "wire " + t + " is out of range (the header says " + std::to_string(n_wires_) + " wires)");
    if (w < n_in_) fail(line, "gate writes wire " + t + ", which is an input wire");
    if (wire_[w - n_in_] >= 0) fail(line, "wire " + t + " is written twice");
    wire_[w - n_in_] = next_wire_++;
  }

  void add(uint8_t op, int32_t a, int32_t b) {
    gl_.ops.push_back(op);
    gl_.in0.push_back(a);
    gl_.in1.push_back(b);
  }

  void check_arity(const std::string& op, int64_t line, int64_t nin, int64_t nout, int64_t want_in, int64_t want_out) {
    if (nin != want_in || nout != want_out)
      fail(line, quote(op) + " takes " + std::to_string(want_in) + " inputs and " + std::to_string(want_out) +
                     " outputs, got " + std::to_string(nin) + " and " + std::to_string(nout));
  }

  // A gate line "nin nout in... out... OP".
  void read_gate() {
    const int64_t line = reader_.line();
    if (tok_.size() < 4)
      fail(line, "a gate line needs '<#in> <#out> <wires...> <op>', got " + std::to_string(tok_.size()) + " fields");
    const int64_t nin = parse_count(tok_[0], line, "number of gate inputs", 1 << 20);
    const int64_t nout = parse_count(tok_[1], line, "number of gate outputs", 1 << 20);
    if (static_cast<int64_t>(tok_.size()) != nin + nout + 3)
      fail(line, "gate says " + std::to_string(nin) + " inputs and " + std::to_string(nout) + " outputs, so " +
                     std::to_string(nin + nout + 3) + " fields, but the line has " + std::to_string(tok_.size()));
    const std::string& op = tok_.back();
    // Every two-input op of the table by its name: Bristol Fashion's AND and XOR, and OR, NAND, NOR,
    // XNOR, which go beyond it but other tools write them.
    int binary_op = -1;
#define DC_CIRCUIT_BINARY(name, code, arity, value) \
    if (arity == 2 && op == #name) binary_op = code;
    DC_CIRCUIT_OPS(DC_CIRCUIT_BINARY)
#undef DC_CIRCUIT_BINARY
    if (binary_op >= 0) {
      check_arity(op, line, nin, nout, 2, 1);
      const int32_t a = read_wire(tok_[2], line), b = read_wire(tok_[3], line);
      add(uint8_t(binary_op), a, b);
      write_wire(tok_[4], line);
    } else if (op == "INV" || op == "NOT" || op == "EQW" || op == "BUF") {
      check_arity(op, line, nin, nout, 1, 1);
      const int32_t a = read_wire(tok_[2], line);
      add(op == "INV" || op == "NOT" ? OP_INV : OP_BUF, a, -1);
      write_wire(tok_[3], line);
    } else if (op == "EQ") {
      check_arity(op, line, nin, nout, 1, 1);
      if (tok_[2] != "0" && tok_[2] != "1") fail(line, "EQ takes a constant 0 or 1, got '" + quote(tok_[2]) + "'");
      add(tok_[2] == "1" ? OP_CONST1 : OP_CONST0, -1, -1);
      write_wire(tok_[3], line);
    } else if (op == "MAND") {
      read_mand(line, nin, nout);
    } else {
      fail(line, "unknown op '" + quote(op) + "' (expected AND, XOR, INV, EQ, EQW or MAND; OR, NAND, NOR, XNOR, NOT, "
                 "BUF are accepted too)");
    }
  }

  // MAND: n AND gates at once, inputs a_1..a_n b_1..b_n, outputs c_1..c_n.
  void read_mand(int64_t line, int64_t nin, int64_t nout) {
    if (nin != 2 * nout || nout < 1)
      fail(line, "MAND takes 2n inputs and n outputs, got " + std::to_string(nin) + " and " + std::to_string(nout));
    std::vector<int32_t> a(nout), b(nout);
    for (int64_t j = 0; j < nout; ++j) {
      a[j] = read_wire(tok_[2 + j], line);
      b[j] = read_wire(tok_[2 + nout + j], line);
    }
    for (int64_t j = 0; j < nout; ++j) {
      add(OP_AND, a[j], b[j]);
      write_wire(tok_[2 + nin + j], line);
    }
  }

  // The last n_out wires are the outputs.
  void read_outputs() {
    gl_.outputs.resize(n_out_);
    for (int64_t j = 0; j < n_out_; ++j) {
      const int64_t w = n_wires_ - n_out_ + j;
      const int32_t ours = w < n_in_ ? int32_t(w) : wire_[w - n_in_];
      if (ours < 0)
        fail(reader_.line(), "output wire " + std::to_string(w) + " (the last " + std::to_string(n_out_) +
                                 " wires are the outputs) is never written");
      gl_.outputs[j] = ours;
    }
  }

  LineReader reader_;
  size_t size_;
  std::vector<std::string> tok_;
  GateList gl_;
  int64_t n_gates_ = 0, n_wires_ = 0, n_in_ = 0, n_out_ = 0;
  std::vector<int32_t> wire_;
  int32_t next_wire_ = 0;
};

}  // namespace

GateList parse_bristol(const char* data, size_t size, int64_t budget) { return BristolReader(data, size).read(budget); }

// ---------------------------------------------------------------------------------------------
// AIGER: literals are 2*variable + negation; variable 0 is constant false. AND gates become AND, NOR
// (both inputs negated) or AND with an INV; negations and constants are made once and shared.

namespace {

struct AigBuilder {
  GateList& gl;
  std::vector<int32_t> pos, neg;  // wire of variable v, of its negation; -1 until made
  int32_t const_wire[2] = {-1, -1};
  int32_t next_wire;
  explicit AigBuilder(GateList& g, int64_t n_vars) : gl(g), pos(n_vars + 1, -1), neg(n_vars + 1, -1) {
    next_wire = int32_t(g.n_inputs);
  }
  int32_t emit(uint8_t op, int32_t a, int32_t b) {
    gl.ops.push_back(op);
    gl.in0.push_back(a);
    gl.in1.push_back(b);
    return next_wire++;
  }
  int32_t literal(int64_t lit) {
    const int64_t v = lit >> 1;
    const bool negated = lit & 1;
    if (v == 0) {
      int32_t& c = const_wire[negated];
      if (c < 0) c = emit(negated ? OP_CONST1 : OP_CONST0, -1, -1);
      return c;
    }
    if (!negated) return pos[v];
    if (neg[v] < 0) neg[v] = emit(OP_INV, pos[v], -1);
    return neg[v];
  }
  void and_gate(int64_t lhs, int64_t r0, int64_t r1) {
    int32_t w;
    if ((r0 & 1) && (r1 & 1) && (r0 >> 1) != 0 && (r1 >> 1) != 0)
      w = emit(OP_NOR, pos[r0 >> 1], pos[r1 >> 1]);
    else {
      const int32_t a = literal(r0), b = literal(r1);
      w = emit(OP_AND, a, b);
    }
    pos[lhs >> 1] = w;
  }
};

void read_symbols(LineReader& reader, GateList& gl, int64_t n_in, int64_t n_out) {
  std::vector<std::string> tok;
  gl.input_names.assign(n_in, "");
  gl.output_names.assign(n_out, "");
  const char* p = reader.position();
  const char* end = reader.end();
  Poller poller;
  // Symbol lines: "i<k> name", "o<k> name", "l<k> name"; a line "c" starts the free-form comment.
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* stop = eol ? eol : end;
    poller.tick(1 + (stop - p) / 64);
    std::string line(p, stop);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    p = eol ? eol + 1 : end;
    if (line.empty()) continue;
    if (line[0] == 'c') break;
    // Every AIGER line ends with a newline: a symbol line without one is a file cut inside the table
    // (it would regroup the inputs silently).
    if (!eol)
      fail(0, "the symbol table ends inside a line ('" + quote(line) + "' has no newline): the file is cut");
    const size_t space = line.find(' ');
    if ((line[0] == 'i' || line[0] == 'o') && space != std::string::npos && space > 1) {
      bool digits = true;
      int64_t k = 0;
      for (size_t c = 1; c < space && digits; ++c) {
        digits = line[c] >= '0' && line[c] <= '9' && c < 12;
        k = k * 10 + (line[c] - '0');
      }
      if (!digits) continue;
      auto& names = line[0] == 'i' ? gl.input_names : gl.output_names;
      if (k < static_cast<int64_t>(names.size())) names[k] = line.substr(space + 1);
    }
  }
}

}  // namespace

namespace {

// One AIGER file being read: the header's counts, each variable's kind, and the gates being built.
class AigerReader {
 public:
  AigerReader(const char* data, size_t size) : data_(data), size_(size), reader_(data, size) {}

  GateList read(int64_t budget) {
    read_header(budget);
    gl_.n_inputs = I_;
    AigBuilder b(gl_, M_);
    kind_.assign(size_t(M_ + 1), kUndefined);
    read_inputs(b);
    read_outputs();
    gl_.ops.reserve(A_ + A_ / 2);
    if (binary_)
      read_binary_ands(b);
    else
      read_ascii_ands(b);
    for (int64_t o = 0; o < O_; ++o) {
      if ((out_lit_[o] >> 1) && kind_[out_lit_[o] >> 1] == kUndefined)
        fail(out_line_[o], "output literal " + std::to_string(out_lit_[o]) + " refers to an undefined variable");
      gl_.outputs.push_back(b.literal(out_lit_[o]));
    }
    read_symbols(reader_, gl_, I_, O_);
    gl_.input_widths.assign(1, I_);
    gl_.output_widths.assign(1, O_);
    return std::move(gl_);
  }

 private:
  enum : uint8_t { kUndefined = 0, kInput = 1, kAnd = 2 };

  // "aag M I L O A" or "aig M I L O A" (B C J F must be 0): counts checked against the file and budget.
  void read_header(int64_t budget) {
    if (!reader_.next(tok_, false) || tok_.empty())
      fail(1, "empty file: expected the header 'aag M I L O A' or 'aig M I L O A'");
    if (tok_[0] != "aag" && tok_[0] != "aig")
      fail(1, "header must start with 'aag' (ASCII) or 'aig' (binary), got '" + quote(tok_[0]) + "'");
    binary_ = tok_[0] == "aig";
    if (tok_.size() < 6 || tok_.size() > 10)
      fail(1, "header must be '" + tok_[0] + " M I L O A' (optionally B C J F), got " + std::to_string(tok_.size()) +
                  " fields");
    int64_t h[9] = {0};
    const char* names[9] = {"M", "I", "L", "O", "A", "B", "C", "J", "F"};
    for (size_t k = 1; k < tok_.size(); ++k) h[k - 1] = parse_count(tok_[k], 1, names[k - 1], kMaxWires);
    M_ = h[0], I_ = h[1], L_ = h[2], O_ = h[3], A_ = h[4];
    if (L_ > 0)
      fail(1, "the circuit has " + std::to_string(L_) + " latches; only combinational AIGER (L = 0) is supported");
    for (int k = 5; k < 9; ++k)
      if (h[k] > 0)
        fail(1, std::string("the header has ") + names[k] + " = " + std::to_string(h[k]) +
                    " (bad-state, constraint, justice or fairness properties); only plain combinational AIGER is supported");
    const std::string sum = std::to_string(I_ + L_ + A_);
    if (binary_ && M_ != I_ + L_ + A_)
      fail(1, "binary AIGER needs M = I + L + A, but M = " + std::to_string(M_) + " and I + L + A = " + sum);
    if (I_ + L_ + A_ > M_) fail(1, "M = " + std::to_string(M_) + " is less than I + L + A = " + sum);
    // Lines cost at least 2 bytes (ASCII inputs, outputs, ANDs); binary ANDs at least 2 bytes.
    if ((binary_ ? 0 : I_) + O_ + A_ > int64_t(size_) || (!binary_ && M_ > int64_t(size_)))
      fail(1, "the header's counts (M = " + std::to_string(M_) + ", I = " + std::to_string(I_) + ", O = " +
                  std::to_string(O_) + ", A = " + std::to_string(A_) + ") do not fit in a file of " +
                  std::to_string(size_) + " bytes");
    // Binary inputs cost no bytes of the file (and ASCII ones two): the budget bounds what they hold.
    check_budget(kBytesPerWire * (M_ + 1) + kBytesPerSymbol * (I_ + O_), budget,
                 "M = " + std::to_string(M_) + " variables (I = " + std::to_string(I_) + " inputs, O = " +
                     std::to_string(O_) + " outputs, A = " + std::to_string(A_) + " AND gates)");
  }

  void check_literal(int64_t lit, int64_t line, const char* what) const {
    if ((lit >> 1) > M_)
      fail(line, std::string(what) + " literal " + std::to_string(lit) + " is out of range (M = " + std::to_string(M_) +
                     ", so literals are at most " + std::to_string(2 * M_ + 1) + ")");
  }

  // Binary: variables 1..I are the inputs. ASCII: one even literal per line.
  void read_inputs(AigBuilder& b) {
    if (binary_) {
      for (int64_t i = 0; i < I_; ++i) {
        kind_[i + 1] = kInput;
        b.pos[i + 1] = int32_t(i);
      }
      return;
    }
    for (int64_t i = 0; i < I_; ++i) {
      if (!reader_.next(tok_, false))
        fail(reader_.line() + 1, "file ends after " + std::to_string(i) + " of " + std::to_string(I_) + " inputs");
      const int64_t line = reader_.line();
      if (tok_.size() != 1) fail(line, "an input line holds one literal, got " + std::to_string(tok_.size()) + " fields");
      const int64_t lit = parse_count(tok_[0], line, "an input literal", int64_t(1) << 40);
      check_literal(lit, line, "input");
      if ((lit & 1) || lit < 2) fail(line, "input literal " + tok_[0] + " must be even and at least 2");
      if (kind_[lit >> 1] != kUndefined) fail(line, "variable " + std::to_string(lit >> 1) + " is defined twice");
      kind_[lit >> 1] = kInput;
      b.pos[lit >> 1] = int32_t(i);
    }
  }

  // Outputs (ASCII lines in both formats); resolved after the ANDs.
  void read_outputs() {
    out_lit_.resize(size_t(O_));
    out_line_.resize(size_t(O_));
    for (int64_t o = 0; o < O_; ++o) {
      if (!reader_.next(tok_, false))
        fail(reader_.line() + 1, "file ends after " + std::to_string(o) + " of " + std::to_string(O_) + " outputs");
      out_line_[o] = reader_.line();
      if (tok_.size() != 1)
        fail(reader_.line(), "an output line holds one literal, got " + std::to_string(tok_.size()) + " fields");
      out_lit_[o] = parse_count(tok_[0], reader_.line(), "an output literal", int64_t(1) << 40);
      check_literal(out_lit_[o], reader_.line(), "output");
    }
  }

  // Deltas lhs - rhs0 and rhs0 - rhs1 in 7-bit groups, low group first, high bit = more follows.
  void read_binary_ands(AigBuilder& b) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(reader_.position());
    const unsigned char* end = reinterpret_cast<const unsigned char*>(reader_.end());
    const unsigned char* start = reinterpret_cast<const unsigned char*>(data_);
    auto decode = [&](int64_t gate) -> int64_t {
      int64_t x = 0;
      int shift = 0;
      while (true) {
        if (p >= end)
          fail(0, "binary AND section: file ends inside AND gate " + std::to_string(gate) + " of " + std::to_string(A_) +
                      " (byte offset " + std::to_string(p - start) + ")");
        const unsigned char c = *p++;
        if (shift > 35) fail(0, "binary AND section: delta too long at byte offset " + std::to_string(p - start));
        x |= int64_t(c & 0x7f) << shift;
        if (!(c & 0x80)) return x;
        shift += 7;
      }
    };
    for (int64_t a = 0; a < A_; ++a) {
      poller_.tick();
      const int64_t lhs = 2 * (I_ + L_ + a + 1);
      const int64_t d0 = decode(a), d1 = decode(a);
      if (d0 == 0 || d0 > lhs || d1 > lhs - d0)
        fail(0, "binary AND section: gate " + std::to_string(a) + " (lhs " + std::to_string(lhs) + ") has deltas " +
                    std::to_string(d0) + ", " + std::to_string(d1) + " that break lhs > rhs0 >= rhs1 >= 0 (byte offset " +
                    std::to_string(p - start) + ")");
      const int64_t r0 = lhs - d0, r1 = r0 - d1;
      kind_[lhs >> 1] = kAnd;
      b.and_gate(lhs, r0, r1);
    }
    reader_ = LineReader(reinterpret_cast<const char*>(p), end - p);
  }

  // ASCII ANDs "lhs rhs0 rhs1", checked line by line, then emitted in dependency order.
  void read_ascii_ands(AigBuilder& b) {
    lhs_.resize(size_t(A_));
    r0_.resize(size_t(A_));
    r1_.resize(size_t(A_));
    line_of_.resize(size_t(A_));
    and_of_.assign(size_t(M_ + 1), -1);
    for (int64_t a = 0; a < A_; ++a) {
      if (!reader_.next(tok_, false))
        fail(reader_.line() + 1, "file ends after " + std::to_string(a) + " of " + std::to_string(A_) + " AND gates");
      const int64_t line = line_of_[a] = reader_.line();
      if (tok_.size() != 3) fail(line, "an AND line holds 'lhs rhs0 rhs1', got " + std::to_string(tok_.size()) + " fields");
      lhs_[a] = parse_count(tok_[0], line, "an AND literal", int64_t(1) << 40);
      r0_[a] = parse_count(tok_[1], line, "an AND literal", int64_t(1) << 40);
      r1_[a] = parse_count(tok_[2], line, "an AND literal", int64_t(1) << 40);
      for (int64_t lit : {lhs_[a], r0_[a], r1_[a]}) check_literal(lit, line, "AND");
      if ((lhs_[a] & 1) || lhs_[a] < 2) fail(line, "AND output literal " + tok_[0] + " must be even and at least 2");
      if (kind_[lhs_[a] >> 1] != kUndefined) fail(line, "variable " + std::to_string(lhs_[a] >> 1) + " is defined twice");
      kind_[lhs_[a] >> 1] = kAnd;
      and_of_[lhs_[a] >> 1] = int32_t(a);
    }
    for (int64_t a = 0; a < A_; ++a) {
      poller_.tick();
      for (int64_t lit : {r0_[a], r1_[a]})
        if ((lit >> 1) && kind_[lit >> 1] == kUndefined)
          fail(line_of_[a], "AND reads variable " + std::to_string(lit >> 1) + ", which no input or AND defines");
    }
    emit_ascii_ands(b);
  }

  // ASCII ANDs may come in any order: emit them depth-first, and report a cycle at a line on it.
  void emit_ascii_ands(AigBuilder& b) {
    std::vector<uint8_t> state(size_t(A_), 0);  // 0 new, 1 on the stack, 2 emitted
    std::vector<std::pair<int32_t, int>> stack;
    for (int64_t root = 0; root < A_; ++root) {
      if (state[root]) continue;
      stack.push_back({int32_t(root), 0});
      state[root] = 1;
      while (!stack.empty()) {
        poller_.tick();
        auto& [a, k] = stack.back();
        if (k < 2) {
          const int64_t lit = k == 0 ? r0_[a] : r1_[a];
          ++k;
          const int32_t dep = and_of_[lit >> 1];
          if (dep >= 0 && (lit >> 1) != 0) {
            if (state[dep] == 1)
              fail(line_of_[dep], "AND gate " + std::to_string(lhs_[dep]) + " depends on itself (a combinational cycle)");
            if (state[dep] == 0) {
              state[dep] = 1;
              stack.push_back({dep, 0});
            }
          }
          continue;
        }
        b.and_gate(lhs_[a], r0_[a], r1_[a]);
        state[a] = 2;
        stack.pop_back();
      }
    }
  }

  const char* data_;
  size_t size_;
  LineReader reader_;
  std::vector<std::string> tok_;
  GateList gl_;
  bool binary_ = false;
  int64_t M_ = 0, I_ = 0, L_ = 0, O_ = 0, A_ = 0;
  std::vector<uint8_t> kind_;
  std::vector<int64_t> out_lit_, out_line_;
  std::vector<int64_t> lhs_, r0_, r1_, line_of_;  // ASCII ANDs
  std::vector<int32_t> and_of_;                   // ASCII: the AND defining each variable, -1 if none
  Poller poller_;                                 // the AND loops outside reader_'s lines
};

}  // namespace

GateList parse_aiger(const char* data, size_t size, int64_t budget) { return AigerReader(data, size).read(budget); }

}  // namespace deepcheap::io
