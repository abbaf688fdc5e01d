"""A worker: runs the fragments the driver assigns it, and reports on them.

A worker binds its data listener first (``--worker-address``, else
``HOLO{FLOW,SCAN}_UCX_SOURCE_ADDRESS``, else the local IP that routes to the driver; its port,
else the first free one of ``HOLOSCAN_UCX_PORTS``, else one the OS picks), then dials the
driver over CURVE with the key derived from the shared secret and sends ``JOIN``. Two threads
share the work:

- the *control thread* owns the control socket: it sends what the main thread queues, answers
  heartbeats and ``PROBE`` (a fresh state of every local fragment), turns ``STOP`` into the end
  of the local run and ``ABORT`` or a lost driver into its abort, and hands the other commands
  to the main thread;
- the *main thread* (the one in ``Application.run``) composes the scheduled fragments
  (``PORT_INFO``), wires them (``ASSIGN``: in-process links between its own fragments, data
  links to and from other workers), says ``READY``, and on ``START`` runs them with a
  :class:`~holoflow.distributed._local.FragmentRunner` until the driver's ``STOP``; then ``DONE``
  per fragment, and it returns on ``EXIT``.

A fragment's exception is sent to the driver (``FAILED``) and re-raised here once every local
fragment stopped; an ``ABORT`` (another worker failed or was lost) or a lost driver raises
:class:`~holoflow.errors.DistributedError`. A worker never waits for the driver without a
heartbeat: a driver silent for the heartbeat timeout, or whose connection closes, is lost.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import zmq

from holoflow import _env
from holoflow.distributed._addresses import LOOPBACK, connect_endpoint, parse_address, route_source_ip
from holoflow.distributed._codec import decode
from holoflow.distributed._control import (
    MAX_CONTROL_BYTES,
    ControlMessage,
    Heartbeats,
    decode_control,
    encode_control,
    heartbeat_settings,
    make_control,
)
from holoflow.distributed._cuda_ipc import IpcExporter, IpcImporter, cuda_ipc_enabled, host_id
from holoflow.distributed._driver import (
    PROTOCOL,
    app_fingerprint,
    driver_address,
    encrypt_data,
    ports_to_wire,
)
from holoflow.distributed._edges import EdgeSpec
from holoflow.distributed._local import FragmentRunner, link_mode
from holoflow.distributed._ports import fragment_ports
from holoflow.distributed._remote_ends import DEFAULT_BYTE_BUDGET, RemoteInbound, RemoteOutbound
from holoflow.distributed._secret import (
    DATA_SERVER_LABEL,
    DRIVER_LABEL,
    PEER_LABEL,
    curve_keypair,
    load_secret,
)
from holoflow.distributed._wire_errors import error_from_wire, error_to_wire
from holoflow.distributed._zmq_auth import MONITOR_EVENTS, Authenticator, read_monitor_event
from holoflow.distributed._zmq_links import DataLink, DataListener
from holoflow.errors import CodecError, ConfigError, DistributedError
from holoflow.logger import get_logger

if TYPE_CHECKING:
    from holoflow.core import Application, Fragment

__all__ = ["Worker"]

_logger = get_logger("holoflow.distributed")
_LINK_READY_S = 10.0
_STATES = "states"  # queued by a fragment thread: report every local fragment's state


def _join_timeout() -> float:
    """Holoscan's worker retries: ``MAX_CONNECTION_RETRY_COUNT`` (10) times
    ``CONNECTION_RETRY_INTERVAL_MS`` (1000)."""
    values = []
    for name, default in (("MAX_CONNECTION_RETRY_COUNT", 10), ("CONNECTION_RETRY_INTERVAL_MS", 1000)):
        text = _env.distributed_setting(name)
        if text is None or not text.strip():
            values.append(default)
        elif text.strip().isdigit():
            values.append(int(text))
        else:
            raise ConfigError(f"{name}={text!r}: expected a non-negative integer")
    return max(values[0] * values[1] / 1000, 1.0)


def _byte_budget() -> int:
    """``HOLOFLOW_EDGE_WINDOW_BYTES``: bytes one outgoing edge may have in flight (256 MiB)."""
    text = _env.holoflow_setting("EDGE_WINDOW_BYTES")
    if text is None:
        return DEFAULT_BYTE_BUDGET
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"$HOLOFLOW_EDGE_WINDOW_BYTES={text!r}: expected a positive integer")
    return int(text)


def _preferred_ports() -> list[int]:
    text = _env.distributed_setting("UCX_PORTS") or ""
    ports = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 0 < int(part) < 65536:
            raise ConfigError(f"UCX_PORTS={text!r}: expected comma-separated port numbers")
        ports.append(int(part))
    return ports


def _caps(encrypt: bool) -> dict[str, Any]:
    """What this worker can do, for ``JOIN``: a CUDA device, ucxx, encrypted data links, CUDA
    IPC (on unless ``HOLOFLOW_CUDA_IPC=0``) and the host identity CUDA IPC needs to match."""
    from holoflow.tensor import cuda_available

    caps: dict[str, Any] = {"cuda": cuda_available(), "ucxx": False, "encrypt": encrypt}
    if cuda_ipc_enabled():
        caps["cuda_ipc"] = True
        caps["host_id"] = host_id()
    return caps


class _WorkerRunner(FragmentRunner):
    """The local fragments' runner, reporting to the driver instead of deciding the end."""

    def __init__(self, app: Application, fragments: list[Fragment], worker: Worker) -> None:
        super().__init__(app, fragments)
        self.worker = worker

    def check(self) -> None:
        self.worker.post(_STATES)

    def on_error(self, fragment: str, error: BaseException) -> None:
        self.worker.report_failure(fragment, error)


