"""The V4L2 capture's pixel-format paths: buffer shapes, Holoscan's RGBA converters, and the
choice of pixel format, frame size and frame rate."""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.errors import CodecError, ResourceError
from holoflow.operators._v4l2_formats import (
    mjpeg_to_rgba,
    quantization_name,
    rgb24_to_rgba,
    shape_frame,
    to_rgba,
    ycbcr_encoding_name,
    yuyv_to_rgba,
)
from holoflow.operators._v4l2_negotiate import (
    FrameSizes,
    choose_frame_interval,
    choose_frame_size,
    choose_pixel_format,
)

from ._emulated_v4l2 import jpeg, pattern, rgb_to_yuyv

# -- YUYV ------------------------------------------------------------------------------------------


def yuyv(*pixels):
    """One row of YUYV from (y0, cb, y1, cr) groups."""
    return np.array(pixels, np.uint8).reshape(1, -1, 2)


def test_yuyv_matches_holoscans_arithmetic_on_hand_computed_pixels():
    # Y=81, Cb=90, Cr=240: R = 81 + 1.4065*112 = 238.53, G = 81 + 0.3455*38 - 0.7169*112 = 13.84,
    # B = 81 - 1.779*38 = 13.40: truncated, not rounded.
    out = yuyv_to_rgba(yuyv(81, 90, 81, 240))
    assert out.tolist() == [[[238, 13, 13, 255], [238, 13, 13, 255]]]
    # Neutral chroma gives grey at the luma value; each pixel of a pair keeps its own luma.
    assert yuyv_to_rgba(yuyv(0, 128, 255, 128)).tolist() == [[[0, 0, 0, 255], [255, 255, 255, 255]]]
    # Out-of-gamut values clamp: full red chroma on white, full blue chroma on black.
    assert yuyv_to_rgba(yuyv(250, 128, 250, 255)).tolist()[0][0] == [255, 158, 250, 255]
    assert yuyv_to_rgba(yuyv(10, 255, 10, 128)).tolist()[0][0] == [10, 0, 235, 255]


def test_yuyv_pairs_share_chroma_and_rows_are_independent():
    frame = np.array([[[100, 60], [110, 200], [120, 128], [130, 128]]] * 2, np.uint8)
    frame[1, :, 0] = 50
    out = yuyv_to_rgba(frame)
    assert out.shape == (2, 4, 4) and out.dtype == np.uint8
    assert int(out[0, 1, 0]) - int(out[0, 0, 0]) == 110 - 100  # same Cr: red differs by the luma
    assert (out[0, 2, :3] == 120).all() and (out[0, 3, :3] == 130).all()
    assert (out[1, 2, :3] == 50).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.randoms(use_true_random=False))
def test_yuyv_round_trip_of_an_rgb_pattern_within_two_levels(height, pairs, rnd):
    """A known RGB image, encoded as full-range BT.601 YUYV, decodes back within 2 levels where
    it is in gamut (the truncation and the rounded encoding cost at most 1 each)."""
    rgb = np.array(
        [[[rnd.randrange(40, 216) for _ in range(3)] for _ in range(pairs)] for _ in range(height)], np.uint8
    ).repeat(2, axis=1)
    out = yuyv_to_rgba(rgb_to_yuyv(rgb))
    assert (out[:, :, 3] == 255).all()
    assert np.abs(out[:, :, :3].astype(int) - rgb).max() <= 2


def test_yuyv_round_trip_of_a_frame_pattern():
    rgb = pattern(64, 16, 3)
    assert np.abs(yuyv_to_rgba(rgb_to_yuyv(rgb))[:, :, :3].astype(int) - rgb).max() <= 2


# -- RGB24 and MJPEG --------------------------------------------------------------------------------


def test_rgb24_gets_an_opaque_alpha_and_keeps_the_colours():
    rgb = pattern(6, 4, 1)
    out = rgb24_to_rgba(rgb)
    assert (out[:, :, :3] == rgb).all() and (out[:, :, 3] == 255).all()


def test_mjpeg_decodes_to_the_pattern_it_was_encoded_from():
    pytest.importorskip("PIL")
    rgb = pattern(64, 48, 2)
    data = np.frombuffer(jpeg(rgb), np.uint8)
    out = mjpeg_to_rgba(data, 64, 48)
    assert out.shape == (48, 64, 4) and (out[:, :, 3] == 255).all()
    error = np.abs(out[:, :, :3].astype(int) - rgb)
    assert error.mean() < 1.5 and error.max() <= 8  # JPEG at quality 95 on smooth ramps


