"""``PeriodicCondition``: run an operator at most once per period."""

from __future__ import annotations

import datetime
import enum
from typing import TYPE_CHECKING

from holoflow._helpers import parse_period_ns
from holoflow.core import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["PeriodicCondition", "PeriodicConditionPolicy"]

_READY = (SchedulingStatusType.READY, None)


class PeriodicConditionPolicy(enum.Enum):
    """How a periodic operator treats ticks it missed."""

    CATCH_UP_MISSED_TICKS = 0
    """Targets stay on the grid start + k·period; late ticks run back to back."""
    MIN_TIME_BETWEEN_TICKS = 1
    """At least one period between the end of one tick and the next."""
    NO_CATCH_UP_MISSED_TICKS = 2
    """Stay on the grid, but skip the targets already missed."""


class PeriodicCondition(Condition):
    """Ready at most once per ``recess_period``; the first tick is immediate.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    recess_period : int, datetime.timedelta or str
        Nanoseconds, a timedelta, or a string such as ``"10ms"`` or ``"30Hz"``.
    policy : PeriodicConditionPolicy
        What to do after missed ticks (default ``CATCH_UP_MISSED_TICKS``).
    """

    condition_type = ConditionType.PERIODIC

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        recess_period: int | str | datetime.timedelta,
        policy: PeriodicConditionPolicy = PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS,
        name: str = "noname_periodic_condition",
    ) -> None:
        super().__init__(fragment, name=name)
        self._period_ns = parse_period_ns(recess_period)
        self.policy = PeriodicConditionPolicy(policy)
        self._target: int | None = None
        self._last_run: int | None = None

    def recess_period(self, period: int | str | datetime.timedelta) -> None:
        """Change the period."""
        self._period_ns = parse_period_ns(period)

    def recess_period_ns(self) -> int:
        """The period in nanoseconds."""
        return self._period_ns

    def last_run_timestamp(self) -> int | None:
        """Clock timestamp (ns) of the last tick in this run, or ``None``."""
        return self._last_run

    def reset(self) -> None:
        self._target = None
        self._last_run = None

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        target = self._target
        if target is None or timestamp >= target:
            return _READY
        return SchedulingStatusType.WAIT_TIME, target

    def on_execute(self, timestamp: int) -> None:
        period = self._period_ns
        previous = self._target
        self._last_run = timestamp
        if previous is None or self.policy is PeriodicConditionPolicy.MIN_TIME_BETWEEN_TICKS:
            self._target = timestamp + period
        elif self.policy is PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS:
            self._target = previous + period
        else:
            missed = max(0, (timestamp - previous) // period)
            self._target = previous + (missed + 1) * period
