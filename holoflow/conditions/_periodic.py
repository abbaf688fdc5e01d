"""``PeriodicCondition``: run an operator at most once per period."""

from __future__ import annotations

import datetime
import enum
import math
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
    recess_period : int, float, datetime.timedelta or str
        Nanoseconds (int), seconds (float, as Holoscan reads one), a timedelta, or a string such
        as ``"10ms"`` or ``"30Hz"``.
    policy : PeriodicConditionPolicy or str
        What to do after missed ticks (default ``CATCH_UP_MISSED_TICKS``); also by Holoscan's
        names ``"CatchUpMissedTicks"``, ``"MinTimeBetweenTicks"``, ``"NoCatchUpMissedTicks"``.
    """

    condition_type = ConditionType.PERIODIC

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        recess_period: int | float | str | datetime.timedelta,
        policy: PeriodicConditionPolicy | str = PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS,
        name: str = "periodic_condition",
    ) -> None:
        super().__init__(fragment, name=name)
        self._period_ns = _period_ns(recess_period)
        self.policy = _policy(self._label(), policy)
        self._target: int | None = None
        self._last_run: int | None = None

    def recess_period(self, period: int | float | str | datetime.timedelta) -> None:
        """Change the period."""
        self._period_ns = _period_ns(period)

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


def _period_ns(period: int | float | str | datetime.timedelta) -> int:
    # Holoscan's binding turns a float into a timedelta: seconds. An int stays nanoseconds.
    if isinstance(period, float):
        ns = round(period * 1e9) if math.isfinite(period) else 0
        if ns <= 0:
            raise ValueError(f"period must be a finite number of seconds > 0, got {period!r}")
        return ns
    return parse_period_ns(period)


_POLICY_NAMES = {
    "catchupmissedticks": PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS,
    "mintimebetweenticks": PeriodicConditionPolicy.MIN_TIME_BETWEEN_TICKS,
    "nocatchupmissedticks": PeriodicConditionPolicy.NO_CATCH_UP_MISSED_TICKS,
}


def _policy(label: str, policy: PeriodicConditionPolicy | str) -> PeriodicConditionPolicy:
    """A policy from the enum, its member name, or Holoscan's CamelCase name.

    Raises
    ------
    ValueError
        For an unknown name (Holoscan silently falls back to catching up).
    """
    if not isinstance(policy, str):
        return PeriodicConditionPolicy(policy)
    found = _POLICY_NAMES.get(policy.replace("_", "").lower())
    if found is None:
        raise ValueError(
            f"{label}: unknown policy {policy!r}; use a PeriodicConditionPolicy or one of "
            '"CatchUpMissedTicks", "MinTimeBetweenTicks", "NoCatchUpMissedTicks"'
        )
    return found
