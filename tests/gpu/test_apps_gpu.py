"""The sample apps on CUDA: the torch backend, the post-processors on the GPU, the same quality."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.apps import RunOptions
from holoflow.apps.endoscopy_tool_tracking import EndoscopyToolTrackingApp
from holoflow.apps.sample_data import ENDOSCOPY, ULTRASOUND, ground_truth
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.kernels import DEFAULT_OVERLAY_COLORS, tool_overlays
from holoflow.tensor import as_tensor
from holoflow.testing import Recorder

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.filterwarnings("ignore:`torch\\.jit\\.\\w+` is deprecated:DeprecationWarning"),
]
torch = pytest.importorskip("torch")
FRAMES = 30


def test_tool_overlays_on_cuda_match_the_cpu(cp):
    rng = np.random.default_rng(0)
    probs = rng.random(7).astype(np.float32)
    coords = rng.random((7, 2)).astype(np.float32)
    masks = rng.random((7, 27, 48)).astype(np.float32)
    colors = np.asarray(DEFAULT_OVERLAY_COLORS, np.float32)
    host = tool_overlays(probs, coords, masks, 0.5, colors, np)
    device = tool_overlays(
        cp.asarray(probs), cp.asarray(coords), cp.asarray(masks), 0.5, cp.asarray(colors), cp
    )
    for expected, got in zip(host, device, strict=True):
        np.testing.assert_allclose(cp.asnumpy(got), expected, rtol=1e-6, atol=1e-6)


class TappedUltrasound(UltrasoundSegmentationApp):
    def compose(self):
        super().compose()
        self.labels = Recorder(self, name="labels")
        self.add_flow(self.postprocessor, self.labels, {("out_tensor", "in")})


class TappedEndoscopy(EndoscopyToolTrackingApp):
    def compose(self):
        super().compose()
        self.tracked = Recorder(self, name="tracked")
        self.add_flow(self.inference, self.tracked, {("transmitter", "in")})


def host(value, cp):
    tensor = as_tensor(value)
    assert tensor.is_cuda, "expected the app to keep this tensor on the GPU"
    return cp.asnumpy(cp.asarray(tensor))


def test_ultrasound_app_on_cuda(sample_data, cp):
    app = TappedUltrasound(
        RunOptions(headless=True, count=FRAMES, data=sample_data, backend="torch", quiet=True)
    )
    app.run()
    labels = np.stack([host(m["out_tensor"], cp)[..., 0] for m in app.labels.received])
    truth = ground_truth(ULTRASOUND, sample_data)["labels"][:FRAMES]
    predicted, expected = labels == 1, truth == 1
    dice = 2 * (predicted & expected).sum() / (predicted.sum() + expected.sum())
    assert dice >= 0.90, dice


def test_endoscopy_app_on_cuda(sample_data, cp):
    app = TappedEndoscopy(
        RunOptions(headless=True, count=FRAMES, data=sample_data, backend="torch", quiet=True)
    )
    app.run()
    probs = np.stack([host(m["probs"], cp)[0] for m in app.tracked.received])
    coords = np.stack([host(m["scaled_coords"], cp)[0] for m in app.tracked.received])
    truth = ground_truth(ENDOSCOPY, sample_data)
    present, tips = truth["present"][:FRAMES], truth["tips"][:FRAMES]
    detected = probs > 0.5
    assert (detected == present).mean() >= 0.95
    both = present & detected
    errors = np.hypot(*((coords[both] - tips[both]) * (384, 216)).T)
    assert np.median(errors) <= 6.0
