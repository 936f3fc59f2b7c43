"""Measured experiments on ReLU depth (issue 22 §3): what training finds, beside what the constructions show.

- :func:`train_sawtooth`: the one-hidden-layer width that training needs to reach an L∞ error on
  Telgarsky's sawtooth s_k (against the 2^k − 1 every such network needs), and deep nets of width 2…4 and
  depth k trained on the same target (the construction says width 2 suffices).
- :func:`regions_at_initialization` and :func:`regions_through_training`: Hanin & Rolnick's measure,
  activation regions per unit length along random segments, for He-initialised networks of equal total
  neurons and depths 1…8, and along fixed segments while a network trains on a simple regression.
- :func:`logical_depth`: labels that are the product of k group elements, for the symmetric group S₅
  (its word problem is NC¹-complete) against the abelian Z₂^m, one-hot inputs, MLPs of one parameter
  budget and depths 1…8; the smallest depth that reaches a test accuracy, per k, with restarts.

Every experiment is seeded (``seed=None`` draws a fresh seed and records it as ``.seed``), takes
``progress=`` (the package's one contract) and ``threads=`` (torch's intra-op threads for the call,
restored after it), and runs as a Python-level loop, so Ctrl-C stops it between two training steps:
KeyboardInterrupt passes through, bars are closed and torch's thread count is restored. torch is
imported lazily (the ``report`` extra).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.arrays import import_torch
from ..core.progress import progress_bar
from ..core.validate import check_int, check_real, check_threads, resolve_seed
from .constructions import sawtooth
from .network import ReLUNetwork, as_network, random_network
from .regions import linear_regions, random_lines

__all__ = [
    "LogicalDepth",
    "RegionsAtInit",
    "RegionsThroughTraining",
    "SawtoothTraining",
    "group_order",
    "group_table",
    "group_words",
    "logical_depth",
    "mlp_width_for_budget",
    "mlp_parameters",
    "regions_at_initialization",
    "regions_through_training",
    "sawtooth_error",
    "train_sawtooth",
]


# ---- shared pieces ---------------------------------------------------------------------------------


def _sub_seed(seed: int, *path: int) -> int:
    """A seed for one run of an experiment, fixed by (seed, path): 64 bits from numpy's SeedSequence."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(1, dtype=np.uint64)[0])


@contextlib.contextmanager
def _torch_threads(torch: Any, threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count for the block (None: leave it), restored after, even on Ctrl-C."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _ints(values: Any, name: str, minimum: int, maximum: int | None = None) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {type(values).__name__}")
    out = [check_int(v, f"{name}[{i}]", minimum=minimum, maximum=maximum) for i, v in enumerate(values)]
    if not out:
        raise ValueError(f"{name} must hold at least one value, got none")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat values, got {out}")
    return sorted(out)


def _mean_sem(values: Any) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN error for fewer than two values)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")


# ---- (a) the sawtooth, trained ---------------------------------------------------------------------


def sawtooth_error(network: Any, k: int) -> float:
    """The exact sup over [0, 1] of abs(f − s_k) for a 1-D ReLU network f (a ReLUNetwork, torch
    ``nn.Sequential`` or (W, b) list), evaluated in float64.

    f − s_k is piecewise linear; its breakpoints are f's (found exactly by :func:`linear_regions` along
    [0, 1]) and s_k's knots j / 2^k, so the supremum is the largest abs(f − s_k) over those points and
    the two ends.
    """
    net = as_network(network)
    k = check_int(k, "k", minimum=1, maximum=24)
    if net.input_dim != 1 or net.output_dim != 1:
        raise ValueError(f"sawtooth_error needs a network from R to R, got widths {net.widths}")
    kinks = linear_regions(net, line=(0.0, 1.0)).breakpoints()
    x = np.unique(np.concatenate([np.arange(2**k + 1, dtype=np.float64) / 2**k, kinks]))
    return float(np.max(np.abs(net(x) - sawtooth(k, x))))


