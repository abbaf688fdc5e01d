"""Fused CUDA format conversion and demosaicing equal the CPU reference, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.kernels import convert, convert_cuda, demosaic, make_plan, prepare_cuda
from holoflow.operators import BayerDemosaicOp, FormatConverterOp
from holoflow.resources import BlockMemoryPool, MemoryStorageType
from holoflow.testing import Recorder, Source

pytestmark = pytest.mark.gpu
RNG = np.random.default_rng(1)

CASES = [
    (
        "rgb888",
        "float32",
        (37, 53, 3),
        {"resize": (20, 31), "resize_mode": mode, "scale_min": -1, "scale_max": 2},
    )
    for mode in (0, 1, 2, 4, 5, 6, 7, 8)
] + [
    ("rgb888", "rgb888", (64, 48, 3), {"resize": (97, 33), "resize_mode": 4}),
    (
        "rgba8888",
        "rgba8888",
        (30, 30, 4),
        {"resize": (15, 45), "resize_mode": 2, "out_channel_order": [3, 2, 1, 0]},
    ),
    ("rgb888", "rgba8888", (16, 24, 3), {"alpha_value": 17, "out_channel_order": [2, 1, 0, 3]}),
    ("rgba8888", "rgb888", (16, 24, 4), {"out_channel_order": [2, 1, 0]}),
    ("rgba8888", "float32", (16, 24, 4), {"resize": (8, 8), "resize_mode": 2}),
    ("rgb888", "float32", (1080, 1920, 3), {"resize": (540, 960)}),
    ("rgb888", "yuv420", (32, 48, 3), {}),
    ("rgb888", "rgb888", (1500, 2400, 3), {"resize": (12, 10), "resize_mode": 8}),  # window too big to tile
    # window and sums fit 48 KiB only without the row table: the general kernel
    ("rgb888", "float32", (720, 1920, 3), {"resize": (180, 816)}),
    ("rgb888", "float32", (40, 60, 3), {"resize": (90, 130), "resize_mode": 4}),  # upscaling
    ("float32", "uint8", (8, 9, 3), {"scale_min": -1, "scale_max": 1}),
    ("rgb161616", "rgb888", (8, 9, 3), {}),
]


def make_input(in_dtype, shape):
    if in_dtype == "float32":
        return (RNG.standard_normal(shape) * 2).astype(np.float32)
    if in_dtype.endswith("16161616") or in_dtype == "rgb161616":
        return RNG.integers(0, 65536, shape, dtype=np.uint16)
    return RNG.integers(0, 256, shape, dtype=np.uint8)


STAGED_CASES = (
    [("rgb888", "float32", (2160, 3840, 3), {"resize": (1080, 1920)})]
    + [
        ("rgb888", "float32", (64, 96, 3), {"resize": (37, 31), "resize_mode": mode})  # 372-byte output rows
        for mode in (1, 2, 4, 5, 6, 7)
    ]
    + [
        ("rgb888", "rgb888", (48, 64, 3), {"resize": (100, 70), "resize_mode": 4}),  # upscaling
        (
            "rgba8888",
            "rgba8888",
            (30, 32, 4),
            {"resize": (15, 64), "resize_mode": 2, "out_channel_order": [3, 2, 1, 0]},
        ),
        ("rgba8888", "float32", (33, 64, 4), {"resize": (17, 32), "scale_min": -1, "scale_max": 2}),
        (
            "rgb888",
            "rgba8888",
            (40, 32, 3),
            {"resize": (20, 64), "alpha_value": 17, "out_channel_order": [2, 1, 0, 3]},
        ),
    ]
)


@pytest.mark.parametrize("kernel", ["tiled", "staged"])
@pytest.mark.parametrize(("in_dtype", "out_dtype", "shape", "kw"), CASES + STAGED_CASES)
def test_gpu_equals_cpu_reference(cp, in_dtype, out_dtype, shape, kw, kernel):
    host = make_input(in_dtype, shape)
    plan = make_plan(in_dtype, out_dtype, host.shape, host.dtype, **kw)
    expected = convert(plan, host)
    got = convert_cuda(prepare_cuda(plan, kernel), cp.asarray(host)).get()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("in_dtype", "out_dtype", "shape", "kw"), STAGED_CASES)
def test_the_staged_kernel_runs_where_it_applies(cp, in_dtype, out_dtype, shape, kw):
    plan = make_plan(in_dtype, out_dtype, shape, np.uint8, **kw)
    prepared = prepare_cuda(plan, "staged")
    assert prepared.staged is not None
    convert_cuda(prepared, cp.asarray(make_input(in_dtype, shape)))
    (name, *_), *_ = prepared.launches.values()
    assert name == f"resize_staged_c{plan.channels}"


def test_the_staged_kernel_writes_into_a_misaligned_output(cp):
    host = make_input("rgb888", (64, 128, 3))
    plan = make_plan("rgb888", "float32", host.shape, host.dtype, resize=(32, 64))
    buffer = cp.zeros(32 * 64 * 3 + 1, cp.float32)
    out = buffer[1:].reshape(32, 64, 3)  # 4 bytes past a 16-byte boundary: scalar stores
    convert_cuda(prepare_cuda(plan, "staged"), cp.asarray(host), out)
    np.testing.assert_array_equal(out.get(), convert(plan, host))
    assert float(buffer[0]) == 0.0


@pytest.mark.parametrize("fmt", ["nv12", "nv12_bt601_full", "nv12_bt709_csc", "yuv420"])
@pytest.mark.parametrize("size", [(1080, 1920), (6, 10)])  # widths that are and are not multiples of 4
def test_gpu_yuv_equals_cpu(cp, fmt, size):
    host = RNG.integers(0, 256, (size[0] * 3 // 2, size[1]), dtype=np.uint8)
    plan = make_plan(fmt, "rgb888", host.shape, host.dtype)
    np.testing.assert_array_equal(
        convert_cuda(prepare_cuda(plan), cp.asarray(host)).get(), convert(plan, host)
    )


def test_unpacked_pixels_take_the_untiled_path(cp):
    rgba = cp.asarray(RNG.integers(0, 256, (50, 70, 4), dtype=np.uint8))
    rgb_view = rgba[:, :, :3]  # pixel stride 4, three channels
    plan = make_plan("rgb888", "float32", rgb_view.shape, np.uint8, resize=(25, 35))
    np.testing.assert_array_equal(
        convert_cuda(prepare_cuda(plan), rgb_view).get(), convert(plan, rgb_view.get())
    )


def test_row_padded_and_torch_inputs(cp):
    torch = pytest.importorskip("torch")
    padded = cp.asarray(RNG.integers(0, 256, (40, 64, 3), dtype=np.uint8))[:, :50]
    plan = make_plan("rgb888", "float32", padded.shape, np.uint8, resize=(20, 25))
    np.testing.assert_array_equal(convert_cuda(prepare_cuda(plan), padded).get(), convert(plan, padded.get()))
    t = torch.randint(0, 256, (30, 40, 3), dtype=torch.uint8, device="cuda")
    np.testing.assert_array_equal(
        convert_cuda(
            prepare_cuda(plan := make_plan("rgb888", "rgb888", (30, 40, 3), np.uint8, resize=(15, 20))), t
        ).get(),
        convert(plan, t.cpu().numpy()),
    )


def test_gpu_demosaic_equals_cpu(cp):
    raw = RNG.integers(0, 65536, (64, 96), dtype=np.uint16)
    for pattern in range(4):
        np.testing.assert_array_equal(
            demosaic(cp.asarray(raw), pattern, alpha=9, xp=cp).get(), demosaic(raw, pattern, alpha=9)
        )


def test_operators_on_the_gpu_use_the_pool_and_streams(app, cp):
    frames = [{"": cp.asarray(RNG.integers(0, 256, (120, 160, 3), dtype=np.uint8))} for _ in range(3)]
    pool = BlockMemoryPool(app, MemoryStorageType.DEVICE, 64 * 80 * 3 * 4, 4, name="pool")
    converter = FormatConverterOp(
        app, pool, name="converter", out_dtype="float32", resize_width=80, resize_height=64
    )
    app.add_flow(Source(app, frames, name="src"), converter)
    app.add_flow(converter, rx := Recorder(app, name="rx"))
    raw = cp.asarray(RNG.integers(0, 256, (32, 32), dtype=np.uint8))
    demo = BayerDemosaicOp(app, name="demosaic", bayer_grid_pos=3)
    app.add_flow(Source(app, [{"": raw}], name="raw"), demo)
    app.add_flow(demo, rx2 := Recorder(app, name="rx2"))
    app.run()
    for message, frame in zip(rx.received, frames, strict=True):
        tensor = message[""]
        assert tensor.is_cuda and tensor.stream is not None
        host = frame[""].get()
        plan = make_plan("", "float32", host.shape, host.dtype, resize=(64, 80))
        np.testing.assert_array_equal(cp.asarray(tensor).get(), convert(plan, host))
    assert pool.statistics().allocations == 3
    np.testing.assert_array_equal(cp.asarray(rx2.received[0][""]).get(), demosaic(raw.get(), 3))
