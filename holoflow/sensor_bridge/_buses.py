"""I2C and SPI transactions through the device's bus controllers.

I2C runs as a software-event program (see :mod:`._sequencer`): the host loads a program that
fills the controller's buffer, starts the transfer, waits for DONE and copies the status and
the read data into result slots, then triggers it and polls the status slot. SPI is driven
directly: one block write sets everything up and starts the transfer, then the host polls.

Both drive a :class:`RegisterController` (a :class:`~holoflow.sensor_bridge.Hololink`); this
module does not import the controller, which imports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

from holoflow.errors import BusError
from holoflow.sensor_bridge import _registers as reg
from holoflow.sensor_bridge._control import Timeout
from holoflow.sensor_bridge._sequencer import Sequencer

__all__ = ["I2c", "RegisterController", "Spi", "pack_words", "unpack_words"]

_APB_TICK_S = 51.2e-9


class RegisterController(Protocol):
    """What the bus controllers need of a device's controller (:class:`Hololink` has it)."""

    timeout: Timeout
    """Default timeout of a transaction."""
    _i2c_lock: threading.Lock
    """Held while an I2C program is loaded and run (one at a time per device)."""

    @property
    def device(self) -> str:
        """The device as error messages name it."""
        ...

    def write_uint32(
        self, address: int, value: int, timeout: Timeout | None = None, retry: bool = True
    ) -> None: ...

    def write_uint32_block(
        self, pairs: Sequence[tuple[int, int]], timeout: Timeout | None = None
    ) -> None: ...

    def read_uint32(
        self, address: int, timeout: Timeout | None = None, sequence_check: bool = True
    ) -> int: ...

    def read_uint32_block(self, addresses: Sequence[int], timeout: Timeout | None = None) -> list[int]: ...


def pack_words(data: bytes) -> list[int]:
    """Bytes packed little-endian into 32-bit words (the buffer layout of both controllers)."""
    padded = data + bytes(-len(data) % 4)
    return [int.from_bytes(padded[i : i + 4], "little") for i in range(0, len(padded), 4)]


def unpack_words(words: list[int], count: int) -> bytes:
    """The first ``count`` bytes of little-endian packed ``words``."""
    return b"".join(w.to_bytes(4, "little") for w in words)[:count]


def _status_error(status: int) -> str:
    names = [
        name
        for bit, name in (
            (reg.STATUS_FSM_ERR, "FSM error"),
            (reg.STATUS_BUS_ERR, "bus error"),
            (reg.STATUS_NAK, "NAK"),
        )
        if status & bit
    ]
    return ", ".join(names) or f"status 0x{status:02X}"


