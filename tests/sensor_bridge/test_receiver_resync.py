"""Damaged streams: one corrupted packet costs at most its own frame; lost frames, PSN jumps and
wrap-around resynchronise at the next frame; duplicates; the optional ICRC check.

The datagrams are the device's own: a ``RoceTransmitter`` sends them over loopback and the test
reads them back, so they carry the real headers, metadata and ICRCs.
"""

from __future__ import annotations

import itertools
import socket

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.errors import ConfigError
from holoflow.sensor_bridge import (
    METADATA_SIZE,
    DataChannel,
    FrameAssembler,
    FrameMetadata,
    LinuxReceiver,
    ReceivedFrame,
    encode_packet,
    icrc_prefix,
)
from holoflow.testing import DataPlaneConfig, RoceTransmitter

QP, RKEY = 0xCAF0, 0xBEEF
PSN_SPACE = 1 << 24


def page_for(frame_size: int) -> int:
    return (frame_size + 127) // 128 * 128 + 128


class Stream:
    """Frames as the device sends them, read back from a loopback socket, one list per frame."""

    def __init__(self, frames, *, frame_size, mtu=1500, merged=False, psn=0, pages=2):
        self.frames = frames
        self.page = page_for(frame_size)
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
        ):
            rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            rx.bind(("127.0.0.1", 0))
            tx.bind(("127.0.0.1", 0))
            rx.settimeout(2.0)
            self.source, self.destination = tx.getsockname(), rx.getsockname()
            transmitter = RoceTransmitter(tx, merged_metadata=merged)
            transmitter.psn = psn
            config = DataPlaneConfig(
                qp=QP,
                rkey=RKEY,
                base_address=0,
                page_stride=self.page,
                first_buffer=0,
                last_buffer=pages - 1,
                buffer_length=frame_size,
                payload_size=DataChannel.payload_size_for(mtu),
                destination=self.destination,
            )
            self.packets: list[list[bytes]] = []
            for data in frames:
                before = transmitter.packets_sent
                transmitter.send_frame(data, config)
                self.packets.append([rx.recv(65536) for _ in range(transmitter.packets_sent - before)])
        # each frame's metadata block, as sent: the last 128 bytes before the end packet's ICRC
        self.metadata = [
            FrameMetadata.decode(packets[-1], len(packets[-1]) - 4 - METADATA_SIZE)
            for packets in self.packets
        ]


def random_frames(count, size, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for _ in range(count)]


def drain(assembler: FrameAssembler) -> list[tuple[ReceivedFrame, bytes]]:
    frames = []
    while (frame := assembler.take(0)) is not None:
        frames.append((frame, assembler.frame_array(frame).tobytes()))
        assembler.release(frame)
    return frames


def delivered_complete(delivered, stream) -> set[int]:
    """Indices of the stream's frames delivered complete and bit-exact (by content and number)."""
    good = set()
    for frame, payload in delivered:
        number = frame.metadata.frame_number
        if frame.complete and number < len(stream.frames) and payload == stream.frames[number]:
            good.add(number)
    return good


def test_a_corrupted_psn_in_an_end_packet_costs_only_its_frame():
    # the report: bit 22 of the PSN of frame 0's end packet flipped; 3 clean frames follow
    stream = Stream(random_frames(4, 5000), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 4)
    damaged = bytearray(stream.packets[0][-1])
    damaged[9] ^= 0x40
    stream.packets[0][-1] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    delivered = drain(assembler)
    assert delivered_complete(delivered, stream) == {1, 2, 3}
    stats = assembler.statistics()
    assert stats.rejected_late == 0
    assert stats.packets_dropped <= 1  # not 4,194,304


def test_a_corrupted_psn_in_the_first_packet_costs_only_its_frame():
    stream = Stream(random_frames(4, 5000, seed=1), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 4)
    damaged = bytearray(stream.packets[0][0])
    damaged[9] ^= 0x40
    stream.packets[0][0] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {1, 2, 3}
    assert assembler.statistics().rejected_late == 0


@pytest.mark.parametrize("bits", [0x01, 0x04, 0x80])
def test_a_small_psn_error_in_an_end_packet_costs_only_its_frame(bits):
    # a PSN a few packets off stays inside the frame window: it must not move the next frame
    stream = Stream(random_frames(6, 5000, seed=2), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 6)
    damaged = bytearray(stream.packets[1][-1])
    damaged[11] ^= bits
    stream.packets[1][-1] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {0, 2, 3, 4, 5}


def test_a_lost_end_packet_costs_only_its_frame():
    # the next frame starts at its first packet rather than merging into the unfinished one
    stream = Stream(random_frames(4, 5000, seed=3), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 4)
    del stream.packets[1][-1]
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {0, 2, 3}
    stats = assembler.statistics()
    assert stats.frames_abandoned == 1 and stats.packets_dropped == 1


@pytest.mark.parametrize("lost", [1, 3, 12])
def test_whole_lost_frames_are_skipped_and_counted(lost):
    stream = Stream(random_frames(lost + 4, 5000, seed=4), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 4)
    for index, packets in enumerate(stream.packets):
        if not 2 <= index < 2 + lost:
            for datagram in packets:
                assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {0, 1, *range(2 + lost, 4 + lost)}
    assert assembler.statistics().packets_dropped == 5 * lost


