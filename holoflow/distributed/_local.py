"""Single-process mode: every fragment on its own thread, joined by in-process links.

:func:`run_local` composes the fragments, resolves the edges (``_ports``), and gives each
fragment a :class:`LocalEdges` (``fragment._holoflow_edges``) before running it on a thread
called ``holoflow-frag-<name>``. A :class:`LocalLink` joins the two ends of one edge with
direct calls:

* the sending end is appended to the output's transmitter; its ``queue`` is the receiving port's
  queue, so the producer's room check sees the consumer's queue (back-pressure as within a
  fragment); until the consumer's run has built that queue, at most one message waits in the
  link;
* each push wakes the consuming operator (``poke``), each consumption wakes the producing one
  (a hook run after every execution of the consumer);
* with ``copy`` links (``HOLOFLOW_LOCAL_LINKS``, the default) each message goes through the
  codec's ``encode``/``decode``, so the consumer gets what it would get from another process;
  ``reference`` passes the object itself.

The run ends when every fragment's run ended, or when the in-process :class:`Coordinator`
(``_quiescence``) finds every fragment passive with nothing in flight. The first exception
stops every fragment and is re-raised, unchanged but for a note naming its fragment.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from holoflow import _env
from holoflow.core.run import GraphRun, OpRun, Receiver
from holoflow.distributed._codec import decode, encode
from holoflow.distributed._edges import EdgeSpec
from holoflow.distributed._placement import apply_scheduler_environment
from holoflow.distributed._ports import fragment_flows, fragment_ports, resolve_edges
from holoflow.distributed._quiescence import Coordinator, FragmentState
from holoflow.errors import ConfigError, DistributedError

if TYPE_CHECKING:
    from holoflow.core import Application, Fragment

__all__ = ["FragmentRunner", "LocalEdges", "LocalLink", "copier", "credit_key", "link_mode", "run_local"]

_MODES = ("copy", "reference")


def link_mode() -> str:
    """``HOLOFLOW_LOCAL_LINKS``: ``copy`` (the default when unset) or ``reference``.

    Raises
    ------
    holoflow.errors.ConfigError
        For another value.
    """
    value = (_env.holoflow_setting("LOCAL_LINKS") or "copy").lower()
    if value not in _MODES:
        raise ConfigError(f"HOLOFLOW_LOCAL_LINKS={value!r}: use one of {list(_MODES)}")
    return value


class _Outbound:
    """The sending end of a :class:`LocalLink` (appended to a transmitter's receivers)."""

    __slots__ = ("link", "reserved")

    external = True
    tracks_arrivals = True  # the transmitter then hands over one message at a time, by push

    def __init__(self, link: LocalLink) -> None:
        self.link = link
        self.reserved = 0

    @property
    def queue(self) -> Any:
        receiver = self.link.receiver
        return self.link.staged if receiver is None else receiver.queue

    @property
    def capacity(self) -> int:
        receiver = self.link.receiver
        return 1 if receiver is None else receiver.capacity

    def push(self, message: Any, now: int) -> None:
        self.link.send(message, now)

    def close(self) -> None:
        """Nothing to release in one process."""


class LocalLink:
    """Both ends of one edge within one process.

    Parameters
    ----------
    spec : EdgeSpec
        The edge.
    producer, consumer : LocalEdges
        The two fragments' edges.
    convert : callable, optional
        Applied to every message on its way (``encode`` then ``decode`` for ``copy`` links).
    """

    def __init__(
        self,
        spec: EdgeSpec,
        producer: LocalEdges,
        consumer: LocalEdges,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        self.spec = spec
        self.producer = producer
        self.consumer = consumer
        self.convert = convert
        self.lock = threading.Lock()
        self.receiver: Receiver | None = None
        self.staged: deque[tuple[int, Any]] = deque()
        self.sent = 0
        self.arrivals = 0
        """Messages that reached the receiving side (pushed into its queue or staged)."""
        self.credited = 0
        """Messages the consumer had taken when the producer was last woken for them."""
        self.outbound = _Outbound(self)

    def send(self, message: Any, now: int) -> None:
        """Deliver ``message`` to the consumer's queue (or stage it until the queue exists)."""
        if self.convert is not None:
            message = self.convert(message)
        consumer = self.consumer
        consumer.arriving()
        with self.lock:
            receiver = self.receiver
            if receiver is None:
                self.staged.append((now, message))
            else:
                receiver.push(message, now)
            self.sent += 1
            self.arrivals += 1
        consumer.arrived(self.spec.dst[1])

    def bind(self, receiver: Receiver) -> None:
        """Take the consumer's receiver; what waited in the link moves into it."""
        with self.lock:
            for now, message in self.staged:
                receiver.push(message, now)
            self.staged.clear()
            self.receiver = receiver
        self.producer.poke(self.spec.src[1])

    def taken(self) -> int:
        """Messages the consumer has taken off its queue."""
        with self.lock:
            receiver = self.receiver
            return self.arrivals - (len(self.staged) if receiver is None else len(receiver.queue))

    def consumed(self) -> None:
        """The consumer ran: wake the producer if it took messages (made room)."""
        taken = self.taken()
        if taken != self.credited:
            self.credited = taken
            self.producer.poke(self.spec.src[1])


class _Credits:
    """Run after every execution of a consuming operator: tells each of its inbound links
    (``link.consumed()``), which give room back to their producers."""

    __slots__ = ("links",)

    def __init__(self, links: list[Any]) -> None:
        self.links = links

    def on_execute(self, timestamp: int) -> None:
        for link in self.links:
            link.consumed()


class _Flush:
    """Run after every execution of an operator that sends nothing to another process: what
    the fragment's producers batched goes out before the fragment moves on."""

    __slots__ = ("edges",)

    def __init__(self, edges: LocalEdges) -> None:
        self.edges = edges

    def on_execute(self, timestamp: int) -> None:
        self.edges.idle()


class LocalEdges:
    """One fragment's links in single-process mode, and its passive/active state.

    ``poke`` (a message arrived, or room appeared downstream) makes the fragment active before
    it wakes the operator, and :meth:`passive` refuses while a poke is under way or the run's
    wake event is set, so a fragment is never reported passive with work it has not seen.
    """

    def __init__(self, name: str, runner: FragmentRunner) -> None:
        self.name = name
        self.runner = runner
        self.outbound: dict[tuple[str, str], list[Any]] = {}
        self.inbound: dict[tuple[str, str], list[Any]] = {}
        self.out_links: list[LocalLink] = []
        self.flushes: list[Callable[[], None]] = []
        """The ``flush`` of each outbound end that batches messages (to another process)."""
        self.batching_ops: set[str] = set()
        """The operators that own those ends."""
        self.in_links: list[LocalLink] = []
        self.make_wake: Callable[[], threading.Event] | None = None
        """Makes the wake event of the fragment's run (``None``: a plain event); see
        :meth:`holoflow.distributed._zmq_links.DataListener.idle_event`."""
        self.lock = threading.Lock()
        self.run: GraphRun | None = None
        self.op_runs: dict[str, OpRun] = {}
        self.is_passive = False
        self.epoch = 0
        self.inflight = 0
        self.refused = False
        """:meth:`passive` was refused while pokes were under way (see :meth:`notified`)."""
        self.finished = False
        self.stopped = False

    # -- wiring ------------------------------------------------------------------------------------
    def add_outbound(self, link: LocalLink) -> None:
        _, op, port = link.spec.src
        self.outbound.setdefault((op, port), []).append(link.outbound)
        self.out_links.append(link)
        flush = getattr(link.outbound, "flush", None)
        if flush is not None:
            self.flushes.append(flush)
            self.batching_ops.add(op)

    def add_inbound(self, link: LocalLink) -> None:
        _, op, port = link.spec.dst
        self.inbound.setdefault((op, port), []).append(link)
        self.in_links.append(link)

    def bind(self, run: GraphRun) -> None:
        """Called when the fragment's run is wired: learn its operators, hook the consumers."""
        op_runs = {op_run.op.name: op_run for op_run in run.ops}
        by_op: dict[str, list[LocalLink]] = {}
        for link in self.in_links:
            by_op.setdefault(link.spec.dst[1], []).append(link)
        for op_name, links in by_op.items():
            op_run = op_runs[op_name]
            op_run.exec_conds = [*op_run.exec_conds, _Credits(links)]  # type: ignore[list-item]
        if self.flushes:
            flush = _Flush(self)
            for op_name, op_run in op_runs.items():
                if op_name not in self.batching_ops:
                    op_run.exec_conds = [*op_run.exec_conds, flush]  # type: ignore[list-item]
        with self.lock:
            self.run = run
            self.op_runs = op_runs
            self.is_passive = False
            if self.stopped:
                run.request_stop()

    # -- state ------------------------------------------------------------------------------------
    def poke(self, op_name: str) -> None:
        """Wake operator ``op_name``: a message arrived for it, or room appeared for it.

        Pokes come from another fragment's commit, which a threaded scheduler makes holding its
        lock; a threaded target's ``on_notify`` takes the target's lock, so two such fragments
        poking each other could deadlock. Those pokes go through the runner's waker thread;
        the others (a greedy target only sets an event) are made here.
        """
        self.arriving()
        self.arrived(op_name)

    def arriving(self) -> None:
        """A message is about to arrive: the fragment is active until :meth:`arrived`, so no
        snapshot between the two calls reports it passive."""
        with self.lock:
            self.is_passive = False
            self.inflight += 1

    def arrived(self, op_name: str) -> None:
        """The message announced by :meth:`arriving` is in place: wake operator ``op_name``."""
        run = self.run
        if run is not None and run.notify_locks:
            self.runner.wake_later(self, run, op_name)
            return
        self.notified(run, op_name)

    def notified(self, run: GraphRun | None, op_name: str) -> None:
        """Deliver one poke to ``run`` (the fragment's run when poked) and close it.

        A :meth:`passive` refused while the poke was under way made its run wait for a wake; the
        wake this poke gave may have come before that wait began, so the last poke to close
        gives it once more (the run then looks again and becomes passive)."""
        op_run = self.op_runs.get(op_name) if run is not None else None
        try:
            if run is not None and op_run is not None:
                run.on_notify(op_run)
        finally:
            with self.lock:
                self.inflight -= 1
                again = self.refused and not self.inflight
                if again:
                    self.refused = False
        if again and run is not None and op_run is not None:
            run.on_notify(op_run)

    def idle(self) -> None:
        """The fragment has nothing to run now: send the messages its producers batched."""
        for flush in self.flushes:
            flush()

    def passive(self, is_passive: bool) -> bool:
        """The fragment's stop rule found it idle (``True``) or busy; return whether its run
        must end now.

        A passive fragment owes no credit: credits its consumers decided but had not sent yet
        go out first (they are counted as sent, so they must not wait for a next run)."""
        if is_passive:
            self.idle()
            self._flush_credits()
        with self.lock:
            if self.stopped:
                return True
            run = self.run
            if not is_passive or self.inflight or (run is not None and run.wake.is_set()):
                self.is_passive = False
                if self.inflight:
                    self.refused = True  # the poke under way wakes the run again (notified)
                return False
            if not self.is_passive:
                self.is_passive = True
                self.epoch += 1
        self.runner.check()
        return self.stopped

    def on_run_end(self, error: BaseException | None) -> None:  # noqa: ARG002 (the runner gets errors itself)
        """The fragment's run ended (``error``: why, if it failed; the runner learns of it
        from the fragment's thread)."""
        try:
            self.idle()
        except DistributedError:
            pass  # the link failed: its loss is reported where it is watched
        self._flush_credits()
        with self.lock:
            self.finished = True
            self.run = None
        self.runner.check()

    def _flush_credits(self) -> None:
        for link in self.in_links:
            flush = getattr(link, "flush_credits", None)
            if flush is not None:
                flush()

    def state(self) -> FragmentState:
        """A consistent snapshot for the coordinator.

        Credits between processes are messages too (one can wake a passive producer), so they
        are counted under the key ``credit_key(edge_id)``: sent by the consumer's end, received
        by the producer's."""
        with self.lock:
            sent = {link.spec.edge_id: link.sent for link in self.out_links}
            received = {link.spec.edge_id: link.arrivals for link in self.in_links}
            for link in self.in_links:
                credits = getattr(link, "credits_sent", None)
                if credits is not None:
                    sent[credit_key(link.spec.edge_id)] = credits
            for link in self.out_links:
                credits = getattr(link, "credits_received", None)
                if credits is not None:
                    received[credit_key(link.spec.edge_id)] = credits
            return FragmentState(
                passive=self.is_passive and not self.inflight,
                epoch=self.epoch,
                finished=self.finished,
                sent=sent,
                received=received,
            )


def credit_key(edge_id: int) -> int:
    """The key under which an edge's credits are counted in a :class:`FragmentState` (negative,
    so it never meets an edge id)."""
    return -1 - edge_id


class FragmentRunner:
    """The threads of one single-process run, its coordinator and its first error."""

    def __init__(self, app: Application, fragments: list[Fragment]) -> None:
        self.app = app
        self.fragments = fragments
        self.edges = {f.name: LocalEdges(f.name, self) for f in fragments}
        self.coordinator = Coordinator([f.name for f in fragments])
        self.coordinator_lock = threading.Lock()
        self.event = threading.Event()
        self.quiescent = False
        self.error: BaseException | None = None
        self.aborted: BaseException | None = None
        self.error_lock = threading.Lock()
        self.pokes: queue.SimpleQueue[tuple[LocalEdges, GraphRun, str] | None] = queue.SimpleQueue()

    def link_locally(self, spec: EdgeSpec, copy: bool) -> None:
        """Join the two ends of ``spec`` (both fragments in this runner) with a
        :class:`LocalLink`; ``copy``: through the codec (see :func:`copier`)."""
        producer, consumer = self.edges[spec.src[0]], self.edges[spec.dst[0]]
        link = LocalLink(spec, producer, consumer, copier(spec) if copy else None)
        producer.add_outbound(link)
        consumer.add_inbound(link)

    def attach(self) -> None:
        """Give every fragment the scheduler the environment names and its edges (the
        fragments' runs read ``fragment._holoflow_edges`` when they are built)."""
        for fragment in self.fragments:
            apply_scheduler_environment(fragment)
            fragment._holoflow_edges = self.edges[fragment.name]  # type: ignore[attr-defined]

    def detach(self) -> None:
        """Take the edges back: a later plain ``fragment.run()`` runs it alone."""
        for fragment in self.fragments:
            fragment._holoflow_edges = None  # type: ignore[attr-defined]

    def wake_later(self, edges: LocalEdges, run: GraphRun, op_name: str) -> None:
        """Have the waker thread deliver a poke (see :meth:`LocalEdges.poke`)."""
        self.pokes.put((edges, run, op_name))

    def waker(self) -> None:
        """Deliver queued pokes until told to end (``None``)."""
        pokes = self.pokes
        while (item := pokes.get()) is not None:
            edges, run, op_name = item
            edges.notified(run, op_name)

    def check(self) -> None:
        """Ask the coordinator whether the run is over (two looks at every fragment)."""
        with self.coordinator_lock:
            coordinator = self.coordinator
            for name, edges in self.edges.items():
                coordinator.report(name, edges.state())
            if not coordinator.first_wave():
                return
            for name, edges in self.edges.items():
                coordinator.report(name, edges.state())
            if coordinator.second_wave():
                self.finish()

    def finish(self) -> None:
        """The run is over (quiescent): stop every fragment; :meth:`execute` returns."""
        self.quiescent = True
        self.event.set()

    def abort(self, error: BaseException) -> None:
        """Stop every fragment; :meth:`execute` raises ``error`` unless a fragment failed."""
        if self.aborted is None:
            self.aborted = error
        self.event.set()

    def on_error(self, fragment: str, error: BaseException) -> None:
        """A fragment failed (``error`` carries the note naming it); called once, on the
        fragment's thread, before the other fragments are stopped."""

    def stop(self) -> None:
        """Ask every fragment to stop (again: a fragment whose run has not begun yet stops as
        soon as it binds)."""
        for fragment in self.fragments:
            edges = self.edges[fragment.name]
            with edges.lock:
                edges.stopped = True
                run = edges.run
            if run is not None:
                run.request_stop()
            fragment.stop_execution()

    def target(self, fragment: Fragment) -> None:
        try:
            fragment.run()
        except BaseException as exc:
            with self.error_lock:
                if self.error is None:
                    note = f"in fragment '{fragment.name}'"
                    notes = getattr(exc, "__notes__", None) or []
                    if note not in notes:
                        exc.__notes__ = [*notes, note]  # type: ignore[attr-defined] # add_note (3.11+)
                    self.error = exc
                    self.on_error(fragment.name, exc)
        finally:
            self.event.set()

    def execute(self) -> None:
        threads = [
            threading.Thread(target=self.target, args=(f,), name=f"holoflow-frag-{f.name}", daemon=True)
            for f in self.fragments
        ]
        outer = self.app._holoflow_runtime  # a driver in this process stops the whole run
        if outer is None:
            self.app._holoflow_runtime = self  # Application.stop_execution stops every fragment
        waker = threading.Thread(target=self.waker, name="holoflow-links-waker", daemon=True)
        waker.start()
        try:
            for thread in threads:
                thread.start()
            stopping = False
            while any(t.is_alive() for t in threads):
                self.event.wait(0.05 if stopping else None)
                self.event.clear()
                if not stopping and (self.error is not None or self.quiescent or self.aborted is not None):
                    stopping = True
                if stopping:
                    self.stop()
        except BaseException:  # Ctrl-C: stop every fragment, then let it propagate
            self.stop()
            for thread in threads:
                while thread.is_alive():
                    self.stop()
                    thread.join(0.05)
            raise
        finally:
            self.app._holoflow_runtime = outer
            self.pokes.put(None)
            waker.join()
        if self.error is not None:
            raise self.error
        if self.aborted is not None:
            raise self.aborted


def copier(spec: EdgeSpec) -> Callable[[Any], Any]:
    """``decode(encode(message))`` for one edge; a message that cannot travel raises the
    codec's ``CodecError`` naming the sending operator and port. A tracked message's path
    label travels in its envelope, so tracking continues across the edge."""
    _, op, port = spec.src
    where = f"operator '{op}' output port '{port}'"

    def copy(message: Any) -> Any:
        return decode(encode(message, where=where))

    return copy


def run_local(app: Application) -> None:
    """Run every fragment of ``app`` in this process, each on its own thread, until the run
    is over (see the module docstring).

    Raises
    ------
    Exception
        The first exception a fragment raised, with a note ``in fragment 'name'``.
    holoflow.errors.GraphError
        For an invalid fragment graph (Holoscan's texts, see ``_ports``).
    """
    fragments = app.fragment_graph.get_nodes()
    for fragment in fragments:
        fragment.compose_graph()
    ports = {fragment.name: fragment_ports(fragment) for fragment in fragments}
    specs = resolve_edges(fragment_flows(app), ports)
    runner = FragmentRunner(app, fragments)
    copy = link_mode() == "copy"
    for spec in specs:
        runner.link_locally(spec, copy)
    runner.attach()
    try:
        runner.execute()
    finally:
        runner.detach()
