"""The control plane wire format ("Ethernet Control Bus", UDP port 8192, big-endian).

Request::

    0 command(1)  1 flags(1)  2 sequence(2)  4 reserved(2)  6+8m address_m(4) value_m(4)

``RD_DWORD`` requests stop after the address (10 bytes). Reply::

    0 command | 0x80  1 flags  2 sequence  4 status(1)  5 reserved(1)  6+8m address_m value_m
    then a trailer the host ignores (the device appends 4 zero bytes)

Flags: bit 0 asks for a reply (ACK), bit 1 asks the device to check that the sequence number
is the previous accepted one plus one (status 0x0B and no execution otherwise).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from holoflow.errors import PacketFormatError

__all__ = [
    "CONTROL_PACKET_SIZE",
    "CONTROL_UDP_PORT",
    "FLAG_ACK_REQUEST",
    "FLAG_SEQUENCE_CHECK",
    "MAX_BLOCK_PAIRS",
    "Command",
    "ControlReply",
    "ControlRequest",
    "Status",
    "Timeout",
]

CONTROL_UDP_PORT = 8192
CONTROL_PACKET_SIZE = 1472
"""Largest control datagram the host sends or reads."""
FLAG_ACK_REQUEST = 0x01
FLAG_SEQUENCE_CHECK = 0x02
HEADER_SIZE = 6
REPLY_BIT = 0x80
MAX_BLOCK_PAIRS = (CONTROL_PACKET_SIZE - HEADER_SIZE) // 8
"""Address/value pairs that fit one request (183)."""
REPLY_TRAILER = b"\x00\x00\x00\x00"

_HEADER = struct.Struct(">BBHH")
_REPLY_HEADER = struct.Struct(">BBHBB")
_PAIR = struct.Struct(">II")


class Command(enum.IntEnum):
    """Control commands (the host uses the four dword ones)."""

    WR_BYTE = 0x01
    WR_WORD = 0x02
    WR_DWORD = 0x04
    WR_BLOCK = 0x09
    RMW_BYTE = 0x0A
    RD_BYTE = 0x11
    RD_WORD = 0x12
    RD_DWORD = 0x14
    RD_BLOCK = 0x19
    GET_INFO = 0x20


class Status(enum.IntEnum):
    """Reply status codes."""

    SUCCESS = 0x00
    GENERAL_ERROR = 0x02
    INVALID_ADDRESS = 0x03
    INVALID_COMMAND = 0x04
    BAD_LENGTH = 0x05
    INVALID_FLAGS = 0x06
    BUFFER_FULL = 0x07
    BAD_BLOCK_SIZE = 0x08
    BAD_INDIRECT_ADDRESS = 0x09
    COMMAND_TIMEOUT = 0x0A
    SEQUENCE_CHECK_FAILED = 0x0B
    HOST_ERROR = 0xF0


def status_name(status: int) -> str:
    """``"INVALID_ADDRESS (0x03)"`` for a known code, ``"0x42"`` otherwise."""
    try:
        return f"{Status(status).name} (0x{status:02X})"
    except ValueError:
        return f"0x{status:02X}"


def _check_address(address: int) -> None:
    if not 0 <= address <= 0xFFFFFFFF or address % 4:
        raise PacketFormatError("control", "address", f"0x{address:X} is not a 4-byte aligned 32-bit address")


@dataclass(frozen=True, slots=True)
class Timeout:
    """How long a control transaction may take, and how often the request is resent."""

    total: float = 0.5
    """Seconds before the transaction fails."""
    retry: float = 0.1
    """Seconds between resends."""

    def __post_init__(self) -> None:
        if self.total <= 0 or self.retry <= 0:
            raise ValueError(f"timeout total and retry must be > 0, got {self.total}, {self.retry}")


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One control request: a command over ``pairs`` of (address, value)."""

    command: int
    """A :class:`Command` code."""
    flags: int
    """``FLAG_ACK_REQUEST`` | ``FLAG_SEQUENCE_CHECK``."""
    sequence: int
    """16-bit sequence number."""
    pairs: tuple[tuple[int, int], ...]
    """(address, value) per operation; values are 0 for reads."""

    def encode(self) -> bytes:
        """The datagram. ``RD_DWORD`` is 10 bytes (no value word).

        Raises
        ------
        holoflow.errors.PacketFormatError
            For a misaligned address, a value wider than 32 bits, no pairs or too many.
        """
        if not 1 <= len(self.pairs) <= MAX_BLOCK_PAIRS:
            raise PacketFormatError(
                "control", "pairs", f"{len(self.pairs)} operations (1..{MAX_BLOCK_PAIRS})"
            )
        if self.command in (Command.RD_DWORD, Command.WR_DWORD) and len(self.pairs) != 1:
            raise PacketFormatError("control", "pairs", f"command 0x{self.command:02X} takes one operation")
        parts = [_HEADER.pack(self.command & 0xFF, self.flags & 0xFF, self.sequence & 0xFFFF, 0)]
        for address, value in self.pairs:
            _check_address(address)
            if not 0 <= value <= 0xFFFFFFFF:
                raise PacketFormatError("control", "value", f"0x{value:X} at 0x{address:08X} is not 32-bit")
            if self.command == Command.RD_DWORD:
                parts.append(address.to_bytes(4, "big"))
            else:
                parts.append(_PAIR.pack(address, value))
        return b"".join(parts)

    @classmethod
    def decode(cls, datagram: bytes | bytearray | memoryview) -> ControlRequest:
        """Decode a request as a device does.

        Raises
        ------
        holoflow.errors.PacketFormatError
            For a runt, a reply bit, or a length that is not header + whole operations.
        """
        data = bytes(datagram)
        if len(data) < HEADER_SIZE + 4:
            raise PacketFormatError("control", "length", f"{len(data)} bytes is shorter than a request")
        command, flags, sequence, _ = _HEADER.unpack_from(data)
        if command & REPLY_BIT:
            raise PacketFormatError("control", "command", f"0x{command:02X} is a reply, not a request")
        body = data[HEADER_SIZE:]
        if command == Command.RD_DWORD:
            return cls(command, flags, sequence, ((int.from_bytes(body[:4], "big"), 0),))
        if len(body) % 8 or len(body) // 8 > MAX_BLOCK_PAIRS:
            raise PacketFormatError("control", "length", f"{len(body)} body bytes is not whole operations")
        pairs = tuple(_PAIR.iter_unpack(body))
        return cls(command, flags, sequence, pairs)


