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
in :class:`ReceiverStatistics`. The ICRC is checked too when asked (:meth:`FrameAssembler.check_icrc`;
off by default, as on the sensor bridge's own receiver, since it costs a CRC over every byte).
The datagram is read into one scratch buffer and payloads are copied with memoryview slices:
nothing is allocated per packet.

*Sequence.* A frame's packets carry consecutive PSNs (24 bits, wrapping) from its first packet,
at page offset 0, to its 0x2B end packet, whose last 128 payload bytes are the metadata. The
receiver keeps an *anchor*, the PSN of the current frame's first packet; a packet's *index* is
its PSN minus the anchor. Without an ICRC check any field may be corrupt, so no single packet
is allowed to move the anchor:

- index below ``span`` (the most packets a frame can take: its page in 128-byte payloads, plus
  the end packet), and offset 0 only at index 0: a packet of the current frame, placed;
- up to ``span`` behind: a late packet of a frame already delivered, dropped (``rejected_late``);
- anything else — far from the anchor either way, or a frame start (offset 0) after index 0 —
  is *held* (one packet, copied aside) and counted in ``rejected_psn``. If the next packet's
  PSN is within ``span`` of the held one, the two agree: the receiver *resynchronises* — the
  partial frame is abandoned (``frames_abandoned``; its end packet never came), the anchor
  moves to the frame start the earlier of the two implies, and both are placed. A packet of
  the current frame discards the held one instead.
- An end packet carries its PSN twice, in the header and in the metadata. When the copies
  agree, the next anchor is its PSN + 1, and such a packet that does not fit the current frame
  confirms itself (single-packet frames after a loss need no second packet). When they
  disagree, one is corrupt: the frame is delivered incomplete and the next frame is anchored
  by its own packets.

So a corrupted packet costs its own frame at most, whatever byte is hit; a lost end packet
costs its frame (the next one starts cleanly instead of merging into it); a gap of whole
frames, a PSN jump of the device or the first packets after start cost nothing but the
packets actually lost. A frame is *complete* when every PSN from its first to its 0x2B arrived
exactly once, nothing of the following frame landed in it, its end packet is self-consistent,
no duplicate disagreed with what was placed, and the bytes received equal the metadata's
``bytes_written``. A duplicate that carries the same bytes to the same place changes nothing
and is dropped; one that differs makes the frame incomplete (which copy is right is unknown).
Lost packets leave 0xFF bytes (each page is filled with 0xFF before reuse). Nothing waits for
a missing packet: there is no retransmission, so nothing can hang.
"""

from __future__ import annotations

import collections
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import ConfigError
from holoflow.sensor_bridge._crc import ICRC_SIZE, icrc_prefix
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
    frames_abandoned: int
    """Partial frames discarded because a later frame began before their 0x2B packet came."""
    packets_dropped: int
    """PSNs that never arrived."""
    rejected_runt: int
    """Datagrams too short for their headers or shorter than their DMA length."""
    rejected_icrc: int
    """Datagrams whose ICRC is wrong or missing (only while the ICRC is checked)."""
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
    rejected_psn: int
    """PSNs that fit no frame the stream could be in (far from the expected one, or a frame
    start out of place) and that the packet after them did not confirm."""
    rejected_page: int
    """Immediate values naming a buffer beyond the configured pages."""


# what a held packet keeps: opcode, psn, page offset, DMA length, metadata, immediate,
# whether an end packet's two PSN copies agree (its payload is in FrameAssembler._held)
_Held = tuple[int, int, int, int, FrameMetadata | None, int, bool]


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

    Raises
    ------
    holoflow.errors.ConfigError
        For a page that cannot hold the frame and its metadata, a page count outside 1..4096, a
        queue_size below 1, or ``memory`` of the wrong type or size.
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
        self.span = page_size // 128 + 2
        """Most packets one frame can take (128-byte payloads and the end packet): the window
        of PSNs after the anchor that belong to the current frame, and of late ones before it."""
        self._late = PSN_MASK + 1 - self.span
        self._seen = bytearray(self.span)
        self._zeros = memoryview(bytes(self.span))
        self.lock = threading.Condition()
        self.ready: collections.deque[ReceivedFrame] = collections.deque()
        self.free: collections.deque[int] = collections.deque(range(1, buffers))
        self._counts = dict.fromkeys(ReceiverStatistics.__slots__, 0)
        self._receiving = 0
        self._view = self._page_views[0]
        self.page_arrays[0].fill(0xFF)
        self._frame_psn: int | None = None
        self._trusted = False  # the anchor came from a self-consistent end packet or two agreeing packets
        self._held = bytearray(MAX_DATAGRAM)
        self._held_view = memoryview(self._held)
        self._held_psn: int | None = None
        self._held_fields: _Held = (0, 0, 0, 0, None, 0, False)
        self._icrc: tuple[tuple[str, int], tuple[str, int]] | None = None
        self._icrc_prefixes: dict[int, int] = {}
        self._numbers: tuple[tuple[int, int], ...] = ()  # (number, extended) of the last two frames
        self._delivered = 0
        self._reset_frame()

    def _reset_frame(self) -> None:
        self._frame_packets = 0
        self._frame_bytes = 0
        self._frame_start = 0
        self._seen_high = 0
        self._conflict = False

    def statistics(self) -> ReceiverStatistics:
        """Counters so far."""
        return ReceiverStatistics(**self._counts)

    @property
    def icrc_addresses(self) -> tuple[tuple[str, int], tuple[str, int]] | None:
        """``(source, destination)`` the ICRC is checked against, or None when it is not checked."""
        return self._icrc

    def check_icrc(self, source: tuple[str, int] | None, destination: tuple[str, int] | None = None) -> None:
        """Check the ICRC of every datagram from now on, or stop checking (``source`` None).
        Call it before datagrams arrive (:class:`LinuxReceiver` does, given ``icrc_source``).

        The ICRC covers the IPv4 and UDP headers, which a UDP socket does not hand over, so they
        are rebuilt from the addresses as the device sends them (IP id 0, don't-fragment).

        Parameters
        ----------
        source : (str, int) or None
            The device's data-plane address and UDP source port (12288,
            ``registers.UDP_SOURCE_PORT``); None switches the check off.
        destination : (str, int)
            The address and port the datagrams are sent to (the receiver's bound socket).

        Raises
        ------
        holoflow.errors.ConfigError
            If ``source`` is given without ``destination``, or either is not an IPv4 address and
            a port.
        """
        if source is None:
            self._icrc = None
            return
        if destination is None:
            raise ConfigError("receiver: check_icrc needs the destination address with the source")
        try:
            icrc_prefix(source, destination, 64)
        except (OSError, TypeError, ValueError, struct.error) as exc:
            raise ConfigError(
                f"receiver: check_icrc needs IPv4 (address, port) pairs, got {source!r} and "
                f"{destination!r}: {exc}"
            ) from None
        self._icrc_prefixes = {}  # the CRC of the headers, by datagram length
        self._icrc = (source, destination)

    def _icrc_fails(
        self, packet: memoryview, at: int, size: int, addresses: tuple[tuple[str, int], tuple[str, int]]
    ) -> bool:
        """Whether the datagram's last 4 bytes are not the ICRC of the rest."""
        if size < HEADER_SIZE + ICRC_SIZE:
            return True
        prefixes = self._icrc_prefixes
        prefix = prefixes.get(size)
        if prefix is None:
            if len(prefixes) >= 64:  # hostile traffic of every length
                prefixes.clear()
            prefix = prefixes[size] = icrc_prefix(*addresses, size)
        end = at + size - ICRC_SIZE
        crc = zlib.crc32(packet[at + 5 : end], zlib.crc32(b"\xff", zlib.crc32(packet[at : at + 4], prefix)))
        return crc != int.from_bytes(packet[end : end + ICRC_SIZE], "little")

    def feed(self, datagram: bytes | bytearray | memoryview) -> ReceivedFrame | None:
        """Process one datagram given as bytes (tests, fuzzing); see :meth:`accept`."""
        size = min(len(datagram), MAX_DATAGRAM)
        self._packet_view[:size] = memoryview(datagram).cast("B")[:size]
        return self.accept(size)

    def accept(self, size: int, at: int = 0) -> ReceivedFrame | None:
        """Process the datagram in ``packet[at:at + size]``; returns the frame it completed, if
        any (the later one if it completed two: a held frame's and its own).

        Never raises for any content: a bad datagram is dropped and counted.
        """
        counts = self._counts
        counts["packets_received"] += 1
        packet = self._packet_view
        if size < HEADER_SIZE:
            counts["rejected_runt"] += 1
            return None
        addresses = self._icrc
        if addresses is not None and self._icrc_fails(packet, at, size, addresses):
            counts["rejected_icrc"] += 1
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
        psn = psn_word & PSN_MASK
        if opcode == OPCODE_WRITE_ONLY:
            anchor = self._frame_psn
            if anchor is not None and self._held_psn is None:  # the common case, inline
                index = (psn - anchor) & PSN_MASK
                if index < self.span and (offset or not index) and not self._seen[index]:
                    self._seen[index] = 1
                    if index >= self._seen_high:
                        self._seen_high = index + 1
                    if not self._frame_packets:
                        self._frame_start = time.time_ns()
                    self._frame_packets += 1
                    counts["packets_accepted"] += 1
                    self._view[offset : offset + length] = packet[at + start : at + end]
                    self._frame_bytes += length
                    return None
            return self._sequence(packet, at + start, (opcode, psn, offset, length, None, 0, True))
        if length < METADATA_SIZE:
            counts["rejected_bounds"] += 1
            return None
        immediate = IMMEDIATE.unpack_from(packet, at + HEADER_SIZE)[0]
        if immediate & 0xFFF >= self.pages:
            counts["rejected_page"] += 1
            return None
        metadata = FrameMetadata.decode(packet, at + end - METADATA_SIZE)
        fields = (opcode, psn, offset, length, metadata, immediate, metadata.psn == psn)
        return self._sequence(packet, at + start, fields)

    def _sequence(self, view: memoryview, pos: int, fields: _Held) -> ReceivedFrame | None:
        """Place, drop or hold one checked packet whose payload is at ``view[pos:]``."""
        opcode, psn, offset, _, _, _, consistent = fields
        held = self._held_psn
        anchor = self._frame_psn
        if anchor is not None:
            index = (psn - anchor) & PSN_MASK
            if index < self.span and (offset or not index):  # a packet of the current frame
                if held is not None:
                    if not self._held_fields[2] and 0 < (psn - held) & PSN_MASK < self.span:
                        # it follows a held frame start: the current frame's end was lost
                        return self._resynchronise(view, pos, fields, held_first=True)
                    self._held_psn = None
                return self._place(view, pos, fields, index)
            if index > self._late:
                self._counts["rejected_late"] += 1
                return None
        end = opcode == OPCODE_WRITE_ONLY_IMMEDIATE and consistent  # an end packet confirms itself
        if held is not None:
            ahead = (psn - held) & PSN_MASK
            if 0 < ahead < self.span:  # the two agree, the held one first
                return self._resynchronise(view, pos, fields, held_first=True)
            if ahead > self._late and not end:  # they agree, this one first
                return self._resynchronise(view, pos, fields, held_first=False)
        if end:  # a held packet after it stays held: it would be the next frame's, unconfirmed
            self._move_anchor(psn)
            return self._place(view, pos, fields, 0)
        self._hold(view, pos, fields)
        return None

    def _hold(self, view: memoryview, pos: int, fields: _Held) -> None:
        opcode, psn, _, length, _, _, _ = fields
        size = length if opcode == OPCODE_WRITE_ONLY else length - METADATA_SIZE
        if view is not self._held_view:
            self._held[:size] = view[pos : pos + size]
        self._held_psn = psn
        self._held_fields = fields
        self._counts["rejected_psn"] += 1

    def _resynchronise(
        self, view: memoryview, pos: int, fields: _Held, held_first: bool
    ) -> ReceivedFrame | None:
        """The held packet and this one agree: anchor where the earlier one's frame began and
        place both (each may still turn out late or out of place)."""
        held = self._held_fields
        self._held_psn = None
        self._counts["rejected_psn"] -= 1  # counted again below, as whatever it turns out to be
        opcode, psn, offset, length, _, _, _ = held if held_first else fields
        # a full data packet at k payloads into the page is the frame's packet k
        index = offset // length if opcode == OPCODE_WRITE_ONLY and length and offset % length == 0 else 0
        self._move_anchor((psn - (index if index < self.span else 0)) & PSN_MASK)
        if held_first:
            first = self._sequence(self._held_view, 0, held)
            second = self._sequence(view, pos, fields)
        else:
            first = self._sequence(view, pos, fields)
            second = self._sequence(self._held_view, 0, held)
        return second or first

    def _move_anchor(self, anchor: int) -> None:
        """Start the current frame at PSN ``anchor``, abandoning a partial one; with a trusted
        anchor before, the PSNs skipped count as dropped."""
        old = self._frame_psn
        if old == anchor:
            return
        packets = self._frame_packets
        if old is not None and self._trusted:
            gap = (anchor - old) & PSN_MASK
            if gap < PSN_MASK // 2:  # forward: the packets in between were lost
                self._counts["packets_dropped"] += max(0, gap - packets)
        if packets:
            self._counts["frames_abandoned"] += 1
            self._seen[: self._seen_high] = self._zeros[: self._seen_high]
            self._reset_frame()
            self.page_arrays[self._receiving].fill(0xFF)
        self._frame_psn = anchor
        self._trusted = True

    def _place(self, view: memoryview, pos: int, fields: _Held, index: int) -> ReceivedFrame | None:
        """Write one packet of the current frame (``index`` after the anchor)."""
        opcode, _, offset, length, metadata, immediate, consistent = fields
        counts = self._counts
        if self._seen[index]:
            counts["rejected_duplicate"] += 1
            # the same bytes to the same place change nothing; anything else is a conflict
            if (
                opcode != OPCODE_WRITE_ONLY
                or self._view[offset : offset + length] != view[pos : pos + length]
            ):
                self._conflict = True
            return None
        self._seen[index] = 1
        before = self._seen_high
        if index >= before:
            self._seen_high = index + 1
        if not self._frame_packets:
            self._frame_start = time.time_ns()
        self._frame_packets += 1
        counts["packets_accepted"] += 1
        if opcode == OPCODE_WRITE_ONLY:
            self._view[offset : offset + length] = view[pos : pos + length]
            self._frame_bytes += length
            return None
        assert metadata is not None, "an end packet is held with its metadata"
        data = length - METADATA_SIZE
        if data:
            self._view[offset : offset + data] = view[pos : pos + data]
            # a merged tail carries zero padding up to the metadata slot: count frame bytes only
            self._frame_bytes += max(0, min(offset + data, metadata.bytes_written) - offset)
        # an end packet whose PSN copies disagree may sit at a wrong index: count the frame's
        # packets up to the last data packet seen instead
        return self._finish(metadata, index, immediate, consistent, index + 1 if consistent else before + 1)

    def _finish(
        self, metadata: FrameMetadata, index: int, immediate: int, consistent: bool, expected: int
    ) -> ReceivedFrame:
        counts = self._counts
        missing = max(0, expected - self._frame_packets)
        counts["packets_dropped"] += missing
        intruded = self._seen_high > expected  # packets of the next frame landed here
        complete = (
            consistent
            and not missing
            and not intruded
            and not self._conflict
            and self._frame_bytes == metadata.bytes_written <= self.frame_size
        )
        # the 16-bit device counter, extended by the shorter step (either way) from the last two
        # frames, so that one corrupted number does not shift every later one
        number = metadata.frame_number
        extended, shortest = number, 0x10000
        for known, known_extended in self._numbers:
            step = (number - known) & 0xFFFF
            if step > 0x8000:
                step -= 0x10000
            if abs(step) < shortest:
                extended, shortest = known_extended + step, abs(step)
        self._numbers = ((number, extended), *self._numbers[:1])
        frame = ReceivedFrame(
            page=self._receiving,
            metadata=metadata,
            frame_number=extended,
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
        assert self._frame_psn is not None, "a frame is finished only once anchored"
        # the next frame starts after this end packet, if its PSN can be believed
        self._frame_psn = (self._frame_psn + index + 1) & PSN_MASK if consistent else None
        self._trusted = consistent
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
    icrc_source : (str, int), optional
        The device's data-plane address and UDP source port (``(peer_ip, 12288)``): given, the
        assembler checks every datagram's ICRC as sent from there to this socket
        (:meth:`FrameAssembler.check_icrc`); by default it is not checked.

    Raises
    ------
    holoflow.errors.ConfigError
        If ``icrc_source`` is not an IPv4 address and a port.
    OSError
        If the socket cannot be bound to ``local_ip``.
    """

    def __init__(
        self,
        assembler: FrameAssembler,
        local_ip: str = "127.0.0.1",
        receive_buffer: int = 32 << 20,
        on_frame: Callable[[ReceivedFrame], None] | None = None,
        batched: bool | None = None,
        icrc_source: tuple[str, int] | None = None,
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
        if icrc_source is not None:
            try:
                assembler.check_icrc(icrc_source, self.address)
            except BaseException:
                self.socket.close()
                raise
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
