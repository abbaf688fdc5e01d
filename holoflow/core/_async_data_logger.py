"""``AsyncDataLoggerResource``: a data logger whose ``emit`` / ``receive`` side only enqueues.

The operator's thread files an entry (the message, its id, timestamps and a copy of the
metadata) in a bounded queue and returns; worker threads started with the run turn entries
into log lines. A full queue never makes compute wait: the entry is dropped (``REJECT``) or the
call raises (``RAISE``). Tensor messages whose values are to be logged go to a second, "large
data" queue with its own worker, so slow dumps cannot hold back the summaries. The workers are
joined when the run ends, after the queues drain (or after ``shutdown_wait_period_ms``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from holoflow.core._data_logger import AsyncQueuePolicy, DataLoggerQueueType, DataLoggerResource
from holoflow.core._spec import IOSpec
from holoflow.errors import ConfigError, ResourceError
from holoflow.logger import get_logger

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["AsyncDataLoggerResource", "AsyncLoggerStatistics", "DataEntry"]

_log = get_logger("holoflow.data_loggers")
_OUTPUT = IOSpec.IOType.OUTPUT


@dataclass(slots=True)
class DataEntry:
    """One message waiting in an asynchronous logger's queue (treat it as read-only)."""

    data: Any
    unique_id: str
    acquisition_timestamp: int
    emit_timestamp: int
    """When it was emitted or received (the logger's clock, ns)."""
    io_type: IOSpec.IOType
    metadata: dict[str, Any] | None
    """A copy taken when it was logged, or ``None``."""
    stream: int | None


@dataclass(frozen=True, slots=True)
class AsyncLoggerStatistics:
    """Counts of an asynchronous logger's queues (since its last run started)."""

    data_enqueued: int
    data_processed: int
    data_dropped: int
    large_data_enqueued: int
    large_data_processed: int
    large_data_dropped: int
    workers_running: bool


class _Lane:
    """A bounded queue and the worker thread that empties it into ``process``.

    The operator's side appends to a deque (atomic under the GIL) and wakes the worker only
    when it is idle; the worker, once woken, waits ``batch_delay`` seconds so that entries
    arrive in batches rather than one thread switch per message, then drains the queue.
    """

    def __init__(
        self, where: str, name: str, capacity: int, policy: AsyncQueuePolicy, process: Any, batch_delay: float
    ) -> None:
        self.where = where
        """The logger, for messages."""
        self.name = name
        self.capacity = capacity
        self.policy = policy
        self.process = process
        self.batch_delay = batch_delay
        self.items: deque[DataEntry] = deque()
        self.wake = threading.Event()
        self.busy = True  # the worker is not waiting on ``wake``
        self.stopping = False
        self.discard = False
        self.taken = self.processed = 0  # changed by the worker only
        self.dropped = 0
        self.drop_lock = threading.Lock()
        self.thread = threading.Thread(target=self._work, name=name, daemon=True)

    @property
    def enqueued(self) -> int:
        return self.taken + len(self.items)

    def offer(self, entry: DataEntry) -> bool:
        """File ``entry`` without waiting; on a full queue apply the policy."""
        items = self.items
        if len(items) < self.capacity:
            items.append(entry)
            if not self.busy:
                self.wake.set()
            return True
        with self.drop_lock:
            self.dropped += 1
        if self.policy is AsyncQueuePolicy.RAISE:
            raise ResourceError(
                f"{self.where}: {self.name} queue overflow ({self.capacity} entries) for {entry.unique_id}"
            )
        _log.warning("%s: %s queue overflow, entry rejected: %s", self.where, self.name, entry.unique_id)
        return False

    def _work(self) -> None:
        items = self.items
        while True:
            while items and not self.discard:
                entry = items.popleft()
                self.taken += 1
                try:
                    done = self.process(entry)
                except Exception as exc:
                    _log.error("%s: error logging %s: %r", self.name, entry.unique_id, exc)
                    done = False
                if done:
                    self.processed += 1
            if self.stopping or self.discard:
                return
            # Go idle; the order (clear, then busy=False, then look again) loses no wake-up.
            self.wake.clear()
            self.busy = False
            if not items and not self.stopping:
                self.wake.wait()
            self.busy = True
            if self.batch_delay > 0 and not self.stopping:
                time.sleep(self.batch_delay)

    def stop(self, wait_ms: int) -> None:
        """Let the worker drain the queue (for at most ``wait_ms``, ``-1`` without limit), drop
        what is left, and join the worker."""
        self.stopping = True
        self.wake.set()
        self.thread.join(None if wait_ms < 0 else wait_ms / 1000)
        if self.thread.is_alive():
            self.discard = True
            self.thread.join()  # the entry in progress finishes, then the worker returns
            left = len(self.items)
            self.items.clear()
            with self.drop_lock:
                self.dropped += left
            _log.warning("%s: shutdown wait of %d ms expired, discarded %d entries", self.name, wait_ms, left)


