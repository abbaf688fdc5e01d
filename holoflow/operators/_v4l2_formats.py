"""V4L2 pixel formats: how a captured buffer is shaped, and how it becomes RGBA.

The shapes are what ``V4L2VideoCaptureOp`` emits with ``pass_through=True`` (Holoscan's video
buffer or tensor, as an array): packed formats are ``(H, W, C)`` (YUYV ``(H, W, 2)``, as
``FormatConverterOp(in_dtype="yuyv")`` takes it), grey ``(H, W, 1)``, the 4:2:0 planar formats
one ``(H * 3 / 2, W)`` plane stack, NV24 ``(H * 3, W)``, and compressed or unknown formats the
``(bytesused,)`` bytes. The RGBA conversions are Holoscan's CPU converters: YUYV with its
coefficients and truncation, RGB24 with alpha 255, MJPEG decoded by libjpeg (through Pillow).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from holoflow.errors import CodecError, ResourceError

__all__ = [
    "CONVERTIBLE",
    "PREFERENCE",
    "mjpeg_to_rgba",
    "quantization_name",
    "rgb24_to_rgba",
    "shape_frame",
    "to_rgba",
    "ycbcr_encoding_name",
    "yuyv_to_rgba",
]

PREFERENCE = (
    "AB24",  # RGBA32
    "RA24",  # BGRA32
    "BA24",  # ARGB32
    "AR24",  # ABGR32 (BGRA in memory)
    "XB24",  # RGBX32
    "RX24",  # BGRX32
    "BX24",  # XRGB32
    "XR24",  # XBGR32 (BGRX in memory)
    "RGB3",
    "BGR3",
    "GREY",
    "Y16 ",
    "NV12",
    "YU12",
    "NV24",
    "YUYV",
)
"""The formats ``pixel_format="auto"`` picks from, in Holoscan's order of preference."""

CONVERTIBLE = ("YUYV", "RGB3", "MJPG", "AB24")
"""The formats converted to RGBA when ``pass_through`` is off (AB24 is RGBA already)."""

_CHANNELS = {
    **dict.fromkeys(("AB24", "RA24", "BA24", "AR24", "XB24", "RX24", "BX24", "XR24"), 4),
    "RGB3": 3,
    "BGR3": 3,
    "GREY": 1,
    "YUYV": 2,
}
_PLANE_ROWS = {"NV12": (3, 2), "YU12": (3, 2), "NV24": (3, 1)}  # rows per image row, as a fraction

_YCBCR_ENCODINGS = (
    "DEFAULT",
    "601",
    "709",
    "XV601",
    "XV709",
    "SYCC",
    "BT2020",
    "BT2020_CONST_LUM",
    "SMPTE240M",
)
_QUANTIZATIONS = ("DEFAULT", "FULL_RANGE", "LIM_RANGE")


def ycbcr_encoding_name(value: int) -> str:
    """The ``enum v4l2_ycbcr_encoding`` name of ``value`` (``"V4L2_YCBCR_ENC_709"``), ``""`` if
    it names none (as Holoscan's metadata reads)."""
    return f"V4L2_YCBCR_ENC_{_YCBCR_ENCODINGS[value]}" if 0 <= value < len(_YCBCR_ENCODINGS) else ""


def quantization_name(value: int) -> str:
    """The ``enum v4l2_quantization`` name of ``value`` (``"V4L2_QUANTIZATION_LIM_RANGE"``), or ``""``."""
    return f"V4L2_QUANTIZATION_{_QUANTIZATIONS[value]}" if 0 <= value < len(_QUANTIZATIONS) else ""


def shape_frame(
    fourcc: str, data: Any, width: int, height: int, bytes_per_line: int = 0, compressed: bool = False
) -> np.ndarray:
    """View the ``bytesused`` bytes of one captured buffer as the frame's array.

    Takes ``data`` (a bytes-like or 1-D uint8 array), the negotiated size and row stride
    (``bytes_per_line``, 0: rows are packed). Returns a view where the layout allows (row
    padding is sliced off, not copied), ``(len(data),)`` uint8 for a compressed or unknown
    format, or for a planar buffer whose size does not match its geometry.

    Raises
    ------
    holoflow.errors.CodecError
        If a packed format's buffer is shorter than ``height`` rows.
    """
    raw = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1)
    if compressed:
        return raw
    if fourcc in _CHANNELS or fourcc == "Y16 ":
        itemsize = 2 if fourcc == "Y16 " else 1
        channels = _CHANNELS.get(fourcc, 1)
        row = width * channels * itemsize
        stride = max(bytes_per_line, row)
        if raw.size < stride * (height - 1) + row:
            raise CodecError(
                f"a {fourcc.strip()} frame of {width}x{height} needs {stride * (height - 1) + row} bytes, "
                f"the buffer holds {raw.size}"
            )
        # Rows never overlap (stride >= row), so the view may be as writable as the buffer.
        rows = np.lib.stride_tricks.as_strided(raw, (height, row), (stride, 1), writeable=raw.flags.writeable)
        if itemsize == 2:
            return np.ascontiguousarray(rows).view("<u2").reshape(height, width, 1)
        return rows.reshape(height, width, channels)
    if fourcc in _PLANE_ROWS:
        num, den = _PLANE_ROWS[fourcc]
        plane_rows = height * num // den
        if raw.size >= plane_rows * width and (bytes_per_line in (0, width)):
            return raw[: plane_rows * width].reshape(plane_rows, width)
    return raw


