"""``V4L2VideoCaptureOp``: frames from a V4L2 camera — or from a video file or stream URL."""

from __future__ import annotations

import logging
import math
import numbers
import os
import stat
from typing import TYPE_CHECKING, Any

from holoflow.core import Condition, Operator, SchedulingStatusType
from holoflow.errors import CodecError, ConfigError, ResourceError
from holoflow.operators._av_source import VideoFileSource
from holoflow.operators._v4l2_device import V4L2Camera, capture_devices
from holoflow.operators._v4l2_formats import CONVERTIBLE, quantization_name, to_rgba, ycbcr_encoding_name

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["V4L2VideoCaptureOp"]

logger = logging.getLogger("holoflow")
_READY = (SchedulingStatusType.READY, None)
_NEVER = (SchedulingStatusType.NEVER, None)
_FRAME_TIMEOUT_S = 15.0  # Holoscan's wait for a camera frame


class _Pacer(Condition):
    """READY when the next frame is due, WAIT_TIME until then, NEVER after a file's last frame.

    A camera paces itself (``compute`` waits for its frame), so it is always READY; a file is
    paced here, on the scheduler's clock, so other operators run while no frame is due.
    """

    def __init__(self, fragment: Fragment | Subgraph, capture: V4L2VideoCaptureOp) -> None:
        super().__init__(fragment, name="v4l2_capture_pacing")
        self.capture = capture
        self.now = 0

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        self.now = timestamp
        capture = self.capture
        if capture._finished:
            return _NEVER
        due = capture._due
        if due is None or timestamp >= due:
            return _READY
        return SchedulingStatusType.WAIT_TIME, due


def _is_url(device: str) -> bool:
    return "://" in device


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


