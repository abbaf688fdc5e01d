"""The input and output contexts of a tracked run: they carry and extend each message's paths.

Only a run of a fragment with a tracker builds these (``_tracked_run`` chooses one class per
operator); an untracked run keeps the plain contexts and pays nothing for tracking.

Labels
------
A tracked message travels in an :class:`Envelope` whose ``label`` is one *entry* (a tuple) when
the message is on one path, or a list of entries when it is on several. An entry is
``(start, names)``: when the root's ``compute`` began (ns of ``time.time_ns``) and the operators
passed so far (a tuple, interned: each operator extends a given tuple once and reuses the
result); with hop times kept it is ``(start, names, times)``, ``times`` being the flat
``(receive0, publish0, receive1, publish1, ...)``. A message a root sends while sampling leaves
it out travels plain, as in an untracked run.

What an operator sends on is Holoscan's rule: per input port, the label of what the last
``receive`` on it returned (one entry, a list, :data:`PLAIN` for an unlabelled message, or
nothing for an empty receive), kept until the port is received from again; a leaf forgets them
after each ``compute``. An operator holding no label at all is a root for what it emits; one
holding only :data:`PLAIN` labels sends plain messages.

The classes here are the general ones plus fast paths for the common shapes (see
``_tracked_run.tracked_contexts``): :class:`ChainInput` / :class:`ChainOutput` for an operator
with one plain input port, and :class:`RootOutput` for a root, without hop times.
"""

from __future__ import annotations

from time import time_ns
from typing import TYPE_CHECKING, Any, Final

from holoflow.core._context import InputContext, InputPort, OutputContext, _no_such_port
from holoflow.core._metadata import NO_METADATA, Envelope
from holoflow.tensor import EMITTED_AS_TENSOR_MAP, TensorMap

if TYPE_CHECKING:
    from collections import deque

    from holoflow.core._queue import Transmitter
    from holoflow.core._streams import OperatorStreams
    from holoflow.core._tracked_run import OperatorSink

__all__ = [
    "PLAIN",
    "ChainInput",
    "ChainOutput",
    "Entry",
    "Label",
    "RootOutput",
    "TrackedInputContext",
    "TrackedOutputContext",
]

Entry = tuple[Any, ...]
"""``(start_ns, names)`` or, with hop times, ``(start_ns, names, times)``."""
Label = Entry | list[Entry]

PLAIN: Final = False
"""The label of a port whose last message was unlabelled (sampled out)."""

_new_envelope = Envelope.__new__


def _labelled(data: Any, label: Label, metadata: Any, acq_timestamp: int) -> Envelope:
    """``data`` in an envelope carrying ``label`` (``Envelope.__new__`` skips ``__init__``'s frame)."""
    envelope = _new_envelope(Envelope)
    envelope.message = data
    envelope.metadata = dict(metadata) if metadata else NO_METADATA
    envelope.acq_timestamp = None if acq_timestamp == -1 else int(acq_timestamp)
    envelope.label = label
    return envelope


def _plain(data: Any, metadata: Any, acq_timestamp: int) -> Any:
    """``data`` as an untracked emit sends it."""
    if metadata:
        return Envelope(data, dict(metadata), None if acq_timestamp == -1 else int(acq_timestamp))
    if acq_timestamp != -1:
        return Envelope(data, NO_METADATA, int(acq_timestamp))
    return data


