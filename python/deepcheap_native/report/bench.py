"""`deepcheap bench`: run the benchmarks/ suite (pytest-benchmark, native beside its peers in the same
process) and turn its JSON into a comparison table of peer/native ratios of time per unit of work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .output import text_table

NATIVE_MARKERS = ("native", "deepcheap")


def find_benchmarks(path: str | None) -> Path:
    """The benchmarks folder: `path`, or ./benchmarks in the working directory or a parent of it."""
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"--path {path}: no such folder")
        if not any(folder.glob("bench_*.py")):
            # Without files pytest would collect the folder's parent (from / the whole filesystem).
            raise FileNotFoundError(f"--path {path}: no bench_*.py files in that folder; pass the "
                                    "repository's benchmarks/ folder")
        return folder.resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        folder = candidate / "benchmarks"
        if folder.is_dir() and any(folder.glob("bench_*.py")):
            return folder
    raise FileNotFoundError(
        "no benchmarks/ folder with bench_*.py files here or in a parent folder; run from the "
        "repository (the suite is not installed with the package) or pass --path DIR"
    )


def is_native(bench: dict[str, Any]) -> bool:
    name = (bench.get("name") or "").lower()
    return any(m in name for m in NATIVE_MARKERS)


# Rates benchmarks record in extra_info, with the factor that turns each into units per second.
RATE_KEYS = {"rate_per_s": 1.0, "gate_evals_per_s": 1.0, "compressions_per_s": 1.0,
             "M_transitions_per_s": 1e6, "flips_per_ns": 1e9}


def seconds_per_unit(bench: dict[str, Any]) -> float | None:
    """The median time per unit of work (a transition, a gate evaluation, a spin flip...), from the
    work a benchmark records in extra_info: ``units``, ``transitions``, ``gates`` x ``vectors``, or one
    of RATE_KEYS. None when it records none (then only whole calls can be compared)."""
    info = bench.get("extra_info") or {}
    median = bench["stats"]["median"]
    for key in ("units", "transitions"):
        if info.get(key):
            return median / info[key]
    if info.get("gates") and info.get("vectors"):
        return median / (info["gates"] * info["vectors"])
    for key, scale in RATE_KEYS.items():
        if info.get(key):
            return 1.0 / (info[key] * scale)
    return None


def comparison_rows(benchmarks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per benchmark: group, name, median seconds, and the peer/native ratio.

    Peers often time a fraction of the work (torch alias 10 % of the steps, multinomial 2 %), so the
    ratio compares time per unit of work (`seconds_per_unit`) whenever every benchmark of the group
    records its work; otherwise whole calls (``basis`` says which). Within a group the reference is
    the fastest benchmark whose name says native (or deepcheap); a ratio above 1 means the native code
    is that many times faster than the peer.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for b in benchmarks:
        groups.setdefault(b.get("group") or "(no group)", []).append(b)
    rows = []
    for group in sorted(groups):
        per_unit = {id(b): seconds_per_unit(b) for b in groups[group]}
        basis = "per unit" if all(v is not None for v in per_unit.values()) else "per call"

        def cost(b: dict[str, Any]) -> float:
            return per_unit[id(b)] if basis == "per unit" else b["stats"]["median"]

        members = sorted(groups[group], key=cost)
        natives = [b for b in members if is_native(b)]
        reference = cost(natives[0]) if natives else None
        for b in members:
            rows.append({
                "group": group,
                "name": b["name"],
                "native": is_native(b),
                "median_s": b["stats"]["median"],
                "rounds": b["stats"].get("rounds"),
                "basis": basis,
                "ratio": (cost(b) / reference) if reference else None,
            })
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| group | benchmark | median | peer / native | basis |", "|---|---|---:|---:|---|"]
    for r in rows:
        ratio = "—" if r["ratio"] is None else ("native" if r["native"] else f"{r['ratio']:.1f}×")
        lines.append(f"| {r['group']} | {r['name']} | {_seconds(r['median_s'])} | {ratio} | {r['basis']} |")
    return "\n".join(lines) + "\n"


def _seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} µs"


def run_bench(folder: Path, out: Path, *, keyword: str | None = None, min_rounds: int = 3,
              threads: int | None = None, limits: str = "quick") -> int:
    """Run pytest-benchmark over `folder`; write out/bench.json, out/bench.md; print the table. Then,
    unless `limits` is "off", measure the roofline (testing/roofline.py; "quick" or "full" sizes) on 1
    thread and on `threads` (default all cores): its table is appended to bench.md as "Limits" and
    its rows written to out/limits.json."""
    json_path = out.resolve() / "bench.json"
    # Files are named explicitly: bench_*.py does not match pytest's default python_files pattern.
    files = [str(f) for f in sorted(folder.glob("bench_*.py"))]
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider",
           "--benchmark-enable", "--benchmark-only", f"--benchmark-min-rounds={min_rounds}",
           f"--benchmark-json={json_path}", "--benchmark-columns=min,median,max,rounds"]
    if keyword:
        cmd += ["-k", keyword]
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    print("deepcheap bench: " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    try:
        status = subprocess.run(cmd, cwd=folder.parent, env=env).returncode
    except FileNotFoundError as exc:  # pragma: no cover - the interpreter itself vanished
        print(f"deepcheap: error: cannot run pytest: {exc}", file=sys.stderr)
        return 1
    if not json_path.exists():
        print("deepcheap: error: the benchmark run wrote no results (is pytest-benchmark installed? "
              "pip install 'deepcheap-native[bench]')", file=sys.stderr)
        return 1
    data = json.loads(json_path.read_text())
    rows = comparison_rows(data.get("benchmarks", []))
    text = markdown_table(rows)
    print(text_table(["group", "benchmark", "median", "peer / native", "basis"],
                     [[r["group"], r["name"], _seconds(r["median_s"]),
                       "—" if r["ratio"] is None else ("native" if r["native"] else f"{r['ratio']:.1f}x"),
                       r["basis"]] for r in rows], max_width=60))
    written = [out / "bench.md", json_path]
    if limits != "off":
        from ..testing import roofline

        print(f"\ndeepcheap bench: measuring the limits ({limits} sizes)", file=sys.stderr, flush=True)
        limit_rows = roofline.roofline(quick=limits == "quick", threads=None if threads is None else [1, threads])
        table = roofline.markdown(limit_rows)
        text += ("\n## Limits\n\nEach hot path's rate beside the limit this machine sets it, both "
                 "measured in this run (the model of each kernel: deepcheap_native/testing/roofline.py "
                 "and the docs' performance page).\n\n" + table)
        print("\n" + table)
        (out / "limits.json").write_text(json.dumps(limit_rows, indent=1), encoding="utf-8")
        written.append(out / "limits.json")
    (out / "bench.md").write_text(text, encoding="utf-8")
    print("\nwrote " + ", ".join(str(p) for p in written))
    if status != 0:
        print(f"deepcheap: error: pytest exited with status {status} (a benchmark failed its "
              "correctness assertion or could not run); the table shows what ran", file=sys.stderr)
        return 1
    return 0
