"""``ImageProcessorOp``: optical-black subtraction and gray-world white balance on Bayer images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import ConfigError, TensorError
from holoflow.kernels import BAYER_PATTERNS, process_bayer
from holoflow.sensor_bridge import PixelFormat

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["ImageProcessorOp"]


class ImageProcessorOp(Operator):
    """Black level and white balance of the 16-bit Bayer tensor on ``input`` (in place), emitted
    on ``output`` under the same name. See :func:`process_bayer`.

    Parameters
    ----------
    bayer_format : int
        0 BGGR, 1 RGGB, 2 GBRG, 3 GRBG (as BayerDemosaicOp's ``bayer_grid_pos``).
    pixel_format : int
        0 RAW8, 1 RAW10, 2 RAW12: the sensor's bit depth, for ``optical_black``.
    optical_black : int
        Black level in sensor units (the IMX274 uses 50).
    in_tensor_name : str
        Tensor to process ("").
    cuda_device_ordinal
        Accepted for Holoscan compatibility.
    """

    bayer_format: int
    pixel_format: int
    optical_black: int
    in_tensor_name: str

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("input")
        spec.output("output")
        spec.param("bayer_format", 1)
        spec.param("pixel_format", 1)
        spec.param("optical_black", 0)
        spec.param("in_tensor_name", "")
        spec.param("cuda_device_ordinal", 0)

    def initialize(self) -> None:
        label = self._label()
        if int(self.bayer_format) not in BAYER_PATTERNS:
            raise ConfigError(f"{label}: bayer_format must be 0..3, got {self.bayer_format}")
        try:
            bits = PixelFormat(int(self.pixel_format)).bits
        except ValueError:
            raise ConfigError(f"{label}: pixel_format must be 0 (RAW8), 1 (RAW10) or 2 (RAW12)") from None
        if not 0 <= int(self.optical_black) < (1 << bits):
            raise ConfigError(f"{label}: optical_black {self.optical_black} outside 0..{(1 << bits) - 1}")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        scope = op_input.receive_array("input", self.in_tensor_name)
        message = scope.message
        (frame,) = scope.tensors
        shape = tuple(frame.shape)
        rank_ok = len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)
        if np.dtype(frame.dtype) != np.uint16 or not rank_ok:  # checked before any device work
            raise TensorError(
                f"{self._label()}: tensor '{self.in_tensor_name}' must be uint16 (H, W) or (H, W, 1), "
                f"got {frame.dtype} {shape}"
            )
        bits = PixelFormat(int(self.pixel_format)).bits
        with scope as (xp, raw):
            image = process_bayer(raw, int(self.bayer_format), bits, int(self.optical_black), xp)
        out: dict[str, Any] = {self.in_tensor_name: image}
        if isinstance(message, dict) and "metadata" in message:
            out["metadata"] = message["metadata"]
        op_output.emit(out, "output")
