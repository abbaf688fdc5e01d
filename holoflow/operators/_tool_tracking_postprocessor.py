"""``ToolTrackingPostprocessorOp``: a tool tracker's outputs to Holoviz overlays.

The tracker (a convolutional LSTM such as the endoscopy sample app's) gives, per tool class,
a probability that the tool is in view (``probs``), its tip position normalized to [0, 1]
(``scaled_coords``) and a soft mask (``binary_masks``). This operator turns them into the two
tensors HolovizOp draws: ``scaled_coords`` ``(N, 3)`` float32 rows ``(x, y, size)`` for crosses
and text labels (tools under the threshold are moved off-screen to ``(-1, -1)``, which hides
them), and ``mask`` ``(H, W, 4)`` float32 RGBA, a heat map of the visible tools' masks in each
tool's colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import ConfigError, TensorError
from holoflow.kernels import DEFAULT_OVERLAY_COLORS, tool_overlays

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["ToolTrackingPostprocessorOp"]

_INPUTS = ("probs", "scaled_coords", "binary_masks")


class ToolTrackingPostprocessorOp(Operator):
    """Turn ``probs``, ``scaled_coords`` and ``binary_masks`` on ``in`` into overlays on ``out``.

    Holoscan's HoloHub operator: ``min_prob`` (0.5) is the probability above which a tool is
    shown; ``overlay_img_colors`` the RGB colours (0..1) of the tools' heat maps (twelve
    ColorBrewer colours by default). ``device_allocator`` and ``cuda_stream_pool`` are accepted.
    The output message holds ``scaled_coords`` ``(N, 3)`` and ``mask`` ``(H, W, 4)``, float32,
    computed where the inputs are (GPU for CUDA tensors). Input shapes: ``probs`` ``(1, N)``,
    ``scaled_coords`` ``(1, N, 2)``, ``binary_masks`` ``(1, N, H, W)`` (the leading 1 may be
    absent).

    Raises
    ------
    holoflow.errors.ConfigError
        ``overlay_img_colors`` is empty or not a list of RGB triples in [0, 1].
    holoflow.errors.TensorError
        A tensor is missing, is not float32, or its shape does not agree with the others.
    """

    min_prob: float
    overlay_img_colors: list[list[float]]

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")
        spec.output("out")
        spec.param("min_prob", 0.5)
        spec.param("overlay_img_colors", [list(c) for c in DEFAULT_OVERLAY_COLORS])
        spec.param("device_allocator", None)
        spec.param("cuda_stream_pool", None)

    def initialize(self) -> None:
        try:
            colors = np.asarray(self.overlay_img_colors, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self._label()}: overlay_img_colors must be RGB triples: {exc}") from None
        if colors.ndim != 2 or colors.shape[0] == 0 or colors.shape[1] != 3:
            raise ConfigError(
                f"{self._label()}: overlay_img_colors must be a non-empty list of [r, g, b], "
                f"got shape {colors.shape}"
            )
        if colors.min() < 0 or colors.max() > 1:
            raise ConfigError(f"{self._label()}: overlay_img_colors values must lie in [0, 1]")
        self._colors = colors
        self._device_colors: Any = None

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        scope = op_input.receive_arrays("in", _INPUTS)
        for name, tensor in zip(_INPUTS, scope.tensors, strict=True):  # checked before any device work
            if tensor.dtype != np.float32:
                raise TensorError(f"{self._label()}: tensor '{name}' must be float32, got {tensor.dtype}")
        with scope as (xp, arrays):
            if xp is np:
                colors = self._colors
            else:
                if self._device_colors is None:
                    self._device_colors = xp.asarray(self._colors)
                colors = self._device_colors
            probs, coords, masks = self._shaped(*arrays)
            out_coords, heat = tool_overlays(probs, coords, masks, float(self.min_prob), colors, xp)
        op_output.emit({"scaled_coords": out_coords, "mask": heat}, "out")

    def _shaped(self, probs: Any, coords: Any, masks: Any) -> tuple[Any, Any, Any]:
        """Drop the leading batch dimension of 1 and check that the tool counts agree."""
        probs = probs[0] if probs.ndim == 2 and probs.shape[0] == 1 else probs
        coords = coords[0] if coords.ndim == 3 and coords.shape[0] == 1 else coords
        masks = masks[0] if masks.ndim == 4 and masks.shape[0] == 1 else masks
        count = probs.shape[0] if probs.ndim == 1 else -1
        if count < 1 or coords.shape != (count, 2) or masks.ndim != 3 or masks.shape[0] != count:
            raise TensorError(
                f"{self._label()}: expected probs (1, N), scaled_coords (1, N, 2) and binary_masks "
                f"(1, N, H, W) for one N; got {tuple(probs.shape)}, {tuple(coords.shape)}, "
                f"{tuple(masks.shape)}"
            )
        return probs, coords, masks
