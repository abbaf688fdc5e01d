"""Emulated peripherals behind the device's buses: an IMX274-like camera and an SPI memory."""

from __future__ import annotations

import functools
import threading

import numpy as np

from holoflow.sensor_bridge._csi import pack_raw
from holoflow.sensor_bridge._imx274 import (
    CHIP_ID,
    MODES,
    REG_CHIP_ID,
    REG_MODE,
    REG_STANDBY,
    Imx274Mode,
    SensorMode,
)

__all__ = ["EmulatedImx274", "SpiMemory", "bayer_test_pattern", "csi_test_frame"]


def bayer_test_pattern(width: int, height: int, bits: int) -> np.ndarray:
    """Eight vertical colour bars on an RGGB mosaic, over a horizontal brightness ramp.

    Returns ``(height, width)`` uint16 samples right-aligned in ``bits``.
    """
    top = (1 << bits) - 1
    bars = np.array(
        [[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]], np.float64
    )
    column_bar = np.minimum(np.arange(width) * 8 // max(width, 1), 7)
    rgb = bars[column_bar] * 0.85 + 0.05  # (width, 3)
    ramp = 0.4 + 0.6 * np.arange(height)[:, None] / max(height - 1, 1)  # (height, 1)
    rows, cols = np.mgrid[0:height, 0:width]
    channel = np.where(
        (rows % 2 == 0) & (cols % 2 == 0), 0, np.where((rows % 2 == 1) & (cols % 2 == 1), 2, 1)
    )
    value = rgb[cols, channel] * ramp
    result: np.ndarray = np.round(value * top).astype(np.uint16)
    return result


@functools.lru_cache(maxsize=4)
def _frame_template(mode: SensorMode) -> bytes:
    pixels = bayer_test_pattern(mode.width, mode.height, mode.pixel_format.bits)
    image = pack_raw(pixels, mode.pixel_format, mode.bytes_per_line)
    head = np.zeros(mode.start_byte, np.uint8)
    head[mode.start_byte - mode.optical_black_lines * mode.bytes_per_line :] = 0x10  # dark rows
    return head.tobytes() + image.tobytes()


def csi_test_frame(mode: SensorMode, index: int | None = None) -> bytes:
    """One CSI frame of ``mode`` showing :func:`bayer_test_pattern`. With ``index``, the first
    4 embedded-data bytes carry it (little-endian) so that consecutive frames differ; without,
    the same cached object is returned every time."""
    template = _frame_template(mode)
    if index is None:
        return template
    return (index & 0xFFFFFFFF).to_bytes(4, "little") + template[4:]


class EmulatedImx274:
    """The camera's I2C side: 8-bit registers at 16-bit big-endian addresses.

    A write transaction is ``address(2) + data``; data bytes go to consecutive registers. A read
    transaction writes the address, then reads consecutive registers.
    """

    i2c_address = 0x1A

    def __init__(self) -> None:
        self.registers: dict[int, int] = {}
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Power-on defaults: standby, 4K RAW10."""
        with self._lock:
            self.registers = {
                REG_STANDBY: 1,
                REG_MODE: 0,
                REG_CHIP_ID: CHIP_ID & 0xFF,
                REG_CHIP_ID + 1: CHIP_ID >> 8,
            }

    def i2c_transaction(self, write: bytes, read_count: int) -> bytes:
        """Perform one transaction; raises ValueError (a bus error) for a short address."""
        if len(write) < 2:
            raise ValueError("register address needs 2 bytes")
        address = int.from_bytes(write[:2], "big")
        with self._lock:
            for i, value in enumerate(write[2:]):
                self.registers[(address + i) & 0xFFFF] = value
            return bytes(self.registers.get((address + i) & 0xFFFF, 0) for i in range(read_count))

    @property
    def streaming(self) -> bool:
        """Whether the camera is out of standby."""
        return self.registers.get(REG_STANDBY, 1) == 0

    @property
    def mode(self) -> SensorMode:
        """The selected mode's geometry (4K RAW10 for an unknown value)."""
        try:
            return MODES[Imx274Mode(self.registers.get(REG_MODE, 0))]
        except ValueError:
            return MODES[Imx274Mode.IMX274_MODE_3840X2160_60FPS]


class SpiMemory:
    """A 256-byte SPI memory: command 0x02 ``address`` data... writes, 0x03 ``address`` reads."""

    def __init__(self, size: int = 256) -> None:
        self.memory = bytearray(size)

    def spi_transaction(self, command: bytes, data: bytes, read_count: int) -> bytes:
        """Perform one transaction; raises ValueError (a bus error) for an unknown command."""
        if len(command) < 2 or command[0] not in (0x02, 0x03):
            raise ValueError(f"unknown SPI command {command.hex()}")
        address = command[1]
        size = len(self.memory)
        if command[0] == 0x02:
            for i, value in enumerate(data):
                self.memory[(address + i) % size] = value
            return bytes(read_count)
        return bytes(self.memory[(address + i) % size] for i in range(read_count))
