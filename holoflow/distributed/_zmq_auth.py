"""Who may connect: the ZAP authenticator and the count of refused connections.

libzmq asks a ZAP handler (RFC 27, ``inproc://zeromq.zap.01`` of the socket's context) about
every handshake on a socket that has a security mechanism. :class:`Authenticator` answers on its
own thread:

- domain :data:`CONTROL_DOMAIN` (the driver's CURVE ROUTER): admits exactly the client public
  keys given to :meth:`Authenticator.allow_curve` (the peer key derived from the shared secret);
- domain :data:`DATA_DOMAIN` (a worker's data listener): admits a link once, with PLAIN
  (username = link id, password = its token) or, for an encrypted link, CURVE with the client
  key derived from the token. A token is spent by its first success, so a replay fails; the
  reply's User-Id is the link id, which libzmq then attaches to every frame of that connection.

Everything else (NULL, unknown keys, wrong or spent tokens) is denied inside libzmq's I/O thread
before any message exists. :class:`HandshakeCounter` counts the refused connections from a
listener's socket monitor: handshake failures by kind, and connections dropped before any
handshake (garbage bytes), so the totals can be logged and reported.
"""

from __future__ import annotations

import hmac
import os
import struct
import threading
from typing import Any

import zmq

from holoflow.distributed._secret import DATA_LINK_LABEL, curve_keypair
from holoflow.errors import DistributedError

__all__ = [
    "CONTROL_DOMAIN",
    "DATA_DOMAIN",
    "MONITOR_EVENTS",
    "ZAP_ENDPOINT",
    "Authenticator",
    "HandshakeCounter",
    "read_monitor_event",
]

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
CONTROL_DOMAIN = "holoflow-control"
DATA_DOMAIN = "holoflow-data"

MONITOR_EVENTS = (
    zmq.EVENT_ACCEPTED
    | zmq.EVENT_CONNECTED
    | zmq.EVENT_DISCONNECTED
    | zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)
"""The socket-monitor events the links and counters read."""

_FAILURES: dict[int, str] = {
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "auth",
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "protocol",
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "no_detail",
}
_EVENT = struct.Struct("=hi")


def read_monitor_event(monitor: Any) -> tuple[int, int]:
    """Receive one event from a monitor socket: ``(event, value)`` (value: an fd or a status)."""
    frames = monitor.recv_multipart()
    event, value = _EVENT.unpack_from(frames[0])
    return event & 0xFFFF, value


