"""The Boltzmann log-probability -H(x)/T of a local Hamiltonian as an explicit network: a periodic
convolution, per-site product-gate trees and a global sum (``form="conv"``), or the same function with no
weight sharing (``form="dense"``: one neuron group per term and site)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import cuda
from ..core.arrays import import_torch, like_input
from ..core.validate import call_threads, check_choice, check_real, check_threads
from ..product.network import (
    _ACTIVATION_CODES,
    ProductNetwork,
    activation_derivative,
    polynomial_network,
    product_network_neurons,
    torch_activation,
)
from .hamiltonian import LatticeHamiltonian

__all__ = ["HamiltonianNetwork", "hamiltonian_network", "network_neurons", "network_parameters"]

FORMS = ("conv", "dense")


def _depth(d: int) -> int:
    return (d - 1).bit_length()  # ⌈log₂ d⌉: the gate tree's hidden layers for a degree-d monomial


def network_neurons(hamiltonian: LatticeHamiltonian) -> int:
    """Hidden neurons of either form, closed form: L² Σ_t [n_deep(d_t) + 2(D − ⌈log₂ d_t⌉)] with
    n_deep(d) = 4(d−1) + 2(⌈log₂ d⌉ − popcount(d−1)) (:func:`~deepcheap_native.product_network_neurons`)
    and D = max_t ⌈log₂ d_t⌉. Weight sharing saves parameters, not neurons: both forms evaluate the same
    units at every site."""
    degrees = [len(o) for _, o in hamiltonian.terms]
    D = max(_depth(d) for d in degrees)
    if D == 0:
        return 0  # only fields: a linear map, no hidden layer
    per_site = sum(product_network_neurons(d) + 2 * (D - _depth(d)) for d in degrees)
    return hamiltonian.L ** 2 * per_site


def _layer_widths(hamiltonian: LatticeHamiltonian) -> list[int]:
    """Widths of the hidden layers at one site: layer l holds, per monomial, 4 neurons per gate and 2 per
    carried value at that level of its tree (padded with carries to the common depth D)."""
    degrees = [len(o) for _, o in hamiltonian.terms]
    D = max(_depth(d) for d in degrees)
    widths = [0] * D
    for d in degrees:
        count = d
        for level in range(D):
            widths[level] += 4 * (count // 2) + 2 * (count % 2) if count > 1 else 2
            count = (count + 1) // 2
    return widths


def network_parameters(hamiltonian: LatticeHamiltonian, form: str = "conv") -> int:
    """Stored weights and biases, closed form. With P = (2Rr+1)(2Rc+1) the kernel (the interaction range),
    w₁..w_D the per-site layer widths and w₀ = P: one site's network has
    Σ_{l=1..D} (w_l w_{l−1} + w_l) + w_D parameters (a linear P-weight kernel when D = 0). ``"conv"`` shares
    it over the lattice, so the count is independent of L, O(P · terms); ``"dense"`` has its own copy at
    each of the L² sites: L² times that, O(L² · P · terms)."""
    form = check_choice(form, "form", FORMS)
    Rr, Rc = hamiltonian.radius
    P = (2 * Rr + 1) * (2 * Rc + 1)
    widths = _layer_widths(hamiltonian)
    if not widths:
        per_site = P
    else:
        dims = [P] + widths
        per_site = sum(dims[l] * dims[l - 1] + dims[l] for l in range(1, len(dims))) + dims[-1]
    return per_site if form == "conv" else hamiltonian.L ** 2 * per_site


class HamiltonianNetwork:
    """A network computing −H(x)/T for a :class:`LatticeHamiltonian` (made by :func:`hamiltonian_network`).

    Attributes
    ----------
    hamiltonian, temperature, form, activation, scale, dtype
    site_network : the per-site :class:`~deepcheap_native.ProductNetwork` over the neighbourhood
        (inputs in the order of ``hamiltonian.offsets``): the polynomial Σ_t (−c_t/T) Π s of the product
        gates; the conv form shares it, the dense form holds L² independent copies of its weights.
    layers : the stored weights, first layer in kernel (patch) coordinates; conv:
        ``[(W (w₁, P), b), …, (w_out (w_D,), None)]``; dense the same with a leading axis of L² sites.
    n_parameters, n_neurons : counted from ``layers`` (equal to :func:`network_parameters` and
        :func:`network_neurons`).
    error_bound : leading-order bound on abs(net(x) + H(x)/T) over all x (see :func:`hamiltonian_network`).
    """

    def __init__(self, hamiltonian: LatticeHamiltonian, temperature: float, form: str, site_network: ProductNetwork,
                 activation: str) -> None:
        self.hamiltonian = hamiltonian
        self.temperature = temperature
        self.form = form
        self.activation = activation
        self.site_network = site_network
        self.scale = site_network.scale
        self.dtype = site_network.dtype
        self.bias = site_network.bias
        Rr, Rc = hamiltonian.radius
        self.kernel = (2 * Rr + 1, 2 * Rc + 1)
        weights = site_network.weights  # [(W1, b1), ..., (W_D, b_D), (W_out, b_out)] over the K offsets
        P = self.kernel[0] * self.kernel[1]
        position = [(dr + Rr) * self.kernel[1] + (dc + Rc) for dr, dc in hamiltonian.offsets]
        first, b_first = weights[0]
        patch = np.zeros((first.shape[0], P), dtype=self.dtype)
        patch[:, position] = first
        layers: list[tuple[np.ndarray, np.ndarray | None]] = []
        if len(weights) == 1:  # D = 0: only fields, the whole network is one linear kernel
            layers.append((patch[0], None))
        else:
            layers.append((patch, b_first))
            layers.extend(weights[1:-1])
            layers.append((weights[-1][0][0], None))
        if form == "dense":  # no weight sharing: an independent copy of every weight at each site
            n = hamiltonian.n_spins
            layers = [(np.repeat(w[None], n, axis=0), None if b is None else np.repeat(b[None], n, axis=0))
                      for w, b in layers]
        self.layers = layers
        self.n_parameters = int(sum(w.size + (0 if b is None else b.size) for w, b in layers))
        self.n_neurons = int(hamiltonian.n_spins * sum(w.shape[-2] for w, b in layers if b is not None))
        self.error_bound = self._error_bound()
        self._native = self._native_plan()

    def _native_plan(self) -> dict[str, Any]:
        """The site network as the fused kernel's polynomial (csrc/plan/locality.hpp): per monomial its
        neighbourhood offsets, coefficient, bias and extra carry layers, in the site network's order."""
        net = self.site_network
        offsets = self.hamiltonian.offsets
        dr: list[int] = []
        dc: list[int] = []
        start = [0]
        for mono in net._monomials:
            for col in mono.columns:
                dr.append(offsets[col][0])
                dc.append(offsets[col][1])
            start.append(len(dr))
        monos = net._monomials
        return dict(dr=np.array(dr, dtype=np.int32), dc=np.array(dc, dtype=np.int32),
                    start=np.array(start, dtype=np.int32),
                    coef=np.array([m.coefficient for m in monos], dtype=np.float64),
                    bias=np.array([m.bias for m in monos], dtype=np.float64),
                    extra_layers=np.array([m.extra_layers for m in monos], dtype=np.int32),
                    activation=_ACTIVATION_CODES[net.activation], stable=net.mode == "stable", scale=net.scale,
                    gate_coef=net._gate_coef, carry_coef=net._carry_coef, constant=net._constant,
                    float64=self.dtype == np.float64)

    def __repr__(self) -> str:
        return (f"HamiltonianNetwork(L={self.hamiltonian.L}, T={self.temperature}, form={self.form!r}, "
                f"kernel={self.kernel}, activation={self.activation!r}, scale={self.scale}, "
                f"dtype={self.dtype.name!r}, n_parameters={self.n_parameters}, n_neurons={self.n_neurons})")

    def _error_bound(self) -> float:
        """Σ_t L²|c_t|/T · λ² [(d_t−1) |σ''''(a)/(3σ''(a))| + carries_t |σ'''(a)/(6σ'(a))|]: each gate on ±1
        inputs has relative error σ''''(a)/(6σ''(a)) λ²(u²+v²) + O(λ⁴), each carry σ'''(a)/(6σ'(a)) λ²x²,
        and a tree's relative errors add at leading order."""
        a = np.array(self.bias)
        d1, d2, d3, d4 = (float(activation_derivative(self.activation, k, a)) for k in (1, 2, 3, 4))
        gate = abs(d4 / (3.0 * d2)) if d2 else 0.0
        carry = abs(d3 / (6.0 * d1)) if d1 else 0.0
        degrees = [len(o) for _, o in self.hamiltonian.terms]
        D = max(_depth(d) for d in degrees)
        total = 0.0
        for (c, _offs), d in zip(self.hamiltonian.terms, degrees):
            if D == 0:
                continue  # a linear map is exact
            carries = (product_network_neurons(d) - 4 * (d - 1)) // 2 + (D - _depth(d))
            total += abs(c) * ((d - 1) * gate + carries * carry)
        return float(self.hamiltonian.n_spins * total * self.scale ** 2 / self.temperature)

    # ---- evaluation -----------------------------------------------------------------------------

    def __call__(self, spins: Any, *, threads: int | None = None, device: Any = None) -> Any:
        """−H(x)/T as the network computes it, for spins of shape (..., L, L) holding ±1 (numpy or torch);
        result shape (...), in the network's dtype. The conv form runs one fused native kernel
        (csrc/cpu/kernels/locality.cpp): the periodic neighbourhood gather, the site network's product-gate
        trees (the product area's gate math) and the sum over sites, in site order, so the result does not
        depend on ``threads`` (CPU threads for this call; None: :func:`~deepcheap_native.set_num_threads`).
        ``device``: "cpu", "cuda", "cuda:N" or None for the input's device: the conv kernel's CUDA driver
        (csrc/cuda/locality.cu) runs the same header math in the same order; a torch CUDA tensor's
        result comes back on its GPU. The dense form applies its per-site weight copies (numpy, on the
        host, whatever the device)."""
        threads = check_threads(threads)
        where = cuda.resolve_device(device, spins)
        template = spins
        a, came_from_torch = self.hamiltonian._check_spins(cuda.to_host(spins))
        batch = a.shape[:-2]
        L = self.hamiltonian.L
        flat = a.reshape((-1, L, L))
        if self.form == "conv":
            lattices = np.ascontiguousarray(flat, dtype=np.int8)  # ±1 checked above: exact
            with call_threads(threads):
                result = where.module.locality_energy(lattices, **self._native, device=where.index)
        else:
            result = self._dense(flat)  # numpy on the host on any device; the result goes where the input was
        result = np.ascontiguousarray(result.reshape(batch))
        if cuda.array_device(template) is not None:
            return cuda.like_device_input(result, template)
        return like_input(result, came_from_torch)

    def _reference(self, spins: Any) -> np.ndarray:
        """The conv form the unfused way (tests): neighbourhoods gathered in numpy into a (B·L², K) array,
        the site :class:`~deepcheap_native.ProductNetwork` on them, and a sequential sum over sites in site
        order (np.cumsum), the order the fused kernel adds in."""
        a, _ = self.hamiltonian._check_spins(spins)
        L = self.hamiltonian.L
        flat = a.reshape((-1, L, L))
        neigh = self.hamiltonian.neighbourhoods(flat).astype(self.dtype).reshape(-1, len(self.hamiltonian.offsets))
        per_site = self.site_network(neigh).reshape(flat.shape[0], L * L)
        return np.cumsum(per_site, axis=1, dtype=self.dtype)[:, -1].reshape(a.shape[:-2])

    def _patches(self, flat: np.ndarray) -> np.ndarray:
        """(B, L², P): the kernel window around every site, row-major over the window, periodic."""
        Rr, Rc = self.hamiltonian.radius
        s = flat.astype(self.dtype)
        cols = [np.roll(s, (-dr, -dc), axis=(-2, -1)) for dr in range(-Rr, Rr + 1) for dc in range(-Rc, Rc + 1)]
        return np.stack(cols, axis=-1).reshape(flat.shape[0], -1, len(cols))

    def _dense(self, flat: np.ndarray) -> np.ndarray:
        h = self._patches(flat)  # (B, sites, P)
        for w, b in self.layers:
            if b is None:  # the output row of each site, then the global sum
                return np.einsum("bsk,sk->b", h, w).astype(self.dtype)
            z = np.einsum("bsk,sjk->bsj", h, w) + b[None]
            h = activation_derivative(self.activation, 0, z).astype(self.dtype)
        raise AssertionError("unreachable: the last layer has no bias")  # pragma: no cover

    # ---- torch ----------------------------------------------------------------------------------

    def to_torch(self) -> Any:
        """A ``torch.nn.Module`` mapping (batch, L, L) ±1 tensors to −H/T of shape (batch,), with these
        weights. ``"conv"``: ``Conv2d(1, w₁, kernel, padding_mode="circular")``, activation, 1x1 convolutions
        for the deeper gate layers, a bias-free 1x1 output convolution and the sum over sites. ``"dense"``:
        the same layers with a separate weight tensor per site (no sharing)."""
        torch = import_torch("HamiltonianNetwork.to_torch()")
        return _torch_module(torch, self)


