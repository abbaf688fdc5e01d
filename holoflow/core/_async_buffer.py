"""The asynchronous buffer connector (``IOSpec.ConnectorType.ASYNC_BUFFER``).

An async buffer joins one output port to one input port and lets both operators run at their
own rates: the producer never waits for room (its port gets no
``DownstreamMessageAffordableCondition``), and the consumer never waits for a message (its port
gets no ``MessageAvailableCondition``). The buffer holds the latest message only: a new one
replaces the one before, read or not; ``receive`` returns the latest message, again and again
until a newer one arrives, and ``None`` before the first. This is what Holoscan's async buffer
(GXF's lock-free four-slot buffer) does.

Holoscan allows an async buffer only between one output port and one input port;
``add_flow`` checks that, and the run checks that both ends of a connection agree.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from holoflow.core._queue import QueuePolicy, QueueStatistics, Receiver, Transmitter
from holoflow.core._spec import IOSpec
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._graph import Connection
    from holoflow.core._operator import Operator
    from holoflow.core._subgraph import Subgraph

__all__ = ["AsyncBufferReceiver", "AsyncBufferTransmitter", "claim_async_ports"]

_ASYNC = IOSpec.ConnectorType.ASYNC_BUFFER
_DEFAULT = IOSpec.ConnectorType.DEFAULT


class AsyncBufferReceiver(Receiver):
    """The input side of an async buffer: keeps the latest message, which every read returns.

    A run makes one for each input port whose connector is ``ASYNC_BUFFER``
    (``op.receiver(port)`` returns it during the run). Constructed directly, as in Holoscan,
    it is a standalone buffer.

    Parameters
    ----------
    fragment : Fragment or Subgraph, optional
        Accepted for Holoscan's signature.
    name : str
        Used in messages.
    """

    __slots__ = ("fragment",)

    def __init__(
        self, fragment: Fragment | Subgraph | None = None, name: str = "async_buffer_receiver"
    ) -> None:
        super().__init__(name, 1, QueuePolicy.POP)
        self.fragment = fragment
        self.queue: deque[Any] = deque(maxlen=1)

    @property
    def name(self) -> str:
        """The receiver's name (the port's label in a run)."""
        return self.label

    @property
    def size(self) -> int:
        """1 once a message was written (it stays readable), else 0."""
        return len(self.queue)

    def push(self, message: Any, now: int) -> None:  # noqa: ARG002 - the receiver keeps no times
        """Replace the held message with ``message``; never full, never fails."""
        self.queue.append(message)

    def take(self) -> Any:
        """The latest message, left in place for the next read; ``None`` before the first."""
        try:
            return self.queue[-1]
        except IndexError:
            return None

    def pop(self) -> Any:
        """The latest message, as delivered to ``receive`` (see :meth:`take`)."""
        return super().pop()

    def statistics(self) -> QueueStatistics:
        """Size (0 or 1), capacity 1 and no drops: replacing a message is the point."""
        return QueueStatistics(len(self.queue), 1, 0)

    def __repr__(self) -> str:
        return f"<AsyncBufferReceiver {self.label} {'holding a message' if self.queue else 'empty'}>"


class AsyncBufferTransmitter(Transmitter):
    """The output side of an async buffer: what ``compute`` emits on the port, the last emit of a
    compute winning, delivered to the async buffer of the connected input when compute returns.

    Parameters
    ----------
    fragment : Fragment or Subgraph, optional
        Accepted for Holoscan's signature.
    name : str
        Used in messages.
    """

    __slots__ = ("fragment",)

    def __init__(
        self, fragment: Fragment | Subgraph | None = None, name: str = "async_buffer_transmitter"
    ) -> None:
        super().__init__(name, 1, QueuePolicy.POP)
        self.fragment = fragment

    @property
    def name(self) -> str:
        """The transmitter's name (the port's label in a run)."""
        return self.label

    def overflow(self, message: Any) -> None:
        """A second emit in one compute replaces the first."""
        self.pending[0] = message

    def __repr__(self) -> str:
        return f"<AsyncBufferTransmitter {self.label}>"


def claim_async_ports(
    where: str,
    connections: list[Connection],
    upstream: Operator,
    downstream: Operator,
    pairs: list[tuple[str, str]],
) -> None:
    """Check that ``pairs`` may become async buffers and set both ports' connector to
    ``ASYNC_BUFFER`` (what ``add_flow(..., IOSpec.ConnectorType.ASYNC_BUFFER)`` does).

    Raises
    ------
    holoflow.errors.GraphError
        If a port appears in two pairs, is connected already, or has another connector.
    """
    one_to_one = "an async buffer joins one output port to one input port"
    for side, names in (("output", [out for out, _ in pairs]), ("input", [in_ for _, in_ in pairs])):
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise GraphError(f"{where}: {side} port(s) {twice} appear in several pairs; {one_to_one}")
    for out_name, in_name in pairs:
        for c in connections:
            if c.source is upstream and c.output == out_name:
                raise GraphError(
                    f"{where}: output port '{out_name}' of operator '{upstream.name}' is connected "
                    f"already (to '{c.target.name}'); {one_to_one}"
                )
            if c.target is downstream and c.input == in_name:
                raise GraphError(
                    f"{where}: input port '{in_name}' of operator '{downstream.name}' is connected "
                    f"already (from '{c.source.name}'); {one_to_one}"
                )
        ports = (upstream.spec.outputs[out_name], downstream.spec.inputs[in_name])
        for port in ports:
            if port.connector_type not in (_DEFAULT, _ASYNC):
                raise GraphError(
                    f"{where}: {port.label} has connector {port.connector_type.name}; it cannot "
                    "also be an async buffer"
                )
        for port in ports:
            port.connector(_ASYNC)
