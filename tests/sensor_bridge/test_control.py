"""The control plane over real UDP sockets: registers, sequence numbers, retries, buses, reset."""

from __future__ import annotations

import socket
import time

import pytest

from holoflow.errors import BusError, ControlStatusError, ControlTimeoutError, SensorBridgeError
from holoflow.sensor_bridge import (
    DataChannel,
    Enumerator,
    Hololink,
    Imx274Cam,
    Imx274Mode,
    Status,
    Timeout,
)

from .conftest import make_emulator

APB_RAM = 0x2000


def test_start_reads_version_and_configures(emulator, hololink):
    assert hololink.hsb_ip_version == 0x2602
    assert hololink.fpga_date == 0x20251123
    # configure_hsb armed the null program and set up the event block
    assert emulator.apb_ram[0x2080] == 0x2 and emulator.apb_ram[0x2084] == 0xFFFFFFFF
    assert emulator.registers[0x220] == 8432 and emulator.registers[0x104] == 3


def test_register_round_trips(hololink):
    hololink.write_uint32(APB_RAM + 0x100, 0xEEEEAA55)
    assert hololink.read_uint32(APB_RAM + 0x100) == 0xEEEEAA55
    pairs = [(APB_RAM + 0x200 + 4 * i, (i * 0x01010101) & 0xFFFFFFFF) for i in range(300)]  # two WR_BLOCKs
    hololink.write_uint32_block(pairs)
    assert hololink.read_uint32_block([a for a, _ in pairs]) == [v for _, v in pairs]
    hololink.or_uint32(APB_RAM + 0x100, 0x2)
    hololink.and_uint32(APB_RAM + 0x100, ~0x5 & 0xFFFFFFFF)
    assert hololink.read_uint32(APB_RAM + 0x100) == 0xEEEEAA52


def test_sequence_numbers_count_from_0x100(emulator, hololink):
    before = hololink._sequence
    hololink.read_uint32(0x80)
    assert emulator.latched_sequence == before
    assert before - 0x100 == hololink.statistics().transactions - 1


def test_unmapped_address_is_refused_by_name(hololink):
    message = r"RD_DWORD of 0x00000500 failed: INVALID_ADDRESS \(0x03\)"
    with pytest.raises(ControlStatusError, match=message) as info:
        hololink.read_uint32(0x500)
    assert info.value.status == Status.INVALID_ADDRESS and info.value.address == 0x500
    assert info.value.device == f"{hololink.peer_ip}:{hololink.control_port}"
    with pytest.raises(ControlStatusError, match="WR_BLOCK of 0x04000000"):
        hololink.write_uint32(0x0400_0000, 1)


def test_misaligned_address_raises_before_sending(hololink):
    sent = hololink.statistics().requests_sent
    with pytest.raises(ValueError, match="aligned"):
        hololink.read_uint32(0x81)
    assert hololink.statistics().requests_sent == sent


def test_lost_request_is_resent(emulator, hololink):
    emulator.drop_requests(1)
    start = time.monotonic()
    hololink.write_uint32(APB_RAM, 0x1234)
    assert 0.08 < time.monotonic() - start < 1.0  # one retry interval
    assert hololink.read_uint32(APB_RAM) == 0x1234
    assert hololink.statistics().retries == 1


def test_lost_reply_is_recovered_with_the_same_sequence(emulator, hololink):
    emulator.drop_replies(2)
    before = emulator.statistics().control_requests
    assert hololink.read_uint32(0x80) == 0x2602
    stats = hololink.statistics()
    assert stats.retries == 2 and emulator.statistics().control_requests - before == 3
    # the retries cleared the check flag, so the device accepted the repeated sequence number
    assert emulator.statistics().sequence_errors == 0
    hololink.write_uint32(APB_RAM, 1)  # and the next transaction still passes the check


def receive_all(sock):
    """Every datagram waiting on ``sock`` (until 0.5 s of silence)."""
    received = []
    try:
        while True:
            received.append(sock.recv(64))
    except TimeoutError:
        return received


def test_no_reply_times_out_after_the_retries():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        hololink = Hololink("127.0.0.1", silent.getsockname()[1], timeout=Timeout(0.3, 0.1))
        message = r"RD_DWORD of 0x00000080: no reply after [34] attempt"
        start = time.monotonic()
        with pytest.raises(ControlTimeoutError, match=message) as info:
            hololink.start(Timeout(0.3, 0.1))
        elapsed = time.monotonic() - start
        hololink.stop()
        assert 0.28 < elapsed < 1.5
        assert isinstance(info.value, TimeoutError) and isinstance(info.value, SensorBridgeError)
        silent.settimeout(0.5)
        requests = receive_all(silent)
        assert len(requests) in (3, 4)
        assert requests[0][1] == 0x01 and all(r[1] == 0x01 for r in requests)  # no check flag in start()
        assert {r[2:4] for r in requests} == {b"\x01\x00"}


def test_no_retry_means_one_attempt(emulator, hololink):
    emulator.drop_requests(1)
    with pytest.raises(ControlTimeoutError, match="after 1 attempt"):
        hololink.write_uint32(APB_RAM, 1, Timeout(0.2, 0.05), retry=False)


def test_stale_controller_fails_the_sequence_check(emulator, hololink):
    other = Hololink(emulator.ip, emulator.control_port)
    other.start()  # re-synchronises the device to its own numbering
    other.read_uint32(APB_RAM)  # one more, so the two numberings differ
    with pytest.raises(ControlStatusError, match="SEQUENCE_CHECK_FAILED") as info:
        hololink.read_uint32(APB_RAM)
    assert info.value.status == 0x0B
    assert emulator.statistics().sequence_errors >= 1
    other.read_uint32(APB_RAM)
    other.stop()


