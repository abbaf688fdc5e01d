"""``DownstreamMessageAffordableCondition``: back-pressure from the receiving queues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._queue import Receiver, Transmitter

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
        self._receivers: list[Receiver] = []

    def bind(self, transmitter: Transmitter) -> None:
        """Watch the receivers of ``transmitter`` (done by the scheduler at the start of a run)."""
        self._receivers = list(transmitter.receivers)

    def room_checks(self) -> list[tuple[Receiver, int]]:
        """The whole condition as ``[(receiver, n)]``: ready iff each has room for ``n`` more,
        counting slots reserved by producers that are running."""
        return [(receiver, self.min_size) for receiver in self._receivers]

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        for receiver in self._receivers:
            if len(receiver.queue) + receiver.reserved + self.min_size > receiver.capacity:
                return _WAIT
        return _READY
