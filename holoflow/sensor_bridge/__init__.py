"""Holoscan Sensor Bridge, in Python: find devices, control them, receive their frames.

- Enumeration (:class:`Enumerator`): BOOTP announcements on UDP 12267, set-IP replies to 12268.
- Control (:class:`Hololink`): registers over UDP 8192 with sequence numbers, acknowledgements,
  timeouts and retries; I2C and SPI through the device's bus controllers; reset.
- Data plane (:class:`DataChannel`, :class:`FrameAssembler`, :class:`LinuxReceiver`): RoCE v2
  RDMA WRITE (UC 0x2A / 0x2B) datagrams reassembled into frames, bounds-checked.
- Sensors (:class:`Imx274Cam`) and a software device (:class:`HSBEmulator`) that speaks all of
  it over plain UDP sockets, for machines without the hardware.

The receiver operators live in :mod:`holoflow.operators` (``LinuxReceiverOp``,
``RoceReceiverOp``, ``CsiToBayerOp``, ``ImageProcessorOp``). Wire formats are specified in
``docs/sensor_bridge.md``.
"""

from holoflow.sensor_bridge._bootp import (
    Announcement,
    decode_announcement,
    decode_set_ip_reply,
    encode_set_ip_reply,
)
from holoflow.sensor_bridge._buses import I2c, Spi
from holoflow.sensor_bridge._control import (
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
from holoflow.sensor_bridge._data_channel import DataChannel
from holoflow.sensor_bridge._emulator import (
    EmulatorStatistics,
    HSBEmulator,
    frames_from_gxf,
    random_loopback_ip,
)
from holoflow.sensor_bridge._enumeration import Enumerator, apply_strategy
from holoflow.sensor_bridge._hololink import ControlStatistics, Hololink
from holoflow.sensor_bridge._imx274 import Imx274Cam, Imx274Mode, SensorMode
from holoflow.sensor_bridge._metadata import FrameMetadata
from holoflow.sensor_bridge._peripherals import EmulatedImx274, SpiMemory, bayer_test_pattern, csi_test_frame
from holoflow.sensor_bridge._receiver import FrameAssembler, LinuxReceiver, ReceivedFrame, ReceiverStatistics
from holoflow.sensor_bridge._roce import (
    RocePacket,
    buffer_from_immediate,
    encode_packet,
    make_immediate,
)
from holoflow.sensor_bridge._transmitter import DataPlaneConfig, Impairment, RoceTransmitter

__all__ = [
    "Announcement",
    "BayerFormat",
    "Command",
    "ControlReply",
    "ControlRequest",
    "ControlStatistics",
    "DataChannel",
    "DataPlaneConfig",
    "EmulatedImx274",
    "EmulatorStatistics",
    "Enumerator",
    "FrameAssembler",
    "FrameMetadata",
    "HSBEmulator",
    "Hololink",
    "I2c",
    "Impairment",
    "Imx274Cam",
    "Imx274Mode",
    "LinuxReceiver",
    "PixelFormat",
    "ReceivedFrame",
    "ReceiverStatistics",
    "RocePacket",
    "RoceTransmitter",
    "SensorMode",
    "Spi",
    "SpiMemory",
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
    "frames_from_gxf",
    "icrc",
    "icrc_prefix",
    "make_immediate",
    "pack_raw",
    "random_loopback_ip",
    "received_line_bytes",
    "transmitted_line_bytes",
    "unpack_raw",
]
