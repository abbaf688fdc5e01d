"""``ThreadPool``: dedicated worker threads for chosen operators (threaded schedulers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from holoflow.core._operator import Operator
from holoflow.core._resource import Resource
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["ThreadPool"]


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
