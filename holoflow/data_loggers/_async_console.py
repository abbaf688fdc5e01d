"""``AsyncConsoleLogger``: the console logger whose lines are written by worker threads."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from holoflow.core import AsyncDataLoggerResource, AsyncQueuePolicy, DataLoggerQueueType
from holoflow.data_loggers._console import format_line, log, serializer_of

if TYPE_CHECKING:
    from holoflow.core import Clock, DataEntry, Fragment, Subgraph
    from holoflow.data_loggers._serializer import SimpleTextSerializer

__all__ = ["AsyncConsoleLogger"]


class AsyncConsoleLogger(AsyncDataLoggerResource):
    """Logs every message like :class:`BasicConsoleLogger`, but ``emit`` / ``receive`` only
    enqueue it: the lines are written by the logger's worker threads, started when a run starts
    and joined when it ends. Lines start with ``AsyncConsoleLogger[...]``; with
    ``log_tensor_data_content`` a tensor message's line, values included, is written by the
    large data worker and says ``[Category:Content]`` (the two workers' lines may interleave).

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    serializer : SimpleTextSerializer, optional
        How messages become text; a default one is made when omitted.
    log_inputs, log_outputs, log_metadata, log_tensor_data_content, use_scheduler_clock, clock,
    allowlist_patterns, denylist_patterns
        As :class:`~holoflow.core.DataLoggerResource`.
    max_queue_size, worker_sleep_time, queue_policy, large_data_max_queue_size,
    large_data_worker_sleep_time, large_data_queue_policy, enable_large_data_queue,
    shutdown_wait_period_ms, queue_type
        As :class:`~holoflow.core.AsyncDataLoggerResource`.
    name : str
        The logger's name.
    """

    _default_name = "async_console_logger"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        serializer: SimpleTextSerializer | None = None,
        log_inputs: bool = True,
        log_outputs: bool = True,
        log_metadata: bool = True,
        log_tensor_data_content: bool = True,
        use_scheduler_clock: bool = False,
        clock: Clock | None = None,
        allowlist_patterns: list[str] | None = None,
        denylist_patterns: list[str] | None = None,
        max_queue_size: int = 50_000,
        worker_sleep_time: int = 50_000,
        queue_policy: AsyncQueuePolicy | str = AsyncQueuePolicy.REJECT,
        large_data_max_queue_size: int = 1_000,
        large_data_worker_sleep_time: int = 50_000,
        large_data_queue_policy: AsyncQueuePolicy | str = AsyncQueuePolicy.REJECT,
        enable_large_data_queue: bool = True,
        shutdown_wait_period_ms: int = -1,
        queue_type: DataLoggerQueueType | str = DataLoggerQueueType.LOCK_FREE,
        name: str = "async_console_logger",
    ) -> None:
        super().__init__(
            fragment,
            serializer=serializer,
            log_inputs=log_inputs,
            log_outputs=log_outputs,
            log_metadata=log_metadata,
            log_tensor_data_content=log_tensor_data_content,
            use_scheduler_clock=use_scheduler_clock,
            clock=clock,
            allowlist_patterns=list(allowlist_patterns or ()),
            denylist_patterns=list(denylist_patterns or ()),
            max_queue_size=max_queue_size,
            worker_sleep_time=worker_sleep_time,
            queue_policy=queue_policy,
            large_data_max_queue_size=large_data_max_queue_size,
            large_data_worker_sleep_time=large_data_worker_sleep_time,
            large_data_queue_policy=large_data_queue_policy,
            enable_large_data_queue=enable_large_data_queue,
            shutdown_wait_period_ms=shutdown_wait_period_ms,
            queue_type=queue_type,
            name=name,
        )

    def setup(self, spec: Any) -> None:
        spec.param("serializer", None)
        super().setup(spec)

    def initialize(self) -> None:
        self._serializer = serializer_of(self)  # before the workers start
        super().initialize()

    def process_data_entry(self, entry: DataEntry) -> bool:
        """Write the entry's summary line (tensor values left out)."""
        if log.isEnabledFor(logging.INFO):
            log.info("%s", self._line(entry, False, None))
        return True

    def process_large_data_entry(self, entry: DataEntry) -> bool:
        """Write the entry's line with its tensor values (``[Category:Content]``)."""
        if log.isEnabledFor(logging.INFO):
            log.info("%s", self._line(entry, True, "Content"))
        return True

    def _line(self, entry: DataEntry, content: bool, category: str | None) -> str:
        return format_line(
            "AsyncConsoleLogger",
            self._serializer,
            entry.data,
            entry.unique_id,
            entry.acquisition_timestamp,
            entry.emit_timestamp,
            entry.metadata,
            entry.io_type,
            entry.stream,
            content,
            category,
        )
