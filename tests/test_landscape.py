"""Spherical p-spin glass (deepcheap_native.landscape): couplings from Philox against an independent
pure-Python Box–Muller, energy against einsum over the raw couplings, Riemannian gradient and Hessian
against finite differences along geodesics, p = 2 descent against the eigenvalues of the coupling
matrix, heavy-ball steps against the update written out with einsum over the raw couplings, the report's
N → ∞ fit against known laws, reproducibility and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import deepcheap_native as dc
from conftest import threads
from deepcheap_native import landscape
from deepcheap_native.landscape import SphericalSpinGlass


def reference_normals(seed: int, m: np.ndarray, purpose: int) -> np.ndarray:
    """J at flat indices m from dc.random.philox4x32 and a Box–Muller written here (53-bit uniforms
    as philox.hpp's uniform_double, in Python integers)."""
    item = m // 2
    counter = np.stack([item & 0xFFFFFFFF, item >> 32, np.zeros_like(item), np.full_like(item, purpose)], 1)
    key = np.array([[seed & 0xFFFFFFFF, seed >> 32]], dtype=np.uint32)
    words = dc.random.philox4x32(counter.astype(np.uint32), key)
    out = []
    for w, mm in zip(words.tolist(), m.tolist()):
        u = [(((hi << 21) ^ (lo >> 11)) & ((1 << 53) - 1)) / 2.0**53 for hi, lo in ((w[0], w[1]), (w[2], w[3]))]
        r = math.sqrt(-2.0 * math.log(1.0 - u[0]))
        out.append(r * (math.cos if mm % 2 == 0 else math.sin)(2 * math.pi * u[1]))
    return np.array(out)


def geodesic(sigma: np.ndarray, v: np.ndarray, t: float) -> np.ndarray:
    """γ(t) on |σ|² = N with γ(0) = σ, γ'(0) = v (v ⟂ σ)."""
    N = sigma.size
    speed = np.linalg.norm(v) / math.sqrt(N)
    return math.cos(t * speed) * sigma + math.sin(t * speed) * math.sqrt(N) * v / np.linalg.norm(v)


def tangent_vector(rng: np.random.Generator, sigma: np.ndarray) -> np.ndarray:
    v = rng.standard_normal(sigma.size)
    return v - (v @ sigma) / (sigma @ sigma) * sigma


# ---- couplings --------------------------------------------------------------------------------------
def test_couplings_are_philox_normals_by_index():
    seed = 2**40 + 12345
    model = SphericalSpinGlass(9, 3, seed=seed)
    J = model.couplings().reshape(-1)
    m = np.array([0, 1, 2, 3, 100, 101, 727, 728], dtype=np.uint64)
    np.testing.assert_allclose(J[m.astype(np.int64)], reference_normals(seed, m, landscape.PURPOSE_COUPLINGS),
                               rtol=1e-14, atol=1e-14)
    assert np.array_equal(J, SphericalSpinGlass(9, 3, seed=seed).couplings().reshape(-1))
    assert not np.array_equal(J, SphericalSpinGlass(9, 3, seed=seed + 1).couplings().reshape(-1))


def test_couplings_standard_normal_statistics():
    J = SphericalSpinGlass(40, 3, seed=7).couplings().reshape(-1)  # 64,000 draws
    n = J.size
    assert abs(J.mean()) < 5 / math.sqrt(n)
    assert abs(J.var() - 1) < 5 * math.sqrt(2 / n)
    # fourth moment 3 and tail mass beyond 2σ, 4.55 %
    assert abs(np.mean(J**4) - 3) < 5 * math.sqrt(96 / n)
    tail = np.mean(np.abs(J) > 2)
    assert abs(tail - 0.0455003) < 5 * math.sqrt(0.0455 * 0.9545 / n)


def test_model_independent_of_thread_count():
    with threads(1):
        a = SphericalSpinGlass(24, 3, seed=3)
        xa = a.random_starts(5, seed=1)
    with threads(2):
        b = SphericalSpinGlass(24, 3, seed=3)
        xb = b.random_starts(5, seed=1)
    assert np.array_equal(a.symmetric_couplings, b.symmetric_couplings)
    assert np.array_equal(xa, xb)


@pytest.mark.parametrize("p", [2, 3, 4])
def test_symmetric_tensor_and_energy_against_raw_couplings(p):
    N = {2: 11, 3: 7, 4: 5}[p]
    model = SphericalSpinGlass(N, p, seed=5)
    J = model.couplings()
    S = model.symmetric_couplings
    brute = sum(J.transpose(perm) for perm in itertools.permutations(range(p))) / math.factorial(p)
    np.testing.assert_allclose(S, brute, rtol=1e-14, atol=1e-15)
    assert not S.flags.writeable
    x = model.random_starts(6, seed=2)
    letters = "ijkl"[:p]
    expected = np.array([np.einsum(f"{letters}," + ",".join(letters), J, *([xi] * p)) for xi in x])
    expected *= N ** (-(p - 1) / 2)
    np.testing.assert_allclose(model.total_energy(x), expected, rtol=1e-12)
    np.testing.assert_array_equal(model.energy(x), model.total_energy(x))
    np.testing.assert_allclose(model.energy_per_spin(x), expected / N, rtol=1e-12)
    assert isinstance(model.energy(x[0]), float)


def test_starts_uniform_and_independent_of_batch():
    model = SphericalSpinGlass(6, 2, seed=0)
    x = model.random_starts(5, seed=9)
    np.testing.assert_allclose((x**2).sum(1), 6.0, rtol=1e-14)
    assert np.array_equal(x[:3], model.random_starts(3, seed=9))
    assert np.array_equal(x[2:], model.random_starts(3, seed=9, first=2))
    # Uniform on the sphere: each coordinate² / N averages 1/N; the first coordinate is symmetric.
    many = SphericalSpinGlass(5, 2, seed=0).random_starts(20000, seed=1) / math.sqrt(5)
    assert abs(np.mean(many[:, 0] ** 2) - 0.2) < 5 * math.sqrt(np.var(many[:, 0] ** 2) / 20000)
    assert abs(np.mean(many[:, 0])) < 5 * math.sqrt(0.2 / 20000)


def test_ground_state_and_threshold_energies():
    assert landscape.threshold_energy(3) == pytest.approx(2 * math.sqrt(2 / 3), rel=1e-15)
    assert landscape.ground_state_energy(2) == pytest.approx(math.sqrt(2), rel=1e-15)
    # Crisanti–Sommers 1RSB ground state of the spherical 3-spin: 1.657 (to the 3 decimals quoted)
    assert landscape.ground_state_energy(3) == pytest.approx(1.657, abs=5e-4)
    for p in (3, 4):
        assert landscape.ground_state_energy(p) > landscape.threshold_energy(p)


# ---- calculus on the sphere -----------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, 3, 4])
def test_gradient_against_finite_differences(p):
    N = {2: 9, 3: 8, 4: 6}[p]
    model = SphericalSpinGlass(N, p, seed=11)
    rng = np.random.default_rng(p)
    sigma = model.random_starts(3, seed=4)
    grad = model.gradient(sigma)
    np.testing.assert_allclose(np.einsum("bi,bi->b", grad, sigma), 0, atol=1e-12)  # tangent
    h = 1e-5
    for b in range(3):
        for _ in range(3):
            v = tangent_vector(rng, sigma[b])
            fd = (model.energy(geodesic(sigma[b], v, h)) - model.energy(geodesic(sigma[b], v, -h))) / (2 * h)
            assert grad[b] @ v == pytest.approx(fd, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("p", [2, 3, 4])
def test_hessian_against_second_differences_along_geodesics(p):
    N = {2: 9, 3: 8, 4: 6}[p]
    model = SphericalSpinGlass(N, p, seed=12)
    rng = np.random.default_rng(10 + p)
    sigma = model.random_starts(2, seed=5)
    hess = model.hessian(sigma)
    assert hess.shape == (2, N, N)
    np.testing.assert_allclose(hess, hess.transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", hess, sigma), 0, atol=1e-11)
    h = 1e-3
    for b in range(2):
        f0 = model.energy(sigma[b])
        for _ in range(3):
            u, v = tangent_vector(rng, sigma[b]), tangent_vector(rng, sigma[b])
            u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)  # keeps the O(h²|v|⁴) truncation small

            def second(w):
                return (model.energy(geodesic(sigma[b], w, h)) - 2 * f0 + model.energy(geodesic(sigma[b], w, -h))) / h**2

            assert v @ hess[b] @ v == pytest.approx(second(v), rel=1e-6, abs=1e-6)
            # off-diagonal by polarisation: uᵀHv = (q(u+v) − q(u−v)) / 4
            assert u @ hess[b] @ v == pytest.approx((second(u + v) - second(u - v)) / 4, rel=1e-4, abs=1e-4)
    ev = model.hessian_eigenvalues(sigma)
    assert ev.shape == (2, N - 1)
    assert np.array_equal(model.hessian_index(sigma), (ev < 0).sum(1))


def test_p2_descent_reaches_the_extreme_eigenvalue_of_the_coupling_matrix():
    """p = 2: H/N = σᵀSσ/(N√N), S = (J+Jᵀ)/2, so the minimum is λ_min(S)/√N = −λ_max(−S)/√N, every
    descent from a random start ends there, and the Riemannian Hessian there has the eigenvalues
    2(λ_k − λ_min)/√N, k ≥ 2."""
    N = 60
    model = SphericalSpinGlass(N, 2, seed=21)
    J = model.couplings()
    lam = np.linalg.eigvalsh((J + J.T) / 2)
    result = model.descend(16, steps=4000, seed=3, tol=1e-10, hessian_index=True)
    assert result.converged.all()
    np.testing.assert_allclose(result.energy_per_spin, lam[0] / math.sqrt(N), rtol=1e-10)
    assert (result.hessian_index == 0).all()
    expected = 2 * (lam[1:] - lam[0]) / math.sqrt(N)
    np.testing.assert_allclose(model.hessian_eigenvalues(result.sigma[:2]), np.tile(expected, (2, 1)),
                               rtol=1e-6, atol=1e-8)
    # the endpoint is ± the bottom eigenvector
    vec = np.linalg.eigh((J + J.T) / 2)[1][:, 0]
    np.testing.assert_allclose(np.abs(result.sigma @ vec), math.sqrt(N), rtol=1e-8)


def test_p3_descent_endpoints_are_minima_below_their_starts():
    model = SphericalSpinGlass(24, 3, seed=8)
    starts = model.random_starts(24, seed=1)
    result = model.descend(24, steps=600, seed=1, tol=1e-7, hessian_index=True)
    assert (result.energy_per_spin < model.energy_per_spin(starts)).all()
    assert result.converged.mean() >= 0.5
    c = result.converged
    assert (result.hessian_index[c] == 0).all()
    assert (result.min_hessian_eigenvalue[c] > 0).all()
    assert (result.gradient_norm[c] <= 1e-7).all()
    np.testing.assert_allclose(np.linalg.norm(model.gradient(result.sigma[c]), axis=1) / math.sqrt(24),
                               result.gradient_norm[c], rtol=1e-6, atol=1e-12)
    # Minima of a p = 3 landscape at N = 24 lie between −E₀ − finite-N slack and 0.
    assert (result.energy_per_spin > -landscape.ground_state_energy(3) - 0.3).all()
    assert (result.steps_taken[c] < 600).all() and (result.steps_taken[~c] == 600).all()


def test_monomials_are_the_multiset_products_in_order():
    rng = np.random.default_rng(3)
    for N, k in [(7, 2), (6, 3), (5, 1)]:
        x = rng.standard_normal((4, N))
        columns = landscape.spin_glass._multisets(N, k)
        expected = np.ones((4, columns[0].size))
        for c in columns:
            expected *= x[:, c]
        got = landscape.spin_glass._monomials_t(np.ascontiguousarray(x.T), k).T
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


def brute_heavy_ball(model, x, steps, eta, beta):
    """Heavy ball on the sphere written from its definition, gradient by einsum over the raw couplings."""
    N, p = model.N, model.p
    J = model.couplings()
    letters = "ijkl"[:p]
    v = np.zeros_like(x)
    for _ in range(steps):
        # ∇H = N^(−(p−1)/2) Σ over the p slots of J contracted with σ on the other p − 1
        g = np.zeros_like(x)
        for slot in range(p):
            others = [c for t, c in enumerate(letters) if t != slot]
            g += np.einsum(f"{letters}," + ",".join("b" + c for c in others) + f"->b{letters[slot]}", J, *([x] * (p - 1)))
        g *= N ** (-(p - 1) / 2)
        g -= (np.sum(g * x, 1) / N)[:, None] * x
        v = beta * v - eta * g
        y = x + v
        x = y * (math.sqrt(N) / np.linalg.norm(y, axis=1))[:, None]
        v = v - (np.sum(v * x, 1) / N)[:, None] * x
    return x


@pytest.mark.parametrize("p", [3, 4])
def test_heavy_ball_steps_against_a_brute_force(p):
    N = {3: 9, 4: 6}[p]
    model = SphericalSpinGlass(N, p, seed=31)
    x0 = model.random_starts(5, seed=2)
    r = model.descend(5, steps=12, seed=2, tol=0, method="momentum", momentum=0.8)
    np.testing.assert_allclose(r.sigma, brute_heavy_ball(model, x0, 12, model.default_step_size(), 0.8), rtol=0, atol=1e-11)
    assert r.method == "momentum" and r.momentum == 0.8
    # momentum 0 is plain gradient descent
    np.testing.assert_allclose(model.descend(5, steps=12, seed=2, tol=0, method="momentum", momentum=0.0).sigma,
                               model.descend(5, steps=12, seed=2, tol=0).sigma, rtol=0, atol=1e-12)


def test_heavy_ball_reaches_the_p2_minimum():
    N = 60
    model = SphericalSpinGlass(N, 2, seed=21)
    J = model.couplings()
    bottom = np.linalg.eigvalsh((J + J.T) / 2)[0] / math.sqrt(N)
    hb = model.descend(16, steps=4000, seed=3, tol=1e-10, method="momentum", hessian_index=True)
    gd = model.descend(16, steps=4000, seed=3, tol=1e-10)
    assert hb.converged.all() and (hb.hessian_index == 0).all()
    np.testing.assert_allclose(hb.energy_per_spin, bottom, rtol=1e-10)
    # near the minimum the heavy ball contracts by √β = 0.95 a step, so to 1e-10 it saves little here
    assert np.median(hb.steps_taken) < np.median(gd.steps_taken)


def test_heavy_ball_p3_endpoints_are_minima_and_reproducible():
    model = SphericalSpinGlass(24, 3, seed=8)
    r = model.descend(24, steps=600, seed=1, tol=1e-7, method="momentum", hessian_index=True)
    assert r.converged.mean() >= 0.8
    c = r.converged
    assert (r.hessian_index[c] == 0).all() and (r.min_hessian_eigenvalue[c] > 0).all()
    assert (r.gradient_norm[c] <= 1e-7).all()
    assert (r.energy_per_spin > -landscape.ground_state_energy(3) - 0.3).all()
    again = model.descend(24, steps=600, seed=1, tol=1e-7, method="momentum")
    assert np.array_equal(again.sigma, r.sigma) and np.array_equal(again.steps_taken, r.steps_taken)
    part = model.descend(8, steps=600, seed=1, tol=1e-7, method="momentum")  # BLAS may round a batch differently
    np.testing.assert_allclose(part.sigma, r.sigma[:8], rtol=0, atol=1e-6)


def test_descent_reproducible_and_independent_of_batch():
    model = SphericalSpinGlass(16, 3, seed=2)
    a = model.descend(6, steps=150, seed=4)
    b = model.descend(6, steps=150, seed=4)
    for name in ("energy_per_spin", "gradient_norm", "sigma", "steps_taken", "converged"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    # the first starts of a larger batch follow the same paths (BLAS may round a batch differently)
    c = model.descend(3, steps=150, seed=4)
    np.testing.assert_allclose(c.sigma, a.sigma[:3], rtol=0, atol=1e-9)
    explicit = model.descend(3, steps=150, seed=99, starts=model.random_starts(3, seed=4))
    np.testing.assert_allclose(explicit.sigma, c.sigma, atol=1e-12)


def test_float32_descent_matches_float64():
    model = SphericalSpinGlass(20, 3, seed=6)
    r64 = model.descend(16, steps=500, seed=2, tol=1e-5)
    r32 = model.descend(16, steps=500, seed=2, tol=1e-5, dtype="float32")
    same = np.abs(r64.energy_per_spin - r32.energy_per_spin) < 1e-4
    assert same.mean() >= 0.8
    pairs = math.comb(21, 2)  # reduced tensor: multisets of 2 indices, float64 and float32 copies
    assert model.nbytes == 8 * 20**3 + 12 * 20 * pairs
    assert SphericalSpinGlass.memory_bytes(20, 3) == 16 * 20**3


def test_progress_and_step_size():
    model = SphericalSpinGlass(8, 3, seed=0)
    calls = []
    model.descend(2, steps=7, tol=0, progress=lambda s, n: calls.append((s, n)))
    assert calls == [(s, 7) for s in range(1, 8)]
    assert model.default_step_size() == pytest.approx(0.4 / math.sqrt(6))
    r = model.descend(2, steps=0)
    assert (r.steps_taken == 0).all() and r.hessian_index is None


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    model = SphericalSpinGlass(6, 3, seed=1)
    x = model.random_starts(2, seed=0)
    e = model.energy(torch.from_numpy(x))
    assert isinstance(e, torch.Tensor)
    np.testing.assert_allclose(e.numpy(), model.energy(x), rtol=0)
    assert isinstance(model.gradient(torch.from_numpy(x[0])), torch.Tensor)


# ---- bad input ------------------------------------------------------------------------------------
def test_memory_stated_and_refused():
    assert SphericalSpinGlass.memory_bytes(256, 3) == 16 * 256**3
    with pytest.raises(ValueError, match=r"N = 2000 needs .* MiB .* max_bytes"):
        SphericalSpinGlass(2000, 3)
    with pytest.raises(ValueError, match="max_bytes"):
        SphericalSpinGlass(64, 3, max_bytes=1000)
    assert SphericalSpinGlass(10, 3, max_bytes=16 * 10**3).nbytes == 8 * 10**3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"N": 1, "p": 3}, ValueError, "N must be >= 2"),
        ({"N": 8, "p": 5}, ValueError, "p must be <= 4"),
        ({"N": 8, "p": 1}, ValueError, "p must be >= 2"),
        ({"N": 8, "p": "3"}, TypeError, "p must be an integer"),
        ({"N": 8.0, "p": 3}, TypeError, "N must be an integer"),
        ({"N": 8, "p": 3, "seed": -1}, ValueError, "seed"),
        ({"N": 8, "p": 3, "seed": 2**64}, ValueError, "seed"),
    ],
)
def test_bad_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        SphericalSpinGlass(**kwargs)


