"""Locality and symmetry (issue 23): exact lattice Hamiltonians, −H/T as conv and dense product-gate
networks, their torch export, and a small phase-classification run. References are written here: energies
by explicit loops over sites, Boltzmann probabilities by enumerating all 2^(L²) states."""

import math

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native.locality import (
    LatticeHamiltonian,
    hamiltonian_network,
    network_neurons,
    network_parameters,
)

ISING_H = [(-1.0, [(0, 0), (0, 1)]), (-1.0, [(0, 0), (1, 0)]), (-0.3, [(0, 0)])]
# A richer model: next-nearest neighbours, a 3-spin term, a plaquette (4 spins) and a field.
RICH = [(-1.0, [(0, 0), (0, 1)]), (0.4, [(0, 0), (1, 1)]), (0.25, [(0, 0), (0, 1), (1, 0)]),
        (-0.5, [(0, 0), (0, 1), (1, 0), (1, 1)]), (0.2, [(0, 0)]), (-0.3, [(0, 0), (-1, 0)])]


def loop_energy(L, terms, s):
    """H of one lattice by explicit loops over sites and offsets (independent of the library's rolls)."""
    total = 0.0
    for c, offs in terms:
        for i in range(L):
            for j in range(L):
                p = 1
                for dr, dc_ in offs:
                    p *= int(s[(i + dr) % L, (j + dc_) % L])
                total += c * p
    return total


def all_states(L):
    n = L * L
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return (1 - 2 * bits).reshape(-1, L, L).astype(np.int8)


def random_spins(shape, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


# ---- LatticeHamiltonian -----------------------------------------------------------------------------


@pytest.mark.parametrize("L,terms", [(4, ISING_H), (5, RICH), (3, RICH)])
def test_energy_equals_loops(L, terms):
    H = LatticeHamiltonian(L, terms)
    s = random_spins((6, L, L), seed=L)
    expected = [loop_energy(L, terms, x) for x in s]
    np.testing.assert_allclose(H.energy(s), expected, rtol=0, atol=1e-12)
    assert H.energy(s[0]).shape == ()
    assert H.energy(s.reshape(2, 3, L, L)).shape == (2, 3)


def test_energy_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    H = LatticeHamiltonian(4, ISING_H)
    s = random_spins((3, 4, 4))
    out = H.energy(torch.from_numpy(s).float())
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), H.energy(s))


def test_from_ising_matches_sampler_energy():
    model = dc.IsingModel(8, J=0.7, h=0.0)
    H = LatticeHamiltonian.from_ising(model)
    assert len(H.terms) == 2
    sampler = model.sampler(2.5, replicas=4, seed=3)
    sampler.sweep(3)
    spins = np.asarray(sampler.spins)
    np.testing.assert_allclose(H.energy(spins) / 64, np.asarray(sampler.energy_per_spin()), atol=1e-12)
    with_field = LatticeHamiltonian.from_ising(dc.IsingModel(4, J=1.0, h=0.3))
    assert [(c, list(o)) for c, o in with_field.terms] == ISING_H


def test_sampler_is_boltzmann_of_the_hamiltonian():
    """The heat-bath sampler over the expanded terms: its energies are H of its spins, and its long-run
    mean energy on 3x3 matches the exact Boltzmann mean by enumeration."""
    L, T = 3, 2.0
    H = LatticeHamiltonian(L, RICH)
    sampler = H.sampler(T, replicas=512, seed=11)
    assert isinstance(sampler, dc.BoltzmannSampler)
    series = sampler.run(200, measure_every=2, return_spins=True)
    spins = series.spins[-1].reshape(-1, L, L)
    np.testing.assert_allclose(series.energy[-1], H.energy(spins), atol=1e-9)
    states = all_states(L)
    e = H.energy(states)
    w = np.exp(-(e - e.min()) / T)
    exact = float((w * e).sum() / w.sum())
    sampled = series.energy[50:]  # after burn-in: 50 measurements of 512 replicas
    # 512 independent replicas per measurement; consecutive measurements are correlated, so take the
    # standard error of the per-measurement means and a generous 6 sigma.
    means = sampled.mean(axis=1)
    stderr = sampled.std() / math.sqrt(512)
    assert abs(means.mean() - exact) < 6 * stderr + 1e-9, (means.mean(), exact, stderr)


def test_expanded_terms_count_and_order_limit():
    H = LatticeHamiltonian(4, RICH)
    assert len(H.expanded_terms()) == 16 * len(RICH)
    five = LatticeHamiltonian(6, [(1.0, [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)])])
    with pytest.raises(ValueError, match="order <= 4"):
        five.sampler(1.0)


