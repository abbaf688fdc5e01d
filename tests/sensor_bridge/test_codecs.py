"""Wire formats: the spec's byte examples, encode and decode, and round trips."""

from __future__ import annotations

import struct
import zlib

import pytest

from holoflow.errors import PacketFormatError
from holoflow.sensor_bridge import (
    Announcement,
    Command,
    ControlReply,
    ControlRequest,
    FrameMetadata,
    RocePacket,
    Status,
    buffer_from_immediate,
    decode_announcement,
    decode_set_ip_reply,
    encode_packet,
    encode_set_ip_reply,
    frame_crc,
    icrc,
    icrc_prefix,
    make_immediate,
)

# -- control plane (spec 2.9) -----------------------------------------------------------------------
FIRST_READ = bytes.fromhex("14 01 01 00 00 00 00 00 00 80")
FIRST_READ_REPLY = bytes.fromhex("94 01 01 00 00 00 00 00 00 80 00 00 26 02 00 00 00 00")
WRITE_110 = bytes.fromhex("09 03 01 02 00 00 00 00 01 10 00 00 00 02")
WRITE_110_REPLY = bytes.fromhex("89 03 01 02 00 00 00 00 01 10 00 00 00 02 00 00 00 00")


def test_first_read_request_bytes():
    request = ControlRequest(Command.RD_DWORD, 0x01, 0x0100, ((0x80, 0),))
    assert request.encode() == FIRST_READ
    assert ControlRequest.decode(FIRST_READ) == request


def test_first_read_reply_bytes():
    reply = ControlReply(0x94, 0x01, 0x0100, Status.SUCCESS, ((0x80, 0x2602),))
    assert reply.encode() == FIRST_READ_REPLY
    assert ControlReply.decode(FIRST_READ_REPLY, 1) == reply


def test_block_write_bytes():
    request = ControlRequest(Command.WR_BLOCK, 0x03, 0x0102, ((0x110, 2),))
    assert request.encode() == WRITE_110
    assert ControlRequest.decode(WRITE_110) == request
    reply = ControlReply(0x89, 0x03, 0x0102, Status.SUCCESS, ((0x110, 2),))
    assert reply.encode() == WRITE_110_REPLY
    assert ControlReply.decode(WRITE_110_REPLY, 1) == reply


def test_control_rejects_misaligned_and_oversized():
    with pytest.raises(PacketFormatError, match="aligned"):
        ControlRequest(Command.WR_BLOCK, 1, 1, ((0x111, 0),)).encode()
    with pytest.raises(PacketFormatError, match="pairs"):
        ControlRequest(Command.WR_BLOCK, 1, 1, tuple((4 * i, 0) for i in range(184))).encode()
    with pytest.raises(PacketFormatError, match="not whole operations"):
        ControlRequest.decode(WRITE_110 + b"\0")
    with pytest.raises(PacketFormatError, match="hold 0 of 1"):
        ControlReply.decode(FIRST_READ_REPLY[:8], 1)


def test_error_reply_may_carry_no_pairs():
    reply = ControlReply.decode(bytes.fromhex("94 03 01 05 03 00"), 1)
    assert reply.status == Status.INVALID_ADDRESS and reply.pairs == ()


# -- RoCE (spec 3.2, 3.5) -----------------------------------------------------------------------------
ICRC_PREFIX = icrc_prefix(("127.0.0.1", 12288), ("127.0.0.1", 50000), 28 + 16 + 4)
BEFORE_ICRC = bytes.fromhex("2a00ffff0000caf0 00001000 0000000000000000 0000beef 00000010") + bytes(range(16))


def test_icrc_vector():
    assert icrc(ICRC_PREFIX, BEFORE_ICRC) == 0xAD4352BE
    masked = bytearray(BEFORE_ICRC)
    masked[4] = 0xFF  # BTH byte 4 is covered as 0xFF whatever it holds
    assert icrc(ICRC_PREFIX, masked) == 0xAD4352BE


