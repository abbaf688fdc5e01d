"""End-to-end mode: number each source frame in its pixels, read the numbers back as rendered.

:class:`FrameStamper` is a source tap: it draws the next frame id into the image of each
message the source sends (:func:`~holoflow.latency.stamp_frame`) and notes when the source's
``compute`` began. :class:`RenderReader` is a rendered-frame tap: it notes when each rendered
frame arrived and which id it shows (:func:`~holoflow.latency.read_stamp`). Matching the two
by id gives one record per frame on the path :data:`END_TO_END`, the time from the source to
the picture a viewer would see, rendering and read-back included. An app takes both through
``tap_frames(source=..., rendered=...)`` (:meth:`holoflow.apps.SampleApp.tap_frames`).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from holoflow.errors import ConfigError
from holoflow.latency._records import END_TO_END
from holoflow.latency._stamp import MAX_FRAME_ID, read_stamp, stamp_frame

__all__ = ["FrameStamper", "RenderReader", "end_to_end_records"]


def _image_key(message: Any) -> Any:
    """The key of the image to stamp in a dict message (``None`` for a bare array)."""
    if isinstance(message, dict):
        for key, value in message.items():
            if _is_image(value):
                return key
        raise ConfigError(
            "end-to-end mode: the source's message holds no (H, W[, C]) uint8 image to stamp; "
            f"tensors: {sorted(map(str, message))}"
        )
    if _is_image(message):
        return None
    raise ConfigError(f"end-to-end mode: cannot stamp a frame id into a {type(message).__name__}")


def _is_image(value: Any) -> bool:
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) in (2, 3) and str(getattr(value, "dtype", "")) == "uint8"


def _writable(array: Any) -> Any:
    """``array`` if it may be written in place, else a copy (read-only mapped frames)."""
    flags = getattr(array, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        return array.copy()
    return array


class FrameStamper:
    """Source tap: ``stamper(message, started_ns) -> message`` stamps frame ids 0, 1, 2...

    Attributes
    ----------
    started_ns : dict
        When each frame id's source ``compute`` began (``time.time_ns``).
    """

    def __init__(self) -> None:
        self.started_ns: dict[int, int] = {}
        self._next = 0

    def __call__(self, message: Any, started_ns: int) -> Any:
        frame_id = self._next
        if frame_id > MAX_FRAME_ID:
            raise ConfigError(f"end-to-end mode: more than {MAX_FRAME_ID + 1} frames")
        key = _image_key(message)
        if key is None:
            message = _writable(message)
            stamp_frame(message, frame_id)
        else:
            image = _writable(message[key])
            stamp_frame(image, frame_id)
            if image is not message[key]:
                message = {**message, key: image}
        self.started_ns[frame_id] = started_ns
        self._next = frame_id + 1
        return message


class RenderReader:
    """Rendered-frame tap: ``reader(frame, arrived_ns)`` reads the id each rendered frame shows.

    The first arrival of an id counts (a frame rendered again keeps its first time).

    Attributes
    ----------
    rendered_ns : dict
        When each frame id was first seen rendered (``time.time_ns``).
    unreadable : int
        Rendered frames with no intact stamp.
    """

    def __init__(self) -> None:
        self.rendered_ns: dict[int, int] = {}
        self.unreadable = 0
        self._lock = threading.Lock()

    def __call__(self, frame: np.ndarray, arrived_ns: int) -> None:
        frame_id = read_stamp(frame)
        with self._lock:
            if frame_id is None:
                self.unreadable += 1
            elif frame_id not in self.rendered_ns:
                self.rendered_ns[frame_id] = arrived_ns


def end_to_end_records(
    stamper: FrameStamper, reader: RenderReader, warmup: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The end-to-end records (frame id ``i`` is message ``i + 1``; the first ``warmup`` not
    counted) and the counts ``{"stamped", "read", "unreadable", "missing"}``.

    An id read back that was never stamped (which a corrupted stamp cannot give, short of four
    or more wrong bits) is not a record.
    """
    records = []
    for frame_id, start in sorted(stamper.started_ns.items()):
        end = reader.rendered_ns.get(frame_id)
        if end is None:
            continue
        records.append(
            {
                "path": END_TO_END,
                "index": frame_id + 1,
                "counted": frame_id >= warmup,
                "start_ns": start,
                "end_ns": end,
                "latency_ms": (end - start) / 1e6,
                "hops": [],
            }
        )
    counts = {
        "stamped": len(stamper.started_ns),
        "read": len(records),
        "unreadable": reader.unreadable,
        "missing": len(stamper.started_ns) - len(records),
    }
    return records, counts
