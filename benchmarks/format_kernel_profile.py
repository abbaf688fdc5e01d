"""The program Nsight Compute profiles (GPU): each resize kernel on the benchmark's 4K case.

Runs the uint8 RGB 3840x2160 -> 1920x1080 float32 conversion (cubic) twice with each resize
kernel of ``prepare_cuda``, so a profiler filtering on ``resize_`` sees two launches of each::

    ncu --kernel-name regex:resize_ --section SpeedOfLight ... python3 benchmarks/format_kernel_profile.py
"""

from __future__ import annotations

import numpy as np

from holoflow.kernels import convert_cuda, make_plan, prepare_cuda
from holoflow.tensor import require_cuda


def main() -> None:
    cp = require_cuda("the resize kernel profile")
    image = cp.asarray(np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), dtype=np.uint8))
    plan = make_plan("rgb888", "float32", image.shape, np.uint8, resize=(1080, 1920))
    out = cp.empty(plan.out_shape, cp.float32)
    for kernel in ("tiled", "staged"):
        prepared = prepare_cuda(plan, kernel)
        for _ in range(2):
            convert_cuda(prepared, image, out)
    cp.cuda.Device().synchronize()


if __name__ == "__main__":
    main()
