"""The sensor-bridge operators in graphs: receiver against the emulator, CSI unpacking, ISP."""

from __future__ import annotations

import importlib.util
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.errors import ConfigError, ResourceError, TensorError
from holoflow.kernels import process_bayer
from holoflow.operators import CsiToBayerOp, ImageProcessorOp, LinuxReceiverOp, RoceReceiverOp
from holoflow.sensor_bridge import (
    FrameMetadata,
    Imx274Cam,
    PixelFormat,
    encode_packet,
    pack_raw,
)
from holoflow.testing import Recorder, Source

FRAME = 64 * 32 * 5 // 4  # a 64x32 RAW10 image


@pytest.fixture
def device(emulated_channel):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, FRAME, dtype=np.uint8).tobytes() for _ in range(4)]
    emulator, channel = emulated_channel(frames, fps=200)
    return emulator, channel, frames


def test_linux_receiver_op_streams_from_the_emulated_camera(app, use_scheduler, device):
    emulator, channel, frames = device
    camera = Imx274Cam(channel)
    receiver = LinuxReceiverOp(
        app,
        CountCondition(app, 6),
        name="receiver",
        hololink_channel=channel,
        device=camera,
        frame_size=FRAME,
        storage="host",  # the CUDA path is tested in tests/gpu
    )
    app.add_flow(receiver, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    assert len(rx.received) == 6
    for message in rx.received:
        metadata = message["metadata"]
        data = np.asarray(message[""])
        assert data.dtype == np.uint8 and data.shape == (FRAME,)
        assert metadata["complete"] and metadata["bytes_written"] == FRAME
        assert data.tobytes() == frames[metadata["frame_number"] % len(frames)]
    numbers = [m["metadata"]["frame_number"] for m in rx.received]
    assert numbers == sorted(numbers)
    stats = receiver.statistics()
    assert stats.frames_complete >= 6 and stats.packets_dropped == 0
    # stop() put the camera in standby and switched the data plane off
    assert not emulator.camera.streaming and emulator.data_plane_config(0) is None


class Corrupter(Operator):
    """Passes frames on; at the first, sends the receiver an end packet with a wrong ICRC (as
    from the device's data port, with the data plane's QP and R_Key)."""

    def __init__(self, fragment, *args, emulator, **kwargs):
        self.emulator = emulator
        self.sent = False
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        if not self.sent:
            config = self.emulator.data_plane_config(0)
            psn = (message["metadata"]["psn"] + 1) & 0xFFFFFF
            datagram = encode_packet(
                dest_qp=config.qp,
                psn=psn,
                virtual_address=config.base_address,
                rkey=config.rkey,
                payload=FrameMetadata(psn=psn).encode(),
                immediate=psn << 12,
            )  # its ICRC field is 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(datagram, config.destination)
            self.sent = True
        op_output.emit(message, "out")


@pytest.mark.parametrize("check_icrc", [False, True], ids=["icrc unchecked", "icrc checked"])
def test_linux_receiver_op_checks_icrc_when_asked(app, device, check_icrc):
    emulator, channel, frames = device
    receiver = LinuxReceiverOp(
        app,
        CountCondition(app, 5),
        name="receiver",
        hololink_channel=channel,
        device=Imx274Cam(channel),
        frame_size=FRAME,
        storage="host",
        check_icrc=check_icrc,
    )
    corrupter = Corrupter(app, name="corrupter", emulator=emulator)
    app.add_flow(receiver, corrupter)
    app.add_flow(corrupter, rx := Recorder(app, name="rx"))
    app.run()
    assert len(rx.received) == 5 and corrupter.sent
    stats = receiver.statistics()
    # the emulator's real ICRCs pass; the forged packet is caught only by the check
    assert stats.rejected_icrc == (1 if check_icrc else 0)
    for message in rx.received:
        metadata = message["metadata"]
        if check_icrc:
            assert metadata["complete"]
            assert np.asarray(message[""]).tobytes() == frames[metadata["frame_number"] % len(frames)]


def test_receiver_chain_unpacks_what_the_camera_sent(app, device):
    emulator, channel, _ = device
    pixels = np.random.default_rng(1).integers(0, 1024, (32, 64), dtype=np.uint16)
    emulator.stream([pack_raw(pixels, PixelFormat.RAW_10).tobytes()], fps=200)
    receiver = LinuxReceiverOp(
        app,
        CountCondition(app, 2),
        name="receiver",
        hololink_channel=channel,
        device=Imx274Cam(channel),
        frame_size=FRAME,
        storage="host",
        rename_metadata=lambda key: "left_" + key,
    )
    csi = CsiToBayerOp(app, name="csi")
    assert csi.configure(0, 80, 64, 32, PixelFormat.RAW_10) == FRAME
    app.add_flow(receiver, csi, {("output", "input")})
    app.add_flow(csi, rx := Recorder(app, name="rx"), {("output", "in")})
    app.run()
    for message in rx.received:
        image = np.asarray(message[""])
        assert image.shape == (32, 64, 1) and image.dtype == np.uint16
        np.testing.assert_array_equal(image[..., 0], pixels << 6)
        assert message["metadata"]["left_complete"]


def test_receiver_op_checks_its_parameters(app, device):
    _, channel, _ = device
    with pytest.raises(ConfigError, match=r"'receiver'.*frame_size must be > 0"):
        LinuxReceiverOp(app, name="receiver", hololink_channel=channel, frame_size=0).initialize()
    with pytest.raises(ConfigError, match="must be a DataChannel"):
        LinuxReceiverOp(app, name="r2", hololink_channel="10.0.0.1", frame_size=10).initialize()
    with pytest.raises(ConfigError, match="queue_size <= pages"):
        LinuxReceiverOp(app, name="r3", hololink_channel=channel, frame_size=10, queue_size=2).initialize()


@pytest.mark.skipif(importlib.util.find_spec("pyverbs") is not None, reason="pyverbs is installed")
def test_roce_receiver_says_what_is_missing(app, device):
    _, channel, _ = device
    op = RoceReceiverOp(app, name="roce", hololink_channel=channel, frame_size=FRAME)
    with pytest.raises(ResourceError, match=r"'roce'.*pyverbs.*LinuxReceiverOp"):
        op.start()


@settings(max_examples=40, deadline=None)
@given(
    fmt=st.sampled_from(list(PixelFormat)),
    groups=st.integers(1, 8),
    height=st.integers(1, 6),
    start=st.integers(0, 40),
    pad=st.integers(0, 16),
    seed=st.integers(0, 1000),
)
def test_csi_unpacking_inverts_packing(fmt, groups, height, start, pad, seed):
    width = groups * 4
    pixels = np.random.default_rng(seed).integers(0, 1 << fmt.bits, (height, width), dtype=np.uint16)
    lines = pack_raw(pixels, fmt)
    line_bytes = lines.shape[1] + pad
    frame = np.zeros(start + line_bytes * height, np.uint8)
    frame[start:].reshape(height, line_bytes)[:, : lines.shape[1]] = lines
    app = Application([])
    csi = CsiToBayerOp(app, name="csi")
    assert csi.configure(start, line_bytes, width, height, fmt) == frame.size
    app.add_flow(Source(app, [frame], name="src"), csi, {("out", "input")})
    app.add_flow(csi, rx := Recorder(app, name="rx"), {("output", "in")})
    app.run()
    image = np.asarray(rx.received[0][""])
    np.testing.assert_array_equal(image[..., 0], pixels << (16 - fmt.bits))


def test_raw10_byte_layout():
    # 4 pixels -> their high bytes, then the low bit pairs of pixel 0 in bits 0-1 ... pixel 3 in 6-7
    packed = pack_raw(np.array([[0x3FF, 0x001, 0x2AA, 0x155]], np.uint16), PixelFormat.RAW_10)
    assert packed[0, :5].tolist() == [0xFF, 0x00, 0xAA, 0x55, 0b01_10_01_11]
    packed12 = pack_raw(np.array([[0xABC, 0x123]], np.uint16), PixelFormat.RAW_12)
    assert packed12[0, :3].tolist() == [0xAB, 0x12, 0x3C]


def test_csi_to_bayer_errors_name_the_operator(app):
    csi = CsiToBayerOp(app, name="csi")
    with pytest.raises(ConfigError, match="'csi'.*configure"):
        csi.initialize()
    with pytest.raises(ConfigError, match="bytes_per_line 70 < 80"):
        csi.configure(0, 70, 64, 2, PixelFormat.RAW_10)
    with pytest.raises(ConfigError, match="unknown pixel_format 7"):
        csi.configure(0, 80, 64, 2, 7)
    csi.configure(0, 80, 64, 2, PixelFormat.RAW_10)
    app.add_flow(Source(app, [np.zeros(100, np.uint8)], name="src"), csi, {("out", "input")})
    app.add_flow(csi, Recorder(app, name="rx"), {("output", "in")})
    with pytest.raises(TensorError, match="'csi'.*needs 160 uint8 bytes"):
        app.run()


def test_image_processor_black_level_and_gray_world(app):
    rng = np.random.default_rng(2)
    image = np.empty((64, 64), np.uint16)
    image[0::2, 0::2] = rng.integers(400, 500, (32, 32)) << 6  # red, dim
    image[0::2, 1::2] = rng.integers(700, 800, (32, 32)) << 6  # green
    image[1::2, 0::2] = rng.integers(700, 800, (32, 32)) << 6  # green
    image[1::2, 1::2] = rng.integers(200, 300, (32, 32)) << 6  # blue, dimmer
    image[0, 0] = 50 << 6  # exactly the black level
    isp = ImageProcessorOp(app, name="isp", bayer_format=1, pixel_format=1, optical_black=50)
    app.add_flow(Source(app, [image[..., None].copy()], name="src"), isp, {("out", "input")})
    app.add_flow(isp, rx := Recorder(app, name="rx"), {("output", "in")})
    app.run()
    out = np.asarray(rx.received[0][""])[..., 0].astype(np.float64)
    assert out[0, 0] == 0
    red, blue = out[0::2, 0::2].mean(), out[1::2, 1::2].mean()
    green = (out[0::2, 1::2].mean() + out[1::2, 0::2].mean()) / 2
    assert abs(red - green) / green < 0.02 and abs(blue - green) / green < 0.02
    assert out.max() <= 65535


def test_image_processor_checks_its_input(app):
    with pytest.raises(ConfigError, match="'isp'.*optical_black 5000"):
        ImageProcessorOp(app, name="isp", optical_black=5000).initialize()
    isp = ImageProcessorOp(app, name="isp2")
    app.add_flow(Source(app, [np.zeros((4, 4, 3), np.uint16)], name="src"), isp, {("out", "input")})
    app.add_flow(isp, Recorder(app, name="rx"), {("output", "in")})
    with pytest.raises(TensorError, match="'isp2'.*must be uint16"):
        app.run()


def test_process_bayer_leaves_a_gray_image_gray():
    image = np.full((8, 8), 1000 << 6, np.uint16)
    process_bayer(image, 1, 10, 0)
    assert (image == 1000 << 6).all()
