"""The driver: admits workers, places fragments, wires edges, decides when the run ends.

The driver listens on one ROUTER socket (``--address``, loopback unless told otherwise) secured
with CURVE: its server key and the one client key it admits both derive from the shared secret
(``_secret``), so a process without the secret fails the handshake inside libzmq and is only
counted. Its life, in control messages (``_control``):

1. ``JOIN`` from each worker (the same program: the application's fingerprint must match;
   fragments claimed twice or unknown are refused at once with ``REJECT``), answered by
   ``ACCEPT``; once Holoscan's greedy placement (``_placement``) has placed every fragment it
   logs the schedule, sends ``EXIT`` to spare workers and ``SCHEDULE`` to the others;
2. ``PORT_INFO`` back from each worker (its fragments composed); the driver resolves the
   fragment flows into edges (Holoscan's error texts), mints one token per directed pair of
   workers, and sends each its ``ASSIGN``;
3. ``READY`` from every worker (its links are up), then ``START``;
4. ``STATE`` reports feed the quiescence :class:`~holoflow.distributed._quiescence.Coordinator`;
   when it sees every fragment passive with nothing in flight it sends ``PROBE`` and, if the
   answers show the same picture, ``STOP``;
5. ``DONE`` per fragment; when every edge's sent and received counts agree, ``EXIT``.

Any ``FAILED`` report, a lost worker (heartbeats, or its connection closing) or a protocol
breach sends ``ABORT`` to every worker, and :meth:`Driver.run` raises: the failed fragment's
own exception (rebuilt by ``_wire_errors``), else a :class:`~holoflow.errors.DistributedError`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import zmq

import holoflow
from holoflow import _env
from holoflow.distributed._addresses import LOOPBACK, bind_listener, parse_address
from holoflow.distributed._control import (
    MAX_CONTROL_BYTES,
    ControlMessage,
    Heartbeats,
    decode_control,
    encode_control,
    heartbeat_settings,
    make_control,
)
from holoflow.distributed._placement import allocate
from holoflow.distributed._ports import OperatorPorts, fragment_flows, resolve_edges
from holoflow.distributed._quiescence import Coordinator, FragmentState
from holoflow.distributed._secret import DRIVER_LABEL, PEER_LABEL, curve_keypair, load_secret
from holoflow.distributed._wire_errors import error_from_wire, error_to_wire
from holoflow.distributed._zmq_auth import (
    CONTROL_DOMAIN,
    MONITOR_EVENTS,
    Authenticator,
    HandshakeCounter,
    read_monitor_event,
)
from holoflow.errors import CodecError, ConfigError, DistributedError, HoloflowError
from holoflow.logger import get_logger

if TYPE_CHECKING:
    from holoflow.core import Application

__all__ = [
    "DEFAULT_DRIVER_PORT",
    "PROTOCOL",
    "Driver",
    "app_fingerprint",
    "driver_address",
    "edge_window",
    "encrypt_data",
]

PROTOCOL = 1
DEFAULT_DRIVER_PORT = 57777
_DEFAULT_WINDOW = 1024
_IPC_WINDOW = 16
_LINGER_MS = 1000

_logger = get_logger("holoflow.distributed")


def driver_address(text: str) -> tuple[str, int]:
    """The driver's ``(ip, port)`` from ``--address`` text: loopback and
    ``HOLO{FLOW,SCAN}_APP_DRIVER_PORT`` (else 57777) where the text has none.

    Raises :class:`ConfigError` for a malformed address or port variable."""
    port_text = _env.distributed_setting("APP_DRIVER_PORT")
    default_port = DEFAULT_DRIVER_PORT
    if port_text:
        if not port_text.strip().isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"APP_DRIVER_PORT={port_text!r}: expected a port number")
        default_port = int(port_text)
    address = parse_address(text, LOOPBACK, default_port, what="--address")
    assert address.port is not None
    return address.ip, address.port


def edge_window() -> int:
    """``HOLOFLOW_EDGE_WINDOW``: messages one edge may have in flight (default 1024; an edge on
    a CUDA IPC link holds a device buffer per message in flight, so it takes at most 16)."""
    text = _env.holoflow_setting("EDGE_WINDOW") or ""
    if not text:
        return _DEFAULT_WINDOW
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"$HOLOFLOW_EDGE_WINDOW={text!r}: expected a positive integer")
    return int(text)


def encrypt_data() -> bool:
    """``HOLOFLOW_DISTRIBUTED_ENCRYPT``: ``1`` encrypts data links with CurveZMQ (default ``0``;
    every process of the run must agree)."""
    text = _env.holoflow_setting("DISTRIBUTED_ENCRYPT") or "0"
    if text not in ("0", "1"):
        raise ConfigError(f"$HOLOFLOW_DISTRIBUTED_ENCRYPT={text!r}: use 0 or 1")
    return text == "1"


def _join_timeout() -> float | None:
    text = _env.holoflow_setting("JOIN_TIMEOUT_S") or ""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"$HOLOFLOW_JOIN_TIMEOUT_S={text!r}: expected a positive number of seconds")
    return value


def app_fingerprint(app: Application) -> str:
    """A digest of what every process of one application must agree on: its class, the
    holoflow version, its fragments and their flows."""
    names = sorted(fragment.name for fragment in app.fragment_graph.get_nodes())
    flows = sorted(
        (source, target, sorted((out, sorted(ins)) for out, ins in port_map.items()))
        for source, target, port_map in fragment_flows(app)
    )
    text = repr((type(app).__module__, type(app).__qualname__, holoflow.__version__, names, flows))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(eq=False)
class _Peer:
    """One worker, as the driver knows it."""

    routing_id: bytes
    worker_id: str
    targets: list[str]
    data_endpoint: str
    host: str
    pid: int
    fd: int
    caps: Mapping[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    ports_in: bool = False
    ready: bool = False

    def describe(self) -> str:
        return f"worker '{self.worker_id}' (pid {self.pid} on {self.host})"


def _ports_from_wire(data: Any, fragments: Sequence[str], who: str) -> dict[str, dict[str, OperatorPorts]]:
    """Validate a ``PORT_INFO`` body: ``{fragment: {op: {inputs, outputs, any_size}}}``."""
    if not isinstance(data, dict) or sorted(data) != sorted(fragments):
        raise CodecError(f"{who}: PORT_INFO does not describe exactly its fragments {sorted(fragments)}")
    result: dict[str, dict[str, OperatorPorts]] = {}
    for fragment, ops in data.items():
        if not isinstance(ops, dict):
            raise CodecError(f"{who}: PORT_INFO for fragment {fragment!r} is not an object")
        table = {}
        for op, ports in ops.items():
            lists = []
            for key in ("inputs", "outputs", "any_size"):
                names = ports.get(key) if isinstance(ports, dict) else None
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise CodecError(f"{who}: PORT_INFO {fragment}.{op}.{key} is not a list of names")
                lists.append(frozenset(names))
            table[op] = OperatorPorts(*lists)
        result[fragment] = table
    return result


def ports_to_wire(ports: Mapping[str, OperatorPorts]) -> dict[str, dict[str, list[str]]]:
    """One fragment's ports as ``PORT_INFO`` carries them."""
    return {
        op: {"inputs": sorted(p.inputs), "outputs": sorted(p.outputs), "any_size": sorted(p.any_size)}
        for op, p in ports.items()
    }


