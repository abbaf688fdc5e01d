"""Batched receive through recvmmsg: several datagrams per call, timeouts, truncation."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from holoflow.sensor_bridge._recvmmsg import BatchReceiver

pytestmark = pytest.mark.skipif(not BatchReceiver.available(), reason="recvmmsg is not available here")


@pytest.fixture
def pair():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 50_000))
    rx.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield rx, tx
    rx.close()
    tx.close()


def test_takes_every_queued_datagram_in_one_call(pair):
    rx, tx = pair
    buffer = bytearray(8 * 100)
    receiver = BatchReceiver(rx, buffer, 8, 100)
    for i in range(5):
        tx.sendto(bytes([i]) * (10 + i), rx.getsockname())
    time.sleep(0.05)
    lengths = receiver.receive()
    assert lengths == [10, 11, 12, 13, 14]
    for i, length in enumerate(lengths):
        assert buffer[i * 100 : i * 100 + length] == bytes([i]) * length


def test_times_out_empty_and_truncates_to_the_slot(pair):
    rx, tx = pair
    buffer = bytearray(2 * 16)
    receiver = BatchReceiver(rx, buffer, 2, 16)
    start = time.monotonic()
    assert receiver.receive() == []
    assert time.monotonic() - start < 1.0
    tx.sendto(bytes(range(40)), rx.getsockname())
    assert receiver.receive() == [16]
    assert buffer[:16] == bytes(range(16)) and buffer[16:] == bytes(16)


def test_refuses_a_short_buffer(pair):
    with pytest.raises(ValueError, match="smaller than"):
        BatchReceiver(pair[0], bytearray(10), 2, 16)
