"""ToolTrackingPostprocessorOp: the overlay math and the operator in a graph (CPU path)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.kernels import DEFAULT_OVERLAY_COLORS, tool_overlays
from holoflow.operators import ToolTrackingPostprocessorOp
from holoflow.testing import Recorder, Source

COLORS = np.asarray(DEFAULT_OVERLAY_COLORS, np.float32)


def tracker_output(probs, tips, masks):
    return {
        "probs": np.asarray(probs, np.float32)[None],
        "scaled_coords": np.asarray(tips, np.float32)[None],
        "binary_masks": np.asarray(masks, np.float32)[None],
        "cellstate_out": np.zeros((1, 2, 2, 3), np.float32),  # other outputs pass unnoticed
    }


def test_hidden_tools_go_off_screen_and_shown_tools_keep_their_tips():
    probs = np.array([0.9, 0.5, 0.2], np.float32)  # 0.5 is not above min_prob 0.5
    tips = np.array([[0.25, 0.75], [0.5, 0.5], [0.1, 0.2]], np.float32)
    coords, _ = tool_overlays(probs, tips, np.zeros((3, 2, 2), np.float32), 0.5, COLORS)
    np.testing.assert_array_equal(
        coords, np.array([[0.25, 0.75, 0.05], [-1, -1, 0.05], [-1, -1, 0.05]], np.float32)
    )


def test_heat_map_weights_clamp_and_blend_in_tool_order():
    masks = np.zeros((2, 1, 4), np.float32)
    masks[0, 0] = [0.0, 0.3, 0.645, 1.0]  # below, at and above the clamp range
    masks[1, 0, 3] = 1.0  # tool 1 blends over tool 0 at the last pixel
    _, heat = tool_overlays(np.ones(2, np.float32), np.zeros((2, 2), np.float32), masks, 0.5, COLORS)
    w_mid = (0.645 - 0.3) / 0.69 * 0.7
    w_top = 0.7
    np.testing.assert_allclose(heat[0, 0], 0.0)
    np.testing.assert_allclose(heat[0, 1], 0.0)
    np.testing.assert_allclose(heat[0, 2], w_mid * np.r_[COLORS[0], 1.0], rtol=1e-6)
    first = w_top * np.r_[COLORS[0], 1.0]
    np.testing.assert_allclose(heat[0, 3], first + w_top * (np.r_[COLORS[1], 1.0] - first), rtol=1e-6)


def test_tools_beyond_the_colour_table_take_its_last_colour():
    masks = np.ones((3, 1, 1), np.float32)
    probs = np.array([0.0, 0.0, 1.0], np.float32)
    _, heat = tool_overlays(probs, np.zeros((3, 2), np.float32), masks, 0.5, COLORS[:2])
    np.testing.assert_allclose(heat[0, 0], 0.7 * np.r_[COLORS[1], 1.0], rtol=1e-6)


def test_operator_emits_scaled_coords_and_mask(app):
    masks = np.zeros((7, 6, 10), np.float32)
    masks[2, 1:3, 4:8] = 1.0
    probs = np.zeros(7)
    probs[2] = 0.8
    tips = np.full((7, 2), 0.5)
    app.add_flow(
        Source(app, [tracker_output(probs, tips, masks)], name="tracker"),
        post := ToolTrackingPostprocessorOp(app, name="post"),
    )
    app.add_flow(post, rx := Recorder(app, name="rx"))
    app.run()
    (received,) = rx.received
    message = {name: np.asarray(tensor) for name, tensor in received.items()}
    assert sorted(message) == ["mask", "scaled_coords"]
    assert message["scaled_coords"].shape == (7, 3) and message["scaled_coords"].dtype == np.float32
    assert message["mask"].shape == (6, 10, 4) and message["mask"].dtype == np.float32
    assert (message["scaled_coords"][:, 0] >= 0).sum() == 1
    shown = message["mask"][..., 3] > 0
    np.testing.assert_array_equal(shown, masks[2] > 0)


def test_missing_tensor_names_operator_port_and_what_arrived(app):
    message = tracker_output(np.zeros(7), np.zeros((7, 2)), np.zeros((7, 2, 2)))
    del message["binary_masks"]
    app.add_flow(Source(app, [message], name="tracker"), ToolTrackingPostprocessorOp(app, name="post"))
    with pytest.raises(
        TensorError,
        match=re.escape(
            "operator 'post': port 'in' has no tensor 'binary_masks'; tensors received: "
            "['cellstate_out', 'probs', 'scaled_coords']"
        ),
    ):
        app.run()


def test_mismatched_tool_counts_are_a_tensor_error(app):
    message = tracker_output(np.zeros(7), np.zeros((6, 2)), np.zeros((7, 2, 2)))
    app.add_flow(Source(app, [message], name="tracker"), ToolTrackingPostprocessorOp(app, name="post"))
    with pytest.raises(TensorError, match=r"^operator 'post': expected probs \(1, N\)"):
        app.run()


def test_non_float_input_is_a_tensor_error(app):
    message = tracker_output(np.zeros(7), np.zeros((7, 2)), np.zeros((7, 2, 2)))
    message["probs"] = message["probs"].astype(np.float64)
    app.add_flow(Source(app, [message], name="tracker"), ToolTrackingPostprocessorOp(app, name="post"))
    with pytest.raises(TensorError, match=r"^operator 'post': tensor 'probs' must be float32, got float64"):
        app.run()


@pytest.mark.parametrize("colors", [[], [[0.1, 0.2]], [[0.0, 0.5, 2.0]], "red"])
def test_bad_colour_table_is_a_config_error(app, colors):
    with pytest.raises(ConfigError, match=r"^operator 'post': overlay_img_colors"):
        ToolTrackingPostprocessorOp(app, name="post", overlay_img_colors=colors).initialize()
