"""The ultrasound segmentation app, run headless on the shipped model and the sample recording."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.apps import RunOptions
from holoflow.apps.sample_data import ULTRASOUND, ground_truth
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.testing import Recorder

from ._metrics import dice, host

FRAMES = 30
MIN_DICE = 0.90  # the bone-surface Dice the shipped model must reach (validation: see scores.json)


class TappedApp(UltrasoundSegmentationApp):
    """The app with a recorder on the post-processor's labels."""

    def compose(self):
        super().compose()
        self.labels = Recorder(self, name="labels")
        self.add_flow(self.postprocessor, self.labels, {("out_tensor", "in")})


def run_tapped(sample_data, **options):
    settings = {"headless": True, "count": FRAMES, "data": sample_data, "quiet": True, **options}
    app = TappedApp(RunOptions(**settings))
    app.run()
    return app, np.stack([host(m["out_tensor"])[..., 0] for m in app.labels.received])


@pytest.fixture(scope="module")
def default_run(sample_data):
    """One headless run of FRAMES frames, shared by the tests that only read its results."""
    return run_tapped(sample_data)


def test_bone_segmentation_matches_the_ground_truth(sample_data, default_run):
    app, labels = default_run
    truth = ground_truth(ULTRASOUND, sample_data)["labels"][:FRAMES]
    assert labels.shape == truth.shape == (FRAMES, 256, 256)
    assert set(np.unique(labels)) <= {0, 1}
    score = dice(labels == 1, truth == 1)
    assert score >= MIN_DICE, f"Dice {score:.3f} < {MIN_DICE}"
    # and it is not a constant answer: most frames have bone, none is all bone
    assert (labels.reshape(FRAMES, -1).mean(axis=1) < 0.2).all()
    frame = app.sink.last_frame
    assert frame.shape == (512, 512, 4) and frame.dtype == np.uint8
    summary = app.summary()
    assert summary.frames == FRAMES and summary.fps > 0 and summary.latency_ms["p50"] > 0


def test_segmentation_overlay_is_drawn_over_the_video(default_run):
    app, labels = default_run
    frame = app.sink.last_frame[..., :3].astype(int)
    bone = np.kron(labels[-1], np.ones((2, 2), np.uint8)).astype(bool)  # 256 → 512 (nearest)
    inner = bone & np.roll(bone, 1, 0) & np.roll(bone, -1, 0)  # away from the edges of the band
    green = frame[..., 1] - (frame[..., 0] + frame[..., 2]) / 2
    assert green[inner].mean() > 40 > abs(green[~bone].mean())  # the LUT's green at alpha 0.7


@pytest.mark.filterwarnings("ignore:`torch\\.jit\\.\\w+` is deprecated:DeprecationWarning")
def test_torch_backend_agrees_with_onnx_runtime(sample_data):
    """The TorchScript model (shipped for the torch backend) gives the ONNX model's labels."""
    pytest.importorskip("torch")
    _, onnx_labels = run_tapped(sample_data, count=5)
    _, torch_labels = run_tapped(sample_data, count=5, backend="torch")
    assert (onnx_labels != torch_labels).mean() < 1e-3
