"""Bilinear demosaicing: recovered colours, every pattern, bit depths, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import TensorError
from holoflow.kernels import BAYER_PATTERNS, demosaic


def mosaic(rgb, pattern):
    """Sample an RGB image with a Bayer pattern (the inverse of demosaicing)."""
    ry, rx = BAYER_PATTERNS[pattern][1]
    h, w, _ = rgb.shape
    raw = rgb[..., 1].copy()
    rows, cols = np.mgrid[0:h, 0:w]
    red = (rows % 2 == ry) & (cols % 2 == rx)
    blue = (rows % 2 != ry) & (cols % 2 != rx)
    raw[red] = rgb[..., 0][red]
    raw[blue] = rgb[..., 2][blue]
    return raw


@pytest.mark.parametrize("pattern", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_flat_colours_are_recovered_exactly(pattern, dtype):
    colour = np.array([200, 90, 30], dtype=dtype) * (256 if dtype == np.uint16 else 1)
    rgb = np.broadcast_to(colour, (6, 8, 3)).astype(dtype)
    out = demosaic(mosaic(rgb, pattern), pattern)
    assert out.dtype == dtype and out.shape == (6, 8, 3)
    np.testing.assert_array_equal(out, rgb)


def test_known_samples_pass_through_and_neighbours_average():
    raw = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    out = demosaic(raw, 1)  # RGGB: red at (0, 0)
    assert out[0, 0, 0] == raw[0, 0]  # red site keeps its red
    assert out[1, 1, 2] == raw[1, 1]  # blue site keeps its blue
    assert out[1, 1, 1] == (raw[0, 1] + raw[2, 1] + raw[1, 0] + raw[1, 2] + 2) // 4  # green from the cross
    assert out[1, 1, 0] == (int(raw[0, 0]) + raw[0, 2] + raw[2, 0] + raw[2, 2] + 2) // 4  # red from diagonals


def test_alpha_channel():
    raw = np.full((2, 2), 5, np.uint16)
    out = demosaic(raw, 0, alpha=255)
    assert out.shape == (2, 2, 4) and (out[..., 3] == 255).all()
    assert demosaic(raw.astype(np.uint8), 0, alpha=1000)[0, 0, 3] == 255


@pytest.mark.parametrize(
    ("raw", "pattern", "message"),
    [
        (np.zeros((4, 4, 3), np.uint8), 0, "single-channel (H, W)"),
        (np.zeros((1, 4), np.uint8), 0, "H, W >= 2"),
        (np.zeros((4, 4), np.float32), 0, "uint8 or uint16"),
        (np.zeros((4, 4), np.uint8), 7, "bayer_grid_pos must be"),
    ],
)
def test_errors(raw, pattern, message):
    with pytest.raises(TensorError, match=re.escape(message)):
        demosaic(raw, pattern)
