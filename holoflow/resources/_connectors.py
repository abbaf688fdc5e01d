"""Holoscan's receiver and transmitter resources: the queues at either end of a connection.

A run makes the queues of its ports itself, from each port's declaration and connector type
(``op.receiver(port)`` / ``op.transmitter(port)`` return them during a run): a
:class:`~holoflow.core.Receiver` / :class:`~holoflow.core.Transmitter` for the default and
double-buffer connectors, an async buffer for ``ASYNC_BUFFER``. The classes here take
Holoscan's constructor arguments and make standalone queues of those kinds. The UCX ones join
the fragments of a distributed application, which holoflow does not run: constructing one
raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core import QueuePolicy, Receiver, Transmitter
from holoflow.errors import NotSupportedError

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["DoubleBufferReceiver", "DoubleBufferTransmitter", "UcxReceiver", "UcxTransmitter"]


class DoubleBufferReceiver(Receiver):
    """A receiver queue of ``capacity`` messages with a full-queue ``policy`` (0 pop, 1 reject,
    2 fault): what every input port of a run has.

    Raises
    ------
    ValueError
        If ``capacity`` < 1 or ``policy`` is not 0, 1 or 2.
    """

    __slots__ = ("fragment",)

    def __init__(
        self,
        fragment: Fragment | Subgraph | None = None,
        capacity: int = 1,
        policy: int = 2,
        name: str = "double_buffer_receiver",
    ) -> None:
        if int(capacity) < 1:
            raise ValueError(f"{name}: capacity must be >= 1, got {capacity}")
        super().__init__(name, int(capacity), QueuePolicy(int(policy)))
        self.fragment = fragment

    @property
    def name(self) -> str:
        """The receiver's name."""
        return self.label


class DoubleBufferTransmitter(Transmitter):
    """A transmitter outbox of ``capacity`` messages per compute with a full-queue ``policy``
    (0 pop, 1 reject, 2 fault): what every output port of a run has.

    Raises
    ------
    ValueError
        If ``capacity`` < 1 or ``policy`` is not 0, 1 or 2.
    """

    __slots__ = ("fragment",)

    def __init__(
        self,
        fragment: Fragment | Subgraph | None = None,
        capacity: int = 1,
        policy: int = 2,
        name: str = "double_buffer_transmitter",
    ) -> None:
        if int(capacity) < 1:
            raise ValueError(f"{name}: capacity must be >= 1, got {capacity}")
        super().__init__(name, int(capacity), QueuePolicy(int(policy)))
        self.fragment = fragment

    @property
    def name(self) -> str:
        """The transmitter's name."""
        return self.label


def _no_ucx(kind: str) -> NotSupportedError:
    return NotSupportedError(
        f"{kind}: UCX receivers and transmitters join the fragments of a distributed application "
        "over the network; holoflow makes the links between fragments itself (connect fragments "
        "with Application.add_flow), and ports within a fragment connect with add_flow"
    )


class UcxReceiver(Receiver):
    """Holoscan's network receiver of a distributed application. Constructing one raises
    :class:`~holoflow.errors.NotSupportedError`."""

    __slots__ = ()

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise _no_ucx("UcxReceiver")


class UcxTransmitter(Transmitter):
    """Holoscan's network transmitter of a distributed application. Constructing one raises
    :class:`~holoflow.errors.NotSupportedError`."""

    __slots__ = ()

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise _no_ucx("UcxTransmitter")
