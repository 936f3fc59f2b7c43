"""Ctrl-C during every long native call (issue 21): KeyboardInterrupt within 0.5 s, the object whole.

Each test runs a child Python that starts a long call, sends itself SIGINT 1 s in (a timer thread; the
native call releases the GIL) and measures, in the child, the time from the signal to the
KeyboardInterrupt; then it checks the state the call left against an independent run:
- samplers keep exactly the state after their last completed sweep: the lattice equals a fresh sampler
  swept `sweeps_done` times, and continuing equals an uninterrupted run of the same total, bit for bit;
- stateless calls (MarkovChain.sample, HierarchicalChain.sample, product forward, evaluate_packed) have
  written a prefix of out= (completed blocks, equal to the same rows computed alone) and left the rest
  untouched;
- census.threshold_functions with checkpoint= has saved its last completed batch, and the same call
  resumes from it; progress= bars are closed.
Most calls are sized to run far longer than 10 s. Product forward (deep) and sha256 evaluation read
every input once, so a 10 s call needs gigabytes; those run calls of a few hundred ms in a loop, and the
child reports whether the signal landed inside a call (then the partial out= is checked) or between two.

Chunking never changes results: the last tests force chunks of a few items (_set_interrupt_chunk) and
compare with one-piece calls bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import _core, relu

LATENCY_LIMIT = 0.5   # seconds from SIGINT to KeyboardInterrupt, measured in the child
OUTER_TIMEOUT = 120
BRISTOL = str(Path(__file__).resolve().parents[1] / "data" / "bristol")   # seconds for the whole child: generous, it only catches a call that never stops

PRELUDE = """
import json, os, signal, sys, threading, time
import numpy as np
import deepcheap_native as dc
from deepcheap_native import _core
report = {}
def interrupted_after(delay, call):
    # Runs call(); SIGINT `delay` s in. Returns (latency s or None when the call finished first, polls).
    fired = {}
    def fire():
        fired["t"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(delay, fire)
    polls = _core._interrupt_polls()
    timer.start()
    try:
        call()
        while "t" not in fired:  # the call finished first: wait for the signal outside it
            time.sleep(0.01)
        time.sleep(1.0)
        return None, _core._interrupt_polls() - polls
    except KeyboardInterrupt:
        return time.monotonic() - fired["t"], _core._interrupt_polls() - polls
    finally:
        timer.cancel()
"""


def run_child(body: str) -> dict:
    script = PRELUDE + textwrap.dedent(body) + "\nprint('REPORT ' + json.dumps(report))\n"
    env = dict(os.environ)
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=OUTER_TIMEOUT,
                              env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the child did not finish within {OUTER_TIMEOUT} s: the call ignored SIGINT\n{e.stderr}")
    assert proc.returncode == 0, f"child failed (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT ")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[-1][len("REPORT "):])


def check_latency(report: dict, what: str) -> None:
    latency = report["latency"]
    print(f"{what}: latency {latency} s, polls {report.get('polls')}, k {report.get('k')}")
    assert latency is not None, f"{what} finished before the signal: size the call up"
    assert latency <= LATENCY_LIMIT, (
        f"{what}: KeyboardInterrupt came {latency:.3f} s after SIGINT, more than {LATENCY_LIMIT} s")


pytestmark = pytest.mark.interrupt


# ---- samplers: the state after the last completed sweep --------------------------------------------------


SAMPLER_CASES = {
    "ising-multispin": "dc.IsingModel(128).sampler(2.0, replicas=64, seed=1)",
    "ising-int8-heatbath": "dc.IsingModel(96).sampler(2.0, replicas=3, algorithm='heatbath', seed=2)",
    "boltzmann": "dc.BoltzmannSampler(400, {(i, (i + 1) % 400): -1.0 for i in range(400)} | "
                 "{(i, (i + 7) % 400, (i + 13) % 400): 0.3 for i in range(400)}, 1.5, replicas=64, seed=3)",
    "wolff": "dc.IsingModel(64).sampler(2.3, replicas=4, algorithm='wolff', seed=4)",
    "swendsen-wang": "dc.IsingModel(64).sampler(2.3, replicas=4, algorithm='swendsen-wang', seed=5)",
}


@pytest.mark.parametrize("case", list(SAMPLER_CASES))
@pytest.mark.parametrize("method", ["sweep", "run"])
def test_sampler_keeps_last_completed_sweep(case: str, method: str) -> None:
    make = SAMPLER_CASES[case]
    call = "s.sweep(10**9)" if method == "sweep" else "s.run(10**8, measure_every=10**5)"
    if method == "run" and case == "boltzmann":
        pytest.skip("BoltzmannSampler has sweep() only")
    report = run_child(f"""
        s = {make}
        report["latency"], report["polls"] = interrupted_after(1.0, lambda: {call})
        k = s.sweeps_done
        report["k"] = k
        fresh = {make}
        fresh.sweep(k)
        report["same_state"] = bool(np.array_equal(np.asarray(s.spins), np.asarray(fresh.spins)))
        s.sweep(7)
        fresh.sweep(7)
        report["same_after"] = bool(np.array_equal(np.asarray(s.spins), np.asarray(fresh.spins)))
        report["sweeps_after"] = [s.sweeps_done, fresh.sweeps_done]
    """)
    check_latency(report, f"{case}.{method}")
    assert report["polls"] >= 1
    assert 0 < report["k"] < 10**8
    assert report["same_state"], "the interrupted lattice is not the lattice after sweeps_done sweeps"
    assert report["same_after"], "continuing after the interrupt differs from an uninterrupted run"
    assert report["sweeps_after"][0] == report["sweeps_after"][1] == report["k"] + 7


# ---- stateless calls: out= holds the completed blocks, the rest untouched ---------------------------------


def test_markov_sample_out_prefix() -> None:
    report = run_child("""
        chain = dc.MarkovChain(np.full((16, 16), 1 / 16))
        out = np.full(2_000_000, 255, np.uint8)
        report["latency"], report["polls"] = interrupted_after(
            1.0, lambda: chain.sample(2_000_000, 100_000, seed=1, out=out))
        written = out != 255
        k = int(written.sum())
        report["k"] = k
        report["prefix"] = bool(written[:k].all())
        ref = chain.sample(k, 100_000, seed=1)
        report["same"] = bool(np.array_equal(out[:k], ref))
    """)
    check_latency(report, "MarkovChain.sample")
    assert 0 < report["k"] < 2_000_000
    assert report["prefix"], "completed chains are not a prefix of out="
    assert report["same"], "completed chains differ from the same chains sampled alone"


def test_hierarchical_sample_out_prefix() -> None:
    report = run_child("""
        P = np.full((4, 4), 1 / 4)
        h = dc.HierarchicalChain([P] * 3000, np.full(4, 1 / 4))
        n = 50_000
        out = np.full((n, 3001), 255, np.uint8)
        def call():
            for _ in range(1000):  # calls of about 0.3 GB each, until the signal
                out.fill(255)
                h.sample(n, seed=2, out=out)
        report["latency"], report["polls"] = interrupted_after(1.0, call)
        rows = (out != 255).all(axis=1)
        untouched = (out == 255).all(axis=1)
        k = int(rows.sum())
        report["k"] = k
        report["inside"] = bool(0 < k < n)
        report["shape_ok"] = bool(rows[:k].all() and untouched[k:].all())
        report["same"] = bool(np.array_equal(out[:k], h.sample(k, seed=2))) if 0 < k < n else True
    """)
    check_latency(report, "HierarchicalChain.sample")
    assert report["shape_ok"], "out= is not completed rows followed by untouched ones"
    assert report["same"], "completed chains differ from the same chains sampled alone"


def test_markov_long_chains_interrupt() -> None:
    # Few chains, many steps: even the smallest block of chains through every step is a long call, so the
    # driver cuts the steps instead; the final states are written only after the last step.
    report = run_child("""
        chain = dc.MarkovChain(np.full((16, 16), 1 / 16))
        out = np.full(2048, 255, np.uint8)
        report["latency"], report["polls"] = interrupted_after(
            1.0, lambda: chain.sample(2048, 4_000_000, seed=1, out=out))
        report["untouched"] = bool((out == 255).all())
    """)
    check_latency(report, "MarkovChain.sample (4e6 steps)")
    assert report["polls"] >= 1
    assert report["untouched"], "final states were written before the chains' last step"


@pytest.mark.parametrize("walk", ["lines", "plane"])
def test_relu_region_walks_interrupt(walk: str) -> None:
    if walk == "lines":
        call = "relu.linear_regions(relu.random_network([8, 128, 128, 128], seed=1), lines=20_000, seed=2)"
    else:  # one plane of a deep network: its first-layer cells are the units
        call = ("relu.linear_regions_2d(relu.random_network([2] + [128] * 5, seed=1, bias_std=1.0), np.zeros(2), "
                "np.array([1.0, 0.0]), np.array([0.0, 1.0]), (-3.0, 3.0, -3.0, 3.0))")
    report = run_child(f"""
        from deepcheap_native import relu
        report["latency"], report["polls"] = interrupted_after(1.0, lambda: {call})
    """)
    check_latency(report, f"relu region walk ({walk})")
    assert report["polls"] >= 1


@pytest.mark.parametrize("walk", ["line", "plane"])
def test_relu_one_long_item_interrupts(walk: str) -> None:
    """One item that alone runs for minutes: a segment through Telgarsky's sawtooth of depth 40 (2^40
    pieces, max_pieces raised to 10^10), and a plane through the same sawtooth on its first coordinate
    (depth 30: each first-layer cell, one unit of work, holds 2^29 regions). The walks look at a stop
    flag every 4096 pieces or regions while the calling thread polls (cpu/stop.hpp), so no chunk
    boundary is needed."""
    if walk == "line":
        call = "relu.linear_regions(relu.sawtooth_network(40), line=([0.0], [1.0]), max_pieces=10**10)"
    else:
        call = ("relu.linear_regions_2d(net, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), "
                "(0.0, 1.0, 0.0, 1.0))")
    report = run_child(f"""
        from deepcheap_native import relu
        saw = relu.sawtooth_network(30)
        first = (np.hstack([np.asarray(saw.layers[0][0]), np.zeros((2, 1))]), saw.layers[0][1])
        net = relu.as_network([first, *saw.layers[1:]])
        report["latency"], report["polls"] = interrupted_after(1.0, lambda: {call})
    """)
    check_latency(report, f"relu, one long {walk} item")
    assert report["polls"] >= 1


def test_relu_stop_checks_never_change_results() -> None:
    """The stop checks inside long items (every 4096 pieces or regions) are active whenever a poll is
    installed; a walk of 2^16 pieces (16 checks) and a plane of 2^12 regions give the closed-form counts
    and the sawtooth's own breakpoints, with chunks of one item as with whole calls."""
    k = 16
    old = _core._set_interrupt_chunk(1)
    try:
        lines = relu.linear_regions(relu.sawtooth_network(k), line=([0.0], [1.0]))
    finally:
        _core._set_interrupt_chunk(old)
    assert int(lines.counts[0, 0]) == 2**k
    np.testing.assert_array_equal(lines.breakpoints(0, 0), np.arange(1, 2**k) / 2**k)
    saw = relu.sawtooth_network(12)
    first = (np.hstack([np.asarray(saw.layers[0][0]), np.zeros((2, 1))]), saw.layers[0][1])
    plane = relu.linear_regions_2d(relu.as_network([first, *saw.layers[1:]]), np.zeros(2), np.array([1.0, 0.0]),
                                   np.array([0.0, 1.0]), (0.0, 1.0, 0.0, 1.0))
    assert int(plane.counts[0]) == 2**12


