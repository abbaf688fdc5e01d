"""``EventBasedScheduler``: a pool of worker threads woken only by events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from holoflow.core.run import DEFAULT_GC_POLICY
from holoflow.schedulers._threaded import ThreadedScheduler, _check_cores

if TYPE_CHECKING:
    from holoflow.core import Clock, Fragment

__all__ = ["EventBasedScheduler"]


class EventBasedScheduler(ThreadedScheduler):
    """Run ready operators on ``worker_thread_number`` threads, woken only by events.

    Like :class:`~holoflow.schedulers.MultiThreadScheduler` without a re-check period: custom
    conditions must call ``notify()`` when they change from outside the graph.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    worker_thread_number : int
        Worker threads for operators outside thread pools (>= 1).
    pin_cores : sequence of int, optional
        Restrict those worker threads to these CPU cores (Linux).
    stop_on_deadlock, stop_on_deadlock_timeout, max_duration_ms, clock, network_connection_timeout, \
    gc_policy
        As for :class:`~holoflow.schedulers.GreedyScheduler`.
    enable_queue_stealing, steal_scan_limit, enable_worker_postcheck_fastpath, \
    postcheck_fallback_notify_interval, postcheck_fallback_notify_min_workers, \
    postcheck_fallback_notify_min_period_ns, internal_event_shard_count, \
    dispatcher_internal_pop_batch_size, wait_state_shard_count, log_perf_stats
        Holoscan 4.6's tuning knobs of GXF's event-based scheduler, accepted and kept as
        attributes; holoflow's engine has no such queues, so they change nothing.
    """

    _default_name = "event_based_scheduler"

    def __init__(
        self,
        fragment: Fragment,
        *,
        clock: Clock | None = None,
        worker_thread_number: int = 1,
        stop_on_deadlock: bool = True,
        max_duration_ms: int = -1,
        stop_on_deadlock_timeout: int = 0,
        network_connection_timeout: int = 5000,
        pin_cores: Sequence[int] | None = None,
        enable_queue_stealing: bool = False,
        steal_scan_limit: int = 0,
        enable_worker_postcheck_fastpath: bool = False,
        postcheck_fallback_notify_interval: int = 256,
        postcheck_fallback_notify_min_workers: int = 8,
        postcheck_fallback_notify_min_period_ns: int = 100000,
        internal_event_shard_count: int = 0,
        dispatcher_internal_pop_batch_size: int = 32,
        wait_state_shard_count: int = 1,
        log_perf_stats: bool = False,
        gc_policy: str = DEFAULT_GC_POLICY,
        name: str = "event_based_scheduler",
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
        self.pin_cores = tuple(int(c) for c in pin_cores) if pin_cores else None
        # Tuning knobs of the queues and dispatcher of GXF's event-based scheduler (Holoscan 4.6).
        # holoflow's engine has no such queues; the values are kept so that code setting or
        # reading them ports unchanged.
        self.enable_queue_stealing = bool(enable_queue_stealing)
        self.steal_scan_limit = int(steal_scan_limit)
        self.enable_worker_postcheck_fastpath = bool(enable_worker_postcheck_fastpath)
        self.postcheck_fallback_notify_interval = int(postcheck_fallback_notify_interval)
        self.postcheck_fallback_notify_min_workers = int(postcheck_fallback_notify_min_workers)
        self.postcheck_fallback_notify_min_period_ns = int(postcheck_fallback_notify_min_period_ns)
        self.internal_event_shard_count = int(internal_event_shard_count)
        self.dispatcher_internal_pop_batch_size = int(dispatcher_internal_pop_batch_size)
        self.wait_state_shard_count = int(wait_state_shard_count)
        self.log_perf_stats = bool(log_perf_stats)

    def _default_cores(self) -> tuple[int, ...] | None:
        _check_cores(self.pin_cores, self._label())
        return self.pin_cores
