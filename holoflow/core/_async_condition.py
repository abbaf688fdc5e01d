"""``AsynchronousCondition``: an operator driven by events from outside the scheduler.

It lives in the core because every operator owns one during a run (``Operator.async_condition``,
the condition ``Operator.stop_execution`` sets to ``EVENT_NEVER``); ``holoflow.conditions``
re-exports it under Holoscan's path.
"""

from __future__ import annotations

import enum
import threading
from typing import TYPE_CHECKING

from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._subgraph import Subgraph

__all__ = ["INTERNAL_ASYNC_CONDITION_NAME", "AsynchronousCondition", "AsynchronousEventState"]

INTERNAL_ASYNC_CONDITION_NAME = "_internal_async_condition"
"""The name of the asynchronous condition each operator gets for a run (Holoscan's name)."""


class AsynchronousEventState(enum.Enum):
    """States of an :class:`AsynchronousCondition`."""

    READY = 0
    """Ready, like no condition at all."""
    WAIT = 1
    """Not ready; nothing will notify."""
    EVENT_WAITING = 2
    """Waiting for an outside event."""
    EVENT_DONE = 3
    """The event happened: ready once, then back to EVENT_WAITING."""
    EVENT_NEVER = 4
    """No more events: the operator is finished."""


_STATUS = {
    AsynchronousEventState.READY: (SchedulingStatusType.READY, None),
    AsynchronousEventState.WAIT: (SchedulingStatusType.WAIT, None),
    AsynchronousEventState.EVENT_WAITING: (SchedulingStatusType.WAIT_EVENT, None),
    AsynchronousEventState.EVENT_DONE: (SchedulingStatusType.READY, None),
    AsynchronousEventState.EVENT_NEVER: (SchedulingStatusType.NEVER, None),
}


class AsynchronousCondition(Condition):
    """Readiness set by another thread through :attr:`event_state`.

    A thread (socket reader, device callback) sets ``event_state = EVENT_DONE`` when data is
    there; the scheduler wakes at once and runs the operator, after which the state returns to
    ``EVENT_WAITING``. ``EVENT_NEVER`` ends the operator.
    """

    condition_type = ConditionType.ASYNCHRONOUS

    def __init__(self, fragment: Fragment | Subgraph, name: str = "async_condition") -> None:
        super().__init__(fragment, name=name)
        self._state = AsynchronousEventState.READY
        self._lock = threading.Lock()
        # Each assignment bumps the generation, so that on_execute consumes only the event it
        # ran for and never one that arrived while compute was running.
        self._generation = 0
        self._ran_for = -1

    @property
    def event_state(self) -> AsynchronousEventState:
        """The current state; setting it wakes the scheduler."""
        return self._state

    @event_state.setter
    def event_state(self, state: AsynchronousEventState) -> None:
        with self._lock:
            self._state = AsynchronousEventState(state)
            self._generation += 1
        self.notify()

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        with self._lock:
            self._ran_for = self._generation
            return _STATUS[self._state]

    def on_execute(self, timestamp: int) -> None:
        with self._lock:
            if self._state is AsynchronousEventState.EVENT_DONE and self._generation == self._ran_for:
                self._state = AsynchronousEventState.EVENT_WAITING
