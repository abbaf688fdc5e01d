"""``RawImageProcessorOp`` at Holoscan's path ``holoscan.operators.raw_image_processor``."""

from holoflow.operators._raw_image_processor import RawImageProcessorOp

__all__ = ["RawImageProcessorOp"]
