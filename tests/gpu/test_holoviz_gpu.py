"""HolovizOp and the OpenGL renderer with CUDA tensors: CUDA-OpenGL interop on a GPU machine.

Every frame drawn from CUDA tensors must equal, bit for bit, the frame drawn from the same
tensors on the host (the uploads and the read-back move bytes; they do not convert them).
"""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.core import Application
from holoflow.operators import HolovizOp
from holoflow.testing import Recorder, Source
from holoflow.viz import Camera, GLRenderer, InputSpec, opengl_available

W, H = 96, 64
LUT = [[0.0, 0.0, 1.0, 0.1], [0.0, 1.0, 0.0, 0.7], [1.0, 0.0, 0.0, 0.5]]
SPECS = [
    {"name": "", "type": "color"},
    {"name": "mask", "type": "color_lut", "opacity": 0.8},
    {"name": "boxes", "type": "rectangles", "color": [1.0, 1.0, 0.0, 1.0], "line_width": 2},
]


@pytest.fixture
def gl():
    if not opengl_available():
        pytest.skip("no headless OpenGL on this GPU machine (EGL and the GPU's OpenGL driver)")
    renderer = GLRenderer(W, H)
    yield renderer
    renderer.close()


def message(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, (40, 50), dtype=np.uint8)  # 3 is past the table: clamped
    return {
        "": rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
        "mask": labels,
        "boxes": np.array([[0.1, 0.2], [0.6, 0.7], [0.3, 0.1], [0.9, 0.5]], np.float32),
    }


def layers(item):
    return [(InputSpec.from_dict(spec), item[spec["name"]]) for spec in SPECS]


def test_opengl_runs_on_the_cuda_device(gl):
    assert gl.cuda_interop, gl._pixels.error
    assert "llvmpipe" not in gl.device


@pytest.mark.parametrize("image", ["rgb8", "rgba8", "rgba16", "rgba32f", "grey8"])
def test_cuda_layers_draw_exactly_what_host_layers_draw(gl, cp, image):
    rng = np.random.default_rng(1)
    item = message(0)
    item[""] = {
        "rgb8": item[""],
        "rgba8": rng.integers(0, 256, (H, W, 4), dtype=np.uint8),
        "rgba16": rng.integers(0, 65536, (H, W, 4), dtype=np.uint16),
        "rgba32f": rng.random((H, W, 4), dtype=np.float32),
        "grey8": rng.integers(0, 256, (H, W, 1), dtype=np.uint8),
    }[image]
    expected = gl.render(layers(item), LUT)
    stream = cp.cuda.Stream(non_blocking=True)
    on_gpu = {name: cp.asarray(value) for name, value in item.items()}
    gl.draw(layers(on_gpu), LUT, stream.ptr)
    frame = gl.read_cuda(stream.ptr)
    stream.synchronize()
    assert isinstance(frame, cp.ndarray) and frame.shape == (H, W, 4) and frame.dtype == cp.uint8
    np.testing.assert_array_equal(cp.asnumpy(frame), expected)
    np.testing.assert_array_equal(gl.read(), expected)


def test_uploads_grow_their_buffers_and_frames_stay_independent(gl, cp):
    small = {"": cp.asarray(np.full((8, 8, 3), 200, np.uint8))}
    large = {"": cp.asarray(np.random.default_rng(2).integers(0, 256, (2 * H, 2 * W, 3), dtype=np.uint8))}
    spec = InputSpec("", "color")
    gl.draw([(spec, small[""])])
    first = gl.read_cuda()
    gl.draw([(spec, large[""])])
    second = gl.read_cuda()
    cp.cuda.Device().synchronize()
    np.testing.assert_array_equal(cp.asnumpy(first)[..., :3], 200)
    np.testing.assert_array_equal(cp.asnumpy(second), gl.render([(spec, cp.asnumpy(large[""]))]))


def run(items, renderer):
    app = Application([])
    source = Source(app, items, name="src")
    viz = HolovizOp(
        app,
        name="holoviz",
        headless=True,
        enable_render_buffer_output=True,
        width=W,
        height=H,
        tensors=SPECS,
        color_lut=LUT,
        renderer=renderer,
    )
    sink = Recorder(app, name="rx")
    app.add_flow(source, viz, {("out", "receivers")})
    app.add_flow(viz, sink, {("render_buffer_output", "in")})
    app.run()
    return [message[""] for message in sink.received]


@pytest.mark.parametrize("renderer", ["opengl", "software"])
def test_holoviz_keeps_cuda_frames_on_the_gpu(cp, renderer):
    if renderer == "opengl" and not opengl_available():
        pytest.skip("no headless OpenGL on this GPU machine")
    items = [message(seed) for seed in range(3)]
    host = run(items, renderer)
    device = run([{name: cp.asarray(v) for name, v in item.items()} for item in items], renderer)
    for on_host, on_device in zip(host, device, strict=True):
        assert not on_host.is_cuda and on_device.is_cuda
        cp.cuda.Device().synchronize()
        np.testing.assert_array_equal(cp.asnumpy(cp.asarray(on_device)), np.asarray(on_host))


def test_cuda_depth_maps_and_3d_layers_draw_what_host_ones_draw(gl, cp):
    rng = np.random.default_rng(3)
    item = {
        "depth": rng.random((12, 16, 1), dtype=np.float32),
        "colors": rng.integers(0, 256, (12, 16, 4), dtype=np.uint8),
        "rim": rng.uniform(-0.4, 0.4, (8, 3)).astype(np.float32),
    }
    specs = [
        InputSpec("depth", "depth_map", depth_map_render_mode="triangles"),
        InputSpec("colors", "depth_map_color"),
        InputSpec("rim", "line_strip_3d", color=(1.0, 1.0, 0.0, 1.0)),
    ]
    camera = Camera(eye=(0.3, -1.0, 1.2), up=(0.0, 0.0, 1.0))
    expected = gl.render([(s, item[s.name]) for s in specs], camera=camera)
    gl.draw([(s, cp.asarray(item[s.name])) for s in specs], camera=camera)
    frame = gl.read_cuda()
    cp.cuda.Device().synchronize()
    np.testing.assert_array_equal(cp.asnumpy(frame), expected)
    assert (expected[..., :3] > 0).any()
