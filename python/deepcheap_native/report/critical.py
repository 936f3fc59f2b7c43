"""Experiment "critical point": the 2D Ising model at T_c with cluster updates. Finite-size scaling
(Binder-cumulant crossings, chi ~ L^(gamma/nu), <|m|> ~ L^(-beta/nu), dU4/dbeta ~ L^(1/nu), a data
collapse) and the dynamic exponent z of Metropolis, Wolff and Swendsen-Wang (tau_int ~ L^z), with the
CPU time per independent sample, each beside its exact value."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

import deepcheap_native as dc

from ..ising.exact import CRITICAL_BINDER, CRITICAL_TEMPERATURE
from ..ising.plots import plot_scan
from .context import Context, Section
from .figures import subplots, to_png

TITLE = "Critical point: cluster updates, autocorrelation and finite-size scaling"
INTRO = (
    "Near T_c local updates decorrelate in τ ~ L^z sweeps with z ≈ 2.17; Wolff and Swendsen–Wang cluster "
    "updates flip whole correlated regions (bonds between equal neighbours active with p = 1 − e^(−2J/T)) "
    "and need z ≈ 0.25. With them, finite-size scaling reaches large lattices: each L is simulated once near "
    "T_c, single-histogram reweighting gives U₄(T) = 1 − ⟨m⁴⟩/(3⟨m²⟩²) around it, the U₄ curves of "
    "successive sizes cross at T_c, and at T_c χ = L²⟨m²⟩/T ~ L^(γ/ν), ⟨|m|⟩ ~ L^(−β/ν), dU₄/dβ ~ L^(1/ν). "
    "Exact 2D Ising values: T_c = 2/ln(1+√2) = 2.269185, ν = 1, γ/ν = 7/4, β/ν = 1/8. Errors: jackknife "
    "over blocks of independent replicas (T_c and every fit redone per block). The simulation temperature "
    "is 2.27, not the exact T_c."
)
TC = CRITICAL_TEMPERATURE  # the Ising area's constants, under the names this section always had
U_CRITICAL = CRITICAL_BINDER
GOALS = {"tc": 5e-4, "gamma/nu": 0.02, "beta/nu": 0.05, "nu": 0.05, "z_tolerance": 0.15}
EXACT = {"nu": 1.0, "gamma/nu": 1.75, "beta/nu": 0.125}
Z_EXPECTED = {"metropolis": 2.17, "wolff": 0.25, "swendsen-wang": 0.25}

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"fss_L": [8, 16], "fss_T": 2.27, "fss_replicas": 8, "fss_sweeps": [400, 400],
             "fss_therm": 50, "fss_blocks": 8,
             "tau_L": [8, 16], "tau_sweeps": {"metropolis": [2000, 4000], "wolff": [400, 400],
                                              "swendsen-wang": [400, 400]},
             "tau_replicas": {"metropolis": 64, "wolff": 8, "swendsen-wang": 8}, "ratio_L": []},
    "quick": {"fss_L": [16, 32, 64], "fss_T": 2.27, "fss_replicas": 16, "fss_sweeps": [4000, 4000, 4000],
              "fss_therm": 200, "fss_blocks": 16,
              "tau_L": [16, 32, 64], "tau_sweeps": {"metropolis": [5000, 10000, 30000],
                                                   "wolff": [2000, 2000, 2000],
                                                   "swendsen-wang": [2000, 2000, 2000]},
              "tau_replicas": {"metropolis": 64, "wolff": 16, "swendsen-wang": 16}, "ratio_L": [64]},
    "full": {"fss_L": [16, 32, 64, 128, 256], "fss_T": 2.27, "fss_replicas": 32,
             "fss_sweeps": [10000, 10000, 10000, 6000, 4000], "fss_therm": 500, "fss_blocks": 16,
             "tau_L": [16, 32, 64, 128], "tau_sweeps": {"metropolis": [10000, 20000, 60000, 160000],
                                                        "wolff": [4000, 4000, 4000, 4000],
                                                        "swendsen-wang": [4000, 4000, 4000, 4000]},
             "tau_replicas": {"metropolis": 64, "wolff": 16, "swendsen-wang": 16}, "ratio_L": [64, 128]},
}


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "finite-size scaling"):
        _finite_size(ctx, section, p)
    with ctx.step(section, "dynamic exponents"):
        _dynamics(ctx, section, p)


def _finite_size(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    ising = dc.ising
    sizes = list(p["fss_L"])
    sweeps = dict(zip(sizes, p["fss_sweeps"]))
    with ctx.bar(f"finite-size scan, L = {', '.join(map(str, sizes))}", len(sizes)) as bar:
        done = [0]

        def tick(k: int, total: int) -> None:
            bar.update(k - done[0])
            done[0] = k

        start = time.perf_counter()
        # With --scheduler the (L, block of replicas) pieces run on the cluster: each piece carries its
        # first_replica, so the series (and every number below) are those of the local run.
        scan = ising.finite_size_scan(sizes, p["fss_T"], algorithm="wolff", replicas=p["fss_replicas"],
                                      n_sweeps=sweeps, thermalize=p["fss_therm"], seed=ctx.seed_for(13, 1),
                                      blocks=p["fss_blocks"], client=ctx.client(), progress=tick)
        seconds = time.perf_counter() - start
    ex = scan.exponents
    section.numbers["fss"] = {
        "sizes": sizes, "T0": p["fss_T"], "seconds": seconds, "tc": scan.tc, "tc_error": scan.tc_error,
        "crossings": [list(c) for c in scan.crossings], "exponents": {k: list(v) for k, v in ex.items()},
        "at_tc": {k: [v[0].tolist(), v[1].tolist()] for k, v in scan.at_tc.items()},
        "tau_abs_m": scan.tau_abs_m.tolist(),
    }
    # Claims, each beside its exact value and the goal.
    section.claim(f"T_c from U₄ crossing, L = {sizes[-2]} and {sizes[-1]}", f"{scan.tc:.5f} ± {scan.tc_error:.5f}",
                  f"{TC:.6f} (goal ±{GOALS['tc']:g})", abs(scan.tc - TC) <= GOALS["tc"],
                  f"{abs(scan.tc - TC) / max(scan.tc_error, 1e-12):.1f}σ")
    for name in ("gamma/nu", "beta/nu", "nu"):
        v, err = ex[name]
        exact = EXACT[name]
        label = {"gamma/nu": "γ/ν from χ(T_c)", "beta/nu": "β/ν from ⟨|m|⟩(T_c)", "nu": "ν from dU₄/dβ(T_c)"}[name]
        section.claim(f"{label}, L = {sizes[0]}…{sizes[-1]}", f"{v:.4f} ± {err:.4f}",
                      f"{exact:g} (goal ±{GOALS[name] * 100:g} %)", abs(v - exact) <= GOALS[name] * exact,
                      f"{abs(v - exact) / exact * 100:.2f} % off")
    u, uerr = scan.at_tc["binder"]
    section.table("fss", f"At the estimated T_c = {scan.tc:.5f} (Wolff, {p['fss_replicas']} replicas per L, "
                  f"simulated at T = {p['fss_T']}; {seconds:.0f} s)",
                  ["L", "sweeps", "U₄", "χ = L²⟨m²⟩/T", "⟨|m|⟩", "dU₄/dβ", "τ_int(|m|) [sweeps]"],
                  [[L, sweeps[L], f"{u[i]:.4f} ± {uerr[i]:.4f}",
                    f"{scan.at_tc['chi'][0][i]:.2f} ± {scan.at_tc['chi'][1][i]:.2f}",
                    f"{scan.at_tc['abs_m'][0][i]:.4f} ± {scan.at_tc['abs_m'][1][i]:.4f}",
                    f"{scan.at_tc['dbinder_dbeta'][0][i]:.3f} ± {scan.at_tc['dbinder_dbeta'][1][i]:.3f}",
                    f"{scan.tau_abs_m[i]:.2f}"] for i, L in enumerate(sizes)])
    _fss_figures(section, scan)


def _fss_figures(section: Section, scan: Any) -> None:
    fig, axes = subplots(3, width=4.6, height=3.6)
    plot_scan(scan, axes)  # the figure FiniteSizeScan.plot() draws
    section.figure("fss", "Finite-size scaling with Wolff updates: U₄(T) reweighted from one temperature per L "
                   "(bands ±1σ), χ at the estimated T_c against L with the exact slope 7/4, and the collapse of "
                   "U₄ against (T − T_c)L with the exact T_c and ν = 1.", to_png(fig))


def _fit_z(sizes: np.ndarray, tau: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares slope of log tau against log L, and its standard error."""
    x, y = np.log(sizes), np.log(tau)
    w = (tau / np.maximum(err, 1e-12)) ** 2  # 1 / var(log tau)
    xm = (w * x).sum() / w.sum()
    sxx = (w * (x - xm) ** 2).sum()
    slope = float((w * (x - xm) * (y - (w * y).sum() / w.sum())).sum() / sxx)
    return slope, float(1.0 / math.sqrt(sxx))


