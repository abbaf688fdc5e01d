"""The sample apps from the command line: the README's demo, PNG output, errors, the summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holoflow.apps import run
from holoflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^(\w+) \((\w+)\): (\d+) frames in [\d.]+ s \(([\d.]+) fps\); "
    r"frame latency p50 ([\d.]+) ms, p99 ([\d.]+) ms, max [\d.]+ ms$"
)


def test_readme_demo_writes_a_video_that_decodes(sample_data, tmp_path):
    """``python -m holoflow.apps.ultrasound_segmentation --headless --output ultrasound.mp4``."""
    av = pytest.importorskip("av")
    video = tmp_path / "ultrasound.mp4"
    env = {**os.environ, "HOLOFLOW_DATA": str(sample_data)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "holoflow.apps.ultrasound_segmentation", "--headless"]
    result = subprocess.run(
        [*command, "--output", str(video), "--count", "12"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    match = SUMMARY.match(lines[0])
    assert match, lines
    assert match.groups()[:3] == ("ultrasound_segmentation", "onnxrt", "12")
    assert float(match[4]) > 0 and 0 < float(match[5]) <= float(match[6])
    assert lines[1] == f"wrote 12 frames to {video}"
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 12
    assert frames[0].shape == (512, 512, 3)
    assert 20 < frames[-1].mean() < 200  # a picture, neither black nor blank


def test_holoflow_run_writes_png_frames(sample_data, tmp_path, capsys):
    from PIL import Image

    status = main(
        ["run", "endoscopy_tool_tracking", "--headless", "--count", "3", "--data", str(sample_data)]
        + ["--output", str(tmp_path / "frames" / "tools.png")]
    )
    assert status == 0
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["tools_00000.png", "tools_00001.png", "tools_00002.png"]
    with Image.open(tmp_path / "frames" / names[-1]) as image:
        assert image.size == (768, 432) and image.mode == "RGB"
    out = capsys.readouterr().out.splitlines()
    assert SUMMARY.match(out[0]).groups()[:3] == ("endoscopy_tool_tracking", "onnxrt", "3")


def test_a_bad_output_name_is_reported(sample_data, tmp_path, capsys):
    status = run("ultrasound_segmentation", ["--headless", "--data", str(sample_data), "--output", "x.gif"])
    assert status == 2
    assert capsys.readouterr().err == (
        "ultrasound_segmentation: error: --output x.gif: use a video file (.mp4, .mkv, .mov, .avi) "
        "or a .png pattern\n"
    )


def test_a_missing_config_is_reported(tmp_path, capsys):
    status = run("endoscopy_tool_tracking", ["--headless", "--config", str(tmp_path / "none.yaml")])
    assert status == 2
    assert capsys.readouterr().err == (
        f"endoscopy_tool_tracking: error: endoscopy_tool_tracking: config file not found: "
        f"{tmp_path / 'none.yaml'}\n"
    )


def test_a_bad_config_value_names_the_operator(sample_data, tmp_path, capsys):
    config = (
        Path(__file__).resolve().parents[2]
        / "holoflow/apps/ultrasound_segmentation/ultrasound_segmentation.yaml"
    )
    text = config.read_text().replace("network_output_type: softmax", "network_output_type: softmin")
    (tmp_path / "bad.yaml").write_text(text)
    status = run(
        "ultrasound_segmentation",
        ["--headless", "--data", str(sample_data), "--config", str(tmp_path / "bad.yaml")],
    )
    assert status == 2
    assert capsys.readouterr().err.startswith(
        "ultrasound_segmentation: error: operator 'segmentation_postprocessor': network_output_type must be"
    )


def test_a_missing_model_file_is_reported(sample_data, tmp_path, capsys):
    config = (
        Path(__file__).resolve().parents[2]
        / "holoflow/apps/ultrasound_segmentation/ultrasound_segmentation.yaml"
    )
    text = config.read_text().replace('"us_unet_256x256_nhwc"', '"no_such_model"')
    (tmp_path / "bad.yaml").write_text(text)
    status = run(
        "ultrasound_segmentation",
        ["--headless", "--data", str(sample_data), "--config", str(tmp_path / "bad.yaml")],
    )
    assert status == 2
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"ultrasound_segmentation: error: model file not found: .*/no_such_model\.onnx\n", err
    )


def test_unknown_app_and_bad_flags(capsys):
    with pytest.raises(
        ValueError,
        match=r"^unknown sample app 'mri'; available: endoscopy_tool_tracking, ultrasound_segmentation$",
    ):
        run("mri")
    with pytest.raises(SystemExit) as exited:
        run("ultrasound_segmentation", ["--count", "-1"])
    assert exited.value.code == 2
    assert "--count must be >= 0, got -1" in capsys.readouterr().err


def test_the_summary_reports_every_frame(sample_data, capsys):
    assert run("ultrasound_segmentation", ["--headless", "--count", "4", "--data", str(sample_data)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    match = SUMMARY.match(line)
    assert match[3] == "4"
    assert np.isfinite(float(match[4]))


def test_tensorrt_without_a_gpu_runs_the_onnx_model_with_onnx_runtime(sample_data, capsys):
    from holoflow.errors import CPUFallbackWarning
    from holoflow.inference import trt_unavailable_reason

    pytest.importorskip("onnxruntime")
    if trt_unavailable_reason() is None:
        pytest.skip("TensorRT and a CUDA device are present: the trt backend runs")
    arguments = ["--headless", "--count", "4", "--data", str(sample_data), "--backend", "trt"]
    with pytest.warns(
        CPUFallbackWarning, match="backend 'trt' but .*, so the ONNX model runs with ONNX Runtime"
    ):
        status = run("ultrasound_segmentation", arguments)
    assert status == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert SUMMARY.match(line)[3] == "4"
    assert (sample_data / "engines" / "us_unet_256x256_nhwc.onnx").is_file()  # the writable copy
