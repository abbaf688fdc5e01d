"""Data links over real sockets on 127.0.0.1: exactly-once in-order delivery, credits, lost peers
(killed processes), protocol breaches, orderly close."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.distributed._codec import encode
from holoflow.distributed._secret import DATA_SERVER_LABEL, curve_keypair
from holoflow.distributed._zmq_links import (
    BATCH,
    BYE,
    CREDIT,
    DATA,
    HEADER,
    HELLO,
    DataLink,
    batch_entries,
    batch_frame,
    max_message_bytes,
)
from holoflow.errors import ConfigError, DistributedError

ROOT = Path(__file__).resolve().parents[2]


class Sink:
    """Collects (edge, message) on the listener thread; credits each message at once unless held."""

    def __init__(self, credit=True):
        self.items = []
        self.lost = []
        self.link = None
        self.auto_credit = credit
        self.arrived = threading.Condition()

    def on_message(self, edge_id, message):
        with self.arrived:
            self.items.append((edge_id, message))
            self.arrived.notify_all()
        if self.auto_credit:
            self.link.credit(edge_id)

    def on_lost(self, error):
        with self.arrived:
            self.lost.append((time.monotonic(), error))
            self.arrived.notify_all()

    def wait(self, predicate, timeout=20.0):
        with self.arrived:
            assert self.arrived.wait_for(lambda: predicate(self), timeout), (len(self.items), self.lost)


def expect(listener, sink, link_id, token, edges):
    sink.link = listener.expect(link_id, token, edges, sink.on_message, sink.on_lost)
    return sink.link


def _connected(links, link_id, edges):
    """A listener expecting ``link_id`` with a crediting :class:`Sink`, and the link to it, up."""
    listener = links.listener()
    sink = Sink()
    token = links.token()
    expect(listener, sink, link_id, token, edges)
    link = links.link(listener, link_id, token, edges)
    link.wait_ready(5)
    return sink, link


def stream(link, edge_id, payloads):
    for payload in payloads:
        while not link.has_credit(edge_id):
            link.wait_credit(edge_id, 10)
        link.send(edge_id, encode(payload))


@pytest.mark.parametrize(
    ("kind", "count"),
    [("small", 3000), ("1KiB", 2000), ("1MiB", 40)],
)
def test_delivers_every_message_once_in_order(links, kind, count):
    listener = links.listener()
    sink = Sink()
    token = links.token()
    expect(listener, sink, "a>b", token, {7: 16, 9: 0})
    link = links.link(listener, "a>b", token, {7: 16, 9: 0})
    link.wait_ready(5)
    size = {"small": 1, "1KiB": 128, "1MiB": 131072}[kind]
    payloads = [np.full(size, i, dtype=np.int64) for i in range(count)]
    sender = threading.Thread(target=stream, args=(link, 7, payloads))
    sender.start()
    stream(link, 9, [i.to_bytes(4, "little") for i in range(count)])  # a second edge, interleaved
    sender.join()
    sink.wait(lambda s: len(s.items) == 2 * count)
    seven = [message for edge, message in sink.items if edge == 7]
    nine = [message for edge, message in sink.items if edge == 9]
    assert [int(m[0]) for m in seven] == list(range(count))
    assert all(m.shape == (size,) and (m == i).all() for i, m in enumerate(seven))
    assert [int.from_bytes(m, "little") for m in nine] == list(range(count))
    assert sink.link.received == {7: count, 9: count}
    assert link.sent(7) == link.sent(9) == count
    assert not sink.lost and link.failure is None
    if kind == "1MiB":
        assert seven[0].flags.writeable, "received buffers are writable, no copy needed"


def test_small_messages_travel_in_batches_in_order(links):
    """Small messages share frames; a large one sends the batch before it, so one edge's order
    holds across both kinds."""
    sink, link = _connected(links, "batch", {1: 0})
    big = np.arange(1 << 17, dtype=np.int64)  # 1 MiB: its own frames
    payloads = [*range(2000), big, *range(2000, 3000)]
    for payload in payloads:
        link.send(1, encode(payload))
    link.flush()
    sink.wait(lambda s: len(s.items) == len(payloads))
    received = [message for _, message in sink.items]
    assert received[:2000] == list(range(2000)) and received[2001:] == list(range(2000, 3000))
    np.testing.assert_array_equal(received[2000], big)
    assert link.frames_sent <= 3000 // 100, f"{link.frames_sent} frames for {len(payloads)} messages"


def test_a_batch_nobody_flushes_goes_out_on_its_own(links):
    sink, link = _connected(links, "idle", {1: 0})
    for i in range(3):
        link.send(1, encode(i))
    sink.wait(lambda s: len(s.items) == 3, timeout=5)
    assert [m for _, m in sink.items] == [0, 1, 2]
    deadline = time.monotonic() + 5  # the link's thread counts a frame once its send returned
    while link.frames_sent < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert link.frames_sent == 2, "the first alone (after a quiet spell), the others batched"


def test_a_sparse_stream_is_not_batched(links):
    sink, link = _connected(links, "sparse", {1: 0})
    for i in range(5):
        link.send(1, encode(i))
        assert link.frames_sent == i + 1, "sent by send itself, not later by the link's thread"
        sink.wait(lambda s, n=i + 1: len(s.items) == n, timeout=5)
        time.sleep(0.002)


def test_a_full_window_sends_the_batch(links):
    """The producer waits for credits once its window is full: what it batched goes out then."""
    sink, link = _connected(links, "full", {1: 8})
    for i in range(8):
        link.send(1, encode(i))
    assert link.frames_sent == 2, "the first alone, then one batch sent as the window filled"
    assert link.wait_credit(1, 10)
    assert [m for _, m in sink.items] == list(range(8))


def test_credits_bound_messages_in_flight(links):
    listener = links.listener()
    sink = Sink(credit=False)
    token = links.token()
    inbound = expect(listener, sink, "l", token, {1: 4})
    link = links.link(listener, "l", token, {1: 4})
    link.wait_ready(5)
    for i in range(4):
        link.send(1, encode(i))
    assert not link.has_credit(1) and link.in_flight(1) == 4
    with pytest.raises(DistributedError, match="window of 4 messages is full"):
        link.send(1, encode(99))
    assert link.wait_credit(1, 0.05) is False
    sink.wait(lambda s: len(s.items) == 4)
    inbound.credit(1)  # one take: below the batch of window/4 = 1, so it goes at once
    assert link.wait_credit(1, 10)
    assert link.in_flight(1) == 3
    link.send(1, encode(4))
    sink.wait(lambda s: len(s.items) == 5)
    inbound.credit(1, 4, flush=True)
    link.wait_credit(1, 10)
    deadline = time.monotonic() + 10
    while link.in_flight(1) and time.monotonic() < deadline:
        link.wait_credit(1, 0.05)
    assert link.in_flight(1) == 0
    assert [m for _, m in sink.items] == [0, 1, 2, 3, 4]


def test_slow_consumer_never_sees_more_than_the_window(links):
    """A consumer taking messages on its own thread; the sender never exceeds the window (the
    listener would fail the link if it did) and everything arrives."""
    listener = links.listener()
    window = 8
    arrived = queue.Queue()
    token = links.token()
    inbound = listener.expect("s", token, {1: window}, lambda edge, m: arrived.put(m))
    link = links.link(listener, "s", token, {1: window})
    link.wait_ready(5)
    taken = []
    peak = []

    def consume():
        while len(taken) < 500:
            peak.append(arrived.qsize())
            taken.append(arrived.get(timeout=10))
            inbound.credit(1, flush=arrived.empty())

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(500):
        while not link.has_credit(1):
            link.wait_credit(1, 10)
        assert link.in_flight(1) <= window
        link.send(1, encode(i))
    consumer.join()
    assert taken == list(range(500))
    assert max(peak) <= window
    assert link.failure is None and inbound.failure is None


def test_orderly_close_is_not_a_loss(links):
    listener = links.listener()
    sink = Sink()
    token = links.token()
    expect(listener, sink, "c", token, {1: 4})
    lost = []
    link = links.link(listener, "c", token, {1: 4}, on_lost=lost.append)
    link.wait_ready(5)
    link.send(1, encode(b"last"))
    link.close()
    assert sink.items == [(1, b"last")], "BYE is answered after everything sent before it"
    time.sleep(0.3)
    assert not sink.lost and not lost
    with pytest.raises(DistributedError, match="closed"):
        link.send(1, encode(b"late"))


def test_listener_close_tells_the_sender(links):
    listener = links.listener()
    sink = Sink()
    token = links.token()
    expect(listener, sink, "c", token, {1: 4})
    lost = []
    link = links.link(listener, "c", token, {1: 4}, on_lost=lost.append)
    link.wait_ready(5)
    listener.close()
    with pytest.raises(DistributedError, match="closed"):
        link.send(1, encode(b"x"))
    assert not lost


def test_wrong_token_fails_the_link_quickly(links):
    listener = links.listener()
    sink = Sink()
    expect(listener, sink, "w", links.token(), {1: 4})
    link = links.link(listener, "w", links.token(), {1: 4})
    with pytest.raises(DistributedError, match="refused the link's credentials"):
        link.wait_ready(5)
    with pytest.raises(DistributedError, match="refused"):
        link.send(1, encode(b"x"))


def test_unknown_edge_on_the_sending_side(links):
    listener = links.listener()
    token = links.token()
    expect(listener, Sink(), "u", token, {1: 4})
    link = links.link(listener, "u", token, {1: 4})
    with pytest.raises(DistributedError, match="carries no edge 2"):
        link.send(2, encode(b"x"))


def test_encrypted_link(links):
    public, secret = curve_keypair(b"s" * 32, DATA_SERVER_LABEL)
    listener = links.listener(encrypt=True, secret_key=secret)
    sink = Sink()
    token = links.token()
    expect(listener, sink, "e", token, {1: 4})
    link = links.link(listener, "e", token, {1: 4}, encrypt=True, server_key=public)
    link.wait_ready(5)
    stream(link, 1, [bytes([i]) * 100 for i in range(50)])
    sink.wait(lambda s: len(s.items) == 50)
    assert [m for _, m in sink.items] == [bytes([i]) * 100 for i in range(50)]
    wrong = links.link(listener, "e", token, {1: 4}, encrypt=True, server_key=public)
    with pytest.raises(DistributedError, match="refused"):
        wrong.wait_ready(5)  # the token was spent by the first connection
    with pytest.raises(DistributedError, match="listener's key"):
        DataLink(links.context, "x", listener.endpoint, token, {1: 4}, encrypt=True)


def _raw_peer(links, listener, link_id, token):
    """A hand-driven DEALER holding a valid token: it may break the protocol on purpose."""
    import zmq

    sock = links.socket(zmq.DEALER)
    sock.plain_username = link_id.encode()
    sock.plain_password = token
    sock.connect(listener.endpoint)
    sock.send(HEADER.pack(b"HF", 1, HELLO, 0, 0, 0))
    assert sock.poll(5000), "the listener welcomes the link"
    assert HEADER.unpack(sock.recv())[2] == HELLO
    return sock


BODY = encode(b"x")[0]


def _data(edge, seq, body):
    return HEADER.pack(b"HF", 1, DATA, edge, seq, len(body)) + body


def _batch(count, *entries):
    payload = b"".join(entries)
    return HEADER.pack(b"HF", 1, BATCH, 0, count, len(payload)) + payload


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        ([[_batch(1, _data(1, 0, BODY))]], "a batch of 1 message"),
        ([[_batch(3, _data(1, 0, BODY), _data(1, 1, BODY))]], "truncated batch"),
        (
            [[_batch(2, _data(1, 0, BODY), HEADER.pack(b"HF", 1, CREDIT, 1, 1, 0))]],
            "malformed message in a batch",
        ),
        ([[_batch(2, _data(1, 0, BODY), _data(1, 1, BODY)[:-1])]], "malformed message in a batch"),
        ([[_batch(2, _data(1, 0, BODY), _data(1, 1, BODY), b"zz")]], "2 bytes left over after a batch"),
        ([[_batch(2, _data(1, 0, BODY), _data(1, 2, BODY))]], "expected message 1, got 2 \\(a gap\\)"),
        ([[_batch(2, _data(1, 0, BODY), _data(1, 1, b"??"))]], "message 1 does not decode"),
        ([[_data(1, 0, BODY)], [_data(1, 2, BODY)]], "expected message 1, got 2 \\(a gap\\)"),
        ([[_data(1, 0, BODY)], [_data(1, 0, BODY)]], "expected message 1, got 0 \\(a duplicate\\)"),
        ([[_data(5, 0, BODY)]], "edge 5, which this link does not carry"),
        ([[_data(1, 0, b"?")]], "message 0 does not decode"),
        ([[_data(1, i, BODY)] for i in range(3)], "exceeded its window of 2"),
        ([[b"HF\x01"]], "truncated frame header"),
        ([[HEADER.pack(b"HF", 1, DATA, 1, 0, 9) + b"bx"]], "malformed frame header"),
        ([[HEADER.pack(b"HF", 1, 77, 1, 0, 0)]], "unexpected frame kind 77"),
    ],
)
def test_protocol_breaches_fail_the_link_by_name(links, frames, match):
    listener = links.listener()
    sink = Sink(credit=False)
    token = links.token()
    expect(listener, sink, "bad>x", token, {1: 2})
    sock = _raw_peer(links, listener, "bad>x", token)
    for message in frames:
        sock.send_multipart(message)
    sink.wait(lambda s: s.lost)
    ((_, error),) = sink.lost
    assert isinstance(error, DistributedError)
    assert "data link 'bad>x'" in str(error)
    assert error.args[0] == pytest.approx(error.args[0]) and __import__("re").search(match, str(error))
    sock.send_multipart([_data(1, 9, BODY)])
    sock.send(HEADER.pack(b"HF", 1, BYE, 0, 0, 0))
    time.sleep(0.2)
    assert len(sink.lost) == 1, "a failed link reports once and ignores the rest"


@pytest.mark.parametrize("bad", [_data(1, 2, BODY), _data(1, 1, b"??")], ids=["gap", "undecodable"])
def test_a_batch_delivers_what_comes_before_its_bad_message(links, bad):
    listener = links.listener()
    sink = Sink(credit=False)
    token = links.token()
    expect(listener, sink, "part", token, {1: 4})
    sock = _raw_peer(links, listener, "part", token)
    sock.send(_batch(3, _data(1, 0, BODY), bad, _data(1, 2, BODY)))
    sink.wait(lambda s: s.lost)
    assert [m for _, m in sink.items] == [b"x"]


_ENTRY = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1), st.binary(max_size=64))


@given(st.lists(_ENTRY, min_size=2, max_size=20))
def test_batch_frames_round_trip(entries):
    frame = batch_frame([HEADER.pack(b"HF", 1, DATA, e, s, len(b)) + b for e, s, b in entries])
    _, _, kind, _, count, body_len = HEADER.unpack_from(frame)
    assert kind == BATCH and count == len(entries) and body_len == len(frame) - HEADER.size
    assert list(batch_entries(frame, count)) == entries


@settings(max_examples=300)
@given(
    st.lists(_ENTRY, min_size=2, max_size=6), st.integers(0, 8), st.binary(max_size=40), st.integers(0, 200)
)
def test_batch_parsing_of_any_bytes_fails_only_by_name(entries, count, junk, cut):
    """Whatever the bytes (a valid batch cut short, padded or miscounted), the parser yields
    bodies inside the frame or raises ValueError; nothing else."""
    frame = batch_frame([HEADER.pack(b"HF", 1, DATA, e, s, len(b)) + b for e, s, b in entries])
    frame = (frame + junk)[: len(frame) + len(junk) - cut]
    parsed = []
    failure = None
    try:
        for edge_id, seq, body in batch_entries(frame, count):
            assert len(body) <= len(frame)
            parsed.append((edge_id, seq, body))
    except ValueError as error:
        failure = str(error)
    if failure is None:
        assert 2 <= count == len(parsed) and parsed == entries[:count]
    else:
        assert failure and parsed == entries[: len(parsed)]


def test_max_message_bytes_setting():
    assert max_message_bytes({}) == 2 << 30
    assert max_message_bytes({"HOLOFLOW_MAX_MESSAGE_BYTES": "4096"}) == 4096
    with pytest.raises(ConfigError, match="HOLOFLOW_MAX_MESSAGE_BYTES"):
        max_message_bytes({"HOLOFLOW_MAX_MESSAGE_BYTES": "12"})


def test_frames_over_the_limit_never_arrive(links):
    listener = links.listener(max_bytes=4096)
    sink = Sink()
    token = links.token()
    expect(listener, sink, "big", token, {1: 4})
    link = links.link(listener, "big", token, {1: 4})
    link.wait_ready(5)
    link.send(1, encode(np.zeros(8192, np.uint8)))
    sink.wait(lambda s: s.lost)
    assert not sink.items, "libzmq drops the connection before the frame is allocated"


def _spawn(*args):
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_link_peer.py")), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_line(process):
    line = process.stdout.readline().split()
    assert line and line[0] == "ready", line
    return line[1:]


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP])
def test_killed_or_hung_sender_is_reported(links, how):
    listener = links.listener()
    sink = Sink()
    token = links.token()
    expect(listener, sink, "p>me", token, {1: 4})
    peer = _spawn("dial", listener.endpoint, "p>me", token.hex())
    try:
        _wait_line(peer)
        sink.wait(lambda s: s.items)
        killed_at = time.monotonic()
        peer.send_signal(how)
        sink.wait(lambda s: s.lost, timeout=10)
    finally:
        peer.kill()
        peer.wait()
        peer.stdin.close()
        peer.stdout.close()
    ((lost_at, error),) = sink.lost
    assert "the sender disconnected" in str(error)
    # A killed process's connection closes at once; a hung one misses heartbeats for 1.5 s.
    assert lost_at - killed_at < (2.0 if how == signal.SIGKILL else 3.0)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP])
def test_killed_or_hung_receiver_is_reported(links, how):
    token = links.token()
    peer = _spawn("listen", "me>p", token.hex())
    lost = []
    got_lost = threading.Event()
    try:
        (endpoint,) = _wait_line(peer)
        link = DataLink(
            links.context, "me>p", endpoint, token, {1: 4},
            on_lost=lambda error: (lost.append((time.monotonic(), error)), got_lost.set()),
        )  # fmt: skip
        links.links.append(link)
        link.wait_ready(10)
        killed_at = time.monotonic()
        peer.send_signal(how)
        assert got_lost.wait(10)
    finally:
        peer.kill()
        peer.wait()
        peer.stdin.close()
        peer.stdout.close()
    ((lost_at, error),) = lost
    assert "the peer disconnected" in str(error)
    assert lost_at - killed_at < (2.0 if how == signal.SIGKILL else 3.0)
    with pytest.raises(DistributedError, match="disconnected"):
        link.send(1, encode(b"x"))


def test_a_link_dialed_before_the_listener_knows_it_redials(links):
    """The dialing process may be told of a link before the listening one: with ``redial_s`` the
    refused handshake is retried until the listener expects the link."""
    listener = links.listener()
    token = links.token()
    link = links.link(listener, "early", token, {1: 4}, redial_s=10)
    time.sleep(0.3)  # several refused attempts
    assert link.failure is None
    sink = Sink()
    expect(listener, sink, "early", token, {1: 4})
    link.wait_ready(10)
    link.send(1, encode(b"made it"))
    sink.wait(lambda s: s.items)
    assert sink.items == [(1, b"made it")] and not sink.lost
    assert listener.rejections()["auth"] >= 1


def test_a_wake_set_after_a_clear_is_never_lost():
    """The wake pipe skips writes while a wake is pending; a set() after clear() writes again."""
    import select

    from holoflow.distributed._zmq_links import _Wake

    wake = _Wake()
    try:
        poller = select.poll()
        poller.register(wake.read_fd, select.POLLIN)
        for _ in range(3):
            wake.set()
            wake.set()  # pending: no second write
            assert poller.poll(0)
            wake.clear()
            assert not poller.poll(0)
        wake.set()
        assert poller.poll(0), "a set() after clear() wakes the reader"
    finally:
        wake.close()


@pytest.mark.parametrize("window", [1, 2, 5, 8])
def test_credits_granted_from_another_thread_always_reach_the_sender(links, window):
    """Credits a consumer thread grants wake the listener's thread (its wake pipe), and a sender
    streaming faster than its window reads them (itself or on the link's thread): many short
    streams, so a lost wake-up would hang one of them."""
    listener = links.listener()
    for trial in range(6):
        arrived = queue.Queue()
        token = links.token()
        link_id = f"w{window}-{trial}"
        inbound = listener.expect(link_id, token, {1: window}, lambda edge, m, q=arrived: q.put(m))
        credited_on = []
        link = links.link(
            listener, link_id, token, {1: window},
            on_credit=lambda edge, c=credited_on: c.append(threading.current_thread().name),
        )  # fmt: skip
        link.wait_ready(5)
        taken = []

        def consume(inbound=inbound, arrived=arrived, taken=taken):
            while len(taken) < 300:
                taken.append(arrived.get(timeout=10))
                inbound.credit(1, flush=arrived.empty())

        consumer = threading.Thread(target=consume)
        consumer.start()
        stream(link, 1, range(300))
        consumer.join()
        assert taken == list(range(300))
        deadline = time.monotonic() + 10
        while link.in_flight(1) and time.monotonic() < deadline:
            link.wait_credit(1, 0.05)
        assert link.in_flight(1) == 0 and link.sent(1) == 300
        assert credited_on and set(credited_on) == {f"holoflow-link-{link_id}"}
        assert link.failure is None and inbound.failure is None


def test_credits_granted_inside_on_message_go_back(links):
    """A consumer that credits from on_message (the listener's own thread) gets its credits
    sent after the callback, with no wake-up of its own."""
    listener = links.listener()
    sink = Sink()  # credits each message inside on_message
    token = links.token()
    expect(listener, sink, "inline", token, {1: 2})
    link = links.link(listener, "inline", token, {1: 2})
    link.wait_ready(5)
    stream(link, 1, range(1000))
    sink.wait(lambda s: len(s.items) == 1000)
    assert [m for _, m in sink.items] == list(range(1000))
    assert not sink.lost and link.failure is None


@pytest.mark.slow
def test_close_stops_waiting_for_the_answer_when_the_peer_is_lost(links):
    """close() waits for the listener's BYE, but no longer than the link lives: a receiver that
    hangs (SIGSTOP) is declared lost after the heartbeat timeout, and close() returns then."""
    token = links.token()
    peer = _spawn("listen", "me>hung", token.hex())
    try:
        (endpoint,) = _wait_line(peer)
        link = DataLink(links.context, "me>hung", endpoint, token, {1: 4})
        links.links.append(link)
        link.wait_ready(10)
        peer.send_signal(signal.SIGSTOP)
        stat = Path(f"/proc/{peer.pid}/stat")
        deadline = time.monotonic() + 10
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "T" and time.monotonic() < deadline:
            time.sleep(0.01)  # every thread of the peer stopped: nothing can answer the BYE
        started = time.monotonic()
        link.close(timeout=60)
        took = time.monotonic() - started
    finally:
        peer.kill()
        peer.wait()
        peer.stdin.close()
        peer.stdout.close()
    assert took < 30, "close() returned when the heartbeat declared the peer lost, not after 60 s"
    assert link.failure is not None and "disconnected" in str(link.failure)