def test_bad_hamiltonians():
    with pytest.raises(ValueError, match="translation-invariant"):
        LatticeHamiltonian(4, [(np.ones(16), [(0, 0), (0, 1)])])
    with pytest.raises(ValueError, match="wider than the lattice"):
        LatticeHamiltonian(2, [(1.0, [(0, 0), (0, 2)])])
    with pytest.raises(ValueError, match="larger than the lattice"):
        LatticeHamiltonian(2, [(1.0, [(0, 3)])])
    with pytest.raises(ValueError, match="repeats"):
        LatticeHamiltonian(4, [(1.0, [(0, 0), (0, 0)])])
    with pytest.raises(ValueError, match="no offsets"):
        LatticeHamiltonian(4, [(1.0, [])])
    with pytest.raises(TypeError, match="integer"):
        LatticeHamiltonian(4, [(1.0, [(0, 0.5)])])
    with pytest.raises(TypeError, match="real number"):
        LatticeHamiltonian(4, [("1", [(0, 0)])])
    with pytest.raises(TypeError, match="L must be an integer"):
        LatticeHamiltonian(4.0, ISING_H)
    with pytest.raises(TypeError, match="IsingModel"):
        LatticeHamiltonian.from_ising("ising")
    H = LatticeHamiltonian(4, ISING_H)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, 4\)"):
        H.energy(np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        H.energy(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="dtype"):
        H.energy(np.array([["a"] * 4] * 4))


# ---- the network ----------------------------------------------------------------------------------


def gate_widths(d, D):
    """Layer widths of one degree-d monomial's gate tree padded to depth D, by the definition."""
    widths, count = [], d
    for _ in range(D):
        widths.append(2 if count == 1 else 4 * (count // 2) + 2 * (count % 2))
        count = (count + 1) // 2
    return widths


@pytest.mark.parametrize("L,terms", [(4, ISING_H), (6, RICH), (8, RICH), (5, [(0.5, [(0, 0)]), (1.0, [(0, 2)])])])
def test_parameter_and_neuron_counts(L, terms):
    H = LatticeHamiltonian(L, terms)
    degrees = [len(o) for _, o in terms]
    D = max(math.ceil(math.log2(d)) for d in degrees)
    Rr = max(abs(o[0]) for _, offs in terms for o in offs)
    Rc = max(abs(o[1]) for _, offs in terms for o in offs)
    P = (2 * Rr + 1) * (2 * Rc + 1)
    widths = [sum(col) for col in zip(*[gate_widths(d, D) for d in degrees])] if D else []
    dims = [P] + widths
    per_site = P if not widths else sum(dims[k] * dims[k - 1] + dims[k] for k in range(1, len(dims))) + dims[-1]
    neurons = L * L * sum(widths)
    for form, expected in (("conv", per_site), ("dense", L * L * per_site)):
        net = hamiltonian_network(H, 1.5, form=form)
        assert net.n_parameters == expected == network_parameters(H, form)
        assert net.n_neurons == neurons == network_neurons(H)
    # conv: independent of L; dense: proportional to L²
    assert network_parameters(LatticeHamiltonian(2 * L, terms)) == per_site
    assert network_parameters(LatticeHamiltonian(2 * L, terms), "dense") == 4 * L * L * per_site


def test_ising_counts_closed_form():
    """Ising, h = 0: two 4-neuron gates per site on a 3x3 kernel: 8·9 + 8 + 8 = 88 parameters (conv),
    88 L² (dense), 8 L² neurons."""
    for L in (4, 16, 32):
        H = LatticeHamiltonian.from_ising(dc.IsingModel(L))
        assert network_parameters(H) == 88
        assert network_parameters(H, "dense") == 88 * L * L
        assert network_neurons(H) == 8 * L * L


@pytest.mark.parametrize("form", ["conv", "dense"])
@pytest.mark.parametrize("L,terms", [(4, ISING_H), (5, RICH)])
def test_network_within_gate_law(form, L, terms):
    """|net + H/T| ≤ error_bound, and for softplus the residual is the predicted leading term
    (λ²/6) Σ_t (d_t − 1) H_t / T to within O(λ⁴) (checked at λ = 0.01 and 0.02: the ratio is 1 ± 1e-3)."""
    H = LatticeHamiltonian(L, terms)
    T = 1.7
    s = random_spins((20, L, L), seed=5)
    exact = -H.energy(s) / T
    degrees = np.array([len(o) for _, o in terms])
    for lam in (0.01, 0.02):
        net = hamiltonian_network(H, T, form=form, scale=lam)
        out = net(s)
        assert out.dtype == np.float64 and out.shape == (20,)
        residual = out - exact
        assert np.all(np.abs(residual) <= net.error_bound * (1 + 1e-2) + 1e-9)
        leading = (lam**2 / 6) * (H.term_energies(s) * (degrees - 1)).sum(axis=-1) / T
        np.testing.assert_allclose(residual, leading, rtol=1e-3, atol=1e-10)


def test_error_bound_other_activation():
    """tanh (a = atanh(1/√3)) has inexact carries; the bound still holds on every state of 3x3."""
    H = LatticeHamiltonian(3, RICH)
    net = hamiltonian_network(H, 1.0, activation="tanh", scale=0.01)
    s = all_states(3)[::7]
    assert np.all(np.abs(net(s) + H.energy(s)) <= net.error_bound * 1.05)
    assert net.error_bound < 0.1


@pytest.mark.parametrize("L,terms,T", [(3, RICH, 1.3), (4, ISING_H, 2.269)])
def test_softmax_is_boltzmann_by_enumeration(L, terms, T):
    """softmax over all 2^(L²) states of the network's output equals exp(−H/T)/Z (enumerated here), with
    |log p_net − log p| ≤ 2·error_bound (the normaliser moves by at most the bound too)."""
    H = LatticeHamiltonian(L, terms)
    states = all_states(L)
    e = np.array([loop_energy(L, terms, x) for x in states]) if L == 3 else H.energy(states)
    if L == 4:  # cross-check the vectorised energies on a subset against the loops
        idx = np.arange(0, len(states), 997)
        np.testing.assert_allclose(e[idx], [loop_energy(L, terms, states[i]) for i in idx], atol=1e-12)
    logw = -e / T
    log_p = logw - np.logaddexp.reduce(logw)
    net = hamiltonian_network(H, T, scale=0.01)
    out = net(states)
    log_q = out - np.logaddexp.reduce(out)
    assert np.max(np.abs(log_q - log_p)) <= 2 * net.error_bound
    np.testing.assert_allclose(np.exp(log_q), np.exp(log_p), rtol=2 * net.error_bound * 1.01, atol=0)


@pytest.mark.parametrize("form", ["conv", "dense"])
@pytest.mark.parametrize("terms", [ISING_H, RICH, [(0.5, [(0, 0)]), (-1.0, [(1, -1)])]])
def test_torch_export_equals_call(form, terms):
    torch = pytest.importorskip("torch")
    H = LatticeHamiltonian(5, terms)
    net = hamiltonian_network(H, 2.0, form=form)
    module = net.to_torch()
    assert isinstance(module, torch.nn.Module)
    assert sum(p.numel() for p in module.parameters()) == net.n_parameters
    s = random_spins((7, 5, 5), seed=2)
    with torch.no_grad():
        got = module(torch.from_numpy(s)).numpy()
    # the same weights, rounded in another order: ε/λ² ≈ 2e-12 per gate and site
    np.testing.assert_allclose(got, net(s), rtol=0, atol=25 * len(terms) * 1e-11)
    if form == "conv":
        conv = module.convs[0]
        assert conv.padding_mode == "circular" and conv.kernel_size == net.kernel


def test_conv_module_is_translation_invariant_and_float32():
    torch = pytest.importorskip("torch")
    H = LatticeHamiltonian(6, RICH)
    net = hamiltonian_network(H, 1.0, scale=0.05, dtype="float32")
    s = random_spins((4, 6, 6), seed=9)
    out = net(s)
    assert out.dtype == np.float32
    # float32 rounding: ε/λ² ≈ 5e-5 per gate and site, plus the λ² law
    np.testing.assert_allclose(out, -H.energy(s), atol=net.error_bound + 36 * len(RICH) * 1e-4)
    shifted = np.roll(s, (2, 3), axis=(1, 2))
    np.testing.assert_allclose(net(shifted), out, rtol=1e-5)
    t = net(torch.from_numpy(s))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32


def test_network_bad_input():
    H = LatticeHamiltonian(4, ISING_H)
    with pytest.raises(TypeError, match="LatticeHamiltonian"):
        hamiltonian_network(dc.IsingModel(4), 1.0)
    with pytest.raises(ValueError, match="form"):
        hamiltonian_network(H, 1.0, form="sparse")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        hamiltonian_network(H, 0.0)
    with pytest.raises(TypeError, match="temperature must be a real number"):
        hamiltonian_network(H, "hot")
    with pytest.raises(ValueError, match="dtype"):
        hamiltonian_network(H, 1.0, dtype="int32")
    with pytest.raises(ValueError, match="cannot multiply"):
        hamiltonian_network(H, 1.0, activation="relu")
    with pytest.raises(ValueError, match="scale"):
        hamiltonian_network(H, 1.0, scale=-1.0)
    net = hamiltonian_network(H, 1.0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, 4\)"):
        net(np.ones((2, 5, 5)))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        net(np.full((1, 4, 4), 0.5))


# ---- the learned experiment (small, fixed seeds) -------------------------------------------------


def test_phase_classifier_beats_chance():
    """A conv classifier trained for 8 epochs on 16x16 Wolff lattices at 10 temperatures (fixed seeds)
    classifies held-out lattices with |T − T_c| ≥ 0.3 at least 30 points above chance (chance: always
    guessing the larger class, T > T_c, 5 of those 8 temperatures = 62.5 %; measured 99.4 %), its crossing
    lies within 0.2 of T_c, and it is translation-invariant (up to float32 rounding) while taking a
    lattice of another size."""
    torch = pytest.importorskip("torch")
    from deepcheap_native.locality import phases

    temps = np.linspace(1.5, 3.5, 10)
    train = phases.sample_phases(16, temps, 40, seed=1, thermalize=20)
    test = phases.sample_phases(16, temps, 20, seed=2, thermalize=20)
    assert train.spins.shape == (400, 16, 16) and train.spins.dtype == np.int8
    again = phases.sample_phases(16, temps, 40, seed=1, thermalize=20, threads=1)
    np.testing.assert_array_equal(again.spins, train.spins)  # same seed, same lattices, any thread count
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = phases.conv_classifier(4)
    assert phases.n_parameters(model) == 4 * (9 + 2) + 1
    phases.train_classifier(model, train, epochs=8, batch_size=64, lr=3e-2, seed=0)
    p = phases.predict(model, test.spins)
    away = np.abs(test.temperature - phases.CRITICAL_TEMPERATURE) >= phases.AWAY_FROM_TC
    chance = max(test.label[away].mean(), 1 - test.label[away].mean())
    accuracy = ((p[away] > 0.5) == (test.label[away] == 1)).mean()
    assert chance == 0.625 and accuracy >= chance + 0.3, accuracy
    t_star = phases.crossing_temperature(temps, p.reshape(10, -1).mean(axis=1))
    assert abs(t_star - phases.CRITICAL_TEMPERATURE) < 0.2, t_star
    shifted = np.roll(test.spins, (3, 5), axis=(1, 2))
    np.testing.assert_allclose(phases.predict(model, shifted), p, atol=1e-6)
    assert phases.predict(model, np.ones((2, 8, 8), np.int8)).shape == (2,)


def test_phase_helpers():
    from deepcheap_native.locality import phases

    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert phases.crossing_temperature(t, [0.9, 0.7, 0.3, 0.1]) == pytest.approx(2.5)
    assert math.isnan(phases.crossing_temperature(t, [0.9, 0.8, 0.7, 0.6]))
    Ls = np.array([8.0, 16.0, 32.0, 64.0])
    fit = phases.finite_size_fit(Ls, 2.269 + 1.5 / Ls, nu=1.0)
    assert fit["Tc"] == pytest.approx(2.269, abs=1e-9) and fit["a"] == pytest.approx(1.5)
    free = phases.finite_size_fit(Ls, 2.269 + 1.5 * Ls ** (-1 / 1.2), nu=None)
    assert free["Tc"] == pytest.approx(2.269, abs=1e-4) and free["nu"] == pytest.approx(1.2, rel=1e-3)
    assert math.isnan(phases.finite_size_fit(Ls[:3], [2.3, 2.28, 2.27], nu=None)["Tc"])
    assert phases.bootstrap_error([2.0, 2.0, 2.0]) == 0.0
    assert math.isnan(phases.bootstrap_error([2.0]))
    with pytest.raises(ValueError, match="multiple of snapshots"):
        phases.sample_phases(8, [2.0], 10, snapshots=4)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        phases.sample_phases(8, [0.0], 4)


def test_threads_do_not_change_the_network_output():
    H = LatticeHamiltonian(6, RICH)
    net = hamiltonian_network(H, 1.2)
    s = random_spins((50, 6, 6), seed=4)
    np.testing.assert_array_equal(net(s, threads=1), net(s, threads=2))
    with pytest.raises(ValueError, match="threads"):
        net(s, threads=0)


# ---- the fused native kernel (csrc/cpu/kernels/locality.cpp) against the unfused numpy-gather path ----


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("L,terms", [(8, ISING_H), (8, RICH), (5, RICH), (3, ISING_H), (2, ISING_H)])
def test_fused_kernel_equals_numpy_gather(dtype, L, terms):
    """Bit-identical: the same gate math (product/network.hpp) on the same gathered spins, coef · tree
    and the add as two roundings, and the sum over sites sequential in site order on both sides (the
    reference sums with np.cumsum); L² = 64 has the product kernel's 64-row blocks, L = 5, 3, 2 do not."""
    H = LatticeHamiltonian(L, terms)
    net = hamiltonian_network(H, 1.3, dtype=dtype, scale=0.01 if dtype == "float64" else 0.05)
    s = random_spins((37, L, L), seed=L)
    got = net(s)
    assert got.dtype == np.dtype(dtype) and got.shape == (37,)
    np.testing.assert_array_equal(got, net._reference(s))
    # and an independent reference: -H/T by explicit loops, within the gate law's bound
    exact = np.array([-loop_energy(L, terms, x) / 1.3 for x in s[:5]])
    slack = 1e-9 if dtype == "float64" else 1e-3 * L * L
    assert np.max(np.abs(got[:5] - exact)) <= net.error_bound * 1.01 + slack


@pytest.mark.parametrize("activation", ["exp", "tanh", "logistic", "gelu"])
def test_fused_kernel_other_activations(activation):
    H = LatticeHamiltonian(4, RICH)
    net = hamiltonian_network(H, 0.9, activation=activation)
    s = random_spins((20, 4, 4), seed=9)
    np.testing.assert_array_equal(net(s), net._reference(s))


def test_fused_kernel_thread_counts_and_chunks_identical():
    H = LatticeHamiltonian(8, RICH)
    for dtype in ("float64", "float32"):
        net = hamiltonian_network(H, 1.1, dtype=dtype, scale=0.01 if dtype == "float64" else 0.05)
        s = random_spins((300, 8, 8), seed=2)
        base = net(s, threads=1)
        for k in (2, 3, 7):
            np.testing.assert_array_equal(net(s, threads=k), base)
        old = dc._core._set_interrupt_chunk(7)  # chunks of 7 lattices, a poll between them
        try:
            polls = dc._core._interrupt_polls()
            np.testing.assert_array_equal(net(s, threads=2), base)
            assert dc._core._interrupt_polls() > polls
        finally:
            dc._core._set_interrupt_chunk(old)


def test_fused_kernel_inputs():
    H = LatticeHamiltonian(4, ISING_H)
    net = hamiltonian_network(H, 1.0)
    s = random_spins((6, 4, 4), seed=1)
    ref = net._reference(s)
    for spins in (s.astype(np.float32), s.astype(np.int64), s[:, ::-1, :][:, ::-1, :]):  # dtypes, a view
        np.testing.assert_array_equal(net(spins), ref)
    np.testing.assert_array_equal(net(s.reshape(2, 3, 4, 4)), ref.reshape(2, 3))  # batch shape kept
    assert net(s[:0]).shape == (0,)
    np.testing.assert_array_equal(net(s, device="cpu"), ref)
    if not dc.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda:0 requested but"):
            net(s, device="cuda")
    with pytest.raises(TypeError, match="device"):
        net(s, device=3)
    # the binding checks on its own (a caller that skips the Python layer gets errors, not garbage)
    plan = dict(net._native)
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        dc._core.locality_energy(np.full((2, 4, 4), 2, dtype=np.int8), **plan)
    with pytest.raises(ValueError, match="expected int8"):
        dc._core.locality_energy(s.astype(np.float64), **plan)
    with pytest.raises(ValueError, match=r"expected \(batch, L, L\)"):
        dc._core.locality_energy(np.ones((2, 4, 5), dtype=np.int8), **plan)
    with pytest.raises(ValueError, match="start"):
        dc._core.locality_energy(s, **{**plan, "start": plan["start"][::-1].copy()})
    with pytest.raises(ValueError, match="activation"):
        dc._core.locality_energy(s, **{**plan, "activation": 9})
    with pytest.raises(ValueError, match=r"out has shape"):
        dc._core.locality_energy(s, **plan, out=np.zeros(5))


def test_import_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, deepcheap_native, deepcheap_native.locality.phases; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
