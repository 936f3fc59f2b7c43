"""Linear regions of ReLU networks, counted exactly by the native walk.

Along a segment x(t) = x0 + t·(x1 − x0), t ∈ [0, 1], each hidden layer's pre-activations are affine in
t on the current piece, so their zeros split it; the walk goes layer by layer, depth first, and
returns the breakpoints in increasing t with the activation pattern of every piece. In a plane the
same is done with convex polygons split by each neuron's line. Counts are *activation regions*
(maximal pieces of constant activation pattern), the quantity of Hanin & Rolnick.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from ..core import cuda
from ..core.arrays import to_numpy
from ..core.random import normal_pairs
from ..core.validate import call_threads, check_int, check_real, check_seed, check_threads
from .network import PURPOSE_LINES, ReLUNetwork, as_network

__all__ = ["LineRegions", "PlaneRegions", "linear_regions", "linear_regions_2d", "random_lines"]


def _networks(network: Any) -> tuple[list[ReLUNetwork], bool]:
    """(networks, batched): one network, or a list/tuple of networks sharing their widths."""
    if isinstance(network, (list, tuple)) and network and not isinstance(network[0], (list, tuple)) \
            and (isinstance(network[0], ReLUNetwork) or type(network[0]).__module__.startswith("torch")):
        nets = [as_network(n) for n in network]
        widths = nets[0].widths
        for i, n in enumerate(nets):
            if n.widths != widths:
                raise ValueError(f"network {i} has widths {n.widths} but expected {widths}: "
                                 "a batch of networks shares its widths (call once per architecture)")
        return nets, True
    return [as_network(network)], False


def _params(nets: list[ReLUNetwork]) -> np.ndarray:
    return np.ascontiguousarray(np.stack([n.params for n in nets]))


def random_lines(n: int, dim: int, *, seed: int = 0, length: float = 1.0) -> np.ndarray:
    """``n`` random segments in R^dim, shape (n, 2, dim): midpoint c ~ N(0, I), direction u uniform on
    the unit sphere, end points c ∓ (length / 2)·u. Drawn from the package's Philox under ``seed``
    (``normal_pairs`` at item = line index, purpose "RELV"), so line i is the same for any n."""
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    seed = check_seed(seed)
    length = check_real(length, "length", positive=True)
    steps = np.arange(dim, dtype=np.uint32)  # step j: (c_j, u_j)
    z = normal_pairs(seed, np.arange(n, dtype=np.uint64)[:, None], steps[None, :], PURPOSE_LINES)
    c, u = z[..., 0], z[..., 1]
    norm = np.linalg.norm(u, axis=1, keepdims=True)
    u = u / np.where(norm > 0, norm, 1.0)
    return np.stack([c - 0.5 * length * u, c + 0.5 * length * u], axis=1)


def _lines_array(line: Any, dim: int) -> np.ndarray:
    if isinstance(line, (str, bytes)):
        raise TypeError(f"line must be a pair of points (x0, x1) or an array (n, 2, {dim}), got str")
    try:
        if isinstance(line, (tuple, list)) and len(line) == 2:
            parts = [to_numpy(p, "line")[0] for p in line]
            arr = np.stack([np.asarray(p, dtype=np.float64) for p in parts])
        else:
            arr = np.asarray(to_numpy(line, "line")[0], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"line must be a pair of points (x0, x1) or an array (n, 2, {dim}) of numbers: {exc}") from exc
    if arr.ndim == 1 and dim == 1 and arr.shape == (2,):
        arr = arr[None, :, None]
    elif arr.ndim == 2 and arr.shape == (2, dim):
        arr = arr[None]
    elif arr.ndim == 2 and dim == 1 and arr.shape[1] == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[1:] != (2, dim) or arr.shape[0] < 1:
        raise ValueError(f"line has shape {arr.shape} but expected (x0, x1) of ({dim},) each, or (n, 2, {dim})")
    if not np.isfinite(arr).all():
        raise ValueError("line end points must be finite, got NaN or inf")
    same = (arr[:, 0] == arr[:, 1]).all(axis=1)
    if same.any():
        raise ValueError(f"line {int(np.argmax(same))} is degenerate: its two end points are equal "
                         "(a segment needs x0 != x1)")
    return np.ascontiguousarray(arr)


class LineRegions:
    """The exact activation regions of ``n_networks`` networks along ``n_lines`` segments.

    ``counts[i, j]``: pieces of network i along segment j; ``breakpoints(i, j)``: its interior
    breakpoints t ∈ (0, 1), increasing; ``points(i, j)``: the same in input space;
    ``patterns(i, j)``: (pieces, neurons) bool activation patterns (when asked for with
    ``patterns=True``); ``per_unit_length``: counts divided by each segment's Euclidean length.
    """

    def __init__(self, counts: np.ndarray, t: np.ndarray, patterns: np.ndarray | None, lines: np.ndarray,
                 batched_networks: bool, batched_lines: bool):
        self.counts = counts
        self.lines = lines
        self.lengths = np.linalg.norm(lines[:, 1] - lines[:, 0], axis=1)
        self._t = t
        self._patterns = patterns
        self._t_offsets = np.concatenate([[0], np.cumsum(counts.ravel() - 1)])
        self._p_offsets = np.concatenate([[0], np.cumsum(counts.ravel())])
        self.batched_networks = batched_networks
        self.batched_lines = batched_lines

    @property
    def count(self) -> int:
        """The number of pieces when there is one network and one segment."""
        if self.counts.size != 1:
            raise ValueError(f"count is for one network and one line; these results are {self.counts.shape}: "
                             "use counts")
        return int(self.counts[0, 0])

    @property
    def per_unit_length(self) -> np.ndarray:
        return self.counts / self.lengths[None, :]

    def _item(self, net: int, line: int) -> int:
        net = check_int(net, "net", minimum=0, maximum=self.counts.shape[0] - 1)
        line = check_int(line, "line", minimum=0, maximum=self.counts.shape[1] - 1)
        return net * self.counts.shape[1] + line

    def breakpoints(self, net: int = 0, line: int = 0) -> np.ndarray:
        i = self._item(net, line)
        return self._t[self._t_offsets[i] : self._t_offsets[i + 1]]

    def points(self, net: int = 0, line: int = 0) -> np.ndarray:
        t = self.breakpoints(net, line)
        x0, x1 = self.lines[line]
        return x0[None, :] + t[:, None] * (x1 - x0)[None, :]

    def patterns(self, net: int = 0, line: int = 0) -> np.ndarray:
        if self._patterns is None:
            raise ValueError("patterns were not kept: call linear_regions(..., patterns=True)")
        i = self._item(net, line)
        return self._patterns[self._p_offsets[i] : self._p_offsets[i + 1]].astype(bool)

    def __repr__(self) -> str:
        return f"LineRegions(counts shape {self.counts.shape}, total {int(self.counts.sum())} pieces)"


def linear_regions(network: Any, line: Any = None, *, lines: int | None = None, seed: int = 0,
                   length: float = 1.0, tol: float = 1e-12, patterns: bool = False,
                   max_pieces: int = 10**7, threads: int | None = None, device: Any = None) -> LineRegions:
    """The exact breakpoints and activation patterns of ReLU networks along segments.

    Parameters
    ----------
    network : a :class:`ReLUNetwork`, a torch ``nn.Sequential`` of ``Linear``/``ReLU``, a list of
        ``(W, b)`` numpy pairs, or a list of ReLUNetworks / Sequentials sharing their widths (a batch).
    line : ``(x0, x1)`` (two points of the input dimension; scalars when it is 1), or an array of
        segments (n, 2, input_dim).
    lines, seed, length : instead of ``line``: ``lines`` random segments from :func:`random_lines`.
    tol : breakpoints closer than ``tol`` in the segment parameter t ∈ [0, 1] are one breakpoint, and
        a zero within ``tol`` of a piece's end does not split it (in [0, 1e-3]).
    patterns : keep every piece's activation pattern (pieces x neurons bytes).
    max_pieces : more pieces than this on one segment is a ValueError (the walk stops early: a deep
        sawtooth has 2^k pieces, and memory and time grow with them).
    threads : CPU threads for this call (results do not depend on it).
    device : ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; None: the device of ``line`` (a torch CUDA tensor or
        a CuPy array means its GPU), else the CPU. On a GPU every (network, segment) is walked by one
        thread running the CPU's per-line function, so the results are the CPU's bit for bit; they come
        back as numpy in a :class:`LineRegions` either way.

    Returns
    -------
    :class:`LineRegions`. The walk is exact up to float64 rounding of each zero t* = −z/ż (a piece of
    width below ``tol`` is merged into its neighbour).
    """
    check_threads(threads)
    pair = isinstance(line, (tuple, list))
    where = cuda.resolve_device(device, *(line if pair else (line,)))  # (x0, x1) of CUDA tensors: their GPU
    tol = check_real(tol, "tol", minimum=0.0)
    if tol > 1e-3:
        raise ValueError(f"tol must be in [0, 1e-3], got {tol}")
    if not isinstance(patterns, bool):
        raise TypeError(f"patterns must be a bool, got {type(patterns).__name__}")
    max_pieces = check_int(max_pieces, "max_pieces", minimum=1)
    nets, batched = _networks(network)
    dim = nets[0].input_dim
    if (line is None) == (lines is None):
        raise TypeError("give exactly one of line=(x0, x1) (or an (n, 2, d) array) and lines=n (random segments)")
    if lines is not None:
        segs = random_lines(lines, dim, seed=seed, length=length)
        batched_lines = True
    else:
        segs = _lines_array(type(line)(cuda.to_host(p) for p in line) if pair else cuda.to_host(line), dim)
        batched_lines = not (pair and len(line) == 2)
    with call_threads(threads):
        counts, t, pats = where.module.relu_line_regions(nets[0]._widths_array(), _params(nets), segs, tol, patterns,
                                                         max_pieces, device=where.index)
    return LineRegions(counts, t, pats if patterns else None, segs, batched, batched_lines)


class PlaneRegions:
    """The exact activation regions of networks in a plane rectangle.

    ``counts[i]``: regions of network i; ``cells(i)``: (regions, 3) array of (area, centroid s,
    centroid t) per region in plane coordinates (when ``cells=True``); ``image``: (rows, cols) int64
    activation-pattern ids of network 0 at pixel centres (when ``image=`` was given), ids numbered in
    order of the patterns' hashes, with ``extent`` (s0, s1, t0, t1) for plotting (rows run along t).
    """

    def __init__(self, counts: np.ndarray, cells: np.ndarray | None, image: np.ndarray | None,
                 extent: tuple[float, float, float, float]):
        self.counts = counts
        self._cells = cells
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        self.image = image
        self.extent = extent

    @property
    def count(self) -> int:
        if self.counts.size != 1:
            raise ValueError(f"count is for one network; these results hold {self.counts.size}: use counts")
        return int(self.counts[0])

    def cells(self, net: int = 0) -> np.ndarray:
        if self._cells is None:
            raise ValueError("cells were not kept: call linear_regions_2d(..., cells=True)")
        net = check_int(net, "net", minimum=0, maximum=self.counts.size - 1)
        return self._cells[self._offsets[net] : self._offsets[net + 1]]

    def __repr__(self) -> str:
        return f"PlaneRegions(counts={self.counts.tolist()})"


def _vector(x: Any, name: str, dim: int) -> np.ndarray:
    arr, _ = to_numpy(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64).reshape(-1) if np.ndim(arr) == 0 else np.asarray(arr, dtype=np.float64)
    if arr.shape != (dim,):
        raise ValueError(f"{name} has shape {arr.shape} but expected ({dim},)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def linear_regions_2d(network: Any, origin: Any, u: Any, v: Any, extent: Sequence[float] = (-1.0, 1.0, -1.0, 1.0), *,
                      tol: float = 1e-10, cells: bool = False, image: int | tuple[int, int] | None = None,
                      threads: int | None = None, device: Any = None) -> PlaneRegions:
    """The exact activation regions of ReLU networks in the plane rectangle
    {origin + s·u + t·v : s0 ≤ s ≤ s1, t0 ≤ t ≤ t1}, ``extent = (s0, s1, t0, t1)``.

    Each region is a convex polygon: the walk splits the rectangle by every first-layer neuron's line,
    then each cell by the next layer's lines (affine on the cell), and so on. A vertex within ``tol``
    (plane units) of a line counts as on it. ``image=n`` (or ``(rows, cols)``) also rasterises network
    0's activation-pattern ids at pixel centres; ``cells=True`` keeps each region's area and centroid.

    ``device``: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; None: the device of ``origin``, ``u`` or ``v`` (a
    torch CUDA tensor or a CuPy array means its GPU), else the CPU. On a GPU one thread walks each
    first-layer cell with the CPU's per-cell functions, so counts and cells are the CPU's bit for bit,
    in its order; the image is rasterised on the CPU either way (a pattern hash per pixel).
    """
    check_threads(threads)
    where = cuda.resolve_device(device, origin, u, v)
    tol = check_real(tol, "tol", minimum=0.0)
    if tol > 1e-3:
        raise ValueError(f"tol must be in [0, 1e-3], got {tol}")
    if not isinstance(cells, bool):
        raise TypeError(f"cells must be a bool, got {type(cells).__name__}")
    nets, _ = _networks(network)
    dim = nets[0].input_dim
    o, uu, vv = (_vector(cuda.to_host(x), name, dim) for x, name in ((origin, "origin"), (u, "u"), (v, "v")))
    if isinstance(extent, (str, bytes)) or not isinstance(extent, Sequence) or len(extent) != 4:
        raise TypeError("extent must be a sequence (s0, s1, t0, t1)")
    ext = tuple(check_real(e, f"extent[{i}]") for i, e in enumerate(extent))
    if not (ext[0] < ext[1] and ext[2] < ext[3]):
        raise ValueError(f"extent (s0, s1, t0, t1) needs s0 < s1 and t0 < t1, got {ext}")
    if np.linalg.matrix_rank(np.stack([uu, vv])) < 2:
        raise ValueError("u and v must be linearly independent (they span the plane)")
    planes = np.ascontiguousarray(np.stack([o, uu, vv])[None])
    params = _params(nets)
    widths = nets[0]._widths_array()
    with call_threads(threads):
        counts, cell_data = where.module.relu_plane_regions(widths, params, planes, np.asarray(ext, dtype=np.float64),
                                                            tol, cells, device=where.index)
        img = None
        if image is not None:
            if isinstance(image, tuple):
                if len(image) != 2:
                    raise ValueError(f"image must be an int or (rows, cols), got {image!r}")
                rows, cols = (check_int(image[0], "image[0]", minimum=1, maximum=4096),
                              check_int(image[1], "image[1]", minimum=1, maximum=4096))
            else:
                rows = cols = check_int(image, "image", minimum=1, maximum=4096)
            s = ext[0] + (np.arange(cols) + 0.5) * (ext[1] - ext[0]) / cols
            t = ext[2] + (np.arange(rows) + 0.5) * (ext[3] - ext[2]) / rows
            S, T = np.meshgrid(s, t)
            pts = np.ascontiguousarray(o[None, :] + S.reshape(-1, 1) * uu[None, :] + T.reshape(-1, 1) * vv[None, :])
            hashes = _core.relu_pattern_hashes(widths, params[:1], pts)[0]
            img = np.unique(hashes, return_inverse=True)[1].reshape(rows, cols).astype(np.int64)
    return PlaneRegions(counts[:, 0], cell_data if cells else None, img, ext)
