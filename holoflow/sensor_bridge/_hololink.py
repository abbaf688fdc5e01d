"""``Hololink``: the host side of a device's control plane — registers, I2C, SPI, reset.

One request is outstanding per device (a lock serialises callers). Every logical transaction
takes the next 16-bit sequence number (starting at 0x0100) and asks the device to check it
(flag bit 1) so that a second, stale controller of the same device fails loudly instead of
interleaving. A request is resent every ``retry`` seconds until ``total`` seconds have passed;
a resend keeps the sequence number but clears the check flag (the device may already have
executed the first copy and latched the number). Replies from other addresses, with another
sequence number or that do not decode are ignored (and counted).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from holoflow.errors import ControlStatusError, ControlTimeoutError, PacketFormatError, SensorBridgeError
from holoflow.sensor_bridge import _registers as reg
from holoflow.sensor_bridge._bootp import BOOTP_REQUEST_PORT
from holoflow.sensor_bridge._buses import I2c, Spi
from holoflow.sensor_bridge._control import (
    CONTROL_PACKET_SIZE,
    CONTROL_UDP_PORT,
    FLAG_ACK_REQUEST,
    FLAG_SEQUENCE_CHECK,
    MAX_BLOCK_PAIRS,
    Command,
    ControlReply,
    ControlRequest,
    Status,
    Timeout,
    status_name,
)
from holoflow.sensor_bridge._enumeration import Enumerator

__all__ = ["ControlStatistics", "Hololink", "ResetController"]

FIRST_SEQUENCE = 0x0100


@dataclass(frozen=True, slots=True)
class ControlStatistics:
    """Counters of one controller."""

    transactions: int
    """Logical transactions started."""
    requests_sent: int
    """Datagrams sent (retries included)."""
    retries: int
    """Resends."""
    timeouts: int
    """Transactions that got no reply."""
    ignored_replies: int
    """Replies dropped: stale sequence, wrong command or undecodable."""


class ResetController(Protocol):
    """Something to re-initialise after a device reset (a sensor)."""

    def reset(self) -> None: ...


class Hololink:
    """Controls one device at ``peer_ip:control_port``.

    Parameters
    ----------
    peer_ip : str
        The device's address.
    control_port : int
        Its control port (8192).
    serial_number : str
        For messages and for :meth:`from_enumeration_metadata`'s cache.
    sequence_number_checking : bool
        Ask the device to check sequence numbers.
    timeout : Timeout
        Default timeout of every transaction.
    bootp_request_port : int
        Where announcements arrive (used by :meth:`reset` to find the device again).
    """

    _by_serial: ClassVar[dict[str, Hololink]] = {}

    def __init__(
        self,
        peer_ip: str,
        control_port: int = CONTROL_UDP_PORT,
        serial_number: str = "",
        sequence_number_checking: bool = True,
        timeout: Timeout | None = None,
        bootp_request_port: int = BOOTP_REQUEST_PORT,
        ptp_enable: bool = True,
    ) -> None:
        self.peer_ip = peer_ip
        self.control_port = control_port
        self.serial_number = serial_number
        self.sequence_number_checking = sequence_number_checking
        self.timeout = timeout or Timeout()
        self.bootp_request_port = bootp_request_port
        self.ptp_enable = ptp_enable
        self.hsb_ip_version = 0
        self.fpga_date = 0
        self._sequence = FIRST_SEQUENCE
        self._lock = threading.RLock()
        self._socket: socket.socket | None = None
        self._reset_controllers: list[ResetController] = []
        self._counts = dict.fromkeys(ControlStatistics.__slots__, 0)
        self._i2c_lock = threading.Lock()

    @property
    def device(self) -> str:
        """``"ip:port"`` of the control plane, as error messages name it."""
        return f"{self.peer_ip}:{self.control_port}"

    @classmethod
    def from_enumeration_metadata(cls, metadata: dict[str, Any]) -> Hololink:
        """The controller of the device that ``metadata`` describes: one per serial number."""
        serial = str(metadata["serial_number"])
        existing = cls._by_serial.get(serial)
        if existing is not None and existing.peer_ip == metadata["peer_ip"]:
            return existing
        made = cls(
            metadata["peer_ip"],
            int(metadata.get("control_port", CONTROL_UDP_PORT)),
            serial,
            bool(metadata.get("sequence_number_checking", 1)),
            bootp_request_port=int(metadata.get("bootp_request_port", BOOTP_REQUEST_PORT)),
            ptp_enable=bool(metadata.get("ptp_enable", 1)),
        )
        cls._by_serial[serial] = made
        return made

    @classmethod
    def reset_framework(cls) -> None:
        """Forget every cached controller (stopping them)."""
        for hololink in cls._by_serial.values():
            hololink.stop()
        cls._by_serial.clear()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, first_timeout: Timeout | None = None) -> None:
        """Open the control socket and configure the device (:meth:`configure_hsb`)."""
        with self._lock:
            if self._socket is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.connect((self.peer_ip, self.control_port))
                self._socket = sock
        self.configure_hsb(first_timeout)

    def stop(self) -> None:
        """Close the control socket."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def configure_hsb(self, first_timeout: Timeout | None = None) -> None:
        """Read the IP version (without sequence check: re-synchronises the device), the date,
        set up PTP and the event block, and load the null event program."""
        self.hsb_ip_version = (
            self.read_uint32(reg.HSB_IP_VERSION, first_timeout or Timeout(30.0, 0.2), sequence_check=False)
            & 0xFFFF
        )
        self.fpga_date = self.read_uint32(reg.FPGA_DATE)
        if self.ptp_enable:
            for address, value in ((0x110, 2), (0x114, 2), (0x118, 3), (0x10C, 0x33), (0x104, 3)):
                self.write_uint32(address, value)
        if self.hsb_ip_version >= 0x2503:
            self.write_uint32_block(
                [
                    (reg.EVT_ENABLE, 0),
                    (reg.EVT_RISING, 0),
                    (reg.EVT_FALLING, 0),
                    (reg.EVT_CLEAR, 0xFFFFFFFF),
                    (reg.EVT_CLEAR, 0),
                    (reg.EVT_APB_TIMEOUT, 0x3937),
                    (reg.EVT_SW_EVENT, 0),
                    (reg.EVT_HOST_MAC_LOW, 0xFFFFFFFF),
                    (reg.EVT_HOST_MAC_HIGH, 0xFFFF),
                    (reg.EVT_HOST_IP, 0xFFFFFFFF),
                    (reg.EVT_HOST_PORT, 0),
                    (reg.EVT_DEVICE_PORT, 8432),
                    (reg.NULL_PROGRAM, 0x00000002),
                    (reg.NULL_PROGRAM + 4, 0xFFFFFFFF),
                ]
            )

    def on_reset(self, controller: ResetController) -> None:
        """Call ``controller.reset()`` after every :meth:`reset`."""
        self._reset_controllers.append(controller)

    def reset(self, find_timeout: float = 30.0, settle: float = 0.1) -> None:
        """Reset the device, wait for it to announce itself again, reconfigure it, then reset
        every registered controller (sensors).

        Raises
        ------
        holoflow.errors.DeviceNotFoundError
            If the device does not come back within ``find_timeout`` seconds.
        """
        with Enumerator(bootp_request_port=self.bootp_request_port) as enumerator:
            self.write_uint32(reg.BOARD_ENABLES, 0)
            time.sleep(settle)
            self.write_uint32(reg.BOARD_ENABLES, 3)
            try:  # the device resets and never answers this one
                self.write_uint32(reg.RESET_CONTROL, reg.RESET_DEVICE, Timeout(0.2, 0.2), retry=False)
            except ControlTimeoutError:
                pass
            time.sleep(settle)
            enumerator.find(self.peer_ip, find_timeout)
        self.configure_hsb()
        for controller in self._reset_controllers:
            controller.reset()

    # -- registers ---------------------------------------------------------------------------------
    def write_uint32(
        self, address: int, value: int, timeout: Timeout | None = None, retry: bool = True
    ) -> None:
        """Write one register (sent as a one-pair WR_BLOCK, as the device expects).

        Raises
        ------
        holoflow.errors.ControlTimeoutError
            If no reply came.
        holoflow.errors.ControlStatusError
            If the device refused (unmapped address, sequence check...).
        """
        self._transact(Command.WR_BLOCK, [(address, value)], timeout, retry)

    def write_uint32_block(self, pairs: Sequence[tuple[int, int]], timeout: Timeout | None = None) -> None:
        """Write (address, value) pairs, as few WR_BLOCK requests as fit (183 pairs each)."""
        pairs = list(pairs)
        for start in range(0, len(pairs), MAX_BLOCK_PAIRS):
            self._transact(Command.WR_BLOCK, pairs[start : start + MAX_BLOCK_PAIRS], timeout, True)

    def read_uint32(self, address: int, timeout: Timeout | None = None, sequence_check: bool = True) -> int:
        """Read one register (RD_DWORD).

        Raises
        ------
        holoflow.errors.ControlTimeoutError, holoflow.errors.ControlStatusError
        """
        reply = self._transact(Command.RD_DWORD, [(address, 0)], timeout, True, sequence_check)
        return reply.pairs[0][1]

    def read_uint32_block(self, addresses: Sequence[int], timeout: Timeout | None = None) -> list[int]:
        """Read several registers (any addresses) with RD_BLOCK requests."""
        addresses = list(addresses)
        values: list[int] = []
        for start in range(0, len(addresses), MAX_BLOCK_PAIRS):
            chunk = [(a, 0) for a in addresses[start : start + MAX_BLOCK_PAIRS]]
            values += [v for _, v in self._transact(Command.RD_BLOCK, chunk, timeout, True).pairs]
        return values

    def and_uint32(self, address: int, mask: int) -> None:
        """Read-modify-write: ``reg &= mask``."""
        with self._lock:
            self.write_uint32(address, self.read_uint32(address) & mask)

    def or_uint32(self, address: int, bits: int) -> None:
        """Read-modify-write: ``reg |= bits``."""
        with self._lock:
            self.write_uint32(address, self.read_uint32(address) | bits)

    def statistics(self) -> ControlStatistics:
        """Transaction counters."""
        return ControlStatistics(**self._counts)

    # -- buses ---------------------------------------------------------------------------------------
    def get_i2c(self, bus_number: int, i2c_address: int = reg.I2C_CTRL) -> I2c:
        """The I2C controller for ``bus_number`` (0 board, 1 camera)."""
        return I2c(self, bus_number, i2c_address)

    def get_spi(
        self,
        bus_number: int,
        chip_select: int = 0,
        prescaler: int = 15,
        cpol: int = 0,
        cpha: int = 1,
        width: int = 1,
        spi_address: int = reg.SPI_CTRL,
    ) -> Spi:
        """The SPI controller for ``bus_number`` (``chip_select`` is accepted and unused, as on
        the device)."""
        del chip_select
        return Spi(self, bus_number, prescaler, cpol, cpha, width, spi_address)

    # -- the transaction -------------------------------------------------------------------------
    def _transact(
        self,
        command: Command,
        pairs: list[tuple[int, int]],
        timeout: Timeout | None,
        retry: bool,
        sequence_check: bool = True,
    ) -> ControlReply:
        timeout = timeout or self.timeout
        with self._lock:
            sock = self._socket
            if sock is None:
                raise SensorBridgeError(self.device, "the controller is not started (call start())")
            sequence = self._sequence
            self._sequence = (sequence + 1) & 0xFFFF
            flags = FLAG_ACK_REQUEST
            if self.sequence_number_checking and sequence_check:
                flags |= FLAG_SEQUENCE_CHECK
            self._counts["transactions"] += 1
            first = pairs[0][0]
            request = ControlRequest(command, flags, sequence, tuple(pairs)).encode()
            deadline = time.monotonic() + timeout.total
            attempts = 0
            while True:
                try:
                    sock.send(request)
                except OSError:
                    pass  # an ICMP error from an earlier datagram; the retry loop copes
                attempts += 1
                self._counts["requests_sent"] += 1
                resend = min(time.monotonic() + timeout.retry, deadline)
                reply = self._wait_reply(sock, command, sequence, len(pairs), resend)
                if reply is not None:
                    break
                if not retry or time.monotonic() >= deadline:
                    self._counts["timeouts"] += 1
                    raise ControlTimeoutError(
                        self.device,
                        f"{command.name} of 0x{first:08X}: no reply after {attempts} attempt(s) "
                        f"in {timeout.total:g} s",
                    )
                self._counts["retries"] += 1
                if flags & FLAG_SEQUENCE_CHECK:
                    flags &= ~FLAG_SEQUENCE_CHECK
                    request = ControlRequest(command, flags, sequence, tuple(pairs)).encode()
            if reply.status != Status.SUCCESS:
                raise ControlStatusError(
                    self.device,
                    f"{command.name} of 0x{first:08X} failed: {status_name(reply.status)}",
                    reply.status,
                    first,
                )
            if command == Command.RD_BLOCK:
                for (wanted, _), (got, _) in zip(pairs, reply.pairs, strict=True):
                    if wanted != got:
                        raise ControlStatusError(
                            self.device,
                            f"RD_BLOCK malformed reply: address 0x{got:08X} for 0x{wanted:08X}",
                            Status.HOST_ERROR,
                            wanted,
                        )
            return reply

    def _wait_reply(
        self, sock: socket.socket, command: Command, sequence: int, operations: int, until: float
    ) -> ControlReply | None:
        buffer = bytearray(CONTROL_PACKET_SIZE)
        while (left := until - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                size = sock.recv_into(buffer)
            except (TimeoutError, BlockingIOError):
                return None
            except ConnectionRefusedError:  # ICMP port unreachable: nobody listens (yet)
                time.sleep(min(left, 0.01))
                continue
            try:
                reply = ControlReply.decode(memoryview(buffer)[:size], operations)
            except PacketFormatError:
                self._counts["ignored_replies"] += 1
                continue
            if reply.sequence != sequence or reply.command != (command | 0x80):
                self._counts["ignored_replies"] += 1
                continue
            return reply
        return None
