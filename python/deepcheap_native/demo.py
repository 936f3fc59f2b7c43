"""`python -m deepcheap_native.demo`: the deep-versus-shallow neuron table for multiplying n numbers
(closed forms for n = 2..64, checked against built networks where they fit in memory), then the
measured error of the networks at a few scales λ: the λ² law and the rounding floor."""

from __future__ import annotations

import time

import numpy as np

from . import get_num_threads
from .product.network import (
    MAX_SHALLOW_INPUTS,
    built_neurons,
    multiplication_gate,
    product_network,
    product_network_neurons,
)

SHALLOW_BUILD_LIMIT = 12  # build (and count the weights of) shallow networks up to 2^12 neurons


def neuron_table() -> list[str]:
    lines = [
        "Multiplying n numbers: hidden neurons of the deep (binary tree of 4-neuron gates) and the shallow",
        "(one hidden layer) product networks. 'built' counts the rows of the weight matrices of a network",
        f"actually constructed (shallow up to n = {SHALLOW_BUILD_LIMIT}); '-' where it is not built.",
        "",
        f"{'n':>3} {'deep':>6} {'layers':>6} {'built':>6} {'shallow 2^n':>22} {'built':>6} {'shallow/deep':>14}",
    ]
    for n in range(2, 65):
        deep = product_network_neurons(n, "deep")
        shallow = product_network_neurons(n, "shallow")
        net = product_network(n)
        built_deep = built_neurons(net)
        if n <= SHALLOW_BUILD_LIMIT:
            built_shallow = str(built_neurons(product_network(n, kind="shallow", scale=0.5)))
        else:
            built_shallow = "-"
        lines.append(f"{n:>3} {deep:>6} {net.n_hidden_layers:>6} {built_deep:>6} {shallow:>22,} {built_shallow:>6} "
                     f"{shallow / deep:>14.3g}")
    lines.append(f"(shallow networks are built up to n = {MAX_SHALLOW_INPUTS}; the counts above are exact for any n)")
    return lines


def error_report() -> list[str]:
    rng = np.random.default_rng(0)
    u = rng.uniform(0.5, 1.0, 2000) * rng.choice([-1, 1], 2000)
    v = rng.uniform(0.5, 1.0, 2000) * rng.choice([-1, 1], 2000)
    lams = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6])
    lines = [
        "",
        "Softplus gate at bias 0, inputs ±U[0.5, 1]: mean |m/(uv) − 1| against the prediction λ²(u²+v²)/12.",
        "network mode has a rounding floor ≈ ε/λ²; stable mode (log1p of sinh products) does not.",
        "",
        f"{'λ':>8} {'predicted':>11} {'net f64':>11} {'stable f64':>11} {'net f32':>11} {'stable f32':>11}",
    ]
    measured = []
    for lam in lams:
        predicted = np.mean(lam**2 * (u**2 + v**2) / 12)
        row = [predicted]
        for dtype in (np.float64, np.float32):
            for mode in ("network", "stable"):
                m = multiplication_gate(u.astype(dtype), v.astype(dtype), scale=float(lam), bias=0.0, mode=mode)
                exact = u.astype(dtype).astype(np.float64) * v.astype(dtype).astype(np.float64)
                row.append(np.mean(np.abs(m.astype(np.float64) / exact - 1)))
        measured.append(row[1])
        lines.append(f"{lam:>8.0e} " + " ".join(f"{r:>11.2e}" for r in row))
    fit = lams >= 1e-3
    slope = np.polyfit(np.log(lams[fit]), np.log(np.array(measured)[fit]), 1)[0]
    lines.append(f"log-log slope of the float64 network error over λ in [1e-3, 1e-1]: {slope:.3f} (theory: 2)")

    x = rng.uniform(0.5, 1.0, (20000, 16)) * rng.choice([-1, 1], (20000, 16))
    exact = x.prod(axis=1)
    lines += ["", "Deep network, n = 16 (60 neurons, 4 layers), max relative error over 20,000 samples:", ""]
    lines.append(f"{'λ':>8} {'net f64':>11} {'stable f64':>11} {'net f32':>11} {'stable f32':>11}")
    for lam in (1e-1, 1e-2, 1e-3, 1e-4):
        row = []
        for dtype in ("float64", "float32"):
            for mode in ("network", "stable"):
                net = product_network(16, scale=lam, dtype=dtype, mode=mode)
                xin = x.astype(dtype)
                row.append(np.max(np.abs(net(xin).astype(np.float64) / xin.astype(np.float64).prod(axis=1) - 1)))
        lines.append(f"{lam:>8.0e} " + " ".join(f"{r:>11.2e}" for r in row))
    del exact

    shallow_lines = ["", "Shallow network (exp, one hidden layer), n = 8, max relative error:", ""]
    x8 = x[:, :8]
    for lam in (0.3, 0.1, 0.03, 0.01):
        net = product_network(8, kind="shallow", activation="exp", scale=lam)
        err = np.max(np.abs(net(x8) / x8.prod(axis=1) - 1))
        shallow_lines.append(f"  λ = {lam:<5} 256 neurons   max relative error {err:.2e}   (floor ≈ ε/λ⁸)")
    return lines + shallow_lines


def main() -> None:
    start = time.perf_counter()
    for line in neuron_table() + error_report():
        print(line)
    print(f"\n(done in {time.perf_counter() - start:.1f} s on {get_num_threads()} threads)")


if __name__ == "__main__":
    main()
