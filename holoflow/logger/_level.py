"""``LogLevel``, Holoscan's seven log levels, and how they map onto Python ``logging`` levels."""

from __future__ import annotations

import enum
import logging

__all__ = ["LogLevel", "level_from_name", "level_from_python", "spdlog_name"]

TRACE = 5
"""The Python level that ``LogLevel.TRACE`` maps to (below ``logging.DEBUG``)."""
OFF = logging.CRITICAL + 10
"""The Python level that ``LogLevel.OFF`` maps to: above every level a record can have."""


class LogLevel(enum.Enum):
    """Holoscan's log levels, with Holoscan's values (``int(LogLevel.WARN) == 3``).

    ``python_level`` is the ``logging`` level each one sets on the ``holoflow`` logger.
    """

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    CRITICAL = 5
    OFF = 6

    def __int__(self) -> int:
        return int(self.value)

    @property
    def python_level(self) -> int:
        """The ``logging`` level: TRACE 5, DEBUG 10, INFO 20, WARN 30, ERROR 40, CRITICAL 50,
        OFF 60."""
        return _PYTHON_LEVELS[self.value]


_PYTHON_LEVELS = (TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, OFF)
_SPDLOG_NAMES = ("trace", "debug", "info", "warning", "error", "critical", "off")


def level_from_python(level: int) -> LogLevel:
    """The lowest ``LogLevel`` whose Python level is at least ``level`` (``logging.NOTSET`` and
    anything up to 5 is TRACE, 25 is WARN, anything above CRITICAL is OFF)."""
    for member in LogLevel:
        if level <= member.python_level:
            return member
    return LogLevel.OFF


def level_from_name(name: str) -> LogLevel | None:
    """The level named ``name`` (any case, surrounding blanks ignored), else ``None``."""
    return LogLevel.__members__.get(name.strip().upper())


def spdlog_name(level: int) -> str:
    """The name spdlog prints for the Python level ``level`` (``%l``): ``info``, ``warning``..."""
    return _SPDLOG_NAMES[level_from_python(level).value]
