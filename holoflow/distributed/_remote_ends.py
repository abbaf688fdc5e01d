"""The two ends of an edge whose fragments run in different processes.

:class:`RemoteOutbound` is appended to the producing output's transmitter, like a receiver: its
``push`` encodes the message (a message the codec cannot carry fails the ``emit``, naming the
operator and port) and sends it on the :class:`~holoflow.distributed._zmq_links.DataLink` to the
consumer's process. Its ``queue`` has the length of the messages in flight (sent, not yet
consumed) and its ``capacity`` is the edge's window, so the producer's unchanged room check
(``len(queue) + reserved + n <= capacity``) stops it while the window is full; credits coming
back wake it.

:class:`RemoteInbound` takes the messages the process's data listener decodes for the edge and
puts them into the consuming port's queue while it has room, staging the rest (at most a window:
the sender cannot have more in flight). After each run of the consumer it refills the queue from
the stage and returns what was consumed to the sender as credits.

Both keep the per-edge counts the end-of-run check reads (``sent``, ``arrivals``), and both
have the ``spec`` and the methods :class:`~holoflow.distributed._local.LocalEdges` expects of a
link.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from holoflow.distributed._codec import encode
from holoflow.distributed._edges import EdgeSpec

if TYPE_CHECKING:
    from holoflow.core.run import Receiver
    from holoflow.distributed._cuda_ipc import IpcExporter
    from holoflow.distributed._local import LocalEdges
    from holoflow.distributed._zmq_links import DataLink, InboundLink

__all__ = ["DEFAULT_BYTE_BUDGET", "RemoteInbound", "RemoteOutbound"]

DEFAULT_BYTE_BUDGET = 256 << 20
"""Bytes one edge may have in flight by default (``HOLOFLOW_EDGE_WINDOW_BYTES``)."""


class _InFlight:
    """A sized view: the messages of one edge sent and not yet credited back; as long as the
    window when their bytes reach ``byte_budget`` (so the producer waits either way)."""

    __slots__ = ("byte_budget", "edge_id", "in_bytes", "link", "sizes", "window")

    def __init__(self, link: DataLink, edge_id: int, window: int, byte_budget: int) -> None:
        self.link = link
        self.edge_id = edge_id
        self.window = window
        self.byte_budget = byte_budget
        self.sizes: deque[int] = deque()
        """The sizes of the messages in flight, oldest first (credits retire the oldest)."""
        self.in_bytes = 0

    def sent(self, nbytes: int) -> None:
        self.sizes.append(nbytes)
        self.in_bytes += nbytes

    def __len__(self) -> int:
        count = self.link.in_flight(self.edge_id)
        sizes = self.sizes
        while len(sizes) > count:
            self.in_bytes -= sizes.popleft()
        return count if self.in_bytes < self.byte_budget else max(count, self.window)


class RemoteOutbound:
    """The sending end of one edge to another process.

    Parameters
    ----------
    spec : EdgeSpec
        The edge (its ``window`` bounds the messages in flight; at least 1).
    link : DataLink
        The link to the consumer's process that carries the edge.
    producer : LocalEdges
        The producing fragment's edges (woken when credits come back).
    exporter : IpcExporter, optional
        Sends CUDA arrays by CUDA IPC (``window`` slots); without one they are staged through
        the host.
    byte_budget : int
        The producer also waits while this many bytes are in flight (a window of large
        messages would otherwise hold ``window`` times their size).
    """

    __slots__ = ("exporter", "link", "outbound", "producer", "queue", "reserved", "sent", "spec", "where")

    external = True
    tracks_arrivals = True  # the transmitter hands over one message at a time, by push

    def __init__(
        self,
        spec: EdgeSpec,
        link: DataLink,
        producer: LocalEdges,
        exporter: IpcExporter | None = None,
        byte_budget: int = DEFAULT_BYTE_BUDGET,
    ) -> None:
        self.spec = spec
        self.exporter = exporter
        self.link = link
        self.producer = producer
        self.queue = _InFlight(link, spec.edge_id, spec.window, byte_budget)
        self.reserved = 0
        self.sent = 0
        self.outbound = self
        _, op, port = spec.src
        self.where = f"operator '{op}' output port '{port}'"

    @property
    def capacity(self) -> int:
        return self.spec.window

    @property
    def credits_received(self) -> int:
        """Messages the consumer has credited back."""
        return self.link.sent(self.spec.edge_id) - self.link.in_flight(self.spec.edge_id)

    def push(self, message: Any, now: int) -> None:  # noqa: ARG002 (a receiver's signature)
        """Encode ``message`` and send it (raises ``CodecError`` naming the port, or the link's
        ``DistributedError`` once it failed)."""
        edge_id = self.spec.edge_id
        exporter = self.exporter
        if exporter is not None and self.link.has_credit(edge_id):
            # The message's slot is free only while the window has room (else send refuses it).
            exporter.begin(self.link.sent(edge_id))
            frames = encode(message, where=self.where, cuda_export=exporter)
        else:
            frames = encode(message, where=self.where)
        self.link.send(edge_id, frames)
        self.queue.sent(sum(memoryview(frame).nbytes for frame in frames))
        self.sent += 1

    def flush(self) -> None:
        """Send what waits in the link's batch (the producing fragment has nothing else to do)."""
        self.link.flush()

    def credited(self) -> None:
        """Credits came back (the link's thread): wake the producer."""
        self.producer.poke(self.spec.src[1])

    def close(self) -> None:
        """The link is closed by its owner; the CUDA IPC slots are freed."""
        if self.exporter is not None:
            self.exporter.close()


