"""The logging and decorator examples (examples/logging_levels.py,
examples/operators_from_functions.py) and the code in their guides run and print what they say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG_VARIABLES = ("HOLOFLOW_LOG_LEVEL", "HOLOSCAN_LOG_LEVEL", "HOLOFLOW_LOG_FORMAT", "HOLOSCAN_LOG_FORMAT")


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in LOG_VARIABLES}
    child_env.update(env)
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env=child_env, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_operators_from_functions():
    out = run([str(ROOT / "examples" / "operators_from_functions.py")])
    assert out.stdout.splitlines() == [
        "frame 0: left mean 0.0, right mean 0.0",
        "stats after 1 frames: running mean 0.00, peak 0.0",
        "frame 1: left mean 1.0, right mean 2.0",
        "stats after 2 frames: running mean 0.75, peak 2.0",
        "frame 2: left mean 2.0, right mean 4.0",
        "stats after 3 frames: running mean 1.50, peak 4.0",
    ]


def ticks(levels: list[str], fmt: str) -> list[str]:
    return [fmt.format(tick=t, level=level) for t in (1, 2) for level in levels]


def test_logging_levels_default():
    out = run([str(ROOT / "examples" / "logging_levels.py")])
    assert out.stdout == "log level: INFO\n"
    lines = [re.sub(r":\d+\]", ":N]", line) for line in out.stderr.splitlines()]
    assert lines == ticks(
        ["info", "warning", "error"], "[{level}] [logging_levels.py:N] tick {tick}: {level}"
    )


def test_logging_levels_with_a_level_and_a_pattern():
    out = run([str(ROOT / "examples" / "logging_levels.py"), "--level", "DEBUG", "--pattern", "%L %v"])
    assert out.stdout == "log level: DEBUG\n"
    assert out.stderr.splitlines() == [
        f"{level[0].upper()} tick {t}: {level}"
        for t in (1, 2)
        for level in ("debug", "info", "warning", "error")
    ]


def test_logging_levels_debug_uses_the_full_pattern():
    out = run([str(ROOT / "examples" / "logging_levels.py"), "--level", "DEBUG"])
    first = out.stderr.splitlines()[0]
    pattern = (
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[\d+\] \[holoflow\.examples\.logging_levels\] "
        r"\[debug\] \[logging_levels\.py:\d+\] tick 1: debug"
    )
    assert re.fullmatch(pattern, first), first


@pytest.mark.parametrize(
    ("env", "level", "shown"),
    [
        ({"HOLOSCAN_LOG_LEVEL": "ERROR"}, "ERROR", ["error"]),
        ({"HOLOSCAN_LOG_LEVEL": "ERROR", "HOLOFLOW_LOG_LEVEL": "warn"}, "WARN", ["warning", "error"]),
        ({"HOLOSCAN_LOG_LEVEL": "off"}, "OFF", []),
    ],
)
def test_logging_levels_environment_wins(env, level, shown):
    out = run([str(ROOT / "examples" / "logging_levels.py"), "--level", "DEBUG"], **env)
    assert out.stdout == f"log level: {level}\n"
    assert [line.split("] ")[-1] for line in out.stderr.splitlines()] == ticks(shown, "tick {tick}: {level}")


def test_logging_format_variable_wins():
    out = run(
        [str(ROOT / "examples" / "logging_levels.py"), "--pattern", "LONG"], HOLOSCAN_LOG_FORMAT="short"
    )
    assert out.stderr.splitlines()[:3] == [
        "[info] tick 1: info",
        "[warning] tick 1: warning",
        "[error] tick 1: error",
    ]


@pytest.mark.parametrize("guide", ["decorator.md", "logging.md"])
def test_the_guides_code_runs(guide, tmp_path):
    text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    script = tmp_path / "guide.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    out = run([str(script)])
    if guide == "decorator.md":
        assert out.stdout.splitlines() == ["show: 0.0", "show: 0.5", "show: 1.0"]
