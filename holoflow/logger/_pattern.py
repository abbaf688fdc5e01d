"""Holoscan's log patterns (spdlog's ``%`` flags) as a ``logging.Formatter``.

Holoscan formats its log lines with spdlog patterns such as ``"[%^%l%$] [%s:%#] %v"``;
:class:`PatternFormatter` renders a Python ``LogRecord`` from the same pattern. The four names
Holoscan accepts in place of a pattern (``SHORT``, ``DEFAULT``, ``LONG``, ``FULL``, any case)
resolve to Holoscan's patterns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from holoflow.logger._level import spdlog_name

__all__ = ["DEFAULT_PATTERN", "FULL_PATTERN", "PatternFormatter", "resolve_pattern"]

DEFAULT_PATTERN = "[%^%l%$] [%s:%#] %v"
FULL_PATTERN = "[%Y-%m-%d %H:%M:%S.%e] [%t] [%n] [%^%l%$] [%s:%#] %v"
_NAMED = {
    "SHORT": "[%^%l%$] %v",
    "DEFAULT": DEFAULT_PATTERN,
    "LONG": "[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] [%s:%#] %v",
    "FULL": FULL_PATTERN,
}


def resolve_pattern(pattern: str) -> str:
    """``pattern`` itself, or Holoscan's pattern for the names SHORT, DEFAULT, LONG and FULL."""
    return _NAMED.get(pattern.upper(), pattern)


class _Moment:
    """What the flags of one record read: the record, its local time, and the gap since the
    record before it (for the elapsed-time flags)."""

    __slots__ = ("elapsed_ns", "local", "ns", "record")

    def __init__(self, record: logging.LogRecord, created_ns: int, elapsed_ns: int) -> None:
        self.record = record
        self.local = time.localtime(record.created)
        self.ns = created_ns % 1_000_000_000
        self.elapsed_ns = elapsed_ns


_Field = Callable[[_Moment], str]


def _strftime(fmt: str) -> _Field:
    return lambda m: time.strftime(fmt, m.local)


def _thread(m: _Moment) -> str:
    # spdlog prints the OS thread id; a record formatted on the thread that made it can have it.
    record = m.record
    if record.thread == threading.get_ident():
        return str(threading.get_native_id())
    return str(record.thread)


def _utc_offset(m: _Moment) -> str:
    offset = time.strftime("%z", m.local)
    return f"{offset[:3]}:{offset[3:]}" if len(offset) == 5 else offset


def _location(m: _Moment) -> str:
    return f"{m.record.filename}:{m.record.lineno}"


_FIELDS: dict[str, _Field] = {
    "v": lambda m: m.record.getMessage(),
    "t": _thread,
    "P": lambda m: str(m.record.process),
    "n": lambda m: m.record.name,
    "l": lambda m: spdlog_name(m.record.levelno),
    "L": lambda m: spdlog_name(m.record.levelno)[0].upper(),
    "a": _strftime("%a"),
    "A": _strftime("%A"),
    "b": _strftime("%b"),
    "h": _strftime("%b"),
    "B": _strftime("%B"),
    "c": _strftime("%a %b %d %H:%M:%S %Y"),
    "C": _strftime("%y"),
    "Y": _strftime("%Y"),
    "D": _strftime("%m/%d/%y"),
    "x": _strftime("%m/%d/%y"),
    "m": _strftime("%m"),
    "d": _strftime("%d"),
    "H": _strftime("%H"),
    "I": _strftime("%I"),
    "M": _strftime("%M"),
    "S": _strftime("%S"),
    "e": lambda m: f"{m.ns // 1_000_000:03d}",
    "f": lambda m: f"{m.ns // 1_000:06d}",
    "F": lambda m: f"{m.ns:09d}",
    "p": _strftime("%p"),
    "r": _strftime("%I:%M:%S %p"),
    "R": _strftime("%H:%M"),
    "T": _strftime("%H:%M:%S"),
    "X": _strftime("%H:%M:%S"),
    "z": _utc_offset,
    "E": lambda m: str(int(m.record.created)),
    "@": _location,
    "s": lambda m: m.record.filename,
    "g": lambda m: m.record.pathname,
    "#": lambda m: str(m.record.lineno),
    "!": lambda m: m.record.funcName or "",
    "o": lambda m: str(m.elapsed_ns // 1_000_000),
    "i": lambda m: str(m.elapsed_ns // 1_000),
    "u": lambda m: str(m.elapsed_ns),
    "O": lambda m: str(m.elapsed_ns // 1_000_000_000),
}
_COLOR_FLAGS = frozenset("^$")
"""spdlog's colour range marks; a Python stream handler writes no colours, so they render empty."""


def _aligned(field: _Field, align: str, width: int, truncate: bool) -> _Field:
    def render(m: _Moment) -> str:
        text = field(m)
        if truncate and len(text) > width:
            return text[:width]
        if align == "-":
            return text.ljust(width)
        if align == "=":
            return text.center(width)
        return text.rjust(width)

    return render


def _compile(pattern: str) -> list[_Field]:
    """The pattern as a list of fields, one per literal run or flag."""
    parts: list[_Field] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal)
            parts.append(lambda _m: text)
            literal.clear()

    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char != "%" or i + 1 == n:
            literal.append(char)
            i += 1
            continue
        # %[-|=][width][!]flag
        j = i + 1
        align = pattern[j] if pattern[j] in "-=" else ""
        j += len(align)
        digits = j
        while j < n and pattern[j].isdigit():
            j += 1
        width = int(pattern[digits:j]) if j > digits else 0
        truncate = width > 0 and j < n and pattern[j] == "!" and j + 1 < n
        j += truncate
        if j == n:
            literal.append(pattern[i:])
            break
        flag = pattern[j]
        if flag == "%":
            literal.append("%")
        elif flag == "+":
            flush()
            parts.extend(_compile("[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] [%s:%#] %v"))
        elif flag in _COLOR_FLAGS:
            pass
        elif flag in _FIELDS:
            flush()
            field = _FIELDS[flag]
            parts.append(_aligned(field, align, width, truncate) if width else field)
        else:
            literal.append(pattern[i : j + 1])
        i = j + 1
    flush()
    return parts


class PatternFormatter(logging.Formatter):
    """Formats records by a Holoscan (spdlog) log pattern.

    Supported flags: ``%v`` message, ``%l`` / ``%L`` level (``info`` / ``I``), ``%n`` logger name,
    ``%t`` thread id, ``%P`` process id, ``%s`` / ``%g`` / ``%#`` / ``%!`` / ``%@`` source file
    (base name / path), line, function and ``file:line``, the date and time flags ``%Y %C %m %d
    %H %I %M %S %e %f %F %p %a %A %b %h %B %c %D %x %r %R %T %X %z %E``, the elapsed-time flags
    ``%o %i %u %O`` (since the previous record this formatter formatted), ``%+`` (spdlog's full
    format), ``%%``, and padding: ``%8l`` (right), ``%-8l`` (left), ``%=8l`` (centre), ``%3!l``
    (truncate). The colour marks ``%^`` / ``%$`` render nothing; any other flag is kept as
    written. An exception attached to the record follows the line, as with ``logging``.
    """

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = resolve_pattern(pattern)
        self._parts = _compile(self.pattern)
        self._last_ns: int | None = None

    def format(self, record: logging.LogRecord) -> str:
        created_ns = round(record.created * 1e9)
        elapsed = 0 if self._last_ns is None else max(created_ns - self._last_ns, 0)
        self._last_ns = created_ns
        moment = _Moment(record, created_ns, elapsed)
        line = "".join(part(moment) for part in self._parts)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line