def test_philox_is_cut_into_chunks_that_change_no_word() -> None:
    """random.philox4x32 runs in interruptible chunks (a batch the memory limit allows takes seconds;
    one long enough for a SIGINT test would need tens of GB): a batch of 4 million counters polls
    between chunks, and chunks of 3 counters or of any size give the words of one piece."""
    rng = np.random.default_rng(3)
    counters = rng.integers(0, 2**32, (4_000_000, 4), dtype=np.uint32)
    keys = rng.integers(0, 2**32, (4_000_000, 2), dtype=np.uint32)
    old = _core._set_interrupt_chunk(-1)
    try:
        whole = dc.random.philox4x32(counters, keys)
        _core._set_interrupt_chunk(0)
        before = _core._interrupt_polls()
        cut = dc.random.philox4x32(counters, keys)
        assert _core._interrupt_polls() > before
        _core._set_interrupt_chunk(3)
        tiny = dc.random.philox4x32(counters[:1000], keys[:1000])
    finally:
        _core._set_interrupt_chunk(old)
    np.testing.assert_array_equal(cut, whole)
    np.testing.assert_array_equal(tiny, whole[:1000])


def test_block_spin_chunks_change_no_spin() -> None:
    """block_spin checks its spins and blocks them in interruptible chunks of replicas (a batch can be
    gigabytes): chunks of one replica give the one-piece blocks, ties (majority of 2x2 blocks, broken
    by each replica's own random word) included, and a bad spin in the last replica is still found."""
    rng = np.random.default_rng(4)
    spins = np.where(rng.random((7, 16, 16)) < 0.5, -1, 1).astype(np.int8)
    old = _core._set_interrupt_chunk(-1)
    try:
        whole = dc.ising.block_spin(spins, 2, seed=5)
        _core._set_interrupt_chunk(1)
        cut = dc.ising.block_spin(spins, 2, seed=5)
        spins[6, 15, 15] = 0
        with pytest.raises(ValueError, match="spins must hold only -1 and \\+1"):
            dc.ising.block_spin(spins, 2, seed=5)
    finally:
        _core._set_interrupt_chunk(old)
    np.testing.assert_array_equal(cut, whole)
    assert (whole == 0).sum() == 0 and whole.shape == (7, 8, 8)


