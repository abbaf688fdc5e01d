"""The endoscopy tool tracking app, run headless on the shipped model and the sample recording."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.apps import RunOptions
from holoflow.apps.endoscopy_tool_tracking import EndoscopyToolTrackingApp
from holoflow.apps.sample_data import ENDOSCOPY, ground_truth
from holoflow.testing import Recorder

from ._metrics import host

FRAMES = 60
WIDTH, HEIGHT = 384, 216
MAX_MEDIAN_TIP_ERROR_PX = 6.0  # median tip error over tools present and detected (384x216 pixels)
MIN_PRESENCE_ACCURACY = 0.95  # per class and frame: detected (probability > 0.5) == in view


class TappedApp(EndoscopyToolTrackingApp):
    """The app with recorders on the tracker's outputs and the post-processor's overlays."""

    def compose(self):
        super().compose()
        self.tracked = Recorder(self, name="tracked")
        self.overlays = Recorder(self, name="overlays")
        self.add_flow(self.inference, self.tracked, {("transmitter", "in")})
        self.add_flow(self.postprocessor, self.overlays, {("out", "in")})


def run_tapped(sample_data, **options):
    settings = {"headless": True, "count": FRAMES, "data": sample_data, "quiet": True, **options}
    app = TappedApp(RunOptions(**settings))
    app.run()
    return app


def outputs(app, name):
    return np.stack([host(m[name])[0] for m in app.tracked.received])


@pytest.fixture(scope="module")
def default_run(sample_data):
    """One headless run of FRAMES frames, shared by the tests that only read its results."""
    return run_tapped(sample_data)


def test_tool_tips_and_presence_match_the_ground_truth(sample_data, default_run):
    app = default_run
    truth = ground_truth(ENDOSCOPY, sample_data)
    present, tips = truth["present"][:FRAMES], truth["tips"][:FRAMES]
    probs, coords = outputs(app, "probs"), outputs(app, "scaled_coords")
    assert probs.shape == (FRAMES, 7) and coords.shape == (FRAMES, 7, 2)
    detected = probs > 0.5
    accuracy = (detected == present).mean()
    assert accuracy >= MIN_PRESENCE_ACCURACY, f"presence accuracy {accuracy:.3f}"
    both = present & detected
    assert both.sum() >= FRAMES  # the recording shows tools: at least one per frame on average
    errors = np.hypot(*((coords[both] - tips[both]) * (WIDTH, HEIGHT)).T)
    assert np.median(errors) <= MAX_MEDIAN_TIP_ERROR_PX, f"median tip error {np.median(errors):.1f} px"


def test_overlays_show_the_detected_tools_only(default_run):
    app = default_run
    probs = outputs(app, "probs")
    for frame_probs, message in zip(probs, app.overlays.received, strict=True):
        coords, mask = host(message["scaled_coords"]), host(message["mask"])
        assert coords.shape == (7, 3) and mask.shape == (27, 48, 4)
        shown = coords[:, 0] >= 0
        np.testing.assert_array_equal(shown, frame_probs > 0.5)
        assert (mask[..., 3] > 0).any() == shown.any()
    frame = app.sink.last_frame
    assert frame.shape == (432, 768, 4)
    # the red tip crosses are drawn where the tracker puts the visible tools' tips
    x, y = (coords[shown][0, :2] * (768, 432)).astype(int)
    patch = frame[max(y - 6, 0) : y + 7, max(x - 6, 0) : x + 7, :3].astype(int)
    assert ((patch[..., 0] > 200) & (patch[..., 1] < 60) & (patch[..., 2] < 60)).any()


def test_the_lstm_state_is_carried_from_frame_to_frame(sample_data):
    app = run_tapped(sample_data, count=3)
    states = outputs(app, "hiddenstate_out")
    assert np.abs(states).max() > 0 and not np.allclose(states[1], states[2])


@pytest.mark.filterwarnings("ignore:`torch\\.jit\\.\\w+` is deprecated:DeprecationWarning")
def test_torch_backend_agrees_with_onnx_runtime(sample_data):
    """The TorchScript model (shipped for the torch backend) gives the ONNX model's outputs."""
    pytest.importorskip("torch")
    onnx = run_tapped(sample_data, count=5)
    torch = run_tapped(sample_data, count=5, backend="torch")
    for name in ("probs", "scaled_coords", "binary_masks"):
        np.testing.assert_allclose(outputs(torch, name), outputs(onnx, name), atol=2e-3)
