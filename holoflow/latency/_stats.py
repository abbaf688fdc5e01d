"""Summary numbers of latency records: per path, per operator, and one frame's breakdown.

Everything here is a pure function of records (see :mod:`holoflow.latency._records`) and, for
operators, of ``DataFlowTracker.operator_times()``'s dict. Percentiles interpolate linearly
between the ordered samples (numpy's default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.latency._records import END_TO_END

__all__ = [
    "FrameBreakdown",
    "PathStats",
    "frame_breakdowns",
    "main_path",
    "operator_order",
    "path_stats",
    "paths_of",
]


@dataclass(frozen=True)
class PathStats:
    """The summary of one path's counted records (times in ms; NaN when none was counted)."""

    path: str
    """The path's name."""
    label: str
    """Its short name in tables and plots: ``P1``, ``P2``... or ``E2E``."""
    frames: int
    """Records counted."""
    warmup: int
    """Records not counted."""
    p50: float
    p90: float
    p99: float
    max: float
    mean: float
    std: float
    """Standard deviation: the jitter around the mean."""
    spread: float
    """``p99 - p50``: how far the slow frames are from the typical one."""
    fps: float | None
    """Counted frames per second at the end of the path (None without end times)."""

    @property
    def operators(self) -> list[str]:
        """The operators of the path, root first (empty for the end-to-end path)."""
        return [] if self.path == END_TO_END else self.path.split(",")


@dataclass(frozen=True)
class FrameBreakdown:
    """Where one frame's time went: queue and compute per operator on its path."""

    title: str
    """Which frame: ``"median frame"``, ``"p99 frame"``, or a percentile of operator times."""
    latency_ms: float
    """The frame's end-to-end latency (the sum of the segments when read from hop times)."""
    segments: list[tuple[str, float, float]]
    """``(operator, queue_ms, compute_ms)`` in path order."""


def paths_of(records: list[dict[str, Any]]) -> list[str]:
    """The paths of ``records``: tracked paths sorted by name, the end-to-end path last."""
    names = {record["path"] for record in records}
    return sorted(names - {END_TO_END}) + ([END_TO_END] if END_TO_END in names else [])


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else math.nan


def path_stats(records: list[dict[str, Any]]) -> list[PathStats]:
    """One :class:`PathStats` per path, in :func:`paths_of` order."""
    stats = []
    for number, path in enumerate(paths_of(records), 1):
        mine = sorted((r for r in records if r["path"] == path), key=lambda r: r["index"])
        counted = [r for r in mine if r["counted"]]
        ms = np.array([r["latency_ms"] for r in counted], dtype=np.float64)
        ends = sorted(r["end_ns"] for r in counted if r["end_ns"] is not None)
        fps = None
        if len(ends) >= 2 and ends[-1] > ends[0]:
            fps = (len(ends) - 1) / ((ends[-1] - ends[0]) / 1e9)
        p50, p99 = _percentile(ms, 50), _percentile(ms, 99)
        stats.append(
            PathStats(
                path=path,
                label="E2E" if path == END_TO_END else f"P{number}",
                frames=len(counted),
                warmup=len(mine) - len(counted),
                p50=p50,
                p90=_percentile(ms, 90),
                p99=p99,
                max=float(ms.max()) if ms.size else math.nan,
                mean=float(ms.mean()) if ms.size else math.nan,
                std=float(ms.std()) if ms.size else math.nan,
                spread=p99 - p50,
                fps=fps,
            )
        )
    return stats


def main_path(stats: list[PathStats]) -> PathStats | None:
    """The tracked path with the most operators (of those, the slowest median): the one whose
    breakdown tells most; None when there is no tracked path."""
    tracked = [s for s in stats if s.path != END_TO_END and s.frames]
    if not tracked:
        return None
    return max(tracked, key=lambda s: (len(s.operators), s.p50))


def operator_order(stats: list[PathStats], operator_times: dict[str, Any] | None) -> list[str]:
    """Operators in the order a reader follows them: along the main path first, then the
    others of the tracked paths and of ``operator_times`` by name."""
    main = main_path(stats)
    ordered = list(main.operators) if main is not None else []
    others = {op for s in stats for op in s.operators} | set(operator_times or {})
    return ordered + sorted(others - set(ordered))


def _frame_at(records: list[dict[str, Any]], q: float) -> dict[str, Any]:
    ordered = sorted(records, key=lambda r: r["latency_ms"])
    return ordered[round(q / 100 * (len(ordered) - 1))]


def _segments(record: dict[str, Any]) -> list[tuple[str, float, float]]:
    segments = []
    previous = record["start_ns"]
    for hop in record["hops"]:
        receive, publish = hop["receive_ns"], hop["publish_ns"]
        queue = (receive - previous) / 1e6 if previous is not None else 0.0
        segments.append((str(hop["operator"]), max(queue, 0.0), (publish - receive) / 1e6))
        previous = publish
    return segments


def frame_breakdowns(
    records: list[dict[str, Any]], stats: list[PathStats], operator_times: dict[str, Any] | None
) -> list[FrameBreakdown]:
    """The main path's median and p99 frames split into queue and compute per operator.

    From the frames' own hop times when the records have them; otherwise from the operators'
    p50 and p99 times in ``operator_times`` (not one frame, but the typical and slow operator
    times stacked); otherwise empty.
    """
    main = main_path(stats)
    if main is None:
        return []
    counted = [r for r in records if r["path"] == main.path and r["counted"]]
    if counted and all(len(r["hops"]) == len(main.operators) for r in counted):
        return [
            FrameBreakdown(f"{title} (#{frame['index']})", float(frame["latency_ms"]), _segments(frame))
            for title, frame in (
                ("median frame", _frame_at(counted, 50)),
                ("p99 frame", _frame_at(counted, 99)),
            )
        ]
    if not operator_times:
        return []
    breakdowns = []
    for percent in (50, 99):
        segments = []
        for op in main.operators:
            times = operator_times.get(op)
            if times is None:
                continue
            queue = float(times.get(f"queue_ms_p{percent}", 0.0))
            compute = float(times.get(f"compute_ms_p{percent}", 0.0))
            segments.append((op, queue, compute))
        total = sum(q + c for _, q, c in segments)
        breakdowns.append(FrameBreakdown(f"operators' p{percent}", total, segments))
    return breakdowns
