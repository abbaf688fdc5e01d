"""RoCE v2 RDMA WRITE packets as the sensor bridge sends them (UDP payload, big-endian).

The device writes frames into host memory with UC **RDMA WRITE ONLY** (opcode 0x2A) packets and
ends each frame with one **RDMA WRITE ONLY WITH IMMEDIATE** (0x2B) packet whose last 128 payload
bytes are the frame metadata. Layout of the UDP payload::

    0   BTH   opcode(1) flags(1)=0 pkey(2)=0xFFFF resv(1) dest_qp(3) ackreq(1)=0 psn(3)
    12  RETH  virtual_address(8) rkey(4) dma_length(4)
    28  IMM   immediate(4)                      0x2B only: (psn & 0xFFFFF) << 12 | buffer
    28/32     payload(dma_length)
    end-4     ICRC(4, little-endian)

A decoder trusts nothing: every length is checked against the datagram before use, and the
payload is returned as a view of the datagram (no copy).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from holoflow.errors import PacketFormatError
from holoflow.sensor_bridge._crc import ICRC_SIZE, icrc

__all__ = [
    "BTH_SIZE",
    "HEADER_SIZE",
    "HEADER_SIZE_IMMEDIATE",
    "OPCODE_WRITE_ONLY",
    "OPCODE_WRITE_ONLY_IMMEDIATE",
    "PKEY_DEFAULT",
    "PSN_MASK",
    "RETH_SIZE",
    "ROCE_UDP_PORT",
    "RocePacket",
    "buffer_from_immediate",
    "encode_packet",
    "make_immediate",
]

OPCODE_WRITE_ONLY = 0x2A
OPCODE_WRITE_ONLY_IMMEDIATE = 0x2B
PKEY_DEFAULT = 0xFFFF
PSN_MASK = 0xFFFFFF
BTH_SIZE = 12
RETH_SIZE = 16
IMMEDIATE_SIZE = 4
HEADER_SIZE = BTH_SIZE + RETH_SIZE
HEADER_SIZE_IMMEDIATE = HEADER_SIZE + IMMEDIATE_SIZE
ROCE_UDP_PORT = 4791
"""Destination port of RoCE v2 (a ConnectX NIC); the sockets receiver uses an ephemeral one."""

HEADER = struct.Struct(">BBHBBHBBHQII")
"""BTH + RETH: opcode, flags, pkey, resv, qp (hi byte, lo 16), ackreq, psn (hi byte, lo 16), va, rkey, len."""
HEADERS = struct.Struct(">BxxxIIQII")
"""Fast decode of BTH + RETH: opcode, resv<<24 | qp, ackreq<<24 | psn, va, rkey, dma_length."""
IMMEDIATE = struct.Struct(">I")


def make_immediate(psn: int, buffer: int) -> int:
    """The immediate value of a frame's last packet: ``(psn & 0xFFFFF) << 12 | (buffer & 0xFFF)``."""
    return ((psn & 0xFFFFF) << 12) | (buffer & 0xFFF)


def buffer_from_immediate(immediate: int) -> int:
    """The device buffer (page) index carried in an immediate value."""
    return immediate & 0xFFF


