"""Experiment 5, performance: every hot path timed against the best peer code a Python user has at
hand (torch eager, vectorised numpy), in the same process and run, reported as ratios. Each timing
also checks that the native and the peer answers agree."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import deepcheap_native as dc

from ..product import AccuracyWarning
from ..testing.peers import NumpyLevelized, numpy_alias_sampler, numpy_checkerboard_sweep
from .context import Context, Section, best_time
from .figures import subplots, to_png

TITLE = "Performance: native kernels against their peers"
INTRO = (
    "Best-of-k wall-clock times of each hot path on this machine, native against peers written the "
    "way a user would (torch eager with the exported weights; vectorised numpy), measured in the "
    "same process and run. Ratios above 1 mean the native code is faster. The pytest-benchmark suite "
    "(deepcheap bench) times the same paths more thoroughly."
)

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"limits": "quick", "repeat": 2, "deep_batch": 20000, "shallow_n": 8, "shallow_batch": 2000,
             "markov_states": 16, "markov_chains": 5000, "markov_steps": 20,
             "ising_L": 64, "ising_sweeps": 4, "numpy_replicas": 2, "circuit_words": 16},
    "quick": {"limits": "quick", "repeat": 3, "deep_batch": 200000, "shallow_n": 12, "shallow_batch": 10000,
              "markov_states": 16, "markov_chains": 100000, "markov_steps": 50,
              "ising_L": 256, "ising_sweeps": 10, "numpy_replicas": 4, "circuit_words": 128},
    "full": {"limits": "full", "repeat": 5, "deep_batch": 1000000, "shallow_n": 12, "shallow_batch": 20000,
             "markov_states": 256, "markov_chains": 100000, "markov_steps": 200,
             "ising_L": 1024, "ising_sweeps": 10, "numpy_replicas": 4, "circuit_words": 256},
}


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = []
    section.numbers["comparisons"] = rows
    steps: list[tuple[str, Callable[[Context, dict[str, Any]], list[dict[str, Any]]]]] = [
        ("product networks", _product), ("Markov sampling", _markov), ("Ising sweeps", _ising),
        ("circuit evaluation", _circuit),
    ]
    with ctx.bar("native vs peers", len(steps)) as bar:
        for name, fn in steps:
            with ctx.step(section, name):
                rows.extend(fn(ctx, p))
            bar.update()
    with ctx.step(section, "limits"):
        _limits(ctx, section, p)
    if not rows:
        return
    fig, ax = subplots(width=7.0, height=0.5 + 0.45 * len(rows))
    labels = [f"{r['path']}: vs {r['peer']}" for r in rows]
    ratios = [r["ratio"] for r in rows]
    ax.barh(range(len(rows)), ratios, color=["C2" if x >= 1 else "C3" for x in ratios])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="k", lw=0.8)
    ax.set_xlabel("peer time / native time (higher: native faster)")
    ax.set_title(f"Native against peers, {ctx.threads} thread(s)")
    section.figure("ratios", "Speed ratios measured in this run (best of "
                   f"{p['repeat']} timings each).", to_png(fig))
    section.table("comparisons", "Timings", ["hot path", "size", "native", "peer", "peer time",
                  "ratio", "throughput (native)"],
                  [[r["path"], r["size"], f"{r['native_s'] * 1e3:.2f} ms", r["peer"],
                    f"{r['peer_s'] * 1e3:.2f} ms", f"{r['ratio']:.1f}×", r["throughput"]] for r in rows])
    for r in rows:
        section.claim(f"{r['path']} vs {r['peer']}", f"{r['ratio']:.1f}× faster" if r["ratio"] >= 1
                      else f"{1 / r['ratio']:.1f}× slower", "native faster", r["ratio"] >= 1,
                      f"{r['size']}; answers agree")


def _limits(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    """The roofline (testing/roofline.py): each hot path's rate beside the limit this machine sets it,
    both measured here, for every SIMD target on 1 thread and on the run's threads. Informational
    claims: issue 26's goal is ≥ 50 % of the limit on 1 thread, and a fraction is only as good as the
    kernel's model (the docs' performance page states each)."""
    from ..testing.roofline import machine_line, roofline

    rows = roofline(quick=p["limits"] == "quick", threads=[1, ctx.threads])
    section.numbers["limits"] = rows
    section.table("limits", f"Limits: measured rate against this machine's limit for it ({p['limits']} "
                  f"sizes; {machine_line()}). The Ising limit is a lower bound, so its fraction is an "
                  "upper bound.", ["target", "threads", "hot path", "size", "measured", "limit", "fraction",
                                   "× 1 thread", "bound by"],
                  [[r["target"], r["threads"], r["hot path"], r["size"], f"{r['items/s']:.3g}",
                    f"{r['limit']:.3g}", f"{100 * r['fraction']:.0f} %",
                    "" if r["scaling"] is None else f"{r['scaling']:.2f}×", r["bound"]] for r in rows])
    best = rows[-1]["target"]  # roofline() runs the targets in order, the best last
    for r in rows:
        if r["target"] == best and r["threads"] == 1:
            section.claim(f"{r['hot path']}: fraction of its limit ({best}, 1 thread)",
                          f"{100 * r['fraction']:.0f} %", "≥ 50 % (issue 26 goal)", None, r["bound"])


def _row(path: str, size: str, native_s: float, peer: str, peer_s: float, throughput: str) -> dict[str, Any]:
    return {"path": path, "size": size, "native_s": native_s, "peer": peer, "peer_s": peer_s,
            "ratio": peer_s / native_s, "throughput": throughput}


def _numpy_forward(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, activation: Any) -> np.ndarray:
    h = x
    for W, b in weights[:-1]:
        h = activation(h @ np.asarray(W, dtype=x.dtype).T + np.asarray(b, dtype=x.dtype))
    W, b = weights[-1]
    return h @ np.asarray(W, dtype=x.dtype).T + np.asarray(b, dtype=x.dtype)


def _product(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    import torch

    product_network = dc.product_network
    rng = np.random.default_rng(ctx.seed_for(5, 1))
    rows = []
    for kind, n, batch in (("deep", 16, p["deep_batch"]), ("shallow", p["shallow_n"], p["shallow_batch"])):
        with warnings.catch_warnings():  # a timing of the kernels; the networks' accuracy is section 1's
            warnings.simplefilter("ignore", AccuracyWarning)
            net = product_network(n, kind=kind, dtype="float32", mode="network", scale=0.1)
        x = (rng.uniform(0.5, 1.0, (batch, n)) * rng.choice([-1.0, 1.0], (batch, n))).astype(np.float32)
        module = net.to_torch()
        xt = torch.from_numpy(x)
        native_out = np.asarray(net(x), dtype=np.float64).reshape(-1)
        with torch.no_grad():
            torch_out = module(xt).numpy().astype(np.float64).reshape(-1)
        exact = np.prod(x.astype(np.float64), axis=1)
        scale = np.abs(exact)
        # Both compute the same float32 network; they round differently. The shallow float32 network at
        # lambda = 0.1 sits in its floor (its error is rounding amplified by cancellation, hundreds of
        # times the product), where two correct evaluations differ by a few times: measured 460 native
        # vs 213 torch on an AVX-512 Xeon (9380 vs 16053 there with the AVX2 target, another batch). So the check allows 8x: it catches a
        # broken kernel, not a different rounding.
        err_native = float(np.max(np.abs(native_out - exact) / scale))
        err_torch = float(np.max(np.abs(torch_out - exact) / scale))
        if not err_native <= max(8 * err_torch, 1e-3):
            raise AssertionError(f"{kind} product network: native error {err_native:.2e} vs torch {err_torch:.2e}")
        t_native = best_time(lambda: net(x), repeat=p["repeat"])

        def torch_call() -> None:
            with torch.no_grad():
                module(xt)

        t_torch = best_time(torch_call, repeat=p["repeat"])
        size = f"n = {n}, B = {batch:,}, float32"
        rows.append(_row(f"product network ({kind})", size, t_native, "torch eager (to_torch())", t_torch,
                         f"{batch / t_native:.3g} samples/s"))
        if kind == "deep":
            def softplus(z: np.ndarray) -> np.ndarray:
                return np.logaddexp(np.float32(0), z)

            np_out = _numpy_forward(net.weights, x, softplus).reshape(-1)
            if not np.max(np.abs(np_out - exact) / scale) <= max(2 * err_native, 1e-3) * 10:
                raise AssertionError("numpy forward pass of the weights disagrees with the product")
            t_numpy = best_time(lambda: _numpy_forward(net.weights, x, softplus), repeat=p["repeat"])
            rows.append(_row(f"product network ({kind})", size, t_native, "numpy forward pass", t_numpy,
                             f"{batch / t_native:.3g} samples/s"))
    return rows


def _markov(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    MarkovChain = dc.MarkovChain
    S, N, T = p["markov_states"], p["markov_chains"], p["markov_steps"]
    rng = np.random.default_rng(ctx.seed_for(5, 2))
    P = rng.dirichlet(np.full(S, 0.5), size=S)
    chain = MarkovChain(P)
    native = np.asarray(chain.sample(N, T, seed=ctx.seed_for(5, 3))).astype(np.int64)
    numpy_sampler = numpy_alias_sampler(P, N, seed=ctx.seed_for(5, 4))
    peer = numpy_sampler(T).astype(np.int64)
    # Same distribution: both final-state histograms are near the exact marginal after T steps from
    # the uniform start (total variation ≤ 5/sqrt(N) per sampler is far beyond sampling noise).
    exact = np.full(S, 1.0 / S) @ np.linalg.matrix_power(P, T)
    for name, states in (("native", native), ("numpy", peer)):
        tv = 0.5 * np.abs(np.bincount(states, minlength=S) / N - exact).sum()
        if tv > 5 * np.sqrt(S / N):
            raise AssertionError(f"{name} Markov sampler: total variation {tv:.3g} from the exact marginal")
    t_native = best_time(lambda: chain.sample(N, T, seed=1), repeat=p["repeat"])
    t_numpy = best_time(lambda: numpy_sampler(T), repeat=max(1, p["repeat"] - 1))
    return [_row("Markov sampling", f"S = {S}, {N:,} chains × {T} steps", t_native, "numpy alias method",
                 t_numpy, f"{N * T / t_native / 1e6:.3g} M transitions/s")]


def _ising(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    IsingModel, ising = dc.IsingModel, dc.ising
    L, sweeps, R_np = p["ising_L"], p["ising_sweeps"], p["numpy_replicas"]
    T = float(ising.CRITICAL_TEMPERATURE)
    R = 64
    sampler = IsingModel(L).sampler(T, replicas=R, seed=ctx.seed_for(5, 5), init="random")
    sampler.sweep(2)
    spins = np.where(np.random.default_rng(ctx.seed_for(5, 6)).random((R_np, L, L)) < 0.5, -1, 1).astype(np.int8)
    rng = np.random.default_rng(ctx.seed_for(5, 7))
    # Agreement: from random starts at T_c both relax to comparable energies within 20 sweeps.
    numpy_spins = spins.copy()
    for _ in range(20):
        numpy_checkerboard_sweep(numpy_spins, 1.0 / T, rng)
    s = numpy_spins.astype(np.int32)
    e_numpy = float(np.mean(-(s * (np.roll(s, 1, -1) + np.roll(s, 1, -2))).sum((1, 2)) / (L * L)))
    sampler.sweep(18)
    e_native = float(np.mean(np.asarray(sampler.energy())))
    if abs(e_native - e_numpy) > 0.1:
        raise AssertionError(f"Ising: native energy {e_native:.3f} vs numpy {e_numpy:.3f} after 20 sweeps")
    t_native = best_time(lambda: sampler.sweep(sweeps), repeat=p["repeat"])
    t_numpy = best_time(lambda: [numpy_checkerboard_sweep(spins, 1.0 / T, rng) for _ in range(2)], repeat=2)
    native_rate = R * L * L * sweeps / t_native / 1e9
    numpy_rate = R_np * L * L * 2 / t_numpy / 1e9
    row = _row("Ising Metropolis sweeps", f"L = {L}, T = T_c, {R} replicas × {sweeps} sweeps "
               f"(numpy: {R_np} × 2)", t_native, "numpy checkerboard", t_numpy, f"{native_rate:.3g} flips/ns")
    row["ratio"] = native_rate / numpy_rate  # the two time different amounts of work: compare rates
    row["numpy_flips_per_ns"] = numpy_rate
    return [row]


def _circuit(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    from .circuits import load_bristol

    c = load_bristol("sha256")
    peer = NumpyLevelized(c)
    words = p["circuit_words"]
    x = np.random.default_rng(ctx.seed_for(5, 8)).integers(0, 2**64, (c.n_inputs, words), dtype=np.uint64)
    native = np.asarray(c.evaluate_packed(x))  # default schedule "batch", all threads
    if not np.array_equal(native, peer(x)):
        raise AssertionError("sha256: native bit-sliced outputs differ from the numpy evaluator")
    t_native = best_time(lambda: c.evaluate_packed(x), repeat=p["repeat"])
    t_numpy = best_time(lambda: peer(x), repeat=2)
    W = c.work
    return [_row("sha256 circuit (bit-sliced)", f"{64 * words:,} vectors", t_native,
                 "numpy levelized bit-slicing", t_numpy, f"{W * 64 * words / t_native:.3g} gate-evals/s")]
