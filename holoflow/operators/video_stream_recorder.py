"""``VideoStreamRecorderOp`` at Holoscan's path ``holoscan.operators.video_stream_recorder``."""

from holoflow.operators._video_stream_recorder import VideoStreamRecorderOp

__all__ = ["VideoStreamRecorderOp"]
