"""``HSBEmulator``: a software sensor-bridge device on plain UDP sockets (no root, no FPGA).

It speaks the real wire protocols, so the host stack is tested unchanged over loopback:

- **enumeration** — a BOOTP announcement per data plane every ``announce_interval`` seconds,
  sent unicast to ``announce_to`` (loopback has no useful broadcast) from ``ip:12268``; a
  BOOTREPLY (set-IP) arriving on that socket with the device's MAC moves it to the new address;
- **control plane** — ECB on ``ip:control_port`` with a register map: unmapped addresses answer
  INVALID_ADDRESS, sequence checking answers 0x0B, writes to the reset register restart the
  device without a reply, APB RAM programs run on the software event (I2C goes through them);
- **data plane** — frames as RoCE v2 RDMA WRITE datagrams from ``ip:12288`` to the host address
  and port in the virtual-port registers, once that port's bit is set in VP_MASK: test patterns
  of the camera's mode while the emulated IMX274 streams, frames given to :meth:`stream`, or one
  frame at a time with :meth:`send_frame`.

Every device thread is joined by :meth:`stop`; sockets use short timeouts so nothing hangs.
Control-plane faults for tests: :meth:`drop_requests` and :meth:`drop_replies`.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from holoflow.errors import PacketFormatError
from holoflow.gxf import GXFReader
from holoflow.sensor_bridge import (
    BOOTP_REQUEST_PORT,
    CONTROL_PACKET_SIZE,
    CONTROL_UDP_PORT,
    FLAG_ACK_REQUEST,
    FLAG_SEQUENCE_CHECK,
    Announcement,
    Command,
    ControlReply,
    ControlRequest,
    EmulatedImx274,
    I2cPeripheral,
    RegisterMap,
    SpiMemory,
    SpiPeripheral,
    Status,
    apply_strategy,
    csi_test_frame,
    decode_announcement,
    decode_set_ip_reply,
)
from holoflow.sensor_bridge import registers as reg
from holoflow.testing._sensor_bridge_transmitter import DataPlaneConfig, Impairment, RoceTransmitter

__all__ = [
    "EmulatorStatistics",
    "HSBEmulator",
    "frames_from_gxf",
    "random_loopback_ip",
]

_POLL = 0.05


@dataclass(frozen=True, slots=True)
class EmulatorStatistics:
    """Counters of one emulator."""

    control_requests: int
    """Control datagrams received."""
    control_dropped: int
    """Requests and replies dropped on purpose (``drop_requests``/``drop_replies``)."""
    sequence_errors: int
    """Requests refused by the sequence check."""
    announcements: int
    """BOOTP announcements sent."""
    frames_sent: int
    """Windows sent on the data plane."""
    packets_sent: int
    """Data-plane datagrams sent."""
    packets_impaired: int
    """Packets lost, duplicated, reordered or truncated on purpose."""
    resets: int
    """Device resets."""


class HSBEmulator:
    """One emulated device.

    Parameters
    ----------
    ip : str
        The device address to bind (any 127.x.y.z works on Linux loopback).
    control_port : int
        Control-plane port (8192).
    announce_to : (str, int) or None
        Where announcements go: ``("127.0.0.1", 12267)`` on loopback, a subnet broadcast
        address on a real network; None disables them.
    announce_interval : float
        Seconds between announcements.
    data_planes : int
        Data planes (1 or 2), one sensor each.
    mac : bytes
        Hardware address of data plane 0 (data plane 1 adds 1 to the last byte).
    serial_number : bytes
        7 raw bytes.
    hsb_ip_version : int
        Value of the version register.
    sequence_checking : bool
        Enforce sequence numbers when a request asks for it.
    impairment : Impairment
        Data-plane faults to inject.
    merged_metadata : bool
        Send the metadata with the frame's tail when it fits.
    camera : EmulatedImx274 or None
        The camera on I2C bus 1 (a new one by default).
    frames : iterable of bytes, optional
        Frames to send while the camera streams, in place of its test pattern (repeated).
    fps : float, optional
        Frame rate while the camera streams (default: the camera mode's).
    """

    def __init__(
        self,
        ip: str = "127.0.0.1",
        control_port: int = CONTROL_UDP_PORT,
        *,
        announce_to: tuple[str, int] | None = ("127.0.0.1", BOOTP_REQUEST_PORT),
        announce_interval: float = 1.0,
        data_planes: int = 1,
        mac: bytes = b"\x48\x4b\x00\x00\x00\x01",
        serial_number: bytes = b"\x03\x01\x04\x01\x05\x09\x03",
        hsb_ip_version: int = 0x2602,
        sequence_checking: bool = True,
        impairment: Impairment | None = None,
        merged_metadata: bool = False,
        camera: EmulatedImx274 | None = None,
        frames: Iterable[bytes] | None = None,
        fps: float | None = None,
    ) -> None:
        if data_planes not in (1, 2):
            raise ValueError(f"data_planes must be 1 or 2, got {data_planes}")
        self.ip = ip
        self.control_port = control_port
        self.announce_to = announce_to
        self.announce_interval = announce_interval
        self.data_planes = data_planes
        self.mac = mac
        self.serial_number = serial_number
        self.hsb_ip_version = hsb_ip_version
        self.sequence_checking = sequence_checking
        self.impairment = impairment or Impairment()
        self.merged_metadata = merged_metadata
        self.camera = camera if camera is not None else EmulatedImx274()
        self.i2c_devices: dict[tuple[int, int], I2cPeripheral] = {(1, self.camera.i2c_address): self.camera}
        self.spi_devices: dict[int, SpiPeripheral] = {0: SpiMemory()}
        self._frames = frames
        self.fps = fps
        self._lock = threading.RLock()
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._data_socket: socket.socket | None = None
        self._transmitters: dict[int, RoceTransmitter] = {}
        self._drop_requests = 0
        self._drop_replies = 0
        self._counts = dict.fromkeys(EmulatorStatistics.__slots__, 0)
        self._started = 0.0
        self._closing = False
        self._restart_thread: threading.Thread | None = None
        self._power_on()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind the sockets and start the device threads.

        Raises
        ------
        OSError
            If the control port is taken at this address.
        """
        with self._lock:
            self._closing = False
            if self._running.is_set():
                return
            control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                control.bind((self.ip, self.control_port))
            except OSError:
                control.close()
                raise
            control.settimeout(_POLL)
            bootp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            bootp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            bootp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)  # announce_to may be a broadcast
            bootp.bind((self.ip, 0 if self.announce_to is None else 12268))
            bootp.settimeout(_POLL)
            data = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            data.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            data.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            data.bind((self.ip, reg.UDP_SOURCE_PORT))
            self._sockets = [control, bootp, data]
            self._data_socket = data
            self._transmitters = {
                s: RoceTransmitter(data, self.impairment, self.merged_metadata)
                for s in range(self.data_planes)
            }
            self._started = time.monotonic()
            self._running.set()
            self._threads = [
                threading.Thread(target=self._serve_control, args=(control,), name=f"hsb-{self.ip}-control"),
                threading.Thread(target=self._serve_bootp, args=(bootp,), name=f"hsb-{self.ip}-bootp"),
                threading.Thread(target=self._serve_sensor, name=f"hsb-{self.ip}-sensor"),
            ]
            for thread in self._threads:
                thread.daemon = True
                thread.start()

    def stop(self) -> None:
        """Stop and join the device threads (a reset in progress too), close the sockets."""
        self._closing = True
        restart = self._restart_thread
        if restart is not None and restart is not threading.current_thread():
            restart.join(timeout=5)
        self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            self._running.clear()
            threads, self._threads = self._threads, []
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets = []
            self._data_socket = None

    def __enter__(self) -> HSBEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _power_on(self) -> None:
        self.register_map = RegisterMap(self.hsb_ip_version, self.i2c_devices, self.spi_devices)
        self.latched_sequence: int | None = None

    def _restart(self, ip: str | None = None) -> None:
        """Reset: stop, forget the register state (and maybe move), start again."""

        def run() -> None:
            self._shutdown()
            with self._lock:
                self._counts["resets"] += 1
                self._power_on()
                self.camera.reset()
                if ip is not None:
                    self.ip = ip
                if self._closing:
                    return
                self.start()

        self._restart_thread = threading.Thread(target=run, name=f"hsb-{self.ip}-reset", daemon=True)
        self._restart_thread.start()

    # -- test hooks --------------------------------------------------------------------------------
    def drop_requests(self, count: int) -> None:
        """Ignore the next ``count`` control requests (as if lost on the way)."""
        with self._lock:
            self._drop_requests += count

    def drop_replies(self, count: int) -> None:
        """Execute the next ``count`` requests but lose their replies."""
        with self._lock:
            self._drop_replies += count

    def statistics(self) -> EmulatorStatistics:
        """Counters so far."""
        with self._lock:
            counts = dict(self._counts)
            for transmitter in self._transmitters.values():
                counts["frames_sent"] += transmitter.frames_sent
                counts["packets_sent"] += transmitter.packets_sent
                counts["packets_impaired"] += transmitter.packets_impaired
        return EmulatorStatistics(**counts)

    def announcement(self, data_plane: int = 0) -> Announcement:
        """The announcement data plane ``data_plane`` sends."""
        mac = self.mac[:5] + bytes([(self.mac[5] + data_plane) & 0xFF])
        return Announcement(
            mac=mac,
            ip=self.ip,
            data_plane=data_plane,
            serial_number=self.serial_number,
            hsb_ip_version=self.hsb_ip_version,
            transaction_id=data_plane,
            seconds=int(time.monotonic() - self._started) & 0xFFFF,
            transmitted_packet_count=self.statistics().packets_sent & 0xFFFFFF,
        )

    def channel_metadata(self, data_plane: int = 0) -> dict[str, Any]:
        """Channel metadata for this device without enumeration (as a test fixture would)."""
        metadata = decode_announcement(self.announcement(data_plane).encode())
        metadata.update(peer_ip=self.ip, control_port=self.control_port, sequence_number_checking=1)
        apply_strategy(metadata)
        return metadata

    # -- registers ---------------------------------------------------------------------------------
    @property
    def registers(self) -> dict[int, int]:
        """Plain register values by address (the current power cycle)."""
        return self.register_map.registers

    @property
    def apb_ram(self) -> dict[int, int]:
        """APB RAM words by address."""
        return self.register_map.apb_ram

    def read_register(self, address: int) -> int | None:
        """A register's value, or None when unmapped."""
        return self.register_map.read(address)

    def write_register(self, address: int, value: int) -> bool:
        """Write a register as the device would; False when unmapped."""
        return self.register_map.write(address, value)

    # -- control plane -------------------------------------------------------------------------------
    def _serve_control(self, sock: socket.socket) -> None:
        buffer = bytearray(CONTROL_PACKET_SIZE)
        while self._running.is_set():
            try:
                size, peer = sock.recvfrom_into(buffer)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            reply = self.handle_control(bytes(buffer[:size]))
            if reply is not None:
                try:
                    sock.sendto(reply, peer)
                except OSError:
                    pass

    def handle_control(self, datagram: bytes) -> bytes | None:
        """Execute one control request; returns the reply datagram (None: no reply)."""
        with self._lock:
            self._counts["control_requests"] += 1
            if self._drop_requests:
                self._drop_requests -= 1
                self._counts["control_dropped"] += 1
                return None
            try:
                request = ControlRequest.decode(datagram)
            except PacketFormatError:
                if len(datagram) < 4 or datagram[0] & 0x80:
                    return None
                return ControlReply(
                    datagram[0] | 0x80,
                    datagram[1],
                    int.from_bytes(datagram[2:4], "big"),
                    Status.BAD_LENGTH,
                    (),
                ).encode()
            status, pairs, reset = self._execute(request)
            if reset:
                self._restart()
                return None
            if not (
                request.flags & FLAG_ACK_REQUEST or request.command in (Command.RD_DWORD, Command.RD_BLOCK)
            ):
                return None
            if self._drop_replies:
                self._drop_replies -= 1
                self._counts["control_dropped"] += 1
                return None
            return ControlReply(
                request.command | 0x80, request.flags, request.sequence, status, pairs
            ).encode()

    def _execute(self, request: ControlRequest) -> tuple[int, tuple[tuple[int, int], ...], bool]:
        sequence = request.sequence
        if (
            self.sequence_checking
            and request.flags & FLAG_SEQUENCE_CHECK
            and self.latched_sequence is not None
            and sequence != (self.latched_sequence + 1) & 0xFFFF
        ):
            self._counts["sequence_errors"] += 1
            return Status.SEQUENCE_CHECK_FAILED, (), False
        self.latched_sequence = sequence
        command = request.command
        if command in (Command.RD_DWORD, Command.RD_BLOCK):
            values = []
            for address, _ in request.pairs:
                value = self.read_register(address)
                if value is None:
                    return Status.INVALID_ADDRESS, (), False
                values.append((address, value))
            return Status.SUCCESS, tuple(values), False
        if command in (Command.WR_DWORD, Command.WR_BLOCK):
            for address, value in request.pairs:
                if address == reg.RESET_CONTROL and value & reg.RESET_DEVICE:
                    return Status.SUCCESS, (), True
                if not self.write_register(address, value):
                    return Status.INVALID_ADDRESS, (), False
            return Status.SUCCESS, request.pairs, False
        return Status.INVALID_COMMAND, (), False

    # -- enumeration ---------------------------------------------------------------------------------
    def _serve_bootp(self, sock: socket.socket) -> None:
        next_announcement = 0.0
        buffer = bytearray(1024)
        while self._running.is_set():
            now = time.monotonic()
            if self.announce_to is not None and now >= next_announcement:
                for plane in range(self.data_planes):
                    self._announce(sock, plane)
                next_announcement = now + self.announce_interval
            try:
                size = sock.recv_into(buffer)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            try:
                mac, new_ip = decode_set_ip_reply(buffer[:size])
            except PacketFormatError:
                continue
            own = {self.mac[:5] + bytes([(self.mac[5] + p) & 0xFF]) for p in range(self.data_planes)}
            if mac in own and new_ip != self.ip:
                self._restart(ip=new_ip)
                return

    def _announce(self, sock: socket.socket, plane: int) -> None:
        assert self.announce_to is not None
        try:
            sock.sendto(self.announcement(plane).encode(), self.announce_to)
        except OSError:
            return
        with self._lock:
            self._counts["announcements"] += 1

    # -- data plane --------------------------------------------------------------------------------
    def data_plane_config(self, sensor: int = 0) -> DataPlaneConfig | None:
        """The configuration of sensor ``sensor``'s virtual port, or None while it is disabled."""
        with self._lock:
            hif = 0x0200_0300 + 0x1_0000 * sensor
            vp = 0x1000 + 0x80 * sensor
            r = self.registers
            if not r.get(hif + reg.DP_VP_MASK, 0) & (1 << (2 * sensor)):
                return None
            host_ip, port = r.get(vp + reg.DP_HOST_IP, 0), r.get(vp + reg.DP_HOST_UDP_PORT, 0)
            payload = (r.get(hif + reg.DP_PACKET_SIZE, 0) & 0xFFFF) * 128
            if not host_ip or not port or not payload:
                return None
            max_buff = r.get(vp + reg.DP_MAX_BUFF, 0)
            return DataPlaneConfig(
                qp=r.get(vp + reg.DP_QP, 0),
                rkey=r.get(vp + reg.DP_RKEY, 0),
                base_address=(r.get(vp + reg.DP_PAGE_MSB, 0) << 32) | r.get(vp + reg.DP_PAGE_LSB, 0),
                page_stride=r.get(vp + reg.DP_PAGE_INC, 0) * 128,
                first_buffer=(max_buff >> 16) & 0xFFF,
                last_buffer=max_buff & 0xFFF,
                buffer_length=r.get(vp + reg.DP_BUFFER_LENGTH, 0),
                payload_size=payload,
                destination=(socket.inet_ntoa(host_ip.to_bytes(4, "big")), port & 0xFFFF),
            )

    def send_frame(
        self, frame: bytes | bytearray | memoryview, sensor: int = 0, duration: float = 0.0
    ) -> bool:
        """Send one frame on ``sensor``'s data plane now; False if it is not configured."""
        config = self.data_plane_config(sensor)
        transmitter = self._transmitters.get(sensor)
        if config is None or transmitter is None or self._data_socket is None:
            return False
        transmitter.send_frame(frame, config, duration)
        return True

    def stream(self, frames: Iterable[bytes] | None, fps: float | None = None) -> None:
        """Frames sent while the camera streams (None: its test pattern), and their rate."""
        with self._lock:
            self._frames = frames
            self.fps = fps

    def _frame_source(self) -> Iterator[bytes]:
        frames = self._frames
        if frames is not None:
            cached = list(frames)
            if cached:
                return itertools.cycle(cached)
        return itertools.repeat(csi_test_frame(self.camera.mode))

    def _serve_sensor(self) -> None:
        source: Iterator[bytes] | None = None
        next_frame = time.monotonic()
        while self._running.is_set():
            if not self.camera.streaming or self.data_plane_config(0) is None:
                source = None
                time.sleep(0.005)
                continue
            if source is None:
                source = self._frame_source()
                next_frame = time.monotonic()
            fps = self.fps or self.camera.mode.fps
            period = 1.0 / fps
            delay = next_frame - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, _POLL))
                continue
            self.send_frame(next(source), 0, duration=0.8 * period)
            next_frame += period
            if time.monotonic() - next_frame > period:  # fell behind: do not try to catch up
                next_frame = time.monotonic()


def frames_from_gxf(
    directory: str | os.PathLike[str], basename: str, tensor: str | None = None
) -> Iterator[bytes]:
    """The raw bytes of one tensor per entity of a GXF recording (the first one, or ``tensor``),
    for :class:`HSBEmulator`'s ``frames``: a recorded CSI stream replayed as the camera's."""
    with GXFReader(directory, basename) as reader:
        for entity in reader:
            tensors = entity.tensors()
            if not tensors:
                continue
            array = tensors[tensor] if tensor is not None else next(iter(tensors.values()))
            yield array.tobytes()


def random_loopback_ip(rng: Callable[[], float] = random.random) -> str:
    """A random 127.x.y.z address (x ≥ 1), for tests that need a device address of their own."""
    value = int(rng() * (1 << 24))
    x, y, z = 1 + (value >> 16) % 254, (value >> 8) & 0xFF, 1 + (value & 0xFF) % 254
    return f"127.{x}.{y}.{z}"
