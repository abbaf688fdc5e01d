"""The bounded store of per-message records behind ``DataFlowTracker.records()``.

Records arrive in batches (one per fold of the leaves' buffers) and are kept as numpy columns,
about 40 bytes a record, plus the hop times when operator timing or file logging keeps them.
Past the limit the oldest records are dropped and counted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from holoflow.core._tracking_stats import Ints

__all__ = ["RECORD_LIMIT", "Chunk", "RecordStore"]

RECORD_LIMIT = 1_000_000
"""Records kept by default (about 40 MB without hop times)."""


@dataclass
class Chunk:
    """A batch of records, one row per (message, path), in completion order."""

    path: Ints
    """The path's number (its position in the tracker's list of paths)."""
    index: Ints
    """1-based number of the message within its path."""
    position: Ints
    """Position among the path's messages past threshold and skip, -1 if left out."""
    start: Ints
    end: Ints
    hops: list[tuple[tuple[str, ...], tuple[int, ...]]] | None
    """Per record the path's operators and flat hop times ``(receive0, publish0, ...)``, or
    ``None`` when hop times were not kept."""

    def __len__(self) -> int:
        return len(self.path)

    def tail(self, start: int) -> Chunk:
        """The records from ``start`` on."""
        return Chunk(
            self.path[start:],
            self.index[start:],
            self.position[start:],
            self.start[start:],
            self.end[start:],
            None if self.hops is None else self.hops[start:],
        )


class RecordStore:
    """At most ``limit`` records, oldest dropped first; ``dropped`` counts those dropped."""

    __slots__ = ("_chunks", "dropped", "limit", "size")

    def __init__(self, limit: int = RECORD_LIMIT) -> None:
        self.limit = limit
        self.size = 0
        self.dropped = 0
        self._chunks: deque[Chunk] = deque()

    def add(self, chunk: Chunk) -> None:
        """Keep ``chunk``'s records, dropping the oldest beyond the limit."""
        if len(chunk):
            self._chunks.append(chunk)
            self.size += len(chunk)
        self._trim()

    def set_limit(self, limit: int) -> None:
        """Keep at most ``limit`` records from now on (drops the oldest beyond it now)."""
        self.limit = limit
        self._trim()

    def _trim(self) -> None:
        excess = self.size - self.limit
        while excess > 0:
            first = self._chunks[0]
            if len(first) <= excess:
                self._chunks.popleft()
                cut = len(first)
            else:
                self._chunks[0] = first.tail(excess)
                cut = excess
            self.size -= cut
            self.dropped += cut
            excess -= cut

    def rows(self, path_names: list[str], counted: Callable[[int, int], bool]) -> list[dict[str, Any]]:
        """Every record as a dict (see ``DataFlowTracker.records``); ``counted(path, position)``
        says whether a record is in its path's metrics now."""
        out: list[dict[str, Any]] = []
        for chunk in self._chunks:
            hops = chunk.hops
            columns = zip(
                chunk.path.tolist(),
                chunk.index.tolist(),
                chunk.position.tolist(),
                chunk.start.tolist(),
                chunk.end.tolist(),
                strict=True,
            )
            for row, (path, index, position, start, end) in enumerate(columns):
                out.append(
                    {
                        "path": path_names[path],
                        "index": index,
                        "counted": position >= 0 and counted(path, position),
                        "start_ns": start,
                        "end_ns": end,
                        "latency_ms": (end // 1000 - start // 1000) / 1000.0,
                        "hops": [] if hops is None else _hops(*hops[row], end),
                    }
                )
        return out


def _hops(names: tuple[str, ...], times: tuple[int, ...], end: int) -> list[dict[str, Any]]:
    """One dict per operator of a path, from its flat times; the last publishes at ``end``."""
    flat = (*times, end)
    return [
        {"operator": name, "receive_ns": flat[2 * i], "publish_ns": flat[2 * i + 1]}
        for i, name in enumerate(names)
    ]