@dataclass
class SawtoothTraining:
    """Results of :func:`train_sawtooth`.

    ``shallow``: one record per trained one-hidden-layer network, dicts with k, width, restart, error
    (exact L∞ on [0, 1]), pieces (its activation regions along [0, 1]), steps, seconds, reached;
    ``shallow_needed[k]``: the smallest width tried for which some restart reached ``epsilon``
    (None when none did); ``bound[k]`` = 2^k − 1, what every one-hidden-layer network within
    ``epsilon`` < ½ needs. ``deep``: the same records for deep nets of width w and depth k.
    """

    ks: list[int]
    epsilon: float
    steps: int
    restarts: int
    seed: int
    shallow: list[dict[str, Any]] = field(default_factory=list)
    deep: list[dict[str, Any]] = field(default_factory=list)
    shallow_needed: dict[int, int | None] = field(default_factory=dict)
    bound: dict[int, int] = field(default_factory=dict)

    def deep_success(self, k: int, width: int) -> tuple[int, int]:
        """(restarts that reached epsilon, restarts) for deep nets of this depth k and width."""
        rs = [r for r in self.deep if r["k"] == k and r["width"] == width]
        return sum(r["reached"] for r in rs), len(rs)

    def __repr__(self) -> str:
        return (f"SawtoothTraining(ks={self.ks}, epsilon={self.epsilon}, shallow_needed={self.shallow_needed}, "
                f"{len(self.shallow)} shallow and {len(self.deep)} deep runs)")


def _shallow_module(torch: Any, width: int, generator: Any) -> Any:
    """One hidden layer whose kinks start uniform on [0, 1] (input weights ±1, bias −w·u, u ~ U(0, 1));
    output weights N(0, 1/width)."""
    hidden = torch.nn.Linear(1, width)
    out = torch.nn.Linear(width, 1)
    with torch.no_grad():
        sign = torch.randint(0, 2, (width, 1), generator=generator).float() * 2 - 1
        hidden.weight.copy_(sign)
        hidden.bias.copy_(-sign[:, 0] * torch.rand(width, generator=generator))
        out.weight.copy_(torch.randn(1, width, generator=generator) / math.sqrt(width))
        out.bias.zero_()
    return torch.nn.Sequential(hidden, torch.nn.ReLU(), out)


def _deep_module(torch: Any, width: int, depth: int) -> Any:
    """depth hidden layers of width units, torch's default nn.Linear initialisation (seeded by the caller)."""
    layers: list[Any] = []
    fan_in = 1
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    return torch.nn.Sequential(*layers)