def test_bad_points_and_descent_arguments():
    model = SphericalSpinGlass(5, 3, seed=0)
    x = model.random_starts(2, seed=0)
    with pytest.raises(ValueError, match=r"shape \(5,\) or \(B, 5\), got \(2, 4\)"):
        model.energy(x[:, :4])
    with pytest.raises(ValueError, match="sphere"):
        model.gradient(2 * x)
    with pytest.raises(ValueError, match="finite"):
        model.hessian(np.full(5, np.nan))
    with pytest.raises(TypeError, match="real numbers"):
        model.energy(np.array(["a"] * 5))
    with pytest.raises(ValueError, match="zero row"):
        model.project(np.zeros(5))
    with pytest.raises(ValueError, match="n_starts must be >= 1"):
        model.descend(0)
    with pytest.raises(TypeError, match=r"starts must be an \(n, 5\) array.*pass n_starts=n"):
        model.descend(starts=8)  # an int where the points go (was: "object of type 'int' has no len()")
    with pytest.raises(ValueError, match="step_size"):
        model.descend(2, step_size=-0.1)
    with pytest.raises(TypeError, match="step_size"):
        model.descend(2, step_size="big")
    with pytest.raises(ValueError, match="tol"):
        model.descend(2, tol=float("nan"))
    with pytest.raises(ValueError, match="dtype"):
        model.descend(2, dtype="float16")
    with pytest.raises(TypeError, match="hessian_index"):
        model.descend(2, hessian_index=1)
    with pytest.raises(TypeError, match="progress"):
        model.descend(2, progress=3)
    with pytest.raises(ValueError, match=r"starts must have shape \(3, 5\)"):
        model.descend(3, starts=x)
    with pytest.raises(ValueError, match="method must be one of 'gd', 'momentum', got 'adam'"):
        model.descend(2, method="adam")
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        model.descend(2, method="momentum", momentum=1.0)
    with pytest.raises(ValueError, match="momentum must be >= 0"):
        model.descend(2, method="momentum", momentum=-0.5)
    with pytest.raises(TypeError, match="momentum must be a real number"):
        model.descend(2, method="momentum", momentum="high")


