"""Experiment 2, hierarchical generative processes: information about the cause y₀ along random
Markov hierarchies, exact and sampled (the data-processing inequality), and the Bayes accuracy of
guessing y₀ from yₖ."""

from __future__ import annotations

from typing import Any

import numpy as np

import deepcheap_native as dc

from .context import Context, Section
from .figures import subplots, to_png

TITLE = "Hierarchies: information about the cause falls along the chain"
INTRO = (
    "Data made by a hierarchical generative process y₀ → y₁ → … → y_L (row-stochastic, possibly "
    "rectangular matrices). The information I(y₀; yₖ) can only fall with k (data-processing "
    "inequality), and so does the accuracy of the best guess of y₀ from yₖ. Exact values from the "
    "matrices, beside estimates from sampled chains (Miller–Madow corrected, ±3 standard errors)."
)

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"hierarchies": 2, "levels": 5, "root_states": 8, "level_states": [8, 12, 16],
             "dirichlet_alpha": 0.2, "samples": 20000},
    "quick": {"hierarchies": 3, "levels": 10, "root_states": 16, "level_states": [8, 12, 16, 24, 32],
              "dirichlet_alpha": 0.15, "samples": 200000},
    "full": {"hierarchies": 5, "levels": 16, "root_states": 32, "level_states": [16, 24, 32, 48, 64],
             "dirichlet_alpha": 0.15, "samples": 2000000},
}


def random_hierarchy(seed: int, p: dict[str, Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """Matrices with Dirichlet rows (small alpha: sparse, informative rows) and a random p(y₀).

    Deterministic in `seed`, so a test can rebuild exactly the hierarchies the report used.
    """
    rng = np.random.default_rng(seed)
    sizes = [p["root_states"]] + [int(rng.choice(p["level_states"])) for _ in range(p["levels"])]
    matrices = [rng.dirichlet(np.full(b, p["dirichlet_alpha"]), size=a) for a, b in zip(sizes, sizes[1:])]
    p0 = rng.dirichlet(np.full(sizes[0], 2.0))
    return matrices, p0


def exact_mutual_information(p0: np.ndarray, matrices: list[np.ndarray], k: int) -> float:
    """I(y₀; yₖ) in nats from the joint diag(p0)·M₁⋯Mₖ, computed independently in numpy."""
    joint = np.diag(p0)
    for m in matrices[:k]:
        joint = joint @ m
    px, py = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log(joint[mask] / (px @ py)[mask])))


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "information along hierarchies"):
        _information(ctx, section, p)


