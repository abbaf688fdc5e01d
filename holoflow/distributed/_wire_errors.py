"""An exception as a plain dict for the wire, and back.

``error_to_wire(exc)`` gives a dict of str, list and scalars (JSON- and codec-safe):
``{"type", "message", "args", "notes", "traceback"}``. ``error_from_wire(data)`` rebuilds the
exception when its type is in a closed table, the built-in exceptions (``Exception``
subclasses only: a remote ``KeyboardInterrupt`` or ``SystemExit`` must not act here) and the
classes of ``holoflow.errors``; anything else, or a type whose constructor refuses the arguments,
becomes :class:`~holoflow.errors.RemoteError` with ``remote_type`` and ``remote_traceback``.
No name from the wire is ever imported or evaluated.
"""

from __future__ import annotations

import builtins
import math
import sys
import traceback
from collections.abc import Mapping
from typing import Any

from holoflow import errors
from holoflow.errors import CodecError, RemoteError

__all__ = ["error_from_wire", "error_to_wire"]

MAX_TEXT = 64 * 1024
"""Longest message, note or traceback kept (characters); the control channel is small."""
MAX_ITEMS = 64
"""Most arguments or notes kept."""

_REBUILDABLE: dict[str, type[BaseException]] = {
    **{
        f"builtins.{name}": value
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, Exception) and name != "ExceptionGroup"
    },
    **{
        f"holoflow.errors.{name}": value
        for name in errors.__all__
        if isinstance(value := getattr(errors, name), type) and issubclass(value, Exception)
    },
}
_SCALARS = (str, int, float, bool, type(None))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 15] + "... (truncated)"


def _plain(arg: Any) -> bool:
    """Whether ``arg`` travels as an argument: a short str, an int, a finite float, a bool or None
    (strict JSON has no NaN)."""
    kind = type(arg)
    if kind is str:
        return len(arg) <= MAX_TEXT
    if kind is float:
        return math.isfinite(arg)
    return kind in _SCALARS


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__qualname__} whose str() failed>"


def error_to_wire(exc: BaseException) -> dict[str, Any]:
    """``exc`` as a plain dict: its type's qualified name, ``str(exc)``, its arguments when all
    are str, int, float, bool or None (else none), its notes and its formatted traceback."""
    args = list(exc.args)
    if isinstance(exc, RemoteError):  # relayed: keep the first sender's type and traceback
        args = [_clip(str(exc)), _clip(exc.remote_type), _clip(exc.remote_traceback)]
    elif isinstance(exc, OSError) and exc.filename is not None and len(args) == 2:
        args += [exc.filename] if exc.filename2 is None else [exc.filename, None, exc.filename2]
    plain = len(args) <= MAX_ITEMS and all(_plain(arg) for arg in args)
    notes = getattr(exc, "__notes__", None)
    return {
        "type": _qualified(type(exc)),
        "message": _clip(_safe_str(exc)),
        "args": args if plain else None,
        "notes": [_clip(_safe_str(note)) for note in notes[:MAX_ITEMS]] if isinstance(notes, list) else [],
        "traceback": _clip("".join(traceback.format_exception(exc))),
    }


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise CodecError(f"a wire error's {key!r} must be a str, got {type(value).__name__}")
    return _clip(value)


def error_from_wire(data: Any) -> BaseException:
    """The exception a dict from :func:`error_to_wire` describes (not raised).

    A rebuilt exception carries the sender's notes, then a note with the remote traceback;
    a :class:`RemoteError` says the remote type and message (``"mod.Error: text"``).

    Raises
    ------
    holoflow.errors.CodecError
        If ``data`` is not such a dict (wrong or missing fields, over-long lists).
    """
    if not isinstance(data, Mapping):
        raise CodecError(f"a wire error must be a dict, got {type(data).__name__}")
    remote_type = _text(data, "type")
    message = _text(data, "message")
    remote_traceback = _text(data, "traceback")
    if not remote_type:
        raise CodecError("a wire error has no type")
    args = data.get("args")
    if args is not None and (
        not isinstance(args, list) or len(args) > MAX_ITEMS or not all(type(a) in _SCALARS for a in args)
    ):
        raise CodecError("a wire error's 'args' must be a short list of str, int, float, bool or None")
    notes = data.get("notes", [])
    if not isinstance(notes, list) or len(notes) > MAX_ITEMS or not all(isinstance(n, str) for n in notes):
        raise CodecError("a wire error's 'notes' must be a short list of str")
    exc = _rebuild(remote_type, message, args, remote_traceback)
    for note in notes:
        _add_note(exc, _clip(note))
    if remote_traceback and not isinstance(exc, RemoteError):
        _add_note(exc, f"remote traceback:\n{remote_traceback.rstrip()}")
    return exc


def _construct(cls: type[BaseException], args: list[Any] | None, message: str) -> BaseException | None:
    try:
        return cls(*args) if args is not None else cls(message)
    except Exception:
        return None


def _add_note(exc: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]


def _rebuild(remote_type: str, message: str, args: list[Any] | None, remote_traceback: str) -> BaseException:
    cls = _REBUILDABLE.get(remote_type)
    if cls is not None:
        exc = _construct(cls, args, message)
        if exc is not None and str(exc) != message:  # the arguments do not make the text
            exc = _construct(cls, None, message)
        if isinstance(exc, cls):
            if isinstance(exc, RemoteError) and not exc.remote_traceback:
                exc.remote_traceback = remote_traceback
            return exc
    short = remote_type.removeprefix("builtins.")
    return RemoteError(f"{short}: {message}" if message else short, remote_type, remote_traceback)