def _transport(src: _Peer, dst: _Peer) -> str:
    """A link's transport: ``zmq+cuda_ipc`` (CuPy arrays by CUDA IPC, the rest over ZeroMQ)
    when both workers have a CUDA device and CUDA IPC on, on one host; else ``zmq``."""
    ipc = all(peer.caps.get("cuda") and peer.caps.get("cuda_ipc") for peer in (src, dst))
    if ipc and src.host == dst.host and src.caps.get("host_id") == dst.caps.get("host_id"):
        return "zmq+cuda_ipc"
    return "zmq"


class _Abort(Exception):
    """Internal: end the driver's loop with ``error``."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Driver:
    """The driver of one distributed run.

    Parameters
    ----------
    app : Application
        The composed application (its fragment graph; fragments are composed by the workers).
    address : str
        ``--address``: ``[ip][:port]`` to listen on.

    Raises
    ------
    holoflow.errors.ConfigError
        For a bad address, a port in use, or an unusable secret.
    """

    def __init__(self, app: Application, address: str) -> None:
        self.app = app
        self.fragments = sorted(fragment.name for fragment in app.fragment_graph.get_nodes())
        self.flows = fragment_flows(app)
        self.fingerprint = app_fingerprint(app)
        self.encrypt = encrypt_data()
        self.run_id = secrets.token_hex(8)
        secret = load_secret()
        ip, port = driver_address(address)
        self.context: zmq.Context[Any] = zmq.Context()
        self.auth = Authenticator(self.context)
        self.auth.start()
        peer_public, _ = curve_keypair(secret, PEER_LABEL)
        self.auth.allow_curve(CONTROL_DOMAIN, peer_public)
        _, server_secret = curve_keypair(secret, DRIVER_LABEL)
        sock = self.context.socket(zmq.ROUTER)
        interval, timeout = heartbeat_settings()
        sock.setsockopt(zmq.LINGER, _LINGER_MS)
        sock.setsockopt(zmq.HANDSHAKE_IVL, 2000)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_CONTROL_BYTES)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.curve_server = True
        sock.curve_secretkey = server_secret
        sock.zap_domain = CONTROL_DOMAIN.encode()
        self.monitor = sock.get_monitor_socket(MONITOR_EVENTS)
        self.sock = sock
        self.counter = HandshakeCounter()
        """Connections refused (no secret, garbage, idle handshakes), by kind."""
        try:
            self.address = bind_listener(sock, ip, port)
        except ConfigError:
            self._close()
            raise
        self.heartbeats = Heartbeats(interval, timeout)
        self.peers: dict[bytes, _Peer] = {}
        self.by_fragment: dict[str, _Peer] = {}
        self.phase = "join"
        self.coordinator = Coordinator(self.fragments)
        self.probe = 0
        self.probing: set[str] = set()
        self.done: dict[str, ControlMessage] = {}
        self.stop_requested = False
        self.wake_r, self.wake_w = os.pipe()
        self.closed = False
        self.join_deadline: float | None = None
        join_timeout = _join_timeout()
        if join_timeout is not None:
            self.join_deadline = time.monotonic() + join_timeout

    # -- any thread --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to stop (``Application.stop_execution``, Ctrl-C): every fragment stops."""
        self.stop_requested = True
        try:
            os.write(self.wake_w, b"\0")
        except OSError:
            pass  # closed: the run is over

    # -- the driver's loop ---------------------------------------------------------------------

    def run(self) -> None:
        """Serve the run until it ends; raises the run's error (see the module docstring)."""
        _logger.info("Driver listening on %s (run %s)", self.address, self.run_id)
        try:
            self._loop()
        except _Abort as abort:
            self._broadcast_abort(abort.error)
            raise abort.error from None
        except BaseException as error:  # Ctrl-C, or a fault of the driver itself
            self._broadcast_abort(DistributedError(f"the driver stopped: {type(error).__name__}: {error}"))
            raise
        finally:
            refused = self.counter.counts()
            if refused["refused"]:
                _logger.info("Control port refused %d connection(s): %s", refused["refused"], refused)
            self._close()

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        poller.register(self.wake_r, zmq.POLLIN)
        while self.phase != "over":
            wait = self.heartbeats.wait_s()
            if self.join_deadline is not None and self.phase == "join":
                wait = min(wait, max(0.0, self.join_deadline - time.monotonic()))
            ready = dict(poller.poll(int(wait * 1000) + 1))
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
                if self.stop_requested and self.phase == "run":
                    self._broadcast("STOP")
                    self.phase = "stopping"
                elif self.stop_requested and self.phase in ("join", "ports", "ready"):
                    raise _Abort(DistributedError("the run was stopped before it started"))
            if self.monitor in ready:
                self._read_monitor()
            if self.sock in ready:
                for _ in range(256):
                    try:
                        frames = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self._receive(frames)
                    if self.phase == "over":
                        return
            self._heartbeat()
            if (
                self.join_deadline is not None
                and self.phase == "join"
                and time.monotonic() >= self.join_deadline
            ):
                raise _Abort(
                    DistributedError(
                        "no schedule within $HOLOFLOW_JOIN_TIMEOUT_S: "
                        f"{self._placed()}/{len(self.fragments)} fragments scheduled"
                    )
                )

    def _heartbeat(self) -> None:
        to_send, lost = self.heartbeats.due()
        for routing_id in lost:
            if self.phase == "join":
                self._drop(self.peers[routing_id], "no heartbeat")  # type: ignore[index]
        if lost and self.phase != "join":
            peer = self.peers[lost[0]]  # type: ignore[index]
            raise _Abort(
                DistributedError(
                    f"lost {peer.describe()} running {self._fragment_list(peer)}: "
                    f"no heartbeat for {self.heartbeats.timeout:g} s"
                )
            )
        for routing_id in to_send:
            self._send(self.peers[routing_id], "HEARTBEAT")  # type: ignore[index]

    def _read_monitor(self) -> None:
        while self.monitor.poll(0):
            event, value = read_monitor_event(self.monitor)
            self.counter.on_event(event, value)
            if event != zmq.EVENT_DISCONNECTED:
                continue
            for peer in list(self.peers.values()):
                if peer.fd == value and self.phase == "join":
                    self._drop(peer, "its connection closed")
                elif peer.fd == value and self.phase != "over":
                    raise _Abort(
                        DistributedError(
                            f"lost {peer.describe()} running {self._fragment_list(peer)}: "
                            "its connection closed (the process ended)"
                        )
                    )

    def _drop(self, peer: _Peer, why: str) -> None:
        """Forget a worker lost before the schedule was made: its fragments are open again."""
        _logger.warning(
            "Lost %s before the schedule was made (%s); waiting for another", peer.describe(), why
        )
        self.heartbeats.remove(peer.routing_id)
        del self.peers[peer.routing_id]

    @staticmethod
    def _fragment_list(peer: _Peer) -> str:
        names = peer.fragments or peer.targets
        return "fragment(s) " + ", ".join(f"'{name}'" for name in names) if names else "no fragment yet"

    def _placed(self) -> int:
        allocation = allocate(self.fragments, [(p.worker_id, p.targets) for p in self.peers.values()])
        return len(allocation.assigned)

    # -- messages ----------------------------------------------------------------------------

    def _send(self, peer: _Peer, kind: str, **fields: Any) -> None:
        if kind != "ACCEPT" and kind != "REJECT":
            fields["run_id"] = self.run_id
        data = encode_control(make_control(kind, **fields))
        try:
            self.sock.send_multipart([peer.routing_id, data], zmq.NOBLOCK)
        except zmq.ZMQError:
            return  # the peer is gone: its loss is reported by the monitor or the heartbeats
        self.heartbeats.sent(peer.routing_id)

    def _broadcast(self, kind: str, **fields: Any) -> None:
        for peer in list(self.peers.values()):
            self._send(peer, kind, **fields)

    def _broadcast_abort(self, error: BaseException) -> None:
        if self.closed:
            return
        reason = f"{type(error).__name__}: {error}"
        try:
            wire = error_to_wire(error)
            self._broadcast("ABORT", reason=reason[:4000], error=wire)
        except Exception:  # the abort must go out even if the error does not encode
            self._broadcast("ABORT", reason=reason[:4000], error=None)

    def _receive(self, frames: list[zmq.Frame]) -> None:
        if len(frames) != 2:
            raise _Abort(DistributedError("a control message of several parts from an authenticated peer"))
        routing_id, body = frames[0].bytes, frames[1]
        try:
            message = decode_control(body.buffer)
        except CodecError as error:
            raise _Abort(
                DistributedError(f"malformed control message from an authenticated peer: {error}")
            ) from None
        peer = self.peers.get(routing_id)
        if message.kind == "JOIN":
            self._on_join(routing_id, body, message)
            return
        if peer is None:
            return  # not joined (or refused): nothing it says counts
        self.heartbeats.seen(routing_id)
        if message.get("run_id") != self.run_id:
            raise _Abort(DistributedError(f"{peer.describe()} sent a message of another run"))
        handler = getattr(self, f"_on_{message.kind.lower()}", None)
        if handler is None:
            raise _Abort(DistributedError(f"{peer.describe()} sent an unexpected {message.kind}"))
        handler(peer, message)

    def _reject(self, routing_id: bytes, reason: str) -> None:
        data = encode_control(make_control("REJECT", reason=reason))
        try:
            self.sock.send_multipart([routing_id, data], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass
        _logger.warning("Refused a worker: %s", reason)

    def _on_join(self, routing_id: bytes, frame: zmq.Frame, message: ControlMessage) -> None:
        if routing_id in self.peers:
            raise _Abort(DistributedError(f"{self.peers[routing_id].describe()} joined twice"))
        if message["proto"] != PROTOCOL or message["app_fingerprint"] != self.fingerprint:
            self._reject(
                routing_id,
                "the worker runs another application or holoflow version than the driver "
                f"(pid {message['pid']} on {message['host']})",
            )
            return
        if self.phase != "join":
            self._reject(routing_id, "every fragment is already scheduled")
            return
        if message["caps"]["encrypt"] != self.encrypt:
            self._reject(
                routing_id,
                f"$HOLOFLOW_DISTRIBUTED_ENCRYPT is {int(message['caps']['encrypt'])} on the worker "
                f"(pid {message['pid']} on {message['host']}) and {int(self.encrypt)} on the driver",
            )
            return
        targets = list(message["fragments"])
        candidate = _Peer(
            routing_id,
            f"{message['host']}:{message['pid']}",
            targets,
            message["data_endpoint"],
            message["host"],
            message["pid"],
            frame.get(zmq.SRCFD),
            message["caps"],
        )
        workers = [(p.worker_id, p.targets) for p in self.peers.values()] + [(candidate.worker_id, targets)]
        allocation = allocate(self.fragments, workers)
        if candidate.worker_id in allocation.rejected:
            self._reject(routing_id, allocation.rejected[candidate.worker_id])
            return
        self.peers[routing_id] = candidate
        self.counter.admit(candidate.fd)
        self.heartbeats.add(routing_id)
        self._send(candidate, "ACCEPT", worker_id=candidate.worker_id, run_id=self.run_id)
        if allocation.unplaced:
            _logger.info(
                "%d/%d fragments scheduled. Awaiting remaining worker connections.",
                len(allocation.assigned),
                len(self.fragments),
            )
            return
        self._schedule(allocation.assigned, allocation.spare)

    def _schedule(self, assigned: Mapping[str, str], spare: Sequence[str]) -> None:
        by_id = {peer.worker_id: peer for peer in self.peers.values()}
        _logger.info("Fragment schedule is available:")
        for fragment in self.fragments:
            peer = by_id[assigned[fragment]]
            peer.fragments.append(fragment)
            self.by_fragment[fragment] = peer
            _logger.info("  Fragment '%s' => Worker '%s'", fragment, peer.worker_id)
        for worker_id in spare:
            peer = by_id[worker_id]
            _logger.info("Worker '%s' does not participate in the schedule", worker_id)
            self._send(peer, "EXIT", ok=True)
            self.heartbeats.remove(peer.routing_id)
            del self.peers[peer.routing_id]
        self.phase = "ports"
        self.ports: dict[str, dict[str, OperatorPorts]] = {}
        for peer in self.peers.values():
            self._send(peer, "SCHEDULE", fragments=peer.fragments)

    def _on_heartbeat(self, peer: _Peer, message: ControlMessage) -> None:
        """Nothing to do: any message counts as a sign of life."""

    def _on_failed(self, peer: _Peer, message: ControlMessage) -> None:
        error = error_from_wire(message["error"])
        fragment = message["fragment"]
        where = f"fragment '{fragment}' on " if fragment else ""
        note = f"raised in {where}{peer.describe()}"
        error.__notes__ = [*getattr(error, "__notes__", []), note]  # type: ignore[attr-defined]
        _logger.error(
            "%s failed: %s: %s", where.removesuffix(" on ") or peer.describe(), type(error).__name__, error
        )
        raise _Abort(error)

    def _on_port_info(self, peer: _Peer, message: ControlMessage) -> None:
        if self.phase != "ports" or peer.ports_in:
            raise _Abort(DistributedError(f"{peer.describe()} sent PORT_INFO out of turn"))
        try:
            self.ports.update(_ports_from_wire(message["ports"], peer.fragments, peer.describe()))
        except CodecError as error:
            raise _Abort(DistributedError(str(error))) from None
        peer.ports_in = True
        if all(p.ports_in for p in self.peers.values()):
            self._assign()

    def _assign(self) -> None:
        try:
            specs = resolve_edges(self.flows, self.ports)
        except HoloflowError as error:
            raise _Abort(error) from None
        window = edge_window()
        by_id = {peer.worker_id: peer for peer in self.peers.values()}
        edges = []
        links: dict[tuple[str, str], list[int]] = {}
        for spec in specs:
            src, dst = self.by_fragment[spec.src[0]], self.by_fragment[spec.dst[0]]
            ipc = src is not dst and _transport(src, dst) != "zmq"
            edges.append(
                {
                    "edge_id": spec.edge_id,
                    "src": list(spec.src),
                    "dst": list(spec.dst),
                    "capacity": 0,
                    "policy": "",
                    "window": min(window, _IPC_WINDOW) if ipc else window,
                }
            )
            if src is not dst:
                links.setdefault((src.worker_id, dst.worker_id), []).append(spec.edge_id)
        per_peer: dict[str, list[dict[str, Any]]] = {peer.worker_id: [] for peer in self.peers.values()}
        for (src_id, dst_id), edge_ids in links.items():
            token = secrets.token_hex(32)
            link_id = f"{src_id}>{dst_id}"
            transport = _transport(by_id[src_id], by_id[dst_id])
            if transport != "zmq":
                _logger.info("Data link %s uses %s", link_id, transport)
            common = {"link_id": link_id, "token": token, "transport": transport, "edges": edge_ids}
            per_peer[src_id].append(
                {**common, "direction": "out", "peer_endpoint": by_id[dst_id].data_endpoint}
            )
            per_peer[dst_id].append({**common, "direction": "in", "peer_endpoint": ""})
        self.phase = "ready"
        for peer in self.peers.values():
            mine = [
                edge
                for edge, spec in zip(edges, specs, strict=True)
                if peer in (self.by_fragment[spec.src[0]], self.by_fragment[spec.dst[0]])
            ]
            self._send(
                peer,
                "ASSIGN",
                fragments=peer.fragments,
                edges=mine,
                links=per_peer[peer.worker_id],
                scheduler_env={},
            )

    def _on_ready(self, peer: _Peer, message: ControlMessage) -> None:  # noqa: ARG002
        if self.phase != "ready":
            raise _Abort(DistributedError(f"{peer.describe()} sent READY out of turn"))
        peer.ready = True
        if all(p.ready for p in self.peers.values()):
            self.phase = "run"
            self._broadcast("START")
            if self.stop_requested:
                self._broadcast("STOP")
                self.phase = "stopping"

    def _on_state(self, peer: _Peer, message: ControlMessage) -> None:
        fragment = message["fragment"]
        if self.by_fragment.get(fragment) is not peer:
            raise _Abort(
                DistributedError(f"{peer.describe()} reported on fragment '{fragment}', not its own")
            )
        self.coordinator.report(
            fragment,
            FragmentState(
                passive=message["passive"],
                epoch=message["epoch"],
                finished=message["finished"],
                sent={int(k): v for k, v in message["sent"].items()},
                received={int(k): v for k, v in message["received"].items()},
            ),
        )
        _logger.debug(
            "STATE %s passive=%s finished=%s epoch=%s sent=%s received=%s probe=%s",
            fragment,
            message["passive"],
            message["finished"],
            message["epoch"],
            message["sent"],
            message["received"],
            message.get("probe"),
        )
        if self.phase != "run":
            return
        if self.probing:
            if message.get("probe") == self.probe:
                self.probing.discard(fragment)
            if self.probing:
                return
            if self.coordinator.second_wave():
                _logger.debug("quiescent after probe %d: STOP", self.probe)
                self.phase = "stopping"
                self._broadcast("STOP")
                return
        if self.coordinator.first_wave():
            self.probe += 1
            self.probing = set(self.fragments)
            self._broadcast("PROBE", epoch=self.probe)

    def _on_done(self, peer: _Peer, message: ControlMessage) -> None:
        fragment = message["fragment"]
        if self.by_fragment.get(fragment) is not peer or fragment in self.done:
            raise _Abort(
                DistributedError(f"{peer.describe()} sent DONE for fragment '{fragment}' out of turn")
            )
        self.done[fragment] = message
        if all(name in self.done for name in peer.fragments):
            remaining = len({p.worker_id for f, p in self.by_fragment.items() if f not in self.done})
            _logger.info("Worker %s has finished execution. Remaining: %d", peer.worker_id, remaining)
        if len(self.done) < len(self.fragments):
            return
        self._check_counts()
        _logger.info("All workers have finished execution")
        self._broadcast("EXIT", ok=True)
        self.phase = "over"

    def _check_counts(self) -> None:
        sent: dict[int, int] = {}
        received: dict[int, int] = {}
        for message in self.done.values():
            for key, count in message["sent"].items():
                sent[int(key)] = sent.get(int(key), 0) + count
            for key, count in message["received"].items():
                received[int(key)] = received.get(int(key), 0) + count
        for edge in sorted(key for key in set(sent) | set(received) if key >= 0):  # not credits
            if sent.get(edge, 0) != received.get(edge, 0):
                raise _Abort(
                    DistributedError(
                        f"edge {edge}: {sent.get(edge, 0)} message(s) sent, {received.get(edge, 0)} received"
                    )
                )

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.sock.disable_monitor()
        self.monitor.close()
        self.sock.close()
        self.auth.close()
        self.context.term()
        os.close(self.wake_r)
        os.close(self.wake_w)


def run_driver_thread(driver: Driver) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``driver`` on a thread; the list receives its error, if any."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            driver.run()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target, name="holoflow-driver", daemon=True)
    thread.start()
    return thread, errors
