"""What the sensor-bridge receiver operators share: Holoscan's receiver parameters and the
frame_size check (``LinuxReceiverOp``, ``RoceReceiverOp``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from holoflow.core import Operator
from holoflow.errors import ConfigError

if TYPE_CHECKING:
    from holoflow.core import OperatorSpec
    from holoflow.sensor_bridge import DataChannel

__all__ = ["ReceiverOp"]


class ReceiverOp(Operator):
    """Base of the receiver operators: declares the output port ``output`` and the parameters
    every Holoscan receiver takes — ``hololink_channel``, ``device``, ``frame_size``,
    ``frame_context``, ``trim``, ``use_frame_ready_condition``, ``pages`` (default
    :attr:`default_pages`), ``queue_size`` and ``rename_metadata``.

    Subclasses call ``super().setup(spec)`` and then declare their own parameters, and
    ``super().initialize()`` to check ``frame_size``.
    """

    default_pages: ClassVar[int] = 1
    """Default of the ``pages`` parameter."""

    hololink_channel: DataChannel
    device: Any
    frame_size: int
    trim: bool
    use_frame_ready_condition: bool
    pages: int
    queue_size: int
    rename_metadata: Callable[[str], str] | None

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("output")
        spec.param("hololink_channel", None)
        spec.param("device", None)
        spec.param("frame_size", 0)
        spec.param("frame_context", None)
        spec.param("trim", True)
        spec.param("use_frame_ready_condition", True)
        spec.param("pages", self.default_pages)
        spec.param("queue_size", 1)
        spec.param("rename_metadata", None)

    def initialize(self) -> None:
        """Check the shared parameters.

        Raises
        ------
        holoflow.errors.ConfigError
            If ``frame_size`` is not positive (the message names the operator).
        """
        if int(self.frame_size) <= 0:
            raise ConfigError(f"{self._label()}: frame_size must be > 0, got {self.frame_size}")
