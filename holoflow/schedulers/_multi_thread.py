"""``MultiThreadScheduler``: a pool of worker threads, event driven."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core.run import DEFAULT_GC_POLICY
from holoflow.schedulers._threaded import ThreadedScheduler

if TYPE_CHECKING:
    from holoflow.core import Clock, Fragment

__all__ = ["MultiThreadScheduler"]


class MultiThreadScheduler(ThreadedScheduler):
    """Run ready operators on ``worker_thread_number`` threads.

    An operator never runs concurrently with itself; different operators overlap. Readiness is
    re-evaluated on events (emits, consumed messages, condition changes, timers), so an idle
    graph costs no CPU. ``check_recession_period_ms`` is the period at which operators with
    custom conditions (which may change without notifying) are re-checked.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    worker_thread_number : int
        Worker threads for operators outside thread pools (>= 1).
    check_recession_period_ms : float
        Re-check period for custom conditions, in ms (0: only on events).
    stop_on_deadlock, stop_on_deadlock_timeout, max_duration_ms, clock, gc_policy
        As for :class:`~holoflow.schedulers.GreedyScheduler`.
    network_connection_timeout : int
        Accepted for Holoscan compatibility (it matters to distributed applications only).
    strict_job_thread_pinning : bool
        Accepted for Holoscan compatibility; holoflow always pins strictly: a pinned operator's
        thread runs nothing else.
    """

    _default_name = "multithread_scheduler"

    def __init__(
        self,
        fragment: Fragment,
        *,
        clock: Clock | None = None,
        worker_thread_number: int = 1,
        stop_on_deadlock: bool = True,
        check_recession_period_ms: float = 5.0,
        max_duration_ms: int = -1,
        stop_on_deadlock_timeout: int = 0,
        network_connection_timeout: int = 5000,
        strict_job_thread_pinning: bool = False,
        gc_policy: str = DEFAULT_GC_POLICY,
        name: str = "multithread_scheduler",
    ) -> None:
        super().__init__(
            fragment,
            clock=clock,
            worker_thread_number=worker_thread_number,
            stop_on_deadlock=stop_on_deadlock,
            stop_on_deadlock_timeout=stop_on_deadlock_timeout,
            max_duration_ms=max_duration_ms,
            network_connection_timeout=network_connection_timeout,
            gc_policy=gc_policy,
            name=name,
        )
        if check_recession_period_ms < 0:
            raise ValueError(f"{self._label()}: check_recession_period_ms must be >= 0")
        self.check_recession_period_ms = float(check_recession_period_ms)
        self.strict_job_thread_pinning = bool(strict_job_thread_pinning)

    def _recession_seconds(self) -> float | None:
        return self.check_recession_period_ms / 1000 or None
