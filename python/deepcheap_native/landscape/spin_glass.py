"""High-dimensional landscapes: the spherical p-spin glass, its Riemannian calculus on the sphere and
batched projected gradient descent (LeCun's "it's hard to build a box in 100 million dimensions").

The couplings come from the package's Philox (`deepcheap_native.random.normal_pairs`), keyed by
(seed, tuple index), so a model is the same on every machine and thread count. Every contraction of
the coupling tensor is a matrix product through numpy's BLAS (see `SphericalSpinGlass` for why no
native kernel).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.arrays import float_dtype, html_table, like_input, short_repr, to_numpy
from ..core.progress import progress_bar
from ..core.random import normal_pairs
from ..core.results import saveable
from ..core.validate import check_choice, check_int, check_real, check_seed, check_threads, resolve_seed
from .theory import ground_state_energy, threshold_energy

__all__ = ["DescentResult", "SphericalSpinGlass", "ground_state_energy", "threshold_energy"]

# Philox purposes (the counter's fourth word) of the landscape streams.
PURPOSE_COUPLINGS = 0x4C530001  # "LS" 1: item = (flat tuple index) // 2
PURPOSE_STARTS = 0x4C530002  # "LS" 2: item = start, step = coordinate // 2

DEFAULT_MAX_BYTES = 2**30
_CHUNK_BYTES = 16 * 2**20  # per-chunk temporaries of the batched contraction (fits L2 + L3 well)


@saveable
@dataclass
class DescentResult:
    """Endpoints of `SphericalSpinGlass.descend`, one entry per start.

    Attributes
    ----------
    energy_per_spin : (n_starts,) float64, H(σ)/N at each endpoint.
    gradient_norm : (n_starts,) float64, ``|grad_R H(σ)| / √N`` (the root-mean-square Riemannian gradient
        component) at each endpoint.
    converged : (n_starts,) bool, gradient_norm ≤ tol.
    steps_taken : (n_starts,) int64, descent steps made before the start converged (or `steps`).
    sigma : (n_starts, N) float64 endpoints, ``|σ|² = N``.
    hessian_index : (n_starts,) int64 number of negative Riemannian-Hessian eigenvalues, or None when
        not requested.
    min_hessian_eigenvalue : (n_starts,) float64 smallest Riemannian-Hessian eigenvalue (with
        hessian_index), or None.
    step_size, tol, steps : the parameters used.
    method : "gd" or "momentum"; momentum : the heavy ball's β (0.0 for "gd").
    """

    energy_per_spin: np.ndarray
    gradient_norm: np.ndarray
    converged: np.ndarray
    steps_taken: np.ndarray
    sigma: np.ndarray
    hessian_index: np.ndarray | None
    min_hessian_eigenvalue: np.ndarray | None
    step_size: float
    tol: float
    steps: int
    method: str = "gd"
    momentum: float = 0.0
    def __repr__(self) -> str:
        return short_repr("DescentResult", [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)])

    def _repr_html_(self) -> str:
        return html_table("DescentResult", [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)])

    def plot(self, ax: Any = None, *, p: int | None = None, bins: Any = 30) -> Any:
        """Draw the endpoints (and the history, when kept) with matplotlib: see
        :func:`deepcheap_native.landscape.plots.plot_descent`; ``p`` marks −E₀ and −E_∞. Returns the axes."""
        from .plots import plot_descent

        return plot_descent(self, ax, p=p, bins=bins)

    seed: int | None = None  #: the random starts' seed (drawn when seed=None; None for given starts)
    #: with ``history=True``: (steps run + 1, n_starts) energy per spin before each step and at the end
    #: (converged starts keep their energy), else None
    history: np.ndarray | None = None


class SphericalSpinGlass:
    """The spherical p-spin glass H(σ) = N^(−(p−1)/2) Σ J_{i₁…i_p} σ_{i₁}⋯σ_{i_p} on ``|σ|² = N``.

    J are i.i.d. standard normals over all N^p ordered p-tuples: J at flat (C-order) tuple index m is
    component m mod 2 of `deepcheap_native.random.normal_pairs(seed, m // 2, 0, PURPOSE_COUPLINGS)`.
    So the model depends only on (N, p, seed), on any machine and thread count.

    The symmetrised tensor S = (1/p!) Σ_permutations J is kept (H(σ) = N^(−(p−1)/2) S(σ,…,σ),
    ∇H = p N^(−(p−1)/2) S(·,σ,…,σ), ∇²H = p(p−1) N^(−(p−1)/2) S(·,·,σ,…,σ)), 8·N^p bytes, and, for
    gradients, its *reduced* form R[m, i] = mult(m)·S[i, m] over the M = C(N+p−2, p−1) multisets m of
    p−1 indices (mult(m) the number of orderings of m): then S(i,σ,…,σ) = Σ_m R[m, i] σ^m, one GEMM
    (points × M) @ (M × N) on the monomials σ^m = ∏_{t∈m} σ_t, with (p−1)! fewer multiply-adds than
    contracting the full tensor (2× for p = 3, 6× for p = 4). R takes 8·N·M bytes (4·N·M more for a
    float32 descent). `memory_bytes(N, p)` states the peak before anything is allocated (building S
    needs J beside it: 16·N^p); a model whose peak exceeds `max_bytes` is refused with ValueError.

    Why BLAS and no native kernel: with the reduced form a descent step for B points is one GEMM of
    B·M·N multiply-adds, which numpy's OpenBLAS runs near the machine's peak, plus O(B·M) to form the
    monomials; a hand kernel could not beat the GEMM, so the batched BLAS form is the path (the peer in
    benchmarks/bench_landscape.py contracts the full tensor with einsum, and with a full-tensor GEMM).

    Parameters
    ----------
    N : int ≥ 2, the dimension.
    p : 2, 3 or 4.
    seed : int in [0, 2**64).
    max_bytes : refuse models whose peak memory (`memory_bytes`) exceeds this (default 1 GiB).
    """

    def __init__(self, N: int, p: int, *, seed: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.N = check_int(N, "N", minimum=2)
        self.p = check_int(p, "p", minimum=2, maximum=4)
        self.seed = resolve_seed(seed)
        max_bytes = check_int(max_bytes, "max_bytes", minimum=0)
        need = self.memory_bytes(self.N, self.p)
        if need > max_bytes:
            raise ValueError(
                f"a p = {self.p} spin glass with N = {self.N} needs {need / 2**20:,.1f} MiB "
                f"(N^p = {self.N ** self.p:,} couplings, 8 bytes each, twice that while symmetrising) "
                f"but max_bytes is {max_bytes / 2**20:,.1f} MiB; lower N or raise max_bytes"
            )
        self._scale = float(self.N) ** (-(self.p - 1) / 2.0)
        self._symmetric = _symmetrise(self.couplings())
        self._symmetric.setflags(write=False)
        self._multisets = _multisets(self.N, self.p - 1)
        self._reduced: dict[Any, np.ndarray] = {}

    # ---- construction ---------------------------------------------------------------------------
    @staticmethod
    def memory_bytes(N: int, p: int) -> int:
        """Peak bytes of a model: max(16·N^p while building S beside J, 8·N^p + 12·N·M once the float64
        and float32 reduced tensors exist), M = C(N+p−2, p−1)."""
        N = check_int(N, "N", minimum=2)
        p = check_int(p, "p", minimum=2, maximum=4)
        M = math.comb(N + p - 2, p - 1)
        return max(16 * N**p, 8 * N**p + 12 * N * M)

    @property
    def nbytes(self) -> int:
        """Bytes the model holds now (the float64 symmetric tensor, plus its float32 copy if made)."""
        return self._symmetric.nbytes + sum(r.nbytes for r in self._reduced.values())

    def couplings(self) -> np.ndarray:
        """The raw couplings J, shape (N,)*p, float64, regenerated from Philox (bit-identical each call)."""
        size = self.N**self.p
        items = np.arange((size + 1) // 2, dtype=np.uint64)
        return normal_pairs(self.seed, items, 0, PURPOSE_COUPLINGS).reshape(-1)[:size].reshape((self.N,) * self.p)

    @property
    def symmetric_couplings(self) -> np.ndarray:
        """S = (1/p!) Σ over index permutations of J, read-only, shape (N,)*p."""
        return self._symmetric

    def __repr__(self) -> str:
        return f"SphericalSpinGlass(N={self.N}, p={self.p}, seed={self.seed})"

    # ---- points ---------------------------------------------------------------------------------
    def random_starts(self, n_starts: int, *, seed: int | None = None, first: int = 0) -> np.ndarray:
        """Uniform random points on the sphere ``|σ|² = N``, shape (n_starts, N), float64.

        Start s (counted from `first`) is the normalised vector of normals
        `normal_pairs(seed, s, i // 2, PURPOSE_STARTS)[i % 2]`, so starts do not depend on how many are
        drawn at once.
        """
        n = check_int(n_starts, "n_starts", minimum=0)
        first = check_int(first, "first", minimum=0)
        seed = resolve_seed(seed)
        items = np.arange(first, first + n, dtype=np.uint64)[:, None]
        steps = np.arange((self.N + 1) // 2, dtype=np.uint32)[None, :]
        x = normal_pairs(seed, items, steps, PURPOSE_STARTS).reshape(n, -1)[:, : self.N]
        return _project(x, self.N)

    def project(self, x: Any) -> Any:
        """x scaled onto the sphere ``|σ|² = N`` (rows of a batch separately)."""
        arr, torch_in, single = self._points(x, "x", on_sphere=False)
        if np.any(np.einsum("bi,bi->b", arr, arr) == 0):
            raise ValueError("x has a zero row, which has no direction to project onto the sphere")
        return self._out(_project(arr, self.N), torch_in, single)

    # ---- calculus on the sphere -----------------------------------------------------------------
    def total_energy(self, sigma: Any) -> Any:
        """H(σ) (total, not per spin) for one point (N,) or a batch (B, N); numpy or torch.

        Defined for any σ; the landscape is its restriction to ``|σ|² = N``.
        """
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=False)
        return self._out(self._energy(x), torch_in, single)

    def energy(self, sigma: Any) -> Any:
        """The same as `total_energy` (as `BoltzmannSampler.energy` is its total energy)."""
        return self.total_energy(sigma)

    def energy_per_spin(self, sigma: Any) -> Any:
        """H(σ)/N, the quantity the theory's −E₀ and −E_∞ refer to."""
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=False)
        return self._out(self._energy(x) / self.N, torch_in, single)

    def gradient(self, sigma: Any) -> Any:
        """Riemannian gradient on the sphere: ∇H − (σ·∇H/N) σ (tangent to the sphere at σ).

        sigma must lie on ``|σ|² = N`` (relative tolerance 1e-6; `project` puts points there).
        """
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=True)
        g = self._euclidean_gradient(x)
        return self._out(_tangent(g, x, self.N), torch_in, single)

    def hessian(self, sigma: Any) -> Any:
        """Riemannian Hessian on the sphere, P (∇²H − (σ·∇H/N) I) P with P = I − σσᵀ/N, shape (B, N, N).

        Restricted to the tangent space it is the second derivative along geodesics:
        d²/dt² H(γ(t)) = vᵀ Hess v for γ(0) = σ, γ'(0) = v ⟂ σ. On σ itself it is 0.
        """
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=True)
        return self._out(self._riemannian_hessian(x), torch_in, single)

    def hessian_eigenvalues(self, sigma: Any) -> Any:
        """The N−1 eigenvalues of the Riemannian Hessian on the tangent space, ascending, (B, N−1)."""
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=True)
        return self._out(self._tangent_eigenvalues(x), torch_in, single)

    def hessian_index(self, sigma: Any) -> Any:
        """Number of negative Riemannian-Hessian eigenvalues (0 at a local minimum), int64."""
        x, torch_in, single = self._points(sigma, "sigma", on_sphere=True)
        return self._out((self._tangent_eigenvalues(x) < 0).sum(axis=1).astype(np.int64), torch_in, single)

    # ---- descent --------------------------------------------------------------------------------
    def default_step_size(self) -> float:
        """0.4/√(p(p−1)).

        At a minimum at the threshold the Riemannian Hessian spectrum is the semicircle
        [0, 4√(p(p−1))] (centre p·E_∞ = 2√(p(p−1)), radius 2√(p(p−1))), so this step gives
        η·λ_max ≈ 1.6 < 2: stable, with room for the finite-N edge, and large on the soft modes.
        (Anywhere on the sphere at energy −e per spin the bulk reaches p·e + 2√(p(p−1)) ≤ p·E₀ +
        2√(p(p−1)), 9.87 for p = 3, so η·λ_max ≤ 1.61 there too; heavy-ball momentum β is stable up
        to η·λ_max < 2(1 + β).)
        """
        return 0.4 / math.sqrt(self.p * (self.p - 1))

    def descend(
        self,
        n_starts: int | None = None,
        *,
        steps: int = 1000,
        seed: int | None = None,
        step_size: float | None = None,
        tol: float = 1e-6,
        method: str = "gd",
        momentum: float = 0.9,
        hessian_index: bool = False,
        dtype: Any = "float64",
        starts: Any = None,
        progress: Any = False,
        threads: int | None = None,
        history: bool = False,
    ) -> DescentResult:
        """Projected gradient descent (or heavy-ball descent) from uniform random starts, all batched.

        ``method="gd"`` (plain gradient descent): each step, for every start not yet converged,
        σ ← √N (σ − η g)/|σ − η g| with g the Riemannian gradient (the gradient step followed by
        projection back onto the sphere).

        ``method="momentum"`` (Polyak heavy ball on the sphere, a local method too): v ← β v − η g,
        σ ← √N (σ + v)/|σ + v|, then v is projected onto the tangent space at the new σ (v starts at
        0; β = `momentum`). On the slow modes a step moves η/(1 − β) instead of η (10× for β = 0.9),
        so starts reach their minimum in several times fewer steps; where they end is measured, not
        assumed, to be the same band (see docs/guide/landscape.md).

        A start has **converged** when |g|/√N ≤ `tol` (root-mean-square tangent gradient component)
        and, with momentum, also |v|/(η√N) ≤ `tol` (it is not moving on); it is then frozen, and
        `steps_taken` records when. After at most `steps` steps the energies and gradient norms of all
        endpoints are evaluated in float64. Starts that never reached `tol` are reported with
        ``converged = False``; they are usually near saddles or marginal minima.

        Parameters
        ----------
        n_starts : number of random starts (start s is `random_starts(n_starts, seed=seed)[s]`); optional
            when ``starts`` is given (it must then match ``len(starts)``).
        steps : maximum number of steps (≥ 0).
        seed : seed of the starts (the couplings have the model's own seed).
        step_size : η; default `default_step_size()` = 0.4/√(p(p−1)) (see there).
        tol : convergence threshold on ``|grad_R H|/√N`` (default 1e-6; use ≥ 1e-5 with float32, whose
            rounding of the gradient is about 1e-6 relative).
        method : "gd" (plain projected gradient descent, the default) or "momentum" (heavy ball).
        momentum : β in [0, 1) for ``method="momentum"`` (default 0.9); checked but unused by "gd".
        hessian_index : also compute the Hessian index and smallest eigenvalue of every endpoint (in
            float64; one N × N symmetric eigenproblem per start).
        dtype : "float64" or "float32" (the descent's arithmetic; float32 halves the time).
        starts : optional (n_starts, N) starting points instead of random ones (projected to the sphere).
        progress : False (default), True (a tqdm bar), a callable ``progress(step, steps)`` or a bar with
            ``update``, reported after each step (the package's one contract); the library never prints.
        history : also record the energy per spin of every start before each step and at the end
            (``result.history``, shape (steps run + 1, n_starts)), for energy-versus-step curves.
        threads : BLAS threads for this call (None: numpy's own pool setting). The steps are BLAS GEMMs,
            so the limit is applied to numpy's BLAS through threadpoolctl for the duration of the call.
            Endpoints agree across thread counts to rounding (BLAS may split sums differently).

        Returns
        -------
        DescentResult
        """
        with _blas_threads(check_threads(threads)):
            if isinstance(n_starts, (np.ndarray, list, tuple)) or hasattr(n_starts, "__array__"):
                raise TypeError(f"n_starts must be an int (the number of random starts), got an array of shape "
                                f"{np.shape(n_starts)}; to descend from given points pass starts=<(n, {self.N}) array>")
            if n_starts is None:
                if starts is None:
                    raise TypeError("descend() needs n_starts (the number of random starts) or starts=<array>")
                if np.ndim(starts) == 0:
                    raise TypeError(f"starts must be an (n, {self.N}) array of starting points, got "
                                    f"{type(starts).__name__} {starts!r}; for n random starts pass n_starts=n")
                n = check_int(len(starts), "len(starts)", minimum=1)
            else:
                n = check_int(n_starts, "n_starts", minimum=1)
            if not isinstance(history, (bool, np.bool_)):
                raise TypeError(f"history must be a bool, got {type(history).__name__}")
            steps = check_int(steps, "steps", minimum=0)
            eta = self.default_step_size() if step_size is None else check_real(step_size, "step_size", positive=True)
            tol = check_real(tol, "tol", minimum=0.0)
            if not isinstance(hessian_index, (bool, np.bool_)):
                raise TypeError(f"hessian_index must be a bool, got {type(hessian_index).__name__}")
            dtype = float_dtype(dtype).name
            method = check_choice(method, "method", ("gd", "momentum"))
            beta = check_real(momentum, "momentum", minimum=0.0)
            if beta >= 1:
                raise ValueError(f"momentum must be in [0, 1) (the heavy ball's β), got {beta}")
            bar = progress_bar(progress, steps, "descent steps")
            if starts is None:
                seed = resolve_seed(seed)
                x0 = self.random_starts(n, seed=seed)
            else:
                seed = None if seed is None else check_seed(seed)
                arr, _, single = self._points(starts, "starts", on_sphere=False)
                if single or arr.shape[0] != n:
                    raise ValueError(f"starts must have shape ({n}, {self.N}), got {np.shape(starts)}")
                x0 = _project(arr, self.N)

            work = np.float32 if dtype == "float32" else np.float64
            reduced = self._reduced_tensor(work)
            x = x0.astype(work)
            heavy = method == "momentum"
            velocity = np.zeros_like(x) if heavy else None
            p, N = self.p, self.N
            steps_taken = np.full(n, steps, dtype=np.int64)
            active = np.arange(n)
            coefficient = work(p * self._scale)
            root_n = math.sqrt(N)
            trace: list[np.ndarray] = []
            current = np.full(n, np.nan)
            for step in range(steps):
                if active.size == 0:
                    break
                xa = x[active]
                g = coefficient * _contract_reduced(reduced, self.p - 1, xa)  # Euclidean gradient
                if history:  # H is homogeneous of degree p: σ·∇H = p H
                    current[active] = np.einsum("bi,bi->b", xa, g, dtype=np.float64) / (p * N)
                    trace.append(current.copy())
                rg = _tangent(g, xa, N)
                norm = np.sqrt(np.einsum("bi,bi->b", rg, rg, dtype=np.float64)) / root_n
                done = norm <= tol
                if heavy:
                    va = velocity[active]
                    done &= np.sqrt(np.einsum("bi,bi->b", va, va, dtype=np.float64)) <= tol * eta * root_n
                if done.any():
                    steps_taken[active[done]] = step
                    keep = ~done
                    active, xa, rg = active[keep], xa[keep], rg[keep]
                    if heavy:
                        va = va[keep]
                if active.size:
                    if heavy:
                        va = work(beta) * va - work(eta) * rg
                        y = _project(xa + va, N).astype(work, copy=False)
                        velocity[active] = _tangent(va, y, N)  # carried to the tangent space at the new point
                        x[active] = y
                    else:
                        y = xa - work(eta) * rg
                        x[active] = _project(y, N).astype(work, copy=False)
                bar.update(1)
            bar.close()

            sigma = _project(x.astype(np.float64), N)
            energy, gradient_norm = self._energy_and_gradient_norm(sigma)
            if history:
                trace.append(energy / N)
            # Met tol during the descent (in the working dtype), or at the end in float64.
            converged = (steps_taken < steps) | (gradient_norm <= tol)
            index = min_eig = None
            if hessian_index:
                eig_min = np.empty(n)
                idx = np.empty(n, dtype=np.int64)
                for lo in range(0, n, 64):
                    ev = self._tangent_eigenvalues(sigma[lo : lo + 64])
                    eig_min[lo : lo + 64] = ev[:, 0]
                    idx[lo : lo + 64] = (ev < 0).sum(axis=1)
                index, min_eig = idx, eig_min
            return DescentResult(
                energy_per_spin=energy / N,
                gradient_norm=gradient_norm,
                converged=converged,
                steps_taken=steps_taken,
                sigma=sigma,
                hessian_index=index,
                min_hessian_eigenvalue=min_eig,
                step_size=float(eta),
                tol=float(tol),
                steps=steps,
                method=method,
                momentum=float(beta) if heavy else 0.0,
                seed=seed if starts is None else None,
                history=np.array(trace) if history else None,
            )

    # ---- internals ----------------------------------------------------------------------------------
    def _reduced_tensor(self, work: Any) -> np.ndarray:
        """R (M × N) in dtype `work`, made on first use: R[m, i] = mult(m)·S[i, m]."""
        if work not in self._reduced:
            if np.float64 not in self._reduced:
                N = self.N
                flat = np.zeros(len(self._multisets[0]), dtype=np.int64)
                for column in self._multisets:
                    flat = flat * N + column
                orderings = _orderings(self._multisets)
                r = self._symmetric.reshape(N, -1)[:, flat].T * orderings[:, None]
                self._reduced[np.float64] = np.ascontiguousarray(r)
            if work is not np.float64:
                self._reduced[work] = self._reduced[np.float64].astype(work)
        return self._reduced[work]

    def _energy(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("bi,bi->b", self._euclidean_gradient(x), x) / self.p  # Euler: σ·∇H = p H

    def _euclidean_gradient(self, x: np.ndarray) -> np.ndarray:
        reduced = self._reduced_tensor(np.float64)
        return self.p * self._scale * _contract_reduced(reduced, self.p - 1, x)

    def _energy_and_gradient_norm(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = self._euclidean_gradient(x)
        energy = np.einsum("bi,bi->b", g, x) / self.p  # Euler: σ·∇H = p H
        rg = _tangent(g, x, self.N)
        return energy, np.sqrt(np.einsum("bi,bi->b", rg, rg)) / math.sqrt(self.N)

    def _riemannian_hessian(self, x: np.ndarray) -> np.ndarray:
        N, p = self.N, self.p
        B = x.shape[0]
        if p == 2:
            euclid = np.broadcast_to(2 * self._scale * self._symmetric, (B, N, N)).copy()
        else:
            euclid = (p * (p - 1) * self._scale * _contract(self._symmetric, x, p - 2)).reshape(B, N, N)
        g = self._euclidean_gradient(x)
        radial = np.einsum("bi,bi->b", g, x) / N  # σ·∇H / N
        idx = np.arange(N)
        euclid[:, idx, idx] -= radial[:, None]
        # P A P with P = I − σσᵀ/N
        ax = np.einsum("bij,bj->bi", euclid, x) / N
        xax = np.einsum("bi,bi->b", ax, x) / N
        out = euclid - ax[:, :, None] * x[:, None, :] - x[:, :, None] * ax[:, None, :]
        out += xax[:, None, None] * x[:, :, None] * x[:, None, :]
        return out

    def _tangent_eigenvalues(self, x: np.ndarray) -> np.ndarray:
        """Eigenvalues of the Hessian on the tangent space: the σ direction (eigenvalue 0 of PAP) is
        lifted above the whole spectrum by adding c·σσᵀ/N with c > ‖PAP‖_F, then dropped."""
        out = np.empty((x.shape[0], self.N - 1))
        for lo in range(0, x.shape[0], 64):
            xs = x[lo : lo + 64]
            h = self._riemannian_hessian(xs)
            lift = np.sqrt(np.einsum("bij,bij->b", h, h)) + 1.0
            h += (lift / self.N)[:, None, None] * xs[:, :, None] * xs[:, None, :]
            out[lo : lo + 64] = np.linalg.eigvalsh(h)[:, :-1]
        return out

    def _points(self, x: Any, name: str, *, on_sphere: bool) -> tuple[np.ndarray, bool, bool]:
        arr, torch_in = to_numpy(x, name)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.N:
            raise ValueError(f"{name} must have shape ({self.N},) or (B, {self.N}), got {arr.shape}")
        single = arr.ndim == 1
        arr = np.ascontiguousarray(arr.reshape(-1, self.N), dtype=np.float64)
        if not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise ValueError(f"{name} must be finite, but entry {tuple(int(i) for i in bad)} is {arr[tuple(bad)]}")
        if on_sphere and arr.size:
            sq = np.einsum("bi,bi->b", arr, arr)
            worst = int(np.argmax(np.abs(sq - self.N)))
            if abs(sq[worst] - self.N) > 1e-6 * self.N:
                raise ValueError(
                    f"{name} must lie on the sphere |σ|² = N = {self.N}, but row {worst} has |σ|² = "
                    f"{sq[worst]:.6g}; use model.project(x)"
                )
        return arr, torch_in, single

    @staticmethod
    def _out(result: np.ndarray, torch_in: bool, single: bool) -> Any:
        """One point in, one result out (a float for a scalar); torch in, torch out."""
        result = np.asarray(result)
        if single:
            result = result[0]
            if result.ndim == 0 and not torch_in:
                return result.item()
        return like_input(result, torch_in)


def _blas_threads(threads: int | None) -> Any:
    """A limit on numpy's BLAS pool for one call (threadpoolctl), or nothing for None."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as exc:  # a dependency of the package; only a broken install lacks it
        raise ImportError("threads= on the landscape limits numpy's BLAS through threadpoolctl, which is not "
                          "installed: pip install threadpoolctl") from exc
    return threadpool_limits(limits=threads, user_api="blas")


def _project(x: np.ndarray, N: int) -> np.ndarray:
    norm = np.sqrt(np.einsum("bi,bi->b", x, x))
    return x * (math.sqrt(N) / norm)[:, None]


def _tangent(g: np.ndarray, x: np.ndarray, N: int) -> np.ndarray:
    radial = np.einsum("bi,bi->b", g, x) / N
    return g - radial[:, None] * x


def _symmetrise(J: np.ndarray) -> np.ndarray:
    """(1/p!) Σ over the p! axis permutations, accumulated in place (one extra tensor of memory)."""
    import itertools

    p = J.ndim
    perms = list(itertools.permutations(range(p)))
    S = np.zeros_like(J)
    for perm in perms:
        S += J.transpose(perm)
    S /= len(perms)
    return S


def _multisets(N: int, k: int) -> tuple[np.ndarray, ...]:
    """The multisets i₁ ≤ … ≤ i_k of k indices in [0, N), as k int64 columns (lexicographic)."""
    if k == 1:
        return (np.arange(N, dtype=np.int64),)
    grids = np.meshgrid(*[np.arange(N, dtype=np.int64)] * k, indexing="ij")
    keep = np.ones(grids[0].shape, dtype=bool)
    for a, b in zip(grids, grids[1:]):
        keep &= a <= b
    return tuple(g[keep] for g in grids)


def _orderings(columns: tuple[np.ndarray, ...]) -> np.ndarray:
    """Number of distinct orderings of each multiset: k! / ∏ (multiplicity of each value)!."""
    k = len(columns)
    stacked = np.stack(columns, axis=1)
    count = np.full(stacked.shape[0], math.factorial(k), dtype=np.float64)
    run = np.ones(stacked.shape[0], dtype=np.int64)
    for t in range(1, k):
        same = stacked[:, t] == stacked[:, t - 1]
        run = np.where(same, run + 1, 1)
        count /= np.where(same, run, 1)  # dividing by 2, 3, … in turn gives the factorial of each run
    return count


@functools.lru_cache(maxsize=32)
def _suffix_starts(N: int, d: int) -> np.ndarray:
    """Row where the multisets of degree d with first index ≥ j begin, j = 0 … N (lexicographic
    order puts them last): C(N+d−1, d) − C(N−j+d−1, d). Cached (every chunk of every descent step
    asks for the same rows); read-only."""
    total = math.comb(N + d - 1, d)
    starts = np.array([total - math.comb(N - j + d - 1, d) for j in range(N + 1)], dtype=np.int64)
    starts.flags.writeable = False
    return starts


def _monomials_t(xt: np.ndarray, degree: int) -> np.ndarray:
    """x^m for every multiset m of `degree` indices, lexicographic, transposed: (M, b) from xt (N, b).

    Built degree by degree: the multisets of degree d starting with j are j followed by the multisets
    of degree d−1 over [j, N), a contiguous tail of the previous level, so each level is N contiguous
    row-block products (x_j times a tail): no index arrays, no gathers, about 4× less time than
    gathering the columns with np.take.
    """
    N, b = xt.shape
    prev = xt
    for d in range(2, degree + 1):
        starts = _suffix_starts(N, d - 1)
        out = np.empty((math.comb(N + d - 1, d), b), dtype=xt.dtype)
        lo = 0
        for j in range(N):
            tail = prev[starts[j] :]
            np.multiply(xt[j], tail, out=out[lo : lo + tail.shape[0]])
            lo += tail.shape[0]
        prev = out
    return prev


def _contract_reduced(reduced: np.ndarray, degree: int, x: np.ndarray) -> np.ndarray:
    """S(·, x, …, x) for each row of x: monomials x^m (M × chunk, see `_monomials_t`), then one GEMM
    with R (M × N).

    Batches are cut into chunks whose monomial block stays near 16 MiB.
    """
    x = x.astype(reduced.dtype, copy=False)
    B, M = x.shape[0], reduced.shape[0]
    if degree == 1:
        return x @ reduced
    out = np.empty((B, reduced.shape[1]), dtype=reduced.dtype)
    chunk = max(1, min(B, _CHUNK_BYTES // max(1, M * reduced.itemsize)))
    for lo in range(0, B, chunk):
        xt = np.ascontiguousarray(x[lo : lo + chunk].T)
        monomials = _monomials_t(xt, degree)
        np.matmul(monomials.T, reduced, out=out[lo : lo + chunk])
    return out


def _contract(tensor: np.ndarray, x: np.ndarray, times: int) -> np.ndarray:
    """S contracted with each row of x on `times` of its p indices: (B, N^(p−times)), flattened.

    The first contraction is a GEMM (chunk × N) @ (N × N^(p−1)) (S is symmetric, so contracting its
    first index equals contracting any); the following ones are batched matrix-vector products.
    Batches are cut into chunks whose (chunk, N^(p−1)) temporary stays near 16 MiB.
    """
    N = x.shape[1]
    p = tensor.ndim
    B = x.shape[0]
    if times == 0:
        return np.broadcast_to(tensor.reshape(1, -1), (B, N**p)).copy()
    x = x.astype(tensor.dtype, copy=False)
    flat = tensor.reshape(N, -1)
    out = np.empty((B, N ** (p - times)), dtype=tensor.dtype)
    chunk = max(1, min(B, _CHUNK_BYTES // max(1, flat.shape[1] * tensor.itemsize)))
    for lo in range(0, B, chunk):
        xs = x[lo : lo + chunk]
        t = xs @ flat  # (b, N^(p−1))
        for _ in range(times - 1):
            t = np.matmul(t.reshape(xs.shape[0], -1, N), xs[:, :, None])[:, :, 0]
        out[lo : lo + chunk] = t
    return out
