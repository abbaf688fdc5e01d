"""Folding the operators' buffers into a tracker's paths, records and operator times.

Leaves buffer the label and the end (ns) of each ``compute`` that completed paths, in two
deques (see ``_tracked_run.OperatorSink``); here a whole batch becomes numpy columns (start,
end, path) with a few C-level passes, each path's latencies go through
:meth:`PathMetrics.fold` (Holoscan's rules), and the rows are kept as one record chunk. Another
operator's deques are emptied with ``popleft``, so their owner may go on appending from its own
thread meanwhile; the operator folding empties its own at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

import numpy as np

from holoflow.core._tracked_contexts import Entry, Label
from holoflow.core._tracked_run import OperatorSink
from holoflow.core._tracking_paths import PathMetrics
from holoflow.core._tracking_records import Chunk, RecordStore
from holoflow.core._tracking_stats import Distribution

__all__ = ["OPERATOR_TIMES_RETAINED", "Completion", "FoldState", "OperatorTimes"]

_first = itemgetter(0)
_second = itemgetter(1)

OPERATOR_TIMES_RETAINED = 100_000
"""Compute and queue times an operator keeps for exact percentiles (0.8 MB each at most)."""

Completion = tuple[int, str, Label]
"""``(end_ns, operator, label)``: one ``compute`` that completed paths, for the log file."""


def _take(buffer: deque[Any], n: int | None = None) -> list[Any]:
    """The ``n`` oldest items of ``buffer`` (all by default), removed (safe while its owner
    appends)."""
    popleft = buffer.popleft
    return [popleft() for _ in range(len(buffer) if n is None else n)]


class OperatorTimes:
    """One operator's compute durations and queue times (ns)."""

    __slots__ = ("computes", "queues")

    def __init__(self) -> None:
        self.computes = Distribution(OPERATOR_TIMES_RETAINED)
        self.queues = Distribution(OPERATOR_TIMES_RETAINED)

    def summary(self) -> dict[str, float]:
        """``operator_times()``'s entry: counts, means, p50/p99/max in ms (queue keys only for
        an operator that received tracked messages)."""
        out: dict[str, float] = {"computes": float(self.computes.count)}
        for prefix, distribution in (("compute", self.computes), ("queue", self.queues)):
            if not distribution.count:
                continue
            p50, p99 = distribution.percentiles(np.array([50.0, 99.0]))
            out[f"{prefix}_ms_mean"] = distribution.mean() / 1e6
            out[f"{prefix}_ms_p50"] = float(p50) / 1e6
            out[f"{prefix}_ms_p99"] = float(p99) / 1e6
            out[f"{prefix}_ms_max"] = distribution.high / 1e6
        return out


