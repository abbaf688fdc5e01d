"""Bayer image signal processing: optical black level and gray-world white balance, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from holoflow.kernels._bayer import BAYER_PATTERNS

__all__ = ["process_bayer"]

_BINS = 256


def process_bayer(image: Any, bayer_format: int, bits: int, optical_black: int, xp: Any = np) -> Any:
    """Black level and white balance of a uint16 ``(H, W[, 1])`` Bayer image, in place.

    1. Subtract the optical black level (``optical_black`` in sensor units, ``bits`` wide;
       samples are MSB-aligned) and stretch the rest back to the full 16-bit range.
    2. Build a 256-bin histogram per colour (R, G, B sites of the mosaic) and take each
       colour's mean from it.
    3. Multiply each colour by ``max(means) / mean`` (gray world) and clamp to 65535.

    Returns ``image``.
    """
    plane = image.reshape(image.shape[0], image.shape[1])
    black = int(optical_black) << (16 - bits)
    if black:
        scale = 65535.0 / max(65535 - black, 1)
        stretched = (xp.maximum(plane.astype(xp.int32) - black, 0) * scale).astype(xp.int64)
        plane[...] = xp.minimum(stretched, 65535).astype(xp.uint16)
    red_row, red_col = BAYER_PATTERNS[bayer_format][1]
    sites = {
        "r": [(red_row, red_col)],
        "g": [(red_row, 1 - red_col), (1 - red_row, red_col)],
        "b": [(1 - red_row, 1 - red_col)],
    }
    centers = (xp.arange(_BINS, dtype=xp.float64) + 0.5) * (65536 / _BINS)
    means = {}
    for colour, positions in sites.items():
        hist = sum(xp.bincount((plane[r::2, c::2] >> 8).ravel(), minlength=_BINS) for r, c in positions)
        total = float(hist.sum())
        means[colour] = float((hist * centers).sum()) / total if total else 0.0
    top = max(means.values())
    for colour, positions in sites.items():
        gain = top / means[colour] if means[colour] else 1.0
        if abs(gain - 1.0) < 1e-6:
            continue
        for r, c in positions:
            view = plane[r::2, c::2]
            view[...] = xp.minimum(view * gain, 65535).astype(xp.uint16)
    return image
