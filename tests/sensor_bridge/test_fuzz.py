"""Every packet parser against random and mutated bytes: a holoflow error or a counted drop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.errors import PacketFormatError
from holoflow.sensor_bridge import (
    Announcement,
    ControlReply,
    ControlRequest,
    FrameAssembler,
    FrameMetadata,
    RocePacket,
    decode_announcement,
    decode_set_ip_reply,
    encode_packet,
    make_immediate,
)
from holoflow.sensor_bridge._sequencer import run_program
from holoflow.testing import HSBEmulator

VALID_ROCE = [
    encode_packet(dest_qp=0xCAF0, psn=5, virtual_address=256, rkey=0xBEEF, payload=bytes(range(200))),
    encode_packet(
        dest_qp=0xCAF0,
        psn=6,
        virtual_address=384,
        rkey=0xBEEF,
        payload=bytes(128),
        immediate=make_immediate(6, 0),
    ),
]
VALID_CONTROL = [
    bytes.fromhex("14 01 01 00 00 00 00 00 00 80"),
    bytes.fromhex("09 03 01 02 00 00 00 00 01 10 00 00 00 02"),
]
VALID_REPLY = bytes.fromhex("94 01 01 00 00 00 00 00 00 80 00 00 26 02 00 00 00 00")
VALID_BOOTP = Announcement(mac=bytes(6)).encode()


def mutated(seeds):
    """Valid datagrams with bytes changed, cut short or extended — and plain random bytes."""
    edits = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6)

    def apply(seed, changes, cut, tail):
        data = bytearray(seed)
        for position, value in changes:
            if data:
                data[position % len(data)] = value
        return bytes(data[:cut]) + tail

    mutations = st.builds(apply, st.sampled_from(seeds), edits, st.integers(0, 400), st.binary(max_size=16))
    return st.one_of(mutations, st.binary(max_size=400))


def decodes_or_refuses(decode, data):
    try:
        decode(data)
    except PacketFormatError:
        pass


@settings(max_examples=300, deadline=None)
@given(mutated(VALID_ROCE))
def test_roce_decoder(data):
    decodes_or_refuses(RocePacket.decode, data)


@settings(max_examples=200, deadline=None)
@given(mutated(VALID_CONTROL))
def test_control_request_decoder(data):
    decodes_or_refuses(ControlRequest.decode, data)


@settings(max_examples=200, deadline=None)
@given(mutated([VALID_REPLY]), st.integers(0, 4))
def test_control_reply_decoder(data, operations):
    decodes_or_refuses(lambda d: ControlReply.decode(d, operations), data)


@settings(max_examples=200, deadline=None)
@given(mutated([VALID_BOOTP]))
def test_bootp_decoders(data):
    decodes_or_refuses(decode_announcement, data)
    decodes_or_refuses(decode_set_ip_reply, data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(-5, 300))
def test_metadata_decoder(data, offset):
    decodes_or_refuses(lambda d: FrameMetadata.decode(d, offset), data)


@settings(max_examples=300, deadline=None)
@given(st.lists(mutated(VALID_ROCE), min_size=1, max_size=8))
def test_frame_assembler_never_raises_nor_writes_outside(datagrams):
    frame_size, page_size, pages = 300, 512, 2
    guard = np.full(4 * page_size + 2048, 0x5A, np.uint8)
    assembler = FrameAssembler(frame_size, page_size, pages, 0xCAF0, 0xBEEF, memory=guard[1024:-1024])
    for datagram in datagrams:
        assembler.feed(datagram)
    stats = assembler.statistics()
    rejected = sum(getattr(stats, name) for name in stats.__slots__ if name.startswith("rejected"))
    assert stats.packets_received == len(datagrams) == stats.packets_accepted + rejected
    assert (guard[:1024] == 0x5A).all() and (guard[-1024:] == 0x5A).all()


@settings(max_examples=200, deadline=None)
@given(mutated(VALID_CONTROL))
def test_emulator_answers_or_ignores_anything(data):
    device = HSBEmulator("127.0.0.1", 0, announce_to=None)  # never started: no sockets
    reply = device.handle_control(data)
    if reply is not None:
        assert reply[0] & 0x80 and len(reply) >= 6


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.integers(0x2000, 0x2FFF).map(lambda a: a & ~3), st.integers(0, 0xFFFFFFFF), max_size=40
    )
)
def test_sequencer_interpreter_survives_hostile_programs(ram):
    writes = []
    finished = run_program(0x2800, dict(ram), lambda a: a & 0xFF, lambda a, v: writes.append((a, v)))
    assert isinstance(finished, bool) and len(writes) <= 4096
