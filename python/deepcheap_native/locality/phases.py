"""Phases of the 2D Ising model learned by a dense and a convolutional classifier (Carrasquilla & Melko,
Nature Physics 13, 431 (2017)).

Wolff-sampled lattices at many temperatures are labelled T < T_c (ordered) or T > T_c; a dense network
(one hidden layer of 100 sigmoid units, as in the paper) and a small convolutional network with global
average pooling (parameters independent of L) are trained the same way. Where the mean output crosses ½
gives T*(L); the finite-size fit T*(L) = T_c + a L^(−1/ν) estimates T_c. torch is imported lazily.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.arrays import import_torch
from ..core.validate import check_int, check_real, check_seed
from ..ising import CRITICAL_TEMPERATURE, IsingModel

__all__ = [
    "PhaseData",
    "PhaseExperiment",
    "bootstrap_error",
    "conv_classifier",
    "crossing_temperature",
    "dense_classifier",
    "finite_size_fit",
    "predict",
    "run_phase_experiment",
    "sample_phases",
    "train_classifier",
]

#: Temperatures at least this far from T_c count as "away from T_c" for the test accuracy.
AWAY_FROM_TC = 0.3


@dataclass
class PhaseData:
    """Lattices and labels: ``spins`` (n, L, L) int8 ±1 (as the sampler gives them), ``temperature`` (n,),
    ``label`` (n,) 1 for T < T_c (ordered) and 0 above; ``temperatures`` the distinct ones in order;
    ``seconds`` the sampling time."""

    L: int
    spins: np.ndarray
    temperature: np.ndarray
    label: np.ndarray
    temperatures: np.ndarray
    seconds: float


def sample_phases(L: int, temperatures: Sequence[float], n_per_temperature: int, *, seed: int = 0,
                  thermalize: int = 30, spacing: int = 2, snapshots: int = 4, threads: int | None = None) -> PhaseData:
    """Wolff-sampled ±1 lattices: at each temperature ``n_per_temperature / snapshots`` independent chains
    (seeded from ``seed``, L and the temperature's index), ``thermalize`` sweeps from the ordered state
    (from random spins a Wolff sweep at low T flips few spins, and 20 sweeps at L = 32 leave domains), then
    ``snapshots`` configurations ``spacing`` sweeps apart; every other chain is flipped globally (H is
    Z₂-symmetric at h = 0, so this is exact and balances the two ordered states). Same seed, same
    lattices on any thread count."""
    L = check_int(L, "L", minimum=2)
    n = check_int(n_per_temperature, "n_per_temperature", minimum=1)
    snapshots = check_int(snapshots, "snapshots", minimum=1)
    if n % snapshots:
        raise ValueError(f"n_per_temperature ({n}) must be a multiple of snapshots ({snapshots})")
    seed = check_seed(seed)
    temps = np.array([check_real(t, "temperature", positive=True) for t in temperatures])
    model = IsingModel(L)
    spins = np.empty((len(temps), n, L, L), dtype=np.int8)
    t0 = time.perf_counter()
    for i, T in enumerate(temps):
        chain_seed = int(np.random.SeedSequence([seed, L, i]).generate_state(1, np.uint64)[0])
        sampler = model.sampler(float(T), replicas=n // snapshots, algorithm="wolff", seed=chain_seed, init="up")
        sampler.sweep(thermalize, threads=threads)
        sign = np.where(np.arange(n // snapshots) % 2, -1, 1).astype(np.int8)[:, None, None]
        for k in range(snapshots):
            if k:
                sampler.sweep(spacing, threads=threads)
            spins[i, k::snapshots] = sign * np.asarray(sampler.spins)
    seconds = time.perf_counter() - t0
    temperature = np.repeat(temps, n)
    label = (temperature < CRITICAL_TEMPERATURE).astype(np.int64)
    return PhaseData(L, spins.reshape(-1, L, L), temperature, label, temps, seconds)


# ---- models -----------------------------------------------------------------------------------------


def dense_classifier(L: int, hidden: int = 100) -> Any:
    """Carrasquilla & Melko's network: L² inputs, one hidden layer of ``hidden`` sigmoid units, one output
    logit (P(ordered) = sigmoid(logit)); (L² + 2)·hidden + 1 parameters."""
    torch = import_torch("dense_classifier")
    L = check_int(L, "L", minimum=1)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(L * L, hidden), torch.nn.Sigmoid(),
                               torch.nn.Linear(hidden, 1))


def conv_classifier(channels: int = 4, kernel: int = 3) -> Any:
    """A periodic ``kernel`` x ``kernel`` convolution to ``channels`` tanh maps, global average pooling, the
    absolute value and one output logit: channels·(kernel² + 2) + 1 parameters for any L (it takes any
    lattice size). The |·| after the pooling lets a sign-odd pooled feature (≈ m) become |m|."""
    torch = import_torch("conv_classifier")
    channels = check_int(channels, "channels", minimum=1)
    kernel = check_int(kernel, "kernel", minimum=1)
    nn = torch.nn

    class ConvPhase(nn.Module):
        """conv (circular) → tanh → global average pool → |·| → linear."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, channels, kernel, padding=kernel // 2, padding_mode="circular")
            self.out = nn.Linear(channels, 1)

        def forward(self, x: Any) -> Any:
            h = torch.tanh(self.conv(x.reshape(x.shape[0], 1, x.shape[-2], x.shape[-1])))
            return self.out(h.mean(dim=(2, 3)).abs())

    return ConvPhase()


def n_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _as_input(torch: Any, spins: Any) -> Any:
    return spins.float() if isinstance(spins, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(spins)).float()


def train_classifier(model: Any, data: PhaseData, *, epochs: int = 10, batch_size: int = 64, lr: float = 3e-3,
                     seed: int = 0, augment: bool = False) -> float:
    """Adam on the binary cross-entropy of the labels, minibatches in a seeded order; ``augment``: each
    batch gets a random global spin flip (Z₂) and a random lattice translation per example. Returns the
    training time in seconds."""
    torch = import_torch("train_classifier")
    torch.manual_seed(seed)
    x = _as_input(torch, data.spins)
    y = torch.from_numpy(data.label.astype(np.float32))
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    L = data.L
    t0 = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], generator=generator)
        for start in range(0, x.shape[0], batch_size):
            idx = order[start:start + batch_size]
            xb = x[idx]
            if augment:
                sign = torch.randint(0, 2, (xb.shape[0], 1, 1), generator=generator).float() * 2 - 1
                shift = torch.randint(0, L, (2,), generator=generator)
                xb = torch.roll(xb * sign, shifts=(int(shift[0]), int(shift[1])), dims=(1, 2))
            opt.zero_grad()
            loss = loss_fn(model(xb)[:, 0], y[idx])
            loss.backward()
            opt.step()
    model.eval()
    return time.perf_counter() - t0


