"""End-to-end frame timing of a sample app: from the source's compute to the rendered frame."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["FrameTimer", "TimingSummary"]


@dataclass(frozen=True)
class TimingSummary:
    """Latency and rate of one run."""

    frames: int
    """Frames that reached the end of the pipeline."""
    seconds: float
    """From the first frame leaving the source to the last frame rendered."""
    fps: float
    """``frames / seconds``."""
    latency_ms: dict[str, float]
    """``p50``, ``p90``, ``p99``, ``mean``, ``max`` of the per-frame latency, in milliseconds."""

    def line(self) -> str:
        """One human-readable line."""
        lat = self.latency_ms
        return (
            f"{self.frames} frames in {self.seconds:.2f} s ({self.fps:.1f} fps); frame latency "
            f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms"
        )


class FrameTimer:
    """Pairs each frame leaving the source with the same frame at the sink (frames stay in order).

    The source calls :meth:`emitted` as it sends a frame, the sink :meth:`finished` as it
    receives the rendered frame; :meth:`summary` reports the latencies and the rate.
    """

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self.latencies_ns: list[int] = []
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    def reset(self) -> None:
        """Forget every frame (a new run starts)."""
        self._pending.clear()
        self.latencies_ns = []
        self.first_ns = self.last_ns = None

    def emitted(self, when_ns: int | None = None) -> None:
        """A frame left the source at ``when_ns`` (``perf_counter_ns``; default: now)."""
        stamp = time.perf_counter_ns() if when_ns is None else when_ns
        if self.first_ns is None:
            self.first_ns = stamp
        self._pending.append(stamp)

    def finished(self) -> None:
        """The oldest frame in flight was rendered now."""
        now = time.perf_counter_ns()
        if self._pending:
            self.latencies_ns.append(now - self._pending.popleft())
            self.last_ns = now

    def summary(self) -> TimingSummary | None:
        """The run's figures, or None if no frame went through."""
        if not self.latencies_ns or self.first_ns is None or self.last_ns is None:
            return None
        ms = np.asarray(self.latencies_ns, np.float64) / 1e6
        seconds = max((self.last_ns - self.first_ns) / 1e9, 1e-9)
        latency = {
            "p50": float(np.percentile(ms, 50)),
            "p90": float(np.percentile(ms, 90)),
            "p99": float(np.percentile(ms, 99)),
            "mean": float(ms.mean()),
            "max": float(ms.max()),
        }
        return TimingSummary(len(ms), seconds, len(ms) / seconds, latency)
