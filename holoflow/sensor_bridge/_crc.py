"""The two CRCs of the data plane: the RoCE v2 invariant CRC (ICRC) and the frame CRC.

Both are the standard CRC-32 that ``zlib.crc32`` computes (reflected, polynomial 0x04C11DB7,
initial value and final XOR 0xFFFFFFFF):

- **ICRC** covers a masked copy of the headers — 8 bytes of 0xFF standing for the InfiniBand
  LRH, the IPv4 header with TOS, TTL and checksum set to all ones, the UDP header with its
  checksum set to all ones, the BTH with byte 4 (FECN/BECN/reserved) set to 0xFF — followed by
  the rest of the UDP payload. It travels little-endian in the last 4 bytes of the datagram.
- **frame CRC** (metadata ``crc``) is JAMCRC: ``zlib.crc32(frame) ^ 0xFFFFFFFF``.
"""

from __future__ import annotations

import socket
import struct
import zlib

__all__ = ["ICRC_SIZE", "frame_crc", "icrc", "icrc_prefix"]

ICRC_SIZE = 4
_MASKED_LRH = b"\xff" * 8
_IP_DONT_FRAGMENT = 0x4000
_UDP_PROTOCOL = 17


def frame_crc(data: bytes | bytearray | memoryview) -> int:
    """JAMCRC of ``data``: the value the device writes into the metadata ``crc`` field."""
    return zlib.crc32(data) ^ 0xFFFFFFFF


def icrc_prefix(
    source: tuple[str, int], destination: tuple[str, int], udp_payload_length: int, ip_id: int = 0
) -> int:
    """The running CRC over the masked LRH, IPv4 and UDP headers of one datagram.

    ``udp_payload_length`` counts the whole UDP payload, ICRC included. Chain the result into
    :func:`icrc` (it depends only on the addresses and the length, so senders cache it).
    """
    ip_total = 20 + 8 + udp_payload_length
    ip_header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0xFF,  # TOS masked
        ip_total,
        ip_id,
        _IP_DONT_FRAGMENT,
        0xFF,  # TTL masked
        _UDP_PROTOCOL,
        0xFFFF,  # checksum masked
        socket.inet_aton(source[0]),
        socket.inet_aton(destination[0]),
    )
    udp_header = struct.pack(">HHHH", source[1], destination[1], 8 + udp_payload_length, 0xFFFF)
    return zlib.crc32(udp_header, zlib.crc32(ip_header, zlib.crc32(_MASKED_LRH)))


def icrc(prefix: int, packet: bytes | bytearray | memoryview) -> int:
    """The ICRC of ``packet`` (the UDP payload without its ICRC) after the masked headers.

    ``prefix`` comes from :func:`icrc_prefix`. BTH byte 4 is covered as 0xFF whatever it holds.
    """
    view = memoryview(packet)
    crc = zlib.crc32(view[:4], prefix)
    crc = zlib.crc32(b"\xff", crc)
    return zlib.crc32(view[5:], crc)
