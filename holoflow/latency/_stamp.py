"""A frame id drawn into an image as black and white blocks, and read back from a rendered copy.

The pattern is a grid of ``ROWS`` x ``COLUMNS`` cells in the image's top-left corner, laid out
in fractions of the image (``WIDTH_FRACTION`` of its width, ``HEIGHT_FRACTION`` of its height),
so it lands on the same cells after the image is scaled to any size, uniformly or not. Each of
the 32 bits (a 24-bit id, then a CRC-8 of it) is a pair of neighbouring cells: white then black
for 1, black then white for 0. A bit is read by comparing the two cells' mean brightness, so a
tint or a translucent overlay drawn over both cells, a colour conversion or a change of range
does not change it; each cell is averaged over its middle half, away from edges blurred by
scaling. A pair whose cells differ by less than ``MIN_CONTRAST`` of full scale, or a CRC that
does not match, makes the read fail (``None``) rather than guess: any one, two or three wrong
bits are always caught.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "COLUMNS",
    "HEIGHT_FRACTION",
    "MAX_FRAME_ID",
    "MIN_CONTRAST",
    "ROWS",
    "WIDTH_FRACTION",
    "read_stamp",
    "stamp_frame",
    "stamp_region",
]

ROWS = 4
"""Rows of cells."""
COLUMNS = 16
"""Columns of cells (eight bits a row)."""
WIDTH_FRACTION = 0.5
"""Part of the image width the pattern covers."""
HEIGHT_FRACTION = 0.125
"""Part of the image height the pattern covers."""
MAX_FRAME_ID = (1 << 24) - 1
"""The largest id a stamp holds."""
MIN_CONTRAST = 0.15
"""Least brightness difference (fraction of full scale) between the two cells of a bit."""

_ID_BITS = 24
_BITS = 32
_MIN_CELL = 2  # pixels: smaller cells leave no middle to read


def _crc8(value: int) -> int:
    """CRC-8 (polynomial 0x07, initial 0xFF) of ``value``'s three bytes, big-endian."""
    crc = 0xFF
    for byte in value.to_bytes(3, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _bits(frame_id: int) -> list[int]:
    word = (frame_id << 8) | _crc8(frame_id)
    return [(word >> (_BITS - 1 - i)) & 1 for i in range(_BITS)]


def _edges(size: int, cells: int, fraction: float) -> np.ndarray:
    """Pixel boundaries of ``cells`` cells across ``fraction`` of ``size`` pixels."""
    span = size * fraction
    return np.floor(np.arange(cells + 1) * span / cells).astype(np.int64)


def stamp_region(height: int, width: int) -> tuple[int, int]:
    """``(rows, columns)`` of pixels, from the top-left corner, that the pattern covers in an
    image of ``height`` x ``width``.

    Raises
    ------
    ValueError
        If the image is too small for cells of at least two pixels.
    """
    ys, xs = _edges(height, ROWS, HEIGHT_FRACTION), _edges(width, COLUMNS, WIDTH_FRACTION)
    if np.diff(ys).min() < _MIN_CELL or np.diff(xs).min() < _MIN_CELL:
        raise ValueError(
            f"a {height}x{width} image is too small for a frame stamp "
            f"(at least {int(np.ceil(_MIN_CELL * ROWS / HEIGHT_FRACTION))} rows and "
            f"{int(np.ceil(_MIN_CELL * COLUMNS / WIDTH_FRACTION))} columns)"
        )
    return int(ys[-1]), int(xs[-1])


def stamp_frame(image: Any, frame_id: int) -> None:
    """Draw ``frame_id``'s pattern into ``image`` in place.

    ``image`` is ``(H, W)`` or ``(H, W, C)`` uint8, on the host (numpy) or a device (any array
    with numpy's slice assignment, such as CuPy); every channel of a cell is set to 0 or 255.

    Raises
    ------
    ValueError
        If ``frame_id`` is outside ``0..MAX_FRAME_ID``, the image is not uint8 of two or three
        dimensions, or it is too small (:func:`stamp_region`).
    """
    if not 0 <= frame_id <= MAX_FRAME_ID:
        raise ValueError(f"frame id {frame_id} is outside 0..{MAX_FRAME_ID}")
    shape = tuple(image.shape)
    if str(image.dtype) != "uint8" or len(shape) not in (2, 3):
        raise ValueError(f"a frame stamp needs an (H, W[, C]) uint8 image, got {image.dtype} {shape}")
    stamp_region(shape[0], shape[1])
    ys = _edges(shape[0], ROWS, HEIGHT_FRACTION)
    xs = _edges(shape[1], COLUMNS, WIDTH_FRACTION)
    per_row = COLUMNS // 2
    for i, bit in enumerate(_bits(frame_id)):
        row, pair = divmod(i, per_row)
        y0, y1 = ys[row], ys[row + 1]
        first, second = (255, 0) if bit else (0, 255)
        image[y0:y1, xs[2 * pair] : xs[2 * pair + 1]] = first
        image[y0:y1, xs[2 * pair + 1] : xs[2 * pair + 2]] = second


def _cell_means(corner: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Mean brightness (0..1, first three channels, alpha ignored) of the middle half of each
    cell: ``(ROWS, COLUMNS)``. Only the middle rows of each cell row are read."""
    if corner.ndim == 3:  # colour (alpha dropped), or the first channel of grey + alpha
        corner = corner[..., :3] if corner.shape[2] >= 3 else corner[..., 0]
    used = corner.shape[2] if corner.ndim == 3 else 1
    scale = (255.0 if corner.dtype == np.uint8 else 1.0) * used
    accumulator = np.uint32 if corner.dtype == np.uint8 else np.float64
    y0, y1 = _middle(ys)
    x0, x1 = _middle(xs)
    means = np.empty((ROWS, COLUMNS))
    for row in range(ROWS):
        sums = corner[y0[row] : y1[row]].sum(axis=0, dtype=accumulator)  # per column (and channel)
        if sums.ndim == 2:
            sums = sums.sum(axis=1)
        running = np.concatenate(([0.0], sums.cumsum(dtype=np.float64)))
        means[row] = (running[x1] - running[x0]) / ((x1 - x0) * (y1[row] - y0[row]) * scale)
    return means


def read_stamp(image: Any, size: tuple[int, int] | None = None) -> int | None:
    """The frame id stamped into ``image``, or ``None`` when no intact pattern is there.

    Parameters
    ----------
    image : array
        ``(H, W)`` or ``(H, W, C)`` host array, uint8 (0..255) or float (0..1): the stamped
        image or a scaled copy of it, such as a rendered frame (RGBA) showing it full size.
    size : (height, width), optional
        The full image's size when ``image`` is only its top-left corner (at least the
        :func:`stamp_region` of that size); default: ``image``'s own.

    Raises
    ------
    ValueError
        If the image (or ``size``) is too small to hold a pattern.
    """
    height, width = size if size is not None else image.shape[:2]
    rows, columns = stamp_region(height, width)
    corner = np.asarray(image)[:rows, :columns]
    if corner.shape[:2] != (rows, columns):
        raise ValueError(f"the corner given holds {corner.shape[:2]}, the pattern needs {(rows, columns)}")
    ys = _edges(height, ROWS, HEIGHT_FRACTION)
    xs = _edges(width, COLUMNS, WIDTH_FRACTION)
    means = _cell_means(corner, ys, xs)
    difference = means[:, 0::2] - means[:, 1::2]  # (ROWS, COLUMNS / 2): one per bit
    if np.abs(difference).min() < MIN_CONTRAST:
        return None
    word = 0
    for bit in (difference.reshape(-1) > 0).tolist():
        word = (word << 1) | int(bit)
    frame_id = word >> 8
    return frame_id if _crc8(frame_id) == word & 0xFF else None


def _middle(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of the middle half of each cell between ``edges``."""
    start, end = edges[:-1], edges[1:]
    quarter = (end - start) // 4
    return start + quarter, np.maximum(end - quarter, start + quarter + 1)
