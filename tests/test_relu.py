"""The ReLU area (issue 22): Telgarsky's sawtooth built exactly (deep and shallow) against its closed
form and an explicit composition, the closed-form counts against the built networks, the L¹ gap bound
against a numerical optimum, and the native region walks against dense-sampling brute forces written
here (numpy forward passes, no package code)."""

from __future__ import annotations

import numpy as np
import pytest

import deepcheap_native as dc
from deepcheap_native import relu

# ---- references written here ------------------------------------------------------------------


def triangle(x):
    return 2.0 * np.minimum(x, 1.0 - x)


def composed_sawtooth(k, x):
    y = np.asarray(x, dtype=np.float64)
    for _ in range(k):
        y = triangle(y)
    return y


def numpy_patterns(layers, x):
    """(n, neurons) bool patterns of the ReLU MLP `layers` [(W, b), ...] at points x (n, d)."""
    out, h = [], x
    for W, b in layers[:-1]:
        z = h @ W.T + b
        out.append(z > 0)
        h = np.maximum(z, 0.0)
    return np.concatenate(out, axis=1)


def numpy_forward(layers, x):
    h = x
    for W, b in layers[:-1]:
        h = np.maximum(h @ W.T + b, 0.0)
    W, b = layers[-1]
    return h @ W.T + b


def he_layers(rng, widths, bias=0.3):
    return [(rng.normal(0, np.sqrt(2 / widths[i - 1]), (widths[i], widths[i - 1])), rng.normal(0, bias, widths[i]))
            for i in range(1, len(widths))]


# ---- 1. exact constructions ---------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
def test_sawtooth_network_is_exact_on_dyadic_inputs(k):
    x = np.arange(2 ** (k + 4) + 1, dtype=np.float64) / 2 ** (k + 4)
    reference = composed_sawtooth(k, x)
    assert np.array_equal(relu.sawtooth(k, x), reference)       # closed form == explicit composition
    net = relu.sawtooth_network(k)
    assert net.widths == (1,) + (2,) * k + (1,)
    assert np.array_equal(net(x), reference)                      # bit for bit, float64
    assert np.array_equal(net(x[:, None])[:, 0], reference)


@pytest.mark.parametrize("k", [1, 2, 4, 7, 10])
def test_shallow_sawtooth_is_exact_and_has_2_to_the_k_units(k):
    x = np.arange(2 ** (k + 3) + 1, dtype=np.float64) / 2 ** (k + 3)
    net = relu.shallow_sawtooth_network(k)
    assert net.depth == 1 and net.neurons == 2**k == relu.sawtooth_counts(k)["shallow_neurons"]
    assert np.array_equal(net(x), composed_sawtooth(k, x))


