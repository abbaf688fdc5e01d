"""Leaf utilities shared across holoflow; this module imports nothing else from holoflow."""

from __future__ import annotations

import datetime
import re

__all__ = ["parse_period_ns"]

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
