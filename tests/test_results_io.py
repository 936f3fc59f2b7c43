"""Results saved without pickle (issue 25.16): to_dict, to_npz/from_npz and to_dataframe for series,
scans and descents, each checked by a round trip against the original (bit for bit) and by refusing
a file that holds something else."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc


def _equal(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


NAMES = ["BoltzmannSeries", "ClusterSeries", "DescentResult", "FiniteSizeScan", "IsingSeries"]


def _result(name):
    return {
        "IsingSeries": lambda: dc.IsingModel(8).sampler(2.0, seed=1).run(6),
        "ClusterSeries": lambda: dc.IsingModel(8).sampler(2.0, algorithm="wolff", seed=1).run(6),
        "BoltzmannSeries": lambda: dc.BoltzmannSampler(3, {(0, 1): -1.0}, 1.0, replicas=4, seed=1).run(
            5, return_spins=True),
        "FiniteSizeScan": lambda: dc.ising.finite_size_scan([4, 6], 2.3, replicas=4, n_sweeps=50, seed=1),
        "DescentResult": lambda: dc.SphericalSpinGlass(8, 3, seed=1).descend(4, steps=6, seed=2, history=True,
                                                                             hessian_index=True),
    }[name]()


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_through_npz_is_exact(name, tmp_path):
    result = _result(name)
    path = tmp_path / f"{name}.npz"
    result.to_npz(path)
    loaded = type(result).from_npz(path)
    assert type(loaded) is type(result)
    fields = result.to_dict()
    assert _equal(fields, loaded.to_dict()), name
    with np.load(path, allow_pickle=False) as data:  # plain numpy can read it, without pickle
        assert "__meta__" in data.files


def test_to_dataframe_tabulates_series_per_measurement_and_replica():
    pytest.importorskip("pandas")
    series = dc.IsingModel(8).sampler(2.0, replicas=64, seed=1).run(5)
    frame = series.to_dataframe()
    assert frame.shape == (5 * 64, 2 + 5)
    row = frame[(frame.measurement == 3) & (frame.replica == 17)].iloc[0]
    assert row.m == series.m[3, 17] and row.e == series.e[3, 17]
    descent = dc.SphericalSpinGlass(8, 3, seed=1).descend(4, steps=6, seed=2)
    table = descent.to_dataframe()
    assert len(table) == 4 and (table.energy_per_spin.to_numpy() == descent.energy_per_spin).all()


def test_a_file_that_holds_something_else_is_refused_by_name(tmp_path):
    series = dc.IsingModel(8).sampler(2.0, seed=1).run(3)
    path = tmp_path / "series.npz"
    series.to_npz(path)
    with pytest.raises(ValueError, match="holds a 'IsingSeries' result .* expected 'DescentResult'"):
        dc.landscape.DescentResult.from_npz(path)
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="foreign.npz.* is not a saved deepcheap result"):
        dc.ising.IsingSeries.from_npz(tmp_path / "foreign.npz")
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="is not a saved deepcheap result"):
        dc.ising.IsingSeries.from_npz(tmp_path / "cut.npz")
