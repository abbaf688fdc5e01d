"""One path's metrics under Holoscan's rules, updated a batch of latencies at a time.

Holoscan's ``DataFlowTracker::update_latency`` takes one latency at a time: below the threshold
it is dropped; the path's first ``skip`` latencies (of those above the threshold) are skipped;
the rest go through a FIFO of held-back latencies, and each push beyond ``discard`` held ones
releases the oldest into the metrics (running average, maximum and minimum, the message number
of the maximum updated on ``>=`` and of the minimum on ``<=``). :meth:`PathMetrics.fold` does
the same for a whole batch with numpy and gives the same numbers (the average is kept as an
exact integer sum of µs over the count, where Holoscan's running formula may differ in the last
bits).
"""

from __future__ import annotations

import numpy as np

from holoflow.core._tracking_stats import Distribution, Ints

__all__ = ["INT_MAX", "INT_MIN", "LATENCIES_RETAINED", "PathMetrics"]

INT_MIN = -2147483648.0
INT_MAX = 2147483647.0

LATENCIES_RETAINED = 1_000_000
"""Counted latencies a path keeps for exact percentiles and ``get_latencies`` (8 MB at most)."""


class PathMetrics:
    """One path: Holoscan's metrics (ms), its skip count, held-back latencies (µs) and the
    distribution of its counted latencies (µs)."""

    __slots__ = ("counted", "entered", "held", "max", "max_id", "min", "min_id", "seen", "skipped")

    def __init__(self) -> None:
        self.max = INT_MIN
        self.max_id = -1.0
        self.min = INT_MAX
        self.min_id = -1.0
        self.skipped = 0
        self.seen = 0
        """Messages the path completed, counted or not."""
        self.entered = 0
        """Messages past the threshold and the skip: held back or counted."""
        self.held: Ints = np.empty(0, dtype=np.int64)
        self.counted = Distribution(LATENCIES_RETAINED)

    @property
    def n(self) -> int:
        """Messages counted in the metrics."""
        return self.counted.count

    @property
    def avg(self) -> float:
        """The average counted latency in ms (0.0 when none)."""
        return self.counted.mean() / 1000.0

    def fold(self, micros: Ints, skip: int, discard: int, threshold: int) -> Ints:
        """Take the path's next latencies (µs, in completion order).

        Returns each one's position among the messages that passed the threshold and the skip
        (counted once ``position < n``), or -1 for a message left out.
        """
        size = len(micros)
        self.seen += size
        positions = np.full(size, -1, dtype=np.int64)
        chosen = np.flatnonzero(micros / 1000.0 >= threshold)
        if self.skipped < skip and len(chosen):
            skipped = min(skip - self.skipped, len(chosen))
            self.skipped += skipped
            chosen = chosen[skipped:]
        pushed = len(chosen)
        if not pushed:
            return positions
        positions[chosen] = self.entered + np.arange(pushed)
        self.entered += pushed
        # Holoscan releases one held latency per push once more than `discard` are held.
        held = len(self.held)
        released = pushed - min(pushed, max(0, discard - held))
        queue = np.concatenate((self.held, micros[chosen])) if held else micros[chosen]
        self.held = queue[released:].copy()
        if released:
            self._count(queue[:released])
        return positions

    def _count(self, micros: Ints) -> None:
        first = self.counted.count + 1
        self.counted.add(micros)
        top, bottom = int(micros.max()), int(micros.min())
        high, low = top / 1000.0, bottom / 1000.0
        if high >= self.max:
            self.max = high
            self.max_id = float(first + len(micros) - 1 - int(np.argmax(micros[::-1] == top)))
        if low <= self.min:
            self.min = low
            self.min_id = float(first + len(micros) - 1 - int(np.argmax(micros[::-1] == bottom)))