# ---- the report section ---------------------------------------------------------------------------
def test_report_section_tiny_against_library():
    pytest.importorskip("matplotlib")
    from deepcheap_native.report import landscape as section_module
    from deepcheap_native.report.context import Context, Section

    ctx = Context(preset="tiny", seed=3, threads=1, progress=False)
    params = dict(section_module.PRESETS["tiny"])
    section = Section("landscape", section_module.TITLE, section_module.INTRO, parameters=params)
    section_module.run(ctx, section, params)
    assert [s.error for s in section.steps] == [None] * 4
    assert len(section.figures) == 1 and section.figures[0].png.startswith(b"\x89PNG")
    names = [c.name for c in section.claims]
    assert len(names) == 9 and all(c.status in ("ok", "deviates", "info") for c in section.claims)

    def claim(start):
        return section.claims[next(i for i, n in enumerate(names) if n.startswith(start))]

    # the finite-N 1 % target is shown, not judged; the N → ∞ extrapolation needs sizes ≥ 64
    assert claim("mean endpoint energy at N = 32 within 1 %").status == "info"
    assert claim("mean endpoint energy → −E_∞ as N → ∞").status == "info"
    assert claim("every converged endpoint is a local minimum").status == "ok"
    p3 = section.numbers["p3"]
    # every recorded number comes from the library: redo one descent and compare
    N = params["sizes"][0]
    record = p3["runs"][N][0]
    model = SphericalSpinGlass(N, 3, seed=record["model_seed"])
    again = model.descend(params["starts"], steps=params["steps"], seed=ctx.seed_for(6, 1000 + N, 0),
                          tol=params["tol"], dtype="float32", method="momentum", hessian_index=True)
    np.testing.assert_array_equal(again.energy_per_spin, record["energy"])
    np.testing.assert_array_equal(again.hessian_index, record["index"])
    stats = p3["per_size"][N]
    energies = np.concatenate([r["energy"] for r in p3["runs"][N]])
    assert stats["mean"] == pytest.approx(energies.mean()) and stats["endpoints"] == energies.size
    # claims carry their numbers and their verdicts follow from them
    p2 = section.numbers["p2"]
    assert p2["bottom_eigenvalue"] == pytest.approx(-math.sqrt(2), rel=0.15)
    assert claim("p = 2 endpoints").status == "ok"
    # plain gradient descent beside it: redone here from the heavy ball's own model and starts
    gd = section.numbers["p3_gd"]
    N = params["gd_size"]
    model = SphericalSpinGlass(N, 3, seed=p3["runs"][N][0]["model_seed"])
    again = model.descend(params["starts"], steps=params["gd_steps"], seed=ctx.seed_for(6, 1000 + N, 0),
                          tol=params["tol"], dtype="float32", hessian_index=True)
    np.testing.assert_array_equal(again.energy_per_spin, gd["gd"]["energy"])
    assert gd["gd_stats"]["mean"] == pytest.approx(again.energy_per_spin.mean())
    assert p3["method"] == "momentum" and record["method"] == "momentum"


