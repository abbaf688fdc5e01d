"""What ``compute`` sees: ``InputContext.receive``, ``OutputContext.emit``, ``ExecutionContext``.

The contexts are built once per operator per run. ``receive`` and ``emit`` are the hot path:
a port name resolves with one dict lookup to the queue or transmitter it touches.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from holoflow.core._arrays import ArrayScope
from holoflow.core._flow import EXEC_PORTS
from holoflow.core._metadata import NO_METADATA, Envelope, MetadataDictionary
from holoflow.core._operator_status import OperatorStatus
from holoflow.core._queue import Receiver
from holoflow.core._streams import OperatorStreams
from holoflow.errors import GraphError
from holoflow.tensor import EMITTED_AS_TENSOR_MAP, StreamEvent, TensorMap, cuda_available, wait_event

if TYPE_CHECKING:
    from holoflow.core._operator import Operator
    from holoflow.core._queue import Transmitter

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


def _ignore(_acquired: dict[str, list[int]]) -> None:
    pass


def _no_such_port(op_label: str, kind: str, name: str, known: list[str]) -> GraphError:
    if name in EXEC_PORTS:
        return GraphError(
            f"{op_label}: '{name}' is an execution port: the run consumes and sends its control "
            "signals, compute cannot receive or emit on it"
        )
    return GraphError(f"{op_label}: no {kind} port '{name}'; declared {kind}s: {sorted(known)}")


class InputContext:
    """Reads messages from an operator's input ports inside ``compute``."""

    __slots__ = (
        "_acquired",
        "_fast",
        "_label",
        "_metadata",
        "_on_first_acquisition",
        "_only",
        "_ports",
        "_streams",
    )

    def __init__(self, op_label: str, ports: dict[str, InputPort], streams: OperatorStreams) -> None:
        self._label = op_label
        ports = self._ports = dict(ports)  # its own copy: the "" alias below is added to it
        self._streams = streams
        self._metadata: MetadataDictionary | None = None
        self._acquired: dict[str, list[int]] | None = None
        """Acquisition timestamps received in this compute, by port (made on first use)."""
        self._on_first_acquisition: Callable[[dict[str, list[int]]], None] = _ignore
        """Called with :attr:`_acquired` when it is made (the run empties it after each compute)."""
        """The operator's metadata while enabled for the run (set when the run initializes)."""
        # SINGLE ports whose receiver tracks nothing extra are read straight from their deque.
        self._fast: dict[str, deque[Any]] = {
            name: port.receivers[0].queue
            for name, port in ports.items()
            if port.mode is PortMode.SINGLE
            and len(port.receivers) == 1
            and type(port.receivers[0]) is Receiver  # not an async buffer, which is read in place
            and not port.receivers[0].tracks_arrivals
        }
        self._only = ""
        """The port that ``""`` names: the operator's only input, if it has one."""
        if len(ports) == 1:
            (only,) = ports
            self._only = only
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
            Metadata that came with each message merges into ``op.metadata`` (when enabled).

        Raises
        ------
        holoflow.errors.GraphError
            If the operator has no input port ``name``, or ``kind="single"`` is asked of an
            ``ANY_SIZE`` port.
        holoflow.errors.MetadataError
            If a metadata key that came with a message is already in ``op.metadata`` and the
            operator's metadata policy is ``RAISE``.
        """
        queue = self._fast.get(name)
        if queue is not None and not kind:
            value = queue.popleft() if queue else None
            cls = type(value)
            if cls is TensorMap:
                self._streams.note(name or self._only, value)
            elif cls is Envelope:
                value = self._open(value, name or self._only)
                if type(value) is TensorMap:
                    self._streams.note(name or self._only, value)
            return value
        value = self._receive(name, kind)
        self._streams.note(name or self._only, value)
        return value

    def receive_array(self, name: str = "", tensor_name: str = "") -> ArrayScope:
        """Receive the tensor ``tensor_name`` on port ``name``, to open on its device.

        Use it as ``with op_input.receive_array("in", "image") as (xp, image): ...``: inside the
        block ``xp`` is ``numpy`` for a host tensor, or ``cupy`` for a CUDA tensor, and then
        the operator's CUDA stream has waited for the producer and is CuPy's current stream, so
        the work queued in the block is ordered after the producer's and before every consumer
        of what the operator emits. ``tensor_name=""`` also accepts a bare array.

        Raises
        ------
        holoflow.errors.TensorError
            If nothing arrived, or the message holds no array called ``tensor_name``.
        holoflow.errors.GraphError
            If the operator has no input port ``name``.
        """
        value = self.receive(name)
        return ArrayScope(self._streams, self._label, name or self._only, value, (tensor_name,), True)

    def receive_arrays(self, name: str, tensor_names: Sequence[str]) -> ArrayScope:
        """Like :meth:`receive_array` for several tensors of one message; the block gets
        ``(xp, (array, ...))`` in the order of ``tensor_names``.

        Raises
        ------
        holoflow.errors.TensorError
            If a tensor is missing, or the tensors are not all on one device.
        """
        value = self.receive(name)
        return ArrayScope(self._streams, self._label, name or self._only, value, tuple(tensor_names), False)

    def receive_cuda_stream(self, input_port_name: str | None = None, allocate: bool = True) -> int:
        """The operator's CUDA stream, made to wait for the tensors just received.

        Call it after ``receive``: the stream waits (on the device, without blocking the host)
        for the events their producers recorded. The stream comes from the operator's
        ``CudaStreamPool`` when it has one, else it is created for the run. With
        ``allocate=False`` and no stream yet, the producer's stream is returned (0 if none).

        Raises
        ------
        ImportError
            If CuPy is not installed.
        holoflow.errors.ResourceError
            If no CUDA device is present.
        """
        if input_port_name is not None:
            if input_port_name not in self._ports:
                raise _no_such_port(self._label, "input", input_port_name, [p for p in self._ports if p])
            input_port_name = input_port_name or self._only
        return self._streams.synchronize(input_port_name, allocate)

    def receive_cuda_streams(self, input_port_name: str | None = None) -> list[int | None]:
        """The producer streams of the CUDA tensors just received on a port (or all ports)."""
        port = input_port_name if input_port_name is None else input_port_name or self._only
        return [t.stream for t in self._streams.received_tensors(port)]

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
            return self._open_all(tuple(receiver.take() for receiver in port.receivers), name)
        if not port.receivers:
            return None if kind == "single" or (not kind and port.mode is PortMode.SINGLE) else ()
        receiver = port.receivers[0]
        if kind == "single" or (not kind and port.mode is PortMode.SINGLE):
            value = receiver.take()
            return self._open(value, name or self._only) if type(value) is Envelope else value
        return self._open_all(tuple(receiver.take() for _ in range(len(receiver.queue))), name)

    def get_acquisition_timestamp(self, input_port_name: str = "") -> int | None:
        """The acquisition timestamp of the first message received on a port in this compute
        that carried one (``emit(..., acq_timestamp=t)``), or ``None``.

        Raises
        ------
        holoflow.errors.GraphError
            If the operator has no input port of that name.
        """
        timestamps = self.get_acquisition_timestamps(input_port_name)
        return timestamps[0] if timestamps else None

    def get_acquisition_timestamps(self, input_port_name: str = "") -> list[int]:
        """The acquisition timestamps of the messages received on a port in this compute, in
        order of receipt (messages sent without one are skipped).

        Raises
        ------
        holoflow.errors.GraphError
            If the operator has no input port of that name.
        """
        if input_port_name not in self._ports:
            raise _no_such_port(self._label, "input", input_port_name, [p for p in self._ports if p])
        acquired = self._acquired
        if not acquired:
            return []
        return list(acquired.get(input_port_name or self._only, ()))

    def _open(self, envelope: Any, port: str) -> Any:
        """The message of ``envelope`` (an ``Envelope``); its metadata merges into the
        operator's when enabled, its acquisition timestamp is kept for this compute."""
        if envelope.acq_timestamp is not None:
            acquired = self._acquired
            if acquired is None:
                acquired = self._acquired = {}
                self._on_first_acquisition(acquired)
            acquired.setdefault(port, []).append(envelope.acq_timestamp)
        if not envelope.metadata:
            return envelope.message
        metadata = self._metadata
        if metadata is not None:
            if metadata._items:
                metadata._absorb(envelope.metadata, port)
            else:  # nothing to clash with, whatever the policy
                metadata._items.update(envelope.metadata)
        return envelope.message

    def _open_all(self, items: tuple[Any, ...], name: str) -> tuple[Any, ...]:
        if Envelope not in map(type, items):
            return items
        port = name or self._only
        return tuple(self._open(v, port) if type(v) is Envelope else v for v in items)

    def __repr__(self) -> str:
        return f"<InputContext of {self._label}>"


