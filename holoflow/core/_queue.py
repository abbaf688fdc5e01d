"""Port queues: the bounded FIFO of an input port and the outbox of an output port.

A :class:`Receiver` holds at most ``capacity`` messages. Pushing into a full one applies its
policy: POP drops the oldest message, REJECT drops the new one, FAULT raises
:class:`~holoflow.errors.SchedulingError`. Default port conditions keep producers from ever
reaching a full queue (back-pressure), so a policy only acts when a user removed them.

A :class:`Transmitter` collects what ``compute`` emits on one output port (at most ``capacity``
messages per compute, by the same policies) and hands every message to every connected receiver
when the compute ends: fan-out shares the object, it never copies.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any

from holoflow.core._metadata import Envelope
from holoflow.errors import SchedulingError

__all__ = ["QueuePolicy", "QueueStatistics", "Receiver", "Transmitter"]


class QueuePolicy(enum.IntEnum):
    """What a full queue does with one more message."""

    POP = 0
    """Drop the oldest message to make room."""
    REJECT = 1
    """Drop the new message."""
    FAULT = 2
    """Raise ``SchedulingError``: the run stops."""


@dataclass(frozen=True, slots=True)
class QueueStatistics:
    """A snapshot of a queue's state."""

    size: int
    """Messages waiting now."""
    capacity: int
    """Most messages the queue holds."""
    dropped: int
    """Messages dropped by the POP or REJECT policy since the run started."""


class Receiver:
    """The queue of one input port (one per connection on an ``ANY_SIZE`` port).

    Only the owning operator pops; producers push when they commit. ``reserved`` counts slots
    promised to producers that are running now (threaded schedulers), so that back-pressure
    holds even when several producers feed one queue. A receiver that tracks arrival times
    stores ``(timestamp, message)`` pairs, so the two can never drift apart.
    """

    __slots__ = ("capacity", "dropped", "label", "policy", "queue", "reserved", "tracks_arrivals")

    def __init__(self, label: str, capacity: int, policy: QueuePolicy, track_arrivals: bool = False):
        self.label = label
        self.capacity = capacity
        self.policy = policy
        self.queue: deque[Any] = deque()
        self.tracks_arrivals = track_arrivals
        self.reserved = 0
        self.dropped = 0

    @property
    def size(self) -> int:
        """Messages waiting in the queue."""
        return len(self.queue)

    @property
    def back_size(self) -> int:
        """Messages not yet visible to the consumer: always 0, delivery happens after compute."""
        return 0

    def oldest_arrival(self) -> int | None:
        """When the oldest waiting message arrived, or was acquired if its sender gave an
        acquisition timestamp (tracking receivers); ``None`` when empty or not tracking."""
        queue = self.queue
        return queue[0][0] if queue and self.tracks_arrivals else None

    def push(self, message: Any, now: int) -> None:
        """Append ``message``, applying the policy when full."""
        queue = self.queue
        if len(queue) >= self.capacity:
            if self.policy is QueuePolicy.REJECT:
                self.dropped += 1
                return
            if self.policy is QueuePolicy.POP:
                self.dropped += 1
                queue.popleft()
            else:
                raise SchedulingError(
                    f"{self.label}: queue full ({self.capacity} message(s)) under the FAULT policy; "
                    "raise its capacity or use IOSpec.QueuePolicy.POP or REJECT"
                )
        if self.tracks_arrivals:
            # A message acquired earlier than it arrived ages from its acquisition.
            acquired = message.acq_timestamp if type(message) is Envelope else None
            queue.append((now if acquired is None else acquired, message))
        else:
            queue.append(message)

    def pop(self) -> Any:
        """Remove and return the oldest message, or ``None`` when empty; metadata that came with
        it is dropped (``InputContext.receive`` merges it into the operator's metadata)."""
        item = self.take()
        return item.message if type(item) is Envelope else item

    def take(self) -> Any:
        """Remove and return the oldest message as delivered (an ``Envelope`` when its sender
        attached metadata), or ``None`` when empty."""
        try:
            item = self.queue.popleft()
        except IndexError:
            return None
        return item[1] if self.tracks_arrivals else item

    def peek(self) -> list[Any]:
        """The waiting messages, oldest first, left in the queue (for conditions that look at
        what waits without taking it)."""
        items = list(self.queue)
        if self.tracks_arrivals:
            items = [item[1] for item in items]
        return [item.message if type(item) is Envelope else item for item in items]

    def clear(self) -> None:
        """Drop every waiting message (not counted as dropped)."""
        self.queue.clear()

    def statistics(self) -> QueueStatistics:
        """A snapshot of size, capacity and drops."""
        return QueueStatistics(len(self.queue), self.capacity, self.dropped)

    def __repr__(self) -> str:
        return f"<Receiver {self.label} {len(self.queue)}/{self.capacity}>"


class Transmitter:
    """The outbox of one output port and the receivers it feeds."""

    __slots__ = ("capacity", "dropped", "label", "pending", "policy", "receivers")

    def __init__(self, label: str, capacity: int, policy: QueuePolicy):
        self.label = label
        self.capacity = capacity
        self.policy = policy
        self.pending: list[Any] = []
        self.receivers: list[Receiver] = []
        self.dropped = 0

    @property
    def size(self) -> int:
        """Messages emitted in the current compute, not yet delivered."""
        return len(self.pending)

    def overflow(self, message: Any) -> None:
        """Apply the policy to one emit beyond ``capacity`` within one compute."""
        if self.policy is QueuePolicy.REJECT:
            self.dropped += 1
        elif self.policy is QueuePolicy.POP:
            self.dropped += 1
            del self.pending[0]
            self.pending.append(message)
        else:
            raise SchedulingError(
                f"{self.label}: emitted more than {self.capacity} message(s) in one compute under the "
                "FAULT policy; raise it with spec.output(...).connector(IOSpec.ConnectorType."
                "DOUBLE_BUFFER, capacity=N) and a matching DOWNSTREAM_MESSAGE_AFFORDABLE min_size"
            )

    def deliver(self, now: int) -> None:
        """Hand the pending messages to every receiver and clear the outbox."""
        pending = self.pending
        for receiver in self.receivers:
            queue = receiver.queue
            if not receiver.tracks_arrivals and len(queue) + len(pending) <= receiver.capacity:
                queue.extend(pending)
            else:
                for message in pending:
                    receiver.push(message, now)
        pending.clear()

    def statistics(self) -> QueueStatistics:
        """A snapshot of pending messages, capacity and drops."""
        return QueueStatistics(len(self.pending), self.capacity, self.dropped)

    def __repr__(self) -> str:
        return f"<Transmitter {self.label} -> {len(self.receivers)} receiver(s)>"