class V4L2VideoCaptureOp(Operator):
    """Emit frames from a V4L2 device on ``signal``, with Holoscan's parameters and output.

    ``device`` is a V4L2 node (``"/dev/video0"``) — or, beyond Holoscan, a video file or a
    stream URL (``rtsp://``, ``http://``, ...) read through PyAV, so the same graph runs where
    there is no camera. Each frame goes out as ``{"": frame}`` (a TensorMap downstream):

    - ``pass_through=False`` (default): ``(height, width, 4)`` uint8 RGBA. YUYV, RGB24 and MJPEG
      captures are converted as Holoscan converts them; RGBA32 (``AB24``) is passed on.
    - ``pass_through=True``: the frame as captured — ``(H, W, 2)`` YUYV (for
      ``FormatConverterOp(in_dtype="yuyv")``), ``(H, W, C)`` packed RGB formats, ``(H*3/2, W)``
      NV12/YU12, the bytes of a compressed frame — with Holoscan's metadata keys
      ``V4L2_pixel_format``, ``V4L2_ycbcr_encoding`` and ``V4L2_quantization`` (when metadata is
      enabled).

    Parameters
    ----------
    device : str
        V4L2 node, video file or URL (default ``"/dev/video0"``).
    width, height : int
        Capture size; 0 takes the device's (a file's native size). A file is scaled to it.
    frame_rate : float
        A device captures at its supported rate nearest this; a file is paced at it. 0: the
        device's rate, or the file's own.
    num_buffers : int
        V4L2 buffers to stream through (default 4).
    pixel_format : str
        FourCC (``"YUYV"``, ``"MJPG"``, ``"AB24"``, ...) or ``"auto"`` (Holoscan's order of
        preference; a file then delivers RGBA). A file source delivers AB24, RGB3, BGR3, YUYV,
        GREY, NV12, YU12 or MJPG, made from the decoded frame.
    pass_through : bool
        Emit frames as captured instead of converting them to RGBA.
    exposure_time, gain : int or None
        Camera controls as Holoscan sets them (exposure in units of 100 µs); ``None``: automatic.
    allocator
        Accepted for Holoscan compatibility (deprecated there); frames are fresh host arrays.
    realtime : bool
        holoflow only, files and URLs: pace frames at the frame rate (False: as fast as the
        graph takes them).
    repeat : bool
        holoflow only, files and URLs: start over at the end instead of finishing.

    Raises
    ------
    holoflow.errors.ConfigError
        From ``initialize()`` for an invalid parameter (named with the value given).
    holoflow.errors.ResourceError
        From ``start()`` where the device does not exist (listing the capture devices found),
        cannot be opened or offers no usable mode, where linuxpy (V4L2) or PyAV (files) is not
        installed, and from ``compute()`` when no frame arrives within 15 s.
    holoflow.errors.CodecError
        From ``start()`` for a file without decodable video, from ``compute()`` for a frame that
        does not decode.
    """

    device: str
    width: int
    height: int
    frame_rate: float
    num_buffers: int
    pixel_format: str
    pass_through: bool
    exposure_time: int | None
    gain: int | None
    realtime: bool
    repeat: bool

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self._pacer = _Pacer(fragment, self)
        self._source: V4L2Camera | VideoFileSource | None = None
        self._finished = False
        self._due: int | None = None
        super().__init__(fragment, self._pacer, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("signal")
        spec.param("allocator", None)
        spec.param("device", "/dev/video0")
        spec.param("width", 0)
        spec.param("height", 0)
        spec.param("frame_rate", 0.0)
        spec.param("num_buffers", 4)
        spec.param("pixel_format", "auto")
        spec.param("pass_through", False)
        spec.param("exposure_time", None)
        spec.param("gain", None)
        spec.param("realtime", True)
        spec.param("repeat", False)

    def initialize(self) -> None:
        label = self._label()

        def bad(name: str, wanted: str) -> ConfigError:
            return ConfigError(f"{label}: parameter '{name}' must be {wanted}, got {getattr(self, name)!r}")

        def whole(value: Any) -> bool:
            return isinstance(value, numbers.Integral) and not isinstance(value, bool)

        if not isinstance(self.device, str) or not self.device:
            raise bad("device", "a device path, video file or URL")
        for name in ("width", "height"):
            if not whole(getattr(self, name)) or getattr(self, name) < 0:
                raise bad(name, "an integer >= 0 (0: the device's)")
        rate = self.frame_rate
        real = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
        if not real or not math.isfinite(rate) or rate < 0:
            raise bad("frame_rate", "a number >= 0 (0: the device's)")
        if not whole(self.num_buffers) or self.num_buffers < 1:
            raise bad("num_buffers", "an integer >= 1")
        for name in ("exposure_time", "gain"):
            value = getattr(self, name)
            if value is not None and (not whole(value) or value < 0):
                raise bad(name, "None (automatic) or an integer >= 0")
        for name in ("pass_through", "realtime", "repeat"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "True or False")
        fourcc = self.pixel_format
        if not isinstance(fourcc, str) or len(fourcc) != 4:
            raise bad("pixel_format", "'auto' or a four-character code such as 'YUYV'")
        if not self.pass_through and fourcc != "auto" and fourcc not in CONVERTIBLE:
            raise ConfigError(
                f"{label}: pixel format {fourcc!r} has no RGBA converter (these have: "
                f"{', '.join(CONVERTIBLE)}); set pass_through=True to receive it as captured"
            )

    def start(self) -> None:
        self._finished = False
        self._due = None
        self._count = 0
        self._start_time = 0
        self._source = self._open()
        source = self._source
        self._size = (source.width, source.height)
        if isinstance(source, VideoFileSource):
            rate = float(self.frame_rate) or source.frame_rate
            self._period_ns = 1e9 / rate if self.realtime else 0.0
        else:
            self._period_ns = 0.0
        self._metadata = {
            "V4L2_pixel_format": source.fourcc,
            "V4L2_ycbcr_encoding": ycbcr_encoding_name(source.ycbcr_encoding),
            "V4L2_quantization": quantization_name(source.quantization),
        }

    def _open(self) -> V4L2Camera | VideoFileSource:
        """The source ``device`` names: a V4L2 node (a character device), else a file or URL."""
        device, label = self.device, self._label()
        try:
            if _is_char_device(device):
                return V4L2Camera(
                    device,
                    width=self.width,
                    height=self.height,
                    frame_rate=float(self.frame_rate),
                    pixel_format=self.pixel_format,
                    pass_through=self.pass_through,
                    num_buffers=self.num_buffers,
                    exposure_time=self.exposure_time,
                    gain=self.gain,
                )
            if _is_url(device) or os.path.isfile(device):
                return VideoFileSource(
                    device,
                    width=self.width,
                    height=self.height,
                    pixel_format=self.pixel_format,
                    repeat=self.repeat,
                )
        except (ResourceError, CodecError) as exc:
            raise type(exc)(f"{label}: {exc}") from None
        found = ", ".join(capture_devices()) or "none"
        what = "no V4L2 device" if device.startswith("/dev/") else "no V4L2 device or video file"
        raise ResourceError(
            f"{label}: {what} {device!r}; V4L2 capture devices found: {found}. "
            "device may also name a video file or a stream URL (read through PyAV)"
        )

    def stop(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        source = self._source
        assert source is not None
        frame = source.read(_FRAME_TIMEOUT_S)
        if self.pass_through:
            if self.is_metadata_enabled:
                metadata = self.metadata
                for key, value in self._metadata.items():
                    metadata.set(key, value)
        else:
            try:
                frame = to_rgba(source.fourcc, frame, *self._size)
            except CodecError as exc:
                raise CodecError(f"{self._label()}: {exc}") from None
        op_output.emit({"": frame}, "signal")
        self._schedule_next(source)

    def _schedule_next(self, source: V4L2Camera | VideoFileSource) -> None:
        if isinstance(source, VideoFileSource) and source.finished:
            self._finished = True
            return
        if self._count == 0:
            self._start_time = self._pacer.now
        self._count += 1
        if self._period_ns:
            self._due = self._start_time + round(self._count * self._period_ns)
