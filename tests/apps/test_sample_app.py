"""What every sample app shares: frame counts, repeated runs, a recording of the user's own."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.apps import RunOptions, app_class
from holoflow.apps._options import parse_options
from holoflow.apps.sample_data import ULTRASOUND
from holoflow.apps.synthetic import UltrasoundScene
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.errors import ConfigError
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


def test_frame_taps_see_every_frame_at_both_ends(sample_data):
    """``tap_frames``: the source tap may change what is sent; the rendered tap sees the result."""
    sent, rendered = [], []

    def source(message, started_ns):
        image = message[""]
        image[:8, :8] = 255  # a white corner, drawn before the frame goes anywhere
        sent.append(started_ns)
        return message

    def on_rendered(frame, arrived_ns):
        rendered.append((frame[2, 2].copy(), arrived_ns))

    app = UltrasoundSegmentationApp(RunOptions(headless=True, count=5, data=sample_data, quiet=True))
    app.tap_frames(source=source, rendered=on_rendered)
    app.run()
    assert len(sent) == len(rendered) == 5
    for (pixel, arrived), started in zip(rendered, sent):
        assert pixel[:3].min() > 200  # the white corner under the label overlay
        assert arrived > started
    assert sorted(sent) == sent
    app.tap_frames()  # removed: the next run calls nothing
    app.run()
    assert len(sent) == 5


def test_a_rendered_tap_needs_rendered_frames(sample_data):
    app = UltrasoundSegmentationApp(RunOptions(headless=False, count=1, data=sample_data, quiet=True))
    app.tap_frames(rendered=lambda frame, when: None)
    with pytest.raises(ConfigError, match="rendered-frame tap needs rendered frames"):
        app.run()


def test_app_class_and_frame_rate(sample_data):
    assert app_class("ultrasound_segmentation") is UltrasoundSegmentationApp
    with pytest.raises(ValueError, match="unknown sample app 'mri'"):
        app_class("mri")
    app = UltrasoundSegmentationApp(RunOptions(headless=True, count=2, data=sample_data, frame_rate=12.5))
    app.compose_graph()
    assert app.replay.frame_rate == 12.5
    assert parse_options("x", "y", ["--fps", "60"]).frame_rate == 60.0