@dataclass(frozen=True, slots=True)
class ControlReply:
    """One control reply."""

    command: int
    """The request's command with bit 7 set."""
    flags: int
    """The request's flags, echoed."""
    sequence: int
    """The request's sequence number, echoed."""
    status: int
    """A :class:`Status` code."""
    pairs: tuple[tuple[int, int], ...]
    """(address, value) per operation: read data for reads, an echo for writes."""

    def encode(self) -> bytes:
        """The datagram, with the 4-byte trailer the device appends."""
        head = _REPLY_HEADER.pack(
            self.command & 0xFF, self.flags & 0xFF, self.sequence & 0xFFFF, self.status, 0
        )
        return head + b"".join(_PAIR.pack(a, v) for a, v in self.pairs) + REPLY_TRAILER

    @classmethod
    def decode(cls, datagram: bytes | bytearray | memoryview, operations: int) -> ControlReply:
        """Decode a reply that should carry ``operations`` (address, value) pairs.

        A reply with a non-zero status may carry no pairs; trailing bytes are ignored.

        Raises
        ------
        holoflow.errors.PacketFormatError
            For a runt, a missing reply bit, or fewer pairs than expected on success.
        """
        data = bytes(datagram)
        if len(data) < HEADER_SIZE:
            raise PacketFormatError("control", "length", f"{len(data)} bytes is shorter than a reply header")
        command, flags, sequence, status, _ = _REPLY_HEADER.unpack_from(data)
        if not command & REPLY_BIT:
            raise PacketFormatError("control", "command", f"0x{command:02X} is not a reply")
        available = (len(data) - HEADER_SIZE) // 8
        if status == Status.SUCCESS and available < operations:
            raise PacketFormatError(
                "control", "length", f"{len(data)} bytes hold {available} of {operations} operations"
            )
        count = min(available, operations)
        pairs = tuple(_PAIR.unpack_from(data, HEADER_SIZE + 8 * i) for i in range(count))
        return cls(command, flags, sequence, status, pairs)
