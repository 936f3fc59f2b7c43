"""Experiment 9, locality and symmetry (issue 23): the Ising Boltzmann log-probability −H/T as a
convolutional product-gate network (exact construction, parameter counts, energy check), and the phases of
the Ising model learned by a dense and a convolutional classifier (Carrasquilla & Melko 2017)."""

from __future__ import annotations

from typing import Any

import numpy as np

import deepcheap_native as dc

from .context import Context, Section, fmt
from .figures import subplots, to_png

TITLE = "Locality and symmetry: −H/T as a convolution, and the Ising phases learned"
INTRO = (
    "Lin, Tegmark & Rolnick: the log-probability of physical data is a low-order polynomial Hamiltonian "
    "whose terms are local and translation-invariant, so the network that computes it needs few "
    "parameters; LeCun: ConvNets work because signals are local and translation-invariant. First the exact "
    "construction: −H/T of the 2D Ising model as a periodic convolution, product gates and a global sum "
    "(parameters independent of L) against the same function with no weight sharing (L² times as many). "
    "Then the learned one: Carrasquilla & Melko's dense network (100 sigmoid units) against a small "
    "convolutional network with global average pooling, trained on Wolff-sampled lattices labelled "
    "T < T_c; where the output crosses ½ gives T*(L), extrapolated to T_c."
)

#: Adam's rate per model: the better of 1e-2 and 3e-2 in a short trial for each (dense at 3e-2 failed to
#: converge at L = 32; conv at 1e-2 was still far from converged after 10 epochs). Same optimiser, batch,
#: epochs and data otherwise.
LR = {"dense": 1e-2, "conv": 3e-2}

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"count_sizes": [4, 8], "energy_L": 8, "energy_lattices": 16, "enumerate_L": 3,
             "phases": {"sizes": [8, 16], "t_min": 1.5, "t_max": 3.5, "n_temperatures": 12, "n_train": 40,
                        "n_test": 20, "seeds": 2, "epochs": 5, "batch_size": 128, "lr": LR, "hidden": 100,
                        "channels": 4, "transfer": [8, 16], "symmetry_L": 8, "thermalize": 20}},
    "quick": {"count_sizes": [8, 16, 32, 64], "energy_L": 16, "energy_lattices": 64, "enumerate_L": 4,
              "phases": {"sizes": [8, 16, 32], "t_min": 1.5, "t_max": 3.5, "n_temperatures": 20, "n_train": 60,
                         "n_test": 40, "seeds": 2, "epochs": 8, "batch_size": 128, "lr": LR, "hidden": 100,
                         "channels": 4, "transfer": [16, 64], "symmetry_L": 16, "thermalize": 20}},
    "full": {"count_sizes": [8, 16, 32, 64, 128], "energy_L": 32, "energy_lattices": 256, "enumerate_L": 4,
             "phases": {"sizes": [8, 16, 32, 64], "t_min": 1.5, "t_max": 3.5, "n_temperatures": 24, "n_train": 400,
                        "n_test": 100, "seeds": 5, "epochs": 15, "batch_size": 128, "lr": LR, "hidden": 100,
                        "channels": 4, "transfer": [16, 64], "symmetry_L": 32, "thermalize": 40}},
}


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "exact construction"):
        _exact(ctx, section, p)
    with ctx.step(section, "phases (Carrasquilla-Melko)"):
        _phases(ctx, section, p)


