"""The sockets receiver: RoCE v2 WRITE datagrams reassembled into frames in pre-allocated memory.

Design notes
------------
*Memory.* ``buffers`` pages of ``page_size`` bytes are allocated once (pinned when CUDA is
present). One page is *receiving*; finished frames wait in a *ready* queue (``queue_size``
deep, newest kept when the consumer is slow); the rest are *free*. The consumer copies a ready
frame out and gives the page back, so a page is never written while it is being read.

*Placement.* The device is programmed with buffer addresses starting at ``base_address``
(0 by default); a packet's RETH address minus the base, modulo ``page_size``, is its offset in
the receiving page (the device's buffer index is folded away, as the Linux receiver of the
sensor bridge does). Packets are placed by address, so order inside a frame does not matter.

*Trust.* Nothing in a datagram is trusted. Before a byte is written, the opcode, the QP and
R_Key (against the authenticated ones), the DMA length (against the datagram) and the address
range (against the pages, and the page end) are checked; anything else is dropped and counted
in :class:`ReceiverStatistics`. The datagram is read into one scratch buffer and payloads are
copied with memoryview slices: nothing is allocated per packet.

*Completion.* A frame ends with its 0x2B packet, whose last 128 payload bytes are the metadata.
PSNs decide everything else: the first PSN of a frame is the one after the previous frame's
0x2B; a PSN before it is a late packet of an earlier frame (dropped, counted); a PSN seen twice
in a frame is a duplicate (dropped, counted). A frame is *complete* when every PSN from its
first to its 0x2B arrived exactly once, nothing of the following frame landed in it, and the
bytes received equal the metadata's ``bytes_written``. Lost packets leave 0xFF bytes (each page
is filled with 0xFF before reuse), and the frame is delivered flagged incomplete. A lost 0x2B
merges two frames into one (incomplete). Nothing waits for a missing packet: there is no
retransmission, so nothing can hang.
"""

from __future__ import annotations

import collections
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import ConfigError
from holoflow.sensor_bridge._metadata import METADATA_SIZE, FrameMetadata
from holoflow.sensor_bridge._recvmmsg import BatchReceiver
from holoflow.sensor_bridge._roce import (
    HEADER_SIZE,
    HEADER_SIZE_IMMEDIATE,
    HEADERS,
    IMMEDIATE,
    OPCODE_WRITE_ONLY,
    OPCODE_WRITE_ONLY_IMMEDIATE,
    PSN_MASK,
)

__all__ = ["FrameAssembler", "LinuxReceiver", "ReceivedFrame", "ReceiverStatistics"]

