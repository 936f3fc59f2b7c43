"""LeCun's box: gradient descent on spherical p-spin glasses from random starts. In high
dimension it ends in minima packed in a band that narrows and closes in on the threshold −E_∞ as N
grows, never in a "box" far above it; in a handful of dimensions it ends anywhere. The p = 2 case has no spurious minima at
all and ends at the bottom eigenvalue of the coupling matrix."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .context import Context, Section, require
from .figures import subplots, to_png

TITLE = "LeCun's box: descent in high dimension ends at the threshold"
INTRO = (
    "“It's hard to build a box in 100 million dimensions”: local minima that trap gradient descent "
    "become rare as the dimension grows. The spherical p-spin glass H(σ) = N^(−(p−1)/2) Σ J σ⋯σ on "
    "|σ|² = N makes this exact (Auffinger, Ben Arous & Černý 2013): almost all minima lie in a band "
    "between the ground state −E₀ and the threshold −E_∞ = −2√((p−1)/p), above which critical points "
    "are saddles. Projected gradient descent (float32, step 0.4/√(p(p−1)), converged when the "
    "root-mean-square Riemannian gradient is ≤ 1e-5) from uniform random starts, for growing N; "
    "Hessian index of every endpoint in float64."
)
ISSUE = "issue 16 (high-dimensional landscapes)"

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"sizes": [8, 16, 32], "starts": 32, "steps": 300, "small_sizes": [3, 4, 6],
             "small_starts": 64, "p2_size": 60, "p2_starts": 8, "p2_steps": 2000, "tol": 1e-5},
    "quick": {"sizes": [16, 32, 64, 128], "starts": 256, "steps": 800, "small_sizes": [3, 4, 5, 6, 7, 8],
              "small_starts": 256, "p2_size": 400, "p2_starts": 16, "p2_steps": 3000, "tol": 1e-5},
    "full": {"sizes": [16, 32, 64, 128, 256], "starts": 256, "steps": 1500, "small_sizes": [3, 4, 5, 6, 7, 8],
             "small_starts": 256, "p2_size": 400, "p2_starts": 32, "p2_steps": 3000, "tol": 1e-5},
}
# p = 2 descends in float64 to this gradient tolerance: the energy error is then ~tol²/gap, far below
# the 1e-6 the claim allows, while the slow mode (the edge gap, ~N^(−2/3)) needs ~1,500 steps at N = 400.
P2_TOL = 1e-7

# The spread slope is fitted over these N and up (below, the band has not formed yet).
SLOPE_FROM = 32


def disorder_samples(N: int, largest: int) -> int:
    """Coupling samples per N: more at small N (cheap) so every N has a similar statistical weight."""
    return int(min(4, max(1, largest // N)))


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "p = 3 descent across N"):
        _p3(ctx, section, p)
    with ctx.step(section, "p = 2: no spurious minima"):
        _p2(ctx, section, p)
    with ctx.step(section, "figures"):
        _figures(section, p)


def _descend(ctx: Context, model: Any, starts: int, steps: int, seed: int, tol: float, bar: Any) -> dict[str, Any]:
    calls = []

    def step(done: int, total: int) -> None:
        calls.append(done)
        bar.update()

    t0 = time.perf_counter()
    r = model.descend(starts, steps=steps, seed=seed, tol=tol, dtype="float32", hessian_index=True, progress=step)
    seconds = time.perf_counter() - t0
    bar.update(steps - len(calls))  # steps skipped once every start had converged
    return {"energy": r.energy_per_spin.tolist(), "converged": r.converged.tolist(),
            "index": r.hessian_index.tolist(), "gradient_norm": r.gradient_norm.tolist(),
            "steps_taken": r.steps_taken.tolist(), "seconds": seconds}


def _p3(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    (SphericalSpinGlass,) = require("SphericalSpinGlass", issue=ISSUE)
    from deepcheap_native.landscape import ground_state_energy, threshold_energy

    e0, e_inf = ground_state_energy(3), threshold_energy(3)
    largest = max(p["sizes"])
    runs: dict[int, list[dict[str, Any]]] = {}
    plan = [(N, k) for N in p["sizes"] for k in range(disorder_samples(N, largest))]
    plan += [(N, 0) for N in p["small_sizes"]]
    with ctx.bar("p = 3 descents", len(plan) * p["steps"]) as bar:
        for N, k in plan:
            starts = p["small_starts"] if N in p["small_sizes"] else p["starts"]
            model = SphericalSpinGlass(N, 3, seed=ctx.seed_for(6, N, k))
            record = _descend(ctx, model, starts, p["steps"], ctx.seed_for(6, 1000 + N, k), p["tol"], bar)
            record["model_seed"] = model.seed
            runs.setdefault(N, []).append(record)

    rows, per_size = [], {}
    for N in sorted(runs):
        energy = np.concatenate([r["energy"] for r in runs[N]])
        converged = np.concatenate([r["converged"] for r in runs[N]]).astype(bool)
        index = np.concatenate([r["index"] for r in runs[N]])
        spread = float(np.sqrt(np.mean([np.var(r["energy"]) for r in runs[N]])))  # within one sample
        stats = {"samples": len(runs[N]), "endpoints": int(energy.size), "converged": int(converged.sum()),
                 "converged_with_index_above_0": int((index[converged] > 0).sum()),
                 "unconverged_with_index_above_0": int((index[~converged] > 0).sum()),
                 "mean": float(energy.mean()), "spread": spread, "min": float(energy.min()),
                 "max": float(energy.max()), "mean_vs_threshold": float(energy.mean() / -e_inf - 1),
                 "far_above_threshold": float(np.mean(energy > -e_inf + 0.2)),
                 "seconds": float(sum(r["seconds"] for r in runs[N]))}
        per_size[N] = stats
        rows.append([N, stats["samples"], stats["endpoints"], f"{stats['converged'] / energy.size:.0%}",
                     stats["converged_with_index_above_0"], f"{stats['mean']:.4f}", f"{spread:.4f}",
                     f"{stats['min']:.4f}", f"{stats['max']:.4f}", f"{-100 * stats['mean_vs_threshold']:+.2f} %",
                     f"{stats['far_above_threshold']:.0%}", f"{stats['seconds']:.1f}"])
    section.numbers["p3"] = {"E0": e0, "E_inf": e_inf, "per_size": per_size, "runs": runs}
    section.table("p3", "p = 3 endpoints per N (spread: standard deviation within one coupling sample, "
                  "RMS over samples; far: share above −E_∞ + 0.2)",
                  ["N", "samples", "endpoints", "converged", "index > 0 (converged)", "mean E/N", "spread",
                   "min", "max", "mean above −E_∞ by", "far above", "seconds"], rows)

    big = [N for N in p["sizes"] if N >= SLOPE_FROM]
    slope = intercept = float("nan")
    if len(big) >= 2:
        slope, intercept = np.polyfit(np.log([float(N) for N in big]), np.log([per_size[N]["spread"] for N in big]), 1)
    gap = [per_size[N]["mean"] + e_inf for N in big]
    gap_slope = float("nan")
    if len(big) >= 2 and min(gap) > 0:
        gap_slope = float(np.polyfit(np.log([float(N) for N in big]), np.log(gap), 1)[0])
    section.numbers["p3"].update({"spread_slope": float(slope), "spread_intercept": float(intercept),
                                  "gap_slope": gap_slope, "slope_sizes": big})

    bad = sum(per_size[N]["converged_with_index_above_0"] for N in p["sizes"])
    conv = sum(per_size[N]["converged"] for N in p["sizes"])
    total = sum(per_size[N]["endpoints"] for N in p["sizes"])
    section.claim("every converged endpoint is a local minimum (Hessian index 0)",
                  f"{bad} of {conv} converged ({conv} of {total} endpoints converged)", "0", bad == 0)
    top = per_size[largest]
    section.claim(f"mean endpoint energy at N = {largest} within 1 % of −E_∞",
                  f"{top['mean']:.4f} ({-100 * top['mean_vs_threshold']:.2f} % above)", f"−E_∞ = {-e_inf:.5f} ± 1 %",
                  # The issue states the 1 % at N = 256: below that size (the quick preset) the gap is
                  # shown for context, not judged, so the quick report's exit status does not follow it.
                  abs(top["mean_vs_threshold"]) <= 0.01 if largest >= 256 else None,
                  note=_gap_note(per_size, big, e_inf, gap_slope)
                  + ("" if largest >= 256 else " (judged only at N ≥ 256, the full preset)"))
    slack_ok = all(per_size[N]["min"] >= -e0 - N ** (-2 / 3) for N in p["sizes"])
    worst = min(p["sizes"], key=lambda N: per_size[N]["min"] + e0 + N ** (-2 / 3))
    section.claim("no endpoint below −E₀ by more than the finite-N slack N^(−2/3)",
                  f"lowest {per_size[worst]['min']:.4f} at N = {worst} (slack {worst ** (-2 / 3):.3f})",
                  f"≥ −E₀ − N^(−2/3), −E₀ = {-e0:.5f}", slack_ok)
    section.claim("spread of endpoint energies shrinks as N^slope", f"slope {slope:.3f} (N = {big[0]}…{largest})"
                  if big else "n/a", "−1/2 ± 0.25", bool(np.isfinite(slope) and abs(slope + 0.5) <= 0.25))
    small = [per_size[N] for N in p["small_sizes"]]
    small_spread = float(np.mean([s["spread"] for s in small]))
    small_far = float(np.mean([s["far_above_threshold"] for s in small]))
    section.claim("small N (3…8): widely spread endpoints, many far above −E_∞",
                  f"spread {small_spread:.3f} vs {top['spread']:.4f} at N = {largest}; "
                  f"{small_far:.0%} above −E_∞ + 0.2 (vs {top['far_above_threshold']:.0%})",
                  "spread ≥ 3× the largest N's; ≥ 10 % far above", small_spread >= 3 * top["spread"] and small_far >= 0.1)


def _gap_note(per_size: dict[int, Any], big: list[int], e_inf: float, gap_slope: float) -> str:
    """The fitted finite-N law of the gap mean − (−E_∞), and where it would reach 1 %."""
    if len(big) < 2 or not np.isfinite(gap_slope) or gap_slope >= 0:
        return ""
    last = big[-1]
    gap = per_size[last]["mean"] + e_inf
    reach = last * (0.01 * e_inf / gap) ** (1 / gap_slope) if gap > 0.01 * e_inf else last
    return (f"the gap to −E_∞ falls as N^{gap_slope:.2f} over N = {big[0]}…{last}; "
            f"that law reaches 1 % near N ≈ {reach:,.0f}")


def _p2(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    (SphericalSpinGlass,) = require("SphericalSpinGlass", issue=ISSUE)
    N = p["p2_size"]
    model = SphericalSpinGlass(N, 2, seed=ctx.seed_for(6, 2))
    J = model.couplings()
    bottom = float(np.linalg.eigvalsh((J + J.T) / 2)[0] / math.sqrt(N))
    with ctx.bar("p = 2 descent", p["p2_steps"]) as bar:
        t0 = time.perf_counter()
        r = model.descend(p["p2_starts"], steps=p["p2_steps"], seed=ctx.seed_for(6, 3), tol=P2_TOL,
                          hessian_index=True, progress=lambda s, n: bar.update())
        seconds = time.perf_counter() - t0
    energy = r.energy_per_spin
    section.numbers["p2"] = {"N": N, "energy": energy.tolist(), "index": r.hessian_index.tolist(),
                             "converged": r.converged.tolist(), "bottom_eigenvalue": bottom, "seconds": seconds}
    worst = float(np.max(np.abs(energy / -math.sqrt(2) - 1)))
    section.claim(f"p = 2, N = {N}: every endpoint within 3 % of −√2, index 0",
                  f"worst {100 * worst:.2f} %, index > 0: {int((r.hessian_index > 0).sum())} of {energy.size}",
                  "≤ 3 % (finite-N edge of the semicircle), 0", worst <= 0.03 and not (r.hessian_index > 0).any())
    gap = float(np.max(np.abs(energy - bottom)))
    section.claim("p = 2 endpoints = bottom eigenvalue of (J+Jᵀ)/2 over √N", f"max gap {gap:.1e}",
                  f"{bottom:.5f} (numpy eigvalsh), ≤ 1e-6", gap <= 1e-6)


def _figures(section: Section, p: dict[str, Any]) -> None:
    d = section.numbers["p3"]
    e0, e_inf = d["E0"], d["E_inf"]
    per_size, runs = d["per_size"], d["runs"]
    fig, axes = subplots(4, width=4.2, height=3.6)
    ax = axes[0]
    bins = np.linspace(-1.72, -1.36, 37)
    for i, N in enumerate(p["sizes"]):
        energy = np.concatenate([r["energy"] for r in runs[N]])
        ax.hist(energy, bins=bins, histtype="step", density=True, color=f"C{i}", label=f"N = {N}")
    ax.axvline(-e0, color="k", ls="--", lw=1, label=f"−E₀ = {-e0:.3f}")
    ax.axvline(-e_inf, color="k", ls=":", lw=1, label=f"−E_∞ = {-e_inf:.3f}")
    ax.set_xlabel("endpoint energy per spin H/N")
    ax.set_ylabel("density")
    ax.set_title("p = 3: where gradient descent ends")
    ax.legend(fontsize=7)

    ax = axes[1]
    wide = np.linspace(-2.0, -0.3, 35)
    for i, N in enumerate(p["small_sizes"]):
        energy = np.concatenate([r["energy"] for r in runs[N]])
        ax.hist(energy, bins=wide, histtype="step", color=f"C{i}", label=f"N = {N}")
    ax.axvline(-e0, color="k", ls="--", lw=1)
    ax.axvline(-e_inf, color="k", ls=":", lw=1)
    ax.set_xlabel("endpoint energy per spin H/N")
    ax.set_ylabel("endpoints")
    ax.set_title("Small N: boxes everywhere")
    ax.legend(fontsize=7)

    ax = axes[2]
    sizes = sorted(per_size)
    ns = np.array([float(N) for N in sizes])
    ax.loglog(ns, [per_size[N]["spread"] for N in sizes], "o", label="spread (std) of endpoints")
    gaps = np.array([per_size[N]["mean"] + e_inf for N in sizes])
    ax.loglog(ns[gaps > 0], gaps[gaps > 0], "s", mfc="none", label="mean − (−E_∞)")
    if np.isfinite(d["spread_slope"]):
        fit = np.array([float(N) for N in d["slope_sizes"]])
        ax.loglog(fit, np.exp(d["spread_intercept"]) * fit ** d["spread_slope"], "-", color="C0",
                  label=f"fit: N^{d['spread_slope']:.2f}")
        ax.loglog(fit, np.exp(d["spread_intercept"]) * fit[0] ** (d["spread_slope"] + 0.5) * fit ** -0.5, ":",
                  color="0.4", label="N^(−1/2)")
    ax.set_xlabel("N")
    ax.set_title("Spread and gap to the threshold against N")
    ax.legend(fontsize=7)

    ax = axes[3]
    q = section.numbers.get("p2")
    if q:
        marks = [*q["energy"], q["bottom_eigenvalue"], -math.sqrt(2)]
        edges = np.linspace(min(marks) - 0.02, max(marks) + 0.02, 41)  # all endpoints coincide: fix the range
        ax.hist(q["energy"], bins=edges, color="C2", alpha=0.8, label=f"{len(q['energy'])} endpoints, N = {q['N']}")
        ax.axvline(-math.sqrt(2), color="k", ls=":", lw=1, label="−√2")
        ax.axvline(q["bottom_eigenvalue"], color="C3", ls="--", lw=1, label="λ_min((J+Jᵀ)/2)/√N")
        ax.set_xlabel("endpoint energy per spin")
        ax.set_title("p = 2: one minimum, found from every start")
        ax.legend(fontsize=7)
    section.figure("landscape", "Left: endpoint energies of projected gradient descent on p = 3 spherical "
                   "spin glasses, " + ", ".join(f"N = {N}" for N in p["sizes"]) + f" ({p['starts']} starts per "
                   "coupling sample). Second: small N, where descent stops anywhere. Third: spread of the endpoints "
                   "and gap of their mean to the threshold against N, log–log. Right: p = 2 beside it.", to_png(fig))
