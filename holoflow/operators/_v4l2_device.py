"""A V4L2 capture device streaming through memory-mapped buffers, driven through ``linuxpy``.

The steps follow Holoscan's ``V4L2VideoCaptureOp``: open the node non-blocking, check that it
captures and streams, choose the pixel format, frame size and frame interval
(``_v4l2_negotiate``), set them, set exposure and gain, queue ``num_buffers`` mapped buffers and
stream on. Each read waits for a filled buffer, copies its bytes out and queues it again, so an
emitted frame never aliases a buffer the driver writes into.
"""

from __future__ import annotations

import errno
import logging
import re
import select
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from holoflow.errors import ResourceError
from holoflow.operators._v4l2_formats import shape_frame
from holoflow.operators._v4l2_negotiate import (
    FrameSizes,
    choose_frame_interval,
    choose_frame_size,
    choose_pixel_format,
)

__all__ = ["V4L2Camera", "capture_devices", "linuxpy"]

logger = logging.getLogger("holoflow")

_CAP_VIDEO_CAPTURE = 0x00000001
_CAP_STREAMING = 0x04000000
_CAP_DEVICE_CAPS = 0x80000000
_CAP_TIMEPERFRAME = 0x1000  # in v4l2_captureparm.capability
_FMT_FLAG_COMPRESSED = 0x0001
_CTRL_FLAG_DISABLED = 0x0001
_BUF_FLAG_ERROR = 0x0040


def linuxpy() -> Any:
    """The ``linuxpy.video.device`` module.

    Raises
    ------
    holoflow.errors.ResourceError
        If linuxpy is not installed.
    """
    try:
        from linuxpy.video import device
    except ImportError:
        raise ResourceError(
            "capturing from a V4L2 device needs linuxpy: pip install 'holoflow[v4l2]'"
        ) from None
    return device


def _natural(path: Path) -> tuple[str, int]:
    match = re.search(r"(\d+)$", path.name)
    return path.name.rstrip("0123456789"), int(match.group(1)) if match else -1


def capture_devices(root: str = "/dev") -> list[str]:
    """The V4L2 capture nodes under ``root``, as ``"/dev/video0 (card name)"``.

    With linuxpy, only nodes that report video capture are listed, with their card names (and
    nodes the user may not open, saying so); without it, every ``video*`` node is (metadata
    nodes included).
    """
    nodes = sorted(Path(root).glob("video*"), key=_natural)
    try:
        lv = linuxpy()
    except ResourceError:
        return [str(p) for p in nodes]
    found = []
    for path in nodes:
        try:
            with lv.Device(path, blocking=False) as device:
                caps = lv.read_capabilities(device)
        except PermissionError:
            found.append(f"{path} (permission denied: is the user in the 'video' group?)")
            continue
        except OSError:
            continue
        if _device_caps(caps) & _CAP_VIDEO_CAPTURE:
            found.append(f"{path} ({caps.card.decode(errors='replace')})")
    return found


def _device_caps(caps: Any) -> int:
    return int(caps.device_caps if caps.capabilities & _CAP_DEVICE_CAPS else caps.capabilities)


def _fourcc(code: int) -> str:
    return "".join(chr((code >> shift) & 0xFF) for shift in (0, 8, 16, 24))


def _code(fourcc: str) -> int:
    return sum(ord(c) << shift for c, shift in zip(fourcc, (0, 8, 16, 24), strict=True))