def test_interpolating_network_through_arbitrary_knots():
    rng = np.random.default_rng(3)
    xs = np.sort(rng.uniform(-2, 3, 9))
    ys = rng.normal(size=9)
    net = relu.interpolating_network(np.stack([xs, ys], axis=1))
    grid = np.linspace(xs[0], xs[-1], 1001)
    np.testing.assert_allclose(net(grid), np.interp(grid, xs, ys), atol=1e-12)
    assert net.neurons <= 8                                    # m pieces: at most m units
    collinear = relu.interpolating_network([[0, 0], [1, 1], [2, 2], [3, 0]])
    assert collinear.neurons == 2                              # one slope + one kink; the collinear knot costs nothing
    with pytest.raises(ValueError, match="strictly increasing"):
        relu.interpolating_network([[0, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"\(m \+ 1, 2\)"):
        relu.interpolating_network([1, 2, 3])


def test_closed_form_counts_match_the_built_networks():
    for k in range(1, 11):
        c = relu.sawtooth_counts(k)
        deep, shallow = relu.sawtooth_network(k), relu.shallow_sawtooth_network(k)
        assert (c["deep_layers"], c["deep_neurons"]) == (deep.depth, deep.neurons) == (k, 2 * k)
        assert c["shallow_neurons"] == shallow.neurons == 2**k
        assert c["shallow_neurons_lower_bound"] == 2**k - 1
        for net in (deep, shallow):
            r = relu.linear_regions(net, line=(0.0, 1.0))
            assert r.count == c["pieces"] == 2**k
            assert np.array_equal(r.breakpoints(), np.arange(1, 2**k) / 2**k)   # exactly the knots


def test_shallow_lower_bound_counts_pieces_of_random_one_layer_nets():
    # m units in one hidden layer, 1-D input: at most m + 1 pieces on the whole line.
    rng = np.random.default_rng(0)
    for m in (1, 3, 9):
        net = relu.ReLUNetwork(he_layers(rng, (1, m, 1)))
        r = relu.linear_regions(net, line=(-1e3, 1e3))
        assert r.count <= m + 1


def test_torch_export_and_import():
    torch = pytest.importorskip("torch")
    net = relu.sawtooth_network(6)
    module = net.to_torch()
    x = np.arange(257, dtype=np.float64) / 256
    with torch.no_grad():
        y = module(torch.from_numpy(x[:, None]))[:, 0].numpy()
    assert np.array_equal(y, composed_sawtooth(6, x))
    back = relu.as_network(module)
    assert back.widths == net.widths and np.array_equal(back.params, net.params)
    assert torch.is_tensor(net(torch.from_numpy(x)))            # torch in, torch out


def _l1_to_sawtooth(k, knots_x, knots_y, grid):
    return np.mean(np.abs(np.interp(grid, knots_x, knots_y) - composed_sawtooth(k, grid)))


def _best_pieces_fit(k, p, restarts, rng):
    """A numerical optimum of ∫|f − s_k| over continuous piecewise-linear f with p pieces on [0, 1]."""
    from scipy.optimize import minimize

    grid = (np.arange(8192) + 0.5) / 8192

    def loss(theta):
        inner = np.sort(np.clip(theta[: p - 1], 0, 1))
        xs = np.concatenate([[0.0], inner, [1.0]])
        return _l1_to_sawtooth(k, xs, theta[p - 1 :], grid)

    best = np.inf
    for _ in range(restarts):
        theta0 = np.concatenate([np.sort(rng.uniform(0, 1, p - 1)), rng.uniform(0, 1, p + 1)])
        res = minimize(loss, theta0, method="Powell", options={"xtol": 1e-6, "ftol": 1e-9, "maxfev": 4000})
        best = min(best, res.fun)
    return best


@pytest.mark.parametrize("k", [3, 4])
def test_l1_gap_bound_holds_against_a_numerical_optimum(k):
    rng = np.random.default_rng(k)
    for p in range(1, 2 ** (k - 1) - 1):
        bound = relu.sawtooth_l1_gap_bound(k, p)
        assert bound > 0                                        # not vacuous below 2^(k-1) - 1 pieces
        best = _best_pieces_fit(k, p, restarts=3, rng=rng)
        assert best >= bound - 1e-9, (k, p, best, bound)
    # One hidden layer with m units has at most m + 1 pieces; the exact construction closes the gap.
    assert relu.sawtooth_l1_gap_bound(k, 2**k) == 0.0
    assert relu.sawtooth_l1_gap_bound(12, 2**10 + 1) >= 1 / 16 - 2.0**-13


def test_l1_gap_bound_is_a_constant_for_few_units():
    for k in range(3, 30):
        assert relu.sawtooth_l1_gap_bound(k, 2 ** (k - 2) + 1) >= 1 / 16 - 2.0 ** (-k - 1)


# ---- 2. linear regions along lines ----------------------------------------------------------------


@pytest.mark.parametrize("widths", [(1, 5, 1), (3, 8, 8, 1), (2, 16, 1), (5, 6, 6, 6, 2), (4, 12, 3, 12, 1)])
def test_line_regions_match_dense_sampling(widths):
    rng = np.random.default_rng(sum(widths))
    layers = he_layers(rng, widths)
    net = relu.ReLUNetwork(layers)
    segments = rng.normal(size=(4, 2, widths[0])) * 2
    r = relu.linear_regions(net, segments, patterns=True)
    assert r.counts.shape == (1, 4)
    n = 20001
    t = np.linspace(0, 1, n)
    for j in range(4):
        x0, x1 = segments[j]
        pts = x0[None] + t[:, None] * (x1 - x0)[None]
        sampled = numpy_patterns(layers, pts)
        bp = r.breakpoints(0, j)
        exact = r.patterns(0, j)
        assert len(bp) == r.counts[0, j] - 1 and np.all(np.diff(bp) > 0) and np.all((bp > 0) & (bp < 1))
        piece = np.searchsorted(bp, t)
        far = np.min(np.abs(t[:, None] - np.concatenate([bp, [9.0]])[None]), axis=1) > 1e-9
        assert np.array_equal(sampled[far], exact[piece[far]])          # every sample in its piece's pattern
        # Every breakpoint is real: the pattern differs just before and just after it.
        before = numpy_patterns(layers, x0[None] + (bp - 1e-8)[:, None] * (x1 - x0)[None])
        after = numpy_patterns(layers, x0[None] + (bp + 1e-8)[:, None] * (x1 - x0)[None])
        assert (before != after).any(axis=1).all()
        # Dense sampling sees every piece wider than two steps.
        runs = 1 + int((sampled[1:] != sampled[:-1]).any(axis=1).sum())
        widths_t = np.diff(np.concatenate([[0.0], bp, [1.0]]))
        if widths_t.min() > 2.0 / (n - 1):
            assert runs == r.counts[0, j]
        assert runs <= r.counts[0, j]


def test_batched_networks_and_lines_equal_single_calls_on_any_thread_count():
    nets = [relu.random_network((6, 32, 32, 1), seed=5, index=i, bias_std=0.1) for i in range(3)]
    batch = relu.linear_regions(nets, lines=7, seed=11, length=4.0, threads=1)
    again = relu.linear_regions(nets, lines=7, seed=11, length=4.0, threads=2)
    assert batch.counts.shape == (3, 7)
    assert np.array_equal(batch.counts, again.counts)
    for i in range(3):
        for j in range(7):
            one = relu.linear_regions(nets[i], line=tuple(batch.lines[j]))
            assert one.count == batch.counts[i, j]
            assert np.array_equal(one.breakpoints(), batch.breakpoints(i, j))
            assert np.array_equal(batch.breakpoints(i, j), again.breakpoints(i, j))
    np.testing.assert_allclose(batch.lengths, 4.0)
    np.testing.assert_allclose(batch.per_unit_length, batch.counts / 4.0)


def test_random_lines_and_networks_are_seeded_by_item():
    a = relu.random_lines(10, 4, seed=3)
    assert np.array_equal(a[:4], relu.random_lines(4, 4, seed=3))      # line i does not depend on n
    assert not np.array_equal(a, relu.random_lines(10, 4, seed=4))
    np.testing.assert_allclose(np.linalg.norm(a[:, 1] - a[:, 0], axis=1), 1.0)
    n0 = relu.random_network((4, 64, 1), seed=9)
    assert np.array_equal(n0.params, relu.random_network((4, 64, 1), seed=9).params)
    assert not np.array_equal(n0.params, relu.random_network((4, 64, 1), seed=9, index=1).params)
    W = n0.layers[0][0]
    assert abs(W.std() - np.sqrt(2 / 4)) < 0.1                          # He initialisation


def test_weights_from_numpy_lists_and_torch_sequential_agree():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    layers = he_layers(rng, (3, 10, 10, 2))
    seq = torch.nn.Sequential(torch.nn.Linear(3, 10), torch.nn.ReLU(), torch.nn.Linear(10, 10), torch.nn.ReLU(),
                              torch.nn.Linear(10, 2)).double()
    with torch.no_grad():
        for lin, (W, b) in zip([seq[0], seq[2], seq[4]], layers):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
    seg = (np.zeros(3), np.ones(3) * 3)
    a = relu.linear_regions(layers, line=seg)
    b = relu.linear_regions(seq, line=seg)
    assert a.count == b.count and np.array_equal(a.breakpoints(), b.breakpoints())
    x = rng.normal(size=(50, 3))
    np.testing.assert_allclose(relu.ReLUNetwork(layers)(x), numpy_forward(layers, x), rtol=1e-13, atol=1e-13)


def test_bad_input_gets_clear_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="Tanh.*only Linear and ReLU"):
        relu.as_network(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="ends with a ReLU"):
        relu.as_network(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))
    with pytest.raises(ValueError, match=r"expected \(out, 3\)"):
        relu.ReLUNetwork([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 4)), np.zeros(1))])
    with pytest.raises(ValueError, match=r"bias has shape \(2,\) but expected \(3,\)"):
        relu.ReLUNetwork([(np.ones((3, 2)), np.zeros(2))])
    with pytest.raises(ValueError, match="must be finite"):
        relu.ReLUNetwork([(np.array([[np.nan, 1.0]]), np.zeros(1))])
    net = relu.sawtooth_network(3)
    with pytest.raises(ValueError, match="degenerate"):
        relu.linear_regions(net, line=(0.5, 0.5))
    with pytest.raises(ValueError, match="finite"):
        relu.linear_regions(net, line=(0.0, np.nan))
    with pytest.raises(ValueError, match=r"expected \(x0, x1\)"):
        relu.linear_regions(relu.random_network((3, 4, 1)), line=(np.zeros(2), np.ones(2)))
    with pytest.raises(TypeError, match="exactly one of"):
        relu.linear_regions(net)
    with pytest.raises(TypeError):
        relu.linear_regions("net", line=(0, 1))
    with pytest.raises(TypeError):
        relu.linear_regions(np.ones((2, 2)), line=(0, 1))
    with pytest.raises(ValueError, match="tol"):
        relu.linear_regions(net, line=(0, 1), tol=0.5)
    with pytest.raises(ValueError, match="shares its widths"):
        relu.linear_regions([relu.sawtooth_network(2), relu.sawtooth_network(3)], line=(0, 1))
    with pytest.raises(ValueError, match=r"x has shape"):
        relu.random_network((3, 4, 1))(np.ones((2, 2)))
    with pytest.raises(TypeError):
        relu.random_network((3, 4.5, 1))
    with pytest.raises(TypeError):
        relu.linear_regions(net, line=(0, 1), threads="2")
    with pytest.raises(ValueError, match="more than max_pieces = 1000 regions along line 0"):
        relu.linear_regions(relu.sawtooth_network(40), line=(0, 1), max_pieces=1000)   # 2^40 pieces: stops early
    assert relu.linear_regions(relu.sawtooth_network(10), line=(0, 1), max_pieces=1024).count == 1024
    # The core re-checks what Python passes (NaN parameters, wrong sizes) without crashing.
    with pytest.raises(ValueError, match="finite"):
        dc._core.relu_forward(np.array([1, 1], np.int64), np.array([[np.nan, 0.0]]), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="expected 1 networks x 2"):
        dc._core.relu_forward(np.array([1, 1], np.int64), np.zeros((1, 3)), np.zeros((1, 1)))


