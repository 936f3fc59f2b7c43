"""Evaluation, analysis, generators, round trips and threshold networks, against independent
references: a gate-by-gate numpy evaluator, Python arithmetic and sorting, and a pure-Python
levelisation for depth and widths."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import BRISTOL_DATA, DATA, simd, threads
from deepcheap_native import circuits as C
from deepcheap_native.circuit import OPS

BRISTOL = BRISTOL_DATA


@functools.cache
def bristol(name: str) -> dc.Circuit:
    return dc.Circuit.from_bristol(BRISTOL / f"{name}.txt")


# ------------------------------------------------------------------------------ references
def reference_evaluate(c: dc.Circuit, bits: np.ndarray) -> np.ndarray:
    """Gate by gate in file order on (B, n_inputs) bools: the obvious evaluator, nothing shared."""
    wires = list(bits.T.astype(bool))
    for op, a, b in zip(c.ops.tolist(), c.in0.tolist(), c.in1.tolist()):
        name = OPS[op]
        x = wires[a] if a >= 0 else None
        y = wires[b] if b >= 0 else None
        wires.append({
            "AND": lambda: x & y, "XOR": lambda: x ^ y, "OR": lambda: x | y, "NAND": lambda: ~(x & y),
            "NOR": lambda: ~(x | y), "XNOR": lambda: ~(x ^ y), "INV": lambda: ~x, "BUF": lambda: x.copy(),
            "CONST0": lambda: np.zeros(bits.shape[0], bool), "CONST1": lambda: np.ones(bits.shape[0], bool),
        }[name]())
    return np.stack([wires[w] for w in c.outputs.tolist()], axis=1) if c.n_outputs else np.zeros((bits.shape[0], 0), bool)


def reference_levels(c: dc.Circuit) -> list[int]:
    level = [0] * c.n_inputs
    for op, a, b in zip(c.ops.tolist(), c.in0.tolist(), c.in1.tolist()):
        level.append(0 if OPS[op].startswith("CONST") else 1 + max(level[a], level[b]))
    return level[c.n_inputs:]


def random_circuit(seed: int, n_in: int = 12, n_gates: int = 300, n_out: int = 20) -> dc.Circuit:
    """Every op, constants, outputs that are inputs, constants or repeated wires."""
    rng = np.random.default_rng(seed)
    b = dc.CircuitBuilder()
    wires = b.inputs(n_in // 2) + b.inputs(n_in - n_in // 2)
    for _ in range(n_gates):
        op = OPS[rng.integers(len(OPS))]
        # Prefer recent wires so the circuit gets deep, not only wide.
        pick = lambda: wires[max(0, len(wires) - 1 - int(rng.geometric(0.15)))]  # noqa: E731
        wires.append(b.gate(op, pick(), pick()))
    outs = [wires[int(i)] for i in rng.integers(0, len(wires), size=n_out)] + [wires[0], wires[-1], wires[-1]]
    b.outputs(outs[: n_out // 2])
    b.outputs(outs[n_out // 2 :])
    return b.build()


RANDOM = [random_circuit(s) for s in range(6)]


# ------------------------------------------------------------------------------ evaluation
@pytest.mark.parametrize("seed", range(6))
def test_random_circuits_match_reference(seed, each_simd_target):
    c = RANDOM[seed]
    rng = np.random.default_rng(100 + seed)
    bits = rng.integers(0, 2, size=(1000, c.n_inputs)).astype(bool)
    np.testing.assert_array_equal(c.evaluate_bits(bits), reference_evaluate(c, bits))


def test_levels_depth_and_widths_match_reference():
    for c in RANDOM + [bristol("adder64"), C.dadda_multiplier(8), C.bitonic_sorter(4, 3)]:
        levels = reference_levels(c)
        np.testing.assert_array_equal(c.levels, levels)
        assert c.depth == max(levels)
        counted = np.bincount([lv for lv in levels if lv > 0], minlength=c.depth + 1)[1:]
        np.testing.assert_array_equal(c.level_widths(), counted)
        assert c.level_widths(alap=True).sum() == c.work == sum(1 for lv, op in zip(levels, c.ops) if not OPS[op].startswith("CONST"))


def _all_ways(c: dc.Circuit, words: np.ndarray, schedules, block_sizes) -> np.ndarray:
    reference = None
    for target in dc.simd_targets():
        with simd(target):
            for schedule in schedules:
                for k in (1, 2):
                    # "levelized" meets at a barrier per level and block: few blocks keep it quick even
                    # when the other core is busy (each barrier may then wait for the scheduler).
                    levelized = schedule == "levelized"
                    w = words[:, :70] if levelized else words  # two blocks of 64 words, one partial
                    for bw in block_sizes[-1:] if levelized else block_sizes:
                        out = c.evaluate_packed(w, schedule=schedule, threads=k, block_words=bw)
                        if reference is None:
                            reference = out
                        np.testing.assert_array_equal(out, reference[:, : w.shape[1]], err_msg=f"{target} {schedule} {k} {bw}")
    return reference


def test_schedules_threads_and_simd_targets_agree():
    rng = np.random.default_rng(5)
    # 130 words: two threads get unequal slices and the last block is partial for every block size.
    aes = bristol("aes_128")
    words = rng.integers(0, 2**64, size=(aes.n_inputs, 130), dtype=np.uint64)
    out = _all_ways(aes, words, ("batch", "levelized", "sequential"), (1, 8, 64))
    bits = dc.circuit.unpack_bits(words, 64 * 130).T
    np.testing.assert_array_equal(dc.circuit.unpack_bits(out, 64 * 130).T.astype(bool), reference_evaluate(aes, bits))
    # sha256 (5,332 levels): "levelized" pays a barrier per level and block.
    sha = bristol("sha256")
    words = rng.integers(0, 2**64, size=(sha.n_inputs, 130), dtype=np.uint64)
    reference = _all_ways(sha, words, ("batch", "sequential"), (8, 16, 32, 64))
    # One thread here: the 2-thread barriers were exercised on aes_128 above, and 5,332 of them can take
    # seconds while another process holds the second core.
    np.testing.assert_array_equal(sha.evaluate_packed(words, schedule="levelized", threads=1), reference)
    with threads(2):
        np.testing.assert_array_equal(sha.evaluate_packed(words), reference)
    bits = dc.circuit.unpack_bits(words[:, :1], 64).T.astype(bool)
    np.testing.assert_array_equal(dc.circuit.unpack_bits(reference[:, :1], 64).T[:3], reference_evaluate(sha, bits[:3]))


@pytest.mark.parametrize("n_words", [1, 7, 9, 65])
def test_partial_blocks_and_out_buffer(n_words, each_simd_target):
    c = RANDOM[0]
    rng = np.random.default_rng(n_words)
    words = rng.integers(0, 2**64, size=(c.n_inputs, n_words), dtype=np.uint64)
    out = np.full((c.n_outputs, n_words), 12345, dtype=np.uint64)
    res = c.evaluate_packed(words, out=out, schedule="levelized", threads=2)
    assert res is out
    bits = dc.circuit.unpack_bits(words, 64 * n_words).T
    np.testing.assert_array_equal(dc.circuit.unpack_bits(out, 64 * n_words).T.astype(bool), reference_evaluate(c, bits))


def test_evaluate_scalars_arrays_negative_and_wide_values():
    add = C.ripple_carry_adder(8)
    assert add.evaluate(200, 100) == 300
    assert isinstance(add.evaluate(200, 100), int)
    np.testing.assert_array_equal(add.evaluate(np.array([1, 2, 255]), 1), [2, 3, 256])
    assert add.evaluate(-1, 1) == 256  # -1 is 255 in two's complement
    wide = C.kogge_stone_adder(100)
    x, y = 2**99 + 12345, 2**100 - 1
    assert wide.evaluate(x, y) == x + y
    out = wide.evaluate(np.array([x, 1], dtype=object), np.array([y, 2], dtype=object))
    assert out.dtype == object and list(out) == [x + y, 3]


def test_evaluate_rejects_bad_input():
    add = C.ripple_carry_adder(8)
    with pytest.raises(TypeError, match="2 input values"):
        add.evaluate(1)
    with pytest.raises(ValueError, match=r"\[-2\*\*7, 2\*\*8\)"):
        add.evaluate(256, 1)
    with pytest.raises(ValueError, match="batch"):
        add.evaluate(np.arange(3), np.arange(4))
    with pytest.raises(TypeError, match="integers"):
        add.evaluate(np.array([1.5]), 1)
    with pytest.raises(ValueError, match="shape"):
        add.evaluate_packed(np.zeros((3, 2), np.uint64))
    with pytest.raises(ValueError, match="schedule"):
        add.evaluate_packed(np.zeros((16, 2), np.uint64), schedule="wavefront")
    with pytest.raises(ValueError, match="threads"):
        add.evaluate_packed(np.zeros((16, 2), np.uint64), threads=0)
    with pytest.raises(ValueError, match="threads"):
        add._core.evaluate_packed(np.zeros((16, 2), np.uint64), np.zeros((9, 2), np.uint64), 1, 10**6, 8)
    with pytest.raises(ValueError, match="out must be"):
        add.evaluate_packed(np.zeros((16, 2), np.uint64), out=np.zeros((9, 3), np.uint64))
    with pytest.raises(ValueError, match="block_words"):
        add.evaluate_packed(np.zeros((16, 2), np.uint64), block_words=12)
    with pytest.raises(ValueError, match="bits"):
        add.evaluate_bits(np.full((2, 16), 2))
    # the core re-checks what Python passes
    with pytest.raises(ValueError, match="expected"):
        add._core.evaluate_packed(np.zeros((3, 2), np.uint64), np.zeros((9, 2), np.uint64), 0, 1, 8)
    assert add.evaluate_packed(np.zeros((16, 0), np.uint64)).shape == (9, 0)


def test_circuit_constructor_validates():
    with pytest.raises(ValueError, match="topological"):
        dc.Circuit(["AND"], [0], [1], [1], [1], [1])  # gate 0 reads its own output wire 1
    with pytest.raises(ValueError, match="unknown op"):
        dc.Circuit(["MUX"], [0], [0], [1], [1], [1])
    with pytest.raises(ValueError, match="output_widths"):
        dc.Circuit(["INV"], [0], [-1], [1], [1], [2])
    with pytest.raises(ValueError, match="output bit 0"):
        dc.Circuit(["INV"], [0], [-1], [7], [1], [1])
    c = dc.Circuit(["INV"], [0], [-1], [1], [1], [1])
    with pytest.raises(ValueError):
        c.ops[0] = 1  # immutable


def test_builder():
    b = dc.CircuitBuilder()
    x = b.inputs(1)[0]
    one = b.const(1)
    y = b.inputs(1)[0]  # inputs declared after gates are renumbered first
    b.outputs([b.xor(x, y), b.and_(x, one), b.or_(x, y), b.nand(x, y), b.nor(x, y), b.xnor(x, y), b.not_(y), b.buf(y), b.mux(x, y, one)])
    c = b.build()
    assert c.input_widths == (1, 1)
    for xv in (0, 1):
        for yv in (0, 1):
            out = c.evaluate(xv, yv)
            assert [(out >> k) & 1 for k in range(9)] == [xv ^ yv, xv, xv | yv, 1 - (xv & yv), 1 - (xv | yv),
                                                          1 - (xv ^ yv), 1 - yv, yv, yv if xv else 1]
    with pytest.raises(ValueError, match="does not exist"):
        b.and_(0, 999)
    with pytest.raises(TypeError, match="two input wires"):
        b.gate("AND", 0)
    with pytest.raises(ValueError, match="at least one output"):
        dc.CircuitBuilder().build()


# ------------------------------------------------------------------------------ generators
@pytest.mark.parametrize("n", [1, 2, 5, 16, 31, 64])
def test_adders_match_python(n):
    rng = np.random.default_rng(n)
    a = rng.integers(0, 2**n, size=200, dtype=np.uint64)
    b = rng.integers(0, 2**n, size=200, dtype=np.uint64)
    a[:2], b[:2] = 2**n - 1, [2**n - 1, 1]
    expected = [int(x) + int(y) for x, y in zip(a, b)]
    for make in (C.ripple_carry_adder, C.kogge_stone_adder, C.brent_kung_adder, C.sklansky_adder):
        assert [int(s) for s in make(n).evaluate(a, b)] == expected, make.__name__


@pytest.mark.parametrize("n", [1, 3, 8, 16])
def test_multipliers_match_python(n):
    rng = np.random.default_rng(n)
    a = rng.integers(0, 2**n, size=200, dtype=np.uint64)
    b = rng.integers(0, 2**n, size=200, dtype=np.uint64)
    a[0] = b[0] = 2**n - 1
    expected = [int(x) * int(y) for x, y in zip(a, b)]
    for make in (C.array_multiplier, C.dadda_multiplier):
        c = make(n)
        assert c.output_widths == (2 * n,)
        assert [int(p) for p in c.evaluate(a, b)] == expected, make.__name__


@pytest.mark.parametrize("n, bits", [(2, 3), (8, 4), (16, 2)])
def test_sorters_match_sorted(n, bits):
    rng = np.random.default_rng(n)
    values = rng.integers(0, 2**bits, size=(300, n))
    for make in (C.bitonic_sorter, C.odd_even_merge_sorter):
        out = make(n, bits).evaluate(*values.T)
        np.testing.assert_array_equal(np.stack([np.asarray(o, np.int64) for o in out], 1), np.sort(values, axis=1))
    with pytest.raises(ValueError, match="power of two"):
        C.bitonic_sorter(6, 2)


def test_parity_depths_and_values():
    rng = np.random.default_rng(3)
    for n in (2, 3, 7, 16, 33, 100):
        chain, tree = C.parity_chain(n), C.parity_tree(n)
        assert chain.depth == n - 1 and tree.depth == math.ceil(math.log2(n))
        assert chain.n_gates == tree.n_gates == n - 1
        x = rng.integers(0, 2, size=(50, n)).astype(bool)
        expected = x.sum(axis=1) % 2 == 1
        np.testing.assert_array_equal(chain.evaluate_bits(x)[:, 0], expected)
        np.testing.assert_array_equal(tree.evaluate_bits(x)[:, 0], expected)


def test_prefix_adders_logarithmic_ripple_linear():
    sizes = [8, 16, 32, 64, 128]
    ripple = [C.ripple_carry_adder(n).depth for n in sizes]
    assert all(abs(d - 2 * n) <= 2 for d, n in zip(ripple, sizes))  # ≈ 2n: grows linearly
    for make, slope in ((C.kogge_stone_adder, 2), (C.sklansky_adder, 2), (C.brent_kung_adder, 4)):
        depths = [make(n).depth for n in sizes]
        for d, n in zip(depths, sizes):
            assert d <= slope * math.log2(n) + 3, (make.__name__, n, d)
        # doubling n adds a constant, not a factor
        assert all(0 < b - a <= slope for a, b in zip(depths, depths[1:])), (make.__name__, depths)
    assert C.kogge_stone_adder(64).n_gates > C.brent_kung_adder(64).n_gates > C.ripple_carry_adder(64).n_gates


def test_multiplier_depths():
    assert C.dadda_multiplier(32).depth < C.array_multiplier(32).depth / 2


def test_chain_and_parallel():
    add = bristol("adder64")
    chained = C.chain(add, 5)  # feeds the sum into b: a + (a + (... + b))
    rng = np.random.default_rng(9)
    a = rng.integers(0, 2**64, size=100, dtype=np.uint64)
    b = rng.integers(0, 2**64, size=100, dtype=np.uint64)
    assert [int(x) for x in chained.evaluate(a, b)] == [(5 * int(x) + int(y)) % 2**64 for x, y in zip(a, b)]
    # Chained ripple adders pipeline (carries run diagonally), so depth grows by only ~2 per copy.
    assert chained.n_gates == 5 * add.n_gates and chained.depth > add.depth
    wide = C.parallel(add, 3)
    assert wide.depth == add.depth and wide.n_gates == 3 * add.n_gates
    assert wide.input_widths == (64, 64) * 3
    s = wide.evaluate(a, b, b, a, a, a)
    assert [int(x) for x in s[0]] == [int(x) for x in s[1]] == [(int(x) + int(y)) % 2**64 for x, y in zip(a, b)]
    assert np.array_equal(wide.level_widths(), 3 * add.level_widths())
    sha = bristol("sha256")
    sha_chain = C.chain(sha, 2)
    assert sha_chain.input_widths == (512, 256) and sha_chain.depth > sha.depth
    with pytest.raises(ValueError, match="output width"):
        C.chain(bristol("zero_equal"), 2)


# ------------------------------------------------------------------------------ scheduling
def schedule_circuits():
    return RANDOM[:3] + [bristol(n) for n in ("adder64", "mult64", "aes_128", "sha256")] + [
        C.kogge_stone_adder(32), C.parity_chain(50), C.parity_tree(50), C.dadda_multiplier(8)]


def test_schedule_bounds_hold_on_every_circuit():
    for c in schedule_circuits():
        w, d = c.work, c.depth
        for p in (1, 2, 3, 7, 64, 10_000):
            s = c.schedule(p)
            assert s.lower_bound == max(math.ceil(w / p), d) and s.upper_bound == w / p + d
            assert s.lower_bound <= s.makespan <= s.upper_bound, (c, p, s)
        assert c.schedule(1).makespan == w  # one processor: one gate per step
        assert c.schedule(max(w, 1)).makespan == d  # unlimited processors: one level per step
    with pytest.raises(ValueError, match="p must be >= 1"):
        RANDOM[0].schedule(0)


def test_schedule_of_width_versus_depth():
    sha = bristol("sha256")
    wide, deep = C.parallel(sha, 4), C.chain(sha, 4)
    # Four parallel copies on 4 processors take about as long as one copy on one; the chain cannot.
    assert wide.schedule(4).makespan <= sha.schedule(1).makespan + sha.depth
    assert deep.schedule(4).makespan >= deep.depth > 3 * sha.depth


# ------------------------------------------------------------------------------ round trips
def test_bristol_round_trip_keeps_function(tmp_path):
    rng = np.random.default_rng(11)
    for c in RANDOM + [bristol("aes_128"), bristol("neg64"), C.dadda_multiplier(6)]:
        path = tmp_path / "c.txt"
        c.to_bristol(path)
        back = dc.Circuit.from_bristol(path)
        assert back.input_widths == c.input_widths and back.output_widths == c.output_widths
        bits = rng.integers(0, 2, size=(300, c.n_inputs)).astype(bool)
        np.testing.assert_array_equal(back.evaluate_bits(bits), c.evaluate_bits(bits))
    add = bristol("adder64")
    assert dc.Circuit.from_bristol(text=add.to_bristol()).to_bristol() == add.to_bristol()


def test_bristol_extended_ops():
    # EQ (constants), EQW (copy) and MAND (vector AND) from the Bristol Fashion description.
    text = "5 10\n2 2 2\n1 4\n\n1 1 1 4 EQ\n1 1 0 5 EQW\n4 2 0 2 1 3 6 7 MAND\n2 1 6 7 8 XOR\n2 1 4 5 9 AND\n"
    c = dc.Circuit.from_bristol(text=text)
    assert c.gate_counts == {"AND": 3, "XOR": 1, "BUF": 1, "CONST1": 1}
    for a in range(4):
        for b in range(4):
            a0, a1, b0, b1 = a & 1, a >> 1, b & 1, b >> 1
            m0, m1 = a0 & a1, b0 & b1  # MAND pairs wires (0, 1) and (2, 3)
            out = c.evaluate(a, b)  # outputs are the last 4 wires, 6..9
            assert [(out >> k) & 1 for k in range(4)] == [m0, m1, m0 ^ m1, 1 & a0]


def test_aiger_round_trip_keeps_function(tmp_path):
    rng = np.random.default_rng(12)
    for c in RANDOM + [bristol("aes_128"), C.sklansky_adder(16)]:
        bits = rng.integers(0, 2, size=(300, c.n_inputs)).astype(bool)
        for suffix in (".aig", ".aag"):
            path = tmp_path / f"c{suffix}"
            c.to_aiger(path)
            back = dc.Circuit.from_aiger(path)
            assert back.input_widths == c.input_widths and back.output_widths == c.output_widths
            np.testing.assert_array_equal(back.evaluate_bits(bits), c.evaluate_bits(bits))
    with pytest.raises(ValueError, match=r"\.aig"):
        RANDOM[0].to_aiger(tmp_path / "c.txt")


def test_epfl_aiger_round_trip(tmp_path):
    c = dc.Circuit.from_aiger(DATA / "circuit" / "epfl" / "adder.aig")
    c.to_aiger(tmp_path / "adder.aag")
    back = dc.Circuit.from_aiger(tmp_path / "adder.aag")
    rng = np.random.default_rng(13)
    bits = rng.integers(0, 2, size=(200, c.n_inputs)).astype(bool)
    np.testing.assert_array_equal(back.evaluate_bits(bits), c.evaluate_bits(bits))
    assert back.and_depth == c.and_depth == 255


# ------------------------------------------------------------------------------ threshold networks
NEURONS = {"AND": 1, "OR": 1, "NAND": 1, "NOR": 1, "XOR": 2, "XNOR": 2}


@pytest.mark.parametrize("c", RANDOM[:3] + [bristol("adder64"), bristol("zero_equal"), C.bitonic_sorter(4, 3)],
                         ids=lambda c: f"{c.n_gates}g")
def test_to_network_reproduces_outputs(c):
    rng = np.random.default_rng(c.n_gates)
    bits = rng.integers(0, 2, size=(256, c.n_inputs)).astype(bool)
    expected = c.evaluate_bits(bits)
    net = c.to_network()
    assert net.n_neurons == sum(NEURONS.get(op, 0) * k for op, k in c.gate_counts.items())
    assert net.depth <= c.depth
    np.testing.assert_array_equal(net.predict(bits), expected)
    np.testing.assert_array_equal(net.forward(bits), expected.astype(float))  # Heaviside is exact
    soft = c.to_network("sigmoid", beta=40.0).forward(bits)
    # Every pre-activation is >= 0.5 from its threshold, so each neuron errs by <= e^-20 ≈ 2e-9 and
    # errors only add along paths: 1e-4 is a very safe bound for these depths.
    assert np.abs(soft - expected).max() < 1e-4


def test_to_network_depth_equals_circuit_depth_without_inverters():
    c = bristol("adder64")  # AND and XOR only
    assert c.to_network().depth == c.depth == 188
    with pytest.raises(ValueError, match="activation"):
        c.to_network("relu")
    with pytest.raises(ValueError, match="beta"):
        c.to_network("sigmoid", beta=-1)
    with pytest.raises(TypeError, match="beta must be a real number, got str"):  # not float("50")
        c.to_network("sigmoid", beta="50")


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    c = bristol("adder64")
    rng = np.random.default_rng(21)
    bits = rng.integers(0, 2, size=(100, c.n_inputs)).astype(bool)
    out = c.evaluate_bits(torch.from_numpy(bits))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.bool
    np.testing.assert_array_equal(out.numpy(), c.evaluate_bits(bits))
    words = rng.integers(0, 2**64, size=(c.n_inputs, 3), dtype=np.uint64)
    packed = c.evaluate_packed(torch.from_numpy(words))
    assert isinstance(packed, torch.Tensor)
    np.testing.assert_array_equal(packed.numpy(), c.evaluate_packed(words))


def test_network_as_torch_module():
    torch = pytest.importorskip("torch")
    c = bristol("zero_equal")
    rng = np.random.default_rng(22)
    bits = rng.integers(0, 2, size=(64, c.n_inputs)).astype(bool)
    bits[0] = False  # the one input where zero_equal is 1
    for activation in ("heaviside", "sigmoid"):
        net = c.to_network(activation, beta=40.0)
        module = net.to_torch()
        got = module(torch.from_numpy(bits.astype(np.float64))).numpy()
        np.testing.assert_allclose(got, net.forward(bits), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got > 0.5, c.evaluate_bits(bits))
    x = torch.from_numpy(bits.astype(np.float64)).requires_grad_(True)
    module(x).sum().backward()  # differentiable with the sigmoid
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_one_circuit_from_several_python_threads():
    """Issue 15 §1: calls on one Circuit from several Python threads (the GIL released, the cached
    workspace shared) give exactly the results of the same calls made in sequence. The calls differ
    in block size and schedule, so the workspace is resized while other threads use it unless the
    per-object lock serialises them."""
    import threading

    sha = dc.circuits.bristol("sha256")
    rng = np.random.default_rng(15)
    jobs = []
    for k in range(8):
        words = rng.integers(0, 2**64, (sha.n_inputs, 40 + 17 * k), dtype=np.uint64)
        jobs.append((words, ("batch", "levelized", "sequential")[k % 3], (8, 64, 16, 32)[k % 4]))
    expected = [sha.evaluate_packed(w, schedule=s, block_words=b, threads=2) for w, s, b in jobs]
    got: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            got[t] = [sha.evaluate_packed(w, schedule=s, block_words=b, threads=2) for w, s, b in jobs[t::2] * 2]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for t in range(2):
        for i, result in enumerate(got[t]):
            np.testing.assert_array_equal(result, expected[t::2][i % len(expected[t::2])])


def test_levelized_wide_circuit_matches_sequential():
    """A level wide enough for the levelized schedule to split it between threads (issue 15 §2 keeps
    one thread only for small levels or busy cores): same bits as one thread."""
    n, width = 64, 4096  # 4,096 gates x 8 words per level: above the one-thread threshold
    rng = np.random.default_rng(3)
    ops = rng.choice([0, 1, 2, 5], 2 * width).astype(np.uint8)
    in0 = np.concatenate([rng.integers(0, n, width), n + rng.integers(0, width, width)]).astype(np.int32)
    in1 = np.concatenate([rng.integers(0, n, width), n + rng.integers(0, width, width)]).astype(np.int32)
    outputs = (n + width + np.arange(0, width, 97)).astype(np.int32)
    c = dc.Circuit(ops, in0, in1, outputs, [n], [outputs.size])
    words = rng.integers(0, 2**64, (n, 200), dtype=np.uint64)
    want = c.evaluate_packed(words, schedule="sequential")
    np.testing.assert_array_equal(c.evaluate_packed(words, schedule="levelized", threads=2, block_words=8), want)


def test_unaligned_words_give_the_aligned_answer():
    circuit = dc.circuits.bristol("adder64")
    words = np.random.default_rng(5).integers(0, 2**63, (circuit.n_inputs, 3), dtype=np.uint64)
    buf = bytearray(words.nbytes + 4)
    unaligned = np.frombuffer(memoryview(buf)[4:4 + words.nbytes], dtype=np.uint64).reshape(words.shape)
    unaligned[...] = words
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(circuit.evaluate_packed(unaligned), circuit.evaluate_packed(words))
