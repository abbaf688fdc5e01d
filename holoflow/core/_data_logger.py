"""Data loggers: objects a fragment calls for every message an operator emits or receives.

A logger is added with ``Fragment.add_data_logger``. While a fragment has none, its runs build
the plain input and output contexts and pay nothing; with loggers, each ``emit`` / ``receive``
hands the message to every logger whose settings and patterns accept its port (see
:mod:`holoflow.core._logging_context`).

Messages are named by a *unique id*, ``"<operator>.<port>"``, or ``"<operator>.<port>:<index>"``
for the items an ``IOSpec.ANY_SIZE`` input receives from its several connections.
"""

from __future__ import annotations

import enum
import re
import time
from typing import TYPE_CHECKING, Any

from holoflow.core._resource import Resource
from holoflow.core._spec import IOSpec
from holoflow.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AsyncQueuePolicy",
    "DataLogger",
    "DataLoggerQueueType",
    "DataLoggerResource",
]

_OUTPUT = IOSpec.IOType.OUTPUT


class AsyncQueuePolicy(enum.Enum):
    """What an asynchronous logger does with an entry when its queue is full."""

    REJECT = 0
    """Drop the entry, count it and warn."""
    RAISE = 1
    """Raise ``holoflow.errors.ResourceError`` from the ``emit`` / ``receive`` that logged it."""


class DataLoggerQueueType(enum.Enum):
    """The queue an asynchronous logger uses. holoflow has one queue implementation (a bounded,
    first-in first-out deque), so both values log entries in the order they were made."""

    LOCK_FREE = 0
    ORDERED = 1


class DataLogger:
    """The interface a fragment calls for each message: implement it to log anywhere.

    Every ``log_*`` method takes the message, its unique id, its acquisition timestamp (``-1``
    when it has none), the metadata it goes with (a mapping, or ``None``), whether it was
    emitted (``IOSpec.IOType.OUTPUT``) or received (``INPUT``), and a CUDA stream (``None``),
    and returns whether it was logged. :meth:`initialize` is called as each run starts and
    :meth:`shutdown` as it ends.
    """

    def log_data(
        self,
        data: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Log a message of any type."""
        raise NotImplementedError(f"{type(self).__name__} must implement log_data()")

    def log_tensor_data(
        self,
        tensor: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Log a single Tensor message. Default: :meth:`log_data`."""
        return self.log_data(tensor, unique_id, acquisition_timestamp, metadata, io_type, stream)

    def log_tensormap_data(
        self,
        tensor_map: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Log a TensorMap message (what an emitted ``dict`` becomes). Default: :meth:`log_data`."""
        return self.log_data(tensor_map, unique_id, acquisition_timestamp, metadata, io_type, stream)

    def log_backend_specific(
        self,
        data: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Log a backend-specific message; holoflow has none, so this returns ``False``."""
        del data, unique_id, acquisition_timestamp, metadata, io_type, stream
        return False

    def should_log_output(self) -> bool:
        """Whether to be called for emitted messages."""
        return True

    def should_log_input(self) -> bool:
        """Whether to be called for received messages."""
        return True

    def initialize(self) -> None:
        """Called as each run starts, before any operator runs. Default: nothing."""

    def shutdown(self) -> None:
        """Called as each run ends, after every operator stopped. Default: nothing."""


class DataLoggerResource(DataLogger, Resource):
    """A data logger configured by parameters, the base of the built-in loggers.

    Parameters
    ----------
    log_inputs, log_outputs : bool
        Log received / emitted messages (default ``True``).
    log_metadata : bool
        Log the operator's metadata with each message (default ``True``).
    log_tensor_data_content : bool
        Log tensor values, not only shape, dtype and device (default ``True``).
    use_scheduler_clock : bool
        Timestamps from the scheduler's clock (ns) rather than the system clock (ns since epoch).
    clock : Clock, optional
        A clock whose ``timestamp()`` is used for timestamps; it wins over ``use_scheduler_clock``.
    allowlist_patterns, denylist_patterns : list of str
        Regular expressions searched in each unique id. A message matching a denylist pattern is
        not logged; otherwise, with an allowlist, only messages matching one of its patterns are.

    Raises
    ------
    holoflow.errors.ConfigError
        From :meth:`initialize` (as the run starts), for a pattern that is not a valid regex.
    """

    _default_name = "data_logger"
    _use_scheduler_clock_default = False

    def setup(self, spec: Any) -> None:
        spec.param("log_outputs", True)
        spec.param("log_inputs", True)
        spec.param("log_metadata", True)
        spec.param("log_tensor_data_content", True)
        spec.param("use_scheduler_clock", self._use_scheduler_clock_default)
        spec.param("clock", None)
        spec.param("allowlist_patterns", ())
        spec.param("denylist_patterns", ())

    def initialize(self) -> None:
        self._prepare()

    def _prepare(self) -> None:
        """Compile the patterns and fix the clock offset (again, for parameters set since)."""
        self._allow = self._compile("allowlist_patterns")
        self._deny = self._compile("denylist_patterns")
        self._verdicts: dict[str, bool] = {}
        self._epoch_offset = time.time_ns() - time.monotonic_ns()

    def _compile(self, name: str) -> re.Pattern[str] | None:
        patterns = getattr(self, name, None) or []
        if isinstance(patterns, str):
            patterns = [patterns]
        if not patterns:
            return None
        try:
            return re.compile("|".join(f"(?:{p})" for p in patterns))
        except (re.error, TypeError) as exc:
            raise ConfigError(f"{self._label()}: invalid regex in {name} {list(patterns)!r}: {exc}") from exc

    def should_log_message(self, unique_id: str) -> bool:
        """Whether ``unique_id`` passes the denylist and then the allowlist (see the class)."""
        try:
            return self._verdicts[unique_id]
        except (KeyError, AttributeError):
            pass
        if not hasattr(self, "_verdicts"):
            self._prepare()
        deny, allow = self._deny, self._allow
        if deny is not None and deny.search(unique_id):
            verdict = False
        else:
            verdict = allow is None or allow.search(unique_id) is not None
        self._verdicts[unique_id] = verdict  # ids are few: one per port
        return verdict

    def should_log_output(self) -> bool:
        return bool(self.log_outputs)  # type: ignore[attr-defined]

    def should_log_input(self) -> bool:
        return bool(self.log_inputs)  # type: ignore[attr-defined]

    def should_log_metadata(self) -> bool:
        """Whether metadata is logged with each message."""
        return bool(self.log_metadata)  # type: ignore[attr-defined]

    def should_log_tensor_data_content(self) -> bool:
        """Whether tensor values are logged (else only a summary)."""
        return bool(self.log_tensor_data_content)  # type: ignore[attr-defined]

    def get_timestamp(self) -> int:
        """Now, in ns: the ``clock`` parameter's time, else the scheduler's clock when
        ``use_scheduler_clock``, else the system clock (ns since the epoch, monotonic)."""
        clock = getattr(self, "clock", None)
        if clock is not None:
            return int(clock.timestamp())
        if getattr(self, "use_scheduler_clock", False):
            scheduler_clock = getattr(self._fragment._active_scheduler, "clock", None)
            if scheduler_clock is not None:
                return int(scheduler_clock.timestamp())
        offset = getattr(self, "_epoch_offset", None)
        if offset is None:
            offset = self._epoch_offset = time.time_ns() - time.monotonic_ns()
        return time.monotonic_ns() + offset
