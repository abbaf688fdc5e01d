"""What every sample app shares: frame counts, repeated runs, a recording of the user's own."""

from __future__ import annotations

import numpy as np

from holoflow.apps import RunOptions
from holoflow.apps.sample_data import ULTRASOUND
from holoflow.apps.synthetic import UltrasoundScene
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.gxf import GXFWriter

CONFIG = UltrasoundSegmentationApp.default_config


def test_a_second_run_starts_afresh(sample_data, tmp_path):
    app = UltrasoundSegmentationApp(
        RunOptions(headless=True, count=3, data=sample_data, output=tmp_path / "f.png", quiet=True)
    )
    app.run()
    first = app.summary()
    app.run()
    assert first.frames == app.summary().frames == 3
    assert len(list(tmp_path.glob("f_*.png"))) == 3  # the second run rewrote the same three files


def test_more_frames_than_recorded_loop_the_recording(sample_data):
    app = UltrasoundSegmentationApp(
        RunOptions(headless=True, count=ULTRASOUND.frames + 2, data=sample_data, quiet=True)
    )
    app.compose_graph()
    assert app.replay.repeat and app.replay.count == ULTRASOUND.frames + 2


def test_the_config_can_name_another_recording(tmp_path):
    scan = UltrasoundScene(99)
    with GXFWriter(tmp_path / "mine", "scan") as writer:
        for t in range(4):
            writer.write({"": np.repeat(scan.frame(t).image[..., None], 3, axis=2)}, log_time=t * 33_000_000)
    text = CONFIG.read_text().replace(
        'basename: "ultrasound_256x256"', f'basename: "scan"\n  directory: "{tmp_path / "mine"}"'
    )
    (tmp_path / "mine.yaml").write_text(text)
    data = tmp_path / "untouched"
    app = UltrasoundSegmentationApp(
        RunOptions(headless=True, config=tmp_path / "mine.yaml", data=data, quiet=True)
    )
    app.run()
    assert app.summary().frames == 4  # one pass of the user's recording
    assert not data.exists()  # the sample recording was not generated
