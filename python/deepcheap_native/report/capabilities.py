"""Experiment 7, capabilities (mechanical learning): how many boolean functions one threshold unit,
depth-2 threshold networks with k hidden units, and a full unit realise, counted natively
(deepcheap_native.census), beside OEIS A000609 and brute forces written here."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

import deepcheap_native as dc

from ..census import A000609
from .context import Context, Section, fmt
from .figures import subplots, to_png

TITLE = "Capabilities: what one unit, a small network and a full unit can realise"
INTRO = (
    "A threshold unit computes [w·x ≥ t] on x ∈ {0,1}ⁿ; a full n-input, 1-output unit realises all "
    "2^(2ⁿ) boolean functions. The mechanical-learning paper says: \"The number of possible processing "
    "capabilities for N-1 RBMs is significantly less than that of a full N-1 IPU\" and \"Stacking RBMs "
    "together can potentially allow for the expression of more X-forms and processing capabilities, "
    "approaching the capability of a full IPU\". One N-1 RBM unit thresholded at p(h = 1 | x) = ½ is a "
    "threshold unit, so we count: threshold functions (OEIS A000609), functions of depth-2 threshold "
    "networks [v·h(x) ≥ s] with k hidden threshold units, and 2^(2ⁿ); and the fewest hidden units "
    "parity, majority and the multiplexer need."
)


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"count_n_max": 5, "depth2_n_max": 3, "brute_n_max": 2},
    "quick": {"count_n_max": 6, "depth2_n_max": 4, "brute_n_max": 3},
    "full": {"count_n_max": 6, "depth2_n_max": 4, "brute_n_max": 3},
}


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    counts: dict[int, int] = {}
    depth2: dict[int, list[int]] = {}
    with ctx.step(section, "threshold census"):
        _threshold_census(ctx, section, p, counts)
    with ctx.step(section, "depth-2 networks"):
        _depth2(ctx, section, p, depth2)
    with ctx.step(section, "capability figure"):
        _figure(section, counts, depth2)
    with ctx.step(section, "minimal hidden units"):
        _examples(section)


def _threshold_census(ctx: Context, section: Section, p: dict[str, Any], counts: dict[int, int]) -> None:
    census = dc.census
    seconds = {}
    with ctx.bar("counting threshold functions", p["count_n_max"] + 1) as bar:
        for n in range(p["count_n_max"] + 1):
            t0 = time.perf_counter()
            counts[n] = int(census.threshold_functions(n))
            seconds[n] = time.perf_counter() - t0
            bar.update()
    tables_ok = all(len(census.threshold_tables(n)) == counts[n] for n in range(min(p["count_n_max"], 5) + 1))
    section.numbers["threshold_census"] = {"n": list(counts), "count": list(counts.values()),
                                           "seconds": list(seconds.values())}
    rows = []
    for n, c in counts.items():
        full = 2 ** (2**n)
        rows.append([n, f"{c:,}", f"{np.log2(c):.3f}", f"{full:.4g}" if n > 4 else f"{full:,}", f"{2**n}",
                     fmt(c / full, 3), fmt(seconds[n], 3)])
    section.table("threshold_census", "One threshold unit against the full unit (counts computed here, "
                  "seconds on this machine)", ["n", "threshold functions", "log₂", "full unit 2^(2ⁿ)",
                  "log₂ full", "fraction", "seconds"], rows)
    for n, c in counts.items():
        section.claim(f"threshold functions of {n} inputs", f"{c:,}", f"{A000609[n]:,} (OEIS A000609)",
                      c == A000609[n])
    section.claim("threshold_tables(n) lists exactly that many", f"n ≤ {min(p['count_n_max'], 5)}", "equal",
                  tables_ok)
    top = max(counts)
    section.claim(f"n = {top} counted natively", f"{seconds[top]:.2f} s", "≈ 2 s (fastest public program known)",
                  None)
    frac = counts[top] / 2 ** (2**top)
    section.claim(f"RBM (one unit) far below the full unit, n = {top}", f"fraction {frac:.2e}",
                  "\"significantly less\" (seed)", frac < 1e-3)


def _brute_threshold(n: int) -> list[int]:
    """Threshold tables of n ≤ 3 inputs from every integer weight vector in [−3, 3]ⁿ (written here)."""
    x = np.arange(1 << n)
    X = ((x[:, None] >> np.arange(n)) & 1) if n else np.zeros((1, 0), dtype=np.int64)
    out = set()
    for w in itertools.product(range(-3, 4), repeat=n):
        s = X @ np.array(w, dtype=np.int64) if n else np.zeros(1, dtype=np.int64)
        for t in list(np.unique(s)) + [int(s.max()) + 1]:
            out.add(int(sum(1 << i for i in range(1 << n) if s[i] >= t)))
    return sorted(out)


def _brute_depth2(n: int, k: int) -> int:
    """|{g(h_1..h_k)}| over every tuple of threshold hidden units and every threshold output g."""
    T, G = _brute_threshold(n), _brute_threshold(k)
    full = (1 << (1 << n)) - 1
    reached = {0, full}
    for hs in itertools.product(T, repeat=k):
        pattern = [sum(((h >> x) & 1) << j for j, h in enumerate(hs)) for x in range(1 << n)]
        for g in G:
            reached.add(sum(((g >> q) & 1) << x for x, q in enumerate(pattern)))
    return len(reached)


def _depth2(ctx: Context, section: Section, p: dict[str, Any], depth2: dict[int, list[int]]) -> None:
    census = dc.census
    t0 = time.perf_counter()
    with ctx.bar("depth-2 threshold networks", p["depth2_n_max"] + 1) as bar:
        for n in range(p["depth2_n_max"] + 1):
            values = []
            for k in range(0, 2**n + 1):
                values.append(int(census.depth2_functions(n, k)))
                if values[-1] == 2 ** (2**n):
                    break
            depth2[n] = values
            bar.update()
    seconds = time.perf_counter() - t0
    brute = {(n, k): _brute_depth2(n, k) for n in range(p["brute_n_max"] + 1) for k in range(3) if n + k <= 5}
    section.numbers["depth2"] = {"counts": {str(n): v for n, v in depth2.items()}, "seconds": seconds,
                                 "brute_force": {f"{n},{k}": v for (n, k), v in brute.items()}}
    kmax = max(len(v) for v in depth2.values())
    rows = [[n] + [f"{v[k]:,}" if k < len(v) else "" for k in range(kmax)] + [f"{2 ** (2**n):,}"]
            for n, v in depth2.items()]
    section.table("depth2", "Functions realised by depth-2 threshold networks with k hidden units (k = 0: the "
                  "constants; k = 1: one threshold unit); the last k reaches every function",
                  ["n"] + [f"k = {k}" for k in range(kmax)] + ["full unit"], rows)
    mismatches = [(n, k) for (n, k), v in brute.items() if depth2[n][min(k, len(depth2[n]) - 1)] != v]
    section.claim(f"depth-2 counts = brute force (n ≤ {p['brute_n_max']}, k ≤ 2)",
                  f"{len(brute) - len(mismatches)} of {len(brute)} agree", "all", not mismatches)
    ks = {n: len(v) - 1 for n, v in depth2.items()}
    section.claim("k = 1 hidden unit realises exactly the threshold functions",
                  ", ".join(f"{depth2[n][1]:,}" for n in depth2 if len(depth2[n]) > 1), "A000609",
                  all(depth2[n][1] == A000609[n] for n in depth2 if len(depth2[n]) > 1))
    section.claim("stacking reaches the full unit: every function with k = n hidden units (n ≥ 1)",
                  ", ".join(f"n = {n}: k = {k}" for n, k in ks.items()),
                  "\"approaching the capability of a full IPU\" (seed); parity needs n",
                  all(k == max(n, 1) or (n == 0 and k == 0) for n, k in ks.items()))


def _figure(section: Section, counts: dict[int, int], depth2: dict[int, list[int]]) -> None:
    if not counts:
        raise RuntimeError("no counts to draw (the census step failed)")
    fig, ax = subplots(width=6.0, height=4.0)
    ns = sorted(counts)
    ax.semilogy(ns, [2.0**n for n in ns], "k-", label="full unit: log₂ 2^(2ⁿ) = 2ⁿ")
    ax.semilogy(ns, [max(np.log2(counts[n]), 1e-1) for n in ns], "o-", color="C0",
                label="one threshold unit (A000609)")
    kmax = max((len(v) for v in depth2.values()), default=0)
    for k in range(2, kmax):
        pts = [(n, depth2[n][min(k, len(depth2[n]) - 1)]) for n in sorted(depth2) if n >= 1]
        ax.semilogy([a for a, _ in pts], [np.log2(b) for _, b in pts], "s--", color=f"C{k}", mfc="none",
                    label=f"depth 2, k = {k} hidden units")
    ax.set_xlabel("n (inputs)")
    ax.set_ylabel("log₂(number of functions)")
    ax.set_title("Capabilities: one unit, depth-2 networks, the full unit")
    ax.legend(fontsize=7)
    section.figure("capabilities", "log₂ of the number of boolean functions of n inputs realised by one "
                   "threshold unit, by depth-2 threshold networks with k hidden units, and by a full unit.",
                   to_png(fig))


def _examples(section: Section) -> None:
    census = dc.census
    rows = []
    ok = True
    for n in (2, 3, 4):
        x = np.arange(1 << n)
        X = (x[:, None] >> np.arange(n)) & 1
        parity = X.sum(1) % 2
        majority = (2 * X.sum(1) >= n + 1).astype(int)
        # The witness for parity with n units: [h₁ − h₂ + h₃ − … ≥ 1], h_j = [Σx ≥ j], checked here.
        h = np.stack([(X.sum(1) >= j) for j in range(1, n + 1)], 1).astype(int)
        witness = np.array_equal((h @ np.array([(-1) ** j for j in range(n)]) >= 1).astype(int), parity)
        p_units, m_units = census.min_hidden_units(parity), census.min_hidden_units(majority)
        rows.append([n, "parity", p_units, "≤ n (witness above" + (", verified)" if witness else ", FAILED)")])
        rows.append([n, "majority [Σx ≥ ⌈(n+1)/2⌉]", m_units, "1 (a threshold function)"])
        ok_parity = witness and p_units <= n and p_units >= 2
        section.claim(f"parity of {n} inputs: fewest hidden units", f"{p_units}",
                      f"≤ {n} (witness [Σ(−1)^(j+1) h_j ≥ 1]); > 1 (not unate)", ok_parity)
        section.claim(f"majority of {n} inputs: fewest hidden units", f"{m_units}", "1 (threshold function)",
                      m_units == 1)
        ok = ok and ok_parity and m_units == 1
        if n >= 3:
            mux = np.where(X[:, 0] == 1, X[:, 2], X[:, 1])  # x0 ? x2 : x1
            u = census.min_hidden_units(mux)
            rows.append([n, "multiplexer x₀ ? x₂ : x₁", u, "2: (x₀ ∧ x₂) ∨ (¬x₀ ∧ x₁); not unate, so > 1"])
            section.claim(f"multiplexer ({n} inputs): fewest hidden units", f"{u}", "2", u == 2)
    section.table("min_hidden_units", "Fewest hidden units of a depth-2 threshold network (exhaustive search "
                  "over networks up to input permutations and negations)", ["n", "function", "hidden units",
                  "reference"], rows)
    section.numbers["min_hidden_units"] = rows
