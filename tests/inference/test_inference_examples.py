"""The inference examples run as scripts and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_inference_function_backend():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "inference_function_backend.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"frame {i}: object area {(2 * i) ** 2} pixels" for i in range(1, 4)
    ]
