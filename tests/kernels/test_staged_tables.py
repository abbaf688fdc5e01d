"""The staged resize kernel's tables: each block's window covers every tap its pixels read, and
the kernel's arithmetic over those windows (replayed here with numpy, block by block, as the
kernel addresses them) equals the CPU reference for every resize mode with at most 4 taps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from holoflow.errors import ConfigError
from holoflow.kernels import convert, make_plan
from holoflow.kernels._format_cuda import _TILE, resize_kernel_choice, staged_tables
from holoflow.kernels._resize import SUM_SHIFT, WEIGHT_BITS


def replay(plan, image: np.ndarray) -> np.ndarray:
    """The staged kernel's uint8 output, computed from what each block copies into its window."""
    tables = staged_tables(plan)
    assert tables is not None
    (block_rows, block_cols, y_taps, y_weights, x_taps), _, row_bytes = tables
    height, width, channels = image.shape
    out_h, out_w = plan.out_shape[:2]
    rows_bytes = image.reshape(height, width * channels)
    out = np.zeros((out_h, out_w, channels), np.uint8)
    for by, (top, rows) in enumerate(block_rows):
        source_rows = np.clip(np.arange(top, top + rows), 0, height - 1)
        for bx, (first_px, chunks) in enumerate(block_cols):
            start = first_px * channels
            assert start % 16 == 0 and 16 * chunks + 16 <= row_bytes
            end = min(start + 16 * chunks, rows_bytes.shape[1])  # the row pitch's end (fully packed here)
            window = rows_bytes[source_rows, start:end]
            assert start + 16 * chunks <= rows_bytes.shape[1]  # no chunk reads past its row
            columns = range(bx * _TILE[0], min((bx + 1) * _TILE[0], out_w))
            sums = np.zeros((rows, _TILE[0], channels), np.int64)
            for local, x in enumerate(columns):
                tap, pair01, pair23, _ = x_taps[x]
                weights = [pair01 & 0xFFFF, pair01 >> 16, pair23 & 0xFFFF, (pair23 >> 16) & 0xFFFF]
                weights = [w - 0x10000 if w >= 0x8000 else w for w in weights]
                pixels = np.clip(tap + np.arange(4), 0, width - 1) - first_px
                assert pixels.min() >= 0 and (pixels.max() + 1) * channels <= window.shape[1]
                at = pixels[:, None] * channels + np.arange(channels)
                taps = window[:, at].astype(np.int64)
                total = (taps * np.array(weights)[None, :, None]).sum(axis=1)
                sums[:, local] = (total + (1 << (SUM_SHIFT - 1))) >> SUM_SHIFT
            for y in range(by * _TILE[1], min((by + 1) * _TILE[1], out_h)):
                offsets, weights = y_taps[y] // (_TILE[0] * 16), y_weights[y]
                acc = (sums[offsets] * weights[:, None, None]).sum(axis=0)
                shift = 2 * WEIGHT_BITS - SUM_SHIFT
                level = np.clip((acc + (1 << (shift - 1))) >> shift, 0, 255)
                out[y, columns.start : columns.stop] = level[: len(columns)]
    return out


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 6).map(lambda k: 16 * k),  # whole 16-byte chunks per row
    out_h=st.integers(1, 60),
    out_w=st.integers(1, 80),
    channels=st.sampled_from([3, 4]),
    mode=st.sampled_from([1, 2, 4, 5, 6, 7]),
    seed=st.integers(0, 2**16),
)
def test_the_staged_windows_reproduce_the_reference(height, width, out_h, out_w, channels, mode, seed):
    image = np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)
    fmt = "rgb888" if channels == 3 else "rgba8888"
    plan = make_plan(fmt, fmt, image.shape, np.uint8, resize=(out_h, out_w), resize_mode=mode)
    assume(plan.resized and staged_tables(plan) is not None)  # else the tiled kernel runs
    np.testing.assert_array_equal(replay(plan, image), convert(plan, image))


def test_4k_to_1080p_uses_the_staged_kernel_with_a_small_window():
    plan = make_plan("rgb888", "float32", (2160, 3840, 3), np.uint8, resize=(1080, 1920))
    tables = staged_tables(plan)
    assert tables is not None
    _, rows, row_bytes = tables
    assert rows == 2 * (_TILE[1] - 1) + 4  # 2 source rows per output row, then the last one's 4 taps
    assert row_bytes <= 16 * -(-(2 * _TILE[0] + 3 + 15) * 3 // 16) + 16


def test_kernel_choice_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.delenv("HOLOFLOW_RESIZE_KERNEL", raising=False)
    assert resize_kernel_choice(None) == "tiled"
    monkeypatch.setenv("HOLOFLOW_RESIZE_KERNEL", "staged")
    assert resize_kernel_choice(None) == "staged"
    assert resize_kernel_choice("tiled") == "tiled"
    with pytest.raises(ConfigError, match="HOLOFLOW_RESIZE_KERNEL"):
        resize_kernel_choice("fast")


def test_rows_of_a_partial_chunk_and_long_filters_are_left_to_the_tiled_kernel():
    assert staged_tables(make_plan("rgb888", "rgb888", (20, 30, 3), np.uint8, resize=(10, 15))) is None
    assert staged_tables(make_plan("rgb888", "rgb888", (20, 32, 3), np.uint8, resize=(10, 16))) is not None
    super_sampling = make_plan("rgb888", "rgb888", (64, 64, 3), np.uint8, resize=(8, 8), resize_mode=8)
    assert staged_tables(super_sampling) is None  # 9 taps
