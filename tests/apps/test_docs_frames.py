"""The app frames shown in ``docs/sample_apps.md`` are what the apps render: frame 40 of each,
rendered again, matches the committed picture (JPEG, so within a small mean difference)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
Image = pytest.importorskip("PIL.Image", reason="pillow (the test extra) reads the pictures")
pytest.importorskip("onnxruntime", reason="the apps infer with ONNX Runtime")

FRAMES = {
    "ultrasound_segmentation": ROOT / "docs" / "images" / "frame_ultrasound_segmentation.jpg",
    "endoscopy_tool_tracking": ROOT / "docs" / "images" / "frame_endoscopy_tool_tracking.jpg",
}


@pytest.mark.slow
@pytest.mark.parametrize("app", sorted(FRAMES))
def test_the_documented_frame_is_what_the_app_renders(app, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"holoflow.apps.{app}",
            "--headless",
            "--count",
            "40",
            "--output",
            "f.png",
            "--quiet",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rendered = np.asarray(Image.open(tmp_path / "f_00039.png").convert("RGB"), dtype=np.float64)
    shown = np.asarray(Image.open(FRAMES[app]).convert("RGB"), dtype=np.float64)
    assert rendered.shape == shown.shape
    assert np.abs(rendered - shown).mean() < 4.0, "regenerate the picture: see docs/sample_apps.md"
    assert f"images/{FRAMES[app].name}" in (ROOT / "docs" / "sample_apps.md").read_text(encoding="utf-8")