@dataclass(frozen=True, slots=True)
class RocePacket:
    """One decoded RDMA WRITE packet; ``payload`` is a view of the datagram."""

    opcode: int
    """0x2A (write only) or 0x2B (write only with immediate)."""
    dest_qp: int
    """Destination queue pair (24 bits)."""
    psn: int
    """Packet sequence number (24 bits)."""
    virtual_address: int
    """Where the payload goes in the receiver's registered memory."""
    rkey: int
    """Remote key of that memory."""
    payload: memoryview
    """The ``dma_length`` payload bytes."""
    immediate: int | None = None
    """Immediate value of a 0x2B packet."""
    icrc: int | None = None
    """The ICRC found after the payload, if the datagram carries 4 more bytes."""
    ack_request: bool = False
    """BTH AckReq bit (the device sends 0)."""
    pkey: int = PKEY_DEFAULT
    """Partition key."""

    @classmethod
    def decode(cls, datagram: bytes | bytearray | memoryview) -> RocePacket:
        """Decode a UDP payload.

        Bytes after ``dma_length`` payload bytes are ignored, except that the 4 directly after
        the payload are reported as ``icrc``.

        Raises
        ------
        holoflow.errors.PacketFormatError
            For a runt, an opcode other than 0x2A/0x2B, or a DMA length beyond the datagram.
        """
        view = memoryview(datagram).cast("B")
        size = len(view)
        if size < HEADER_SIZE:
            raise PacketFormatError("roce", "length", f"{size} bytes, shorter than BTH+RETH ({HEADER_SIZE})")
        opcode, qp_word, psn_word, address, rkey, length = HEADERS.unpack_from(view)
        pkey = int.from_bytes(view[2:4], "big")
        if opcode == OPCODE_WRITE_ONLY:
            start, immediate = HEADER_SIZE, None
        elif opcode == OPCODE_WRITE_ONLY_IMMEDIATE:
            if size < HEADER_SIZE_IMMEDIATE:
                raise PacketFormatError("roce", "immediate", f"{size} bytes leave no room for the immediate")
            start, immediate = HEADER_SIZE_IMMEDIATE, IMMEDIATE.unpack_from(view, HEADER_SIZE)[0]
        else:
            raise PacketFormatError("roce", "opcode", f"0x{opcode:02X} is not an RDMA WRITE ONLY (0x2A/0x2B)")
        end = start + length
        if end > size:
            raise PacketFormatError("roce", "dma_length", f"{length} bytes but only {size - start} follow")
        crc = int.from_bytes(view[end : end + ICRC_SIZE], "little") if end + ICRC_SIZE <= size else None
        return cls(
            opcode=opcode,
            dest_qp=qp_word & 0xFFFFFF,
            psn=psn_word & PSN_MASK,
            virtual_address=address,
            rkey=rkey,
            payload=view[start:end],
            immediate=immediate,
            icrc=crc,
            ack_request=bool(psn_word >> 31),
            pkey=pkey,
        )


def encode_packet(
    *,
    dest_qp: int,
    psn: int,
    virtual_address: int,
    rkey: int,
    payload: bytes | bytearray | memoryview,
    immediate: int | None = None,
    icrc_prefix: int | None = None,
    resv: int = 0,
) -> bytes:
    """One UDP payload: 0x2A, or 0x2B when ``immediate`` is given, then the ICRC.

    ``icrc_prefix`` (from :func:`~holoflow.sensor_bridge.icrc_prefix`) is the CRC of the masked
    IP/UDP headers of the datagram; without it the ICRC field is zero (the sockets receiver
    does not check it). ``resv`` is BTH byte 4 (0 as the FPGA sends it).

    Raises
    ------
    holoflow.errors.PacketFormatError
        If a field does not fit its width.
    """
    opcode = OPCODE_WRITE_ONLY if immediate is None else OPCODE_WRITE_ONLY_IMMEDIATE
    if not 0 <= dest_qp <= 0xFFFFFF or not 0 <= psn <= PSN_MASK:
        raise PacketFormatError("roce", "dest_qp/psn", f"qp {dest_qp} or psn {psn} does not fit 24 bits")
    try:
        header = HEADER.pack(
            opcode,
            0,
            PKEY_DEFAULT,
            resv,
            dest_qp >> 16,
            dest_qp & 0xFFFF,
            0,
            psn >> 16,
            psn & 0xFFFF,
            virtual_address,
            rkey,
            len(payload),
        )
        if immediate is not None:
            header += IMMEDIATE.pack(immediate)
    except struct.error as exc:
        raise PacketFormatError("roce", "header", f"a field does not fit: {exc}") from None
    packet = header + bytes(payload)
    crc = 0 if icrc_prefix is None else icrc(icrc_prefix, packet)
    return packet + crc.to_bytes(4, "little")