def test_affine_network_has_one_region_and_deep_networks_walk():
    r = relu.linear_regions([(np.ones((1, 2)), np.zeros(1))], line=(np.zeros(2), np.ones(2)), patterns=True)
    assert r.count == 1 and r.breakpoints().size == 0 and r.patterns().shape == (1, 0)
    deep = relu.random_network((2,) + (8,) * 20 + (1,), seed=1, bias_std=0.1)
    rr = relu.linear_regions(deep, lines=3, seed=2)
    assert (rr.counts >= 1).all()


# ---- 4. regions in a plane ----------------------------------------------------------------------


@pytest.mark.parametrize("widths", [(2, 5, 1), (3, 6, 6, 1), (2, 4, 4, 4, 1)])
def test_plane_regions_tile_the_rectangle_and_match_a_fine_grid(widths):
    rng = np.random.default_rng(10 + sum(widths))
    layers = he_layers(rng, widths)
    net = relu.ReLUNetwork(layers)
    d = widths[0]
    origin, u, v = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d)
    ext = (-1.5, 1.0, -1.0, 2.0)
    r = relu.linear_regions_2d(net, origin, u, v, ext, cells=True, image=(60, 50))
    cells = r.cells()
    assert cells.shape == (r.count, 3)
    np.testing.assert_allclose(cells[:, 0].sum(), 2.5 * 3.0, rtol=1e-10)        # the regions tile the rectangle
    centroids = origin[None] + cells[:, 1:2] * u[None] + cells[:, 2:3] * v[None]
    region_patterns = {p.tobytes() for p in numpy_patterns(layers, centroids)}
    assert len(region_patterns) == r.count                                       # one convex cell per pattern
    n = 700
    s = ext[0] + (np.arange(n) + 0.5) * 2.5 / n
    t = ext[2] + (np.arange(n) + 0.5) * 3.0 / n
    S, T = np.meshgrid(s, t)
    pts = origin[None] + S.reshape(-1, 1) * u[None] + T.reshape(-1, 1) * v[None]
    grid_patterns = {p.tobytes() for p in numpy_patterns(layers, pts)}
    assert grid_patterns <= region_patterns
    if cells[:, 0].min() > 0.02:
        assert len(grid_patterns) == r.count
    assert r.image.shape == (60, 50) and r.image.max() + 1 <= r.count


