"""Hostile and concurrent input (issue 27): checkpoints taken while another thread sweeps, checkpoint files
that were changed, cut or are something else, decompression and header bombs under a memory limit,
requests whose size is checked before anything is allocated, bounded per-call work, and the smaller
items (cluster counters, AIGER symbol tables, DEEPCHEAP_SIMD names, torch spins, long quotes, overflowing
couplings). Every test is fast (a few seconds at most on 2 loaded cores)."""

from __future__ import annotations

import gzip
import lzma
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import census, ising
from deepcheap_native.circuit import Circuit, CircuitBuilder, ParseError
from deepcheap_native.ising.cluster import ClusterSampler

GIB = 2**30


# ---- 1. torn checkpoints ---------------------------------------------------------------------------------

# Lattices large enough that a sweep spends tens of microseconds in native code with the GIL released: that
# is when another thread's state() used to read the counter and then wait for the spins.
SAMPLERS = {
    "ising-int8": lambda: dc.IsingModel(64).sampler(2.3, replicas=3, seed=5),
    "ising-multispin": lambda: dc.IsingModel(32).sampler(2.3, replicas=64, seed=5),
    "boltzmann": lambda: dc.BoltzmannSampler(
        4096, [((i, (i + 1) % 4096), -1.0) for i in range(4096)] + [((0, 7, 9), 0.5)], 1.5, replicas=3, seed=5),
    "wolff": lambda: dc.IsingModel(64).sampler(2.3, algorithm="wolff", replicas=2, seed=5, clusters_per_sweep=8),
    "swendsen-wang": lambda: dc.IsingModel(64).sampler(2.3, algorithm="swendsen-wang", replicas=2, seed=5),
}


def _spins_of(state):
    shape = (state["replicas"], state["n_spins"]) if "n_spins" in state else \
        (state["replicas"], state["L"], state["L"])
    return ising.model._unpack_spins(state["spins"], shape)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_state_is_one_snapshot_while_another_thread_sweeps(kind):
    """Two threads sweep one at a time while this one takes a fixed number of states: each state's spins
    must be those a fresh sampler has after exactly the state's sweeps_done sweeps (before the fix the two
    were read under separate locks and a sweep landed between them)."""
    sampler = SAMPLERS[kind]()
    n_states, max_sweeps = 300, 1500
    stop, started = threading.Event(), threading.Event()

    def sweep():
        for _ in range(max_sweeps):
            if stop.is_set():
                break
            sampler.sweep(1, threads=1)  # one thread: no OpenMP team spinning on a loaded machine
            started.set()

    states = []
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: the window between two reads is small
    # Two sweepers: while state() holds the lock for one read, the other waits inside native code and
    # takes the lock the moment it is free (each sweep(1) is the same next sweep, whichever thread makes it).
    workers = [threading.Thread(target=sweep) for _ in range(2)]
    try:
        for worker in workers:
            worker.start()
        started.wait(30)  # states taken while the others sweep, not before they start
        for _ in range(n_states):
            states.append(sampler.state())
            time.sleep(1e-4)  # let the sweepers in: they are then mostly inside a sweep when the next state comes
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        sys.setswitchinterval(before)
    # References: a fresh sampler at every sweep count a state claims.
    reference, done, torn = SAMPLERS[kind](), 0, []
    for state in sorted(states, key=lambda s: s["sweeps_done"]):
        reference.sweep(state["sweeps_done"] - done, threads=1)
        done = state["sweeps_done"]
        if not np.array_equal(_spins_of(state), np.asarray(reference.spins)):
            torn.append(done)
        if kind in ("wolff",):
            assert np.array_equal(state["clusters_done"], np.full(2, 8 * done, np.uint64))
    assert not torn, f"{len(torn)} of {n_states} states have spins from another sweep count, at {torn[:5]}"
    # And a state resumes as the reference continues.
    last = max(states, key=lambda s: s["sweeps_done"])
    resumed = type(sampler).from_state(last)
    resumed.sweep(3)
    reference.sweep(last["sweeps_done"] - done + 3)
    assert np.array_equal(np.asarray(resumed.spins), np.asarray(reference.spins))


def test_snapshot_is_native_and_matches_the_separate_reads():
    for kind, make in SAMPLERS.items():
        sampler = make().sweep(4)
        parts = sampler._chain.snapshot()
        assert int(parts[0]) == sampler.sweeps_done == 4, kind
        assert np.array_equal(parts[-1], np.asarray(sampler.spins)), kind