class FoldState:
    """A tracker's accumulated results: its paths (in order of discovery), record store and
    operator times. Not thread-safe: the tracker holds its lock around every call."""

    def __init__(self) -> None:
        self.paths: dict[str, PathMetrics] = {}
        self.path_names: list[str] = []
        self._path_ids: dict[tuple[tuple[str, ...], str], int] = {}
        self.records = RecordStore()
        self.operators: dict[str, OperatorTimes] = {}

    def fold(
        self,
        sinks: Iterable[OperatorSink],
        skip: int,
        discard: int,
        threshold: int,
        log: Callable[[list[Completion]], None] | None,
        own: OperatorSink | None = None,
    ) -> None:
        """Empty ``sinks`` into the results, applying the skip / discard / threshold settings;
        ``log`` gets every completion, in end-time order, when the log file is on. ``own`` is
        the sink of the operator folding, if any: nobody appends to it meanwhile."""
        chunks: list[Chunk] = []
        completions: list[Completion] = []
        for sink in sinks:
            if sink.computes is not None and sink.computes:
                times = self._times(sink.name)
                times.computes.add(np.array(_take(sink.computes), dtype=np.int64))
                assert sink.queue_times is not None
                if sink.queue_times:
                    times.queues.add(np.array(_take(sink.queue_times), dtype=np.int64))
            done = len(sink.ends)  # its label is in already: the owner appends it first
            if not done:
                continue
            if sink is own:
                labels, ends = list(sink.labels), list(sink.ends)
                sink.labels.clear()
                sink.ends.clear()
            else:
                labels, ends = _take(sink.labels, done), _take(sink.ends, done)
            if log is not None:
                completions.extend(zip(ends, [sink.name] * done, labels, strict=True))
            chunks.append(self._paths_of(sink.name, labels, ends, skip, discard, threshold))
        if log is not None and completions:
            completions.sort(key=lambda completion: completion[0])
            log(completions)
        if not chunks:
            return
        chunk = chunks[0] if len(chunks) == 1 else _concatenate(chunks)
        if bool((np.diff(chunk.end) < 0).any()):  # several leaves: completion order
            order = np.argsort(chunk.end, kind="stable")
            chunk = Chunk(
                chunk.path[order],
                chunk.index[order],
                chunk.position[order],
                chunk.start[order],
                chunk.end[order],
                None if chunk.hops is None else [chunk.hops[i] for i in order.tolist()],
            )
        self.records.add(chunk)

    def counted(self, path: int, position: int) -> bool:
        """Whether the ``position``-th message past threshold and skip of path number ``path``
        is in the metrics now."""
        return position < self.paths[self.path_names[path]].n

    def _times(self, name: str) -> OperatorTimes:
        times = self.operators.get(name)
        if times is None:
            times = self.operators[name] = OperatorTimes()
        return times

    def _path_id(self, names: tuple[str, ...], leaf: str) -> int:
        key = (names, leaf)
        number = self._path_ids.get(key)
        if number is None:
            name = ",".join((*names, leaf))
            if name not in self.paths:
                self.paths[name] = PathMetrics()
                self.path_names.append(name)
            number = self._path_ids[key] = self.path_names.index(name)  # once per path and run
        return number

    def _paths_of(
        self, leaf: str, labels: list[Label], ends: list[int], skip: int, discard: int, threshold: int
    ) -> Chunk:
        """One sink's completions as records, each path's latencies folded into its metrics."""
        entries: list[Entry] = labels  # type: ignore[assignment]
        size = len(entries)
        try:
            start = np.fromiter(map(_first, entries), dtype=np.int64, count=size)
        except TypeError:  # some messages were on several paths (a list of entries): a row each
            entries, flat_ends = [], []
            for label, end_ns in zip(labels, ends, strict=True):
                for entry in [label] if type(label) is tuple else label:  # type: ignore[union-attr]
                    entries.append(entry)
                    flat_ends.append(end_ns)
            ends = flat_ends
            size = len(entries)
            start = np.fromiter(map(_first, entries), dtype=np.int64, count=size)
        end = np.array(ends, dtype=np.int64)
        names: list[tuple[str, ...]] = list(map(_second, entries))
        micros = end // 1000 - start // 1000
        path = np.empty(size, dtype=np.int64)
        index = np.empty(size, dtype=np.int64)
        position = np.empty(size, dtype=np.int64)
        groups: Iterable[tuple[int, Any]]
        if names.count(names[0]) == size:  # one path (interned names: identity compares)
            groups = [(self._path_id(names[0], leaf), slice(None))]
        else:
            distinct = dict(zip(map(id, names), names, strict=True))
            numbers = {key: self._path_id(group, leaf) for key, group in distinct.items()}
            by_row = np.fromiter((numbers[id(n)] for n in names), dtype=np.int64, count=len(names))
            groups = [
                (number, np.flatnonzero(by_row == number)) for number in dict.fromkeys(numbers.values())
            ]
        for number, rows in groups:
            metrics = self.paths[self.path_names[number]]
            latencies = micros[rows]
            first = metrics.seen + 1
            position[rows] = metrics.fold(latencies, skip, discard, threshold)
            path[rows] = number
            index[rows] = np.arange(first, first + len(latencies))
        hops = None
        if len(entries[0]) > 2:
            hops = [((*e[1], leaf), e[2]) for e in entries]
        return Chunk(path, index, position, start, end, hops)


def _concatenate(chunks: list[Chunk]) -> Chunk:
    hops: list[Any] | None = None
    if all(chunk.hops is not None for chunk in chunks):
        hops = [hop for chunk in chunks for hop in chunk.hops or ()]
    return Chunk(
        np.concatenate([c.path for c in chunks]),
        np.concatenate([c.index for c in chunks]),
        np.concatenate([c.position for c in chunks]),
        np.concatenate([c.start for c in chunks]),
        np.concatenate([c.end for c in chunks]),
        hops,
    )
