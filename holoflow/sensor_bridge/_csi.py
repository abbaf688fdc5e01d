"""MIPI CSI-2 RAW line packing, as the sensor bridge delivers raw camera frames.

A frame is ``start_byte`` bytes (embedded data, optical-black lines), then ``height`` lines of
``bytes_per_line`` bytes each (the packed pixels padded to 8 bytes), then ``trailing_bytes``.

- RAW8: one byte per pixel.
- RAW10: 4 pixels in 5 bytes — the high 8 bits of each pixel, then a byte of the four low
  2-bit pairs (pixel ``i`` in bits ``2i..2i+1``).
- RAW12: 2 pixels in 3 bytes — the high 8 bits of each, then both low nibbles (pixel 0 low).

Unpacked pixels are uint16 with the sample in the most significant bits.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

__all__ = [
    "BayerFormat",
    "PixelFormat",
    "pack_raw",
    "received_line_bytes",
    "transmitted_line_bytes",
    "unpack_raw",
]


class PixelFormat(enum.IntEnum):
    """CSI-2 RAW pixel formats (values as Holoscan sensor bridge numbers them)."""

    RAW_8 = 0
    RAW_10 = 1
    RAW_12 = 2

    @property
    def bits(self) -> int:
        """Bits per pixel."""
        return (8, 10, 12)[self]


class BayerFormat(enum.IntEnum):
    """Colour filter layouts, numbered as BayerDemosaicOp's ``bayer_grid_pos``."""

    BGGR = 0
    RGGB = 1
    GBRG = 2
    GRBG = 3


def transmitted_line_bytes(pixel_format: PixelFormat, width: int) -> int:
    """Bytes the sensor sends per line of ``width`` pixels (width a multiple of 4 for RAW10, 2 for RAW12)."""
    pixel_format = PixelFormat(pixel_format)
    if pixel_format is PixelFormat.RAW_8:
        return width
    if pixel_format is PixelFormat.RAW_10:
        return width * 5 // 4
    return width * 3 // 2


def received_line_bytes(line_bytes: int) -> int:
    """A line's length in memory: ``line_bytes`` rounded up to 8 (the device's datapath width)."""
    return -(-line_bytes // 8) * 8


def pack_raw(pixels: np.ndarray, pixel_format: PixelFormat, bytes_per_line: int | None = None) -> np.ndarray:
    """Pack ``(height, width)`` integer samples (right-aligned, ``bits`` wide) into CSI lines.

    Returns a ``(height, bytes_per_line)`` uint8 array; padding bytes are zero.

    Raises
    ------
    ValueError
        If the width does not split into whole groups or a line does not fit ``bytes_per_line``.
    """
    pixel_format = PixelFormat(pixel_format)
    height, width = pixels.shape
    line = transmitted_line_bytes(pixel_format, width)
    if bytes_per_line is None:
        bytes_per_line = received_line_bytes(line)
    group = {PixelFormat.RAW_8: 1, PixelFormat.RAW_10: 4, PixelFormat.RAW_12: 2}[pixel_format]
    if width % group or bytes_per_line < line:
        raise ValueError(f"width {width} / bytes_per_line {bytes_per_line} does not fit {pixel_format.name}")
    out = np.zeros((height, bytes_per_line), np.uint8)
    p = pixels.astype(np.uint16)
    if pixel_format is PixelFormat.RAW_8:
        out[:, :width] = p
    elif pixel_format is PixelFormat.RAW_10:
        q = p.reshape(height, width // 4, 4)
        packed = out[:, :line].reshape(height, width // 4, 5)
        packed[..., :4] = q >> 2
        low = q & 3
        packed[..., 4] = low[..., 0] | (low[..., 1] << 2) | (low[..., 2] << 4) | (low[..., 3] << 6)
    else:
        q = p.reshape(height, width // 2, 2)
        packed = out[:, :line].reshape(height, width // 2, 3)
        packed[..., :2] = q >> 4
        packed[..., 2] = (q[..., 0] & 0xF) | ((q[..., 1] & 0xF) << 4)
    return out


def unpack_raw(lines: Any, pixel_format: PixelFormat, width: int, xp: Any = np) -> Any:
    """Unpack ``(height, bytes_per_line)`` uint8 CSI lines into ``(height, width)`` uint16,
    samples shifted to the most significant bits. ``xp`` is numpy or CuPy."""
    pixel_format = PixelFormat(pixel_format)
    height = lines.shape[0]
    if pixel_format is PixelFormat.RAW_8:
        return lines[:, :width].astype(xp.uint16) << 8
    if pixel_format is PixelFormat.RAW_10:
        groups = lines[:, : width * 5 // 4].reshape(height, width // 4, 5).astype(xp.uint16)
        out = xp.empty((height, width // 4, 4), xp.uint16)
        low = groups[..., 4]
        for i in range(4):
            out[..., i] = (groups[..., i] << 8) | (((low >> (2 * i)) & 3) << 6)
        return out.reshape(height, width)
    groups = lines[:, : width * 3 // 2].reshape(height, width // 2, 3).astype(xp.uint16)
    out = xp.empty((height, width // 2, 2), xp.uint16)
    out[..., 0] = (groups[..., 0] << 8) | ((groups[..., 2] & 0xF) << 4)
    out[..., 1] = (groups[..., 1] << 8) | (groups[..., 2] & 0xF0)
    return out.reshape(height, width)