class HandshakeCounter:
    """Counts the connections a listening socket refused; thread-safe.

    Feed it the socket's monitor events (:meth:`on_event`) and tell it which connections carried
    an authenticated message (:meth:`admit`, by file descriptor). A connection that closes
    without being admitted counts as refused; handshake failures are also counted by kind.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._admitted: set[int] = set()
        self._kinds = dict.fromkeys(_FAILURES.values(), 0)
        self._refused = 0

    def on_event(self, event: int, value: int) -> bool:
        """Record one event; returns True when it closed an admitted connection (fd ``value``)."""
        with self._lock:
            if event == zmq.EVENT_ACCEPTED:
                self._pending.add(value)
            elif event in _FAILURES:
                self._kinds[_FAILURES[event]] += 1
            elif event == zmq.EVENT_DISCONNECTED:
                if value in self._admitted:
                    self._admitted.discard(value)
                    return True
                if value in self._pending:
                    self._pending.discard(value)
                    self._refused += 1
        return False

    def admit(self, fd: int) -> None:
        with self._lock:
            self._pending.discard(fd)
            self._admitted.add(fd)

    def counts(self) -> dict[str, int]:
        """``{"refused", "auth", "protocol", "no_detail", "dropped"}``: connections refused in all,
        handshake failures by kind, and connections dropped before a handshake began."""
        with self._lock:
            failures = sum(self._kinds.values())
            refused = max(self._refused, failures)
            return {"refused": refused, **self._kinds, "dropped": refused - failures}


class Authenticator:
    """The ZAP handler of one :class:`zmq.Context`, answering on its own thread.

    ``start()`` binds the ZAP endpoint (one handler per context: a second raises
    :class:`DistributedError`); ``close()`` stops the thread. The admission lists may change at
    any time from any thread.
    """

    def __init__(self, context: zmq.Context[Any]) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._curve_keys: dict[str, dict[bytes, str]] = {}
        self._tokens: dict[str, bytes] = {}
        self._token_keys: dict[bytes, str] = {}
        self._denied = {"mechanism": 0, "key": 0, "token": 0}
        self._admitted = 0
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1

    def start(self) -> None:
        zap = self._context.socket(zmq.REP)
        zap.linger = 0
        try:
            zap.bind(ZAP_ENDPOINT)
        except zmq.ZMQError as error:
            zap.close()
            raise DistributedError(f"cannot start the ZAP authenticator: {error.strerror}") from None
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, args=(zap,), name="holoflow-zap", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop answering (idempotent); sockets handshaking afterwards are refused by libzmq."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"\0")
        thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def allow_curve(self, domain: str, public_key: bytes, user_id: str = "peer") -> None:
        """Admit CURVE clients presenting ``public_key`` (Z85) on ``domain``, as ``user_id``."""
        from zmq.utils import z85

        with self._lock:
            self._curve_keys.setdefault(domain, {})[z85.decode(public_key)] = user_id

    def add_token(self, link_id: str, token: bytes) -> None:
        """Admit one connection of data link ``link_id`` with ``token`` (PLAIN, or CURVE with the
        key derived from it); the first success spends it."""
        from zmq.utils import z85

        public, _ = curve_keypair(token, DATA_LINK_LABEL)
        with self._lock:
            self._tokens[link_id] = token
            self._token_keys[z85.decode(public)] = link_id

    def revoke_token(self, link_id: str) -> None:
        with self._lock:
            self._drop_token(link_id)

    def stats(self) -> dict[str, int]:
        """Handshakes admitted, and denied by reason (``mechanism``, ``key``, ``token``)."""
        with self._lock:
            return {"admitted": self._admitted, **self._denied}

    def _drop_token(self, link_id: str) -> None:
        self._tokens.pop(link_id, None)
        for key, owner in list(self._token_keys.items()):
            if owner == link_id:
                del self._token_keys[key]

    def _serve(self, zap: zmq.Socket[Any]) -> None:
        poller = zmq.Poller()
        poller.register(zap, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        try:
            while True:
                ready = dict(poller.poll())
                if self._wake_r in ready:
                    return
                request = zap.recv_multipart()
                zap.send_multipart(self._answer(request))
        finally:
            zap.close()

    def _answer(self, request: list[bytes]) -> list[bytes]:
        if len(request) < 6 or request[0] != b"1.0":
            version = request[0] if request else b"1.0"
            request_id = request[1] if len(request) > 1 else b""
            return [version, request_id, b"500", b"malformed ZAP request", b"", b""]
        version, request_id, domain_raw, _address, _identity, mechanism, *credentials = request
        domain = domain_raw.decode("utf-8", "replace")
        user = self._judge(domain, mechanism, credentials)
        if user is None:
            return [version, request_id, b"400", b"denied", b"", b""]
        return [version, request_id, b"200", b"OK", user.encode(), b""]

    def _judge(self, domain: str, mechanism: bytes, credentials: list[bytes]) -> str | None:
        with self._lock:
            if mechanism == b"CURVE" and len(credentials) == 1:
                key = credentials[0]
                user = self._curve_keys.get(domain, {}).get(key)
                if user is None and domain == DATA_DOMAIN:
                    user = self._token_keys.get(key)
                    if user is not None:
                        self._drop_token(user)
                if user is None:
                    self._denied["key"] += 1
                    return None
                self._admitted += 1
                return user
            if mechanism == b"PLAIN" and len(credentials) == 2 and domain == DATA_DOMAIN:
                link_id = credentials[0].decode("utf-8", "replace")
                expected = self._tokens.get(link_id)
                if expected is None or not hmac.compare_digest(expected, credentials[1]):
                    self._denied["token"] += 1
                    return None
                self._drop_token(link_id)
                self._admitted += 1
                return link_id
            self._denied["mechanism"] += 1
            return None
