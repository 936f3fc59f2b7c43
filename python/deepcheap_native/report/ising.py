"""Experiment 3, the 2D Ising model: magnetisation and energy against Onsager, Binder cumulants
crossing at T_c, and the block-spin flow of U₄ at, below and above T_c."""

from __future__ import annotations

from typing import Any

import numpy as np

import deepcheap_native as dc

from ..ising.exact import CRITICAL_BINDER, CRITICAL_TEMPERATURE
from ..ising.stats import binder_from_moments, jackknife
from .context import Context, Section
from .figures import subplots, to_png

TITLE = "Ising: Boltzmann sampling against Onsager, and block-spin renormalisation"
INTRO = (
    "The 2D Ising model H = −Σ⟨ij⟩ sᵢsⱼ on periodic L×L lattices, sampled with many replicas at "
    "once. Magnetisation and energy per spin beside Onsager's infinite-lattice results and the exact "
    "finite-torus energy; Binder cumulants U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) for several L crossing at "
    "T_c = 2/ln(1+√2); and the flow of U₄ under repeated 2×2 majority-rule blocking, read in a window "
    "of fixed size: it stays near a fixed point at T_c and flows to order (2/3) below and to disorder "
    "(0) above. Error bars come from independent replicas (jackknife)."
)
TC = CRITICAL_TEMPERATURE  # the Ising area's constants, under the names this section always had
U_CRITICAL = CRITICAL_BINDER

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"curve_L": 16, "curve_T": [1.6, 2.0, 2.269, 2.5, 3.0, 3.5], "replicas": 64,
             "therm": 200, "measure": 200, "every": 2,
             "binder_L": [8, 16], "binder_dT": [-0.1, 0.0, 0.1], "binder_therm": 300, "binder_measure": 400,
             "flow_L": 32, "flow_window": 8, "flow_T": [0.95, 1.0, 1.05], "flow_therm": 300,
             "flow_snapshots": 10, "flow_gap": 10},
    "quick": {"curve_L": 32, "curve_T": [1.5, 1.8, 2.0, 2.15, 2.269, 2.35, 2.5, 2.75, 3.0, 3.5],
              "replicas": 128, "therm": 500, "measure": 1000, "every": 2,
              "binder_L": [16, 32, 64], "binder_dT": [-0.06, -0.03, 0.0, 0.03, 0.06],
              "binder_therm": 1000, "binder_measure": 2000,
              "flow_L": 64, "flow_window": 8, "flow_T": [0.95, 1.0, 1.05], "flow_therm": 1000,
              "flow_snapshots": 40, "flow_gap": 25},
    "full": {"curve_L": 64, "curve_T": np.round(np.linspace(1.5, 3.5, 21), 3).tolist() + [2.269],
             "replicas": 256, "therm": 2000, "measure": 5000, "every": 2,
             "binder_L": [16, 32, 64, 128], "binder_dT": np.round(np.linspace(-0.08, 0.08, 9), 3).tolist(),
             "binder_therm": 3000, "binder_measure": 10000,
             "flow_L": 128, "flow_window": 8, "flow_T": [0.95, 1.0, 1.05], "flow_therm": 5000,
             "flow_snapshots": 100, "flow_gap": 50},
}


def _moments(m: np.ndarray) -> np.ndarray:
    """Per-replica time averages of |m|, m², m⁴ from m of shape (time, replicas)."""
    return np.stack([np.abs(m).mean(0), (m**2).mean(0), (m**4).mean(0)])


def binder(m2: np.ndarray, m4: np.ndarray) -> float:
    """U₄ from per-replica moments <m²>, <m⁴> (pooled over replicas)."""
    return float(binder_from_moments(np.mean(m2), np.mean(m4)))


def binder_with_error(m: np.ndarray) -> tuple[float, float]:
    """U₄ from m of shape (time, replicas), with a jackknife error over replicas (independent)."""
    _, m2, m4 = _moments(m)
    return jackknife(np.stack([m2, m4]), lambda a: binder_from_moments(a[0], a[1]))


