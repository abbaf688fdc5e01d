"""Conditions bound to one port's queue: the defaults every port gets, and the expiring batch.

A :class:`PortCondition` watches the receiver of an input port or the transmitter of an output
port. The run binds it with :meth:`PortCondition.bind` when it is built, before any operator
starts: to the port it is declared on (``spec.input("in").condition(...)``), or to the port it
names (``receiver="in"`` / ``transmitter="out"``). Every input without a declared condition
gets a :class:`MessageAvailableCondition`, every output a
:class:`DownstreamMessageAffordableCondition`; the run flattens those two into queue-length
tests, so the defaults cost no call on the hot path.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from holoflow._helpers import parse_period_ns
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType
from holoflow.core._queue import Receiver, Transmitter
from holoflow.errors import GraphError, HoloflowInternalError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._subgraph import Subgraph

__all__ = [
    "DownstreamMessageAffordableCondition",
    "ExpiringMessageAvailableCondition",
    "MessageAvailableCondition",
    "PortCondition",
]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)


class PortCondition(Condition):
    """Base class of conditions that watch one port; subclasses implement :meth:`bind`.

    :attr:`port_kind` says which side it watches: ``"input"`` conditions are bound to a
    :class:`~holoflow.core.Receiver`, ``"output"`` ones to a :class:`~holoflow.core.Transmitter`.
    """

    port_kind: ClassVar[str] = "input"
    tracks_arrivals: ClassVar[bool] = False
    """Whether the bound receiver must record arrival times (:meth:`Receiver.oldest_arrival`)."""

    def bind(self, port: Receiver | Transmitter) -> None:
        """Watch ``port`` from now on (called when a run is built)."""
        raise NotImplementedError(f"{type(self).__name__} must implement bind(port)")

    def _receiver(self, port: Receiver | Transmitter) -> Receiver:
        if not isinstance(port, Receiver):
            raise GraphError(f"{self._label()} watches an input port and cannot be bound to {port!r}")
        return port

    def _transmitter(self, port: Receiver | Transmitter) -> Transmitter:
        if not isinstance(port, Transmitter):
            raise GraphError(f"{self._label()} watches an output port and cannot be bound to {port!r}")
        return port

    def _unbound(self) -> HoloflowInternalError:
        return HoloflowInternalError(f"{self._label()} was checked before the run bound it to a port")


class MessageAvailableCondition(PortCondition):
    """Ready when the bound input queue holds at least ``min_size`` messages.

    Every input port gets one by default (``min_size`` = its queue size). To attach one
    yourself, declare it on the port with
    ``spec.input("in").condition(ConditionType.MESSAGE_AVAILABLE, min_size=2)``, or pass
    ``MessageAvailableCondition(fragment, min_size=2, receiver="in")`` to the operator.
    """

    condition_type = ConditionType.MESSAGE_AVAILABLE

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        min_size: int = 1,
        front_stage_max_size: int = 1,
        receiver: str | None = None,
        name: str = "message_available_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=receiver, name=name)
        if int(min_size) < 1:
            raise ValueError(f"{self._label()}: min_size must be >= 1, got {min_size}")
        self.min_size = int(min_size)
        self.front_stage_max_size = int(front_stage_max_size)
        self._queue: Any = None

    def bind(self, port: Receiver | Transmitter) -> None:
        self._queue = self._receiver(port).queue

    def need_checks(self) -> list[tuple[Any, int]]:
        """The whole condition as ``[(queue, n)]``: ready iff ``len(queue) >= n``."""
        return [(self._queue, self.min_size)]

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        if self._queue is None:
            raise self._unbound()
        return _READY if len(self._queue) >= self.min_size else _WAIT


class DownstreamMessageAffordableCondition(PortCondition):
    """Ready when every queue fed by the bound output has room for ``min_size`` more messages.

    Every output port gets one by default, which is what keeps a fast producer from
    overflowing a slow consumer. An output connected to nothing is always affordable.
    """

    condition_type = ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE
    port_kind = "output"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        min_size: int = 1,
        transmitter: str | None = None,
        name: str = "downstream_affordable_condition",
    ) -> None:
        super().__init__(fragment, transmitter_name=transmitter, name=name)
        if int(min_size) < 1:
            raise ValueError(f"{self._label()}: min_size must be >= 1, got {min_size}")
        self.min_size = int(min_size)
        self._receivers: list[Receiver] = []

    def bind(self, port: Receiver | Transmitter) -> None:
        self._receivers = list(self._transmitter(port).receivers)

    def room_checks(self) -> list[tuple[Receiver, int]]:
        """The whole condition as ``[(receiver, n)]``: ready iff each has room for ``n`` more,
        counting slots reserved by producers that are running."""
        return [(receiver, self.min_size) for receiver in self._receivers]

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        for receiver in self._receivers:
            if len(receiver.queue) + receiver.reserved + self.min_size > receiver.capacity:
                return _WAIT
        return _READY


class ExpiringMessageAvailableCondition(PortCondition):
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
        fragment: Fragment | Subgraph,
        max_batch_size: int,
        max_delay_ns: int | str | datetime.timedelta,
        clock: Any = None,  # noqa: ARG002 - Holoscan signature; the scheduler clock is used
        receiver: str | None = None,
        name: str = "expiring_message_available_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=receiver, name=name)
        if int(max_batch_size) < 1:
            raise ValueError(f"{self._label()}: max_batch_size must be >= 1, got {max_batch_size}")
        self.max_batch_size = int(max_batch_size)
        self.max_delay_ns = parse_period_ns(max_delay_ns)
        self._bound: Receiver | None = None

    def bind(self, port: Receiver | Transmitter) -> None:
        self._bound = self._receiver(port)

    def max_delay(self, delay: int | str | datetime.timedelta) -> None:
        """Set ``max_delay_ns`` (ns, a ``timedelta`` or a string such as ``"10ms"``), as
        Holoscan's ``max_delay`` does."""
        self.max_delay_ns = parse_period_ns(delay)

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        receiver = self._bound
        if receiver is None:
            raise self._unbound()
        if len(receiver.queue) >= self.max_batch_size:
            return _READY
        oldest = receiver.oldest_arrival()
        if oldest is None:
            return _WAIT
        expiry = oldest + self.max_delay_ns
        if timestamp >= expiry:
            return _READY
        return SchedulingStatusType.WAIT_TIME, expiry
