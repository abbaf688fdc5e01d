"""Capture video with V4L2VideoCaptureOp: from a camera, or from a video file where there is none.

With no ``--device``, the app writes a short generated clip (PyAV) and captures from it, so it
runs anywhere; ``--device /dev/video0`` captures from a camera with the same graph, and
``--device clip.mp4`` or ``--device rtsp://...`` from a file or a stream. Each frame's size and
mean colour are printed.

As in Holoscan's v4l2_camera example, ``--pass-through --pixel-format YUYV`` takes the frames
as captured and converts them with FormatConverterOp; otherwise the operator delivers RGBA.

    python3 examples/v4l2_capture.py
    python3 examples/v4l2_capture.py --device /dev/video0 --frames 100
    python3 examples/v4l2_capture.py --pass-through --pixel-format YUYV
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.errors import ResourceError
from holoflow.operators import FormatConverterOp, V4L2VideoCaptureOp

CLIP_SIZE = (320, 240)
CLIP_FRAMES = 10
CLIP_FPS = 30


def make_frame(k: int, width: int = CLIP_SIZE[0], height: int = CLIP_SIZE[1]) -> np.ndarray:
    """Frame ``k`` of the generated clip: a colour gradient whose red ramp moves right."""
    x = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:, :, 0] = (x + 8 * k) * 255 // (width + 8 * CLIP_FRAMES)
    rgb[:, :, 1] = np.broadcast_to(y * 255 // height, (height, width))
    rgb[:, :, 2] = 96
    return rgb


def write_clip(path: Path) -> None:
    """Write the generated clip, losslessly (FFV1), so every run captures the same pixels."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=CLIP_FPS)
        stream.width, stream.height = CLIP_SIZE
        stream.pix_fmt = "bgr0"
        for k in range(CLIP_FRAMES):
            frame = av.VideoFrame.from_ndarray(make_frame(k), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


class FrameStats(Operator):
    """Prints each frame's shape and mean colour."""

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        frame = np.asarray(op_input.receive("in")[""])
        r, g, b = frame[:, :, :3].reshape(-1, 3).mean(axis=0)
        size = "x".join(str(n) for n in frame.shape)
        print(f"frame {self.count}: {size} {frame.dtype}, mean RGB ({r:.1f}, {g:.1f}, {b:.1f})")
        self.count += 1


class CaptureApp(Application):
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        super().__init__()

    def compose(self):
        o = self.options
        source = V4L2VideoCaptureOp(
            self,
            CountCondition(self, o.frames, name="frames"),
            name="source",
            device=o.device,
            width=o.width,
            height=o.height,
            pixel_format=o.pixel_format,
            pass_through=o.pass_through,
        )
        self.stats = FrameStats(self, name="stats")
        if o.pass_through and o.pixel_format == "YUYV":
            converter = FormatConverterOp(
                self, name="format_converter", in_dtype="yuyv", out_dtype="rgb888", out_tensor_name=""
            )
            self.add_flow(source, converter, {("signal", "source_video")})
            self.add_flow(converter, self.stats, {("tensor", "in")})
        else:
            self.add_flow(source, self.stats, {("signal", "in")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="V4L2 node, video file or stream URL (default: a generated clip)")
    parser.add_argument("--frames", type=int, default=CLIP_FRAMES, help="frames to capture at most")
    parser.add_argument("--width", type=int, default=0, help="capture width (0: the device's)")
    parser.add_argument("--height", type=int, default=0, help="capture height (0: the device's)")
    parser.add_argument("--pixel-format", default="auto", help="FourCC such as YUYV or MJPG, or auto")
    parser.add_argument("--pass-through", action="store_true", help="take frames as captured")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if options.device is None:
            options.device = str(Path(folder) / "generated.mkv")
            write_clip(Path(options.device))
            print("no --device given: capturing a generated clip (--device /dev/video0 for a camera)")
        app = CaptureApp(options)
        try:
            app.run()
        except ResourceError as exc:  # no such camera, or it cannot capture as asked
            sys.exit(f"error: {exc}")
    print(f"captured {app.stats.count} frames")


if __name__ == "__main__":
    main()
