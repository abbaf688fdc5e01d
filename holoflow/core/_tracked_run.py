"""Data-flow tracking inside a run: the contexts and ``compute`` wrapper of a tracked run.

Only a run of a fragment with a tracker (``Fragment.track``) builds these; an untracked run
uses the plain contexts and does no tracking work at all.

A message a tracked operator emits travels in an :class:`Envelope` whose ``label`` is a tuple
of *flat paths*: ``(name0, receive0, publish0, name1, receive1, publish1, ...)`` with times in
ns of ``time.time_ns``. Receiving notes each path with the receive time; emitting appends the
operator's hop ``(name, receive, now)`` (a root, which received nothing, starts a path with
the start of its ``compute`` as receive time). After a leaf's ``compute`` its paths close
with the end of ``compute`` as publish time and go to the tracker. With limited tracking,
operators between roots and leaves pass labels on untouched. A path that comes back to an
operator it passed (a cycle) ends there, at the receive time, as Holoscan does.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import time_ns
from typing import TYPE_CHECKING, Any

from holoflow.core._context import InputContext, InputPort, OutputContext, _no_such_port
from holoflow.core._flow import EXEC_PORTS
from holoflow.core._metadata import NO_METADATA, Envelope
from holoflow.tensor import EMITTED_AS_TENSOR_MAP

if TYPE_CHECKING:
    from holoflow.core._flow import Compute
    from holoflow.core._graph import OperatorGraph
    from holoflow.core._queue import Transmitter
    from holoflow.core._run import OpRun
    from holoflow.core._streams import OperatorStreams
    from holoflow.core._tracking import DataFlowTracker

__all__ = [
    "TrackedInputContext",
    "TrackedOutputContext",
    "cyclic_operators",
    "track_compute",
    "tracked_contexts",
]

Path = tuple[Any, ...]


class TrackedInputContext(InputContext):
    """An ``InputContext`` that notes the paths of every message it opens.

    ``_arrivals`` holds ``(path, receive_ns)`` for the current ``compute``; ``_closed`` the
    paths that ended here by closing a cycle; ``_start`` when the ``compute`` began.
    """

    __slots__ = ("_arrivals", "_closed", "_cyclic", "_name", "_start")

    def __init__(
        self, op_label: str, ports: dict[str, InputPort], streams: OperatorStreams, name: str, cyclic: bool
    ) -> None:
        super().__init__(op_label, ports, streams)
        self._fast = {}  # every message is opened by _open, which reads its label
        self._name = name
        self._cyclic = cyclic
        self._arrivals: list[tuple[Path, int]] = []
        self._closed: list[Path] = []
        self._start = 0

    def _open(self, envelope: Any, port: str) -> Any:
        label = getattr(envelope, "label", None)
        if label is not None:
            now = time_ns()
            for path in label:
                if self._cyclic and self._name in path[0::3]:
                    self._closed.append((*path, self._name, now, now))
                else:
                    self._arrivals.append((path, now))
        return super()._open(envelope, port)


class TrackedOutputContext(OutputContext):
    """An ``OutputContext`` that labels every message with the operator's paths so far."""

    __slots__ = ("_counts", "_inputs", "_name", "_passes")

    def __init__(
        self,
        op_label: str,
        ports: dict[str, Transmitter],
        streams: OperatorStreams,
        inputs: TrackedInputContext,
        passes: bool,
        counts: dict[str, int] | None,
    ) -> None:
        super().__init__(op_label, ports, streams)
        self._inputs = inputs
        self._name = inputs._name
        self._passes = passes
        """Whether the operator forwards labels without a hop of its own (limited tracking)."""
        self._counts = counts
        """Messages sent by port (``"operator->port"``) when the operator is a root, else None."""

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """As :meth:`OutputContext.emit`; the message also carries its timestamped paths."""
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        metadata: Mapping[str, Any] = dict(self._metadata) if self._metadata else NO_METADATA
        envelope = Envelope(data, metadata, None if acq_timestamp == -1 else int(acq_timestamp))
        arrivals = self._inputs._arrivals
        if not arrivals:
            envelope.label = ((self._name, self._inputs._start, time_ns()),)
        elif self._passes:
            envelope.label = tuple(path for path, _ in arrivals)
        else:
            now = time_ns()
            me = self._name
            envelope.label = tuple((*path, me, received, now) for path, received in arrivals)
        counts = self._counts
        if counts is not None:
            key = f"{self._name}->{name or next(iter(self._ports))}"
            counts[key] = counts.get(key, 0) + 1
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(envelope)
        else:
            transmitter.overflow(envelope)


def tracked_contexts(
    op_run: OpRun,
    data_inputs: dict[str, InputPort],
    data_outputs: dict[str, Transmitter],
    limited: bool,
    cyclic: bool,
) -> tuple[TrackedInputContext, TrackedOutputContext]:
    """The tracked input and output contexts of ``op_run`` (its ports built)."""
    name = op_run.op.name
    inputs = TrackedInputContext(op_run.label, data_inputs, op_run.streams, name, cyclic)
    root = not any(port.receivers for port in data_inputs.values())
    passes = limited and not root and not _is_leaf(data_outputs)
    outputs = TrackedOutputContext(
        op_run.label, data_outputs, op_run.streams, inputs, passes, {} if root else None
    )
    return inputs, outputs


def _is_leaf(data_outputs: dict[str, Transmitter]) -> bool:
    return not any(transmitter.receivers for transmitter in data_outputs.values())


def track_compute(op_run: OpRun, tracker: DataFlowTracker) -> Compute:
    """``op_run.compute`` (already built) with the tracking steps around it: note the start,
    then hand a leaf's completed paths, closed cycles and a root's message counts to
    ``tracker``."""
    compute = op_run.compute
    inputs = op_run.inputs
    outputs = op_run.outputs
    assert isinstance(inputs, TrackedInputContext) and isinstance(outputs, TrackedOutputContext)
    data_outputs = {k: v for k, v in op_run.transmitters.items() if k not in EXEC_PORTS}
    leaf = _is_leaf(data_outputs)
    name = op_run.op.name
    arrivals = inputs._arrivals
    closed = inputs._closed
    counts = outputs._counts

    def tracked(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
        arrivals.clear()
        inputs._start = time_ns()
        compute(op_input, op_output, context)
        if leaf and arrivals:
            now = time_ns()
            tracker._record([(*path, name, received, now) for path, received in arrivals])
        if closed:
            tracker._record(list(closed))
            closed.clear()
        if counts:
            tracker._count_sources(counts)

    return tracked


def cyclic_operators(graph: OperatorGraph) -> set[str]:
    """The names of the operators on a cycle of data connections."""
    successors: dict[str, set[str]] = {}
    for connection in graph.connections:
        if connection.output in EXEC_PORTS or connection.input in EXEC_PORTS:
            continue
        successors.setdefault(connection.source.name, set()).add(connection.target.name)
    cyclic = set()
    for start in successors:
        seen: set[str] = set()
        todo = list(successors[start])
        while todo:
            node = todo.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(successors.get(node, ()))
    return cyclic
