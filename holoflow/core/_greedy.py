"""``GreedyScheduler``: one thread, operators in topological order, as fast as they are ready."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from holoflow.core._clock import Clock, RealtimeClock
from holoflow.core._gc_policy import DEFAULT_GC_POLICY, check_gc_policy
from holoflow.core._interruptible import wait_interruptibly
from holoflow.core._operator_status import OperatorStatus
from holoflow.core._run import NEVER, READY, WAIT_EVENT, WAIT_TIME, GraphRun, OpRun, StopRule, annotate
from holoflow.core._scheduler import Scheduler

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["GreedyScheduler"]


class GreedyScheduler(Scheduler):
    """Run the graph on the calling thread.

    Each pass walks the operators in topological order and executes every one that is ready,
    so a message can cross a whole chain in one pass. When nothing is ready the scheduler
    sleeps — until the earliest WAIT_TIME target, or until an asynchronous condition or a stop
    request wakes it — and never spins.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    clock : Clock, optional
        Time source (default: a new ``RealtimeClock``).
    stop_on_deadlock : bool
        End the run when no operator is ready and none waits for time or an event.
    max_duration_ms : int
        End the run after this many milliseconds (-1: no limit).
    check_recession_period_ms : float
        Longest single sleep while waiting, in ms (0: sleep until woken or due). Set it when a
        custom condition changes state without calling ``notify()``.
    stop_on_deadlock_timeout : int
        How long a deadlock must last before the run ends, in ms.
    network_connection_timeout : int
        Accepted for Holoscan compatibility (it matters to distributed applications only).
    gc_policy : {"freeze", "none"}
        holoflow's: what the run does to Python's garbage collector. ``"freeze"`` (default)
        freezes the objects alive once every operator has started (``gc.freeze()``), so that
        no collection traverses them during the run, and unfreezes them after it; ``"none"``
        leaves the collector alone. See "Garbage collection" in ``docs/scheduling.md``.

    Raises
    ------
    holoflow.errors.ConfigError
        For an unknown ``gc_policy``.
    """

    _default_name = "greedy_scheduler"

    def __init__(
        self,
        fragment: Fragment,
        *,
        clock: Clock | None = None,
        stop_on_deadlock: bool = True,
        max_duration_ms: int = -1,
        check_recession_period_ms: float = 0.0,
        stop_on_deadlock_timeout: int = 0,
        network_connection_timeout: int = 5000,
        gc_policy: str = DEFAULT_GC_POLICY,
        name: str = "greedy_scheduler",
    ) -> None:
        super().__init__(fragment, name=name)
        if clock is not None and not isinstance(clock, Clock):
            raise TypeError(f"{self._label()}: clock must be a Clock, not {type(clock).__name__}")
        if check_recession_period_ms < 0:
            raise ValueError(
                f"{self._label()}: check_recession_period_ms must be >= 0, got {check_recession_period_ms}"
            )
        if stop_on_deadlock_timeout < 0:
            raise ValueError(
                f"{self._label()}: stop_on_deadlock_timeout must be >= 0, got {stop_on_deadlock_timeout}"
            )
        self.gc_policy = check_gc_policy(gc_policy, self._label())
        self.clock = clock
        """The clock of the run: the one given, else a ``RealtimeClock`` made for each run."""
        self._made_clock: Clock | None = None
        self.stop_on_deadlock = bool(stop_on_deadlock)
        self.max_duration_ms = int(max_duration_ms)
        self.check_recession_period_ms = float(check_recession_period_ms)
        self.stop_on_deadlock_timeout = int(stop_on_deadlock_timeout)
        self.network_connection_timeout = int(network_connection_timeout)
        """Holoscan's wait for the network connections of a distributed application, in ms;
        kept, and unused (no network connections in one process)."""
        self._run: GraphRun | None = None

    def request_stop(self) -> None:
        run = self._run
        if run is not None:
            run.request_stop()

    def run_graph(self, fragment: Fragment) -> None:
        if self.clock is None or self.clock is self._made_clock:
            self.clock = self._made_clock = RealtimeClock(fragment)
        clock = self.clock
        run = GraphRun(fragment)
        self._run = run
        try:
            run.execute(lambda: self._loop(run, clock), self.gc_policy)
        finally:
            self._run = None

    def _loop(self, run: GraphRun, clock: Clock) -> None:
        ops = list(run.ops)
        evaluate = run.evaluate
        commit = run.commit
        wake = run.wake
        timestamp = clock.timestamp
        rule = StopRule(
            self.max_duration_ms,
            self.stop_on_deadlock,
            self.stop_on_deadlock_timeout,
            self.check_recession_period_ms / 1000 or None,
            run.edges,
        )
        rule.begin()
        deadline = rule.deadline
        ticking = OperatorStatus.TICKING
        idle = OperatorStatus.IDLE
        while ops and not run.stop_requested:
            wake.clear()
            now = timestamp()
            ran = False
            finished: list[OpRun] = []
            next_time: int | None = None
            next_deadline: int | None = None  # of timeout conditions: wakes, keeps nothing alive
            waiting_event = False
            for op_run in ops:
                status, when = evaluate(op_run, now)
                if status is READY:
                    op_run.status = ticking  # dispatched and run on this thread: no TICK_PENDING
                    try:
                        op_run.compute(op_run.inputs, op_run.outputs, op_run.context)
                    except BaseException as exc:
                        annotate(exc, f"{op_run.label}.compute()")
                        raise
                    commit(op_run, now)
                    op_run.status = idle
                    ran = True
                elif status is NEVER:
                    finished.append(op_run)
                elif status is WAIT_TIME:
                    if when is not None and (next_time is None or when < next_time):
                        next_time = when
                else:
                    if status is WAIT_EVENT:
                        waiting_event = True
                    if when is not None and (next_deadline is None or when < next_deadline):
                        next_deadline = when
            if finished:
                ops = [op_run for op_run in ops if op_run not in finished]
            if deadline is not None and time.monotonic() >= deadline:
                return
            if ran:
                rule.deadlocked_since = None
                continue
            if not ops:
                return
            budget = rule.idle(None, deadlocked=next_time is None and not waiting_event)
            if rule.ended:
                return
            if next_time is None:
                # As GXF's greedy scheduler, which sees a timeout only when it evaluates the
                # operator: wake for it when nothing else is timed.
                next_time = next_deadline
            if next_time is None:
                wait_interruptibly(wake, budget)
            elif budget is None:
                clock.wait_until(next_time, wake)
            else:
                clock.wait_until(min(next_time, timestamp() + int(budget * 1e9)), wake)
