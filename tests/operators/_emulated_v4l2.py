"""A V4L2 webcam emulated at the ioctl boundary, for tests of the capture code on machines
without a camera.

``EmulatedWebcam.install(monkeypatch, node)`` routes every ioctl that linuxpy makes to the
emulator instead of the kernel, so linuxpy's real structures and calls, and holoflow's code
above them, run unchanged. ``node`` is a regular file standing in for ``/dev/videoN``: reads
wait on it with ``select`` (always ready) and map its pages for the buffers, into which the
emulator writes each frame, as a driver's DMA would.

The emulated device behaves like a common UVC webcam: YUYV (rows padded to 256 bytes) and
MJPEG, 640x480 and 320x240, 30 and 15 fps; ``EXPOSURE_AUTO`` accepts only manual and
aperture priority, and there is no ``AUTOGAIN``.
"""

from __future__ import annotations

import errno
import io
import os
import types
from dataclasses import dataclass, field

import numpy as np

YUYV = 0x56595559
MJPG = 0x47504A4D
SIZES = ((640, 480), (320, 240))
INTERVALS = ((1, 30), (1, 15))  # seconds per frame, as (numerator, denominator)

_CAP_VIDEO_CAPTURE = 0x00000001
_CAP_STREAMING = 0x04000000
_CAP_DEVICE_CAPS = 0x80000000
_CAP_TIMEPERFRAME = 0x1000


