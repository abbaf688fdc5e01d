"""A video file or stream URL read through PyAV, delivering frames as a V4L2 camera would.

This is holoflow's stand-in for a camera: ``V4L2VideoCaptureOp(device="clip.mp4")`` runs the
same graph on a machine without one. Each decoded frame is scaled to the requested size and
re-encoded in the requested camera pixel format (``"auto"``: RGBA, what Holoscan's automatic
choice prefers), so the operator's conversion and pass-through paths see what a device would
have delivered.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np

from holoflow.errors import CodecError, ResourceError

__all__ = ["EMULATED", "VideoFileSource"]

EMULATED = {
    "AB24": "rgba",
    "RGB3": "rgb24",
    "BGR3": "bgr24",
    "YUYV": "yuyv422",
    "GREY": "gray",
    "NV12": "nv12",
    "YU12": "yuv420p",
    "MJPG": "rgb24",  # then JPEG-encoded
}
"""The camera pixel formats a file source delivers, and the FFmpeg format each is made from."""

_EVEN_WIDTH = {"YUYV", "NV12", "YU12"}
_EVEN_HEIGHT = {"NV12", "YU12"}
_DEFAULT_RATE = 30.0
_TIMEOUT_S = 15.0  # as long as Holoscan waits for a camera frame
_JPEG_QUALITY = 90


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise ResourceError(
            "capturing from a video file or URL needs PyAV: pip install 'holoflow[video]'"
        ) from None
    return av


class VideoFileSource:
    """Decoded frames of ``location`` (a path or a URL such as ``rtsp://...``).

    After construction, :attr:`fourcc`, :attr:`width`, :attr:`height`, :attr:`compressed`,
    :attr:`ycbcr_encoding`, :attr:`quantization` (both 0, V4L2's default) and :attr:`frame_rate`
    (the stream's average rate, 30 when it reports none) describe the stream. The first frame
    is decoded here, so a file without frames fails at once.

    Raises
    ------
    holoflow.errors.ResourceError
        If PyAV is missing, a URL cannot be opened, ``pixel_format`` is not one of
        :data:`EMULATED`, or the size does not suit it.
    holoflow.errors.CodecError
        If the file has no decodable video stream or no frame.
    """

    def __init__(
        self,
        location: str,
        *,
        width: int = 0,
        height: int = 0,
        pixel_format: str = "auto",
        repeat: bool = False,
    ) -> None:
        self._av = _av()
        self.location = location
        self.repeat = repeat
        self.fourcc = "AB24" if pixel_format == "auto" else pixel_format
        if self.fourcc not in EMULATED:
            raise ResourceError(
                f"a video file or URL source delivers pixel formats {', '.join(EMULATED)}; "
                f"got {pixel_format!r}"
            )
        self.compressed = self.fourcc == "MJPG"
        # V4L2's "default for the format": BT.601 and limited range for YUV, which is what
        # FFmpeg's scaler makes from RGB and what most video files hold.
        self.ycbcr_encoding = 0
        self.quantization = 0
        self._container: Any = None
        self._frames: Iterator[Any] = iter(())
        self.frame_rate = self._open()
        first = self._decode(first=True)
        if first is None:
            self.close()
            raise CodecError(f"{location}: no video frames")
        self.width = width or first.width
        self.height = height or first.height
        even_height = self.fourcc in _EVEN_HEIGHT
        if (self.fourcc in _EVEN_WIDTH and self.width % 2) or (even_height and self.height % 2):
            self.close()
            raise ResourceError(
                f"{self.fourcc} frames need an even {'width and height' if even_height else 'width'}; "
                f"the size is {self.width}x{self.height} (set width and height)"
            )
        self._next: Any = first
        self._error: CodecError | None = None

    @property
    def finished(self) -> bool:
        """Whether every frame has been read (never, with ``repeat``, unless the file empties)."""
        return self._next is None and self._error is None

    def _open(self) -> float:
        av = self._av
        try:
            self._container = av.open(self.location, timeout=_TIMEOUT_S)
        except av.error.FFmpegError as exc:
            kind = CodecError if "://" not in self.location else ResourceError
            raise kind(f"{self.location}: cannot open: {exc}") from None
        if not self._container.streams.video:
            self.close()
            raise CodecError(f"{self.location}: no video stream")
        stream = self._container.streams.video[0]
        self._frames = self._container.decode(stream)
        rate = stream.average_rate or stream.guessed_rate
        return float(rate) if rate else _DEFAULT_RATE

    def _decode(self, first: bool = False) -> Any:
        """The next decoded frame, reopening at the end with ``repeat``; ``None`` at the end."""
        frame = self._decode_one()
        if frame is None and self.repeat and not first:
            self.close()
            self._open()
            frame = self._decode_one()
        return frame

    def _decode_one(self) -> Any:
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except self._av.error.FFmpegError as exc:
            raise CodecError(f"{self.location}: a frame does not decode: {exc}") from None

    def read(self, timeout: float = 0.0) -> np.ndarray:  # noqa: ARG002 - a camera's signature
        """The next frame in :attr:`fourcc`, shaped as ``shape_frame`` shapes a captured buffer.

        Raises
        ------
        holoflow.errors.CodecError
            If this frame did not decode (frames are decoded one ahead, to know the end).
        """
        if self._error is not None:
            raise self._error
        frame = self._next
        assert frame is not None, "read() after the last frame"
        size = {"width": self.width, "height": self.height}
        array: np.ndarray = frame.to_ndarray(format=EMULATED[self.fourcc], **size)
        try:
            self._next = self._decode()
        except CodecError as exc:
            self._next, self._error = None, exc
        if self.fourcc == "GREY":
            return array.reshape(self.height, self.width, 1)
        if self.fourcc == "MJPG":
            return _jpeg(array)
        return array

    def close(self) -> None:
        """Close the container; safe to call twice."""
        container, self._container = self._container, None
        self._frames = iter(())
        if container is not None:
            container.close()


def _jpeg(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as one MJPEG frame (a baseline JPEG with 4:2:2 chroma, as webcams send), as bytes."""
    try:
        from PIL import Image
    except ImportError:
        raise ResourceError("MJPEG frames need Pillow: pip install 'holoflow[v4l2]'") from None
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=_JPEG_QUALITY, subsampling=1)
    return np.frombuffer(out.getvalue(), dtype=np.uint8)