# ---- 2. census checkpoints -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def census_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("census") / "n5.npz"
    assert census.threshold_functions(5, batches=4, checkpoint=path) == 94572
    return path


def _rewrite(path, target, *, checksum=True, **changes):
    with np.load(path) as saved:
        arrays = {k: saved[k] for k in saved.files}
    arrays.update(changes)
    if checksum:
        arrays["checksum"] = np.str_(census.threshold._checkpoint_digest(int(arrays["n"]), arrays["pieces"],
                                                              int(arrays["next_piece"]), arrays["canonical"]))
    np.savez(target, **arrays)
    return target


def test_census_checkpoint_resumes_and_carries_its_claims(census_checkpoint):
    with np.load(census_checkpoint) as saved:
        assert int(saved["format"]) == census.CHECKPOINT_FORMAT
        assert int(saved["n"]) == 5 and saved["pieces"].shape == (4, 2) and int(saved["next_piece"]) == 4
        assert len(str(saved["checksum"])) == 64
    assert census.threshold_functions(5, batches=4, checkpoint=census_checkpoint) == 94572


def test_census_checkpoint_that_was_changed_is_refused(census_checkpoint, tmp_path):
    with np.load(census_checkpoint) as saved:
        canonical = saved["canonical"]
    target = tmp_path / "bad.npz"
    cases = {
        "checksum": dict(canonical=canonical[: len(canonical) // 2], checksum=False),  # halved, old checksum
        "sorted and distinct": dict(canonical=canonical[::-1].copy()),
        "dtype float64": dict(canonical=canonical.astype(np.float64)),
        "wider than": dict(canonical=canonical | np.uint64(1 << 40)),
        "next_piece -3": dict(next_piece=np.int64(-3)),
        "next_piece 99": dict(next_piece=np.int64(99)),
        "format 1": dict(format=np.int64(1)),
    }
    for message, change in cases.items():
        checksum = change.pop("checksum", True)
        if message == "dtype float64":  # a digest cannot be taken of floats as uint64: keep the old one
            checksum = False
        _rewrite(census_checkpoint, target, checksum=checksum, **change)
        with pytest.raises(ValueError, match=message.split()[0]) as info:
            census.threshold_functions(5, batches=4, checkpoint=target)
        assert "bad.npz" in str(info.value), message
    # An empty table after finished batches is refused even with a recomputed checksum (it counted 0).
    _rewrite(census_checkpoint, target, canonical=np.zeros((0, 2), np.uint64))
    with pytest.raises(ValueError, match="no canonical tables"):
        census.threshold_functions(5, batches=4, checkpoint=target)


def test_census_checkpoint_truncated_foreign_or_pickled_is_a_clear_error(census_checkpoint, tmp_path):
    data = census_checkpoint.read_bytes()
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(data[: len(data) // 2])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.arange(3))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=2, n=5, pieces=np.zeros((4, 2), np.int64), next_piece=0,
             canonical=np.array([{"a": 1}], dtype=object), checksum="0" * 64)
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.arange(4))
    text = tmp_path / "text.npz"
    text.write_text("not a checkpoint\n")
    for path in (truncated, foreign, pickled, single, text):
        with pytest.raises(ValueError) as info:
            census.threshold_functions(5, batches=4, checkpoint=path)
        assert path.name in str(info.value) and "checkpoint" in str(info.value)


def test_sampler_states_are_validated():
    state = dc.IsingModel(8).sampler(2.0, replicas=2).state()
    bad = dict(state, spins=state["spins"][:1])
    with pytest.raises(ValueError, match="spins"):
        dc.IsingSampler.from_state(bad)
    with pytest.raises(ValueError, match="sweeps_done"):
        dc.IsingSampler.from_state(dict(state, sweeps_done=2**33))
    with pytest.raises(ValueError, match="torch"):
        dc.IsingSampler.from_state(dict(state, torch="yes"))
    with pytest.raises(TypeError):
        dc.IsingSampler.from_state([state])


# ---- 3./4. bombs, in a subprocess with a memory limit ----------------------------------------------------

def _run_limited(code: str, *, address_space: int = 3 * GIB, memory_limit: int | None = GIB,
                 timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter whose address space is capped (RLIMIT_AS) and, optionally,
    with DEEPCHEAP_MEMORY_LIMIT; returns its stdout (the test fails on a non-zero exit)."""
    prelude = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({address_space}, {address_space}))
    """)
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        # Under AddressSanitizer (.ci/sanitize-tests) the shadow memory needs terabytes of address space,
        # so no RLIMIT_AS: the DEEPCHEAP_MEMORY_LIMIT budget still has to refuse the bomb before it allocates.
        prelude = ""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("DEEPCHEAP_MEMORY_LIMIT", None)
    if memory_limit is not None:
        env["DEEPCHEAP_MEMORY_LIMIT"] = str(memory_limit)
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _bomb(kind: str, expanded: int) -> bytes:
    """A valid gzip or xz file expanding to ``expanded`` bytes of spaces: one small member repeated."""
    member = (gzip.compress if kind == "gz" else lzma.compress)(b" " * 2**20)
    return member * (expanded // 2**20)


def test_decompression_bombs_stop_at_the_cap(tmp_path):
    for kind in ("gz", "xz"):
        (tmp_path / f"b.{kind}").write_bytes(_bomb(kind, 8 * GIB))  # 8 GiB from a few MB
    out = _run_limited(f"""
        from deepcheap_native import Circuit, ParseError
        for name in ("b.gz", "b.xz"):
            path = {str(tmp_path)!r} + "/" + name
            for call in (lambda: Circuit.from_bristol(path), lambda: Circuit.from_aiger(path),
                         lambda: Circuit.from_bristol(open(path, "rb").read()),
                         lambda: Circuit.from_bristol(path, max_bytes=10**6)):
                try:
                    call()
                except ParseError as e:
                    assert "max_bytes=" in str(e), e
                    print("capped")
    """, address_space=2 * GIB, memory_limit=256 * 2**20)
    assert out.split() == ["capped"] * 8


def test_special_files_are_refused_unless_asked():
    with pytest.raises(ValueError, match="not a regular file"):
        Circuit.from_bristol("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        Circuit.from_aiger("/dev/zero")
    with pytest.raises(ParseError, match="max_bytes=1,000"):
        Circuit.from_bristol("/dev/zero", special_files=True, max_bytes=1000)
    with open("/dev/zero", "rb") as f:  # an open file that never ends stops at the cap too
        with pytest.raises(ParseError, match="max_bytes=4,096"):
            Circuit.from_bristol(f, max_bytes=4096)
    with pytest.raises(ValueError, match="max_bytes"):
        Circuit.from_bristol(text=b"", max_bytes=0)
    # A plain file over the cap, and one under it.
    adder = Circuit.from_bristol(text="1 3\n2 1 1\n1 1\n2 1 0 1 2 XOR\n")
    assert adder.n_gates == 1
    with pytest.raises(ParseError, match="max_bytes=10"):
        Circuit.from_bristol(text=gzip.compress(b"1 3\n2 1 1\n1 1\n2 1 0 1 2 XOR\n"), max_bytes=10)


def test_header_bombs_are_parse_errors_before_allocating(tmp_path):
    (tmp_path / "b.txt").write_text("1 268435456\n1 268435455\n1 1\n2 1 0 1 268435455 XOR\n")  # 51 bytes
    (tmp_path / "a.aig").write_text("aig 268435455 268435455 0 0 0\n")  # 30 bytes
    (tmp_path / "o.aig").write_text("aig 268435455 0 0 1 268435455\n2\n")
    out = _run_limited(f"""
        from deepcheap_native import Circuit, ParseError
        for name, read in (("b.txt", Circuit.from_bristol), ("a.aig", Circuit.from_aiger),
                           ("o.aig", Circuit.from_aiger)):
            try:
                read({str(tmp_path)!r} + "/" + name)
            except ParseError as e:
                assert "268435455" in str(e) or "268435456" in str(e), e
                assert "bytes" in str(e), e
                print(name)
    """, address_space=2 * GIB, memory_limit=GIB)
    assert out.split() == ["b.txt", "a.aig", "o.aig"], out
    # The same header in a file that really has the gates parses (small counts).
    assert Circuit.from_bristol(text="1 4\n1 3\n1 1\n2 1 0 1 3 XOR\n").n_inputs == 3


# ---- 5. the up-front size check ---------------------------------------------------------------------------

def test_requests_that_cannot_fit_are_refused_first(monkeypatch):
    monkeypatch.setenv("DEEPCHEAP_MEMORY_LIMIT", str(GIB))
    net = dc.product_network(2)
    with pytest.raises(MemoryError, match="would need .*more than the 1 GiB"):
        net(np.broadcast_to(0.7, (10**8, 2)))
    shallow = dc.product_network(3, kind="shallow")
    with pytest.raises(MemoryError, match="would need"):
        shallow(np.broadcast_to(np.float32(0.7), (10**8, 3)))
    with pytest.raises(MemoryError, match="would need"):
        dc.random.philox4x32(np.broadcast_to(np.uint32(1), (10**8, 4)), np.zeros(2, np.uint32))
    sampler = dc.IsingModel(4).sampler(2.0)
    with pytest.raises(MemoryError, match="would need"):
        sampler.run(2 * 10**6)
    assert sampler.sweeps_done == 0  # refused before sweeping
    cluster = dc.IsingModel(4).sampler(2.0, algorithm="swendsen-wang")
    with pytest.raises(MemoryError, match="would need"):
        cluster.run(10**7)
    assert cluster.sweeps_done == 0
    boltzmann = dc.BoltzmannSampler(4, [((0, 1), 1.0)], 1.0, replicas=64)
    with pytest.raises(MemoryError, match="would need"):
        boltzmann.run(10**7)
    with pytest.raises(MemoryError, match="would need"):
        CircuitBuilder().inputs(10**8)
    with pytest.raises(ValueError, match="width"):
        CircuitBuilder().inputs(10**12)
    with pytest.raises(MemoryError, match="would need"):
        ising.exact_energy(10**9, 2.0)
    with pytest.raises(MemoryError, match="would need"):
        dc.info.entropy(np.broadcast_to(np.int64(1), (10**11,)))
    with pytest.raises(MemoryError, match="would need"):
        dc.info.mutual_information(np.broadcast_to(np.int8(1), (10**10,)), np.broadcast_to(np.int8(0), (10**10,)))
    # Small requests still run under the same limit.
    assert net(np.broadcast_to(0.5, (4, 2))).shape == (4,)
    assert dc.info.entropy(np.broadcast_to(np.int64(1), (10,))).value == 0.0
    assert -2.0 < ising.exact_energy(16, 2.0) < -1.0


# ---- 6./7. bounded work and cluster counters ----------------------------------------------------------------

def test_clusters_per_sweep_is_bounded_by_the_lattice():
    model = dc.IsingModel(8)
    with pytest.raises(ValueError, match="clusters_per_sweep"):
        model.sampler(2.27, algorithm="wolff", replicas=1, clusters_per_sweep=10**12)
    assert model.sampler(2.27, algorithm="wolff", replicas=1, clusters_per_sweep=64).clusters_per_sweep == 64
    with pytest.raises(ValueError, match="clusters_per_sweep"):
        model.sampler(2.27, algorithm="wolff", replicas=1, clusters_per_sweep=65)
    state = model.sampler(2.27, algorithm="wolff", replicas=1).state()
    with pytest.raises(ValueError, match="clusters_per_sweep"):
        ClusterSampler.from_state(dict(state, clusters_per_sweep=10**12))
    with pytest.raises(ValueError, match="clusters_per_sweep"):  # the native check, under the Python one
        dc._core.IsingClusterChain(8, 1.0, 2.0, 1, 0, 0, 0, 0, 65)


def test_cluster_counters_stay_in_the_streams_range():
    for algorithm in ("wolff", "swendsen-wang"):
        state = dc.IsingModel(8).sampler(2.27, algorithm=algorithm, replicas=2).state()
        for bad in (2**56 + 1, 2**64 - 2):
            with pytest.raises(ValueError, match="sweeps_done"):
                ClusterSampler.from_state(dict(state, sweeps_done=bad))
        for clusters in (np.array([-1, 0]), np.array([0, 2**56 + 1], np.uint64), np.array([2**63, 0], np.uint64)):
            with pytest.raises(ValueError, match="clusters_done"):
                ClusterSampler.from_state(dict(state, clusters_done=clusters))
        near = ClusterSampler.from_state(dict(state, sweeps_done=2**56 - 2))
        near.sweep(2)  # up to the end of the range
        assert near.sweeps_done == 2**56
        with pytest.raises(ValueError, match="2\\^56"):
            near.sweep(1)
        with pytest.raises(ValueError, match="2\\^56"):
            near.run(1)
    wolff = dc.IsingModel(8).sampler(2.27, algorithm="wolff", replicas=2, clusters_per_sweep=4).state()
    full = ClusterSampler.from_state(dict(wolff, clusters_done=np.array([2**56 - 4, 0], np.uint64)))
    full.sweep(1)
    with pytest.raises(ValueError, match="2\\^56 clusters"):
        full.sweep(1)
    with pytest.raises(ValueError, match="2\\^56"):
        full._chain.set_counters(0, np.array([2**56 + 1, 0], np.uint64))


# ---- 8. AIGER symbol tables ---------------------------------------------------------------------------------

def test_truncated_aiger_symbol_table_is_a_parse_error(tmp_path):
    b = CircuitBuilder()
    x, y = b.inputs(3), b.inputs(2)
    b.outputs([b.xor(x[0], y[0])])
    path = tmp_path / "c.aag"
    b.build().to_aiger(path)
    data = path.read_bytes()
    assert Circuit.from_aiger(path).input_widths == (3, 2)
    symbols = data.index(b"\ni")  # the symbol table starts at the first input symbol
    last_input = data.rindex(b"\ni") + 1
    for cut in (last_input + 4, symbols + 3):  # inside a symbol line
        with pytest.raises(ParseError, match="symbol table"):
            Circuit.from_aiger(text=data[:cut])


# ---- 9. DEEPCHEAP_SIMD ----------------------------------------------------------------------------------------

def test_simd_environment_names_are_case_insensitive_and_unknown_ones_warn():
    code = ("import warnings\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    import deepcheap_native as dc\n"
            "w = [x for x in w if 'DEEPCHEAP_SIMD' in str(x.message)]\n"
            "print(dc.simd_target(), len(w), w[0].message if w else '')")
    best = dc.simd_targets()[-1]
    results = {}
    for value in ("SCALAR", "Avx2", "bogus", "sse"):
        env = dict(os.environ, DEEPCHEAP_SIMD=value)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        results[value] = done.stdout.split(maxsplit=2)
    assert results["SCALAR"][:2] == ["scalar", "0"]
    if "avx2" in dc.simd_targets():
        assert results["Avx2"][:2] == ["avx2", "0"]
    for value in ("bogus", "sse"):
        assert results[value][:2] == [best, "1"] and "DEEPCHEAP_SIMD" in results[value][2]
    before = dc.simd_target()
    try:
        dc.set_simd_target("SCALAR")
        assert dc.simd_target() == "scalar"
    finally:
        dc.set_simd_target(before)


# ---- 10. torch spins, long quotes, overflowing couplings --------------------------------------------------------

def test_torch_spins_survive_pickle_and_from_state():
    torch = pytest.importorskip("torch")
    init = torch.ones((2, 8, 8), dtype=torch.int8)
    sampler = dc.IsingModel(8).sampler(2.0, replicas=2, init=init).sweep(2)
    for copy in (pickle.loads(pickle.dumps(sampler)), dc.IsingSampler.from_state(sampler.state())):
        assert isinstance(copy.spins, torch.Tensor) and isinstance(copy.magnetization(), torch.Tensor)
        assert torch.equal(copy.spins, sampler.spins)
    boltzmann = dc.BoltzmannSampler(3, [((0, 1), 1.0)], 1.0, replicas=2)
    boltzmann.spins = torch.ones((2, 3), dtype=torch.int8)
    assert isinstance(pickle.loads(pickle.dumps(boltzmann)).spins, torch.Tensor)
    # A numpy sampler stays numpy, and states made before the key load as numpy.
    plain = dc.IsingModel(8).sampler(2.0, replicas=2)
    assert isinstance(pickle.loads(pickle.dumps(plain)).spins, np.ndarray)
    old = {k: v for k, v in plain.state().items() if k != "torch"}
    assert isinstance(dc.IsingSampler.from_state(old).spins, np.ndarray)


def test_parse_error_quotes_are_cut():
    token = "X" * 10**6
    for text in (f"1 3\n2 1 1\n1 1\n2 1 0 1 2 {token}\n", f"{token} 3\n2 1 1\n1 1\n",
                 f"1 3\n2 1 1\n1 1\n1 1 {token} 2 EQ\n"):
        with pytest.raises(ParseError) as info:
            Circuit.from_bristol(text=text)
        assert len(str(info.value)) < 400 and "1000000 bytes" in str(info.value)
    with pytest.raises(ParseError) as info:
        Circuit.from_aiger(text=token + " 1 1 0 1 0\n")
    assert len(str(info.value)) < 400


def test_couplings_whose_energies_overflow_are_refused():
    with pytest.raises(ValueError, match="overflow"):
        dc.IsingModel(8, J=1e308)
    with pytest.raises(ValueError, match="overflow"):
        dc.IsingModel(8, h=-1e308)
    model = dc.IsingModel(8, J=1e300)  # large but finite energies still work
    assert np.isfinite(model.sampler(1.0, replicas=1).energy()).all()
