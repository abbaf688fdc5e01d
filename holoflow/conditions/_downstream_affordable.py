"""``DownstreamMessageAffordableCondition``: back-pressure from the receiving queues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._queue import Transmitter

__all__ = ["DownstreamMessageAffordableCondition"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)


class DownstreamMessageAffordableCondition(Condition):
    """Ready when every queue fed by the bound output has room for ``min_size`` more messages.

    Every output port gets one by default, which is what keeps a fast producer from
    overflowing a slow consumer. An output connected to nothing is always affordable.
    """

    condition_type = ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE

    def __init__(
        self,
        fragment: Fragment,
        min_size: int = 1,
        transmitter: str | None = None,
        name: str = "noname_downstream_affordable_condition",
    ) -> None:
        super().__init__(fragment, transmitter_name=transmitter, name=name)
        if int(min_size) < 1:
            raise ValueError(f"{self._label()}: min_size must be >= 1, got {min_size}")
        self.min_size = int(min_size)
        self._limits: list[tuple[Any, int]] = []

    def bind(self, transmitter: Transmitter) -> None:
        """Watch the receivers of ``transmitter`` (done by the scheduler at the start of a run)."""
        self._limits = [(r.queue, r.capacity - self.min_size) for r in transmitter.receivers]

    def queue_checks(self) -> list[tuple[Any, int, int]]:
        """The whole condition as ``(queue, lo, hi)``: ready iff ``lo <= len(queue) <= hi``."""
        return [(queue, 0, limit) for queue, limit in self._limits]

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        for queue, limit in self._limits:
            if len(queue) > limit:
                return _WAIT
        return _READY
