#!/usr/bin/env bash
# CuPy arrays between processes on one GPU, on a GPU machine: the tests, then the benchmark.
#
# Run from the repository root with the wheels (holoflow's dependencies, pyzmq, cupy-cuda12x or
# cupy-cuda13x) already installed; everything lands under "$OUT":
#   test_distributed_cupy.xml / .log   pytest -v of tests/gpu/test_distributed_cupy.py
#   distributed_gpu.json / .log        benchmarks/distributed_gpu.py (host staging vs CUDA IPC)
#   nvidia-smi.txt                     the GPU it ran on
# Exits non-zero if the tests or the benchmark failed (the benchmark runs either way).
set -uo pipefail
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:?set OUT to the folder for the results}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true

"$PYTHON" -m pytest -v -p no:cacheprovider tests/gpu/test_distributed_cupy.py \
    --junitxml="$OUT/test_distributed_cupy.xml" 2>&1 | tee "$OUT/test_distributed_cupy.log"
tests=$?

"$PYTHON" benchmarks/distributed_gpu.py --out "$OUT/distributed_gpu.json" 2>&1 | tee "$OUT/distributed_gpu.log"
bench=$?

echo "tests exit $tests, benchmark exit $bench" | tee "$OUT/status.txt"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
