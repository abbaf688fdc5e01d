"""Data-flow tracking results: ``DataFlowTracker`` and ``DataFlowMetric`` (Holoscan's names).

A tracked run (``Fragment.track``) labels every message a root operator emits with its path:
one ``(operator, receive time, publish time)`` hop per operator it passes. When a message
reaches a leaf, the run hands the tracker the path's name (``"root,middle,leaf"``) and its
end-to-end latency (the leaf's end of ``compute`` minus the root's start of ``compute``); the
tracker keeps min/avg/max per path after skipping each path's first messages and holding back
its last ones, exactly as Holoscan does. The instrumentation itself is in ``_tracked_run``.
"""

from __future__ import annotations

import enum
import logging
import sys
import threading
from collections import deque
from typing import IO, Any, overload

__all__ = ["DataFlowMetric", "DataFlowTracker"]

_log = logging.getLogger("holoflow.tracking")

_INT_MIN = -2147483648.0
_INT_MAX = 2147483647.0


class DataFlowMetric(enum.Enum):
    """A metric of :meth:`DataFlowTracker.get_metric` (Holoscan's values, in its order)."""

    MAX_MESSAGE_ID = 0
    MIN_MESSAGE_ID = 1
    MAX_E2E_LATENCY = 2
    AVG_E2E_LATENCY = 3
    MIN_E2E_LATENCY = 4
    NUM_SRC_MESSAGES = 5
    NUM_DST_MESSAGES = 6


_SOURCES_HEADER = "Number of source messages [format: source operator->transmitter name: number of messages]:"

# The order Holoscan 4.6 prints a path's metrics in, with its labels.
_PRINTED = (
    (DataFlowMetric.NUM_DST_MESSAGES, "Number of messages"),
    (DataFlowMetric.MIN_MESSAGE_ID, "Min Latency Message No"),
    (DataFlowMetric.MIN_E2E_LATENCY, "Min end-to-end Latency (ms)"),
    (DataFlowMetric.AVG_E2E_LATENCY, "Avg end-to-end Latency (ms)"),
    (DataFlowMetric.MAX_MESSAGE_ID, "Max Latency Message No"),
    (DataFlowMetric.MAX_E2E_LATENCY, "Max end-to-end Latency (ms)"),
)


class _PathMetrics:
    """One path's running metrics (Holoscan's starting values), its skip count and its
    held-back latencies."""

    __slots__ = ("avg", "held", "latencies", "max", "max_id", "min", "min_id", "n", "skipped")

    def __init__(self) -> None:
        self.max = _INT_MIN
        self.max_id = -1.0
        self.avg = 0.0
        self.min = _INT_MAX
        self.min_id = -1.0
        self.n = 0
        self.skipped = 0
        self.held: deque[float] = deque()
        self.latencies: list[float] = []
        """Every counted latency (ms), in order, for percentiles and records."""

    def metric(self, metric: DataFlowMetric) -> float:
        """The value of ``metric`` (any but ``NUM_SRC_MESSAGES``)."""
        return float(getattr(self, _ATTRIBUTE[metric]))


_ATTRIBUTE = {
    DataFlowMetric.MAX_MESSAGE_ID: "max_id",
    DataFlowMetric.MIN_MESSAGE_ID: "min_id",
    DataFlowMetric.MAX_E2E_LATENCY: "max",
    DataFlowMetric.AVG_E2E_LATENCY: "avg",
    DataFlowMetric.MIN_E2E_LATENCY: "min",
    DataFlowMetric.NUM_DST_MESSAGES: "n",
}


def _number(value: float) -> str:
    """``value`` as C++'s ``std::cout`` writes a double (six significant digits)."""
    return format(value, "g")


