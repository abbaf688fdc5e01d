"""Enumeration over loopback: announcements, find with filters, timeouts, set-IP."""

from __future__ import annotations

import socket
import time

import pytest

from holoflow.errors import DeviceNotFoundError
from holoflow.sensor_bridge import DataChannel, Enumerator, Hololink, apply_strategy

from .conftest import make_emulator


@pytest.fixture
def enumerator():
    with Enumerator(bootp_request_port=0) as listener:
        yield listener


@pytest.fixture
def devices(enumerator):
    target = ("127.0.0.1", enumerator.port)
    made = [
        make_emulator(
            announce_to=target, announce_interval=0.05, serial_number=b"\x00\x00\x00\x00\x00\x00\x01"
        ),
        make_emulator(
            announce_to=target,
            announce_interval=0.05,
            serial_number=b"\x00\x00\x00\x00\x00\x00\x02",
            data_planes=2,
        ),
    ]
    yield made
    for device in made:
        device.stop()


def test_find_by_address_returns_channel_metadata(enumerator, devices):
    wanted = devices[1]
    metadata = enumerator.find(wanted.ip, timeout=2.0)
    assert metadata["peer_ip"] == wanted.ip and metadata["client_ip_address"] == wanted.ip
    assert metadata["source_port"] == 12268 and metadata["control_port"] == 8192
    assert metadata["serial_number"] == "00000000000002" and metadata["hsb_ip_version"] == 0x2602
    assert metadata["interface_address"] == "127.0.0.1" and metadata["interface"] == "lo"
    assert metadata["sequence_number_checking"] == 1 and metadata["type"] == "bootp_request"
    assert DataChannel.enumerated(metadata)


def test_filters_pick_a_data_plane_and_strategy_maps_it(enumerator, devices):
    metadata = enumerator.find(devices[1].ip, timeout=2.0, data_plane=1)
    assert metadata["data_plane"] == 1 and metadata["mac_id"] == "48:4B:00:00:00:02"
    assert metadata["hif_address"] == 0x0201_0300 and metadata["sif_address"] == 0x0101_0000
    assert (
        metadata["vp_address"] == 0x1080
        and metadata["vp_mask"] == 0b100
        and metadata["frame_end_event"] == 17
    )
    by_serial = enumerator.find(timeout=2.0, serial_number="00000000000001")
    assert by_serial["peer_ip"] == devices[0].ip
    DataChannel.use_sensor(by_serial, 1)
    assert by_serial["vp_address"] == 0x1080 and by_serial["hif_address"] == 0x0200_0300


def test_missing_device_times_out(enumerator, devices):
    start = time.monotonic()
    with pytest.raises(DeviceNotFoundError, match=r"^127\.255\.255\.254: not found within 0\.3 s$"):
        enumerator.find("127.255.255.254", timeout=0.3)
    assert 0.25 < time.monotonic() - start < 1.0


def test_static_find_channel_and_enumerated(devices, enumerator):
    seen = []
    enumerator.enumerated(lambda m: seen.append(m["peer_ip"]) or len(seen) < 6, timeout=2.0)
    assert {d.ip for d in devices} <= set(seen)
    with pytest.raises(DeviceNotFoundError, match="Device|not found"):
        Enumerator.find_channel("127.255.255.253", timeout=0.1, bootp_request_port=0)


def test_foreign_datagrams_are_counted_and_skipped(enumerator):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"not a bootp packet", ("127.0.0.1", enumerator.port))
        sock.sendto(bytes(300), ("127.0.0.1", enumerator.port))
    with pytest.raises(DeviceNotFoundError):
        enumerator.find(timeout=0.2)
    assert enumerator.malformed == 2


def test_set_ip_moves_the_device(enumerator):
    device = make_emulator(announce_to=("127.0.0.1", enumerator.port), announce_interval=0.05)
    try:
        old = device.ip
        new = "127.254." + old.split(".", 2)[2]
        # loopback has no ARP to seed: address the reply to the device's current address
        done = enumerator.set_ip({"48:4b:00:00:00:01": new}, timeout=2.0, destination=(old, 12268))
        assert done == ["48:4B:00:00:00:01"]
        metadata = enumerator.find(new, timeout=3.0)
        assert metadata["client_ip_address"] == new
        hololink = Hololink(new)
        hololink.start()
        assert hololink.hsb_ip_version == 0x2602
        hololink.stop()
    finally:
        device.stop()


def test_strategy_rejects_unknown_sensors():
    with pytest.raises(ValueError, match="out of range"):
        apply_strategy({"data_plane": 0}, sensor=2)
