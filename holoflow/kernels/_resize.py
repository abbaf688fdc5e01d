"""Resize filters: for each output row (column), its consecutive source taps and their weights.

Coordinates map pixel centres, as NPP does: ``src = (dst + 0.5) * src_size / dst_size - 0.5``;
taps outside the image read the edge pixel (the index is clamped).

Weights are integers in units of ``2**-WEIGHT_BITS`` (fixed point): each row's sum is exactly
``2**WEIGHT_BITS``, so flat images stay flat, and its absolute sum stays below
``1.5 * 2**WEIGHT_BITS``, which bounds every sum of a separable 8-bit resize below 2**31 (see
``_format``). Integer filtering gives the same result in any order, on any device.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holoflow.errors import ConfigError, HoloflowInternalError

__all__ = ["RESIZE_MODES", "SUM_SHIFT", "WEIGHT_BITS", "ResizeFilter", "filter_table", "resize_mode_name"]

WEIGHT_BITS = 14
SUM_SHIFT = 7
"""Fraction bits a separable resize drops (rounding half up) between its horizontal and vertical
passes, keeping ``WEIGHT_BITS - SUM_SHIFT`` of them."""

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


class ResizeFilter(NamedTuple):
    """One axis of a resize: output ``d`` reads source ``first[d] + j`` with weight ``steps[d, j]``."""

    first: np.ndarray
    """``(dst,)`` int64: the first tap's source index, before clamping (may be < 0)."""
    steps: np.ndarray
    """``(dst, taps)`` int32: weights in units of ``2**-WEIGHT_BITS``."""

    @property
    def taps(self) -> int:
        """Taps per output."""
        return int(self.steps.shape[1])

    def indices(self, size: int) -> np.ndarray:
        """``(dst, taps)`` int32 source indices, clamped to an axis of ``size`` samples."""
        return np.clip(self.first[:, None] + np.arange(self.taps), 0, size - 1).astype(np.int32)


def filter_table(src: int, dst: int, mode: int) -> ResizeFilter:
    """The filter resizing an axis of ``src`` samples to ``dst`` with NPP interpolation ``mode``."""
    mode = 4 if mode == 0 else mode
    resize_mode_name(mode)
    _, taps, b, c = RESIZE_MODES[mode]
    scale = src / dst
    centre = (np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5
    if mode == 1:
        first = np.floor((np.arange(dst) + 0.5) * scale).astype(np.int64)
        weight = np.ones((dst, 1))
    elif mode == 2:
        base = np.floor(centre)
        frac = centre - base
        first = base.astype(np.int64)
        weight = np.stack([1 - frac, frac], axis=1)
    elif mode == 8:  # area average over the footprint of each output pixel (box filter)
        support = max(scale, 1.0)
        taps = int(np.ceil(support)) + 1
        left = (np.arange(dst) + 0.5) * scale - support / 2
        first = np.floor(left).astype(np.int64)
        index = first[:, None] + np.arange(taps)
        lo = np.maximum(index, left[:, None])
        hi = np.minimum(index + 1, left[:, None] + support)
        weight = np.clip(hi - lo, 0, None)
        weight /= weight.sum(axis=1, keepdims=True)
    else:
        first = np.floor(centre).astype(np.int64) - 1
        weight = _cubic(centre[:, None] - (first[:, None] + np.arange(4)), b, c)
        weight /= weight.sum(axis=1, keepdims=True)
    steps = _quantize(weight)
    first.setflags(write=False)
    steps.setflags(write=False)
    return ResizeFilter(first, steps)


def _quantize(weight: np.ndarray) -> np.ndarray:
    """Round each row of weights to integers in units of ``2**-WEIGHT_BITS`` summing to exactly
    ``2**WEIGHT_BITS``: every weight rounds down, then the row's missing steps go one each to the
    weights with the largest remainders, so no weight moves by a whole step."""
    scaled = weight * (1 << WEIGHT_BITS)
    steps = np.floor(scaled)
    missing = np.clip((1 << WEIGHT_BITS) - steps.sum(axis=1, keepdims=True), 0, weight.shape[1])
    rank = np.argsort(np.argsort(steps - scaled, axis=1, kind="stable"), axis=1, kind="stable")
    steps += rank < missing
    if not (np.abs(steps).sum(axis=1) < 3 << (WEIGHT_BITS - 1)).all():
        # The 32-bit sums of the integer kernels rely on it; no filter holoflow builds breaks it.
        raise HoloflowInternalError("quantized resize weights sum to 1.5 or more in absolute value")
    quantized: np.ndarray = steps.astype(np.int32)
    return quantized
