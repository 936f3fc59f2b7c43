"""Settable and fixed parameters of the stateful samplers (issue: "setting a sampler's temperature does
nothing"). The temperature is a real setter: after ``s.temperature = T`` the next sweeps are exactly
those of a sampler built at T from the same spins and counters (checked bit for bit against
``from_state`` and against fresh samplers at each step of an annealing schedule); every other parameter
is fixed and assigning it is an AttributeError."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import deepcheap_native as dc

SAMPLERS = [
    pytest.param(dict(algorithm="metropolis"), id="metropolis-multispin"),
    pytest.param(dict(algorithm="metropolis", kernel="int8"), id="metropolis-int8"),
    pytest.param(dict(algorithm="heatbath"), id="heatbath"),
    pytest.param(dict(algorithm="wolff"), id="wolff"),
    pytest.param(dict(algorithm="swendsen-wang"), id="swendsen-wang"),
]


def _continued_at(sampler, temperature):
    """A sampler rebuilt from ``sampler``'s state with another temperature: the independent reference."""
    state = sampler.state()
    state["temperature"] = temperature
    if "clusters_per_sweep" in state and state["algorithm"] == "wolff":
        state["clusters_per_sweep"] = dc.ising.cluster.wolff_clusters_per_sweep(state["L"], temperature)
    return type(sampler).from_state(state)


@pytest.mark.parametrize("kw", SAMPLERS)
def test_assigned_temperature_changes_the_following_sweeps(kw):
    s = dc.IsingModel(16).sampler(1.5, replicas=64, init="up", seed=3, **kw)
    s.sweep(5)
    reference = _continued_at(s, 5.0)
    s.temperature = 5.0
    assert s.temperature == 5.0 and s.state()["temperature"] == 5.0
    s.sweep(40)
    reference.sweep(40)
    np.testing.assert_array_equal(s.spins, reference.spins)
    assert s.sweeps_done == reference.sweeps_done == 45
    # The physics moved with it: at T = 5 the lattice disorders (before the fix it stayed ordered,
    # <|m|> = 0.986; Onsager's |m| at T = 1.5 is 0.986, the T = 5 value is ~0.1 at L = 16).
    assert np.abs(s.magnetization()).mean() < 0.3


@pytest.mark.parametrize("kw", SAMPLERS)
def test_annealing_schedule_equals_fresh_samplers_at_each_temperature(kw):
    schedule = [4.0, 3.0, 2.5, 2.0, 1.5]
    annealed = dc.IsingModel(8).sampler(schedule[0], replicas=64, seed=11, **kw)
    reference = None
    for T in schedule:
        annealed.temperature = T
        if reference is None:
            reference = dc.IsingModel(8).sampler(T, replicas=64, seed=11, **kw)
        else:  # a fresh sampler at T, started from the reference's own spins and counters
            reference = _continued_at(reference, T)
        annealed.sweep(7)
        reference.sweep(7)
        np.testing.assert_array_equal(annealed.spins, reference.spins)
    # A checkpoint taken mid-schedule continues bit for bit (pickle goes through state()).
    resumed = pickle.loads(pickle.dumps(annealed))
    assert resumed.temperature == 1.5
    resumed.sweep(3)
    annealed.sweep(3)
    np.testing.assert_array_equal(resumed.spins, annealed.spins)


def test_wolff_default_cluster_count_follows_the_temperature_and_an_explicit_one_stays():
    model = dc.IsingModel(32)
    s = model.sampler(1.5, algorithm="wolff", seed=1)
    s.temperature = 3.0
    assert s.clusters_per_sweep == dc.ising.cluster.wolff_clusters_per_sweep(32, 3.0)
    assert s.bond_probability == pytest.approx(1 - np.exp(-2 / 3.0), abs=2**-31)
    fixed = model.sampler(1.5, algorithm="wolff", seed=1, clusters_per_sweep=4)
    fixed.temperature = 3.0
    assert fixed.clusters_per_sweep == 4


