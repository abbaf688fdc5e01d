"""The executor kernel every scheduler shares: building a run, readiness, commit, lifecycle.

Design
======
A *run* starts from a composed, frozen graph. :class:`GraphRun` turns it into plain run-time
objects once, so that the hot path touches only lists, deques and bound methods:

* every input port gets a :class:`~holoflow.core._queue.Receiver` (one per connection for an
  ``ANY_SIZE`` port), every output port a :class:`~holoflow.core._queue.Transmitter` that knows
  the receivers it feeds;
* every port gets its conditions: the ones declared on its ``IOSpec``, or the defaults
  (``MessageAvailableCondition`` on inputs, ``DownstreamMessageAffordableCondition`` on outputs);
* each operator gets an :class:`OpRun` holding its contexts and its conditions, split so that
  the built-in port conditions cost no call: ``need`` — ``(deque, n)`` pairs, ready iff
  ``len(deque) >= n`` (message available); ``room`` — ``(receiver, n)`` pairs, ready iff the
  receiver has room for ``n`` more counting reserved slots (downstream affordable); ``conds`` —
  everything else, asked through ``check(now)``; plus the subsets overriding ``update_state`` /
  ``on_execute``.

Readiness (:meth:`GraphRun.evaluate`) combines statuses with the priority
NEVER > WAIT_EVENT > WAIT > WAIT_TIME > READY; the WAIT_TIME target of an operator is the latest
of its conditions' targets. Execution is ``compute`` followed by :meth:`GraphRun.commit`, which
delivers what was emitted and calls ``on_execute``. A message is therefore visible downstream
only after its producer's compute returned.

Threaded schedulers evaluate, reserve, commit and release under one lock and run ``compute``
outside it. :meth:`GraphRun.reserve` books ``n`` slots in every receiver an operator's
affordability condition promised before the operator is dispatched, and
:meth:`GraphRun.release` returns them after its commit; so producers running at the same time
can never overfill a shared queue. Conditions changed from outside call ``notify()``, which
reaches :attr:`GraphRun.on_notify` with the operator concerned.

Invariants
----------
* An operator is evaluated, executed and committed by one thread at a time, and never runs
  concurrently with itself.
* Only an operator's own ``compute`` pops its input queues; producers append under the lock.
  Both sides use ``collections.deque``, whose appends and pops are thread-safe.
* NEVER is final: an operator that said NEVER once is not evaluated again in that run.
* ``start`` runs for every operator before the first ``compute``; ``stop`` runs exactly once for
  every operator whose ``start`` returned, also when the run fails.
* The first exception raised by user code ends the run and propagates unchanged, with a note
  naming the operator and the method.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from holoflow import _env
from holoflow.conditions import (
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
)
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType
from holoflow.core._context import ExecutionContext, InputContext, InputPort, OutputContext, PortMode
from holoflow.core._fragment import Fragment
from holoflow.core._graph import Connection
from holoflow.core._operator import Operator
from holoflow.core._queue import QueuePolicy, Receiver, Transmitter
from holoflow.core._spec import IOSpec
from holoflow.core._streams import OperatorStreams
from holoflow.errors import GraphError

__all__ = ["GraphRun", "OpRun", "annotate"]

READY = SchedulingStatusType.READY
NEVER = SchedulingStatusType.NEVER
WAIT = SchedulingStatusType.WAIT
WAIT_TIME = SchedulingStatusType.WAIT_TIME
WAIT_EVENT = SchedulingStatusType.WAIT_EVENT
_RANK = {READY: 0, WAIT_TIME: 1, WAIT: 2, WAIT_EVENT: 3, NEVER: 4}
_BY_RANK = [READY, WAIT_TIME, WAIT, WAIT_EVENT, NEVER]

_INPUT_CONDITIONS: dict[ConditionType, type[Condition]] = {
    ConditionType.MESSAGE_AVAILABLE: MessageAvailableCondition,
    ConditionType.EXPIRING_MESSAGE_AVAILABLE: ExpiringMessageAvailableCondition,
}
_OUTPUT_CONDITIONS: dict[ConditionType, type[Condition]] = {
    ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE: DownstreamMessageAffordableCondition,
}
_POLICY_NAMES = {
    "pop": QueuePolicy.POP,
    "reject": QueuePolicy.REJECT,
    "fail": QueuePolicy.FAULT,
    "fault": QueuePolicy.FAULT,
}


def annotate(exc: BaseException, where: str) -> None:
    """Attach ``where`` (operator and method) to ``exc`` as a note, once."""
    note = f"raised in {where}"
    notes = getattr(exc, "__notes__", None) or []
    if note in notes:
        return
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*notes, note]  # type: ignore[attr-defined]


def _overrides(condition: Condition, method: str) -> bool:
    return getattr(type(condition), method) is not getattr(Condition, method)


def _default_policy() -> QueuePolicy:
    name = _env.queue_policy_name() or "fail"
    try:
        return _POLICY_NAMES[name.strip().lower()]
    except KeyError:
        raise GraphError(
            f"queue policy {name!r} from the environment is not one of {sorted(_POLICY_NAMES)}"
        ) from None


class OpRun:
    """The run-time state of one operator during one run."""

    __slots__ = (
        "affinity",
        "compute",
        "conds",
        "consumers",
        "context",
        "dirty",
        "exec_conds",
        "finished",
        "graph_run",
        "input_ports",
        "inputs",
        "label",
        "need",
        "op",
        "outputs",
        "producers",
        "room",
        "running",
        "started",
        "status",
        "stop_requested",
        "streams",
        "transmitters",
        "update_conds",
    )

    def __init__(self, op: Operator, graph_run: GraphRun) -> None:
        self.op = op
        self.label = f"operator '{op.name}'"
        self.graph_run = graph_run
        self.compute = op.compute
        self.input_ports: dict[str, InputPort] = {}
        self.transmitters: dict[str, Transmitter] = {}
        self.need: list[tuple[Any, int]] = []
        self.room: list[tuple[Receiver, int]] = []
        self.producers: list[OpRun] = []
        self.consumers: list[OpRun] = []
        self.affinity: Any = None
        self.conds: list[Condition] = []
        self.update_conds: list[Condition] = []
        self.exec_conds: list[Condition] = []
        self.started = False
        self.stop_requested = False
        # Scheduler bookkeeping, guarded by the threaded scheduler's lock.
        self.dirty = False
        self.running = False
        self.finished = False
        self.status = READY
        self.streams: OperatorStreams
        self.inputs: InputContext
        self.outputs: OutputContext
        self.context: ExecutionContext

    def request_stop(self) -> None:
        """Make the operator NEVER from now on and wake the scheduler."""
        self.stop_requested = True
        self.graph_run.on_notify(self)

    def port_runtime(self, name: str, kind: str) -> Receiver | Transmitter | list[Receiver]:
        """The receiver (or per-connection receivers) of an input, the transmitter of an output."""
        if kind == "output":
            return self.transmitters[name]
        receivers = self.input_ports[name].receivers
        if self.input_ports[name].mode is PortMode.PER_CONNECTION:
            return list(receivers)
        if not receivers:
            raise GraphError(f"{self.label}: input port '{name}' is connected to nothing")
        return receivers[0]


class GraphRun:
    """One run of a fragment's graph: run-time objects, readiness, commit and lifecycle.

    Parameters
    ----------
    fragment : Fragment
        A composed fragment.
    now : callable
        The scheduler clock's ``timestamp`` (ns), used for arrival times.

    Raises
    ------
    GraphError
        If the graph cannot run: a required input connected to nothing, an unsupported port
        condition or connector.
    """

    def __init__(self, fragment: Fragment, now: Callable[[], int]) -> None:
        self.fragment = fragment
        self.now = now
        self.wake = threading.Event()
        self.stop_requested = False
        self.on_notify: Callable[[OpRun], None] = lambda _r: self.wake.set()
        graph = fragment.graph
        self.ops = [OpRun(op, self) for op in graph.topological_order()]
        by_op = {id(r.op): r for r in self.ops}
        operators = {r.op.name: r.op for r in self.ops}
        policy = _default_policy()
        connections = graph.connections
        for r in self.ops:
            self._build_inputs(r, [c for c in connections if c.target is r.op], policy)
        for r in self.ops:
            self._build_outputs(r, [c for c in connections if c.source is r.op], by_op, policy)
        for c in connections:
            source, target = by_op[id(c.source)], by_op[id(c.target)]
            if target not in source.consumers:
                source.consumers.append(target)
            if source not in target.producers:
                target.producers.append(source)
        for r in self.ops:
            self._bind_conditions(r)
            r.streams = OperatorStreams(r.op)
            r.inputs = InputContext(r.label, r.input_ports, r.streams)
            r.outputs = OutputContext(r.label, dict(r.transmitters), r.streams)
            r.context = ExecutionContext(r.inputs, r.outputs, operators, r.streams)

    # -- building ----------------------------------------------------------------------------------
    def _user_bound_ports(self, op: Operator, attr: str) -> set[str]:
        return {getattr(c, attr) for c in op.conditions.values() if getattr(c, attr, None)}

    def _build_inputs(self, r: OpRun, incoming: list[Connection], policy: QueuePolicy) -> None:
        op = r.op
        user_bound = self._user_bound_ports(op, "receiver_name")
        for name, spec in op.spec.inputs.items():
            links = [c for c in incoming if c.input == name]
            declared = spec.conditions
            if any(kind is ConditionType.NONE for kind, _ in declared):
                conds: list[tuple[type[Condition], dict[str, Any]]] = []
            elif declared:
                conds = [(self._port_condition(spec, kind, _INPUT_CONDITIONS), kw) for kind, kw in declared]
            elif name in user_bound:
                conds = []
            else:
                min_size = len(links) if spec.queue_size == 0 else max(spec.queue_size, 1)
                conds = [(MessageAvailableCondition, {"min_size": max(min_size, 1)})]
            tracks = any(getattr(cls, "tracks_arrivals", False) for cls, _ in conds)
            queue_policy = spec._policy(policy)
            if spec.queue_size == IOSpec.ANY_SIZE:
                mode = PortMode.PER_CONNECTION
                receivers = [
                    Receiver(f"{r.label}: input port '{name}:{k}'", spec._capacity(1), queue_policy, tracks)
                    for k in range(len(links))
                ]
                conds_for = [conds] * len(receivers)
            else:
                mode = PortMode.SINGLE if spec.queue_size == 1 else PortMode.BATCH
                if not links:
                    if conds:
                        raise GraphError(
                            f"{r.label}: input port '{name}' is connected to nothing, so it can never "
                            "receive the message its condition waits for; connect it with add_flow or "
                            "declare it with .condition(ConditionType.NONE)"
                        )
                    receivers = []
                    conds_for = []
                else:
                    receivers = [Receiver(spec.label, spec._capacity(len(links)), queue_policy, tracks)]
                    conds_for = [conds]
            for receiver, cond_list in zip(receivers, conds_for, strict=True):
                for cls, kwargs in cond_list:
                    condition = self._make(cls, kwargs, spec.label)
                    condition.bind(receiver)  # type: ignore[attr-defined]
                    self._add_condition(r, condition)
            r.input_ports[name] = InputPort(spec.label, mode, receivers)

    def _build_outputs(
        self, r: OpRun, outgoing: list[Connection], by_op: dict[int, OpRun], policy: QueuePolicy
    ) -> None:
        op = r.op
        user_bound = self._user_bound_ports(op, "transmitter_name")
        for name, spec in op.spec.outputs.items():
            transmitter = Transmitter(spec.label, spec._capacity(1), spec._policy(policy))
            for link in (c for c in outgoing if c.output == name):
                target = by_op[id(link.target)]
                port = target.input_ports[link.input]
                if port.mode is PortMode.PER_CONNECTION:
                    index = self._connection_index(link)
                    transmitter.receivers.append(port.receivers[index])
                else:
                    transmitter.receivers.append(port.receivers[0])
            r.transmitters[name] = transmitter
            declared = spec.conditions
            if any(kind is ConditionType.NONE for kind, _ in declared):
                conds: list[tuple[type[Condition], dict[str, Any]]] = []
            elif declared:
                conds = [(self._port_condition(spec, kind, _OUTPUT_CONDITIONS), kw) for kind, kw in declared]
            elif name in user_bound:
                conds = []
            else:
                conds = [(DownstreamMessageAffordableCondition, {"min_size": 1})]
            for cls, kwargs in conds:
                condition = self._make(cls, kwargs, spec.label)
                condition.bind(transmitter)  # type: ignore[attr-defined]
                self._add_condition(r, condition)

    def _connection_index(self, link: Connection) -> int:
        same_port = [
            c for c in self.fragment.graph.connections if c.target is link.target and c.input == link.input
        ]
        return same_port.index(link)

    @staticmethod
    def _port_condition(
        spec: IOSpec, kind: ConditionType, table: dict[ConditionType, type[Condition]]
    ) -> type[Condition]:
        if kind not in table:
            raise GraphError(
                f"{spec.label}: condition {kind.name} is not supported on this port; "
                f"supported: {sorted(k.name for k in table)} or NONE"
            )
        return table[kind]

    def _make(self, cls: type[Condition], kwargs: dict[str, Any], label: str) -> Condition:
        try:
            return cls(self.fragment, **kwargs)  # type: ignore[call-arg]
        except TypeError as exc:
            raise GraphError(f"{label}: invalid arguments for {cls.__name__}: {exc}") from exc

    def _bind_conditions(self, r: OpRun) -> None:
        for condition in r.op.conditions.values():
            bind = getattr(condition, "bind", None)
            if bind is not None:
                if condition.receiver_name:
                    bind(r.port_runtime(condition.receiver_name, "input"))
                elif condition.transmitter_name:
                    bind(r.transmitters[condition.transmitter_name])
            self._add_condition(r, condition)

    def _add_condition(self, r: OpRun, condition: Condition) -> None:
        condition._notify = lambda: self.on_notify(r)
        # Only the exact built-in classes are flattened: a subclass may redefine check().
        if type(condition) is MessageAvailableCondition:
            r.need.extend(condition.need_checks())
        elif type(condition) is DownstreamMessageAffordableCondition:
            r.room.extend(condition.room_checks())
        else:
            r.conds.append(condition)
        if _overrides(condition, "update_state"):
            r.update_conds.append(condition)
        if _overrides(condition, "on_execute"):
            r.exec_conds.append(condition)

    # -- readiness and commit ------------------------------------------------------------------------
    def evaluate(self, r: OpRun, now: int) -> tuple[SchedulingStatusType, int | None]:
        """Combine the operator's conditions into one status (and WAIT_TIME target)."""
        if r.stop_requested:
            return NEVER, None
        rank = 0
        target = None
        for condition in r.update_conds:
            condition.update_state(now)
        for condition in r.conds:
            status, when = condition.check(now)
            if status is READY:
                continue
            if status is NEVER:
                return NEVER, None
            if status is WAIT_TIME:
                if when is not None and (target is None or when > target):
                    target = when
            elif _RANK[status] > rank:
                rank = _RANK[status]
        for queue, n in r.need:
            if len(queue) < n:
                return (WAIT_EVENT if rank == 3 else WAIT), None
        for receiver, n in r.room:
            if len(receiver.queue) + receiver.reserved + n > receiver.capacity:
                return (WAIT_EVENT if rank == 3 else WAIT), None
        if rank:
            return _BY_RANK[rank], None
        if target is not None:
            return WAIT_TIME, target
        return READY, None

    @staticmethod
    def commit(r: OpRun, now: int) -> None:
        """Deliver what the operator emitted, let go of what it received (see ``OperatorStreams``),
        and tell its conditions it executed."""
        for transmitter in r.transmitters.values():
            if transmitter.pending:
                transmitter.deliver(now)
        streams = r.streams
        if streams.received or streams.in_use:
            streams.retire()
        for condition in r.exec_conds:
            condition.on_execute(now)

    @staticmethod
    def reserve(r: OpRun) -> None:
        """Book the slots the operator's affordability conditions promised (before dispatch)."""
        for receiver, n in r.room:
            receiver.reserved += n

    @staticmethod
    def release(r: OpRun) -> None:
        """Return the slots booked by :meth:`reserve` (after commit)."""
        for receiver, n in r.room:
            receiver.reserved -= n

    # -- lifecycle -----------------------------------------------------------------------------------
    def initialize(self) -> None:
        """Reset conditions, bind parameters and call ``initialize`` on every operator in order."""
        for r in self.ops:
            op = r.op
            op._holoflow_run = r
            for condition in op.conditions.values():
                condition.reset()
                condition.initialize()
            for resource in op.resources.values():
                resource.initialize()
            op._bind_params()
            self._call(r, op.initialize, "initialize")

    def start(self) -> None:
        """Call ``start`` on every operator, in topological order."""
        for r in self.ops:
            self._call(r, r.op.start, "start")
            r.started = True

    def stop(self) -> BaseException | None:
        """Call ``stop`` on every started operator; return the first exception it raised."""
        first: BaseException | None = None
        for r in self.ops:
            if r.started:
                r.started = False
                try:
                    self._call(r, r.op.stop, "stop")
                except BaseException as exc:
                    first = first or exc
        for r in self.ops:
            r.op._holoflow_run = None
            r.streams.release()
        return first

    @staticmethod
    def _call(r: OpRun, method: Callable[[], None], name: str) -> None:
        try:
            method()
        except BaseException as exc:
            annotate(exc, f"{r.label}.{name}()")
            raise

    def execute(self, body: Callable[[], None]) -> None:
        """Initialize and start every operator, run ``body``, then stop every started operator.

        Re-raises the first exception (with its note); an exception from ``stop`` during a
        failed run is added to the first one as a note.
        """
        error: BaseException | None = None
        try:
            self.initialize()
            self.start()
            body()
        except BaseException as exc:
            error = exc
        stop_error = self.stop()
        if error is not None:
            if stop_error is not None:
                annotate(error, "the run; stop() also raised " + repr(stop_error))
            raise error
        if stop_error is not None:
            raise stop_error

    def request_stop(self) -> None:
        """Ask the run to end soon; safe from any thread."""
        self.stop_requested = True
        self.wake.set()
