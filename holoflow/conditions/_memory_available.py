"""``MemoryAvailableCondition``: run an operator only when its allocator has memory to give."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core import Condition, Resource, SchedulingStatusType
from holoflow.errors import ConfigError

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["MemoryAvailableCondition"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)


class MemoryAvailableCondition(Condition):
    """READY while ``allocator`` can give ``min_bytes`` (``allocator.is_available``) or has
    ``min_blocks`` free blocks (block pools such as ``BlockMemoryPool``); WAIT otherwise, until
    another operator's progress frees memory.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    allocator : holoflow.resources.Allocator
        The allocator to watch.
    min_bytes : int, optional
        Bytes that must be available. Exclusive with ``min_blocks``.
    min_blocks : int, optional
        Free blocks needed (block pools only). Exclusive with ``min_bytes``.
    name : str
        The condition's name.

    Raises
    ------
    holoflow.errors.ConfigError
        If both or neither of ``min_bytes`` and ``min_blocks`` are given, a value is negative,
        ``allocator`` is not an allocator, or ``min_blocks`` is given for an allocator without
        blocks.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        allocator: Any,
        min_bytes: int | None = None,
        min_blocks: int | None = None,
        name: str = "memory_available_condition",
    ) -> None:
        super().__init__(fragment, name=name)
        label = self._label()
        if not isinstance(allocator, Resource) or not callable(getattr(allocator, "is_available", None)):
            raise ConfigError(f"{label}: allocator must be an Allocator, not {type(allocator).__name__}")
        if (min_bytes is None) == (min_blocks is None):
            raise ConfigError(f"{label}: give exactly one of min_bytes or min_blocks")
        if min_blocks is not None and not callable(getattr(allocator, "statistics", None)):
            raise ConfigError(
                f"{label}: min_blocks needs an allocator of blocks (BlockMemoryPool); "
                f"{allocator.name!r} is a {type(allocator).__name__}: use min_bytes"
            )
        for key, value in (("min_bytes", min_bytes), ("min_blocks", min_blocks)):
            if value is not None and int(value) < 0:
                raise ConfigError(f"{label}: {key} must be >= 0, got {value}")
        self.allocator: Any = allocator
        self.min_bytes = None if min_bytes is None else int(min_bytes)
        self.min_blocks = None if min_blocks is None else int(min_blocks)

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        if self.min_blocks is not None:
            return _READY if self.allocator.statistics().free >= self.min_blocks else _WAIT
        return _READY if self.allocator.is_available(self.min_bytes) else _WAIT
