"""The 128-byte frame metadata block the device writes after each frame (big-endian).

=====  ====  ==============  =============================================================
Off    Size  Field           Meaning
=====  ====  ==============  =============================================================
0      4     flags           bit0: window ended early by the sensor (TLAST); bit1: by count
4      4     psn             PSN of the packet carrying the metadata
8      4     crc             JAMCRC of the window's bytes (0 when the device does not compute it)
12     8     timestamp_s     PTP seconds when the first byte of the window arrived
20     4     timestamp_ns
24     8     bytes_written   valid bytes in this window
32     2     reserved
34     2     frame_number    16-bit counter, +1 per window
36     8     metadata_s      PTP time the block was formed
44     4     metadata_ns
48     80    reserved
=====  ====  ==============  =============================================================
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from holoflow.errors import HoloflowInternalError, PacketFormatError

__all__ = [
    "FLAG_COUNT_ENDED",
    "FLAG_EARLY_TLAST",
    "METADATA_SIZE",
    "FrameMetadata",
]

METADATA_SIZE = 128
FLAG_EARLY_TLAST = 0x1
FLAG_COUNT_ENDED = 0x2
_FORMAT = struct.Struct(">IIIQIQ2xHQI80x")
if _FORMAT.size != METADATA_SIZE:  # the layout above must match the wire size exactly
    raise HoloflowInternalError(f"metadata layout is {_FORMAT.size} bytes, the wire has {METADATA_SIZE}")


@dataclass(frozen=True, slots=True)
class FrameMetadata:
    """One decoded metadata block."""

    flags: int = 0
    """Bit 0: early TLAST; bit 1: window ended by byte count."""
    psn: int = 0
    """PSN of the packet that carried this block (24 bits)."""
    crc: int = 0
    """JAMCRC of the window's data, or 0."""
    timestamp_s: int = 0
    """Seconds of the time the window's first byte arrived."""
    timestamp_ns: int = 0
    """Nanoseconds of that time."""
    bytes_written: int = 0
    """Valid bytes in the window."""
    frame_number: int = 0
    """16-bit device frame counter."""
    metadata_s: int = 0
    """Seconds of the time this block was formed."""
    metadata_ns: int = 0
    """Nanoseconds of that time."""

    def encode(self) -> bytes:
        """The 128 wire bytes.

        Raises
        ------
        holoflow.errors.PacketFormatError
            If a field does not fit its width.
        """
        try:
            return _FORMAT.pack(
                self.flags,
                self.psn,
                self.crc,
                self.timestamp_s,
                self.timestamp_ns,
                self.bytes_written,
                self.frame_number,
                self.metadata_s,
                self.metadata_ns,
            )
        except struct.error as exc:
            raise PacketFormatError("metadata", "fields", f"a value does not fit: {exc}") from None

    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview, offset: int = 0) -> FrameMetadata:
        """Decode the block at ``data[offset:offset + 128]``.

        Raises
        ------
        holoflow.errors.PacketFormatError
            If fewer than 128 bytes are there.
        """
        if offset < 0 or len(data) - offset < METADATA_SIZE:
            raise PacketFormatError(
                "metadata", "length", f"needs {METADATA_SIZE} bytes at offset {offset}, have {len(data)}"
            )
        return cls(*_FORMAT.unpack_from(data, offset))