def _exact(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    IsingModel = dc.IsingModel
    from ..locality import LatticeHamiltonian, hamiltonian_network, network_neurons, network_parameters

    rows = []
    for L in p["count_sizes"]:
        H = LatticeHamiltonian.from_ising(IsingModel(L))
        rows.append([L, network_parameters(H, "conv"), network_parameters(H, "dense"), network_neurons(H),
                     L * L * L * L])
    section.table("parameters", "Parameters of −H/T for the Ising model (h = 0): conv shares one 3x3-kernel "
                  "site network (8 gate neurons), dense copies it at every site; a fully connected first "
                  "layer over L² inputs would need L⁴ weights per hidden channel.",
                  ["L", "conv parameters", "dense parameters", "neurons (both)", "L⁴"], rows)
    section.numbers["parameters"] = rows
    conv_const = len({r[1] for r in rows}) == 1
    dense_ratio = all(r[2] == r[1] * r[0] ** 2 for r in rows)
    section.claim("conv parameters independent of L, dense = L² × conv",
                  f"conv {rows[0][1]} at every L; dense {rows[-1][2]:,} at L = {rows[-1][0]}",
                  "88 and 88 L² (closed form)", conv_const and dense_ratio and rows[0][1] == 88)

    L = p["energy_L"]
    T = 2.5
    model = IsingModel(L)
    H = LatticeHamiltonian.from_ising(model)
    sampler = model.sampler(T, replicas=p["energy_lattices"], seed=ctx.seed_for(9, 1))
    sampler.sweep(50)
    spins = np.asarray(sampler.spins)
    exact = -H.energy(spins) / T
    net = hamiltonian_network(H, T, scale=0.01)
    gap = float(np.max(np.abs(net(spins) - exact)))
    section.numbers["energy_check"] = {"L": L, "T": T, "max_gap": gap, "bound": net.error_bound}
    section.claim(f"network −H/T vs exact energy, {len(spins)} sampled {L}x{L} lattices (λ = 0.01)",
                  f"max |Δ| = {gap:.2e}", f"≤ λ²·L²·Σ|c|/(6T) = {net.error_bound:.2e} (gate's λ² law)",
                  gap <= net.error_bound * 1.01)
    Le = p["enumerate_L"]
    He = LatticeHamiltonian(Le, [(-1.0, [(0, 0), (0, 1)]), (-1.0, [(0, 0), (1, 0)])])  # Ising, any L
    n = Le * Le
    states = (1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)).reshape(-1, Le, Le).astype(np.int8)
    Te = 2.269
    log_p = -He.energy(states) / Te
    log_p -= np.logaddexp.reduce(log_p)
    nete = hamiltonian_network(He, Te, scale=0.01)
    out = nete(states)
    log_q = out - np.logaddexp.reduce(out)
    worst = float(np.max(np.abs(log_q - log_p)))
    section.claim(f"softmax of the network over all 2^{n} states = Boltzmann (L = {Le}, T = {Te})",
                  f"max |log p_net − log p| = {worst:.2e}", f"≤ 2 × bound = {2 * nete.error_bound:.2e}",
                  worst <= 2 * nete.error_bound)


