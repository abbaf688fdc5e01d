"""Holoscan 4.6's publish/subscribe conditions: wait until enough publishers or subscribers of a
pub/sub port have matched.

holoflow has no pub/sub connector (``IOSpec.ConnectorType.PUBSUB``): ports connect with
``add_flow`` and are matched when the graph is built. A condition that requires a pub/sub port
(``require_pubsub_connector=True``, the default) therefore stops the run before it starts, with
a ``GraphError`` that says so, as Holoscan does for a port that is not pub/sub. Without that
requirement the port is an ordinary one, whose connections exist from the start: the condition
is always READY, as in Holoscan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core import Condition, SchedulingStatusType
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["PublisherAvailableCondition", "SubscriberAvailableCondition"]

_READY = (SchedulingStatusType.READY, None)


class _MatchCondition(Condition):
    _side = ""

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        *,
        port: str | None,
        count: int,
        require_pubsub_connector: bool,
        poll_period_ms: int,
        latch_ready: bool,
        name: str,
    ) -> None:
        kind = "receiver_name" if self._side == "input" else "transmitter_name"
        super().__init__(fragment, name=name, **{kind: port})
        if int(count) < 0 or int(poll_period_ms) < 0:
            raise ValueError(f"{self._label()}: counts and periods must be >= 0")
        self.require_pubsub_connector = bool(require_pubsub_connector)
        self.poll_period_ms = int(poll_period_ms)
        self.latch_ready = bool(latch_ready)
        self._count = int(count)

    def initialize(self) -> None:
        if self.require_pubsub_connector:
            raise GraphError(
                f"{self._label()}: requires a pub/sub {self._side} port, and holoflow has no pub/sub "
                "connector (ports connect with add_flow when the graph is built); pass "
                "require_pubsub_connector=False, or drop the condition"
            )

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        return _READY


class PublisherAvailableCondition(_MatchCondition):
    """Waits until input ``receiver`` has ``min_publisher_count`` matched publishers (see the
    module docstring for what that means in holoflow). It replaces the port's default
    condition, as in Holoscan."""

    _side = "input"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        min_publisher_count: int = 1,
        receiver: str | None = None,
        require_pubsub_connector: bool = True,
        poll_period_ms: int = 100,
        latch_ready: bool = False,
        name: str = "publisher_available_condition",
    ) -> None:
        super().__init__(
            fragment,
            port=receiver,
            count=min_publisher_count,
            require_pubsub_connector=require_pubsub_connector,
            poll_period_ms=poll_period_ms,
            latch_ready=latch_ready,
            name=name,
        )
        self.min_publisher_count = int(min_publisher_count)


class SubscriberAvailableCondition(_MatchCondition):
    """Waits until output ``transmitter`` has ``min_subscriber_count`` matched subscribers (see
    the module docstring for what that means in holoflow)."""

    _side = "output"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        min_subscriber_count: int = 1,
        transmitter: str | None = None,
        require_pubsub_connector: bool = True,
        poll_period_ms: int = 100,
        stabilization_ms: int = 0,
        latch_ready: bool = False,
        ready_on_shutdown: bool = False,
        name: str = "subscriber_available_condition",
    ) -> None:
        super().__init__(
            fragment,
            port=transmitter,
            count=min_subscriber_count,
            require_pubsub_connector=require_pubsub_connector,
            poll_period_ms=poll_period_ms,
            latch_ready=latch_ready,
            name=name,
        )
        self.min_subscriber_count = int(min_subscriber_count)
        self.stabilization_ms = int(stabilization_ms)
        self.ready_on_shutdown = bool(ready_on_shutdown)
