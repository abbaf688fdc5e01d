"""Data loggers, as ``holoscan.data_loggers`` has them: add one to a fragment with
``fragment.add_data_logger(logger)`` and it is called for every message the fragment's operators
emit and receive.

- :class:`BasicConsoleLogger` writes a line per message on the operator's thread;
  :class:`GXFConsoleLogger` is the same under Holoscan's GXF-variant name.
- :class:`AsyncConsoleLogger` only enqueues on the operator's thread (bounded queues, never
  waiting); worker threads started and joined with the run write the lines.
- :class:`SimpleTextSerializer` decides how messages look: tensors are summarised (shape, dtype,
  device) and their values written only when asked.

The base classes to write other loggers (``DataLogger``, ``DataLoggerResource``,
``AsyncDataLoggerResource``) are in :mod:`holoflow.core`. ``docs/observability.md`` has a guide.
"""

from holoflow.data_loggers import async_console_logger, basic_console_logger
from holoflow.data_loggers.async_console_logger import AsyncConsoleLogger
from holoflow.data_loggers.basic_console_logger import (
    BasicConsoleLogger,
    GXFConsoleLogger,
    SimpleTextSerializer,
)

__all__ = [
    "AsyncConsoleLogger",
    "BasicConsoleLogger",
    "GXFConsoleLogger",
    "SimpleTextSerializer",
    "async_console_logger",
    "basic_console_logger",
]
