"""``SegmentationPostprocessorOp`` at Holoscan's path ``holoscan.operators.segmentation_postprocessor``."""

from holoflow.operators._segmentation_postprocessor import SegmentationPostprocessorOp

__all__ = ["SegmentationPostprocessorOp"]