def _fit_sawtooth(torch: Any, model: Any, x: Any, y: Any, k: int, epsilon: float, steps: int,
                  lr: float) -> tuple[ReLUNetwork, float, int]:
    """Adam on the mean squared error over the grid, the rate decayed linearly to 0; every 100 steps the
    grid's L∞ error is checked and training stops once it is below epsilon / 2 (the exact error is then
    measured on the float64 weights). Returns (network, exact error, steps taken)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / steps))
    taken = steps
    for step in range(steps):
        opt.zero_grad()
        loss = torch.mean((model(x)[:, 0] - y) ** 2)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 99:
            with torch.no_grad():
                if float(torch.max(torch.abs(model(x)[:, 0] - y))) < epsilon / 2:
                    taken = step + 1
                    break
    net = ReLUNetwork.from_torch(model)
    return net, sawtooth_error(net, k), taken


def _sawtooth_run(torch: Any, model: Any, x: Any, y: Any, k: int, width: int, restart: int, epsilon: float,
                  steps: int, lr: float) -> dict[str, Any]:
    """Train one model on the k-fold sawtooth and record it: error, whether it reached epsilon, its
    pieces on [0, 1] (the native region count), the steps taken and the seconds."""
    t0 = time.perf_counter()
    net, err, taken = _fit_sawtooth(torch, model, x, y, k, epsilon, steps, lr)
    return {"k": k, "width": width, "restart": restart, "error": err, "reached": err <= epsilon,
            "pieces": int(linear_regions(net, line=(0.0, 1.0)).count), "steps": taken,
            "seconds": time.perf_counter() - t0}


def train_sawtooth(ks: Sequence[int] = (1, 2, 3, 4), *, epsilon: float = 0.1, shallow_widths: Any = None,
                   deep_widths: Sequence[int] = (2, 3, 4), restarts: int = 3, steps: int = 2000,
                   lr: float = 0.03, grid: int = 8, seed: int | None = None, threads: int | None = None,
                   progress: Any = False) -> SawtoothTraining:
    """Train ReLU networks (torch, float32, Adam) on the k-fold sawtooth s_k for each k in ``ks``.

    Data: the grid x = j / (grid·2^k), j = 0…grid·2^k, with targets s_k(x) (full batch). The error of a
    trained network is :func:`sawtooth_error`: the exact L∞ distance on [0, 1] of its float64 weights.

    Shallow: one hidden layer of each width in ``shallow_widths(k)`` (a callable k → widths; default
    2^(k−1), 2^k − 1, 2^k, 2^(k+1), 2^(k+2)), ascending, ``restarts`` seeded restarts each, kinks
    initialised uniform on [0, 1]; the search stops at the first width some restart brings within
    ``epsilon``. Below 2^k − 1 units no network can: for ``epsilon`` < ½, f − ½ must change sign at
    every one of s_k's 2^k + 1 alternating knots, so f needs 2^k pieces.

    Deep: width w in ``deep_widths`` and depth k (2k hidden units for w = 2, as in
    :func:`~deepcheap_native.relu.sawtooth_network`), torch's default initialisation, ``restarts``
    restarts each, the same training. The exact solution exists at w = 2; whether training finds it is
    the measurement (``reached`` per record, the number of activation regions along [0, 1] beside 2^k).
    """
    torch = import_torch("train_sawtooth")
    ks = _ints(ks, "ks", 1, 16)
    epsilon = check_real(epsilon, "epsilon", positive=True)
    if epsilon >= 0.5:
        raise ValueError(f"epsilon must be < 0.5 (the constant ½ is within ½ of any sawtooth), got {epsilon}")
    deep_widths = _ints(deep_widths, "deep_widths", 1, 64) if len(deep_widths) else []
    restarts = check_int(restarts, "restarts", minimum=1)
    steps = check_int(steps, "steps", minimum=1)
    lr = check_real(lr, "lr", positive=True)
    grid = check_int(grid, "grid", minimum=1, maximum=64)
    check_threads(threads)
    seed = resolve_seed(seed)
    if shallow_widths is None:
        def shallow_widths(k: int) -> list[int]:
            return sorted({max(1, 2 ** (k - 1)), 2**k - 1, 2**k, 2 ** (k + 1), 2 ** (k + 2)})
    elif not callable(shallow_widths):
        raise TypeError(f"shallow_widths must be a callable k -> widths, got {type(shallow_widths).__name__}")
    plans = {k: _ints(list(shallow_widths(k)), f"shallow_widths({k})", 1, 2**20) for k in ks}
    total = sum(len(plans[k]) * restarts + len(deep_widths) * restarts for k in ks)
    result = SawtoothTraining(ks, epsilon, steps, restarts, seed)
    bar = progress_bar(progress, total, "sawtooth training runs")
    try:
        with _torch_threads(torch, threads):
            for k in ks:
                result.bound[k] = 2**k - 1
                xs = np.arange(grid * 2**k + 1, dtype=np.float64) / (grid * 2**k)
                x = torch.from_numpy(xs[:, None].astype(np.float32))
                y = torch.from_numpy(sawtooth(k, xs).astype(np.float32))
                result.shallow_needed[k] = None
                for width in plans[k]:
                    for r in range(restarts):
                        s = _sub_seed(seed, 1, k, width, r)
                        torch.manual_seed(s)
                        model = _shallow_module(torch, width, torch.Generator().manual_seed(s))
                        result.shallow.append(_sawtooth_run(torch, model, x, y, k, width, r, epsilon, steps, lr))
                        bar.update(1)
                    if any(rec["reached"] for rec in result.shallow if rec["k"] == k and rec["width"] == width):
                        result.shallow_needed[k] = width
                        bar.update(restarts * (len(plans[k]) - plans[k].index(width) - 1))
                        break
                for width in deep_widths:
                    for r in range(restarts):
                        torch.manual_seed(_sub_seed(seed, 2, k, width, r))
                        model = _deep_module(torch, width, k)
                        result.deep.append(_sawtooth_run(torch, model, x, y, k, width, r, epsilon, steps, lr))
                        bar.update(1)
    finally:
        bar.close()
    return result


# ---- (b) Hanin & Rolnick: regions per unit length ----------------------------------------------------


@dataclass
class RegionsAtInit:
    """Results of :func:`regions_at_initialization`.

    ``density[d][i]``: (networks,) regions per unit length, each the mean over the segments, for depth
    d and total neurons ``neurons[d][i]`` (width × d, the width being round(N / d) for the asked N);
    ``mean``/``sem`` the mean and its standard error over networks; ``slope[d]``, ``slope_error[d]``,
    ``intercept[d]``, ``r2[d]``: the least-squares line density = a + s·N through every network's value
    (standard error of s from the residuals); ``worst_case[d][i]``: (N/d)^d / length-free pieces a
    depth-d, width-N/d network can have along a segment (d composed zigzags, the sawtooth at width 2),
    the exponential worst case; ``pooled_slope``, ``pooled_slope_error``: one line through all depths.
    """

    neurons_asked: list[int]
    depths: list[int]
    input_dim: int
    length: float
    bias_std: float
    seed: int
    neurons: dict[int, list[int]] = field(default_factory=dict)
    density: dict[int, list[np.ndarray]] = field(default_factory=dict)
    mean: dict[int, list[float]] = field(default_factory=dict)
    sem: dict[int, list[float]] = field(default_factory=dict)
    slope: dict[int, float] = field(default_factory=dict)
    slope_error: dict[int, float] = field(default_factory=dict)
    intercept: dict[int, float] = field(default_factory=dict)
    r2: dict[int, float] = field(default_factory=dict)
    worst_case: dict[int, list[float]] = field(default_factory=dict)
    pooled_slope: float = float("nan")
    pooled_slope_error: float = float("nan")

    def __repr__(self) -> str:
        slopes = {d: round(s, 3) for d, s in self.slope.items()}
        return f"RegionsAtInit(depths={self.depths}, neurons={self.neurons_asked}, slope={slopes})"


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """(slope, its standard error, intercept, R²) of the least-squares line y = a + s·x."""
    A = np.stack([np.ones_like(x), x], axis=1)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = max(len(x) - 2, 1)
    cov = np.linalg.inv(A.T @ A) * float(resid @ resid) / dof
    ss = float(((y - y.mean()) ** 2).sum())
    return float(coef[1]), float(math.sqrt(max(cov[1, 1], 0.0))), float(coef[0]), \
        (1.0 - float(resid @ resid) / ss) if ss > 0 else float("nan")


def regions_at_initialization(neurons: Sequence[int] = (32, 64, 128, 256), depths: Sequence[int] = tuple(range(1, 9)),
                              *, input_dim: int = 16, networks: int = 8, lines: int = 100, length: float = 2.0,
                              bias_std: float = 0.1, seed: int | None = None, threads: int | None = None,
                              progress: Any = False) -> RegionsAtInit:
    """Activation regions per unit length along random segments, at He initialisation (Hanin & Rolnick).

    For each total number of neurons N in ``neurons`` and depth d in ``depths``: ``networks``
    He-initialised networks (:func:`random_network`, widths (input_dim, w, …, w, 1) with w =
    round(N / d) ≥ 1, biases N(0, bias_std²)), each cut along the same ``lines`` random segments of
    ``length`` (:func:`random_lines`: midpoints N(0, I)) by the exact native walk; a network's value is
    its mean count per unit length. Network i of (N, d) is ``random_network(..., seed=s, index=i)``
    with s derived from ``seed``, N and d.
    """
    neurons = _ints(neurons, "neurons", 1, 1 << 16)
    depths = _ints(depths, "depths", 1, 63)
    input_dim = check_int(input_dim, "input_dim", minimum=1)
    networks = check_int(networks, "networks", minimum=2)
    lines = check_int(lines, "lines", minimum=1)
    length = check_real(length, "length", positive=True)
    bias_std = check_real(bias_std, "bias_std", minimum=0.0)
    check_threads(threads)
    seed = resolve_seed(seed)
    result = RegionsAtInit(neurons, depths, input_dim, length, bias_std, seed)
    segs = random_lines(lines, input_dim, seed=_sub_seed(seed, 0), length=length)
    bar = progress_bar(progress, len(neurons) * len(depths), "regions at initialisation")
    try:
        xs_all, ys_all = [], []
        for d in depths:
            result.neurons[d], result.density[d], result.mean[d], result.sem[d] = [], [], [], []
            result.worst_case[d] = []
            for N in neurons:
                w = max(1, round(N / d))
                s = _sub_seed(seed, 1, N, d)
                nets = [random_network((input_dim, *([w] * d), 1), seed=s, bias_std=bias_std, index=i)
                        for i in range(networks)]
                r = linear_regions(nets, segs, threads=threads)
                per = r.per_unit_length.mean(axis=1)
                result.neurons[d].append(w * d)
                result.density[d].append(per)
                m, e = _mean_sem(per)
                result.mean[d].append(m)
                result.sem[d].append(e)
                result.worst_case[d].append(float(w) ** d)
                bar.update(1)
            x = np.repeat(np.asarray(result.neurons[d], dtype=np.float64), networks)
            y = np.concatenate(result.density[d])
            xs_all.append(x)
            ys_all.append(y)
            if len(neurons) >= 2:
                result.slope[d], result.slope_error[d], result.intercept[d], result.r2[d] = _line_fit(x, y)
        if len(neurons) >= 2:
            result.pooled_slope, result.pooled_slope_error, _, _ = _line_fit(np.concatenate(xs_all), np.concatenate(ys_all))
    finally:
        bar.close()
    return result


@dataclass
class RegionsThroughTraining:
    """Results of :func:`regions_through_training`: per depth d, ``steps[d]`` (the checkpoints),
    ``density[d]`` (restarts, checkpoints) regions per unit length along the fixed segments,
    ``loss[d]`` (restarts, checkpoints) the training loss there, and ``neurons[d]``."""

    depths: list[int]
    neurons_asked: int
    input_dim: int
    seed: int
    checkpoints: list[int] = field(default_factory=list)
    neurons: dict[int, int] = field(default_factory=dict)
    density: dict[int, np.ndarray] = field(default_factory=dict)
    loss: dict[int, np.ndarray] = field(default_factory=dict)

    def ratio(self, d: int) -> tuple[float, float]:
        """Mean and standard error over restarts of (final density / initial density) at depth d."""
        return _mean_sem(self.density[d][:, -1] / self.density[d][:, 0])

    def __repr__(self) -> str:
        return f"RegionsThroughTraining(depths={self.depths}, neurons={self.neurons_asked}, checkpoints={self.checkpoints})"


def regions_through_training(depths: Sequence[int] = (1, 2, 4, 8), *, neurons: int = 64, input_dim: int = 4,
                             steps: int = 1000, checkpoints: int = 5, restarts: int = 3, lines: int = 50,
                             length: float = 2.0, batch: int = 256, lr: float = 3e-3, bias_std: float = 0.1,
                             seed: int | None = None, threads: int | None = None,
                             progress: Any = False) -> RegionsThroughTraining:
    """Regions per unit length along fixed random segments while He-initialised networks of equal total
    neurons (width round(neurons / d), depth d) learn a simple regression by Adam (float64, fresh
    Gaussian inputs each step): the target is y = sin(3·(u·x)) + ½·cos(2·(v·x)) for two fixed random
    unit vectors u, v. Regions are counted exactly (native) at ``checkpoints`` evenly spaced steps
    (the first at step 0)."""
    torch = import_torch("regions_through_training")
    depths = _ints(depths, "depths", 1, 63)
    neurons = check_int(neurons, "neurons", minimum=1)
    input_dim = check_int(input_dim, "input_dim", minimum=1)
    steps = check_int(steps, "steps", minimum=1)
    checkpoints = check_int(checkpoints, "checkpoints", minimum=2)
    restarts = check_int(restarts, "restarts", minimum=1)
    lines = check_int(lines, "lines", minimum=1)
    length = check_real(length, "length", positive=True)
    batch = check_int(batch, "batch", minimum=1)
    lr = check_real(lr, "lr", positive=True)
    bias_std = check_real(bias_std, "bias_std", minimum=0.0)
    check_threads(threads)
    seed = resolve_seed(seed)
    marks = sorted({round(i * steps / (checkpoints - 1)) for i in range(checkpoints)})
    result = RegionsThroughTraining(depths, neurons, input_dim, seed, marks)
    segs = random_lines(lines, input_dim, seed=_sub_seed(seed, 0), length=length)
    rng = np.random.default_rng(_sub_seed(seed, 1))
    uv = rng.standard_normal((2, input_dim))
    uv /= np.linalg.norm(uv, axis=1, keepdims=True)
    directions = torch.from_numpy(uv)
    bar = progress_bar(progress, len(depths) * restarts * steps, "training, regions counted")
    try:
        with _torch_threads(torch, threads):
            for d in depths:
                w = max(1, round(neurons / d))
                result.neurons[d] = w * d
                dens = np.zeros((restarts, len(marks)))
                losses = np.zeros((restarts, len(marks)))
                for r in range(restarts):
                    s = _sub_seed(seed, 2, d, r)
                    model = random_network((input_dim, *([w] * d), 1), seed=s, bias_std=bias_std).to_torch()
                    opt = torch.optim.Adam(model.parameters(), lr=lr)
                    gen = torch.Generator().manual_seed(s)
                    xt = torch.randn(1024, input_dim, generator=gen, dtype=torch.float64)
                    proj = xt @ directions.T
                    yt = torch.sin(3 * proj[:, 0]) + 0.5 * torch.cos(2 * proj[:, 1])
                    j = 0
                    for step in range(steps + 1):
                        if step == marks[j]:
                            dens[r, j] = linear_regions(model, segs, threads=threads).per_unit_length.mean()
                            with torch.no_grad():
                                losses[r, j] = float(torch.mean((model(xt)[:, 0] - yt) ** 2))
                            j += 1
                        if step == steps:
                            break
                        xb = torch.randn(batch, input_dim, generator=gen, dtype=torch.float64)
                        pb = xb @ directions.T
                        yb = torch.sin(3 * pb[:, 0]) + 0.5 * torch.cos(2 * pb[:, 1])
                        opt.zero_grad()
                        loss = torch.mean((model(xb)[:, 0] - yb) ** 2)
                        loss.backward()
                        opt.step()
                        bar.update(1)
                result.density[d] = dens
                result.loss[d] = losses
    finally:
        bar.close()
    return result


# ---- (c) logical depth: products in S5 and in Z2^m -------------------------------------------------

_GROUP = re.compile(r"^(?:S(?P<n>[2-6])|Z2\^(?P<m>[1-9]|1[0-2]))$")


def _parse_group(group: Any) -> tuple[str, int]:
    if not isinstance(group, str):
        raise TypeError(f"group must be a str such as 'S5' or 'Z2^7', got {type(group).__name__}")
    match = _GROUP.match(group.strip())
    if match is None:
        raise ValueError(f"group must be 'S<n>' (n = 2…6, the symmetric group) or 'Z2^<m>' (m = 1…12), got {group!r}")
    if match["n"] is not None:
        return "S", int(match["n"])
    return "Z2", int(match["m"])


def group_order(group: str) -> int:
    """|G|: n! for 'S<n>', 2^m for 'Z2^<m>'."""
    kind, n = _parse_group(group)
    return math.factorial(n) if kind == "S" else 2**n


def group_table(group: str) -> np.ndarray:
    """The multiplication table T[a, b] = index of a·b, (|G|, |G|) int64.

    'S<n>': elements are the permutations of 0…n−1 in lexicographic order (``itertools.permutations``),
    the product (σ·τ)(i) = σ(τ(i)) (τ first). 'Z2^<m>': elements are the integers 0…2^m − 1 (bit
    vectors), the product is XOR.
    """
    kind, n = _parse_group(group)
    if kind == "Z2":
        a = np.arange(2**n, dtype=np.int64)
        return a[:, None] ^ a[None, :]
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    base = n ** np.arange(n - 1, -1, -1)  # lexicographic rank through a dictionary of codes
    code = perms @ base
    rank = {int(c): i for i, c in enumerate(code)}
    composed = perms[:, perms]  # composed[a, b, i] = perms[a][perms[b][i]]
    codes = composed @ base
    return np.vectorize(rank.__getitem__, otypes=[np.int64])(codes)


def group_words(group: str, k: int, n: int, *, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random words of ``k`` elements of ``group`` and their products g₁·g₂·…·g_k:
    (elements (n, k) int64, labels (n,) int64), drawn by numpy's PCG64 under ``seed``."""
    table = group_table(group)
    k = check_int(k, "k", minimum=1)
    n = check_int(n, "n", minimum=1)
    rng = np.random.default_rng(resolve_seed(seed))
    g = rng.integers(0, table.shape[0], size=(n, k), dtype=np.int64)
    acc = g[:, 0].copy()
    for j in range(1, k):
        acc = table[acc, g[:, j]]
    return g, acc


