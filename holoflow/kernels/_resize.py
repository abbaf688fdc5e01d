"""Resize filter tables: for each output row (column), the source indices and float32 weights.

Coordinates map pixel centres, as NPP does: ``src = (dst + 0.5) * src_size / dst_size - 0.5``;
taps outside the image are clamped to the edge.

Weights are multiples of ``2**-WEIGHT_BITS`` whose row sums are exactly 1 and whose absolute
sums stay below 2. For 8-bit samples every product and partial sum of a row's filter is then
a float32 number held exactly (at most 9 integer and 15 fraction bits), so the horizontal pass
gives the same result in any order, fused or not; flat images stay flat.
"""

from __future__ import annotations

import numpy as np

from holoflow.errors import ConfigError

__all__ = ["RESIZE_MODES", "WEIGHT_BITS", "filter_table", "resize_mode_name"]

WEIGHT_BITS = 15

# NPP interpolation codes -> (name, taps, cubic B, cubic C)
RESIZE_MODES: dict[int, tuple[str, int, float, float]] = {
    1: ("nearest", 1, 0.0, 0.0),
    2: ("linear", 2, 0.0, 0.0),
    4: ("cubic", 4, 0.0, 0.5),
    5: ("cubic B-spline", 4, 1.0, 0.0),
    6: ("cubic Catmull-Rom", 4, 0.0, 0.5),
    7: ("cubic B=1/2 C=3/10", 4, 0.5, 0.3),
    8: ("super-sampling", 0, 0.0, 0.0),
}


def resize_mode_name(mode: int) -> str:
    """The name of an NPP interpolation code (0 means cubic, as in Holoscan).

    Raises
    ------
    ConfigError
        For a code holoflow does not implement.
    """
    mode = 4 if mode == 0 else mode
    if mode not in RESIZE_MODES:
        raise ConfigError(
            f"resize_mode {mode} is not supported; use 0/4 (cubic), 1 (nearest), 2 (linear), "
            "5 (B-spline), 6 (Catmull-Rom), 7 (B=1/2 C=3/10) or 8 (super-sampling)"
        )
    return RESIZE_MODES[mode][0]


def _cubic(x: np.ndarray, b: float, c: float) -> np.ndarray:
    """The Mitchell-Netravali (B, C) cubic kernel."""
    x = np.abs(x)
    x2, x3 = x * x, x * x * x
    near = ((12 - 9 * b - 6 * c) * x3 + (-18 + 12 * b + 6 * c) * x2 + (6 - 2 * b)) / 6
    far = ((-b - 6 * c) * x3 + (6 * b + 30 * c) * x2 + (-12 * b - 48 * c) * x + (8 * b + 24 * c)) / 6
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def filter_table(src: int, dst: int, mode: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices (int32) and weights (float32), both shaped ``(dst, taps)``.

    Weights of each row are multiples of ``2**-WEIGHT_BITS`` summing to exactly 1; indices
    are clamped to the image, so edge pixels repeat.
    """
    mode = 4 if mode == 0 else mode
    resize_mode_name(mode)
    _, taps, b, c = RESIZE_MODES[mode]
    scale = src / dst
    centre = (np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5
    if mode == 1:
        index = np.floor((np.arange(dst) + 0.5) * scale).astype(np.int64)[:, None]
        weight = np.ones((dst, 1))
    elif mode == 2:
        base = np.floor(centre)
        frac = centre - base
        index = base.astype(np.int64)[:, None] + np.arange(2)
        weight = np.stack([1 - frac, frac], axis=1)
    elif mode == 8:  # area average over the footprint of each output pixel (box filter)
        support = max(scale, 1.0)
        taps = int(np.ceil(support)) + 1
        start = np.floor((np.arange(dst) + 0.5) * scale - support / 2).astype(np.int64)
        index = start[:, None] + np.arange(taps)
        left = (np.arange(dst) + 0.5) * scale - support / 2
        lo = np.maximum(index, left[:, None])
        hi = np.minimum(index + 1, left[:, None] + support)
        weight = np.clip(hi - lo, 0, None)
        weight /= weight.sum(axis=1, keepdims=True)
    else:
        base = np.floor(centre)
        index = base.astype(np.int64)[:, None] + np.arange(-1, 3)
        weight = _cubic(centre[:, None] - index, b, c)
        weight /= weight.sum(axis=1, keepdims=True)
    return np.clip(index, 0, src - 1).astype(np.int32), _quantize(weight).astype(np.float32)


def _quantize(weight: np.ndarray) -> np.ndarray:
    """Round each row of weights to multiples of ``2**-WEIGHT_BITS`` summing to exactly 1:
    every weight rounds down, then the row's missing steps go one each to the weights with the
    largest remainders, so no weight moves by a whole step."""
    scaled = weight * (1 << WEIGHT_BITS)
    steps = np.floor(scaled)
    missing = np.clip((1 << WEIGHT_BITS) - steps.sum(axis=1, keepdims=True), 0, weight.shape[1])
    rank = np.argsort(np.argsort(steps - scaled, axis=1, kind="stable"), axis=1, kind="stable")
    steps += rank < missing
    assert (np.abs(steps).sum(axis=1) < 2 << WEIGHT_BITS).all(), "absolute weights must sum below 2"
    quantized: np.ndarray = steps / (1 << WEIGHT_BITS)
    return quantized
