"""The device's data-plane transmitter: one frame (sensor window) → RoCE v2 UDP datagrams.

Per window of ``F = buffer_length`` bytes into buffer ``b``, with payload ``P`` per packet:
data packets (0x2A) at ``base + k·P`` carry ``min(P, F - k·P)`` bytes; then one 0x2B packet
at ``base + round_up(F, 128)`` carries the 128-byte metadata block, its immediate is
``(psn & 0xFFFFF) << 12 | b``. In *merged* mode the tail data, zero padding up to the metadata
slot and the metadata travel in one 0x2B packet when they fit. The PSN is 24 bits and runs on
across frames; ``b`` cycles through the configured buffers. Datagrams leave from the device's
data socket (source port 12288) with a real ICRC.

Impairments (loss, duplication, reordering, truncation) are applied per packet from a seeded
random generator, so tests are repeatable.
"""

from __future__ import annotations

import random
import socket
import struct
import time
import zlib
from dataclasses import dataclass

from holoflow.sensor_bridge import (
    FLAG_COUNT_ENDED,
    FLAG_EARLY_TLAST,
    METADATA_SIZE,
    OPCODE_WRITE_ONLY,
    OPCODE_WRITE_ONLY_IMMEDIATE,
    PKEY_DEFAULT,
    PSN_MASK,
    FrameMetadata,
    frame_crc,
    icrc_prefix,
    make_immediate,
)

__all__ = ["DataPlaneConfig", "Impairment", "RoceTransmitter"]

_HEADER = struct.Struct(">BBHIIQII")  # opcode, flags, pkey, resv<<24|qp, psn, va, rkey, len
_IMMEDIATE = struct.Struct(">I")
_BURST = 32  # packets between pacing checks


@dataclass(frozen=True, slots=True)
class DataPlaneConfig:
    """A snapshot of one virtual port's registers."""

    qp: int
    """Destination queue pair."""
    rkey: int
    """Remote key."""
    base_address: int
    """Address of buffer 0 (PAGE_MSB:PAGE_LSB)."""
    page_stride: int
    """Bytes between buffers (PAGE_INC · 128)."""
    first_buffer: int
    """First buffer index (MAX_BUFF bits 27:16)."""
    last_buffer: int
    """Last buffer index (MAX_BUFF bits 11:0)."""
    buffer_length: int
    """Bytes per window (DP_BUFFER_LENGTH)."""
    payload_size: int
    """Payload bytes per packet (DP_PACKET_SIZE · 128)."""
    destination: tuple[str, int]
    """Host address and UDP port."""


@dataclass(frozen=True, slots=True)
class Impairment:
    """Per-packet fault injection probabilities (0 disables each)."""

    loss: float = 0.0
    """Drop the packet."""
    duplicate: float = 0.0
    """Send it twice."""
    reorder: float = 0.0
    """Swap it with the next packet."""
    truncate: float = 0.0
    """Cut its datagram short at a random length."""
    seed: int = 0
    """Seed of the random generator."""

    @property
    def active(self) -> bool:
        """Whether any impairment is enabled."""
        return bool(self.loss or self.duplicate or self.reorder or self.truncate)


