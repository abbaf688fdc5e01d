"""``PingTxOp`` and ``PingRxOp``: the smallest source and sink, as in Holoscan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core import Operator

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["PingRxOp", "PingTxOp"]


class PingTxOp(Operator):
    """Emit 1, 2, 3, ... on output ``out``, one per compute. Bound it with a ``CountCondition``."""

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self.index = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("out")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        self.index += 1
        op_output.emit(self.index, "out")


class PingRxOp(Operator):
    """Print each message from input ``in`` as ``Rx message value: {value}``."""

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        print(f"Rx message value: {op_input.receive('in')}")
