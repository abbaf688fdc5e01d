"""``RawImageProcessorOp``: Holoscan 4.6's name for black level and white balance on Bayer images."""

from __future__ import annotations

from holoflow.operators._image_processor import ImageProcessorOp

__all__ = ["RawImageProcessorOp"]


class RawImageProcessorOp(ImageProcessorOp):
    """Optical-black subtraction and gray-world white balance of a 16-bit Bayer image: the
    operator holoflow also calls :class:`ImageProcessorOp` (ports ``input`` / ``output``;
    parameters ``bayer_format``, ``pixel_format``, ``optical_black``, ``cuda_device_ordinal``)."""
