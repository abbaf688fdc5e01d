"""SegmentationPostprocessorOp and InferenceProcessorOp."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.kernels import label_map
from holoflow.operators import InferenceProcessorOp, SegmentationPostprocessorOp
from holoflow.testing import Recorder, Source


def test_softmax_is_argmax_with_holoscan_quirks():
    scores = np.array([[[0.1, 0.7, 0.2], [-1.0, -0.5, -2.0], [0.4, 0.4, 0.1], [0.0, 0.0, 0.0]]], np.float32)
    labels = label_map(scores, "softmax", "hwc")
    assert labels.shape == (1, 4, 1) and labels.dtype == np.uint8
    assert labels[0, :, 0].tolist() == [1, 0, 0, 0]  # all <= 0 gives 0; ties go to the lower index


def test_nan_scores_never_win():
    nan = np.nan
    scores = np.array([[[nan, 0.3, 0.1], [0.2, nan, 0.9], [nan, nan, nan], [nan, -1.0, 0.0]]], np.float32)
    assert label_map(scores, "softmax", "hwc")[0, :, 0].tolist() == [1, 2, 0, 0]


def test_layouts_agree():
    rng = np.random.default_rng(0)
    hwc = rng.standard_normal((5, 6, 4)).astype(np.float32)
    expected = label_map(hwc, "softmax", "hwc")
    np.testing.assert_array_equal(
        label_map(np.moveaxis(hwc, -1, 0)[None].copy(), "softmax", "nchw"), expected
    )
    np.testing.assert_array_equal(label_map(hwc[None].copy(), "softmax", "nhwc"), expected)


def test_sigmoid_reads_channel_zero():
    scores = np.array([[[0.49, 9.0], [0.5, -9.0]]], np.float32)
    assert label_map(scores, "sigmoid", "hwc")[0, :, 0].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("scores", "fmt", "message"),
    [
        (np.zeros((4, 4, 2), np.float64), "hwc", "scores must be float32"),
        (np.zeros((4, 4), np.float32), "hwc", "needs (H, W, C)"),
        (np.zeros((2, 3, 4, 4), np.float32), "nchw", "needs (1, ...) with 4 dims"),
        (np.zeros((1, 4, 256), np.float32), "hwc", "at most 255 channels"),
    ],
)
def test_bad_scores(scores, fmt, message):
    with pytest.raises(TensorError, match=__import__("re").escape(message)):
        label_map(scores, "softmax", fmt)


@pytest.mark.parametrize("rule", ["softmax", "sigmoid", "none"])
@pytest.mark.parametrize(
    ("shape", "fmt"), [((8, 10, 0), "hwc"), ((1, 0, 8, 10), "nchw"), ((1, 8, 10, 0), "nhwc")]
)
def test_zero_channels_are_a_tensor_error_naming_the_shape(shape, fmt, rule):
    with pytest.raises(TensorError, match=__import__("re").escape(f"scores: no channels in {shape}")):
        label_map(np.zeros(shape, np.float32), rule, fmt, label="scores")


@pytest.mark.parametrize("rule", ["softmax", "sigmoid", "none"])
@pytest.mark.parametrize(
    ("shape", "fmt", "hw"),
    [
        ((0, 10, 3), "hwc", (0, 10)),
        ((8, 0, 3), "hwc", (8, 0)),
        ((1, 3, 0, 0), "nchw", (0, 0)),
        ((1, 0, 10, 3), "nhwc", (0, 10)),
    ],
)
def test_an_empty_image_gives_an_empty_label_map(shape, fmt, hw, rule):
    labels = label_map(np.zeros(shape, np.float32), rule, fmt)
    assert labels.shape == (*hw, 1) and labels.dtype == np.uint8


@pytest.mark.parametrize(("shape", "fmt"), [((8, 10, 0), "hwc"), ((1, 0, 8, 10), "nchw")])
def test_operator_names_itself_the_port_and_the_shape_for_zero_channels(app, shape, fmt):
    post = SegmentationPostprocessorOp(app, name="post", in_tensor_name="seg", data_format=fmt)
    app.add_flow(Source(app, [{"seg": np.zeros(shape, np.float32)}], name="src"), post)
    app.add_flow(post, Recorder(app, name="rx"))
    message = f"operator 'post': port 'in_tensor', tensor 'seg': no channels in {shape}"
    with pytest.raises(TensorError, match=__import__("re").escape(message)):
        app.run()


def test_operator_passes_an_empty_image_through(app):
    post = SegmentationPostprocessorOp(app, name="post", in_tensor_name="seg", data_format="nchw")
    app.add_flow(Source(app, [{"seg": np.zeros((1, 3, 0, 7), np.float32)}], name="src"), post)
    app.add_flow(post, rx := Recorder(app, name="rx"))
    app.run()
    assert np.asarray(rx.received[0]["out_tensor"]).shape == (0, 7, 1)


def test_operator(app, use_scheduler):
    scores = np.random.default_rng(1).standard_normal((1, 3, 4, 5)).astype(np.float32)
    post = SegmentationPostprocessorOp(app, name="post", in_tensor_name="seg", data_format="nchw")
    app.add_flow(Source(app, [{"seg": scores}], name="src"), post)
    app.add_flow(post, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    np.testing.assert_array_equal(
        np.asarray(rx.received[0]["out_tensor"]), label_map(scores, "softmax", "nchw")
    )


def test_operator_parameters(app):
    app.add_flow(
        Source(app, [], name="src"), SegmentationPostprocessorOp(app, name="post", data_format="chw")
    )
    with pytest.raises(ConfigError, match="data_format must be"):
        app.run()


def test_inference_processor_operations(app):
    heat = np.zeros((1, 2, 5, 9), np.float32)
    heat[0, 0, 4, 8] = 3.0
    heat[0, 1, 2, 0] = 1.5
    logits = np.array([[1.0, 2.0, 3.0]], np.float32)
    processor = InferenceProcessorOp(
        app,
        name="proc",
        process_operations={"heat": ["max_per_channel_scaled"], "logits": ["softmax", "argmax"]},
        processed_map={"heat": ["tips"], "logits": ["probabilities", "label"]},
    )
    app.add_flow(
        Source(app, [{"heat": heat, "logits": logits}], name="src"), processor, {("out", "receivers")}
    )
    app.add_flow(processor, rx := Recorder(app, name="rx"))
    app.run()
    out = rx.received[0]
    np.testing.assert_allclose(np.asarray(out["tips"]), [[1.0, 1.0, 3.0], [0.5, 0.0, 1.5]])
    np.testing.assert_allclose(np.asarray(out["probabilities"]).sum(), 1.0, rtol=1e-6)
    assert np.asarray(out["label"]).tolist() == [2]


def test_inference_processor_unknown_operation(app):
    app.add_flow(
        Source(app, [], name="src"),
        InferenceProcessorOp(app, name="proc", process_operations={"t": ["explode"]}),
        {("out", "receivers")},
    )
    with pytest.raises(ConfigError, match="unknown operation 'explode' for tensor 't'"):
        app.run()
