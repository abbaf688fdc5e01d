"""Built-in operators (Holoscan's ``holoscan.operators``).

Each operator also imports from its own submodule, as in Holoscan
(``from holoflow.operators.holoviz import HolovizOp``).
"""

from holoflow.operators._bayer_demosaic import BayerDemosaicOp
from holoflow.operators._csi_to_bayer import CsiToBayerOp
from holoflow.operators._format_converter import FormatConverterOp
from holoflow.operators._gxf_codelet import GXFCodeletOp
from holoflow.operators._holoviz import HolovizOp
from holoflow.operators._image_processor import ImageProcessorOp
from holoflow.operators._inference import InferenceOp
from holoflow.operators._inference_processor import InferenceProcessorOp
from holoflow.operators._linux_receiver import LinuxReceiverOp
from holoflow.operators._ping import PingRxOp, PingTxOp
from holoflow.operators._ping_tensor import PingTensorRxOp, PingTensorTxOp
from holoflow.operators._raw_image_processor import RawImageProcessorOp
from holoflow.operators._roce_receiver import RoceReceiverOp
from holoflow.operators._segmentation_postprocessor import SegmentationPostprocessorOp
from holoflow.operators._tool_tracking_postprocessor import ToolTrackingPostprocessorOp
from holoflow.operators._v4l2_video_capture import V4L2VideoCaptureOp
from holoflow.operators._video_stream_recorder import VideoStreamRecorderOp
from holoflow.operators._video_stream_replayer import VideoStreamReplayerOp

__all__ = [
    "BayerDemosaicOp",
    "CsiToBayerOp",
    "FormatConverterOp",
    "GXFCodeletOp",
    "HolovizOp",
    "ImageProcessorOp",
    "InferenceOp",
    "InferenceProcessorOp",
    "LinuxReceiverOp",
    "PingRxOp",
    "PingTensorRxOp",
    "PingTensorTxOp",
    "PingTxOp",
    "RawImageProcessorOp",
    "RoceReceiverOp",
    "SegmentationPostprocessorOp",
    "ToolTrackingPostprocessorOp",
    "V4L2VideoCaptureOp",
    "VideoStreamRecorderOp",
    "VideoStreamReplayerOp",
]