class Worker:
    """One worker process's part of a distributed run.

    Parameters
    ----------
    app : Application
        The composed application (fragments not yet composed).
    address : str
        ``--address``: the driver's ``[ip][:port]``.
    worker_address : str
        ``--worker-address``: where this worker's data listener binds.
    targets : sequence of str
        ``--fragments``: the fragments this worker asks for (``["all"]``: every one; empty: the
        driver picks one).

    Raises
    ------
    holoflow.errors.ConfigError
        For a bad address, a busy port or an unusable secret.
    """

    def __init__(self, app: Application, address: str, worker_address: str, targets: Sequence[str]) -> None:
        self.app = app
        self.targets = [name for target in targets for name in target.split(",") if name]
        secret = load_secret()
        driver_ip, driver_port = driver_address(address)
        self.driver_endpoint = connect_endpoint(parse_address(f"[{driver_ip}]:{driver_port}"))
        if worker_address:
            listen = parse_address(worker_address, LOOPBACK, None, what="--worker-address")
            listen_ip, listen_port = listen.ip, listen.port
        else:
            source = _env.distributed_setting("UCX_SOURCE_ADDRESS")
            listen_ip = (
                parse_address(source, what="UCX_SOURCE_ADDRESS").ip if source else route_source_ip(driver_ip)
            )
            listen_port = None
        self.encrypt = encrypt_data()
        self.byte_budget = _byte_budget()
        self.data_server_key, data_secret_key = curve_keypair(secret, DATA_SERVER_LABEL)
        self.context: zmq.Context[Any] = zmq.Context()
        self.auth = Authenticator(self.context)
        self.auth.start()
        # CUDA IPC (unless HOLOFLOW_CUDA_IPC=0): one importer for every inbound link of this process.
        self.importer = IpcImporter() if cuda_ipc_enabled() else None
        importer = self.importer
        try:
            self.listener = DataListener(
                self.context,
                self.auth,
                ip=listen_ip,
                port=listen_port,
                preferred_ports=_preferred_ports(),
                encrypt=self.encrypt,
                secret_key=data_secret_key,
                decode=None if importer is None else lambda frames: decode(frames, cuda_import=importer),
            )
        except BaseException:
            self.auth.close()
            self.context.term()
            raise
        interval, timeout = heartbeat_settings()
        self.heartbeats = Heartbeats(interval, timeout)
        sock = self.context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_CONTROL_BYTES)
        server_public, _ = curve_keypair(secret, DRIVER_LABEL)
        public, secret_key = curve_keypair(secret, PEER_LABEL)
        sock.curve_serverkey = server_public
        sock.curve_publickey = public
        sock.curve_secretkey = secret_key
        self.monitor = sock.get_monitor_socket(MONITOR_EVENTS)
        self.sock = sock
        self.outbox: queue.SimpleQueue[ControlMessage | str] = queue.SimpleQueue()
        self.inbox: queue.SimpleQueue[ControlMessage | BaseException] = queue.SimpleQueue()
        self.wake_r, self.wake_w = os.pipe()
        self.run_id = ""
        self.accepted = False
        self.handshaken = False
        self.exiting = False
        self.runner: _WorkerRunner | None = None
        self.links: list[DataLink] = []
        self.exporters: list[IpcExporter] = []
        self.control_done = threading.Event()
        self.control = threading.Thread(
            target=self._control_loop, name="holoflow-worker-control", daemon=True
        )

    # -- any thread --------------------------------------------------------------------------

    def post(self, item: ControlMessage | str) -> None:
        """Queue a message (or :data:`_STATES`) for the control thread to send."""
        self.outbox.put(item)
        try:
            os.write(self.wake_w, b"\0")
        except OSError:
            pass  # closed: the worker is over

    def send(self, kind: str, **fields: Any) -> None:
        self.post(make_control(kind, run_id=self.run_id, **fields))

    def report_failure(self, fragment: str, error: BaseException) -> None:
        """Tell the driver that ``fragment`` (``""``: this worker) failed with ``error``."""
        try:
            wire = error_to_wire(error)
        except Exception:
            wire = {"type": "builtins.RuntimeError", "message": f"{type(error).__name__}: {error}"[:4000]}
        self.send("FAILED", fragment=fragment, error=wire)

    def _lose(self, error: BaseException) -> None:
        """The run cannot go on (lost driver, failed link): abort the local fragments and wake
        the main thread."""
        if self.runner is not None:
            self.runner.abort(error)
        self.inbox.put(error)

    # -- main thread ---------------------------------------------------------------------------

    def run(self) -> None:
        """Join, run the assigned fragments, and return once the driver says the run is over.

        Raises
        ------
        Exception
            A local fragment's own exception.
        holoflow.errors.DistributedError
            If the driver refuses this worker, the run is aborted, or the driver is lost.
        """
        _logger.info("Worker data listener on %s", self.listener.endpoint)
        self.control.start()
        try:
            self._run()
        finally:
            self.exiting = True
            for link in self.links:
                link.close()
            self.listener.close()
            for exporter in self.exporters:
                exporter.close()
            if self.importer is not None:
                self.importer.close()
            refused = self.listener.rejections()
            if refused["refused"]:
                _logger.info("Data listener refused %d connection(s): %s", refused["refused"], refused)
            self.post("quit")
            self.control.join()
            self.monitor.close()
            self.sock.close()
            self.auth.close()
            self.context.term()
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _wait(self, *kinds: str) -> ControlMessage:
        item = self.inbox.get()
        if isinstance(item, BaseException):
            raise item
        if item.kind not in kinds:
            raise DistributedError(f"the driver sent {item.kind} where {' or '.join(kinds)} was due")
        return item

    def _run(self) -> None:
        fingerprint = app_fingerprint(self.app)
        self.post(
            make_control(
                "JOIN",
                proto=PROTOCOL,
                app_fingerprint=fingerprint,
                fragments=self.targets,
                data_endpoint=self.listener.endpoint,
                host=socket.gethostname(),
                pid=os.getpid(),
                caps=_caps(self.encrypt),
            )
        )
        accepted = self._wait("ACCEPT", "REJECT")
        if accepted.kind == "REJECT":
            raise DistributedError(f"the driver refused this worker: {accepted['reason']}")
        scheduled = self._wait("SCHEDULE", "EXIT")
        if scheduled.kind == "EXIT":
            _logger.info("This worker does not participate in the schedule")
            return
        fragments = self._compose(scheduled["fragments"])
        assignment = self._wait("ASSIGN")
        runner = self._wire(fragments, assignment)
        self.send("READY", worker_id=accepted["worker_id"])
        self._wait("START")
        try:
            runner.execute()
        except BaseException as error:
            if runner.error is None and not isinstance(error, DistributedError) and runner.aborted is None:
                self.report_failure("", error)  # Ctrl-C in this worker
            if isinstance(runner.error, DistributedError):
                self._raise_cause(runner.error)
            raise
        rejected = self.listener.rejections()
        for name, edges in runner.edges.items():
            state = edges.state()
            self.send(
                "DONE",
                fragment=name,
                sent={str(k): v for k, v in state.sent.items()},
                received={str(k): v for k, v in state.received.items()},
                dropped={},
                rejected=rejected,
            )
        self._wait("EXIT")

    def _raise_cause(self, error: DistributedError) -> None:
        """A fragment failed on a data link (closed or lost): the peer left because the run is
        ending elsewhere. Raise that reason (the driver's abort, or its loss) when it comes
        within a heartbeat timeout; return otherwise."""
        try:
            item = self.inbox.get(timeout=self.heartbeats.timeout)
        except queue.Empty:
            return
        if isinstance(item, BaseException):
            raise item from error

    def _compose(self, names: Sequence[str]) -> list[Fragment]:
        by_name = {fragment.name: fragment for fragment in self.app.fragment_graph.get_nodes()}
        fragments = [by_name[name] for name in names]
        ports = {}
        fragment = fragments[0]
        try:
            for fragment in fragments:
                fragment.compose_graph()
                ports[fragment.name] = ports_to_wire(fragment_ports(fragment))
        except Exception as error:
            self.report_failure(fragment.name, error)
            self._wait_abort()
            raise
        self.send("PORT_INFO", ports=ports)
        return fragments

    def _wait_abort(self, timeout: float = 2.0) -> None:
        """After reporting a failure: wait (briefly) until the driver aborts the run."""
        try:
            self.inbox.get(timeout=timeout)
        except queue.Empty:
            pass

    def _wire(self, fragments: list[Fragment], assignment: ControlMessage) -> _WorkerRunner:
        runner = _WorkerRunner(self.app, fragments, self)
        local = {fragment.name for fragment in fragments}
        specs = {
            edge["edge_id"]: EdgeSpec(
                edge["edge_id"], tuple(edge["src"]), tuple(edge["dst"]), window=edge["window"]
            )  # type: ignore[arg-type]
            for edge in assignment["edges"]
        }
        copy = link_mode() == "copy"
        for spec in specs.values():
            if spec.src[0] in local and spec.dst[0] in local:
                runner.link_locally(spec, copy)
        inbound: dict[int, RemoteInbound] = {}
        outbound: dict[int, RemoteOutbound] = {}
        dialing: list[tuple[Mapping[str, Any], list[EdgeSpec]]] = []
        for info in assignment["links"]:
            edges = [specs[edge_id] for edge_id in info["edges"]]
            if info["direction"] == "in":
                for spec in edges:
                    inbound_end = RemoteInbound(spec, runner.edges[spec.dst[0]])
                    inbound[spec.edge_id] = inbound_end
                    runner.edges[spec.dst[0]].add_inbound(inbound_end)  # type: ignore[arg-type]
                listened = self.listener.expect(
                    info["link_id"],
                    bytes.fromhex(info["token"]),
                    {spec.edge_id: spec.window for spec in edges},
                    lambda edge_id, message: inbound[edge_id].deliver(message),
                    self._link_lost,
                    credit_bytes=self.byte_budget // 4,
                    on_messages=lambda edge_id, messages: inbound[edge_id].deliver_many(messages),
                )
                for spec in edges:
                    inbound[spec.edge_id].link = listened
            else:
                dialing.append((info, edges))
        for info, edges in dialing:
            data_link = DataLink(
                self.context,
                info["link_id"],
                info["peer_endpoint"],
                bytes.fromhex(info["token"]),
                {spec.edge_id: spec.window for spec in edges},
                on_credit=lambda edge_id: outbound[edge_id].credited(),
                on_lost=self._link_lost,
                encrypt=self.encrypt,
                server_key=self.data_server_key,
                redial_s=_LINK_READY_S,
            )
            self.links.append(data_link)
            ipc = info["transport"] == "zmq+cuda_ipc" and cuda_ipc_enabled()
            for spec in edges:
                exporter = IpcExporter(spec.window) if ipc and spec.window > 0 else None
                if exporter is not None:
                    self.exporters.append(exporter)
                outbound_end = RemoteOutbound(
                    spec, data_link, runner.edges[spec.src[0]], exporter, self.byte_budget
                )
                outbound[spec.edge_id] = outbound_end
                runner.edges[spec.src[0]].add_outbound(outbound_end)  # type: ignore[arg-type]
        consumers = {spec.dst[0] for spec in (end.spec for end in inbound.values())}
        if len(consumers) == 1:
            # One fragment here receives from other processes: its thread, while idle, receives
            # for the listener itself (no wake from the listener's thread on the way).
            runner.edges[consumers.pop()].make_wake = self.listener.idle_event
        for data_link in self.links:
            data_link.wait_ready(_LINK_READY_S)
        runner.attach()
        self.runner = runner
        return runner

    def _link_lost(self, error: DistributedError) -> None:
        if self.exiting:
            return
        self.report_failure("", error)
        if self.runner is not None:
            self.runner.abort(error)

    # -- control thread ------------------------------------------------------------------------

    def _control_loop(self) -> None:
        try:
            self._serve()
        except BaseException as error:  # a fault here must not leave the main thread waiting
            self._lose(error)
        finally:
            self.control_done.set()

    def _serve(self) -> None:
        self.sock.connect(self.driver_endpoint)
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        poller.register(self.wake_r, zmq.POLLIN)
        join_deadline = time.monotonic() + _join_timeout()
        while True:
            wait = self.heartbeats.wait_s() if self.accepted else max(0.0, join_deadline - time.monotonic())
            ready = dict(poller.poll(int(wait * 1000) + 1))
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            # Messages first: the driver's last message arrives before its disconnection shows.
            while self.sock.poll(0):
                if self._receive(self.sock.recv_multipart(zmq.NOBLOCK)):
                    return
            if self.monitor in ready and self._read_monitor():
                return
            if self._flush_outbox():
                return
            if not self.accepted:
                if time.monotonic() >= join_deadline:
                    self._lose(
                        DistributedError(
                            f"cannot reach the driver at {self.driver_endpoint} within "
                            f"{_join_timeout():g} s (is it running, and at this address?)"
                        )
                    )
                    return
                continue
            to_send, lost = self.heartbeats.due()
            if lost and not self.exiting:
                self._lose(
                    DistributedError(
                        f"lost the driver at {self.driver_endpoint}: "
                        f"no heartbeat for {self.heartbeats.timeout:g} s"
                    )
                )
                return
            if to_send:
                self._send(make_control("HEARTBEAT", run_id=self.run_id))

    def _send(self, message: ControlMessage) -> None:
        try:
            self.sock.send(encode_control(message), zmq.NOBLOCK)
        except zmq.ZMQError:
            return  # the driver is gone: the monitor or the heartbeats say so
        self.heartbeats.sent("driver")

    def _flush_outbox(self) -> bool:
        """Send what the other threads queued; True on ``quit``."""
        while True:
            try:
                item = self.outbox.get_nowait()
            except queue.Empty:
                return False
            if item == "quit":
                return True
            if item == _STATES:
                self._send_states(None)
            elif isinstance(item, ControlMessage):
                self._send(item)

    def _send_states(self, probe: int | None) -> None:
        runner = self.runner
        if runner is None or not self.accepted:
            return
        for name, edges in runner.edges.items():
            state = edges.state()
            self._send(
                make_control(
                    "STATE",
                    run_id=self.run_id,
                    fragment=name,
                    passive=state.passive,
                    finished=state.finished,
                    epoch=state.epoch,
                    sent={str(k): v for k, v in state.sent.items()},
                    received={str(k): v for k, v in state.received.items()},
                    probe=probe,
                )
            )

    def _read_monitor(self) -> bool:
        """Handle monitor events; True when the driver is lost or refused this worker."""
        while self.monitor.poll(0):
            event, _ = read_monitor_event(self.monitor)
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshaken = True
            refused = event in (
                zmq.EVENT_HANDSHAKE_FAILED_AUTH,
                zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
            ) or (event == zmq.EVENT_DISCONNECTED and not self.handshaken)
            if refused and not self.accepted:
                self._lose(
                    DistributedError(
                        f"the driver at {self.driver_endpoint} refused this worker's handshake: "
                        "the processes do not share a secret (see docs/distributed.md), or "
                        "this address is not a holoflow driver's"
                    )
                )
                return True
            if event == zmq.EVENT_DISCONNECTED and self.accepted and not self.exiting:
                self._lose(
                    DistributedError(f"lost the driver at {self.driver_endpoint}: its connection closed")
                )
                return True
        return False

    def _receive(self, frames: list[bytes]) -> bool:
        """Handle one message from the driver; True when the control thread is done."""
        try:
            if len(frames) != 1:
                raise CodecError("a control message of several parts")
            message = decode_control(frames[0])
        except CodecError as error:
            self._lose(DistributedError(f"malformed control message from the driver: {error}"))
            return True
        kind = message.kind
        if kind in ("ACCEPT", "REJECT"):
            if self.accepted:
                self._lose(DistributedError(f"the driver sent {kind} twice"))
                return True
            if kind == "ACCEPT":
                self.accepted = True
                self.run_id = message["run_id"]
                self.heartbeats.add("driver")
            self.inbox.put(message)
            return kind == "REJECT"
        if not self.accepted or message.get("run_id") != self.run_id:
            self._lose(DistributedError(f"the driver sent {kind} before accepting this worker"))
            return True
        self.heartbeats.seen("driver")
        if kind == "HEARTBEAT":
            return False
        if kind == "PROBE":
            self._send_states(message["epoch"])
        elif kind == "STOP":
            if self.runner is not None:
                self.runner.finish()
        elif kind == "ABORT":
            wire = message.get("error")
            original = error_from_wire(wire) if wire else None
            what = f"{type(original).__name__}: {original}" if original is not None else message["reason"]
            self._lose(DistributedError(f"aborted by the driver: {what}"))
            return True
        elif kind == "EXIT":
            self.exiting = True
            self.inbox.put(message)
            return True
        else:
            self.inbox.put(message)
        return False
