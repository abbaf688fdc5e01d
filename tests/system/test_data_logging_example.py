"""``examples/data_logging.py``: the CPU twin of Holoscan's ``tensor_interop`` data logging."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ID = re.compile(r"(Basic|Async)ConsoleLogger\[ID:([^\]]+)\]")


def run(*args: str) -> tuple[str, list[tuple[str, str]], str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "data_logging.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, ID.findall(result.stderr), result.stderr


def test_every_message_is_logged_as_a_summary():
    stdout, ids, stderr = run("--frames", "3")
    assert stdout.splitlines() == ["frame 0: mean 0.0", "frame 1: mean 10.0", "frame 2: mean 20.0"]
    assert [i for _, i in ids] == ["source.out", "smooth.in", "smooth.out", "sink.in"] * 3
    assert {who for who, _ in ids} == {"Basic"}  # GXFConsoleLogger writes Holoscan's prefix
    assert stderr.count("Tensor(shape=[48, 64], dtype=float32, device=kDLCPU:0") == 12
    assert "data=" not in stderr and "MetadataDictionary" not in stderr


@pytest.mark.parametrize("extra", [(), ("--deny", "sink\\.")])
def test_async_logger_and_deny_pattern(extra):
    stdout, ids, _ = run("--frames", "4", "--async", *extra)
    assert len(stdout.splitlines()) == 4
    expected = ["source.out", "smooth.in", "smooth.out"] + ([] if extra else ["sink.in"])
    assert {who for who, _ in ids} == {"Async"}
    assert sorted(i for _, i in ids) == sorted(expected * 4)
