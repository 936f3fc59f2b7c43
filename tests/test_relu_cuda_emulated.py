"""The ReLU walks' CUDA driver (csrc/cuda/relu.cu) run on the CPU through _cuda_emulated. Lines: the same
per-line header function as the CPU driver (deepcheap::relu::walk_item), in a counting pass and a filling
pass over chunks of launches, so counts, breakpoints and patterns must be the CPU's bit for bit. The
references are the CPU driver (itself checked against dense sampling in tests/test_relu.py) and, for the
sawtooth, the closed form (2^k pieces, kinks at j / 2^k). Planes: the CPU driver's per-item and per-cell
header functions (deepcheap::relu::plane_first_cells, plane_unit_regions), so counts, cells and images
must be the CPU's bit for bit; closed forms (the sawtooth's 2^k strips, a line arrangement's regions,
parallel lines) beside."""

from __future__ import annotations

import numpy as np
import pytest

from cuda_cases import check_relu_lines, check_relu_planes, check_relu_sawtooth, relu_same_planes, relu_same_regions
from deepcheap_native import _core as dc_core
from deepcheap_native import cuda, relu

emulated = pytest.importorskip("deepcheap_native._cuda_emulated", reason="built with DEEPCHEAP_CUDA_EMULATION=OFF")


@pytest.fixture
def emulation():
    with cuda.emulation():
        yield


@pytest.mark.parametrize("widths", [
    (1, 8, 1),                     # one hidden layer, a 1-D input
    (3, 16, 16, 1),
    (5, 32, 32, 32, 2),
    (2, 12, 12, 12, 12, 12, 12, 1),  # depth 6: many nested levels of the walk
    (4, 64, 3),
])
def test_random_he_networks_bit_identical(emulation, widths):
    got = check_relu_lines(widths)
    assert got.counts.min() >= 1 and got.counts.max() > 1  # the lines do cross neurons


@pytest.mark.parametrize("k", [1, 4, 9])
def test_sawtooth_has_exactly_2_to_the_k_pieces(emulation, k):
    check_relu_sawtooth(k)


def test_batched_networks_and_lines(emulation):
    got = check_relu_lines((6, 24, 24, 1), n_lines=17, n_nets=3)
    assert got.counts.shape == (3, 17)
    # Each item is the single (network, line) walk: item (2, 5) alone gives the same bits.
    nets = [relu.random_network((6, 24, 24, 1), seed=3, index=i, bias_std=0.5) for i in range(3)]
    one = relu.linear_regions(nets[2], line=tuple(got.lines[5]), patterns=True, device="cuda")
    np.testing.assert_array_equal(one.breakpoints(), got.breakpoints(2, 5))
    np.testing.assert_array_equal(one.patterns(), got.patterns(2, 5))


def test_without_patterns_and_with_a_tolerance(emulation):
    check_relu_lines((3, 20, 20, 1), patterns=False)
    check_relu_lines((3, 20, 20, 1), tol=1e-4)


def test_affine_network_has_one_piece(emulation):
    got = check_relu_lines((3, 2), n_lines=4)
    assert (got.counts == 1).all() and got.patterns(0, 3).shape == (1, 0)


