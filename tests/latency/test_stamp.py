"""The frame-id stamp: every id round-trips, through scaling, colour conversion and overlays;
a damaged pattern is rejected, never misread."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.latency import MAX_FRAME_ID, read_stamp, stamp_frame
from holoflow.latency._stamp import COLUMNS, HEIGHT_FRACTION, ROWS, WIDTH_FRACTION, _edges, stamp_region

PIL = pytest.importorskip("PIL.Image")

frame_ids = st.integers(0, MAX_FRAME_ID)


def _noise(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _stamped(frame_id, shape=(216, 384, 3), seed=0):
    image = _noise(shape, seed)
    stamp_frame(image, frame_id)
    return image


def _cells(shape):
    """Pixel slices of every cell: cells[row][column] = (rows slice, columns slice)."""
    ys = _edges(shape[0], ROWS, HEIGHT_FRACTION)
    xs = _edges(shape[1], COLUMNS, WIDTH_FRACTION)
    return [[(slice(ys[r], ys[r + 1]), slice(xs[c], xs[c + 1])) for c in range(COLUMNS)] for r in range(ROWS)]


def _flip_bit(image, bit):
    """Swap the two cells of ``bit``: that bit reads inverted."""
    row, pair = divmod(bit, COLUMNS // 2)
    cells = _cells(image.shape)[row]
    a, b = cells[2 * pair], cells[2 * pair + 1]
    first, second = image[a].copy(), image[b].copy()
    image[a], image[b] = second, first


@settings(max_examples=300, deadline=None)
@given(
    frame_id=frame_ids,
    height=st.integers(64, 400),
    width=st.integers(64, 600),
    channels=st.sampled_from([None, 1, 3, 4]),
    seed=st.integers(0, 2**16),
)
def test_every_id_round_trips(frame_id, height, width, channels, seed):
    shape = (height, width) if channels is None else (height, width, channels)
    image = _noise(shape, seed)
    stamp_frame(image, frame_id)
    assert read_stamp(image) == frame_id


@settings(max_examples=200, deadline=None)
@given(frame_id=frame_ids, bits=st.sets(st.integers(0, 31), min_size=1, max_size=3))
def test_up_to_three_wrong_bits_are_rejected(frame_id, bits):
    image = _stamped(frame_id)
    for bit in bits:
        _flip_bit(image, bit)
    assert read_stamp(image) is None


def test_every_one_two_and_three_bit_error_is_caught():
    """Exhaustively, on one id: the CRC catches all 5488 patterns of at most three wrong bits."""
    image = _stamped(4242)
    for k in (1, 2, 3):
        for bits in itertools.combinations(range(32), k):
            damaged = image.copy()
            for bit in bits:
                _flip_bit(damaged, bit)
            assert read_stamp(damaged) is None, bits


@settings(max_examples=100, deadline=None)
@given(frame_id=frame_ids, bit=st.integers(0, 31), cell=st.integers(0, 1), value=st.integers(0, 255))
def test_a_cell_without_contrast_is_rejected(frame_id, bit, cell, value):
    """Both cells of a bit the same: no guess, whatever the shade."""
    image = _stamped(frame_id)
    row, pair = divmod(bit, COLUMNS // 2)
    cells = _cells(image.shape)[row]
    image[cells[2 * pair]] = value
    image[cells[2 * pair + 1]] = value
    assert read_stamp(image) is None


def test_images_without_a_stamp_read_none():
    assert read_stamp(np.zeros((100, 100, 3), np.uint8)) is None
    assert read_stamp(np.full((100, 100), 255, np.uint8)) is None
    misses = [read_stamp(_noise((120, 160, 3), seed)) for seed in range(200)]
    assert misses == [None] * 200


@pytest.mark.parametrize("size", [(512, 512), (768, 432), (200, 100), (1000, 333), (96, 80)])
@pytest.mark.parametrize("method", ["NEAREST", "BILINEAR", "BICUBIC", "LANCZOS"])
def test_scaled_copies_read_the_same_id(size, method):
    for frame_id in (0, 1, 77, 123_456, MAX_FRAME_ID):
        image = _stamped(frame_id, (256, 256, 3), seed=frame_id % 7)
        scaled = np.asarray(PIL.fromarray(image).resize(size, getattr(PIL.Resampling, method)))
        assert read_stamp(scaled) == frame_id


@pytest.mark.parametrize("mode", ["L", "YCbCr", "HSV", "RGBA", "P"])
def test_colour_conversions_keep_the_id(mode):
    image = _stamped(987_654, (216, 384, 3))
    converted = PIL.fromarray(image).convert(mode)
    back = np.asarray(converted.convert("RGB") if mode in ("YCbCr", "HSV", "P") else converted)
    assert read_stamp(back) == 987_654


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.7])
def test_a_translucent_overlay_keeps_the_id(alpha):
    """Holoviz blends label colours over the video (the sample apps' LUTs go to 0.7 opacity)."""
    image = _stamped(31_337, (256, 256, 3)).astype(np.float64)
    colour = np.array([0.2, 0.63, 0.17]) * 255
    blended = (image * (1 - alpha) + colour * alpha).round().astype(np.uint8)
    assert read_stamp(blended) == 31_337
    assert read_stamp(blended.astype(np.float32) / 255) == 31_337  # a float image in 0..1


def test_a_corner_crop_reads_with_the_full_size():
    image = _stamped(5, (300, 500, 4))
    rows, columns = stamp_region(300, 500)
    assert (rows, columns) == (37, 250)
    assert read_stamp(image[: rows + 3, : columns + 3].copy(), size=(300, 500)) == 5
    with pytest.raises(ValueError, match="corner given holds"):
        read_stamp(image[:10, :10], size=(300, 500))


def test_stamping_only_touches_the_corner():
    image = _noise((128, 128, 3))
    before = image.copy()
    stamp_frame(image, 99)
    rows, columns = stamp_region(128, 128)
    changed = np.argwhere((image != before).any(axis=2))
    assert changed[:, 0].max() < rows and changed[:, 1].max() < columns


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"outside 0\.\.16777215"):
        stamp_frame(np.zeros((64, 64), np.uint8), MAX_FRAME_ID + 1)
    with pytest.raises(ValueError, match="outside"):
        stamp_frame(np.zeros((64, 64), np.uint8), -1)
    with pytest.raises(ValueError, match="uint8 image, got float32"):
        stamp_frame(np.zeros((64, 64), np.float32), 1)
    with pytest.raises(ValueError, match="too small for a frame stamp"):
        stamp_frame(np.zeros((63, 64), np.uint8), 1)
    with pytest.raises(ValueError, match="too small"):
        read_stamp(np.zeros((64, 40), np.uint8))
