"""Holoscan's logger API over Python ``logging``: ``LogLevel``, ``set_log_level``,
``log_level`` and ``set_log_pattern``, as ``holoscan.logger`` has them.

holoflow logs through the ``holoflow`` logger and the loggers below it (:func:`get_logger`).
While the application has not set up ``logging`` itself, holoflow prints its lines to stderr in
Holoscan's format (``[warning] [_holoviz.py:277] ...``), from INFO up; once the application has
handlers of its own (``logging.basicConfig``, a framework, pytest), holoflow's records go to
them instead, formatted by them.

Precedence, highest first: ``HOLOFLOW_LOG_LEVEL``, ``HOLOSCAN_LOG_LEVEL``, ``set_log_level``, the
default INFO (likewise ``HOLOFLOW_LOG_FORMAT``, ``HOLOSCAN_LOG_FORMAT``, ``set_log_pattern``, the
default pattern). The variables are read when this module is first imported and at every
``set_log_level`` / ``set_log_pattern`` call. ``docs/logging.md`` has the details.
"""

from holoflow.logger._level import LogLevel
from holoflow.logger._settings import get_logger, log_level, set_log_level, set_log_pattern

__all__ = ["LogLevel", "get_logger", "log_level", "set_log_level", "set_log_pattern"]
