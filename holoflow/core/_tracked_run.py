"""Data-flow tracking inside a run: the contexts and ``compute`` wrappers of a tracked run.

Only a run of a fragment with a tracker (``Fragment.track``) builds these; an untracked run
uses the plain contexts and does no tracking work at all.

A message a tracked operator emits travels in an :class:`Envelope` whose ``label`` is a tuple
of *entries*, one per path the message is on: ``(start, names)`` where ``start`` is when the
root's ``compute`` began (ns of ``time.time_ns``) and ``names`` the operators passed so far (an
interned tuple: each operator extends a given tuple once and reuses the result). When the
tracker logs to a file the entry also carries every hop's times: ``(start, names, times)``
with ``times`` the flat ``(receive0, publish0, receive1, publish1, ...)``. A root (an operator
that received nothing in this ``compute``) starts an entry; a leaf's entries close at the end
of its ``compute`` and go to the tracker. With limited tracking, operators between roots and
leaves pass entries on untouched. A path that comes back to an operator it passed (a cycle)
ends there, at the receive time, as in Holoscan.

The receive fast path already opens envelopes through ``InputContext._open``; the tracked
contexts override it, so the untracked ``receive`` is not slowed down by tracking.
"""

from __future__ import annotations

from time import time_ns
from typing import TYPE_CHECKING, Any

from holoflow.core._context import InputContext, InputPort, OutputContext, _no_such_port
from holoflow.core._flow import EXEC_PORTS, data_ports
from holoflow.core._metadata import NO_METADATA, Envelope
from holoflow.tensor import EMITTED_AS_TENSOR_MAP, TensorMap

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

Entry = tuple[Any, ...]
"""``(start_ns, names)`` or, with per-hop times, ``(start_ns, names, times)``."""


class TrackedInputContext(InputContext):
    """An ``InputContext`` that notes the path entries of every message it opens.

    ``_arrivals`` holds the entries received in the current ``compute`` (with hop times kept,
    the receive time is appended to ``times``); ``_closed`` the entries that ended here by
    closing a cycle (with their receive time); ``_start`` when the ``compute`` began.
    """

    __slots__ = ("_arrivals", "_closed", "_cyclic", "_lean", "_name", "_start", "_timed")

    def __init__(
        self,
        op_label: str,
        ports: dict[str, InputPort],
        streams: OperatorStreams,
        name: str,
        cyclic: bool,
        timed: bool,
    ) -> None:
        super().__init__(op_label, ports, streams)
        self._name = name
        self._cyclic = cyclic
        self._timed = timed
        self._lean = not (timed or cyclic)
        """Whether receiving only collects entries (no times, no cycle checks)."""
        self._arrivals: list[Entry] = []
        self._closed: list[tuple[Entry, int]] = []
        self._start = 0

    def receive(self, name: str = "", *, kind: str = "") -> Any:
        """As :meth:`InputContext.receive`; a message's path entries are noted as it is taken."""
        queue = self._fast.get(name)
        if queue is None or kind:
            return super().receive(name, kind=kind)
        value = queue.popleft() if queue else None
        if type(value) is Envelope:
            try:
                label = value.label
            except AttributeError:  # an envelope from outside the tracked contexts
                return self._finish(super()._open(value, name or self._only), name)
            if self._lean:
                self._arrivals += label
            else:
                self._note(label)
            if value.acq_timestamp is None and not value.metadata:
                value = value.message
            else:
                value = super()._open(value, name or self._only)
        if type(value) is TensorMap:
            self._streams.note(name or self._only, value)
        return value

    def _finish(self, value: Any, name: str) -> Any:
        if type(value) is TensorMap:
            self._streams.note(name or self._only, value)
        return value

    def _open(self, envelope: Any, port: str) -> Any:
        label = getattr(envelope, "label", None)
        if label is not None:
            self._note(label)
        return super()._open(envelope, port)

    def _note(self, label: tuple[Entry, ...]) -> None:
        if self._lean:
            self._arrivals += label
            return
        now = time_ns()
        for entry in label:
            if self._cyclic and self._name in entry[1]:
                self._closed.append((entry, now))
            elif self._timed:
                self._arrivals.append((entry[0], entry[1], (*entry[2], now)))
            else:
                self._arrivals.append(entry)