class RoceTransmitter:
    """Sends windows on ``sock`` (bound to the device address, port 12288).

    Parameters
    ----------
    sock : socket.socket
        The device's data socket.
    impairment : Impairment
        Faults to inject.
    merged_metadata : bool
        Send tail data and metadata in one 0x2B packet when they fit (the software emulator's
        default upstream); otherwise a separate 206-byte metadata packet (the FPGA's).
    compute_crc : bool
        Fill in the metadata's frame CRC (JAMCRC of the window).
    """

    def __init__(
        self,
        sock: socket.socket,
        impairment: Impairment | None = None,
        merged_metadata: bool = False,
        compute_crc: bool = True,
    ) -> None:
        self.sock = sock
        self.impairment = impairment or Impairment()
        self.merged_metadata = merged_metadata
        self.compute_crc = compute_crc
        self.psn = 0
        self.buffer = -1
        self.frame_number = 0
        self.frames_sent = 0
        self.packets_sent = 0
        self.packets_impaired = 0
        self._random = random.Random(self.impairment.seed)
        self._prefixes: dict[tuple[tuple[str, int], int], int] = {}
        self._crc_cache: dict[tuple[int, int, int], tuple[bytes, int]] = {}
        self._source = sock.getsockname()

    def _prefix(self, destination: tuple[str, int], udp_length: int) -> int:
        key = (destination, udp_length)
        prefix = self._prefixes.get(key)
        if prefix is None:
            if len(self._prefixes) > 64:
                self._prefixes.clear()
            prefix = self._prefixes[key] = icrc_prefix(self._source, destination, udp_length)
        return prefix

    def _next_buffer(self, config: DataPlaneConfig) -> int:
        b = self.buffer
        if b < config.first_buffer or b >= config.last_buffer:
            b = config.first_buffer
        else:
            b += 1
        self.buffer = b
        return b

    def send_frame(
        self, frame: bytes | bytearray | memoryview, config: DataPlaneConfig, duration: float = 0.0
    ) -> int:
        """Send ``frame`` as windows of ``config.buffer_length`` bytes, spread over ``duration``
        seconds. Returns the number of windows sent."""
        data = memoryview(frame).cast("B")
        window = max(config.buffer_length, 1)
        starts = range(0, max(len(data), 1), window)
        per_window = duration / len(starts)
        for start in starts:
            chunk = data[start : start + window]
            ended_by_count = len(chunk) == window
            crc = self._window_crc(frame, start, chunk)
            flags = FLAG_COUNT_ENDED if ended_by_count else FLAG_EARLY_TLAST
            self._send_window(chunk, config, flags, per_window, crc)
        return len(starts)

    def _window_crc(self, frame: object, start: int, chunk: memoryview) -> int:
        """JAMCRC of a window; remembered for immutable frames sent again (a repeating
        source), so that a 10 MB frame is not checksummed 60 times a second."""
        if not self.compute_crc:
            return 0
        if not isinstance(frame, bytes):
            return frame_crc(chunk)
        key = (id(frame), start, len(chunk))
        cached = self._crc_cache.get(key)
        if cached is None or cached[0] is not frame:
            if len(self._crc_cache) >= 16:
                self._crc_cache.clear()
            cached = self._crc_cache[key] = (frame, frame_crc(chunk))
        return cached[1]

    def _send_window(
        self, data: memoryview, config: DataPlaneConfig, flags: int, duration: float, crc: int
    ) -> None:
        b = self._next_buffer(config)
        base = config.base_address + b * config.page_stride
        size = len(data)
        payload = config.payload_size
        first_s, first_ns = divmod(time.time_ns(), 1_000_000_000)
        count = -(-size // payload) if size else 0
        metadata_address = base + (-(-size // 128) * 128)
        merge = self.merged_metadata and count > 0
        tail = size - (count - 1) * payload if count else 0
        if merge and (metadata_address - (base + (count - 1) * payload)) + METADATA_SIZE + 4 > payload - 128:
            merge = False
        packets = count - 1 if merge else count
        impaired = self.impairment.active
        pending: list[list[bytes | memoryview]] = []
        started = time.perf_counter()
        header = bytearray(_HEADER.size)
        send = self.sock.sendmsg
        destination = config.destination
        qp_word = config.qp & 0xFFFFFF
        rkey = config.rkey & 0xFFFFFFFF
        for k in range(packets):
            offset = k * payload
            length = payload if k < count - 1 else tail
            chunk = data[offset : offset + length]
            psn = self.psn
            _HEADER.pack_into(
                header,
                0,
                OPCODE_WRITE_ONLY,
                0,
                PKEY_DEFAULT,
                0xFF000000 | qp_word,
                psn,
                base + offset,
                rkey,
                length,
            )
            icrc = zlib.crc32(chunk, zlib.crc32(header, self._prefix(destination, _HEADER.size + length + 4)))
            header[4] = 0
            self.psn = (psn + 1) & PSN_MASK
            parts: list[bytes | memoryview] = [bytes(header), chunk, icrc.to_bytes(4, "little")]
            if impaired:
                pending.append(parts)
            else:
                send(parts, (), 0, destination)
                self.packets_sent += 1
                if duration and k % _BURST == _BURST - 1:
                    self._pace(started, duration * (k + 1) / max(count, 1))
        # the end-of-window packet
        psn = self.psn
        self.psn = (psn + 1) & PSN_MASK
        meta_s, meta_ns = divmod(time.time_ns(), 1_000_000_000)
        block = FrameMetadata(
            flags=flags,
            psn=psn,
            crc=crc,
            timestamp_s=first_s,
            timestamp_ns=first_ns,
            bytes_written=size,
            frame_number=self.frame_number & 0xFFFF,
            metadata_s=meta_s,
            metadata_ns=meta_ns,
        ).encode()
        if merge:
            offset = (count - 1) * payload
            pad = metadata_address - (base + offset) - tail
            body = bytes(data[offset:]) + bytes(pad) + block
            address = base + offset
        else:
            body, address = block, metadata_address
        _HEADER.pack_into(
            header,
            0,
            OPCODE_WRITE_ONLY_IMMEDIATE,
            0,
            PKEY_DEFAULT,
            0xFF000000 | qp_word,
            psn,
            address,
            rkey,
            len(body),
        )
        immediate = _IMMEDIATE.pack(make_immediate(psn, b))
        prefix = self._prefix(destination, _HEADER.size + 4 + len(body) + 4)
        icrc = zlib.crc32(body, zlib.crc32(immediate, zlib.crc32(header, prefix)))
        header[4] = 0
        last: list[bytes | memoryview] = [bytes(header) + immediate, body, icrc.to_bytes(4, "little")]
        if impaired:
            pending.append(last)
            self._send_impaired(pending, destination)
        else:
            send(last, (), 0, destination)
            self.packets_sent += 1
        self.frame_number += 1
        self.frames_sent += 1

    def _pace(self, started: float, due: float) -> None:
        ahead = due - (time.perf_counter() - started)
        if ahead > 0.0005:
            time.sleep(ahead)

    def _send_impaired(self, packets: list[list[bytes | memoryview]], destination: tuple[str, int]) -> None:
        rng = self._random
        spec = self.impairment
        out: list[bytes] = []
        for parts in packets:
            datagram = b"".join(parts)
            if rng.random() < spec.loss:
                self.packets_impaired += 1
                continue
            if rng.random() < spec.truncate:
                self.packets_impaired += 1
                datagram = datagram[: rng.randrange(len(datagram))]
            out.append(datagram)
            if rng.random() < spec.duplicate:
                self.packets_impaired += 1
                out.append(datagram)
        i = 0
        while i < len(out) - 1:
            if rng.random() < spec.reorder:
                self.packets_impaired += 1
                out[i], out[i + 1] = out[i + 1], out[i]
                i += 2
            else:
                i += 1
        for datagram in out:
            self.sock.sendto(datagram, destination)
            self.packets_sent += 1
