"""deepcheap_native.distributed on a real Dask LocalCluster of 2 worker processes (started once for the
module): every function bit-identical to the local call for at least two chunkings (one that does not
divide the work), a worker killed mid-run, an unreachable scheduler, and bad chunkings."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import circuits

dd = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
from deepcheap_native import distributed  # noqa: E402

# Dask's own housekeeping (closing sockets and processes) may warn; it is not what these tests check.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:distributed"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]



@pytest.fixture(scope="module")
def client():
    cluster = dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                              silence_logs=50)
    c = dd.Client(cluster)
    yield c
    distributed.close_default_client()  # clients made from this cluster's address by get_client
    c.close()
    cluster.close()


@pytest.mark.parametrize("chunk", [256, 333])
def test_markov_chains_as_dask_array(client, chunk):
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(5), size=5)
    chain = dc.MarkovChain(P)
    lazy = distributed.sample_chains(chain, 1000, 40, seed=7, chunks=chunk)
    assert lazy.shape == (1000,) and lazy.numblocks == (-(-1000 // chunk),)
    np.testing.assert_array_equal(distributed.compute(lazy, client=client), chain.sample(1000, 40, seed=7))
    init = rng.integers(0, 5, 1000)
    paths = distributed.sample_chains(chain, 1000, 12, seed=8, init=init, return_path=True, chunks=chunk)
    np.testing.assert_array_equal(distributed.compute(paths, client=client),
                                  chain.sample(1000, 12, seed=8, init=init, return_path=True))


@pytest.mark.parametrize("chunk", [500, 777])
def test_hierarchy_as_dask_array(client, chunk):
    rng = np.random.default_rng(1)
    levels = [rng.dirichlet(np.ones(6), size=3), rng.dirichlet(np.ones(4), size=6)]
    h = dc.HierarchicalChain(levels, np.full(3, 1 / 3))
    lazy = distributed.sample_chains(h, 2000, seed=3, chunks=chunk)
    np.testing.assert_array_equal(distributed.compute(lazy, client=client), h.sample(2000, seed=3))


@pytest.mark.parametrize("chunk", [64, 192])
def test_product_network_over_a_dask_array(client, chunk):
    net = dc.product_network(8)
    x = np.random.default_rng(2).uniform(0.5, 1.0, (1000, 8))
    y = distributed.product_network_map(net, x, chunks=chunk)
    np.testing.assert_array_equal(distributed.compute(y, client=client), net(x))
    with pytest.raises(ValueError, match="chunks must be a multiple of 64 samples"):
        distributed.product_network_map(net, x, chunks=100)


@pytest.mark.parametrize("chunk", [4096, 10_048])
def test_count_output_patterns(client, chunk):
    add = circuits.ripple_carry_adder(8)
    local = add.count_output_patterns()
    got = distributed.count_output_patterns(add, chunks=chunk, client=client)
    for g, l in zip(got, local):
        np.testing.assert_array_equal(g, l)
    part = distributed.count_output_patterns(add, 1001, 40_000, chunks=chunk, client=client)
    for g, l in zip(part, add.count_output_patterns(1001, 40_000)):
        np.testing.assert_array_equal(g, l)
    with pytest.raises(ValueError, match="chunks must be a multiple of 64 inputs"):
        distributed.count_output_patterns(add, chunks=1000, client=client)


def _faulty_adder(n: int, which: int) -> dc.Circuit:
    c = circuits.kogge_stone_adder(n)
    ops = np.array(c.ops)
    ops[np.flatnonzero(ops == dc.circuit.OPS.index("AND"))[which]] = dc.circuit.OPS.index("OR")
    return dc.Circuit(ops, c.in0, c.in1, c.outputs, c.input_widths, c.output_widths)


@pytest.mark.parametrize("chunk", [1024, 4160])
def test_equivalent(client, chunk):
    a, bad = circuits.ripple_carry_adder(8), _faulty_adder(8, 20)
    local = circuits.equivalent(a, bad)
    assert not local
    assert distributed.equivalent(a, bad, chunks=chunk, client=client) == local
    assert distributed.equivalent(a, circuits.sklansky_adder(8), chunks=chunk, client=client) == circuits.equivalent(
        a, circuits.sklansky_adder(8))
    # Random inputs beyond the exhaustive limit.
    a32, bad32 = circuits.ripple_carry_adder(32), _faulty_adder(32, 100)
    local = circuits.equivalent(a32, bad32, exhaustive_bits=16, samples=1 << 16, seed=5)
    assert not local and local.method == "random"
    assert distributed.equivalent(a32, bad32, exhaustive_bits=16, samples=1 << 16, seed=5, chunks=chunk,
                                  client=client) == local


def _scan_reference(row) -> dict:
    """One row recomputed here: one sampler for all replicas, statistics over all (time, replica)."""
    model = dc.IsingModel(int(row.L))
    s = model.sampler(row.T, replicas=int(row.replicas), algorithm=row.algorithm, seed=int(row.seed))
    s.sweep(int(row.thermalize))
    r = s.run(int(row.sweeps), measure_every=int(row.measure_every))
    N = row.L**2
    m2, m4 = r.m2.mean(), r.m4.mean()
    return {"abs_m": r.abs_m.mean(), "e": r.e.mean(), "U4": 1 - m4 / (3 * m2**2),
            "chi": N * m2 / row.T, "chi_connected": N * (m2 - r.abs_m.mean() ** 2) / row.T, "C": N * ((r.e**2).mean() - r.e.mean() ** 2) / row.T**2,
            "abs_m_err": r.abs_m.mean(axis=0).std(ddof=1) / np.sqrt(r.abs_m.shape[1])}


def test_ising_scan(client):
    kw = dict(L=[8, 12], T=[2.0, 2.6], algorithm=["metropolis", "heatbath", "wolff", "swendsen-wang"],
              replicas=64, sweeps=40, seed=11)
    table = distributed.ising_scan(**kw, client=client)
    assert list(table.columns[:8]) == ["L", "T", "algorithm", "replicas", "sweeps", "thermalize", "measure_every", "seed"]
    assert len(table) == 16
    pd.testing.assert_frame_equal(table, distributed.ising_scan(**kw, client="sync"), check_exact=True)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(table, distributed.ising_scan(**kw, client=pool), check_exact=True)
    for row in table.itertuples():
        ref = _scan_reference(row)
        for key, value in ref.items():
            assert getattr(row, key) == pytest.approx(value, rel=1e-10, abs=1e-12), key
    # Physics sanity (short runs from random spins): more order at T = 2 than at 2.6; errors positive.
    assert table[table["T"] == 2.0]["abs_m"].mean() > table[table["T"] == 2.6]["abs_m"].mean() + 0.2
    assert (table[["abs_m_err", "e_err", "U4_err", "chi_err", "chi_connected_err", "C_err"]] > 0).all().all()


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "wolff"])
def test_ising_scan_replica_chunks(client, algorithm):
    kw = dict(L=8, T=2.3, algorithm=algorithm, replicas=192, sweeps=30, seed=4)
    whole = distributed.ising_scan(**kw, client="sync")
    for piece in (64, 128):
        pd.testing.assert_frame_equal(distributed.ising_scan(**kw, replica_chunk=piece, client=client), whole,
                                      check_exact=True)


def test_ising_scan_bad_chunk():
    with pytest.raises(ValueError, match="replica_chunk must be a multiple of 64"):
        distributed.ising_scan(8, 2.0, replicas=128, sweeps=10, replica_chunk=100, client="sync")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        distributed.ising_scan(8, 2.0, algorithm="glauber", client="sync")
    with pytest.raises(ValueError, match="temperatures must be finite"):
        distributed.ising_scan(8, [2.0, -1.0], client="sync")


def test_worker_killed_mid_run(client):
    # 22 inputs, 22 outputs (sparse counting): 4 tasks of 2^20 inputs, each a few tenths of a second.
    mult = circuits.array_multiplier(11)
    count = 1 << 22
    local = mult.count_output_patterns(0, count)
    result = {}

    def job():
        result["value"] = distributed.count_output_patterns(mult, 0, count, chunks=1 << 20, client=client)

    worker_pids = client.run(os.getpid)
    t = threading.Thread(target=job)
    t.start()
    # Wait until the job is running on the cluster, then kill one worker process outright.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(client.processing().values()):
        time.sleep(0.005)
    was_running = t.is_alive()
    os.kill(next(iter(worker_pids.values())), signal.SIGKILL)
    t.join(120)
    assert was_running and not t.is_alive()
    for g, l in zip(result["value"], local):
        np.testing.assert_array_equal(g, l)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_shipped_circuit_survives_the_loss_of_its_worker(client):
    # Dask's Active Memory Manager keeps one copy of scattered data even when it was broadcast (within
    # its 2 s interval), and scattered data cannot be recomputed: a circuit shipped that way was lost
    # with the worker holding it, and the call failed (seen once in CI). Shipped as a task, it is run
    # again elsewhere.
    from deepcheap_native.core.scaleout import Engine

    mult = circuits.array_multiplier(6)
    shipped = Engine(client, local=False).scatter(mult)
    assert client.submit(lambda c: c.n_inputs, shipped, pure=False).result(timeout=60) == mult.n_inputs
    time.sleep(3)  # past the memory manager's interval
    holders = client.who_has(shipped)[shipped.key]
    assert holders, "the shipped circuit is on no worker"
    pids = client.run(os.getpid, workers=list(holders))
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    n = client.submit(lambda c: c.count_output_patterns(0, 1 << 12)[0].sum(), shipped, pure=False).result(timeout=120)
    assert n == mult.count_output_patterns(0, 1 << 12)[0].sum()
    client.wait_for_workers(2, timeout=60)  # the nannies restart the killed workers


def test_unreachable_scheduler_fails_fast():
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match=r"could not reach a Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        distributed.get_client("tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - t0 < 15
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        distributed.get_client("tcp://127.0.0.1:9", timeout=0)


def test_bad_client_and_arguments():
    with pytest.raises(TypeError, match="client must be None, 'sync', a scheduler address"):
        distributed.count_output_patterns(circuits.parity_tree(4), client=42)
    with pytest.raises(TypeError, match="circuit must be a Circuit"):
        distributed.count_output_patterns("adder", client="sync")
    with pytest.raises(TypeError, match="chain must be a MarkovChain"):
        distributed.sample_chains(np.eye(2), 10, 5)
    with pytest.raises(TypeError, match="n_steps is required"):
        distributed.sample_chains(dc.MarkovChain(np.eye(2)), 10)


def test_report_binder_step_on_a_scheduler(client):
    pytest.importorskip("matplotlib")
    from deepcheap_native.report import ising as report_ising
    from deepcheap_native.report.context import Context, Section

    p = dict(report_ising.PRESETS["tiny"], binder_L=[8, 12], binder_dT=[0.0, 0.1], binder_therm=40,
             binder_measure=60)
    numbers = []
    for scheduler in (None, client.scheduler.address):
        ctx = Context(preset="tiny", seed=3, threads=1, progress=False, scheduler=scheduler)
        section = Section("ising", "Ising", "")
        report_ising._binder(ctx, section, p)
        numbers.append(section.numbers["binder"])
    assert numbers[0] == numbers[1]
    assert len(numbers[0]["curves"]) == 2


def test_report_critical_section_on_a_scheduler(client):
    # The critical section's heavy steps (the finite-size scan's (L, replica block) pieces and the tau_int
    # runs) go to the cluster with --scheduler; every number but the timings is the local run's.
    pytest.importorskip("matplotlib")
    from deepcheap_native.report import critical
    from deepcheap_native.report.context import Context, Section

    p = dict(critical.PRESETS["tiny"], fss_replicas=4, fss_blocks=4, fss_sweeps=[150, 150], fss_therm=20,
             tau_sweeps={"metropolis": [300, 300], "wolff": [150, 150], "swendsen-wang": [150, 150]},
             tau_replicas={"metropolis": 64, "wolff": 2, "swendsen-wang": 2})
    numbers = []
    for scheduler in (None, client.scheduler.address):
        ctx = Context(preset="tiny", seed=5, threads=1, progress=False, scheduler=scheduler)
        section = Section("critical", "Critical", "")
        with dd.get_task_stream(client) as stream:
            critical.run(ctx, section, p)
        tasks = [t["key"] for t in stream.data]
        if scheduler is None:
            assert tasks == []
        else:  # 2 sizes x 4 replica blocks, and 3 algorithms x 2 sizes
            assert sum("_scan_job" in str(k) for k in tasks) == 8 and sum("_tau_run" in str(k) for k in tasks) == 6
        assert [s.error for s in section.steps] == [None, None]
        n = section.numbers
        del n["fss"]["seconds"]
        for rows in n["dynamics"].values():
            for row in rows:
                del row["cpu_per_sweep"], row["cpu_per_sample"]
        numbers.append(json.dumps(n, sort_keys=True, default=repr))  # NaN compares equal as text
    assert numbers[0] == numbers[1]
    assert '"sizes": [8, 16]' in numbers[0] and numbers[0].count('"tau":') == 6


def test_report_width_law_on_a_scheduler(client):
    """--scheduler sends every width-law training job to the cluster: the same numbers as locally."""
    pytest.importorskip("torch")
    from deepcheap_native.report import product as report_product
    from deepcheap_native.report.context import Context, Section

    p = dict(report_product.PRESETS["tiny"], width_n=[2], width_steps=8, width_samples=64)
    runs = []
    for scheduler in (None, client.scheduler.address):
        ctx = Context(preset="tiny", seed=5, threads=1, progress=False, scheduler=scheduler)
        section = Section("product", "Product", "")
        report_product._no_flattening(ctx, section, p)
        runs.append(section.numbers["width_law"]["runs"])
    assert len(runs[0]) >= 4 and runs[0] == runs[1]


def test_report_cli_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    from deepcheap_native import cli
    from deepcheap_native.core import scaleout

    monkeypatch.setattr(scaleout, "DEFAULT_CONNECT_TIMEOUT", 2.0)
    t0 = time.monotonic()
    status = cli.main(["report", "--tiny", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9", "--no-progress"])
    assert status == 1 and time.monotonic() - t0 < 20
    assert "could not reach a Dask scheduler at 'tcp://127.0.0.1:9' within 2 s" in capsys.readouterr().err


def test_arrays_and_networks_unpickled_on_workers_are_accepted():
    # Unpickled arrays and networks carry fresh dtype objects; the bindings compare dtypes by value.
    import pickle

    net = pickle.loads(pickle.dumps(dc.product_network(8)))
    x = pickle.loads(pickle.dumps(np.random.default_rng(0).uniform(0.5, 1, (100, 8))))
    np.testing.assert_array_equal(net(x), dc.product_network(8)(x))
    states = pickle.loads(pickle.dumps(np.array([0, 1, 1, 2, 2, 2], np.uint8)))
    assert dc.info.entropy(states, base=2).value == pytest.approx(1.4591479170272448)


def test_chunks_as_dask_takes_them_and_chunk_deprecated(client):
    """Issue 21 (small defects): Dask users write chunks= (an int or a tuple of sizes)."""
    chain = dc.MarkovChain(np.array([[0.9, 0.1], [0.3, 0.7]]))
    whole = chain.sample(1000, 20, seed=4)
    for chunks in (300, (100, 400, 500), ((100, 900),)):
        lazy = distributed.sample_chains(chain, 1000, 20, seed=4, chunks=chunks)
        np.testing.assert_array_equal(distributed.compute(lazy, client=client), whole)
    assert distributed.sample_chains(chain, 1000, 20, seed=4, chunks=(100, 400, 500)).chunks == ((100, 400, 500),)
    with pytest.warns(DeprecationWarning, match=r"sample_chains\(chunk=...\) is deprecated; use chunks="):
        old = distributed.sample_chains(chain, 1000, 20, seed=4, chunk=300)
    np.testing.assert_array_equal(distributed.compute(old, client=client), whole)
    with pytest.raises(ValueError, match="chunks must sum to the 1000 chains"):
        distributed.sample_chains(chain, 1000, 20, seed=4, chunks=(100, 200))
    with pytest.raises(TypeError, match="both chunks= and the deprecated chunk="):
        distributed.sample_chains(chain, 1000, 20, seed=4, chunks=100, chunk=100)
    net = dc.product_network(8)
    x = np.random.default_rng(2).uniform(0.5, 1.0, (1000, 8))
    y = distributed.product_network_map(net, x, chunks=(128, 640, 232))
    np.testing.assert_array_equal(distributed.compute(y, client=client), net(x))
    with pytest.raises(ValueError, match="multiples of 64 samples"):
        distributed.product_network_map(net, x, chunks=(100, 900))
    a, b = circuits.ripple_carry_adder(8), circuits.kogge_stone_adder(8)
    assert distributed.equivalent(a, b, chunks=(1024, 1024, 2 ** 16 - 2048), client=client).proved
