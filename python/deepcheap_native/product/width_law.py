"""The width law (Rolnick & Tegmark), measured: one hidden layer needs 2ⁿ neurons to multiply n inputs.

Training code of the sweep the report's product section runs (and a user can run at other sizes):
``width_law_jobs`` lists the (n, width, restart) jobs, ``train_width_job`` trains one (torch, fixed
seeds; random restarts and restarts seeded by the package's exact construction with relative noise),
``width_law`` maps them on the scale-out engine (in-process, an Executor or a Dask client; results in
job order, the same anywhere) and ``width_law_summary`` gives, per n, the best error per width and the
jump at 2ⁿ. Moved here from the report (issue 24 §1: the library never imports the report)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .network import product_network

__all__ = ["CONSTRUCTION_NOISE", "train_width_job", "width_law", "width_law_jobs", "width_law_summary"]


#: Relative noise on the construction's parameters, per construction-seeded restart (cycled). The
#: construction cancels: its output weights grow as 1/(2ⁿ σ⁽ⁿ⁾ λⁿ), so relative noise ε moves the output
#: by about ε/λⁿ; restarts span gentle (stays in the construction's basin) to rough (a new basin).
CONSTRUCTION_NOISE = (1e-6, 1e-3, 1e-2, 1e-1)


def _width_data(n: int, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed input distribution U[−1, 1]ⁿ: a training set and a 4096-point test set."""
    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-1, 1, (samples, n))
    x_test = rng.uniform(-1, 1, (4096, n))
    return x_train, np.prod(x_train, axis=1), x_test, np.prod(x_test, axis=1)


def width_law_jobs(ns: list[int], *, random_restarts: int, construction_restarts: int, steps: int,
                   samples: int, scale: float, seed: int, extra_widths: int = 2) -> list[dict[str, Any]]:
    """The sweep n × width × restart (plus the deep network per n × restart), as independent jobs.

    Widths run 1 … 2ⁿ + extra_widths. Restarts are random initialisations and the exact 2ⁿ construction
    (a random subset of its neurons below 2ⁿ, extra random neurons with zero output weight above)
    with every parameter perturbed by relative noise (CONSTRUCTION_NOISE, one level per restart).
    """
    def restart(r: int) -> tuple[str, float | None]:
        if r < random_restarts:
            return "random", None
        return "construction", CONSTRUCTION_NOISE[(r - random_restarts) % len(CONSTRUCTION_NOISE)]

    jobs = []
    for n in ns:
        common = {"n": n, "steps": steps, "samples": samples, "scale": scale, "data_seed": seed + 1000 * n}
        for width in range(1, 2**n + extra_widths + 1):
            for r in range(random_restarts + construction_restarts):
                init, noise = restart(r)
                jobs.append({**common, "kind": "shallow", "width": width, "init": init, "noise": noise,
                             "seed": seed + 7919 * r + 31 * width + n})
        for r in range(random_restarts + construction_restarts):
            init, noise = restart(r)
            jobs.append({**common, "kind": "deep", "width": None, "init": init, "noise": noise,
                         "seed": seed + 7919 * r + 17 * n})
    return jobs


def _construction_model(torch: Any, job: dict[str, Any], rng: np.random.Generator) -> Any:

    n = job["n"]
    net = product_network(n, kind=job["kind"], scale=job["scale"])
    model = net.to_torch().double()
    if job["kind"] == "shallow":
        width, full = job["width"], 2**n
        first, last = model[0], model[-1]
        W, b, V = first.weight.detach().numpy(), first.bias.detach().numpy(), last.weight.detach().numpy()
        keep = np.sort(rng.choice(full, size=min(width, full), replace=False))
        W, b, V = W[keep], b[keep], V[:, keep]
        if width > full:  # extra neurons start switched off (zero output weight)
            extra = width - full
            W = np.vstack([W, rng.normal(0, 1, (extra, n)) * np.abs(W).mean()])
            b = np.concatenate([b, rng.normal(0, 1, extra) * max(np.abs(b).mean(), 1e-3)])
            V = np.hstack([V, np.zeros((1, extra))])
        model = torch.nn.Sequential(torch.nn.Linear(n, width), type(model[1])(), torch.nn.Linear(width, 1)).double()
        with torch.no_grad():
            model[0].weight.copy_(torch.from_numpy(W))
            model[0].bias.copy_(torch.from_numpy(b))
            model[2].weight.copy_(torch.from_numpy(V))
            model[2].bias.copy_(last.bias.detach())
    with torch.no_grad():
        for p in model.parameters():
            noise = torch.from_numpy(rng.normal(0, 1, tuple(p.shape)))
            p.add_(job["noise"] * noise * p.abs().mean().clamp_min(1e-3))
    return model