def test_locality_energy_interrupts() -> None:
    # One fused call over 48 lattices of 1024 x 1024 (about 2 s on 2 cores): chunked over lattices, so
    # SIGINT lands between chunks; the network is stateless and answers the same afterwards.
    report = run_child("""
        from deepcheap_native import locality
        H = locality.LatticeHamiltonian.from_ising(dc.IsingModel(1024))
        net = locality.hamiltonian_network(H, 2.0)
        x = np.ones((48, 1024, 1024), np.int8)
        before = net(x[:1])
        report["latency"], report["polls"] = interrupted_after(0.5, lambda: net(x))
        report["same"] = bool((net(x[:1]) == before).all())
    """)
    check_latency(report, "HamiltonianNetwork (conv, fused kernel)")
    assert report["polls"] >= 1
    assert report["same"], "the network answers differently after an interrupt"


@pytest.mark.parametrize("kind", ["shallow", "deep"])
def test_product_forward_out_prefix(kind: str) -> None:
    if kind == "shallow":
        setup = """
        # n = 18: a block of 64 rows per thread, the driver's smallest chunk, takes ~0.05 s here; at
        # n = 20 it takes ~0.3 s on 2 idle cores (README "Interrupting long calls").
        net = dc.product_network(18, kind="shallow", activation="exp", scale=0.1)
        x = np.random.default_rng(0).uniform(0.4, 0.6, (200_000, 18))
        repeats = 1
        """
    else:
        setup = """
        net = dc.product_network(1024, kind="deep")
        x = np.random.default_rng(0).uniform(0.99, 1.01, (20_000, 1024))
        repeats = 1000
        """
    report = run_child(setup + """
        out = np.full(len(x), np.nan)
        def call():
            for _ in range(repeats):
                out.fill(np.nan)
                net(x, out=out)
        report["latency"], report["polls"] = interrupted_after(1.0, call)
        done = ~np.isnan(out)
        k = int(done.sum())
        report["k"] = k
        report["inside"] = bool(0 < k < len(x))
        report["prefix"] = bool(done[:k].all())
        report["same"] = bool(np.array_equal(out[:k], net(x[:k]))) if 0 < k < len(x) else True
    """)
    check_latency(report, f"product forward ({kind})")
    if kind == "shallow":
        assert report["inside"], "the shallow forward pass finished or never started"
    assert report["prefix"], "completed rows are not a prefix of out="
    assert report["same"], "completed rows differ from the same rows computed alone"


