"""``PingTensorRxOp`` at Holoscan's path ``holoscan.operators.ping_tensor_rx``."""

from holoflow.operators._ping_tensor import PingTensorRxOp

__all__ = ["PingTensorRxOp"]
