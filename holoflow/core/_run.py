"""The run kernel every scheduler shares: readiness, commit, lifecycle and the stop rule.

Design
======
A *run* starts from a composed, frozen graph. :class:`GraphRun` turns it into plain run-time
objects once (``core/_build.py`` wires the ports), so that the hot path touches only lists,
deques and bound methods:

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
of its conditions' targets. As in GXF, every condition of the operator gets ``update_state`` and
``check`` in each evaluation, also after one said NEVER; the flattened queue tests come last and
are skipped once the answer is NEVER. A timeout condition (``_wait_deadline``) may say WAIT with
a deadline: the evaluation then returns WAIT (or WAIT_EVENT) *with* a timestamp, the time by
which the operator may be ready unless another condition holds it back. Schedulers re-evaluate
the operator then, but such a deadline, unlike a WAIT_TIME target, does not keep an otherwise
idle run from counting as deadlocked; every other WAIT or WAIT_EVENT comes back without a time.
Execution is ``compute`` followed by :meth:`GraphRun.commit`, which delivers what was emitted
and calls ``on_execute``. A message is therefore visible downstream only after its producer's
compute returned.

Threaded schedulers evaluate, reserve, commit and release under one lock and run ``compute``
outside it. :meth:`GraphRun.reserve` books ``n`` slots in every receiver an operator's
affordability condition promised before the operator is dispatched, and
:meth:`GraphRun.release` returns them after its commit; so producers running at the same time
can never overfill a shared queue. Conditions changed from outside call ``notify()``, which
reaches :attr:`GraphRun.on_notify` with the operator concerned.

Each operator also owns, for the run, an internal ``AsynchronousCondition``
(``Operator.async_condition``; ``Operator.stop_execution`` sets it to ``EVENT_NEVER``). It starts
READY and joins ``conds`` only when its state is first set, so operators nobody controls pay
nothing for it. Each :class:`OpRun` keeps its :class:`~holoflow.core.OperatorStatus`: the run
writes the start and stop transitions, the scheduler loops the dispatch and compute ones
(``TICK_PENDING`` at dispatch, ``TICKING`` before ``compute``, ``IDLE`` after the commit).

Once every operator has started, :meth:`GraphRun.execute` applies the scheduler's garbage
collection policy (``gc_policy``; ``"freeze"`` by default: the start-up objects are frozen so
that no collection traverses them during the run; see ``holoflow/core/_gc_policy.py``).

When nothing is ready, every scheduler asks one :class:`StopRule` how long it may sleep and
whether the run is over: past ``max_duration_ms``; or deadlocked (no operator ready, running,
waiting for a time or for an outside event) for ``stop_on_deadlock_timeout``. An operator
waiting for an event (WAIT_EVENT) keeps the run alive.

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
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from holoflow.core._async_condition import INTERNAL_ASYNC_CONDITION_NAME, AsynchronousCondition
from holoflow.core._build import build_ports
from holoflow.core._condition import Condition, SchedulingStatusType
from holoflow.core._context import ExecutionContext, InputContext, InputPort, OutputContext, PortMode
from holoflow.core._flow import Compute, FlowRoutes, data_ports, wrap_compute
from holoflow.core._gc_policy import DEFAULT_GC_POLICY, GCFreeze
from holoflow.core._logging_context import (
    LoggedInputs,
    LoggedOutputs,
    LoggingInputContext,
    LoggingOutputContext,
    loggers_for,
)
from holoflow.core._metadata import NO_METADATA, release_metadata, resolve_metadata
from holoflow.core._operator_status import OperatorStatus
from holoflow.core._port_conditions import DownstreamMessageAffordableCondition, MessageAvailableCondition
from holoflow.core._queue import Receiver, Transmitter
from holoflow.core._spec import IOSpec
from holoflow.core._streams import OperatorStreams
from holoflow.core._tracked_logging import TrackedLoggingInputContext, TrackedLoggingOutputContext
from holoflow.core._tracked_run import TrackedRun
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._metadata import MetadataDictionary
    from holoflow.core._operator import Operator

__all__ = [
    "NEVER",
    "READY",
    "WAIT",
    "WAIT_EVENT",
    "WAIT_TIME",
    "GraphRun",
    "OpRun",
    "StopRule",
    "annotate",
    "earliest",
]

READY = SchedulingStatusType.READY
NEVER = SchedulingStatusType.NEVER
WAIT = SchedulingStatusType.WAIT
WAIT_TIME = SchedulingStatusType.WAIT_TIME
WAIT_EVENT = SchedulingStatusType.WAIT_EVENT
_RANK = {READY: 0, WAIT_TIME: 1, WAIT: 2, WAIT_EVENT: 3, NEVER: 4}
_PASSIVE_AFTER_S = 0.002
"""How long a fragment with edges to other fragments must have nothing to do before it
reports itself passive (at least; ``stop_on_deadlock_timeout`` when longer)."""
_BY_RANK = [READY, WAIT_TIME, WAIT, WAIT_EVENT, NEVER]
_WAIT_EVENT_RANK = _RANK[WAIT_EVENT]
_NEVER_RANK = _RANK[NEVER]


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


def earliest(*delays: float | None) -> float | None:
    """The shortest of the given delays in seconds, never below 0; ``None`` (no limit) when all
    are ``None``."""
    known = [d for d in delays if d is not None]
    return max(min(known), 0.0) if known else None


def _overrides(condition: Condition, method: str) -> bool:
    return getattr(type(condition), method) is not getattr(Condition, method)


_LATE_ADDITIONS = threading.Lock()
"""Serialises changes to an ``OpRun``'s condition lists made after the run started."""


