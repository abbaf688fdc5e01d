"""Latency records: one dict per message and path, the input of every summary, plot and file.

A record has the keys of :data:`RECORD_KEYS`, as ``DataFlowTracker.records()`` gives them:

- ``"path"`` (str): the path's name, ``"root,...,leaf"``, or :data:`END_TO_END` for frames
  read back from the rendered output;
- ``"index"`` (int): the message's number on its path, from 1;
- ``"counted"`` (bool): whether it is in the summary (False for the warm-up);
- ``"start_ns"``, ``"end_ns"`` (int or None): wall-clock times (``time.time_ns``) the root's
  ``compute`` began and the leaf's ended (or the frame was rendered); None when not known;
- ``"latency_ms"`` (float): end to end, in milliseconds;
- ``"hops"`` (list): ``{"operator", "receive_ns", "publish_ns"}`` per operator on the path when
  operator timing was on, else empty.
"""

from __future__ import annotations

from typing import Any

__all__ = ["END_TO_END", "RECORD_KEYS", "check_records", "tracker_records"]

END_TO_END = "end-to-end (rendered)"
"""The path of the end-to-end mode's records: source frame to rendered frame, by frame id."""

RECORD_KEYS = ("path", "index", "counted", "start_ns", "end_ns", "latency_ms", "hops")
"""The keys of a record, in the order files write them."""


def tracker_records(tracker: Any, warmup: int) -> list[dict[str, Any]]:
    """The records of a tracked run, each path's first ``warmup`` messages not counted.

    ``tracker`` is the run's ``DataFlowTracker``. When it keeps per-message records
    (``records()``) they are used as they are; otherwise each path's latencies
    (``get_latencies``, which must then include the warm-up: track with no messages skipped or
    discarded) become records without times.
    """
    records_of = getattr(tracker, "records", None)
    if callable(records_of):
        return [dict(record) for record in records_of()]
    records = []
    for path in tracker.get_path_strings():
        for index, latency in enumerate(tracker.get_latencies(path), 1):
            records.append(
                {
                    "path": path,
                    "index": index,
                    "counted": index > warmup,
                    "start_ns": None,
                    "end_ns": None,
                    "latency_ms": float(latency),
                    "hops": [],
                }
            )
    return records


def check_records(records: list[dict[str, Any]]) -> None:
    """Check that every record has the keys and types of :data:`RECORD_KEYS`.

    Raises
    ------
    ValueError
        Naming the first bad record and what is wrong with it.
    """
    for number, record in enumerate(records):
        missing = [key for key in RECORD_KEYS if key not in record]
        if missing:
            raise ValueError(f"latency record {number} has no {', '.join(missing)}: {record!r}")
        if not isinstance(record["path"], str) or not isinstance(record["index"], int):
            raise ValueError(f"latency record {number}: path must be a str and index an int: {record!r}")
        if not isinstance(record["latency_ms"], (int, float)):
            raise ValueError(f"latency record {number}: latency_ms must be a number: {record!r}")
        for key in ("start_ns", "end_ns"):
            if record[key] is not None and not isinstance(record[key], int):
                raise ValueError(f"latency record {number}: {key} must be an int or None: {record!r}")
        if not isinstance(record["hops"], list):
            raise ValueError(f"latency record {number}: hops must be a list: {record!r}")
