"""Fuzzing the validation of every public entry point: each call starts from valid arguments and has
one or two of them replaced by a value drawn from what users (and bugs) pass: None, bools, negative,
zero and huge integers, NaN and infinities, strings, bytes, nested lists, numpy scalars and arrays of
every dtype and awkward shapes. Every outcome must be a result or a clean rejection: TypeError,
ValueError (ParseError is one), FileNotFoundError for a path that names no file, or MemoryError from
the up-front size check (its message says what the request would need). Any other exception, a crash or an abort from native code fails.

Sizes that are valid and large but merely slow are not drawn (2**31 steps would be a correct, long
call); the integers drawn are the edges: 0, 1, small, negative, and beyond every limit.
CI: ``DEEPCHEAP_FUZZ_EXAMPLES`` examples per test (default 300); locally, raise it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import deepcheap_native as dc
from deepcheap_native import circuits, info, ising

EXAMPLES = int(os.environ.get("DEEPCHEAP_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

P2 = np.array([[0.9, 0.1], [0.2, 0.8]])
HALF_ADDER = "2 6\n2 1 1\n1 2\n\n2 1 0 1 4 XOR\n2 1 0 1 5 AND\n"


def _adder():
    return circuits.ripple_carry_adder(4)


def _build(width, op, value, two_values=False):
    b = dc.CircuitBuilder()
    x = b.inputs(width)
    if two_values:  # (x, y) -> x op y: chain() feeds the output back into y
        b.outputs([b.gate(op, x[0], b.inputs(1)[0])])
    else:
        b.outputs([b.gate(op, x[0], x[-1]), b.const(value)])
    return b.build()


# (name, function, valid keyword arguments). Each function takes keyword arguments only, so any one
# of them can be replaced.
ENTRY_POINTS = [
    ("product_network", lambda **a: dc.product_network(a["n"], kind=a["kind"], activation=a["activation"],
                                                       scale=a["scale"], bias=a["bias"], dtype=a["dtype"],
                                                       mode=a["mode"]),
     dict(n=4, kind="deep", activation="softplus", scale=0.1, bias=None, dtype="float64", mode="network")),
    ("ProductNetwork.__call__", lambda **a: dc.product_network(4, scale=0.1)(a["x"], out=a["out"]),
     dict(x=np.full((3, 4), 0.5), out=None)),
    ("multiplication_gate", lambda **a: dc.multiplication_gate(a["u"], a["v"], scale=a["scale"]),
     dict(u=np.array([0.5, 0.2]), v=np.array([0.3, 0.1]), scale=0.01)),
    ("polynomial_network", lambda **a: dc.polynomial_network(a["exponents"], a["coefficients"]),
     dict(exponents=[[2, 0, 1], [0, 1, 1]], coefficients=[1.5, -2.0])),
    ("product_network_neurons", lambda **a: dc.product_network_neurons(a["n"], a["kind"]),
     dict(n=8, kind="shallow")),
    ("MarkovChain", lambda **a: dc.MarkovChain(a["P"]), dict(P=P2)),
    ("MarkovChain.sample", lambda **a: dc.MarkovChain(P2).sample(a["n_chains"], a["n_steps"], init=a["init"],
                                                                 seed=a["seed"], return_path=a["return_path"],
                                                                 out=a["out"]),
     dict(n_chains=5, n_steps=3, init=None, seed=0, return_path=False, out=None)),
    ("MarkovChain.marginal", lambda **a: dc.MarkovChain(P2).marginal(a["t"], a["init"]), dict(t=3, init=None)),
    ("MarkovChain.entropy_rate", lambda **a: dc.MarkovChain(P2).entropy_rate(base=a["base"]), dict(base=2.0)),
    ("HierarchicalChain", lambda **a: dc.HierarchicalChain(a["matrices"], a["p0"]),
     dict(matrices=[P2, np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])], p0=np.array([0.5, 0.5]))),
    ("HierarchicalChain.sample", lambda **a: dc.HierarchicalChain([P2, P2], [0.5, 0.5]).sample(
        a["n"], seed=a["seed"], out=a["out"]), dict(n=4, seed=1, out=None)),
    ("HierarchicalChain.mutual_information", lambda **a: dc.HierarchicalChain([P2, P2], [0.5, 0.5])
     .mutual_information(a["i"], a["j"], base=a["base"]), dict(i=0, j=2, base=2.0)),
    ("info.entropy", lambda **a: info.entropy(a["x"], correction=a["correction"], base=a["base"]),
     dict(x=np.array([0, 1, 1, 2]), correction=None, base=2.0)),
    ("info.mutual_information", lambda **a: info.mutual_information(a["x"], a["y"], correction=a["correction"]),
     dict(x=np.array([0, 1, 1, 0]), y=np.array([1, 1, 0, 0]), correction="miller-madow")),
    ("IsingModel.sampler", lambda **a: dc.IsingModel(a["L"], J=a["J"], h=a["h"]).sampler(
        a["temperature"], replicas=a["replicas"], algorithm=a["algorithm"], seed=a["seed"], init=a["init"],
        kernel=a["kernel"]).sweep(a["n"]),
     dict(L=4, J=1.0, h=0.0, temperature=2.0, replicas=2, algorithm="metropolis", seed=0, init="random",
          kernel="auto", n=1)),
    ("IsingSampler.run", lambda **a: dc.IsingModel(4).sampler(2.0, replicas=2).run(
        a["n_sweeps"], measure_every=a["measure_every"]), dict(n_sweeps=2, measure_every=1)),
    ("IsingSampler.spins", lambda **a: setattr(dc.IsingModel(4).sampler(2.0, replicas=2), "spins", a["value"]),
     dict(value=np.ones((2, 4, 4), dtype=np.int8))),
    ("block_spin", lambda **a: dc.block_spin(a["spins"], a["b"], rule=a["rule"], seed=a["seed"]),
     dict(spins=np.ones((2, 4, 4), dtype=np.int8), b=2, rule="majority", seed=0)),
    ("BoltzmannSampler", lambda **a: dc.BoltzmannSampler(a["n_spins"], a["terms"], temperature=a["temperature"],
                                                         replicas=a["replicas"], seed=a["seed"]).run(1),
     dict(n_spins=3, terms={(0, 1): 1.0, (1, 2): -0.5, 2: 0.1}, temperature=1.5, replicas=2, seed=0)),
    ("ising.exact_energy", lambda **a: ising.exact_energy(a["L"], a["T"]), dict(L=4, T=2.0)),
    ("ising.binder_cumulant", lambda **a: ising.binder_cumulant(a["m"], axis=a["axis"]),
     dict(m=np.array([0.1, -0.2, 0.3]), axis=None)),
    ("Circuit", lambda **a: dc.Circuit(a["ops"], a["in0"], a["in1"], a["outputs"], a["input_widths"],
                                       a["output_widths"]),
     dict(ops=_adder().ops, in0=_adder().in0, in1=_adder().in1, outputs=_adder().outputs,
          input_widths=(4, 4), output_widths=(5,))),
    ("Circuit.from_bristol", lambda **a: dc.Circuit.from_bristol(text=a["text"]), dict(text=HALF_ADDER)),
    ("Circuit.from_bristol(path)", lambda **a: dc.Circuit.from_bristol(a["source"]), dict(source=HALF_ADDER.encode())),
    ("Circuit.from_aiger", lambda **a: dc.Circuit.from_aiger(a["source"], a["input_widths"], a["output_widths"]),
     dict(source=b"aag 3 2 0 1 1\n2\n4\n6\n6 2 4\n", input_widths=None, output_widths=None)),
    ("Circuit.evaluate_packed", lambda **a: _adder().evaluate_packed(
        a["words"], schedule=a["schedule"], threads=a["threads"], out=a["out"], block_words=a["block_words"]),
     dict(words=np.zeros((8, 2), np.uint64), schedule="batch", threads=None, out=None, block_words=None)),
    ("Circuit.evaluate_bits", lambda **a: _adder().evaluate_bits(a["bits"], schedule=a["schedule"]),
     dict(bits=np.zeros((3, 8), bool), schedule="levelized")),
    ("Circuit.evaluate", lambda **a: _adder().evaluate(a["x"], a["y"], threads=a["threads"]),
     dict(x=np.array([1, 2]), y=3, threads=1)),
    ("Circuit.schedule", lambda **a: _adder().schedule(a["p"]), dict(p=2)),
    ("Circuit.to_network", lambda **a: _adder().to_network(a["activation"], a["beta"]),
     dict(activation="heaviside", beta=50.0)),
    ("CircuitBuilder", lambda **a: _build(a["width"], a["op"], a["value"]), dict(width=2, op="and", value=1)),
    ("circuits.parity_tree", lambda **a: circuits.parity_tree(a["n"]), dict(n=8)),
    ("circuits.bitonic_sorter", lambda **a: circuits.bitonic_sorter(a["n"], a["bits"]), dict(n=4, bits=2)),
    ("circuits.chain", lambda **a: circuits.chain(a["circuit"], a["t"], a["feed"]),
     dict(circuit=_build(1, "xor", 0, two_values=True), t=2, feed=None)),
    ("circuits.bristol", lambda **a: circuits.bristol(a["name"]), dict(name="adder64")),
    ("random.philox4x32", lambda **a: dc.random.philox4x32(a["counter"], a["key"]),
     dict(counter=np.zeros((2, 4), np.uint32), key=np.zeros((2, 2), np.uint32))),
    ("set_num_threads", lambda **a: _restore_threads(a["k"]), dict(k=1)),
    ("set_simd_target", lambda **a: _restore_simd(a["name"]), dict(name="scalar")),
]


def _restore_threads(k):
    before = dc.get_num_threads()
    try:
        dc.set_num_threads(k)
    finally:
        dc.set_num_threads(before)


def _restore_simd(name):
    before = dc.simd_target()
    try:
        dc.set_simd_target(name)
    finally:
        dc.set_simd_target(before)


EDGE_INTS = [0, 1, 2, 3, 7, 64, -1, -2, -(2**31), 2**31, 2**32 + 1, 2**62, 2**63, 2**64, -(2**63), 10**30]
EDGE_FLOATS = [0.0, -0.0, 0.5, -0.5, 1.0, 1.5, 1e-320, 1e308, float("nan"), float("inf"), float("-inf")]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.sampled_from(EDGE_INTS), st.sampled_from(EDGE_FLOATS),
    st.sampled_from(["", "x", "deep", "shallow", "batch", "levelized", "auto", "metropolis", "majority",
                     "float32", "int8", "heaviside", "miller-madow", "adder64", "../adder64", "\x00", "ü"]),
    st.sampled_from([b"", b"x", b"\xff\x00", 1j, object(), (), {}, {1: 2}, set(), [1, 2], [[0.5, 0.5], [0.5]],
                     [[0.5, 0.5], [0.5, 0.5]], ["a", "b"], slice(1)]),
    st.sampled_from([np.int64(3), np.uint8(255), np.float32("nan"), np.float64(2.0), np.bool_(True),
                     np.int8(-1), np.complex64(1)]),
)
DTYPES = st.sampled_from([np.bool_, np.int8, np.uint8, np.int32, np.int64, np.uint32, np.uint64, np.float16,
                          np.float32, np.float64, np.complex128])
ARRAYS = DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                                    max_side=5)))
STRANGE_ARRAYS = st.sampled_from([
    np.empty((0, 0)), np.zeros((2, 3, 0)), np.array(["a", "b"]), np.array([object(), 1], dtype=object),
    np.ones((4, 4))[:, ::2], np.ones((3, 8), dtype=np.uint64).T, np.broadcast_to(np.float64(0.5), (3, 4)),
    np.array([[0.5, 0.5], [0.5, 0.5]], dtype=">f8"), np.ones((2, 4, 4), dtype=np.int8) * 3,
])
VALUES = st.one_of(SCALARS, ARRAYS, STRANGE_ARRAYS)
# A path that names no file is refused as Python refuses it everywhere (FileNotFoundError).
ACCEPTED = (TypeError, ValueError, FileNotFoundError, IsADirectoryError)


def call_checked(fn, kwargs):
    """Run fn(**kwargs); a result or a clean rejection passes, anything else is re-raised."""
    try:
        fn(**kwargs)
    except ACCEPTED as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
    except MemoryError as exc:  # only the up-front check, which names the size it would need
        assert "would need" in str(exc), f"MemoryError that was not refused up front: {exc}"
    except (RuntimeWarning, FloatingPointError, OverflowError) as exc:
        # numpy warnings are errors in this suite; an overflow inside numpy on absurd input is not a
        # crash but is still a defect of validation: report it
        raise AssertionError(f"{type(exc).__name__} escaped validation: {exc}") from exc


@pytest.mark.parametrize("name, fn, valid", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_valid_baseline_runs(name, fn, valid):
    fn(**valid)  # the starting point of every fuzzed call is a call that succeeds


@FUZZ
@given(st.sampled_from(ENTRY_POINTS), st.data())
def test_fuzzed_arguments_are_accepted_or_cleanly_rejected(entry, data):
    name, fn, valid = entry
    kwargs = dict(valid)
    for key in data.draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=2, unique=True)):
        kwargs[key] = data.draw(VALUES, label=key)
    call_checked(fn, kwargs)
