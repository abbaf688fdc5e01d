"""``MessageAvailableCondition``: an input port holds enough messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._queue import Receiver

__all__ = ["MessageAvailableCondition"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)


class MessageAvailableCondition(Condition):
    """Ready when the bound input queue holds at least ``min_size`` messages.

    Every input port gets one by default (``min_size`` = its queue size). To attach one
    yourself, declare it on the port with
    ``spec.input("in").condition(ConditionType.MESSAGE_AVAILABLE, min_size=2)``, or pass
    ``MessageAvailableCondition(fragment, min_size=2, receiver="in")`` to the operator.
    """

    condition_type = ConditionType.MESSAGE_AVAILABLE

    def __init__(
        self,
        fragment: Fragment,
        min_size: int = 1,
        front_stage_max_size: int = 1,
        receiver: str | None = None,
        name: str = "noname_message_available_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=receiver, name=name)
        if int(min_size) < 1:
            raise ValueError(f"{self._label()}: min_size must be >= 1, got {min_size}")
        self.min_size = int(min_size)
        self.front_stage_max_size = int(front_stage_max_size)
        self._queue: Any = None

    def bind(self, receiver: Receiver) -> None:
        """Watch ``receiver`` (done by the scheduler at the start of a run)."""
        self._queue = receiver.queue

    def need_checks(self) -> list[tuple[Any, int]]:
        """The whole condition as ``[(queue, n)]``: ready iff ``len(queue) >= n``."""
        return [(self._queue, self.min_size)]

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        return _READY if len(self._queue) >= self.min_size else _WAIT