class TrackedInputContext(InputContext):
    """An ``InputContext`` that keeps, per input port, the label of what it last received.

    With hop times kept (``timed``) each received entry gets its receive time appended and the
    message's queue time (receive minus the sender's publish) goes to ``queue_times``. On a
    cycle (``cyclic``), an entry that already passed this operator ends here, at its receive
    time, and goes to ``sink``.
    """

    __slots__ = ("_collected", "_cyclic", "_labels", "_name", "_queue_times", "_sink", "_timed")

    def __init__(
        self,
        op_label: str,
        ports: dict[str, InputPort],
        streams: OperatorStreams,
        name: str,
        *,
        timed: bool = False,
        cyclic: bool = False,
        sink: OperatorSink | None = None,
        queue_times: deque[int] | None = None,
    ) -> None:
        super().__init__(op_label, ports, streams)
        self._name = name
        self._timed = timed
        self._cyclic = cyclic
        self._sink = sink
        self._queue_times = queue_times
        self._labels: dict[str, Label | bool] = {}
        self._collected: list[Label] = []
        """The labels of the envelopes opened by the ``receive`` in progress."""

    def receive(self, name: str = "", *, kind: str = "") -> Any:
        """As :meth:`InputContext.receive`; the port's label becomes that of what it returns."""
        collected = self._collected
        collected.clear()
        value = InputContext.receive(self, name, kind=kind)
        if collected:
            label: Label | bool | None = self._accept(collected)
        elif value is None or (type(value) is tuple and all(item is None for item in value)):
            label = None
        else:
            label = PLAIN
        self._set(name or self._only, label)
        return value

    def _open(self, envelope: Any, port: str) -> Any:
        try:
            self._collected.append(envelope.label)
        except AttributeError:  # metadata only: an envelope from outside the tracked emits
            pass
        return InputContext._open(self, envelope, port)

    def _accept(self, labels: list[Label]) -> Label | None:
        """The label a port keeps for the messages (labels) one receive took: their entries,
        with receive times when timed; entries closing a cycle go to the sink instead."""
        entries: list[Entry] = []
        for label in labels:
            if type(label) is tuple:
                entries.append(label)
            else:
                entries.extend(label)
        if self._timed or self._cyclic:
            now = time_ns()
            if self._queue_times is not None:
                for label in labels:
                    first = label if type(label) is tuple else label[0]
                    self._queue_times.append(now - first[2][-1])
            if self._timed:
                entries = [(e[0], e[1], (*e[2], now)) for e in entries]
            if self._cyclic:
                closing = [e for e in entries if self._name in e[1]]
                if closing:
                    assert self._sink is not None
                    for entry in closing:
                        self._sink.add(entry, now)
                    entries = [e for e in entries if self._name not in e[1]]
        if not entries:
            return None
        return entries[0] if len(entries) == 1 else entries

    def _set(self, port: str, label: Label | bool | None) -> None:
        if label is None:
            self._labels.pop(port, None)
        else:
            self._labels[port] = label

    def current(self) -> Label | bool | None:
        """The paths what the operator emits now continues: a label, :data:`PLAIN` (only
        unlabelled messages held) or ``None`` (nothing held: the operator acts as a root)."""
        labels = self._labels
        if not labels:
            return None
        if len(labels) == 1:
            (label,) = labels.values()
            return label
        entries: list[Entry] = []
        for label in labels.values():
            if type(label) is tuple:
                entries.append(label)
            elif type(label) is list:
                entries.extend(label)
        if not entries:
            return PLAIN
        return entries[0] if len(entries) == 1 else entries

    def forget(self) -> None:
        """Drop every port's label (a leaf, after each ``compute``)."""
        self._labels.clear()


class ChainInput(TrackedInputContext):
    """The fast path for an operator with one input port (no hop times, no cycle): its label
    is one attribute, set by ``receive`` straight from the queue."""

    __slots__ = ("label",)

    def __init__(
        self, op_label: str, ports: dict[str, InputPort], streams: OperatorStreams, name: str
    ) -> None:
        super().__init__(op_label, ports, streams, name)
        self.label: Label | bool | None = None

    def receive(self, name: str = "", *, kind: str = "") -> Any:
        """As :meth:`InputContext.receive`; the port's label becomes that of what it returns."""
        queue = self._fast.get(name)
        if queue is None or kind:
            return TrackedInputContext.receive(self, name, kind=kind)
        if not queue:
            self.label = None
            return None
        value = queue.popleft()
        if type(value) is Envelope:
            try:
                self.label = value.label
            except AttributeError:  # metadata only: an envelope from outside the tracked emits
                self.label = False  # PLAIN
            if value.acq_timestamp is None and not value.metadata:
                value = value.message
            else:
                value = InputContext._open(self, value, name or self._only)
        else:
            self.label = False  # PLAIN, as a constant: the sampled-out path is the hot one
        if type(value) is TensorMap:
            self._streams.note(name or self._only, value)
        return value

    def _set(self, port: str, label: Label | bool | None) -> None:  # noqa: ARG002 - one port
        self.label = label

    def current(self) -> Label | bool | None:
        return self.label

    def forget(self) -> None:
        self.label = None


