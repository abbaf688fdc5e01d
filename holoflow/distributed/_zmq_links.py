"""Data links over ZeroMQ: one connection per directed pair of processes, edges multiplexed on it.

The receiving process binds one :class:`DataListener` (a ROUTER) and :meth:`~DataListener.expect`\\ s
each incoming link by id and one-time token; the sending process opens a :class:`DataLink` (a
DEALER) to it. Every message is ``[header + body, *buffers]``, where ``body, *buffers`` is what the
codec's ``encode`` returned and the header is ``struct "<2sBBIQI"``: magic ``HF``, version 1, kind,
``edge_id``, ``seq`` (a count for CREDIT) and the body length.

Kinds: ``DATA`` (sender to receiver); ``BATCH`` (sender to receiver: ``seq`` small single-frame
``DATA`` messages, each a header and its body, back to back in one frame); ``CREDIT`` (receiver
to sender: ``seq`` messages of an edge were consumed); ``HELLO`` (the sender's first message,
answered once the receiver has tied the connection to the link: the link is up); ``BYE`` (the
side closing says so, and the other answers, so the disconnect that follows is not a loss and
everything sent before it arrived).

Guarantees per edge: messages arrive exactly once, in order: ``seq`` counts from 0 and a gap or a
repeat fails the link. At most ``window`` messages are in flight (0: no limit): the sender counts
them and the receiver returns credits as its consumer takes messages. A lost peer (a killed
process closes its TCP connection at once; a hung one misses ZMTP heartbeats for the timeout),
a protocol breach or an undecodable message fails the link: its ``on_lost`` callback gets one
:class:`DistributedError` naming the link, and every later send raises it. No reconnection is
attempted: a link's token is spent by its first connection.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import zmq

from holoflow.distributed._addresses import LOOPBACK, Address, bind_listener
from holoflow.distributed._control import heartbeat_settings
from holoflow.distributed._secret import DATA_LINK_LABEL, curve_keypair
from holoflow.distributed._zmq_auth import (
    DATA_DOMAIN,
    MONITOR_EVENTS,
    Authenticator,
    HandshakeCounter,
    read_monitor_event,
)
from holoflow.errors import ConfigError, DistributedError

__all__ = [
    "BATCH",
    "BYE",
    "CREDIT",
    "DATA",
    "HEADER",
    "HELLO",
    "DataLink",
    "DataListener",
    "InboundLink",
    "batch_entries",
    "batch_frame",
    "max_message_bytes",
]

HEADER = struct.Struct("<2sBBIQI")
MAGIC = b"HF"
VERSION = 1
DATA, CREDIT, HELLO, BYE, BATCH = 1, 2, 3, 4, 5
HANDSHAKE_IVL_MS = 2000
_REDIAL_S = 0.05
_CREDIT_BATCH = 128
"""Credits go back at least every this many consumed messages (a quarter window when smaller):
the sender then never waits for a credit that is only batching up."""
_DEFAULT_MAX_MESSAGE = 2 << 30
_SMALL = 64 * 1024
_CHECK_MS = 1  # how soon the sending link's thread looks at its socket after frequent sends
_INLINE_CHECKS = 32  # sends that look at the socket themselves before the thread takes over
_BATCH_BODY = 16 * 1024
"""Single-frame messages with a body up to this size wait in the link's batch."""
_BATCH_BYTES = 64 * 1024
_BATCH_COUNT = 256
"""A batch goes out once it holds this many bytes or messages, else when flushed."""
_QUIET_S = 50e-6
"""A small message goes out at once, unbatched, when no frame went out for this long."""
_BATCH_AGE_S = 0.001
"""The link's thread sends a batch that has waited this long (its producer is busy elsewhere)."""
_LENT_CHECK_S = 0.01
"""While a fragment's idle thread holds the listener's socket (see :meth:`DataListener.idle_event`),
the listener's thread looks this often whether that thread still waits; one busy this long gives
the socket back."""
_GUEST_BURST = 256
"""Messages an idle thread holding the socket takes in one go before its fragment runs them."""
_PACK = HEADER.pack
_UNPACK_FROM = HEADER.unpack_from
_NOBLOCK = int(zmq.NOBLOCK)
_NOBLOCK_MORE = int(zmq.NOBLOCK | zmq.SNDMORE)

Decode = Callable[[Sequence[Any]], Any]
LostCallback = Callable[[DistributedError], None]


def max_message_bytes(environ: Mapping[str, str] | None = None) -> int:
    """``HOLOFLOW_MAX_MESSAGE_BYTES`` (default 2 GiB): the largest frame a data listener accepts."""
    env = os.environ if environ is None else environ
    text = env.get("HOLOFLOW_MAX_MESSAGE_BYTES", "").strip()
    if not text:
        return _DEFAULT_MAX_MESSAGE
    if not text.isdigit() or int(text) < 1024:
        raise ConfigError(f"$HOLOFLOW_MAX_MESSAGE_BYTES={text!r}: expected an integer of at least 1024")
    return int(text)


def _common_options(sock: zmq.Socket[Any], heartbeat: tuple[float, float]) -> None:
    interval, timeout = heartbeat
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.HANDSHAKE_IVL, HANDSHAKE_IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_IVL, int(interval * 1000))
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(timeout * 1000))
    sock.setsockopt(zmq.HEARTBEAT_TTL, int(timeout * 1000))


def _header(kind: int, edge_id: int, seq: int, body_len: int = 0) -> bytes:
    return HEADER.pack(MAGIC, VERSION, kind, edge_id, seq, body_len)


