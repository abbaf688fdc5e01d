"""``SegmentationPostprocessorOp``: network scores to a uint8 label map."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core._operator import Operator
from holoflow.errors import ConfigError, TensorError
from holoflow.operators._tensor_input import select_tensor
from holoflow.tensor import _cuda

if TYPE_CHECKING:
    from holoflow.core._context import ExecutionContext, InputContext, OutputContext

__all__ = ["SegmentationPostprocessorOp", "label_map"]


def label_map(
    scores: Any, network_output_type: str, data_format: str, xp: Any = np, label: str = "tensor"
) -> Any:
    """Per-pixel labels ``(H, W, 1)`` uint8 from float32 scores, with Holoscan's rules.

    ``softmax``: the index of the largest channel, starting from 0.0 at index 0 and moving only to
    a strictly larger value (ties go to the lower index; all channels <= 0 give 0; NaN never
    wins). ``sigmoid``: 1 where channel 0 is >= 0.5. ``none``: channel 0 cast to uint8 (labels
    computed upstream).
    """
    if scores.dtype != np.float32:
        raise TensorError(f"{label}: scores must be float32, got {scores.dtype}")
    shape, strides = _hwc_layout(tuple(scores.shape), tuple(scores.strides), data_format, label)
    if shape[2] > 255:
        raise TensorError(f"{label}: at most 255 channels, got {shape[2]}")
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
    return _cuda.cupy_module().RawKernel(_ARGMAX_SOURCE, "argmax_labels")


def _argmax_labels_cuda(scores: Any, shape: tuple[int, int, int], strides: tuple[int, int, int]) -> Any:
    """The softmax labels (H, W, 1) of CuPy float32 scores in one kernel, on the current stream."""
    cupy = _cuda.cupy_module()
    h, w, c = shape
    labels = cupy.empty((h, w, 1), cupy.uint8)
    element = tuple(np.int64(s // 4) for s in strides)
    _argmax_kernel()(
        ((w + 127) // 128, h), (128,), (scores, *element, np.int32(h), np.int32(w), np.int32(c), labels)
    )
    return labels


class SegmentationPostprocessorOp(Operator):
    """Turn the scores tensor ``in_tensor_name`` on ``in_tensor`` into ``{"out_tensor": labels}``.

    ``network_output_type``: ``softmax`` (argmax), ``sigmoid`` (channel 0 >= 0.5) or ``none``;
    ``data_format``: ``hwc``, ``nchw`` or ``nhwc`` (N = 1). Labels are uint8 ``(H, W, 1)``, computed
    where the scores are (GPU for CUDA tensors).
    """

    in_tensor_name: str
    network_output_type: str
    data_format: str

    def setup(self, spec: Any) -> None:
        spec.input("in_tensor")
        spec.output("out_tensor")
        spec.param("in_tensor_name", "")
        spec.param("network_output_type", "softmax")
        spec.param("data_format", "hwc")

    def initialize(self) -> None:
        if self.network_output_type not in ("softmax", "sigmoid", "none"):
            raise ConfigError(
                f"{self._label()}: network_output_type must be 'softmax', 'sigmoid' or 'none', "
                f"got {self.network_output_type!r}"
            )
        if self.data_format not in ("hwc", "nchw", "nhwc"):
            raise ConfigError(
                f"{self._label()}: data_format must be 'hwc', 'nchw' or 'nhwc', got {self.data_format!r}"
            )

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        tensor = select_tensor(self._label(), "in_tensor", op_input.receive("in_tensor"), self.in_tensor_name)
        label = f"{self._label()}: tensor '{self.in_tensor_name}'"
        if tensor.is_cuda:
            cupy = _cuda.cupy_module()
            stream = op_input.receive_cuda_stream("in_tensor")
            with _cuda.external_stream(stream):
                labels = label_map(
                    _cuda.device_view(tensor), self.network_output_type, self.data_format, cupy, label
                )
            op_output.set_cuda_stream(stream, "out_tensor")
        else:
            labels = label_map(np.asarray(tensor), self.network_output_type, self.data_format, np, label)
        op_output.emit({"out_tensor": labels}, "out_tensor")