def _information(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    HierarchicalChain = dc.HierarchicalChain
    info = dc.info
    L = p["levels"]
    hierarchies = []
    with ctx.bar("sampling hierarchies", p["hierarchies"]) as bar:
        for h in range(p["hierarchies"]):
            build_seed = ctx.seed_for(2, h)
            matrices, p0 = random_hierarchy(build_seed, p)
            chain = HierarchicalChain(matrices, p0)
            sample_seed = ctx.seed_for(2, 100 + h)
            samples = chain.sample(p["samples"], seed=sample_seed)
            levels = samples if isinstance(samples, (list, tuple)) else [samples[:, k] for k in range(L + 1)]
            levels = [np.asarray(a).astype(np.int64) for a in levels]
            exact = [float(chain.mutual_information(0, k)) for k in range(L + 1)]
            independent = [exact_mutual_information(p0, matrices, k) for k in range(L + 1)]
            sampled, errors = [], []
            for k in range(L + 1):
                estimate = info.mutual_information(levels[0], levels[k], correction="miller-madow")
                sampled.append(estimate.value)
                errors.append(estimate.stderr)
            bayes_exact = [float(chain.bayes_accuracy(0, k)) for k in range(L + 1)]
            bayes_sampled = []
            for k in range(L + 1):
                joint = np.asarray(chain.joint(0, k), dtype=np.float64)
                guess = np.argmax(joint, axis=0)  # the MAP y₀ for each value of yₖ
                bayes_sampled.append(float(np.mean(guess[levels[k]] == levels[0])))
            hierarchies.append({
                "build_seed": build_seed, "sample_seed": sample_seed,
                "sizes": [int(p0.size)] + [int(m.shape[1]) for m in matrices],
                "mi_exact": exact, "mi_numpy": independent, "mi_sampled": sampled, "mi_sampled_se": errors,
                "bayes_exact": bayes_exact, "bayes_sampled": bayes_sampled, "chance": float(p0.max()),
            })
            bar.update()
    section.numbers["hierarchies"] = hierarchies

    n = p["samples"]
    dpi_violation = max(max(np.diff(h["mi_exact"]).max(), 0.0) for h in hierarchies)
    bayes_violation = max(max(np.diff(h["bayes_exact"]).max(), 0.0) for h in hierarchies)
    numpy_gap = max(max(abs(a - b) for a, b in zip(h["mi_exact"], h["mi_numpy"])) for h in hierarchies)
    z_scores, within = [], 0
    total = 0
    for h in hierarchies:
        for exact, est, se in zip(h["mi_exact"][1:], h["mi_sampled"][1:], h["mi_sampled_se"][1:]):
            total += 1
            if np.isfinite(se) and se > 0:
                z_scores.append((est - exact) / se)
                within += abs(est - exact) <= 3 * se
    bayes_z = max(abs(s - e) / np.sqrt(max(e * (1 - e), 1e-12) / n)
                  for h in hierarchies for s, e in zip(h["bayes_sampled"], h["bayes_exact"]))
    section.numbers["summary"] = {"dpi_max_increase": dpi_violation, "bayes_max_increase": bayes_violation,
                                  "library_vs_numpy_max_gap": numpy_gap, "mi_within_3se": within,
                                  "mi_points": total, "bayes_max_z": bayes_z}

    fig, axes = subplots(2, width=5.2, height=3.8)
    ks = np.arange(L + 1)
    for i, h in enumerate(hierarchies):
        c = f"C{i}"
        axes[0].plot(ks, h["mi_exact"], "-", color=c, label=f"hierarchy {i + 1}: exact")
        axes[0].errorbar(ks, h["mi_sampled"], yerr=3 * np.nan_to_num(np.asarray(h["mi_sampled_se"])),
                         fmt="o", color=c, mfc="none", ms=4, capsize=2, label=f"hierarchy {i + 1}: sampled")
        axes[1].plot(ks, h["bayes_exact"], "-", color=c, label=f"hierarchy {i + 1}: exact")
        axes[1].plot(ks, h["bayes_sampled"], "o", color=c, mfc="none", ms=4)
        axes[1].axhline(h["chance"], color=c, lw=0.7, ls=":")
    axes[0].set_xlabel("level k")
    axes[0].set_ylabel("I(y₀; yₖ)  [nats]")
    axes[0].set_title("Information about the cause")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("level k")
    axes[1].set_ylabel("P(MAP guess of y₀ from yₖ is right)")
    axes[1].set_title("Bayes accuracy (dotted: guess the likeliest y₀)")
    section.figure("information", f"{len(hierarchies)} random hierarchies with level sizes "
                   + "; ".join("×".join(map(str, h["sizes"])) for h in hierarchies)
                   + f"; {n:,} sampled chains each (error bars ±3 standard errors).", to_png(fig))
    rows = []
    for i, h in enumerate(hierarchies):
        for k in range(L + 1):
            rows.append([i + 1, k, f"{h['mi_exact'][k]:.4f}", f"{h['mi_sampled'][k]:.4f}",
                         f"{h['mi_sampled_se'][k]:.1e}", f"{h['bayes_exact'][k]:.4f}",
                         f"{h['bayes_sampled'][k]:.4f}"])
    section.table("information", "Exact and sampled values", ["hierarchy", "k", "I exact", "I sampled",
                  "s.e.", "Bayes exact", "Bayes sampled"], rows)
    section.claim("I(y₀; yₖ) never increases with k (exact)", f"max increase {dpi_violation:.1e}",
                  "≤ 0 (data-processing inequality)", dpi_violation <= 1e-12)
    section.claim("Bayes accuracy never increases with k (exact)", f"max increase {bayes_violation:.1e}",
                  "≤ 0", bayes_violation <= 1e-12)
    section.claim("library I(y₀; yₖ) = independent numpy joint", f"max gap {numpy_gap:.1e}", "≤ 1e-10",
                  numpy_gap <= 1e-10)
    section.claim("sampled I within 3 s.e. of exact", f"{within} of {total}",
                  f"≥ {int(0.95 * total)} (about 99.7% expected)", within >= int(0.95 * total))
    section.claim("sampled Bayes accuracy vs exact", f"max |z| = {bayes_z:.2f}", "≤ 4.5 (binomial)",
                  bayes_z <= 4.5)
