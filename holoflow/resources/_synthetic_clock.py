"""``SyntheticClock``: a clock whose time moves only when the application moves it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from holoflow.core import Clock

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["SyntheticClock"]

_POLL_S = 0.002
"""How often a threaded scheduler re-reads a synthetic clock it waits on (real seconds)."""


class SyntheticClock(Clock):
    """Time that flows as the application says: from a recording's timestamps, a simulation's
    steps, a test's script. It starts at ``initial_timestamp`` and moves only by
    :meth:`advance_to` / :meth:`advance_by` (never backwards); waiting on it
    (``sleep_until``, a scheduler waiting for a periodic operator) blocks until another thread
    advances it far enough. Under ``GreedyScheduler`` an advance wakes the waiting scheduler at
    once; threaded schedulers re-read the clock every 2 ms while they wait on it.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    initial_timestamp : int
        The time it starts at, in ns.
    name : str
        The clock's name.
    """

    _default_name = "synthetic_clock"

    def __init__(
        self, fragment: Fragment | Subgraph, initial_timestamp: int = 0, name: str = "synthetic_clock"
    ) -> None:
        super().__init__(fragment, name=name)
        self._now = int(initial_timestamp)
        self._moved = threading.Condition()
        self._wakes: set[threading.Event] = set()

    def timestamp(self) -> int:
        return self._now

    def advance_to(self, new_time_ns: int) -> None:
        """Move the clock to ``new_time_ns`` (an earlier time leaves it where it is) and wake
        whoever waits on it."""
        with self._moved:
            self._now = max(self._now, int(new_time_ns))
            wakes = list(self._wakes)
            self._moved.notify_all()
        for wake in wakes:
            wake.set()

    def advance_by(self, time_delta_ns: int) -> None:
        """Move the clock forward by ``time_delta_ns`` (>= 0).

        Raises
        ------
        ValueError
            If ``time_delta_ns`` is negative.
        """
        if int(time_delta_ns) < 0:
            raise ValueError(f"{self._label()}: cannot move time backwards by {time_delta_ns} ns")
        with self._moved:
            target = self._now + int(time_delta_ns)
        self.advance_to(target)

    def wait_until(self, target_ns: int, wake: threading.Event) -> None:
        """Block until the clock reads ``target_ns`` (someone advanced it) or ``wake`` is set."""
        with self._moved:
            self._wakes.add(wake)
        try:
            while self._now < target_ns and not wake.is_set():
                wake.wait()
        finally:
            with self._moved:
                self._wakes.discard(wake)

    def sleep_until(self, target_time_ns: int) -> None:
        """Block until another thread advances the clock to ``target_time_ns``."""
        with self._moved:
            self._moved.wait_for(lambda: self._now >= target_time_ns)

    def seconds_until(self, target_ns: int) -> float:
        """0 when the clock reads ``target_ns``; else a short real delay after which to look
        again (nobody knows when synthetic time will move)."""
        return 0.0 if self._now >= target_ns else _POLL_S