def test_a_psn_jump_of_the_device_resynchronises_without_losing_a_frame():
    # the device restarts its PSN (a reset): far from the expected one, then consistent
    frames = random_frames(6, 5000, seed=5)
    first = Stream(frames[:3], frame_size=5000, psn=1000)
    second = Stream(frames[3:], frame_size=5000, psn=9_000_000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 6)
    for packets in first.packets + second.packets:
        for datagram in packets:
            assembler.feed(datagram)
    delivered = drain(assembler)
    assert [frame.complete for frame, _ in delivered] == [True] * 6
    assert [payload for _, payload in delivered] == frames


@pytest.mark.parametrize("merged", [False, True], ids=["separate", "merged"])
def test_psn_wrap_around_with_a_corrupted_end_packet(merged):
    stream = Stream(random_frames(6, 5000, seed=6), frame_size=5000, psn=PSN_SPACE - 8, merged=merged)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 6)
    damaged = bytearray(stream.packets[1][-1])  # the frame that crosses PSN 0
    damaged[10] ^= 0x10
    stream.packets[1][-1] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {0, 2, 3, 4, 5}


def test_single_packet_frames_resynchronise_after_a_lost_frame():
    # MTU 9000, merged: a whole frame travels in one end packet at offset 0
    stream = Stream(random_frames(5, 2000, seed=7), frame_size=2000, mtu=9000, merged=True)
    assert all(len(packets) == 1 for packets in stream.packets)
    assembler = FrameAssembler(2000, page_for(2000), 2, QP, RKEY, 5)
    for index, packets in enumerate(stream.packets):
        if index != 1:
            assembler.feed(packets[0])
    assert delivered_complete(drain(assembler), stream) == {0, 2, 3, 4}
    assert assembler.statistics().packets_dropped == 1


def test_frame_numbers_recover_from_a_corrupted_frame_number():
    stream = Stream(random_frames(4, 5000, seed=8), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 4)
    damaged = bytearray(stream.packets[1][-1])
    damaged[32 + 34] ^= 0x80  # the high byte of the metadata's frame_number: 1 -> 0x8001
    stream.packets[1][-1] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    numbers = [frame.frame_number for frame, _ in drain(assembler)]
    assert numbers[0] == 0 and numbers[2:] == [2, 3]


# -- the property: any one corrupted byte ------------------------------------------------------------

STREAMS = {
    (merged, mtu, start): Stream(
        random_frames(6, 3000, seed=mtu + merged),
        frame_size=3000,
        mtu=mtu,
        merged=merged,
        psn=start,
    )
    for merged in (False, True)
    for mtu in (1000, 1500, 9000)  # 9000: two packets a frame, or one when merged
    for start in (0, PSN_SPACE - 9)
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(sorted(STREAMS)),
    which=st.integers(0, 10_000),
    position=st.integers(0, 10_000),
    flip=st.integers(1, 255),
)
def test_one_corrupted_byte_costs_at_most_its_frame(key, which, position, flip):
    check_one_corrupted_byte(STREAMS[key], which, position, flip)


def check_one_corrupted_byte(stream, which, position, flip):
    """Feed ``stream`` with byte ``position`` of packet ``which`` xor ``flip``: every other frame
    arrives once, complete and bit-exact; nothing is written outside the pages."""
    flat = [(index, datagram) for index, packets in enumerate(stream.packets) for datagram in packets]
    damaged_frame, datagram = flat[which % len(flat)]
    damaged = bytearray(datagram)
    damaged[position % len(damaged)] ^= flip
    frame_size, page = 3000, stream.page
    guard = np.full(8 * page + 4096, 0x5A, np.uint8)
    assembler = FrameAssembler(frame_size, page, 2, QP, RKEY, 6, memory=guard[2048:-2048])
    for _, original in flat:
        assembler.feed(damaged if original is datagram else original)
    assert (guard[:2048] == 0x5A).all() and (guard[-2048:] == 0x5A).all()  # nothing written outside
    clean = {stream.metadata[i]: i for i in range(len(stream.frames)) if i != damaged_frame}
    good = [(frame, payload) for frame, payload in drain(assembler) if frame.metadata in clean]
    # every clean frame arrives once, complete and bit-exact
    assert sorted(clean[frame.metadata] for frame, _ in good) == sorted(clean.values())
    for frame, payload in good:
        assert frame.complete and payload == stream.frames[clean[frame.metadata]]
    for (before, _), (after, _) in itertools.pairwise(good):  # the extended counter stays exact
        assert after.frame_number - before.frame_number == (
            after.metadata.frame_number - before.metadata.frame_number
        )
    stats = assembler.statistics()
    rejected = sum(getattr(stats, name) for name in stats.__slots__ if name.startswith("rejected"))
    assert stats.packets_received == len(flat) == stats.packets_accepted + rejected
    # a wrong PSN may make PSNs of its own frame look lost, never more than a frame's worth
    assert stats.packets_dropped < assembler.span


