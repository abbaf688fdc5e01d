"""``SegmentationPostprocessorOp``: network scores to a uint8 label map."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core import Operator
from holoflow.errors import ConfigError
from holoflow.kernels import label_map

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["SegmentationPostprocessorOp"]


class SegmentationPostprocessorOp(Operator):
    """Turn the scores tensor ``in_tensor_name`` on ``in_tensor`` into ``{"out_tensor": labels}``.

    ``network_output_type``: ``softmax`` (argmax), ``sigmoid`` (channel 0 >= 0.5) or ``none``;
    ``data_format``: ``hwc``, ``nchw`` or ``nhwc`` (N = 1). Labels are uint8 ``(H, W, 1)``, computed
    where the scores are (GPU for CUDA tensors) by :func:`holoflow.kernels.label_map`; an empty
    image (H or W is 0) gives an empty ``(H, W, 1)`` label map.

    Raises
    ------
    holoflow.errors.ConfigError
        From ``initialize()`` for an unknown ``network_output_type`` or ``data_format``.
    holoflow.errors.TensorError
        From ``compute()`` when the scores are not float32, do not match ``data_format``, or have
        no channels or more than 255; the message names the operator, port, tensor and shape.
    """

    in_tensor_name: str
    network_output_type: str
    data_format: str

    def setup(self, spec: OperatorSpec) -> None:
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
        self._tensor_label = f"{self._label()}: port 'in_tensor', tensor '{self.in_tensor_name}'"

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        with op_input.receive_array("in_tensor", self.in_tensor_name) as (xp, scores):
            labels = label_map(scores, self.network_output_type, self.data_format, xp, self._tensor_label)
        op_output.emit({"out_tensor": labels}, "out_tensor")
