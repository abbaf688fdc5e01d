"""Format conversion: numerics against formulas, resize properties, validation errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from holoflow.errors import ConfigError, TensorError
from holoflow.kernels import SUM_SHIFT, WEIGHT_BITS, convert, filter_table, make_plan

RNG = np.random.default_rng(0)


def run(in_dtype, out_dtype, array, **kw):
    return convert(make_plan(in_dtype, out_dtype, array.shape, array.dtype, **kw), array)


def test_uint8_to_float32_scaling_formula():
    a = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = run("rgb888", "float32", a, scale_min=-1.0, scale_max=3.0)
    k = np.float32(4.0) / np.float32(255)
    np.testing.assert_array_equal(out, a.astype(np.float32) * k + np.float32(-1.0))
    assert out.dtype == np.float32 and out.min() >= -1.0 and out.max() <= 3.0


def test_float32_to_uint8_saturates_and_maps_nan_to_zero():
    a = np.array([[[-5.0, 0.0, 0.5], [1.0, 2.0, np.nan]]], np.float32)
    out = run("float32", "uint8", a, scale_min=0.0, scale_max=1.0)
    np.testing.assert_array_equal(out, [[[0, 0, 128], [255, 255, 0]]])


def test_rgb_to_rgba_and_back_with_channel_order():
    a = RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    rgba = run("rgb888", "rgba8888", a, alpha_value=9, out_channel_order=[2, 1, 0, 3])
    np.testing.assert_array_equal(rgba[..., :3], a[..., ::-1])
    assert (rgba[..., 3] == 9).all()
    back = run("rgba8888", "rgb888", rgba, out_channel_order=[2, 1, 0])
    np.testing.assert_array_equal(back, a)
    f = run("rgba8888", "float32", rgba)
    np.testing.assert_array_equal(f, rgba[..., :3].astype(np.float32) * (np.float32(1) / np.float32(255)))


def test_same_format_copy_applies_the_channel_order():
    a = RNG.integers(0, 256, (3, 3, 3), dtype=np.uint8)
    np.testing.assert_array_equal(run("rgb888", "rgb888", a, out_channel_order=[2, 0, 1]), a[..., [2, 0, 1]])
    f = RNG.random((3, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(run("float32", "float32", f), f)


def test_sixteen_bit_to_eight_bit():
    a = np.array([[[0, 257, 65535], [128, 32768, 65534]]], np.uint16)
    np.testing.assert_array_equal(run("rgb161616", "rgb888", a), [[[0, 1, 255], [0, 128, 255]]])
    rgba = np.concatenate([a, np.full((1, 2, 1), 7, np.uint16)], axis=2)
    assert run("rgba16161616", "rgb888", rgba).shape == (1, 2, 3)


def nv12(y, u, v, h=4, w=4):
    planes = np.empty((h * 3 // 2, w), np.uint8)
    planes[:h] = y
    chroma = planes[h:].reshape(h // 2, w // 2, 2)
    chroma[..., 0], chroma[..., 1] = u, v
    return planes


@pytest.mark.parametrize(
    ("fmt", "yuv", "rgb"),
    [
        ("nv12_bt601_full", (100, 128, 128), (100, 100, 100)),
        ("nv12_bt601_full", (76, 85, 255), (254, 0, 0)),  # JPEG red
        ("nv12_bt709_hdtv", (16, 128, 128), (0, 0, 0)),
        ("nv12_bt709_hdtv", (235, 128, 128), (255, 255, 255)),
        ("nv12", (235, 128, 128), (255, 255, 255)),
        ("nv12_bt709_csc", (50, 128, 128), (50, 50, 50)),
    ],
)
def test_nv12_matrices(fmt, yuv, rgb):
    out = run(fmt, "rgb888", nv12(*yuv))
    assert out.shape == (4, 4, 3)
    assert tuple(int(c) for c in out[1, 2]) == rgb


def test_yuyv_and_yuv420_gray():
    yuyv = np.zeros((2, 4, 2), np.uint8)
    yuyv[..., 0] = 90
    yuyv[..., 1] = 128
    assert (run("yuyv", "rgb888", yuyv) == 90).all()
    gray = np.full((6, 8, 3), 77, np.uint8)
    yuv = run("rgb888", "yuv420", gray)
    assert yuv.shape == (9, 8)
    assert (run("yuv420", "rgb888", yuv) == 77).all()
    assert run("yuv420", "rgba8888", yuv).shape == (6, 8, 4)


def test_yuv420_round_trip_of_a_smooth_image():
    y, x = np.mgrid[0:32, 0:48]
    image = np.stack([4 * x + 10, 5 * y + 20, 2 * (x + y) + 30], axis=2).astype(np.uint8)
    back = run("yuv420", "rgb888", run("rgb888", "yuv420", image))
    assert np.abs(back.astype(int) - image).max() <= 6


def test_nearest_resize_picks_pixel_centres():
    a = np.arange(16 * 3, dtype=np.uint8).reshape(4, 4, 3)
    out = run("rgb888", "rgb888", a, resize=(2, 2), resize_mode=1)
    np.testing.assert_array_equal(out, a[1::2, 1::2])


def test_linear_resize_of_a_ramp_stays_a_ramp():
    ramp = np.tile((np.arange(8, dtype=np.uint8) * 20)[None, :, None], (2, 1, 3))
    out = run("rgb888", "rgb888", ramp, resize=(2, 4), resize_mode=2)
    np.testing.assert_array_equal(out[0, :, 0], [10, 50, 90, 130])


@pytest.mark.parametrize("mode", [1, 2, 4, 6])
def test_same_size_resize_is_exact(mode):
    a = RNG.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    np.testing.assert_array_equal(run("rgba8888", "rgba8888", a, resize=(9, 11), resize_mode=mode), a)


@pytest.mark.parametrize(
    ("mode", "resized"),
    [(0, False), (1, False), (2, False), (4, False), (6, False), (5, True), (7, True), (8, True)],
)
def test_same_size_resize_is_skipped_where_the_filter_is_the_identity(mode, resized):
    """The sample apps' converters ask for 256x256 from 256x256: no work for interpolating filters."""
    plan = make_plan("", "float32", (256, 256, 3), np.dtype(np.uint8), resize=(256, 256), resize_mode=mode)
    assert plan.resized is resized


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 24),
    w=st.integers(1, 24),
    oh=st.integers(1, 24),
    ow=st.integers(1, 24),
    mode=st.sampled_from([0, 1, 2, 4, 5, 6, 7, 8]),
    value=st.integers(0, 255),
    channels=st.sampled_from([3, 4]),
)
def test_resizing_a_constant_image_keeps_it_constant(h, w, oh, ow, mode, value, channels):
    a = np.full((h, w, channels), value, np.uint8)
    out = run("uint8", "uint8" if channels == 3 else "rgba8888", a, resize=(oh, ow), resize_mode=mode)
    assert out.shape == (oh, ow, channels)
    assert np.abs(out.astype(int) - value).max() <= 1


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 20),
    w=st.integers(1, 20),
    oh=st.integers(1, 20),
    ow=st.integers(1, 20),
    mode=st.sampled_from([1, 2, 4, 5, 6, 7, 8]),
    low=st.floats(-10, 10),
    span=st.floats(0.5, 10),
)
def test_resized_float_output_stays_in_the_scale_range(h, w, oh, ow, mode, low, span):
    a = RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = run("rgb888", "float32", a, resize=(oh, ow), resize_mode=mode, scale_min=low, scale_max=low + span)
    assert out.shape == (oh, ow, 3) and out.dtype == np.float32
    assert out.min() >= np.float32(low) - 1e-4 and out.max() <= np.float32(low + span) + 1e-4


