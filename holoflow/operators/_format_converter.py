"""``FormatConverterOp``: resize, rescale and re-encode images, on the CPU or the GPU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import ConfigError
from holoflow.kernels import (
    CudaFormatPlan,
    FormatPlan,
    convert,
    convert_cuda,
    make_plan,
    normalize_dtype,
    prepare_cuda,
    resize_mode_name,
)
from holoflow.resources import BlockMemoryPool, MemoryStorageType

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["FormatConverterOp"]


class FormatConverterOp(Operator):
    """Convert the tensor ``in_tensor_name`` of each message on ``source_video``; emit it as
    ``{out_tensor_name: result}`` on ``tensor``.

    Holoscan's parameters and order of operations: resize (uint8 RGB/RGBA only, NPP
    interpolation codes in ``resize_mode``, 0 = cubic), then convert (``in_dtype`` →
    ``out_dtype``: rgb888/uint8, float32, rgba8888, yuv420, nv12 variants, yuyv, 16-bit RGB),
    then ``out_channel_order``. A CUDA input is converted on the GPU by fused kernels (one read,
    one write) on the operator's stream, into ``pool`` when it is a device BlockMemoryPool; a
    host input is converted by the numpy reference on the CPU. An empty image (height or width 0)
    converts to an empty image; it cannot be resized. See docs/format_conversion.md.

    Raises
    ------
    holoflow.errors.ConfigError
        From ``initialize()`` for a missing or unknown dtype or an unsupported ``resize_mode``.
    holoflow.errors.TensorError
        From ``compute()`` for an input the conversion does not take (layout, element type,
        channels, a resize of an empty image); the message names the operator, tensor and shape.
    """

    in_dtype: str
    out_dtype: str
    in_tensor_name: str
    out_tensor_name: str
    scale_min: float
    scale_max: float
    alpha_value: int
    resize_width: int
    resize_height: int
    resize_mode: int
    out_channel_order: list[int]

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("source_video")
        spec.output("tensor")
        spec.param("out_dtype", "")
        spec.param("in_dtype", "")
        spec.param("in_tensor_name", "")
        spec.param("out_tensor_name", "")
        spec.param("scale_min", 0.0)
        spec.param("scale_max", 1.0)
        spec.param("alpha_value", 255)
        spec.param("resize_width", 0)
        spec.param("resize_height", 0)
        spec.param("resize_mode", 0)
        spec.param("out_channel_order", [])

    def initialize(self) -> None:
        if not self.out_dtype:
            raise ConfigError(f"{self._label()}: parameter 'out_dtype' is required")
        try:
            normalize_dtype(self.out_dtype, output=True)
            if self.in_dtype:
                normalize_dtype(self.in_dtype, output=False)
            if self.resize_width > 0 and self.resize_height > 0:
                resize_mode_name(int(self.resize_mode))
        except ValueError as exc:
            raise ConfigError(f"{self._label()}: {exc}") from None
        self._plans: dict[tuple[tuple[int, ...], np.dtype[Any]], FormatPlan] = {}
        self._cuda_plans: dict[tuple[tuple[int, ...], np.dtype[Any]], CudaFormatPlan] = {}
        pool = next((r for r in self.resources.values() if isinstance(r, BlockMemoryPool)), None)
        device = pool is not None and pool.storage_type is MemoryStorageType.DEVICE
        self._device_pool = pool if device else None

    def _plan(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> FormatPlan:
        """The conversion plan of inputs of ``shape`` and ``dtype`` (made once per kind)."""
        plan = self._plans.get((shape, dtype))
        if plan is None:
            plan = make_plan(
                self.in_dtype,
                self.out_dtype,
                shape,
                dtype,
                resize=(int(self.resize_height), int(self.resize_width)),
                resize_mode=int(self.resize_mode),
                scale_min=self.scale_min,
                scale_max=self.scale_max,
                alpha_value=int(self.alpha_value),
                out_channel_order=tuple(self.out_channel_order or ()),
                label=f"{self._label()}: tensor '{self.in_tensor_name}'",
            )
            self._plans[(shape, dtype)] = plan
        return plan

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        with op_input.receive_array("source_video", self.in_tensor_name) as (xp, image):
            if xp is np:
                result = convert(self._plan(image.shape, image.dtype), image)
            else:
                result = self._convert_cuda(image)
        op_output.emit({self.out_tensor_name: result}, "tensor")

    def _convert_cuda(self, image: Any) -> Any:
        """``image`` (a CuPy array) converted by the fused kernels on the current stream."""
        key = (image.shape, image.dtype)
        prepared = self._cuda_plans.get(key)
        if prepared is None:
            prepared = self._cuda_plans[key] = prepare_cuda(self._plan(*key))
        return convert_cuda(prepared, image, self._output(prepared.plan))

    def _output(self, plan: FormatPlan) -> Any:
        pool = self._device_pool
        if pool is None:
            return None
        dtype = np.float32 if plan.out_dtype == "float32" else np.uint8
        return pool.empty(plan.out_shape, dtype)