def _phases(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    from ..ising import CRITICAL_TEMPERATURE as TC
    from ..locality.phases import run_phase_experiment

    q = p["phases"]
    with ctx.bar("phases: sampling and training", 1) as bar:
        r = run_phase_experiment(q, seed=ctx.seed_for(9, 2) % (2**32))
        bar.update()
    temps = np.array(r.temperatures)
    sizes = list(q["sizes"])
    section.numbers["phases"] = {
        "sampling_seconds": r.sampling_seconds, "training_seconds": r.training_seconds,
        "n_parameters": r.n_parameters, "t_star": r.t_star, "t_star_mean": r.t_star_mean,
        "t_star_error": r.t_star_error, "accuracy": r.accuracy, "fits": r.fits, "transfer": r.transfer,
        "symmetry": r.symmetry, "curves": r.curves}

    fig, axes = subplots(3, width=4.4, height=3.6)
    for k, name in enumerate(("dense", "conv")):
        for i, L in enumerate(sizes):
            axes[k].plot(temps, r.curves[name][L], "o-", ms=3, color=f"C{i}", label=f"L = {L}")
        axes[k].axvline(TC, color="k", lw=0.7, ls=":")
        axes[k].axhline(0.5, color="grey", lw=0.5)
        axes[k].set_title(f"{name} ({r.n_parameters[name][sizes[-1]]:,} parameters at L = {sizes[-1]})")
        axes[k].set_xlabel("T")
        axes[k].set_ylabel("mean P(ordered)")
        axes[k].legend(fontsize=7)
    inv = np.array([1.0 / L for L in sizes])
    for k, name in enumerate(("dense", "conv")):
        y = [r.t_star_mean[name][L] for L in sizes]
        e = [r.t_star_error[name][L] for L in sizes]
        axes[2].errorbar(inv, y, yerr=np.nan_to_num(e), fmt="o", color=f"C{k}", capsize=2, label=name)
        fit = r.fits[name]["nu=1"]
        xs = np.linspace(0, inv.max(), 20)
        axes[2].plot(xs, fit["Tc"] + fit["a"] * xs, "-", color=f"C{k}", lw=0.8)
    axes[2].axhline(TC, color="k", lw=0.7, ls=":", label="Onsager")
    axes[2].set_xlabel("1 / L")
    axes[2].set_ylabel("T*(L)")
    axes[2].set_title("crossing vs 1/L, fit ν = 1")
    axes[2].legend(fontsize=7)
    section.figure("phases", "Mean classifier output per temperature (training seed 0, held-out Wolff lattices) "
                   "and the crossing T*(L) with bootstrap errors over training seeds.", to_png(fig))

    rows = []
    for name in ("dense", "conv"):
        for L in sizes:
            rows.append([name, L, r.n_parameters[name][L], f"{r.accuracy[name][L]:.3f}",
                         f"{r.t_star_mean[name][L]:.3f} ± {r.t_star_error[name][L]:.3f}",
                         fmt(r.training_seconds[name][L]), fmt(r.sampling_seconds[L])])
    section.table("crossings", f"Per size and model: test accuracy for |T − T_c| ≥ 0.3, T*(L) (mean ± bootstrap "
                  f"error over {q['seeds']} training seeds), training and sampling time (s)",
                  ["model", "L", "parameters", "accuracy", "T*(L)", "train s", "sample s"], rows)
    fit_rows = []
    for name in ("dense", "conv"):
        for kind in ("nu=1", "nu free"):
            f = r.fits[name][kind]
            fit_rows.append([name, kind, f"{f['Tc']:.4f}", fmt(f["Tc_error"]), fmt(f["nu"]),
                             f"{100 * (f['Tc'] - TC) / TC:+.2f} %"])
    section.table("fits", "Finite-size fit T*(L) = T_c + a L^(−1/ν)", ["model", "fit", "T_c", "error", "ν",
                  "vs Onsager"], fit_rows)
    sym_rows = [[s["model"], s["L"], fmt(s["flip"]), fmt(s["translation"]), f"{s['accuracy']:.3f}",
                 fmt(s["train_seconds"]), s["train_lattices"]] for s in r.symmetry]
    section.table("symmetry", "Mean |ΔP(ordered)| under a global spin flip and a lattice translation (held-out "
                  "lattices), accuracy away from T_c, one training run's time and the lattices it saw",
                  ["model", "L", "flip", "translation", "accuracy", "train s", "lattices seen"], sym_rows)

    best = min((abs(r.fits[n]["nu=1"]["Tc"] - TC) / TC, n) for n in ("dense", "conv"))
    # The 0.5 % goal is for the full preset (more sizes, lattices and training); the smaller
    # presets report their number as INFO and say plainly whether it met the goal.
    full = ctx.preset == "full"
    section.claim("T_c from the finite-size fit (ν = 1), best model",
                  f"{best[1]}: {r.fits[best[1]]['nu=1']['Tc']:.4f} ({100 * best[0]:.2f} % off)",
                  f"within 0.5 % of Onsager {TC:.6f}" + ("" if full else " (the full preset's goal)"),
                  best[0] <= 0.005 if full else None,
                  note="" if full else (f"{ctx.preset} preset: {'meets' if best[0] <= 0.005 else 'does not meet'} "
                                        "the 0.5 % goal, which is judged on the full preset (deepcheap report "
                                        "--full); with sizes up to L = 32 and about a minute of training the "
                                        "crossings sit about 1 % high"))
    Lc = 32 if 32 in sizes else sizes[-1]
    ratio = r.n_parameters["dense"][Lc] / r.n_parameters["conv"][Lc]
    acc_ok = r.accuracy["conv"][Lc] >= r.accuracy["dense"][Lc]
    section.claim(f"conv has ≥ 100× fewer parameters at L = {Lc} and is at least as accurate",
                  f"{ratio:.0f}× fewer; accuracy {r.accuracy['conv'][Lc]:.3f} vs dense {r.accuracy['dense'][Lc]:.3f}",
                  "ratio ≥ 100 and accuracy ≥ dense's", ratio >= 100 and acc_ok,
                  note=f"{len(temps) * q['n_train'] // q['batch_size'] * q['epochs']} Adam steps per run: in the "
                       "tiny and quick presets the 100-unit dense network is under-trained (its accuracy stays "
                       "near chance at small L), so this comparison favours the conv model there")
    tr = r.transfer
    off = abs(tr["t_star_mean"] - TC) / TC if np.isfinite(tr["t_star_mean"]) else float("inf")
    section.claim(f"conv trained on L = {tr['train_L']} applied unchanged to L = {tr['test_L']}",
                  f"T* = {tr['t_star_mean']:.3f} ± {tr['t_star_error']:.3f} ({100 * off:.2f} % off); "
                  f"the dense network cannot take the input ({tr['test_L']}² ≠ {tr['train_L']}² inputs)",
                  "within 1 % of T_c", off <= 0.01)
    conv_sym = next(s for s in r.symmetry if s["model"] == "conv")
    section.claim("conv output under a lattice translation", f"mean |ΔP| = {conv_sym['translation']:.1e}",
                  "0 up to float32 rounding (translation-invariant by construction)",
                  conv_sym["translation"] <= 1e-5)
    dense_sym = next(s for s in r.symmetry if s["model"] == "dense")
    section.claim("dense output under flip / translation (not invariant by construction)",
                  f"flip {dense_sym['flip']:.3f}, translation {dense_sym['translation']:.3f}", "measured", None)
    free = r.fits["conv"]["nu free"]
    section.claim("finite-size fit with ν free (conv)",
                  f"T_c = {free['Tc']:.4f}, ν = {free['nu']:.3g}" if np.isfinite(free["Tc"]) else
                  f"not fitted: {len(sizes)} sizes (3 parameters need 4 or more; the full preset has 4)",
                  "ν = 1 (2D Ising)", None)
    total_sample = sum(r.sampling_seconds.values())
    total_train = sum(sum(v.values()) for v in r.training_seconds.values())
    section.claim("sampling cost beside training cost", f"sampling {total_sample:.2f} s, training {total_train:.1f} s",
                  "reported", None)
