"""``ExpiringMessageAvailableCondition``: a full batch, or whatever waited long enough."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from holoflow._helpers import parse_period_ns
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._queue import Receiver

__all__ = ["ExpiringMessageAvailableCondition"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)


class ExpiringMessageAvailableCondition(Condition):
    """Ready when ``max_batch_size`` messages wait, or the oldest has waited ``max_delay_ns``.

    Declare it on a port:
    ``spec.input("in").condition(ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=5,
    max_delay_ns=100_000_000)``; give the port a matching queue capacity with
    ``.connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=5)``.
    """

    condition_type = ConditionType.EXPIRING_MESSAGE_AVAILABLE
    tracks_arrivals = True

    def __init__(
        self,
        fragment: Fragment,
        max_batch_size: int,
        max_delay_ns: int | str | datetime.timedelta,
        clock: Any = None,  # noqa: ARG002 - Holoscan signature; the scheduler clock is used
        receiver: str | None = None,
        name: str = "noname_expiring_message_available_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=receiver, name=name)
        if int(max_batch_size) < 1:
            raise ValueError(f"{self._label()}: max_batch_size must be >= 1, got {max_batch_size}")
        self.max_batch_size = int(max_batch_size)
        self.max_delay_ns = parse_period_ns(max_delay_ns)
        self._receiver: Receiver | None = None

    def bind(self, receiver: Receiver) -> None:
        """Watch ``receiver`` (done by the scheduler at the start of a run)."""
        self._receiver = receiver

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        receiver = self._receiver
        assert receiver is not None, "condition not bound"
        if len(receiver.queue) >= self.max_batch_size:
            return _READY
        oldest = receiver.oldest_arrival()
        if oldest is None:
            return _WAIT
        expiry = oldest + self.max_delay_ns
        if timestamp >= expiry:
            return _READY
        return SchedulingStatusType.WAIT_TIME, expiry