def _torch_module(torch: Any, net: HamiltonianNetwork) -> Any:
    nn = torch.nn
    tdtype = getattr(torch, net.dtype.name)
    kh, kw = net.kernel
    Rr, Rc = net.hamiltonian.radius
    L = net.hamiltonian.L

    class ConvHamiltonian(nn.Module):
        """−H/T as a periodic convolution, product-gate layers (1x1 convolutions) and a global sum."""

        def __init__(self) -> None:
            super().__init__()
            convs = []
            for k, (w, b) in enumerate(net.layers):
                if k == 0:
                    channels = w.shape[0] if b is not None else 1  # D = 0: the kernel is the whole network
                    conv = nn.Conv2d(1, channels, (kh, kw), padding=(Rr, Rc), padding_mode="circular",
                                     bias=b is not None, dtype=tdtype)
                    weight = torch.from_numpy(w.reshape(channels, 1, kh, kw))
                elif b is None:
                    conv = nn.Conv2d(w.shape[0], 1, 1, bias=False, dtype=tdtype)
                    weight = torch.from_numpy(w.reshape(1, -1, 1, 1))
                else:
                    conv = nn.Conv2d(w.shape[1], w.shape[0], 1, dtype=tdtype)
                    weight = torch.from_numpy(w.reshape(w.shape[0], w.shape[1], 1, 1))
                with torch.no_grad():
                    conv.weight.copy_(weight)
                    if b is not None:
                        conv.bias.copy_(torch.from_numpy(b))
                convs.append(conv)
            self.convs = nn.ModuleList(convs)
            self.activation = torch_activation(net.activation)

        def forward(self, x: Any) -> Any:
            h = x.to(tdtype).reshape(-1, 1, L, L)
            for k, conv in enumerate(self.convs):
                h = conv(h)
                if k < len(self.convs) - 1:
                    h = self.activation(h)
            return h.sum(dim=(1, 2, 3))

    class DenseHamiltonian(nn.Module):
        """−H/T with one neuron group per term and site: each site's window has its own weights."""

        def __init__(self) -> None:
            super().__init__()
            self.weights = nn.ParameterList([nn.Parameter(torch.from_numpy(w.copy())) for w, _ in net.layers])
            self.biases = nn.ParameterList([nn.Parameter(torch.from_numpy(b.copy())) for _, b in net.layers
                                            if b is not None])
            self.activation = torch_activation(net.activation)

        def forward(self, x: Any) -> Any:
            h = x.to(tdtype).reshape(-1, 1, L, L)
            h = torch.nn.functional.pad(h, (Rc, Rc, Rr, Rr), mode="circular")
            h = torch.nn.functional.unfold(h, (kh, kw)).transpose(1, 2)  # (B, sites, P)
            n = len(self.weights)
            for k in range(n - 1):
                h = self.activation(torch.einsum("bsk,sjk->bsj", h, self.weights[k]) + self.biases[k])
            if n - 1 == len(self.biases):
                return torch.einsum("bsk,sk->b", h, self.weights[n - 1])
            raise AssertionError("unreachable")  # pragma: no cover

    return ConvHamiltonian() if net.form == "conv" else DenseHamiltonian()


