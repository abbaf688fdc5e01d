"""The condition contract: what decides whether an operator may run now.

A condition answers ``check(timestamp) -> (SchedulingStatusType, target_timestamp | None)``
with timestamps in nanoseconds of the scheduler's clock. An operator is ready when every one of
its conditions is READY; it is finished for good as soon as one says NEVER. When several are not
ready, the strongest wins: NEVER > WAIT_EVENT > WAIT > WAIT_TIME > READY. As in GXF, each
evaluation calls ``update_state`` and then ``check`` on every condition of the operator, also
when an earlier one already said NEVER.

Conditions never block. One whose state changes from outside the scheduler's thread (an
asynchronous event, a boolean toggled from a callback) calls :meth:`Condition.notify` so that a
sleeping scheduler re-evaluates at once instead of polling.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from holoflow.core._component import Component
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._operator import Operator
    from holoflow.core._queue import Receiver, Transmitter
    from holoflow.core._subgraph import Subgraph

__all__ = ["Condition", "ConditionType", "SchedulingStatusType"]


class SchedulingStatusType(enum.Enum):
    """What a condition says about its operator (GXF's scheduling condition status)."""

    NEVER = 0
    """The operator will never run again."""
    READY = 1
    """The operator may run now."""
    WAIT = 2
    """Not now; another operator's progress may change that."""
    WAIT_TIME = 3
    """Ready at the target timestamp."""
    WAIT_EVENT = 4
    """Waiting for an outside event, which will notify the scheduler."""


class ConditionType(enum.Enum):
    """Kinds of conditions that can be attached to a port with ``IOSpec.condition``."""

    NONE = 0
    MESSAGE_AVAILABLE = 1
    DOWNSTREAM_MESSAGE_AFFORDABLE = 2
    COUNT = 3
    BOOLEAN = 4
    PERIODIC = 5
    ASYNCHRONOUS = 6
    EXPIRING_MESSAGE_AVAILABLE = 7
    MULTI_MESSAGE_AVAILABLE = 8
    MULTI_MESSAGE_AVAILABLE_TIMEOUT = 9


def _no_notify() -> None:
    pass


class Condition(Component):
    """Base class of conditions; subclass it to write your own.

    Override :meth:`check` (and, when useful, :meth:`update_state` and :meth:`on_execute`).
    Pass ``receiver_name="in"`` or ``transmitter_name="out"`` to bind the condition to a port
    of its operator: that port then gets no default condition, and :meth:`receiver` /
    :meth:`transmitter` return its queue during a run.
    """

    class ConditionComponentType(enum.Enum):
        """How a condition is implemented (holoflow's are all ``NATIVE``)."""

        NATIVE = 0
        GXF = 1

    _kind = "condition"
    _default_name = "noname_condition"
    condition_type: ConditionType | None = None
    _wait_deadline: ClassVar[bool] = False
    """Whether a WAIT this condition returns with a timestamp means "ready by then at the
    latest" (a timeout): the run re-evaluates the operator at that time, but, unlike a WAIT_TIME
    target, the deadline does not keep an otherwise idle run from counting as deadlocked. The
    timestamp of a WAIT from any other condition is ignored, as GXF ignores it."""

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        *args: Any,
        receiver_name: str | None = None,
        transmitter_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.receiver_name = receiver_name
        self.transmitter_name = transmitter_name
        self._operator: Operator | None = None
        self._notify: Callable[[], None] = _no_notify
        super().__init__(fragment, *args, **kwargs)

    # -- overridable ---------------------------------------------------------------------------
    def update_state(self, timestamp: int) -> None:
        """Refresh internal state before :meth:`check`. Default: nothing."""

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        """Return the status and, for WAIT_TIME, the timestamp (ns) it becomes ready."""
        raise NotImplementedError(f"{type(self).__name__} must implement check(timestamp)")

    def on_execute(self, timestamp: int) -> None:
        """Called after each ``compute`` of the operator. Default: nothing."""

    def reset(self) -> None:
        """Return to the initial state at the start of each run. Default: nothing."""

    # -- helpers for subclasses ------------------------------------------------------------------
    def notify(self) -> None:
        """Wake the scheduler: call after changing state from outside its thread."""
        self._notify()

    def notify_scheduler(self) -> bool:
        """Holoscan's name of :meth:`notify`; returns ``True`` (the scheduler was told)."""
        self._notify()
        return True

    @property
    def operator(self) -> Operator | None:
        """The operator this condition is attached to, if any."""
        return self._operator

    def receiver(self, port_name: str) -> Receiver:
        """The queue of the operator's input ``port_name`` in the current run."""
        return self._require_operator().receiver(port_name)

    def transmitter(self, port_name: str) -> Transmitter:
        """The transmitter of the operator's output ``port_name`` in the current run."""
        return self._require_operator().transmitter(port_name)

    def _require_operator(self) -> Operator:
        if self._operator is None:
            raise GraphError(f"{self._label()} is not attached to an operator")
        return self._operator

    def _set_notify(self, callback: Callable[[], None]) -> None:
        """Route :meth:`notify` to the run that evaluates this condition (set when it is built)."""
        self._notify = callback

    def _attach(self, operator: Operator) -> None:
        if self._operator is not None and self._operator is not operator:
            raise GraphError(
                f"{self._label()} is already attached to operator '{self._operator.name}'; "
                f"create one condition per operator"
            )
        self._operator = operator