CHAIN_CIRCUIT = """
G = 200_000  # a chain of G gates over 2 inputs: about 20 us of work per word
lines = [f"{G} {G + 2}", "2 1 1", "1 1", ""]
for g in range(G):
    prev = 0 if g == 0 else g + 1
    lines.append(f"2 1 {prev} {g % 2} {g + 2} {'XOR' if g % 3 else 'AND'}")
circuit = dc.Circuit.from_bristol(text="\\n".join(lines) + "\\n")
"""


@pytest.mark.parametrize("which", ["chain", "sha256"])
def test_circuit_evaluate_packed_out_prefix(which: str) -> None:
    if which == "chain":
        setup = CHAIN_CIRCUIT + """
words = np.random.default_rng(0).integers(0, 2**63, (circuit.n_inputs, 1 << 20), dtype=np.uint64)
repeats = 1
"""
    else:
        setup = f"""
circuit = dc.circuits.bristol("sha256", directory={BRISTOL!r})
words = np.random.default_rng(0).integers(0, 2**63, (circuit.n_inputs, 1 << 15), dtype=np.uint64)
repeats = 1000
"""
    report = run_child(setup + """
out = np.zeros((circuit.n_outputs, words.shape[1]), np.uint64)
sentinel = np.uint64(0xDEADBEEFDEADBEEF)
def call():
    for _ in range(repeats):
        out.fill(sentinel)
        circuit.evaluate_packed(words, out=out)
report["latency"], report["polls"] = interrupted_after(1.0, call)
done = (out != sentinel).any(axis=0)
k = int(done.sum())
report["k"] = k
report["inside"] = bool(0 < k < words.shape[1])
report["prefix"] = bool(done[:k].all() and not done[k:].any())
report["same"] = bool(np.array_equal(out[:, :k], circuit.evaluate_packed(np.ascontiguousarray(words[:, :k])))) \\
    if 0 < k < words.shape[1] else True
""")
    check_latency(report, f"evaluate_packed ({which})")
    if which == "chain":
        assert report["inside"], "the evaluation finished or never started"
    assert report["prefix"], "completed words are not a prefix of out="
    assert report["same"], "completed words differ from the same words evaluated alone"


