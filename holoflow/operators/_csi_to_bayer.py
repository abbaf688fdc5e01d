"""``CsiToBayerOp``: packed CSI-2 RAW8/10/12 frames to 16-bit Bayer images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import ConfigError, TensorError
from holoflow.sensor_bridge import PixelFormat, transmitted_line_bytes, unpack_raw

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["CsiToBayerOp"]


class CsiToBayerOp(Operator):
    """Unpack the raw frame arriving on ``input`` into a ``(height, width, 1)`` uint16 tensor
    (samples in the most significant bits) emitted as ``out_tensor_name`` on ``output``.

    Call :meth:`configure` before the run (a camera's ``configure_converter`` does); its
    :meth:`get_csi_length` is the receiver's ``frame_size``. CUDA input is unpacked on the GPU.
    A ``"metadata"`` entry of the input is passed on.

    Parameters
    ----------
    in_tensor_name, out_tensor_name : str
        Tensor names ("" by default).
    allocator, cuda_device_ordinal, sub_frame_rows
        Accepted for Holoscan compatibility.
    """

    in_tensor_name: str
    out_tensor_name: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._geometry: tuple[int, int, int, int, PixelFormat, int] | None = None
        super().__init__(*args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("input")
        spec.output("output")
        spec.param("in_tensor_name", "")
        spec.param("out_tensor_name", "")
        spec.param("allocator", None)
        spec.param("cuda_device_ordinal", 0)
        spec.param("sub_frame_rows", 0)

    def configure(
        self,
        start_byte: int,
        bytes_per_line: int,
        width: int,
        height: int,
        pixel_format: PixelFormat | int,
        trailing_bytes: int = 0,
    ) -> int:
        """Describe the frames: image lines start at ``start_byte``, each ``bytes_per_line``
        long. Returns the frame length (:meth:`get_csi_length`).

        Raises
        ------
        holoflow.errors.ConfigError
            For an unknown format, a width that does not pack, or lines too short.
        """
        label = self._label()
        try:
            fmt = PixelFormat(pixel_format)
        except ValueError:
            raise ConfigError(f"{label}: unknown pixel_format {pixel_format!r}") from None
        group = {PixelFormat.RAW_8: 1, PixelFormat.RAW_10: 4, PixelFormat.RAW_12: 2}[fmt]
        if width <= 0 or height <= 0 or width % group or start_byte < 0 or trailing_bytes < 0:
            raise ConfigError(f"{label}: bad geometry {width}x{height} {fmt.name} start {start_byte}")
        if bytes_per_line < transmitted_line_bytes(fmt, width):
            raise ConfigError(
                f"{label}: bytes_per_line {bytes_per_line} < {transmitted_line_bytes(fmt, width)} "
                f"needed by {width} {fmt.name} pixels"
            )
        self._geometry = (start_byte, bytes_per_line, width, height, fmt, trailing_bytes)
        return self.get_csi_length()

    def get_csi_length(self) -> int:
        """Bytes per frame: start_byte + bytes_per_line * height + trailing_bytes."""
        if self._geometry is None:
            raise ConfigError(f"{self._label()}: configure() was not called")
        start, line, _, height, _, trailing = self._geometry
        return start + line * height + trailing

    def initialize(self) -> None:
        if self._geometry is None:
            raise ConfigError(f"{self._label()}: configure() must be called before the run")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        assert self._geometry is not None
        start, line, width, height, fmt, _ = self._geometry
        scope = op_input.receive_array("input", self.in_tensor_name)
        message = scope.message
        (frame,) = scope.tensors
        needed = start + line * height
        if frame.size < needed or np.dtype(frame.dtype) != np.uint8:  # checked before any device work
            raise TensorError(
                f"{self._label()}: tensor '{self.in_tensor_name}' has {frame.size} {frame.dtype} elements; "
                f"a {width}x{height} {fmt.name} frame needs {needed} uint8 bytes"
            )
        with scope as (xp, raw):
            lines = raw.reshape(-1)[start:needed].reshape(height, line)
            image = unpack_raw(lines, fmt, width, xp)[..., None]
        out: dict[str, Any] = {self.out_tensor_name: image}
        if isinstance(message, dict) and "metadata" in message:
            out["metadata"] = message["metadata"]
        op_output.emit(out, "output")
