"""Control messages between the driver and its workers, and heartbeat bookkeeping.

A control message is one JSON object, at most :data:`MAX_CONTROL_BYTES`, with a ``kind`` and
the fields its schema names (nothing else): every message after ``ACCEPT`` carries ``run_id``.
Parsing is closed: duplicate keys, NaN or infinite numbers, integers beyond 64 bits, nesting
deeper than :data:`MAX_DEPTH`, an unknown kind, a missing, extra or mistyped field are all a
:class:`CodecError` naming the kind and the field; nothing else escapes.

:class:`Heartbeats` is the clock-driven part of liveness: which peers are due a heartbeat and
which have been silent too long, for the owner's poll loop to act on (it owns no thread).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from holoflow.errors import CodecError, ConfigError

__all__ = [
    "HEARTBEAT_INTERVAL_S",
    "HEARTBEAT_TIMEOUT_S",
    "KINDS",
    "MAX_CONTROL_BYTES",
    "MAX_DEPTH",
    "ControlMessage",
    "Heartbeats",
    "decode_control",
    "encode_control",
    "heartbeat_settings",
    "make_control",
]

MAX_CONTROL_BYTES = 1 << 20
MAX_DEPTH = 32
HEARTBEAT_INTERVAL_S = 0.5
HEARTBEAT_TIMEOUT_S = 1.5
_INT_LIMIT = 1 << 63


@dataclass(frozen=True)
class _Opt:
    """A field that may be absent (or null)."""

    spec: Any


# A spec is a type (str, int, bool, float, dict: any JSON object), a list ``[spec]`` (a JSON
# array of spec), a tuple of specs (an array of exactly those), a dict ``{field: spec}`` (an
# object with exactly those fields, _Opt ones optional) or ``("map", spec)`` (str keys -> spec).
_EDGE = {
    "edge_id": int,
    "src": (str, str, str),
    "dst": (str, str, str),
    "capacity": int,
    "policy": str,
    "window": int,
}
_LINK = {
    "link_id": str,
    "direction": str,
    "peer_endpoint": str,
    "token": str,
    "transport": str,
    "edges": [int],
}
_COUNTS = ("map", int)
_RUN = {"run_id": str}

KINDS: dict[str, dict[str, Any]] = {
    "JOIN": {
        "proto": int,
        "app_fingerprint": str,
        "fragments": [str],
        "data_endpoint": str,
        "host": str,
        "pid": int,
        "caps": {"cuda": bool, "ucxx": bool, "encrypt": bool},
    },
    "ACCEPT": {"worker_id": str, "run_id": str},
    "REJECT": {"reason": str},
    "SCHEDULE": {**_RUN, "fragments": [str]},
    "PORT_INFO": {**_RUN, "ports": dict},
    "ASSIGN": {
        **_RUN,
        "fragments": [str],
        "edges": [_EDGE],
        "links": [_LINK],
        "scheduler_env": ("map", str),
    },
    "READY": {**_RUN, "worker_id": str},
    "START": _RUN,
    "STATE": {
        **_RUN,
        "fragment": str,
        "passive": bool,
        "finished": bool,
        "sent": _COUNTS,
        "received": _COUNTS,
        "epoch": int,
        "probe": _Opt(int),
    },
    "PROBE": {**_RUN, "epoch": int},
    "STOP": _RUN,
    "DONE": {
        **_RUN,
        "fragment": str,
        "sent": _COUNTS,
        "received": _COUNTS,
        "dropped": _COUNTS,
        "rejected": _COUNTS,
    },
    "FAILED": {**_RUN, "fragment": str, "error": dict},
    "ABORT": {**_RUN, "reason": str, "error": _Opt(dict)},
    "EXIT": {**_RUN, "ok": bool},
    "HEARTBEAT": _RUN,
}
"""Every control message kind and its fields (design §2.5)."""


@dataclass(frozen=True)
class ControlMessage:
    """A validated control message: ``kind`` and its ``fields`` (``message["run_id"]`` reads one)."""

    kind: str
    fields: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def make_control(kind: str, **fields: Any) -> ControlMessage:
    """A message of ``kind`` with ``fields``; raises :class:`CodecError` if it breaks the schema."""
    document = {"kind": kind, **fields}
    _validate_document(document)
    return ControlMessage(kind, fields)


def encode_control(message: ControlMessage) -> bytes:
    """The message as compact UTF-8 JSON; raises :class:`CodecError` when over the size limit."""
    _validate_document({"kind": message.kind, **message.fields})
    data = json.dumps(
        {"kind": message.kind, **message.fields}, separators=(",", ":"), allow_nan=False
    ).encode()
    if len(data) > MAX_CONTROL_BYTES:
        raise CodecError(f"control message {message.kind}: {len(data)} bytes, over {MAX_CONTROL_BYTES}")
    return data


def decode_control(data: bytes | bytearray | memoryview) -> ControlMessage:
    """Parse and validate one control message; raises only :class:`CodecError`."""
    if len(data) > MAX_CONTROL_BYTES:
        raise CodecError(f"control message of {len(data)} bytes, over {MAX_CONTROL_BYTES}")
    try:
        text = bytes(data).decode("utf-8")
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except CodecError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CodecError(f"control message is not JSON: {type(error).__name__}: {error}"[:300]) from None
    _validate_document(document)
    return ControlMessage(document.pop("kind"), document)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise CodecError("control message has a duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise CodecError(f"control message holds {name}")


def _validate_document(document: Any) -> None:
    if not isinstance(document, dict):
        raise CodecError(f"control message is a {type(document).__name__}, not an object")
    kind = document.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise CodecError(f"control message of unknown kind {str(kind)[:40]!r}")
    fields = {key: value for key, value in document.items() if key != "kind"}
    _check(fields, KINDS[kind], kind, 0)


def _check(value: Any, spec: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CodecError(f"control message {where}: nested deeper than {MAX_DEPTH}")
    if spec is dict:
        if not isinstance(value, dict):
            raise CodecError(f"control message {where}: expected an object, got {type(value).__name__}")
        _check_any(value, where, depth)
    elif spec is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CodecError(f"control message {where}: expected a number")
    elif spec is int:
        if isinstance(value, bool) or not isinstance(value, int) or not -_INT_LIMIT <= value < _INT_LIMIT:
            raise CodecError(f"control message {where}: expected a 64-bit integer")
    elif spec in (str, bool):
        if not isinstance(value, spec) or (spec is str and isinstance(value, bool)):
            raise CodecError(f"control message {where}: expected {spec.__name__}, got {type(value).__name__}")
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise CodecError(f"control message {where}: expected a list, got {type(value).__name__}")
        for index, item in enumerate(value):
            _check(item, spec[0], f"{where}[{index}]", depth + 1)
    elif isinstance(spec, tuple) and spec and spec[0] == "map":
        if not isinstance(value, dict):
            raise CodecError(f"control message {where}: expected an object, got {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(f"control message {where}: key {key!r} is not a string")
            _check(item, spec[1], f"{where}[{key[:40]!r}]", depth + 1)
    elif isinstance(spec, tuple):
        if not isinstance(value, list) or len(value) != len(spec):
            raise CodecError(f"control message {where}: expected a list of {len(spec)}")
        for index, (item, item_spec) in enumerate(zip(value, spec, strict=True)):
            _check(item, item_spec, f"{where}[{index}]", depth + 1)
    else:
        _check_object(value, spec, where, depth)


def _check_object(value: Any, spec: dict[str, Any], where: str, depth: int) -> None:
    if not isinstance(value, dict):
        raise CodecError(f"control message {where}: expected an object, got {type(value).__name__}")
    extra = sorted(key for key in value if key not in spec)
    if extra:
        raise CodecError(f"control message {where}: unexpected field {str(extra[0])[:40]!r}")
    for name, field_spec in spec.items():
        present = value.get(name)
        if isinstance(field_spec, _Opt):
            if present is not None:
                _check(present, field_spec.spec, f"{where}.{name}", depth + 1)
        elif name not in value:
            raise CodecError(f"control message {where}: missing field {name!r}")
        else:
            _check(present, field_spec, f"{where}.{name}", depth + 1)


def _check_any(value: Any, where: str, depth: int) -> None:
    """Any JSON value: only the depth and the integer range are checked."""
    if depth > MAX_DEPTH:
        raise CodecError(f"control message {where}: nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError(f"control message {where}: key {str(key)[:40]!r} is not a string")
            _check_any(item, where, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_any(item, where, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and not -_INT_LIMIT <= value < _INT_LIMIT:
        raise CodecError(f"control message {where}: integer beyond 64 bits")
    elif isinstance(value, float) and not math.isfinite(value):
        raise CodecError(f"control message {where}: non-finite number")
    elif value is not None and not isinstance(value, (str, int, float)):
        raise CodecError(f"control message {where}: {type(value).__name__} is not a JSON value")


def heartbeat_settings(environ: Mapping[str, str] | None = None) -> tuple[float, float]:
    """``(interval, timeout)`` in seconds from ``HOLOFLOW_HEARTBEAT_MS`` (500) and
    ``HOLOFLOW_HEARTBEAT_TIMEOUT_MS`` (1500); raises :class:`ConfigError` unless both are positive
    integers with the timeout above the interval."""
    env = os.environ if environ is None else environ
    values = []
    for name, default in (("HOLOFLOW_HEARTBEAT_MS", 500), ("HOLOFLOW_HEARTBEAT_TIMEOUT_MS", 1500)):
        text = env.get(name, "").strip()
        if not text:
            values.append(default)
        elif text.isdigit() and int(text) > 0:
            values.append(int(text))
        else:
            raise ConfigError(f"${name}={text!r}: expected a positive integer (milliseconds)")
    interval, timeout = values
    if timeout <= interval:
        raise ConfigError(
            f"$HOLOFLOW_HEARTBEAT_TIMEOUT_MS ({timeout}) must exceed $HOLOFLOW_HEARTBEAT_MS ({interval})"
        )
    return interval / 1000, timeout / 1000


class Heartbeats:
    """Heartbeat bookkeeping for a set of peers (any hashable ids).

    ``seen(peer)`` records traffic from a peer (any message counts), ``sent(peer)`` a heartbeat or
    message to it. ``due()`` returns the peers owed a heartbeat (nothing sent for ``interval``)
    and those lost (nothing seen for ``timeout``); a lost peer is reported once and forgotten.
    ``wait_s()`` is how long the owner may sleep before ``due()`` has something new. Not
    thread-safe: one loop owns it.
    """

    def __init__(
        self,
        interval: float = HEARTBEAT_INTERVAL_S,
        timeout: float = HEARTBEAT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < interval < timeout:
            raise ValueError(f"heartbeat interval {interval} must be positive and below timeout {timeout}")
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._last_seen: dict[Hashable, float] = {}
        self._last_sent: dict[Hashable, float] = {}

    def add(self, peer: Hashable) -> None:
        """Watch ``peer`` from now on (it counts as just seen and just sent to)."""
        now = self._clock()
        self._last_seen[peer] = now
        self._last_sent[peer] = now

    def remove(self, peer: Hashable) -> None:
        self._last_seen.pop(peer, None)
        self._last_sent.pop(peer, None)

    @property
    def peers(self) -> Iterable[Hashable]:
        return tuple(self._last_seen)

    def seen(self, peer: Hashable) -> None:
        if peer in self._last_seen:
            self._last_seen[peer] = self._clock()

    def sent(self, peer: Hashable) -> None:
        if peer in self._last_sent:
            self._last_sent[peer] = self._clock()

    def due(self) -> tuple[list[Hashable], list[Hashable]]:
        """``(to_send, lost)`` at the current time; lost peers stop being watched."""
        now = self._clock()
        lost = [peer for peer, last in self._last_seen.items() if now - last >= self.timeout]
        for peer in lost:
            self.remove(peer)
        to_send = [peer for peer, last in self._last_sent.items() if now - last >= self.interval]
        return to_send, lost

    def wait_s(self) -> float:
        """Seconds until the next heartbeat falls due or a peer's timeout expires (0 if overdue;
        ``interval`` with no peers)."""
        if not self._last_seen:
            return self.interval
        now = self._clock()
        next_send = min(self._last_sent.values()) + self.interval
        next_loss = min(self._last_seen.values()) + self.timeout
        return max(0.0, min(next_send, next_loss) - now)