@settings(max_examples=80, deadline=None)
@given(
    src=st.integers(1, 3000),
    dst=st.integers(1, 3000),
    mode=st.sampled_from([1, 2, 4, 5, 6, 7, 8]),
)
def test_filter_weights_are_fixed_point_and_sum_to_one(src, dst, mode):
    table = filter_table(src, dst, mode)
    index = table.indices(src)
    assert index.min() >= 0 and index.max() <= src - 1
    assert table.steps.dtype == np.int32
    assert (table.steps.sum(axis=1) == 2**WEIGHT_BITS).all()
    assert (np.abs(table.steps).sum(axis=1) < 1.5 * 2**WEIGHT_BITS).all()
    centre = (np.arange(dst) + 0.5) * src / dst - 0.5  # the taps straddle each output's centre
    assert (table.first <= np.ceil(centre) + 1).all() and (table.first + table.taps >= np.floor(centre)).all()


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    out=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    mode=st.sampled_from([2, 4, 5, 6, 7, 8]),
    pattern=st.sampled_from(["checker", "random", "stripes"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_fixed_point_resize_equals_exact_arithmetic(shape, out, mode, pattern, seed):
    """The int32 reference never overflows: it equals the same sums in Python integers, also on
    the images that push the filters' negative lobes hardest."""
    h, w = shape
    if pattern == "checker":
        image = ((np.indices((h, w)).sum(axis=0) % 2) * 255).astype(np.uint8)
    elif pattern == "stripes":
        image = ((np.arange(w) % 2) * 255).astype(np.uint8)[None].repeat(h, 0)
    else:
        image = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    image = np.stack([image, 255 - image, image], axis=2)
    got = run("rgb888", "rgb888", image, resize=out, resize_mode=mode)
    fy, fx = filter_table(h, out[0], mode), filter_table(w, out[1], mode)
    iy, ix = fy.indices(h), fx.indices(w)
    pixels = image.astype(object)
    rows = sum(fx.steps[None, :, j, None].astype(object) * pixels[:, ix[:, j]] for j in range(fx.taps))
    rows = (rows + 2 ** (SUM_SHIFT - 1)) // 2**SUM_SHIFT
    acc = sum(fy.steps[:, i, None, None].astype(object) * rows[iy[:, i]] for i in range(fy.taps))
    shift = 2 * WEIGHT_BITS - SUM_SHIFT
    expected = np.clip((acc + 2 ** (shift - 1)) // 2**shift, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("in_dtype", "out_dtype", "array", "kw", "message"),
    [
        ("rgb888", "float32", np.zeros((4, 4, 4), np.uint8), {}, None),
        ("rgba8888", "float32", np.zeros((4, 4, 3), np.uint8), {}, "needs 4 channels, got 3"),
        ("rgb888", "float32", np.zeros((4, 4), np.uint8), {}, "3 (RGB) or 4 (RGBA) channels, got 1"),
        ("rgb888", "float32", np.zeros((2, 4, 4, 3), np.uint8), {}, "expected an image of rank 2"),
        ("float32", "uint8", np.zeros((4, 4, 3), np.uint8), {}, "needs float32 elements, got uint8"),
        (
            "uint16",
            "rgb888",
            np.zeros((4, 4), np.uint16),
            {},
            "uint16 input needs 3 (RGB) or 4 (RGBA) channels, got 1",
        ),
        (
            "",
            "rgb888",
            np.zeros((4, 4, 2), np.uint16),
            {},
            "uint16 input needs 3 (RGB) or 4 (RGBA) channels, got 2",
        ),
        (
            "float32",
            "uint8",
            np.zeros((4, 4, 3), np.float32),
            {"resize": (2, 2)},
            "uint8 RGB/RGBA input only",
        ),
        ("nv12", "rgb888", np.zeros((5, 4), np.uint8), {}, "(H*3/2, W) uint8 plane stack"),
        ("yuyv", "rgb888", np.zeros((4, 3, 2), np.uint8), {}, "even W"),
        ("nv12", "float32", np.zeros((6, 4), np.uint8), {}, "unsupported format conversion"),
        ("rgb888", "yuv420", np.zeros((3, 4, 3), np.uint8), {}, "even height and width"),
        ("rgb888", "rgb888", np.zeros((4, 4, 3), np.uint8), {"out_channel_order": [0, 1]}, "needs 3 entries"),
        (
            "rgb888",
            "rgb888",
            np.zeros((4, 4, 3), np.uint8),
            {"out_channel_order": [0, 1, 5]},
            "does not exist",
        ),
        ("rgb888", "float32", np.zeros((4, 4, 3), np.uint8), {"scale_min": 1, "scale_max": 1}, "must differ"),
        ("bgr", "float32", np.zeros((4, 4, 3), np.uint8), {}, "in_dtype 'bgr' is not supported"),
        ("", "float32", np.zeros((4, 4, 3), np.int8), {}, "cannot infer in_dtype"),
    ],
)
def test_bad_input_errors_name_the_tensor(in_dtype, out_dtype, array, kw, message):
    if message is None:  # a valid 4-channel uint8 -> float32 conversion drops alpha
        assert run(in_dtype, out_dtype, array, **kw).shape == (4, 4, 3)
        return
    with pytest.raises(TensorError, match=__import__("re").escape(message)):
        make_plan(in_dtype, out_dtype, array.shape, array.dtype, label="operator 'fc': tensor 'x'", **kw)


def test_unsupported_resize_mode():
    with pytest.raises(ConfigError, match="resize_mode 16 is not supported"):
        make_plan("rgb888", "rgb888", (4, 4, 3), np.uint8, resize=(2, 2), resize_mode=16)


@pytest.mark.parametrize(
    ("in_dtype", "shape"),
    [("rgb888", (0, 5, 3)), ("uint8", (6, 0, 3)), ("rgb888", (0, 0, 3)), ("rgba8888", (0, 5, 4))],
)
@pytest.mark.parametrize("out_dtype", ["rgb888", "rgba8888", "float32", "yuv420"])
def test_an_empty_image_cannot_be_resized(in_dtype, shape, out_dtype):
    message = f"operator 'fc': tensor 'x': cannot resize the empty image {shape} to 4x4"
    with pytest.raises(TensorError, match=__import__("re").escape(message)):
        make_plan(in_dtype, out_dtype, shape, np.uint8, resize=(4, 4), label="operator 'fc': tensor 'x'")


@pytest.mark.parametrize(
    ("in_dtype", "out_dtype", "shape", "dtype", "expected"),
    [
        ("rgb888", "rgb888", (0, 5, 3), np.uint8, (0, 5, 3)),
        ("rgb888", "rgba8888", (6, 0, 3), np.uint8, (6, 0, 4)),
        ("rgba8888", "float32", (0, 0, 4), np.uint8, (0, 0, 3)),
        ("rgb888", "yuv420", (0, 4, 3), np.uint8, (0, 4)),
        ("float32", "uint8", (0, 5, 2), np.float32, (0, 5, 2)),
        ("uint16", "rgb888", (4, 0, 3), np.uint16, (4, 0, 3)),
        ("nv12", "rgb888", (0, 4), np.uint8, (0, 4, 3)),
        ("yuyv", "rgb888", (3, 0, 2), np.uint8, (3, 0, 3)),
    ],
)
def test_an_empty_image_without_a_resize_converts_to_an_empty_image(
    in_dtype, out_dtype, shape, dtype, expected
):
    out = run(in_dtype, out_dtype, np.zeros(shape, dtype))
    assert out.shape == expected and out.dtype == (np.float32 if out_dtype == "float32" else np.uint8)


_ELEMENT = {"": np.uint8, "float32": np.float32, "rgb161616": np.uint16, "rgba16161616": np.uint16}
_ELEMENT["uint16"] = np.uint16
_OTHER_IN_DTYPES = [
    "float32",
    "yuv420",
    "nv12",
    "nv12_bt601_full",
    "yuyv",
    "rgb161616",
    "rgba16161616",
    "uint16",
]


@st.composite
def conversions(draw):
    """(in_dtype, out_dtype, shape, element type), mostly of a matching element type, with
    zero-sized dims often."""
    in_dtype = draw(st.sampled_from(["", "rgb888", "uint8", "rgba8888"] * 2 + _OTHER_IN_DTYPES))
    out_dtype = draw(st.sampled_from(["rgb888", "uint8", "float32", "rgba8888", "yuv420"]))
    side = st.one_of(st.just(0), st.integers(0, 9))
    shape = (draw(side), draw(side))
    rank = draw(st.sampled_from([2, 3, 3, 3, 1, 4]))
    if rank == 1:
        shape = shape[:1]
    elif rank >= 3:
        shape += (draw(st.sampled_from([3, 4, 3, 4, 0, 1, 2, 5])),)
    if rank == 4:
        shape += (draw(st.integers(0, 3)),)
    element = draw(st.sampled_from([_ELEMENT.get(in_dtype, np.uint8)] * 4 + [np.uint16, np.float32, np.int8]))
    return in_dtype, out_dtype, shape, element


@settings(max_examples=400, deadline=None)
@given(
    conversion=conversions(),
    resize=st.one_of(
        st.tuples(st.integers(1, 9), st.integers(1, 9)), st.tuples(st.integers(-1, 9), st.integers(-1, 9))
    ),
    mode=st.sampled_from([0, 1, 2, 4, 5, 6, 7, 8, 3, 9]),
    order=st.one_of(st.just([]), st.lists(st.integers(-1, 5), max_size=5)),
)
@example(conversion=("rgb888", "rgb888", (0, 5, 3), np.uint8), resize=(4, 4), mode=0, order=[])
@example(conversion=("", "float32", (6, 0, 4), np.uint8), resize=(4, 4), mode=1, order=[])
@example(conversion=("uint16", "rgb888", (0, 0), np.uint16), resize=(0, 0), mode=0, order=[])
def test_any_small_input_converts_to_its_shape_or_raises_a_holoflow_error(conversion, resize, mode, order):
    """Every shape (zero-sized dims included) and resize target gives the expected output shape
    or a TensorError/ConfigError: never an exception from numpy or Python."""
    in_dtype, out_dtype, shape, element = conversion
    try:
        plan = make_plan(
            in_dtype, out_dtype, shape, element, resize=resize, resize_mode=mode, out_channel_order=order
        )
    except (TensorError, ConfigError):
        return
    out = convert(plan, np.zeros(shape, element))
    assert out.shape == plan.out_shape
    assert out.dtype == (np.float32 if plan.out_dtype == "float32" else np.uint8)
    planar = plan.family == "yuv" and plan.in_dtype != "yuyv"
    height, width = (shape[0] * 2 // 3, shape[1]) if planar else shape[:2]
    if resize[0] > 0 and resize[1] > 0:
        height, width = resize
    if plan.out_dtype == "yuv420":
        assert out.shape == (height * 3 // 2, width)
    else:
        assert out.shape[:2] == (height, width) and len(out.shape) == 3


def test_no_plan_resizes_an_empty_image():
    """The invariant the CUDA path relies on: a FormatPlan, however built, never resizes an empty
    image, so no resize kernel is ever launched on one."""
    plan = make_plan("rgb888", "rgb888", (6, 5, 3), np.uint8, resize=(4, 4))
    assert plan.resized
    with pytest.raises(TensorError, match=__import__("re").escape("cannot resize the empty image (0, 5, 3)")):
        dataclasses.replace(plan, in_shape=(0, 5, 3), height=0)