def mlp_parameters(inputs: int, width: int, depth: int, outputs: int) -> int:
    """Weights and biases of an MLP inputs → width (depth hidden layers) → outputs."""
    inputs = check_int(inputs, "inputs", minimum=1)
    width = check_int(width, "width", minimum=1)
    depth = check_int(depth, "depth", minimum=1)
    outputs = check_int(outputs, "outputs", minimum=1)
    return inputs * width + width + (depth - 1) * (width * width + width) + width * outputs + outputs


def mlp_width_for_budget(inputs: int, depth: int, outputs: int, budget: int) -> int:
    """The largest width whose MLP (:func:`mlp_parameters`) has at most ``budget`` parameters."""
    budget = check_int(budget, "budget", minimum=1)
    if mlp_parameters(inputs, 1, depth, outputs) > budget:
        raise ValueError(f"budget {budget} is below the {mlp_parameters(inputs, 1, depth, outputs)} parameters of "
                         f"width 1 at depth {depth} ({inputs} inputs, {outputs} outputs)")
    lo, hi = 1, 2
    while mlp_parameters(inputs, hi, depth, outputs) <= budget:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if mlp_parameters(inputs, mid, depth, outputs) <= budget else (lo, mid)
    return lo


@dataclass
class LogicalDepth:
    """Results of :func:`logical_depth`.

    ``runs``: one dict per trained network (group, k, depth, restart, width, parameters, accuracy (test),
    reached, steps, seconds); ``needed[group][k]``: (restarts,) the smallest depth that reached
    ``target`` per restart, NaN where no depth tried did; ``symbols``: the one-hot size per element
    (both groups use the same, so inputs and parameter counts match).
    """

    groups: list[str]
    ks: list[int]
    depths: list[int]
    budget: int
    target: float
    symbols: int
    seed: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    needed: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)

    def accuracy(self, group: str, k: int, depth: int) -> np.ndarray:
        """Test accuracies of the restarts that trained this (group, k, depth)."""
        return np.array([r["accuracy"] for r in self.runs if (r["group"], r["k"], r["depth"]) == (group, k, depth)])

    def __repr__(self) -> str:
        return f"LogicalDepth(groups={self.groups}, ks={self.ks}, depths={self.depths}, {len(self.runs)} runs)"