def test_boltzmann_temperature_setter():
    terms = {(0, 1): -1.0, (1, 2): -1.0, (2,): 0.3}
    s = dc.BoltzmannSampler(3, terms, 2.0, replicas=5, seed=2)
    s.sweep(4)
    state = s.state()
    state["temperature"] = 0.5
    reference = dc.BoltzmannSampler.from_state(state)
    s.temperature = 0.5
    s.sweep(9)
    reference.sweep(9)
    np.testing.assert_array_equal(s.spins, reference.spins)


def test_torch_spins_stay_torch_after_a_temperature_change():
    torch = pytest.importorskip("torch")
    init = torch.ones((64, 8, 8), dtype=torch.int8)
    s = dc.IsingModel(8).sampler(2.0, init=init, seed=1)
    s.temperature = 3.0
    assert isinstance(s.spins, torch.Tensor)


@pytest.mark.parametrize("bad, error", [("hot", TypeError), (-1.0, ValueError), (float("nan"), ValueError),
                                        (0.0, ValueError)])
def test_bad_temperature_is_refused_and_changes_nothing(bad, error):
    s = dc.IsingModel(8).sampler(2.0, seed=1)
    s.sweep(2)
    before = s.spins
    with pytest.raises(error, match="temperature"):
        s.temperature = bad
    assert s.temperature == 2.0
    np.testing.assert_array_equal(s.spins, before)


@pytest.mark.parametrize("make, names", [
    (lambda: dc.IsingModel(8), ("L", "J", "h")),
    (lambda: dc.IsingModel(8).sampler(2.0), ("model", "replicas", "seed", "algorithm", "kernel",
                                             "first_replica")),
    (lambda: dc.IsingModel(8).sampler(2.0, algorithm="wolff"), ("model", "replicas", "seed", "algorithm",
                                                                "clusters_per_sweep", "first_replica")),
    (lambda: dc.BoltzmannSampler(3, {(0, 1): -1.0}, 2.0, replicas=2), ("n_spins", "term_indices",
                                                                        "coefficients", "replicas", "seed")),
])
def test_fixed_parameters_refuse_assignment_with_a_clear_error(make, names):
    obj = make()
    for name in names:
        before = getattr(obj, name)
        with pytest.raises(AttributeError, match=f"{name} is fixed"):
            setattr(obj, name, before)
        assert getattr(obj, name) is before


def test_boltzmann_term_arrays_are_read_only():
    s = dc.BoltzmannSampler(3, {(0, 1): -1.0}, 2.0, replicas=2)
    with pytest.raises(ValueError, match="read-only"):
        s.coefficients[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        s.term_indices[0, 0] = 2


@pytest.mark.parametrize("name, canonical", [("Wolff", "wolff"), ("SW", "swendsen-wang"), ("sw", "swendsen-wang"),
                                             ("Swendsen-Wang", "swendsen-wang"), ("METROPOLIS", "metropolis"),
                                             ("heat-bath", "heatbath"), ("HeatBath", "heatbath")])
def test_algorithm_names_are_case_insensitive_with_aliases(name, canonical):
    s = dc.IsingModel(8).sampler(2.0, algorithm=name, replicas=64, seed=4)
    assert s.algorithm == canonical
    reference = dc.IsingModel(8).sampler(2.0, algorithm=canonical, replicas=64, seed=4)
    np.testing.assert_array_equal(s.sweep(3).spins, reference.sweep(3).spins)


def test_an_unknown_algorithm_lists_every_valid_name():
    with pytest.raises(ValueError, match="'metropolis', 'heatbath', 'wolff', 'swendsen-wang'.*got 'glauber'"):
        dc.IsingModel(8).sampler(2.0, algorithm="glauber")
    with pytest.raises(ValueError, match="'wolff', 'swendsen-wang' are made by IsingModel.sampler"):
        dc.IsingSampler(dc.IsingModel(8), 2.0, algorithm="wolff")
    with pytest.raises(TypeError, match="a str"):
        dc.IsingModel(8).sampler(2.0, algorithm=3)