def test_circuit_planning_interrupts() -> None:
    # Planning 2^24 random gates (levels, heights, two slot allocations) takes seconds; the constructor
    # polls every 2^20 gates of each pass and raises, leaving no half-built circuit behind.
    report = run_child(f"BRISTOL = {BRISTOL!r}\n" + """
n_in, G = 64, 1 << 24
rng = np.random.default_rng(0)
wires = np.arange(G, dtype=np.float64) + n_in
in0 = (rng.random(G) * wires).astype(np.int32)
in1 = (rng.random(G) * wires).astype(np.int32)
ops = rng.integers(1, 4, G).astype(np.uint8)
outputs = np.arange(G + n_in - 64, G + n_in)
report["latency"], report["polls"] = interrupted_after(
    1.0, lambda: dc.Circuit(ops, in0, in1, outputs, [64], [64]))
adder = dc.circuits.bristol("adder64", directory=BRISTOL)
report["works_after"] = adder.evaluate(2**40 + 3, 5) == 2**40 + 8
""")
    check_latency(report, "Circuit planning")
    assert report["polls"] > 0, "the planning passes never polled"
    assert report["works_after"], "a circuit built after the interrupt evaluates wrongly"


# A chain of G XOR gates in Bristol Fashion, 28 bytes a line ("2 1 a 0 c XOR", wires zero-padded to 8
# digits, which the parser reads as the same numbers), built with numpy in a few seconds.
BRISTOL_CHAIN = """
def bristol_chain(G):
    header = f"{G} {G + 2}\\n2 1 1\\n1 1\\n".encode()
    buf = np.empty(len(header) + 28 * G, np.uint8)
    buf[:len(header)] = np.frombuffer(header, np.uint8)
    lines = buf[len(header):].reshape(G, 28)
    lines[:] = np.frombuffer(b"2 1 00000000 0 00000000 XOR\\n", np.uint8)
    digits = np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), np.uint8).reshape(10000, 4)
    for col, first in ((4, 1), (15, 2)):
        wire = np.arange(first, G + first, dtype=np.int32)
        lines[:, col:col + 4] = digits[wire // 10000]
        lines[:, col + 4:col + 8] = digits[wire % 10000]
    return buf.tobytes()
"""