def train_width_job(job: dict[str, Any]) -> dict[str, Any]:
    """Train one network of the sweep (float64, full-batch L-BFGS) and return its relative RMS test error.

    A pure function of the job dictionary (seeds included), so it may run in this process, a thread
    pool, a process pool or on a Dask cluster with the same result.
    """
    import torch


    torch.set_num_threads(1)  # tiny matrices: threads only add synchronisation (and jobs run side by side)
    # Every random number comes from this job's own generator, never torch's global one: jobs running
    # side by side in threads would otherwise interleave their draws.
    rng = np.random.default_rng(job["seed"])
    n = job["n"]
    x_train, y_train, x_test, y_test = _width_data(n, job["samples"], job["data_seed"])
    if job["init"] == "construction":
        model = _construction_model(torch, job, rng)
    else:
        if job["kind"] == "shallow":
            model = torch.nn.Sequential(torch.nn.Linear(n, job["width"]), torch.nn.Softplus(),
                                        torch.nn.Linear(job["width"], 1)).double()
        else:  # the deep construction's architecture, freshly initialised
            model = product_network(n, kind="deep", scale=job["scale"]).to_torch().double()
        # torch's default Linear initialisation, U(±1/√fan_in) for weights and biases, drawn from rng.
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, torch.nn.Linear):
                    bound = 1.0 / np.sqrt(layer.in_features)
                    layer.weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(layer.weight.shape))))
                    layer.bias.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(layer.bias.shape))))
    neurons = sum(layer.out_features for layer in list(model)[:-1] if isinstance(layer, torch.nn.Linear))
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).reshape(-1, 1)
    xs = torch.from_numpy(x_test)
    rms = float(np.sqrt(np.mean(y_test**2)))

    def test_error() -> float:
        with torch.no_grad():
            pred = model(xs).numpy().reshape(-1)
        err = float(np.sqrt(np.mean((pred - y_test) ** 2)) / rms)
        return err if np.isfinite(err) else float("inf")

    before = test_error()
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=job["steps"], history_size=50,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-14, tolerance_change=1e-16)

    def closure() -> Any:
        opt.zero_grad()
        loss = torch.mean((model(xt) - yt) ** 2)
        loss.backward()
        return loss

    try:
        opt.step(closure)
        after = test_error()
    except RuntimeError:  # a diverged restart (NaN in the line search) simply counts as failed
        after = float("inf")
    return {**job, "neurons": int(neurons), "error_before": before, "error": after}


def width_law(jobs: list[dict[str, Any]], *, client: Any = None, progress: Any = None) -> list[dict[str, Any]]:
    """Run the sweep: on `client` (a dask.distributed.Client, any concurrent.futures.Executor: anything
    with ``submit``, or "sync" / a scheduler address) when given, else here one job after another.
    Results come back in job order. `progress`: the package's progress contract
    (:func:`~deepcheap_native.core.progress.progress_bar`), one unit per job."""
    from ..core.scaleout import run

    return run(train_width_job, [(job,) for job in jobs], client=client, progress=progress,
               description="width law jobs", unit="jobs")


def width_law_summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per n: best error per width (over restarts), the ratio best(below 2ⁿ) / best(at 2ⁿ), the deep
    network's best error and neurons, and the exact constructions' errors."""

    out = []
    for n in sorted({r["n"] for r in results}):
        shallow = [r for r in results if r["n"] == n and r["kind"] == "shallow"]
        deep = [r for r in results if r["n"] == n and r["kind"] == "deep"]
        widths = sorted({r["width"] for r in shallow})
        best = {w: min(r["error"] for r in shallow if r["width"] == w) for w in widths}
        full = 2**n
        below = min(best[w] for w in widths if w < full)
        at = best[full]
        scale = shallow[0]["scale"]
        _, _, x_test, y_test = _width_data(n, shallow[0]["samples"], shallow[0]["data_seed"])
        rms = float(np.sqrt(np.mean(y_test**2)))
        exact = {}
        for kind in ("shallow", "deep"):
            net = product_network(n, kind=kind, scale=scale)
            pred = np.asarray(net(x_test), dtype=np.float64).reshape(-1)
            exact[kind] = {"neurons": int(net.n_neurons), "error": float(np.sqrt(np.mean((pred - y_test) ** 2)) / rms)}
        deep_best = min(r["error"] for r in deep) if deep else float("nan")
        out.append({"n": n, "widths": widths, "best": [best[w] for w in widths], "best_below_2n": below,
                    "best_at_2n": at, "ratio": below / at if at > 0 else float("inf"),
                    "best_above_2n": min([best[w] for w in widths if w > full], default=float("nan")),
                    "deep_neurons": deep[0]["neurons"] if deep else None, "deep_best": deep_best,
                    "exact": exact})
    return out