def test_mjpeg_is_decoded_by_libjpeg_bit_for_bit_as_pillow_decodes_it():
    from PIL import Image

    data = jpeg(pattern(32, 16, 5))
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert (mjpeg_to_rgba(data, 32, 16)[:, :, :3] == expected).all()


def test_a_corrupt_or_mis_sized_mjpeg_frame_is_a_codec_error():
    pytest.importorskip("PIL")
    data = jpeg(pattern(32, 16, 0))
    with pytest.raises(CodecError, match="does not decode"):
        mjpeg_to_rgba(b"\xff\xd8 not a jpeg", 32, 16)
    with pytest.raises(CodecError, match="does not decode"):
        mjpeg_to_rgba(data[: len(data) // 3], 32, 16)
    with pytest.raises(CodecError, match="32x16, the stream is 64x48"):
        mjpeg_to_rgba(data, 64, 48)


def test_to_rgba_dispatches_and_passes_rgba_on():
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert to_rgba("AB24", rgba, 2, 2) is rgba
    assert to_rgba("RGB3", np.zeros((2, 2, 3), np.uint8), 2, 2).shape == (2, 2, 4)
    with pytest.raises(ValueError, match="no RGBA converter for pixel format 'NV12'"):
        to_rgba("NV12", rgba, 2, 2)


# -- shapes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fourcc", "shape"),
    [
        ("YUYV", (4, 6, 2)),
        ("AB24", (4, 6, 4)),
        ("XR24", (4, 6, 4)),
        ("RGB3", (4, 6, 3)),
        ("BGR3", (4, 6, 3)),
        ("GREY", (4, 6, 1)),
        ("NV12", (6, 6)),
        ("YU12", (6, 6)),
        ("NV24", (12, 6)),
    ],
)
def test_packed_and_planar_buffers_take_their_frame_shapes(fourcc, shape):
    data = np.arange(int(np.prod(shape)), dtype=np.uint8)
    frame = shape_frame(fourcc, data.tobytes(), 6, 4)
    assert frame.shape == shape
    assert (frame.reshape(-1) == data).all()


def test_y16_is_little_endian_sixteen_bit_grey():
    data = np.array([1, 2, 3, 4, 5, 6, 7, 8], np.uint8)
    frame = shape_frame("Y16 ", data, 2, 2)
    assert frame.dtype == np.uint16 and frame.shape == (2, 2, 1)
    assert frame.reshape(-1).tolist() == [0x0201, 0x0403, 0x0605, 0x0807]


def test_compressed_unknown_and_mis_sized_planar_buffers_stay_bytes():
    data = np.arange(10, dtype=np.uint8)
    assert shape_frame("MJPG", data, 640, 480, compressed=True).shape == (10,)
    assert shape_frame("H264", data, 640, 480).shape == (10,)
    assert shape_frame("NV12", data, 640, 480).shape == (10,)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["YUYV", "AB24", "RGB3", "GREY", "Y16 "]),
    st.integers(1, 9),
    st.integers(1, 7),
    st.integers(0, 40),
)
def test_row_padding_is_sliced_off(fourcc, width, height, padding):
    """A buffer with padded rows gives the same frame as a packed one."""
    itemsize = {"YUYV": 2, "AB24": 4, "RGB3": 3, "GREY": 1, "Y16 ": 2}[fourcc]
    row = width * itemsize
    image = np.random.default_rng(width * 100 + height).integers(0, 256, (height, row), np.uint8)
    padded = np.zeros((height, row + padding), np.uint8)
    padded[:, :row] = image
    expected = shape_frame(fourcc, image.tobytes(), width, height)
    got = shape_frame(fourcc, padded.reshape(-1)[: padded.size - padding], width, height, row + padding)
    assert got.shape == expected.shape and (got == expected).all()


def test_a_short_buffer_is_a_codec_error():
    with pytest.raises(CodecError, match=r"YUYV frame of 4x2 needs 16 bytes, the buffer holds 10"):
        shape_frame("YUYV", bytes(10), 4, 2)


def test_metadata_names_are_the_kernel_enum_names():
    assert ycbcr_encoding_name(0) == "V4L2_YCBCR_ENC_DEFAULT"
    assert ycbcr_encoding_name(1) == "V4L2_YCBCR_ENC_601"
    assert ycbcr_encoding_name(8) == "V4L2_YCBCR_ENC_SMPTE240M"
    assert ycbcr_encoding_name(128) == ""  # an HSV encoding shares the field: no YCbCr name
    assert quantization_name(2) == "V4L2_QUANTIZATION_LIM_RANGE"
    assert quantization_name(7) == ""


