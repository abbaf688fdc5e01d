"""The worker-pool engine behind ``MultiThreadScheduler`` and ``EventBasedScheduler``.

Design
======
All scheduling state lives under one lock (``_Engine.cv``): which operators are dirty, running
or finished, the timer heap, the reservation counters of the receivers, and every call into a
condition (``check``, ``on_execute``) and every commit. ``compute`` runs outside the lock, so
operators overlap whenever their work releases the GIL (numpy, I/O, GPU calls) — and on
free-threaded CPython, always. Nothing relies on the GIL for atomicity: the only data touched
outside the lock are an operator's own contexts and the deques of its input queues, whose
appends and pops are thread-safe.

Readiness is re-evaluated on events, never by polling. An operator becomes *dirty* when
something that can change its readiness happens: its own commit; a commit of an operator
feeding it (new messages) or fed by it (free room); a ``notify()`` from one of its conditions
(an asynchronous event, a boolean toggled, ``stop_execution``); or the expiry of the WAIT_TIME
target its conditions returned. Dirty operators wait in a queue per placement key — the default
workers, a thread pool, or one pinned thread — and a worker evaluates them one by one, dispatching
the first READY one it finds. Operators with conditions holoflow does not know (user subclasses)
are re-evaluated after every commit and, if the scheduler has a recession period, at that period.
A timeout condition's deadline (a WAIT that comes with a time) is looked at whenever the engine
next takes work after it, and a worker sleeps until it only when no WAIT_TIME target is pending,
as GXF's greedy scheduler sees such a timeout only when it evaluates the operator; it never keeps
the graph from counting as deadlocked.

A worker that finds nothing to do sleeps on the condition variable until the earliest timer,
the recession period or a notification. When no operator is running, dirty, timed or waiting
for an event, the graph is deadlocked: with ``stop_on_deadlock`` the run ends once that has
lasted ``stop_on_deadlock_timeout``.

The thread calling ``run()`` only waits: for the workers to finish, for ``max_duration_ms``, or
for Ctrl-C, which stops the run like ``stop_execution()``. Every worker is joined before ``run()``
returns or raises.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from holoflow.conditions import (
    AsynchronousCondition,
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    MultiMessageAvailableCondition,
    MultiMessageAvailableTimeoutCondition,
    PeriodicCondition,
)
from holoflow.core import (
    Clock,
    OperatorStatus,
    RealtimeClock,
    RealtimeRequest,
    Scheduler,
    SchedulingPolicy,
    ThreadPool,
)
from holoflow.core.run import (
    DEFAULT_GC_POLICY,
    NEVER,
    READY,
    SIGNAL_CHECK_S,
    WAIT_EVENT,
    WAIT_TIME,
    GraphRun,
    OpRun,
    StopRule,
    annotate,
    check_gc_policy,
    leaf_conditions,
)
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core import Fragment, SchedulingStatusType

__all__ = ["ThreadedScheduler"]

_logger = logging.getLogger("holoflow")

# Conditions whose changes always reach the scheduler as events (a commit of the operator or of a
# neighbour, notify, a time target or a timeout's deadline): they never need polling.
_SIGNALLED = (
    AsynchronousCondition,
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    MultiMessageAvailableCondition,
    MultiMessageAvailableTimeoutCondition,
    PeriodicCondition,
)

_DEFAULT = "default"


class _Task:
    """The engine's bookkeeping for one operator, guarded by the engine's lock."""

    __slots__ = ("dirty", "finished", "neighbours", "op_run", "placement", "running", "status")

    def __init__(self, op_run: OpRun) -> None:
        self.op_run = op_run
        self.dirty = False
        """Queued for re-evaluation."""
        self.running = False
        """Its compute is in progress on a worker."""
        self.finished = False
        """It said NEVER: it is not evaluated again."""
        self.status: SchedulingStatusType = READY
        """Its status at the last evaluation."""
        self.placement: Hashable = _DEFAULT
        """The queue of the workers that may run it."""
        self.neighbours: list[_Task] = []
        """The operators whose readiness its commit can change: itself, its consumers and
        producers, and the other producers of its consumers."""


class _PoolPlacement(NamedTuple):
    """Where a thread pool's operator runs: on the pool's thread ``thread`` (pinned), or on any
    thread of the pool (``thread`` None)."""

    pool: int
    thread: int | None


class _Worker:
    """Where one worker thread looks for work, the CPU cores it is restricted to, and the
    real-time scheduling asked for it (``ThreadPool.add_realtime``)."""

    __slots__ = ("cores", "keys", "name", "realtime")

    def __init__(
        self,
        name: str,
        keys: tuple[Hashable, ...],
        cores: tuple[int, ...] | None,
        realtime: RealtimeRequest | None = None,
    ) -> None:
        self.name = name
        self.keys = keys
        self.cores = cores
        self.realtime = realtime


def _apply_realtime(worker: _Worker, request: RealtimeRequest) -> None:
    """Give the calling thread the requested real-time policy, or log why it keeps its own."""
    if request.policy is SchedulingPolicy.SCHED_DEADLINE or not hasattr(os, "sched_setscheduler"):
        _logger.warning(
            "%s: %s cannot be set from Python on this platform; the thread runs at normal priority",
            worker.name,
            request.policy.name,
        )
        return
    try:
        os.sched_setscheduler(0, int(request.policy), os.sched_param(request.priority))
    except (OSError, ValueError) as exc:
        _logger.warning(
            "%s: cannot set %s priority %d (%s; real-time policies need CAP_SYS_NICE or RLIMIT_RTPRIO); "
            "the thread runs at normal priority",
            worker.name,
            request.policy.name,
            request.priority,
            exc,
        )


class _Engine:
    """One threaded run: the workers, their shared state and the waiting caller."""

    def __init__(self, run: GraphRun, clock: Clock, scheduler: ThreadedScheduler) -> None:
        self.run = run
        self.clock = clock
        self.cv = threading.Condition(threading.Lock())
        self.tasks = [_Task(op_run) for op_run in run.ops]
        for task in self.tasks:
            op_run = task.op_run
            # Its commit frees the room it had booked downstream, which the other producers of
            # its consumers may be waiting for: they are neighbours too.
            co_producers = (p for consumer in op_run.consumers for p in consumer.producers)
            related = dict.fromkeys((op_run, *op_run.consumers, *op_run.producers, *co_producers))
            task.neighbours = [self.tasks[o.index] for o in related]
        self.workers = _plan_workers(self.tasks, scheduler)
        self.queues: dict[Hashable, deque[_Task]] = {k: deque() for w in self.workers for k in w.keys}
        # With one kind of worker any sleeper can take any dirty operator: waking one suffices.
        self.wake_one = len({w.keys for w in self.workers}) == 1
        self.timers: list[tuple[int, int, _Task]] = []
        self.deadlines: list[tuple[int, int, _Task]] = []
        """Timeout deadlines: like ``timers``, but they keep nothing alive (module docstring)."""
        self.sequence = itertools.count()
        self.polled = [
            t for t in self.tasks if any(type(c) not in _SIGNALLED for c in leaf_conditions(t.op_run.conds))
        ]
        self.recession = scheduler._recession_seconds()
        self.next_poll = 0.0
        self.rule = StopRule(
            scheduler.max_duration_ms,
            scheduler.stop_on_deadlock,
            scheduler.stop_on_deadlock_timeout,
            self.recession if self.polled else None,
            run.edges,
        )
        self.active = len(self.tasks)
        self.pending = 0
        self.running = 0
        self.stopping = False
        self.error: BaseException | None = None
        self.alive = len(self.workers)
        # Held until the last worker exits. A bare lock, not an Event: Ctrl-C can interrupt the
        # caller's wait at any point, and an Event's condition variable can be left broken by
        # that, while a lock acquisition either happens or does not.
        self.finished = threading.Lock()
        self.finished.acquire()
        run.on_notify = self.notify
        run.notify_locks = True  # notify takes self.cv, which commits hold
        for task in self.tasks:
            self._mark(task)

    # -- called from any thread -----------------------------------------------------------------
    def notify(self, op_run: OpRun) -> None:
        """A condition of ``op_run`` changed: re-evaluate it soon."""
        with self.cv:
            self._mark(self.tasks[op_run.index])
            self.cv.notify_all()

    def request_stop(self) -> None:
        """End the run once the computes in progress return."""
        with self.cv:
            self.stopping = True
            self.cv.notify_all()

    # -- the caller's side ------------------------------------------------------------------------
    def execute(self) -> None:
        """Start the workers, wait for the end, join them; raise the first error."""
        threads = [
            threading.Thread(target=self._work, args=(w,), name=w.name, daemon=True) for w in self.workers
        ]
        self.rule.begin()
        for thread in threads:
            thread.start()
        max_duration = self.rule.max_duration
        deadline = None if max_duration is None else time.monotonic() + max_duration
        try:
            # In slices, so Ctrl-C is seen here even when the signal reached another thread
            # (see holoflow.core.run.wait_interruptibly).
            while not self.finished.acquire(timeout=SIGNAL_CHECK_S):
                if deadline is not None and time.monotonic() >= deadline:
                    deadline = None
                    self.request_stop()
        except BaseException:  # Ctrl-C while waiting: stop cleanly, then let it propagate
            self.request_stop()
            for thread in threads:
                thread.join()
            raise
        for thread in threads:
            thread.join()
        if self.error is not None:
            raise self.error

    # -- the workers' side (everything below runs with the lock held unless said otherwise) ------------
    def _mark(self, task: _Task) -> None:
        if not task.dirty and not task.finished:
            task.dirty = True
            self.queues[task.placement].append(task)
            self.pending += 1

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.stopping = True
        self.cv.notify_all()

    def _work(self, worker: _Worker) -> None:
        cv = self.cv
        run = self.run
        timestamp = self.clock.timestamp
        mark = self._mark
        tick_pending = OperatorStatus.TICK_PENDING
        ticking = OperatorStatus.TICKING
        idle = OperatorStatus.IDLE
        with cv:
            try:
                if worker.cores is not None:
                    os.sched_setaffinity(0, worker.cores)
                if worker.realtime is not None:
                    _apply_realtime(worker, worker.realtime)
                while not self.stopping and self.active:
                    task = self._take(worker.keys)
                    if task is None:
                        timeout = self._idle_timeout()
                        if not self.stopping:
                            cv.wait(timeout)
                        continue
                    # Dispatch: book the room downstream, run compute outside the lock, commit.
                    op_run = task.op_run
                    op_run.status = tick_pending
                    task.running = True
                    self.running += 1
                    run.reserve(op_run)
                    if self.pending:  # more dirty work: let a sleeping worker take it
                        if self.wake_one:
                            cv.notify()
                        else:
                            cv.notify_all()
                    try:
                        cv.release()
                        op_run.status = ticking
                        try:
                            op_run.compute(op_run.inputs, op_run.outputs, op_run.context)
                        except BaseException as exc:
                            annotate(exc, f"{op_run.label}.compute()")
                            raise
                        finally:
                            cv.acquire()
                        run.commit(op_run, timestamp())
                        op_run.status = idle
                    finally:
                        run.release(op_run)
                        task.running = False
                        self.running -= 1
                    for other in task.neighbours:
                        mark(other)
                    for other in self.polled:
                        mark(other)
                    if not self.wake_one:
                        cv.notify_all()  # the dirty operators may belong to another worker's queue
            except BaseException as exc:
                self._fail(exc)
            finally:
                self.alive -= 1
                if self.alive == 0:
                    self.finished.release()
                cv.notify_all()

    def _take(self, keys: tuple[Hashable, ...]) -> _Task | None:
        """Evaluate dirty operators this worker may run; return the first READY one."""
        now = self.clock.timestamp()
        timers = self.timers
        while timers and timers[0][0] <= now:
            self._mark(heapq.heappop(timers)[2])
        deadlines = self.deadlines
        while deadlines and deadlines[0][0] <= now:
            self._mark(heapq.heappop(deadlines)[2])
        if self.polled and self.recession is not None and time.monotonic() >= self.next_poll:
            self.next_poll = time.monotonic() + self.recession
            for task in self.polled:
                self._mark(task)
        for key in keys:
            queue = self.queues[key]
            while queue:
                task = queue.popleft()
                self.pending -= 1
                task.dirty = False
                if self._settle(task, now):
                    return task
        return None

    def _settle(self, task: _Task, now: int) -> bool:
        """Evaluate one dirty operator: file a finished, timed or deadline-bound one where it
        belongs; return whether it is READY."""
        if task.running or task.finished:
            return False  # a running operator is marked again when it commits
        status, when = self.run.evaluate(task.op_run, now)
        task.status = status
        if status is READY:
            self.rule.deadlocked_since = None
            return True
        timers = self.timers
        if status is NEVER:
            task.finished = True
            self.active -= 1
        elif status is WAIT_TIME and when is not None:
            heapq.heappush(timers, (when, next(self.sequence), task))
            if timers[0][2] is task:  # a new earliest target: sleepers must shorten their wait
                self.cv.notify_all()
        elif when is not None:
            deadlines = self.deadlines
            heapq.heappush(deadlines, (when, next(self.sequence), task))
            if not timers and deadlines[0][2] is task:
                self.cv.notify_all()
        return False

    def _idle_timeout(self) -> float | None:
        """How long an idle worker may sleep; ends the run when the stop rule says so."""
        if not self.active:
            return 0.0
        busy = bool(self.running or self.pending)
        delay = self._timer_delay(jump=not busy)
        waiting = (
            busy or bool(self.timers) or any(t.status is WAIT_EVENT and not t.finished for t in self.tasks)
        )
        timeout = self.rule.idle(delay, deadlocked=not waiting)
        if self.rule.ended:
            self.stopping = True
            self.cv.notify_all()
        return timeout

    def _timer_delay(self, jump: bool) -> float | None:
        heap = self.timers or self.deadlines
        if not heap:
            return None
        target = heap[0][0]
        if self.clock.jumps_when_idle:
            if not jump:
                return None  # manual time moves only when the whole graph is idle
            self.clock.wait_until(target, threading.Event())
            return 0.0
        return self.clock.seconds_until(target)


def _plan_workers(tasks: list[_Task], scheduler: ThreadedScheduler) -> list[_Worker]:
    """Give every operator its placement and build the workers that serve each placement."""
    workers = [
        _Worker(f"holoflow-worker-{i}", (_DEFAULT,), scheduler._default_cores())
        for i in range(scheduler.worker_thread_number)
    ]
    pools: dict[int, ThreadPool] = {}
    for task in tasks:
        pool = task.op_run.thread_pool
        if pool is not None:
            pools.setdefault(id(pool), pool)
    for pool in pools.values():
        pinned = [op for op in pool.operators if pool.is_pinned(op)]
        shared = _PoolPlacement(id(pool), None)
        # The shared threads take the real-time request of the first unpinned operator with one.
        requests = (pool.realtime_of(op) for op in pool.operators if op not in pinned)
        shared_realtime = next((r for r in requests if r is not None), None)
        for index in range(pool.size):
            # A pinned operator's thread serves its own placement only; the others serve the pool.
            op = pinned[index] if index < len(pinned) else None
            cores = pool.cores_of(op) if op is not None else None
            _check_cores(cores, f"thread pool '{pool.name}'")
            keys: tuple[Hashable, ...] = (_PoolPlacement(id(pool), index),) if op is not None else (shared,)
            realtime = pool.realtime_of(op) if op is not None else shared_realtime
            workers.append(_Worker(f"holoflow-{pool.name}-{index}", keys, cores, realtime))
        for task in tasks:
            op = task.op_run.op
            if task.op_run.thread_pool is pool:
                task.placement = _PoolPlacement(id(pool), pinned.index(op)) if op in pinned else shared
    return workers


def _check_cores(cores: Sequence[int] | None, owner: str) -> None:
    if cores is None:
        return
    if not hasattr(os, "sched_setaffinity"):
        raise GraphError(f"{owner}: pinning to CPU cores is not supported on this platform")
    available = os.sched_getaffinity(0)
    missing = sorted(set(cores) - available)
    if missing or not cores:
        raise GraphError(
            f"{owner}: cannot pin to cores {sorted(cores)}; available cores: {sorted(available)}"
        )


class ThreadedScheduler(Scheduler):
    """Shared base of the worker-pool schedulers (see the module docstring)."""

    def __init__(
        self,
        fragment: Fragment,
        *,
        clock: Clock | None = None,
        worker_thread_number: int = 1,
        stop_on_deadlock: bool = True,
        stop_on_deadlock_timeout: int = 0,
        max_duration_ms: int = -1,
        network_connection_timeout: int = 5000,
        gc_policy: str = DEFAULT_GC_POLICY,
        name: str,
    ) -> None:
        super().__init__(fragment, name=name)
        self.gc_policy = check_gc_policy(gc_policy, self._label())
        if clock is not None and not isinstance(clock, Clock):
            raise TypeError(f"{self._label()}: clock must be a Clock, not {type(clock).__name__}")
        if int(worker_thread_number) < 1:
            raise ValueError(
                f"{self._label()}: worker_thread_number must be >= 1, got {worker_thread_number}"
            )
        if stop_on_deadlock_timeout < 0:
            raise ValueError(f"{self._label()}: stop_on_deadlock_timeout must be >= 0")
        self.clock = clock
        """The clock of the run: the one given, else a ``RealtimeClock`` made for each run."""
        self._made_clock: Clock | None = None
        self.worker_thread_number = int(worker_thread_number)
        self.stop_on_deadlock = bool(stop_on_deadlock)
        self.stop_on_deadlock_timeout = int(stop_on_deadlock_timeout)
        self.max_duration_ms = int(max_duration_ms)
        self.network_connection_timeout = int(network_connection_timeout)
        """Holoscan's wait for the network connections of a distributed application, in ms;
        kept, and unused (no network connections in one process)."""
        self._engine: _Engine | None = None

    def _recession_seconds(self) -> float | None:
        return None

    def _default_cores(self) -> tuple[int, ...] | None:
        return None

    def request_stop(self) -> None:
        engine = self._engine
        if engine is not None:
            engine.request_stop()

    def run_graph(self, fragment: Fragment) -> None:
        if self.clock is None or self.clock is self._made_clock:
            self.clock = self._made_clock = RealtimeClock(fragment)
        clock = self.clock
        run = GraphRun(fragment)
        engine = _Engine(run, clock, self)
        self._engine = engine
        try:
            run.execute(engine.execute, self.gc_policy)
        finally:
            self._engine = None