def pattern(width: int, height: int, k: int) -> np.ndarray:
    """Frame ``k``'s RGB image: smooth ramps, one colour per horizontal pixel pair (so YUYV's
    shared chroma loses nothing), red and blue shifted by ``k`` (period 7)."""
    x = (np.arange(width) // 2 * 2)[None, :]
    y = np.arange(height)[:, None]
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:, :, 0] = x * 200 // max(width - 1, 1) + 8 * (k % 7)
    rgb[:, :, 1] = np.broadcast_to(y * 255 // max(height - 1, 1), (height, width))
    rgb[:, :, 2] = 64 + 16 * (k % 7)
    return rgb


def rgb_to_yuyv(rgb: np.ndarray) -> np.ndarray:
    """Encode RGB as full-range BT.601 YUYV (the inverse of Holoscan's YUYV converter, rounded)."""
    r, g, b = (rgb[:, :, i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 + (b - y) / 1.779
    cr = 128 + (r - y) / 1.4065
    out = np.empty((*rgb.shape[:2], 2), np.uint8)
    out[:, :, 0] = np.clip(np.rint(y), 0, 255)
    out[:, 0::2, 1] = np.clip(np.rint(cb[:, 0::2]), 0, 255)
    out[:, 1::2, 1] = np.clip(np.rint(cr[:, 0::2]), 0, 255)
    return out


def jpeg(rgb: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=95)
    return out.getvalue()


@dataclass
class EmulatedWebcam:
    """The device's state; tests read ``controls``, ``requested``, ``streaming``, ``frames``."""

    width: int = 640
    height: int = 480
    pixelformat: int = YUYV
    interval: tuple[int, int] = INTERVALS[0]
    controls: dict[str, int] = field(default_factory=dict)
    requested: list[int] = field(default_factory=list)
    buffers: int = 0
    queued: list[int] = field(default_factory=list)
    streaming: bool = False
    frames: int = 0
    corrupt: set[int] = field(default_factory=set)
    """Frame numbers delivered with V4L2_BUF_FLAG_ERROR set."""
    stalled: bool = False
    """Whether the sensor has stopped sending: no buffer is ever filled."""

    @property
    def bytesperline(self) -> int:
        return 0 if self.pixelformat == MJPG else -(-self.width * 2 // 256) * 256

    @property
    def sizeimage(self) -> int:
        return self.width * self.height * 2 if self.pixelformat == MJPG else self.bytesperline * self.height

    @property
    def slot(self) -> int:
        """Bytes between buffers in the node's pages (whole pages, as mmap needs)."""
        page = os.sysconf("SC_PAGE_SIZE")
        return -(-self.sizeimage // page) * page

    def frame_bytes(self, k: int) -> bytes:
        """What the device delivers as frame ``k``, in the current format."""
        rgb = pattern(self.width, self.height, k)
        if self.pixelformat == MJPG:
            return jpeg(rgb)
        rows = np.zeros((self.height, self.bytesperline), np.uint8)
        rows[:, : self.width * 2] = rgb_to_yuyv(rgb).reshape(self.height, -1)
        return rows.tobytes()

    def install(self, monkeypatch, node) -> None:
        """Create ``node`` and send linuxpy's ioctls here for the rest of the test."""
        import linuxpy.ioctl
        from linuxpy.video import raw

        node.write_bytes(b"")
        self._ioc = raw.IOC
        self._raw = raw
        monkeypatch.setattr(linuxpy.ioctl, "fcntl", types.SimpleNamespace(ioctl=self.ioctl))

    # -- the driver ------------------------------------------------------------------------------
    def ioctl(self, fd, request, arg=None):
        ioc = self._ioc
        handlers = {
            ioc.QUERYCAP: self._querycap,
            ioc.ENUM_FMT: self._enum_fmt,
            ioc.G_FMT: self._g_fmt,
            ioc.S_FMT: self._s_fmt,
            ioc.G_PARM: self._g_parm,
            ioc.S_PARM: self._s_parm,
            ioc.ENUM_FRAMESIZES: self._enum_framesizes,
            ioc.ENUM_FRAMEINTERVALS: self._enum_frameintervals,
            ioc.QUERYCTRL: self._queryctrl,
            ioc.S_CTRL: self._s_ctrl,
            ioc.REQBUFS: lambda a: self._reqbufs(fd, a),
            ioc.QUERYBUF: self._querybuf,
            ioc.QBUF: self._qbuf,
            ioc.DQBUF: lambda a: self._dqbuf(fd, a),
            ioc.STREAMON: lambda a: self._stream(True),
            ioc.STREAMOFF: lambda a: self._stream(False),
        }
        if request not in handlers:
            raise OSError(errno.ENOTTY, "emulated webcam: unsupported ioctl")
        handlers[request](arg)
        return 0

    def _querycap(self, caps):
        caps.driver, caps.card, caps.bus_info = b"uvcvideo", b"Emulated Webcam", b"usb-emulated-1"
        caps.capabilities = _CAP_VIDEO_CAPTURE | _CAP_STREAMING | _CAP_DEVICE_CAPS
        caps.device_caps = _CAP_VIDEO_CAPTURE | _CAP_STREAMING

    def _enum_fmt(self, desc):
        formats = ((YUYV, 0, b"YUYV 4:2:2"), (MJPG, 1, b"Motion-JPEG"))
        if desc.index >= len(formats):
            raise OSError(errno.EINVAL, "no such format")
        desc.pixelformat, desc.flags, desc.description = formats[desc.index]

    def _fill(self, fmt):
        pix = fmt.fmt.pix
        pix.width, pix.height, pix.pixelformat = self.width, self.height, self.pixelformat
        pix.bytesperline, pix.sizeimage = self.bytesperline, self.sizeimage
        pix.ycbcr_enc, pix.quantization = 1, 2  # 601, limited range

    def _g_fmt(self, fmt):
        self._fill(fmt)

    def _s_fmt(self, fmt):
        if self.buffers:
            raise OSError(errno.EBUSY, "buffers allocated")
        pix = fmt.fmt.pix
        self.pixelformat = pix.pixelformat if pix.pixelformat in (YUYV, MJPG) else YUYV
        self.width, self.height = min(SIZES, key=lambda s: abs(s[0] - pix.width) + abs(s[1] - pix.height))
        self._fill(fmt)

    def _g_parm(self, parm):
        parm.parm.capture.capability = _CAP_TIMEPERFRAME
        parm.parm.capture.timeperframe.numerator, parm.parm.capture.timeperframe.denominator = self.interval

    def _s_parm(self, parm):
        t = parm.parm.capture.timeperframe
        wanted = t.numerator / t.denominator
        self.interval = min(INTERVALS, key=lambda i: abs(i[0] / i[1] - wanted))
        self._g_parm(parm)

    def _enum_framesizes(self, query):
        if query.pixel_format not in (YUYV, MJPG) or query.index >= len(SIZES):
            raise OSError(errno.EINVAL, "no such size")
        query.type = 1  # discrete
        query.discrete.width, query.discrete.height = SIZES[query.index]

    def _enum_frameintervals(self, query):
        if (query.width, query.height) not in SIZES or query.index >= len(INTERVALS):
            raise OSError(errno.EINVAL, "no such interval")
        query.type = 1
        query.discrete.numerator, query.discrete.denominator = INTERVALS[query.index]

    def _control_name(self, cid):
        from linuxpy.video.device import ControlID

        return {ControlID.EXPOSURE_AUTO: "exposure_auto", ControlID.EXPOSURE_ABSOLUTE: "exposure"}.get(
            cid, {ControlID.GAIN: "gain"}.get(cid)
        )

    def _queryctrl(self, query):
        if self._control_name(query.id) is None:
            raise OSError(errno.EINVAL, "no such control")

    def _s_ctrl(self, control):
        name = self._control_name(control.id)
        if name is None or (name == "exposure_auto" and control.value not in (1, 3)):
            raise OSError(errno.EINVAL, "invalid control value")
        self.controls[name] = control.value

    def _reqbufs(self, fd, req):
        if self.streaming:
            raise OSError(errno.EBUSY, "streaming")
        self.requested.append(req.count)
        self.buffers = min(req.count, 8)
        self.queued = []
        req.count = self.buffers
        os.ftruncate(fd.fileno(), self.buffers * self.slot)

    def _querybuf(self, buf):
        if buf.index >= self.buffers:
            raise OSError(errno.EINVAL, "no such buffer")
        buf.length, buf.m.offset = self.sizeimage, buf.index * self.slot

    def _qbuf(self, buf):
        if buf.index >= self.buffers or buf.index in self.queued:
            raise OSError(errno.EINVAL, "buffer not dequeued")
        self.queued.append(buf.index)

    def _dqbuf(self, fd, buf):
        if not self.streaming or not self.queued or self.stalled:
            raise OSError(errno.EAGAIN, "no buffer filled")
        index = self.queued.pop(0)
        data = self.frame_bytes(self.frames)
        os.pwrite(fd.fileno(), data, index * self.slot)
        buf.index, buf.bytesused, buf.sequence = index, len(data), self.frames
        buf.flags = 0x0040 if self.frames in self.corrupt else 0
        self.frames += 1

    def _stream(self, on):
        if on and not self.buffers:
            raise OSError(errno.EINVAL, "no buffers")
        self.streaming = on
        if not on:
            self.queued = []
