"""Built-in operators (Holoscan's ``holoscan.operators``)."""

from holoflow.operators._ping import PingRxOp, PingTxOp
from holoflow.operators._video_stream_recorder import VideoStreamRecorderOp
from holoflow.operators._video_stream_replayer import VideoStreamReplayerOp

__all__ = ["PingRxOp", "PingTxOp", "VideoStreamRecorderOp", "VideoStreamReplayerOp"]
