"""BOOTP announcements (device → host, UDP 12267) and set-IP replies (host → device, UDP 12268).

A device broadcasts a 300-byte BOOTREQUEST about once a second per data plane. The standard
BOOTP header is followed, at offset 236, by NVIDIA's vendor area::

    236 tag 0xE0   237 tag length   238 "NVDA"   242 data_plane   243 enum_version
    enum_version 2: 244 compat_id (LE16)  246 FPGA UUID (16)  262 packet count (BE24)
                    265 0  266 serial number (7)  273 hsb_ip_version (LE16)  275 fpga_crc (LE16)
    enum_version 1: 244 board_id (LE16)   246 board_version (20)  266 serial (7) ...

A host assigns an address by answering with a BOOTREPLY (op 2) whose ``yiaddr`` is the new IP.
Decoding checks every length before reading: a short, foreign or malformed datagram raises
:class:`~holoflow.errors.PacketFormatError` and is never half-read.
"""

from __future__ import annotations

import socket
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from holoflow.errors import PacketFormatError

__all__ = [
    "BOOTP_REPLY_PORT",
    "BOOTP_REQUEST_PORT",
    "BOOTP_SIZE",
    "Announcement",
    "decode_set_ip_reply",
    "encode_set_ip_reply",
]

BOOTP_REQUEST_PORT = 12267
BOOTP_REPLY_PORT = 12268
BOOTP_SIZE = 300
BOOTREQUEST = 1
BOOTREPLY = 2
VENDOR_TAG = 0xE0
VENDOR_ID = b"NVDA"
_HEADER = struct.Struct(">BBBBIHH4s4s4s4s16s")  # 44 bytes: op .. chaddr
_VENDOR_OFFSET = 236
_V2_END = 277


