"""``EventBasedScheduler``: a pool of worker threads woken only by events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    stop_on_deadlock, stop_on_deadlock_timeout, max_duration_ms, clock
        As for :class:`~holoflow.schedulers.GreedyScheduler`.
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
        pin_cores: Sequence[int] | None = None,
        name: str = "event_based_scheduler",
    ) -> None:
        super().__init__(
            fragment,
            clock=clock,
            worker_thread_number=worker_thread_number,
            stop_on_deadlock=stop_on_deadlock,
            stop_on_deadlock_timeout=stop_on_deadlock_timeout,
            max_duration_ms=max_duration_ms,
            name=name,
        )
        self.pin_cores = tuple(int(c) for c in pin_cores) if pin_cores else None

    def _default_cores(self) -> tuple[int, ...] | None:
        _check_cores(self.pin_cores, self._label())
        return self.pin_cores
