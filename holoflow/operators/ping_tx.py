"""``PingTxOp`` at Holoscan's path ``holoscan.operators.ping_tx``."""

from holoflow.operators._ping import PingTxOp

__all__ = ["PingTxOp"]
