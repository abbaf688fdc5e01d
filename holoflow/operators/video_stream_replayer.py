"""``VideoStreamReplayerOp`` at Holoscan's path ``holoscan.operators.video_stream_replayer``."""

from holoflow.operators._video_stream_replayer import VideoStreamReplayerOp

__all__ = ["VideoStreamReplayerOp"]
