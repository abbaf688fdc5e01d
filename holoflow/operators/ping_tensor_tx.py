"""``PingTensorTxOp`` at Holoscan's path ``holoscan.operators.ping_tensor_tx``."""

from holoflow.operators._ping_tensor import PingTensorTxOp

__all__ = ["PingTensorTxOp"]
