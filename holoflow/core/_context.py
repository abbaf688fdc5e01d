"""What ``compute`` sees: ``InputContext.receive``, ``OutputContext.emit``, ``ExecutionContext``.

The contexts are built once per operator per run. ``receive`` and ``emit`` are the hot path:
a port name resolves with one dict lookup to the queue or transmitter it touches.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING, Any

from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._operator import Operator
    from holoflow.core._queue import Receiver, Transmitter

__all__ = ["ExecutionContext", "InputContext", "InputPort", "OutputContext", "PortMode"]


class PortMode(enum.Enum):
    """How ``receive`` returns what an input port holds."""

    SINGLE = 0
    """One message or ``None`` (queue size 1)."""
    BATCH = 1
    """A tuple of every waiting message (queue size > 1 or PRECEDING_COUNT)."""
    PER_CONNECTION = 2
    """A tuple with one message (or ``None``) per connection (ANY_SIZE)."""


class InputPort:
    """The run-time side of one input port: its receivers and how ``receive`` reads them."""

    __slots__ = ("label", "mode", "receivers")

    def __init__(self, label: str, mode: PortMode, receivers: list[Receiver]) -> None:
        self.label = label
        self.mode = mode
        self.receivers = receivers


def _no_such_port(op_label: str, kind: str, name: str, known: list[str]) -> GraphError:
    return GraphError(f"{op_label}: no {kind} port '{name}'; declared {kind}s: {sorted(known)}")


class InputContext:
    """Reads messages from an operator's input ports inside ``compute``."""

    __slots__ = ("_fast", "_label", "_ports")

    def __init__(self, op_label: str, ports: dict[str, InputPort]) -> None:
        self._label = op_label
        self._ports = ports
        # SINGLE ports whose receiver tracks nothing extra are read straight from their deque.
        self._fast: dict[str, deque[Any]] = {
            name: port.receivers[0].queue
            for name, port in ports.items()
            if port.mode is PortMode.SINGLE
            and len(port.receivers) == 1
            and not port.receivers[0].tracks_arrivals
        }
        if len(ports) == 1:
            (only,) = ports
            ports.setdefault("", ports[only])
            if only in self._fast:
                self._fast.setdefault("", self._fast[only])

    def receive(self, name: str = "", *, kind: str = "") -> Any:
        """Take what input port ``name`` holds.

        Parameters
        ----------
        name : str
            Port name; may be omitted when the operator has one input.
        kind : {"", "single", "multi"}
            ``""`` decides by the port's declaration; ``"single"`` takes one message (``None``
            when empty); ``"multi"`` returns a tuple.

        Returns
        -------
        object or tuple
            A single message or ``None`` for size-1 ports; a tuple for ``ANY_SIZE`` ports (one
            item per connection, in connection order), batch ports and ``kind="multi"``.

        Raises
        ------
        holoflow.errors.GraphError
            If the operator has no input port ``name``, or ``kind="single"`` is asked of an
            ``ANY_SIZE`` port.
        """
        queue = self._fast.get(name)
        if queue is not None and not kind:
            return queue.popleft() if queue else None
        return self._receive(name, kind)

    def _receive(self, name: str, kind: str) -> Any:
        port = self._ports.get(name)
        if port is None:
            raise _no_such_port(self._label, "input", name, [p for p in self._ports if p])
        if kind not in ("", "single", "multi"):
            raise ValueError(f"{port.label}: receive kind must be '', 'single' or 'multi', got {kind!r}")
        if port.mode is PortMode.PER_CONNECTION:
            if kind == "single":
                raise GraphError(
                    f"{port.label}: receive(kind='single') cannot read an IOSpec.ANY_SIZE port; "
                    "it returns one item per connection"
                )
            return tuple(receiver.pop() for receiver in port.receivers)
        if not port.receivers:
            return None if kind == "single" or (not kind and port.mode is PortMode.SINGLE) else ()
        receiver = port.receivers[0]
        if kind == "single" or (not kind and port.mode is PortMode.SINGLE):
            return receiver.pop()
        return tuple(receiver.pop() for _ in range(len(receiver.queue)))

    def __repr__(self) -> str:
        return f"<InputContext of {self._label}>"


class OutputContext:
    """Emits messages on an operator's output ports inside ``compute``."""

    __slots__ = ("_label", "_ports")

    def __init__(self, op_label: str, ports: dict[str, Transmitter]) -> None:
        self._label = op_label
        self._ports = ports
        if len(ports) == 1:
            (only,) = ports
            ports.setdefault("", ports[only])

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """Send ``data`` on output port ``name``; it reaches every connected input after compute.

        The object itself is shared with every receiver: nothing is copied or serialized.
        ``emitter_name`` and ``acq_timestamp`` are accepted for Holoscan compatibility.

        Raises
        ------
        holoflow.errors.GraphError
            If the operator has no output port ``name``.
        holoflow.errors.SchedulingError
            If the port already holds its capacity of messages this compute (FAULT policy).
        """
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(data)
        else:
            transmitter.overflow(data)

    def __repr__(self) -> str:
        return f"<OutputContext of {self._label}>"


class ExecutionContext:
    """The operator's view of the run: its contexts and the other operators."""

    __slots__ = ("_operators", "input", "output")

    def __init__(self, op_input: InputContext, op_output: OutputContext, operators: dict[str, Operator]):
        self.input = op_input
        self.output = op_output
        self._operators = operators

    def find_operator(self, op_name: str = "") -> Operator | None:
        """The operator of the running graph called ``op_name``, or ``None``."""
        return self._operators.get(op_name)

    @property
    def is_gpu_available(self) -> bool:
        """Whether a CUDA device can be used (CuPy installed and a device present)."""
        try:
            import cupy  # type: ignore[import-not-found]

            return bool(cupy.cuda.runtime.getDeviceCount() > 0)
        except Exception:
            return False
