"""Sweep of the separable resize kernels' tile height and launch bounds (GPU only).

Each variant rebuilds ``holoflow.kernels._format_cuda``'s module with another
``ROWS_PER_THREAD`` (output rows per thread: a block's tile is 32 x 8*rows pixels) and
``__launch_bounds__(256, min_blocks)`` (0: none), runs both kernels on the uint8 RGB ->
half-size float32 conversion at 4K and 1080p, checks each output equals the default build's,
and times it as ``format_converter.py`` does (CUDA events, calls queued back to back) beside a
copy of the same bytes. Prints one JSON line per variant and writes them all to ``--output``.

Usage::

    python benchmarks/format_resize_sweep.py [--output resize_sweep.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from format_converter import time_ms

import holoflow.kernels._format_cuda as fc
from holoflow.kernels import convert_cuda, make_plan, prepare_cuda
from holoflow.tensor import cupy_module

SOURCE = fc._SOURCE
DEFAULT_ROWS = fc._ROWS_PER_THREAD


def configure(rows: int, min_blocks: int) -> None:
    """Rebuild the kernels with ``rows`` output rows per thread and ``min_blocks`` blocks per SM."""
    fc._ROWS_PER_THREAD = rows
    fc._TILE = (32, 8 * rows)
    fc._TILED_STATIC_SHARED = 2 * fc._TILE[1] * 16
    fc._STAGED_STATIC_SHARED = fc._TILED_STATIC_SHARED + 8 * fc._TILE[0] * 16
    bounds = f"__launch_bounds__(256, {min_blocks})" if min_blocks else "__launch_bounds__(256)"
    fc._SOURCE = SOURCE.replace("__launch_bounds__(256, 7)", "__launch_bounds__(256)").replace(
        "__launch_bounds__(256)", bounds
    )
    fc._module.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="resize_sweep.json")
    args = parser.parse_args()
    cp = cupy_module()
    stream = cp.cuda.Stream(non_blocking=True)
    rng = np.random.default_rng(0)
    rows_out = []
    with stream:
        for label, (h, w) in {"4K": (2160, 3840), "1080p": (1080, 1920)}.items():
            image = cp.asarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            plan = make_plan("rgb888", "float32", image.shape, np.uint8, resize=(h // 2, w // 2))
            configure(DEFAULT_ROWS, 0)
            reference = convert_cuda(prepare_cuda(plan, "tiled"), image)
            moved = image.nbytes + reference.nbytes  # the copy reads and writes as many bytes
            src, dst = cp.empty(moved // 2, cp.uint8), cp.empty(moved // 2, cp.uint8)
            copy_ms = time_ms(cp, stream, lambda src=src, dst=dst: cp.copyto(dst, src), 200)
            for rows in (1, 2, 3):
                for min_blocks in (0, 7, 8):
                    for kernel in ("tiled", "staged"):
                        configure(rows, min_blocks)
                        prepared = prepare_cuda(plan, kernel)
                        out = cp.empty_like(reference)
                        convert_cuda(prepared, image, out)
                        name, function = next(iter(prepared.launches.values()))[:2]
                        us = 1e3 * time_ms(
                            cp, stream, lambda p=prepared, i=image, o=out: convert_cuda(p, i, o), 200
                        )
                        row = {
                            "size": label,
                            "kernel": kernel,
                            "launched": name,
                            "rows": rows,
                            "min_blocks": min_blocks,
                            "exact": bool((out == reference).all()),
                            "us": us,
                            "share_of_copy": copy_ms * 1e3 / us,
                            "registers": getattr(function, "num_regs", None),
                            "spill_bytes": getattr(function, "local_size_bytes", None),
                        }
                        print(json.dumps(row), flush=True)
                        rows_out.append(row)
    with open(args.output, "w", encoding="utf-8") as file:
        json.dump(rows_out, file, indent=1)


if __name__ == "__main__":
    main()
