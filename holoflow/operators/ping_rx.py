"""``PingRxOp`` at Holoscan's path ``holoscan.operators.ping_rx``."""

from holoflow.operators._ping import PingRxOp

__all__ = ["PingRxOp"]