def test_circuit_parse_interrupts() -> None:
    # The Bristol parser reads about 4 million gate lines a second on the loaded 2-core machine, so a
    # 10 s parse would need a file of over 1 GB: this one is sized for >= 3 s instead (14 million
    # gates, 392 MB of text, 3.4 s under load 3; about 0.85 GB at the peak, while the text is built).
    # The parser polls every 2^20 lines without the GIL (what Circuit.from_bristol calls, before it
    # plans: the binding is called directly so that planning's own polls cannot answer for it).
    report = run_child(f"BRISTOL = {BRISTOL!r}\n" + BRISTOL_CHAIN + """
data = bristol_chain(14_000_000)
report["latency"], report["polls"] = interrupted_after(1.0, lambda: _core.circuit_parse_bristol(data))
del data
adder = dc.circuits.bristol("adder64", directory=BRISTOL)
report["works_after"] = adder.evaluate(2**40 + 3, 5) == 2**40 + 8
""")
    check_latency(report, "Bristol parse")
    assert report["polls"] > 0, "the parser never polled"
    assert report["works_after"], "a circuit parsed after the interrupt evaluates wrongly"


# ---- long jobs: census with a checkpoint, depth-2 counts, landscape descent -------------------------------


def test_census_checkpoint_resumes(tmp_path) -> None:
    path = tmp_path / "census7.npz"
    report = run_child(f"""
        from deepcheap_native import census
        closed = []
        class Bar:
            def __call__(self, done, total):
                report.setdefault("progress", []).append(done)
        def call():
            census.threshold_functions(7, max_seconds=None, checkpoint={str(path)!r}, batches=4096,
                                       progress=Bar())
        report["latency"], report["polls"] = interrupted_after(1.5, call)
        with np.load({str(path)!r}) as saved:
            report["next_piece"] = int(saved["next_piece"])
            report["saved_rows"] = int(saved["canonical"].shape[0])
    """)
    check_latency(report, "census.threshold_functions(7)")
    assert report["next_piece"] >= 1, "no completed batch was saved before the interrupt"
    assert report["progress"], "progress was never reported"
    # The same call resumes from the checkpoint: it starts at the saved batch, which it reports first (the
    # bar opens after the checkpoint is read and the remaining batches are planned: interrupt after 1.5 s,
    # not at once, so that a slow start on a busy machine is not read as a failed resume).
    report2 = run_child(f"""
        from deepcheap_native import census
        seen = []
        def call():
            census.threshold_functions(7, max_seconds=None, checkpoint={str(path)!r}, batches=4096,
                                       progress=lambda done, total: seen.append(done))
        report["latency"], report["polls"] = interrupted_after(1.5, call)
        report["first_done"] = seen[0] if seen else None
        with np.load({str(path)!r}) as saved:
            report["next_piece"] = int(saved["next_piece"])
    """)
    check_latency(report2, "census.threshold_functions(7), resumed")
    assert report2["first_done"], "the resumed call did not start from the checkpoint's completed batches"
    assert report2["next_piece"] >= report["next_piece"], "the resumed call did not start from the checkpoint"


def test_census_canonical_batch_interrupts() -> None:
    report = run_child("""
        items = int(_core.census_item_count(7))
        # The second half of the items, the heaviest (an item of up to 435897 weight vectors): the driver
        # splits them into units of at most 6545.
        report["latency"], report["polls"] = interrupted_after(
            1.0, lambda: _core.census_canonical(7, items // 2, items))
    """)
    check_latency(report, "census canonical tables (n = 7, all items)")
    assert report["polls"] >= 1


def test_landscape_descent_interrupts() -> None:
    report = run_child("""
        glass = dc.SphericalSpinGlass(60, 3, seed=1)  # a step of 200 starts: about a ms of numpy
        report["latency"], report["polls"] = interrupted_after(
            1.0, lambda: glass.descend(200, steps=10**7, tol=0.0))
    """)
    check_latency(report, "SphericalSpinGlass.descend")


def test_ising_run_progress_bar_closes() -> None:
    # The bar progress=True makes (tqdm when installed) is the one progress_bar returns; the child
    # swaps in one that records close().
    report = run_child("""
        import importlib
        closed = []
        class Bar:
            def update(self, n): pass
            def close(self): closed.append(True)
        for name in ("deepcheap_native.ising.chain",):  # the one sweep loop of every sampler
            importlib.import_module(name).progress_bar = lambda progress, total, description, **_: Bar()
        s = dc.IsingModel(128).sampler(2.0, replicas=64, seed=1)
        report["latency"], report["polls"] = interrupted_after(
            1.0, lambda: s.run(10**8, measure_every=10**5, progress=True))
        report["closed"] = list(closed)
        c = dc.IsingModel(64).sampler(2.3, replicas=4, algorithm="wolff", seed=4)
        closed.clear()
        report["latency2"], _ = interrupted_after(1.0, lambda: c.run(10**8, measure_every=10**5, progress=True))
        report["closed2"] = list(closed)
    """)
    check_latency(report, "IsingSampler.run(progress=True)")
    check_latency({"latency": report["latency2"]}, "ClusterSampler.run(progress=True)")
    assert report["closed"] == [True] and report["closed2"] == [True], "progress bars were not closed"


