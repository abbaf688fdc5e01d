"""Test doubles for holoflow applications and devices.

- Operators: ``Source`` emits given items, ``Recorder`` keeps what arrives.
- Events: ``EventDriver`` fires an ``AsynchronousCondition`` from a thread, as a device would.
- Sensor bridge: ``HSBEmulator``, a software device that speaks the enumeration, control and
  RoCE data-plane protocols over plain UDP sockets (run one as a process with
  ``python -m holoflow.sensor_bridge``), and ``RoceTransmitter``, its data plane, with
  ``Impairment`` for injected packet faults.

Importing this package needs only numpy (no CUDA, GPU or network stacks).
"""

from holoflow.testing._events import EventDriver
from holoflow.testing._operators import Recorder, Source
from holoflow.testing._sensor_bridge_emulator import (
    EmulatorStatistics,
    HSBEmulator,
    frames_from_gxf,
    random_loopback_ip,
)
from holoflow.testing._sensor_bridge_transmitter import DataPlaneConfig, Impairment, RoceTransmitter

__all__ = [
    "DataPlaneConfig",
    "EmulatorStatistics",
    "EventDriver",
    "HSBEmulator",
    "Impairment",
    "Recorder",
    "RoceTransmitter",
    "Source",
    "frames_from_gxf",
    "random_loopback_ip",
]
