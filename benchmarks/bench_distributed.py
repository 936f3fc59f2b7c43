"""Scale-out costs of deepcheap_native.distributed on a local Dask cluster: overhead per task, and the
1 -> 2 worker scaling efficiency t1 / (2 t2) for Markov sampling (N = 10^7 chains) and an Ising scan,
each with tasks of about a second or more.

    python benchmarks/bench_distributed.py            # the table of the docs (median of 3)
    python -m pytest benchmarks/bench_distributed.py --benchmark-enable

Every run checks its answer against the local call (pieces of it, for the 10^7-chain job).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest

import deepcheap_native as dc

dd = pytest.importorskip("distributed")
from deepcheap_native import distributed  # noqa: E402
from deepcheap_native.testing.timing import timed  # noqa: E402

MARKOV = dict(n_chains=10_000_000, n_steps=500, chunk=2_500_000, seed=1)  # 4 tasks of 1.25·10^9 transitions (≥ 1 s each)
ISING = dict(L=64, T=[2.0, 2.2, 2.27, 2.4], replicas=64, sweeps=6000, thermalize=1000, seed=2)  # 4 rows
N_NOOP = 200


def _noop(i: int) -> int:
    return i


def _markov_chain() -> dc.MarkovChain:
    return dc.MarkovChain(np.random.default_rng(0).dirichlet(np.ones(16), size=16))


def run_markov(client) -> np.ndarray:
    lazy = distributed.sample_chains(_markov_chain(), MARKOV["n_chains"], MARKOV["n_steps"], seed=MARKOV["seed"],
                                     chunks=MARKOV["chunk"])
    return distributed.compute(lazy, client=client)


def check_markov(result: np.ndarray) -> None:
    """The first chains and a piece of the second task, recomputed locally with first=."""
    chain, k, steps, seed = _markov_chain(), MARKOV["chunk"], MARKOV["n_steps"], MARKOV["seed"]
    assert result.shape == (MARKOV["n_chains"],)
    np.testing.assert_array_equal(result[:1000], chain.sample(1000, steps, seed=seed))
    np.testing.assert_array_equal(result[k + 5 : k + 1005], chain.sample(1000, steps, seed=seed, first=k + 5))


def run_ising(client):
    return distributed.ising_scan(**ISING, client=client)


def run_noop(client) -> list:
    return client.gather(client.map(_noop, range(N_NOOP), pure=False))


def _cluster(n_workers: int):
    cluster = dd.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                              silence_logs=50)
    return cluster, dd.Client(cluster)


@pytest.fixture(scope="module", params=[1, 2], ids=["1worker", "2workers"])
def client(request):
    cluster, c = _cluster(request.param)
    c.run(dc.set_num_threads, 1)
    yield c
    c.close()
    cluster.close()


@pytest.mark.benchmark(group="distributed-overhead")
def test_task_overhead(benchmark, client):
    assert benchmark(run_noop, client) == list(range(N_NOOP))


@pytest.mark.benchmark(group="distributed-overhead")
def test_task_overhead_local_peer(benchmark):
    assert benchmark(lambda: [_noop(i) for i in range(N_NOOP)]) == list(range(N_NOOP))


@pytest.mark.benchmark(group="distributed-markov")
def test_markov_scaling(benchmark, client):
    result = benchmark.pedantic(run_markov, args=(client,), rounds=2, iterations=1)
    check_markov(result)


@pytest.mark.benchmark(group="distributed-ising")
def test_ising_scaling(benchmark, client):
    table = benchmark.pedantic(run_ising, args=(client,), rounds=2, iterations=1)
    assert len(table) == 4 and table["abs_m"].iloc[0] > 0.85


def _median_time(fn, client, rounds: int) -> tuple[float, object]:
    t = timed(lambda: fn(client), repeat=rounds, warmup=False)
    return t.median, t.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dc.set_num_threads(1)
    times: dict[tuple[str, int], float] = {}
    for workers in (1, 2):
        cluster, client = _cluster(workers)
        try:
            client.run(dc.set_num_threads, 1)
            run_noop(client)  # warm: workers import and connect
            t, _ = _median_time(run_noop, client, args.rounds)
            times[("overhead", workers)] = t / N_NOOP
            t, result = _median_time(run_markov, client, args.rounds)
            check_markov(result)
            times[("markov", workers)] = t
            t, table = _median_time(run_ising, client, args.rounds)
            times[("ising", workers)] = t
        finally:
            client.close()
            cluster.close()
    t0 = time.perf_counter()
    _markov_chain().sample(MARKOV["chunk"], MARKOV["n_steps"], seed=MARKOV["seed"])
    local_task = time.perf_counter() - t0
    print(f"overhead per task: {times[('overhead', 1)] * 1e3:.2f} ms (1 worker), {times[('overhead', 2)] * 1e3:.2f} ms (2 workers)")
    print(f"one Markov task run locally (1 thread): {local_task:.2f} s")
    for name in ("markov", "ising"):
        t1, t2 = times[(name, 1)], times[(name, 2)]
        print(f"{name}: 1 worker {t1:.2f} s, 2 workers {t2:.2f} s, speed-up {t1 / t2:.2f}x, efficiency {t1 / (2 * t2):.0%}")


if __name__ == "__main__":
    main()