class _Wake:
    """A pipe another thread writes to, to wake a thread blocked in ``zmq.Poller.poll``.

    The waiting thread calls :meth:`clear` before it looks at the state it was woken for, so a
    :meth:`set` that finds a wake already pending can skip the system call.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.pending = False

    def set(self) -> None:
        if self.pending:
            return
        self.pending = True
        try:
            os.write(self.write_fd, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: the reader is woken anyway

    def clear(self) -> None:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        self.pending = False  # after draining: a set() from here on writes again

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


# ------------------------------------------------------------------------------------------------
# Sending side


@dataclass
class _OutEdge:
    window: int
    next_seq: int = 0
    in_flight: int = 0


class DataLink:
    """The sending end of one link: a DEALER dialing a peer's :class:`DataListener`.

    Takes the context, the link id and token the driver minted, the listener's endpoint
    (``tcp://ip:port``), the edges it carries (``{edge_id: window}``, 0 = unbounded), and two
    callbacks run on the link's thread: ``on_credit(edge_id)`` when credits come back and
    ``on_lost(error)`` once if the link fails. ``encrypt`` selects CURVE with the listener key
    ``server_key`` (Z85) instead of PLAIN. Construction connects at once (without waiting);
    :meth:`wait_ready` waits for the listener's welcome. For ``redial_s`` seconds a refused
    handshake is retried every 50 ms (the listener's process may not have been told of the link
    yet); after that, or once welcomed, a refusal fails the link.

    :meth:`send` may be called from any thread; it never blocks. A small single-frame message
    sent after a quiet spell (``_QUIET_S``) goes out at once; one that follows closely waits in a
    batch that goes out as one frame when it is full, when :meth:`flush` is called (the
    producing fragment has nothing else to do) or after ``_BATCH_AGE_S``.
    """

    # How the link's thread learns of frames from the listener. libzmq signals a socket's file
    # descriptor once per batch of arrivals, and any call on the socket may consume that signal
    # (a send does so about once a millisecond at most), so after a send someone must ask the
    # socket (a costly call) whether frames wait. A rare send asks it itself; while sends are
    # frequent they "arm" the thread instead, which then asks every _CHECK_MS; a sender that
    # finds its window full asks at once.

    def __init__(
        self,
        context: zmq.Context[Any],
        link_id: str,
        endpoint: str,
        token: bytes,
        edges: Mapping[int, int],
        *,
        on_credit: Callable[[int], None] | None = None,
        on_lost: LostCallback | None = None,
        encrypt: bool = False,
        server_key: bytes | None = None,
        redial_s: float = 0.0,
    ) -> None:
        if encrypt and server_key is None:
            raise DistributedError(f"data link {link_id!r}: encryption needs the listener's key")
        heartbeat = heartbeat_settings()
        self.link_id = link_id
        self.endpoint = endpoint
        self._edges = {edge_id: _OutEdge(window) for edge_id, window in edges.items()}
        self._on_credit = on_credit
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._credit = threading.Condition(self._lock)
        self._failure: DistributedError | None = None
        self._ready = threading.Event()
        self._bye = threading.Event()
        self._settled = threading.Event()  # the BYE was answered, or the link failed
        self._closing = False
        self._stopping = False
        self._redial_until = time.monotonic() + redial_s
        self._redial_at: float | None = None
        self._refused_sessions = 0  # refused connections whose DISCONNECTED event is still due
        self._armed = True  # the socket was used since the thread last read it (HELLO, below)
        self._sleeping = False  # the thread waits with no deadline
        self._unchecked_sends = 0  # sends that asked the socket themselves while the thread slept
        self._credited: list[int] = []  # edges credited since on_credit last ran
        self._batch: list[bytes] = []  # headers and bodies of the messages not sent yet
        self._batch_bytes = 0
        self._batch_since = 0.0  # when the oldest of them was sent (time.monotonic())
        self._last_frame_at = 0.0  # when the last data frame went out (time.monotonic())
        self.frames_sent = 0
        """Data frames put on the socket (a batch is one)."""
        self._lost: DistributedError | None = None  # a failure on_lost has yet to hear of
        self._wake = _Wake()
        sock = context.socket(zmq.DEALER)
        _common_options(sock, heartbeat)
        sock.setsockopt(zmq.RECONNECT_IVL, -1)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, _SMALL)
        if encrypt:
            assert server_key is not None
            public, secret = curve_keypair(token, DATA_LINK_LABEL)
            sock.curve_serverkey = server_key
            sock.curve_publickey = public
            sock.curve_secretkey = secret
        else:
            sock.plain_username = link_id.encode()
            sock.plain_password = token
        self._monitor = sock.get_monitor_socket(MONITOR_EVENTS)
        self._sock = sock
        self._fd = sock.getsockopt(zmq.FD)
        try:
            sock.connect(endpoint)
        except zmq.ZMQError as error:
            self._shut_sockets()
            raise DistributedError(
                f"data link {link_id!r}: cannot dial {endpoint}: {error.strerror}"
            ) from None
        self._hello()
        self._thread = threading.Thread(target=self._run, name=f"holoflow-link-{link_id}", daemon=True)
        self._thread.start()

    # -- any thread --------------------------------------------------------------------------

    def send(self, edge_id: int, frames: Sequence[Any]) -> int:
        """Send one encoded message (``[body, *buffers]``) on ``edge_id``; returns its seq.

        Buffers of 64 KiB or more are sent without a copy: they must not change afterwards.
        Raises :class:`DistributedError` if the link failed or closed, the edge is not on this
        link, or its window is full (check :meth:`has_credit` first).
        """
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._closing:
                raise DistributedError(f"data link {self.link_id!r} is closed")
            edge = self._edges.get(edge_id)
            if edge is None:
                raise DistributedError(f"data link {self.link_id!r} carries no edge {edge_id}")
            if edge.window and edge.in_flight >= edge.window:
                self._read_locked()
                if edge.in_flight >= edge.window:
                    raise DistributedError(
                        f"data link {self.link_id!r} edge {edge_id}: window of {edge.window} messages is full"
                    )
            seq = edge.next_seq
            body = frames[0]
            head = _PACK(MAGIC, VERSION, DATA, edge_id, seq, len(body)) + body
            edge.next_seq = seq + 1
            edge.in_flight += 1
            batch = self._batch
            if len(frames) == 1 and len(body) <= _BATCH_BODY:
                if not batch:
                    now = time.monotonic()
                    if now - self._last_frame_at >= _QUIET_S:
                        self._send_frame(head)  # a sparse stream: nothing to batch it with
                        return seq
                    self._batch_since = now
                    if self._sleeping:
                        self._wake.set()  # the thread sends the batch if nobody flushes it
                batch.append(head)
                self._batch_bytes += len(head)
                if (
                    self._batch_bytes >= _BATCH_BYTES
                    or len(batch) >= _BATCH_COUNT
                    or edge.in_flight == edge.window  # the producer waits now: no more will come
                ):
                    self._flush_locked()
                return seq
            if batch:
                self._flush_locked()
            sock = self._sock
            try:
                if len(frames) == 1:
                    sock.send(head, _NOBLOCK)
                else:
                    sock.send(head, _NOBLOCK_MORE)
                    for buffer in frames[1:-1]:
                        sock.send(buffer, _NOBLOCK_MORE, copy=False)
                    sock.send(frames[-1], _NOBLOCK, copy=False)
            except zmq.ZMQError as error:
                raise self._fail_locked(f"send failed: {error.strerror}") from None
            self._sent_on_socket()
            return seq

    def flush(self) -> None:
        """Send the batched messages now (if any). Raises the link's :class:`DistributedError`
        if it failed."""
        if not self._batch:
            return
        with self._lock:
            if self._failure is not None:
                raise self._failure
            self._flush_locked()

    def _flush_locked(self) -> None:
        batch = self._batch
        if not batch or self._failure is not None:
            return
        frame = batch[0] if len(batch) == 1 else batch_frame(batch)
        self._batch = []
        self._batch_bytes = 0
        self._send_frame(frame)

    def _send_frame(self, frame: bytes) -> None:
        try:
            self._sock.send(frame, _NOBLOCK)
        except zmq.ZMQError as error:
            raise self._fail_locked(f"send failed: {error.strerror}") from None
        self._sent_on_socket()

    def _sent_on_socket(self) -> None:
        """A frame went out: see that someone reads the socket soon (the lock held)."""
        self.frames_sent += 1
        self._last_frame_at = time.monotonic()
        if self._armed:
            pass  # the thread reads the socket within _CHECK_MS
        elif not self._sleeping:
            self._armed = True  # the thread is busy: it reads the socket before it sleeps again
        elif self._unchecked_sends < _INLINE_CHECKS:
            # The thread sleeps: look at the socket here (no thread to wake on a rare send).
            self._unchecked_sends += 1
            if self._sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                self._wake.set()
        else:
            self._armed = True  # frequent sends: the thread checks for them every _CHECK_MS
            self._wake.set()

    def has_credit(self, edge_id: int) -> bool:
        edge = self._edges[edge_id]
        if not edge.window or edge.in_flight < edge.window:
            return True
        with self._lock:
            self._read_locked()
        return edge.in_flight < edge.window

    def in_flight(self, edge_id: int) -> int:
        """Messages sent on ``edge_id`` and not yet credited back."""
        edge = self._edges[edge_id]
        if edge.window and edge.in_flight >= edge.window:
            with self._lock:
                self._read_locked()
        return edge.in_flight

    def sent(self, edge_id: int) -> int:
        return self._edges[edge_id].next_seq

    def wait_credit(self, edge_id: int, timeout: float | None = None) -> bool:
        """Block until ``edge_id`` may send (True), the timeout passes (False) or the link fails
        (raises its :class:`DistributedError`)."""
        edge = self._edges[edge_id]
        with self._credit:
            if edge.window and edge.in_flight >= edge.window:
                self._read_locked()
            self._credit.wait_for(
                lambda: self._failure is not None or not edge.window or edge.in_flight < edge.window,
                timeout,
            )
            if self._failure is not None:
                raise self._failure
            return not edge.window or edge.in_flight < edge.window

    def wait_ready(self, timeout: float) -> None:
        """Wait until the listener welcomed the link; raises :class:`DistributedError` if it
        failed or ``timeout`` seconds passed."""
        if not self._ready.wait(timeout) and self._failure is None:
            raise DistributedError(
                f"data link {self.link_id!r}: no answer from {self.endpoint} within {timeout:g} s"
            )
        if self._failure is not None:
            raise self._failure

    @property
    def failure(self) -> DistributedError | None:
        return self._failure

    def close(self, timeout: float = 1.5) -> None:
        """Say BYE, wait up to ``timeout`` s for the answer (so everything sent has arrived), then
        close with no linger. Idempotent; never raises."""
        with self._lock:
            if self._stopping:
                return
            self._closing = True
            greet = self._failure is None and self._ready.is_set() and not self._bye.is_set()
            if self._batch and not self._bye.is_set():
                try:
                    self._flush_locked()
                except DistributedError:
                    greet = False
            if greet:
                try:
                    self._sock.send(_header(BYE, 0, 0), zmq.NOBLOCK)
                except zmq.ZMQError:
                    greet = False
                self._armed = True
                self._wake.set()
        if greet:
            self._settled.wait(timeout)
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join()
        self._shut_sockets()

    def _shut_sockets(self) -> None:
        self._sock.disable_monitor()
        self._monitor.close()
        self._sock.close()
        self._wake.close()

    # -- the link's thread (and senders that find their window full) ---------------------------

    def _fail_locked(self, reason: str) -> DistributedError:
        if self._failure is None:
            self._failure = DistributedError(f"data link {self.link_id!r} to {self.endpoint}: {reason}")
            self._credit.notify_all()
            self._ready.set()
            self._settled.set()
        return self._failure

    def _read_locked(self) -> None:
        """Take every frame the listener sent so far (the lock held); queue the callbacks they
        call for, and wake the thread to run them if this is another thread."""
        if self._stopping:
            return
        self._armed = False
        sock = self._sock
        while self._failure is None and sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            failed = self._receive(sock.recv_multipart(zmq.NOBLOCK))
            if failed is not None:
                self._lost = failed
        if (self._credited or self._lost is not None) and threading.current_thread() is not self._thread:
            self._wake.set()

    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self._fd, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        poller.register(self._wake.read_fd, zmq.POLLIN)
        wake_fd = self._wake.read_fd
        while True:
            with self._lock:
                if self._stopping:
                    return
                wait_ms: int | None = _CHECK_MS if self._armed or self._batch else None
                if self._redial_at is not None:
                    due = max(0, int((self._redial_at - time.monotonic()) * 1000))
                    wait_ms = due if wait_ms is None else min(due, wait_ms)
                self._sleeping = wait_ms is None
                self._unchecked_sends = 0
            ready = poller.poll(wait_ms)
            with self._lock:
                self._sleeping = False
                if self._stopping:
                    return
                armed_only = len(ready) == 1 and ready[0][0] == wake_fd and self._armed
                self._wake.clear()
                if not armed_only or self._credited or self._lost is not None or self._closing:
                    # Woken only because a send armed us: check after _CHECK_MS, not now, so the
                    # check stays off the path of the message just sent. The frames go before
                    # the monitor's events: a BYE that came before a disconnect ends the link
                    # in order, not as a loss.
                    self._read_locked()
                if any(item is self._monitor for item, _ in ready):
                    lost = self._read_monitor()
                    if lost is not None:
                        self._lost = lost
                if self._redial_at is not None and time.monotonic() >= self._redial_at:
                    self._redial()
                if self._batch and time.monotonic() - self._batch_since >= _BATCH_AGE_S:
                    try:
                        self._flush_locked()
                    except DistributedError as error:
                        self._lost = error
                credited, self._credited = self._credited, []
                lost, self._lost = self._lost, None
            if self._on_credit is not None:
                for edge_id in credited:
                    self._on_credit(edge_id)
            if lost is not None and self._on_lost is not None:
                self._on_lost(lost)

    def _read_monitor(self) -> DistributedError | None:
        failed = self._failure is not None
        while self._monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            event, _ = read_monitor_event(self._monitor)
            if failed or self._failure is not None:
                continue
            if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                if not self._ready.is_set() and time.monotonic() + _REDIAL_S < self._redial_until:
                    self._refused_sessions += 1
                    self._redial_at = time.monotonic() + _REDIAL_S
                else:
                    self._fail_locked("the listener refused the link's credentials")
            elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
                self._fail_locked("the handshake failed (not a holoflow data listener?)")
            elif event == zmq.EVENT_DISCONNECTED and self._refused_sessions:
                self._refused_sessions -= 1
            elif event == zmq.EVENT_DISCONNECTED and not self._bye.is_set():
                self._fail_locked("the peer disconnected (process ended or heartbeat lost)")
        return None if failed else self._failure

    def _redial(self) -> None:
        self._redial_at = None
        try:
            self._sock.disconnect(self.endpoint)
        except zmq.ZMQError:
            pass  # the refused connection is already gone
        self._sock.connect(self.endpoint)
        self._hello()

    def _hello(self) -> None:
        self._armed = True
        try:
            self._sock.send(_header(HELLO, 0, 0), zmq.NOBLOCK)
        except zmq.Again:
            pass  # the connection was refused already: the monitor reports it

    def _receive(self, frames: list[bytes]) -> DistributedError | None:
        head = frames[0]
        if len(frames) != 1 or len(head) != HEADER.size:
            return self._fail_locked("malformed frame from the listener")
        magic, version, kind, edge_id, count, _ = HEADER.unpack(head)
        if magic != MAGIC or version != VERSION:
            return self._fail_locked("malformed frame from the listener")
        if kind == CREDIT:
            edge = self._edges.get(edge_id)
            if edge is None or count > edge.in_flight:
                return self._fail_locked(f"bad credit of {count} for edge {edge_id}")
            edge.in_flight -= count
            self._credited.append(edge_id)
            self._credit.notify_all()
        elif kind == HELLO:
            self._ready.set()
        elif kind == BYE:
            if not self._closing:
                self._closing = True  # the listener is closing: answer, and send nothing more
                try:
                    self._sock.send(_header(BYE, 0, 0), zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass
            self._bye.set()
            self._settled.set()
        else:
            return self._fail_locked(f"unexpected frame kind {kind} from the listener")
        return None


# ------------------------------------------------------------------------------------------------
# Receiving side


@dataclass
class _InEdge:
    window: int
    credit_batch: int = 1
    credit_bytes: int = 0  # credits also go back once this many bytes were consumed (0: never)
    expected: int = 0  # the next seq; also the count delivered (listener thread only)
    credited: int = 0  # credits sent back (listener thread only)
    pending_credit: int = 0  # consumed and not yet sent back (under the listener's lock)
    pending_bytes: int = 0  # their bytes (under the listener's lock)
    sizes: deque[int] = field(default_factory=deque)  # bytes of each message not yet consumed

    def __post_init__(self) -> None:
        self.credit_batch = max(1, min(self.window // 4, _CREDIT_BATCH))


def batch_frame(entries: Sequence[bytes]) -> bytes:
    """One ``BATCH`` frame of ``entries`` (each a ``DATA`` header and its body; at least two)."""
    nbytes = sum(len(entry) for entry in entries)
    return _PACK(MAGIC, VERSION, BATCH, 0, len(entries), nbytes) + b"".join(entries)


def batch_entries(frame: bytes, count: int) -> Iterator[tuple[int, int, bytes]]:
    """``(edge_id, seq, body)`` of each message in a ``BATCH`` frame (its header included) that
    announces ``count`` messages, in order.

    Raises
    ------
    ValueError
        Once it meets the first malformed part, naming it: fewer than two messages, a truncated
        or foreign header, a body past the end, bytes left over.
    """
    if count < 2:
        raise ValueError(f"a batch of {count} message(s)")
    end = len(frame)
    size = HEADER.size
    pos = size
    for _ in range(count):
        if end - pos < size:
            raise ValueError("truncated batch")
        magic, version, kind, edge_id, seq, body_len = _UNPACK_FROM(frame, pos)
        pos += size
        if magic != MAGIC or version != VERSION or kind != DATA or body_len > end - pos:
            raise ValueError("malformed message in a batch")
        yield edge_id, seq, frame[pos : pos + body_len]
        pos += body_len
    if pos != end:
        raise ValueError(f"{end - pos} bytes left over after a batch")


class _Refused(Exception):
    """A received message failed its link (``link``: the link, or ``None`` if it had failed
    already)."""

    def __init__(self, link: InboundLink | None) -> None:
        super().__init__()
        self.link = link


@dataclass(eq=False)
class InboundLink:
    """The receiving end of one link, made by :meth:`DataListener.expect`.

    ``on_message(edge_id, message)`` runs on the listener's thread for each decoded message, in
    order (``on_messages(edge_id, messages)``, when given, takes the messages of a batch
    together); the consumer gives the slots back with :meth:`credit` from any thread.
    """

    link_id: str
    edges: dict[int, _InEdge]
    on_message: Callable[[int, Any], None]
    on_lost: LostCallback | None
    listener: DataListener
    received: dict[int, int] = field(default_factory=dict)
    routing_id: bytes | None = None
    fd: int = -1
    failure: DistributedError | None = None
    bye: bool = False
    on_messages: Callable[[int, list[Any]], None] | None = None

    def credit(self, edge_id: int, count: int = 1, flush: bool = False) -> None:
        """Return ``count`` consumed messages of ``edge_id`` to the sender: sent in batches of a
        quarter window, or at once with ``flush`` (the consumer's queue drained)."""
        self.listener._credit(self, edge_id, count, flush)

    @property
    def connected(self) -> bool:
        return self.routing_id is not None


class _IdleEvent(threading.Event):
    """A :class:`threading.Event` whose :meth:`wait` receives for a :class:`DataListener` while
    it waits (see :meth:`DataListener.idle_event`)."""

    def __init__(self, listener: DataListener) -> None:
        super().__init__()
        self._listener = listener
        self.polling = False
        """The waiter polls the listener's pipe: :meth:`set` writes to it."""

    def set(self) -> None:
        super().set()
        if self.polling:
            self._listener._wake_guest()

    def wait(self, timeout: float | None = None) -> bool:
        if self.is_set():
            return True
        done, remaining = self._listener._wait_as_guest(self, timeout)
        if not done:
            return super().wait(remaining)
        return self.is_set()


class DataListener:
    """A process's one data listener: a ROUTER every inbound link connects to.

    Takes the context, its :class:`Authenticator` (started), the IP and port to bind (port
    ``None``: the first of ``preferred_ports`` that binds, else one the OS picks), the decoder
    (``decode(frames) -> object``; default the codec's), ``max_bytes`` per frame, and
    ``encrypt`` with the listener's CURVE ``secret_key`` (Z85). ``address`` is the bound address.
    Refused connections are counted in ``counter`` (:class:`HandshakeCounter`).
    """

    def __init__(
        self,
        context: zmq.Context[Any],
        authenticator: Authenticator,
        *,
        ip: str = LOOPBACK,
        port: int | None = None,
        preferred_ports: Sequence[int] = (),
        decode: Decode | None = None,
        max_bytes: int | None = None,
        encrypt: bool = False,
        secret_key: bytes | None = None,
    ) -> None:
        if encrypt and secret_key is None:
            raise DistributedError("an encrypted data listener needs its secret key")
        heartbeat = heartbeat_settings()
        max_bytes = max_message_bytes() if max_bytes is None else max_bytes
        if decode is None:
            from holoflow.distributed._codec import decode as codec_decode

            decode = codec_decode
        self._decode = decode
        self._auth = authenticator
        self.counter = HandshakeCounter()
        self._links: dict[str, InboundLink] = {}
        self._by_routing: dict[bytes, InboundLink] = {}
        self._by_fd: dict[int, InboundLink] = {}
        self._lock = threading.Lock()
        self._credits_due: dict[tuple[InboundLink, int], None] = {}
        self._closing = False
        self._close_deadline = 0.0
        self._wake = _Wake()
        # Lending the socket to an idle thread (the guest): all under self._lock.
        self._guest: int | None = None  # the thread the socket is lent to
        self._guest_wanted: int | None = None  # a thread that asked for it
        self._guest_using = False  # the guest is polling or using the socket now
        self._guest_since = 0.0  # when it last stopped (time.monotonic())
        self._reclaim = False  # the listener's thread wants the socket back
        self._guests_inside = 0  # threads in _wait_as_guest (the pipe below stays open for them)
        self._guest_wake_open = True
        self._guest_wake = _Wake()
        sock = context.socket(zmq.ROUTER)
        _common_options(sock, heartbeat)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.MAXMSGSIZE, max_bytes)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.zap_domain = DATA_DOMAIN.encode()
        if encrypt:
            assert secret_key is not None
            sock.curve_server = True
            sock.curve_secretkey = secret_key
        else:
            sock.plain_server = True
        self._monitor = sock.get_monitor_socket(MONITOR_EVENTS)
        self._sock = sock
        try:
            self.address: Address = bind_listener(sock, ip, port, preferred_ports)
        except ConfigError:
            self._shut_sockets()
            raise
        self.endpoint = sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        self._guest_poller = zmq.Poller()
        self._guest_poller.register(sock, zmq.POLLIN)
        self._guest_poller.register(self._guest_wake.read_fd, zmq.POLLIN)
        self._wanting_poller = zmq.Poller()
        self._wanting_poller.register(self._guest_wake.read_fd, zmq.POLLIN)
        self._thread = threading.Thread(target=self._run, name="holoflow-data-listener", daemon=True)
        self._thread.start()
        self._ident = self._thread.ident

    def expect(
        self,
        link_id: str,
        token: bytes,
        edges: Mapping[int, int],
        on_message: Callable[[int, Any], None],
        on_lost: LostCallback | None = None,
        credit_bytes: int = 0,
        on_messages: Callable[[int, list[Any]], None] | None = None,
    ) -> InboundLink:
        """Admit link ``link_id`` once with ``token``, carrying ``edges`` (``{edge_id: window}``).

        Credits go back every quarter window (at most 128 messages), on a flush, and, with
        ``credit_bytes``, once the consumed messages add up to that many bytes (a sender that
        also bounds the bytes in flight then never waits on a batch)."""
        link = InboundLink(
            link_id,
            {edge_id: _InEdge(window, credit_bytes=credit_bytes) for edge_id, window in edges.items()},
            on_message,
            on_lost,
            self,
            dict.fromkeys(edges, 0),
            on_messages=on_messages,
        )
        with self._lock:
            if link_id in self._links:
                raise DistributedError(f"data link {link_id!r} is already expected")
            self._links[link_id] = link
        self._auth.add_token(link_id, token)
        return link

    def idle_event(self) -> threading.Event:
        """An event whose :meth:`~threading.Event.wait` receives for this listener meanwhile.

        Meant for the wake event of the one fragment in this process that consumes remote
        edges: while its thread waits with nothing to do, the listener's thread lends it the
        socket, and messages reach that thread without a wake from another. The listener's thread
        takes the socket back when the waiter has been busy for ``_LENT_CHECK_S``, when its
        monitor reports a connection event, and to close. Only one thread holds the socket at a
        time; a waiter that cannot have it waits as on a plain :class:`threading.Event`.
        """
        return _IdleEvent(self)

    def rejections(self) -> dict[str, int]:
        """Connections refused so far (see :meth:`HandshakeCounter.counts`)."""
        return self.counter.counts()

    def close(self, timeout: float = 1.5) -> None:
        """Say BYE to every connected link, wait up to ``timeout`` s for their answers, close."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._close_deadline = time.monotonic() + timeout
        self._wake.set()
        self._guest_wake.set()  # a thread waiting for the socket learns that it closes
        self._thread.join()
        for link_id in self._links:
            self._auth.revoke_token(link_id)
        self._shut_sockets()

    def _shut_sockets(self) -> None:
        self._sock.disable_monitor()
        self._monitor.close()
        self._sock.close()
        self._wake.close()
        with self._lock:
            self._guest_wake_open = False  # the last thread to leave _wait_as_guest closes it
            close = not self._guests_inside
        if close:
            self._guest_wake.close()

    def _credit(self, link: InboundLink, edge_id: int, count: int, flush: bool) -> None:
        edge = link.edges[edge_id]
        with self._lock:
            edge.pending_credit += count
            if edge.credit_bytes:
                sizes = edge.sizes
                for _ in range(min(count, len(sizes))):
                    edge.pending_bytes += sizes.popleft()
                flush = flush or edge.pending_bytes >= edge.credit_bytes
            if not flush and edge.pending_credit < edge.credit_batch:
                return
            self._credits_due[link, edge_id] = None
            ident = threading.get_ident()
            if ident == self._ident:
                return  # on the listener's own thread (in on_message) the loop sends them
            guest = self._guest == ident
            if guest:
                if self._guest_using:
                    return  # in on_message on the guest's thread: it sends them once it is done
                self._guest_using = True
        if guest:
            try:
                self._send_credits()  # the socket is this thread's: no other thread to wake
            finally:
                self._guest_done()
            return
        self._wake.set()

    # -- a thread the socket is lent to (see idle_event) ---------------------------------------

    def _wait_as_guest(self, event: _IdleEvent, timeout: float | None) -> tuple[bool, float | None]:
        """Wait for ``event`` up to ``timeout`` s, receiving for the listener while the socket is
        lent to this thread. Returns ``(True, None)`` when done, else ``(False, remaining)``:
        wait that long (``None``: without a limit) the usual way."""
        ident = threading.get_ident()
        deadline = None if timeout is None else time.monotonic() + timeout
        remaining = timeout
        with self._lock:
            if not self._guest_wake_open:
                return False, remaining
            self._guests_inside += 1
        event.polling = True
        try:
            while not event.is_set():
                with self._lock:
                    if self._closing:
                        return False, remaining
                    if self._guest != ident:
                        if self._guest is not None or self._guest_wanted not in (None, ident):
                            return False, remaining  # lent to another thread, or promised to one
                        if self._guest_wanted is None:
                            self._guest_wanted = ident
                            self._wake.set()
                        own = False
                    elif self._reclaim:
                        self._give_back_locked()
                        return False, remaining
                    else:
                        own = True
                        self._guest_using = True
                wait_ms: int | None = None
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    wait_ms = max(0, int(remaining * 1000 + 0.999))
                if own:
                    try:
                        data = False
                        for item, _ in self._guest_poller.poll(wait_ms):
                            if item is self._sock:
                                data = True
                            else:
                                self._guest_wake.clear()
                        event.polling = False  # deliveries set the event: no pipe to write
                        if data or self._credits_due:
                            self._serve_as_guest(data)
                    finally:
                        event.polling = True
                        self._guest_done()
                else:
                    self._wanting_poller.poll(wait_ms)  # the hand-over, or the event, wakes it
                    self._guest_wake.clear()
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            event.polling = False
            with self._lock:
                self._guests_inside -= 1
                if self._guest_wanted == ident:
                    self._guest_wanted = None
                close = not self._guests_inside and not self._guest_wake_open
            if close:
                self._guest_wake.close()
        return True, None

    def _wake_guest(self) -> None:
        """Wake the thread polling as the guest (or waiting for the socket); a no-op once the
        pipe is closed (a waiter's ``set`` may come after it left, and after :meth:`close`)."""
        with self._lock:
            if self._guest_wake_open:
                self._guest_wake.set()

    def _serve_as_guest(self, data: bool) -> None:
        """Receive what waits (``data``: the poll saw a message; up to ``_GUEST_BURST`` of
        them) and send due credits."""
        sock = self._sock
        lost: list[InboundLink] = []
        for _ in range(_GUEST_BURST if data else 0):
            failed = self._receive_one(sock)
            if failed is not None:
                lost.append(failed)
            if not sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                break
        if self._credits_due:
            self._send_credits()
        for link in lost:
            if link.on_lost is not None and link.failure is not None:
                link.on_lost(link.failure)

    def _guest_done(self) -> None:
        """The guest stopped using the socket; give it back if asked."""
        with self._lock:
            self._guest_using = False
            self._guest_since = time.monotonic()
            if self._reclaim:
                self._give_back_locked()

    def _give_back_locked(self) -> None:
        self._guest = None
        self._reclaim = False
        self._wake.set()

    # -- the listener's thread -----------------------------------------------------------------

    def _lent(self, lent_poller: zmq.Poller, wake_poller: zmq.Poller) -> bool:
        """While the socket is lent: wait, and take it back when needed (see
        :meth:`idle_event`). Returns whether it is lent still."""
        with self._lock:
            if self._guest is None:
                return False
            reclaiming = self._reclaim
        # While a reclaim is under way the monitor is not watched: it stays readable until read.
        ready = (wake_poller if reclaiming else lent_poller).poll(int(_LENT_CHECK_S * 1000))
        events = False
        for item, _ in ready:
            if item is self._monitor:
                events = True
            else:
                self._wake.clear()
        with self._lock:
            if self._guest is not None and not self._reclaim:
                busy = not self._guest_using and time.monotonic() - self._guest_since >= _LENT_CHECK_S
                if self._credits_due and self._guest_using and not (events or busy or self._closing):
                    self._guest_wake.set()  # the guest sends them when its poll returns
                elif events or busy or self._closing or self._credits_due:
                    if self._guest_using:
                        self._reclaim = True
                        self._guest_wake.set()
                    else:
                        self._guest = None
            if self._guest is not None:
                return True
        # The wake just read may have been for the loop that runs now (credits due, a thread
        # asking for the socket): it looks once more before it sleeps.
        self._wake.set()
        return False

    def _lend_locked(self) -> None:
        """Lend the socket to the thread that asked, if nothing here needs it (the lock held)."""
        wanted = self._guest_wanted
        if wanted is None:
            return
        self._guest_wanted = None
        if self._closing or self._credits_due or self._monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            return  # it waits the usual way and asks again after its next wake
        self._guest = wanted
        self._guest_since = time.monotonic()
        self._guest_wake.set()

    def _run(self) -> None:
        sock, monitor, wake_fd = self._sock, self._monitor, self._wake.read_fd
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        poller.register(wake_fd, zmq.POLLIN)
        lent_poller = zmq.Poller()
        lent_poller.register(monitor, zmq.POLLIN)
        lent_poller.register(wake_fd, zmq.POLLIN)
        wake_poller = zmq.Poller()
        wake_poller.register(wake_fd, zmq.POLLIN)
        said_bye = False
        lost: list[InboundLink] = []
        timeout: int | None = None
        while True:
            if self._lent(lent_poller, wake_poller):
                continue
            data = events = False
            for item, _ in poller.poll(timeout):
                if item is sock:
                    data = True
                elif item is monitor:
                    events = True
                else:
                    self._wake.clear()
            if events:
                # Every frame first: a sender's last messages and BYE come before its disconnect.
                while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    failed = self._receive_one(sock)
                    if failed is not None:
                        lost.append(failed)
                lost.extend(self._read_monitor())
            elif data:
                # One message per poll: asking the socket again costs no more than this poll
                # does, and a poll never raises, unlike a receive on an empty socket.
                failed = self._receive_one(sock)
                if failed is not None:
                    lost.append(failed)
            if self._credits_due:
                self._send_credits()
            if lost:
                for link in lost:
                    if link.on_lost is not None and link.failure is not None:
                        link.on_lost(link.failure)
                lost.clear()
            if self._guest_wanted is not None:
                with self._lock:
                    self._lend_locked()
            if self._closing:
                if not said_bye:
                    said_bye = True
                    for link in self._links.values():
                        if link.connected and link.failure is None and not link.bye:
                            self._send(link, _header(BYE, 0, 0))
                waiting = [
                    link
                    for link in self._links.values()
                    if link.connected and link.failure is None and not link.bye
                ]
                if not waiting or time.monotonic() >= self._close_deadline:
                    return
                timeout = max(0, int((self._close_deadline - time.monotonic()) * 1000))

    def _send(self, link: InboundLink, frame: bytes) -> None:
        assert link.routing_id is not None
        try:
            self._sock.send(link.routing_id, _NOBLOCK_MORE)
            self._sock.send(frame, _NOBLOCK)
        except zmq.ZMQError as error:
            self._fail(link, f"cannot answer: {error.strerror}")

    def _send_credits(self) -> None:
        with self._lock:
            due = []
            for link, edge_id in self._credits_due:
                edge = link.edges[edge_id]
                if edge.pending_credit:
                    due.append((link, edge_id, edge.pending_credit))
                    edge.credited += edge.pending_credit
                    edge.pending_credit = 0
                    edge.pending_bytes = 0
            self._credits_due.clear()
        for link, edge_id, count in due:
            if link.connected and link.failure is None and not link.bye:
                self._send(link, _PACK(MAGIC, VERSION, CREDIT, edge_id, count, 0))

    def _fail(self, link: InboundLink, reason: str, cause: BaseException | None = None) -> InboundLink | None:
        if link.failure is not None:
            return None
        link.failure = DistributedError(f"data link {link.link_id!r}: {reason}")
        link.failure.__cause__ = cause
        return link

    def _read_monitor(self) -> list[InboundLink]:
        lost = []
        while self._monitor.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            event, value = read_monitor_event(self._monitor)
            if self.counter.on_event(event, value):
                link = self._by_fd.pop(value, None)
                if link is not None and not link.bye:
                    failed = self._fail(link, "the sender disconnected (process ended or heartbeat lost)")
                    if failed is not None:
                        lost.append(failed)
        return lost

    def _receive_one(self, sock: zmq.Socket[Any]) -> InboundLink | None:
        """Receive and handle one message (the poll said one is there)."""
        # A ROUTER prefixes every message with the peer's routing id, and a message has at least
        # one frame after it.
        routing_id = sock.recv(_NOBLOCK)
        link = self._by_routing.get(routing_id)
        frame: zmq.Frame | None = None
        head: bytes | memoryview
        if link is None:  # a new connection's HELLO: its frame carries the peer's credentials
            frame = sock.recv(_NOBLOCK, copy=False)
            head = frame.buffer
        else:  # the header and body (buffers, the large parts, come as frames of their own)
            head = sock.recv(_NOBLOCK)
        buffers: list[memoryview] = []
        more = sock.getsockopt(zmq.RCVMORE) if frame is None else frame.more
        while more:
            part = sock.recv(_NOBLOCK, copy=False)
            buffers.append(part.buffer)
            more = part.more
        if len(head) < HEADER.size:
            return None if link is None else self._fail(link, "truncated frame header")
        magic, version, kind, edge_id, seq, body_len = _UNPACK_FROM(head)
        if magic != MAGIC or version != VERSION or body_len != len(head) - HEADER.size:
            return None if link is None else self._fail(link, "malformed frame header")
        if link is None:
            if kind == HELLO and frame is not None:
                return self._welcome(routing_id, frame)
            return None
        if link.failure is not None:
            return None
        if kind == DATA:
            return self._deliver(link, edge_id, seq, head[HEADER.size :], buffers)
        if kind == BATCH and not buffers:
            return self._deliver_batch(link, head, seq)
        if kind == BYE:
            link.bye = True
            if not self._closing:
                self._send(link, _header(BYE, 0, 0))
            return None
        return self._fail(link, f"unexpected frame kind {kind}")

    def _welcome(self, routing_id: bytes, frame: zmq.Frame) -> InboundLink | None:
        link_id = str(frame.get("User-Id"))
        link = self._links.get(link_id)
        if link is None or link.connected:
            return None
        link.routing_id = routing_id
        link.fd = frame.get(zmq.SRCFD)
        self._by_routing[routing_id] = link
        self._by_fd[link.fd] = link
        self.counter.admit(link.fd)
        self._send(link, _header(HELLO, 0, 0))
        return None

    def _deliver_batch(self, link: InboundLink, frame: bytes | memoryview, count: int) -> InboundLink | None:
        """Deliver the ``count`` messages of a ``BATCH`` frame, in order; the messages of one
        edge in a row go to ``on_messages`` together when the link has it."""
        run_edge = -1
        run: list[Any] = []
        failed: InboundLink | None = None
        try:
            for edge_id, seq, body in batch_entries(bytes(frame), count):
                if edge_id != run_edge and run:
                    failed = self._hand_over(link, run_edge, run)
                    run = []
                    if failed is not None:
                        return failed
                run_edge = edge_id
                run.append(self._accept(link, edge_id, seq, body, ()))
        except _Refused as refused:
            failed = refused.link
        except ValueError as error:
            failed = self._fail(link, str(error))
        if run:
            handed = self._hand_over(link, run_edge, run)
            failed = failed or handed
        return failed

    def _hand_over(self, link: InboundLink, edge_id: int, messages: list[Any]) -> InboundLink | None:
        try:
            if link.on_messages is not None:
                link.on_messages(edge_id, messages)
            else:
                for message in messages:
                    link.on_message(edge_id, message)
        except Exception as error:
            return self._fail(link, f"edge {edge_id}: the receiver failed on a message: {error!r}", error)
        return None

    def _deliver(
        self, link: InboundLink, edge_id: int, seq: int, body: bytes | memoryview, buffers: list[memoryview]
    ) -> InboundLink | None:
        try:
            message = self._accept(link, edge_id, seq, body, buffers)
        except _Refused as refused:
            return refused.link
        try:
            link.on_message(edge_id, message)
        except Exception as error:
            return self._fail(link, f"edge {edge_id}: the receiver failed on message {seq}: {error!r}", error)
        return None

    def _accept(
        self, link: InboundLink, edge_id: int, seq: int, body: bytes | memoryview, buffers: Sequence[Any]
    ) -> Any:
        """Check message ``seq`` of ``edge_id`` and decode it; returns the message. Raises
        :class:`_Refused` when the message fails the link."""
        edge = link.edges.get(edge_id)
        if edge is None:
            raise _Refused(self._fail(link, f"message for edge {edge_id}, which this link does not carry"))
        if seq != edge.expected:
            what = "a gap" if seq > edge.expected else "a duplicate"
            reason = f"edge {edge_id}: expected message {edge.expected}, got {seq} ({what})"
            raise _Refused(self._fail(link, reason))
        edge.expected = seq + 1
        if edge.window and seq + 1 - edge.credited > edge.window:
            reason = f"edge {edge_id}: the sender exceeded its window of {edge.window}"
            raise _Refused(self._fail(link, reason))
        if edge.credit_bytes:
            edge.sizes.append(len(body) + sum(len(buffer) for buffer in buffers))
        try:
            message = self._decode([body, *buffers])
        except Exception as error:
            reason = f"edge {edge_id}: message {seq} does not decode: {error}"
            raise _Refused(self._fail(link, reason, error)) from None
        link.received[edge_id] += 1
        return message