def _measure(sampler: Any, n_measure: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Time series (n_measure, replicas) of magnetisation and energy per spin."""
    if hasattr(sampler, "run"):
        series = sampler.run(n_measure * every, measure_every=every)
        return np.asarray(series.m, dtype=np.float64), np.asarray(series.e, dtype=np.float64)
    ms, es = [], []
    for _ in range(n_measure):
        sampler.sweep(every)
        ms.append(np.asarray(sampler.magnetization(), dtype=np.float64))
        es.append(np.asarray(sampler.energy(), dtype=np.float64))
    return np.array(ms), np.array(es)


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "magnetisation and energy vs T"):
        _curves(ctx, section, p)
    with ctx.step(section, "Binder cumulants"):
        _binder(ctx, section, p)
    with ctx.step(section, "block-spin flow"):
        _flow(ctx, section, p)


def _curves(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    IsingModel = dc.IsingModel
    ising = dc.ising
    L, R = p["curve_L"], p["replicas"]
    model = IsingModel(L)
    temps = sorted(set(float(t) for t in p["curve_T"]))
    rows = []
    n_meas = p["measure"] // p["every"]
    with ctx.bar(f"Ising L={L}: |m| and e vs T", len(temps)) as bar:
        for i, T in enumerate(temps):
            s = model.sampler(T, replicas=R, seed=ctx.seed_for(3, 1, i), init="up" if T < TC else "random")
            s.sweep(p["therm"])
            m, e = _measure(s, n_meas, p["every"])
            am, ee = np.abs(m).mean(0), e.mean(0)
            rows.append({"T": T, "abs_m": float(am.mean()), "abs_m_err": float(am.std(ddof=1) / np.sqrt(R)),
                         "energy": float(ee.mean()), "energy_err": float(ee.std(ddof=1) / np.sqrt(R)),
                         "onsager_m": float(ising.onsager_magnetization(T)),
                         "onsager_energy": float(ising.onsager_energy(T)),
                         "exact_energy_L": float(ising.exact_energy(L, T))})
            bar.update()
    section.numbers["curves"] = {"L": L, "replicas": R, "rows": rows}

    fig, axes = subplots(2, width=5.2, height=3.6)
    tt = np.linspace(min(temps), max(temps), 300)
    axes[0].plot(tt, [float(ising.onsager_magnetization(t)) for t in tt], "k-", label="Onsager (L = ∞)")
    axes[0].errorbar([r["T"] for r in rows], [r["abs_m"] for r in rows],
                     yerr=[3 * r["abs_m_err"] for r in rows], fmt="o", color="C0", mfc="none",
                     capsize=2, label=f"sampled ⟨|m|⟩, L = {L}")
    axes[1].plot(tt, [float(ising.onsager_energy(t)) for t in tt], "k-", label="Onsager (L = ∞)")
    axes[1].plot(tt, [float(ising.exact_energy(L, t)) for t in tt], "--", color="C2",
                 label=f"exact, {L}×{L} torus")
    axes[1].errorbar([r["T"] for r in rows], [r["energy"] for r in rows],
                     yerr=[3 * r["energy_err"] for r in rows], fmt="o", color="C0", mfc="none",
                     capsize=2, label="sampled")
    for ax, ylabel in ((axes[0], "⟨|m|⟩"), (axes[1], "energy per spin")):
        ax.axvline(TC, color="gray", lw=0.7, ls=":")
        ax.set_xlabel("T")
        ax.set_ylabel(ylabel)
        ax.legend()
    section.figure("curves", f"Magnetisation and energy per spin on an {L}×{L} torus, {R} replicas, "
                   f"{p['therm']} sweeps to equilibrate and {p['measure']} to measure (error bars ±3σ).",
                   to_png(fig))
    section.table("curves", "Sampled against exact", ["T", "⟨|m|⟩", "±σ", "Onsager m", "e", "±σ",
                  f"exact e ({L}×{L})", "Onsager e"],
                  [[r["T"], f"{r['abs_m']:.4f}", f"{r['abs_m_err']:.1e}", f"{r['onsager_m']:.4f}",
                    f"{r['energy']:.4f}", f"{r['energy_err']:.1e}", f"{r['exact_energy_L']:.4f}",
                    f"{r['onsager_energy']:.4f}"] for r in rows])
    for r in rows:
        if abs(r["T"] - 2.0) < 1e-9 or abs(r["T"] - 2.5) < 1e-9:
            z = abs(r["energy"] - r["exact_energy_L"]) / max(r["energy_err"], 1e-12)
            section.claim(f"energy per spin, T = {r['T']}, L = {L}", f"{r['energy']:.5f} ± {r['energy_err']:.1e}",
                          f"{r['exact_energy_L']:.5f} (exact torus)", z <= 3.5, f"{z:.1f}σ")
        if abs(r["T"] - 2.0) < 1e-9:
            z = abs(r["abs_m"] - r["onsager_m"]) / max(r["abs_m_err"], 1e-12)
            section.claim(f"⟨|m|⟩, T = 2.0, L = {L}", f"{r['abs_m']:.5f} ± {r['abs_m_err']:.1e}",
                          f"{r['onsager_m']:.5f} (Onsager)", z <= 3.5, f"{z:.1f}σ")


def _binder_point(L: int, T: float, replicas: int, seed: int, therm: int, n_meas: int, every: int) -> tuple[float, float]:
    """U₄ and its error at one (L, T): a task of its own, so `--scheduler` can run it on a cluster."""
    IsingModel = dc.IsingModel
    s = IsingModel(L).sampler(T, replicas=replicas, seed=seed, init="up")
    s.sweep(therm)
    m, _ = _measure(s, n_meas, every)
    return binder_with_error(m)


def _binder(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    ising = dc.ising
    Tc = float(ising.CRITICAL_TEMPERATURE)
    temps = [Tc + d for d in p["binder_dT"]]
    curves = []
    n_meas = p["binder_measure"] // p["every"]
    calls = [(L, T, p["replicas"], ctx.seed_for(3, 2, L, j), p["binder_therm"], n_meas, p["every"])
             for L in p["binder_L"] for j, T in enumerate(temps)]
    results = ctx.map(_binder_point, calls)  # on the cluster with --scheduler
    with ctx.bar("Binder cumulants near T_c", len(calls)) as bar:
        for L in p["binder_L"]:
            us, errs = [], []
            for _ in temps:
                u, err = next(results)
                us.append(u)
                errs.append(err)
                bar.update()
            curves.append({"L": L, "T": temps, "U": us, "U_err": errs})
    # Where successive sizes cross: linear interpolation of U_small − U_large.
    crossings = []
    for a, b in zip(curves, curves[1:]):
        d = np.asarray(a["U"]) - np.asarray(b["U"])
        for i in range(len(temps) - 1):
            if d[i] * d[i + 1] < 0 or d[i] == 0:
                t = temps[i] + (temps[i + 1] - temps[i]) * d[i] / (d[i] - d[i + 1]) if d[i] != d[i + 1] else temps[i]
                crossings.append({"L1": a["L"], "L2": b["L"], "T_cross": float(t)})
                break
    at_tc = {c["L"]: (c["U"][temps.index(Tc)], c["U_err"][temps.index(Tc)]) for c in curves} if Tc in temps else {}
    section.numbers["binder"] = {"Tc": Tc, "curves": curves, "crossings": crossings,
                                 "U_at_Tc": {str(k): v for k, v in at_tc.items()}}
    fig, ax = subplots(width=6.0, height=3.8)
    for i, c in enumerate(curves):
        ax.errorbar(c["T"], c["U"], yerr=3 * np.nan_to_num(np.asarray(c["U_err"])), fmt="o-", ms=4,
                    capsize=2, color=f"C{i}", label=f"L = {c['L']}")
    ax.axvline(Tc, color="k", lw=0.8, ls=":", label="T_c (Onsager)")
    ax.axhline(U_CRITICAL, color="gray", lw=0.8, ls="--", label=f"U* ≈ {U_CRITICAL}")
    ax.set_xlabel("T")
    ax.set_ylabel("Binder cumulant U₄")
    ax.set_title("Binder cumulants cross at T_c")
    ax.legend()
    section.figure("binder", f"U₄ for L = {', '.join(str(c['L']) for c in curves)} "
                   f"({p['replicas']} replicas, {p['binder_therm']} + {p['binder_measure']} sweeps; ±3σ "
                   "jackknife over replicas).", to_png(fig))
    for L, (u, err) in at_tc.items():
        tol = max(3 * err, 0.01)
        section.claim(f"U₄ at T_c, L = {L}", f"{u:.4f} ± {err:.4f}", f"{U_CRITICAL} (±{tol:.3f})",
                      abs(u - U_CRITICAL) <= tol)
    for c in crossings:
        section.claim(f"U₄ curves L = {c['L1']} and {c['L2']} cross", f"T = {c['T_cross']:.4f}",
                      f"T_c = {Tc:.4f} (±0.03)", abs(c["T_cross"] - Tc) <= 0.03)
    if len(curves) > 1 and not crossings:
        section.claim("U₄ curves cross", "no crossing in the sampled range", f"near T_c = {Tc:.4f}", False)


def _tiles(spins: np.ndarray, w: int) -> np.ndarray:
    """Magnetisation of each w×w tile of each replica: shape (replicas, tiles)."""
    r, n, _ = spins.shape
    k = n // w
    return spins.reshape(r, k, w, k, w).mean((2, 4), dtype=np.float64).reshape(r, k * k)


def _flow(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    """Block-spin flow. U₄ of the whole lattice hardly changes under blocking (the blocked lattice is
    the same physical system), so the flow is read in a window of fixed size w×w (in blocked spins):
    after k blockings it covers w·2^k original sites, and U₄ in it moves towards the fixed point that
    the temperature flows to: 2/3 below T_c, 0 above, and stays put at T_c."""
    IsingModel = dc.IsingModel
    block_spin = dc.block_spin
    ising = dc.ising
    Tc = float(ising.CRITICAL_TEMPERATURE)
    L, w = p["flow_L"], p["flow_window"]
    levels = int(np.log2(L // w))
    model = IsingModel(L)
    flows = []
    with ctx.bar(f"block-spin flow from L={L}", len(p["flow_T"]) * p["flow_snapshots"]) as bar:
        for i, factor in enumerate(p["flow_T"]):
            T = Tc * factor
            s = model.sampler(T, replicas=p["replicas"], seed=ctx.seed_for(3, 3, i),
                              init="up" if T < Tc else "random")
            s.sweep(p["flow_therm"])
            window: list[list[np.ndarray]] = [[] for _ in range(levels + 1)]
            whole: list[list[np.ndarray]] = [[] for _ in range(levels + 1)]
            for snap in range(p["flow_snapshots"]):
                s.sweep(p["flow_gap"])
                spins = np.asarray(s.spins)
                for level in range(levels + 1):
                    if level:
                        spins = np.asarray(block_spin(spins, 2, seed=ctx.seed_for(3, 4, i, snap, level)))
                    window[level].append(_tiles(spins, w))
                    whole[level].append(spins.reshape(spins.shape[0], -1).mean(1, dtype=np.float64)[:, None])
                bar.update()
            # Samples of m: (snapshots × tiles, replicas); the jackknife runs over independent replicas.
            u_window = [binder_with_error(np.concatenate(m, axis=1).T) for m in window]
            u_whole = [binder_with_error(np.concatenate(m, axis=1).T) for m in whole]
            flows.append({"T": T, "T_over_Tc": factor, "sizes": [L >> k for k in range(levels + 1)],
                          "window": w, "U": [u for u, _ in u_window], "U_err": [e for _, e in u_window],
                          "U_whole": [u for u, _ in u_whole], "U_whole_err": [e for _, e in u_whole]})
    section.numbers["flow"] = {"L": L, "window": w, "flows": flows}
    fig, ax = subplots(width=6.0, height=3.8)
    for i, f in enumerate(flows):
        name = "at T_c" if f["T_over_Tc"] == 1.0 else ("below T_c" if f["T"] < Tc else "above T_c")
        ax.errorbar(range(len(f["U"])), f["U"], yerr=3 * np.nan_to_num(np.asarray(f["U_err"])), fmt="o-",
                    capsize=2, color=f"C{i}", label=f"T = {f['T']:.3f} ({name})")
    ax.axhline(2 / 3, color="gray", ls="--", lw=0.8, label="ordered: 2/3")
    ax.axhline(0, color="gray", ls="-.", lw=0.8, label="disordered: 0")
    ax.set_xticks(range(levels + 1))
    ax.set_xticklabels([f"{w}×{w} of {n}×{n}\n(= {w << k}² sites)" for k, n in enumerate(flows[0]["sizes"])],
                       fontsize=7)
    ax.set_xlabel("k blockings (2×2 majority rule)")
    ax.set_ylabel(f"U₄ in a {w}×{w} window")
    ax.set_ylim(-0.05, 0.75)
    ax.set_title("Block-spin flow of the Binder cumulant")
    ax.legend(fontsize=7, loc="lower left")
    section.figure("flow", f"U₄ of {w}×{w} windows of the {L}×{L} samples and of the lattices after each "
                   f"2×2 majority blocking ({p['replicas']} replicas × {p['flow_snapshots']} snapshots; ±3σ "
                   "jackknife over replicas).", to_png(fig))
    section.table("flow", f"U₄ in {w}×{w} windows under blocking (whole-lattice U₄ in brackets)",
                  ["T / T_c"] + [f"{n}×{n}" for n in flows[0]["sizes"]],
                  [[f["T_over_Tc"]] + [f"{u:.3f} ({uw:.3f})" for u, uw in zip(f["U"], f["U_whole"])]
                   for f in flows])
    for f in flows:
        first, last = f["U"][0], f["U"][-1]
        if f["T_over_Tc"] < 1:
            section.claim(f"T = {f['T_over_Tc']} T_c flows to order", f"U₄: {first:.3f} → {last:.3f}",
                          "rises towards 2/3", last > first and last > 0.6)
        elif f["T_over_Tc"] > 1:
            section.claim(f"T = {f['T_over_Tc']} T_c flows to disorder", f"U₄: {first:.3f} → {last:.3f}",
                          "falls towards 0", last < first)
        else:
            spread = max(f["U"]) - min(f["U"])
            section.claim("at T_c U₄ stays near a fixed point", f"U₄: {first:.3f} → {last:.3f}",
                          "moves by ≤ 0.1 over all scales", spread <= 0.1)
    binder = section.numbers.get("binder", {}).get("U_at_Tc", {})
    crit = [f for f in flows if f["T_over_Tc"] == 1.0]
    if crit and str(L // 2) in binder:
        u_blocked, e_blocked = crit[0]["U_whole"][1], crit[0]["U_whole_err"][1]
        u_direct, e_direct = binder[str(L // 2)]
        tol = 3 * float(np.hypot(e_blocked, e_direct)) + 3e-3
        section.claim(f"blocking L = {L} → {L // 2} at T_c reproduces direct L = {L // 2}",
                      f"{u_blocked:.4f} vs {u_direct:.4f}", f"equal within {tol:.3f}",
                      abs(u_blocked - u_direct) <= tol)
