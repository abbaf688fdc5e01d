"""Empty images and channel-less scores on the GPU: the same results and errors as on the CPU,
with no kernel launched on an empty grid."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import TensorError
from holoflow.kernels import convert, convert_cuda, label_map, make_plan, prepare_cuda
from holoflow.operators import FormatConverterOp, SegmentationPostprocessorOp
from holoflow.testing import Recorder, Source

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize(
    ("in_dtype", "out_dtype", "shape"),
    [
        ("rgb888", "rgb888", (0, 5, 3)),
        ("rgb888", "rgba8888", (6, 0, 3)),
        ("rgba8888", "float32", (0, 0, 4)),
        ("rgb888", "yuv420", (0, 4, 3)),
        ("nv12", "rgb888", (0, 4)),
        ("float32", "uint8", (0, 5, 3)),
    ],
)
def test_an_empty_image_converts_to_an_empty_image(cp, in_dtype, out_dtype, shape):
    host = np.zeros(shape, np.float32 if in_dtype == "float32" else np.uint8)
    plan = make_plan(in_dtype, out_dtype, host.shape, host.dtype)
    expected = convert(plan, host)
    got = convert_cuda(prepare_cuda(plan), cp.asarray(host))
    cp.cuda.get_current_stream().synchronize()
    assert got.shape == expected.shape and got.dtype == expected.dtype


@pytest.mark.parametrize("shape", [(0, 5, 3), (6, 0, 3)])
def test_the_converter_rejects_resizing_an_empty_cuda_image(app, cp, shape):
    app.add_flow(
        Source(app, [{"": cp.zeros(shape, cp.uint8)}], name="src"),
        FormatConverterOp(
            app, name="converter", in_dtype="rgb888", out_dtype="float32", resize_width=4, resize_height=4
        ),
    )
    message = f"operator 'converter': tensor '': cannot resize the empty image {shape} to 4x4"
    with pytest.raises(TensorError, match=re.escape(message)):
        app.run()


@pytest.mark.parametrize(("shape", "fmt"), [((8, 10, 0), "hwc"), ((1, 0, 8, 10), "nchw")])
def test_scores_without_channels_fail_before_the_argmax_kernel(cp, shape, fmt):
    with pytest.raises(TensorError, match=re.escape(f"scores: no channels in {shape}")):
        label_map(cp.zeros(shape, cp.float32), "softmax", fmt, cp, label="scores")


def test_an_empty_score_image_gives_an_empty_label_map_on_the_gpu(app, cp):
    post = SegmentationPostprocessorOp(app, name="post", in_tensor_name="seg", data_format="nchw")
    app.add_flow(Source(app, [{"seg": cp.zeros((1, 3, 0, 7), cp.float32)}], name="src"), post)
    app.add_flow(post, rx := Recorder(app, name="rx"))
    app.run()
    labels = rx.received[0]["out_tensor"]  # a holoflow Tensor over the CuPy array
    assert labels.is_cuda and labels.shape == (0, 7, 1) and labels.dtype == np.uint8