def _word_mlp(torch: Any, k: int, symbols: int, width: int, depth: int, classes: int) -> Any:
    """An MLP on the concatenated one-hot inputs (k·symbols), the first layer stored as k embedding
    tables summed (the same function and parameter count as nn.Linear(k·symbols, width) on one-hot
    vectors, without multiplying the zeros)."""
    nn = torch.nn

    class WordMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            first = nn.Linear(k * symbols, width)  # torch's default initialisation, then read as tables
            self.table = nn.Parameter(first.weight.detach().T.reshape(k, symbols, width).clone())
            self.bias = nn.Parameter(first.bias.detach().clone())
            layers: list[Any] = [nn.ReLU()]
            for _ in range(depth - 1):
                layers += [nn.Linear(width, width), nn.ReLU()]
            layers.append(nn.Linear(width, classes))
            self.rest = nn.Sequential(*layers)
            self.register_buffer("offsets", torch.arange(k) * symbols)

        def forward(self, words: Any) -> Any:
            # one embedding lookup in the tables seen as (k·symbols, width) rows: the same numbers as
            # indexing table[j, words[:, j]], with a backward that is a row scatter-add rather than
            # advanced indexing's (20 % of a training step)
            rows = torch.nn.functional.embedding(words + self.offsets, self.table.view(k * symbols, width))
            return self.rest(rows.sum(dim=1) + self.bias)

    return WordMLP()