def _tau_run(algorithm: str, L: int, replicas: int, n_sweeps: int, seed: int) -> dict[str, float]:
    """tau_int of |m| at T_c and the CPU time per sweep per replica of one (algorithm, L): a task of its own,
    so `--scheduler` can run it on a cluster (its seed travels with it, so tau is the same there; the CPU
    time is the process time of whichever process ran it)."""
    IsingModel = dc.IsingModel
    ising = dc.ising
    s = IsingModel(L).sampler(TC, replicas=replicas, algorithm=algorithm, seed=seed, init="up")
    s.sweep(max(n_sweeps // 10, 20))
    cpu = time.process_time()
    series = s.run(n_sweeps)
    cpu = time.process_time() - cpu
    t = ising.autocorrelation_time(series.abs_m)
    per_sweep = cpu / (n_sweeps * replicas)
    return {"L": L, "tau": t.tau, "tau_error": t.error, "window": t.window, "converged": t.converged,
            "cpu_per_sweep": per_sweep, "cpu_per_sample": 2 * t.tau * per_sweep}


def _dynamics(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    sizes = list(p["tau_L"])
    algorithms = ("metropolis", "wolff", "swendsen-wang")
    calls = [(a, L, p["tau_replicas"][a], p["tau_sweeps"][a][j], ctx.seed_for(13, 2, j))
             for a in algorithms for j, L in enumerate(sizes)]
    rows: dict[str, list[dict[str, float]]] = {a: [] for a in algorithms}
    with ctx.bar("autocorrelation times at T_c", len(calls)) as bar:
        for args, row in zip(calls, ctx.map(_tau_run, calls)):  # on the cluster with --scheduler
            rows[args[0]].append(row)
            bar.update()
    section.numbers["dynamics"] = rows
    fits = {a: _fit_z(np.array(sizes, float), np.array([r["tau"] for r in rows[a]]),
                      np.array([r["tau_error"] for r in rows[a]])) for a in algorithms}
    section.numbers["z"] = {a: list(v) for a, v in fits.items()}
    for a in algorithms:
        z, zerr = fits[a]
        section.claim(f"dynamic exponent z, {a}, τ_int(|m|) at T_c, L = {sizes[0]}…{sizes[-1]}",
                      f"{z:.3f} ± {zerr:.3f}", f"{Z_EXPECTED[a]} (goal ±{GOALS['z_tolerance']})",
                      abs(z - Z_EXPECTED[a]) <= GOALS["z_tolerance"])
    by_l = {a: {r["L"]: r for r in rows[a]} for a in algorithms}
    for L in p["ratio_L"]:
        best = min(("wolff", "swendsen-wang"), key=lambda a: by_l[a][L]["cpu_per_sample"])
        ratio = by_l["metropolis"][L]["cpu_per_sample"] / by_l[best][L]["cpu_per_sample"]
        goal = L >= 128
        section.claim(f"CPU time per independent sample at T_c, L = {L}: multi-spin Metropolis / {best}",
                      f"{ratio:.1f}×", "≥ 10× at L = 128 (goal)" if goal else "grows with L",
                      ratio >= 10 if goal else None)
    section.table("dynamics", "τ_int of |m| at T_c in sweeps (a Wolff sweep: about L²/⟨|C|⟩ clusters), CPU time "
                  "per sweep per replica and per independent sample (2τ sweeps)",
                  ["algorithm", "L", "τ_int", "window", "CPU µs / sweep", "CPU ms / independent sample"],
                  [[a, r["L"], f"{r['tau']:.2f} ± {r['tau_error']:.2f}", r["window"],
                    f"{r['cpu_per_sweep'] * 1e6:.1f}", f"{r['cpu_per_sample'] * 1e3:.3f}"]
                   for a in algorithms for r in rows[a]])
    fig, axes = subplots(2, width=4.8, height=3.6)
    for i, a in enumerate(algorithms):
        ls = np.array([r["L"] for r in rows[a]], float)
        tau = np.array([r["tau"] for r in rows[a]])
        axes[0].errorbar(ls, tau, yerr=[r["tau_error"] for r in rows[a]], fmt="o", color=f"C{i}",
                         label=f"{a}: z = {fits[a][0]:.2f}")
        axes[0].plot(ls, tau[0] * (ls / ls[0]) ** Z_EXPECTED[a], "--", color=f"C{i}", lw=0.8)
        axes[1].plot(ls, [r["cpu_per_sample"] * 1e3 for r in rows[a]], "o-", color=f"C{i}", label=a)
    for ax, ylabel in ((axes[0], "τ_int(|m|) [sweeps]"), (axes[1], "CPU ms per independent sample")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("L")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    axes[0].set_title("τ_int at T_c (dashed: exact-z slopes 2.17, 0.25)")
    section.figure("dynamics", "Integrated autocorrelation time of |m| at T_c (Sokal's window, errors ±1σ) and the "
                   "CPU time per independent sample per replica, for each algorithm.", to_png(fig))
