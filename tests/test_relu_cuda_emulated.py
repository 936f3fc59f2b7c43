"""The ReLU line walk's CUDA driver (csrc/cuda/relu.cu) run on the CPU through _cuda_emulated: the same
per-line header function as the CPU driver (deepcheap::relu::walk_item), in a counting pass and a filling
pass over chunks of launches, so counts, breakpoints and patterns must be the CPU's bit for bit. The
references are the CPU driver (itself checked against dense sampling in tests/test_relu.py) and, for the
sawtooth, the closed form (2^k pieces, kinks at j / 2^k)."""

from __future__ import annotations

import numpy as np
import pytest

from cuda_cases import check_relu_lines, check_relu_sawtooth, relu_same_regions
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