def logical_depth(groups: Sequence[str] = ("S5", "Z2^7"), ks: Sequence[int] = (1, 2, 3),
                  depths: Sequence[int] = tuple(range(1, 9)), *, budget: int = 20000, restarts: int = 2,
                  steps: int = 1000, batch: int = 128, lr: float = 3e-3, test_words: int = 2000,
                  target: float = 0.95, eval_every: int = 100, stop_at_first: bool = True, seed: int | None = None,
                  threads: int | None = None, progress: Any = False) -> LogicalDepth:
    """The smallest MLP depth that learns the product of k group elements, per group and k.

    Inputs: k one-hot vectors of ``symbols`` = max |G| over ``groups`` entries each (a smaller group's
    vectors are zero past its order, and its classes past it are never the label), so every group sees
    the same input size and every depth the same parameter ``budget`` (width from
    :func:`mlp_width_for_budget`, first layer k·symbols → width, output ``symbols`` classes).
    Training: Adam on the cross-entropy of fresh random words each step (:func:`group_words`, seeded per
    run), ``batch`` words a step, at most ``steps`` steps; every ``eval_every`` steps the accuracy on
    ``test_words`` held-out fresh words is measured and training stops once it reaches ``target``.
    For small k the words repeat (|G|^k of them), so test words may have been seen in training: the
    accuracy there measures fitting the table, not generalising.
    Depths are tried in increasing order; with ``stop_at_first`` a restart stops at its first depth that
    reaches ``target`` (the deeper ones are not trained), the quantity asked for.
    """
    torch = import_torch("logical_depth")
    if isinstance(groups, str) or not isinstance(groups, Sequence) or not groups:
        raise TypeError(f"groups must be a non-empty sequence of group names such as ('S5', 'Z2^7'), got {groups!r}")
    groups = [str(g).strip() for g in groups]
    for g in groups:
        _parse_group(g)
    ks = _ints(ks, "ks", 1, 64)
    depths = _ints(depths, "depths", 1, 32)
    budget = check_int(budget, "budget", minimum=1)
    restarts = check_int(restarts, "restarts", minimum=1)
    steps = check_int(steps, "steps", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    lr = check_real(lr, "lr", positive=True)
    test_words = check_int(test_words, "test_words", minimum=1)
    target = check_real(target, "target", positive=True)
    if target > 1:
        raise ValueError(f"target is an accuracy in (0, 1], got {target}")
    eval_every = check_int(eval_every, "eval_every", minimum=1)
    if not isinstance(stop_at_first, bool):
        raise TypeError(f"stop_at_first must be a bool, got {type(stop_at_first).__name__}")
    check_threads(threads)
    seed = resolve_seed(seed)
    symbols = max(group_order(g) for g in groups)
    for k in ks:  # every depth must fit the budget: fail before training anything
        for d in depths:
            mlp_width_for_budget(k * symbols, d, symbols, budget)
    tables = {g: torch.from_numpy(group_table(g)) for g in groups}
    result = LogicalDepth(groups, ks, depths, budget, target, symbols, seed)
    total = len(groups) * len(ks) * restarts * len(depths) * steps
    bar = progress_bar(progress, total, "logical depth: training steps")
    try:
        with _torch_threads(torch, threads):
            for gi, g in enumerate(groups):
                table = tables[g]
                order = int(table.shape[0])
                result.needed[g] = {}
                for k in ks:
                    needed = np.full(restarts, np.nan)
                    for r in range(restarts):
                        for di, d in enumerate(depths):
                            s = _sub_seed(seed, gi, k, r, d)
                            test_x, test_y = _words(torch, table, order, k, test_words, _sub_seed(s, 1))
                            torch.manual_seed(s)
                            width = mlp_width_for_budget(k * symbols, d, symbols, budget)
                            model = _word_mlp(torch, k, symbols, width, d, symbols)
                            acc, taken, seconds = _train_words(torch, model, table, order, k, test_x, test_y,
                                                               _sub_seed(s, 2), steps, batch, lr, target,
                                                               eval_every, bar)
                            result.runs.append({
                                "group": g, "k": k, "depth": d, "restart": r, "width": width,
                                "parameters": mlp_parameters(k * symbols, width, d, symbols), "accuracy": acc,
                                "reached": acc >= target, "steps": taken, "seconds": seconds})
                            if acc >= target and np.isnan(needed[r]):
                                needed[r] = d
                                if stop_at_first:
                                    bar.update(steps * (len(depths) - di - 1))
                                    break
                    result.needed[g][k] = needed
    finally:
        bar.close()
    return result


def _words(torch: Any, table: Any, order: int, k: int, n: int, seed: int) -> tuple[Any, Any]:
    gen = torch.Generator().manual_seed(seed)
    g = torch.randint(0, order, (n, k), generator=gen)
    acc = g[:, 0]
    for j in range(1, k):
        acc = table[acc, g[:, j]]
    return g, acc


def _train_words(torch: Any, model: Any, table: Any, order: int, k: int, test_x: Any, test_y: Any, seed: int,
                 steps: int, batch: int, lr: float, target: float, eval_every: int, bar: Any) -> tuple[float, int, float]:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)  # the same numbers, one kernel per op
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    acc, done = 0.0, 0
    for step in range(steps):
        g = torch.randint(0, order, (batch, k), generator=gen)
        y = g[:, 0]
        for j in range(1, k):
            y = table[y, g[:, j]]
        opt.zero_grad()
        loss = loss_fn(model(g), y)
        loss.backward()
        opt.step()
        done = step + 1
        if done % eval_every == 0 or done == steps:
            with torch.no_grad():
                acc = float((model(test_x).argmax(dim=1) == test_y).double().mean())
            bar.update(eval_every if done % eval_every == 0 else done % eval_every)
            if acc >= target:
                break
    bar.update(steps - done)
    return acc, done, time.perf_counter() - t0