def test_plane_regions_of_one_layer_count_the_line_arrangement():
    # n lines in general position all crossing a big square: 1 + n + (crossings inside) regions.
    rng = np.random.default_rng(4)
    W = rng.normal(size=(6, 2))
    b = rng.normal(size=6) * 0.2
    crossings = [np.linalg.solve(np.stack([W[i], W[j]]), -np.array([b[i], b[j]]))
                 for i in range(6) for j in range(i + 1, 6)]
    inside = sum(1 for p in crossings if np.all(np.abs(p) < 50))
    r = relu.linear_regions_2d([(W, b), (np.ones((1, 6)), np.zeros(1))], np.zeros(2), [1, 0], [0, 1],
                               (-50, 50, -50, 50))
    assert r.count == 1 + 6 + inside


def test_plane_errors():
    net = relu.random_network((2, 4, 1))
    with pytest.raises(ValueError, match="linearly independent"):
        relu.linear_regions_2d(net, [0, 0], [1, 0], [2, 0])
    with pytest.raises(ValueError, match="s0 < s1"):
        relu.linear_regions_2d(net, [0, 0], [1, 0], [0, 1], (1, 0, 0, 1))
    with pytest.raises(ValueError, match=r"origin has shape"):
        relu.linear_regions_2d(net, [0, 0, 0], [1, 0], [0, 1])