def hamiltonian_network(hamiltonian: LatticeHamiltonian, temperature: float, *, form: str = "conv",
                        scale: float = 0.01, activation: str = "softplus", dtype: Any = "float64") -> HamiltonianNetwork:
    """A network that returns −H(x)/T, so that softmax over all states is the Boltzmann distribution.

    Built from the package's product gates: the per-site polynomial Σ_t (−c_t/T) Π_{o∈t} s_{x+o} is a
    :func:`~deepcheap_native.polynomial_network` (``kind="deep"``: each monomial of degree d a tree of
    4-neuron gates, depth ⌈log₂ d⌉, padded with 2-neuron carries; its bias and output coefficients are the
    product area's choice). ``form="conv"``: its first layer is a periodic convolution whose
    (2Rr+1)x(2Rc+1) kernel covers the interaction range, the gate layers are 1x1 convolutions, and a global
    sum closes it: :func:`network_parameters` is independent of L. ``form="dense"``: the same function,
    every site with its own copy of the weights (L² times the parameters), for the comparison.

    Accuracy: each gate on ±1 inputs has relative error σ''''(a)/(6σ''(a)) λ²(u²+v²) + O(λ⁴) (softplus,
    a = 0: −λ²/6; its carries are exact), so abs(net(x) + H(x)/T) ≤ ``error_bound`` + O(λ⁴) with
    ``error_bound = λ² L² Σ_t |c_t|/T [(d_t−1)|σ''''/(3σ'')| + carries_t |σ'''/(6σ')|]`` at the bias;
    for softplus the leading term is exactly (λ²/6) Σ_t (d_t−1) H_t(x)/T. Rounding adds about ε/λ² per
    gate (ε the unit roundoff of dtype): λ ~ ε^(1/4) balances them (0.01 suits float64, 0.05 float32).

    Parameters
    ----------
    hamiltonian : LatticeHamiltonian.
    temperature : T > 0.
    form : "conv" or "dense".
    scale : λ > 0, the gates' input scale.
    activation : "softplus" (default), "exp", "logistic", "tanh" or "gelu" (relu cannot multiply).
    dtype : "float64" or "float32".
    """
    if not isinstance(hamiltonian, LatticeHamiltonian):
        raise TypeError(f"hamiltonian must be a LatticeHamiltonian, got {type(hamiltonian).__name__} "
                        "(use LatticeHamiltonian.from_ising(model) for an IsingModel)")
    T = check_real(temperature, "temperature", positive=True)
    form = check_choice(form, "form", FORMS)
    offsets = hamiltonian.offsets
    exponents = np.zeros((len(hamiltonian.terms), len(offsets)), dtype=np.int64)
    index = {o: k for k, o in enumerate(offsets)}
    for t, (_, offs) in enumerate(hamiltonian.terms):
        for o in offs:
            exponents[t, index[o]] = 1
    coefficients = np.array([-c / T for c, _ in hamiltonian.terms])
    site = polynomial_network(exponents, coefficients, kind="deep", activation=activation, scale=scale,
                              dtype=dtype)
    return HamiltonianNetwork(hamiltonian, T, form, site, site.activation)
