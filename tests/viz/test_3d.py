"""3D layers: the camera's projection, 3D geometry, depth maps and their colours, both renderers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.errors import ConfigError, TensorError
from holoflow.operators import HolovizOp
from holoflow.testing import Recorder, Source
from holoflow.viz import Camera, InputSpec, composite

W, H = 48, 32
TAN = math.tan(math.radians(30.0))  # half the 60-degree vertical field of view


def test_the_default_camera_centres_the_origin_and_spans_the_field_of_view():
    points = np.array([[0.0, 0.0, 0.0], [0.0, TAN, 0.0], [TAN * W / H, 0.0, 0.0], [0.0, 0.0, -1.0]])
    pixels, depth, visible = Camera().project(points, W, H)
    np.testing.assert_allclose(pixels[0], [W / 2, H / 2])
    np.testing.assert_allclose(pixels[1], [W / 2, 0.0], atol=1e-9)  # world +y is up on the screen
    np.testing.assert_allclose(pixels[2], [W, H / 2])
    np.testing.assert_allclose(depth, [1.0, 1.0, 1.0, 2.0])
    assert visible.all()


def test_moving_the_camera_away_shrinks_offsets_and_points_behind_it_are_hidden():
    point = np.array([[0.2, -0.1, 0.0], [0.0, 0.0, 3.0]])
    near, _, visible = Camera().project(point, W, H)
    far, _, _ = Camera(eye=(0.0, 0.0, 2.0)).project(point, W, H)
    np.testing.assert_allclose(far[0] - [W / 2, H / 2], (near[0] - [W / 2, H / 2]) / 2)
    assert visible.tolist() == [True, False]


def test_looking_down_the_x_axis_turns_the_scene():
    camera = Camera(eye=(2.0, 0.0, 0.0), look_at=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    pixels, depth, _ = camera.project(np.array([[0.0, 0.0, 0.5]]), W, H)
    assert pixels[0, 0] < W / 2  # +z is to the left when looking from +x towards the origin
    assert depth[0] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eye": (0.0, 0.0, 0.0)}, "same point"),
        ({"up": (0.0, 0.0, 2.0)}, "parallel"),
        ({"eye": (1.0, 2.0)}, "camera_eye must be three finite numbers"),
        ({"look_at": (0.0, math.nan, 0.0)}, "camera_look_at"),
    ],
)
def test_bad_cameras_raise(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Camera(**kwargs)


def normalized(camera: Camera, points: np.ndarray) -> np.ndarray:
    pixels, _, _ = camera.project(points, W, H)
    return (pixels / [W, H]).astype(np.float64)


CAMERA = Camera(eye=(0.3, -0.4, 1.5), look_at=(0.05, 0.0, 0.0), up=(0.1, 1.0, 0.0))


@pytest.mark.parametrize(
    ("kind_3d", "kind_2d", "count"),
    [("points_3d", "points", 5), ("lines_3d", "lines", 6), ("line_strip_3d", "line_strip", 5),
     ("triangles_3d", "triangles", 6)],
)  # fmt: skip
def test_3d_geometry_draws_what_its_projection_draws_in_2d(draw, kind_3d, kind_2d, count):
    points = np.random.default_rng(3).uniform(-0.5, 0.5, (count, 3))
    style = {"color": (0.2, 1.0, 0.4, 1.0), "line_width": 2.0, "point_size": 3.0}
    frame_3d = draw([(InputSpec("g", kind_3d, **style), points)], W, H, camera=CAMERA)
    frame_2d = draw([(InputSpec("g", kind_2d, **style), normalized(CAMERA, points))], W, H)
    np.testing.assert_array_equal(frame_3d, frame_2d)
    assert (frame_3d[..., 1] > 0).sum() > count  # something was drawn


def test_a_primitive_with_a_point_behind_the_camera_is_not_drawn(draw):
    lines = np.array([[-0.3, 0.0, 0.0], [0.3, 0.0, 0.0], [0.0, -0.2, 0.0], [0.0, 0.2, 5.0]])
    frame = draw([(InputSpec("g", "lines_3d"), lines)], W, H)
    expected = draw([(InputSpec("g", "lines"), normalized(Camera(), lines[:2]))], W, H)
    np.testing.assert_array_equal(frame, expected)


@pytest.mark.parametrize("mode", ["points", "lines", "triangles"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_a_depth_map_draws_its_grid_as_projected_primitives(draw, mode, dtype):
    rng = np.random.default_rng(4)
    depth = rng.integers(0, 256, (4, 5)).astype(dtype) if dtype == np.uint8 else rng.random((4, 5), dtype)
    z = depth / 255.0 if dtype == np.uint8 else depth.astype(np.float64)
    rows, cols = np.mgrid[0:4, 0:5]
    grid = np.stack([cols / 5 - 0.5, rows / 4 - 0.5, z], axis=-1)
    if mode == "points":
        pieces, kind_2d = grid.reshape(-1, 3), "points"
    elif mode == "lines":
        right = np.stack([grid[:, :-1], grid[:, 1:]], axis=2).reshape(-1, 3)
        down = np.stack([grid[:-1], grid[1:]], axis=2).reshape(-1, 3)
        pieces, kind_2d = np.concatenate([right, down]), "lines"
    else:
        a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
        pieces = np.concatenate(
            [np.stack([a, b, c], axis=2).reshape(-1, 3), np.stack([b, d, c], axis=2).reshape(-1, 3)]
        )
        kind_2d = "triangles"
    style = {"point_size": 2.0, "color": (1.0, 1.0, 1.0, 1.0)}
    spec = InputSpec("depth", "depth_map", depth_map_render_mode=mode, **style)
    frame = draw([(spec, depth[..., None])], W, H, camera=CAMERA)
    expected = draw([(InputSpec("g", kind_2d, **style), normalized(CAMERA, pieces))], W, H)
    np.testing.assert_array_equal(frame, expected)


def test_depth_map_colours_paint_each_point_and_the_nearest_wins(draw):
    # Two grid points seen along the y axis overlap on the screen: row 0 (y = -0.5) is nearer.
    depth = np.zeros((2, 1), np.float32)
    colors = np.array([[[255, 0, 0, 255]], [[0, 0, 255, 255]]], np.uint8)
    camera = Camera(eye=(-0.5, -2.0, 0.3), look_at=(-0.5, 0.0, 0.3), up=(0.0, 0.0, 1.0))
    layers = [
        (InputSpec("depth", "depth_map", point_size=6.0), depth),
        (InputSpec("rgba", "depth_map_color"), colors),
    ]
    frame = draw(layers, W, H, camera=camera)
    pixels, _, _ = camera.project(np.array([[-0.5, -0.5, 0.0]]), W, H)
    col, row = np.floor(pixels[0]).astype(int)
    assert frame[row, col].tolist() == [255, 0, 0, 255]
    colors_seen = {tuple(int(c) for c in p) for p in frame.reshape(-1, 4)}
    assert colors_seen == {(0, 0, 0, 255), (255, 0, 0, 255), (0, 0, 255, 255)}
    assert (frame[..., 0] == 255).sum() == 36  # the nearer 6x6 point is whole


def test_a_depth_map_colour_tensor_of_another_grid_raises():
    layers = [
        (InputSpec("depth", "depth_map"), np.zeros((2, 3), np.float32)),
        (InputSpec("rgba", "depth_map_color"), np.zeros((3, 2, 4), np.uint8)),
    ]
    with pytest.raises(TensorError, match="'depth'.*2x3x4 uint8"):
        composite(layers, W, H)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=3, max_size=18),
    st.sampled_from(["points_3d", "lines_3d", "line_strip_3d", "triangles_3d"]),
)
def test_any_3d_coordinates_draw_or_raise_a_tensor_error(values, kind):
    count = len(values) // 3 * 3
    points = np.array(values[:count], np.float32).reshape(-1, 3)
    message = ""
    try:
        frame = composite([(InputSpec("g", kind), points)], 16, 12)
    except TensorError as exc:
        message = str(exc)
    else:
        assert frame.shape == (12, 16, 4)
    assert not message or "'g'" in message


def test_holoviz_draws_3d_layers_from_its_camera_parameters(app):
    points = np.random.default_rng(5).uniform(-0.4, 0.4, (6, 3)).astype(np.float32)
    camera = {"camera_eye": [0.5, 0.5, 1.2], "camera_look_at": [0.0, 0.0, 0.0], "camera_up": [0.0, 1.0, 0.0]}
    viz = HolovizOp(
        app, name="viz", headless=True, enable_render_buffer_output=True, width=W, height=H,
        tensors=[{"name": "tri", "type": "triangles_3d"}], renderer="software", **camera,
    )  # fmt: skip
    app.add_flow(Source(app, [{"tri": points}], name="src"), viz, {("out", "receivers")})
    app.add_flow(viz, rx := Recorder(app, name="rx"), {("render_buffer_output", "in")})
    app.run()
    expected = composite(
        [(InputSpec("tri", "triangles_3d"), points)],
        W,
        H,
        camera=Camera((0.5, 0.5, 1.2), (0, 0, 0), (0, 1, 0)),
    )
    np.testing.assert_array_equal(np.asarray(rx.received[0][""]), expected)


def test_holoviz_rejects_a_bad_camera_naming_itself(app):
    with pytest.raises(ConfigError, match="'viz'.*camera_eye"):
        HolovizOp(app, name="viz", headless=True, camera_eye=[0.0, 1.0]).initialize()


def test_camera_ports_move_the_camera_and_the_pose_is_emitted(app):
    points = np.random.default_rng(6).uniform(-0.4, 0.4, (6, 3)).astype(np.float32)
    eyes = [None, np.array([0.8, 0.1, 1.0], np.float32)]
    viz = HolovizOp(
        app, name="viz", headless=True, enable_render_buffer_output=True, width=W, height=H,
        tensors=[{"name": "lines", "type": "lines_3d"}], renderer="software", enable_camera_pose_output=True,
    )  # fmt: skip
    app.add_flow(Source(app, [{"lines": points}] * 2, name="src"), viz, {("out", "receivers")})
    app.add_flow(Source(app, eyes, name="eyes"), viz, {("out", "camera_eye_input")})
    app.add_flow(viz, frames := Recorder(app, name="frames"), {("render_buffer_output", "in")})
    app.add_flow(viz, poses := Recorder(app, name="poses"), {("camera_pose_output", "in")})
    app.run()
    for frame, pose, camera in zip(
        frames.received, poses.received, [Camera(), Camera(eye=(0.8, 0.1, 1.0))], strict=True
    ):
        expected = composite([(InputSpec("lines", "lines_3d"), points)], W, H, camera=camera)
        np.testing.assert_array_equal(np.asarray(frame[""]), expected)
        np.testing.assert_allclose(pose, camera.view_projection(W / H).reshape(16), rtol=1e-6, atol=1e-7)


def test_a_bad_camera_message_raises_naming_the_port(app):
    viz = HolovizOp(app, name="viz", headless=True, renderer="software", tensors=[])
    app.add_flow(Source(app, [{"x": np.zeros((1, 2), np.float32)}], name="src"), viz, {("out", "receivers")})
    app.add_flow(Source(app, ["up"], name="eyes"), viz, {("out", "camera_up_input")})
    with pytest.raises(ConfigError, match="'viz'.*camera_up_input"):
        app.run()
