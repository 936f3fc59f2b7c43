"""Smoke test of an installed deepcheap-native: one call per area, checked against an independent
reference, plus the packaging promises (compressed circuit data, no torch on import, the CLI).

Runs in the suite (pytest) and on its own against a freshly installed wheel, from an empty folder and
with numpy as the only dependency: ``python tests/test_wheel_smoke.py`` (see .ci/wheel, which sets
DEEPCHEAP_WHEEL_SMOKE=1 to also require the vendored libgomp and the manylinux tag).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import deepcheap_native as dc

PACKAGE = Path(dc.__file__).resolve().parent


def test_installed_circuit_data_is_compressed_and_small():
    data = dc.circuits.installed_bristol_folder()
    compressed = sorted(data.glob("*.txt.xz"))
    assert {p.name.removesuffix(".txt.xz") for p in compressed} == set(dc.circuits.BRISTOL_CIRCUITS)
    assert not [p for p in data.glob("*.txt") if p.name != "License.txt"]  # no uncompressed copies
    total = sum(p.stat().st_size for p in data.iterdir())
    assert total <= 2_000_000, f"{total} bytes of installed circuit data (goal: at most 2 MB)"


def test_one_call_per_area():
    rng = np.random.default_rng(0)
    # product: the deep network multiplies (the λ² law at λ = 0.01 bounds the error far below 1e-3).
    x = rng.uniform(0.5, 1.0, (100, 8))
    assert np.max(np.abs(dc.product_network(8)(x) / x.prod(1) - 1)) < 1e-3
    # markov: a deterministic cycle 0 -> 1 -> 2 -> 0 lands where arithmetic says.
    cycle = dc.MarkovChain(np.roll(np.eye(3), 1, axis=1))
    assert np.array_equal(cycle.sample(5, 7, init=0, seed=1), np.full(5, 7 % 3))
    # info: the entropy of a fair 4-valued sample is near 2 bits.
    assert abs(dc.info.entropy(rng.integers(0, 4, 100_000), base=2).value - 2) < 0.01
    # ising: at T = 0.5 (far below T_c) a lattice started all up stays almost fully magnetised.
    s = dc.IsingModel(8).sampler(0.5, replicas=64, seed=0, init="up")
    assert s.sweep(10).spins.mean() > 0.99
    # circuit: the shipped SHA-256 circuit is hashlib's compression function.
    sha = dc.circuits.bristol("sha256")
    iv = int("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19", 16)
    block = int.from_bytes(b"abc" + b"\x80" + bytes(52) + (24).to_bytes(8, "big"), "big")
    assert sha.evaluate(block, iv).to_bytes(32, "big") == hashlib.sha256(b"abc").digest()
    # random: Random123's known-answer vector for Philox4x32-10 (counter = key = all ones).
    ones = np.full(4, 0xFFFFFFFF, np.uint32)
    got = dc.random.philox4x32(ones, ones[:2])
    assert got.tolist() == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]


def test_cuda_module_is_optional_at_run_time():
    """With or without _cuda installed, and on a machine without a GPU, the package imports, CPU calls
    work, and device="cuda" is a clear RuntimeError naming what is missing (never an import failure)."""
    import importlib.util

    has_module = importlib.util.find_spec("deepcheap_native._cuda") is not None
    if dc.cuda.is_available():
        return  # a GPU machine: tests/test_cuda.py covers it
    assert dc.cuda.device_count() == 0
    chain = dc.MarkovChain(np.roll(np.eye(3), 1, axis=1))
    try:
        chain.sample(4, 3, init=0, seed=1, device="cuda")
    except RuntimeError as exc:
        expected = "no CUDA device is usable" if has_module else "has no CUDA drivers"
        assert "device cuda:0 requested" in str(exc) and expected in str(exc), str(exc)
    else:
        raise AssertionError('device="cuda" ran on a machine without a usable GPU')


def test_importing_the_package_does_not_import_torch():
    code = "import sys, deepcheap_native, deepcheap_native.circuits; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_command_line_help():
    script = Path(sys.executable).parent / "deepcheap"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "deepcheap_native.cli"]
    result = subprocess.run([*command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "report" in result.stdout and "bench" in result.stdout


def check_repaired_wheel() -> None:
    """Only for an installed auditwheel-repaired wheel: libgomp is vendored and the tag is manylinux."""
    site = PACKAGE.parent
    vendored = list((site / "deepcheap_native.libs").glob("libgomp*.so*"))
    assert vendored, f"no vendored libgomp in {site / 'deepcheap_native.libs'}"
    wheel_files = list(site.glob("deepcheap_native-*.dist-info/WHEEL"))
    tags = [line for line in wheel_files[0].read_text().splitlines() if line.startswith("Tag:")]
    assert tags and all("manylinux" in t for t in tags), tags


if __name__ == "__main__":
    source = Path(__file__).resolve().parents[1] / "python"
    assert not PACKAGE.is_relative_to(source), f"{PACKAGE} is the source tree: run against an installed copy"
    checks = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    if os.environ.get("DEEPCHEAP_WHEEL_SMOKE"):
        checks.append(check_repaired_wheel)
    for check in checks:
        check()
        print(f"ok  {check.__name__}")
    print(f"deepcheap-native {dc.__version__} from {PACKAGE}: smoke test passed")
