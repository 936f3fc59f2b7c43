#!/usr/bin/env bash
# The prepared GPU check (issue 10 §3): on a machine with an NVIDIA GPU, build with CUDA, run
# tests/test_cuda.py (GPU against CPU, bit for bit / within the stated bounds), then time every hot
# path on the GPU against the CPU (all cores) in the same run and print one table, also written to
# $OUT/gpu_check.md when $OUT is set (else ./gpu_check.md). Target: under 8 minutes on one H200.
#
# Nothing is downloaded: the Python in use (PYTHON, default python3) must already have numpy, pytest,
# pybind11, scikit-build-core, cmake and ninja; the build uses --no-build-isolation --no-deps.
# Usage: bash benchmarks/gpu_check.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT_DIR=${OUT:-.}
start=$(date +%s)

missing=$("$PY" - <<'PYEOF'
import importlib.util
need = ["numpy", "pytest", "pybind11", "scikit_build_core"]
print(" ".join(m for m in need if importlib.util.find_spec(m) is None))
PYEOF
)
if [[ -n "$missing" ]]; then
  echo "gpu_check: $PY lacks: $missing (nothing can be fetched here; install them first)" >&2
  exit 2
fi
command -v nvcc >/dev/null || { echo "gpu_check: nvcc not on PATH; the _cuda module cannot be built" >&2; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

if [[ "${1:-}" != "--no-build" ]]; then
  echo "== build (DEEPCHEAP_CUDA=ON, sm_80 + sm_90 + compute_90 PTX)"
  DEEPCHEAP_CUDA=ON "$PY" -m pip install -q --no-build-isolation --no-deps -Cbuild-dir=build/gpu .
  echo "   built in $(( $(date +%s) - start )) s"
fi

echo "== tests/test_cuda.py"
"$PY" -m pytest tests/test_cuda.py -q -rs -p no:cacheprovider

echo "== timings (GPU vs CPU, same run)"
"$PY" benchmarks/gpu_check.py "$OUT_DIR/gpu_check.md"
echo "gpu_check finished in $(( $(date +%s) - start )) s"