def test_report_extrapolation_recovers_a_known_law():
    from deepcheap_native.report import landscape as section_module

    sizes = [64, 96, 128, 192, 256]
    exact = [-1.63 + 1.4 * N ** (-2 / 3) for N in sizes]
    fixed, free = section_module._extrapolate(sizes, exact)
    assert fixed["m_inf"] == pytest.approx(-1.63, abs=1e-12) and fixed["a"] == pytest.approx(1.4, rel=1e-10)
    assert free["b"] == pytest.approx(2 / 3, abs=0.005) and free["m_inf"] == pytest.approx(-1.63, abs=2e-3)
    half = [-1.6 + 0.5 * N ** -0.5 for N in sizes]
    assert section_module._extrapolate(sizes, half)[1]["b"] == pytest.approx(0.5, abs=0.003)
    assert section_module._extrapolate(sizes[:2], exact) == (None, None)


def test_descend_threads_limits_numpy_blas_for_the_call():
    """descend(threads=k) limits numpy's BLAS pool (threadpoolctl) during the call, restores it after,
    and gives the same endpoints as the default pool to rounding (BLAS may split sums differently)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> set:
        return {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}

    before = blas_threads()
    if not before:
        pytest.skip("numpy's BLAS is not visible to threadpoolctl here")
    model = SphericalSpinGlass(24, 3, seed=4)
    seen: list = []
    one = model.descend(16, steps=60, seed=1, threads=1, progress=lambda s, n: seen.append(blas_threads()))
    assert seen and all(s == {1} for s in seen)
    assert blas_threads() == before
    two = model.descend(16, steps=60, seed=1, threads=2)
    np.testing.assert_allclose(one.energy_per_spin, two.energy_per_spin, rtol=0, atol=1e-12)
    for bad, err in ((0, ValueError), (1.5, TypeError), ("2", TypeError)):
        with pytest.raises(err, match="threads"):
            model.descend(4, steps=1, threads=bad)


def test_descend_from_given_starts_needs_no_count_and_records_its_history():
    """Issue 25.13: descend(starts_array) dumped the array in a TypeError; n_starts is now optional with
    starts=, an array in n_starts's place points to starts=, and history=True gives energy-versus-step."""
    glass = dc.SphericalSpinGlass(24, 3, seed=4)
    starts = glass.random_starts(5, seed=6)
    with pytest.raises(TypeError, match=r"got an array of shape \(5, 24\); to descend from given points pass starts="):
        glass.descend(starts)
    with pytest.raises(TypeError, match="needs n_starts"):
        glass.descend()
    result = glass.descend(starts=starts, steps=40, history=True)
    same = glass.descend(5, starts=starts, steps=40)
    np.testing.assert_array_equal(result.sigma, same.sigma)
    assert same.history is None and result.seed is None
    h = result.history
    assert h.shape[1] == 5 and 2 <= h.shape[0] <= 41
    # Independent reference: the model's own energy of the starts, and of the endpoints.
    np.testing.assert_allclose(h[0], glass.energy_per_spin(glass.project(starts)), rtol=1e-10)
    np.testing.assert_allclose(h[-1], result.energy_per_spin, rtol=1e-12)
    assert (np.diff(h, axis=0) <= 1e-9).all()  # small steps of gradient descent never go up here