MAX_DATAGRAM = 65536
_HALF = 1 << 23
_TIMEVAL = struct.Struct("ll")


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """What the receiver knows about one delivered frame."""

    page: int
    """Index of the local page holding it."""
    metadata: FrameMetadata
    """The device's metadata block."""
    frame_number: int
    """Device frame counter extended to 32+ bits."""
    received_frame_number: int
    """Frames delivered by this receiver so far (0-based)."""
    frame_packets_received: int
    """Packets of this frame (0x2B included)."""
    frame_bytes_received: int
    """Payload bytes placed (metadata excluded)."""
    packets_missing: int
    """PSNs of this frame that never arrived."""
    complete: bool
    """Every packet arrived once and the bytes match ``bytes_written``."""
    frame_start_ns: int
    """CLOCK_REALTIME at the frame's first packet."""
    frame_end_ns: int
    """CLOCK_REALTIME at its 0x2B packet."""
    immediate: int
    """The 0x2B packet's immediate value."""
    packets_dropped: int
    """Packets lost on the way since the receiver started (cumulative)."""

    def as_dict(self) -> dict[str, Any]:
        """The metadata keys the sensor bridge's receivers emit."""
        m = self.metadata
        received_s, received_ns = divmod(time.time_ns(), 1_000_000_000)
        return {
            "frame_packets_received": self.frame_packets_received,
            "frame_bytes_received": self.frame_bytes_received,
            "frame_number": self.frame_number,
            "received_frame_number": self.received_frame_number,
            "received_s": received_s,
            "received_ns": received_ns,
            "frame_start_s": self.frame_start_ns // 1_000_000_000,
            "frame_start_ns": self.frame_start_ns % 1_000_000_000,
            "frame_end_s": self.frame_end_ns // 1_000_000_000,
            "frame_end_ns": self.frame_end_ns % 1_000_000_000,
            "timestamp_s": m.timestamp_s,
            "timestamp_ns": m.timestamp_ns,
            "metadata_s": m.metadata_s,
            "metadata_ns": m.metadata_ns,
            "packets_dropped": self.packets_dropped,
            "packets_missing": self.packets_missing,
            "crc": m.crc,
            "psn": m.psn,
            "flags": m.flags,
            "bytes_written": m.bytes_written,
            "imm_data": self.immediate,
            "page_number": self.immediate & 0xFFF,
            "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class ReceiverStatistics:
    """Counters of one receiver (cumulative)."""

    packets_received: int
    """Datagrams read from the socket."""
    packets_accepted: int
    """Datagrams whose payload was placed."""
    frames_received: int
    """Frames completed by a 0x2B packet."""
    frames_complete: int
    """Of those, complete ones."""
    frames_dropped: int
    """Ready frames overwritten because the consumer was too slow."""
    packets_dropped: int
    """PSNs that never arrived."""
    rejected_runt: int
    """Datagrams too short for their headers or shorter than their DMA length."""
    rejected_opcode: int
    """Opcodes other than 0x2A/0x2B."""
    rejected_key: int
    """Wrong QP or R_Key."""
    rejected_bounds: int
    """Addresses or lengths outside the pages, or metadata packets of under 128 bytes."""
    rejected_duplicate: int
    """PSNs seen twice in a frame."""
    rejected_late: int
    """PSNs of a frame already delivered."""
    rejected_page: int
    """Immediate values naming a buffer beyond the configured pages."""


class FrameAssembler:
    """Bounds-checked reassembly of RoCE WRITE datagrams into pages (no sockets involved).

    Parameters
    ----------
    frame_size : int
        Largest frame in bytes.
    page_size : int
        Bytes per device buffer (≥ frame_size rounded up to 128, plus 128 for the metadata).
    pages : int
        Device buffers (addresses ``base_address + i * page_size``).
    qp, rkey : int
        The only queue pair and key accepted.
    queue_size : int
        Frames kept ready for the consumer.
    base_address : int
        Address programmed for device buffer 0.
    memory : numpy.ndarray, optional
        ``(queue_size + 2) * page_size`` uint8 bytes to use (allocated otherwise).
    batch : int
        Datagram slots in :attr:`packet` (datagrams received per system call).
    """

    def __init__(
        self,
        frame_size: int,
        page_size: int,
        pages: int = 1,
        qp: int = 0xCAF0,
        rkey: int = 0xBEEF,
        queue_size: int = 1,
        base_address: int = 0,
        memory: np.ndarray | None = None,
        batch: int = 32,
    ) -> None:
        if frame_size < 1 or page_size < frame_size + METADATA_SIZE or not 1 <= pages <= 4096:
            raise ConfigError(
                f"receiver: frame_size {frame_size}, page_size {page_size}, pages {pages}: the page "
                "must hold the frame and its 128-byte metadata, and 1 <= pages <= 4096"
            )
        if queue_size < 1:
            raise ConfigError(f"receiver: queue_size must be >= 1, got {queue_size}")
        self.frame_size = frame_size
        self.page_size = page_size
        self.pages = pages
        self.qp = qp & 0xFFFFFF
        self.rkey = rkey & 0xFFFFFFFF
        self.base_address = base_address
        self.queue_size = queue_size
        buffers = queue_size + 2
        if memory is None:
            memory = np.empty(buffers * page_size, np.uint8)
        if memory.dtype != np.uint8 or memory.size < buffers * page_size:
            raise ConfigError(f"receiver: memory must be {buffers * page_size} uint8 bytes")
        self.memory = memory
        self.page_arrays = [memory[i * page_size : (i + 1) * page_size] for i in range(buffers)]
        self._page_views = [memoryview(a) for a in self.page_arrays]  # type: ignore[arg-type]
        self.packet = bytearray(MAX_DATAGRAM * batch)
        """Datagram slots (``MAX_DATAGRAM`` bytes each) the socket reader fills."""
        self.batch = batch
        self._packet_view = memoryview(self.packet)
        self._limit = pages * page_size
        self._seen_cap = page_size // 128 + 2
        self._seen = bytearray(self._seen_cap)
        self._zeros = memoryview(bytes(self._seen_cap))
        self.lock = threading.Condition()
        self.ready: collections.deque[ReceivedFrame] = collections.deque()
        self.free: collections.deque[int] = collections.deque(range(1, buffers))
        self._counts = dict.fromkeys(ReceiverStatistics.__slots__, 0)
        self._receiving = 0
        self._view = self._page_views[0]
        self.page_arrays[0].fill(0xFF)
        self._frame_psn: int | None = None
        self._extended = -1
        self._delivered = 0
        self._reset_frame()

    def _reset_frame(self) -> None:
        self._frame_packets = 0
        self._frame_bytes = 0
        self._frame_start = 0
        self._seen_high = 0
        self._untracked = False

    def statistics(self) -> ReceiverStatistics:
        """Counters so far."""
        return ReceiverStatistics(**self._counts)

    def feed(self, datagram: bytes | bytearray | memoryview) -> ReceivedFrame | None:
        """Process one datagram given as bytes (tests, fuzzing); see :meth:`accept`."""
        size = min(len(datagram), MAX_DATAGRAM)
        self._packet_view[:size] = memoryview(datagram).cast("B")[:size]
        return self.accept(size)

    def accept(self, size: int, at: int = 0) -> ReceivedFrame | None:
        """Process the datagram in ``packet[at:at + size]``; returns the frame it completed, if
        any.

        Never raises for any content: a bad datagram is dropped and counted.
        """
        counts = self._counts
        counts["packets_received"] += 1
        packet = self._packet_view
        if size < HEADER_SIZE:
            counts["rejected_runt"] += 1
            return None
        opcode, qp_word, psn_word, address, rkey, length = HEADERS.unpack_from(packet, at)
        if opcode == OPCODE_WRITE_ONLY:
            start = HEADER_SIZE
        elif opcode == OPCODE_WRITE_ONLY_IMMEDIATE:
            start = HEADER_SIZE_IMMEDIATE
        else:
            counts["rejected_opcode"] += 1
            return None
        if qp_word & 0xFFFFFF != self.qp or rkey != self.rkey:
            counts["rejected_key"] += 1
            return None
        end = start + length
        if end > size:
            counts["rejected_runt"] += 1
            return None
        relative = address - self.base_address
        if relative < 0 or relative + length > self._limit:
            counts["rejected_bounds"] += 1
            return None
        offset = relative % self.page_size
        if offset + length > self.page_size:
            counts["rejected_bounds"] += 1
            return None
        if opcode == OPCODE_WRITE_ONLY_IMMEDIATE:
            if length < METADATA_SIZE:
                counts["rejected_bounds"] += 1
                return None
            if IMMEDIATE.unpack_from(packet, at + HEADER_SIZE)[0] & 0xFFF >= self.pages:
                counts["rejected_page"] += 1
                return None
        psn = psn_word & PSN_MASK
        frame_psn = self._frame_psn
        if frame_psn is None:  # first packet ever: guess where its frame began
            if opcode == OPCODE_WRITE_ONLY and length and offset % length == 0:
                frame_psn = (psn - offset // length) & PSN_MASK
            else:
                frame_psn = psn
            self._frame_psn = frame_psn
        index = (psn - frame_psn) & PSN_MASK
        if index >= _HALF:
            counts["rejected_late"] += 1
            return None
        if index < self._seen_cap:
            if self._seen[index]:
                counts["rejected_duplicate"] += 1
                return None
            self._seen[index] = 1
            if index >= self._seen_high:
                self._seen_high = index + 1
        else:
            self._untracked = True
        if not self._frame_packets:
            self._frame_start = time.time_ns()
        self._frame_packets += 1
        counts["packets_accepted"] += 1
        if opcode == OPCODE_WRITE_ONLY:
            self._view[offset : offset + length] = packet[at + start : at + end]
            self._frame_bytes += length
            return None
        data = length - METADATA_SIZE
        metadata = FrameMetadata.decode(packet, at + end - METADATA_SIZE)
        if data:
            self._view[offset : offset + data] = packet[at + start : at + start + data]
            # a merged tail carries zero padding up to the metadata slot: count frame bytes only
            self._frame_bytes += max(0, min(offset + data, metadata.bytes_written) - offset)
        return self._finish(metadata, psn, index, IMMEDIATE.unpack_from(packet, at + HEADER_SIZE)[0])

    def _finish(self, metadata: FrameMetadata, psn: int, index: int, immediate: int) -> ReceivedFrame:
        counts = self._counts
        expected = index + 1
        missing = max(0, expected - self._frame_packets)
        counts["packets_dropped"] += missing
        intruded = self._seen_high > expected  # packets of the next frame landed here
        complete = (
            not missing
            and not intruded
            and not self._untracked
            and self._frame_bytes == metadata.bytes_written <= self.frame_size
        )
        # the 16-bit device counter, extended (wrap-safe)
        if self._extended < 0:
            self._extended = metadata.frame_number
        else:
            self._extended += (metadata.frame_number - self._extended) & 0xFFFF
        frame = ReceivedFrame(
            page=self._receiving,
            metadata=metadata,
            frame_number=self._extended,
            received_frame_number=self._delivered,
            frame_packets_received=self._frame_packets,
            frame_bytes_received=self._frame_bytes,
            packets_missing=missing,
            complete=complete,
            frame_start_ns=self._frame_start,
            frame_end_ns=time.time_ns(),
            immediate=immediate,
            packets_dropped=counts["packets_dropped"],
        )
        self._delivered += 1
        counts["frames_received"] += 1
        counts["frames_complete"] += complete
        self._frame_psn = (psn + 1) & PSN_MASK
        self._seen[: self._seen_high] = self._zeros[: self._seen_high]
        self._reset_frame()
        with self.lock:
            self.ready.append(frame)
            while len(self.ready) > self.queue_size:
                self.free.append(self.ready.popleft().page)
                counts["frames_dropped"] += 1
            if not self.free:  # every other page is being read: drop the oldest ready frame
                self.free.append(self.ready.popleft().page)
                counts["frames_dropped"] += 1
            self._receiving = self.free.popleft()
            self.lock.notify_all()
        self._view = self._page_views[self._receiving]
        self.page_arrays[self._receiving].fill(0xFF)
        return frame

    def take(self, timeout: float) -> ReceivedFrame | None:
        """The oldest ready frame, waiting up to ``timeout`` seconds; its page stays reserved
        until :meth:`release`."""
        with self.lock:
            if not self.ready and not self.lock.wait_for(lambda: bool(self.ready), timeout):
                return None
            return self.ready.popleft()

    def release(self, frame: ReceivedFrame) -> None:
        """Give ``frame``'s page back for reuse."""
        with self.lock:
            self.free.append(frame.page)

    def frame_array(self, frame: ReceivedFrame, trim: bool = True) -> np.ndarray:
        """The bytes of a taken frame (a view of its page): ``bytes_written`` bytes when
        ``trim`` and not more than ``frame_size``, else ``frame_size``."""
        size = frame.metadata.bytes_written
        if not trim or size > self.frame_size:
            size = self.frame_size
        return self.page_arrays[frame.page][:size]


class LinuxReceiver:
    """A thread reading one UDP socket into a :class:`FrameAssembler`.

    Parameters
    ----------
    assembler : FrameAssembler
        Where packets go.
    local_ip : str
        Address to bind (the one that routes to the device); the port is chosen by the kernel.
    receive_buffer : int
        ``SO_RCVBUF`` to ask for (the kernel caps it at ``net.core.rmem_max`` unless the process
        may use ``SO_RCVBUFFORCE``).
    on_frame : callable, optional
        Called from the receiver thread after each completed frame.
    batched : bool or None
        Receive many datagrams per system call (``recvmmsg``); default: where available.
    """

    def __init__(
        self,
        assembler: FrameAssembler,
        local_ip: str = "127.0.0.1",
        receive_buffer: int = 32 << 20,
        on_frame: Callable[[ReceivedFrame], None] | None = None,
        batched: bool | None = None,
    ) -> None:
        self.assembler = assembler
        self.batched = BatchReceiver.available() if batched is None else batched
        self.on_frame = on_frame
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < receive_buffer:
            # what raising net.core.rmem_max would give, for processes allowed to (CAP_NET_ADMIN);
            # Python does not export the constant, 33 on Linux
            force = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
            if force is not None:
                try:
                    self.socket.setsockopt(socket.SOL_SOCKET, force, receive_buffer)
                except OSError:
                    pass  # not permitted: keep what rmem_max allows
        self.receive_buffer = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        """The buffer the kernel granted (Linux reports twice the usable size)."""
        # a kernel-side receive timeout keeps recv_into a single system call per packet
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _TIMEVAL.pack(0, 100_000))
        self.socket.bind((local_ip, 0))
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound address and port (what the device sends to)."""
        host, port = self.socket.getsockname()
        return str(host), int(port)

    def start(self) -> None:
        """Start the receiver thread."""
        self._running.set()
        self._thread = threading.Thread(
            target=self._run, name=f"linux-receiver-{self.address[1]}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop and join the thread (within about 100 ms), close the socket."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.socket.close()

    def _run(self) -> None:
        try:
            if self.batched:
                self._run_batched()
            else:
                self._run_single()
        except OSError as exc:  # the socket was closed under us
            if self._running.is_set():
                self.error = exc

    def _run_batched(self) -> None:
        assembler = self.assembler
        receiver = BatchReceiver(self.socket, assembler.packet, assembler.batch, MAX_DATAGRAM)
        receive = receiver.receive
        accept = assembler.accept
        running = self._running.is_set
        on_frame = self.on_frame
        while running():
            at = 0
            for size in receive():
                frame = accept(size, at)
                at += MAX_DATAGRAM
                if frame is not None and on_frame is not None:
                    on_frame(frame)

    def _run_single(self) -> None:
        recv_into = self.socket.recv_into
        assembler = self.assembler
        accept = assembler.accept
        packet = memoryview(assembler.packet)[:MAX_DATAGRAM]
        running = self._running.is_set
        on_frame = self.on_frame
        while running():
            try:
                size = recv_into(packet)
            except (BlockingIOError, TimeoutError, InterruptedError):
                continue
            frame = accept(size)
            if frame is not None and on_frame is not None:
                on_frame(frame)
