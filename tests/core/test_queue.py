"""Receiver and Transmitter: bounded FIFO, policies, statistics, delivery."""

from __future__ import annotations

import pytest

from holoflow.core import QueuePolicy, QueueStatistics, Receiver, Transmitter
from holoflow.errors import SchedulingError


@pytest.mark.parametrize(
    ("policy", "kept", "dropped"), [(QueuePolicy.POP, [2, 3], 2), (QueuePolicy.REJECT, [0, 1], 2)]
)
def test_receiver_policies(policy, kept, dropped):
    receiver = Receiver("rx", 2, policy)
    for i in range(4):
        receiver.push(i, now=0)
    assert list(receiver.queue) == kept
    assert receiver.statistics() == QueueStatistics(size=2, capacity=2, dropped=dropped)


def test_receiver_fault():
    receiver = Receiver("operator 'rx': input port 'in'", 1, QueuePolicy.FAULT)
    receiver.push("a", 0)
    with pytest.raises(SchedulingError, match="queue full"):
        receiver.push("b", 0)
    assert receiver.pop() == "a"
    assert receiver.pop() is None


def test_arrival_times_follow_pops():
    receiver = Receiver("rx", 3, QueuePolicy.POP, track_arrivals=True)
    assert receiver.oldest_arrival() is None
    for t in (10, 20, 30, 40):
        receiver.push(f"m{t}", now=t)
    assert receiver.oldest_arrival() == 20
    assert receiver.pop() == "m20"
    assert receiver.oldest_arrival() == 30
    receiver.clear()
    assert receiver.size == 0
    assert receiver.oldest_arrival() is None


def test_transmitter_delivers_to_every_receiver_in_order():
    a, b = Receiver("a", 4, QueuePolicy.FAULT), Receiver("b", 1, QueuePolicy.POP)
    tx = Transmitter("tx", 2, QueuePolicy.FAULT)
    tx.receivers += [a, b]
    tx.pending += ["x", "y"]
    tx.deliver(now=0)
    assert list(a.queue) == ["x", "y"]
    assert list(b.queue) == ["y"] and b.dropped == 1
    assert tx.size == 0 and tx.statistics().capacity == 2
