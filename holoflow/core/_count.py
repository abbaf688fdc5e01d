"""``CountCondition``: run an operator a fixed number of times."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._subgraph import Subgraph

__all__ = ["CountCondition"]

_READY = (SchedulingStatusType.READY, None)
_NEVER = (SchedulingStatusType.NEVER, None)


class CountCondition(Condition):
    """Ready while the operator has run fewer than ``count`` times in this run; then NEVER.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    count : int
        Number of ``compute`` calls allowed per run (>= 0).
    """

    condition_type = ConditionType.COUNT

    def __init__(self, fragment: Fragment | Subgraph, count: int = 1, name: str = "count_condition") -> None:
        super().__init__(fragment, name=name)
        self.count = count
        self._remaining = self._count

    @property
    def count(self) -> int:
        """The number of executions allowed per run."""
        return self._count

    @count.setter
    def count(self, value: int) -> None:
        if int(value) < 0:
            raise ValueError(f"{self._label()}: count must be >= 0, got {value}")
        self._count = int(value)
        self._remaining = self._count

    @property
    def remaining(self) -> int:
        """Executions left in the current run."""
        return self._remaining

    def reset(self) -> None:
        self._remaining = self._count

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        return _READY if self._remaining > 0 else _NEVER

    def on_execute(self, timestamp: int) -> None:
        self._remaining -= 1