def _ip(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


@dataclass(frozen=True, slots=True)
class Announcement:
    """The fields of one device announcement (enumeration version 2 unless ``enum_version=1``)."""

    mac: bytes
    """The device's hardware address (6 bytes)."""
    ip: str = "0.0.0.0"
    """The device's current address (``ciaddr``)."""
    data_plane: int = 0
    """Ethernet port (data plane) index on the device."""
    serial_number: bytes = b"\x03\x01\x04\x01\x05\x09\x03"
    """7 raw bytes; the host shows them as 14 hex characters."""
    fpga_uuid: str = "16af139b-9d14-482f-9805-3feb72ae0cec"
    """Board UUID (enumeration version 2)."""
    compat_id: int = 0
    """Compatibility id (version 2) or board id (version 1)."""
    hsb_ip_version: int = 0x2602
    """Version of the device's IP block."""
    fpga_crc: int = 0x5AA5
    """CRC of the FPGA image."""
    transaction_id: int = 0
    """``xid``: the data-plane index (emulator) or device id (FPGA)."""
    seconds: int = 0
    """Seconds since the device started (16 bits)."""
    transmitted_packet_count: int = 0
    """Packets the device has sent (24 bits)."""
    enum_version: int = 2
    """1 (legacy) or 2."""
    board_version: bytes = b"\x00" * 20
    """Version 1 only: 20 raw bytes."""

    def encode(self) -> bytes:
        """The 300-byte BOOTREQUEST.

        Raises
        ------
        holoflow.errors.PacketFormatError
            If a field does not fit.
        """
        if len(self.mac) != 6 or len(self.serial_number) != 7 or self.enum_version not in (1, 2):
            raise PacketFormatError("bootp", "mac/serial_number/enum_version", "wrong size or version")
        try:
            header = _HEADER.pack(
                BOOTREQUEST,
                1,
                6,
                0,
                self.transaction_id,
                self.seconds & 0xFFFF,
                0,
                socket.inet_aton(self.ip),
                bytes(4),
                bytes(4),
                bytes(4),
                self.mac.ljust(16, b"\x00"),
            )
            vendor = bytes([VENDOR_TAG, 4]) + VENDOR_ID + bytes([self.data_plane, self.enum_version])
            if self.enum_version == 2:
                vendor += (
                    struct.pack("<H", self.compat_id)
                    + uuid.UUID(self.fpga_uuid).bytes
                    + (self.transmitted_packet_count & 0xFFFFFF).to_bytes(3, "big")
                    + b"\x00"
                )
            else:
                vendor += struct.pack("<H", self.compat_id) + self.board_version
            vendor += self.serial_number + struct.pack("<HH", self.hsb_ip_version, self.fpga_crc)
        except (struct.error, OSError, ValueError) as exc:
            raise PacketFormatError("bootp", "fields", f"a value does not fit: {exc}") from None
        body = header + bytes(64 + 128) + vendor
        return body.ljust(BOOTP_SIZE, b"\x00")


def decode_announcement(datagram: bytes | bytearray | memoryview) -> dict[str, Any]:
    """The enumeration metadata carried by one announcement (socket-derived keys excluded).

    Raises
    ------
    holoflow.errors.PacketFormatError
        For a runt, ``hlen`` > 16, a foreign vendor tag or id, or an unknown ``enum_version``.
    """
    data = bytes(datagram)
    if len(data) < _VENDOR_OFFSET + 8:
        raise PacketFormatError("bootp", "length", f"{len(data)} bytes ends before the vendor area")
    op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr = _HEADER.unpack_from(
        data
    )
    if hlen > 16:
        raise PacketFormatError("bootp", "hlen", f"{hlen} is longer than chaddr (16)")
    if data[_VENDOR_OFFSET] != VENDOR_TAG:
        raise PacketFormatError("bootp", "vendor tag", f"0x{data[_VENDOR_OFFSET]:02X}, expected 0xE0")
    if data[_VENDOR_OFFSET + 2 : _VENDOR_OFFSET + 6] != VENDOR_ID:
        raise PacketFormatError("bootp", "vendor id", f"{data[238:242]!r}, expected b'NVDA'")
    data_plane, enum_version = data[242], data[243]
    if enum_version not in (1, 2):
        raise PacketFormatError("bootp", "enum_version", f"{enum_version}, expected 1 or 2")
    if len(data) < _V2_END:
        raise PacketFormatError("bootp", "length", f"{len(data)} bytes ends inside the version fields")
    metadata: dict[str, Any] = {
        "type": "bootp_request",
        "op": op,
        "hardware_type": htype,
        "hardware_address_length": hlen,
        "hops": hops,
        "transaction_id": xid,
        "seconds": secs,
        "flags": flags,
        "client_ip_address": _ip(ciaddr),
        "your_ip_address": _ip(yiaddr),
        "server_ip_address": _ip(siaddr),
        "gateway_ip_address": _ip(giaddr),
        "hardware_address": list(chaddr),
        "mac_id": ":".join(f"{b:02X}" for b in chaddr[:hlen]),
        "data_plane": data_plane,
        "enum_version": enum_version,
        "serial_number": data[266:273].hex(),
        "hsb_ip_version": int.from_bytes(data[273:275], "little"),
        "fpga_crc": int.from_bytes(data[275:277], "little"),
    }
    if enum_version == 2:
        metadata["compat_id"] = int.from_bytes(data[244:246], "little")
        metadata["fpga_uuid"] = str(uuid.UUID(bytes=data[246:262]))
        metadata["transmitted_packet_count"] = int.from_bytes(data[262:265], "big")
    else:
        metadata["board_id"] = int.from_bytes(data[244:246], "little")
        metadata["board_version"] = data[246:266].hex()
    return metadata


def encode_set_ip_reply(metadata: dict[str, Any], new_ip: str, host_ip: str) -> bytes:
    """The 300-byte BOOTREPLY that gives the announcing device ``new_ip``.

    ``metadata`` is the device's enumeration metadata (``hardware_type``,
    ``hardware_address_length``, ``transaction_id``, ``seconds``, ``hardware_address``).

    Raises
    ------
    holoflow.errors.PacketFormatError
        If the metadata lacks those keys or an address is not IPv4.
    """
    try:
        chaddr = bytes(metadata["hardware_address"]).ljust(16, b"\x00")[:16]
        header = _HEADER.pack(
            BOOTREPLY,
            metadata["hardware_type"],
            metadata["hardware_address_length"],
            0,
            metadata["transaction_id"],
            metadata["seconds"],
            0,
            bytes(4),
            socket.inet_aton(new_ip),
            socket.inet_aton(host_ip),
            bytes(4),
            chaddr,
        )
    except (KeyError, TypeError, ValueError, OSError, struct.error) as exc:
        raise PacketFormatError("bootp", "set-ip reply", f"cannot build: {exc!r}") from None
    return header + bytes(BOOTP_SIZE - len(header))


def decode_set_ip_reply(datagram: bytes | bytearray | memoryview) -> tuple[bytes, str]:
    """``(chaddr, new_ip)`` of a BOOTREPLY, as a device reads it.

    Raises
    ------
    holoflow.errors.PacketFormatError
        For a runt or an op other than 2.
    """
    data = bytes(datagram)
    if len(data) < _HEADER.size:
        raise PacketFormatError("bootp", "length", f"{len(data)} bytes is shorter than a BOOTP header")
    fields = _HEADER.unpack_from(data)
    if fields[0] != BOOTREPLY:
        raise PacketFormatError("bootp", "op", f"{fields[0]}, expected 2 (BOOTREPLY)")
    hlen = min(fields[2], 16)
    return fields[11][:hlen], _ip(fields[8])
