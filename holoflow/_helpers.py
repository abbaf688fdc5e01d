"""Leaf utilities shared across holoflow; this module imports nothing else from holoflow."""

from __future__ import annotations

import datetime
import re
import sys
import threading
import warnings
from pathlib import Path

__all__ = ["parse_period_ns", "parse_size_bytes", "stacklevel_outside_holoflow", "warn_once"]

_UNIT_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_PERIOD_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ns|us|ms|s|Hz|hz|kHz|khz)\s*$")


def parse_period_ns(period: int | float | str | datetime.timedelta) -> int:
    """Convert a period to integer nanoseconds.

    Accepts an int (nanoseconds), a ``datetime.timedelta``, or a string with a unit:
    ``"250ns"``, ``"10us"``, ``"10ms"``, ``"1.5s"``, ``"30Hz"``, ``"1kHz"``.

    Raises
    ------
    ValueError
        If the period is not positive or the string cannot be parsed.
    TypeError
        If the value has another type.
    """
    if isinstance(period, datetime.timedelta):
        ns = (period.days * 86_400 + period.seconds) * 1_000_000_000 + period.microseconds * 1_000
    elif isinstance(period, bool):
        raise TypeError("a period cannot be a bool")
    elif isinstance(period, int):
        ns = period
    elif isinstance(period, str):
        match = _PERIOD_RE.match(period)
        if match is None:
            raise ValueError(
                f"cannot parse period {period!r}; use a number with ns, us, ms, s, Hz or kHz (e.g. '10ms')"
            )
        value, unit = float(match.group(1)), match.group(2).lower()
        if unit in ("hz", "khz"):
            if value <= 0:
                raise ValueError(f"frequency must be > 0, got {period!r}")
            ns = round(1e9 / (value * (1000 if unit == "khz" else 1)))
        else:
            ns = round(value * _UNIT_NS[unit])
    else:
        raise TypeError(
            f"period must be int nanoseconds, datetime.timedelta or a string like '10ms', "
            f"not {type(period).__name__}"
        )
    if ns <= 0:
        raise ValueError(f"period must be > 0, got {period!r}")
    return int(ns)


_SIZE_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]+)\s*$")


def parse_size_bytes(size: int | str) -> int:
    """Convert a memory size to bytes.

    Accepts an int (bytes) or a string of a non-negative number and a unit, B, KB, MB, GB or
    TB in powers of 1024, with or without a space: ``"256MB"``, ``"16 KB"``, ``"1.5 GB"``; a
    fraction of a byte is dropped, as Holoscan does.

    Raises
    ------
    ValueError
        If the string cannot be parsed or the size is negative.
    TypeError
        If the value is neither an int nor a str.
    """
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise TypeError(
            f"a memory size is an int of bytes or a string like '256MB', not {type(size).__name__}"
        )
    if isinstance(size, int):
        if size < 0:
            raise ValueError(f"a memory size cannot be negative, got {size}")
        return size
    match = _SIZE_RE.match(size)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(
            f"cannot parse memory size {size!r}; use a number with B, KB, MB, GB or TB (e.g. '256MB')"
        )
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(key: str, message: str, category: type[Warning]) -> None:
    """Warn ``message`` the first time ``key`` is seen in this process, pointing at the nearest
    line outside holoflow; later calls with that key do nothing."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, category, stacklevel=stacklevel_outside_holoflow())


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def stacklevel_outside_holoflow() -> int:
    """The ``stacklevel`` (for a ``warnings.warn`` made by this function's caller) of the nearest
    frame outside the holoflow package: the user's line that led to the warning."""
    level = 1
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level
