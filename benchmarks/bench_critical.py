"""Critical slowing down: CPU time per independent sample at T_c, multi-spin Metropolis against the
Wolff and Swendsen-Wang cluster samplers, and the dynamic exponents z from tau_int of |m|.

    pytest benchmarks/bench_critical.py --benchmark-enable     # time per sweep per replica, grouped by L
    python benchmarks/bench_critical.py [--threads 1] [--max-L 256]   # the docs table: tau, z, ratios

A sweep of Metropolis updates every spin once (multi-spin coding, 64 replicas per word); a Swendsen-Wang
sweep updates every bond; a Wolff sweep is about L^2 / <|C|> single clusters. The cost of an
independent sample is 2 tau_int sweeps times the CPU time of a sweep per replica (process CPU time,
so other jobs on the machine do not inflate it). Every benchmark checks its answer (energy per spin
at T_c in a physical range, cluster samplers against the exact finite-torus value within 5 sigma in
main()).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import ising

SMALL = os.environ.get("DEEPCHEAP_BENCH_SIZE") == "small"  # CI runs each benchmark once, small (conftest.py)
TC = ising.CRITICAL_TEMPERATURE
REPLICAS = {"metropolis": 64, "wolff": 16, "swendsen-wang": 16}
ALGORITHMS = tuple(REPLICAS)


def sampler(algorithm: str, L: int, seed: int = 1):
    s = dc.IsingModel(L).sampler(TC, replicas=REPLICAS[algorithm], algorithm=algorithm, seed=seed, init="up")
    return s


@pytest.mark.parametrize("L", [32, 64] if SMALL else [64, 128, 256])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sweep_at_tc(benchmark, algorithm, L):
    """Time of one sweep of all replicas; divide by the replicas for the cost per replica."""
    benchmark.group = f"critical sweep, L={L} (per round: one sweep of every replica)"
    s = sampler(algorithm, L)
    s.sweep(20)
    benchmark(s.sweep, 1)
    e = s.energy()
    assert np.all((e > -1.7) & (e < -1.1)), e  # exact torus value near -1.41 at T_c


def measure(algorithm: str, L: int, n_sweeps: int, seed: int = 1) -> dict[str, float]:
    """tau_int of |m| (in sweeps) and CPU seconds per sweep per replica at T_c."""
    s = sampler(algorithm, L, seed)
    s.sweep(max(n_sweeps // 10, 50))
    cpu = time.process_time()
    series = s.run(n_sweeps)
    cpu = time.process_time() - cpu
    t = ising.autocorrelation_time(series.abs_m)
    per_sweep = cpu / (n_sweeps * REPLICAS[algorithm])
    mean_e = series.e.mean(0)
    z_energy = abs(mean_e.mean() - ising.exact_energy(L, TC)) / (mean_e.std(ddof=1) / math.sqrt(mean_e.size))
    return {"tau": t.tau, "tau_error": t.error, "converged": t.converged, "cpu_per_sweep": per_sweep,
            "cpu_per_sample": 2 * t.tau * per_sweep, "energy_sigma": z_energy}


def fit_z(sizes: list[int], taus: list[float], errors: list[float]) -> tuple[float, float, float]:
    """Weighted fit log tau = log a + z log L: (z, its error, a)."""
    x, y = np.log(sizes), np.log(taus)
    w = (np.array(taus) / np.array(errors)) ** 2
    xm, ym = (w * x).sum() / w.sum(), (w * y).sum() / w.sum()
    sxx = (w * (x - xm) ** 2).sum()
    z = float((w * (x - xm) * (y - ym)).sum() / sxx)
    return z, float(1 / math.sqrt(sxx)), float(math.exp(ym - z * xm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-L", type=int, default=256)
    args = parser.parse_args()
    dc.set_num_threads(args.threads)
    sizes = [L for L in (16, 32, 64, 128, 256) if L <= args.max_L]
    # Metropolis needs >= 50 tau sweeps: tau ~ 0.2 L^2.17 makes L = 256 (tau ~ 3e4) too long here; its
    # tau there is extrapolated from the fit over L <= 128 and marked so.
    metropolis_sweeps = {16: 20000, 32: 40000, 64: 100000, 128: 300000}
    rows: dict[str, dict[int, dict[str, float]]] = {a: {} for a in ALGORITHMS}
    for a in ALGORITHMS:
        for L in sizes:
            if a == "metropolis" and L not in metropolis_sweeps:
                continue
            n = metropolis_sweeps[L] if a == "metropolis" else 5000
            rows[a][L] = measure(a, L, n)
            r = rows[a][L]
            print(f"{a:14s} L={L:4d} tau={r['tau']:9.2f} ± {r['tau_error']:.2f} "
                  f"cpu/sweep/replica={r['cpu_per_sweep'] * 1e6:10.1f} us  "
                  f"cpu/independent sample={r['cpu_per_sample'] * 1e3:10.3f} ms  "
                  f"energy {r['energy_sigma']:.1f} sigma from exact", flush=True)
            if a != "metropolis":
                assert r["energy_sigma"] < 5, r
    fits = {}
    for a in ALGORITHMS:
        ls = sorted(rows[a])
        fits[a] = fit_z(ls, [rows[a][L]["tau"] for L in ls], [rows[a][L]["tau_error"] for L in ls])
        print(f"z({a}) = {fits[a][0]:.3f} ± {fits[a][1]:.3f} over L = {ls[0]}..{ls[-1]}")
    for L in sizes:
        if L < 64:
            continue
        if L in rows["metropolis"]:
            metro, note = rows["metropolis"][L]["cpu_per_sample"], ""
        else:
            z, _, amp = fits["metropolis"]
            per_sweep = rows["metropolis"][max(rows["metropolis"])]["cpu_per_sweep"] * (L / max(rows["metropolis"])) ** 2
            metro, note = 2 * amp * L**z * per_sweep, " (Metropolis tau extrapolated from the fit)"
        for a in ("wolff", "swendsen-wang"):
            print(f"L={L}: Metropolis / {a} CPU time per independent sample = "
                  f"{metro / rows[a][L]['cpu_per_sample']:.1f}x{note}")


if __name__ == "__main__":
    main()
