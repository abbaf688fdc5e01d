"""The handler that prints holoflow's log lines while the application has not set up logging."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

__all__ = ["HoloflowStderrHandler"]


class HoloflowStderrHandler(logging.Handler):
    """Writes each record to ``sys.stderr`` (looked up per record, so redirections apply) in the
    format ``formatter()`` gives at that moment, unless another handler receives the record.

    Another handler is any handler on the record's logger or its ancestors (up to where
    propagation stops) besides this one: an application that configures ``logging`` (e.g.
    ``logging.basicConfig``) gets holoflow's records through its own handlers, each once, and
    this handler stays silent.
    """

    def __init__(self, formatter: Callable[[], logging.Formatter]) -> None:
        super().__init__()
        self._formatter = formatter

    def emit(self, record: logging.LogRecord) -> None:
        if self._another_handler_receives(record):
            return
        stream = sys.stderr
        if stream is None:  # pythonw: no console
            return
        try:
            stream.write(self._formatter().format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)

    def _another_handler_receives(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return True
            logger = logger.parent if logger.propagate else None
        return False
