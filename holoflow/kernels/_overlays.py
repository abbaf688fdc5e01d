"""Tool-tracking overlays: tool tips as marker rows and a heat map of the visible tools' masks."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_OVERLAY_COLORS", "tool_overlays"]

DEFAULT_OVERLAY_COLORS = [  # ColorBrewer's twelve qualitative colours, as Holoscan's default
    [0.12, 0.47, 0.71],
    [0.20, 0.63, 0.17],
    [0.89, 0.10, 0.11],
    [1.00, 0.50, 0.00],
    [0.42, 0.24, 0.60],
    [0.69, 0.35, 0.16],
    [0.65, 0.81, 0.89],
    [0.70, 0.87, 0.54],
    [0.98, 0.60, 0.60],
    [0.99, 0.75, 0.44],
    [0.79, 0.70, 0.84],
    [1.00, 1.00, 0.60],
]
_MARKER_SIZE = 0.05


def tool_overlays(
    probs: Any, coords: Any, masks: Any, min_prob: float, colors: Any, xp: Any = np
) -> tuple[Any, Any]:
    """The overlay tensors ``(scaled_coords (N, 3), mask (H, W, 4))`` for ``N`` tools.

    ``probs`` is ``(N,)``, ``coords`` ``(N, 2)`` and ``masks`` ``(N, H, W)`` (float32, leading
    1-dims already removed); ``colors`` is ``(K, 3)``, tool ``i`` taking row ``min(i, K - 1)``.
    A tool with ``probs[i] > min_prob`` keeps its tip and is blended into the heat map, in
    ascending tool order: each mask value is clamped to [0.3, 0.99] and mapped linearly onto a
    weight in [0, 0.7], and the pixel moves by that weight towards ``(r, g, b, 1)``. Other tools
    go to ``(-1, -1)``.
    """
    count = probs.shape[0]
    visible = probs > min_prob
    out_coords = xp.full((count, 3), _MARKER_SIZE, dtype=xp.float32)
    out_coords[:, :2] = xp.where(visible[:, None], coords.astype(xp.float32), -1.0)
    heat = xp.zeros((*masks.shape[1:], 4), dtype=xp.float32)
    weights = (xp.clip(masks, 0.3, 0.99) - 0.3) / 0.69 * 0.7
    last = colors.shape[0] - 1
    for i in range(count):  # ascending order, as the overlay is defined
        if not bool(visible[i]):
            continue
        target = xp.ones(4, dtype=xp.float32)
        target[:3] = colors[min(i, last)]
        weight = weights[i][..., None]
        heat += weight * (target - heat)
    return out_coords, heat
