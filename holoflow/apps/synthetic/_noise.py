"""Smooth random fields for the synthetic scenes: value noise summed over a few octaves."""

from __future__ import annotations

import numpy as np

__all__ = ["box_blur", "smooth_noise"]


def _upsample(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of a coarse ``grid`` to ``(height, width)``."""
    rows = np.linspace(0, grid.shape[0] - 1, height)
    cols = np.linspace(0, grid.shape[1] - 1, width)
    r0 = np.minimum(rows.astype(np.int64), grid.shape[0] - 2)
    c0 = np.minimum(cols.astype(np.int64), grid.shape[1] - 2)
    fr = (rows - r0)[:, None]
    fc = (cols - c0)[None, :]
    top = grid[r0][:, c0] * (1 - fc) + grid[r0][:, c0 + 1] * fc
    bottom = grid[r0 + 1][:, c0] * (1 - fc) + grid[r0 + 1][:, c0 + 1] * fc
    result: np.ndarray = top * (1 - fr) + bottom * fr
    return result


def smooth_noise(
    rng: np.random.Generator, height: int, width: int, cell: float, octaves: int = 3
) -> np.ndarray:
    """A float32 field in [0, 1] whose coarsest features are about ``cell`` pixels across."""
    total = np.zeros((height, width), np.float64)
    weight = 0.0
    for octave in range(octaves):
        size = cell / 2**octave
        grid = rng.random((max(2, int(height / size) + 2), max(2, int(width / size) + 2)))
        amplitude = 0.5**octave
        total += amplitude * _upsample(grid, height, width)
        weight += amplitude
    total /= weight
    low, high = total.min(), total.max()
    field: np.ndarray = ((total - low) / max(high - low, 1e-9)).astype(np.float32)
    return field


def box_blur(image: np.ndarray, radius_y: int, radius_x: int) -> np.ndarray:
    """Mean over a ``(2 radius_y + 1) x (2 radius_x + 1)`` window (edges clamped), float32."""
    result: np.ndarray = image.astype(np.float32)
    for axis, radius in ((0, radius_y), (1, radius_x)):
        if radius <= 0:
            continue
        padded = np.pad(result, [(radius, radius) if a == axis else (0, 0) for a in range(2)], mode="edge")
        sums = np.cumsum(padded, axis=axis, dtype=np.float32)
        sums = np.concatenate([np.zeros_like(np.take(sums, [0], axis=axis)), sums], axis=axis)
        n = result.shape[axis]
        upper = np.take(sums, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lower = np.take(sums, np.arange(0, n), axis=axis)
        result = (upper - lower) / (2 * radius + 1)
    return result
