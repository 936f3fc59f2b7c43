"""Experiment 4, serial depth versus parallel width (Hoang & Guerraoui): depth and level-width
profiles of real and generated circuits, correct evaluation of SHA-256 and AES, and evaluation time
against threads and schedule for deep/wide pairs beside Brent's bounds."""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

import deepcheap_native as dc

from ..circuit import families as circuits_module
from .context import Context, MissingCapability, Section, best_time
from .figures import subplots, to_png

TITLE = "Circuits: serial depth versus parallel width"
INTRO = (
    "A circuit's size W (gates) and depth D (longest path) bound what parallel hardware can do: a "
    "level-by-level evaluation on p processors takes at least max(W/p, D) steps and greedy "
    "scheduling at most W/p + D (Brent). Parallelism shrinks W/p; nothing shrinks D. Below: the "
    "level-width profiles of SHA-256, AES-128 and adders, correct bit-sliced evaluation of the real "
    "circuits, and measured time for pairs computing the same kind of function with different shapes. "
    "Thread speedups mean something only on an otherwise idle machine (the header gives the load)."
)

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"adder_n": [8, 16, 32, 64], "parity_n": 256, "profile_n": 64, "timing_word_ops": 2e6, "timing_budget_s": 15,
             "pairs": ["parity", "adder"], "repeat": 2, "chain_t": 2},
    "quick": {"adder_n": [8, 16, 32, 64, 128, 256], "parity_n": 1024, "profile_n": 64, "timing_word_ops": 2e7, "timing_budget_s": 45,
              "pairs": ["parity", "adder", "sha256"], "repeat": 3, "chain_t": 4},
    "full": {"adder_n": [8, 16, 32, 64, 128, 256, 512, 1024], "parity_n": 65536, "profile_n": 64,
             "timing_word_ops": 1e8, "timing_budget_s": 900, "pairs": ["parity", "adder", "sha256"], "repeat": 5, "chain_t": 8},
}

BRISTOL_ENV = "DEEPCHEAP_BRISTOL_DIR"


def _env_folder() -> str | None:
    return os.environ.get(BRISTOL_ENV) or None


def bristol_dir() -> Path:
    """The Bristol Fashion circuits: $DEEPCHEAP_BRISTOL_DIR if set, else the copy installed with the
    package (:func:`deepcheap_native.circuit.families.bristol_folder`); missing ones are a
    MissingCapability (a failed report step, not a crash)."""
    try:
        return circuits_module.bristol_folder(_env_folder())
    except FileNotFoundError as exc:
        raise MissingCapability(f"{exc}; reinstall deepcheap-native, or set ${BRISTOL_ENV} to a folder of "
                                "Bristol Fashion circuits") from None


def load_bristol(name: str) -> Any:
    """One Bristol circuit: :func:`deepcheap_native.circuits.bristol` from ``bristol_dir()``."""
    return circuits_module.bristol(name, directory=bristol_dir())


def scalar_result(result: Any) -> int:
    """Circuit.evaluate gives one value per output (a bare value when there is one output)."""
    if isinstance(result, tuple):
        if len(result) != 1:
            raise ValueError(f"expected one output value, got {len(result)}")
        result = result[0]
    return int(np.asarray(result, dtype=object).reshape(-1)[0]) if np.ndim(result) else int(result)


