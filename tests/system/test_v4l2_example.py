"""examples/v4l2_capture.py: the same capture graph on a generated clip, as CI runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LINE = re.compile(r"frame (\d+): (\S+) uint8, mean RGB \(([\d.]+), ([\d.]+), ([\d.]+)\)")

pytest.importorskip("av")


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "v4l2_capture.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def frames(stdout: str) -> list[tuple[int, str, np.ndarray]]:
    found = [LINE.fullmatch(line) for line in stdout.splitlines() if line.startswith("frame ")]
    assert all(found), stdout
    return [(int(m[1]), m[2], np.array([float(m[3]), float(m[4]), float(m[5])])) for m in found]


def expected_means() -> list[np.ndarray]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from v4l2_capture import CLIP_FRAMES, make_frame
    finally:
        sys.path.remove(str(EXAMPLES))
    return [make_frame(k).reshape(-1, 3).mean(axis=0) for k in range(CLIP_FRAMES)]


def test_the_default_run_captures_the_generated_clip_as_rgba():
    result = run_example()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no --device given: capturing a generated clip")
    assert lines[-1] == "captured 10 frames"
    captured = frames(result.stdout)
    assert [(i, size) for i, size, _ in captured] == [(i, "240x320x4") for i in range(10)]
    for (_, _, mean), expected in zip(captured, expected_means(), strict=True):
        assert np.abs(mean - expected).max() < 0.06  # the clip is lossless: only the rounding


def test_yuyv_pass_through_goes_through_the_format_converter():
    result = run_example("--pass-through", "--pixel-format", "YUYV", "--frames", "4")
    assert result.returncode == 0, result.stderr
    captured = frames(result.stdout)
    assert [size for _, size, _ in captured] == ["240x320x3"] * 4
    for (_, _, mean), expected in zip(captured, expected_means(), strict=False):
        assert np.abs(mean - expected).max() < 4  # 4:2:2 chroma and limited-range YUV


def test_mjpeg_frames_at_a_requested_size():
    pytest.importorskip("PIL")
    result = run_example("--pixel-format", "MJPG", "--width", "160", "--height", "120", "--frames", "3")
    assert result.returncode == 0, result.stderr
    captured = frames(result.stdout)
    assert [size for _, size, _ in captured] == ["120x160x4"] * 3
    for (_, _, mean), expected in zip(captured, expected_means(), strict=False):
        assert np.abs(mean - expected).max() < 1.5
    assert result.stdout.splitlines()[-1] == "captured 3 frames"


def test_a_missing_camera_exits_with_the_devices_found():
    result = run_example("--device", "/dev/video_holoflow_missing")
    assert result.returncode == 1
    assert "error: operator 'source': no V4L2 device '/dev/video_holoflow_missing'" in result.stderr
    assert "V4L2 capture devices found:" in result.stderr