class _Forget:
    """An execution hook that empties a dictionary after each compute."""

    __slots__ = ("table",)

    def __init__(self, table: dict[str, list[int]]) -> None:
        self.table = table

    def on_execute(self, timestamp: int) -> None:
        self.table.clear()


class OpRun:
    """The run-time state of one operator during one run."""

    __slots__ = (
        "async_condition",
        "compute",
        "conds",
        "consumers",
        "context",
        "exec_conds",
        "flow_receivers",
        "graph_run",
        "index",
        "input_ports",
        "inputs",
        "label",
        "metadata",
        "metadata_items",
        "need",
        "on_cycle",
        "op",
        "outboxes",
        "outputs",
        "producers",
        "room",
        "routes",
        "routing",
        "started",
        "status",
        "streams",
        "thread_pool",
        "transmitters",
        "update_conds",
    )

    def __init__(self, op: Operator, graph_run: GraphRun, index: int) -> None:
        self.op = op
        self.index = index
        """Position in the run's topological order (``graph_run.ops[index] is self``)."""
        self.label = f"operator '{op.name}'"
        self.graph_run = graph_run
        self.compute: Compute = op.compute
        self.input_ports: dict[str, InputPort] = {}
        self.transmitters: dict[str, Transmitter] = {}
        self.outboxes: tuple[Transmitter, ...] = ()
        """``transmitters``' values, for the commit to walk without a dict view."""
        self.flow_receivers: dict[tuple[str, int, str], Receiver] = {}
        """The receiver each outgoing connection delivers to, by ``FlowInfo.key()``."""
        self.need: list[tuple[Any, int]] = []
        self.room: list[tuple[Receiver, int]] = []
        self.on_cycle = False
        """Whether its input execution port is fed from a control-flow cycle."""
        self.producers: list[OpRun] = []
        self.consumers: list[OpRun] = []
        self.conds: list[Condition] = []
        self.update_conds: list[Condition] = []
        self.exec_conds: list[Condition | _Forget] = []
        self.thread_pool = op._holoflow_thread_pool
        """The thread pool whose threads run the operator (threaded schedulers), if any."""
        self.started = False
        self.metadata: MetadataDictionary | None = None
        """The operator's metadata when it is enabled for this run (set by ``GraphRun.initialize``)."""
        self.metadata_items = op.metadata._items
        """The operator's metadata items, emptied after every compute."""
        self.status = OperatorStatus.NOT_STARTED
        """Where the operator is in its lifecycle (written by the run and the scheduler loops)."""
        self.async_condition: AsynchronousCondition
        """The operator's internal asynchronous condition (made by :meth:`open_async_condition`)."""
        self.streams: OperatorStreams
        self.routes: FlowRoutes
        self.routing = False
        """Whether this execution delivers along chosen dynamic flows only (see ``FlowRoutes``)."""
        self.inputs: InputContext
        self.outputs: OutputContext
        self.context: ExecutionContext

    def open_async_condition(self) -> None:
        """Give the operator its internal asynchronous condition for this run.

        The condition starts READY and costs nothing while it stays so: it joins the operator's
        evaluated conditions only when its state is first set (``Operator.stop_execution`` sets
        ``EVENT_NEVER``; user code may set any state through ``Operator.async_condition``).
        """
        condition = AsynchronousCondition(self.op.fragment, name=INTERNAL_ASYNC_CONDITION_NAME)
        condition._attach(self.op)

        def notify() -> None:
            self.graph_run.on_notify(self)

        def first_change() -> None:
            with _LATE_ADDITIONS:
                if condition._notify is first_change:
                    condition._set_notify(notify)
                    # New lists, not appends: a scheduler thread may be iterating the old ones.
                    self.conds = [*self.conds, condition]
                    self.exec_conds = [*self.exec_conds, condition]
            notify()

        condition._set_notify(first_change)
        self.async_condition = condition

    def forget_acquisitions_after_each_compute(self, acquired: dict[str, list[int]]) -> None:
        """Empty ``acquired`` (the acquisition timestamps received in a compute) at every commit
        from now on; called when the operator first receives one, so others pay nothing."""
        with _LATE_ADDITIONS:
            self.exec_conds = [*self.exec_conds, _Forget(acquired)]

    def receiver(self, name: str) -> Receiver | list[Receiver]:
        """The receiver of input ``name`` (a list, one per connection, for an ``ANY_SIZE`` port).

        Raises
        ------
        GraphError
            If a single-queue input is connected to nothing.
        """
        port = self.input_ports[name]
        if port.mode is PortMode.PER_CONNECTION:
            return list(port.receivers)
        if not port.receivers:
            raise GraphError(f"{self.label}: input port '{name}' is connected to nothing")
        return port.receivers[0]


