"""Data-flow tracking results: ``DataFlowTracker`` and ``DataFlowMetric`` (Holoscan's names).

A tracked run (``Fragment.track``) labels the messages a root operator emits with their path
(see ``_tracked_run``). When a message reaches a leaf, the leaf buffers the path and the end
of its ``compute``; the tracker folds those buffers a batch at a time (``_tracking_fold``) into
each path's end-to-end latencies (the leaf's end of ``compute`` minus the root's start of
``compute``): min/avg/max after skipping each path's first messages and holding back its last
ones, exactly as Holoscan does, plus bounded percentiles, per-message records and, with
operator timing, per-operator compute and queue times.
"""

from __future__ import annotations

import enum
import importlib
import logging
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any, overload

from holoflow.core._tracked_run import OperatorSink
from holoflow.core._tracking_fold import Completion, FoldState
from holoflow.core._tracking_paths import PathMetrics
from holoflow.core._tracking_stats import check_percents

__all__ = ["DataFlowMetric", "DataFlowTracker"]

_log = logging.getLogger("holoflow.tracking")


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


def _number(value: float) -> str:
    """``value`` as C++'s ``std::cout`` writes a double (six significant digits)."""
    return format(value, "g")


class DataFlowTracker:
    """The end-to-end latencies of a fragment's paths, collected while it runs tracked.

    Get one from ``fragment.track(...)`` (or the :class:`~holoflow.core.Tracker` context
    manager); its numbers fill in during ``run()``. Latencies are in milliseconds, with
    microsecond resolution as in Holoscan. Safe to read from any thread: every read first folds
    what the leaves buffered since the last one.

    Beyond Holoscan: :meth:`percentiles`, :meth:`records` (one row per message and path),
    :meth:`operator_times` (with :meth:`set_operator_timing`), :meth:`to_dataframe` and
    sampling (:meth:`set_sampling`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = FoldState()
        self._sinks: dict[object, list[OperatorSink]] = {}
        self._sources: list[tuple[str, dict[str, int]]] = []
        self._skip_start = 10
        self._discard_last = 10
        self._threshold = 0
        self._limited = False
        self._every = 1
        self._timing = False
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

    def set_sampling(self, n: int) -> None:
        """Track every ``n``-th ``compute`` of each root only (holoflow's; 1: every message).

        The messages of the other computes travel plain, as in an untracked run, and cost
        (nearly) nothing downstream. The metrics, percentiles and records then cover the
        sampled messages only: min and max are those of the sample, and the skip / discard
        counts are counted in sampled messages; source counts still count every message.
        Takes effect when the next run starts.

        Raises
        ------
        ValueError
            If ``n`` is not an int of at least 1.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"DataFlowTracker: sample_every must be an int >= 1, got {n!r}")
        self._every = n

    def sampling(self) -> int:
        """Every how many root computes one is tracked (1: all)."""
        return self._every

    def set_operator_timing(self, enabled: bool) -> None:
        """Keep every hop's receive and publish times, each ``compute``'s duration and each
        message's queue time (holoflow's; off by default, as it costs two clock reads per hop
        more). Feeds :meth:`operator_times` and the ``hops`` of :meth:`records`. Takes effect
        when the next run starts."""
        self._timing = bool(enabled)

    def operator_timing(self) -> bool:
        """Whether operator timing is on."""
        return self._timing

    def set_record_limit(self, n: int) -> None:
        """Keep at most ``n`` records (default 1,000,000): older ones are dropped and counted
        by :meth:`records_dropped`.

        Raises
        ------
        ValueError
            If ``n`` is not a non-negative int.
        """
        limit = _count(n, "record limit")
        with self._lock:
            self._state.records.set_limit(limit)

    def records_dropped(self) -> int:
        """How many records were dropped to keep within the record limit."""
        with self._lock:
            self._fold_locked()
            return self._state.records.dropped

    def enable_logging(self, filename: str = "logger.log", num_buffered_messages: int = 100) -> None:
        """Write every message's timestamped paths, as a leaf completes it, to ``filename``.

        Entries are buffered and written ``num_buffered_messages`` at a time; ``end_logging``
        writes the rest and closes the file (opened on the first entry). Takes effect when the
        next run starts.
        """
        with self._lock:
            self._log_name = str(filename)
            self._log_size = max(1, _count(num_buffered_messages, "num_buffered_messages"))
            self._log_buffer = []
            self._logged = 0

    def end_logging(self) -> None:
        """Write the buffered log entries and close the log file (nothing when none is open)."""
        with self._lock:
            self._fold_locked()
            file = self._log_file
            if file is None:
                return
            file.writelines(self._log_buffer)
            self._log_buffer = []
            file.close()
            self._log_file = None

    # -- Holoscan's results ------------------------------------------------------------------------
    def get_num_paths(self) -> int:
        """How many root-to-leaf paths have been seen."""
        with self._lock:
            self._fold_locked()
            return len(self._state.paths)

    def get_path_strings(self) -> list[str]:
        """The paths' names (operator names joined by commas), sorted."""
        with self._lock:
            self._fold_locked()
            return sorted(self._state.paths)

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
        with self._lock:
            self._fold_locked()
            path = self._state.paths.get(pathstring)
            if path is not None:
                return _metric(path, metric)
        _log.error(
            "get_metric: no path %r; paths: %s (messages skipped at the start or end, or below "
            "the latency threshold, still make their path known)",
            pathstring,
            self.get_path_strings(),
        )
        return -1

    def get_latencies(self, pathstring: str) -> list[float]:
        """The latencies (ms) counted in ``pathstring``'s metrics, in arrival order (holoflow's):
        all of them, up to the first 1,000,000 of a path.

        Raises
        ------
        KeyError
            If no such path was seen (the message names the known paths).
        """
        with self._lock:
            path = self._path(pathstring)
            return [float(value) for value in path.counted.kept() / 1000.0]

    def print(self) -> None:
        """Write the results to standard output in Holoscan's layout (tools parse it)."""
        sys.stdout.write(self._report())
        sys.stdout.flush()

    # -- holoflow's results ------------------------------------------------------------------------
    def percentiles(
        self, pathstring: str, percents: Sequence[float] = (50, 90, 99, 100)
    ) -> dict[float, float]:
        """Percentiles (ms) of ``pathstring``'s counted latencies (after skip, discard and
        threshold), by percent.

        Exact (numpy's linear interpolation) while the path has at most 1,000,000 counted
        latencies, from a log histogram of 1 % bins beyond (about 0.5 % off; 0 and 100 stay
        exact). NaN for a path with no counted latency.

        Raises
        ------
        KeyError
            If no such path was seen (the message names the known paths).
        ValueError
            If a percent is outside [0, 100].
        """
        wanted = check_percents(percents)
        with self._lock:
            values = self._path(pathstring).counted.percentiles(wanted) / 1000.0
        return {float(p): float(v) for p, v in zip(wanted.tolist(), values.tolist(), strict=True)}

    def records(self) -> list[dict[str, Any]]:
        """One dict per (message, path) a leaf completed, in completion order (the most recent
        ones, up to the record limit).

        Keys: ``"path"`` (as in :meth:`get_path_strings`), ``"index"`` (1-based number of the
        message in its path, counting every message of the path), ``"counted"`` (whether it is
        in the path's metrics now: ``False`` for messages skipped or below the threshold, and
        for the last ones held back to be discarded, until newer messages push them in),
        ``"start_ns"`` / ``"end_ns"`` (``time.time_ns``: the root's start and the leaf's end of
        ``compute``), ``"latency_ms"``, and ``"hops"``: with operator timing (or file logging)
        on, one ``{"operator", "receive_ns", "publish_ns"}`` per operator of the path (the
        root's receive is its compute start, the leaf's publish its compute end), else ``[]``.
        """
        with self._lock:
            self._fold_locked()
            state = self._state
            return state.records.rows(state.path_names, state.counted)

    def operator_times(self) -> dict[str, dict[str, float]]:
        """Per operator, what runs with operator timing on measured (empty when none did).

        ``"computes"`` (how many), ``"compute_ms_mean"`` / ``_p50`` / ``_p99`` / ``_max`` (each
        ``compute``'s duration) and, for operators that received tracked messages,
        ``"queue_ms_mean"`` / ``_p50`` / ``_p99`` / ``_max``: per message received, its receive
        time minus its sender's publish time. Roots receive nothing and have no queue keys.
        With limited tracking the operators between roots and leaves add no times, so a leaf's
        queue time runs from the root's publish.
        """
        with self._lock:
            self._fold_locked()
            return {name: times.summary() for name, times in sorted(self._state.operators.items())}

    def to_dataframe(self) -> Any:
        """:meth:`records` as a pandas ``DataFrame``: one row per record, the hops flattened to
        columns ``<operator>.receive_ns`` / ``<operator>.publish_ns`` (``<operator>#2.…`` for an
        operator a path passes twice).

        Raises
        ------
        ImportError
            If pandas is not installed.
        """
        try:
            pd = importlib.import_module("pandas")  # optional: imported when asked for
        except ImportError as exc:
            raise ImportError("DataFlowTracker.to_dataframe needs pandas: pip install pandas") from exc
        rows = []
        for record in self.records():
            row = {key: value for key, value in record.items() if key != "hops"}
            seen: dict[str, int] = {}
            for hop in record["hops"]:
                name = hop["operator"]
                seen[name] = seen.get(name, 0) + 1
                column = name if seen[name] == 1 else f"{name}#{seen[name]}"
                row[f"{column}.receive_ns"] = hop["receive_ns"]
                row[f"{column}.publish_ns"] = hop["publish_ns"]
            rows.append(row)
        columns = ["path", "index", "counted", "start_ns", "end_ns", "latency_ms"]
        return pd.DataFrame(rows, columns=None if rows else columns)

    # -- fed by the tracked run ---------------------------------------------------------------------
    def _hop_times_wanted(self) -> bool:
        """Whether a run keeps hop times (file logging or operator timing is on)."""
        return bool(self._log_name) or self._timing

    def _register(self, run: object, sink: OperatorSink) -> None:
        """Fold ``sink`` (an operator's buffers in ``run``) from now on."""
        with self._lock:
            self._sinks.setdefault(run, []).append(sink)

    def _finish_run(self, run: object) -> None:
        """Fold ``run``'s buffers a last time and let them go."""
        with self._lock:
            self._fold_locked()
            self._sinks.pop(run, None)

    def _add_source_counts(self, operator: str, sent: dict[str, int]) -> None:
        """Read ``sent`` (a root's messages by port, kept up to date by the run; ``""`` for its
        only port) whenever the numbers are asked for."""
        with self._lock:
            self._sources.append((operator, sent))

    def _fold(self, own: OperatorSink | None = None) -> None:
        """Fold every buffer into the results (an operator calls it when its buffer, ``own``,
        is full)."""
        with self._lock:
            self._fold_locked(own)

    def _fold_locked(self, own: OperatorSink | None = None) -> None:
        if not self._sinks:
            return
        sinks = [sink for run in self._sinks.values() for sink in run]
        log = self._write_log if self._log_name else None
        self._state.fold(sinks, self._skip_start, self._discard_last, self._threshold, log, own)

    def _path(self, pathstring: str) -> PathMetrics:
        self._fold_locked()
        path = self._state.paths.get(pathstring)
        if path is None:
            raise KeyError(f"no path {pathstring!r}; paths: {sorted(self._state.paths)}")
        return path

    def _report(self) -> str:
        with self._lock:
            self._fold_locked()
            paths = self._state.paths
            lines = ["Data Flow Tracking Results:", f"Total paths: {len(paths)}", ""]
            for i, name in enumerate(sorted(paths), 1):
                lines.append(f"Path {i}: {name}")
                path = paths[name]
                if path.n == 0:
                    lines.append("No messages tracked for this path.")
                    continue
                lines.extend(f"{label}: {_number(_metric(path, metric))}" for metric, label in _PRINTED)
                lines.append("")
            sources = self._sources_now()
            if not sources:
                lines.append("No source messages found.")
            else:
                lines.append(_SOURCES_HEADER)
                lines.extend(f"{key}: {n}" for key, n in sources.items())
        return "\n".join(lines) + "\n"

    def _sources_now(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for operator, sent in self._sources:
            counts = dict(sent)
            unnamed = counts.pop("", 0)
            if unnamed:
                (only,) = counts
                counts[only] += unnamed
            totals.update({f"{operator}->{port}": n for port, n in counts.items() if n})
        return dict(sorted(totals.items()))

    def _write_log(self, completions: list[Completion]) -> None:
        if self._log_file is None:
            self._log_file = open(self._log_name, "w", encoding="utf-8")  # noqa: SIM115 - closed by end_logging
        for end, leaf, label in completions:
            self._logged += 1
            entries = [label] if type(label) is tuple else label
            text = "".join(_log_line(entry, leaf, end) for entry in entries)  # type: ignore[arg-type]
            self._log_buffer.append(f"{self._logged}:\n{text}\n")
            if len(self._log_buffer) >= self._log_size:
                self._log_file.writelines(self._log_buffer)
                self._log_file.flush()
                self._log_buffer = []

    def __repr__(self) -> str:
        return f"<DataFlowTracker with {len(self._state.paths)} path(s)>"


def _metric(path: PathMetrics, metric: DataFlowMetric) -> float:
    """The value of ``metric`` (any but ``NUM_SRC_MESSAGES``) for ``path``."""
    if metric is DataFlowMetric.NUM_DST_MESSAGES:
        return float(path.n)
    if metric is DataFlowMetric.AVG_E2E_LATENCY:
        return path.avg
    return float(getattr(path, _ATTRIBUTE[metric]))


_ATTRIBUTE = {
    DataFlowMetric.MAX_MESSAGE_ID: "max_id",
    DataFlowMetric.MIN_MESSAGE_ID: "min_id",
    DataFlowMetric.MAX_E2E_LATENCY: "max",
    DataFlowMetric.MIN_E2E_LATENCY: "min",
}


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
