"""Experiment 1, product gates (Lin, Tegmark & Rolnick): neurons deep versus shallow, the λ² error law
and its rounding floor, and the width law measured: the best error one-hidden-layer networks of every
width reach when trained (random and construction-seeded restarts), against the deep network."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

import deepcheap_native as dc

from ..product import AccuracyWarning
from ..product.network import built_neurons
from ..product.width_law import (  # noqa: F401  (the report's names of the width-law sweep, as before)
    CONSTRUCTION_NOISE,
    train_width_job,
    width_law,
    width_law_jobs,
    width_law_summary,
)
from .context import Context, Section, fmt
from .figures import subplots, to_png

TITLE = "Product gates: deep versus shallow multiplication"
INTRO = (
    "Four neurons of a smooth activation multiply two numbers, with relative error O(λ²) that falls "
    "until floating-point cancellation (≈ ε/λ²) takes over. A binary tree of such gates multiplies n "
    "numbers with 4(n−1) neurons; a single hidden layer needs 2ⁿ (the no-flattening theorem). Below: "
    "the neuron counts, the error law in float32 and float64 (the network as built, and the same "
    "function computed without cancellation), and the width law measured: the best error that "
    "one-hidden-layer networks of every width 1 … 2ⁿ + 2 reach when trained from many starts (the exact "
    "construction among them), against the deep network of about 4(n−1) neurons trained the same way."
)

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"count_n_max": 64, "built_deep_n": [2, 4, 8, 16], "built_shallow_n": [2, 3, 4, 6],
             "lambdas": np.logspace(-6, 0, 13).tolist(), "gate_samples": 500, "deep_n": 16,
             "deep_samples": 200, "width_n": [2], "width_random_restarts": 1, "width_construction_restarts": 1,
             "width_steps": 40, "width_samples": 256, "width_scale": 0.05, "width_min_ratio": 10.0},
    "quick": {"count_n_max": 64, "built_deep_n": [2, 4, 8, 16, 32, 64], "built_shallow_n": [2, 3, 4, 6, 8, 10],
              "lambdas": np.logspace(-6, 0, 25).tolist(), "gate_samples": 4000, "deep_n": 16,
              "deep_samples": 2000, "width_n": [2, 3, 4], "width_random_restarts": 2, "width_construction_restarts": 2,
              "width_steps": 150, "width_samples": 1024, "width_scale": 0.05, "width_min_ratio": 10.0},
    "full": {"count_n_max": 64, "built_deep_n": [2, 4, 8, 16, 32, 64], "built_shallow_n": [2, 3, 4, 6, 8, 10, 12],
             "lambdas": np.logspace(-6, 0, 49).tolist(), "gate_samples": 20000, "deep_n": 16,
             "deep_samples": 10000, "width_n": [2, 3, 4, 5], "width_random_restarts": 4, "width_construction_restarts": 4,
             "width_steps": 400, "width_samples": 2048, "width_scale": 0.05, "width_min_ratio": 10.0},
}

UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


def _signed_uniform(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """±U[0.5, 1]: magnitudes bounded away from 0 so relative errors are well defined."""
    return rng.uniform(0.5, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "neuron counts"):
        _counts(ctx, section, p)
    with ctx.step(section, "error law"):
        _error_law(ctx, section, p)
    with ctx.step(section, "width law"):
        _no_flattening(ctx, section, p)


def _counts(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    product_network_neurons = dc.product_network_neurons
    product_network = dc.product_network
    ns = list(range(2, p["count_n_max"] + 1))
    deep = [int(product_network_neurons(n, "deep")) for n in ns]
    shallow = [int(product_network_neurons(n, "shallow")) for n in ns]
    powers = [n for n in ns if n & (n - 1) == 0]
    deep_formula_ok = all(deep[ns.index(n)] == 4 * (n - 1) for n in powers)
    shallow_formula_ok = all(s == 2**n for n, s in zip(ns, shallow))

    built = []
    with ctx.bar("building product networks", len(p["built_deep_n"]) + len(p["built_shallow_n"])) as bar:
        for kind, n_values in (("deep", p["built_deep_n"]), ("shallow", p["built_shallow_n"])):
            for n in n_values:
                with warnings.catch_warnings():  # built to count its weights: its accuracy is not the point
                    warnings.simplefilter("ignore", AccuracyWarning)
                    net = product_network(n, kind=kind)
                built.append({"kind": kind, "n": n, "n_neurons": int(net.n_neurons),
                              "hidden_rows_in_weights": built_neurons(net), "n_hidden_layers": int(net.n_hidden_layers),
                              "closed_form": int(product_network_neurons(n, kind))})
                bar.update()
    # The network is its weights: torch with exactly those weights computes what the native code
    # computes. The networks cancel (they amplify rounding by about 1/λ² per gate level, 1/λⁿ shallow),
    # so two correct float64 evaluations that round differently agree only to about 1e-11 here: the
    # threshold 1e-9 leaves room for that and still catches any wrong weight.
    import torch

    rng = np.random.default_rng(ctx.seed_for(1, 1))
    torch_checks = []
    for kind, n, scale in (("deep", 16, 0.1), ("shallow", 4, 0.3)):
        net = product_network(n, kind=kind, scale=scale)
        x = _signed_uniform(rng, (256, n))
        y_native = np.asarray(net(x), dtype=np.float64).reshape(-1)
        with torch.no_grad():
            y_torch = net.to_torch()(torch.from_numpy(x)).numpy().reshape(-1)
        gap = float(np.max(np.abs(y_torch - y_native) / np.abs(y_native)))
        torch_checks.append({"kind": kind, "n": n, "scale": scale, "max_rel_gap": gap})
    torch_gap = max(c["max_rel_gap"] for c in torch_checks)
    built_ok = all(b["n_neurons"] == b["closed_form"] == b["hidden_rows_in_weights"] for b in built)
    section.numbers["counts"] = {"n": ns, "deep": deep, "shallow": shallow, "built": built,
                                 "torch_checks": torch_checks}

    fig, ax = subplots(width=6.0, height=3.8)
    ax.semilogy(ns, shallow, "-", color="C3", label="shallow: 2ⁿ (closed form)")
    ax.semilogy(ns, deep, "-", color="C0", label="deep (closed form)")
    for kind, color in (("deep", "C0"), ("shallow", "C3")):
        pts = [(b["n"], b["n_neurons"]) for b in built if b["kind"] == kind]
        ax.semilogy(*zip(*pts), "o", color=color, mfc="none", label=f"{kind}: built networks")
    ax.set_xlabel("n (numbers multiplied)")
    ax.set_ylabel("hidden neurons")
    ax.set_title("Neurons needed to multiply n numbers")
    ax.legend()
    section.figure("neurons", "Hidden neurons of the deep (binary tree of 4-neuron gates) and the "
                   "shallow (one hidden layer) product networks; circles are networks actually built "
                   "and counted from their weight matrices.", to_png(fig))
    table_n = [n for n in (2, 3, 4, 5, 8, 10, 16, 32, 33, 64) if n in ns]
    section.table("neurons", "Neuron counts (closed form; deep counts for n not a power of two "
                  "include carry neurons)", ["n", "deep", "4(n−1)", "shallow 2ⁿ", "shallow / deep"],
                  [[n, deep[ns.index(n)], 4 * (n - 1), f"{shallow[ns.index(n)]:.4g}",
                    f"{shallow[ns.index(n)] / deep[ns.index(n)]:.4g}"] for n in table_n])
    n64 = ns.index(64) if 64 in ns else len(ns) - 1
    section.claim("deep neurons = 4(n−1), n = 2^k", f"{deep[n64]} at n = {ns[n64]}",
                  f"{4 * (ns[n64] - 1)}", deep_formula_ok)
    section.claim("shallow neurons = 2ⁿ", f"{shallow[n64]:.4g} at n = {ns[n64]}", f"{2.0 ** ns[n64]:.4g}",
                  shallow_formula_ok)
    section.claim("built networks have the closed-form count", f"{len(built)} networks",
                  "n_neurons = rows of hidden W", built_ok)
    section.claim("to_torch() computes what the native network computes",
                  f"max rel. gap {torch_gap:.1e} (deep n=16, shallow n=4)", "≤ 1e-9 (float64)", torch_gap <= 1e-9)


def _relative_errors(out: Any, exact: np.ndarray) -> np.ndarray:
    out = np.asarray(out, dtype=np.float64).reshape(exact.shape)
    return np.abs(out - exact) / np.abs(exact)


def _slope(lams: np.ndarray, errs: np.ndarray, lo: float = 1e-3, hi: float = 1e-1) -> float:
    mask = (lams >= lo * 0.999) & (lams <= hi * 1.001) & (errs > 0)
    return float(np.polyfit(np.log(lams[mask]), np.log(errs[mask]), 1)[0])


def _error_law(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    multiplication_gate = dc.multiplication_gate
    product_network = dc.product_network
    rng = np.random.default_rng(ctx.seed_for(1, 2))
    lams = np.asarray(p["lambdas"], dtype=np.float64)
    u = _signed_uniform(rng, (p["gate_samples"],))
    v = _signed_uniform(rng, (p["gate_samples"],))
    n = p["deep_n"]
    x = _signed_uniform(rng, (p["deep_samples"], n))
    curves: dict[str, dict[str, list[float]]] = {"gate": {}, "deep": {}}
    combos = [(mode, dtype) for mode in ("network", "stable") for dtype in ("float64", "float32")]
    with ctx.bar(f"error vs λ (gate and deep n={n})", len(lams) * len(combos)) as bar:
        for mode, dtype in combos:
            gate_err, deep_err = [], []
            uu, vv = u.astype(dtype), v.astype(dtype)
            exact_gate = uu.astype(np.float64) * vv.astype(np.float64)
            xx = x.astype(dtype)
            exact_deep = np.prod(xx.astype(np.float64), axis=1)
            for lam in lams:  # into the cancellation floor on purpose: its warnings are the figure's point
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AccuracyWarning)
                    gate = multiplication_gate(uu, vv, scale=float(lam), bias=0.0, mode=mode)
                    net = product_network(n, kind="deep", scale=float(lam), dtype=dtype, mode=mode)
                gate_err.append(float(np.max(_relative_errors(gate, exact_gate))))
                deep_err.append(float(np.max(_relative_errors(net(xx), exact_deep))))
                bar.update()
            curves["gate"][f"{mode}/{dtype}"] = gate_err
            curves["deep"][f"{mode}/{dtype}"] = deep_err

    # The leading-order law for softplus at bias 0, checked sample by sample at λ = 1e-2.
    lam = 1e-2
    gate = np.asarray(multiplication_gate(u, v, scale=lam, bias=0.0, mode="network"), dtype=np.float64)
    signed = (gate - u * v) / (u * v)
    predicted = -(lam**2) * (u**2 + v**2) / 12.0
    law_gap = float(np.max(np.abs(signed / predicted - 1.0)))
    slope_gate = _slope(lams, np.asarray(curves["gate"]["network/float64"]))
    slope_deep = _slope(lams, np.asarray(curves["deep"]["network/float64"]))

    def at(curve: list[float], target: float) -> float:
        return float(curve[int(np.argmin(np.abs(np.log(lams / target))))])

    deep64 = at(curves["deep"]["network/float64"], 1e-3)
    deep32_stable = at(curves["deep"]["stable/float32"], 1e-3)
    floor32_network = float(np.min(curves["deep"]["network/float32"]))
    section.numbers["error_law"] = {"lambdas": lams, "curves": curves, "gate_law_max_rel_gap_at_1e-2": law_gap,
                                    "slope_gate_float64": slope_gate, "slope_deep_float64": slope_deep,
                                    "deep_n": n, "deep_network_float64_at_1e-3": deep64,
                                    "deep_stable_float32_at_1e-3": deep32_stable,
                                    "deep_network_float32_best": floor32_network}

    fig, axes = subplots(2, width=5.2, height=4.0)
    styles = {"network/float64": ("C0", "-"), "stable/float64": ("C0", "--"),
              "network/float32": ("C3", "-"), "stable/float32": ("C3", "--")}
    for ax, key, title in ((axes[0], "gate", "4-neuron gate (softplus, bias 0)"),
                           (axes[1], "deep", f"deep network, n = {n}")):
        for label, errs in curves[key].items():
            color, ls = styles[label]
            ax.loglog(lams, np.maximum(errs, 1e-18), ls, color=color, marker=".", label=label)
        scale = (max(u.max() ** 2 + v.max() ** 2, 0) / 12.0) if key == "gate" else (n - 1) * 2.0 / 12.0
        ax.loglog(lams, scale * lams**2, ":", color="k", label="λ² law" + (" (bound)" if key == "deep" else ""))
        for dtype, color in (("float64", "C0"), ("float32", "C3")):
            ax.loglog(lams, UNIT_ROUNDOFF[dtype] / lams**2, ":", color=color, alpha=0.6, label=f"ε/λ² ({dtype})")
        ax.set_ylim(1e-17, 1e2)
        ax.set_xlabel("λ (scale)")
        ax.set_ylabel("max relative error")
        ax.set_title(title)
    axes[0].legend(loc="lower left", ncol=2)
    section.figure("error_law", "Maximum relative error against λ on inputs ±U[0.5, 1]: the network "
                   "as built ('network', cancellation included) and the same function without "
                   "cancellation ('stable'), float32 and float64, beside the λ² law and the ε/λ² "
                   "rounding line.", to_png(fig))
    section.claim("gate error = −λ²(u²+v²)/12 (softplus, λ = 1e-2)", f"max deviation {law_gap:.2%}",
                  "within 2%", law_gap <= 0.02)
    section.claim("log–log slope of gate error, λ ∈ [1e-3, 1e-1]", f"{slope_gate:.3f}", "2 ± 0.05",
                  abs(slope_gate - 2) <= 0.05)
    section.claim(f"deep n = {n}: slope, λ ∈ [1e-3, 1e-1]", f"{slope_deep:.3f}", "2 ± 0.05",
                  abs(slope_deep - 2) <= 0.05)
    section.claim(f"deep n = {n}, float64 network, λ = 1e-3", f"{deep64:.2e}", "≤ 2e-6", deep64 <= 2e-6)
    section.claim(f"deep n = {n}, float32 stable mode, λ = 1e-3", f"{deep32_stable:.2e}", "≤ 1e-5",
                  deep32_stable <= 1e-5)
    section.claim(f"deep n = {n}, float32 network mode: best over λ", f"{floor32_network:.2e}",
                  "> 1e-5 (cancellation floor)", floor32_network > 1e-5)


def _no_flattening(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    import torch

    jobs = width_law_jobs(p["width_n"], random_restarts=p["width_random_restarts"],
                          construction_restarts=p["width_construction_restarts"], steps=p["width_steps"],
                          samples=p["width_samples"], scale=p["width_scale"], seed=ctx.seed_for(1, 5) % 2**31)
    threads_before = torch.get_num_threads()
    t0 = time.perf_counter()
    try:
        with ctx.bar("width law: training one-hidden-layer nets", len(jobs)) as bar:
            if ctx.scheduler is not None:  # --scheduler: every training job is a task on the cluster
                results = width_law(jobs, client=ctx.client(), progress=bar)
            elif ctx.threads > 1 and len(jobs) >= 40:
                # One process per thread: the jobs are independent and pure (the same numbers as one
                # after another), and spawned workers start clean of this process's thread pools.
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                with ProcessPoolExecutor(ctx.threads, mp_context=multiprocessing.get_context("spawn")) as pool:
                    results = width_law(jobs, client=pool, progress=bar)
            else:
                results = width_law(jobs, progress=bar)
    finally:
        torch.set_num_threads(threads_before)
    seconds = time.perf_counter() - t0
    summary = width_law_summary(results)
    section.numbers["width_law"] = {
        "summary": summary, "training_seconds": seconds, "jobs": len(jobs),
        "runs": [{k: r[k] for k in ("n", "kind", "width", "init", "neurons", "error_before", "error")} for r in results],
        "method": (f"float64, full-batch L-BFGS ({p['width_steps']} iterations), softplus, {p['width_samples']} "
                   f"training points on U[−1, 1]ⁿ, relative RMS error on 4096 test points; per width "
                   f"{p['width_random_restarts']} random and {p['width_construction_restarts']} construction "
                   f"restarts (relative noise {', '.join(f'{x:g}' for x in CONSTRUCTION_NOISE)}, cycled); "
                   f"construction scale λ = {p['width_scale']}")}

    fig, ax = subplots(width=6.4, height=4.2)
    for i, e in enumerate(summary):
        color = f"C{i}"
        ax.loglog(e["widths"], np.maximum(e["best"], 1e-12), "o-", color=color, ms=3,
                  label=f"n = {e['n']}: best one-hidden-layer net")
        ax.loglog([e["deep_neurons"]], [max(e["deep_best"], 1e-12)], "*", color=color, ms=12,
                  label=f"n = {e['n']}: deep net trained ({e['deep_neurons']} neurons)")
        ax.loglog([e["exact"]["shallow"]["neurons"]], [max(e["exact"]["shallow"]["error"], 1e-12)], "s",
                  color=color, mfc="none", ms=9, label=f"n = {e['n']}: exact 2ⁿ / deep constructions")
        ax.loglog([e["exact"]["deep"]["neurons"]], [max(e["exact"]["deep"]["error"], 1e-12)], "D", color=color,
                  mfc="none", ms=7)
        ax.axvline(2 ** e["n"], color=color, lw=0.8, ls=":")
        ax.axvline(4 * (e["n"] - 1), color=color, lw=0.8, ls="--", alpha=0.5)
    ax.set_xlabel("hidden neurons")
    ax.set_ylabel("best relative RMS error on U[−1, 1]ⁿ")
    ax.set_title("The width law: one hidden layer needs 2ⁿ neurons to multiply n inputs")
    ax.legend(fontsize=6, ncol=2, loc="lower left")
    section.figure("width_law", "Best relative RMS error (over all restarts) of one-hidden-layer softplus "
                   "networks of every width 1 … 2ⁿ + 2, trained in float64 with L-BFGS from random starts and "
                   "from the perturbed 2ⁿ construction (subsets of its neurons below 2ⁿ); dotted: 2ⁿ, dashed: "
                   "4(n−1). Stars: the deep tree network trained the same way; squares and diamonds: the exact "
                   "shallow and deep constructions, untrained.", to_png(fig))
    rows = []
    for e in summary:
        rows.append([e["n"], fmt(e["best_below_2n"], 3), fmt(e["best_at_2n"], 3), fmt(e["ratio"], 3),
                     fmt(e["best_above_2n"], 3), e["deep_neurons"], fmt(e["deep_best"], 3),
                     fmt(e["exact"]["shallow"]["error"], 3), fmt(e["exact"]["deep"]["error"], 3)])
    section.table("width_law", "The width law measured: best error below 2ⁿ, at 2ⁿ and their ratio; the deep "
                  "network trained the same way", ["n", "best, width < 2ⁿ", "best, width 2ⁿ", "ratio",
                  "best, width > 2ⁿ", "deep neurons", "deep best", "2ⁿ construction", "deep construction"], rows)
    for e in summary:
        section.claim(f"n = {e['n']}: width 2ⁿ = {2 ** e['n']} beats every narrower one-hidden-layer net",
                      f"ratio {e['ratio']:.3g} ({e['best_below_2n']:.1e} → {e['best_at_2n']:.1e})",
                      f"≥ {p['width_min_ratio']:g} (no flattening below 2ⁿ)", e["ratio"] >= p["width_min_ratio"])
        if e["deep_neurons"] is not None and e["deep_neurons"] < 2 ** e["n"]:
            section.claim(f"n = {e['n']}: deep net with {e['deep_neurons']} < 2ⁿ neurons matches width 2ⁿ",
                          f"{e['deep_best']:.1e} vs {e['best_at_2n']:.1e}",
                          "deep error ≤ 2 × shallow error at 2ⁿ", e["deep_best"] <= 2 * e["best_at_2n"])