def test_chunked_launches_change_nothing(emulation):
    # The interrupt hook forces chunks (and launches) of 3 items: both passes then run as many launches
    # over offsets within a chunk, and polls happen between them.
    want = check_relu_lines((4, 16, 16, 16, 1), n_lines=10, n_nets=2)
    polls = emulated._interrupt_polls()
    old = emulated._set_interrupt_chunk(3)
    try:
        got = relu.linear_regions([relu.random_network((4, 16, 16, 16, 1), seed=3, index=i, bias_std=0.5)
                                   for i in range(2)], lines=10, seed=4, patterns=True, device="cuda")
    finally:
        emulated._set_interrupt_chunk(old)
    relu_same_regions(got, want)
    assert emulated._interrupt_polls() - polls >= 2 * (20 // 3)


def test_max_pieces_error_matches_the_cpu(emulation):
    net = relu.sawtooth_network(6)
    lines = np.array([[[0.0], [0.01]], [[0.0], [1.0]]])  # line 1 has 64 pieces
    messages = []
    for device in ("cpu", "cuda"):
        with pytest.raises(ValueError, match="network 0 has more than max_pieces = 10 regions along line 1") as info:
            relu.linear_regions(net, lines, max_pieces=10, device=device)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_bad_input_errors_on_cuda(emulation):
    net = relu.random_network((2, 8, 1), seed=1)
    with pytest.raises(ValueError, match="degenerate"):
        relu.linear_regions(net, line=([1.0, 2.0], [1.0, 2.0]), device="cuda")
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'cuda:N'"):
        relu.linear_regions(net, lines=3, device="gpu")
    with pytest.raises(RuntimeError, match="cuda:1 requested but only 1 CUDA device"):
        relu.linear_regions(net, lines=3, device="cuda:1")
    # The native entry re-checks what the Python layer checked (NaN weights, a bad device index).
    with pytest.raises(ValueError, match="must be finite"):
        emulated.relu_line_regions(np.array([2, 8, 1]), np.full((1, 33), np.nan), np.zeros((1, 2, 2)) + [[0], [1]],
                                   0.0, False, 10)
    with pytest.raises(ValueError):
        emulated.relu_line_regions(np.array([2, 8, 1]), net.params[None], np.array([[[0.0, 0.0], [1.0, 1.0]]]),
                                   0.0, False, 10, device=3)


def test_cuda_without_a_gpu_is_the_common_error():
    # Outside the emulation, the same RuntimeError as every area's device="cuda" (cuda.resolve_device).
    if cuda.is_available():
        pytest.skip("a CUDA device is present")
    net = relu.random_network((2, 8, 1), seed=1)
    with pytest.raises(RuntimeError, match="device cuda:0 requested but") as info:
        relu.linear_regions(net, lines=3, device="cuda")
    with pytest.raises(RuntimeError) as other:
        cuda.resolve_device("cuda")
    assert str(info.value) == str(other.value)


# ---- the plane walk (csrc/cuda/relu.cu: first-layer cells per item, then regions per cell) ------------
# The references: the CPU driver (itself checked against a fine grid and against closed forms in
# tests/test_relu.py), the closed forms below, and the rectangle's area (the cells tile it).


@pytest.mark.parametrize(("widths", "n_nets", "seed"), [
    ((2, 6, 1), 1, 3),                 # one hidden layer: every first-layer cell is a region
    ((3, 12, 12, 1), 2, 3),            # a batch of networks
    ((2, 8, 8, 8, 8, 1), 1, 3),        # depth 4: many nested levels of the walk
    ((5, 24, 6, 2), 1, 3),
    ((2, 1, 1, 1), 1, 4),              # one neuron per layer (both lines cross the rectangle)
])
def test_plane_regions_bit_identical(emulation, widths, n_nets, seed):
    got = check_relu_planes(widths, n_nets=n_nets, seed=seed)
    assert got.counts.max() > 1  # the lines do cross the rectangle
    for net in range(n_nets):
        np.testing.assert_allclose(got.cells(net)[:, 0].sum(), 3.5 * 3.5, rtol=1e-12)


@pytest.mark.parametrize("tol", [0.0, 1e-5])
def test_plane_regions_with_a_tolerance(emulation, tol):
    check_relu_planes((3, 10, 10, 1), tol=tol)


@pytest.mark.parametrize("k", [1, 6, 10])
def test_sawtooth_plane_has_2_to_the_k_strips(emulation, k):
    # Telgarsky's sawtooth on the first coordinate: the unit square is cut into 2^k vertical strips of
    # width 2^-k (the kinks j / 2^k are exact), each one region of area 2^-k and centroid (j + 1/2) / 2^k.
    saw = relu.sawtooth_network(k)
    first = (np.hstack([np.asarray(saw.layers[0][0]), np.zeros((2, 1))]), saw.layers[0][1])
    net = relu.as_network([first, *saw.layers[1:]])
    args = (net, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), (0.0, 1.0, 0.0, 1.0))
    got = relu.linear_regions_2d(*args, cells=True, device="cuda")
    assert got.count == 2**k
    cells = got.cells()
    np.testing.assert_allclose(cells[:, 0], 2.0**-k, rtol=1e-12)
    np.testing.assert_allclose(np.sort(cells[:, 1]), (np.arange(2**k) + 0.5) / 2**k, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cells[:, 2], 0.5, rtol=0, atol=1e-12)
    relu_same_planes(got, relu.linear_regions_2d(*args, cells=True, device="cpu"))


