"""``EventDriver``: a thread that fires an ``AsynchronousCondition`` the way a device callback would."""

from __future__ import annotations

import threading
import time

from holoflow.conditions import AsynchronousCondition, AsynchronousEventState

__all__ = ["EventDriver"]


class EventDriver:
    """Fire ``condition`` ``count`` times from a thread of its own, then finish its operator.

    For each event the thread waits until the operator is waiting again (``EVENT_WAITING``),
    sleeps ``gap`` seconds, notes the time in :attr:`sent` and sets ``EVENT_DONE``; after the
    last one it sets ``EVENT_NEVER``. If the operator is not waiting for ``timeout`` seconds
    before an event is due, the thread gives up with ``EVENT_NEVER`` and says so in
    :attr:`timed_out`, so a test never hangs on it.

    Use it as a context manager around ``app.run()``: the thread starts on entry; on exit (the
    run is over, or failed) it stops waiting and is joined.
    """

    def __init__(
        self,
        condition: AsynchronousCondition,
        count: int,
        *,
        gap: float = 0.002,
        poll: float = 0.0002,
        timeout: float = 10.0,
    ) -> None:
        self.condition = condition
        self.count = count
        self.gap = gap
        self.poll = poll
        self.timeout = timeout
        self.sent: list[float] = []
        """``time.monotonic()`` when each event was set."""
        self.timed_out = False
        """Whether the operator stopped waiting before every event was sent."""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drive, name="holoflow-event-driver", daemon=True)

    def __enter__(self) -> EventDriver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _drive(self) -> None:
        condition = self.condition
        for _ in range(self.count):
            if not self._wait_for_waiting():
                self.timed_out = True
                break
            time.sleep(self.gap)
            self.sent.append(time.monotonic())
            condition.event_state = AsynchronousEventState.EVENT_DONE
        else:
            self._wait_for_waiting()  # the operator takes the last event before it is finished
        condition.event_state = AsynchronousEventState.EVENT_NEVER

    def _wait_for_waiting(self) -> bool:
        """Whether the operator is waiting again, before ``timeout`` or the end of the run."""
        deadline = time.monotonic() + self.timeout
        while self.condition.event_state is not AsynchronousEventState.EVENT_WAITING:
            if self._done.wait(self.poll) or time.monotonic() >= deadline:
                return False
        return True
