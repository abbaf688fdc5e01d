"""``BayerDemosaicOp``: raw Bayer sensor images to RGB(A), on the CPU or the GPU."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core import Operator
from holoflow.errors import ConfigError
from holoflow.kernels import BAYER_PATTERNS, demosaic

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["BayerDemosaicOp"]


class BayerDemosaicOp(Operator):
    """Demosaic the single-channel tensor ``in_tensor_name`` arriving on ``receiver``.

    Emits ``{out_tensor_name: HxWx3}`` (``x4`` with ``generate_alpha``) of the input's bit
    depth on ``transmitter``. ``bayer_grid_pos``: 0 BGGR, 1 RGGB, 2 GBRG (default), 3 GRBG;
    ``interpolation_mode`` must be 0 (bilinear), as in Holoscan. CUDA input is demosaiced on
    the GPU with the same integer arithmetic as the CPU path.
    """

    in_tensor_name: str
    out_tensor_name: str
    interpolation_mode: int
    bayer_grid_pos: int
    generate_alpha: bool
    alpha_value: int

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("receiver")
        spec.output("transmitter")
        spec.param("in_tensor_name", "")
        spec.param("out_tensor_name", "")
        spec.param("interpolation_mode", 0)
        spec.param("bayer_grid_pos", 2)
        spec.param("generate_alpha", False)
        spec.param("alpha_value", 255)

    def initialize(self) -> None:
        if int(self.interpolation_mode) != 0:
            raise ConfigError(
                f"{self._label()}: interpolation_mode must be 0 (bilinear), got {self.interpolation_mode}"
            )
        if int(self.bayer_grid_pos) not in BAYER_PATTERNS:
            raise ConfigError(
                f"{self._label()}: bayer_grid_pos must be 0 (BGGR), 1 (RGGB), 2 (GBRG) or 3 (GRBG), "
                f"got {self.bayer_grid_pos}"
            )
        self._tensor_label = f"{self._label()}: tensor '{self.in_tensor_name}'"

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        alpha = int(self.alpha_value) if self.generate_alpha else None
        with op_input.receive_array("receiver", self.in_tensor_name) as (xp, raw):
            rgb = demosaic(raw, int(self.bayer_grid_pos), alpha=alpha, xp=xp, label=self._tensor_label)
        op_output.emit({self.out_tensor_name: rgb}, "transmitter")
