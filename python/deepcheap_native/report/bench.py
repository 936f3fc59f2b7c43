"""`deepcheap bench`: run the benchmarks/ suite (pytest-benchmark, native beside its peers in the same
process) and turn its JSON into a comparison table of peer/native time ratios."""

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


def comparison_rows(benchmarks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per benchmark: group, name, median seconds, and peer/native median ratio.

    Within a group the reference is the fastest benchmark whose name says native (or deepcheap);
    a ratio above 1 means the native code is that many times faster than the peer.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for b in benchmarks:
        groups.setdefault(b.get("group") or "(no group)", []).append(b)
    rows = []
    for group in sorted(groups):
        members = sorted(groups[group], key=lambda b: b["stats"]["median"])
        natives = [b for b in members if is_native(b)]
        reference = natives[0]["stats"]["median"] if natives else None
        for b in members:
            median = b["stats"]["median"]
            rows.append({
                "group": group,
                "name": b["name"],
                "native": is_native(b),
                "median_s": median,
                "rounds": b["stats"].get("rounds"),
                "ratio": (median / reference) if reference else None,
            })
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| group | benchmark | median | peer / native |", "|---|---|---:|---:|"]
    for r in rows:
        ratio = "—" if r["ratio"] is None else ("native" if r["native"] else f"{r['ratio']:.1f}×")
        lines.append(f"| {r['group']} | {r['name']} | {_seconds(r['median_s'])} | {ratio} |")
    return "\n".join(lines) + "\n"


def _seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} µs"


def run_bench(folder: Path, out: Path, *, keyword: str | None = None, min_rounds: int = 3,
              threads: int | None = None) -> int:
    """Run pytest-benchmark over `folder`; write out/bench.json, out/bench.md; print the table."""
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
    (out / "bench.md").write_text(markdown_table(rows), encoding="utf-8")
    print(text_table(["group", "benchmark", "median", "peer / native"],
                     [[r["group"], r["name"], _seconds(r["median_s"]),
                       "—" if r["ratio"] is None else ("native" if r["native"] else f"{r['ratio']:.1f}x")]
                      for r in rows], max_width=60))
    print(f"\nwrote {out / 'bench.md'} and {json_path}")
    if status != 0:
        print(f"deepcheap: error: pytest exited with status {status} (a benchmark failed its "
              "correctness assertion or could not run); the table shows what ran", file=sys.stderr)
        return 1
    return 0
