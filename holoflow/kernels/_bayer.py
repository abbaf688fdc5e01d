"""Bilinear Bayer demosaicing with exact integer arithmetic, for any array namespace.

Each missing colour is the rounded mean of its nearest same-colour neighbours: the four edge
neighbours (green at red/blue sites), the four diagonals (red at blue sites and back), or the
two neighbours along the row or column (red/blue at green sites). Borders mirror the image
without repeating the edge row, which keeps the colour pattern intact. Sums are int32 and
divisions are rounding shifts, so numpy and CuPy give identical results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from holoflow.errors import TensorError

__all__ = ["BAYER_PATTERNS", "demosaic"]

# NPP's bayer_grid_pos codes -> (red row, red column) within the 2x2 tile
BAYER_PATTERNS = {0: ("BGGR", (1, 1)), 1: ("RGGB", (0, 0)), 2: ("GBRG", (1, 0)), 3: ("GRBG", (0, 1))}


def demosaic(raw: Any, pattern: int, *, alpha: int | None = None, xp: Any = np, label: str = "tensor") -> Any:
    """Turn a single-channel Bayer image into RGB (or RGBA when ``alpha`` is given).

    Parameters
    ----------
    raw : array
        ``(H, W)`` or ``(H, W, 1)`` uint8 or uint16, H and W at least 2.
    pattern : int
        0 BGGR, 1 RGGB, 2 GBRG, 3 GRBG (NPP's ``bayer_grid_pos``).
    alpha : int, optional
        Fill value of a fourth (alpha) channel.

    Raises
    ------
    holoflow.errors.TensorError
        For another rank, channel count, dtype or pattern.
    """
    if pattern not in BAYER_PATTERNS:
        raise TensorError(
            f"{label}: bayer_grid_pos must be 0 (BGGR), 1 (RGGB), 2 (GBRG) or 3 (GRBG), got {pattern}"
        )
    if raw.ndim == 3 and raw.shape[2] == 1:
        raw = raw[:, :, 0]
    if raw.ndim != 2 or raw.shape[0] < 2 or raw.shape[1] < 2:
        raise TensorError(
            f"{label}: expected a single-channel (H, W) Bayer image with H, W >= 2, got {raw.shape}"
        )
    if raw.dtype not in (np.uint8, np.uint16):
        raise TensorError(f"{label}: Bayer input must be uint8 or uint16, got {raw.dtype}")
    ry, rx = BAYER_PATTERNS[pattern][1]
    padded = xp.pad(raw.astype(xp.int32), 1, mode="reflect")
    centre = padded[1:-1, 1:-1]
    north, south = padded[:-2, 1:-1], padded[2:, 1:-1]
    west, east = padded[1:-1, :-2], padded[1:-1, 2:]
    cross = (north + south + west + east + 2) >> 2
    diagonal = (padded[:-2, :-2] + padded[:-2, 2:] + padded[2:, :-2] + padded[2:, 2:] + 2) >> 2
    along_row = (west + east + 1) >> 1
    along_column = (north + south + 1) >> 1
    h, w = raw.shape
    row_parity = (xp.arange(h) % 2)[:, None]
    column_parity = (xp.arange(w) % 2)[None, :]
    red_row = row_parity == ry
    red_column = column_parity == rx
    at_red = red_row & red_column
    at_blue = ~red_row & ~red_column
    at_green = ~(at_red | at_blue)
    red = xp.where(at_red, centre, xp.where(at_blue, diagonal, xp.where(red_row, along_row, along_column)))
    blue = xp.where(at_blue, centre, xp.where(at_red, diagonal, xp.where(red_row, along_column, along_row)))
    green = xp.where(at_green, centre, cross)
    channels = [red, green, blue]
    if alpha is not None:
        channels.append(xp.full((h, w), min(int(alpha), int(np.iinfo(raw.dtype).max)), dtype=xp.int32))
    return xp.stack(channels, axis=2).astype(raw.dtype)
