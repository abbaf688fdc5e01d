"""Finding devices: listen for BOOTP announcements and turn them into channel metadata.

An :class:`Enumerator` owns one UDP socket bound to the announcement port (12267, shared with
other listeners through ``SO_REUSEADDR``/``SO_REUSEPORT``). Every announcement is decoded
(:func:`decode_announcement`), stamped with where it came from (``peer_ip`` is the UDP source
address, the address a host talks to) and completed with the board's address map
(:func:`apply_strategy`). Undecodable datagrams are counted and skipped.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from holoflow.errors import DeviceNotFoundError, PacketFormatError
from holoflow.sensor_bridge._bootp import (
    BOOTP_REPLY_PORT,
    BOOTP_REQUEST_PORT,
    decode_announcement,
    encode_set_ip_reply,
)
from holoflow.sensor_bridge._control import CONTROL_UDP_PORT

__all__ = ["Enumerator", "apply_strategy"]

UDP_PACKET_SIZE = 10240
_PKTINFO = struct.Struct("=i4s4s")
# Python does not export IP_PKTINFO everywhere; its value on Linux is 8
_IP_PKTINFO: int | None = getattr(socket, "IP_PKTINFO", 8 if sys.platform.startswith("linux") else None)
_REQUIRED = ("hif_address", "peer_ip", "data_plane", "serial_number", "control_port")
_SENSORS, _DATA_PLANES, _SIFS_PER_SENSOR = 2, 2, 2


def apply_strategy(
    metadata: dict[str, Any], sensor: int | None = None, data_plane: int | None = None
) -> None:
    """Add the register map of one sensor and data plane to ``metadata`` (in place).

    The default board has 2 sensors, 2 data planes and 2 sensor interfaces per sensor; by
    default the sensor is the announcing data plane. Adds ``hif_address``, ``sensor``,
    ``vp_mask``, ``sif_address``, ``vp_address``, ``frame_end_event``, ``sensor_number``,
    ``ptp_enable`` and ``block_enable``.

    Raises
    ------
    ValueError
        If ``sensor`` or ``data_plane`` is out of range.
    """
    plane = int(metadata.get("data_plane", 0)) if data_plane is None else data_plane
    number = plane if sensor is None else sensor
    if not 0 <= number < _SENSORS or not 0 <= plane < _DATA_PLANES:
        raise ValueError(f"sensor {number} / data plane {plane} out of range ({_SENSORS}, {_DATA_PLANES})")
    vp = number * _SIFS_PER_SENSOR
    metadata.update(
        data_plane=plane,
        sensor_number=number,
        hif_address=0x0200_0300 + 0x1_0000 * plane,
        sensor=vp,
        vp_mask=1 << vp,
        sif_address=0x0100_0000 + 0x1_0000 * number,
        vp_address=0x1000 + 0x40 * vp,
        frame_end_event=16 + number,
    )
    metadata.setdefault("ptp_enable", 1)
    metadata.setdefault("block_enable", 1)


class Enumerator:
    """Listens for device announcements.

    Parameters
    ----------
    local_interface : str
        Local address to bind ("" for all).
    bootp_request_port : int
        Port the announcements arrive on (12267; 0 picks a free one, see :attr:`port`).
    bootp_reply_port : int
        Port set-IP replies go to (12268).
    control_port : int
        Control port recorded in the metadata (8192).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        local_interface: str = "",
        bootp_request_port: int = BOOTP_REQUEST_PORT,
        bootp_reply_port: int = BOOTP_REPLY_PORT,
        control_port: int = CONTROL_UDP_PORT,
    ) -> None:
        self.bootp_reply_port = bootp_reply_port
        self.control_port = control_port
        self.malformed = 0
        """Datagrams that were not announcements."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if _IP_PKTINFO is not None:
            self._socket.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
        self._socket.bind((local_interface, bootp_request_port))

    @property
    def port(self) -> int:
        """The port announcements are read from."""
        return int(self._socket.getsockname()[1])

    def close(self) -> None:
        """Close the socket."""
        self._socket.close()

    def __enter__(self) -> Enumerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def announcements(self, timeout: float) -> Iterator[dict[str, Any]]:
        """Yield the metadata of every valid announcement arriving within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self._socket.settimeout(left)
            try:
                data, ancillary, _, peer = self._socket.recvmsg(UDP_PACKET_SIZE, 64)
            except (TimeoutError, BlockingIOError):
                return
            try:
                metadata = decode_announcement(data)
            except PacketFormatError:
                self.malformed += 1
                continue
            metadata.update(peer_ip=peer[0], source_port=peer[1], control_port=self.control_port)
            metadata["sequence_number_checking"] = 1
            self._add_interface(metadata, ancillary)
            apply_strategy(metadata)
            yield metadata

    def enumerated(self, call_back: Callable[[dict[str, Any]], bool], timeout: float) -> None:
        """Call ``call_back(metadata)`` per usable announcement until it returns False or time is up."""
        for metadata in self.announcements(timeout):
            if all(key in metadata for key in _REQUIRED) and not call_back(metadata):
                return

    def find(self, channel_ip: str | None = None, timeout: float = 10.0, **filters: Any) -> dict[str, Any]:
        """The metadata of the first announcement from ``channel_ip`` matching every filter.

        ``filters`` compare metadata keys for equality (``serial_number="..."``,
        ``data_plane=1``...).

        Raises
        ------
        holoflow.errors.DeviceNotFoundError
            If none arrives within ``timeout`` seconds.
        """
        for metadata in self.announcements(timeout):
            if channel_ip is not None and metadata["peer_ip"] != channel_ip:
                continue
            if all(metadata.get(key) == value for key, value in filters.items()):
                return metadata
        wanted = ", ".join(
            [*([channel_ip] if channel_ip else []), *(f"{k}={v!r}" for k, v in filters.items())]
        )
        raise DeviceNotFoundError(wanted or "any device", f"not found within {timeout:g} s")

    @staticmethod
    def find_channel(
        channel_ip: str,
        timeout: float = 10.0,
        bootp_request_port: int = BOOTP_REQUEST_PORT,
        control_port: int = CONTROL_UDP_PORT,
    ) -> dict[str, Any]:
        """Wait for ``channel_ip`` to announce itself and return its channel metadata.

        Raises
        ------
        holoflow.errors.DeviceNotFoundError
            After ``timeout`` seconds without it ("Device with <ip> not found.").
        """
        with Enumerator(bootp_request_port=bootp_request_port, control_port=control_port) as enumerator:
            return enumerator.find(channel_ip, timeout)

    def set_ip(
        self,
        mac_to_ip: dict[str, str],
        timeout: float,
        destination: tuple[str, int] | None = None,
    ) -> list[str]:
        """Answer announcements whose ``mac_id`` is in ``mac_to_ip`` with a set-IP reply.

        Replies go to ``<new ip>:bootp_reply_port`` (or ``destination``) from the local address
        that received the announcement. Returns the MAC ids that were sent a new address.
        """
        done: list[str] = []
        wanted = {mac.upper(): ip for mac, ip in mac_to_ip.items()}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for metadata in self.announcements(timeout):
                mac = metadata["mac_id"]
                new_ip = wanted.get(mac)
                if new_ip is None or metadata["peer_ip"] == new_ip:
                    continue
                host_ip = metadata.get("interface_address", "0.0.0.0")
                reply = encode_set_ip_reply(metadata, new_ip, host_ip)
                sender.sendto(reply, destination or (new_ip, self.bootp_reply_port))
                if mac not in done:
                    done.append(mac)
                if len(done) == len(wanted):
                    break
        return done

    def _add_interface(self, metadata: dict[str, Any], ancillary: list[tuple[int, int, bytes]]) -> None:
        for level, kind, data in ancillary:
            if level == socket.IPPROTO_IP and kind == _IP_PKTINFO:
                if len(data) < _PKTINFO.size:
                    continue
                index, local, destination = _PKTINFO.unpack_from(data)
                metadata["interface_index"] = index
                metadata["interface_address"] = socket.inet_ntoa(local)
                metadata["destination_address"] = socket.inet_ntoa(destination)
                try:
                    metadata["interface"] = socket.if_indextoname(index)
                except OSError:
                    metadata["interface"] = ""