class StopRule:
    """When an idle run sleeps, and for how long, and when it is over.

    Parameters
    ----------
    max_duration_ms : int
        The run ends this long after :meth:`begin` (-1: no limit).
    stop_on_deadlock : bool
        End the run once it has been deadlocked for ``stop_on_deadlock_timeout_ms``.
    stop_on_deadlock_timeout_ms : int
        How long a deadlock must last before the run ends.
    recession : float or None
        Longest single sleep in seconds (``None``: sleep until woken or due).
    edges : object, optional
        The run's connections to other fragments (``GraphRun.edges``). With edges a deadlock
        does not end the run (messages may still come): once it has lasted the timeout the
        rule calls ``edges.passive(True)``, which returns whether the run must end now, and
        otherwise sleeps until woken; this also holds when ``stop_on_deadlock`` is off. Every
        idle loop first calls ``edges.idle()`` (batched messages go out).
    """

    __slots__ = (
        "deadline",
        "deadlock_timeout",
        "deadlocked_since",
        "edges",
        "ended",
        "max_duration",
        "recession",
        "stop_on_deadlock",
    )

    def __init__(
        self,
        max_duration_ms: int,
        stop_on_deadlock: bool,
        stop_on_deadlock_timeout_ms: int,
        recession: float | None,
        edges: Any = None,
    ) -> None:
        self.edges = edges
        self.max_duration = max_duration_ms / 1000 if max_duration_ms >= 0 else None
        self.stop_on_deadlock = stop_on_deadlock
        self.deadlock_timeout = stop_on_deadlock_timeout_ms / 1000
        if edges is not None:
            # A fragment between two messages of a stream is not passive yet: reporting every
            # such gap would cost the run more than the end it could bring forward.
            self.deadlock_timeout = max(self.deadlock_timeout, _PASSIVE_AFTER_S)
        self.recession = recession
        self.deadline: float | None = None
        self.ended = False
        """Set by :meth:`idle` when the run must end now."""
        self.deadlocked_since: float | None = None
        """When the current deadlock began (``time.monotonic()``); a loop that runs an operator
        sets it back to ``None``."""

    def begin(self) -> None:
        """Start the clock of ``max_duration_ms`` (when the loop starts)."""
        self.deadline = None if self.max_duration is None else time.monotonic() + self.max_duration
        self.ended = False
        self.deadlocked_since = None

    def idle(self, delay: float | None, deadlocked: bool) -> float | None:
        """How long an idle loop may sleep, in seconds (``None``: until woken).

        ``delay`` is the time until the earliest timer, if any; ``deadlocked`` says that no
        operator is ready, running, timed or waiting for an outside event. Sets :attr:`ended`
        (and returns 0) when the run is over: past the deadline, or deadlocked for the timeout
        with ``stop_on_deadlock``.
        """
        now = time.monotonic()
        remaining = None if self.deadline is None else self.deadline - now
        if remaining is not None and remaining <= 0:
            self.ended = True
            return 0.0
        limit = earliest(delay, self.recession, remaining)
        edges = self.edges
        if edges is not None:
            edges.idle()
        if not deadlocked or (not self.stop_on_deadlock and edges is None):
            self.deadlocked_since = None
            return limit
        if self.deadlocked_since is None:
            self.deadlocked_since = now
        left = self.deadlock_timeout - (now - self.deadlocked_since)
        if left <= 0:
            if edges is not None and not edges.passive(True):
                return limit
            self.ended = True
            return 0.0
        return earliest(limit, left)


