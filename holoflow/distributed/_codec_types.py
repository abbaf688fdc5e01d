"""The codec's registry of user types: a class, the name it travels under, and its two functions.

A registered type travels as its name plus the value its encoder returns (made of what the codec
carries natively); the receiving process looks the name up in its own registry (the same program
registers the same types) and calls the decoder. A name is never imported: an unknown name is an
error.

holoflow's own message types (``holoflow.viz.InputSpec`` and ``holoflow.viz.View``, Holoscan's
``HolovizOp.InputSpec`` and its ``View``) are registered on first use, from a closed table, so
importing the codec imports no operator or visualization module.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from holoflow.errors import CodecError

__all__ = ["CodecEntry", "by_name", "by_type", "register_codec"]

MAX_NAME_BYTES = 255


class CodecEntry(NamedTuple):
    """One registered type: ``encode(obj)`` returns a natively encodable value and
    ``decode(value)`` rebuilds the object from it."""

    cls: type
    name: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


_BY_TYPE: dict[type, CodecEntry] = {}
_BY_NAME: dict[str, CodecEntry] = {}
_LOCK = threading.Lock()
_builtins_loaded = False

# Types the codec carries itself; registering one of them would never be consulted.
_NATIVE: tuple[type, ...] = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict)


def register_codec(cls: type, name: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> None:
    """Let instances of exactly ``cls`` travel between fragments under ``name``.

    ``encode(obj)`` must return a value the codec carries natively (None, bool, int, float,
    complex, str, bytes, arrays, Tensors, lists, tuples, dicts, other registered types) and
    ``decode(value)`` must rebuild the object from it. Subclasses of ``cls`` are not covered:
    register each class that travels. Registering the same class under the same name again
    replaces its functions.

    Raises
    ------
    holoflow.errors.CodecError
        If ``cls`` is not a class or is carried natively, ``name`` is empty or longer than 255
        UTF-8 bytes, a function is not callable, or ``name`` (or ``cls``) is registered already
        for another class (name).
    """
    if not isinstance(cls, type):
        raise CodecError(f"register_codec: cls must be a class, got {cls!r}")
    if cls in _NATIVE or issubclass(cls, BaseException):
        raise CodecError(f"register_codec: {cls.__qualname__} cannot be registered (the codec owns it)")
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise CodecError(f"register_codec: name must be a non-empty str of at most 255 bytes, got {name!r}")
    if not callable(encode) or not callable(decode):
        raise CodecError(f"register_codec: encode and decode for {name!r} must be callable")
    _load_builtins()
    with _LOCK:
        _register(CodecEntry(cls, name, encode, decode))


def _register(entry: CodecEntry) -> None:
    held = _BY_NAME.get(entry.name)
    if held is not None and held.cls is not entry.cls:
        raise CodecError(
            f"register_codec: name {entry.name!r} is registered already for {held.cls.__qualname__}"
        )
    current = _BY_TYPE.get(entry.cls)
    if current is not None and current.name != entry.name:
        raise CodecError(
            f"register_codec: {entry.cls.__qualname__} is registered already as {current.name!r}"
        )
    _BY_TYPE[entry.cls] = entry
    _BY_NAME[entry.name] = entry


def by_type(cls: type) -> CodecEntry | None:
    """The entry registered for exactly ``cls``, or None."""
    entry = _BY_TYPE.get(cls)
    if entry is None and not _builtins_loaded and str(getattr(cls, "__module__", "")).startswith("holoflow."):
        _load_builtins()
        entry = _BY_TYPE.get(cls)
    return entry


def by_name(name: str) -> CodecEntry | None:
    """The entry registered under ``name``, or None."""
    entry = _BY_NAME.get(name)
    if entry is None and not _builtins_loaded and name in _BUILTIN_NAMES:
        _load_builtins()
        entry = _BY_NAME.get(name)
    return entry


# -- holoflow's own types ---------------------------------------------------------------------------
def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a dict of its fields (values as they are, not recursed)."""
    return {field.name: getattr(obj, field.name) for field in dataclasses.fields(obj)}


def _from_fields(cls: type) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            raise TypeError(f"{cls.__qualname__} travels as a dict of its fields, got {type(value).__name__}")
        return cls(**value)

    return decode


_BUILTIN_NAMES = frozenset({"holoflow.viz.InputSpec", "holoflow.viz.View"})


def _load_builtins() -> None:
    """Register holoflow's own message types (once; imports ``holoflow.viz``)."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    from holoflow.viz import InputSpec, View

    with _LOCK:
        if _builtins_loaded:
            return
        for cls, name in ((View, "holoflow.viz.View"), (InputSpec, "holoflow.viz.InputSpec")):
            _register(CodecEntry(cls, name, _fields, _from_fields(cls)))
        _builtins_loaded = True