# -- choosing the mode ------------------------------------------------------------------------------


def test_auto_takes_holoscans_first_preference_the_device_offers():
    assert choose_pixel_format("auto", ["YUYV", "AB24", "RGB3"], pass_through=True) == "AB24"
    assert choose_pixel_format("auto", ["YUYV", "NV12", "MJPG"], pass_through=True) == "NV12"
    # Without pass-through only formats with a converter count: NV12 is skipped.
    assert choose_pixel_format("auto", ["NV12", "YUYV", "MJPG"], pass_through=False) == "YUYV"
    assert choose_pixel_format("auto", ["BGR3", "RGB3"], pass_through=False) == "RGB3"


def test_auto_falls_back_to_mjpeg_only_to_convert():
    assert choose_pixel_format("auto", ["MJPG", "H264"], pass_through=False) == "MJPG"
    with pytest.raises(ResourceError, match=r"the device offers MJPG, H264, none of AB24, RA24"):
        choose_pixel_format("auto", ["MJPG", "H264"], pass_through=True)


def test_a_named_format_must_be_offered_and_convertible():
    assert choose_pixel_format("MJPG", ["YUYV", "MJPG"], pass_through=False) == "MJPG"
    assert choose_pixel_format("NV12", ["NV12"], pass_through=True) == "NV12"
    with pytest.raises(ResourceError, match=r"does not offer pixel format 'AB24'; it offers: YUYV, MJPG"):
        choose_pixel_format("AB24", ["YUYV", "MJPG"], pass_through=False)
    with pytest.raises(ResourceError, match="'NV12' has no RGBA converter"):
        choose_pixel_format("NV12", ["NV12"], pass_through=False)


def test_frame_sizes_follow_holoscans_matching_rule():
    offered = [FrameSizes(640, 480), FrameSizes(1280, 720), FrameSizes(320, 240)]
    assert choose_frame_size(0, 0, (1280, 720), offered) == (1280, 720)
    assert choose_frame_size(320, 240, (1280, 720), offered) == (320, 240)
    assert choose_frame_size(1280, 0, (640, 480), offered) == (1280, 720)  # 0 takes the size's
    assert choose_frame_size(0, 240, (640, 480), offered) == (320, 240)
    with pytest.raises(ResourceError, match=r"does not capture 800x600; sizes offered: 640x480, 1280x720"):
        choose_frame_size(800, 600, (640, 480), offered)


def test_stepwise_frame_sizes_take_any_size_on_the_grid():
    offered = [FrameSizes(16, 16, 1920, 1080, 16, 8)]
    assert choose_frame_size(640, 360, (1280, 720), offered) == (640, 360)
    assert choose_frame_size(640, 0, (1280, 720), offered) == (640, 720)
    with pytest.raises(ResourceError, match="16x16 to 1920x1080"):
        choose_frame_size(650, 360, (1280, 720), offered)


def test_frame_rate_takes_the_nearest_interval():
    ntsc = Fraction(1001, 30000)
    offered = [(Fraction(1, 60), Fraction(1, 60)), (ntsc, ntsc), (Fraction(1, 15), Fraction(1, 15))]
    assert choose_frame_interval(30, offered, settable=True) == ntsc
    assert choose_frame_interval(50, offered, settable=True) == Fraction(1, 60)
    assert choose_frame_interval(1, offered, settable=True) == Fraction(1, 15)
    assert choose_frame_interval(0, offered, settable=True) is None
    assert choose_frame_interval(0, offered, settable=False) is None


def test_a_continuous_interval_range_takes_the_rate_clamped():
    offered = [(Fraction(1, 120), Fraction(1, 1))]
    assert choose_frame_interval(25, offered, settable=True) == Fraction(1, 25)
    assert choose_frame_interval(500, offered, settable=True) == Fraction(1, 120)


def test_a_rate_the_device_cannot_set_is_an_error():
    with pytest.raises(ResourceError, match=r"cannot set its frame rate \(frame_rate=30\)"):
        choose_frame_interval(30, [(Fraction(1, 30), Fraction(1, 30))], settable=False)
    with pytest.raises(ResourceError, match="reports no frame intervals"):
        choose_frame_interval(30, [], settable=True)