class GraphRun:
    """One run of a fragment's graph: run-time objects, readiness, commit and lifecycle.

    Parameters
    ----------
    fragment : Fragment
        A composed fragment.

    Raises
    ------
    GraphError
        If the graph cannot run: a required input connected to nothing, an unsupported port
        condition or connector.
    """

    def __init__(self, fragment: Fragment) -> None:
        self.fragment = fragment
        self.edges: Any = getattr(fragment, "_holoflow_edges", None)
        """The fragment's connections to other fragments, or ``None`` (see ``core/_build.py``)."""
        make_wake = getattr(self.edges, "make_wake", None)
        self.wake: threading.Event = threading.Event() if make_wake is None else make_wake()
        """Set to wake the scheduler's loop; the edges may supply an event whose ``wait`` also
        serves them (a distributed fragment's thread receives while it waits)."""
        self.stop_requested = False
        wake = self.wake
        # A set event needs no second set: the loop clears it before it looks at the queues.
        self.on_notify: Callable[[OpRun], None] = lambda _op_run: None if wake.is_set() else wake.set()
        self.notify_locks = False
        """Whether :attr:`on_notify` takes a lock that the scheduler holds while it commits (a
        caller holding another run's lock must then not call it directly)."""
        self.ops = [OpRun(op, self, index) for index, op in enumerate(fragment.graph.topological_order())]
        build_ports(self)
        operators = {op_run.op.name: op_run.op for op_run in self.ops}
        tracker = fragment._data_flow_tracker
        self.tracking = None if tracker is None else TrackedRun(tracker, fragment.graph)
        """The tracking part of a tracked run (``Fragment.track``), else ``None``."""
        self.data_loggers = list(fragment._data_loggers)
        try:
            for op_run in self.ops:
                self._build(op_run, operators)
        except BaseException:
            if self.tracking is not None:
                self.tracking.finish()  # the run will not start: the tracker lets its buffers go
            raise

    def _build(self, op_run: OpRun, operators: dict[str, Operator]) -> None:
        """Give ``op_run`` its contexts and its ``compute`` (plain, logging or tracked)."""
        op_run.streams = OperatorStreams(op_run.op)
        data_inputs = data_ports(op_run.input_ports)
        data_outputs = data_ports(op_run.transmitters)
        # Only the sides some data logger wants get the logging contexts: without loggers
        # (or for ports they all leave out) receive and emit cost what they did before.
        log_in = bool(self.data_loggers) and self._wanted(op_run, data_inputs, IOSpec.IOType.INPUT)
        log_out = bool(self.data_loggers) and self._wanted(op_run, data_outputs, IOSpec.IOType.OUTPUT)
        if self.tracking is not None:  # only a tracked run builds tracking objects
            op_run.inputs, op_run.outputs = self.tracking.contexts(
                op_run,
                data_inputs,
                data_outputs,
                TrackedLoggingInputContext if log_in else None,
                TrackedLoggingOutputContext if log_out else None,
            )
        else:
            input_context = LoggingInputContext if log_in else InputContext
            output_context = LoggingOutputContext if log_out else OutputContext
            op_run.inputs = input_context(op_run.label, data_inputs, op_run.streams)
            op_run.outputs = output_context(op_run.label, data_outputs, op_run.streams)
        op_run.inputs._on_first_acquisition = op_run.forget_acquisitions_after_each_compute
        op_run.context = ExecutionContext(op_run.inputs, op_run.outputs, operators, op_run.streams)
        op_run.routes = FlowRoutes(op_run)
        op_run.outboxes = tuple(op_run.transmitters.values())
        if (
            op_run.routes.callback is not None
            or len(data_inputs) < len(op_run.input_ports)
            or len(data_outputs) < len(op_run.transmitters)
        ):
            op_run.compute = wrap_compute(op_run)
        if self.tracking is not None:
            op_run.compute = self.tracking.wrap(op_run)

    def add_condition(self, op_run: OpRun, condition: Condition) -> None:
        """Make ``condition`` part of ``op_run``'s readiness (while the run is built)."""
        condition._set_notify(lambda: self.on_notify(op_run))
        # Only the exact built-in classes are flattened: a subclass may redefine check().
        if type(condition) is MessageAvailableCondition:
            op_run.need.extend(condition.need_checks())
        elif type(condition) is DownstreamMessageAffordableCondition:
            op_run.room.extend(condition.room_checks())
        else:
            op_run.conds.append(condition)
        if _overrides(condition, "update_state"):
            op_run.update_conds.append(condition)
        if _overrides(condition, "on_execute"):
            op_run.exec_conds.append(condition)

    # -- readiness and commit ------------------------------------------------------------------------
    def evaluate(self, op_run: OpRun, now: int) -> tuple[SchedulingStatusType, int | None]:
        """Combine the operator's conditions into one status and a time.

        The time is the WAIT_TIME target, or for WAIT / WAIT_EVENT the deadline of a timeout
        condition when nothing else holds the operator back (see the module docstring);
        otherwise ``None``.
        """
        rank = 0
        target = None
        deadline = None
        open_wait = False  # a WAIT or WAIT_EVENT that no deadline bounds
        for condition in op_run.update_conds:
            condition.update_state(now)
        for condition in op_run.conds:
            status, when = condition.check(now)
            if status is READY:
                continue
            if status is WAIT_TIME:
                if when is not None and (target is None or when > target):
                    target = when
                continue
            if _RANK[status] > rank:
                rank = _RANK[status]
            if when is None or not condition._wait_deadline:
                open_wait = True
            elif deadline is None or when > deadline:
                deadline = when
        if rank and rank == _NEVER_RANK:
            return NEVER, None
        for queue, n in op_run.need:
            if len(queue) < n:
                return (WAIT_EVENT if rank == _WAIT_EVENT_RANK else WAIT), None
        for receiver, n in op_run.room:
            if len(receiver.queue) + receiver.reserved + n > receiver.capacity:
                return (WAIT_EVENT if rank == _WAIT_EVENT_RANK else WAIT), None
        if rank:
            if open_wait or deadline is None:
                return _BY_RANK[rank], None
            return _BY_RANK[rank], deadline if target is None else max(deadline, target)
        if target is not None:
            return WAIT_TIME, target
        return READY, None

    @staticmethod
    def commit(op_run: OpRun, now: int) -> None:
        """Deliver what the operator emitted, let go of what it received (see ``OperatorStreams``),
        and tell its conditions it executed."""
        if op_run.routing:
            op_run.routes.route(now)
        for transmitter in op_run.outboxes:
            if transmitter.pending:
                transmitter.deliver(now)
        streams = op_run.streams
        if streams.received or streams.in_use:
            streams.retire()
        for condition in op_run.exec_conds:
            condition.on_execute(now)
        if op_run.metadata_items:  # the next compute starts with empty metadata
            op_run.metadata_items.clear()

    @staticmethod
    def reserve(op_run: OpRun) -> None:
        """Book the slots the operator's affordability conditions promised (before dispatch)."""
        for receiver, n in op_run.room:
            receiver.reserved += n

    @staticmethod
    def release(op_run: OpRun) -> None:
        """Return the slots booked by :meth:`reserve` (after commit)."""
        for receiver, n in op_run.room:
            receiver.reserved -= n

    # -- lifecycle -----------------------------------------------------------------------------------
    def initialize(self) -> None:
        """Reset conditions, bind parameters and call ``initialize`` on every operator in order
        (after the data loggers, which then learn which ports they log)."""
        if self.data_loggers:
            self._attach_data_loggers()
        for op_run in self.ops:
            op = op_run.op
            op_run.open_async_condition()
            op._holoflow_run = op_run
            for condition in op.conditions.values():
                condition.reset()
                condition.initialize()
            for resource in op.resources.values():
                resource.initialize()
            op._bind_params()
            self._call(op_run, op.initialize, "initialize")
            metadata = op_run.metadata = resolve_metadata(
                op, op_run.on_cycle
            )  # after initialize: it may set them
            op_run.inputs._metadata = metadata
            op_run.outputs._metadata = NO_METADATA if metadata is None else metadata._items

    def start(self) -> None:
        """Call ``start`` on every operator, in topological order."""
        for op_run in self.ops:
            op_run.status = OperatorStatus.START_PENDING
            self._call(op_run, op_run.op.start, "start")
            op_run.started = True
            op_run.status = OperatorStatus.STARTED
            op_run.metadata_items.clear()  # compute starts with empty metadata

    def stop(self) -> BaseException | None:
        """Call ``stop`` on every started operator; return the first exception it raised."""
        first: BaseException | None = None
        for op_run in self.ops:
            if op_run.started:
                op_run.started = False
                op_run.status = OperatorStatus.STOP_PENDING
                try:
                    self._call(op_run, op_run.op.stop, "stop")
                except BaseException as exc:
                    first = first or exc
                op_run.status = OperatorStatus.NOT_STARTED
        for op_run in self.ops:
            op_run.op._holoflow_run = None
            op_run.streams.release()
            release_metadata(op_run.op)
        for logger in self.data_loggers:
            first = _call_logger(logger, logger.shutdown, "shutdown") or first
        if self.tracking is not None:
            self.tracking.finish()
        return first

    def _wanted(self, op_run: OpRun, ports: Mapping[str, object], io_type: IOSpec.IOType) -> bool:
        """Whether a data logger logs any of ``ports`` (an operator's inputs or outputs)."""
        name = op_run.op.name
        return any(loggers_for(self.data_loggers, f"{name}.{port}", io_type) for port in ports)

    def _attach_data_loggers(self) -> None:
        for logger in self.data_loggers:
            error = _call_logger(logger, logger.initialize, "initialize")
            if error is not None:
                raise error
        for op_run in self.ops:
            if isinstance(op_run.inputs, LoggedInputs):
                op_run.inputs.attach(op_run.op.name, self.data_loggers)
            if isinstance(op_run.outputs, LoggedOutputs):
                op_run.outputs.attach(op_run.op.name, self.data_loggers)

    @staticmethod
    def _call(op_run: OpRun, method: Callable[[], None], name: str) -> None:
        try:
            method()
        except BaseException as exc:
            annotate(exc, f"{op_run.label}.{name}()")
            raise

    def execute(self, body: Callable[[], None], gc_policy: str = DEFAULT_GC_POLICY) -> None:
        """Initialize and start every operator, run ``body``, then stop every started operator.

        ``gc_policy`` is the scheduler's (see ``holoflow/core/_gc_policy.py``): under
        ``"freeze"`` the objects alive once every operator started are frozen while ``body``
        runs, and unfrozen after the stop; ``"none"`` leaves the collector alone.

        Re-raises the first exception (with its note); an exception from ``stop`` during a
        failed run is added to the first one as a note.
        """
        error: BaseException | None = None
        freeze = GCFreeze(gc_policy)
        try:
            self.initialize()
            self.start()
            freeze.begin()
            body()
        except BaseException as exc:
            error = exc
        try:
            stop_error = self.stop()
        finally:
            freeze.end()
        if self.edges is not None:
            self.edges.on_run_end(error or stop_error)
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


def _call_logger(logger: object, method: Callable[[], None], name: str) -> BaseException | None:
    """Call a data logger's lifecycle ``method``; return what it raised (annotated), if anything."""
    try:
        method()
    except BaseException as exc:
        annotate(exc, f"data logger {getattr(logger, 'name', logger)!r}.{name}()")
        return exc
    return None