class I2c:
    """The I2C controller at ``address`` driving ``bus_number``."""

    def __init__(self, hololink: RegisterController, bus_number: int, address: int = reg.I2C_CTRL) -> None:
        self.hololink = hololink
        self.bus_number = bus_number
        self.address = address

    def set_i2c_clock(self) -> None:
        """Set the bus clock to 400 kHz."""
        self.hololink.write_uint32(self.address + reg.BUS_CLK_CNT, reg.I2C_400KHZ)

    def i2c_transaction(
        self,
        peripheral_i2c_address: int,
        write_bytes: bytes,
        read_byte_count: int,
        timeout: Timeout | None = None,
        ignore_nak: bool = False,
    ) -> bytes:
        """Write ``write_bytes`` to the peripheral, then read ``read_byte_count`` bytes.

        Raises
        ------
        ValueError
            For a 10-bit address or more than 256 bytes either way.
        holoflow.errors.BusError
            On NAK (unless ``ignore_nak``), a bus or controller error, or no DONE in time.
        holoflow.errors.ControlTimeoutError
            If the device stops answering.
        """
        if not 0 <= peripheral_i2c_address < 0x80:
            raise ValueError(f"I2C address 0x{peripheral_i2c_address:X} is not a 7-bit address")
        if len(write_bytes) > reg.BUS_DATA_SIZE or not 0 <= read_byte_count <= reg.BUS_DATA_SIZE:
            raise ValueError(f"I2C transfer of {len(write_bytes)}/{read_byte_count} bytes exceeds 256")
        hololink = self.hololink
        timeout = timeout or hololink.timeout
        base = self.address
        program = Sequencer(reg.SW_EVENT_PROGRAM)
        program.write(base + reg.BUS_CONTROL, 0)
        for i, word in enumerate(pack_words(bytes(write_bytes))):
            program.write(base + reg.BUS_DATA + 4 * i, word)
        program.write(base + reg.BUS_NUM_BYTES, len(write_bytes) | (read_byte_count << 16))
        program.write(base + reg.BUS_EN, self.bus_number)
        program.write(base + reg.BUS_CONTROL, (peripheral_i2c_address << 16) | reg.BUS_START)
        program.poll(base + reg.BUS_STATUS, reg.STATUS_DONE, reg.STATUS_DONE)
        status_slot = program.read(base + reg.BUS_STATUS)
        data_slots = [program.read(base + reg.BUS_DATA + 4 * i) for i in range((read_byte_count + 3) // 4)]
        program.write(base + reg.BUS_CONTROL, 0)
        deadline = time.monotonic() + timeout.total
        ticks = max(1, min(0xFFFFFF, int(timeout.total / _APB_TICK_S)))
        with hololink._i2c_lock:
            hololink.write_uint32_block(
                [
                    *program.done(),
                    (reg.APB_RAM + 4 * reg.EVENT_SW, reg.SW_EVENT_PROGRAM),
                    (reg.APB_RAM + 4 * reg.EVENT_I2C_BUSY, reg.NULL_PROGRAM),
                    (reg.EVT_RISING, 1 << reg.EVENT_SW),
                    (reg.EVT_FALLING, 1 << reg.EVENT_I2C_BUSY),
                    (reg.EVT_ENABLE, (1 << reg.EVENT_SW) | (1 << reg.EVENT_I2C_BUSY)),
                    (reg.EVT_APB_TIMEOUT, ticks),
                    (reg.EVT_SW_EVENT, 1),
                    (reg.EVT_SW_EVENT, 0),
                ],
                timeout,
            )
            while True:
                status = hololink.read_uint32(status_slot, timeout)
                if status & reg.STATUS_DONE or status & (reg.STATUS_FSM_ERR | reg.STATUS_BUS_ERR):
                    break
                if time.monotonic() >= deadline:
                    raise BusError(
                        hololink.device,
                        f"I2C bus {self.bus_number} address 0x{peripheral_i2c_address:02X}: "
                        f"no DONE within {timeout.total:g} s (status 0x{status:02X})",
                    )
                time.sleep(0.001)
            if status & (reg.STATUS_FSM_ERR | reg.STATUS_BUS_ERR) or (
                status & reg.STATUS_NAK and not ignore_nak
            ):
                raise BusError(
                    hololink.device,
                    f"I2C bus {self.bus_number} address 0x{peripheral_i2c_address:02X}: "
                    f"{_status_error(status)}",
                )
            if not data_slots:
                return b""
            return unpack_words(hololink.read_uint32_block(data_slots, timeout), read_byte_count)


class Spi:
    """The SPI controller at ``address`` driving ``bus_number``."""

    def __init__(
        self,
        hololink: RegisterController,
        bus_number: int,
        prescaler: int = 15,
        cpol: int = 0,
        cpha: int = 1,
        width: int = 1,
        address: int = reg.SPI_CTRL,
    ) -> None:
        if not 0 <= prescaler <= 15:
            raise ValueError(f"SPI prescaler must be 0..15, got {prescaler}")
        widths = {1: 0, 2: 1, 4: 2}
        if width not in widths:
            raise ValueError(f"SPI width must be 1, 2 or 4, got {width}")
        self.hololink = hololink
        self.bus_number = bus_number
        self.address = address
        self.mode = prescaler | (widths[width] << 8) | (0x10 if cpol else 0) | (0x20 if cpha else 0)

    def spi_transaction(
        self,
        write_command_bytes: bytes,
        write_data_bytes: bytes,
        read_byte_count: int,
        timeout: Timeout | None = None,
        turnaround_cycles: int = 0,
    ) -> bytes:
        """Send command then data bytes, then clock in ``read_byte_count`` bytes.

        Returns ``len(write_command_bytes) + read_byte_count`` bytes: the command echo slots,
        then the data read.

        Raises
        ------
        ValueError
            For 16 or more command bytes or transfers over 256 bytes.
        holoflow.errors.BusError
            If the controller is busy, reports an error, or never finishes.
        """
        command, data = bytes(write_command_bytes), bytes(write_data_bytes)
        if len(command) >= 16:
            raise ValueError(f"SPI command of {len(command)} bytes; at most 15")
        if len(command) + len(data) > reg.BUS_DATA_SIZE or len(command) + read_byte_count > reg.BUS_DATA_SIZE:
            raise ValueError("SPI transfer exceeds the 256-byte buffer")
        hololink = self.hololink
        timeout = timeout or hololink.timeout
        base = self.address
        where = f"SPI bus {self.bus_number}"
        if hololink.read_uint32(base + reg.BUS_STATUS, timeout) & reg.STATUS_BUSY:
            raise BusError(hololink.device, f"{where}: controller busy")
        hololink.write_uint32(base + reg.BUS_CONTROL, 0, timeout)
        if hololink.read_uint32(base + reg.BUS_STATUS, timeout) & reg.STATUS_DONE:
            raise BusError(hololink.device, f"{where}: controller did not return to idle")
        words = pack_words(command + data)
        hololink.write_uint32_block(
            [
                (base + reg.BUS_CLK_CNT, self.mode),
                *((base + reg.BUS_DATA + 4 * i, w) for i, w in enumerate(words)),
                (base + reg.BUS_NUM_BYTES, (len(command) + len(data)) | (read_byte_count << 16)),
                (base + reg.SPI_NUM_CMD_BYTES, (turnaround_cycles & 0xFF) | (len(command) << 8)),
                (base + reg.BUS_EN, self.bus_number),
                (base + reg.BUS_CONTROL, reg.BUS_START),
            ],
            timeout,
        )
        deadline = time.monotonic() + timeout.total
        while True:
            status = hololink.read_uint32(base + reg.BUS_STATUS, timeout)
            if status & (reg.STATUS_FSM_ERR | reg.STATUS_BUS_ERR):
                raise BusError(hololink.device, f"{where}: {_status_error(status)}")
            if status & reg.STATUS_DONE:
                break
            if time.monotonic() >= deadline:
                raise BusError(hololink.device, f"{where}: no DONE within {timeout.total:g} s")
            time.sleep(0.001)
        hololink.write_uint32(base + reg.BUS_CONTROL, 0, timeout)
        total = len(command) + read_byte_count
        count = (total + 3) // 4
        result = b""
        if count:
            addresses = [base + reg.BUS_DATA + 4 * i for i in range(count)]
            result = unpack_words(hololink.read_uint32_block(addresses, timeout), total)
        hololink.write_uint32(base + reg.BUS_CONTROL, 0, timeout)
        return result
