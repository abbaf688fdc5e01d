"""Test doubles: a ``Source`` that emits given items and a ``Recorder`` that keeps what arrives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from holoflow.conditions import BooleanCondition
from holoflow.core import Operator

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["Recorder", "Source"]


class Source(Operator):
    """Emit each item of ``items`` on output ``out``, one per compute, then finish.

    The items are read again from the start on every run.
    """

    def __init__(
        self, fragment: Fragment | Subgraph, items: Iterable[Any], *args: Any, **kwargs: Any
    ) -> None:
        self.items = list(items)
        self._left = BooleanCondition(fragment, name="source_items_left")
        self._iterator: Any = iter(())
        super().__init__(fragment, self._left, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("out")

    def start(self) -> None:
        self._iterator = iter(self.items)
        self._next = next(self._iterator, _END)
        if self._next is _END:
            self._left.disable_tick()
        else:
            self._left.enable_tick()

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        op_output.emit(self._next, "out")
        self._next = next(self._iterator, _END)
        if self._next is _END:
            self._left.disable_tick()


class Recorder(Operator):
    """Append every message arriving on input ``in`` to :attr:`received`."""

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self.received: list[Any] = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        self.received.append(op_input.receive("in"))


_END: Any = object()