class RemoteInbound:
    """The receiving end of one edge from another process.

    Parameters
    ----------
    spec : EdgeSpec
        The edge.
    consumer : LocalEdges
        The consuming fragment's edges.
    """

    def __init__(self, spec: EdgeSpec, consumer: LocalEdges) -> None:
        self.spec = spec
        self.consumer = consumer
        self.link: InboundLink | None = None
        self.lock = threading.Lock()
        self.receiver: Receiver | None = None
        self.staged: deque[tuple[int, Any]] = deque()
        self.arrivals = 0
        """Messages that reached this process (in the queue, staged or consumed)."""
        self.credits_sent = 0
        """Messages consumed and returned to the sender as credits (some may wait in the
        listener for a batch: :meth:`flush_credits` sends them)."""

    def deliver(self, message: Any) -> None:
        """A message arrived (the listener's thread): queue or stage it, wake the consumer."""
        consumer = self.consumer
        consumer.arriving()
        now = time.monotonic_ns()
        with self.lock:
            receiver = self.receiver
            if receiver is not None and not self.staged and len(receiver.queue) < receiver.capacity:
                receiver.push(message, now)
            else:
                self.staged.append((now, message))
            self.arrivals += 1
        consumer.arrived(self.spec.dst[1])

    def deliver_many(self, messages: list[Any]) -> None:
        """Messages arrived together (the listener's thread): as :meth:`deliver`, with one wake."""
        consumer = self.consumer
        consumer.arriving()
        now = time.monotonic_ns()
        with self.lock:
            receiver = self.receiver
            staged = self.staged
            taken = 0
            if receiver is not None and not staged:
                taken = max(0, min(len(messages), receiver.capacity - len(receiver.queue)))
                push = receiver.push
                for message in messages[:taken]:
                    push(message, now)
            if taken < len(messages):
                staged.extend([(now, message) for message in messages[taken:]])
            self.arrivals += len(messages)
        consumer.arrived(self.spec.dst[1])

    def bind(self, receiver: Receiver) -> None:
        """Take the consuming port's receiver (when the fragment's run is built)."""
        with self.lock:
            self.receiver = receiver
            self._refill(receiver)

    def _refill(self, receiver: Receiver) -> None:
        staged = self.staged
        while staged and len(receiver.queue) < receiver.capacity:
            now, message = staged.popleft()
            receiver.push(message, now)

    def consumed(self) -> None:
        """The consumer ran: refill its queue from the stage, credit what it consumed.

        Runs in the consumer's commit, after which every scheduler evaluates the consumer again:
        what the refill moved needs no wake."""
        with self.lock:
            receiver = self.receiver
            if receiver is None:
                return
            self._refill(receiver)
            waiting = len(self.staged) + len(receiver.queue)
            taken = self.arrivals - waiting
            count = taken - self.credits_sent
            self.credits_sent = taken
        if count and self.link is not None:
            # Batched (a quarter window at a time); a passive consumer flushes the rest.
            self.link.credit(self.spec.edge_id, count)

    def flush_credits(self) -> None:
        """Send the credits waiting for a batch now."""
        if self.link is not None:
            self.link.credit(self.spec.edge_id, 0, flush=True)
