"""``BooleanCondition``: an on/off switch for an operator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core import Condition, ConditionType, SchedulingStatusType

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["BooleanCondition"]

_READY = (SchedulingStatusType.READY, None)
_NEVER = (SchedulingStatusType.NEVER, None)


class BooleanCondition(Condition):
    """READY while enabled; NEVER once disabled (the operator is then finished for the run).

    ``enable_tick`` / ``disable_tick`` may be called from any thread, ``compute`` included.
    """

    condition_type = ConditionType.BOOLEAN

    def __init__(
        self, fragment: Fragment | Subgraph, enable_tick: bool = True, name: str = "boolean_condition"
    ) -> None:
        super().__init__(fragment, name=name)
        self._enabled = bool(enable_tick)

    def enable_tick(self) -> None:
        """Let the operator run."""
        self._enabled = True
        self.notify()

    def disable_tick(self) -> None:
        """Stop the operator for the rest of the run."""
        self._enabled = False
        self.notify()

    def check_tick_enabled(self) -> bool:
        """Whether the operator may run."""
        return self._enabled

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        return _READY if self._enabled else _NEVER
