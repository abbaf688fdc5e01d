"""``ThreadPool``: dedicated worker threads for chosen operators (threaded schedulers)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from holoflow.core._operator import Operator
from holoflow.core._resource import Resource
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["RealtimeRequest", "SchedulingPolicy", "ThreadPool"]


class SchedulingPolicy(enum.IntEnum):
    """Linux real-time scheduling policies for :meth:`ThreadPool.add_realtime` (values of
    ``os.SCHED_*``)."""

    SCHED_FIFO = 1
    SCHED_RR = 2
    SCHED_DEADLINE = 6


@dataclass(frozen=True)
class RealtimeRequest:
    """The real-time scheduling asked for an operator's thread with ``add_realtime``."""

    policy: SchedulingPolicy
    priority: int
    """For SCHED_FIFO and SCHED_RR (1..99 on Linux)."""
    runtime: int
    """For SCHED_DEADLINE, in ns."""
    deadline: int
    """For SCHED_DEADLINE, in ns."""
    period: int
    """For SCHED_DEADLINE, in ns."""


class ThreadPool(Resource):
    """A group of worker threads that only run the operators added to it.

    Create one with ``fragment.make_thread_pool(name, initialize_size)``. Under
    ``MultiThreadScheduler`` and ``EventBasedScheduler`` the pool's operators run on the pool's
    threads and nowhere else; an operator added with ``pin_operator=True`` gets a thread of its
    own, which runs nothing else (Holoscan's strict pinning, under both schedulers), and the
    others share the pool's remaining threads. ``GreedyScheduler`` runs everything on one thread and ignores
    pools.
    """

    _default_name = "thread_pool"

    def __init__(self, fragment: Fragment, initialize_size: int = 1, name: str = "thread_pool") -> None:
        super().__init__(fragment, name=name)
        if int(initialize_size) < 1:
            raise ValueError(f"{self._label()}: initialize_size must be >= 1, got {initialize_size}")
        self.initialize_size = int(initialize_size)
        self._operators: list[Operator] = []
        self._pinned: set[int] = set()
        self._cores: dict[int, tuple[int, ...]] = {}
        self._realtime: dict[int, RealtimeRequest] = {}

    def add(
        self,
        ops: Operator | Iterable[Operator],
        pin_operator: bool = False,
        pin_cores: Sequence[int] | None = None,
    ) -> None:
        """Add operators to the pool; ``pin_operator`` gives each a dedicated thread.

        ``pin_cores`` restricts the threads running these operators to the given CPU cores.

        Raises
        ------
        GraphError
            If an operator belongs to another fragment or already is in a pool.
        """
        for op in [ops] if isinstance(ops, Operator) else list(ops):
            if not isinstance(op, Operator):
                raise TypeError(f"{self._label()}: add() takes operators, not {type(op).__name__}")
            if op.fragment is not self.fragment:
                raise GraphError(f"{self._label()}: operator '{op.name}' belongs to another fragment")
            owner = op._holoflow_thread_pool
            if owner is not None and owner is not self:
                raise GraphError(f"operator '{op.name}' is already in thread pool '{owner.name}'")
            op._holoflow_thread_pool = self
            if op not in self._operators:
                self._operators.append(op)
            if pin_operator:
                self._pinned.add(id(op))
            if pin_cores:
                self._cores[id(op)] = tuple(int(c) for c in pin_cores)

    def add_realtime(
        self,
        op: Operator,
        sched_policy: SchedulingPolicy | int | str,
        pin_operator: bool = True,
        pin_cores: Sequence[int] | None = None,
        sched_priority: int = 0,
        sched_runtime: int = 0,
        sched_deadline: int = 0,
        sched_period: int = 0,
    ) -> None:
        """Add ``op`` as :meth:`add` does, and ask for real-time scheduling of its thread.

        When a threaded scheduler starts the thread that runs ``op`` (its own thread when
        ``pin_operator``), it sets the policy and priority with ``os.sched_setscheduler``. Linux
        allows that only with the ``CAP_SYS_NICE`` capability (or a matching ``RLIMIT_RTPRIO``);
        without it, and for ``SCHED_DEADLINE`` (which Python cannot set), the thread runs at
        normal priority and one warning is logged. ``GreedyScheduler`` ignores thread pools.

        Raises
        ------
        ValueError
            If ``sched_policy`` names no policy, or the priority is not 0..99.
        GraphError
            As :meth:`add`.
        """
        policy = _policy(self._label(), sched_policy)
        if not 0 <= int(sched_priority) <= 99:
            raise ValueError(f"{self._label()}: sched_priority must be 0..99, got {sched_priority}")
        self.add(op, pin_operator, pin_cores)
        self._realtime[id(op)] = RealtimeRequest(
            policy, int(sched_priority), int(sched_runtime), int(sched_deadline), int(sched_period)
        )

    def realtime_of(self, op: Operator) -> RealtimeRequest | None:
        """The real-time scheduling asked for ``op`` with :meth:`add_realtime`, if any."""
        return self._realtime.get(id(op))

    @property
    def operators(self) -> list[Operator]:
        """Operators in the pool, in the order added."""
        return list(self._operators)

    @property
    def size(self) -> int:
        """Threads the pool runs: one per pinned operator, which runs nothing else, and the rest of
        ``initialize_size`` for the other operators of the pool (at least one when there are any)."""
        pinned = len(self._pinned)
        shared = self.initialize_size - pinned
        if shared < 1:
            shared = 1 if len(self._operators) > pinned else 0
        return pinned + shared

    def is_pinned(self, op: Operator) -> bool:
        """Whether ``op`` has a thread of its own."""
        return id(op) in self._pinned

    def cores_of(self, op: Operator) -> tuple[int, ...] | None:
        """The CPU cores ``op``'s thread is restricted to, if any."""
        return self._cores.get(id(op))

    def __repr__(self) -> str:
        return f"<ThreadPool {self.name!r} size={self.size} operators={[op.name for op in self._operators]}>"


def _policy(label: str, value: SchedulingPolicy | int | str) -> SchedulingPolicy:
    if isinstance(value, str):
        key = value.strip().upper()
        key = key if key.startswith("SCHED_") else f"SCHED_{key}"
        if key in SchedulingPolicy.__members__:
            return SchedulingPolicy[key]
    else:
        try:
            return SchedulingPolicy(int(value))
        except ValueError:
            pass
    raise ValueError(
        f"{label}: unknown scheduling policy {value!r}; use one of {list(SchedulingPolicy.__members__)}"
    )