def predict(model: Any, spins: Any) -> np.ndarray:
    """P(ordered) for each lattice (numpy float64)."""
    torch = import_torch("predict")
    with torch.no_grad():
        return torch.sigmoid(model(_as_input(torch, spins))[:, 0]).double().numpy()


# ---- measurements -----------------------------------------------------------------------------------


def crossing_temperature(temperatures: Any, p_ordered: Any) -> float:
    """Where the mean P(ordered) per temperature crosses ½ (linear interpolation between the two
    temperatures around the crossing; the crossing nearest the middle of the sign changes when several);
    NaN when it never crosses."""
    t = np.asarray(temperatures, dtype=np.float64)
    p = np.asarray(p_ordered, dtype=np.float64) - 0.5
    changes = np.flatnonzero(np.sign(p[:-1]) != np.sign(p[1:]))
    if changes.size == 0:
        return float("nan")
    crossings = [t[i] + (t[i + 1] - t[i]) * p[i] / (p[i] - p[i + 1]) for i in changes]
    return float(crossings[len(crossings) // 2])


def bootstrap_error(values: Any, *, seed: int = 0, n_resamples: int = 2000) -> float:
    """Standard deviation of the mean over bootstrap resamples of ``values`` (e.g. T* over training seeds)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_resamples, v.size))].mean(axis=1)
    return float(means.std())


def finite_size_fit(Ls: Any, t_star: Any, errors: Any = None, *, nu: float | None = 1.0) -> dict[str, float]:
    """T*(L) = T_c + a L^(−1/ν): weighted least squares for fixed ν (returns T_c, its error and a), or a
    nonlinear fit of ν too (``nu=None``; needs 4+ sizes, else NaN)."""
    L = np.asarray(Ls, dtype=np.float64)
    y = np.asarray(t_star, dtype=np.float64)
    err = np.ones_like(y) if errors is None else np.asarray(errors, dtype=np.float64)
    err = np.where(np.isfinite(err) & (err > 0), err, np.nanmax(np.where(err > 0, err, np.nan)) if np.any(err > 0) else 1.0)
    ok = np.isfinite(y)
    L, y, err = L[ok], y[ok], err[ok]
    if nu is not None:
        A = np.stack([np.ones_like(L), L ** (-1.0 / nu)], axis=1) / err[:, None]
        coef, *_ = np.linalg.lstsq(A, y / err, rcond=None)
        cov = np.linalg.pinv(A.T @ A)
        dof = max(1, len(y) - 2)
        chi2 = float(np.sum((A @ coef - y / err) ** 2))
        scale = max(1.0, chi2 / dof)  # inflate by the misfit when the points scatter more than their errors
        return {"Tc": float(coef[0]), "Tc_error": float(math.sqrt(cov[0, 0] * scale)), "a": float(coef[1]),
                "nu": float(nu), "chi2": chi2}
    if len(y) < 4:  # three parameters: fewer than four sizes leave no degree of freedom for an error
        return {"Tc": float("nan"), "Tc_error": float("nan"), "a": float("nan"), "nu": float("nan"), "chi2": float("nan")}
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    def model(x: np.ndarray, tc: float, a: float, inv_nu: float) -> np.ndarray:
        return tc + a * x ** (-inv_nu)

    p0 = [CRITICAL_TEMPERATURE, 0.0, 1.0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, cov = curve_fit(model, L, y, p0=p0, sigma=err, absolute_sigma=False, maxfev=20000)
    except (RuntimeError, ValueError):
        return {"Tc": float("nan"), "Tc_error": float("nan"), "a": float("nan"), "nu": float("nan"), "chi2": float("nan")}
    tc_err = float(math.sqrt(cov[0, 0])) if np.all(np.isfinite(cov)) and len(y) > 3 else float("nan")
    return {"Tc": float(params[0]), "Tc_error": tc_err, "a": float(params[1]),
            "nu": float(1.0 / params[2]) if params[2] else float("nan"), "chi2": float("nan")}


# ---- the experiment ---------------------------------------------------------------------------------


@dataclass
class PhaseExperiment:
    """Everything :func:`run_phase_experiment` measured (plain numbers, for the report and the docs)."""

    params: dict[str, Any]
    temperatures: list[float]
    sampling_seconds: dict[int, float] = field(default_factory=dict)
    training_seconds: dict[str, dict[int, float]] = field(default_factory=dict)
    n_parameters: dict[str, dict[int, int]] = field(default_factory=dict)
    curves: dict[str, dict[int, list[float]]] = field(default_factory=dict)  # mean P(ordered) per T (seed 0)
    t_star: dict[str, dict[int, list[float]]] = field(default_factory=dict)  # per training seed
    t_star_mean: dict[str, dict[int, float]] = field(default_factory=dict)
    t_star_error: dict[str, dict[int, float]] = field(default_factory=dict)
    accuracy: dict[str, dict[int, float]] = field(default_factory=dict)  # away from T_c, mean over seeds
    fits: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    transfer: dict[str, Any] = field(default_factory=dict)
    symmetry: list[dict[str, Any]] = field(default_factory=list)


def _mean_by_temperature(p: np.ndarray, data: PhaseData) -> np.ndarray:
    return p.reshape(len(data.temperatures), -1).mean(axis=1)


def _accuracy_away(p: np.ndarray, data: PhaseData) -> float:
    away = np.abs(data.temperature - CRITICAL_TEMPERATURE) >= AWAY_FROM_TC
    return float(((p[away] > 0.5) == (data.label[away] == 1)).mean())


def _symmetry_changes(model: Any, spins: np.ndarray, seed: int) -> tuple[float, float]:
    """Mean |ΔP(ordered)| under a global spin flip and under a random lattice translation."""
    p = predict(model, spins)
    flipped = predict(model, -spins)
    rng = np.random.default_rng(seed)
    L = spins.shape[-1]
    shifted = np.stack([np.roll(s, tuple(rng.integers(1, L, 2)), axis=(0, 1)) for s in spins])
    return float(np.mean(np.abs(flipped - p))), float(np.mean(np.abs(predict(model, shifted) - p)))


def _learning_rate(p: dict[str, Any], name: str) -> float:
    """``lr`` is one rate for both models or a mapping {"dense": ..., "conv": ...}."""
    lr = p["lr"]
    return float(lr[name]) if isinstance(lr, dict) else float(lr)


def run_phase_experiment(params: dict[str, Any], *, seed: int = 0,
                         progress: Callable[[str], None] | None = None) -> PhaseExperiment:
    """The whole experiment for a parameter dict (the report's presets): keys ``sizes``, ``t_min``,
    ``t_max``, ``n_temperatures``, ``n_train``, ``n_test`` (lattices per temperature), ``seeds`` (training
    seeds), ``epochs``, ``batch_size``, ``lr`` (one Adam rate, or one per model), ``hidden``, ``channels``, ``transfer`` ([L_train, L_test]),
    ``symmetry_L``, ``thermalize``."""
    import torch

    p = dict(params)
    say = progress or (lambda message: None)
    temps = np.linspace(p["t_min"], p["t_max"], p["n_temperatures"])
    result = PhaseExperiment(params=p, temperatures=[float(t) for t in temps])
    sizes = list(p["sizes"])
    train_on, test_on = p["transfer"]
    needed = sorted(set(sizes) | {train_on, test_on, p["symmetry_L"]})
    train: dict[int, PhaseData] = {}
    test: dict[int, PhaseData] = {}
    for L in needed:
        say(f"sampling L={L}")
        if L in sizes or L == train_on or L == p["symmetry_L"]:
            train[L] = sample_phases(L, temps, p["n_train"], seed=seed, thermalize=p["thermalize"])
        test[L] = sample_phases(L, temps, p["n_test"], seed=seed + 1, thermalize=p["thermalize"])
        result.sampling_seconds[L] = train[L].seconds + test[L].seconds if L in train else test[L].seconds
    builders = {"dense": lambda L: dense_classifier(L, p["hidden"]), "conv": lambda L: conv_classifier(p["channels"])}
    trained: dict[tuple[str, int], Any] = {}
    seed_models: dict[tuple[str, int], list[Any]] = {}
    for name, build in builders.items():
        for key in ("training_seconds", "n_parameters", "curves", "t_star", "t_star_mean", "t_star_error",
                    "accuracy"):
            getattr(result, key)[name] = {}
        lr = _learning_rate(p, name)
        for L in sorted(set(sizes) | {train_on, p["symmetry_L"]}):
            say(f"training {name} L={L}")
            stars, accs, secs = [], [], 0.0
            seed_models[(name, L)] = []
            for s in range(p["seeds"]):
                torch.manual_seed(seed * 1000 + s)
                model = build(L)
                secs += train_classifier(model, train[L], epochs=p["epochs"], batch_size=p["batch_size"],
                                         lr=lr, seed=seed * 1000 + s)
                seed_models[(name, L)].append(model)
                prob = predict(model, test[L].spins)
                curve = _mean_by_temperature(prob, test[L])
                stars.append(crossing_temperature(temps, curve))
                accs.append(_accuracy_away(prob, test[L]))
                if s == 0:
                    result.curves[name][L] = [float(v) for v in curve]
                    trained[(name, L)] = model
            result.n_parameters[name][L] = n_parameters(trained[(name, L)])
            result.training_seconds[name][L] = secs
            result.t_star[name][L] = [float(v) for v in stars]
            result.t_star_mean[name][L] = float(np.nanmean(stars)) if np.isfinite(stars).any() else float("nan")
            result.t_star_error[name][L] = bootstrap_error(stars, seed=seed)
            result.accuracy[name][L] = float(np.mean(accs))
        Ls = [L for L in sizes]
        ys = [result.t_star_mean[name][L] for L in Ls]
        es = [result.t_star_error[name][L] for L in Ls]
        result.fits[name] = {"nu=1": finite_size_fit(Ls, ys, es, nu=1.0), "nu free": finite_size_fit(Ls, ys, es, nu=None)}
    # transfer: the conv models trained on L = train_on (every seed) applied unchanged to L = test_on
    say("transfer")
    stars = []
    for s, model in enumerate(seed_models[("conv", train_on)]):
        prob = predict(model, test[test_on].spins)
        curve = _mean_by_temperature(prob, test[test_on])
        stars.append(crossing_temperature(temps, curve))
        if s == 0:
            result.transfer["curve"] = [float(v) for v in curve]
            result.transfer["accuracy"] = _accuracy_away(prob, test[test_on])
    result.transfer.update({"train_L": train_on, "test_L": test_on, "t_star": [float(v) for v in stars],
                            "t_star_mean": float(np.nanmean(stars)) if np.isfinite(stars).any() else float("nan"),
                            "t_star_error": bootstrap_error(stars, seed=seed)})
    # symmetry: mean output change under a spin flip and a translation
    say("symmetry")
    Ls = p["symmetry_L"]
    spins = test[Ls].spins
    for name in ("dense", "conv"):
        flip, shift = _symmetry_changes(trained[(name, Ls)], spins, seed)
        result.symmetry.append({"model": name, "L": Ls, "flip": flip, "translation": shift,
                                "accuracy": result.accuracy[name][Ls],
                                "train_seconds": result.training_seconds[name][Ls] / p["seeds"],
                                "train_lattices": int(train[Ls].spins.shape[0]) * p["epochs"]})
    torch.manual_seed(seed * 1000)
    model = dense_classifier(Ls, p["hidden"])
    augmented_epochs = p["epochs"] * p.get("augment_epoch_factor", 1)
    secs = train_classifier(model, train[Ls], epochs=augmented_epochs, batch_size=p["batch_size"],
                            lr=_learning_rate(p, "dense"),
                            seed=seed * 1000, augment=True)
    flip, shift = _symmetry_changes(model, spins, seed)
    result.symmetry.append({"model": "dense + Z2/translation augmentation", "L": Ls, "flip": flip,
                            "translation": shift, "accuracy": _accuracy_away(predict(model, spins), test[Ls]),
                            "train_seconds": secs, "train_lattices": int(train[Ls].spins.shape[0]) * augmented_epochs})
    return result