class V4L2Camera:
    """An open capture device streaming in the negotiated mode.

    After construction, :attr:`fourcc`, :attr:`width`, :attr:`height`, :attr:`bytes_per_line`,
    :attr:`compressed`, :attr:`ycbcr_encoding`, :attr:`quantization` and :attr:`frame_interval`
    describe the stream.

    Raises
    ------
    holoflow.errors.ResourceError
        If linuxpy is missing, the node cannot be opened, is not a streaming capture device,
        offers no usable mode, or refuses a setting (naming the step and the OS error).
    """

    def __init__(
        self,
        path: str,
        *,
        width: int = 0,
        height: int = 0,
        frame_rate: float = 0.0,
        pixel_format: str = "auto",
        pass_through: bool = False,
        num_buffers: int = 4,
        exposure_time: int | None = None,
        gain: int | None = None,
    ) -> None:
        lv = self._lv = linuxpy()
        self.path = path
        self._buffers: list[Any] = []
        self._streaming = False
        self._device = lv.Device(path, blocking=False)
        try:
            self._device.open()
        except OSError as exc:
            raise ResourceError(
                f"cannot open {path}: {exc.strerror} (check permissions: is the user in the 'video' group?)"
            ) from None
        try:
            self._negotiate(width, height, frame_rate, pixel_format, pass_through)
            self._set_controls(exposure_time, gain)
            self._stream_on(num_buffers)
        except BaseException:
            self.close()
            raise

    # -- setup ------------------------------------------------------------------------------------
    def _failed(self, step: str, exc: OSError) -> ResourceError:
        return ResourceError(f"{self.path}: {step} failed: {exc.strerror or exc} (errno {exc.errno})")

    def _ioctl(self, step: str, call: Any, *args: Any) -> Any:
        try:
            return call(self._device, *args)
        except OSError as exc:
            raise self._failed(step, exc) from None

    def _negotiate(
        self, width: int, height: int, frame_rate: float, requested: str, pass_through: bool
    ) -> None:
        lv = self._lv
        capture = lv.BufferType.VIDEO_CAPTURE
        try:
            caps = lv.read_capabilities(self._device)
        except OSError:
            raise ResourceError(f"{self.path} is not a V4L2 device") from None
        self._bus_info = caps.bus_info.decode(errors="replace")
        device_caps = _device_caps(caps)
        if not device_caps & _CAP_VIDEO_CAPTURE:
            found = ", ".join(capture_devices()) or "none"
            raise ResourceError(f"{self.path} is not a video capture node; capture nodes: {found}")
        if not device_caps & _CAP_STREAMING:
            raise ResourceError(f"{self.path} does not support streaming I/O")

        fmt = self._ioctl("VIDIOC_G_FMT", lv.get_raw_format, capture)
        try:
            parm = lv.get_parm(self._device, capture)
            settable = bool(parm.parm.capture.capability & _CAP_TIMEPERFRAME)
        except OSError:
            settable = False

        desc = lv.raw.v4l2_fmtdesc()
        desc.type = capture
        offered = dict(
            self._enumerate(
                "VIDIOC_ENUM_FMT",
                desc,
                lambda e: (_fourcc(e.pixelformat), bool(e.flags & _FMT_FLAG_COMPRESSED)),
            )
        )
        fourcc = choose_pixel_format(requested, list(offered), pass_through)
        code = _code(fourcc)

        current = (int(fmt.fmt.pix.width), int(fmt.fmt.pix.height))
        size = choose_frame_size(width, height, current, self._frame_sizes(code))
        fmt.fmt.pix.pixelformat = code
        fmt.fmt.pix.width, fmt.fmt.pix.height = size
        fmt.fmt.pix.bytesperline = 0
        fmt.fmt.pix.sizeimage = 0
        self._ioctl("VIDIOC_S_FMT", lv.set_raw_format, fmt)
        pix = fmt.fmt.pix
        if pix.pixelformat != code or ((width or height) and (pix.width, pix.height) != size):
            raise ResourceError(
                f"{self.path}: asked for {fourcc.strip()} {size[0]}x{size[1]}, the driver set "
                f"{_fourcc(pix.pixelformat).strip()} {pix.width}x{pix.height}"
            )
        self.fourcc = fourcc
        self.compressed = offered[fourcc]
        self.width, self.height = int(pix.width), int(pix.height)
        self.bytes_per_line = int(pix.bytesperline)
        self.ycbcr_encoding = int(pix.ycbcr_enc)
        self.quantization = int(pix.quantization)

        interval = choose_frame_interval(frame_rate, self._frame_intervals(code), settable)
        if interval is not None:
            parm = self._ioctl("VIDIOC_G_PARM", lv.get_parm, capture)
            parm.parm.capture.timeperframe.numerator = interval.numerator
            parm.parm.capture.timeperframe.denominator = interval.denominator
            self._ioctl("VIDIOC_S_PARM", lv.ioctl, lv.IOC.S_PARM, parm)
            if frame_rate and Fraction(1) / interval != Fraction(frame_rate):
                logger.info("%s: no %g fps, capturing at %g fps", self.path, frame_rate, float(1 / interval))
        self.frame_interval: Fraction | None = None
        if settable:
            timeperframe = lv.get_parm(self._device, capture).parm.capture.timeperframe
            if timeperframe.denominator:
                self.frame_interval = Fraction(timeperframe.numerator, timeperframe.denominator)
        rate = f"{float(1 / self.frame_interval):g} fps" if self.frame_interval else "device rate"
        logger.info("%s: capturing %s %dx%d, %s", self.path, fourcc.strip(), self.width, self.height, rate)

    def _enumerate(self, step: str, query: Any, read: Any) -> list[Any]:
        """``read(entry)`` of each entry an enumerating ioctl reports (the struct is reused)."""
        lv = self._lv
        ioc = getattr(lv.IOC, step.removeprefix("VIDIOC_"))
        try:
            return [read(entry) for entry in lv.iter_read(self._device, ioc, query)]
        except OSError as exc:
            raise self._failed(step, exc) from None

    def _frame_sizes(self, code: int) -> list[FrameSizes]:
        lv = self._lv
        query = lv.raw.v4l2_frmsizeenum()
        query.pixel_format = code

        def read(entry: Any) -> FrameSizes:
            if entry.type == lv.FrameSizeType.DISCRETE:
                return FrameSizes(entry.discrete.width, entry.discrete.height)
            step = entry.stepwise
            return FrameSizes(
                step.min_width,
                step.min_height,
                step.max_width,
                step.max_height,
                max(step.step_width, 1),
                max(step.step_height, 1),
            )

        return self._enumerate("VIDIOC_ENUM_FRAMESIZES", query, read)

    def _frame_intervals(self, code: int) -> list[tuple[Fraction, Fraction]]:
        lv = self._lv
        query = lv.raw.v4l2_frmivalenum()
        query.pixel_format, query.width, query.height = code, self.width, self.height

        def read(entry: Any) -> tuple[Fraction, Fraction] | None:
            if entry.type == lv.FrameIntervalType.DISCRETE:
                bounds = (entry.discrete, entry.discrete)
            else:
                bounds = (entry.stepwise.min, entry.stepwise.max)
            if not all(b.denominator for b in bounds):
                return None
            return Fraction(bounds[0].numerator, bounds[0].denominator), Fraction(
                bounds[1].numerator, bounds[1].denominator
            )

        return [i for i in self._enumerate("VIDIOC_ENUM_FRAMEINTERVALS", query, read) if i is not None]

    def _set_controls(self, exposure_time: int | None, gain: int | None) -> None:
        """Exposure and gain as Holoscan sets them (none on a v4l2loopback node)."""
        if "v4l2loopback" in self._bus_info:
            return
        cid = self._lv.ControlID
        auto = self._lv.raw.ExposureAutoType
        if exposure_time is not None:
            if not self._set_control(cid.EXPOSURE_AUTO, auto.SHUTTER_PRIORITY, warn=False):
                self._set_control(cid.EXPOSURE_AUTO, auto.MANUAL, warn=True)
            self._set_control(cid.EXPOSURE_ABSOLUTE, exposure_time, warn=True)
        elif not self._set_control(cid.EXPOSURE_AUTO, auto.AUTO, warn=False):
            self._set_control(cid.EXPOSURE_AUTO, auto.APERTURE_PRIORITY, warn=False)
        if gain is not None:
            self._set_control(cid.AUTOGAIN, 0, warn=False)
            self._set_control(cid.GAIN, gain, warn=True)
        else:
            self._set_control(cid.AUTOGAIN, 1, warn=False)

    def _set_control(self, control: Any, value: int, *, warn: bool) -> bool:
        """Set one control; False (logged) where the device lacks it or refuses the value."""
        lv = self._lv
        query = lv.raw.v4l2_queryctrl()
        query.id = int(control)
        try:
            lv.ioctl(self._device, lv.IOC.QUERYCTRL, query)
            if query.flags & _CTRL_FLAG_DISABLED:
                raise OSError(errno.EINVAL, "disabled")
            lv.set_control(self._device, int(control), int(value))
        except OSError as exc:
            name = getattr(control, "name", str(control))
            logger.log(
                logging.WARNING if warn else logging.DEBUG,
                "%s: cannot set %s to %s: %s",
                self.path,
                name,
                value,
                exc.strerror or exc,
            )
            return False
        return True

    def _stream_on(self, count: int) -> None:
        lv = self._lv
        capture, mmap_memory = lv.BufferType.VIDEO_CAPTURE, lv.Memory.MMAP
        request = self._ioctl("VIDIOC_REQBUFS", lv.request_buffers, capture, mmap_memory, count)
        for index in range(request.count):
            buffer = self._ioctl("VIDIOC_QUERYBUF", lv.query_buffer, capture, mmap_memory, index)
            self._buffers.append(self._ioctl("mmap", lv.mmap_from_buffer, buffer))
            self._ioctl("VIDIOC_QBUF", lv.enqueue_buffer, capture, mmap_memory, 0, index)
        self._ioctl("VIDIOC_STREAMON", lv.stream_on, capture)
        self._streaming = True

    # -- capture ----------------------------------------------------------------------------------
    def read(self, timeout: float) -> np.ndarray:
        """The next frame, shaped by ``shape_frame``: a copy, owned by the caller. A buffer the
        driver marks as an error (or leaves empty) is queued again and skipped.

        Raises
        ------
        holoflow.errors.ResourceError
            If no good frame arrives within ``timeout`` seconds, or dequeuing fails.
        """
        deadline = time.monotonic() + timeout
        while True:
            buffer = self._dequeue(deadline, timeout)
            size = int(buffer.bytesused)
            if size and not buffer.flags & _BUF_FLAG_ERROR:
                break
            logger.debug("%s: skipping a frame the driver marked as an error", self.path)
            self._ioctl("VIDIOC_QBUF", self._lv.enqueue_buffer_raw, buffer)
        try:
            data = np.empty(size, dtype=np.uint8)
            data[:] = np.frombuffer(self._buffers[buffer.index], dtype=np.uint8, count=size)
        finally:
            self._ioctl("VIDIOC_QBUF", self._lv.enqueue_buffer_raw, buffer)
        return shape_frame(self.fourcc, data, self.width, self.height, self.bytes_per_line, self.compressed)

    def _dequeue(self, deadline: float, timeout: float) -> Any:
        """A filled buffer, waiting for one until ``deadline``."""
        lv = self._lv
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._device], [], [], max(left, 0.0))
            if not ready or left <= 0:
                raise ResourceError(f"{self.path}: no frame within {timeout:g} s")
            try:
                return lv.dequeue_buffer(self._device, lv.BufferType.VIDEO_CAPTURE, lv.Memory.MMAP)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise self._failed("VIDIOC_DQBUF", exc) from None

    def close(self) -> None:
        """Stream off, unmap and free the buffers, close the node; safe to call twice."""
        lv = self._lv
        device = self._device
        if device.closed:
            return
        capture, mmap_memory = lv.BufferType.VIDEO_CAPTURE, lv.Memory.MMAP
        try:
            if self._streaming:
                lv.stream_off(device, capture)
            for mapped in self._buffers:
                mapped.close()
            if self._buffers:
                lv.free_buffers(device, capture, mmap_memory)
        except (OSError, BufferError) as exc:
            logger.warning("%s: releasing the capture buffers: %s", self.path, exc)
        finally:
            self._buffers = []
            self._streaming = False
            device.close()
