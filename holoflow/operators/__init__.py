"""Built-in operators (Holoscan's ``holoscan.operators``)."""

from holoflow.operators._ping import PingRxOp, PingTxOp

__all__ = ["PingRxOp", "PingTxOp"]
