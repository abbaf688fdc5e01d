"""Examples that take a ``--device cuda`` flag give the CPU's results on the GPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "device_agnostic_operator.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_device_agnostic_operator_on_cuda_matches_the_cpu():
    cpu = _run("--device", "cpu")
    cuda = _run("--device", "cuda")
    assert len(cpu) == 3
    assert [line.replace("cuda frame", "cpu frame") for line in cuda] == cpu
    assert all(line.startswith("cuda frame") for line in cuda)