# ---- chunking never changes a result ------------------------------------------------------------------------


@pytest.fixture
def tiny_chunks():
    previous = _core._set_interrupt_chunk(3)
    try:
        yield
    finally:
        _core._set_interrupt_chunk(previous)


def _results() -> dict:
    out = {}
    for name, make in SAMPLER_CASES.items():
        s = eval(make, {"dc": dc})
        s.sweep(10)
        out[name] = np.asarray(s.spins).copy()
        if name != "boltzmann":
            series = s.run(12, measure_every=4)
            out[name + "-run"] = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in series])
    chain = dc.MarkovChain(np.random.default_rng(1).dirichlet(np.ones(5), 5))
    out["markov"] = chain.sample(1000, 50, seed=3, return_path=True)
    h = dc.HierarchicalChain([np.full((3, 3), 1 / 3)] * 20, np.full(3, 1 / 3))
    out["hierarchical"] = h.sample(500, seed=4)
    x = np.random.default_rng(2).uniform(0.5, 1.5, (700, 8))
    out["deep"] = dc.product_network(8, kind="deep")(x)
    out["shallow"] = dc.product_network(8, kind="shallow", activation="exp", scale=0.1)(x)
    circuit = dc.circuits.bristol("adder64", directory=BRISTOL)
    words = np.random.default_rng(3).integers(0, 2**63, (circuit.n_inputs, 300), dtype=np.uint64)
    out["circuit"] = circuit.evaluate_packed(words)
    out["census"] = np.asarray(_core.census_canonical(5, 0, int(_core.census_item_count(5))))
    net = relu.random_network([3, 12, 12, 12], seed=5, bias_std=0.5)
    lines = relu.linear_regions(net, lines=40, seed=6, patterns=True)
    out["relu-lines"] = np.concatenate([lines.counts.ravel().astype(np.float64), lines.breakpoints(0, 7),
                                        lines.patterns(0, 3).ravel().astype(np.float64)])
    plane = relu.linear_regions_2d([net, relu.random_network([3, 12, 12, 12], seed=7)], np.zeros(3),
                                   np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.5]), cells=True)
    out["relu-plane"] = np.concatenate([plane.counts.astype(np.float64), plane.cells(0).ravel(),
                                        plane.cells(1).ravel()])
    x = np.random.default_rng(8).normal(size=(50, 3))
    out["relu-forward"] = np.concatenate([net(x).ravel(), net.activation_patterns(x).ravel().astype(np.float64)])
    return out


def test_chunk_size_never_changes_results() -> None:
    whole = _results()
    for chunk in (1, 3, 64):
        previous = _core._set_interrupt_chunk(chunk)
        polls = _core._interrupt_polls()
        try:
            cut = _results()
        finally:
            _core._set_interrupt_chunk(previous)
        assert _core._interrupt_polls() > polls, "forced chunks did not cut any call"
        for name in whole:
            assert np.array_equal(whole[name], cut[name]), f"{name} differs with chunks of {chunk}"


@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_sweeps_on_any_thread_count(tiny_chunks, threads: int) -> None:
    ref = dc.IsingModel(32).sampler(2.2, replicas=64, seed=9)
    _core._set_interrupt_chunk(0)
    ref.sweep(20)
    _core._set_interrupt_chunk(3)
    s = dc.IsingModel(32).sampler(2.2, replicas=64, seed=9)
    s.sweep(20, threads=threads)
    assert s.sweeps_done == 20
    assert np.array_equal(np.asarray(s.spins), np.asarray(ref.spins))


# Few chains, many steps: the driver chunks the steps (above ~2^25 / 16 steps per chain at any thread
# count) and carries the chain states across chunks. The reference is the call in one piece.
MARKOV_STEPS = 4_000_000


