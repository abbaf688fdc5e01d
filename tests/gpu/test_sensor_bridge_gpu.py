"""Sensor-bridge operators on CUDA: frames into device memory, CSI unpacking and ISP on the GPU."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.kernels import process_bayer
from holoflow.operators import CsiToBayerOp, ImageProcessorOp, LinuxReceiverOp
from holoflow.sensor_bridge import (
    Imx274Cam,
    PixelFormat,
    pack_raw,
    unpack_raw,
)
from holoflow.testing import Recorder, Source

pytestmark = pytest.mark.gpu


def test_receiver_delivers_device_memory(app, cp, emulated_channel):
    frames = [np.random.default_rng(i).integers(0, 256, 5000, dtype=np.uint8).tobytes() for i in range(3)]
    _, channel = emulated_channel(frames, fps=100)
    receiver = LinuxReceiverOp(
        app,
        CountCondition(app, 3),
        name="receiver",
        hololink_channel=channel,
        device=Imx274Cam(channel),
        frame_size=5000,
        storage="auto",
    )
    app.add_flow(receiver, rx := Recorder(app, name="rx"))
    app.run()
    for message in rx.received:
        frame = message[""]
        assert frame.is_cuda
        data = cp.asnumpy(cp.asarray(frame)).tobytes()
        assert data == frames[message["metadata"]["frame_number"] % 3]


@pytest.mark.parametrize("fmt", list(PixelFormat))
def test_unpacking_on_the_gpu_matches_the_cpu(cp, fmt):
    pixels = np.random.default_rng(0).integers(0, 1 << fmt.bits, (30, 64), dtype=np.uint16)
    lines = pack_raw(pixels, fmt)
    gpu = unpack_raw(cp.asarray(lines), fmt, 64, cp)
    np.testing.assert_array_equal(cp.asnumpy(gpu), unpack_raw(lines, fmt, 64))


def test_csi_and_isp_operators_on_cuda_tensors(app, cp):
    pixels = np.random.default_rng(1).integers(0, 1024, (32, 64), dtype=np.uint16)
    frame = cp.asarray(pack_raw(pixels, PixelFormat.RAW_10).reshape(-1))
    csi = CsiToBayerOp(app, name="csi")
    csi.configure(0, 80, 64, 32, PixelFormat.RAW_10)
    isp = ImageProcessorOp(app, name="isp", bayer_format=1, pixel_format=1, optical_black=50)
    app.add_flow(Source(app, [frame], name="src"), csi, {("out", "input")})
    app.add_flow(csi, isp, {("output", "input")})
    app.add_flow(isp, rx := Recorder(app, name="rx"), {("output", "in")})
    app.run()
    out = rx.received[0][""]
    assert out.is_cuda
    expected = process_bayer((pixels << 6)[..., None].copy(), 1, 10, 50)
    np.testing.assert_allclose(cp.asnumpy(cp.asarray(out)).astype(int), expected.astype(int), atol=1)
