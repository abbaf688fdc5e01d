"""Segmentation scores to per-pixel labels, with Holoscan's rules, for numpy or CuPy.

The softmax rule runs on CuPy as one kernel (an argmax over the channels of each pixel, read
through the scores' strides, so every layout is read in place); the other rules, and every rule
on numpy, are array expressions.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from holoflow.errors import TensorError
from holoflow.tensor import cupy_module

__all__ = ["label_map"]


def label_map(
    scores: Any, network_output_type: str, data_format: str, xp: Any = np, label: str = "tensor"
) -> Any:
    """Per-pixel labels ``(H, W, 1)`` uint8 from float32 scores, with Holoscan's rules.

    ``softmax``: the index of the largest channel, starting from 0.0 at index 0 and moving only to
    a strictly larger value (ties go to the lower index; all channels <= 0 give 0; NaN never
    wins). ``sigmoid``: 1 where channel 0 is >= 0.5. ``none``: channel 0 cast to uint8 (labels
    computed upstream). ``scores`` is ``(H, W, C)`` for ``data_format="hwc"``, ``(1, C, H, W)``
    for ``"nchw"`` and ``(1, H, W, C)`` for ``"nhwc"``; ``xp`` is the namespace of ``scores``
    (numpy or CuPy), and CuPy work is queued on the current stream.

    An empty image (H or W is 0) gives an empty ``(H, W, 1)`` label map, with no kernel launched:
    every pixel still gets its label, there are just none.

    Raises
    ------
    holoflow.errors.TensorError
        If the scores are not float32, do not match ``data_format``, have no channels (no rule
        has a channel to read) or more than 255, or ``data_format`` is unknown; the message
        starts with ``label`` and names the shape.
    """
    if scores.dtype != np.float32:
        raise TensorError(f"{label}: scores must be float32, got {scores.dtype}")
    shape, strides = _hwc_layout(tuple(scores.shape), tuple(scores.strides), data_format, label)
    height, width, channels = shape
    if channels == 0:
        raise TensorError(f"{label}: no channels in {tuple(scores.shape)} ({data_format}); need 1 to 255")
    if channels > 255:
        raise TensorError(f"{label}: at most 255 channels, got {channels} in {tuple(scores.shape)}")
    if height == 0 or width == 0:
        return xp.zeros((height, width, 1), xp.uint8)
    if network_output_type == "softmax" and xp is not np:
        return _argmax_labels_cuda(scores, shape, strides)
    hwc = scores if data_format == "hwc" else scores[0]
    if data_format == "nchw":
        hwc = xp.moveaxis(hwc, 0, -1)
    if network_output_type == "sigmoid":
        labels = (hwc[..., 0] >= 0.5).astype(xp.uint8)
    elif network_output_type == "softmax":
        hwc = xp.where(xp.isnan(hwc), 0.0, hwc)  # as the running comparison, which NaN never passes
        labels = xp.where(hwc.max(axis=-1) > 0.0, xp.argmax(hwc, axis=-1), 0).astype(xp.uint8)
    else:
        labels = hwc[..., 0].astype(xp.uint8)
    return labels[..., None]


def _hwc_layout(
    shape: tuple[int, ...], strides: tuple[int, ...], data_format: str, label: str
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The (H, W, C) extents and byte strides of scores laid out as ``data_format``."""
    if data_format == "hwc":
        if len(shape) != 3:
            raise TensorError(f"{label}: data_format 'hwc' needs (H, W, C), got {shape}")
        return (shape[0], shape[1], shape[2]), (strides[0], strides[1], strides[2])
    if data_format in ("nchw", "nhwc"):
        if len(shape) != 4 or shape[0] != 1:
            raise TensorError(f"{label}: data_format '{data_format}' needs (1, ...) with 4 dims, got {shape}")
        if data_format == "nchw":
            return (shape[2], shape[3], shape[1]), (strides[2], strides[3], strides[1])
        return (shape[1], shape[2], shape[3]), (strides[1], strides[2], strides[3])
    raise TensorError(f"{label}: unknown data_format {data_format!r}")


_ARGMAX_SOURCE = r"""
extern "C" __global__ void argmax_labels(const float* scores, long long sh, long long sw, long long sc,
                                         int h, int w, int c, unsigned char* labels) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
    if (x >= w) return;
    const float* p = scores + y * sh + x * sw;
    float best = 0.0f;
    int index = 0;
    for (int k = 0; k < c; ++k) {
        float v = p[k * sc];
        if (v > best) { best = v; index = k; }  // NaN never passes
    }
    labels[(long long)y * w + x] = (unsigned char)index;
}
"""


@functools.cache
def _argmax_kernel() -> Any:
    return cupy_module().RawKernel(_ARGMAX_SOURCE, "argmax_labels")


def _argmax_labels_cuda(scores: Any, shape: tuple[int, int, int], strides: tuple[int, int, int]) -> Any:
    """The softmax labels (H, W, 1) of CuPy float32 scores in one kernel, on the current stream."""
    cupy = cupy_module()
    h, w, c = shape
    labels = cupy.empty((h, w, 1), cupy.uint8)
    element = tuple(np.int64(s // 4) for s in strides)
    _argmax_kernel()(
        ((w + 127) // 128, h), (128,), (scores, *element, np.int32(h), np.int32(w), np.int32(c), labels)
    )
    return labels