def test_write_only_packet_bytes():
    packet = encode_packet(
        dest_qp=0xCAF0,
        psn=0x1000,
        virtual_address=0,
        rkey=0xBEEF,
        payload=bytes(range(16)),
        icrc_prefix=ICRC_PREFIX,
    )
    assert packet == BEFORE_ICRC + bytes.fromhex("be5243ad")
    decoded = RocePacket.decode(packet)
    assert (decoded.opcode, decoded.dest_qp, decoded.psn, decoded.rkey) == (0x2A, 0xCAF0, 0x1000, 0xBEEF)
    assert bytes(decoded.payload) == bytes(range(16))
    assert decoded.icrc == 0xAD4352BE and decoded.immediate is None and decoded.pkey == 0xFFFF


def test_write_with_immediate_round_trip():
    immediate = make_immediate(0x123456, 3)
    assert immediate == (0x23456 << 12) | 3 and buffer_from_immediate(immediate) == 3
    packet = encode_packet(
        dest_qp=0xCAF1, psn=0xFFFFFF, virtual_address=1 << 40, rkey=7, payload=b"x" * 128, immediate=immediate
    )
    assert packet[0] == 0x2B and len(packet) == 32 + 128 + 4
    decoded = RocePacket.decode(packet)
    assert decoded.immediate == immediate and decoded.virtual_address == 1 << 40 and decoded.psn == 0xFFFFFF
    assert struct.unpack_from(">I", packet, 28)[0] == immediate


@pytest.mark.parametrize(
    ("datagram", "field"),
    [
        (BEFORE_ICRC[:27], "length"),
        (b"\x0a" + BEFORE_ICRC[1:], "opcode"),
        (BEFORE_ICRC[:40], "dma_length"),
        (b"\x2b" + BEFORE_ICRC[1:28], "immediate"),
    ],
)
def test_roce_decode_errors_name_the_field(datagram, field):
    with pytest.raises(PacketFormatError, match=field) as info:
        RocePacket.decode(datagram)
    assert info.value.protocol == "roce" and info.value.field == field


# -- metadata (spec 3.4) ------------------------------------------------------------------------------
def test_metadata_layout_is_big_endian():
    block = FrameMetadata(
        flags=2,
        psn=0x0A0B0C,
        crc=0xDEADBEEF,
        timestamp_s=0x112233445566,
        timestamp_ns=999,
        bytes_written=2611376,
        frame_number=0xBEEF,
        metadata_s=7,
        metadata_ns=8,
    )
    data = block.encode()
    assert len(data) == 128
    assert data[0:4] == b"\0\0\0\x02" and data[4:8] == b"\0\x0a\x0b\x0c" and data[8:12] == b"\xde\xad\xbe\xef"
    assert data[12:20] == (0x112233445566).to_bytes(8, "big") and data[20:24] == (999).to_bytes(4, "big")
    assert data[24:32] == (2611376).to_bytes(8, "big") and data[32:34] == b"\0\0"
    assert data[34:36] == b"\xbe\xef" and data[36:44] == (7).to_bytes(8, "big")
    assert data[44:48] == b"\0\0\0\x08"
    assert data[48:] == bytes(80)
    assert FrameMetadata.decode(b"pad" + data, 3) == block
    with pytest.raises(PacketFormatError, match="needs 128 bytes"):
        FrameMetadata.decode(data[:127])


def test_frame_crc_is_jamcrc():
    data = bytes(range(256)) * 10
    assert frame_crc(data) == zlib.crc32(data) ^ 0xFFFFFFFF
    assert frame_crc(b"123456789") == 0x340BC6D9  # CRC-32/JAMCRC check value


