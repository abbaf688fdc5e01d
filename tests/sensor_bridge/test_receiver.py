"""Frames over loopback: bit-exact delivery, loss, reordering, duplicates, hostile packets."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from holoflow.errors import ConfigError
from holoflow.sensor_bridge import (
    DataChannel,
    FrameAssembler,
    FrameMetadata,
    Hololink,
    LinuxReceiver,
    encode_packet,
    frame_crc,
    make_immediate,
)
from holoflow.testing import Impairment

from .conftest import make_emulator

FRAME = 64 * 32 * 5 // 4 + 7  # a 64x32 RAW10 frame and an odd tail: 2567 bytes
PAGE = (FRAME + 127) // 128 * 128 + 128
QP, RKEY = 0xCAF0, 0xBEEF


class Link:
    """An emulator streaming to a LinuxReceiver through a configured data channel."""

    def __init__(self, *, pages=2, queue_size=1, mtu=1500, frame=FRAME, batched=None, **emulator_args):
        self.emulator = make_emulator(**emulator_args)
        self.hololink = Hololink(self.emulator.ip, self.emulator.control_port)
        self.hololink.start()
        metadata = self.emulator.channel_metadata()
        DataChannel.use_mtu(metadata, mtu)
        self.channel = DataChannel(metadata, self.hololink)
        page = (frame + 127) // 128 * 128 + 128
        self.assembler = FrameAssembler(frame, page, pages, QP, RKEY, queue_size)
        self.receiver = LinuxReceiver(self.assembler, "127.0.0.1", receive_buffer=1 << 20, batched=batched)
        self.receiver.start()
        self.channel.authenticate(QP, RKEY)
        self.channel.configure_roce(0, frame, page, pages, self.receiver.address[1])

    def send_and_take(self, data, timeout=2.0):
        assert self.emulator.send_frame(data)
        frame = self.assembler.take(timeout)
        assert frame is not None, "no frame arrived"
        payload = self.assembler.frame_array(frame).tobytes()
        self.assembler.release(frame)
        return frame, payload

    def close(self):
        self.receiver.stop()
        self.hololink.stop()
        self.emulator.stop()


@pytest.fixture
def link():
    made = []

    def make(**kwargs):
        made.append(Link(**kwargs))
        return made[-1]

    yield make
    for item in made:
        item.close()


def frames(count, size=FRAME, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for _ in range(count)]


@pytest.mark.parametrize("batched", [False, True], ids=["recv_into", "recvmmsg"])
@pytest.mark.parametrize(
    ("merged", "mtu", "packets"),
    [(False, 1500, 3), (True, 1500, 3), (True, 9000, 1)],  # the tail only merges when it fits
)
def test_frames_arrive_bit_exact(link, merged, mtu, packets, batched):
    sent = frames(5)
    connection = link(merged_metadata=merged, mtu=mtu, batched=batched)
    for index, data in enumerate(sent):
        frame, payload = connection.send_and_take(data)
        assert payload == data
        assert frame.complete and frame.packets_missing == 0
        assert frame.metadata.crc == frame_crc(data) and frame.metadata.bytes_written == FRAME
        assert frame.frame_number == index and frame.received_frame_number == index
        assert frame.frame_bytes_received == FRAME
        assert frame.frame_packets_received == packets
        assert frame.frame_start_ns <= frame.frame_end_ns
        assert frame.immediate & 0xFFF == index % 2  # device buffer index cycles over 2 pages
    stats = connection.assembler.statistics()
    assert stats.frames_complete == 5 and stats.packets_dropped == 0 and stats.rejected_runt == 0


def test_device_config_and_metadata_keys(link):
    connection = link(pages=3, mtu=9000)
    config = connection.emulator.data_plane_config(0)
    assert config.qp == QP and config.rkey == RKEY and config.payload_size == 8832
    assert config.page_stride == PAGE and (config.first_buffer, config.last_buffer) == (0, 2)
    assert config.destination == connection.receiver.address
    frame, _ = connection.send_and_take(frames(1)[0])
    assert frame.frame_packets_received == 2  # one data packet at MTU 9000
    keys = frame.as_dict()
    for key in (
        "frame_number",
        "timestamp_s",
        "metadata_ns",
        "bytes_written",
        "packets_dropped",
        "crc",
        "complete",
    ):
        assert key in keys


def test_larger_sensor_frame_is_split_into_windows(link):
    connection = link(queue_size=2)
    data = frames(1, FRAME + 1000)[0]
    assert connection.emulator.send_frame(data)
    first, second = connection.assembler.take(2.0), None
    data_first = connection.assembler.frame_array(first).tobytes()
    connection.assembler.release(first)
    second = connection.assembler.take(2.0)
    data_second = connection.assembler.frame_array(second).tobytes()
    connection.assembler.release(second)
    assert data_first == data[:FRAME] and first.metadata.flags == 0x2  # ended by count
    assert data_second == data[FRAME:] and second.metadata.flags == 0x1  # early TLAST: the runt
    assert second.complete and second.metadata.bytes_written == 1000


def test_loss_leaves_frames_flagged_incomplete_with_ff_holes(link):
    connection = link(impairment=Impairment(loss=0.25, seed=3), queue_size=4)
    sent = frames(30, seed=1)
    for data in sent:
        assert connection.emulator.send_frame(data)
    delivered = []
    while (frame := connection.assembler.take(0.3)) is not None:
        delivered.append((frame, connection.assembler.frame_array(frame, trim=False).tobytes()))
        connection.assembler.release(frame)
    stats = connection.assembler.statistics()
    lost = connection.emulator.statistics().packets_impaired
    assert lost > 0 and delivered
    # every lost PSN is accounted for, except in a last frame whose end packet was lost
    assert lost - 3 <= stats.packets_dropped <= lost
    incomplete = [f for f, _ in delivered if not f.complete]
    assert incomplete and any(f.complete for f, _ in delivered)
    for frame, payload in delivered:
        if frame.complete:
            assert payload == sent[frame.frame_number] or frame.frame_number >= len(sent)
        elif frame.frame_bytes_received < FRAME and frame.packets_missing:
            assert b"\xff" * 128 in payload  # the hole left by a lost packet


def test_reordering_from_the_emulator(link):
    connection = link(impairment=Impairment(reorder=0.2, seed=7), mtu=600)
    sent = frames(10, seed=2)
    for data in sent:
        frame, payload = connection.send_and_take(data)
        if frame.complete:
            assert payload == data
        else:  # a data packet swapped behind the frame's end packet: late, dropped, counted
            assert frame.packets_missing
    stats = connection.assembler.statistics()
    assert connection.emulator.statistics().packets_impaired > 0
    assert stats.frames_complete >= 6
    assert stats.frames_received == 10


def test_any_order_inside_a_frame_is_bit_exact(receiver):
    rx, _ = receiver
    data = frames(1, seed=8)[0]
    chunk = 256
    packets = [data_packet(100 + k, k * chunk, data[k * chunk : (k + 1) * chunk]) for k in range(11)]
    order = np.random.default_rng(3).permutation(len(packets))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for index in order:
            sock.sendto(packets[index], rx.address)
        sock.sendto(metadata_packet(111, 0), rx.address)
    frame = rx.assembler.take(2.0)
    assert frame.complete and rx.assembler.frame_array(frame).tobytes() == data
    rx.assembler.release(frame)


def test_duplicates_are_dropped_and_counted(link):
    connection = link(impairment=Impairment(duplicate=0.3, seed=5), mtu=600)
    for data in frames(8, seed=4):
        frame, payload = connection.send_and_take(data)
        assert frame.complete and payload == data
    stats = connection.assembler.statistics()
    assert stats.rejected_duplicate == connection.emulator.statistics().packets_impaired > 0


def test_truncated_datagrams_are_rejected(link):
    connection = link(impairment=Impairment(truncate=0.2, seed=9), mtu=600, queue_size=4)
    for data in frames(10, seed=6):
        connection.emulator.send_frame(data)
    received = []
    while (frame := connection.assembler.take(0.3)) is not None:
        received.append(frame)
        connection.assembler.release(frame)
    stats = connection.assembler.statistics()
    assert stats.rejected_runt > 0
    assert all(not f.complete for f in received if f.packets_missing)


# -- hostile datagrams, sent straight to the receiver's socket ---------------------------------------


@pytest.fixture(params=[False, True], ids=["recv_into", "recvmmsg"])
def receiver(request):
    assembler = FrameAssembler(FRAME, PAGE, 2, QP, RKEY)
    guard = np.full(assembler.memory.size + 4096, 0x5A, np.uint8)
    assembler = FrameAssembler(FRAME, PAGE, 2, QP, RKEY, memory=guard[2048:-2048])
    rx = LinuxReceiver(assembler, "127.0.0.1", batched=request.param)
    rx.start()
    yield rx, guard
    rx.stop()


def send(rx, *datagrams):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for datagram in datagrams:
            sock.sendto(datagram, rx.address)
    end = metadata_packet(psn=1000, number=0)  # a marker: everything before it was processed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(end, rx.address)
    frame = rx.assembler.take(2.0)
    assert frame is not None
    rx.assembler.release(frame)
    return frame


def data_packet(psn, address, payload, qp=QP, rkey=RKEY):
    return encode_packet(dest_qp=qp, psn=psn, virtual_address=address, rkey=rkey, payload=payload)


def metadata_packet(psn, number, address=PAGE - 128, page=0, written=FRAME):
    block = FrameMetadata(psn=psn, bytes_written=written, frame_number=number).encode()
    return encode_packet(
        dest_qp=QP,
        psn=psn,
        virtual_address=address,
        rkey=RKEY,
        payload=block,
        immediate=make_immediate(psn, page),
    )


def test_out_of_bounds_and_wrong_keys_are_rejected(receiver):
    rx, guard = receiver
    hostile = [
        data_packet(1, 2 * PAGE - 10, b"\xee" * 100),  # runs past the last page
        data_packet(2, 2 * PAGE, b"\xee" * 10),  # beyond the pages
        data_packet(3, PAGE - 50, b"\xee" * 100),  # crosses a page end
        data_packet(4, (1 << 64) - 8, b"\xee" * 8),  # wraps the address space
        data_packet(5, 0, b"\xee" * 100, qp=QP + 1),  # another queue pair
        data_packet(6, 0, b"\xee" * 100, rkey=RKEY ^ 1),  # a forged key
        data_packet(7, 0, b"\xee" * 100)[:60],  # shorter than its DMA length
        b"\x0a" + data_packet(8, 0, b"\xee" * 10)[1:],  # RC opcode
        b"\x2a\x00",  # runt
        metadata_packet(9, 0, page=2),  # names a buffer beyond the pages
        encode_packet(  # a metadata packet of under 128 bytes
            dest_qp=QP, psn=10, virtual_address=0, rkey=RKEY, payload=b"x" * 60, immediate=0
        ),
    ]
    frame = send(rx, *hostile)
    stats = rx.assembler.statistics()
    assert stats.rejected_bounds == 4 + 1
    assert stats.rejected_key == 2 and stats.rejected_runt == 2 and stats.rejected_opcode == 1
    assert stats.rejected_page == 1
    assert frame.frame_bytes_received == 0 and not frame.complete
    assert (guard[:2048] == 0x5A).all() and (guard[-2048:] == 0x5A).all()  # nothing written outside
    assert b"\xee" not in guard.tobytes()


def test_late_packets_of_a_delivered_frame_are_dropped(receiver):
    rx, _ = receiver
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data_packet(998, 0, b"a" * FRAME), rx.address)
        sock.sendto(metadata_packet(999, 0), rx.address)
    first = rx.assembler.take(2.0)
    assert first.complete  # psn 998 + 999
    rx.assembler.release(first)
    late = send(rx, data_packet(997, 0, b"L" * 100))
    assert rx.assembler.statistics().rejected_late == 1
    assert late.frame_bytes_received == 0


def test_frame_counter_extends_past_16_bits(receiver):
    rx, _ = receiver
    numbers = []
    psn = 10
    for number in (0xFFFE, 0xFFFF, 0x0000, 0x0001):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(data_packet(psn, 0, b"z" * FRAME), rx.address)
            sock.sendto(metadata_packet(psn + 1, number), rx.address)
        psn += 2
        frame = rx.assembler.take(2.0)
        numbers.append(frame.frame_number)
        assert frame.complete
        rx.assembler.release(frame)
    assert numbers == [0xFFFE, 0xFFFF, 0x10000, 0x10001]


def test_slow_consumer_keeps_the_newest_frames():
    assembler = FrameAssembler(256, 512, 1, QP, RKEY, queue_size=2)
    for i in range(5):
        assembler.feed(data_packet(2 * i, 0, bytes([i]) * 256))
        assembler.feed(metadata_packet(2 * i + 1, i, address=384, written=256))
    kept = [assembler.take(0) for _ in range(2)]
    assert [f.frame_number for f in kept] == [3, 4]
    assert [assembler.frame_array(f)[0] for f in kept] == [3, 4]
    assert assembler.statistics().frames_dropped == 3 and assembler.take(0) is None


def test_assembler_validates_its_geometry():
    with pytest.raises(ConfigError, match="page must hold"):
        FrameAssembler(1000, 1000, 1)
    with pytest.raises(ConfigError, match="queue_size"):
        FrameAssembler(100, 256, 1, queue_size=0)


def test_frames_replayed_from_a_gxf_recording(link, tmp_path):
    from holoflow.gxf import GXFWriter
    from holoflow.testing import frames_from_gxf

    recorded = frames(3, seed=11)
    with GXFWriter(tmp_path, "csi") as writer:
        for data in recorded:
            writer.write({"": np.frombuffer(data, np.uint8)})
    connection = link()
    for data, replayed in zip(recorded, frames_from_gxf(tmp_path, "csi"), strict=True):
        _, payload = connection.send_and_take(replayed)
        assert payload == data