class AsyncDataLoggerResource(DataLoggerResource):
    """A data logger that logs on worker threads of its own; subclass it and implement
    :meth:`process_data_entry` (and :meth:`process_large_data_entry` to log tensor values).

    Parameters
    ----------
    max_queue_size : int
        Capacity of the main queue (default 50,000).
    queue_policy : AsyncQueuePolicy or {"reject", "raise"}
        What a full main queue does (default ``REJECT``).
    large_data_max_queue_size : int
        Capacity of the large data queue (default 1,000).
    large_data_queue_policy : AsyncQueuePolicy or str
        What a full large data queue does (default ``REJECT``); a rejected entry goes to the
        main queue, which logs its summary.
    enable_large_data_queue : bool
        Use the second queue and worker for tensors whose values are logged (default ``True``).
    shutdown_wait_period_ms : int
        How long the end of a run waits for the queues to drain: ``-1`` (default) without limit,
        ``0`` not at all. ``HOLOSCAN_ASYNC_LOGGER_SHUTDOWN_WAIT_MS`` overrides it.
    worker_sleep_time, large_data_worker_sleep_time : int
        ns a woken worker waits before draining its queue, so entries are logged in batches
        (default 50,000; at most 0.1 s). Idle workers sleep until an entry arrives.
    queue_type : DataLoggerQueueType or str
        Accepted for Holoscan compatibility (see :class:`DataLoggerQueueType`).

    Plus the parameters of :class:`DataLoggerResource`.

    Raises
    ------
    holoflow.errors.ConfigError
        From :meth:`initialize`, for a queue size below 1 or an unknown policy.
    """

    _default_name = "async_data_logger"

    def setup(self, spec: Any) -> None:
        super().setup(spec)
        spec.param("max_queue_size", 50_000)
        spec.param("worker_sleep_time", 50_000)
        spec.param("queue_policy", AsyncQueuePolicy.REJECT)
        spec.param("large_data_max_queue_size", 1_000)
        spec.param("large_data_worker_sleep_time", 50_000)
        spec.param("large_data_queue_policy", AsyncQueuePolicy.REJECT)
        spec.param("enable_large_data_queue", True)
        spec.param("shutdown_wait_period_ms", -1)
        spec.param("queue_type", DataLoggerQueueType.LOCK_FREE)

    # -- subclass hooks ------------------------------------------------------------------------
    def process_data_entry(self, entry: DataEntry) -> bool:
        """Log one entry of the main queue (on its worker thread); return whether it was logged."""
        raise NotImplementedError(f"{type(self).__name__} must implement process_data_entry()")

    def process_large_data_entry(self, entry: DataEntry) -> bool:
        """Log one entry of the large data queue. Default: :meth:`process_data_entry`."""
        return self.process_data_entry(entry)

    # -- lifecycle -----------------------------------------------------------------------------
    def initialize(self) -> None:
        """Compile the patterns and start the worker threads (a no-op while they run)."""
        super().initialize()
        if getattr(self, "_lanes", None):
            return
        where = self._label()
        data = _Lane(
            where,
            f"{self.name} data",
            _size(where, "max_queue_size", self.max_queue_size),  # type: ignore[attr-defined]
            _policy(where, "queue_policy", self.queue_policy),  # type: ignore[attr-defined]
            self.process_data_entry,
            _delay(where, "worker_sleep_time", self.worker_sleep_time),  # type: ignore[attr-defined]
        )
        large = None
        if self.enable_large_data_queue:  # type: ignore[attr-defined]
            large = _Lane(
                where,
                f"{self.name} large data",
                _size(where, "large_data_max_queue_size", self.large_data_max_queue_size),  # type: ignore[attr-defined]
                _policy(where, "large_data_queue_policy", self.large_data_queue_policy),  # type: ignore[attr-defined]
                self.process_large_data_entry,
                _delay(where, "large_data_worker_sleep_time", self.large_data_worker_sleep_time),  # type: ignore[attr-defined]
            )
        self._data_lane, self._large_lane = data, large
        self._lanes = [lane for lane in (data, large) if lane is not None]
        for lane in self._lanes:
            lane.thread.start()

    def shutdown(self) -> None:
        """Drain the queues (see ``shutdown_wait_period_ms``) and join the worker threads."""
        lanes = getattr(self, "_lanes", None)
        if not lanes:
            return
        wait_ms = int(self.shutdown_wait_period_ms)  # type: ignore[attr-defined]
        override = os.environ.get("HOLOSCAN_ASYNC_LOGGER_SHUTDOWN_WAIT_MS", "")
        if override.strip():
            try:
                wait_ms = int(override)
            except ValueError:
                _log.warning("invalid HOLOSCAN_ASYNC_LOGGER_SHUTDOWN_WAIT_MS %r, ignored", override)
        for lane in lanes:
            lane.stop(wait_ms)
        self._lanes = []

    def statistics(self) -> AsyncLoggerStatistics:
        """The counts of the current (or last) run's queues."""
        data = getattr(self, "_data_lane", None)
        large = getattr(self, "_large_lane", None)
        return AsyncLoggerStatistics(
            data.enqueued if data else 0,
            data.processed if data else 0,
            data.dropped if data else 0,
            large.enqueued if large else 0,
            large.processed if large else 0,
            large.dropped if large else 0,
            bool(getattr(self, "_lanes", None)),
        )

    # -- DataLogger ----------------------------------------------------------------------------
    def log_data(
        self,
        data: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Enqueue a message on the main queue; ``False`` if it was dropped.

        Raises
        ------
        holoflow.errors.ResourceError
            If the queue is full and its policy is ``RAISE``.
        """
        entry = self._entry(data, unique_id, acquisition_timestamp, metadata, io_type, stream)
        return True if entry is None else self._offer(entry, large=False)

    def log_tensor_data(
        self,
        tensor: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Enqueue a tensor message: on the large data queue when its values are logged."""
        entry = self._entry(tensor, unique_id, acquisition_timestamp, metadata, io_type, stream)
        return True if entry is None else self._offer(entry, large=self.should_log_tensor_data_content())

    def log_tensormap_data(
        self,
        tensor_map: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Enqueue a TensorMap message, as :meth:`log_tensor_data`."""
        return self.log_tensor_data(tensor_map, unique_id, acquisition_timestamp, metadata, io_type, stream)

    def _entry(
        self,
        data: Any,
        unique_id: str,
        acquisition_timestamp: int,
        metadata: Mapping[str, Any] | None,
        io_type: IOSpec.IOType,
        stream: int | None,
    ) -> DataEntry | None:
        """The entry to queue, or ``None`` when the settings or patterns leave it out."""
        if not (self.should_log_output() if io_type is _OUTPUT else self.should_log_input()):
            return None
        if not self.should_log_message(unique_id):
            return None
        # The operator keeps changing its metadata after this call: keep a copy.
        kept = dict(metadata) if metadata is not None and self.log_metadata else None  # type: ignore[attr-defined]
        return DataEntry(data, unique_id, acquisition_timestamp, self.get_timestamp(), io_type, kept, stream)

    def _offer(self, entry: DataEntry, large: bool) -> bool:
        if not getattr(self, "_lanes", None):
            _log.warning("%s: worker threads not running, dropping %s", self._label(), entry.unique_id)
            return False
        lane = self._large_lane
        if large and lane is not None and lane.offer(entry):
            return True
        return self._data_lane.offer(entry)


def _size(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: {name} must be a positive int, got {value!r}")
    return value


def _delay(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {name} must be an int of ns >= 0, got {value!r}")
    return min(value, 100_000_000) / 1e9


def _policy(where: str, name: str, value: Any) -> AsyncQueuePolicy:
    if isinstance(value, AsyncQueuePolicy):
        return value
    if isinstance(value, str) and value.strip().upper() in AsyncQueuePolicy.__members__:
        return AsyncQueuePolicy[value.strip().upper()]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return AsyncQueuePolicy(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: {name} must be 'reject' or 'raise' (an AsyncQueuePolicy), got {value!r}")
