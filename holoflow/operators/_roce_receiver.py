"""``RoceReceiverOp``: frames written by the device straight into memory by a ConnectX NIC."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from holoflow.errors import ResourceError
from holoflow.operators._receiver_base import ReceiverOp

if TYPE_CHECKING:
    from holoflow.core import OperatorSpec

__all__ = ["RoceReceiverOp", "rdma_devices"]


def rdma_devices() -> list[str]:
    """Names of the RDMA devices ibverbs sees ([] without pyverbs or without devices)."""
    try:
        device = importlib.import_module("pyverbs.device")
    except ImportError:
        return []
    try:
        names = [d.name for d in device.get_device_list()]
        return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    except Exception:  # pyverbs raises its own error types when the verbs library is unusable
        return []


class RoceReceiverOp(ReceiverOp):
    """The receiver for hosts with an RDMA NIC (ibverbs, through rdma-core's ``pyverbs``).

    Parameters match Holoscan's: ``hololink_channel``, ``device``, ``frame_size``,
    ``frame_context``, ``ibv_name`` ("roceP5p3s0f0"), ``ibv_port`` (1), ``pages`` (2),
    ``queue_size`` (1), ``metadata_offset``, ``trim``, ``use_frame_ready_condition``.

    This release only checks for the hardware: on start it raises
    :class:`~holoflow.errors.ResourceError` naming what is missing — ``pyverbs``, or the RDMA
    device ``ibv_name`` — or, when both are there, that the verbs data path is not available yet.
    Use :class:`~holoflow.operators.LinuxReceiverOp` meanwhile: it receives the same packets
    through a socket.
    """

    default_pages = 2

    ibv_name: str
    ibv_port: int

    def setup(self, spec: OperatorSpec) -> None:
        super().setup(spec)
        spec.param("ibv_name", "roceP5p3s0f0")
        spec.param("ibv_port", 1)
        spec.param("metadata_offset", 0)

    def start(self) -> None:
        label = self._label()
        try:
            importlib.import_module("pyverbs")
        except ImportError:
            raise ResourceError(
                f"{label}: needs rdma-core's Python bindings (pyverbs, e.g. apt install python3-pyverbs) "
                "and a ConnectX RDMA NIC; without them use LinuxReceiverOp"
            ) from None
        devices = rdma_devices()
        if self.ibv_name not in devices:
            raise ResourceError(f"{label}: RDMA device {self.ibv_name!r} not found; present: {devices}")
        raise ResourceError(
            f"{label}: the ibverbs data path is not available in this release; use LinuxReceiverOp"
        )

    def compute(self, op_input: Any, op_output: Any, context: Any) -> None:
        raise ResourceError(f"{self._label()}: not started")