# -- enumeration (spec 1.2-1.3, test vector of hololink_module_bootp_e2e_test) ---------------------------
def v2_announcement_277() -> bytes:
    body = bytearray(277)
    body[0:4] = bytes([1, 1, 6, 0])
    body[4:8] = (5).to_bytes(4, "big")
    body[12:16] = bytes([192, 168, 0, 2])
    body[28:34] = bytes.fromhex("48b02d0a0b0c")
    body[236:244] = bytes([0xE0, 33]) + b"NVDA" + bytes([1, 2])
    body[244:246] = (0x2603).to_bytes(2, "little")
    body[246:262] = bytes.fromhex("ed6a9292debf40aca55ab8ce2adb8db2")
    body[262:265] = (0x010203).to_bytes(3, "big")
    body[266:273] = bytes.fromhex("74 73 74 2d 30 30 31")
    body[273:275] = (0x2602).to_bytes(2, "little")
    body[275:277] = (0x5AA5).to_bytes(2, "little")
    return bytes(body)


def test_truncated_v2_announcement_decodes():
    metadata = decode_announcement(v2_announcement_277())
    assert metadata["fpga_uuid"] == "ed6a9292-debf-40ac-a55a-b8ce2adb8db2"
    assert metadata["serial_number"] == "7473742d303031"
    assert metadata["compat_id"] == 0x2603 and metadata["data_plane"] == 1 and metadata["enum_version"] == 2
    assert metadata["transmitted_packet_count"] == 0x010203 and metadata["hsb_ip_version"] == 0x2602
    assert metadata["mac_id"] == "48:B0:2D:0A:0B:0C" and metadata["client_ip_address"] == "192.168.0.2"
    assert metadata["transaction_id"] == 5 and metadata["fpga_crc"] == 0x5AA5


def test_announcement_round_trip_is_300_bytes():
    announcement = Announcement(mac=bytes.fromhex("484b00000001"), ip="127.0.0.9", data_plane=1, compat_id=3)
    data = announcement.encode()
    assert len(data) == 300 and data[0] == 1 and data[236] == 0xE0 and data[238:242] == b"NVDA"
    metadata = decode_announcement(data)
    assert metadata["serial_number"] == "03010401050903"
    assert metadata["fpga_uuid"] == "16af139b-9d14-482f-9805-3feb72ae0cec"
    assert metadata["client_ip_address"] == "127.0.0.9" and metadata["compat_id"] == 3


def test_v1_announcement_keeps_board_id():
    data = Announcement(mac=b"\x01" * 6, enum_version=1, compat_id=2, board_version=b"\xab" * 20).encode()
    metadata = decode_announcement(data)
    assert metadata["board_id"] == 2 and metadata["board_version"] == "ab" * 20
    assert "fpga_uuid" not in metadata


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ((236, 0xE1), "vendor tag"),
        ((238, ord("X")), "vendor id"),
        ((243, 3), "enum_version"),
        ((2, 17), "hlen"),
    ],
)
def test_foreign_announcements_are_refused(patch, field):
    data = bytearray(v2_announcement_277())
    data[patch[0]] = patch[1]
    with pytest.raises(PacketFormatError, match=field):
        decode_announcement(data)


def test_set_ip_reply_layout():
    metadata = decode_announcement(v2_announcement_277())
    reply = encode_set_ip_reply(metadata, "10.0.0.7", "10.0.0.1")
    assert len(reply) == 300 and reply[0] == 2 and reply[1:3] == bytes([1, 6]) and reply[3] == 0
    assert reply[4:8] == (5).to_bytes(4, "big") and reply[12:16] == bytes(4)
    assert reply[16:20] == bytes([10, 0, 0, 7]) and reply[20:24] == bytes([10, 0, 0, 1])
    assert reply[28:44] == bytes.fromhex("48b02d0a0b0c") + bytes(10) and reply[44:] == bytes(256)
    assert decode_set_ip_reply(reply) == (bytes.fromhex("48b02d0a0b0c"), "10.0.0.7")
    with pytest.raises(PacketFormatError, match="op"):
        decode_set_ip_reply(v2_announcement_277())
