"""The log level and pattern of the ``holoflow`` logger, with Holoscan's environment overrides.

Importing this module sets the ``holoflow`` logger up once: a :class:`HoloflowStderrHandler`
that formats by the current pattern, and the level from the environment, else INFO (unless the
logger had a level already).
"""

from __future__ import annotations

import logging

from holoflow import _env
from holoflow.logger._handler import HoloflowStderrHandler
from holoflow.logger._level import LogLevel, level_from_name, level_from_python
from holoflow.logger._pattern import DEFAULT_PATTERN, FULL_PATTERN, PatternFormatter, resolve_pattern

__all__ = ["get_logger", "log_level", "set_log_level", "set_log_pattern"]

ROOT = "holoflow"

_user_pattern: str | None = None
"""The pattern given to ``set_log_pattern`` (resolved), ``None`` until one is given."""
_env_pattern: str | None = None
"""``HOLOFLOW_LOG_FORMAT`` / ``HOLOSCAN_LOG_FORMAT`` (resolved), as read by the last
``set_log_pattern`` call or at import."""
_formatters: dict[str, PatternFormatter] = {}
_reported: set[tuple[str, str]] = set()


def get_logger(name: str = ROOT) -> logging.Logger:
    """The logger ``name``: ``"holoflow"`` or a logger below it (``"holoflow.operators"``...).

    Holoflow's modules log through these loggers, so :func:`set_log_level` and
    :func:`set_log_pattern` govern their lines.

    Raises
    ------
    ValueError
        If ``name`` is not ``"holoflow"`` or a name below it.
    """
    if name != ROOT and not name.startswith(ROOT + "."):
        raise ValueError(f"get_logger: {name!r} is not in the holoflow logger hierarchy ('holoflow.*')")
    return logging.getLogger(name)


def set_log_level(level: LogLevel) -> None:
    """Set the level of the ``holoflow`` logger (and so of every logger below it).

    As in Holoscan, ``HOLOFLOW_LOG_LEVEL`` or ``HOLOSCAN_LOG_LEVEL`` (read at each call; the
    first wins when both are set) overrides ``level``; an unrecognised value is reported once and
    ignored.

    Raises
    ------
    TypeError
        If ``level`` is not a :class:`LogLevel`.
    """
    if not isinstance(level, LogLevel):
        raise TypeError(
            f"set_log_level takes a holoflow.logger.LogLevel ({', '.join(LogLevel.__members__)}), "
            f"not {level!r}"
        )
    chosen = _environment_level() or level
    get_logger().setLevel(chosen.python_level)


def log_level() -> LogLevel:
    """The effective level of the ``holoflow`` logger, as a :class:`LogLevel` (a Python level
    between two of Holoscan's reads as the higher one)."""
    return level_from_python(get_logger().getEffectiveLevel())


def set_log_pattern(pattern: str) -> None:
    """Set the pattern of holoflow's log lines: an spdlog pattern, or SHORT, DEFAULT, LONG or
    FULL (see :class:`PatternFormatter` for the flags).

    An empty pattern keeps the pattern set before, if any, else the default: DEFAULT (``[%l]
    [%s:%#] %v``), or FULL while the level is DEBUG or TRACE. As in Holoscan,
    ``HOLOFLOW_LOG_FORMAT`` or ``HOLOSCAN_LOG_FORMAT`` (read at each call) overrides the pattern.
    The pattern shapes the lines holoflow prints itself, while the application has not set up
    ``logging``; an application's own handlers format with their own formatters.

    Raises
    ------
    TypeError
        If ``pattern`` is not a str.
    """
    global _user_pattern
    if not isinstance(pattern, str):
        raise TypeError(f"set_log_pattern takes a str, not {type(pattern).__name__}")
    if pattern:
        _user_pattern = resolve_pattern(pattern)
    _read_environment_pattern()


def current_formatter() -> PatternFormatter:
    """The formatter for the pattern in force now."""
    pattern = _env_pattern or _user_pattern
    if pattern is None:
        pattern = FULL_PATTERN if int(log_level()) <= int(LogLevel.DEBUG) else DEFAULT_PATTERN
    formatter = _formatters.get(pattern)
    if formatter is None:
        formatter = _formatters[pattern] = PatternFormatter(pattern)
    return formatter


def _environment_level() -> LogLevel | None:
    setting = _env.log_level_setting()
    if setting is None:
        return None
    variable, value = setting
    level = level_from_name(value)
    if level is None and setting not in _reported:
        _reported.add(setting)
        get_logger().warning(
            "%s=%r is not a log level (%s); it is ignored", variable, value, ", ".join(LogLevel.__members__)
        )
    return level


def _read_environment_pattern() -> None:
    global _env_pattern
    value = _env.log_format()
    _env_pattern = None if value is None else resolve_pattern(value)


def _install() -> None:
    logger = get_logger()
    if not any(isinstance(handler, HoloflowStderrHandler) for handler in logger.handlers):
        logger.addHandler(HoloflowStderrHandler(current_formatter))
    level = _environment_level()
    if level is not None:
        logger.setLevel(level.python_level)
    elif logger.level == logging.NOTSET:
        logger.setLevel(LogLevel.INFO.python_level)
    _read_environment_pattern()


_install()