def test_plane_regions_batched_and_on_any_thread_count():
    """A batch of networks equals single calls, on 1 and 2 threads, bit for bit: each (network, plane)
    is split by the first layer, then every first-layer cell is walked by one thread and the cells are
    gathered in order (csrc/cpu/relu.cpp over deepcheap::relu::walk_plane)."""
    nets = [relu.random_network((3, 12, 12, 12, 1), seed=8, index=i, bias_std=0.5) for i in range(3)]
    origin, u, v = np.random.default_rng(9).normal(size=(3, 3))
    one = relu.linear_regions_2d(nets, origin, u, v, cells=True, threads=1)
    two = relu.linear_regions_2d(nets, origin, u, v, cells=True, threads=2)
    assert np.array_equal(one.counts, two.counts) and one.counts.min() > 1
    for i in range(3):
        single = relu.linear_regions_2d(nets[i], origin, u, v, cells=True)
        assert single.count == one.counts[i]
        assert one.cells(i).tobytes() == two.cells(i).tobytes() == single.cells().tobytes()
        np.testing.assert_allclose(one.cells(i)[:, 0].sum(), 4.0, rtol=1e-12)  # they tile (-1, 1)^2


def test_line_walk_is_the_same_bits_on_every_simd_target(each_simd_target):
    """The line walk is a kernel compiled per SIMD target (csrc/cpu/kernels/relu.cpp, no FP contraction,
    sums in the scalar order): on every target the CPU supports, counts, breakpoints and patterns of
    random deep and wide networks equal the scalar target's bit for bit, and the sawtooth gives 2^k."""
    from conftest import simd

    nets = [relu.random_network([8, 64, 64, 64, 64], seed=11, bias_std=0.3),
            relu.random_network([16, 256, 256], seed=12, bias_std=0.1)]
    got = [relu.linear_regions(net, lines=40, seed=13, patterns=True) for net in nets]
    with simd("scalar"):
        ref = [relu.linear_regions(net, lines=40, seed=13, patterns=True) for net in nets]
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g.counts, r.counts)
        assert g.counts.min() > 1  # the segments do cross breakpoints
        for line in range(40):
            assert np.array_equal(g.breakpoints(0, line), r.breakpoints(0, line))  # bits, not closeness
            assert np.array_equal(g.patterns(0, line), r.patterns(0, line))
    saw = relu.linear_regions(relu.sawtooth_network(12), line=([0.0], [1.0]))
    assert int(saw.counts[0, 0]) == 2**12