class TrackedOutputContext(OutputContext):
    """An ``OutputContext`` that labels every message with the operator's path entries."""

    __slots__ = ("_counts", "_extended", "_inputs", "_name", "_passes", "_root_names", "_timed")

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
        self._timed = inputs._timed
        self._root_names = (inputs._name,)
        self._extended: dict[tuple[str, ...], tuple[str, ...]] = {}
        """Each path-so-far seen, extended with this operator (interned)."""
        self._passes = passes
        """Whether the operator forwards entries without adding itself (limited tracking)."""
        self._counts = counts
        """Messages sent by ``"operator->port"`` when the operator is a root, else None."""

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """As :meth:`OutputContext.emit`; the message also carries its path entries."""
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        envelope = Envelope(
            data,
            dict(self._metadata) if self._metadata else NO_METADATA,
            None if acq_timestamp == -1 else int(acq_timestamp),
        )
        arrivals = self._inputs._arrivals
        if len(arrivals) == 1 and not self._timed and not self._passes:  # the common case, inline
            start, names = arrivals[0]
            envelope.label = ((start, self._extended.get(names) or self._extend(names)),)
        else:
            envelope.label = self._label_now()
        counts = self._counts
        if counts is not None:
            key = f"{self._name}->{name or next(iter(self._ports))}"
            counts[key] = counts.get(key, 0) + 1
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(envelope)
        else:
            transmitter.overflow(envelope)

    def _label_now(self) -> tuple[Entry, ...]:
        arrivals = self._inputs._arrivals
        if not arrivals:
            start = self._inputs._start
            if self._timed:
                return ((start, self._root_names, (start, time_ns())),)
            return ((start, self._root_names),)
        if self._passes:
            return tuple(arrivals)
        extended = self._extended
        if self._timed:
            now = time_ns()
            return tuple((e[0], extended.get(e[1]) or self._extend(e[1]), (*e[2], now)) for e in arrivals)
        return tuple((e[0], extended.get(e[1]) or self._extend(e[1])) for e in arrivals)

    def _extend(self, names: tuple[str, ...]) -> tuple[str, ...]:
        longer = self._extended[names] = (*names, self._name)
        return longer


def tracked_contexts(
    op_run: OpRun,
    data_inputs: dict[str, InputPort],
    data_outputs: dict[str, Transmitter],
    tracker: DataFlowTracker,
    cyclic: bool,
) -> tuple[TrackedInputContext, TrackedOutputContext]:
    """The tracked input and output contexts of ``op_run`` (its ports built)."""
    inputs = TrackedInputContext(
        op_run.label, data_inputs, op_run.streams, op_run.op.name, cyclic, tracker._logging()
    )
    root = _is_root(data_inputs)
    passes = tracker.limited_tracking() and not root and not _is_leaf(data_outputs)
    counts: dict[str, int] | None = {} if root else None
    outputs = TrackedOutputContext(op_run.label, data_outputs, op_run.streams, inputs, passes, counts)
    return inputs, outputs


def _is_root(data_inputs: dict[str, InputPort]) -> bool:
    return not any(port.receivers for port in data_inputs.values())


def _is_leaf(data_outputs: dict[str, Transmitter]) -> bool:
    return not any(transmitter.receivers for transmitter in data_outputs.values())


def track_compute(op_run: OpRun, tracker: DataFlowTracker) -> Compute:
    """``op_run.compute`` (already built) with the tracking steps around it: forget the last
    ``compute``'s arrivals, note the start (roots), then hand a leaf's completed paths, closed
    cycles and a root's message counts to ``tracker``."""
    compute = op_run.compute
    inputs = op_run.inputs
    outputs = op_run.outputs
    assert isinstance(inputs, TrackedInputContext) and isinstance(outputs, TrackedOutputContext)
    leaf = _is_leaf(data_ports(op_run.transmitters))
    me = op_run.op.name
    arrivals = inputs._arrivals
    closed = inputs._closed
    counts = outputs._counts
    if counts is not None:
        tracker._add_source_counts(counts)
    cyclic = inputs._cyclic

    if counts is None and not leaf and not cyclic:  # a middle operator: the least work

        def tracked_middle(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
            arrivals.clear()
            compute(op_input, op_output, context)

        return tracked_middle

    def tracked(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
        arrivals.clear()
        inputs._start = time_ns()
        compute(op_input, op_output, context)
        if leaf and arrivals:
            tracker._record(me, arrivals, time_ns())
        if closed:
            for entry, received in closed:
                ended = entry if len(entry) == 2 else (entry[0], entry[1], (*entry[2], received))
                tracker._record(me, [ended], received)
            closed.clear()

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