def test_plane_line_arrangement_closed_form(emulation):
    # n lines in general position all crossing a big square: 1 + n + (crossings inside) regions.
    rng = np.random.default_rng(4)
    W, b = rng.normal(size=(7, 2)), rng.normal(size=7) * 0.2
    inside = sum(1 for i in range(7) for j in range(i + 1, 7)
                 if np.all(np.abs(np.linalg.solve(W[[i, j]], -b[[i, j]])) < 50))
    args = ([(W, b), (np.ones((1, 7)), np.zeros(1))], np.zeros(2), [1, 0], [0, 1], (-50, 50, -50, 50))
    got = relu.linear_regions_2d(*args, cells=True, device="cuda")
    assert got.count == 1 + 7 + inside
    relu_same_planes(got, relu.linear_regions_2d(*args, cells=True, device="cpu"))


def test_plane_affine_network_is_one_region(emulation):
    got = check_relu_planes((3, 2), image=4)
    assert got.count == 1 and got.cells().tolist() == [[3.5 * 3.5, -0.25, 0.75]]


def test_plane_wide_network_beyond_the_exact_workspace_bound(emulation):
    # 3000 parallel lines s = c_j (increasing): the exact bounds (3004 vertices, 3001 frames) pass the
    # 64 MiB workspace cap, so the plan cuts them. A rectangle that 40 of the lines cross still walks
    # (1 + 40 regions, closed form); the whole range nests 3000 splits on one path, over the cut bound:
    # the same ValueError on both devices.
    c = np.linspace(-1.0, 1.0, 3000)
    net = [(np.stack([np.ones(3000), np.zeros(3000)], axis=1), -c), (np.ones((1, 3000)), np.zeros(1))]
    lo, hi = c[1000] - 1e-9, c[1039] + 1e-9
    for device in ("cpu", "cuda"):
        got = relu.linear_regions_2d(net, np.zeros(2), [1, 0], [0, 1], (lo, hi, 0.0, 1.0), device=device)
        assert got.count == 41
    messages = []
    for device in ("cpu", "cuda"):
        with pytest.raises(ValueError, match=r"network 0 in plane 0: a cell of the walk needs more than \d+ vertices "
                                             r"or \d+ nested splits") as info:
            relu.linear_regions_2d(net, np.zeros(2), [1, 0], [0, 1], (-2.0, 2.0, 0.0, 1.0), device=device)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_plane_chunked_launches_change_nothing(emulation):
    # Launches of 3 items or units: every pass runs as many launches over offsets within a chunk.
    want = check_relu_planes((3, 10, 10, 10, 1), n_nets=2)
    polls = emulated._interrupt_polls()
    old = emulated._set_interrupt_chunk(3)
    try:
        nets = [relu.random_network((3, 10, 10, 10, 1), seed=3, index=i, bias_std=0.5) for i in range(2)]
        origin, u, v = np.random.default_rng(3).normal(size=(3, 3))
        got = relu.linear_regions_2d(nets, origin, u, v, (-2.0, 1.5, -1.0, 2.5), cells=True, image=(24, 20),
                                     device="cuda")
    finally:
        emulated._set_interrupt_chunk(old)
    relu_same_planes(got, want)
    assert emulated._interrupt_polls() - polls >= 2 * (2 // 3 + want.counts.size)


def test_plane_bad_input_errors_on_cuda(emulation):
    net = relu.random_network((2, 4, 1), seed=1)
    for device in ("cpu", "cuda"):
        with pytest.raises(ValueError, match="linearly independent"):
            relu.linear_regions_2d(net, [0, 0], [1, 0], [2, 0], device=device)
        with pytest.raises(ValueError, match="s0 < s1"):
            relu.linear_regions_2d(net, [0, 0], [1, 0], [0, 1], (1, 0, 0, 1), device=device)
        with pytest.raises(ValueError, match=r"origin has shape"):
            relu.linear_regions_2d(net, [0, 0, 0], [1, 0], [0, 1], device=device)
        with pytest.raises(ValueError, match=r"tol must be in \[0, 1e-3\]"):
            relu.linear_regions_2d(net, [0, 0], [1, 0], [0, 1], tol=0.1, device=device)
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'cuda:N'"):
        relu.linear_regions_2d(net, [0, 0], [1, 0], [0, 1], device="gpu")
    with pytest.raises(RuntimeError, match="cuda:1 requested but only 1 CUDA device"):
        relu.linear_regions_2d(net, [0, 0], [1, 0], [0, 1], device="cuda:1")
    # The native entry re-checks what the Python layer checked, with the CPU's messages.
    planes = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    ext = np.array([-1.0, 1.0, -1.0, 1.0])
    for module in (emulated, dc_core):
        with pytest.raises(ValueError, match="network weights and biases must be finite"):
            module.relu_plane_regions(np.array([2, 4, 1]), np.full((1, 17), np.nan), planes, ext, 0.0, False)
        with pytest.raises(ValueError, match="plane origin and directions must be finite"):
            module.relu_plane_regions(np.array([2, 4, 1]), net.params[None], planes * np.nan, ext, 0.0, False)
        with pytest.raises(ValueError, match="s0 < s1"):
            module.relu_plane_regions(np.array([2, 4, 1]), net.params[None], planes, ext[::-1].copy(), 0.0, False)
        with pytest.raises(ValueError, match=r"planes has shape \(1, 3, 2\) but expected \(n_planes, 3, 3\)"):
            module.relu_plane_regions(np.array([3, 4, 1]), np.zeros((1, 21)), planes, ext, 0.0, False)
    with pytest.raises(ValueError):
        emulated.relu_plane_regions(np.array([2, 4, 1]), net.params[None], planes, ext, 0.0, False, device=3)


def test_plane_units_past_the_small_workspace_are_walked_again(emulation):
    # The CUDA driver first walks every unit with room for 32 vertices and 128 nested splits, then walks
    # again with the plan's bounds those that needed more. Network 0: two first-layer neurons s + 10 and
    # t + 10, on in the whole rectangle (one unit), then 200 parallel lines s = c_j (increasing): that
    # unit nests 200 splits, so only the second walk can count it (1 + 200 regions, closed form; cells of
    # height 1 between the lines). Network 1 (random, same widths) has small units: both kinds of walk
    # in one call, the CPU's bits either way.
    c = np.sort(np.random.default_rng(5).uniform(-1.0, 1.0, 200))
    first = (np.eye(2), np.full(2, 10.0))
    nested = relu.as_network([first, (np.stack([np.ones(200), np.zeros(200)], axis=1), -10.0 - c),
                              (np.ones((1, 200)), np.zeros(1))])
    nets = [nested, relu.random_network((2, 2, 200, 1), seed=6, bias_std=0.5)]
    args = (nets, np.zeros(2), [1.0, 0.0], [0.0, 1.0], (-1.5, 1.5, 0.0, 1.0))
    got = relu.linear_regions_2d(*args, cells=True, device="cuda")
    assert got.counts[0] == 201
    edges = np.concatenate([[-1.5], c, [1.5]])
    np.testing.assert_allclose(np.sort(got.cells(0)[:, 0]), np.sort(np.diff(edges)), rtol=1e-9, atol=1e-12)
    relu_same_planes(got, relu.linear_regions_2d(*args, cells=True, device="cpu"))
