"""``holoflow.operators.v4l2_video_capture``: Holoscan's per-operator module path for
:class:`~holoflow.operators.V4L2VideoCaptureOp`."""

from holoflow.operators._v4l2_video_capture import V4L2VideoCaptureOp

__all__ = ["V4L2VideoCaptureOp"]
