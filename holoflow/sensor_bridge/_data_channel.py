"""``DataChannel``: one sensor's data plane on a device, as the host configures it."""

from __future__ import annotations

import socket
import time
from typing import Any

from holoflow.errors import ConfigError, SensorBridgeError
from holoflow.sensor_bridge import _registers as reg
from holoflow.sensor_bridge._enumeration import apply_strategy
from holoflow.sensor_bridge._hololink import Hololink
from holoflow.sensor_bridge._metadata import METADATA_SIZE
from holoflow.sensor_bridge._roce import HEADER_SIZE

__all__ = ["DataChannel", "local_ip_for", "round_up"]

MINIMUM_HSB_IP_VERSION = 0x2602
DEFAULT_MTU = 1500
_OVERHEAD = 14 + 20 + 8 + HEADER_SIZE + 4  # Ethernet, IPv4, UDP, BTH, RETH, ICRC = 74
PAGE_UNIT = 128
MAX_PAGES = 4096


def round_up(value: int, unit: int) -> int:
    """``value`` rounded up to a multiple of ``unit``."""
    return -(-value // unit) * unit


def local_ip_for(peer_ip: str) -> str:
    """The local address the kernel would use to reach ``peer_ip``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((peer_ip, 9))
        return str(probe.getsockname()[0])


class DataChannel:
    """The data plane of the sensor that ``metadata`` (from enumeration) selects.

    Parameters
    ----------
    metadata : dict
        Channel metadata: ``peer_ip``, ``hif_address``, ``vp_address``, ``vp_mask``,
        ``hsb_ip_version``... (see :class:`~holoflow.sensor_bridge.Enumerator`).
    hololink : Hololink, optional
        The controller to use (default: :meth:`Hololink.from_enumeration_metadata`).
    """

    def __init__(self, metadata: dict[str, Any], hololink: Hololink | None = None) -> None:
        missing = [k for k in ("peer_ip", "hif_address", "vp_address", "vp_mask") if k not in metadata]
        if missing:
            raise ConfigError(f"DataChannel: channel metadata lacks {missing}")
        self.metadata = dict(metadata)
        self._hololink = hololink or Hololink.from_enumeration_metadata(metadata)
        self.peer_ip: str = metadata["peer_ip"]
        self._hif = int(metadata["hif_address"])
        self._vp = int(metadata["vp_address"])
        self._vp_mask = int(metadata["vp_mask"])
        self._qp: int | None = None
        self._rkey: int | None = None
        self.payload_size = self.payload_size_for(int(metadata.get("mtu", DEFAULT_MTU)))

    @staticmethod
    def enumerated(metadata: dict[str, Any]) -> bool:
        """Whether ``metadata`` describes a usable data channel."""
        return all(
            k in metadata for k in ("hif_address", "peer_ip", "data_plane", "serial_number", "control_port")
        )

    @staticmethod
    def use_sensor(metadata: dict[str, Any], sensor_number: int) -> None:
        """Point ``metadata`` at another sensor of the same device."""
        apply_strategy(metadata, sensor=sensor_number, data_plane=int(metadata.get("data_plane", 0)))

    @staticmethod
    def use_data_plane_configuration(metadata: dict[str, Any], data_plane: int) -> None:
        """Point ``metadata`` at another data plane (Ethernet port) of the device."""
        apply_strategy(metadata, sensor=int(metadata.get("sensor_number", 0)), data_plane=data_plane)

    @staticmethod
    def use_mtu(metadata: dict[str, Any], mtu: int) -> None:
        """Use packets sized for ``mtu`` (default 1500; loopback allows up to 65535)."""
        DataChannel.payload_size_for(mtu)
        metadata["mtu"] = mtu

    @staticmethod
    def payload_size_for(mtu: int) -> int:
        """Payload bytes per data packet for ``mtu``: ``floor((mtu - 74) / 128) * 128``.

        Raises
        ------
        holoflow.errors.ConfigError
            If the MTU leaves no room for a 128-byte payload or exceeds what UDP carries.
        """
        payload = (mtu - _OVERHEAD) // PAGE_UNIT * PAGE_UNIT
        if payload < PAGE_UNIT or mtu > 65535 - 8:
            raise ConfigError(f"DataChannel: mtu {mtu} is outside {_OVERHEAD + PAGE_UNIT}..65527")
        return payload

    @staticmethod
    def page_size_for(frame_size: int) -> int:
        """The smallest page that holds a ``frame_size``-byte frame and its metadata:
        ``frame_size`` rounded up to 128 bytes, plus the 128-byte metadata block."""
        return round_up(frame_size, PAGE_UNIT) + METADATA_SIZE

    def hololink(self) -> Hololink:
        """The device's controller."""
        return self._hololink

    def authenticate(self, qp: int, rkey: int) -> None:
        """Record the queue pair and remote key the receiver expects."""
        self._qp, self._rkey = qp & 0xFFFFFF, rkey & 0xFFFFFFFF

    def configure_socket(self, sock: socket.socket) -> None:
        """Bind ``sock`` to the local address that routes to the device, on a free port."""
        sock.bind((local_ip_for(self.peer_ip), 0))

    def configure_roce(
        self, frame_memory: int, frame_size: int, page_size: int, pages: int, local_port: int
    ) -> None:
        """Program the device to write frames of ``frame_size`` bytes into ``pages`` buffers of
        ``page_size`` bytes starting at address ``frame_memory``, sent to ``local_port``.

        Raises
        ------
        holoflow.errors.ConfigError
            For misaligned or too small sizes, or a page count outside 1..4096.
        holoflow.errors.SensorBridgeError
            If the device is older than HSB IP 0x2602 or was not authenticated.
        """
        hololink = self._hololink
        if hololink.hsb_ip_version and hololink.hsb_ip_version < MINIMUM_HSB_IP_VERSION:
            raise SensorBridgeError(
                hololink.device,
                f"HSB IP version 0x{hololink.hsb_ip_version:04X} < 0x{MINIMUM_HSB_IP_VERSION:04X}",
            )
        if self._qp is None or self._rkey is None:
            raise SensorBridgeError(hololink.device, "configure_roce before authenticate(qp, rkey)")
        if frame_memory % PAGE_UNIT or page_size % PAGE_UNIT:
            raise ConfigError(f"DataChannel: frame_memory and page_size must be multiples of {PAGE_UNIT}")
        if frame_size <= 0 or (frame_size > PAGE_UNIT and page_size < DataChannel.page_size_for(frame_size)):
            raise ConfigError(
                f"DataChannel: page_size {page_size} has no room for a {frame_size}-byte frame "
                "and its metadata"
            )
        if not 1 <= pages <= MAX_PAGES:
            raise ConfigError(f"DataChannel: pages must be 1..{MAX_PAGES}, got {pages}")
        host_ip = local_ip_for(self.peer_ip)
        host_ip_word = int.from_bytes(socket.inet_aton(host_ip), "big")
        hif, vp = self._hif, self._vp
        hololink.and_uint32(hif + reg.DP_VP_MASK, ~self._vp_mask & 0xFFFFFFFF)
        hololink.write_uint32_block(
            [
                (hif + reg.DP_PACKET_SIZE, self.payload_size // PAGE_UNIT),
                (hif + reg.DP_PACKET_UDP_PORT, reg.UDP_SOURCE_PORT),
                (vp + reg.DP_BUFFER_LENGTH, frame_size),
                (vp + reg.DP_HOST_MAC_LOW, 0),
                (vp + reg.DP_HOST_MAC_HIGH, 0),
                (vp + reg.DP_HOST_IP, host_ip_word),
                (vp + reg.DP_HOST_UDP_PORT, local_port),
                (vp + reg.DP_QP, self._qp),
                (vp + reg.DP_RKEY, self._rkey),
                (vp + reg.DP_PAGE_LSB, frame_memory & 0xFFFFFFFF),
                (vp + reg.DP_PAGE_MSB, frame_memory >> 32),
                (vp + reg.DP_PAGE_INC, page_size // PAGE_UNIT),
                (vp + reg.DP_MAX_BUFF, pages - 1),
            ]
        )
        hololink.or_uint32(hif + reg.DP_VP_MASK, self._vp_mask)

    def unconfigure(self) -> None:
        """Stop the data plane and clear its registers."""
        hololink = self._hololink
        hololink.and_uint32(self._hif + reg.DP_VP_MASK, ~self._vp_mask & 0xFFFFFFFF)
        time.sleep(0.01)
        hololink.write_uint32_block([(self._vp + offset, 0) for offset in reg.VP_REGISTERS])
