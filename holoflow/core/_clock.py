"""Clocks: the time source a scheduler and its conditions read (nanosecond timestamps)."""

from __future__ import annotations

import builtins
import datetime
import threading
import time
from typing import TYPE_CHECKING, TypeVar

from holoflow._helpers import parse_period_ns
from holoflow.core._interruptible import wait_interruptibly
from holoflow.core._resource import Resource

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._subgraph import Subgraph

__all__ = ["Clock", "ManualClock", "RealtimeClock"]

_C = TypeVar("_C", bound="Clock")


class Clock(Resource):
    """Base class of clocks. Subclasses implement :meth:`timestamp` and :meth:`wait_until`."""

    _default_name = "clock"
    jumps_when_idle = False
    """Whether waiting makes time jump to the target instead of passing (manual clocks)."""

    def timestamp(self) -> int:
        """Current time in nanoseconds."""
        raise NotImplementedError(f"{type(self).__name__} must implement timestamp()")

    def time(self) -> float:
        """Current time in seconds."""
        return self.timestamp() / 1e9

    def wait_until(self, target_ns: int, wake: threading.Event) -> None:
        """Block until ``target_ns`` or until ``wake`` is set, whichever comes first."""
        raise NotImplementedError(f"{type(self).__name__} must implement wait_until()")

    def seconds_until(self, target_ns: int) -> float:
        """Real seconds until the clock reads ``target_ns`` (0 when already there)."""
        return max(target_ns - self.timestamp(), 0) / 1e9

    def sleep_until(self, target_time_ns: int) -> None:
        """Block until the clock reads ``target_time_ns``."""
        self.wait_until(target_time_ns, threading.Event())

    def sleep_for(self, duration: int | str | datetime.timedelta) -> None:
        """Block for ``duration`` (ns, timedelta or a string such as ``"10ms"``)."""
        self.sleep_until(self.timestamp() + parse_period_ns(duration))

    def cast_to(self, type: builtins.type[_C]) -> _C:  # Holoscan names the argument "type"
        """This clock as ``type`` (``RealtimeClock``, ``ManualClock``, ...), to reach the
        methods of that kind, as Holoscan's ``Clock.cast_to`` does.

        A holoflow clock is its own implementation, so this returns the clock itself.

        Raises
        ------
        TypeError
            If ``type`` is not a clock class, or the clock is not of that kind.
        """
        if not (isinstance(type, builtins.type) and issubclass(type, Clock)):
            raise TypeError(
                f"{self._label()}: cast_to() takes a clock class such as RealtimeClock or ManualClock, "
                f"not {type!r}"
            )
        if not isinstance(self, type):
            raise TypeError(
                f"{self._label()}: a {builtins.type(self).__name__} cannot be cast to {type.__name__}"
            )
        return self


class RealtimeClock(Clock):
    """Wall-clock time, optionally offset and scaled (a scale of 2 runs time twice as fast).

    Parameters
    ----------
    initial_time_offset : float
        Seconds added to the clock's start.
    initial_time_scale : float
        Speed of the clock relative to real time (> 0).
    use_time_since_epoch : bool
        Start from the Unix epoch rather than from 0.
    """

    _default_name = "realtime_clock"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        initial_time_offset: float = 0.0,
        initial_time_scale: float = 1.0,
        use_time_since_epoch: bool = False,
        name: str = "realtime_clock",
    ) -> None:
        super().__init__(fragment, name=name)
        self._lock = threading.Lock()
        self._origin_real = time.monotonic_ns()
        origin = time.time_ns() if use_time_since_epoch else 0
        self._origin_clock = origin + round(initial_time_offset * 1e9)
        self._scale = 1.0
        self.set_time_scale(initial_time_scale)

    def set_time_scale(self, time_scale: float) -> None:
        """Change the speed of time from now on."""
        if not time_scale > 0:
            raise ValueError(f"{self._label()}: time scale must be > 0, got {time_scale}")
        with self._lock:
            now_real = time.monotonic_ns()
            self._origin_clock += round((now_real - self._origin_real) * self._scale)
            self._origin_real = now_real
            self._scale = float(time_scale)

    def timestamp(self) -> int:
        if self._scale == 1.0:
            return self._origin_clock + time.monotonic_ns() - self._origin_real
        return self._origin_clock + round((time.monotonic_ns() - self._origin_real) * self._scale)

    def seconds_until(self, target_ns: int) -> float:
        return max(target_ns - self.timestamp(), 0) / self._scale / 1e9

    def wait_until(self, target_ns: int, wake: threading.Event) -> None:
        remaining = self.seconds_until(target_ns)
        if remaining > 0:
            wait_interruptibly(wake, remaining)


class ManualClock(Clock):
    """A clock that only moves when someone waits on it: waiting jumps to the target at once.

    Periodic graphs run under it as fast as the machine allows while their conditions see the
    timestamps they would see in real time.
    """

    _default_name = "manual_clock"
    jumps_when_idle = True

    def __init__(
        self, fragment: Fragment | Subgraph, initial_timestamp: int = 0, name: str = "manual_clock"
    ) -> None:
        super().__init__(fragment, name=name)
        self._now = int(initial_timestamp)

    def timestamp(self) -> int:
        return self._now

    def advance_to(self, new_time_ns: int) -> None:
        """Move the clock forward to ``new_time_ns`` (never backwards)."""
        self._now = max(self._now, int(new_time_ns))

    def wait_until(self, target_ns: int, wake: threading.Event) -> None:  # noqa: ARG002
        self.advance_to(target_ns)