def test_replies_with_other_sequence_numbers_are_ignored(hololink):
    # a reply for an earlier transaction arriving late must not satisfy the current one
    stale = bytes.fromhex("94 01 00 01 00 00 00 00 00 80 00 00 00 00")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as fake:
        fake.bind((hololink.peer_ip, 0))  # another port: the connected socket filters it out
        fake.sendto(stale, hololink._socket.getsockname())
    assert hololink.read_uint32(0x80) == 0x2602


def test_i2c_camera_round_trip(emulator, hololink):
    i2c = hololink.get_i2c(1)
    i2c.set_i2c_clock()
    i2c.i2c_transaction(0x1A, bytes.fromhex("3010") + b"\x11\x22\x33", 0)
    assert i2c.i2c_transaction(0x1A, bytes.fromhex("3010"), 3) == b"\x11\x22\x33"
    assert emulator.camera.registers[0x3012] == 0x33
    long = bytes(range(200))
    i2c.i2c_transaction(0x1A, b"\x40\x00" + long, 0)
    assert i2c.i2c_transaction(0x1A, b"\x40\x00", 200) == long


def test_i2c_nak_and_bus_errors(hololink):
    i2c = hololink.get_i2c(1)
    with pytest.raises(BusError, match="I2C bus 1 address 0x22: NAK"):
        i2c.i2c_transaction(0x22, b"\x00\x00", 1)
    assert i2c.i2c_transaction(0x22, b"\x00\x00", 0, ignore_nak=True) == b""
    with pytest.raises(BusError, match="bus error"):  # the camera refuses a 1-byte address
        i2c.i2c_transaction(0x1A, b"\x30", 1)
    with pytest.raises(ValueError, match="7-bit"):
        i2c.i2c_transaction(0x80, b"", 1)


def test_spi_round_trip(emulator, hololink):
    spi = hololink.get_spi(0, chip_select=0, cpol=1, cpha=0, width=2)
    assert spi.spi_transaction(b"\x02\x10", b"sensor", 0) == b"\x02\x10"
    assert spi.spi_transaction(b"\x03\x10", b"", 6) == b"\x03\x10sensor"
    assert emulator.registers[0x0300_000C] == 15 | (1 << 8) | 0x10
    with pytest.raises(BusError, match="SPI bus 0: bus error"):
        spi.spi_transaction(b"\x07\x00", b"", 1)
    with pytest.raises(BusError, match="SPI bus 3: bus error"):
        hololink.get_spi(3).spi_transaction(b"\x03\x00", b"", 1)
    with pytest.raises(ValueError, match="at most 15"):
        spi.spi_transaction(bytes(16), b"", 0)


def test_camera_configure_exposure_and_streaming(emulator, hololink):
    channel = DataChannel(emulator.channel_metadata(), hololink)
    camera = Imx274Cam(channel)
    camera.setup_clock()
    assert emulator.registers[0x8] == 0x33 and camera.get_version() == 0x0274
    camera.configure(Imx274Mode.IMX274_MODE_1920X1080_60FPS)
    assert emulator.camera.mode.width == 1920 and camera.frame_size == 2_611_376
    camera.set_exposure(0x0456)
    assert emulator.camera.registers[0x300C] == 0x56 and emulator.camera.registers[0x300D] == 0x04
    camera.start()
    assert emulator.camera.streaming
    camera.stop()
    assert not emulator.camera.streaming
    with pytest.raises(ValueError, match=r"exposure 70000 outside 0\.\.65535"):
        camera.set_exposure(70000)
    with pytest.raises(ValueError, match="unknown mode 9"):
        camera.configure(9)


def test_4k_frame_sizes_match_the_reference():
    from holoflow.sensor_bridge import SensorMode  # noqa: F401  (public)

    assert Imx274Mode.IMX274_MODE_3840X2160_60FPS.sensor_mode.frame_size == 10_406_576
    assert Imx274Mode.IMX274_MODE_3840X2160_60FPS_12BITS.sensor_mode.frame_size == 12_533_976


def test_reset_finds_the_device_again_and_reconfigures_the_camera():
    with Enumerator(bootp_request_port=0) as enumerator:
        port = enumerator.port
    emulator = make_emulator(announce_to=("127.0.0.1", port), announce_interval=0.05)
    try:
        hololink = Hololink(emulator.ip, emulator.control_port, bootp_request_port=port)
        hololink.start()
        camera = Imx274Cam(DataChannel(emulator.channel_metadata(), hololink))
        camera.configure(Imx274Mode.IMX274_MODE_1920X1080_60FPS)
        hololink.write_uint32(APB_RAM + 0x400, 0xABCD)
        hololink.reset(find_timeout=3.0, settle=0.02)
        assert emulator.statistics().resets == 1
        assert hololink.read_uint32(APB_RAM + 0x400) == 0  # the device forgot its state...
        assert emulator.camera.registers[0x3004] == 1  # ...and the camera was configured again
        hololink.stop()
    finally:
        emulator.stop()


def test_a_peripheral_answering_too_much_is_cut_to_the_read_count(emulator, hololink):
    class Chatty:
        def i2c_transaction(self, write, read_count):
            return bytes(range(256)) * 2  # more than asked, more than the buffer

    emulator.i2c_devices[(0, 0x50)] = Chatty()
    i2c = hololink.get_i2c(0)
    assert i2c.i2c_transaction(0x50, b"\x00", 6) == bytes(range(6))
    assert i2c.i2c_transaction(0x50, b"\x00", 256) == bytes(range(256))
    assert hololink.read_uint32(0x0300_0200 + 0x100 + 252) == int.from_bytes(bytes(range(252, 256)), "little")
