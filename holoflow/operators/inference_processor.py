"""``InferenceProcessorOp`` at Holoscan's path ``holoscan.operators.inference_processor``."""

from holoflow.operators._inference_processor import InferenceProcessorOp

__all__ = ["InferenceProcessorOp"]