class OutputContext:
    """Emits messages on an operator's output ports inside ``compute``."""

    __slots__ = ("_label", "_metadata", "_ports", "_streams")

    def __init__(self, op_label: str, ports: dict[str, Transmitter], streams: OperatorStreams) -> None:
        self._label = op_label
        ports = self._ports = dict(ports)  # its own copy: the "" alias below is added to it
        self._streams = streams
        self._metadata: Mapping[str, Any] = NO_METADATA
        """The operator's metadata items while enabled for the run (set when the run initializes)."""
        if len(ports) == 1:
            (only,) = ports
            ports.setdefault("", ports[only])

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """Send ``data`` on output port ``name``; it reaches every connected input after compute.

        The object itself is shared with every receiver: nothing is copied or serialized. A
        ``dict`` (or a ``holoflow.gxf.Entity``) arrives as a :class:`~holoflow.tensor.TensorMap`
        whose arrays are zero-copy Tensors; CUDA tensors in it carry the stream they were
        produced on.
        The operator's metadata, when enabled and not empty, goes along as it is now (a copy).
        ``acq_timestamp`` (ns of the scheduler's clock, e.g. when a camera captured the frame)
        travels with the message: receivers read it with ``get_acquisition_timestamp`` and an
        ``ExpiringMessageAvailableCondition`` ages the message from it. ``emitter_name`` is
        accepted for Holoscan compatibility.

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
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        if self._metadata:
            data = Envelope(data, dict(self._metadata), None if acq_timestamp == -1 else int(acq_timestamp))
        elif acq_timestamp != -1:
            data = Envelope(data, NO_METADATA, int(acq_timestamp))
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(data)
        else:
            transmitter.overflow(data)

    def set_cuda_stream(self, stream_ptr: int, output_port_name: str | None = None) -> None:
        """Declare the CUDA stream the outputs were produced on (all ports, or one)."""
        if output_port_name is None:
            self._streams.stream = int(stream_ptr)
        elif output_port_name not in self._ports:
            raise _no_such_port(self._label, "output", output_port_name, [p for p in self._ports if p])
        else:
            self._streams.output_streams[output_port_name] = int(stream_ptr)

    def __repr__(self) -> str:
        return f"<OutputContext of {self._label}>"


class ExecutionContext:
    """The operator's view of the run: its contexts and the other operators."""

    __slots__ = ("_op", "_operators", "_streams", "input", "output")

    def __init__(
        self,
        op_input: InputContext,
        op_output: OutputContext,
        operators: dict[str, Operator],
        streams: OperatorStreams,
    ) -> None:
        self.input = op_input
        self.output = op_output
        self._operators = operators
        self._streams = streams
        self._op = streams.op

    def allocate_cuda_stream(self, stream_name: str = "") -> int:
        """A CUDA stream for the operator, kept for the rest of the run under ``stream_name``."""
        return self._streams.named_stream(stream_name)

    def synchronize_streams(self, cuda_stream_ptrs: list[int | None], target_cuda_stream_ptr: int) -> None:
        """Make ``target_cuda_stream_ptr`` wait for the work queued so far on each stream."""
        for stream in cuda_stream_ptrs:
            if stream is not None and stream != target_cuda_stream_ptr:
                wait_event(target_cuda_stream_ptr, StreamEvent(stream))

    def find_operator(self, op_name: str = "") -> Operator | None:
        """The operator of the running graph called ``op_name`` (this context's own operator
        when ``op_name`` is empty), or ``None``."""
        if not op_name:
            return self._op
        return self._operators.get(op_name)

    def get_operator_status(self, op_name: str = "") -> OperatorStatus:
        """The lifecycle status of operator ``op_name`` (this context's own operator when empty).

        Safe from any thread; the answer is a snapshot (another thread's operator may move on at
        once). Outside its run an operator is ``NOT_STARTED``.

        Raises
        ------
        holoflow.errors.GraphError
            If the graph has no operator called ``op_name``.
        """
        op = self.find_operator(op_name)
        if op is None:
            raise GraphError(
                f"get_operator_status: no operator '{op_name}' in the running graph; "
                f"operators: {sorted(self._operators)}"
            )
        run = op._holoflow_run
        return OperatorStatus.NOT_STARTED if run is None else run.status

    @property
    def is_gpu_available(self) -> bool:
        """Whether a CUDA device can be used (CuPy installed and a device present)."""
        return cuda_available()
