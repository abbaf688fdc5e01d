"""Holoscan Sensor Bridge, in Python: find devices, control them, receive their frames.

- Enumeration (:class:`Enumerator`): BOOTP announcements on UDP 12267, set-IP replies to 12268.
- Control (:class:`Hololink`): registers over UDP 8192 with sequence numbers, acknowledgements,
  timeouts and retries; I2C and SPI through the device's bus controllers; reset.
- Data plane (:class:`DataChannel`, :class:`FrameAssembler`, :class:`LinuxReceiver`): RoCE v2
  RDMA WRITE (UC 0x2A / 0x2B) datagrams reassembled into frames, bounds-checked.
- Sensors (:class:`Imx274Cam`), and the device side that a software device builds on: the
  register map (:class:`RegisterMap`, :mod:`registers`), an emulated IMX274 and SPI memory.

The software device itself (``HSBEmulator``, which speaks all of it over plain UDP sockets for
machines without the hardware, and its ``RoceTransmitter``) is a test double and lives in
:mod:`holoflow.testing`; ``python -m holoflow.sensor_bridge`` runs one. Its old names here
(``HSBEmulator``, ``EmulatorStatistics``, ``frames_from_gxf``, ``random_loopback_ip``,
``DataPlaneConfig``, ``Impairment``, ``RoceTransmitter``) still resolve, importing
:mod:`holoflow.testing` on first use; this package never imports it otherwise.

The receiver operators live in :mod:`holoflow.operators` (``LinuxReceiverOp``,
``RoceReceiverOp``, ``CsiToBayerOp``, ``ImageProcessorOp``). Wire formats are specified in
``docs/sensor_bridge.md``.
"""

import typing as _typing

from holoflow.sensor_bridge import _registers as registers
from holoflow.sensor_bridge._bootp import (
    BOOTP_REQUEST_PORT,
    Announcement,
    decode_announcement,
    decode_set_ip_reply,
    encode_set_ip_reply,
)
from holoflow.sensor_bridge._buses import I2c, Spi
from holoflow.sensor_bridge._control import (
    CONTROL_PACKET_SIZE,
    CONTROL_UDP_PORT,
    FLAG_ACK_REQUEST,
    FLAG_SEQUENCE_CHECK,
    Command,
    ControlReply,
    ControlRequest,
    Status,
    Timeout,
)
from holoflow.sensor_bridge._crc import frame_crc, icrc, icrc_prefix
from holoflow.sensor_bridge._csi import (
    BayerFormat,
    PixelFormat,
    pack_raw,
    received_line_bytes,
    transmitted_line_bytes,
    unpack_raw,
)
from holoflow.sensor_bridge._data_channel import DataChannel, local_ip_for
from holoflow.sensor_bridge._enumeration import Enumerator, apply_strategy
from holoflow.sensor_bridge._hololink import ControlStatistics, Hololink
from holoflow.sensor_bridge._imx274 import Imx274Cam, Imx274Mode, SensorMode
from holoflow.sensor_bridge._metadata import FLAG_COUNT_ENDED, FLAG_EARLY_TLAST, METADATA_SIZE, FrameMetadata
from holoflow.sensor_bridge._peripherals import EmulatedImx274, SpiMemory, bayer_test_pattern, csi_test_frame
from holoflow.sensor_bridge._receiver import FrameAssembler, LinuxReceiver, ReceivedFrame, ReceiverStatistics
from holoflow.sensor_bridge._register_map import I2cPeripheral, RegisterMap, SpiPeripheral
from holoflow.sensor_bridge._roce import (
    OPCODE_WRITE_ONLY,
    OPCODE_WRITE_ONLY_IMMEDIATE,
    PKEY_DEFAULT,
    PSN_MASK,
    RocePacket,
    buffer_from_immediate,
    encode_packet,
    make_immediate,
)

__all__ = [
    "BOOTP_REQUEST_PORT",
    "CONTROL_PACKET_SIZE",
    "CONTROL_UDP_PORT",
    "FLAG_ACK_REQUEST",
    "FLAG_COUNT_ENDED",
    "FLAG_EARLY_TLAST",
    "FLAG_SEQUENCE_CHECK",
    "METADATA_SIZE",
    "OPCODE_WRITE_ONLY",
    "OPCODE_WRITE_ONLY_IMMEDIATE",
    "PKEY_DEFAULT",
    "PSN_MASK",
    "Announcement",
    "BayerFormat",
    "Command",
    "ControlReply",
    "ControlRequest",
    "ControlStatistics",
    "DataChannel",
    "EmulatedImx274",
    "Enumerator",
    "FrameAssembler",
    "FrameMetadata",
    "Hololink",
    "I2c",
    "I2cPeripheral",
    "Imx274Cam",
    "Imx274Mode",
    "LinuxReceiver",
    "PixelFormat",
    "ReceivedFrame",
    "ReceiverStatistics",
    "RegisterMap",
    "RocePacket",
    "SensorMode",
    "Spi",
    "SpiMemory",
    "SpiPeripheral",
    "Status",
    "Timeout",
    "apply_strategy",
    "bayer_test_pattern",
    "buffer_from_immediate",
    "csi_test_frame",
    "decode_announcement",
    "decode_set_ip_reply",
    "encode_packet",
    "encode_set_ip_reply",
    "frame_crc",
    "icrc",
    "icrc_prefix",
    "local_ip_for",
    "make_immediate",
    "pack_raw",
    "received_line_bytes",
    "registers",
    "transmitted_line_bytes",
    "unpack_raw",
]

_MOVED_TO_TESTING = frozenset(
    {
        "DataPlaneConfig",
        "EmulatorStatistics",
        "HSBEmulator",
        "Impairment",
        "RoceTransmitter",
        "frames_from_gxf",
        "random_loopback_ip",
    }
)

if not _typing.TYPE_CHECKING:  # type checkers see only this package's own names

    def __getattr__(name: str) -> object:
        """Say where the test doubles that used to live here went.

        Raises
        ------
        ImportError
            For a moved name, saying to import it from :mod:`holoflow.testing` (an ImportError,
            so that ``from holoflow.sensor_bridge import HSBEmulator`` shows the message).
        AttributeError
            For any other name.
        """
        if name in _MOVED_TO_TESTING:
            raise ImportError(
                f"{name} moved to holoflow.testing with the other test doubles: "
                f"from holoflow.testing import {name}"
            )
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
