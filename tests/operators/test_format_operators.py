"""FormatConverterOp and BayerDemosaicOp in graphs (CPU path)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.gxf import GXFReader
from holoflow.kernels import convert, demosaic, make_plan
from holoflow.operators import (
    BayerDemosaicOp,
    CsiToBayerOp,
    FormatConverterOp,
    ImageProcessorOp,
    SegmentationPostprocessorOp,
    ToolTrackingPostprocessorOp,
    VideoStreamReplayerOp,
)
from holoflow.sensor_bridge import PixelFormat
from holoflow.testing import Recorder, Source

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"


def test_replayer_to_converter_matches_the_reference(app, use_scheduler):
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(CONFORMANCE), basename="rgb_u8", realtime=False
    )
    converter = FormatConverterOp(
        app,
        name="converter",
        out_dtype="float32",
        out_tensor_name="source_video",
        resize_width=26,
        resize_height=18,
        scale_min=-1.0,
        scale_max=1.0,
    )
    app.add_flow(replayer, converter)
    app.add_flow(converter, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    with GXFReader(CONFORMANCE, "rgb_u8") as reader:
        for message, entity in zip(rx.received, reader, strict=True):
            frame = entity.tensors()[""]
            plan = make_plan(
                "", "float32", frame.shape, frame.dtype, resize=(18, 26), scale_min=-1.0, scale_max=1.0
            )
            assert list(message) == ["source_video"]
            np.testing.assert_array_equal(np.asarray(message["source_video"]), convert(plan, frame))


def test_missing_tensor_names_what_arrived(app):
    app.add_flow(
        Source(app, [{"video": np.zeros((4, 4, 3), np.uint8)}], name="src"),
        FormatConverterOp(app, name="converter", out_dtype="float32", in_tensor_name="frame"),
    )
    with pytest.raises(
        TensorError,
        match=re.escape(
            "operator 'converter': port 'source_video' has no tensor 'frame'; tensors received: ['video']"
        ),
    ):
        app.run()


def _csi_to_bayer(app, **kwargs):
    op = CsiToBayerOp(app, **kwargs)
    op.configure(0, 8, 8, 2, PixelFormat.RAW_8)
    return op


# operator factory, input port, the tensor it asks for (when in_tensor_name is "frame")
READERS = {
    "demosaic": (BayerDemosaicOp, "receiver", "frame"),
    "csi_to_bayer": (_csi_to_bayer, "input", "frame"),
    "format_converter": (partial(FormatConverterOp, out_dtype="float32"), "source_video", "frame"),
    "image_processor": (ImageProcessorOp, "input", "frame"),
    "segmentation": (SegmentationPostprocessorOp, "in_tensor", "frame"),
    "tool_tracking": (ToolTrackingPostprocessorOp, "in", "probs"),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_missing_tensor_names_operator_port_and_tensor(app, kind):
    make, port, tensor = READERS[kind]
    kwargs = {} if kind == "tool_tracking" else {"in_tensor_name": "frame"}
    op = make(app, name="op", **kwargs)
    app.add_flow(Source(app, [{"video": np.zeros((4, 4, 3), np.uint8)}], name="src"), op, {("out", port)})
    expected = f"operator 'op': port '{port}' has no tensor '{tensor}'; tensors received: ['video']"
    with pytest.raises(TensorError, match=re.escape(expected)):
        app.run()


def test_bad_input_layout_names_operator_and_tensor(app):
    app.add_flow(
        Source(app, [{"": np.zeros((4, 4), np.uint8)}], name="src"),
        FormatConverterOp(app, name="converter", in_dtype="rgb888", out_dtype="float32"),
    )
    with pytest.raises(TensorError, match=re.escape("operator 'converter': tensor '': uint8 input needs 3")):
        app.run()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "parameter 'out_dtype' is required"),
        ({"out_dtype": "bgr"}, "out_dtype 'bgr' is not supported"),
        ({"out_dtype": "float32", "resize_width": 4, "resize_height": 4, "resize_mode": 3}, "resize_mode 3"),
    ],
)
def test_converter_parameters_are_checked_before_running(app, kwargs, message):
    app.add_flow(Source(app, [], name="src"), FormatConverterOp(app, name="converter", **kwargs))
    with pytest.raises(ConfigError, match=message):
        app.run()


def test_bayer_demosaic_op(app, use_scheduler):
    raw = np.random.default_rng(0).integers(0, 4096, (6, 8), dtype=np.uint16)
    app.add_flow(
        Source(app, [{"raw": raw}], name="src"),
        demo := BayerDemosaicOp(
            app,
            name="demosaic",
            in_tensor_name="raw",
            out_tensor_name="rgb",
            bayer_grid_pos=1,
            generate_alpha=True,
            alpha_value=4095,
        ),
    )
    app.add_flow(demo, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    np.testing.assert_array_equal(np.asarray(rx.received[0]["rgb"]), demosaic(raw, 1, alpha=4095))


def test_bayer_parameters(app):
    app.add_flow(Source(app, [], name="src"), BayerDemosaicOp(app, name="demosaic", interpolation_mode=1))
    with pytest.raises(ConfigError, match="interpolation_mode must be 0"):
        app.run()


@pytest.mark.parametrize("shape", [(0, 5, 3), (6, 0, 3)])
def test_converter_rejects_resizing_an_empty_image(app, shape):
    app.add_flow(
        Source(app, [{"": np.zeros(shape, np.uint8)}], name="src"),
        FormatConverterOp(
            app, name="converter", in_dtype="rgb888", out_dtype="float32", resize_width=4, resize_height=4
        ),
    )
    message = f"operator 'converter': tensor '': cannot resize the empty image {shape} to 4x4"
    with pytest.raises(TensorError, match=re.escape(message)):
        app.run()


def test_converter_passes_an_empty_image_through_without_a_resize(app):
    converter = FormatConverterOp(app, name="converter", in_dtype="rgb888", out_dtype="rgba8888")
    app.add_flow(Source(app, [{"": np.zeros((0, 5, 3), np.uint8)}], name="src"), converter)
    app.add_flow(converter, rx := Recorder(app, name="rx"))
    app.run()
    out = np.asarray(rx.received[0][""])
    assert out.shape == (0, 5, 4) and out.dtype == np.uint8
