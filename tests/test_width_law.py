"""The width-law sweep of the report (python/deepcheap_native/report/product.py): the construction it
seeds restarts with is the package's exact 2ⁿ network, jobs are pure (same result here, in a thread
pool, twice), and on n = 2 the measured law holds: width 2ⁿ beats every narrower network by far."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import deepcheap_native as dc  # noqa: E402
from deepcheap_native.product import width_law as wl  # noqa: E402
from deepcheap_native.report import product as rp  # noqa: E402


def _job(n, width, init="construction", steps=10, kind="shallow", seed=3):
    return {"n": n, "steps": steps, "samples": 256, "scale": 0.3, "data_seed": 11, "kind": kind,
            "width": width, "init": init, "noise": 1e-3 if init == "construction" else None, "seed": seed}


def test_jobs_cover_every_width_and_restart():
    jobs = rp.width_law_jobs([2, 3], random_restarts=2, construction_restarts=1, steps=5, samples=64,
                             scale=0.3, seed=0)
    shallow = [j for j in jobs if j["kind"] == "shallow"]
    assert sorted({(j["n"], j["width"]) for j in shallow}) == [(2, w) for w in range(1, 7)] + [(3, w) for w in range(1, 11)]
    assert len(shallow) == (6 + 10) * 3 and sum(j["kind"] == "deep" for j in jobs) == 2 * 3
    assert len({j["seed"] for j in shallow}) == len(shallow)  # every restart starts differently


@pytest.mark.parametrize("n", [2, 3, 4])
def test_unperturbed_construction_is_the_native_network(n):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (500, n))
    for kind in ("shallow", "deep"):
        model = wl._construction_model(torch, {**_job(n, 2**n, kind=kind), "noise": 0.0}, np.random.default_rng(1))
        with torch.no_grad():
            got = model(torch.from_numpy(x)).numpy().reshape(-1)
        want = np.asarray(dc.product_network(n, kind=kind, scale=0.3)(x), dtype=np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    # Narrower: a subset of the construction's neurons (rows of W with their output weights).
    full = dc.product_network(n, kind="shallow", scale=0.3).weights
    model = wl._construction_model(torch, {**_job(n, 2**n - 1), "noise": 0.0}, np.random.default_rng(2))
    W = model[0].weight.detach().numpy()
    assert W.shape == (2**n - 1, n)
    rows = {tuple(r) for r in np.round(full[0][0], 12)}
    assert all(tuple(r) in rows for r in np.round(W, 12))
    # Wider: the extra neurons start with zero output weight, so the function is unchanged.
    model = wl._construction_model(torch, {**_job(n, 2**n + 2), "noise": 0.0}, np.random.default_rng(3))
    assert np.all(model[2].weight.detach().numpy()[0, 2**n:] == 0)


def test_jobs_are_pure_locally_and_on_an_executor():
    jobs = [_job(2, w, init) for w in (3, 4) for init in ("random", "construction")] + [_job(2, None, "random", kind="deep")]
    local = rp.width_law(jobs)
    again = rp.width_law(jobs)
    with ThreadPoolExecutor(2) as pool:
        remote = rp.width_law(jobs, client=pool)
    assert [r["error"] for r in local] == [r["error"] for r in again] == [r["error"] for r in remote]
    assert [r["neurons"] for r in local] == [3, 3, 4, 4, dc.product_network(2, kind="deep").n_neurons]
    with pytest.raises(TypeError, match="submit"):
        rp.width_law(jobs, client=object())


def test_width_law_n2_shows_the_jump_at_four_neurons():
    jobs = rp.width_law_jobs([2], random_restarts=2, construction_restarts=2, steps=100, samples=512,
                             scale=0.05, seed=5)
    summary = rp.width_law_summary(rp.width_law(jobs))[0]
    assert summary["widths"] == list(range(1, 7))
    # Theory (Rolnick & Tegmark): below 2ⁿ = 4 neurons the product cannot be approximated arbitrarily
    # well; at 4 the construction (and training from it) gets far lower.
    assert summary["ratio"] >= 10, summary
    assert summary["exact"]["shallow"]["neurons"] == 4
    # Training from the gently perturbed construction stays in its basin (test error, so within 1.5×).
    assert summary["best_at_2n"] <= 1.5 * summary["exact"]["shallow"]["error"]
