"""A thread waiting on :meth:`DataListener.idle_event` receives for the listener meanwhile.

Real sockets on 127.0.0.1: who delivers each message (the waiting thread or the listener's),
the order, the credits that go back from the waiting thread, the hand-back when the waiter gets
busy, and closing while a thread holds the socket.
"""

from __future__ import annotations

import threading
import time

import pytest

from holoflow.distributed._codec import encode

pytest.importorskip("zmq")

LISTENER_THREAD = "holoflow-data-listener"


class Consumer:
    """Records ``(seq, thread name)`` per message, credits it, and sets the waiter's event (as
    a fragment's inbound end wakes its scheduler)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []
        self.link = None
        self.event: threading.Event | None = None
        self.arrived = threading.Condition()

    def on_message(self, edge_id: int, message: int) -> None:
        with self.arrived:
            self.items.append((message, threading.current_thread().name))
            self.arrived.notify_all()
        self.link.credit(edge_id, flush=True)
        if self.event is not None:
            self.event.set()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.items) >= count, timeout), self.items[-5:]


def _setup(links, window=1):
    listener = links.listener()
    consumer = Consumer()
    token = links.token()
    consumer.link = listener.expect("peer>me", token, {0: window}, consumer.on_message)
    link = links.link(listener, "peer>me", token, {0: window})
    link.wait_ready(5)
    return listener, consumer, link


def _send(link, seq):
    while not link.has_credit(0):
        link.wait_credit(0, 10)
    link.send(0, encode(seq))


class Waiter(threading.Thread):
    """Waits on the idle event until told to stop; pauses (busy, not waiting) while ``busy``.

    A context manager: started on entry, stopped and joined on exit."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__(name="waiter", daemon=True)
        self.event = event
        self.done = threading.Event()
        self.busy = threading.Event()
        self.resume = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            if self.busy.is_set():
                self.resume.wait()
                self.busy.clear()
            self.event.wait(0.2)
            self.event.clear()

    def __enter__(self) -> Waiter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done.set()
        self.resume.set()
        self.event.set()
        self.join(10)


def test_the_waiting_thread_receives_every_message_once_in_order_and_credits_them(links):
    listener, consumer, link = _setup(links, window=1)
    consumer.event = listener.idle_event()
    with Waiter(consumer.event):
        for seq in range(200):
            _send(link, seq)  # a window of 1: each send waits for the last message's credit
        consumer.wait_for(200)
    assert [seq for seq, _ in consumer.items] == list(range(200))
    threads = {name for _, name in consumer.items}
    assert "waiter" in threads  # the waiting thread took messages itself
    assert threads <= {"waiter", LISTENER_THREAD}
    deadline = time.monotonic() + 10
    while link.in_flight(0) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert link.in_flight(0) == 0  # every credit came back


def test_a_busy_waiter_gives_the_socket_back_to_the_listener(links):
    listener, consumer, link = _setup(links, window=4)
    consumer.event = event = listener.idle_event()
    with Waiter(event) as waiter:
        seq = 0
        while "waiter" not in {name for _, name in consumer.items}:  # until the waiter holds it
            _send(link, seq)
            seq += 1
            consumer.wait_for(seq)
        waiter.busy.set()
        event.set()  # the waiter leaves its wait and stays away
        time.sleep(0.1)
        before = len(consumer.items)
        for more in range(seq, seq + 20):
            _send(link, more)
        consumer.wait_for(seq + 20)  # delivered while the waiter is away
        assert {name for _, name in consumer.items[before:]} == {LISTENER_THREAD}
        waiter.resume.set()
    assert [seq for seq, _ in consumer.items] == list(range(seq + 20))


def test_closing_the_listener_while_a_thread_holds_its_socket(links):
    listener, consumer, link = _setup(links, window=4)
    consumer.event = event = listener.idle_event()
    woken = threading.Event()

    def wait_for_ever():
        event.wait()  # no timeout: holds the socket while it waits
        woken.set()

    seq = 0
    while "waiter" not in {name for _, name in consumer.items}:
        thread = threading.Thread(target=wait_for_ever, name="waiter", daemon=True)
        thread.start()
        _send(link, seq)
        seq += 1
        consumer.wait_for(seq)
        thread.join(10)
        assert woken.is_set()
        woken.clear()
        event.clear()
    thread = threading.Thread(target=wait_for_ever, name="waiter", daemon=True)
    thread.start()
    time.sleep(0.05)  # let it take the socket and poll
    link.close(timeout=2)
    started = time.monotonic()
    listener.close(timeout=2)
    assert time.monotonic() - started < 2
    assert not woken.is_set()  # it waits on, as on a plain event
    event.set()
    thread.join(10)
    assert woken.is_set()
    event.clear()
    assert not event.wait(0.01)  # the closed listener leaves a plain event behind