class TrackedOutputContext(OutputContext):
    """An ``OutputContext`` whose messages carry the operator's paths (see the module docstring).

    ``start`` is when the current ``compute`` began, set by the run for operators that may act
    as roots (0: this compute is sampled out; ``None``: not set, the emit's time is used).
    ``sent`` counts a root's messages by port (``""`` for the unnamed only port).
    """

    __slots__ = (
        "_countdown",
        "_every",
        "_extended",
        "_inputs",
        "_name",
        "_passes",
        "_root_names",
        "_timed",
        "sent",
        "start",
    )

    def __init__(
        self,
        op_label: str,
        ports: dict[str, Transmitter],
        streams: OperatorStreams,
        inputs: TrackedInputContext,
        *,
        timed: bool = False,
        passes: bool = False,
        root: bool = False,
        every: int = 1,
    ) -> None:
        super().__init__(op_label, ports, streams)
        self._inputs = inputs
        self._name = inputs._name
        self._timed = timed
        self._passes = passes
        """Whether entries go on unchanged (limited tracking, an operator between roots and leaves)."""
        self._root_names = (self._name,)
        self._extended: dict[tuple[str, ...], tuple[str, ...]] = {}
        """Each path-so-far seen, extended with this operator (interned)."""
        self._every = every
        self._countdown = 0
        self.start: int | None = None
        self.sent: dict[str, int] | None = dict.fromkeys(self._ports, 0) if root else None

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """As :meth:`OutputContext.emit`; the message also carries its path entries."""
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        if self.sent is not None:
            self.sent[name] += 1
        label = self._label_now(self._inputs.current())
        if label is None:
            data = _plain(data, self._metadata, acq_timestamp)
        else:
            data = _labelled(data, label, self._metadata, acq_timestamp)
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(data)
        else:
            transmitter.overflow(data)

    def _label_now(self, held: Label | bool | None) -> Label | None:
        """The label of a message emitted now, from what the inputs hold (``None``: plain)."""
        if held is None:
            return self._root_entry()
        if held is PLAIN:
            return None
        if self._passes:
            return held  # type: ignore[return-value]
        extended = self._extended
        if self._timed:
            now = time_ns()
            if type(held) is tuple:
                return (held[0], extended.get(held[1]) or self._extend(held[1]), (*held[2], now))
            return [(e[0], extended.get(e[1]) or self._extend(e[1]), (*e[2], now)) for e in held]  # type: ignore[union-attr]
        if type(held) is tuple:
            return (held[0], extended.get(held[1]) or self._extend(held[1]))
        return [(e[0], extended.get(e[1]) or self._extend(e[1])) for e in held]  # type: ignore[union-attr]

    def _root_entry(self) -> Entry | None:
        """A new path starting here, or ``None`` when this compute is sampled out."""
        start = self.start
        if start is None:  # no compute start known: sample and time by emits
            if self._countdown:
                self._countdown -= 1
                return None
            self._countdown = self._every - 1
            start = time_ns()
        elif not start:
            return None
        if self._timed:
            return (start, self._root_names, (start, time_ns()))
        return (start, self._root_names)

    def _extend(self, names: tuple[str, ...]) -> tuple[str, ...]:
        longer = self._extended[names] = (*names, self._name)
        return longer


class ChainOutput(TrackedOutputContext):
    """The fast path of :class:`TrackedOutputContext` for a :class:`ChainInput` operator that
    adds itself to paths without hop times."""

    __slots__ = ()

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """As :meth:`OutputContext.emit`; the message also carries its path entries."""
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        held = self._inputs.label  # type: ignore[attr-defined]
        if held is False:  # PLAIN
            if self._metadata:
                data = Envelope(
                    data, dict(self._metadata), None if acq_timestamp == -1 else int(acq_timestamp)
                )
            elif acq_timestamp != -1:
                data = Envelope(data, NO_METADATA, int(acq_timestamp))
        elif type(held) is tuple:
            envelope = _new_envelope(Envelope)
            envelope.message = data
            envelope.metadata = dict(self._metadata) if self._metadata else NO_METADATA
            envelope.acq_timestamp = None if acq_timestamp == -1 else int(acq_timestamp)
            names = held[1]
            envelope.label = (held[0], self._extended.get(names) or self._extend(names))
            data = envelope
        else:
            label = self._label_now(held)
            if label is None:
                data = _plain(data, self._metadata, acq_timestamp)
            else:
                data = _labelled(data, label, self._metadata, acq_timestamp)
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(data)
        else:
            transmitter.overflow(data)


class RootOutput(TrackedOutputContext):
    """The fast path of :class:`TrackedOutputContext` for a root without hop times: each emit
    counts the message and starts its path at ``start`` (a plain message when 0)."""

    __slots__ = ()

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        """As :meth:`OutputContext.emit`; the message also starts a path here."""
        transmitter = self._ports.get(name)
        if transmitter is None:
            raise _no_such_port(self._label, "output", name, [p for p in self._ports if p])
        if type(data) in EMITTED_AS_TENSOR_MAP:
            data = EMITTED_AS_TENSOR_MAP[type(data)](data)
            self._streams.stamp(name, data)
        self.sent[name] += 1  # type: ignore[index]
        start = self.start
        if start:
            envelope = _new_envelope(Envelope)
            envelope.message = data
            envelope.metadata = dict(self._metadata) if self._metadata else NO_METADATA
            envelope.acq_timestamp = None if acq_timestamp == -1 else int(acq_timestamp)
            envelope.label = (start, self._root_names)
            data = envelope
        elif self._metadata:
            data = Envelope(data, dict(self._metadata), None if acq_timestamp == -1 else int(acq_timestamp))
        elif acq_timestamp != -1:
            data = Envelope(data, NO_METADATA, int(acq_timestamp))
        pending = transmitter.pending
        if len(pending) < transmitter.capacity:
            pending.append(data)
        else:
            transmitter.overflow(data)