def run(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    with ctx.step(section, "depth and width profiles"):
        _profiles(ctx, section, p)
    with ctx.step(section, "correct evaluation of real circuits"):
        _correctness(ctx, section, p)
    with ctx.step(section, "time vs threads and schedule"):
        _timing(ctx, section, p)


def _generated(circuits: Any, p: dict[str, Any]) -> dict[str, Any]:
    n = p["profile_n"]
    return {
        f"ripple_carry_adder({n})": circuits.ripple_carry_adder(n),
        f"kogge_stone_adder({n})": circuits.kogge_stone_adder(n),
        f"brent_kung_adder({n})": circuits.brent_kung_adder(n),
        f"sklansky_adder({n})": circuits.sklansky_adder(n),
        f"parity_chain({n})": circuits.parity_chain(n),
        f"parity_tree({n})": circuits.parity_tree(n),
        "array_multiplier(16)": circuits.array_multiplier(16),
        "dadda_multiplier(16)": circuits.dadda_multiplier(16),
    }


def _profiles(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    circuits = dc.circuits
    named: dict[str, Any] = {}
    missing_data = None
    try:
        bristol_dir()
        for name in ("sha256", "aes_128", "adder64", "mult64"):
            named[name] = load_bristol(name)
    except MissingCapability as exc:
        missing_data = str(exc)
    named.update(_generated(circuits, p))
    rows, profiles, bounds_ok, bounds_checked = [], {}, True, 0
    for name, c in named.items():
        widths = c.level_widths().tolist()
        W, D = c.work, int(c.depth)
        for procs in (1, 2, 4, 16, 64, 256, 1024):
            plan = c.schedule(procs)
            makespan, lo, hi = plan.makespan, plan.lower_bound, plan.upper_bound
            ok = max(W / procs, D) - 1e-9 <= makespan <= W / procs + D + 1e-9 and lo <= makespan <= hi
            bounds_ok &= ok
            bounds_checked += 1
        profiles[name] = {"gates": int(c.n_gates), "work": W, "depth": D, "and_depth": int(c.and_depth), "level_widths": widths,
                          "max_width": max(widths) if widths else 0}
        rows.append([name, int(c.n_gates), D, int(c.and_depth), max(widths) if widths else 0, f"{W / max(D, 1):.1f}"])
    adders: dict[str, list[int]] = {k: [] for k in ("ripple_carry_adder", "kogge_stone_adder",
                                                    "brent_kung_adder", "sklansky_adder")}
    for n in p["adder_n"]:
        for k in adders:
            adders[k].append(int(getattr(circuits, k)(n).depth))
    parity_sizes = [2**k for k in range(1, int(math.log2(p["parity_n"])) + 1)]
    parity = {"parity_chain": [int(circuits.parity_chain(n).depth) for n in parity_sizes],
              "parity_tree": [int(circuits.parity_tree(n).depth) for n in parity_sizes]}
    section.numbers["profiles"] = profiles
    section.numbers["depth_scaling"] = {"adder_n": p["adder_n"], "adders": adders, "parity_n": parity_sizes,
                                        "parity": parity}
    if missing_data:
        section.numbers["bristol_missing"] = missing_data

    fig, axes = subplots(2, width=5.2, height=3.8)
    for name in [k for k in ("sha256", "aes_128", "mult64") if k in profiles]:
        w = profiles[name]["level_widths"]
        axes[0].semilogy(np.arange(1, len(w) + 1) / len(w), np.maximum(w, 0.8), lw=0.8,
                         label=f"{name}: W = {profiles[name]['gates']:,}, D = {profiles[name]['depth']:,}")
    n = p["profile_n"]
    for key in (f"ripple_carry_adder({n})", f"kogge_stone_adder({n})", f"sklansky_adder({n})",
                f"brent_kung_adder({n})"):
        w = profiles[key]["level_widths"]
        axes[1].semilogy(np.arange(1, len(w) + 1), np.maximum(w, 0.8), lw=1.0, drawstyle="steps-mid",
                         label=f"{key}: D = {profiles[key]['depth']}")
    axes[0].set_xlabel("level / depth")
    axes[0].set_ylabel("gates in the level")
    axes[0].set_title("Real circuits (Bristol Fashion)" if missing_data is None else "Bristol data missing")
    axes[1].set_xlabel("level")
    axes[1].set_ylabel("gates in the level")
    axes[1].set_title(f"{n}-bit adders: same function, different shapes")
    for ax in axes:
        ax.legend(fontsize=7)
    section.figure("profiles", "Level-width profiles (ASAP levels; a level holds the gates whose longest "
                   "path from the inputs has that length).", to_png(fig))

    fig, axes = subplots(2, width=5.2, height=3.6)
    for k, ds in adders.items():
        axes[0].plot(p["adder_n"], ds, "o-", ms=4, label=k)
    axes[0].set_xscale("log", base=2)
    axes[0].set_yscale("log", base=2)
    axes[0].set_xlabel("bits n")
    axes[0].set_ylabel("depth")
    axes[0].set_title("Adders: ripple ∝ n, prefix ∝ log n")
    axes[0].legend(fontsize=7)
    axes[1].plot(parity_sizes, parity["parity_chain"], "o-", ms=4, label="parity_chain: n − 1")
    axes[1].plot(parity_sizes, parity["parity_tree"], "s-", ms=4, label="parity_tree: ⌈log₂ n⌉")
    axes[1].set_xscale("log", base=2)
    axes[1].set_yscale("log", base=2)
    axes[1].set_xlabel("inputs n")
    axes[1].set_ylabel("depth")
    axes[1].set_title("Parity: chain versus tree")
    axes[1].legend(fontsize=7)
    section.figure("depth_scaling", "Depth against size for circuits computing the same function.", to_png(fig))
    section.table("profiles", "Size, depth and width", ["circuit", "gates W", "depth D", "AND-depth",
                  "max width", "W / D (average parallelism)"], rows)

    if "sha256" in profiles:
        s = profiles["sha256"]
        section.claim("sha256: gates and depth", f"W = {s['gates']:,}, D = {s['depth']:,}",
                      "W = 135,073, D = 5,332", (s["gates"], s["depth"]) == (135073, 5332))
    if "aes_128" in profiles:
        section.claim("aes_128 depth", f"{profiles['aes_128']['depth']}", "308", profiles["aes_128"]["depth"] == 308)
    if missing_data:
        section.claim("Bristol Fashion circuits loaded", "not found", "sha256, aes_128, ...", False, missing_data)
    chain_ok = all(d == n - 1 for n, d in zip(parity_sizes, parity["parity_chain"]))
    tree_ok = all(d == math.ceil(math.log2(n)) for n, d in zip(parity_sizes, parity["parity_tree"]))
    section.claim("parity_chain(n) depth", f"{parity['parity_chain'][-1]} at n = {parity_sizes[-1]}",
                  "n − 1", chain_ok)
    section.claim("parity_tree(n) depth", f"{parity['parity_tree'][-1]} at n = {parity_sizes[-1]}",
                  "⌈log₂ n⌉", tree_ok)
    ns = np.log2(p["adder_n"])
    ripple_slope = float(np.polyfit(ns, np.log2(adders["ripple_carry_adder"]), 1)[0])
    ks_fit = np.polyfit(ns, adders["kogge_stone_adder"], 1)
    section.claim("ripple-carry depth grows as n", f"log–log slope {ripple_slope:.2f}", "1", abs(ripple_slope - 1) < 0.1)
    section.claim("Kogge–Stone depth grows as log n", f"{ks_fit[0]:.2f} levels per doubling",
                  "constant per doubling", float(np.ptp(np.diff(adders["kogge_stone_adder"]))) <= 2)
    section.claim("Brent bounds max(W/p, D) ≤ makespan ≤ W/p + D", f"{bounds_checked} (circuit, p) cases",
                  "all hold", bounds_ok)


def _bits_of(x: int, n: int) -> list[int]:
    return [(x >> k) & 1 for k in range(n)]


def _correctness(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    bristol_dir()
    checks = []
    sha = load_bristol("sha256")
    iv = int.from_bytes(bytes.fromhex("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19"), "big")
    rng = np.random.default_rng(ctx.seed_for(4, 1))
    for length in (0, 3, 31, 55):
        msg = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        padded = msg + b"\x80" + b"\x00" * (55 - length) + (8 * length).to_bytes(8, "big")
        got = scalar_result(sha.evaluate(int.from_bytes(padded, "big"), iv))
        checks.append({"circuit": "sha256", "input": msg.hex(), "ok": got.to_bytes(32, "big") == hashlib.sha256(msg).digest()})
    aes = load_bristol("aes_128")
    key = int("000102030405060708090a0b0c0d0e0f", 16)
    pt = int("00112233445566778899aabbccddeeff", 16)
    ct = scalar_result(aes.evaluate(key, pt))
    checks.append({"circuit": "aes_128", "input": "FIPS-197 C.1", "ok": ct == 0x69C4E0D86A7B0430D8CDB78070B4C55A})
    adder = load_bristol("adder64")
    a = rng.integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 1000, dtype=np.uint64)
    b = rng.integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 1000, dtype=np.uint64)
    s = adder.evaluate(a, b)
    s = s[0] if isinstance(s, tuple) else s
    checks.append({"circuit": "adder64", "input": "1000 random pairs", "ok": bool(np.array_equal(np.asarray(s, dtype=np.uint64), a + b))})
    section.numbers["correctness"] = checks
    section.table("correctness", "Evaluation against independent references (hashlib, FIPS-197, "
                  "Python integers)", ["circuit", "input", "correct"],
                  [[c["circuit"], c["input"] or "(empty message)", c["ok"]] for c in checks])

    def ok(name: str) -> list[bool]:
        return [c["ok"] for c in checks if c["circuit"] == name]

    sha_ok = ok("sha256")
    section.claim("sha256 circuit = hashlib (one-block messages)", f"{sum(sha_ok)} of {len(sha_ok)} match",
                  "all", all(sha_ok))
    section.claim("aes_128 circuit = FIPS-197 C.1", "match" if all(ok("aes_128")) else "mismatch", "match",
                  all(ok("aes_128")))
    section.claim("adder64 = Python integers mod 2⁶⁴", "match" if all(ok("adder64")) else "mismatch", "match",
                  all(ok("adder64")))


def _pairs(p: dict[str, Any], circuits: Any, Circuit: Any) -> list[tuple[str, str, Any, Any]]:
    pairs = []
    for key in p["pairs"]:
        if key == "parity":
            n = p["parity_n"]
            pairs.append(("parity", f"n = {n}", circuits.parity_chain(n), circuits.parity_tree(n)))
        elif key == "adder":
            n = max(p["adder_n"])
            pairs.append(("adder", f"n = {n}", circuits.ripple_carry_adder(n), circuits.kogge_stone_adder(n)))
        elif key == "sha256":
            sha = load_bristol("sha256")
            t = p["chain_t"]
            pairs.append(("sha256", f"t = {t}", circuits.chain(sha, t), circuits.parallel(sha, t)))
    return pairs


WIDE_DEEP_BLOCK_WORDS = 8  # the smallest block: both shapes' live slots fit in L2, barriers dominate


def levelized_speedup_bounds(c: Any, p: int) -> tuple[float, float]:
    """Speedup bounds of the level-synchronous schedule on p threads, unit-cost operations:
    (gates alone: W / Σ⌈w/p⌉ over the levels; the whole evaluation: the same with the n_in input loads
    and n_out output stores as a level each, as the levelized kernel splits them among its threads)."""
    widths = np.asarray(c.level_widths(), dtype=np.int64)
    gates_steps = int(np.sum(-(-widths // p)))
    whole_work = int(widths.sum()) + c.n_inputs + c.n_outputs
    whole_steps = gates_steps + -(-c.n_inputs // p) + -(-c.n_outputs // p)
    return float(widths.sum()) / max(gates_steps, 1), whole_work / max(whole_steps, 1)


def wide_versus_deep_levelized(deep: Any, wide: Any, threads: int, repeat: int,
                               rng: np.random.Generator) -> tuple[float, int]:
    """Throughput of wide over deep (same gate count), levelized, equal block size, interleaved runs."""
    blocks = 4
    words = WIDE_DEEP_BLOCK_WORDS * blocks
    inputs = {id(c): rng.integers(0, 2**64, (c.n_inputs, words), dtype=np.uint64) for c in (deep, wide)}
    times: dict[int, list[float]] = {id(deep): [], id(wide): []}
    repeats = max(3, 2 * repeat - 1)  # odd, so the median is a measured run
    for _ in range(repeats):
        for c in (deep, wide):
            t0 = time.perf_counter()
            c.evaluate_packed(inputs[id(c)], schedule="levelized", threads=threads,
                              block_words=WIDE_DEEP_BLOCK_WORDS)
            times[id(c)].append(time.perf_counter() - t0)
    rate = {k: (deep if k == id(deep) else wide).work / float(np.median(v)) for k, v in times.items()}
    return rate[id(wide)] / rate[id(deep)], repeats


def _timing(ctx: Context, section: Section, p: dict[str, Any]) -> None:
    import deepcheap_native as dc

    Circuit = dc.Circuit
    circuits = dc.circuits
    pairs = _pairs(p, circuits, Circuit)
    schedules = ("batch", "levelized", "sequential")
    thread_counts = sorted({1, ctx.threads})

    def words_for(c: Any) -> int:
        """Enough 64-vector words that one evaluation does about timing_word_ops gate-word
        operations (milliseconds), so timings are not just thread start-up and scheduler noise."""
        target = p["timing_word_ops"] / max(c.work, 1)
        cap = 2**23 / max(c.n_inputs, 1)  # keep the input array within 64 MiB
        return int(2 ** np.clip(np.round(np.log2(max(min(target, cap), 1))), 6, 12))

    rng = np.random.default_rng(ctx.seed_for(4, 2))
    inputs = {}
    for family, _, deep, wide in pairs:
        for shape, c in (("deep", deep), ("wide", wide)):
            inputs[family, shape] = rng.integers(0, 2**64, (c.n_inputs, words_for(c)), dtype=np.uint64)
    # Cheap configurations first: when the time budget runs out (a levelized run on a busy machine can
    # wait milliseconds at every barrier), only the costliest measurements are left out, and said so.
    order = {"batch": 0, "sequential": 1, "levelized": 2}
    configs = sorted(
        ((family, size, shape, c, sched, k) for family, size, deep, wide in pairs
         for shape, c in (("deep", deep), ("wide", wide)) for sched in schedules
         for k in ([1] if sched == "sequential" else thread_counts)),  # sequential is one thread
        key=lambda cfg: (order[cfg[4]], cfg[5]))
    results, skipped, references = [], [], {}
    before = dc.get_num_threads()
    start = time.perf_counter()
    try:
        with ctx.bar("timing deep vs wide circuits", len(configs)) as bar:
            for family, size, shape, c, sched, k in configs:
                if time.perf_counter() - start > p["timing_budget_s"]:
                    skipped.append({"family": family, "shape": shape, "schedule": sched, "threads": k})
                    bar.update()
                    continue
                x = inputs[family, shape]
                dc.set_num_threads(k)
                t0 = time.perf_counter()
                out = np.asarray(c.evaluate_packed(x, schedule=sched, threads=k))
                first = time.perf_counter() - t0
                reference = references.setdefault((family, shape), out)
                if not np.array_equal(out, reference):
                    raise AssertionError(f"{family} {shape}: schedule {sched} with {k} threads gave different outputs")
                t = min(first, best_time(lambda: c.evaluate_packed(x, schedule=sched, threads=k),
                                         repeat=p["repeat"] - 1, budget=1.0)) if first < 1.0 else first
                W, D = c.work, int(c.depth)
                plan = c.schedule(k)
                makespan, lo, hi = plan.makespan, plan.lower_bound, plan.upper_bound
                results.append({"family": family, "size": size, "shape": shape, "schedule": sched,
                                "threads": k, "seconds": t, "gates": W, "depth": D, "vectors": 64 * x.shape[1],
                                "gate_evals_per_s": W * 64.0 * x.shape[1] / t,
                                "brent_lower": lo, "brent_upper": hi, "makespan": makespan})
                bar.update()
    finally:
        dc.set_num_threads(before)
    results.sort(key=lambda r: ([q[0] for q in pairs].index(r["family"]), r["shape"], r["schedule"], r["threads"]))
    if skipped:
        section.claim("timing configurations measured", f"{len(results)} of {len(results) + len(skipped)}",
                      "all", None, f"time budget of {p['timing_budget_s']} s reached (a busy machine makes "
                      "levelized runs wait at every barrier); left out: "
                      + ", ".join(f"{q['family']} {q['shape']} {q['schedule']} {q['threads']}t" for q in skipped))
    section.numbers["timing"] = {"word_ops_per_evaluation": p["timing_word_ops"], "results": results,
                                 "skipped": skipped, "budget_s": p["timing_budget_s"]}

    fig, axes = subplots(len(pairs), width=4.2, height=3.6)
    axes = np.atleast_1d(axes)
    for ax, (family, size, _, _) in zip(axes, pairs):
        for _j, shape in enumerate(("deep", "wide")):
            for i, sched in enumerate(schedules):
                rs = [r for r in results if r["family"] == family and r["shape"] == shape and r["schedule"] == sched]
                ax.plot([r["threads"] for r in rs], [r["gate_evals_per_s"] for r in rs],
                        "o-" if shape == "deep" else "s--", color=f"C{i}", ms=4, label=f"{shape}, {sched}")
        ax.set_yscale("log")
        ax.set_xticks(thread_counts)
        ax.set_xlabel("threads")
        ax.set_ylabel("gate evaluations / s")
        ax.set_title(f"{family} ({size})")
    axes[0].legend(fontsize=6)
    section.figure("timing", "Throughput of deep (o, solid) and wide (s, dashed) circuits of the same "
                   f"family (each evaluated on enough 64-vector words for about {p['timing_word_ops']:.0e} "
                   "gate-word operations), for each schedule and thread count.", to_png(fig))

    fig, ax = subplots(width=6.0, height=3.8)
    ps = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 1024])
    for i, (family, _size, deep, wide) in enumerate(pairs):
        for shape, c, ls in (("deep", deep, "-"), ("wide", wide, "--")):
            # The levelized kernel also splits loading the inputs and storing the outputs among its threads:
            # the DAG it runs has W + n_in + n_out unit operations and D + 2 levels (issue 15: comparing the
            # measured speedup with the gates-only W / max(W/p, D) put parity's 1.35× above a 1.00× bound).
            W, D = c.work + c.n_inputs + c.n_outputs, int(c.depth) + 2
            ax.fill_between(ps, W / (W / ps + D), W / np.maximum(W / ps, D), color=f"C{i}", alpha=0.15)
            ax.plot(ps, W / np.maximum(W / ps, D), ls, color=f"C{i}", lw=1, label=f"{family} {shape}: W'/max(W'/p, D')")
            rs = [r for r in results if r["family"] == family and r["shape"] == shape and r["schedule"] == "levelized"]
            t1 = [r["seconds"] for r in rs if r["threads"] == 1]
            if t1:
                ax.plot([r["threads"] for r in rs], [t1[0] / r["seconds"] for r in rs], "o" if shape == "deep" else "s",
                        color=f"C{i}", ms=6, mfc="none")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("processors p")
    ax.set_ylabel("speedup over one processor")
    ax.set_title("Brent: speedup ≤ W' / max(W'/p, D'); markers: measured, levelized")
    ax.legend(fontsize=6)
    section.figure("brent", "Speedup allowed by Brent's bounds (band between W'/(W'/p + D') and "
                   "W'/max(W'/p, D')) for each circuit as the levelized schedule runs it: W' = W + n_in + n_out "
                   "unit operations (loading each input, each gate, storing each output) on D' = D + 2 levels, "
                   "with the measured speedup of the levelized schedule on this machine's cores.", to_png(fig))
    rows = [[r["family"], r["shape"], r["schedule"], r["threads"], f"{r['vectors']:,}",
             f"{r['seconds'] * 1e3:.2f} ms", f"{r['gate_evals_per_s']:.3g}", r["depth"], r["gates"]] for r in results]
    section.table("timing", "Measured times", ["family", "shape", "schedule", "threads", "vectors", "best time",
                  "gate-evals/s", "depth", "gates W"], rows)
    kmax = max(thread_counts)
    for family, size, deep, wide in pairs:
        def seconds(shape: str, sched: str, k: int) -> float | None:
            return next((r["seconds"] for r in results if r["family"] == family and r["shape"] == shape
                         and r["schedule"] == sched and r["threads"] == k), None)

        if kmax > 1:
            for shape, c in (("deep", deep), ("wide", wide)):
                sp = {sched: (seconds(shape, sched, 1) / seconds(shape, sched, kmax))
                      if seconds(shape, sched, 1) and seconds(shape, sched, kmax) else None
                      for sched in ("batch", "levelized")}
                W, D = c.work, int(c.depth)
                gates_only, whole = levelized_speedup_bounds(c, kmax)
                section.claim(f"{family} {shape} (W = {W:,}, D = {D:,}): speedup 1 → {kmax} threads",
                              ", ".join(f"{k} {v:.2f}×" if v else f"{k} not measured" for k, v in sp.items()),
                              f"levelized ≤ {whole:.2f}× (gates alone ≤ {gates_only:.2f}×)", None,
                              "Bound of the level-synchronous schedule with unit-cost operations: "
                              "Σ w / Σ ⌈w/p⌉ over the levels, the input loads and output stores (which the "
                              "levelized kernel splits among its threads too) counted as levels of their own; "
                              "a load reads a strided input row and costs more than a gate, so a measured "
                              "speedup can sit slightly above it. Batch splits vectors, not levels, and is "
                              "bounded by the thread count only.")
        if kmax > 1:
            ratio, repeats = wide_versus_deep_levelized(deep, wide, kmax, p["repeat"], rng)
            section.claim(f"{family} ({size}): levelized, wide vs deep, {kmax} threads, equal blocks",
                          f"wide {ratio:.2f}× the throughput of deep",
                          f"> 1: deep waits at {int(deep.depth) / max(int(wide.depth), 1):.1f}× the barriers "
                          f"(D = {int(deep.depth):,} vs {int(wide.depth):,}) for the same work",
                          ratio > 1.0,
                          f"Both shapes on the same {WIDE_DEEP_BLOCK_WORDS * 64} vectors per block (block_words="
                          f"{WIDE_DEEP_BLOCK_WORDS}), so the number of blocks, the work per block and the cache "
                          f"footprint per slot are equal and only the levels differ; median of {repeats} "
                          "interleaved runs. (With the default block size the wide circuit's larger live set "
                          "picks smaller blocks, hence more barriers per vector, and the two came out equal.)")
