"""The package as installed: location, stub, threads, SIMD targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import deepcheap_native as dc


def test_imports_installed_package_not_source_tree():
    location = Path(dc.__file__).resolve()
    assert "site-packages" in location.parts or "dist-packages" in location.parts, location
    assert (location.parent / "py.typed").exists()
    assert (location.parent / "_core.pyi").exists()


# The stub against the module: tests/test_stubs.py.


def test_threads_roundtrip_and_errors():
    before = dc.get_num_threads()
    assert before >= 1
    try:
        dc.set_num_threads(1)
        assert dc.get_num_threads() == 1
        dc.set_num_threads(3)
        assert dc.get_num_threads() == 3
    finally:
        dc.set_num_threads(before)
    with pytest.raises(ValueError, match=">= 1"):
        dc.set_num_threads(0)
    with pytest.raises(TypeError, match="integer"):
        dc.set_num_threads(1.5)


def test_default_threads_is_cores():
    code = "import deepcheap_native as dc; print(dc.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert int(out.stdout) == os.cpu_count()


def test_simd_targets():
    targets = dc.simd_targets()
    assert targets[0] == "scalar" and dc.simd_target() in targets
    with pytest.raises(ValueError, match="unknown SIMD target"):
        dc.set_simd_target("neon")


def test_simd_env_variable_forces_target():
    code = "import deepcheap_native as dc; print(dc.simd_target())"
    env = dict(os.environ, DEEPCHEAP_SIMD="scalar")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "scalar"


def test_no_march_native_in_build():
    root = Path(__file__).resolve().parents[1]
    for name in ("CMakeLists.txt", "pyproject.toml"):
        assert "march=native" not in (root / name).read_text()


def test_one_version_number():
    """pyproject reads the version from __init__.py (scikit-build-core's regex provider): one source."""
    from importlib import metadata

    assert dc.__version__ == metadata.version("deepcheap-native")
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject
