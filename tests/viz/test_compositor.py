"""The numpy software compositor: images, LUT overlays, geometry at the right pixels, layer order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.errors import ConfigError, TensorError
from holoflow.viz import InputSpec, composite, detect_type

W, H = 40, 20


def at_centre(col: float, row: float) -> list[float]:
    """Normalized coordinates of the centre of pixel (row, col) in a W x H frame."""
    return [(col + 0.5) / W, (row + 0.5) / H]


def drawn(frame: np.ndarray) -> np.ndarray:
    """Where geometry drawn in white landed on the black background."""
    return frame[..., 0] > 0


def test_an_image_of_the_frame_size_appears_unchanged(draw):
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    frame = draw([(InputSpec("", "color"), image)], W, H)
    np.testing.assert_array_equal(frame[..., :3], image)
    assert (frame[..., 3] == 255).all()


def test_rgba_and_grey_images_blend_over_black(draw):
    rgba = np.random.default_rng(1).integers(0, 256, (H, W, 4), dtype=np.uint8)
    frame = draw([(InputSpec("", "color"), rgba)], W, H)
    expected = np.rint(rgba[..., :3] / 255 * (rgba[..., 3:] / 255) * 255)
    np.testing.assert_array_equal(frame[..., :3], expected)
    grey = np.full((H, W, 1), 77, np.uint8)
    assert (draw([(InputSpec("g", "color"), grey)], W, H)[..., :3] == 77).all()


def test_an_image_is_stretched_to_the_frame_with_linear_filtering(draw):
    image = np.array([[[0], [255]]], np.uint8)  # 1 x 2, black then white
    frame = draw([(InputSpec("", "color"), image)], 8, 2)
    row = frame[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255  # clamp to edge
    assert (np.diff(row) >= 0).all() and len(set(row)) > 2  # a ramp between them


def test_a_lut_overlay_with_opacity_blends_as_computed(draw):
    base = np.full((H, W, 3), 100, np.uint8)
    labels = np.zeros((H, W), np.uint8)
    labels[:, W // 2 :] = 1
    lut = [[0.0, 0.0, 1.0, 0.1], [0.0, 1.0, 0.0, 0.7]]
    frame = draw(
        [(InputSpec("video", "color"), base), (InputSpec("mask", "color_lut", opacity=0.5), labels)],
        W,
        H,
        color_lut=lut,
    )
    grey = 100 / 255
    for label, columns in ((0, slice(0, W // 2)), (1, slice(W // 2, W))):
        r, g, b, a = lut[label]
        alpha = a * 0.5
        expected = [round((c * alpha + grey * (1 - alpha)) * 255) for c in (r, g, b)]
        assert (frame[:, columns, :3] == expected).all(), label


def test_lut_indices_clamp_to_the_table_and_floats_are_coordinates(draw):
    lut = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]]
    indices = np.array([[0, 1, 9]], np.int32)
    frame = draw([(InputSpec("m", "color_lut"), indices)], 3, 1, color_lut=lut)
    assert frame[0, :, 1].tolist() == [0, 255, 255]
    coords = np.array([[0.2, 0.7]], np.float32)
    frame = draw([(InputSpec("m", "color_lut"), coords)], 2, 1, color_lut=lut)
    assert frame[0, :, 0].tolist() == [255, 0]


def test_rectangle_outline_lands_on_the_pixels_of_its_corners(draw):
    corners = np.array([at_centre(10, 5), at_centre(29, 14)], np.float32)
    frame = draw([(InputSpec("boxes", "rectangles"), corners)], W, H)
    expected = np.zeros((H, W), bool)
    expected[5:15, 10:30] = True
    expected[6:14, 11:29] = False
    np.testing.assert_array_equal(drawn(frame), expected)


def test_crosses_are_square_and_centred(draw):
    size = 8 / W  # arms reach 4 pixels each way
    crosses = np.array([[*at_centre(20, 10), size]], np.float32)
    frame = draw([(InputSpec("tips", "crosses"), crosses)], W, H)
    expected = np.zeros((H, W), bool)
    expected[10, 16:25] = True
    expected[6:15, 20] = True
    np.testing.assert_array_equal(drawn(frame), expected)


def test_points_lines_triangles_and_ovals(draw):
    points = np.array([at_centre(5, 5)], np.float32)
    frame = draw([(InputSpec("p", "points", point_size=3), points)], W, H)
    expected = np.zeros((H, W), bool)
    expected[4:7, 4:7] = True
    np.testing.assert_array_equal(drawn(frame), expected)

    line = np.array([at_centre(2, 3), at_centre(30, 3)], np.float32)
    frame = draw([(InputSpec("l", "lines", line_width=3), line)], W, H)
    expected = np.zeros((H, W), bool)
    expected[2:5, 1:32] = True  # round caps reach 1.5 pixels past the ends: one more column each side
    np.testing.assert_array_equal(drawn(frame), expected)

    triangle = np.array([at_centre(0, 0), at_centre(10, 0), at_centre(0, 10)], np.float64)  # exact centres
    mask = drawn(draw([(InputSpec("t", "triangles"), triangle)], W, H))
    rows, cols = np.nonzero(mask)
    assert ((rows + cols) <= 10).all() and mask.sum() == 66  # the 11 x 11 lower-left half, diagonal included

    oval = np.array([[0.5, 0.5, 0.5, 0.5]], np.float32)  # 20 x 10 pixels across
    mask = drawn(draw([(InputSpec("o", "ovals"), oval)], W, H))
    assert not mask[10, 20] and mask[10, 10] | mask[10, 9] and mask[10, 30] | mask[10, 29]


def test_text_lands_in_its_cell_at_the_given_height(draw):
    W2, H2 = 200, 100
    spec = InputSpec("label", "text", text=("T",))
    mask = drawn(draw([(spec, np.array([[0.25, 0.2, 0.3]], np.float32))], W2, H2))
    rows, cols = np.nonzero(mask)
    height = 0.3 * H2  # 30 pixels; the T is 4/6 of that wide, its bar at the top, its stem centred
    thick = height / 24 + 1
    assert abs(rows.min() - 0.2 * H2) <= thick and abs(rows.max() - (0.2 * H2 + height)) <= thick
    assert abs(cols.min() - 0.25 * W2) <= thick and abs(cols.max() - (0.25 * W2 + height * 4 / 6)) <= thick
    stem = 0.25 * W2 + height * 2 / 6
    assert (
        mask[int(0.2 * H2 + height / 2), int(stem)] and not mask[int(0.2 * H2 + height / 2), int(0.25 * W2)]
    )


def test_text_rows_reuse_the_last_string_and_strings_differ(draw):
    coords = np.array([[0.0, 0.0, 0.4], [0.5, 0.0, 0.4], [0.0, 0.5, 0.4]], np.float32)
    one = drawn(draw([(InputSpec("t", "text", text=("AB", "C")), coords)], 60, 30))
    left, right, below = one[:15, :30], one[:15, 30:], one[15:, :30]
    assert left.any() and right.any() and below.any()
    np.testing.assert_array_equal(right, below)  # rows 1 and 2 both draw "C"
    assert not np.array_equal(left, right)
    assert not drawn(draw([(InputSpec("t", "text"), coords)], 60, 30)).any()  # no strings: nothing


def test_geometry_color_and_opacity(draw):
    corners = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    spec = InputSpec("b", "triangles", color=(1.0, 0.5, 0.0, 1.0), opacity=0.4)
    frame = draw([(spec, np.concatenate([corners, [[0.0, 1.0]]]))], W, H)
    assert frame[H - 1, 0, :3].tolist() == [round(0.4 * 255), round(0.2 * 255), 0]


def test_priority_orders_layers_and_equal_priorities_keep_list_order(draw):
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((H, W, 3), np.uint8)
    blue[..., 2] = 255

    def top(red_priority: int, blue_priority: int) -> str:
        layers = [
            (InputSpec("r", "color", priority=red_priority), red),
            (InputSpec("b", "color", priority=blue_priority), blue),
        ]
        pixel = draw(layers, W, H)[0, 0]
        return "red" if pixel[0] == 255 else "blue"

    assert top(1, 0) == "red"
    assert top(0, 1) == "blue"
    assert top(0, 0) == "blue"  # later in the list


def test_geometry_outside_the_frame_is_clipped(draw):
    boxes = np.array([[-10.0, -10.0], [10.0, 0.5], [1e30, 1e30], [np.inf, np.nan]], np.float64)
    mask = drawn(draw([(InputSpec("b", "rectangles"), boxes)], W, H))
    assert mask.any() and not mask[H - 1].any()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["points", "lines", "line_strip", "triangles", "crosses", "rectangles", "ovals"]),
    coords=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=24, max_size=24),
    width=st.floats(0.5, 8),
)
def test_any_coordinates_draw_without_error(draw, kind, coords, width):
    array = np.array(coords, np.float32).reshape(6, 4)
    frame = draw([(InputSpec("g", kind, line_width=width, point_size=width), array)], 16, 9)
    assert frame.shape == (9, 16, 4) and (frame[..., 3] == 255).all()


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    frame_size=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    value=st.integers(0, 255),
)
def test_a_constant_image_stays_constant_at_any_scale(size, frame_size, value):
    image = np.full((*size, 3), value, np.uint8)
    frame = composite([(InputSpec("", "color"), image)], *frame_size)
    assert (frame[..., :3] == value).all()


def test_auto_detection_follows_holoviz():
    assert detect_type(np.zeros((4, 4, 3), np.uint8), has_lut=False) == "color"
    assert detect_type(np.zeros((4, 4, 1), np.uint8), has_lut=True) == "color_lut"
    assert detect_type(np.zeros((5, 2), np.float32), has_lut=False) == "crosses"
    assert detect_type(np.zeros((4, 4, 3), np.float32), has_lut=False) is None
    assert detect_type(np.zeros((4, 4, 3), np.int64), has_lut=False) is None
    skipped = composite([(InputSpec("x"), np.ones((4, 4, 3), np.int64))], 4, 4)
    assert (skipped[..., :3] == 0).all()  # not drawable: left out, as Holoviz logs and skips


def test_bad_specs_raise_errors_naming_the_spec():
    with pytest.raises(ConfigError, match="'mask'.*unknown type 'blob'"):
        InputSpec("mask", "blob")
    with pytest.raises(ConfigError, match="'mask'.*unknown key.*'colour'"):
        InputSpec.from_dict({"name": "mask", "type": "color", "colour": [1, 0, 0, 1]})
    with pytest.raises(ConfigError, match="'mask'.*'type' key is required"):
        InputSpec.from_dict({"name": "mask"})
    with pytest.raises(ConfigError, match="'mask'.*4 values"):
        InputSpec("mask", "lines", color=(1.0, 0.0, 0.0))
    with pytest.raises(ConfigError, match="'mask'.*no color_lut"):
        composite([(InputSpec("mask", "color_lut"), np.zeros((2, 2), np.uint8))], 2, 2)
    with pytest.raises(TensorError, match="'video'.*color.*float32"):
        composite([(InputSpec("video", "color"), np.zeros((2, 2, 3), np.float32))], 2, 2)
    with pytest.raises(TensorError, match="'boxes'.*3 points is not a multiple of 2"):
        composite([(InputSpec("boxes", "rectangles"), np.zeros((3, 2), np.float32))], 2, 2)
    with pytest.raises(TensorError, match="'boxes'.*coordinates"):
        composite([(InputSpec("boxes", "rectangles"), np.zeros((4,), np.float32))], 2, 2)
    with pytest.raises(TensorError, match="'depth'.*depth_map.*uint8 or float32"):
        composite([(InputSpec("depth", "depth_map"), np.zeros((2, 2, 1), np.int16))], 2, 2)
    with pytest.raises(ConfigError, match="'depth'.*depth_map_render_mode"):
        InputSpec("depth", "depth_map", depth_map_render_mode="mesh")


def test_a_layer_is_drawn_into_each_of_its_views(draw):
    lut = [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]
    halves = [{"offset_x": 0.0, "width": 0.5}, {"offset_x": 0.5, "width": 0.5}]
    spec = InputSpec("m", "color_lut", views=halves)
    frame = draw([(spec, np.array([[0, 1]], np.uint8))], W, H, lut)
    red, blue = frame[0, :, 0] == 255, frame[0, :, 2] == 255
    assert red[:10].all() and blue[10:20].all() and red[20:30].all() and blue[30:].all()


def test_geometry_is_normalized_to_its_view_and_views_are_clipped(draw):
    view = [{"offset_x": 0.5, "offset_y": 0.0, "width": 0.5, "height": 1.0}]
    point = np.array([[10.5 / 20, 5.5 / 20]], np.float64)  # the centre of the view's pixel (5, 10)
    frame = draw([(InputSpec("p", "points", views=view), point)], W, H)
    expected = np.zeros((H, W), bool)
    expected[5, 30] = True
    np.testing.assert_array_equal(drawn(frame), expected)
    beyond = [{"offset_x": 0.75, "width": 0.5}]  # half of it is outside the frame
    image = np.full((H, W, 3), 255, np.uint8)
    frame = draw([(InputSpec("", "color", views=beyond), image)], W, H)
    assert (frame[:, 30:, 0] == 255).all() and (frame[:, :30, 0] == 0).all()


def test_bad_views_raise_naming_the_spec():
    with pytest.raises(ConfigError, match="'v'.*view size must be positive"):
        InputSpec("v", "color", views=[{"width": 0.0}])
    with pytest.raises(ConfigError, match="'v'.*unknown key.*'left'"):
        InputSpec("v", "color", views=[{"left": 0.1}])
    with pytest.raises(ConfigError, match="'v'.*at most 16 frames"):
        InputSpec("v", "color", views=[{"width": 1e9}])  # would ask for a frame of 1e9 x W pixels
    with pytest.raises(ConfigError, match="'v'.*offset must be within"):
        InputSpec("v", "color", views=[{"offset_x": float("nan")}])


def test_explicit_image_formats_reorder_channels_or_are_refused(draw):
    bgra = np.zeros((H, W, 4), np.uint8)
    bgra[..., 0] = 255  # blue in BGRA order
    bgra[..., 3] = 255
    frame = draw([(InputSpec("", "color", image_format="b8g8r8a8_unorm"), bgra)], W, H)
    assert (frame[..., 2] == 255).all() and (frame[..., 0] == 0).all()
    with pytest.raises(ConfigError, match="''.*image_format 'y8_u8v8_2plane_420_unorm' is not drawn"):
        draw([(InputSpec("", "color", image_format="y8_u8v8_2plane_420_unorm"), bgra)], W, H)
    with pytest.raises(TensorError, match="''.*'r8g8b8_unorm' needs HxWx3 uint8"):
        draw([(InputSpec("", "color", image_format="r8g8b8_unorm"), bgra)], W, H)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.lists(st.floats(-1, 2), max_size=5),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=6), st.floats(-1, 2), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["color", "text", "rectangles", "color_lut"]),
    values=st.dictionaries(
        st.sampled_from(
            ["name", "opacity", "priority", "color", "line_width", "point_size", "text", "views", "bogus"]
        ),
        _VALUES,
        max_size=4,
    ),
)
def test_any_spec_dict_builds_a_spec_or_raises_config_error(kind, values):
    try:
        spec = InputSpec.from_dict({"name": "x", "type": kind, **values})
    except ConfigError:
        return
    assert 0.0 <= spec.opacity <= 1.0 and len(spec.color) == 4 and spec.line_width > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(
        ["unknown", "color", "color_lut", "points", "lines", "triangles", "text", "depth_map"]
    ),
    dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_]),
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4),
)
def test_any_tensor_draws_or_raises_a_holoflow_error(draw, kind, dtype, shape):
    array = np.ones(shape, dtype)
    spec = InputSpec("t", kind, text=("A",))
    try:
        frame = draw([(spec, array)], 8, 6, [[1.0, 0.0, 0.0, 1.0]])
    except (TensorError, ConfigError) as exc:
        message = str(exc)
    else:
        assert frame.shape == (6, 8, 4) and frame.dtype == np.uint8
        return
    assert "'t'" in message  # the error names the spec
