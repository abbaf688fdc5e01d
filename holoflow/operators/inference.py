"""``InferenceOp`` at Holoscan's path ``holoscan.operators.inference``."""

from holoflow.operators._inference import InferenceOp

__all__ = ["InferenceOp"]