def _long_chains() -> dict:
    chain = dc.MarkovChain(np.random.default_rng(5).dirichlet(np.ones(5), 5))
    return {
        "path": chain.sample(4, MARKOV_STEPS, seed=11, return_path=True, first=3, start_step=2),
        "final": chain.sample(4, MARKOV_STEPS, seed=12, init=np.array([0, 4, 2, 1], np.uint8)),
        "drawn": chain.sample(3, MARKOV_STEPS + 5, seed=13),
    }


@pytest.fixture(scope="module")
def long_chains_whole() -> dict:
    previous = _core._set_interrupt_chunk(-1)
    try:
        return _long_chains()
    finally:
        _core._set_interrupt_chunk(previous)


@pytest.mark.parametrize("chunk", [1001, 4096, 65536])
def test_markov_step_chunks_never_change_results(long_chains_whole: dict, chunk: int) -> None:
    previous = _core._set_interrupt_chunk(chunk)
    polls = _core._interrupt_polls()
    try:
        cut = _long_chains()
    finally:
        _core._set_interrupt_chunk(previous)
    # Four chains or fewer fit one block of chains: only the steps could have been cut.
    assert _core._interrupt_polls() - polls >= 3 * (MARKOV_STEPS // chunk), "the steps were not chunked"
    for name, whole in long_chains_whole.items():
        assert np.array_equal(whole, cut[name]), f"{name} differs with chunks of {chunk} steps"
    # And a continuation from the final states equals the longer path (the carried-state contract).
    chain = dc.MarkovChain(np.random.default_rng(5).dirichlet(np.ones(5), 5))
    path = long_chains_whole["path"]
    half = chain.sample(4, MARKOV_STEPS // 2, seed=11, return_path=True, first=3, start_step=2)
    rest = chain.sample(4, MARKOV_STEPS - MARKOV_STEPS // 2, seed=11, return_path=True, first=3,
                        start_step=2 + MARKOV_STEPS // 2, init=half[:, -1])
    assert np.array_equal(np.concatenate([half, rest[:, 1:]], axis=1), path)


def test_circuit_parse_polls_never_change_results(tmp_path) -> None:
    # Polls every 3 lines (Bristol, ASCII AIGER) or gates (binary AIGER's ANDs, ASCII AIGER's ordering)
    # against the parses with no poll at all: the same gate list, names and widths.
    sha = dc.circuits.bristol("sha256", directory=BRISTOL)
    sha.to_aiger(tmp_path / "sha.aag", binary=False)
    sha.to_aiger(tmp_path / "sha.aig", binary=True)
    # An ASCII AIGER whose ANDs come in reverse order: the ordering pass emits them depth first.
    aag = (tmp_path / "sha.aag").read_bytes().split(b"\n")
    n_in, n_out, n_and = (int(aag[0].split()[k]) for k in (2, 4, 5))
    ands = aag[1 + n_in + n_out:1 + n_in + n_out + n_and]
    shuffled = b"\n".join(aag[:1 + n_in + n_out] + ands[::-1] + aag[1 + n_in + n_out + n_and:])
    cases = {"bristol": (_core.circuit_parse_bristol, (Path(BRISTOL) / "sha256.txt").read_bytes()),
             "aag": (_core.circuit_parse_aiger, (tmp_path / "sha.aag").read_bytes()),
             "aag-reversed": (_core.circuit_parse_aiger, shuffled),
             "aig": (_core.circuit_parse_aiger, (tmp_path / "sha.aig").read_bytes())}
    for name, (parse, data) in cases.items():
        previous = _core._set_interrupt_chunk(-1)
        try:
            polls = _core._interrupt_polls()
            whole = parse(data)
            assert _core._interrupt_polls() == polls, f"{name}: polled with polls switched off"
            _core._set_interrupt_chunk(3)
            cut = parse(data)
            assert _core._interrupt_polls() - polls > len(whole["ops"]) // 4, f"{name}: too few polls"
        finally:
            _core._set_interrupt_chunk(previous)
        assert whole.keys() == cut.keys()
        for key in whole:
            if isinstance(whole[key], np.ndarray):
                assert np.array_equal(whole[key], cut[key]), f"{name}: {key} differs with polls every 3 items"
            else:
                assert whole[key] == cut[key], f"{name}: {key} differs with polls every 3 items"
