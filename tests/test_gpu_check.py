"""benchmarks/gpu_check.py, the timing half of the prepared GPU check, run end to end at a tiny scale
through the CPU emulation of the CUDA drivers: every row must check its GPU answer against the CPU and
produce a line of the table (nothing here is a timing claim; the table says it is emulated)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("deepcheap_native._cuda_emulated", reason="built with DEEPCHEAP_CUDA_EMULATION=OFF")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_gpu_check_rows_run_under_emulation(tmp_path):
    table = tmp_path / "gpu_check.md"
    env = dict(os.environ, DEEPCHEAP_CUDA_EMULATION="1", GPU_CHECK_SCALE="4096", DEEPCHEAP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(SCRIPT), str(table)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = table.read_text()
    assert "EMULATED on the CPU: not a GPU measurement" in text and "sizes / 4096" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| hot path")]
    assert len(rows) == 16, text
    assert not any("failed" in line for line in rows), text
    assert sum("device arrays" in line for line in rows) == 7