# -- duplicates --------------------------------------------------------------------------------------


def test_an_identical_duplicate_keeps_the_frame_complete():
    stream = Stream(random_frames(2, 5000, seed=9), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 2)
    stream.packets[0].insert(3, stream.packets[0][1])
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    assert delivered_complete(drain(assembler), stream) == {0, 1}
    assert assembler.statistics().rejected_duplicate == 1


def test_a_duplicate_with_other_bytes_leaves_the_frame_incomplete():
    # same PSN, different payload: one of the two copies is wrong and nothing says which
    stream = Stream(random_frames(2, 5000, seed=10), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 2)
    other = bytearray(stream.packets[0][1])
    other[100] ^= 0xFF
    stream.packets[0].insert(3, bytes(other))
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    delivered = drain(assembler)
    assert [frame.complete for frame, _ in delivered] == [False, True]
    assert assembler.statistics().rejected_duplicate == 1


# -- the ICRC check ----------------------------------------------------------------------------------


def test_icrc_check_drops_and_counts_corrupted_packets():
    stream = Stream(random_frames(3, 5000, seed=11), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 3)
    assembler.check_icrc(stream.source, stream.destination)
    damaged = bytearray(stream.packets[1][2])
    damaged[200] ^= 0x01  # a payload bit: only the ICRC can tell
    stream.packets[1][2] = bytes(damaged)
    for packets in stream.packets:
        for datagram in packets:
            assembler.feed(datagram)
    delivered = drain(assembler)
    assert [frame.complete for frame, _ in delivered] == [True, False, True]
    stats = assembler.statistics()
    assert stats.rejected_icrc == 1 and stats.packets_dropped == 1


def test_icrc_check_is_off_by_default_and_can_be_switched_off():
    stream = Stream(random_frames(1, 5000, seed=12), frame_size=5000)
    assembler = FrameAssembler(5000, 5248, 2, QP, RKEY, 3)
    assert assembler.icrc_addresses is None
    damaged = bytearray(stream.packets[0][2])
    damaged[200] ^= 0x01
    stream.packets[0][2] = bytes(damaged)
    for datagram in stream.packets[0]:
        assembler.feed(datagram)
    assembler.check_icrc(stream.source, stream.destination)
    assembler.check_icrc(None)
    for datagram in stream.packets[0]:
        assembler.feed(datagram)
    assert assembler.statistics().rejected_icrc == 0


@pytest.mark.parametrize("cut", [0, 2], ids=["no room for the ICRC", "ICRC cut short"])
def test_icrc_check_rejects_datagrams_without_an_icrc(cut):
    assembler = FrameAssembler(300, 512, 1, QP, RKEY)
    source, destination = ("127.0.0.1", 12288), ("127.0.0.1", 50000)
    assembler.check_icrc(source, destination)
    payload = bytes(range(200))
    datagram = encode_packet(
        dest_qp=QP,
        psn=1,
        virtual_address=0,
        rkey=RKEY,
        payload=payload,
        icrc_prefix=icrc_prefix(source, destination, 28 + 200 + 4),
    )
    assembler.feed(datagram)
    assembler.feed(datagram[: len(datagram) - 4 + cut])
    stats = assembler.statistics()
    # the intact one passed the check: as the first packet seen, it waits for a second to agree
    assert stats.rejected_icrc == 1 and stats.rejected_psn == 1


def test_linux_receiver_checks_the_icrc_of_what_it_receives():
    assembler = FrameAssembler(300, 512, 1, QP, RKEY)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as device:
        device.bind(("127.0.0.1", 0))
        receiver = LinuxReceiver(assembler, "127.0.0.1", icrc_source=device.getsockname())
        receiver.start()
        try:
            assert assembler.icrc_addresses == (device.getsockname(), receiver.address)
            stream_source = device.getsockname()
            good = encode_packet(
                dest_qp=QP,
                psn=7,
                virtual_address=0,
                rkey=RKEY,
                payload=FrameMetadata(psn=7, bytes_written=0).encode(),
                immediate=7 << 12,
                icrc_prefix=icrc_prefix(stream_source, receiver.address, 32 + 128 + 4),
            )
            bad = bytearray(good)
            bad[-1] ^= 0xFF
            device.sendto(bytes(bad), receiver.address)
            device.sendto(good, receiver.address)
            frame = assembler.take(2.0)
            assert frame is not None
            assembler.release(frame)
        finally:
            receiver.stop()
    assert assembler.statistics().rejected_icrc == 1


def test_icrc_check_needs_ipv4_addresses():
    assembler = FrameAssembler(300, 512, 1, QP, RKEY)
    with pytest.raises(ConfigError, match="needs the destination"):
        assembler.check_icrc(("127.0.0.1", 12288))
    with pytest.raises(ConfigError, match=r"IPv4 \(address, port\) pairs"):
        assembler.check_icrc(("no such host", 12288), ("127.0.0.1", 1))
    with pytest.raises(ConfigError, match=r"IPv4 \(address, port\) pairs"):
        assembler.check_icrc(("127.0.0.1", 1 << 16), ("127.0.0.1", 1))
    assert assembler.icrc_addresses is None