class DataFlowTracker:
    """The end-to-end latencies of a fragment's paths, collected while it runs tracked.

    Get one from ``fragment.track(...)`` (or the :class:`~holoflow.core.Tracker` context
    manager); its numbers fill in during ``run()``. Latencies are in milliseconds, with
    microsecond resolution as in Holoscan. Safe to read from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, _PathMetrics] = {}
        self._source_counts: list[dict[str, int]] = []
        self._names: dict[tuple[tuple[str, ...], str], str] = {}
        self._skip_start = 10
        self._discard_last = 10
        self._threshold = 0
        self._limited = False
        self._log_name = ""
        self._log_file: IO[str] | None = None
        self._log_buffer: list[str] = []
        self._log_size = 100
        self._logged = 0

    # -- settings ----------------------------------------------------------------------------------
    def set_skip_starting_messages(self, num: int) -> None:
        """Leave each path's first ``num`` messages out of its metrics."""
        self._skip_start = _count(num, "num_start_messages_to_skip")

    def set_discard_last_messages(self, num: int) -> None:
        """Leave each path's last ``num`` messages out of its metrics (they are held back until
        newer ones arrive, so the last ``num`` of a run are never counted)."""
        self._discard_last = _count(num, "num_last_messages_to_discard")

    def set_skip_latencies(self, threshold: int) -> None:
        """Leave latencies below ``threshold`` milliseconds out of the metrics."""
        self._threshold = int(threshold)

    def set_limited_tracking(self, limited_tracking: bool) -> None:
        """Timestamp only root and leaf operators (paths read ``"root,leaf"``)."""
        self._limited = bool(limited_tracking)

    def limited_tracking(self) -> bool:
        """Whether only root and leaf operators are timestamped."""
        return self._limited

    def enable_logging(self, filename: str = "logger.log", num_buffered_messages: int = 100) -> None:
        """Write every message's timestamped paths, as a leaf completes it, to ``filename``.

        Entries are buffered and written ``num_buffered_messages`` at a time; ``end_logging``
        writes the rest and closes the file (opened on the first entry).
        """
        with self._lock:
            self._log_name = str(filename)
            self._log_size = max(1, _count(num_buffered_messages, "num_buffered_messages"))
            self._log_buffer = []
            self._logged = 0

    def end_logging(self) -> None:
        """Write the buffered log entries and close the log file (nothing when none is open)."""
        with self._lock:
            file = self._log_file
            if file is None:
                return
            file.writelines(self._log_buffer)
            self._log_buffer = []
            file.close()
            self._log_file = None

    # -- results -----------------------------------------------------------------------------------
    def get_num_paths(self) -> int:
        """How many root-to-leaf paths have been seen."""
        return len(self._paths)

    def get_path_strings(self) -> list[str]:
        """The paths' names (operator names joined by commas), sorted."""
        return sorted(self._paths)

    @overload
    def get_metric(self, pathstring: str, metric: DataFlowMetric) -> float: ...

    @overload
    def get_metric(self, metric: DataFlowMetric = ...) -> dict[str, int]: ...

    def get_metric(self, *args: Any, **kwargs: Any) -> float | dict[str, int]:
        """``get_metric(pathstring, metric)``: one metric of a path; ``get_metric(metric=
        DataFlowMetric.NUM_SRC_MESSAGES)``: the number of messages each root sent, by
        ``"operator->port"``.

        As in Holoscan, a path nobody saw or ``NUM_SRC_MESSAGES`` with a path logs an error and
        returns ``-1``; another metric without a path logs an error and returns ``{}``.

        Raises
        ------
        TypeError
            If the arguments fit neither form.
        """
        pathstring, metric = _metric_args(args, kwargs)
        if pathstring is None:
            if metric is not DataFlowMetric.NUM_SRC_MESSAGES:
                _log.error("get_metric: a metric without a path must be DataFlowMetric.NUM_SRC_MESSAGES")
                return {}
            with self._lock:
                return self._sources_now()
        if metric is DataFlowMetric.NUM_SRC_MESSAGES:
            _log.error("get_metric: a metric with a path must not be DataFlowMetric.NUM_SRC_MESSAGES")
            return -1
        path = self._paths.get(pathstring)
        if path is None:
            _log.error(
                "get_metric: no path %r; paths: %s (messages skipped at the start or end, or below "
                "the latency threshold, still make their path known)",
                pathstring,
                self.get_path_strings(),
            )
            return -1
        return path.metric(metric)

    def get_latencies(self, pathstring: str) -> list[float]:
        """Every latency (ms) counted in ``pathstring``'s metrics, in arrival order (holoflow's).

        Raises
        ------
        KeyError
            If no such path was seen.
        """
        with self._lock:
            return list(self._paths[pathstring].latencies)

    def print(self) -> None:
        """Write the results to standard output in Holoscan's layout (tools parse it)."""
        sys.stdout.write(self._report())
        sys.stdout.flush()

    def _report(self) -> str:
        with self._lock:
            lines = ["Data Flow Tracking Results:", f"Total paths: {len(self._paths)}", ""]
            for i, name in enumerate(sorted(self._paths), 1):
                lines.append(f"Path {i}: {name}")
                path = self._paths[name]
                if path.n == 0:
                    lines.append("No messages tracked for this path.")
                    continue
                lines.extend(f"{label}: {_number(path.metric(metric))}" for metric, label in _PRINTED)
                lines.append("")
            sources = self._sources_now()
            if not sources:
                lines.append("No source messages found.")
            else:
                lines.append(_SOURCES_HEADER)
                lines.extend(f"{key}: {n}" for key, n in sources.items())
        return "\n".join(lines) + "\n"

    # -- fed by the tracked run ---------------------------------------------------------------------
    def _logging(self) -> bool:
        """Whether hop times are wanted (file logging is on)."""
        return bool(self._log_name)

    def _record(self, leaf: str, arrivals: list[tuple[Any, ...]], end: int) -> None:
        """Take the path entries a leaf completed at ``end`` (ns): ``(start, names[, times])``
        with ``times`` ending in the leaf's receive time, as ``_tracked_run`` builds them."""
        with self._lock:
            names_of = self._names
            for entry in arrivals:
                key = (entry[1], leaf)
                name = names_of.get(key)
                if name is None:
                    name = names_of[key] = ",".join((*entry[1], leaf))
                self._update(name, (end // 1000 - entry[0] // 1000) / 1000.0)
            if self._log_name:
                self._write_log(leaf, arrivals, end)

    def _update(self, name: str, latency: float) -> None:
        path = self._paths.get(name)
        if path is None:
            path = self._paths[name] = _PathMetrics()
        if latency < self._threshold:
            return
        if path.skipped < self._skip_start:
            path.skipped += 1
            return
        held = path.held
        held.append(latency)
        if len(held) <= self._discard_last:
            return
        latency = held.popleft()
        path.latencies.append(latency)
        n = path.n
        path.avg = (path.avg * n + latency) / (n + 1)
        n = path.n = n + 1
        if latency >= path.max:
            path.max = latency
            path.max_id = n
        if latency <= path.min:
            path.min = latency
            path.min_id = n

    def _add_source_counts(self, counts: dict[str, int]) -> None:
        """Read ``counts`` (a root's messages sent by ``"operator->port"``, kept up to date by
        the run) whenever the numbers are asked for."""
        with self._lock:
            self._source_counts.append(counts)

    def _sources_now(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for counts in self._source_counts:
            totals.update(counts)
        return dict(sorted(totals.items()))

    def _write_log(self, leaf: str, arrivals: list[tuple[Any, ...]], end: int) -> None:
        if self._log_file is None:
            self._log_file = open(self._log_name, "w", encoding="utf-8")  # noqa: SIM115 - closed by end_logging
        self._logged += 1
        text = "".join(_log_line(entry, leaf, end) for entry in arrivals)
        self._log_buffer.append(f"{self._logged}:\n{text}\n")
        if len(self._log_buffer) >= self._log_size:
            self._log_file.writelines(self._log_buffer)
            self._log_file.flush()
            self._log_buffer = []

    def __repr__(self) -> str:
        return f"<DataFlowTracker with {len(self._paths)} path(s)>"


def _log_line(entry: tuple[Any, ...], leaf: str, end: int) -> str:
    """One path as Holoscan logs it: ``(op,receive_us,publish_us) -> ... \\n``."""
    names: tuple[str, ...] = entry[1]
    times: tuple[int, ...] = entry[2] if len(entry) > 2 else ()
    received = times[-1] if len(times) % 2 else end
    if not times:  # logging turned on after the run began: no hop times
        times = (entry[0],) * (2 * len(names))
    hops = [f"({name},{times[2 * i] // 1000},{times[2 * i + 1] // 1000})" for i, name in enumerate(names)]
    hops.append(f"({leaf},{received // 1000},{end // 1000})")
    return " -> ".join(hops) + " \n"


def _count(num: Any, what: str) -> int:
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise ValueError(f"DataFlowTracker: {what} must be a non-negative int, got {num!r}")
    return num


def _metric_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str | None, DataFlowMetric]:
    """``(pathstring or None, metric)`` from either form of ``get_metric``'s arguments."""
    params = dict(zip(("pathstring", "metric") if len(args) == 2 else ("metric",), args, strict=False))
    if len(args) == 1 and isinstance(args[0], str):
        params = {"pathstring": args[0]}
    for key, value in kwargs.items():
        if key not in ("pathstring", "metric") or key in params:
            raise TypeError(f"get_metric() got an unexpected or repeated argument {key!r}")
        params[key] = value
    if len(args) > 2:
        raise TypeError(f"get_metric() takes at most 2 arguments ({len(args)} given)")
    pathstring = params.get("pathstring")
    metric = params.get("metric", None if pathstring is not None else DataFlowMetric.NUM_SRC_MESSAGES)
    if not isinstance(metric, DataFlowMetric):
        raise TypeError(f"get_metric(): metric must be a DataFlowMetric, got {metric!r}")
    if pathstring is not None and not isinstance(pathstring, str):
        raise TypeError(f"get_metric(): pathstring must be a str, got {pathstring!r}")
    return pathstring, metric
