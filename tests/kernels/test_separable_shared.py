"""The tiled resize kernel is chosen only where its block's shared memory fits the 48 KiB a
launch may use without opting in: the window and sums (dynamic) plus the row table (static)."""

from __future__ import annotations

import numpy as np

from holoflow.kernels import make_plan
from holoflow.kernels._format_cuda import (
    _MAX_SHARED,
    _TILED_STATIC_SHARED,
    _separable,
    _shared_bytes,
    _tiled_window,
)


def test_a_window_that_fits_only_without_the_row_table_takes_the_general_kernel():
    # 1920x720 -> 816x180, cubic: 48,900 bytes of window and sums, plus the 512-byte row table,
    # is over 48 KiB; launched, the tiled kernel would fail with CUDA_ERROR_INVALID_VALUE.
    plan = make_plan("rgb888", "float32", (720, 1920, 3), np.uint8, resize=(180, 816))
    dynamic = _shared_bytes(plan, _tiled_window(plan)[-1])
    assert _MAX_SHARED - _TILED_STATIC_SHARED < dynamic <= _MAX_SHARED
    assert _separable(plan) is None
