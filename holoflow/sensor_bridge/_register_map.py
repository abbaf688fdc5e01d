"""The emulated device's address space: registers, APB RAM, the I2C and SPI controllers.

Reads and writes go through :meth:`RegisterMap.read` / :meth:`RegisterMap.write`, which return
None / False for unmapped addresses (the control plane answers INVALID_ADDRESS). Writing START
to a bus controller's CONTROL register runs the transfer with the peripheral on that bus at once
(status DONE, or DONE with NAK / bus error); a rising edge on the software-event register runs
the APB RAM program armed for it (see :mod:`._sequencer`). Nothing here trusts its input: counts
are capped at the 256-byte buffers and programs are bounded.
"""

from __future__ import annotations

from typing import Protocol

from holoflow.sensor_bridge import _registers as reg
from holoflow.sensor_bridge._sequencer import run_program

__all__ = ["FPGA_DATE", "I2cPeripheral", "RegisterMap", "SpiPeripheral"]

FPGA_DATE = 0x20251123
_MAPPED = (
    (0x0000_0000, 0x0000_0400),  # board, GPIO, PTP, event block
    (0x0000_1000, 0x0000_1100),  # virtual ports
    (0x0000_2000, 0x0000_3000),  # APB RAM
    (0x0100_0000, 0x0100_0100),  # SIF 0
    (0x0101_0000, 0x0101_0100),  # SIF 1
    (0x0200_0300, 0x0200_0400),  # HIF 0
    (0x0201_0300, 0x0201_0400),  # HIF 1
    (0x0300_0000, 0x0300_0500),  # SPI, I2C, UART
    (0x7000_0000, 0x7000_1000),  # VSYNC (stub)
    (0x8000_0000, 0x8000_1000),  # I2S (stub)
)


class I2cPeripheral(Protocol):
    """A device on an emulated I2C bus."""

    def i2c_transaction(self, write: bytes, read_count: int) -> bytes: ...


class SpiPeripheral(Protocol):
    """A device on an emulated SPI bus."""

    def spi_transaction(self, command: bytes, data: bytes, read_count: int) -> bytes: ...


def _mapped(address: int) -> bool:
    return any(low <= address < high for low, high in _MAPPED)


class RegisterMap:
    """One power cycle's register state.

    Parameters
    ----------
    hsb_ip_version : int
        Value of the version register.
    i2c_devices : dict
        Peripherals by (bus, 7-bit address).
    spi_devices : dict
        Peripherals by bus.
    """

    def __init__(
        self,
        hsb_ip_version: int,
        i2c_devices: dict[tuple[int, int], I2cPeripheral],
        spi_devices: dict[int, SpiPeripheral],
    ) -> None:
        self.hsb_ip_version = hsb_ip_version
        self.i2c_devices = i2c_devices
        self.spi_devices = spi_devices
        self.registers: dict[int, int] = {}
        self.apb_ram: dict[int, int] = {}
        self._bus_status = {reg.I2C_CTRL: 0, reg.SPI_CTRL: 0}
        self._bus_buffer = {
            reg.I2C_CTRL: bytearray(reg.BUS_DATA_SIZE),
            reg.SPI_CTRL: bytearray(reg.BUS_DATA_SIZE),
        }

    def read(self, address: int) -> int | None:
        """A register's value, or None when unmapped."""
        if not _mapped(address):
            return None
        if address == reg.HSB_IP_VERSION:
            return self.hsb_ip_version
        if address == reg.FPGA_DATE:
            return FPGA_DATE
        if reg.APB_RAM <= address < reg.APB_RAM_END:
            return self.apb_ram.get(address, 0)
        for base in (reg.I2C_CTRL, reg.SPI_CTRL):
            if base <= address < base + 0x200:
                offset = address - base
                if offset == reg.BUS_STATUS:
                    return self._bus_status[base]
                if reg.BUS_DATA <= offset < reg.BUS_DATA + reg.BUS_DATA_SIZE:
                    start = offset - reg.BUS_DATA
                    return int.from_bytes(self._bus_buffer[base][start : start + 4], "little")
        return self.registers.get(address, 0)

    def write(self, address: int, value: int) -> bool:
        """Write a register as the device would; False when unmapped."""
        if not _mapped(address):
            return False
        value &= 0xFFFFFFFF
        if reg.APB_RAM <= address < reg.APB_RAM_END:
            self.apb_ram[address] = value
            return True
        previous = self.registers.get(address, 0)
        self.registers[address] = value
        for base in (reg.I2C_CTRL, reg.SPI_CTRL):
            if base <= address < base + 0x200:
                self._write_bus(base, address - base, value)
        if address == reg.EVT_SW_EVENT and value & 1 and not previous & 1:
            self._software_event()
        return True

    def _write_bus(self, base: int, offset: int, value: int) -> None:
        if reg.BUS_DATA <= offset < reg.BUS_DATA + reg.BUS_DATA_SIZE:
            start = offset - reg.BUS_DATA
            self._bus_buffer[base][start : start + 4] = value.to_bytes(4, "little")[
                : reg.BUS_DATA_SIZE - start
            ]
        elif offset == reg.BUS_CONTROL:
            if value & reg.BUS_START:
                self._bus_status[base] = self._bus_transfer(base, value) | reg.STATUS_DONE
            else:
                self._bus_status[base] = 0

    def _bus_transfer(self, base: int, control: int) -> int:
        counts = self.registers.get(base + reg.BUS_NUM_BYTES, 0)
        write_count, read_count = counts & 0xFFFF, counts >> 16
        if write_count > reg.BUS_DATA_SIZE or read_count > reg.BUS_DATA_SIZE:
            return reg.STATUS_FSM_ERR
        bus = self.registers.get(base + reg.BUS_EN, 0)
        buffer = self._bus_buffer[base]
        written = bytes(buffer[:write_count])
        try:
            if base == reg.I2C_CTRL:
                if control & 0x2:  # 10-bit addressing is not modelled
                    return reg.STATUS_FSM_ERR
                peripheral = self.i2c_devices.get((bus, (control >> 16) & 0x7F))
                if peripheral is None:
                    return reg.STATUS_NAK
                result = peripheral.i2c_transaction(written, read_count)[:read_count]
                buffer[: len(result)] = result
            else:
                spi = self.spi_devices.get(bus)
                if spi is None:
                    return reg.STATUS_BUS_ERR
                command_count = (self.registers.get(base + reg.SPI_NUM_CMD_BYTES, 0) >> 8) & 0xFF
                if command_count + read_count > reg.BUS_DATA_SIZE or command_count > write_count:
                    return reg.STATUS_FSM_ERR
                result = spi.spi_transaction(written[:command_count], written[command_count:], read_count)
                buffer[command_count : command_count + read_count] = result[:read_count].ljust(
                    read_count, b"\0"
                )
        except ValueError:
            return reg.STATUS_BUS_ERR
        return 0

    def _software_event(self) -> None:
        enabled = self.registers.get(reg.EVT_ENABLE, 0) & self.registers.get(reg.EVT_RISING, 0)
        if enabled & (1 << reg.EVENT_SW):
            start = self.apb_ram.get(reg.APB_RAM + 4 * reg.EVENT_SW, reg.SW_EVENT_PROGRAM)
            run_program(start, self.apb_ram, lambda a: self.read(a) or 0, self.write)
