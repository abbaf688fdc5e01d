"""``Imx274Cam``: an IMX274-like rolling-shutter camera behind the device's I2C bus.

The camera sits on I2C bus 1 at address 0x1A, with 16-bit big-endian register addresses and
8-bit registers. holoflow's model keeps the parts of the real register map a host needs:

=======  ===========================================================
0x3000   STANDBY: 1 standby, 0 streaming
0x3004   MODE: 0 4K RAW10, 1 1080p RAW10, 2 4K RAW12 (all 60 fps)
0x300A   analog gain, low byte (0x300B high, 11 bits)
0x300C   exposure (SHR), low byte (0x300D high)
0x3F00   chip id low byte (0x74), 0x3F01 high byte (0x02)
=======  ===========================================================

Frames are CSI-2 RAW as :mod:`._csi` describes: 175 (RAW10) or 210 (RAW12) embedded-data bytes
rounded up to 8, then 8 (RAW10) or 16 (RAW12) optical-black lines, then the image lines.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from holoflow.errors import ConfigError
from holoflow.sensor_bridge import _registers as reg
from holoflow.sensor_bridge._csi import BayerFormat, PixelFormat, received_line_bytes, transmitted_line_bytes

if TYPE_CHECKING:
    from holoflow.sensor_bridge._data_channel import DataChannel

__all__ = ["CAMERA_I2C_ADDRESS", "Imx274Cam", "Imx274Mode", "SensorMode"]

CAMERA_I2C_BUS = 1
CAMERA_I2C_ADDRESS = 0x1A
REG_STANDBY = 0x3000
REG_MODE = 0x3004
REG_GAIN = 0x300A
REG_EXPOSURE = 0x300C
REG_CHIP_ID = 0x3F00
CHIP_ID = 0x0274
MAX_GAIN = 0x7FF
MAX_EXPOSURE = 0xFFFF


@dataclass(frozen=True, slots=True)
class SensorMode:
    """Geometry and timing of one camera mode."""

    width: int
    """Pixels per line."""
    height: int
    """Image lines."""
    pixel_format: PixelFormat
    """CSI RAW format."""
    fps: float
    """Frames per second."""
    embedded_bytes: int
    """Embedded-data bytes before the optical-black lines."""
    optical_black_lines: int
    """Optical-black lines before the image."""

    @property
    def bytes_per_line(self) -> int:
        """Bytes per line in memory (8-byte aligned)."""
        return received_line_bytes(transmitted_line_bytes(self.pixel_format, self.width))

    @property
    def start_byte(self) -> int:
        """Offset of the first image line in a frame."""
        return received_line_bytes(self.embedded_bytes) + self.optical_black_lines * self.bytes_per_line

    @property
    def frame_size(self) -> int:
        """Bytes per frame (the receiver's ``frame_size``)."""
        return self.start_byte + self.bytes_per_line * self.height


class Imx274Mode(enum.IntEnum):
    """Camera modes."""

    IMX274_MODE_3840X2160_60FPS = 0
    IMX274_MODE_1920X1080_60FPS = 1
    IMX274_MODE_3840X2160_60FPS_12BITS = 2

    @property
    def sensor_mode(self) -> SensorMode:
        """The geometry of this mode."""
        return MODES[self]


MODES = {
    Imx274Mode.IMX274_MODE_3840X2160_60FPS: SensorMode(3840, 2160, PixelFormat.RAW_10, 60.0, 175, 8),
    Imx274Mode.IMX274_MODE_1920X1080_60FPS: SensorMode(1920, 1080, PixelFormat.RAW_10, 60.0, 175, 8),
    Imx274Mode.IMX274_MODE_3840X2160_60FPS_12BITS: SensorMode(3840, 2160, PixelFormat.RAW_12, 60.0, 210, 16),
}


class Imx274Cam:
    """Host-side driver of the camera on ``hololink_channel``'s device.

    ``start``/``stop`` are what a receiver operator calls as its ``device``; the device resets
    re-apply the last mode (the camera registers itself with :meth:`Hololink.on_reset`).
    """

    def __init__(
        self,
        hololink_channel: DataChannel,
        i2c_bus: int = CAMERA_I2C_BUS,
        i2c_address: int = CAMERA_I2C_ADDRESS,
    ) -> None:
        self.channel = hololink_channel
        self.hololink = hololink_channel.hololink()
        self.i2c = self.hololink.get_i2c(i2c_bus)
        self.i2c_address = i2c_address
        self.mode: Imx274Mode | None = None
        self._lock = threading.Lock()
        self.hololink.on_reset(self)

    # -- registers ---------------------------------------------------------------------------------
    def set_register(self, register: int, value: int) -> None:
        """Write one 8-bit camera register."""
        self.i2c.i2c_transaction(self.i2c_address, register.to_bytes(2, "big") + bytes([value & 0xFF]), 0)

    def get_register(self, register: int) -> int:
        """Read one 8-bit camera register."""
        data: bytes = self.i2c.i2c_transaction(self.i2c_address, register.to_bytes(2, "big"), 1)
        return data[0]

    def get_version(self) -> int:
        """The chip id (0x0274)."""
        data = self.i2c.i2c_transaction(self.i2c_address, REG_CHIP_ID.to_bytes(2, "big"), 2)
        return int.from_bytes(data, "little")

    # -- control -----------------------------------------------------------------------------------
    def setup_clock(self) -> None:
        """Power the camera and start its clock synthesiser."""
        self.hololink.write_uint32(reg.BOARD_ENABLES, 0x33)
        self.i2c.set_i2c_clock()

    def configure(self, mode: Imx274Mode | int) -> None:
        """Put the camera in standby and select ``mode``.

        Raises
        ------
        holoflow.errors.ConfigError
            For an unknown mode.
        """
        try:
            chosen = Imx274Mode(mode)
        except ValueError:
            raise ConfigError(
                f"Imx274Cam: unknown mode {mode!r}; known: {[m.value for m in Imx274Mode]}"
            ) from None
        with self._lock:
            self.set_register(REG_STANDBY, 1)
            self.set_register(REG_MODE, chosen.value)
            self.mode = chosen

    def set_exposure(self, value: int) -> None:
        """Set the exposure (SHR, 0..0xFFFF lines).

        Raises
        ------
        holoflow.errors.ConfigError
            If out of range.
        """
        if not 0 <= value <= MAX_EXPOSURE:
            raise ConfigError(f"Imx274Cam: exposure {value} outside 0..{MAX_EXPOSURE}")
        self.i2c.i2c_transaction(
            self.i2c_address, REG_EXPOSURE.to_bytes(2, "big") + value.to_bytes(2, "little"), 0
        )

    def set_analog_gain(self, value: int) -> None:
        """Set the analog gain (0..0x7FF)."""
        if not 0 <= value <= MAX_GAIN:
            raise ConfigError(f"Imx274Cam: analog gain {value} outside 0..{MAX_GAIN}")
        self.i2c.i2c_transaction(
            self.i2c_address, REG_GAIN.to_bytes(2, "big") + value.to_bytes(2, "little"), 0
        )

    def start(self) -> None:
        """Start streaming."""
        self.set_register(REG_STANDBY, 0)

    def stop(self) -> None:
        """Stop streaming (standby)."""
        self.set_register(REG_STANDBY, 1)

    def reset(self) -> None:
        """Re-apply the configured mode after a device reset."""
        if self.mode is not None:
            self.configure(self.mode)

    # -- geometry ----------------------------------------------------------------------------------
    def _sensor_mode(self) -> SensorMode:
        if self.mode is None:
            raise ConfigError("Imx274Cam: configure(mode) first")
        return MODES[self.mode]

    @property
    def width(self) -> int:
        """Image width of the configured mode."""
        return self._sensor_mode().width

    @property
    def height(self) -> int:
        """Image height of the configured mode."""
        return self._sensor_mode().height

    @property
    def pixel_format(self) -> PixelFormat:
        """CSI format of the configured mode."""
        return self._sensor_mode().pixel_format

    @property
    def bayer_format(self) -> BayerFormat:
        """Colour filter layout (RGGB)."""
        return BayerFormat.RGGB

    @property
    def frame_size(self) -> int:
        """Bytes per frame of the configured mode."""
        return self._sensor_mode().frame_size

    def configure_converter(self, converter: Any) -> None:
        """Tell a :class:`~holoflow.operators.CsiToBayerOp` where the image is in a frame."""
        mode = self._sensor_mode()
        converter.configure(mode.start_byte, mode.bytes_per_line, mode.width, mode.height, mode.pixel_format)
