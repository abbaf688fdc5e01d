"""The training scripts run end to end (a smoke run into a scratch folder) where torch is present."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "model", "inputs"),
    [
        ("ultrasound_segmentation/train.py", "us_unet_256x256_nhwc", ["INPUT__0"]),
        (
            "endoscopy_tool_tracking/train.py",
            "tool_loc_convlstm",
            ["data_ph:0", "cellstate_ph:0", "hiddenstate_ph:0"],
        ),
    ],
)
def test_training_script_exports_the_three_model_files(script, model, inputs, tmp_path):
    pytest.importorskip("torch")
    onnxruntime = pytest.importorskip("onnxruntime")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--steps", "2", "--quick", "--models", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{model}.onnx", f"{model}.pt", f"{model}.yaml", "scores.json"]
    )
    session = onnxruntime.InferenceSession(
        str(tmp_path / f"{model}.onnx"), providers=["CPUExecutionProvider"]
    )
    assert [i.name for i in session.get_inputs()] == inputs
    scores = json.loads((tmp_path / "scores.json").read_text())[model]
    assert scores["training_steps"] == 2 and scores["onnx_mb"] < 10 and scores["torchscript_mb"] < 10