def yuyv_to_rgba(frame: np.ndarray) -> np.ndarray:
    """Convert an ``(H, W, 2)`` YUYV frame to ``(H, W, 4)`` RGBA exactly as Holoscan's
    V4L2 converter does: full-range coefficients (R = Y + 1.4065 (Cr - 128), G = Y - 0.3455
    (Cb - 128) - 0.7169 (Cr - 128), B = Y + 1.7790 (Cb - 128)) computed in double precision,
    truncated toward zero, clamped to 0..255; alpha 255. Each pixel pair shares its Cb, Cr.
    """
    height, width = frame.shape[0], frame.shape[1]
    y = frame[:, :, 0].astype(np.float64)
    chroma = frame[:, :, 1].reshape(height, width // 2, 2).astype(np.float64) - 128.0
    cb = np.repeat(chroma[:, :, 0], 2, axis=1)
    cr = np.repeat(chroma[:, :, 1], 2, axis=1)
    out = np.empty((height, width, 4), dtype=np.uint8)
    # Truncating before clamping (as the C++ does) equals clamping, then truncating: both keep
    # 0 for any negative value and 255 for anything at or above 255.
    out[:, :, 0] = np.clip(y + 1.4065 * cr, 0, 255)
    out[:, :, 1] = np.clip(y - 0.3455 * cb - 0.7169 * cr, 0, 255)
    out[:, :, 2] = np.clip(y + 1.7790 * cb, 0, 255)
    out[:, :, 3] = 255
    return out


def rgb24_to_rgba(frame: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB to ``(H, W, 4)`` RGBA with alpha 255 (Holoscan's RGB24 converter)."""
    out = np.empty((*frame.shape[:2], 4), dtype=np.uint8)
    out[:, :, :3] = frame
    out[:, :, 3] = 255
    return out


def mjpeg_to_rgba(data: Any, width: int, height: int) -> np.ndarray:
    """Decode one MJPEG frame (a JPEG image) to ``(height, width, 4)`` RGBA, alpha 255.

    Decoded by libjpeg through Pillow with its defaults (islow IDCT, fancy upsampling), as
    Holoscan's converter decodes it.

    Raises
    ------
    holoflow.errors.ResourceError
        If Pillow is not installed.
    holoflow.errors.CodecError
        If the bytes are not a JPEG image, or the image is not ``width`` x ``height``.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ResourceError("decoding MJPEG needs Pillow: pip install 'holoflow[v4l2]'") from None
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=("JPEG",)) as image:
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise CodecError(f"an MJPEG frame does not decode: {exc}") from None
    if rgb.shape[:2] != (height, width):
        raise CodecError(f"an MJPEG frame is {rgb.shape[1]}x{rgb.shape[0]}, the stream is {width}x{height}")
    return rgb24_to_rgba(rgb)


def to_rgba(fourcc: str, frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Convert a frame shaped by :func:`shape_frame` to ``(height, width, 4)`` RGBA.

    ``fourcc`` is one of :data:`CONVERTIBLE`; an AB24 frame is RGBA already and is returned as
    it is.

    Raises
    ------
    holoflow.errors.CodecError
        From :func:`mjpeg_to_rgba`.
    ValueError
        For a format that has no converter.
    """
    if fourcc == "YUYV":
        return yuyv_to_rgba(frame)
    if fourcc == "RGB3":
        return rgb24_to_rgba(frame)
    if fourcc == "MJPG":
        return mjpeg_to_rgba(frame, width, height)
    if fourcc == "AB24":
        return frame
    raise ValueError(f"no RGBA converter for pixel format {fourcc!r}; converters: {list(CONVERTIBLE)}")
