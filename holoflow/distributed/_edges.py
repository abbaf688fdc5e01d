"""What a fragment's run is given to reach other fragments: edge specs and the end protocols.

An *edge* joins one output port of an operator in one fragment to one input port of an operator
in another. Its sending side is an :class:`OutboundEnd`, appended to the output's transmitter as
if it were a receiver (``core/_build.py``): the transmitter hands it each message with ``push``,
and the unchanged room check (``len(queue) + reserved + n <= capacity``) reads its ``queue`` and
``capacity``, which is how back-pressure crosses fragments. Its receiving side is an
:class:`InboundEnd`, given a receiver of the input port with ``bind``. A
:class:`FragmentEdges` gathers one fragment's ends (``fragment._holoflow_edges``).
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from typing import Any, Protocol

from holoflow.core.run import QueuePolicy, Receiver

__all__ = ["EdgeSpec", "FragmentEdges", "InboundEnd", "OutboundEnd"]


@dataclass(frozen=True)
class EdgeSpec:
    """One connection between fragments.

    ``src`` and ``dst`` are ``(fragment, operator, port)``; ``capacity`` and ``policy`` are the
    receiving port's (``0`` and ``None``: the port's own, read when its run is built);
    ``window`` bounds the messages in flight (0: unbounded).
    """

    edge_id: int
    src: tuple[str, str, str]
    dst: tuple[str, str, str]
    capacity: int = 0
    policy: QueuePolicy | None = None
    window: int = 0

    def describe(self) -> str:
        """``fragment.operator.port→fragment.operator.port``, for messages."""
        return f"{'.'.join(self.src)}\u2192{'.'.join(self.dst)}"


class OutboundEnd(Protocol):
    """The sending end of an edge; never blocks."""

    external: bool
    capacity: int
    reserved: int
    queue: Sized
    tracks_arrivals: bool

    def push(self, message: Any, now: int) -> None: ...

    def close(self) -> None: ...


class InboundEnd(Protocol):
    """The receiving end of an edge."""

    arrivals: int

    def bind(self, receiver: Receiver) -> None: ...


class FragmentEdges(Protocol):
    """One fragment's ends, by ``(operator, port)``, and its part in ending the run."""

    outbound: dict[tuple[str, str], list[OutboundEnd]]
    inbound: dict[tuple[str, str], list[InboundEnd]]

    def bind(self, run: Any) -> None: ...

    def idle(self) -> None: ...

    def passive(self, is_passive: bool) -> bool: ...

    def on_run_end(self, error: BaseException | None) -> None: ...
